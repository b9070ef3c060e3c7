/* SPDX-License-Identifier: MIT */
/*
 * sockx-authd - a unix service that decides who may use it by the uid the
 * kernel reports for each client, and a client for it; nothing either
 * side waits for is waited for without a limit, except the next client.
 *
 *   $ sockx-authd [-a uid[,uid...]] [-t ms] [-n count] ADDRESS
 *   $ sockx-authd [-t ms] -c ADDRESS REQUEST...
 *
 * ADDRESS is a unix stream address: a path (the socket file gets mode 0666,
 * so that any user can reach the service and be told whether it may use
 * it) or an abstract @name.  The server prints "listening on ADDRESS" once
 * clients can connect, then serves them one at a time.  A client whose uid
 * is not in the -a list (default: the server's own effective uid) gets the
 * line "denied uid N" and is disconnected.  Others send request lines:
 *
 *   whoami   ->  uid U gid G pid P   (as the kernel recorded the client)
 *   time     ->  seconds since the epoch
 *   quit     ->  the server closes the connection
 *   other    ->  error: unknown request
 *
 * A client gets -t ms (default 2000) for each request line and for taking
 * each answer; one that is slower is dropped, so that a silent client
 * cannot keep the others waiting for ever.  Denied and dropped clients are
 * logged on stderr.  With -n the server exits after count connections.
 *
 * The client (-c) sends each REQUEST as a line and prints each answer; it
 * waits -t ms for the connection and for each answer.
 *
 * Exit status: 0 when the server served its count or the client got every
 * answer it asked for; 1 on errors and when the client was denied; 2 on
 * misuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sockx.h>

#define LINE_MAX_BYTES	256	/* a request or answer line, its '\n' too */
#define ALLOW_MAX	16	/* uids in the -a list */

static _Noreturn void
fail(const char *what, const char *why)
{
	fprintf(stderr, "sockx-authd: %s: %s\n", what, why);
	exit(1);
}

static _Noreturn void
die(const char *what, long r)
{
	fail(what, strerror((int)-r));
}

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	    "usage: sockx-authd [-a uid[,uid...]] [-t ms] [-n count] ADDRESS\n"
	    "       sockx-authd [-t ms] -c ADDRESS REQUEST...\n");
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

static int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die("clock_gettime", -errno);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connection and the bytes read from it that no line has taken yet. */
struct conn {
	sockx *s;
	char buf[LINE_MAX_BYTES];
	size_t len;
};

/*
 * Read one line into line (sizeof(c->buf) bytes), without its "\n" or
 * "\r\n", by the CLOCK_MONOTONIC time deadline (ms).  One deadline for the
 * line, not one per read: a peer that sends a byte now and then would
 * otherwise hold the reader for ever.  Returns 1, 0 at end of stream (a
 * last line without '\n' is dropped), -EMSGSIZE for a line that does not
 * fit, -ETIMEDOUT, or the error of the read.
 */
static int
read_line(struct conn *c, char *line, int64_t deadline)
{
	int64_t left;
	size_t len;
	ssize_t n;
	char *nl;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL) {
		if (c->len == sizeof(c->buf))
			return -EMSGSIZE;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = sockx_read(c->s, c->buf + c->len, sizeof(c->buf) - c->len,
		    left > INT_MAX ? INT_MAX : (int)left);
		if (n <= 0)
			return (int)n;
		c->len += (size_t)n;
	}
	len = (size_t)(nl - c->buf);
	memcpy(line, c->buf, len);
	line[len > 0 && line[len - 1] == '\r' ? len - 1 : len] = '\0';
	c->len -= len + 1;
	memmove(c->buf, nl + 1, c->len);
	return 1;
}

/* ------------------------------------------------------------------ */
/* The server                                                          */
/* ------------------------------------------------------------------ */

struct options {
	uid_t allow[ALLOW_MAX];
	size_t nallow;
	int timeout_ms;
};

/* Log what became of a client that was not served to its end. */
static void
note(const struct sockx_cred *cred, const char *what, int r)
{
	fprintf(stderr, "sockx-authd: pid %ld uid %lu: %s%s%s\n",
	    (long)cred->pid, (unsigned long)cred->uid, what, r < 0 ? ": " : "",
	    r < 0 ? strerror(-r) : "");
}

static int
allowed(const struct options *o, uid_t uid)
{
	size_t i;

	for (i = 0; i < o->nallow; i++)
		if (o->allow[i] == uid)
			return 1;
	return 0;
}

/* Serve one client until it quits, leaves, is too slow or is denied. */
static void
serve(sockx *s, const struct options *o)
{
	struct conn c = { .s = s, .len = 0 };
	char line[sizeof(c.buf)], answer[LINE_MAX_BYTES];
	struct sockx_cred cred;
	ssize_t n;
	int r;

	/*
	 * The kernel's record of the process that connected: unlike
	 * anything the client could send, it cannot be made up.
	 */
	r = sockx_peer_cred(s, &cred);
	if (r < 0) {
		fprintf(stderr, "sockx-authd: peer credentials: %s\n",
		    strerror(-r));
		return;
	}
	if (!allowed(o, cred.uid)) {
		note(&cred, "denied", 0);
		snprintf(answer, sizeof(answer), "denied uid %lu\n",
		    (unsigned long)cred.uid);
		/* Best effort: the client is going away in any case. */
		sockx_write_full(s, answer, strlen(answer), NULL,
		    o->timeout_ms);
		return;
	}
	for (;;) {
		r = read_line(&c, line, now_ms() + o->timeout_ms);
		if (r == 0)
			return;
		if (r < 0) {
			note(&cred, "dropped", r);
			return;
		}
		if (strcmp(line, "quit") == 0)
			return;
		if (strcmp(line, "whoami") == 0)
			snprintf(answer, sizeof(answer), "uid %lu gid %lu pid %ld\n",
			    (unsigned long)cred.uid, (unsigned long)cred.gid,
			    (long)cred.pid);
		else if (strcmp(line, "time") == 0)
			snprintf(answer, sizeof(answer), "%lld\n",
			    (long long)time(NULL));
		else
			snprintf(answer, sizeof(answer),
			    "error: unknown request\n");
		n = sockx_write_full(s, answer, strlen(answer), NULL,
		    o->timeout_ms);
		if (n < 0) {
			note(&cred, "dropped", (int)n);
			return;
		}
	}
}

static int
server(const char *address, const struct options *o, unsigned long count)
{
	struct sockaddr_storage ss;
	char text[SOCKX_ADDRSTRLEN];
	unsigned long served;
	sockx *listener, *s;
	socklen_t len;
	int r, type, is_path;

	/* Only unix sockets carry their peer's credentials. */
	r = sockx_addr_parse(address, &ss, &len, &type);
	if (r < 0)
		die(address, r);
	if (ss.ss_family != AF_UNIX || type != SOCK_STREAM)
		fail(address, "not a unix stream address");
	/*
	 * A path gets mode 0666: anyone may connect and be told no; the uid
	 * check, not the file mode, decides.  An abstract name has no mode
	 * at all.  A server killed by a signal leaves its socket file
	 * behind: SOCKX_UNLINK_STALE takes it over at the next start, while
	 * a live server's socket is never taken.
	 */
	is_path = len > offsetof(struct sockaddr_un, sun_path) &&
	    ((struct sockaddr_un *)&ss)->sun_path[0] != '\0';
	r = sockx_listen(&listener, address, 0,
	    SOCKX_UNLINK_STALE | SOCKX_UNLINK_ON_CLOSE, is_path ? 0666 : 0);
	if (r < 0)
		die(address, r);
	r = sockx_local_addr(listener, &ss, &len);
	if (r >= 0)
		r = sockx_addr_format((struct sockaddr *)&ss, len, text,
		    sizeof(text));
	if (r < 0)
		die("local address", r);
	printf("listening on %s\n", text);
	if (fflush(stdout) == EOF)
		die("stdout", -errno);

	/*
	 * One client at a time keeps the example short; the per-line
	 * deadline keeps it live.  A service with many clients at once
	 * would wait on all of them together, or use threads.
	 */
	for (served = 0; count == 0 || served < count; served++) {
		r = sockx_accept(listener, &s, -1);
		if (r < 0)
			die("accept", r);
		serve(s, o);
		sockx_close(s);
	}
	r = sockx_close(listener);	/* and remove the socket file */
	if (r < 0)
		die("close", r);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The client                                                          */
/* ------------------------------------------------------------------ */

static int
client(const char *address, char **requests, int timeout_ms)
{
	char line[LINE_MAX_BYTES], answer[LINE_MAX_BYTES];
	struct conn c = { .len = 0 };
	int i, r, status = 0;
	ssize_t n;

	/* Each request one line that fits, all checked before any is sent. */
	for (i = 0; requests[i] != NULL; i++)
		if (strlen(requests[i]) >= sizeof(line) - 1 ||
		    strchr(requests[i], '\n') != NULL)
			fail(requests[i], "not a request line");
	r = sockx_connect(&c.s, address, timeout_ms);
	if (r < 0)
		die(address, r);
	for (; *requests != NULL; requests++) {
		n = snprintf(line, sizeof(line), "%s\n", *requests);
		/*
		 * A server that denies us answers and closes at once, so the
		 * request may find the connection gone: its answer is still
		 * there to read.
		 */
		n = sockx_write_full(c.s, line, (size_t)n, NULL, timeout_ms);
		if (n < 0 && n != -EPIPE && n != -ECONNRESET)
			die("send", n);
		r = read_line(&c, answer, now_ms() + timeout_ms);
		if (r > 0) {
			printf("%s\n", answer);
			if (strncmp(answer, "denied ", 7) == 0) {
				status = 1;
				break;
			}
		} else if (r == 0 && strcmp(*requests, "quit") == 0) {
			continue;	/* the close is the answer */
		} else if (r == 0 || r == -ECONNRESET) {
			fail("receive", "the server closed the connection");
		} else {
			die("receive", r);
		}
	}
	sockx_close(c.s);
	if (fflush(stdout) == EOF)
		die("stdout", -errno);
	return status;
}

int
main(int argc, char **argv)
{
	struct options o = { .nallow = 0, .timeout_ms = 2000 };
	unsigned long count = 0;
	int c, client_mode = 0;
	char *uid, *rest;

	while ((c = getopt(argc, argv, "+a:ct:n:")) != -1) {
		switch (c) {
		case 'a':
			for (rest = optarg; (uid = strsep(&rest, ",")) != NULL;) {
				if (o.nallow == ALLOW_MAX)
					usage();
				/* (uid_t)-1 is no user: "nobody has it". */
				o.allow[o.nallow++] = (uid_t)number(uid, 0,
				    (uid_t)-2);
			}
			break;
		case 'c':
			client_mode = 1;
			break;
		case 't':
			o.timeout_ms = (int)number(optarg, 1, INT_MAX);
			break;
		case 'n':
			count = number(optarg, 1, ULONG_MAX);
			break;
		default:
			usage();
		}
	}
	if (client_mode) {
		if (o.nallow > 0 || count > 0 || argc - optind < 2)
			usage();
		return client(argv[optind], argv + optind + 1, o.timeout_ms);
	}
	if (argc - optind != 1)
		usage();
	if (o.nallow == 0)
		o.allow[o.nallow++] = geteuid();
	return server(argv[optind], &o, count);
}
