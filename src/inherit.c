/* SPDX-License-Identifier: MIT */
/*
 * inherit.c - sockets a process inherits rather than makes: the listen
 * forms "fd:N", "systemd:", "systemd:NAME" and "systemd:NAME:K" (called
 * from sockx_listen), and sockx_notify, the message to the service
 * manager.
 *
 * Invariants: the environment is only read, never changed (LISTEN_* and
 * NOTIFY_SOCKET are read with secure_getenv, so a program in
 * secure-execution mode, set-user-ID or with file capabilities, never
 * trusts its caller's); a descriptor is adopted only once every
 * check has passed and nothing else can fail but the two fcntl() calls,
 * whose effect is undone if the second fails, so on any failure the
 * descriptor is left exactly as it came (open, same status and descriptor
 * flags).  The module keeps no state: taking a passed socket twice is the
 * caller's mistake, as sockx_listen(3) says.  sockx_notify closes its
 * socket on every path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

#define FD_PREFIX	"fd:"
#define SYSTEMD_PREFIX	"systemd:"
#define LISTEN_FDS_START 3	/* SD_LISTEN_FDS_START */
#define SUN_PATH_SIZE	sizeof(((struct sockaddr_un *)0)->sun_path)

int
sx_is_inherited(const char *address)
{
	return strncmp(address, FD_PREFIX, strlen(FD_PREFIX)) == 0 ||
	    strncmp(address, SYSTEMD_PREFIX, strlen(SYSTEMD_PREFIX)) == 0;
}

/*
 * The decimal number s[0..n): digits only, no sign, no spaces, no
 * leading zero (except "0" itself), at most INT_MAX.  Returns it, or
 * -EINVAL.
 */
static int
parse_number(const char *s, size_t n)
{
	long long v = 0;
	size_t i;

	if (n == 0 || (s[0] == '0' && n > 1))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	return (int)v;
}

/*
 * Does the datagram socket fd have a name of its own and no peer?  For
 * unix sockets, a name is any address longer than the unnamed one (a
 * path, an abstract or autobound name); for IP, a port other than 0 (the
 * kernel gives every bound or implicitly bound IP socket one).  Other
 * families are never "bound" here.
 */
static int
is_bound_receiver(int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t n = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &n) == 0)
		return 0;
	n = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &n) < 0)
		return 0;
	switch (family) {
	case AF_UNIX:
		return n > sizeof(sa_family_t);
	case AF_INET:
		return ((struct sockaddr_in *)&ss)->sin_port != 0;
	case AF_INET6:
		return ((struct sockaddr_in6 *)&ss)->sin6_port != 0;
	default:
		return 0;
	}
}

/*
 * Adopt the inherited descriptor fd as a listener: it must be a socket
 * that listens, or a datagram socket bound as is_bound_receiver() says.
 */
static int
adopt(sockx **out, int fd)
{
	int family, type, on = 0, fdfl, fl, r;
	socklen_t n;
	sockx *s;

	fdfl = fcntl(fd, F_GETFD);
	if (fdfl < 0)
		return -errno;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	n = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &n) < 0)
		return -errno;
	n = sizeof(family);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &n) < 0)
		return -errno;
	n = sizeof(on);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &n) < 0)
		return -errno;
	if (!on && (type != SOCK_DGRAM || !is_bound_receiver(fd, family)))
		return -EINVAL;
	s = sx_handle_new(fd, family, type);
	if (s == NULL)
		return -ENOMEM;
	/*
	 * A security module may refuse either change; then the descriptor
	 * goes back as it came.
	 */
	r = 0;
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		r = -errno;
	} else if (fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) {
		r = -errno;
		fcntl(fd, F_SETFL, fl);
	}
	if (r < 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

/*
 * The number of passed sockets, from LISTEN_PID and LISTEN_FDS: -ENOENT
 * when none were passed to this process, -EINVAL when either is
 * malformed (or would number descriptors past INT_MAX).
 */
static int
listen_fds(void)
{
	const char *e;
	int pid, n;

	e = secure_getenv("LISTEN_PID");
	if (e == NULL)
		return -ENOENT;
	pid = parse_number(e, strlen(e));
	if (pid <= 0)
		return -EINVAL;
	if ((pid_t)pid != getpid())
		return -ENOENT;
	e = secure_getenv("LISTEN_FDS");
	if (e == NULL)
		return -ENOENT;
	n = parse_number(e, strlen(e));
	if (n < 0 || n > INT_MAX - LISTEN_FDS_START)
		return -EINVAL;
	return n == 0 ? -ENOENT : n;
}

/* The number of ':'-separated fields of s. */
static int
count_fields(const char *s)
{
	int n = 1;

	while ((s = strchr(s, ':')) != NULL) {
		s++;
		n++;
	}
	return n;
}

/*
 * The index (from 0) of the k-th of the n passed sockets named name
 * (name, namelen), or with k < 0 the only one of that name (-ENOTUNIQ if
 * several have it).  -ENOENT if it is not there; -EINVAL if
 * LISTEN_FDNAMES does not name exactly n sockets.  Without LISTEN_FDNAMES
 * every socket is named "unknown".
 */
static int
find_name(int n, const char *name, size_t namelen, int k)
{
	const char *e, *end;
	int i, found = -ENOENT, seen = 0;
	size_t len;

	e = secure_getenv("LISTEN_FDNAMES");
	if (e == NULL)
		e = "unknown";
	else if (count_fields(e) != n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		end = strchr(e, ':');
		len = end != NULL ? (size_t)(end - e) : strlen(e);
		if (len == namelen && memcmp(e, name, len) == 0) {
			if (k < 0 && seen > 0)
				return -ENOTUNIQ;
			if (k < 0 || seen == k)
				found = i;
			seen++;
		}
		/* Without LISTEN_FDNAMES, "unknown" names every socket. */
		if (end != NULL)
			e = end + 1;
	}
	return found;
}

/*
 * A name as systemd allows in FileDescriptorName= and LISTEN_FDNAMES:
 * 1 to 255 printable ASCII characters other than ':'.
 */
static int
is_fdname(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < ' ' || s[i] > '~' || s[i] == ':')
			return 0;
	return 1;
}

/* "systemd:", "systemd:NAME" or "systemd:NAME:K": the descriptor. */
static int
systemd_fd(const char *spec)
{
	const char *colon;
	size_t namelen;
	int n, k = -1, i;

	colon = strchr(spec, ':');
	namelen = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	if (colon != NULL) {
		k = parse_number(colon + 1, strlen(colon + 1));
		if (k < 0)
			return -EINVAL;
	}
	if ((namelen > 0 || colon != NULL) && !is_fdname(spec, namelen))
		return -EINVAL;
	n = listen_fds();
	if (n < 0)
		return n;
	if (namelen == 0)
		return n == 1 ? LISTEN_FDS_START : -EINVAL;
	i = find_name(n, spec, namelen, k);
	return i < 0 ? i : LISTEN_FDS_START + i;
}

int
sx_listen_inherited(sockx **out, const char *address, unsigned flags,
    unsigned mode)
{
	size_t n = strlen(FD_PREFIX);
	int fd;

	if (flags != 0 || mode != 0)
		return -EINVAL;
	if (strncmp(address, FD_PREFIX, n) == 0)
		fd = parse_number(address + n, strlen(address + n));
	else
		fd = systemd_fd(address + strlen(SYSTEMD_PREFIX));
	if (fd < 0)
		return fd;
	return adopt(out, fd);
}

/*
 * NOTIFY_SOCKET as an address: an absolute path of at most 107 bytes (so
 * sun_path keeps its NUL), or "@name" with a name of 1 to 107 bytes taken
 * verbatim (as sd_notify does: no escapes).  0 and *sun, *len, or
 * -EINVAL.
 */
static int
notify_addr(const char *e, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(e);

	if ((e[0] != '/' && e[0] != '@') || n < 2 ||
	    n > SUN_PATH_SIZE - (e[0] == '/'))
		return -EINVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, e, n);
	if (e[0] == '@') {
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
		    1);
	}
	return 0;
}

/* Send state on the connected datagram socket s with our credentials. */
static int
send_state(sockx *s, const char *state, const struct sx_deadline *dl)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)state,
	    .iov_len = strlen(state) };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c;
	struct ucred uc;
	ssize_t r;

	/* Effective ids, as sockx_send_cred and SO_PEERCRED have them. */
	uc.pid = getpid();
	uc.uid = geteuid();
	uc.gid = getegid();
	memset(&control, 0, sizeof(control));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(uc));
	memcpy(CMSG_DATA(c), &uc, sizeof(uc));
	r = sx_send_dl(s, &m, dl);
	return r < 0 ? (int)r : 1;
}

/*
 * The socket is connected before the send: a connected unix datagram
 * socket is reported writable when its receiver's queue has room, so a
 * full receiver is waited on (not polled by a sleep loop; sx_send_dl's
 * backoff covers only a readiness that turns out false).
 */
SX_EXPORT int
sockx_notify(const char *state, int timeout_ms)
{
	struct sockaddr_un sun;
	struct sx_deadline dl;
	socklen_t len;
	const char *e;
	sockx s = { .fd = -1, .family = AF_UNIX, .type = SOCK_DGRAM };
	int r;

	if (state == NULL || state[0] == '\0')
		return sx_ret(-EINVAL);
	r = sx_deadline_start(&dl, timeout_ms);
	if (r < 0)
		return sx_ret(r);
	e = secure_getenv("NOTIFY_SOCKET");
	if (e == NULL)
		return 0;
	r = notify_addr(e, &sun, &len);
	if (r < 0)
		return sx_ret(r);
	s.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s.fd < 0)
		return sx_ret(-errno);
	if (connect(s.fd, (struct sockaddr *)&sun, len) < 0)
		r = -errno;
	else
		r = send_state(&s, state, &dl);
	close(s.fd);
	return sx_ret(r);
}
