// Keeps vsd's nft tables in place. `systemctl restart nftables` (its
// /etc/nftables.conf starts with `flush ruleset`), `nft flush ruleset` or a
// stray `nft delete table` removes them silently, and with them everything
// that diverts VIP traffic to vsd. The watch follows the kernel's nf_tables
// notifications (NFNLGRP_NFTABLES, nft_events.hpp); when a transaction of
// another process deleted a watched table, or chains, rules or sets in it,
// it runs the table's restore at once and logs one warning line: what
// happened, who did it, what vsd did and what could not be brought back.
// Without the notifications (they could not be subscribed to) it looks
// for the tables every second instead. Runs on the control thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "appliance/asio.hpp"
#include "nfq/nft_events_message.hpp"

namespace vsd {

namespace kstate {
class NftEvents;
}

class TableWatch {
 public:
  using Table = std::pair<std::uint8_t, std::string>;  // NFPROTO_* family, name
  // Puts the tables back as they should be now; throws std::exception.
  using Restore = std::function<void()>;

  explicit TableWatch(boost::asio::io_context& io);
  ~TableWatch();
  TableWatch(const TableWatch&) = delete;
  TableWatch& operator=(const TableWatch&) = delete;

  // Tables restored together by one call of `restore`; `lost` says what a
  // restore cannot bring back (logged with it; "" = nothing).
  void watch(std::vector<Table> tables, Restore restore, std::string lost = {});
  // Subscribes (or falls back to polling). Call once the tables are in.
  void start();

  // How many times tables were put back (tests, status).
  std::uint64_t restores() const { return restores_; }

 private:
  struct Group {
    std::vector<Table> tables;
    Restore restore;
    std::string lost;
  };
  void arm_events();
  void on_events();
  void arm_poll(std::chrono::milliseconds after);
  void on_transaction(const kstate::NftTransaction& t);
  // Restores the groups whose tables are missing (or all of `force`);
  // `what` / `who` go into the log line.
  void check_and_restore(const std::string& what, const std::string& who,
                         const std::vector<std::size_t>& force);
  std::vector<std::size_t> missing_groups();
  bool own_thread(std::uint32_t pid, const std::string& process) const;

  boost::asio::io_context& io_;
  std::vector<Group> groups_;
  kstate::NftChangeTracker tracker_;
  std::unique_ptr<kstate::NftEvents> events_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> events_fd_;
  boost::asio::steady_timer poll_{io_};
  bool polling_ = false;
  // Transactions up to this generation are vsd's own restores: not acted on.
  std::uint32_t own_generation_ = 0;
  std::uint64_t restores_ = 0;
  bool failing_ = false;  // a restore failed: retried every second, logged once
  std::string own_name_;  // this process's comm ("vsd")
};

}  // namespace vsd
