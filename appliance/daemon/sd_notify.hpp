// What vsd tells systemd (sd_notify(3), libsystemd): READY=1 once its rules
// are in and its queues are bound, RELOADING=1 / READY=1 around a reload,
// STOPPING=1 when it starts to shut down, STATUS= lines for `systemctl
// status`, and WATCHDOG=1 (watchdog.hpp decides when). Every call is a
// no-op outside a systemd service (no NOTIFY_SOCKET): in a terminal, in the
// tests, under another supervisor.
#pragma once

#include <chrono>
#include <string>

#include "appliance/config/config.hpp"

namespace vsd::sd {

// The raw message ("READY=1\nSTATUS=..."); false when not sent.
bool notify(const std::string& state);

void ready(const std::string& status);
void reloading(const std::string& status);  // with MONOTONIC_USEC, as systemd >= 253 wants
void stopping(const std::string& status);
void status(const std::string& status);
void watchdog_ping();

// WatchdogSec= as systemd passes it to this process (WATCHDOG_USEC,
// WATCHDOG_PID); 0 when there is no watchdog.
std::chrono::microseconds watchdog_interval();

// STATUS= texts: "director: 2 services, 4 real servers, NFQUEUE 0..1".
std::string director_summary(const Config& config);
// "12:34:56" (local time), for "reloaded at ...".
std::string clock_time();

}  // namespace vsd::sd
