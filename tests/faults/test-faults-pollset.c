/* SPDX-License-Identifier: MIT */
/*
 * test-faults-pollset.c - poll sets (sockx_poll_*) under the faults the
 * calls they make can meet, injected by the LD_PRELOAD shim faultinject.c
 * into libsockx's own calls only (faultinject.h), and the system calls
 * each operation makes, counted by the same shim.
 *
 * Each failure of epoll_create1, eventfd, epoll_ctl, epoll_wait, the
 * eventfd's read and write, and of the allocations gives exactly its
 * negative errno (errno set), leaves out-parameters and the set as they
 * were (a failed add makes no member; a failed mod keeps the events and
 * the deadline; a failed wait consumes no expiry and no wake-up), and
 * leaks no descriptor (the fixture, and a count around each call) and no
 * block (the shim's count where it sees frees; valgrind's and ASan's leak
 * checks elsewhere).  EINTR from epoll_wait is never returned: the wait
 * resumes with the time left, without spinning (thread CPU time bounded)
 * and without ending early.  A mod that keeps the events makes no call to
 * any function the shim interposes, epoll_ctl included; in a forked child,
 * closing a member and freeing the set make no epoll_ctl.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#include "sxf-shim.h"
#include "sxtest.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The slack CPU-time bounds get: CK_TIMEOUT_MULTIPLIER (valgrind: 10). */
static double
slowdown(void)
{
	const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
	double v = m != NULL ? atof(m) : 1.0;

	return v >= 1.0 ? v : 1.0;
}

/* Every function the shim interposes (faultinject.c, fns[]). */
static const char *const all_fns[] = {
	"socket", "socketpair", "connect", "accept4", "bind", "listen",
	"recvmsg", "sendmsg", "getsockopt", "setsockopt", "getsockname",
	"getpeername", "shutdown", "fcntl", "close", "select", "poll",
	"clock_nanosleep", "malloc", "calloc", "strdup", "realloc", "open",
	"openat", "flock", "fchmod", "fchmodat", "chmod", "lstat", "unlink",
	"ioctl", "epoll_create1", "epoll_ctl", "epoll_wait", "eventfd", "read",
	"write",
};

/* The total number of interposed calls in the last window. */
static unsigned
all_calls(char *names, size_t size)
{
	unsigned n = 0, c;
	size_t i, off = 0;

	names[0] = '\0';
	for (i = 0; i < NELEM(all_fns); i++) {
		c = sxf.calls(all_fns[i]);
		n += c;
		if (c > 0 && off < size)
			off += (size_t)snprintf(names + off, size - off,
			    " %s x%u", all_fns[i], c);
	}
	return n;
}

static sockx_poll *
new_set(void)
{
	sockx_poll *p;

	ck_assert_int_eq(sockx_poll_new(&p, 0), 0);
	return p;
}

/* ---------------------------------------------------------------- */
/* sockx_poll_new                                                    */
/* ---------------------------------------------------------------- */

static const struct {
	const char *fn;
	unsigned nth;
	int err;
} new_faults[] = {
	{ "calloc", 1, ENOMEM },
	{ "epoll_create1", 1, EMFILE },
	{ "epoll_create1", 1, ENFILE },
	{ "epoll_create1", 1, ENOMEM },
	{ "eventfd", 1, EMFILE },
	{ "eventfd", 1, ENFILE },
	{ "eventfd", 1, ENODEV },
	{ "epoll_ctl", 1, ENOMEM },
	{ "epoll_ctl", 1, ENOSPC },
};

START_TEST(faults_pollset_new_fails_cleanly)
{
	sockx_poll *p = (sockx_poll *)&p;
	int before, r;
	unsigned fired;

	sxf_load();
	if (sxf.interposed(new_faults[_i].fn) != 1) {
		printf("# skipped: %s is not the shim's here (a sanitizer's "
		    "or valgrind's)\n", new_faults[_i].fn);
		return;
	}
	before = sxt_count_fds();
	sxf.begin();
	ck_assert_int_eq(sxf.add(new_faults[_i].fn, new_faults[_i].nth, 1,
	    SXF_FAIL, new_faults[_i].err), 0);
	errno = 0;
	r = sockx_poll_new(&p, 0);
	fired = sxf.end();
	ck_assert_uint_eq(fired, 1);
	ck_assert_int_eq(r, -new_faults[_i].err);
	ck_assert_int_eq(errno, new_faults[_i].err);
	ck_assert_ptr_eq(p, (sockx_poll *)&p);
	ck_assert_int_eq(sxt_count_fds(), before);
	sxf_check_no_live_blocks();
	/* And a clean run after it works. */
	p = new_set();
	sockx_poll_free(p);
}
END_TEST

/* ---------------------------------------------------------------- */
/* add, mod, del                                                     */
/* ---------------------------------------------------------------- */

static const int ctl_errs[] = { ENOMEM, ENOSPC, EPERM };

START_TEST(faults_pollset_add_failure_makes_no_member)
{
	sockx_poll *p = new_set();
	struct sockx_event ev[2];
	sockx *a, *b;
	int err = ctl_errs[_i], r;

	sxf_load();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	sxf.begin();
	ck_assert_int_eq(sxf.add("epoll_ctl", 1, 1, SXF_FAIL, err), 0);
	errno = 0;
	r = sockx_poll_add(p, a, SOCKX_WRITABLE, 0, NULL);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(r, -err);
	ck_assert_int_eq(errno, err);
	/* Not a member, no deadline, no event; it can be added again. */
	CHECK_ERR(sockx_poll_mod(p, a, SOCKX_WRITABLE, -1), ENOENT);
	CHECK_ERR(sockx_poll_wait(p, ev, 2, 0), ETIMEDOUT);
	ck_assert_int_eq(sockx_poll_add(p, a, SOCKX_WRITABLE, 0, NULL), 0);
	ck_assert_int_eq(sockx_poll_wait(p, ev, 2, 0), 1);
	ck_assert_int_eq(ev[0].events, SOCKX_WRITABLE | SOCKX_EXPIRED);
	sockx_poll_free(p);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

START_TEST(faults_pollset_mod_failure_keeps_the_member_as_it_was)
{
	sockx_poll *p = new_set();
	struct sockx_event ev[2];
	sockx *a, *b;
	int err = ctl_errs[_i], r;

	sxf_load();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	ck_assert_int_eq(sockx_poll_add(p, a, SOCKX_WRITABLE, -1, NULL), 0);
	sxf.begin();
	ck_assert_int_eq(sxf.add("epoll_ctl", 1, 1, SXF_FAIL, err), 0);
	errno = 0;
	r = sockx_poll_mod(p, a, SOCKX_READABLE, 0);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(r, -err);
	ck_assert_int_eq(errno, err);
	/* Still writable-only, still without a deadline. */
	ck_assert_int_eq(sockx_poll_wait(p, ev, 2, 0), 1);
	ck_assert_int_eq(ev[0].events, SOCKX_WRITABLE);
	/* A failed del keeps it too; a failed close still removes it. */
	sxf.begin();
	ck_assert_int_eq(sxf.add("epoll_ctl", 1, 1, SXF_FAIL, err), 0);
	r = sockx_poll_del(p, a);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(r, -err);
	ck_assert_int_eq(sockx_poll_wait(p, ev, 2, 0), 1);
	ck_assert_ptr_eq(ev[0].s, a);
	sxf.begin();
	ck_assert_int_eq(sxf.add("epoll_ctl", 1, 1, SXF_FAIL, err), 0);
	ck_assert_int_eq(sockx_close(a), 0);
	sxf.end();
	CHECK_ERR(sockx_poll_wait(p, ev, 2, 0), ETIMEDOUT);
	sockx_poll_free(p);
	sockx_close(b);
}
END_TEST

/*
 * The calls each operation makes: a mod that keeps the events none at
 * all; add, a mod that changes the events, del and closing a member one
 * epoll_ctl each (none with events 0); free none.
 */
START_TEST(faults_pollset_mod_keeping_events_makes_no_system_call)
{
	sockx_poll *p = new_set();
	sockx *a, *b;
	char names[512];

	sxf_load();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	sxf.begin();
	ck_assert_int_eq(sockx_poll_add(p, a, SOCKX_READABLE, 1000, NULL), 0);
	sxf.end();
	ck_assert_uint_eq(sxf.calls("epoll_ctl"), 1);
	ck_assert_uint_eq(sxf.calls("epoll_ctl"), all_calls(names,
	    sizeof(names)) - sxf.calls("malloc") - sxf.calls("calloc"));

	sxf.begin();
	ck_assert_int_eq(sockx_poll_mod(p, a, SOCKX_READABLE, 5000), 0);
	ck_assert_int_eq(sockx_poll_mod(p, a, SOCKX_READABLE, -1), 0);
	ck_assert_int_eq(sockx_poll_mod(p, a, SOCKX_READABLE, 0), 0);
	ck_assert_int_eq(sockx_poll_mod(p, a, SOCKX_READABLE,
	    SOCKX_POLL_KEEP), 0);
	sxf.end();
	ck_assert_msg(all_calls(names, sizeof(names)) == 0,
	    "mod keeping events made calls:%s", names);

	sxf.begin();
	ck_assert_int_eq(sockx_poll_mod(p, a, SOCKX_WRITABLE, 100), 0);
	ck_assert_int_eq(sockx_poll_mod(p, a, 0, 100), 0);
	ck_assert_int_eq(sockx_poll_mod(p, a, 0, 200), 0);
	ck_assert_int_eq(sockx_poll_mod(p, a, SOCKX_READABLE, 100), 0);
	sxf.end();
	/* MOD, DEL (to 0), nothing, ADD (from 0). */
	ck_assert_uint_eq(sxf.calls("epoll_ctl"), 3);
	ck_assert_uint_eq(all_calls(names, sizeof(names)), 3);

	sxf.begin();
	ck_assert_int_eq(sockx_poll_del(p, a), 0);
	ck_assert_int_eq(sockx_poll_add(p, a, 0, 100, NULL), 0);
	ck_assert_int_eq(sockx_poll_add(p, b, SOCKX_READABLE, -1, NULL), 0);
	sxf.end();
	ck_assert_uint_eq(sxf.calls("epoll_ctl"), 2);

	sxf.begin();
	sockx_poll_free(p);
	sxf.end();
	ck_assert_uint_eq(sxf.calls("epoll_ctl"), 0);

	p = new_set();
	ck_assert_int_eq(sockx_poll_add(p, a, SOCKX_READABLE, -1, NULL), 0);
	sxf.begin();
	ck_assert_int_eq(sockx_close(a), 0);
	sxf.end();
	ck_assert_uint_eq(sxf.calls("epoll_ctl"), 1);
	sockx_poll_free(p);
	sockx_close(b);
}
END_TEST

/* In a forked child: closing a member and freeing the set, no epoll_ctl. */
START_TEST(faults_pollset_child_makes_no_epoll_ctl)
{
	sockx_poll *p = new_set();
	sockx *a, *b;
	pid_t pid;
	int st;

	sxf_load();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	ck_assert_int_eq(sockx_poll_add(p, a, SOCKX_READABLE, -1, NULL), 0);
	ck_assert_int_eq(sockx_poll_add(p, b, SOCKX_WRITABLE, 10, NULL), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		unsigned n;

		sxf.begin();
		sockx_close(a);
		close(sockx_release(b));
		sockx_poll_free(p);
		sxf.end();
		n = sxf.calls("epoll_ctl");
		_exit(n == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	sockx_poll_free(p);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* wait and wake                                                     */
/* ---------------------------------------------------------------- */

static const int wait_errs[] = { EBADF, EINVAL, EFAULT };

/*
 * epoll_wait failing: the error comes out as itself, ev is untouched and
 * nothing is consumed (the expiry and the wake-up come with the next
 * wait).
 */
START_TEST(faults_pollset_wait_failure_consumes_nothing)
{
	struct sockx_event ev[4], keep;
	sockx_poll *p = new_set();
	int err = wait_errs[_i], r, i, woken = 0, expired = 0;
	sockx *a, *b;

	sxf_load();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	ck_assert_int_eq(sockx_poll_add(p, a, 0, 0, NULL), 0);
	ck_assert_int_eq(sockx_poll_wake(p), 0);
	memset(ev, 0x5a, sizeof(ev));
	memcpy(&keep, &ev[0], sizeof(keep));
	sxf.begin();
	ck_assert_int_eq(sxf.add("epoll_wait", 1, 1, SXF_FAIL, err), 0);
	errno = 0;
	r = sockx_poll_wait(p, ev, NELEM(ev), 1000);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(r, -err);
	ck_assert_int_eq(errno, err);
	ck_assert_mem_eq(&ev[3], &keep, sizeof(keep));
	r = sockx_poll_wait(p, ev, NELEM(ev), 0);
	ck_assert_int_eq(r, 2);
	for (i = 0; i < r; i++) {
		woken += ev[i].events == SOCKX_WOKEN;
		expired += ev[i].s == a && ev[i].events == SOCKX_EXPIRED;
	}
	ck_assert_int_eq(woken, 1);
	ck_assert_int_eq(expired, 1);
	sockx_poll_free(p);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/*
 * The eventfd's read failing: EINTR is retried; EAGAIN means no wake-up
 * after all (the next wait finds it); any other error comes out and
 * consumes nothing.
 */
START_TEST(faults_pollset_wake_read_failure)
{
	struct sockx_event ev[4];
	sockx_poll *p = new_set();
	sockx *a, *b;
	int r, e;

	sxf_load();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	ck_assert_int_eq(sockx_poll_add(p, a, 0, 0, NULL), 0);
	ck_assert_int_eq(sockx_poll_wake(p), 0);

	sxf.begin();
	ck_assert_int_eq(sxf.add("read", 1, 1, SXF_FAIL, EIO), 0);
	errno = 0;
	r = sockx_poll_wait(p, ev, NELEM(ev), 1000);
	e = errno;
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(r, -EIO);
	ck_assert_int_eq(e, EIO);

	sxf.begin();
	ck_assert_int_eq(sxf.add("read", 1, 1, SXF_FAIL, EINTR), 0);
	r = sockx_poll_wait(p, ev, NELEM(ev), 1000);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(r, 2);
	ck_assert_uint_eq(sxf.calls("read"), 2);

	ck_assert_int_eq(sockx_poll_wake(p), 0);
	sxf.begin();
	ck_assert_int_eq(sxf.add("read", 1, 1, SXF_FAIL, EAGAIN), 0);
	errno = 0;
	r = sockx_poll_wait(p, ev, NELEM(ev), 0);
	e = errno;
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(e, ETIMEDOUT);
	ck_assert_int_eq(sockx_poll_wait(p, ev, NELEM(ev), 0), 1);
	ck_assert_int_eq(ev[0].events, SOCKX_WOKEN);
	sockx_poll_free(p);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* The eventfd's write failing (a full counter): 0, errno kept. */
START_TEST(faults_pollset_wake_write_failure_keeps_errno)
{
	sockx_poll *p = new_set();
	int r;

	sxf_load();
	sxf.begin();
	ck_assert_int_eq(sxf.add("write", 1, 1, SXF_FAIL, EAGAIN), 0);
	errno = EDOM;
	r = sockx_poll_wake(p);
	ck_assert_int_eq(errno, EDOM);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(r, 0);
	sxf.begin();
	errno = EDOM;
	ck_assert_int_eq(sockx_poll_wake(p), 0);
	ck_assert_int_eq(errno, EDOM);
	sxf.end();
	ck_assert_uint_eq(sxf.calls("write"), 1);
	ck_assert_uint_eq(all_calls((char[64]){ 0 }, 64), 1);
	sockx_poll_free(p);
}
END_TEST

/*
 * Every epoll_wait cut short by a signal after 10 ms: the wait resumes
 * with the time left, reports the deadline at (never before) it, or times
 * out at its own, and sleeps meanwhile.
 */
START_TEST(faults_pollset_interrupted_wait_resumes_without_spinning)
{
	struct sockx_event ev[2];
	sockx_poll *p = new_set();
	double t0, t, cpu;
	sockx *a, *b;
	int r;

	sxf_load();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	t0 = sxt_now();
	cpu = sxt_thread_cpu();
	ck_assert_int_eq(sockx_poll_add(p, a, SOCKX_READABLE, 150, NULL), 0);
	sxf.begin();
	ck_assert_int_eq(sxf.add("epoll_wait", 1, 0, SXF_INTERRUPT, 10), 0);
	r = sockx_poll_wait(p, ev, NELEM(ev), -1);
	ck_assert_uint_ge(sxf.end(), 5);
	t = sxt_now() - t0;
	cpu = sxt_thread_cpu() - cpu;
	ck_assert_int_eq(r, 1);
	ck_assert_int_eq(ev[0].events, SOCKX_EXPIRED);
	ck_assert_double_ge(t, 0.150);
	ck_assert_double_lt(t, 3.0);
	ck_assert_double_lt(cpu, 0.1 * slowdown());

	t0 = sxt_now();
	cpu = sxt_thread_cpu();
	sxf.begin();
	ck_assert_int_eq(sxf.add("epoll_wait", 1, 0, SXF_INTERRUPT, 10), 0);
	errno = 0;
	r = sockx_poll_wait(p, ev, NELEM(ev), 120);
	ck_assert_uint_ge(sxf.end(), 5);
	t = sxt_now() - t0;
	cpu = sxt_thread_cpu() - cpu;
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_double_ge(t, 0.120);
	ck_assert_double_lt(t, 3.0);
	ck_assert_double_lt(cpu, 0.1 * slowdown());
	sockx_poll_free(p);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* A failed allocation of the heap's room: -ENOMEM, no member. */
START_TEST(faults_pollset_add_out_of_memory)
{
	sockx_poll *p;
	sockx *a, *b;
	int r;

	sxf_load();
	if (sxf.interposed("malloc") != 1) {
		printf("# skipped: malloc is not the shim's here (a "
		    "sanitizer's or valgrind's)\n");
		return;
	}
	p = new_set();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	sxf.begin();
	ck_assert_int_eq(sxf.add("malloc", 1, 0, SXF_FAIL, ENOMEM), 0);
	errno = 0;
	r = sockx_poll_add(p, a, SOCKX_READABLE, -1, NULL);
	sxf.end();
	ck_assert_int_eq(r, -ENOMEM);
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_uint_eq(sxf.calls("epoll_ctl"), 0);
	CHECK_ERR(sockx_poll_del(p, a), ENOENT);
	ck_assert_int_eq(sockx_poll_add(p, a, SOCKX_READABLE, -1, NULL), 0);
	sockx_poll_free(p);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("faults-pollset");
	TCase *tc;

	tc = sx_tcase("pollset", 30);
	tcase_add_loop_test(tc, faults_pollset_new_fails_cleanly, 0,
	    NELEM(new_faults));
	tcase_add_loop_test(tc, faults_pollset_add_failure_makes_no_member, 0,
	    NELEM(ctl_errs));
	tcase_add_loop_test(tc,
	    faults_pollset_mod_failure_keeps_the_member_as_it_was, 0,
	    NELEM(ctl_errs));
	tcase_add_test(tc,
	    faults_pollset_mod_keeping_events_makes_no_system_call);
	tcase_add_test(tc, faults_pollset_child_makes_no_epoll_ctl);
	tcase_add_loop_test(tc, faults_pollset_wait_failure_consumes_nothing,
	    0, NELEM(wait_errs));
	tcase_add_test(tc, faults_pollset_wake_read_failure);
	tcase_add_test(tc, faults_pollset_wake_write_failure_keeps_errno);
	tcase_add_test(tc,
	    faults_pollset_interrupted_wait_resumes_without_spinning);
	tcase_add_test(tc, faults_pollset_add_out_of_memory);
	suite_add_tcase(s, tc);
	return s;
}
