/* SPDX-License-Identifier: MIT */
/*
 * test-python.c - descriptor passing and credentials against a peer
 * written by someone else: Python 3's socket module, run as a separate
 * process (fork + exec of $SXT_PYTHON -c SCRIPT ARGS...).  The Python end
 * of a socketpair is its descriptor 3; a script checks what it receives
 * itself and exits non-zero with a message on stderr when a check fails,
 * so every test waits for its child and asserts exit status 0.
 *
 * Every passed descriptor is identified on the receiving side by
 * st_dev/st_ino against stat() of the file it was opened from, in order.
 * The files are f0, f1, ... in a private temporary directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#include "sxtest.h"

/* How long the C side waits for Python at each step. */
#define T_MS 10000

static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };

/* ---------------------------------------------------------------- */
/* The Python peers                                                  */
/* ---------------------------------------------------------------- */

/* What every test needs of the socket module. */
static const char *const PY_PROBE =
    "import socket\n"
    "for n in ('send_fds', 'recv_fds', 'SO_PEERCRED', 'SO_PASSCRED',\n"
    "          'SCM_CREDENTIALS', 'SCM_RIGHTS', 'CMSG_SPACE'):\n"
    "    if not hasattr(socket, n):\n"
    "        raise SystemExit('python probe: socket.%s is missing' % n)\n";

/*
 * argv: MODE DIR N...  For each N: open DIR/f0..f<N-1>, wait for a 'g'
 * byte, send b'm<N>' with the N descriptors (MODE send_fds: socket.send_fds;
 * sendmsg: a plain sock.sendmsg with SCM_RIGHTS; N 0: no ancillary data).
 */
static const char *const PY_SEND =
    "import array, os, socket, sys\n"
    "s = socket.socket(fileno=3)\n"
    "s.settimeout(30)\n"
    "mode, d = sys.argv[1], sys.argv[2]\n"
    "for n in map(int, sys.argv[3:]):\n"
    "    fds = [os.open(os.path.join(d, 'f%d' % i), os.O_RDONLY)\n"
    "           for i in range(n)]\n"
    "    if s.recv(1) != b'g':\n"
    "        sys.exit('python sender: no go byte before m%d' % n)\n"
    "    data = b'm%d' % n\n"
    "    if not fds:\n"
    "        r = s.send(data)\n"
    "    elif mode == 'send_fds':\n"
    "        r = socket.send_fds(s, [data], fds)\n"
    "    else:\n"
    "        r = s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,\n"
    "                                array.array('i', fds))])\n"
    "    if r != len(data):\n"
    "        sys.exit('python sender: sent %d of %d bytes' % (r, len(data)))\n"
    "    for fd in fds:\n"
    "        os.close(fd)\n";

/*
 * argv: DIR N...  For each N: socket.recv_fds, check b'm<N>' and N
 * descriptors that are DIR/f0.. in order, answer "ok N" or "error: ..."
 * over the socket.  (Python 3.11's recvmsg does not use MSG_CMSG_CLOEXEC:
 * the descriptors it receives are inheritable, whoever sent them, so
 * there is nothing to check about that here.)
 */
static const char *const PY_RECV =
    "import os, socket, sys\n"
    "s = socket.socket(fileno=3)\n"
    "s.settimeout(30)\n"
    "d = sys.argv[1]\n"
    "for n in map(int, sys.argv[2:]):\n"
    "    msg, fds, flags, _ = socket.recv_fds(s, 64, 253)\n"
    "    err = None\n"
    "    if msg != b'm%d' % n:\n"
    "        err = 'data %r, want m%d' % (msg, n)\n"
    "    elif flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC):\n"
    "        err = 'flags %#x (truncated)' % flags\n"
    "    elif len(fds) != n:\n"
    "        err = '%d fds, want %d' % (len(fds), n)\n"
    "    for i, fd in enumerate(fds if err is None else []):\n"
    "        a, b = os.fstat(fd), os.stat(os.path.join(d, 'f%d' % i))\n"
    "        if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino):\n"
    "            err = 'fd #%d is not f%d' % (i, i)\n"
    "            break\n"
    "    for fd in fds:\n"
    "        os.close(fd)\n"
    "    s.send(('ok %d' % n if err is None else 'error: ' + err).encode())\n"
    "    if err:\n"
    "        sys.exit('python receiver: ' + err)\n";

/* Turn a libsockx unix address text into Python's. */
#define PY_ADDR \
    "def addr(a):\n" \
    "    return '\\0' + a[1:] if a.startswith('@') else a\n"

/*
 * argv: ADDRESS PID UID GID.  Connect to the libsockx listener, check
 * its SO_PEERCRED is PID/UID/GID, then wait for a 'q' byte.
 */
static const char *const PY_PEERCRED_CLIENT =
    "import socket, struct, sys\n"
    PY_ADDR
    "want = tuple(map(int, sys.argv[2:5]))\n"
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
    "s.settimeout(30)\n"
    "s.connect(addr(sys.argv[1]))\n"
    "got = struct.unpack('3i', s.getsockopt(socket.SOL_SOCKET,\n"
    "                                       socket.SO_PEERCRED, 12))\n"
    "if got != want:\n"
    "    sys.exit('python client: SO_PEERCRED pid/uid/gid %r, want %r'\n"
    "             % (got, want))\n"
    "if s.recv(1) != b'q':\n"
    "    sys.exit('python client: no q byte')\n";

/*
 * argv: ADDRESS PID UID GID.  Listen on ADDRESS, send 'r' on descriptor
 * 3, accept one connection, check its SO_PEERCRED is PID/UID/GID, then
 * wait for a 'q' byte.
 */
static const char *const PY_PEERCRED_SERVER =
    "import socket, struct, sys\n"
    PY_ADDR
    "want = tuple(map(int, sys.argv[2:5]))\n"
    "ctl = socket.socket(fileno=3)\n"
    "l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
    "l.settimeout(30)\n"
    "l.bind(addr(sys.argv[1]))\n"
    "l.listen()\n"
    "ctl.send(b'r')\n"
    "c, _ = l.accept()\n"
    "c.settimeout(30)\n"
    "got = struct.unpack('3i', c.getsockopt(socket.SOL_SOCKET,\n"
    "                                       socket.SO_PEERCRED, 12))\n"
    "if got != want:\n"
    "    sys.exit('python server: SO_PEERCRED pid/uid/gid %r, want %r'\n"
    "             % (got, want))\n"
    "if c.recv(1) != b'q':\n"
    "    sys.exit('python server: no q byte')\n";

/*
 * argv: PID UID GID FORGED.  Send b'e' (no one has SO_PASSCRED yet);
 * wait for 'g'; send b'x' with its own
 * SCM_CREDENTIALS; turn SO_PASSCRED on and send 'r'; receive b'y' whose
 * credentials must be PID/UID/GID; if FORGED is 1, receive b'z' whose
 * credentials must carry Python's own pid (the C side forged it).
 */
static const char *const PY_CRED =
    "import os, socket, struct, sys\n"
    "s = socket.socket(fileno=3)\n"
    "s.settimeout(30)\n"
    "want = tuple(map(int, sys.argv[1:4]))\n"
    "def recv_cred(data):\n"
    "    msg, anc, flags, _ = s.recvmsg(1, socket.CMSG_SPACE(12))\n"
    "    creds = [struct.unpack('3i', c) for lvl, t, c in anc\n"
    "             if lvl == socket.SOL_SOCKET and\n"
    "             t == socket.SCM_CREDENTIALS and len(c) == 12]\n"
    "    if msg != data or flags & socket.MSG_CTRUNC or len(creds) != 1:\n"
    "        sys.exit('python cred: got %r flags %#x ancillary %r, want %r'\n"
    "                 ' with one SCM_CREDENTIALS' % (msg, flags, anc, data))\n"
    "    return creds[0]\n"
    "s.send(b'e')\n"
    "if s.recv(1) != b'g':\n"
    "    sys.exit('python cred: no go byte')\n"
    "me = (os.getpid(), os.getuid(), os.getgid())\n"
    "s.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS,\n"
    "                    struct.pack('3i', *me))])\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)\n"
    "s.send(b'r')\n"
    "got = recv_cred(b'y')\n"
    "if got != want:\n"
    "    sys.exit('python cred: sockx_send_cred(NULL) gave pid/uid/gid %r,'\n"
    "             ' want %r' % (got, want))\n"
    "if sys.argv[4] == '1':\n"
    "    got = recv_cred(b'z')\n"
    "    if got != me:\n"
    "        sys.exit('python cred: forged credentials arrived as %r,'\n"
    "                 ' want %r' % (got, me))\n";

/* ---------------------------------------------------------------- */
/* Helpers                                                           */
/* ---------------------------------------------------------------- */

static const char *
python(void)
{
	const char *py = getenv("SXT_PYTHON");

	ck_assert_msg(py != NULL && *py != '\0',
	    "SXT_PYTHON is not set (run the test through meson test)");
	ck_assert_msg(access(py, X_OK) == 0, "SXT_PYTHON=%s: %s", py,
	    strerror(errno));
	return py;
}

/*
 * Start Python with script and args (NULL-terminated).  s, if not NULL,
 * becomes Python's descriptor 3 and is closed here (the child owns it).
 */
static pid_t
py_start(sockx *s, const char *script, const char *const *args)
{
	const char *argv[32];
	const char *py = python();
	size_t n = 0;
	pid_t pid;
	int fd = s != NULL ? sockx_fd(s) : -1;

	argv[n++] = py;
	argv[n++] = "-c";
	argv[n++] = script;
	while (args != NULL && *args != NULL) {
		ck_assert_uint_lt(n, sizeof(argv) / sizeof(argv[0]) - 1);
		argv[n++] = *args++;
	}
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* dup2 clears FD_CLOEXEC, except onto itself. */
		if (fd >= 0 && (fd == 3 ? fcntl(3, F_SETFD, 0) :
		    dup2(fd, 3)) < 0)
			_exit(126);
		execv(py, (char *const *)argv);
		dprintf(2, "test-python: cannot run %s: %s\n", py,
		    strerror(errno));
		_exit(127);
	}
	if (s != NULL)
		sockx_close(s);
	return pid;
}

/* Reap Python; it must have exited with status 0. */
static void
py_wait(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "python (pid %ld) %s %d; its message is on stderr", (long)pid,
	    WIFEXITED(st) ? "exited with status" : "was killed by signal",
	    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* The number of open descriptors of this process. */
static int
count_fds(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
			n++;
	closedir(d);
	return n;
}

/* A private directory holding the files f0 .. f<n-1>. */
struct files {
	char dir[PATH_MAX];
	int n;
};

static const char *
file_path(const struct files *f, int i, char *buf, size_t size)
{
	int r = snprintf(buf, size, "%s/f%d", f->dir, i);

	ck_assert(r > 0 && (size_t)r < size);
	return buf;
}

static void
files_make(struct files *f, int n)
{
	char p[PATH_MAX];
	int i, fd;

	sxt_tmpdir(f->dir, sizeof(f->dir));
	f->n = n;
	for (i = 0; i < n; i++) {
		fd = open(file_path(f, i, p, sizeof(p)),
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
}

static void
files_remove(struct files *f)
{
	char p[PATH_MAX];
	int i;

	for (i = 0; i < f->n; i++)
		ck_assert_int_eq(unlink(file_path(f, i, p, sizeof(p))), 0);
	ck_assert_int_eq(rmdir(f->dir), 0);
}

/* Open f0 .. f<n-1> read-only, close-on-exec, into fds. */
static void
files_open(const struct files *f, int *fds, int n)
{
	char p[PATH_MAX];
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = open(file_path(f, i, p, sizeof(p)),
		    O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(fds[i], 0);
	}
}

/*
 * fds[0..n-1] were received: each is f<i> (same st_dev/st_ino), has
 * FD_CLOEXEC, and is closed here.
 */
static void
check_received(const struct files *f, int *fds, size_t n)
{
	struct stat a, b;
	char p[PATH_MAX];
	size_t i;
	int fl;

	for (i = 0; i < n; i++) {
		file_path(f, (int)i, p, sizeof(p));
		ck_assert_msg(fstat(fds[i], &a) == 0,
		    "received fd #%zu (%d): fstat: %s", i, fds[i],
		    strerror(errno));
		ck_assert_int_eq(stat(p, &b), 0);
		ck_assert_msg(a.st_dev == b.st_dev && a.st_ino == b.st_ino,
		    "received fd #%zu (%d) is not %s", i, fds[i], p);
		fl = fcntl(fds[i], F_GETFD);
		ck_assert_msg(fl >= 0 && (fl & FD_CLOEXEC),
		    "received fd #%zu (%d) lacks FD_CLOEXEC", i, fds[i]);
	}
	for (i = 0; i < n; i++)
		ck_assert_int_eq(close(fds[i]), 0);
}

/* Tell the Python sender to send its next message. */
static void
go(sockx *a)
{
	ck_assert_int_eq(sockx_write(a, "g", 1, T_MS), 1);
}

/* CapEff of this process has capability bit cap. */
static int
has_cap(int cap)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "re");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (int)((eff >> cap) & 1);
}

/* ---------------------------------------------------------------- */
/* The peer runs                                                     */
/* ---------------------------------------------------------------- */

START_TEST(py_python_has_the_socket_features)
{
	py_wait(py_start(NULL, PY_PROBE, NULL));
}
END_TEST

/* ---------------------------------------------------------------- */
/* Python -> libsockx: socket.send_fds, sockx_recv_fds               */
/* ---------------------------------------------------------------- */

/*
 * _i: socket type (i / 2) and whether the receiver has SO_PASSCRED on
 * (i % 2; then SCM_CREDENTIALS arrives before SCM_RIGHTS and the fds must
 * still be found).  The capacity is always SOCKX_MAX_FDS: *nfds must
 * become the count received.
 */
START_TEST(py_send_fds_to_sockx_recv_fds)
{
	static const int counts[] = { 1, 3, SOCKX_MAX_FDS };
	const char *args[] = { "send_fds", NULL, "1", "3", "253", NULL };
	int fds[SOCKX_MAX_FDS];
	struct files f;
	char buf[64], want[16];
	size_t i, nfds;
	sockx *a, *b;
	pid_t pid;
	int fd_count;

	files_make(&f, SOCKX_MAX_FDS);
	args[1] = f.dir;
	ck_assert_int_eq(sockx_pair(&a, &b, types[_i / 2]), 0);
	if (_i % 2)
		ck_assert_int_eq(sockx_set_passcred(a, 1), 0);
	pid = py_start(b, PY_SEND, args);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		snprintf(want, sizeof(want), "m%d", counts[i]);
		fd_count = count_fds();
		memset(fds, -1, sizeof(fds));
		nfds = SOCKX_MAX_FDS;
		go(a);
		ck_assert_int_eq(sockx_recv_fds(a, buf, sizeof(buf), fds,
		    &nfds, T_MS), (long)strlen(want));
		ck_assert_mem_eq(buf, want, strlen(want));
		ck_assert_uint_eq(nfds, (size_t)counts[i]);
		ck_assert_int_eq(count_fds(), fd_count + counts[i]);
		check_received(&f, fds, nfds);
	}
	sockx_close(a);
	py_wait(pid);
	files_remove(&f);
}
END_TEST

/* ---------------------------------------------------------------- */
/* libsockx -> Python: sockx_send_fds, socket.recv_fds               */
/* ---------------------------------------------------------------- */

/*
 * sockx_send_fds of 1, 3 and 253 fds over each socket type; Python's
 * socket.recv_fds must get them all, in order, untruncated, and answers
 * "ok N".  The caller's own copies stay open (close() succeeds).
 */
START_TEST(py_sockx_send_fds_to_recv_fds)
{
	static const int counts[] = { 1, 3, SOCKX_MAX_FDS };
	const char *args[] = { NULL, "1", "3", "253", NULL };
	int fds[SOCKX_MAX_FDS];
	struct files f;
	char buf[128], msg[16], want[16];
	sockx *a, *b;
	pid_t pid;
	ssize_t n;
	int i, j;

	files_make(&f, SOCKX_MAX_FDS);
	args[0] = f.dir;
	ck_assert_int_eq(sockx_pair(&a, &b, types[_i]), 0);
	pid = py_start(b, PY_RECV, args);
	for (i = 0; i < 3; i++) {
		snprintf(msg, sizeof(msg), "m%d", counts[i]);
		snprintf(want, sizeof(want), "ok %d", counts[i]);
		files_open(&f, fds, counts[i]);
		ck_assert_int_eq(sockx_send_fds(a, msg, strlen(msg), fds,
		    (size_t)counts[i], T_MS), (long)strlen(msg));
		/* The caller keeps its own descriptors. */
		for (j = 0; j < counts[i]; j++)
			ck_assert_int_eq(close(fds[j]), 0);
		n = sockx_read(a, buf, sizeof(buf) - 1, T_MS);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		ck_assert_msg(strcmp(buf, want) == 0,
		    "python answered \"%s\", want \"%s\"", buf, want);
	}
	sockx_close(a);
	py_wait(pid);
	files_remove(&f);
}
END_TEST

/* ---------------------------------------------------------------- */
/* More descriptors than the capacity                                */
/* ---------------------------------------------------------------- */

/*
 * Python sends more fds than the capacity given to sockx_recv_fds:
 * -EMSGSIZE, *nfds and fds untouched, every fd that arrived closed; the
 * next message (exactly the capacity) is received whole.  On datagram and
 * seqpacket sockets, a message cut by a short buffer (len 1 for "m3") is
 * -EMSGSIZE the same way, with its fds closed.
 */
START_TEST(py_more_fds_than_capacity_is_emsgsize_and_leaks_nothing)
{
	static const struct {
		int sent;
		size_t cap;
		size_t len;	/* 0: the whole buffer */
		int msg_only;	/* only where messages have boundaries */
	} steps[] = {
		{ 1, 0, 0, 0 }, { 0, 0, 0, 0 },
		{ 3, 2, 0, 0 }, { 2, 2, 0, 0 },
		{ SOCKX_MAX_FDS, SOCKX_MAX_FDS - 1, 0, 0 },
		{ SOCKX_MAX_FDS - 1, SOCKX_MAX_FDS - 1, 0, 0 },
		{ 3, 3, 1, 1 }, { 3, 3, 0, 1 },
	};
	enum { NSTEPS = sizeof(steps) / sizeof(steps[0]) };
	const char *args[NSTEPS + 3] = { "send_fds", NULL };
	char counts[NSTEPS][8];
	int fds[SOCKX_MAX_FDS];
	struct files f;
	char buf[64], want[16];
	size_t i, j, n, len, nfds;
	sockx *a, *b;
	pid_t pid;
	int fd_count, stream = types[_i] == SOCK_STREAM;

	files_make(&f, SOCKX_MAX_FDS);
	args[1] = f.dir;
	for (i = n = 0; i < NSTEPS; i++) {
		if (steps[i].msg_only && stream)
			continue;
		snprintf(counts[i], sizeof(counts[i]), "%d", steps[i].sent);
		args[2 + n++] = counts[i];
	}
	args[2 + n] = NULL;
	ck_assert_int_eq(sockx_pair(&a, &b, types[_i]), 0);
	pid = py_start(b, PY_SEND, args);
	for (i = 0; i < NSTEPS; i++) {
		if (steps[i].msg_only && stream)
			continue;
		snprintf(want, sizeof(want), "m%d", steps[i].sent);
		len = steps[i].len > 0 ? steps[i].len : sizeof(buf);
		fd_count = count_fds();
		memset(fds, -1, sizeof(fds));
		nfds = steps[i].cap;
		go(a);
		if ((size_t)steps[i].sent > steps[i].cap ||
		    len < strlen(want)) {
			CHECK_ERR(sockx_recv_fds(a, buf, len,
			    steps[i].cap > 0 ? fds : NULL, &nfds, T_MS),
			    EMSGSIZE);
			ck_assert_uint_eq(nfds, steps[i].cap);
			for (j = 0; j < SOCKX_MAX_FDS; j++)
				ck_assert_int_eq(fds[j], -1);
			ck_assert_msg(count_fds() == fd_count,
			    "step %zu: %d fds open after -EMSGSIZE, %d before",
			    i, count_fds(), fd_count);
			continue;
		}
		ck_assert_int_eq(sockx_recv_fds(a, buf, len,
		    steps[i].cap > 0 ? fds : NULL, &nfds, T_MS),
		    (long)strlen(want));
		ck_assert_mem_eq(buf, want, strlen(want));
		ck_assert_uint_eq(nfds, (size_t)steps[i].sent);
		check_received(&f, fds, nfds);
		ck_assert_int_eq(count_fds(), fd_count);
	}
	sockx_close(a);
	py_wait(pid);
	files_remove(&f);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Descriptors sent to a receive path that takes none                */
/* ---------------------------------------------------------------- */

/*
 * Python sends 3 fds with each message by a plain sock.sendmsg; libsockx
 * receives with sockx_read, sockx_read_full, sockx_recvfrom and
 * sockx_recv_cred (SO_PASSCRED off, then on: credentials and fds in one
 * message), then sockx_read with SO_PASSCRED on.  Each returns the data
 * and leaves the descriptor count unchanged.
 */
START_TEST(py_fds_to_other_receive_paths_are_closed)
{
	const char *args[] = { "sendmsg", NULL, "3", "3", "3", "3", "3",
	    "3", NULL };
	struct sockaddr_storage from;
	struct sockx_cred cred;
	socklen_t fromlen;
	struct files f;
	char buf[64];
	sockx *a, *b;
	pid_t pid;
	ssize_t n;
	int step, fd_count;

	files_make(&f, 3);
	args[1] = f.dir;
	ck_assert_int_eq(sockx_pair(&a, &b, types[_i]), 0);
	pid = py_start(b, PY_SEND, args);
	for (step = 0; step < 6; step++) {
		if (step == 4)
			ck_assert_int_eq(sockx_set_passcred(a, 1), 0);
		fd_count = count_fds();
		memset(buf, 0, sizeof(buf));
		go(a);
		switch (step) {
		case 0:
		case 5:
			n = sockx_read(a, buf, sizeof(buf), T_MS);
			break;
		case 1:
			n = sockx_read_full(a, buf, 2, NULL, T_MS);
			break;
		case 2:
			n = sockx_recvfrom(a, buf, sizeof(buf), &from,
			    &fromlen, T_MS);
			break;
		default:
			n = sockx_recv_cred(a, buf, sizeof(buf), &cred, T_MS);
			if (n < 0)
				break;
			if (step == 3) {
				ck_assert_int_eq(cred.pid, -1);
				ck_assert_uint_eq(cred.uid, (uid_t)-1);
				ck_assert_uint_eq(cred.gid, (gid_t)-1);
			} else {
				ck_assert_int_eq(cred.pid, pid);
				ck_assert_uint_eq(cred.uid, getuid());
				ck_assert_uint_eq(cred.gid, getgid());
			}
			break;
		}
		ck_assert_msg(n == 2, "step %d: received %zd bytes", step, n);
		ck_assert_mem_eq(buf, "m3", 2);
		ck_assert_msg(count_fds() == fd_count,
		    "step %d: %d fds open after the receive, %d before", step,
		    count_fds(), fd_count);
	}
	sockx_close(a);
	py_wait(pid);
	files_remove(&f);
}
END_TEST

/* ---------------------------------------------------------------- */
/* SO_PEERCRED                                                       */
/* ---------------------------------------------------------------- */

/* The unix address of loop index i: 0 abstract, 1 a path in dir. */
static const char *
unix_address(int i, char *buf, size_t size, char *dir, size_t dsize)
{
	if (i == 0)
		return sxt_abstract(buf, size, "py");
	sxt_tmpdir(dir, dsize);
	ck_assert_int_lt(snprintf(buf, size, "%s/sock", dir), (int)size);
	return buf;
}

static void
unix_address_done(int i, const char *addr, const char *dir)
{
	if (i == 0)
		return;
	unlink(addr);
	ck_assert_int_eq(rmdir(dir), 0);
}

/*
 * Python connects to a libsockx listener (abstract name, then a path):
 * Python's SO_PEERCRED is the process that called sockx_listen; libsockx's
 * sockx_peer_cred on the accepted handle is Python's.
 */
START_TEST(py_peer_cred_of_a_python_client)
{
	char addr[PATH_MAX], dir[PATH_MAX], spid[24], suid[24], sgid[24];
	const char *args[] = { addr, spid, suid, sgid, NULL };
	struct sockx_cred cred;
	sockx *l, *c;
	pid_t pid;

	unix_address(_i, addr, sizeof(addr), dir, sizeof(dir));
	ck_assert_int_eq(sockx_listen(&l, addr, 0, 0, 0), 0);
	/* A listener has no peer: never its own credentials. */
	CHECK_ERR(sockx_peer_cred(l, &cred), ENOTCONN);
	snprintf(spid, sizeof(spid), "%ld", (long)getpid());
	snprintf(suid, sizeof(suid), "%ld", (long)geteuid());
	snprintf(sgid, sizeof(sgid), "%ld", (long)getegid());
	pid = py_start(NULL, PY_PEERCRED_CLIENT, args);
	ck_assert_int_eq(sockx_accept(l, &c, T_MS), 0);
	ck_assert_int_eq(sockx_peer_cred(c, &cred), 0);
	ck_assert_int_eq(cred.pid, pid);
	ck_assert_uint_eq(cred.uid, geteuid());
	ck_assert_uint_eq(cred.gid, getegid());
	ck_assert_int_eq(sockx_write(c, "q", 1, T_MS), 1);
	sockx_close(c);
	sockx_close(l);
	py_wait(pid);
	unix_address_done(_i, addr, dir);
}
END_TEST

/*
 * libsockx connects to a Python listener (abstract name, then a path):
 * sockx_peer_cred on the connecting side is Python's; Python sees this
 * process on the connection it accepted.
 */
START_TEST(py_peer_cred_of_a_python_server)
{
	char addr[PATH_MAX], dir[PATH_MAX], spid[24], suid[24], sgid[24];
	const char *args[] = { addr, spid, suid, sgid, NULL };
	struct sockx_cred cred;
	sockx *ctl, *pyctl, *c;
	char r;
	pid_t pid;

	unix_address(_i, addr, sizeof(addr), dir, sizeof(dir));
	snprintf(spid, sizeof(spid), "%ld", (long)getpid());
	snprintf(suid, sizeof(suid), "%ld", (long)geteuid());
	snprintf(sgid, sizeof(sgid), "%ld", (long)getegid());
	ck_assert_int_eq(sockx_pair(&ctl, &pyctl, SOCK_STREAM), 0);
	pid = py_start(pyctl, PY_PEERCRED_SERVER, args);
	ck_assert_int_eq(sockx_read(ctl, &r, 1, T_MS), 1);
	ck_assert_int_eq(r, 'r');
	ck_assert_int_eq(sockx_connect(&c, addr, T_MS), 0);
	ck_assert_int_eq(sockx_peer_cred(c, &cred), 0);
	ck_assert_int_eq(cred.pid, pid);
	ck_assert_uint_eq(cred.uid, geteuid());
	ck_assert_uint_eq(cred.gid, getegid());
	ck_assert_int_eq(sockx_write(c, "q", 1, T_MS), 1);
	sockx_close(c);
	sockx_close(ctl);
	py_wait(pid);
	unix_address_done(_i, addr, dir);
}
END_TEST

/* ---------------------------------------------------------------- */
/* SCM_CREDENTIALS                                                   */
/* ---------------------------------------------------------------- */

/*
 * Python -> libsockx: a byte queued before SO_PASSCRED was on comes with
 * the kernel's placeholder (pid 0, uid/gid 65534): sockx_recv_cred reports
 * none (-1).  After sockx_set_passcred, sockx_recv_cred gives Python's
 * pid/uid/gid (not the pair's creator, which SO_PEERCRED would give).
 * libsockx -> Python: sockx_send_cred with cred NULL arrives as this
 * process's; with CAP_SYS_ADMIN, a cred naming Python's pid arrives as
 * that (so the library did attach what it was given, not just what the
 * kernel adds by itself).
 */
START_TEST(py_scm_credentials_both_ways)
{
	char spid[24], suid[24], sgid[24];
	const char *args[] = { spid, suid, sgid, NULL, NULL };
	int forge = geteuid() == 0 && has_cap(21 /* CAP_SYS_ADMIN */);
	struct sockx_cred cred, forged;
	sockx *a, *b;
	char buf[1];
	pid_t pid;

	snprintf(spid, sizeof(spid), "%ld", (long)getpid());
	snprintf(suid, sizeof(suid), "%ld", (long)geteuid());
	snprintf(sgid, sizeof(sgid), "%ld", (long)getegid());
	args[3] = forge ? "1" : "0";
	ck_assert_int_eq(sockx_pair(&a, &b, types[_i]), 0);
	pid = py_start(b, PY_CRED, args);

	/* 'e' is queued before SO_PASSCRED is on. */
	ck_assert_int_eq(sockx_wait(a, SOCKX_READABLE, T_MS), SOCKX_READABLE);
	ck_assert_int_eq(sockx_set_passcred(a, 1), 0);
	go(a);
	memset(&cred, 0x55, sizeof(cred));
	ck_assert_int_eq(sockx_recv_cred(a, buf, 1, &cred, T_MS), 1);
	ck_assert_int_eq(buf[0], 'e');
	ck_assert_int_eq(cred.pid, -1);
	ck_assert_uint_eq(cred.uid, (uid_t)-1);
	ck_assert_uint_eq(cred.gid, (gid_t)-1);
	memset(&cred, 0x55, sizeof(cred));
	ck_assert_int_eq(sockx_recv_cred(a, buf, 1, &cred, T_MS), 1);
	ck_assert_int_eq(buf[0], 'x');
	ck_assert_int_eq(cred.pid, pid);
	ck_assert_uint_eq(cred.uid, getuid());
	ck_assert_uint_eq(cred.gid, getgid());

	/* Python has SO_PASSCRED on once 'r' arrives. */
	ck_assert_int_eq(sockx_read(a, buf, 1, T_MS), 1);
	ck_assert_int_eq(buf[0], 'r');
	ck_assert_int_eq(sockx_send_cred(a, "y", 1, NULL, T_MS), 1);
	if (forge) {
		forged.pid = pid;
		forged.uid = geteuid();
		forged.gid = getegid();
		ck_assert_int_eq(sockx_send_cred(a, "z", 1, &forged, T_MS),
		    1);
	}
	py_wait(pid);
	sockx_close(a);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("python");
	TCase *tc;

	tc = sx_tcase("peer", 30);
	tcase_add_test(tc, py_python_has_the_socket_features);
	suite_add_tcase(s, tc);

	tc = sx_tcase("fdpass", 30);
	tcase_add_loop_test(tc, py_send_fds_to_sockx_recv_fds, 0, 6);
	tcase_add_loop_test(tc, py_sockx_send_fds_to_recv_fds, 0, 3);
	tcase_add_loop_test(tc,
	    py_more_fds_than_capacity_is_emsgsize_and_leaks_nothing, 0, 3);
	tcase_add_loop_test(tc, py_fds_to_other_receive_paths_are_closed,
	    0, 3);
	suite_add_tcase(s, tc);

	tc = sx_tcase("cred", 30);
	tcase_add_loop_test(tc, py_peer_cred_of_a_python_client, 0, 2);
	tcase_add_loop_test(tc, py_peer_cred_of_a_python_server, 0, 2);
	tcase_add_loop_test(tc, py_scm_credentials_both_ways, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
