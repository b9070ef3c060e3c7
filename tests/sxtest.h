/* SPDX-License-Identifier: MIT */
/*
 * sxtest.h - small helpers the Check programs share: clocks (wall and
 * this thread's CPU), unique abstract names and private temporary
 * directories (also nested ones for paths longer than sun_path), a
 * descriptor moved above a given number, a unix listener whose backlog is
 * full, the text of a local address, and CHECK_ERR.  Each helper fails the
 * test (ck_assert) rather than return an error.
 */
#ifndef SOCKX_TEST_SXTEST_H
#define SOCKX_TEST_SXTEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sockx.h>

#include "harness.h"

/* call fails with exactly -err and leaves errno set to err. */
#define CHECK_ERR(call, err)                                            \
	do {                                                            \
		errno = 0;                                              \
		ck_assert_int_eq((long)(call), -(err));                 \
		ck_assert_int_eq(errno, (err));                         \
	} while (0)

/* CLOCK_MONOTONIC in seconds. */
static inline double
sxt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) used by the calling thread so far. */
static inline double
sxt_thread_cpu(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_THREAD, &ru), 0);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* "@sockx-test-<pid>-<tag>-<n>": unique per process, call and tag. */
static inline const char *
sxt_abstract(char *buf, size_t size, const char *tag)
{
	static unsigned n;

	snprintf(buf, size, "@sockx-test-%ld-%s-%u", (long)getpid(), tag,
	    n++);
	return buf;
}

/* A fresh private directory under /tmp (or $TMPDIR); remove it after. */
static inline const char *
sxt_tmpdir(char *buf, size_t size)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, size, "%s/sockx-test-XXXXXX", t != NULL ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(buf));
	return buf;
}

/* Directory names of 40 bytes, four deep: a path over 150 bytes. */
#define SXT_DIR40 "d123456789012345678901234567890123456789"
#define SXT_DEPTH 4

/*
 * Make SXT_DEPTH nested directories under dir; path gets the deepest, so
 * that a socket file in it has a path longer than sun_path.
 */
static inline void
sxt_deep_dirs(const char *dir, char *path, size_t size)
{
	int i;

	snprintf(path, size, "%s", dir);
	for (i = 0; i < SXT_DEPTH; i++) {
		ck_assert_uint_lt(strlen(path) + sizeof(SXT_DIR40) + 1, size);
		strcat(path, "/" SXT_DIR40);
		ck_assert_int_eq(mkdir(path, 0700), 0);
	}
}

/* Remove what sxt_deep_dirs made, and dir itself. */
static inline void
sxt_remove_deep_dirs(const char *dir, char *path)
{
	char *slash;

	while (strcmp(path, dir) != 0) {
		ck_assert_int_eq(rmdir(path), 0);
		slash = strrchr(path, '/');
		ck_assert_ptr_nonnull(slash);
		*slash = '\0';
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

/*
 * The number of open descriptors of this process (entries of
 * /proc/self/fd less the listing's own), or -1 if /proc cannot be read.
 * No Check call: forked children use it too.
 */
static inline int
sxt_count_fds(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* Move fd to the lowest free number >= min; returns the new number. */
static inline int
sxt_fd_above(int fd, int min)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, min);

	ck_assert_int_ge(nfd, min);
	close(fd);
	return nfd;
}

/*
 * Fill the backlog of the stream listener at address: connect plain
 * non-blocking clients until the kernel answers EAGAIN.  Their
 * descriptors go to fds (room for max); returns how many.
 */
static inline int
sxt_fill_backlog(const char *address, int *fds, int max)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int n, type;

	ck_assert_int_eq(sockx_addr_parse(address, &ss, &len, &type), 0);
	for (n = 0; n < max; n++) {
		fds[n] = socket(ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fds[n], 0);
		if (connect(fds[n], (struct sockaddr *)&ss, len) < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			close(fds[n]);
			return n;
		}
	}
	ck_abort_msg("backlog of %s not full after %d clients", address, max);
	return n;
}

/* The text of s's local address, after prefix (e.g. "udp:"), in buf. */
static inline const char *
sxt_local_text(const sockx *s, const char *prefix, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	size_t n = strlen(prefix);

	ck_assert_uint_lt(n, size);
	memcpy(buf, prefix, n);
	ck_assert_int_eq(sockx_local_addr(s, &ss, &len), 0);
	ck_assert_int_gt(sockx_addr_format((struct sockaddr *)&ss, len,
	    buf + n, size - n), 0);
	return buf;
}

static inline void
sxt_close_all(int *fds, int n)
{
	while (n > 0)
		close(fds[--n]);
}

/*
 * Occupy every free descriptor number below high with copies of one
 * /dev/null descriptor, raising RLIMIT_NOFILE first if it is too low, so
 * that every new descriptor gets a number at or above high.  Returns how
 * many went into fds (room for high); close them with sxt_close_all.
 */
static inline int
sxt_occupy_low_fds(int *fds, int high)
{
	struct rlimit rl;
	int null, fd, n = 0;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < (rlim_t)high + 500) {
		ck_assert_uint_ge(rl.rlim_max, (rlim_t)high + 500);
		rl.rlim_cur = (rlim_t)high + 500;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(null, 0);
	fds[n++] = null;
	while ((fd = fcntl(null, F_DUPFD_CLOEXEC, 0)) < high) {
		ck_assert_int_ge(fd, 0);
		ck_assert_int_lt(n, high);
		fds[n++] = fd;
	}
	ck_assert_int_eq(close(fd), 0);
	return n;
}

#ifdef SXT_KERNEL_TIMEOUTS
/*
 * Built with SXT_KERNEL_TIMEOUTS, a test program runs all of its tests in
 * kernel-timeout mode: every handle it connects, accepts, adopts or makes
 * as a pair has sockx_set_kernel_timeouts() on (listeners excepted, which
 * refuse it).  The real functions are called through their names in
 * parentheses, which the macros below do not expand.
 */
static inline int
sxt_kernel_mode(int r, sockx **s)
{
	if (r == 0 && s != NULL && *s != NULL)
		(void)sockx_set_kernel_timeouts(*s, 1);
	return r;
}

static inline int
sxt_pair_k(sockx **a, sockx **b, int type)
{
	return sxt_kernel_mode(sxt_kernel_mode((sockx_pair)(a, b, type), a),
	    b);
}

static inline int
sxt_connect_k(sockx **out, const char *address, int ms)
{
	return sxt_kernel_mode((sockx_connect)(out, address, ms), out);
}

static inline int
sxt_accept_k(sockx *l, sockx **out, int ms)
{
	return sxt_kernel_mode((sockx_accept)(l, out, ms), out);
}

static inline int
sxt_adopt_k(sockx **out, int fd)
{
	return sxt_kernel_mode((sockx_adopt)(out, fd), out);
}

#define sockx_pair(a, b, type)		sxt_pair_k((a), (b), (type))
#define sockx_connect(out, addr, ms)	sxt_connect_k((out), (addr), (ms))
#define sockx_accept(l, out, ms)	sxt_accept_k((l), (out), (ms))
#define sockx_adopt(out, fd)		sxt_adopt_k((out), (fd))
#endif /* SXT_KERNEL_TIMEOUTS */

#endif
