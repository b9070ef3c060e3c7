#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh SOCKX-ADDR - the README's demo prints what the README says, and
# fails with the library's error text and exit status 1 on a bad address.
set -u
demo=$1
echo "1..2"
want='unix  stream    len=16  /run/app.sock
unix  stream    len=10  @my\x00name
ipv4  stream    len=16  127.0.0.1:80
ipv6  dgram     len=28  [::1]:53
unix  seqpacket len=2   (autobind)'
got=$("$demo" /run/app.sock '@my\x00name' tcp:127.0.0.1:80 'udp:[0::1]:53' \
  unixpacket:@ 2>&1)
if [ "$got" = "$want" ]; then
  echo "ok - demo prints family, type, length and canonical text"
else
  echo "not ok - demo printed:"; printf '%s\n' "$got" | sed 's/^/# /'
fi
got=$("$demo" localhost:80 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$got" = "sockx-addr: localhost:80: Invalid argument" ]; then
  echo "ok - a bad address is reported with exit status 1"
else
  echo "not ok - bad address: status $rc, output '$got'"
fi
