#include "appliance/config/config_writer.hpp"

#include <algorithm>
#include <cstdio>


namespace vsd {
namespace {

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

const char* boolean(bool b) { return b ? "true" : "false"; }

// "203.0.113.11:8000"; port 0 (the service's port) as the bare address,
// "[2001:db8::11]" for IPv6, which the parser reads back as port 0.
std::string real_address(const Endpoint& e) {
  if (e.port != 0) return e.to_string();
  return e.addr.is_v4() ? e.addr.to_string() : "[" + e.addr.to_string() + "]";
}

void key(std::string& out, const char* name, const std::string& value) {
  out += name;
  out += " = ";
  out += value;
  out += "\n";
}

std::string seconds(std::uint32_t ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
  return buf;
}

// A real server's check, merged (service defaults and its own keys), with
// only the keys its type takes.
void write_check(std::string& out, const health::CheckConfig& c) {
  out += "\n[service.real.check]\n";
  auto keys = health::check_keys_for(c.type);
  auto has = [&](std::string_view k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
  key(out, "type", quote(health::to_string(c.type)));
  key(out, "interval", seconds(c.interval_ms));
  key(out, "timeout", seconds(c.timeout_ms));
  key(out, "rise", std::to_string(c.rise));
  key(out, "fall", std::to_string(c.fall));
  if (has("connect_to") && !c.connect_to.empty()) key(out, "connect_to", quote(c.connect_to.to_string()));
  if (has("path")) key(out, "path", quote(c.path));
  if (has("status") && !c.status.empty()) {
    std::string list = "[";
    for (std::size_t i = 0; i < c.status.size(); ++i) list += (i ? ", " : "") + std::to_string(c.status[i]);
    key(out, "status", list + "]");
  }
  if (has("digest") && c.digest) key(out, "digest", quote(c.digest->hex));
  if (has("payload") && !c.payload.empty()) key(out, "payload", quote(c.payload));
  if (has("expect") && !c.expect.empty()) key(out, "expect", quote(c.expect));
  if (has("command")) key(out, "command", quote(c.command));
  if (c.warmup_ms) key(out, "warmup", seconds(c.warmup_ms));
  if (c.alpha) key(out, "alpha", "true");
  key(out, "on_failure", quote(health::to_string(c.on_failure)));
  if (c.slow_start_ms) key(out, "slow_start", seconds(c.slow_start_ms));
  if (!c.notify.empty()) key(out, "notify", quote(c.notify));
}

}  // namespace

std::string write_config_toml(const Config& cfg) {
  std::string out =
      "# vsd configuration, as written by `vsadm --save-toml`.\n"
      "# Every key is described in etc/vsd.toml; check with: vsd --check -c FILE\n\n";
  out += "[director]\n";
  key(out, "queue", std::to_string(cfg.director.queue));
  key(out, "queues", std::to_string(cfg.director.queues));
  key(out, "fail_open", boolean(cfg.director.fail_open));
  key(out, "max_connections", std::to_string(cfg.director.max_connections));
  if (cfg.director.expire_nodest_conn) key(out, "expire_nodest_conn", "true");
  if (cfg.director.expire_quiescent_template) key(out, "expire_quiescent_template", "true");

  out += "\n[timeouts]\n";
  key(out, "tcp", std::to_string(cfg.timeouts.tcp));
  key(out, "tcpfin", std::to_string(cfg.timeouts.tcpfin));
  key(out, "udp", std::to_string(cfg.timeouts.udp));

  out += "\n[control]\n";
  key(out, "socket", quote(cfg.control.socket));

  if (!cfg.metrics.listen.empty()) {
    out += "\n[metrics]\n";
    key(out, "listen", quote(cfg.metrics.listen));
  }

  const ArpConfig arp_defaults;
  if (cfg.arp.garp_repeat != arp_defaults.garp_repeat ||
      cfg.arp.garp_interval_ms != arp_defaults.garp_interval_ms ||
      cfg.arp.hiding != arp_defaults.hiding) {
    out += "\n[arp]\n";
    key(out, "garp_repeat", std::to_string(cfg.arp.garp_repeat));
    key(out, "garp_interval_ms", std::to_string(cfg.arp.garp_interval_ms));
    key(out, "hiding", quote(to_string(cfg.arp.hiding)));
  }

  out += "\n[log]\n";
  key(out, "level", quote(cfg.log.level));

  for (const auto& s : cfg.services) {
    out += "\n[[service]]\n";
    if (s.is_fwmark()) {
      key(out, "fwmark", std::to_string(s.fwmark));
      if (!s.members.empty()) {
        std::string list = "[";
        for (std::size_t i = 0; i < s.members.size(); ++i)
          list += (i ? ", " : "") + quote(s.members[i].to_string());
        key(out, "members", list + "]");
      }
    } else {
      key(out, "address", quote(s.address.to_string()));
    }
    key(out, "protocol", quote(to_string(s.protocol)));
    key(out, "scheduler", quote(s.scheduler));
    if (!s.scheduler_flags.empty()) {
      std::string list = "[";
      for (std::size_t i = 0; i < s.scheduler_flags.size(); ++i)
        list += (i ? ", " : "") + quote(s.scheduler_flags[i]);
      key(out, "scheduler_flags", list + "]");
    }
    if (s.persistent) key(out, "persistent", std::to_string(s.persistent));
    if (s.persistence_netmask) key(out, "persistence_netmask", std::to_string(s.persistence_netmask));
    if (s.ops) key(out, "ops", "true");
    if (s.sorry_server) key(out, "sorry_server", quote(s.sorry_server->to_string()));
    if (s.tunnel_source) key(out, "tunnel_source", quote(s.tunnel_source->to_string()));
    if (s.quorum) {
      key(out, "quorum", std::to_string(s.quorum));
      if (s.hysteresis) key(out, "hysteresis", std::to_string(s.hysteresis));
      if (!s.quorum_up.empty()) key(out, "quorum_up", quote(s.quorum_up));
      if (!s.quorum_down.empty()) key(out, "quorum_down", quote(s.quorum_down));
    }
    for (const auto& r : s.reals) {
      out += "\n[[service.real]]\n";
      key(out, "address", quote(real_address(r.address)));
      key(out, "weight", std::to_string(r.weight));
      key(out, "forward", quote(to_string(r.forward)));
      if (r.upper_threshold) key(out, "upper_threshold", std::to_string(r.upper_threshold));
      if (r.lower_threshold) key(out, "lower_threshold", std::to_string(r.lower_threshold));
      if (r.check) write_check(out, *r.check);
    }
  }
  return out;
}

}  // namespace vsd
