// nftables change notifications without the socket, the pure half of
// vsd's table watch: the messages the kernel multicasts to
// NFNLGRP_NFTABLES (what `nft monitor` prints) parsed to "which table, what
// was deleted, and by whom", and a tracker that folds one transaction's
// messages into one report at its end (NFT_MSG_NEWGEN). A `flush ruleset`
// (`systemctl restart nftables`, `nft -f` of a file that starts with it) is
// one transaction that deletes every table. The socket half is
// nft_events.hpp.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace vsd::kstate {

// NFPROTO_* as nft spells it: "ip", "ip6", "arp", "inet", "bridge",
// "netdev"; "family N" for anything else.
std::string nft_family_name(std::uint8_t family);

struct NftEvent {
  enum class Kind : std::uint8_t {
    other,        // a message of no interest (a new rule, a set element ...)
    del_table,    // NFT_MSG_DELTABLE
    del_object,   // a chain, rule, set, stateful object or flowtable deleted
    generation,   // NFT_MSG_NEWGEN: the end of a transaction
  };
  Kind kind = Kind::other;
  std::uint8_t family = 0;     // NFPROTO_*; not for `generation`
  std::string table;           // the table the message is about
  std::string object;          // del_object: "chain", "rule", "set", "object", "flowtable"
  std::uint32_t generation = 0;  // generation: the new ruleset generation
  std::uint32_t pid = 0;         // generation: the task that committed (0: not said)
  std::string process;           // generation: its name (comm), "" when not said
};

// One message received on an NFNLGRP_NFTABLES socket. False when it is not
// an nf_tables message or is malformed.
bool parse_nft_event(const nlmsghdr* nlh, NftEvent* out);

// What one transaction did to the watched tables.
struct NftTransaction {
  std::uint32_t generation = 0;
  std::uint32_t pid = 0;
  std::string process;
  // Watched tables (family, name) the transaction deleted as a whole...
  std::set<std::pair<std::uint8_t, std::string>> tables_deleted;
  // ...and those it deleted chains, rules, sets or objects of, with what
  // ("chain", "rule" ...; a table in tables_deleted is not listed again).
  std::map<std::pair<std::uint8_t, std::string>, std::set<std::string>> objects_deleted;
  bool empty() const { return tables_deleted.empty() && objects_deleted.empty(); }
  // "table ip vsd deleted, chain/rule of table ip6 vsd deleted"
  std::string describe() const;
};

class NftChangeTracker {
 public:
  void watch(std::uint8_t family, const std::string& table);
  bool watched(std::uint8_t family, const std::string& table) const;
  // Feeds one event; at the end of a transaction that deleted anything of a
  // watched table returns what it did (else nullopt). Events of tables not
  // watched are ignored.
  std::optional<NftTransaction> on_event(const NftEvent& e);
  // Events were lost (ENOBUFS): what is pending is dropped.
  void reset() { pending_ = {}; }

 private:
  std::set<std::pair<std::uint8_t, std::string>> watched_;
  NftTransaction pending_;
};

// Builder of a request for one table (NFT_MSG_GETTABLE, not a dump, with
// NLM_F_ACK): the answer is the table or ENOENT. The length written, 0 when
// `buf` is shorter than kNftEventRequestSize or the name is empty or too
// long. `buf` must be aligned for nlmsghdr.
inline constexpr std::size_t kNftEventRequestSize = 512;
std::size_t build_get_table(std::uint8_t* buf, std::size_t size, std::uint32_t seq,
                            std::uint8_t family, const std::string& table);
// NFT_MSG_GETGEN: the answer is an NFT_MSG_NEWGEN with the current generation.
std::size_t build_get_generation(std::uint8_t* buf, std::size_t size, std::uint32_t seq);

}  // namespace vsd::kstate
