// Writes the seed corpora that are made of packets: real packets built with
// tests/unit/packet_builder.hpp (TCP/UDP over IPv4/IPv6, ICMP errors that
// quote them, IP-in-IP, options and extension headers, fragments), the
// NFQUEUE messages that carry them, and engine scripts that open, use and
// close connections through every kind of service of engine_fuzz.cpp.
//   fuzz_corpus_gen OUTDIR    ->  OUTDIR/{packet,engine,queue}/NAME
// Run by tests/fuzz/make_corpus.sh; the output is committed.
#include <netinet/in.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "packet_builder.hpp"

namespace {

using namespace vsd::test;
using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

fs::path out_dir;

void write(const std::string& harness, const std::string& name, const Bytes& b) {
  fs::create_directories(out_dir / harness);
  std::ofstream f(out_dir / harness / name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// IP-in-IP: outer header (protocol 4 or 41) around `inner`.
Bytes tunnel(const std::string& src, const std::string& dst, const Bytes& inner) {
  const bool inner_v6 = (inner[0] >> 4) == 6;
  IpHeaderSpec h{src, dst, static_cast<std::uint8_t>(inner_v6 ? 41 : 4), inner.size()};
  return cat(ip_header(h), inner);
}

// An IPv4 TCP SYN with a 4-byte option block in the IP header (IHL 6).
Bytes with_ip_options(const Bytes& p) {
  Bytes q(p.begin(), p.begin() + 20);
  q.insert(q.end(), {0x94, 0x04, 0x00, 0x00});  // router alert
  q.insert(q.end(), p.begin() + 20, p.end());
  q[0] = 0x46;
  put16(q, 2, static_cast<std::uint16_t>(q.size()));
  fill_ipv4_header_checksum(q);
  fill_l4_checksum(q);
  return q;
}

// An IPv6 packet with a hop-by-hop header (8 bytes, PadN) before its L4.
Bytes with_hop_by_hop(const Bytes& p) {
  Bytes q(p.begin(), p.begin() + 40);
  const std::uint8_t next = p[6];
  q.insert(q.end(), {next, 0, 1, 4, 0, 0, 0, 0});
  q.insert(q.end(), p.begin() + 40, p.end());
  q[6] = 0;
  put16(q, 4, static_cast<std::uint16_t>(q.size() - 40));
  return q;
}

Bytes fragment_of(Bytes p) {
  put16(p, 6, 0x2001);  // MF, offset 8
  fill_ipv4_header_checksum(p);
  return p;
}

std::vector<std::pair<std::string, Bytes>> packets() {
  std::vector<std::pair<std::string, Bytes>> v;
  auto syn4 = PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(0x02).build();
  auto ack4 = PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.10", 80).flags(0x18).data("GET / HTTP/1.0\r\n\r\n").build();
  auto reply4 = PacketSpec{}.from("203.0.113.11", 8000).to("198.51.100.2", 40000).flags(0x12).build();
  auto udp4 = PacketSpec{}.from("198.51.100.2", 5353).to("192.0.2.10", 53).udp().data("query").build();
  auto udp4z = [] {
    PacketSpec s = PacketSpec{}.from("198.51.100.2", 5353).to("192.0.2.10", 53).udp().data("q");
    s.udp_zero_checksum = true;
    return s.build();
  }();
  auto syn6 = PacketSpec{}.from("2001:db8:1::2", 40000).to("2001:db8::10", 443).flags(0x02).build();
  auto udp6 = PacketSpec{}.from("2001:db8:1::2", 5353).to("2001:db8::10", 53).udp().data("query").build();
  auto big4 = PacketSpec{}.from("198.51.100.2", 40000).to("192.0.2.30", 80).flags(0x10).data(std::string(1400, 'd')).build();
  auto big6 = PacketSpec{}.from("2001:db8:1::2", 40000).to("2001:db8::10", 443).flags(0x10).data(std::string(1300, 'd')).build();
  v.push_back({"tcp4_syn", syn4});
  v.push_back({"tcp4_data", ack4});
  v.push_back({"tcp4_reply", reply4});
  v.push_back({"udp4", udp4});
  v.push_back({"udp4_nosum", udp4z});
  v.push_back({"tcp6_syn", syn6});
  v.push_back({"udp6", udp6});
  v.push_back({"tcp4_big", big4});
  v.push_back({"tcp6_big", big6});
  v.push_back({"tcp4_ip_options", with_ip_options(syn4)});
  v.push_back({"tcp6_hop_by_hop", with_hop_by_hop(syn6)});
  v.push_back({"tcp4_fragment", fragment_of(ack4)});
  v.push_back({"icmp4_port_unreachable", icmp_error_packet("203.0.113.11", "198.51.100.2", 3, 3, 0, head(reply4, 28))});
  v.push_back({"icmp4_frag_needed", icmp_error_packet("192.0.2.254", "192.0.2.10", 3, 4, 1400, head(PacketSpec{}.from("192.0.2.10", 80).to("198.51.100.2", 40000).build(), 68))});
  v.push_back({"icmp4_time_exceeded", icmp_error_packet("192.0.2.254", "198.51.100.2", 11, 0, 0, head(udp4, 28))});
  v.push_back({"icmp6_unreachable", icmp_error_packet("2001:db8:5::11", "2001:db8:1::2", 1, 4, 0, head(udp6, 48))});
  v.push_back({"icmp6_packet_too_big", icmp_error_packet("2001:db8:9::1", "2001:db8::10", 2, 0, 1280, head(PacketSpec{}.from("2001:db8::10", 443).to("2001:db8:1::2", 40000).build(), 200))});
  v.push_back({"icmp6_time_exceeded", icmp_error_packet("2001:db8:9::1", "2001:db8:1::2", 3, 0, 0, syn6)});
  {
    Bytes echo = icmp_error_packet("198.51.100.2", "192.0.2.10", 8, 0, 0x00010001, Bytes(16, 'e'));
    v.push_back({"icmp4_echo", echo});
  }
  v.push_back({"ipip4", tunnel("192.0.2.1", "203.0.113.51", syn4)});
  v.push_back({"ipip6", tunnel("2001:db8:62::2", "2001:db8:7::31", syn6)});
  v.push_back({"ipip6_in_4", tunnel("192.0.2.1", "203.0.113.51", syn6)});
  v.push_back({"ipip4_options", tunnel("192.0.2.1", "203.0.113.51", with_ip_options(syn4))});
  {
    IpHeaderSpec gre{"198.51.100.2", "192.0.2.10", 47, 8};
    v.push_back({"gre4", cat(ip_header(gre), Bytes(8, 0))});
  }
  return v;
}

void packet_seeds(const std::vector<std::pair<std::string, Bytes>>& pkts) {
  // Parameters (packet_fuzz.cpp): flags, port, MTU, IP id, address, ICMP type/code/info.
  const Bytes params[] = {
      {0x00, 0x1f, 0x40, 0x05, 0x78, 0x12, 0x34, 203, 0, 113, 11, 3, 4, 0, 0x05, 0x78},
      {0x07, 0x00, 0x50, 0x05, 0x00, 0x00, 0x01, 192, 0, 2, 10, 11, 0, 0, 0x04, 0xd8},
      {0x0a, 0x01, 0xbb, 0x05, 0x78, 0xab, 0xcd, 0, 0, 0, 0x31, 2, 0, 0, 0x05, 0x00},
  };
  for (const auto& [name, p] : pkts)
    for (std::size_t i = 0; i < std::size(params); ++i) write("packet", name + "_" + std::to_string(i), cat(params[i], p));
}

// NFQUEUE messages (nfnetlink_queue): a packet with header, mark, SKB info.
Bytes attr(std::uint16_t type, const Bytes& payload) {
  Bytes a(4);
  const std::uint16_t len = static_cast<std::uint16_t>(4 + payload.size());
  a[0] = static_cast<std::uint8_t>(len);
  a[1] = static_cast<std::uint8_t>(len >> 8);
  a[2] = static_cast<std::uint8_t>(type);
  a[3] = static_cast<std::uint8_t>(type >> 8);
  a.insert(a.end(), payload.begin(), payload.end());
  a.resize((a.size() + 3) & ~std::size_t{3}, 0);
  return a;
}
Bytes be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}
Bytes queue_message(std::uint32_t id, const Bytes& pkt, std::uint32_t mark, std::uint32_t skb_info, std::uint32_t cap_len) {
  Bytes body = {0x02, 0x00, 0x00, 0x00};  // nfgenmsg: AF_INET, version 0, res_id (queue 0)
  Bytes hdr = be32(id);
  hdr.insert(hdr.end(), {0x08, 0x00, 1});  // hw_protocol ETH_P_IP, hook PRE_ROUTING
  body = cat(body, attr(1, hdr));          // NFQA_PACKET_HDR
  if (mark) body = cat(body, attr(3, be32(mark)));          // NFQA_MARK
  body = cat(body, attr(17, be32(skb_info)));               // NFQA_SKB_INFO
  if (cap_len) body = cat(body, attr(16, be32(cap_len)));   // NFQA_CAP_LEN
  body = cat(body, attr(10, pkt));                          // NFQA_PAYLOAD
  Bytes m(16, 0);
  const std::uint32_t len = static_cast<std::uint32_t>(16 + body.size());
  std::memcpy(m.data(), &len, 4);
  const std::uint16_t type = (3 << 8) | 0;  // NFNL_SUBSYS_QUEUE, NFQNL_MSG_PACKET
  std::memcpy(m.data() + 4, &type, 2);
  return cat(m, body);
}

void queue_seeds(const std::vector<std::pair<std::string, Bytes>>& pkts) {
  std::uint32_t id = 1;
  for (const auto& [name, p] : pkts) {
    write("queue", name, queue_message(id, p, id % 3 ? 0 : 7, id % 2 ? 1 : 2, 0));
    ++id;
  }
  const auto& a = pkts[0].second;
  const auto& b = pkts[5].second;
  write("queue", "two_messages", cat(queue_message(10, a, 0x80010005, 0, 0), queue_message(11, b, 0, 1, 9000)));
  Bytes err(36, 0);  // NLMSG_ERROR: an ack for a verdict
  err[0] = 36;
  err[4] = 2;
  write("queue", "ack", cat(queue_message(12, a, 0, 0, 0), err));
}

// engine_fuzz.cpp scripts. Op 1-3: built packet (kind, client, target,
// cport, flags, payload, [icmp type code info quote], [cut], mark).
Bytes built(std::uint8_t kind, std::uint8_t client, std::uint8_t target, std::uint8_t cport, std::uint8_t flags,
            std::uint8_t payload, std::uint8_t mark = 0) {
  return {1, kind, client, target, cport, flags, payload, mark};
}
Bytes icmp_built(std::uint8_t kind, std::uint8_t client, std::uint8_t target, std::uint8_t type) {
  return {1, static_cast<std::uint8_t>(kind | 16), client, target, 0, 0x10, 0, type, 3, 0x05, 0x78, 28, 0};
}

void engine_seeds(const std::vector<std::pair<std::string, Bytes>>& pkts) {
  const std::uint8_t SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;
  auto tcp_flow = [&](std::uint8_t target, bool v6, std::uint8_t mark) {
    const std::uint8_t k = v6 ? 1 : 0;
    Bytes s = built(k, 0, target, 0, SYN, 0, mark);
    s = cat(s, built(k | 4, 0, target, 0, SYN | ACK, 0, mark));
    s = cat(s, built(k, 0, target, 0, ACK | PSH, 20, mark));
    s = cat(s, {4, 10, 10});  // advance the clock
    s = cat(s, built(k | 4, 0, target, 0, ACK, 8, mark));
    s = cat(s, built(k, 0, target, 0, FIN | ACK, 0, mark));
    s = cat(s, built(k | 4, 0, target, 0, FIN | ACK, 0, mark));
    s = cat(s, {5});  // begin_batch
    s = cat(s, {11, 0x02, 0x00});  // 512 s later
    return cat(s, {5});
  };
  // Targets: engine_fuzz.cpp kTargets4 / kTargets6.
  write("engine", "nat_tcp", tcp_flow(0, false, 0));
  write("engine", "nat_tcp_kernel", tcp_flow(0, false, 2));
  write("engine", "persistent_port0", cat(tcp_flow(2, false, 0), tcp_flow(3, false, 0)));
  write("engine", "fwmark", tcp_flow(11, false, 1));
  write("engine", "dr", tcp_flow(4, false, 2));
  write("engine", "dr_pending", cat(built(0, 0, 4, 0, SYN, 0, 2), built(0, 0, 4, 0, ACK, 0, 3)));
  write("engine", "tun4", cat(tcp_flow(5, false, 0), built(0, 1, 5, 1, SYN, 31, 0)));
  write("engine", "tun6_mh", tcp_flow(0, true, 0));
  write("engine", "twos_sed", cat(tcp_flow(6, false, 0), tcp_flow(7, false, 0)));
  write("engine", "rst", cat(built(0, 0, 0, 0, SYN, 0), built(0, 0, 0, 0, RST, 0)));
  write("engine", "udp_ops", cat(built(2, 0, 1, 0, 0, 5), built(6, 0, 1, 0, 0, 5)));
  write("engine", "udp6_lblc", cat(built(3, 0, 1, 0, 0, 5), built(7, 0, 1, 0, 0, 5)));
  write("engine", "icmp_errors",
        cat(cat(built(0, 0, 0, 0, SYN, 0), icmp_built(4, 0, 0, 0)), cat(icmp_built(0, 0, 0, 1), icmp_built(1, 0, 0, 1))));
  write("engine", "icmp_tun", cat(built(0, 0, 5, 0, SYN, 0), icmp_built(0, 0, 5, 0)));
  Bytes many;
  for (std::uint8_t c = 0; c < 8; ++c)
    for (std::uint8_t t = 0; t < 8; ++t) many = cat(many, built(0, c, t, c, SYN, 0));
  write("engine", "table_full", cat(many, Bytes{5, 9, 5, 11, 0x10, 0, 5}));
  // Kernel flows: seen/changed/gone for the NAT service and the DR one.
  Bytes kf = {7, 0x00, 0, 0, 0, 5 | (0 << 3), 3, 7, 0x10, 0, 0, 0, 5, 3, 7, 0x20, 0, 0, 0, 5, 3};
  write("engine", "kernel_flows", cat(cat(Bytes{8, 1}, kf), Bytes{8, 0, 5}));
  write("engine", "snapshot_swap", cat(cat(tcp_flow(0, false, 0), Bytes{9}), cat(tcp_flow(0, false, 0), Bytes{9, 5})));
  // Raw packets (op 0) and the real server's decapsulation (op 10).
  for (const auto& [name, p] : pkts) {
    Bytes s = {0, 0, static_cast<std::uint8_t>(p.size() >> 8), static_cast<std::uint8_t>(p.size())};
    s = cat(s, p);
    write("engine", "raw_" + name, s);
    if (name.rfind("ipip", 0) == 0)
      write("engine", "decap_" + name, cat(Bytes{10, static_cast<std::uint8_t>(p.size() >> 8), static_cast<std::uint8_t>(p.size())}, p));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  const auto pkts = packets();
  packet_seeds(pkts);
  queue_seeds(pkts);
  engine_seeds(pkts);
  return 0;
}
