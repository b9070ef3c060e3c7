/* SPDX-License-Identifier: MIT */
/*
 * listen.c - sockx_listen and sockx_accept.
 *
 * Invariants: a socket file gets its mode before it exists (the socket's
 * inode mode, set with fchmod() before bind(), is what the kernel gives
 * the file, narrowed by the umask), so no one ever sees wider permissions;
 * the process umask is never touched.  A stale socket file is removed
 * only while the directory is locked (flock) and only when a connect to it
 * is refused, so of two libsockx processes taking over the same path
 * exactly one wins and a live socket or a non-socket is never removed.
 * A file this module created is removed again if listen fails after bind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define LISTEN_FLAGS \
	(SOCKX_UNLINK_STALE | SOCKX_UNLINK_ON_CLOSE | SOCKX_V6ONLY)

/*
 * Lock the directory of path against other libsockx processes taking over
 * a stale socket in it.  Returns the locked descriptor or -errno.
 */
static int
lock_dir(const char *path)
{
	const char *base;
	char dir[PATH_MAX];
	int fd, r;

	r = sx_path_split(path, dir, &base);
	if (r < 0)
		return r;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/*
 * Is the file at a's path stale, a socket nobody listens on?  1 if so (or
 * if it is gone), 0 if it is something else or a live socket, or -errno
 * when the check itself failed.
 */
static int
is_stale(const struct sx_addr *a)
{
	struct stat st;
	int fd, r;

	if (lstat(a->path, &st) < 0)
		return errno == ENOENT ? 1 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return 0;
	fd = socket(AF_UNIX, a->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0)
		r = 0;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		r = 1;
	else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM || errno == EACCES || errno == EPERM)
		r = -errno;
	else
		r = 0;		/* live (EAGAIN: its backlog is full), or another type */
	close(fd);
	return r;
}

static int
bind_addr(int fd, const struct sx_addr *a, unsigned flags)
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->ss;
	int r;

	if (bind(fd, sa, a->len) == 0)
		return 0;
	if (errno != EADDRINUSE)
		return -errno;
	if (!(flags & SOCKX_UNLINK_STALE) || a->path == NULL)
		return -EADDRINUSE;
	r = is_stale(a);
	if (r <= 0)
		return r < 0 ? r : -EADDRINUSE;
	if (unlink(a->path) < 0 && errno != ENOENT)
		return -EADDRINUSE;
	return bind(fd, sa, a->len) == 0 ? 0 : -errno;
}

/* The socket options a listener needs before bind(). */
static int
prepare(int fd, const struct sx_addr *a, unsigned flags, unsigned mode)
{
	int on = 1;

	if (a->ss.ss_family != AF_UNIX && a->type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		return -errno;
	if (a->ss.ss_family == AF_INET6 && (flags & SOCKX_V6ONLY) &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		return -errno;
	if (mode != 0 && fchmod(fd, mode) < 0)
		return -errno;
	return 0;
}

/*
 * Widen the bound file's mode to exactly mode where the umask narrowed it
 * (it was never wider than mode at any moment).  The change must not
 * follow a symlink put in the socket's place; where the C library cannot
 * refuse to follow (fchmodat's AT_SYMLINK_NOFOLLOW needs /proc or
 * fchmodat2), the file is checked to be still ours right before chmod().
 */
static int
widen_mode(const struct sx_addr *a, unsigned mode, const struct stat *st)
{
	struct stat now;

	if (mode == 0 || (st->st_mode & 07777) == mode)
		return 0;
	if (fchmodat(AT_FDCWD, a->path, mode, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	if (lstat(a->path, &now) < 0)
		return -errno;
	if (!S_ISSOCK(now.st_mode) || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino)
		return -EADDRINUSE;
	return chmod(a->path, mode) == 0 ? 0 : -errno;
}

static int
check_listen(sockx **out, const char *address, unsigned flags,
    unsigned mode)
{
	if (out == NULL || address == NULL || (flags & ~LISTEN_FLAGS) ||
	    (mode & ~0777u))
		return -EINVAL;
	return 0;
}

SX_EXPORT int
sockx_listen(sockx **out, const char *address, int backlog, unsigned flags,
    unsigned mode)
{
	struct sx_addr a;
	struct stat st;
	int fd = -1, lock = -1, bound = 0, r;
	sockx *s;

	r = check_listen(out, address, flags, mode);
	if (r < 0)
		return sx_ret(r);
	if (sx_is_inherited(address))
		return sx_ret(sx_listen_inherited(out, address, flags, mode));
	r = sx_addr_open(&a, address);
	if (r < 0)
		return sx_ret(r);
	if (mode != 0 && a.path == NULL) {
		r = -EINVAL;
		goto fail;
	}
	fd = socket(a.ss.ss_family, a.type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	r = prepare(fd, &a, flags, mode);
	if (r < 0)
		goto fail;
	if (a.path != NULL && (flags & SOCKX_UNLINK_STALE)) {
		lock = lock_dir(a.path);
		if (lock < 0) {
			r = lock;
			goto fail;
		}
	}
	r = bind_addr(fd, &a, flags);
	if (r < 0)
		goto fail;
	if (a.path != NULL) {
		/*
		 * The file is ours from here: remember which one it is.  If
		 * that fails, the file bind() just made goes.
		 */
		if (lstat(a.path, &st) < 0) {
			r = -errno;
			unlink(a.path);
			goto fail;
		}
		bound = 1;
		r = widen_mode(&a, mode, &st);
		if (r < 0)
			goto fail;
	}
	if (a.type != SOCK_DGRAM &&
	    listen(fd, backlog <= 0 ? SOMAXCONN : backlog) < 0) {
		r = -errno;
		goto fail;
	}
	s = sx_handle_new(fd, a.ss.ss_family, a.type);
	if (s == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (a.path != NULL && (flags & SOCKX_UNLINK_ON_CLOSE)) {
		s->unlink_path = strdup(a.path);
		if (s->unlink_path == NULL) {
			free(s);
			r = -ENOMEM;
			goto fail;
		}
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		s->unlink_pid = getpid();
	}
	if (a.dirfd >= 0)
		s->flags |= SX_LONG_PATH;
	if (lock >= 0)
		close(lock);
	sx_addr_close(&a);
	*out = s;
	return 0;
fail:
	if (bound)
		sx_unlink_if_ours(a.path, st.st_dev, st.st_ino);
	if (fd >= 0)
		close(fd);
	if (lock >= 0)
		close(lock);
	sx_addr_close(&a);
	return sx_ret(r);
}

/*
 * accept(2) errors that concern only the connection being accepted (it
 * was aborted, or its network failed; see accept(2) on Linux): skip it.
 */
static int
is_skippable(int err)
{
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return 1;
	default:
		return 0;
	}
}

SX_EXPORT int
sockx_accept(sockx *listener, sockx **out, int timeout_ms)
{
	struct sx_retry rt = SX_RETRY_INIT;
	struct sx_deadline dl;
	int fd, r, slept;
	sockx *s;

	if (listener == NULL || out == NULL)
		return sx_ret(-EINVAL);
	r = sx_deadline_lazy(&dl, timeout_ms);
	if (r < 0)
		return sx_ret(r);
	/*
	 * Adaptive waiting, as for receives (io.c): wait first if the last
	 * accept had to wait; a wait that runs out of time still lets the
	 * call make its one try.
	 */
	if (sx_rx_wait_get(listener) && !sx_deadline_none(&dl)) {
		r = sx_wait_fd(listener->fd, SOCKX_READABLE, &dl, &slept);
		if (r < 0 && r != -ETIMEDOUT)
			return sx_ret(r);
		if (r > 0) {
			rt.was_ready = 1;
			sx_rx_waited(listener, slept);
		}
	}
	for (;;) {
		fd = accept4(listener->fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (is_skippable(errno))
			continue;
		if (errno != EAGAIN)
			return sx_ret(-errno);
		sx_rx_wait_set(listener, SX_RX_WAITS);
		if (sx_deadline_none(&dl))
			return sx_ret(-ETIMEDOUT);	/* exactly one try */
		r = sx_wait_retry(&rt, listener->fd, SOCKX_READABLE, &dl);
		if (r < 0)
			return sx_ret(r);
	}
	s = sx_handle_new(fd, listener->family, listener->type);
	if (s == NULL) {
		close(fd);
		return sx_ret(-ENOMEM);
	}
	s->flags = listener->flags & SX_LONG_PATH;
	*out = s;
	return 0;
}
