/* SPDX-License-Identifier: MIT */
/*
 * test-connect-any.c - sockx_connect_any, the RFC 8305 style race of
 * several connects under one wait and one deadline.  Each test names the
 * rule it guards and fails when that rule is broken:
 *  - the first address that answers wins at once, and a later address is
 *    not even started (no "all at once");
 *  - a refused attempt, at its start or while in flight, starts the next
 *    one at once (no waiting out the stagger);
 *  - a silent attempt starts the next after SOCKX_CONNECT_STAGGER_MS, stays
 *    in flight (it can still win) and is closed when another wins;
 *  - all failed: the first address's error; the deadline first: -ETIMEDOUT;
 *  - only the latest attempt's failure cuts the stagger short;
 *  - no spinning, no -EINTR under signals; -EINVAL before anything is
 *    sent; *out untouched on failure; a TCP self-connect is a failure;
 *    unix path, abstract, seqpacket and TCP v4/v6 mixed; long unix paths;
 *    descriptors numbered above FD_SETSIZE.
 *
 * A silent address is a listener whose queue is full and that never
 * accepts: for unix the connect fails with EAGAIN and is retried, for TCP
 * the kernel drops the SYN.  A refused address is an abstract name nobody
 * bound, or a loopback port bound without listen(2) and kept open.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#include "sxtest.h"

/* Room for the clients that fill a backlog (unix 1 holds two). */
#define MAX_FILL 16

/* The stagger in seconds. */
#define STAGGER (SOCKX_CONNECT_STAGGER_MS / 1000.0)

/* "At once": far below the stagger, with room for a loaded machine. */
#define AT_ONCE 0.050

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * What *out holds before a call that must fail: the call may write it
 * only on success, so it must still hold this afterwards.
 */
static int sentinel_obj;
#define SENTINEL ((sockx *)(void *)&sentinel_obj)

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

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

/* One timed call of sockx_connect_any; *elapsed gets its seconds. */
static int
any(sockx **out, const char *const *addrs, size_t n, int timeout_ms,
    double *elapsed)
{
	double t0 = sxt_now();
	int r;

	r = sockx_connect_any(out, addrs, n, timeout_ms);
	*elapsed = sxt_now() - t0;
	return r;
}

/* A figure for the log (stderr: the TAP stream stays clean). */
static void
note(const char *what, double seconds)
{
	fprintf(stderr, "# connect-any: %s: %.2f ms\n", what, seconds * 1e3);
}

/* A listener that answers: its connect text and the peer text it gives. */
struct live {
	sockx *l;
	char text[SOCKX_ADDRSTRLEN + 16];
	char peer[SOCKX_ADDRSTRLEN];
};

/* Listen on address (port 0 / a name); text is prefix + the bound text. */
static void
live_listen(struct live *v, const char *address, const char *prefix)
{
	ck_assert_int_eq(sockx_listen(&v->l, address, 0, 0, 0), 0);
	sxt_local_text(v->l, "", v->peer, sizeof(v->peer));
	snprintf(v->text, sizeof(v->text), "%s%s", prefix, v->peer);
}

static void
live_unix(struct live *v)
{
	char name[64];

	live_listen(v, sxt_abstract(name, sizeof(name), "live"), "");
}

static void
live_tcp4(struct live *v)
{
	live_listen(v, "tcp:127.0.0.1:0", "");
}

static void
live_close(struct live *v)
{
	ck_assert_int_eq(sockx_close(v->l), 0);
}

/* The listener never saw a connection: nothing to accept. */
static void
check_untouched(const struct live *v)
{
	sockx *a = SENTINEL;

	CHECK_ERR(sockx_accept(v->l, &a, 0), ETIMEDOUT);
	ck_assert_ptr_eq(a, SENTINEL);
}

/* c is connected to v: v's peer text (unless NULL) and a byte each way. */
static void
check_works(sockx *c, sockx *listener, const char *want_peer)
{
	char peer[SOCKX_ADDRSTRLEN], b = 0;
	sockx *a = NULL;

	if (want_peer != NULL) {
		peer_text(c, peer, sizeof(peer));
		ck_assert_str_eq(peer, want_peer);
	}
	ck_assert_int_eq(sockx_accept(listener, &a, 1000), 0);
	ck_assert_int_eq(sockx_write(c, "x", 1, 1000), 1);
	ck_assert_int_eq(sockx_read(a, &b, 1, 1000), 1);
	ck_assert_int_eq(b, 'x');
	ck_assert_int_eq(sockx_write(a, "y", 1, 1000), 1);
	ck_assert_int_eq(sockx_read(c, &b, 1, 1000), 1);
	ck_assert_int_eq(b, 'y');
	ck_assert_int_eq(sockx_close(a), 0);
}

/* c won through v: it is v's connection, and it works. */
static void
check_winner(sockx *c, const struct live *v)
{
	check_works(c, v->l, v->peer);
}

/*
 * A TCP listener on 127.0.0.1 whose accept queue is full (as in
 * test-connect.c): with backlog 0 the queue takes one connection, and
 * after that the kernel drops every SYN.  Clients are connected until one
 * does not complete within 200 ms.  Returns the listener's descriptor.
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

/* A listener that never answers (its queue is full). */
struct silent {
	char text[SOCKX_ADDRSTRLEN];
	sockx *l;		/* unix: the listener; else NULL */
	int lfd;		/* TCP: the listener; else -1 */
	int fds[MAX_FILL];	/* the clients that fill the queue */
	int n;
};

static void
silent_unix(struct silent *s)
{
	sxt_abstract(s->text, sizeof(s->text), "silent");
	ck_assert_int_eq(sockx_listen(&s->l, s->text, 1, 0, 0), 0);
	s->lfd = -1;
	s->n = sxt_fill_backlog(s->text, s->fds, MAX_FILL);
	ck_assert_int_gt(s->n, 0);
}

static void
silent_tcp(struct silent *s)
{
	s->l = NULL;
	s->lfd = tcp_full_listener(s->text, sizeof(s->text), s->fds,
	    MAX_FILL, &s->n);
}

static void
silent_close(struct silent *s)
{
	sxt_close_all(s->fds, s->n);
	if (s->l != NULL)
		ck_assert_int_eq(sockx_close(s->l), 0);
	if (s->lfd >= 0)
		ck_assert_int_eq(close(s->lfd), 0);
}

/* An address that refuses at once. */
struct dead {
	char text[SOCKX_ADDRSTRLEN + 16];
	int fd;			/* TCP: the socket holding the port; else -1 */
};

/* An abstract name nobody bound, after prefix ("" or "unixpacket:"). */
static void
dead_abstract(struct dead *d, const char *prefix)
{
	char name[64];

	sxt_abstract(name, sizeof(name), "dead");
	snprintf(d->text, sizeof(d->text), "%s%s", prefix, name);
	d->fd = -1;
}

/*
 * A loopback port nobody listens on: bound without listen(2) and kept
 * open, so no other program can take it meanwhile.
 */
static void
dead_tcp(struct dead *d, int family)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;

	if (family == AF_INET) {
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	d->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(d->fd, 0);
	ck_assert_int_eq(bind(d->fd, (struct sockaddr *)&ss, len), 0);
	ck_assert_int_eq(getsockname(d->fd, (struct sockaddr *)&ss, &len), 0);
	ck_assert_int_gt(sockx_addr_format((struct sockaddr *)&ss, len,
	    d->text, sizeof(d->text)), 0);
}

static void
dead_close(struct dead *d)
{
	if (d->fd >= 0)
		ck_assert_int_eq(close(d->fd), 0);
}

/*
 * Run the code paths once untimed (a win, a refusal, a TCP connect), so
 * that valgrind's first translation of them is not counted in a timing.
 */
static void
warm_up(void)
{
	struct live u, t;
	struct dead d;
	const char *addrs[3];
	sockx *c = NULL, *a = NULL;
	double el;

	live_unix(&u);
	live_tcp4(&t);
	dead_abstract(&d, "");
	addrs[0] = d.text;
	addrs[1] = t.text;
	ck_assert_int_eq(any(&c, addrs, 2, 1000, &el), 0);
	ck_assert_int_eq(sockx_accept(t.l, &a, 1000), 0);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(sockx_close(c), 0);
	addrs[0] = u.text;
	ck_assert_int_eq(any(&c, addrs, 1, 1000, &el), 0);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&u);
	live_close(&t);
}

/* A thread that, after ms milliseconds, accepts one connection or closes. */
struct later {
	sockx *l;		/* the listener (closing: given to the thread) */
	int ms;
	int close_it;		/* 1: close the listener; 0: accept one */
	double at;		/* when it acted */
	int ok;
	pthread_t thread;
};

static void *
act_later(void *arg)
{
	struct later *w = arg;
	int fd;

	/* A server busy for ms: the delay is the scenario, not a sync. */
	poll(NULL, 0, w->ms);
	w->at = sxt_now();
	if (w->close_it) {
		w->ok = sockx_close(w->l) == 0;
	} else {
		fd = accept4(sockx_fd(w->l), NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			w->ok = 1;
			close(fd);
		}
	}
	return NULL;
}

static void
later_start(struct later *w, sockx *l, int ms, int close_it)
{
	w->l = l;
	w->ms = ms;
	w->close_it = close_it;
	w->at = 0;
	w->ok = 0;
	ck_assert_int_eq(pthread_create(&w->thread, NULL, act_later, w), 0);
}

static void
later_join(struct later *w)
{
	ck_assert_int_eq(pthread_join(w->thread, NULL), 0);
	ck_assert(w->ok);
}

/* ------------------------------------------------------------------ */
/* 1. The first address that answers wins at once                     */
/* ------------------------------------------------------------------ */

/*
 * [live unix, live TCP] and [live TCP, live unix]: address 0 wins at
 * once, and address 1 is never even started (its listener sees nothing:
 * an implementation that started everything at once would show there).
 */
START_TEST(any_first_answering_wins_at_once)
{
	struct live u, t, *win, *lose;
	const char *addrs[2];
	sockx *c = NULL;
	double el;
	int before;

	warm_up();
	live_unix(&u);
	live_tcp4(&t);
	win = _i == 0 ? &u : &t;
	lose = _i == 0 ? &t : &u;
	addrs[0] = win->text;
	addrs[1] = lose->text;
	before = sxt_count_fds();
	ck_assert_int_eq(any(&c, addrs, 2, 2000, &el), 0);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	ck_assert_msg(el < AT_ONCE, "live address 0 took %.3f s", el);
	ck_assert_int_ne(fcntl(sockx_fd(c), F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(sockx_fd(c), F_GETFD) & FD_CLOEXEC, 0);
	check_winner(c, win);
	check_untouched(lose);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&u);
	live_close(&t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 2. A refused attempt starts the next at once                        */
/* ------------------------------------------------------------------ */

/*
 * [refused, live]: the refusal starts address 1 at once, not after the
 * stagger.  _i: 0 refused abstract + live TCP, 1 refused TCP 127.0.0.1 +
 * live unix, 2 refused TCP [::1] + live TCP.
 */
START_TEST(any_refused_first_moves_on_at_once)
{
	static const char *const what[] = {
		"refused abstract first -> connected",
		"refused tcp4 first -> connected",
		"refused tcp6 first -> connected",
	};
	struct live v;
	struct dead d;
	const char *addrs[2];
	sockx *c = NULL;
	double el;
	int before;

	warm_up();
	if (_i == 0)
		dead_abstract(&d, "");
	else
		dead_tcp(&d, _i == 1 ? AF_INET : AF_INET6);
	if (_i == 1)
		live_unix(&v);
	else
		live_tcp4(&v);
	addrs[0] = d.text;
	addrs[1] = v.text;
	before = sxt_count_fds();
	ck_assert_int_eq(any(&c, addrs, 2, 2000, &el), 0);
	note(what[_i], el);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	ck_assert_msg(el < AT_ONCE, "%s took %.3f s (stagger %.3f s)",
	    what[_i], el, STAGGER);
	check_winner(c, &v);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&v);
	dead_close(&d);
}
END_TEST

/*
 * An attempt in flight that fails later starts the next at once too: a
 * full unix backlog whose listener goes away at 100 ms (the retry is
 * refused), then a live TCP listener, which wins at about 100 ms, not at
 * the stagger.
 */
START_TEST(any_in_flight_failure_moves_on_at_once)
{
	struct silent s;
	struct live v;
	struct later w;
	const char *addrs[2];
	sockx *c = NULL;
	double t0, done;
	int r;

	warm_up();
	silent_unix(&s);
	live_tcp4(&v);
	addrs[0] = s.text;
	addrs[1] = v.text;
	t0 = sxt_now();
	later_start(&w, s.l, 100, 1);
	s.l = NULL;			/* the thread closes it */
	r = sockx_connect_any(&c, addrs, 2, 2000);
	done = sxt_now();
	later_join(&w);
	ck_assert_int_eq(r, 0);
	note("in-flight unix refused at 100 ms -> connected", done - t0);
	ck_assert_msg(done > w.at, "connected %.3f s before the refusal",
	    w.at - done);
	ck_assert_msg(done - w.at < AT_ONCE,
	    "connected %.3f s after address 0 was refused", done - w.at);
	ck_assert_msg(done - t0 < STAGGER - 0.01,
	    "connected after %.3f s: waited for the stagger", done - t0);
	check_winner(c, &v);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&v);
	silent_close(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 3, 4. Silent attempts: the next starts after the stagger            */
/* ------------------------------------------------------------------ */

/*
 * A silent address holds the next one for exactly the stagger, which
 * then wins; the silent attempt's socket is closed (one new descriptor:
 * the handle's).
 *  _i 0: [silent unix, live TCP]
 *  _i 1: [silent TCP, live unix]
 *  _i 2: [refused abstract, silent unix, live TCP]: the stagger counts
 *        from the silent attempt's start (at once, after the refusal)
 *  _i 3: [silent unix, live TCP] without a deadline (timeout -1)
 */
START_TEST(any_silent_first_next_after_stagger)
{
	static const char *const what[] = {
		"silent unix first -> connected",
		"silent tcp4 first -> connected",
		"refused, silent unix -> connected",
		"silent unix first, timeout -1 -> connected",
	};
	struct silent s;
	struct live v;
	struct dead d;
	const char *addrs[3];
	sockx *c = NULL;
	double el;
	size_t n = 0;
	int before;

	warm_up();
	dead_abstract(&d, "");
	if (_i == 2)
		addrs[n++] = d.text;
	if (_i == 1) {
		silent_tcp(&s);
		live_unix(&v);
	} else {
		silent_unix(&s);
		live_tcp4(&v);
	}
	addrs[n++] = s.text;
	addrs[n++] = v.text;
	before = sxt_count_fds();
	ck_assert_int_eq(any(&c, addrs, n, _i == 3 ? -1 : 3000, &el), 0);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	note(what[_i], el);
	ck_assert_msg(el >= STAGGER - 0.010 && el < STAGGER + 0.150,
	    "%s took %.3f s (stagger %.3f s)", what[_i], el, STAGGER);
	check_winner(c, &v);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&v);
	silent_close(&s);
}
END_TEST

/*
 * [silent unix, silent TCP, live unix]: each silent attempt holds the
 * next for one stagger, so address 2 wins after two; both silent sockets
 * are closed.  Attempts made one after another (each to its end) would
 * never get past address 0.
 */
START_TEST(any_two_silent_then_live_after_two_staggers)
{
	struct silent s0, s1;
	struct live v;
	const char *addrs[3];
	sockx *c = NULL;
	double el;
	int before;

	warm_up();
	silent_unix(&s0);
	silent_tcp(&s1);
	live_unix(&v);
	addrs[0] = s0.text;
	addrs[1] = s1.text;
	addrs[2] = v.text;
	before = sxt_count_fds();
	ck_assert_int_eq(any(&c, addrs, 3, 3000, &el), 0);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	note("two silent first -> connected", el);
	ck_assert_msg(el >= 2 * STAGGER - 0.020 && el < 2 * STAGGER + 0.200,
	    "two silent then live took %.3f s (2 x stagger %.3f s)", el,
	    2 * STAGGER);
	check_winner(c, &v);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&v);
	silent_close(&s1);
	silent_close(&s0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 5. A silent attempt stays in flight and can still win               */
/* ------------------------------------------------------------------ */

/*
 * A full unix backlog at address 0 whose server accepts one queued
 * connection later, which makes room: the unix attempt, still in flight
 * and retried, gets in and wins.
 *  _i 0: room at 100 ms, address 1 a live TCP listener: address 0 wins
 *        before address 1 would start (250 ms); the TCP listener sees
 *        nothing.
 *  _i 1: room at 350 ms, address 1 a silent TCP listener started at
 *        250 ms: address 0 still wins (all attempts in flight are waited
 *        on together, none is dropped when the next starts), and the TCP
 *        socket is closed.
 */
START_TEST(any_silent_first_wins_when_room_appears)
{
	static const char *const what[] = {
		"full unix backlog gets room at 100 ms -> connected",
		"full unix backlog gets room at 350 ms -> connected",
	};
	struct silent s, st;
	struct live v;
	struct later w;
	const char *addrs[2];
	char peer[SOCKX_ADDRSTRLEN];
	sockx *c = NULL;
	double t0, done;
	int r, before;

	warm_up();
	silent_unix(&s);
	addrs[0] = s.text;
	if (_i == 0) {
		live_tcp4(&v);
		addrs[1] = v.text;
	} else {
		silent_tcp(&st);
		addrs[1] = st.text;
	}
	before = sxt_count_fds();
	t0 = sxt_now();
	later_start(&w, s.l, _i == 0 ? 100 : 350, 0);
	r = sockx_connect_any(&c, addrs, 2, 3000);
	done = sxt_now();
	later_join(&w);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	note(what[_i], done - t0);
	peer_text(c, peer, sizeof(peer));
	ck_assert_str_eq(peer, s.text);
	ck_assert_msg(done > w.at, "connected %.3f s before the accept",
	    w.at - done);
	ck_assert_msg(done - w.at < AT_ONCE,
	    "connected %.3f s after the server made room", done - w.at);
	if (_i == 0) {
		ck_assert_msg(done - t0 < STAGGER - 0.01,
		    "connected after %.3f s", done - t0);
		check_untouched(&v);
		live_close(&v);
	} else {
		silent_close(&st);
	}
	ck_assert_int_eq(sockx_close(c), 0);
	silent_close(&s);
}
END_TEST

/*
 * The latest attempt failing starts the next at once even while an older
 * one is still in flight: [silent unix, full unix backlog whose listener
 * goes away at 350 ms, live TCP]: address 1 starts at 250 ms and is
 * refused at 350 ms, so address 2 wins at about 350 ms, not at 500 ms.
 */
START_TEST(any_latest_failure_moves_on_with_older_in_flight)
{
	struct silent s0, s1;
	struct live v;
	struct later w;
	const char *addrs[3];
	sockx *c = NULL;
	double t0, done;
	int r;

	warm_up();
	silent_unix(&s0);
	silent_unix(&s1);
	live_tcp4(&v);
	addrs[0] = s0.text;
	addrs[1] = s1.text;
	addrs[2] = v.text;
	t0 = sxt_now();
	later_start(&w, s1.l, 350, 1);
	s1.l = NULL;			/* the thread closes it */
	r = sockx_connect_any(&c, addrs, 3, 3000);
	done = sxt_now();
	later_join(&w);
	ck_assert_int_eq(r, 0);
	note("latest refused at 350 ms, older in flight -> connected",
	    done - t0);
	ck_assert_msg(done > w.at, "connected %.3f s before the refusal",
	    w.at - done);
	ck_assert_msg(done - w.at < AT_ONCE,
	    "connected %.3f s after address 1 was refused", done - w.at);
	check_winner(c, &v);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&v);
	silent_close(&s1);
	silent_close(&s0);
}
END_TEST

/*
 * Only the latest attempt's failure cuts the stagger short: [full unix
 * backlog whose listener goes away at 350 ms, silent unix, live TCP]:
 * address 0 is refused at 350 ms while address 1 (started at 250 ms) is
 * still in flight, so address 2 starts at 500 ms, one stagger after
 * address 1, and wins then.
 */
START_TEST(any_older_failure_keeps_the_stagger)
{
	struct silent s0, s1;
	struct live v;
	struct later w;
	const char *addrs[3];
	sockx *c = NULL;
	double t0, done;
	int r;

	warm_up();
	silent_unix(&s0);
	silent_unix(&s1);
	live_tcp4(&v);
	addrs[0] = s0.text;
	addrs[1] = s1.text;
	addrs[2] = v.text;
	t0 = sxt_now();
	later_start(&w, s0.l, 350, 1);
	s0.l = NULL;			/* the thread closes it */
	r = sockx_connect_any(&c, addrs, 3, 3000);
	done = sxt_now();
	later_join(&w);
	ck_assert_int_eq(r, 0);
	note("older refused at 350 ms, latest in flight -> connected",
	    done - t0);
	ck_assert_msg(done - t0 >= 2 * STAGGER - 0.020 &&
	    done - t0 < 2 * STAGGER + 0.150,
	    "connected after %.3f s (2 x stagger %.3f s)", done - t0,
	    2 * STAGGER);
	check_winner(c, &v);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&v);
	silent_close(&s1);
	silent_close(&s0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 6. All addresses dead: the first address's error                    */
/* ------------------------------------------------------------------ */

START_TEST(any_all_dead_first_error)
{
	struct dead ab, t4;
	const char *missing = "/nonexistent/dir/sock";
	struct {
		const char *addrs[3];
		size_t n;
		int err;
	} cases[4];
	sockx *c = SENTINEL;
	struct stat st;
	double el;
	size_t i;
	int before;

	ck_assert_int_eq(stat("/nonexistent/dir", &st), -1);
	warm_up();
	dead_abstract(&ab, "");
	dead_tcp(&t4, AF_INET);
	/* The last address's error is not the first's in cases 1 to 3. */
	cases[0].addrs[0] = ab.text;
	cases[0].addrs[1] = missing;
	cases[0].addrs[2] = t4.text;
	cases[0].n = 3;
	cases[0].err = ECONNREFUSED;
	cases[1].addrs[0] = missing;
	cases[1].addrs[1] = ab.text;
	cases[1].n = 2;
	cases[1].err = ENOENT;
	cases[2].addrs[0] = t4.text;
	cases[2].addrs[1] = missing;
	cases[2].n = 2;
	cases[2].err = ECONNREFUSED;
	cases[3].addrs[0] = missing;
	cases[3].addrs[1] = ab.text;
	cases[3].addrs[2] = t4.text;
	cases[3].n = 3;
	cases[3].err = ENOENT;
	for (i = 0; i < NELEM(cases); i++) {
		before = sxt_count_fds();
		errno = 0;
		ck_assert_msg(any(&c, cases[i].addrs, cases[i].n, 2000, &el) ==
		    -cases[i].err, "case %zu: not -%s", i,
		    strerror(cases[i].err));
		ck_assert_int_eq(errno, cases[i].err);
		ck_assert_ptr_eq(c, SENTINEL);
		ck_assert_int_eq(sxt_count_fds(), before);
		ck_assert_msg(el < AT_ONCE, "case %zu took %.3f s", i, el);
	}
	dead_close(&t4);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 7. One deadline for the whole call                                  */
/* ------------------------------------------------------------------ */

/* [silent unix, silent unix], 300 ms: -ETIMEDOUT at the deadline. */
START_TEST(any_deadline_bounds_the_whole_call)
{
	struct silent s0, s1;
	const char *addrs[2];
	sockx *c = SENTINEL;
	double el;
	int before;

	warm_up();
	silent_unix(&s0);
	silent_unix(&s1);
	addrs[0] = s0.text;
	addrs[1] = s1.text;
	before = sxt_count_fds();
	CHECK_ERR(any(&c, addrs, 2, 300, &el), ETIMEDOUT);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_int_eq(sxt_count_fds(), before);
	ck_assert_msg(el >= 0.300 && el < 0.400,
	    "300 ms timeout took %.3f s", el);
	silent_close(&s1);
	silent_close(&s0);
}
END_TEST

/*
 * [silent, live TCP], 100 ms: the deadline comes before the stagger would
 * start address 1: -ETIMEDOUT at 100 ms, and address 1 was never tried.
 * _i: 0 silent unix (retried, so the loop wakes often), 1 silent TCP
 * (only the wait itself can end at the deadline).
 */
START_TEST(any_deadline_before_stagger_etimedout)
{
	struct silent s;
	struct live v;
	const char *addrs[2];
	sockx *c = SENTINEL;
	double el;

	warm_up();
	if (_i == 0)
		silent_unix(&s);
	else
		silent_tcp(&s);
	live_tcp4(&v);
	addrs[0] = s.text;
	addrs[1] = v.text;
	CHECK_ERR(any(&c, addrs, 2, 100, &el), ETIMEDOUT);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_msg(el >= 0.100 && el < 0.150,
	    "100 ms timeout took %.3f s", el);
	check_untouched(&v);
	live_close(&v);
	silent_close(&s);
}
END_TEST

/*
 * [refused abstract, silent unix], 300 ms: an attempt failed, but the
 * deadline passed while another was in flight: -ETIMEDOUT, not the first
 * address's -ECONNREFUSED.
 */
START_TEST(any_deadline_first_etimedout_even_after_a_failure)
{
	struct silent s;
	struct dead d;
	const char *addrs[2];
	sockx *c = SENTINEL;
	double el;

	warm_up();
	dead_abstract(&d, "");
	silent_unix(&s);
	addrs[0] = d.text;
	addrs[1] = s.text;
	CHECK_ERR(any(&c, addrs, 2, 300, &el), ETIMEDOUT);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_msg(el >= 0.300 && el < 0.400,
	    "300 ms timeout took %.3f s", el);
	silent_close(&s);
}
END_TEST

/*
 * Timeout 0 judges what completes at once: a live unix listener wins
 * (also behind a refused address); a silent unix or TCP address alone is
 * -ETIMEDOUT at once.
 */
START_TEST(any_timeout_zero)
{
	struct live u, t;
	struct silent su, st;
	struct dead d;
	const char *addrs[2];
	sockx *c = SENTINEL;
	double el;

	warm_up();
	live_unix(&u);
	live_tcp4(&t);
	dead_abstract(&d, "");
	addrs[0] = u.text;
	addrs[1] = t.text;
	ck_assert_int_eq(any(&c, addrs, 2, 0, &el), 0);
	check_winner(c, &u);
	ck_assert_int_eq(sockx_close(c), 0);
	check_untouched(&t);
	addrs[0] = d.text;
	addrs[1] = u.text;
	ck_assert_int_eq(any(&c, addrs, 2, 0, &el), 0);
	check_winner(c, &u);
	ck_assert_int_eq(sockx_close(c), 0);

	silent_unix(&su);
	c = SENTINEL;
	addrs[0] = su.text;
	CHECK_ERR(any(&c, addrs, 1, 0, &el), ETIMEDOUT);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_msg(el < AT_ONCE, "timeout 0 took %.3f s", el);
	silent_close(&su);

	silent_tcp(&st);
	addrs[0] = st.text;
	CHECK_ERR(any(&c, addrs, 1, 0, &el), ETIMEDOUT);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_msg(el < AT_ONCE, "timeout 0 took %.3f s", el);
	silent_close(&st);
	live_close(&t);
	live_close(&u);
}
END_TEST

static void
on_alarm(int sig)
{
	(void)sig;
}

/*
 * A timer interrupts the call every 3 ms (no SA_RESTART): no -EINTR, the
 * stagger and the deadline keep.  [silent TCP, live unix] wins after the
 * stagger; [silent TCP, full unix backlog], 300 ms, is -ETIMEDOUT on
 * time.
 */
START_TEST(any_signals_do_not_interrupt)
{
	struct itimerval on = { { 0, 3000 }, { 0, 3000 } }, off;
	struct sigaction sa, old;
	struct silent st, su;
	struct live v;
	const char *addrs[2];
	sockx *c = NULL;
	double el;

	warm_up();
	silent_tcp(&st);
	silent_unix(&su);
	live_unix(&v);
	memset(&off, 0, sizeof(off));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, &old), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &on, NULL), 0);
	addrs[0] = st.text;
	addrs[1] = v.text;
	ck_assert_int_eq(any(&c, addrs, 2, 3000, &el), 0);
	ck_assert_msg(el >= STAGGER - 0.010 && el < STAGGER + 0.150,
	    "silent tcp first under signals took %.3f s", el);
	check_winner(c, &v);
	ck_assert_int_eq(sockx_close(c), 0);
	addrs[1] = su.text;
	c = SENTINEL;
	CHECK_ERR(any(&c, addrs, 2, 300, &el), ETIMEDOUT);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_msg(el >= 0.300 && el < 0.400,
	    "300 ms timeout under signals took %.3f s", el);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
	ck_assert_int_eq(sigaction(SIGALRM, &old, NULL), 0);
	live_close(&v);
	silent_close(&su);
	silent_close(&st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 8. No spinning                                                      */
/* ------------------------------------------------------------------ */

/*
 * A wait on attempts that cannot complete uses almost no CPU: _i 0 two
 * full unix backlogs for 1 s (only backoff retries), 1 a silent TCP
 * address and a full unix backlog for 600 ms (the wait with a timeout
 * taken from the unix retries).
 */
START_TEST(any_waiting_does_not_spin)
{
	struct silent s0, s1;
	const char *addrs[2];
	sockx *c = SENTINEL;
	double el, cpu, want = _i == 0 ? 1.0 : 0.6;

	warm_up();
	if (_i == 0)
		silent_unix(&s0);
	else
		silent_tcp(&s0);
	silent_unix(&s1);
	addrs[0] = s0.text;
	addrs[1] = s1.text;
	cpu = sxt_thread_cpu();
	CHECK_ERR(any(&c, addrs, 2, (int)(want * 1000), &el), ETIMEDOUT);
	cpu = sxt_thread_cpu() - cpu;
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_msg(el >= want && el < want + 0.150,
	    "%.0f ms timeout took %.3f s", want * 1000, el);
	ck_assert_msg(cpu < 0.1 * el, "used %.1f%% of a CPU while waiting",
	    100.0 * cpu / el);
	silent_close(&s1);
	silent_close(&s0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A TCP self-connect is a failure, as in sockx_connect                */
/* ------------------------------------------------------------------ */

/* Exit codes of self_connect_child, and what the parent says of them. */
enum {
	SELF_OK,
	SELF_UNSHARE_EPERM,
	SELF_UNSHARE,
	SELF_LO_UP,
	SELF_PORT_RANGE,
	SELF_LISTEN,
	SELF_ANY4,
	SELF_ANY6,
	SELF_LEAK,
};

static const char *const self_msgs[] = {
	[SELF_UNSHARE_EPERM] = "unshare(CLONE_NEWNET) failed with EPERM: "
	    "this test needs root (CAP_SYS_ADMIN)",
	[SELF_UNSHARE] = "unshare(CLONE_NEWNET) failed",
	[SELF_LO_UP] = "could not bring lo up in the new namespace",
	[SELF_PORT_RANGE] = "could not write ip_local_port_range",
	[SELF_LISTEN] = "could not listen on an abstract name",
	[SELF_ANY4] = "[127.0.0.1:40000 (self-connects), live unix] did not "
	    "connect to the unix listener",
	[SELF_ANY6] = "[[::1]:40000 (self-connects)] was not -ECONNREFUSED",
	[SELF_LEAK] = "sockx_connect_any leaked a descriptor on self-connect",
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

/*
 * In a private network namespace whose ephemeral port range is the one
 * port 40000, a connect to loopback port 40000 with nobody listening
 * connects to itself (test-connect.c proves the scenario with a plain
 * connect).  It is that attempt's failure: the next address wins at
 * once; alone, it is -ECONNREFUSED.  (Abstract names belong to the
 * network namespace, so the unix listener is made inside.)
 */
static int
self_connect_child(void)
{
	char name[64], peer[SOCKX_ADDRSTRLEN];
	const char *addrs[2];
	struct sockaddr_storage ss;
	socklen_t len;
	sockx *l, *a, *c;
	int nfds, r;

	if (unshare(CLONE_NEWNET) < 0)
		return errno == EPERM ? SELF_UNSHARE_EPERM : SELF_UNSHARE;
	if (lo_up() < 0)
		return SELF_LO_UP;
	if (write_file("/proc/sys/net/ipv4/ip_local_port_range",
	    "40000 40000") < 0)
		return SELF_PORT_RANGE;
	sxt_abstract(name, sizeof(name), "self");
	if (sockx_listen(&l, name, 0, 0, 0) < 0)
		return SELF_LISTEN;
	nfds = sxt_count_fds();
	addrs[0] = "127.0.0.1:40000";
	addrs[1] = name;
	c = SENTINEL;
	r = sockx_connect_any(&c, addrs, 2, 2000);
	if (r != 0 || sockx_peer_addr(c, &ss, &len) < 0 ||
	    sockx_addr_format((struct sockaddr *)&ss, len, peer,
	    sizeof(peer)) < 0 || strcmp(peer, name) != 0)
		return SELF_ANY4;
	if (sockx_accept(l, &a, 1000) < 0)
		return SELF_ANY4;
	sockx_close(a);
	sockx_close(c);
	/* The IPv4 port range governs IPv6 ephemeral ports too. */
	addrs[0] = "[::1]:40000";
	c = SENTINEL;
	r = sockx_connect_any(&c, addrs, 1, 2000);
	if (r != -ECONNREFUSED || errno != ECONNREFUSED || c != SENTINEL)
		return SELF_ANY6;
	sockx_close(l);
	return sxt_count_fds() == nfds - 1 ? SELF_OK : SELF_LEAK;
}

START_TEST(any_tcp_self_connect_is_a_failure)
{
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(self_connect_child());
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "child killed by signal %d",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	st = WEXITSTATUS(st);
	ck_assert_msg(st == SELF_OK, "%s (exit %d)",
	    st < (int)NELEM(self_msgs) && self_msgs[st] != NULL ?
	    self_msgs[st] : "unknown", st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 9. Invalid input: -EINVAL before anything is sent                   */
/* ------------------------------------------------------------------ */

START_TEST(any_invalid_input_fails_before_sending)
{
	static const char *const bad[] = {
		"udp:127.0.0.1:53", "udp:[::1]:53", "unixgram:@x",
		"unixgram:/tmp/x", "127.0.0.1:0", "tcp:[::1]:0", "@", "unix:@",
		"unixpacket:@", "garbage:::", "", "tcp:/tmp/x", "udp:@x",
		"not an address",
	};
	char longname[130];
	struct live u, t;
	const char *addrs[3];
	sockx *c = SENTINEL;
	size_t i;
	int before;

	live_unix(&u);
	live_tcp4(&t);
	before = sxt_count_fds();
	addrs[0] = u.text;
	addrs[2] = t.text;
	CHECK_ERR(sockx_connect_any(NULL, addrs, 1, 1000), EINVAL);
	CHECK_ERR(sockx_connect_any(&c, NULL, 1, 1000), EINVAL);
	CHECK_ERR(sockx_connect_any(&c, addrs, 0, 1000), EINVAL);
	CHECK_ERR(sockx_connect_any(&c, addrs, 1, -2), EINVAL);
	CHECK_ERR(sockx_connect_any(&c, addrs, 1, INT_MIN), EINVAL);
	addrs[1] = NULL;
	CHECK_ERR(sockx_connect_any(&c, addrs, 3, 1000), EINVAL);
	ck_assert_ptr_eq(c, SENTINEL);
	for (i = 0; i < NELEM(bad); i++) {
		addrs[1] = bad[i];
		errno = 0;
		ck_assert_msg(sockx_connect_any(&c, addrs, 3, 1000) == -EINVAL,
		    "[live, \"%s\", live] was not -EINVAL", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
		errno = 0;
		ck_assert_msg(sockx_connect_any(&c, addrs + 1, 1, 1000) ==
		    -EINVAL, "[\"%s\"] was not -EINVAL", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_ptr_eq(c, SENTINEL);
	}
	/* Parse errors keep sockx_addr_parse's code. */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[0] = '@';
	longname[sizeof(longname) - 1] = '\0';
	addrs[1] = longname;
	CHECK_ERR(sockx_connect_any(&c, addrs, 3, 1000), ENAMETOOLONG);
	addrs[1] = "[fe80::1%sxt-no-such-if]:80";
	CHECK_ERR(sockx_connect_any(&c, addrs, 3, 1000), ENODEV);
	ck_assert_ptr_eq(c, SENTINEL);
	/* Nothing was sent to either listener, nothing is left open. */
	check_untouched(&u);
	check_untouched(&t);
	ck_assert_int_eq(sxt_count_fds(), before);
	live_close(&t);
	live_close(&u);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 10. Mixed kinds of address                                          */
/* ------------------------------------------------------------------ */

enum { K_PATH, K_ABSTRACT, K_PACKET, K_TCP6, K_TCP4, K_COUNT };

/*
 * Five addresses, one of each kind (unix path, abstract, unixpacket
 * abstract, TCP [::1], TCP 127.0.0.1); only the one of kind _i is live,
 * the others refuse.  It wins, at once, and its handle works.
 */
START_TEST(any_mixed_kinds_only_live_one_wins)
{
	static const char *const kinds[] = {
		"unix path", "abstract", "unixpacket", "tcp6", "tcp4",
	};
	char dir[128], path[PATH_MAX + 16], name[64];
	struct dead d[K_COUNT];
	struct live v;
	const char *addrs[K_COUNT];
	sockx *c = NULL;
	double el;
	int k, type, before;
	socklen_t tlen = sizeof(type);

	warm_up();
	sxt_tmpdir(dir, sizeof(dir));
	snprintf(d[K_PATH].text, sizeof(d[K_PATH].text), "%s/dead.sock", dir);
	d[K_PATH].fd = -1;
	dead_abstract(&d[K_ABSTRACT], "");
	dead_abstract(&d[K_PACKET], "unixpacket:");
	dead_tcp(&d[K_TCP6], AF_INET6);
	dead_tcp(&d[K_TCP4], AF_INET);
	snprintf(path, sizeof(path), "%s/live.sock", dir);
	switch (_i) {
	case K_PATH:
		live_listen(&v, path, "");
		ck_assert_str_eq(v.peer, path);
		break;
	case K_ABSTRACT:
		live_unix(&v);
		break;
	case K_PACKET:
		sxt_abstract(name, sizeof(name), "packet");
		snprintf(path, sizeof(path), "unixpacket:%s", name);
		live_listen(&v, path, "unixpacket:");
		ck_assert_str_eq(v.text, path);
		break;
	case K_TCP6:
		live_listen(&v, "tcp:[::1]:0", "");
		break;
	default:
		live_tcp4(&v);
		break;
	}
	for (k = 0; k < K_COUNT; k++)
		addrs[k] = k == _i ? v.text : d[k].text;
	before = sxt_count_fds();
	ck_assert_int_eq(any(&c, addrs, K_COUNT, 2000, &el), 0);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	ck_assert_msg(el < AT_ONCE, "%s after %d refusals took %.3f s",
	    kinds[_i], _i, el);
	ck_assert_int_eq(getsockopt(sockx_fd(c), SOL_SOCKET, SO_TYPE, &type,
	    &tlen), 0);
	ck_assert_int_eq(type, _i == K_PACKET ? SOCK_SEQPACKET : SOCK_STREAM);
	check_winner(c, &v);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&v);
	for (k = 0; k < K_COUNT; k++)
		dead_close(&d[k]);
	if (_i == K_PATH)
		ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 11. Descriptors above FD_SETSIZE                                    */
/* ------------------------------------------------------------------ */

/* Descriptor numbers taken so that every new socket gets one above this. */
#define HIGH_FD 1600

/*
 * With every socket numbered above 1500: [silent TCP, live TCP] is waited
 * on (two TCP connects in progress under one wait) and address 1 wins
 * after the stagger; [silent TCP, full unix backlog] times out on time
 * without spinning (a wait that misread the bitmap would wake at once).
 */
START_TEST(any_high_descriptors)
{
	static int low[HIGH_FD];
	struct silent s, su;
	struct live v;
	const char *addrs[2];
	sockx *c = NULL;
	double el, cpu;
	int nlow, before;

	warm_up();
	nlow = sxt_occupy_low_fds(low, HIGH_FD);
	silent_tcp(&s);
	live_tcp4(&v);
	ck_assert_int_gt(s.lfd, 1500);
	ck_assert_int_gt(sockx_fd(v.l), 1500);
	addrs[0] = s.text;
	addrs[1] = v.text;
	before = sxt_count_fds();
	ck_assert_int_eq(any(&c, addrs, 2, 3000, &el), 0);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	ck_assert_int_gt(sockx_fd(c), 1500);
	ck_assert_msg(el >= STAGGER - 0.010 && el < STAGGER + 0.150,
	    "silent tcp first at high fds took %.3f s", el);
	check_winner(c, &v);
	ck_assert_int_eq(sockx_close(c), 0);

	silent_unix(&su);
	addrs[1] = su.text;
	c = SENTINEL;
	cpu = sxt_thread_cpu();
	CHECK_ERR(any(&c, addrs, 2, 400, &el), ETIMEDOUT);
	cpu = sxt_thread_cpu() - cpu;
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_msg(el >= 0.400 && el < 0.550,
	    "400 ms timeout took %.3f s", el);
	ck_assert_msg(cpu < 0.1 * el, "used %.1f%% of a CPU while waiting",
	    100.0 * cpu / el);
	silent_close(&su);
	live_close(&v);
	silent_close(&s);
	sxt_close_all(low, nlow);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 12. Unix paths longer than sun_path                                 */
/* ------------------------------------------------------------------ */

/*
 * A long path works as a live address (also behind a refused one), and
 * its directory descriptor is not left open.  A long path whose directory
 * is missing is that attempt's failure (-ENOENT), not an up-front error:
 * address 1 wins at once behind it, and alone or first it is the error.
 */
START_TEST(any_long_unix_paths)
{
	char dir[PATH_MAX], deep[PATH_MAX], path[PATH_MAX + 16];
	char missing[PATH_MAX + 32], longbase[PATH_MAX + 128];
	struct sockaddr_storage ss;
	socklen_t len;
	struct live u;
	struct dead d;
	const char *addrs[2];
	sockx *l, *c = NULL;
	double el;
	int before;

	warm_up();
	sxt_tmpdir(dir, sizeof(dir));
	sxt_deep_dirs(dir, deep, sizeof(deep));
	snprintf(path, sizeof(path), "%s/s.sock", deep);
	ck_assert_uint_gt(strlen(path), 108);
	ck_assert_int_eq(sockx_listen(&l, path, 0, 0, 0), 0);
	live_unix(&u);
	dead_abstract(&d, "");

	/* Alone, and behind a refused address. */
	addrs[0] = path;
	before = sxt_count_fds();
	ck_assert_int_eq(any(&c, addrs, 1, 1000, &el), 0);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	check_works(c, l, NULL);
	/* Reached through the long path: no name to report (sockx.h). */
	CHECK_ERR(sockx_peer_addr(c, &ss, &len), ENAMETOOLONG);
	ck_assert_int_eq(sockx_close(c), 0);
	addrs[0] = d.text;
	addrs[1] = path;
	ck_assert_int_eq(any(&c, addrs, 2, 1000, &el), 0);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	ck_assert_msg(el < AT_ONCE, "long path after a refusal: %.3f s", el);
	check_works(c, l, NULL);
	ck_assert_int_eq(sockx_close(c), 0);

	/* Its directory missing: that attempt fails, address 1 wins. */
	snprintf(missing, sizeof(missing), "%s/no-such-dir/s.sock", deep);
	addrs[0] = missing;
	addrs[1] = u.text;
	ck_assert_int_eq(any(&c, addrs, 2, 1000, &el), 0);
	ck_assert_int_eq(sxt_count_fds(), before + 1);
	ck_assert_msg(el < AT_ONCE, "missing long path first: %.3f s", el);
	check_winner(c, &u);
	ck_assert_int_eq(sockx_close(c), 0);
	c = SENTINEL;
	addrs[1] = d.text;
	CHECK_ERR(any(&c, addrs, 2, 1000, &el), ENOENT);
	CHECK_ERR(any(&c, addrs, 1, 1000, &el), ENOENT);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_int_eq(sxt_count_fds(), before);

	/* A basename too long even for /proc/self/fd/N/<name>. */
	snprintf(longbase, sizeof(longbase), "%s/%0100d", deep, 0);
	addrs[0] = longbase;
	CHECK_ERR(any(&c, addrs, 1, 1000, &el), ENAMETOOLONG);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_int_eq(sxt_count_fds(), before);

	live_close(&u);
	ck_assert_int_eq(sockx_close(l), 0);
	ck_assert_int_eq(unlink(path), 0);
	sxt_remove_deep_dirs(dir, deep);
}
END_TEST

/*
 * The deadline equals the stagger: address 1 would start 250 ms after
 * address 0 started, which is after the call's deadline.  The deadline
 * passed first: -ETIMEDOUT, and address 1 is never tried.
 */
START_TEST(any_no_attempt_starts_after_the_deadline)
{
	struct silent s;
	struct live v;
	const char *addrs[2];
	sockx *c = SENTINEL;
	double el;
	int r;

	warm_up();
	silent_unix(&s);
	live_unix(&v);
	addrs[0] = s.text;
	addrs[1] = v.text;
	r = any(&c, addrs, 2, SOCKX_CONNECT_STAGGER_MS, &el);
	if (r == 0)
		sockx_close(c);
	ck_assert_msg(r == -ETIMEDOUT, "timeout %d ms = stagger: %d after "
	    "%.3f ms (an attempt started after the deadline)",
	    SOCKX_CONNECT_STAGGER_MS, r, el * 1e3);
	check_untouched(&v);
	live_close(&v);
	silent_close(&s);
}
END_TEST

/*
 * Timeout 0 judges attempts that complete at once, "refused" included: a
 * loopback TCP refusal is complete when connect(2) returns EINPROGRESS
 * (SO_ERROR already holds ECONNREFUSED; sockx_connect(text, 0) returns
 * -ECONNREFUSED).  [refused TCP] is -ECONNREFUSED, and [refused TCP, live
 * unix] connects to the unix listener, as [refused abstract, live unix]
 * does.
 */
START_TEST(any_timeout_zero_judges_a_refused_tcp_connect)
{
	struct live u;
	struct dead d;
	const char *addrs[2];
	sockx *c = SENTINEL;
	double el;

	warm_up();
	dead_tcp(&d, AF_INET);
	live_unix(&u);
	CHECK_ERR(sockx_connect(&c, d.text, 0), ECONNREFUSED);
	addrs[0] = d.text;
	addrs[1] = u.text;
	CHECK_ERR(any(&c, addrs, 1, 0, &el), ECONNREFUSED);
	ck_assert_ptr_eq(c, SENTINEL);
	ck_assert_int_eq(any(&c, addrs, 2, 0, &el), 0);
	check_winner(c, &u);
	ck_assert_int_eq(sockx_close(c), 0);
	live_close(&u);
	dead_close(&d);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("connect-any");
	TCase *tc;

	tc = sx_tcase("order", 30);
	tcase_add_loop_test(tc, any_first_answering_wins_at_once, 0, 2);
	tcase_add_loop_test(tc, any_refused_first_moves_on_at_once, 0, 3);
	tcase_add_test(tc, any_in_flight_failure_moves_on_at_once);
	tcase_add_loop_test(tc, any_silent_first_next_after_stagger, 0, 4);
	tcase_add_test(tc, any_two_silent_then_live_after_two_staggers);
	tcase_add_loop_test(tc, any_silent_first_wins_when_room_appears, 0, 2);
	tcase_add_test(tc, any_latest_failure_moves_on_with_older_in_flight);
	tcase_add_test(tc, any_older_failure_keeps_the_stagger);
	suite_add_tcase(s, tc);

	tc = sx_tcase("failure", 30);
	tcase_add_test(tc, any_all_dead_first_error);
	tcase_add_test(tc, any_deadline_bounds_the_whole_call);
	tcase_add_loop_test(tc, any_deadline_before_stagger_etimedout, 0, 2);
	tcase_add_test(tc, any_deadline_first_etimedout_even_after_a_failure);
	tcase_add_test(tc, any_timeout_zero);
	tcase_add_test(tc, any_no_attempt_starts_after_the_deadline);
	tcase_add_test(tc, any_timeout_zero_judges_a_refused_tcp_connect);
	tcase_add_loop_test(tc, any_waiting_does_not_spin, 0, 2);
	tcase_add_test(tc, any_signals_do_not_interrupt);
	suite_add_tcase(s, tc);

	tc = sx_tcase("contract", 30);
	tcase_add_test(tc, any_invalid_input_fails_before_sending);
	tcase_add_test(tc, any_tcp_self_connect_is_a_failure);
	tcase_add_loop_test(tc, any_mixed_kinds_only_live_one_wins, 0, K_COUNT);
	tcase_add_test(tc, any_high_descriptors);
	tcase_add_test(tc, any_long_unix_paths);
	suite_add_tcase(s, tc);
	return s;
}
