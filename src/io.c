/* SPDX-License-Identifier: MIT */
/*
 * io.c - timed I/O: read, write, their _full loops, sendto, recvfrom and
 * wait, and the one receive and send loops that descriptor passing and
 * credentials share (sx_recv_dl, sx_send_dl).
 *
 * Invariants: every call tries the system call first and waits only after
 * EAGAIN, except a receive on a handle whose last receive had to wait,
 * which waits first (adaptive waiting, internal.h); all under the one
 * deadline of the call (taken lazily, see deadline.c); timeout 0 is
 * exactly one try and no wait; nothing is sent
 * with SIGPIPE possible (MSG_NOSIGNAL); a datagram or seqpacket message
 * longer than the buffer is -EMSGSIZE, never a silent cut; every
 * descriptor that arrives with data is either handed to a caller that asked
 * for it (sockx_recv_fds) or closed, never left in the fd table; no I/O
 * call allocates memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "internal.h"

#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04	/* Linux 6.5; arrives only with SO_PASSPIDFD */
#endif

/*
 * Room for everything one message can carry: the most descriptors, the
 * credentials and a pidfd.  A receive always offers all of it, so the
 * caller's capacity never decides what the kernel drops.
 */
#define CONTROL_SIZE \
	(CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS) + \
	CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int)))

/* The number of descriptors c carries (0 if it carries none). */
static size_t
fds_in(const struct cmsghdr *c)
{
	if (c->cmsg_level != SOL_SOCKET ||
	    (c->cmsg_type != SCM_RIGHTS && c->cmsg_type != SCM_PIDFD))
		return 0;
	return (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
}

/*
 * Hand what the control messages of m carry to rx (NULL: nothing wanted):
 * every SCM_RIGHTS descriptor if rx takes descriptors and has room for all
 * of them, else none (rx->fds is then not written); the credentials.
 * Every descriptor not handed over is closed.  -EMSGSIZE when rx takes
 * descriptors and could not have them all, or the data was cut
 * (MSG_TRUNC).  The descriptors are counted first only when rx takes
 * them.
 */
static __attribute__((noinline)) int
take_control(struct msghdr *m, struct sx_rx *rx)
{
	struct cmsghdr *c;
	struct ucred uc;
	size_t i, n, total = 0;
	int r = 0, fd, want = rx != NULL && rx->take_fds;

	if (want)
		for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c))
			if (c->cmsg_type == SCM_RIGHTS)
				total += fds_in(c);
	if (m->msg_flags & MSG_TRUNC)
		r = -EMSGSIZE;
	else if (want && ((m->msg_flags & MSG_CTRUNC) || total > rx->cap))
		r = -EMSGSIZE;
	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		n = fds_in(c);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (r == 0 && want && c->cmsg_type == SCM_RIGHTS)
				rx->fds[rx->nfds++] = fd;
			else
				close(fd);
		}
		if (rx != NULL && rx->cred != NULL &&
		    c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(uc))) {
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			/* pid 0: the kernel's placeholder, not a sender. */
			if (uc.pid != 0) {
				rx->cred->pid = uc.pid;
				rx->cred->uid = uc.uid;
				rx->cred->gid = uc.gid;
			}
		}
	}
	return r;
}

/*
 * One receive attempt with the extra recvmsg flags: the count, or -errno
 * (-EAGAIN: would block or timed out; -EINTR: a signal came).  The
 * control buffer is offered on unix sockets alone, and looked at only
 * when something came in it (or was cut).
 */
static inline __attribute__((always_inline)) ssize_t
recv_once(sockx *s, void *buf, size_t len, struct sockaddr_storage *from,
    socklen_t *fromlen, struct sx_rx *rx, int flags)
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
	int r;

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
	n = recvmsg(s->fd, &m, MSG_CMSG_CLOEXEC | flags);
	if (n < 0)
		return -errno;
	if (m.msg_controllen != 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		r = take_control(&m, rx);
		if (r < 0)
			return r;
	}
	if (from == NULL)
		return n;
	if (namelen == 0 && m.msg_namelen == 0) {
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

/*
 * Kernel-timeout mode: the value for SO_RCVTIMEO or SO_SNDTIMEO when left
 * nanoseconds are left (INT64_MAX: no deadline): 7/8 of it, rounded up to
 * a millisecond; 0 (no limit) without a deadline.  The kernel's timer
 * wheel lets a wait of t end up to t/8 late (coarser slots for longer
 * timers): arming 7/8 ends the first wait by the deadline, and the next,
 * for what is left, runs on ever finer slots, so a timeout ends within
 * about a clock tick of its deadline after a few wake-ups instead of up
 * to 12% late.
 */
static int64_t
arm_ns(int64_t left)
{
	if (left == INT64_MAX)
		return 0;
	left -= left / 8;
	return (left + 999999) / 1000000 * 1000000;
}

static int
set_timeo(sockx *s, int opt, int64_t *armed, int64_t ns)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ns / 1000000000);
	tv.tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
	if (setsockopt(s->fd, SOL_SOCKET, opt, &tv, sizeof(tv)) < 0)
		return -errno;
	*armed = ns;
	return 0;
}

/*
 * Kernel-timeout mode, before an attempt with left nanoseconds left (not
 * 0): make sure the armed option opt cannot outlast the deadline.  It is
 * re-armed only when what is armed is longer than the time left (or no
 * limit, or unknown); a shorter value stays, and the early wake-up it may
 * bring re-arms (early set) with the time left and tries again.  So calls
 * whose timeouts alternate (a header and a body timeout) settle on the
 * shorter one and make no setsockopt() at all.
 */
static int
arm(sockx *s, int opt, int64_t left, int early)
{
	int64_t *armed = opt == SO_RCVTIMEO ? &s->rcvtimeo_ns : &s->sndtimeo_ns;
	int64_t want = arm_ns(left);

	if (!early && (left == INT64_MAX ? *armed >= 0 :
	    *armed > 0 && *armed <= left))
		return 0;
	if (want == *armed)
		return 0;
	return set_timeo(s, opt, armed, want);
}

/*
 * A transfer in kernel-timeout mode: the attempt sleeps in the system
 * call under the armed option; EAGAIN then means that the armed time ran
 * out, which is -ETIMEDOUT once the deadline has passed too, and else one
 * more attempt for what is left.  With no time left the attempt only
 * tries (MSG_DONTWAIT).  The deadline is taken before the first attempt,
 * which may sleep.
 */
static inline __attribute__((always_inline)) ssize_t
kernel_xfer(sockx *s, void *buf, size_t len, struct sockaddr_storage *from,
    socklen_t *fromlen, struct sx_rx *rx, const struct msghdr *out,
    const struct sx_deadline *dl)
{
	int opt = out != NULL ? SO_SNDTIMEO : SO_RCVTIMEO;
	int64_t left = sx_dl_left(dl);
	int early = 0, flags, r;
	ssize_t n;

	for (;;) {
		flags = 0;
		if (left == 0) {
			flags = MSG_DONTWAIT;
		} else {
			r = arm(s, opt, left, early);
			if (r < 0)
				return r;
		}
		if (out != NULL) {
			n = sendmsg(s->fd, out, MSG_NOSIGNAL | flags);
			if (n < 0)
				n = -errno;
		} else {
			n = recv_once(s, buf, len, from, fromlen, rx, flags);
		}
		if (n >= 0 || (n != -EAGAIN && n != -EINTR))
			return n;
		if (n == -EAGAIN && left == 0)
			return -ETIMEDOUT;
		left = sx_dl_left(dl);
		if (n == -EAGAIN) {
			if (left == 0)
				return -ETIMEDOUT;
			early = 1;
		}
	}
}

/*
 * Default mode: wait first if the last receive on s had to wait (and the
 * call may wait at all).  A wait that ran out of time still lets the call
 * make its one try.  Returns 0 or -errno; rt learns that the wait said
 * ready.
 */
static int
wait_first(sockx *s, struct sx_retry *rt, const struct sx_deadline *dl)
{
	int r, slept;

	if (sx_deadline_none(dl))
		return 0;
	r = sx_wait_fd(s->fd, SOCKX_READABLE, dl, &slept);
	if (r == -ETIMEDOUT)
		return 0;
	if (r < 0)
		return r;
	rt->was_ready = 1;
	sx_rx_waited(s, slept);
	return 0;
}

/*
 * The receive loop; inlined into sockx_read, where from, fromlen and rx
 * are NULL and their code goes away.
 */
static inline __attribute__((always_inline)) ssize_t
recv_dl(sockx *s, void *buf, size_t len, struct sockaddr_storage *from,
    socklen_t *fromlen, struct sx_rx *rx, const struct sx_deadline *dl)
{
	struct sx_retry rt = SX_RETRY_INIT;
	ssize_t n;
	int r;

	if (len == 0 && s->type == SOCK_STREAM)
		return 0;
	if (s->flags & SX_KERNEL_TIMEOUTS)
		return kernel_xfer(s, buf, len, from, fromlen, rx, NULL, dl);
	if (sx_rx_wait_get(s)) {
		r = wait_first(s, &rt, dl);
		if (r < 0)
			return r;
	}
	for (;;) {
		n = recv_once(s, buf, len, from, fromlen, rx, 0);
		if (n >= 0 || (n != -EAGAIN && n != -EINTR))
			return n;
		if (n == -EAGAIN) {
			sx_rx_wait_set(s, SX_RX_WAITS);
			/* Timeout 0: exactly one try. */
			if (sx_deadline_none(dl))
				return -ETIMEDOUT;
			r = sx_wait_retry(&rt, s->fd, SOCKX_READABLE, dl);
			if (r < 0)
				return r;
		}
	}
}

ssize_t
sx_recv_dl(sockx *s, void *buf, size_t len, struct sockaddr_storage *from,
    socklen_t *fromlen, struct sx_rx *rx, const struct sx_deadline *dl)
{
	return recv_dl(s, buf, len, from, fromlen, rx, dl);
}

/* The send loop; inlined into the plain writes. */
static inline __attribute__((always_inline)) ssize_t
send_dl(sockx *s, const struct msghdr *m, const struct sx_deadline *dl)
{
	struct sx_retry rt = SX_RETRY_INIT;
	ssize_t n;
	int r;

	if (s->flags & SX_KERNEL_TIMEOUTS)
		return kernel_xfer(s, NULL, 0, NULL, NULL, NULL, m, dl);
	for (;;) {
		n = sendmsg(s->fd, m, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EAGAIN) {
			if (sx_deadline_none(dl))
				return -ETIMEDOUT;
			r = sx_wait_retry(&rt, s->fd, SOCKX_WRITABLE, dl);
			if (r < 0)
				return r;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
}

ssize_t
sx_send_dl(sockx *s, const struct msghdr *m, const struct sx_deadline *dl)
{
	return send_dl(s, m, dl);
}

/* Send within dl; a stream write of 0 bytes returns 0 at once. */
static inline __attribute__((always_inline)) ssize_t
write_dl(sockx *s, const void *buf, size_t len, const struct sockaddr *to,
    socklen_t tolen, const struct sx_deadline *dl)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = {
		.msg_name = (void *)to,
		.msg_namelen = tolen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};

	if (len == 0 && s->type == SOCK_STREAM)
		return 0;
	return send_dl(s, &m, dl);
}

int
sx_io_start(const sockx *s, const void *buf, size_t len, int timeout_ms,
    struct sx_deadline *dl)
{
	if (s == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	return sx_deadline_start(dl, timeout_ms);
}

int
sx_io_begin(const sockx *s, const void *buf, size_t len, int timeout_ms,
    struct sx_deadline *dl)
{
	if (s == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	return sx_dl_lazy(dl, timeout_ms);
}

SX_EXPORT ssize_t
sockx_read(sockx *s, void *buf, size_t len, int timeout_ms)
{
	struct sx_deadline dl;

	if (s == NULL || (buf == NULL && len > 0) ||
	    sx_dl_lazy(&dl, timeout_ms) < 0)
		return sx_sret(-EINVAL);
	return sx_sret(recv_dl(s, buf, len, NULL, NULL, NULL, &dl));
}

SX_EXPORT ssize_t
sockx_write(sockx *s, const void *buf, size_t len, int timeout_ms)
{
	struct sx_deadline dl;

	if (s == NULL || (buf == NULL && len > 0) ||
	    sx_dl_lazy(&dl, timeout_ms) < 0)
		return sx_sret(-EINVAL);
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

	n = sx_io_start(s, buf, len, timeout_ms, &dl);
	while (n >= 0 && moved < len) {
		if (writing)
			n = write_dl(s, (const char *)buf + moved, len - moved,
			    NULL, 0, &dl);
		else
			n = sx_recv_dl(s, (char *)buf + moved, len - moved, NULL,
			    NULL, NULL, &dl);
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
	r = sx_io_begin(s, buf, len, timeout_ms, &dl);
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
	socklen_t sl = 0;	/* stays 0 when nothing was received */
	ssize_t n;

	if ((from == NULL) != (fromlen == NULL))
		return sx_sret(-EINVAL);
	n = sx_io_begin(s, buf, len, timeout_ms, &dl);
	if (n < 0)
		return sx_sret(n);
	n = sx_recv_dl(s, buf, len, from != NULL ? &ss : NULL,
	    from != NULL ? &sl : NULL, NULL, &dl);
	if (n == 0 && from != NULL && sl == 0) {
		/* A stream read of 0 bytes received nothing: the peer. */
		sl = sizeof(ss);
		if (getpeername(s->fd, (struct sockaddr *)&ss, &sl) < 0)
			n = -errno;
	}
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
