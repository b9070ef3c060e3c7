/* SPDX-License-Identifier: MIT */
/*
 * sockx-privsep - privilege separation: a privileged parent opens files
 * for an unprivileged worker, which it forks, and hands them over as open
 * descriptors; the worker never gets the right to open them itself.
 *
 *   # sockx-privsep [-u user] DIR NAME...
 *
 * The worker (the child) asks for each NAME in turn and prints one of
 *
 *   NAME: <size> bytes, first line: <the first line>
 *   NAME: refused: <reason>
 *
 * The parent gives out only plain names in DIR (no '/', not "." or "..")
 * that are regular files it can open, never following a symbolic link.
 * Run as root, the worker becomes user (default "nobody") before it
 * connects; run as anyone else, both stay who they are and -u is an error.
 *
 * The conversation is one seqpacket connection: each request is a message
 * holding a name; each answer is "ok" with the descriptor attached, or
 * "refused: <reason>" without one.  The worker ends it by closing.
 *
 * Exits 0 when the conversation went as the protocol says (a refusal is an
 * answer, not a failure), 1 (with a message on stderr) when something
 * failed, 2 on misuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#define TIMEOUT_MS	5000	/* for the worker to connect, for each answer */
#define SHOWN_MAX	200	/* bytes of a first line that are printed */

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
	fprintf(stderr, "usage: sockx-privsep [-u user] DIR NAME...\n");
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

/* Read the whole file behind fd; print its size and its first line. */
static void
show_file(const char *name, int fd)
{
	char buf[4096], first[SHOWN_MAX + 1] = "";
	long long size = 0;
	size_t len;
	ssize_t n;
	char *nl;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0)
			die(name, -errno);
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
	printf("%s: %lld bytes, first line: %s\n", name, size, first);
}

/* Ask for one name and show the answer. */
static void
ask(sockx *s, const char *name)
{
	char answer[256];
	size_t nfds = 1;
	ssize_t n;
	int fd;

	n = sockx_write(s, name, strlen(name), TIMEOUT_MS);
	if (n < 0)
		die("send request", n);
	/* More than one descriptor, or a longer message, is -EMSGSIZE. */
	n = sockx_recv_fds(s, answer, sizeof(answer) - 1, &fd, &nfds,
	    TIMEOUT_MS);
	if (n < 0)
		die("receive answer", n);
	answer[n] = '\0';
	if (nfds == 1 && strcmp(answer, "ok") == 0) {
		show_file(name, fd);
		close(fd);
	} else if (nfds == 0 && strncmp(answer, "refused: ", 9) == 0) {
		printf("%s: %s\n", name, answer);
	} else {
		fail("answer", n == 0 ? "the parent closed the connection" :
		    "not one the protocol knows");
	}
}

static void
worker(const char *address, char **names)
{
	sockx *s;
	int r;

	r = sockx_connect(&s, address, TIMEOUT_MS);
	if (r < 0)
		die("connect", r);
	for (; *names != NULL; names++)
		ask(s, *names);
	r = sockx_close(s);
	if (r < 0)
		die("close", r);
	if (fflush(stdout) == EOF)
		die("stdout", -errno);
}

/* ------------------------------------------------------------------ */
/* The parent: privileged, it checks and opens                         */
/* ------------------------------------------------------------------ */

/*
 * Accept the worker and nobody else.  The uid check alone would not do:
 * any process of that uid (every other "nobody") may connect to an
 * abstract name.  The pid does: the worker is this process's child and is
 * not reaped yet, so no other process can have its pid.  Both come from
 * SO_PEERCRED, the kernel's record of the process that connected.
 */
static sockx *
accept_worker(sockx *listener, pid_t pid, uid_t uid)
{
	struct sockx_cred cred;
	sockx *s;
	int r;

	for (;;) {
		r = sockx_accept(listener, &s, TIMEOUT_MS);
		if (r < 0)
			die("accept the worker", r);
		r = sockx_peer_cred(s, &cred);
		if (r < 0)
			die("peer credentials", r);
		if (cred.pid == pid && cred.uid == uid)
			return s;
		fprintf(stderr, "sockx-privsep: refused pid %ld uid %lu: "
		    "not the worker\n", (long)cred.pid,
		    (unsigned long)cred.uid);
		sockx_close(s);
	}
}

/* Answer without a descriptor. */
static void
refuse(sockx *s, const char *reason)
{
	char answer[256];
	ssize_t n;

	snprintf(answer, sizeof(answer), "refused: %s", reason);
	n = sockx_write(s, answer, strlen(answer), TIMEOUT_MS);
	if (n < 0)
		die("send answer", n);
}

/* Answer the request for name, len bytes as it came. */
static void
answer(sockx *s, int dirfd, const char *name, size_t len)
{
	struct stat st;
	ssize_t n;
	int fd;

	/*
	 * A plain name cannot leave DIR; a NUL inside would make the name
	 * checked and the name opened two different names.
	 */
	if (memchr(name, '\0', len) != NULL || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		refuse(s, "invalid name");
		return;
	}
	/*
	 * O_NOFOLLOW: a symbolic link in DIR could point anywhere.
	 * O_NONBLOCK: opening a FIFO would block the parent.  Only regular
	 * files go out: a read of anything else may block or have effects.
	 */
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		refuse(s, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		refuse(s, "not a regular file");
		return;
	}
	n = sockx_send_fds(s, "ok", 2, &fd, 1, TIMEOUT_MS);
	close(fd);	/* the message holds its own reference */
	if (n < 0)
		die("send descriptor", n);
}

static void
serve(sockx *s, int dirfd)
{
	char name[NAME_MAX + 1];
	ssize_t n;

	/*
	 * No timeout: the worker's end closes when it exits, however it
	 * exits, so this wait cannot outlast it.  0 is that end.
	 */
	while ((n = sockx_read(s, name, sizeof(name) - 1, -1)) != 0) {
		if (n == -EMSGSIZE) {	/* over NAME_MAX, and consumed */
			refuse(s, strerror(ENAMETOOLONG));
			continue;
		}
		if (n < 0)
			die("receive request", n);
		name[n] = '\0';
		answer(s, dirfd, name, (size_t)n);
	}
}

int
main(int argc, char **argv)
{
	char bound[SOCKX_ADDRSTRLEN], address[SOCKX_ADDRSTRLEN + 16];
	const char *user = NULL;
	struct sockaddr_storage ss;
	struct passwd *pw;
	sockx *listener, *s;
	socklen_t len;
	siginfo_t si;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int c, i, r, dirfd;

	while ((c = getopt(argc, argv, "+u:")) != -1) {
		if (c != 'u')
			usage();
		user = optarg;
	}
	if (argc - optind < 2)
		usage();
	/* An empty message reads as the end of the conversation. */
	for (i = optind + 1; i < argc; i++)
		if (argv[i][0] == '\0')
			usage();

	/*
	 * An ignored SIGCHLD, which execve() passes on, would have the
	 * kernel reap the worker by itself and free its pid for another
	 * process: the pid check below relies on the default.
	 */
	signal(SIGCHLD, SIG_DFL);

	dirfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
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
	r = sockx_listen(&listener, "unixpacket:@", 1, 0, 0);
	if (r < 0)
		die("listen", r);
	r = sockx_local_addr(listener, &ss, &len);
	if (r < 0)
		die("local address", r);
	r = sockx_addr_format((struct sockaddr *)&ss, len, bound, sizeof(bound));
	if (r < 0)
		die("format address", r);
	snprintf(address, sizeof(address), "unixpacket:%s", bound);

	if (fflush(stdout) == EOF)	/* or the child prints it again */
		die("stdout", -errno);
	pid = fork();
	if (pid < 0)
		die("fork", -errno);
	if (pid == 0) {
		/* With the directory open, the worker could open files itself. */
		sockx_close(listener);
		close(dirfd);
		if (geteuid() == 0)
			drop_privileges(uid, gid);
		worker(address, argv + optind + 1);
		exit(0);
	}

	s = accept_worker(listener, pid, uid);
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
	r = sockx_peer_pidfd(s);
	if (r == -EOPNOTSUPP && (r = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		r = -errno;
	if (r < 0)
		die("worker pidfd", r);
	worker_pidfd = r;

	serve(s, dirfd);
	r = sockx_close(s);
	if (r < 0)
		die("close", r);
	close(dirfd);
	if (waitid(P_PIDFD, (id_t)worker_pidfd, &si, WEXITED) < 0)
		die("wait for the worker", -errno);
	if (si.si_code != CLD_EXITED || si.si_status != 0)
		fail("worker", si.si_code == CLD_EXITED ? "it failed" :
		    "it was killed");
	close(worker_pidfd);
	return 0;
}
