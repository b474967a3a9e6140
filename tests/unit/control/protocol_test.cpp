// The control protocol without a socket: requests decoded into calls on a
// recording handler, replies encoded (the connection listing as a stream),
// vsadm's reading of the stream, and the status JSON both ways.
#include "appliance/control/protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

namespace vsd::control {
namespace {

using nlohmann::json;

// A listing of `total` entries given `per_step` at a time.
struct FakeCursor final : ConnectionCursor {
  FakeCursor(std::size_t total, std::size_t per_step, int* steps = nullptr)
      : total(total), per_step(per_step), steps(steps) {}
  bool next(std::vector<ConnectionStatus>& out) override {
    if (steps) ++*steps;
    for (std::size_t i = 0; i < per_step && given < total; ++i, ++given) {
      ConnectionStatus c;
      c.client = Endpoint{*IpAddress::parse("198.51.100.2"), static_cast<std::uint16_t>(1000 + given)};
      c.virtual_address = *Endpoint::parse("192.0.2.10:80");
      c.real = *Endpoint::parse("203.0.113.11:8000");
      c.state = "ESTABLISHED";
      c.expires_s = 899;
      out.push_back(c);
    }
    return given < total;
  }
  std::size_t total, per_step, given = 0;
  int* steps;
};

// A stream's lines, each parsed (the server writes them the same way).
std::vector<json> drain(const Reply& r) {
  std::vector<json> lines{r.line};
  if (!r.streamed()) return lines;
  for (bool more = true; more;) {
    std::string out;
    more = r.more(out);
    for (std::size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1)
      lines.push_back(json::parse(out.substr(at, nl - at)));
  }
  return lines;
}

struct Recorder final : Handler {
  std::vector<IpvsadmCommand> edited;
  std::optional<std::optional<IpvsadmService>> zeroed;
  Outcome next = Outcome::done();
  Status status() override {
    Status s;
    s.version = "1.2.3";
    s.max_connections = 42;
    return s;
  }
  std::unique_ptr<ConnectionCursor> connections() override { return std::make_unique<FakeCursor>(1, 1); }
  Outcome edit(const std::vector<IpvsadmCommand>& commands) override {
    edited = commands;
    return next;
  }
  Outcome zero(const std::optional<IpvsadmService>& service) override {
    zeroed = service;
    return next;
  }
  Outcome reload() override { return Outcome::refused("reload refused: 2 errors"); }
  std::string save_toml() override { return "[director]\n"; }
  Outcome garp() override { return Outcome::done("announcing 1 VIP(s) x3"); }
  std::optional<IpvsadmCommand> daemon;
  Outcome sync_daemon(const IpvsadmCommand& c) override {
    daemon = c;
    return Outcome::done("master sync daemon started");
  }
};

// Every reply but the connection listing is one line.
json one(Handler& h, const json& request) {
  Reply r = handle_request(h, request);
  EXPECT_FALSE(r.streamed()) << request;
  return r.line;
}

TEST(ControlProtocol, SyncDaemonRequestsCarryTheRoleAndItsChecks) {
  Recorder h;
  IpvsadmCommand c;
  c.op = IpvsadmOp::start_daemon;
  c.daemon_state = "master";
  c.mcast_interface = "eth2";
  c.syncid = 7;
  c.reason = "keepalived: group VG entered MASTER";
  json r = one(h, sync_daemon_request(c));
  EXPECT_TRUE(reply_ok(r)) << r.dump();
  ASSERT_TRUE(h.daemon);
  EXPECT_EQ(*h.daemon, c);
  // Wrong shapes are refused with what is wrong, and reach no handler.
  h.daemon.reset();
  json bad = sync_daemon_request(c);
  bad["state"] = "primary";
  EXPECT_NE(reply_text(one(h, bad)).find("\"master\" or \"backup\""), std::string::npos);
  bad = sync_daemon_request(c);
  bad["syncid"] = 256;
  EXPECT_NE(reply_text(one(h, bad)).find("0..255"), std::string::npos);
  bad = sync_daemon_request(c);
  bad["action"] = "pause";
  EXPECT_FALSE(reply_ok(one(h, bad)));
  EXPECT_FALSE(h.daemon);
}

TEST(ControlProtocol, RequestsBecomeCallsAndRepliesCarryTheirResults) {
  Recorder h;
  json st = one(h, simple_request(kStatus));
  EXPECT_TRUE(reply_ok(st));
  EXPECT_EQ(status_from_json(st).version, "1.2.3");
  EXPECT_EQ(status_from_json(st).max_connections, 42u);

  auto lines = drain(handle_request(h, simple_request(kConnections)));
  ASSERT_EQ(lines.size(), 3u);
  auto conns = connections_from_reply(lines[1]);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].real.to_string(), "203.0.113.11:8000");
  EXPECT_EQ(conns[0].state, "ESTABLISHED");

  IpvsadmCommand add;
  add.op = IpvsadmOp::add_service;
  add.service = IpvsadmService{Protocol::tcp, *Endpoint::parse("192.0.2.10:80"), 0, false};
  add.scheduler = "rr";
  EXPECT_TRUE(reply_ok(one(h, edit_request({add}))));
  ASSERT_EQ(h.edited.size(), 1u);
  EXPECT_EQ(h.edited[0].scheduler, "rr");
  h.next = Outcome::refused("Service already exists");
  json refused = one(h, edit_request({add}));
  EXPECT_FALSE(reply_ok(refused));
  EXPECT_EQ(reply_text(refused), "Service already exists");

  EXPECT_FALSE(reply_ok(one(h, zero_request(std::nullopt))));
  ASSERT_TRUE(h.zeroed.has_value());
  EXPECT_FALSE(h.zeroed->has_value()) << "no service: every service";
  one(h, zero_request(add.service));
  EXPECT_EQ(**h.zeroed, *add.service);

  EXPECT_EQ(reply_text(one(h, simple_request(kReload))), "reload refused: 2 errors");
  EXPECT_EQ(reply_text(one(h, simple_request(kGarp))), "announcing 1 VIP(s) x3");
  EXPECT_EQ(toml_from_reply(one(h, simple_request(kSaveToml))), "[director]\n");
}

TEST(ControlProtocol, UndecodableRequestsAreRefusedWithTheReason) {
  Recorder h;
  EXPECT_EQ(reply_text(one(h, {{"cmd", "edit"}})), "bad edit request: \"commands\" must be an array");
  EXPECT_EQ(reply_text(one(h, {{"cmd", "edit"}, {"commands", json::array({json::object()})}}))
                .rfind("bad edit request: ", 0),
            0u);
  EXPECT_EQ(reply_text(one(h, {{"cmd", "zero"}, {"service", {{"fwmark", "x"}}}})).rfind("bad zero request: ", 0),
            0u);
  EXPECT_EQ(reply_text(one(h, {{"cmd", "frobnicate"}})), "unknown control command 'frobnicate'");
  EXPECT_TRUE(h.edited.empty());
}

// The stream: a first line, one line per step that found entries, an end
// line with the count; the cursor is asked for one step per call.
TEST(ControlProtocol, ConnectionsAreStreamedOneLinePerStepWithTheCountAtTheEnd) {
  int steps = 0;
  Reply r = connections_stream(std::make_unique<FakeCursor>(10, 4, &steps));
  ASSERT_TRUE(r.streamed());
  EXPECT_EQ(r.line, json({{"ok", true}, {"stream", "connections"}}));
  EXPECT_EQ(steps, 0) << "nothing read before the server asks";
  std::string out;
  EXPECT_TRUE(r.more(out));
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_EQ(connections_from_reply(json::parse(out)).size(), 4u);
  auto lines = drain(r);  // the rest: 4, 2 and the end line
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(connections_from_reply(lines[1]).size(), 4u);
  EXPECT_EQ(connections_from_reply(lines[2]).size(), 2u);
  EXPECT_EQ(lines[3], json({{"ok", true}, {"end", true}, {"count", 10}}));

  // A step that finds nothing writes no line; an empty table is the first
  // and the end line alone.
  auto empty = drain(connections_stream(std::make_unique<FakeCursor>(0, 4)));
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[1], json({{"ok", true}, {"end", true}, {"count", 0}}));
}

// The stream writes each entry's text directly: the same bytes as its JSON
// value's dump, strings escaped alike.
TEST(ControlProtocol, StreamedEntryTextIsTheEntrysJson) {
  ConnectionStatus c;
  c.client = *Endpoint::parse("[2001:db8:9::1]:40000");
  c.virtual_address = *Endpoint::parse("192.0.2.10:80");
  c.real = *Endpoint::parse("203.0.113.11:8000");
  c.expires_s = 4294967295u;
  for (std::uint8_t proto : {0, 6, 17})
    for (bool tmpl : {false, true})
      for (const char* state : {"ESTABLISHED", "", "a\"b\\c", "tab\there\x01", "caf\xc3\xa9", "bad\xff", "\x7f"}) {
        c.protocol = proto;
        c.is_template = tmpl;
        c.state = state;
        std::string text;
        append_json(text, c);
        EXPECT_EQ(text, to_json(c).dump(-1, ' ', false, json::error_handler_t::replace)) << state;
      }
  ConnectionStatus zero;
  std::string text;
  append_json(text, zero);
  EXPECT_EQ(text, to_json(zero).dump());
}

// vsadm's side, line by line.
TEST(ControlProtocol, VsadmReadsTheStreamAndSaysWhenItIsCutShort) {
  using Step = ConnectionsReply::Step;
  auto lines = drain(connections_stream(std::make_unique<FakeCursor>(10, 4)));
  {
    ConnectionsReply reply;
    std::vector<ConnectionStatus> got;
    std::vector<Step> steps;
    for (const auto& l : lines) steps.push_back(reply.feed(l, got));
    EXPECT_EQ(steps, (std::vector<Step>{Step::more, Step::more, Step::more, Step::more, Step::end}));
    EXPECT_EQ(got.size(), 10u);
    EXPECT_EQ(got[9].client.port, 1009);
    EXPECT_EQ(reply.count(), 10u);
    EXPECT_TRUE(reply.error().empty());
    EXPECT_EQ(reply.closed(), Step::end) << "closing after the end line is fine";
  }
  {  // vsd closed the connection after two of the lines
    ConnectionsReply reply;
    std::vector<ConnectionStatus> got;
    reply.feed(lines[0], got);
    reply.feed(lines[1], got);
    EXPECT_EQ(reply.closed(), Step::error);
    EXPECT_EQ(reply.error(), "the listing is incomplete: vsd closed the connection after 4 entries");
  }
  {  // a line lost on the way: the end line's count tells
    ConnectionsReply reply;
    std::vector<ConnectionStatus> got;
    for (std::size_t i : {0, 1, 3, 4}) reply.feed(lines[i], got);
    EXPECT_EQ(reply.error(), "vsd sent 10 entries but 6 arrived");
  }
  {  // refused, or failed on the way
    ConnectionsReply refused;
    std::vector<ConnectionStatus> got;
    EXPECT_EQ(refused.feed(json{{"ok", false}, {"error", "permission denied"}}, got), Step::error);
    EXPECT_FALSE(refused.started());
    EXPECT_EQ(refused.error(), "permission denied");
    ConnectionsReply failed;
    failed.feed(lines[0], got);
    EXPECT_EQ(failed.feed(json{{"ok", false}, {"error", "vsd is stopping"}}, got), Step::error);
    EXPECT_EQ(failed.error(), "vsd is stopping");
    ConnectionsReply silent;
    EXPECT_EQ(silent.closed(), Step::error);
    EXPECT_EQ(silent.error(), "vsd closed the connection without a reply");
  }
  {  // an older vsd: the whole listing in one line
    ConnectionsReply reply;
    std::vector<ConnectionStatus> got;
    json old = {{"ok", true}, {"connections", to_json(std::vector<ConnectionStatus>(3))}};
    EXPECT_EQ(reply.feed(old, got), Step::end);
    EXPECT_EQ(got.size(), 3u);
  }
  {  // lines of the wrong shape neither throw nor count
    ConnectionsReply reply;
    std::vector<ConnectionStatus> got;
    EXPECT_EQ(reply.feed(json::array(), got), Step::error);
    ConnectionsReply odd;
    EXPECT_EQ(odd.feed(json{{"ok", "yes"}, {"error", 5}}, got), Step::error);
    EXPECT_EQ(odd.error(), "vsd refused the request");
    ConnectionsReply lenient;
    lenient.feed(lines[0], got);
    EXPECT_EQ(lenient.feed(json{{"connections", 7}, {"stream", 1}}, got), Step::more);
    EXPECT_EQ(lenient.count(), 0u);
  }
}

TEST(ControlStatus, JsonRoundTripKeepsEveryField) {
  Status s;
  s.version = "0.2.0";
  s.queue_form = "nft queue";
  s.uptime_s = 7;
  s.connections = 3;
  s.max_connections = 1024;
  s.counters.packets = 100;
  s.counters.transmit_errors = 2;
  s.counters.malformed = {{"fragment", 4}};
  s.queues.push_back({1, 10, 2, 3, 4, 5, 6, 7, 8, 9, 11});
  s.timeouts = {60, 30, 10};
  ServiceStatus svc;
  svc.protocol = Protocol::udp;
  svc.address = *Endpoint::parse("[2001:db8::10]:53");
  svc.ipv6 = true;
  svc.scheduler = "mh";
  svc.flags = {"mh-port", "ops"};
  svc.persistent = 300;
  svc.netmask = 64;
  svc.sorry_server = *Endpoint::parse("[2001:db8:2::99]:53");
  svc.stats = {1, 2, 3, 4, 5};
  svc.rates = {6, 7, 8, 9, 10};
  RealStatus r;
  r.address = *Endpoint::parse("[2001:db8:2::11]:53");
  r.forward = ForwardMethod::tun;
  r.weight = 3;
  r.upper_threshold = 10;
  r.lower_threshold = 5;
  r.active_conns = 1;
  r.inactive_conns = 2;
  r.persistent_conns = 3;
  r.overloaded = true;
  r.health = Health::down;
  r.removed = true;
  r.stats = {11, 12, 13, 14, 15};
  svc.reals.push_back(r);
  s.services.push_back(svc);
  ServiceStatus mark;
  mark.fwmark = 9;
  s.services.push_back(mark);

  Status b = status_from_json(to_json(s));
  EXPECT_EQ(to_json(b), to_json(s));
  EXPECT_EQ(b.services[0].reals[0].forward, ForwardMethod::tun);
  EXPECT_EQ(b.services[0].reals[0].health, Health::down);
  EXPECT_EQ(b.services[1].fwmark, 9u);
  EXPECT_EQ(b.counters.transmit_errors, 2u);
  EXPECT_EQ(b.queues[0].kernel_waiting, 11u);
}

}  // namespace
}  // namespace vsd::control
