/* SPDX-License-Identifier: MIT */
/*
 * test-inherit.c - inherited sockets and sockx_notify, with real sockets
 * and real processes.  Each rule of the contract has a test that fails
 * without it:
 *
 *  - "fd:N" adopts a listener (unix stream and seqpacket, TCP) or a bound
 *    datagram socket (unix path, abstract and autobound names, UDP) as
 *    sockx_adopt does (O_NONBLOCK, FD_CLOEXEC, the same number), and the
 *    handle works (accepts, receives); backlog is ignored;
 *  - it refuses, leaving the descriptor exactly as it was (open, F_GETFL
 *    and F_GETFD unchanged): a connected or unlistened stream socket, an
 *    unbound or connected datagram socket (-EINVAL), a non-socket
 *    (-ENOTSOCK), a closed number (-EBADF), malformed numbers (-EINVAL),
 *    flags or a mode (-EINVAL);
 *  - sockx_addr_parse, sockx_connect and sockx_connect_any refuse the
 *    inherited forms with -EINVAL;
 *  - "systemd:[NAME[:K]]", in a forked child whose environment and
 *    descriptors 3, 4, ... are set as a service manager sets them: every
 *    answer of the table below (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES,
 *    names, duplicates, K, kinds of passed descriptor), the environment
 *    unchanged after the call (the same entries, the same text), the
 *    passed descriptors unchanged on failure, and the adopted one serving;
 *  - sockx_notify sends state as one datagram with the sender's
 *    credentials to a path or abstract NOTIFY_SOCKET (checked on the
 *    receiving side with SO_PASSCRED; they ride on the datagram, so they
 *    arrive even when SO_PASSCRED is turned on after it was queued; a
 *    forked child's carry its pid; the longest names that fit work),
 *    returns 0 when NOTIFY_SOCKET is
 *    unset, -EINVAL for a NULL or empty state, a bad timeout and a
 *    malformed NOTIFY_SOCKET, the connect error as it is (-ENOENT,
 *    -ECONNREFUSED, -EACCES), -ETIMEDOUT at its deadline from a full
 *    receiver without spinning, and 1 once a full receiver makes room.
 *
 * The environment of a Check test process is its own (fork mode); each
 * test that sets a variable removes it again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#include "sxtest.h"

extern char **environ;

/* ---------------------------------------------------------------- */
/* Helpers                                                            */
/* ---------------------------------------------------------------- */

/* A descriptor's flags, to show that a failed call left them alone. */
struct fdstate {
	int fl, fdfl;
};

static struct fdstate
fd_state(int fd)
{
	struct fdstate st;

	st.fl = fcntl(fd, F_GETFL);
	st.fdfl = fcntl(fd, F_GETFD);
	ck_assert_int_ge(st.fl, 0);
	ck_assert_int_ge(st.fdfl, 0);
	return st;
}

static void
check_unchanged(int fd, struct fdstate was)
{
	struct fdstate now = fd_state(fd);

	ck_assert_int_eq(now.fl, was.fl);
	ck_assert_int_eq(now.fdfl, was.fdfl);
}

/*
 * A raw socket as another program would hand it over: blocking, without
 * FD_CLOEXEC, so that whatever the library changes is visible.
 */
static int
raw_socket(int family, int type)
{
	int fd = socket(family, type, 0);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static void
bind_abstract(int fd, const char *tag, char *text, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;

	sxt_abstract(text, size, tag);
	ck_assert_int_eq(sockx_addr_parse(text, &ss, &len, NULL), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, len), 0);
}

/* A raw unix listener of type on an abstract name (in text). */
static int
raw_listener(int type, char *text, size_t size)
{
	int fd = raw_socket(AF_UNIX, type);

	bind_abstract(fd, "l", text, size);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

static void
check_adopted(sockx *s, int fd)
{
	ck_assert_int_eq(sockx_fd(s), fd);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* The listener s, at address text, accepts a connection and serves it. */
static void
check_serves(sockx *s, const char *text)
{
	sockx *c, *a;
	char buf[4];

	ck_assert_int_eq(sockx_connect(&c, text, 1000), 0);
	ck_assert_int_eq(sockx_accept(s, &a, 1000), 0);
	ck_assert_int_eq(sockx_write(c, "hi", 2, 1000), 2);
	ck_assert_int_eq(sockx_read(a, buf, sizeof(buf), 1000), 2);
	ck_assert_int_eq(memcmp(buf, "hi", 2), 0);
	sockx_close(a);
	sockx_close(c);
}

/*
 * Put a copy of fd at descriptor 3, keeping aside whatever the test
 * process had there (Check's own channel to the runner may be there: no
 * ck_assert may run until put_back_3()).  Returns the copy kept aside, or
 * -1 if 3 was not open.
 */
static int
take_3(int fd)
{
	int saved = fcntl(3, F_DUPFD_CLOEXEC, 10);

	if (dup2(fd, 3) != 3)
		abort();
	return saved;
}

static void
put_back_3(int saved)
{
	if (saved < 0) {
		close(3);
		return;
	}
	ck_assert_int_eq(dup2(saved, 3), 3);
	close(saved);
}

/* "fd:N" of fd into buf. */
static const char *
fd_text(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "fd:%d", fd);
	return buf;
}

/* ---------------------------------------------------------------- */
/* fd:N                                                               */
/* ---------------------------------------------------------------- */

START_TEST(inherit_fd_unix_listener_is_adopted_and_accepts)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };
	char text[80], spec[32];
	sockx *s;
	int fd;

	fd = raw_listener(types[_i], text, sizeof(text));
	ck_assert_int_eq(sockx_listen(&s, fd_text(spec, sizeof(spec), fd),
	    _i == 0 ? 0 : 5, 0, 0), 0);
	check_adopted(s, fd);
	if (types[_i] == SOCK_SEQPACKET) {
		memmove(text + strlen("unixpacket:"), text, strlen(text) + 1);
		memcpy(text, "unixpacket:", strlen("unixpacket:"));
	}
	check_serves(s, text);
	ck_assert_int_eq(sockx_close(s), 0);
}
END_TEST

START_TEST(inherit_fd_tcp_listener_is_adopted_and_accepts)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char text[SOCKX_ADDRSTRLEN], spec[32];
	sockx *s;
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = raw_socket(AF_INET, SOCK_STREAM);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(sockx_listen(&s, fd_text(spec, sizeof(spec), fd), -1,
	    0, 0), 0);
	check_adopted(s, fd);
	check_serves(s, sxt_local_text(s, "tcp:", text, sizeof(text)));
	ck_assert_int_eq(sockx_close(s), 0);
}
END_TEST

/*
 * Bound datagram receivers: 0 a unix path, 1 an abstract name, 2 an
 * autobound name, 3 UDP on 127.0.0.1.
 */
START_TEST(inherit_fd_bound_datagram_socket_is_adopted_and_receives)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	char dir[PATH_MAX], text[PATH_MAX + 16], spec[32], buf[4];
	socklen_t len;
	sockx *s;
	int fd, tx;

	if (_i == 3) {
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = raw_socket(AF_INET, SOCK_DGRAM);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
	} else {
		fd = raw_socket(AF_UNIX, SOCK_DGRAM);
	}
	if (_i == 0) {
		snprintf(text, sizeof(text), "%s/rx",
		    sxt_tmpdir(dir, sizeof(dir)));
		ck_assert_int_eq(sockx_addr_parse(text, &ss, &len, NULL), 0);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, len), 0);
	} else if (_i == 1) {
		bind_abstract(fd, "d", text, sizeof(text));
	} else if (_i == 2) {
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = AF_UNIX;
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss,
		    sizeof(sa_family_t)), 0);
	}
	ck_assert_int_eq(sockx_listen(&s, fd_text(spec, sizeof(spec), fd), 0,
	    0, 0), 0);
	check_adopted(s, fd);
	len = sizeof(ss);
	ck_assert_int_eq(sockx_local_addr(s, &ss, &len), 0);
	tx = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(tx, 0);
	ck_assert_int_eq(sendto(tx, "d", 1, 0, (struct sockaddr *)&ss, len),
	    1);
	ck_assert_int_eq(sockx_read(s, buf, sizeof(buf), 1000), 1);
	close(tx);
	ck_assert_int_eq(sockx_close(s), 0);
	if (_i == 0) {
		ck_assert_int_eq(unlink(text), 0);
		ck_assert_int_eq(rmdir(dir), 0);
	}
}
END_TEST

/*
 * Sockets that are no listeners: 0 an unbound unix datagram socket, 1 an
 * unbound UDP socket, 2 a connected unix datagram socket (socketpair),
 * 3 a bound and connected UDP socket, 4 a connected stream socket (an
 * Accept=yes connection), 5 a bound TCP socket that does not listen.
 */
START_TEST(inherit_fd_non_listener_is_einval_and_left_alone)
{
	struct sockaddr_in sin = { .sin_family = AF_INET }, peer;
	socklen_t len = sizeof(peer);
	struct fdstate st;
	char spec[32];
	sockx *s = (sockx *)&spec;
	int fd, sv[2] = { -1, -1 };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	switch (_i) {
	case 0:
		fd = raw_socket(AF_UNIX, SOCK_DGRAM);
		break;
	case 1:
		fd = raw_socket(AF_INET, SOCK_DGRAM);
		break;
	case 2:
	case 4:
		ck_assert_int_eq(socketpair(AF_UNIX, _i == 2 ? SOCK_DGRAM :
		    SOCK_STREAM, 0, sv), 0);
		fd = sv[0];
		break;
	case 3:
		fd = raw_socket(AF_INET, SOCK_DGRAM);
		sv[1] = raw_socket(AF_INET, SOCK_DGRAM);
		ck_assert_int_eq(bind(sv[1], (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		ck_assert_int_eq(getsockname(sv[1], (struct sockaddr *)&peer,
		    &len), 0);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&peer, len), 0);
		break;
	default:
		fd = raw_socket(AF_INET, SOCK_STREAM);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		break;
	}
	st = fd_state(fd);
	CHECK_ERR(sockx_listen(&s, fd_text(spec, sizeof(spec), fd), 0, 0, 0),
	    EINVAL);
	ck_assert_ptr_eq(s, (sockx *)&spec);	/* *out untouched */
	check_unchanged(fd, st);
	close(fd);
	if (sv[1] >= 0)
		close(sv[1]);
}
END_TEST

START_TEST(inherit_fd_non_socket_is_enotsock_and_left_alone)
{
	struct fdstate st;
	char spec[32];
	sockx *s;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	st = fd_state(p[0]);
	CHECK_ERR(sockx_listen(&s, fd_text(spec, sizeof(spec), p[0]), 0, 0,
	    0), ENOTSOCK);
	check_unchanged(p[0], st);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(inherit_fd_closed_number_is_ebadf)
{
	char spec[32];
	sockx *s;
	int fd;

	fd = raw_socket(AF_UNIX, SOCK_STREAM);
	close(fd);
	CHECK_ERR(sockx_listen(&s, fd_text(spec, sizeof(spec), fd), 0, 0, 0),
	    EBADF);
	/* The largest number the syntax takes is a number, not open. */
	CHECK_ERR(sockx_listen(&s, "fd:2147483647", 0, 0, 0), EBADF);
}
END_TEST

static const char *const bad_numbers[] = {
	"fd:", "fd:-1", "fd:+3", "fd: 3", "fd:3 ", "fd:3x", "fd:03",
	"fd:0x3", "fd:99999999999", "fd:2147483648", "fd:3:0", "fd:\t3",
};

START_TEST(inherit_fd_malformed_number_is_einval)
{
	char text[80];
	sockx *s = NULL;
	int fd, saved, r, e;

	/* A listener at 3 would be taken by a lax parser of "fd:03" etc. */
	fd = raw_listener(SOCK_STREAM, text, sizeof(text));
	saved = take_3(fd);
	errno = 0;
	r = sockx_listen(&s, bad_numbers[_i], 0, 0, 0);
	e = errno;
	put_back_3(saved);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_int_eq(e, EINVAL);
	ck_assert_ptr_null(s);
	close(fd);
}
END_TEST

/* flags and mode must be 0; backlog is ignored (tested above). */
START_TEST(inherit_fd_flags_or_mode_is_einval_and_left_alone)
{
	static const unsigned flags[] = {
		SOCKX_UNLINK_STALE, SOCKX_UNLINK_ON_CLOSE, SOCKX_V6ONLY, 0,
		0x80,
	};
	struct fdstate st;
	char text[80], spec[32];
	sockx *s;
	int fd;

	fd = raw_listener(SOCK_STREAM, text, sizeof(text));
	st = fd_state(fd);
	CHECK_ERR(sockx_listen(&s, fd_text(spec, sizeof(spec), fd), 0,
	    flags[_i], flags[_i] == 0 ? 0600 : 0), EINVAL);
	check_unchanged(fd, st);
	close(fd);
}
END_TEST

#define NFORMS 8

/* Each call of inherit_forms_refused..., with its result and errno. */
static int
refusals(const char *f, int res[10])
{
	struct sockaddr_storage ss;
	const char *list[2];
	socklen_t len;
	sockx *s;
	int n = 0;

	errno = 0;
	res[n++] = sockx_addr_parse(f, &ss, &len, NULL);
	res[n++] = errno;
	errno = 0;
	res[n++] = sockx_connect(&s, f, 100);
	res[n++] = errno;
	list[0] = f;
	list[1] = "@sockx-test-unused";
	errno = 0;
	res[n++] = sockx_connect_any(&s, list, 1, 100);
	res[n++] = errno;
	errno = 0;
	res[n++] = sockx_connect_any(&s, list, 2, 100);
	res[n++] = errno;
	list[0] = "@sockx-test-unused";
	list[1] = f;
	errno = 0;
	res[n++] = sockx_connect_any(&s, list, 2, 100);
	res[n++] = errno;
	return n;
}

/*
 * The inherited forms are refused by parse, connect and connect_any, even
 * where a systemd environment and descriptor 3 would make them valid for
 * sockx_listen (the last form is "fd:" of a real listener).
 */
START_TEST(inherit_forms_refused_by_parse_and_connect_einval)
{
	static const char *const forms[NFORMS - 1] = {
		"fd:3", "fd:", "systemd:", "systemd:a", "systemd:a:0",
		"systemd:/tmp/x", "fd:127.0.0.1:80",
	};
	int res[NFORMS][10];
	struct fdstate st;
	char text[80], spec[32];
	int fd, saved, i, j, n = 0;

	fd = raw_listener(SOCK_STREAM, text, sizeof(text));
	st = fd_state(fd);
	fd_text(spec, sizeof(spec), fd);
	snprintf(text, sizeof(text), "%ld", (long)getpid());
	ck_assert_int_eq(setenv("LISTEN_PID", text, 1), 0);
	ck_assert_int_eq(setenv("LISTEN_FDS", "1", 1), 0);
	ck_assert_int_eq(setenv("LISTEN_FDNAMES", "a", 1), 0);
	saved = take_3(fd);
	for (i = 0; i < NFORMS; i++)
		n = refusals(i < NFORMS - 1 ? forms[i] : spec, res[i]);
	put_back_3(saved);
	for (i = 0; i < NFORMS; i++)
		for (j = 0; j < n; j += 2) {
			ck_assert_msg(res[i][j] == -EINVAL &&
			    res[i][j + 1] == EINVAL,
			    "form %d call %d: %d errno %d", i, j / 2,
			    res[i][j], res[i][j + 1]);
		}
	check_unchanged(fd, st);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	close(fd);
}
END_TEST

/* ---------------------------------------------------------------- */
/* systemd: socket activation in a child                              */
/* ---------------------------------------------------------------- */

/*
 * One row: what the child finds at fds 3, 4, ... (kinds: 'L' a unix
 * stream listener, 'D' a bound unix datagram socket, 'C' a connected
 * stream socket, 'P' a pipe, '-' nothing), its environment (pid: "self"
 * for its own pid, NULL unset), the address and the answer (0 or
 * -errno), with the fd adopted on success.
 */
struct act {
	const char *kinds;
	const char *pid, *fds, *names;
	const char *address;
	unsigned flags, mode;
	int want, want_fd;
};

static const struct act acts[] = {
	/* The only passed socket. */
	{ "L", "self", "1", NULL, "systemd:", 0, 0, 0, 3 },
	{ "L", "self", "1", "web", "systemd:", 0, 0, 0, 3 },
	{ "D", "self", "1", NULL, "systemd:", 0, 0, 0, 3 },
	{ "LL", "self", "2", "a:b", "systemd:", 0, 0, -EINVAL, 0 },
	/* By name, "unknown" without LISTEN_FDNAMES. */
	{ "L", "self", "1", NULL, "systemd:unknown", 0, 0, 0, 3 },
	{ "LL", "self", "2", "a:b", "systemd:a", 0, 0, 0, 3 },
	{ "LL", "self", "2", "a:b", "systemd:b", 0, 0, 0, 4 },
	{ "LDL", "self", "3", "a:b:c", "systemd:b", 0, 0, 0, 4 },
	{ "LL", "self", "2", "a:b", "systemd:c", 0, 0, -ENOENT, 0 },
	{ "LL", "self", "2", "a:b", "systemd:unknown", 0, 0, -ENOENT, 0 },
	{ "LL", "self", "2", "a:", "systemd:a", 0, 0, 0, 3 },
	/* Duplicates and the K-th. */
	{ "LL", "self", "2", NULL, "systemd:unknown", 0, 0, -ENOTUNIQ, 0 },
	{ "LL", "self", "2", NULL, "systemd:unknown:0", 0, 0, 0, 3 },
	{ "LL", "self", "2", NULL, "systemd:unknown:1", 0, 0, 0, 4 },
	{ "LLL", "self", "3", "a:b:a", "systemd:a", 0, 0, -ENOTUNIQ, 0 },
	{ "LLL", "self", "3", "a:b:a", "systemd:a:0", 0, 0, 0, 3 },
	{ "LLL", "self", "3", "a:b:a", "systemd:a:1", 0, 0, 0, 5 },
	{ "LLL", "self", "3", "a:b:a", "systemd:a:2", 0, 0, -ENOENT, 0 },
	{ "LLL", "self", "3", "a:b:a", "systemd:b:0", 0, 0, 0, 4 },
	{ "LLL", "self", "3", "a:b:a", "systemd:b", 0, 0, 0, 4 },
	/* Not passed to this process. */
	{ "L", NULL, "1", NULL, "systemd:", 0, 0, -ENOENT, 0 },
	{ "L", "1", "1", NULL, "systemd:", 0, 0, -ENOENT, 0 },
	{ "L", "1", "x", "a:b", "systemd:", 0, 0, -ENOENT, 0 },
	{ "L", "self", NULL, NULL, "systemd:", 0, 0, -ENOENT, 0 },
	{ "L", "self", "0", NULL, "systemd:", 0, 0, -ENOENT, 0 },
	/* A malformed environment. */
	{ "L", "abc", "1", NULL, "systemd:", 0, 0, -EINVAL, 0 },
	{ "L", "", "1", NULL, "systemd:", 0, 0, -EINVAL, 0 },
	{ "L", "-1", "1", NULL, "systemd:", 0, 0, -EINVAL, 0 },
	{ "L", "self", "x", NULL, "systemd:", 0, 0, -EINVAL, 0 },
	{ "L", "self", "", NULL, "systemd:", 0, 0, -EINVAL, 0 },
	{ "L", "self", "-1", NULL, "systemd:", 0, 0, -EINVAL, 0 },
	{ "L", "self", "1 ", NULL, "systemd:", 0, 0, -EINVAL, 0 },
	{ "L", "self", "2147483647", NULL, "systemd:x", 0, 0, -EINVAL, 0 },
	{ "LL", "self", "2", "a", "systemd:a", 0, 0, -EINVAL, 0 },
	{ "L", "self", "1", "a:b", "systemd:a", 0, 0, -EINVAL, 0 },
	{ "LL", "self", "2", "a:b:", "systemd:a", 0, 0, -EINVAL, 0 },
	/* A malformed address. */
	{ "L", "self", "1", "a", "systemd:a:", 0, 0, -EINVAL, 0 },
	{ "L", "self", "1", "a", "systemd:a:x", 0, 0, -EINVAL, 0 },
	{ "L", "self", "1", "a", "systemd:a:-1", 0, 0, -EINVAL, 0 },
	{ "L", "self", "1", "a", "systemd:a:+0", 0, 0, -EINVAL, 0 },
	{ "L", "self", "1", "a", "systemd:a:00", 0, 0, -EINVAL, 0 },
	{ "L", "self", "1", "a", "systemd:a:0:0", 0, 0, -EINVAL, 0 },
	{ "L", "self", "1", "a", "systemd::0", 0, 0, -EINVAL, 0 },
	{ "L", "self", "1", "a", "systemd:a\tb", 0, 0, -EINVAL, 0 },
	/* flags and mode. */
	{ "L", "self", "1", "a", "systemd:a", SOCKX_UNLINK_ON_CLOSE, 0,
	    -EINVAL, 0 },
	{ "L", "self", "1", "a", "systemd:a", 0, 0600, -EINVAL, 0 },
	/* What was passed is no listener, or nothing. */
	{ "LC", "self", "2", "a:b", "systemd:b", 0, 0, -EINVAL, 0 },
	{ "LP", "self", "2", "a:b", "systemd:b", 0, 0, -ENOTSOCK, 0 },
	{ "L-", "self", "2", "a:b", "systemd:b", 0, 0, -EBADF, 0 },
};

#define NKINDS 8

/* A copy of the environment: the array, every pointer and every text. */
struct env_copy {
	char **env;
	size_t n;
	char **text;
};

static int
env_copy(struct env_copy *c)
{
	size_t i;

	c->env = environ;
	for (c->n = 0; environ[c->n] != NULL; c->n++)
		;
	c->text = calloc(c->n + 1, sizeof(char *) * 2);
	if (c->text == NULL)
		return -1;
	for (i = 0; i < c->n; i++) {
		c->text[2 * i] = environ[i];
		c->text[2 * i + 1] = strdup(environ[i]);
		if (c->text[2 * i + 1] == NULL)
			return -1;
	}
	return 0;
}

static void
env_free(struct env_copy *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->text[2 * i + 1]);
	free(c->text);
}

static int
env_same(const struct env_copy *c)
{
	size_t i;

	if (environ != c->env || environ[c->n] != NULL)
		return 0;
	for (i = 0; i < c->n; i++)
		if (environ[i] != c->text[2 * i] ||
		    strcmp(environ[i], c->text[2 * i + 1]) != 0)
			return 0;
	return 1;
}

/* In the child: a descriptor of kind k (see struct act) at >= 100. */
static int
make_kind(char k, char *text, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = -1, sv[2];

	switch (k) {
	case 'L':
	case 'D':
		fd = socket(AF_UNIX, k == 'L' ? SOCK_STREAM : SOCK_DGRAM, 0);
		sxt_abstract(text, size, "act");
		if (fd < 0 || sockx_addr_parse(text, &ss, &len, NULL) < 0 ||
		    bind(fd, (struct sockaddr *)&ss, len) < 0 ||
		    (k == 'L' && listen(fd, 8) < 0))
			return -1;
		break;
	case 'C':
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			return -1;
		fd = sv[0];	/* sv[1] stays open: the peer */
		break;
	case 'P':
		if (pipe(sv) < 0)
			return -1;
		fd = sv[0];
		break;
	}
	return fcntl(fd, F_DUPFD, 100);
}

/* Is the adopted handle, of kind k at text, serving? */
static int
serves(sockx *s, char k, const char *text)
{
	char dtext[96], buf[4];
	sockx *c, *a;
	int ok;

	if (k == 'D') {
		snprintf(dtext, sizeof(dtext), "unixgram:%s", text);
		if (sockx_connect(&c, dtext, 1000) < 0)
			return 0;
		ok = sockx_write(c, "d", 1, 1000) == 1 &&
		    sockx_read(s, buf, sizeof(buf), 1000) == 1;
		sockx_close(c);
		return ok;
	}
	if (sockx_connect(&c, text, 1000) < 0)
		return 0;
	ok = sockx_accept(s, &a, 1000) == 0;
	if (ok)
		sockx_close(a);
	sockx_close(c);
	return ok;
}

/*
 * The child of inherit_systemd_table: set up, call, check.  Exits 0 when
 * every check held, else the number of the first that failed.
 */
static int
run_act(const struct act *a)
{
	struct fdstate st[NKINDS];
	struct env_copy env;
	char text[NKINDS][80], pid[32];
	size_t i, n = strlen(a->kinds);
	sockx *s = NULL;
	int fd, r, same;

	for (i = 0; i < n; i++) {
		if (a->kinds[i] == '-') {
			close(3 + (int)i);
			continue;
		}
		fd = make_kind(a->kinds[i], text[i], sizeof(text[i]));
		/* dup2 leaves the copy without FD_CLOEXEC, as systemd does. */
		if (fd < 0 || dup2(fd, 3 + (int)i) < 0)
			return 1;
		close(fd);
		st[i].fl = fcntl(3 + (int)i, F_GETFL);
		st[i].fdfl = fcntl(3 + (int)i, F_GETFD);
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if ((a->pid != NULL && setenv("LISTEN_PID",
	    strcmp(a->pid, "self") == 0 ? pid : a->pid, 1) < 0) ||
	    (a->fds != NULL && setenv("LISTEN_FDS", a->fds, 1) < 0) ||
	    (a->names != NULL && setenv("LISTEN_FDNAMES", a->names, 1) < 0))
		return 2;
	if (env_copy(&env) < 0)
		return 3;
	errno = 0;
	r = sockx_listen(&s, a->address, 7, a->flags, a->mode);
	if (r != a->want || (r < 0 && errno != -r))
		return 4;
	same = env_same(&env);
	env_free(&env);
	if (!same)
		return 5;
	if (r < 0) {
		if (s != NULL)
			return 6;
		for (i = 0; i < n; i++)
			if (a->kinds[i] != '-' &&
			    (fcntl(3 + (int)i, F_GETFL) != st[i].fl ||
			    fcntl(3 + (int)i, F_GETFD) != st[i].fdfl))
				return 7;
		return 0;
	}
	if (sockx_fd(s) != a->want_fd ||
	    !(fcntl(a->want_fd, F_GETFL) & O_NONBLOCK) ||
	    !(fcntl(a->want_fd, F_GETFD) & FD_CLOEXEC))
		return 8;
	i = (size_t)(a->want_fd - 3);
	if (!serves(s, a->kinds[i], text[i]))
		return 9;
	return sockx_close(s) == 0 ? 0 : 10;
}

START_TEST(inherit_systemd_table)
{
	const struct act *a = &acts[_i];
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(run_act(a));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "act %d (\"%s\", pid %s, fds %s, names %s): child status %#x",
	    _i, a->address, a->pid ? a->pid : "unset",
	    a->fds ? a->fds : "unset", a->names ? a->names : "unset", status);
}
END_TEST

/* ---------------------------------------------------------------- */
/* sockx_notify                                                       */
/* ---------------------------------------------------------------- */

/* A unix datagram receiver with SO_PASSCRED on, at text. */
static sockx *
notify_receiver(const char *text)
{
	char addr[PATH_MAX + 16];
	sockx *s;

	snprintf(addr, sizeof(addr), "unixgram:%s", text);
	ck_assert_int_eq(sockx_listen(&s, addr, 0, 0, 0), 0);
	ck_assert_int_eq(sockx_set_passcred(s, 1), 0);
	return s;
}

/* The next datagram on rx is want, from this process. */
static void
check_received(sockx *rx, const char *want)
{
	struct sockx_cred c;
	char buf[512];
	ssize_t n;

	n = sockx_recv_cred(rx, buf, sizeof(buf) - 1, &c, 1000);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(c.pid, getpid());
	ck_assert_int_eq(c.uid, geteuid());
	ck_assert_int_eq(c.gid, getegid());
}

static void
check_nothing_received(sockx *rx)
{
	char buf[8];

	CHECK_ERR(sockx_read(rx, buf, sizeof(buf), 0), ETIMEDOUT);
}

START_TEST(inherit_notify_sends_to_abstract_socket_with_credentials)
{
	char name[80];
	sockx *rx;

	sxt_abstract(name, sizeof(name), "notify");
	rx = notify_receiver(name);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	ck_assert_int_eq(sockx_notify("READY=1", 1000), 1);
	check_received(rx, "READY=1");
	ck_assert_int_eq(sockx_notify("STATUS=two\nWATCHDOG=1", 0), 1);
	check_received(rx, "STATUS=two\nWATCHDOG=1");
	check_nothing_received(rx);
	unsetenv("NOTIFY_SOCKET");
	sockx_close(rx);
}
END_TEST

START_TEST(inherit_notify_sends_to_path_socket_with_credentials)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	sockx *rx;

	snprintf(path, sizeof(path), "%s/notify",
	    sxt_tmpdir(dir, sizeof(dir)));
	rx = notify_receiver(path);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", path, 1), 0);
	ck_assert_int_eq(sockx_notify("READY=1", -1), 1);
	check_received(rx, "READY=1");
	unsetenv("NOTIFY_SOCKET");
	sockx_close(rx);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* From a forked child, the credentials are the child's. */
START_TEST(inherit_notify_from_a_child_carries_its_pid)
{
	struct sockx_cred c;
	char name[80], buf[16];
	pid_t pid;
	int status;
	sockx *rx;

	sxt_abstract(name, sizeof(name), "notify");
	rx = notify_receiver(name);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sockx_close(rx);	/* the child's copy */
		_exit(sockx_notify("READY=1", 1000) == 1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(sockx_recv_cred(rx, buf, sizeof(buf), &c, 1000), 7);
	ck_assert_int_eq(c.pid, pid);
	unsetenv("NOTIFY_SOCKET");
	sockx_close(rx);
}
END_TEST

/*
 * The credentials ride on the datagram itself (SCM_CREDENTIALS from the
 * sender): they arrive even when the receiver turns SO_PASSCRED on only
 * after the datagram was queued, where the kernel would otherwise give
 * its placeholder (pid 0, overflow ids; sockx_recv_cred: -1).
 */
START_TEST(inherit_notify_credentials_ride_on_the_datagram)
{
	char name[80], text[96];
	sockx *rx;

	sxt_abstract(name, sizeof(name), "late");
	snprintf(text, sizeof(text), "unixgram:%s", name);
	ck_assert_int_eq(sockx_listen(&rx, text, 0, 0, 0), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	ck_assert_int_eq(sockx_notify("READY=1", 1000), 1);
	ck_assert_int_eq(sockx_set_passcred(rx, 1), 0);
	check_received(rx, "READY=1");
	unsetenv("NOTIFY_SOCKET");
	sockx_close(rx);
}
END_TEST

START_TEST(inherit_notify_unset_returns_0)
{
	unsetenv("NOTIFY_SOCKET");
	errno = 1234;
	ck_assert_int_eq(sockx_notify("READY=1", 1000), 0);
	ck_assert_int_eq(errno, 1234);
}
END_TEST

START_TEST(inherit_notify_bad_state_or_timeout_is_einval)
{
	char name[80];
	sockx *rx;

	sxt_abstract(name, sizeof(name), "notify");
	rx = notify_receiver(name);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	CHECK_ERR(sockx_notify(NULL, 1000), EINVAL);
	CHECK_ERR(sockx_notify("", 1000), EINVAL);
	CHECK_ERR(sockx_notify("READY=1", -2), EINVAL);
	CHECK_ERR(sockx_notify("READY=1", INT_MIN), EINVAL);
	check_nothing_received(rx);
	unsetenv("NOTIFY_SOCKET");
	CHECK_ERR(sockx_notify(NULL, 1000), EINVAL);
	CHECK_ERR(sockx_notify("", 1000), EINVAL);
	sockx_close(rx);
}
END_TEST

static char long_path[120], long_name[120];

static const char *const bad_sockets[] = {
	"", "notify", "./notify", "run/notify", "@", "/", long_path,
	long_name, "vsock:2:1234", " /run/notify",
};

START_TEST(inherit_notify_malformed_socket_is_einval)
{
	/* 108 bytes: no room for the NUL; "@" and 108 name bytes. */
	memset(long_path, 'p', 108);
	long_path[0] = '/';
	long_path[108] = '\0';
	memset(long_name, 'n', 109);
	long_name[0] = '@';
	long_name[109] = '\0';
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", bad_sockets[_i], 1), 0);
	CHECK_ERR(sockx_notify("READY=1", 1000), EINVAL);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

/* The longest names that fit: a 107-byte path, a 107-byte abstract name. */
START_TEST(inherit_notify_longest_names_work)
{
	char dir[PATH_MAX], path[120], name[120];
	size_t n;
	sockx *rx;

	sxt_tmpdir(dir, sizeof(dir));
	n = strlen(dir);
	ck_assert_uint_lt(n + 2, 107);
	memcpy(path, dir, n);
	path[n] = '/';
	memset(path + n + 1, 'f', 107 - n - 1);
	path[107] = '\0';
	rx = notify_receiver(path);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", path, 1), 0);
	ck_assert_int_eq(sockx_notify("READY=1", 1000), 1);
	check_received(rx, "READY=1");
	sockx_close(rx);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);

	sxt_abstract(name, sizeof(name), "long");
	n = strlen(name);
	memset(name + n, 'n', 108 - n);
	name[108] = '\0';
	rx = notify_receiver(name);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	ck_assert_int_eq(sockx_notify("READY=1", 1000), 1);
	check_received(rx, "READY=1");
	unsetenv("NOTIFY_SOCKET");
	sockx_close(rx);
}
END_TEST

/*
 * The connect error as it is: 0 a path that does not exist (-ENOENT),
 * 1 an abstract name nobody has (-ECONNREFUSED), 2 a stale socket file
 * (-ECONNREFUSED), 3 a stream listener (-EPROTOTYPE), 4 a socket in a
 * directory an unprivileged child cannot search (-EACCES).
 */
START_TEST(inherit_notify_connect_errors_are_returned_as_they_are)
{
	static const int want[] = {
		ENOENT, ECONNREFUSED, ECONNREFUSED, EPROTOTYPE, EACCES,
	};
	char dir[PATH_MAX], path[PATH_MAX + 16];
	sockx *l = NULL;
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s/notify",
	    sxt_tmpdir(dir, sizeof(dir)));
	if (_i == 1)
		sxt_abstract(path, sizeof(path), "nobody");
	if (_i == 2) {
		l = notify_receiver(path);
		sockx_close(l);
		l = NULL;
	}
	if (_i == 3)
		ck_assert_int_eq(sockx_listen(&l, path, 0, 0, 0), 0);
	if (_i == 4) {
		l = notify_receiver(path);
		ck_assert_int_eq(chmod(dir, 0700), 0);
	}
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", path, 1), 0);
	if (_i == 4) {
		ck_assert_msg(geteuid() == 0, "needs root to drop to nobody");
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			sockx_close(l);		/* the child's copy */
			_exit(setgid(65534) == 0 && setuid(65534) == 0 &&
			    sockx_notify("READY=1", 1000) == -EACCES &&
			    errno == EACCES ? 0 : 1);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_int_eq(status, 0);
		check_nothing_received(l);
	} else {
		CHECK_ERR(sockx_notify("READY=1", 1000), want[_i]);
	}
	unsetenv("NOTIFY_SOCKET");
	sockx_close(l);
	if (_i != 1)
		unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Fill rx (at text) with datagrams until a fresh sender is refused. */
static int
fill_receiver(const char *text, int *fds, int max)
{
	char addr[PATH_MAX + 16];
	int n = 0, sent;
	sockx *tx;

	snprintf(addr, sizeof(addr), "unixgram:%s", text);
	for (;;) {
		ck_assert_int_lt(n, max);
		ck_assert_int_eq(sockx_connect(&tx, addr, 1000), 0);
		for (sent = 0; sockx_write(tx, "f", 1, 0) == 1; sent++)
			;
		fds[n++] = sockx_release(tx);
		if (sent == 0)
			return n;
	}
}

struct span {
	double t0, cpu0, elapsed, cpu;
};

static void
span_start(struct span *sp)
{
	sp->cpu0 = sxt_thread_cpu();
	sp->t0 = sxt_now();
}

static void
span_end(struct span *sp)
{
	sp->elapsed = sxt_now() - sp->t0;
	sp->cpu = sxt_thread_cpu() - sp->cpu0;
}

START_TEST(inherit_notify_full_receiver_times_out_without_spinning)
{
	char name[80], buf[8];
	struct span sp;
	int fds[16], n;
	sockx *rx;

	sxt_abstract(name, sizeof(name), "full");
	rx = notify_receiver(name);
	n = fill_receiver(name, fds, 16);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	span_start(&sp);
	CHECK_ERR(sockx_notify("READY=1", 0), ETIMEDOUT);
	span_end(&sp);
	ck_assert_double_lt(sp.elapsed, 0.05);
	span_start(&sp);
	CHECK_ERR(sockx_notify("READY=1", 300), ETIMEDOUT);
	span_end(&sp);
	ck_assert_msg(sp.elapsed >= 0.3, "early: %.4f s", sp.elapsed);
	ck_assert_msg(sp.elapsed < 0.3 + 0.2, "late: %.4f s", sp.elapsed);
	ck_assert_msg(sp.cpu < 0.1 * sp.elapsed, "used %.1f%% of a CPU",
	    100.0 * sp.cpu / sp.elapsed);
	/* Nothing from the notifications is queued. */
	while (sockx_read(rx, buf, sizeof(buf), 0) == 1)
		ck_assert_int_eq(buf[0], 'f');
	unsetenv("NOTIFY_SOCKET");
	sxt_close_all(fds, n);
	sockx_close(rx);
}
END_TEST

static void *
drain_one_later(void *arg)
{
	sockx *rx = arg;
	char c;

	usleep(100000);		/* the scenario: room appears after 100 ms */
	ck_assert_int_eq(sockx_read(rx, &c, 1, 1000), 1);
	return NULL;
}

START_TEST(inherit_notify_full_receiver_sends_when_room_appears)
{
	struct sockx_cred c;
	char name[80], buf[16];
	struct span sp;
	pthread_t t;
	int fds[16], n;
	ssize_t r;
	sockx *rx;

	sxt_abstract(name, sizeof(name), "room");
	rx = notify_receiver(name);
	n = fill_receiver(name, fds, 16);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, drain_one_later, rx), 0);
	span_start(&sp);
	ck_assert_int_eq(sockx_notify("READY=1", 5000), 1);
	span_end(&sp);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(sp.elapsed < 0.1 + 0.5, "late: %.4f s", sp.elapsed);
	ck_assert_msg(sp.cpu < 0.1 * sp.elapsed, "used %.1f%% of a CPU",
	    100.0 * sp.cpu / sp.elapsed);
	/* The notification is the last datagram queued. */
	while ((r = sockx_recv_cred(rx, buf, sizeof(buf), &c, 0)) == 1)
		;
	ck_assert_int_eq(r, 7);
	ck_assert_int_eq(memcmp(buf, "READY=1", 7), 0);
	ck_assert_int_eq(c.pid, getpid());
	unsetenv("NOTIFY_SOCKET");
	sxt_close_all(fds, n);
	sockx_close(rx);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("inherit");
	TCase *tc;

	tc = sx_tcase("fd", 10);
	tcase_add_loop_test(tc, inherit_fd_unix_listener_is_adopted_and_accepts,
	    0, 2);
	tcase_add_test(tc, inherit_fd_tcp_listener_is_adopted_and_accepts);
	tcase_add_loop_test(tc,
	    inherit_fd_bound_datagram_socket_is_adopted_and_receives, 0, 4);
	tcase_add_loop_test(tc, inherit_fd_non_listener_is_einval_and_left_alone,
	    0, 6);
	tcase_add_test(tc, inherit_fd_non_socket_is_enotsock_and_left_alone);
	tcase_add_test(tc, inherit_fd_closed_number_is_ebadf);
	tcase_add_loop_test(tc, inherit_fd_malformed_number_is_einval, 0,
	    (int)(sizeof(bad_numbers) / sizeof(bad_numbers[0])));
	tcase_add_loop_test(tc,
	    inherit_fd_flags_or_mode_is_einval_and_left_alone, 0, 5);
	tcase_add_test(tc, inherit_forms_refused_by_parse_and_connect_einval);
	suite_add_tcase(s, tc);

	tc = sx_tcase("systemd", 10);
	tcase_add_loop_test(tc, inherit_systemd_table, 0,
	    (int)(sizeof(acts) / sizeof(acts[0])));
	suite_add_tcase(s, tc);

	tc = sx_tcase("notify", 10);
	tcase_add_test(tc,
	    inherit_notify_sends_to_abstract_socket_with_credentials);
	tcase_add_test(tc, inherit_notify_sends_to_path_socket_with_credentials);
	tcase_add_test(tc, inherit_notify_from_a_child_carries_its_pid);
	tcase_add_test(tc, inherit_notify_credentials_ride_on_the_datagram);
	tcase_add_test(tc, inherit_notify_unset_returns_0);
	tcase_add_test(tc, inherit_notify_bad_state_or_timeout_is_einval);
	tcase_add_loop_test(tc, inherit_notify_malformed_socket_is_einval, 0,
	    (int)(sizeof(bad_sockets) / sizeof(bad_sockets[0])));
	tcase_add_test(tc, inherit_notify_longest_names_work);
	tcase_add_loop_test(tc,
	    inherit_notify_connect_errors_are_returned_as_they_are, 0, 5);
	tcase_add_test(tc,
	    inherit_notify_full_receiver_times_out_without_spinning);
	tcase_add_test(tc, inherit_notify_full_receiver_sends_when_room_appears);
	suite_add_tcase(s, tc);
	return s;
}
