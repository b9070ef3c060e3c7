/* SPDX-License-Identifier: MIT */
/*
 * unimplemented.c - the functions of the 1.0 API whose modules have not
 * landed yet.  Each keeps its exported name and signature and fails with
 * -ENOSYS (errno ENOSYS), so programs link against the final ABI today.
 * A function leaves this file for its own module (handle.c, io.c, ...)
 * when that module lands; when this file is empty it goes.
 *
 * No handle can exist yet, so the only handle these can see is NULL; the
 * NULL cases the contract fixes already behave as they will.
 */
#include <errno.h>

#include "internal.h"

SX_EXPORT int
sockx_connect(sockx **out, const char *address, int timeout_ms)
{
	(void)out, (void)address, (void)timeout_ms;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_listen(sockx **out, const char *address, int backlog, unsigned flags,
    unsigned mode)
{
	(void)out, (void)address, (void)backlog, (void)flags, (void)mode;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_accept(sockx *listener, sockx **out, int timeout_ms)
{
	(void)listener, (void)out, (void)timeout_ms;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_pair(sockx **a, sockx **b, int type)
{
	(void)a, (void)b, (void)type;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_adopt(sockx **out, int fd)
{
	(void)out, (void)fd;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_fd(const sockx *s)
{
	return sx_ret(s == NULL ? -EINVAL : -ENOSYS);
}

SX_EXPORT int
sockx_release(sockx *s)
{
	return sx_ret(s == NULL ? -EINVAL : -ENOSYS);
}

SX_EXPORT ssize_t
sockx_read(sockx *s, void *buf, size_t len, int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)timeout_ms;
	return sx_sret(-ENOSYS);
}

SX_EXPORT ssize_t
sockx_write(sockx *s, const void *buf, size_t len, int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)timeout_ms;
	return sx_sret(-ENOSYS);
}

SX_EXPORT ssize_t
sockx_read_full(sockx *s, void *buf, size_t len, size_t *done,
    int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)done, (void)timeout_ms;
	return sx_sret(-ENOSYS);
}

SX_EXPORT ssize_t
sockx_write_full(sockx *s, const void *buf, size_t len, size_t *done,
    int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)done, (void)timeout_ms;
	return sx_sret(-ENOSYS);
}

SX_EXPORT ssize_t
sockx_sendto(sockx *s, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen, int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)to, (void)tolen;
	(void)timeout_ms;
	return sx_sret(-ENOSYS);
}

SX_EXPORT ssize_t
sockx_recvfrom(sockx *s, void *buf, size_t len,
    struct sockaddr_storage *from, socklen_t *fromlen, int timeout_ms)
{
	(void)s, (void)buf, (void)len, (void)from, (void)fromlen;
	(void)timeout_ms;
	return sx_sret(-ENOSYS);
}

SX_EXPORT int
sockx_wait(sockx *s, int events, int timeout_ms)
{
	(void)s, (void)events, (void)timeout_ms;
	return sx_ret(-ENOSYS);
}

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

SX_EXPORT int
sockx_shutdown(sockx *s, int how)
{
	(void)s, (void)how;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_set_linger(sockx *s, int seconds)
{
	(void)s, (void)seconds;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_close(sockx *s)
{
	return s == NULL ? 0 : sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_abort(sockx *s)
{
	return s == NULL ? 0 : sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_local_addr(const sockx *s, struct sockaddr_storage *addr,
    socklen_t *len)
{
	(void)s, (void)addr, (void)len;
	return sx_ret(-ENOSYS);
}

SX_EXPORT int
sockx_peer_addr(const sockx *s, struct sockaddr_storage *addr,
    socklen_t *len)
{
	(void)s, (void)addr, (void)len;
	return sx_ret(-ENOSYS);
}
