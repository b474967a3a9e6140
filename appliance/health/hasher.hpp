// The digest of an HTTP check's body (OpenSSL), computed as it streams in.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "appliance/health/digest.hpp"

namespace vsd::health {

// Streams bytes into a digest, so a body is never buffered whole.
class Hasher {
 public:
  explicit Hasher(Digest::Algorithm algorithm);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(std::string_view bytes);
  std::string final_hex();  // lower-case hex; the hasher is spent afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string hex_digest(Digest::Algorithm algorithm, std::string_view bytes);

}  // namespace vsd::health
