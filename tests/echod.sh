#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# echod.sh SOCKX_ECHOD - the example daemon doc/examples/sockx-echod.c does
# what its header comment says, against real clients: socat and python3
# (tests/echod-client.py, whose modes say what each client does).
#  - On a path (-i 2500 -r 1000): socat gets its line back; 200 python3
#    clients at once, writing in interleaved pieces, get exactly their own
#    lines; a silent client is dropped after the idle deadline (2.4..8 s);
#    a client that stops in the middle of a line, and one that sends a
#    byte every 200 ms, are dropped after the request deadline and before
#    the idle one could (0.9..2.4 s: the line's deadline is not re-armed
#    by its bytes); a client that never reads its echo is dropped
#    (0.9..8 s after it connected); each drop is logged with its
#    reason; a client run as nobody (setpriv, when root) is refused; 1000
#    clients held at once cost under 16 KiB each of resident memory; then
#    SIGTERM: exit 0 within 10 s, all 1000 clients see their connection
#    closed, the socket file is gone.
#  - On an abstract name with -u 65534 -u OUR-UID: socat and 50 python3
#    clients echoed, nobody served too (when root); SIGINT stops it, exit 0.
#  - On tcp:127.0.0.1:0: a TCP client is refused without -T, served with.
#  - Under systemd-socket-activate -l PATH --fdname=echo with systemd:echo:
#    the first connection starts it, socat's line comes back; a python3
#    NOTIFY_SOCKET receiver (tests/notify-lib.sh, shared with
#    socket-activate.sh) gets READY=1 and then, on SIGTERM, STOPPING=1,
#    both with the daemon's pid, our uid and gid; exit 0; the socket file,
#    which the service manager made, is left alone.
# Servers are waited for by their logs, never by a sleep; every process
# runs under a bound and is killed on exit.  Skips ("1..0 # SKIP") only
# when socat, python3 or systemd-socket-activate is missing.
set -u
prog=$1
here=$(dirname "$0")
socat=/usr/bin/socat
# /usr/bin/python3, not one in a home directory: nobody runs it too.
py=/usr/bin/python3
activate=$(command -v systemd-socket-activate || true)

for need in "$socat" "$py" "$activate"; do
  if [ -z "$need" ] || ! [ -x "$need" ]; then
    # Under meson's protocol 'tap' a skip is this plan and status 0.
    echo "1..0 # SKIP needs socat, /usr/bin/python3 and" \
      "systemd-socket-activate (packages socat, python3, systemd)"
    exit 0
  fi
done

. "$here/tap-lib.sh" sockx-echod
. "$here/notify-lib.sh"
pids=()
cleanup() {
  local p
  # SIGKILL: a daemon still running here has failed a test already,
  # and may be one that ignores SIGTERM.
  for p in "${pids[@]}"; do
    kill -s KILL "$p" 2>/dev/null
  done
  wait 2>/dev/null
  [ "${KEEP:-0}" = 1 ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# nobody must reach the socket files and run the client script.
chmod 755 "$tmp"
cp "$here/echod-client.py" "$tmp/client.py"
chmod 644 "$tmp/client.py"
root=0
[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && root=1

# fail DESCRIPTION FILE...: not_ok, and the files that say why.
fail() {
  local f
  not_ok "$1"
  shift
  for f in "$@"; do
    [ -s "$f" ] && head -c 2000 "$f" | sed "s|^|# ${f##*/}: |"
  done
}

# start LOG ARGS...: sockx-echod ARGS in the background, stderr in LOG;
# returns once it listens.  $epid is its pid.
start() {
  local log=$1
  shift
  env -u NOTIFY_SOCKET -u LISTEN_PID -u LISTEN_FDS -u LISTEN_FDNAMES \
    "$prog" "$@" 2>"$log" &
  epid=$!
  pids+=($epid)
  wait_for "$log" '^sockx-echod: listening on '
}

# stop PID SIGNAL: send SIGNAL, wait at most 10 s; $status is its exit
# status (or "hung").
stop() {
  local _
  kill -s "$2" "$1"
  for _ in $(seq 200); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      status=$?
      return
    fi
    sleep 0.05
  done
  status=hung
  kill -s KILL "$1"
  wait "$1"
}

# client MODE ADDRESS [N]: tests/echod-client.py, its line on stdout.
client() { timeout 40 "$py" "$tmp/client.py" "$@" 2>&1; }
as_nobody() {
  timeout 40 setpriv --reuid nobody --regid nogroup --clear-groups \
    "$py" "$tmp/client.py" "$@" 2>&1
}

# within LO HI TEXT: the number at the end of TEXT is in [LO, HI).
within() {
  awk -v lo="$1" -v hi="$2" -v t="$3" 'BEGIN {
    n = split(t, w, " "); v = w[n] + 0
    exit !(t ~ /[0-9]$/ && v >= lo && v < hi) }'
}

# socat_echo ADDRESS-SPEC NAME: socat sends a line and gets it back.
socat_echo() {
  local got
  got=$(printf 'hello %s\n' "$2" | timeout 20 "$socat" -t 10 - "$1" 2>&1)
  [ "$got" = "hello $2" ]
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---- a path -----------------------------------------------------------

path=$tmp/echo.sock
log=$tmp/path.log
if ! start "$log" -i 2500 -r 1000 "$path"; then
  cat "$log" >&2
  bail "sockx-echod did not listen on $path"
fi
ppid=$epid

if socat_echo "UNIX-CONNECT:$path" path; then
  ok "path: socat's line comes back"
else
  fail "path: socat's line did not come back" "$log"
fi

got=$(client echo "$path" 200)
if [ "$got" = "echo 200 ok" ]; then
  ok "path: 200 clients at once, interleaved pieces, each its own lines"
else
  fail "path: 200 clients: $got" "$log"
fi

# The four drops run at once: they take the time of the longest.
drops=()
for mode in idle half slow noread; do
  client $mode "$path" >"$tmp/$mode.out" &
  drops+=($!)
done
wait "${drops[@]}"
got=$(cat "$tmp/idle.out")
if within 2.4 8 "$got" && grep -q ': idle$' "$log"; then
  ok "path: a silent client is dropped after the idle deadline ($got s)"
else
  fail "path: silent client: $got" "$log"
fi
got=$(cat "$tmp/half.out")
if within 0.9 2.4 "$got" && grep -q ': line too slow$' "$log"; then
  ok "path: half a line is dropped after the request deadline ($got s)"
else
  fail "path: half a line: $got" "$log"
fi
got=$(cat "$tmp/slow.out")
if within 0.9 2.4 "$got" && [ "$(grep -c ': line too slow$' "$log")" = 2 ]
then
  ok "path: a byte every 200 ms does not re-arm the line's deadline" \
    "($got s)"
else
  fail "path: a byte every 200 ms: $got" "$log"
fi
got=$(cat "$tmp/noread.out")
if within 0.9 8 "$got" && grep -q ': does not read$' "$log"; then
  ok "path: a client that never reads its echo is dropped ($got s)"
else
  fail "path: a client that never reads: $got" "$log"
fi

if [ $root = 1 ]; then
  got=$(as_nobody refused "$path")
  if [ "$got" = refused ] && grep -q ' uid 65534: refused$' "$log"; then
    ok "path: a client run as nobody (uid 65534) is refused"
  else
    fail "path: nobody: $got" "$log"
  fi
else
  ok "path: a client run as nobody is refused # SKIP not root or no setpriv"
fi

# Thousands: constant memory per client, then SIGTERM closes them all.
rss0=$(rss_kib "$ppid")
client hold "$path" 1000 >"$tmp/hold.out" &
hpid=$!
pids+=($hpid)
if wait_for "$tmp/hold.out" '^holding 1000$'; then
  rss1=$(rss_kib "$ppid")
  per=$(( (rss1 - rss0) * 1024 / 1000 ))
  if [ "$per" -lt 16384 ]; then
    ok "path: 1000 clients at once cost $per bytes each of resident" \
      "memory (${rss0} KiB -> ${rss1} KiB)"
  else
    fail "path: 1000 clients cost $per bytes each (${rss0} -> ${rss1} KiB)"
  fi
else
  fail "path: 1000 clients were not all echoed" "$tmp/hold.out" "$log"
fi
stop "$ppid" TERM
wait "$hpid"
if [ "$status" = 0 ] && ! [ -e "$path" ] &&
    grep -q '^closed 1000 ' "$tmp/hold.out" &&
    tail -n 1 "$log" | grep -q '^sockx-echod: stopped$'; then
  ok "path: SIGTERM: exit 0, all 1000 clients closed," \
    "the socket file removed ($(grep '^closed' "$tmp/hold.out") s)"
else
  fail "path: SIGTERM: status $status, socket file" \
    "$([ -e "$path" ] || echo not)there" "$tmp/hold.out" "$log"
fi

# ---- an abstract name, other uids allowed ------------------------------

abs="@sockx-echod-test-$$"
log=$tmp/abs.log
if start "$log" -u 65534 -u "$(id -u)" "$abs"; then
  if socat_echo "ABSTRACT-CONNECT:${abs#@}" abstract; then
    ok "abstract: socat's line comes back"
  else
    fail "abstract: socat's line did not come back" "$log"
  fi
  got=$(client echo "$abs" 50)
  if [ "$got" = "echo 50 ok" ]; then
    ok "abstract: 50 clients at once, each its own lines"
  else
    fail "abstract: 50 clients: $got" "$log"
  fi
  if [ $root = 1 ]; then
    got=$(as_nobody echo "$abs" 3)
    if [ "$got" = "echo 3 ok" ]; then
      ok "abstract: -u 65534 serves nobody"
    else
      fail "abstract: -u 65534: $got" "$log"
    fi
  else
    ok "abstract: -u 65534 serves nobody # SKIP not root or no setpriv"
  fi
  client hold "$abs" 5 >"$tmp/hold2.out" &
  hpid=$!
  pids+=($hpid)
  wait_for "$tmp/hold2.out" '^holding 5$'
  stop "$epid" INT
  wait "$hpid"
  if [ "$status" = 0 ] && grep -q '^closed 5 ' "$tmp/hold2.out"; then
    ok "abstract: SIGINT: exit 0, the 5 clients closed"
  else
    fail "abstract: SIGINT: status $status" "$tmp/hold2.out" "$log"
  fi
else
  fail "sockx-echod did not listen on $abs" "$log"
fi

# ---- TCP: refused unless -T --------------------------------------------

for flag in "" -T; do
  log=$tmp/tcp$flag.log
  if ! start "$log" $flag tcp:127.0.0.1:0; then
    fail "sockx-echod did not listen on TCP" "$log"
    continue
  fi
  addr=$(sed -n 's/^sockx-echod: listening on //p' "$log")
  if [ -z "$flag" ]; then
    got=$(client refused "$addr")
    if [ "$got" = refused ] && grep -q \
        '^sockx-echod: client without credentials (TCP): refused$' \
        "$log"; then
      ok "tcp: a TCP client is refused without -T"
    else
      fail "tcp: without -T: $got" "$log"
    fi
  else
    got=$(client echo "$addr" 10)
    if [ "$got" = "echo 10 ok" ]; then
      ok "tcp: -T serves TCP clients"
    else
      fail "tcp: -T: $got" "$log"
    fi
  fi
  stop "$epid" TERM
  [ "$status" = 0 ] || fail "tcp: SIGTERM: status $status" "$log"
done

# ---- socket activation --------------------------------------------------

log=$tmp/act.log
sock=$tmp/act.sock
receiver "$tmp/notify" "$tmp/rx" 2
# env execs systemd-socket-activate, which execs the daemon: one process,
# $apid, our child (no timeout(1) between: cleanup kills it at exit).
env -u NOTIFY_SOCKET -u LISTEN_PID -u LISTEN_FDS -u LISTEN_FDNAMES \
  "$activate" -l "$sock" --fdname=echo \
  -E "NOTIFY_SOCKET=$tmp/notify" "$prog" systemd:echo >"$log" 2>&1 &
apid=$!
pids+=($apid)
if ! wait_for "$log" '^Listening on '; then
  fail "systemd-socket-activate did not listen" "$log"
elif ! socat_echo "UNIX-CONNECT:$sock" activated; then
  fail "activated: socat's line did not come back" "$log"
elif ! wait_for "$tmp/rx" '^got READY=1 '; then
  fail "activated: no READY=1" "$tmp/rx" "$log"
else
  ok "activated by the first connection: systemd:echo listens, the line" \
    "comes back, READY=1"
  stop "$apid" TERM
  want="got READY=1 $apid $(id -u) $(id -g)
got STOPPING=1 $apid $(id -u) $(id -g)"
  if [ "$status" = 0 ] && wait_for "$tmp/rx" '^got STOPPING=1 ' &&
      [ "$(grep '^got ' "$tmp/rx")" = "$want" ] && [ -S "$sock" ]; then
    ok "activated: SIGTERM: READY=1 then STOPPING=1 from pid $apid, exit" \
      "0, the manager's socket file left alone"
  else
    fail "activated: status $status, want: $want" "$tmp/rx" "$log"
  fi
fi

echo "1..$n"
exit $fail
