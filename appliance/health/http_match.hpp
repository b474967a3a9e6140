// What an HTTP check expects of a response, and the verdict on one: the
// status must be among the accepted codes (default any 2xx, as keepalived)
// and, when a digest is configured, the body's MD5 or SHA-256 must match.
// Pure: the probe feeds it the bytes it reads; tests feed it strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/health/check_config.hpp"
#include "appliance/health/hasher.hpp"
#include "appliance/health/http_response.hpp"
#include "appliance/health/probe_result.hpp"

namespace vsd::health {

struct HttpExpect {
  std::vector<int> status;  // empty: 200..299
  std::optional<Digest> digest;
};

bool status_accepted(const std::vector<int>& accepted, int status);
std::string describe_accepted(const std::vector<int>& accepted);  // "200, 204" or "2xx"

// GET with Connection: close, so the end of the body is never ambiguous.
std::string http_request(std::string_view path, std::string_view host);

class HttpResponseCheck {
 public:
  explicit HttpResponseCheck(HttpExpect expect);
  HttpResponseCheck(const HttpResponseCheck&) = delete;  // the parser's sink points here
  HttpResponseCheck& operator=(const HttpResponseCheck&) = delete;

  // Feeds response bytes; returns the verdict as soon as it is known (the
  // status line suffices without a digest).
  std::optional<ProbeResult> feed(std::string_view bytes);
  // The peer closed the connection: always a verdict.
  ProbeResult end_of_stream();

 private:
  std::optional<ProbeResult> verdict();

  HttpExpect expect_;
  std::optional<ProbeResult> final_;  // the first verdict stands
  std::optional<Hasher> hasher_;
  HttpResponseParser parser_;
};

}  // namespace vsd::health
