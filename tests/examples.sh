#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# examples.sh SOCKX_PRIVSEP SOCKX_AUTHD LIBSOCKX - the privilege-separation
# pair and the authorising unix service do what their header comments say.
# Runs as root and switches to the user nobody (65534, group nogroup) with
# setpriv; a missing precondition is a failure, never a skip.  Every
# command runs under `timeout 10`, every background process is waited for.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# nobody must reach the socket files and the files of the tests in $tmp,
# and run the programs, which the build tree may not allow (a checkout in
# /root): they run from copies in $tmp/bin, with the library next to them.
chmod 755 "$tmp"
mkdir "$tmp/bin"
cp "$1" "$2" "$tmp/bin/" && cp "$3" "$tmp/bin/libsockx.so.1" &&
  chmod -R a+rX "$tmp/bin" || { echo "Bail out! cannot copy the programs"; exit 1; }
export LD_LIBRARY_PATH=$tmp/bin
privsep=$tmp/bin/${1##*/} authd=$tmp/bin/${2##*/}
echo "1..13"

t() { timeout 10 "$@"; }
as_nobody() { t setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }
say() { sed 's/^/# /' "$@"; }      # files, or stdin, as TAP comments

# Stop and wait for what the test left running (after a failure).
reap() {
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}

# run DESCRIPTION FUNCTION: one test, in a subshell that reaps its
# background processes; the function returns its verdict and says why it
# failed on stdout.
run() {
  local out
  if out=$(trap reap EXIT; "$2" 2>&1); then
    echo "ok - $1"
  else
    echo "not ok - $1"
    printf '%s\n' "$out" | say
  fi
}

# expect WHAT GOT WANT: equal, or say both.
expect() {
  [ "$2" = "$3" ] && return 0
  echo "$1:"; printf '%s\n' "$2" | sed 's/^/  got:  /'
  printf '%s\n' "$3" | sed 's/^/  want: /'
  return 1
}

preconditions() {
  [ "$(id -u)" = 0 ] || { echo "not root"; return 1; }
  [ "$(id -u nobody)" = 65534 ] || { echo "no user nobody (65534)"; return 1; }
  getent group nogroup >/dev/null || { echo "no group nogroup"; return 1; }
  command -v python3 >/dev/null || { echo "no python3"; return 1; }
  # nobody can run both programs (the build tree is readable to others).
  as_nobody "$privsep" >/dev/null 2>&1; [ $? -eq 2 ] ||
    { echo "nobody cannot run $privsep"; return 1; }
  as_nobody "$authd" >/dev/null 2>&1; [ $? -eq 2 ] ||
    { echo "nobody cannot run $authd"; return 1; }
}
run "preconditions: root, nobody/nogroup, setpriv, python3" preconditions

# ---- sockx-privsep ----------------------------------------------------

dir=$tmp/files
mkdir -m 755 "$dir"
printf 'hello, privsep\nsecond line\n' >"$dir/a.txt"          # 27 bytes
printf 'only root can read this\n' >"$dir/secret"             # 24 bytes
chmod 600 "$dir/secret"
ln -s a.txt "$dir/link"
mkfifo "$dir/fifo"

own_access() {
  as_nobody cat "$dir/a.txt" >/dev/null ||
    { echo "nobody cannot read a.txt"; return 1; }
  if as_nobody cat "$dir/secret" >/dev/null 2>&1; then
    echo "nobody can read secret"; return 1
  fi
}
run "privsep: nobody cannot open secret itself (but can open a.txt)" own_access

privsep_root() {
  local out rc=0
  out=$(t "$privsep" "$dir" a.txt ../etc/passwd secret 2>"$tmp/err") || rc=$?
  expect "output" "$out" "a.txt: 27 bytes, first line: hello, privsep
../etc/passwd: refused: invalid name
secret: 24 bytes, first line: only root can read this" &&
    expect "status" $rc 0 && expect "stderr" "$(cat "$tmp/err")" ""
}
run "privsep: the nobody worker gets a.txt and secret, not ../etc/passwd" \
  privsep_root

privsep_refusals() {
  local out rc=0
  out=$(t "$privsep" -u nobody "$dir" missing link fifo . .. 2>"$tmp/err") ||
    rc=$?
  expect "output" "$out" "missing: refused: No such file or directory
link: refused: Too many levels of symbolic links
fifo: refused: not a regular file
.: refused: invalid name
..: refused: invalid name" &&
    expect "status" $rc 0 && expect "stderr" "$(cat "$tmp/err")" ""
}
run "privsep: missing files, symlinks, FIFOs, . and .. are refused" \
  privsep_refusals

privsep_unprivileged() {
  local out rc=0
  out=$(as_nobody "$privsep" "$dir" a.txt secret 2>"$tmp/err") || rc=$?
  expect "output" "$out" "a.txt: 27 bytes, first line: hello, privsep
secret: refused: Permission denied" &&
    expect "status" $rc 0 && expect "stderr" "$(cat "$tmp/err")" ""
}
run "privsep: run as nobody, the parent cannot open secret either" \
  privsep_unprivileged

privsep_misuse() {
  local rc=0
  t "$privsep" -u root "$dir" a.txt >/dev/null 2>&1 || rc=$?
  expect "-u root status" $rc 1 || return 1
  rc=0; t "$privsep" "$dir" >/dev/null 2>&1 || rc=$?
  expect "no NAME status" $rc 2 || return 1
  rc=0; t "$privsep" "$tmp/none" a.txt >/dev/null 2>&1 || rc=$?
  expect "missing DIR status" $rc 1
}
run "privsep: a root worker is refused; misuse exits 2, errors 1" \
  privsep_misuse

privsep_pipelined() {
  local out rc=0
  out=$(t "$privsep" -n 600 "$dir" a.txt secret missing link 2>"$tmp/err") ||
    rc=$?
  expect "output" "$out" "a.txt: 27 bytes, first line: hello, privsep
secret: 24 bytes, first line: only root can read this
missing: refused: No such file or directory
link: refused: Too many levels of symbolic links
4800 requests pipelined, 0 wrong replies, 1200 descriptors back" &&
    expect "status" $rc 0 && expect "stderr" "$(cat "$tmp/err")" "" || return 1
  rc=0
  out=$(as_nobody "$privsep" -n 600 "$dir" a.txt secret 2>"$tmp/err") || rc=$?
  expect "output as nobody" "$out" "a.txt: 27 bytes, first line: hello, privsep
secret: refused: Permission denied
2400 requests pipelined, 0 wrong replies, 600 descriptors back" &&
    expect "status" $rc 0 && expect "stderr" "$(cat "$tmp/err")" ""
}
run "privsep: 4,800 requests pipelined 1,000 at a time, descriptors back, 0 wrong" \
  privsep_pipelined

# ---- sockx-authd ------------------------------------------------------

# start NAME ARGS...: a server in the background, its output in
# $tmp/NAME.out and .err, its pid in $server; back once it listens.
start() {
  local name=$1
  shift
  # timeout itself, not the function t: $! must be the process to kill.
  timeout 10 "$authd" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  server=$!
  for _ in $(seq 100); do
    grep -q '^listening on ' "$tmp/$name.out" && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
  done
  echo "the server did not start"; say "$tmp/$name.err"
  return 1
}

# finish NAME: the server exits 0 (it has served its -n count).
finish() {
  local rc=0
  wait "$server" || rc=$?
  expect "server status" $rc 0 || { say "$tmp/$1.err"; return 1; }
}

authd_requests() {
  local out rc=0 pid now
  start req -n 1 "@sockx-examples-$$-req" || return 1
  # sh prints its pid and becomes the client: the pid the server sees.
  out=$(t sh -c 'echo $$; exec "$@"' sh "$authd" -c "@sockx-examples-$$-req" \
    whoami time nonsense quit 2>&1) || rc=$?
  now=$(date +%s)
  finish req || return 1
  expect "status" $rc 0 || return 1
  pid=$(sed -n 1p <<<"$out")
  expect "whoami" "$(sed -n 2p <<<"$out")" "uid 0 gid 0 pid $pid" &&
    expect "unknown" "$(sed -n 4p <<<"$out")" "error: unknown request" &&
    expect "lines" "$(wc -l <<<"$out")" 4 || return 1
  local tm
  tm=$(sed -n 3p <<<"$out")
  if ! [[ $tm =~ ^[0-9]+$ ]] || [ "$tm" -gt "$now" ] ||
      [ "$tm" -lt $((now - 5)) ]; then
    echo "time: '$tm', now $now"; return 1
  fi
}
run "authd: whoami, time, an unknown request and quit, as root" \
  authd_requests

authd_denied() {
  local out rc=0
  start denied -n 1 "@sockx-examples-$$-denied" || return 1
  out=$(as_nobody "$authd" -c "@sockx-examples-$$-denied" whoami 2>&1) ||
    rc=$?
  finish denied || return 1
  expect "output" "$out" "denied uid 65534" && expect "status" $rc 1 ||
    return 1
  grep -q "uid 65534: denied" "$tmp/denied.err" ||
    { echo "server log:"; say "$tmp/denied.err"; return 1; }
}
run "authd: a client running as nobody is denied by default" authd_denied

authd_allow() {
  local out rc=0
  start allow -n 2 -a 65534 "@sockx-examples-$$-allow" || return 1
  out=$(as_nobody "$authd" -c "@sockx-examples-$$-allow" whoami 2>&1) || rc=$?
  expect "nobody" "${out% pid *}" "uid 65534 gid 65534" &&
    expect "nobody's status" $rc 0 || return 1
  rc=0
  out=$(t "$authd" -c "@sockx-examples-$$-allow" whoami 2>&1) || rc=$?
  finish allow || return 1
  expect "root" "$out" "denied uid 0" && expect "root's status" $rc 1
}
run "authd: with -a 65534 nobody is served and root denied" authd_allow

authd_path() {
  local sock=$tmp/authd.sock out rc=0
  # A socket file nobody listens on, as a killed server leaves it.
  python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
    "$sock" || return 1
  start path -n 2 "$sock" || return 1
  expect "mode" "$(stat -c %A "$sock")" "srw-rw-rw-" || return 1
  out=$(as_nobody "$authd" -c "$sock" whoami 2>&1)
  expect "nobody" "$out" "denied uid 65534" || return 1
  out=$(t "$authd" -c "$sock" whoami quit 2>&1) || rc=$?
  expect "root" "${out% pid *}" "uid 0 gid 0" && expect "status" $rc 0 &&
    finish path || return 1
  [ ! -e "$sock" ] || { echo "the socket file is still there"; return 1; }
}
run "authd: on a path: stale file taken over, mode 0666, removed at exit" \
  authd_path

authd_silent() {
  local out rc=0 ms
  start silent -n 2 -t 300 "$tmp/silent.sock" || return 1
  # Connects, says nothing, and measures how long until the server hangs up.
  timeout 10 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print("connected", flush=True)
start = time.monotonic()
s.settimeout(5)
data = s.recv(100)
print(len(data), round((time.monotonic() - start) * 1000), flush=True)
' "$tmp/silent.sock" >"$tmp/py.out" 2>&1 &
  local py=$! n
  for _ in $(seq 100); do
    grep -q connected "$tmp/py.out" && break
    sleep 0.05
  done
  # Queued behind the silent client, served once it has been dropped.
  out=$(t "$authd" -c "$tmp/silent.sock" whoami 2>&1) || rc=$?
  wait "$py"
  finish silent || return 1
  expect "next client" "${out% pid *}" "uid 0 gid 0" &&
    expect "status" $rc 0 || return 1
  read -r n ms < <(sed -n 2p "$tmp/py.out")
  if [ "${n:-x}" != 0 ] || [ "$ms" -lt 250 ] || [ "$ms" -ge 1500 ]; then
    echo "silent client:"; say "$tmp/py.out"; return 1
  fi
  grep -q "uid 0: dropped: Connection timed out" "$tmp/silent.err" ||
    { echo "server log:"; say "$tmp/silent.err"; return 1; }
}
run "authd: a silent client is dropped after -t 300 ms, the next served" \
  authd_silent

authd_quit() {
  local out rc=0
  start quit -n 2 "@sockx-examples-$$-quit" || return 1
  out=$(t "$authd" -c "@sockx-examples-$$-quit" quit 2>&1) || rc=$?
  expect "quit" "$out" "" && expect "quit's status" $rc 0 || return 1
  rc=0
  out=$(t "$authd" -c "@sockx-examples-$$-quit" quit time 2>&1) || rc=$?
  finish quit || return 1
  expect "quit time" "$out" \
    "sockx-authd: receive: the server closed the connection" &&
    expect "quit time's status" $rc 1
}
run "authd: quit closes the connection; nothing is answered after it" \
  authd_quit
