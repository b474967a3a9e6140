#include <array>
#include <random>

#include "appliance/health/dns_message.hpp"
#include "appliance/health/probes.hpp"

namespace vsd::health {

namespace {

class DnsProbe final : public Probe {
 public:
  DnsProbe(boost::asio::io_context& io, const Endpoint& destination, DnsType type, std::string name,
           std::string answer)
      : Probe(io),
        destination_(to_udp(destination)),
        type_(type),
        name_(std::move(name)),
        answer_(std::move(answer)),
        socket_(io) {}

 private:
  void begin() override {
    static thread_local std::mt19937 random{std::random_device{}()};
    id_ = static_cast<std::uint16_t>(random());
    auto query = dns_query(id_, name_, type_);
    if (!query) return finish(false, "bad DNS name \"" + name_ + "\"");
    query_ = std::move(*query);
    boost::system::error_code ec;
    socket_.open(destination_.protocol(), ec);
    if (!ec) socket_.connect(destination_, ec);  // only its replies; port unreachable surfaces
    if (ec) return finish(false, "UDP socket: " + ec.message());
    socket_.async_send(boost::asio::buffer(query_), [self = self<DnsProbe>()](const boost::system::error_code& ec,
                                                                              std::size_t) {
      if (self->finished()) return;
      if (ec) return self->finish(false, "send: " + ec.message());
      self->receive();
    });
  }

  void receive() {
    socket_.async_receive(boost::asio::buffer(buffer_), [self = self<DnsProbe>()](const boost::system::error_code& ec,
                                                                                std::size_t n) {
      if (self->finished()) return;
      if (ec == boost::asio::error::connection_refused)
        return self->finish(false, "port unreachable (ICMP): " + ec.message());
      if (ec) return self->finish(false, "receive: " + ec.message());
      std::string why;
      auto reply = parse_dns_reply(std::string_view(self->buffer_.data(), n), self->type_, &why);
      // Not ours (another id, a query, garbage): keep waiting, as keepalived.
      if (!reply || reply->id != self->id_ || !reply->response) {
        self->stray_ = reply ? "a reply with another id" : why;
        return self->receive();
      }
      self->judge(*reply);
    });
  }

  void judge(const DnsReply& reply) {
    const std::string q = std::string(to_string(type_)) + " " + name_;
    if (reply.rcode != 0) return finish(false, q + ": " + rcode_name(reply.rcode));
    if (answer_.empty())
      return finish(true, q + ": NOERROR, " + std::to_string(reply.answers.size()) + " answer(s)");
    if (dns_answer_matches(reply.answers, answer_, type_)) return finish(true, q + ": answers " + answer_);
    std::string got;
    for (const auto& a : reply.answers) got += (got.empty() ? "" : ", ") + a;
    finish(false, q + ": no answer " + answer_ + " (got " + (got.empty() ? "none" : printable(got, 120)) + ")");
  }

  std::string timeout_reason() const override {
    std::string r = "no DNS reply within " + std::to_string(timeout_.count()) + " ms";
    if (!stray_.empty()) r += " (ignored: " + stray_ + ")";
    return r;
  }

  void stop_io() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  boost::asio::ip::udp::endpoint destination_;
  DnsType type_;
  std::string name_, answer_, query_, stray_;
  std::uint16_t id_ = 0;
  boost::asio::ip::udp::socket socket_;
  std::array<char, 4096> buffer_{};
};

// Reads the file at once: no I/O to wait for.
class FileProbe final : public Probe {
 public:
  FileProbe(boost::asio::io_context& io, std::string path, std::int32_t factor, bool reverse)
      : Probe(io), path_(std::move(path)), factor_(factor), reverse_(reverse) {}

 private:
  void begin() override {
    std::optional<std::string> content;
    if (FILE* f = std::fopen(path_.c_str(), "re")) {
      char buf[128];
      const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
      std::fclose(f);
      content = std::string(buf, n);
    }
    auto r = file_verdict(content, factor_, reverse_);
    r.reason = path_ + ": " + r.reason;
    finish(std::move(r));
  }
  void stop_io() override {}

  std::string path_;
  std::int32_t factor_;
  bool reverse_;
};

}  // namespace

std::shared_ptr<Probe> make_dns_probe(boost::asio::io_context& io, const Endpoint& destination, DnsType type,
                                      std::string name, std::string answer) {
  return std::make_shared<DnsProbe>(io, destination, type, std::move(name), std::move(answer));
}

std::shared_ptr<Probe> make_file_probe(boost::asio::io_context& io, std::string path, std::int32_t factor,
                                       bool reverse) {
  return std::make_shared<FileProbe>(io, std::move(path), factor, reverse);
}

// keepalived's track_file for a checker (track_file.c): the value V of the
// file (strtol, base 0; missing or empty 0); weight 0 makes V a status
// (non-zero: down; with reverse, zero: down); otherwise V x weight (x -1
// with reverse), at or below -65535 down, else added to the weight.
ProbeResult file_verdict(const std::optional<std::string>& content, std::int32_t factor, bool reverse) {
  long long value = 0;
  std::string what = "missing (0)";
  if (content) {
    std::string text = *content;
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
      what = "empty (0)";
    } else {
      errno = 0;
      char* end = nullptr;
      value = std::strtoll(text.c_str() + first, &end, 0);
      if (end == text.c_str() + first || errno) {
        value = 0;
        what = "not a number (0)";
      } else {
        what = std::to_string(value);
      }
    }
  }
  if (factor == 0) {
    const bool fault = reverse ? value == 0 : value != 0;
    return {!fault, "value " + what + (fault ? ": down" : ": up"), std::nullopt, std::nullopt};
  }
  long long status = value * factor * (reverse ? -1 : 1);
  status = std::clamp<long long>(status, -65535, 65534);
  if (status <= -65535) return {false, "value " + what + ": down (weight change -65535 or below)", {}, {}};
  return {true, "value " + what + ": weight " + (status >= 0 ? "+" : "") + std::to_string(status), std::nullopt,
          static_cast<std::int64_t>(status)};
}

}  // namespace vsd::health
