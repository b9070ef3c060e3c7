#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# echod-client.py MODE ADDRESS [N] - the clients tests/echod.sh runs
# against sockx-echod.  ADDRESS is a path, @abstract or HOST:PORT (TCP).
# Each mode prints one result line and exits 0 when it saw what it
# expects, 1 otherwise (with the reason on the line):
#   echo N     N clients at once, each sends 3 lines in pieces, interleaved
#              with the others; every client gets exactly its lines back.
#              "echo N ok"
#   idle       connect, send nothing; "idle SECONDS" until the server
#              closes the connection.
#   half       send a line (echoed), then half a line; "half SECONDS" from
#              the half line until the server closes.
#   slow       send a line (echoed), then a byte every 200 ms without '\n';
#              "slow SECONDS" from the first byte until the server closes.
#   noread     send lines without ever reading until the server stops
#              taking them and drops us; "noread SECONDS" from the connect
#              until the connection breaks.
#   refused    send a line; "refused" when the server closes without
#              answering.
#   hold N     N clients each get one line echoed, print "holding N", then
#              wait for the server to close them all; "closed N SECONDS".
# Every wait is bounded (30 s).
import os
import resource
import select
import socket
import sys
import time

LIMIT = 30.0


def connect(address):
    if address.startswith("/") or address.startswith("@"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect("\0" + address[1:] if address.startswith("@") else address)
    else:
        host, port = address.rsplit(":", 1)
        s = socket.create_connection((host.strip("[]"), int(port)), LIMIT)
    s.settimeout(LIMIT)
    return s


def fail(why):
    print("%s failed: %s" % (sys.argv[1], why), flush=True)
    sys.exit(1)


def read_exact(s, n):
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            fail("end of stream after %r" % got)
        got += b
    return got


def until_closed(s):
    """Seconds until the peer closes (end of stream or reset)."""
    t0 = time.monotonic()
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        fail("not closed within %.0f s" % LIMIT)
    except ConnectionResetError:
        pass
    return time.monotonic() - t0


def echo_one(s, line):
    s.sendall(line)
    got = read_exact(s, len(line))
    if got != line:
        fail("sent %r, got %r" % (line, got))


def main():
    mode, address = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))

    if mode == "echo":
        socks = [connect(address) for _ in range(n)]
        lines = [b"".join(b"client %d line %d %s\n" % (i, k, b"x" * (i % 50))
                          for k in range(3)) for i in range(n)]
        # Send every client's lines in three pieces, round-robin.
        for piece in range(3):
            for i, s in enumerate(socks):
                third = (len(lines[i]) + 2) // 3
                s.sendall(lines[i][piece * third:(piece + 1) * third])
        for i, s in enumerate(socks):
            got = read_exact(s, len(lines[i]))
            if got != lines[i]:
                fail("client %d sent %r, got %r" % (i, lines[i], got))
        for s in socks:
            s.close()
        print("echo %d ok" % n)
    elif mode == "idle":
        s = connect(address)
        print("idle %.2f" % until_closed(s))
    elif mode == "half":
        s = connect(address)
        echo_one(s, b"first\n")
        s.sendall(b"half a li")
        print("half %.2f" % until_closed(s))
    elif mode == "slow":
        s = connect(address)
        echo_one(s, b"first\n")
        t0 = time.monotonic()
        while time.monotonic() - t0 < LIMIT:
            try:
                s.sendall(b"s")
            except (BrokenPipeError, ConnectionResetError):
                break
            r, _, _ = select.select([s], [], [], 0.2)
            if r:
                try:
                    if not s.recv(4096):
                        break
                except ConnectionResetError:
                    break
        else:
            fail("never dropped")
        print("slow %.2f" % (time.monotonic() - t0))
    elif mode == "noread":
        s = connect(address)
        t0 = time.monotonic()
        s.setblocking(False)
        line = b"n" * 1000 + b"\n"
        full = False
        while True:
            try:
                s.send(line)
                continue
            except BlockingIOError:
                full = True
            except (BrokenPipeError, ConnectionResetError):
                break
            if time.monotonic() - t0 > LIMIT:
                fail("never dropped")
            select.select([], [s], [], 0.1)
        if not full:
            fail("dropped before the socket filled")
        print("noread %.2f" % (time.monotonic() - t0))
    elif mode == "refused":
        s = connect(address)
        try:
            s.sendall(b"let me in\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            got = s.recv(4096)
        except ConnectionResetError:
            got = b""
        if got:
            fail("answered %r" % got)
        print("refused")
    elif mode == "hold":
        socks = [connect(address) for _ in range(n)]
        for i, s in enumerate(socks):
            echo_one(s, b"hold %d\n" % i)
        print("holding %d" % n, flush=True)
        t0 = time.monotonic()
        for s in socks:
            until_closed(s)
        print("closed %d %.2f" % (n, time.monotonic() - t0))
    else:
        fail("unknown mode")


main()
