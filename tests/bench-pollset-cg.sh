#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-pollset-cg.sh - user-space instructions per request of the two
# servers of bench-pollset (raw epoll, poll set), counted by callgrind,
# which other processes on the machine cannot disturb; and the system
# calls per request (strace -c).
#
# Usage, directly (from the source tree, after a build):
#   tests/bench-pollset-cg.sh build/tests/bench-pollset [VALGRIND [STRACE]]
# As a meson benchmark: meson test -C build --benchmark -v pollset-cg
# Environment: BENCH_PCG_CONNS (default 19900), BENCH_PCG_N1, BENCH_PCG_N2
#   (requests: 40000, 140000).
#
# Each server runs alone (bench-pollset -S KIND NAME -c N) under callgrind
# and exits after N replies; the load generator (bench-pollset -G) runs
# natively.  Each runs twice, with N1 and N2 requests: the difference over
# N2 - N1 leaves out start, accepting the connections and exit.  The kernel
# side (the system calls themselves) is not counted by callgrind: hence
# the strace counts, which show the same calls per request for both.
# Prints figures and asserts nothing.
set -eu

prog=${1:?usage: bench-pollset-cg.sh BENCH-POLLSET [VALGRIND [STRACE]]}
valgrind=${2:-valgrind}
strace=${3:-strace}
conns=${BENCH_PCG_CONNS:-19900}
n1=${BENCH_PCG_N1:-40000}
n2=${BENCH_PCG_N2:-140000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ir KIND N: the callgrind total of a server of KIND over N requests.
ir() {
	name="sockx-bench-pcg-$$-$1-$2"
	"$valgrind" -q --tool=callgrind --callgrind-out-file="$tmp/cg.$1.$2" \
	    "$prog" -S "$1" "$name" -c "$2" 2>"$tmp/err" &
	pid=$!
	"$prog" -G "$name" -n "$conns" -c "$2" 2>>"$tmp/err"
	wait "$pid"
	callgrind_annotate "$tmp/cg.$1.$2" |
	    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}

# calls KIND N: system calls by the server over N requests (strace -c).
calls() {
	name="sockx-bench-pcg-$$-s$1-$2"
	"$strace" -c -o "$tmp/st.$1.$2" "$prog" -S "$1" "$name" -c "$2" &
	pid=$!
	"$prog" -G "$name" -n 2000 -c "$2" 2>>"$tmp/err"
	wait "$pid"
	awk -v n="$2" '$NF ~ /^(read|write|recvmsg|sendmsg|epoll_wait|epoll_ctl|clock_gettime)$/ {
	    printf "  %s %.3f", $NF, $4 / n }' "$tmp/st.$1.$2"
	echo
}

echo "user-space instructions per request (callgrind; $conns connections;"
echo "($n2 - $n1) requests; the kernel's work is not counted)"
echo
printf '%-5s %14s %14s %12s\n' impl "Ir ($n1)" "Ir ($n2)" "Ir/request"
per_raw=0
per_set=0
for k in raw set; do
	a=$(ir "$k" "$n1")
	b=$(ir "$k" "$n2")
	per=$(awk -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" \
	    'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')
	printf '%-5s %14s %14s %12s\n' "$k" "$a" "$b" "$per"
	if [ "$k" = raw ]; then per_raw=$per; else per_set=$per; fi
done
awk -v s="$per_set" -v r="$per_raw" \
    'BEGIN { printf "set - raw: %.1f instructions per request\n", s - r }'
echo
echo "the set server's functions, instructions per request ($n2 requests run):"
callgrind_annotate "$tmp/cg.set.$n2" | awk -v n="$n2" '
	/file:function/ { on = 1; next }
	on && NF >= 3 && $1 ~ /^[0-9,]+$/ {
		v = $1; gsub(",", "", v)
		if (v / n < 5) exit
		f = ""
		for (i = 2; i <= NF && f == ""; i++)
			if ($i ~ /:/ && $i !~ /%\)$/)
				f = $i
		sub(/.*:/, "", f)
		printf "  %-28s %7.1f\n", f, v / n
	}'
if command -v "$strace" >/dev/null 2>&1; then
	echo
	echo "system calls per request (strace -c, 2000 connections, 50000 requests;"
	echo "setup included, hence the small epoll_ctl counts):"
	for k in raw set; do
		printf '%-5s' "$k"
		calls "$k" 50000
	done
fi
