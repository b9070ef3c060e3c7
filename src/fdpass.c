/* SPDX-License-Identifier: MIT */
/*
 * fdpass.c - descriptor passing with SCM_RIGHTS: sockx_send_fds and
 * sockx_recv_fds.
 *
 * Invariants: the descriptors ride on the first byte of one sendmsg(2) and
 * are never sent twice; a receive offers the kernel room for SOCKX_MAX_FDS
 * whatever the caller's capacity and hands over all that arrived or none
 * (every one closed, -EMSGSIZE); received descriptors are close-on-exec
 * from the moment they exist (MSG_CMSG_CLOEXEC).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

SX_EXPORT ssize_t
sockx_send_fds(sockx *s, const void *buf, size_t len, const int *fds,
    size_t nfds, int timeout_ms)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sx_deadline dl;
	struct cmsghdr *c;
	int r;

	r = sx_io_begin(s, buf, len, timeout_ms, &dl);
	if (r < 0)
		return sx_sret(r);
	if (nfds > SOCKX_MAX_FDS || (nfds > 0 && fds == NULL) ||
	    (len == 0 && s->type == SOCK_STREAM))
		return sx_sret(-EINVAL);
	if (s->family != AF_UNIX)
		return sx_sret(-EOPNOTSUPP);
	if (nfds > 0) {
		/*
		 * The kernel checks every descriptor before it queues a
		 * byte, so an invalid one fails (-EBADF) with nothing sent.
		 */
		/* Zeroed: the padding after the last fd is sent too. */
		memset(control.buf, 0, CMSG_SPACE(sizeof(int) * nfds));
		m.msg_control = control.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	return sx_sret(sx_send_dl(s, &m, &dl));
}

SX_EXPORT ssize_t
sockx_recv_fds(sockx *s, void *buf, size_t len, int *fds, size_t *nfds,
    int timeout_ms)
{
	struct sx_rx rx = { .take_fds = 1, .fds = fds };
	struct sx_deadline dl;
	ssize_t n;

	n = sx_io_begin(s, buf, len, timeout_ms, &dl);
	if (n < 0)
		return sx_sret(n);
	if (nfds == NULL || (*nfds > 0 && fds == NULL) ||
	    (len == 0 && s->type == SOCK_STREAM))
		return sx_sret(-EINVAL);
	if (s->family != AF_UNIX)
		return sx_sret(-EOPNOTSUPP);
	rx.cap = *nfds;
	n = sx_recv_dl(s, buf, len, NULL, NULL, &rx, &dl);
	if (n >= 0)
		*nfds = rx.nfds;
	return sx_sret(n);
}
