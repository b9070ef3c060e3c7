#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# static-archive.sh ARCHIVE MAPFILE - the static library exports what the
# shared one does and nothing else: every defined global of ARCHIVE is a
# name of the version script MAPFILE and every such name is defined; and a
# program that defines its own sx_wait, sx_now_ns and sx_handle_new (names
# libsockx uses inside) links statically with it and runs.  CC may name the
# compiler.
set -u
archive=$1 map=$2
cc=${CC:-cc}
. "$(dirname "$0")/tap-lib.sh" static-archive

defined=$(nm -g --defined-only "$archive" | awk 'NF == 3 { print $3 }' | sort)
listed=$(sed -n 's/^[[:space:]]*\(sockx_[a-z0-9_]*\);.*/\1/p' "$map" | sort)
bad=$(printf '%s\n' "$defined" | grep -v '^sockx_' || true)
if [ -n "$defined" ] && [ -z "$bad" ]; then
  ok "every defined global of ${archive##*/} begins with sockx_ ($(echo "$defined" | wc -l) names)"
else
  not_ok "globals of ${archive##*/} outside sockx_*:" $bad
fi
if [ "$defined" = "$listed" ]; then
  ok "the archive defines exactly the names of ${map##*/}"
else
  not_ok "archive and ${map##*/} differ (< script, > archive):"
  diff <(echo "$listed") <(echo "$defined") | say
fi

cat >"$tmp/clash.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sockx.h>

/* Names libsockx uses inside: the program's own, as any program may. */
int sx_wait(void);
long sx_now_ns(void);
void *sx_handle_new(void);
int sx_wait(void) { return 7; }
long sx_now_ns(void) { return 42; }
void *sx_handle_new(void) { return NULL; }

int
main(void)
{
	sockx *a, *b;
	char buf[8];

	if (sockx_pair(&a, &b, SOCK_STREAM) != 0 ||
	    sockx_write(a, "ping", 4, 1000) != 4 ||
	    sockx_read_full(b, buf, 4, NULL, 1000) != 4 ||
	    memcmp(buf, "ping", 4) != 0 ||
	    sockx_read(b, buf, 1, 10) != -ETIMEDOUT)
		return 1;
	sockx_close(a);
	sockx_close(b);
	printf("%s %d %ld %p\n", sockx_version(), sx_wait(), sx_now_ns(),
	    sx_handle_new());
	return 0;
}
C
# shellcheck disable=SC2086
if $cc -std=gnu11 -Wall -Wextra -Werror -I"$(dirname "$0")/../include" \
    "$tmp/clash.c" "$archive" -o "$tmp/clash" 2>"$tmp/log"; then
  ok "a program with its own sx_wait, sx_now_ns and sx_handle_new links with ${archive##*/}"
  if ! readelf -d "$tmp/clash" | grep -q 'NEEDED.*libsockx' &&
      out=$("$tmp/clash") && [ "${out#* }" = "7 42 (nil)" ]; then
    ok "it runs, linked statically: $out"
  else
    not_ok "it did not run as it should: '${out:-}'"
  fi
else
  say "$tmp/log"
  not_ok "the program did not link with ${archive##*/}"
fi
echo "1..$n"
exit $fail
