/* SPDX-License-Identifier: MIT */
/*
 * fuzz-chan.c - libFuzzer target: a hostile raw peer at the other end of a
 * real AF_UNIX socketpair (stream or seqpacket) against a channel
 * (sockx_chan_*), every answer checked against a model of the protocol.
 *
 * The input is a small program.  Byte 0: bit 0 picks seqpacket (else
 * stream), bits 1-2 max_len (default, 16, 100, 300).  Then each op byte is
 * one step, its arguments after it; the run ends with the input:
 *  0 RAW    the peer sends len input bytes with n descriptors (one
 *           SCM_RIGHTS) in one sendmsg;
 *  1 MSG    the peer sends one message it builds (type, id, len, nfds,
 *           flags), possibly lying about len or its descriptors, possibly
 *           split in two sendmsg calls (the descriptors on the first);
 *  2 SHUT   the peer shuts its writing side down;
 *  3 RECV   sockx_chan_recv(timeout 0), taking the descriptors a mask
 *           picks (copy, store -1);
 *  4 QUEUE  sockx_chan_queue of a message with 0..3 descriptors;
 *  5 FLUSH  sockx_chan_flush(0), then the peer drains what came;
 *  6 SEND   sockx_chan_send(0), then the peer drains;
 *  7 RECVS  sockx_chan_recv(0) until it does not return 1;
 *  8 SHUTRD the peer shuts its reading side down (after draining): every
 *           later write of the channel fails with EPIPE (flush keeps the
 *           queue, send takes its message back);
 *  9 BAD    calls with bad arguments (NULL, too many descriptors, an
 *           invalid descriptor after a valid one): exact errors, nothing
 *           queued, no descriptor left over.
 * Every descriptor the peer sends is a fresh memfd whose inode is recorded
 * at send time under a number (its place in the order sent), so a
 * received descriptor names the message it belongs to.
 *
 * The model knows what the kernel does: a unix stream recvmsg glues the
 * queued sends together and stops after the first send that carried
 * descriptors (at most one SCM_RIGHTS per read; the channel's read buffer
 * is never the limit here: an input sends at most BUDGET bytes), and it
 * knows the protocol of API.md ("1.1: channels"): association by count on
 * a stream, exactly one packet per message with exactly its descriptors,
 * every protocol error (-EBADMSG, then broken for good; the flood rule
 * checked after each read), end of stream at and inside a message.  It
 * checks each result, each message's type, id, flags, payload (aligned),
 * its descriptors (number, which files, close-on-exec), what the peer
 * reads from the channel (bytes, descriptors with their header), and,
 * after every op, the number of open descriptors: exactly what the model
 * says the channel holds (unclaimed, the last message's, queued) and no
 * more.  After each input the channel is closed and the descriptor table
 * must be as before (ASan's leak check covers memory).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sockx.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR		16
#define MAX_OPS		512	/* sends the model holds */
#define BUDGET		(24 * 1024)	/* peer bytes per input */
#define MAX_IDS		800	/* peer descriptors per input */
#define OUT_BUDGET	(16 * 1024)	/* channel bytes per input */
#define OUT_IDS		192	/* descriptors the channel queues */
#define MAX_FDS		253

#define require(cond) \
	do { if (!(cond)) failed(__LINE__, #cond); } while (0)

__attribute__((noreturn)) static void
failed(int line, const char *what)
{
	fprintf(stderr, "fuzz-chan.c:%d: check failed: %s\n", line, what);
	abort();
}

static int proc_fd = -1;

/* The number of open descriptors. */
static size_t
census(void)
{
	char buf[8192];
	unsigned short reclen;
	size_t k = 0;
	ssize_t n, off;
	const char *name;

	require(lseek(proc_fd, 0, SEEK_SET) == 0);
	while ((n = getdents64(proc_fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += reclen) {
			memcpy(&reclen, buf + off +
			    offsetof(struct dirent64, d_reclen),
			    sizeof(reclen));
			name = buf + off + offsetof(struct dirent64, d_name);
			if (name[0] != '.')
				k++;
		}
	}
	require(n == 0);
	return k;
}

struct input {
	const uint8_t *p;
	size_t n;
};

static int
more(const struct input *in)
{
	return in->n > 0;
}

static uint8_t
u8(struct input *in)
{
	uint8_t b = 0;

	if (in->n > 0) {
		b = *in->p++;
		in->n--;
	}
	return b;
}

/* One send of the peer, queued in the kernel. */
struct skb {
	size_t off, len;	/* in wire (stream) or pkt bytes */
	unsigned id0, nids;	/* its descriptors: ids id0.. */
};

struct state {
	int packets;
	size_t max_len;
	sockx_chan *c;
	int peer;
	size_t base;		/* descriptors open before the input */

	/* Peer to channel. */
	uint8_t wire[BUDGET];	/* every byte the peer sent, in order */
	size_t wire_len;
	struct skb q[MAX_OPS];	/* sends not yet read: q[qh..qn) */
	unsigned qh, qn;
	ino_t ino[MAX_IDS];	/* the file of each descriptor id */
	unsigned nids;
	int shut;
	int rd_shut;		/* the peer no longer reads: EPIPE */

	/* The channel's receive side, as the model sees it. */
	size_t rd;		/* stream: wire bytes read by the channel */
	size_t parsed;		/* stream: wire bytes handed out */
	unsigned fifo_lo, fifo_hi;	/* unclaimed descriptor ids */
	unsigned held;		/* the last message's, not taken */
	int broken;

	/* Channel to peer. */
	uint8_t out[OUT_BUDGET];	/* what the peer must read */
	size_t out_len, out_read;
	ino_t out_ino[OUT_IDS];	/* the queued descriptors, in order */
	size_t out_at[OUT_IDS];	/* the header offset each belongs to */
	unsigned out_n, out_got;
	unsigned out_held;	/* the channel's duplicates not yet sent */
};

static void
check_count(const struct state *st)
{
	size_t want = st->base + 2 + (st->fifo_hi - st->fifo_lo) + st->held +
	    st->out_held;

	if (census() != want) {
		fprintf(stderr, "fuzz-chan: %zu descriptors open, model %zu "
		    "(unclaimed %u, message %u, queued %u)\n", census(), want,
		    st->fifo_hi - st->fifo_lo, st->held, st->out_held);
		failed(__LINE__, "descriptor count");
	}
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

struct hdr {
	uint32_t len, type, id;
	unsigned nfds, flags;
};

static void
get_hdr(const uint8_t *p, struct hdr *h)
{
	h->len = get32(p);
	h->type = get32(p + 4);
	h->id = get32(p + 8);
	h->nfds = p[12] | p[13] << 8;
	h->flags = p[14] | p[15] << 8;
}

static int
bad_hdr(const struct state *st, const struct hdr *h)
{
	return h->len > st->max_len || h->nfds > MAX_FDS ||
	    (h->flags & 0xff00) || h->type >= 0xFFFF0000u;
}

/* ------------------------------------------------------------------ */
/* The peer                                                            */
/* ------------------------------------------------------------------ */

/* Send len bytes at buf with k fresh descriptors; returns if sent. */
static void
peer_send(struct state *st, const uint8_t *buf, size_t len, unsigned k)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	struct stat sb;
	int fds[MAX_FDS];
	unsigned i;
	ssize_t n;

	if (k > MAX_FDS)
		k = MAX_FDS;
	if (!st->packets && len == 0)
		k = 0;		/* a stream drops them: nothing to send */
	if (st->shut || st->qn >= MAX_OPS || st->wire_len + len > BUDGET ||
	    st->nids + k > MAX_IDS || (!st->packets && len == 0))
		return;
	for (i = 0; i < k; i++) {
		fds[i] = memfd_create("fuzz-chan", MFD_CLOEXEC);
		require(fds[i] >= 0 && fstat(fds[i], &sb) == 0);
		st->ino[st->nids + i] = sb.st_ino;
	}
	if (k > 0) {
		memset(&control, 0, sizeof(control));
		m.msg_control = control.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * k);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * k);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * k);
	}
	n = sendmsg(st->peer, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	for (i = 0; i < k; i++)
		require(close(fds[i]) == 0);
	require(n == (ssize_t)len);
	if (len > 0)
		memcpy(st->wire + st->wire_len, buf, len);
	st->q[st->qn].off = st->wire_len;
	st->q[st->qn].len = len;
	st->q[st->qn].id0 = st->nids;
	st->q[st->qn].nids = k;
	st->qn++;
	st->wire_len += len;
	st->nids += k;
}

static unsigned
nfds_of(uint8_t b)
{
	if (b < 160)
		return b % 4;
	if (b < 250)
		return b - 150;		/* 10..99 */
	return 248 + (b - 250);		/* 248..253 */
}

static void
op_raw(struct state *st, struct input *in)
{
	uint8_t buf[256];
	size_t len = u8(in), i;

	for (i = 0; i < len; i++)
		buf[i] = u8(in);
	peer_send(st, buf, len, nfds_of(u8(in)));
}

static void
op_msg(struct state *st, struct input *in)
{
	uint8_t buf[HDR + 600];
	uint8_t tb = u8(in), id = u8(in), lb = u8(in), nb = u8(in);
	uint8_t fl = u8(in), lie = u8(in), split = u8(in);
	size_t len = lb < 240 ? lb : 300 + (lb - 240) * 16, i, sp;
	uint32_t type = tb < 0xF0 ? tb : 0xFFFF0000u | tb;
	unsigned nfds = nfds_of(nb), flags = 0, hnfds = nfds;
	uint32_t hlen = (uint32_t)len;

	if (fl >= 128 && fl < 192)
		flags = fl & 0xff;		/* ignored bits */
	else if (fl >= 192)
		flags = 1u << (8 + fl % 8);	/* fatal bits */
	if (lie >= 200 && lie < 220)
		hnfds = (int)nfds + lie - 210 < 0 ? 0 :
		    (unsigned)((int)nfds + lie - 210);
	else if (lie >= 220 && lie < 240)
		hlen = (int)len + lie - 230 < 0 ? 0 :
		    (uint32_t)((int)len + lie - 230);
	else if (lie >= 240)
		hnfds = 254 + (lie - 240);	/* more than 253 */
	put32(buf, hlen);
	put32(buf + 4, type);
	put32(buf + 8, id);
	buf[12] = (uint8_t)hnfds;
	buf[13] = (uint8_t)(hnfds >> 8);
	buf[14] = (uint8_t)flags;
	buf[15] = (uint8_t)(flags >> 8);
	for (i = 0; i < len; i++)
		buf[HDR + i] = (uint8_t)(i * 7 + id);
	sp = split == 0 ? 0 : split % (HDR + len);
	if (sp == 0 || st->packets) {
		peer_send(st, buf, HDR + len, nfds);
	} else {
		peer_send(st, buf, sp, nfds);
		peer_send(st, buf + sp, HDR + len - sp, 0);
	}
}

/* The peer reads what the channel sent and checks it against st->out. */
static void
peer_drain(struct state *st)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} control;
	uint8_t buf[OUT_BUDGET + 64];
	struct iovec iov;
	struct msghdr m;
	struct cmsghdr *cm;
	struct stat sb;
	size_t k, i;
	ssize_t n;
	int fd;

	while (!st->rd_shut) {
		memset(&m, 0, sizeof(m));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = control.buf;
		m.msg_controllen = sizeof(control.buf);
		n = recvmsg(st->peer, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			require(errno == EAGAIN);
			break;
		}
		require(n > 0);
		require((m.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) == 0);
		require(st->out_read + (size_t)n <= st->out_len);
		require(memcmp(buf, st->out + st->out_read, (size_t)n) == 0);
		if (st->packets) {
			/* One message per packet. */
			require((size_t)n == HDR + get32(buf));
		}
		for (cm = CMSG_FIRSTHDR(&m); cm != NULL;
		    cm = CMSG_NXTHDR(&m, cm)) {
			require(cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS);
			k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < k; i++) {
				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				    sizeof(fd));
				require(st->out_got < st->out_n);
				require(fstat(fd, &sb) == 0);
				require(sb.st_ino == st->out_ino[st->out_got]);
				/* With its header, never before or after. */
				require(st->out_at[st->out_got] >=
				    st->out_read);
				require(st->out_at[st->out_got] <
				    st->out_read + (size_t)n);
				st->out_got++;
				require(close(fd) == 0);
			}
		}
		st->out_read += (size_t)n;
	}
}

/* ------------------------------------------------------------------ */
/* The model of the receive side                                       */
/* ------------------------------------------------------------------ */

/* The descriptors announced from parsed to the first incomplete or bad. */
static size_t
announced(const struct state *st)
{
	size_t at = st->parsed, sum = 0;
	struct hdr h;

	while (st->rd - at >= HDR) {
		get_hdr(st->wire + at, &h);
		if (bad_hdr(st, &h))
			break;
		sum += h.nfds;
		if (st->rd - at - HDR < h.len)
			break;
		at += HDR + h.len;
	}
	return sum;
}

static void
model_break(struct state *st)
{
	st->fifo_lo = st->fifo_hi;
	st->broken = 1;
}

/*
 * What the next recv must return: 1 with *h, *data and *id0 (the first
 * descriptor id), 0, -ETIMEDOUT or -EBADMSG; updates the model as the
 * channel must.
 */
static int
model_recv(struct state *st, struct hdr *h, const uint8_t **data,
    unsigned *id0)
{
	struct skb *b;
	size_t avail, n;

	st->held = 0;
	if (st->broken)
		return -EBADMSG;
	if (st->packets) {
		if (st->qh == st->qn)
			return st->shut ? 0 : -ETIMEDOUT;
		b = &st->q[st->qh++];
		if (b->len == 0 && b->nids == 0)
			return 0;
		if (b->len < HDR) {
			model_break(st);
			return -EBADMSG;
		}
		get_hdr(st->wire + b->off, h);
		if (bad_hdr(st, h) || b->len != HDR + h->len ||
		    b->nids != h->nfds) {
			model_break(st);
			return -EBADMSG;
		}
		*data = st->wire + b->off + HDR;
		*id0 = b->id0;
		st->held = h->nfds;
		return 1;
	}
	for (;;) {
		avail = st->rd - st->parsed;
		if (avail >= HDR) {
			get_hdr(st->wire + st->parsed, h);
			if (bad_hdr(st, h) ||
			    st->fifo_hi - st->fifo_lo < h->nfds) {
				model_break(st);
				return -EBADMSG;
			}
			if (avail - HDR >= h->len) {
				*data = st->wire + st->parsed + HDR;
				*id0 = st->fifo_lo;
				st->fifo_lo += h->nfds;
				st->held = h->nfds;
				st->parsed += HDR + h->len;
				return 1;
			}
		}
		/* One read: glued sends, up to one that carries fds. */
		if (st->qh == st->qn) {
			if (!st->shut)
				return -ETIMEDOUT;
			if (avail > 0) {
				model_break(st);
				return -EBADMSG;
			}
			st->fifo_lo = st->fifo_hi;	/* strays */
			return 0;
		}
		n = 0;
		while (st->qh < st->qn) {
			b = &st->q[st->qh++];
			n += b->len;
			require(b->id0 == st->fifo_hi);
			st->fifo_hi += b->nids;
			if (b->nids > 0)
				break;
		}
		st->rd += n;
		if (st->fifo_hi - st->fifo_lo > MAX_FDS &&
		    st->fifo_hi - st->fifo_lo > announced(st) + MAX_FDS) {
			model_break(st);
			return -EBADMSG;
		}
	}
}

static void
check_fd(const struct state *st, int fd, unsigned id)
{
	struct stat sb;

	require(fd >= 0);
	require(id < st->nids);
	require(fstat(fd, &sb) == 0);
	require(sb.st_ino == st->ino[id]);
	require(fcntl(fd, F_GETFD) == FD_CLOEXEC);
}

/* One recv, checked; 1 if it returned a message. */
static int
op_recv(struct state *st, uint8_t mask)
{
	struct sockx_msg m;
	struct hdr h;
	const uint8_t *data = NULL;
	unsigned id0 = 0;
	int want, r, taken[MAX_FDS];
	size_t i, nt = 0;

	want = model_recv(st, &h, &data, &id0);
	errno = 0;
	memset(&m, 0x5a, sizeof(m));
	r = sockx_chan_recv(st->c, &m, 0);
	if (r != want)
		fprintf(stderr, "fuzz-chan: recv %d, model %d\n", r, want);
	require(r == want);
	require(r >= 0 || errno == -r);
	if (r == 1) {
		require(m.type == h.type && m.id == h.id);
		require(m.flags == h.flags);
		require(m.len == h.len && m.nfds == h.nfds);
		require(m.reserved[0] == 0 && m.reserved[1] == 0 &&
		    m.reserved[2] == 0);
		require((uintptr_t)m.data % alignof(max_align_t) == 0);
		require(m.len == 0 || memcmp(m.data, data, m.len) == 0);
		for (i = 0; i < m.nfds; i++) {
			check_fd(st, m.fds[i], id0 + (unsigned)i);
			if (mask & (1u << (i % 8))) {
				taken[nt++] = m.fds[i];
				m.fds[i] = -1;
			}
		}
		st->held -= (unsigned)nt;
	}
	for (i = 0; i < nt; i++)
		require(close(taken[i]) == 0);
	return r == 1;
}

/* ------------------------------------------------------------------ */
/* The send side                                                       */
/* ------------------------------------------------------------------ */

static void
op_queue(struct state *st, struct input *in, int send)
{
	uint8_t tb = u8(in), lb = u8(in), nb = u8(in);
	uint32_t type = tb < 0xF8 ? tb : 0xFFFF0000u | tb;
	size_t len = lb, i;
	unsigned nfds = nb % 4;
	uint8_t buf[256];
	struct stat sb;
	int fds[4], r, want = 0;

	if (st->out_len + HDR + len > OUT_BUDGET || st->out_n + nfds > OUT_IDS)
		return;
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i + tb);
	for (i = 0; i < nfds; i++) {
		fds[i] = memfd_create("fuzz-chan-out", MFD_CLOEXEC);
		require(fds[i] >= 0 && fstat(fds[i], &sb) == 0);
		st->out_ino[st->out_n + i] = sb.st_ino;
	}
	if (type >= 0xFFFF0000u)
		want = -EINVAL;
	else if (len > st->max_len)
		want = -EMSGSIZE;
	else if (send && st->rd_shut)
		want = -EPIPE;		/* and taken back */
	errno = 0;
	if (send)
		r = sockx_chan_send(st->c, type, tb, buf, len, fds, nfds, 0);
	else
		r = sockx_chan_queue(st->c, type, tb, buf, len, fds, nfds);
	require(r == want);
	require(r == 0 || errno == -r);
	for (i = 0; i < nfds; i++)
		require(close(fds[i]) == 0);
	if (r < 0)
		return;
	put32(st->out + st->out_len, (uint32_t)len);
	put32(st->out + st->out_len + 4, type);
	put32(st->out + st->out_len + 8, tb);
	st->out[st->out_len + 12] = (uint8_t)nfds;
	st->out[st->out_len + 13] = 0;
	st->out[st->out_len + 14] = 0;
	st->out[st->out_len + 15] = 0;
	memcpy(st->out + st->out_len + HDR, buf, len);
	for (i = 0; i < nfds; i++)
		st->out_at[st->out_n + i] = st->out_len;
	st->out_n += nfds;
	st->out_len += HDR + len;
	if (send)
		st->out_held = 0;	/* all written */
	else
		st->out_held += nfds;
	require(sockx_chan_pending(st->c) == (send ? 0 :
	    st->out_len - st->out_read));
	require(sockx_chan_events(st->c) == (SOCKX_READABLE |
	    (send ? 0 : SOCKX_WRITABLE)));
	if (send)
		peer_drain(st);
}

static void
op_flush(struct state *st)
{
	size_t pending = st->out_len - st->out_read;

	if (st->rd_shut) {
		errno = 0;
		require(sockx_chan_flush(st->c, 0) == (pending > 0 ? -EPIPE :
		    0));
		require(pending == 0 || errno == EPIPE);
		require(sockx_chan_pending(st->c) == pending);
		return;
	}
	require(sockx_chan_flush(st->c, 0) == 0);
	require(sockx_chan_pending(st->c) == 0);
	require(sockx_chan_events(st->c) == SOCKX_READABLE);
	st->out_held = 0;
	peer_drain(st);
	require(st->out_read == st->out_len && st->out_got == st->out_n);
}

/* ------------------------------------------------------------------ */
/* One input                                                           */
/* ------------------------------------------------------------------ */

static void
op_shut_rd(struct state *st)
{
	if (st->rd_shut)
		return;
	/* Written already: read it first; queued: it stays queued. */
	peer_drain(st);
	require(shutdown(st->peer, SHUT_RD) == 0);
	st->rd_shut = 1;
}

/* Calls with bad arguments: exact errors, nothing queued or leaked. */
static void
op_bad(struct state *st, uint8_t b)
{
	size_t pending = sockx_chan_pending(st->c);
	struct sockx_msg m;
	int fds[SOCKX_MAX_FDS + 1], i;

	switch (b % 6) {
	case 0:
		require(sockx_chan_recv(st->c, NULL, 0) == -EINVAL);
		require(errno == EINVAL);
		require(sockx_chan_recv(NULL, &m, 0) == -EINVAL);
		break;
	case 1:
		require(sockx_chan_queue(st->c, 1, 1, "x", 1, NULL, 2) ==
		    -EINVAL);
		require(sockx_chan_send(st->c, 1, 1, NULL, 3, NULL, 0, 0) ==
		    -EINVAL);
		break;
	case 2:
		for (i = 0; i <= SOCKX_MAX_FDS; i++)
			fds[i] = st->peer;
		require(sockx_chan_queue(st->c, 1, 1, "x", 1, fds,
		    SOCKX_MAX_FDS + 1) == -EINVAL);
		require(sockx_chan_send(st->c, 0xFFFF0000u, 1, NULL, 0, NULL,
		    0, 0) == -EINVAL);
		break;
	case 3:
		/* The first is duplicated, the second fails: none kept. */
		fds[0] = st->peer;
		fds[1] = -1;
		fds[2] = st->peer;
		errno = 0;
		require(sockx_chan_queue(st->c, 1, 1, NULL, 0, fds, 3) ==
		    -EBADF);
		require(errno == EBADF);
		require(sockx_chan_send(st->c, 1, 1, NULL, 0, fds, 2, 0) ==
		    -EBADF);
		break;
	case 4:
		require(sockx_chan_flush(NULL, 0) == -EINVAL);
		require(sockx_chan_events(NULL) == -EINVAL);
		require(sockx_chan_pending(NULL) == 0);
		require(sockx_chan_handle(NULL) == NULL && errno == EINVAL);
		require(sockx_chan_close(NULL) == 0);
		break;
	default:
		require(sockx_chan_handle(st->c) != NULL);
		require(sockx_chan_recv(st->c, &m, -2) == -EINVAL);
		require(sockx_chan_flush(st->c, -2) == -EINVAL);
		break;
	}
	require(sockx_chan_pending(st->c) == pending);
}

static const size_t max_lens[4] = { 0, 16, 100, 300 };

static void
run(struct state *st, struct input *in)
{
	uint8_t cfg = u8(in);
	int sp[2], ops = 0;
	sockx *s;

	memset(st, 0, sizeof(*st));
	st->base = census();
	st->packets = cfg & 1;
	st->max_len = max_lens[(cfg >> 1) & 3];
	require(socketpair(AF_UNIX, (st->packets ? SOCK_SEQPACKET :
	    SOCK_STREAM) | SOCK_CLOEXEC, 0, sp) == 0);
	st->peer = sp[1];
	require(sockx_adopt(&s, sp[0]) == 0);
	require(sockx_chan_open(&st->c, s, st->max_len, 0) == 0);
	if (st->max_len == 0)
		st->max_len = SOCKX_CHAN_DEFAULT_MAX;
	while (more(in) && ops++ < MAX_OPS) {
		switch (u8(in) % 10) {
		case 0:
			op_raw(st, in);
			break;
		case 1:
			op_msg(st, in);
			break;
		case 2:
			if (!st->shut)
				require(shutdown(st->peer, SHUT_WR) == 0);
			st->shut = 1;
			break;
		case 3:
			op_recv(st, u8(in));
			break;
		case 4:
			op_queue(st, in, 0);
			break;
		case 5:
			op_flush(st);
			break;
		case 6:
			op_queue(st, in, 1);
			break;
		case 7:
			while (op_recv(st, 0x55))
				continue;
			break;
		case 8:
			op_shut_rd(st);
			break;
		default:
			op_bad(st, u8(in));
			break;
		}
		check_count(st);
	}
	require(sockx_chan_close(st->c) == 0);
	require(close(st->peer) == 0);
	require(census() == st->base);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rlimit rl;

	(void)argc;
	(void)argv;
	proc_fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	require(proc_fd >= 0);
	/* Room for the descriptors an input holds at once. */
	require(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	if (rl.rlim_cur < 4096 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		require(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state st;
	struct input in = { data, size };

	if (size == 0)
		return 0;
	run(&st, &in);
	return 0;
}
