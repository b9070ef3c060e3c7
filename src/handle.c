/* SPDX-License-Identifier: MIT */
/*
 * handle.c - the life of a handle: adopt, fd, release, kernel-timeout
 * mode, shutdown, linger, close, abort, and the local and peer addresses.
 *
 * Invariant: a handle owns exactly one descriptor, in FD_CLOEXEC mode and
 * O_NONBLOCK unless kernel-timeout mode is on, from the moment it exists
 * until exactly one of sockx_close, sockx_abort or sockx_release frees it.
 * Closing a listener made with SOCKX_UNLINK_ON_CLOSE removes its socket
 * file first, and only in the process that bound it and only if the file
 * is still the one it bound: a forked child that closes its inherited copy
 * leaves the parent's live file alone.  A member of a poll set leaves it
 * first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

sockx *
sx_handle_new(int fd, int family, int type)
{
	sockx *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->fd = fd;
	s->family = family;
	s->type = type;
	s->pm.slot = SIZE_MAX;
	s->pm.end_ns = INT64_MAX;
	s->pm.key_ns = INT64_MAX;
	return s;
}

void
sx_unlink_if_ours(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == dev && st.st_ino == ino)
		unlink(path);
}

/* Free s and close its descriptor; the close() result, EINTR aside. */
static int
destroy(sockx *s)
{
	int r = 0;

	if (s->pm.set != NULL)
		sx_poll_forget(s);
	if (s->unlink_path != NULL && s->unlink_pid == getpid())
		sx_unlink_if_ours(s->unlink_path, s->dev, s->ino);
	/*
	 * Linux releases the descriptor whatever close() returns.  EINTR
	 * (a signal during a linger) means it is closed but the linger was
	 * cut short: -EINPROGRESS, as POSIX.1-2024 names that case.
	 */
	if (close(s->fd) < 0)
		r = errno == EINTR ? -EINPROGRESS : -errno;
	free(s->unlink_path);
	free(s);
	return r;
}

SX_EXPORT int
sockx_adopt(sockx **out, int fd)
{
	int family, type, fl, r;
	socklen_t n;
	sockx *s;

	if (out == NULL)
		return sx_ret(-EINVAL);
	if (fd < 0)
		return sx_ret(-EBADF);
	n = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &n) < 0)
		return sx_ret(-errno);
	n = sizeof(family);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &n) < 0)
		return sx_ret(-errno);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return sx_ret(-errno);
	s = sx_handle_new(fd, family, type);
	if (s == NULL)
		return sx_ret(-ENOMEM);
	/*
	 * A security module may refuse either; then the descriptor goes
	 * back to the caller as it came.
	 */
	r = 0;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		r = -errno;
	} else if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = -errno;
		fcntl(fd, F_SETFL, fl);
	}
	if (r < 0) {
		free(s);
		return sx_ret(r);
	}
	*out = s;
	return 0;
}

SX_EXPORT int
sockx_fd(const sockx *s)
{
	return s == NULL ? sx_ret(-EINVAL) : s->fd;
}

SX_EXPORT int
sockx_release(sockx *s)
{
	int fd;

	if (s == NULL)
		return sx_ret(-EINVAL);
	if (s->pm.set != NULL)
		sx_poll_forget(s);
	fd = s->fd;
	free(s->unlink_path);
	free(s);
	return fd;
}

SX_EXPORT int
sockx_shutdown(sockx *s, int how)
{
	if (s == NULL || (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR))
		return sx_ret(-EINVAL);
	if (shutdown(s->fd, how) < 0)
		return sx_ret(-errno);
	return 0;
}

static int
set_linger(int fd, int onoff, int seconds)
{
	struct linger l = { .l_onoff = onoff, .l_linger = seconds };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) < 0)
		return -errno;
	return 0;
}

SX_EXPORT int
sockx_set_kernel_timeouts(sockx *s, int on)
{
	int fl, listening = 0;
	socklen_t len = sizeof(listening);

	if (s == NULL)
		return sx_ret(-EINVAL);
	/* A blocking listener would make sockx_accept block. */
	if (on && (getsockopt(s->fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	    &len) < 0 || listening))
		return sx_ret(listening ? -EOPNOTSUPP : -errno);
	fl = fcntl(s->fd, F_GETFL);
	if (fl < 0)
		return sx_ret(-errno);
	fl = on ? fl & ~O_NONBLOCK : fl | O_NONBLOCK;
	if (fcntl(s->fd, F_SETFL, fl) < 0)
		return sx_ret(-errno);
	if (on) {
		s->flags |= SX_KERNEL_TIMEOUTS;
		s->rcvtimeo_ns = -1;	/* the kernel's values are unknown */
		s->sndtimeo_ns = -1;
	} else {
		s->flags &= ~SX_KERNEL_TIMEOUTS;
	}
	return 0;
}

SX_EXPORT int
sockx_set_linger(sockx *s, int seconds)
{
	if (s == NULL)
		return sx_ret(-EINVAL);
	return sx_ret(set_linger(s->fd, seconds >= 0, seconds < 0 ? 0 :
	    seconds));
}

SX_EXPORT int
sockx_close(sockx *s)
{
	if (s == NULL)
		return 0;
	return sx_ret(destroy(s));
}

SX_EXPORT int
sockx_abort(sockx *s)
{
	if (s == NULL)
		return 0;
	/*
	 * A zero linger makes TCP send RST and drop unsent data.  Where it
	 * cannot be set (not TCP, already reset), a plain close is the abort.
	 */
	set_linger(s->fd, 1, 0);
	return sx_ret(destroy(s));
}

static int
get_name(const sockx *s, struct sockaddr_storage *addr, socklen_t *len,
    int peer)
{
	struct sockaddr_storage ss;
	socklen_t n = sizeof(ss);
	int r;

	if (s == NULL || addr == NULL || len == NULL)
		return sx_ret(-EINVAL);
	if (s->flags & SX_LONG_PATH)
		return sx_ret(-ENAMETOOLONG);
	r = peer ? getpeername(s->fd, (struct sockaddr *)&ss, &n) :
	    getsockname(s->fd, (struct sockaddr *)&ss, &n);
	if (r < 0)
		return sx_ret(-errno);
	memcpy(addr, &ss, sizeof(ss));
	*len = n;
	return 0;
}

SX_EXPORT int
sockx_local_addr(const sockx *s, struct sockaddr_storage *addr,
    socklen_t *len)
{
	return get_name(s, addr, len, 0);
}

SX_EXPORT int
sockx_peer_addr(const sockx *s, struct sockaddr_storage *addr,
    socklen_t *len)
{
	return get_name(s, addr, len, 1);
}
