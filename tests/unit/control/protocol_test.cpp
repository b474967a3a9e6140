// The control protocol without a socket: requests decoded into calls on a
// recording handler, replies encoded, and the status JSON both ways.
#include "appliance/control/protocol.hpp"

#include <gtest/gtest.h>

namespace vsd::control {
namespace {

using nlohmann::json;

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
  std::vector<ConnectionStatus> connections() override {
    ConnectionStatus c;
    c.client = *Endpoint::parse("198.51.100.2:40000");
    c.virtual_address = *Endpoint::parse("192.0.2.10:80");
    c.real = *Endpoint::parse("203.0.113.11:8000");
    c.state = "ESTABLISHED";
    c.expires_s = 899;
    return {c};
  }
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

TEST(ControlProtocol, SyncDaemonRequestsCarryTheRoleAndItsChecks) {
  Recorder h;
  IpvsadmCommand c;
  c.op = IpvsadmOp::start_daemon;
  c.daemon_state = "master";
  c.mcast_interface = "eth2";
  c.syncid = 7;
  c.reason = "keepalived: group VG entered MASTER";
  json r = handle_request(h, sync_daemon_request(c));
  EXPECT_TRUE(reply_ok(r)) << r.dump();
  ASSERT_TRUE(h.daemon);
  EXPECT_EQ(*h.daemon, c);
  // Wrong shapes are refused with what is wrong, and reach no handler.
  h.daemon.reset();
  json bad = sync_daemon_request(c);
  bad["state"] = "primary";
  EXPECT_NE(reply_text(handle_request(h, bad)).find("\"master\" or \"backup\""), std::string::npos);
  bad = sync_daemon_request(c);
  bad["syncid"] = 256;
  EXPECT_NE(reply_text(handle_request(h, bad)).find("0..255"), std::string::npos);
  bad = sync_daemon_request(c);
  bad["action"] = "pause";
  EXPECT_FALSE(reply_ok(handle_request(h, bad)));
  EXPECT_FALSE(h.daemon);
}

TEST(ControlProtocol, RequestsBecomeCallsAndRepliesCarryTheirResults) {
  Recorder h;
  json st = handle_request(h, simple_request(kStatus));
  EXPECT_TRUE(reply_ok(st));
  EXPECT_EQ(status_from_json(st).version, "1.2.3");
  EXPECT_EQ(status_from_json(st).max_connections, 42u);

  auto conns = connections_from_reply(handle_request(h, simple_request(kConnections)));
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].real.to_string(), "203.0.113.11:8000");
  EXPECT_EQ(conns[0].state, "ESTABLISHED");

  IpvsadmCommand add;
  add.op = IpvsadmOp::add_service;
  add.service = IpvsadmService{Protocol::tcp, *Endpoint::parse("192.0.2.10:80"), 0, false};
  add.scheduler = "rr";
  EXPECT_TRUE(reply_ok(handle_request(h, edit_request({add}))));
  ASSERT_EQ(h.edited.size(), 1u);
  EXPECT_EQ(h.edited[0].scheduler, "rr");
  h.next = Outcome::refused("Service already exists");
  json refused = handle_request(h, edit_request({add}));
  EXPECT_FALSE(reply_ok(refused));
  EXPECT_EQ(reply_text(refused), "Service already exists");

  EXPECT_FALSE(reply_ok(handle_request(h, zero_request(std::nullopt))));
  ASSERT_TRUE(h.zeroed.has_value());
  EXPECT_FALSE(h.zeroed->has_value()) << "no service: every service";
  handle_request(h, zero_request(add.service));
  EXPECT_EQ(**h.zeroed, *add.service);

  EXPECT_EQ(reply_text(handle_request(h, simple_request(kReload))), "reload refused: 2 errors");
  EXPECT_EQ(reply_text(handle_request(h, simple_request(kGarp))), "announcing 1 VIP(s) x3");
  EXPECT_EQ(toml_from_reply(handle_request(h, simple_request(kSaveToml))), "[director]\n");
}

TEST(ControlProtocol, UndecodableRequestsAreRefusedWithTheReason) {
  Recorder h;
  EXPECT_EQ(reply_text(handle_request(h, {{"cmd", "edit"}})),
            "bad edit request: \"commands\" must be an array");
  EXPECT_EQ(reply_text(handle_request(h, {{"cmd", "edit"}, {"commands", json::array({json::object()})}}))
                .rfind("bad edit request: ", 0),
            0u);
  EXPECT_EQ(reply_text(handle_request(h, {{"cmd", "zero"}, {"service", {{"fwmark", "x"}}}}))
                .rfind("bad zero request: ", 0),
            0u);
  EXPECT_EQ(reply_text(handle_request(h, {{"cmd", "frobnicate"}})), "unknown control command 'frobnicate'");
  EXPECT_TRUE(h.edited.empty());
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
