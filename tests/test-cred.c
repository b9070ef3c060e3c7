/* SPDX-License-Identifier: MIT */
/*
 * test-cred.c - credentials: sockx_peer_cred, sockx_peer_pidfd,
 * sockx_set_passcred, sockx_send_cred and sockx_recv_cred, between real
 * processes over real sockets.  Each rule of the contract has a test that
 * fails without it:
 *
 *  - peer_cred reports the other process on both ends of a stream or
 *    seqpacket connection (abstract and path addresses; clients running
 *    as root, as 65534:65534, and with effective ids 1000 over real ids
 *    65534: the effective ones count), the creating process on a
 *    socketpair of any type even in a forked child, and pid -1 for a peer
 *    outside our pid namespace;
 *  - peer_cred and peer_pidfd fail with -ENOTCONN where the kernel holds no
 *    peer (listeners, whose kernel answer is their own creds; unconnected
 *    sockets; connected datagram sockets, whose kernel answer is uid -1),
 *    -EOPNOTSUPP on TCP, UDP and netlink, -EINVAL on NULL; *cred is
 *    untouched and no descriptor is left behind;
 *  - peer_pidfd gives a close-on-exec pidfd of the peer (live, or a root
 *    peer of an unprivileged caller) and -ESRCH once it has exited, reaped
 *    or a zombie;
 *  - set_passcred sets SO_PASSCRED to 0 or 1, on unix sockets only;
 *  - send_cred sends the caller's own {pid, euid, egid} (the child's after
 *    fork), the kernel refuses forged ones from an unprivileged process
 *    with -EPERM and nothing arrives, root may claim other ids;
 *  - recv_cred reports {-1, -1, -1} when no credentials came (SO_PASSCRED
 *    off, or the kernel's placeholder for data queued before it was on),
 *    the writer's ids for a plain write, closes descriptors that came with
 *    the data and writes *cred only on success.
 *
 * The test process runs as root (a test that needs it fails otherwise: a
 * skip must not count as a pass); a peer that must be unprivileged is a
 * forked child that changes its ids and reports through its exit status
 * (0: all its checks held, else the number of the step that failed).
 * Valgrind 3.19 lacks pidfd_send_signal (ENOSYS): the tests' own uses of
 * it accept that there, the library's answers are held to the rules.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/netlink.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockx.h>

#include "sxtest.h"

/* Linux 6.5; the system headers may predate it (asm-generic number). */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* The unprivileged ids children drop to, and the kernel's overflow ids. */
#define NOBODY 65534
/* The effective ids of a child whose real ids are NOBODY (see become()). */
#define SPLIT_EID 1000

/* What failing calls must leave in *cred. */
static const struct sockx_cred sentinel = { 424242, 4242, 4343 };

static const int pair_types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };

/* ---------------------------------------------------------------- */
/* Helpers                                                            */
/* ---------------------------------------------------------------- */

static int
cred_is(const struct sockx_cred *c, pid_t pid, uid_t uid, gid_t gid)
{
	return c->pid == pid && c->uid == uid && c->gid == gid;
}

static void
check_cred(const struct sockx_cred *c, pid_t pid, uid_t uid, gid_t gid)
{
	ck_assert_msg(cred_is(c, pid, uid, gid),
	    "cred {%ld, %ld, %ld}, want {%ld, %ld, %ld}", (long)c->pid,
	    (long)c->uid, (long)c->gid, (long)pid, (long)uid, (long)gid);
}

static void
check_none(const struct sockx_cred *c)
{
	check_cred(c, -1, (uid_t)-1, (gid_t)-1);
}

static void
check_untouched(const struct sockx_cred *c)
{
	check_cred(c, sentinel.pid, sentinel.uid, sentinel.gid);
}

/* The tests that need an unprivileged peer need root to make one. */
static void
need_root(void)
{
	ck_assert_msg(geteuid() == 0,
	    "runs as uid %ld: needs root to make an unprivileged peer",
	    (long)geteuid());
}

/* In a child: become 65534:65534 with no supplementary groups. */
static int
drop_to_nobody(void)
{
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
	    setuid(NOBODY) < 0)
		return -1;
	return geteuid() == NOBODY && getegid() == NOBODY ? 0 : -1;
}

/* Who a child runs as: the parent's ids, or dropped by become(). */
enum ids {
	AS_PARENT,
	AS_NOBODY,	/* real = effective = saved = 65534 */
	AS_SPLIT,	/* real and saved 65534, effective 1000: no privilege */
};

/* In a child: take the ids of mode (0, or -1 on failure). */
static int
become(enum ids mode)
{
	if (mode == AS_NOBODY)
		return drop_to_nobody();
	if (mode != AS_SPLIT)
		return 0;
	if (setgroups(0, NULL) < 0 ||
	    setresgid(NOBODY, SPLIT_EID, NOBODY) < 0 ||
	    setresuid(NOBODY, SPLIT_EID, NOBODY) < 0)
		return -1;
	return getuid() == NOBODY && geteuid() == SPLIT_EID &&
	    getgid() == NOBODY && getegid() == SPLIT_EID ? 0 : -1;
}

/* The effective uid and gid a child of mode runs with. */
static uid_t
euid_of(enum ids mode)
{
	return mode == AS_NOBODY ? NOBODY : mode == AS_SPLIT ? SPLIT_EID :
	    geteuid();
}

static gid_t
egid_of(enum ids mode)
{
	return mode == AS_NOBODY ? NOBODY : mode == AS_SPLIT ? SPLIT_EID :
	    getegid();
}

/* In a child: free the inherited handles (for valgrind) and exit. */
static _Noreturn void
child_exit(int code, sockx *x, sockx *y)
{
	sockx_close(x);
	sockx_close(y);
	_exit(code);
}

static pid_t
fork_checked(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	return pid;
}

/* Reap child pid and return its exit status; a killed child fails. */
static int
child_status(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "child %ld killed by signal %d",
	    (long)pid, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return WEXITSTATUS(st);
}

static void
expect_child_ok(pid_t pid)
{
	int st = child_status(pid);

	ck_assert_msg(st == 0, "child failed at step %d", st);
}

/* The "Pid:" of pidfd fd from /proc/self/fdinfo (-2 if none). */
static pid_t
pidfd_pid(int fd)
{
	char path[64], line[256];
	long pid = -2;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (f == NULL)
		return -2;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Pid:\t%ld", &pid) == 1)
			break;
	fclose(f);
	return (pid_t)pid;
}

/*
 * Valgrind preloads its own libraries into the program, which tells.  It
 * (3.19) does not know pidfd_send_signal either and answers ENOSYS.
 */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* pidfd_send_signal(fd, sig, NULL, 0): 0 or -errno. */
static int
pidfd_signal(int fd, int sig)
{
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0)
		return 0;
	return -errno;
}

/* r is want, or the ENOSYS of a valgrind that lacks the system call. */
static int
pidfd_signal_is(int r, int want)
{
	return r == want || (r == -ENOSYS && under_valgrind());
}

static void
make_pair(sockx **a, sockx **b, int type)
{
	ck_assert_int_eq(sockx_pair(a, b, type), 0);
}

/* A listener on a fresh abstract name after scheme; its address in addr. */
static sockx *
listen_abstract(const char *scheme, const char *tag, char *addr,
    size_t size)
{
	char name[96];
	sockx *l;

	snprintf(addr, size, "%s%s", scheme,
	    sxt_abstract(name, sizeof(name), tag));
	ck_assert_int_eq(sockx_listen(&l, addr, 0, 0, 0), 0);
	return l;
}

/* A TCP connection over 127.0.0.1: its listener, client and server end. */
static void
tcp_connection(sockx **l, sockx **c, sockx **a)
{
	char text[SOCKX_ADDRSTRLEN + 8];

	ck_assert_int_eq(sockx_listen(l, "tcp:127.0.0.1:0", 0, 0, 0), 0);
	ck_assert_int_eq(sockx_connect(c, sxt_local_text(*l, "tcp:", text,
	    sizeof(text)), 2000), 0);
	ck_assert_int_eq(sockx_accept(*l, a, 2000), 0);
}

/* A bound UDP socket on 127.0.0.1 and a UDP socket connected to it. */
static void
udp_sockets(sockx **bound, sockx **conn)
{
	char text[SOCKX_ADDRSTRLEN + 8];

	ck_assert_int_eq(sockx_listen(bound, "udp:127.0.0.1:0", 0, 0, 0), 0);
	ck_assert_int_eq(sockx_connect(conn, sxt_local_text(*bound, "udp:",
	    text, sizeof(text)), 2000), 0);
}

/*
 * A netlink socket: not unix, yet one where the kernel takes SO_PASSCRED
 * and SCM_CREDENTIALS (recent kernels, 6.18 here, refuse SO_PASSCRED on
 * TCP and UDP themselves), so only the library's own check refuses it.
 */
static sockx *
netlink_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	sockx *s;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sockx_adopt(&s, fd), 0);
	return s;
}

/* The kernel's own SO_PEERCRED answer for s. */
static struct ucred
raw_peercred(const sockx *s)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	ck_assert_int_eq(getsockopt(sockx_fd(s), SOL_SOCKET, SO_PEERCRED,
	    &uc, &len), 0);
	return uc;
}

static int
passcred_of(const sockx *s)
{
	int on = -1;
	socklen_t len = sizeof(on);

	ck_assert_int_eq(getsockopt(sockx_fd(s), SOL_SOCKET, SO_PASSCRED,
	    &on, &len), 0);
	return on;
}

/* One raw recvmsg of s: the bytes and the SCM_CREDENTIALS that came. */
static ssize_t
raw_recv_ucred(const sockx *s, void *buf, size_t len, struct ucred *uc)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	n = recvmsg(sockx_fd(s), &m, MSG_DONTWAIT);
	ck_assert_int_ge(n, 0);
	c = CMSG_FIRSTHDR(&m);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->cmsg_level, SOL_SOCKET);
	ck_assert_int_eq(c->cmsg_type, SCM_CREDENTIALS);
	memcpy(uc, CMSG_DATA(c), sizeof(*uc));
	return n;
}

/*
 * s has no peer the library may report: peer_cred and peer_pidfd both fail
 * with exactly err, *cred keeps its sentinel, no descriptor is left open.
 */
static void
check_no_peer(sockx *s, int err)
{
	struct sockx_cred cr = sentinel;
	int n = sxt_count_fds();

	CHECK_ERR(sockx_peer_cred(s, &cr), err);
	check_untouched(&cr);
	CHECK_ERR(sockx_peer_pidfd(s), err);
	ck_assert_int_eq(sxt_count_fds(), n);
}

/* ---------------------------------------------------------------- */
/* peer_cred: connections, socketpairs, pid namespaces                */
/* ---------------------------------------------------------------- */

static const struct conn_case {
	const char *scheme;
	int path;		/* a socket file in a private directory */
	enum ids ids;		/* who the client runs as */
} conn_cases[] = {
	{ "unix:", 0, AS_PARENT }, { "unix:", 1, AS_PARENT },
	{ "unixpacket:", 0, AS_PARENT }, { "unixpacket:", 1, AS_PARENT },
	{ "unix:", 0, AS_NOBODY }, { "unix:", 1, AS_NOBODY },
	{ "unixpacket:", 0, AS_NOBODY }, { "unixpacket:", 1, AS_NOBODY },
	{ "unix:", 0, AS_SPLIT }, { "unixpacket:", 1, AS_SPLIT },
};

/* The child's side: its connecting handle reports the server. */
static int
client_sees_server(const char *addr, pid_t spid, uid_t suid, gid_t sgid,
    enum ids ids)
{
	struct sockx_cred cr;
	sockx *c;
	int r = 0;

	if (become(ids) < 0)
		return 10;
	if (sockx_connect(&c, addr, 5000) != 0)
		return 11;
	if (sockx_peer_cred(c, &cr) != 0)
		r = 12;
	else if (!cred_is(&cr, spid, suid, sgid))
		r = 13;
	sockx_close(c);
	return r;
}

/*
 * Rule: on a connection made by listen + connect, each end reports the
 * other process: the accepted handle the client's pid and EFFECTIVE
 * uid/gid at connect() time (65534, or 1000 for a client whose real ids
 * are 65534 and effective ones 1000), the connecting handle the server's
 * as of listen().
 */
START_TEST(peer_cred_reports_the_other_end_of_a_connection)
{
	const struct conn_case *cc = &conn_cases[_i];
	char dir[128] = "", path[192] = "", addr[256];
	uid_t want_uid = euid_of(cc->ids);
	gid_t want_gid = egid_of(cc->ids);
	struct sockx_cred cr = sentinel;
	sockx *l, *a;
	pid_t pid;

	if (cc->ids != AS_PARENT)
		need_root();
	if (cc->path) {
		sxt_tmpdir(dir, sizeof(dir));
		/* The 65534 client must reach and write the socket. */
		ck_assert_int_eq(chmod(dir, 0755), 0);
		snprintf(path, sizeof(path), "%s/s.sock", dir);
		snprintf(addr, sizeof(addr), "%s%s", cc->scheme, path);
		ck_assert_int_eq(sockx_listen(&l, addr, 0, 0, 0666), 0);
	} else {
		l = listen_abstract(cc->scheme, "conn", addr, sizeof(addr));
	}
	pid = fork_checked();
	if (pid == 0)
		child_exit(client_sees_server(addr, getppid(), geteuid(),
		    getegid(), cc->ids), l, NULL);
	ck_assert_int_eq(sockx_accept(l, &a, 5000), 0);
	ck_assert_int_eq(sockx_peer_cred(a, &cr), 0);
	check_cred(&cr, pid, want_uid, want_gid);
	expect_child_ok(pid);
	/* Recorded at connect(): still there after the client is gone. */
	cr = sentinel;
	ck_assert_int_eq(sockx_peer_cred(a, &cr), 0);
	check_cred(&cr, pid, want_uid, want_gid);
	sockx_close(a);
	sockx_close(l);
	if (cc->path) {
		ck_assert_int_eq(unlink(path), 0);
		ck_assert_int_eq(rmdir(dir), 0);
	}
}
END_TEST

/*
 * Rule: a socketpair of any type reports the process that created it, on
 * both ends, even when used from a forked child, and even after that
 * child changed its ids (the kernel keeps the socketpair() time creds).
 * The child's peer_pidfd names the parent as well.
 */
START_TEST(peer_cred_of_a_socketpair_is_its_creator_across_fork)
{
	pid_t me = getpid();
	uid_t uid = geteuid();
	gid_t gid = getegid();
	struct sockx_cred cr = sentinel;
	sockx *a, *b;
	pid_t pid;

	need_root();
	make_pair(&a, &b, pair_types[_i]);
	ck_assert_int_eq(sockx_peer_cred(a, &cr), 0);
	check_cred(&cr, me, uid, gid);
	cr = sentinel;
	ck_assert_int_eq(sockx_peer_cred(b, &cr), 0);
	check_cred(&cr, me, uid, gid);
	pid = fork_checked();
	if (pid == 0) {
		int r = 0, fd;

		if (sockx_peer_cred(a, &cr) != 0 || !cred_is(&cr, me, uid, gid))
			r = 1;
		else if (sockx_peer_cred(b, &cr) != 0 ||
		    !cred_is(&cr, me, uid, gid))
			r = 2;
		else if ((fd = sockx_peer_pidfd(a)) < 0)
			r = 3;
		else if (pidfd_pid(fd) != me || close(fd) != 0)
			r = 4;
		else if (drop_to_nobody() < 0)
			r = 5;
		else if (sockx_peer_cred(b, &cr) != 0 ||
		    !cred_is(&cr, me, uid, gid))
			r = 6;
		child_exit(r, a, b);
	}
	expect_child_ok(pid);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* The grandchild, pid 1 of a new pid namespace: the server is outside. */
static int
client_in_new_pid_ns(const char *addr, uid_t suid, gid_t sgid)
{
	struct sockx_cred cr;
	sockx *c;
	int r = 0;

	if (getpid() != 1)
		return 20;
	if (sockx_connect(&c, addr, 5000) != 0)
		return 21;
	if (sockx_peer_cred(c, &cr) != 0)
		r = 22;
	else if (!cred_is(&cr, -1, suid, sgid))	/* the kernel says pid 0 */
		r = 23;
	sockx_close(c);
	return r;
}

/*
 * Rule: pid 0 from the kernel (the peer runs outside our pid namespace) is
 * reported as pid -1, the ids as they are.  A child unshares CLONE_NEWPID;
 * its child is pid 1 in the new namespace and connects to our listener.
 * From out here the same grandchild has an ordinary pid.
 */
START_TEST(peer_cred_of_a_peer_outside_our_pid_namespace_is_pid_minus_one)
{
	struct sockx_cred cr = sentinel;
	char addr[128];
	int report[2], st;
	pid_t pid, gc = 0;
	sockx *l, *a;

	need_root();
	l = listen_abstract("unix:", "pidns", addr, sizeof(addr));
	ck_assert_int_eq(pipe2(report, O_CLOEXEC), 0);
	pid = fork_checked();
	if (pid == 0) {
		uid_t uid = geteuid();
		gid_t gid = getegid();

		close(report[0]);
		if (unshare(CLONE_NEWPID) < 0)
			child_exit(77, l, NULL);
		gc = fork();
		if (gc < 0)
			child_exit(2, l, NULL);
		if (gc == 0)
			child_exit(client_in_new_pid_ns(addr, uid, gid), l,
			    NULL);
		if (write(report[1], &gc, sizeof(gc)) != sizeof(gc))
			child_exit(3, l, NULL);
		if (waitpid(gc, &st, 0) != gc)
			child_exit(4, l, NULL);
		child_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 5, l, NULL);
	}
	close(report[1]);
	if (read(report[0], &gc, sizeof(gc)) != sizeof(gc)) {
		st = child_status(pid);
		ck_assert_msg(st != 77, "unshare(CLONE_NEWPID) refused: "
		    "cannot make a peer in another pid namespace");
		ck_abort_msg("pid namespace child failed at step %d", st);
	}
	close(report[0]);
	ck_assert_int_eq(sockx_accept(l, &a, 5000), 0);
	ck_assert_int_eq(sockx_peer_cred(a, &cr), 0);
	check_cred(&cr, gc, geteuid(), getegid());
	expect_child_ok(pid);
	sockx_close(a);
	sockx_close(l);
}
END_TEST

/* ---------------------------------------------------------------- */
/* peer_cred and peer_pidfd without a peer: errors                    */
/* ---------------------------------------------------------------- */

/*
 * Rule: a listening stream or seqpacket socket is -ENOTCONN; the kernel
 * would answer with the listener's own credentials.
 */
START_TEST(peer_cred_of_a_listener_is_enotconn)
{
	static const char *const schemes[] = { "unix:", "unixpacket:" };
	struct ucred uc;
	char addr[128];
	sockx *l;

	l = listen_abstract(schemes[_i], "lst", addr, sizeof(addr));
	/* The premise: the kernel's answer is our own pid. */
	uc = raw_peercred(l);
	ck_assert_int_eq(uc.pid, getpid());
	check_no_peer(l, ENOTCONN);
	sockx_close(l);
}
END_TEST

/* Rule: an unconnected unix socket of any type is -ENOTCONN. */
START_TEST(peer_cred_of_an_unconnected_socket_is_enotconn)
{
	int fd = socket(AF_UNIX, pair_types[_i] | SOCK_CLOEXEC, 0);
	sockx *s;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sockx_adopt(&s, fd), 0);
	check_no_peer(s, ENOTCONN);
	sockx_close(s);
}
END_TEST

/*
 * Rule: a connected (non-socketpair) datagram socket is -ENOTCONN, and so
 * is the bound receiver; the kernel answers pid 0, uid -1 for both.
 */
START_TEST(peer_cred_of_a_connected_datagram_socket_is_enotconn)
{
	struct ucred uc;
	char addr[128];
	sockx *r, *c;

	r = listen_abstract("unixgram:", "dg", addr, sizeof(addr));
	ck_assert_int_eq(sockx_connect(&c, addr, 2000), 0);
	ck_assert_int_eq(sockx_write(c, "x", 1, 1000), 1);	/* connected */
	uc = raw_peercred(c);
	ck_assert_uint_eq(uc.uid, (uid_t)-1);
	check_no_peer(c, ENOTCONN);
	check_no_peer(r, ENOTCONN);
	sockx_close(c);
	sockx_close(r);
}
END_TEST

/*
 * Rule: TCP (listener, both ends), UDP and netlink sockets are
 * -EOPNOTSUPP, never a success with uid -1.
 */
START_TEST(peer_cred_of_non_unix_sockets_is_eopnotsupp)
{
	sockx *l, *c, *a, *u, *uc, *nl;

	tcp_connection(&l, &c, &a);
	check_no_peer(c, EOPNOTSUPP);
	check_no_peer(a, EOPNOTSUPP);
	check_no_peer(l, EOPNOTSUPP);
	udp_sockets(&u, &uc);
	check_no_peer(u, EOPNOTSUPP);
	check_no_peer(uc, EOPNOTSUPP);
	nl = netlink_socket();
	check_no_peer(nl, EOPNOTSUPP);
	sockx_close(nl);
	sockx_close(a);
	sockx_close(c);
	sockx_close(l);
	sockx_close(uc);
	sockx_close(u);
}
END_TEST

/* Rule: a NULL handle or NULL cred is -EINVAL; *cred untouched. */
START_TEST(peer_cred_and_pidfd_with_null_are_einval)
{
	struct sockx_cred cr = sentinel;
	sockx *a, *b;

	make_pair(&a, &b, SOCK_STREAM);
	CHECK_ERR(sockx_peer_cred(NULL, &cr), EINVAL);
	check_untouched(&cr);
	CHECK_ERR(sockx_peer_cred(a, NULL), EINVAL);
	CHECK_ERR(sockx_peer_pidfd(NULL), EINVAL);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* peer_pidfd                                                          */
/* ---------------------------------------------------------------- */

/*
 * Rule: a live peer's pidfd is a new close-on-exec descriptor of that
 * process (fdinfo "Pid:", signal 0 through it works); once the peer has
 * exited and been reaped it is -ESRCH with no descriptor left (kernel 6.18
 * itself would hand out a pidfd of the reaped process).
 */
START_TEST(peer_pidfd_is_the_live_peer_and_esrch_once_reaped)
{
	char addr[128];
	int hold[2], fd, n, raw, r, e;
	socklen_t len = sizeof(raw);
	sockx *l, *a;
	pid_t pid;

	l = listen_abstract("unix:", "pidfd", addr, sizeof(addr));
	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	pid = fork_checked();
	if (pid == 0) {
		sockx *c = NULL;
		char ch;
		int code;

		close(hold[1]);
		code = sockx_connect(&c, addr, 5000) == 0 ? 0 : 1;
		/* Alive, connected, until the parent closes hold[1]. */
		if (read(hold[0], &ch, 1) < 0)
			code = 2;
		child_exit(code, c, l);
	}
	close(hold[0]);
	ck_assert_int_eq(sockx_accept(l, &a, 5000), 0);
	n = sxt_count_fds();
	fd = sockx_peer_pidfd(a);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sxt_count_fds(), n + 1);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(pidfd_pid(fd), pid);
	r = pidfd_signal(fd, 0);
	ck_assert_msg(pidfd_signal_is(r, 0), "pidfd_send_signal: %s",
	    strerror(-r));
	close(fd);

	close(hold[1]);
	expect_child_ok(pid);		/* exited and reaped */
	/* The premise (6.18): the kernel may still hand out a stale pidfd. */
	raw = -1;
	if (getsockopt(sockx_fd(a), SOL_SOCKET, SO_PEERPIDFD, &raw,
	    &len) == 0) {
		r = pidfd_signal(raw, 0);
		ck_assert_msg(pidfd_signal_is(r, -ESRCH),
		    "pidfd_send_signal: %s", strerror(-r));
		close(raw);
	}
	n = sxt_count_fds();
	errno = 0;
	r = sockx_peer_pidfd(a);
	e = errno;
	if (r >= 0)
		close(r);
	ck_assert_msg(r == -ESRCH && e == ESRCH,
	    "peer_pidfd of a reaped peer: %d, errno %d", r, e);
	ck_assert_int_eq(sxt_count_fds(), n);
	sockx_close(a);
	sockx_close(l);
}
END_TEST

/*
 * Rule: a peer that has exited is gone even before it is reaped: a zombie
 * gets -ESRCH and no descriptor is left (the kernel itself would hand out
 * a pidfd).
 */
START_TEST(peer_pidfd_of_a_zombie_peer_is_esrch)
{
	char addr[128];
	siginfo_t si;
	sockx *l, *a;
	pid_t pid;
	int n, raw;
	socklen_t len = sizeof(raw);

	l = listen_abstract("unix:", "zombie", addr, sizeof(addr));
	pid = fork_checked();
	if (pid == 0) {
		sockx *c = NULL;

		child_exit(sockx_connect(&c, addr, 5000) == 0 ? 0 : 1, c, l);
	}
	ck_assert_int_eq(sockx_accept(l, &a, 5000), 0);
	/* Wait until it is a zombie, leaving it unreaped. */
	memset(&si, 0, sizeof(si));
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(si.si_pid, pid);
	/* The premise: the kernel hands out a pidfd of the zombie. */
	raw = -1;
	ck_assert_int_eq(getsockopt(sockx_fd(a), SOL_SOCKET, SO_PEERPIDFD,
	    &raw, &len), 0);
	ck_assert_int_eq(pidfd_pid(raw), pid);
	close(raw);
	n = sxt_count_fds();
	CHECK_ERR(sockx_peer_pidfd(a), ESRCH);
	ck_assert_int_eq(sxt_count_fds(), n);
	expect_child_ok(pid);
	sockx_close(a);
	sockx_close(l);
}
END_TEST

/*
 * Rule: only -ESRCH means gone.  An unprivileged caller whose peer is a
 * root process (which it may not signal: EPERM) still gets the pidfd.
 */
START_TEST(peer_pidfd_of_a_peer_we_may_not_signal_is_a_pidfd)
{
	char addr[128];
	sockx *l, *a;
	pid_t pid, me = getpid();

	need_root();
	l = listen_abstract("unix:", "eperm", addr, sizeof(addr));
	pid = fork_checked();
	if (pid == 0) {
		sockx *c = NULL;
		int fd, r = 0;

		if (drop_to_nobody() < 0)
			r = 1;
		else if (sockx_connect(&c, addr, 5000) != 0)
			r = 2;
		else if ((fd = sockx_peer_pidfd(c)) < 0)
			r = 3;
		else if (pidfd_pid(fd) != me ||
		    !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			r = 4;
		else if (!pidfd_signal_is(pidfd_signal(fd, 0), -EPERM))
			r = 5;		/* the premise: we may not signal it */
		else if (close(fd) != 0)
			r = 6;
		child_exit(r, c, l);
	}
	ck_assert_int_eq(sockx_accept(l, &a, 5000), 0);
	expect_child_ok(pid);
	sockx_close(a);
	sockx_close(l);
}
END_TEST

/* Rule: a socketpair's pidfd is its creator's, on every type. */
START_TEST(peer_pidfd_of_a_socketpair_is_its_creator)
{
	sockx *a, *b;
	int fd;

	make_pair(&a, &b, pair_types[_i]);
	fd = sockx_peer_pidfd(b);
	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(pidfd_pid(fd), getpid());
	close(fd);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* set_passcred                                                        */
/* ---------------------------------------------------------------- */

/*
 * Rule: SO_PASSCRED becomes 1 for any non-zero on and 0 for 0; a non-unix
 * socket is -EOPNOTSUPP and left alone (netlink: the kernel would have
 * taken it); NULL is -EINVAL.
 */
START_TEST(set_passcred_sets_so_passcred)
{
	sockx *a, *b, *l, *c, *t, *u, *uc, *nl;

	make_pair(&a, &b, SOCK_STREAM);
	ck_assert_int_eq(passcred_of(a), 0);
	ck_assert_int_eq(sockx_set_passcred(a, 1), 0);
	ck_assert_int_eq(passcred_of(a), 1);
	ck_assert_int_eq(sockx_set_passcred(a, 0), 0);
	ck_assert_int_eq(passcred_of(a), 0);
	ck_assert_int_eq(sockx_set_passcred(a, 5), 0);
	ck_assert_int_eq(passcred_of(a), 1);
	ck_assert_int_eq(sockx_set_passcred(a, 0), 0);
	ck_assert_int_eq(passcred_of(a), 0);
	ck_assert_int_eq(sockx_set_passcred(a, -1), 0);
	ck_assert_int_eq(passcred_of(a), 1);
	ck_assert_int_eq(passcred_of(b), 0);

	tcp_connection(&l, &c, &t);
	CHECK_ERR(sockx_set_passcred(c, 1), EOPNOTSUPP);
	CHECK_ERR(sockx_set_passcred(t, 0), EOPNOTSUPP);
	CHECK_ERR(sockx_set_passcred(l, 1), EOPNOTSUPP);
	udp_sockets(&u, &uc);
	CHECK_ERR(sockx_set_passcred(u, 1), EOPNOTSUPP);
	CHECK_ERR(sockx_set_passcred(uc, 1), EOPNOTSUPP);
	nl = netlink_socket();
	CHECK_ERR(sockx_set_passcred(nl, 1), EOPNOTSUPP);
	ck_assert_int_eq(passcred_of(nl), 0);
	sockx_close(nl);
	CHECK_ERR(sockx_set_passcred(NULL, 1), EINVAL);
	CHECK_ERR(sockx_set_passcred(NULL, 0), EINVAL);
	sockx_close(a);
	sockx_close(b);
	sockx_close(t);
	sockx_close(c);
	sockx_close(l);
	sockx_close(uc);
	sockx_close(u);
}
END_TEST

/* ---------------------------------------------------------------- */
/* send_cred and recv_cred                                             */
/* ---------------------------------------------------------------- */

/* The receiving end b of a new pair, with SO_PASSCRED on. */
static void
make_cred_pair(sockx **a, sockx **b, int type)
{
	make_pair(a, b, type);
	ck_assert_int_eq(sockx_set_passcred(*b, 1), 0);
}

/* Receive exactly the len bytes of want from b; their creds in *cr. */
static void
recv_expect(sockx *b, const char *want, size_t len, struct sockx_cred *cr)
{
	char buf[64];

	*cr = sentinel;
	ck_assert_int_eq(sockx_recv_cred(b, buf, len, cr, 5000),
	    (ssize_t)len);
	ck_assert_mem_eq(buf, want, len);
}

/*
 * Rule: cred NULL sends the caller's own {getpid(), geteuid(), getegid()},
 * received exactly; an explicit true cred works as well.  From a forked
 * child (its own pid), as root, as 65534 and with real ids 65534 but
 * effective ids 1000 (the effective ones are sent), on every type.
 */
START_TEST(send_cred_null_sends_the_callers_own_cred)
{
	int type = pair_types[_i % 3];
	enum ids ids = (enum ids)(_i / 3);
	struct sockx_cred cr;
	sockx *a, *b;
	pid_t pid;

	if (ids != AS_PARENT)
		need_root();
	make_cred_pair(&a, &b, type);
	pid = fork_checked();
	if (pid == 0) {
		struct sockx_cred own;
		int r = 0;

		if (become(ids) < 0)
			r = 1;
		else if (sockx_send_cred(a, "n1", 2, NULL, 5000) != 2)
			r = 2;
		own.pid = getpid();
		own.uid = geteuid();
		own.gid = getegid();
		if (r == 0 && sockx_send_cred(a, "t2", 2, &own, 5000) != 2)
			r = 3;
		child_exit(r, a, b);
	}
	expect_child_ok(pid);
	ck_assert_int_ne(pid, getpid());
	recv_expect(b, "n1", 2, &cr);
	check_cred(&cr, pid, euid_of(ids), egid_of(ids));
	recv_expect(b, "t2", 2, &cr);
	check_cred(&cr, pid, euid_of(ids), egid_of(ids));
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/*
 * Rule: forged credentials from an unprivileged process (another pid,
 * uid 0, gid 0) are -EPERM with errno EPERM, and nothing arrives: the
 * first thing the receiver gets is the true message sent after them.
 */
START_TEST(send_cred_forged_by_an_unprivileged_process_is_eperm)
{
	struct sockx_cred cr;
	char buf[8];
	sockx *a, *b;
	pid_t pid;

	need_root();
	make_cred_pair(&a, &b, pair_types[_i]);
	pid = fork_checked();
	if (pid == 0) {
		struct sockx_cred forged[3];
		int i, r = 0;

		if (drop_to_nobody() < 0)
			child_exit(1, a, b);
		forged[0] = (struct sockx_cred){ 1, NOBODY, NOBODY };
		forged[1] = (struct sockx_cred){ getpid(), 0, NOBODY };
		forged[2] = (struct sockx_cred){ getpid(), NOBODY, 0 };
		for (i = 0; i < 3 && r == 0; i++) {
			errno = 0;
			if (sockx_send_cred(a, "FF", 2, &forged[i], 1000) !=
			    -EPERM || errno != EPERM)
				r = 10 + i;
		}
		if (r == 0 && sockx_send_cred(a, "ok", 2, NULL, 1000) != 2)
			r = 20;
		child_exit(r, a, b);
	}
	expect_child_ok(pid);
	recv_expect(b, "ok", 2, &cr);
	check_cred(&cr, pid, NOBODY, NOBODY);
	cr = sentinel;
	CHECK_ERR(sockx_recv_cred(b, buf, sizeof(buf), &cr, 0), ETIMEDOUT);
	check_untouched(&cr);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/*
 * Rule: the kernel, not the library, judges credentials.  Root
 * (CAP_SETUID, CAP_SETGID, CAP_SYS_ADMIN) may send any uid and gid and any
 * existing pid, and they arrive as sent; a pid that does not exist is
 * -ESRCH from the kernel, with nothing sent.  So the EPERM above comes
 * from privilege, not from a check in the library.
 */
START_TEST(send_cred_forged_by_root_is_accepted_by_the_kernel)
{
	const struct sockx_cred ids = { getpid(), 1234, 5678 };
	const struct sockx_cred init = { 1, 0, 0 };
	const struct sockx_cred nopid = { INT_MAX, 0, 0 };
	struct sockx_cred cr;
	char buf[8];
	sockx *a, *b;

	need_root();
	make_cred_pair(&a, &b, SOCK_DGRAM);
	ck_assert_int_eq(sockx_send_cred(a, "i", 1, &ids, 1000), 1);
	recv_expect(b, "i", 1, &cr);
	check_cred(&cr, getpid(), 1234, 5678);
	ck_assert_int_eq(sockx_send_cred(a, "p", 1, &init, 1000), 1);
	recv_expect(b, "p", 1, &cr);
	check_cred(&cr, 1, 0, 0);
	CHECK_ERR(sockx_send_cred(a, "n", 1, &nopid, 1000), ESRCH);
	cr = sentinel;
	CHECK_ERR(sockx_recv_cred(b, buf, sizeof(buf), &cr, 0), ETIMEDOUT);
	check_untouched(&cr);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* Rule: an empty datagram may carry credentials (len 0 is not stream). */
START_TEST(send_cred_empty_datagram_carries_credentials)
{
	struct sockx_cred cr = sentinel;
	char buf[4];
	sockx *a, *b;

	make_cred_pair(&a, &b, SOCK_DGRAM);
	ck_assert_int_eq(sockx_send_cred(a, NULL, 0, NULL, 1000), 0);
	ck_assert_int_eq(sockx_recv_cred(b, buf, sizeof(buf), &cr, 1000), 0);
	check_cred(&cr, getpid(), geteuid(), getegid());
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/*
 * Rule: -EINVAL for a NULL handle, NULL buffer with len > 0, a bad timeout,
 * len 0 on a stream, a NULL cred (recv); nothing is sent or consumed and
 * *cred is untouched.
 */
START_TEST(send_and_recv_cred_reject_bad_arguments)
{
	struct sockx_cred cr = sentinel;
	char buf[4];
	sockx *a, *b;

	make_cred_pair(&a, &b, SOCK_STREAM);
	CHECK_ERR(sockx_send_cred(a, "", 0, NULL, 100), EINVAL);
	CHECK_ERR(sockx_send_cred(a, NULL, 0, NULL, 100), EINVAL);
	CHECK_ERR(sockx_send_cred(NULL, "x", 1, NULL, 100), EINVAL);
	CHECK_ERR(sockx_send_cred(a, NULL, 1, NULL, 100), EINVAL);
	CHECK_ERR(sockx_send_cred(a, "x", 1, NULL, -2), EINVAL);
	CHECK_ERR(sockx_recv_cred(b, buf, sizeof(buf), NULL, 100), EINVAL);
	CHECK_ERR(sockx_recv_cred(NULL, buf, sizeof(buf), &cr, 100), EINVAL);
	CHECK_ERR(sockx_recv_cred(b, NULL, 1, &cr, 100), EINVAL);
	CHECK_ERR(sockx_recv_cred(b, buf, sizeof(buf), &cr, -2), EINVAL);
	CHECK_ERR(sockx_recv_cred(b, buf, 0, &cr, 100), EINVAL);
	CHECK_ERR(sockx_recv_cred(b, NULL, 0, &cr, 100), EINVAL);
	check_untouched(&cr);
	/* Nothing was sent. */
	CHECK_ERR(sockx_read(b, buf, sizeof(buf), 0), ETIMEDOUT);
	/* Nothing was consumed: len 0 is refused even with data waiting. */
	ck_assert_int_eq(sockx_write(a, "d", 1, 100), 1);
	CHECK_ERR(sockx_recv_cred(b, buf, 0, &cr, 100), EINVAL);
	check_untouched(&cr);
	recv_expect(b, "d", 1, &cr);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/*
 * Rule: send_cred and recv_cred on TCP, UDP and netlink sockets are
 * -EOPNOTSUPP, with nothing sent or consumed.
 */
START_TEST(send_and_recv_cred_on_non_unix_sockets_are_eopnotsupp)
{
	struct sockx_cred cr = sentinel;
	sockx *l, *c, *t, *u, *uc, *nl;
	char buf[4];

	tcp_connection(&l, &c, &t);
	CHECK_ERR(sockx_send_cred(c, "x", 1, NULL, 100), EOPNOTSUPP);
	CHECK_ERR(sockx_read(t, buf, sizeof(buf), 0), ETIMEDOUT);
	ck_assert_int_eq(sockx_write(c, "y", 1, 100), 1);
	CHECK_ERR(sockx_recv_cred(t, buf, sizeof(buf), &cr, 1000),
	    EOPNOTSUPP);
	check_untouched(&cr);
	ck_assert_int_eq(sockx_read(t, buf, sizeof(buf), 1000), 1);

	udp_sockets(&u, &uc);
	CHECK_ERR(sockx_send_cred(uc, "x", 1, NULL, 100), EOPNOTSUPP);
	CHECK_ERR(sockx_read(u, buf, sizeof(buf), 0), ETIMEDOUT);
	CHECK_ERR(sockx_recv_cred(u, buf, sizeof(buf), &cr, 0), EOPNOTSUPP);
	check_untouched(&cr);
	nl = netlink_socket();
	CHECK_ERR(sockx_send_cred(nl, "x", 1, NULL, 100), EOPNOTSUPP);
	CHECK_ERR(sockx_recv_cred(nl, buf, sizeof(buf), &cr, 0), EOPNOTSUPP);
	check_untouched(&cr);
	sockx_close(nl);
	sockx_close(t);
	sockx_close(c);
	sockx_close(l);
	sockx_close(uc);
	sockx_close(u);
}
END_TEST

/*
 * Rule: credentials are taken at send time, not cached: after fork the
 * child's send_cred(NULL) carries the child's pid, not the parent's.
 */
START_TEST(send_cred_after_fork_carries_the_childs_pid)
{
	struct sockx_cred cr;
	sockx *a, *b;
	pid_t pid;

	make_cred_pair(&a, &b, pair_types[_i]);
	ck_assert_int_eq(sockx_send_cred(a, "p", 1, NULL, 1000), 1);
	recv_expect(b, "p", 1, &cr);
	check_cred(&cr, getpid(), geteuid(), getegid());
	pid = fork_checked();
	if (pid == 0)
		child_exit(sockx_send_cred(a, "c", 1, NULL, 5000) == 1 ? 0 : 1,
		    a, b);
	expect_child_ok(pid);
	recv_expect(b, "c", 1, &cr);
	check_cred(&cr, pid, geteuid(), getegid());
	ck_assert_int_ne(cr.pid, getpid());
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* recv_cred when no credentials came                                  */
/* ---------------------------------------------------------------- */

/*
 * Rule: a receiver without SO_PASSCRED gets {-1, -1, -1}, even when the
 * sender attached credentials.
 */
START_TEST(recv_cred_without_passcred_reports_none)
{
	struct sockx_cred cr;
	sockx *a, *b;

	make_pair(&a, &b, pair_types[_i]);
	ck_assert_int_eq(passcred_of(b), 0);
	ck_assert_int_eq(sockx_send_cred(a, "s", 1, NULL, 1000), 1);
	recv_expect(b, "s", 1, &cr);
	check_none(&cr);
	ck_assert_int_eq(sockx_write(a, "w", 1, 1000), 1);
	recv_expect(b, "w", 1, &cr);
	check_none(&cr);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/*
 * Rule: data queued before the receiver turned SO_PASSCRED on carries the
 * kernel's placeholder (pid 0, uid/gid 65534), which is no sender:
 * {-1, -1, -1}.  The first message checks the premise with a raw recvmsg.
 */
START_TEST(recv_cred_of_data_queued_before_passcred_reports_none)
{
	struct sockx_cred cr;
	struct ucred uc;
	char buf[4];
	sockx *a, *b;

	make_pair(&a, &b, pair_types[_i]);
	ck_assert_int_eq(sockx_write(a, "x", 1, 1000), 1);
	ck_assert_int_eq(sockx_write(a, "y", 1, 1000), 1);
	ck_assert_int_eq(sockx_set_passcred(b, 1), 0);
	ck_assert_int_eq(raw_recv_ucred(b, buf, 1, &uc), 1);
	ck_assert_int_eq(buf[0], 'x');
	ck_assert_msg(uc.pid == 0 && uc.uid == NOBODY && uc.gid == NOBODY,
	    "kernel placeholder {%ld, %ld, %ld}", (long)uc.pid,
	    (long)uc.uid, (long)uc.gid);
	recv_expect(b, "y", 1, &cr);
	check_none(&cr);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/*
 * Rule: with SO_PASSCRED on, a plain sockx_write arrives with the
 * writer's credentials (a 65534 child here).
 */
START_TEST(recv_cred_reports_a_plain_writer_once_passcred_is_on)
{
	struct sockx_cred cr;
	sockx *a, *b;
	pid_t pid;

	need_root();
	make_cred_pair(&a, &b, pair_types[_i]);
	pid = fork_checked();
	if (pid == 0) {
		int r = 0;

		if (drop_to_nobody() < 0)
			r = 1;
		else if (sockx_write(a, "w", 1, 5000) != 1)
			r = 2;
		child_exit(r, a, b);
	}
	expect_child_ok(pid);
	recv_expect(b, "w", 1, &cr);
	check_cred(&cr, pid, NOBODY, NOBODY);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* recv_cred: descriptors and failures                                  */
/* ---------------------------------------------------------------- */

/* Three descriptors to send: a pipe's two ends and /dev/null. */
static void
open_three(int fds[3])
{
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	fds[2] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fds[2], 0);
}

static void
close_three(const int fds[3])
{
	ck_assert_int_eq(close(fds[0]), 0);
	ck_assert_int_eq(close(fds[1]), 0);
	ck_assert_int_eq(close(fds[2]), 0);
}

/*
 * Rule: descriptors that arrive with the data are closed: recv_cred
 * returns the bytes and the creds, and the descriptor count is unchanged.
 */
START_TEST(recv_cred_closes_descriptors_that_come_with_data)
{
	struct sockx_cred cr;
	sockx *a, *b;
	int fds[3], n;

	make_cred_pair(&a, &b, pair_types[_i]);
	open_three(fds);
	n = sxt_count_fds();
	ck_assert_int_eq(sockx_send_fds(a, "abc", 3, fds, 3, 1000), 3);
	recv_expect(b, "abc", 3, &cr);
	check_cred(&cr, getpid(), geteuid(), getegid());
	ck_assert_int_eq(sxt_count_fds(), n);
	close_three(fds);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/* Rule: *cred is written only on success: -ETIMEDOUT leaves it alone. */
START_TEST(recv_cred_timeout_leaves_cred_untouched)
{
	struct sockx_cred cr = sentinel;
	char buf[4];
	sockx *a, *b;

	make_cred_pair(&a, &b, pair_types[_i]);
	CHECK_ERR(sockx_recv_cred(b, buf, sizeof(buf), &cr, 0), ETIMEDOUT);
	check_untouched(&cr);
	CHECK_ERR(sockx_recv_cred(b, buf, sizeof(buf), &cr, 30), ETIMEDOUT);
	check_untouched(&cr);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

/*
 * Rule: a datagram or seqpacket message longer than the buffer is
 * -EMSGSIZE: *cred untouched, the descriptors that came with it closed,
 * the message consumed.
 */
START_TEST(recv_cred_of_a_cut_message_is_emsgsize)
{
	static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET };
	struct sockx_cred cr = sentinel;
	char buf[4];
	sockx *a, *b;
	int fds[3], n;

	make_cred_pair(&a, &b, types[_i]);
	open_three(fds);
	n = sxt_count_fds();
	ck_assert_int_eq(sockx_send_fds(a, "long", 4, fds, 3, 1000), 4);
	CHECK_ERR(sockx_recv_cred(b, buf, 2, &cr, 1000), EMSGSIZE);
	check_untouched(&cr);
	ck_assert_int_eq(sxt_count_fds(), n);
	CHECK_ERR(sockx_recv_cred(b, buf, sizeof(buf), &cr, 0), ETIMEDOUT);
	check_untouched(&cr);
	close_three(fds);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("cred");
	TCase *tc;

	tc = sx_tcase("peer_cred", 10);
	tcase_add_loop_test(tc,
	    peer_cred_reports_the_other_end_of_a_connection, 0,
	    (int)(sizeof(conn_cases) / sizeof(conn_cases[0])));
	tcase_add_loop_test(tc,
	    peer_cred_of_a_socketpair_is_its_creator_across_fork, 0, 3);
	tcase_add_test(tc,
	    peer_cred_of_a_peer_outside_our_pid_namespace_is_pid_minus_one);
	suite_add_tcase(s, tc);

	tc = sx_tcase("no_peer", 10);
	tcase_add_loop_test(tc, peer_cred_of_a_listener_is_enotconn, 0, 2);
	tcase_add_loop_test(tc, peer_cred_of_an_unconnected_socket_is_enotconn,
	    0, 3);
	tcase_add_test(tc,
	    peer_cred_of_a_connected_datagram_socket_is_enotconn);
	tcase_add_test(tc, peer_cred_of_non_unix_sockets_is_eopnotsupp);
	tcase_add_test(tc, peer_cred_and_pidfd_with_null_are_einval);
	suite_add_tcase(s, tc);

	tc = sx_tcase("peer_pidfd", 10);
	tcase_add_test(tc, peer_pidfd_is_the_live_peer_and_esrch_once_reaped);
	tcase_add_test(tc, peer_pidfd_of_a_zombie_peer_is_esrch);
	tcase_add_test(tc, peer_pidfd_of_a_peer_we_may_not_signal_is_a_pidfd);
	tcase_add_loop_test(tc, peer_pidfd_of_a_socketpair_is_its_creator, 0,
	    3);
	suite_add_tcase(s, tc);

	tc = sx_tcase("passcred", 10);
	tcase_add_test(tc, set_passcred_sets_so_passcred);
	suite_add_tcase(s, tc);

	tc = sx_tcase("send_recv", 10);
	tcase_add_loop_test(tc, send_cred_null_sends_the_callers_own_cred, 0,
	    9);
	tcase_add_loop_test(tc,
	    send_cred_forged_by_an_unprivileged_process_is_eperm, 0, 3);
	tcase_add_test(tc, send_cred_forged_by_root_is_accepted_by_the_kernel);
	tcase_add_test(tc, send_cred_empty_datagram_carries_credentials);
	tcase_add_test(tc, send_and_recv_cred_reject_bad_arguments);
	tcase_add_test(tc,
	    send_and_recv_cred_on_non_unix_sockets_are_eopnotsupp);
	tcase_add_loop_test(tc, send_cred_after_fork_carries_the_childs_pid, 0,
	    3);
	suite_add_tcase(s, tc);

	tc = sx_tcase("no_cred", 10);
	tcase_add_loop_test(tc, recv_cred_without_passcred_reports_none, 0, 3);
	tcase_add_loop_test(tc,
	    recv_cred_of_data_queued_before_passcred_reports_none, 0, 3);
	tcase_add_loop_test(tc,
	    recv_cred_reports_a_plain_writer_once_passcred_is_on, 0, 3);
	suite_add_tcase(s, tc);

	tc = sx_tcase("recv_failures", 10);
	tcase_add_loop_test(tc,
	    recv_cred_closes_descriptors_that_come_with_data, 0, 3);
	tcase_add_loop_test(tc, recv_cred_timeout_leaves_cred_untouched, 0, 3);
	tcase_add_loop_test(tc, recv_cred_of_a_cut_message_is_emsgsize, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
