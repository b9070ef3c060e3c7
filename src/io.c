/* SPDX-License-Identifier: MIT */
/*
 * io.c - timed I/O: read, write, their _full loops, sendto, recvfrom and
 * wait.
 *
 * Invariants: every call tries the system call first and waits only after
 * EAGAIN, under the one deadline it took when it started; nothing is sent
 * with SIGPIPE possible (MSG_NOSIGNAL); a datagram or seqpacket message
 * longer than the buffer is -EMSGSIZE, never a silent cut; a descriptor a
 * peer attached to the data is closed, never leaked into the caller's fd
 * table; no I/O call allocates memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* Room for the most descriptors and credentials one message can carry. */
#define CONTROL_SIZE \
	(CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS) + \
	CMSG_SPACE(sizeof(struct ucred)))

/* Close every descriptor in the control messages of m. */
static void
close_passed_fds(struct msghdr *m)
{
	struct cmsghdr *c;
	size_t i, n;
	int fd;

	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
	}
}

/* One receive attempt: the count, or -errno (-EAGAIN: would block). */
static ssize_t
recv_once(sockx *s, void *buf, size_t len, struct sockaddr_storage *from,
    socklen_t *fromlen)
{
	union {
		char buf[CONTROL_SIZE];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = {
		.msg_name = from,
		.msg_namelen = from != NULL ? sizeof(*from) : 0,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	socklen_t namelen = 0;
	ssize_t n;

	/* Only unix sockets carry descriptors. */
	if (s->family == AF_UNIX) {
		m.msg_control = control.buf;
		m.msg_controllen = sizeof(control.buf);
	} else if (from != NULL && s->type == SOCK_STREAM) {
		/*
		 * TCP names no sender: the peer is the sender.  Asked before
		 * the data is taken, so a failure loses no bytes.
		 */
		namelen = sizeof(*from);
		if (getpeername(s->fd, (struct sockaddr *)from, &namelen) < 0)
			return -errno;
		m.msg_name = NULL;
		m.msg_namelen = 0;
	}
	do
		n = recvmsg(s->fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (m.msg_controllen > 0)
		close_passed_fds(&m);
	if (m.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (namelen == 0 && from != NULL && m.msg_namelen == 0) {
		/* An unbound unix sender: the unnamed address. */
		from->ss_family = AF_UNIX;
		namelen = sizeof(sa_family_t);
	} else if (namelen == 0) {
		namelen = m.msg_namelen;
	}
	if (fromlen != NULL)
		*fromlen = namelen;
	return n;
}

/* Receive within dl; a stream read of 0 bytes returns 0 at once. */
static ssize_t
read_dl(sockx *s, void *buf, size_t len, struct sockaddr_storage *from,
    socklen_t *fromlen, const struct sx_deadline *dl)
{
	struct sx_retry rt = SX_RETRY_INIT;
	ssize_t n;
	int r;

	if (len == 0 && s->type == SOCK_STREAM)
		return 0;
	for (;;) {
		n = recv_once(s, buf, len, from, fromlen);
		if (n != -EAGAIN)
			return n;
		r = sx_wait_retry(&rt, s->fd, SOCKX_READABLE, dl);
		if (r < 0)
			return r;
	}
}

/* Send within dl; a stream write of 0 bytes returns 0 at once. */
static ssize_t
write_dl(sockx *s, const void *buf, size_t len, const struct sockaddr *to,
    socklen_t tolen, const struct sx_deadline *dl)
{
	struct sx_retry rt = SX_RETRY_INIT;
	ssize_t n;
	int r;

	if (len == 0 && s->type == SOCK_STREAM)
		return 0;
	for (;;) {
		n = sendto(s->fd, buf, len, MSG_NOSIGNAL, to, tolen);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = sx_wait_retry(&rt, s->fd, SOCKX_WRITABLE, dl);
		if (r < 0)
			return r;
	}
}

/* The checks every transfer shares, and the start of its deadline. */
static int
start(const sockx *s, const void *buf, size_t len, int timeout_ms,
    struct sx_deadline *dl)
{
	if (s == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	return sx_deadline_start(dl, timeout_ms);
}

SX_EXPORT ssize_t
sockx_read(sockx *s, void *buf, size_t len, int timeout_ms)
{
	struct sx_deadline dl;
	int r;

	r = start(s, buf, len, timeout_ms, &dl);
	if (r < 0)
		return sx_sret(r);
	return sx_sret(read_dl(s, buf, len, NULL, NULL, &dl));
}

SX_EXPORT ssize_t
sockx_write(sockx *s, const void *buf, size_t len, int timeout_ms)
{
	struct sx_deadline dl;
	int r;

	r = start(s, buf, len, timeout_ms, &dl);
	if (r < 0)
		return sx_sret(r);
	return sx_sret(write_dl(s, buf, len, NULL, 0, &dl));
}

/*
 * The _full loop of both directions: move all len bytes under one
 * deadline, stopping early only at end of stream (a read of 0) or on an
 * error; *done always learns how many bytes moved.
 */
static ssize_t
full(sockx *s, const void *buf, size_t len, size_t *done, int timeout_ms,
    int writing)
{
	struct sx_deadline dl;
	size_t moved = 0;
	ssize_t n;

	n = start(s, buf, len, timeout_ms, &dl);
	while (n >= 0 && moved < len) {
		if (writing)
			n = write_dl(s, (const char *)buf + moved, len - moved,
			    NULL, 0, &dl);
		else
			n = read_dl(s, (char *)buf + moved, len - moved, NULL,
			    NULL, &dl);
		if (n == 0)
			break;		/* end of stream */
		if (n > 0)
			moved += (size_t)n;
	}
	if (done != NULL)
		*done = moved;
	return sx_sret(n < 0 ? n : (ssize_t)moved);
}

SX_EXPORT ssize_t
sockx_read_full(sockx *s, void *buf, size_t len, size_t *done,
    int timeout_ms)
{
	return full(s, buf, len, done, timeout_ms, 0);
}

SX_EXPORT ssize_t
sockx_write_full(sockx *s, const void *buf, size_t len, size_t *done,
    int timeout_ms)
{
	return full(s, buf, len, done, timeout_ms, 1);
}

SX_EXPORT ssize_t
sockx_sendto(sockx *s, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen, int timeout_ms)
{
	struct sx_deadline dl;
	int r;

	if ((to == NULL) != (tolen == 0))
		return sx_sret(-EINVAL);
	r = start(s, buf, len, timeout_ms, &dl);
	if (r < 0)
		return sx_sret(r);
	return sx_sret(write_dl(s, buf, len, to, tolen, &dl));
}

SX_EXPORT ssize_t
sockx_recvfrom(sockx *s, void *buf, size_t len,
    struct sockaddr_storage *from, socklen_t *fromlen, int timeout_ms)
{
	struct sockaddr_storage ss;
	struct sx_deadline dl;
	socklen_t sl;
	ssize_t n;

	if ((from == NULL) != (fromlen == NULL))
		return sx_sret(-EINVAL);
	n = start(s, buf, len, timeout_ms, &dl);
	if (n < 0)
		return sx_sret(n);
	n = read_dl(s, buf, len, from != NULL ? &ss : NULL,
	    from != NULL ? &sl : NULL, &dl);
	if (n >= 0 && from != NULL) {
		memcpy(from, &ss, sl);
		*fromlen = sl;
	}
	return sx_sret(n);
}

SX_EXPORT int
sockx_wait(sockx *s, int events, int timeout_ms)
{
	struct sx_waitfd w;
	struct sx_deadline dl;
	int r;

	if (s == NULL || events == 0 ||
	    (events & ~(SOCKX_READABLE | SOCKX_WRITABLE)))
		return sx_ret(-EINVAL);
	r = sx_deadline_start(&dl, timeout_ms);
	if (r < 0)
		return sx_ret(r);
	w.fd = s->fd;
	w.events = events;
	r = sx_wait(&w, 1, &dl);
	return sx_ret(r < 0 ? r : w.revents);
}
