/* SPDX-License-Identifier: MIT */
/*
 * connect.c - sockx_connect and sockx_connect_any: a connected handle
 * within one deadline, to one address or to the first of several that
 * answers.
 *
 * Invariant: an unconnected socket is never returned.  TCP's in-progress
 * connect is waited for with the one wait primitive and judged by
 * SO_ERROR; a TCP socket that connected to itself is refused.  A unix
 * connect against a full backlog has no readiness event to wait for, so it
 * is retried with a bounded backoff until the deadline: it never spins and
 * it succeeds within a backoff step of the listener making room.
 * sockx_connect_any runs its attempts side by side in one loop, under one
 * wait, and closes every socket but the winner's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
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

/*
 * Where a TCP connect in progress stands once the wait said writable: 1
 * connected, 0 still in progress (a wake-up that came early), or -errno.
 * A peer name means connected; without one, SO_ERROR tells a failure
 * from a connect that has not finished.
 */
static int
tcp_result(int fd, const struct sx_addr *a)
{
	struct sockaddr_storage peer;
	socklen_t n = sizeof(peer);
	int err;

	if (getpeername(fd, (struct sockaddr *)&peer, &n) == 0)
		return is_self_connected(fd, &a->ss) ? -ECONNREFUSED : 1;
	if (errno != ENOTCONN)
		return -errno;
	n = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n) < 0)
		return -errno;
	return -err;
}

/* A TCP connect: in progress until writable and then connected. */
static int
connect_tcp(int fd, const struct sx_addr *a, const struct sx_deadline *dl)
{
	struct sx_retry rt = SX_RETRY_INIT;
	int r;

	r = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	/* After EINTR the kernel goes on connecting, as after EINPROGRESS. */
	if (r < 0 && errno != EINPROGRESS && errno != EINTR)
		return -errno;
	if (r == 0)
		return is_self_connected(fd, &a->ss) ? -ECONNREFUSED : 0;
	do {
		r = sx_wait_retry(&rt, fd, SOCKX_WRITABLE, dl);
		if (r < 0)
			return r;
		r = tcp_result(fd, a);
	} while (r == 0);
	return r < 0 ? r : 0;
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
		/* len 0: a long path, not resolved yet. */
		return a->len != 0 && a->len <= sizeof(sa_family_t) ?
		    -EINVAL : 0;
	}
}

/* A new handle for a connected fd (which it then owns), or NULL. */
static sockx *
connected(int fd, const struct sx_addr *a)
{
	sockx *s;

	s = sx_handle_new(fd, a->ss.ss_family, a->type);
	if (s != NULL && a->dirfd >= 0)
		s->flags |= SX_LONG_PATH;
	return s;
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
	s = connected(fd, &a);
	if (s == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	sx_addr_close(&a);
	*out = s;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	sx_addr_close(&a);
	return sx_ret(r);
}

/* ------------------------------------------------------------------ */
/* sockx_connect_any                                                   */
/* ------------------------------------------------------------------ */

#define STAGGER_NS ((int64_t)SOCKX_CONNECT_STAGGER_MS * 1000000)

/* One address of sockx_connect_any and its attempt. */
struct attempt {
	struct sx_addr a;
	int fd;			/* in flight: its socket; else -1 */
	int err;		/* failed: why */
	int64_t retry_ns;	/* backing off: when to look again (a unix
				   backlog full, a TCP wake-up too early) */
	int64_t step_ns;	/* ... and the backoff step after that */
};

/* Leave t out of the waits until a backoff step from now. */
static void
backoff(struct attempt *t, int64_t now)
{
	t->retry_ns = now + t->step_ns;
	if (t->step_ns < SX_BACKOFF_MAX_NS)
		t->step_ns *= 2;
}

/*
 * One connect(2) of t: 1 connected, 0 in flight (TCP in progress, or a
 * unix backlog full: retry_ns says when to try again), or -errno.
 */
static int
attempt_connect(struct attempt *t, int64_t now)
{
	int unix_ = t->a.ss.ss_family == AF_UNIX;

	t->retry_ns = 0;
	while (connect(t->fd, (const struct sockaddr *)&t->a.ss,
	    t->a.len) < 0) {
		if (errno == EINTR && unix_)
			continue;
		/* After EINTR TCP goes on connecting, as after EINPROGRESS. */
		if (!unix_ && (errno == EINPROGRESS || errno == EINTR))
			return 0;
		if (!unix_ || errno != EAGAIN)
			return -errno;
		backoff(t, now);
		return 0;
	}
	if (!unix_ && is_self_connected(t->fd, &t->a.ss))
		return -ECONNREFUSED;
	return 1;
}

/* Start the attempt t: as attempt_connect(). */
static int
attempt_start(struct attempt *t, int64_t now)
{
	int r;

	r = sx_addr_resolve(&t->a);
	if (r < 0)
		return r;
	t->fd = socket(t->a.ss.ss_family,
	    t->a.type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return -errno;
	t->step_ns = SX_BACKOFF_MIN_NS;
	return attempt_connect(t, now);
}

/* The attempt t failed with err: it closes its socket. */
static void
attempt_fail(struct attempt *t, int err)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->err = err;
}

/*
 * Wait for the attempts in flight, t[0] to t[n-1]: until a TCP connect in
 * progress is writable, or until wake_ns (the next start, a unix retry or
 * the deadline, whichever is first).
 */
static int
attempts_wait(struct attempt *t, size_t n, struct sx_waitfd *w,
    int64_t wake_ns)
{
	struct sx_deadline until = { .end_ns = wake_ns };
	size_t i, m = 0;
	int r;

	for (i = 0; i < n; i++) {
		if (t[i].fd < 0)
			continue;
		if (t[i].retry_ns != 0) {
			if (t[i].retry_ns < until.end_ns)
				until.end_ns = t[i].retry_ns;
			continue;
		}
		w[m].fd = t[i].fd;
		w[m].events = SOCKX_WRITABLE;
		w[m].revents = 0;
		m++;
	}
	if (m == 0) {
		sx_sleep_until(until.end_ns);
		return 0;
	}
	r = sx_wait_once(w, m, &until);
	return r == -EINTR ? 0 : r;
}

/*
 * After attempts_wait: judge every attempt in flight, in address order.
 * Returns the index of the first that connected, or n if none did; the
 * attempts that failed are closed, and *latest_failed learns whether the
 * latest one started (t[n-1]) was among them.
 */
static ssize_t
attempts_judge(struct attempt *t, size_t n, const struct sx_waitfd *w,
    int *latest_failed)
{
	int64_t now = sx_now_ns();
	size_t i, m = 0;
	int r;

	for (i = 0; i < n; i++) {
		if (t[i].fd < 0)
			continue;
		if (t[i].retry_ns == 0) {
			if (w[m++].revents == 0)
				continue;
			r = tcp_result(t[i].fd, &t[i].a);
			if (r == 0)		/* woke early: back off */
				backoff(&t[i], now);
		} else if (now < t[i].retry_ns) {
			continue;
		} else if (t[i].a.ss.ss_family == AF_UNIX) {
			r = attempt_connect(&t[i], now);
		} else {
			t[i].retry_ns = 0;	/* TCP: wait for it again */
			continue;
		}
		if (r == 1)
			return (ssize_t)i;
		if (r < 0) {
			attempt_fail(&t[i], r);
			if (i == n - 1)
				*latest_failed = 1;
		}
	}
	return (ssize_t)n;
}

/* Parse every address before anything is sent: a bad one fails it all. */
static int
attempts_parse(struct attempt *t, const char *const *addresses, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (addresses[i] == NULL)
			return -EINVAL;
		r = sx_addr_parse(&t[i].a, addresses[i]);
		if (r < 0)
			return r;
		if (t[i].a.type == SOCK_DGRAM)
			return -EINVAL;
		r = check_peer(&t[i].a);
		if (r < 0)
			return r;
	}
	return 0;
}

SX_EXPORT int
sockx_connect_any(sockx **out, const char *const *addresses, size_t n,
    int timeout_ms)
{
	struct attempt *t = NULL;
	struct sx_waitfd *w = NULL;
	struct sx_deadline dl;
	size_t i, started = 0, live = 0;
	int64_t now, next_ns = 0, wake_ns;
	int r, latest_failed, expired;
	ssize_t won = -1;
	sockx *s;

	if (out == NULL || addresses == NULL || n == 0)
		return sx_ret(-EINVAL);
	r = sx_deadline_start(&dl, timeout_ms);
	if (r < 0)
		return sx_ret(r);
	t = calloc(n, sizeof(*t));
	w = calloc(n, sizeof(*w));
	for (i = 0; t != NULL && i < n; i++) {
		t[i].fd = -1;		/* nothing to close yet */
		t[i].a.dirfd = -1;
	}
	if (t == NULL || w == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = attempts_parse(t, addresses, n);
	if (r < 0)
		goto out;
	for (;;) {
		/*
		 * Start the next attempt when its time has come: at once
		 * for the first, when the latest failed or nothing is in
		 * flight, else after the stagger.  Once the deadline has
		 * passed, only a failure starts one, and the attempts in
		 * flight get one last look, without waiting (a TCP connect
		 * on loopback is decided by then, though connect(2) said
		 * EINPROGRESS).
		 */
		now = sx_now_ns();
		expired = sx_deadline_expired(&dl);
		while (started < n &&
		    (live == 0 || (!expired && now >= next_ns))) {
			r = attempt_start(&t[started], now);
			next_ns = now + STAGGER_NS;
			if (r == 1) {
				won = (ssize_t)started;
				goto out;
			}
			if (r < 0) {
				attempt_fail(&t[started], r);
				next_ns = now;
			} else {
				live++;
			}
			started++;
		}
		if (live == 0) {
			r = t[0].err;		/* every attempt failed */
			goto out;
		}
		wake_ns = started < n && next_ns < dl.end_ns ? next_ns :
		    dl.end_ns;
		if (expired)
			wake_ns = now;	/* one last look, without waiting */
		r = attempts_wait(t, started, w, wake_ns);
		if (r < 0)
			goto out;
		latest_failed = 0;
		won = attempts_judge(t, started, w, &latest_failed);
		if (won < (ssize_t)started)
			goto out;
		won = -1;
		for (live = 0, i = 0; i < started; i++)
			live += t[i].fd >= 0;
		if (expired && live > 0) {
			r = -ETIMEDOUT;
			goto out;
		}
		if (latest_failed)
			next_ns = sx_now_ns();
	}
out:
	if (won >= 0) {
		s = connected(t[won].fd, &t[won].a);
		if (s == NULL) {
			r = -ENOMEM;
		} else {
			t[won].fd = -1;		/* the handle owns it now */
			*out = s;
			r = 0;
		}
	}
	for (i = 0; t != NULL && i < n; i++) {
		if (t[i].fd >= 0)
			close(t[i].fd);
		sx_addr_close(&t[i].a);
	}
	free(t);
	free(w);
	return sx_ret(r);
}
