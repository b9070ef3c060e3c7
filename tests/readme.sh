#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# readme.sh README DEMO INCDIR LIBDIR SOCKX_DEMO - the README stays true: its
# C example compiles warning-free and reads what a server (python3) sends;
# its sockx-addr command prints
# exactly the output the README shows; sockx-addr reports a bad address with
# exit status 1; sockx-demo (SOCKX_DEMO) prints exactly the output the
# README shows and exits 0.  CC may name the compiler.
set -u
readme=$1 demo=$2 inc=$3 lib=$4 sockx_demo=$5
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..4"

# The block the README shows after the line $1: the command's own block
# closes, the next block opens, and its lines are the output.
shown() {
  CMD=$1 awk '
    $0 == ENVIRON["CMD"] { found = 1; next }
    found && /^```/ { fences++; next }
    found && fences == 2 { print }
    fences == 3 { exit }' "$readme"
}

# The C example is a client: run it against a Python server on an abstract
# socket that sends one line and closes (python3 comes with meson).
sed -n '/^```c$/,/^```$/p' "$readme" | sed '1d;$d' >"$tmp/example.c"
name=sockx-readme-$$
mkfifo "$tmp/ready"
timeout 10 python3 -c '
import socket, sys
l = socket.socket(socket.AF_UNIX)
l.bind(b"\0" + sys.argv[1].encode())
l.listen()
open(sys.argv[2], "w").close()
c, _ = l.accept()
c.sendall(b"hello from a server\n")
c.close()' "$name" "$tmp/ready" 2>"$tmp/server.log" &
server=$!
# shellcheck disable=SC2086
if [ -s "$tmp/example.c" ] &&
    $cc -std=c99 -pedantic-errors -Wall -Wextra -Werror -I"$inc" \
      "$tmp/example.c" -L"$lib" -lsockx -o "$tmp/example" 2>"$tmp/log" &&
    timeout 10 cat "$tmp/ready" >/dev/null &&
    [ "$(LD_LIBRARY_PATH=$lib timeout 10 "$tmp/example" "@$name")" = \
      "hello from a server" ]; then
  echo "ok - the README's C example compiles and reads from a server"
else
  sed 's/^/# /' "$tmp/log" "$tmp/server.log"
  echo "not ok - the README's C example"
fi
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null

# The command line after "build/doc/examples/sockx-addr", and the block after.
cmd=$(grep -m1 '^build/doc/examples/sockx-addr ' "$readme")
want=$(shown "$cmd")
got=$(eval "\"\$demo\" ${cmd#build/doc/examples/sockx-addr }" 2>&1)
if [ -n "$cmd" ] && [ "$got" = "$want" ]; then
  echo "ok - the README's demo prints what the README shows"
else
  echo "not ok - demo printed:"; printf '%s\n' "$got" | sed 's/^/# /'
  printf '%s\n' "$want" | sed 's/^/# want: /'
fi

got=$("$demo" localhost:80 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$got" = "sockx-addr: localhost:80: Invalid argument" ]
then
  echo "ok - the demo reports a bad address with exit status 1"
else
  echo "not ok - bad address: status $rc, output '$got'"
fi

# sockx-demo takes no arguments: its command is alone on its line.
cmd=$(grep -m1 -x 'build/doc/examples/sockx-demo' "$readme")
want=$(shown "$cmd")
got=$("$sockx_demo" 2>&1)
rc=$?
if [ -n "$cmd" ] && [ -n "$want" ] && [ $rc -eq 0 ] && [ "$got" = "$want" ]
then
  echo "ok - sockx-demo prints what the README shows"
else
  echo "not ok - sockx-demo: status $rc, printed:"
  printf '%s\n' "$got" | sed 's/^/# /'
  printf '%s\n' "$want" | sed 's/^/# want: /'
fi
