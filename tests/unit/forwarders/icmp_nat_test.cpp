#include "forwarders/icmp_nat.hpp"

#include <gtest/gtest.h>

#include <random>

#include "forwarders/icmp_builder.hpp"
#include "packet_builder.hpp"

namespace vsd {
namespace {

using test::PacketSpec;

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

// The connection: client 198.51.100.2:40000 -> VIP 192.0.2.10:80, scheduled
// to the real server 203.0.113.11:8000 (and the same in IPv6).
struct Conn {
  std::string client, vip, rip, client_router, server_router;
  std::uint16_t cport = 40000, vport = 80, rport = 8000;
};
const Conn kConn4{"198.51.100.2", "192.0.2.10", "203.0.113.11", "198.51.100.1", "203.0.113.1"};
const Conn kConn6{"2001:db8:1::2", "2001:db8::10", "2001:db8:2::11", "2001:db8:1::1",
                  "2001:db8:2::1"};

PacketSpec proto_spec(bool udp, std::string data = {}) {
  PacketSpec s;
  if (udp) s.udp();
  s.payload = std::move(data);
  return s;
}
// The four packets of the connection.
std::vector<std::uint8_t> client_to_vip(const Conn& c, PacketSpec s) { return s.from(c.client, c.cport).to(c.vip, c.vport).build(); }
std::vector<std::uint8_t> client_to_rip(const Conn& c, PacketSpec s) { return s.from(c.client, c.cport).to(c.rip, c.rport).build(); }
std::vector<std::uint8_t> rip_to_client(const Conn& c, PacketSpec s) { return s.from(c.rip, c.rport).to(c.client, c.cport).build(); }
std::vector<std::uint8_t> vip_to_client(const Conn& c, PacketSpec s) { return s.from(c.vip, c.vport).to(c.client, c.cport).build(); }

PacketView view(std::vector<std::uint8_t>& p) {
  PacketView v;
  EXPECT_EQ(parse_packet(p.data(), p.size(), v), ParseStatus::ok);
  return v;
}

std::size_t header_len(bool six) { return six ? 40 : 20; }

// Golden: port unreachable from the real server about the DNAT'ed packet,
// quoting the IPv4 header and 8 TCP bytes (no TCP checksum). Translated, it
// is exactly the error the VIP would have sent about the client's packet.
TEST(IcmpNatGolden, FromRealServerShortQuote) {
  auto dnat = client_to_rip(kConn4, {});
  auto pkt = test::icmp_error_packet(kConn4.rip, kConn4.client, 3, 3, 0, test::head(dnat, 28));
  auto v = view(pkt);
  ASSERT_EQ(icmp_nat_from_real_server(v, ip("192.0.2.10"), 80), IcmpNatStatus::ok);
  auto want = test::icmp_error_packet(kConn4.vip, kConn4.client, 3, 3, 0,
                                      test::head(client_to_vip(kConn4, {}), 28));
  EXPECT_EQ(pkt, want);
  EXPECT_TRUE(test::ipv4_header_checksum_ok(pkt));
  EXPECT_TRUE(test::icmp_checksum_ok(pkt));
  EXPECT_EQ(v.src, ip("192.0.2.10"));
}

TEST(IcmpNat, FromRealServerFullQuoteFixesTcpAndUdpChecksums) {
  for (bool six : {false, true}) {
    const Conn& c = six ? kConn6 : kConn4;
    for (bool udp : {false, true}) {
      auto dnat = client_to_rip(c, proto_spec(udp, "payload!"));
      // Frag needed / packet too big from a router between director and server.
      auto pkt = six ? test::icmp_error_packet(c.server_router, c.client, 2, 0, 1400, dnat)
                     : test::icmp_error_packet(c.server_router, c.client, 3, 4, 1400, dnat);
      IcmpErrorView e;
      auto v = view(pkt);
      ASSERT_EQ(icmp_error_parse(v, e), IcmpNatStatus::ok);
      EXPECT_TRUE(e.l4_checksum_quoted);
      EXPECT_EQ(e.mtu, 1400u);
      ASSERT_EQ(icmp_nat_from_real_server(v, ip(c.vip.c_str()), c.vport), IcmpNatStatus::ok);
      auto orig = client_to_vip(c, proto_spec(udp, "payload!"));
      auto want = six ? test::icmp_error_packet(c.vip, c.client, 2, 0, 1400, orig)
                      : test::icmp_error_packet(c.vip, c.client, 3, 4, 1400, orig);
      EXPECT_EQ(pkt, want) << six << udp;
      EXPECT_TRUE(test::icmp_checksum_ok(pkt));
    }
  }
}

TEST(IcmpNat, ToRealServerRewritesOuterDestinationAndQuotedSource) {
  for (bool six : {false, true}) {
    const Conn& c = six ? kConn6 : kConn4;
    // Time exceeded from a router on the client's side about a reply.
    auto reply = vip_to_client(c, {});
    const std::uint8_t type = six ? 3 : 11;
    auto pkt = test::icmp_error_packet(c.client_router, c.vip, type, 0, 0,
                                       test::head(reply, header_len(six) + 8));
    IcmpErrorView e;
    auto v = view(pkt);
    ASSERT_EQ(icmp_error_parse(v, e), IcmpNatStatus::ok);
    EXPECT_EQ(e.src, ip(c.vip.c_str()));
    EXPECT_EQ(e.sport, c.vport);
    EXPECT_EQ(e.dst, ip(c.client.c_str()));
    EXPECT_EQ(e.dport, c.cport);
    EXPECT_FALSE(e.l4_checksum_quoted);
    ASSERT_EQ(icmp_nat_to_real_server(v, ip(c.rip.c_str()), c.rport), IcmpNatStatus::ok);
    auto want = test::icmp_error_packet(c.client_router, c.rip, type, 0, 0,
                                        test::head(rip_to_client(c, {}), header_len(six) + 8));
    EXPECT_EQ(pkt, want) << six;
    EXPECT_EQ(v.dst, ip(c.rip.c_str()));
  }
}

TEST(IcmpNat, QuotedTcpChecksumOnlyWhenItFits) {
  auto dnat = client_to_rip(kConn4, {});
  for (std::size_t quote : {24u, 28u, 37u, 38u, 40u}) {
    auto pkt = test::icmp_error_packet(kConn4.rip, kConn4.client, 3, 3, 0, test::head(dnat, quote));
    IcmpErrorView e;
    auto v = view(pkt);
    ASSERT_EQ(icmp_error_parse(v, e), IcmpNatStatus::ok) << quote;
    EXPECT_EQ(e.l4_checksum_quoted, quote >= 38) << quote;
    ASSERT_EQ(icmp_nat_from_real_server(v, ip(kConn4.vip.c_str()), 80), IcmpNatStatus::ok);
    auto want_quote = test::head(client_to_vip(kConn4, {}), quote);
    if (quote == 37) want_quote[36] = dnat[36];  // half a checksum: left as it was
    EXPECT_EQ(pkt, test::icmp_error_packet(kConn4.vip, kConn4.client, 3, 3, 0, want_quote))
        << quote;
  }
}

TEST(IcmpNat, Ipv4UdpWithoutChecksumStaysWithout) {
  PacketSpec s = proto_spec(true, "dns");
  s.udp_zero_checksum = true;
  auto dnat = client_to_rip(kConn4, s);
  auto pkt = test::icmp_error_packet(kConn4.rip, kConn4.client, 3, 3, 0, dnat);
  auto v = view(pkt);
  ASSERT_EQ(icmp_nat_from_real_server(v, ip(kConn4.vip.c_str()), 80), IcmpNatStatus::ok);
  EXPECT_EQ(pkt, test::icmp_error_packet(kConn4.vip, kConn4.client, 3, 3, 0, client_to_vip(kConn4, s)));
  EXPECT_EQ(test::get16(pkt, 28 + 20 + 6), 0);
}

TEST(IcmpNat, ParsesErrorsBuiltByIcmpBuilder) {
  auto orig = client_to_vip(kConn4, proto_spec(false, std::string(1400, 'x')));
  std::vector<std::uint8_t> out(kIcmpReplyMax);
  auto r = icmp_build_frag_needed(orig, 1300, out);
  ASSERT_EQ(r.status, IcmpBuildStatus::ok);
  out.resize(r.len);
  IcmpErrorView e;
  auto v = view(out);
  ASSERT_EQ(icmp_error_parse(v, e), IcmpNatStatus::ok);
  EXPECT_EQ(e.type, 3);
  EXPECT_EQ(e.code, 4);
  EXPECT_EQ(e.mtu, 1300u);
  EXPECT_EQ(e.proto, IPPROTO_TCP);
  EXPECT_EQ(e.src, ip(kConn4.client.c_str()));
  EXPECT_EQ(e.sport, kConn4.cport);
  EXPECT_EQ(e.dst, ip(kConn4.vip.c_str()));
  EXPECT_EQ(e.dport, kConn4.vport);
  EXPECT_EQ(e.embedded_offset, 28u);
  EXPECT_EQ(e.embedded_l4_offset, 48u);
}

TEST(IcmpNat, EmbeddedIpv6ExtensionHeaders) {
  // A quoted IPv6 packet with a hop-by-hop header (PadN) before UDP.
  auto udp = client_to_rip(kConn6, proto_spec(true, "x"));
  std::vector<std::uint8_t> quoted(udp.begin(), udp.begin() + 40);
  quoted[6] = 0;  // hop-by-hop
  std::vector<std::uint8_t> hbh = {17, 0, 1, 4, 0, 0, 0, 0};
  quoted.insert(quoted.end(), hbh.begin(), hbh.end());
  quoted.insert(quoted.end(), udp.begin() + 40, udp.end());
  auto pkt = test::icmp_error_packet(kConn6.rip, kConn6.client, 1, 4, 0, quoted);
  IcmpErrorView e;
  auto v = view(pkt);
  ASSERT_EQ(icmp_error_parse(v, e), IcmpNatStatus::ok);
  EXPECT_EQ(e.proto, IPPROTO_UDP);
  EXPECT_EQ(e.embedded_l4_offset, 48u + 48u);
  EXPECT_EQ(e.dport, kConn6.rport);
  ASSERT_EQ(icmp_nat_from_real_server(v, ip(kConn6.vip.c_str()), kConn6.vport), IcmpNatStatus::ok);
  EXPECT_TRUE(test::icmp_checksum_ok(pkt));
  // A later fragment carries no ports.
  std::vector<std::uint8_t> frag(udp.begin(), udp.begin() + 40);
  frag[6] = 44;
  std::vector<std::uint8_t> fh = {17, 0, 0x00, 0x08, 0, 0, 0, 1};
  frag.insert(frag.end(), fh.begin(), fh.end());
  frag.insert(frag.end(), 8, 0);
  auto fpkt = test::icmp_error_packet(kConn6.rip, kConn6.client, 1, 4, 0, frag);
  auto fv = view(fpkt);
  EXPECT_EQ(icmp_error_parse(fv, e), IcmpNatStatus::embedded_fragment);
}

TEST(IcmpNat, ErrorStatusesLeaveThePacketAlone) {
  auto dnat = client_to_rip(kConn4, {});
  auto st = [](std::vector<std::uint8_t> p, const char* vip = "192.0.2.10") {
    auto orig = p;
    PacketView v;
    EXPECT_EQ(parse_packet(p.data(), p.size(), v), ParseStatus::ok);
    auto s = icmp_nat_from_real_server(v, ip(vip), 80);
    EXPECT_EQ(p, orig);
    return s;
  };
  auto err = [&](std::vector<std::uint8_t> quote, std::uint8_t type = 3) {
    return test::icmp_error_packet(kConn4.rip, kConn4.client, type, 3, 0, quote);
  };
  EXPECT_EQ(st(dnat), IcmpNatStatus::not_icmp);
  EXPECT_EQ(st(err({}, 8)), IcmpNatStatus::not_error);   // echo request
  EXPECT_EQ(st(err({}, 5)), IcmpNatStatus::not_error);   // redirect: not translated
  EXPECT_EQ(st(err({})), IcmpNatStatus::truncated_embedded);
  EXPECT_EQ(st(err(test::head(dnat, 19))), IcmpNatStatus::truncated_embedded);
  EXPECT_EQ(st(err(test::head(dnat, 23))), IcmpNatStatus::truncated_embedded);  // 3 port bytes
  auto ports_only = err(test::head(dnat, 24));  // the ports are enough
  PacketView pv = view(ports_only);
  EXPECT_EQ(icmp_nat_from_real_server(pv, ip("192.0.2.10"), 80), IcmpNatStatus::ok);
  EXPECT_TRUE(test::icmp_checksum_ok(ports_only));
  auto ihl = test::head(dnat, 28);
  ihl[0] = 0x44;
  EXPECT_EQ(st(err(ihl)), IcmpNatStatus::bad_embedded);
  ihl[0] = 0x4f;
  EXPECT_EQ(st(err(ihl)), IcmpNatStatus::truncated_embedded);
  auto six = client_to_rip(kConn6, {});
  EXPECT_EQ(st(err(test::head(six, 48))), IcmpNatStatus::bad_embedded);
  auto frag = test::head(dnat, 28);
  test::put16(frag, 6, 0x0010);
  EXPECT_EQ(st(err(frag)), IcmpNatStatus::embedded_fragment);
  auto echo = test::icmp_error_packet(kConn4.client, kConn4.rip, 8, 0, 0, {});
  EXPECT_EQ(st(err(echo)), IcmpNatStatus::unsupported_protocol);
  EXPECT_EQ(st(err(test::head(dnat, 28)), "2001:db8::10"), IcmpNatStatus::family_mismatch);
  // ICMPv6: neighbour discovery and echo are not errors; an ICMPv4 type
  // number inside ICMPv6 means something else.
  auto nd = test::icmp_error_packet(kConn6.rip, kConn6.client, 135, 0, 0, test::head(six, 48));
  PacketView v = view(nd);
  IcmpErrorView e;
  EXPECT_EQ(icmp_error_parse(v, e), IcmpNatStatus::not_error);
  auto v6_type11 = test::icmp_error_packet(kConn6.rip, kConn6.client, 11, 0, 0, test::head(six, 48));
  v = view(v6_type11);
  EXPECT_EQ(icmp_error_parse(v, e), IcmpNatStatus::not_error);
}

// Property: for random families, protocols, quote lengths and directions,
// the translated error equals the one built from the translated packet.
TEST(IcmpNat, RandomMatchesRebuild) {
  std::mt19937 rng(4242);
  for (int i = 0; i < 3000; ++i) {
    const bool six = rng() & 1, udp = rng() & 1, from_server = rng() & 1;
    const Conn& c = six ? kConn6 : kConn4;
    Conn k = c;
    k.cport = static_cast<std::uint16_t>(rng());
    k.vport = static_cast<std::uint16_t>(rng());
    k.rport = static_cast<std::uint16_t>(rng());
    std::string data(rng() % 1300, 'd');
    for (auto& ch : data) ch = static_cast<char>(rng());
    PacketSpec s = proto_spec(udp, data);
    s.tcp_flags = static_cast<std::uint8_t>(rng());
    const std::size_t hl = header_len(six);
    auto before = from_server ? client_to_rip(k, s) : vip_to_client(k, s);
    auto after = from_server ? client_to_vip(k, s) : rip_to_client(k, s);
    const std::size_t quote = hl + 4 + rng() % (before.size() - hl - 3);
    const std::uint8_t type = six ? static_cast<std::uint8_t>(1 + rng() % 4)
                                  : std::array<std::uint8_t, 4>{3, 4, 11, 12}[rng() % 4];
    const std::uint32_t info = static_cast<std::uint32_t>(rng());
    const std::string& peer = from_server ? k.server_router : k.client_router;
    auto pkt = from_server
                   ? test::icmp_error_packet(peer, k.client, type, 0, info, test::head(before, quote))
                   : test::icmp_error_packet(peer, k.vip, type, 0, info, test::head(before, quote));
    auto v = view(pkt);
    const auto status = from_server ? icmp_nat_from_real_server(v, ip(k.vip.c_str()), k.vport)
                                    : icmp_nat_to_real_server(v, ip(k.rip.c_str()), k.rport);
    ASSERT_EQ(status, IcmpNatStatus::ok) << i;
    auto want_quote = test::head(after, quote);
    const std::size_t check_at = hl + (udp ? 6 : 16);
    if (quote == check_at + 1) want_quote[check_at] = before[check_at];  // half a checksum: kept
    auto want = from_server ? test::icmp_error_packet(k.vip, k.client, type, 0, info, want_quote)
                            : test::icmp_error_packet(peer, k.rip, type, 0, info, want_quote);
    // Exact bytes, checksums included: a fresh checksum of non-zero data and
    // an RFC 1624 eqn. 3 update both fall in 0x0000-0xfffe, so they agree.
    ASSERT_EQ(pkt, want) << i << " six=" << six << " udp=" << udp << " quote=" << quote;
    ASSERT_TRUE(test::icmp_checksum_ok(pkt)) << i;
  }
}

// Random truncations and byte changes of valid errors through parse_packet,
// icmp_error_parse and icmp_nat_rewrite: never a crash, never an access
// outside the (exactly-sized) buffer, and a valid ICMP checksum stays valid.
TEST(IcmpNat, FuzzNeverReadsOutOfBounds) {
  std::mt19937 rng(99);
  std::vector<std::vector<std::uint8_t>> seeds;
  for (bool six : {false, true}) {
    const Conn& c = six ? kConn6 : kConn4;
    for (bool udp : {false, true}) {
      auto q = client_to_rip(c, proto_spec(udp, "abcdefgh"));
      seeds.push_back(test::icmp_error_packet(c.rip, c.client, six ? 1 : 3, 3, 0, q));
      seeds.push_back(test::icmp_error_packet(c.rip, c.client, six ? 2 : 3, six ? 0 : 4, 1280,
                                              test::head(q, header_len(six) + 8)));
    }
  }
  std::size_t rewritten = 0;
  for (int i = 0; i < 60000; ++i) {
    auto p = seeds[rng() % seeds.size()];
    if (rng() & 1) p.resize(rng() % (p.size() + 1));
    for (int flips = static_cast<int>(rng() % 4); flips > 0 && !p.empty(); --flips)
      p[rng() % p.size()] = static_cast<std::uint8_t>(rng());
    std::vector<std::uint8_t> exact(p);
    PacketView v;
    if (parse_packet(exact.data(), exact.size(), v) != ParseStatus::ok) continue;
    IcmpErrorView e;
    (void)icmp_error_parse(v, e);
    const bool six = v.v6();
    const bool checkable = v.len == exact.size() && v.l4_offset == (six ? 40u : 20u);
    const bool valid_before = checkable && test::icmp_checksum_ok(exact);
    const IpAddress to = ip(six ? kConn6.vip.c_str() : kConn4.vip.c_str());
    IcmpNatChange change{static_cast<bool>(rng() & 1), to, static_cast<bool>(rng() & 1), to, 80};
    if (icmp_nat_rewrite(v, change) != IcmpNatStatus::ok) continue;
    ++rewritten;
    if (valid_before) {
      ASSERT_TRUE(test::icmp_checksum_ok(exact)) << i;
    }
  }
  EXPECT_GT(rewritten, 1000u);
}

}  // namespace
}  // namespace vsd
