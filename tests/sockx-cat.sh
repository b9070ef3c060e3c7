#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sockx-cat.sh SOCKX_CAT - sockx-cat against socat(1) as a real, independent
# peer, on a unix path, an abstract name, TCP on [::1] and on 127.0.0.1:
# sockx-cat -l as the server and socat as the client, then socat as the
# server and sockx-cat as the client, with data both ways (text and 100 KiB
# of random bytes, compared with cmp); a unix seqpacket connection;
# several addresses, of which the first that answers wins (refused, missing
# or with a full backlog first); the exit statuses (2 usage, 1 I/O error,
# 3 timeout) and their messages; a closed stdout; UDP and unix datagrams
# both ways.  sockx-cat exits as soon as its peer ends the stream, so every
# peer here reads to the end before it ends its side: the payloads arrive
# whole whatever the timing.  Every command runs under timeout(1), every
# server is waited for by its log, never by a sleep, ports are picked free
# at run time, and everything started in the background is killed on
# exit.  socat (and python3, which meson needs anyway) are required:
# without them the test fails.
set -u
cat=$1
socat=/usr/bin/socat
n=0

if ! [ -x "$socat" ] || ! command -v python3 >/dev/null; then
  echo "1..1"
  echo "not ok 1 - socat ($socat) and python3 are needed"
  exit 1
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Payloads: p1 goes from the peer to sockx-cat, p2 the other way.
head -c 102400 /dev/urandom >"$tmp/random"
{ printf 'first line\nsecond line\n'; cat "$tmp/random"; printf '\nlast\n'; } \
  >"$tmp/p1"
{ printf 'from sockx-cat\n'; head -c 60000 /dev/urandom; echo end; } \
  >"$tmp/p2"

ok() {
  n=$((n + 1))
  echo "ok $n - $1"
}

# not_ok DESCRIPTION [FILE...]: a failure, with the files that say why.
not_ok() {
  local f
  n=$((n + 1))
  echo "not ok $n - $1"
  shift
  for f in "$@"; do
    [ -s "$f" ] && head -c 2000 "$f" | sed "s|^|# ${f##*/}: |"
  done
}

# wait_for FILE REGEX: until a line of FILE matches (5 s at most).
wait_for() {
  local _
  for _ in $(seq 100); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# free_port HOST tcp|udp: a port nobody uses on HOST now.
free_port() {
  timeout 10 python3 -c '
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
kind = socket.SOCK_DGRAM if sys.argv[2] == "udp" else socket.SOCK_STREAM
s = socket.socket(family, kind)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$1" "$2"
}

now_ms() {
  echo $(($(date +%s%N) / 1000000))
}

# A fresh directory for one test, $t (named by number: NAME may have
# spaces).
dirs=0
newdir() {
  dirs=$((dirs + 1))
  t=$tmp/$dirs
  mkdir "$t"
}

# server NAME ADDRESS SOCAT_CLIENT: sockx-cat -l -v on ADDRESS sends p2 and
# prints what comes; socat connects to SOCAT_CLIENT (PORT there is the port
# sockx-cat reports), sends p1 and keeps what comes.  socat ends its side
# only after sockx-cat ended its own, so both payloads arrive whole.
server() {
  local what=$1 addr=$2 client=$3 pid rc src where
  newdir "$what"
  timeout 10 "$cat" -l -v "$addr" <"$tmp/p2" >"$t/out" 2>"$t/err" &
  pid=$!
  pids+=("$pid")
  if ! wait_for "$t/err" '^listening on '; then
    not_ok "sockx-cat -l $what: no 'listening on'" "$t/err"
    return
  fi
  where=$(sed -n 's/^listening on //p' "$t/err")
  timeout 10 "$socat" -t 5 "${client//PORT/${where##*:}}" \
    SYSTEM:"cat '$tmp/p1'; cat >'$t/got'" 2>"$t/socat.err"
  src=$?
  wait "$pid"
  rc=$?
  if [ $rc -eq 0 ] && [ $src -eq 0 ] && cmp -s "$tmp/p1" "$t/out" &&
      cmp -s "$tmp/p2" "$t/got" && grep -q '^connection from ' "$t/err"
  then
    ok "sockx-cat -l $what ($where) and socat: data both ways"
  else
    not_ok "sockx-cat -l $what: status $rc, socat $src" "$t/err" \
      "$t/socat.err"
  fi
}

# client NAME SOCAT_LISTEN ADDRESS...: socat listens on SOCAT_LISTEN, reads
# to the end, then sends p1; sockx-cat connects to ADDRESS... and sends p2.
client() {
  local what=$1 listen=$2 spid rc src
  shift 2
  newdir "$what"
  timeout 10 "$socat" -d -d -t 5 "$listen" \
    SYSTEM:"cat >'$t/got'; cat '$tmp/p1'" 2>"$t/socat.err" &
  spid=$!
  pids+=("$spid")
  if ! wait_for "$t/socat.err" 'listening on'; then
    not_ok "socat $what: not listening" "$t/socat.err"
    return
  fi
  timeout 10 "$cat" -v "$@" <"$tmp/p2" >"$t/out" 2>"$t/err"
  rc=$?
  wait "$spid"
  src=$?
  if [ $rc -eq 0 ] && [ $src -eq 0 ] && cmp -s "$tmp/p1" "$t/out" &&
      cmp -s "$tmp/p2" "$t/got"; then
    ok "sockx-cat $* and socat $what: data both ways"
  else
    not_ok "sockx-cat $* against socat $what: status $rc, socat $src" \
      "$t/err" "$t/socat.err"
  fi
}

abs=sockx-cat-test-$$
p6=$(free_port ::1 tcp)
p4=$(free_port 127.0.0.1 tcp)

# 1. sockx-cat -l as the server, socat as the client.
server path "$tmp/listen.sock" "UNIX-CONNECT:$tmp/listen.sock"
if [ -e "$tmp/listen.sock" ]; then
  not_ok "sockx-cat -l left its socket file behind"
else
  ok "sockx-cat -l removed its socket file"
fi
server abstract "@$abs-1" "ABSTRACT-CONNECT:$abs-1"
server ipv6 'tcp:[::1]:0' 'TCP6:[::1]:PORT'
server ipv4 '127.0.0.1:0' 'TCP4:127.0.0.1:PORT'

# 2. socat as the server, sockx-cat as the client.
client path "UNIX-LISTEN:$tmp/socat.sock" "$tmp/socat.sock"
client abstract "ABSTRACT-LISTEN:$abs-2" "@$abs-2"
client ipv6 "TCP6-LISTEN:$p6,bind=[::1],reuseaddr" "tcp:[::1]:$p6"
client ipv4 "TCP4-LISTEN:$p4,bind=127.0.0.1,reuseaddr" "127.0.0.1:$p4"

# A unix seqpacket connection: messages of up to 64 KiB each way.
newdir seqpacket
timeout 10 "$cat" -l -v "unixpacket:$t/s" <"$tmp/p2" >"$t/out" 2>"$t/err" &
pid=$!
pids+=("$pid")
if wait_for "$t/err" '^listening on unixpacket:'; then
  timeout 10 "$socat" -b 65536 -t 5 "UNIX-CONNECT:$t/s,type=5" \
    SYSTEM:"cat '$tmp/p1'; cat >'$t/got'" 2>"$t/socat.err"
  src=$?
  wait "$pid"
  rc=$?
  if [ $rc -eq 0 ] && [ $src -eq 0 ] && cmp -s "$tmp/p1" "$t/out" &&
      cmp -s "$tmp/p2" "$t/got"; then
    ok "sockx-cat -l unixpacket: and socat: data both ways"
  else
    not_ok "unixpacket: status $rc, socat $src" "$t/err" "$t/socat.err"
  fi
else
  not_ok "sockx-cat -l unixpacket: no 'listening on'" "$t/err"
fi

# A unix listener that never accepts, its backlog filled: a connect to it
# can only wait.  python3 holds it, says "full" when it is, and is killed
# at the end.
newdir backlog
timeout 20 python3 -c '
import socket, sys, time
name = "\0" + sys.argv[1]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(name)
listener.listen(0)
held = []
while True:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(name)
    except BlockingIOError:
        c.close()
        break
    held.append(c)
print("full", flush=True)
time.sleep(19)' "$abs-full" >"$t/py.out" 2>"$t/py.err" &
pids+=("$!")
if ! wait_for "$t/py.out" '^full$'; then
  not_ok "could not fill a backlog" "$t/py.err"
fi

# 3. Several addresses: the first that answers wins, in either order; a
# missing path before a TCP address; when all are refused, status 1.
# connected_to ADDRESS: sockx-cat -v of the latest test said it won.
connected_to() {
  if grep -qxF "connected to $1" "$t/err"; then
    ok "... connected to $1"
  else
    not_ok "... not connected to $1" "$t/err"
  fi
}

client "refused, live" "ABSTRACT-LISTEN:$abs-3" "@$abs-dead" "@$abs-3"
connected_to "@$abs-3"
client "live, refused" "ABSTRACT-LISTEN:$abs-4" "@$abs-4" "@$abs-dead"
connected_to "@$abs-4"
p=$(free_port ::1 tcp)
client "missing path, TCP" "TCP6-LISTEN:$p,bind=[::1],reuseaddr" \
  "$tmp/missing.sock" "[::1]:$p"
connected_to "[::1]:$p"

# The race proper: the first address cannot answer (its backlog is full),
# so the second starts 250 ms later (SOCKX_CONNECT_STAGGER_MS) and wins.
start=$(now_ms)
client "full backlog, live" "ABSTRACT-LISTEN:$abs-8" "@$abs-full" "@$abs-8"
ms=$(($(now_ms) - start))
connected_to "@$abs-8"
if [ "$ms" -ge 250 ] && [ "$ms" -lt 2000 ]; then
  ok "... after the 250 ms stagger ($ms ms in all)"
else
  not_ok "... after $ms ms, not 250 ms to 2 s"
fi

newdir refused
timeout 10 "$cat" "@$abs-dead" "@$abs-dead2" </dev/null >"$t/out" 2>"$t/err"
rc=$?
if [ $rc -eq 1 ] && [ ! -s "$t/out" ] &&
    grep -q 'Connection refused$' "$t/err"; then
  ok "two refused addresses: status 1, 'Connection refused'"
else
  not_ok "two refused addresses: status $rc" "$t/err" "$t/out"
fi

# 4. Exit statuses and messages.  expect NAME STATUS REGEX COMMAND...:
# the command exits with STATUS, prints nothing on stdout and a line
# matching REGEX on stderr.
expect() {
  local what=$1 want=$2 msg=$3 rc
  shift 3
  newdir "$what"
  timeout 10 "$@" </dev/null >"$t/out" 2>"$t/err"
  rc=$?
  if [ $rc -eq "$want" ] && [ ! -s "$t/out" ] && grep -q -- "$msg" "$t/err"
  then
    ok "$what: status $want"
  else
    not_ok "$what: status $rc, not $want" "$t/err" "$t/out"
  fi
}

expect "bad address" 2 "^sockx-cat: bad address 'localhost:80': Invalid argument$" \
  "$cat" localhost:80
expect "port 0 to connect to" 2 "^sockx-cat: bad address" "$cat" '[::1]:0'
expect "unknown option" 2 "^usage: " "$cat" -x @a
expect "bad timeout" 2 "bad timeout" "$cat" -t -5 @a
expect "-l with two addresses" 2 "exactly one" "$cat" -l @a @b
expect "datagram among several" 2 "only ADDRESS" "$cat" 'udp:[::1]:9' @a
expect "no such path" 1 \
  "^sockx-cat: connect $tmp/none.sock: No such file or directory$" \
  "$cat" "$tmp/none.sock"

newdir help
timeout 10 "$cat" -h >"$t/out" 2>"$t/err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^usage: sockx-cat' "$t/out" &&
    grep -q '^Exit status' "$t/out" && [ ! -s "$t/err" ]; then
  ok "-h: usage on stdout, status 0"
else
  not_ok "-h: status $rc" "$t/err"
fi

# timed NAME LOW HIGH REGEX COMMAND...: status 3, the message, and an
# elapsed time from LOW to HIGH ms.
timed() {
  local what=$1 low=$2 high=$3 msg=$4 rc start ms
  shift 4
  newdir "$what"
  start=$(now_ms)
  timeout 10 "$@" >"$t/out" 2>"$t/err"
  rc=$?
  ms=$(($(now_ms) - start))
  if [ $rc -eq 3 ] && [ "$ms" -ge "$low" ] && [ "$ms" -lt "$high" ] &&
      [ ! -s "$t/out" ] && grep -q -- "$msg" "$t/err"; then
    ok "$what: status 3 after $ms ms"
  else
    not_ok "$what: status $rc after $ms ms" "$t/err" "$t/out"
  fi
}

timed "accept timeout" 200 1000 "accept on .*: Connection timed out$" \
  "$cat" -l -t 200 "@$abs-5" </dev/null

timed "connect timeout on a full backlog" 200 1000 \
  "^sockx-cat: connect @$abs-full: Connection timed out$" \
  "$cat" -t 200 "@$abs-full" </dev/null

# -w on a stream whose peer neither sends nor ends: status 3.  Its stdin
# stays open (a FIFO that sleep holds) so that only -w can end it.
newdir idle-server
s=$t
mkfifo "$s/fifo"
timeout 10 sleep 5 >"$s/fifo" 2>/dev/null &
fpid=$!
timeout 10 "$socat" -d -d "ABSTRACT-LISTEN:$abs-6" SYSTEM:"sleep 5" \
  >/dev/null 2>"$s/socat.err" &
pid=$!
pids+=("$fpid" "$pid")
if wait_for "$s/socat.err" 'listening on'; then
  timed "idle connection with -w 300" 300 1500 \
    "^sockx-cat: @$abs-6: idle for 300 ms: Connection timed out$" \
    "$cat" -w 300 "@$abs-6" <"$s/fifo"
else
  not_ok "socat idle server: not listening" "$s/socat.err"
fi
kill "$pid" "$fpid" 2>/dev/null

# A stdout that closes early (head) ends the relay with status 0.
newdir epipe
timeout 10 "$socat" -d -d "ABSTRACT-LISTEN:$abs-7" \
  SYSTEM:"head -c 4000000 /dev/zero" >/dev/null 2>"$t/socat.err" &
pid=$!
pids+=("$pid")
if wait_for "$t/socat.err" 'listening on'; then
  # shellcheck disable=SC2016 # the inner shell expands them
  timeout 10 bash -c '"$0" "$1" </dev/null 2>"$2" | head -c 10 >/dev/null
    exit "${PIPESTATUS[0]}"' "$cat" "@$abs-7" "$t/err"
  rc=$?
  if [ $rc -eq 0 ] && [ ! -s "$t/err" ]; then
    ok "a closed stdout ends sockx-cat quietly, status 0"
  else
    not_ok "closed stdout: status $rc" "$t/err"
  fi
else
  not_ok "socat zero server: not listening" "$t/socat.err"
fi
kill "$pid" 2>/dev/null

# 5. Datagrams.  dgram_client NAME SOCAT_SERVER ADDRESS: socat answers
# the first datagram with "pong" and keeps what comes; sockx-cat sends
# "ping", then prints answers until 500 ms pass without one.
dgram_client() {
  local what=$1 server=$2 addr=$3 spid rc src
  newdir "$what"
  timeout 10 "$socat" -d -d -T 1 "$server" \
    SYSTEM:"echo pong; cat >'$t/got'" 2>"$t/socat.err" &
  spid=$!
  pids+=("$spid")
  if ! wait_for "$t/socat.err" 'receiving on'; then
    not_ok "socat $what: not receiving" "$t/socat.err"
    return
  fi
  printf 'ping\n' | timeout 10 "$cat" -w 500 "$addr" >"$t/out" 2>"$t/err"
  rc=$?
  wait "$spid"
  src=$?
  if [ $rc -eq 0 ] && [ "$(cat "$t/out")" = pong ] &&
      [ "$(cat "$t/got")" = ping ]; then
    ok "sockx-cat $addr and socat $what: a datagram each way"
  else
    not_ok "sockx-cat $addr against socat $what: status $rc, socat $src" \
      "$t/err" "$t/out" "$t/socat.err"
  fi
}

# dgram_server NAME ADDRESS SOCAT_CLIENT: sockx-cat -l answers the first
# datagram with "pong"; socat sends "ping" and prints the answer.
dgram_server() {
  local what=$1 addr=$2 client=$3 pid rc src where
  newdir "$what"
  printf 'pong\n' >"$t/in"
  timeout 10 "$cat" -l -v -w 500 "$addr" <"$t/in" >"$t/out" 2>"$t/err" &
  pid=$!
  pids+=("$pid")
  if ! wait_for "$t/err" '^listening on '; then
    not_ok "sockx-cat -l $what: no 'listening on'" "$t/err"
    return
  fi
  where=$(sed -n 's/^listening on //p' "$t/err")
  printf 'ping\n' | timeout 10 "$socat" -t 1 STDIO \
    "${client//PORT/${where##*:}}" >"$t/got" 2>"$t/socat.err"
  src=$?
  wait "$pid"
  rc=$?
  if [ $rc -eq 0 ] && [ "$(cat "$t/out")" = ping ] &&
      [ "$(cat "$t/got")" = pong ]; then
    ok "sockx-cat -l $where and socat: a datagram each way"
  else
    not_ok "sockx-cat -l $what: status $rc, socat $src" "$t/err" \
      "$t/got" "$t/socat.err"
  fi
}

p=$(free_port ::1 udp)
dgram_client udp6 "UDP6-RECVFROM:$p,bind=[::1]" "udp:[::1]:$p"
p=$(free_port 127.0.0.1 udp)
dgram_client udp4 "UDP4-RECVFROM:$p,bind=127.0.0.1" "udp:127.0.0.1:$p"
dgram_client unixgram "UNIX-RECVFROM:$tmp/g1.sock" "unixgram:$tmp/g1.sock"
dgram_server udp6 'udp:[::1]:0' 'UDP6:[::1]:PORT'
dgram_server unixgram "unixgram:$tmp/g2.sock" \
  "UNIX-SENDTO:$tmp/g2.sock,bind=$tmp/g2-client.sock"

# An unbound unix sender has no name to answer: status 1, and it says so.
newdir unnamed
printf 'pong\n' >"$t/in"
timeout 10 "$cat" -l -v -w 2000 "unixgram:$t/g.sock" <"$t/in" >"$t/out" \
  2>"$t/err" &
pid=$!
pids+=("$pid")
if wait_for "$t/err" '^listening on '; then
  printf 'ping\n' | timeout 10 "$socat" -t 0.1 STDIO "UNIX-SENDTO:$t/g.sock" \
    >/dev/null 2>"$t/socat.err"
  wait "$pid"
  rc=$?
  if [ $rc -eq 1 ] && [ "$(cat "$t/out")" = ping ] && grep -qx \
      'sockx-cat: reply to (unnamed): Destination address required' \
      "$t/err"; then
    ok "sockx-cat -l unixgram: cannot answer an unbound sender: status 1"
  else
    not_ok "unbound sender: status $rc" "$t/err" "$t/out" "$t/socat.err"
  fi
else
  not_ok "sockx-cat -l unixgram: no 'listening on'" "$t/err"
fi

echo "1..$n"
