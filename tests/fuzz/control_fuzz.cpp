// appliance/control/: the control protocol over arbitrary request lines.
// The daemon's side exactly as control/server.cpp runs it (parse one line,
// refuse what is not an object, handle_request() with exceptions turned
// into a refusal, the reply dumped with invalid UTF-8 replaced) against a
// fake Handler (the connection listing streamed, as produce() writes it);
// vsadm's side reads the same bytes as a reply, and its stream reader
// (ConnectionsReply) reads both. Besides ASan/UBSan it checks:
//  - status_from_json / connections_from_json never throw (they are lenient:
//    status.hpp), and a status read back from its own JSON is the same;
//  - an ipvsadm command or service read from JSON writes back to JSON that
//    reads back to the same JSON (the edit request vsadm sends).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "appliance/control/ipvsadm_command.hpp"
#include "appliance/control/protocol.hpp"
#include "appliance/control/status.hpp"
#include "fuzz_common.hpp"

namespace vsd {
namespace {

using nlohmann::json;

void command_round_trip(const IpvsadmCommand& c) {
  std::string why;
  auto back = ipvsadm_command_from_json(ipvsadm_command_json(c), &why);
  FUZZ_CHECK(back, "an ipvsadm command's own JSON does not read back: %s", why.c_str());
  // The JSON carries the fields the command uses (ipvsadm_command.hpp):
  // read back, it writes the same JSON.
  FUZZ_CHECK(ipvsadm_command_json(*back) == ipvsadm_command_json(c), "an ipvsadm command's JSON reads back as another: %s",
             ipvsadm_command_json(c).dump().c_str());
  (void)to_ipvsadm_args(c);
}

control::Status sample_status() {
  control::Status s;
  s.version = "0.1.0";
  s.queue_form = "nft queue";
  s.uptime_s = 42;
  s.connections = 3;
  s.max_connections = 1024;
  s.counters.packets = 7;
  s.counters.malformed = {{"fragment", 1}};
  s.queues.push_back({});
  control::ServiceStatus svc;
  svc.address = *Endpoint::parse("192.0.2.10:80");
  svc.scheduler = "wrr";
  svc.flags = {"ops"};
  svc.sorry_server = *Endpoint::parse("[2001:db8::99]:80");
  control::RealStatus real;
  real.address = *Endpoint::parse("203.0.113.11:8000");
  real.health = control::Health::down;
  svc.reals.push_back(real);
  s.services.push_back(svc);
  return s;
}

class FakeHandler final : public control::Handler {
 public:
  control::Status status() override { return sample_status(); }
  // Two steps of two entries (one with a name that is not UTF-8), then an
  // empty step: the stream the daemon's ConnectionReader gives.
  std::unique_ptr<control::ConnectionCursor> connections() override {
    struct Cursor final : control::ConnectionCursor {
      int step = 0;
      bool next(std::vector<control::ConnectionStatus>& out) override {
        control::ConnectionStatus c;
        c.client = *Endpoint::parse("198.51.100.2:40000");
        c.virtual_address = *Endpoint::parse("192.0.2.10:80");
        c.real = *Endpoint::parse("203.0.113.11:8000");
        c.state = step == 1 ? "\xff" : "ESTABLISHED";
        if (step < 2) out.insert(out.end(), 2, c);
        return ++step < 3;
      }
    };
    return std::make_unique<Cursor>();
  }
  control::Outcome edit(const std::vector<IpvsadmCommand>& commands) override {
    for (const auto& c : commands) command_round_trip(c);
    return commands.empty() ? control::Outcome::refused("nothing") : control::Outcome::done("edited");
  }
  control::Outcome zero(const std::optional<IpvsadmService>& service) override {
    if (service) (void)to_ipvsadm_args(*service);
    return control::Outcome::done();
  }
  control::Outcome reload() override { return control::Outcome::refused("reload refused"); }
  std::string save_toml() override { return "# \xff\n"; }
  control::Outcome garp() override { return control::Outcome::done("announced"); }
  control::Outcome sync_daemon(const IpvsadmCommand& c) override {
    command_round_trip(c);
    return control::Outcome::done("sync");
  }
};

// control/server.cpp's Session::on_read and answer(), and its produce()
// for a streamed reply (the connection listing): every line it writes.
std::string serve(control::Handler& handler, const std::string& line) {
  control::Reply reply;
  auto req = json::parse(line, nullptr, false);
  if (req.is_discarded() || !req.is_object()) {
    reply = json{{"ok", false}, {"error", "control request is not a JSON object"}};
  } else {
    try {
      reply = control::handle_request(handler, req);
    } catch (const std::exception& e) {
      reply = json{{"ok", false}, {"error", std::string("control request refused: ") + e.what()}};
    }
  }
  std::string out = reply.line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  for (int batches = 0; reply.streamed(); ++batches) {
    FUZZ_CHECK(batches < 100, "a stream of three steps did not end");
    if (!reply.more(out)) break;
  }
  return out;
}

}  // namespace
}  // namespace vsd

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vsd;
  using nlohmann::json;
  if (size > 64 * 1024) return 0;
  const std::string line(reinterpret_cast<const char*>(data), size);
  FakeHandler handler;
  const std::string out = serve(handler, line);
  // Each line of the reply (one, or a stream's) is JSON, and vsadm's
  // stream reader takes them without throwing.
  control::ConnectionsReply stream;
  std::vector<control::ConnectionStatus> entries;
  for (std::size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1) {
    const std::string one = out.substr(at, nl - at);
    FUZZ_CHECK(json::accept(one), "a line of the daemon's reply is not JSON: %s", one.c_str());
    (void)stream.feed(json::parse(one), entries);
  }
  FUZZ_CHECK(!out.empty() && out.back() == '\n', "the daemon's reply does not end its last line");

  const json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) return 0;
  // vsadm's side: the same bytes as a reply.
  const control::Status s = control::status_from_json(j);
  const json sj = control::to_json(s);
  FUZZ_CHECK(control::to_json(control::status_from_json(sj)) == sj, "a status reads back as another: %s",
             sj.dump().c_str());
  const auto conns = control::connections_from_json(j);
  const json cj = control::to_json(conns);
  FUZZ_CHECK(control::to_json(control::connections_from_json(cj)) == cj, "connections read back as others");
  {  // vsadm's stream reader on the same bytes as a reply line, twice
    control::ConnectionsReply r;
    std::vector<control::ConnectionStatus> got;
    (void)r.feed(j, got);
    (void)r.feed(j, got);
    (void)r.closed();
  }
  try {  // vsadm_main catches what these throw on a reply of the wrong shape
    (void)control::reply_ok(j);
    (void)control::reply_text(j);
    (void)control::connections_from_reply(j);
    (void)control::toml_from_reply(j);
  } catch (const std::exception&) {
  }
  std::string why;
  if (auto c = ipvsadm_command_from_json(j, &why)) command_round_trip(*c);
  if (auto svc = ipvsadm_service_from_json(j, &why)) {
    auto back = ipvsadm_service_from_json(ipvsadm_service_json(*svc), &why);
    FUZZ_CHECK(back && *back == *svc, "a service's JSON reads back as another: %s",
               ipvsadm_service_json(*svc).dump().c_str());
  }
  // Nested: each element of an edit request's list, as handle_request reads it.
  if (j.is_object())
    if (auto it = j.find("commands"); it != j.end() && it->is_array())
      for (const auto& e : *it)
        if (auto c = ipvsadm_command_from_json(e, &why)) command_round_trip(*c);
  return 0;
}
