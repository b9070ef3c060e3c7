/* SPDX-License-Identifier: MIT */
/*
 * unimplemented.c - the functions of the 1.0 API whose modules have not
 * landed yet.  Each keeps its exported name and signature and fails with
 * -ENOSYS (errno ENOSYS), so programs link against the final ABI today.
 * A function leaves this file for its own module (handle.c, io.c, ...)
 * when that module lands; when this file is empty it goes.
 */
#include <errno.h>

#include "internal.h"

SX_EXPORT int
sockx_connect_any(sockx **out, const char *const *addresses, size_t n,
    int timeout_ms)
{
	(void)out, (void)addresses, (void)n, (void)timeout_ms;
	return sx_ret(-ENOSYS);
}

SX_EXPORT ssize_t
sockx_send_fds(sockx *s, const void *buf, size_t len, const int *fds,
    size_t nfds, int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)fds, (void)nfds;
	(void)timeout_ms;
	return sx_sret(-ENOSYS);
}

SX_EXPORT ssize_t
sockx_recv_fds(sockx *s, void *buf, size_t len, int *fds, size_t *nfds,
    int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)fds, (void)nfds;
	(void)timeout_ms;
	return sx_sret(-ENOSYS);
}

SX_EXPORT int
sockx_peer_cred(sockx *s, struct sockx_cred *cred)
{
	(void)s, (void)cred;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_peer_pidfd(sockx *s)
{
	(void)s;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_set_passcred(sockx *s, int on)
{
	(void)s, (void)on;
	return sx_ret(-ENOSYS);
}

SX_EXPORT ssize_t
sockx_send_cred(sockx *s, const void *buf, size_t len,
    const struct sockx_cred *cred, int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)cred, (void)timeout_ms;
	return sx_sret(-ENOSYS);
}

SX_EXPORT ssize_t
sockx_recv_cred(sockx *s, void *buf, size_t len, struct sockx_cred *cred,
    int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)cred, (void)timeout_ms;
	return sx_sret(-ENOSYS);
}
