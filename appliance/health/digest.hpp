// Body digests for HTTP checks. keepalived's HTTP_GET compares the MD5 of the
// body (genhash prints it); vsd accepts that, or SHA-256 for new configs. The
// algorithm follows from the length: 32 hex digits MD5, 64 hex digits SHA-256.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vsd::health {

struct Digest {
  enum class Algorithm : unsigned char { md5, sha256 };
  Algorithm algorithm = Algorithm::md5;
  std::string hex;  // lower case

  // Accepts 32 (MD5) or 64 (SHA-256) hex digits, any case. On failure
  // returns nullopt and, when `why` is given, says why.
  static std::optional<Digest> parse(std::string_view text, std::string* why = nullptr);

  friend bool operator==(const Digest&, const Digest&) = default;
};

const char* to_string(Digest::Algorithm);  // "md5" / "sha256"

}  // namespace vsd::health
