// The certs_fuzz harness compiled into the test suite (its entry point renamed), so that
// fuzz_replay_test.cpp replays its seed corpus and every saved crash input on each CI run,
// with the normal compiler and under tools/sanitize.sh.
#define LLVMFuzzerTestOneInput tlsprobe_replay_certs
#include "certs/certs_fuzz.cpp"
#undef LLVMFuzzerTestOneInput  // the next file of a unity batch names its own
