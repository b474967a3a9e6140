#include "appliance/engine.hpp"

#include <netinet/in.h>

namespace vsd {
namespace {

constexpr std::uint8_t kTcpSyn = 0x02, kTcpAck = 0x10;

bool is_syn(const PacketView& p) { return (p.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn; }

}  // namespace

Engine::Engine(std::uint32_t max_connections, const Clock& clock)
    : clock_(clock), conns_(max_connections) {
  current_ = std::make_shared<const ServiceSnapshot>();
  published_.store(current_);
}

void Engine::publish(std::shared_ptr<const ServiceSnapshot> snapshot) {
  published_.store(std::move(snapshot));
}

void Engine::begin_batch() {
  // Swapping a shared_ptr copy does not allocate; an old snapshot is freed
  // here only when the control plane replaced it (rare).
  auto latest = published_.load(std::memory_order_acquire);
  if (latest != current_) current_ = std::move(latest);
  expire_connections();
}

std::size_t Engine::expire_connections() {
  std::size_t n = conns_.expire(clock_.now_s(), [this](ConnEntry& e) { forget(e); });
  if (n) {
    counters_.conns_expired.add(n);
    conn_count_.store(conns_.size(), std::memory_order_relaxed);
  }
  return n;
}

void Engine::forget(ConnEntry& e) {
  if (!e.dest) return;
  if (e.flags & ConnEntry::kActive)
    e.dest->active_conns.sub(1);
  else
    e.dest->inactive_conns.sub(1);
}

void Engine::set_state(ConnEntry& e, TcpState s, std::uint32_t now) {
  bool active = s == TcpState::established;
  bool was_active = e.flags & ConnEntry::kActive;
  if (e.dest && active != was_active) {
    if (active) {
      e.dest->inactive_conns.sub(1);
      e.dest->active_conns.add(1);
    } else {
      e.dest->active_conns.sub(1);
      e.dest->inactive_conns.add(1);
    }
  }
  e.flags = active ? (e.flags | ConnEntry::kActive) : (e.flags & ~ConnEntry::kActive);
  e.state = s;
  e.timeout = e.proto == IPPROTO_TCP ? current_->timeouts.for_state(s) : current_->timeouts.udp;
  conns_.set_expiry(e, now + e.timeout);
}

PacketResult Engine::process(std::uint8_t* data, std::size_t len, ChecksumState cs) {
  counters_.packets.add(1);
  PacketView pkt;
  ParseStatus st = parse_packet(data, len, pkt);
  if (st == ParseStatus::unsupported_protocol) {
    counters_.unsupported.add(1);
    return {Verdict::accept, false};
  }
  if (st != ParseStatus::ok) {
    counters_.malformed[static_cast<std::size_t>(st) % EngineCounters::kParseStatuses].add(1);
    return {Verdict::drop, false};
  }
  if (pkt.l4proto != IPPROTO_TCP && pkt.l4proto != IPPROTO_UDP) {
    counters_.unsupported.add(1);
    return {Verdict::accept, false};
  }
  const std::uint32_t now = clock_.now_s();
  auto hit = conns_.find(pkt.l4proto, pkt.src, pkt.sport, pkt.dst, pkt.dport);
  if (hit.entry) {
    ConnEntry& e = *hit.entry;
    if (hit.side == ConnTable::Side::server) return from_server(e, pkt, cs, now);
    // A new SYN on a closing entry is a new connection from a reused source
    // port: schedule it afresh at once (no IPVS-style 1 s stall).
    bool reuse = pkt.l4proto == IPPROTO_TCP && is_syn(pkt) &&
                 (e.state == TcpState::time_wait || e.state == TcpState::close);
    if (!reuse) return from_client(e, pkt, cs, now);
    forget(e);
    conns_.erase(e);
    conn_count_.store(conns_.size(), std::memory_order_relaxed);
  }
  const ServiceView* svc = current_->find(pkt.l4proto, pkt.dst, pkt.dport);
  if (!svc) {
    // The reply rules divert everything from a real server's port; without
    // an entry this is the real server's own traffic: let it pass.
    counters_.reply_no_connection.add(1);
    return {Verdict::accept, false};
  }
  return new_flow(*svc, pkt, cs, now);
}

PacketResult Engine::from_client(ConnEntry& e, PacketView& pkt, ChecksumState cs,
                                 std::uint32_t now) {
  TcpState next = e.proto == IPPROTO_TCP
                      ? tcp_next_state(e.state, TcpDirection::input, pkt.tcp_flags)
                      : e.state;
  set_state(e, next, now);
  if (e.dest) {
    e.dest->traffic.inpkts.add(1);
    e.dest->traffic.inbytes.add(pkt.len);
    e.dest->service->traffic.inpkts.add(1);
    e.dest->service->traffic.inbytes.add(pkt.len);
  }
  if (!nat_rewrite_destination(pkt, e.daddr, e.dport, cs)) return {Verdict::drop, false};
  return {Verdict::accept, true};
}

PacketResult Engine::from_server(ConnEntry& e, PacketView& pkt, ChecksumState cs,
                                 std::uint32_t now) {
  TcpState next = e.proto == IPPROTO_TCP
                      ? tcp_next_state(e.state, TcpDirection::output, pkt.tcp_flags)
                      : e.state;
  set_state(e, next, now);
  if (e.dest) {
    e.dest->traffic.outpkts.add(1);
    e.dest->traffic.outbytes.add(pkt.len);
    e.dest->service->traffic.outpkts.add(1);
    e.dest->service->traffic.outbytes.add(pkt.len);
  }
  if (!nat_rewrite_source(pkt, e.vaddr, e.vport, cs)) return {Verdict::drop, false};
  return {Verdict::accept, true};
}

PacketResult Engine::new_flow(const ServiceView& svc, PacketView& pkt, ChecksumState cs,
                              std::uint32_t now) {
  if (pkt.l4proto == IPPROTO_TCP && !is_syn(pkt)) {
    counters_.no_connection.add(1);
    return {Verdict::drop, false};
  }
  int idx = svc.scheduler ? svc.scheduler->schedule(svc.dests, pkt) : -1;
  if (idx < 0) {
    counters_.no_destination.add(1);
    return {Verdict::drop, false};
  }
  const DestView& d = svc.dests[static_cast<std::size_t>(idx)];
  ConnEntry init;
  init.caddr = pkt.src;
  init.cport = pkt.sport;
  init.vaddr = pkt.dst;
  init.vport = pkt.dport;
  init.daddr = d.addr.addr;
  init.dport = d.addr.port;
  init.proto = pkt.l4proto;
  init.fwd = static_cast<std::uint8_t>(d.forward);
  init.dest = d.state;
  ConnEntry* e = conns_.insert(init, now + 1);
  if (!e) {
    if (conns_.size() >= conns_.capacity()) {
      refused_table_full(now);
    } else {
      counters_.key_collision.add(1);
    }
    return {Verdict::drop, false};
  }
  // A new entry counts as inactive until it reaches ESTABLISHED.
  d.state->inactive_conns.add(1);
  d.state->traffic.conns.add(1);
  svc.state->traffic.conns.add(1);
  counters_.conns_created.add(1);
  conn_count_.store(conns_.size(), std::memory_order_relaxed);
  return from_client(*e, pkt, cs, now);
}

void Engine::refused_table_full(std::uint32_t now) {
  counters_.table_full.add(1);
  ++full_since_log_;
  if (on_table_full && (last_full_log_ == 0 || now >= last_full_log_ + 10)) {
    on_table_full(full_since_log_);
    full_since_log_ = 0;
    last_full_log_ = now;
  }
}

}  // namespace vsd
