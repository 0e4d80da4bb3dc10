// The probe's "revocation" and "transparency" facts of one handshake, as JSON objects and as
// the two text lines under the chain (inspect/revocation.hpp, inspect/transparency.hpp).
#pragma once

#include "inspect/diagnose.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace tlsprobe::tools {

// nullopt when the handshake has no judged chain.
std::optional<boost::json::object> revocation_json(const inspect::HandshakeObservation& h,
                                                   const inspect::DiagnoseOptions& options);
std::optional<boost::json::object> transparency_json(const inspect::HandshakeObservation& h,
                                                     const inspect::DiagnoseOptions& options);
// "    revocation: …\n    transparency: …\n", or empty.
std::string revocation_text_lines(const inspect::HandshakeObservation& h,
                                  const inspect::DiagnoseOptions& options,
                                  const std::string& indent);

}  // namespace tlsprobe::tools
