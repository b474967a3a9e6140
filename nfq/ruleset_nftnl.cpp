#include "nfq/ruleset_nftnl.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
// glibc headers before the kernel uapi ones.
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace vsd::nfq::nftnl {

namespace {

using TablePtr = std::unique_ptr<nftnl_table, Deleter<nftnl_table, nftnl_table_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Deleter<nftnl_chain, nftnl_chain_free>>;
using SetPtr = std::unique_ptr<nftnl_set, Deleter<nftnl_set, nftnl_set_free>>;
using ObjPtr = std::unique_ptr<nftnl_obj, Deleter<nftnl_obj, nftnl_obj_free>>;

// One message never holds more than this: libnftnl writes without bounds
// checks, so elements go out in chunks well below it.
constexpr std::size_t kMessageBuffer = 64 * 1024;
constexpr std::size_t kElemsPerMessage = 128;  // < 200 bytes each

// xt_NFQ_info_v3 from <linux/netfilter/xt_NFQUEUE.h>, padded to XT_ALIGN
// (8 bytes on 64-bit), as iptables-nft sends it.
struct XtNfqInfoV3 {
  std::uint16_t queuenum;
  std::uint16_t queues_total;
  std::uint16_t flags;
  std::uint16_t pad;
};
constexpr std::uint16_t kXtNfqBypass = 0x01;

nlmsghdr* header(char* buf, std::uint16_t type, std::uint16_t family, std::uint16_t flags,
                 std::uint32_t seq) {
  return nftnl_nlmsg_build_hdr(buf, type, family, flags | NLM_F_ACK, seq);
}

SetPtr make_set(const std::string& table, std::uint16_t family, const std::string& name,
                std::uint32_t id) {
  SetPtr s(nftnl_set_alloc());
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, name.c_str());
  nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, family);
  if (id) nftnl_set_set_u32(s.get(), NFTNL_SET_ID, id);
  return s;
}

void add_expr(nftnl_rule* r, nftnl_expr* e) { nftnl_rule_add_expr(r, e); }

}  // namespace

Batch::Batch(std::uint32_t seq) : tmp_(kMessageBuffer), seq_(seq) {
  buf_.reserve(64 * 1024);
  char tmp[64];
  append(nftnl_batch_begin(tmp, seq_++));
}

std::vector<std::uint8_t> Batch::finish() {
  char tmp[64];
  append(nftnl_batch_end(tmp, seq_++));
  return std::move(buf_);
}

void Batch::append(const nlmsghdr* nlh) {
  dirty_ = std::max<std::size_t>(dirty_, NLMSG_ALIGN(nlh->nlmsg_len) + 16);
  const auto* p = reinterpret_cast<const std::uint8_t*>(nlh);
  buf_.insert(buf_.end(), p, p + NLMSG_ALIGN(nlh->nlmsg_len));
}

// --- messages ---

void table_msg(Batch& b, const std::string& name, std::uint16_t family, std::uint16_t type,
               std::uint16_t flags) {
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, family);
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = header(buf, type, family, flags, seq);
    nftnl_table_nlmsg_build_payload(nlh, t.get());
    return nlh;
  });
}

void chain_msg(Batch& b, const std::string& table, std::uint16_t family, const ChainDef& cd) {
  ChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, family);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, cd.name.c_str());
  if (cd.base) {
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, cd.type);
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, cd.hook);
    nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, cd.priority);
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
  }
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = header(buf, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE, seq);
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    return nlh;
  });
}

void del_chain_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& chain) {
  ChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, family);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.c_str());
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = header(buf, NFT_MSG_DELCHAIN, family, 0, seq);
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    return nlh;
  });
}

void flush_chain_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& chain) {
  RulePtr r = new_rule(table, family, chain);
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = header(buf, NFT_MSG_DELRULE, family, 0, seq);
    nftnl_rule_nlmsg_build_payload(nlh, r.get());
    return nlh;
  });
}

void set_msg(Batch& b, const std::string& table, std::uint16_t family, const SetDef& d) {
  SetPtr s = make_set(table, family, d.name, d.id);
  nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, d.flags);
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, d.key_type);
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, d.key_len);
  if (d.flags & NFT_SET_MAP) {
    nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_TYPE, d.data_type);
    nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_LEN, d.data_len);
  }
  if (d.flags & NFT_SET_OBJECT) nftnl_set_set_u32(s.get(), NFTNL_SET_OBJ_TYPE, d.obj_type);
  if (d.flags & NFT_SET_TIMEOUT) nftnl_set_set_u64(s.get(), NFTNL_SET_TIMEOUT, d.timeout_ms);
  if (d.size) nftnl_set_set_u32(s.get(), NFTNL_SET_DESC_SIZE, d.size);
  if (d.byteorder_udata) {
    nftnl_udata_buf* ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, d.key_byteorder);
    if (d.flags & NFT_SET_MAP) nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, d.data_byteorder);
    nftnl_set_set_data(s.get(), NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
    nftnl_udata_buf_free(ud);
  }
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = header(buf, NFT_MSG_NEWSET, family, NLM_F_CREATE, seq);
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    return nlh;
  });
}

void set_elems_msgs(Batch& b, const std::string& table, std::uint16_t family, const SetDef& d) {
  for (std::size_t first = 0; first < d.elems.size(); first += kElemsPerMessage) {
    SetPtr s = make_set(table, family, d.name, d.id);
    const std::size_t last = std::min(d.elems.size(), first + kElemsPerMessage);
    for (std::size_t i = first; i < last; ++i) {
      const SetElem& el = d.elems[i];
      nftnl_set_elem* e = nftnl_set_elem_alloc();
      nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, el.key.data(), static_cast<std::uint32_t>(el.key.size()));
      if (!el.data.empty())
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, el.data.data(), static_cast<std::uint32_t>(el.data.size()));
      if (!el.objref.empty()) nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_OBJREF, el.objref.c_str());
      nftnl_set_elem_add(s.get(), e);
    }
    b.message([&](char* buf, std::uint32_t seq) {
      nlmsghdr* nlh = header(buf, NFT_MSG_NEWSETELEM, family, NLM_F_CREATE, seq);
      nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
      return nlh;
    });
  }
}

void flush_set_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& set) {
  // Written by hand: some libnftnl versions add an empty element list,
  // which the kernel reads as "delete nothing" instead of "flush".
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = header(buf, NFT_MSG_DELSETELEM, family, 0, seq);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set.c_str());
    return nlh;
  });
}

void del_set_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& set) {
  SetPtr s = make_set(table, family, set, 0);
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = header(buf, NFT_MSG_DELSET, family, 0, seq);
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    return nlh;
  });
}

namespace {
ObjPtr make_obj(const std::string& table, std::uint16_t family, const std::string& name,
                std::uint32_t type) {
  ObjPtr o(nftnl_obj_alloc());
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table.c_str());
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, name.c_str());
  nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, type);
  nftnl_obj_set_u32(o.get(), NFTNL_OBJ_FAMILY, family);
  return o;
}
}  // namespace

void obj_msg(Batch& b, const std::string& table, std::uint16_t family, const ObjDef& d) {
  ObjPtr o = make_obj(table, family, d.name, d.type);
  if (d.type == NFT_OBJECT_COUNTER) {
    nftnl_obj_set_u64(o.get(), NFTNL_OBJ_CTR_PKTS, 0);
    nftnl_obj_set_u64(o.get(), NFTNL_OBJ_CTR_BYTES, 0);
  } else if (d.type == NFT_OBJECT_CT_TIMEOUT) {
    nftnl_obj_set_u16(o.get(), NFTNL_OBJ_CT_TIMEOUT_L3PROTO, family);
    nftnl_obj_set_u8(o.get(), NFTNL_OBJ_CT_TIMEOUT_L4PROTO, d.l4proto);
    nftnl_obj_set_data(o.get(), NFTNL_OBJ_CT_TIMEOUT_ARRAY, d.policy.data(),
                       static_cast<std::uint32_t>(sizeof d.policy));
  }
  b.message([&](char* buf, std::uint32_t seq) {
    // No NLM_F_EXCL: an existing object of that name and type stays as it
    // is (a counter keeps its value; the kernel cannot change a ct timeout).
    nlmsghdr* nlh = header(buf, NFT_MSG_NEWOBJ, family, NLM_F_CREATE, seq);
    nftnl_obj_nlmsg_build_payload(nlh, o.get());
    return nlh;
  });
}

void del_obj_msg(Batch& b, const std::string& table, std::uint16_t family, const std::string& name,
                 std::uint32_t type) {
  ObjPtr o = make_obj(table, family, name, type);
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = header(buf, NFT_MSG_DELOBJ, family, 0, seq);
    nftnl_obj_nlmsg_build_payload(nlh, o.get());
    return nlh;
  });
}

RulePtr new_rule(const std::string& table, std::uint16_t family, const std::string& chain) {
  RulePtr r(nftnl_rule_alloc());
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, family);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.c_str());
  return r;
}

void rule_msg(Batch& b, const nftnl_rule* r) {
  const auto family = static_cast<std::uint16_t>(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY));
  b.message([&](char* buf, std::uint32_t seq) {
    nlmsghdr* nlh = header(buf, NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_APPEND, seq);
    nftnl_rule_nlmsg_build_payload(nlh, const_cast<nftnl_rule*>(r));
    return nlh;
  });
}

void set_comment(nftnl_rule* r, const std::string& comment) {
  if (comment.empty()) return;
  nftnl_udata_buf* ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
  // nft limits comments to 128 bytes.
  std::string c = comment.substr(0, 127);
  nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, c.c_str());
  nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
  nftnl_udata_buf_free(ud);
}

// --- expressions ---

std::uint32_t reg_at_word(std::uint32_t word) {
  return word % 4 == 0 ? NFT_REG_1 + word / 4 : NFT_REG32_00 + word;
}

void meta_load(nftnl_rule* r, std::uint32_t key, std::uint32_t dreg) {
  nftnl_expr* e = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
  add_expr(r, e);
}

void meta_set(nftnl_rule* r, std::uint32_t key, std::uint32_t sreg) {
  nftnl_expr* e = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
  add_expr(r, e);
}

void ct_load(nftnl_rule* r, std::uint32_t key, std::uint32_t dreg) {
  nftnl_expr* e = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
  add_expr(r, e);
}

void ct_set(nftnl_rule* r, std::uint32_t key, std::uint32_t sreg) {
  nftnl_expr* e = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, sreg);
  add_expr(r, e);
}

void payload_load(nftnl_rule* r, std::uint32_t base, std::uint32_t offset, std::uint32_t len,
                  std::uint32_t dreg) {
  nftnl_expr* e = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
  add_expr(r, e);
}

void cmp(nftnl_rule* r, std::uint32_t op, const void* data, std::uint32_t len, std::uint32_t sreg) {
  nftnl_expr* e = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  add_expr(r, e);
}

void cmp_u32(nftnl_rule* r, std::uint32_t op, std::uint32_t host_value) {
  cmp(r, op, &host_value, sizeof host_value);
}

void cmp_u8(nftnl_rule* r, std::uint32_t op, std::uint8_t value) { cmp(r, op, &value, 1); }

void bitwise(nftnl_rule* r, std::uint32_t len, std::uint32_t mask, std::uint32_t xor_value,
             std::uint32_t reg) {
  // Host order, as loaded by meta/ct (len 4); a 1-byte payload field sits
  // in the register's first byte, which is the low byte on little endian.
  nftnl_expr* e = nftnl_expr_alloc("bitwise");
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
  std::uint8_t m[4], x[4];
  if (len == 1) {
    m[0] = static_cast<std::uint8_t>(mask);
    x[0] = static_cast<std::uint8_t>(xor_value);
  } else {
    std::memcpy(m, &mask, 4);
    std::memcpy(x, &xor_value, 4);
  }
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, m, len);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, x, len);
  add_expr(r, e);
}

void lookup(nftnl_rule* r, const std::string& set, std::uint32_t set_id, std::uint32_t sreg) {
  nftnl_expr* e = nftnl_expr_alloc("lookup");
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
  nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set.c_str());
  if (set_id) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
  add_expr(r, e);
}

void lookup_map(nftnl_rule* r, const std::string& set, std::uint32_t set_id, std::uint32_t dreg,
                std::uint32_t sreg) {
  nftnl_expr* e = nftnl_expr_alloc("lookup");
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
  nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set.c_str());
  if (set_id) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
  add_expr(r, e);
}

void immediate_u32(nftnl_rule* r, std::uint32_t value, std::uint32_t dreg) {
  nftnl_expr* e = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
  nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &value, sizeof value);
  add_expr(r, e);
}

void verdict(nftnl_rule* r, int code, const char* chain) {
  nftnl_expr* e = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<std::uint32_t>(code));
  if (chain) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
  add_expr(r, e);
}

void plain(nftnl_rule* r, const char* name) { add_expr(r, nftnl_expr_alloc(name)); }

void dynset(nftnl_rule* r, std::uint32_t op, const std::string& set, std::uint32_t set_id,
            std::uint32_t sreg_key, std::uint32_t sreg_data) {
  nftnl_expr* e = nftnl_expr_alloc("dynset");
  nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg_key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_DATA, sreg_data);
  nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, op);
  nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set.c_str());
  if (set_id) nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id);
  add_expr(r, e);
}

void objref_map(nftnl_rule* r, const std::string& set, std::uint32_t set_id, std::uint32_t sreg) {
  nftnl_expr* e = nftnl_expr_alloc("objref");
  nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_SET_SREG, sreg);
  nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_SET_NAME, set.c_str());
  if (set_id) nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_SET_ID, set_id);
  add_expr(r, e);
}

void objref(nftnl_rule* r, std::uint32_t type, const std::string& name) {
  nftnl_expr* e = nftnl_expr_alloc("objref");
  nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, type);
  nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name.c_str());
  add_expr(r, e);
}

void synproxy(nftnl_rule* r, std::uint16_t mss, std::uint8_t wscale, std::uint32_t flags) {
  nftnl_expr* e = nftnl_expr_alloc("synproxy");
  nftnl_expr_set_u16(e, NFTNL_EXPR_SYNPROXY_MSS, mss);
  nftnl_expr_set_u8(e, NFTNL_EXPR_SYNPROXY_WSCALE, wscale);
  nftnl_expr_set_u32(e, NFTNL_EXPR_SYNPROXY_FLAGS, flags);
  add_expr(r, e);
}

void dup(nftnl_rule* r, std::uint32_t sreg_addr, std::uint32_t sreg_dev) {
  nftnl_expr* e = nftnl_expr_alloc("dup");
  nftnl_expr_set_u32(e, NFTNL_EXPR_DUP_SREG_ADDR, sreg_addr);
  nftnl_expr_set_u32(e, NFTNL_EXPR_DUP_SREG_DEV, sreg_dev);
  add_expr(r, e);
}

void nat(nftnl_rule* r, std::uint32_t type, std::uint16_t family, std::uint32_t reg_addr,
         std::uint32_t reg_proto) {
  // No flags, as nft sends it: the kernel derives "map the address" and
  // "proto specified" from the registers given; no max register = min.
  nftnl_expr* e = nftnl_expr_alloc("nat");
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, family);
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, reg_addr);
  if (reg_proto) nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, reg_proto);
  add_expr(r, e);
}

void queue(nftnl_rule* r, bool native, std::uint16_t first, std::uint16_t count, bool bypass) {
  if (native) {
    nftnl_expr* e = nftnl_expr_alloc("queue");
    nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, first);
    nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, count);
    nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
    add_expr(r, e);
    return;
  }
  XtNfqInfoV3 info{first, count, static_cast<std::uint16_t>(bypass ? kXtNfqBypass : 0), 0};
  nftnl_expr* e = nftnl_expr_alloc("target");
  nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
  nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
  // libnftnl keeps the pointer it is given: hand it a heap copy it frees.
  void* copy = malloc(sizeof info);
  std::memcpy(copy, &info, sizeof info);
  nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, copy, sizeof info);
  add_expr(r, e);
}

}  // namespace vsd::nfq::nftnl
