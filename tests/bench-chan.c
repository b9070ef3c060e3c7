/* SPDX-License-Identifier: MIT */
/*
 * bench-chan.c - what a channel costs against careful hand-written code
 * speaking the same wire format (16-byte little-endian header: u32 len,
 * u32 type, u32 id, u16 nfds, u16 flags; then the payload), in one run,
 * the implementations alternating run by run so the machine's drift hits
 * both alike.  Sender and receiver are two processes (this one and a
 * forked child) over a unix stream socketpair; both sides use the same
 * implementation.
 *
 *   chan  sockx_chan_* on the socketpair
 *   raw   plain blocking system calls on the same socketpair
 *
 * Scenarios:
 *
 *   pipe64  N messages of 64 bytes without descriptors, pipelined.  chan:
 *           sockx_chan_queue 256 of them, sockx_chan_flush, again; the
 *           receiver calls sockx_chan_recv in a loop.  raw: 256 messages
 *           (header and payload: 512 iovecs) per writev, partial writes
 *           resumed; the receiver read()s into a 64 KiB ring buffer as far
 *           as it has room and parses the headers in it.  After the last
 *           message the receiver acks with one message (raw: one byte).
 *           Rate: messages per second, higher is better.
 *   fd1     N messages of 64 bytes, each with one descriptor (the same
 *           /dev/null, duplicated by the kernel); the receiver closes each
 *           one.  chan: sockx_chan_send per message, sockx_chan_recv.
 *           raw: one sendmsg per message (header and payload iovecs and an
 *           SCM_RIGHTS control message), one recvmsg per message (resumed
 *           with read on a short read).  Ack as above.  Messages per
 *           second.
 *   pp      request/reply ping-pong of one 64-byte message each way.
 *           chan: sockx_chan_send + sockx_chan_recv.  raw: sendmsg (two
 *           iovecs) + recvmsg of the 80 bytes (resumed on a short read).
 *           Time per round trip, lower is better.
 *
 * Every receiver checks every message (type, id in sequence, length,
 * payload's first byte, one descriptor for fd1) and the run fails when
 * one is wrong.  Heap allocations are counted in both processes over the
 * steady state (after the first 10% of the messages) when
 * tests/chan-alloc.c is preloaded (meson does), else reported as -1.
 *
 * Usage: bench-chan [-p same|two|both] [-r RUNS] [-s SCALE]
 *                   [-o SCENARIO,...] [-i IMPL,...]
 *        bench-chan -1 SCENARIO IMPL N     (one run, for callgrind)
 *   -p  same: both processes on CPU 0; two: sender on CPU 0, receiver on
 *       CPU 1; both: one table each (default)
 *   -r  runs per implementation (default 7; the table takes the median)
 *   -s  multiply the message counts (default 1)
 * Prints a table per pinning: the median rate (or time), "±" the median
 * absolute deviation in percent of the median, min..max, the ratio of
 * the medians, the CPU time (user + system, both processes) per message
 * and the allocations per message.  Asserts nothing; exits 1 when an
 * operation fails or a message is wrong.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sockx.h>

#define HDR	16
#define PAY	64
#define MSG	(HDR + PAY)
#define BATCH	256
#define RINGSZ	65536		/* raw reader's ring, a power of two */
#define TYPE	7u
#define MAXRUNS	64

enum { PIPE64, FD1, PP, NSCEN };
enum { CHAN, RAW, NIMPL };

static const char *scen_name[NSCEN] = { "pipe64", "fd1", "pp" };
static const char *impl_name[NIMPL] = { "chan", "raw" };
static const long scen_n[NSCEN] = { 200000, 20000, 10000 };

/* What the child reports through the result pipe. */
struct report {
	long allocs;		/* in the steady state, -1: not counted */
	long counted;		/* messages in the steady state */
	long wrong;		/* messages that failed a check */
};

static void (*alloc_window)(int);
static unsigned long (*alloc_count)(void);

static void
die(const char *what)
{
	fprintf(stderr, "bench-chan: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
die_rc(const char *what, int rc)
{
	errno = -rc;
	die(what);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_of(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	    (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

/* Counting: a window over the steady state. */
static long
count_start(long i, long n, unsigned long *base)
{
	if (i != n / 10 || alloc_count == NULL)
		return 0;
	*base = alloc_count();
	alloc_window(1);
	return 1;
}

static long
count_end(unsigned long base)
{
	if (alloc_count == NULL)
		return -1;
	alloc_window(0);
	return (long)(alloc_count() - base);
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put_hdr(unsigned char *h, uint32_t len, uint32_t type, uint32_t id,
    unsigned nfds)
{
	put32(h, len);
	put32(h + 4, type);
	put32(h + 8, id);
	h[12] = (unsigned char)nfds;
	h[13] = (unsigned char)(nfds >> 8);
	h[14] = 0;
	h[15] = 0;
}

/* A received message: header fields, payload, descriptors. */
static int
wrong(uint32_t len, uint32_t type, uint32_t id, const void *data,
    unsigned nfds, long i, unsigned want_fds)
{
	return len != PAY || type != TYPE || id != (uint32_t)i ||
	    ((const unsigned char *)data)[0] != (unsigned char)i ||
	    nfds != want_fds;
}

/* ---------------------------------------------------------------- */
/* raw                                                               */
/* ---------------------------------------------------------------- */

static void
raw_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

static void
raw_read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("read");
		p += r;
		n -= (size_t)r;
	}
}

/* writev every iovec, resuming partial writes. */
static void
raw_writev_all(int fd, struct iovec *iov, int n)
{
	ssize_t w;

	while (n > 0) {
		w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("writev");
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

static void
raw_pipe_send(int fd, long n, struct report *rep)
{
	unsigned long base = 0;
	static unsigned char hdr[BATCH][HDR];
	static unsigned char pay[BATCH][PAY];
	struct iovec iov[2 * BATCH];
	long i = 0;
	int k, b;
	char ack;

	while (i < n) {
		b = n - i < BATCH ? (int)(n - i) : BATCH;
		for (k = 0; k < b; k++, i++) {
			if (count_start(i, n, &base))
				rep->counted = n - i;
			put_hdr(hdr[k], PAY, TYPE, (uint32_t)i, 0);
			pay[k][0] = (unsigned char)i;
			iov[2 * k].iov_base = hdr[k];
			iov[2 * k].iov_len = HDR;
			iov[2 * k + 1].iov_base = pay[k];
			iov[2 * k + 1].iov_len = PAY;
		}
		raw_writev_all(fd, iov, 2 * b);
	}
	rep->allocs = count_end(base);
	raw_read_all(fd, &ack, 1);
}

/* Copy n bytes out of the ring at position pos. */
static void
ring_copy(const unsigned char *ring, size_t pos, void *dst, size_t n)
{
	size_t at = pos & (RINGSZ - 1), first = RINGSZ - at;

	if (first >= n) {
		memcpy(dst, ring + at, n);
	} else {
		memcpy(dst, ring + at, first);
		memcpy((char *)dst + first, ring, n - first);
	}
}

static void
raw_pipe_recv(int fd, long n, struct report *rep)
{
	static unsigned char ring[RINGSZ];
	unsigned char h[HDR], scratch[PAY];
	const unsigned char *data;
	size_t rd = 0, wr = 0, at, room;	/* free-running positions */
	unsigned long base = 0;
	uint32_t len;
	long i = 0;
	ssize_t r;

	while (i < n) {
		/* Parse every whole message buffered. */
		while (i < n && wr - rd >= HDR) {
			ring_copy(ring, rd, h, HDR);
			len = get32(h);
			if (len > PAY)
				die_rc("raw: bad length", -EBADMSG);
			if (wr - rd < HDR + len)
				break;
			at = (rd + HDR) & (RINGSZ - 1);
			if (at + len <= RINGSZ) {
				data = ring + at;
			} else {
				ring_copy(ring, rd + HDR, scratch, len);
				data = scratch;
			}
			if (count_start(i, n, &base))
				rep->counted = n - i;
			rep->wrong += wrong(len, get32(h + 4), get32(h + 8),
			    data, (unsigned)(h[12] | h[13] << 8), i, 0);
			rd += HDR + len;
			i++;
		}
		if (i == n)
			break;
		/* Read as much as fits, up to the ring's end. */
		at = wr & (RINGSZ - 1);
		room = RINGSZ - (wr - rd);
		if (room > RINGSZ - at)
			room = RINGSZ - at;
		r = read(fd, ring + at, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("read");
		wr += (size_t)r;
	}
	rep->allocs = count_end(base);
	raw_write_all(fd, "a", 1);
}

static void
raw_sendmsg(int fd, long i, int pass)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	unsigned char hdr[HDR], pay[PAY] = { 0 };
	struct iovec iov[2];
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t w;

	put_hdr(hdr, PAY, TYPE, (uint32_t)i, pass >= 0);
	pay[0] = (unsigned char)i;
	iov[0].iov_base = hdr;
	iov[0].iov_len = HDR;
	iov[1].iov_base = pay;
	iov[1].iov_len = PAY;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (pass >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass, sizeof(int));
	}
	do
		w = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		die("sendmsg");
	if (w < MSG) {		/* the descriptors went with the first byte */
		char all[MSG];

		memcpy(all, hdr, HDR);
		memcpy(all + HDR, pay, PAY);
		raw_write_all(fd, all + w, (size_t)(MSG - w));
	}
}

/* One recvmsg of the whole message; returns its check; closes its fd. */
static int
raw_recvmsg(int fd, long i, unsigned want_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} u;
	unsigned char m[MSG];
	struct iovec iov = { m, MSG };
	struct msghdr mh;
	struct cmsghdr *cm;
	unsigned got = 0, k;
	int fds[4];
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	do
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		die("recvmsg");
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(cm), k * sizeof(int));
		for (; k > 0; k--)
			close(fds[k - 1]);
		got += (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	}
	if (mh.msg_flags & MSG_CTRUNC)
		die_rc("recvmsg: control truncated", -EMFILE);
	if (r < MSG)
		raw_read_all(fd, m + r, (size_t)(MSG - r));
	return wrong(get32(m), get32(m + 4), get32(m + 8), m + HDR,
	    (unsigned)(m[12] | m[13] << 8), i, want_fds) || got != want_fds;
}

static void
raw_fd_send(int fd, long n, int pass, struct report *rep)
{
	unsigned long base = 0;
	long i;
	char ack;

	for (i = 0; i < n; i++) {
		if (count_start(i, n, &base))
			rep->counted = n - i;
		raw_sendmsg(fd, i, pass);
	}
	rep->allocs = count_end(base);
	raw_read_all(fd, &ack, 1);
}

static void
raw_fd_recv(int fd, long n, struct report *rep)
{
	unsigned long base = 0;
	long i;

	for (i = 0; i < n; i++) {
		if (count_start(i, n, &base))
			rep->counted = n - i;
		rep->wrong += raw_recvmsg(fd, i, 1);
	}
	rep->allocs = count_end(base);
	raw_write_all(fd, "a", 1);
}

static long
raw_pp_client(int fd, long n, struct report *rep)
{
	unsigned long base = 0;
	long i, bad = 0;

	for (i = 0; i < n; i++) {
		if (count_start(i, n, &base))
			rep->counted = n - i;
		raw_sendmsg(fd, i, -1);
		bad += raw_recvmsg(fd, i, 0);
	}
	rep->allocs = count_end(base);
	return bad;
}

static void
raw_pp_server(int fd, long n, struct report *rep)
{
	unsigned long base = 0;
	long i;

	for (i = 0; i < n; i++) {
		if (count_start(i, n, &base))
			rep->counted = n - i;
		rep->wrong += raw_recvmsg(fd, i, 0);
		raw_sendmsg(fd, i, -1);
	}
	rep->allocs = count_end(base);
}

/* ---------------------------------------------------------------- */
/* chan                                                              */
/* ---------------------------------------------------------------- */

static sockx_chan *
chan_of(int fd)
{
	sockx_chan *c;
	sockx *s;
	int rc;

	if ((rc = sockx_adopt(&s, fd)) < 0)
		die_rc("sockx_adopt", rc);
	if ((rc = sockx_chan_open(&c, s, 0, 0)) < 0)
		die_rc("sockx_chan_open", rc);
	return c;
}

static void
chan_ack_wait(sockx_chan *c)
{
	struct sockx_msg m;
	int rc;

	if ((rc = sockx_chan_recv(c, &m, -1)) != 1)
		die_rc("sockx_chan_recv (ack)", rc < 0 ? rc : -EPIPE);
}

static void
chan_ack(sockx_chan *c)
{
	int rc;

	if ((rc = sockx_chan_send(c, TYPE + 1, 0, NULL, 0, NULL, 0, -1)) < 0)
		die_rc("sockx_chan_send (ack)", rc);
}

static void
chan_pipe_send(sockx_chan *c, long n, struct report *rep)
{
	unsigned char pay[PAY] = { 0 };
	unsigned long base = 0;
	long i;
	int rc;

	for (i = 0; i < n; i++) {
		if (count_start(i, n, &base))
			rep->counted = n - i;
		pay[0] = (unsigned char)i;
		if ((rc = sockx_chan_queue(c, TYPE, (uint32_t)i, pay, PAY,
		    NULL, 0)) < 0)
			die_rc("sockx_chan_queue", rc);
		if ((i + 1) % BATCH == 0 &&
		    (rc = sockx_chan_flush(c, -1)) < 0)
			die_rc("sockx_chan_flush", rc);
	}
	if ((rc = sockx_chan_flush(c, -1)) < 0)
		die_rc("sockx_chan_flush", rc);
	rep->allocs = count_end(base);
	chan_ack_wait(c);
}

static long
chan_recv_n(sockx_chan *c, long n, unsigned want_fds, struct report *rep)
{
	struct sockx_msg m;
	unsigned long base = 0;
	long i, bad = 0;
	int rc;

	for (i = 0; i < n; i++) {
		if (count_start(i, n, &base))
			rep->counted = n - i;
		if ((rc = sockx_chan_recv(c, &m, -1)) != 1)
			die_rc("sockx_chan_recv", rc < 0 ? rc : -EPIPE);
		/* Descriptors left in m.fds: the next recv closes them. */
		bad += wrong((uint32_t)m.len, m.type, m.id, m.data,
		    (unsigned)m.nfds, i, want_fds);
	}
	rep->allocs = count_end(base);
	return bad;
}

static void
chan_fd_send(sockx_chan *c, long n, int pass, struct report *rep)
{
	unsigned char pay[PAY] = { 0 };
	unsigned long base = 0;
	long i;
	int rc;

	for (i = 0; i < n; i++) {
		if (count_start(i, n, &base))
			rep->counted = n - i;
		pay[0] = (unsigned char)i;
		if ((rc = sockx_chan_send(c, TYPE, (uint32_t)i, pay, PAY,
		    &pass, 1, -1)) < 0)
			die_rc("sockx_chan_send", rc);
	}
	rep->allocs = count_end(base);
	chan_ack_wait(c);
}

static long
chan_pp(sockx_chan *c, long n, int client, struct report *rep)
{
	unsigned char pay[PAY] = { 0 };
	struct sockx_msg m;
	unsigned long base = 0;
	long i, bad = 0;
	int rc;

	for (i = 0; i < n; i++) {
		if (count_start(i, n, &base))
			rep->counted = n - i;
		if (!client) {
			if ((rc = sockx_chan_recv(c, &m, -1)) != 1)
				die_rc("sockx_chan_recv", rc < 0 ? rc : -EPIPE);
			bad += wrong((uint32_t)m.len, m.type, m.id, m.data,
			    (unsigned)m.nfds, i, 0);
		}
		pay[0] = (unsigned char)i;
		if ((rc = sockx_chan_send(c, TYPE, (uint32_t)i, pay, PAY,
		    NULL, 0, -1)) < 0)
			die_rc("sockx_chan_send", rc);
		if (client) {
			if ((rc = sockx_chan_recv(c, &m, -1)) != 1)
				die_rc("sockx_chan_recv", rc < 0 ? rc : -EPIPE);
			bad += wrong((uint32_t)m.len, m.type, m.id, m.data,
			    (unsigned)m.nfds, i, 0);
		}
	}
	rep->allocs = count_end(base);
	return bad;
}

/* ---------------------------------------------------------------- */
/* One run                                                           */
/* ---------------------------------------------------------------- */

struct result {
	double secs;		/* the parent's wall time */
	double cpu;		/* both processes' CPU time */
	long allocs;		/* both processes, steady state; -1 unknown */
	long counted;		/* messages in the steady state (per side) */
	long wrong;
};

/* The receiver (child) side; also the ping-pong server. */
static void
child(int scen, int impl, int fd, long n, int res)
{
	struct report rep = { 0, 0, 0 };
	sockx_chan *c = NULL;

	if (impl == CHAN)
		c = chan_of(fd);
	raw_write_all(res, "r", 1);	/* ready */
	switch (scen * NIMPL + impl) {
	case PIPE64 * NIMPL + CHAN:
	case FD1 * NIMPL + CHAN:
		rep.wrong = chan_recv_n(c, n, scen == FD1, &rep);
		chan_ack(c);
		break;
	case PP * NIMPL + CHAN:
		rep.wrong = chan_pp(c, n, 0, &rep);
		break;
	case PIPE64 * NIMPL + RAW:
		raw_pipe_recv(fd, n, &rep);
		break;
	case FD1 * NIMPL + RAW:
		raw_fd_recv(fd, n, &rep);
		break;
	case PP * NIMPL + RAW:
		raw_pp_server(fd, n, &rep);
		break;
	}
	if (c != NULL)
		sockx_chan_close(c);
	else
		close(fd);
	raw_write_all(res, &rep, sizeof(rep));
	_exit(0);
}

static void
run(int scen, int impl, long n, int cpu_child, struct result *out)
{
	struct report rep = { 0, 0, 0 }, crep;
	struct rusage r0, r1, rc;
	sockx_chan *c = NULL;
	int sv[2], res[2], pass = -1, status;
	double t0, t1;
	pid_t pid;
	char ready;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(res, O_CLOEXEC) < 0)
		die("socketpair");
	fflush(NULL);
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		close(res[0]);
		pin(cpu_child);
		child(scen, impl, sv[1], n, res[1]);
	}
	close(sv[1]);
	close(res[1]);
	if (scen == FD1 && (pass = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		die("/dev/null");
	if (impl == CHAN)
		c = chan_of(sv[0]);
	raw_read_all(res[0], &ready, 1);
	getrusage(RUSAGE_SELF, &r0);
	t0 = now();
	switch (scen * NIMPL + impl) {
	case PIPE64 * NIMPL + CHAN:
		chan_pipe_send(c, n, &rep);
		break;
	case FD1 * NIMPL + CHAN:
		chan_fd_send(c, n, pass, &rep);
		break;
	case PP * NIMPL + CHAN:
		rep.wrong = chan_pp(c, n, 1, &rep);
		break;
	case PIPE64 * NIMPL + RAW:
		raw_pipe_send(sv[0], n, &rep);
		break;
	case FD1 * NIMPL + RAW:
		raw_fd_send(sv[0], n, pass, &rep);
		break;
	case PP * NIMPL + RAW:
		rep.wrong = raw_pp_client(sv[0], n, &rep);
		break;
	}
	t1 = now();
	getrusage(RUSAGE_SELF, &r1);
	raw_read_all(res[0], &crep, sizeof(crep));
	if (wait4(pid, &status, 0, &rc) != pid)
		die("wait4");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench-chan: the child failed\n");
		exit(1);
	}
	if (c != NULL)
		sockx_chan_close(c);
	else
		close(sv[0]);
	close(res[0]);
	if (pass >= 0)
		close(pass);
	out->secs = t1 - t0;
	out->cpu = cpu_of(&r1) - cpu_of(&r0) + cpu_of(&rc);
	out->wrong = rep.wrong + crep.wrong;
	/* Allocations of both processes per message of the steady state. */
	out->allocs = crep.allocs < 0 || rep.allocs < 0 ? -1 :
	    crep.allocs + rep.allocs;
	out->counted = crep.counted;
}

/* ---------------------------------------------------------------- */
/* Tables                                                            */
/* ---------------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *v, int n)
{
	double s[MAXRUNS];

	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Median absolute deviation, in percent of the median. */
static double
mad(const double *v, int n)
{
	double m = median(v, n), d[MAXRUNS];
	int i;

	for (i = 0; i < n; i++)
		d[i] = v[i] > m ? v[i] - m : m - v[i];
	return m > 0 ? 100 * median(d, n) / m : 0;
}

static double
minmax(const double *v, int n, int max)
{
	double r = v[0];
	int i;

	for (i = 1; i < n; i++)
		if (max ? v[i] > r : v[i] < r)
			r = v[i];
	return r;
}

static void
bench(const char *pinname, int cpu_child, int runs, double scale,
    const int *scens, const int *impls)
{
	static double val[NSCEN][NIMPL][MAXRUNS], cpu[NSCEN][NIMPL][MAXRUNS];
	static long allocs[NSCEN][NIMPL], counted[NSCEN][NIMPL];
	struct result r;
	double t0 = now(), med[NIMPL], cmed[NIMPL], ratio, goal;
	long n;
	int s, i, k, im;

	memset(allocs, 0, sizeof(allocs));
	memset(counted, 0, sizeof(counted));
	for (k = 0; k < runs; k++) {
		for (s = 0; s < NSCEN; s++) {
			if (!scens[s])
				continue;
			n = (long)(scen_n[s] * scale);
			for (i = 0; i < NIMPL; i++) {
				/* alternate which goes first, run by run */
				im = k % 2 ? NIMPL - 1 - i : i;
				if (!impls[im])
					continue;
				run(s, im, n, cpu_child, &r);

				if (r.wrong != 0) {
					fprintf(stderr, "bench-chan: %s %s: "
					    "%ld wrong messages\n",
					    scen_name[s], impl_name[im],
					    r.wrong);
					exit(1);
				}
				val[s][im][k] = s == PP ? r.secs / n * 1e9 :
				    n / r.secs;
				cpu[s][im][k] = r.cpu / n * 1e9;
				if (r.allocs < 0 || allocs[s][im] < 0)
					allocs[s][im] = -1;
				else
					allocs[s][im] += r.allocs;
				counted[s][im] += r.counted;
			}
		}
	}
	printf("\n### %s: %d runs each, medians\n\n```\n", pinname, runs);
	printf("%-7s %-9s %-6s %10s %6s %21s %8s %9s %7s %s\n", "scenario",
	    "unit", "impl", "median", "±", "min..max", "ratio", "cpu ns/msg",
	    "allocs", "");
	for (s = 0; s < NSCEN; s++) {
		if (!scens[s])
			continue;
		for (i = 0; i < NIMPL; i++) {
			if (!impls[i])
				continue;
			med[i] = median(val[s][i], runs);
			cmed[i] = median(cpu[s][i], runs);
		}
		for (i = 0; i < NIMPL; i++) {
			if (!impls[i])
				continue;
			ratio = impls[RAW] ? med[i] / med[RAW] : 0;
			printf("%-8s %-9s %-6s %10.0f %5.1f%% %10.0f..%-10.0f "
			    "%7.3fx %9.0f ", scen_name[s],
			    s == PP ? "ns/rt" : "msg/s", impl_name[i], med[i],
			    mad(val[s][i], runs),
			    minmax(val[s][i], runs, 0),
			    minmax(val[s][i], runs, 1), ratio, cmed[i]);
			if (allocs[s][i] < 0)
				printf("%9s", "-");
			else
				printf("%9.4f", counted[s][i] ?
				    (double)allocs[s][i] / counted[s][i] : 0);
			if (i == CHAN && impls[RAW]) {
				goal = s == PIPE64 ? 0.8 : s == FD1 ? 0.9 :
				    1.1;
				printf("  goal %s %.1fx %s (cpu %.3fx)",
				    s == PP ? "<=" : ">=", goal,
				    (s == PP ? ratio <= goal : ratio >= goal) ?
				    "met" : "MISSED",
				    s == PP ? cmed[CHAN] / cmed[RAW] :
				    cmed[RAW] / cmed[CHAN]);
			}
			printf("\n");
		}
	}
	printf("```\n(%.0f s; rates in messages per second, higher is "
	    "better; pp in ns per round trip, lower is better; cpu: user + "
	    "system of both processes per message (pp: per round trip), "
	    "the cpu ratio oriented like the goal; allocs: per message in "
	    "the steady state, sender + receiver)\n", now() - t0);
}

static void
pick(char *list, const char *const *names, int n, int *on)
{
	char *tok, *save = NULL;
	int i, found;

	memset(on, 0, (size_t)n * sizeof(*on));
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		for (i = 0, found = 0; i < n; i++)
			if (strcmp(tok, names[i]) == 0)
				on[i] = found = 1;
		if (!found) {
			fprintf(stderr, "bench-chan: unknown %s\n", tok);
			exit(2);
		}
	}
}

static int
index_of(const char *name, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	fprintf(stderr, "bench-chan: unknown %s\n", name);
	exit(2);
}

int
main(int argc, char **argv)
{
	int scens[NSCEN] = { 1, 1, 1 }, impls[NIMPL] = { 1, 1 };
	const char *pinning = "both";
	double scale = 1;
	int runs = 7, opt;
	struct result r;
	void *w, *cnt;

	signal(SIGPIPE, SIG_IGN);
	w = dlsym(RTLD_DEFAULT, "sxt_alloc_window");
	cnt = dlsym(RTLD_DEFAULT, "sxt_alloc_count");
	if (w != NULL && cnt != NULL) {
		memcpy(&alloc_window, &w, sizeof(w));
		memcpy(&alloc_count, &cnt, sizeof(cnt));
	}
	if (argc == 5 && strcmp(argv[1], "-1") == 0) {
		run(index_of(argv[2], scen_name, NSCEN),
		    index_of(argv[3], impl_name, NIMPL), atol(argv[4]), -1,
		    &r);
		return r.wrong != 0;
	}
	while ((opt = getopt(argc, argv, "p:r:s:o:i:")) != -1) {
		switch (opt) {
		case 'p':
			pinning = optarg;
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 's':
			scale = atof(optarg);
			break;
		case 'o':
			pick(optarg, scen_name, NSCEN, scens);
			break;
		case 'i':
			pick(optarg, impl_name, NIMPL, impls);
			break;
		default:
			fprintf(stderr, "usage: bench-chan [-p same|two|both] "
			    "[-r RUNS] [-s SCALE] [-o SCENARIO,...] "
			    "[-i IMPL,...]\n       bench-chan -1 SCENARIO "
			    "IMPL N\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAXRUNS || scale <= 0) {
		fprintf(stderr, "bench-chan: bad -r or -s\n");
		return 2;
	}
	printf("bench-chan: %d CPUs online; allocation counter %s\n",
	    (int)sysconf(_SC_NPROCESSORS_ONLN),
	    alloc_count ? "preloaded" : "not preloaded (allocs: -)");
	if (strcmp(pinning, "same") == 0 || strcmp(pinning, "both") == 0) {
		pin(0);
		bench("same CPU (both processes on CPU 0)", 0, runs, scale,
		    scens, impls);
	}
	if (strcmp(pinning, "two") == 0 || strcmp(pinning, "both") == 0) {
		pin(0);
		bench("two CPUs (sender on CPU 0, receiver on CPU 1)", 1, runs,
		    scale, scens, impls);
	}
	return 0;
}
