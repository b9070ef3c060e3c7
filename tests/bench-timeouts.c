/* SPDX-License-Identifier: MIT */
/*
 * bench-timeouts.c - how exactly and how cheaply libsockx waits: for timed
 * reads of 50, 300 and 1000 ms on an idle socket and for connects against
 * a full unix backlog, the time actually taken minus the time asked
 * (median, min and max of 5) and the calling thread's CPU time as a share
 * of the wait.  With an argument N it instead does N one-byte reads that
 * find data ready, for counting system calls per read with strace -c.
 * Prints a table; asserts nothing (the tests assert the bounds).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sockx.h>

#define RUNS 5

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
thread_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
report(const char *what, int ms, double *late, double *cpu)
{
	qsort(late, RUNS, sizeof(*late), cmp);
	qsort(cpu, RUNS, sizeof(*cpu), cmp);
	printf("%-22s %5d ms   %+7.3f %+7.3f %+7.3f ms   %6.3f%%\n", what, ms,
	    late[RUNS / 2] * 1e3, late[0] * 1e3, late[RUNS - 1] * 1e3,
	    cpu[RUNS / 2] * 100);
}

static int
measure_read(int ms)
{
	double late[RUNS], cpu[RUNS], t0, c0;
	sockx *a, *b;
	char c;
	int i;

	if (sockx_pair(&a, &b, SOCK_STREAM) < 0)
		return -1;
	for (i = 0; i < RUNS; i++) {
		c0 = thread_cpu();
		t0 = now();
		if (sockx_read(a, &c, 1, ms) != -ETIMEDOUT)
			return -1;
		late[i] = now() - t0 - ms / 1e3;
		cpu[i] = (thread_cpu() - c0) / (now() - t0);
	}
	report("read, idle socket", ms, late, cpu);
	sockx_close(a);
	sockx_close(b);
	return 0;
}

static int
measure_backlog(int ms)
{
	double late[RUNS], cpu[RUNS], t0, c0;
	char name[64];
	sockx *l, *q[8], *c;
	int i, n;

	snprintf(name, sizeof(name), "@sockx-bench-%ld", (long)getpid());
	if (sockx_listen(&l, name, 1, 0, 0) < 0)
		return -1;
	for (n = 0; n < 8 && sockx_connect(&q[n], name, 0) == 0; n++)
		;
	for (i = 0; i < RUNS; i++) {
		c0 = thread_cpu();
		t0 = now();
		if (sockx_connect(&c, name, ms) != -ETIMEDOUT)
			return -1;
		late[i] = now() - t0 - ms / 1e3;
		cpu[i] = (thread_cpu() - c0) / (now() - t0);
	}
	report("connect, full backlog", ms, late, cpu);
	while (n > 0)
		sockx_close(q[--n]);
	sockx_close(l);
	return 0;
}

/* N reads that find their byte waiting: for strace -c. */
static int
read_loop(long n)
{
	sockx *a, *b;
	char c = 'x';
	long i;

	if (sockx_pair(&a, &b, SOCK_DGRAM) < 0)
		return 1;
	for (i = 0; i < n; i++) {
		if (send(sockx_fd(b), &c, 1, 0) != 1 ||
		    sockx_read(a, &c, 1, 1000) != 1)
			return 1;
	}
	sockx_close(a);
	sockx_close(b);
	return 0;
}

int
main(int argc, char **argv)
{
	static const int ms[] = { 50, 300, 1000 };
	size_t i;

	if (argc > 1)
		return read_loop(atol(argv[1]));
	printf("%-22s %8s   %-31s   %s\n", "operation", "timeout",
	    "late by: median   min     max", "CPU");
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		if (measure_read(ms[i]) < 0 || measure_backlog(ms[i]) < 0) {
			fprintf(stderr, "timeouts: unexpected result\n");
			return 1;
		}
	return 0;
}
