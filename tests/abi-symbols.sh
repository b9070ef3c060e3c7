#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# abi-symbols.sh LIB MAPFILE BACKEND - the ABI of the built library is
# exactly the version script: SONAME libsockx.so.1; every defined dynamic
# symbol is a sockx_* function listed in MAPFILE, at the version node that
# lists it (@@LIBSOCKX_1.0 or @@LIBSOCKX_1.1), and every name in MAPFILE is
# exported.  Also: the library imports no
# resolver, nothing that prints, nothing that exits or aborts; and it waits
# with BACKEND (select or poll: the meson option wait_backend), never with
# the other.
set -eu
lib=$1
map=$2
backend=$3
fail=0
not_ok() { echo "not ok - $*"; fail=1; }

echo "1..6"

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = "libsockx.so.1" ]; then
  echo "ok - SONAME is $soname"
else
  not_ok "SONAME is '$soname', want libsockx.so.1"
fi

# The version script as "name@@NODE" lines, and its nodes in order.
want=$(awk '
  /^[A-Z][A-Z0-9_.]* *\{/ { node = $1 }
  /^[[:space:]]*sockx_[a-z0-9_]*;/ { gsub(/[[:space:];]/, ""); print $0 "@@" node }
' "$map" | sort)
nodes=$(sed -n 's/^\(LIBSOCKX_[0-9.]*\) *{.*/\1/p' "$map" | tr '\n' ' ')

# nm -D lists each version node itself as an absolute symbol; skip them.
defined=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $2, $3 }')
bad=$(printf '%s\n' "$defined" |
  grep -Ev '^T sockx_[a-z0-9_]+@@LIBSOCKX_1\.[01]$' || true)
if [ -z "$bad" ]; then
  echo "ok - every exported symbol is a sockx_* function of a LIBSOCKX_1.x node"
else
  not_ok "unexpected exports:" $bad
fi

exported=$(printf '%s\n' "$defined" | sed 's/^T //' | sort)
if [ "$exported" = "$want" ]; then
  echo "ok - exports equal the version script, node by node ($(echo "$want" | wc -l) names)"
else
  not_ok "exports differ from $map (< script, > library):"
  diff <(echo "$want") <(echo "$exported") 2>/dev/null | sed 's/^/# /' || true
fi

abs=$(nm -D --defined-only "$lib" | awk '$2 == "A" { print $3 }' | tr '\n' ' ')
if [ "$abs" = "$nodes" ] && [ "$nodes" = "LIBSOCKX_1.0 LIBSOCKX_1.1 " ]; then
  echo "ok - the version nodes are $nodes"
else
  not_ok "version nodes: library '$abs', script '$nodes'"
fi

imports=$(nm -D --undefined-only "$lib" | awk '{ print $2 }' | sed 's/@.*//')
banned=$(printf '%s\n' "$imports" | grep -Ex \
  'getaddrinfo|gethostbyname.*|gethostbyaddr.*|getnameinfo|res_.*|__res_.*|(__)?(f|v|vf|d|vd)?printf(_chk)?|puts|fputs|fputc|putchar|perror|fwrite|syslog|vsyslog|abort|exit|_exit|err|errx|warn|warnx' ||
  true)
if [ -z "$banned" ]; then
  echo "ok - imports no resolver, printing, exit or abort"
else
  not_ok "banned imports:" $banned
fi
other=select
[ "$backend" = select ] && other=poll
if printf '%s\n' "$imports" | grep -qx "$backend" &&
    ! printf '%s\n' "$imports" | grep -qx "$other"; then
  echo "ok - waits with $backend(), as wait_backend says"
else
  not_ok "wait_backend=$backend, but the library imports:" $imports
fi
exit $fail
