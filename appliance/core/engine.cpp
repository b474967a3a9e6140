#include "appliance/core/engine.hpp"

#include <netinet/in.h>

#include "appliance/core/template_key.hpp"
#include "forwarders/icmp_builder.hpp"
#include "forwarders/icmp_nat.hpp"
#include "forwarders/tun_rewriter.hpp"

namespace vsd {
namespace {

constexpr std::uint8_t kTcpSyn = 0x02, kTcpAck = 0x10;

bool is_syn(const PacketView& p) { return (p.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn; }

std::uint64_t total_conns(const DestState& d) { return d.active_conns.get() + d.inactive_conns.get(); }

// IPVS ip_vs_bind_dest / ip_vs_unbind_dest overload rules.
void check_overload_on_bind(DestState& d) {
  std::uint32_t upper = d.upper_threshold.load(std::memory_order_relaxed);
  if (upper && total_conns(d) >= upper) d.overloaded.store(true, std::memory_order_relaxed);
}

void check_overload_on_unbind(DestState& d) {
  if (!d.overloaded.load(std::memory_order_relaxed)) return;
  std::uint32_t upper = d.upper_threshold.load(std::memory_order_relaxed);
  std::uint32_t lower = d.lower_threshold.load(std::memory_order_relaxed);
  std::uint64_t total = total_conns(d);
  bool clear = lower ? total < lower : (upper ? total * 4 < std::uint64_t{upper} * 3 : true);
  if (clear) d.overloaded.store(false, std::memory_order_relaxed);
}

}  // namespace

Engine::Engine(std::uint32_t max_connections, const Clock& clock)
    : clock_(clock), conns_(max_connections), tx_buf_(new std::uint8_t[kTxBufSize]) {
  current_ = std::make_shared<const ServiceSnapshot>();
  published_.store(current_);
}

void Engine::publish(std::shared_ptr<const ServiceSnapshot> snapshot) {
  published_.store(std::move(snapshot));
}

void Engine::begin_batch() {
  follow_published();
  expire_connections();
  defend(clock_.now_s());
}

void Engine::follow_published() {
  // Swapping a shared_ptr copy does not allocate; an old snapshot is freed
  // here only when the control plane replaced it (rare).
  auto latest = published_.load(std::memory_order_acquire);
  if (latest != current_) adopt_snapshot(std::move(latest));
}

void Engine::adopt_snapshot(std::shared_ptr<const ServiceSnapshot> latest) {
  // Real servers kept across the change share their state object: mark all
  // old ones removed, then clear the mark on those still present.
  for (const auto& svc : current_->services)
    for (const auto& d : svc.dests) d.state->removed.store(true, std::memory_order_relaxed);
  for (const auto& svc : latest->services)
    for (const auto& d : svc.dests) {
      DestState& st = *d.state;
      st.removed.store(false, std::memory_order_relaxed);
      st.egress = d.egress;
      st.kernel_mark = d.kernel_mark;
      // New thresholds: judge the overload afresh. Unchanged ones keep the
      // hysteresis state (snapshots also change for weights alone).
      if (st.upper_threshold.load(std::memory_order_relaxed) != d.upper_threshold ||
          st.lower_threshold.load(std::memory_order_relaxed) != d.lower_threshold) {
        st.upper_threshold.store(d.upper_threshold, std::memory_order_relaxed);
        st.lower_threshold.store(d.lower_threshold, std::memory_order_relaxed);
        st.overloaded.store(d.upper_threshold && total_conns(st) >= d.upper_threshold,
                            std::memory_order_relaxed);
      }
    }
  // A full table scan only when a real server really went away (snapshots
  // also change for weights, e.g. four times a second during a slow start).
  bool any_removed = false;
  for (const auto& svc : current_->services)
    for (const auto& d : svc.dests) any_removed |= d.state->removed.load(std::memory_order_relaxed);
  current_ = std::move(latest);
  if (any_removed && current_->expire_nodest_conn) flush_removed_dests();
}

void Engine::flush_removed_dests() {
  // Runs once per snapshot change, not per packet: a full scan is fine.
  // Templates are left to expire: a removed server's template is invalid at
  // its next lookup anyway, and it may still control connections.
  std::uint64_t n = 0;
  conns_.for_each_mutable([&](ConnEntry& e) {
    if (e.is_template() || !e.dest || !e.dest->removed.load(std::memory_order_relaxed)) return;
    forget(e);
    conns_.erase(e);
    ++n;
  });
  if (n) {
    counters_.nodest_flushed.add(n);
    conn_count_.store(conns_.size(), std::memory_order_relaxed);
  }
}

std::size_t Engine::expire_connections() {
  const std::uint32_t now = clock_.now_s();
  std::size_t n = conns_.expire(now, [this, now](ConnEntry& e) {
    // IPVS: a template does not expire while it controls connections; an
    // invalidated (unhashed) one goes within a second of its last one.
    if (e.is_template() && e.control > 0) {
      e.expires = now + ((e.flags & ConnEntry::kUnhashed) ? 1 : e.timeout);
      return false;
    }
    // A NAT flow the kernel carries ends when conntrack says so.
    if (e.flags & ConnEntry::kKernelHeld) {
      e.expires = now + std::max<std::uint32_t>(e.timeout, 1);
      return false;
    }
    // secure_tcp's short timeout for half-open states (no default timeout
    // is that short, and these are not configurable).
    if (e.embryonic() && e.proto == IPPROTO_TCP && e.timeout == kSecureEmbryonicTimeout &&
        (e.state == TcpState::syn_recv || e.state == TcpState::synack))
      counters_.secure_tcp_expired.add(1);
    forget(e);
    return true;
  });
  if (n) {
    counters_.conns_expired.add(n);
    conn_count_.store(conns_.size(), std::memory_order_relaxed);
  }
  return n;
}

void Engine::forget(ConnEntry& e) {
  if (e.control != ConnEntry::kNoControl && !e.is_template()) {
    ConnEntry& t = conns_.at(e.control);
    if (t.control > 0) --t.control;
    e.control = ConnEntry::kNoControl;
  }
  embryo_unlink(e);
  if (!e.dest) return;
  e.dest->service->table_entries.sub(1);
  if (e.is_template()) {
    e.dest->persistent_conns.sub(1);
    return;
  }
  if (e.flags & ConnEntry::kActive)
    e.dest->active_conns.sub(1);
  else
    e.dest->inactive_conns.sub(1);
  check_overload_on_unbind(*e.dest);
}

void Engine::remove(ConnEntry& e) {
  forget(e);
  conns_.erase(e);
  conn_count_.store(conns_.size(), std::memory_order_relaxed);
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
  const bool changed = e.state != s;
  e.state = s;
  if (e.proto == IPPROTO_TCP) {
    e.timeout = current_->timeouts.for_state(s);
    if (defence_.secure_tcp && (s == TcpState::syn_recv || s == TcpState::synack))
      e.timeout = std::min(e.timeout, kSecureEmbryonicTimeout);
    // A handshake seen through: never evicted from now on. A NAT flow the
    // kernel carries has it judged by conntrack (kernel_flow): what vsd
    // sees of it is its first packet and packets conntrack did not take,
    // such as a spoofed client's ACK to a SYN-ACK it never saw, which
    // IPVS's table alone would call ESTABLISHED.
    if (active && !(e.flags & ConnEntry::kKernelHeld)) embryo_unlink(e);
  } else {
    e.timeout = current_->timeouts.udp;
  }
  conns_.set_expiry(e, now + e.timeout);
  if (changed) sync_note(e, now);
}

PacketResult Engine::process(std::uint8_t* data, std::size_t len, ChecksumState cs,
                             std::uint32_t mark, std::span<std::uint8_t> tx) {
  tx_ = tx.empty() ? std::span<std::uint8_t>(tx_buf_.get(), kTxBufSize) : tx;
  PacketResult r = classify(data, len, cs, mark);
  r.mark = r.kernel_bits ? current_->marks.with(mark, r.kernel_bits) : mark;
  return r;
}

PacketResult Engine::classify(std::uint8_t* data, std::size_t len, ChecksumState cs,
                              std::uint32_t mark) {
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
  if (pkt.l4proto == IPPROTO_ICMP || pkt.l4proto == IPPROTO_ICMPV6) return icmp(pkt);
  if (pkt.l4proto != IPPROTO_TCP && pkt.l4proto != IPPROTO_UDP) {
    counters_.unsupported.add(1);
    return {Verdict::accept, false};
  }
  const std::uint32_t now = clock_.now_s();
  auto hit = conns_.find(pkt.l4proto, pkt.src, pkt.sport, pkt.dst, pkt.dport);
  bool reused = false;
  if (hit.entry) {
    ConnEntry& e = *hit.entry;
    if (hit.side == ConnTable::Side::server) return from_server(e, pkt, cs, now);
    // A new SYN on a closing entry is a new connection from a reused source
    // port: schedule it afresh at once (no IPVS-style 1 s stall).
    bool reuse = pkt.l4proto == IPPROTO_TCP && is_syn(pkt) &&
                 (e.state == TcpState::time_wait || e.state == TcpState::close);
    // A kernel flow of a real server that went away (expire_nodest_conn
    // off) lost its kernel destination: vsd forwards it itself, as IPVS
    // keeps forwarding to a removed server's connections. The packet's mark
    // says so even before this engine's snapshot marks the server removed
    // (the ruleset may be committed first): accepting it would hand it to
    // the local stack, which resets the connection.
    const bool kernel = (e.flags & ConnEntry::kKernel) && e.dest &&
                        !e.dest->removed.load(std::memory_order_relaxed) &&
                        !current_->marks.without_kernel_destination(mark);
    if (!reuse) {
      // DR/TUN UDP: no reply comes by; a second datagram is what shows a
      // flow that is more than a (possibly spoofed) single packet.
      if (e.proto == IPPROTO_UDP && static_cast<ForwardMethod>(e.fwd) != ForwardMethod::nat) embryo_unlink(e);
      return kernel ? kernel_carries(e, pkt, now) : from_client(e, pkt, cs, now);
    }
    remove(e);
    reused = true;
  }
  const ServiceView* svc = current_->find(pkt.l4proto, pkt.dst, pkt.dport, mark);
  if (!svc) {
    if (const OpsReply* r = current_->find_ops_reply(pkt.l4proto, pkt.src, pkt.sport))
      return ops_reply(*r, pkt, cs);
    // The reply rules divert everything from a real server's port; without
    // an entry this is the real server's own traffic: let it pass.
    counters_.reply_no_connection.add(1);
    return {Verdict::accept, false};
  }
  return new_flow(*svc, pkt, cs, now, reused);
}

PacketResult Engine::ops_reply(const OpsReply& r, PacketView& pkt, ChecksumState cs) {
  DestState& d = *r.dest->state;
  d.count_out(pkt.len);
  if (!nat_rewrite_source(pkt, r.vip.addr, r.vip.port, cs)) return {Verdict::drop, false};
  return {Verdict::accept, true};
}

const DestView* Engine::persistent_dest(const ServiceView& svc, const PacketView& pkt,
                                        std::uint32_t now, bool reused_port, ConnEntry** tmpl) {
  *tmpl = nullptr;
  const TemplateKey k = template_key(svc, pkt);
  auto hit = conns_.find(k.proto, k.caddr, 0, k.vaddr, k.vport);
  if (hit.entry && hit.entry->is_template() && hit.side == ConnTable::Side::client) {
    ConnEntry& t = *hit.entry;
    // IPVS ip_vs_check_template: the server must still be in the service;
    // a quiesced one only with expire_quiescent_template off. A reused
    // source port is never sent to a quiesced server.
    const DestView* d = svc.dest(t.daddr, t.dport);
    bool valid = d && !(d->weight == 0 && (current_->expire_quiescent_template || reused_port));
    if (valid) {
      conns_.set_expiry(t, now + t.timeout);  // each use restarts the template's time
      *tmpl = &t;
      return d;
    }
    conns_.unhash(t);  // lives on, unfindable, while it controls connections
    // The count follows at once: the flow may yet be refused (no real
    // server) and leave no other trace.
    if (t.control == 0) remove(t);
  }
  int idx = svc.scheduler ? svc.scheduler->schedule(svc.dests, pkt) : -1;
  if (idx < 0) return nullptr;
  const DestView* d = &svc.dests[static_cast<std::size_t>(idx)];
  *tmpl = new_template(svc, k.proto, k.caddr, k.vaddr, k.vport, *d, now);
  return d;
}

ConnEntry* Engine::new_template(const ServiceView& svc, std::uint8_t proto, const IpAddress& caddr,
                                const IpAddress& vaddr, std::uint16_t vport, const DestView& d,
                                std::uint32_t now) {
  ConnEntry init;
  init.proto = proto;
  init.caddr = caddr;
  init.vaddr = vaddr;
  init.vport = vport;
  init.daddr = d.addr.addr;
  init.dport = d.addr.port;
  init.fwd = static_cast<std::uint8_t>(d.forward);
  init.flags = ConnEntry::kTemplate | ConnEntry::kClientKeyOnly;
  init.control = 0;
  init.timeout = svc.persistent;
  init.dest = d.state;
  // A full table leaves the connection without a template: it still works,
  // only the next one may go elsewhere.
  // (A refusal is counted for the connection, not for its template too.)
  ConnEntry* t = make_room(svc, nullptr, now, false) ? conns_.insert(init, now + svc.persistent) : nullptr;
  if (t) {
    d.state->service->table_entries.add(1);
    d.state->persistent_conns.add(1);
    counters_.templates_created.add(1);
    sync_note(*t, now);
    // Counted now: the connection it is made for may yet be refused.
    conn_count_.store(conns_.size(), std::memory_order_relaxed);
  }
  return t;
}

PacketResult Engine::from_client(ConnEntry& e, PacketView& pkt, ChecksumState cs,
                                 std::uint32_t now) {
  const auto fwd = static_cast<ForwardMethod>(e.fwd);
  // DR/TUN replies bypass the director: IPVS's input-only state table.
  const TcpDirection dir = fwd == ForwardMethod::nat ? TcpDirection::input : TcpDirection::input_only;
  TcpState next =
      e.proto == IPPROTO_TCP ? tcp_next_state(e.state, dir, pkt.tcp_flags, defence_.secure_tcp) : e.state;
  set_state(e, next, now);
  if (e.dest) e.dest->count_in(pkt.len);
  return to_real_server(fwd, e.dest.get(), e.daddr, e.dport, pkt, cs);
}

PacketResult Engine::to_real_server(ForwardMethod fwd, const DestState* dest, const IpAddress& rip,
                                    std::uint16_t rport, PacketView& pkt, ChecksumState cs) {
  if (fwd == ForwardMethod::nat || !dest) {
    if (!nat_rewrite_destination(pkt, rip, rport, cs)) return {Verdict::drop, false};
    return {Verdict::accept, true};
  }
  // vsd sends the packet itself: no NIC will finish a partial checksum.
  if (cs == ChecksumState::not_ready) complete_l4_checksum(pkt);
  return fwd == ForwardMethod::tun ? tunnel(dest->egress, rip, pkt, cs)
                                   : direct_route(dest->egress, rip, pkt, cs);
}

// GCRA: one answer per millisecond on average, up to 50 at once.
bool Engine::icmp_answer_allowed() {
  constexpr std::uint64_t kInterval = 1, kBurst = 50;
  const std::uint64_t now = clock_.now_ms();
  const std::uint64_t due = std::max(icmp_due_ms_, now);
  if (due - now >= kInterval * kBurst) {
    counters_.icmp_rate_limited.add(1);
    return false;
  }
  icmp_due_ms_ = due + kInterval;
  return true;
}

PacketResult Engine::send_ip(std::size_t len, const IpAddress& dst, bool v6) {
  PacketResult r{Verdict::drop, false};
  r.transmit = Transmit::ip;
  r.tx_data = tx_.data();
  r.tx_len = len;
  r.tx_dst = dst;
  r.tx_v6 = v6;
  return r;
}

PacketResult Engine::tunnel(const DestEgress& eg, const IpAddress& rip, PacketView& pkt,
                            ChecksumState) {
  if (eg.tunnel_source.is_unspecified()) {
    counters_.no_route.add(1);
    return {Verdict::drop, false};
  }
  TunParams tp;
  tp.outer_src = eg.tunnel_source;
  tp.outer_dst = rip;
  tp.ip_id = ++ip_id_;
  tp.mtu = eg.mtu;
  // The kernel does not forward (and so does not decrement) what vsd sends.
  tp.decrement_inner_ttl = true;
  std::span<std::uint8_t> out = tx_;
  TunResult t = tun_encapsulate({pkt.data, pkt.len}, out, tp);
  IcmpBuildResult reply;
  switch (t.status) {
    case TunStatus::ok:
      counters_.tunneled.add(1);
      return send_ip(t.len, rip, !rip.is_v4());
    case TunStatus::too_big:
      // As IPVS: tell the client the MTU left inside the tunnel.
      counters_.tun_too_big.add(1);
      if (!icmp_answer_allowed()) return {Verdict::drop, false};
      reply = icmp_build_too_big({pkt.data, pkt.len}, t.mtu, out, {++ip_id_, 64});
      break;
    case TunStatus::ttl_expired:
      counters_.tun_ttl_expired.add(1);
      if (!icmp_answer_allowed()) return {Verdict::drop, false};
      reply = icmp_build_time_exceeded({pkt.data, pkt.len}, out, {++ip_id_, 64});
      break;
    default:
      counters_.tun_failed.add(1);
      return {Verdict::drop, false};
  }
  if (reply.status != IcmpBuildStatus::ok) return {Verdict::drop, false};
  return send_ip(reply.len, pkt.src, pkt.v6());
}

PacketResult Engine::direct_route(const DestEgress& eg, const IpAddress& rip, PacketView& pkt,
                                  ChecksumState) {
  if (!eg.mac_known || eg.ifindex <= 0) {
    counters_.no_route.add(1);
    return {Verdict::drop, false};
  }
  if (eg.mtu != 0 && pkt.len > eg.mtu) {
    // The real server's segment has a smaller MTU than the client's side
    // and a packet socket does not fragment. As IPVS: a packet that must
    // not be fragmented (DF, or IPv6) gets the sender an ICMP answer with
    // the MTU; either way it is dropped.
    counters_.dr_too_big.add(1);
    const bool df = pkt.v6() || (pkt.data[6] & 0x40) != 0;
    if (!df || !icmp_answer_allowed()) return {Verdict::drop, false};
    std::span<std::uint8_t> out = tx_;
    IcmpBuildResult reply = icmp_build_too_big({pkt.data, pkt.len}, eg.mtu, out, {++ip_id_, 64});
    if (reply.status != IcmpBuildStatus::ok) return {Verdict::drop, false};
    return send_ip(reply.len, pkt.src, pkt.v6());
  }
  counters_.direct_routed.add(1);
  PacketResult r{Verdict::drop, false};
  r.transmit = Transmit::frame;
  r.tx_data = pkt.data;
  r.tx_len = pkt.len;
  r.tx_v6 = pkt.v6();
  r.tx_ifindex = eg.ifindex;
  r.tx_mac = eg.mac;
  r.tx_dst = rip;
  return r;
}

PacketResult Engine::icmp(PacketView& pkt) {
  IcmpErrorView iv;
  if (icmp_error_parse(pkt, iv) != IcmpNatStatus::ok) {
    counters_.icmp_passed.add(1);
    return {Verdict::accept, false};
  }
  // The quote is a packet that went iv.src -> iv.dst; its connection is
  // found by the reverse: a real server's error quotes client -> RIP (the
  // server-side key reversed), a client's quotes VIP -> client.
  auto hit = conns_.find(iv.proto, iv.dst, iv.dport, iv.src, iv.sport);
  if (!hit.entry || hit.entry->is_template()) {
    counters_.icmp_passed.add(1);
    return {Verdict::accept, false};
  }
  ConnEntry& e = *hit.entry;
  const auto fwd = static_cast<ForwardMethod>(e.fwd);
  if (hit.side == ConnTable::Side::server) {
    if (fwd != ForwardMethod::nat) {
      counters_.icmp_passed.add(1);
      return {Verdict::accept, false};
    }
    if (icmp_nat_from_real_server(pkt, e.vaddr, e.vport) != IcmpNatStatus::ok)
      return {Verdict::drop, false};
    counters_.icmp_translated.add(1);
    return {Verdict::accept, true};
  }
  // From the client's side (e.g. frag needed about a reply): to the real
  // server that sent it, by the connection's method.
  counters_.icmp_translated.add(1);
  if (fwd == ForwardMethod::nat) {
    if (icmp_nat_to_real_server(pkt, e.daddr, e.dport) != IcmpNatStatus::ok)
      return {Verdict::drop, false};
    return {Verdict::accept, true};
  }
  return to_real_server(fwd, e.dest.get(), e.daddr, e.dport, pkt, ChecksumState::complete);
}

PacketResult Engine::from_server(ConnEntry& e, PacketView& pkt, ChecksumState cs,
                                 std::uint32_t now) {
  TcpState next = e.proto == IPPROTO_TCP
                      ? tcp_next_state(e.state, TcpDirection::output, pkt.tcp_flags, defence_.secure_tcp)
                      : e.state;
  set_state(e, next, now);
  if (e.proto == IPPROTO_UDP) embryo_unlink(e);  // a reply: a real flow
  if (e.dest) e.dest->count_out(pkt.len);
  if (!nat_rewrite_source(pkt, e.vaddr, e.vport, cs)) return {Verdict::drop, false};
  return {Verdict::accept, true};
}

PacketResult Engine::new_flow(const ServiceView& svc, PacketView& pkt, ChecksumState cs,
                              std::uint32_t now, bool reused_port) {
  const bool mid_stream = pkt.l4proto == IPPROTO_TCP && !is_syn(pkt);
  if (mid_stream) {
    // IPVS without sloppy_tcp: only a SYN starts a connection. A RST
    // never does, sloppy or not (it would only make an entry to drop).
    if (!svc.sloppy_tcp || (pkt.tcp_flags & 0x04)) {
      counters_.no_connection.add(1);
      return {Verdict::drop, false};
    }
  }
  // drop_packet (IPVS's ip_vs_todrop): before any scheduling work.
  if (drop_new_flow()) return {Verdict::drop, false};
  ConnEntry* tmpl = nullptr;
  const DestView* dp = nullptr;
  if (svc.persistent) {
    dp = persistent_dest(svc, pkt, now, reused_port, &tmpl);
  } else {
    int idx = svc.scheduler ? svc.scheduler->schedule(svc.dests, pkt) : -1;
    if (idx >= 0) dp = &svc.dests[static_cast<std::size_t>(idx)];
  }
  if (!dp) {
    counters_.no_destination.add(1);
    return {Verdict::drop, false};
  }
  const DestView& d = *dp;
  // Port 0 on a real server of a port-0 or fwmark service: the packet's port.
  const std::uint16_t dport = d.addr.port ? d.addr.port : pkt.dport;
  if (svc.ops) {
    // One-packet scheduling: no entry; the reply finds its VIP by the
    // real server's address (OpsReply).
    counters_.ops_datagrams.add(1);
    d.state->count_connection();
    d.state->count_in(pkt.len);
    return to_real_server(d.forward, d.state.get(), d.addr.addr, dport, pkt, cs);
  }
  ConnEntry* e = add_connection(svc, d, pkt.l4proto, pkt.src, pkt.sport, pkt.dst, pkt.dport, dport, tmpl, now);
  // Refused: a template made for it stays, as in IPVS (its timer ends it).
  if (!e) return {Verdict::drop, false};
  if (mid_stream) {
    // A flow another director began: established, whatever IPVS's table
    // says of a first packet without SYN (CLOSE); its own packets move it on.
    counters_.sloppy_adopted.add(1);
    set_state(*e, TcpState::established, now);
  }
  d.state->count_connection();
  if (e->flags & ConnEntry::kKernel) return kernel_carries(*e, pkt, now);
  return from_client(*e, pkt, cs, now);
}

ConnEntry* Engine::add_connection(const ServiceView& svc, const DestView& d, std::uint8_t proto,
                                  const IpAddress& client,
                                  std::uint16_t cport, const IpAddress& vip, std::uint16_t vport,
                                  std::uint16_t dport, ConnEntry* tmpl, std::uint32_t now) {
  ConnEntry init;
  init.caddr = client;
  init.cport = cport;
  init.vaddr = vip;
  init.vport = vport;
  init.daddr = d.addr.addr;
  init.dport = dport;
  init.proto = proto;
  init.fwd = static_cast<std::uint8_t>(d.forward);
  init.dest = d.state;
  if (d.kernel_mark && current_->marks.enabled()) {
    // Seen: a resync running while it is made must not drop it.
    init.flags |= ConnEntry::kKernel | ConnEntry::kKernelSeen;
    // NAT: vsd sees none of the later packets; conntrack says when it ends.
    if (d.forward == ForwardMethod::nat) init.flags |= ConnEntry::kKernelHeld;
  }
  if (!make_room(svc, tmpl, now)) return nullptr;
  ConnEntry* e = conns_.insert(init, now + 1);
  if (!e) {
    if (conns_.size() >= conns_.capacity()) {
      refused_table_full(now);
    } else {
      counters_.key_collision.add(1);
    }
    return nullptr;
  }
  if (tmpl) {
    e->control = conns_.index_of(*tmpl);
    ++tmpl->control;
  }
  d.state->service->table_entries.add(1);
  embryo_link(*e);  // until its handshake (TCP) or reply (UDP) is seen
  // A new entry counts as inactive until it reaches ESTABLISHED.
  d.state->inactive_conns.add(1);
  if (proto != IPPROTO_TCP) sync_note(*e, now);  // TCP: at its first state
  check_overload_on_bind(*d.state);
  counters_.conns_created.add(1);
  conn_count_.store(conns_.size(), std::memory_order_relaxed);
  return e;
}

std::uint32_t Engine::kernel_bits(const ConnEntry& e) const {
  const MarkLayout& m = current_->marks;
  const std::uint32_t id = e.dest ? e.dest->kernel_mark : 0;
  if (static_cast<ForwardMethod>(e.fwd) == ForwardMethod::nat) return id;
  // DR/TUN: the flow table forwards it; until ESTABLISHED vsd wants the
  // next packet too (IPVS's input-only table moves on the client's ACK).
  const bool pending = e.proto == IPPROTO_TCP && e.state != TcpState::established &&
                       e.state != TcpState::fin_wait && e.state != TcpState::close &&
                       e.state != TcpState::time_wait;
  return m.direct | id | (pending ? m.pending : 0);
}

PacketResult Engine::kernel_carries(ConnEntry& e, const PacketView& pkt, std::uint32_t now) {
  const auto fwd = static_cast<ForwardMethod>(e.fwd);
  // The first packet, a packet that raced it, or (DR/TUN) the second
  // packet and FIN/RST: vsd follows the state, the kernel forwards.
  const TcpDirection dir = fwd == ForwardMethod::nat ? TcpDirection::input : TcpDirection::input_only;
  if (e.proto == IPPROTO_TCP)
    set_state(e, tcp_next_state(e.state, dir, pkt.tcp_flags, defence_.secure_tcp), now);
  else set_state(e, e.state, now);
  counters_.kernel_decided.add(1);
  PacketResult r{Verdict::accept, false};
  r.kernel_bits = kernel_bits(e);
  return r;
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

// --- flows the kernel carries (fast path) ---

const DestView* Engine::kernel_dest(std::uint32_t mark, const ServiceView** svc) const {
  const std::uint32_t id = mark & current_->marks.id;
  if (!id) return nullptr;
  for (const auto& s : current_->services)
    for (const auto& d : s.dests)
      if (d.kernel_mark == id) {
        *svc = &s;
        return &d;
      }
  return nullptr;
}

void Engine::kernel_flow(KernelFlowEvent event, const KernelFlow& f) {
  follow_published();  // the kernel's reports may come before any packet
  const std::uint32_t now = clock_.now_s();
  auto hit = conns_.find(f.l4proto, f.client, f.cport, f.vip, f.vport);
  ConnEntry* e = hit.entry && hit.side == ConnTable::Side::client && !hit.entry->is_template()
                     ? hit.entry
                     : nullptr;
  if (event == KernelFlowEvent::gone) {
    if (!e || !(e->flags & ConnEntry::kKernel)) return;
    // A SYN on a closing flow's port: conntrack replaced the old flow and
    // vsd has already scheduled the new one; the old one's end is not its.
    if (e->state == TcpState::syn_recv && f.state != TcpState::syn_recv &&
        f.state != TcpState::none)
      return;
    sync_gone(*e);
    remove(*e);
    return;
  }
  // NAT UDP: conntrack reports a change when the first reply passes.
  const bool replied = f.l4proto == IPPROTO_UDP && event == KernelFlowEvent::changed;
  if (!e) {
    // Under drop_entry a flow vsd does not know (evicted, or begun while
    // it was away) is taken back in only once established: a half-open one
    // would be the first to go again, and one that closes without having
    // been established (a spoofed flow the real server reset) is over.
    // Its handshake's end (ESTABLISHED) or a reply brings a real one.
    const bool half_open = f.l4proto == IPPROTO_TCP
                               ? f.state != TcpState::established && f.state != TcpState::none
                               : !replied;
    if (defence_.drop_entry && half_open) return;
    e = adopt(f, now);
  }
  if (!e || !(e->flags & ConnEntry::kKernel)) return;
  if (replied || f.state == TcpState::established) embryo_unlink(*e);
  e->flags |= ConnEntry::kKernelSeen;
  if (e->flags & ConnEntry::kSynced) {
    // A flow the pair's master had, now in this node's kernel (conntrackd
    // committed it at the takeover): its end is the kernel's again.
    e->flags &= ~ConnEntry::kSynced;
    if (static_cast<ForwardMethod>(e->fwd) == ForwardMethod::nat) e->flags |= ConnEntry::kKernelHeld;
  }
  if (f.state != TcpState::none && f.state != e->state) set_state(*e, f.state, now);
  // The kernel's own expiry keeps the entry as long as the flow lives
  // (DR/TUN: a busy flow's table entry is refreshed by every packet).
  if (f.expires_s && (e->flags & ConnEntry::kKernelHeld) == 0 && e->state == TcpState::established)
    conns_.set_expiry(*e, std::max(e->expires, now + f.expires_s));
}

ConnEntry* Engine::adopt(const KernelFlow& f, std::uint32_t now) {
  const ServiceView* svc = nullptr;
  const DestView* d = kernel_dest(f.mark, &svc);
  if (!d) return nullptr;
  // Persistence: the client's template names this real server from now on.
  ConnEntry* tmpl = nullptr;
  if (svc->persistent) {
    PacketView view;  // what template_key reads of a packet
    view.src = f.client;
    view.dst = f.vip;
    view.dport = f.vport;
    view.l4proto = f.l4proto;
    const TemplateKey k = template_key(*svc, view);
    auto t = conns_.find(k.proto, k.caddr, 0, k.vaddr, k.vport);
    if (t.entry && t.entry->is_template() && t.side == ConnTable::Side::client) {
      tmpl = t.entry;
      conns_.set_expiry(*tmpl, now + tmpl->timeout);
    } else {
      tmpl = new_template(*svc, k.proto, k.caddr, k.vaddr, k.vport, *d, now);
    }
  }
  const std::uint16_t dport = d->addr.port ? d->addr.port : f.vport;
  ConnEntry* e = add_connection(*svc, *d, f.l4proto, f.client, f.cport, f.vip, f.vport, dport, tmpl, now);
  if (!e) return nullptr;
  counters_.kernel_adopted.add(1);
  set_state(*e, f.state != TcpState::none ? f.state
                : f.l4proto == IPPROTO_TCP ? TcpState::established : TcpState::none, now);
  return e;
}

void Engine::kernel_resync_begin() {
  follow_published();
  conns_.for_each_mutable([](ConnEntry& e) { e.flags &= ~ConnEntry::kKernelSeen; });
}

std::size_t Engine::kernel_resync_end() {
  std::size_t n = 0;
  conns_.for_each_mutable([&](ConnEntry& e) {
    if ((e.flags & ConnEntry::kKernelHeld) == 0 || (e.flags & ConnEntry::kKernelSeen)) return;
    forget(e);
    conns_.erase(e);
    ++n;
  });
  if (n) conn_count_.store(conns_.size(), std::memory_order_relaxed);
  return n;
}

// --- flood defences (defence.hpp) ---

void Engine::embryo_link(ConnEntry& e) {
  if (!e.dest || e.embryonic()) return;
  ServiceState& st = *e.dest->service;
  const std::uint32_t idx = conns_.index_of(e);
  e.embryo_prev = st.embryo_tail != ServiceState::kNoLink ? st.embryo_tail : ConnEntry::kListEnd;
  e.embryo_next = ConnEntry::kListEnd;
  if (st.embryo_tail != ServiceState::kNoLink)
    conns_.at(st.embryo_tail).embryo_next = idx;
  else
    st.embryo_head = idx;
  st.embryo_tail = idx;
  st.embryonic.add(1);
}

void Engine::embryo_unlink(ConnEntry& e) {
  if (!e.embryonic()) return;
  if (e.dest) {
    ServiceState& st = *e.dest->service;
    if (e.embryo_prev != ConnEntry::kListEnd)
      conns_.at(e.embryo_prev).embryo_next = e.embryo_next;
    else
      st.embryo_head = e.embryo_next != ConnEntry::kListEnd ? e.embryo_next : ServiceState::kNoLink;
    if (e.embryo_next != ConnEntry::kListEnd)
      conns_.at(e.embryo_next).embryo_prev = e.embryo_prev;
    else
      st.embryo_tail = e.embryo_prev != ConnEntry::kListEnd ? e.embryo_prev : ServiceState::kNoLink;
    st.embryonic.sub(1);
  }
  e.embryo_prev = e.embryo_next = ConnEntry::kNoLink;
}

bool Engine::evict_embryonic(ServiceState& st, const ConnEntry* keep, std::uint32_t now,
                             std::uint32_t min_idle) {
  if (st.embryo_head == ServiceState::kNoLink) return false;
  ConnEntry& v = conns_.at(st.embryo_head);
  if (min_idle) {
    // Its last packet came at expires - timeout (the expiry re-arms with each).
    const std::uint32_t last = v.expires >= v.timeout ? v.expires - v.timeout : 0;
    if (now < last + min_idle) return false;
  }
  ConnEntry* t = v.control != ConnEntry::kNoControl ? &conns_.at(v.control) : nullptr;
  remove(v);
  counters_.drop_entry.add(1);
  // IPVS drops the controlling template with the entry; here only when it
  // controls nothing else (another of the client's connections may run).
  if (t && t != keep && t->is_template() && t->control == 0) remove(*t);
  return true;
}

ServiceState* Engine::most_embryonic() const {
  // The most embryonic entries (the flooded service); of two alike, the
  // one whose oldest entry is older.
  ServiceState* best = nullptr;
  std::uint64_t most = 0;
  std::uint32_t best_since = 0;
  for (const auto& s : current_->services) {
    const std::uint64_t n = s.state->embryonic.get();
    if (n == 0 || n < most) continue;
    const ConnEntry& head = conns_.at(s.state->embryo_head);
    const std::uint32_t since = head.expires >= head.timeout ? head.expires - head.timeout : 0;
    if (n > most || since < best_since) {
      most = n;
      best = s.state.get();
      best_since = since;
    }
  }
  return best;
}

bool Engine::make_room(const ServiceView& svc, const ConnEntry* keep, std::uint32_t now, bool count_refusal) {
  const bool evict = current_->defence.drop_entry != kDefenceOff;
  ServiceState& st = *svc.state;
  if (svc.table_share < 1.0) {
    const auto limit = std::max<std::uint32_t>(
        1, static_cast<std::uint32_t>(svc.table_share * static_cast<double>(conns_.capacity())));
    if (st.table_entries.get() >= limit && !(evict && evict_embryonic(st, keep, now))) {
      if (count_refusal) {
        counters_.share_full.add(1);
        ++share_refused_since_log_;
        if (current_->defence.log && (share_log_at_ == 0 || now >= share_log_at_ + 10)) {
          const std::string name = svc.fwmark ? "FWM " + std::to_string(svc.fwmark)
                                              : std::string(svc.protocol == Protocol::tcp ? "TCP " : "UDP ") +
                                                    svc.vip.to_string();
          log_defence("defence: refused " + std::to_string(share_refused_since_log_) + " new flow(s) of " + name +
                          ": it holds its table_share (" + std::to_string(limit) + " of " +
                          std::to_string(conns_.capacity()) + " entries)" +
                          (evict ? " and none of them is embryonic" : " and drop_entry is 0") +
                          "; raise its table_share or [director] max_connections if this is not a flood",
                      true);
          share_log_at_ = now;
          share_refused_since_log_ = 0;
        }
      }
      return false;
    }
  }
  if (conns_.size() >= conns_.capacity()) {
    ServiceState* victim = evict ? most_embryonic() : nullptr;
    if (!victim || !evict_embryonic(*victim, keep, now)) {
      if (count_refusal) refused_table_full(now);
      return false;
    }
  }
  return true;
}

bool Engine::drop_new_flow() {
  if (defence_.drop_rate == 0) return false;
  // IPVS's ip_vs_todrop: every drop_rate-th new flow.
  if (--drop_counter_ > 0) return false;
  drop_counter_ = defence_.drop_rate;
  counters_.drop_packet.add(1);
  return true;
}

void Engine::log_defence(const std::string& line, bool warning) const {
  if (current_->defence.log) current_->defence.log(line, warning);
}

void Engine::defend(std::uint32_t now) {
  const DefenceSpec& spec = current_->defence;
  const DefenceLevel l = defence_level(spec, conns_.size(), conns_.capacity(), defence_.pressure);
  if (l.drop_rate != defence_.drop_rate) drop_counter_ = l.drop_rate;
  defence_ = l;
  // The rest once a second.
  if (defence_ticked_ && now == defence_tick_) return;
  defence_ticked_ = true;
  defence_tick_ = now;
  report_defence(now);
  if (l.drop_entry) {
    // IPVS scans 1/32 of its table a second for half-open entries; here
    // the oldest ones, idle a second or more (a handshake in progress is
    // not), down to the threshold (mode 3: as many as the budget).
    std::uint32_t budget = std::max<std::uint32_t>(conns_.capacity() / 32, 1);
    const std::uint32_t floor = spec.drop_entry == kDefenceAlways ? 0 : pressure_entries(spec, conns_.capacity());
    while (budget-- > 0 && conns_.size() >= floor) {
      ServiceState* st = most_embryonic();
      if (!st || !evict_embryonic(*st, nullptr, now, 1)) break;
    }
  }
}

void Engine::report_defence(std::uint32_t now) {
  const DefenceSpec& spec = current_->defence;
  const DefenceLevel& l = defence_;
  const bool changed = l.pressure != defence_logged_.pressure || l.drop_entry != defence_logged_.drop_entry ||
                       l.secure_tcp != defence_logged_.secure_tcp ||
                       (l.drop_rate != 0) != (defence_logged_.drop_rate != 0);
  if (!changed || !spec.log || (defence_log_at_ != 0 && now < defence_log_at_ + 10)) return;
  std::uint64_t embryonic = 0;
  for (const auto& sv : current_->services) embryonic += sv.state->embryonic.get();
  const std::uint64_t evicted = counters_.drop_entry.get(), dropped = counters_.drop_packet.get();
  log_defence(defence_message(spec, l, conns_.size(), conns_.capacity(), embryonic, evicted - evicted_at_log_,
                              dropped - dropped_at_log_),
              l.pressure);
  defence_logged_ = l;
  defence_log_at_ = now;
  evicted_at_log_ = evicted;
  dropped_at_log_ = dropped;
}

}  // namespace vsd
