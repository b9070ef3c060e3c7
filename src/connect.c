/* SPDX-License-Identifier: MIT */
/*
 * connect.c - sockx_connect: a connected handle within one deadline.
 *
 * Invariant: an unconnected socket is never returned.  TCP's in-progress
 * connect is waited for with the one wait primitive and judged by
 * SO_ERROR; a TCP socket that connected to itself is refused.  A unix
 * connect against a full backlog has no readiness event to wait for, so it
 * is retried with a bounded backoff until the deadline: it never spins and
 * it succeeds within a backoff step of the listener making room.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* A unix connect: retried while the listener's backlog is full. */
static int
connect_unix(int fd, const struct sx_addr *a, const struct sx_deadline *dl)
{
	int64_t step = SX_BACKOFF_MIN_NS;

	for (;;) {
		if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if (sx_deadline_expired(dl))
			return -ETIMEDOUT;
		sx_backoff(dl, &step);
	}
}

/*
 * A TCP socket whose local address is its peer's connected to itself
 * (simultaneous open on a loopback port nobody listens on).
 */
static int
is_self_connected(int fd, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage local;
	socklen_t n = sizeof(local);
	const struct sockaddr_in *l4, *p4;
	const struct sockaddr_in6 *l6, *p6;

	if (getsockname(fd, (struct sockaddr *)&local, &n) < 0 ||
	    local.ss_family != peer->ss_family)
		return 0;
	if (peer->ss_family == AF_INET) {
		l4 = (const struct sockaddr_in *)&local;
		p4 = (const struct sockaddr_in *)peer;
		return l4->sin_port == p4->sin_port &&
		    l4->sin_addr.s_addr == p4->sin_addr.s_addr;
	}
	l6 = (const struct sockaddr_in6 *)&local;
	p6 = (const struct sockaddr_in6 *)peer;
	return l6->sin6_port == p6->sin6_port &&
	    memcmp(&l6->sin6_addr, &p6->sin6_addr, sizeof(p6->sin6_addr)) == 0;
}

/* A TCP connect: in progress until writable, then SO_ERROR decides. */
static int
connect_tcp(int fd, const struct sx_addr *a, const struct sx_deadline *dl)
{
	struct sx_waitfd w = { .fd = fd, .events = SOCKX_WRITABLE };
	socklen_t n = sizeof(int);
	int r, err;

	r = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	/* After EINTR the kernel goes on connecting, as after EINPROGRESS. */
	if (r < 0 && errno != EINPROGRESS && errno != EINTR)
		return -errno;
	if (r < 0) {
		r = sx_wait(&w, 1, dl);
		if (r < 0)
			return r;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n) < 0)
			return -errno;
		if (err != 0)
			return -err;
	}
	return is_self_connected(fd, &a->ss) ? -ECONNREFUSED : 0;
}

static int
connect_addr(int fd, const struct sx_addr *a, const struct sx_deadline *dl)
{
	if (a->ss.ss_family == AF_UNIX)
		return connect_unix(fd, a, dl);
	if (a->type == SOCK_STREAM)
		return connect_tcp(fd, a, dl);
	/* UDP: connect() only sets the peer; it cannot block. */
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
		return -errno;
	return 0;
}

/* Port 0 and the autobind address name nothing to connect to. */
static int
check_peer(const struct sx_addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;

	switch (a->ss.ss_family) {
	case AF_INET:
		return sin->sin_port == 0 ? -EINVAL : 0;
	case AF_INET6:
		return sin6->sin6_port == 0 ? -EINVAL : 0;
	default:
		return a->len <= sizeof(sa_family_t) ? -EINVAL : 0;
	}
}

SX_EXPORT int
sockx_connect(sockx **out, const char *address, int timeout_ms)
{
	struct sx_deadline dl;
	struct sx_addr a;
	int fd = -1, r;
	sockx *s;

	if (out == NULL || address == NULL)
		return sx_ret(-EINVAL);
	r = sx_deadline_start(&dl, timeout_ms);
	if (r < 0)
		return sx_ret(r);
	r = sx_addr_open(&a, address);
	if (r < 0)
		return sx_ret(r);
	r = check_peer(&a);
	if (r < 0)
		goto fail;
	fd = socket(a.ss.ss_family, a.type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	r = connect_addr(fd, &a, &dl);
	if (r < 0)
		goto fail;
	s = sx_handle_new(fd, a.ss.ss_family, a.type);
	if (s == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (a.dirfd >= 0)
		s->flags |= SX_LONG_PATH;
	sx_addr_close(&a);
	*out = s;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	sx_addr_close(&a);
	return sx_ret(r);
}
