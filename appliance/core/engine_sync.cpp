// The engine's half of a director pair's sync (engine.hpp, sync_message.hpp):
// what the master queues and walks, and how the backup enters it. IPVS's
// sync daemon does the same from ip_vs_sync_conn() (master) and
// ip_vs_proc_conn() (backup); like it, deletions are not sent — a backup's
// copy ends by its own timer — except the ends the master learns from its
// kernel (conntrack DESTROY), sent as a closing state with a short timeout.
#include <netinet/in.h>

#include "appliance/core/engine.hpp"
#include "appliance/core/template_key.hpp"

namespace vsd {

namespace {

// Up to this many entries wait for the daemon (a few hundred milliseconds
// of new connections at high rates; the periodic walk sends anything lost).
constexpr std::size_t kSyncOutbox = 16384;

}  // namespace

void Engine::set_sync_master(bool on) {
  sync_master_ = on;
  sync_head_ = sync_size_ = 0;
  if (on && sync_ring_.empty()) sync_ring_.resize(kSyncOutbox);
}

SyncEntry Engine::sync_entry_of(const ConnEntry& e, std::uint32_t now) const {
  SyncEntry s;
  s.proto = e.proto;
  s.fwmark = e.dest && e.dest->service ? e.dest->service->fwmark : 0;
  s.caddr = e.caddr;
  s.vaddr = e.vaddr;
  s.daddr = e.daddr;
  s.cport = e.cport;
  s.vport = e.vport;
  s.dport = e.dport;
  s.state = static_cast<std::uint8_t>(e.state);
  s.is_template = e.is_template();
  s.timeout_s = e.expires > now ? e.expires - now : 1;
  return s;
}

void Engine::sync_note(const ConnEntry& e, std::uint32_t now) {
  if (!sync_master_ || !e.dest || (e.flags & ConnEntry::kUnhashed)) return;
  if (sync_size_ == sync_ring_.size()) {
    counters_.sync_overflow.add(1);
    return;
  }
  sync_ring_[(sync_head_ + sync_size_) % sync_ring_.size()] = sync_entry_of(e, now);
  ++sync_size_;
  counters_.sync_queued.add(1);
}

void Engine::sync_gone(const ConnEntry& e) {
  if (!sync_master_ || !e.dest) return;
  const std::uint32_t now = clock_.now_s();
  ConnEntry closing = e;
  if (closing.proto == IPPROTO_TCP) closing.state = TcpState::close;
  closing.expires = now + 1;  // the backup lets it go within a second or two
  sync_note(closing, now);
}

std::size_t Engine::take_sync(std::span<SyncEntry> out) {
  std::size_t n = 0;
  while (n < out.size() && sync_size_ > 0) {
    out[n++] = sync_ring_[sync_head_];
    sync_head_ = (sync_head_ + 1) % sync_ring_.size();
    --sync_size_;
  }
  return n;
}

std::uint32_t Engine::sync_walk(std::uint32_t cursor, std::uint32_t count, std::vector<SyncEntry>& out) {
  const std::uint32_t now = clock_.now_s();
  // The listing's cursor (ConnTable::for_each_from): an entry that lives
  // through a whole pass is sent once in it, whatever moves meanwhile.
  const std::uint32_t cap = conns_.capacity();
  const std::uint32_t next =
      conns_.for_each_from(cursor < cap ? cursor : 0, count, [&](const ConnEntry& e) {
        if (e.dest && !(e.flags & ConnEntry::kUnhashed)) out.push_back(sync_entry_of(e, now));
      });
  return next < cap ? next : 0;
}

bool Engine::sync_apply(const SyncEntry& s) {
  follow_published();
  const std::uint32_t now = clock_.now_s();
  const std::uint8_t l4 = s.is_template ? static_cast<std::uint8_t>(s.proto & 0x7f) : s.proto;
  // The service as the master's packet found it (a fwmark service by its
  // mark; a template's VIP or port 0 as its key holds them).
  const ServiceView* svc = current_->find(l4, s.vaddr, s.vport, s.fwmark);
  const DestView* d = svc ? svc->dest(s.daddr, s.dport) : nullptr;
  if (svc && !d) d = svc->dest(s.daddr, 0);
  if (!d || (!s.is_template && l4 != IPPROTO_TCP && l4 != IPPROTO_UDP)) {
    counters_.sync_refused.add(1);
    return false;
  }
  const std::uint32_t timeout = std::max<std::uint32_t>(s.timeout_s, 1);
  auto hit = conns_.find(s.proto, s.caddr, s.cport, s.vaddr, s.vport);
  ConnEntry* e = hit.entry && hit.side == ConnTable::Side::client && hit.entry->is_template() == s.is_template
                     ? hit.entry
                     : nullptr;
  if (s.is_template) {
    if (!e) e = new_template(*svc, s.proto, s.caddr, s.vaddr, s.vport, *d, now);
  } else if (!e) {
    ConnEntry* tmpl = nullptr;
    if (svc->persistent) {
      PacketView view;  // what template_key reads of a packet
      view.src = s.caddr;
      view.dst = s.vaddr;
      view.dport = s.vport;
      view.l4proto = l4;
      const TemplateKey k = template_key(*svc, view);
      auto t = conns_.find(k.proto, k.caddr, 0, k.vaddr, k.vport);
      if (t.entry && t.entry->is_template() && t.side == ConnTable::Side::client) tmpl = t.entry;
    }
    e = add_connection(*svc, *d, l4, s.caddr, s.cport, s.vaddr, s.vport, s.dport, tmpl, now);
    // Until this node's kernel reports it (a takeover), its own timer ends it.
    if (e) e->flags = static_cast<std::uint8_t>((e->flags & ~ConnEntry::kKernelHeld) | ConnEntry::kSynced);
  }
  if (!e) {
    counters_.sync_refused.add(1);
    return false;
  }
  if (!s.is_template) {
    const auto state = static_cast<TcpState>(s.state);
    if (l4 == IPPROTO_TCP && state != e->state) set_state(*e, state, now);
    if (e->flags & ConnEntry::kSynced) conns_.set_expiry(*e, now + timeout);
  } else {
    conns_.set_expiry(*e, now + timeout);
  }
  counters_.sync_applied.add(1);
  return true;
}

}  // namespace vsd
