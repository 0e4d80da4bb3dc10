// logs_bench: how fast `tlsprobe logs summary` reads a large connection log, against jq doing
// the same grouping, and how much memory each needs.
//
//   logs_bench [--size-mb N] [--hosts N] [--file PATH] [--keep] [--no-jq]
//
// Generates a log of realistic records (about 3 KiB each: a two-certificate chain, a
// ClientHello, sometimes findings; default 1 GiB), then runs, in this order and each as a
// child process so that its peak RSS is its own:
//   1. tlsprobe logs summary --format json FILE  (the binary next to this one)
//   2. jq -n -c 'reduce inputs as $r ({}; .[$r.destination.domain // "?"] += 1)' FILE
// and prints records/s, MB/s and peak RSS of both, and the speed ratio. Goal: >= 10x jq,
// with RSS independent of the file size.
#include "proxy/observe/log_record.hpp"

#include <boost/json.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;

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

std::string hex(std::mt19937_64& rng, std::size_t n) {
  static const char* digits = "0123456789ABCDEF";
  std::string s(n, '0');
  for (auto& c : s) c = digits[rng() & 15];
  return s;
}

json::object cert(const std::string& cn, const std::string& issuer_cn, const std::string& sha,
                  const std::string& not_after, std::vector<std::string> names) {
  json::array n;
  for (auto& name : names) n.emplace_back(name);
  return json::object{{"subject", "CN=" + cn + ",O=Example Inc,C=US"},
                      {"issuer", "CN=" + issuer_cn + ",O=Example Trust Services,C=US"},
                      {"serial", sha.substr(0, 32)},
                      {"not_before", "2026-03-01T00:00:00Z"},
                      {"not_after", not_after},
                      {"names", std::move(n)},
                      {"key", "EC 256 prime256v1"},
                      {"signature_algorithm", "ecdsa-with-SHA256"},
                      {"sha256", sha}};
}

// One record shaped like proxy::make_connection_record's output (docs/log-format.md).
std::string record(std::mt19937_64& rng, int host_index, long seq, const std::string& leaf_sha,
                   const std::string& inter_sha) {
  const std::string host = "host" + std::to_string(host_index) + ".example.com";
  const auto end = std::chrono::system_clock::time_point(std::chrono::seconds(1780000000)) +
                   std::chrono::milliseconds(seq * 37);
  const std::string not_after =
      host_index % 17 == 0 ? "2026-06-10T00:00:00Z" : "2026-09-01T00:00:00Z";
  json::object r;
  r["@timestamp"] = tlsprobe::proxy::format_timestamp_ms(end);
  const bool broken = host_index % 11 == 0;
  r["event"] = json::object{{"kind", "event"},
                            {"category", json::array{"network"}},
                            {"type", json::array{"connection"}},
                            {"outcome", broken ? "failure" : "success"},
                            {"duration", static_cast<std::int64_t>(rng() % 5'000'000'000)}};
  if (broken)
    r["error"] = json::object{{"code", "chain.incomplete"},
                              {"message", "The server did not send the intermediate certificate."}};
  r["client"] = json::object{{"address", "10.1.2." + std::to_string(seq % 250)},
                             {"port", 40000 + seq % 20000}};
  r["destination"] = json::object{{"domain", host},
                                  {"address", "203.0.113." + std::to_string(host_index % 250)},
                                  {"port", 443}};
  r["network"] = json::object{{"bytes", static_cast<std::int64_t>(rng() % 1'000'000)}};
  json::object leaf = cert(host, "Example Issuing CA R7", leaf_sha, not_after,
                           {host, "www." + host, "api." + host});
  r["tls"] = json::object{
      {"version", "1.3"},
      {"version_protocol", "tls"},
      {"cipher", "TLS_AES_128_GCM_SHA256"},
      {"next_protocol", "h2"},
      {"established", true},
      {"client", json::object{{"server_name", host}}},
      {"server",
       json::object{
           {"hash", json::object{{"sha256", leaf_sha}}},
           {"not_before", "2026-03-01T00:00:00Z"},
           {"not_after", not_after},
           {"subject", leaf.at("subject")},
           {"issuer", leaf.at("issuer")},
           {"x509",
            json::object{{"serial_number", leaf_sha.substr(0, 32)},
                         {"signature_algorithm", "ecdsa-with-SHA256"},
                         {"not_before", "2026-03-01T00:00:00Z"},
                         {"not_after", not_after},
                         {"subject", json::object{{"distinguished_name", leaf.at("subject")},
                                                  {"common_name", host}}},
                         {"issuer", json::object{{"distinguished_name", leaf.at("issuer")},
                                                 {"common_name", "Example Issuing CA R7"}}},
                         {"public_key_algorithm", "EC"},
                         {"public_key_size", 256},
                         {"public_key_curve", "prime256v1"},
                         {"alternative_names", leaf.at("names")}}}}}};
  json::array chain{leaf, cert("Example Issuing CA R7", "Example Root CA", inter_sha,
                               "2029-01-01T00:00:00Z", {})};
  json::array findings;
  if (broken) {
    findings.emplace_back(json::object{
        {"code", "chain.incomplete"},
        {"severity", "error"},
        {"role", "direct"},
        {"subject", host + ":443"},
        {"message",
         "The server did not send the intermediate certificate CN=Example Issuing CA R7; browsers "
         "may fetch it, curl, Python, Java and CDN origin pulls fail."},
        {"remedy", "Serve the full chain (fullchain.pem), not only the leaf certificate."},
        {"evidence", json::object{{"missing_issuer", "CN=Example Issuing CA R7"},
                                  {"aia_url", "http://ca.example/r7.der"}}},
        {"equivalents",
         json::object{{"openssl", "20 unable to get local issuer certificate"},
                      {"curl", "SSL certificate problem: unable to get local issuer certificate"}}},
        {"browser_shows", false}});
  }
  if (host_index % 17 == 0) {
    findings.emplace_back(json::object{{"code", "cert.expiring_soon"},
                                       {"severity", "warning"},
                                       {"role", "direct"},
                                       {"subject", host + ":443"},
                                       {"message", "The certificate expires in 9 days."},
                                       {"remedy", "Renew the certificate and reload the server."},
                                       {"evidence", json::object{{"not_after", not_after}}},
                                       {"equivalents", json::object{}},
                                       {"browser_shows", false}});
  }
  r["tlsprobe"] = json::object{
      {"schema", 1},
      {"mode", "tunnel"},
      {"role", "direct"},
      {"client_hello", json::object{{"sni", host},
                                    {"alpn", json::array{"h2", "http/1.1"}},
                                    {"versions", json::array{"1.3", "1.2"}}}},
      {"bytes", json::object{{"client_to_server", 1200}, {"server_to_client", 48000}}},
      {"probe", json::object{{"status", seq % 5 == 0 ? "ok" : "cached"}, {"elapsed_ms", 41.7}}},
      {"chain", std::move(chain)},
      {"verify",
       json::object{{"ok", !broken},
                    {"openssl_code", broken ? 20 : 0},
                    {"openssl_text", broken ? "unable to get local issuer certificate" : "ok"}}},
      {"findings", std::move(findings)}};
  return json::serialize(r);
}

long generate(const std::string& path, std::size_t bytes, int hosts) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (!out) return -1;
  std::mt19937_64 rng(42);
  std::vector<std::string> leaf(hosts), inter(4);
  for (auto& s : leaf) s = hex(rng, 64);
  for (auto& s : inter) s = hex(rng, 64);
  std::size_t written = 0;
  long n = 0;
  while (written < bytes) {
    const int h = static_cast<int>(rng() % static_cast<unsigned>(hosts));
    // Some hosts renew during the log: their leaf changes once.
    if (h % 13 == 0 && n % 100'000 == 99'999) leaf[h] = hex(rng, 64);
    std::string line = record(rng, h, n, leaf[h], inter[h % 4]);
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
  const long records = generate(file, size_mb << 20, hosts);
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
