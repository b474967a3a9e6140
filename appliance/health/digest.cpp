#include "appliance/health/digest.hpp"

#include <cctype>

namespace vsd::health {

std::optional<Digest> Digest::parse(std::string_view text, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<Digest> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  Digest d;
  if (text.size() == 32)
    d.algorithm = Algorithm::md5;
  else if (text.size() == 64)
    d.algorithm = Algorithm::sha256;
  else
    return fail("a digest is 32 hex digits (MD5, as keepalived's genhash prints) or 64 (SHA-256), got " +
                std::to_string(text.size()) + " characters");
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return fail(std::string("a digest is hex digits only, found '") + c + "'");
    d.hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return d;
}

const char* to_string(Digest::Algorithm a) { return a == Digest::Algorithm::md5 ? "md5" : "sha256"; }

}  // namespace vsd::health
