// vsadm: the ipvsadm-compatible CLI. It parses an ipvsadm command line,
// sends vsd one JSON request over the control socket and prints the reply
// in ipvsadm's layouts (or as JSON with --json). Exit codes are ipvsadm's:
// 0 done, 1 listing failed, 2 bad command line or vsd unreachable, 255 the
// change was refused (and the popt-style errors).
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "appliance/control/client.hpp"
#include "appliance/control/protocol.hpp"
#include "appliance/vsadm/ipvsadm_args.hpp"
#include "appliance/vsadm/ipvsadm_format.hpp"
#include "appliance/version.hpp"

namespace {

using nlohmann::json;

constexpr int kRefused = 255;  // ipvsadm returns -1 when IPVS refuses a change

// Sends the request; a reply without "ok": true is printed as ipvsadm
// prints IPVS's refusals, and `code` returned.
std::optional<json> request(const std::string& socket, const json& req, int code, int& exit_code) {
  json reply = vsd::control_request(socket, req);
  if (vsd::control::reply_ok(reply)) return reply;
  std::cerr << vsd::control::reply_text(reply) << "\n";
  exit_code = code;
  return std::nullopt;
}

int edit(const std::string& socket, const std::vector<vsd::IpvsadmCommand>& cmds) {
  int rc = 0;
  request(socket, vsd::control::edit_request(cmds), kRefused, rc);
  return rc;
}

int list(const std::string& socket, const vsd::IpvsadmCommand& cmd) {
  const auto& names = vsd::system_resolver();
  int rc = 0;
  if (cmd.list.daemon) return 0;  // no connection-sync daemon in vsd: nothing to list
  if (cmd.list.connections) {
    auto reply = request(socket, vsd::control::simple_request(vsd::control::kConnections), 1, rc);
    if (reply)
      std::cout << (cmd.json ? reply->dump(2) + "\n"
                             : vsd::format_connections(
                                   vsd::control::connections_from_reply(*reply),
                                   cmd.list, names));
    return rc;
  }
  auto reply = request(socket, vsd::control::simple_request(vsd::control::kStatus), 1, rc);
  if (!reply) return rc;
  if (cmd.json) {
    std::cout << reply->dump(2) << "\n";
    return 0;
  }
  const vsd::control::Status status = vsd::control::status_from_json(*reply);
  if (cmd.op == vsd::IpvsadmOp::save) {
    std::cout << vsd::format_save(status, cmd.list.numeric, names);
  } else if (cmd.list.timeout) {
    std::cout << vsd::format_timeout(status);
  } else if (cmd.service) {
    auto text = vsd::format_list_service(status, *cmd.service, cmd.list, names);
    if (!text) {
      std::cerr << "No such service\n";
      return 1;
    }
    std::cout << *text;
  } else {
    std::cout << vsd::format_list(status, cmd.list, names);
  }
  return 0;
}

int run(const std::string& socket, const vsd::IpvsadmCommand& cmd, const char* program) {
  using Op = vsd::IpvsadmOp;
  int rc = 0;
  switch (cmd.op) {
    case Op::list:
    case Op::save: return list(socket, cmd);
    case Op::restore: {
      std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
      auto parsed = vsd::parse_ipvsadm_restore(text, vsd::system_resolver(), program);
      if (!parsed.error.empty()) {
        std::cerr << parsed.error << "\n";
        return parsed.exit_code;
      }
      return parsed.commands.empty() ? 0 : edit(socket, parsed.commands);
    }
    case Op::zero: {
      request(socket, vsd::control::zero_request(cmd.service), kRefused, rc);
      return rc;
    }
    case Op::version: {
      auto st = request(socket, vsd::control::simple_request(vsd::control::kStatus), 1, rc);
      if (!st) return rc;
      if (cmd.json) {
        std::cout << st->dump(2) << "\n";
        return 0;
      }
      const auto status = vsd::control::status_from_json(*st);
      std::cout << "vsadm " << vsd::kVersion << "\nvsd " << status.version
                << "\nqueue form: " << status.queue_form << "\nuptime: " << status.uptime_s << "s\n";
      return 0;
    }
    case Op::garp:
    case Op::reload: {
      json reply = vsd::control_request(
          socket, vsd::control::simple_request(cmd.op == Op::garp ? vsd::control::kGarp : vsd::control::kReload));
      bool ok = vsd::control::reply_ok(reply);
      std::string text = vsd::control::reply_text(reply);
      if (!text.empty()) (ok ? std::cout : std::cerr) << text << "\n";
      return ok ? 0 : 1;
    }
    case Op::save_toml: {
      auto reply = request(socket, vsd::control::simple_request(vsd::control::kSaveToml), 1, rc);
      if (reply) std::cout << vsd::control::toml_from_reply(*reply);
      return rc;
    }
    case Op::help: std::cout << vsd::ipvsadm_usage(program); return 0;
    default: return edit(socket, {cmd});  // -A -E -D -C -a -e -d --set
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* program = argc > 0 ? argv[0] : "vsadm";
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto parsed = vsd::parse_ipvsadm_args(args, vsd::system_resolver(), program);
  if (!parsed.command) {
    std::cerr << parsed.error << "\n";
    return parsed.exit_code;
  }
  const auto& cmd = *parsed.command;
  std::string socket = cmd.socket                ? *cmd.socket
                       : std::getenv("VSD_SOCKET") ? std::getenv("VSD_SOCKET")
                                                   : "/run/vsd/vsd.sock";
  try {
    return run(socket, cmd, program);
  } catch (const std::exception& e) {
    // ipvsadm exits 2 when it cannot reach IPVS at all.
    std::cerr << "vsadm: " << e.what() << "\n";
    return 2;
  }
}
