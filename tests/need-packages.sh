#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# need-packages.sh PACKAGE... - install with apt-get the Debian packages of
# the list that are not installed yet (with sudo unless root), saying which
# on stderr.  Exits non-zero if the install fails.  Used by .ci/run,
# deb-package.sh and musl-build.sh.
set -u
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
    grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "# installing: ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq >/dev/null &&
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
