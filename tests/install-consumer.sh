#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install-consumer.sh BUILDDIR PROGRAM.c VERSION - install the build into a
# temporary DESTDIR, then build PROGRAM.c the way a user would, with only
# `pkg-config --cflags --libs libsockx` (PKG_CONFIG_SYSROOT_DIR points
# pkg-config into the staged tree), run it against the installed library,
# and check what the installed tree holds.  CC may name the compiler.
set -eu
# A meson subproject's build directory is not one meson can install on
# its own (the parent's is): nothing to check there (a TAP skip).
if [ "${SOCKX_SUBPROJECT:-0}" = 1 ]; then
  echo "1..0 # SKIP libsockx is a meson subproject: its build does not install alone"
  exit 0
fi
build=$1
program=$2
version=$3
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
not_ok() { echo "not ok - $*"; fail=1; }

echo "1..5"
meson install -C "$build" --no-rebuild --destdir "$tmp/root" >"$tmp/log" 2>&1 ||
  { sed 's/^/# /' "$tmp/log"; echo "Bail out! meson install failed"; exit 1; }
echo "ok - meson install into DESTDIR"

pc=$(find "$tmp/root" -name libsockx.pc)
export PKG_CONFIG_PATH=${pc%/*} PKG_CONFIG_SYSROOT_DIR=$tmp/root
export PKG_CONFIG_LIBDIR=${pc%/*}
cflags=$(pkg-config --cflags libsockx)
libs=$(pkg-config --libs libsockx)
# shellcheck disable=SC2086
if $cc -std=c99 -pedantic-errors -Wall -Wextra -Werror $cflags "$program" \
    $libs -o "$tmp/consumer" 2>"$tmp/log"; then
  echo "ok - built with: $cc $cflags $libs"
else
  sed 's/^/# /' "$tmp/log"
  not_ok "consumer did not build"
fi

libdir=$(printf '%s\n' $libs | sed -n 's/^-L//p')
case $libdir in
  "$tmp/root"/*) ;;
  *) not_ok "pkg-config gave '$libdir', not a directory of the staged tree" ;;
esac
loaded=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/consumer" | awk '/libsockx/ { print $3 }')
if [ "$loaded" = "$libdir/libsockx.so.1" ] &&
    LD_LIBRARY_PATH=$libdir "$tmp/consumer"; then
  echo "ok - consumer ran against $loaded"
else
  not_ok "consumer did not run against the installed library (loaded '$loaded')"
fi

if [ "$(readlink "$libdir/libsockx.so")" = libsockx.so.1 ] &&
    [ "$(readlink "$libdir/libsockx.so.1")" = "libsockx.so.$version" ] &&
    [ -f "$libdir/libsockx.so.$version" ]; then
  echo "ok - libsockx.so -> libsockx.so.1 -> libsockx.so.$version"
else
  not_ok "library links are wrong: $(ls -l "$libdir" | grep sockx)"
fi

inc=$(printf '%s\n' $cflags | sed -n 's/^-I//p')
if [ -f "$inc/sockx.h" ] && cmp -s "$inc/sockx.h" "${program%/*}/../include/sockx.h"; then
  echo "ok - sockx.h installed in $inc"
else
  not_ok "sockx.h not installed in '$inc'"
fi
exit $fail
