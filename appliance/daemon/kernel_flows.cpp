#include "appliance/daemon/kernel_flows.hpp"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "nfq/conntrack_socket.hpp"
#include "nfq/nft_state.hpp"

namespace vsd {

namespace {

constexpr auto kSweepEvery = std::chrono::seconds(5);

// The flow tables of the direct path, as nfq/ruleset names them.
constexpr std::pair<const char*, std::uint8_t> kFlowMaps[] = {{"tcp_flows", IPPROTO_TCP},
                                                              {"udp_flows", IPPROTO_UDP}};

KernelFlowEvent event_of(kstate::ConntrackEvent kind) {
  switch (kind) {
    case kstate::ConntrackEvent::created: return KernelFlowEvent::seen;
    case kstate::ConntrackEvent::updated: return KernelFlowEvent::changed;
    case kstate::ConntrackEvent::destroyed: break;
  }
  return KernelFlowEvent::gone;
}

}  // namespace

KernelFlow kernel_flow_of(const kstate::ConntrackFlow& ct, const MarkLayout& marks) {
  KernelFlow f;
  if (ct.l4proto != IPPROTO_TCP && ct.l4proto != IPPROTO_UDP) return f;
  f.l4proto = ct.l4proto;
  f.client = ct.orig_src.addr;
  f.cport = ct.orig_src.port;
  f.vip = ct.orig_dst.addr;
  f.vport = ct.orig_dst.port;
  f.mark = ct.mark & marks.id;
  if (ct.l4proto == IPPROTO_TCP) f.state = ipvs_state(static_cast<ConntrackTcpState>(ct.tcp_state));
  f.expires_s = ct.timeout_s.value_or(0);
  return f;
}

KernelFlow kernel_flow_of(const kstate::FlowElement& element, std::uint8_t l4proto,
                          const MarkLayout& marks) {
  KernelFlow f;
  f.l4proto = l4proto;
  f.client = element.client.addr;
  f.cport = element.client.port;
  f.vip = element.vip.addr;
  f.vport = element.vip.port;
  f.mark = element.mark & marks.id;
  // The table learns no states: a flow whose next packet vsd still wants
  // (pending) has not been seen established.
  if (l4proto == IPPROTO_TCP && (element.mark & marks.pending)) f.state = TcpState::syn_recv;
  f.expires_s = element.expires_ms ? static_cast<std::uint32_t>(*element.expires_ms / 1000) : 0;
  return f;
}

KernelFlows::KernelFlows(boost::asio::io_context& io, EngineAccess with_engine, std::string table,
                         MarkLayout marks)
    : io_(io), with_engine_(std::move(with_engine)), table_(std::move(table)), marks_(marks) {}

KernelFlows::~KernelFlows() {
  boost::system::error_code ec;
  sweep_timer_.cancel();
  if (events_fd_) events_fd_->close(ec);
}

void KernelFlows::start() {
  // Listen before looking: a flow that starts in between is then reported.
  events_ = std::make_unique<kstate::ConntrackEvents>(marks_.mask);
  events_fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, ::dup(events_->fd()));
  const Resync r = resync();
  if (r.flows)
    spdlog::info("fast path: adopted {} of {} flows the kernel carries (conntrack, flow tables)",
                 r.adopted, r.flows);
  arm_events();
  arm_sweep();
}

KernelFlows::Resync KernelFlows::resync() {
  Resync r;
  with_engine_([](Engine& engine) { engine.kernel_resync_begin(); });
  auto conntrack = kstate::conntrack_dump(marks_.mask);
  std::vector<KernelFlow> direct;
  for (Family family : {Family::v4, Family::v6})
    for (const auto& [map, proto] : kFlowMaps)
      for (const auto& e : kstate::read_flow_map(family, table_, map))
        direct.push_back(kernel_flow_of(e, proto, marks_));
  with_engine_([&](Engine& engine) {
    const std::uint64_t adopted_before = engine.counters().kernel_adopted.get();
    for (const auto& ct : conntrack) {
      KernelFlow f = kernel_flow_of(ct, marks_);
      if (!f.l4proto) continue;
      engine.kernel_flow(KernelFlowEvent::seen, f);
      ++r.flows;
    }
    r.dropped = engine.kernel_resync_end();
    for (const auto& f : direct) engine.kernel_flow(KernelFlowEvent::seen, f);
    r.flows += direct.size();
    r.adopted = engine.counters().kernel_adopted.get() - adopted_before;
  });
  return r;
}

void KernelFlows::arm_events() {
  events_fd_->async_wait(boost::asio::posix::descriptor::wait_read,
                         [this](boost::system::error_code ec) {
                           if (ec) return;
                           on_events();
                           arm_events();
                         });
}

void KernelFlows::on_events() {
  bool lost = false;
  // Bounded rounds: the data path shares the engine's lock.
  for (int round = 0; round < 16; ++round) {
    batch_.clear();
    auto result = events_->poll(
        [this](kstate::ConntrackEvent kind, const kstate::ConntrackFlow& ct) {
          KernelFlow f = kernel_flow_of(ct, marks_);
          if (f.l4proto) batch_.emplace_back(event_of(kind), f);
        },
        256);
    lost |= result.lost;
    if (!batch_.empty())
      with_engine_([this](Engine& engine) {
        for (const auto& [event, flow] : batch_) engine.kernel_flow(event, flow);
      });
    if (result.events < 256) break;
  }
  if (lost) {
    const Resync r = resync();
    spdlog::warn("fast path: conntrack events were lost (receive buffer full); looked again: {} "
                 "flows, {} learnt, {} gone",
                 r.flows, r.adopted, r.dropped);
  }
}

void KernelFlows::arm_sweep() {
  sweep_timer_.expires_after(kSweepEvery);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    try {
      std::vector<KernelFlow> flows;
      for (Family family : {Family::v4, Family::v6})
        for (const auto& [map, proto] : kFlowMaps)
          for (const auto& e : kstate::read_flow_map(family, table_, map))
            flows.push_back(kernel_flow_of(e, proto, marks_));
      if (!flows.empty())
        with_engine_([&](Engine& engine) {
          for (const auto& f : flows) engine.kernel_flow(KernelFlowEvent::seen, f);
        });
    } catch (const std::exception& e) {
      spdlog::warn("fast path: cannot read the DR/TUN flow tables: {}", e.what());
    }
    arm_sweep();
  });
}

void KernelFlows::read_counters(const ServiceSnapshot& snap) {
  std::vector<kstate::NftCounter> counters;
  try {
    counters = kstate::read_counters(table_);
  } catch (const std::exception& e) {
    spdlog::warn("fast path: cannot read the kernel's counters: {}", e.what());
    return;
  }
  // Both families' tables hold in_N / out_N; a decision is in one of them.
  for (const auto& s : snap.services)
    for (const auto& d : s.dests) {
      if (!d.kernel_mark) continue;
      const std::string n = std::to_string(marks_.decision_of(d.kernel_mark));
      std::uint64_t in_p = 0, in_b = 0, out_p = 0, out_b = 0;
      for (const auto& c : counters) {
        if (c.name == "in_" + n) {
          in_p += c.packets;
          in_b += c.bytes;
        } else if (c.name == "out_" + n) {
          out_p += c.packets;
          out_b += c.bytes;
        }
      }
      auto& k = d.state->kernel;
      k.inpkts.value.store(in_p, std::memory_order_relaxed);
      k.inbytes.value.store(in_b, std::memory_order_relaxed);
      k.outpkts.value.store(out_p, std::memory_order_relaxed);
      k.outbytes.value.store(out_b, std::memory_order_relaxed);
    }
}

std::size_t KernelFlows::end_flows(const std::vector<std::uint32_t>& kernel_marks) {
  std::size_t n = 0;
  for (std::uint32_t mark : kernel_marks) {
    const auto flows = kstate::conntrack_dump(kstate::MarkMatch{mark & marks_.id, marks_.id});
    n += kstate::conntrack_delete(flows);
  }
  for (Family family : {Family::v4, Family::v6})
    for (const auto& [map, proto] : kFlowMaps) {
      std::vector<kstate::FlowKey> keys;
      for (const auto& e : kstate::read_flow_map(family, table_, map))
        for (std::uint32_t mark : kernel_marks)
          if ((e.mark & marks_.id) == (mark & marks_.id)) keys.push_back(e.key());
      if (keys.empty()) continue;
      kstate::delete_flows(family, table_, map, keys);
      n += keys.size();
    }
  return n;
}

}  // namespace vsd
