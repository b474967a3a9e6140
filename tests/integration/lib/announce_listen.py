#!/usr/bin/env python3
"""Watches an interface for announcements of a VIP: gratuitous ARPs (sender
IP = target IP = VIP4, request or reply) and unsolicited Neighbor
Advertisements (target VIP6, Solicited flag clear). Prints one line per
frame received (not sent) on IFACE:

  garp op=1 spa=VIP4 sha=MAC eth_src=MAC
  na target=VIP6 eth_src=MAC tlla=MAC|- dst=IP6 flags=0xNN

Creates READY_FILE once the socket listens; stops when STOP_FILE exists or
after MAX_SECONDS, whichever comes first.

usage: announce_listen.py IFACE VIP4 VIP6 READY_FILE STOP_FILE MAX_SECONDS
"""
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def mac(b):
    return ":".join(f"{x:02x}" for x in b)


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    iface, vip4, vip6, ready, stop, max_s = sys.argv[1:]
    vip4_b = socket.inet_pton(socket.AF_INET, vip4)
    vip6_b = socket.inet_pton(socket.AF_INET6, vip6)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    open(ready, "w").close()
    deadline = time.monotonic() + float(max_s)
    while time.monotonic() < deadline and not os.path.exists(stop):
        r, _, _ = select.select([s], [], [], 0.1)
        if not r:
            continue
        try:
            frame, addr = s.recvfrom(65535)
        except OSError:  # the interface went away: the test is over
            return
        if addr[2] == PACKET_OUTGOING or len(frame) < 14:
            continue
        eth_src = mac(frame[6:12])
        etype = struct.unpack("!H", frame[12:14])[0]
        if etype == 0x0806 and len(frame) >= 42:
            op = struct.unpack("!H", frame[20:22])[0]
            sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
            if spa == vip4_b and tpa == vip4_b:
                print(f"garp op={op} spa={vip4} sha={mac(sha)} eth_src={eth_src}", flush=True)
        elif etype == 0x86DD and len(frame) >= 14 + 40 + 24:
            ip6 = frame[14:54]
            icmp = frame[54:]
            if ip6[6] != 58 or icmp[0] != 136:  # ICMPv6 Neighbor Advertisement
                continue
            flags, target = icmp[4], icmp[8:24]
            if target != vip6_b or flags & 0x40:  # solicited: an answer, not an announcement
                continue
            tlla, opts = "-", icmp[24:]
            while len(opts) >= 8 and opts[1]:
                if opts[0] == 2:
                    tlla = mac(opts[2:8])
                opts = opts[opts[1] * 8:]
            dst = socket.inet_ntop(socket.AF_INET6, ip6[24:40])
            print(f"na target={vip6} eth_src={eth_src} tlla={tlla} dst={dst} flags=0x{flags:02x}",
                  flush=True)


if __name__ == "__main__":
    main()
