#!/usr/bin/env python3
"""Captures real netlink answers for the rtnl and kstate seed corpora.

Run as root by tests/fuzz/make_corpus.sh inside a private network namespace
(unshare -n): it sets up links, addresses, routes and neighbours, conntrack
entries with a mark, nft counter objects and a DR/TUN-style flow map, then
saves each recv() datagram of the kernel's answers as one seed, behind the
harness's 8 parameter bytes.
"""
import os
import socket
import struct
import subprocess
import sys
import time

NETLINK_ROUTE, NETLINK_NETFILTER = 0, 12
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
out = sys.argv[1]


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def attr(t, payload):
    a = struct.pack("=HH", 4 + len(payload), t) + payload
    return a + b"\0" * (-len(a) % 4)


def msg(t, flags, seq, payload):
    return struct.pack("=IHHII", 16 + len(payload), t, flags, seq, 0) + payload


def exchange(proto, request, groups=0):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
    s.bind((0, groups))
    s.send(request)
    s.settimeout(1)
    answers = []
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        answers.append(d)
        t = struct.unpack_from("=H", d, 4)[0]
        if t in (2, 3):  # NLMSG_ERROR, NLMSG_DONE
            # the final message may share the datagram with data; stop after it
            last = 0
            off = 0
            while off + 16 <= len(d):
                ln, tt = struct.unpack_from("=IH", d, off)
                last = tt
                off += (ln + 3) & ~3
                if ln < 16:
                    break
            if last in (2, 3):
                break
    s.close()
    return answers


def save(harness, name, params, datagrams):
    os.makedirs(os.path.join(out, harness), exist_ok=True)
    for i, d in enumerate(datagrams[:4]):
        with open(os.path.join(out, harness, f"{name}_{i}"), "wb") as f:
            f.write(params + d)


rt_params = bytes([0, 192, 0, 2, 10, 200, 24, 0])
ct_params = bytes([0, 200, 0, 0, 0, 0, 0x9c, 0x40])

# --- rtnetlink: links, addresses, routes, neighbours, an error ack
sh("ip link set lo up")
sh("ip link add vsdf0 type veth peer name vsdf1")
sh("ip link set vsdf0 up mtu 1400 && ip link set vsdf1 up")
sh("ip addr add 198.51.100.1/24 dev vsdf0 && ip addr add 2001:db8:5::1/64 dev vsdf0 nodad")
sh("ip route add 203.0.113.0/24 via 198.51.100.254 dev vsdf0 mtu 1300")
sh("ip -6 route add 2001:db8:7::/64 via 2001:db8:5::fe dev vsdf0")
sh("ip neigh add 198.51.100.21 lladdr 02:00:00:00:00:21 dev vsdf0 nud reachable")
sh("ip neigh add 198.51.100.22 dev vsdf0 nud incomplete || true")
sh("ip -6 neigh add 2001:db8:5::21 lladdr 02:00:00:00:00:31 dev vsdf0 nud stale")
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH = 18, 22, 26, 30
rtgen = struct.pack("=B3x", socket.AF_UNSPEC)
save("rtnl", "links", rt_params, exchange(NETLINK_ROUTE, msg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, struct.pack("=BxHiII", 0, 0, 0, 0, 0))))
save("rtnl", "addresses", rt_params, exchange(NETLINK_ROUTE, msg(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 2, struct.pack("=BBBBi", 0, 0, 0, 0, 0))))
save("rtnl", "routes", rt_params, exchange(NETLINK_ROUTE, msg(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 3, struct.pack("=BBBBBBBBI", 0, 0, 0, 0, 0, 0, 0, 0, 0))))
save("rtnl", "neighbours", rt_params, exchange(NETLINK_ROUTE, msg(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, 4, struct.pack("=BxxxiHBB", 0, 0, 0, 0, 0))))
# One route lookup (RTM_GETROUTE for 203.0.113.11, as build_route_get asks) and a refused request.
rtm = struct.pack("=BBBBBBBBI", socket.AF_INET, 32, 0, 0, 0, 0, 0, 0, 0)
save("rtnl", "route_get", rt_params, exchange(NETLINK_ROUTE, msg(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_ACK, 5, rtm + attr(1, socket.inet_aton("203.0.113.11")))))
save("rtnl", "error", rt_params, exchange(NETLINK_ROUTE, msg(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_ACK, 6, struct.pack("=BxxxiHBB", socket.AF_INET, 999, 0, 0, 0) + attr(1, socket.inet_aton("198.51.100.99")))))

# --- conntrack: flows with a mark, events and a dump
sh("sysctl -qw net.netfilter.nf_conntrack_acct=1 || true")
sh("""nft -f - <<'NFT'
table ip vsdf {
  counter in_1 { }
  counter out_1 { }
  map tcp_flows {
    typeof ip saddr . tcp sport . ip daddr . tcp dport : meta mark
    flags timeout
    counter
    elements = { 198.51.100.2 . 40000 . 192.0.2.10 . 80 timeout 900s : 0x20030000 }
  }
  chain out {
    type filter hook output priority 0;
    ct state new ct mark set 0x00010000
    counter name "out_1"
  }
}
table ip6 vsdf {
  counter in_2 { }
  map tcp_flows {
    typeof ip6 saddr . tcp sport . ip6 daddr . tcp dport : meta mark
    elements = { 2001:db8:1::2 . 40000 . 2001:db8::10 . 443 : 0x20040000 }
  }
  chain out {
    type filter hook output priority 0;
    ct state new ct mark set 0x00020000
  }
}
NFT""")
ev = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
ev.bind((0, 1 | 2 | 4))  # NFNLGRP_CONNTRACK_NEW, UPDATE, DESTROY
lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lst.bind(("127.0.0.1", 8080))
lst.listen()
c = socket.create_connection(("127.0.0.1", 8080))
a, _ = lst.accept()
c.send(b"hello")
a.recv(5)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.sendto(b"q", ("::1", 5353))
a.close()
c.close()
time.sleep(0.2)
ev.settimeout(0.5)
events = []
while True:
    try:
        events.append(ev.recv(65536))
    except socket.timeout:
        break
save("kstate", "ct_events", ct_params, events)
IPCTNL_MSG_CT_GET = 1
dump = msg((1 << 8) | IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, 7, struct.pack("=BBH", socket.AF_UNSPEC, 0, 0))
save("kstate", "ct_dump", ct_params, exchange(NETLINK_NETFILTER, dump))

# --- nftables: counter objects and flow map elements
NFT_MSG_GETOBJ, NFT_MSG_GETSETELEM = 19, 13
for fam, name in ((2, "ip"), (10, "ip6")):
    objs = msg((10 << 8) | NFT_MSG_GETOBJ, NLM_F_REQUEST | NLM_F_DUMP, 8,
               struct.pack("=BBH", fam, 0, 0) + attr(1, b"vsdf\0") + attr(3, struct.pack(">I", 1)))
    save("kstate", f"nft_counters_{name}", ct_params, exchange(NETLINK_NETFILTER, objs))
    elems = msg((10 << 8) | NFT_MSG_GETSETELEM, NLM_F_REQUEST | NLM_F_DUMP, 9,
                struct.pack("=BBH", fam, 0, 0) + attr(1, b"vsdf\0") + attr(2, b"tcp_flows\0"))
    save("kstate", f"nft_flow_map_{name}", ct_params, exchange(NETLINK_NETFILTER, elems))
