#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the seed corpus of fuzz-chan (tests/fuzz/chan-corpus/): one input
# per protocol error and a few valid pipelines.  The encoding is the one
# described at the top of tests/fuzz-chan.c.
import os
import sys

STREAM, SEQPACKET = 0, 1
MAX_DEFAULT, MAX16, MAX100, MAX300 = 0, 2, 4, 6


def raw(data, nb=0):
    return bytes([0, len(data)]) + bytes(data) + bytes([nb])


def msg(tb=1, id=1, lb=0, nb=0, fl=0, lie=0, split=0):
    return bytes([1, tb, id, lb, nb, fl, lie, split])


SHUT = bytes([2])
RECVS = bytes([7])
FLUSH = bytes([5])
SHUT_RD = bytes([8])


def bad(b):
    return bytes([9, b])


def recv(mask=0):
    return bytes([3, mask])


def queue(tb=1, lb=0, nb=0):
    return bytes([4, tb, lb, nb])


def send(tb=1, lb=0, nb=0):
    return bytes([6, tb, lb, nb])


seeds = {
    # Protocol errors, each after a valid message that must come first.
    'len-over-max': [MAX16 | STREAM, msg(lb=3, nb=1), msg(lb=17), RECVS,
                     RECVS],
    'nfds-over-253': [STREAM, msg(nb=2), msg(lie=240), RECVS, RECVS],
    'flag-bits-8-15': [STREAM, msg(lb=5), msg(fl=192 + 3), RECVS],
    'flag-bits-0-7-ignored': [STREAM, msg(fl=128 + 5, nb=1), RECVS],
    'reserved-type': [STREAM, msg(nb=1), msg(tb=0xF3), RECVS, RECVS],
    'stream-ends-in-header': [STREAM, msg(lb=4), raw(b'\x05\x00\x00'),
                              SHUT, RECVS, RECVS],
    'stream-ends-in-payload': [STREAM, msg(lb=10, lie=235), SHUT, RECVS],
    'fewer-fds-than-announced': [STREAM, msg(nb=2, lie=212), RECVS],
    'fd-flood': [STREAM, raw(b'x', 255), raw(b'y', 255), RECVS, RECVS],
    'fd-flood-announced': [STREAM, msg(lb=200, nb=255, split=3),
                           raw(b'z', 255), RECVS],
    'packet-short-of-header': [SEQPACKET, msg(lb=2), raw(b'abcde'), RECVS],
    'packet-shorter-than-len': [SEQPACKET, msg(lb=10, lie=235), RECVS],
    'packet-longer-than-len': [SEQPACKET, msg(lb=10, lie=225), RECVS],
    'packet-fd-count-mismatch': [SEQPACKET, msg(nb=1, lie=211), RECVS],
    'packet-fds-no-header': [SEQPACKET, raw(b'', 2), RECVS, RECVS],
    'packet-len-over-max': [SEQPACKET | MAX100, msg(lb=120), RECVS],
    'packet-reserved-type': [SEQPACKET, msg(tb=0xF7, nb=2), RECVS],
    # Valid pipelines.
    'stream-pipeline': [STREAM, msg(lb=3, nb=1), msg(lb=0, nb=0),
                        msg(lb=40, nb=2, split=7), recv(1), recv(0xff),
                        queue(lb=5, nb=2), queue(lb=0), FLUSH,
                        msg(lb=100, nb=3, split=20), send(lb=9, nb=1),
                        recv(2), msg(id=9, nb=1), SHUT, RECVS],
    'stream-strays-at-eof': [STREAM, msg(nb=3, lie=208), msg(nb=1, lie=209),
                             SHUT, RECVS, recv(), recv()],
    'stream-fds-early': [STREAM, raw(b'\x00', 2),
                         raw(b'\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00'
                             b'\x00\x02\x00\x00\x00'), recv(3), RECVS],
    'stream-max253': [STREAM, msg(lb=1, nb=255), msg(lb=1, nb=255),
                      recv(0xaa), recv(0x0f), RECVS],
    'seqpacket-pipeline': [SEQPACKET, msg(lb=3, nb=1), msg(lb=0),
                           msg(lb=250, nb=255), recv(1), recv(),
                           queue(lb=7, nb=3), send(lb=0), FLUSH,
                           recv(0xff), raw(b''), RECVS, msg(), SHUT,
                           RECVS],
    'seqpacket-max300': [SEQPACKET | MAX300, msg(lb=241, nb=2),
                         msg(lb=243), queue(lb=200), FLUSH, RECVS],
    'queue-bad': [STREAM | MAX16, queue(tb=0xF9, nb=1), queue(lb=17, nb=2),
                  queue(lb=16, nb=3), FLUSH, send(lb=20), RECVS],
    # The peer stops reading: flush keeps the queue, send takes back.
    'stream-peer-stops-reading': [STREAM, queue(lb=5, nb=1), FLUSH,
                                  queue(lb=3, nb=2), SHUT_RD, FLUSH,
                                  send(lb=1, nb=1), queue(), FLUSH,
                                  msg(nb=1), RECVS],
    'seqpacket-peer-stops-reading': [SEQPACKET, send(lb=2, nb=3), SHUT_RD,
                                     send(nb=1), queue(lb=4, nb=2), FLUSH,
                                     msg(nb=2), RECVS],
    'bad-args': [STREAM | MAX16, bad(0), bad(1), bad(2), bad(3), bad(4),
                 bad(5), queue(nb=2), bad(3), FLUSH, RECVS],
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'chan-corpus')
os.makedirs(out, exist_ok=True)
for name, parts in seeds.items():
    data = bytes([parts[0]]) + b''.join(parts[1:])
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
