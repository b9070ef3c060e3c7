/* SPDX-License-Identifier: MIT */
/*
 * sockx-echod - a line echo daemon: one thread, one poll set, thousands of
 * clients, a deadline for each, socket activation and a clean stop.  The
 * daemon to copy when you write your own.
 *
 *   $ sockx-echod [-T] [-i ms] [-r ms] [-u uid]... ADDRESS
 *
 * ADDRESS is where to listen: a path, an abstract @name or tcp:HOST:PORT,
 * or a socket received from a service manager: systemd:NAME (socket
 * activation, e.g. a unit's FileDescriptorName=NAME) or fd:N.  A socket
 * file the daemon binds gets mode 0666 (the uid list below, not the file
 * mode, decides who is served); a stale one left by a killed daemon is
 * taken over, and a clean stop removes it.
 *
 * Each line a client sends comes back to it.  Clients are dropped when
 *  - they send nothing for -i ms (default 30000) between lines;
 *  - a line, from its first byte to its '\n', takes longer than -r ms
 *    (default 5000), or so does taking back its echo; so a client that
 *    sends a byte now and then, or never reads, cannot hold a slot;
 *  - a line is longer than LINE_MAX_BYTES.
 * Only unix clients whose uid (as the kernel reports it) is in the -u list
 * (default: the daemon's own effective uid) are served.  TCP carries no
 * credentials: TCP clients are refused unless -T allows any of them.
 *
 * It says READY=1 to the service manager once it listens and STOPPING=1
 * when SIGTERM or SIGINT stops it; then it closes every client and the
 * listener and exits 0.  Refused and dropped clients are logged on
 * stderr.  Exit status: 0 after a stop by signal, 1 on errors, 2 on
 * misuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#include <sockx.h>

#define LINE_MAX_BYTES	1024	/* a line, its '\n' too */
#define ALLOW_MAX	16	/* uids in the -u list */
#define BATCH		64	/* events taken by one wait */
#define PAUSE_MS	100	/* out of descriptors: accept again after */

/* A client: its handle and the bytes of its lines not yet echoed. */
struct client {
	sockx *s;
	struct client *prev, *next;	/* all clients, to close at stop */
	struct sockx_cred cred;		/* uid (uid_t)-1: none (TCP) */
	size_t len;			/* bytes in buf */
	size_t out;			/* of them, whole lines to echo */
	char buf[LINE_MAX_BYTES];
};

static struct {
	uid_t allow[ALLOW_MAX];
	size_t nallow;
	int tcp;			/* -T: serve any TCP client */
	int idle_ms, request_ms;
} opt = { .idle_ms = 30000, .request_ms = 5000 };

static sockx_poll *set;
static struct client *clients;

static _Noreturn void
die(const char *what, int r)
{
	fprintf(stderr, "sockx-echod: %s: %s\n", what, strerror(-r));
	exit(1);
}

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: sockx-echod [-T] [-i ms] [-r ms] [-u uid]... "
	    "ADDRESS\n");
	exit(2);
}

/* A number from min to max, the whole of text, or a usage error. */
static unsigned long
number(const char *text, unsigned long min, unsigned long max)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 ||
	    n < min || n > max)
		usage();
	return n;
}

/* The handler only wakes the loop; the loop does the stopping. */
static void
on_signal(int sig)
{
	(void)sig;
	sockx_poll_wake(set);	/* async-signal-safe, keeps errno */
}

static void
note(const struct client *c, const char *what)
{
	if (c->cred.uid == (uid_t)-1)
		fprintf(stderr, "sockx-echod: client without credentials "
		    "(TCP): %s\n", what);
	else
		fprintf(stderr, "sockx-echod: pid %ld uid %lu: %s\n",
		    (long)c->cred.pid, (unsigned long)c->cred.uid, what);
}

/* Close c, which also takes it out of the set, and free it. */
static void
drop(struct client *c, const char *why)
{
	if (why != NULL)
		note(c, why);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	sockx_close(c->s);
	free(c);
}

/*
 * May the peer of c be served?  The kernel's record of the process that
 * connected: unlike anything the client could send, it cannot be made up.
 */
static int
allowed(struct client *c)
{
	size_t i;
	int r;

	r = sockx_peer_cred(c->s, &c->cred);
	if (r < 0) {		/* -EOPNOTSUPP: not unix, so TCP */
		c->cred.uid = (uid_t)-1;
		return r == -EOPNOTSUPP && opt.tcp;
	}
	for (i = 0; i < opt.nallow; i++)
		if (opt.allow[i] == c->cred.uid)
			return 1;
	return 0;
}

/*
 * Accept what waits on the listener l.  Out of descriptors or memory, stop
 * watching l for PAUSE_MS (events 0 keeps only its deadline) rather than
 * spin on a listener that stays readable.
 */
static void
take(sockx *l)
{
	struct client *c;
	sockx *s;
	int i, r;

	for (i = 0; i < BATCH; i++) {
		r = sockx_accept(l, &s, 0);
		if (r == -ETIMEDOUT)
			return;		/* nobody else waits */
		if (r < 0 || (c = calloc(1, sizeof(*c))) == NULL) {
			if (r >= 0)
				sockx_close(s);
			fprintf(stderr, "sockx-echod: accept: %s\n",
			    strerror(r < 0 ? -r : ENOMEM));
			sockx_poll_mod(set, l, 0, PAUSE_MS);
			return;
		}
		c->s = s;
		c->next = clients;
		if (clients != NULL)
			clients->prev = c;
		clients = c;
		if (!allowed(c))
			drop(c, "refused");
		else if ((r = sockx_poll_add(set, s, SOCKX_READABLE,
		    opt.idle_ms, c)) < 0)
			drop(c, strerror(-r));
	}
}

/*
 * Echo the whole lines c holds, as much as its socket takes now, and keep
 * the rest (a line not finished yet, or echo not taken yet) in buf: the
 * echo is the input itself, so a client never costs more than its struct.
 * Returns the bytes written, -EMSGSIZE for a line too long, or an error.
 */
static ssize_t
echo(struct client *c)
{
	ssize_t n;
	char *nl;

	if (c->out == 0) {
		for (nl = c->buf + c->len; nl > c->buf && nl[-1] != '\n'; nl--)
			;
		c->out = (size_t)(nl - c->buf);
		if (c->out == 0)
			return c->len == sizeof(c->buf) ? -EMSGSIZE : 0;
	}
	n = sockx_write(c->s, c->buf, c->out, 0);
	if (n == -ETIMEDOUT)
		return 0;	/* its socket is full: wait for room */
	if (n > 0) {
		c->out -= (size_t)n;
		c->len -= (size_t)n;
		memmove(c->buf, c->buf + n, c->len);
	}
	return n;
}

/*
 * Serve a client the set reported: read, or write the echo it waited for,
 * then re-arm its deadline with one sockx_poll_mod (no system call while
 * the events stay the same).  A line keeps the deadline its first byte
 * started, an echo the one its first wait for room started; a client with
 * nothing pending gets the idle deadline anew.
 */
static void
serve(struct client *c, int events)
{
	size_t had = c->len;
	int r, ms, writing = c->out > 0;
	ssize_t n;

	if (events & SOCKX_EXPIRED) {
		drop(c, writing ? "does not read" :
		    had > 0 ? "line too slow" : "idle");
		return;
	}
	if (!writing) {
		/* Ready: a read with timeout 0 does not block. */
		n = sockx_read(c->s, c->buf + c->len, sizeof(c->buf) - c->len,
		    0);
		if (n == -ETIMEDOUT)
			return;
		if (n <= 0) {
			drop(c, n == 0 ? NULL : strerror((int)-n));
			return;
		}
		c->len += (size_t)n;
	}
	if ((n = echo(c)) < 0) {
		drop(c, n == -EMSGSIZE ? "line too long" : strerror((int)-n));
		return;
	}
	if (c->len == 0)
		ms = opt.idle_ms;
	else if (c->out > 0)
		ms = writing ? SOCKX_POLL_KEEP : opt.request_ms;
	else
		ms = had == 0 || n > 0 ? opt.request_ms : SOCKX_POLL_KEEP;
	r = sockx_poll_mod(set, c->s, c->out > 0 ? SOCKX_WRITABLE :
	    SOCKX_READABLE, ms);
	if (r < 0)
		drop(c, strerror(-r));
}

/*
 * Listen on address.  A socket file of our own gets mode 0666, is taken
 * over if stale and removed when we close it; an inherited socket (which
 * sockx_addr_parse does not know) belongs to whoever bound it: no flags.
 */
static sockx *
listener(const char *address)
{
	char text[SOCKX_ADDRSTRLEN];
	struct sockaddr_storage ss;
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;
	unsigned flags = 0, mode = 0;
	socklen_t len;
	sockx *l;
	int r, type;

	if (sockx_addr_parse(address, &ss, &len, &type) == 0) {
		if (type != SOCK_STREAM)
			die(address, -EPROTOTYPE);
		flags = SOCKX_UNLINK_STALE | SOCKX_UNLINK_ON_CLOSE;
		if (ss.ss_family == AF_UNIX &&
		    len > offsetof(struct sockaddr_un, sun_path) &&
		    un->sun_path[0] != '\0')
			mode = 0666;
	}
	r = sockx_listen(&l, address, 0, flags, mode);
	if (r < 0)
		die(address, r);
	r = sockx_local_addr(l, &ss, &len);
	if (r >= 0)
		r = sockx_addr_format((struct sockaddr *)&ss, len, text,
		    sizeof(text));
	if (r < 0)
		die("local address", r);
	fprintf(stderr, "sockx-echod: listening on %s\n", text);
	return l;
}

/* Thousands of clients need thousands of descriptors: take what we may. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct sockx_event ev[BATCH];
	struct sigaction sa;
	sigset_t stops;
	int c, i, n, r, stop = 0;
	sockx *l;

	while ((c = getopt(argc, argv, "Ti:r:u:")) != -1) {
		switch (c) {
		case 'T':
			opt.tcp = 1;
			break;
		case 'i':
			opt.idle_ms = (int)number(optarg, 1, INT_MAX);
			break;
		case 'r':
			opt.request_ms = (int)number(optarg, 1, INT_MAX);
			break;
		case 'u':
			if (opt.nallow == ALLOW_MAX)
				usage();
			opt.allow[opt.nallow++] = (uid_t)number(optarg, 0,
			    (uid_t)-2);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (opt.nallow == 0)
		opt.allow[opt.nallow++] = geteuid();
	raise_nofile();

	if ((r = sockx_poll_new(&set, 0)) < 0)
		die("poll set", r);
	l = listener(argv[optind]);
	if ((r = sockx_poll_add(set, l, SOCKX_READABLE, -1, NULL)) < 0)
		die("poll set", r);
	/* No SA_RESTART needed: the library resumes interrupted waits. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0)
		die("sigaction", -errno);
	/* 0: no service manager is listening; that is fine. */
	if ((r = sockx_notify("READY=1", 1000)) < 0)
		fprintf(stderr, "sockx-echod: notify: %s\n", strerror(-r));

	while (!stop) {
		n = sockx_poll_wait(set, ev, BATCH, -1);
		if (n < 0)
			die("wait", n);
		/*
		 * Each member comes at most once per wait and serve() closes
		 * only the client of its own event, so no later event of the
		 * batch can name a closed client.
		 */
		for (i = 0; i < n; i++) {
			if (ev[i].events & SOCKX_WOKEN)
				stop = 1;	/* SIGTERM or SIGINT */
			else if (ev[i].s != l)
				serve(ev[i].data, ev[i].events);
			else if (ev[i].events & SOCKX_EXPIRED)
				sockx_poll_mod(set, l, SOCKX_READABLE, -1);
			else
				take(l);
		}
	}

	if ((r = sockx_notify("STOPPING=1", 1000)) < 0)
		fprintf(stderr, "sockx-echod: notify: %s\n", strerror(-r));
	while (clients != NULL)
		drop(clients, NULL);
	if ((r = sockx_close(l)) < 0)	/* and remove our socket file */
		die("close", r);
	/* No wake-up may overlap the free: block the signals first. */
	sigprocmask(SIG_BLOCK, &stops, NULL);
	sockx_poll_free(set);
	fprintf(stderr, "sockx-echod: stopped\n");
	return 0;
}
