// logs_bench: how fast `tlsprobe logs summary` reads a large connection log, against jq doing
// the same grouping, and how much memory each needs.
//
//   logs_bench [--size-mb N] [--hosts N] [--file PATH] [--keep] [--no-jq]
//
// Generates a log of tunnel records written by the proxy's own record code
// (proxy::connection_record_line: a minted leaf and its CA per host, a ClientHello, sometimes
// findings; default 1 GiB), then runs, in this order and each as a
// child process so that its peak RSS is its own:
//   1. tlsprobe logs summary --format json FILE  (the binary next to this one)
//   2. jq -n -c 'reduce inputs as $r ({}; .[$r.destination.domain // "?"] += 1)' FILE
// and prints records/s, MB/s and peak RSS of both, and the speed ratio. Goal: >= 10x jq,
// with RSS independent of the file size.
#include "certs/authority.hpp"
#include "certs/leaf_minter.hpp"
#include "proxy/observe/log_record.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

struct Run {
  bool ok = false;
  double seconds = 0;
  long max_rss_kib = 0;
};

// Runs argv with stdout to /dev/null; wall time and peak RSS from wait4.
Run run_child(const std::vector<std::string>& args) {
  Run run;
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) return run;
  if (pid == 0) {
    std::FILE* null = std::fopen("/dev/null", "w");
    if (null) dup2(fileno(null), 1);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage;
  if (wait4(pid, &status, 0, &usage) != pid) return run;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.max_rss_kib = usage.ru_maxrss;
  run.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return run;
}

// The certificates of the generated log: one tlsprobe CA (made in a temp dir) and one minted
// leaf per host, so every record carries real certificate fields (issue 14 item 7: the
// benchmark reads what the proxy writes, not a hand-made imitation of it).
struct Pki {
  std::filesystem::path dir;
  std::optional<tlsprobe::certs::Authority> ca;
  std::vector<tlsprobe::certs::Chain> chains;  // per host: leaf, CA
  ~Pki() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

bool make_pki(Pki& pki, int hosts) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tlsprobe-logs-bench-ca-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) return false;
  pki.dir = tmpl;
  pki.ca = tlsprobe::certs::Authority::load_or_create(pki.dir / "ca").authority;
  const tlsprobe::certs::LeafMinter minter(*pki.ca);
  for (int h = 0; h < hosts; ++h) {
    const auto minted = minter.mint(nullptr, "host" + std::to_string(h) + ".example.com");
    if (!minted) return false;
    pki.chains.push_back(minted.leaf->chain);
  }
  return true;
}

tlsprobe::inspect::Finding finding(std::string code, tlsprobe::inspect::Severity severity,
                                   const std::string& subject, std::string message,
                                   std::string remedy,
                                   std::map<std::string, std::string> evidence) {
  tlsprobe::inspect::Finding f;
  f.code = std::move(code);
  f.severity = severity;
  f.subject = subject;
  f.message = std::move(message);
  f.remedy = std::move(remedy);
  f.evidence = std::move(evidence);
  return f;
}

// One tunnel record as the proxy writes it: ConnectionFacts through make_connection_record.
std::string record(std::mt19937_64& rng, int host_index, long seq,
                   const tlsprobe::certs::Chain& chain) {
  using namespace tlsprobe;
  const std::string host = "host" + std::to_string(host_index) + ".example.com";
  const auto end = std::chrono::system_clock::time_point(std::chrono::seconds(1780000000)) +
                   std::chrono::milliseconds(seq * 37);
  proxy::ConnectionFacts facts;
  facts.mode = proxy::LogMode::tunnel;
  facts.end = end;
  facts.start = end - std::chrono::nanoseconds(rng() % 5'000'000'000);
  facts.client_address = "10.1.2." + std::to_string(seq % 250);
  facts.client_port = static_cast<std::uint16_t>(40000 + seq % 20000);
  facts.destination_domain = host;
  facts.destination_address = "203.0.113." + std::to_string(host_index % 250);
  facts.destination_port = 443;
  facts.bytes_client_to_server = 1200;
  facts.bytes_server_to_client = rng() % 1'000'000;
  inspect::ClientHelloObservation hello;
  hello.sni = host;
  hello.alpn = {"h2", "http/1.1"};
  hello.versions = {"1.3", "1.2"};
  hello.connect_host = host + ":443";
  facts.client_hello = hello;
  inspect::HandshakeObservation hs;
  hs.host = host;
  hs.address = facts.destination_address + ":443";
  hs.sni = host;
  hs.tls_version = "1.3";
  hs.cipher = "TLS_AES_128_GCM_SHA256";
  hs.alpn = "h2";
  hs.chain = chain;
  facts.handshake = std::move(hs);
  proxy::ProbeFacts probe;
  probe.status = seq % 5 == 0 ? proxy::ProbeStatus::ok : proxy::ProbeStatus::cached;
  probe.elapsed_ms = 41.7;
  facts.probe = probe;
  const bool broken = host_index % 11 == 0;
  facts.verify = proxy::VerifyFacts{!broken, broken ? 20 : 0,
                                    broken ? "unable to get local issuer certificate" : "ok"};
  if (broken) {
    auto f = finding(
        "chain.incomplete", inspect::Severity::error, host + ":443",
        "The server did not send the intermediate certificate CN=Example Issuing CA "
        "R7; browsers may fetch it, curl, Python, Java and CDN origin pulls fail.",
        "Serve the full chain (fullchain.pem), not only the leaf certificate.",
        {{"missing_issuer", "CN=Example Issuing CA R7"}, {"aia_url", "http://ca.example/r7.der"}});
    f.equivalents = {{"openssl", "20 unable to get local issuer certificate"},
                     {"curl", "SSL certificate problem: unable to get local issuer certificate"}};
    facts.findings.push_back(std::move(f));
  }
  if (host_index % 17 == 0)
    facts.findings.push_back(finding("cert.expiring_soon", inspect::Severity::warning,
                                     host + ":443", "The certificate expires in 9 days.",
                                     "Renew the certificate and reload the server.",
                                     {{"days_left", "9"}}));
  return proxy::connection_record_line(facts);
}

long generate(const std::string& path, std::size_t bytes, const Pki& pki) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (!out) return -1;
  std::mt19937_64 rng(42);
  const auto hosts = static_cast<unsigned>(pki.chains.size());
  std::size_t written = 0;
  long n = 0;
  while (written < bytes) {
    const int h = static_cast<int>(rng() % hosts);
    std::string line = record(rng, h, n, pki.chains[static_cast<std::size_t>(h)]);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out);
    written += line.size();
    ++n;
  }
  std::fclose(out);
  return n;
}

bool have(const char* program) {
  const std::string cmd = std::string("command -v ") + program + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t size_mb = 1024;
  int hosts = 2000;
  std::string file;
  bool keep = false, jq = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--size-mb" && i + 1 < argc) {
      size_mb = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--hosts" && i + 1 < argc) {
      hosts = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--file" && i + 1 < argc) {
      file = argv[++i];
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--no-jq") {
      jq = false;
    } else {
      std::fprintf(
          stderr, "usage: logs_bench [--size-mb N] [--hosts N] [--file PATH] [--keep] [--no-jq]\n");
      return 64;
    }
  }
  if (file.empty())
    file = (std::filesystem::temp_directory_path() /
            ("tlsprobe-logs-bench-" + std::to_string(getpid()) + ".jsonl"))
               .string();
  const std::string tlsprobe =
      (std::filesystem::canonical("/proc/self/exe").parent_path() / "tlsprobe").string();
  if (!std::filesystem::exists(tlsprobe)) {
    std::fprintf(stderr, "logs_bench: %s not built\n", tlsprobe.c_str());
    return 64;
  }

  const auto g0 = std::chrono::steady_clock::now();
  Pki pki;
  if (!make_pki(pki, hosts)) {
    std::fprintf(stderr, "logs_bench: cannot make the test certificates\n");
    return 64;
  }
  const long records = generate(file, size_mb << 20, pki);
  if (records < 0) {
    std::fprintf(stderr, "logs_bench: cannot write %s\n", file.c_str());
    return 64;
  }
  const double mib = static_cast<double>(std::filesystem::file_size(file)) / (1 << 20);
  std::printf("log: %s, %.0f MiB, %ld records (%.0f bytes each), %d hosts; generated in %.1f s\n",
              file.c_str(), mib, records, mib * (1 << 20) / static_cast<double>(records), hosts,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count());

  const Run ours = run_child({tlsprobe, "logs", "summary", "--format", "json", file});
  std::printf("tlsprobe logs summary: %s %.2f s, %.0f records/s, %.0f MiB/s, peak RSS %.1f MiB\n",
              ours.ok ? "ok" : "FAILED", ours.seconds, records / ours.seconds, mib / ours.seconds,
              ours.max_rss_kib / 1024.0);
  int status = ours.ok ? 0 : 1;
  if (jq && have("jq")) {
    const Run theirs =
        run_child({"jq", "-n", "-c",
                   "reduce inputs as $r ({}; .[$r.destination.domain // \"?\"] += 1)", file});
    std::printf("jq reduce by domain:   %s %.2f s, %.0f records/s, %.0f MiB/s, peak RSS %.1f MiB\n",
                theirs.ok ? "ok" : "FAILED", theirs.seconds, records / theirs.seconds,
                mib / theirs.seconds, theirs.max_rss_kib / 1024.0);
    if (theirs.ok && ours.ok)
      std::printf("speed-up: %.1fx jq (goal >= 10x)\n", theirs.seconds / ours.seconds);
  } else {
    std::printf("jq: not run\n");
  }
  if (!keep) std::filesystem::remove(file);
  return status;
}
