#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-table.sh - run bench-perf with the client and the server on the
# same CPU, then on two CPUs, and print per pinning a table of the median
# time per operation (MB/s for streaming) of raw system calls, textbook
# select-then-call, the hand-written floors (try-first + poll, and
# SO_RCVTIMEO code), libsockx and libsockx in kernel-timeout mode, each
# with its ratio to raw, and the ratios of libsockx to the floor of its
# mode; then the same for the CPU time per operation, and the heap
# allocations.
#
# Usage, directly (from the source tree, after a build):
#   meson setup build && ninja -C build
#   tests/bench-table.sh build/tests/bench-perf
#   tests/bench-table.sh build/tests/bench-perf -r 15 -o pp-unix,pp-tcp
# Arguments after the program go to bench-perf (-r RUNS, -s SCALE,
# -o SCENARIO,..., -i IMPL,...; see the top of bench-perf.c).
# Environment:
#   BENCH_PIN="same two"   the pinnings to run (default both)
#   BENCH_RAW=FILE         also append bench-perf's per-run records to FILE
# As a meson benchmark: meson test -C build --benchmark -v perf
#
# Ratios are of the medians: time / raw time (lower is better); for
# streaming, throughput / raw throughput (higher is better).  "±" is the
# median absolute deviation of the runs in percent of their median (a run
# that other work on the machine slowed down does not move it).  The goals
# (from "a user who adds timeouts with libsockx must not pay for them")
# are judged for libsockx's default mode with both processes on one CPU,
# on the time and again on the CPU time (streaming: raw's CPU time per
# 64 KiB over libsockx's, the throughput the CPU time allows).  Other work
# on the machine shows up as spread; the line under each time table says
# how much CPU time other processes took meanwhile (and the hypervisor, as
# steal), and the CPU-time table is the less disturbed one.
# Prints figures and asserts nothing.
set -eu

perf=${1:?usage: bench-table.sh BENCH-PERF [bench-perf options]}
shift
pins=${BENCH_PIN:-same two}
ncpu=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "bench-perf: $(uname -sr), $ncpu CPUs online${cpu:+ ($cpu)}"

# table FILE TITLE METRIC: METRIC "time" (ns/op, MB/s for streaming) or
# "cpu" (CPU ns/op of client and server).
table() {
	awk -v title="$2" -v metric="$3" '
	BEGIN {
		nimpl = split("raw textbook tryfirst rcvtimeo libsockx " \
		    "libsockx-kernel", impls, " ")
		# The goals of issue 16 (pp-tcp: the 1.0 goal).
		goal["pp-unix"] = 1.08; goal["pp-tcp"] = 1.08
		goal["stream-unix"] = 0.97; goal["fdpass-unix"] = 1.03
		goal["connect-unix"] = 1.10; goal["connect-tcp"] = 1.10
		judge = title ~ /^same/
	}
	/^# pin/ { sub(/^# pin [a-z]*: /, ""); info = $0 }
	$1 == "R" {
		s = $3; i = $4
		if (!(s in seen)) { seen[s] = 1; order[++ns] = s }
		k = s SUBSEP i
		if (metric == "cpu")
			v = $18
		else
			v = s == "stream-unix" ? $7 : $6
		val[k, ++n[k]] = v
	}
	# The median of the m values in srt[1..m], sorted in place.
	function median(m,   j, l, x) {
		for (j = 2; j <= m; j++) {
			x = srt[j]
			for (l = j - 1; l >= 1 && srt[l] > x; l--)
				srt[l + 1] = srt[l]
			srt[l + 1] = x
		}
		return m % 2 ? srt[(m + 1) / 2] : (srt[m / 2] + srt[m / 2 + 1]) / 2
	}
	# The median of the runs of k into med, their median absolute
	# deviation into mad.
	function stats(k,   j) {
		for (j = 1; j <= n[k]; j++)
			srt[j] = val[k, j]
		med = median(n[k])
		for (j = 1; j <= n[k]; j++)
			srt[j] = val[k, j] > med ? val[k, j] - med : med - val[k, j]
		mad = median(n[k])
	}
	END {
		if (metric == "time")
			printf "\n== %s\n== %s: time per operation, " \
			    "median, ratio to raw\n", info, title
		else
			printf "\n== %s: CPU time (user + system) of " \
			    "client and server per operation\n", title
		printf "%-13s %-6s %16s", "scenario", "unit", "raw"
		for (c = 2; c <= nimpl; c++)
			printf "  %-23s", impls[c]
		if (judge)
			printf "  %s", "libsockx goal"
		printf "\n"
		for (r = 1; r <= ns; r++) {
			s = order[r]
			stream = metric == "time" && s == "stream-unix"
			printf "%-13s %-6s", s, stream ? "MB/s" : \
			    metric == "cpu" ? "cpu ns" : "ns/op"
			base = 0; lratio = -1
			for (c = 1; c <= nimpl; c++) {
				k = s SUBSEP impls[c]
				if (!(k in n)) {
					printf c == 1 ? " %16s" : "  %-23s", "-"
					continue
				}
				stats(k)
				spread = med > 0 ? mad / med * 100 : 0
				if (c == 1) {
					base = med
					printf " %8.0f ±%4.1f%%", med, spread
					continue
				}
				ratio = base > 0 ? med / base : 0
				cell = sprintf("%8.0f %6.3fx ±%4.1f%%", med,
				    ratio, spread)
				printf "  %-23s", cell
				if (impls[c] == "libsockx")
					lratio = ratio
			}
			if (judge && (s in goal) && lratio > 0 && base > 0) {
				# CPU per 64 KiB against a throughput goal:
				# the throughput that CPU time allows.
				if (s == "stream-unix" && !stream)
					lratio = 1 / lratio
				ok = s == "stream-unix" ? lratio >= goal[s] : \
				    lratio <= goal[s]
				printf "  %s %.2f %s", s == "stream-unix" ? \
				    ">=" : "<=", goal[s], ok ? "met" : "MISSED"
				if (s == "stream-unix" && !stream)
					printf " (%.3fx)", lratio
			}
			printf "\n"
		}
		# Against the hand-written floors: the default mode against
		# try-first + poll, kernel mode against SO_RCVTIMEO code
		# (streaming: throughput ratios turned into time ratios).
		printf "%-13s %s\n", "vs floors", "libsockx / tryfirst," \
		    " libsockx-kernel / rcvtimeo (time ratios, lower is better)"
		for (r = 1; r <= ns; r++) {
			s = order[r]
			stream = metric == "time" && s == "stream-unix"
			for (c = 1; c <= nimpl; c++) {
				k = s SUBSEP impls[c]
				m[impls[c]] = 0
				if (k in n) {
					stats(k)
					m[impls[c]] = med
				}
			}
			printf "%-13s", s
			if (m["tryfirst"] > 0 && m["libsockx"] > 0)
				printf " libsockx %.3fx tryfirst", stream ? \
				    m["tryfirst"] / m["libsockx"] : \
				    m["libsockx"] / m["tryfirst"]
			if (m["rcvtimeo"] > 0 && m["libsockx-kernel"] > 0)
				printf ", kernel %.3fx rcvtimeo", stream ? \
				    m["rcvtimeo"] / m["libsockx-kernel"] : \
				    m["libsockx-kernel"] / m["rcvtimeo"]
			printf "\n"
		}
	}' "$1"
}

# allocs FILE...: the allocation tables, over every run.
allocs() {
	awk '
	BEGIN { nimpl = split("raw textbook tryfirst rcvtimeo libsockx " \
	    "libsockx-kernel", impls, " ") }
	$1 == "R" {
		s = $3; i = $4; k = s SUBSEP i
		if (!(s in seen)) { seen[s] = 1; order[++ns] = s }
		if ($9 < 0) { off = 1; next }
		calls = $11 + $16
		io = calls > 0 ? ($12 + $17) / calls : 0
		a = $8 > 0 && $13 > 0 ? $9 / $8 + $14 / $13 : 0
		f = $8 > 0 && $13 > 0 ? $10 / $8 + $15 / $13 : 0
		if (!(k in has) || io > pio[k]) pio[k] = io
		if (!(k in has) || a > pa[k]) pa[k] = a
		if (!(k in has) || f > pf[k]) pf[k] = f
		has[k] = 1
	}
	function row(s, what,   c, k) {
		printf "%-13s", s
		for (c = 1; c <= nimpl; c++) {
			k = s SUBSEP impls[c]
			if (!(k in has))
				printf "  %16s", "-"
			else if (what == "io")
				printf "  %16.2f", pio[k]
			else
				printf "  %16s", sprintf("%.2f / %.2f", \
				    pa[k], pf[k])
		}
		printf "\n"
	}
	function head(c) {
		printf "%-13s", "scenario"
		for (c = 1; c <= nimpl; c++)
			printf "  %16s", impls[c]
		printf "\n"
	}
	END {
		if (off) {
			print "\n== heap allocations: not counted, a " \
			    "sanitizer owns malloc in this build"
			exit
		}
		printf "\n== heap allocations per I/O call on an existing " \
		    "handle (read, write, descriptor\n   passing; " \
		    "malloc, calloc and realloc), worst run, client and " \
		    "server (goal: 0)\n"
		head()
		for (r = 1; r <= ns; r++)
			row(order[r], "io")
		for (r = 1; r <= ns; r++)
			if (order[r] ~ /^connect/)
				nc++
		if (nc == 0)
			exit
		printf "\n== heap allocations / frees per connection " \
		    "(connect, accept, read, close), client\n   and " \
		    "server together, worst run\n"
		head()
		for (r = 1; r <= ns; r++)
			if (order[r] ~ /^connect/)
				row(order[r], "conn")
	}' "$@"
}

# busy: CPU seconds the machine spent busy so far, and stolen ("b s").
busy() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {
		printf "%.2f %.2f\n", ($2 + $3 + $4 + $7 + $8) / hz, $9 / hz
	}' /proc/stat
}

for pin in $pins; do
	case $pin in
	same) title="same CPU" ;;
	two)
		title="two CPUs"
		if [ "$ncpu" -lt 2 ]; then
			printf '\n== %s: skipped, one CPU online\n' "$title"
			continue
		fi
		;;
	*) echo "bench-table.sh: unknown pinning $pin" >&2; exit 2 ;;
	esac
	b0=$(busy)
	t0=$(date +%s.%N)
	"$perf" -p "$pin" "$@" >"$tmp/$pin"
	t1=$(date +%s.%N)
	b1=$(busy)
	table "$tmp/$pin" "$title" time
	awk -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" -v n="$ncpu" '
	$1 == "#" && $2 == "cpu" { ours = $3 }
	END {
		split(b0, x, " "); split(b1, y, " ")
		wall = t1 - t0; others = y[1] - x[1] - ours
		if (others < 0) others = 0
		busy = (others + y[2] - x[2]) / (wall * n) * 100
		printf "(%.0f s; meanwhile other processes used %.0f%% of " \
		    "the %d CPUs, steal %.0f%%)\n", wall,
		    others / (wall * n) * 100, n,
		    (y[2] - x[2]) / (wall * n) * 100
		if (busy > 10)
			print "(a busy machine: trust the CPU-time table " \
			    "below more, or run again on an idle one)"
	}' "$tmp/$pin"
	table "$tmp/$pin" "$title" cpu
	[ -z "${BENCH_RAW:-}" ] || cat "$tmp/$pin" >>"$BENCH_RAW"
done
set -- "$tmp"/*
if [ -e "$1" ]; then
	allocs "$@"
fi
