#!/usr/bin/env python3
"""Plays systemd's side of sd_notify(3) for a test: binds a unix datagram
socket at PATH and appends every message it receives to LOG as one line,
"<seconds since start> <message with newlines as |>". When a message says
READY=1 it first runs CHECK (a shell command, optional) and logs its exit
status as "check=<rc>", so a test can see what held at that moment (the
nft tables exist). Runs until killed.

Usage: notify_listener.py PATH LOG [CHECK]
"""
import os
import socket
import subprocess
import sys
import time

path, log = sys.argv[1], sys.argv[2]
check = sys.argv[3] if len(sys.argv) > 3 else None
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
t0 = time.monotonic()
with open(log, "a", buffering=1) as out:
    out.write("listening\n")
    while True:
        data = s.recv(4096).decode(errors="replace")
        line = f"{time.monotonic() - t0:.3f} {data.strip().replace(chr(10), '|')}"
        if check and "READY=1" in data.split("\n"):
            rc = subprocess.call(check, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            line += f" check={rc}"
        out.write(line + "\n")
