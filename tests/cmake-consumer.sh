#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cmake-consumer.sh BUILDDIR PREFIX PROGRAM.c VERSION - install the build
# into a temporary DESTDIR, then build PROGRAM.c as a CMake user would:
# find_package(libsockx VERSION CONFIG REQUIRED) and
# target_link_libraries(... libsockx::libsockx), with only CMAKE_PREFIX_PATH
# pointing at the staged PREFIX.  Checks that it links the shared library
# and runs, that the version file accepts the same major version and
# refuses the next, and, when the static archive is installed, that
# libsockx_USE_STATIC_LIBS=ON and a tree holding only the archive link it
# statically.  CC may name the compiler; CMAKE may name cmake.
set -u
if [ "${SOCKX_SUBPROJECT:-0}" = 1 ]; then
  echo "1..0 # SKIP libsockx is a meson subproject: its build does not install alone"
  exit 0
fi
build=$1 prefix=$2 program=$3 version=$4
cmake=${CMAKE:-cmake}
if ! command -v "$cmake" >/dev/null 2>&1; then
  echo "1..0 # SKIP cmake not found (Debian package cmake)"
  exit 0
fi
. "$(dirname "$0")/tap-lib.sh" cmake-consumer
export CC=${CC:-cc}

root=$tmp/root
meson install -C "$build" --no-rebuild --destdir "$root" >"$tmp/log" 2>&1 ||
  { say "$tmp/log"; bail "meson install failed"; }
staged=$root$prefix
config=$(find "$staged" -name libsockxConfig.cmake)
if [ -n "$config" ] && [ -f "${config%/*}/libsockxConfigVersion.cmake" ]; then
  ok "installed ${config#"$root"} and libsockxConfigVersion.cmake"
else
  bail "no libsockxConfig.cmake under $staged"
fi
libdir=$(dirname "$(dirname "${config%/*}")")

mkdir "$tmp/src"
cp "$program" "$tmp/src/consumer.c"
cat >"$tmp/src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.13)
project(consumer C)
find_package(libsockx ${WANT} CONFIG REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE libsockx::libsockx)
CMAKE

# consumer NAME WANT [cmake args...]: configure and build in $tmp/NAME.
consumer() {
  local dir=$tmp/$1 want=$2
  shift 2
  "$cmake" -S "$tmp/src" -B "$dir" -DWANT="$want" \
    -DCMAKE_PREFIX_PATH="$staged" "$@" >"$tmp/log" 2>&1 &&
    "$cmake" --build "$dir" >>"$tmp/log" 2>&1
}
# needs BINARY: the libsockx it loads, or nothing if linked statically.
needs() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(libsockx[^]]*\)\]/\1/p'; }

if consumer shared "$version"; then
  loaded=$(ldd "$tmp/shared/consumer" | awk '/libsockx/ { print $3 }')
  if [ "$(needs "$tmp/shared/consumer")" = libsockx.so.1 ] &&
      [ "${loaded#"$libdir"/}" = libsockx.so.1 ] && "$tmp/shared/consumer"
  then
    ok "find_package(libsockx $version CONFIG) and libsockx::libsockx: linked $loaded and ran"
  else
    not_ok "the consumer needs '$(needs "$tmp/shared/consumer")', loaded '$loaded'"
  fi
else
  say "$tmp/log"
  not_ok "the CMake consumer did not configure or build"
fi

major=${version%%.*}
if consumer v1 "$major.0" && ! consumer v2 "$((major + 1)).0"; then
  ok "the version file takes $major.0 and refuses $((major + 1)).0"
else
  not_ok "the version file accepted $((major + 1)).0 or refused $major.0"
fi

if [ ! -f "$libdir/libsockx.a" ]; then
  n=$((n + 1))
  echo "ok $n # SKIP the static consumers: no libsockx.a (default_library=shared)"
else
  if consumer static-opt "$version" -Dlibsockx_USE_STATIC_LIBS=ON &&
      [ -z "$(needs "$tmp/static-opt/consumer")" ] &&
      "$tmp/static-opt/consumer"; then
    ok "libsockx_USE_STATIC_LIBS=ON links libsockx.a statically"
  else
    say "$tmp/log"
    not_ok "libsockx_USE_STATIC_LIBS=ON did not link statically"
  fi
  rm -f "$libdir"/libsockx.so*
  if consumer static-only "$version" &&
      [ -z "$(needs "$tmp/static-only/consumer")" ] &&
      "$tmp/static-only/consumer"; then
    ok "with only libsockx.a installed, libsockx::libsockx is the archive"
  else
    say "$tmp/log"
    not_ok "with only libsockx.a installed the consumer failed"
  fi
fi
echo "1..$n"
exit $fail
