/* SPDX-License-Identifier: MIT */
/*
 * soak.c - load and soak: many concurrent connections doing timed
 * request/response through a libsockx server for a bounded time, with
 * random client timeouts, aborts, early closes and stalls.
 *
 * Usage: soak [SECONDS [CONNECTIONS]]   (defaults: 60 s, 1200 connections,
 *        half over an abstract unix socket, half over TCP on 127.0.0.1)
 *        SOAK_SEED=N in the environment seeds the random choices (the
 *        threads interleave differently in every run all the same).
 *
 * The server is a forked child that serves from one thread on one poll
 * set (sockx_poll_*): its two listeners (sockx_listen with a large
 * backlog; accepted with timeout 0 when the set says so) and every
 * connection, each read and written without waiting (sockx_read_full and
 * sockx_write_full with timeout 0, whose done says what moved) into a
 * buffer of its own while a request is in flight (every other handle
 * with a small SO_SNDBUF, so that replies also wait for room).  A connection's
 * deadline in the set is SRV_TIMEOUT_MS from its request's first byte
 * until the request is whole, then from the first time its reply does not
 * fit until the reply is written; an idle connection has none.  So one
 * stalled client holds nobody else.  Any end of stream, error or expiry
 * closes the handle, exactly once, in the one place (drop_conn) that also
 * counts it.  The control thread stops the loop with sockx_poll_wake.
 *
 * A request is a 32-byte header (magic, length, sequence number,
 * connection id, checksum of the payload) and 1 B .. 64 KiB of random
 * payload.  The server checks the magic, the length, the checksum, that
 * the sequence number is the next one of that connection and that the
 * connection id never changes; it answers with a header (its own magic,
 * the same length, sequence and id, the checksum of the reply payload)
 * and the payload transformed (xor with a key from sequence, id and
 * position).  The client compares every reply byte with the transform it
 * computes itself: a reply that arrives is exactly right or the run fails.
 *
 * The client (the parent process) runs CLI_THREADS threads that keep
 * CONNECTIONS connections open and use them in random order, one request
 * in flight per thread, with random per-call timeouts (generous ones of
 * 3..10 s, whose expiry is a failure, or deliberately short ones of 0..2
 * ms, whose expiry is expected) and random disturbances: abort (RST on
 * TCP) or close while idle, mid-request, after the request and mid-reply;
 * a short timeout on the write, the wait or the reply, after which the
 * connection is closed (its stream state is unknown); and, at most every
 * 2 s, a client that stalls mid-request until the server times it out.
 * Every closed connection is replaced at once, so at least CONNECTIONS -
 * CLI_THREADS are open at any moment.  Transfers are made whole
 * (sockx_write_full, sockx_read_full, sometimes after sockx_wait) or in
 * random pieces (sockx_write, sockx_read); a quarter of the handles on
 * each side are in kernel-timeout mode (sockx_set_kernel_timeouts).  A
 * failure on a connection the client did not disturb is a loss.
 *
 * At the end the client closes everything and sends its totals to the
 * server over a control socket (sockx_pair); the server waits until it
 * has accepted as many connections as the client opened and closed every
 * one, stops, and sends its report back.  Checks: no loss, no corruption,
 * the server's counts consistent with the client's (requests sent,
 * received, answered, completed; connections opened, accepted, closed),
 * every stalled client timed out by the server after SRV_TIMEOUT_MS and
 * no other, every short timeout kind and disturbance exercised (runs of
 * 10 s and more), descriptors back to their counts before the load in
 * both processes, and memory flat after the warm-up (10 s, or half a
 * shorter run) in both processes: resident memory at the end of the load
 * at most max(2 MiB, 10%) above the warm-up sample, and the heap in use
 * (glibc's mallinfo2) at most HEAP_SLACK above it.  Under
 * AddressSanitizer, whose allocator and quarantine hold freed memory, the
 * memory figures are printed but not checked; LeakSanitizer checks both
 * processes at exit instead.
 *
 * Prints the figures and one line per check on stdout; exits 0 only when
 * every check passed, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sockx.h>

#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ASAN 1
#endif
#endif
#ifndef SOAK_ASAN
#define SOAK_ASAN 0
#endif

#define MAGIC_REQ	0x51524b53u	/* "SKRQ" */
#define MAGIC_REP	0x50524b53u	/* "SKRP" */
#define HDR		32
#define MAX_PAYLOAD	65536
#define SRV_TIMEOUT_MS	1000
#define SRV_SNDBUF	8192	/* on every other server handle */
#define BACKLOG		4096
#define CLI_THREADS	32
#define CONNECT_MS	5000
#define STALL_EVERY_NS	2000000000LL	/* at most one stall per 2 s */
#define STALL_WAIT_MS	5000		/* the server must time out by then */
#define MAX_SAMPLES	4096
#define MIB		(1024.0 * 1024.0)
/*
 * Heap in use may grow this much between the warm-up and the end: a few
 * dozen handles more or less open at the sampling moments and the
 * arrays that hold them; a handle leaked per connection opened (tens of
 * thousands a minute) is far more.
 */
#define HEAP_SLACK	(128 * 1024)

enum { UNIX, TCP };
static const char *const kind_text[2] = { "unix", "tcp" };

struct hdr {
	uint32_t magic;
	uint32_t len;
	uint64_t seq;
	uint64_t conn;
	uint64_t sum;
};
_Static_assert(sizeof(struct hdr) == HDR, "header layout");

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("soak: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* The descriptors open in this process (the listing's own excluded). */
static int
count_fds(void)
{
	struct dirent *e;
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* Resident set size in bytes, from /proc/self/statm. */
static uint64_t
rss_bytes(void)
{
	unsigned long size, resident;
	FILE *f;
	int ok;

	f = fopen("/proc/self/statm", "re");
	if (f == NULL)
		return 0;
	ok = fscanf(f, "%lu %lu", &size, &resident) == 2;
	fclose(f);
	return ok ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

/*
 * Bytes of heap in use (every arena, and mmap()ed blocks), or 0 where the
 * C library cannot tell.  Under AddressSanitizer, whose allocator glibc's
 * counters do not see, 0.
 */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33) && \
    !SOAK_ASAN
#define HAVE_HEAP 1
static uint64_t
heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}
#else
#define HAVE_HEAP 0
static uint64_t
heap_bytes(void)
{
	return 0;
}
#endif

/*
 * The peak resident set size in bytes: VmHWM of /proc/self/status, which
 * belongs to this program's address space (getrusage's ru_maxrss carries
 * over the peak of whatever ran before execve, e.g. the test runner), or
 * VmRSS if that is higher (the kernel updates VmHWM lazily).
 */
static uint64_t
peak_rss_bytes(void)
{
	unsigned long kib, peak = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if ((sscanf(line, "VmHWM: %lu kB", &kib) == 1 ||
		    sscanf(line, "VmRSS: %lu kB", &kib) == 1) && kib > peak)
			peak = kib;
	fclose(f);
	return (uint64_t)peak * 1024;
}

/* xorshift64*, seeded through splitmix64. */
static uint64_t
splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint64_t
rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

static void
rng_fill(uint64_t *s, unsigned char *p, size_t n)
{
	uint64_t w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		w = rng_next(s);
		memcpy(p + i, &w, 8);
	}
	w = rng_next(s);
	memcpy(p + i, &w, n - i);
}

/* A 64-bit checksum sensitive to every byte's value and position. */
static uint64_t
checksum(const unsigned char *p, size_t n)
{
	uint64_t h = 0x6a09e667f3bcc909ULL ^ (uint64_t)n, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, p + i, n - i);
	h = (h ^ w ^ ((uint64_t)(n - i) << 56)) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

/* The reply payload of a request: xor with a key of seq, id, position. */
static void
transform(unsigned char *dst, const unsigned char *src, size_t n,
    uint64_t seq, uint64_t conn)
{
	uint64_t key = splitmix(seq * 0x100000001b3ULL ^ conn);
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[i] ^ (unsigned char)(key >> (8 * (i & 7))) ^
		    (unsigned char)(i >> 3);
}

static int
gen_timeout(uint64_t *rng)
{
	return 3000 + (int)rng_below(rng, 7001);
}

/*
 * Both processes sample themselves on the same clock over the same load
 * window [t_start, deadline]: a count (connections open, or handles
 * live) every 100 ms from from_tick on, and the resident memory and the
 * heap in use every second, the last time 10 ms before the deadline,
 * while the load still runs.  mem[i] is the sample at i + 1 s.
 */
struct sampler {
	int64_t t_start, deadline;
	int from_tick;
	atomic_long *count;
	long min, max;
	int n;
	uint64_t rss[MAX_SAMPLES], heap[MAX_SAMPLES];
	uint64_t peak;		/* VmHWM, or the highest sample */
};

static void
sample_load(struct sampler *sp)
{
	struct timespec next;
	int64_t t = sp->t_start, last = sp->deadline - 10000000;
	long v;
	int tick;

	sp->min = -1;
	sp->max = 0;
	sp->n = 0;
	for (tick = 1; t < last; tick++) {
		t += 100000000;
		if (t > last)
			t = last;
		next.tv_sec = (time_t)(t / 1000000000);
		next.tv_nsec = (long)(t % 1000000000);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) == EINTR)
			;
		if (tick >= sp->from_tick) {
			v = atomic_load(sp->count);
			if (sp->min < 0 || v < sp->min)
				sp->min = v;
			if (v > sp->max)
				sp->max = v;
		}
		if ((tick % 10 == 0 || t == last) && sp->n < MAX_SAMPLES) {
			sp->rss[sp->n] = rss_bytes();
			sp->heap[sp->n] = heap_bytes();
			if (sp->rss[sp->n] > sp->peak)
				sp->peak = sp->rss[sp->n];
			sp->n++;
		}
	}
	if (peak_rss_bytes() > sp->peak)
		sp->peak = peak_rss_bytes();
}

/* The samples at warm_s (or the last before), at the end, and the max. */
static void
mem_figures(const uint64_t *mem, int n, int warm_s, uint64_t *at_warm,
    uint64_t *at_end, uint64_t *max_after)
{
	int i, w = warm_s < 1 ? 0 : warm_s - 1;

	*at_warm = *at_end = *max_after = 0;
	if (n == 0)
		return;
	if (w > n - 1)
		w = n - 1;
	*at_warm = mem[w];
	*at_end = mem[n - 1];
	for (i = w; i < n; i++)
		if (mem[i] > *max_after)
			*max_after = mem[i];
}

/* ------------------------------------------------------------------ */
/* What the processes tell each other                                  */
/* ------------------------------------------------------------------ */

/* Server counters. */
#define SSTATS(X) \
	X(received) X(answered) X(bytes_in) X(bytes_out) \
	X(eof_idle) X(eof_mid) X(reset_idle) X(reset_mid) \
	X(timeout_read) X(other_read) \
	X(peer_gone_write) X(timeout_write) X(other_write) X(reply_waits) \
	X(bad_header) X(bad_sum) X(bad_seq) X(bad_conn) X(poll_err) \
	X(close_err) X(forced_close) X(closed)

struct sstats {
#define F(n) uint64_t n;
	SSTATS(F)
#undef F
	int last_other_err;
};

struct ready_msg {
	char addr[2][SOCKX_ADDRSTRLEN + 8];
};

/* The client's load window, on CLOCK_MONOTONIC, which both share. */
struct start_msg {
	int64_t t_start, deadline;
};

struct done_msg {
	uint64_t connects[2];
};

struct report {
	struct sstats st;
	uint64_t accepted[2];
	uint64_t accepted_kernel_mode;
	uint64_t accept_errors;
	int accept_last_err;
	uint64_t live_end;
	int drained;		/* all accepted and closed before the limit */
	double drain_s;
	int fd_pre, fd_base, fd_end, fd_final;
	uint64_t rss_warm, rss_end, rss_max_after_warm;
	uint64_t heap_warm, heap_end, heap_max_after_warm, heap_drained;
	uint64_t peak_rss;
	int nsamples;
	long live_min, live_max;	/* live handles, after the warm-up */
};

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/*
 * A connection and the request it is in the middle of.  Its I/O state:
 * header bytes read (hdr_got), payload bytes read (got) into buf, or reply
 * bytes written (sent) from buf.  buf, one of the pool's, is held only
 * from a request's first payload byte until its reply is written.
 */
enum phase { P_IDLE, P_HEADER, P_PAYLOAD, P_REPLY };

struct sconn {
	sockx *s;
	size_t idx;		/* in srv.c */
	uint64_t next_seq;
	uint64_t id;		/* the client's connection id, once known */
	int kind;
	enum phase phase;
	struct hdr h;
	size_t hdr_got, got, sent;
	unsigned char *buf;	/* HDR + MAX_PAYLOAD, while busy */
};

/*
 * Request buffers: a stack of free ones, so that the memory in use stops
 * growing once it covers the requests in flight at once (at most one per
 * client thread, and a few disturbed ones).  POOL_START of them are made
 * before the load.
 */
#define POOL_START	(2 * CLI_THREADS)

static struct {
	sockx *l[2];
	sockx_poll *set;
	struct sconn **c;	/* every connection, for the stop */
	size_t n, cap;
	unsigned char **pool;
	size_t npool, capool;
	uint64_t accepted_n[2];
	uint64_t kernel_mode;
	uint64_t accept_errors;
	int accept_last_err;
	struct sstats st;
	pthread_t tid;
	pthread_t sampler_tid;
	struct sampler sampler;
	atomic_int stop;
	atomic_uint_fast64_t accepted[2];
	atomic_long live;		/* handles accepted, not yet closed */
} srv;

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		die("out of memory");
	return p;
}

static unsigned char *
pool_get(void)
{
	unsigned char *b;

	if (srv.npool > 0)
		return srv.pool[--srv.npool];
	b = malloc(HDR + MAX_PAYLOAD);
	if (b == NULL)
		die("out of memory");
	return b;
}

static void
pool_put(unsigned char *b)
{
	if (b == NULL)
		return;
	if (srv.npool == srv.capool) {
		srv.capool = srv.capool ? 2 * srv.capool : POOL_START;
		srv.pool = xrealloc(srv.pool, srv.capool * sizeof(*srv.pool));
	}
	srv.pool[srv.npool++] = b;
}

/* Close the handle of c, exactly once (which takes it out of the set). */
static void
drop_conn(struct sconn *c)
{
	if (sockx_close(c->s) < 0)
		srv.st.close_err++;
	srv.st.closed++;
	atomic_fetch_sub(&srv.live, 1);
	pool_put(c->buf);
	srv.c[c->idx] = srv.c[--srv.n];
	srv.c[c->idx]->idx = c->idx;
	free(c);
}

/* Accept what waits on listener kind; every 4th handle in kernel mode. */
static void
take(int kind)
{
	int i, r, sndbuf = SRV_SNDBUF;
	struct sconn *c;
	sockx *s;

	for (i = 0; i < 64; i++) {
		r = sockx_accept(srv.l[kind], &s, 0);
		if (r == -ETIMEDOUT)
			return;
		if (r < 0) {
			/* Stop watching it for 10 ms rather than spin. */
			srv.accept_errors++;
			srv.accept_last_err = -r;
			sockx_poll_mod(srv.set, srv.l[kind], 0, 10);
			return;
		}
		/*
		 * Every other handle gets a small send buffer, so that its
		 * larger replies go out in pieces as room comes.
		 */
		if (srv.accepted_n[kind] % 2 == 0 &&
		    setsockopt(sockx_fd(s), SOL_SOCKET, SO_SNDBUF, &sndbuf,
		    sizeof(sndbuf)) < 0)
			die("SO_SNDBUF: %s", strerror(errno));
		if (srv.accepted_n[kind]++ % 4 == 3) {
			if (sockx_set_kernel_timeouts(s, 1) < 0)
				die("sockx_set_kernel_timeouts: %s",
				    strerror(errno));
			srv.kernel_mode++;
		}
		atomic_fetch_add(&srv.accepted[kind], 1);
		atomic_fetch_add(&srv.live, 1);
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			die("out of memory");
		c->s = s;
		c->kind = kind;
		if (srv.n == srv.cap) {
			srv.cap = srv.cap ? 2 * srv.cap : 1024;
			srv.c = xrealloc(srv.c, srv.cap * sizeof(*srv.c));
		}
		c->idx = srv.n;
		srv.c[srv.n++] = c;
		/* Idle: no deadline until a request starts. */
		r = sockx_poll_add(srv.set, s, SOCKX_READABLE, -1, c);
		if (r < 0) {
			srv.st.poll_err++;
			drop_conn(c);
		}
	}
}

static void
count_read_error(ssize_t r, int mid)
{
	if (r == -ECONNRESET) {
		if (mid)
			srv.st.reset_mid++;
		else
			srv.st.reset_idle++;
	} else {
		srv.st.other_read++;
		srv.st.last_other_err = (int)-r;
	}
}

/*
 * Read what has come of c's request, without waiting (read_full with
 * timeout 0 returns -ETIMEDOUT and, in done, what it read).  Returns 1
 * when the request is whole and checked, 0 when more must come, -1 to
 * close c.
 */
static int
read_request(struct sconn *c)
{
	size_t done = 0;
	ssize_t r;

	if (c->phase == P_IDLE || c->phase == P_HEADER) {
		r = sockx_read_full(c->s, (char *)&c->h + c->hdr_got,
		    HDR - c->hdr_got, &done, 0);
		c->hdr_got += done;
		if (r >= 0 && c->hdr_got < HDR) {	/* end of stream */
			if (c->hdr_got == 0)
				srv.st.eof_idle++;
			else
				srv.st.eof_mid++;
			return -1;
		}
		if (r < 0 && r != -ETIMEDOUT) {
			count_read_error(r, c->hdr_got > 0);
			return -1;
		}
		if (c->hdr_got < HDR) {
			c->phase = c->hdr_got > 0 ? P_HEADER : P_IDLE;
			return 0;
		}
		if (c->h.magic != MAGIC_REQ || c->h.len < 1 ||
		    c->h.len > MAX_PAYLOAD) {
			srv.st.bad_header++;
			return -1;
		}
		c->phase = P_PAYLOAD;
		c->buf = pool_get();
		c->got = 0;
	}
	r = sockx_read_full(c->s, c->buf + HDR + c->got, c->h.len - c->got,
	    &done, 0);
	c->got += done;
	if (r >= 0 && c->got < c->h.len) {
		srv.st.eof_mid++;
		return -1;
	}
	if (r < 0 && r != -ETIMEDOUT) {
		count_read_error(r, 1);
		return -1;
	}
	if (c->got < c->h.len)
		return 0;
	if (checksum(c->buf + HDR, c->h.len) != c->h.sum) {
		srv.st.bad_sum++;
		return -1;
	}
	if (c->h.seq != c->next_seq) {
		srv.st.bad_seq++;
		return -1;
	}
	if (c->next_seq == 0)
		c->id = c->h.conn;
	else if (c->h.conn != c->id) {
		srv.st.bad_conn++;
		return -1;
	}
	c->next_seq++;
	srv.st.received++;
	srv.st.bytes_in += HDR + c->h.len;
	return 1;
}

/* Make the reply in c->buf: the header, the payload transformed in place. */
static void
make_reply(struct sconn *c)
{
	struct hdr rh;

	transform(c->buf + HDR, c->buf + HDR, c->h.len, c->h.seq, c->h.conn);
	rh.magic = MAGIC_REP;
	rh.len = c->h.len;
	rh.seq = c->h.seq;
	rh.conn = c->h.conn;
	rh.sum = checksum(c->buf + HDR, c->h.len);
	memcpy(c->buf, &rh, HDR);
	c->phase = P_REPLY;
	c->sent = 0;
}

/*
 * Write what the socket takes of c's reply now.  Returns 1 when all of it
 * is written, 0 when the rest must wait for room, -1 to close c.
 */
static int
write_reply(struct sconn *c)
{
	size_t done = 0;
	ssize_t r;

	r = sockx_write_full(c->s, c->buf + c->sent, HDR + c->h.len - c->sent,
	    &done, 0);
	c->sent += done;
	if (r < 0 && r != -ETIMEDOUT) {
		if (r == -EPIPE || r == -ECONNRESET)
			srv.st.peer_gone_write++;
		else {
			srv.st.other_write++;
			srv.st.last_other_err = (int)-r;
		}
		return -1;
	}
	if (c->sent < HDR + c->h.len)
		return 0;
	srv.st.answered++;
	srv.st.bytes_out += HDR + c->h.len;
	pool_put(c->buf);
	c->buf = NULL;
	c->hdr_got = 0;
	c->phase = P_IDLE;
	return 1;
}

/*
 * Serve the event of c and re-arm its deadline: none while idle,
 * SRV_TIMEOUT_MS from a request's first byte until it is whole (bytes that
 * trickle in do not extend it), and SRV_TIMEOUT_MS from the first time
 * its reply did not fit until it is written.
 */
static void
serve(struct sconn *c, int events)
{
	enum phase was = c->phase;
	int r, ms;

	if (events & SOCKX_EXPIRED) {
		if (c->phase == P_REPLY)
			srv.st.timeout_write++;
		else
			srv.st.timeout_read++;
		drop_conn(c);
		return;
	}
	if (c->phase != P_REPLY) {
		r = read_request(c);
		if (r < 0) {
			drop_conn(c);
			return;
		}
		if (r > 0)
			make_reply(c);
	}
	if (c->phase == P_REPLY && write_reply(c) < 0) {
		drop_conn(c);
		return;
	}
	if (c->phase == P_IDLE)
		ms = -1;
	else if (c->phase == P_REPLY)
		ms = was == P_REPLY ? SOCKX_POLL_KEEP :
		    (srv.st.reply_waits++, SRV_TIMEOUT_MS);
	else
		ms = was == P_IDLE ? SRV_TIMEOUT_MS : SOCKX_POLL_KEEP;
	r = sockx_poll_mod(srv.set, c->s, c->phase == P_REPLY ?
	    SOCKX_WRITABLE : SOCKX_READABLE, ms);
	if (r < 0) {
		srv.st.poll_err++;
		drop_conn(c);
	}
}

/*
 * The server: one thread, one poll set of the two listeners and every
 * connection, until the control thread sets srv.stop and wakes the set.
 * Each member appears once per wait and serve() closes only its own
 * connection, so no event of a batch names a closed one.
 */
static void *
server_loop(void *arg)
{
	struct sockx_event ev[128];
	int i, n, k;

	(void)arg;
	while (!atomic_load(&srv.stop)) {
		n = sockx_poll_wait(srv.set, ev, 128, -1);
		if (n < 0)
			die("sockx_poll_wait: %s", strerror(-n));
		for (i = 0; i < n; i++) {
			if (ev[i].events & SOCKX_WOKEN)
				continue;	/* srv.stop, checked above */
			if (ev[i].data != NULL) {
				serve(ev[i].data, ev[i].events);
				continue;
			}
			k = ev[i].s == srv.l[UNIX] ? UNIX : TCP;
			if (ev[i].events & SOCKX_EXPIRED)
				sockx_poll_mod(srv.set, srv.l[k],
				    SOCKX_READABLE, -1);
			else
				take(k);
		}
	}
	while (srv.n > 0) {
		srv.st.forced_close++;
		drop_conn(srv.c[srv.n - 1]);
	}
	return NULL;
}

static void *
sampler_main(void *arg)
{
	sample_load(arg);
	return NULL;
}

static void
start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int r = pthread_create(t, NULL, fn, arg);

	if (r != 0)
		die("pthread_create: %s", strerror(r));
}

static void
local_text(const sockx *s, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (sockx_local_addr(s, &ss, &len) < 0 ||
	    sockx_addr_format((struct sockaddr *)&ss, len, buf, size) <= 0)
		die("local address: %s", strerror(errno));
}

static int
server_main(sockx *ctl, int seconds, int warm_s)
{
	struct ready_msg ready;
	struct start_msg start;
	struct done_msg done;
	struct report rep;
	char name[64];
	int64_t limit, t_done;
	unsigned char *buf;
	ssize_t r;
	int k;

	memset(&rep, 0, sizeof(rep));
	rep.fd_pre = count_fds();
	snprintf(name, sizeof(name), "@sockx-soak-%ld-%lx", (long)getppid(),
	    (unsigned long)now_ns());
	if (sockx_listen(&srv.l[UNIX], name, BACKLOG, 0, 0) < 0)
		die("listen %s: %s", name, strerror(errno));
	if (sockx_listen(&srv.l[TCP], "127.0.0.1:0", BACKLOG, 0, 0) < 0)
		die("listen 127.0.0.1:0: %s", strerror(errno));
	memset(&ready, 0, sizeof(ready));
	for (k = 0; k < 2; k++)
		local_text(srv.l[k], ready.addr[k], sizeof(ready.addr[k]));

	if (sockx_poll_new(&srv.set, 0) < 0)
		die("sockx_poll_new: %s", strerror(errno));
	for (k = 0; k < 2; k++)
		if (sockx_poll_add(srv.set, srv.l[k], SOCKX_READABLE, -1,
		    NULL) < 0)
			die("sockx_poll_add: %s", strerror(errno));
	/* The request buffers, made before the load (see pool_get). */
	while (srv.npool < POOL_START) {
		buf = malloc(HDR + MAX_PAYLOAD);
		if (buf == NULL)
			die("out of memory");
		pool_put(buf);
	}
	start_thread(&srv.tid, server_loop, NULL);
	rep.fd_base = count_fds();
	if (sockx_write_full(ctl, &ready, sizeof(ready), NULL, 5000) < 0)
		die("server: send ready: %s", strerror(errno));
	r = sockx_read_full(ctl, &start, sizeof(start), NULL, 60000);
	if (r != (ssize_t)sizeof(start))
		die("server: the load did not start: %s",
		    r < 0 ? strerror(errno) : "end of stream");
	srv.sampler.t_start = start.t_start;
	srv.sampler.deadline = start.deadline;
	srv.sampler.from_tick = warm_s * 10;
	srv.sampler.count = &srv.live;
	start_thread(&srv.sampler_tid, sampler_main, &srv.sampler);

	r = sockx_read_full(ctl, &done, sizeof(done), NULL,
	    (seconds + 300) * 1000);
	if (r != (ssize_t)sizeof(done))
		die("server: no word from the client: %s",
		    r < 0 ? strerror(errno) : "end of stream");
	t_done = now_ns();
	/* Drain: every connection the client opened accepted and closed. */
	limit = t_done + 20 * 1000000000LL;
	while (now_ns() < limit) {
		if (atomic_load(&srv.accepted[UNIX]) >= done.connects[UNIX] &&
		    atomic_load(&srv.accepted[TCP]) >= done.connects[TCP] &&
		    atomic_load(&srv.live) == 0) {
			rep.drained = 1;
			break;
		}
		sleep_ms(5);
	}
	rep.drain_s = (double)(now_ns() - t_done) / 1e9;
	atomic_store(&srv.stop, 1);
	sockx_poll_wake(srv.set);	/* from another thread */
	pthread_join(srv.tid, NULL);
	rep.st = srv.st;
	rep.accept_errors = srv.accept_errors;
	rep.accept_last_err = srv.accept_last_err;
	rep.accepted_kernel_mode = srv.kernel_mode;
	for (k = 0; k < 2; k++)
		rep.accepted[k] = atomic_load(&srv.accepted[k]);
	pthread_join(srv.sampler_tid, NULL);
	rep.live_end = atomic_load(&srv.live);
	rep.heap_drained = heap_bytes();
	rep.fd_end = count_fds();
	while (srv.npool > 0)
		free(srv.pool[--srv.npool]);
	free(srv.pool);
	free(srv.c);
	for (k = 0; k < 2; k++)
		if (sockx_close(srv.l[k]) < 0)	/* leaves the set too */
			rep.st.close_err++;
	sockx_poll_free(srv.set);
	rep.fd_final = count_fds();

	rep.nsamples = srv.sampler.n;
	mem_figures(srv.sampler.rss, rep.nsamples, warm_s, &rep.rss_warm,
	    &rep.rss_end, &rep.rss_max_after_warm);
	mem_figures(srv.sampler.heap, rep.nsamples, warm_s, &rep.heap_warm,
	    &rep.heap_end, &rep.heap_max_after_warm);
	rep.peak_rss = srv.sampler.peak > peak_rss_bytes() ?
	    srv.sampler.peak : peak_rss_bytes();
	rep.live_min = srv.sampler.min;
	rep.live_max = srv.sampler.max;
	if (sockx_write_full(ctl, &rep, sizeof(rep), NULL, 10000) < 0)
		die("server: send report: %s", strerror(errno));
	sockx_close(ctl);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

enum dist {
	K_NORMAL,
	K_ABORT_IDLE, K_CLOSE_IDLE,
	K_ABORT_MID_REQ, K_CLOSE_MID_REQ,
	K_ABORT_AFTER_REQ, K_CLOSE_AFTER_REQ,
	K_ABORT_MID_REP, K_CLOSE_MID_REP,
	K_SHORT_WRITE, K_SHORT_WAIT, K_SHORT_READ,
	K_STALL,
	K_COUNT
};

static const char *const dist_name[K_COUNT] = {
	"normal",
	"abort idle", "close idle",
	"abort mid-request", "close mid-request",
	"abort after request", "close after request",
	"abort mid-reply", "close mid-reply",
	"short write timeout", "short wait timeout", "short read timeout",
	"stall mid-request",
};

/* Out of 10000 requests; K_STALL is also limited to one per 2 s. */
static const unsigned dist_weight[K_COUNT] = {
	0, 40, 40, 40, 40, 40, 40, 40, 40, 60, 40, 60, 10,
};

/* Latency buckets: bucket b > 0 holds [2^(b-1), 2^b) microseconds. */
#define LAT_BUCKETS	40

#define CSTATS(X) \
	X(connect_fail) X(sent_full) X(completed) \
	X(req_bytes) X(rep_bytes) X(disturbed_after_send) \
	X(short_write_hit) X(short_wait_hit) X(short_read_hit) \
	X(stall_ok) X(stall_fail) X(loss) X(corrupt) X(close_err) \
	X(io_full) X(io_pieces) X(io_wait) X(kernel_mode) \
	X(conns_used) X(conns_unused)

struct cstats {
#define F(n) uint64_t n;
	CSTATS(F)
#undef F
	uint64_t most_on_one;	/* requests completed on one connection */
	uint64_t connects[2];
	uint64_t dist[K_COUNT];
	uint64_t lat[2][LAT_BUCKETS];	/* undisturbed requests, per kind */
	uint64_t lat_max_us[2];
	double stall_min_ms, stall_max_ms;
};

static void
cstats_add(struct cstats *a, const struct cstats *b)
{
	int k;

#define F(n) a->n += b->n;
	CSTATS(F)
#undef F
	if (b->most_on_one > a->most_on_one)
		a->most_on_one = b->most_on_one;
	for (k = 0; k < 2; k++)
		a->connects[k] += b->connects[k];
	for (k = 0; k < K_COUNT; k++)
		a->dist[k] += b->dist[k];
	for (k = 0; k < 2 * LAT_BUCKETS; k++)
		a->lat[k / LAT_BUCKETS][k % LAT_BUCKETS] +=
		    b->lat[k / LAT_BUCKETS][k % LAT_BUCKETS];
	for (k = 0; k < 2; k++)
		if (b->lat_max_us[k] > a->lat_max_us[k])
			a->lat_max_us[k] = b->lat_max_us[k];
	if (b->stall_min_ms > 0 &&
	    (a->stall_min_ms == 0 || b->stall_min_ms < a->stall_min_ms))
		a->stall_min_ms = b->stall_min_ms;
	if (b->stall_max_ms > a->stall_max_ms)
		a->stall_max_ms = b->stall_max_ms;
}

struct cconn {
	sockx *s;
	int kind;
	uint64_t id;
	uint64_t seq;		/* also the requests it completed */
};

struct cthread {
	pthread_t tid;
	struct cconn *c;
	size_t n;
	uint64_t rng;
	unsigned char *req, *exp, *rep;
	struct cstats st;
};

static struct {
	char addr[2][SOCKX_ADDRSTRLEN + 8];
	pthread_barrier_t opened, go;
	int64_t deadline;
	atomic_long open_now;
	atomic_uint_fast64_t next_id;
	atomic_llong last_stall;
	atomic_int reports;
} cli;

static void
conn_drop(struct cthread *t, struct cconn *c, int abort_it)
{
	if ((abort_it ? sockx_abort(c->s) : sockx_close(c->s)) < 0)
		t->st.close_err++;
	if (c->seq > 0)
		t->st.conns_used++;
	else
		t->st.conns_unused++;
	if (c->seq > t->st.most_on_one)
		t->st.most_on_one = c->seq;
	c->s = NULL;
	atomic_fetch_sub(&cli.open_now, 1);
}

static int
conn_open(struct cthread *t, struct cconn *c)
{
	int r, one = 1;

	r = sockx_connect(&c->s, cli.addr[c->kind], CONNECT_MS);
	if (r < 0) {
		c->s = NULL;
		t->st.connect_fail++;
		if (atomic_fetch_add(&cli.reports, 1) < 20)
			fprintf(stderr, "soak: connect %s: %s\n",
			    cli.addr[c->kind], strerror(-r));
		return r;
	}
	/*
	 * Requests are often written piecewise: without TCP_NODELAY, Nagle's
	 * algorithm and the peer's delayed ACK would hold most of those
	 * requests for 40 ms, which measures TCP, not libsockx.
	 */
	if (c->kind == TCP && setsockopt(sockx_fd(c->s), IPPROTO_TCP,
	    TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY: %s", strerror(errno));
	/* A quarter of the connections wait in the kernel. */
	if (rng_below(&t->rng, 4) == 0) {
		if (sockx_set_kernel_timeouts(c->s, 1) < 0)
			die("sockx_set_kernel_timeouts: %s", strerror(errno));
		t->st.kernel_mode++;
	}
	c->id = atomic_fetch_add(&cli.next_id, 1) + 1;
	c->seq = 0;
	t->st.connects[c->kind]++;
	atomic_fetch_add(&cli.open_now, 1);
	return 0;
}

/* A failure on a connection the client did not disturb. */
static void
loss(struct cthread *t, struct cconn *c, enum dist k, const char *stage,
    ssize_t r)
{
	t->st.loss++;
	if (atomic_fetch_add(&cli.reports, 1) < 20)
		fprintf(stderr, "soak: LOSS on %s connection %" PRIu64
		    " seq %" PRIu64 " (%s) at %s: %s\n", kind_text[c->kind],
		    c->id, c->seq, dist_name[k], stage,
		    r < 0 ? strerror((int)-r) : "end of stream");
	conn_drop(t, c, 0);
}

static void
corrupt(struct cthread *t, struct cconn *c, enum dist k, const char *what)
{
	t->st.corrupt++;
	if (atomic_fetch_add(&cli.reports, 1) < 20)
		fprintf(stderr, "soak: CORRUPT reply on %s connection %" PRIu64
		    " seq %" PRIu64 " (%s): %s\n", kind_text[c->kind], c->id,
		    c->seq, dist_name[k], what);
	conn_drop(t, c, 0);
}

/* All n bytes of buf, in one call or in pieces; n or a negative errno. */
static ssize_t
send_all(struct cthread *t, sockx *s, const unsigned char *buf, size_t n)
{
	size_t off = 0, piece;
	ssize_t r;

	if (rng_below(&t->rng, 4) != 0) {
		t->st.io_full++;
		return sockx_write_full(s, buf, n, NULL,
		    gen_timeout(&t->rng));
	}
	t->st.io_pieces++;
	while (off < n) {
		piece = 1 + rng_below(&t->rng, n - off);
		r = sockx_write(s, buf + off, piece, gen_timeout(&t->rng));
		if (r < 0)
			return r;
		if (r == 0)
			return -ENODATA;	/* never, for len > 0 */
		off += (size_t)r;
	}
	return (ssize_t)n;
}

/* n bytes into buf: n, fewer at end of stream, or a negative errno. */
static ssize_t
recv_all(struct cthread *t, sockx *s, unsigned char *buf, size_t n)
{
	size_t off = 0, piece;
	ssize_t r;

	switch (rng_below(&t->rng, 4)) {
	case 0:
		t->st.io_pieces++;
		while (off < n) {
			piece = 1 + rng_below(&t->rng, n - off);
			r = sockx_read(s, buf + off, piece,
			    gen_timeout(&t->rng));
			if (r < 0)
				return r;
			if (r == 0)
				break;
			off += (size_t)r;
		}
		return (ssize_t)off;
	case 1:
		t->st.io_wait++;
		r = sockx_wait(s, SOCKX_READABLE, gen_timeout(&t->rng));
		if (r < 0)
			return r;
		/* FALLTHROUGH */
	default:
		t->st.io_full++;
		return sockx_read_full(s, buf, n, NULL, gen_timeout(&t->rng));
	}
}

static size_t
pick_len(uint64_t *rng)
{
	static const size_t edges[] = { 1, 2, 7, 8, 9, 65535, 65536 };

	switch (rng_below(rng, 8)) {
	case 0:
		return edges[rng_below(rng, sizeof(edges) / sizeof(edges[0]))];
	case 1:
	case 2:
	case 3:
		return 1 + rng_below(rng, MAX_PAYLOAD);
	default:	/* log-uniform: as many small as large */
		return 1 + rng_below(rng, (uint64_t)1 << rng_below(rng, 17));
	}
}

static enum dist
pick_dist(struct cthread *t)
{
	unsigned v = (unsigned)rng_below(&t->rng, 10000);
	long long last, now;
	int k;

	for (k = 1; k < K_COUNT; k++) {
		if (v < dist_weight[k])
			break;
		v -= dist_weight[k];
	}
	if (k == K_COUNT)
		return K_NORMAL;
	if (k == K_STALL) {
		now = now_ns();
		last = atomic_load(&cli.last_stall);
		if (now - last < STALL_EVERY_NS ||
		    now > cli.deadline - 3000000000LL ||
		    !atomic_compare_exchange_strong(&cli.last_stall, &last,
		    now))
			return K_NORMAL;
	}
	return (enum dist)k;
}

/*
 * A client that stops mid-request: the server must time it out (close the
 * connection) SRV_TIMEOUT_MS after it started waiting, which is after the
 * prefix arrived, and not much later.
 */
static void
stall(struct cthread *t, struct cconn *c)
{
	unsigned char b;
	int64_t t0 = now_ns();
	double ms;
	ssize_t r;

	r = sockx_wait(c->s, SOCKX_READABLE, STALL_WAIT_MS);
	ms = (double)(now_ns() - t0) / 1e6;
	if (r >= 0)
		r = sockx_read(c->s, &b, 1, 1000);
	if ((r == 0 || r == -ECONNRESET) && ms >= SRV_TIMEOUT_MS - 1) {
		t->st.stall_ok++;
		if (t->st.stall_min_ms == 0 || ms < t->st.stall_min_ms)
			t->st.stall_min_ms = ms;
		if (ms > t->st.stall_max_ms)
			t->st.stall_max_ms = ms;
	} else {
		t->st.stall_fail++;
		if (atomic_fetch_add(&cli.reports, 1) < 20)
			fprintf(stderr, "soak: stalled %s connection %" PRIu64
			    ": after %.1f ms, %s\n", kind_text[c->kind], c->id,
			    ms, r > 0 ? "data" : r == 0 ? "end of stream" :
			    strerror((int)-r));
	}
	conn_drop(t, c, 0);
}

static void
one_request(struct cthread *t, struct cconn *c)
{
	enum dist k = pick_dist(t);
	int64_t t0 = now_ns();
	uint64_t us;
	int small = 4096, b;
	size_t len, total, p;
	struct hdr h;
	ssize_t r;

	t->st.dist[k]++;
	if (k == K_ABORT_IDLE || k == K_CLOSE_IDLE) {
		conn_drop(t, c, k == K_ABORT_IDLE);
		return;
	}
	len = k == K_SHORT_WRITE ? MAX_PAYLOAD / 2 +
	    rng_below(&t->rng, MAX_PAYLOAD / 2 + 1) : pick_len(&t->rng);
	total = HDR + len;
	rng_fill(&t->rng, t->req + HDR, len);
	h.magic = MAGIC_REQ;
	h.len = (uint32_t)len;
	h.seq = c->seq;
	h.conn = c->id;
	h.sum = checksum(t->req + HDR, len);
	memcpy(t->req, &h, HDR);

	switch (k) {
	case K_ABORT_MID_REQ:
	case K_CLOSE_MID_REQ:
	case K_STALL:
		p = 1 + rng_below(&t->rng, total - 1);
		r = sockx_write_full(c->s, t->req, p, NULL,
		    gen_timeout(&t->rng));
		if (r < 0) {
			loss(t, c, k, "request prefix", r);
			return;
		}
		if (k == K_STALL)
			stall(t, c);
		else
			conn_drop(t, c, k == K_ABORT_MID_REQ);
		return;
	case K_SHORT_WRITE:
		/*
		 * 32..64 KiB fit in a socket's send buffer at once: shrink it
		 * (the kernel doubles this to 8 KiB) so that the write has to
		 * wait for the server to read, which 0..1 ms rarely allows.
		 * A connection whose write did not time out is closed after
		 * its reply: with a send buffer that small, TCP waits for
		 * the server's delayed ACKs, 40 ms each.
		 */
		if (setsockopt(sockx_fd(c->s), SOL_SOCKET, SO_SNDBUF, &small,
		    sizeof(small)) < 0)
			die("SO_SNDBUF: %s", strerror(errno));
		r = sockx_write_full(c->s, t->req, total, NULL,
		    (int)rng_below(&t->rng, 2));
		if (r == -ETIMEDOUT) {
			t->st.short_write_hit++;
			conn_drop(t, c, 0);
			return;
		}
		break;
	default:
		r = send_all(t, c->s, t->req, total);
		break;
	}
	if (r < 0) {
		loss(t, c, k, "request", r);
		return;
	}
	t->st.sent_full++;
	t->st.req_bytes += total;
	if (k == K_ABORT_AFTER_REQ || k == K_CLOSE_AFTER_REQ) {
		t->st.disturbed_after_send++;
		conn_drop(t, c, k == K_ABORT_AFTER_REQ);
		return;
	}
	if (k == K_SHORT_WAIT) {
		r = sockx_wait(c->s, SOCKX_READABLE,
		    (int)rng_below(&t->rng, 2));
		if (r == -ETIMEDOUT) {
			t->st.short_wait_hit++;
			t->st.disturbed_after_send++;
			conn_drop(t, c, 0);
			return;
		}
		if (r < 0) {
			loss(t, c, k, "wait", r);
			return;
		}
	}
	if (k == K_SHORT_READ) {
		r = sockx_read_full(c->s, t->rep, HDR, NULL,
		    (int)rng_below(&t->rng, 3));
		if (r == -ETIMEDOUT) {
			t->st.short_read_hit++;
			t->st.disturbed_after_send++;
			conn_drop(t, c, 0);
			return;
		}
	} else {
		r = recv_all(t, c->s, t->rep, HDR);
	}
	if (r != HDR) {
		loss(t, c, k, "reply header", r);
		return;
	}
	memcpy(&h, t->rep, HDR);
	if (h.magic != MAGIC_REP || h.len != len || h.seq != c->seq ||
	    h.conn != c->id) {
		corrupt(t, c, k, "header");
		return;
	}
	transform(t->exp, t->req + HDR, len, c->seq, c->id);
	if (k == K_ABORT_MID_REP || k == K_CLOSE_MID_REP) {
		p = rng_below(&t->rng, len);
		r = sockx_read_full(c->s, t->rep + HDR, p, NULL,
		    gen_timeout(&t->rng));
		if (r != (ssize_t)p) {
			loss(t, c, k, "reply prefix", r);
			return;
		}
		if (memcmp(t->rep + HDR, t->exp, p) != 0) {
			corrupt(t, c, k, "reply prefix");
			return;
		}
		t->st.disturbed_after_send++;
		conn_drop(t, c, k == K_ABORT_MID_REP);
		return;
	}
	r = recv_all(t, c->s, t->rep + HDR, len);
	if (r != (ssize_t)len) {
		loss(t, c, k, "reply payload", r);
		return;
	}
	if (memcmp(t->rep + HDR, t->exp, len) != 0) {
		corrupt(t, c, k, "payload");
		return;
	}
	if (checksum(t->rep + HDR, len) != h.sum) {
		corrupt(t, c, k, "checksum");
		return;
	}
	t->st.completed++;
	t->st.rep_bytes += total;
	c->seq++;
	if (k == K_SHORT_WRITE)
		conn_drop(t, c, 0);
	if (k == K_NORMAL) {
		us = (uint64_t)(now_ns() - t0) / 1000;
		for (b = 0; b < LAT_BUCKETS - 1 && us >> b != 0; b++)
			;
		t->st.lat[c->kind][b]++;
		if (us > t->st.lat_max_us[c->kind])
			t->st.lat_max_us[c->kind] = us;
	}
}

static void *
client_main(void *arg)
{
	struct cthread *t = arg;
	struct cconn *c;
	size_t i;

	for (i = 0; i < t->n; i++)
		conn_open(t, &t->c[i]);
	pthread_barrier_wait(&cli.opened);
	pthread_barrier_wait(&cli.go);
	while (now_ns() < cli.deadline) {
		c = &t->c[rng_below(&t->rng, t->n)];
		if (c->s == NULL && conn_open(t, c) < 0) {
			sleep_ms(10);
			continue;
		}
		one_request(t, c);
		if (c->s == NULL)
			conn_open(t, c);	/* keep the count up */
	}
	for (i = 0; i < t->n; i++)
		if (t->c[i].s != NULL)
			conn_drop(t, &t->c[i], 0);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Main: set up, run the client, judge                                 */
/* ------------------------------------------------------------------ */

static int failures;

/* The upper bound (us) of the bucket that holds the q-quantile. */
static uint64_t
lat_quantile(const uint64_t *h, double q)
{
	uint64_t n = 0, acc = 0;
	int b;

	for (b = 0; b < LAT_BUCKETS; b++)
		n += h[b];
	for (b = 0; b < LAT_BUCKETS; b++) {
		acc += h[b];
		if (n > 0 && (double)acc >= q * (double)n)
			return (uint64_t)1 << b;
	}
	return 0;
}

static void check(int ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("  %s  ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		failures++;
}

static double
mib(uint64_t b)
{
	return (double)b / MIB;
}

static double
kib(uint64_t b)
{
	return (double)b / 1024.0;
}

/* end <= warm + max(2 MiB, 10%) */
static int
rss_flat(uint64_t warm, uint64_t end)
{
	uint64_t margin = warm / 10 > 2 * 1024 * 1024 ? warm / 10 :
	    2 * 1024 * 1024;

	return warm > 0 && end <= warm + margin;
}

static void
raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		die("RLIMIT_NOFILE hard limit %lu < %lu needed",
		    (unsigned long)rl.rlim_max, (unsigned long)need);
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit: %s", strerror(errno));
}

int
main(int argc, char **argv)
{
	struct cthread *th;
	struct cstats cs;
	struct done_msg done;
	struct report rep;
	struct ready_msg ready;
	static struct sampler cs_sampler;
	struct start_msg start;
	uint64_t seed, rss_warm, rss_end, rss_max;
	uint64_t heap_warm, heap_end, heap_max;
	uint64_t answered, received;
	int64_t t_start, t_end;
	long open_min, open_max;
	int seconds = 60, nconn = 1200, nthreads, warm_s, fd_base, fd_end;
	int i, k, status, nsamples;
	double dur;
	sockx *ctl[2];
	size_t j, g = 0;
	pid_t pid;
	ssize_t r;
	char *end;
	const char *env;

	if (argc > 3 || (argc >= 2 && (seconds = (int)strtol(argv[1], &end,
	    10), *end != '\0' || seconds < 1 || seconds > 3600)) ||
	    (argc == 3 && (nconn = (int)strtol(argv[2], &end, 10),
	    *end != '\0' || nconn < 2 || nconn > 19000))) {
		fprintf(stderr, "usage: soak [SECONDS [CONNECTIONS]]\n"
		    "  SECONDS 1..3600 (default 60), CONNECTIONS 2..19000 "
		    "(default 1200)\n");
		return 2;
	}
	nthreads = nconn < CLI_THREADS ? nconn : CLI_THREADS;
	warm_s = seconds >= 20 ? 10 : seconds / 2;
	env = getenv("SOAK_SEED");
	seed = env != NULL ? strtoull(env, NULL, 0) :
	    (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
	/* Each process holds nconn connections and some more. */
	raise_nofile((rlim_t)nconn + 256);
	/*
	 * Thousands of writes meet a peer that is gone: SIGPIPE keeps its
	 * default action, so one the library let through would kill the
	 * process that got it (libsockx promises -EPIPE instead).
	 */
	signal(SIGPIPE, SIG_DFL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (sockx_pair(&ctl[0], &ctl[1], SOCK_STREAM) < 0)
		die("sockx_pair: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sockx_close(ctl[0]);
		exit(server_main(ctl[1], seconds, warm_s));
	}
	sockx_close(ctl[1]);
	r = sockx_read_full(ctl[0], &ready, sizeof(ready), NULL, 10000);
	if (r != (ssize_t)sizeof(ready)) {
		kill(pid, SIGKILL);
		die("the server did not start: %s",
		    r < 0 ? strerror(errno) : "end of stream");
	}
	memcpy(cli.addr, ready.addr, sizeof(cli.addr));
	printf("soak: %d s, %d connections (%d over %s, %d over TCP %s), "
	    "%d client threads, 1 server thread on a poll set, server "
	    "timeout %d ms, "
	    "seed %#" PRIx64 "%s\n", seconds, nconn, (nconn + 1) / 2,
	    cli.addr[UNIX], nconn / 2, cli.addr[TCP], nthreads,
	    SRV_TIMEOUT_MS, seed, SOAK_ASAN ? " (AddressSanitizer)" : "");

	fd_base = count_fds();
	th = calloc((size_t)nthreads, sizeof(*th));
	if (th == NULL)
		die("out of memory");
	pthread_barrier_init(&cli.opened, NULL, (unsigned)nthreads + 1);
	pthread_barrier_init(&cli.go, NULL, (unsigned)nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		struct cthread *ct = &th[i];

		ct->n = (size_t)(nconn / nthreads + (i < nconn % nthreads));
		ct->c = calloc(ct->n, sizeof(*ct->c));
		ct->req = malloc(HDR + MAX_PAYLOAD);
		ct->exp = malloc(MAX_PAYLOAD);
		ct->rep = malloc(HDR + MAX_PAYLOAD);
		if (ct->c == NULL || ct->req == NULL || ct->exp == NULL ||
		    ct->rep == NULL)
			die("out of memory");
		/* Connection g (over all threads): even unix, odd TCP. */
		for (j = 0; j < ct->n; j++, g++)
			ct->c[j].kind = (int)(g % 2);
		ct->rng = splitmix(seed ^ splitmix((uint64_t)i + 1));
		if (ct->rng == 0)
			ct->rng = 1;
		start_thread(&ct->tid, client_main, ct);
	}
	t_start = now_ns();
	pthread_barrier_wait(&cli.opened);
	printf("soak: %ld connections open after %.2f s; load for %d s\n",
	    (long)atomic_load(&cli.open_now),
	    (double)(now_ns() - t_start) / 1e9, seconds);
	t_start = now_ns();
	cli.deadline = t_start + (int64_t)seconds * 1000000000;
	atomic_store(&cli.last_stall, t_start - 2 * STALL_EVERY_NS);
	pthread_barrier_wait(&cli.go);

	start.t_start = t_start;
	start.deadline = cli.deadline;
	if (sockx_write_full(ctl[0], &start, sizeof(start), NULL, 5000) < 0)
		die("send start: %s", strerror(errno));
	cs_sampler.t_start = t_start;
	cs_sampler.deadline = cli.deadline;
	cs_sampler.from_tick = 1;
	cs_sampler.count = &cli.open_now;
	sample_load(&cs_sampler);
	memset(&cs, 0, sizeof(cs));
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i].tid, NULL);
		cstats_add(&cs, &th[i].st);
		free(th[i].c);
		free(th[i].req);
		free(th[i].exp);
		free(th[i].rep);
	}
	t_end = now_ns();
	free(th);
	pthread_barrier_destroy(&cli.opened);
	pthread_barrier_destroy(&cli.go);
	fd_end = count_fds();
	dur = (double)(t_end - t_start) / 1e9;

	done.connects[UNIX] = cs.connects[UNIX];
	done.connects[TCP] = cs.connects[TCP];
	memset(&rep, 0, sizeof(rep));
	if (sockx_write_full(ctl[0], &done, sizeof(done), NULL, 10000) < 0 ||
	    (r = sockx_read_full(ctl[0], &rep, sizeof(rep), NULL, 60000)) !=
	    (ssize_t)sizeof(rep)) {
		fprintf(stderr, "soak: no report from the server: %s\n",
		    strerror(errno));
		kill(pid, SIGKILL);
		failures++;
	}
	sockx_close(ctl[0]);
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	nsamples = cs_sampler.n;
	open_min = cs_sampler.min;
	open_max = cs_sampler.max;
	mem_figures(cs_sampler.rss, nsamples, warm_s, &rss_warm, &rss_end,
	    &rss_max);
	mem_figures(cs_sampler.heap, nsamples, warm_s, &heap_warm, &heap_end,
	    &heap_max);

	/* The figures. */
	answered = rep.st.answered;
	received = rep.st.received;
	printf("duration: %.2f s of load (%d s asked)\n", dur, seconds);
	printf("connections: %" PRIu64 " opened (%" PRIu64 " unix, %" PRIu64
	    " tcp; %d initial, %" PRIu64 " reconnects), %" PRIu64
	    " connect failures; open at once (client, every 100 ms): "
	    "min %ld max %ld; live at the server after warm-up: min %" PRIu64
	    " max %" PRIu64 "\n",
	    cs.connects[UNIX] + cs.connects[TCP], cs.connects[UNIX],
	    cs.connects[TCP], nconn,
	    cs.connects[UNIX] + cs.connects[TCP] - (uint64_t)nconn,
	    cs.connect_fail, open_min, open_max, rep.live_min, rep.live_max);
	printf("server: accepted %" PRIu64 " unix + %" PRIu64 " tcp, closed %"
	    PRIu64 " (%" PRIu64 " at stop), live at end %" PRIu64
	    ", accept errors %" PRIu64 ", drained in %.2f s\n",
	    rep.accepted[UNIX], rep.accepted[TCP], rep.st.closed,
	    rep.st.forced_close, rep.live_end, rep.accept_errors,
	    rep.drain_s);
	printf("requests: %" PRIu64 " sent in full, %" PRIu64
	    " received by the server, %" PRIu64 " answered, %" PRIu64
	    " replies verified by the client (%.0f/s)\n", cs.sent_full,
	    received, answered, cs.completed, (double)cs.completed / dur);
	printf("bytes: client->server %" PRIu64 " sent in full requests (%.1f"
	    " MiB/s), %" PRIu64 " received by the server; server->client %"
	    PRIu64 " answered, %" PRIu64 " verified (%.1f MiB/s)\n",
	    cs.req_bytes, mib(cs.req_bytes) / dur, rep.st.bytes_in,
	    rep.st.bytes_out, cs.rep_bytes, mib(cs.rep_bytes) / dur);
	for (k = 0; k < 2; k++)
		printf("latency of undisturbed requests over %s: p50 < %" PRIu64
		    " us, p99 < %" PRIu64 " us, p99.9 < %" PRIu64 " us, max %"
		    PRIu64 " us\n", kind_text[k],
		    lat_quantile(cs.lat[k], 0.5), lat_quantile(cs.lat[k], 0.99),
		    lat_quantile(cs.lat[k], 0.999), cs.lat_max_us[k]);
	printf("usage: %" PRIu64 " connections carried verified requests "
	    "(up to %" PRIu64 " on one), %" PRIu64 " none; kernel-timeout mode "
	    "(sockx_set_kernel_timeouts) on %" PRIu64 " client and %" PRIu64
	    " server handles\n", cs.conns_used, cs.most_on_one,
	    cs.conns_unused, cs.kernel_mode, rep.accepted_kernel_mode);
	printf("client i/o: %" PRIu64 " whole-buffer calls, %" PRIu64
	    " piecewise loops, %" PRIu64 " waits before reading\n",
	    cs.io_full, cs.io_pieces, cs.io_wait);
	printf("client actions:");
	for (k = 0; k < K_COUNT; k++)
		printf("%s %s %" PRIu64, k ? "," : "", dist_name[k],
		    cs.dist[k]);
	printf("\n");
	printf("client timeouts that fired: short write %" PRIu64 "/%" PRIu64
	    ", short wait %" PRIu64 "/%" PRIu64 ", short read %" PRIu64 "/%"
	    PRIu64 "; stalls timed out by the server %" PRIu64 "/%" PRIu64
	    " after %.1f..%.1f ms\n", cs.short_write_hit,
	    cs.dist[K_SHORT_WRITE], cs.short_wait_hit, cs.dist[K_SHORT_WAIT],
	    cs.short_read_hit, cs.dist[K_SHORT_READ], cs.stall_ok,
	    cs.dist[K_STALL], cs.stall_min_ms, cs.stall_max_ms);
	printf("server saw: end of stream idle %" PRIu64 ", mid-request %"
	    PRIu64 "; reset idle %" PRIu64 ", mid-request %" PRIu64
	    "; read timeouts %" PRIu64 "; peer gone on reply %" PRIu64
	    "; write timeouts %" PRIu64 "; replies that waited for room %"
	    PRIu64 "; other errors %" PRIu64 " (%s)\n",
	    rep.st.eof_idle, rep.st.eof_mid, rep.st.reset_idle,
	    rep.st.reset_mid, rep.st.timeout_read, rep.st.peer_gone_write,
	    rep.st.timeout_write, rep.st.reply_waits,
	    rep.st.other_read + rep.st.other_write,
	    rep.st.last_other_err ? strerror(rep.st.last_other_err) : "-");
	printf("memory: server RSS %.2f MiB at %d s (warm-up), %.2f MiB at "
	    "%d s (end), max after warm-up %.2f MiB, peak %.2f MiB\n",
	    mib(rep.rss_warm), warm_s, mib(rep.rss_end), rep.nsamples,
	    mib(rep.rss_max_after_warm), mib(rep.peak_rss));
	printf("memory: client RSS %.2f MiB at %d s (warm-up), %.2f MiB at "
	    "%d s (end), max after warm-up %.2f MiB, peak %.2f MiB\n",
	    mib(rss_warm), warm_s, mib(rss_end), nsamples, mib(rss_max),
	    mib(cs_sampler.peak));
	if (HAVE_HEAP)
		printf("heap in use: server %.1f KiB at %d s, %.1f KiB at %d s, "
		    "max after warm-up %.1f KiB, %.1f KiB once every "
		    "connection was closed; client %.1f KiB at %d s, %.1f KiB "
		    "at %d s, max after warm-up %.1f KiB\n",
		    kib(rep.heap_warm), warm_s, kib(rep.heap_end),
		    rep.nsamples, kib(rep.heap_max_after_warm),
		    kib(rep.heap_drained), kib(heap_warm), warm_s,
		    kib(heap_end), nsamples, kib(heap_max));
	printf("descriptors: client %d at start, %d at end; server %d before "
	    "listening, %d with listeners and the poll set, %d after the load, %d "
	    "after closing the listeners\n", fd_base, fd_end, rep.fd_pre,
	    rep.fd_base, rep.fd_end, rep.fd_final);

	printf("checks:\n");
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "server process exited 0 (status %#x)", status);
	check(cs.loss == 0, "no lost request or reply on an undisturbed "
	    "connection (%" PRIu64 ")", cs.loss);
	check(cs.corrupt == 0 && rep.st.bad_header == 0 &&
	    rep.st.bad_sum == 0 && rep.st.bad_seq == 0 &&
	    rep.st.bad_conn == 0, "no corrupted byte: client %" PRIu64
	    ", server header %" PRIu64 " checksum %" PRIu64 " sequence %"
	    PRIu64 " connection id %" PRIu64, cs.corrupt, rep.st.bad_header,
	    rep.st.bad_sum, rep.st.bad_seq, rep.st.bad_conn);
	check(cs.connect_fail == 0 && rep.accept_errors == 0,
	    "every connect and accept succeeded (%" PRIu64 " and %" PRIu64
	    " failed)", cs.connect_fail, rep.accept_errors);
	check(cs.completed > 0, "requests completed (%" PRIu64 ")",
	    cs.completed);
	check(received <= cs.sent_full &&
	    cs.sent_full - received <= cs.disturbed_after_send,
	    "the server received every request sent in full but for those "
	    "the client disturbed (sent %" PRIu64 ", received %" PRIu64
	    ", disturbed after sending %" PRIu64 ")", cs.sent_full, received,
	    cs.disturbed_after_send);
	check(answered + rep.st.peer_gone_write == received &&
	    rep.st.timeout_write == 0 && rep.st.other_write == 0,
	    "the server answered every request it received, or its client "
	    "was gone (%" PRIu64 " + %" PRIu64 " of %" PRIu64 ")", answered,
	    rep.st.peer_gone_write, received);
	check(cs.completed <= answered &&
	    answered - cs.completed <= cs.disturbed_after_send,
	    "every answer reached its client but for the disturbed (answered %"
	    PRIu64 ", verified %" PRIu64 ")", answered, cs.completed);
	check(rep.st.timeout_read == cs.stall_ok + cs.stall_fail &&
	    cs.stall_fail == 0, "the server timed out every stalled client "
	    "and no other (%" PRIu64 " read timeouts, %" PRIu64 " stalls, %"
	    PRIu64 " not timed out)", rep.st.timeout_read,
	    cs.stall_ok + cs.stall_fail, cs.stall_fail);
	check(rep.st.other_read == 0 && rep.st.poll_err == 0 &&
	    rep.st.close_err == 0 && cs.close_err == 0,
	    "no unexpected error: server read %" PRIu64 ", poll set %" PRIu64
	    ", close %" PRIu64 "; client close %" PRIu64, rep.st.other_read,
	    rep.st.poll_err, rep.st.close_err, cs.close_err);
	check(rep.accepted[UNIX] == cs.connects[UNIX] &&
	    rep.accepted[TCP] == cs.connects[TCP] &&
	    rep.st.closed == rep.accepted[UNIX] + rep.accepted[TCP] &&
	    rep.st.forced_close == 0 && rep.live_end == 0 && rep.drained,
	    "every connection accepted and its handle closed once by the "
	    "server after the client closed it (opened %" PRIu64 ", accepted %"
	    PRIu64 ", closed %" PRIu64 ")",
	    cs.connects[UNIX] + cs.connects[TCP],
	    rep.accepted[UNIX] + rep.accepted[TCP], rep.st.closed);
	check(open_min >= (long)(nconn - nthreads) &&
	    (nconn < 1000 || open_min >= 1000),
	    "connections open at once stayed at least %d (min %ld)",
	    nconn < 1000 ? nconn - nthreads : (nconn - nthreads > 1000 ?
	    nconn - nthreads : 1000), open_min);
	if (seconds >= 10) {
		int all = cs.short_write_hit > 0 && cs.short_wait_hit > 0 &&
		    cs.short_read_hit > 0 && cs.stall_ok > 0;

		for (k = 0; k < K_COUNT; k++)
			all = all && cs.dist[k] > 0;
		check(all, "every disturbance and every kind of short "
		    "timeout happened");
	}
	check(fd_end == fd_base, "client descriptors back to %d (%d)",
	    fd_base, fd_end);
	check(rep.fd_end == rep.fd_base && rep.fd_final == rep.fd_pre,
	    "server descriptors back to %d (%d), and to %d without the "
	    "listeners (%d)", rep.fd_base, rep.fd_end, rep.fd_pre,
	    rep.fd_final);
	if (SOAK_ASAN) {
		printf("  skip  memory flat after warm-up: not checked under "
		    "AddressSanitizer (its quarantine holds freed memory)\n");
	} else {
		check(rss_flat(rep.rss_warm, rep.rss_end),
		    "server RSS flat after warm-up: %.2f MiB at %d s <= %.2f "
		    "MiB at %d s + max(2 MiB, 10%%)", mib(rep.rss_end),
		    rep.nsamples, mib(rep.rss_warm), warm_s);
		check(rss_flat(rss_warm, rss_end),
		    "client RSS flat after warm-up: %.2f MiB at %d s <= %.2f "
		    "MiB at %d s + max(2 MiB, 10%%)", mib(rss_end), nsamples,
		    mib(rss_warm), warm_s);
	}
	if (HAVE_HEAP) {
		check(rep.heap_end <= rep.heap_warm + HEAP_SLACK &&
		    heap_end <= heap_warm + HEAP_SLACK,
		    "heap in use flat after warm-up: server %+.1f KiB, client "
		    "%+.1f KiB (at most +%d KiB)",
		    kib(rep.heap_end) - kib(rep.heap_warm),
		    kib(heap_end) - kib(heap_warm), HEAP_SLACK / 1024);
	}
	printf("soak: %s (%d check%s failed)\n", failures ? "FAIL" : "PASS",
	    failures, failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
