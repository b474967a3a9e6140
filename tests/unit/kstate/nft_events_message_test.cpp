// nf_tables notifications as the table watch reads them: messages built
// here the way the kernel sends them (nfgenmsg + attributes), parsed, and
// folded per transaction by the tracker.
#include "nfq/nft_events_message.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <vector>

namespace vsd::kstate {
namespace {

struct Msg {
  alignas(nlmsghdr) std::uint8_t buf[1024] = {};
  nlmsghdr* nlh = nullptr;
  Msg(int type, std::uint8_t family) {
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type);
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
  }
  Msg& str(std::uint16_t attr, const char* s) {
    mnl_attr_put_strz(nlh, attr, s);
    return *this;
  }
  Msg& u32(std::uint16_t attr, std::uint32_t v) {
    mnl_attr_put_u32(nlh, attr, htonl(v));
    return *this;
  }
  NftEvent parse() const {
    NftEvent e;
    EXPECT_TRUE(parse_nft_event(nlh, &e));
    return e;
  }
};

Msg gen(std::uint32_t id, std::uint32_t pid, const char* comm) {
  Msg m(NFT_MSG_NEWGEN, NFPROTO_UNSPEC);
  m.u32(NFTA_GEN_ID, id).u32(NFTA_GEN_PROC_PID, pid).str(NFTA_GEN_PROC_NAME, comm);
  return m;
}

TEST(NftEvents, ParsesDeletionsAndGenerations) {
  auto t = Msg(NFT_MSG_DELTABLE, NFPROTO_IPV4).str(NFTA_TABLE_NAME, "vsd").parse();
  EXPECT_EQ(t.kind, NftEvent::Kind::del_table);
  EXPECT_EQ(t.family, NFPROTO_IPV4);
  EXPECT_EQ(t.table, "vsd");

  auto c = Msg(NFT_MSG_DELCHAIN, NFPROTO_IPV6).str(NFTA_CHAIN_TABLE, "vsd").str(NFTA_CHAIN_NAME, "prerouting").parse();
  EXPECT_EQ(c.kind, NftEvent::Kind::del_object);
  EXPECT_EQ(c.object, "chain");
  EXPECT_EQ(c.table, "vsd");

  auto r = Msg(NFT_MSG_DELRULE, NFPROTO_ARP).str(NFTA_RULE_TABLE, "vsd_rs").str(NFTA_RULE_CHAIN, "input").parse();
  EXPECT_EQ(r.object, "rule");
  EXPECT_EQ(r.family, NFPROTO_ARP);

  auto g = gen(4711, 1234, "nft").parse();
  EXPECT_EQ(g.kind, NftEvent::Kind::generation);
  EXPECT_EQ(g.generation, 4711u);
  EXPECT_EQ(g.pid, 1234u);
  EXPECT_EQ(g.process, "nft");

  // Additions and set elements are of no interest.
  EXPECT_EQ(Msg(NFT_MSG_NEWTABLE, NFPROTO_IPV4).str(NFTA_TABLE_NAME, "vsd").parse().kind, NftEvent::Kind::other);
  EXPECT_EQ(Msg(NFT_MSG_DELSETELEM, NFPROTO_IPV4).str(NFTA_SET_ELEM_LIST_TABLE, "vsd").parse().kind,
            NftEvent::Kind::other);
}

TEST(NftEvents, RefusesWhatIsNotAnNfTablesDeletion) {
  NftEvent e;
  Msg no_name(NFT_MSG_DELTABLE, NFPROTO_IPV4);
  EXPECT_FALSE(parse_nft_event(no_name.nlh, &e));
  Msg other(NFT_MSG_DELTABLE, NFPROTO_IPV4);
  other.nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | 2);
  EXPECT_FALSE(parse_nft_event(other.nlh, &e));
  Msg gen_without_id(NFT_MSG_NEWGEN, NFPROTO_UNSPEC);
  EXPECT_FALSE(parse_nft_event(gen_without_id.nlh, &e));
  nlmsghdr short_one{};
  short_one.nlmsg_len = sizeof(nlmsghdr);
  short_one.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE;
  EXPECT_FALSE(parse_nft_event(&short_one, &e));
}

TEST(NftChangeTracker, AFlushIsOneTransactionThatDeletesTheTables) {
  NftChangeTracker t;
  t.watch(NFPROTO_IPV4, "vsd");
  t.watch(NFPROTO_IPV6, "vsd");
  // `flush ruleset`: each table's rules and chains, then the table; other
  // tables too; then the new generation.
  for (std::uint8_t fam : {NFPROTO_IPV4, NFPROTO_IPV6}) {
    EXPECT_FALSE(t.on_event(Msg(NFT_MSG_DELRULE, fam).str(NFTA_RULE_TABLE, "vsd").parse()));
    EXPECT_FALSE(t.on_event(Msg(NFT_MSG_DELCHAIN, fam).str(NFTA_CHAIN_TABLE, "vsd").parse()));
    EXPECT_FALSE(t.on_event(Msg(NFT_MSG_DELTABLE, fam).str(NFTA_TABLE_NAME, "vsd").parse()));
  }
  EXPECT_FALSE(t.on_event(Msg(NFT_MSG_DELTABLE, NFPROTO_INET).str(NFTA_TABLE_NAME, "filter").parse()));
  auto done = t.on_event(gen(12, 999, "nft").parse());
  ASSERT_TRUE(done);
  EXPECT_EQ(done->generation, 12u);
  EXPECT_EQ(done->pid, 999u);
  EXPECT_EQ(done->tables_deleted.size(), 2u);
  EXPECT_TRUE(done->objects_deleted.empty());
  EXPECT_EQ(done->describe(), "table ip vsd deleted, table ip6 vsd deleted");
  // The next transaction starts empty.
  EXPECT_FALSE(t.on_event(gen(13, 999, "nft").parse()));
}

TEST(NftChangeTracker, ObjectsOfAWatchedTableAndNothingElse) {
  NftChangeTracker t;
  t.watch(NFPROTO_ARP, "vsd_rs");
  EXPECT_FALSE(t.on_event(Msg(NFT_MSG_DELRULE, NFPROTO_IPV4).str(NFTA_RULE_TABLE, "vsd_rs").parse()));
  EXPECT_FALSE(t.on_event(Msg(NFT_MSG_DELTABLE, NFPROTO_IPV4).str(NFTA_TABLE_NAME, "other").parse()));
  EXPECT_FALSE(t.on_event(gen(5, 1, "nft").parse()));  // nothing watched was touched
  EXPECT_FALSE(t.on_event(Msg(NFT_MSG_DELRULE, NFPROTO_ARP).str(NFTA_RULE_TABLE, "vsd_rs").parse()));
  EXPECT_FALSE(t.on_event(Msg(NFT_MSG_DELCHAIN, NFPROTO_ARP).str(NFTA_CHAIN_TABLE, "vsd_rs").parse()));
  auto done = t.on_event(gen(6, 1, "nft").parse());
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->tables_deleted.empty());
  EXPECT_EQ(done->describe(), "chain/rule of table arp vsd_rs deleted");
}

TEST(NftChangeTracker, LostEventsDropWhatIsPending) {
  NftChangeTracker t;
  t.watch(NFPROTO_IPV4, "vsd");
  t.on_event(Msg(NFT_MSG_DELTABLE, NFPROTO_IPV4).str(NFTA_TABLE_NAME, "vsd").parse());
  t.reset();
  EXPECT_FALSE(t.on_event(gen(7, 1, "nft").parse()));
}

TEST(NftEvents, Requests) {
  alignas(nlmsghdr) std::uint8_t buf[kNftEventRequestSize];
  std::size_t n = build_get_table(buf, sizeof buf, 42, NFPROTO_IPV6, "vsd");
  ASSERT_GT(n, 0u);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  EXPECT_EQ(nlh->nlmsg_len, n);
  EXPECT_EQ(nlh->nlmsg_seq, 42u);
  EXPECT_EQ(nlh->nlmsg_type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->nfgen_family, NFPROTO_IPV6);
  EXPECT_EQ(build_get_table(buf, sizeof buf, 1, NFPROTO_IPV4, ""), 0u);
  EXPECT_EQ(build_get_table(buf, sizeof buf, 1, NFPROTO_IPV4, std::string(300, 'x')), 0u);
  EXPECT_EQ(build_get_table(buf, 16, 1, NFPROTO_IPV4, "vsd"), 0u);
  EXPECT_GT(build_get_generation(buf, sizeof buf, 7), 0u);
  EXPECT_EQ(nft_family_name(NFPROTO_INET), "inet");
}

}  // namespace
}  // namespace vsd::kstate
