#include "appliance/control/protocol.hpp"

#include <string>


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

}  // namespace

json handle_request(Handler& handler, const json& request) {
  const std::string cmd = request.value("cmd", "");
  if (cmd == kStatus) {
    json r = to_json(handler.status());
    r["ok"] = true;
    return r;
  }
  if (cmd == kConnections) return {{"ok", true}, {"connections", to_json(handler.connections())}};
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

}  // namespace vsd::control
