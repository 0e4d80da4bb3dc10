#include "support/probe_once.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace tlsprobe::testsupport {

inspect::Observations probe_once(proxy::ProbeRequest request, proxy::ProberOptions options) {
  auto all = proxy::probe_all({std::move(request)}, 1, std::move(options));
  if (all.size() != 1)
    throw std::logic_error("probe_all gave " + std::to_string(all.size()) +
                           " results for one request");
  return std::move(all.front());
}

}  // namespace tlsprobe::testsupport
