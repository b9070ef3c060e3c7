/* SPDX-License-Identifier: MIT */
/*
 * pair.c - sockx_pair: two connected AF_UNIX handles.
 *
 * Invariant: either both handles exist and each owns one end, or neither
 * does and both descriptors are closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

SX_EXPORT int
sockx_pair(sockx **a, sockx **b, int type)
{
	sockx *sa = NULL, *sb = NULL;
	int fds[2], r;

	if (a == NULL || b == NULL || a == b ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM &&
	    type != SOCK_SEQPACKET))
		return sx_ret(-EINVAL);
	if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    fds) < 0)
		return sx_ret(-errno);
	sa = sx_handle_new(fds[0], AF_UNIX, type);
	sb = sx_handle_new(fds[1], AF_UNIX, type);
	if (sa == NULL || sb == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	*a = sa;
	*b = sb;
	return 0;
fail:
	free(sa);
	free(sb);
	close(fds[0]);
	close(fds[1]);
	return sx_ret(r);
}
