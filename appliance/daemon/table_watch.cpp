#include "appliance/daemon/table_watch.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "nfq/nft_events.hpp"

namespace vsd {

namespace {

std::string table_list(const std::vector<TableWatch::Table>& tables) {
  std::string out;
  for (const auto& [family, name] : tables)
    out += (out.empty() ? "" : ", ") + kstate::nft_family_name(family) + " " + name;
  return out;
}

}  // namespace

TableWatch::TableWatch(boost::asio::io_context& io) : io_(io) {
  std::ifstream comm("/proc/self/comm");
  std::getline(comm, own_name_);
}

TableWatch::~TableWatch() {
  poll_.cancel();
  events_fd_.reset();
  events_.reset();
}

void TableWatch::watch(std::vector<Table> tables, Restore restore, std::string lost) {
  for (const auto& [family, name] : tables) tracker_.watch(family, name);
  groups_.push_back({std::move(tables), std::move(restore), std::move(lost)});
}

void TableWatch::start() {
  if (groups_.empty()) return;
  try {
    events_ = std::make_unique<kstate::NftEvents>();
    events_fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, ::dup(events_->fd()));
    arm_events();
  } catch (const std::exception& e) {
    events_fd_.reset();
    events_.reset();
    polling_ = true;
    spdlog::warn("nft: cannot follow nftables changes ({}); looking for vsd's tables every second "
                 "instead",
                 e.what());
    arm_poll(std::chrono::seconds(1));
  }
}

void TableWatch::arm_events() {
  events_fd_->async_wait(boost::asio::posix::descriptor::wait_read,
                         [this](boost::system::error_code ec) {
                           if (ec) return;
                           on_events();
                           if (events_fd_) arm_events();
                         });
}

void TableWatch::on_events() {
  std::vector<kstate::NftTransaction> done;
  bool complete = true;
  try {
    complete = events_->read([&](const kstate::NftEvent& e) {
      if (auto t = tracker_.on_event(e)) done.push_back(std::move(*t));
    });
  } catch (const std::exception& e) {
    spdlog::warn("nft: {}; looking for vsd's tables every second instead", e.what());
    events_fd_.reset();
    events_.reset();
    polling_ = true;
    arm_poll(std::chrono::seconds(1));
    return;
  }
  for (const auto& t : done) on_transaction(t);
  if (!complete) {
    // The kernel dropped notifications (a burst larger than the socket
    // buffer, e.g. a big ruleset load): look at the tables themselves.
    tracker_.reset();
    check_and_restore("", "(nftables notifications were lost: by whom is unknown)", {});
  }
}

bool TableWatch::own_thread(std::uint32_t pid, const std::string& process) const {
  if (pid == 0) return false;
  // The kernel names the committing task (a thread id): one of vsd's own
  // threads is vsd updating its tables in place.
  if (::access(("/proc/self/task/" + std::to_string(pid)).c_str(), F_OK) == 0) return true;
  // In a PID namespace the kernel's number is not ours: a task this /proc
  // does not show, with vsd's own name, is vsd.
  return ::access(("/proc/" + std::to_string(pid)).c_str(), F_OK) != 0 && !process.empty() &&
         process == own_name_;
}

void TableWatch::on_transaction(const kstate::NftTransaction& t) {
  if (own_generation_ && static_cast<std::int32_t>(t.generation - own_generation_) <= 0) return;
  const bool own = own_thread(t.pid, t.process);
  // Groups whose objects another process deleted: restored even though
  // their tables still exist (e.g. `nft flush table ip vsd`).
  std::vector<std::size_t> force;
  if (!own)
    for (std::size_t i = 0; i < groups_.size(); ++i)
      for (const auto& table : groups_[i].tables)
        if (t.objects_deleted.count(table) || t.tables_deleted.count(table)) {
          force.push_back(i);
          break;
        }
  // A deleted table is looked for in any case: vsd's own fallback
  // re-creates a table in the transaction that deletes it.
  if (force.empty() && t.tables_deleted.empty()) return;
  const std::string who =
      t.pid ? "by " + (t.process.empty() ? std::string("pid") : t.process + ", pid") + " " +
                  std::to_string(t.pid) + (own ? " (vsd itself)" : "")
            : "by a process the kernel did not name";
  check_and_restore(t.describe(), who, force);
}

std::vector<std::size_t> TableWatch::missing_groups() {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < groups_.size(); ++i)
    for (const auto& [family, name] : groups_[i].tables) {
      bool exists = true;
      try {
        exists = kstate::table_exists(family, name);
      } catch (const std::exception& e) {
        spdlog::warn("nft: {}", e.what());
      }
      if (!exists) {
        out.push_back(i);
        break;
      }
    }
  return out;
}

void TableWatch::check_and_restore(const std::string& what, const std::string& who,
                                   const std::vector<std::size_t>& force) {
  const auto t0 = std::chrono::steady_clock::now();
  std::set<std::size_t> todo(force.begin(), force.end());
  std::vector<Table> missing;
  for (std::size_t i : missing_groups()) {
    todo.insert(i);
    missing.insert(missing.end(), groups_[i].tables.begin(), groups_[i].tables.end());
  }
  if (todo.empty()) return;
  // "table ip vsd deleted by nft, pid 42", or what polling found.
  const std::string head = (what.empty() ? "table(s) " + table_list(missing) + " gone" : what) +
                           (who.empty() ? "" : " " + who) +
                           (missing.empty() ? "" : " (`nft flush ruleset`, `systemctl restart nftables`?)");
  std::vector<Table> restored;
  std::string lost;
  bool failed = false;
  for (std::size_t i : todo) {
    auto& g = groups_[i];
    try {
      g.restore();
      restored.insert(restored.end(), g.tables.begin(), g.tables.end());
      if (!g.lost.empty()) lost += "; " + g.lost;
    } catch (const std::exception& e) {
      failed = true;
      if (!failing_)
        spdlog::error("nft: {}; vsd could not put table(s) {} back: {}; retrying every second", head,
                      table_list(g.tables), e.what());
    }
  }
  // What vsd's own restore notifies is not another process's change.
  try {
    own_generation_ = kstate::ruleset_generation();
  } catch (const std::exception& e) {
    spdlog::warn("nft: {}", e.what());
  }
  if (!restored.empty()) {
    ++restores_;
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    spdlog::warn("nft: {}; vsd installed table(s) {} again in {} ms{}", head, table_list(restored), ms,
                 lost);
  }
  failing_ = failed;
  if (failed) {
    arm_poll(std::chrono::seconds(1));
  } else if (!missing_groups().empty()) {
    // Deleted again between the restore and now: look again soon.
    arm_poll(std::chrono::milliseconds(100));
  }
}

void TableWatch::arm_poll(std::chrono::milliseconds after) {
  poll_.expires_after(after);
  poll_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    check_and_restore("", "", {});
    if (polling_ && !failing_) arm_poll(std::chrono::seconds(1));
  });
}

}  // namespace vsd
