// ASN.1 values of CRLs and OCSP responses as tlsprobe reports them (dates, names, hex),
// decoded by OpenSSL. Shared by the revocation and transparency readers.
#pragma once

#include "certs/certificate.hpp"

#include <openssl/asn1.h>

#include <optional>

namespace tlsprobe::certs {

// nullopt for a null or undecodable time.
std::optional<TimePoint> time_point_of(const ASN1_TIME* t);
// The same instant as an ASN1_TIME (GeneralizedTime or UTCTime, as RFC 5280 wants it).
Asn1TimePtr asn1_time_of(TimePoint t);
// RFC 4514 text of a DN (as Certificate::subject() prints it).
std::string name_text(const X509_NAME* name);
// Uppercase hex without separators.
std::string hex_text(const unsigned char* data, std::size_t len);

}  // namespace tlsprobe::certs
