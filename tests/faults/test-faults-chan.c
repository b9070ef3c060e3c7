/* SPDX-License-Identifier: MIT */
/*
 * test-faults-chan.c - channels (sockx_chan_*) under the faults the calls
 * they make can meet, injected by the LD_PRELOAD shim faultinject.c into
 * libsockx's own calls only (faultinject.h).
 *
 * For each public channel function and each fault: the exact negative
 * errno (errno set); what the contract says is kept is kept and what it
 * says is not queued is not (pending, events, and what the peer finally
 * receives: every message once, in order, with its own descriptors,
 * identified by the text of a memfd); no descriptor leaked (the fixture of
 * every test, and counts around the calls); no block leaked (the shim's
 * count where it sees frees, valgrind's and ASan's leak checks elsewhere);
 * and the channel usable afterwards, or its receive side broken for good
 * where the contract says so.  The faults: failed allocations (calloc,
 * realloc) -> -ENOMEM; sendmsg and recvmsg errors (EPIPE, ECONNRESET,
 * ENOMEM, EACCES, EMSGSIZE) -> themselves, with the queue as the contract
 * says; transient ones (EINTR, EAGAIN, ENOBUFS) absorbed within the
 * deadline, storms of them ending in -ETIMEDOUT with nothing lost and the
 * thread's CPU time bounded (no spinning); short transfers on a stream, in
 * both directions, with each message's descriptors arriving exactly once,
 * with the first byte of its header (a raw reader checks the offset);
 * MSG_CTRUNC -> -EMFILE, every descriptor closed, -EBADMSG from then on,
 * sending still possible; a failed F_DUPFD_CLOEXEC at queue time ->
 * -EMFILE, nothing queued; spurious and interrupted waits and sleeps; and
 * EINTR from close(2) at sockx_chan_close.  Allocation rows are skipped
 * (and say so) where the shim cannot fault the allocator (ASan, valgrind).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockx.h>

#include "sxf-shim.h"
#include "sxtest.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define T_MS		10000	/* a step that must succeed */
#define TYPE		7	/* the type of every test message */

/* The slack CPU-time bounds get: CK_TIMEOUT_MULTIPLIER (valgrind: 10). */
static double
slowdown(void)
{
	const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
	double v = m != NULL ? atof(m) : 1.0;

	return v >= 1.0 ? v : 1.0;
}


/* ---------------------------------------------------------------- */
/* Messages                                                          */
/* ---------------------------------------------------------------- */

/* A memfd whose contents, "m id i", name its message and place. */
static int
tagged_fd(unsigned id, unsigned i)
{
	char text[32];
	int fd, n;

	fd = memfd_create("sxt-faults-chan", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	n = snprintf(text, sizeof(text), "m %u %u", id, i);
	ck_assert_int_eq(write(fd, text, (size_t)n), n);
	return fd;
}

static void
check_tag(int fd, unsigned id, unsigned i)
{
	char want[32], got[32];
	ssize_t n;

	snprintf(want, sizeof(want), "m %u %u", id, i);
	n = pread(fd, got, sizeof(got) - 1, 0);
	ck_assert_int_ge(n, 0);
	got[n] = '\0';
	ck_assert_msg(strcmp(got, want) == 0, "fd %d holds \"%s\", want \"%s\"",
	    fd, got, want);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
}

/* The payload of message id: len bytes of a pattern. */
static void
payload(unsigned id, unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(id * 31 + i * 7);
}

/* A message to send: id, payload length, descriptors (tagged). */
struct out {
	unsigned id;
	size_t len;
	size_t nfds;
	unsigned char buf[8192];
	int fds[SOCKX_MAX_FDS];
};

static void
out_make(struct out *o, unsigned id, size_t len, size_t nfds)
{
	size_t i;

	ck_assert_uint_le(len, sizeof(o->buf));
	o->id = id;
	o->len = len;
	o->nfds = nfds;
	payload(id, o->buf, len);
	for (i = 0; i < nfds; i++)
		o->fds[i] = tagged_fd(id, (unsigned)i);
}

static void
out_free(struct out *o)
{
	size_t i;

	for (i = 0; i < o->nfds; i++)
		ck_assert_int_eq(close(o->fds[i]), 0);
	o->nfds = 0;
}

static int
queue(sockx_chan *c, const struct out *o)
{
	return sockx_chan_queue(c, TYPE, o->id, o->buf, o->len, o->fds,
	    o->nfds);
}

static int
send_msg(sockx_chan *c, const struct out *o, int timeout_ms)
{
	return sockx_chan_send(c, TYPE, o->id, o->buf, o->len, o->fds,
	    o->nfds, timeout_ms);
}

/* The next message on c is id with len bytes and nfds descriptors. */
static void
expect_msg(sockx_chan *c, unsigned id, size_t len, size_t nfds)
{
	unsigned char want[8192];
	struct sockx_msg m;
	size_t i;

	ck_assert_int_eq(sockx_chan_recv(c, &m, T_MS), 1);
	ck_assert_uint_eq(m.type, TYPE);
	ck_assert_uint_eq(m.id, id);
	ck_assert_uint_eq(m.len, len);
	ck_assert_uint_eq(m.nfds, nfds);
	payload(id, want, len);
	ck_assert(len == 0 || memcmp(m.data, want, len) == 0);
	for (i = 0; i < nfds; i++)
		check_tag(m.fds[i], id, (unsigned)i);
}

/* Nothing more is waiting on c. */
static void
expect_nothing(sockx_chan *c)
{
	struct sockx_msg m;

	CHECK_ERR(sockx_chan_recv(c, &m, 0), ETIMEDOUT);
}

/* Two channels on the ends of a socketpair of type. */
static void
chan_pair(int type, sockx_chan **a, sockx_chan **b)
{
	sockx *sa, *sb;

	ck_assert_int_eq(sockx_pair(&sa, &sb, type), 0);
	ck_assert_int_eq(sockx_chan_open(a, sa, 0, 0), 0);
	ck_assert_int_eq(sockx_chan_open(b, sb, 0, 0), 0);
}

/* Close both; then no block libsockx allocated in a window is left. */
static void
close_pair(sockx_chan *a, sockx_chan *b)
{
	ck_assert_int_eq(sockx_chan_close(a), 0);
	ck_assert_int_eq(sockx_chan_close(b), 0);
	sxf_check_no_live_blocks();
}

static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };

/* ---------------------------------------------------------------- */
/* sockx_chan_open                                                   */
/* ---------------------------------------------------------------- */

static const struct {
	const char *fn;
	unsigned nth;
	int err;
	int type;
} open_faults[] = {
	{ "calloc", 1, ENOMEM, SOCK_STREAM },
	{ "calloc", 1, ENOMEM, SOCK_SEQPACKET },
	{ "getsockopt", 1, ENOMEM, SOCK_STREAM },	/* SO_ACCEPTCONN */
	{ "getsockopt", 1, EACCES, SOCK_SEQPACKET },
	{ "getsockopt", 2, EPERM, SOCK_SEQPACKET },	/* SO_SNDBUF */
};

/* A failed open: exactly its error, *out untouched, s still the caller's. */
START_TEST(faults_chan_open_fails_cleanly)
{
	sockx_chan *c = (sockx_chan *)&c, *a, *b;
	sockx *sa, *sb;
	int r;

	sxf_load();
	if (strcmp(open_faults[_i].fn, "calloc") == 0 && !sxf_can_fault("calloc"))
		return;
	ck_assert_int_eq(sockx_pair(&sa, &sb, open_faults[_i].type), 0);
	sxf.begin();
	ck_assert_int_eq(sxf.add(open_faults[_i].fn, open_faults[_i].nth, 1,
	    SXF_FAIL, open_faults[_i].err), 0);
	errno = 0;
	r = sockx_chan_open(&c, sa, 0, 0);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(r, -open_faults[_i].err);
	ck_assert_int_eq(errno, open_faults[_i].err);
	ck_assert_ptr_eq(c, (sockx_chan *)&c);
	sxf_check_no_live_blocks();
	/* The caller still owns sa: it works, and channels open on it. */
	ck_assert_int_eq(sockx_chan_open(&a, sa, 0, 0), 0);
	ck_assert_int_eq(sockx_chan_open(&b, sb, 0, 0), 0);
	ck_assert_int_eq(sockx_chan_send(a, TYPE, 1, "x", 1, NULL, 0, T_MS),
	    0);
	ck_assert_int_eq(sockx_chan_recv(b, &(struct sockx_msg){ 0 }, T_MS),
	    1);
	close_pair(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* sockx_chan_queue, sockx_chan_send: nothing queued on failure      */
/* ---------------------------------------------------------------- */

/*
 * realloc fails when the output buffer must grow (first queue, then a
 * message larger than the rest of the buffer): -ENOMEM, nothing queued,
 * the duplicates closed; the same call succeeds afterwards.
 */
START_TEST(faults_chan_queue_out_of_memory_queues_nothing)
{
	static struct out o1, o2;
	sockx_chan *a, *b;
	size_t pending;
	int fds, t = types[_i];

	sxf_load();
	if (!sxf_can_fault("realloc"))
		return;
	chan_pair(t, &a, &b);
	out_make(&o1, 1, 100, 3);
	out_make(&o2, 2, 6000, 2);
	fds = sxt_count_fds();
	sxf.begin();
	ck_assert_int_eq(sxf.add("realloc", 1, 0, SXF_FAIL, ENOMEM), 0);
	CHECK_ERR(queue(a, &o1), ENOMEM);
	ck_assert_uint_eq(sxf.end(), 1);
	sxf_check_no_live_blocks();
	ck_assert_int_eq(sxt_count_fds(), fds);
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	ck_assert_int_eq(sockx_chan_events(a), SOCKX_READABLE);
	ck_assert_int_eq(queue(a, &o1), 0);
	pending = sockx_chan_pending(a);
	ck_assert_uint_eq(pending, 16 + 100);
	/* o2 does not fit behind o1 in the first buffer: it must grow. */
	fds = sxt_count_fds();
	sxf.begin();
	ck_assert_int_eq(sxf.add("realloc", 1, 0, SXF_FAIL, ENOMEM), 0);
	CHECK_ERR(queue(a, &o2), ENOMEM);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(sxt_count_fds(), fds);
	ck_assert_uint_eq(sockx_chan_pending(a), pending);
	/* And through send (o1 leaves room: no flush first). */
	sxf.begin();
	ck_assert_int_eq(sxf.add("realloc", 1, 0, SXF_FAIL, ENOMEM), 0);
	CHECK_ERR(send_msg(a, &o2, T_MS), ENOMEM);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(sxt_count_fds(), fds);
	ck_assert_uint_eq(sockx_chan_pending(a), pending);
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	expect_msg(b, 1, 100, 3);
	expect_nothing(b);
	ck_assert_int_eq(send_msg(a, &o2, T_MS), 0);
	expect_msg(b, 2, 6000, 2);
	expect_nothing(b);
	out_free(&o1);
	out_free(&o2);
	close_pair(a, b);
}
END_TEST

/*
 * The k-th F_DUPFD_CLOEXEC fails (EMFILE, ENFILE): -errno, nothing queued,
 * the duplicates made before it closed; for queue and for send.  (send
 * duplicates only when output is queued already: with an empty queue it
 * writes straight from the caller's descriptors, so an fd-less message is
 * queued before the send rounds.)
 */
START_TEST(faults_chan_dup_failure_queues_nothing)
{
	static const int errs[] = { EMFILE, ENFILE };
	static struct out o, o0;
	sockx_chan *a, *b;
	unsigned k;
	size_t pend = 0;
	int fds, r, use_send, t = types[_i % 2], err = errs[_i / 2 % 2];

	sxf_load();
	chan_pair(t, &a, &b);
	out_make(&o, 5, 10, 3);
	out_make(&o0, 4, 7, 0);
	fds = sxt_count_fds();
	for (use_send = 0; use_send < 2; use_send++) {
		if (use_send) {
			ck_assert_int_eq(queue(a, &o0), 0);
			pend = sockx_chan_pending(a);
			ck_assert_uint_gt(pend, 0);
		}
		for (k = 1; k <= 3; k++) {
			sxf.begin();
			ck_assert_int_eq(sxf.add("fcntl", k, 1, SXF_FAIL,
			    err), 0);
			errno = 0;
			r = use_send ? send_msg(a, &o, T_MS) : queue(a, &o);
			ck_assert_uint_eq(sxf.end(), 1);
			ck_assert_int_eq(r, -err);
			ck_assert_int_eq(errno, err);
			ck_assert_uint_eq(sxf.calls("fcntl"), k);
			ck_assert_uint_eq(sxf.calls("sendmsg"), 0);
			ck_assert_int_eq(sxt_count_fds(), fds);
			ck_assert_uint_eq(sockx_chan_pending(a), pend);
			sxf_check_no_live_blocks();
		}
	}
	expect_nothing(b);
	ck_assert_int_eq(send_msg(a, &o, T_MS), 0);
	expect_msg(b, 4, 7, 0);
	expect_msg(b, 5, 10, 3);
	expect_nothing(b);
	out_free(&o0);
	out_free(&o);
	close_pair(a, b);
}
END_TEST

static const struct {
	int err;
	int type;
} send_errs[] = {
	{ EPIPE, SOCK_STREAM }, { EPIPE, SOCK_SEQPACKET },
	{ ECONNRESET, SOCK_STREAM }, { ECONNRESET, SOCK_SEQPACKET },
	{ ENOMEM, SOCK_STREAM }, { ENOMEM, SOCK_SEQPACKET },
	{ EACCES, SOCK_STREAM }, { EACCES, SOCK_SEQPACKET },
	{ EMSGSIZE, SOCK_SEQPACKET },
};

/*
 * sendmsg fails for send: that error, the message not queued (its
 * duplicates closed), nothing sent; the channel sends afterwards.
 */
START_TEST(faults_chan_send_error_queues_nothing)
{
	static struct out o1, o2;
	sockx_chan *a, *b;
	int fds, err = send_errs[_i].err;

	sxf_load();
	chan_pair(send_errs[_i].type, &a, &b);
	out_make(&o1, 1, 50, 2);
	out_make(&o2, 2, 0, 1);
	fds = sxt_count_fds();
	sxf.begin();
	ck_assert_int_eq(sxf.add("sendmsg", 1, 0, SXF_FAIL, err), 0);
	CHECK_ERR(send_msg(a, &o1, T_MS), err);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(sxt_count_fds(), fds);
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	ck_assert_int_eq(sockx_chan_events(a), SOCKX_READABLE);
	ck_assert_int_eq(send_msg(a, &o2, T_MS), 0);
	expect_msg(b, 2, 0, 1);
	expect_nothing(b);
	out_free(&o1);
	out_free(&o2);
	close_pair(a, b);
}
END_TEST

/*
 * sendmsg fails for flush, at the first or the second message: that
 * error; the queue keeps every message not yet written (a packet the
 * socket refused as too large, EMSGSIZE, is dropped, with its
 * descriptors, and only it); a later flush writes the rest once.
 */
START_TEST(faults_chan_flush_error_keeps_the_queue)
{
	static struct out o1, o2;
	sockx_chan *a, *b;
	unsigned nth = 1 + (unsigned)(_i / NELEM(send_errs)) % 2;
	int fds, err = send_errs[_i % NELEM(send_errs)].err;
	int t = send_errs[_i % NELEM(send_errs)].type;
	size_t total, first = 16 + 50;

	sxf_load();
	chan_pair(t, &a, &b);
	out_make(&o1, 1, 50, 2);
	out_make(&o2, 2, 20, 3);
	ck_assert_int_eq(queue(a, &o1), 0);
	ck_assert_int_eq(queue(a, &o2), 0);
	out_free(&o1);
	out_free(&o2);
	total = sockx_chan_pending(a);
	fds = sxt_count_fds();
	sxf.begin();
	ck_assert_int_eq(sxf.add("sendmsg", nth, 0, SXF_FAIL, err), 0);
	CHECK_ERR(sockx_chan_flush(a, T_MS), err);
	ck_assert_uint_eq(sxf.end(), 1);
	if (err == EMSGSIZE) {
		/* The refused packet is gone, with its descriptors. */
		ck_assert_uint_eq(sockx_chan_pending(a), nth == 1 ?
		    total - first : 0);
		ck_assert_int_eq(sxt_count_fds(), fds - (nth == 1 ? 2 : 5));
	} else {
		ck_assert_uint_eq(sockx_chan_pending(a), nth == 1 ?
		    total : total - first);
		ck_assert_int_eq(sxt_count_fds(), fds - (nth == 1 ? 0 : 2));
		ck_assert_int_eq(sockx_chan_events(a),
		    SOCKX_READABLE | SOCKX_WRITABLE);
	}
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	if (err != EMSGSIZE || nth == 2)
		expect_msg(b, 1, 50, 2);
	if (err != EMSGSIZE || nth == 1)
		expect_msg(b, 2, 20, 3);
	expect_nothing(b);
	close_pair(a, b);
}
END_TEST

/*
 * On a stream, sendmsg fails after part of the message went out (a short
 * write first): the stream must stay framed.  The rest of the message
 * stays queued (it cannot be taken back) and goes out before the next
 * one, so the peer gets both whole, each with its descriptors.
 */
START_TEST(faults_chan_send_error_after_partial_write_keeps_framing)
{
	static const int errs[] = { ENOMEM, EACCES, ENOBUFS };
	static struct out o1, o2;
	sockx_chan *a, *b;
	int r, err = errs[_i];

	sxf_load();
	chan_pair(SOCK_STREAM, &a, &b);
	out_make(&o1, 1, 300, 2);
	out_make(&o2, 2, 10, 1);
	sxf.begin();
	ck_assert_int_eq(sxf.add("sendmsg", 1, 1, SXF_SHORT, 5), 0);
	ck_assert_int_eq(sxf.add("sendmsg", 2, 0, SXF_FAIL, err), 0);
	errno = 0;
	r = send_msg(a, &o1, 100);
	sxf.end();
	/* ENOBUFS is retried until the deadline: then queued, -ETIMEDOUT. */
	ck_assert_int_eq(r, err == ENOBUFS ? -ETIMEDOUT : -err);
	ck_assert_int_eq(errno, -r);
	ck_assert_uint_eq(sockx_chan_pending(a), 16 + 300 - 5);
	ck_assert_int_eq(send_msg(a, &o2, T_MS), 0);
	expect_msg(b, 1, 300, 2);
	expect_msg(b, 2, 10, 1);
	expect_nothing(b);
	out_free(&o1);
	out_free(&o2);
	close_pair(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Transient errors: absorbed, or -ETIMEDOUT with nothing lost       */
/* ---------------------------------------------------------------- */

static const struct {
	const char *fn;
	int err;
} transient[] = {
	{ "sendmsg", EINTR }, { "sendmsg", EAGAIN }, { "sendmsg", ENOBUFS },
	{ "recvmsg", EINTR }, { "recvmsg", EAGAIN },
};

/* A few of them: the call succeeds as without them, quickly. */
START_TEST(faults_chan_transient_errors_are_absorbed)
{
	static struct out o;
	const char *fn = transient[_i / 2].fn;
	int t = types[_i % 2], err = transient[_i / 2].err, r;
	struct sockx_msg m;
	sockx_chan *a, *b;
	double t0, cpu;

	sxf_load();
	chan_pair(t, &a, &b);
	out_make(&o, 3, 40, 2);
	if (strcmp(fn, "recvmsg") == 0)
		ck_assert_int_eq(send_msg(a, &o, T_MS), 0);
	t0 = sxt_now();
	cpu = sxt_thread_cpu();
	sxf.begin();
	ck_assert_int_eq(sxf.add(fn, 1, 3, SXF_FAIL, err), 0);
	if (strcmp(fn, "sendmsg") == 0)
		r = send_msg(a, &o, T_MS);
	else
		r = sockx_chan_recv(b, &m, T_MS);
	ck_assert_uint_eq(sxf.end(), 3);
	ck_assert_int_eq(r, strcmp(fn, "sendmsg") == 0 ? 0 : 1);
	ck_assert_double_lt(sxt_now() - t0, 2.0);
	ck_assert_double_lt(sxt_thread_cpu() - cpu, 0.1 * slowdown());
	if (strcmp(fn, "sendmsg") == 0) {
		ck_assert_uint_eq(sockx_chan_pending(a), 0);
		expect_msg(b, 3, 40, 2);
	} else {
		ck_assert_uint_eq(m.id, 3);
		ck_assert_uint_eq(m.nfds, 2);
		check_tag(m.fds[0], 3, 0);
		check_tag(m.fds[1], 3, 1);
	}
	expect_nothing(b);
	out_free(&o);
	close_pair(a, b);
}
END_TEST

static const struct {
	const char *fn;
	int err;
} storms[] = {
	{ "sendmsg", EAGAIN }, { "sendmsg", ENOBUFS }, { "recvmsg", EAGAIN },
};

/*
 * Every call fails so until the deadline: -ETIMEDOUT no earlier than the
 * deadline, the thread sleeping meanwhile, nothing lost: the message goes
 * out (send) or comes in (recv) once the storm is over.
 */
START_TEST(faults_chan_transient_storm_times_out_without_spinning)
{
	static struct out o;
	const char *fn = storms[_i / 2].fn;
	int t = types[_i % 2], err = storms[_i / 2].err, r;
	struct sockx_msg m;
	sockx_chan *a, *b;
	double t0, el, cpu;

	sxf_load();
	chan_pair(t, &a, &b);
	out_make(&o, 4, 40, 2);
	if (strcmp(fn, "recvmsg") == 0)
		ck_assert_int_eq(send_msg(a, &o, T_MS), 0);
	t0 = sxt_now();
	cpu = sxt_thread_cpu();
	sxf.begin();
	ck_assert_int_eq(sxf.add(fn, 1, 0, SXF_FAIL, err), 0);
	errno = 0;
	if (strcmp(fn, "sendmsg") == 0)
		r = send_msg(a, &o, 150);
	else
		r = sockx_chan_recv(b, &m, 150);
	ck_assert_uint_ge(sxf.end(), 1);
	el = sxt_now() - t0;
	cpu = sxt_thread_cpu() - cpu;
	/*
	 * Backoff sleeps of 1, 2, 4, 8, 8, ... ms: some 20-40 calls in 150
	 * ms; a loop without them makes thousands (CPU time alone is a weak
	 * witness on a loaded machine).
	 */
	ck_assert_uint_lt(sxf.calls(fn), 100);
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_double_ge(el, 0.150);
	ck_assert_double_lt(el, 3.0);
	ck_assert_double_lt(cpu, 0.1 * slowdown());
	if (strcmp(fn, "sendmsg") == 0) {
		/* Queued and not written: it goes out with the next flush. */
		ck_assert_uint_eq(sockx_chan_pending(a), 16 + 40);
		expect_nothing(b);
		ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	}
	expect_msg(b, 4, 40, 2);
	expect_nothing(b);
	out_free(&o);
	close_pair(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Short transfers on a stream                                       */
/* ---------------------------------------------------------------- */

static const size_t shorts[] = { 1, 5, 16, 17, 100 };

/* Four messages: 0..3 descriptors, payloads of 0..300 bytes. */
static void
four_msgs(struct out *o)
{
	static const size_t lens[] = { 0, 300, 15, 16 };
	unsigned i;

	for (i = 0; i < 4; i++)
		out_make(&o[i], 10 + i, lens[i], i);
}

/*
 * Flush a (timeout 0) while b reads ahead (tiny writes fill the socket
 * with many small buffers, so the peer must read meanwhile): until n
 * messages came, each checked against o[].
 */
static void
pump(sockx_chan *a, sockx_chan *b, const struct out *o, size_t n)
{
	unsigned char want[8192];
	struct sockx_msg m;
	size_t got = 0, i;
	double t0 = sxt_now();
	int r;

	while (got < n) {
		ck_assert_double_lt(sxt_now() - t0, 10.0 * slowdown());
		r = sockx_chan_flush(a, 0);
		ck_assert(r == 0 || r == -ETIMEDOUT);
		while (got < n && (r = sockx_chan_recv(b, &m, 0)) == 1) {
			ck_assert_uint_eq(m.type, TYPE);
			ck_assert_uint_eq(m.id, o[got].id);
			ck_assert_uint_eq(m.len, o[got].len);
			ck_assert_uint_eq(m.nfds, o[got].nfds);
			payload(o[got].id, want, o[got].len);
			ck_assert(m.len == 0 ||
			    memcmp(m.data, want, m.len) == 0);
			for (i = 0; i < m.nfds; i++)
				check_tag(m.fds[i], o[got].id, (unsigned)i);
			got++;
		}
		if (got < n)
			ck_assert_int_eq(r, -ETIMEDOUT);
	}
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
}

/*
 * Every sendmsg moves at most n bytes: flush and send still write every
 * message whole, each with its own descriptors, once.
 */
START_TEST(faults_chan_short_sends_deliver_every_descriptor_once)
{
	static struct out o[5];
	sockx_chan *a, *b;
	unsigned i;
	int fds, r;

	sxf_load();
	chan_pair(SOCK_STREAM, &a, &b);
	four_msgs(o);
	out_make(&o[4], 20, 33, 3);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(queue(a, &o[i]), 0);
	fds = sxt_count_fds();
	sxf.begin();
	ck_assert_int_eq(sxf.add("sendmsg", 1, 0, SXF_SHORT,
	    (int)shorts[_i]), 0);
	r = send_msg(a, &o[4], 0);
	ck_assert(r == 0 || r == -ETIMEDOUT);
	pump(a, b, o, 5);
	ck_assert_uint_ge(sxf.end(), 1);
	/* The duplicates are closed once sent (and o[4]'s by b's recv). */
	expect_nothing(b);
	ck_assert_int_eq(sxt_count_fds(), fds - 6);
	for (i = 0; i < 5; i++)
		out_free(&o[i]);
	close_pair(a, b);
}
END_TEST

/*
 * The same, read by a raw peer one byte per recvmsg: each message's
 * descriptors arrive exactly with the first byte of its header, never
 * before or after.
 */
START_TEST(faults_chan_short_sends_keep_descriptors_at_the_header)
{
	static struct out o[4];
	static unsigned char bytes[4096];
	union {
		char buf[CMSG_SPACE(sizeof(int) * SOCKX_MAX_FDS)];
		struct cmsghdr align;
	} control;
	size_t off = 0, hdr = 0, k, i, j, got_fds;
	struct cmsghdr *cm;
	struct msghdr mh;
	struct iovec iov;
	sockx_chan *a;
	sockx *sa, *sb;
	ssize_t n;
	int raw, fd, r;

	sxf_load();
	ck_assert_int_eq(sockx_pair(&sa, &sb, SOCK_STREAM), 0);
	ck_assert_int_eq(sockx_chan_open(&a, sa, 0, 0), 0);
	raw = sockx_release(sb);
	four_msgs(o);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(queue(a, &o[i]), 0);
	for (i = 0; i < 4; i++) {
		/* The message i starts at hdr. */
		for (j = 0; j < 16 + o[i].len; j++) {
			/* Write what fits, read a byte (it must be there). */
			sxf.begin();
			ck_assert_int_eq(sxf.add("sendmsg", 1, 0, SXF_SHORT,
			    (int)shorts[_i]), 0);
			r = sockx_chan_flush(a, 0);
			sxf.end();
			ck_assert(r == 0 || r == -ETIMEDOUT);
			memset(&mh, 0, sizeof(mh));
			iov.iov_base = bytes + off;
			iov.iov_len = 1;
			mh.msg_iov = &iov;
			mh.msg_iovlen = 1;
			mh.msg_control = control.buf;
			mh.msg_controllen = sizeof(control.buf);
			n = recvmsg(raw, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
			ck_assert_int_eq(n, 1);
			got_fds = 0;
			for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
			    cm = CMSG_NXTHDR(&mh, cm)) {
				ck_assert_int_eq(cm->cmsg_type, SCM_RIGHTS);
				k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (; got_fds < k; got_fds++) {
					memcpy(&fd, CMSG_DATA(cm) +
					    got_fds * sizeof(int), sizeof(fd));
					check_tag(fd, o[i].id,
					    (unsigned)got_fds);
					ck_assert_int_eq(close(fd), 0);
				}
			}
			ck_assert_msg(got_fds == (off == hdr ? o[i].nfds : 0),
			    "%zu descriptors at byte %zu of message %zu",
			    got_fds, off - hdr, i);
			off++;
		}
		hdr = off;
	}
	ck_assert_uint_eq(sockx_chan_pending(a), 0);
	ck_assert_int_eq(recv(raw, bytes, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	for (i = 0; i < 4; i++)
		out_free(&o[i]);
	ck_assert_int_eq(sockx_chan_close(a), 0);
	ck_assert_int_eq(close(raw), 0);
	sxf_check_no_live_blocks();
}
END_TEST

/*
 * Every recvmsg reads at most n bytes: every message comes whole, with
 * its own descriptors, once.
 */
START_TEST(faults_chan_short_reads_deliver_every_descriptor_once)
{
	static struct out o[4];
	sockx_chan *a, *b;
	unsigned i;

	sxf_load();
	chan_pair(SOCK_STREAM, &a, &b);
	four_msgs(o);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(queue(a, &o[i]), 0);
	ck_assert_int_eq(sockx_chan_flush(a, T_MS), 0);
	sxf.begin();
	ck_assert_int_eq(sxf.add("recvmsg", 1, 0, SXF_SHORT,
	    (int)shorts[_i]), 0);
	for (i = 0; i < 4; i++)
		expect_msg(b, o[i].id, o[i].len, o[i].nfds);
	expect_nothing(b);
	ck_assert_uint_ge(sxf.end(), 1);
	for (i = 0; i < 4; i++)
		out_free(&o[i]);
	close_pair(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* recv: errors, allocation, MSG_CTRUNC                              */
/* ---------------------------------------------------------------- */

static const struct {
	int err;
	int type;
} recv_errs[] = {
	{ ECONNRESET, SOCK_STREAM }, { ECONNRESET, SOCK_SEQPACKET },
	{ ENOMEM, SOCK_STREAM }, { ENOMEM, SOCK_SEQPACKET },
	{ EACCES, SOCK_STREAM }, { EACCES, SOCK_SEQPACKET },
};

/* recvmsg fails: that error, nothing consumed, the next recv gets it. */
START_TEST(faults_chan_recv_error_loses_nothing)
{
	static struct out o;
	struct sockx_msg m;
	sockx_chan *a, *b;
	int fds, err = recv_errs[_i].err;

	sxf_load();
	chan_pair(recv_errs[_i].type, &a, &b);
	out_make(&o, 6, 30, 2);
	ck_assert_int_eq(send_msg(a, &o, T_MS), 0);
	fds = sxt_count_fds();
	sxf.begin();
	ck_assert_int_eq(sxf.add("recvmsg", 1, 1, SXF_FAIL, err), 0);
	CHECK_ERR(sockx_chan_recv(b, &m, T_MS), err);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(sxt_count_fds(), fds);
	expect_msg(b, 6, 30, 2);
	expect_nothing(b);
	out_free(&o);
	close_pair(a, b);
}
END_TEST

/*
 * The receive buffer cannot grow (realloc fails): -ENOMEM, nothing lost,
 * not broken; also for a message larger than the stream's first buffer.
 */
START_TEST(faults_chan_recv_out_of_memory_loses_nothing)
{
	static struct out o1, o2;
	struct sockx_msg m;
	sockx_chan *a, *b;
	int fds, t = types[_i];

	sxf_load();
	if (!sxf_can_fault("realloc"))
		return;
	chan_pair(t, &a, &b);
	out_make(&o1, 1, 10, 2);
	out_make(&o2, 2, 8000, 1);
	ck_assert_int_eq(send_msg(a, &o1, T_MS), 0);
	fds = sxt_count_fds();
	sxf.begin();
	ck_assert_int_eq(sxf.add("realloc", 1, 0, SXF_FAIL, ENOMEM), 0);
	CHECK_ERR(sockx_chan_recv(b, &m, T_MS), ENOMEM);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_uint_eq(sxf.calls("recvmsg"), 0);
	ck_assert_int_eq(sxt_count_fds(), fds);
	sxf_check_no_live_blocks();
	expect_msg(b, 1, 10, 2);
	expect_nothing(b);
	out_free(&o1);
	/* The buffers have grown: o2 needs no allocation at all. */
	ck_assert_int_eq(send_msg(a, &o2, T_MS), 0);
	sxf.begin();
	ck_assert_int_eq(sxf.add("realloc", 1, 0, SXF_FAIL, ENOMEM), 0);
	expect_msg(b, 2, 8000, 1);
	ck_assert_uint_eq(sxf.end(), 0);
	out_free(&o2);
	close_pair(a, b);
}
END_TEST

/*
 * The kernel could install only k of a message's descriptors (MSG_CTRUNC):
 * -EMFILE, every descriptor closed (the installed ones too), -EBADMSG
 * from then on even for good messages; the channel still sends.
 */
START_TEST(faults_chan_ctrunc_breaks_the_receive_side)
{
	static struct out o1, o2, o3;
	int t = types[_i % 2], room = _i / 2, fds;
	struct sockx_msg m;
	sockx_chan *a, *b;

	sxf_load();
	chan_pair(t, &a, &b);
	out_make(&o1, 1, 10, 0);
	out_make(&o2, 2, 10, 3);
	out_make(&o3, 3, 10, 1);
	ck_assert_int_eq(send_msg(a, &o1, T_MS), 0);
	expect_msg(b, 1, 10, 0);
	ck_assert_int_eq(send_msg(a, &o2, T_MS), 0);
	out_free(&o2);
	fds = sxt_count_fds();
	sxf.begin();
	ck_assert_int_eq(sxf.add("recvmsg", 1, 0, SXF_CTRUNC, room), 0);
	CHECK_ERR(sockx_chan_recv(b, &m, T_MS), EMFILE);
	ck_assert_uint_eq(sxf.end(), 1);
	ck_assert_int_eq(sxt_count_fds(), fds);
	ck_assert_int_eq(send_msg(a, &o3, T_MS), 0);
	CHECK_ERR(sockx_chan_recv(b, &m, T_MS), EBADMSG);
	CHECK_ERR(sockx_chan_recv(b, &m, 0), EBADMSG);
	/* Sending still works: an error reply. */
	ck_assert_int_eq(send_msg(b, &o1, T_MS), 0);
	expect_msg(a, 1, 10, 0);
	out_free(&o1);
	out_free(&o3);
	close_pair(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Waits and sleeps: spurious and interrupted                        */
/* ---------------------------------------------------------------- */

static const struct {
	const char *fn;
	int mode;
	int arg;
} waits[] = {
	{ "poll", SXF_SPURIOUS, 0 }, { "select", SXF_SPURIOUS, 0 },
	{ "poll", SXF_INTERRUPT, 10 }, { "select", SXF_INTERRUPT, 10 },
	{ "clock_nanosleep", SXF_INTERRUPT, 5 },
};

/* The wait rows, with sleeps cut short too (rules 2..). */
static void
add_wait_rule(unsigned row)
{
	ck_assert_int_eq(sxf.add(waits[row].fn, 1, 0, waits[row].mode,
	    waits[row].arg), 0);
	/* The backoff sleeps that follow spurious wake-ups: cut too. */
	if (waits[row].mode == SXF_SPURIOUS)
		ck_assert_int_eq(sxf.add("clock_nanosleep", 1, 0,
		    SXF_INTERRUPT, 5), 0);
}

/*
 * recv with nothing to read, flush to a peer that does not read: spurious
 * or interrupted waits and sleeps make neither return early nor spin;
 * -ETIMEDOUT at the deadline, nothing lost.
 */
START_TEST(faults_chan_waits_neither_spin_nor_end_early)
{
	unsigned row = (unsigned)_i / 2, id, next = 0;
	static unsigned char big[8192];
	int t = types[_i % 2], r;
	struct sockx_msg m;
	sockx_chan *a, *b;
	double t0, el, cpu;
	size_t pending;

	sxf_load();
	chan_pair(t, &a, &b);
	t0 = sxt_now();
	cpu = sxt_thread_cpu();
	sxf.begin();
	add_wait_rule(row);
	errno = 0;
	r = sockx_chan_recv(b, &m, 150);
	sxf.end();
	el = sxt_now() - t0;
	cpu = sxt_thread_cpu() - cpu;
	ck_assert_uint_lt(sxf.calls("recvmsg"), 100);
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_double_ge(el, 0.150);
	ck_assert_double_lt(el, 3.0);
	ck_assert_double_lt(cpu, 0.1 * slowdown());

	/* Fill the socket: the queue stays non-empty. */
	for (id = 0; id < 10000; id++) {
		payload(id, big, sizeof(big));
		r = sockx_chan_send(a, TYPE, id, big, sizeof(big), NULL, 0,
		    0);
		if (r == -ETIMEDOUT)
			break;
		ck_assert_int_eq(r, 0);
	}
	ck_assert_int_eq(r, -ETIMEDOUT);
	pending = sockx_chan_pending(a);
	ck_assert_uint_gt(pending, 0);
	t0 = sxt_now();
	cpu = sxt_thread_cpu();
	sxf.begin();
	add_wait_rule(row);
	errno = 0;
	r = sockx_chan_flush(a, 150);
	sxf.end();
	el = sxt_now() - t0;
	cpu = sxt_thread_cpu() - cpu;
	ck_assert_uint_lt(sxf.calls("sendmsg"), 100);
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_double_ge(el, 0.150);
	ck_assert_double_lt(el, 3.0);
	ck_assert_double_lt(cpu, 0.1 * slowdown());
	ck_assert_uint_eq(sockx_chan_pending(a), pending);
	/* Nothing lost or doubled: every message in order. */
	for (;;) {
		r = sockx_chan_flush(a, 0);
		while (sockx_chan_recv(b, &m, 0) == 1) {
			ck_assert_uint_eq(m.id, next);
			payload(next, big, sizeof(big));
			ck_assert_uint_eq(m.len, sizeof(big));
			ck_assert(memcmp(m.data, big, sizeof(big)) == 0);
			next++;
		}
		if (r == 0 && next == id + 1)
			break;
		ck_assert(r == 0 || r == -ETIMEDOUT);
	}
	expect_nothing(b);
	close_pair(a, b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* sockx_chan_close                                                  */
/* ---------------------------------------------------------------- */

/*
 * Every close(2) reports EINTR (after closing, as Linux does): the
 * channel's descriptors are all closed anyway; the handle's close reports
 * -EINPROGRESS, as sockx_close does.
 */
START_TEST(faults_chan_close_interrupted_closes_everything)
{
	static struct out o1, o2;
	struct sockx_msg m;
	sockx_chan *a, *b;
	int fds, r;

	sxf_load();
	chan_pair(types[_i], &a, &b);
	out_make(&o1, 1, 10, 3);
	out_make(&o2, 2, 10, 2);
	fds = sxt_count_fds();
	ck_assert_int_eq(send_msg(a, &o1, T_MS), 0);
	ck_assert_int_eq(send_msg(a, &o2, T_MS), 0);
	ck_assert_int_eq(sockx_chan_recv(b, &m, T_MS), 1);
	/* b holds m's three; a queues two more. */
	ck_assert_int_eq(queue(b, &o2), 0);
	ck_assert_int_eq(sxt_count_fds(), fds + 5);
	sxf.begin();
	ck_assert_int_eq(sxf.add("close", 1, 0, SXF_FAIL_AFTER, EINTR), 0);
	errno = 0;
	r = sockx_chan_close(b);
	ck_assert_uint_ge(sxf.end(), 6);
	ck_assert_int_eq(r, -EINPROGRESS);
	ck_assert_int_eq(errno, EINPROGRESS);
	ck_assert_int_eq(sxt_count_fds(), fds - 1);
	out_free(&o1);
	out_free(&o2);
	ck_assert_int_eq(sockx_chan_close(a), 0);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("faults-chan");
	TCase *tc;

	tc = sx_tcase("chan", 60);
	tcase_add_loop_test(tc, faults_chan_open_fails_cleanly, 0,
	    NELEM(open_faults));
	tcase_add_loop_test(tc, faults_chan_queue_out_of_memory_queues_nothing,
	    0, NELEM(types));
	tcase_add_loop_test(tc, faults_chan_dup_failure_queues_nothing, 0, 4);
	tcase_add_loop_test(tc, faults_chan_send_error_queues_nothing, 0,
	    NELEM(send_errs));
	tcase_add_loop_test(tc, faults_chan_flush_error_keeps_the_queue, 0,
	    2 * NELEM(send_errs));
	tcase_add_loop_test(tc,
	    faults_chan_send_error_after_partial_write_keeps_framing, 0, 3);
	tcase_add_loop_test(tc, faults_chan_transient_errors_are_absorbed, 0,
	    2 * NELEM(transient));
	tcase_add_loop_test(tc,
	    faults_chan_transient_storm_times_out_without_spinning, 0,
	    2 * NELEM(storms));
	tcase_add_loop_test(tc,
	    faults_chan_short_sends_deliver_every_descriptor_once, 0,
	    NELEM(shorts));
	tcase_add_loop_test(tc,
	    faults_chan_short_sends_keep_descriptors_at_the_header, 0,
	    NELEM(shorts));
	tcase_add_loop_test(tc,
	    faults_chan_short_reads_deliver_every_descriptor_once, 0,
	    NELEM(shorts));
	tcase_add_loop_test(tc, faults_chan_recv_error_loses_nothing, 0,
	    NELEM(recv_errs));
	tcase_add_loop_test(tc, faults_chan_recv_out_of_memory_loses_nothing,
	    0, NELEM(types));
	tcase_add_loop_test(tc, faults_chan_ctrunc_breaks_the_receive_side, 0,
	    4);
	tcase_add_loop_test(tc, faults_chan_waits_neither_spin_nor_end_early,
	    0, 2 * NELEM(waits));
	tcase_add_loop_test(tc,
	    faults_chan_close_interrupted_closes_everything, 0, NELEM(types));
	suite_add_tcase(s, tc);
	return s;
}
