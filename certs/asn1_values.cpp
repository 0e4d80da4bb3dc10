#include "certs/asn1_values.hpp"

#include <openssl/err.h>

#include <ctime>

namespace tlsprobe::certs {

std::optional<TimePoint> time_point_of(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  using namespace std::chrono;
  const auto ymd = year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
                   day{static_cast<unsigned>(tm.tm_mday)};
  return sys_days{ymd} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

Asn1TimePtr asn1_time_of(TimePoint t) {
  return Asn1TimePtr{ASN1_TIME_set(nullptr, static_cast<time_t>(t.time_since_epoch().count()))};
}

std::string name_text(const X509_NAME* name) {
  if (!name) return {};
  BioPtr bio{BIO_new(BIO_s_mem())};
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len > 0 ? len : 0));
}

std::string hex_text(const unsigned char* data, std::size_t len) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 2);
  for (std::size_t i = 0; i < len; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0f];
  }
  return out;
}

}  // namespace tlsprobe::certs
