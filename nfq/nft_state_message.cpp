#include "nfq/nft_state_message.hpp"

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
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
  ObjPtr o(nftnl_obj_alloc());
  if (nftnl_obj_nlmsg_parse(nlh, o.get()) < 0) return false;
  if (!nftnl_obj_is_set(o.get(), NFTNL_OBJ_TYPE) || !nftnl_obj_is_set(o.get(), NFTNL_OBJ_NAME) ||
      nftnl_obj_get_u32(o.get(), NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER)
    return false;
  const std::uint32_t family = nftnl_obj_get_u32(o.get(), NFTNL_OBJ_FAMILY);
  if (family != NFPROTO_IPV4 && family != NFPROTO_IPV6) return false;
  NftCounter c;
  c.family = family == NFPROTO_IPV4 ? Family::v4 : Family::v6;
  c.name = nftnl_obj_get_str(o.get(), NFTNL_OBJ_NAME);
  c.packets = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_CTR_PKTS);
  c.bytes = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_CTR_BYTES);
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
  SetPtr s(nftnl_set_alloc());
  if (nftnl_set_elems_nlmsg_parse(nlh, s.get()) < 0) return false;
  struct Walk {
    std::vector<FlowElement>* out;
    std::size_t skipped = 0;
  } walk{out};
  nftnl_set_elem_foreach(
      s.get(),
      [](nftnl_set_elem* e, void* data) {
        auto* w = static_cast<Walk*>(data);
        std::uint32_t klen = 0, dlen = 0;
        const void* k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
        const void* d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &dlen);
        FlowKey key;
        if (!k || !d || dlen != 4 ||
            !decode_flow_key({static_cast<const std::uint8_t*>(k), klen}, &key)) {
          ++w->skipped;
          return 0;
        }
        FlowElement f;
        f.client = key.client;
        f.vip = key.vip;
        std::memcpy(&f.mark, d, 4);  // a mark is kept in host order
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
          f.timeout_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
          f.expires_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
        nftnl_set_elem_expr_foreach(
            e,
            [](nftnl_expr* x, void* data) {
              const char* name = nftnl_expr_get_str(x, NFTNL_EXPR_NAME);
              if (name && std::strcmp(name, "counter") == 0)
                *static_cast<std::optional<FlowCounters>*>(data) =
                    FlowCounters{nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS),
                                 nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_BYTES)};
              return 0;
            },
            &f.counters);
        w->out->push_back(f);
        return 0;
      },
      &walk);
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
