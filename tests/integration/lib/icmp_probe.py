#!/usr/bin/env python3
"""What a client's kernel makes of ICMP errors about its UDP flow to a VIP.

A connected UDP socket sends to ADDR:PORT while a raw ICMP/ICMPv6 socket
watches every ICMP error that reaches the client. Prints key=value lines for
the integration tests to grep; exits 0 whatever happened (the test judges),
non-zero only on a usage or socket error. Every wait is bounded.

  icmp_probe.py send ADDR PORT SIZE
      One datagram with DF (IPv4) / no fragmentation (IPv6) whose whole IP
      packet is SIZE bytes (header + 8 UDP + payload), re-sent up to 3 times,
      at most ~4 s in all. Prints, as they happen:
        reply=TEXT               a datagram came back (first 40 bytes)
        icmp src=S type=T code=C mtu=M quoted=A:p->B:q
                                 an ICMP error quoting our flow
        path_mtu=N               getsockopt IP_MTU / IPV6_MTU afterwards
        none                     neither a reply nor an ICMP error
  icmp_probe.py refused ADDR PORT
      One small datagram, then recv(); prints
        recv=ECONNREFUSED | recv=TEXT | recv=timeout | recv=ERRNAME
        icmp src=S type=T code=C mtu=0 quoted=A:p->B:q   (if one arrived)
"""
import errno
import select
import socket
import struct
import sys
import time

IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_MTU = 10, 2, 14
IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO, IPV6_MTU, IPV6_DONTFRAG = 23, 2, 24, 62


def parse_icmp4(pkt):
    """(outer src, type, code, mtu, quoted src, sport, quoted dst, dport) or None."""
    ihl = (pkt[0] & 0x0F) * 4
    src = socket.inet_ntop(socket.AF_INET, pkt[12:16])
    icmp = pkt[ihl:]
    if len(icmp) < 8 + 20 + 4 or icmp[0] not in (3, 11, 12):
        return None
    mtu = struct.unpack("!H", icmp[6:8])[0] if (icmp[0], icmp[1]) == (3, 4) else 0
    q = icmp[8:]
    qihl = (q[0] & 0x0F) * 4
    if q[9] != socket.IPPROTO_UDP or len(q) < qihl + 4:
        return None
    sport, dport = struct.unpack("!HH", q[qihl:qihl + 4])
    return (src, icmp[0], icmp[1], mtu, socket.inet_ntop(socket.AF_INET, q[12:16]), sport,
            socket.inet_ntop(socket.AF_INET, q[16:20]), dport)


def parse_icmp6(icmp, src):
    if len(icmp) < 8 + 40 + 4 or icmp[0] not in (1, 2, 3, 4):
        return None
    mtu = struct.unpack("!I", icmp[4:8])[0] if icmp[0] == 2 else 0
    q = icmp[8:]
    if q[6] != socket.IPPROTO_UDP:
        return None
    sport, dport = struct.unpack("!HH", q[40:44])
    return (src, icmp[0], icmp[1], mtu, socket.inet_ntop(socket.AF_INET6, q[8:24]), sport,
            socket.inet_ntop(socket.AF_INET6, q[24:40]), dport)


def fmt_addr(a, p, v6):
    return f"[{a}]:{p}" if v6 else f"{a}:{p}"


class Probe:
    def __init__(self, addr, port):
        self.v6 = ":" in addr
        fam = socket.AF_INET6 if self.v6 else socket.AF_INET
        self.raw = socket.socket(fam, socket.SOCK_RAW,
                                 socket.IPPROTO_ICMPV6 if self.v6 else socket.IPPROTO_ICMP)
        self.udp = socket.socket(fam, socket.SOCK_DGRAM)
        if self.v6:
            self.udp.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
            self.udp.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)
        else:
            self.udp.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        self.udp.connect((addr, port))
        self.addr, self.port = addr, port
        self.local = self.udp.getsockname()[:2]
        self.seen_icmp = False

    def ours(self, e):
        return e and e[5] == self.local[1] and e[7] == self.port

    def read_icmp(self):
        pkt, peer = self.raw.recvfrom(65535)
        e = parse_icmp6(pkt, peer[0]) if self.v6 else parse_icmp4(pkt)
        if self.ours(e):
            self.seen_icmp = True
            print(f"icmp src={e[0]} type={e[1]} code={e[2]} mtu={e[3]} "
                  f"quoted={fmt_addr(e[4], e[5], self.v6)}->{fmt_addr(e[6], e[7], self.v6)}",
                  flush=True)
        return self.ours(e)

    def path_mtu(self):
        if self.v6:
            return self.udp.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU)
        return self.udp.getsockopt(socket.IPPROTO_IP, IP_MTU)


def cmd_send(addr, port, size):
    p = Probe(addr, port)
    payload = b"x" * (size - (48 if p.v6 else 28))
    got_reply = False
    for attempt in range(3):
        try:
            p.udp.send(payload)
        except OSError as e:  # EMSGSIZE once the kernel knows a lower path MTU
            print(f"send={errno.errorcode.get(e.errno, e.errno)}", flush=True)
        deadline = time.monotonic() + 1.3
        while time.monotonic() < deadline and not (got_reply or p.seen_icmp):
            r, _, _ = select.select([p.udp, p.raw], [], [], max(0, deadline - time.monotonic()))
            if p.raw in r:
                p.read_icmp()
            if p.udp in r:
                try:
                    data = p.udp.recv(65535)
                    got_reply = True
                    print("reply=" + data[:40].decode(errors="replace").strip(), flush=True)
                except OSError as e:  # the pending error an ICMP error left on the socket
                    print(f"recv={errno.errorcode.get(e.errno, e.errno)}", flush=True)
        if got_reply or p.seen_icmp:
            break
    # The ICMP error may be read before the kernel has updated the route.
    time.sleep(0.2)
    if not (got_reply or p.seen_icmp):
        print("none")
    print(f"path_mtu={p.path_mtu()}")


def cmd_refused(addr, port):
    p = Probe(addr, port)
    p.udp.settimeout(3)
    p.udp.send(b"hello\n")
    try:
        data = p.udp.recv(65535)
        print("recv=" + data[:40].decode(errors="replace").strip(), flush=True)
    except socket.timeout:
        print("recv=timeout", flush=True)
    except OSError as e:
        print(f"recv={errno.errorcode.get(e.errno, e.errno)}", flush=True)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and not p.seen_icmp:
        r, _, _ = select.select([p.raw], [], [], max(0, deadline - time.monotonic()))
        if r:
            p.read_icmp()
    if not p.seen_icmp:
        print("icmp none")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "send":
        cmd_send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "refused":
        cmd_refused(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
