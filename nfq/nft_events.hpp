// The socket half of vsd's table watch (libmnl; the messages are
// nft_events_message.hpp): a NETLINK_NETFILTER socket subscribed to the
// nf_tables change notifications (NFNLGRP_NFTABLES, what `nft monitor`
// reads), and two one-shot questions: does a table exist, which ruleset
// generation is current. Errors are std::system_error saying what to check.
// Needs CAP_NET_ADMIN in the network namespace.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nfq/nft_events_message.hpp"

struct mnl_socket;

namespace vsd::kstate {

class NftEvents {
 public:
  // Opens the socket (SOCK_CLOEXEC | SOCK_NONBLOCK) and joins the group.
  NftEvents();
  ~NftEvents();
  NftEvents(const NftEvents&) = delete;
  NftEvents& operator=(const NftEvents&) = delete;

  int fd() const;
  // Reads every datagram queued now and hands each event to `fn`. False
  // when the kernel dropped notifications (ENOBUFS: the socket buffer was
  // full): what happened meanwhile is unknown.
  bool read(const std::function<void(const NftEvent&)>& fn);

 private:
  mnl_socket* nl_ = nullptr;
  std::vector<std::uint8_t> buf_;
};

// Whether table FAMILY NAME exists (NFPROTO_* family).
bool table_exists(std::uint8_t family, const std::string& table);
// The ruleset's generation now (it grows with every committed transaction).
std::uint32_t ruleset_generation();

}  // namespace vsd::kstate
