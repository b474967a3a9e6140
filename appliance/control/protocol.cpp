#include "appliance/control/protocol.hpp"

#include <iterator>
#include <string>
#include <utility>

namespace vsd::control {

using nlohmann::json;

namespace {

json reply(const Outcome& o, const char* text_key = "message") {
  json r = {{"ok", o.ok}};
  if (o.ok) {
    if (!o.text.empty()) r[text_key] = o.text;
  } else {
    r["error"] = o.text;
  }
  return r;
}

json refused(std::string why) { return reply(Outcome::refused(std::move(why))); }

// Replaced, not thrown, on invalid UTF-8 (a name echoed back).
std::string dump_line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Every command but connections: one request, one reply line.
json handle_one(Handler& handler, const json& request, const std::string& cmd) {
  if (cmd == kStatus) {
    json r = to_json(handler.status());
    r["ok"] = true;
    return r;
  }
  if (cmd == kEdit) {
    auto it = request.find("commands");
    if (it == request.end() || !it->is_array())
      return refused("bad edit request: \"commands\" must be an array");
    std::vector<IpvsadmCommand> commands;
    for (const auto& j : *it) {
      std::string why;
      auto c = ipvsadm_command_from_json(j, &why);
      if (!c) return refused("bad edit request: " + why);
      commands.push_back(std::move(*c));
    }
    return reply(handler.edit(commands));
  }
  if (cmd == kZero) {
    std::optional<IpvsadmService> service;
    if (auto it = request.find("service"); it != request.end() && !it->is_null()) {
      std::string why;
      service = ipvsadm_service_from_json(*it, &why);
      if (!service) return refused("bad zero request: " + why);
    }
    return reply(handler.zero(service));
  }
  if (cmd == kReload) return reply(handler.reload());
  if (cmd == kSaveToml) return {{"ok", true}, {"toml", handler.save_toml()}};
  if (cmd == kGarp) return reply(handler.garp());
  if (cmd == kSyncDaemon) {
    IpvsadmCommand c;
    const std::string action = request.value("action", "");
    if (action != "start" && action != "stop")
      return refused("bad sync_daemon request: \"action\" must be \"start\" or \"stop\"");
    c.op = action == "start" ? IpvsadmOp::start_daemon : IpvsadmOp::stop_daemon;
    auto text = [&](const char* key, std::string& out) {
      auto it = request.find(key);
      if (it == request.end() || it->is_null()) return true;
      if (!it->is_string()) return false;
      out = it->get<std::string>();
      return true;
    };
    if (!text("state", c.daemon_state) || !text("mcast_interface", c.mcast_interface) ||
        !text("reason", c.reason))
      return refused("bad sync_daemon request: state, mcast_interface and reason are strings");
    if (c.daemon_state != "master" && c.daemon_state != "backup")
      return refused("bad sync_daemon request: \"state\" must be \"master\" or \"backup\"");
    if (auto it = request.find("syncid"); it != request.end() && !it->is_null()) {
      if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 255)
        return refused("bad sync_daemon request: \"syncid\" must be 0..255");
      c.syncid = it->get<std::uint32_t>();
    }
    return reply(handler.sync_daemon(c));
  }
  return refused("unknown control command '" + cmd + "'");
}

// A string member, or "" (lenient: a reply line of the wrong shape).
std::string string_member(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Reply handle_request(Handler& handler, const json& request) {
  const std::string cmd = request.value("cmd", "");
  if (cmd == kConnections) return connections_stream(handler.connections());
  return handle_one(handler, request, cmd);
}

Reply connections_stream(std::unique_ptr<ConnectionCursor> cursor) {
  struct Walk {
    std::unique_ptr<ConnectionCursor> cursor;
    std::vector<ConnectionStatus> batch;
    std::uint64_t count = 0;
  };
  // std::function must be copyable: the walk is shared, never copied.
  auto walk = std::make_shared<Walk>();
  walk->cursor = std::move(cursor);
  Reply r(json{{"ok", true}, {"stream", kConnections}});
  r.more = [walk](std::string& out) {
    walk->batch.clear();
    const bool more = walk->cursor && walk->cursor->next(walk->batch);
    if (!walk->batch.empty()) {
      // The line's text entry by entry: no JSON value built.
      out += "{\"connections\":[";
      for (std::size_t i = 0; i < walk->batch.size(); ++i) {
        if (i) out += ',';
        append_json(out, walk->batch[i]);
      }
      out += "]}\n";
      walk->count += walk->batch.size();
    }
    if (!more) {
      out += dump_line({{"ok", true}, {"end", true}, {"count", walk->count}});
      out += '\n';
      walk->cursor.reset();
      walk->batch = {};
    }
    return more;
  };
  return r;
}

json edit_request(const std::vector<IpvsadmCommand>& commands) {
  json list = json::array();
  for (const auto& c : commands) list.push_back(ipvsadm_command_json(c));
  return {{"cmd", kEdit}, {"commands", std::move(list)}};
}

json zero_request(const std::optional<IpvsadmService>& service) {
  return {{"cmd", kZero}, {"service", service ? ipvsadm_service_json(*service) : json()}};
}

json sync_daemon_request(const IpvsadmCommand& c) {
  return {{"cmd", kSyncDaemon},
          {"action", c.op == IpvsadmOp::start_daemon ? "start" : "stop"},
          {"state", c.daemon_state},
          {"mcast_interface", c.mcast_interface.empty() ? json() : json(c.mcast_interface)},
          {"syncid", c.syncid ? json(*c.syncid) : json()},
          {"reason", c.reason}};
}

json simple_request(const char* command) { return {{"cmd", command}}; }

bool reply_ok(const json& reply) { return reply.is_object() && reply.value("ok", false); }

std::string reply_text(const json& reply) {
  if (!reply.is_object()) return {};
  return reply_ok(reply) ? reply.value("message", "") : reply.value("error", "vsd refused the request");
}

std::vector<ConnectionStatus> connections_from_reply(const json& reply) {
  return reply.is_object() && reply.contains("connections")
             ? connections_from_json(reply["connections"])
             : std::vector<ConnectionStatus>{};
}

std::string toml_from_reply(const json& reply) {
  return reply.is_object() ? reply.value("toml", "") : std::string();
}

ConnectionsReply::Step ConnectionsReply::fail(std::string why) {
  error_ = std::move(why);
  ended_ = true;
  return Step::error;
}

ConnectionsReply::Step ConnectionsReply::feed(const json& line, std::vector<ConnectionStatus>& out) {
  if (ended_) return error_.empty() ? Step::end : Step::error;
  if (!line.is_object()) return fail("vsd sent a listing line that is not a JSON object");
  const auto ok = line.find("ok");
  if (ok != line.end() && !(ok->is_boolean() && ok->get<bool>())) {
    std::string why = string_member(line, "error");
    return fail(why.empty() ? "vsd refused the request" : why);  // refused, or failed on the way
  }
  if (!started_ && ok == line.end()) return fail("vsd's reply to the connection listing lacks \"ok\"");
  if (auto entries = line.find("connections"); entries != line.end()) {
    auto got = connections_from_json(*entries);
    count_ += got.size();
    out.insert(out.end(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
  }
  if (!started_) {
    started_ = true;
    if (string_member(line, "stream") == kConnections) return Step::more;
    ended_ = true;  // an older vsd: the whole listing in one line
    return Step::end;
  }
  if (!line.contains("end")) return Step::more;
  ended_ = true;
  const auto sent = line.find("count");
  if (sent != line.end() && sent->is_number_unsigned() && sent->get<std::uint64_t>() != count_)
    return fail("vsd sent " + std::to_string(sent->get<std::uint64_t>()) + " entries but " +
                std::to_string(count_) + " arrived");
  return Step::end;
}

ConnectionsReply::Step ConnectionsReply::closed() {
  if (ended_) return error_.empty() ? Step::end : Step::error;
  if (!started_) return fail("vsd closed the connection without a reply");
  return fail("the listing is incomplete: vsd closed the connection after " + std::to_string(count_) +
              " entries");
}

}  // namespace vsd::control
