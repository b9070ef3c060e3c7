/* SPDX-License-Identifier: MIT */
/*
 * test-listen.c - sockx_listen and sockx_accept: taking over a stale socket
 * file (and never anything else; one winner among racing processes), the
 * file's removal on close, its mode without a moment of wider permissions
 * and without touching the umask, the listen options (V6ONLY, SO_REUSEADDR,
 * backlog, bind-only datagram sockets), autobind and port 0, and accept's
 * timeouts, descriptor flags and immediate resource errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#include "harness.h"
#include "sxtest.h"

/* What a failed call must leave in its out-parameter: this, untouched. */
static char sentinel;
#define SENTINEL ((sockx *)(void *)&sentinel)

/* The three unix socket types and the scheme that names each. */
struct scheme {
	const char *prefix;
	int type;
};

static const struct scheme schemes[] = {
	{ "unix:", SOCK_STREAM },
	{ "unixpacket:", SOCK_SEQPACKET },
	{ "unixgram:", SOCK_DGRAM },
};
#define NSCHEMES ((int)(sizeof(schemes) / sizeof(schemes[0])))

/* a and b, one after the other, in buf. */
static const char *
join(char *buf, size_t size, const char *a, const char *b)
{
	ck_assert_int_lt(snprintf(buf, size, "%s%s", a, b), (int)size);
	return buf;
}

/* A plain AF_UNIX socket of type bound at path, which it creates. */
static int
bind_raw(const char *path, int type)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* A stale socket file at path: its socket is closed, nobody listens. */
static void
make_stale(const char *path, int type)
{
	ck_assert_int_eq(close(bind_raw(path, type)), 0);
}

static struct stat
lstat_ok(const char *path)
{
	struct stat st;

	ck_assert_msg(lstat(path, &st) == 0, "lstat %s: %s", path,
	    strerror(errno));
	return st;
}

static void
assert_gone(const char *path)
{
	struct stat st;

	ck_assert_msg(lstat(path, &st) == -1 && errno == ENOENT,
	    "%s still exists", path);
}

/* The object at path is still the one that was described by was. */
static void
assert_same(const char *path, const struct stat *was)
{
	struct stat st = lstat_ok(path);

	ck_assert_uint_eq(st.st_dev, was->st_dev);
	ck_assert_uint_eq(st.st_ino, was->st_ino);
	ck_assert_uint_eq(st.st_mode, was->st_mode);
	ck_assert_uint_eq(st.st_nlink, was->st_nlink);
	ck_assert_int_eq(st.st_size, was->st_size);
}

/* sockx_listen fails with exactly -err, errno err, and *out untouched. */
static void
assert_listen_fails(const char *address, unsigned flags, unsigned mode,
    int err)
{
	sockx *l = SENTINEL;
	int r;

	errno = 0;
	r = sockx_listen(&l, address, 0, flags, mode);
	ck_assert_msg(r == -err && errno == err,
	    "listen %s flags %#x mode %#o: %d errno %d, not %d", address,
	    flags, mode, r, errno, -err);
	ck_assert_ptr_eq(l, SENTINEL);
}

static int
int_opt(sockx *s, int level, int name)
{
	socklen_t n = sizeof(int);
	int v = -1;

	ck_assert_int_eq(getsockopt(sockx_fd(s), level, name, &v, &n), 0);
	return v;
}

/* A plain blocking connect to address: the descriptor, or -errno. */
static int
raw_connect(const char *address)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, type, r;

	ck_assert_int_eq(sockx_addr_parse(address, &ss, &len, &type), 0);
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return fd;
	r = -errno;
	close(fd);
	return r;
}

/* The text of the address l is bound to. */
static const char *
local_text(sockx *l, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int n;

	ck_assert_int_eq(sockx_local_addr(l, &ss, &len), 0);
	n = sockx_addr_format((struct sockaddr *)&ss, len, buf, size);
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, (int)size);
	return buf;
}

static int
local_port(sockx *l)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(sockx_local_addr(l, &ss, &len), 0);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * l serves address: a client of sockx_connect gets a byte through to it
 * (to a connection l accepts, unless l is a datagram socket).
 */
static void
assert_serves(sockx *l, const char *address)
{
	struct sockaddr_storage ss;
	socklen_t len;
	sockx *c, *a;
	char b = 0;
	int type;

	ck_assert_int_eq(sockx_addr_parse(address, &ss, &len, &type), 0);
	ck_assert_int_eq(sockx_connect(&c, address, 2000), 0);
	ck_assert_int_eq(sockx_write(c, "x", 1, 2000), 1);
	if (type == SOCK_DGRAM) {
		ck_assert_int_eq(sockx_read(l, &b, 1, 2000), 1);
	} else {
		ck_assert_int_eq(sockx_accept(l, &a, 2000), 0);
		ck_assert_int_eq(sockx_read(a, &b, 1, 2000), 1);
		ck_assert_int_eq(sockx_close(a), 0);
	}
	ck_assert_int_eq(b, 'x');
	ck_assert_int_eq(sockx_close(c), 0);
}

/* Nothing waits on l: no connection, or no datagram. */
static void
assert_idle(sockx *l, int type)
{
	sockx *a = SENTINEL;
	char b;

	if (type == SOCK_DGRAM)
		ck_assert_int_eq(sockx_read(l, &b, 1, 0), -ETIMEDOUT);
	else
		ck_assert_int_eq(sockx_accept(l, &a, 0), -ETIMEDOUT);
	ck_assert_ptr_eq(a, SENTINEL);
}

/* ------------------------------------------------------------------ */
/* SOCKX_UNLINK_STALE                                                  */
/* ------------------------------------------------------------------ */

/* A socket file nobody listens on is replaced by a working listener. */
START_TEST(listen_stale_socket_file_taken_over)
{
	const struct scheme *sc = &schemes[_i];
	char dir[128], path[160], addr[192];
	sockx *l;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	join(addr, sizeof(addr), sc->prefix, path);
	make_stale(path, sc->type);
	ck_assert_int_eq(sockx_listen(&l, addr, 0, SOCKX_UNLINK_STALE, 0), 0);
	assert_serves(l, addr);
	ck_assert_int_eq(sockx_close(l), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * A live listener is never taken over, and keeps serving.  The probe that
 * found it alive left one connection in its queue, already closed.
 */
START_TEST(listen_stale_live_listener_kept)
{
	const struct scheme *sc = &schemes[_i];
	char dir[128], path[160], addr[192], b;
	struct stat was;
	sockx *live, *p;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	join(addr, sizeof(addr), sc->prefix, path);
	ck_assert_int_eq(sockx_listen(&live, addr, 0, 0, 0), 0);
	was = lstat_ok(path);
	assert_listen_fails(addr, SOCKX_UNLINK_STALE, 0, EADDRINUSE);
	assert_same(path, &was);
	if (sc->type != SOCK_DGRAM) {
		ck_assert_int_eq(sockx_accept(live, &p, 0), 0);
		ck_assert_int_eq(sockx_read(p, &b, 1, 1000), 0);
		ck_assert_int_eq(sockx_close(p), 0);
	}
	assert_serves(live, addr);
	assert_idle(live, sc->type);
	ck_assert_int_eq(sockx_close(live), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * A live stream listener probed with another socket type refuses with
 * EPROTOTYPE, not ECONNREFUSED: it is alive and stays.
 */
START_TEST(listen_stale_live_other_type_kept)
{
	char dir[128], path[160], addr[192];
	struct stat was;
	sockx *live;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	ck_assert_int_eq(sockx_listen(&live, path, 0, 0, 0), 0);
	was = lstat_ok(path);
	assert_listen_fails(join(addr, sizeof(addr), "unixpacket:", path),
	    SOCKX_UNLINK_STALE, 0, EADDRINUSE);
	assert_listen_fails(join(addr, sizeof(addr), "unixgram:", path),
	    SOCKX_UNLINK_STALE, 0, EADDRINUSE);
	assert_same(path, &was);
	assert_serves(live, path);
	assert_idle(live, SOCK_STREAM);
	ck_assert_int_eq(sockx_close(live), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * A live listener whose backlog is full (the probe gets EAGAIN, not
 * ECONNREFUSED) is alive too: -EADDRINUSE, and it serves again once its
 * queue drains.
 */
START_TEST(listen_stale_busy_listener_kept)
{
	char dir[128], path[160];
	struct stat was;
	int fds[8], n, i;
	sockx *live, *a;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	ck_assert_int_eq(sockx_listen(&live, path, 1, 0, 0), 0);
	n = sxt_fill_backlog(path, fds, 8);
	was = lstat_ok(path);
	assert_listen_fails(path, SOCKX_UNLINK_STALE, 0, EADDRINUSE);
	assert_same(path, &was);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sockx_accept(live, &a, 0), 0);
		ck_assert_int_eq(sockx_close(a), 0);
	}
	sxt_close_all(fds, n);
	assert_serves(live, path);
	assert_idle(live, SOCK_STREAM);
	ck_assert_int_eq(sockx_close(live), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* A regular file at the path is never removed, nor written. */
START_TEST(listen_stale_regular_file_kept)
{
	static const char text[] = "not a socket\n";
	char dir[128], path[160], buf[64];
	struct stat was;
	int fd;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1),
	    (ssize_t)sizeof(text) - 1);
	ck_assert_int_eq(close(fd), 0);
	was = lstat_ok(path);
	assert_listen_fails(path, SOCKX_UNLINK_STALE, 0, EADDRINUSE);
	assert_listen_fails(path, SOCKX_UNLINK_STALE | SOCKX_UNLINK_ON_CLOSE,
	    0600, EADDRINUSE);
	assert_same(path, &was);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(text) - 1);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(memcmp(buf, text, sizeof(text) - 1), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* A directory at the path is never removed. */
START_TEST(listen_stale_directory_kept)
{
	char dir[128], path[160], inner[192];
	struct stat was;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	/* A file inside: rmdir() would not remove it, but a bug might try. */
	make_stale(join(inner, sizeof(inner), path, "/inner"), SOCK_STREAM);
	was = lstat_ok(path);
	assert_listen_fails(path, SOCKX_UNLINK_STALE, 0, EADDRINUSE);
	assert_same(path, &was);
	ck_assert(S_ISSOCK(lstat_ok(inner).st_mode));
	ck_assert_int_eq(unlink(inner), 0);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * A symlink is never removed, even one that leads to a stale socket (nor
 * is its target), nor a dangling one.
 */
START_TEST(listen_stale_symlink_kept)
{
	char dir[128], path[160], target[160], buf[160];
	struct stat link_was, target_was;
	ssize_t n;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	join(target, sizeof(target), dir, "/target.sock");
	make_stale(target, SOCK_STREAM);
	ck_assert_int_eq(symlink(target, path), 0);
	link_was = lstat_ok(path);
	target_was = lstat_ok(target);
	assert_listen_fails(path, SOCKX_UNLINK_STALE, 0, EADDRINUSE);
	assert_same(path, &link_was);
	assert_same(target, &target_was);
	n = readlink(path, buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)strlen(target));
	ck_assert_int_eq(memcmp(buf, target, (size_t)n), 0);

	ck_assert_int_eq(unlink(target), 0);
	assert_listen_fails(path, SOCKX_UNLINK_STALE, 0, EADDRINUSE);
	assert_same(path, &link_was);
	assert_gone(target);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Without the flag even a stale socket file stays where it is. */
START_TEST(listen_stale_without_flag_kept)
{
	const struct scheme *sc = &schemes[_i];
	char dir[128], path[160], addr[192];
	struct stat was;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	join(addr, sizeof(addr), sc->prefix, path);
	make_stale(path, sc->type);
	was = lstat_ok(path);
	assert_listen_fails(addr, 0, 0, EADDRINUSE);
	assert_listen_fails(addr, SOCKX_UNLINK_ON_CLOSE, 0, EADDRINUSE);
	assert_same(path, &was);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

#define RACE_ROUNDS 100
#define RACE_TAKERS 4

/*
 * One taker of the race, in a child process: wait for the start, try to
 * take over path, report the result, and hold a won listener until the
 * parent closes hold.  The exit status says whether the result was one
 * of the two allowed ones with errno to match.
 */
static void
race_taker(const char *path, int go, int result, int hold)
{
	sockx *s = NULL;
	char c;
	int r, ok;

	if (read(go, &c, 1) != 1)
		_exit(2);
	r = sockx_listen(&s, path, 0, SOCKX_UNLINK_STALE, 0);
	ok = r == 0 || (r == -EADDRINUSE && errno == EADDRINUSE);
	if (write(result, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(3);
	if (r == 0) {
		/* End of file: the parent has seen every result. */
		if (read(hold, &c, 1) != 0)
			_exit(4);
		if (sockx_close(s) != 0)
			_exit(5);
	}
	_exit(ok ? 0 : 1);
}

/* One round: RACE_TAKERS processes take over one stale file at once. */
static void
race_round(const char *path)
{
	int go[2], result[2], hold[2], r, i, status, won = 0, lost = 0;
	pid_t pid[RACE_TAKERS];
	sockx *c;

	make_stale(path, SOCK_STREAM);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(result, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	for (i = 0; i < RACE_TAKERS; i++) {
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			close(go[1]);
			close(result[0]);
			close(hold[1]);
			race_taker(path, go[0], result[1], hold[0]);
		}
	}
	close(go[0]);
	close(result[1]);
	close(hold[0]);
	/* One write wakes every taker as nearly at once as it can. */
	ck_assert_int_eq(write(go[1], "gggg", RACE_TAKERS), RACE_TAKERS);
	close(go[1]);
	for (i = 0; i < RACE_TAKERS; i++) {
		ck_assert_int_eq(read(result[0], &r, sizeof(r)),
		    (ssize_t)sizeof(r));
		if (r == 0)
			won++;
		else if (r == -EADDRINUSE)
			lost++;
	}
	/* The winner still holds its listener: the path is alive. */
	ck_assert_int_eq(sockx_connect(&c, path, 2000), 0);
	ck_assert_int_eq(sockx_close(c), 0);
	close(hold[1]);
	close(result[0]);
	for (i = 0; i < RACE_TAKERS; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "taker %d: status %#x", i, status);
	}
	ck_assert_int_eq(won, 1);
	ck_assert_int_eq(lost, RACE_TAKERS - 1);
	/* The winner closed without SOCKX_UNLINK_ON_CLOSE. */
	ck_assert_int_eq(unlink(path), 0);
}

/* Of processes that take over one stale path at once, exactly one wins. */
START_TEST(listen_stale_race_one_winner)
{
	char dir[128], path[160];
	int round;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	for (round = 0; round < RACE_ROUNDS; round++)
		race_round(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* SOCKX_UNLINK_ON_CLOSE                                               */
/* ------------------------------------------------------------------ */

/*
 * sockx_close (even _i) and sockx_abort (odd _i) remove the file, for each
 * unix socket type.
 */
START_TEST(listen_unlink_on_close_removes_file)
{
	const struct scheme *sc = &schemes[_i / 2];
	char dir[128], path[160], addr[192];
	sockx *l;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	join(addr, sizeof(addr), sc->prefix, path);
	ck_assert_int_eq(sockx_listen(&l, addr, 0, SOCKX_UNLINK_ON_CLOSE, 0),
	    0);
	ck_assert(S_ISSOCK(lstat_ok(path).st_mode));
	if (_i % 2 == 0)
		ck_assert_int_eq(sockx_close(l), 0);
	else
		ck_assert_int_eq(sockx_abort(l), 0);
	assert_gone(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Without the flag, closing leaves the file. */
START_TEST(listen_no_unlink_flag_keeps_file)
{
	char dir[128], path[160];
	struct stat was;
	sockx *l;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	ck_assert_int_eq(sockx_listen(&l, path, 0, 0, 0), 0);
	was = lstat_ok(path);
	ck_assert_int_eq(sockx_close(l), 0);
	assert_same(path, &was);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(sockx_listen(&l, path, 0, 0, 0), 0);
	was = lstat_ok(path);
	ck_assert_int_eq(sockx_abort(l), 0);
	assert_same(path, &was);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* sockx_release hands the socket over: the file stays, even after close. */
START_TEST(listen_release_keeps_file)
{
	char dir[128], path[160];
	struct stat was;
	sockx *l;
	int fd;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	ck_assert_int_eq(sockx_listen(&l, path, 0, SOCKX_UNLINK_ON_CLOSE, 0),
	    0);
	was = lstat_ok(path);
	fd = sockx_release(l);
	ck_assert_int_ge(fd, 0);
	assert_same(path, &was);
	ck_assert_int_eq(close(fd), 0);
	assert_same(path, &was);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * A file that replaced the listener's own is someone else's: closing the
 * listener leaves it.  (The old inode stays allocated while the listener
 * is open, so the new file cannot have its number.)
 */
START_TEST(listen_unlink_on_close_spares_replacement)
{
	char dir[128], path[160];
	struct stat was;
	sockx *l;
	int fd;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	ck_assert_int_eq(sockx_listen(&l, path, 0, SOCKX_UNLINK_ON_CLOSE, 0),
	    0);
	ck_assert_int_eq(unlink(path), 0);
	fd = bind_raw(path, SOCK_STREAM);
	was = lstat_ok(path);
	ck_assert_int_eq(sockx_close(l), 0);
	assert_same(path, &was);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * Only the process that bound the file removes it: a forked child that
 * closes (even _i) or aborts (odd _i) its inherited copy of the listener
 * leaves the parent's file, which still serves; the parent's own close
 * then removes it.  _i / 2 == 1: a path longer than sun_path.
 */
START_TEST(listen_unlink_on_close_only_by_creator)
{
	char dir[128], deep[PATH_MAX], path[PATH_MAX + 16];
	struct stat was;
	sockx *l, *c, *a;
	pid_t pid;
	int st;

	sxt_tmpdir(dir, sizeof(dir));
	snprintf(deep, sizeof(deep), "%s", dir);
	if (_i / 2 == 1)
		sxt_deep_dirs(dir, deep, sizeof(deep));
	join(path, sizeof(path), deep, "/s.sock");
	ck_assert_int_eq(sockx_listen(&l, path, 0, SOCKX_UNLINK_ON_CLOSE, 0),
	    0);
	was = lstat_ok(path);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit((_i % 2 == 0 ? sockx_close(l) : sockx_abort(l)) == 0 ?
		    0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_same(path, &was);
	ck_assert_int_eq(sockx_connect(&c, path, 1000), 0);
	ck_assert_int_eq(sockx_accept(l, &a, 1000), 0);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(sockx_close(c), 0);
	ck_assert_int_eq(sockx_close(l), 0);
	assert_gone(path);
	if (_i / 2 == 1)
		sxt_remove_deep_dirs(dir, deep);
	else
		ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* mode                                                                */
/* ------------------------------------------------------------------ */

#define MODE_ROUNDS 300

/*
 * A thread that watches one path with stat() and counts every sight of
 * a mode with a bit outside allowed.
 */
struct watch {
	const char *path;
	mode_t allowed;
	atomic_int stop;
	pthread_barrier_t start;
	unsigned long sights;	/* stat() found the file */
	unsigned long wider;	/* ... with a bit outside allowed */
	mode_t worst;		/* the last such mode */
	int error;		/* an errno other than ENOENT, or 0 */
};

static void *
watch_mode(void *arg)
{
	struct watch *w = arg;
	struct stat st;

	pthread_barrier_wait(&w->start);
	while (!atomic_load(&w->stop)) {
		/*
		 * Valgrind runs one thread at a time and hands over only
		 * at calls that may block: without this the main thread
		 * could wait for minutes.  Elsewhere it costs little.
		 */
		sched_yield();
		if (stat(w->path, &st) < 0) {
			if (errno != ENOENT)
				w->error = errno;
			continue;
		}
		w->sights++;
		if ((st.st_mode & 07777 & ~w->allowed) != 0) {
			w->wider++;
			w->worst = st.st_mode & 07777;
		}
	}
	return NULL;
}

/*
 * No moment with wider permissions: with umask 0 the kernel would create
 * the file 0777 if the mode were set only after bind(), and the watcher
 * would see it.  Every listener is exactly 0600 when sockx_listen returns.
 */
START_TEST(listen_mode_never_wider)
{
	char dir[128], path[160];
	struct watch w;
	pthread_t t;
	mode_t old;
	sockx *l;
	int i, exact = 0;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	memset(&w, 0, sizeof(w));
	w.path = path;
	w.allowed = 0600;
	atomic_init(&w.stop, 0);
	ck_assert_int_eq(pthread_barrier_init(&w.start, NULL, 2), 0);
	old = umask(0);
	ck_assert_int_eq(pthread_create(&t, NULL, watch_mode, &w), 0);
	pthread_barrier_wait(&w.start);
	for (i = 0; i < MODE_ROUNDS; i++) {
		ck_assert_int_eq(sockx_listen(&l, path, 1,
		    SOCKX_UNLINK_ON_CLOSE, 0600), 0);
		if ((lstat_ok(path).st_mode & 07777) == 0600)
			exact++;
		ck_assert_int_eq(sockx_close(l), 0);
	}
	atomic_store(&w.stop, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(pthread_barrier_destroy(&w.start), 0);
	ck_assert_uint_eq(umask(old), 0);
	ck_assert_int_eq(w.error, 0);
	ck_assert_msg(w.wider == 0, "mode %#o seen %lu times in %lu sights",
	    w.worst, w.wider, w.sights);
	ck_assert_int_eq(exact, MODE_ROUNDS);
	assert_gone(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* The process umask from /proc, read without changing it; -1 if unknown. */
static int
read_umask(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nUmask:");
	return p == NULL ? -1 : (int)strtol(p + 7, NULL, 8);
}

/* A thread that reads the umask until stop and counts other values. */
struct umask_watch {
	int expect;
	atomic_int stop;
	pthread_barrier_t start;
	unsigned long reads;
	unsigned long changed;
	int seen;		/* the last other value */
};

static void *
watch_umask(void *arg)
{
	struct umask_watch *w = arg;
	int m;

	pthread_barrier_wait(&w->start);
	while (!atomic_load(&w->stop)) {
		m = read_umask();
		w->reads++;
		if (m != w->expect) {
			w->changed++;
			w->seen = m;
		}
	}
	return NULL;
}

/*
 * With umask 077, mode 0660 still ends exactly 0660 (the kernel narrows
 * the new file by the umask; the library widens it back), and the umask,
 * which other threads share, is never changed, not even for a moment.
 */
START_TEST(listen_mode_widened_past_umask)
{
	char dir[128], path[160];
	struct umask_watch w;
	pthread_t t;
	mode_t old;
	sockx *l;
	int i;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	old = umask(077);
	memset(&w, 0, sizeof(w));
	w.expect = 077;
	atomic_init(&w.stop, 0);
	ck_assert_int_eq(read_umask(), 077);
	ck_assert_int_eq(pthread_barrier_init(&w.start, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, watch_umask, &w), 0);
	pthread_barrier_wait(&w.start);
	for (i = 0; i < MODE_ROUNDS; i++) {
		ck_assert_int_eq(sockx_listen(&l, path, 1,
		    SOCKX_UNLINK_ON_CLOSE, 0660), 0);
		ck_assert_uint_eq(lstat_ok(path).st_mode & 07777, 0660);
		ck_assert_int_eq(sockx_close(l), 0);
	}
	atomic_store(&w.stop, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(pthread_barrier_destroy(&w.start), 0);
	ck_assert_uint_eq(umask(old), 077);
	ck_assert_msg(w.changed == 0, "umask %#o seen %lu times in %lu reads",
	    w.seen, w.changed, w.reads);
	assert_gone(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * Without /proc, glibc's fchmodat(AT_SYMLINK_NOFOLLOW) cannot work: the
 * mode is still widened to exactly 0660 (in a child with a private mount
 * namespace whose /proc is unmounted).
 */
START_TEST(listen_mode_widened_without_proc)
{
	char dir[128], path[160];
	struct stat st;
	sockx *l;
	pid_t pid;
	int status, r;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		umask(022);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
		    umount2("/proc", MNT_DETACH) < 0)
			_exit(2);
		r = sockx_listen(&l, path, 0, 0, 0660);
		r = r == 0 && lstat(path, &st) == 0 &&
		    (st.st_mode & 07777) == 0660 ? 0 : 1;
		sockx_close(l);
		_exit(r);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 2,
	    "cannot unmount /proc in a private mount namespace");
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* mode 0 keeps the kernel's choice, 0777 & ~umask. */
START_TEST(listen_mode_zero_keeps_default)
{
	char dir[128], path[160];
	mode_t old;
	sockx *l;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	old = umask(022);
	ck_assert_int_eq(sockx_listen(&l, path, 0, SOCKX_UNLINK_ON_CLOSE, 0),
	    0);
	ck_assert_uint_eq(lstat_ok(path).st_mode & 07777, 0755);
	ck_assert_int_eq(sockx_close(l), 0);
	umask(027);
	ck_assert_int_eq(sockx_listen(&l, path, 0, SOCKX_UNLINK_ON_CLOSE, 0),
	    0);
	ck_assert_uint_eq(lstat_ok(path).st_mode & 07777, 0750);
	ck_assert_int_eq(sockx_close(l), 0);
	ck_assert_uint_eq(umask(old), 027);
	assert_gone(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * A mode where no file is made, a mode beyond 0777, unknown flags, NULL
 * out or address: -EINVAL, *out untouched, and nothing is created.
 */
START_TEST(listen_bad_arguments_einval)
{
	char dir[128], path[160], name[64], addr[96];
	sockx *l = SENTINEL;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	sxt_abstract(name, sizeof(name), "mode");
	assert_listen_fails(name, 0, 0600, EINVAL);
	assert_listen_fails(join(addr, sizeof(addr), "unixgram:", name), 0,
	    0600, EINVAL);
	assert_listen_fails("@", 0, 0600, EINVAL);
	assert_listen_fails("tcp:127.0.0.1:0", 0, 0600, EINVAL);
	assert_listen_fails("tcp:[::1]:0", 0, 0600, EINVAL);
	assert_listen_fails("udp:127.0.0.1:0", 0, 0600, EINVAL);
	assert_listen_fails(path, 0, 01777, EINVAL);
	assert_listen_fails(path, 0, 04600, EINVAL);
	assert_listen_fails(path, 0, 010600, EINVAL);
	assert_listen_fails(path, 0x8, 0, EINVAL);
	assert_listen_fails(path, SOCKX_UNLINK_STALE | 0x80000000u, 0600,
	    EINVAL);
	assert_listen_fails(name, 0x8, 0, EINVAL);
	assert_listen_fails("not an address", 0, 0, EINVAL);
	assert_gone(path);

	errno = 0;
	ck_assert_int_eq(sockx_listen(NULL, path, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(sockx_listen(&l, NULL, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_eq(l, SENTINEL);
	assert_gone(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * Fault injection for the paths after bind(): in a child process only,
 * a seccomp filter makes the system calls nrs fail with err.  Returns 0,
 * or -1 where the system has no seccomp filters.
 */
#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef NATIVE_AUDIT_ARCH
static int
deny_syscalls(const long *nrs, size_t n, int err)
{
	struct sock_filter f[32];
	struct sock_fprog prog;
	size_t i, k = 0;

	if (n > 12)
		return -1;
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    NATIVE_AUDIT_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	for (i = 0; i < n; i++) {
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, (unsigned)nrs[i], 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA));
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)k;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -1;
	return 0;
}

/*
 * In a child with the system calls nrs failing with err, and umask 077:
 * sockx_listen(path, mode) must fail with exactly -err.  Returns 0 when
 * it did, 77 without seccomp, anything else otherwise.
 */
static int
listen_with_denied(const char *path, unsigned mode, const long *nrs,
    size_t n, int err)
{
	sockx *l = SENTINEL;
	pid_t pid;
	int status, r;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		umask(077);
		if (deny_syscalls(nrs, n, err) < 0)
			_exit(77);
		r = sockx_listen(&l, path, 0, 0, mode);
		_exit(r == -err && errno == err && l == SENTINEL ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}
#endif

/* A listen(2) that fails after bind() created the file: the file goes. */
START_TEST(listen_failure_after_bind_removes_file)
{
#ifdef NATIVE_AUDIT_ARCH
	static const long nrs[] = { __NR_listen };
	char dir[128], path[160];
	int r;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	r = listen_with_denied(path, 0, nrs, 1, ENOBUFS);
	/* A test that cannot run fails: a skip must not count as a pass. */
	ck_assert_msg(r != 77, "no seccomp filters here: cannot inject");
	ck_assert_int_eq(r, 0);
	assert_gone(path);
	ck_assert_int_eq(rmdir(dir), 0);
#else
	ck_abort_msg("no seccomp audit arch for this CPU: cannot inject");
#endif
}
END_TEST

/*
 * The mode cannot be widened past the umask after bind() (chmod fails):
 * the listen fails and the file it created goes.
 */
START_TEST(listen_chmod_failure_removes_file)
{
#ifdef NATIVE_AUDIT_ARCH
	static const long nrs[] = {
#ifdef __NR_chmod
		__NR_chmod,
#endif
#ifdef __NR_fchmodat2
		__NR_fchmodat2,
#endif
		__NR_fchmodat,
	};
	char dir[128], path[160];
	struct stat st;
	int r, gone;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	r = listen_with_denied(path, 0660, nrs, sizeof(nrs) / sizeof(nrs[0]),
	    EROFS);
	gone = lstat(path, &st) < 0 && errno == ENOENT;
	if (!gone)
		unlink(path);
	rmdir(dir);
	ck_assert_msg(r != 77, "no seccomp filters here: cannot inject");
	ck_assert_int_eq(r, 0);
	ck_assert_msg(gone, "the socket file is left behind");
#else
	ck_abort_msg("no seccomp audit arch for this CPU: cannot inject");
#endif
}
END_TEST

/* ------------------------------------------------------------------ */
/* Options and backlog                                                 */
/* ------------------------------------------------------------------ */

/* SOCKX_V6ONLY: an IPv6 wildcard listener that IPv4 cannot reach. */
START_TEST(listen_v6only_refuses_ipv4)
{
	char addr[64];
	sockx *l;
	int port;

	ck_assert_int_eq(sockx_listen(&l, "tcp:[::]:0", 0, SOCKX_V6ONLY, 0),
	    0);
	ck_assert_int_eq(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	port = local_port(l);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	ck_assert_int_eq(raw_connect(addr), -ECONNREFUSED);
	snprintf(addr, sizeof(addr), "[::1]:%d", port);
	assert_serves(l, addr);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/*
 * Without the flag the kernel default stays; where that is dual-stack
 * (net.ipv6.bindv6only = 0), an IPv4 client is accepted, seen as a
 * v4-mapped address.
 */
START_TEST(listen_default_dual_stack_accepts_ipv4)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char addr[64];
	sockx *l, *c, *a;
	FILE *f;
	int v6only = -1;

	f = fopen("/proc/sys/net/ipv6/bindv6only", "re");
	if (f != NULL) {
		if (fscanf(f, "%d", &v6only) != 1)
			v6only = -1;
		fclose(f);
	}
	ck_assert_int_eq(sockx_listen(&l, "tcp:[::]:0", 0, 0, 0), 0);
	if (v6only >= 0)
		ck_assert_int_eq(int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY),
		    v6only != 0);
	if (v6only == 0) {
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", local_port(l));
		ck_assert_int_eq(sockx_connect(&c, addr, 2000), 0);
		ck_assert_int_eq(sockx_accept(l, &a, 2000), 0);
		ck_assert_int_eq(sockx_peer_addr(a, &ss, &len), 0);
		ck_assert_int_eq(ss.ss_family, AF_INET6);
		ck_assert(IN6_IS_ADDR_V4MAPPED(
		    &((struct sockaddr_in6 *)&ss)->sin6_addr));
		ck_assert_int_eq(sockx_close(a), 0);
		ck_assert_int_eq(sockx_close(c), 0);
	}
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* TCP listeners set SO_REUSEADDR, on both families. */
START_TEST(listen_tcp_sets_reuseaddr)
{
	static const char *const addrs[] = {
		"tcp:127.0.0.1:0", "tcp:[::1]:0", "0.0.0.0:0",
	};
	sockx *l;
	size_t i;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		ck_assert_int_eq(sockx_listen(&l, addrs[i], 0, 0, 0), 0);
		ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_REUSEADDR), 1);
		ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
		ck_assert_int_eq(sockx_close(l), 0);
	}
}
END_TEST

/* Stream and seqpacket unix listeners listen. */
START_TEST(listen_unix_stream_listens)
{
	char dir[128], path[160], name[64], addr[96];
	sockx *l;

	sxt_tmpdir(dir, sizeof(dir));
	join(path, sizeof(path), dir, "/s.sock");
	ck_assert_int_eq(sockx_listen(&l, path, 0, SOCKX_UNLINK_ON_CLOSE, 0),
	    0);
	ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
	ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	ck_assert_int_eq(sockx_close(l), 0);
	sxt_abstract(name, sizeof(name), "packet");
	join(addr, sizeof(addr), "unixpacket:", name);
	ck_assert_int_eq(sockx_listen(&l, addr, 0, 0, 0), 0);
	ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
	ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_TYPE), SOCK_SEQPACKET);
	assert_serves(l, addr);
	ck_assert_int_eq(sockx_close(l), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * A datagram "listener" is bound but does not listen, and receives what is
 * sent to its address, with the sender's address.  _i: 0 unixgram, 1 udp.
 */
START_TEST(listen_datagram_bound_not_listening)
{
	struct sockaddr_storage to, from, self;
	socklen_t tolen, fromlen, selflen = sizeof(self);
	char name[64], addr[96], b = 0;
	sa_family_t family = AF_UNIX;
	sockx *l;
	int fd;

	if (_i == 0)
		join(addr, sizeof(addr), "unixgram:",
		    sxt_abstract(name, sizeof(name), "gram"));
	else
		join(addr, sizeof(addr), "udp:127.0.0.1:0", "");
	ck_assert_int_eq(sockx_listen(&l, addr, 0, 0, 0), 0);
	ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_ACCEPTCONN), 0);
	ck_assert_int_eq(int_opt(l, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	ck_assert_int_eq(sockx_local_addr(l, &to, &tolen), 0);
	ck_assert_uint_gt(tolen, sizeof(sa_family_t));
	if (_i == 1)
		ck_assert_int_ne(local_port(l), 0);
	/* The sender gets a name (autobind, or port 0) to compare with. */
	memset(&self, 0, sizeof(self));
	if (_i == 1) {
		self = to;
		((struct sockaddr_in *)&self)->sin_port = 0;
		selflen = tolen;
	} else {
		memcpy(&self, &family, sizeof(family));
		selflen = sizeof(family);
	}
	fd = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&self, selflen), 0);
	selflen = sizeof(self);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&self, &selflen),
	    0);
	ck_assert_int_eq(sendto(fd, "d", 1, 0, (struct sockaddr *)&to, tolen),
	    1);
	ck_assert_int_eq(sockx_recvfrom(l, &b, 1, &from, &fromlen, 2000), 1);
	ck_assert_int_eq(b, 'd');
	ck_assert_uint_eq(fromlen, selflen);
	ck_assert_int_eq(memcmp(&from, &self, selflen), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* Flags that do not apply to the address are ignored. */
START_TEST(listen_inapplicable_flags_ignored)
{
	char name[64];
	sockx *l;

	ck_assert_int_eq(sockx_listen(&l, "tcp:127.0.0.1:0", 0,
	    SOCKX_V6ONLY | SOCKX_UNLINK_STALE | SOCKX_UNLINK_ON_CLOSE, 0), 0);
	ck_assert_int_eq(sockx_close(l), 0);
	sxt_abstract(name, sizeof(name), "flags");
	ck_assert_int_eq(sockx_listen(&l, name, 0,
	    SOCKX_V6ONLY | SOCKX_UNLINK_STALE | SOCKX_UNLINK_ON_CLOSE, 0), 0);
	assert_serves(l, name);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

#define MANY_CLIENTS 16

/*
 * backlog <= 0 means SOMAXCONN: more than a handful of clients wait without
 * an accept (a literal backlog of 0 admits only one on Linux).
 */
START_TEST(listen_backlog_zero_is_somaxconn)
{
	static const int backlogs[] = { 0, -1, INT_MIN };
	struct sockaddr_storage ss;
	socklen_t len;
	char name[64];
	int fds[MANY_CLIENTS], i;
	sockx *l, *a;

	sxt_abstract(name, sizeof(name), "backlog");
	ck_assert_int_eq(sockx_addr_parse(name, &ss, &len, NULL), 0);
	ck_assert_int_eq(sockx_listen(&l, name, backlogs[_i], 0, 0), 0);
	for (i = 0; i < MANY_CLIENTS; i++) {
		fds[i] = socket(AF_UNIX,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fds[i], 0);
		ck_assert_msg(connect(fds[i], (struct sockaddr *)&ss, len) == 0,
		    "client %d: %s", i, strerror(errno));
	}
	for (i = 0; i < MANY_CLIENTS; i++) {
		ck_assert_int_eq(sockx_accept(l, &a, 0), 0);
		ck_assert_int_eq(sockx_close(a), 0);
	}
	sxt_close_all(fds, MANY_CLIENTS);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* A positive backlog is passed on: backlog 1 holds two clients on Linux. */
START_TEST(listen_backlog_one_holds_two)
{
	char name[64];
	int fds[8];
	sockx *l;

	sxt_abstract(name, sizeof(name), "backlog");
	ck_assert_int_eq(sockx_listen(&l, name, 1, 0, 0), 0);
	ck_assert_int_eq(sxt_fill_backlog(name, fds, 8), 2);
	sxt_close_all(fds, 2);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* sockx_accept                                                        */
/* ------------------------------------------------------------------ */

/* Nothing pending: -ETIMEDOUT after the timeout, waiting, not spinning. */
START_TEST(listen_accept_timeout_waits_without_spinning)
{
	double t0, c0, elapsed, cpu;
	char name[64];
	sockx *l, *a = SENTINEL;
	int r, e;

	sxt_abstract(name, sizeof(name), "accept");
	ck_assert_int_eq(sockx_listen(&l, name, 0, 0, 0), 0);
	/* Once first, so that valgrind's translation is not counted. */
	ck_assert_int_eq(sockx_accept(l, &a, 1), -ETIMEDOUT);
	t0 = sxt_now();
	c0 = sxt_thread_cpu();
	errno = 0;
	r = sockx_accept(l, &a, 300);
	e = errno;
	elapsed = sxt_now() - t0;
	cpu = sxt_thread_cpu() - c0;
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_int_eq(e, ETIMEDOUT);
	ck_assert_ptr_eq(a, SENTINEL);
	ck_assert_msg(elapsed >= 0.3 && elapsed <= 0.45, "elapsed %.3f s",
	    elapsed);
	ck_assert_msg(cpu < 0.1 * elapsed, "%.3f s CPU in %.3f s", cpu,
	    elapsed);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* timeout 0 tries once: -ETIMEDOUT at once, or the pending connection. */
START_TEST(listen_accept_timeout_zero_tries_once)
{
	double t0, elapsed;
	char name[64];
	sockx *l, *a = SENTINEL;
	int fd;

	sxt_abstract(name, sizeof(name), "accept");
	ck_assert_int_eq(sockx_listen(&l, name, 0, 0, 0), 0);
	t0 = sxt_now();
	errno = 0;
	ck_assert_int_eq(sockx_accept(l, &a, 0), -ETIMEDOUT);
	ck_assert_int_eq(errno, ETIMEDOUT);
	elapsed = sxt_now() - t0;
	ck_assert_msg(elapsed < 0.05, "elapsed %.3f s", elapsed);
	ck_assert_ptr_eq(a, SENTINEL);
	fd = raw_connect(name);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sockx_accept(l, &a, 0), 0);
	ck_assert_ptr_ne(a, SENTINEL);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* An accepted socket is O_NONBLOCK and FD_CLOEXEC, like every other. */
START_TEST(listen_accept_nonblock_cloexec)
{
	char name[64];
	sockx *l, *a;
	int fd, fl;

	sxt_abstract(name, sizeof(name), "accept");
	ck_assert_int_eq(sockx_listen(&l, name, 0, 0, 0), 0);
	fd = raw_connect(name);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sockx_accept(l, &a, 2000), 0);
	fl = fcntl(sockx_fd(a), F_GETFL);
	ck_assert_int_ge(fl, 0);
	ck_assert(fl & O_NONBLOCK);
	fl = fcntl(sockx_fd(a), F_GETFD);
	ck_assert_int_ge(fl, 0);
	ck_assert(fl & FD_CLOEXEC);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* NULL listener or out, or a timeout below -1: -EINVAL. */
START_TEST(listen_accept_bad_arguments_einval)
{
	char name[64];
	sockx *l, *a = SENTINEL;

	sxt_abstract(name, sizeof(name), "accept");
	ck_assert_int_eq(sockx_listen(&l, name, 0, 0, 0), 0);
	errno = 0;
	ck_assert_int_eq(sockx_accept(NULL, &a, 0), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(sockx_accept(l, NULL, 0), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(sockx_accept(l, &a, -2), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_eq(a, SENTINEL);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* A datagram socket cannot accept: -EOPNOTSUPP at once, not a wait. */
START_TEST(listen_accept_datagram_eopnotsupp)
{
	char name[64], addr[96];
	double t0;
	sockx *l, *a = SENTINEL;

	join(addr, sizeof(addr), "unixgram:",
	    sxt_abstract(name, sizeof(name), "gram"));
	ck_assert_int_eq(sockx_listen(&l, addr, 0, 0, 0), 0);
	t0 = sxt_now();
	errno = 0;
	ck_assert_int_eq(sockx_accept(l, &a, 2000), -EOPNOTSUPP);
	ck_assert_int_eq(errno, EOPNOTSUPP);
	ck_assert_msg(sxt_now() - t0 < 0.5, "EOPNOTSUPP after a wait");
	ck_assert_ptr_eq(a, SENTINEL);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/*
 * Valgrind emulates RLIMIT_NOFILE: the kernel still accepts, and valgrind
 * closes the new descriptor to report EMFILE, which loses the connection.
 * It preloads its own libraries into the program, which tells.
 */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

/*
 * No descriptor left (RLIMIT_NOFILE at the lowest free number): -EMFILE at
 * once, not after the timeout of a spinning retry, and the connection is
 * still there to accept when descriptors are back.
 */
START_TEST(listen_accept_emfile_at_once)
{
	struct rlimit rl, low;
	double t0, elapsed;
	char name[64];
	sockx *l, *a = SENTINEL;
	int fd, lowest, r, e;

	sxt_abstract(name, sizeof(name), "emfile");
	ck_assert_int_eq(sockx_listen(&l, name, 0, 0, 0), 0);
	fd = raw_connect(name);
	ck_assert_int_ge(fd, 0);
	lowest = dup(fd);
	ck_assert_int_ge(lowest, 0);
	ck_assert_int_eq(close(lowest), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = (rlim_t)lowest;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	t0 = sxt_now();
	errno = 0;
	r = sockx_accept(l, &a, 2000);
	e = errno;
	elapsed = sxt_now() - t0;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(r, -EMFILE);
	ck_assert_int_eq(e, EMFILE);
	ck_assert_ptr_eq(a, SENTINEL);
	ck_assert_msg(elapsed < 0.25, "EMFILE after %.3f s", elapsed);
	if (!under_valgrind()) {
		ck_assert_int_eq(sockx_accept(l, &a, 0), 0);
		ck_assert_int_eq(sockx_close(a), 0);
	}
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Autobind and port 0                                                 */
/* ------------------------------------------------------------------ */

/*
 * "@" binds to a name the kernel picks, which sockx_local_addr reports,
 * sockx_addr_format writes as "@...", and sockx_connect reaches.
 * _i: 0 stream, 1 seqpacket.
 */
START_TEST(listen_autobind_name_reachable)
{
	const char *prefix = _i == 0 ? "" : "unixpacket:";
	char text[SOCKX_ADDRSTRLEN], addr[SOCKX_ADDRSTRLEN + 16];
	struct sockaddr_storage ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	socklen_t len;
	sockx *l;

	ck_assert_int_eq(sockx_listen(&l, join(addr, sizeof(addr), prefix,
	    "@"), 0, 0, 0), 0);
	ck_assert_int_eq(sockx_local_addr(l, &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_UNIX);
	ck_assert_uint_gt(len, offsetof(struct sockaddr_un, sun_path) + 1);
	ck_assert_int_eq(sun->sun_path[0], '\0');
	local_text(l, text, sizeof(text));
	ck_assert_int_eq(text[0], '@');
	ck_assert_uint_gt(strlen(text), 1);
	assert_serves(l, join(addr, sizeof(addr), prefix, text));
	ck_assert_int_eq(sockx_close(l), 0);
}
END_TEST

/* Port 0 binds an ephemeral port that clients reach. */
START_TEST(listen_tcp_port_zero_gets_port)
{
	static const char *const addrs[] = { "tcp:127.0.0.1:0", "[::1]:0" };
	char text[SOCKX_ADDRSTRLEN];
	sockx *l;
	size_t i;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		ck_assert_int_eq(sockx_listen(&l, addrs[i], 0, 0, 0), 0);
		ck_assert_int_ne(local_port(l), 0);
		assert_serves(l, local_text(l, text, sizeof(text)));
		ck_assert_int_eq(sockx_close(l), 0);
	}
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("listen");
	TCase *tc;

	tc = sx_tcase("stale", 10);
	tcase_add_loop_test(tc, listen_stale_socket_file_taken_over, 0,
	    NSCHEMES);
	tcase_add_loop_test(tc, listen_stale_live_listener_kept, 0, NSCHEMES);
	tcase_add_test(tc, listen_stale_live_other_type_kept);
	tcase_add_test(tc, listen_stale_busy_listener_kept);
	tcase_add_test(tc, listen_stale_regular_file_kept);
	tcase_add_test(tc, listen_stale_directory_kept);
	tcase_add_test(tc, listen_stale_symlink_kept);
	tcase_add_loop_test(tc, listen_stale_without_flag_kept, 0, NSCHEMES);
	suite_add_tcase(s, tc);

	tc = sx_tcase("race", 60);
	tcase_add_test(tc, listen_stale_race_one_winner);
	suite_add_tcase(s, tc);

	tc = sx_tcase("unlink", 10);
	tcase_add_loop_test(tc, listen_unlink_on_close_removes_file, 0,
	    2 * NSCHEMES);
	tcase_add_test(tc, listen_no_unlink_flag_keeps_file);
	tcase_add_test(tc, listen_release_keeps_file);
	tcase_add_test(tc, listen_unlink_on_close_spares_replacement);
	tcase_add_loop_test(tc, listen_unlink_on_close_only_by_creator, 0, 4);
	tcase_add_test(tc, listen_failure_after_bind_removes_file);
	tcase_add_test(tc, listen_chmod_failure_removes_file);
	suite_add_tcase(s, tc);

	tc = sx_tcase("mode", 60);
	tcase_add_test(tc, listen_mode_never_wider);
	tcase_add_test(tc, listen_mode_widened_past_umask);
	tcase_add_test(tc, listen_mode_widened_without_proc);
	tcase_add_test(tc, listen_mode_zero_keeps_default);
	tcase_add_test(tc, listen_bad_arguments_einval);
	suite_add_tcase(s, tc);

	tc = sx_tcase("options", 10);
	tcase_add_test(tc, listen_v6only_refuses_ipv4);
	tcase_add_test(tc, listen_default_dual_stack_accepts_ipv4);
	tcase_add_test(tc, listen_tcp_sets_reuseaddr);
	tcase_add_test(tc, listen_unix_stream_listens);
	tcase_add_loop_test(tc, listen_datagram_bound_not_listening, 0, 2);
	tcase_add_test(tc, listen_inapplicable_flags_ignored);
	tcase_add_loop_test(tc, listen_backlog_zero_is_somaxconn, 0, 3);
	tcase_add_test(tc, listen_backlog_one_holds_two);
	suite_add_tcase(s, tc);

	tc = sx_tcase("accept", 10);
	tcase_add_test(tc, listen_accept_timeout_waits_without_spinning);
	tcase_add_test(tc, listen_accept_timeout_zero_tries_once);
	tcase_add_test(tc, listen_accept_nonblock_cloexec);
	tcase_add_test(tc, listen_accept_bad_arguments_einval);
	tcase_add_test(tc, listen_accept_datagram_eopnotsupp);
	tcase_add_test(tc, listen_accept_emfile_at_once);
	suite_add_tcase(s, tc);

	tc = sx_tcase("autobind", 10);
	tcase_add_loop_test(tc, listen_autobind_name_reachable, 0, 2);
	tcase_add_test(tc, listen_tcp_port_zero_gets_port);
	suite_add_tcase(s, tc);
	return s;
}
