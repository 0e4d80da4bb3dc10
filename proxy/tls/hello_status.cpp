#include "proxy/tls/hello_status.hpp"

namespace tlsprobe::proxy {

std::string_view to_string(HelloStatus s) {
  switch (s) {
    case HelloStatus::ok:
      return "ok";
    case HelloStatus::not_tls:
      return "not_tls";
    case HelloStatus::invalid:
      return "invalid";
    case HelloStatus::too_large:
      return "too_large";
    case HelloStatus::closed:
      return "closed";
    case HelloStatus::truncated:
      return "truncated";
    case HelloStatus::timeout:
      return "timeout";
    case HelloStatus::error:
      return "error";
  }
  return "error";
}

HelloStatus hello_status_of(inspect::ClientHelloStatus s) {
  switch (s) {
    case inspect::ClientHelloStatus::ok:
      return HelloStatus::ok;
    case inspect::ClientHelloStatus::not_tls:
      return HelloStatus::not_tls;
    case inspect::ClientHelloStatus::invalid:
      return HelloStatus::invalid;
    case inspect::ClientHelloStatus::too_large:
      return HelloStatus::too_large;
    case inspect::ClientHelloStatus::need_more:
      break;
  }
  return HelloStatus::error;
}

std::string hello_failure_reason(HelloStatus s, std::string_view detail) {
  const auto with = [detail](std::string what) {
    if (!detail.empty()) what.append(": ").append(detail);
    return what;
  };
  switch (s) {
    case HelloStatus::ok:
      return "";
    case HelloStatus::not_tls:
      return "not_tls";
    case HelloStatus::invalid:
      return with("client_hello_invalid");
    case HelloStatus::too_large:
      return "client_hello_too_large";
    case HelloStatus::closed:
      return "client_hello_closed";
    case HelloStatus::truncated:
      return "client_hello_truncated";
    case HelloStatus::timeout:
      return "client_hello_timeout";
    case HelloStatus::error:
      return with("client_hello_error");
  }
  return with("client_hello_error");
}

}  // namespace tlsprobe::proxy
