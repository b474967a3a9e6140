#!/usr/bin/env python3
"""Stops ONE thread of a process for SECONDS, then lets it run again: the
thread is ptrace-seized and interrupted (PTRACE_SEIZE + PTRACE_INTERRUPT
stop only the tracee, unlike SIGSTOP, which stops every thread), held, then
detached. Prints "stopped" once the thread is in its stop and "resumed"
after. Exit 77 when ptrace is not allowed here (no CAP_SYS_PTRACE, Yama).

Usage: wedge_thread.py TID SECONDS
"""
import ctypes
import os
import sys
import time

PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long

tid, seconds = int(sys.argv[1]), float(sys.argv[2])
if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
    print(f"cannot seize thread {tid}: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
    sys.exit(77)
if libc.ptrace(PTRACE_INTERRUPT, tid, None, None) != 0:
    print(f"cannot interrupt thread {tid}: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
    sys.exit(1)
os.waitpid(tid, WALL)
print("stopped", flush=True)
time.sleep(seconds)
if libc.ptrace(PTRACE_DETACH, tid, None, None) != 0:
    print(f"cannot detach thread {tid}: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
    sys.exit(1)
print("resumed", flush=True)
