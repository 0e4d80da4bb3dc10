// One plain-HTTP request to a URL that a certificate names (AIA caIssuers, OCSP responder,
// CRL distribution point), the one network step the AIA fetcher and the revocation fetcher
// share:
// - the prober's [resolve] overrides (curl --resolve) choose the address to dial, else
//   HostResolver (never blocks other lookups);
// - a certificate is attacker-controlled, so link-local addresses (cloud metadata services
//   answer on 169.254.169.254 and fe80::) and non-unicast ones are never contacted;
// - resolve, connect, send and read all end by one deadline; the response head is at most
//   16 KiB and its body at most `max_body` bytes, however it is framed;
// - no redirects: the caller decides whether one is followed.
#pragma once

#include "proxy/probe/http_url.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

namespace tlsprobe::proxy {

struct CertificateUrlLimits {
  // "host:port" -> "ADDR" or "ADDR:PORT"; may be null.
  const std::map<std::string, std::string>* resolve = nullptr;
  std::size_t max_body = 64 * 1024;
  std::chrono::steady_clock::time_point deadline;
  std::string timeout_text;  // the error once the deadline passed ("timed out after 5000 ms")
};

struct CertificateUrlResponse {
  std::string error;  // one line when nothing usable came back
  boost::beast::http::response<boost::beast::http::string_body> response;  // when no error
};

// Sends `request` to `url` (Host and Connection: close are set here) and reads the whole
// response.
boost::asio::awaitable<CertificateUrlResponse> fetch_certificate_url(
    const HttpUrl& url, boost::beast::http::request<boost::beast::http::string_body> request,
    const CertificateUrlLimits& limits);

}  // namespace tlsprobe::proxy
