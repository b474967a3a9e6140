#!/usr/bin/env python3
"""Start the vsd appliance under qemu and drive it over its serial console.

  vm.py start --image IMG --state DIR [--accel tcg|kvm] [--config-disk CFG]
              [--nic NETNS:TAP:MAC ...] [--share TAG=DIR[:ro] ...] [--mem MiB] [--smp N]
      Opens each TAP (a tap device that already exists in network namespace
      NETNS, e.g. `ip netns exec NS ip tuntap add TAP mode tap`) from inside
      its namespace, hands the file descriptors to qemu, and starts qemu in
      the background: the image as a throwaway snapshot (snapshot=on), the
      config disk read-only, the serial console on DIR/serial.sock with a
      copy of everything in DIR/serial.log. qemu's pid goes to DIR/qemu.pid.
      Each --share exports the host directory DIR over virtio-9p with the
      mount tag TAG (read-only with :ro); in the VM:
      mount -t 9p -o trans=virtio,version=9p2000.L TAG /mnt

  vm.py wait-shell --state DIR [--timeout S]
      Waits (bounded) for the root shell that the image's autologin gives on
      ttyS0, then makes it quiet for scripting (no echo, no colours).

  vm.py run --state DIR [--timeout S] -- 'shell script'
      Runs the script in the VM with bash (stdout and stderr together),
      prints its output and exits with its status; 124 on a timeout.

Python 3 standard library only (ctypes for setns, fcntl for TUNSETIFF).
"""
import argparse
import base64
import ctypes
import fcntl
import os
import re
import secrets
import socket
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns(%s): %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def open_tap(netns, name):
    """An fd on the existing tap NAME of namespace NETNS, opened from inside it."""
    own = "/proc/self/ns/net"
    back = os.open(own, os.O_RDONLY)
    try:
        setns("/run/netns/" + netns)
        fd = os.open("/dev/net/tun", os.O_RDWR)
        ifr = struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)
        fcntl.ioctl(fd, TUNSETIFF, ifr)
        os.set_inheritable(fd, True)
        return fd
    finally:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(back, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back to the host namespace")
        os.close(back)


def cmd_start(a):
    os.makedirs(a.state, exist_ok=True)
    sock = os.path.join(a.state, "serial.sock")
    log = os.path.join(a.state, "serial.log")
    for p in (sock,):
        if os.path.exists(p):
            os.unlink(p)
    qemu = ["qemu-system-x86_64", "-name", "vsd-appliance", "-machine", "q35",
            "-m", str(a.mem), "-smp", str(a.smp), "-display", "none", "-monitor", "none",
            "-no-user-config", "-nodefaults", "-no-reboot",
            "-chardev", "socket,id=ser0,path=%s,server=on,wait=off,logfile=%s" % (sock, log),
            "-serial", "chardev:ser0",
            "-device", "virtio-rng-pci",
            "-drive", "file=%s,if=virtio,format=%s,snapshot=on" % (a.image, "qcow2" if a.image.endswith(".qcow2") else "raw")]
    if a.accel == "kvm":
        qemu += ["-accel", "kvm", "-cpu", "host"]
    else:
        qemu += ["-accel", "tcg,thread=multi", "-cpu", "max"]
    if a.config_disk:
        qemu += ["-drive", "file=%s,if=virtio,format=raw,readonly=on" % a.config_disk]
    for i, spec in enumerate(a.share):
        tag, path = spec.split("=", 1)
        ro = path.endswith(":ro")
        if ro:
            path = path[:-3]
        qemu += ["-virtfs", "local,path=%s,mount_tag=%s,security_model=none,id=fs%d%s"
                 % (os.path.abspath(path), tag, i, ",readonly=on" if ro else "")]
    fds = []
    for i, spec in enumerate(a.nic):
        netns, tap, mac = spec.split(":", 2)
        fd = open_tap(netns, tap)
        fds.append(fd)
        qemu += ["-netdev", "tap,id=n%d,fd=%d,vhost=off" % (i, fd),
                 "-device", "virtio-net-pci,netdev=n%d,mac=%s" % (i, mac)]
    with open(os.path.join(a.state, "qemu.cmd"), "w") as f:
        f.write(" ".join(qemu) + "\n")
    err = open(os.path.join(a.state, "qemu.stderr"), "w")
    p = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                         pass_fds=fds, start_new_session=True)
    with open(os.path.join(a.state, "qemu.pid"), "w") as f:
        f.write("%d\n" % p.pid)
    for fd in fds:
        os.close(fd)
    # qemu creates the socket at once; fail early if it died (bad option, image).
    deadline = time.time() + 20
    while time.time() < deadline:
        if p.poll() is not None:
            sys.stderr.write(open(os.path.join(a.state, "qemu.stderr")).read())
            print("vm.py: qemu exited with status %d" % p.returncode, file=sys.stderr)
            return 1
        if os.path.exists(sock):
            print("vm.py: qemu pid %d (%s), serial %s" % (p.pid, a.accel, sock))
            return 0
        time.sleep(0.2)
    print("vm.py: qemu did not create %s" % sock, file=sys.stderr)
    return 1


class Serial:
    def __init__(self, state, timeout=10):
        self.path = os.path.join(state, "serial.sock")
        deadline = time.time() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(self.path)
                break
            except OSError:
                self.s.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        self.buf = b""

    def send(self, text):
        self.s.sendall(text.encode())

    def read_until(self, pattern, timeout):
        """Reads until the regex (bytes) matches the buffer; returns the match or None."""
        rx = re.compile(pattern, re.S)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                return m
            left = deadline - time.time()
            if left <= 0:
                return None
            self.s.settimeout(min(left, 1.0))
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise ConnectionError("serial console closed (qemu exited?)")
            self.buf += data

    def close(self):
        self.s.close()


def cmd_wait_shell(a):
    deadline = time.time() + a.timeout
    ser = Serial(a.state, timeout=a.timeout)
    try:
        while time.time() < deadline:
            # A prompt appears after each newline once root is logged in.
            ser.send("\n")
            if ser.read_until(rb"root@[\w.-]+:[^\n]*# ", timeout=5):
                break
        else:
            print("vm.py: no root shell on the serial console within %d s (see serial.log)" % a.timeout,
                  file=sys.stderr)
            return 1
        token = secrets.token_hex(6)
        ser.send("stty -echo -onlcr cols 512; export TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 PAGER=cat; "
                 "bind 'set enable-bracketed-paste off' 2>/dev/null; PS1='# '; echo \"R\"\"%s\"\n" % token)
        if not ser.read_until(("R%s" % token).encode(), timeout=30):
            print("vm.py: the shell did not answer", file=sys.stderr)
            return 1
        return 0
    finally:
        ser.close()


def cmd_run(a):
    script = a.script
    if script and script[0] == "--":
        script = script[1:]
    script = " ".join(script)
    token = secrets.token_hex(8)
    payload = base64.b64encode(script.encode()).decode()
    tmp = "/tmp/.vmrun.%s" % token
    ser = Serial(a.state)
    try:
        lines = []
        for i in range(0, len(payload), 512):
            lines.append("echo %s %s %s" % (payload[i:i + 512], ">" if i == 0 else ">>", tmp))
        if not lines:
            lines.append(": > %s" % tmp)
        # The markers are split in the command text, so an echoed command
        # line can never look like them.
        lines.append('echo "S""%s"; base64 -d %s > %s.sh; bash %s.sh </dev/null 2>&1; '
                     'echo "E""%s:$?:E"; rm -f %s %s.sh' % (token, tmp, tmp, tmp, token, tmp, tmp))
        for l in lines:
            ser.send(l + "\n")
        m = ser.read_until(("S%s\r?\n(.*?)E%s:(\\d+):E" % (token, token)).encode(), timeout=a.timeout)
        if not m:
            tail = ser.buf[-2000:].decode(errors="replace")
            print("vm.py: command timed out after %d s; last output:\n%s" % (a.timeout, tail), file=sys.stderr)
            # Interrupt it so the shell is usable again.
            ser.send("\x03\n")
            return 124
        out = m.group(1).decode(errors="replace").replace("\r", "")
        sys.stdout.write(out)
        sys.stdout.flush()
        return int(m.group(2))
    finally:
        ser.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("--image", required=True)
    s.add_argument("--state", required=True)
    s.add_argument("--accel", choices=["tcg", "kvm"], default="tcg")
    s.add_argument("--config-disk")
    s.add_argument("--nic", action="append", default=[], help="NETNS:TAP:MAC")
    s.add_argument("--share", action="append", default=[], help="TAG=DIR[:ro] (virtio-9p)")
    s.add_argument("--mem", type=int, default=1024)
    s.add_argument("--smp", type=int, default=2)
    w = sub.add_parser("wait-shell")
    w.add_argument("--state", required=True)
    w.add_argument("--timeout", type=int, default=300)
    r = sub.add_parser("run")
    r.add_argument("--state", required=True)
    r.add_argument("--timeout", type=int, default=120)
    r.add_argument("script", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.cmd == "start":
        a.image = os.path.abspath(a.image)
        if a.config_disk:
            a.config_disk = os.path.abspath(a.config_disk)
        return cmd_start(a)
    if a.cmd == "wait-shell":
        return cmd_wait_shell(a)
    return cmd_run(a)


if __name__ == "__main__":
    sys.exit(main())
