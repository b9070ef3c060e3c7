/* SPDX-License-Identifier: MIT */
/*
 * test-chan.c - channels (sockx_chan_*) on stream, seqpacket and datagram
 * socketpairs, against each other, against a raw peer that writes the
 * wire format by hand (coalesced, cut at random places, or broken on
 * purpose), and against an independent implementation in Python
 * (tests/chan-peer.py, through $SXT_PYTHON).  Each test asserts one rule of
 * the contract (API.md, "channels"; sockx_chan_open(3)) and fails without
 * it: the fields and the wire format; empty payloads apart from the end
 * of stream; aligned payloads; association of descriptors by count on a
 * stream, however the bytes are cut; partial messages kept across
 * timeouts; every protocol error after the whole messages before it, then
 * -EBADMSG for good with every descriptor closed; the descriptor flood;
 * MSG_CTRUNC as -EMFILE; the ownership rule; the queue's byte and
 * descriptor caps (-ENOBUFS); send against a peer that does not read or
 * is gone; argument errors with nothing queued; kernel-timeout handles;
 * and the costs: no system call for a buffered message (a seccomp filter
 * in a forked child) and no allocation per message once the buffers have
 * grown (tests/chan-alloc.c, an LD_PRELOAD counter).  Descriptors are
 * identified by st_dev/st_ino, or by the text written into a memfd that
 * names the message and position it was sent with.  The fixture of
 * sx_tcase fails any test that leaves a descriptor open; tests that count
 * descriptors themselves read /proc/self/fd.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#include "sxtest.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define T_MS		10000	/* a step that must succeed: generous */

static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };

/* ---------------------------------------------------------------- */
/* Helpers                                                           */
/* ---------------------------------------------------------------- */

/* Two channels, a and b, on the two ends of a socketpair of type. */
static void
chan_pair(int type, size_t max_len, sockx_chan **a, sockx_chan **b)
{
	sockx *sa, *sb;

	ck_assert_int_eq(sockx_pair(&sa, &sb, type), 0);
	ck_assert_int_eq(sockx_chan_open(a, sa, max_len, 0), 0);
	ck_assert_int_eq(sockx_chan_open(b, sb, max_len, 0), 0);
}

/*
 * A channel c on one end of a socketpair and the other end as a plain
 * descriptor (*raw, close-on-exec, non-blocking) for hand-written bytes.
 */
static void
raw_pair(int type, size_t max_len, sockx_chan **c, int *raw)
{
	sockx *sa, *sb;

	ck_assert_int_eq(sockx_pair(&sa, &sb, type), 0);
	ck_assert_int_eq(sockx_chan_open(c, sa, max_len, 0), 0);
	*raw = sockx_release(sb);
	ck_assert_int_ge(*raw, 0);
}

static void
close_chans(sockx_chan *a, sockx_chan *b)
{
	ck_assert_int_eq(sockx_chan_close(a), 0);
	ck_assert_int_eq(sockx_chan_close(b), 0);
}

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* A memfd whose contents, "tag a b", name where it was sent. */
static int
tagged_fd(const char *tag, unsigned a, unsigned b)
{
	char text[64];
	int fd, n;

	fd = memfd_create("sxt-chan", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	n = snprintf(text, sizeof(text), "%s %u %u", tag, a, b);
	ck_assert_int_eq(write(fd, text, (size_t)n), n);
	return fd;
}

/* fd is close-on-exec and its memfd holds "tag a b". */
static void
check_tag(int fd, const char *tag, unsigned a, unsigned b)
{
	char want[64], got[64];
	ssize_t n;

	snprintf(want, sizeof(want), "%s %u %u", tag, a, b);
	n = pread(fd, got, sizeof(got) - 1, 0);
	ck_assert_int_ge(n, 0);
	got[n] = '\0';
	ck_assert_msg(strcmp(got, want) == 0, "fd %d holds \"%s\", want \"%s\"",
	    fd, got, want);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
}

/* The 16-byte header of the wire format, little-endian. */
static void
put_hdr(unsigned char *p, uint32_t len, uint32_t type, uint32_t id,
    uint16_t nfds, uint16_t flags)
{
	uint32_t v[3] = { len, type, id };
	int i, k;

	for (i = 0; i < 3; i++)
		for (k = 0; k < 4; k++)
			p[i * 4 + k] = (unsigned char)(v[i] >> (8 * k));
	p[12] = (unsigned char)nfds;
	p[13] = (unsigned char)(nfds >> 8);
	p[14] = (unsigned char)flags;
	p[15] = (unsigned char)(flags >> 8);
}

/* One sendmsg on a raw descriptor: bytes and (if nfds) descriptors. */
static void
raw_send(int fd, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (nfds > 0) {
		memset(&control, 0, sizeof(control));
		m.msg_control = control.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ck_assert_int_eq(sendmsg(fd, &m, MSG_NOSIGNAL), (ssize_t)len);
}

/* A whole message with the header and payload, written raw. */
static void
raw_msg(int fd, uint32_t type, uint32_t id, const char *payload,
    const int *fds, size_t nfds)
{
	unsigned char buf[256];
	size_t len = payload != NULL ? strlen(payload) : 0;

	put_hdr(buf, (uint32_t)len, type, id, (uint16_t)nfds, 0);
	memcpy(buf + 16, payload, len);
	raw_send(fd, buf, 16 + len, fds, nfds);
}

/* Reap pid: its exit status, or 128 + the signal that killed it. */
static int
wait_exit(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Valgrind preloads its own libraries into the program, which tells.
 * Under it, a seccomp filter would kill valgrind's own system calls, and
 * memcheck replaces every malloc, the counting shim's too.
 */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* Make room for n more descriptors than are open now. */
static void
raise_nofile(int n)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < (rlim_t)(sxt_count_fds() + n + 64)) {
		rl.rlim_cur = (rlim_t)(sxt_count_fds() + n + 64);
		ck_assert_uint_le(rl.rlim_cur, rl.rlim_max);
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
}

/* ---------------------------------------------------------------- */
/* Messages                                                          */
/* ---------------------------------------------------------------- */

/* Type, id, payload, flags, reserved and descriptors arrive as sent. */
START_TEST(chan_roundtrip_delivers_all_fields)
{
	sockx_chan *a, *b;
	struct sockx_msg m;
	int fds[3], i, base;
	const char *text = "hello, channel";

	chan_pair(types[_i], 0, &a, &b);
	base = sxt_count_fds();
	for (i = 0; i < 3; i++)
		fds[i] = tagged_fd("rt", 7, (unsigned)i);
	ck_assert_int_eq(sockx_chan_send(a, 42, 0xdeadbeef, text, strlen(text),
	    fds, 3, T_MS), 0);
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(close(fds[i]), 0);	/* the caller's copies */
	memset(&m, 0x55, sizeof(m));
	ck_assert_int_eq(sockx_chan_recv(b, &m, T_MS), 1);
	ck_assert_uint_eq(m.type, 42);
	ck_assert_uint_eq(m.id, 0xdeadbeef);
	ck_assert_uint_eq(m.len, strlen(text));
	ck_assert_mem_eq(m.data, text, m.len);
	ck_assert_uint_eq(m.flags, 0);
	ck_assert_uint_eq(m.reserved[0] | m.reserved[1] | m.reserved[2], 0);
	ck_assert_uint_eq(m.nfds, 3);
	for (i = 0; i < 3; i++)
		check_tag(m.fds[i], "rt", 7, (unsigned)i);
	ck_assert_int_eq(sxt_count_fds(), base + 3);
	close_chans(a, b);
}
END_TEST

/* A message of 0 bytes is a message; the end of stream is 0. */
START_TEST(chan_empty_payload_is_not_eof)
{
	sockx_chan *c;
	struct sockx_msg m;
	int raw;
	unsigned char h[16];

	raw_pair(types[_i], 0, &c, &raw);
	put_hdr(h, 0, 5, 6, 0, 0);
	raw_send(raw, h, 16, NULL, 0);
	raw_send(raw, h, 16, NULL, 0);
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 1);
	ck_assert_uint_eq(m.len, 0);
	ck_assert_ptr_nonnull(m.data);
	ck_assert_uint_eq(m.type, 5);
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 1);
	ck_assert_uint_eq(m.id, 6);
	CHECK_ERR(sockx_chan_recv(c, &m, 0), ETIMEDOUT);
	/* The end: close (stream, seqpacket), a 0-byte datagram (datagram). */
	if (types[_i] == SOCK_DGRAM)
		raw_send(raw, "", 0, NULL, 0);
	else
		ck_assert_int_eq(close(raw), 0);
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 0);
	if (types[_i] == SOCK_DGRAM)
		ck_assert_int_eq(close(raw), 0);
	else
		ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
}
END_TEST

/* m->data is aligned for any type whatever came before it. */
START_TEST(chan_payload_is_aligned)
{
	sockx_chan *a, *b;
	struct sockx_msg m;
	char buf[64];
	size_t len;

	chan_pair(types[_i], 0, &a, &b);
	for (len = 0; len < sizeof(buf); len++) {
		memset(buf, (int)len, len);
		ck_assert_int_eq(sockx_chan_queue(a, 1, (uint32_t)len, buf, len,
		    NULL, 0), 0);
	}
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	for (len = 0; len < sizeof(buf); len++) {
		ck_assert_int_eq(sockx_chan_recv(b, &m, T_MS), 1);
		ck_assert_uint_eq(m.id, len);
		ck_assert_uint_eq(m.len, len);
		ck_assert_uint_eq((uintptr_t)m.data % alignof(max_align_t), 0);
		memset(buf, (int)len, len);
		ck_assert_mem_eq(m.data, buf, len);
	}
	close_chans(a, b);
}
END_TEST

/* Header flag bits 0-7 are ignored and handed over in m->flags. */
START_TEST(chan_low_flags_are_ignored)
{
	sockx_chan *c;
	struct sockx_msg m;
	unsigned char h[20];
	int raw;

	raw_pair(types[_i], 0, &c, &raw);
	put_hdr(h, 4, 1, 2, 0, 0x00ff);
	memcpy(h + 16, "abcd", 4);
	raw_send(raw, h, 20, NULL, 0);
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 1);
	ck_assert_uint_eq(m.flags, 0xff);
	ck_assert_mem_eq(m.data, "abcd", 4);
	ck_assert_int_eq(close(raw), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
}
END_TEST

/* The wire format is exactly the documented header, little-endian. */
START_TEST(chan_wire_format_is_documented_header)
{
	static const unsigned char want[] = {
		3, 0, 0, 0, 0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55,
		1, 0, 0, 0, 'x', 'y', 'z'
	};
	unsigned char got[64];
	sockx_chan *c;
	int raw, fd;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = got, .iov_len = sizeof(got) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cm;

	raw_pair(types[_i], 0, &c, &raw);
	fd = tagged_fd("wire", 0, 0);
	ck_assert_int_eq(sockx_chan_send(c, 0x11223344, 0x55667788, "xyz", 3,
	    &fd, 1, T_MS), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(recvmsg(raw, &mh, MSG_CMSG_CLOEXEC), sizeof(want));
	ck_assert_mem_eq(got, want, sizeof(want));
	cm = CMSG_FIRSTHDR(&mh);
	ck_assert_ptr_nonnull(cm);
	ck_assert_int_eq(cm->cmsg_type, SCM_RIGHTS);
	ck_assert_uint_eq(cm->cmsg_len, CMSG_LEN(sizeof(int)));
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	check_tag(fd, "wire", 0, 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_ptr_null(CMSG_NXTHDR(&mh, cm));
	ck_assert_int_eq(close(raw), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Streams: association by count, read-ahead, partial messages       */
/* ---------------------------------------------------------------- */

/* A tiny deterministic generator (xorshift32) for sizes and counts. */
static uint32_t
rnd(uint32_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	return *st;
}

#define PIPE_N	1000

/*
 * 1,000 messages with 0-3 descriptors each, queued and flushed in random
 * batches by a forked sender, read by a receiver that waits with random
 * small timeouts: every descriptor is the one its message was sent with.
 */
START_TEST(chan_stream_pipeline_associates_fds)
{
	sockx_chan *a, *b;
	struct sockx_msg m;
	uint32_t st = 12345, wt = 777;
	char buf[3000];
	pid_t pid;
	unsigned i, j, got = 0;
	int r;

	raise_nofile(PIPE_N * 3);
	chan_pair(SOCK_STREAM, 0, &a, &b);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fds[3];
		uint32_t len, nfds;

		sockx_chan_close(b);
		for (i = 0; i < PIPE_N; i++) {
			len = rnd(&st) % sizeof(buf);
			nfds = rnd(&st) % 4;
			for (j = 0; j < nfds; j++)
				fds[j] = tagged_fd("p", i, j);
			memset(buf, (int)(i & 0xff), len);
			r = sockx_chan_queue(a, 9, i, buf, len, fds, nfds);
			while (r == -ENOBUFS) {
				sockx_chan_flush(a, -1);
				r = sockx_chan_queue(a, 9, i, buf, len, fds,
				    nfds);
			}
			for (j = 0; j < nfds; j++)
				close(fds[j]);
			if (r != 0)
				_exit(1);
			if (rnd(&st) % 7 == 0 && sockx_chan_flush(a, -1) != 0)
				_exit(2);
		}
		_exit(sockx_chan_flush(a, -1) == 0 &&
		    sockx_chan_close(a) == 0 ? 0 : 3);
	}
	ck_assert_int_eq(sockx_chan_close(a), 0);
	/* st replays the sender's choices; wt picks the receiver's waits. */
	for (;;) {
		r = sockx_chan_recv(b, &m, (int)(rnd(&wt) % 3));
		if (r == -ETIMEDOUT)
			continue;
		if (r == 0)
			break;
		ck_assert_int_eq(r, 1);
		ck_assert_uint_lt(got, PIPE_N);
		ck_assert_uint_eq(m.type, 9);
		ck_assert_uint_eq(m.id, got);
		ck_assert_uint_eq(m.len, rnd(&st) % sizeof(buf));
		ck_assert_uint_eq(m.nfds, rnd(&st) % 4);
		(void)rnd(&st);
		memset(buf, (int)(got & 0xff), m.len);
		ck_assert_mem_eq(m.data, buf, m.len);
		for (j = 0; j < m.nfds; j++)
			check_tag(m.fds[j], "p", got, j);
		got++;
	}
	ck_assert_uint_eq(got, PIPE_N);
	ck_assert_int_eq(wait_exit(pid), 0);
	ck_assert_int_eq(sockx_chan_close(b), 0);
}
END_TEST

/* Stream position p of a message list: where each header starts. */
struct enc {
	unsigned char buf[16384];
	size_t len;
	size_t start[256];	/* header start of each message */
	unsigned nfds[256];
	unsigned n;
};

/*
 * A raw peer writes 200 encoded messages in random pieces (a piece may
 * hold several messages or a few bytes of one; a message's descriptors
 * ride on the piece that starts at its header) and the channel is read
 * with timeout 0 after every piece: every message arrives whole, in
 * order, with its own descriptors, however the reads cut the stream.
 */
START_TEST(chan_stream_coalesced_pieces_reassemble)
{
	static struct enc e;
	sockx_chan *c;
	struct sockx_msg m;
	uint32_t st = 99;
	unsigned i, j, got = 0, next_fd_msg;
	size_t at, end, plen;
	int raw, fds[2], r;

	raw_pair(SOCK_STREAM, 0, &c, &raw);
	memset(&e, 0, sizeof(e));
	for (i = 0; i < 200; i++) {
		plen = rnd(&st) % 50;
		e.nfds[i] = rnd(&st) % 3 == 0 ? rnd(&st) % 3 : 0;
		e.start[i] = e.len;
		put_hdr(e.buf + e.len, (uint32_t)plen, 3, i,
		    (uint16_t)e.nfds[i], 0);
		memset(e.buf + e.len + 16, (int)i, plen);
		e.len += 16 + plen;
		e.n++;
	}
	at = 0;
	next_fd_msg = 0;
	while (at < e.len) {
		/* The next message with descriptors at or after at. */
		while (next_fd_msg < e.n && (e.nfds[next_fd_msg] == 0 ||
		    e.start[next_fd_msg] < at))
			next_fd_msg++;
		end = at + 1 + rnd(&st) % 100;
		if (end > e.len)
			end = e.len;
		/* A piece stops before a header with descriptors ... */
		for (j = next_fd_msg; j < e.n && e.start[j] < end; j++)
			if (e.nfds[j] > 0 && e.start[j] > at)
				end = e.start[j];
		/* ... or starts at it and carries them. */
		if (next_fd_msg < e.n && e.start[next_fd_msg] == at) {
			for (j = 0; j < e.nfds[next_fd_msg]; j++)
				fds[j] = tagged_fd("co", next_fd_msg, j);
			raw_send(raw, e.buf + at, end - at, fds,
			    e.nfds[next_fd_msg]);
			for (j = 0; j < e.nfds[next_fd_msg]; j++)
				close(fds[j]);
		} else {
			raw_send(raw, e.buf + at, end - at, NULL, 0);
		}
		at = end;
		while ((r = sockx_chan_recv(c, &m, 0)) == 1) {
			ck_assert_uint_eq(m.id, got);
			ck_assert_uint_eq(m.len, (got + 1 < e.n ?
			    e.start[got + 1] : e.len) - e.start[got] - 16);
			ck_assert_uint_eq(m.nfds, e.nfds[got]);
			for (j = 0; j < m.nfds; j++)
				check_tag(m.fds[j], "co", got, j);
			got++;
		}
		ck_assert_msg(r == -ETIMEDOUT, "recv %d after %u messages, at %zu",
		    r, got, at);
	}
	ck_assert_uint_eq(got, e.n);
	ck_assert_int_eq(close(raw), 0);
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
}
END_TEST

/*
 * A message cut in two, its descriptor on the first piece: the first
 * recv times out keeping both, the second returns the message whole.
 */
START_TEST(chan_stream_partial_survives_timeout)
{
	sockx_chan *c;
	struct sockx_msg m;
	unsigned char b[16 + 100];
	int raw, fd, base;
	double t0;

	raw_pair(SOCK_STREAM, 0, &c, &raw);
	base = sxt_count_fds();
	put_hdr(b, 100, 1, 2, 1, 0);
	memset(b + 16, 'p', 100);
	fd = tagged_fd("part", 0, 0);
	raw_send(raw, b, 10, &fd, 1);
	ck_assert_int_eq(close(fd), 0);
	t0 = sxt_now();
	CHECK_ERR(sockx_chan_recv(c, &m, 50), ETIMEDOUT);
	ck_assert_double_ge(sxt_now() - t0, 0.045);
	ck_assert_double_lt(sxt_now() - t0, 5.0);
	ck_assert_int_eq(sxt_count_fds(), base + 1);	/* held, not lost */
	raw_send(raw, b + 10, 50, NULL, 0);
	CHECK_ERR(sockx_chan_recv(c, &m, 0), ETIMEDOUT);
	raw_send(raw, b + 60, sizeof(b) - 60, NULL, 0);
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 1);
	ck_assert_uint_eq(m.len, 100);
	ck_assert_mem_eq(m.data, b + 16, 100);
	ck_assert_uint_eq(m.nfds, 1);
	check_tag(m.fds[0], "part", 0, 0);
	ck_assert_int_eq(close(raw), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Protocol errors                                                   */
/* ---------------------------------------------------------------- */

enum bad {
	BAD_LEN, BAD_NFDS, BAD_FLAG8, BAD_FLAG15, BAD_TYPE, BAD_TYPE_MAX,
	BAD_FEWER_FDS, BAD_NO_FDS,
	/* streams only */
	BAD_END_IN_HEADER, BAD_END_IN_PAYLOAD,
	/* packets only */
	BAD_SHORT_PACKET, BAD_SHORTER, BAD_LONGER, BAD_MORE_FDS, BAD_HUGE,
	NBAD
};

#define BAD_MAX_LEN	64

/* Write the broken message of kind k to raw (a socket of type). */
static void
send_bad(int raw, int type, enum bad k)
{
	unsigned char b[16 + 256];
	int fds[2];
	size_t nfds = 0, len = 16;

	memset(b, 'b', sizeof(b));
	fds[0] = tagged_fd("bad", k, 0);
	fds[1] = tagged_fd("bad", k, 1);
	switch (k) {
	case BAD_LEN:
		put_hdr(b, BAD_MAX_LEN + 1, 1, 1, 0, 0);
		break;
	case BAD_NFDS:
		put_hdr(b, 0, 1, 1, 254, 0);
		break;
	case BAD_FLAG8:
		put_hdr(b, 0, 1, 1, 0, 0x0100);
		break;
	case BAD_FLAG15:
		put_hdr(b, 0, 1, 1, 0, 0x8000);
		break;
	case BAD_TYPE:
		put_hdr(b, 0, SOCKX_CHAN_TYPE_RESERVED, 1, 0, 0);
		break;
	case BAD_TYPE_MAX:
		put_hdr(b, 0, 0xffffffffu, 1, 0, 0);
		break;
	case BAD_FEWER_FDS:
		put_hdr(b, 0, 1, 1, 2, 0);
		nfds = 1;
		break;
	case BAD_NO_FDS:
		put_hdr(b, 0, 1, 1, 1, 0);
		break;
	case BAD_END_IN_HEADER:
		len = 10;
		break;
	case BAD_END_IN_PAYLOAD:
		put_hdr(b, 10, 1, 1, 0, 0);
		len = 16 + 5;
		break;
	case BAD_SHORT_PACKET:
		len = 10;
		break;
	case BAD_SHORTER:
		put_hdr(b, 10, 1, 1, 0, 0);
		len = 16 + 5;
		break;
	case BAD_LONGER:
		put_hdr(b, 2, 1, 1, 0, 0);
		len = 16 + 5;
		break;
	case BAD_MORE_FDS:
		put_hdr(b, 0, 1, 1, 1, 0);
		nfds = 2;
		break;
	case BAD_HUGE:
		put_hdr(b, 10, 1, 1, 0, 0);
		len = 16 + 200;
		break;
	default:
		ck_abort();
	}
	(void)type;
	raw_send(raw, b, len, fds, nfds);
	close(fds[0]);
	close(fds[1]);
}

static int
bad_applies(int type, enum bad k)
{
	if (k == BAD_END_IN_HEADER || k == BAD_END_IN_PAYLOAD)
		return type == SOCK_STREAM;
	if (k >= BAD_SHORT_PACKET)
		return type != SOCK_STREAM;
	return 1;
}

/*
 * Every protocol error: the whole messages before it are delivered first
 * (with their descriptors), then -EBADMSG, and -EBADMSG forever after;
 * every descriptor the channel held is closed; sending still works.
 */
START_TEST(chan_protocol_error_breaks_receive_side)
{
	int type = types[_i / NBAD];
	enum bad k = (enum bad)(_i % NBAD);
	sockx_chan *c;
	struct sockx_msg m;
	unsigned char back[64];
	int raw, fd, base, taken;

	if (!bad_applies(type, k))
		return;
	raw_pair(type, BAD_MAX_LEN, &c, &raw);
	base = sxt_count_fds();
	fd = tagged_fd("good", 0, 0);
	raw_msg(raw, 1, 100, "first", &fd, 1);
	raw_msg(raw, 1, 101, "second", NULL, 0);
	ck_assert_int_eq(close(fd), 0);
	send_bad(raw, type, k);
	if (k == BAD_END_IN_HEADER || k == BAD_END_IN_PAYLOAD)
		ck_assert_int_eq(shutdown(raw, SHUT_WR), 0);
	else
		raw_msg(raw, 1, 102, "after", NULL, 0);
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 1);
	ck_assert_uint_eq(m.id, 100);
	ck_assert_uint_eq(m.nfds, 1);
	check_tag(m.fds[0], "good", 0, 0);
	taken = m.fds[0];
	m.fds[0] = -1;
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 1);
	ck_assert_uint_eq(m.id, 101);
	CHECK_ERR(sockx_chan_recv(c, &m, T_MS), EBADMSG);
	CHECK_ERR(sockx_chan_recv(c, &m, T_MS), EBADMSG);
	CHECK_ERR(sockx_chan_recv(c, &m, 0), EBADMSG);
	/* Nothing held but the descriptor the caller took. */
	ck_assert_int_eq(sxt_count_fds(), base + 1);
	ck_assert_int_eq(close(taken), 0);
	/* The send side still works: an error reply. */
	ck_assert_int_eq(sockx_chan_send(c, 7, 8, "no", 2, NULL, 0, T_MS), 0);
	ck_assert_int_eq(recv(raw, back, sizeof(back), 0), 18);
	ck_assert_int_eq(close(raw), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
}
END_TEST

/*
 * A stream peer that sends more descriptors than its headers claim: up
 * to SOCKX_MAX_FDS unclaimed ones are held, the read that would make more
 * is -EBADMSG, and every one of them is closed.
 */
START_TEST(chan_stream_fd_flood_is_refused)
{
	sockx_chan *c;
	struct sockx_msg m;
	unsigned char h[16];
	int raw, base, fds[SOCKX_MAX_FDS], i;

	raise_nofile(4 * SOCKX_MAX_FDS);
	raw_pair(SOCK_STREAM, 0, &c, &raw);
	base = sxt_count_fds();
	for (i = 0; i < SOCKX_MAX_FDS; i++)
		fds[i] = tagged_fd("flood", 0, (unsigned)i);
	/* Headers that claim none. */
	for (i = 1; i <= 3; i++) {
		put_hdr(h, 0, 1, (uint32_t)i, 0, 0);
		raw_send(raw, h, sizeof(h), fds, SOCKX_MAX_FDS);
	}
	sxt_close_all(fds, SOCKX_MAX_FDS);
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 1);
	ck_assert_uint_eq(m.id, 1);
	ck_assert_uint_eq(m.nfds, 0);
	/* 253 unclaimed: the most a channel holds beyond its headers. */
	ck_assert_int_le(sxt_count_fds(), base + SOCKX_MAX_FDS);
	CHECK_ERR(sockx_chan_recv(c, &m, T_MS), EBADMSG);
	ck_assert_int_eq(sxt_count_fds(), base);
	CHECK_ERR(sockx_chan_recv(c, &m, T_MS), EBADMSG);
	ck_assert_int_eq(sxt_count_fds(), base);
	ck_assert_int_eq(close(raw), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
}
END_TEST

/*
 * The child of chan_ctrunc_is_emfile: sends its limit (one free number
 * below it) up, waits for the go byte, receives.  Its exit status names
 * the failed step.
 */
static void
ctrunc_child(sockx_chan *c, int up, int down)
{
	struct sockx_msg m;
	int base, limit, r, e;
	char g;

	base = sxt_count_fds();
	limit = fcntl(0, F_DUPFD, 0);
	if (base <= 0 || limit < 0 || close(limit) < 0)
		_exit(10);
	limit++;
	if (write(up, &limit, sizeof(limit)) != sizeof(limit) ||
	    read(down, &g, 1) != 1)
		_exit(11);
	errno = 0;
	r = sockx_chan_recv(c, &m, T_MS);
	e = errno;
	if (r != -EMFILE || e != EMFILE)
		_exit(12);
	if (sockx_chan_recv(c, &m, T_MS) != -EBADMSG)
		_exit(13);
	if (sxt_count_fds() != base)
		_exit(14);
	_exit(0);
}

/*
 * Descriptors the kernel drops (RLIMIT_NOFILE lets 1 of 3 in: MSG_CTRUNC)
 * fail the receive with -EMFILE, then -EBADMSG; none is left open.  The
 * parent lowers the child's limit with prlimit(2) (valgrind only emulates
 * a process's own setrlimit).
 */
START_TEST(chan_ctrunc_is_emfile)
{
	sockx_chan *c;
	struct rlimit rl;
	int raw, fds[3], up[2], down[2], limit, i;
	pid_t pid;

	raw_pair(types[_i], 0, &c, &raw);
	ck_assert_int_eq(pipe2(up, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(down, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		close(raw);
		ctrunc_child(c, up[1], down[0]);
	}
	ck_assert_int_eq(close(up[1]), 0);
	ck_assert_int_eq(close(down[0]), 0);
	ck_assert_int_eq(read(up[0], &limit, sizeof(limit)), sizeof(limit));
	ck_assert_int_eq(prlimit(pid, RLIMIT_NOFILE, NULL, &rl), 0);
	rl.rlim_cur = (rlim_t)limit;
	ck_assert_int_eq(prlimit(pid, RLIMIT_NOFILE, &rl, NULL), 0);
	for (i = 0; i < 3; i++)
		fds[i] = tagged_fd("ct", 0, (unsigned)i);
	raw_msg(raw, 1, 1, "x", fds, 3);
	sxt_close_all(fds, 3);
	ck_assert_int_eq(write(down[1], "g", 1), 1);
	ck_assert_int_eq(wait_exit(pid), 0);
	ck_assert_int_eq(close(up[0]), 0);
	ck_assert_int_eq(close(down[1]), 0);
	ck_assert_int_eq(close(raw), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Ownership                                                         */
/* ---------------------------------------------------------------- */

/*
 * The caller takes a descriptor by copying it and storing -1; the next
 * recv (and close) closes every other one.
 */
START_TEST(chan_untaken_fds_closed_by_next_recv)
{
	sockx_chan *a, *b;
	struct sockx_msg m;
	int fds[3], got[3], taken, i, base;

	chan_pair(types[_i], 0, &a, &b);
	base = sxt_count_fds();
	for (i = 0; i < 3; i++)
		fds[i] = tagged_fd("own", 0, (unsigned)i);
	ck_assert_int_eq(sockx_chan_queue(a, 1, 1, "x", 1, fds, 3), 0);
	ck_assert_int_eq(sockx_chan_queue(a, 1, 2, "y", 1, fds, 2), 0);
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	sxt_close_all(fds, 3);
	ck_assert_int_eq(sockx_chan_recv(b, &m, T_MS), 1);
	ck_assert_uint_eq(m.nfds, 3);
	for (i = 0; i < 3; i++)
		got[i] = m.fds[i];
	taken = m.fds[1];
	m.fds[1] = -1;
	ck_assert_int_eq(sockx_chan_recv(b, &m, T_MS), 1);
	ck_assert_uint_eq(m.nfds, 2);
	ck_assert(is_open(taken));
	check_tag(taken, "own", 0, 1);
	for (i = 0; i < 3; i += 2)
		ck_assert_msg(got[i] == m.fds[0] || got[i] == m.fds[1] ||
		    !is_open(got[i]), "untaken fd %d still open", got[i]);
	ck_assert_int_eq(sxt_count_fds(), base + 1 + 2);
	/* Close closes the last message's descriptors too. */
	close_chans(a, b);
	ck_assert_int_eq(sxt_count_fds(), base + 1 - 2);
	ck_assert_int_eq(close(taken), 0);
}
END_TEST

/* The caller's descriptors stay the caller's; the queue holds dups. */
START_TEST(chan_close_discards_queue_and_dups)
{
	sockx_chan *a, *b;
	int fds[4], i, base;

	chan_pair(types[_i], 0, &a, &b);
	base = sxt_count_fds();
	for (i = 0; i < 4; i++)
		fds[i] = tagged_fd("q", 0, (unsigned)i);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(sockx_chan_queue(a, 1, (uint32_t)i, "z", 1,
		    fds, 4), 0);
	ck_assert_int_eq(sxt_count_fds(), base + 4 + 20);
	ck_assert_uint_eq(sockx_chan_pending(a), 5 * 17);
	close_chans(a, b);
	ck_assert_int_eq(sxt_count_fds(), base + 4 - 2);
	for (i = 0; i < 4; i++)
		check_tag(fds[i], "q", 0, (unsigned)i);
	sxt_close_all(fds, 4);
}
END_TEST

/* ---------------------------------------------------------------- */
/* The output queue                                                  */
/* ---------------------------------------------------------------- */

#define CAP_MAX_LEN	65536

/*
 * The byte cap: max(16 MiB, 2 x (16 + max_len)).  A queue that would
 * pass it is -ENOBUFS with nothing queued; a message that fits still
 * goes in.
 */
START_TEST(chan_queue_byte_cap_is_enobufs)
{
	static char buf[CAP_MAX_LEN];
	sockx_chan *a, *b;
	size_t n = 0, pending;

	chan_pair(types[_i], CAP_MAX_LEN, &a, &b);
	while (sockx_chan_queue(a, 1, (uint32_t)n, buf, sizeof(buf), NULL,
	    0) == 0)
		n++;
	CHECK_ERR(sockx_chan_queue(a, 1, 0, buf, sizeof(buf), NULL, 0),
	    ENOBUFS);
	ck_assert_uint_eq(n, (16u << 20) / (16 + CAP_MAX_LEN));
	pending = sockx_chan_pending(a);
	ck_assert_uint_eq(pending, n * (16 + CAP_MAX_LEN));
	/* What still fits goes in. */
	ck_assert_int_eq(sockx_chan_queue(a, 1, 0, buf,
	    (16u << 20) - pending - 16, NULL, 0), 0);
	CHECK_ERR(sockx_chan_queue(a, 1, 0, NULL, 0, NULL, 0), ENOBUFS);
	ck_assert_uint_eq(sockx_chan_pending(a), 16u << 20);
	close_chans(a, b);
}
END_TEST

/* A large max_len makes the byte cap 2 x (16 + max_len). */
START_TEST(chan_queue_cap_follows_max_len)
{
	sockx_chan *a, *b;
	size_t max = 12u << 20;
	char *buf = calloc(1, max);

	ck_assert_ptr_nonnull(buf);
	chan_pair(SOCK_STREAM, max, &a, &b);
	ck_assert_int_eq(sockx_chan_queue(a, 1, 1, buf, max, NULL, 0), 0);
	ck_assert_int_eq(sockx_chan_queue(a, 1, 2, buf, max, NULL, 0), 0);
	CHECK_ERR(sockx_chan_queue(a, 1, 3, NULL, 0, NULL, 0), ENOBUFS);
	ck_assert_uint_eq(sockx_chan_pending(a), 2 * (16 + max));
	close_chans(a, b);
	free(buf);
}
END_TEST

/* The descriptor cap: 1,024 queued, more is -ENOBUFS, nothing queued. */
START_TEST(chan_queue_fd_cap_is_enobufs)
{
	sockx_chan *a, *b;
	int fds[SOCKX_MAX_FDS], i, base;
	size_t pending;

	raise_nofile(1100 + SOCKX_MAX_FDS);
	chan_pair(types[_i], 0, &a, &b);
	for (i = 0; i < SOCKX_MAX_FDS; i++)
		fds[i] = tagged_fd("cap", 0, (unsigned)i);
	base = sxt_count_fds();
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(sockx_chan_queue(a, 1, 1, NULL, 0, fds,
		    SOCKX_MAX_FDS), 0);
	CHECK_ERR(sockx_chan_queue(a, 1, 1, NULL, 0, fds, SOCKX_MAX_FDS),
	    ENOBUFS);
	ck_assert_int_eq(sockx_chan_queue(a, 1, 1, NULL, 0, fds,
	    1024 - 4 * SOCKX_MAX_FDS), 0);
	pending = sockx_chan_pending(a);
	CHECK_ERR(sockx_chan_queue(a, 1, 1, NULL, 0, fds, 1), ENOBUFS);
	ck_assert_uint_eq(sockx_chan_pending(a), pending);
	/* Exactly the 1,024 duplicates are held. */
	ck_assert_int_eq(sxt_count_fds(), base + 1024);
	/* Messages without descriptors still fit. */
	ck_assert_int_eq(sockx_chan_queue(a, 1, 1, "x", 1, NULL, 0), 0);
	close_chans(a, b);
	ck_assert_int_eq(sxt_count_fds(), base - 2);
	sxt_close_all(fds, SOCKX_MAX_FDS);
}
END_TEST

/*
 * sockx_chan_send against a peer that does not read: -ETIMEDOUT leaves
 * the message queued; with the queue full, -ENOBUFS queues nothing;
 * once the peer reads, flush delivers every message exactly once.
 */
START_TEST(chan_send_to_stalled_peer_times_out_then_delivers)
{
	static char buf[60000];
	sockx_chan *a, *b;
	struct sockx_msg m;
	uint32_t n = 0, got = 0;
	size_t pending;
	double t0;
	int r;

	chan_pair(types[_i], sizeof(buf), &a, &b);
	while ((r = sockx_chan_send(a, 1, n, buf, sizeof(buf), NULL, 0,
	    20)) == 0)
		n++;
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	n++;	/* queued */
	ck_assert_uint_gt(sockx_chan_pending(a), 0);
	ck_assert_int_eq(sockx_chan_events(a), SOCKX_READABLE | SOCKX_WRITABLE);
	while (sockx_chan_queue(a, 1, n, buf, sizeof(buf), NULL, 0) == 0)
		n++;
	pending = sockx_chan_pending(a);
	t0 = sxt_now();
	CHECK_ERR(sockx_chan_send(a, 1, n, buf, sizeof(buf), NULL, 0, 50),
	    ENOBUFS);
	ck_assert_double_ge(sxt_now() - t0, 0.045);
	ck_assert_double_lt(sxt_now() - t0, 5.0);
	ck_assert_uint_eq(sockx_chan_pending(a), pending);
	CHECK_ERR(sockx_chan_flush(a, 0), ETIMEDOUT);
	for (;;) {
		r = sockx_chan_flush(a, 0);
		ck_assert(r == 0 || r == -ETIMEDOUT);
		while (sockx_chan_recv(b, &m, 0) == 1) {
			ck_assert_uint_eq(m.id, got);
			ck_assert_uint_eq(m.len, sizeof(buf));
			got++;
		}
		if (r == 0 && got == n)
			break;
		ck_assert_uint_le(got, n);
	}
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	ck_assert_int_eq(sockx_chan_events(a), SOCKX_READABLE);
	CHECK_ERR(sockx_chan_recv(b, &m, 0), ETIMEDOUT);
	close_chans(a, b);
}
END_TEST

/*
 * sockx_chan_send on an empty queue writes straight from the caller's
 * buffers: a message larger than the socket takes goes out in part, its
 * descriptor with the first byte, and the rest is queued (-ETIMEDOUT at
 * timeout 0) and arrives intact, byte for byte, after the part sent.
 */
START_TEST(chan_send_partial_write_queues_the_rest_intact)
{
	static unsigned char buf[1 << 20];
	sockx_chan *a, *b;
	struct sockx_msg m;
	struct stat want, st;
	size_t i;
	int p[2], r;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + i / 251);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(fstat(p[0], &want), 0);
	chan_pair(SOCK_STREAM, sizeof(buf), &a, &b);
	CHECK_ERR(sockx_chan_send(a, 3, 9, buf, sizeof(buf), &p[0], 1, 0),
	    ETIMEDOUT);
	ck_assert_uint_gt(sockx_chan_pending(a), 0);
	ck_assert_uint_lt(sockx_chan_pending(a), 16 + sizeof(buf));
	/* The caller's copy stays the caller's. */
	ck_assert_int_eq(close(p[0]), 0);
	for (;;) {
		r = sockx_chan_flush(a, 0);
		ck_assert(r == 0 || r == -ETIMEDOUT);
		r = sockx_chan_recv(b, &m, 0);
		if (r == 1)
			break;
		ck_assert_int_eq(r, -ETIMEDOUT);
	}
	ck_assert_uint_eq(m.type, 3);
	ck_assert_uint_eq(m.id, 9);
	ck_assert_uint_eq(m.len, sizeof(buf));
	ck_assert(memcmp(m.data, buf, sizeof(buf)) == 0);
	ck_assert_uint_eq(m.nfds, 1);
	ck_assert_int_eq(fstat(m.fds[0], &st), 0);
	ck_assert(st.st_dev == want.st_dev && st.st_ino == want.st_ino);
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	CHECK_ERR(sockx_chan_recv(b, &m, 0), ETIMEDOUT);
	ck_assert_int_eq(close(p[1]), 0);
	close_chans(a, b);
}
END_TEST

/* A peer gone: -EPIPE (no SIGPIPE), and the message is not queued. */
START_TEST(chan_send_to_closed_peer_is_epipe)
{
	sockx_chan *a, *b;

	chan_pair(types[_i] == SOCK_DGRAM ? SOCK_STREAM : types[_i], 0, &a,
	    &b);
	ck_assert_int_eq(sockx_chan_close(b), 0);
	CHECK_ERR(sockx_chan_send(a, 1, 1, "x", 1, NULL, 0, T_MS), EPIPE);
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	ck_assert_int_eq(sockx_chan_queue(a, 1, 1, "x", 1, NULL, 0), 0);
	CHECK_ERR(sockx_chan_flush(a, T_MS), EPIPE);
	ck_assert_uint_eq(sockx_chan_pending(a), 17);
	ck_assert_int_eq(sockx_chan_close(a), 0);
}
END_TEST

/*
 * A stream batch is split at every message with descriptors: each
 * descriptor-carrying sendmsg starts at its message's header, so a raw
 * reader that reads up to its own record boundaries sees each message's
 * descriptors with the read that starts at its header.
 */
START_TEST(chan_stream_fds_ride_on_header_start)
{
	sockx_chan *c;
	unsigned char got[64];
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} control;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	int raw, fds[2], fd, i;
	ssize_t n;

	raw_pair(SOCK_STREAM, 0, &c, &raw);
	fds[0] = tagged_fd("hs", 0, 0);
	fds[1] = tagged_fd("hs", 1, 0);
	/* m0 (no fds), m1 (fd 0), m2 (no fds), m3 (fd 1): 3 sendmsgs. */
	ck_assert_int_eq(sockx_chan_queue(c, 1, 0, "aaaa", 4, NULL, 0), 0);
	ck_assert_int_eq(sockx_chan_queue(c, 1, 1, "bbbb", 4, &fds[0], 1), 0);
	ck_assert_int_eq(sockx_chan_queue(c, 1, 2, "cccc", 4, NULL, 0), 0);
	ck_assert_int_eq(sockx_chan_queue(c, 1, 3, "dddd", 4, &fds[1], 1), 0);
	ck_assert_int_eq(sockx_chan_flush(c, T_MS), 0);
	sxt_close_all(fds, 2);
	/* Reads of exactly one message at a time: 20 bytes each. */
	for (i = 0; i < 4; i++) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = got;
		iov.iov_len = 20;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		n = recvmsg(raw, &mh, MSG_CMSG_CLOEXEC);
		ck_assert_int_eq(n, 20);
		ck_assert_uint_eq(got[8], i);
		cm = CMSG_FIRSTHDR(&mh);
		if (i % 2 == 0) {
			ck_assert_ptr_null(cm);
			continue;
		}
		ck_assert_ptr_nonnull(cm);
		ck_assert_uint_eq(cm->cmsg_len, CMSG_LEN(sizeof(int)));
		memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		check_tag(fd, "hs", (unsigned)i / 2, 0);
		ck_assert_int_eq(close(fd), 0);
	}
	ck_assert_int_eq(close(raw), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Arguments                                                         */
/* ---------------------------------------------------------------- */

START_TEST(chan_open_bad_arguments_are_einval)
{
	sockx_chan *c = (sockx_chan *)&c;
	sockx *sa, *sb, *l;
	char name[128];

	ck_assert_int_eq(sockx_pair(&sa, &sb, SOCK_STREAM), 0);
	CHECK_ERR(sockx_chan_open(NULL, sa, 0, 0), EINVAL);
	CHECK_ERR(sockx_chan_open(&c, NULL, 0, 0), EINVAL);
	CHECK_ERR(sockx_chan_open(&c, sa, 0, 1), EINVAL);
	CHECK_ERR(sockx_chan_open(&c, sa, ((size_t)1 << 30) + 1, 0), EINVAL);
	ck_assert_ptr_eq(c, (sockx_chan *)&c);	/* written only on success */
	/* On failure the caller still owns s: it is open and usable. */
	ck_assert_int_eq(sockx_write(sa, "k", 1, T_MS), 1);
	ck_assert_int_eq(sockx_chan_open(&c, sa, (size_t)1 << 30, 0), 0);
	ck_assert_ptr_eq(sockx_chan_handle(c), sa);
	ck_assert_int_eq(sockx_chan_close(c), 0);
	ck_assert_int_eq(sockx_close(sb), 0);
	/* A listener. */
	ck_assert_int_eq(sockx_listen(&l, sxt_abstract(name, sizeof(name),
	    "chan"), 0, 0, 0), 0);
	CHECK_ERR(sockx_chan_open(&c, l, 0, 0), EINVAL);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

START_TEST(chan_queue_bad_arguments_queue_nothing)
{
	sockx_chan *a, *b;
	int fds[SOCKX_MAX_FDS + 1], closed, i, base;
	char big[BAD_MAX_LEN + 1];

	chan_pair(types[_i], BAD_MAX_LEN, &a, &b);
	memset(big, 0, sizeof(big));
	for (i = 0; i <= SOCKX_MAX_FDS; i++)
		fds[i] = 0;	/* valid: stdin */
	/* A closed number that no duplicate made meanwhile can take. */
	closed = sxt_fd_above(tagged_fd("c", 0, 0), 900);
	ck_assert_int_eq(close(closed), 0);
	base = sxt_count_fds();
	CHECK_ERR(sockx_chan_queue(NULL, 1, 1, "x", 1, NULL, 0), EINVAL);
	CHECK_ERR(sockx_chan_queue(a, 1, 1, NULL, 1, NULL, 0), EINVAL);
	CHECK_ERR(sockx_chan_queue(a, 1, 1, "x", 1, fds, SOCKX_MAX_FDS + 1),
	    EINVAL);
	CHECK_ERR(sockx_chan_queue(a, 1, 1, "x", 1, NULL, 1), EINVAL);
	CHECK_ERR(sockx_chan_queue(a, SOCKX_CHAN_TYPE_RESERVED, 1, "x", 1, NULL,
	    0), EINVAL);
	CHECK_ERR(sockx_chan_queue(a, 0xffffffffu, 1, "x", 1, NULL, 0),
	    EINVAL);
	CHECK_ERR(sockx_chan_queue(a, 1, 1, big, sizeof(big), NULL, 0),
	    EMSGSIZE);
	fds[1] = -1;
	CHECK_ERR(sockx_chan_queue(a, 1, 1, "x", 1, fds, 2), EBADF);
	fds[1] = closed;
	CHECK_ERR(sockx_chan_queue(a, 1, 1, "x", 1, fds, 2), EBADF);
	/* The same through send, and nothing was written. */
	CHECK_ERR(sockx_chan_send(a, 1, 1, "x", 1, fds, 2, T_MS), EBADF);
	CHECK_ERR(sockx_chan_send(a, 1, 1, big, sizeof(big), NULL, 0, T_MS),
	    EMSGSIZE);
	CHECK_ERR(sockx_chan_send(a, 1, 1, "x", 1, NULL, 0, -2), EINVAL);
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	ck_assert_int_eq(sxt_count_fds(), base);
	/* The largest type and length still go. */
	fds[1] = 0;
	ck_assert_int_eq(sockx_chan_queue(a, SOCKX_CHAN_TYPE_RESERVED - 1, 1,
	    big, BAD_MAX_LEN, fds, SOCKX_MAX_FDS), 0);
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	close_chans(a, b);
}
END_TEST

/* A packet the socket cannot carry (16 + len > SO_SNDBUF - 32). */
START_TEST(chan_queue_packet_too_big_is_emsgsize)
{
	sockx *sa, *sb;
	sockx_chan *a, *b;
	struct sockx_msg m;
	int sndbuf = 4096, got;
	socklen_t sl = sizeof(got);
	char *buf;

	ck_assert_int_eq(sockx_pair(&sa, &sb, types[_i]), 0);
	ck_assert_int_eq(setsockopt(sockx_fd(sa), SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, sizeof(sndbuf)), 0);
	ck_assert_int_eq(getsockopt(sockx_fd(sa), SOL_SOCKET, SO_SNDBUF, &got,
	    &sl), 0);
	ck_assert_int_eq(sockx_chan_open(&a, sa, 0, 0), 0);
	ck_assert_int_eq(sockx_chan_open(&b, sb, 0, 0), 0);
	buf = calloc(1, (size_t)got);
	ck_assert_ptr_nonnull(buf);
	CHECK_ERR(sockx_chan_queue(a, 1, 1, buf, (size_t)got - 32 - 16 + 1,
	    NULL, 0), EMSGSIZE);
	CHECK_ERR(sockx_chan_send(a, 1, 1, buf, (size_t)got, NULL, 0, T_MS),
	    EMSGSIZE);
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	ck_assert_int_eq(sockx_chan_send(a, 1, 2, buf, (size_t)got - 32 - 16,
	    NULL, 0, T_MS), 0);
	ck_assert_int_eq(sockx_chan_recv(b, &m, T_MS), 1);
	ck_assert_uint_eq(m.len, (size_t)got - 48);
	free(buf);
	close_chans(a, b);
}
END_TEST

START_TEST(chan_other_bad_arguments_are_einval)
{
	sockx_chan *a, *b;
	struct sockx_msg m;

	chan_pair(SOCK_STREAM, 0, &a, &b);
	CHECK_ERR(sockx_chan_recv(NULL, &m, 0), EINVAL);
	CHECK_ERR(sockx_chan_recv(a, NULL, 0), EINVAL);
	CHECK_ERR(sockx_chan_recv(a, &m, -2), EINVAL);
	CHECK_ERR(sockx_chan_flush(NULL, 0), EINVAL);
	CHECK_ERR(sockx_chan_flush(a, -2), EINVAL);
	CHECK_ERR(sockx_chan_events(NULL), EINVAL);
	ck_assert_uint_eq(sockx_chan_pending(NULL), 0);
	errno = 0;
	ck_assert_ptr_null(sockx_chan_handle(NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sockx_chan_close(NULL), 0);
	/* An empty flush makes no system call and succeeds at once. */
	ck_assert_int_eq(sockx_chan_flush(a, 0), 0);
	close_chans(a, b);
}
END_TEST

/* Descriptors need a unix socket; plain messages work over TCP. */
START_TEST(chan_tcp_carries_messages_not_fds)
{
	sockx *l, *sa, *sb;
	sockx_chan *a, *b;
	struct sockx_msg m;
	char addr[SOCKX_ADDRSTRLEN + 8];
	int fd = 0;

	ck_assert_int_eq(sockx_listen(&l, "tcp:127.0.0.1:0", 0, 0, 0), 0);
	sxt_local_text(l, "tcp:", addr, sizeof(addr));
	ck_assert_int_eq(sockx_connect(&sa, addr, T_MS), 0);
	ck_assert_int_eq(sockx_accept(l, &sb, T_MS), 0);
	ck_assert_int_eq(sockx_close(l), 0);
	ck_assert_int_eq(sockx_chan_open(&a, sa, 0, 0), 0);
	ck_assert_int_eq(sockx_chan_open(&b, sb, 0, 0), 0);
	CHECK_ERR(sockx_chan_queue(a, 1, 1, "x", 1, &fd, 1), EOPNOTSUPP);
	ck_assert_int_eq(sockx_chan_send(a, 1, 1, "tcp", 3, NULL, 0, T_MS), 0);
	ck_assert_int_eq(sockx_chan_recv(b, &m, T_MS), 1);
	ck_assert_mem_eq(m.data, "tcp", 3);
	close_chans(a, b);
}
END_TEST

/* events: readable always, writable while output is queued. */
START_TEST(chan_events_follow_the_queue)
{
	sockx_chan *a, *b;

	chan_pair(types[_i], 0, &a, &b);
	ck_assert_int_eq(sockx_chan_events(a), SOCKX_READABLE);
	ck_assert_int_eq(sockx_chan_queue(a, 1, 1, "x", 1, NULL, 0), 0);
	ck_assert_int_eq(sockx_chan_events(a), SOCKX_READABLE | SOCKX_WRITABLE);
	ck_assert_uint_eq(sockx_chan_pending(a), 17);
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	ck_assert_int_eq(sockx_chan_events(a), SOCKX_READABLE);
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	close_chans(a, b);
}
END_TEST

/*
 * A handle in kernel-timeout mode (blocking descriptor): the channel
 * never blocks in a system call past its deadline.
 */
START_TEST(chan_kernel_timeout_handle_keeps_deadlines)
{
	static char buf[60000];
	sockx *sa, *sb;
	sockx_chan *a, *b;
	struct sockx_msg m;
	double t0;
	int r;

	ck_assert_int_eq(sockx_pair(&sa, &sb, types[_i]), 0);
	ck_assert_int_eq(sockx_set_kernel_timeouts(sa, 1), 0);
	ck_assert_int_eq(sockx_set_kernel_timeouts(sb, 1), 0);
	ck_assert_int_eq(sockx_chan_open(&a, sa, 0, 0), 0);
	ck_assert_int_eq(sockx_chan_open(&b, sb, 0, 0), 0);
	t0 = sxt_now();
	CHECK_ERR(sockx_chan_recv(b, &m, 50), ETIMEDOUT);
	ck_assert_double_ge(sxt_now() - t0, 0.045);
	ck_assert_double_lt(sxt_now() - t0, 5.0);
	CHECK_ERR(sockx_chan_recv(b, &m, 0), ETIMEDOUT);
	ck_assert_int_eq(sockx_chan_send(a, 1, 1, "k", 1, NULL, 0, T_MS), 0);
	ck_assert_int_eq(sockx_chan_recv(b, &m, 0), 1);
	while ((r = sockx_chan_send(a, 1, 1, buf, sizeof(buf), NULL, 0,
	    0)) == 0)
		;
	ck_assert_int_eq(r, -ETIMEDOUT);
	t0 = sxt_now();
	CHECK_ERR(sockx_chan_flush(a, 50), ETIMEDOUT);
	ck_assert_double_ge(sxt_now() - t0, 0.045);
	ck_assert_double_lt(sxt_now() - t0, 5.0);
	close_chans(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Against tests/chan-peer.py, an independent implementation         */
/* ---------------------------------------------------------------- */

#define PY_N	600

/* Run $SXT_PYTHON chan-peer.py mode dir PY_N seed with s as its fd 3. */
static pid_t
py_peer(sockx *s, const char *mode, const char *dir, const char *seed)
{
	const char *py = getenv("SXT_PYTHON");
	const char *script = getenv("SXT_CHAN_PEER");
	char n[16];
	pid_t pid;
	int fd = sockx_fd(s);

	ck_assert_msg(py != NULL && script != NULL,
	    "SXT_PYTHON and SXT_CHAN_PEER unset (run through meson test)");
	snprintf(n, sizeof(n), "%d", PY_N);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* dup2 clears FD_CLOEXEC, except onto itself. */
		if ((fd == 3 ? fcntl(3, F_SETFD, 0) : dup2(fd, 3)) < 0)
			_exit(126);
		execl(py, py, script, mode, dir, n, seed, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* DIR/f0..f4, five files; their st_dev/st_ino in ids. */
static void
make_files(char *dir, size_t size, struct stat *ids)
{
	char path[PATH_MAX];
	int i, fd;

	sxt_tmpdir(dir, size);
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fstat(fd, &ids[i]), 0);
		ck_assert_int_eq(close(fd), 0);
	}
}

static void
remove_files(const char *dir)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		ck_assert_int_eq(unlink(path), 0);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

/* Message i as chan-peer.py defines it. */
static void
py_message(unsigned i, uint32_t *type, unsigned char *payload, size_t *len,
    size_t *nfds)
{
	size_t k;

	*type = 1000 + i % 7;
	*len = i % 50;
	for (k = 0; k < *len; k++)
		payload[k] = (unsigned char)(i + k);
	*nfds = i % 4;
}

/*
 * Python sends (coalesced and cut at random on a stream); the channel
 * receives every message with the right files.
 */
START_TEST(chan_python_sender_is_understood)
{
	static const char *const seeds[] = { "1", "2", "3" };
	char dir[256];
	struct stat ids[5], st;
	unsigned char payload[64];
	sockx *sa, *sb;
	sockx_chan *c;
	struct sockx_msg m;
	uint32_t type;
	size_t len, nfds, j;
	unsigned i;
	pid_t pid;

	raise_nofile(PY_N * 3);
	make_files(dir, sizeof(dir), ids);
	ck_assert_int_eq(sockx_pair(&sa, &sb, types[_i % 2]), 0);
	pid = py_peer(sb, "send", dir, seeds[_i / 2]);
	ck_assert_int_eq(sockx_close(sb), 0);
	ck_assert_int_eq(sockx_chan_open(&c, sa, 0, 0), 0);
	for (i = 0; i < PY_N; i++) {
		ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 1);
		py_message(i, &type, payload, &len, &nfds);
		ck_assert_uint_eq(m.type, type);
		ck_assert_uint_eq(m.id, i);
		ck_assert_uint_eq(m.len, len);
		ck_assert_mem_eq(m.data, payload, len);
		ck_assert_uint_eq(m.nfds, nfds);
		for (j = 0; j < nfds; j++) {
			ck_assert_int_eq(fstat(m.fds[j], &st), 0);
			ck_assert_msg(st.st_dev == ids[(i + j) % 5].st_dev &&
			    st.st_ino == ids[(i + j) % 5].st_ino,
			    "message %u: fd %zu is not f%zu", i, j,
			    (i + j) % 5);
		}
	}
	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 0);
	ck_assert_int_eq(wait_exit(pid), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
	remove_files(dir);
}
END_TEST

/* The channel sends (queued in batches, flushed at random); Python checks. */
START_TEST(chan_python_receiver_understands)
{
	char dir[256], path[PATH_MAX];
	struct stat ids[5];
	unsigned char payload[64];
	sockx *sa, *sb;
	sockx_chan *c;
	uint32_t type, st = 4242;
	size_t len, nfds, j;
	int files[5], fds[4];
	unsigned i;
	pid_t pid;

	make_files(dir, sizeof(dir), ids);
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/f%u", dir, i);
		files[i] = open(path, O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(files[i], 0);
	}
	ck_assert_int_eq(sockx_pair(&sa, &sb, types[_i]), 0);
	pid = py_peer(sb, "recv", dir, "0");
	ck_assert_int_eq(sockx_close(sb), 0);
	ck_assert_int_eq(sockx_chan_open(&c, sa, 0, 0), 0);
	for (i = 0; i < PY_N; i++) {
		py_message(i, &type, payload, &len, &nfds);
		for (j = 0; j < nfds; j++)
			fds[j] = files[(i + j) % 5];
		if (rnd(&st) % 3 == 0)
			ck_assert_int_eq(sockx_chan_send(c, type, i, payload,
			    len, fds, nfds, T_MS), 0);
		else
			ck_assert_int_eq(sockx_chan_queue(c, type, i, payload,
			    len, fds, nfds), 0);
	}
	ck_assert_int_eq(sockx_chan_flush(c, T_MS), 0);
	ck_assert_int_eq(sockx_chan_close(c), 0);
	ck_assert_int_eq(wait_exit(pid), 0);
	sxt_close_all(files, 5);
	remove_files(dir);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Costs: system calls and allocations                               */
/* ---------------------------------------------------------------- */

/*
 * Kill this process (SIGSYS) at its next system call other than exit,
 * exit_group and clock_gettime (a vDSO call, made a system call only
 * where there is no vDSO).
 */
static int
forbid_syscalls(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clock_gettime, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)NELEM(f),
		.filter = f,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

#define SYS_N	50

/*
 * Stream read-ahead: the first recv reads all 50 small messages in one
 * go; the other 49 come out of the buffer without any system call.  Two
 * checks: the socket's number holds /dev/null meanwhile (any recvmsg
 * would fail), and a forked child under a seccomp filter that kills it at
 * its first system call receives the rest, then makes the control call
 * on an empty buffer that must die.  Under valgrind, whose own system
 * calls the filter would kill, only the first check runs.
 */
START_TEST(chan_buffered_message_costs_no_syscall)
{
	sockx_chan *a, *b;
	struct sockx_msg m;
	char text[16];
	volatile unsigned *done;
	unsigned i;
	pid_t pid;
	int saved, null;

	chan_pair(SOCK_STREAM, 0, &a, &b);
	for (i = 0; i < SYS_N; i++) {
		snprintf(text, sizeof(text), "m%u", i);
		ck_assert_int_eq(sockx_chan_queue(a, 1, i, text, strlen(text),
		    NULL, 0), 0);
	}
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	ck_assert_int_eq(sockx_chan_recv(b, &m, T_MS), 1);
	ck_assert_uint_eq(m.id, 0);
	/*
	 * First, everywhere: with the socket's number taken by a
	 * descriptor that is no socket, the buffered messages still come,
	 * so no recvmsg (which would fail: ENOTSOCK) was made for them.
	 */
	saved = fcntl(sockx_fd(sockx_chan_handle(b)), F_DUPFD_CLOEXEC, 0);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(null = open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
	ck_assert_int_ge(dup3(null, sockx_fd(sockx_chan_handle(b)), O_CLOEXEC),
	    0);
	for (i = 1; i < SYS_N / 2; i++) {
		ck_assert_int_eq(sockx_chan_recv(b, &m, i % 2 ? 0 : -1), 1);
		ck_assert_uint_eq(m.id, i);
	}
	ck_assert_int_ge(dup3(saved, sockx_fd(sockx_chan_handle(b)), O_CLOEXEC),
	    0);
	ck_assert_int_eq(close(saved), 0);
	ck_assert_int_eq(close(null), 0);
	if (under_valgrind()) {
		for (; i < SYS_N; i++) {
			ck_assert_int_eq(sockx_chan_recv(b, &m, 0), 1);
			ck_assert_uint_eq(m.id, i);
		}
		close_chans(a, b);
		return;
	}
	/* Progress, written without a system call: shared memory. */
	done = mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne((void *)done, MAP_FAILED);
	*done = 0;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (forbid_syscalls() < 0)
			_exit(1);
		for (; i < SYS_N; i++) {
			snprintf(text, sizeof(text), "m%u", i);
			if (sockx_chan_recv(b, &m, i % 2 ? 0 : -1) != 1 ||
			    m.id != i || m.len != strlen(text) ||
			    memcmp(m.data, text, m.len) != 0)
				_exit(2);
			*done = i;
		}
		/*
		 * The control: the buffer is empty, so this recv must ask
		 * the kernel, which the filter punishes.
		 */
		sockx_chan_recv(b, &m, 0);
		_exit(3);
	}
	ck_assert_int_eq(wait_exit(pid), 128 + SIGSYS);
	ck_assert_uint_eq(*done, SYS_N - 1);	/* killed by the control */
	ck_assert_int_eq(munmap((void *)done, sizeof(*done)), 0);
	close_chans(a, b);
}
END_TEST

/*
 * Why a poll-set loop drains with recv(c, &m, 0) before it waits again:
 * after one read-ahead the socket is no longer readable, but messages
 * are buffered in the channel.
 */
START_TEST(chan_buffered_messages_outlive_readiness)
{
	sockx_chan *a, *b;
	struct sockx_msg m;
	unsigned i;

	chan_pair(SOCK_STREAM, 0, &a, &b);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(sockx_chan_queue(a, 1, i, "r", 1, NULL, 0), 0);
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	ck_assert_int_eq(sockx_wait(sockx_chan_handle(b),
	    sockx_chan_events(b), T_MS), SOCKX_READABLE);
	ck_assert_int_eq(sockx_chan_recv(b, &m, 0), 1);
	CHECK_ERR(sockx_wait(sockx_chan_handle(b), sockx_chan_events(b), 0),
	    ETIMEDOUT);
	for (i = 1; i < 5; i++) {
		ck_assert_int_eq(sockx_chan_recv(b, &m, 0), 1);
		ck_assert_uint_eq(m.id, i);
	}
	CHECK_ERR(sockx_chan_recv(b, &m, 0), ETIMEDOUT);
	close_chans(a, b);
}
END_TEST

/*
 * Allocation counting: the LD_PRELOAD shim tests/chan-alloc.c (meson
 * preloads it for this program), and under AddressSanitizer, whose
 * allocator may be reached before the shim, its malloc hook as well.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SXT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SXT_ASAN 1
#endif
#endif

#ifdef SXT_ASAN
#include <sanitizer/allocator_interface.h>

static int asan_window;
static unsigned long asan_count;

static void
asan_malloc_hook(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	if (asan_window)
		asan_count++;
}

static void
asan_free_hook(const volatile void *p)
{
	(void)p;
}
#endif

struct alloc_counter {
	void (*window)(int);
	unsigned long (*count)(void);
};

static void
alloc_counter_init(struct alloc_counter *ac)
{
	void *w = dlsym(RTLD_DEFAULT, "sxt_alloc_window");
	void *n = dlsym(RTLD_DEFAULT, "sxt_alloc_count");

	ck_assert_msg(w != NULL && n != NULL,
	    "tests/chan-alloc.c is not preloaded (run through meson test)");
	memcpy(&ac->window, &w, sizeof(w));
	memcpy(&ac->count, &n, sizeof(n));
#ifdef SXT_ASAN
	__sanitizer_install_malloc_and_free_hooks(asan_malloc_hook,
	    asan_free_hook);
#endif
}

static void
alloc_window(const struct alloc_counter *ac, int on)
{
	ac->window(on);
#ifdef SXT_ASAN
	asan_window = on;
#endif
}

static unsigned long
alloc_count(const struct alloc_counter *ac)
{
#ifdef SXT_ASAN
	return ac->count() + asan_count;
#else
	return ac->count();
#endif
}

/*
 * Queue a batch of 1..20 messages (0..3000 bytes, 0..2 descriptors),
 * flush it, receive it; *bad is set on any surprise (no Check call: it
 * may allocate).
 */
static void
batch(sockx_chan *a, sockx_chan *b, uint32_t *st, int fd, int max,
    int *bad)
{
	static char buf[3000];
	struct sockx_msg m;
	int fds[2] = { fd, fd };
	unsigned k, n = max ? 20 : 1 + rnd(st) % 20;
	size_t len;

	for (k = 0; k < n; k++) {
		len = max ? sizeof(buf) : rnd(st) % sizeof(buf);
		if (sockx_chan_queue(a, 1, k, buf, len, fds, k % 3) != 0)
			*bad = 1;
	}
	if (sockx_chan_flush(a, T_MS) != 0)
		*bad = 1;
	for (k = 0; k < n; k++)
		if (sockx_chan_recv(b, &m, T_MS) != 1 || m.id != k ||
		    m.nfds != k % 3)
			*bad = 1;
}

/*
 * Once the buffers have grown to the largest batch, 1,000 batches of
 * messages with descriptors cost no allocation at all.  The counter is
 * checked to count (a malloc of the test's own in the window); memcheck
 * replaces every malloc, the shim's included, so under valgrind nothing
 * can be counted and only the plain and ASan runs assert the count.
 */
START_TEST(chan_steady_state_allocates_nothing)
{
	struct alloc_counter ac;
	void *(*volatile do_malloc)(size_t) = malloc;
	sockx_chan *a, *b;
	unsigned long before, calib;
	uint32_t st = 31337;
	int fd, bad = 0, i;
	void *p;

	alloc_counter_init(&ac);
	chan_pair(types[_i], 0, &a, &b);
	fd = tagged_fd("alloc", 0, 0);
	before = alloc_count(&ac);
	alloc_window(&ac, 1);
	p = do_malloc(32);
	alloc_window(&ac, 0);
	calib = alloc_count(&ac) - before;
	free(p);
	/* Under valgrind the workload runs for memcheck, uncounted. */
	ck_assert_msg(calib >= 1 || under_valgrind(),
	    "the allocation counter counts nothing");
	/* Warm-up: the largest batch, twice. */
	batch(a, b, &st, fd, 1, &bad);
	batch(a, b, &st, fd, 1, &bad);
	ck_assert_int_eq(bad, 0);
	before = alloc_count(&ac);
	alloc_window(&ac, 1);
	for (i = 0; i < 1000; i++)
		batch(a, b, &st, fd, 0, &bad);
	alloc_window(&ac, 0);
	ck_assert_int_eq(bad, 0);
	ck_assert_uint_eq(alloc_count(&ac) - before, 0);
	ck_assert_int_eq(close(fd), 0);
	close_chans(a, b);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("chan");
	TCase *tc;

	tc = sx_tcase("messages", 30);
	tcase_add_loop_test(tc, chan_roundtrip_delivers_all_fields, 0, 3);
	tcase_add_loop_test(tc, chan_empty_payload_is_not_eof, 0, 3);
	tcase_add_loop_test(tc, chan_payload_is_aligned, 0, 3);
	tcase_add_loop_test(tc, chan_low_flags_are_ignored, 0, 3);
	tcase_add_loop_test(tc, chan_wire_format_is_documented_header, 0, 3);
	suite_add_tcase(s, tc);
	tc = sx_tcase("stream", 60);
	tcase_add_test(tc, chan_stream_pipeline_associates_fds);
	tcase_add_test(tc, chan_stream_coalesced_pieces_reassemble);
	tcase_add_test(tc, chan_stream_partial_survives_timeout);
	suite_add_tcase(s, tc);
	tc = sx_tcase("protocol", 30);
	tcase_add_loop_test(tc, chan_protocol_error_breaks_receive_side, 0,
	    3 * NBAD);
	tcase_add_test(tc, chan_stream_fd_flood_is_refused);
	tcase_add_loop_test(tc, chan_ctrunc_is_emfile, 0, 3);
	suite_add_tcase(s, tc);
	tc = sx_tcase("ownership", 30);
	tcase_add_loop_test(tc, chan_untaken_fds_closed_by_next_recv, 0, 3);
	tcase_add_loop_test(tc, chan_close_discards_queue_and_dups, 0, 3);
	suite_add_tcase(s, tc);
	tc = sx_tcase("queue", 60);
	tcase_add_loop_test(tc, chan_queue_byte_cap_is_enobufs, 0, 3);
	tcase_add_test(tc, chan_queue_cap_follows_max_len);
	tcase_add_loop_test(tc, chan_queue_fd_cap_is_enobufs, 0, 3);
	tcase_add_loop_test(tc, chan_send_to_stalled_peer_times_out_then_delivers,
	    0, 3);
	tcase_add_loop_test(tc, chan_send_to_closed_peer_is_epipe, 0, 2);
	tcase_add_test(tc, chan_send_partial_write_queues_the_rest_intact);
	tcase_add_test(tc, chan_stream_fds_ride_on_header_start);
	tcase_add_loop_test(tc, chan_events_follow_the_queue, 0, 3);
	tcase_add_loop_test(tc, chan_kernel_timeout_handle_keeps_deadlines, 0,
	    3);
	suite_add_tcase(s, tc);
	tc = sx_tcase("arguments", 30);
	tcase_add_test(tc, chan_open_bad_arguments_are_einval);
	tcase_add_loop_test(tc, chan_queue_bad_arguments_queue_nothing, 0, 3);
	tcase_add_loop_test(tc, chan_queue_packet_too_big_is_emsgsize, 1, 3);
	tcase_add_test(tc, chan_other_bad_arguments_are_einval);
	tcase_add_test(tc, chan_tcp_carries_messages_not_fds);
	suite_add_tcase(s, tc);
	tc = sx_tcase("python", 120);
	tcase_add_loop_test(tc, chan_python_sender_is_understood, 0, 6);
	tcase_add_loop_test(tc, chan_python_receiver_understands, 0, 2);
	suite_add_tcase(s, tc);
	tc = sx_tcase("costs", 120);
	tcase_add_test(tc, chan_buffered_message_costs_no_syscall);
	tcase_add_test(tc, chan_buffered_messages_outlive_readiness);
	tcase_add_loop_test(tc, chan_steady_state_allocates_nothing, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
