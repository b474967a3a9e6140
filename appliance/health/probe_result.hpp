// The outcome of one check: pass or fail, and a reason a human can act on
// ("connect: Connection refused", "HTTP status 500 (expected 2xx)").
#pragma once

#include <string>

namespace vsd::health {

struct ProbeResult {
  bool ok = false;
  std::string reason;
};

}  // namespace vsd::health
