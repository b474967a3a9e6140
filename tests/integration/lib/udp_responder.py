#!/usr/bin/env python3
"""UDP responder for DR/TUN real servers: answers every datagram on PORT
with "NAME:<payload>" (one datagram, trailing newline of the payload
dropped), sent FROM the address the datagram was sent to. A DR/TUN real
server receives datagrams for the VIP and must answer from the VIP, which a
wildcard-bound socket (socat's UDP-RECVFROM) does not do: it answers from
the address of the outgoing route. One socket per family, with pktinfo.

usage: udp_responder.py NAME PORT
"""
import select
import socket
import struct
import sys

IP_PKTINFO = 8          # <linux/in.h>
IPV6_RECVPKTINFO = 49   # <linux/in6.h>
IPV6_PKTINFO = 50


def main():
    name, port = sys.argv[1], int(sys.argv[2])
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4.setsockopt(socket.SOL_IP, IP_PKTINFO, 1)
    s4.bind(("0.0.0.0", port))
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s6.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
    s6.bind(("::", port))
    while True:
        ready, _, _ = select.select([s4, s6], [], [])
        for s in ready:
            data, anc, _, peer = s.recvmsg(65535, 256)
            cmsgs = []
            for level, kind, cdata in anc:
                if s is s4 and level == socket.SOL_IP and kind == IP_PKTINFO:
                    # struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }
                    dst = cdata[8:12]
                    cmsgs = [(socket.SOL_IP, IP_PKTINFO, struct.pack("=i4s4s", 0, dst, b"\0" * 4))]
                elif s is s6 and level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO:
                    # struct in6_pktinfo { in6_addr addr; int ifindex; }
                    dst = cdata[0:16]
                    cmsgs = [(socket.IPPROTO_IPV6, IPV6_PKTINFO, struct.pack("=16si", dst, 0))]
            reply = name.encode() + b":" + data.rstrip(b"\n") + b"\n"
            try:
                s.sendmsg([reply], cmsgs, 0, peer)
            except OSError as e:
                print(f"udp_responder {name}: reply to {peer}: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
