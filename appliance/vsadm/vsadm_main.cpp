// vsadm: the ipvsadm-compatible CLI. It parses an ipvsadm command line,
// sends vsd one JSON request over the control socket and prints the reply
// in ipvsadm's layouts (or as JSON with --json). Exit codes are ipvsadm's:
// 0 done, 1 listing failed, 2 bad command line or vsd unreachable, 255 the
// change was refused (and the popt-style errors).
//
// -R applies its input all or nothing by default (one edit request);
// --restore-mode=lines is ipvsadm -R: one request per line as it is read.
#include <cstdlib>
#include <exception>
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
using Op = vsd::IpvsadmOp;

constexpr int kRefused = 255;  // ipvsadm returns -1 when IPVS refuses a change

struct Vsadm {
  std::string socket;
  const char* program;
  std::string where;  // "line N: " before messages while -R reads lines

  // Sends the request; a reply without "ok": true is printed as ipvsadm
  // prints IPVS's refusals, and `code` returned.
  std::optional<json> request(const json& req, int code, int& exit_code) const {
    json reply = vsd::control_request(socket, req);
    if (vsd::control::reply_ok(reply)) return reply;
    std::cerr << where << vsd::control::reply_text(reply) << "\n";
    exit_code = code;
    return std::nullopt;
  }

  int edit(const std::vector<vsd::IpvsadmCommand>& cmds) const {
    int rc = 0;
    request(vsd::control::edit_request(cmds), kRefused, rc);
    return rc;
  }

  int list(const vsd::IpvsadmCommand& cmd) const {
    const auto& names = vsd::system_resolver();
    int rc = 0;
    if (cmd.list.connections) return list_connections(cmd, names);
    auto reply = request(vsd::control::simple_request(vsd::control::kStatus), 1, rc);
    if (!reply) return rc;
    if (cmd.json) {
      std::cout << reply->dump(2) << "\n";
      return 0;
    }
    const vsd::control::Status status = vsd::control::status_from_json(*reply);
    if (cmd.op == Op::save) {
      std::cout << vsd::format_save(status, cmd.list.numeric, names);
    } else if (cmd.list.timeout) {
      std::cout << vsd::format_timeout(status);
    } else if (cmd.list.daemon) {
      std::cout << vsd::format_daemons(status);
    } else if (cmd.service) {
      auto text = vsd::format_list_service(status, *cmd.service, cmd.list, names);
      if (!text) {
        std::cerr << where << "No such service\n";
        return 1;
      }
      std::cout << *text;
    } else {
      std::cout << vsd::format_list(status, cmd.list, names);
    }
    return 0;
  }

  // -L -c: printed as vsd streams it, a batch at a time (the table may
  // hold millions of entries; vsadm holds one batch). A listing cut short
  // keeps what was printed, says so on stderr and exits 1.
  int list_connections(const vsd::IpvsadmCommand& cmd, const vsd::NameResolver& system) const {
    using Step = vsd::control::ConnectionsReply::Step;
    // Names asked once each, not once per entry: a reader slow enough to
    // take nothing from vsd for its session timeout (30 s) is cut off.
    const vsd::CachingResolver names(system);
    vsd::control::ConnectionsReply reply;
    vsd::ConnectionsJson as_json;
    std::vector<vsd::control::ConnectionStatus> batch;
    Step step = Step::more;
    auto on_line = [&](const json& line) {
      batch.clear();
      const bool first = !reply.started();
      step = reply.feed(line, batch);
      if (first && reply.started())
        std::cout << (cmd.json ? as_json.begin() : vsd::format_connections_head(cmd.list));
      if (!batch.empty())
        std::cout << (cmd.json ? as_json.add(batch) : vsd::format_connection_rows(batch, cmd.list, names));
      return step == Step::more;
    };
    if (!vsd::control_request_lines(socket, vsd::control::simple_request(vsd::control::kConnections),
                                    on_line))
      step = reply.closed();
    if (cmd.json && reply.started()) std::cout << as_json.end(reply.error());
    std::cout.flush();
    if (step == Step::end) return 0;
    std::cerr << where << reply.error() << "\n";
    return 1;
  }

  // vsadm's own version always; vsd's when it answers, else a note. Exit 0
  // either way: a version query needs no daemon.
  int version(bool as_json) const {
    std::optional<vsd::control::Status> status;
    json reply;
    std::string why;
    try {
      reply = vsd::control_request(socket, vsd::control::simple_request(vsd::control::kStatus));
      if (vsd::control::reply_ok(reply))
        status = vsd::control::status_from_json(reply);
      else
        why = "vsd refused the status request: " + vsd::control::reply_text(reply);
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (as_json) {
      json out = status ? reply : json::object();
      out["vsadm_version"] = vsd::kVersion;
      if (!status) out["error"] = why;
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    std::cout << "vsadm " << vsd::kVersion << " (ipvsadm v1.31 command line, parsed with popt)\n";
    if (status)
      std::cout << "vsd " << status->version << "\nqueue form: " << status->queue_form
                << "\nuptime: " << status->uptime_s << "s\n";
    else
      std::cout << "vsd: not reachable: " << why << "\n";
    return 0;
  }

  // All or nothing: every line parsed first, then one edit request.
  int restore_atomic(bool replace) const {
    std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    auto parsed = vsd::parse_ipvsadm_restore(text, vsd::system_resolver(), program);
    if (!parsed.error.empty()) {
      std::cerr << parsed.error << "\n";
      return parsed.exit_code;
    }
    if (replace) {  // vsadm-restore: the table is replaced in the same batch
      vsd::IpvsadmCommand clear;
      clear.op = Op::clear;
      parsed.commands.insert(parsed.commands.begin(), clear);
      parsed.lines.insert(parsed.lines.begin(), 0);
    }
    if (parsed.commands.empty()) return 0;
    json reply = vsd::control_request(socket, vsd::control::edit_request(parsed.commands));
    if (vsd::control::reply_ok(reply)) return 0;
    std::cerr << vsd::atomic_restore_refusal(parsed, vsd::control::reply_text(reply)) << "\n";
    return kRefused;
  }

  // ipvsadm -R: each line runs as it is read, as if it were a command line
  // of its own. A bad line stops it (exit 2, or 255 for ipvsadm's "Try ..."),
  // the lines before it staying applied; a popt error or a change vsd
  // refuses is printed and the next line read; the exit code is then the
  // last line's (255 refused, 0 done).
  int restore_lines(bool replace) const {
    int result = 0;
    Vsadm line_ctx = *this;
    if (replace) {  // ipvsadm-restore runs `ipvsadm -C` first
      vsd::IpvsadmCommand clear;
      clear.op = Op::clear;
      result = edit({clear});
    }
    std::string line;
    for (int no = 1; std::getline(std::cin, line); ++no) {
      auto words = vsd::ipvsadm_restore_words(line);
      if (words.empty()) continue;
      line_ctx.where = "line " + std::to_string(no) + ": ";
      auto parsed = vsd::parse_ipvsadm_args(words, vsd::system_resolver(), program);
      if (!parsed.command) {
        std::cerr << line_ctx.where << parsed.error << "\n";
        if (!parsed.popt_error) return parsed.exit_code;
        result = kRefused;
        continue;
      }
      const auto& cmd = *parsed.command;
      line_ctx.socket = cmd.socket ? *cmd.socket : socket;
      switch (cmd.op) {
        case Op::restore:  // no -R inside -R
          std::cerr << line_ctx.where << vsd::ipvsadm_try_help(program) << "\n";
          return kRefused;
        case Op::help:
        case Op::version: return line_ctx.run(parsed);  // ipvsadm exits 0 there
        case Op::list:
        case Op::save:
          if (int rc = line_ctx.run(parsed)) return rc;  // ipvsadm exits 1 when a listing fails
          result = 0;
          break;
        default: result = line_ctx.run(parsed);
      }
    }
    return result;
  }

  int run(const vsd::IpvsadmParse& parsed) const {
    const auto& cmd = *parsed.command;
    int rc = 0;
    switch (cmd.op) {
      case Op::list:
      case Op::save: return list(cmd);
      case Op::restore:
        return parsed.restore_mode == vsd::RestoreMode::lines ? restore_lines(parsed.restore_replace)
                                                              : restore_atomic(parsed.restore_replace);
      case Op::zero: request(vsd::control::zero_request(cmd.service), kRefused, rc); return rc;
      case Op::version: return version(cmd.json);
      case Op::garp:
      case Op::reload: {
        json reply = vsd::control_request(
            socket, vsd::control::simple_request(cmd.op == Op::garp ? vsd::control::kGarp
                                                                    : vsd::control::kReload));
        bool ok = vsd::control::reply_ok(reply);
        std::string text = vsd::control::reply_text(reply);
        if (!text.empty()) (ok ? std::cout : std::cerr) << (ok ? "" : where) << text << "\n";
        return ok ? 0 : 1;
      }
      case Op::save_toml: {
        auto reply = request(vsd::control::simple_request(vsd::control::kSaveToml), 1, rc);
        if (reply) std::cout << vsd::control::toml_from_reply(*reply);
        return rc;
      }
      case Op::help: std::cout << vsd::ipvsadm_usage(program); return 0;
      case Op::start_daemon:
      case Op::stop_daemon: {
        auto reply = request(vsd::control::sync_daemon_request(cmd), kRefused, rc);
        if (reply && !vsd::control::reply_text(*reply).empty())
          std::cout << vsd::control::reply_text(*reply) << "\n";
        return rc;
      }
      default: return edit({cmd});  // -A -E -D -C -a -e -d --set
    }
  }
};

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
  Vsadm vsadm{cmd.socket                ? *cmd.socket
              : std::getenv("VSD_SOCKET") ? std::getenv("VSD_SOCKET")
                                          : "/run/vsd/vsd.sock",
              program, ""};
  try {
    return vsadm.run(parsed);
  } catch (const std::exception& e) {
    // ipvsadm exits 2 when it cannot reach IPVS at all.
    std::cerr << "vsadm: " << e.what() << "\n";
    return 2;
  }
}
