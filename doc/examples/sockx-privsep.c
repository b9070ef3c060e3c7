/* SPDX-License-Identifier: MIT */
/*
 * sockx-privsep - privilege separation on a channel: a privileged parent
 * opens files for an unprivileged worker, which it forks, and hands them
 * over as open descriptors; the worker never gets the right to open them
 * itself.
 *
 *   # sockx-privsep [-u user] [-n ROUNDS] DIR NAME...
 *
 * The worker (the child) asks about every NAME and prints one of
 *
 *   NAME: <size> bytes, first line: <the first line>
 *   NAME: refused: <reason>
 *
 * The parent gives out only plain names in DIR (no '/', not "." or "..")
 * that are regular files it can open, never following a symbolic link.
 * Run as root, the worker becomes user (default "nobody") before it
 * connects; run as anyone else, both stay who they are and -u is an error.
 *
 * The conversation is one channel (sockx_chan_open(3)) on a unix stream
 * connection, with these messages (id: the worker's request number):
 *
 *   OPEN name       worker -> parent  reply FILE (the descriptor, the
 *                                     size) or ERROR (a code)
 *   STAT name       worker -> parent  reply SIZE (the size) or ERROR
 *   BACK            worker -> parent  a descriptor the parent gave out,
 *                                     handed back once read: the parent
 *                                     checks it is the file it opened
 *
 * The worker pipelines: it queues an OPEN and a STAT for every NAME,
 * ROUNDS times (default 1), 1,000 requests at a time, sends them, and
 * only then reads their replies, in order.  It checks every reply (its
 * id, its kind, OPEN and STAT agreeing, the size against the bytes it
 * read) and prints the lines above for the first round; with -n it then
 * prints
 *
 *   <requests> requests pipelined, <wrong> wrong replies, <back>
 *   descriptors back
 *
 * (on one line).
 *
 * The parent serves with a poll set: it reads every buffered request
 * (the drain rule of sockx_chan_open(3)), queues the replies, and stops
 * reading while 64 KiB or 64 descriptors of replies wait to be written,
 * so that a worker that does not read cannot make it hold more.  The
 * worker ends the conversation by closing.
 *
 * Exits 0 when the conversation went as the protocol says (a refusal is an
 * answer, not a failure), 1 (with a message on stderr) when something
 * failed, a reply was wrong or a descriptor did not come back, 2 on
 * misuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#define TIMEOUT_MS	5000	/* for the worker to connect, for each step */
#define SHOWN_MAX	200	/* bytes of a first line that are printed */
#define ROUNDS_MAX	10000
#define WINDOW		1000	/* requests the worker sends before replies */
#define BACKLOG_BYTES	65536	/* replies queued before reading stops */
#define BACKLOG_FDS	64

/* The message kinds. */
enum { OPEN = 1, STAT, BACK, FILE_, SIZE, ERROR };

/* The payload of FILE, SIZE and ERROR. */
struct answer {
	int32_t code;	/* 0, an errno value, or one of the two below */
	uint32_t pad;
	int64_t size;
};
#define BAD_NAME	(-1)	/* "invalid name" */
#define NOT_REGULAR	(-2)	/* "not a regular file" */

/* The worker, in the parent, once it has proved who it is. */
static int worker_pidfd = -1;

/*
 * Say what failed and why on stderr, and exit with status 1.  A parent
 * that gives up kills its worker, which must not go on alone: through the
 * pidfd, which names that process and no other, whatever becomes of it.
 */
static _Noreturn void
fail(const char *what, const char *why)
{
	fprintf(stderr, "sockx-privsep: %s: %s\n", what, why);
	if (worker_pidfd >= 0)
		syscall(SYS_pidfd_send_signal, worker_pidfd, SIGKILL, NULL, 0);
	exit(1);
}

/* The same, for a negative errno value as libsockx returns it. */
static _Noreturn void
die(const char *what, long r)
{
	fail(what, strerror((int)-r));
}

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: sockx-privsep [-u user] [-n ROUNDS] DIR "
	    "NAME...\n");
	exit(2);
}

/* ------------------------------------------------------------------ */
/* The worker: unprivileged, it asks and reads                         */
/* ------------------------------------------------------------------ */

/*
 * Become uid and gid for good: the supplementary groups first (root's
 * would stay otherwise), the gid before the uid (after setuid() no right
 * to change it is left); then check that root cannot come back.
 */
static void
drop_privileges(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		die("drop privileges", -errno);
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != uid ||
	    geteuid() != uid || getgid() != gid || getegid() != gid)
		fail("drop privileges", "root could be regained");
}

/* Read the whole file behind fd: its size, and its first line. */
static long long
read_file(int fd, char first[SHOWN_MAX + 1])
{
	char buf[4096];
	long long size = 0;
	size_t len;
	ssize_t n;
	char *nl;

	first[0] = '\0';
	while ((n = pread(fd, buf, sizeof(buf), size)) != 0) {
		if (n < 0)
			die("read", -errno);
		if (size == 0) {
			nl = memchr(buf, '\n', (size_t)n);
			len = nl != NULL ? (size_t)(nl - buf) : (size_t)n;
			if (len > SHOWN_MAX)
				len = SHOWN_MAX;
			memcpy(first, buf, len);
			first[len] = '\0';
		}
		size += n;
	}
	return size;
}

static const char *
reason(int32_t code)
{
	return code == BAD_NAME ? "invalid name" :
	    code == NOT_REGULAR ? "not a regular file" : strerror(code);
}

/* The next reply, which must answer request id: its answer, in *a. */
static int
reply(sockx_chan *c, uint32_t id, struct sockx_msg *m, struct answer *a)
{
	int r;

	/*
	 * Requests may still be queued: write what the socket takes before
	 * each wait, or the parent could wait for them while we wait for it.
	 */
	for (;;) {
		r = sockx_chan_flush(c, 0);
		if (r < 0 && r != -ETIMEDOUT)
			die("send", r);
		r = sockx_chan_recv(c, m, 0);
		if (r != -ETIMEDOUT)
			break;
		r = sockx_wait(sockx_chan_handle(c), sockx_chan_events(c),
		    TIMEOUT_MS);
		if (r < 0)
			die("wait for a reply", r);
	}
	if (r < 0)
		die("receive reply", r);
	if (r == 0)
		fail("reply", "the parent closed the connection");
	if (m->id != id || m->len != sizeof(*a) ||
	    !(m->type == FILE_ || m->type == SIZE || m->type == ERROR) ||
	    m->nfds != (m->type == FILE_))
		return 0;
	memcpy(a, m->data, sizeof(*a));
	return (m->type == ERROR) == (a->code != 0);
}

/*
 * The replies to the OPEN (id) and the STAT (id + 1) of name: 1 when they
 * are right, printed in the first round; the descriptor goes back.
 */
static int
check_replies(sockx_chan *c, const char *name, uint32_t id, int print,
    unsigned long *backs)
{
	char first[SHOWN_MAX + 1];
	struct sockx_msg m;
	struct answer o, s;
	long long size = -1;
	int fd = -1, ok, r;

	ok = reply(c, id, &m, &o) && m.type != SIZE;
	if (ok && m.type == FILE_) {
		fd = m.fds[0];
		m.fds[0] = -1;		/* taken: ours to close */
		size = read_file(fd, first);
		r = sockx_chan_queue(c, BACK, id, NULL, 0, &fd, 1);
		close(fd);		/* the queue holds its own copy */
		if (r < 0)
			die("queue BACK", r);
		++*backs;
	}
	ok = reply(c, id + 1, &m, &s) && m.type != FILE_ && ok &&
	    s.code == o.code && (o.code != 0 || (o.size == size &&
	    s.size == size));
	if (ok && print && o.code == 0)
		printf("%s: %lld bytes, first line: %s\n", name, size, first);
	else if (ok && print)
		printf("%s: refused: %s\n", name, reason(o.code));
	return ok;
}

static void
worker(const char *address, char **names, long rounds, int summary)
{
	unsigned long requests, wrong = 0, backs = 0;
	size_t nnames, total, i, j, len;
	sockx_chan *c;
	sockx *s;
	int r;

	r = sockx_connect(&s, address, TIMEOUT_MS);
	if (r < 0)
		die("connect", r);
	r = sockx_chan_open(&c, s, PATH_MAX, 0);
	if (r < 0)
		die("channel", r);
	for (nnames = 0; names[nnames] != NULL; nnames++)
		continue;
	total = nnames * (size_t)rounds;
	/*
	 * WINDOW requests first (the queue never blocks), then their
	 * replies, and again.  The window bounds the descriptors handed
	 * back that wait behind requests in the output queue (at most
	 * 1,024 may be queued).  Past NAME_MAX the parent refuses a name:
	 * it need not come whole.
	 */
	for (i = 0; i < total; i = j) {
		for (j = i; j < total && j - i < WINDOW / 2; j++) {
			len = strnlen(names[j % nnames], NAME_MAX + 1);
			r = sockx_chan_queue(c, OPEN, (uint32_t)(2 * j),
			    names[j % nnames], len, NULL, 0);
			if (r == 0)
				r = sockx_chan_queue(c, STAT,
				    (uint32_t)(2 * j + 1), names[j % nnames],
				    len, NULL, 0);
			if (r < 0)
				die("queue request", r);
		}
		for (j = i; j < total && j - i < WINDOW / 2; j++)
			wrong += !check_replies(c, names[j % nnames],
			    (uint32_t)(2 * j), j < nnames, &backs);
	}
	requests = 2 * total;
	r = sockx_chan_flush(c, TIMEOUT_MS);	/* the last BACKs */
	if (r < 0)
		die("send BACK", r);
	r = sockx_chan_close(c);
	if (r < 0)
		die("close", r);
	if (summary)
		printf("%lu requests pipelined, %lu wrong replies, %lu "
		    "descriptors back\n", requests, wrong, backs);
	if (fflush(stdout) == EOF)
		die("stdout", -errno);
	if (wrong > 0)
		fail("replies", "some were wrong");
}

/* ------------------------------------------------------------------ */
/* The parent: privileged, it checks and opens                         */
/* ------------------------------------------------------------------ */

/* What the parent gave out, by request id, until it comes back. */
struct given {
	dev_t dev;
	ino_t ino;
	int out;
};

struct server {
	sockx_chan *c;
	int dirfd;
	struct given *given;	/* indexed by OPEN id / 2 */
	size_t ngiven;
	unsigned long out;	/* descriptors given out, not back */
	unsigned long fds_queued;	/* in replies not yet written, at most */
};

/*
 * Accept the worker and nobody else.  The uid check alone would not do:
 * any process of that uid (every other "nobody") may connect to an
 * abstract name.  The pid does: the worker is this process's child and is
 * not reaped yet, so no other process can have its pid.  Both come from
 * SO_PEERCRED, the kernel's record of the process that connected, asked
 * on the channel's handle.
 */
static sockx_chan *
accept_worker(sockx *listener, pid_t pid, uid_t uid)
{
	struct sockx_cred cred;
	sockx_chan *c;
	sockx *s;
	int r;

	for (;;) {
		r = sockx_accept(listener, &s, TIMEOUT_MS);
		if (r < 0)
			die("accept the worker", r);
		r = sockx_chan_open(&c, s, PATH_MAX, 0);
		if (r < 0)
			die("channel", r);
		r = sockx_peer_cred(sockx_chan_handle(c), &cred);
		if (r < 0)
			die("peer credentials", r);
		if (cred.pid == pid && cred.uid == uid)
			return c;
		fprintf(stderr, "sockx-privsep: refused pid %ld uid %lu: "
		    "not the worker\n", (long)cred.pid,
		    (unsigned long)cred.uid);
		sockx_chan_close(c);
	}
}

/*
 * Open name in DIR as the worker may have it: a descriptor of a regular
 * file, or -1 with *code saying why not.
 */
static int
open_name(int dirfd, const char *name, size_t len, int32_t *code)
{
	struct stat st;
	int fd;

	/*
	 * A plain name cannot leave DIR; a NUL inside would make the name
	 * checked and the name opened two different names.
	 */
	if (len > NAME_MAX) {
		*code = ENAMETOOLONG;
		return -1;
	}
	if (len == 0 || memchr(name, '\0', len) != NULL ||
	    strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		*code = BAD_NAME;
		return -1;
	}
	/*
	 * O_NOFOLLOW: a symbolic link in DIR could point anywhere.
	 * O_NONBLOCK: opening a FIFO would block the parent.  Only regular
	 * files go out: a read of anything else may block or have effects.
	 */
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		*code = errno;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*code = NOT_REGULAR;
		return -1;
	}
	*code = 0;
	return fd;
}

/* Queue the reply to one request. */
static void
answer(struct server *sv, const struct sockx_msg *m)
{
	char name[NAME_MAX + 1];
	struct answer a = { 0, 0, 0 };
	struct stat st;
	struct given *g;
	size_t len = m->len;
	int type, fd, r;

	memcpy(name, m->data, len > NAME_MAX ? 0 : len);
	name[len > NAME_MAX ? 0 : len] = '\0';
	fd = open_name(sv->dirfd, name, len, &a.code);
	if (fd >= 0) {
		if (fstat(fd, &st) < 0)
			die("fstat", -errno);
		a.size = st.st_size;
	}
	type = a.code != 0 ? ERROR : m->type == OPEN ? FILE_ : SIZE;
	if (type == FILE_) {
		/* Ids are the worker's own: it must not make us grow. */
		if (m->id / 2 >= sv->ngiven || sv->given[m->id / 2].out)
			fail("request", "an id out of the worker's range");
		g = &sv->given[m->id / 2];
		g->dev = st.st_dev;
		g->ino = st.st_ino;
		g->out = 1;
		sv->out++;
		sv->fds_queued++;
	}
	r = sockx_chan_queue(sv->c, (uint32_t)type, m->id, &a, sizeof(a),
	    &fd, type == FILE_);
	if (fd >= 0)
		close(fd);	/* the channel holds its own copy */
	if (r < 0)
		die("queue reply", r);
}

/* A descriptor handed back: it must be the very file given out for id. */
static void
back(struct server *sv, const struct sockx_msg *m)
{
	struct given *g = m->id / 2 < sv->ngiven ? &sv->given[m->id / 2] :
	    NULL;
	struct stat st;

	if (m->nfds != 1 || g == NULL || !g->out)
		fail("BACK", "not a descriptor the worker was given");
	if (fstat(m->fds[0], &st) < 0)
		die("fstat", -errno);
	if (st.st_dev != g->dev || st.st_ino != g->ino)
		fail("BACK", "not the file given out for that request");
	g->out = 0;
	sv->out--;
	/* m->fds[0] is left in place: the next recv closes it. */
}

/* Replies wait to be written: stop reading requests until they go. */
static int
backlogged(const struct server *sv)
{
	if (sockx_chan_pending(sv->c) == 0)
		return 0;
	return sockx_chan_pending(sv->c) >= BACKLOG_BYTES ||
	    sv->fds_queued >= BACKLOG_FDS;
}

/*
 * Serve until the worker closes.  When the handle is reported: write what
 * the socket takes, then read every buffered request (recv with timeout 0
 * until -ETIMEDOUT: the drain rule), unless replies are backed up; then
 * wait for what sockx_chan_events() says, or only for room to write while
 * backed up.
 */
static void
serve(struct server *sv, size_t rounds_names)
{
	struct sockx_event ev;
	struct sockx_msg m;
	sockx_poll *p;
	sockx *h = sockx_chan_handle(sv->c);
	int r, got, events;

	sv->ngiven = rounds_names;
	sv->given = calloc(rounds_names, sizeof(*sv->given));
	if (sv->given == NULL)
		die("memory", -ENOMEM);
	r = sockx_poll_new(&p, 0);
	if (r == 0)
		r = sockx_poll_add(p, h, SOCKX_READABLE, -1, sv);
	if (r < 0)
		die("poll set", r);
	for (;;) {
		/* No deadline: the worker's end closes when it exits. */
		r = sockx_poll_wait(p, &ev, 1, -1);
		if (r < 0)
			die("wait", r);
		r = sockx_chan_flush(sv->c, 0);
		if (r < 0 && r != -ETIMEDOUT)
			die("send replies", r);
		if (sockx_chan_pending(sv->c) == 0)
			sv->fds_queued = 0;
		got = -ETIMEDOUT;
		while (!backlogged(sv) &&
		    (got = sockx_chan_recv(sv->c, &m, 0)) == 1) {
			if (m.type == OPEN || m.type == STAT)
				answer(sv, &m);
			else if (m.type == BACK)
				back(sv, &m);
			else
				fail("request", "not one the protocol knows");
			if (backlogged(sv)) {
				r = sockx_chan_flush(sv->c, 0);
				if (r < 0 && r != -ETIMEDOUT)
					die("send replies", r);
				if (sockx_chan_pending(sv->c) == 0)
					sv->fds_queued = 0;
			}
		}
		if (got == 0)
			break;		/* the worker closed */
		if (got < 0 && got != -ETIMEDOUT)
			die("receive request", got);
		events = backlogged(sv) ? SOCKX_WRITABLE :
		    sockx_chan_events(sv->c);
		r = sockx_poll_mod(p, h, events, SOCKX_POLL_KEEP);
		if (r < 0)
			die("poll set", r);
	}
	sockx_poll_free(p);
	if (sv->out != 0)
		fail("worker", "it kept descriptors it was given");
	free(sv->given);
}

int
main(int argc, char **argv)
{
	char bound[SOCKX_ADDRSTRLEN], address[SOCKX_ADDRSTRLEN + 16];
	const char *user = NULL;
	struct sockaddr_storage ss;
	struct server sv = { 0 };
	struct passwd *pw;
	sockx *listener;
	socklen_t len;
	siginfo_t si;
	long rounds = 1;
	int summary = 0;
	char *end;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int c, r;

	while ((c = getopt(argc, argv, "+u:n:")) != -1) {
		if (c == 'u') {
			user = optarg;
		} else if (c == 'n') {
			errno = 0;
			rounds = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || rounds < 1 ||
			    rounds > ROUNDS_MAX)
				usage();
			summary = 1;
		} else {
			usage();
		}
	}
	if (argc - optind < 2 || (size_t)(argc - optind - 1) * rounds >
	    UINT32_MAX / 2)
		usage();

	/*
	 * An ignored SIGCHLD, which execve() passes on, would have the
	 * kernel reap the worker by itself and free its pid for another
	 * process: the pid check below relies on the default.
	 */
	signal(SIGCHLD, SIG_DFL);

	sv.dirfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sv.dirfd < 0)
		die(argv[optind], -errno);
	if (geteuid() == 0) {
		errno = 0;
		pw = getpwnam(user != NULL ? user : "nobody");
		if (pw == NULL)
			fail(user != NULL ? user : "nobody", errno != 0 ?
			    strerror(errno) : "no such user");
		if (pw->pw_uid == 0)
			fail(pw->pw_name, "the worker must not be root");
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else {
		if (user != NULL)
			fail("-u", "only root can run the worker as another user");
		uid = geteuid();
		gid = getegid();
	}

	/*
	 * A listener of its own, not a socketpair: SO_PEERCRED of a pair
	 * names the process that made it, the parent, so it would tell
	 * nothing about the worker.  "@" lets the kernel pick an unused
	 * abstract name, and the child learns it before the fork.
	 */
	r = sockx_listen(&listener, "unix:@", 1, 0, 0);
	if (r < 0)
		die("listen", r);
	r = sockx_local_addr(listener, &ss, &len);
	if (r < 0)
		die("local address", r);
	r = sockx_addr_format((struct sockaddr *)&ss, len, bound, sizeof(bound));
	if (r < 0)
		die("format address", r);
	snprintf(address, sizeof(address), "unix:%s", bound);

	if (fflush(stdout) == EOF)	/* or the child prints it again */
		die("stdout", -errno);
	pid = fork();
	if (pid < 0)
		die("fork", -errno);
	if (pid == 0) {
		/* With the directory open, the worker could open files itself. */
		sockx_close(listener);
		close(sv.dirfd);
		if (geteuid() == 0)
			drop_privileges(uid, gid);
		worker(address, argv + optind + 1, rounds, summary);
		exit(0);
	}

	sv.c = accept_worker(listener, pid, uid);
	r = sockx_close(listener);	/* nobody else may come in now */
	if (r < 0)
		die("close", r);
	/*
	 * From here the parent names the worker by a pidfd, which no other
	 * process can ever take over.  Without SO_PEERPIDFD (Linux < 6.5)
	 * pidfd_open() of the pid is as good, but only because this pid
	 * belongs to an unreaped child: a server of strangers has no such
	 * fallback.
	 */
	r = sockx_peer_pidfd(sockx_chan_handle(sv.c));
	if (r == -EOPNOTSUPP && (r = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		r = -errno;
	if (r < 0)
		die("worker pidfd", r);
	worker_pidfd = r;

	serve(&sv, (size_t)(argc - optind - 1) * (size_t)rounds);
	r = sockx_chan_close(sv.c);
	if (r < 0)
		die("close", r);
	close(sv.dirfd);
	if (waitid(P_PIDFD, (id_t)worker_pidfd, &si, WEXITED) < 0)
		die("wait for the worker", -errno);
	if (si.si_code != CLD_EXITED || si.si_status != 0)
		fail("worker", si.si_code == CLD_EXITED ? "it failed" :
		    "it was killed");
	close(worker_pidfd);
	return 0;
}
