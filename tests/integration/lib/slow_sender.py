#!/usr/bin/env python3
"""A real server's slow download: on PORT (both families), every connection
gets FILE paced at RATE bytes/s, then the server closes. Unlike a client
that reads slowly (curl --limit-rate), the server has not half-closed while
the data flows, so the connection stays ESTABLISHED until the end.

usage: slow_sender.py FILE PORT RATE
"""
import socket
import sys
import threading
import time

path, port, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
data = open(path, "rb").read()


def serve(conn):
    with conn:
        start, sent = time.time(), 0
        try:
            while sent < len(data):
                sent += conn.send(data[sent:sent + 65536])
                ahead = sent / rate - (time.time() - start)
                if ahead > 0:
                    time.sleep(ahead)
        except OSError:
            pass


srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
srv.bind(("::", port))
srv.listen(64)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
