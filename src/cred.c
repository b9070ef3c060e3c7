/* SPDX-License-Identifier: MIT */
/*
 * cred.c - credentials: the peer's (SO_PEERCRED, SO_PEERPIDFD) and those
 * sent with a message (SO_PASSCRED, SCM_CREDENTIALS).
 *
 * Invariants: an answer is the kernel's record of a real process or an
 * error, never a placeholder: no success with uid -1 on a socket without a
 * peer, no pid 0 passed off as a sender, no pidfd of a process that is
 * gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/*
 * SO_PEERPIDFD (Linux 6.5) by its asm-generic number when the system
 * headers predate it; the architectures with their own numbering are left
 * out and get -EOPNOTSUPP.
 */
#if defined(__linux__) && !defined(SO_PEERPIDFD) && \
    !defined(__sparc__) && !defined(__hppa__) && !defined(__alpha__)
#define SO_PEERPIDFD 77
#endif

/*
 * The checks every call on a connected peer shares: a unix socket that is
 * not listening (a listener's SO_PEERCRED is its own).
 */
static int
check_peer(const sockx *s)
{
	int on = 0;
	socklen_t len = sizeof(on);

	if (s == NULL)
		return -EINVAL;
	if (s->family != AF_UNIX)
		return -EOPNOTSUPP;
	if (s->type == SOCK_DGRAM)
		return 0;
	if (getsockopt(s->fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0)
		return -errno;
	return on ? -ENOTCONN : 0;
}

SX_EXPORT int
sockx_peer_cred(sockx *s, struct sockx_cred *cred)
{
#ifdef SO_PEERCRED
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int r;

	if (cred == NULL)
		return sx_ret(-EINVAL);
	r = check_peer(s);
	if (r < 0)
		return sx_ret(r);
	if (getsockopt(s->fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return sx_ret(-errno);
	/* uid -1 (INVALID_UID) is the kernel's "no peer", never a user. */
	if (len < sizeof(uc) || uc.uid == (uid_t)-1)
		return sx_ret(-ENOTCONN);
	/* pid 0: the peer runs outside our pid namespace. */
	cred->pid = uc.pid != 0 ? uc.pid : -1;
	cred->uid = uc.uid;
	cred->gid = uc.gid;
	return 0;
#else
	(void)s, (void)cred;
	return sx_ret(-EOPNOTSUPP);
#endif
}

#ifdef SO_PEERPIDFD
/*
 * 1 if the process of pidfd has exited (reaped or a zombie), 0 if it
 * runs, or -errno: a pidfd turns readable when its process exits, which
 * the one wait primitive sees without waiting.
 */
static int
has_exited(int pidfd)
{
	struct sx_waitfd w = { .fd = pidfd, .events = SOCKX_READABLE };
	const struct sx_deadline now = { .end_ns = 0 };
	int r;

	do
		r = sx_wait_once(&w, 1, &now);
	while (r == -EINTR);
	return r < 0 ? r : r > 0;
}
#endif

SX_EXPORT int
sockx_peer_pidfd(sockx *s)
{
#ifdef SO_PEERPIDFD
	socklen_t len = sizeof(int);
	int fd = -1, r;

	r = check_peer(s);
	if (r < 0)
		goto fail;
	if (getsockopt(s->fd, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) < 0) {
		r = -errno;
		fd = -1;
		if (r == -ENODATA)		/* no peer recorded */
			r = -ENOTCONN;
		else if (r == -EINVAL)		/* kernels before 6.9: gone */
			r = -ESRCH;
		else if (r == -ENOPROTOOPT)	/* kernels before 6.5 */
			r = -EOPNOTSUPP;
		goto fail;
	}
	/*
	 * Newer kernels hand out pidfds of peers that have exited, even
	 * reaped ones, for their exit status; a peer that is gone is
	 * -ESRCH here.
	 */
	r = has_exited(fd);
	if (r != 0) {
		r = r < 0 ? r : -ESRCH;
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return sx_ret(r);
#else
	(void)s;
	return sx_ret(s == NULL ? -EINVAL : -EOPNOTSUPP);
#endif
}

SX_EXPORT int
sockx_set_passcred(sockx *s, int on)
{
#ifdef SO_PASSCRED
	on = on != 0;
	if (s == NULL)
		return sx_ret(-EINVAL);
	if (s->family != AF_UNIX)
		return sx_ret(-EOPNOTSUPP);
	if (setsockopt(s->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
		return sx_ret(-errno);
	return 0;
#else
	(void)on;
	return sx_ret(s == NULL ? -EINVAL : -EOPNOTSUPP);
#endif
}

SX_EXPORT ssize_t
sockx_send_cred(sockx *s, const void *buf, size_t len,
    const struct sockx_cred *cred, int timeout_ms)
{
#ifdef SCM_CREDENTIALS
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct sx_deadline dl;
	struct cmsghdr *c;
	struct ucred uc;
	int r;

	r = sx_io_begin(s, buf, len, timeout_ms, &dl);
	if (r < 0)
		return sx_sret(r);
	if (len == 0 && s->type == SOCK_STREAM)
		return sx_sret(-EINVAL);
	if (s->family != AF_UNIX)
		return sx_sret(-EOPNOTSUPP);
	if (cred != NULL) {
		uc.pid = cred->pid;
		uc.uid = cred->uid;
		uc.gid = cred->gid;
	} else {
		/* Effective ids, as SO_PEERCRED reports them. */
		uc.pid = getpid();
		uc.uid = geteuid();
		uc.gid = getegid();
	}
	/* Zeroed: the padding after the credentials is sent too. */
	memset(&control, 0, sizeof(control));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(uc));
	memcpy(CMSG_DATA(c), &uc, sizeof(uc));
	return sx_sret(sx_send_dl(s, &m, &dl));
#else
	(void)buf, (void)len, (void)cred, (void)timeout_ms;
	return sx_sret(s == NULL ? -EINVAL : -EOPNOTSUPP);
#endif
}

SX_EXPORT ssize_t
sockx_recv_cred(sockx *s, void *buf, size_t len, struct sockx_cred *cred,
    int timeout_ms)
{
	struct sockx_cred got = { -1, (uid_t)-1, (gid_t)-1 };
	struct sx_rx rx = { .cred = &got };
	struct sx_deadline dl;
	ssize_t n;

	n = sx_io_begin(s, buf, len, timeout_ms, &dl);
	if (n < 0)
		return sx_sret(n);
	if (cred == NULL || (len == 0 && s->type == SOCK_STREAM))
		return sx_sret(-EINVAL);
	if (s->family != AF_UNIX)
		return sx_sret(-EOPNOTSUPP);
	n = sx_recv_dl(s, buf, len, NULL, NULL, &rx, &dl);
	if (n >= 0)
		*cred = got;
	return sx_sret(n);
}
