#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# subproject.sh SRCDIR - libsockx as a meson subproject, the way a parent
# project uses it: a copy of the tree in subprojects/libsockx with a wrap
# that provides the dependency libsockx, and a parent whose one test calls
# the library.  Checks that
#  - the parent configures, builds and its `meson test` passes, and that
#    the subproject adds no test and builds no example (tests, docs and
#    examples are off at auto in a subproject);
#  - with the subproject's tests and docs switched on, the tests that
#    install a build skip instead of failing;
#  - with default_library=static the parent links the clean archive.
# MESON may name meson.  Prints TAP.
set -u
src=$(cd "$1" && pwd) || exit 1
meson=${MESON:-meson}
. "$(dirname "$0")/tap-lib.sh" subproject

p=$tmp/parent
mkdir -p "$p/subprojects/libsockx"
copy_tree "$src" "$p/subprojects/libsockx"
cat >"$p/subprojects/libsockx.wrap" <<'WRAP'
[wrap-file]
directory = libsockx

[provide]
libsockx = libsockx_dep
WRAP
cat >"$p/meson.build" <<'MESON'
project('parent', 'c', meson_version: '>= 1.0')
sockx = dependency('libsockx', version: '>= 1.1')
exe = executable('uses-sockx', 'main.c', dependencies: sockx)
test('uses-sockx', exe)
MESON
cat >"$p/main.c" <<'C'
#include <string.h>
#include <sockx.h>

int
main(void)
{
	sockx *a, *b;
	char c;

	if (sockx_pair(&a, &b, SOCK_STREAM) != 0 ||
	    sockx_write(a, "x", 1, 1000) != 1 ||
	    sockx_read(b, &c, 1, 1000) != 1 || c != 'x')
		return 1;
	sockx_close(a);
	sockx_close(b);
	return strncmp(sockx_version(), "1.", 2) != 0;
}
C

b=$p/build
if (cd "$p" && $meson setup build) >"$tmp/log" 2>&1 &&
    $meson test -C "$b" >>"$tmp/log" 2>&1; then
  ok "the parent builds libsockx through its wrap and its meson test passes"
else
  say "$tmp/log"
  bail "the parent project failed"
fi
tests=$($meson test -C "$b" --list 2>/dev/null | grep -v "^ninja:")
if [ "$tests" = uses-sockx ]; then
  ok "the subproject registers no test of its own"
else
  not_ok "tests of the parent: $(echo $tests)"
fi
if [ ! -e "$b/subprojects/libsockx/doc/examples" ] &&
    [ ! -e "$b/subprojects/libsockx/tests" ]; then
  ok "no example and no test program is built"
else
  not_ok "the subproject built examples or tests: $(ls "$b/subprojects/libsockx")"
fi

if $meson configure "$b" -Dlibsockx:tests=enabled -Dlibsockx:docs=enabled \
    >"$tmp/log" 2>&1 &&
    $meson test -C "$b" install-consumer man-pages uses-sockx \
      >>"$tmp/log" 2>&1 &&
    grep -Eq '^Skipped: +2 *$' "$b/meson-logs/testlog.txt"; then
  ok "with its tests and docs on, install-consumer and man-pages skip, not fail"
else
  say "$tmp/log"
  not_ok "the subproject's install tests did not skip"
fi

s=$p/build-static
if (cd "$p" && $meson setup build-static -Ddefault_library=static) \
    >"$tmp/log" 2>&1 && $meson test -C "$s" >>"$tmp/log" 2>&1 &&
    ! readelf -d "$s/uses-sockx" | grep -q 'NEEDED.*libsockx' &&
    [ -z "$(nm -g --defined-only "$s/subprojects/libsockx/libsockx.a" |
      awk 'NF == 3 && $3 !~ /^sockx_/')" ]; then
  ok "with default_library=static the parent links the clean libsockx.a"
else
  say "$tmp/log"
  not_ok "the static parent failed"
fi
echo "1..$n"
exit $fail
