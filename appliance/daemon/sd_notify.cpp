#include "appliance/daemon/sd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <ctime>

namespace vsd::sd {

bool notify(const std::string& state) {
  // unset_environment = 0: the next message needs NOTIFY_SOCKET again.
  // Health-check children inherit it; systemd takes messages from the main
  // process only (NotifyAccess=main, the default).
  return sd_notify(0, state.c_str()) > 0;
}

void ready(const std::string& text) { notify("READY=1\nSTATUS=" + text); }

void reloading(const std::string& text) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ull +
                    static_cast<unsigned long long>(ts.tv_nsec) / 1000ull;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=" + text);
}

void stopping(const std::string& text) { notify("STOPPING=1\nSTATUS=" + text); }

void status(const std::string& text) { notify("STATUS=" + text); }

void watchdog_ping() { notify("WATCHDOG=1"); }

std::chrono::microseconds watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(usec);
}

std::string director_summary(const Config& config) {
  std::size_t reals = 0;
  for (const auto& s : config.services) reals += s.reals.size();
  return "director: " + std::to_string(config.services.size()) + " services, " +
         std::to_string(reals) + " real servers, NFQUEUE " + std::to_string(config.director.queue) +
         ".." + std::to_string(config.director.queue + config.director.queues - 1);
}

std::string clock_time() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

}  // namespace vsd::sd
