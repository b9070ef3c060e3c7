#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# socket-activate.sh INHERIT_ECHO [INHERIT_ECHO_SELF] - socket activation
# with a real service manager's tool: systemd-socket-activate(1) listens,
# and on the first connection runs tests/inherit-echo with LISTEN_PID,
# LISTEN_FDS and (with --fdname) LISTEN_FDNAMES set and the sockets at 3,
# 4, ...;
# inherit-echo takes its listener with sockx_listen("systemd:...") and
# says READY=1 with sockx_notify, to a python3 receiver that checks the
# message and its credentials (SO_PASSCRED: the pid inherit-echo reports,
# our uid and gid), then echoes a line back to a socat client.  Cases:
# "systemd:" with one socket and a path NOTIFY_SOCKET; "systemd:echo"
# with --fdname and an abstract NOTIFY_SOCKET; "systemd:b" of two named
# sockets; "systemd:unknown:1" of two unnamed ones; "systemd:x:0" of two
# named alike; and the refusals with the error names inherit-echo prints:
# "systemd:unknown" and "systemd:x" of two (ENOTUNIQ), "systemd:" of two
# (EINVAL), a name not passed (ENOENT) and no activation at all (ENOENT);
# without NOTIFY_SOCKET, notify returns 0; a set-user-ID copy run by an
# unprivileged user ignores LISTEN_* and NOTIFY_SOCKET (secure_getenv),
# the same copy without the bit does not.  Servers are waited for by
# their logs, never by a sleep; everything runs under timeout(1) and is
# killed on exit.  Skips ("1..0 # SKIP") only when systemd-socket-activate
# is missing (Debian package systemd); socat and python3 are required.
set -u
prog=$1
prog_self=${2:-}
socat=/usr/bin/socat
activate=$(command -v systemd-socket-activate || true)
n=0

if [ -z "$activate" ]; then
  # Under meson's protocol 'tap' a skip is this plan and status 0 (status
  # 77 would be an ERROR).
  echo "1..0 # SKIP systemd-socket-activate not found (package systemd)"
  exit 0
fi
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

# wait_for FILE REGEX [COUNT] and receiver ADDRESS OUT [COUNT].
. "$(dirname "$0")/notify-lib.sh"

# activate LOG NLISTEN ADDRESS [ACTIVATE-ARGS...]: inherit-echo ADDRESS
# under systemd-socket-activate ACTIVATE-ARGS, its output in LOG; returns
# once the NLISTEN sockets listen.  $apid is the background job.  The
# program is $run if set (ACTIVATE-ARGS may end with a command that execs
# it), else $prog.
activate() {
  local log=$1 count=$2 addr=$3
  shift 3
  env -u NOTIFY_SOCKET -u LISTEN_PID -u LISTEN_FDS -u LISTEN_FDNAMES \
    timeout 60 "$activate" "$@" "${run:-$prog}" "$addr" >"$log" 2>&1 &
  apid=$!
  pids+=($apid)
  wait_for "$log" '^Listening on ' "$count"
}

# echo_through PATH OUT: send a line to PATH with socat, answer in OUT.
echo_through() {
  printf 'hello %s\n' "${1##*/}" |
    timeout 30 "$socat" -t 20 - "UNIX-CONNECT:$1" >"$2" 2>&1 &&
    [ "$(cat "$2")" = "hello ${1##*/}" ]
}

# served NAME PATH LOG RECEIVER-OUT [UID GID]: the echo through PATH
# worked, inherit-echo exited 0, and (RECEIVER-OUT not empty) the receiver
# got READY=1 with inherit-echo's pid and UID and GID (default: ours).
served() {
  local name=$1 path=$2 log=$3 rx=$4 status pid
  local uid=${5:-$(id -u)} gid=${6:-$(id -g)}
  if ! echo_through "$path" "$tmp/$name.reply"; then
    not_ok "$name: no echo through $path" "$tmp/$name.reply" "$log"
    return
  fi
  wait "$apid"
  status=$?
  if [ "$status" != 0 ]; then
    not_ok "$name: inherit-echo exited $status" "$log"
    return
  fi
  pid=$(sed -n 's/^inherit-echo: notify [0-9-]* pid \([0-9]*\)$/\1/p' "$log")
  if [ -z "$rx" ]; then
    if grep -q '^inherit-echo: notify 0 pid ' "$log"; then
      ok "$name: echoed; notify without NOTIFY_SOCKET returned 0"
    else
      not_ok "$name: notify without NOTIFY_SOCKET did not return 0" "$log"
    fi
    return
  fi
  if ! grep -q '^inherit-echo: notify 1 pid ' "$log"; then
    not_ok "$name: notify did not return 1" "$log"
  elif ! wait_for "$rx" '^got '; then
    not_ok "$name: the receiver got nothing" "$rx" "$log"
  elif [ "$(grep '^got ' "$rx")" != "got READY=1 $pid $uid $gid" ]; then
    not_ok "$name: wrong message or credentials (pid $pid)" "$rx" "$log"
  else
    ok "$name: echoed; READY=1 came from pid $pid, uid $uid, gid $gid"
  fi
}

# refused NAME PATH LOG ERROR: the first connection to PATH started
# inherit-echo, whose listen failed with ERROR (exit status 2).
refused() {
  local name=$1 path=$2 log=$3 err=$4 status
  timeout 30 "$socat" -u /dev/null "UNIX-CONNECT:$path" >/dev/null 2>&1
  wait "$apid"
  status=$?
  if [ "$status" = 2 ] && grep -q ": $err\$" "$log"; then
    ok "$name: listen refused with $err"
  else
    not_ok "$name: want $err and exit status 2, got status $status" "$log"
  fi
}

# 1. One socket, "systemd:", NOTIFY_SOCKET a path.
receiver "$tmp/notify1" "$tmp/rx1"
if activate "$tmp/a1.log" 1 systemd: -l "$tmp/one.sock" \
    -E "NOTIFY_SOCKET=$tmp/notify1"; then
  served "systemd: of one socket" "$tmp/one.sock" "$tmp/a1.log" "$tmp/rx1"
else
  not_ok "systemd-socket-activate did not listen" "$tmp/a1.log"
fi

# 2. One named socket, "systemd:echo", NOTIFY_SOCKET abstract.
abs="@sockx-test-$$-notify"
receiver "$abs" "$tmp/rx2"
if activate "$tmp/a2.log" 1 systemd:echo -l "$tmp/named.sock" \
    --fdname=echo -E "NOTIFY_SOCKET=$abs"; then
  served "systemd:echo (--fdname), abstract NOTIFY_SOCKET" \
    "$tmp/named.sock" "$tmp/a2.log" "$tmp/rx2"
else
  not_ok "systemd-socket-activate did not listen" "$tmp/a2.log"
fi

# 3. Two named sockets, the second by name; no NOTIFY_SOCKET.
if activate "$tmp/a3.log" 2 systemd:b -l "$tmp/a.sock" -l "$tmp/b.sock" \
    --fdname=a:b; then
  served "systemd:b of a:b" "$tmp/b.sock" "$tmp/a3.log" ""
else
  not_ok "systemd-socket-activate did not listen" "$tmp/a3.log"
fi

# 4. Two unnamed sockets ("unknown" both): the second by K.
receiver "$tmp/notify4" "$tmp/rx4"
if activate "$tmp/a4.log" 2 systemd:unknown:1 -l "$tmp/u0.sock" \
    -l "$tmp/u1.sock" -E "NOTIFY_SOCKET=$tmp/notify4"; then
  served "systemd:unknown:1 of two unnamed" "$tmp/u1.sock" "$tmp/a4.log" \
    "$tmp/rx4"
else
  not_ok "systemd-socket-activate did not listen" "$tmp/a4.log"
fi

# 5. Two sockets named alike: the first by K.
if activate "$tmp/a5.log" 2 systemd:x:0 -l "$tmp/x0.sock" \
    -l "$tmp/x1.sock" --fdname=x:x; then
  served "systemd:x:0 of x:x" "$tmp/x0.sock" "$tmp/a5.log" ""
else
  not_ok "systemd-socket-activate did not listen" "$tmp/a5.log"
fi

# 6.-9. Refusals.
if activate "$tmp/a6.log" 2 systemd:unknown -l "$tmp/r0.sock" \
    -l "$tmp/r1.sock"; then
  refused "systemd:unknown of two unnamed" "$tmp/r1.sock" "$tmp/a6.log" \
    ENOTUNIQ
else
  not_ok "systemd-socket-activate did not listen" "$tmp/a6.log"
fi
if activate "$tmp/a7.log" 2 systemd:x -l "$tmp/s0.sock" -l "$tmp/s1.sock" \
    --fdname=x:x; then
  refused "systemd:x of x:x" "$tmp/s0.sock" "$tmp/a7.log" ENOTUNIQ
else
  not_ok "systemd-socket-activate did not listen" "$tmp/a7.log"
fi
if activate "$tmp/a8.log" 2 systemd: -l "$tmp/t0.sock" -l "$tmp/t1.sock" \
    --fdname=a:b; then
  refused "systemd: of two" "$tmp/t0.sock" "$tmp/a8.log" EINVAL
else
  not_ok "systemd-socket-activate did not listen" "$tmp/a8.log"
fi
if activate "$tmp/a9.log" 1 systemd:other -l "$tmp/o.sock" \
    --fdname=echo; then
  refused "systemd:other, not passed" "$tmp/o.sock" "$tmp/a9.log" ENOENT
else
  not_ok "systemd-socket-activate did not listen" "$tmp/a9.log"
fi

# 10. Not activated at all (LISTEN_* removed from our environment).
env -u NOTIFY_SOCKET -u LISTEN_PID -u LISTEN_FDS -u LISTEN_FDNAMES \
  timeout 30 "$prog" systemd: >/dev/null 2>"$tmp/a10.log"
status=$?
if [ "$status" = 2 ] && grep -q ': ENOENT$' "$tmp/a10.log"; then
  ok "systemd: without activation: ENOENT"
else
  not_ok "systemd: without activation: status $status" "$tmp/a10.log"
fi

# 11.-13. Secure-execution mode (the environment comes from a less
# privileged caller): an unprivileged user runs a set-user-ID root copy
# of inherit-echo under systemd-socket-activate and setpriv(1), which
# execs it in place (LISTEN_PID stays right).  The copy without the bit
# takes its socket and notifies (the control); with the bit, LISTEN_* are
# ignored (ENOENT) and so is NOTIFY_SOCKET ("fd:3" needs no environment:
# it serves, and notify returns 0).  Needs root to make the copy.
# INHERIT_ECHO_SELF is inherit-echo with the library compiled in, since
# a set-user-ID program ignores RUNPATH's $ORIGIN and LD_LIBRARY_PATH.
if [ -n "$prog_self" ] && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null
then
  sdir=$tmp/suid
  mkdir -m 755 "$sdir"
  chmod 755 "$tmp"
  cp "$prog_self" "$sdir/plain"
  cp "$prog_self" "$sdir/suid"
  chmod 4755 "$sdir/suid"
  drop=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  abs="@sockx-test-$$-notify-plain"
  receiver "$abs" "$tmp/rx11"
  if run=$sdir/plain activate "$tmp/a11.log" 1 systemd: -l "$sdir/p.sock" \
      -E "NOTIFY_SOCKET=$abs" "${drop[@]}"; then
    served "unprivileged user, no set-user-ID bit: systemd:" \
      "$sdir/p.sock" "$tmp/a11.log" "$tmp/rx11" 65534 65534
  else
    not_ok "systemd-socket-activate did not listen" "$tmp/a11.log"
  fi
  if run=$sdir/suid activate "$tmp/a12.log" 1 systemd: -l "$sdir/s.sock" \
      "${drop[@]}"; then
    refused "set-user-ID: LISTEN_* ignored" "$sdir/s.sock" \
      "$tmp/a12.log" ENOENT
  else
    not_ok "systemd-socket-activate did not listen" "$tmp/a12.log"
  fi
  abs="@sockx-test-$$-notify-suid"
  receiver "$abs" "$tmp/rx13"
  if run=$sdir/suid activate "$tmp/a13.log" 1 fd:3 -l "$sdir/n.sock" \
      -E "NOTIFY_SOCKET=$abs" "${drop[@]}"; then
    served "set-user-ID: NOTIFY_SOCKET ignored, fd:3 taken" \
      "$sdir/n.sock" "$tmp/a13.log" ""
    if grep -q '^got ' "$tmp/rx13"; then
      not_ok "set-user-ID: the receiver got a message" "$tmp/rx13"
    fi
  else
    not_ok "systemd-socket-activate did not listen" "$tmp/a13.log"
  fi
else
  echo "# not root, no setpriv or no INHERIT_ECHO_SELF:" \
    "secure-execution cases left out"
fi

echo "1..$n"
