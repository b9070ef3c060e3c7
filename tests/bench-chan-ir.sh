#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-chan-ir.sh - user-space instructions per message of the channel
# and of the hand-written code (tests/bench-chan.c), both processes,
# counted by callgrind (machine noise does not move them).  Each scenario
# and implementation runs twice, with N and with 2N messages; the
# difference of the instructions of both processes (callgrind writes one
# file per process), divided by N, leaves out the start-up and set-up.
#
# Usage: tests/bench-chan-ir.sh build/tests/bench-chan [valgrind]
# As a meson benchmark: meson test -C build --benchmark -v chan-instructions
# Prints figures and asserts nothing.
set -eu

prog=${1:?usage: bench-chan-ir.sh BENCH-CHAN [VALGRIND]}
vg=${2:-valgrind}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# ir SCENARIO IMPL N: instructions of both processes together.
ir() {
	rm -f "$tmp"/cg.*
	"$vg" --tool=callgrind --callgrind-out-file="$tmp/cg.%p" \
	    "$prog" -1 "$1" "$2" "$3" >/dev/null 2>"$tmp/log" ||
	    { cat "$tmp/log" >&2; exit 1; }
	awk '/^summary:/ { s += $2 } END { print s }' "$tmp"/cg.*
}

echo '```'
printf '%-8s %-6s %14s %8s\n' scenario impl 'Ir/message' ratio
for s in pipe64:20000 fd1:4000 pp:4000; do
	scen=${s%%:*}
	n=${s#*:}
	for impl in raw chan; do
		a=$(ir "$scen" "$impl" "$n")
		b=$(ir "$scen" "$impl" $((2 * n)))
		per=$(( (b - a) / n ))
		if [ "$impl" = raw ]; then
			rawper=$per
		fi
		awk -v s="$scen" -v i="$impl" -v p="$per" -v r="$rawper" \
		    'BEGIN { printf "%-8s %-6s %14d %7.2fx\n", s, i, p, p / r }'
	done
done
echo '```'
echo '(callgrind, user-space instructions of sender and receiver per message;'
echo ' pp: per round trip; difference of a 2N and an N run, divided by N)'
