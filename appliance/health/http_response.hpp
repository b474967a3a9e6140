// An incremental HTTP/1.x response parser for the HTTP checks: bytes go in
// as they arrive, the status and headers come out as soon as they are
// complete, the body (Content-Length, chunked, or up to the close) is handed
// to a sink piece by piece so a digest never needs the whole body in memory.
// Interim 1xx responses are skipped. Pure: no sockets, unit-testable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vsd::health {

class HttpResponseParser {
 public:
  using BodySink = std::function<void(std::string_view)>;
  static constexpr std::size_t max_head_bytes = 64 * 1024;

  explicit HttpResponseParser(BodySink sink = {});

  void feed(std::string_view bytes);
  void end_of_stream();  // the peer closed the connection

  bool headers_complete() const { return head_done_; }  // status and headers known
  bool complete() const { return state_ == State::done; }
  bool failed() const { return state_ == State::failed; }
  const std::string& error() const { return error_; }

  int status() const { return status_; }
  const std::string& reason_phrase() const { return reason_; }
  std::optional<std::string> header(std::string_view name) const;  // first one, any case
  bool chunked() const { return chunked_; }
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State {
    status_line, headers, body_length, chunk_size, chunk_data, chunk_data_end, trailers,
    body_until_close, done, failed
  };
  bool line_state() const;
  void line(std::string_view text);
  void status_line(std::string_view text);
  void header_line(std::string_view text);
  void end_of_headers();
  void chunk_size_line(std::string_view text);
  void body(std::string_view bytes);
  void fail(std::string why);

  BodySink sink_;
  State state_ = State::status_line;
  std::string buf_;  // bytes not consumed yet
  std::size_t head_bytes_ = 0;
  bool head_done_ = false;
  bool chunked_ = false;
  int status_ = 0;
  std::string reason_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::uint64_t remaining_ = 0;  // of the body or of the current chunk
  std::uint64_t body_bytes_ = 0;
  std::uint64_t content_length_ = 0;
  std::string error_;
};

}  // namespace vsd::health
