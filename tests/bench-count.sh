#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-count.sh - system calls, user-space instructions and heap
# allocations per operation of each bench-perf scenario and implementation
# (raw, textbook, tryfirst, rcvtimeo, libsockx, libsockx-kernel), client
# and server together, both on CPU 0.
#
# Usage, directly (from the source tree, after a build):
#   tests/bench-count.sh build/tests/bench-perf [STRACE]
# As a meson benchmark: meson test -C build --benchmark -v syscalls
# Environment: BENCH_COUNT_SCENARIOS="pp-unix ..." (default all),
#   BENCH_COUNT_N1, BENCH_COUNT_N2 (strace: 300, 2300 operations),
#   BENCH_COUNT_PERF_N1, BENCH_COUNT_PERF_N2 (perf: 1000, 6000),
#   BENCH_COUNT_PERF=no to skip the perf counts,
#   BENCH_COUNT_CALLGRIND=no to skip the instruction counts, =only to make
#   only them; BENCH_COUNT_CG_N1, BENCH_COUNT_CG_N2 (callgrind: 200, 1200),
#   BENCH_COUNT_IMPLS="raw ..." (default all).
#
# Every scenario and implementation runs twice under strace -f -c, with N1
# and N2 operations and no warm-up; the difference of the two counts over
# N2 - N1 leaves out everything the runs share (start, setup, fork, exit).
# strace stops the processes at every system call, which changes their
# timing: calls whose number depends on it (a try that fails with EAGAIN
# before a wait, a partial write) are counted as such a slow run makes
# them.  So where perf(1) can count the kernel's syscall tracepoints (root,
# or kernel.perf_event_paranoid -1), the same is counted again under perf
# stat, at full speed.  "(n)" after a count: n of those calls failed (for
# these calls EAGAIN, or EINPROGRESS for a connect).  Then libsockx is
# checked against the textbook select-then-call code, which it must never
# exceed, the system calls libsockx makes that raw does not are listed, and
# the heap allocations per operation are shown.
#
# User-space instructions: every scenario and implementation runs twice
# more under valgrind --tool=callgrind (which follows the forked server;
# one output file per process), with CG_N1 and CG_N2 operations; the
# instructions of both processes are summed (callgrind's totals), and the
# difference over CG_N2 - CG_N1 is the cost of one operation without
# start, setup, fork and exit.  Instructions do not depend on other work
# on the machine (only where timing decides whether a try fails first).
# The kernel's instructions are not counted.  Prints figures and asserts
# nothing.
set -eu

perf_prog=${1:?usage: bench-count.sh BENCH-PERF [STRACE]}
strace=${2:-strace}
n1=${BENCH_COUNT_N1:-300}
n2=${BENCH_COUNT_N2:-2300}
pn1=${BENCH_COUNT_PERF_N1:-1000}
pn2=${BENCH_COUNT_PERF_N2:-6000}
all="pp-unix pp-tcp stream-unix fdpass-unix connect-unix connect-tcp"
scens=${BENCH_COUNT_SCENARIOS:-$all}
impls=${BENCH_COUNT_IMPLS:-raw textbook tryfirst rcvtimeo libsockx libsockx-kernel}
cg=${BENCH_COUNT_CALLGRIND:-yes}
cn1=${BENCH_COUNT_CG_N1:-200}
cn2=${BENCH_COUNT_CG_N2:-1200}
# The calls perf counts one by one, those whose number depends on timing
# (the rest only in the total, as "(other)"; strace names them all), and
# those of them whose failures it counts: every tracepoint costs perf stat
# about 40 ms to set up.
names="read write recvmsg sendmsg pselect6 poll ppoll accept4 clock_nanosleep"
fallible="read write recvmsg sendmsg accept4"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/strace" "$tmp/perf" "$tmp/cg"

# strace_count SCENARIO IMPL N: "name calls failed" lines in
# $tmp/strace/SCENARIO.IMPL.N, bench-perf's record in ....out
strace_count() {
	f=$tmp/strace/$1.$2.$3
	"$strace" -f -c -o "$f.strace" "$perf_prog" -p same -r 1 -W -n "$3" \
	    -o "$1" -i "$2" >"$f.out"
	awk '$1 ~ /^[0-9.]+$/ && $NF != "total" {
		print $NF, $4, NF == 6 ? $5 : 0
	}' "$f.strace" >"$f"
}

# perf_count SCENARIO IMPL N: the same from perf stat's tracepoint counts;
# "total" is every system call.
perf_count() {
	f=$tmp/perf/$1.$2.$3
	# shellcheck disable=SC2086
	perf stat -x, -o "$f.perf" $perf_events "$perf_prog" -p same -r 1 -W \
	    -n "$3" -o "$1" -i "$2" >"$f.out"
	awk -F, '$1 ~ /^[0-9]+$/ {
		ev = $3
		if (ev == "raw_syscalls:sys_enter") { print "total", $1, 0; next }
		name = ev; sub(/^syscalls:sys_(enter|exit)_/, "", name)
		if (ev ~ /sys_enter_/) calls[name] = $1
		else failed[name] = $1
	}
	END { for (k in calls) print k, calls[k], failed[k] + 0 }' \
	    "$f.perf" >"$f"
}

# perop DIR SCENARIO IMPL N1 N2: "name calls/op failed/op" of the calls
# made per operation, into DIR/SCENARIO.IMPL.perop
perop() {
	awk -v d=$(($5 - $4)) '
	FNR == NR { c1[$1] = $2; e1[$1] = $3; all[$1] = 1; next }
	{ c2[$1] = $2; e2[$1] = $3; all[$1] = 1 }
	END {
		for (k in all) {
			c = (c2[k] - c1[k]) / d
			e = (e2[k] - e1[k]) / d
			if (c >= 0.005 || c <= -0.005)
				printf "%s %.2f %.2f\n", k, c, e
		}
	}' "$1/$2.$3.$4" "$1/$2.$3.$5" | sort >"$1/$2.$3.perop"
	if [ "$1" = "$tmp/perf" ]; then
		# The calls not counted one by one.
		awk '$1 == "total" { t = $2; next } { n += $2 }
		END { if (t - n >= 0.005) printf "(other) %.2f 0.00\n", t - n }' \
		    "$1/$2.$3.perop" >"$1/$2.$3.other"
		grep -v '^total ' "$1/$2.$3.perop" | cat - "$1/$2.$3.other" \
		    >"$1/$2.$3.tmp"
		mv "$1/$2.$3.tmp" "$1/$2.$3.perop"
	fi
}

# report DIR TITLE: the tables of one way of counting.
report() {
	d=$1
	echo
	echo "== $2: system calls per operation, client and server together"
	printf '%-13s' scenario
	for i in $impls; do printf ' %16s' "$i"; done
	printf '   %s\n' "never more than textbook?"
	for s in $scens; do
		printf '%-13s' "$s"
		for i in $impls; do
			t=$(awk '{ n += $2 } END { printf "%.2f", n }' \
			    "$d/$s.$i.perop")
			eval "tot_$(echo "$i" | tr - _)=\$t"
			printf ' %16s' "$t"
		done
		# shellcheck disable=SC2154
		awk -v l="$tot_libsockx" -v k="$tot_libsockx_kernel" \
		    -v t="$tot_textbook" 'BEGIN {
			printf "   libsockx %s", l <= t + 0.005 ? "yes" : "NO"
			printf ", kernel mode %s\n", \
			    k <= t + 0.005 ? "yes" : "NO"
		}'
	done

	echo
	echo "== $2: per system call and operation ((n): n failed)"
	for s in $scens; do
		echo "-- $s"
		printf '  %-16s' syscall
		for i in $impls; do printf ' %16s' "$i"; done
		printf '\n'
		cat "$d/$s".*.perop | awk '{ print $1 }' | sort -u |
		while read -r name; do
			printf '  %-16s' "$name"
			for i in $impls; do
				cell=$(awk -v n="$name" '$1 == n {
					printf "%s", $2
					if ($3 > 0.005) printf " (%s)", $3
				}' "$d/$s.$i.perop")
				printf ' %16s' "${cell:--}"
			done
			printf '\n'
		done
	done

	echo
	echo "== $2: what libsockx (default mode) calls per operation that" \
	    "raw does not"
	echo "   (+n: n more calls than raw, -n: n fewer; (n): n of them failed)"
	for s in $scens; do
		diff=$(awk '
		FNR == NR { raw[$1] = $2; all[$1] = 1; next }
		{ lib[$1] = $2; err[$1] = $3; all[$1] = 1 }
		END {
			for (k in all) {
				x = lib[k] - raw[k]
				if (x < 0.005 && x > -0.005)
					continue
				printf "%.2f %+.2f %s", -x, x, k
				if (x > 0 && err[k] > 0.005)
					printf " (%.2f)", err[k]
				printf "\n"
			}
		}' "$d/$s.raw.perop" "$d/$s.libsockx.perop" | sort -n |
		    cut -d' ' -f2- |
		    awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $0 }')
		printf '%-13s %s\n' "$s" "${diff:-nothing}"
	done
}

# cg_count SCENARIO IMPL N: the user-space instructions of both processes
# (callgrind's totals, summed over its output files) into
# $tmp/cg/SCENARIO.IMPL.N
cg_count() {
	d=$tmp/cg/$1.$2.$3.d
	mkdir "$d"
	valgrind --tool=callgrind --callgrind-out-file="$d/cg.%p" \
	    --log-file="$d/log.%p" "$perf_prog" -p same -r 1 -W -n "$3" \
	    -o "$1" -i "$2" >"$d/out"
	awk '$1 == "totals:" || $1 == "summary:" { t[FILENAME] = $2 }
	END { for (f in t) n += t[f]; print n }' "$d"/cg.* \
	    >"$tmp/cg/$1.$2.$3"
}

# cg_report: instructions per operation, and the ratios the goals name.
cg_report() {
	echo
	echo "== callgrind: user-space instructions per operation, client and" \
	    "server together ($cn2 - $cn1 operations)"
	printf '%-13s' scenario
	for i in $impls; do printf ' %15s' "$i"; done
	printf '\n'
	for s in $scens; do
		printf '%-13s' "$s"
		for i in $impls; do
			v=$(awk -v d=$((cn2 - cn1)) 'FNR == 1 && NR == 1 { a = $1 }
			    NR == 2 { printf "%.0f", ($1 - a) / d }' \
			    "$tmp/cg/$s.$i.$cn1" "$tmp/cg/$s.$i.$cn2")
			printf ' %15s' "$v"
			echo "$v" >"$tmp/cg/$s.$i.perop"
		done
		printf '\n'
	done
	echo
	echo "== callgrind: ratios (libsockx / tryfirst, kernel mode /" \
	    "rcvtimeo)"
	for s in $scens; do
		[ -f "$tmp/cg/$s.libsockx.perop" ] &&
		    [ -f "$tmp/cg/$s.tryfirst.perop" ] || continue
		l=$(cat "$tmp/cg/$s.libsockx.perop")
		t=$(cat "$tmp/cg/$s.tryfirst.perop")
		k=$(cat "$tmp/cg/$s.libsockx-kernel.perop" 2>/dev/null || echo 0)
		r=$(cat "$tmp/cg/$s.rcvtimeo.perop" 2>/dev/null || echo 0)
		awk -v s="$s" -v l="$l" -v t="$t" -v k="$k" -v r="$r" 'BEGIN {
			printf "%-13s libsockx %.2fx tryfirst", s, t ? l / t : 0
			if (r > 0)
				printf ", libsockx-kernel %.2fx rcvtimeo", k / r
			printf "\n"
		}'
	done
}

echo "bench-count: $(uname -sr); client and server on CPU 0"

if [ "$cg" = only ]; then
	for s in $scens; do
		for i in $impls; do
			cg_count "$s" "$i" "$cn1"
			cg_count "$s" "$i" "$cn2"
		done
	done
	cg_report
	exit 0
fi

# strace, as asked for and available everywhere.
for s in $scens; do
	for i in $impls; do
		strace_count "$s" "$i" "$n1"
		strace_count "$s" "$i" "$n2"
		perop "$tmp/strace" "$s" "$i" "$n1" "$n2"
	done
done
report "$tmp/strace" "strace -f -c, $n2 - $n1 operations"

# perf, where it may count the tracepoints.
use_perf=no
if [ "${BENCH_COUNT_PERF:-yes}" != no ] &&
    command -v perf >/dev/null 2>&1 &&
    perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
	use_perf=yes
	perf_events="-e raw_syscalls:sys_enter"
	for n in $names; do
		perf_events="$perf_events -e syscalls:sys_enter_$n"
		case " $fallible " in *" $n "*)
			perf_events="$perf_events -e syscalls:sys_exit_$n"
			perf_events="$perf_events --filter ret<0"
		esac
	done
	# shellcheck disable=SC2086
	perf stat -o /dev/null $perf_events true >/dev/null 2>&1 ||
	    use_perf=no

fi
if [ "$use_perf" = yes ]; then
	for s in $scens; do
		for i in $impls; do
			perf_count "$s" "$i" "$pn1"
			perf_count "$s" "$i" "$pn2"
			perop "$tmp/perf" "$s" "$i" "$pn1" "$pn2"
		done
	done
	report "$tmp/perf" "perf stat, full speed, $pn2 - $pn1 operations"
else
	echo
	echo "== perf stat: not run (perf missing, or not allowed to count" \
	    "tracepoints: needs root or kernel.perf_event_paranoid=-1)"
fi

if [ "$cg" != no ] && command -v valgrind >/dev/null 2>&1; then
	for s in $scens; do
		for i in $impls; do
			cg_count "$s" "$i" "$cn1"
			cg_count "$s" "$i" "$cn2"
		done
	done
	cg_report
fi

echo
echo "== heap allocations per operation (the $n2-operation runs)"
printf '%-13s' scenario
for i in $impls; do printf ' %22s' "$i"; done
printf '\n'
for s in $scens; do
	printf '%-13s' "$s"
	for i in $impls; do
		cell=$(awk '$1 == "R" {
			if ($9 < 0) { printf "n/a"; exit }
			calls = $11 + $16
			printf "%.2f/op %.2f/I/O call", \
			    $9 / $8 + $14 / $13, calls ? ($12 + $17) / calls : 0
		}' "$tmp/strace/$s.$i.$n2.out")
		printf ' %22s' "$cell"
	done
	printf '\n'
done
echo "(/op: malloc, calloc and realloc calls per operation, client and" \
    "server, handles of"
echo " connects included; /I/O call: inside read, write and descriptor" \
    "passing calls on existing handles)"
