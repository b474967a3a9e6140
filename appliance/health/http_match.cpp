#include "appliance/health/http_match.hpp"

#include <algorithm>

#include "appliance/version.hpp"

namespace vsd::health {

bool status_accepted(const std::vector<int>& accepted, int status) {
  if (accepted.empty()) return status >= 200 && status <= 299;
  return std::find(accepted.begin(), accepted.end(), status) != accepted.end();
}

std::string describe_accepted(const std::vector<int>& accepted) { return describe_status(accepted); }

std::string http_request(std::string_view path, std::string_view host) {
  std::string r = "GET ";
  r += path;
  r += " HTTP/1.1\r\nHost: ";
  r += host;
  r += "\r\nUser-Agent: vsd-health/";
  r += kVersion;
  r += "\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  return r;
}

HttpResponseCheck::HttpResponseCheck(HttpExpect expect)
    : expect_(std::move(expect)),
      parser_([this](std::string_view body) {
        if (hasher_) hasher_->update(body);
      }) {
  if (expect_.digest) hasher_.emplace(expect_.digest->algorithm);
}

std::optional<ProbeResult> HttpResponseCheck::verdict() {
  if (parser_.failed()) return ProbeResult{false, "bad HTTP response: " + parser_.error()};
  if (!parser_.headers_complete()) return std::nullopt;
  const std::string status = "HTTP status " + std::to_string(parser_.status());
  if (!status_accepted(expect_.status, parser_.status()))
    return ProbeResult{false, status + " (expected " + describe_accepted(expect_.status) + ")"};
  if (!expect_.digest) return ProbeResult{true, status};
  if (!parser_.complete()) return std::nullopt;
  const char* algo = to_string(expect_.digest->algorithm);
  std::string got = hasher_->final_hex();
  if (got == expect_.digest->hex) return ProbeResult{true, status + ", body " + algo + " matches"};
  return ProbeResult{false, status + " but body " + algo + " is " + got + ", expected " + expect_.digest->hex};
}

std::optional<ProbeResult> HttpResponseCheck::feed(std::string_view bytes) {
  if (!final_) {
    parser_.feed(bytes);
    final_ = verdict();
  }
  return final_;
}

ProbeResult HttpResponseCheck::end_of_stream() {
  if (!final_) {
    parser_.end_of_stream();
    final_ = verdict();
  }
  if (final_) return *final_;
  return {false, "connection closed before a complete response"};
}

}  // namespace vsd::health
