/* SPDX-License-Identifier: MIT */
/*
 * test-connect.c - sockx_connect against real listeners: a full unix
 * backlog (timeout on time without spinning, success as soon as the server
 * makes room), the distinct unix errors, TCP refusal, timeout and success
 * on both loopbacks, a TCP self-connect in a private network namespace,
 * paths longer than sun_path, datagram addresses, argument checks, and
 * descriptors numbered above 1500 (FD_SETSIZE is 1024).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#include "sxtest.h"

/* Room for the clients that fill a unix backlog of 1 (it holds two). */
#define MAX_FILL 16

/*
 * What *out holds before a call that must fail: the call may write it
 * only on success, so it must still hold this afterwards.
 */
static int sentinel_obj;
#define SENTINEL ((sockx *)(void *)&sentinel_obj)

/* The text of s's local address, as sockx_addr_format writes it. */
static void
local_text(const sockx *s, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(sockx_local_addr(s, &ss, &len), 0);
	ck_assert_int_gt(sockx_addr_format((const struct sockaddr *)&ss, len,
	    buf, size), 0);
	ck_assert_uint_lt(strlen(buf), size - 1);
}

/* The text of s's peer address. */
static void
peer_text(const sockx *s, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(sockx_peer_addr(s, &ss, &len), 0);
	ck_assert_int_gt(sockx_addr_format((const struct sockaddr *)&ss, len,
	    buf, size), 0);
}

/* Wait for a child and return its exit status; it must not be killed. */
static int
child_status(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "child killed by signal %d",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return WEXITSTATUS(st);
}

/* How many descriptors this process has open (a child's leak check). */
static int
count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (access(path, F_OK) == 0)
			n++;
	}
	return n;
}

/*
 * A TCP listener on 127.0.0.1 whose accept queue is full.  With backlog 0
 * the queue takes one connection; after that the kernel drops every SYN,
 * so a connect to it can only time out (the first SYN retransmission is
 * a second away).  Clients are connected one by one until one does not
 * complete within 200 ms: that one proves the queue is full.  Returns the
 * listener; the clients go to fds (room for max), their count to *n.
 */
static int
tcp_full_listener(char *text, size_t size, int *fds, int max, int *n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct pollfd p;
	socklen_t len = sizeof(sin);
	int lfd, done = 0, err, r;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_eq(listen(lfd, 0), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	snprintf(text, size, "127.0.0.1:%u", ntohs(sin.sin_port));
	for (*n = 0; *n < max; (*n)++) {
		fds[*n] = socket(AF_INET,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fds[*n], 0);
		r = connect(fds[*n], (struct sockaddr *)&sin, len);
		ck_assert(r == 0 || errno == EINPROGRESS);
		p.fd = fds[*n];
		p.events = POLLOUT;
		if (r < 0 && poll(&p, 1, 200) == 0) {
			(*n)++;
			ck_assert_int_gt(done, 0);
			return lfd;
		}
		len = sizeof(err);
		ck_assert_int_eq(getsockopt(fds[*n], SOL_SOCKET, SO_ERROR,
		    &err, &len), 0);
		ck_assert_int_eq(err, 0);
		len = sizeof(sin);
		done++;
	}
	ck_abort_msg("accept queue of backlog 0 not full after %d clients",
	    max);
	return lfd;
}

/*
 * A full backlog gives no readiness event: the connect must retry until
 * the deadline, return -ETIMEDOUT on time, and sleep (not spin) while it
 * waits.  Returns the elapsed seconds; *cpu gets the thread's CPU seconds.
 */
static double
connect_full_backlog(int timeout_ms, double *cpu)
{
	char name[64];
	int fds[MAX_FILL], n, r;
	double t0, c0, elapsed;
	sockx *l, *c = SENTINEL;

	sxt_abstract(name, sizeof(name), "full");
	ck_assert_int_eq(sockx_listen(&l, name, 1, 0, 0), 0);
	n = sxt_fill_backlog(name, fds, MAX_FILL);
	ck_assert_int_gt(n, 0);
	c0 = sxt_thread_cpu();
	t0 = sxt_now();
	r = sockx_connect(&c, name, timeout_ms);
	elapsed = sxt_now() - t0;
	*cpu = sxt_thread_cpu() - c0;
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_ptr_eq(c, SENTINEL);
	sxt_close_all(fds, n);
	ck_assert_int_eq(sockx_close(l), 0);
	return elapsed;
}

START_TEST(connect_full_backlog_times_out_on_time)
{
	double cpu, elapsed;

	elapsed = connect_full_backlog(300, &cpu);
	ck_assert_msg(elapsed >= 0.300 && elapsed < 0.450,
	    "300 ms timeout took %.3f s", elapsed);
	ck_assert_msg(cpu < 0.1 * elapsed,
	    "waiting used %.3f s CPU in %.3f s", cpu, elapsed);
}
END_TEST

START_TEST(connect_full_backlog_long_wait_does_not_spin)
{
	double cpu, elapsed;

	elapsed = connect_full_backlog(1000, &cpu);
	ck_assert_msg(elapsed >= 1.000 && elapsed < 1.150,
	    "1000 ms timeout took %.3f s", elapsed);
	ck_assert_msg(cpu < 0.1 * elapsed,
	    "waiting used %.3f s CPU in %.3f s", cpu, elapsed);
}
END_TEST

START_TEST(connect_full_backlog_timeout_zero_etimedout_at_once)
{
	double cpu, elapsed;

	elapsed = connect_full_backlog(0, &cpu);
	ck_assert_msg(elapsed < 0.050, "timeout 0 took %.3f s", elapsed);
}
END_TEST

/* The server of connect_full_backlog_succeeds_when_server_accepts. */
struct acceptor {
	int fd;			/* the listener's descriptor (borrowed) */
	double started;		/* when accept(2) was called */
	int accepted;		/* accept(2) succeeded */
};

static void *
accept_later(void *arg)
{
	struct acceptor *a = arg;
	int fd;

	/*
	 * A server busy for 200 ms: the delay is the scenario under test,
	 * not synchronisation (the client is timed against a.started).
	 */
	poll(NULL, 0, 200);
	a->started = sxt_now();
	fd = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		a->accepted = 1;
		close(fd);
	}
	return NULL;
}

START_TEST(connect_full_backlog_succeeds_when_server_accepts)
{
	struct acceptor a = { .fd = -1 };
	pthread_t t;
	char name[64], peer[SOCKX_ADDRSTRLEN];
	int fds[MAX_FILL], n, r;
	double t0, done;
	sockx *l, *c = NULL;

	sxt_abstract(name, sizeof(name), "room");
	ck_assert_int_eq(sockx_listen(&l, name, 1, 0, 0), 0);
	n = sxt_fill_backlog(name, fds, MAX_FILL);
	a.fd = sockx_fd(l);
	ck_assert_int_eq(pthread_create(&t, NULL, accept_later, &a), 0);
	t0 = sxt_now();
	r = sockx_connect(&c, name, 3000);
	done = sxt_now();
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(r, 0);
	ck_assert(a.accepted);
	/*
	 * It waited for the room and took it promptly: the retries are at
	 * most 8 ms apart, so 50 ms leaves room for a loaded machine.
	 */
	ck_assert_msg(done > a.started, "connected %.3f s before accept",
	    a.started - done);
	ck_assert_msg(done - a.started < 0.050,
	    "connected %.3f s after the server accepted", done - a.started);
	ck_assert_msg(done - t0 < 0.300, "connect took %.3f s", done - t0);
	/* A connected socket, not a half-made one. */
	peer_text(c, peer, sizeof(peer));
	ck_assert_str_eq(peer, name);
	ck_assert_int_eq(sockx_close(c), 0);
	sxt_close_all(fds, n);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* A missing path is -ENOENT whatever the socket type. */
START_TEST(connect_unix_missing_path_enoent)
{
	static const char *const schemes[] = { "", "unixgram:", "unixpacket:" };
	char dir[PATH_MAX], text[PATH_MAX + 32];
	sockx *c = SENTINEL;

	sxt_tmpdir(dir, sizeof(dir));
	snprintf(text, sizeof(text), "%s%s/missing", schemes[_i], dir);
	ck_assert_int_eq(sockx_connect(&c, text, 1000), -ENOENT);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(connect_unix_stale_socket_econnrefused)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int fd;
	sockx *c = SENTINEL;

	sxt_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/stale", dir);
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* A server that bound and died leaves its file behind. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(sockx_connect(&c, sun.sun_path, 1000),
	    -ECONNREFUSED);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_int_eq(unlink(sun.sun_path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(connect_unix_stream_to_datagram_eprototype)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], text[PATH_MAX + 32];
	sockx *l, *c = SENTINEL;

	sxt_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/dgram", dir);
	snprintf(text, sizeof(text), "unixgram:%s", path);
	ck_assert_int_eq(sockx_listen(&l, text, 0, 0, 0), 0);
	ck_assert_int_eq(sockx_connect(&c, path, 1000), -EPROTOTYPE);
	ck_assert_int_eq(errno, EPROTOTYPE);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_int_eq(sockx_close(l), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * In a child that dropped root for nobody (65534): connect to path, which
 * only root may write.  Exits 0 on -EACCES with errno EACCES.
 */
static void
connect_as_nobody(const char *path)
{
	sockx *c = SENTINEL;
	int r;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0)
		_exit(101);
	if (setuid(65534) < 0)
		_exit(102);
	r = sockx_connect(&c, path, 1000);
	if (r == 0) {
		sockx_close(c);
		_exit(103);
	}
	if (r != -EACCES || errno != EACCES || c != SENTINEL)
		_exit(104);
	_exit(0);
}

START_TEST(connect_unix_no_write_permission_eacces)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct stat st;
	pid_t pid;
	sockx *l;

	ck_assert_msg(geteuid() == 0, "this test needs root to become nobody");
	sxt_tmpdir(dir, sizeof(dir));
	/* Let nobody search the directory: only the socket's mode stops it. */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/private", dir);
	ck_assert_int_eq(sockx_listen(&l, path, 0, 0, 0600), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		connect_as_nobody(path);
	ck_assert_int_eq(child_status(pid), 0);
	ck_assert_int_eq(sockx_close(l), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * A loopback port nobody listens on: bound without listen(2) and kept
 * open, so no other test can take it meanwhile.  Returns the socket.
 */
static int
reserve_port(int family, char *text, size_t size)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd;

	if (family == AF_INET) {
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, len), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	ck_assert_int_gt(sockx_addr_format((struct sockaddr *)&ss, len, text,
	    size), 0);
	return fd;
}

/*
 * The refusal of a non-blocking connect arrives later, in SO_ERROR; a
 * connect that did not read it would report success.
 */
static void
check_refused(int family)
{
	char text[SOCKX_ADDRSTRLEN];
	sockx *c = SENTINEL;
	int fd;

	fd = reserve_port(family, text, sizeof(text));
	ck_assert_int_eq(sockx_connect(&c, text, 1000), -ECONNREFUSED);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_int_eq(close(fd), 0);
}

START_TEST(connect_tcp4_closed_port_econnrefused)
{
	check_refused(AF_INET);
}
END_TEST

START_TEST(connect_tcp6_closed_port_econnrefused)
{
	check_refused(AF_INET6);
}
END_TEST

START_TEST(connect_tcp_full_accept_queue_times_out_on_time)
{
	char text[64];
	int fds[8], n, lfd, r;
	double t0, elapsed;
	sockx *c = SENTINEL;

	lfd = tcp_full_listener(text, sizeof(text), fds, 8, &n);
	t0 = sxt_now();
	r = sockx_connect(&c, text, 300);
	elapsed = sxt_now() - t0;
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_msg(elapsed >= 0.300 && elapsed < 0.450,
	    "300 ms timeout took %.3f s", elapsed);
	sxt_close_all(fds, n);
	ck_assert_int_eq(close(lfd), 0);
}
END_TEST

/*
 * Connect to a listener on address (port 0: any), accept, and check the
 * connected descriptor's modes and peer.
 */
static void
check_tcp_success(const char *address)
{
	char text[SOCKX_ADDRSTRLEN], peer[SOCKX_ADDRSTRLEN];
	sockx *l, *c = NULL, *a = NULL;
	int fd;

	ck_assert_int_eq(sockx_listen(&l, address, 0, 0, 0), 0);
	local_text(l, text, sizeof(text));
	ck_assert_int_eq(sockx_connect(&c, text, 1000), 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sockx_accept(l, &a, 1000), 0);
	fd = sockx_fd(c);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	peer_text(c, peer, sizeof(peer));
	ck_assert_str_eq(peer, text);
	ck_assert_int_eq(sockx_write_full(c, "ok", 2, NULL, 1000), 2);
	ck_assert_int_eq(sockx_read_full(a, peer, 2, NULL, 1000), 2);
	ck_assert_int_eq(memcmp(peer, "ok", 2), 0);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(sockx_close(c), 0);
	ck_assert_int_eq(sockx_close(l), 0);
}

START_TEST(connect_tcp4_listener_connects_nonblocking_cloexec)
{
	check_tcp_success("tcp:127.0.0.1:0");
}
END_TEST

START_TEST(connect_tcp6_listener_connects_nonblocking_cloexec)
{
	check_tcp_success("tcp:[::1]:0");
}
END_TEST

/* Exit codes of self_connect_child, and what the parent says of them. */
enum {
	SELF_OK,
	SELF_UNSHARE_EPERM,
	SELF_UNSHARE,
	SELF_LO_UP,
	SELF_PORT_RANGE,
	SELF_RAW4,
	SELF_RAW6,
	SELF_SOCKX4,
	SELF_SOCKX6,
	SELF_LEAK,
};

static const char *const self_msgs[] = {
	[SELF_UNSHARE_EPERM] = "unshare(CLONE_NEWNET) failed with EPERM: "
	    "this test needs root (CAP_SYS_ADMIN)",
	[SELF_UNSHARE] = "unshare(CLONE_NEWNET) failed",
	[SELF_LO_UP] = "could not bring lo up in the new namespace",
	[SELF_PORT_RANGE] = "could not write ip_local_port_range",
	[SELF_RAW4] = "a raw connect to 127.0.0.1:40000 did not self-connect",
	[SELF_RAW6] = "a raw connect to [::1]:40000 did not self-connect",
	[SELF_SOCKX4] = "sockx_connect(127.0.0.1:40000) was not -ECONNREFUSED",
	[SELF_SOCKX6] = "sockx_connect([::1]:40000) was not -ECONNREFUSED",
	[SELF_LEAK] = "sockx_connect leaked a descriptor on self-connect",
};

static int
lo_up(void)
{
	struct ifreq ifr;
	int fd, r = -1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return r;
}

static int
write_file(const char *path, const char *text)
{
	int fd, ok;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	return close(fd) == 0 && ok ? 0 : -1;
}

/* Same IP address and port (the sockaddrs differ in other fields). */
static int
same_endpoint(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/*
 * Prove the scenario is real: a plain blocking connect to text, with
 * only the target port left to choose from, connects to itself.  It is
 * reset rather than closed, so no TIME_WAIT holds the four-tuple.
 */
static int
raw_self_connect(const char *text)
{
	struct sockaddr_storage to, local, peer;
	struct linger lg = { 1, 0 };
	socklen_t len, llen = sizeof(local), plen = sizeof(peer);
	int fd, ok;

	if (sockx_addr_parse(text, &to, &len, NULL) < 0)
		return -1;
	fd = socket(to.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ok = connect(fd, (struct sockaddr *)&to, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&local, &llen) == 0 &&
	    getpeername(fd, (struct sockaddr *)&peer, &plen) == 0 &&
	    same_endpoint(&local, &peer) && same_endpoint(&local, &to);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return ok ? 0 : -1;
}

/* sockx_connect to a self-connecting address: refused, nothing leaked. */
static int
sockx_self_refused(const char *text)
{
	sockx *c = SENTINEL;
	int r;

	r = sockx_connect(&c, text, 1000);
	if (r == 0)
		sockx_close(c);
	return r == -ECONNREFUSED && errno == ECONNREFUSED && c == SENTINEL ?
	    0 : -1;
}

/*
 * In a private network namespace whose ephemeral port range is the one
 * port 40000, a connect to loopback port 40000 with nobody listening
 * picks 40000 as its own port and completes by simultaneous open.
 */
static int
self_connect_child(void)
{
	int nfds;

	if (unshare(CLONE_NEWNET) < 0)
		return errno == EPERM ? SELF_UNSHARE_EPERM : SELF_UNSHARE;
	if (lo_up() < 0)
		return SELF_LO_UP;
	if (write_file("/proc/sys/net/ipv4/ip_local_port_range",
	    "40000 40000") < 0)
		return SELF_PORT_RANGE;
	nfds = count_fds();
	if (raw_self_connect("127.0.0.1:40000") < 0)
		return SELF_RAW4;
	if (sockx_self_refused("127.0.0.1:40000") < 0)
		return SELF_SOCKX4;
	/* The IPv4 port range governs IPv6 ephemeral ports too. */
	if (raw_self_connect("[::1]:40000") < 0)
		return SELF_RAW6;
	if (sockx_self_refused("[::1]:40000") < 0)
		return SELF_SOCKX6;
	return count_fds() == nfds ? SELF_OK : SELF_LEAK;
}

START_TEST(connect_tcp_self_connect_econnrefused)
{
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(self_connect_child());
	st = child_status(pid);
	ck_assert_msg(st == SELF_OK, "%s (exit %d)",
	    st < (int)(sizeof(self_msgs) / sizeof(self_msgs[0])) &&
	    self_msgs[st] != NULL ? self_msgs[st] : "unknown", st);
}
END_TEST

static void
check_no_names(const sockx *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(sockx_local_addr(s, &ss, &len), -ENAMETOOLONG);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_int_eq(sockx_peer_addr(s, &ss, &len), -ENAMETOOLONG);
	ck_assert_int_eq(errno, ENAMETOOLONG);
}

START_TEST(connect_unix_long_path_connects)
{
	char dir[PATH_MAX], deep[PATH_MAX], path[PATH_MAX + 16], buf[4];
	struct sockaddr_storage ss;
	struct stat st;
	socklen_t len;
	sockx *l, *c = NULL, *a = NULL;

	sxt_tmpdir(dir, sizeof(dir));
	sxt_deep_dirs(dir, deep, sizeof(deep));
	snprintf(path, sizeof(path), "%s/s.sock", deep);
	ck_assert_uint_ge(strlen(path), 150);
	ck_assert_int_eq(sockx_listen(&l, path, 0, 0, 0), 0);
	ck_assert_int_eq(sockx_connect(&c, path, 1000), 0);
	ck_assert_int_eq(sockx_accept(l, &a, 1000), 0);
	ck_assert_int_eq(sockx_write_full(c, "ping", 4, NULL, 1000), 4);
	ck_assert_int_eq(sockx_read_full(a, buf, 4, NULL, 1000), 4);
	ck_assert_int_eq(memcmp(buf, "ping", 4), 0);
	ck_assert_int_eq(sockx_write_full(a, "pong", 4, NULL, 1000), 4);
	ck_assert_int_eq(sockx_read_full(c, buf, 4, NULL, 1000), 4);
	ck_assert_int_eq(memcmp(buf, "pong", 4), 0);
	/* The socket is at the full path, not at some alias of it. */
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	check_no_names(c);
	check_no_names(l);
	check_no_names(a);
	ck_assert_int_eq(sockx_addr_parse(path, &ss, &len, NULL),
	    -ENAMETOOLONG);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(sockx_close(c), 0);
	ck_assert_int_eq(sockx_close(l), 0);
	ck_assert_int_eq(unlink(path), 0);
	sxt_remove_deep_dirs(dir, deep);
}
END_TEST

START_TEST(connect_unix_long_basename_enametoolong)
{
	char dir[PATH_MAX], deep[PATH_MAX], path[PATH_MAX + 128];
	struct stat st;
	sockx *s = SENTINEL;

	sxt_tmpdir(dir, sizeof(dir));
	sxt_deep_dirs(dir, deep, sizeof(deep));
	/* Even /proc/self/fd/N/<basename> cannot hold 100 bytes of name. */
	snprintf(path, sizeof(path), "%s/%0100d", deep, 0);
	ck_assert_int_eq(sockx_listen(&s, path, 0, 0, 0), -ENAMETOOLONG);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_ptr_eq(s, SENTINEL);
	ck_assert_int_eq(sockx_connect(&s, path, 1000), -ENAMETOOLONG);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_ptr_eq(s, SENTINEL);
	ck_assert_int_eq(lstat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	sxt_remove_deep_dirs(dir, deep);
}
END_TEST

START_TEST(connect_unixgram_gives_connected_datagram_socket)
{
	char name[64], text[80], peer[SOCKX_ADDRSTRLEN], buf[8];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	int type;
	socklen_t n = sizeof(type);
	sockx *l, *c = NULL;

	sxt_abstract(name, sizeof(name), "gram");
	snprintf(text, sizeof(text), "unixgram:%s", name);
	ck_assert_int_eq(sockx_listen(&l, text, 0, 0, 0), 0);
	ck_assert_int_eq(sockx_connect(&c, text, 1000), 0);
	ck_assert_int_eq(getsockopt(sockx_fd(c), SOL_SOCKET, SO_TYPE, &type,
	    &n), 0);
	ck_assert_int_eq(type, SOCK_DGRAM);
	peer_text(c, peer, sizeof(peer));
	ck_assert_str_eq(peer, name);
	/* No address given: it goes where the socket is connected. */
	ck_assert_int_eq(sockx_write(c, "dgram", 5, 1000), 5);
	ck_assert_int_eq(sockx_recvfrom(l, buf, sizeof(buf), &from, &fromlen,
	    1000), 5);
	ck_assert_int_eq(memcmp(buf, "dgram", 5), 0);
	ck_assert_int_eq(sockx_close(c), 0);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

START_TEST(connect_udp_gives_connected_datagram_socket)
{
	char text[SOCKX_ADDRSTRLEN], udp[SOCKX_ADDRSTRLEN + 8];
	char sender[SOCKX_ADDRSTRLEN], local[SOCKX_ADDRSTRLEN], buf[8];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	sockx *l, *c = NULL;

	ck_assert_int_eq(sockx_listen(&l, "udp:127.0.0.1:0", 0, 0, 0), 0);
	local_text(l, text, sizeof(text));
	snprintf(udp, sizeof(udp), "udp:%s", text);
	ck_assert_int_eq(sockx_connect(&c, udp, 1000), 0);
	ck_assert_int_eq(sockx_write(c, "dgram", 5, 1000), 5);
	ck_assert_int_eq(sockx_recvfrom(l, buf, sizeof(buf), &from, &fromlen,
	    1000), 5);
	ck_assert_int_eq(memcmp(buf, "dgram", 5), 0);
	ck_assert_int_gt(sockx_addr_format((struct sockaddr *)&from, fromlen,
	    sender, sizeof(sender)), 0);
	local_text(c, local, sizeof(local));
	ck_assert_str_eq(sender, local);
	ck_assert_int_eq(sockx_close(c), 0);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/*
 * Bad arguments, each refused before anything is sent.  A bad timeout is
 * tried with addresses where a listener waits, so its -EINVAL can only
 * come from the timeout check.
 */
START_TEST(connect_bad_arguments_einval)
{
	char name[64], tcp4[SOCKX_ADDRSTRLEN], tcp6[SOCKX_ADDRSTRLEN];
	const char *bad[] = {
		"tcp:127.0.0.1:0", "127.0.0.1:0", "[::1]:0", "tcp:[::1]:0",
		"@", "unix:@", "not an address", "", "tcp:127.0.0.1",
		"udp:127.0.0.1:0",
	};
	sockx *l, *l4, *l6, *c = SENTINEL;
	size_t i;

	sxt_abstract(name, sizeof(name), "args");
	ck_assert_int_eq(sockx_listen(&l, name, 0, 0, 0), 0);
	ck_assert_int_eq(sockx_listen(&l4, "tcp:127.0.0.1:0", 0, 0, 0), 0);
	ck_assert_int_eq(sockx_listen(&l6, "tcp:[::1]:0", 0, 0, 0), 0);
	local_text(l4, tcp4, sizeof(tcp4));
	local_text(l6, tcp6, sizeof(tcp6));
	ck_assert_int_eq(sockx_connect(NULL, name, 1000), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sockx_connect(&c, NULL, 1000), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_int_eq(sockx_connect(&c, name, -2), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sockx_connect(&c, tcp4, -2), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sockx_connect(&c, tcp6, INT_MIN), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_eq(c, SENTINEL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(sockx_connect(&c, bad[i], 1000) == -EINVAL,
		    "\"%s\" was not -EINVAL", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_ptr_eq(c, SENTINEL);
	}
	ck_assert_int_eq(sockx_close(l6), 0);
	ck_assert_int_eq(sockx_close(l4), 0);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* Descriptor numbers taken so that every new socket gets one above this. */
#define HIGH_FD 1600

START_TEST(connect_high_fd_numbers_work)
{
	static int low[HIGH_FD];
	char name[64], text[SOCKX_ADDRSTRLEN];
	int fds[MAX_FILL], tcp[8], nlow, n, lfd, r;
	double t0, elapsed, cpu;
	sockx *l, *a = NULL, *c = SENTINEL;

	nlow = sxt_occupy_low_fds(low, HIGH_FD);

	/* A full unix backlog: the retries, at a high number. */
	sxt_abstract(name, sizeof(name), "high");
	ck_assert_int_eq(sockx_listen(&l, name, 1, 0, 0), 0);
	ck_assert_int_gt(sockx_fd(l), 1500);
	n = sxt_fill_backlog(name, fds, MAX_FILL);
	t0 = sxt_now();
	r = sockx_connect(&c, name, 300);
	elapsed = sxt_now() - t0;
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_msg(elapsed >= 0.300 && elapsed < 0.450,
	    "300 ms timeout took %.3f s", elapsed);
	sxt_close_all(fds, n);
	ck_assert_int_eq(sockx_close(l), 0);

	/*
	 * TCP that never completes: the wait itself, for the whole 300 ms,
	 * with the descriptor's bit far beyond a fixed fd_set.  A wait that
	 * misread the bitmap would wake early and spin.
	 */
	lfd = tcp_full_listener(text, sizeof(text), tcp, 8, &n);
	cpu = sxt_thread_cpu();
	t0 = sxt_now();
	r = sockx_connect(&c, text, 300);
	elapsed = sxt_now() - t0;
	cpu = sxt_thread_cpu() - cpu;
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_msg(elapsed >= 0.300 && elapsed < 0.450,
	    "300 ms timeout took %.3f s", elapsed);
	ck_assert_msg(cpu < 0.1 * elapsed,
	    "waiting used %.3f s CPU in %.3f s", cpu, elapsed);
	ck_assert_ptr_eq(c, SENTINEL);
	sxt_close_all(tcp, n);
	ck_assert_int_eq(close(lfd), 0);

	/* TCP that completes. */
	ck_assert_int_eq(sockx_listen(&l, "tcp:127.0.0.1:0", 0, 0, 0), 0);
	local_text(l, text, sizeof(text));
	ck_assert_int_eq(sockx_connect(&c, text, 1000), 0);
	ck_assert_int_gt(sockx_fd(c), 1500);
	ck_assert_int_eq(sockx_accept(l, &a, 1000), 0);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(sockx_close(c), 0);
	ck_assert_int_eq(sockx_close(l), 0);
	sxt_close_all(low, nlow);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("connect");
	TCase *tc;

	tc = sx_tcase("backlog", 30);
	tcase_add_test(tc, connect_full_backlog_times_out_on_time);
	tcase_add_test(tc, connect_full_backlog_long_wait_does_not_spin);
	tcase_add_test(tc, connect_full_backlog_timeout_zero_etimedout_at_once);
	tcase_add_test(tc, connect_full_backlog_succeeds_when_server_accepts);
	suite_add_tcase(s, tc);

	tc = sx_tcase("unix", 30);
	tcase_add_loop_test(tc, connect_unix_missing_path_enoent, 0, 3);
	tcase_add_test(tc, connect_unix_stale_socket_econnrefused);
	tcase_add_test(tc, connect_unix_stream_to_datagram_eprototype);
	tcase_add_test(tc, connect_unix_no_write_permission_eacces);
	tcase_add_test(tc, connect_unix_long_path_connects);
	tcase_add_test(tc, connect_unix_long_basename_enametoolong);
	suite_add_tcase(s, tc);

	tc = sx_tcase("tcp", 30);
	tcase_add_test(tc, connect_tcp4_closed_port_econnrefused);
	tcase_add_test(tc, connect_tcp6_closed_port_econnrefused);
	tcase_add_test(tc, connect_tcp_full_accept_queue_times_out_on_time);
	tcase_add_test(tc, connect_tcp4_listener_connects_nonblocking_cloexec);
	tcase_add_test(tc, connect_tcp6_listener_connects_nonblocking_cloexec);
	tcase_add_test(tc, connect_tcp_self_connect_econnrefused);
	suite_add_tcase(s, tc);

	tc = sx_tcase("datagram", 30);
	tcase_add_test(tc, connect_unixgram_gives_connected_datagram_socket);
	tcase_add_test(tc, connect_udp_gives_connected_datagram_socket);
	suite_add_tcase(s, tc);

	tc = sx_tcase("contract", 30);
	tcase_add_test(tc, connect_bad_arguments_einval);
	tcase_add_test(tc, connect_high_fd_numbers_work);
	suite_add_tcase(s, tc);
	return s;
}
