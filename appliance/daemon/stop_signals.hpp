// vsd's signals from its first instruction. SIGHUP's default action ends a
// process; systemd does not restart a unit that SIGHUP ended, and a vsd
// ended half-way through its start leaves tables and sysctls behind. So
// main() blocks SIGHUP, SIGTERM and SIGINT before anything else (every
// thread started later inherits the mask, so none of them is ever picked
// to run a handler), and each role unblocks them on the main thread only
// once its boost::asio::signal_set handles them: a SIGHUP during the start
// is then a reload, a SIGTERM a clean stop. SIGPIPE is ignored for good:
// a vsadm that goes away mid-reply is an EPIPE, not vsd's end. Children
// (health checks, notify scripts) reset both (health/child_process.cpp).
#pragma once

namespace vsd {

void defer_stop_signals();    // first thing in main()
void deliver_stop_signals();  // once a signal_set is armed, on the main thread
void default_stop_signals();  // the one-shot commands (--check, import): as a plain program

}  // namespace vsd
