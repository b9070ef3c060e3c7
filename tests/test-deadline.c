/* SPDX-License-Identifier: MIT */
/*
 * test-deadline.c - the deadline and the one wait primitive, built once per
 * backend (test-deadline-select, test-deadline-poll) whatever the build
 * option chose: readiness, exact timeouts, resumption after signals, no CPU
 * while waiting, descriptors far above FD_SETSIZE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "internal.h"
#include "harness.h"

static int64_t
elapsed_ms(int64_t since_ns)
{
	return (sx_now_ns() - since_ns) / 1000000;
}

static void
make_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
}

static void
close_pair(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

/* Waits on one descriptor; returns sx_wait's result, revents in *rev. */
static int
wait_one(int fd, int events, int timeout_ms, int *rev)
{
	struct sx_waitfd w = { fd, events, -1 };
	struct sx_deadline dl;
	int r;

	ck_assert_int_eq(sx_deadline_start(&dl, timeout_ms), 0);
	r = sx_wait(&w, 1, &dl);
	if (rev != NULL)
		*rev = w.revents;
	return r;
}

START_TEST(deadline_backend_is_the_one_built)
{
	ck_assert_str_eq(sx_wait_backend, EXPECT_BACKEND);
}
END_TEST

START_TEST(deadline_rejects_negative_timeouts)
{
	struct sx_deadline dl = { 7 };

	ck_assert_int_eq(sx_deadline_start(&dl, -2), -EINVAL);
	ck_assert_int_eq(sx_deadline_start(&dl, INT_MIN), -EINVAL);
	ck_assert_int_eq(sx_deadline_start(&dl, -1), 0);
	ck_assert(dl.end_ns == INT64_MAX);
	ck_assert(sx_deadline_left_ns(&dl) == INT64_MAX);
	ck_assert_int_eq(sx_deadline_start(&dl, 0), 0);
	ck_assert(sx_deadline_expired(&dl));
	ck_assert_int_eq(sx_deadline_start(&dl, INT_MAX), 0);
	ck_assert(sx_deadline_left_ns(&dl) > (int64_t)(INT_MAX - 1000) *
	    1000000);
}
END_TEST

START_TEST(wait_reports_ready_at_once)
{
	int sv[2], rev;
	int64_t t0 = sx_now_ns();

	make_pair(sv);
	ck_assert_int_eq(wait_one(sv[0], SOCKX_WRITABLE, 0, &rev), 1);
	ck_assert_int_eq(rev, SOCKX_WRITABLE);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	ck_assert_int_eq(wait_one(sv[0], SOCKX_READABLE | SOCKX_WRITABLE,
	    -1, &rev), 1);
	ck_assert_int_eq(rev, SOCKX_READABLE | SOCKX_WRITABLE);
	ck_assert_int_eq(wait_one(sv[0], SOCKX_READABLE, 0, &rev), 1);
	ck_assert_int_eq(rev, SOCKX_READABLE);
	ck_assert_int_lt(elapsed_ms(t0), 100);
	close_pair(sv);
}
END_TEST

START_TEST(wait_zero_timeout_tries_once)
{
	int sv[2];
	int64_t t0;

	make_pair(sv);
	t0 = sx_now_ns();
	ck_assert_int_eq(wait_one(sv[0], SOCKX_READABLE, 0, NULL), -ETIMEDOUT);
	ck_assert_int_lt(elapsed_ms(t0), 50);
	close_pair(sv);
}
END_TEST

START_TEST(wait_times_out_at_the_deadline)
{
	int sv[2];
	int64_t t0, ms;

	make_pair(sv);
	t0 = sx_now_ns();
	ck_assert_int_eq(wait_one(sv[0], SOCKX_READABLE, 200, NULL),
	    -ETIMEDOUT);
	ms = elapsed_ms(t0);
	ck_assert_int_ge(ms, 200);
	ck_assert_int_lt(ms, 400);
	close_pair(sv);
}
END_TEST

START_TEST(wait_wakes_on_hangup)
{
	int sv[2], rev;

	make_pair(sv);
	close(sv[1]);
	ck_assert_int_eq(wait_one(sv[0], SOCKX_READABLE, 1000, &rev), 1);
	ck_assert_int_eq(rev, SOCKX_READABLE);
	close(sv[0]);
}
END_TEST

START_TEST(wait_rejects_bad_descriptors)
{
	struct sx_waitfd w = { -1, SOCKX_READABLE, 0 };
	struct sx_deadline dl;
	int sv[2];

	sx_deadline_start(&dl, 100);
	ck_assert_int_eq(sx_wait(&w, 1, &dl), -EBADF);
	ck_assert_int_eq(sx_wait(&w, 0, &dl), -EINVAL);
	make_pair(sv);
	close_pair(sv);
	w.fd = sv[0];		/* closed now */
	ck_assert_int_eq(sx_wait(&w, 1, &dl), -EBADF);
}
END_TEST

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * A 1 ms SIGALRM storm without SA_RESTART: a 300 ms wait still ends with
 * -ETIMEDOUT 300 ms after it started, not earlier and not 300 ms after the
 * last signal.
 */
START_TEST(wait_resumes_after_signals_with_time_left)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } }, off;
	struct sigaction sa;
	int sv[2];
	int64_t t0, ms;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	make_pair(sv);
	alarms = 0;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	t0 = sx_now_ns();
	ck_assert_int_eq(wait_one(sv[0], SOCKX_READABLE, 300, NULL),
	    -ETIMEDOUT);
	ms = elapsed_ms(t0);
	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
	ck_assert_int_ge(ms, 300);
	ck_assert_int_lt(ms, 450);
	ck_assert_int_gt(alarms, 20);
	close_pair(sv);
}
END_TEST

static int64_t
thread_cpu_us(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_THREAD, &ru), 0);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* Sleeping, not spinning: under 10% of a CPU during a 300 ms wait. */
START_TEST(wait_uses_no_cpu_while_waiting)
{
	int sv[2];
	int64_t cpu;

	make_pair(sv);
	cpu = thread_cpu_us();
	ck_assert_int_eq(wait_one(sv[0], SOCKX_READABLE, 300, NULL),
	    -ETIMEDOUT);
	cpu = thread_cpu_us() - cpu;
	ck_assert_msg(cpu < 30000, "used %lld us of CPU in 300 ms",
	    (long long)cpu);
	close_pair(sv);
}
END_TEST

/*
 * Descriptors above FD_SETSIZE (1600), and above what the select backend
 * keeps on its stack (17000): no overflow, no fortify abort, right answers.
 */
START_TEST(wait_works_far_above_fd_setsize)
{
	static const int high[] = { FD_SETSIZE, 1600, 17000 };
	struct sx_waitfd w[2];
	struct sx_deadline dl;
	struct rlimit rl;
	int sv[2], a, b, rev;
	size_t i;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_msg(rl.rlim_cur > 17001,
	    "RLIMIT_NOFILE hard limit %llu is too low for this test",
	    (unsigned long long)rl.rlim_cur);
	for (i = 0; i < sizeof(high) / sizeof(high[0]); i++) {
		make_pair(sv);
		a = dup3(sv[0], high[i], O_CLOEXEC);
		b = dup3(sv[1], high[i] + 1, O_CLOEXEC);
		ck_assert_int_eq(a, high[i]);
		ck_assert_int_eq(b, high[i] + 1);
		close_pair(sv);
		ck_assert_int_eq(wait_one(a, SOCKX_READABLE, 50, NULL),
		    -ETIMEDOUT);
		ck_assert_int_eq(write(b, "x", 1), 1);
		ck_assert_int_eq(wait_one(a, SOCKX_READABLE, 1000, &rev), 1);
		ck_assert_int_eq(rev, SOCKX_READABLE);
		/* A low and a high descriptor in one wait. */
		w[0] = (struct sx_waitfd){ 0, SOCKX_READABLE, 0 };
		w[1] = (struct sx_waitfd){ a, SOCKX_READABLE, 0 };
		make_pair(sv);
		w[0].fd = sv[0];
		sx_deadline_start(&dl, 1000);
		ck_assert_int_eq(sx_wait(w, 2, &dl), 1);
		ck_assert_int_eq(w[0].revents, 0);
		ck_assert_int_eq(w[1].revents, SOCKX_READABLE);
		close_pair(sv);
		close(a);
		close(b);
	}
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("deadline-" EXPECT_BACKEND);
	TCase *tc = sx_tcase("wait", 20);

	tcase_add_test(tc, deadline_backend_is_the_one_built);
	tcase_add_test(tc, deadline_rejects_negative_timeouts);
	tcase_add_test(tc, wait_reports_ready_at_once);
	tcase_add_test(tc, wait_zero_timeout_tries_once);
	tcase_add_test(tc, wait_times_out_at_the_deadline);
	tcase_add_test(tc, wait_wakes_on_hangup);
	tcase_add_test(tc, wait_rejects_bad_descriptors);
	tcase_add_test(tc, wait_resumes_after_signals_with_time_left);
	tcase_add_test(tc, wait_uses_no_cpu_while_waiting);
	tcase_add_test(tc, wait_works_far_above_fd_setsize);
	suite_add_tcase(s, tc);
	return s;
}
