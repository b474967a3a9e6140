#include "nfq/nft_state_message.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
// glibc headers before the kernel uapi ones.
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace vsd::kstate {
namespace {

template <class T, void (*Free)(const T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using ObjPtr = std::unique_ptr<nftnl_obj, Deleter<nftnl_obj, nftnl_obj_free>>;
using SetPtr = std::unique_ptr<nftnl_set, Deleter<nftnl_set, nftnl_set_free>>;

// nftables names are at most NFT_NAME_MAXLEN - 1 = 255 bytes.
bool valid_name(const std::string& name) { return !name.empty() && name.size() <= 255; }

std::uint16_t nfproto(Family f) { return f == Family::v4 ? NFPROTO_IPV4 : NFPROTO_IPV6; }

bool is_nft(const nlmsghdr* nlh, std::uint8_t msg) {
  return nlh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | msg) &&
         nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(nfgenmsg);
}

SetPtr named_set(Family family, const std::string& table, const std::string& map) {
  SetPtr s(nftnl_set_alloc());
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, map.c_str());
  nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, nfproto(family));
  return s;
}

void append(std::vector<std::uint8_t>& out, const nlmsghdr* nlh) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(nlh);
  out.insert(out.end(), p, p + NLMSG_ALIGN(nlh->nlmsg_len));
}

// One set element message (DESTROY or DEL) with the given keys.
void append_elements(std::vector<std::uint8_t>& out, std::uint16_t type, Family family,
                     const std::string& table, const std::string& map,
                     std::span<const FlowKey> keys, std::uint32_t seq) {
  SetPtr s = named_set(family, table, map);
  for (const FlowKey& k : keys) {
    std::uint8_t key[kFlowKeyMax];
    const std::size_t len = encode_flow_key(k, key);
    nftnl_set_elem* e = nftnl_set_elem_alloc();
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, static_cast<std::uint32_t>(len));
    nftnl_set_elem_add(s.get(), e);
  }
  // Per element at most 4 (element) + 4 (key nest) + 4 + 40 (key) bytes.
  std::vector<char> tmp(1024 + keys.size() * 64);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(tmp.data(), type, nfproto(family), NLM_F_ACK, seq);
  nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
  append(out, nlh);
}

// The answers are read with libmnl, not libnftnl: libnftnl's parsers call
// exit() on an attribute they cannot validate (its abi_breakage()), so one
// malformed answer would end vsd (found by tests/fuzz/kstate_fuzz). Only
// the attributes vsd needs are read; unknown ones are skipped.
template <int Max>
struct Attrs {
  const nlattr* at[Max + 1] = {};
};

template <int Max>
int collect(const nlattr* a, void* data) {
  const int type = mnl_attr_get_type(a);
  if (type <= Max) static_cast<Attrs<Max>*>(data)->at[type] = a;
  return MNL_CB_OK;
}

template <int Max>
bool nested(const nlattr* a, Attrs<Max>* out) {
  return a && mnl_attr_parse_nested(a, collect<Max>, out) >= 0;
}

bool u32_be(const nlattr* a, std::uint32_t* out) {
  if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0) return false;
  *out = ntohl(mnl_attr_get_u32(a));
  return true;
}

bool u64_be(const nlattr* a, std::uint64_t* out) {
  if (!a || mnl_attr_validate(a, MNL_TYPE_U64) < 0) return false;
  *out = be64toh(mnl_attr_get_u64(a));
  return true;
}

const char* text(const nlattr* a) {
  return a && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 ? mnl_attr_get_str(a) : nullptr;
}

// NFTA_DATA_VALUE inside a key or data nest.
std::span<const std::uint8_t> data_value(const nlattr* a) {
  Attrs<NFTA_DATA_MAX> d;
  if (!nested(a, &d) || !d.at[NFTA_DATA_VALUE]) return {};
  return {static_cast<const std::uint8_t*>(mnl_attr_get_payload(d.at[NFTA_DATA_VALUE])),
          mnl_attr_get_payload_len(d.at[NFTA_DATA_VALUE])};
}

// An expression nest: its counter's values, if it is a counter.
void counter_of(const nlattr* expr, std::optional<FlowCounters>* out) {
  Attrs<NFTA_EXPR_MAX> e;
  Attrs<NFTA_COUNTER_MAX> c;
  const char* name = nested(expr, &e) ? text(e.at[NFTA_EXPR_NAME]) : nullptr;
  if (!name || std::strcmp(name, "counter") != 0 || !nested(e.at[NFTA_EXPR_DATA], &c)) return;
  FlowCounters f;
  if (u64_be(c.at[NFTA_COUNTER_PACKETS], &f.packets) && u64_be(c.at[NFTA_COUNTER_BYTES], &f.bytes)) *out = f;
}

// One NFTA_LIST_ELEM of a flow map; false when its key or data has another shape.
bool flow_element(const nlattr* elem, FlowElement* f) {
  Attrs<NFTA_SET_ELEM_MAX> e;
  if (!nested(elem, &e)) return false;
  const auto key = data_value(e.at[NFTA_SET_ELEM_KEY]);
  const auto data = data_value(e.at[NFTA_SET_ELEM_DATA]);
  FlowKey k;
  if (data.size() != 4 || !decode_flow_key(key, &k)) return false;
  f->client = k.client;
  f->vip = k.vip;
  std::memcpy(&f->mark, data.data(), 4);  // a mark is kept in host order
  std::uint64_t v = 0;
  if (u64_be(e.at[NFTA_SET_ELEM_TIMEOUT], &v)) f->timeout_ms = v;
  if (u64_be(e.at[NFTA_SET_ELEM_EXPIRATION], &v)) f->expires_ms = v;
  if (e.at[NFTA_SET_ELEM_EXPR]) counter_of(e.at[NFTA_SET_ELEM_EXPR], &f->counters);
  if (e.at[NFTA_SET_ELEM_EXPRESSIONS])
    mnl_attr_parse_nested(
        e.at[NFTA_SET_ELEM_EXPRESSIONS],
        [](const nlattr* x, void* data) {
          if (mnl_attr_get_type(x) == NFTA_LIST_ELEM)
            counter_of(x, static_cast<std::optional<FlowCounters>*>(data));
          return MNL_CB_OK;
        },
        &f->counters);
  return true;
}

}  // namespace

std::size_t encode_flow_key(const FlowKey& key, std::span<std::uint8_t, kFlowKeyMax> out) {
  if (key.client.addr.is_v4() != key.vip.addr.is_v4()) return 0;
  std::fill(out.begin(), out.end(), 0);
  const std::size_t alen = key.client.addr.size();
  std::size_t at = 0;
  for (const Endpoint* ep : {&key.client, &key.vip}) {
    std::memcpy(out.data() + at, ep->addr.data(), alen);
    at += alen;
    out[at] = static_cast<std::uint8_t>(ep->port >> 8);
    out[at + 1] = static_cast<std::uint8_t>(ep->port);
    at += 4;  // the port's register: 2 bytes, padded
  }
  return at;
}

bool decode_flow_key(std::span<const std::uint8_t> bytes, FlowKey* key) {
  std::size_t alen;
  if (bytes.size() == 16)
    alen = 4;
  else if (bytes.size() == 40)
    alen = 16;
  else
    return false;
  std::size_t at = 0;
  for (Endpoint* ep : {&key->client, &key->vip}) {
    ep->addr = alen == 4 ? IpAddress::v4(bytes.data() + at) : IpAddress::v6(bytes.data() + at);
    at += alen;
    ep->port = static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
    at += 4;
  }
  return true;
}

std::size_t build_counter_dump(std::span<std::uint8_t> buf, std::uint32_t seq,
                               const std::string& table) {
  if (buf.size() < kNftRequestSize || !valid_name(table)) return 0;
  ObjPtr o(nftnl_obj_alloc());
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table.c_str());
  nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
  std::memset(buf.data(), 0, kNftRequestSize);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(reinterpret_cast<char*>(buf.data()), NFT_MSG_GETOBJ,
                                        NFPROTO_UNSPEC, NLM_F_DUMP, seq);
  nftnl_obj_nlmsg_build_payload(nlh, o.get());
  return nlh->nlmsg_len;
}

bool parse_counter(const nlmsghdr* nlh, NftCounter* out) {
  if (!is_nft(nlh, NFT_MSG_NEWOBJ)) return false;
  const std::uint8_t family = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->nfgen_family;
  if (family != NFPROTO_IPV4 && family != NFPROTO_IPV6) return false;
  Attrs<NFTA_OBJ_MAX> obj;
  if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collect<NFTA_OBJ_MAX>, &obj) < 0) return false;
  std::uint32_t type = 0;
  if (!u32_be(obj.at[NFTA_OBJ_TYPE], &type) || type != NFT_OBJECT_COUNTER) return false;
  const char* name = text(obj.at[NFTA_OBJ_NAME]);
  Attrs<NFTA_COUNTER_MAX> ctr;
  if (!name || !nested(obj.at[NFTA_OBJ_DATA], &ctr)) return false;
  NftCounter c;
  c.family = family == NFPROTO_IPV4 ? Family::v4 : Family::v6;
  c.name = name;
  if (!u64_be(ctr.at[NFTA_COUNTER_PACKETS], &c.packets) || !u64_be(ctr.at[NFTA_COUNTER_BYTES], &c.bytes))
    return false;
  *out = std::move(c);
  return true;
}

std::size_t build_flow_map_dump(std::span<std::uint8_t> buf, std::uint32_t seq, Family family,
                                const std::string& table, const std::string& map) {
  if (buf.size() < kNftRequestSize || !valid_name(table) || !valid_name(map)) return 0;
  SetPtr s = named_set(family, table, map);
  std::memset(buf.data(), 0, kNftRequestSize);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(reinterpret_cast<char*>(buf.data()), NFT_MSG_GETSETELEM,
                                        nfproto(family), NLM_F_DUMP, seq);
  nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
  return nlh->nlmsg_len;
}

bool parse_flow_elements(const nlmsghdr* nlh, std::vector<FlowElement>* out, std::size_t* skipped) {
  if (!is_nft(nlh, NFT_MSG_NEWSETELEM)) return false;
  Attrs<NFTA_SET_ELEM_LIST_MAX> list;
  if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collect<NFTA_SET_ELEM_LIST_MAX>, &list) < 0) return false;
  struct Walk {
    std::vector<FlowElement>* out;
    std::size_t skipped = 0;
  } walk{out};
  if (list.at[NFTA_SET_ELEM_LIST_ELEMENTS] &&
      mnl_attr_parse_nested(
          list.at[NFTA_SET_ELEM_LIST_ELEMENTS],
          [](const nlattr* a, void* data) {
            auto* w = static_cast<Walk*>(data);
            FlowElement f;
            if (mnl_attr_get_type(a) == NFTA_LIST_ELEM && flow_element(a, &f))
              w->out->push_back(f);
            else
              ++w->skipped;
            return MNL_CB_OK;
          },
          &walk) < 0)
    return false;
  if (skipped) *skipped += walk.skipped;
  return true;
}

std::vector<std::uint8_t> build_flow_delete_batch(Family family, const std::string& table,
                                                  const std::string& map,
                                                  std::span<const FlowKey> keys, std::uint32_t seq,
                                                  DeleteOp op) {
  std::vector<std::uint8_t> out;
  if (!valid_name(table) || !valid_name(map)) return out;
  const bool v4 = family == Family::v4;
  char tmp[64];
  append(out, nftnl_batch_begin(tmp, seq));
  const std::size_t empty = out.size();
  if (op == DeleteOp::destroy) {
    constexpr std::size_t kPerMessage = 500;
    std::vector<FlowKey> chunk;
    std::uint32_t next = seq + 1;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const FlowKey& k = keys[i];
      if (k.client.addr.is_v4() == v4 && k.vip.addr.is_v4() == v4) chunk.push_back(k);
      if (chunk.size() == kPerMessage || (i + 1 == keys.size() && !chunk.empty())) {
        append_elements(out, kNftMsgDestroySetElem, family, table, map, chunk, next++);
        chunk.clear();
      }
    }
  } else {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const FlowKey& k = keys[i];
      if (k.client.addr.is_v4() != v4 || k.vip.addr.is_v4() != v4) continue;
      append_elements(out, NFT_MSG_DELSETELEM, family, table, map, {&k, 1},
                      seq + 1 + static_cast<std::uint32_t>(i));
    }
  }
  if (out.size() == empty) return {};
  append(out, nftnl_batch_end(tmp, seq + 1 + static_cast<std::uint32_t>(keys.size())));
  return out;
}

}  // namespace vsd::kstate
