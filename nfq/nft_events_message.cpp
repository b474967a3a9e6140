#include "nfq/nft_events_message.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>

namespace vsd::kstate {

std::string nft_family_name(std::uint8_t family) {
  switch (family) {
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_ARP: return "arp";
    case NFPROTO_INET: return "inet";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_NETDEV: return "netdev";
    default: return "family " + std::to_string(family);
  }
}

namespace {

// The payload attribute `type` of an nf_tables message, or nullptr.
const nlattr* find_attr(const nlmsghdr* nlh, std::uint16_t type) {
  // mnl_attr_for_each() does not compile as C++ (void* conversion).
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr))
    if (mnl_attr_get_type(attr) == type) return attr;
  return nullptr;
}

bool string_attr(const nlmsghdr* nlh, std::uint16_t type, std::string* out) {
  const nlattr* a = find_attr(nlh, type);
  if (!a || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0) return false;
  *out = mnl_attr_get_str(a);
  return true;
}

bool u32_attr(const nlmsghdr* nlh, std::uint16_t type, std::uint32_t* out) {
  const nlattr* a = find_attr(nlh, type);
  if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0) return false;
  *out = ntohl(mnl_attr_get_u32(a));
  return true;
}

// The deletions of a table's objects that vsd hears of: the message, what
// the object is called in the log, and the attribute naming its table.
struct DeletedObject {
  int msg;
  const char* object;
  std::uint16_t table_attr;
};
constexpr DeletedObject kDeletedObjects[] = {
    {NFT_MSG_DELCHAIN, "chain", NFTA_CHAIN_TABLE},   {NFT_MSG_DELRULE, "rule", NFTA_RULE_TABLE},
    {NFT_MSG_DELSET, "set", NFTA_SET_TABLE},         {NFT_MSG_DELOBJ, "object", NFTA_OBJ_TABLE},
    {NFT_MSG_DELFLOWTABLE, "flowtable", NFTA_FLOWTABLE_TABLE},
};

}  // namespace

bool parse_nft_event(const nlmsghdr* nlh, NftEvent* out) {
  if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) return false;
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES) return false;
  // The attributes must fit the message: find_attr stops at the first one
  // that does not, so a cut one is simply not found.
  const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  NftEvent e;
  e.family = nfg->nfgen_family;
  const int msg = NFNL_MSG_TYPE(nlh->nlmsg_type);
  std::uint16_t table_attr = 0;
  if (msg == NFT_MSG_NEWGEN) {
    e.kind = NftEvent::Kind::generation;
    e.family = 0;
    if (!u32_attr(nlh, NFTA_GEN_ID, &e.generation)) return false;
    u32_attr(nlh, NFTA_GEN_PROC_PID, &e.pid);
    string_attr(nlh, NFTA_GEN_PROC_NAME, &e.process);
    *out = std::move(e);
    return true;
  }
  if (msg == NFT_MSG_DELTABLE) {
    e.kind = NftEvent::Kind::del_table;
    table_attr = NFTA_TABLE_NAME;
  }
  for (const auto& d : kDeletedObjects)
    if (msg == d.msg) {
      e.kind = NftEvent::Kind::del_object;
      e.object = d.object;
      table_attr = d.table_attr;
    }
  if (!table_attr) {
    // Additions and set elements: vsd's own fast path adds and deletes
    // flow-map elements all the time; they say nothing about the tables.
    *out = std::move(e);
    return true;
  }
  if (!string_attr(nlh, table_attr, &e.table)) return false;
  *out = std::move(e);
  return true;
}

std::string NftTransaction::describe() const {
  std::string out;
  auto add = [&out](const std::string& s) {
    if (!out.empty()) out += ", ";
    out += s;
  };
  for (const auto& [family, table] : tables_deleted)
    add("table " + nft_family_name(family) + " " + table + " deleted");
  for (const auto& [key, kinds] : objects_deleted) {
    std::string what;
    for (const auto& k : kinds) what += (what.empty() ? "" : "/") + k;
    add(what + " of table " + nft_family_name(key.first) + " " + key.second + " deleted");
  }
  return out;
}

void NftChangeTracker::watch(std::uint8_t family, const std::string& table) {
  watched_.insert({family, table});
}

bool NftChangeTracker::watched(std::uint8_t family, const std::string& table) const {
  return watched_.count({family, table}) != 0;
}

std::optional<NftTransaction> NftChangeTracker::on_event(const NftEvent& e) {
  switch (e.kind) {
    case NftEvent::Kind::other:
      return std::nullopt;
    case NftEvent::Kind::del_table:
      if (!watched(e.family, e.table)) return std::nullopt;
      pending_.tables_deleted.insert({e.family, e.table});
      pending_.objects_deleted.erase({e.family, e.table});
      return std::nullopt;
    case NftEvent::Kind::del_object:
      if (!watched(e.family, e.table) || pending_.tables_deleted.count({e.family, e.table}))
        return std::nullopt;
      pending_.objects_deleted[{e.family, e.table}].insert(e.object);
      return std::nullopt;
    case NftEvent::Kind::generation: {
      if (pending_.empty()) return std::nullopt;
      NftTransaction done = std::move(pending_);
      pending_ = {};
      done.generation = e.generation;
      done.pid = e.pid;
      done.process = e.process;
      // A table's objects are deleted before the table itself in a flush:
      // report the table only.
      for (const auto& t : done.tables_deleted) done.objects_deleted.erase(t);
      return done;
    }
  }
  return std::nullopt;
}

namespace {

std::size_t put_header(std::uint8_t* buf, std::size_t size, std::uint32_t seq, int msg,
                       std::uint8_t family, nlmsghdr** out) {
  if (size < kNftEventRequestSize) return 0;
  std::memset(buf, 0, kNftEventRequestSize);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg);
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  *out = nlh;
  return nlh->nlmsg_len;
}

}  // namespace

std::size_t build_get_table(std::uint8_t* buf, std::size_t size, std::uint32_t seq,
                            std::uint8_t family, const std::string& table) {
  if (table.empty() || table.size() >= NFT_TABLE_MAXNAMELEN) return 0;
  nlmsghdr* nlh = nullptr;
  if (!put_header(buf, size, seq, NFT_MSG_GETTABLE, family, &nlh)) return 0;
  mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table.c_str());
  return nlh->nlmsg_len;
}

std::size_t build_get_generation(std::uint8_t* buf, std::size_t size, std::uint32_t seq) {
  nlmsghdr* nlh = nullptr;
  if (!put_header(buf, size, seq, NFT_MSG_GETGEN, NFPROTO_UNSPEC, &nlh)) return 0;
  return nlh->nlmsg_len;
}

}  // namespace vsd::kstate
