// Certificate Transparency facts of one handshake: its SCTs verified against the log list
// of the options, and whether Chrome's CT policy applies (a path to a system root; roots
// added with --ca-file are exempt, as in browsers). Used by check_ct.cpp for findings and by
// the probe output for its "transparency" line.
#pragma once

#include "certs/ct.hpp"
#include "inspect/diagnose.hpp"

#include <string>

namespace tlsprobe::inspect {

struct TransparencyFacts {
  bool applies = false;         // a judged handshake with a leaf
  bool log_list = false;        // a non-empty log list was given
  bool policy_applies = false;  // the path ends at a system root (or one treated as such)
  std::string anchor;           // subject of the root the path ends at; empty when none
  certs::CtFacts ct;
};

TransparencyFacts transparency_facts(const HandshakeObservation& h, const DiagnoseOptions& options);

// One line for people: "3 SCTs (2 embedded, 1 TLS extension), 3 valid from 2 operators:
// meets Chrome's CT policy".
std::string transparency_summary(const TransparencyFacts& f);

}  // namespace tlsprobe::inspect
