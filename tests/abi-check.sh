#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# abi-check.sh LIBRARY BASELINE INCLUDEDIR - the library's ABI is exactly
# the frozen 1.0 ABI: abidiff (libabigail) compares the built library, with
# its debug information, against the abidw baseline committed in tests/,
# looking only at the types of the public header; any change fails,
# added functions included.  A deliberate change (a new function in a new
# version node, see README "ABI") comes with a new baseline:
#   abidw --headers-dir include --out-file tests/libsockx-1.0.abi \
#     build/libsockx.so.1.0.0
set -u
lib=$1 baseline=$2 inc=$3
echo "1..2"
if readelf -S "$lib" | grep -q '\.debug_info'; then
  echo "ok - $lib has debug information"
else
  echo "not ok - $lib has no debug information (abidiff needs it)"
  exit 1
fi
out=$(abidiff --headers-dir2 "$inc" "$baseline" "$lib" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
  echo "ok - the ABI equals the 1.0 baseline"
else
  printf '%s\n' "$out" | sed 's/^/# /'
  echo "not ok - abidiff exit status $rc: the ABI changed"
fi
[ $rc -eq 0 ]
