// The connection log's `tlsprobe.ocsp` and `tlsprobe.scts` objects (docs/log-format.md) for
// one handshake: what the server stapled and which SCTs came, read at the record's time.
// The staple is judged against the issuer the server sent (no trust store here: the
// findings carry the trust verdict); SCTs are counted by delivery (the log list is only
// known to diagnosis).
#pragma once

#include "certs/certificate.hpp"
#include "inspect/observation.hpp"

#include <boost/json/object.hpp>

#include <optional>

namespace tlsprobe::proxy {

// nullopt when the handshake has no chain.
std::optional<boost::json::object> ocsp_log_object(const inspect::HandshakeObservation& h,
                                                   certs::TimePoint at);
std::optional<boost::json::object> scts_log_object(const inspect::HandshakeObservation& h);
// The stapled response's nextUpdate, when a staple with one came (metrics, watcher).
std::optional<certs::TimePoint> staple_next_update(const inspect::HandshakeObservation& h,
                                                   certs::TimePoint at);

}  // namespace tlsprobe::proxy
