/* SPDX-License-Identifier: MIT */
/*
 * bench-pollset.c - many connections: one request/reply service written
 * twice, on raw epoll and on a libsockx poll set, driven by the same load
 * generator, run by run in alternation so that the machine's drift hits
 * both alike (libsockx issue 14, item 6).
 *
 * The service: a client sends 128-byte requests over a unix stream
 * connection; the server answers each with the 128 bytes it read (echo).
 *
 *   raw  epoll, level-triggered; a non-blocking abstract listener;
 *        accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) until EAGAIN, each
 *        connection registered for EPOLLIN; per-connection state (bytes
 *        of the request so far, the request) in an array indexed by fd;
 *        on EPOLLIN read(2) the rest of the 128 bytes, and once they are
 *        all there write(2) them back; end of stream or an error: close.
 *   set  the same service on a poll set: sockx_listen("@name"), the
 *        listener a member (data: NULL); sockx_accept(l, &c, 0) until
 *        -ETIMEDOUT, each connection added with SOCKX_READABLE, a 30 s
 *        idle deadline and data pointing at its state (the same array,
 *        indexed by sockx_fd); on SOCKX_READABLE sockx_read(c, .., 0),
 *        then sockx_write(c, .., 0) of the whole request and
 *        sockx_poll_mod(p, c, SOCKX_READABLE, 30000) to re-arm the idle
 *        deadline (the contract: no system call, events unchanged); on
 *        SOCKX_EXPIRED or end of stream or an error: sockx_close.
 *
 * In both, a reply that does not go out whole at once is a failure (the
 * generator keeps at most one request in flight per connection, so the
 * 128 bytes always fit in the socket buffer): neither server queues
 * output, which keeps them the same program.
 *
 * The load generator (this process; the server is a forked child): raw
 * epoll, N blocking connects (each then made non-blocking), then
 *
 *   closed  every connection keeps one 128-byte request outstanding: a
 *           reply read whole is followed at once by the next request;
 *           requests/s over D seconds after a warm-up of W seconds;
 *   paced   requests sent on a schedule of RATE per second in total
 *           (connection after connection, round robin; a connection whose
 *           previous request is still out skips its turn, counted), the
 *           generator polling without sleeping; the latency of each
 *           request from its write to the end of its reply
 *           (CLOCK_MONOTONIC), p50 and p99 over D seconds.
 *
 * The server runs on CPU 0 and the generator on CPU 1 (sched_setaffinity;
 * with one CPU both run on it and the output says so).  The server's CPU
 * time (user + system, as getrusage counts it) over the measured window is
 * read from its process CPU clock (clock_getcpuclockid).
 *
 * Then, in one process:
 *
 *   memory  RSS (/proc/self/statm) with N connected handles (peers held by
 *           a forked child), then the same handles added to a poll set with
 *           a 30 s deadline each: (delta RSS) / N = user-space bytes per
 *           member beyond the handle.  The kernel's epoll item
 *           (eventpoll_epi in /proc/slabinfo, when readable) is counted
 *           apart: raw epoll pays it too.
 *   wait    one member always readable (a unix pair with unread data) and
 *           K idle members with a 30 s deadline each; the thread CPU time
 *           of M sockx_poll_wait calls (each returns that one event), with
 *           K = 10 and K = the largest that fits; raw epoll_wait beside it.
 *
 * Usage: bench-pollset [-r REPS] [-d SECS] [-w SECS] [-R RATE]
 *                      [-n N1,N2,...] [-q] [-o MASK] [-i raw|set]
 *        bench-pollset -S raw|set NAME [-c COUNT]
 *        bench-pollset -G NAME [-n N] [-c COUNT]
 *   -r  repetitions per implementation (default 3; medians are reported)
 *   -d  measured seconds per run (default 3), -w warm-up seconds (1)
 *   -R  paced rate, requests/s in total (default 40000)
 *   -n  connection counts (default 2000,19900; more than RLIMIT_NOFILE
 *       allows, less 100, is cut down to that, with a message)
 *   -q  quick: 1 repetition, 1 s runs (a smoke test)
 *   -o  only these parts (a sum): 1 closed loop, 2 paced, 4 memory, 8 wait
 *   -i  raw or set: run only that server (to profile it; no ratios then)
 *   -S KIND NAME  only the server KIND (raw or set) at @NAME, which exits
 *       after -c COUNT replies (for callgrind); -G NAME only the closed
 *       loop generator: -n N connections to @NAME until -c COUNT replies
 * Prints tables; asserts nothing; exits 1 only when something fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sockx.h>

#define REQ	128
#define MAXREPS	16
#define MAXNS	8
#define IDLE_MS	30000
#define PACE_NS	100000	/* paced: the generator sleeps at least this */

static int ncpus;
static const char *only_kind;	/* -i: run only this server (profiling) */
static long stop_after;		/* -S: the server exits after so many replies */
static long served;
static unsigned long fdlimit;

static void die(const char *what, int err) __attribute__((noreturn));

static void
die(const char *what, int err)
{
	fprintf(stderr, "bench-pollset: %s: %s\n", what, strerror(err));
	exit(1);
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
clock_ns(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) < 0)
		die("clock_gettime", errno);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	if (ncpus < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity", errno);
}

/* Per-connection state, indexed by fd in both servers. */
struct conn {
	sockx *s;		/* set server only */
	unsigned have;		/* bytes of the request so far */
	char buf[REQ];
};

static struct conn *conns;	/* fdlimit entries */

/* ---------------------------------------------------------------- */
/* The servers (forked children; killed with SIGTERM)               */
/* ---------------------------------------------------------------- */

static void
raw_server(const char *name, int ready)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event e, ev[256];
	socklen_t salen;
	int l, ep, n, i, fd, c;
	ssize_t r;
	struct conn *k;

	l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l < 0)
		die("socket", errno);
	memcpy(sa.sun_path + 1, name, strlen(name));
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(name));
	if (bind(l, (struct sockaddr *)&sa, salen) < 0 ||
	    listen(l, SOMAXCONN) < 0)
		die("bind/listen", errno);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1", errno);
	e = (struct epoll_event){ .events = EPOLLIN, .data.fd = l };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, l, &e) < 0)
		die("epoll_ctl", errno);
	if (write(ready, "r", 1) != 1)
		die("write", errno);
	for (;;) {
		n = epoll_wait(ep, ev, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait", errno);
		}
		for (i = 0; i < n; i++) {
			fd = ev[i].data.fd;
			if (fd == l) {
				while ((c = accept4(l, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					conns[c].have = 0;
					e = (struct epoll_event){
					    .events = EPOLLIN, .data.fd = c };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c,
					    &e) < 0)
						die("epoll_ctl", errno);
				}
				if (errno != EAGAIN && errno != ECONNABORTED)
					die("accept4", errno);
				continue;
			}
			k = &conns[fd];
			r = read(fd, k->buf + k->have, REQ - k->have);
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r <= 0) {
				close(fd);
				continue;
			}
			k->have += (unsigned)r;
			if (k->have < REQ)
				continue;
			k->have = 0;
			r = write(fd, k->buf, REQ);
			if (r < 0 && (errno == EPIPE || errno == ECONNRESET)) {
				close(fd);	/* the client is gone */
				continue;
			}
			if (r != REQ)
				die("write (short reply)", r < 0 ? errno : EIO);
			if (++served == stop_after)
				exit(0);
		}
	}
}

static void
set_server(const char *name, int ready)
{
	struct sockx_event ev[256];
	char addr[128];
	sockx_poll *p;
	sockx *l, *c;
	struct conn *k;
	ssize_t r;
	int n, i, fd;

	snprintf(addr, sizeof(addr), "@%s", name);
	if ((n = sockx_poll_new(&p, 0)) < 0)
		die("sockx_poll_new", -n);
	if ((n = sockx_listen(&l, addr, 0, 0, 0)) < 0)
		die("sockx_listen", -n);
	if ((n = sockx_poll_add(p, l, SOCKX_READABLE, -1, NULL)) < 0)
		die("sockx_poll_add", -n);
	if (write(ready, "r", 1) != 1)
		die("write", errno);
	for (;;) {
		n = sockx_poll_wait(p, ev, 256, -1);
		if (n < 0)
			die("sockx_poll_wait", -n);
		for (i = 0; i < n; i++) {
			k = ev[i].data;
			if (k == NULL) {
				while ((r = sockx_accept(l, &c, 0)) == 0) {
					fd = sockx_fd(c);
					k = &conns[fd];
					k->s = c;
					k->have = 0;
					r = sockx_poll_add(p, c, SOCKX_READABLE,
					    IDLE_MS, k);
					if (r < 0)
						die("sockx_poll_add", (int)-r);
				}
				if (r != -ETIMEDOUT)
					die("sockx_accept", (int)-r);
				continue;
			}
			if (ev[i].events & SOCKX_EXPIRED) {
				sockx_close(k->s);	/* idle too long */
				k->s = NULL;
				continue;
			}
			r = sockx_read(k->s, k->buf + k->have, REQ - k->have,
			    0);
			if (r == -ETIMEDOUT)
				continue;
			if (r <= 0) {
				sockx_close(k->s);
				k->s = NULL;
				continue;
			}
			k->have += (unsigned)r;
			if (k->have < REQ)
				continue;
			k->have = 0;
			r = sockx_write(k->s, k->buf, REQ, 0);
			if (r == -EPIPE || r == -ECONNRESET) {
				sockx_close(k->s);	/* the client is gone */
				k->s = NULL;
				continue;
			}
			if (r != REQ)
				die("sockx_write (short reply)",
				    r < 0 ? (int)-r : EIO);
			if (++served == stop_after)
				exit(0);
			r = sockx_poll_mod(p, k->s, SOCKX_READABLE, IDLE_MS);
			if (r < 0)
				die("sockx_poll_mod", (int)-r);
		}
	}
}

/* Fork a server of kind ("raw" or "set") on CPU 0; its pid. */
static pid_t
start_server(const char *kind, const char *name)
{
	int pp[2];
	char b;
	pid_t pid;

	if (pipe2(pp, O_CLOEXEC) < 0)
		die("pipe2", errno);
	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid == 0) {
		close(pp[0]);
		pin(0);
		if (strcmp(kind, "raw") == 0)
			raw_server(name, pp[1]);
		else
			set_server(name, pp[1]);
		_exit(1);
	}
	close(pp[1]);
	if (read(pp[0], &b, 1) != 1)
		die("server did not start", EIO);
	close(pp[0]);
	return pid;
}

static void
stop_server(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid", errno);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
		die("the server failed", EIO);
}

/* ---------------------------------------------------------------- */
/* The load generator                                               */
/* ---------------------------------------------------------------- */

struct gconn {
	int fd;
	unsigned got;		/* bytes of the reply so far */
	int out;		/* a request is outstanding */
	int64_t sent;		/* when it was written (paced) */
};

/* N blocking connects to @name, then non-blocking; fds into g[]. */
static void
connect_all(const char *name, struct gconn *g, int n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	int i, fd, retry = 3000;

	memcpy(sa.sun_path + 1, name, strlen(name));
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(name));
	for (i = 0; i < n; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket (generator)", errno);
		while (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
			/* -G: the server (under valgrind) may still start. */
			if (errno == ECONNREFUSED && i == 0 && retry-- > 0) {
				usleep(10000);
				continue;
			}
			if (errno != EINTR)
				die("connect", errno);
		}
		if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
			die("fcntl", errno);
		g[i] = (struct gconn){ .fd = fd };
	}
}

static void
send_req(struct gconn *c, const char *req)
{
	if (write(c->fd, req, REQ) != REQ)
		die("write (generator)", errno);
	c->out = 1;
	c->got = 0;
}

/* Read what there is of c's reply; 1 when it is complete. */
static int
read_reply(struct gconn *c)
{
	char buf[REQ];
	ssize_t r;

	r = read(c->fd, buf, REQ - c->got);
	if (r < 0 && errno == EAGAIN)
		return 0;
	if (r <= 0)
		die("read (generator)", r < 0 ? errno : EPIPE);
	c->got += (unsigned)r;
	if (c->got < REQ)
		return 0;
	c->out = 0;
	return 1;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct result {
	double rps;		/* replies per second */
	double cpu_us;		/* server CPU us per request */
	double p50_us, p99_us;	/* paced */
	double skipped;		/* paced: turns skipped (still out), % */
	double conn_s;		/* seconds to connect all */
};

/*
 * One run: a server of kind, n connections, closed loop (rate 0) or paced
 * at rate requests/s.
 */
static struct result
run(const char *kind, int n, double rate, double warm, double dur)
{
	static int seq;
	struct epoll_event e, ev[256];
	struct gconn *g;
	struct result res = { 0 };
	char name[64], req[REQ];
	clockid_t cpu;
	pid_t pid;
	int ep, i, k, r, measuring = 0;
	int64_t t0, tw, tend, cpu0 = 0, count = 0, next, period = 0;
	int64_t *lat = NULL, nlat = 0, maxlat = 0, turns = 0, skips = 0;
	size_t rr = 0;

	snprintf(name, sizeof(name), "sockx-bench-pollset-%d-%d",
	    (int)getpid(), seq++);
	memset(req, 'q', sizeof(req));
	g = calloc((size_t)n, sizeof(*g));
	if (g == NULL)
		die("calloc", ENOMEM);
	pid = start_server(kind, name);
	if (clock_getcpuclockid(pid, &cpu) != 0)
		die("clock_getcpuclockid", EPERM);
	t0 = now_ns();
	connect_all(name, g, n);
	res.conn_s = (double)(now_ns() - t0) / 1e9;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1", errno);
	for (i = 0; i < n; i++) {
		e = (struct epoll_event){ .events = EPOLLIN, .data.u32 = i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, g[i].fd, &e) < 0)
			die("epoll_ctl (generator)", errno);
	}
	if (rate > 0) {
		(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
		maxlat = (int64_t)(rate * dur * 1.1) + 1024;
		lat = malloc((size_t)maxlat * sizeof(*lat));
		if (lat == NULL)
			die("malloc", ENOMEM);
		period = (int64_t)(1e9 / rate);
	} else {
		for (i = 0; i < n; i++)
			send_req(&g[i], req);
	}
	t0 = now_ns();
	tw = t0 + (int64_t)(warm * 1e9);
	tend = tw + (int64_t)(dur * 1e9);
	next = t0;
	for (;;) {
		int64_t t = now_ns();

		if (!measuring && t >= tw) {
			measuring = 1;
			count = 0;
			nlat = 0;
			turns = skips = 0;
			cpu0 = clock_ns(cpu);
			tw = t;
		} else if (measuring && t >= tend) {
			res.cpu_us = (double)(clock_ns(cpu) - cpu0) / 1e3;
			res.rps = (double)count / ((double)(t - tw) / 1e9);
			break;
		}
		/* Paced: every request whose time has come. */
		while (rate > 0 && next <= t) {
			struct gconn *c = &g[rr];

			rr = (rr + 1) % (size_t)n;
			next += period;
			turns++;
			if (c->out) {
				skips++;
				continue;
			}
			c->sent = now_ns();
			send_req(c, req);
		}
		if (rate > 0) {
			/*
			 * Sleep until the next request is due, or PACE_NS
			 * if that is sooner (timer slack 1 ns): a sleeper
			 * is woken at once on a busy CPU, where a poller
			 * waits for its time slice; and fewer wake-ups
			 * keep the rate on a slow VM (requests then go out
			 * in bursts of up to PACE_NS worth).
			 */
			struct timespec ts = { 0, 0 };
			int64_t left = next - now_ns();

			if (left < PACE_NS)
				left = PACE_NS;
			ts.tv_nsec = left > 999999999 ? 999999999 :
			    (long)left;
			r = epoll_pwait2(ep, ev, 256, &ts, NULL);
		} else {
			r = epoll_wait(ep, ev, 256, 100);
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait (generator)", errno);
		}
		for (k = 0; k < r; k++) {
			struct gconn *c = &g[ev[k].data.u32];

			if (!read_reply(c))
				continue;
			count++;
			if (rate > 0) {
				if (measuring && nlat < maxlat)
					lat[nlat++] = now_ns() - c->sent;
			} else {
				send_req(c, req);
			}
		}
	}
	res.cpu_us = count > 0 ? res.cpu_us / (double)count : 0;
	if (rate > 0 && nlat > 0) {
		qsort(lat, (size_t)nlat, sizeof(*lat), cmp_i64);
		res.p50_us = (double)lat[nlat / 2] / 1e3;
		res.p99_us = (double)lat[nlat * 99 / 100] / 1e3;
		res.skipped = turns > 0 ? 100.0 * (double)skips /
		    (double)turns : 0;
	}
	for (i = 0; i < n; i++)
		close(g[i].fd);
	close(ep);
	if (rate > 0)
		(void)prctl(PR_SET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
	stop_server(pid);
	free(lat);
	free(g);
	return res;
}

/*
 * -G: only the generator, closed loop on n connections to @name until
 * count replies came (for a server run apart, e.g. under callgrind).
 */
static void
generate(const char *name, int n, long count)
{
	struct epoll_event e, ev[256];
	struct gconn *g = calloc((size_t)n, sizeof(*g));
	char req[REQ];
	long got = 0;
	int ep, i, k, r;

	if (g == NULL)
		die("calloc", ENOMEM);
	memset(req, 'q', sizeof(req));
	connect_all(name, g, n);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1", errno);
	for (i = 0; i < n; i++) {
		e = (struct epoll_event){ .events = EPOLLIN, .data.u32 = i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, g[i].fd, &e) < 0)
			die("epoll_ctl (generator)", errno);
		send_req(&g[i], req);
	}
	while (got < count) {
		r = epoll_wait(ep, ev, 256, -1);
		if (r < 0 && errno != EINTR)
			die("epoll_wait (generator)", errno);
		for (k = 0; k < r && got < count; k++) {
			struct gconn *c = &g[ev[k].data.u32];

			if (!read_reply(c))
				continue;
			if (++got < count - n + 1)
				send_req(c, req);
		}
	}
	free(g);
}

/* ---------------------------------------------------------------- */
/* Statistics and tables                                            */
/* ---------------------------------------------------------------- */

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(const double *v, int n)
{
	double s[MAXREPS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_d);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Spread: (max - min) / median, in percent. */
static double
spread(const double *v, int n)
{
	double lo = v[0], hi = v[0], m = median(v, n);
	int i;

	for (i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return m != 0 ? 100 * (hi - lo) / m : 0;
}

static const char *
verdict(double ratio, double bound, int atleast)
{
	return (atleast ? ratio >= bound : ratio <= bound) ? "met" : "MISSED";
}

/* Other processes' CPU use over a span: /proc/stat minus ours. */
struct cpustat {
	long long busy, total;
};

static struct cpustat
read_cpustat(void)
{
	struct cpustat c = { 0, 0 };
	long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int i;

	if (f == NULL)
		return c;
	if (fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld",
	    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
	    &v[9]) >= 8) {
		for (i = 0; i < 8; i++)
			c.total += v[i];
		c.busy = c.total - v[3] - v[4];
	}
	fclose(f);
	return c;
}

static void
loop_table(int *ns, int nn, int reps, double warm, double dur, double rate)
{
	static const char *kinds[2] = { "raw", "set" };
	double rps[2][MAXREPS], cpu[2][MAXREPS], p50[2][MAXREPS];
	double p99[2][MAXREPS], skip[2][MAXREPS];
	double m[2], c[2], q50[2], q99[2];
	int ni, rep, k;
	struct result r;

	if (rate > 0)
		printf("\n### paced at %.0f requests/s in total: latency "
		    "(write to whole reply), %d runs each, medians\n\n```\n",
		    rate, reps);
	else
		printf("\n### closed loop, one 128-byte request outstanding per "
		    "connection, %d runs each, medians\n\n```\n", reps);
	if (rate > 0)
		printf("%-6s %-4s %8s %10s %9s %10s %9s %10s %7s\n", "conns",
		    "impl", "req/s", "p50 us", "spread", "p99 us", "spread",
		    "CPU us/req", "skipped");
	else
		printf("%-6s %-4s %10s %9s %10s %9s\n", "conns", "impl",
		    "req/s", "spread", "CPU us/req", "spread");
	for (ni = 0; ni < nn; ni++) {
		for (rep = 0; rep < reps; rep++)
			for (k = 0; k < 2; k++) {
				/* Alternate which goes first, too. */
				int kk = (rep % 2) ? 1 - k : k;

				if (only_kind != NULL &&
				    strcmp(only_kind, kinds[kk]) != 0) {
					rps[kk][rep] = cpu[kk][rep] = 0;
					p50[kk][rep] = p99[kk][rep] = 0;
					skip[kk][rep] = 0;
					continue;
				}
				r = run(kinds[kk], ns[ni], rate, warm, dur);
				rps[kk][rep] = r.rps;
				cpu[kk][rep] = r.cpu_us;
				p50[kk][rep] = r.p50_us;
				p99[kk][rep] = r.p99_us;
				skip[kk][rep] = r.skipped;
				fprintf(stderr, "run %s n=%d rate=%.0f: %.0f "
				    "req/s, %.2f CPU us/req, p50 %.1f us, "
				    "p99 %.1f us, skipped %.2f%%, connect "
				    "%.2f s\n", kinds[kk], ns[ni], rate,
				    r.rps, r.cpu_us, r.p50_us, r.p99_us,
				    r.skipped, r.conn_s);
			}
		for (k = 0; k < 2; k++) {
			m[k] = median(rps[k], reps);
			c[k] = median(cpu[k], reps);
			q50[k] = median(p50[k], reps);
			q99[k] = median(p99[k], reps);
			if (rate > 0)
				printf("%-6d %-4s %8.0f %10.1f %8.1f%% %10.1f "
				    "%8.1f%% %10.2f %6.2f%%\n", ns[ni],
				    kinds[k], m[k], q50[k], spread(p50[k], reps),
				    q99[k], spread(p99[k], reps), c[k],
				    median(skip[k], reps));
			else
				printf("%-6d %-4s %10.0f %8.1f%% %10.2f "
				    "%8.1f%%\n", ns[ni], kinds[k], m[k],
				    spread(rps[k], reps), c[k],
				    spread(cpu[k], reps));
		}
		/*
		 * A paced run means something only if the rate was kept
		 * and no request was still out at its connection's next
		 * turn; otherwise it measured the machine's queues.
		 */
		if (rate > 0 && (m[0] < 0.98 * rate || m[1] < 0.98 * rate ||
		    median(skip[0], reps) > 0 || median(skip[1], reps) > 0))
			printf("%-6d set/raw: p50 %.3fx, p99 %.3fx (target "
			    "<= 1.2x: NOT MEASURED: the rate was not kept, "
			    "the CPUs are too busy), CPU/req %.3fx\n", ns[ni],
			    q50[1] / q50[0], q99[1] / q99[0], c[1] / c[0]);
		else if (rate > 0)
			printf("%-6d set/raw: p50 %.3fx, p99 %.3fx (target "
			    "<= 1.2x: %s), CPU/req %.3fx\n", ns[ni],
			    q50[1] / q50[0], q99[1] / q99[0],
			    verdict(q99[1] / q99[0], 1.2, 0), c[1] / c[0]);
		else
			printf("%-6d set/raw: req/s %.3fx (target >= 0.9x: "
			    "%s), CPU us/req %.3fx (target <= 1.1x: %s)\n",
			    ns[ni], m[1] / m[0],
			    verdict(m[1] / m[0], 0.9, 1), c[1] / c[0],
			    verdict(c[1] / c[0], 1.1, 0));
		fflush(stdout);
	}
	printf("```\n");
}

/* ---------------------------------------------------------------- */
/* Memory per member and the cost of a wait                         */
/* ---------------------------------------------------------------- */

static long
rss_bytes(void)
{
	long size, res;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL || fscanf(f, "%ld %ld", &size, &res) != 2)
		die("/proc/self/statm", errno ? errno : EIO);
	fclose(f);
	return res * sysconf(_SC_PAGESIZE);
}

/* Active objects of a slab cache; -1 when /proc/slabinfo is unreadable. */
static long
slab_objs(const char *cache, long *objsize)
{
	char line[512], nm[64];
	long act, num, sz;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%63s %ld %ld %ld", nm, &act, &num, &sz) ==
		    4 && strcmp(nm, cache) == 0) {
			fclose(f);
			*objsize = sz;
			return act;
		}
	fclose(f);
	return -1;
}

/* n handles connected to a forked raw server that holds the peers. */
static sockx **
connect_handles(const char *name, int n)
{
	char addr[128];
	sockx **h = calloc((size_t)n, sizeof(*h));
	int i, r;

	if (h == NULL)
		die("calloc", ENOMEM);
	snprintf(addr, sizeof(addr), "@%s", name);
	for (i = 0; i < n; i++)
		if ((r = sockx_connect(&h[i], addr, 10000)) < 0)
			die("sockx_connect", -r);
	return h;
}

static void
memory_table(int n)
{
	sockx_poll *p;
	sockx **h;
	char name[64];
	pid_t pid;
	long before, after, base, handles, epi0, epi1, episz = 0;
	int i, r;

	snprintf(name, sizeof(name), "sockx-bench-pollset-%d-mem",
	    (int)getpid());
	pid = start_server("raw", name);
	if ((r = sockx_poll_new(&p, 0)) < 0)
		die("sockx_poll_new", -r);
	base = rss_bytes();
	h = connect_handles(name, n);
	handles = rss_bytes();
	before = rss_bytes();
	epi0 = slab_objs("eventpoll_epi", &episz);
	for (i = 0; i < n; i++)
		if ((r = sockx_poll_add(p, h[i], SOCKX_READABLE, IDLE_MS,
		    h[i])) < 0)
			die("sockx_poll_add", -r);
	after = rss_bytes();
	epi1 = slab_objs("eventpoll_epi", &episz);
	printf("\n### memory per idle member (one process)\n\n```\n");
	printf("idle members                          %d\n", n);
	printf("RSS, n handles (and their array)      +%ld bytes = %.1f "
	    "bytes/handle\n", handles - base, (double)(handles - base) / n);
	printf("RSS, the same in a set, 30 s deadline +%ld bytes = %.1f "
	    "bytes/member (target <= 256: %s)\n", after - before,
	    (double)(after - before) / n,
	    (double)(after - before) / n <= 256 ? "met" : "MISSED");
	if (epi0 >= 0 && epi1 >= 0)
		printf("kernel eventpoll_epi objects          +%ld x %ld "
		    "bytes (raw epoll pays these too; not in RSS)\n",
		    epi1 - epi0, episz);
	else
		printf("kernel eventpoll_epi                  /proc/slabinfo "
		    "unreadable\n");
	printf("```\n");
	sockx_poll_free(p);
	for (i = 0; i < n; i++)
		sockx_close(h[i]);
	free(h);
	stop_server(pid);
}

/* Thread CPU ns per wait with one member ready and k idle ones. */
static void
wait_cost(const char *name, int k, int m, double *set_ns, double *raw_ns)
{
	struct sockx_event ev[64];
	struct epoll_event rev[64], e;
	sockx_poll *p;
	sockx **h, *a, *b;
	int64_t t;
	int i, r, ep, best;
	double v, bestset = 1e30, bestraw = 1e30;

	h = connect_handles(name, k);
	if ((r = sockx_pair(&a, &b, SOCK_STREAM)) < 0)
		die("sockx_pair", -r);
	if (sockx_write(b, "x", 1, 1000) != 1)
		die("sockx_write", EIO);
	if ((r = sockx_poll_new(&p, 0)) < 0)
		die("sockx_poll_new", -r);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1", errno);
	for (i = 0; i < k; i++)
		if ((r = sockx_poll_add(p, h[i], SOCKX_READABLE, IDLE_MS,
		    NULL)) < 0)
			die("sockx_poll_add", -r);
	if ((r = sockx_poll_add(p, a, SOCKX_READABLE, IDLE_MS, a)) < 0)
		die("sockx_poll_add", -r);
	for (i = 0; i < k; i++) {
		e = (struct epoll_event){ .events = EPOLLIN, .data.u32 = i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, sockx_fd(h[i]), &e) < 0)
			die("epoll_ctl", errno);
	}
	e = (struct epoll_event){ .events = EPOLLIN, .data.u32 = k };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sockx_fd(a), &e) < 0)
		die("epoll_ctl", errno);
	/* Best of 5 rounds of m waits: the least disturbed. */
	for (best = 0; best < 5; best++) {
		t = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		for (i = 0; i < m; i++)
			if (sockx_poll_wait(p, ev, 64, 1000) != 1 ||
			    ev[0].data != a)
				die("sockx_poll_wait", EIO);
		v = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - t) / m;
		bestset = v < bestset ? v : bestset;
		t = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		for (i = 0; i < m; i++)
			if (epoll_wait(ep, rev, 64, 1000) != 1)
				die("epoll_wait", EIO);
		v = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - t) / m;
		bestraw = v < bestraw ? v : bestraw;
	}
	*set_ns = bestset;
	*raw_ns = bestraw;
	close(ep);
	sockx_poll_free(p);
	for (i = 0; i < k; i++)
		sockx_close(h[i]);
	sockx_close(a);
	sockx_close(b);
	free(h);
}

static void
wait_table(int kmax, int m)
{
	char name[64];
	pid_t pid;
	double s10, r10, sk, rk;

	snprintf(name, sizeof(name), "sockx-bench-pollset-%d-wait",
	    (int)getpid());
	pid = start_server("raw", name);
	pin(1);
	wait_cost(name, 10, m, &s10, &r10);
	wait_cost(name, kmax, m, &sk, &rk);
	stop_server(pid);
	printf("\n### CPU per wait, one member ready (thread CPU time, best "
	    "of 5 x %d waits)\n\n```\n", m);
	printf("%-13s %14s %14s\n", "idle members", "sockx_poll_wait",
	    "epoll_wait");
	printf("%-13d %11.0f ns %11.0f ns\n", 10, s10, r10);
	printf("%-13d %11.0f ns %11.0f ns\n", kmax, sk, rk);
	printf("ratio %d/10: sockx_poll_wait %.2fx (target within 2x: %s), "
	    "epoll_wait %.2fx\n", kmax, sk / s10,
	    sk / s10 <= 2 && sk / s10 >= 0.5 ? "met" : "MISSED", rk / r10);
	printf("```\n");
}

/* ---------------------------------------------------------------- */

static int
parse_ns(char *s, int *ns)
{
	int n = 0;
	char *t;

	for (t = strtok(s, ","); t != NULL && n < MAXNS; t = strtok(NULL, ","))
		ns[n++] = atoi(t);
	return n;
}

int
main(int argc, char **argv)
{
	int ns[MAXNS] = { 2000, 19900 }, nn = 2, reps = 3, opt, nmax, i;
	int only = 0;
	const char *server_kind = NULL, *gen_name = NULL;
	long count = 100000;
	double warm = 1, dur = 3, rate = 40000;
	struct rlimit rl;
	struct cpustat c0, c1;
	int64_t t0;
	cpu_set_t set;

	while ((opt = getopt(argc, argv, "r:d:w:R:n:qo:i:S:G:c:")) != -1) {
		switch (opt) {
		case 'r':
			reps = atoi(optarg);
			break;
		case 'd':
			dur = atof(optarg);
			break;
		case 'w':
			warm = atof(optarg);
			break;
		case 'R':
			rate = atof(optarg);
			break;
		case 'n':
			nn = parse_ns(optarg, ns);
			break;
		case 'q':
			reps = 1;
			dur = 1;
			warm = 0.3;
			break;
		case 'S':	/* only the server KIND, at @-a */
			server_kind = optarg;
			break;
		case 'G':	/* only the generator, to @NAME */
			gen_name = optarg;
			break;
		case 'c':
			count = atol(optarg);
			break;
		case 'i':	/* only this server: raw or set */
			only_kind = optarg;
			break;
		case 'o':	/* only: 1 closed, 2 paced, 4 memory, 8 wait */
			only = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench-pollset [-r REPS] "
			    "[-d SECS] [-w SECS] [-R RATE] [-n N,...] [-q] "
			    "[-o MASK] [-i raw|set] [-S raw|set NAME] "
			    "[-G NAME] [-c COUNT]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > MAXREPS || nn < 1 || dur <= 0)
		die("bad arguments", EINVAL);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit", errno);
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit", errno);
	fdlimit = rl.rlim_cur;
	nmax = fdlimit > 20100 ? 19900 : (int)fdlimit - 100;
	for (i = 0; i < nn; i++)
		if (ns[i] > nmax) {
			fprintf(stderr, "bench-pollset: %d connections do not "
			    "fit under RLIMIT_NOFILE %lu: %d\n", ns[i],
			    fdlimit, nmax);
			ns[i] = nmax;
		}
	conns = calloc(fdlimit, sizeof(*conns));
	if (conns == NULL)
		die("calloc", ENOMEM);
	if (server_kind != NULL) {
		/* -S KIND NAME: serve at @NAME, exit after -c replies. */
		int dummy[2];

		if (optind >= argc || pipe(dummy) < 0)
			die("-S KIND needs a NAME", EINVAL);
		stop_after = count;
		if (strcmp(server_kind, "raw") == 0)
			raw_server(argv[optind], dummy[1]);
		else
			set_server(argv[optind], dummy[1]);
		return 1;
	}
	if (gen_name != NULL) {
		generate(gen_name, ns[0], count);
		return 0;
	}
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		die("sched_getaffinity", errno);
	ncpus = CPU_COUNT(&set);
	printf("bench-pollset: %d CPUs available; %s\n", ncpus, ncpus >= 2 ?
	    "server pinned to CPU 0, load generator to CPU 1" :
	    "ONLY ONE CPU: server and generator share it (no pinning)");
	printf("RLIMIT_NOFILE: %lu (hard limit; each process holds its own "
	    "connections, so at most %d per side here)\n", fdlimit, nmax);
	printf("runs: %d per implementation, %.1f s warm-up + %.1f s "
	    "measured each, raw and set alternating\n", reps, warm, dur);
	fflush(stdout);
	c0 = read_cpustat();
	t0 = now_ns();
	if (only == 0 || (only & 1))
		loop_table(ns, nn, reps, warm, dur, 0);
	if (only == 0 || (only & 2))
		loop_table(ns, nn, reps, warm, dur, rate);
	if (only == 0 || (only & 4))
		memory_table(nmax);
	if (only == 0 || (only & 8))
		wait_table(nmax, 200000);
	c1 = read_cpustat();
	printf("\n(%.0f s in all; the 2 CPUs were busy %.0f%% of the time, "
	    "this benchmark included)\n", (double)(now_ns() - t0) / 1e9,
	    c1.total > c0.total ? 100.0 * (double)(c1.busy - c0.busy) /
	    (double)(c1.total - c0.total) : 0);
	free(conns);
	return 0;
}
