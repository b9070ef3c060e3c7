/* SPDX-License-Identifier: MIT */
/*
 * bench-perf.c - what timeouts cost: the same socket work done four ways in
 * one run, run by run in alternation, so the machine's drift hits every
 * way alike.
 *
 *   raw              plain blocking system calls, no timeout at all
 *   textbook         select() with a 5 s timeout before every call, then
 *                    the call, in code that works on blocking and
 *                    non-blocking descriptors alike: the connected ones
 *                    stay blocking, as in raw (so it costs raw plus the
 *                    selects); connect is a non-blocking connect, select
 *                    and getsockopt(SO_ERROR); the listener is
 *                    non-blocking (a connection aborted between select
 *                    and accept must not block accept)
 *   tryfirst         the careful hand-written floor of the default mode:
 *                    non-blocking descriptors, the call tried first, poll()
 *                    only after EAGAIN, with the time left of one
 *                    CLOCK_MONOTONIC deadline taken when the call starts;
 *                    EINTR resumed, MSG_NOSIGNAL on every send; connect is
 *                    a non-blocking connect, poll and SO_ERROR
 *   rcvtimeo         the floor of kernel-timeout mode: blocking descriptors
 *                    with SO_RCVTIMEO and SO_SNDTIMEO of 5 s set once (a
 *                    connecting socket sets both before connect; the
 *                    listener has SO_RCVTIMEO), MSG_NOSIGNAL, EINTR resumed
 *   libsockx         the sockx_* calls with a 5000 ms timeout (the default
 *                    mode: try the call, wait only on EAGAIN)
 *   libsockx-kernel  the same with sockx_set_kernel_timeouts(s, 1) on every
 *                    connected handle (listeners cannot have it)
 *
 * Scenarios (client in this process, server in a forked child; both sides
 * use the same implementation):
 *
 *   pp-unix       1-byte ping-pong over a unix stream socketpair
 *   pp-tcp        1-byte ping-pong over TCP on 127.0.0.1
 *   stream-unix   64 KiB writes over a unix stream socketpair, read in
 *                 64 KiB reads; after the last one the server acks 1 byte
 *   fdpass-unix   one descriptor (with 1 byte) per message; the server
 *                 receives it, closes it and acks 1 byte
 *   connect-unix  connect to an abstract unix listener; the server accepts
 *                 and closes; the client reads the end of stream and closes
 *   connect-tcp   the same on 127.0.0.1
 *
 * Output: one line per measured run, for tests/bench-table.sh to make
 * tables of (medians, ratios):
 *
 *   R PIN SCENARIO IMPL RUN NS_PER_OP MB_PER_S
 *     C_OPS C_ALLOCS C_FREES C_IOCALLS C_IOALLOCS
 *     S_OPS S_ALLOCS S_FREES S_IOCALLS S_IOALLOCS CPU_NS_PER_OP
 *
 * (on one line).  C_ is the client, S_ the server; ALLOCS counts malloc,
 * calloc and realloc calls in the measured loop (warm-up included for the
 * server), IOALLOCS those made inside I/O calls (read, write, send and
 * receive of descriptors) on handles that already exist.  Counts are -1 in
 * builds whose sanitizer owns malloc, and without glibc.  CPU_NS_PER_OP
 * is the CPU time (user and system) of client and server per operation,
 * which other processes on the machine disturb less than the time.
 *
 * Usage: bench-perf [-p same|two] [-r RUNS] [-s SCALE] [-n OPS] [-W]
 *                   [-o SCENARIO,...] [-i IMPL,...]
 *   -p  same: client and server on CPU 0 (default); two: client on CPU 0,
 *       server on CPU 1
 *   -r  runs per implementation (default 9; the tables take the median)
 *   -s  multiply the operation counts (default 1)
 *   -n  operations per run, for every scenario (overrides -s)
 *   -W  no warm-up operations (for counting system calls with strace)
 * Asserts nothing; exits 1 only when an operation fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sockx.h>

#define TIMEOUT_MS 5000
#define CHUNK (64 * 1024)
#define MAX_RUNS 101

/* ------------------------------------------------------------------ */
/* Counting allocations                                                */
/* ------------------------------------------------------------------ */

/*
 * The program's own malloc family, which the dynamic linker binds
 * libsockx's calls to (symbol interposition), counting calls and passing
 * them on to glibc's (__libc_malloc and the others).  Not where a
 * sanitizer brings its own, nor with another C library.
 */
#if !defined(__GLIBC__) || defined(__SANITIZE_ADDRESS__) || \
    defined(__SANITIZE_THREAD__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
#endif

static long n_allocs, n_frees, n_io_allocs;
static int in_io;

#if COUNT_ALLOCS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static void
counted(void)
{
	n_allocs++;
	if (in_io)
		n_io_allocs++;
}

void *
malloc(size_t n)
{
	counted();
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	counted();
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	counted();
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	if (p != NULL)
		n_frees++;
	__libc_free(p);
}
#endif

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

enum impl { RAW, TEXTBOOK, TRYFIRST, RCVTIMEO, SOCKX, KERNEL, NIMPL };
static const char *const impl_names[NIMPL] = {
	"raw", "textbook", "tryfirst", "rcvtimeo", "libsockx",
	"libsockx-kernel",
};

enum scen { PP_UNIX, PP_TCP, STREAM, FDPASS, CONN_UNIX, CONN_TCP, NSCEN };
static const char *const scen_names[NSCEN] = {
	"pp-unix", "pp-tcp", "stream-unix", "fdpass-unix", "connect-unix",
	"connect-tcp",
};
/*
 * Operations per run at scale 1, on the same CPU and on two CPUs (where a
 * round trip waits for the other CPU to wake up): 0.1 to 0.3 s a run.
 */
static const long scen_ops[2][NSCEN] = {
	{ 20000, 20000, 16384, 20000, 10000, 5000 },
	{ 3000, 3000, 8192, 3000, 3000, 1500 },
};

static const char *cur_what = "setup";

static void
die(const char *what)
{
	fprintf(stderr, "bench-perf: %s: %s: %s\n", cur_what, what,
	    strerror(errno));
	exit(1);
}

static double
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double
now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

static int
lookup(const char *name, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	fprintf(stderr, "bench-perf: unknown name %s\n", name);
	exit(2);
}

/* Parse "a,b,c" into which[] (1 = chosen). */
static void
choose(char *list, int *which, const char *const *names, int n)
{
	char *tok, *save = NULL;

	memset(which, 0, sizeof(*which) * (size_t)n);
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		which[lookup(tok, names, n)] = 1;
}

/* ------------------------------------------------------------------ */
/* One end of a connection, in any of the implementations             */
/* ------------------------------------------------------------------ */

struct ep {
	int impl;
	int fd;			/* raw, textbook */
	sockx *s;		/* libsockx, libsockx-kernel */
};

struct side {
	long ops, allocs, frees, io_calls, io_allocs;
	double cpu_ns;		/* CPU time of the loop, user and system */
};

static long io_calls;

static void
io_begin(void)
{
	in_io = 1;
	io_calls++;
}

static void
io_end(void)
{
	in_io = 0;
}

/* The textbook wait: select() with the whole timeout, before every call. */
static int
tb_select(int fd, int writing)
{
	struct timeval tv = { TIMEOUT_MS / 1000, (TIMEOUT_MS % 1000) * 1000 };
	fd_set set;
	int r;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	r = select(fd + 1, writing ? NULL : &set, writing ? &set : NULL, NULL,
	    &tv);
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return r < 0 ? -1 : 0;
}

/* tryfirst: one CLOCK_MONOTONIC deadline, taken when a call starts. */
static int64_t
tf_deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
	    (int64_t)TIMEOUT_MS * 1000000;
}

/*
 * tryfirst, after a call on fd failed (errno): 0 to try it again (after
 * EINTR at once, after EAGAIN once poll() says so), -1 to give up
 * (ETIMEDOUT once the deadline end has passed).
 */
static int
tf_again(int fd, short events, int64_t end)
{
	struct pollfd p = { .fd = fd, .events = events };
	struct timespec ts;
	int64_t left;
	int r;

	if (errno == EINTR)
		return 0;
	if (errno != EAGAIN)
		return -1;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		left = end - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&p, 1, (int)((left + 999999) / 1000000));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* rcvtimeo: both kernel timeouts of fd at TIMEOUT_MS. */
static void
rt_arm(int fd)
{
	struct timeval tv = { TIMEOUT_MS / 1000, (TIMEOUT_MS % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		die("setsockopt");
}

static void
set_kernel(struct ep *e)
{
	if (e->impl == KERNEL && sockx_set_kernel_timeouts(e->s, 1) < 0)
		die("sockx_set_kernel_timeouts");
}

/*
 * Wrap fd (blocking, close-on-exec) as an end of impl: raw and textbook
 * use it as it is, tryfirst makes it non-blocking, rcvtimeo sets its
 * kernel timeouts, libsockx adopts it.
 */
static void
ep_wrap(struct ep *e, int impl, int fd)
{
	e->impl = impl;
	e->fd = fd;
	e->s = NULL;
	if (impl == TRYFIRST && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		die("fcntl");
	if (impl == RCVTIMEO)
		rt_arm(fd);
	if (impl >= SOCKX) {
		if (sockx_adopt(&e->s, fd) < 0)
			die("sockx_adopt");
		set_kernel(e);
	}
}

static void
ep_close(struct ep *e)
{
	if (e->impl >= SOCKX) {
		if (sockx_close(e->s) < 0)
			die("sockx_close");
	} else if (close(e->fd) < 0) {
		die("close");
	}
}

static ssize_t
ep_read(struct ep *e, void *buf, size_t len)
{
	int64_t end;
	ssize_t n;

	io_begin();
	switch (e->impl) {
	case RAW:
		do
			n = read(e->fd, buf, len);
		while (n < 0 && errno == EINTR);
		break;
	case TEXTBOOK:
		do
			n = tb_select(e->fd, 0) < 0 ? -1 :
			    read(e->fd, buf, len);
		while (n < 0 && (errno == EAGAIN || errno == EINTR));
		break;
	case TRYFIRST:
		end = tf_deadline();
		while ((n = read(e->fd, buf, len)) < 0 &&
		    tf_again(e->fd, POLLIN, end) == 0)
			;
		break;
	case RCVTIMEO:
		do
			n = read(e->fd, buf, len);
		while (n < 0 && errno == EINTR);
		break;
	default:
		n = sockx_read(e->s, buf, len, TIMEOUT_MS);
		break;
	}
	io_end();
	if (n < 0)
		die("read");
	return n;
}

/* One write of at most len bytes. */
static ssize_t
ep_write(struct ep *e, const void *buf, size_t len)
{
	int64_t end;
	ssize_t n;

	io_begin();
	switch (e->impl) {
	case RAW:
		do
			n = write(e->fd, buf, len);
		while (n < 0 && errno == EINTR);
		break;
	case TEXTBOOK:
		do
			n = tb_select(e->fd, 1) < 0 ? -1 :
			    write(e->fd, buf, len);
		while (n < 0 && (errno == EAGAIN || errno == EINTR));
		break;
	case TRYFIRST:
		end = tf_deadline();
		while ((n = send(e->fd, buf, len, MSG_NOSIGNAL)) < 0 &&
		    tf_again(e->fd, POLLOUT, end) == 0)
			;
		break;
	case RCVTIMEO:
		do
			n = send(e->fd, buf, len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		break;
	default:
		n = sockx_write(e->s, buf, len, TIMEOUT_MS);
		break;
	}
	io_end();
	if (n <= 0)
		die("write");
	return n;
}

/* All len bytes: a loop of writes, or sockx_write_full. */
static void
ep_write_full(struct ep *e, const void *buf, size_t len)
{
	size_t done = 0;
	int64_t end;
	ssize_t n;

	if (e->impl == TRYFIRST) {
		/* One deadline for the whole transfer. */
		io_begin();
		end = tf_deadline();
		while (done < len) {
			n = send(e->fd, (const char *)buf + done, len - done,
			    MSG_NOSIGNAL);
			if (n > 0)
				done += (size_t)n;
			else if (n < 0 && tf_again(e->fd, POLLOUT, end) < 0)
				die("write");
		}
		io_end();
		return;
	}
	if (e->impl < SOCKX) {
		while (done < len)
			done += (size_t)ep_write(e, (const char *)buf + done,
			    len - done);
		return;
	}
	io_begin();
	n = sockx_write_full(e->s, buf, len, NULL, TIMEOUT_MS);
	io_end();
	if (n != (ssize_t)len)
		die("sockx_write_full");
}

static void
ep_shutdown_wr(struct ep *e)
{
	if (e->impl >= SOCKX ? sockx_shutdown(e->s, SHUT_WR) < 0 :
	    shutdown(e->fd, SHUT_WR) < 0)
		die("shutdown");
}

/* Send 1 byte carrying the descriptor fd. */
static void
ep_send_fd(struct ep *e, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char c = 'f';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cm;
	int64_t end;
	ssize_t n;

	io_begin();
	if (e->impl >= SOCKX) {
		n = sockx_send_fds(e->s, &c, 1, &fd, 1, TIMEOUT_MS);
	} else if (e->impl == TRYFIRST || e->impl == RCVTIMEO) {
		end = e->impl == TRYFIRST ? tf_deadline() : 0;
		memset(&control, 0, sizeof(control));
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		while ((n = sendmsg(e->fd, &m, MSG_NOSIGNAL)) < 0 &&
		    (e->impl == TRYFIRST ? tf_again(e->fd, POLLOUT, end) == 0 :
		    errno == EINTR))
			;
	} else {
		memset(&control, 0, sizeof(control));
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		do
			n = e->impl == TEXTBOOK && tb_select(e->fd, 1) < 0 ?
			    -1 : sendmsg(e->fd, &m, 0);
		while (n < 0 && (errno == EAGAIN || errno == EINTR));
	}
	io_end();
	if (n != 1)
		die("send fd");
}

/* Receive 1 byte and the descriptor riding on it: 1, or 0 at the end. */
static ssize_t
ep_recv_fd(struct ep *e, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cm;
	size_t nfds = 1;
	int64_t end;
	ssize_t n;

	*fd = -1;
	io_begin();
	if (e->impl >= SOCKX) {
		n = sockx_recv_fds(e->s, &c, 1, fd, &nfds, TIMEOUT_MS);
		if (n > 0 && nfds != 1)
			n = -1;
	} else {
		end = e->impl == TRYFIRST ? tf_deadline() : 0;
		if (e->impl == TRYFIRST)
			while ((n = recvmsg(e->fd, &m, MSG_CMSG_CLOEXEC)) < 0 &&
			    tf_again(e->fd, POLLIN, end) == 0)
				;
		else
			do
				n = e->impl == TEXTBOOK &&
				    tb_select(e->fd, 0) < 0 ? -1 :
				    recvmsg(e->fd, &m, MSG_CMSG_CLOEXEC);
			while (n < 0 && (errno == EINTR ||
			    (e->impl != RCVTIMEO && errno == EAGAIN)));
		cm = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
		if (cm != NULL && cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
		else if (n > 0)
			n = -1;
	}
	io_end();
	if (n < 0)
		die("receive fd");
	return n;
}

/* ------------------------------------------------------------------ */
/* Listeners and connects                                              */
/* ------------------------------------------------------------------ */

/* Where a client connects: a sockaddr for raw and textbook, text for us. */
struct target {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[SOCKX_ADDRSTRLEN];
};

static unsigned listener_seq;

/* A unix (abstract) or TCP (127.0.0.1, any port) listener of impl. */
static void
ep_listen(struct ep *l, int impl, int tcp, struct target *t)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&t->ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&t->ss;
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "sockx-perf-%ld-%u", (long)getpid(),
	    listener_seq++);
	memset(t, 0, sizeof(*t));
	l->impl = impl;
	l->fd = -1;
	l->s = NULL;
	if (impl >= SOCKX) {
		if (tcp)
			snprintf(t->text, sizeof(t->text), "127.0.0.1:0");
		else
			snprintf(t->text, sizeof(t->text), "@%s", name);
		/* Kernel timeouts are for transfers, not for listeners. */
		if (sockx_listen(&l->s, t->text, 0, 0, 0) < 0)
			die("sockx_listen");
		t->len = sizeof(t->ss);
		if (sockx_local_addr(l->s, &t->ss, &t->len) < 0 ||
		    sockx_addr_format((struct sockaddr *)&t->ss, t->len,
		    t->text, sizeof(t->text)) < 0)
			die("sockx_local_addr");
		return;
	}
	fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    (impl == TEXTBOOK || impl == TRYFIRST ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		die("socket");
	if (impl == RCVTIMEO)
		rt_arm(fd);
	if (tcp) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		t->len = sizeof(*sin);
	} else {
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path + 1, name, strlen(name));
		t->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    1 + strlen(name));
	}
	if (bind(fd, (struct sockaddr *)&t->ss, t->len) < 0 ||
	    listen(fd, SOMAXCONN) < 0)
		die("bind/listen");
	if (tcp && getsockname(fd, (struct sockaddr *)&t->ss, &t->len) < 0)
		die("getsockname");
	l->fd = fd;
}

static void
ep_connect(struct ep *c, int impl, const struct target *t)
{
	socklen_t n = sizeof(int);
	int fd, r, err = 0;
	int64_t end = 0;

	c->impl = impl;
	c->fd = -1;
	c->s = NULL;
	if (impl >= SOCKX) {
		if (sockx_connect(&c->s, t->text, TIMEOUT_MS) < 0)
			die("sockx_connect");
		set_kernel(c);
		return;
	}
	if (impl == TRYFIRST)
		end = tf_deadline();
	fd = socket(t->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    (impl == TEXTBOOK || impl == TRYFIRST ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		die("socket");
	if (impl == RCVTIMEO)
		rt_arm(fd);
	if (impl == TRYFIRST) {
		/* A full unix backlog (EAGAIN) has no readiness event. */
		while ((r = connect(fd, (const struct sockaddr *)&t->ss,
		    t->len)) < 0 && errno == EAGAIN)
			sched_yield();
		if (r < 0 && (errno == EINPROGRESS || errno == EINTR)) {
			errno = EAGAIN;
			if (tf_again(fd, POLLOUT, end) < 0 ||
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n) < 0)
				die("connect wait");
			errno = err;
			r = err == 0 ? 0 : -1;
		}
		if (r < 0)
			die("connect");
		c->fd = fd;
		return;
	}
	do
		r = connect(fd, (const struct sockaddr *)&t->ss, t->len);
	while (r < 0 && (impl == RAW || impl == RCVTIMEO) && errno == EINTR);
	if (r < 0 && impl == TEXTBOOK && errno == EINPROGRESS) {
		if (tb_select(fd, 1) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n) < 0)
			die("connect wait");
		errno = err;
		r = err == 0 ? 0 : -1;
	}
	if (r < 0)
		die("connect");
	c->fd = fd;
}

static void
ep_accept(struct ep *l, struct ep *c)
{
	int64_t end;

	c->impl = l->impl;
	c->fd = -1;
	c->s = NULL;
	if (l->impl >= SOCKX) {
		if (sockx_accept(l->s, &c->s, TIMEOUT_MS) < 0)
			die("sockx_accept");
		set_kernel(c);
		return;
	}
	if (l->impl == TRYFIRST) {
		end = tf_deadline();
		while ((c->fd = accept4(l->fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0 &&
		    (errno == ECONNABORTED || tf_again(l->fd, POLLIN, end) == 0))
			;
		if (c->fd < 0)
			die("accept");
		return;
	}
	do
		c->fd = l->impl == TEXTBOOK && tb_select(l->fd, 0) < 0 ? -1 :
		    accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
	while (c->fd < 0 && (errno == EINTR || errno == EAGAIN ||
	    errno == ECONNABORTED));
	if (c->fd < 0)
		die("accept");
}

/* A connected pair of blocking descriptors: [0] client, [1] server. */
static void
make_pair(int tcp, int fds[2])
{
	struct ep l, c;
	struct target t;

	if (!tcp) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    fds) < 0)
			die("socketpair");
		return;
	}
	ep_listen(&l, RAW, 1, &t);
	ep_connect(&c, RAW, &t);
	fds[0] = c.fd;
	fds[1] = accept4(l.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fds[1] < 0)
		die("accept");
	close(l.fd);
}

/* ------------------------------------------------------------------ */
/* The scenarios                                                       */
/* ------------------------------------------------------------------ */

static char chunk[CHUNK];

static double cpu_start;

static void
side_begin(void)
{
	n_allocs = n_frees = n_io_allocs = 0;
	io_calls = 0;
	cpu_start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static void
side_end(struct side *s, long ops)
{
	s->cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
	s->ops = ops;
	s->allocs = COUNT_ALLOCS ? n_allocs : -1;
	s->frees = COUNT_ALLOCS ? n_frees : -1;
	s->io_calls = io_calls;
	s->io_allocs = COUNT_ALLOCS ? n_io_allocs : -1;
}

/* The server's loop; returns the operations it served. */
static long
serve(int scen, struct ep *e, long total)
{
	struct ep c;
	char c1;
	long ops = 0;
	ssize_t n;
	int fd;

	switch (scen) {
	case PP_UNIX:
	case PP_TCP:
		while (ep_read(e, &c1, 1) == 1) {
			ep_write(e, &c1, 1);
			ops++;
		}
		break;
	case STREAM:
		while ((n = ep_read(e, chunk, sizeof(chunk))) > 0)
			ops += n;
		ops /= CHUNK;
		c1 = 'k';
		ep_write(e, &c1, 1);
		break;
	case FDPASS:
		while (ep_recv_fd(e, &fd) == 1) {
			if (close(fd) < 0)
				die("close passed fd");
			c1 = 'k';
			ep_write(e, &c1, 1);
			ops++;
		}
		break;
	default:
		for (ops = 0; ops < total; ops++) {
			ep_accept(e, &c);
			ep_close(&c);
		}
		break;
	}
	return ops;
}

/* The client's loop: ops operations after warm untimed ones; ns taken. */
static double
drive(int scen, struct ep *e, long warm, long ops, int impl,
    const struct target *t, int passfd)
{
	double t0 = 0;
	struct ep c;
	char c1 = 'p';
	long i;

	side_begin();
	for (i = 0; i < warm + ops; i++) {
		if (i == warm) {
			side_begin();
			t0 = now_ns();
		}
		switch (scen) {
		case PP_UNIX:
		case PP_TCP:
			ep_write(e, &c1, 1);
			if (ep_read(e, &c1, 1) != 1)
				die("echo");
			break;
		case STREAM:
			ep_write_full(e, chunk, sizeof(chunk));
			break;
		case FDPASS:
			ep_send_fd(e, passfd);
			if (ep_read(e, &c1, 1) != 1)
				die("ack");
			break;
		default:
			ep_connect(&c, impl, t);
			if (ep_read(&c, &c1, 1) != 0)
				die("end of stream");
			ep_close(&c);
			break;
		}
	}
	if (warm + ops == 0)
		t0 = now_ns();
	if (scen == STREAM) {
		ep_shutdown_wr(e);
		if (ep_read(e, &c1, 1) != 1)
			die("stream ack");
	}
	return now_ns() - t0;
}

struct result {
	double ns_per_op, mb_per_s, cpu_ns_per_op;
	struct side client, server;
};

/* One run: setup, fork the server, drive, collect. */
static void
run_once(int scen, int impl, int server_cpu, long warm, long ops,
    struct result *res)
{
	struct ep cl = { 0 }, sv = { 0 };
	struct target t;
	struct side ss;
	int fds[2], sp[2], passfd = -1, status;
	double ns;
	pid_t pid;
	long served;

	if (scen == CONN_UNIX || scen == CONN_TCP) {
		ep_listen(&sv, impl, scen == CONN_TCP, &t);
	} else {
		make_pair(scen == PP_TCP, fds);
		ep_wrap(&cl, impl, fds[0]);
		ep_wrap(&sv, impl, fds[1]);
	}
	if (scen == FDPASS) {
		passfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (passfd < 0)
			die("open /dev/null");
	}
	if (pipe2(sp, O_CLOEXEC) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		pin(server_cpu);
		close(sp[0]);
		if (scen != CONN_UNIX && scen != CONN_TCP)
			ep_close(&cl);
		side_begin();
		served = serve(scen, &sv, warm + ops);
		side_end(&ss, served);
		if (write(sp[1], &ss, sizeof(ss)) != (ssize_t)sizeof(ss))
			_exit(1);
		_exit(0);
	}
	close(sp[1]);
	if (scen != CONN_UNIX && scen != CONN_TCP)
		ep_close(&sv);
	ns = drive(scen, &cl, warm, ops, impl, &t, passfd);
	side_end(&res->client, ops);
	if (scen == CONN_UNIX || scen == CONN_TCP)
		ep_close(&sv);
	else
		ep_close(&cl);
	if (read(sp[0], &res->server, sizeof(res->server)) !=
	    (ssize_t)sizeof(res->server))
		memset(&res->server, 0xff, sizeof(res->server));
	close(sp[0]);
	if (passfd >= 0)
		close(passfd);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		errno = ECHILD;
		die("the server failed");
	}
	res->ns_per_op = ops > 0 ? ns / (double)ops : 0;
	res->cpu_ns_per_op = ops > 0 && res->server.ops > 0 ?
	    res->client.cpu_ns / (double)ops +
	    res->server.cpu_ns / (double)res->server.ops : 0;
	res->mb_per_s = scen == STREAM && ns > 0 ?
	    (double)ops * CHUNK / ns * 1e3 : 0;
}

int
main(int argc, char **argv)
{
	int scens[NSCEN], impls[NIMPL], order[NIMPL];
	int opt, runs = 9, two = 0, warmup = 1, nimpl = 0, s, k, r, impl;
	double scale = 1, cpu;
	struct rusage ru;
	long fixed = -1, ops, warm;
	struct result res;

	for (s = 0; s < NSCEN; s++)
		scens[s] = 1;
	for (k = 0; k < NIMPL; k++)
		impls[k] = 1;
	while ((opt = getopt(argc, argv, "p:r:s:n:Wo:i:")) != -1) {
		switch (opt) {
		case 'p':
			if (strcmp(optarg, "same") != 0 &&
			    strcmp(optarg, "two") != 0)
				goto usage;
			two = strcmp(optarg, "two") == 0;
			break;
		case 'r':
			runs = atoi(optarg);
			if (runs < 1 || runs > MAX_RUNS)
				goto usage;
			break;
		case 's':
			scale = atof(optarg);
			if (!(scale > 0))
				goto usage;
			break;
		case 'n':
			fixed = atol(optarg);
			if (fixed < 0)
				goto usage;
			break;
		case 'W':
			warmup = 0;
			break;
		case 'o':
			choose(optarg, scens, scen_names, NSCEN);
			break;
		case 'i':
			choose(optarg, impls, impl_names, NIMPL);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	for (k = 0; k < NIMPL; k++)
		if (impls[k])
			order[nimpl++] = k;
	memset(chunk, 'x', sizeof(chunk));
	pin(0);
	printf("# pin %s: client on CPU 0, server on CPU %d; %d runs; "
	    "timeout %d ms; allocation counts %s\n", two ? "two" : "same",
	    two ? 1 : 0, runs, TIMEOUT_MS, COUNT_ALLOCS ? "on" : "off");
	fflush(stdout);
	for (s = 0; s < NSCEN; s++) {
		if (!scens[s])
			continue;
		ops = fixed >= 0 ? fixed : (long)(scen_ops[two][s] * scale);
		if (ops < 1 && fixed < 0)
			ops = 1;
		warm = warmup ? ops / 10 : 0;
		/* Run by run, each implementation in turn, from a new one. */
		for (r = 0; r < runs; r++)
			for (k = 0; k < nimpl; k++) {
				impl = order[(r + k) % nimpl];
				cur_what = impl_names[impl];
				run_once(s, impl, two, warm, ops, &res);
				printf("R %s %s %s %d %.1f %.1f"
				    " %ld %ld %ld %ld %ld"
				    " %ld %ld %ld %ld %ld %.1f\n",
				    two ? "two" : "same", scen_names[s],
				    impl_names[impl], r, res.ns_per_op,
				    res.mb_per_s, res.client.ops,
				    res.client.allocs, res.client.frees,
				    res.client.io_calls, res.client.io_allocs,
				    res.server.ops, res.server.allocs,
				    res.server.frees, res.server.io_calls,
				    res.server.io_allocs, res.cpu_ns_per_op);
				fflush(stdout);
			}
	}
	/* For bench-table.sh to tell our CPU time from the machine's. */
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	getrusage(RUSAGE_CHILDREN, &ru);
	cpu += (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("# cpu %.3f s\n", cpu);
	return 0;
usage:
	fprintf(stderr, "usage: bench-perf [-p same|two] [-r RUNS] "
	    "[-s SCALE] [-n OPS] [-W] [-o SCENARIO,...] [-i IMPL,...]\n");
	return 2;
}
