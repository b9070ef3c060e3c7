#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# man-lint.sh PAGE... - mandoc -Tlint -Wstyle must say nothing about PAGE,
# except that a referenced system page (unix(7), select(2), ...) is not
# installed on this machine, which says nothing about our page.  Our own
# references (.Xr sockx...) must name a page in this directory or one that
# meson.build installs as a link.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
fail=0
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT
echo "1..$#"
for page in "$@"; do
  # Lint messages come on stdout; mandoc's own notices (an outdated
  # mandoc.db) on stderr, read apart so that they never split a line.
  msgs=$(mandoc -Tlint -Wstyle "$page" 2>"$errs" |
    grep -v -e 'STYLE: referenced manual not found: Xr [a-z][a-z0-9_]* [0-9]' \
    || true)
  more=$(grep -v -e 'outdated mandoc.db' "$errs" || true)
  msgs="$msgs${msgs:+${more:+
}}$more"
  own=$(sed -n 's/^\.Xr \(sockx[a-z0-9_]*\) \([0-9]\).*/\1.\2/p' "$page" | sort -u)
  for ref in $own; do
    [ -e "$dir/$ref" ] || grep -q "'$ref'" "$dir/meson.build" ||
      msgs="$msgs${msgs:+
}no page or link for $ref"
  done
  if [ -z "$msgs" ]; then
    echo "ok - ${page##*/} is lint-clean"
  else
    echo "not ok - ${page##*/}"
    printf '%s\n' "$msgs" | sed 's/^/# /'
    fail=1
  fi
done
exit $fail
