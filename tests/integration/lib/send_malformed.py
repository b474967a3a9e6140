#!/usr/bin/env python3
"""Sends malformed packets to a VIP over a raw socket: an IPv4 fragment of a
TCP SYN, and a TCP segment whose header is cut short. vsd must count them,
drop them, and keep serving (the integration test checks all three)."""
import socket
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, payload, frag=0x0000, total=None):
    total = total if total is not None else 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0x4242, frag, 64, 6, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def main():
    src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    syn = struct.pack("!HHIIBBHHH", 40999, port, 1, 0, 0x50, 0x02, 1024, 0, 0)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    # First fragment (MF set) of a SYN to the VIP.
    s.sendto(ipv4(src, dst, syn + b"x" * 16, frag=0x2000), (dst, 0))
    # TCP header cut to 8 bytes: ports are there, the rest is not.
    s.sendto(ipv4(src, dst, syn[:8]), (dst, 0))


if __name__ == "__main__":
    main()
