#include "appliance/daemon/bgp_announcer.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "appliance/daemon/bgp_routes.hpp"

extern char** environ;

namespace vsd {

namespace {

std::string errno_text() { return std::strerror(errno); }

// The device's IFF_UP: bird's `check link` wants it up (a TUN device with
// its file open has carrier).
bool set_up(const std::string& name, std::string* error) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return *error = "socket: " + errno_text(), false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  if (ok) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ok = ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  }
  if (!ok) *error = "cannot bring " + name + " up: " + errno_text();
  ::close(s);
  return ok;
}

bool write_atomically(const std::string& path, const std::string& text, std::string* error) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << text;
    if (!f.flush()) return *error = "cannot write " + tmp, false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return *error = "cannot replace " + path + ": " + errno_text(), false;
  return true;
}

}  // namespace

BgpAnnouncer::BgpAnnouncer(BgpConfig bgp) : bgp_(std::move(bgp)) {
  std::string error;
  if (!write_files({}, &error)) throw std::runtime_error("[bgp] routes_file: " + error);
  tun_fd_ = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun_fd_ < 0)
    throw std::runtime_error("[bgp]: cannot open /dev/net/tun for the device " + bgp_.interface + ": " +
                             errno_text() + " (is the tun module loaded?)");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, bgp_.interface.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (::ioctl(tun_fd_, TUNSETIFF, &ifr) != 0) {
    const std::string why = errno_text();
    ::close(tun_fd_);
    tun_fd_ = -1;
    throw std::runtime_error("[bgp] interface " + bgp_.interface + ": cannot create the TUN device: " + why +
                             " (another vsd, or a device of that name, holds it?)");
  }
  if (!set_up(bgp_.interface, &error)) throw std::runtime_error("[bgp] interface: " + error);
  spdlog::info("BGP: VIP routes through {} (alive while vsd runs) in {} and {}; bird at {}", bgp_.interface,
               bgp_.routes_file, routes_file_v6(bgp_.routes_file), bgp_.bird_socket);
}

BgpAnnouncer::~BgpAnnouncer() {
  if (!announced_.empty()) announce({}, "vsd stops");
  if (tun_fd_ >= 0) ::close(tun_fd_);
}

void BgpAnnouncer::announce(const std::vector<IpAddress>& vips, const std::string& why) {
  std::set<IpAddress> next(vips.begin(), vips.end());
  if (next == announced_) return;
  std::string error;
  if (!write_files(next, &error)) {
    spdlog::error("BGP: {}; the announcements stay as they were (check [bgp] routes_file)", error);
    return;
  }
  for (const auto& v : next)
    if (!announced_.count(v))
      spdlog::warn("BGP: announcing VIP {} ({})", v.to_string(),
                   why.empty() ? "a service on it can serve: quorum, or a real server with weight" : why);
  for (const auto& v : announced_)
    if (!next.count(v))
      spdlog::warn("BGP: withdrawing VIP {} ({})", v.to_string(),
                   why.empty() ? "no service on it can serve: quorum lost, or no real server with weight" : why);
  announced_ = std::move(next);
  reload_bird();
}

bool BgpAnnouncer::write_files(const std::set<IpAddress>& vips, std::string* error) const {
  const std::vector<IpAddress> list(vips.begin(), vips.end());
  return write_atomically(bgp_.routes_file, bird_routes(list, false, bgp_.interface), error) &&
         write_atomically(routes_file_v6(bgp_.routes_file), bird_routes(list, true, bgp_.interface), error);
}

// birdc -s SOCKET configure, waited for up to 5 s (bird answers at once).
void BgpAnnouncer::reload_bird() {
  std::vector<std::string> args{"birdc", "-s", bgp_.bird_socket, "configure"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "birdc", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  int status = -1;
  if (rc == 0) {
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid, &status, WNOHANG) == pid) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (i == 499) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
      }
    }
  }
  const bool ok = rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (ok) {
    if (bird_warned_) spdlog::info("BGP: bird at {} reloaded the VIP routes again", bgp_.bird_socket);
    bird_warned_ = false;
  } else if (!bird_warned_) {
    bird_warned_ = true;
    spdlog::warn("BGP: `birdc -s {} configure` failed ({}): bird announces the routes files as they "
                 "are when it next reads them; is bird running with the config of `vsd bgp bird`?",
                 bgp_.bird_socket, rc != 0 ? std::strerror(rc) : "exit status " + std::to_string(status));
  }
}

}  // namespace vsd
