// The socket half of vsd's conntrack reader (libmnl sockets, the messages of
// conntrack_message.hpp): events of the flows vsd decided (ct mark & mask
// != 0), a dump of them (adoption at start and after lost events), and
// deleting entries (expire_nodest_conn). Every socket is SOCK_CLOEXEC: a
// netlink socket a health-check child inherits outlives vsd's own use of it.
// Errors are std::system_error whose text says what to check.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "nfq/conntrack_message.hpp"

struct mnl_socket;

namespace vsd::kstate {

struct ConntrackPollResult {
  std::size_t events = 0;  // handler calls
  // The socket overflowed (ENOBUFS) since the last poll: the kernel dropped
  // events. Dump again (conntrack_dump) to learn the current state.
  bool lost = false;
};

struct ConntrackEventCounters {
  std::uint64_t events = 0;   // handed to the handler
  std::uint64_t enobufs = 0;  // overflows seen
  // Messages that did not parse, were truncated, or did not come from the kernel.
  std::uint64_t malformed = 0;
};

using ConntrackEventHandler = std::function<void(ConntrackEvent, const ConntrackFlow&)>;

// A non-blocking NETLINK_NETFILTER socket subscribed to conntrack NEW,
// UPDATE and DESTROY events, with a BPF filter that lets through only
// entries whose ct mark & mark_mask != 0: the kernel drops the others
// before they are queued. Needs CAP_NET_ADMIN.
//
// Which events exist depends on net.netfilter.nf_conntrack_events (per
// network namespace): 1 = every entry reports; 2 (the kernel's default) =
// only entries created while some process listened, so an entry created
// before this socket existed never reports its UPDATE or DESTROY; 0 = none
// (the constructor refuses). vsd wants 1.
class ConntrackEvents {
 public:
  // Throws std::system_error: no permission, nf_conntrack_netlink missing,
  // events switched off, mark_mask 0.
  explicit ConntrackEvents(std::uint32_t mark_mask, int receive_buffer = 64 << 20);
  ~ConntrackEvents();
  ConntrackEvents(const ConntrackEvents&) = delete;
  ConntrackEvents& operator=(const ConntrackEvents&) = delete;

  int fd() const;  // readable when events wait (for an event loop)
  std::uint32_t mark_mask() const { return mark_mask_; }
  const ConntrackEventCounters& counters() const { return counters_; }

  // Reads what is queued, calling handler(kind, flow) per event in the
  // kernel's order, and returns without blocking once the socket is empty
  // or at least `budget` events were handled.
  ConntrackPollResult poll(const ConntrackEventHandler& handler,
                           std::size_t budget = static_cast<std::size_t>(-1));

 private:
  std::size_t receive(bool* lost);  // one recvmmsg; datagrams received

  std::uint32_t mark_mask_;
  mnl_socket* nl_ = nullptr;
  ConntrackEventCounters counters_;
  std::vector<std::uint8_t> buffers_;
  std::vector<struct mmsghdr> msgs_;
  std::vector<struct iovec> iov_;
  std::vector<struct sockaddr_nl> from_;
};

// Every entry whose ct mark & mark_mask != 0, IPv4 and IPv6. The kernel's
// dump filter knows only "mark & mask == value", so the whole table is read
// and the entries are dropped by mark before they are parsed. The dump is
// not a snapshot: entries created or deleted meanwhile may or may not be in
// it (events cover them). Throws std::system_error.
std::vector<ConntrackFlow> conntrack_dump(std::uint32_t mark_mask);
// Entries whose ct mark & match.mask == match.value, filtered by the kernel
// (e.g. the flows of one decision).
std::vector<ConntrackFlow> conntrack_dump(const MarkMatch& match);

// Deletes entries by original tuple (and id when not 0: a newer entry that
// reuses the tuple is left alone). Returns how many the kernel deleted;
// entries already gone are not errors. Requests travel 256 per sendmsg.
// Throws std::system_error on any other refusal (after trying them all).
std::size_t conntrack_delete(std::span<const ConntrackFlow> flows);

}  // namespace vsd::kstate
