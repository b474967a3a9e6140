// vsd's nftables batch, decoded back with libnftnl: both queue encodings,
// the matches, notrack, comments, the atomic replace and in-place update
// sequences, and the kernel fast path's objects and rules (each expected
// expression as `nft --debug=netlink` shows what nft itself sends for the
// same rule). The kernel tests at the end run in a private network
// namespace; the fast path's are in ruleset_fastpath_kernel_test.cpp.
#include "nfq/ruleset.hpp"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>

namespace vsd::nfq {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

RulesetSpec sample() {
  RulesetSpec s;
  s.table = "vsdtest";
  s.queue_first = 4;
  s.queue_count = 2;
  s.bypass = true;
  s.matches.push_back({DivertMatch::Side::destination, ip("192.0.2.10"), IPPROTO_TCP, 80, "vsd service TCP 192.0.2.10:80"});
  s.matches.push_back({DivertMatch::Side::source, ip("203.0.113.11"), IPPROTO_TCP, 8000, "vsd NAT replies 203.0.113.11:8000"});
  s.matches.push_back({DivertMatch::Side::destination, ip("2001:db8::10"), IPPROTO_UDP, 0, "vsd service UDP [2001:db8::10]:0"});
  return s;
}

struct DecodedSet {
  std::uint32_t flags = 0, key_type = 0, key_len = 0, data_type = 0, data_len = 0, obj_type = 0, size = 0;
  std::uint64_t timeout = 0;
  std::vector<std::uint8_t> udata;
  std::vector<std::vector<std::uint8_t>> keys, data;
  std::vector<std::string> objrefs;
};

struct DecodedRule {
  std::string family, chain, text, comment;
};

struct Decoded {
  std::vector<std::string> messages;  // "NEWTABLE ip", ...
  std::vector<std::string> named;     // "NEWSET ip tcp_flows", "DELRULE ip prerouting", ...
  std::vector<std::string> rules;     // libnftnl's debug rendering
  std::vector<std::string> comments;
  std::vector<DecodedRule> rule_list;
  std::map<std::string, DecodedSet> sets;  // "ip tcp_flows" (NEWSET + NEWSETELEM)
  std::map<std::string, std::vector<std::uint32_t>> timeouts;  // "ip tcp_900_120": the policy
  std::map<std::string, std::uint8_t> timeout_l4;

  // The rules of one chain in one family, in order.
  std::vector<std::string> chain(const std::string& family, const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& r : rule_list)
      if (r.family == family && r.chain == name) out.push_back(r.text);
    return out;
  }
  std::size_t count(const std::string& message) const {
    return static_cast<std::size_t>(std::count(named.begin(), named.end(), message));
  }
  std::size_t index(const std::string& message) const {
    return static_cast<std::size_t>(std::find(named.begin(), named.end(), message) - named.begin());
  }
};

template <class Fn>
void each_attr(const void* begin, const char* end, Fn fn) {
  const auto* a = static_cast<const nlattr*>(begin);
  while (mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<const char*>(a)))) {
    fn(a);
    a = mnl_attr_next(a);
  }
}
template <class Fn>
void each_nested(const nlattr* nest, Fn fn) {
  each_attr(mnl_attr_get_payload(nest),
            static_cast<const char*>(mnl_attr_get_payload(nest)) + mnl_attr_get_payload_len(nest), fn);
}

Decoded decode(const std::vector<std::uint8_t>& batch) {
  Decoded d;
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.data());
  int len = static_cast<int>(batch.size());
  static const char* const kNames[] = {"NEWTABLE", "GETTABLE", "DELTABLE", "NEWCHAIN", "GETCHAIN", "DELCHAIN",
                                       "NEWRULE",  "GETRULE",  "DELRULE",  "NEWSET",   "GETSET",   "DELSET",
                                       "NEWSETELEM", "GETSETELEM", "DELSETELEM", "NEWGEN", "GETGEN", "TRACE",
                                       "NEWOBJ",   "GETOBJ",   "DELOBJ"};
  while (mnl_nlmsg_ok(nlh, len)) {
    int type = nlh->nlmsg_type & 0xff;
    const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    std::string fam = nfg->nfgen_family == NFPROTO_IPV4 ? "ip" : nfg->nfgen_family == NFPROTO_IPV6 ? "ip6" : "?";
    if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
      d.messages.push_back("BEGIN");
    } else if (nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
      d.messages.push_back("END");
    } else {
      const std::string kind = type <= NFT_MSG_DELOBJ ? kNames[type] : "?";
      d.messages.push_back(kind + " " + fam);
      std::string name;
      if (type == NFT_MSG_NEWRULE || type == NFT_MSG_DELRULE) {
        std::unique_ptr<nftnl_rule, void (*)(const nftnl_rule*)> r(nftnl_rule_alloc(), nftnl_rule_free);
        EXPECT_EQ(nftnl_rule_nlmsg_parse(nlh, r.get()), 0);
        name = nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN);
        if (type == NFT_MSG_NEWRULE) {
          char buf[4096];
          nftnl_rule_snprintf(buf, sizeof buf, r.get(), NFTNL_OUTPUT_DEFAULT, 0);
          d.rules.push_back(buf);
          std::string comment;
          std::uint32_t ulen = 0;
          if (const void* ud = nftnl_rule_get_data(r.get(), NFTNL_RULE_USERDATA, &ulen)) {
            // TLV: type, length, value (NUL-terminated string).
            const auto* p = static_cast<const std::uint8_t*>(ud);
            if (ulen > 2 && p[0] == NFTNL_UDATA_RULE_COMMENT) {
              comment = reinterpret_cast<const char*>(p + 2);
              d.comments.push_back(comment);
            }
          }
          d.rule_list.push_back({fam, name, buf, comment});
        }
      } else if (type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN) {
        std::unique_ptr<nftnl_chain, void (*)(const nftnl_chain*)> c(nftnl_chain_alloc(), nftnl_chain_free);
        EXPECT_EQ(nftnl_chain_nlmsg_parse(nlh, c.get()), 0);
        name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
      } else if (type == NFT_MSG_NEWSET || type == NFT_MSG_DELSET) {
        std::unique_ptr<nftnl_set, void (*)(const nftnl_set*)> st(nftnl_set_alloc(), nftnl_set_free);
        EXPECT_EQ(nftnl_set_nlmsg_parse(nlh, st.get()), 0);
        name = nftnl_set_get_str(st.get(), NFTNL_SET_NAME);
        if (type == NFT_MSG_NEWSET) {
          DecodedSet& ds = d.sets[fam + " " + name];
          auto u32 = [&](std::uint16_t a) { return nftnl_set_is_set(st.get(), a) ? nftnl_set_get_u32(st.get(), a) : 0u; };
          ds.flags = u32(NFTNL_SET_FLAGS);
          ds.key_type = u32(NFTNL_SET_KEY_TYPE);
          ds.key_len = u32(NFTNL_SET_KEY_LEN);
          ds.data_type = u32(NFTNL_SET_DATA_TYPE);
          ds.data_len = u32(NFTNL_SET_DATA_LEN);
          ds.obj_type = u32(NFTNL_SET_OBJ_TYPE);
          ds.size = u32(NFTNL_SET_DESC_SIZE);
          if (nftnl_set_is_set(st.get(), NFTNL_SET_TIMEOUT)) ds.timeout = nftnl_set_get_u64(st.get(), NFTNL_SET_TIMEOUT);
          std::uint32_t ulen = 0;
          if (const void* ud = nftnl_set_get_data(st.get(), NFTNL_SET_USERDATA, &ulen)) {
            const auto* p = static_cast<const std::uint8_t*>(ud);
            ds.udata.assign(p, p + ulen);
          }
        }
      } else if (type == NFT_MSG_NEWSETELEM || type == NFT_MSG_DELSETELEM) {
        // Parsed with libmnl: libnftnl 1.2.4 cannot parse a message with
        // more than one element (the kernel and nft can).
        const nlattr* list = nullptr;
        each_attr(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)),
                  static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh)), [&](const nlattr* a) {
                    if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET) name = mnl_attr_get_str(a);
                    if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS) list = a;
                  });
        if (type == NFT_MSG_DELSETELEM) {
          EXPECT_EQ(list, nullptr) << "a flush names no element: " << name;
        } else if (list) {
          DecodedSet& ds = d.sets[fam + " " + name];
          auto value = [](const nlattr* nest) {
            std::vector<std::uint8_t> v;
            each_nested(nest, [&](const nlattr* x) {
              if (mnl_attr_get_type(x) == NFTA_DATA_VALUE) {
                const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(x));
                v.assign(p, p + mnl_attr_get_payload_len(x));
              }
            });
            return v;
          };
          each_nested(list, [&](const nlattr* elem) {
            each_nested(elem, [&](const nlattr* a) {
              if (mnl_attr_get_type(a) == NFTA_SET_ELEM_KEY) ds.keys.push_back(value(a));
              if (mnl_attr_get_type(a) == NFTA_SET_ELEM_DATA) ds.data.push_back(value(a));
              if (mnl_attr_get_type(a) == NFTA_SET_ELEM_OBJREF) ds.objrefs.emplace_back(mnl_attr_get_str(a));
            });
          });
        }
      } else if (type == NFT_MSG_NEWOBJ || type == NFT_MSG_DELOBJ) {
        std::unique_ptr<nftnl_obj, void (*)(const nftnl_obj*)> o(nftnl_obj_alloc(), nftnl_obj_free);
        EXPECT_EQ(nftnl_obj_nlmsg_parse(nlh, o.get()), 0);
        name = nftnl_obj_get_str(o.get(), NFTNL_OBJ_NAME);
        if (type == NFT_MSG_NEWOBJ && nftnl_obj_get_u32(o.get(), NFTNL_OBJ_TYPE) == NFT_OBJECT_CT_TIMEOUT) {
          EXPECT_EQ(nftnl_obj_get_u16(o.get(), NFTNL_OBJ_CT_TIMEOUT_L3PROTO), nfg->nfgen_family);
          d.timeout_l4[fam + " " + name] = nftnl_obj_get_u8(o.get(), NFTNL_OBJ_CT_TIMEOUT_L4PROTO);
          std::uint32_t l = 0;
          const auto* a = static_cast<const std::uint32_t*>(nftnl_obj_get_data(o.get(), NFTNL_OBJ_CT_TIMEOUT_ARRAY, &l));
          d.timeouts[fam + " " + name].assign(a, a + l / 4);
        }
      }
      d.named.push_back(name.empty() ? kind + " " + fam : kind + " " + fam + " " + name);
    }
    nlh = mnl_nlmsg_next(nlh, &len);
  }
  return d;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(Ruleset, AtomicReplaceSequenceForBothFamilies) {
  auto d = decode(build_replace_batch(sample(), QueueForm::native, 100));
  const std::vector<std::string> expected = {
      "BEGIN",
      "NEWTABLE ip", "DELTABLE ip", "NEWTABLE ip", "NEWCHAIN ip", "NEWCHAIN ip",
      "NEWRULE ip", "NEWRULE ip", "NEWRULE ip",
      "NEWTABLE ip6", "DELTABLE ip6", "NEWTABLE ip6", "NEWCHAIN ip6", "NEWCHAIN ip6",
      "NEWRULE ip6",
      "END"};
  EXPECT_EQ(d.messages, expected);
}

TEST(Ruleset, FreshInstallCreatesWithoutReplacing) {
  // Nothing installed yet: create-if-missing only, never a DELTABLE.
  auto d = decode(build_install_batch(sample(), QueueForm::native, 100));
  const std::vector<std::string> expected = {
      "BEGIN",
      "NEWTABLE ip", "NEWCHAIN ip", "NEWCHAIN ip", "NEWRULE ip", "NEWRULE ip", "NEWRULE ip",
      "NEWTABLE ip6", "NEWCHAIN ip6", "NEWCHAIN ip6", "NEWRULE ip6",
      "END"};
  EXPECT_EQ(d.messages, expected);
  // A pure function of the spec, padding bytes included.
  EXPECT_EQ(build_install_batch(sample(), QueueForm::native, 100), build_install_batch(sample(), QueueForm::native, 100));
}

TEST(Ruleset, InPlaceUpdateFlushesRulesAndRecreatesConstantSets) {
  // What an older vsd left: today's two chains and a fwmark set.
  InstalledTables now;
  now.ip = {true, {"prerouting", "forward"}, {"fwmark_7", "fwmark_8"}, {"fwmark_7", "fwmark_8"}, {}, {}};
  now.ip6 = {true, {"prerouting", "forward"}, {}, {}, {}, {}};
  RulesetSpec spec = sample();
  MarkGroup g;
  g.mark = 7;
  g.members = {{ip("192.0.2.10"), 443}};
  spec.mark_groups.push_back(g);
  auto d = decode(build_install_batch(spec, QueueForm::native, 1, now));
  const std::vector<std::string> expected_ip = {
      "NEWTABLE ip",
      "DELRULE ip prerouting", "DELRULE ip forward",  // every rule goes
      // A constant set takes no new elements once used: made again. One the
      // spec no longer has is deleted.
      "DELSET ip fwmark_7", "DELSET ip fwmark_8",
      "NEWCHAIN ip prerouting", "NEWCHAIN ip forward",
      "NEWSET ip fwmark_7", "NEWSETELEM ip fwmark_7"};
  ASSERT_GE(d.named.size(), expected_ip.size() + 1);
  EXPECT_EQ(std::vector<std::string>(d.named.begin(), d.named.begin() + expected_ip.size()), expected_ip);
  EXPECT_EQ(d.count("DELTABLE ip"), 0u);
  EXPECT_EQ(d.count("DELRULE ip6 prerouting"), 1u);
  EXPECT_EQ(d.count("DELSETELEM ip fwmark_7"), 0u);
}

TEST(Ruleset, NativeQueueEncoding) {
  auto d = decode(build_install_batch(sample(), QueueForm::native, 1));
  ASSERT_EQ(d.rules.size(), 4u);
  const std::string& vip = d.rules[0];
  EXPECT_TRUE(has(vip, "prerouting")) << vip;
  EXPECT_TRUE(has(vip, "[ payload load 4b @ network header + 16 => reg 1 ]")) << vip;
  EXPECT_TRUE(has(vip, "[ cmp eq reg 1 0x0a0200c0 ]")) << vip;  // 192.0.2.10
  EXPECT_TRUE(has(vip, "[ payload load 2b @ transport header + 2 => reg 1 ]")) << vip;
  EXPECT_TRUE(has(vip, "[ cmp eq reg 1 0x00005000 ]")) << vip;  // port 80
  EXPECT_TRUE(has(vip, "[ notrack ]")) << vip;
  EXPECT_TRUE(has(vip, "[ counter pkts 0 bytes 0 ]")) << vip;
  EXPECT_TRUE(has(vip, "[ queue num 4-5 bypass ]")) << vip;
  EXPECT_FALSE(has(vip, "target")) << vip;
}

TEST(Ruleset, XtCompatEncoding) {
  auto d = decode(build_install_batch(sample(), QueueForm::xt_compat, 1));
  ASSERT_EQ(d.rules.size(), 4u);
  EXPECT_TRUE(has(d.rules[0], "[ target name NFQUEUE rev 3 ]")) << d.rules[0];
  EXPECT_FALSE(has(d.rules[0], "[ queue")) << d.rules[0];
}

TEST(Ruleset, RepliesAreNotrackedBeforeRoutingAndQueuedInForward) {
  auto d = decode(build_install_batch(sample(), QueueForm::native, 1));
  const std::string& notrack = d.rules[1];
  const std::string& queue = d.rules[2];
  EXPECT_TRUE(has(notrack, "prerouting")) << notrack;
  EXPECT_TRUE(has(notrack, "[ payload load 4b @ network header + 12 => reg 1 ]")) << notrack;  // saddr
  EXPECT_TRUE(has(notrack, "[ payload load 2b @ transport header + 0 => reg 1 ]")) << notrack;  // sport
  EXPECT_TRUE(has(notrack, "[ notrack ]"));
  EXPECT_FALSE(has(notrack, "queue"));
  EXPECT_TRUE(has(queue, "forward")) << queue;
  EXPECT_FALSE(has(queue, "notrack")) << queue;
  EXPECT_TRUE(has(queue, "[ queue num 4-5 bypass ]")) << queue;
}

TEST(Ruleset, TrackedQueueForTheRealServersDecapsulation) {
  RulesetSpec spec = sample();
  spec.notrack = false;
  auto d = decode(build_install_batch(spec, QueueForm::native, 1));
  const std::string& vip = d.rules[0];
  EXPECT_TRUE(has(vip, "prerouting")) << vip;
  EXPECT_TRUE(has(vip, "[ queue num 4-5 bypass ]")) << vip;
  EXPECT_FALSE(has(vip, "notrack")) << vip;
}

TEST(Ruleset, Ipv6AndAnyPortAndComments) {
  auto d = decode(build_install_batch(sample(), QueueForm::native, 1));
  const std::string& v6 = d.rules[3];
  EXPECT_TRUE(has(v6, "[ payload load 16b @ network header + 24 => reg 1 ]")) << v6;
  EXPECT_TRUE(has(v6, "[ meta load l4proto => reg 1 ]")) << v6;
  EXPECT_FALSE(has(v6, "transport header")) << v6;  // port 0: any port
  ASSERT_EQ(d.comments.size(), 4u);
  EXPECT_EQ(d.comments[0], "vsd service TCP 192.0.2.10:80");
  EXPECT_EQ(d.comments[2], "vsd NAT replies 203.0.113.11:8000");
}

TEST(Ruleset, DeleteBatchAndBadSpec) {
  auto d = decode(build_delete_batch("vsdtest", 1));
  EXPECT_EQ(d.messages, (std::vector<std::string>{"BEGIN", "NEWTABLE ip", "DELTABLE ip", "NEWTABLE ip6", "DELTABLE ip6", "END"}));
  auto bad = sample();
  bad.queue_count = 0;
  EXPECT_THROW(build_install_batch(bad, QueueForm::native, 1), std::invalid_argument);
}

// --- the kernel fast path ---

MarkBits fast_bits() { return {0xffff0000, 0x80000000, 0x40000000, 0x20000000, 0x1fff0000}; }

DivertMatch dmatch(const char* addr, std::uint8_t proto, std::uint16_t port, Path path, std::string comment) {
  DivertMatch m;
  m.addr = ip(addr);
  m.l4proto = proto;
  m.port = port;
  m.path = path;
  m.comment = std::move(comment);
  return m;
}

// The colleague's target ruleset: one service per path, both families.
RulesetSpec fast_sample() {
  RulesetSpec s;
  s.table = "vsdtest";
  s.fast.bits = fast_bits();
  s.matches.push_back(dmatch("192.0.2.10", IPPROTO_TCP, 80, Path::userspace, "vsd service TCP 192.0.2.10:80"));
  s.matches.push_back(dmatch("198.51.100.100", IPPROTO_TCP, 80, Path::direct_kernel, "dr"));
  s.matches.push_back(dmatch("192.0.2.20", IPPROTO_TCP, 80, Path::nat_kernel, "nat"));
  s.matches.push_back(dmatch("2001:db8:5::100", IPPROTO_TCP, 80, Path::direct_kernel, "dr6"));
  s.matches.push_back(dmatch("2001:db8::20", IPPROTO_TCP, 80, Path::nat_kernel, "nat6"));
  DivertMatch replies = dmatch("203.0.113.50", IPPROTO_TCP, 8080, Path::userspace, "vsd NAT replies");
  replies.side = DivertMatch::Side::source;
  s.matches.push_back(replies);
  s.fast.nat = {{0x00010000, {ip("203.0.113.11"), 8000}},
                {0x00020000, {ip("203.0.113.12"), 0}},
                {0x00010000, {ip("2001:db8:2::11"), 8000}}};
  s.fast.direct = {{0x00030000, ip("198.51.100.21"), "eth0", 3},
                   {0x00040000, ip("198.51.100.22"), "eth1", 4},
                   {0x00030000, ip("2001:db8:5::21"), "eth0", 3}};
  s.fast.counted = {0x00010000};
  return s;
}

// The expressions of a rule, one per line, as `nft --debug=netlink` prints.
// (libnftnl writes objref names without a NUL, as nft does: the kernel
// goes by the attribute's length, libnftnl's parser reads on into the next
// attribute. What is not printable is cut.)
std::vector<std::string> exprs(const std::string& rule) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < rule.size()) {
    std::size_t end = rule.find('\n', pos);
    if (end == std::string::npos) end = rule.size();
    std::string line;
    for (char c : rule.substr(pos, end - pos))
      if (c >= ' ' && c <= '~') line += c;
    std::size_t b = line.find('[');
    if (b != std::string::npos) out.push_back(line.substr(b));
    pos = end + 1;
  }
  return out;
}

std::vector<std::uint8_t> bytes(std::initializer_list<int> v) {
  std::vector<std::uint8_t> out;
  for (int b : v) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}
std::vector<std::uint8_t> host_u32(std::uint32_t v) {
  std::vector<std::uint8_t> out(4);
  std::memcpy(out.data(), &v, 4);
  return out;
}

TEST(RulesetFastPath, NoMarkBitsNoFastPathObjects) {
  auto d = decode(build_install_batch(sample(), QueueForm::native, 1));
  for (const auto& m : d.named) {
    EXPECT_FALSE(has(m, "NEWSET") || has(m, "NEWOBJ")) << m;
    if (has(m, "NEWCHAIN")) {
      EXPECT_TRUE(has(m, "prerouting") || has(m, "forward")) << m;
    }
  }
  RulesetSpec bad = sample();
  bad.matches[0].path = Path::nat_kernel;  // a fast path without its bits
  EXPECT_THROW(build_install_batch(bad, QueueForm::native, 1), std::invalid_argument);
}

TEST(RulesetFastPath, ChainsAndObjectsPerFamilyOnlyWhereUsed) {
  auto d = decode(build_install_batch(fast_sample(), QueueForm::native, 1));
  for (const char* fam : {"ip", "ip6"}) {
    const std::string f = fam;
    for (const char* c : {"prerouting", "forward", "direct_flows", "direct_forward", "nat_queue", "nat_decide", "nat"})
      EXPECT_EQ(d.count("NEWCHAIN " + f + " " + c), 1u) << f << " " << c;
    for (const char* o : {"tcp_900_120", "udp_300", "in_1", "out_1"})
      EXPECT_EQ(d.count("NEWOBJ " + f + " " + o), 1u) << f << " " << o;
    for (const char* m : {"tcp_flows", "udp_flows", "direct_eth0", "nat_dests", "in_counters", "out_counters"})
      EXPECT_EQ(d.count("NEWSET " + f + " " + m), 1u) << f << " " << m;
  }
  // Per family: no IPv6 port-0 NAT real server, no IPv6 DR server on eth1.
  EXPECT_EQ(d.count("NEWSET ip nat_hosts"), 1u);
  EXPECT_EQ(d.count("NEWSET ip6 nat_hosts"), 0u);
  EXPECT_EQ(d.count("NEWSET ip direct_eth1"), 1u);
  EXPECT_EQ(d.count("NEWSET ip6 direct_eth1"), 0u);

  // NAT only, IPv4 only: no flow maps, no DR chains, nothing in ip6; no
  // counters without counted marks.
  RulesetSpec nat = fast_sample();
  nat.matches = {dmatch("192.0.2.20", IPPROTO_TCP, 80, Path::nat_kernel, "nat")};
  nat.fast.counted.clear();
  d = decode(build_install_batch(nat, QueueForm::native, 1));
  EXPECT_EQ(d.count("NEWCHAIN ip nat"), 1u);
  for (const auto& m : d.named) {
    EXPECT_FALSE(has(m, "flows") || has(m, "direct") || has(m, "counter") || has(m, "NEWOBJ ip in_")) << m;
    if (has(m, " ip6")) {
      EXPECT_TRUE(has(m, "prerouting") || has(m, "forward") || has(m, "NEWTABLE")) << m;
    }
  }
  // DR only: no NAT chains, no ct timeouts, no out_ counters (no replies).
  RulesetSpec dr = fast_sample();
  dr.matches = {dmatch("198.51.100.100", IPPROTO_TCP, 80, Path::direct_kernel, "dr")};
  d = decode(build_install_batch(dr, QueueForm::native, 1));
  EXPECT_EQ(d.count("NEWSET ip tcp_flows"), 1u);
  EXPECT_EQ(d.count("NEWOBJ ip in_1"), 1u);
  for (const auto& m : d.named)
    EXPECT_FALSE(has(m, "nat") || has(m, "tcp_900") || has(m, "out_")) << m;
}

TEST(RulesetFastPath, MapsSetsAndObjectsAsNftWritesThem) {
  auto d = decode(build_install_batch(fast_sample(), QueueForm::native, 1));
  // type ipv4_addr . inet_service . ipv4_addr . inet_service : mark;
  // flags dynamic,timeout; timeout 15m; size 65536
  const DecodedSet& tcp = d.sets.at("ip tcp_flows");
  EXPECT_EQ(tcp.flags, std::uint32_t{NFT_SET_MAP | NFT_SET_TIMEOUT | NFT_SET_EVAL});
  EXPECT_EQ(tcp.key_type, 0x001cd1cdu);
  EXPECT_EQ(tcp.key_len, 16u);
  EXPECT_EQ(tcp.data_type, 19u);  // mark
  EXPECT_EQ(tcp.data_len, 4u);
  EXPECT_EQ(tcp.timeout, 900000u);
  EXPECT_EQ(tcp.size, 65536u);
  EXPECT_TRUE(tcp.keys.empty());  // filled from the packet path only
  // key byte order 0 (a concatenation), data (the mark) in host order
  EXPECT_EQ(tcp.udata, bytes({0, 4, 0, 0, 0, 0, 1, 4, 1, 0, 0, 0}));
  EXPECT_EQ(d.sets.at("ip udp_flows").timeout, 300000u);
  const DecodedSet& tcp6 = d.sets.at("ip6 tcp_flows");
  EXPECT_EQ(tcp6.key_type, (((8u << 6 | 13u) << 6 | 8u) << 6) | 13u);
  EXPECT_EQ(tcp6.key_len, 40u);

  // type mark : ipv4_addr . inet_service, the port in network order padded to 4
  const DecodedSet& dests = d.sets.at("ip nat_dests");
  EXPECT_EQ(dests.flags, std::uint32_t{NFT_SET_MAP});
  EXPECT_EQ(dests.key_type, 19u);
  EXPECT_EQ(dests.data_type, (7u << 6) | 13u);
  EXPECT_EQ(dests.data_len, 8u);
  ASSERT_EQ(dests.keys.size(), 1u);
  EXPECT_EQ(dests.keys[0], host_u32(0x00010000));
  EXPECT_EQ(dests.data[0], bytes({203, 0, 113, 11, 0x1f, 0x40, 0, 0}));
  EXPECT_EQ(d.sets.at("ip6 nat_dests").data_len, 20u);
  const DecodedSet& hosts = d.sets.at("ip nat_hosts");
  EXPECT_EQ(hosts.data_type, 7u);
  EXPECT_EQ(hosts.data[0], bytes({203, 0, 113, 12}));
  // mark keys in host order, addresses in network order
  EXPECT_EQ(hosts.udata, bytes({0, 4, 1, 0, 0, 0, 1, 4, 2, 0, 0, 0}));
  const DecodedSet& eth0 = d.sets.at("ip direct_eth0");
  EXPECT_EQ(eth0.keys[0], host_u32(0x00030000));
  EXPECT_EQ(eth0.data[0], bytes({198, 51, 100, 21}));

  // type mark : counter
  const DecodedSet& in = d.sets.at("ip in_counters");
  EXPECT_EQ(in.flags, std::uint32_t{NFT_SET_OBJECT});
  EXPECT_EQ(in.obj_type, std::uint32_t{NFT_OBJECT_COUNTER});
  EXPECT_EQ(in.objrefs, std::vector<std::string>{"in_1"});
  EXPECT_EQ(d.sets.at("ip out_counters").objrefs, std::vector<std::string>{"out_1"});

  // ct timeout: IPVS's values; the states IPVS has no timeout for keep
  // the kernel's defaults (syn_sent2 120, retrans 300, unacknowledged 300).
  EXPECT_EQ(d.timeout_l4.at("ip tcp_900_120"), IPPROTO_TCP);
  EXPECT_EQ(d.timeouts.at("ip tcp_900_120"),
            (std::vector<std::uint32_t>{60, 60, 900, 120, 60, 30, 120, 10, 120, 300, 300}));
  EXPECT_EQ(d.timeout_l4.at("ip6 udp_300"), IPPROTO_UDP);
  EXPECT_EQ(d.timeouts.at("ip6 udp_300")[0], 300u);
  EXPECT_EQ(d.timeouts.at("ip6 udp_300")[1], 300u);
}

TEST(RulesetFastPath, PreroutingJumpsAndQueuesOnceAfterTheLastJump) {
  auto d = decode(build_install_batch(fast_sample(), QueueForm::native, 1));
  auto pre = d.chain("ip", "prerouting");
  ASSERT_EQ(pre.size(), 4u);
  EXPECT_TRUE(has(pre[0], "[ notrack ]") && has(pre[0], "[ queue num 0 ]")) << pre[0];  // userspace
  EXPECT_EQ(exprs(pre[1]), (std::vector<std::string>{
                               "[ payload load 4b @ network header + 16 => reg 1 ]",
                               "[ cmp eq reg 1 0x646433c6 ]",
                               "[ meta load l4proto => reg 1 ]",
                               "[ cmp eq reg 1 0x00000006 ]",
                               "[ payload load 2b @ transport header + 2 => reg 1 ]",
                               "[ cmp eq reg 1 0x00005000 ]",
                               "[ immediate reg 0 jump -> direct_flows ]"}));
  EXPECT_EQ(exprs(pre[2]), (std::vector<std::string>{
                               "[ meta load mark => reg 1 ]",
                               "[ bitwise reg 1 = ( reg 1 & 0x80000000 ) ^ 0x00000000 ]",
                               "[ cmp eq reg 1 0x80000000 ]",
                               "[ counter pkts 0 bytes 0 ]",
                               "[ queue num 0 ]"}));
  EXPECT_TRUE(has(pre[3], "network header + 12") && has(pre[3], "[ notrack ]")) << pre[3];  // NAT replies
  // The NAT service is not in prerouting: its flows must be tracked.
  for (const auto& r : pre) EXPECT_FALSE(has(r, "0x140200c0")) << r;
  EXPECT_EQ(d.chain("ip6", "prerouting").size(), 2u);  // jump, queue
}

TEST(RulesetFastPath, DirectFlowsRules) {
  auto d = decode(build_install_batch(fast_sample(), QueueForm::native, 1));
  auto rules = d.chain("ip", "direct_flows");
  ASSERT_EQ(rules.size(), 7u);
  EXPECT_EQ(exprs(rules[0]), std::vector<std::string>{"[ notrack ]"});
  const std::vector<std::string> key = {
      "[ payload load 4b @ network header + 12 => reg 1 ]",
      "[ payload load 2b @ transport header + 0 => reg 9 ]",
      "[ payload load 4b @ network header + 16 => reg 10 ]",
      "[ payload load 2b @ transport header + 2 => reg 11 ]"};
  std::vector<std::string> del = {"[ meta load l4proto => reg 1 ]",
                                  "[ cmp eq reg 1 0x00000006 ]",
                                  "[ payload load 1b @ transport header + 13 => reg 1 ]",
                                  "[ bitwise reg 1 = ( reg 1 & 0x00000012 ) ^ 0x00000000 ]",
                                  "[ cmp eq reg 1 0x00000002 ]"};
  del.insert(del.end(), key.begin(), key.end());
  del.push_back("[ meta load mark => reg 2 ]");
  del.push_back("[ dynset delete reg_key 1 set tcp_flows sreg_data 2 ]");
  EXPECT_EQ(exprs(rules[1]), del);
  for (auto [i, proto, map] : {std::tuple{2, "0x00000006", "tcp_flows"}, std::tuple{3, "0x00000011", "udp_flows"}}) {
    std::vector<std::string> lookup = {"[ meta load l4proto => reg 1 ]", std::string("[ cmp eq reg 1 ") + proto + " ]"};
    lookup.insert(lookup.end(), key.begin(), key.end());
    lookup.push_back(std::string("[ lookup reg 1 set ") + map + " dreg 1 ]");
    lookup.push_back("[ meta set mark with reg 1 ]");
    EXPECT_EQ(exprs(rules[static_cast<std::size_t>(i)]), lookup);
  }
  const std::vector<std::string> mark_queue = {"[ meta load mark => reg 1 ]",
                                               "[ bitwise reg 1 = ( reg 1 & 0x7fffffff ) ^ 0x80000000 ]",
                                               "[ meta set mark with reg 1 ]"};
  std::vector<std::string> unknown = {"[ meta load mark => reg 1 ]",
                                      "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                                      "[ cmp eq reg 1 0x00000000 ]"};
  unknown.insert(unknown.end(), mark_queue.begin(), mark_queue.end());
  EXPECT_EQ(exprs(rules[4]), unknown);
  // The pending flow's element is deleted before it is queued: `update`
  // would never replace its data.
  std::vector<std::string> pending = {"[ meta load l4proto => reg 1 ]",
                                      "[ cmp eq reg 1 0x00000006 ]",
                                      "[ meta load mark => reg 1 ]",
                                      "[ bitwise reg 1 = ( reg 1 & 0x40000000 ) ^ 0x00000000 ]",
                                      "[ cmp eq reg 1 0x40000000 ]",
                                      "[ payload load 4b @ network header + 12 => reg 1 ]",
                                      "[ payload load 2b @ transport header + 0 => reg 9 ]",
                                      "[ payload load 4b @ network header + 16 => reg 10 ]",
                                      "[ payload load 2b @ transport header + 2 => reg 11 ]",
                                      "[ meta load mark => reg 2 ]",
                                      "[ dynset delete reg_key 1 set tcp_flows sreg_data 2 ]"};
  pending.insert(pending.end(), mark_queue.begin(), mark_queue.end());
  EXPECT_EQ(exprs(rules[5]), pending);
  std::vector<std::string> finrst = {"[ meta load l4proto => reg 1 ]",
                                     "[ cmp eq reg 1 0x00000006 ]",
                                     "[ payload load 1b @ transport header + 13 => reg 1 ]",
                                     "[ bitwise reg 1 = ( reg 1 & 0x00000005 ) ^ 0x00000000 ]",
                                     "[ cmp neq reg 1 0x00000000 ]"};
  finrst.insert(finrst.end(), mark_queue.begin(), mark_queue.end());
  EXPECT_EQ(exprs(rules[6]), finrst);

  // IPv6: a 40-byte key in words 0..9 (nft's registers), the delete's
  // data register after it (nft 1.0.6 itself aborts on this rule).
  auto rules6 = d.chain("ip6", "direct_flows");
  ASSERT_EQ(rules6.size(), 7u);
  EXPECT_TRUE(has(rules6[1], "[ payload load 16b @ network header + 8 => reg 1 ]")) << rules6[1];
  EXPECT_TRUE(has(rules6[1], "[ payload load 2b @ transport header + 0 => reg 2 ]")) << rules6[1];
  EXPECT_TRUE(has(rules6[1], "[ payload load 16b @ network header + 24 => reg 13 ]")) << rules6[1];
  EXPECT_TRUE(has(rules6[1], "[ payload load 2b @ transport header + 2 => reg 17 ]")) << rules6[1];
  EXPECT_TRUE(has(rules6[1], "[ meta load mark => reg 18 ]")) << rules6[1];
  EXPECT_TRUE(has(rules6[1], "[ dynset delete reg_key 1 set tcp_flows sreg_data 18 ]")) << rules6[1];
}

TEST(RulesetFastPath, DirectForwardUpdatesCountsAndDupsPerDevice) {
  auto d = decode(build_install_batch(fast_sample(), QueueForm::native, 1));
  auto rules = d.chain("ip", "direct_forward");
  ASSERT_EQ(rules.size(), 6u);  // tcp, udp, counter, eth0, eth1, no destination
  const std::vector<std::string> direct = {"[ meta load mark => reg 1 ]",
                                           "[ bitwise reg 1 = ( reg 1 & 0xa0000000 ) ^ 0x00000000 ]",
                                           "[ cmp eq reg 1 0x20000000 ]"};
  std::vector<std::string> update = direct;
  for (const char* e : {"[ meta load l4proto => reg 1 ]", "[ cmp eq reg 1 0x00000011 ]",
                        "[ payload load 4b @ network header + 12 => reg 1 ]",
                        "[ payload load 2b @ transport header + 0 => reg 9 ]",
                        "[ payload load 4b @ network header + 16 => reg 10 ]",
                        "[ payload load 2b @ transport header + 2 => reg 11 ]", "[ meta load mark => reg 2 ]",
                        "[ dynset update reg_key 1 set udp_flows sreg_data 2 ]"})
    update.push_back(e);
  EXPECT_EQ(exprs(rules[1]), update);
  std::vector<std::string> count = direct;
  for (const char* e : {"[ meta load mark => reg 1 ]", "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                        "[ objref sreg 1 set in_counters ]"})
    count.push_back(e);
  EXPECT_EQ(exprs(rules[2]), count);
  std::vector<std::string> dup = direct;
  for (const char* e : {"[ meta load mark => reg 1 ]", "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                        "[ lookup reg 1 set direct_eth0 dreg 1 ]", "[ immediate reg 2 0x00000003 ]",
                        "[ dup sreg_addr 1 sreg_dev 2 ]", "[ immediate reg 0 drop ]"})
    dup.push_back(e);
  EXPECT_EQ(exprs(rules[3]), dup);
  EXPECT_TRUE(has(rules[4], "[ lookup reg 1 set direct_eth1 dreg 1 ]")) << rules[4];
  EXPECT_TRUE(has(rules[4], "[ immediate reg 2 0x00000004 ]")) << rules[4];
  std::vector<std::string> comments;
  for (const auto& r : d.rule_list)
    if (r.family == "ip" && r.chain == "direct_forward") comments.push_back(r.comment);
  EXPECT_EQ(comments[3], "vsd: DR real servers on eth0");
  // A decision in none of the maps (its real server removed) goes to vsd.
  std::vector<std::string> fallback = direct;
  fallback.push_back("[ counter pkts 0 bytes 0 ]");
  const auto last = exprs(rules[5]);
  ASSERT_GE(last.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(last.begin(), last.begin() + 4), fallback);
  EXPECT_TRUE(has(rules[5], "[ queue num 0 ]")) << rules[5];
  EXPECT_EQ(comments[5], "vsd: DR/TUN flows without a kernel destination");
  EXPECT_TRUE(has(d.chain("ip6", "direct_forward")[0], "sreg_data 18 ]"));
}

TEST(RulesetFastPath, NatQueueDecideAndDnat) {
  auto d = decode(build_install_batch(fast_sample(), QueueForm::native, 1));
  auto q = d.chain("ip", "nat_queue");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(exprs(q[0]), (std::vector<std::string>{
                             "[ payload load 4b @ network header + 16 => reg 1 ]",
                             "[ cmp eq reg 1 0x140200c0 ]",
                             "[ meta load l4proto => reg 1 ]",
                             "[ cmp eq reg 1 0x00000006 ]",
                             "[ payload load 2b @ transport header + 2 => reg 1 ]",
                             "[ cmp eq reg 1 0x00005000 ]",
                             "[ ct load direction => reg 1 ]",
                             "[ cmp eq reg 1 0x00000000 ]",
                             "[ ct load mark => reg 1 ]",
                             "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                             "[ cmp eq reg 1 0x00000000 ]",
                             "[ counter pkts 0 bytes 0 ]",
                             "[ queue num 0 ]"}));
  auto decide = d.chain("ip", "nat_decide");
  ASSERT_EQ(decide.size(), 4u);
  EXPECT_EQ(exprs(decide[0]), (std::vector<std::string>{
                                  "[ ct load mark => reg 1 ]",
                                  "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                                  "[ cmp eq reg 1 0x00000000 ]",
                                  "[ meta load mark => reg 1 ]",
                                  "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                                  "[ cmp neq reg 1 0x00000000 ]",
                                  "[ meta load l4proto => reg 1 ]",
                                  "[ cmp eq reg 1 0x00000006 ]",
                                  "[ meta load mark => reg 1 ]",
                                  "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                                  "[ ct set mark with reg 1 ]",
                                  "[ objref type 7 name tcp_900_120 ]"}));
  EXPECT_TRUE(has(decide[1], "[ objref type 7 name udp_300 ]")) << decide[1];
  EXPECT_EQ(exprs(decide[3]), (std::vector<std::string>{
                                  "[ ct load direction => reg 1 ]",
                                  "[ cmp eq reg 1 0x00000001 ]",
                                  "[ ct load mark => reg 1 ]",
                                  "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                                  "[ objref sreg 1 set out_counters ]"}));
  auto nat = d.chain("ip", "nat");
  ASSERT_EQ(nat.size(), 2u);
  EXPECT_EQ(exprs(nat[0]), (std::vector<std::string>{
                               "[ meta load l4proto => reg 1 ]",
                               "[ lookup reg 1 set __set%d ]",
                               "[ ct load mark => reg 1 ]",
                               "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                               "[ cmp neq reg 1 0x00000000 ]",
                               "[ ct load mark => reg 1 ]",
                               "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                               "[ lookup reg 1 set nat_dests dreg 1 ]",
                               "[ nat dnat ip addr_min reg 1 proto_min reg 9 ]"}));
  EXPECT_TRUE(has(nat[1], "[ lookup reg 1 set nat_hosts dreg 1 ]")) << nat[1];
  EXPECT_TRUE(has(nat[1], "[ nat dnat ip addr_min reg 1 ]")) << nat[1];
  auto nat6 = d.chain("ip6", "nat");
  ASSERT_EQ(nat6.size(), 1u);
  EXPECT_TRUE(has(nat6[0], "[ nat dnat ip6 addr_min reg 1 proto_min reg 2 ]")) << nat6[0];
  // { tcp, udp }: one anonymous set per rule, made before the rule.
  const DecodedSet& protos = d.sets.at("ip __set%d");
  EXPECT_EQ(protos.flags, std::uint32_t{NFT_SET_ANONYMOUS | NFT_SET_CONSTANT});
  EXPECT_EQ(protos.key_type, 12u);  // inet_proto
  EXPECT_LT(d.index("NEWSETELEM ip __set%d"), d.index("NEWRULE ip nat"));
}

TEST(RulesetFastPath, MarkGroupPaths) {
  RulesetSpec s = fast_sample();
  s.matches.clear();
  MarkGroup dr;
  dr.mark = 7;
  dr.members = {{ip("198.51.100.100"), 80}};
  dr.comment = "vsd service FWM 7";
  dr.path = Path::direct_kernel;
  dr.match_mask = 0x0000ffff;
  MarkGroup nat = dr;
  nat.mark = 8;
  nat.members.clear();  // operator-marked: both families
  nat.comment = "vsd service FWM 8";
  nat.path = Path::nat_kernel;
  MarkGroup user = nat;
  user.mark = 9;
  user.path = Path::userspace;
  s.mark_groups = {dr, nat, user};
  auto d = decode(build_install_batch(s, QueueForm::native, 1));
  auto pre = d.chain("ip", "prerouting");
  ASSERT_EQ(pre.size(), 4u);  // members mark rule, jump, queue bit, FWM 9 queue
  EXPECT_TRUE(has(pre[0], "set fwmark_7")) << pre[0];
  EXPECT_EQ(exprs(pre[1]), (std::vector<std::string>{"[ meta load mark => reg 1 ]",
                                                     "[ bitwise reg 1 = ( reg 1 & 0x0000ffff ) ^ 0x00000000 ]",
                                                     "[ cmp eq reg 1 0x00000007 ]",
                                                     "[ immediate reg 0 jump -> direct_flows ]"}));
  EXPECT_TRUE(has(pre[2], "( reg 1 & 0x80000000 )")) << pre[2];
  EXPECT_TRUE(has(pre[3], "[ cmp eq reg 1 0x00000009 ]") && has(pre[3], "[ notrack ]")) << pre[3];
  auto q = d.chain("ip", "nat_queue");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_TRUE(has(q[0], "[ cmp eq reg 1 0x00000008 ]") && has(q[0], "[ ct load direction => reg 1 ]")) << q[0];
  EXPECT_FALSE(has(q[0], "notrack")) << q[0];
  // FWM 7's members are IPv4 only: no DR objects in ip6; FWM 8 is in both.
  EXPECT_EQ(d.count("NEWCHAIN ip6 direct_flows"), 0u);
  EXPECT_EQ(d.chain("ip6", "nat_queue").size(), 1u);
}

TEST(RulesetFastPath, InPlaceUpdateKeepsFlowsCountersAndTimeouts) {
  InstalledTables now;
  now.ip = {true,
            {"prerouting", "forward", "direct_flows", "direct_forward", "nat_queue", "nat_decide", "nat", "old"},
            {"tcp_flows", "udp_flows", "direct_eth0", "direct_eth9", "nat_dests", "in_counters", "out_counters"},
            {},
            {"in_1", "out_1", "in_9", "out_9"},
            {"tcp_600_120", "udp_300"}};
  now.ip6 = {true, {"prerouting", "forward"}, {}, {}, {}, {}};
  auto d = decode(build_install_batch(fast_sample(), QueueForm::native, 1, now));
  for (const auto& c : now.ip.chains) EXPECT_EQ(d.count("DELRULE ip " + c), 1u) << c;
  EXPECT_EQ(d.count("DELCHAIN ip old"), 1u);
  EXPECT_EQ(d.count("DELSET ip direct_eth9"), 1u);
  // The flow maps keep their elements; the static maps are refilled.
  EXPECT_EQ(d.count("DELSETELEM ip tcp_flows"), 0u);
  EXPECT_EQ(d.count("DELSETELEM ip udp_flows"), 0u);
  EXPECT_EQ(d.count("DELSET ip tcp_flows"), 0u);
  for (const char* m : {"direct_eth0", "nat_dests", "in_counters", "out_counters"}) {
    EXPECT_EQ(d.count(std::string("DELSETELEM ip ") + m), 1u) << m;
    EXPECT_LT(d.index(std::string("DELSETELEM ip ") + m), d.index(std::string("NEWSETELEM ip ") + m)) << m;
  }
  // New maps are not flushed (nothing to flush).
  EXPECT_EQ(d.count("DELSETELEM ip nat_hosts"), 0u);
  // Counters of marks no longer counted go, after the maps let go of them;
  // ct timeouts stay (flows may use them).
  EXPECT_EQ(d.count("DELOBJ ip in_9"), 1u);
  EXPECT_EQ(d.count("DELOBJ ip out_9"), 1u);
  EXPECT_EQ(d.count("DELOBJ ip in_1"), 0u);
  EXPECT_GT(d.index("DELOBJ ip in_9"), d.index("DELSETELEM ip in_counters"));
  for (const auto& m : d.named) EXPECT_FALSE(has(m, "DELOBJ ip tcp_") || has(m, "DELOBJ ip udp_")) << m;
  // Rules come last, after everything they reference.
  EXPECT_GT(d.index("NEWRULE ip prerouting"), d.index("NEWSETELEM ip in_counters"));
  EXPECT_EQ(d.count("DELTABLE ip"), 0u);

  // Without a NAT path the ct timeouts go with it; without DR the flow maps.
  RulesetSpec user = fast_sample();
  user.matches = {user.matches[0]};
  d = decode(build_install_batch(user, QueueForm::native, 1, now));
  EXPECT_EQ(d.count("DELOBJ ip tcp_600_120"), 1u);
  EXPECT_EQ(d.count("DELSET ip tcp_flows"), 1u);
  EXPECT_EQ(d.count("DELCHAIN ip direct_flows"), 1u);
  EXPECT_EQ(d.count("DELCHAIN ip nat"), 1u);
  EXPECT_EQ(d.count("DELOBJ ip in_1"), 1u);
}

TEST(RulesetFastPath, Names) {
  EXPECT_EQ(counter_name(fast_bits(), 0x00010000, true), "in_1");
  EXPECT_EQ(counter_name(fast_bits(), 0x1fff0000, false), "out_8191");
  EXPECT_EQ(direct_map_name("eth0"), "direct_eth0");
  FlowTimeouts t;
  EXPECT_EQ(tcp_timeout_name(t), "tcp_900_120");
  EXPECT_EQ(udp_timeout_name(t), "udp_300");
  t.tcp_established = 1800;
  t.tcp_fin_wait = 60;
  EXPECT_EQ(tcp_timeout_name(t), "tcp_1800_60");
  t.tcp_close = 5;  // another policy, another name
  EXPECT_EQ(tcp_timeout_name(t), "tcp_60_1800_60_60_30_120_5");
}

TEST(RulesetFastPath, RefusesInconsistentSpecs) {
  auto refused = [](auto change) {
    RulesetSpec s = fast_sample();
    change(s);
    EXPECT_THROW(build_install_batch(s, QueueForm::native, 1), std::invalid_argument);
  };
  refused([](RulesetSpec& s) { s.fast.bits.direct = s.fast.bits.queue; });        // overlapping
  refused([](RulesetSpec& s) { s.fast.bits.id = 0x10100000; });                   // not contiguous
  refused([](RulesetSpec& s) { s.fast.bits.pending = 0x00008000; });              // outside the mask
  refused([](RulesetSpec& s) { s.fast.bits.pending = 0; });                       // missing
  refused([](RulesetSpec& s) { s.fast.nat[0].mark = 0x20010000; });               // not id bits only
  refused([](RulesetSpec& s) { s.fast.nat[1].mark = s.fast.nat[0].mark; });       // a mark twice
  refused([](RulesetSpec& s) { s.fast.counted.push_back(0); });                   // no decision
  refused([](RulesetSpec& s) { s.fast.timeouts.udp = 0; });
  refused([](RulesetSpec& s) { s.matches[5].path = Path::nat_kernel; });           // NAT replies
  refused([](RulesetSpec& s) {                                                    // no such device
    s.fast.direct[0].device = "vsd-nosuchdev";
    s.fast.direct[0].ifindex = 0;
  });
}

// --- the SYN proxy (nft synproxy in front of a NAT fast-path service) ---

RulesetSpec synproxy_sample() {
  RulesetSpec s = fast_sample();
  s.matches[2].synproxy = {true, 0, 7};         // nat, 192.0.2.20:80
  s.matches[4].synproxy = {true, 1400, 9};      // nat6, [2001:db8::20]:80
  return s;
}

TEST(RulesetSynproxy, ChainsOnlyWhereAServiceHasIt) {
  auto d = decode(build_install_batch(synproxy_sample(), QueueForm::native, 1));
  for (const char* fam : {"ip", "ip6"})
    for (const char* c : {"synproxy", "nat_out_queue", "nat_out_decide", "nat_out"})
      EXPECT_EQ(d.count(std::string("NEWCHAIN ") + fam + " " + c), 1u) << fam << " " << c;
  // Without: none of them.
  d = decode(build_install_batch(fast_sample(), QueueForm::native, 1));
  for (const auto& m : d.named) EXPECT_FALSE(has(m, "synproxy") || has(m, "nat_out")) << m;
}

TEST(RulesetSynproxy, RulesAsNftWritesThem) {
  auto d = decode(build_install_batch(synproxy_sample(), QueueForm::native, 1));
  const std::vector<std::string> match = {
      "[ payload load 4b @ network header + 16 => reg 1 ]", "[ cmp eq reg 1 0x140200c0 ]",
      "[ meta load l4proto => reg 1 ]", "[ cmp eq reg 1 0x00000006 ]",
      "[ payload load 2b @ transport header + 2 => reg 1 ]", "[ cmp eq reg 1 0x00005000 ]"};
  auto with = [&](std::vector<std::string> tail) {
    std::vector<std::string> all = match;
    all.insert(all.end(), tail.begin(), tail.end());
    return all;
  };
  // prerouting: ... tcp flags & (syn|ack) == syn notrack
  std::vector<std::string> notracked;
  for (const auto& r : d.chain("ip", "prerouting"))
    if (has(r, "0x140200c0")) notracked.push_back(r);
  ASSERT_EQ(notracked.size(), 1u);
  EXPECT_EQ(exprs(notracked[0]), with({"[ payload load 1b @ transport header + 13 => reg 1 ]",
                                        "[ bitwise reg 1 = ( reg 1 & 0x00000012 ) ^ 0x00000000 ]",
                                        "[ cmp eq reg 1 0x00000002 ]", "[ notrack ]"}));
  // synproxy (input) and forward: ct state invalid,untracked synproxy ...;
  // ct state invalid drop.
  for (const char* chain : {"synproxy", "forward"}) {
    std::vector<std::string> rules;
    for (const auto& r : d.chain("ip", chain))
      if (has(r, "0x140200c0")) rules.push_back(r);
    ASSERT_EQ(rules.size(), 2u) << chain;
    EXPECT_EQ(exprs(rules[0]), with({"[ ct load state => reg 1 ]",
                                     "[ bitwise reg 1 = ( reg 1 & 0x00000041 ) ^ 0x00000000 ]",
                                     "[ cmp neq reg 1 0x00000000 ]", "[ counter pkts 0 bytes 0 ]",
                                     "[ synproxy mss 1460 wscale 7 ]"}))
        << chain;
    EXPECT_EQ(exprs(rules[1]), with({"[ ct load state => reg 1 ]",
                                     "[ bitwise reg 1 = ( reg 1 & 0x00000001 ) ^ 0x00000000 ]",
                                     "[ cmp neq reg 1 0x00000000 ]", "[ counter pkts 0 bytes 0 ]",
                                     "[ immediate reg 0 drop ]"}))
        << chain;
  }
  // The proxy's SYN, queued in the output hook, decided and DNATed there.
  auto q = d.chain("ip", "nat_out_queue");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(exprs(q[0]), with({"[ ct load direction => reg 1 ]", "[ cmp eq reg 1 0x00000000 ]",
                               "[ ct load mark => reg 1 ]",
                               "[ bitwise reg 1 = ( reg 1 & 0x1fff0000 ) ^ 0x00000000 ]",
                               "[ cmp eq reg 1 0x00000000 ]", "[ counter pkts 0 bytes 0 ]", "[ queue num 0 ]"}));
  auto decide = d.chain("ip", "nat_out_decide");
  ASSERT_EQ(decide.size(), 2u) << "the decision and timeouts, no counters";
  EXPECT_EQ(exprs(decide[0]), exprs(d.chain("ip", "nat_decide")[0]));
  auto out = d.chain("ip", "nat_out");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(exprs(out[0]), exprs(d.chain("ip", "nat")[0]));
  EXPECT_EQ(exprs(out[1]), exprs(d.chain("ip", "nat")[1]));
  // IPv6: its own MSS and window scale.
  bool found = false;
  for (const auto& r : d.chain("ip6", "synproxy")) found |= has(r, "[ synproxy mss 1400 wscale 9 ]");
  EXPECT_TRUE(found);
  // Comments say what each rule is for.
  EXPECT_TRUE(std::count(d.comments.begin(), d.comments.end(),
                         "nat (SYN proxy): client SYNs untracked, answered with cookies") == 1);
  EXPECT_TRUE(std::count(d.comments.begin(), d.comments.end(), "nat (SYN proxy): the proxy's SYN, decided by vsd") == 1);
}

TEST(RulesetSynproxy, HooksAndPriorities) {
  auto b = build_install_batch(synproxy_sample(), QueueForm::native, 1);
  // Decoded by hand: the chain messages with their hook and priority.
  std::map<std::string, std::pair<std::uint32_t, std::int32_t>> hooks;
  std::map<std::string, std::string> types;
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(b.data());
  int len = static_cast<int>(b.size());
  while (mnl_nlmsg_ok(nlh, len)) {
    if ((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWCHAIN) {
      std::unique_ptr<nftnl_chain, void (*)(const nftnl_chain*)> c(nftnl_chain_alloc(), nftnl_chain_free);
      EXPECT_EQ(nftnl_chain_nlmsg_parse(nlh, c.get()), 0);
      const std::string name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
      if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
        hooks[name] = {nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM),
                       static_cast<std::int32_t>(nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_PRIO))};
        types[name] = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE);
      }
    }
    nlh = mnl_nlmsg_next(nlh, &len);
  }
  EXPECT_EQ(hooks["synproxy"], (std::pair<std::uint32_t, std::int32_t>{NF_INET_LOCAL_IN, 0}));
  EXPECT_EQ(hooks["nat_out_queue"], (std::pair<std::uint32_t, std::int32_t>{NF_INET_LOCAL_OUT, -150}));
  EXPECT_EQ(hooks["nat_out_decide"], (std::pair<std::uint32_t, std::int32_t>{NF_INET_LOCAL_OUT, -140}));
  EXPECT_EQ(hooks["nat_out"], (std::pair<std::uint32_t, std::int32_t>{NF_INET_LOCAL_OUT, -100}));
  EXPECT_EQ(types["nat_out"], "nat");
  EXPECT_EQ(types["synproxy"], "filter");
}

TEST(RulesetSynproxy, OnlyOnTheNatFastPath) {
  auto refused = [](auto change) {
    RulesetSpec s = synproxy_sample();
    change(s);
    EXPECT_THROW(build_install_batch(s, QueueForm::native, 1), std::invalid_argument);
  };
  refused([](RulesetSpec& s) { s.matches[0].synproxy.on = true; });   // userspace path
  refused([](RulesetSpec& s) { s.matches[1].synproxy.on = true; });   // DR flow table
  refused([](RulesetSpec& s) { s.matches[5].synproxy.on = true; });   // NAT replies
  refused([](RulesetSpec& s) { s.matches[2].l4proto = IPPROTO_UDP; });
  refused([](RulesetSpec& s) { s.matches[2].synproxy.wscale = 15; });
}

// --- against the kernel, in a network namespace of this test process ---

std::string sh(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
  }
  return out;
}

class RulesetKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    // ctest runs each test case in its own process: the namespace dies with it.
    ASSERT_EQ(geteuid(), 0u) << "kernel ruleset tests need root";
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET) failed";
  }
};

TEST_F(RulesetKernel, ProbeInstallReplaceRemove) {
  QueueForm form = probe_queue_form();
  // The probe leaves nothing behind.
  EXPECT_EQ(sh("nft list tables 2>&1"), "");
  install(sample(), form);
  std::string listing = sh("nft list ruleset 2>/dev/null");
  EXPECT_TRUE(has(listing, "table ip vsdtest")) << listing;
  EXPECT_TRUE(has(listing, "table ip6 vsdtest")) << listing;
  EXPECT_TRUE(has(listing, "ip daddr 192.0.2.10 tcp dport 80 notrack counter")) << listing;
  EXPECT_TRUE(has(listing, "queue num 4-5 bypass")) << listing;
  EXPECT_TRUE(has(listing, "comment \"vsd service TCP 192.0.2.10:80\"")) << listing;
  EXPECT_TRUE(has(listing, "ip6 daddr 2001:db8::10 meta l4proto udp notrack")) << listing;

  auto changed = sample();
  changed.matches.resize(1);
  changed.matches[0].port = 443;
  install(changed, form);
  listing = sh("nft list ruleset 2>/dev/null");
  EXPECT_TRUE(has(listing, "tcp dport 443")) << listing;
  EXPECT_FALSE(has(listing, "tcp dport 80 ")) << listing;
  EXPECT_FALSE(has(listing, "203.0.113.11")) << listing;

  remove("vsdtest");
  EXPECT_EQ(sh("nft list tables 2>&1"), "");
  EXPECT_NO_THROW(remove("vsdtest"));  // absent: fine
}

TEST_F(RulesetKernel, RefusedInstallLeavesTheOldTable) {
  QueueForm form = probe_queue_form();
  install(sample(), form);
  auto bad = sample();
  bad.queue_first = 65535;  // 65535 + 2 - 1 is out of range for the kernel
  bad.queue_count = 2;
  EXPECT_ANY_THROW(install(bad, form));
  std::string listing = sh("nft list ruleset 2>/dev/null");
  EXPECT_TRUE(has(listing, "tcp dport 80")) << listing;
}

TEST_F(RulesetKernel, FwmarkGroupIsANamedSetThatMarksAndQueues) {
  QueueForm form = probe_queue_form();
  RulesetSpec spec;
  spec.table = "vsdtest";
  MarkGroup g;
  g.mark = 7;
  g.members = {{ip("192.0.2.10"), 80}, {ip("192.0.2.10"), 443}, {ip("2001:db8::10"), 443}};
  g.comment = "vsd service FWM 7";
  spec.mark_groups.push_back(g);
  install(spec, form);
  std::string listing = sh("nft list ruleset 2>/dev/null");
  EXPECT_TRUE(has(listing, "set fwmark_7 {")) << listing;
  EXPECT_TRUE(has(listing, "type ipv4_addr . inet_service")) << listing;
  EXPECT_TRUE(has(listing, "192.0.2.10 . 80")) << listing;
  EXPECT_TRUE(has(listing, "192.0.2.10 . 443")) << listing;
  EXPECT_TRUE(has(listing, "type ipv6_addr . inet_service")) << listing;
  EXPECT_TRUE(has(listing, "2001:db8::10 . 443")) << listing;
  EXPECT_TRUE(has(listing, "ip daddr . th dport @fwmark_7 meta mark set 0x00000007")) << listing;
  EXPECT_TRUE(has(listing, "meta mark 0x00000007 notrack counter")) << listing;
  EXPECT_TRUE(has(listing, "comment \"vsd service FWM 7\"")) << listing;
  remove("vsdtest");
}

}  // namespace
}  // namespace vsd::nfq
