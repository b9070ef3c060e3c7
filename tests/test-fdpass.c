/* SPDX-License-Identifier: MIT */
/*
 * test-fdpass.c - descriptor passing: sockx_send_fds and sockx_recv_fds on
 * stream, seqpacket and datagram socketpairs, over a unix listener, between
 * processes, and refused on TCP and UDP.  Each test asserts one rule of the
 * contract and fails without it: the received descriptor is the file that
 * was sent, new and close-on-exec (checked by exec too); up to 253 per
 * message, in order; bad arguments and bad descriptors fail before anything
 * is sent; out-parameters are written only on success; more descriptors
 * than the capacity, a truncation by the kernel (RLIMIT_NOFILE) or a cut
 * message close every descriptor that arrived (-EMSGSIZE); descriptors are
 * found behind credentials and across two SCM_RIGHTS messages; a partial
 * stream send carries them once, on its first byte; a timed-out send
 * carries none; every other receive call closes the descriptors that come
 * with the data.  The fixture of sx_tcase fails any test that leaves a
 * descriptor open.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#include "sxtest.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A slot of an fds array that the library must not write. */
#define SENTINEL	(-7)

static const int pair_types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };

/* What a sender tells about the file it sends from another process. */
struct file_id {
	dev_t dev;
	ino_t ino;
};

/* ---------------------------------------------------------------- */
/* Helpers                                                           */
/* ---------------------------------------------------------------- */

static void
make_pair(sockx **a, sockx **b, int type)
{
	ck_assert_int_eq(sockx_pair(a, b, type), 0);
}

static void
close_pair(sockx *a, sockx *b)
{
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(sockx_close(b), 0);
}

/* n distinct open files (memfds), each its own inode. */
static void
open_files(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fds[i] = memfd_create("sxt-fdpass", MFD_CLOEXEC);
		ck_assert_int_ge(fds[i], 0);
	}
}

static void
close_fds(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(close(fds[i]), 0);
}

static void
set_sentinel(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fds[i] = SENTINEL;
}

/* Out-parameters are written only on success. */
static void
check_sentinel(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ck_assert_msg(fds[i] == SENTINEL,
		    "fds[%zu] written on failure: %d", i, fds[i]);
}

/* fd is a descriptor of the file id, and close-on-exec. */
static void
check_file_is(int fd, const struct file_id *id, size_t i)
{
	struct stat sb;
	int fl;

	ck_assert_msg(fstat(fd, &sb) == 0, "fds[%zu] (%d) is not open", i, fd);
	ck_assert_msg(sb.st_dev == id->dev && sb.st_ino == id->ino,
	    "fds[%zu] (%d) is not the file that was sent", i, fd);
	fl = fcntl(fd, F_GETFD);
	ck_assert_msg(fl >= 0 && (fl & FD_CLOEXEC),
	    "fds[%zu] (%d) is not close-on-exec", i, fd);
}

static void
file_id_of(int fd, struct file_id *id)
{
	struct stat sb;

	ck_assert_int_eq(fstat(fd, &sb), 0);
	memset(id, 0, sizeof(*id));
	id->dev = sb.st_dev;
	id->ino = sb.st_ino;
}

/* got[i] is a new descriptor of the open file want[i], close-on-exec. */
static void
check_same_files(const int *got, const int *want, size_t n)
{
	struct file_id id;
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(got[i] != want[i],
		    "fds[%zu] is the sender's own %d", i, want[i]);
		file_id_of(want[i], &id);
		check_file_is(got[i], &id, i);
	}
}

/* Nothing waits to be read on s: a failed send left no trace. */
static void
check_nothing_queued(sockx *s)
{
	char buf[16];

	CHECK_ERR(sockx_read(s, buf, sizeof(buf), 0), ETIMEDOUT);
}

/* Write junk ('J') into s until a write would block; the bytes written. */
static size_t
fill(sockx *s)
{
	char junk[1024];
	size_t total = 0;
	ssize_t n;

	memset(junk, 'J', sizeof(junk));
	while ((n = sockx_write(s, junk, sizeof(junk), 0)) > 0)
		total += (size_t)n;
	ck_assert_int_eq(n, -ETIMEDOUT);
	return total;
}

/* Reap pid: its exit status, or 128 + the signal that killed it. */
static int
wait_exit(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * sendmsg(2) from the test itself, as a peer that does not use the
 * library would: len bytes with one SCM_RIGHTS control message per group,
 * counts[g] descriptors of fds (taken in order) in group g.
 */
static void
raw_send_rights(int sock, const void *buf, size_t len, const int *fds,
    const size_t *counts, size_t ngroups)
{
	union {
		char buf[2 * CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
	};
	struct cmsghdr *c;
	size_t g, used = 0;

	for (g = 0; g < ngroups; g++)
		m.msg_controllen += CMSG_SPACE(sizeof(int) * counts[g]);
	ck_assert_uint_le(m.msg_controllen, sizeof(u.buf));
	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&m);
	for (g = 0; g < ngroups; g++) {
		ck_assert_ptr_nonnull(c);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * counts[g]);
		memcpy(CMSG_DATA(c), fds + used, sizeof(int) * counts[g]);
		used += counts[g];
		c = CMSG_NXTHDR(&m, c);
	}
	ck_assert_int_eq(sendmsg(sock, &m, MSG_NOSIGNAL), (ssize_t)len);
}

/*
 * recvmsg(2) from the test itself: the types of the control messages of
 * one queued message, in order (at most max); descriptors that came with
 * it are closed.
 */
static size_t
raw_recv_cmsg_types(int sock, int *types, size_t max)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS) +
		    CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	char data[64];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	size_t i, n = 0;
	int fd;

	ck_assert_int_gt(recvmsg(sock, &m, MSG_CMSG_CLOEXEC), 0);
	ck_assert_int_eq(m.msg_flags & (MSG_TRUNC | MSG_CTRUNC), 0);
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
		ck_assert_uint_lt(n, max);
		types[n++] = c->cmsg_type;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		    i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			ck_assert_int_eq(close(fd), 0);
		}
	}
	return n;
}

/* A TCP connection on 127.0.0.1 (udp 0) or a UDP sender and receiver. */
static void
make_inet(sockx **tx, sockx **rx, int udp)
{
	char text[SOCKX_ADDRSTRLEN + 8];
	sockx *l;

	if (udp) {
		ck_assert_int_eq(sockx_listen(rx, "udp:127.0.0.1:0", 0, 0, 0),
		    0);
		ck_assert_int_eq(sockx_connect(tx, sxt_local_text(*rx, "udp:",
		    text, sizeof(text)), 1000), 0);
		return;
	}
	ck_assert_int_eq(sockx_listen(&l, "tcp:127.0.0.1:0", 0, 0, 0), 0);
	ck_assert_int_eq(sockx_connect(tx, sxt_local_text(l, "", text,
	    sizeof(text)), 1000), 0);
	ck_assert_int_eq(sockx_accept(l, rx, 1000), 0);
	ck_assert_int_eq(sockx_close(l), 0);
}

/* The receive calls of the library; tests loop over them. */
enum via {
	VIA_READ,
	VIA_READ_FULL,
	VIA_RECVFROM,
	VIA_RECV_CRED,
	VIA_RECV_FDS,
	N_VIA
};

/*
 * Receive at most len bytes into buf through the call via names.
 * sockx_recv_fds gets room for 8 descriptors and closes those it gets;
 * when it fails, its out-parameters must be untouched.  sockx_recv_cred
 * stores the sender in *cred if cred is not NULL.  errno is kept for
 * CHECK_ERR.
 */
static ssize_t
recv_via(int via, sockx *s, void *buf, size_t len, struct sockx_cred *cred)
{
	struct sockaddr_storage from;
	struct sockx_cred c;
	socklen_t fromlen;
	int got[8], e;
	size_t n = NELEM(got);
	ssize_t r;

	switch (via) {
	case VIA_READ:
		return sockx_read(s, buf, len, 1000);
	case VIA_READ_FULL:
		return sockx_read_full(s, buf, len, NULL, 1000);
	case VIA_RECVFROM:
		return sockx_recvfrom(s, buf, len, &from, &fromlen, 1000);
	case VIA_RECV_CRED:
		r = sockx_recv_cred(s, buf, len, &c, 1000);
		if (r >= 0 && cred != NULL)
			*cred = c;
		return r;
	default:
		set_sentinel(got, n);
		r = sockx_recv_fds(s, buf, len, got, &n, 1000);
		e = errno;
		if (r < 0) {
			ck_assert_uint_eq(n, NELEM(got));
			check_sentinel(got, n);
		} else {
			close_fds(got, n);
		}
		errno = e;
		return r;
	}
}

/* In a forked child (no Check there): exit with code unless cond holds. */
#define CHILD_REQUIRE(cond, code)					\
	do {								\
		if (!(cond))						\
			_exit(code);					\
	} while (0)

/* ---------------------------------------------------------------- */
/* Passing descriptors                                               */
/* ---------------------------------------------------------------- */

/*
 * One descriptor crosses every socketpair type: the receiver gets a new
 * descriptor of the same open file, close-on-exec, and the sender's own
 * stays open and usable.  _i: stream, seqpacket, datagram.
 */
START_TEST(fdpass_one_fd_on_every_pair_type)
{
	char buf[8];
	int p[2], got[2];
	size_t n = NELEM(got);
	sockx *a, *b;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	make_pair(&a, &b, pair_types[_i]);
	ck_assert_int_eq(sockx_send_fds(a, "fd", 2, &p[1], 1, 1000), 2);
	set_sentinel(got, n);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    2);
	ck_assert_mem_eq(buf, "fd", 2);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(got[1], SENTINEL);
	check_same_files(got, &p[1], 1);
	/* Both copies write into the one pipe. */
	ck_assert_int_eq(write(p[1], "A", 1), 1);
	ck_assert_int_eq(write(got[0], "B", 1), 1);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 2);
	ck_assert_mem_eq(buf, "AB", 2);
	close_fds(got, 1);
	close_fds(p, 2);
	close_pair(a, b);
}
END_TEST

/*
 * SOCKX_MAX_FDS (253) descriptors in one message all arrive, in the order
 * sent, into an array of exactly that capacity.  _i: the pair type.
 */
START_TEST(fdpass_max_fds_arrive_in_order)
{
	int files[SOCKX_MAX_FDS], got[SOCKX_MAX_FDS];
	size_t n = SOCKX_MAX_FDS;
	char c;
	sockx *a, *b;

	open_files(files, SOCKX_MAX_FDS);
	make_pair(&a, &b, pair_types[_i]);
	ck_assert_int_eq(sockx_send_fds(a, "m", 1, files, SOCKX_MAX_FDS,
	    1000), 1);
	ck_assert_int_eq(sockx_recv_fds(b, &c, 1, got, &n, 1000), 1);
	ck_assert_uint_eq(n, SOCKX_MAX_FDS);
	check_same_files(got, files, SOCKX_MAX_FDS);
	close_fds(got, SOCKX_MAX_FDS);
	close_fds(files, SOCKX_MAX_FDS);
	close_pair(a, b);
}
END_TEST

/*
 * nfds == 0 is plain data: the bytes arrive and *nfds becomes 0 (fds may
 * be NULL on both sides).  _i: the pair type.
 */
START_TEST(fdpass_zero_fds_send_plain_data)
{
	char buf[8];
	int got[2];
	size_t n = NELEM(got);
	sockx *a, *b;

	make_pair(&a, &b, pair_types[_i]);
	ck_assert_int_eq(sockx_send_fds(a, "abc", 3, NULL, 0, 1000), 3);
	set_sentinel(got, n);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    3);
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_uint_eq(n, 0);
	check_sentinel(got, NELEM(got));
	ck_assert_int_eq(sockx_send_fds(a, "de", 2, got, 0, 1000), 2);
	n = 0;
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), NULL, &n, 1000),
	    2);
	ck_assert_uint_eq(n, 0);
	close_pair(a, b);
}
END_TEST

/*
 * On datagram and seqpacket sockets an empty message carries descriptors
 * (len 0, buf NULL allowed on both sides); an empty one without
 * descriptors is a message too.  _i: 0 datagram, 1 seqpacket.
 */
START_TEST(fdpass_empty_message_carries_fds)
{
	static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET };
	char buf[8];
	int files[2], got[4];
	size_t n;
	sockx *a, *b;

	open_files(files, 2);
	make_pair(&a, &b, types[_i]);
	ck_assert_int_eq(sockx_send_fds(a, NULL, 0, files, 2, 1000), 0);
	ck_assert_int_eq(sockx_send_fds(a, "", 0, files + 1, 1, 1000), 0);
	ck_assert_int_eq(sockx_send_fds(a, NULL, 0, NULL, 0, 1000), 0);
	n = NELEM(got);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    0);
	ck_assert_uint_eq(n, 2);
	check_same_files(got, files, 2);
	close_fds(got, 2);
	n = NELEM(got);
	ck_assert_int_eq(sockx_recv_fds(b, NULL, 0, got, &n, 1000), 0);
	ck_assert_uint_eq(n, 1);
	check_same_files(got, files + 1, 1);
	close_fds(got, 1);
	n = NELEM(got);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    0);
	ck_assert_uint_eq(n, 0);
	check_nothing_queued(b);
	close_fds(files, 2);
	close_pair(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Bad arguments: nothing sent, nothing taken, nothing written        */
/* ---------------------------------------------------------------- */

/*
 * More than SOCKX_MAX_FDS descriptors (254, and 506, which would not fit
 * the library's control buffer) is -EINVAL before anything is sent.
 * _i: the pair type.
 */
START_TEST(fdpass_send_over_max_is_einval_and_sends_nothing)
{
	int files[1], fds[2 * SOCKX_MAX_FDS];
	size_t i;
	sockx *a, *b;

	open_files(files, 1);
	for (i = 0; i < NELEM(fds); i++)
		fds[i] = files[0];
	make_pair(&a, &b, pair_types[_i]);
	CHECK_ERR(sockx_send_fds(a, "x", 1, fds, SOCKX_MAX_FDS + 1, 1000),
	    EINVAL);
	CHECK_ERR(sockx_send_fds(a, "x", 1, fds, NELEM(fds), 1000), EINVAL);
	check_nothing_queued(b);
	close_fds(files, 1);
	close_pair(a, b);
}
END_TEST

/*
 * NULL handle, NULL buf with len > 0, a bad timeout, nfds > 0 with fds
 * NULL and len 0 on a stream (with or without fds) are -EINVAL with
 * nothing sent.
 */
START_TEST(fdpass_send_bad_arguments_are_einval)
{
	int files[1];
	sockx *a, *b;

	open_files(files, 1);
	make_pair(&a, &b, SOCK_STREAM);
	CHECK_ERR(sockx_send_fds(NULL, "x", 1, files, 1, 100), EINVAL);
	CHECK_ERR(sockx_send_fds(a, NULL, 1, files, 1, 100), EINVAL);
	CHECK_ERR(sockx_send_fds(a, "x", 1, files, 1, -2), EINVAL);
	CHECK_ERR(sockx_send_fds(a, "x", 1, NULL, 1, 100), EINVAL);
	CHECK_ERR(sockx_send_fds(a, "x", 0, files, 1, 100), EINVAL);
	CHECK_ERR(sockx_send_fds(a, NULL, 0, files, 1, 100), EINVAL);
	CHECK_ERR(sockx_send_fds(a, "x", 0, NULL, 0, 100), EINVAL);
	check_nothing_queued(b);
	close_fds(files, 1);
	close_pair(a, b);
}
END_TEST

/*
 * An invalid descriptor among valid ones (a closed number, -1) is -EBADF
 * with nothing sent; the next good send goes through.  _i: the pair type.
 */
START_TEST(fdpass_send_invalid_fd_is_ebadf_and_sends_nothing)
{
	char buf[4];
	int files[2], got[2], closed, bad[3];
	size_t n = NELEM(got);
	sockx *a, *b;

	open_files(files, 2);
	make_pair(&a, &b, pair_types[_i]);
	closed = dup(files[0]);
	ck_assert_int_ge(closed, 0);
	ck_assert_int_eq(close(closed), 0);
	bad[0] = files[0];
	bad[1] = closed;
	bad[2] = files[1];
	CHECK_ERR(sockx_send_fds(a, "x", 1, bad, 3, 100), EBADF);
	bad[1] = files[1];
	bad[2] = -1;
	CHECK_ERR(sockx_send_fds(a, "x", 1, bad, 3, 100), EBADF);
	check_nothing_queued(b);
	ck_assert_int_eq(sockx_send_fds(a, "y", 1, files, 2, 100), 1);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    1);
	ck_assert_int_eq(buf[0], 'y');
	ck_assert_uint_eq(n, 2);
	check_same_files(got, files, 2);
	close_fds(got, 2);
	close_fds(files, 2);
	close_pair(a, b);
}
END_TEST

/*
 * NULL handle, NULL buf with len > 0, nfds NULL, *nfds > 0 with fds NULL,
 * len 0 on a stream and a bad timeout are -EINVAL: *nfds and the fds array
 * are untouched and the queued message is still there, whole.
 */
START_TEST(fdpass_recv_bad_arguments_are_einval_and_take_nothing)
{
	char buf[8];
	int files[1], got[3];
	size_t n = NELEM(got);
	sockx *a, *b;

	open_files(files, 1);
	make_pair(&a, &b, SOCK_STREAM);
	ck_assert_int_eq(sockx_send_fds(a, "xy", 2, files, 1, 100), 2);
	set_sentinel(got, NELEM(got));
	CHECK_ERR(sockx_recv_fds(NULL, buf, sizeof(buf), got, &n, 100),
	    EINVAL);
	CHECK_ERR(sockx_recv_fds(b, NULL, sizeof(buf), got, &n, 100), EINVAL);
	CHECK_ERR(sockx_recv_fds(b, buf, sizeof(buf), got, NULL, 100), EINVAL);
	CHECK_ERR(sockx_recv_fds(b, buf, sizeof(buf), NULL, &n, 100), EINVAL);
	CHECK_ERR(sockx_recv_fds(b, buf, 0, got, &n, 100), EINVAL);
	CHECK_ERR(sockx_recv_fds(b, NULL, 0, got, &n, 100), EINVAL);
	CHECK_ERR(sockx_recv_fds(b, buf, sizeof(buf), got, &n, -2), EINVAL);
	ck_assert_uint_eq(n, NELEM(got));
	check_sentinel(got, NELEM(got));
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    2);
	ck_assert_mem_eq(buf, "xy", 2);
	ck_assert_uint_eq(n, 1);
	check_same_files(got, files, 1);
	close_fds(got, 1);
	close_fds(files, 1);
	close_pair(a, b);
}
END_TEST

/*
 * A non-unix socket is -EOPNOTSUPP for both calls, even without
 * descriptors: nothing is sent, and data waiting is neither taken nor
 * lost, the out-parameters untouched.  _i: 0 TCP, 1 UDP.
 */
START_TEST(fdpass_non_unix_socket_is_eopnotsupp)
{
	char buf[8];
	int files[1], got[2];
	size_t n = NELEM(got);
	sockx *tx, *rx;

	open_files(files, 1);
	make_inet(&tx, &rx, _i);
	CHECK_ERR(sockx_send_fds(tx, "x", 1, files, 1, 100), EOPNOTSUPP);
	CHECK_ERR(sockx_send_fds(tx, "x", 1, NULL, 0, 100), EOPNOTSUPP);
	check_nothing_queued(rx);
	ck_assert_int_eq(sockx_write(tx, "data", 4, 1000), 4);
	ck_assert_int_eq(sockx_wait(rx, SOCKX_READABLE, 1000),
	    SOCKX_READABLE);
	set_sentinel(got, NELEM(got));
	CHECK_ERR(sockx_recv_fds(rx, buf, sizeof(buf), got, &n, 100),
	    EOPNOTSUPP);
	ck_assert_uint_eq(n, NELEM(got));
	check_sentinel(got, NELEM(got));
	n = 0;
	CHECK_ERR(sockx_recv_fds(rx, buf, sizeof(buf), NULL, &n, 100),
	    EOPNOTSUPP);
	ck_assert_int_eq(sockx_read(rx, buf, sizeof(buf), 1000), 4);
	ck_assert_mem_eq(buf, "data", 4);
	close_fds(files, 1);
	close_pair(tx, rx);
}
END_TEST

/*
 * An idle socket: -ETIMEDOUT at the deadline (0: at once), the
 * out-parameters untouched.  _i: 0 ms, 50 ms.
 */
START_TEST(fdpass_recv_times_out_with_outputs_untouched)
{
	static const int ms[] = { 0, 50 };
	double t0, elapsed;
	char buf[8];
	int got[2];
	size_t n = NELEM(got);
	sockx *a, *b;

	make_pair(&a, &b, SOCK_STREAM);
	set_sentinel(got, NELEM(got));
	t0 = sxt_now();
	CHECK_ERR(sockx_recv_fds(b, buf, sizeof(buf), got, &n, ms[_i]),
	    ETIMEDOUT);
	elapsed = sxt_now() - t0;
	ck_assert_msg(elapsed >= ms[_i] / 1000.0, "early: %.4f s", elapsed);
	ck_assert_msg(elapsed < (ms[_i] == 0 ? 0.1 : 0.25), "late: %.4f s",
	    elapsed);
	ck_assert_uint_eq(n, NELEM(got));
	check_sentinel(got, NELEM(got));
	close_pair(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* What arrives: all to the caller, or all closed                     */
/* ---------------------------------------------------------------- */

/*
 * More descriptors than the capacity (2 of 5; 0 with fds NULL) is
 * -EMSGSIZE: every one that arrived is closed, *nfds and the array are
 * untouched, the bytes of the call dropped; the connection still carries
 * the next message.  _i: the pair type.
 */
START_TEST(fdpass_recv_over_capacity_is_emsgsize_and_closes_all)
{
	char buf[16];
	int files[5], got[8], before;
	size_t n;
	sockx *a, *b;

	open_files(files, 5);
	make_pair(&a, &b, pair_types[_i]);
	before = sxt_count_fds();
	ck_assert_int_eq(sockx_send_fds(a, "abcde", 5, files, 5, 1000), 5);
	n = 2;
	set_sentinel(got, NELEM(got));
	CHECK_ERR(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    EMSGSIZE);
	ck_assert_uint_eq(n, 2);
	check_sentinel(got, NELEM(got));
	ck_assert_int_eq(sxt_count_fds(), before);

	ck_assert_int_eq(sockx_send_fds(a, "fghij", 5, files, 3, 1000), 5);
	n = 0;
	CHECK_ERR(sockx_recv_fds(b, buf, sizeof(buf), NULL, &n, 1000),
	    EMSGSIZE);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(sxt_count_fds(), before);

	ck_assert_int_eq(sockx_send_fds(a, "next", 4, files + 1, 2, 1000), 4);
	n = NELEM(got);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    4);
	ck_assert_mem_eq(buf, "next", 4);
	ck_assert_uint_eq(n, 2);
	check_same_files(got, files + 1, 2);
	close_fds(got, 2);
	close_fds(files, 5);
	close_pair(a, b);
}
END_TEST

/*
 * With SO_PASSCRED on the receiver the kernel puts SCM_CREDENTIALS before
 * SCM_RIGHTS (checked with a raw recvmsg first); sockx_recv_fds walks every
 * control message and still hands the descriptors over.  _i: the pair
 * type.
 */
START_TEST(fdpass_recv_finds_fds_after_credentials)
{
	char buf[4];
	int files[2], got[2], kinds[4];
	size_t n = NELEM(got);
	sockx *a, *b;

	open_files(files, 2);
	make_pair(&a, &b, pair_types[_i]);
	ck_assert_int_eq(sockx_set_passcred(b, 1), 0);
	ck_assert_int_eq(sockx_send_fds(a, "c", 1, files, 2, 1000), 1);
	ck_assert_uint_eq(raw_recv_cmsg_types(sockx_fd(b), kinds,
	    NELEM(kinds)), 2);
	ck_assert_int_eq(kinds[0], SCM_CREDENTIALS);
	ck_assert_int_eq(kinds[1], SCM_RIGHTS);

	ck_assert_int_eq(sockx_send_fds(a, "d", 1, files, 2, 1000), 1);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    1);
	ck_assert_int_eq(buf[0], 'd');
	ck_assert_uint_eq(n, 2);
	check_same_files(got, files, 2);
	close_fds(got, 2);
	close_fds(files, 2);
	close_pair(a, b);
}
END_TEST

/*
 * A peer's one message with two SCM_RIGHTS control messages (2 and 3
 * descriptors): all 5 arrive, in order; the capacity counts them
 * together (4 is -EMSGSIZE, all closed).  _i: the pair type.
 */
START_TEST(fdpass_recv_takes_fds_of_two_rights_messages)
{
	static const size_t groups[] = { 2, 3 };
	char buf[8];
	int files[5], got[5], before;
	size_t n = 5;
	sockx *a, *b;

	open_files(files, 5);
	make_pair(&a, &b, pair_types[_i]);
	raw_send_rights(sockx_fd(a), "two", 3, files, groups, 2);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    3);
	ck_assert_mem_eq(buf, "two", 3);
	ck_assert_uint_eq(n, 5);
	check_same_files(got, files, 5);
	close_fds(got, 5);

	before = sxt_count_fds();
	raw_send_rights(sockx_fd(a), "two", 3, files, groups, 2);
	n = 4;
	set_sentinel(got, NELEM(got));
	CHECK_ERR(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    EMSGSIZE);
	ck_assert_uint_eq(n, 4);
	check_sentinel(got, NELEM(got));
	ck_assert_int_eq(sxt_count_fds(), before);
	close_fds(files, 5);
	close_pair(a, b);
}
END_TEST

/*
 * A datagram or seqpacket message of 10 bytes and 3 descriptors received
 * into 4 bytes is -EMSGSIZE on every receive call, its descriptors closed;
 * the next message is whole.  _i: 0-4 seqpacket, 5-9 datagram, times the
 * calls of enum via.
 */
START_TEST(fdpass_cut_message_is_emsgsize_and_closes_fds)
{
	static const int types[] = { SOCK_SEQPACKET, SOCK_DGRAM };
	char buf[16];
	int files[3], got[2], before;
	size_t n = NELEM(got);
	sockx *a, *b;

	open_files(files, 3);
	make_pair(&a, &b, types[_i / N_VIA]);
	before = sxt_count_fds();
	ck_assert_int_eq(sockx_send_fds(a, "0123456789", 10, files, 3, 1000),
	    10);
	ck_assert_int_eq(sockx_send_fds(a, "ok", 2, files, 1, 1000), 2);
	CHECK_ERR(recv_via(_i % N_VIA, b, buf, 4, NULL), EMSGSIZE);
	ck_assert_int_eq(sxt_count_fds(), before);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    2);
	ck_assert_mem_eq(buf, "ok", 2);
	ck_assert_uint_eq(n, 1);
	check_same_files(got, files, 1);
	close_fds(got, 1);
	close_fds(files, 3);
	close_pair(a, b);
}
END_TEST

/*
 * Every other receive call closes the descriptors that come with data: a
 * peer sends 253 with each of 20 messages; the data arrives whole (on a
 * stream in two reads, the descriptors riding on the first) and the
 * number of open descriptors never moves.  sockx_recv_cred also reports
 * the sender.  _i: 0-3 stream, 4-7 datagram, times read, read_full,
 * recvfrom, recv_cred.
 */
START_TEST(fdpass_other_receive_paths_close_arriving_fds)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM };
	const int type = types[_i / 4], via = _i % 4;
	const size_t count = SOCKX_MAX_FDS;
	char msg[64], buf[64];
	int files[1], fds[SOCKX_MAX_FDS], before, m;
	struct sockx_cred cred;
	size_t i, got, want;
	ssize_t r;
	sockx *a, *b;

	open_files(files, 1);
	for (i = 0; i < NELEM(fds); i++)
		fds[i] = files[0];
	make_pair(&a, &b, type);
	if (via == VIA_RECV_CRED)
		ck_assert_int_eq(sockx_set_passcred(b, 1), 0);
	before = sxt_count_fds();
	for (m = 0; m < 20; m++) {
		for (i = 0; i < sizeof(msg); i++)
			msg[i] = (char)(m * 64 + (int)i);
		raw_send_rights(sockx_fd(a), msg, sizeof(msg), fds, &count, 1);
		for (got = 0; got < sizeof(msg); got += (size_t)r) {
			want = type == SOCK_STREAM && got == 0 ? 7 :
			    sizeof(msg) - got;
			memset(&cred, 0, sizeof(cred));
			r = recv_via(via, b, buf + got, want, &cred);
			ck_assert_int_eq(r, (ssize_t)want);
			if (via == VIA_RECV_CRED)
				ck_assert_int_eq(cred.pid, getpid());
		}
		ck_assert_mem_eq(buf, msg, sizeof(msg));
		ck_assert_int_eq(sxt_count_fds(), before);
	}
	close_fds(files, 1);
	close_pair(a, b);
}
END_TEST

/*
 * End of stream: 0 with *nfds set to 0, after a last message that still
 * brings its descriptor.  _i: 0 stream, 1 seqpacket.
 */
START_TEST(fdpass_recv_returns_zero_at_end_of_stream)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };
	char buf[4];
	int files[1], got[4];
	size_t n = NELEM(got);
	sockx *a, *b;

	open_files(files, 1);
	make_pair(&a, &b, types[_i]);
	ck_assert_int_eq(sockx_send_fds(a, "z", 1, files, 1, 1000), 1);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    1);
	ck_assert_uint_eq(n, 1);
	check_same_files(got, files, 1);
	close_fds(got, 1);
	n = NELEM(got);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    0);
	ck_assert_uint_eq(n, 0);
	n = NELEM(got);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 0), 0);
	ck_assert_uint_eq(n, 0);
	close_fds(files, 1);
	ck_assert_int_eq(sockx_close(b), 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Streams: partial sends, full buffers                              */
/* ---------------------------------------------------------------- */

/*
 * A send bigger than the room in a stream goes out in part (0 < n < len);
 * the descriptors ride on its first byte, exactly once, the rest of the
 * bytes carry none, and after the caller sends the rest with
 * sockx_write_full every byte has arrived once and in order.  Junk the
 * receiver had not read yet sits ahead of the send.
 */
START_TEST(fdpass_partial_stream_send_carries_fds_once)
{
	static char big[256 * 1024], in[512 * 1024];
	int files[3], got[4], sndbuf = 65536, seen = 0;
	size_t filled, drained = 0, left, total, off, n, i;
	ssize_t sent, r;
	sockx *a, *b;
	pid_t pid;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	open_files(files, 3);
	make_pair(&a, &b, SOCK_STREAM);
	ck_assert_int_eq(setsockopt(sockx_fd(a), SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, sizeof(sndbuf)), 0);
	filled = fill(a);
	/* Drain one 1 KiB write at a time until a is writable again. */
	while (sockx_wait(a, SOCKX_WRITABLE, 0) < 0) {
		r = sockx_read(b, in, 1024, 1000);
		ck_assert_int_gt(r, 0);
		drained += (size_t)r;
	}
	left = filled - drained;
	ck_assert_msg(left > 0, "no junk left ahead of the send");
	total = left + sizeof(big);
	ck_assert_uint_le(total, sizeof(in));

	sent = sockx_send_fds(a, big, sizeof(big), files, 3, 1000);
	ck_assert_int_gt(sent, 0);
	ck_assert_int_lt(sent, (ssize_t)sizeof(big));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(sockx_write_full(a, big + sent, sizeof(big) -
		    (size_t)sent, NULL, 10000) ==
		    (ssize_t)(sizeof(big) - (size_t)sent) ? 0 : 1);

	for (off = 0; off < total; off += (size_t)r) {
		n = NELEM(got);
		r = sockx_recv_fds(b, in + off, total - off, got, &n, 5000);
		ck_assert_int_gt(r, 0);
		if (n == 0)
			continue;
		seen++;
		ck_assert_msg(off <= left && left < off + (size_t)r,
		    "descriptors came with bytes %zu..%zu, the send starts "
		    "at %zu", off, off + (size_t)r, left);
		ck_assert_uint_eq(n, 3);
		check_same_files(got, files, 3);
		close_fds(got, 3);
	}
	ck_assert_int_eq(seen, 1);
	ck_assert_int_eq(wait_exit(pid), 0);
	for (i = 0; i < left; i++)
		ck_assert_msg(in[i] == 'J', "junk byte %zu is %d", i, in[i]);
	ck_assert_msg(memcmp(in + left, big, sizeof(big)) == 0,
	    "the bytes of the send arrived changed or out of order");
	check_nothing_queued(b);
	close_fds(files, 3);
	close_pair(a, b);
}
END_TEST

/*
 * A completely full stream: a send with a 50 ms limit fails with
 * -ETIMEDOUT at the deadline and its descriptors were not sent (draining
 * finds only the junk, with no descriptor); then the same send goes
 * through.
 */
START_TEST(fdpass_send_to_full_stream_times_out_and_sends_no_fds)
{
	char buf[4096];
	int files[2], got[4];
	size_t filled, total = 0, n;
	double t0, elapsed;
	ssize_t r, i;
	sockx *a, *b;

	open_files(files, 2);
	make_pair(&a, &b, SOCK_STREAM);
	filled = fill(a);
	t0 = sxt_now();
	CHECK_ERR(sockx_send_fds(a, "x", 1, files, 2, 50), ETIMEDOUT);
	elapsed = sxt_now() - t0;
	ck_assert_msg(elapsed >= 0.05 && elapsed < 0.25,
	    "timed out after %.4f s", elapsed);
	for (;;) {
		n = NELEM(got);
		r = sockx_recv_fds(b, buf, sizeof(buf), got, &n, 0);
		if (r == -ETIMEDOUT)
			break;
		ck_assert_int_gt(r, 0);
		ck_assert_uint_eq(n, 0);
		for (i = 0; i < r; i++)
			ck_assert_int_eq(buf[i], 'J');
		total += (size_t)r;
	}
	ck_assert_uint_eq(total, filled);

	ck_assert_int_eq(sockx_send_fds(a, "x", 1, files, 2, 1000), 1);
	n = NELEM(got);
	ck_assert_int_eq(sockx_recv_fds(b, buf, sizeof(buf), got, &n, 1000),
	    1);
	ck_assert_int_eq(buf[0], 'x');
	ck_assert_uint_eq(n, 2);
	check_same_files(got, files, 2);
	close_fds(got, 2);
	close_fds(files, 2);
	close_pair(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Processes: limits, exec, other processes                          */
/* ---------------------------------------------------------------- */

/*
 * The child of fdpass_ctrunc_by_rlimit_is_emsgsize_without_leak: tell the
 * parent the RLIMIT_NOFILE under which exactly two more descriptors fit
 * (below the second lowest free number), wait until the parent has set
 * it and sent 10 descriptors, receive them.  Exit status 0, or the check
 * that failed: 2 the call succeeded (the limit did not bite), 3 another
 * error, 4 errno, 5 *nfds written, 6 the array written, 7 a descriptor
 * left in the two free numbers, 8 the count of descriptors changed.
 */
static _Noreturn void
ctrunc_child(sockx *b, int up, int down)
{
	int got[16], lowest[2], k, nfree = 0, before, limit, e;
	size_t n = NELEM(got);
	ssize_t r;
	char c;

	before = sxt_count_fds();
	CHILD_REQUIRE(before > 0, 1);
	for (k = 0; nfree < 2; k++)
		if (fcntl(k, F_GETFD) < 0 && errno == EBADF)
			lowest[nfree++] = k;
	limit = lowest[1] + 1;
	CHILD_REQUIRE(write(up, &limit, sizeof(limit)) == sizeof(limit), 1);
	CHILD_REQUIRE(read(down, &c, 1) == 1, 1);
	set_sentinel(got, n);
	errno = 0;
	r = sockx_recv_fds(b, &c, 1, got, &n, 5000);
	e = errno;
	CHILD_REQUIRE(r < 0, 2);
	CHILD_REQUIRE(r == -EMSGSIZE, 3);
	CHILD_REQUIRE(e == EMSGSIZE, 4);
	CHILD_REQUIRE(n == NELEM(got), 5);
	for (k = 0; k < (int)NELEM(got); k++)
		CHILD_REQUIRE(got[k] == SENTINEL, 6);
	CHILD_REQUIRE(fcntl(lowest[0], F_GETFD) < 0, 7);
	CHILD_REQUIRE(fcntl(lowest[1], F_GETFD) < 0, 7);
	CHILD_REQUIRE(sxt_count_fds() == before, 8);
	_exit(0);
}

/*
 * The kernel truncates descriptors it cannot install (RLIMIT_NOFILE lets
 * 2 of 10 in: MSG_CTRUNC): -EMSGSIZE, and the 2 that were installed are
 * closed.  The parent lowers the child's limit with prlimit(2): valgrind
 * only emulates a process's own setrlimit, and the test is the same
 * everywhere.  _i: 0 stream, 1 datagram.
 */
START_TEST(fdpass_ctrunc_by_rlimit_is_emsgsize_without_leak)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM };
	int files[1], fds[10], up[2], down[2], limit, st;
	struct rlimit rl;
	size_t i;
	sockx *a, *b;
	pid_t pid;

	open_files(files, 1);
	for (i = 0; i < NELEM(fds); i++)
		fds[i] = files[0];
	make_pair(&a, &b, types[_i]);
	ck_assert_int_eq(pipe2(up, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(down, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		ctrunc_child(b, up[1], down[0]);
	}
	close_fds(&up[1], 1);
	close_fds(&down[0], 1);
	ck_assert_int_eq(read(up[0], &limit, sizeof(limit)), sizeof(limit));
	ck_assert_int_eq(prlimit(pid, RLIMIT_NOFILE, NULL, &rl), 0);
	rl.rlim_cur = (rlim_t)limit;
	ck_assert_int_eq(prlimit(pid, RLIMIT_NOFILE, &rl, NULL), 0);
	ck_assert_int_eq(sockx_send_fds(a, "t", 1, fds, NELEM(fds), 1000), 1);
	ck_assert_int_eq(write(down[1], "g", 1), 1);
	st = wait_exit(pid);
	ck_assert_msg(st == 0, "child failed check %d (see ctrunc_child)", st);
	close_fds(&up[0], 1);
	close_fds(&down[1], 1);
	close_fds(files, 1);
	close_pair(a, b);
}
END_TEST

/*
 * Received descriptors do not survive exec: a shell started after a fork
 * finds none of their numbers in /proc/self/fd, while a control
 * descriptor without FD_CLOEXEC is there (the check can see).
 */
START_TEST(fdpass_received_fds_do_not_survive_exec)
{
	static const char script[] =
	    "c=$1; shift\n"
	    "[ -e /proc/self/fd/$c ] || exit 2\n"
	    "for n in \"$@\"; do [ -e /proc/self/fd/$n ] && exit 1; done\n"
	    "exit 0\n";
	char arg[4][16], c;
	int files[3], got[3], st, i;
	size_t n = NELEM(got);
	sockx *a, *b;
	pid_t pid;

	open_files(files, 3);
	make_pair(&a, &b, SOCK_STREAM);
	ck_assert_int_eq(sockx_send_fds(a, "e", 1, files, 3, 1000), 1);
	ck_assert_int_eq(sockx_recv_fds(b, &c, 1, got, &n, 1000), 1);
	ck_assert_uint_eq(n, 3);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		snprintf(arg[0], sizeof(arg[0]), "%d",
		    fcntl(got[0], F_DUPFD, 3));
		for (i = 0; i < 3; i++)
			snprintf(arg[i + 1], sizeof(arg[i + 1]), "%d", got[i]);
		execl("/bin/sh", "sh", "-c", script, "sh", arg[0], arg[1],
		    arg[2], arg[3], (char *)NULL);
		_exit(127);
	}
	st = wait_exit(pid);
	ck_assert_msg(st != 1, "a received descriptor survived exec");
	ck_assert_msg(st != 2, "the control descriptor did not survive exec");
	ck_assert_int_eq(st, 0);
	check_same_files(got, files, 3);
	close_fds(got, 3);
	close_fds(files, 3);
	close_pair(a, b);
}
END_TEST

/*
 * The child of fdpass_fd_from_child_reaches_its_file: create path with
 * text, remove it, send its descriptor and identity.  Exit status 0, or
 * the step that failed.
 */
static _Noreturn void
file_child(sockx *s, const char *path, const char *text)
{
	struct file_id id;
	struct stat sb;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHILD_REQUIRE(fd >= 0, 1);
	CHILD_REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text),
	    2);
	CHILD_REQUIRE(fstat(fd, &sb) == 0 && unlink(path) == 0, 3);
	memset(&id, 0, sizeof(id));
	id.dev = sb.st_dev;
	id.ino = sb.st_ino;
	CHILD_REQUIRE(sockx_send_fds(s, &id, sizeof(id), &fd, 1, 5000) ==
	    sizeof(id), 4);
	_exit(0);
}

/*
 * A child creates a file with known content, removes its name and sends
 * its descriptor: the parent reaches the file, and only through that
 * descriptor.
 */
START_TEST(fdpass_fd_from_child_reaches_its_file)
{
	static const char text[] = "written by the child";
	char dir[PATH_MAX], path[PATH_MAX + 8], buf[64];
	struct file_id id;
	struct stat sb;
	int got[2], st;
	size_t n = NELEM(got);
	sockx *a, *b;
	pid_t pid;

	sxt_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	make_pair(&a, &b, SOCK_STREAM);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		file_child(a, path, text);
	ck_assert_int_eq(sockx_recv_fds(b, &id, sizeof(id), got, &n, 5000),
	    sizeof(id));
	st = wait_exit(pid);
	ck_assert_msg(st == 0, "child failed step %d", st);
	ck_assert_uint_eq(n, 1);
	check_file_is(got[0], &id, 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(fstat(got[0], &sb), 0);
	ck_assert_uint_eq(sb.st_nlink, 0);
	ck_assert_int_eq(pread(got[0], buf, sizeof(buf), 0), strlen(text));
	ck_assert_mem_eq(buf, text, strlen(text));
	close_fds(got, 1);
	ck_assert_int_eq(rmdir(dir), 0);
	close_pair(a, b);
}
END_TEST

/*
 * The child of fdpass_fds_cross_between_processes_over_a_listener: connect
 * to name, send a memfd holding "from the child" and its identity, then
 * receive a pipe's write end and write "ok" into it.  Exit status 0, or
 * the step that failed.
 */
static _Noreturn void
listener_child(const char *name)
{
	static const char text[] = "from the child";
	struct file_id id;
	struct stat sb;
	int fd, got[1];
	size_t n = NELEM(got);
	sockx *s;
	char c;

	CHILD_REQUIRE(sockx_connect(&s, name, 5000) == 0, 1);
	fd = memfd_create("sxt-child", MFD_CLOEXEC);
	CHILD_REQUIRE(fd >= 0, 2);
	CHILD_REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text),
	    2);
	CHILD_REQUIRE(fstat(fd, &sb) == 0, 2);
	memset(&id, 0, sizeof(id));
	id.dev = sb.st_dev;
	id.ino = sb.st_ino;
	CHILD_REQUIRE(sockx_send_fds(s, &id, sizeof(id), &fd, 1, 5000) ==
	    sizeof(id), 3);
	CHILD_REQUIRE(close(fd) == 0, 3);
	CHILD_REQUIRE(sockx_recv_fds(s, &c, 1, got, &n, 5000) == 1, 4);
	CHILD_REQUIRE(n == 1 && c == 'p', 5);
	CHILD_REQUIRE(write(got[0], "ok", 2) == 2, 6);
	close(got[0]);
	sockx_close(s);
	_exit(0);
}

/*
 * Descriptors cross both ways between two processes over a connection
 * made with sockx_listen on an abstract name, sockx_connect (in a child)
 * and sockx_accept: the child's memfd to the parent, the parent's pipe to
 * the child (which has closed its inherited copies).
 */
START_TEST(fdpass_fds_cross_between_processes_over_a_listener)
{
	static const char text[] = "from the child";
	char name[64], buf[64];
	struct file_id id;
	int p[2], got[1], st;
	size_t n = NELEM(got), have = 0;
	ssize_t r;
	sockx *l, *s;
	pid_t pid;

	sxt_abstract(name, sizeof(name), "fdpass");
	ck_assert_int_eq(sockx_listen(&l, name, 0, 0, 0), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		close(p[1]);
		listener_child(name);
	}
	ck_assert_int_eq(sockx_accept(l, &s, 5000), 0);
	ck_assert_int_eq(sockx_recv_fds(s, &id, sizeof(id), got, &n, 5000),
	    sizeof(id));
	ck_assert_uint_eq(n, 1);
	check_file_is(got[0], &id, 0);
	ck_assert_int_eq(pread(got[0], buf, sizeof(buf), 0), strlen(text));
	ck_assert_mem_eq(buf, text, strlen(text));
	close_fds(got, 1);

	ck_assert_int_eq(sockx_send_fds(s, "p", 1, &p[1], 1, 5000), 1);
	close_fds(&p[1], 1);
	while ((r = read(p[0], buf + have, sizeof(buf) - have)) > 0)
		have += (size_t)r;
	ck_assert_int_eq(r, 0);
	st = wait_exit(pid);
	ck_assert_msg(st == 0, "child failed step %d", st);
	ck_assert_uint_eq(have, 2);
	ck_assert_mem_eq(buf, "ok", 2);
	close_fds(&p[0], 1);
	close_pair(s, l);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("fdpass");
	TCase *tc;

	tc = sx_tcase("passing", 10);
	tcase_add_loop_test(tc, fdpass_one_fd_on_every_pair_type, 0, 3);
	tcase_add_loop_test(tc, fdpass_max_fds_arrive_in_order, 0, 3);
	tcase_add_loop_test(tc, fdpass_zero_fds_send_plain_data, 0, 3);
	tcase_add_loop_test(tc, fdpass_empty_message_carries_fds, 0, 2);
	suite_add_tcase(s, tc);

	tc = sx_tcase("arguments", 10);
	tcase_add_loop_test(tc,
	    fdpass_send_over_max_is_einval_and_sends_nothing, 0, 3);
	tcase_add_test(tc, fdpass_send_bad_arguments_are_einval);
	tcase_add_loop_test(tc,
	    fdpass_send_invalid_fd_is_ebadf_and_sends_nothing, 0, 3);
	tcase_add_test(tc,
	    fdpass_recv_bad_arguments_are_einval_and_take_nothing);
	tcase_add_loop_test(tc, fdpass_non_unix_socket_is_eopnotsupp, 0, 2);
	tcase_add_loop_test(tc,
	    fdpass_recv_times_out_with_outputs_untouched, 0, 2);
	suite_add_tcase(s, tc);

	tc = sx_tcase("arrivals", 10);
	tcase_add_loop_test(tc,
	    fdpass_recv_over_capacity_is_emsgsize_and_closes_all, 0, 3);
	tcase_add_loop_test(tc, fdpass_recv_finds_fds_after_credentials, 0, 3);
	tcase_add_loop_test(tc,
	    fdpass_recv_takes_fds_of_two_rights_messages, 0, 3);
	tcase_add_loop_test(tc, fdpass_cut_message_is_emsgsize_and_closes_fds,
	    0, 2 * N_VIA);
	tcase_add_loop_test(tc,
	    fdpass_other_receive_paths_close_arriving_fds, 0, 8);
	tcase_add_loop_test(tc, fdpass_recv_returns_zero_at_end_of_stream,
	    0, 2);
	suite_add_tcase(s, tc);

	tc = sx_tcase("streams", 20);
	tcase_add_test(tc, fdpass_partial_stream_send_carries_fds_once);
	tcase_add_test(tc,
	    fdpass_send_to_full_stream_times_out_and_sends_no_fds);
	suite_add_tcase(s, tc);

	tc = sx_tcase("processes", 10);
	tcase_add_loop_test(tc,
	    fdpass_ctrunc_by_rlimit_is_emsgsize_without_leak, 0, 2);
	tcase_add_test(tc, fdpass_received_fds_do_not_survive_exec);
	tcase_add_test(tc, fdpass_fd_from_child_reaches_its_file);
	tcase_add_test(tc, fdpass_fds_cross_between_processes_over_a_listener);
	suite_add_tcase(s, tc);
	return s;
}
