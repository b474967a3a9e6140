// The libnftnl vocabulary of vsd's ruleset (internal to nfq/): a batch
// buffer, one helper per kernel message (table, chain, set, elements,
// object, rule) and one per expression kind. ruleset.cpp says what vsd's
// tables hold with these words; nothing here knows about vsd.
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct nlmsghdr;

namespace vsd::nfq::nftnl {

template <class T, void (*Free)(const T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using RulePtr = std::unique_ptr<nftnl_rule, Deleter<nftnl_rule, nftnl_rule_free>>;

// Accumulates netlink messages into one batch buffer (BATCH_BEGIN first).
class Batch {
 public:
  explicit Batch(std::uint32_t seq);
  // build(buf, seq) writes one message into buf (64 KiB) and returns it.
  template <class Fn>
  void message(Fn&& build) {
    // libnftnl and libmnl do not write every padding byte: a zeroed buffer
    // keeps the batch a pure function of its messages.
    std::fill(tmp_.begin(), tmp_.begin() + static_cast<std::ptrdiff_t>(std::min(dirty_, tmp_.size())), '\0');
    append(build(tmp_.data(), seq_++));
  }
  std::vector<std::uint8_t> finish();  // appends BATCH_END

 private:
  void append(const nlmsghdr* nlh);
  std::vector<std::uint8_t> buf_;
  std::vector<char> tmp_;
  std::size_t dirty_ = 0;  // bytes of tmp_ the last message used
  std::uint32_t seq_;
};

// --- messages ---

void table_msg(Batch& b, const std::string& name, std::uint16_t family, std::uint16_t type,
               std::uint16_t flags);

struct ChainDef {
  std::string name;
  bool base = true;  // false: a regular chain, reached by jump
  const char* type = "filter";
  std::uint32_t hook = 0;
  std::int32_t priority = 0;
};
void chain_msg(Batch& b, const std::string& table, std::uint16_t family, const ChainDef& c);
void del_chain_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& chain);
// DELRULE naming only the table and the chain: the kernel deletes every
// rule of that chain (nft's `flush chain`).
void flush_chain_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& chain);

struct SetElem {
  std::vector<std::uint8_t> key, data;  // data: maps only
  std::string objref;                   // object maps: the object's name
};
struct SetDef {
  std::string name;  // "__set%d": anonymous, the kernel names it
  std::uint32_t id = 0;  // NFTA_SET_ID: rules of the same batch find it by it
  std::uint32_t flags = 0;
  std::uint32_t key_type = 0, key_len = 0;
  std::uint32_t data_type = 0, data_len = 0;  // NFT_SET_MAP
  std::uint32_t obj_type = 0;                 // NFT_SET_OBJECT
  std::uint64_t timeout_ms = 0;               // NFT_SET_TIMEOUT
  std::uint32_t size = 0;                     // 0: no size
  // nft's byte order of the key and the data (enum byteorder: 0 none or a
  // concatenation, 1 host, 2 network), kept in the set's user data as nft
  // does: without it `nft list` prints host-order values (marks) swapped.
  bool byteorder_udata = false;
  std::uint32_t key_byteorder = 0, data_byteorder = 0;
  std::vector<SetElem> elems;
  bool keep_elements = false;  // filled from the packet path: never flushed
  bool constant() const { return flags & NFT_SET_CONSTANT; }
};
void set_msg(Batch& b, const std::string& table, std::uint16_t family, const SetDef& s);
// NEWSETELEM, in chunks so that no message outgrows the buffer.
void set_elems_msgs(Batch& b, const std::string& table, std::uint16_t family, const SetDef& s);
// DELSETELEM without elements: the kernel empties the set (`flush set`).
void flush_set_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& set);
void del_set_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& set);

struct ObjDef {
  std::string name;
  std::uint32_t type = NFT_OBJECT_COUNTER;  // or NFT_OBJECT_CT_TIMEOUT
  std::uint8_t l4proto = 0;                 // ct timeout
  std::array<std::uint32_t, NFTNL_CTTIMEOUT_ARRAY_MAX> policy{};  // ct timeout, seconds
};
void obj_msg(Batch& b, const std::string& table, std::uint16_t family, const ObjDef& o);
void del_obj_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& name,
                 std::uint32_t type);

RulePtr new_rule(const std::string& table, std::uint16_t family, const std::string& chain);
void rule_msg(Batch& b, const nftnl_rule* r);  // appended at the chain's end
void set_comment(nftnl_rule* r, const std::string& comment);

// --- expressions: one helper per nftables expression kind ---

// nft's register numbering for a concatenation: the component at 32-bit
// word `word` of the key goes to NFT_REG_1..4 on a 16-byte boundary and to
// NFT_REG32_xx elsewhere (the kernel reads both as the same storage).
std::uint32_t reg_at_word(std::uint32_t word);

void meta_load(nftnl_rule* r, std::uint32_t key, std::uint32_t dreg = NFT_REG_1);
void meta_set(nftnl_rule* r, std::uint32_t key, std::uint32_t sreg = NFT_REG_1);
void ct_load(nftnl_rule* r, std::uint32_t key, std::uint32_t dreg = NFT_REG_1);
void ct_set(nftnl_rule* r, std::uint32_t key, std::uint32_t sreg = NFT_REG_1);
void payload_load(nftnl_rule* r, std::uint32_t base, std::uint32_t offset, std::uint32_t len,
                  std::uint32_t dreg = NFT_REG_1);
void cmp(nftnl_rule* r, std::uint32_t op, const void* data, std::uint32_t len,
         std::uint32_t sreg = NFT_REG_1);
void cmp_u32(nftnl_rule* r, std::uint32_t op, std::uint32_t host_value);
void cmp_u8(nftnl_rule* r, std::uint32_t op, std::uint8_t value);
// reg = (reg & mask) ^ xor, len bytes (1 or 4), values in host order.
void bitwise(nftnl_rule* r, std::uint32_t len, std::uint32_t mask, std::uint32_t xor_value,
             std::uint32_t reg = NFT_REG_1);
void lookup(nftnl_rule* r, const std::string& set, std::uint32_t set_id,
            std::uint32_t sreg = NFT_REG_1);
void lookup_map(nftnl_rule* r, const std::string& set, std::uint32_t set_id, std::uint32_t dreg,
                std::uint32_t sreg = NFT_REG_1);
void immediate_u32(nftnl_rule* r, std::uint32_t value, std::uint32_t dreg = NFT_REG_1);
void verdict(nftnl_rule* r, int code, const char* chain = nullptr);  // NF_DROP, NFT_JUMP, ...
void plain(nftnl_rule* r, const char* name);                         // notrack, counter
void dynset(nftnl_rule* r, std::uint32_t op, const std::string& set, std::uint32_t set_id,
            std::uint32_t sreg_key, std::uint32_t sreg_data);
void objref_map(nftnl_rule* r, const std::string& set, std::uint32_t set_id,
                std::uint32_t sreg = NFT_REG_1);
void objref(nftnl_rule* r, std::uint32_t type, const std::string& name);
void dup(nftnl_rule* r, std::uint32_t sreg_addr, std::uint32_t sreg_dev);
// synproxy mss M wscale W + the options in flags (NF_SYNPROXY_OPT_*).
void synproxy(nftnl_rule* r, std::uint16_t mss, std::uint8_t wscale, std::uint32_t flags);
void nat(nftnl_rule* r, std::uint32_t type, std::uint16_t family, std::uint32_t reg_addr,
         std::uint32_t reg_proto);  // reg_proto 0: the address only
// The NFQUEUE queue: nft_queue, or the xt target through nft_compat.
void queue(nftnl_rule* r, bool native, std::uint16_t first, std::uint16_t count, bool bypass);

}  // namespace vsd::nfq::nftnl
