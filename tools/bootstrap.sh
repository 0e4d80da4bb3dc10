#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (README "Set up"):
#   tools/bootstrap.sh deps   install the Debian packages tlsprobe and its tests need (idempotent, quiet)
#   tools/bootstrap.sh bench-deps   install the peers the benchmarks compare with (squid, mitmproxy, …)
#   tools/bootstrap.sh build  deps + configure + build (build dir: $BUILD_DIR, default ./build)
#   tools/bootstrap.sh run    build only the tlsprobe executable (Release), then run the main job:
#                             `tlsprobe proxy` on 127.0.0.1:8080
#   tools/bootstrap.sh test   build with warnings as errors and ASan+UBSan, run every test
#                             (ctest), fuzz each parser briefly, run the concurrency tests under
#                             TSan (SANITIZE="" : a plain build and ctest, no TSan)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$here/build}
jobs=${JOBS:-$(nproc)}

# What building and running needs.
build_packages=(build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libssl-dev openssl libspdlog-dev libfmt-dev
  catch2 libtomlplusplus-dev libcli11-dev zlib1g-dev ca-certificates)
# What the tests call: real clients and servers, a browser, promtool, NSS tools.
test_packages=(curl nginx-light jq procps chromium libnss3-tools prometheus
  lintian help2man  # the Debian package test (tests/deploy/debian_package_test.sh)
  clang libclang-rt-14-dev)  # libFuzzer and sanitizer runtimes (tools/fuzz.sh)
# Peers the benchmarks compare with (tools/bench/*); not needed by the tests. squid-openssl
# (ssl_bump) replaces the plain squid package and serves as the CONNECT peer too; testssl.sh
# is the peer of tools/bench/compat_bench.py.
bench_packages=(squid-openssl tinyproxy mitmproxy sslsplit testssl.sh)

install_deps() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "bootstrap: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Whether this compiler can build and run an ASan+UBSan program (else: a plain test build).
sanitizers_work() {
  local probe
  probe=$(mktemp)
  echo 'int main(){}' | ${CXX:-g++} -x c++ -fsanitize=address,undefined - -o "$probe" 2>/dev/null &&
    "$probe" >/dev/null 2>&1
  local ok=$?
  rm -f "$probe"
  return $ok
}

# configure_and_build WERROR EVERYTHING [TARGET]: EVERYTHING=ON builds tests and benchmarks too;
# OFF configures only the libraries and the tlsprobe executable (what running needs).
configure_and_build() {
  local werror=$1 everything=$2 target=${3:-}
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} \
    -DTLSPROBE_WERROR="$werror" -DTLSPROBE_TESTS="$everything" -DTLSPROBE_BENCHMARKS="$everything" \
    ${CMAKE_EXTRA:-} >/dev/null
  cmake --build "$build_dir" -j "$jobs" ${target:+--target "$target"}
}

case "${1:-build}" in
  deps) install_deps "${build_packages[@]}" "${test_packages[@]}" ;;
  bench-deps) install_deps "${bench_packages[@]}" ;;
  build) install_deps "${build_packages[@]}"; configure_and_build OFF ON ;;
  run)
    # Only the tlsprobe executable, optimized, without tests and benchmarks: the first start
    # compiles 40-odd files instead of 170-odd targets.
    install_deps "${build_packages[@]}"
    configure_and_build OFF OFF tlsprobe
    shift || true
    exec "$build_dir/tools/tlsprobe" proxy "$@"
    ;;
  test)
    install_deps "${build_packages[@]}" "${test_packages[@]}"
    kinds=" ${SANITIZE-address thread} "
    if [[ $kinds == *" address "* ]] && sanitizers_work; then
      # Every test runs in the ASan+UBSan build (-Werror, -O1): the same code and checks as a
      # plain build, plus memory errors, leaks and undefined behaviour, for one compilation
      # instead of two (CI time). tools/bootstrap.sh build stays the plain optimized build.
      BUILD_DIR="$here/build-san-address" JOBS=$jobs WERROR=ON "$here/tools/sanitize.sh" address
    else
      configure_and_build ON ON
      (cd "$build_dir" && ctest --output-on-failure -j "$jobs" --timeout 900)
    fi
    # Hardening, bounded: a short libFuzzer run (FUZZ_SECONDS per target, 0 = skip) of the
    # parsers that need no network code (http_request_fuzz needs the whole proxy built with
    # clang: tools/fuzz.sh runs it; its corpus is replayed by tests_hardening anyway), then
    # the concurrency tests under TSan. Both skip themselves, successfully, when clang or a
    # sanitizer runtime is missing.
    if [ "${FUZZ_SECONDS:-10}" -gt 0 ]; then
      BUILD_DIR="$here/build-fuzz" JOBS=$jobs "$here/tools/fuzz.sh" "${FUZZ_SECONDS:-10}" \
        client_hello_fuzz server_hello_fuzz config_fuzz diagnose_fuzz log_line_fuzz certs_fuzz
    fi
    if [[ $kinds == *" thread "* ]]; then
      BUILD_DIR="$here/build-san-thread" JOBS=$jobs "$here/tools/sanitize.sh" thread
    fi
    ;;
  *) echo "usage: tools/bootstrap.sh deps|bench-deps|build|run|test" >&2; exit 64 ;;
esac
