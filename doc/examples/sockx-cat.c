/* SPDX-License-Identifier: MIT */
/*
 * sockx-cat - a small netcat for every address libsockx knows: unix paths,
 * abstract names, TCP and UDP over IPv4 and IPv6, unix datagram and
 * seqpacket sockets.
 *
 *   $ sockx-cat /run/app.sock                  talk to a unix socket
 *   $ sockx-cat '[::1]:8080' 127.0.0.1:8080    to the first that answers
 *   $ sockx-cat -l -v 'tcp:[::1]:0' <reply     serve one connection
 *
 * Connect mode, the default, connects to the first ADDRESS that answers.
 * Several race as RFC 8305 has it (sockx_connect_any): the first attempt
 * starts at once, each next one when the one before failed or 250 ms after
 * it started, and the first to connect wins.  Listen mode (-l) listens on
 * its one ADDRESS, accepts one connection and closes the listener.  A
 * socket file it creates is removed again when the listener closes (a
 * signal that kills sockx-cat leaves it behind), and a stale one, a socket
 * nobody listens on, in its way is replaced.  -t limits the connect or the
 * accept.
 *
 * Then it relays both ways at once, in one poll(2) loop over stdin and the
 * socket: what stdin gives goes to the socket, what the socket gives goes
 * to stdout.  stdin may be a pipe, a file or a terminal.  When stdin ends,
 * the socket's writing side is shut down, so that the peer reads end of
 * stream, and the socket is read on until the peer ends its side too.
 * sockx-cat exits when the peer ends its side, even before stdin ended: the
 * rest of stdin is not sent.  A peer that stops reading while stdin still
 * gives data (EPIPE) is an error, reported at once; what the peer still
 * sends is printed before sockx-cat exits.  If -w is given, the relay also
 * ends after idle_ms without data in either direction.  Nothing but the
 * received data is ever written to stdout; a stdout that is closed (EPIPE:
 * SIGPIPE is ignored) ends the relay quietly.
 *
 * Datagram addresses (udp:, unixgram:) keep message boundaries.  In
 * connect mode the datagram address must be the only ADDRESS; the socket
 * is connected to it, each read of stdin (at most 65507 bytes, the largest
 * UDP payload over IPv4) is sent as one datagram, and each datagram from
 * that address is written to stdout.  A unixgram socket gets an abstract
 * name of its own when it first sends (autobind, by SO_PASSCRED; see
 * unix(7)), so that the peer can answer.  With -l the address is bound:
 * sockx-cat waits up to -t for the first datagram (stdin is not read
 * before: there is nobody to send to), writes every datagram from anyone
 * to stdout and sends each read of stdin as one datagram to the sender of
 * the latest one; a sender without a name (an unbound unix socket) cannot
 * be answered, which is an error.  Datagrams have no end of stream: once stdin
 * has ended, sockx-cat exits at once, or with -w when no datagram arrived
 * for idle_ms.  Empty datagrams write nothing.
 *
 * With -v, it says on stderr where it listens ("listening on ADDRESS",
 * useful with port 0 or '@', for which the kernel picks), who connected
 * and where it connected.
 *
 * Exit status: 0 when the peer ended the connection (or stdout was closed,
 * or a datagram relay ended); 1 on a connection or I/O error; 2 on a usage
 * error or a bad address; 3 when -t or, on a stream, -w ran out.  Every
 * error is one line on stderr: "sockx-cat: connect ADDRESS: reason".
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sockx.h>

#define EXIT_IO		1	/* a connection or I/O error */
#define EXIT_USAGE	2	/* a bad option or address */
#define EXIT_TIMEOUT	3	/* -t, or -w on a stream */

#define DEFAULT_TIMEOUT_MS 10000
#define BUF_SIZE	65536	/* each direction's buffer */
#define DGRAM_MAX	65507	/* the largest UDP payload over IPv4 */
#define NAME_SIZE	(SOCKX_ADDRSTRLEN + 16)	/* an address and a scheme */

static const char usage_text[] =
    "usage: sockx-cat [-lv] [-t timeout_ms] [-w idle_ms] ADDRESS...\n"
    "       sockx-cat -h\n"
    "\n"
    "Connect to the first ADDRESS that answers (several race, RFC 8305),\n"
    "or with -l listen on one ADDRESS and accept one connection; then copy\n"
    "stdin to the socket and the socket to stdout, both at once.  At the\n"
    "end of stdin the socket's writing side is shut down; sockx-cat exits\n"
    "when the peer ends the connection.\n"
    "\n"
    "  -l             listen on ADDRESS (exactly one) instead of connecting\n"
    "  -t timeout_ms  time limit of the connect or the accept\n"
    "                 (default 10000; -1 waits forever)\n"
    "  -w idle_ms     end after idle_ms without data either way\n"
    "                 (default: no limit)\n"
    "  -v             say on stderr where it listens and who connected\n"
    "  -h             print this help and exit\n"
    "\n"
    "ADDRESS: /path ./path unix:path @abstract 127.0.0.1:80 [::1]:80\n"
    "  [fe80::1%eth0]:80, or with a scheme: unix: unixpacket: tcp:,\n"
    "  and for datagrams unixgram: udp:.  With port 0 or '@' (-l only) the\n"
    "  kernel picks; -v tells which.  Datagrams: each read of stdin is one\n"
    "  datagram; with -l, sent to the latest sender.  A datagram relay ends\n"
    "  with stdin, or with -w after idle_ms without a datagram.\n"
    "\n"
    "Exit status: 0 done, 1 connection or I/O error, 2 usage error or bad\n"
    "address, 3 timeout (-t, or -w on a stream).\n";

/* What the command line asked for. */
struct options {
	int listen;
	int verbose;
	int timeout_ms;
	int idle_ms;		/* -1: no idle limit */
	char **addrs;
	size_t n;
	int type;		/* the socket type of addrs[0] */
};

/* One relay: the socket and how to talk on it. */
struct relay {
	sockx *s;
	const char *name;	/* the socket's name in messages */
	int type;		/* SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET */
	int reply;		/* a bound datagram socket: answer the sender */
	int verbose;
	int timeout_ms;		/* for a reply to a full unix receiver */
	int idle_ms;
	struct sockaddr_storage peer;	/* reply: the latest sender */
	socklen_t peerlen;		/* ... 0 before the first */
};

static void
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "sockx-cat: %s%s%s\n", what, arg != NULL ? " " : "",
	    arg != NULL ? arg : "");
	fputs("usage: sockx-cat [-lv] [-t timeout_ms] [-w idle_ms] "
	    "ADDRESS...\n       sockx-cat -h\n", stderr);
}

/*
 * Say what failed, on what and why, and return the exit status for it:
 * 3 for a timeout, 1 for anything else.
 */
static int
report(const char *verb, const char *what, long err)
{
	fprintf(stderr, "sockx-cat: %s %s: %s\n", verb, what,
	    strerror((int)-err));
	return err == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_IO;
}

/* A timeout in milliseconds: a number from min to INT_MAX. */
static int
parse_ms(const char *text, int min, int *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min ||
	    v > INT_MAX)
		return -1;
	*ms = (int)v;
	return 0;
}

/*
 * A unix path longer than sun_path, which sockx_addr_parse refuses with
 * -ENAMETOOLONG but sockx_connect and sockx_listen reach (through /proc);
 * *type learns its socket type from the scheme.  An abstract name cannot
 * be longer.
 */
static int
is_long_path(const char *text, int *type)
{
	static const struct {
		const char *scheme;
		int type;
	} schemes[] = {
		{ "unix:", SOCK_STREAM },
		{ "unixgram:", SOCK_DGRAM },
		{ "unixpacket:", SOCK_SEQPACKET },
	};
	size_t i, n;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i].scheme);
		if (strncmp(text, schemes[i].scheme, n) == 0) {
			*type = schemes[i].type;
			return text[n] != '@';
		}
	}
	*type = SOCK_STREAM;
	return text[0] == '/' || text[0] == '.';
}

/*
 * Check the address text before anything is opened, and learn its socket
 * type.  To connect to, port 0 and the autobind name '@' name nothing.
 */
static int
check_address(const char *text, int connecting, int *type)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	socklen_t len;
	int r;

	r = sockx_addr_parse(text, &ss, &len, type);
	if (r == -ENAMETOOLONG && is_long_path(text, type))
		return 0;
	if (r < 0)
		return r;
	if (!connecting)
		return 0;
	if ((ss.ss_family == AF_INET && sin->sin_port == 0) ||
	    (ss.ss_family == AF_INET6 && sin6->sin6_port == 0) ||
	    (ss.ss_family == AF_UNIX && len == sizeof(sa_family_t)))
		return -EINVAL;
	return 0;
}

/* Parse the command line: 0 to go on, else the exit status. */
static int
parse_options(int argc, char **argv, struct options *o, int *done)
{
	char opt[3] = "-?";
	size_t i;
	int c, r, type;

	o->listen = 0;
	o->verbose = 0;
	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	o->idle_ms = -1;
	*done = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, ":hlt:vw:")) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			*done = 1;
			return fflush(stdout) == EOF ? EXIT_IO : 0;
		case 'l':
			o->listen = 1;
			break;
		case 't':
			if (parse_ms(optarg, -1, &o->timeout_ms) < 0) {
				usage_error("bad timeout", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'w':
			if (parse_ms(optarg, -1, &o->idle_ms) < 0 ||
			    o->idle_ms == 0) {
				usage_error("bad idle time", optarg);
				return EXIT_USAGE;
			}
			break;
		case ':':
			opt[1] = (char)optopt;
			usage_error("a value is missing after", opt);
			return EXIT_USAGE;
		default:
			opt[1] = (char)optopt;
			usage_error("unknown option", opt);
			return EXIT_USAGE;
		}
	}
	o->addrs = argv + optind;
	o->n = (size_t)(argc - optind);
	if (o->n == 0) {
		usage_error("no ADDRESS given", NULL);
		return EXIT_USAGE;
	}
	if (o->listen && o->n > 1) {
		usage_error("-l takes exactly one ADDRESS", NULL);
		return EXIT_USAGE;
	}
	for (i = 0; i < o->n; i++) {
		r = check_address(o->addrs[i], !o->listen, &type);
		if (r < 0) {
			fprintf(stderr, "sockx-cat: bad address '%s': %s\n",
			    o->addrs[i], strerror(-r));
			return EXIT_USAGE;
		}
		if (i == 0)
			o->type = type;
		if (type == SOCK_DGRAM && o->n > 1) {
			fprintf(stderr, "sockx-cat: datagram address '%s' "
			    "must be the only ADDRESS\n", o->addrs[i]);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/*
 * Make sure descriptors 0, 1 and 2 are open (on /dev/null if they were
 * not), so that no socket can become stdin or stdout.
 */
static int
open_stdio(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return -1;
	}
	return 0;
}

/*
 * The text of an address, with the scheme that gives its socket type
 * ("udp:", "unixgram:", "unixpacket:"), so that it can be passed to
 * sockx-cat again; fallback when it has no text.
 */
static void
address_text(const struct sockaddr_storage *ss, socklen_t len, int type,
    const char *fallback, char name[NAME_SIZE])
{
	char text[SOCKX_ADDRSTRLEN];
	const char *scheme = "", *t = text;
	int r;

	r = sockx_addr_format((const struct sockaddr *)ss, len, text,
	    sizeof(text));
	if (r < 0) {
		snprintf(name, NAME_SIZE, "%s", fallback);
		return;
	}
	if (r == 0) {
		snprintf(name, NAME_SIZE, "(unnamed)");
		return;
	}
	if (ss->ss_family == AF_UNIX) {
		if (strncmp(text, "unix:", 5) == 0) {
			scheme = "unix:";
			t = text + 5;
		}
		if (type == SOCK_DGRAM)
			scheme = "unixgram:";
		else if (type == SOCK_SEQPACKET)
			scheme = "unixpacket:";
	} else if (type == SOCK_DGRAM) {
		scheme = "udp:";
	}
	snprintf(name, NAME_SIZE, "%s%s", scheme, t);
}

/* The handle's local (peer 0) or peer (peer 1) address as text. */
static void
handle_text(const sockx *s, int peer, int type, const char *fallback,
    char name[NAME_SIZE])
{
	struct sockaddr_storage ss;
	socklen_t len;
	int r;

	r = peer ? sockx_peer_addr(s, &ss, &len) :
	    sockx_local_addr(s, &ss, &len);
	if (r < 0)
		snprintf(name, NAME_SIZE, "%s", fallback);
	else
		address_text(&ss, len, type, fallback, name);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Write all n bytes of buf to stdout, which may be a pipe, a file or a
 * terminal, blocking or not.  Returns 0, 1 if the reader is gone (EPIPE),
 * or -errno.
 */
static int
write_stdout(const char *buf, size_t n)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
	ssize_t w;

	while (n > 0) {
		w = write(STDOUT_FILENO, buf, n);
		if (w >= 0) {
			buf += w;
			n -= (size_t)w;
		} else if (errno == EPIPE) {
			return 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return -errno;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

/*
 * Send the n bytes of buf that stdin gave: on a connected socket without
 * waiting (a stream may take only part; -ETIMEDOUT means none can go
 * yet), to the latest sender with a bound datagram socket (one datagram,
 * waiting at most -t for room at a unix receiver).
 */
static ssize_t
send_up(struct relay *r, const char *buf, size_t n)
{
	if (!r->reply)
		return sockx_write(r->s, buf, n, 0);
	if (r->peerlen <= sizeof(sa_family_t))
		return -EDESTADDRREQ;	/* an unbound unix sender */
	return sockx_sendto(r->s, buf, n, (const struct sockaddr *)&r->peer,
	    r->peerlen, r->timeout_ms);
}

/*
 * Receive what the socket has into buf, without waiting: the count, 0 at
 * the end of a stream or for an empty message, or -errno (-ETIMEDOUT:
 * nothing was there after all).  A bound datagram socket remembers the
 * sender, to answer it.
 */
static ssize_t
receive(struct relay *r, char *buf, size_t size)
{
	struct sockaddr_storage from;
	char name[NAME_SIZE];
	socklen_t fromlen;
	ssize_t n;

	if (!r->reply)
		return sockx_read(r->s, buf, size, 0);
	n = sockx_recvfrom(r->s, buf, size, &from, &fromlen, 0);
	if (n < 0)
		return n;
	if (r->verbose && (fromlen != r->peerlen ||
	    memcmp(&from, &r->peer, fromlen) != 0)) {
		address_text(&from, fromlen, r->type, "(unknown)", name);
		fprintf(stderr, "datagram from %s\n", name);
	}
	memcpy(&r->peer, &from, fromlen);
	r->peerlen = fromlen;
	return n;
}

/*
 * The relay: stdin to the socket and the socket to stdout, in one poll(2)
 * loop, until the peer ends the stream.  Returns the exit status.
 */
static int
relay(struct relay *r)
{
	static char up[BUF_SIZE], down[BUF_SIZE];
	size_t up_off = 0, up_len = 0;
	size_t chunk = r->type == SOCK_DGRAM ? DGRAM_MAX : sizeof(up);
	int stdin_open = 1, shut = 0, status = 0, timeout, w;
	int64_t last = now_ms(), left;
	char name[NAME_SIZE];
	struct pollfd p[2];
	ssize_t n;

	for (;;) {
		/* stdin ended and all it gave is sent: say so to the peer. */
		if (!stdin_open && up_len == 0 && !shut) {
			shut = 1;
			if (r->type == SOCK_DGRAM && r->idle_ms < 0)
				return status;	/* no end to wait for */
			if (r->type != SOCK_DGRAM) {
				n = sockx_shutdown(r->s, SHUT_WR);
				if (n < 0)
					return report("shutdown", r->name, n);
			}
		}
		/* Read stdin only when its last piece is gone. */
		p[0].fd = stdin_open && up_len == 0 &&
		    (!r->reply || r->peerlen > 0) ? STDIN_FILENO : -1;
		p[0].events = POLLIN;
		p[0].revents = 0;
		p[1].fd = sockx_fd(r->s);
		p[1].events = POLLIN | (up_len > 0 ? POLLOUT : 0);
		p[1].revents = 0;
		timeout = -1;
		if (r->idle_ms >= 0) {
			left = last + r->idle_ms - now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		w = poll(p, 2, timeout);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return report("poll", r->name, -errno);
		if (w == 0 && r->idle_ms >= 0 &&
		    now_ms() - last >= r->idle_ms) {
			if (r->type == SOCK_DGRAM)
				return status;
			fprintf(stderr, "sockx-cat: %s: idle for %d ms: %s\n",
			    r->name, r->idle_ms, strerror(ETIMEDOUT));
			return EXIT_TIMEOUT;
		}

		/* The socket to stdout. */
		if (p[1].revents & (POLLIN | POLLERR | POLLHUP)) {
			n = receive(r, down, sizeof(down));
			if (n == 0 && r->type != SOCK_DGRAM)
				return status;		/* the peer ended */
			if (n == -EMSGSIZE) {
				/* Consumed: go on with the next message. */
				report("read", r->name, n);
				last = now_ms();
			} else if (n < 0 && n != -ETIMEDOUT) {
				return status != 0 ? status :
				    report("read", r->name, n);
			} else if (n > 0) {
				w = write_stdout(down, (size_t)n);
				if (w == 1)
					return status;	/* stdout is gone */
				if (w < 0)
					return report("write", "stdout", w);
				last = now_ms();
			} else if (n == 0) {
				last = now_ms();	/* an empty datagram */
			}
		}

		/* stdin to the socket. */
		if (p[0].revents != 0) {
			n = read(STDIN_FILENO, up, chunk);
			if (n < 0 && errno != EINTR && errno != EAGAIN &&
			    errno != EWOULDBLOCK)
				return report("read", "stdin", -errno);
			if (n == 0)
				stdin_open = 0;
			if (n > 0) {
				up_off = 0;
				up_len = (size_t)n;
				last = now_ms();
			}
		}
		if (up_len > 0 && (p[0].revents != 0 || p[1].revents != 0)) {
			n = send_up(r, up + up_off, up_len);
			if (n == -ETIMEDOUT && !r->reply) {
				/* No room yet: poll for it. */
			} else if (n == -EPIPE && !r->reply) {
				/*
				 * The peer reads no more: drop the rest of
				 * stdin, but print what it still sends.
				 */
				status = report("write", r->name, n);
				up_len = 0;
				stdin_open = 0;
				shut = 1;
			} else if (n < 0 && r->reply) {
				address_text(&r->peer, r->peerlen, r->type,
				    "(unknown)", name);
				return report("reply to", name, n);
			} else if (n < 0) {
				return report("write", r->name, n);
			} else {
				up_off += (size_t)n;
				up_len -= (size_t)n;
				last = now_ms();
			}
		}
	}
}

/* Connect mode: connect, relay, close.  Returns the exit status. */
static int
run_connect(const struct options *o)
{
	struct relay r = { .type = o->type, .idle_ms = o->idle_ms,
	    .timeout_ms = o->timeout_ms, .verbose = o->verbose };
	char name[NAME_SIZE];
	size_t i;
	int err, status, type;
	socklen_t len = sizeof(type);

	if (o->type == SOCK_DGRAM)
		err = sockx_connect(&r.s, o->addrs[0], o->timeout_ms);
	else
		err = sockx_connect_any(&r.s, (const char *const *)o->addrs,
		    o->n, o->timeout_ms);
	if (err < 0) {
		fputs("sockx-cat: connect ", stderr);
		for (i = 0; i < o->n; i++)
			fprintf(stderr, "%s%s", i > 0 ? ", " : "", o->addrs[i]);
		fprintf(stderr, ": %s\n", strerror(-err));
		return err == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_IO;
	}
	/* The winner may be a seqpacket address among stream ones. */
	if (getsockopt(sockx_fd(r.s), SOL_SOCKET, SO_TYPE, &type, &len) == 0)
		r.type = type;
	if (o->n == 1)
		snprintf(name, sizeof(name), "%s", o->addrs[0]);
	else
		handle_text(r.s, 1, r.type, "the peer", name);
	r.name = name;
	if (o->verbose)
		fprintf(stderr, "connected to %s\n", name);
	status = 0;
	if (r.type == SOCK_DGRAM) {
		/*
		 * A unix datagram socket autobinds when it first sends, so
		 * that the peer can answer (UDP has a port already).
		 */
		err = sockx_set_passcred(r.s, 1);
		if (err < 0 && err != -EOPNOTSUPP)
			status = report("connect", name, err);
	}
	if (status == 0)
		status = relay(&r);
	err = sockx_close(r.s);
	if (err < 0 && status == 0)
		status = report("close", name, err);
	return status;
}

/* Listen mode: listen, accept one, relay, close.  The exit status. */
static int
run_listen(const struct options *o)
{
	struct relay r = { .type = o->type, .idle_ms = o->idle_ms,
	    .timeout_ms = o->timeout_ms, .verbose = o->verbose };
	char name[NAME_SIZE], peer[NAME_SIZE];
	sockx *listener;
	int err, status;

	err = sockx_listen(&listener, o->addrs[0], 1,
	    SOCKX_UNLINK_STALE | SOCKX_UNLINK_ON_CLOSE, 0);
	if (err < 0)
		return report("listen", o->addrs[0], err);
	handle_text(listener, 0, o->type, o->addrs[0], name);
	r.name = name;
	if (o->verbose)
		fprintf(stderr, "listening on %s\n", name);

	if (o->type == SOCK_DGRAM) {
		/* The first datagram is the connection: wait up to -t. */
		r.s = listener;
		r.reply = 1;
		err = sockx_wait(listener, SOCKX_READABLE, o->timeout_ms);
		status = err < 0 ? report("receive on", name, err) : relay(&r);
	} else {
		err = sockx_accept(listener, &r.s, o->timeout_ms);
		/* One connection: the listener (and its file) goes now. */
		sockx_close(listener);
		if (err < 0)
			return report("accept on", name, err);
		if (o->verbose) {
			handle_text(r.s, 1, o->type, "(unknown)", peer);
			fprintf(stderr, "connection from %s\n", peer);
		}
		status = relay(&r);
	}
	err = sockx_close(r.s);
	if (err < 0 && status == 0)
		status = report("close", name, err);
	return status;
}

int
main(int argc, char **argv)
{
	struct options o;
	int done, status;

	status = parse_options(argc, argv, &o, &done);
	if (status != 0 || done)
		return status;
	if (open_stdio() < 0) {
		fprintf(stderr, "sockx-cat: open /dev/null: %s\n",
		    strerror(errno));
		return EXIT_IO;
	}
	/*
	 * libsockx never raises SIGPIPE; a closed stdout must not either:
	 * its EPIPE ends the relay.
	 */
	signal(SIGPIPE, SIG_IGN);
	return o.listen ? run_listen(&o) : run_connect(&o);
}
