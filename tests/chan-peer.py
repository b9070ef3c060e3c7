#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""chan-peer.py - an independent implementation of the libsockx channel
wire format (sockx_chan_open(3)), written from the man page with nothing
but Python's socket and struct modules, to test libsockx against.

Usage: chan-peer.py send|recv DIR N [SEED]
The connected unix socket is descriptor 3 (stream or seqpacket).

Message i of N (both directions): type 1000 + i % 7, id i, payload
bytes (i + k) & 0xff for k < i % 50 (every 50th message is empty), and
i % 4 descriptors, the j-th of them a descriptor of file DIR/f<(i+j) % 5>.

send: opens the files and sends the N messages.  On a stream the
messages are coalesced and cut at random (SEED): one sendmsg holds a run
of messages and pieces of them, so that a receiver's reads span message
boundaries; the descriptors of a message ride on the sendmsg that
starts at its header, and that is the only rule the cuts keep.  Then
closes.
recv: receives N messages and then the end of stream, checking every
field and every descriptor (st_dev/st_ino of the file it must be).
Exits 0, or 1 with the reason on stderr.
"""
import array
import os
import random
import socket
import struct
import sys

HDR = struct.Struct('<IIIHH')   # len, type, id, nfds, flags
MAX_FDS = 253


def fail(msg):
    sys.exit('chan-peer: ' + msg)


def message(i):
    payload = bytes((i + k) & 0xff for k in range(i % 50))
    return 1000 + i % 7, i, payload, [(i + j) % 5 for j in range(i % 4)]


def send(sock, d, n, seed):
    rng = random.Random(seed)
    files = [os.open(os.path.join(d, 'f%d' % k), os.O_RDONLY)
             for k in range(5)]
    stream = sock.type == socket.SOCK_STREAM
    wire = []                   # (bytes of one message, its fds)
    for i in range(n):
        mtype, mid, payload, which = message(i)
        fds = [files[k] for k in which]
        wire.append((HDR.pack(len(payload), mtype, mid, len(fds), 0) +
                     payload, fds))
    if not stream:
        for data, fds in wire:
            anc = []
            if fds:
                anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                        array.array('i', fds))]
            if sock.sendmsg([data], anc) != len(data):
                fail('short packet send')
    else:
        i = 0
        while i < len(wire):
            # A run: one message, with its descriptors, and the
            # descriptor-less ones after it.
            data, fds = wire[i]
            run = bytearray(data)
            i += 1
            while i < len(wire) and not wire[i][1] and rng.random() < 0.8:
                run += wire[i][0]
                i += 1
            # Cut the run at random; only the first piece carries fds.
            at = 0
            while at < len(run):
                end = min(len(run), at + rng.choice((1, 3, 7, 16, 40, 500)))
                anc = []
                if at == 0 and fds:
                    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                            array.array('i', fds))]
                at += sock.sendmsg([bytes(run[at:end])], anc)
    for f in files:
        os.close(f)
    sock.close()


def recv(sock, d, n):
    stream = sock.type == socket.SOCK_STREAM
    want_ids = [os.stat(os.path.join(d, 'f%d' % k)) for k in range(5)]
    buf = bytearray()
    fifo = []
    anc_size = socket.CMSG_SPACE(MAX_FDS * array.array('i').itemsize)

    def read():
        data, anc, flags, _ = sock.recvmsg(1 << 16, anc_size)
        if flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC):
            fail('truncated receive (flags %#x)' % flags)
        got = []
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                a = array.array('i')
                a.frombytes(cdata[:len(cdata) - len(cdata) % a.itemsize])
                got.extend(a)
        return data, got

    for i in range(n):
        if stream:
            while True:
                if len(buf) >= HDR.size:
                    mlen = HDR.unpack_from(buf)[0]
                    if len(buf) >= HDR.size + mlen:
                        break
                data, got = read()
                if not data:
                    fail('end of stream before message %d' % i)
                buf += data
                fifo.extend(got)
            mlen, mtype, mid, nfds, flags = HDR.unpack_from(buf)
            payload = bytes(buf[HDR.size:HDR.size + mlen])
            del buf[:HDR.size + mlen]
            if len(fifo) < nfds:
                fail('message %d: %d fds announced, %d arrived'
                     % (i, nfds, len(fifo)))
            fds, fifo = fifo[:nfds], fifo[nfds:]
        else:
            data, fds = read()
            if len(data) < HDR.size:
                fail('message %d: packet of %d bytes' % (i, len(data)))
            mlen, mtype, mid, nfds, flags = HDR.unpack_from(data)
            payload = data[HDR.size:]
            if len(payload) != mlen or len(fds) != nfds:
                fail('message %d: packet of %d bytes and %d fds for header'
                     ' len %d nfds %d' % (i, len(data), len(fds), mlen, nfds))
        want = message(i)
        if (mtype, mid, payload) != want[:3] or flags != 0:
            fail('message %d: got type %d id %d flags %d payload %r'
                 % (i, mtype, mid, flags, payload[:20]))
        if len(fds) != len(want[3]):
            fail('message %d: %d fds, want %d' % (i, len(fds), len(want[3])))
        for j, fd in enumerate(fds):
            st, w = os.fstat(fd), want_ids[want[3][j]]
            if (st.st_dev, st.st_ino) != (w.st_dev, w.st_ino):
                fail('message %d: fd %d is not f%d' % (i, j, want[3][j]))
            os.close(fd)
    if buf or fifo:
        fail('%d stray bytes and %d stray fds' % (len(buf), len(fifo)))
    data, got = read()
    for fd in got:
        os.close(fd)
    if data or got:
        fail('more than %d messages' % n)


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ('send', 'recv'):
        fail('usage: chan-peer.py send|recv DIR N [SEED]')
    sock = socket.socket(fileno=3)
    sock.settimeout(60)
    d, n = sys.argv[2], int(sys.argv[3])
    if sys.argv[1] == 'send':
        send(sock, d, n, int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    else:
        recv(sock, d, n)


if __name__ == '__main__':
    main()
