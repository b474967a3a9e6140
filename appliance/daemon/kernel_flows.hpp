// The daemon's side of the kernel fast path (README "The kernel fast
// path"): what the kernel says about the flows it carries reaches the
// engine, and its counters reach the real servers.
//  - NAT flows live in conntrack: its NEW / UPDATE / DESTROY events move
//    the engine's entries (ActiveConn, InActConn, the end of a flow); a
//    dump adopts what vsd does not know (after a restart, lost events).
//  - DR/TUN flows live in the nft flow tables: a sweep every few seconds
//    keeps busy flows' entries alive and adopts unknown ones.
//  - The per-decision nft counters are the kernel-carried packets and
//    bytes of each real server.
// Runs on the control thread; it reaches the engine only through
// `with_engine` (the data path's lock).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "appliance/asio.hpp"
#include "appliance/core/engine.hpp"
#include "appliance/core/kernel_flow.hpp"
#include "appliance/core/kernel_marks.hpp"
#include "nfq/conntrack_message.hpp"
#include "nfq/nft_state_message.hpp"

namespace vsd {

namespace kstate {
class ConntrackEvents;
}

// A conntrack entry as the engine reads it; nullopt-like (l4proto 0) for
// flows of other protocols.
KernelFlow kernel_flow_of(const kstate::ConntrackFlow& ct, const MarkLayout& marks);
KernelFlow kernel_flow_of(const kstate::FlowElement& element, std::uint8_t l4proto,
                          const MarkLayout& marks);

class KernelFlows {
 public:
  using EngineAccess = std::function<void(const std::function<void(Engine&)>&)>;

  KernelFlows(boost::asio::io_context& io, EngineAccess with_engine, std::string table,
              MarkLayout marks);
  ~KernelFlows();

  // Listens to conntrack and adopts every flow the kernel holds now.
  // Throws std::system_error with what to check.
  void start();
  // A full look at the kernel's flows (conntrack and flow tables); returns
  // how many the engine learnt and dropped.
  struct Resync {
    std::size_t flows = 0, adopted = 0, dropped = 0;
  };
  Resync resync();
  // The per-decision counters (in_N, out_N) into the real servers of `snap`.
  void read_counters(const ServiceSnapshot& snap);
  // expire_nodest_conn for the flows the kernel carries: deletes the
  // conntrack entries and flow-table elements of these decisions (kernel
  // marks), so their next packets come to vsd, which has no connection for
  // them and drops them, as IPVS does. Returns how many were deleted.
  std::size_t end_flows(const std::vector<std::uint32_t>& kernel_marks);

  const MarkLayout& marks() const { return marks_; }

 private:
  void arm_events();
  void on_events();
  void arm_sweep();

  boost::asio::io_context& io_;
  EngineAccess with_engine_;
  std::string table_;
  MarkLayout marks_;
  std::unique_ptr<kstate::ConntrackEvents> events_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> events_fd_;
  boost::asio::steady_timer sweep_timer_{io_};
  // Reused per batch of events, so reading them allocates nothing.
  std::vector<std::pair<KernelFlowEvent, KernelFlow>> batch_;
};

}  // namespace vsd
