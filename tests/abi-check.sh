#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# abi-check.sh LIBRARY INCLUDEDIR VERSION BASELINE... - the library keeps
# every frozen ABI: abidiff (libabigail) compares the built library, with
# its debug information, against each abidw baseline committed in tests/
# (libsockx-X.Y.abi), looking only at the types of the public header.
# A baseline of an earlier release (X.Y before VERSION's) may only gain
# functions (--no-added-syms): any change to one of its symbols or types
# fails.  The baseline of this release (X.Y of VERSION), once written,
# must be equal: added functions fail too.  A release writes its baseline
# when its interface is complete (README "ABI"):
#   abidw --headers-dir include --out-file tests/libsockx-1.1.abi \
#     build/libsockx.so.1.1.0
set -u
lib=$1 inc=$2 version=$3
shift 3
echo "1..$(( $# + 1 ))"
if readelf -S "$lib" | grep -q '\.debug_info'; then
  echo "ok - $lib has debug information"
else
  echo "not ok - $lib has no debug information (abidiff needs it)"
  exit 1
fi
fail=0
for baseline in "$@"; do
  rel=${baseline##*/libsockx-}
  rel=${rel%.abi}
  if [ "$rel" = "${version%.*}" ]; then
    how="equals" args=()
  else
    how="keeps (additions only)" args=(--no-added-syms)
  fi
  out=$(abidiff "${args[@]}" --headers-dir2 "$inc" "$baseline" "$lib" 2>&1)
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "ok - the ABI $how the $rel baseline"
  else
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "not ok - abidiff ${args[*]} against the $rel baseline: exit status $rc"
    fail=1
  fi
done
exit $fail
