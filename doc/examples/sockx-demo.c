/* SPDX-License-Identifier: MIT */
/*
 * sockx-demo - a server and a client, two processes, talking over an
 * abstract unix socket and over TCP on ::1 with timeouts; then the
 * timeouts firing against a full listen backlog and an idle connection;
 * then privilege separation: an unprivileged child asks its parent for a
 * file by name, and the parent checks who is asking and sends back an
 * open descriptor of a file the child could not open itself.
 *
 *   $ sockx-demo
 *
 * The protocol is one line per connection: the client sends it and shuts
 * down its writing side; the server reads to end of stream, answers with
 * the line upper-cased and closes.  The output is the same on every run.
 * Exits 0 when everything went as shown, 1 (with a message on stderr) when
 * something did not.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sockx.h>

#define TIMEOUT_MS	1000	/* for each step of a conversation */
#define SHORT_MS	200	/* the timeouts this demo lets fire */
#define MAX_QUEUED	16	/* more than a backlog of 1 can hold */

static const char request[] = "hello, sockx\n";

#define NOBODY		65534	/* the unprivileged child's uid and gid */
#define SECRET_NAME	"motd"	/* the one file the parent hands out */
static const char secret[] = "a line only the parent could open\n";

/* Say what failed and why on stderr, and exit with status 1. */
static _Noreturn void
fail(const char *what, const char *why)
{
	fprintf(stderr, "sockx-demo: %s: %s\n", what, why);
	exit(1);
}

/* The same, for a negative errno value as libsockx returns it. */
static _Noreturn void
die(const char *what, long r)
{
	fail(what, strerror((int)-r));
}

/*
 * Print one line and flush it at once: the two processes share stdout, and
 * each line must be out before the other process can go on.
 */
static void
say(const char *kind, const char *who, const char *line)
{
	printf("%s: %s \"%.*s\"\n", kind, who, (int)strcspn(line, "\n"),
	    line);
	if (fflush(stdout) == EOF)
		die("stdout", -errno);
}

/* Read until the peer shuts down its side; buf receives a C string. */
static void
read_to_end(sockx *s, char *buf, size_t size)
{
	ssize_t n;

	/* Fewer bytes than asked for means that the stream ended. */
	n = sockx_read_full(s, buf, size - 1, NULL, TIMEOUT_MS);
	if (n < 0)
		die("read", n);
	if ((size_t)n == size - 1)
		die("read", -EMSGSIZE);
	buf[n] = '\0';
}

static void
close_or_die(sockx *s)
{
	int r;

	r = sockx_close(s);
	if (r < 0)
		die("close", r);
}

/* The child process: send the request, print the answer. */
static void
client(const char *kind, const char *address)
{
	char buf[64];
	sockx *s;
	ssize_t n;
	int r;

	r = sockx_connect(&s, address, TIMEOUT_MS);
	if (r < 0)
		die("connect", r);
	n = sockx_write_full(s, request, strlen(request), NULL, TIMEOUT_MS);
	if (n < 0)
		die("write", n);
	r = sockx_shutdown(s, SHUT_WR);
	if (r < 0)
		die("shutdown", r);
	read_to_end(s, buf, sizeof(buf));
	say(kind, "the client read", buf);
	close_or_die(s);
}

/* The server's side of one connection: print the request, answer it. */
static void
serve(const char *kind, sockx *s)
{
	char buf[64];
	size_t i;
	ssize_t n;

	read_to_end(s, buf, sizeof(buf));
	say(kind, "the server read", buf);
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	n = sockx_write_full(s, buf, strlen(buf), NULL, TIMEOUT_MS);
	if (n < 0)
		die("write", n);
}

/* Wait for the child and check that it succeeded. */
static void
reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		die("waitpid", -errno);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("client", "the child process failed");
}

/*
 * One conversation: this process listens on spec and forks a client,
 * which connects to the address the listener really has (with port 0 the
 * kernel picks the port, so only the socket knows it).
 */
static void
talk(const char *kind, const char *spec)
{
	char address[SOCKX_ADDRSTRLEN];
	struct sockaddr_storage ss;
	sockx *listener, *s;
	socklen_t len;
	pid_t pid;
	int r;

	r = sockx_listen(&listener, spec, 0, 0, 0);
	if (r < 0)
		die("listen", r);
	r = sockx_local_addr(listener, &ss, &len);
	if (r < 0)
		die("local address", r);
	r = sockx_addr_format((struct sockaddr *)&ss, len, address,
	    sizeof(address));
	if (r < 0)
		die("format address", r);
	/* Unflushed output would be printed again by the child. */
	if (fflush(stdout) == EOF)
		die("stdout", -errno);
	pid = fork();
	if (pid < 0)
		die("fork", -errno);
	if (pid == 0) {
		/* The child does not accept: it closes its copy. */
		close_or_die(listener);
		client(kind, address);
		exit(0);
	}
	r = sockx_accept(listener, &s, TIMEOUT_MS);
	if (r < 0)
		die("accept", r);
	serve(kind, s);
	close_or_die(s);
	close_or_die(listener);
	reap(pid);
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die("clock_gettime", -errno);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Check that the call that started at start timed out after SHORT_MS (and
 * well before a second), and say so.  The asked time is printed, not the
 * measured one, so that the output is the same on every run.
 */
static void
expect_timeout(const char *what, long r, int64_t start)
{
	int64_t ms;

	ms = (now_ns() - start) / 1000000;
	if (r >= 0)
		fail(what, "succeeded, but should have timed out");
	if (r != -ETIMEDOUT)
		die(what, r);
	if (ms < SHORT_MS || ms >= 1000)
		fail(what, "timed out, but not after about 200 ms");
	printf("%s: %s after %d ms\n", what, strerror(ETIMEDOUT), SHORT_MS);
}

/*
 * Timeouts that fire.  Nobody accepts on a listener with a backlog of 1,
 * so connects that try once (timeout 0) fill its queue until one fails;
 * the next connect waits SHORT_MS for room that never comes.  A read on a
 * queued connection, where nobody will ever write, times out the same way.
 */
static void
time_out(const char *spec)
{
	sockx *listener, *s, *queued[MAX_QUEUED];
	size_t i, n;
	int64_t start;
	ssize_t got;
	char c;
	int r;

	r = sockx_listen(&listener, spec, 1, 0, 0);
	if (r < 0)
		die("listen", r);
	for (n = 0; n < MAX_QUEUED; n++) {
		r = sockx_connect(&queued[n], spec, 0);
		if (r == -ETIMEDOUT)
			break;
		if (r < 0)
			die("connect", r);
	}
	if (n == 0 || n == MAX_QUEUED)
		fail("fill the backlog", "it did not fill as expected");

	start = now_ns();
	r = sockx_connect(&s, spec, SHORT_MS);
	expect_timeout("connect to a full backlog", r, start);

	start = now_ns();
	got = sockx_read(queued[0], &c, 1, SHORT_MS);
	expect_timeout("read from an idle connection", got, start);

	for (i = 0; i < n; i++)
		close_or_die(queued[i]);
	close_or_die(listener);
}

/*
 * The unprivileged side: ask for each name in turn and show what came
 * back, a line read through the received descriptor or a refusal.
 */
static void
privsep_child(const char *spec)
{
	const char *names[] = { SECRET_NAME, "../../etc/shadow" };
	char buf[64], line[64];
	size_t i, nfds;
	ssize_t n;
	sockx *s;
	int r, fd;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = sockx_connect(&s, spec, TIMEOUT_MS);
		if (r < 0)
			die("connect", r);
		n = sockx_write(s, names[i], strlen(names[i]), TIMEOUT_MS);
		if (n < 0)
			die("write", n);
		nfds = 1;
		n = sockx_recv_fds(s, buf, sizeof(buf) - 1, &fd, &nfds,
		    TIMEOUT_MS);
		if (n < 0)
			die("receive", n);
		buf[n] = '\0';
		if (nfds == 1) {
			n = read(fd, line, sizeof(line) - 1);
			if (n < 0)
				die("read", -errno);
			line[n] = '\0';
			close(fd);
			say("privilege separation", "the child read", line);
		} else {
			say("privilege separation", "the parent answered",
			    buf);
		}
		close_or_die(s);
	}
}

/*
 * The privileged side of one request: check the caller's uid with
 * SO_PEERCRED (the kernel's record, not anything the caller said), then
 * open the file it names, if it is one this parent hands out, and send
 * the descriptor.
 */
static void
privsep_serve(sockx *s, int dirfd, uid_t allowed)
{
	struct sockx_cred cred;
	char name[64];
	ssize_t n;
	int r, fd;

	r = sockx_peer_cred(s, &cred);
	if (r < 0)
		die("peer credentials", r);
	n = sockx_read(s, name, sizeof(name) - 1, TIMEOUT_MS);
	if (n < 0)
		die("read", n);
	name[n] = '\0';
	if (cred.uid != allowed || strcmp(name, SECRET_NAME) != 0) {
		n = sockx_write(s, "refused", 7, TIMEOUT_MS);
		if (n < 0)
			die("write", n);
		return;
	}
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open", -errno);
	n = sockx_send_fds(s, "here", 4, &fd, 1, TIMEOUT_MS);
	close(fd);
	if (n < 0)
		die("send descriptor", n);
}

/* Become uid and gid NOBODY, if this process may; else stay who it is. */
static void
drop_privileges(void)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
	    setuid(NOBODY) < 0)
		die("drop privileges", -errno);
}

/*
 * Privilege separation: a private file (mode 0600) in a private
 * directory, a listener, and a child that drops its privileges (when run
 * as root) and asks for two names; only the file the parent hands out, to
 * the uid it expects, comes back as a descriptor.
 */
static void
privsep(const char *spec)
{
	char dir[] = "/tmp/sockx-demo-XXXXXX";
	uid_t allowed;
	sockx *listener, *s;
	int r, dirfd, fd, i;
	pid_t pid;

	allowed = geteuid() == 0 ? NOBODY : geteuid();
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", -errno);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		die("open", -errno);
	fd = openat(dirfd, SECRET_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (fd < 0 || write(fd, secret, strlen(secret)) !=
	    (ssize_t)strlen(secret) || close(fd) < 0)
		die("write " SECRET_NAME, -errno);
	r = sockx_listen(&listener, spec, 0, 0, 0);
	if (r < 0)
		die("listen", r);
	if (fflush(stdout) == EOF)
		die("stdout", -errno);
	pid = fork();
	if (pid < 0)
		die("fork", -errno);
	if (pid == 0) {
		close_or_die(listener);
		close(dirfd);
		drop_privileges();
		privsep_child(spec);
		exit(0);
	}
	for (i = 0; i < 2; i++) {
		r = sockx_accept(listener, &s, TIMEOUT_MS);
		if (r < 0)
			die("accept", r);
		privsep_serve(s, dirfd, allowed);
		close_or_die(s);
	}
	close_or_die(listener);
	reap(pid);
	if (unlinkat(dirfd, SECRET_NAME, 0) < 0 || close(dirfd) < 0 ||
	    rmdir(dir) < 0)
		die("clean up", -errno);
}

int
main(void)
{
	char spec[64];
	long pid = (long)getpid();

	/* Every process of the network namespace shares abstract names. */
	snprintf(spec, sizeof(spec), "@sockx-demo-%ld", pid);
	talk("abstract unix socket", spec);
	talk("TCP on [::1]", "[::1]:0");
	snprintf(spec, sizeof(spec), "@sockx-demo-%ld-full", pid);
	time_out(spec);
	snprintf(spec, sizeof(spec), "@sockx-demo-%ld-files", pid);
	privsep(spec);
	if (fflush(stdout) == EOF)
		die("stdout", -errno);
	return 0;
}
