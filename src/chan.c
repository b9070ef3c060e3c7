/* SPDX-License-Identifier: MIT */
/*
 * chan.c - channels: typed messages that carry descriptors, over one
 * connected stream, seqpacket or datagram socket.  A message is a 16-byte
 * little-endian header (len, type, id: u32; nfds, flags: u16) and len
 * payload bytes; its descriptors ride, as one SCM_RIGHTS control message,
 * on the sendmsg(2) whose first byte is the first byte of its header.
 *
 * Output: one byte queue (out[out_head..out_tail)) of encoded messages,
 * the channel's own duplicates of their descriptors in a ring (out_fds)
 * and, for each message that carries some, a record of where its header
 * starts in the stream (rec).  A sendmsg starts either at a record, and
 * then carries its descriptors, or anywhere else, and then ends before
 * the next record: a batch is split at every message with descriptors.
 *
 * Input, stream: one growable buffer read ahead as far as it has room,
 * and one FIFO of every descriptor that arrived (in_fds); each message
 * takes the next nfds of them.  Input, packets: one packet per message,
 * which must carry exactly its nfds descriptors.  Payloads are handed out
 * aligned for any type: a payload that does not start aligned is moved
 * back over its own, already parsed, header.
 *
 * Invariants: every descriptor is held in exactly one place (out_fds,
 * in_fds, mfds: the caller's view of the last message) and closed by
 * whoever empties that place; in_fds never holds more than the buffered
 * headers announce plus SOCKX_MAX_FDS after a read (more is a protocol
 * error that breaks the receive side); once broken, the receive side holds
 * nothing.  No memory is allocated per message once the buffers have
 * grown to the largest message.  No static state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04	/* Linux 6.5; arrives only with SO_PASSPIDFD */
#endif

#define HDR		SOCKX_CHAN_HEADER
#define LEN_LIMIT	((size_t)1 << 30)	/* the largest max_len */
#define QUEUE_BYTES	((size_t)16 << 20)	/* at least, see out_max */
#define RING		1024	/* descriptors queued, and held on input */
#define IN_MIN		65536	/* the stream read buffer, at least */
#define OUT_MIN		4096
#define UDP_MAX		65507	/* the largest UDP payload over IPv4 */
#define FLAGS_FATAL	0xff00u	/* header flags an old receiver must refuse */

/*
 * Room for one packet's descriptors (the kernel's limit per sendmsg), the
 * credentials (a caller may have set SO_PASSCRED on the handle) and a
 * pidfd.
 */
#define CONTROL_SIZE \
	(CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS) + \
	CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int)))

/* A payload moved back over its header stays inside its own message. */
_Static_assert(alignof(max_align_t) <= HDR, "payload alignment");
_Static_assert(RING >= 3 * SOCKX_MAX_FDS, "input ring too small");

struct hdr {
	uint32_t len;
	uint32_t type;
	uint32_t id;
	uint16_t nfds;
	uint16_t flags;
};

/* A FIFO of descriptors. */
struct ring {
	int fd[RING];
	unsigned head;
	unsigned n;
};

/* A queued message that carries descriptors: where its header starts. */
struct rec {
	uint64_t pos;		/* in the stream of bytes ever queued */
	unsigned nfds;
};

struct sockx_chan {
	sockx *s;
	size_t max_len;
	size_t packet_max;	/* seqpacket, datagram: largest packet */
	int packets;		/* seqpacket or datagram */

	char *out;		/* queued bytes: out[out_head..out_tail) */
	size_t out_cap;
	size_t out_head;
	size_t out_tail;
	size_t out_max;		/* the cap of out_tail - out_head */
	uint64_t sent;		/* stream position of out[out_head] */
	struct ring out_fds;	/* the descriptors of the records, in order */
	struct rec rec[RING];	/* ring: rec_head, rec_n */
	unsigned rec_head;
	unsigned rec_n;

	char *in;		/* received bytes: in[in_off..in_len) unparsed */
	size_t in_cap;
	size_t in_off;
	size_t in_len;
	struct ring in_fds;	/* stream: every descriptor not yet claimed */
	int mfds[SOCKX_MAX_FDS];	/* the last message's, until next recv */
	size_t mnfds;
	int broken;		/* the receive side broke: -EBADMSG from now */
};

/* ---------------------------------------------------------------- */
/* Small helpers                                                     */
/* ---------------------------------------------------------------- */

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
put_hdr(char *buf, const struct hdr *h)
{
	unsigned char *p = (unsigned char *)buf;

	put32(p, h->len);
	put32(p + 4, h->type);
	put32(p + 8, h->id);
	p[12] = (unsigned char)h->nfds;
	p[13] = (unsigned char)(h->nfds >> 8);
	p[14] = (unsigned char)h->flags;
	p[15] = (unsigned char)(h->flags >> 8);
}

static void
get_hdr(const char *buf, struct hdr *h)
{
	const unsigned char *p = (const unsigned char *)buf;

	h->len = get32(p);
	h->type = get32(p + 4);
	h->id = get32(p + 8);
	h->nfds = (uint16_t)(p[12] | p[13] << 8);
	h->flags = (uint16_t)(p[14] | p[15] << 8);
}

/* A header no message of this channel may have: a protocol error. */
static int
bad_hdr(const struct sockx_chan *c, const struct hdr *h)
{
	return h->len > c->max_len || h->nfds > SOCKX_MAX_FDS ||
	    (h->flags & FLAGS_FATAL) || h->type >= SOCKX_CHAN_TYPE_RESERVED;
}

static void
ring_push(struct ring *r, int fd)
{
	r->fd[(r->head + r->n++) % RING] = fd;
}

static int
ring_pop(struct ring *r)
{
	int fd = r->fd[r->head];

	r->head = (r->head + 1) % RING;
	r->n--;
	return fd;
}

static void
ring_close_all(struct ring *r)
{
	while (r->n > 0)
		close(ring_pop(r));
}

static void
close_fds(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---------------------------------------------------------------- */
/* Output                                                            */
/* ---------------------------------------------------------------- */

/*
 * Arguments every message to send must pass, before anything is
 * duplicated or queued.
 */
static int
check_msg(const struct sockx_chan *c, uint32_t type, const void *buf,
    size_t len, const int *fds, size_t nfds)
{
	if (c == NULL || (buf == NULL && len > 0) || nfds > SOCKX_MAX_FDS ||
	    (fds == NULL && nfds > 0) || type >= SOCKX_CHAN_TYPE_RESERVED)
		return -EINVAL;
	if (len > c->max_len || (c->packets && HDR + len > c->packet_max))
		return -EMSGSIZE;
	if (nfds > 0 && c->s->family != AF_UNIX)
		return -EOPNOTSUPP;
	return 0;
}

/* The queue has room for one more message of len bytes and nfds fds. */
static int
fits(const struct sockx_chan *c, size_t len, size_t nfds)
{
	return c->out_tail - c->out_head + HDR + len <= c->out_max &&
	    c->out_fds.n + nfds <= RING;
}

/* The channel's own close-on-exec copies of fds: 0 or -errno (none). */
static int
dup_fds(const int *fds, size_t nfds, int *dups)
{
	size_t i;
	int r;

	for (i = 0; i < nfds; i++) {
		dups[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (dups[i] < 0) {
			r = -errno;
			close_fds(dups, i);
			return r;
		}
	}
	return 0;
}

/*
 * Room for n more bytes after out_tail: move the queue to the front when
 * that leaves at least half of the buffer free (so each byte is moved a
 * bounded number of times), else grow.
 */
static int
out_reserve(struct sockx_chan *c, size_t n)
{
	size_t pending = c->out_tail - c->out_head, cap;
	char *p;

	if (c->out_cap - c->out_tail >= n)
		return 0;
	if (pending + n > c->out_cap / 2) {
		cap = c->out_cap > 0 ? c->out_cap : OUT_MIN;
		while (cap < pending + n)
			cap = cap > SIZE_MAX / 2 ? pending + n : cap * 2;
		p = realloc(c->out, cap);
		if (p == NULL)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memmove(c->out, c->out + c->out_head, pending);
	c->out_head = 0;
	c->out_tail = pending;
	return 0;
}

/* Append a checked message that fits, with dups the channel's copies. */
static int
append(struct sockx_chan *c, uint32_t type, uint32_t id, const void *buf,
    size_t len, const int *dups, size_t nfds)
{
	struct hdr h = { (uint32_t)len, type, id, (uint16_t)nfds, 0 };
	struct rec *rc;
	size_t i;
	int r;

	r = out_reserve(c, HDR + len);
	if (r < 0)
		return r;
	put_hdr(c->out + c->out_tail, &h);
	if (len > 0)
		memcpy(c->out + c->out_tail + HDR, buf, len);
	if (nfds > 0) {
		rc = &c->rec[(c->rec_head + c->rec_n++) % RING];
		rc->pos = c->sent + (c->out_tail - c->out_head);
		rc->nfds = (unsigned)nfds;
		for (i = 0; i < nfds; i++)
			ring_push(&c->out_fds, dups[i]);
	}
	c->out_tail += HDR + len;
	return 0;
}

/* Take the bytes [out_head, out_head + n) off the queue. */
static void
consume_out(struct sockx_chan *c, size_t n)
{
	c->out_head += n;
	c->sent += n;
	if (c->out_head == c->out_tail)
		c->out_head = c->out_tail = 0;
}

/* The record at the head has gone out (or is dropped): close its fds. */
static void
pop_rec(struct sockx_chan *c)
{
	unsigned i, n = c->rec[c->rec_head].nfds;

	for (i = 0; i < n; i++)
		close(ring_pop(&c->out_fds));
	c->rec_head = (c->rec_head + 1) % RING;
	c->rec_n--;
}

/*
 * One sendmsg(2) from the head of the queue: the bytes sent, or -errno.
 * On a stream it sends up to the next message that carries descriptors,
 * or from such a message, with them, up to the one after; on packets,
 * one message.
 */
static ssize_t
send_once(struct sockx_chan *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	const struct rec *rc = c->rec_n > 0 ? &c->rec[c->rec_head] : NULL;
	const struct rec *next;
	struct cmsghdr *cm;
	size_t len = c->out_tail - c->out_head;
	unsigned i;
	ssize_t n;
	int fd;

	if (c->packets)
		len = HDR + get32((unsigned char *)c->out + c->out_head);
	if (rc != NULL && rc->pos == c->sent) {
		/* Zeroed: the padding after the last fd is sent too. */
		m.msg_control = control.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * rc->nfds);
		memset(control.buf, 0, m.msg_controllen);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * rc->nfds);
		for (i = 0; i < rc->nfds; i++) {
			fd = c->out_fds.fd[(c->out_fds.head + i) % RING];
			memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(fd));
		}
		next = c->rec_n > 1 ? &c->rec[(c->rec_head + 1) % RING] : NULL;
	} else {
		next = rc;
	}
	if (!c->packets && next != NULL && next->pos - c->sent < len)
		len = (size_t)(next->pos - c->sent);
	iov.iov_base = c->out + c->out_head;
	iov.iov_len = len;
	/* MSG_DONTWAIT: a handle in kernel-timeout mode is blocking. */
	n = sendmsg(c->s->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (m.msg_control != NULL)
		pop_rec(c);
	/* A packet goes whole or not at all. */
	consume_out(c, c->packets ? len : (size_t)n);
	return n;
}

/* Drop the packet at the head of the queue, which the socket refused. */
static void
drop_head(struct sockx_chan *c)
{
	size_t len = HDR + get32((unsigned char *)c->out + c->out_head);

	if (c->rec_n > 0 && c->rec[c->rec_head].pos == c->sent)
		pop_rec(c);
	consume_out(c, len);
}

/* What a flush must reach before it stops. */
struct goal {
	uint64_t sent;		/* this stream position is sent */
	int room;		/* and, if room, a message of: */
	size_t len;		/* len bytes */
	size_t nfds;		/* and nfds descriptors fits */
};

static int
reached(const struct sockx_chan *c, const struct goal *g)
{
	/* An empty queue has room for any message that passed check_msg. */
	if (c->out_tail == c->out_head)
		return 1;
	return c->sent >= g->sent && (!g->room || fits(c, g->len, g->nfds));
}

/*
 * Write until the goal is reached, within dl: 0, -ETIMEDOUT or the
 * socket's error.  EINTR is resumed; the kernel's transient ENOBUFS is
 * retried after a backoff sleep.
 */
static int
flush_dl(struct sockx_chan *c, const struct goal *g,
    const struct sx_deadline *dl)
{
	struct sx_retry rt = SX_RETRY_INIT;
	int64_t step = SX_BACKOFF_MIN_NS;
	ssize_t n;
	int r;

	while (!reached(c, g)) {
		n = send_once(c);
		if (n >= 0) {
			rt.was_ready = 0;
			continue;
		}
		if (n == -EINTR)
			continue;
		if (n == -ENOBUFS) {
			if (sx_deadline_expired(dl))
				return -ETIMEDOUT;
			sx_backoff(dl, &step);
			continue;
		}
		if (n == -EMSGSIZE && c->packets) {
			/* SO_SNDBUF shrank: a packet that would wedge the queue. */
			drop_head(c);
			return -EMSGSIZE;
		}
		if (n != -EAGAIN)
			return (int)n;
		r = sx_wait_retry(&rt, c->s->fd, SOCKX_WRITABLE, dl);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Take the message queued at stream position pos (the last one) off the
 * queue again, with whatever of it is not yet sent.
 */
static void
unqueue_from(struct sockx_chan *c, uint64_t pos)
{
	struct rec *rc;
	unsigned i;

	if (pos < c->sent)
		pos = c->sent;
	if (pos - c->sent >= c->out_tail - c->out_head)
		return;
	c->out_tail = c->out_head + (size_t)(pos - c->sent);
	while (c->rec_n > 0) {
		rc = &c->rec[(c->rec_head + c->rec_n - 1) % RING];
		if (rc->pos < pos)
			break;
		for (i = 0; i < rc->nfds; i++)
			close(c->out_fds.fd[(c->out_fds.head + --c->out_fds.n) %
			    RING]);
		c->rec_n--;
	}
	if (c->out_head == c->out_tail)
		c->out_head = c->out_tail = 0;
}

/* ---------------------------------------------------------------- */
/* Input                                                             */
/* ---------------------------------------------------------------- */

/* Close the descriptors of the last message that the caller left. */
static void
release_msg(struct sockx_chan *c)
{
	close_fds(c->mfds, c->mnfds);
	c->mnfds = 0;
}

/* The receive side broke: hold nothing, refuse from now on; returns r. */
static int
break_rx(struct sockx_chan *c, int r)
{
	release_msg(c);
	ring_close_all(&c->in_fds);
	free(c->in);
	c->in = NULL;
	c->in_cap = c->in_off = c->in_len = 0;
	c->broken = 1;
	return r;
}

static void
fill_msg(struct sockx_msg *m, const struct hdr *h, void *data, int *fds)
{
	memset(m, 0, sizeof(*m));
	m->type = h->type;
	m->id = h->id;
	m->data = data;
	m->len = h->len;
	m->fds = fds;
	m->nfds = h->nfds;
	m->flags = h->flags;
}

/*
 * The descriptors of one received control block: SCM_RIGHTS ones to fds
 * (room for cap; *n counts them), every other descriptor closed.  More
 * than cap, or MSG_CTRUNC, closes all of them: -EBADMSG or -EMFILE.
 */
static int
take_fds(struct msghdr *m, int *fds, size_t cap, size_t *n)
{
	struct cmsghdr *cm;
	size_t i, k;
	int r = 0, fd;

	*n = 0;
	for (cm = CMSG_FIRSTHDR(m); cm != NULL; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || (cm->cmsg_type !=
		    SCM_RIGHTS && cm->cmsg_type != SCM_PIDFD))
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (cm->cmsg_type == SCM_RIGHTS && *n < cap) {
				fds[(*n)++] = fd;
				continue;
			}
			if (cm->cmsg_type == SCM_RIGHTS)
				r = -EBADMSG;	/* more than one packet's */
			close(fd);
		}
	}
	if (m->msg_flags & MSG_CTRUNC)
		r = -EMFILE;
	if (r < 0) {
		close_fds(fds, *n);
		*n = 0;
	}
	return r;
}

/* One recvmsg(2) into buf: the count or -errno; descriptors via take_fds. */
static ssize_t
recv_once(struct sockx_chan *c, char *buf, size_t len, int flags, int *fds,
    size_t cap, size_t *nfds)
{
	union {
		char buf[CONTROL_SIZE];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	int r;

	*nfds = 0;
	if (c->s->family != AF_UNIX) {
		m.msg_control = NULL;
		m.msg_controllen = 0;
	}
	n = recvmsg(c->s->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT | flags);
	if (n < 0)
		return -errno;
	r = take_fds(&m, fds, cap, nfds);
	return r < 0 ? r : n;
}

/*
 * Stream: the descriptors the buffered headers announce, counted up to
 * the first header that is incomplete or bad.
 */
static size_t
announced(const struct sockx_chan *c)
{
	size_t at = c->in_off, sum = 0;
	struct hdr h;

	while (c->in_len - at >= HDR) {
		get_hdr(c->in + at, &h);
		if (bad_hdr(c, &h))
			break;
		sum += h.nfds;
		if (c->in_len - at - HDR < h.len)
			break;
		at += HDR + h.len;
	}
	return sum;
}

/*
 * Stream: the next whole buffered message into *m (1), 0 when more bytes
 * are needed, -EBADMSG for a bad header or a header whose descriptors did
 * not come with it.
 */
static int
stream_next(struct sockx_chan *c, struct sockx_msg *m)
{
	size_t avail = c->in_len - c->in_off, at;
	struct hdr h;
	unsigned i;

	if (avail < HDR)
		return 0;
	get_hdr(c->in + c->in_off, &h);
	if (bad_hdr(c, &h) || c->in_fds.n < h.nfds)
		return -EBADMSG;
	if (avail - HDR < h.len)
		return 0;
	for (i = 0; i < h.nfds; i++)
		c->mfds[i] = ring_pop(&c->in_fds);
	c->mnfds = h.nfds;
	/* The buffer is aligned; the payload moves back to an aligned spot. */
	at = (c->in_off + HDR) & ~(alignof(max_align_t) - 1);
	if (at != c->in_off + HDR)
		memmove(c->in + at, c->in + c->in_off + HDR, h.len);
	fill_msg(m, &h, c->in + at, c->mfds);
	c->in_off += HDR + h.len;
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	return 1;
}

/*
 * Stream: make room after the partial message at the front (moved there)
 * for all of it, and at least IN_MIN bytes in all.
 */
static int
stream_room(struct sockx_chan *c)
{
	size_t need = IN_MIN;
	char *p;

	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	/* A complete header here is good: stream_next checked it. */
	if (c->in_len >= HDR && HDR + get32((unsigned char *)c->in) > need)
		need = HDR + get32((unsigned char *)c->in);
	if (c->in_cap >= need)
		return 0;
	p = realloc(c->in, need);
	if (p == NULL)
		return -ENOMEM;
	c->in = p;
	c->in_cap = need;
	return 0;
}

/*
 * Stream: one read of as much as the buffer has room for.  The count, 0
 * at end of stream, -errno; -EBADMSG when the read left more unclaimed
 * descriptors than the buffered headers announce plus SOCKX_MAX_FDS.
 */
static ssize_t
stream_read(struct sockx_chan *c)
{
	int fds[SOCKX_MAX_FDS];
	size_t nfds, i;
	ssize_t n;

	n = stream_room(c);
	if (n < 0)
		return n;
	n = recv_once(c, c->in + c->in_len, c->in_cap - c->in_len, 0, fds,
	    SOCKX_MAX_FDS, &nfds);
	if (n < 0)
		return n;
	c->in_len += (size_t)n;
	if (nfds > RING - c->in_fds.n) {
		close_fds(fds, nfds);
		return -EBADMSG;
	}
	for (i = 0; i < nfds; i++)
		ring_push(&c->in_fds, fds[i]);
	if (c->in_fds.n > SOCKX_MAX_FDS &&
	    c->in_fds.n > announced(c) + SOCKX_MAX_FDS)
		return -EBADMSG;
	return n;
}

/* Stream: the next message (1), 0 at end of stream, or -errno. */
static int
stream_recv(struct sockx_chan *c, struct sockx_msg *m,
    const struct sx_deadline *dl)
{
	struct sx_retry rt = SX_RETRY_INIT;
	ssize_t n;
	int r;

	for (;;) {
		r = stream_next(c, m);
		if (r != 0)
			return r;
		n = stream_read(c);
		if (n > 0) {
			rt.was_ready = 0;
			continue;
		}
		if (n == 0) {
			/* Inside a message, the end is a protocol error. */
			if (c->in_len > c->in_off)
				return -EBADMSG;
			/* No header claims these: the peer's strays. */
			ring_close_all(&c->in_fds);
			return 0;
		}
		if (n == -EINTR)
			continue;
		if (n != -EAGAIN)
			return (int)n;
		r = sx_wait_retry(&rt, c->s->fd, SOCKX_READABLE, dl);
		if (r < 0)
			return r;
	}
}

/*
 * Packets: one packet, which must be one whole message with exactly its
 * descriptors: 1 (into *m), 0 for a packet of 0 bytes (end of stream), or
 * -errno.
 */
static int
packet_once(struct sockx_chan *c, struct sockx_msg *m)
{
	struct hdr h;
	size_t nfds;
	ssize_t n;
	char *p;

	if (c->in_cap < HDR + c->max_len) {
		p = realloc(c->in, HDR + c->max_len);
		if (p == NULL)
			return -ENOMEM;
		c->in = p;
		c->in_cap = HDR + c->max_len;
	}
	/* MSG_TRUNC: the length of the packet, even if longer than in. */
	n = recv_once(c, c->in, c->in_cap, MSG_TRUNC, c->mfds, SOCKX_MAX_FDS,
	    &nfds);
	if (n < 0)
		return (int)n;
	c->mnfds = nfds;
	if (n == 0 && nfds == 0)
		return 0;
	if ((size_t)n < HDR)
		return -EBADMSG;
	get_hdr(c->in, &h);
	if (bad_hdr(c, &h) || (size_t)n != HDR + h.len || nfds != h.nfds)
		return -EBADMSG;
	fill_msg(m, &h, c->in + HDR, c->mfds);
	return 1;
}

/* Packets: the next message (1), 0 at end of stream, or -errno. */
static int
packet_recv(struct sockx_chan *c, struct sockx_msg *m,
    const struct sx_deadline *dl)
{
	struct sx_retry rt = SX_RETRY_INIT;
	int r;

	for (;;) {
		r = packet_once(c, m);
		if (r == -EINTR)
			continue;
		if (r != -EAGAIN)
			return r;
		r = sx_wait_retry(&rt, c->s->fd, SOCKX_READABLE, dl);
		if (r < 0)
			return r;
	}
}

/* ---------------------------------------------------------------- */
/* Public functions                                                  */
/* ---------------------------------------------------------------- */

/* Whether fd listens (SO_ACCEPTCONN): 1, 0 or -errno. */
static int
listening(int fd)
{
	socklen_t n = sizeof(int);
	int on = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &n) < 0)
		return -errno;
	return on != 0;
}

/*
 * The largest packet s can send as one (Linux: SO_SNDBUF - 32 on unix
 * sockets); UDP is also bound by its 16-bit length.
 */
static int
packet_limit(const sockx *s, size_t *max)
{
	socklen_t n = sizeof(int);
	int sndbuf;

	if (getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &n) < 0)
		return -errno;
	*max = sndbuf > 32 ? (size_t)sndbuf - 32 : 0;
	if (s->family != AF_UNIX && *max > UDP_MAX)
		*max = UDP_MAX;
	return 0;
}

SX_EXPORT int
sockx_chan_open(sockx_chan **out, sockx *s, size_t max_len, unsigned flags)
{
	struct sockx_chan *c;
	size_t packet_max = SIZE_MAX;
	int r;

	if (out == NULL || s == NULL || flags != 0 || max_len > LEN_LIMIT ||
	    (s->type != SOCK_STREAM && s->type != SOCK_SEQPACKET &&
	    s->type != SOCK_DGRAM))
		return sx_ret(-EINVAL);
	r = listening(s->fd);
	if (r != 0)
		return sx_ret(r < 0 ? r : -EINVAL);
	if (s->type != SOCK_STREAM) {
		r = packet_limit(s, &packet_max);
		if (r < 0)
			return sx_ret(r);
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return sx_ret(-ENOMEM);
	c->s = s;
	c->max_len = max_len > 0 ? max_len : SOCKX_CHAN_DEFAULT_MAX;
	c->packets = s->type != SOCK_STREAM;
	c->packet_max = packet_max;
	c->out_max = 2 * (HDR + c->max_len);
	if (c->out_max < QUEUE_BYTES)
		c->out_max = QUEUE_BYTES;
	*out = c;
	return 0;
}

SX_EXPORT int
sockx_chan_queue(sockx_chan *c, uint32_t type, uint32_t id,
    const void *buf, size_t len, const int *fds, size_t nfds)
{
	int dups[SOCKX_MAX_FDS];
	int r;

	r = check_msg(c, type, buf, len, fds, nfds);
	if (r < 0)
		return sx_ret(r);
	if (!fits(c, len, nfds))
		return sx_ret(-ENOBUFS);
	r = dup_fds(fds, nfds, dups);
	if (r < 0)
		return sx_ret(r);
	r = append(c, type, id, buf, len, dups, nfds);
	if (r < 0)
		close_fds(dups, nfds);
	return sx_ret(r);
}

SX_EXPORT int
sockx_chan_flush(sockx_chan *c, int timeout_ms)
{
	struct goal all = { 0, 0, 0, 0 };
	struct sx_deadline dl;
	int r;

	if (c == NULL)
		return sx_ret(-EINVAL);
	r = sx_deadline_start(&dl, timeout_ms);
	if (r < 0)
		return sx_ret(r);
	all.sent = c->sent + (c->out_tail - c->out_head);
	return sx_ret(flush_dl(c, &all, &dl));
}

/*
 * sockx_chan_send with an empty queue: one sendmsg(2) straight from the
 * caller's header, payload and descriptors (no copy, no duplicates).  0:
 * sent whole; 1: nothing sent (EINTR, ENOBUFS, or output is queued
 * already), the caller takes the queued path; 3: nothing sent, EAGAIN
 * (the caller may wait for room and try again, or take the queued
 * path); 2: on a stream, part of it was sent (its descriptors went with
 * the first byte) and the rest, without descriptors, is queued: the
 * caller flushes it; any other error is -errno, nothing sent or queued.
 * Room for the whole message is reserved first, so nothing can fail once
 * a byte is sent.
 */
static int
send_direct(struct sockx_chan *c, uint32_t type, uint32_t id,
    const void *buf, size_t len, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct hdr h = { (uint32_t)len, type, id, (uint16_t)nfds, 0 };
	char head[HDR];
	struct iovec iov[2] = {
		{ .iov_base = head, .iov_len = HDR },
		{ .iov_base = (void *)(uintptr_t)buf, .iov_len = len },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1 };
	struct cmsghdr *cm;
	size_t done, rest;
	ssize_t n;
	int r;

	if (c->out_tail != c->out_head)
		return 1;
	r = out_reserve(c, HDR + len);
	if (r < 0)
		return r;
	put_hdr(head, &h);
	if (nfds > 0) {
		/* Zeroed: the padding after the last fd is sent too. */
		m.msg_control = control.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		memset(control.buf, 0, m.msg_controllen);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	/* MSG_DONTWAIT: a handle in kernel-timeout mode is blocking. */
	n = sendmsg(c->s->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		r = -errno;
		if (r == -EAGAIN)
			return 3;
		return r == -EINTR || r == -ENOBUFS ? 1 : r;
	}
	done = (size_t)n;
	if (c->packets || done == HDR + len) {
		c->sent += HDR + len;
		return 0;
	}
	/* Stream, partial: the rest, without descriptors, is queued. */
	rest = HDR + len - done;
	if (done < HDR) {
		memcpy(c->out, head + done, HDR - done);
		if (len > 0)
			memcpy(c->out + HDR - done, buf, len);
	} else {
		memcpy(c->out, (const char *)buf + (done - HDR), rest);
	}
	c->sent += done;
	c->out_head = 0;
	c->out_tail = rest;
	return 2;
}

SX_EXPORT int
sockx_chan_send(sockx_chan *c, uint32_t type, uint32_t id,
    const void *buf, size_t len, const int *fds, size_t nfds, int timeout_ms)
{
	struct sx_retry rt = SX_RETRY_INIT;
	struct goal g = { 0, 0, 0, 0 };
	struct sx_deadline dl;
	int dups[SOCKX_MAX_FDS];
	uint64_t pos;
	int r;

	r = check_msg(c, type, buf, len, fds, nfds);
	if (r == 0)
		r = sx_deadline_start(&dl, timeout_ms);
	if (r < 0)
		return sx_ret(r);
	/*
	 * While the socket is full and nothing else is queued, wait for room
	 * and try the direct write again; at the deadline, queue it.
	 */
	while ((r = send_direct(c, type, id, buf, len, fds, nfds)) == 3)
		if (sx_wait_retry(&rt, c->s->fd, SOCKX_WRITABLE, &dl) < 0)
			break;
	if (r == 2) {
		/*
		 * Partly sent: the rest is queued and stays queued whatever
		 * the flush says, as below, since the peer has its first
		 * bytes.
		 */
		g.sent = c->sent + (c->out_tail - c->out_head);
		return sx_ret(flush_dl(c, &g, &dl));
	}
	if (r <= 0)
		return sx_ret(r);
	r = dup_fds(fds, nfds, dups);
	if (r < 0)
		return sx_ret(r);
	g.room = 1;
	g.len = len;
	g.nfds = nfds;
	r = flush_dl(c, &g, &dl);
	if (r == 0)
		r = append(c, type, id, buf, len, dups, nfds);
	if (r < 0) {
		close_fds(dups, nfds);
		return sx_ret(r == -ETIMEDOUT ? -ENOBUFS : r);
	}
	/* Queued: from here the channel owns dups. */
	pos = c->sent + (c->out_tail - c->out_head) - (HDR + len);
	g.room = 0;
	g.sent = pos + HDR + len;
	r = flush_dl(c, &g, &dl);
	/*
	 * An error takes the message back, unless part of it is written
	 * already (a short write on a stream, then the error): then the rest
	 * must follow it, or the peer would read the next message's bytes as
	 * this one's and give descriptors to the wrong messages.
	 */
	if (r < 0 && r != -ETIMEDOUT && c->sent <= pos)
		unqueue_from(c, pos);
	return sx_ret(r);
}

SX_EXPORT int
sockx_chan_recv(sockx_chan *c, struct sockx_msg *m, int timeout_ms)
{
	struct sx_deadline dl;
	int r;

	if (c == NULL || m == NULL)
		return sx_ret(-EINVAL);
	r = sx_deadline_start(&dl, timeout_ms);
	if (r < 0)
		return sx_ret(r);
	release_msg(c);
	if (c->broken)
		return sx_ret(-EBADMSG);
	if (c->packets)
		r = packet_recv(c, m, &dl);
	else
		r = stream_recv(c, m, &dl);
	if (r == -EBADMSG || r == -EMFILE)
		r = break_rx(c, r);
	return sx_ret(r);
}

SX_EXPORT int
sockx_chan_events(const sockx_chan *c)
{
	if (c == NULL)
		return sx_ret(-EINVAL);
	return SOCKX_READABLE |
	    (c->out_tail > c->out_head ? SOCKX_WRITABLE : 0);
}

SX_EXPORT size_t
sockx_chan_pending(const sockx_chan *c)
{
	return c == NULL ? 0 : c->out_tail - c->out_head;
}

SX_EXPORT sockx *
sockx_chan_handle(const sockx_chan *c)
{
	if (c == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return c->s;
}

SX_EXPORT int
sockx_chan_close(sockx_chan *c)
{
	int r;

	if (c == NULL)
		return 0;
	release_msg(c);
	ring_close_all(&c->in_fds);
	ring_close_all(&c->out_fds);
	free(c->in);
	free(c->out);
	r = sockx_close(c->s);
	free(c);
	return sx_ret(r);
}
