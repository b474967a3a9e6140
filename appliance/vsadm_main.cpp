// vsadm: the ipvsadm-compatible CLI. It talks to vsd over the control
// socket; listings come back as JSON and are rendered in ipvsadm layouts.
#include <getopt.h>

#include <cstdlib>
#include <iostream>

#include "appliance/control_server.hpp"
#include "appliance/ipvsadm_format.hpp"
#include "appliance/version.hpp"

namespace {

void usage(std::ostream& out) {
  out << "vsadm " << vsd::kVersion << " - ipvsadm-compatible control of vsd\n"
      << "Usage:\n"
      << "  vsadm -L|-l [-n] [--json]   list the virtual server table\n"
      << "  vsadm --reload              re-read vsd's configuration file\n"
      << "  vsadm --version             vsd and vsadm versions, queue form, uptime\n"
      << "Options:\n"
      << "  --socket PATH   control socket (default $VSD_SOCKET or /run/vsd/vsd.sock)\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = std::getenv("VSD_SOCKET") ? std::getenv("VSD_SOCKET") : "/run/vsd/vsd.sock";
  enum Cmd { none, list, reload, version } cmd = none;
  bool json = false;
  enum { opt_socket = 1000, opt_json, opt_reload, opt_version };
  static const option longopts[] = {
      {"list", no_argument, nullptr, 'L'},         {"numeric", no_argument, nullptr, 'n'},
      {"help", no_argument, nullptr, 'h'},         {"socket", required_argument, nullptr, opt_socket},
      {"json", no_argument, nullptr, opt_json},     {"reload", no_argument, nullptr, opt_reload},
      {"version", no_argument, nullptr, opt_version}, {nullptr, 0, nullptr, 0}};
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "Llnh", longopts, nullptr)) != -1) {
    switch (c) {
      case 'L':
      case 'l':
        cmd = list;
        break;
      case 'n':
        break;  // listings are numeric until name lookups land
      case 'h':
        usage(std::cout);
        return 0;
      case opt_socket:
        socket = optarg;
        break;
      case opt_json:
        json = true;
        break;
      case opt_reload:
        cmd = reload;
        break;
      case opt_version:
        cmd = version;
        break;
      default:
        std::cerr << "vsadm: invalid option -- '" << (optopt ? std::string(1, static_cast<char>(optopt)) : std::string(argv[optind - 1])) << "'\n";
        usage(std::cerr);
        return 2;
    }
  }
  if (cmd == none) cmd = list;  // ipvsadm with no command lists
  try {
    if (cmd == reload) {
      auto r = vsd::control_request(socket, {{"cmd", "reload"}});
      std::cout << r.value("message", r.value("error", "")) << "\n";
      return r.value("ok", false) ? 0 : 1;
    }
    auto st = vsd::control_request(socket, {{"cmd", "status"}});
    if (!st.value("ok", false)) {
      std::cerr << "vsadm: " << st.value("error", "vsd refused the request") << "\n";
      return 1;
    }
    if (cmd == version) {
      std::cout << "vsadm " << vsd::kVersion << "\nvsd " << st.value("version", "?")
                << "\nqueue form: " << st.value("queue_form", "?")
                << "\nuptime: " << st.value("uptime_s", 0) << "s\n";
      return 0;
    }
    if (json)
      std::cout << st.dump(2) << "\n";
    else
      std::cout << vsd::format_list(st);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "vsadm: " << e.what() << "\n";
    return 1;
  }
}
