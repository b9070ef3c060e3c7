#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# musl-build.sh [SRCDIR] - libsockx and its example programs build with
# musl-gcc (musl libc, no glibc headers, no kernel headers) warning-free
# with -Werror, link against musl only, and behave as they do on glibc:
#  - the ABI check (tests/abi-symbols.sh) on the musl libsockx.so.1;
#  - sockx-addr prints what the README shows and rejects a bad address;
#  - sockx-demo exits 0 and prints the README's lines;
#  - sockx-cat -h; the README's C example, built with musl-gcc, reads from
#    a server;
#  - the example tests of the glibc build on the musl programs:
#    tests/sockx-cat.sh (socat as the peer), tests/examples.sh
#    (sockx-privsep and sockx-authd; root, setpriv, user nobody) and
#    tests/echod.sh (sockx-echod; python3 and socat clients, socket
#    activation);
#  - the same build with wait_backend=poll: ABI check and sockx-demo.
# The Check library has no musl build, so -Dtests=disabled; the man pages
# are not built (-Ddocs=disabled).
#
# Messages that come from strerror() are musl's own text where it differs
# from glibc's (ETIMEDOUT: "Operation timed out", glibc "Connection timed
# out"), and the README and the example tests hold glibc's.  So the README's
# lines are compared with glibc's texts replaced by musl's, and the tests
# run as copies in which they are, every check of theirs otherwise as it
# is; each replacement made is reported.  STRICT_MESSAGES=1 compares with
# the README and runs the tests as they are.
#
# Installs what it needs with apt-get when missing.  Prints TAP; exits
# non-zero on any failure.  KEEP=1 keeps the work directory.
set -u
export LC_ALL=C.UTF-8
src=$(cd "${1:-$(dirname "$0")/..}" && pwd) || exit 1
strict=${STRICT_MESSAGES:-0}

packages=(musl-tools gcc meson ninja-build python3 socat util-linux binutils)
bash "$(dirname "$0")/need-packages.sh" "${packages[@]}" ||
  { echo "Bail out! cannot install ${packages[*]}"; exit 1; }

. "$(dirname "$0")/tap-lib.sh" musl-build
t() { timeout 60 "$@"; }

# ---- musl-gcc ----------------------------------------------------------
# strerror() of every errno value under both libcs: the table of texts
# that differ, "musl<TAB>glibc", for the comparisons below.
cat >"$tmp/errors.c" <<'EOF'
#include <stdio.h>
#include <string.h>
int
main(void)
{
	for (int e = 1; e < 134; e++)
		printf("%d\t%s\n", e, strerror(e));
	return 0;
}
EOF
if musl-gcc -std=c99 -O2 "$tmp/errors.c" -o "$tmp/errors-musl" 2>"$tmp/log" &&
    "$tmp/errors-musl" >"$tmp/errors-musl.txt" &&
    cc -std=c99 -O2 "$tmp/errors.c" -o "$tmp/errors-glibc" &&
    "$tmp/errors-glibc" >"$tmp/errors-glibc.txt"; then
  for ld in /lib/ld-musl-*.so.1; do
    musl_version=$("$ld" --version 2>&1 | sed -n 's/^Version //p')
  done
  # Values that glibc calls "Unknown error N" (no such errno) are left out,
  # and so is a musl text that stands for several glibc texts.
  paste "$tmp/errors-musl.txt" "$tmp/errors-glibc.txt" |
    awk -F '\t' '$1 == $3 && $2 != $4 && $4 !~ /^Unknown error/ {
        n[$2]++; g[$2] = $4 }
      END { for (m in n) if (n[m] == 1) print m "\t" g[m] }' |
    sort >"$tmp/texts"
  ok "musl-gcc builds and runs a program (musl $musl_version; strerror differs from glibc for $(wc -l <"$tmp/texts") of 133 errno values)"
else
  say "$tmp/log"
  bail "musl-gcc cannot build a program"
fi

# muslify < IN > OUT: glibc's strerror texts replaced by musl's, the
# longest first; with STRICT_MESSAGES=1, a copy.
muslify() {
  if [ "$strict" = 1 ]; then cat; return; fi
  perl -e '
    open(my $t, "<", $ARGV[0]) or die; my @p;
    while (<$t>) { chomp; push @p, [split /\t/, $_, 2] }
    @p = sort { length($b->[1]) <=> length($a->[1]) } @p;
    while (my $l = <STDIN>) {
      for my $q (@p) { $l =~ s/\Q$q->[1]\E/$q->[0]/g }
      print $l;
    }' "$tmp/texts"
}
# replaced FILE: the glibc texts FILE holds that muslify replaces.
replaced() {
  local m g out=
  [ "$strict" = 1 ] && return
  while IFS=$'\t' read -r m g; do
    grep -qF -- "$g" "$1" && out="$out${out:+, }\"$g\" -> \"$m\""
  done <"$tmp/texts"
  printf '%s' "$out"
}

# ---- build ---------------------------------------------------------------
# build DIR BACKEND: a warning-free musl build of the library and examples.
build() {
  CC=musl-gcc meson setup "$1" "$src" -Dtests=disabled -Ddocs=disabled \
    -Dfuzz=disabled -Dexamples=true -Dwerror=true -Dwait_backend="$2" \
    >"$1.log" 2>&1 && ninja -C "$1" >>"$1.log" 2>&1
}
# The compiler's words, when the build failed: file:line: error/warning.
why() {
  grep -E '(error|warning):|undefined reference|ERROR:' "$1.log" | sort -u |
    head -n 40 | say
}

b=$tmp/build
t0=$(now)
if build "$b" select; then
  ok "CC=musl-gcc meson setup -Dtests=disabled -Ddocs=disabled -Dwerror=true; ninja: library and 6 examples in $(secs "$t0" "$(now)") s"
else
  why "$b"
  not_ok "the musl build failed (select backend)"
  bail "nothing to run"
fi
ex=$b/doc/examples
# The file the SONAME link names (a glob would also match meson's
# libsockx.so.1.1.0.p directory).
libso=$(readlink -f "$b/libsockx.so.1")

# Every program and the library load musl's dynamic linker and libc only.
linkage() {
  local f interp needed bad=
  for f in "$@"; do
    needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    case $needed in *libc.so.6*|*libpthread*|*libdl.so*) bad="$bad ${f##*/}: $needed;" ;; esac
    case $needed in *libc.so*) ;; *) bad="$bad ${f##*/}: no libc.so;" ;; esac
    [ "${f##*/}" = "${libso##*/}" ] && continue
    interp=$(readelf -l "$f" | sed -n 's/.*program interpreter: \(.*\)\]/\1/p')
    case $interp in /lib/ld-musl-*) ;; *) bad="$bad ${f##*/}: interpreter $interp;" ;; esac
  done
  [ -z "$bad" ] || { echo "$bad"; return 1; }
}
progs=("$ex/sockx-addr" "$ex/sockx-demo" "$ex/sockx-cat" "$ex/sockx-privsep"
  "$ex/sockx-authd" "$ex/sockx-echod")
if out=$(linkage "$libso" "${progs[@]}"); then
  ok "the library and the examples link musl's libc.so and load /lib/ld-musl-*.so.1"
else
  not_ok "linkage: $out"
fi

# sub DESCRIPTION SCRIPT ARGS...: a TAP script of the tree, run on the musl
# build as a copy with glibc's strerror texts replaced by musl's: passes
# when it exits 0 and every test of its plan passes.
sub() {
  local what=$1 script=$2 copy
  shift 2
  copy=$tmp/${script##*/}
  muslify <"$script" >"$copy"
  local texts
  texts=$(replaced "$script")
  bash "$copy" "$@" >"$copy.log" 2>&1
  local rc=$?
  sed 's/^/    /' "$copy.log" | say
  local plan total pass
  plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$copy.log" | tail -n1)
  total=$(grep -Ec '^(not )?ok\b' "$copy.log")
  pass=$(grep -Ec '^ok\b' "$copy.log")
  [ -n "$texts" ] && what="$what (its texts: $texts)"
  if [ $rc -eq 0 ] && [ "$total" -gt 0 ] && [ "$plan" = "$total" ] &&
      [ "$pass" = "$total" ] && ! grep -q '^Bail out!' "$copy.log"; then
    ok "$what: $pass of $total pass"
  else
    not_ok "$what: $pass of $total pass, plan ${plan:-none}, status $rc"
    grep -E '^not ok' "$copy.log" | sed 's/^/# FAILED: /'
  fi
}

sub "tests/abi-symbols.sh on the musl libsockx.so.1" \
  "$src/tests/abi-symbols.sh" "$libso" "$src/src/libsockx.sym" select

# ---- the programs, as the README shows them ------------------------------
readme=$src/README.md
# The block the README shows after the line $1 (as tests/readme.sh reads it).
shown() {
  CMD=$1 awk '
    $0 == ENVIRON["CMD"] { found = 1; next }
    found && /^```/ { fences++; next }
    found && fences == 2 { print }
    fences == 3 { exit }' "$readme"
}

# same WHAT GOT WANT STATUS: status 0 and the README's lines, glibc's
# strerror texts in them replaced by musl's.
same() {
  local what=$1 got=$2 want=$3 rc=$4 texts
  printf '%s\n' "$want" >"$tmp/want.glibc"
  want=$(muslify <"$tmp/want.glibc")
  texts=$(replaced "$tmp/want.glibc")
  local note=
  [ -n "$texts" ] && note=", with musl texts: $texts"
  if [ "$rc" -eq 0 ] && [ -n "$want" ] && [ "$got" = "$want" ]; then
    ok "$what: the README's lines$note"
  else
    not_ok "$what: status $rc, other lines than the README's$note"
    diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | say
  fi
}

cmd=$(grep -m1 '^build/doc/examples/sockx-addr ' "$readme")
got=$(cd "$tmp" && eval "t \"\$ex/sockx-addr\" ${cmd#build/doc/examples/sockx-addr }" 2>&1)
same "sockx-addr ${cmd#build/doc/examples/sockx-addr }" "$got" "$(shown "$cmd")" $?

got=$(t "$ex/sockx-addr" localhost:80 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$got" = "sockx-addr: localhost:80: Invalid argument" ]; then
  ok "sockx-addr localhost:80: status 1, \"$got\""
else
  not_ok "sockx-addr localhost:80: status $rc, '$got'"
fi

cmd=$(grep -m1 -x 'build/doc/examples/sockx-demo' "$readme")
t0=$(now)
got=$(t "$ex/sockx-demo" 2>&1)
rc=$?
same "sockx-demo ($(secs "$t0" "$(now)") s)" "$got" "$(shown "$cmd")" $rc

got=$(t "$ex/sockx-cat" -h 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$got" | grep -q '^usage: sockx-cat '; then
  ok "sockx-cat -h: status 0, $(printf '%s\n' "$got" | wc -l) lines of help"
else
  not_ok "sockx-cat -h: status $rc"; printf '%s\n' "$got" | say
fi

# The README's C example, built by musl-gcc against the musl build, reads
# what a server (python3, glibc) sends on an abstract socket.
# shellcheck disable=SC2016
sed -n '/^```c$/,/^```$/p' "$readme" | sed '1d;$d' >"$tmp/example.c"
name=sockx-musl-readme-$$
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
if [ -s "$tmp/example.c" ] &&
    musl-gcc -std=c99 -pedantic-errors -Wall -Wextra -Werror \
      -I"$src/include" "$tmp/example.c" -L"$b" -lsockx \
      -Wl,-rpath,"$b" -o "$tmp/example" 2>"$tmp/log" &&
    timeout 10 cat "$tmp/ready" >/dev/null &&
    [ "$(timeout 10 "$tmp/example" "@$name")" = "hello from a server" ]; then
  ok "the README's C example: musl-gcc -std=c99 -pedantic-errors -Werror, reads from a server"
else
  say "$tmp/log" "$tmp/server.log"
  not_ok "the README's C example with musl-gcc"
fi
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null

# ---- the example tests of the tree, on the musl programs ----------------
t0=$(now)
sub "tests/sockx-cat.sh on the musl sockx-cat (socat as the peer)" \
  "$src/tests/sockx-cat.sh" "$ex/sockx-cat"
echo "# sockx-cat.sh: $(secs "$t0" "$(now)") s"
t0=$(now)
sub "tests/examples.sh on the musl sockx-privsep and sockx-authd" \
  "$src/tests/examples.sh" "$ex/sockx-privsep" "$ex/sockx-authd" "$libso"
echo "# examples.sh: $(secs "$t0" "$(now)") s"
t0=$(now)
# echod.sh sources and runs files next to it: the copy gets them too.
cp "$src/tests/tap-lib.sh" "$src/tests/notify-lib.sh" \
  "$src/tests/echod-client.py" "$tmp/"
sub "tests/echod.sh on the musl sockx-echod" \
  "$src/tests/echod.sh" "$ex/sockx-echod"
echo "# echod.sh: $(secs "$t0" "$(now)") s"

# ---- the poll backend ----------------------------------------------------
p=$tmp/build-poll
t0=$(now)
if build "$p" poll; then
  ok "the musl build with wait_backend=poll, -Werror ($(secs "$t0" "$(now)") s)"
  sub "tests/abi-symbols.sh on the musl libsockx.so.1 (poll)" \
    "$src/tests/abi-symbols.sh" "$(readlink -f "$p/libsockx.so.1")" \
    "$src/src/libsockx.sym" poll
  got=$(t "$p/doc/examples/sockx-demo" 2>&1)
  same "sockx-demo (poll)" "$got" "$(shown "$cmd")" $?
else
  why "$p"
  not_ok "the musl build failed (poll backend)"
fi

echo "1..$n"
exit $fail
