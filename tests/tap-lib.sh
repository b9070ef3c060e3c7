# SPDX-License-Identifier: MIT
# tap-lib.sh NAME - sourced by the TAP scripts deb-package.sh and
# musl-build.sh: a work directory $tmp (/tmp/NAME.XXXXXX, removed at exit
# unless KEEP=1), the counters n and fail, and ok/not_ok/say/bail and the
# timing helpers now/secs.
tmp=$(mktemp -d "/tmp/$1.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
  echo "# work directory: $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; fail=1; }
say() { sed 's/^/# /' "$@"; }
bail() { echo "Bail out! $*"; echo "1..$n"; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
