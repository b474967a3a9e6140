#include "appliance/health/http_response.hpp"

#include <algorithm>
#include <cctype>

namespace vsd::health {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

HttpResponseParser::HttpResponseParser(BodySink sink) : sink_(std::move(sink)) {}

std::optional<std::string> HttpResponseParser::header(std::string_view name) const {
  for (const auto& [n, v] : headers_)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

bool HttpResponseParser::line_state() const {
  return state_ == State::status_line || state_ == State::headers || state_ == State::chunk_size ||
         state_ == State::chunk_data_end || state_ == State::trailers;
}

void HttpResponseParser::fail(std::string why) {
  if (state_ == State::failed) return;
  state_ = State::failed;
  error_ = std::move(why);
}

void HttpResponseParser::feed(std::string_view bytes) {
  if (state_ == State::done || state_ == State::failed) return;
  buf_.append(bytes);
  std::size_t pos = 0;
  while (pos < buf_.size() && state_ != State::done && state_ != State::failed) {
    if (line_state()) {
      const std::size_t nl = buf_.find('\n', pos);
      const std::size_t limit = state_ == State::chunk_size || state_ == State::chunk_data_end
                                    ? 4096
                                    : max_head_bytes - std::min(head_bytes_, max_head_bytes);
      if (nl == std::string::npos) {
        if (buf_.size() - pos > limit) fail("response line or headers too long");
        break;
      }
      if (nl - pos > limit) {
        fail("response line or headers too long");
        break;
      }
      std::string_view text(buf_.data() + pos, nl - pos);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (!head_done_ || state_ == State::trailers) head_bytes_ += nl + 1 - pos;
      pos = nl + 1;
      line(text);
      continue;
    }
    // Body bytes: hand over what belongs to the body, keep the rest.
    std::size_t n = buf_.size() - pos;
    if (state_ != State::body_until_close) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
    body(std::string_view(buf_.data() + pos, n));
    pos += n;
    if (state_ != State::body_until_close) {
      remaining_ -= n;
      if (remaining_ == 0) state_ = state_ == State::chunk_data ? State::chunk_data_end : State::done;
    }
  }
  buf_.erase(0, pos);
}

void HttpResponseParser::body(std::string_view bytes) {
  body_bytes_ += bytes.size();
  if (sink_ && !bytes.empty()) sink_(bytes);
}

void HttpResponseParser::line(std::string_view text) {
  switch (state_) {
    case State::status_line: status_line(text); break;
    case State::headers: header_line(text); break;
    case State::chunk_size: chunk_size_line(text); break;
    case State::chunk_data_end:
      if (text.empty())
        state_ = State::chunk_size;
      else
        fail("chunk data longer than its size");
      break;
    case State::trailers:
      if (text.empty()) state_ = State::done;
      break;
    default: break;
  }
}

void HttpResponseParser::status_line(std::string_view text) {
  if (text.empty()) return;  // tolerated before a status line (RFC 9112 2.2)
  // HTTP/1.1 200 OK
  if (text.substr(0, 5) != "HTTP/") {
    fail("not an HTTP response: \"" + std::string(text.substr(0, 40)) + "\"");
    return;
  }
  const std::size_t sp = text.find(' ');
  std::string_view code = sp == std::string_view::npos ? std::string_view() : text.substr(sp + 1, 3);
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (text.size() > sp + 4 && text[sp + 4] != ' ')) {
    fail("bad status line \"" + std::string(text.substr(0, 60)) + "\"");
    return;
  }
  status_ = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  reason_ = text.size() > sp + 5 ? std::string(text.substr(sp + 5)) : std::string();
  headers_.clear();
  state_ = State::headers;
}

void HttpResponseParser::header_line(std::string_view text) {
  if (text.empty()) {
    end_of_headers();
    return;
  }
  if ((text.front() == ' ' || text.front() == '\t') && !headers_.empty()) {  // obsolete folding
    headers_.back().second += " " + std::string(trim(text));
    return;
  }
  const std::size_t colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos ||
      text.substr(0, colon).find_first_of(" \t") != std::string_view::npos) {
    fail("bad header line \"" + std::string(text.substr(0, 60)) + "\"");
    return;
  }
  headers_.emplace_back(std::string(text.substr(0, colon)), std::string(trim(text.substr(colon + 1))));
}

void HttpResponseParser::end_of_headers() {
  if (status_ >= 100 && status_ < 200 && status_ != 101) {  // interim: the real one follows
    state_ = State::status_line;
    return;
  }
  head_done_ = true;
  if (status_ < 200 || status_ == 204 || status_ == 304) {
    state_ = State::done;
    return;
  }
  if (auto te = header("Transfer-Encoding")) {
    // The last coding decides; anything but chunked is read until the close.
    std::string_view codings = *te;
    std::size_t comma = codings.rfind(',');
    std::string_view last = trim(comma == std::string_view::npos ? codings : codings.substr(comma + 1));
    chunked_ = iequals(last, "chunked");
    state_ = chunked_ ? State::chunk_size : State::body_until_close;
    return;
  }
  std::optional<std::uint64_t> length;
  for (const auto& [n, v] : headers_) {
    if (!iequals(n, "Content-Length")) continue;
    auto l = parse_decimal(trim(v));
    if (!l || (length && *length != *l)) {
      fail("bad Content-Length \"" + v + "\"");
      return;
    }
    length = l;
  }
  if (!length) {
    state_ = State::body_until_close;
    return;
  }
  content_length_ = *length;
  remaining_ = *length;
  state_ = remaining_ ? State::body_length : State::done;
}

void HttpResponseParser::chunk_size_line(std::string_view text) {
  std::string_view size = trim(text.substr(0, text.find(';')));  // extensions ignored
  if (size.empty() || size.size() > 15) {
    fail("bad chunk size \"" + std::string(text.substr(0, 40)) + "\"");
    return;
  }
  std::uint64_t v = 0;
  for (char c : size) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isxdigit(static_cast<unsigned char>(c))
                ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                : -1;
    if (d < 0) {
      fail("bad chunk size \"" + std::string(text.substr(0, 40)) + "\"");
      return;
    }
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  remaining_ = v;
  state_ = v ? State::chunk_data : State::trailers;
}

void HttpResponseParser::end_of_stream() {
  switch (state_) {
    case State::done:
    case State::failed: return;
    case State::body_until_close: state_ = State::done; return;
    case State::body_length:
      fail("connection closed after " + std::to_string(body_bytes_) + " of " +
           std::to_string(content_length_) + " body bytes");
      return;
    default:
      fail(head_done_ ? "connection closed inside the chunked body"
                      : "connection closed before the end of the response headers");
  }
}

}  // namespace vsd::health
