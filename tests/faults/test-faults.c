/* SPDX-License-Identifier: MIT */
/*
 * test-faults.c - every public function of libsockx under every fault the
 * C library calls it makes can meet, injected by the LD_PRELOAD shim
 * faultinject.c (faultinject.h) into the calls libsockx itself makes:
 * EINTR, EAGAIN, failed allocations, ENOMEM, ENOBUFS, EMFILE, ENFILE,
 * LSM denials (EACCES, EPERM), short reads and writes, MSG_CTRUNC made by
 * the kernel, spurious and interrupted select/poll waits, interrupted
 * sleeps, and EINTR after close(2) and after a TCP connect(2) (which Linux
 * completes anyway).  Each is a fault the kernel can produce: EINTR from
 * a socket call needs a blocking descriptor, which kernel-timeout mode
 * makes and which anyone holding a copy of the open file description can
 * make (O_NONBLOCK is shared); LSM hooks sit on every socket call, fcntl,
 * ioctl and chmod.
 *
 * The sweep (faults_sweep) takes one scenario, a public call on real
 * sockets with real peers (socketpairs, abstract and path listeners, TCP
 * on loopback), and for each fault row and n = 1, 2, ... until the fault
 * no longer fires, makes the n-th call to that libc function within the
 * public call fail (a row may fix other faults beside it, e.g. "every
 * sendmsg moves 1000 bytes").  After every run it checks the contract:
 *  - the result is success or a negative errno that the row allows, with
 *    errno set to it; EINTR never comes out, nor EAGAIN from a timed call;
 *    resource errors come out as themselves (or as the contract maps
 *    them); absorbed faults (EINTR, EAGAIN, short transfers, spurious
 *    wake-ups) give the result of a clean run;
 *  - out-parameters are untouched on failure; `done` equals the bytes
 *    the peer received (or the stream gave); `nfds` is exact and the
 *    descriptors received are the files that were sent, close-on-exec;
 *    new handles own a non-blocking, close-on-exec descriptor;
 *  - what a failed call did not consume is still there for the next call,
 *    and what it sent is exactly what the peer gets, descriptors once;
 *  - no descriptor leaks (listed around every run, besides the fixture of
 *    every test) and no block libsockx allocated outlives the run (where
 *    the shim sees frees: not under valgrind or ASan, whose own leak
 *    checks run instead);
 *  - a socket file that sockx_listen created is gone after it failed.
 * Every row must fire at least once where the shim reaches the function
 * (ASan's allocator and valgrind's replace malloc and calloc: those rows
 * are skipped and said so).  Other tests: spurious wake-ups on every wait
 * make no call spin or fail, and do not make a TCP connect in progress
 * look done (sockx_peer_pidfd is left out: it trusts the kernel's pidfd
 * readiness, which is exact, to tell that a peer exited); signals that
 * cut waits and sleeps
 * short do not stretch a deadline; the calls that meet no fault.
 *
 * A run that breaks the contract is recorded and the sweep goes on, so
 * one test reports every broken row ("# FAIL" lines), then fails.  Each
 * test prints how many runs it made and faults it injected.  With
 * SXF_TABLE=1 in the environment the sweeps list every (function,
 * variant, fault) that fired; with SXF_TRACE=1 the shim writes every call
 * it counted to stderr.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <sockx.h>

#include "sxf-shim.h"
#include "sxtest.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* snprintf into an array, which the text must fit. */
#define FMT(buf, ...) \
	ck_assert_msg((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__) < \
	    sizeof(buf), "text too long for " #buf)

/* ---------------------------------------------------------------- */
/* The shim                                                          */
/* ---------------------------------------------------------------- */

/* "select" or "poll": the wait backend libsockx was built with. */
static const char *wait_fn;

static void
shim(void)
{
	sockx *a, *b;

	if (sxf.begin != NULL)
		return;
	sxf_load();
	/* The backend: the primitive a wait calls. */
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	sxf.begin();
	ck_assert_int_eq(sockx_wait(a, SOCKX_WRITABLE, 0), SOCKX_WRITABLE);
	sxf.end();
	wait_fn = sxf.calls("select") > 0 ? "select" : "poll";
	ck_assert_uint_gt(sxf.calls(wait_fn), 0);
	sockx_close(a);
	sockx_close(b);
}

/* The slack timing checks get: CK_TIMEOUT_MULTIPLIER (valgrind: 10). */
static double
slowdown(void)
{
	const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
	double v = m != NULL ? atof(m) : 1.0;

	return v >= 1.0 ? v : 1.0;
}

/* ---------------------------------------------------------------- */
/* Failures are collected, so that one sweep reports every row        */
/* ---------------------------------------------------------------- */

static char where[256];		/* the run being checked */
static unsigned nfail;
static char first_fail[700];

static void __attribute__((format(printf, 1, 2)))
record(const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (nfail++ == 0)
		snprintf(first_fail, sizeof(first_fail), "%s: %s", where, msg);
	if (nfail <= 200)
		printf("# FAIL %s: %s\n", where, msg);
	fflush(stdout);
}

#define EXPECT(cond, ...) \
	do { \
		if (!(cond)) \
			record(__VA_ARGS__); \
	} while (0)

static void
start(void)
{
	shim();
	nfail = 0;
	first_fail[0] = '\0';
	where[0] = '\0';
}

static void
finish(void)
{
	printf("# %lu faults injected by this test\n", sxf.total());
	fflush(stdout);
	ck_assert_msg(nfail == 0, "%u contract violation(s) under faults; "
	    "first: %s", nfail, first_fail);
}

static const char *
ename(int e)
{
	const char *n = e > 0 ? strerrorname_np(e) : NULL;

	return n != NULL ? n : "?";
}

/* ---------------------------------------------------------------- */
/* Descriptors                                                       */
/* ---------------------------------------------------------------- */

struct fdlist {
	size_t n;
	int fd[512];
};

static void
fd_list(struct fdlist *l)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");

	ck_assert_ptr_nonnull(d);
	l->n = 0;
	while ((e = readdir(d)) != NULL) {
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd != dirfd(d) && l->n < NELEM(l->fd))
			l->fd[l->n++] = fd;
	}
	closedir(d);
}

static int
fd_in(const struct fdlist *l, int fd)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->fd[i] == fd)
			return 1;
	return 0;
}

/* Nothing opened or closed since before; records the difference. */
static void
fd_same(const struct fdlist *before)
{
	struct fdlist now;
	size_t i;

	fd_list(&now);
	for (i = 0; i < now.n; i++)
		EXPECT(fd_in(before, now.fd[i]), "descriptor %d leaked",
		    now.fd[i]);
	for (i = 0; i < before->n; i++)
		EXPECT(fd_in(&now, before->fd[i]),
		    "descriptor %d closed, and it was not the library's",
		    before->fd[i]);
}

static int
is_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

static int
is_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl >= 0 && (fl & FD_CLOEXEC);
}

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* A handle the library owns is non-blocking (or not, in kernel mode). */
static void
check_handle(sockx *s, int kmode, const char *what)
{
	int fd = sockx_fd(s);

	EXPECT(fd >= 0 && is_open(fd), "%s: no descriptor", what);
	EXPECT(is_cloexec(fd), "%s: descriptor %d not close-on-exec", what, fd);
	EXPECT(kmode || is_nonblock(fd), "%s: descriptor %d not O_NONBLOCK",
	    what, fd);
}

/* ---------------------------------------------------------------- */
/* Fault rows and scenarios                                          */
/* ---------------------------------------------------------------- */

enum want {
	OK = 1,		/* absorbed: the result of a clean run */
	ERR,		/* fails with -arg (or -out) */
	ANY,		/* either */
};

/* Rows that apply to some variants of a scenario only. */
#define O_STREAM	0x1u	/* stream sockets (short transfers) */
#define O_POLLING	0x2u	/* not in kernel-timeout mode (waits) */
#define O_KMODE		0x4u	/* kernel-timeout mode only */
#define O_SELECT	0x8u	/* the select backend only */

struct rulespec {
	const char *fn;		/* "wait": the backend's select or poll */
	unsigned nth;		/* companions: the call; primary: swept */
	unsigned times;		/* 0: every call from nth on */
	int mode, arg;
};

struct fault {
	struct rulespec r;	/* the fault swept over n = 1, 2, ... */
	enum want want;
	int out;		/* another errno that may come out */
	int mapped;		/* ... and the injected one may not */
	unsigned only;		/* O_* */
	unsigned first;		/* the first call faulted (0: 1) */
	unsigned maxn;		/* the last (0: MAXN) */
	struct rulespec also[2];	/* companions, fixed */
};

#define MAXN 8

#define RULE(fn, mode, arg)	{ fn, 1, 1, mode, arg }
/* Fail with errno e before anything happened (FAILS_: more fields). */
#define FAILS(fn, e) \
	{ .r = RULE(fn, SXF_FAIL, e), .want = ERR }
#define FAILS_(fn, e, ...) \
	{ .r = RULE(fn, SXF_FAIL, e), .want = ERR, __VA_ARGS__ }
/* A fault the call must absorb (ABSORBS_: more fields). */
#define ABSORBS(fn, mode, arg) \
	{ .r = RULE(fn, mode, arg), .want = OK }
#define ABSORBS_(fn, mode, arg, ...) \
	{ .r = RULE(fn, mode, arg), .want = OK, __VA_ARGS__ }
/* Companion rules. */
#define ALSO(fn, nth, times, mode, arg)	{ fn, nth, times, mode, arg }

/* The faults of a socket(2) that creates a descriptor. */
#define SOCKET_FAULTS(fn) \
	FAILS(fn, EMFILE), FAILS(fn, ENFILE), FAILS(fn, ENOBUFS), \
	FAILS(fn, ENOMEM), FAILS(fn, EACCES)

/* A wait that happens because the first attempt said EAGAIN. */
#define WAIT_FAULTS(afn) \
	ABSORBS_("wait", SXF_FAIL, EINTR, .only = O_POLLING, \
	    .also = { ALSO(afn, 1, 1, SXF_FAIL, EAGAIN) }), \
	FAILS_("wait", ENOMEM, .only = O_POLLING, \
	    .also = { ALSO(afn, 1, 1, SXF_FAIL, EAGAIN) }), \
	ABSORBS_("wait", SXF_SPURIOUS, 0, .only = O_POLLING, \
	    .also = { ALSO(afn, 1, 1, SXF_FAIL, EAGAIN) }), \
	ABSORBS_("wait", SXF_INTERRUPT, 1, .only = O_POLLING, \
	    .also = { ALSO(afn, 1, 1, SXF_FAIL, EAGAIN) }), \
	/* EAGAIN right after a wait that said ready: a backoff sleep. */ \
	ABSORBS_("clock_nanosleep", SXF_FAIL, EINTR, .only = O_POLLING, \
	    .also = { ALSO(afn, 1, 2, SXF_FAIL, EAGAIN) })

struct variant {
	const char *name;
	int type;		/* socket type, or 0 */
	int kmode;		/* the handle under test in kernel mode */
	int x;			/* scenario-specific */
};

struct ctx;

struct scenario {
	const char *name;	/* the public function */
	int timed;		/* EAGAIN must never come out */
	int clean;		/* what a clean run returns: 0 success, -errno */
	const struct variant *v;
	size_t nv;
	void (*setup)(struct ctx *);
	long (*call)(struct ctx *);
	void (*check)(struct ctx *, long r);
	void (*teardown)(struct ctx *);
	const struct fault *faults;
	size_t nfaults;
	/* NULL, or what the system lacks to run it (then skipped) */
	const char *(*lacks)(void);
};

#define SENTINEL	(-7)
static long sentinel_obj;
#define SENT		((sockx *)(void *)&sentinel_obj)
#define BYTE_POISON	0xA5

/* Everything a run needs; zeroed before each one. */
struct ctx {
	const struct scenario *sc;
	const struct variant *v;
	const struct fault *f;
	unsigned nth;
	int fired;		/* the swept fault fired */
	int err;		/* errno after the call */
	double elapsed;		/* the call's wall time */
	sockx *a, *b, *l, *l2;	/* made by setup */
	sockx *out, *out2;	/* out-parameters */
	int fd, fd2;		/* raw descriptors */
	int files[3];		/* files sent with messages */
	struct stat fst[3];	/* ... their identities */
	int fds[8];		/* descriptors received */
	size_t nfds, done;
	int clients[8];		/* raw clients filling a backlog */
	size_t nclients;
	struct sockaddr_storage ss, ss2;
	socklen_t sl, sl2;
	int type;
	struct sockx_cred cred;
	char addr[3][PATH_MAX + 32];
	const char *addrs[3];
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	struct stat stale;	/* a stale socket file put there, or ino 0 */
	mode_t umask;
	unsigned char buf[8192];
	pthread_t thread;
	size_t got;		/* bytes a peer thread received */
	int bad;		/* ... not as sent */
};

static struct ctx c_;

/* The pattern of byte i of a long transfer. */
static unsigned char
pat(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

static unsigned char pattern[1 << 19];

static void
pattern_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = pat(i);
}

/* Rule spec with "wait" turned into the backend's function. */
static const char *
fn_name(const char *fn)
{
	return strcmp(fn, "wait") == 0 ? wait_fn : fn;
}

static int
row_applies(const struct fault *f, const struct variant *v)
{
	if ((f->only & O_STREAM) && v->type != SOCK_STREAM)
		return 0;
	if ((f->only & O_POLLING) && v->kmode)
		return 0;
	if ((f->only & O_KMODE) && !v->kmode)
		return 0;
	if ((f->only & O_SELECT) && strcmp(wait_fn, "select") != 0)
		return 0;
	return 1;
}

static const char *
mode_name(int mode)
{
	switch (mode) {
	case SXF_FAIL: return "fail";
	case SXF_FAIL_AFTER: return "fail-after";
	case SXF_SHORT: return "short";
	case SXF_CTRUNC: return "ctrunc";
	case SXF_SPURIOUS: return "spurious";
	case SXF_INTERRUPT: return "interrupted after ms";
	default: return "?";
	}
}

static void
describe(char *buf, size_t size, const struct rulespec *r)
{
	if (r->mode == SXF_FAIL || r->mode == SXF_FAIL_AFTER)
		snprintf(buf, size, "%s %s %s", fn_name(r->fn),
		    mode_name(r->mode), ename(r->arg));
	else
		snprintf(buf, size, "%s %s(%d)", fn_name(r->fn),
		    mode_name(r->mode), r->arg);
}

/* Statistics of a test. */
static unsigned long runs, injected;

static void
add_rule(const struct rulespec *r, unsigned nth)
{
	ck_assert_msg(sxf.add(fn_name(r->fn), nth, r->times, r->mode,
	    r->arg) == 0, "the shim refused rule %s %d", r->fn, r->mode);
}

/*
 * The errno the swept fault may bring out: the one it injects, unless the
 * contract absorbs it (EINTR, EAGAIN) or it is not an errno.
 */
static int
fault_errno(const struct fault *f)
{
	if ((f->r.mode != SXF_FAIL && f->r.mode != SXF_FAIL_AFTER) ||
	    f->mapped)
		return 0;
	return f->r.arg == EINTR || f->r.arg == EAGAIN ? 0 : f->r.arg;
}

/* Does r come out as the row allows an error to? */
static int
allowed_error(const struct fault *f, long r)
{
	int e = fault_errno(f);

	return r < 0 && ((e != 0 && r == -e) || (f->out != 0 &&
	    r == -f->out));
}

/* The result r of a run against the row: records what breaks it. */
static void
judge(const struct ctx *c, long r)
{
	const struct fault *f = c->f;
	int e = fault_errno(f);
	/*
	 * The run that ends a sweep (the swept fault did not fire) is a
	 * clean run, unless companions still fired: then either outcome.
	 */
	int want = c->fired ? (int)f->want : f->also[0].fn != NULL ? ANY : OK;

	if (r < 0) {
		EXPECT(c->err == -r, "returned %ld but errno is %d", r,
		    c->err);
		EXPECT(r != -EINTR, "EINTR came out");
		EXPECT(!c->sc->timed || r != -EAGAIN,
		    "EAGAIN came out of a timed call");
	}
	switch (want) {
	case OK:
		if (c->sc->clean == 0)
			EXPECT(r >= 0, "failed with %s where a clean run "
			    "succeeds", ename((int)-r));
		else
			EXPECT(r == c->sc->clean, "returned %ld (%s) where "
			    "a clean run gives %s", r,
			    r < 0 ? ename((int)-r) : "success",
			    ename(-c->sc->clean));
		break;
	case ERR:
		EXPECT(allowed_error(f, r), "returned %ld (%s), not %s%s%s",
		    r, r < 0 ? ename((int)-r) : "success",
		    e != 0 ? ename(e) : "", e != 0 && f->out != 0 ? " or " : "",
		    f->out != 0 ? ename(f->out) : "");
		break;
	case ANY:
		EXPECT(r >= 0 || allowed_error(f, r) ||
		    (c->sc->clean != 0 && r == c->sc->clean),
		    "returned %s, neither success nor %s%s%s",
		    ename((int)-r), e != 0 ? ename(e) : "",
		    e != 0 && f->out != 0 ? " nor " : "",
		    f->out != 0 ? ename(f->out) : "");
		break;
	}
}

/* One run: the public call under fault f at call nth. */
static int
run(const struct scenario *sc, const struct variant *v,
    const struct fault *f, unsigned nth)
{
	struct ctx *c = &c_;
	struct fdlist before;
	char desc[96];
	double t0;
	unsigned i, fired;
	long r, live;

	describe(desc, sizeof(desc), &f->r);
	snprintf(where, sizeof(where), "%s (%s) under %s at call %u",
	    sc->name, v->name, desc, nth);
	fd_list(&before);
	memset(c, 0, sizeof(*c));
	c->sc = sc;
	c->v = v;
	c->f = f;
	c->nth = nth;
	c->fd = c->fd2 = -1;
	c->out = c->out2 = SENT;
	sc->setup(c);
	sxf.begin();
	add_rule(&f->r, nth);
	for (i = 0; i < NELEM(f->also) && f->also[i].fn != NULL; i++)
		add_rule(&f->also[i], f->also[i].nth);
	t0 = sxt_now();
	errno = 0;
	r = sc->call(c);
	c->err = errno;
	c->elapsed = sxt_now() - t0;
	fired = sxf.rule_fired(0);
	injected += sxf.end();
	runs++;
	c->fired = fired > 0;
	judge(c, r);
	sc->check(c, r);
	sc->teardown(c);
	fd_same(&before);
	live = sxf.live();
	EXPECT(live == 0 || live == -2,
	    "%ld block(s) the library allocated are not freed", live);
	return c->fired;
}

/* Every row of sc, every variant, n = 1 .. until it no longer fires. */
static void
sweep(const struct scenario *sc)
{
	unsigned long runs0 = runs, inj0 = injected;
	size_t i, k;
	unsigned n, max;
	char desc[96];

	for (k = 0; k < sc->nv; k++) {
		const struct variant *v = &sc->v[k];

		for (i = 0; i < sc->nfaults; i++) {
			const struct fault *f = &sc->faults[i];
			int reach;

			if (!row_applies(f, v))
				continue;
			reach = sxf.interposed(fn_name(f->r.fn));
			ck_assert_int_ge(reach, 0);
			max = f->maxn != 0 ? f->maxn : MAXN;
			n = f->first != 0 ? f->first : 1;
			for (; n <= max; n++)
				if (!run(sc, v, f, n))
					break;
			if (n > (f->first != 0 ? f->first : 1) &&
			    getenv("SXF_TABLE") != NULL) {
				describe(desc, sizeof(desc), &f->r);
				printf("# covered: %s | %s | %s\n", sc->name,
				    v->name, desc);
			}
			if (n == (f->first != 0 ? f->first : 1)) {
				describe(desc, sizeof(desc), &f->r);
				snprintf(where, sizeof(where), "%s (%s) under %s",
				    sc->name, v->name, desc);
				if (reach)
					record("the fault never fired: the "
					    "call does not reach it");
				else
					printf("# skipped: %s: %s is not the "
					    "shim's in this build\n", where,
					    fn_name(f->r.fn));
			}
		}
	}
	printf("# %s: %lu runs, %lu faults injected\n", sc->name,
	    runs - runs0, injected - inj0);
	fflush(stdout);
}

/* ---------------------------------------------------------------- */
/* Helpers of the scenarios                                          */
/* ---------------------------------------------------------------- */

static void
make_pair(struct ctx *c, int type)
{
	ck_assert_int_eq(sockx_pair(&c->a, &c->b, type), 0);
	if (c->v->kmode)
		ck_assert_int_eq(sockx_set_kernel_timeouts(c->a, 1), 0);
}

static void
close_all(struct ctx *c)
{
	sockx *h[] = { c->a, c->b, c->l, c->l2 };
	size_t i;

	for (i = 0; i < NELEM(h); i++)
		if (h[i] != NULL)
			sockx_close(h[i]);
	if (c->out != SENT && c->out != NULL)
		sockx_close(c->out);
	if (c->out2 != SENT && c->out2 != NULL)
		sockx_close(c->out2);
	if (c->fd >= 0)
		close(c->fd);
	if (c->fd2 >= 0)
		close(c->fd2);
	for (i = 0; i < NELEM(c->files); i++)
		if (c->files[i] > 0)
			close(c->files[i]);
	c->a = c->b = c->l = c->l2 = NULL;
	c->out = c->out2 = SENT;
	c->fd = c->fd2 = -1;
	memset(c->files, 0, sizeof(c->files));
}

/* Three distinct files to send; their identities in c->fst. */
static void
open_files(struct ctx *c)
{
	size_t i;

	for (i = 0; i < NELEM(c->files); i++) {
		c->files[i] = memfd_create("sxf", MFD_CLOEXEC);
		ck_assert_int_gt(c->files[i], 0);
		ck_assert_int_eq(fstat(c->files[i], &c->fst[i]), 0);
	}
}

/* The descriptors of fds are the files of c, in order, close-on-exec. */
static void
check_files(struct ctx *c, const int *fds, size_t n)
{
	struct stat st;
	size_t i;

	for (i = 0; i < n; i++) {
		EXPECT(fstat(fds[i], &st) == 0 &&
		    st.st_ino == c->fst[i].st_ino &&
		    st.st_dev == c->fst[i].st_dev,
		    "received fds[%zu] = %d is not the file sent", i, fds[i]);
		EXPECT(is_cloexec(fds[i]), "received fds[%zu] = %d is not "
		    "close-on-exec", i, fds[i]);
	}
}

static void
close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Send data with the files of c (and credentials if cred) on raw fd. */
static void
raw_send(struct ctx *c, int fd, const void *data, size_t len, int nfiles,
    int cred)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	struct ucred uc = { getpid(), geteuid(), getegid() };
	size_t used = 0;

	memset(&u, 0, sizeof(u));
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&m);
	if (cred) {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_CREDENTIALS;
		cm->cmsg_len = CMSG_LEN(sizeof(uc));
		memcpy(CMSG_DATA(cm), &uc, sizeof(uc));
		used += CMSG_SPACE(sizeof(uc));
		cm = CMSG_NXTHDR(&m, cm);
	}
	if (nfiles > 0) {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfiles);
		memcpy(CMSG_DATA(cm), c->files, sizeof(int) * (size_t)nfiles);
		used += CMSG_SPACE(sizeof(int) * (size_t)nfiles);
	}
	m.msg_controllen = used;
	if (used == 0)
		m.msg_control = NULL;
	ck_assert_int_eq(sendmsg(fd, &m, MSG_NOSIGNAL), (ssize_t)len);
}

/* Everything s has to read now, up to max bytes; descriptors closed. */
static size_t
drain(sockx *s, unsigned char *buf, size_t max)
{
	size_t got = 0;
	ssize_t n;

	while (got < max &&
	    (n = sockx_read(s, buf + got, max - got, 0)) > 0)
		got += (size_t)n;
	return got;
}

/* A private directory under /tmp. */
static void
make_dir(struct ctx *c)
{
	sxt_tmpdir(c->dir, sizeof(c->dir));
}

static void
remove_dir(struct ctx *c)
{
	if (c->path[0] != '\0')
		unlink(c->path);
	if (c->dir[0] != '\0') {
		char sub[PATH_MAX + 200];

		/* The long-path scenarios' subdirectory. */
		FMT(sub, "%s/%0100d", c->dir, 0);
		rmdir(sub);
		ck_assert_int_eq(rmdir(c->dir), 0);
	}
}

/* A path longer than sun_path: <dir>/000...0 (100 digits)/sock. */
static void
long_path(struct ctx *c)
{
	char sub[PATH_MAX];

	FMT(sub, "%s/%0100d", c->dir, 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	FMT(c->path, "%s/sock", sub);
	ck_assert_uint_gt(strlen(c->path), sizeof(((struct sockaddr_un *)0)
	    ->sun_path));
}

/* Accept every connection waiting on l at once, and close it. */
static void
drain_listener(sockx *l)
{
	sockx *s;

	while (sockx_accept(l, &s, 0) == 0)
		sockx_close(s);
}

/* The port of the TCP listener l, as "127.0.0.1:PORT" or "[::1]:PORT". */
static void
tcp_text(const sockx *l, char *buf, size_t size)
{
	sxt_local_text(l, "", buf, size);
}

/* One byte from a to b, raw or handles. */
static int
exchange(sockx *a, sockx *b)
{
	char ch = 0;

	return sockx_write(a, "z", 1, 1000) == 1 &&
	    sockx_read(b, &ch, 1, 1000) == 1 && ch == 'z';
}

/* ---------------------------------------------------------------- */
/* sockx_addr_parse: a zone by interface name asks the kernel          */
/* ---------------------------------------------------------------- */

static char ifname[IF_NAMESIZE];

static void
parse_setup(struct ctx *c)
{
	if (ifname[0] == '\0') {
		struct if_nameindex *ni = if_nameindex();

		ck_assert_msg(ni != NULL && ni[0].if_name != NULL,
		    "no network interface to name a zone by");
		snprintf(ifname, sizeof(ifname), "%s", ni[0].if_name);
		if_freenameindex(ni);
	}
	FMT(c->addr[0], "[fe80::1%%%s]:80", ifname);
	memset(&c->ss, BYTE_POISON, sizeof(c->ss));
	c->sl = 4242;
	c->type = 4242;
}

static long
parse_call(struct ctx *c)
{
	return sockx_addr_parse(c->addr[0], &c->ss, &c->sl, &c->type);
}

static void
parse_check(struct ctx *c, long r)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c->ss;
	unsigned char poison[sizeof(c->ss)];

	if (r == 0) {
		EXPECT(s6->sin6_family == AF_INET6 &&
		    s6->sin6_scope_id == if_nametoindex(ifname) &&
		    c->sl == sizeof(*s6) && c->type == SOCK_STREAM,
		    "a wrong address");
		return;
	}
	memset(poison, BYTE_POISON, sizeof(poison));
	EXPECT(memcmp(&c->ss, poison, sizeof(poison)) == 0 &&
	    c->sl == 4242 && c->type == 4242,
	    "out-parameters written on failure");
}

static void
nothing(struct ctx *c)
{
	(void)c;
}

static const struct fault parse_faults[] = {
	SOCKET_FAULTS("socket"),
	FAILS("ioctl", EACCES),
	ABSORBS("close", SXF_FAIL_AFTER, EINTR),
};

static const struct variant v_none[] = { { "-", 0, 0, 0 } };

/* ---------------------------------------------------------------- */
/* sockx_connect                                                     */
/* ---------------------------------------------------------------- */

enum { CONN_UNIX, CONN_PACKET, CONN_TCP, CONN_LONG, CONN_DGRAM };

static const struct variant v_connect[] = {
	{ "unix stream", SOCK_STREAM, 0, CONN_UNIX },
	{ "unix seqpacket", SOCK_SEQPACKET, 0, CONN_PACKET },
};
static const struct variant v_connect_tcp[] = {
	{ "tcp", SOCK_STREAM, 0, CONN_TCP },
};
static const struct variant v_connect_long[] = {
	{ "long path", SOCK_STREAM, 0, CONN_LONG },
};
static const struct variant v_connect_dgram[] = {
	{ "unix datagram", SOCK_DGRAM, 0, CONN_DGRAM },
};

/*
 * A listener of kind in *l, its address text in c->addr[n] (and
 * c->addrs[n]).
 */
static void
listener_for(struct ctx *c, int kind, int n, sockx **l)
{
	char name[96];

	switch (kind) {
	case CONN_UNIX:
	case CONN_PACKET:
	case CONN_DGRAM:
		sxt_abstract(name, sizeof(name), "f");
		FMT(c->addr[n], "%s%s",
		    kind == CONN_PACKET ? "unixpacket:" :
		    kind == CONN_DGRAM ? "unixgram:" : "", name);
		ck_assert_int_eq(sockx_listen(l, c->addr[n], 0, 0, 0), 0);
		break;
	case CONN_TCP:
		ck_assert_int_eq(sockx_listen(l, "tcp:127.0.0.1:0", 0, 0, 0),
		    0);
		tcp_text(*l, c->addr[n], sizeof(c->addr[n]));
		break;
	case CONN_LONG:
		make_dir(c);
		long_path(c);
		FMT(c->addr[n], "%s", c->path);
		ck_assert_int_eq(sockx_listen(l, c->addr[n], 0, 0, 0), 0);
		break;
	}
	c->addrs[n] = c->addr[n];
}

static void
connect_setup(struct ctx *c)
{
	listener_for(c, c->v->x, 0, &c->l);
}

static long
connect_call(struct ctx *c)
{
	return sockx_connect(&c->out, c->addr[0], 2000);
}

/* A connected handle: its peer is there and a byte gets through. */
static void
check_connected(sockx *s, sockx *l, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	sockx *srv = NULL;
	char ch;

	check_handle(s, 0, "the new handle");
	EXPECT(sockx_peer_addr(s, &ss, &sl) == 0 ||
	    errno == ENAMETOOLONG, "returned a socket that is not "
	    "connected (sockx_peer_addr: %s)", ename(errno));
	if (type == SOCK_DGRAM) {
		EXPECT(sockx_write(s, "y", 1, 1000) == 1 &&
		    sockx_read(l, &ch, 1, 1000) == 1 && ch == 'y',
		    "the datagram did not arrive");
		return;
	}
	EXPECT(sockx_accept(l, &srv, 1000) == 0,
	    "the listener has no connection for the new handle");
	if (srv != NULL) {
		EXPECT(exchange(s, srv) && exchange(srv, s),
		    "no byte gets through the connection");
		sockx_close(srv);
	}
}

static void
connect_check(struct ctx *c, long r)
{
	if (r == 0) {
		EXPECT(c->out != SENT && c->out != NULL, "no handle");
		if (c->out != SENT && c->out != NULL)
			check_connected(c->out, c->l, c->v->type);
	} else {
		EXPECT(c->out == SENT, "*out written on failure");
	}
	if (c->v->type != SOCK_DGRAM)
		drain_listener(c->l);
}

static void
connect_teardown(struct ctx *c)
{
	close_all(c);
	remove_dir(c);
}

static const struct fault connect_faults[] = {
	SOCKET_FAULTS("socket"),
	/* unix: EINTR before anything happened; a full backlog */
	ABSORBS("connect", SXF_FAIL, EINTR),
	ABSORBS("connect", SXF_FAIL, EAGAIN),
	FAILS("connect", ENOMEM),
	FAILS("connect", ENOBUFS),
	FAILS("connect", EACCES),
	/* the backoff after EAGAIN: interrupted sleeps */
	ABSORBS_("clock_nanosleep", SXF_FAIL, EINTR,
	    .also = { ALSO("connect", 1, 2, SXF_FAIL, EAGAIN) }),
	ABSORBS_("clock_nanosleep", SXF_INTERRUPT, 1,
	    .also = { ALSO("connect", 1, 2, SXF_FAIL, EAGAIN) }),
	FAILS("calloc", ENOMEM),
	FAILS_("calloc", ENOMEM,
	    .also = { ALSO("close", 1, 1, SXF_FAIL_AFTER, EINTR) }),
};

static const struct fault connect_tcp_faults[] = {
	SOCKET_FAULTS("socket"),
	/* A signal during connect: the kernel goes on connecting. */
	ABSORBS("connect", SXF_FAIL_AFTER, EINTR),
	FAILS("connect", EACCES),
	FAILS("connect", ENETUNREACH),
	FAILS("connect", EADDRNOTAVAIL),
	FAILS("connect", ENOBUFS),
	ABSORBS_("wait", SXF_FAIL, EINTR,
	    .also = { ALSO("connect", 1, 1, SXF_FAIL_AFTER, EINTR) }),
	FAILS_("wait", ENOMEM,
	    .also = { ALSO("connect", 1, 1, SXF_FAIL_AFTER, EINTR) }),
	FAILS_("getpeername", EACCES,
	    .also = { ALSO("connect", 1, 1, SXF_FAIL_AFTER, EINTR) }),
	/* Only the self-connect check: a failure there is no self-connect. */
	ABSORBS("getsockname", SXF_FAIL, ENOBUFS),
	FAILS("calloc", ENOMEM),
};

static const struct fault connect_long_faults[] = {
	FAILS("open", EMFILE),
	FAILS("open", ENFILE),
	FAILS("open", ENOMEM),
	FAILS("open", EACCES),
	ABSORBS("close", SXF_FAIL_AFTER, EINTR),
	FAILS("socket", EMFILE),
	ABSORBS("connect", SXF_FAIL, EINTR),
	FAILS("connect", ENOMEM),
	FAILS("calloc", ENOMEM),
};

static const struct fault connect_dgram_faults[] = {
	SOCKET_FAULTS("socket"),
	FAILS("connect", ENOMEM),
	FAILS("calloc", ENOMEM),
};

/* ---------------------------------------------------------------- */
/* sockx_connect_any                                                 */
/* ---------------------------------------------------------------- */

enum { ANY_MIXED, ANY_TCP, ANY_LONG };

static const struct variant v_any_mixed[] = {
	{ "dead unix, live unix, tcp", SOCK_STREAM, 0, ANY_MIXED },
};
static const struct variant v_any_tcp[] = {
	{ "tcp", SOCK_STREAM, 0, ANY_TCP },
};
static const struct variant v_any_long[] = {
	{ "long path", SOCK_STREAM, 0, ANY_LONG },
};

static void
any_setup(struct ctx *c)
{
	char name[96];

	switch (c->v->x) {
	case ANY_MIXED:
		/* Nobody listens on the first: refused at once. */
		FMT(c->addr[0], "%s",
		    sxt_abstract(name, sizeof(name), "dead"));
		c->addrs[0] = c->addr[0];
		listener_for(c, CONN_UNIX, 1, &c->l2);
		listener_for(c, CONN_TCP, 2, &c->l);
		break;
	case ANY_TCP:
		listener_for(c, CONN_TCP, 0, &c->l);
		break;
	case ANY_LONG:
		listener_for(c, CONN_LONG, 0, &c->l);
		break;
	}
}

static long
any_call(struct ctx *c)
{
	size_t n = c->v->x == ANY_MIXED ? 3 : 1;

	return sockx_connect_any(&c->out, c->addrs, n, 2000);
}

static void
any_check(struct ctx *c, long r)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (r == 0) {
		EXPECT(c->out != SENT && c->out != NULL, "no handle");
		if (c->out == SENT || c->out == NULL)
			return;
		check_handle(c->out, 0, "the new handle");
		EXPECT(sockx_peer_addr(c->out, &ss, &sl) == 0 ||
		    errno == ENAMETOOLONG, "returned a socket that is not "
		    "connected (sockx_peer_addr: %s)", ename(errno));
		EXPECT(sockx_write(c->out, "q", 1, 1000) == 1,
		    "cannot write to the new handle");
	} else {
		EXPECT(c->out == SENT, "*out written on failure");
	}
}

static void
any_teardown(struct ctx *c)
{
	if (c->l != NULL)
		drain_listener(c->l);
	if (c->l2 != NULL)
		drain_listener(c->l2);
	connect_teardown(c);
}

static const struct fault any_mixed_faults[] = {
	FAILS_("calloc", ENOMEM, .maxn = 3),
	/* A failed attempt starts the next; all failed: the first's error. */
	{ .r = RULE("socket", SXF_FAIL, EMFILE), .want = ANY,
	    .out = ECONNREFUSED },
	{ .r = RULE("socket", SXF_FAIL, ENOBUFS), .want = ANY,
	    .out = ECONNREFUSED },
	ABSORBS("connect", SXF_FAIL, EINTR),
	ABSORBS("connect", SXF_FAIL, EAGAIN),
	{ .r = RULE("connect", SXF_FAIL, ENOMEM), .want = ANY,
	    .out = ECONNREFUSED },
	ABSORBS_("clock_nanosleep", SXF_FAIL, EINTR,
	    .also = { ALSO("connect", 2, 1, SXF_FAIL, EAGAIN) }),
	ABSORBS("close", SXF_FAIL_AFTER, EINTR),
};

static const struct fault any_tcp_faults[] = {
	FAILS_("calloc", ENOMEM, .maxn = 3),
	FAILS("socket", EMFILE),
	ABSORBS("connect", SXF_FAIL_AFTER, EINTR),
	FAILS("connect", ENETUNREACH),
	ABSORBS_("wait", SXF_FAIL, EINTR,
	    .also = { ALSO("connect", 1, 1, SXF_FAIL_AFTER, EINTR) }),
	FAILS_("wait", ENOMEM,
	    .also = { ALSO("connect", 1, 1, SXF_FAIL_AFTER, EINTR) }),
	FAILS_("getpeername", EACCES,
	    .also = { ALSO("connect", 1, 1, SXF_FAIL_AFTER, EINTR) }),
	ABSORBS("getsockname", SXF_FAIL, ENOBUFS),
	/* Closing the failed attempt; then all failed: its error. */
	{ .r = RULE("close", SXF_FAIL_AFTER, EINTR), .want = ERR,
	    .out = EACCES,
	    .also = { ALSO("getpeername", 1, 1, SXF_FAIL, EACCES),
	    ALSO("connect", 1, 1, SXF_FAIL_AFTER, EINTR) } },
};

static const struct fault any_long_faults[] = {
	FAILS("open", EMFILE),
	FAILS("open", ENOMEM),
	ABSORBS("close", SXF_FAIL_AFTER, EINTR),
};

/* ---------------------------------------------------------------- */
/* sockx_listen                                                      */
/* ---------------------------------------------------------------- */

enum { LS_ABSTRACT, LS_PATH, LS_TCP, LS_TCP6, LS_LONG, LS_DGRAM };

static const struct variant v_listen_abstract[] = {
	{ "abstract", SOCK_STREAM, 0, LS_ABSTRACT },
};
static const struct variant v_listen_path[] = {
	{ "stale path, mode 0666, unlink flags", SOCK_STREAM, 0, LS_PATH },
};
static const struct variant v_listen_tcp[] = {
	{ "tcp", SOCK_STREAM, 0, LS_TCP },
};
static const struct variant v_listen_tcp6[] = {
	{ "tcp6 v6only", SOCK_STREAM, 0, LS_TCP6 },
};
static const struct variant v_listen_long[] = {
	{ "long path", SOCK_STREAM, 0, LS_LONG },
};
static const struct variant v_listen_dgram[] = {
	{ "datagram path", SOCK_DGRAM, 0, LS_DGRAM },
};

static const char *
lacks_ipv6(void)
{
	sockx *l;

	if (sockx_listen(&l, "tcp:[::1]:0", 0, 0, 0) < 0)
		return "an IPv6 loopback";
	sockx_close(l);
	return NULL;
}

/* A socket file nobody listens on at path. */
static void
make_stale(const char *path, struct stat *st)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	FMT(sun.sun_path, "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	ck_assert_int_eq(lstat(path, st), 0);
}

static unsigned listen_flags, listen_mode;

static void
listen_setup(struct ctx *c)
{
	char name[96];

	listen_flags = 0;
	listen_mode = 0;
	switch (c->v->x) {
	case LS_ABSTRACT:
		FMT(c->addr[0], "%s",
		    sxt_abstract(name, sizeof(name), "l"));
		break;
	case LS_PATH:
		make_dir(c);
		FMT(c->path, "%s/sock", c->dir);
		make_stale(c->path, &c->stale);
		FMT(c->addr[0], "%s", c->path);
		listen_flags = SOCKX_UNLINK_STALE | SOCKX_UNLINK_ON_CLOSE;
		listen_mode = 0666;
		/* The umask narrows 0666 to 0644: the mode is widened after. */
		c->umask = umask(022);
		break;
	case LS_TCP:
		FMT(c->addr[0], "tcp:127.0.0.1:0");
		break;
	case LS_TCP6:
		FMT(c->addr[0], "tcp:[::1]:0");
		listen_flags = SOCKX_V6ONLY;
		break;
	case LS_LONG:
		make_dir(c);
		long_path(c);
		FMT(c->addr[0], "%s", c->path);
		listen_flags = SOCKX_UNLINK_ON_CLOSE;
		break;
	case LS_DGRAM:
		make_dir(c);
		FMT(c->path, "%s/dgram", c->dir);
		FMT(c->addr[0], "unixgram:%s",
		    c->path);
		break;
	}
}

static long
listen_call(struct ctx *c)
{
	return sockx_listen(&c->out, c->addr[0], 0, listen_flags,
	    listen_mode);
}

static void
listen_check(struct ctx *c, long r)
{
	struct stat st;
	sockx *cl, *srv;
	char text[PATH_MAX + 32];
	int exists;

	if (r != 0) {
		EXPECT(c->out == SENT, "*out written on failure");
		if (c->path[0] == '\0')
			return;
		/* Whatever was there before may be; nothing of ours is. */
		exists = lstat(c->path, &st) == 0;
		EXPECT(!exists || (c->stale.st_ino != 0 &&
		    st.st_ino == c->stale.st_ino &&
		    st.st_ctim.tv_sec == c->stale.st_ctim.tv_sec &&
		    st.st_ctim.tv_nsec == c->stale.st_ctim.tv_nsec),
		    "the socket file it created is left behind at %s",
		    c->path);
		return;
	}
	EXPECT(c->out != SENT && c->out != NULL, "no handle");
	if (c->out == SENT || c->out == NULL)
		return;
	check_handle(c->out, 0, "the listener");
	if (c->path[0] != '\0') {
		EXPECT(lstat(c->path, &st) == 0 && S_ISSOCK(st.st_mode),
		    "no socket file at %s", c->path);
		if (listen_mode != 0)
			EXPECT((st.st_mode & 07777) == listen_mode,
			    "the socket file has mode %04o, not %04o",
			    (unsigned)(st.st_mode & 07777), listen_mode);
	}
	if (c->v->type == SOCK_STREAM) {
		if (c->v->x == LS_TCP || c->v->x == LS_TCP6)
			tcp_text(c->out, text, sizeof(text));
		else
			snprintf(text, sizeof(text), "%s", c->addr[0]);
		EXPECT(sockx_connect(&cl, text, 1000) == 0,
		    "cannot connect to the new listener");
		if (cl != NULL && sockx_accept(c->out, &srv, 1000) == 0) {
			EXPECT(exchange(cl, srv), "no byte gets through");
			sockx_close(srv);
		} else {
			record("the new listener accepts nothing");
		}
		sockx_close(cl);
	}
	sockx_close(c->out);
	c->out = SENT;
	if (listen_flags & SOCKX_UNLINK_ON_CLOSE)
		EXPECT(lstat(c->path, &st) < 0,
		    "SOCKX_UNLINK_ON_CLOSE left the file");
}

static void
listen_teardown(struct ctx *c)
{
	if (c->v->x == LS_PATH)
		umask(c->umask);
	connect_teardown(c);
}

static const struct fault listen_abstract_faults[] = {
	SOCKET_FAULTS("socket"),
	FAILS("bind", ENOMEM),
	FAILS("bind", EADDRINUSE),
	FAILS("bind", EACCES),
	/* an LSM's listen hook (EADDRINUSE is TCP's) */
	FAILS("listen", EACCES),
	FAILS("calloc", ENOMEM),
	FAILS_("listen", EACCES,
	    .also = { ALSO("close", 1, 1, SXF_FAIL_AFTER, EINTR) }),
};

/*
 * A stale file at the path: socket, fchmod, open and flock of the
 * directory, bind (EADDRINUSE), the probe (lstat, socket, connect
 * refused, close), unlink, bind, lstat, fchmodat (the umask narrowed the
 * mode), listen, calloc, strdup, close of the directory.
 */
static const struct fault listen_path_faults[] = {
	/* call 1: the listener's socket; call 2: the probe's */
	SOCKET_FAULTS("socket"),
	FAILS("fchmod", EPERM),
	FAILS("open", EMFILE),
	FAILS("open", ENFILE),
	FAILS("open", ENOMEM),
	FAILS("open", EACCES),
	ABSORBS("flock", SXF_FAIL, EINTR),
	FAILS("flock", ENOLCK),
	FAILS("bind", ENOMEM),
	FAILS("bind", EACCES),
	/* call 1: the probe's; call 2: the bound file's */
	FAILS("lstat", ENOMEM),
	/* the probe's connect */
	FAILS("connect", ENOMEM),
	FAILS("connect", ENOBUFS),
	FAILS_("unlink", EACCES, .out = EADDRINUSE),
	/* glibc without /proc: lstat and chmod instead */
	ABSORBS("fchmodat", SXF_FAIL, EOPNOTSUPP),
	FAILS("fchmodat", EPERM),
	FAILS_("chmod", EPERM,
	    .also = { ALSO("fchmodat", 1, 1, SXF_FAIL, EOPNOTSUPP) }),
	FAILS_("lstat", ENOMEM,
	    .also = { ALSO("fchmodat", 1, 1, SXF_FAIL, EOPNOTSUPP) }),
	FAILS("listen", EACCES),
	FAILS("calloc", ENOMEM),
	FAILS("strdup", ENOMEM),
	ABSORBS("close", SXF_FAIL_AFTER, EINTR),
};

static const struct fault listen_tcp_faults[] = {
	SOCKET_FAULTS("socket"),
	/* an LSM's setsockopt hook */
	FAILS("setsockopt", EACCES),
	FAILS("bind", EADDRINUSE),
	FAILS("bind", EACCES),
	FAILS("listen", EADDRINUSE),
	FAILS("calloc", ENOMEM),
};

static const struct fault listen_tcp6_faults[] = {
	/* call 1: SO_REUSEADDR; call 2: IPV6_V6ONLY */
	FAILS("setsockopt", EACCES),
	FAILS("bind", EADDRNOTAVAIL),
	FAILS("calloc", ENOMEM),
};

static const struct fault listen_long_faults[] = {
	FAILS("open", EMFILE),
	FAILS("open", EACCES),
	FAILS("socket", ENFILE),
	FAILS("bind", ENOMEM),
	FAILS("lstat", ENOMEM),
	FAILS("listen", EACCES),
	FAILS("calloc", ENOMEM),
	FAILS("strdup", ENOMEM),
	ABSORBS("close", SXF_FAIL_AFTER, EINTR),
};

static const struct fault listen_dgram_faults[] = {
	FAILS("socket", EMFILE),
	FAILS("bind", ENOMEM),
	FAILS("lstat", ENOMEM),
	FAILS("calloc", ENOMEM),
};

/* ---------------------------------------------------------------- */
/* sockx_accept                                                      */
/* ---------------------------------------------------------------- */

static const struct variant v_accept[] = {
	{ "unix", SOCK_STREAM, 0, CONN_UNIX },
	{ "tcp", SOCK_STREAM, 0, CONN_TCP },
};

static void
accept_setup(struct ctx *c)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	listener_for(c, c->v->x, 0, &c->l);
	ck_assert_int_eq(sockx_addr_parse(c->addr[0], &ss, &sl, NULL), 0);
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(c->fd, 0);
	ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&ss, sl), 0);
}

static long
accept_call(struct ctx *c)
{
	return sockx_accept(c->l, &c->out, 2000);
}

static void
accept_check(struct ctx *c, long r)
{
	sockx *s;
	char ch;
	const struct fault *f = c->f;

	if (r == 0) {
		EXPECT(c->out != SENT && c->out != NULL, "no handle");
		if (c->out == SENT || c->out == NULL)
			return;
		check_handle(c->out, 0, "the accepted handle");
		EXPECT(write(c->fd, "k", 1) == 1 &&
		    sockx_read(c->out, &ch, 1, 1000) == 1 && ch == 'k',
		    "the accepted handle is not the client's connection");
		return;
	}
	EXPECT(c->out == SENT, "*out written on failure");
	EXPECT(c->elapsed < 1.0 * slowdown(),
	    "took %.3f s to fail: resource errors come out at once",
	    c->elapsed);
	if (strcmp(f->r.fn, "accept4") == 0) {
		/* Nothing was taken: the connection is still queued. */
		EXPECT(sockx_accept(c->l, &s, 0) == 0,
		    "the queued connection was lost");
		if (s != NULL)
			sockx_close(s);
	}
}

static const struct fault accept_faults[] = {
	ABSORBS("accept4", SXF_FAIL, EINTR),
	ABSORBS("accept4", SXF_FAIL, EAGAIN),
	ABSORBS("accept4", SXF_FAIL, ECONNABORTED),
	ABSORBS("accept4", SXF_FAIL, EPROTO),
	FAILS("accept4", EMFILE),
	FAILS("accept4", ENFILE),
	FAILS("accept4", ENOBUFS),
	FAILS("accept4", ENOMEM),
	FAILS("accept4", EACCES),
	WAIT_FAULTS("accept4"),
	FAILS("calloc", ENOMEM),
	FAILS_("calloc", ENOMEM,
	    .also = { ALSO("close", 1, 1, SXF_FAIL_AFTER, EINTR) }),
};

/* ---------------------------------------------------------------- */
/* sockx_pair, sockx_adopt                                           */
/* ---------------------------------------------------------------- */

static const struct variant v_types[] = {
	{ "stream", SOCK_STREAM, 0, 0 },
	{ "datagram", SOCK_DGRAM, 0, 0 },
	{ "seqpacket", SOCK_SEQPACKET, 0, 0 },
};
static const struct variant v_conn_types[] = {
	{ "stream", SOCK_STREAM, 0, 0 },
	{ "seqpacket", SOCK_SEQPACKET, 0, 0 },
};

static long
pair_call(struct ctx *c)
{
	return sockx_pair(&c->out, &c->out2, c->v->type);
}

static void
pair_check(struct ctx *c, long r)
{
	if (r != 0) {
		EXPECT(c->out == SENT && c->out2 == SENT,
		    "out-parameters written on failure");
		return;
	}
	check_handle(c->out, 0, "*a");
	check_handle(c->out2, 0, "*b");
	EXPECT(exchange(c->out, c->out2) && exchange(c->out2, c->out),
	    "the two ends are not connected");
}

static void
plain_teardown(struct ctx *c)
{
	close_all(c);
}

static const struct fault pair_faults[] = {
	FAILS("socketpair", EMFILE),
	FAILS("socketpair", ENFILE),
	FAILS("socketpair", ENOMEM),
	FAILS("socketpair", EACCES),
	FAILS("calloc", ENOMEM),
	FAILS_("calloc", ENOMEM,
	    .also = { ALSO("close", 1, 2, SXF_FAIL_AFTER, EINTR) }),
};

static void
adopt_setup(struct ctx *c)
{
	int sv[2];

	/* Blocking and inheritable, as a socket handed over may be. */
	ck_assert_int_eq(socketpair(AF_UNIX, c->v->type, 0, sv), 0);
	c->fd = sv[0];
	c->fd2 = sv[1];
}

static long
adopt_call(struct ctx *c)
{
	return sockx_adopt(&c->out, c->fd);
}

static void
adopt_check(struct ctx *c, long r)
{
	char ch;

	if (r != 0) {
		EXPECT(c->out == SENT, "*out written on failure");
		EXPECT(is_open(c->fd), "the descriptor was closed on "
		    "failure (the caller still owns it)");
		return;
	}
	c->fd = -1;		/* the handle owns it */
	check_handle(c->out, 0, "the adopted handle");
	EXPECT(write(c->fd2, "a", 1) == 1 &&
	    sockx_read(c->out, &ch, 1, 1000) == 1,
	    "the adopted handle does not read its socket");
}

static const struct fault adopt_faults[] = {
	/* calls 1, 2: SO_TYPE, SO_DOMAIN */
	FAILS("getsockopt", EACCES),
	/*
	 * Calls 1, 2, 3: F_GETFL, F_SETFL, F_SETFD; an LSM's file_fcntl
	 * hook (or seccomp) can refuse any of them.  Either adopt fails or
	 * the handle has O_NONBLOCK and FD_CLOEXEC.
	 */
	{ .r = RULE("fcntl", SXF_FAIL, EACCES), .want = ANY },
	FAILS("calloc", ENOMEM),
};

/* ---------------------------------------------------------------- */
/* Timed I/O                                                         */
/* ---------------------------------------------------------------- */

static const struct variant v_io[] = {
	{ "stream", SOCK_STREAM, 0, 0 },
	{ "datagram", SOCK_DGRAM, 0, 0 },
	{ "seqpacket", SOCK_SEQPACKET, 0, 0 },
	{ "stream, kernel timeouts", SOCK_STREAM, 1, 0 },
	{ "datagram, kernel timeouts", SOCK_DGRAM, 1, 0 },
};

static const struct variant v_stream[] = {
	{ "stream", SOCK_STREAM, 0, 0 },
	{ "stream, kernel timeouts", SOCK_STREAM, 1, 0 },
};

/* The peer sent "hello" with two files attached. */
static void
read_setup(struct ctx *c)
{
	make_pair(c, c->v->type);
	open_files(c);
	raw_send(c, sockx_fd(c->b), "hello", 5, 2, 0);
}

static long
read_call(struct ctx *c)
{
	return sockx_read(c->a, c->buf, sizeof(c->buf), 2000);
}

static void
read_check(struct ctx *c, long r)
{
	unsigned char rest[16];
	size_t n;

	if (r > 0) {
		EXPECT(r <= 5 && memcmp(c->buf, "hello", (size_t)r) == 0,
		    "read %ld bytes that are not the message", r);
		EXPECT(c->v->type == SOCK_STREAM || r == 5,
		    "a message was cut to %ld bytes", r);
		if (r > 5)
			return;
		n = drain(c->a, rest, sizeof(rest));
		EXPECT((size_t)r + n == 5 && memcmp(rest, &"hello"[r], n) == 0,
		    "after %ld bytes the stream has %zu more, not the rest",
		    r, n);
	} else if (r < 0) {
		n = drain(c->a, rest, sizeof(rest));
		EXPECT(n == 5 && memcmp(rest, "hello", 5) == 0,
		    "a failed read consumed data (%zu bytes left)", n);
	} else {
		record("read returned 0 (end of stream)");
	}
}

/* Receive-side faults; afn the call that waits after EAGAIN. */
#define RECV_FAULTS \
	ABSORBS("recvmsg", SXF_FAIL, EINTR), \
	ABSORBS("recvmsg", SXF_FAIL, EAGAIN), \
	FAILS("recvmsg", ENOMEM), \
	FAILS("recvmsg", EACCES), \
	ABSORBS_("recvmsg", SXF_SHORT, 2, .only = O_STREAM), \
	WAIT_FAULTS("recvmsg"), \
	FAILS_("setsockopt", EACCES, .only = O_KMODE)

static const struct fault read_faults[] = {
	RECV_FAULTS,
	/* The kernel could install none or one of the two files. */
	ABSORBS("recvmsg", SXF_CTRUNC, 0),
	ABSORBS("recvmsg", SXF_CTRUNC, 1),
	/* Closing the files that came with the data. */
	ABSORBS("close", SXF_FAIL_AFTER, EINTR),
};

static void
write_setup(struct ctx *c)
{
	make_pair(c, c->v->type);
}

static long
write_call(struct ctx *c)
{
	return sockx_write(c->a, "hello", 5, 2000);
}

/* The peer got exactly the first r bytes of "hello" (none if r < 0). */
static void
check_peer_got(struct ctx *c, sockx *peer, const char *msg, long r)
{
	unsigned char got[64];
	size_t n = drain(peer, got, sizeof(got));
	size_t want = r > 0 ? (size_t)r : 0;

	EXPECT(n == want && memcmp(got, msg, n) == 0,
	    "the call returned %ld but the peer received %zu bytes%s", r, n,
	    n == want ? " that differ" : "");
	(void)c;
}

static void
write_check(struct ctx *c, long r)
{
	if (r >= 0)
		EXPECT(r >= 1 && r <= 5 &&
		    (c->v->type == SOCK_STREAM || r == 5),
		    "wrote %ld of 5 bytes", r);
	check_peer_got(c, c->b, "hello", r);
}

#define SEND_FAULTS \
	ABSORBS("sendmsg", SXF_FAIL, EINTR), \
	ABSORBS("sendmsg", SXF_FAIL, EAGAIN), \
	FAILS("sendmsg", ENOBUFS), \
	FAILS("sendmsg", ENOMEM), \
	FAILS("sendmsg", EACCES), \
	ABSORBS_("sendmsg", SXF_SHORT, 2, .only = O_STREAM), \
	WAIT_FAULTS("sendmsg"), \
	FAILS_("setsockopt", EACCES, .only = O_KMODE)

static const struct fault write_faults[] = {
	SEND_FAULTS,
};

/* read_full: 4000 bytes waiting, read 1000 at a time (short reads). */
#define FULL_LEN 4000

static void
read_full_setup(struct ctx *c)
{
	size_t done;

	make_pair(c, SOCK_STREAM);
	ck_assert_int_eq(sockx_write_full(c->b, pattern, FULL_LEN, &done,
	    1000), FULL_LEN);
	c->done = 77777;
}

static long
read_full_call(struct ctx *c)
{
	return sockx_read_full(c->a, c->buf, FULL_LEN, &c->done, 2000);
}

static void
read_full_check(struct ctx *c, long r)
{
	static unsigned char rest[FULL_LEN + 16];
	size_t n;

	EXPECT(c->done <= FULL_LEN, "done = %zu", c->done);
	if (c->done > FULL_LEN)
		return;
	if (r >= 0)
		EXPECT(r == FULL_LEN && c->done == FULL_LEN,
		    "returned %ld, done %zu, not %d", r, c->done, FULL_LEN);
	EXPECT(memcmp(c->buf, pattern, c->done) == 0,
	    "the %zu bytes read are not the stream's first", c->done);
	n = drain(c->a, rest, sizeof(rest));
	EXPECT(c->done + n == FULL_LEN &&
	    memcmp(rest, pattern + c->done, n) == 0,
	    "done = %zu but %zu bytes are left, not the rest", c->done, n);
}

#define FULL_SHORT(fn)	ALSO(fn, 1, 0, SXF_SHORT, 1000)

static const struct fault read_full_faults[] = {
	ABSORBS_("recvmsg", SXF_FAIL, EINTR,
	    .also = { FULL_SHORT("recvmsg") }),
	ABSORBS_("recvmsg", SXF_FAIL, EAGAIN,
	    .also = { FULL_SHORT("recvmsg") }),
	ABSORBS_("recvmsg", SXF_SHORT, 100,
	    .also = { FULL_SHORT("recvmsg") }),
	FAILS_("recvmsg", ENOMEM, .also = { FULL_SHORT("recvmsg") }),
	FAILS_("recvmsg", EACCES, .also = { FULL_SHORT("recvmsg") }),
	ABSORBS_("wait", SXF_FAIL, EINTR, .only = O_POLLING,
	    .also = { ALSO("recvmsg", 2, 1, SXF_FAIL, EAGAIN),
	    FULL_SHORT("recvmsg") }),
	FAILS_("wait", ENOMEM, .only = O_POLLING,
	    .also = { ALSO("recvmsg", 2, 1, SXF_FAIL, EAGAIN),
	    FULL_SHORT("recvmsg") }),
	FAILS_("setsockopt", EACCES, .only = O_KMODE,
	    .also = { FULL_SHORT("recvmsg") }),
};

static void
write_full_setup(struct ctx *c)
{
	make_pair(c, SOCK_STREAM);
	c->done = 77777;
}

static long
write_full_call(struct ctx *c)
{
	return sockx_write_full(c->a, pattern, FULL_LEN, &c->done, 2000);
}

static void
write_full_check(struct ctx *c, long r)
{
	static unsigned char got[FULL_LEN + 16];
	size_t n = drain(c->b, got, sizeof(got));

	if (r >= 0)
		EXPECT(r == FULL_LEN && c->done == FULL_LEN,
		    "returned %ld, done %zu, not %d", r, c->done, FULL_LEN);
	EXPECT(n == c->done && memcmp(got, pattern, n) == 0,
	    "done = %zu but the peer received %zu bytes%s", c->done, n,
	    n == c->done ? " that differ" : "");
}

static const struct fault write_full_faults[] = {
	ABSORBS_("sendmsg", SXF_FAIL, EINTR,
	    .also = { FULL_SHORT("sendmsg") }),
	ABSORBS_("sendmsg", SXF_FAIL, EAGAIN,
	    .also = { FULL_SHORT("sendmsg") }),
	ABSORBS_("sendmsg", SXF_SHORT, 100,
	    .also = { FULL_SHORT("sendmsg") }),
	FAILS_("sendmsg", ENOBUFS, .also = { FULL_SHORT("sendmsg") }),
	FAILS_("sendmsg", ENOMEM, .also = { FULL_SHORT("sendmsg") }),
	FAILS_("sendmsg", EACCES, .also = { FULL_SHORT("sendmsg") }),
	ABSORBS_("wait", SXF_FAIL, EINTR, .only = O_POLLING,
	    .also = { ALSO("sendmsg", 2, 1, SXF_FAIL, EAGAIN),
	    FULL_SHORT("sendmsg") }),
	FAILS_("wait", ENOMEM, .only = O_POLLING,
	    .also = { ALSO("sendmsg", 2, 1, SXF_FAIL, EAGAIN),
	    FULL_SHORT("sendmsg") }),
	ABSORBS_("wait", SXF_SPURIOUS, 0, .only = O_POLLING,
	    .also = { ALSO("sendmsg", 2, 1, SXF_FAIL, EAGAIN),
	    FULL_SHORT("sendmsg") }),
	FAILS_("setsockopt", EACCES, .only = O_KMODE,
	    .also = { FULL_SHORT("sendmsg") }),
};

/* write_full of 512 KiB to a peer thread that starts reading late. */
#define BIG_LEN (sizeof(pattern))

static void *
big_reader(void *arg)
{
	static unsigned char buf[65536];
	struct ctx *c = arg;
	ssize_t n;

	usleep(20000);		/* the writer fills the socket and waits */
	while ((n = sockx_read(c->b, buf, sizeof(buf), 10000)) > 0) {
		if (c->got + (size_t)n > BIG_LEN ||
		    memcmp(buf, pattern + c->got, (size_t)n) != 0)
			c->bad = 1;
		c->got += (size_t)n;
	}
	if (n < 0)
		c->bad = 1;
	return NULL;
}

static void
big_setup(struct ctx *c)
{
	make_pair(c, SOCK_STREAM);
	c->done = 77777;
	ck_assert_int_eq(pthread_create(&c->thread, NULL, big_reader, c), 0);
}

static long
big_call(struct ctx *c)
{
	return sockx_write_full(c->a, pattern, BIG_LEN, &c->done, 10000);
}

static void
big_check(struct ctx *c, long r)
{
	ck_assert_int_eq(sockx_shutdown(c->a, SHUT_WR), 0);
	ck_assert_int_eq(pthread_join(c->thread, NULL), 0);
	if (r >= 0)
		EXPECT(r == (long)BIG_LEN && c->done == BIG_LEN,
		    "returned %ld, done %zu, not %zu", r, c->done, BIG_LEN);
	EXPECT(!c->bad && c->got == c->done,
	    "done = %zu but the peer received %zu bytes%s", c->done, c->got,
	    c->bad ? " (corrupted)" : "");
}

static const struct fault big_faults[] = {
	ABSORBS("sendmsg", SXF_FAIL, EINTR),
	ABSORBS("sendmsg", SXF_FAIL, EAGAIN),
	FAILS("sendmsg", ENOBUFS),
	ABSORBS_("wait", SXF_FAIL, EINTR, .only = O_POLLING),
	FAILS_("wait", ENOMEM, .only = O_POLLING),
	ABSORBS_("wait", SXF_SPURIOUS, 0, .only = O_POLLING),
};

/* sockx_sendto: an unconnected datagram socket to a bound receiver. */
static const struct variant v_sendto[] = {
	{ "unix datagram", SOCK_DGRAM, 0, CONN_DGRAM },
	{ "udp", SOCK_DGRAM, 0, CONN_TCP },
	{ "unix datagram, kernel timeouts", SOCK_DGRAM, 1, CONN_DGRAM },
};

static void
sendto_setup(struct ctx *c)
{
	char name[96];
	int fd;

	if (c->v->x == CONN_DGRAM) {
		FMT(c->addr[0], "unixgram:%s",
		    sxt_abstract(name, sizeof(name), "r"));
	} else {
		ck_assert_int_eq(sockx_listen(&c->l, "udp:127.0.0.1:0", 0, 0,
		    0), 0);
		sxt_local_text(c->l, "udp:", c->addr[0], sizeof(c->addr[0]));
		sockx_close(c->l);
	}
	ck_assert_int_eq(sockx_listen(&c->l, c->addr[0], 0, 0, 0), 0);
	ck_assert_int_eq(sockx_addr_parse(c->addr[0], &c->ss, &c->sl, NULL),
	    0);
	fd = socket(c->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sockx_adopt(&c->a, fd), 0);
	if (c->v->kmode)
		ck_assert_int_eq(sockx_set_kernel_timeouts(c->a, 1), 0);
}

static long
sendto_call(struct ctx *c)
{
	return sockx_sendto(c->a, "hello", 5, (struct sockaddr *)&c->ss,
	    c->sl, 2000);
}

static void
sendto_check(struct ctx *c, long r)
{
	EXPECT(r < 0 || r == 5, "sent %ld of 5 bytes", r);
	check_peer_got(c, c->l, "hello", r);
}

static const struct fault sendto_faults[] = {
	SEND_FAULTS,
};

/* sockx_recvfrom: from a bound unix sender, a UDP sender, a TCP peer. */
static const struct variant v_recvfrom[] = {
	{ "unix datagram", SOCK_DGRAM, 0, CONN_DGRAM },
	{ "udp", SOCK_DGRAM, 0, CONN_TCP },
	{ "tcp", SOCK_STREAM, 0, 100 },
	{ "udp, kernel timeouts", SOCK_DGRAM, 1, CONN_TCP },
};

static void
recvfrom_setup(struct ctx *c)
{
	char name[96];

	if (c->v->type == SOCK_STREAM) {
		listener_for(c, CONN_TCP, 0, &c->l);
		ck_assert_int_eq(sockx_connect(&c->b, c->addr[0], 1000), 0);
		ck_assert_int_eq(sockx_accept(c->l, &c->a, 1000), 0);
		/* The sender's address as the receiver will see it. */
		ck_assert_int_eq(sockx_local_addr(c->b, &c->ss2, &c->sl2), 0);
	} else {
		if (c->v->x == CONN_DGRAM) {
			snprintf(c->addr[0], sizeof(c->addr[0]),
			    "unixgram:%s", sxt_abstract(name, sizeof(name),
			    "r"));
			snprintf(c->addr[1], sizeof(c->addr[1]),
			    "unixgram:%s", sxt_abstract(name, sizeof(name),
			    "s"));
		} else {
			snprintf(c->addr[0], sizeof(c->addr[0]),
			    "udp:127.0.0.1:0");
			snprintf(c->addr[1], sizeof(c->addr[1]),
			    "udp:127.0.0.1:0");
		}
		ck_assert_int_eq(sockx_listen(&c->a, c->addr[0], 0, 0, 0), 0);
		ck_assert_int_eq(sockx_listen(&c->b, c->addr[1], 0, 0, 0), 0);
		ck_assert_int_eq(sockx_local_addr(c->a, &c->ss, &c->sl), 0);
		ck_assert_int_eq(sockx_local_addr(c->b, &c->ss2, &c->sl2), 0);
		ck_assert_int_eq(sockx_sendto(c->b, "hello", 5,
		    (struct sockaddr *)&c->ss, c->sl, 1000), 5);
	}
	if (c->v->type == SOCK_STREAM)
		ck_assert_int_eq(sockx_write(c->b, "hello", 5, 1000), 5);
	if (c->v->kmode)
		ck_assert_int_eq(sockx_set_kernel_timeouts(c->a, 1), 0);
	memset(&c->ss, BYTE_POISON, sizeof(c->ss));
	c->sl = 4242;
}

static long
recvfrom_call(struct ctx *c)
{
	return sockx_recvfrom(c->a, c->buf, sizeof(c->buf), &c->ss, &c->sl,
	    2000);
}

static void
recvfrom_check(struct ctx *c, long r)
{
	unsigned char poison[sizeof(c->ss)];
	unsigned char rest[16];
	size_t n;

	if (r < 0) {
		memset(poison, BYTE_POISON, sizeof(poison));
		EXPECT(memcmp(&c->ss, poison, sizeof(poison)) == 0 &&
		    c->sl == 4242, "from/fromlen written on failure");
		n = drain(c->a, rest, sizeof(rest));
		EXPECT(n == 5, "a failed receive consumed data");
		return;
	}
	EXPECT(r >= 1 && r <= 5 && memcmp(c->buf, "hello", (size_t)r) == 0,
	    "received %ld bytes that are not the message", r);
	EXPECT(c->sl == c->sl2 && memcmp(&c->ss, &c->ss2, c->sl2) == 0,
	    "from is not the sender's address");
	n = drain(c->a, rest, sizeof(rest));
	EXPECT((size_t)r + n == 5, "%ld + %zu bytes, not 5", r, n);
}

static const struct fault recvfrom_faults[] = {
	RECV_FAULTS,
	/* TCP: the peer's name, asked before the data is taken */
	FAILS_("getpeername", ENOBUFS, .only = O_STREAM),
	FAILS_("getpeername", EACCES, .only = O_STREAM),
};

/* sockx_wait */
static const struct variant v_wait[] = {
	{ "stream", SOCK_STREAM, 0, 0 },
};
static const struct variant v_wait_high[] = {
	{ "descriptor 16400", SOCK_STREAM, 0, 16400 },
};

/* Raise the soft RLIMIT_NOFILE above fd, if the hard limit lets us. */
static int
room_for(int fd)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= (rlim_t)fd) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= (rlim_t)fd)
			return 0;
		rl.rlim_cur = (rlim_t)fd + 16;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 0;
	}
	return 1;
}

#define HIGH_FD 16400

static const char *
lacks_high_fd(void)
{
	int any = open("/dev/null", O_RDONLY | O_CLOEXEC), fd = -1;

	if (any >= 0 && room_for(HIGH_FD))
		fd = fcntl(any, F_DUPFD_CLOEXEC, HIGH_FD);
	if (any >= 0)
		close(any);
	if (fd < 0)
		return "descriptor 16400 (RLIMIT_NOFILE)";
	close(fd);
	return NULL;
}

static void
wait_setup(struct ctx *c)
{
	int sv[2], fd;

	if (c->v->x == 0) {
		make_pair(c, SOCK_STREAM);
		ck_assert_int_eq(sockx_write(c->b, "w", 1, 1000), 1);
		return;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	fd = fcntl(sv[0], F_DUPFD_CLOEXEC, c->v->x);
	ck_assert_int_ge(fd, c->v->x);
	close(sv[0]);
	ck_assert_int_eq(sockx_adopt(&c->a, fd), 0);
	c->fd2 = sv[1];
	ck_assert_int_eq(write(sv[1], "w", 1), 1);
}

static long
wait_call(struct ctx *c)
{
	return sockx_wait(c->a, SOCKX_READABLE | SOCKX_WRITABLE, 2000);
}

static void
wait_check(struct ctx *c, long r)
{
	(void)c;
	if (r >= 0)
		EXPECT(r == (SOCKX_READABLE | SOCKX_WRITABLE),
		    "returned %ld, not both events", r);
}

static const struct fault wait_faults[] = {
	ABSORBS("wait", SXF_FAIL, EINTR),
	FAILS("wait", ENOMEM),
	ABSORBS("wait", SXF_SPURIOUS, 0),
};

static const struct fault wait_high_faults[] = {
	ABSORBS("wait", SXF_FAIL, EINTR),
	FAILS("wait", ENOMEM),
	/* select's bitmaps above 16384 descriptors are allocated */
	FAILS_("calloc", ENOMEM, .only = O_SELECT),
};

/* ---------------------------------------------------------------- */
/* Descriptor passing                                                */
/* ---------------------------------------------------------------- */

static void
send_fds_setup(struct ctx *c)
{
	make_pair(c, c->v->type);
	open_files(c);
}

static long
send_fds_call(struct ctx *c)
{
	return sockx_send_fds(c->a, "abc", 3, c->files, 3, 2000);
}

static void
send_fds_check(struct ctx *c, long r)
{
	unsigned char got[16];
	int fds[8];
	size_t nfds = 8;
	ssize_t n;

	n = sockx_recv_fds(c->b, got, sizeof(got), fds, &nfds, 0);
	if (r < 0) {
		EXPECT(n == -ETIMEDOUT, "a failed send sent something "
		    "(the peer's receive: %zd)", n);
		if (n >= 0)
			close_fds(fds, nfds);
		return;
	}
	EXPECT(r >= 1 && r <= 3 && (c->v->type == SOCK_STREAM || r == 3),
	    "sent %ld of 3 bytes", r);
	EXPECT(n == r && memcmp(got, "abc", (size_t)r) == 0,
	    "sent %ld bytes but the peer received %zd", r, n);
	if (n < 0)
		return;
	EXPECT(nfds == 3, "the peer received %zu descriptors, not 3", nfds);
	check_files(c, fds, nfds);
	close_fds(fds, nfds);
	/* Never sent twice. */
	nfds = 8;
	n = sockx_recv_fds(c->b, got, sizeof(got), fds, &nfds, 0);
	EXPECT(n == -ETIMEDOUT, "more arrived (%zd)", n);
	if (n >= 0)
		close_fds(fds, nfds);
}

static const struct fault send_fds_faults[] = {
	ABSORBS("sendmsg", SXF_FAIL, EINTR),
	ABSORBS("sendmsg", SXF_FAIL, EAGAIN),
	FAILS("sendmsg", ENOBUFS),
	FAILS("sendmsg", ENOMEM),
	FAILS("sendmsg", EACCES),
	/* The descriptors ride on the one byte that goes. */
	ABSORBS_("sendmsg", SXF_SHORT, 1, .only = O_STREAM),
	WAIT_FAULTS("sendmsg"),
	FAILS_("setsockopt", EACCES, .only = O_KMODE),
};

static void
recv_fds_setup(struct ctx *c)
{
	size_t i;

	make_pair(c, c->v->type);
	open_files(c);
	ck_assert_int_eq(sockx_send_fds(c->b, "abc", 3, c->files, 3, 1000),
	    3);
	for (i = 0; i < NELEM(c->fds); i++)
		c->fds[i] = SENTINEL;
	c->nfds = NELEM(c->fds);
}

static long
recv_fds_call(struct ctx *c)
{
	return sockx_recv_fds(c->a, c->buf, sizeof(c->buf), c->fds, &c->nfds,
	    2000);
}

static void
recv_fds_check(struct ctx *c, long r)
{
	unsigned char rest[16];
	int fds[8];
	size_t i, nfds = 8, n;
	ssize_t m;

	if (r < 0) {
		EXPECT(c->nfds == NELEM(c->fds),
		    "*nfds written on failure (%zu)", c->nfds);
		for (i = 0; i < NELEM(c->fds); i++)
			EXPECT(c->fds[i] == SENTINEL,
			    "fds[%zu] written on failure", i);
		m = sockx_recv_fds(c->a, rest, sizeof(rest), fds, &nfds, 0);
		if (r == -EMSGSIZE) {
			/* The bytes of that call went with it. */
			EXPECT(m == -ETIMEDOUT, "after -EMSGSIZE the message "
			    "is still there (%zd)", m);
		} else {
			EXPECT(m == 3 && nfds == 3, "a failed receive "
			    "consumed the message (%zd, %zu fds)", m, nfds);
			if (m == 3)
				check_files(c, fds, nfds);
		}
		if (m >= 0)
			close_fds(fds, nfds);
		return;
	}
	EXPECT(r >= 1 && r <= 3 && memcmp(c->buf, "abc", (size_t)r) == 0,
	    "received %ld bytes that are not the message", r);
	EXPECT(c->nfds == 3, "*nfds = %zu, not 3", c->nfds);
	if (c->nfds <= 3) {
		check_files(c, c->fds, c->nfds);
		close_fds(c->fds, c->nfds);
	}
	for (i = c->nfds; i < NELEM(c->fds); i++)
		EXPECT(c->fds[i] == SENTINEL, "fds[%zu] written past *nfds",
		    i);
	if (r > 0 && r < 3) {
		n = drain(c->a, rest, sizeof(rest));
		EXPECT((size_t)r + n == 3, "%ld + %zu bytes, not 3", r, n);
	}
}

static const struct fault recv_fds_faults[] = {
	RECV_FAULTS,
	/* The kernel installed 0, 1 or 2 of the 3: all closed, -EMSGSIZE. */
	{ .r = RULE("recvmsg", SXF_CTRUNC, 0), .want = ERR, .out = EMSGSIZE },
	{ .r = RULE("recvmsg", SXF_CTRUNC, 1), .want = ERR, .out = EMSGSIZE },
	{ .r = RULE("recvmsg", SXF_CTRUNC, 2), .want = ERR, .out = EMSGSIZE },
	/* Closing them is interrupted: they are closed all the same. */
	{ .r = RULE("close", SXF_FAIL_AFTER, EINTR), .want = ERR,
	    .out = EMSGSIZE,
	    .also = { ALSO("recvmsg", 1, 1, SXF_CTRUNC, 2) } },
};

/* ---------------------------------------------------------------- */
/* Credentials                                                       */
/* ---------------------------------------------------------------- */

static const struct variant v_cred_pair[] = {
	{ "stream", SOCK_STREAM, 0, 0 },
	{ "seqpacket", SOCK_SEQPACKET, 0, 0 },
};

static void
cred_setup(struct ctx *c)
{
	make_pair(c, c->v->type);
	c->cred.pid = SENTINEL;
	c->cred.uid = 7;
	c->cred.gid = 7;
}

static long
peer_cred_call(struct ctx *c)
{
	return sockx_peer_cred(c->a, &c->cred);
}

static int
is_me(const struct sockx_cred *cr)
{
	return cr->pid == getpid() && cr->uid == geteuid() &&
	    cr->gid == getegid();
}

static void
cred_check_out(struct ctx *c, long r)
{
	if (r >= 0)
		EXPECT(is_me(&c->cred), "the credentials are not the "
		    "sender's: pid %ld uid %ld", (long)c->cred.pid,
		    (long)c->cred.uid);
	else
		EXPECT(c->cred.pid == SENTINEL && c->cred.uid == 7 &&
		    c->cred.gid == 7, "cred written on failure");
}

static const struct fault peer_cred_faults[] = {
	/* calls 1, 2: SO_ACCEPTCONN, SO_PEERCRED (an LSM's getopt hook) */
	FAILS("getsockopt", EACCES),
};

static long
peer_pidfd_call(struct ctx *c)
{
	return sockx_peer_pidfd(c->a);
}

/* The pid a pidfd refers to, from /proc/self/fdinfo. */
static long
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
		if (sscanf(line, "Pid: %ld", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

static void
peer_pidfd_check(struct ctx *c, long r)
{
	(void)c;
	if (r < 0)
		return;
	EXPECT(is_cloexec((int)r), "the pidfd is not close-on-exec");
	EXPECT(pidfd_pid((int)r) == getpid(), "the pidfd is not of the "
	    "peer (pid %ld)", pidfd_pid((int)r));
	close((int)r);
}

#define PIDFD_CALL(e, ...) \
	FAILS_("getsockopt", e, .first = 2, .maxn = 2, __VA_ARGS__)

static const struct fault peer_pidfd_faults[] = {
	/* call 1: SO_ACCEPTCONN; call 2: SO_PEERPIDFD (an LSM hook) */
	FAILS("getsockopt", EACCES),
	/* call 2 makes a descriptor */
	PIDFD_CALL(EMFILE, .out = 0),
	PIDFD_CALL(ENFILE, .out = 0),
	PIDFD_CALL(ENOMEM, .out = 0),
	/* no peer; gone (kernels before 6.9); unknown (before 6.5) */
	PIDFD_CALL(ENODATA, .out = ENOTCONN, .mapped = 1),
	PIDFD_CALL(EINVAL, .out = ESRCH, .mapped = 1),
	PIDFD_CALL(ENOPROTOOPT, .out = EOPNOTSUPP, .mapped = 1),
	/* the look at whether the process has exited */
	FAILS("wait", ENOMEM),
	FAILS_("wait", ENOMEM,
	    .also = { ALSO("close", 1, 1, SXF_FAIL_AFTER, EINTR) }),
};

static long
passcred_call(struct ctx *c)
{
	return sockx_set_passcred(c->a, 1);
}

static int
sockopt(sockx *s, int opt)
{
	int v = -1;
	socklen_t n = sizeof(v);

	if (getsockopt(sockx_fd(s), SOL_SOCKET, opt, &v, &n) < 0)
		return -1;
	return v;
}

static void
passcred_check(struct ctx *c, long r)
{
	EXPECT(sockopt(c->a, SO_PASSCRED) == (r == 0),
	    "SO_PASSCRED is %d after the call returned %ld",
	    sockopt(c->a, SO_PASSCRED), r);
}

static const struct fault passcred_faults[] = {
	FAILS("setsockopt", EACCES),
};

static const struct variant v_cred_io[] = {
	{ "stream", SOCK_STREAM, 0, 0 },
	{ "datagram", SOCK_DGRAM, 0, 0 },
	{ "stream, kernel timeouts", SOCK_STREAM, 1, 0 },
};

static void
send_cred_setup(struct ctx *c)
{
	make_pair(c, c->v->type);
	ck_assert_int_eq(sockx_set_passcred(c->b, 1), 0);
}

static long
send_cred_call(struct ctx *c)
{
	return sockx_send_cred(c->a, "abc", 3, NULL, 2000);
}

static void
send_cred_check(struct ctx *c, long r)
{
	unsigned char got[16];
	struct sockx_cred cr;
	ssize_t n = sockx_recv_cred(c->b, got, sizeof(got), &cr, 0);

	if (r < 0) {
		EXPECT(n == -ETIMEDOUT, "a failed send sent something");
		return;
	}
	EXPECT(r >= 1 && r <= 3 && n == r &&
	    memcmp(got, "abc", (size_t)r) == 0,
	    "sent %ld bytes but the peer received %zd", r, n);
	EXPECT(n < 0 || is_me(&cr), "the peer got no credentials");
}

static const struct fault send_cred_faults[] = {
	SEND_FAULTS,
};

/* The peer sent "abc" with credentials and two files. */
static void
recv_cred_setup(struct ctx *c)
{
	cred_setup(c);
	ck_assert_int_eq(sockx_set_passcred(c->a, 1), 0);
	open_files(c);
	raw_send(c, sockx_fd(c->b), "abc", 3, 2, 1);
}

static long
recv_cred_call(struct ctx *c)
{
	return sockx_recv_cred(c->a, c->buf, sizeof(c->buf), &c->cred, 2000);
}

static void
recv_cred_check(struct ctx *c, long r)
{
	unsigned char rest[16];
	size_t n;

	cred_check_out(c, r);
	n = drain(c->a, rest, sizeof(rest));
	if (r < 0) {
		EXPECT(n == 3, "a failed receive consumed data");
		return;
	}
	EXPECT(r >= 1 && r <= 3 && memcmp(c->buf, "abc", (size_t)r) == 0 &&
	    (size_t)r + n == 3, "received %ld bytes, %zu left: not the "
	    "message", r, n);
}

static const struct fault recv_cred_faults[] = {
	RECV_FAULTS,
	/* The files are dropped; the credentials still came. */
	ABSORBS("recvmsg", SXF_CTRUNC, 0),
	ABSORBS("recvmsg", SXF_CTRUNC, 1),
	ABSORBS("close", SXF_FAIL_AFTER, EINTR),
};

/* ---------------------------------------------------------------- */
/* Modes, closing, addresses                                         */
/* ---------------------------------------------------------------- */

static const struct variant v_ktime[] = {
	{ "turn on", SOCK_STREAM, 0, 1 },
};
static const struct variant v_ktime_off[] = {
	{ "turn off", SOCK_STREAM, 1, 0 },
};

static void
ktime_setup(struct ctx *c)
{
	make_pair(c, SOCK_STREAM);
}

static long
ktime_call(struct ctx *c)
{
	return sockx_set_kernel_timeouts(c->a, c->v->x);
}

static void
ktime_check(struct ctx *c, long r)
{
	int on = r == 0 ? c->v->x : c->v->kmode;
	char ch;

	EXPECT(is_nonblock(sockx_fd(c->a)) == !on,
	    "the descriptor is %sblocking after the call returned %ld",
	    on ? "not " : "", r);
	/* The mode it is in works: a read of 0 ms times out at once. */
	EXPECT(sockx_read(c->a, &ch, 1, 0) == -ETIMEDOUT,
	    "a read of 0 ms does not time out");
}

static const struct fault ktime_faults[] = {
	/* on: SO_ACCEPTCONN first */
	FAILS("getsockopt", EACCES),
	/* calls 1, 2: F_GETFL, F_SETFL */
	FAILS("fcntl", EACCES),
};

static const struct fault ktime_off_faults[] = {
	FAILS("fcntl", EACCES),
};

static long
shutdown_call(struct ctx *c)
{
	return sockx_shutdown(c->a, SHUT_WR);
}

static void
shutdown_check(struct ctx *c, long r)
{
	char ch;
	long n = sockx_read(c->b, &ch, 1, 0);

	EXPECT(r == 0 ? n == 0 : n == -ETIMEDOUT,
	    "shutdown returned %ld; the peer's read %ld", r, n);
}

static const struct fault shutdown_faults[] = {
	FAILS("shutdown", EACCES),
};

static long
linger_call(struct ctx *c)
{
	return sockx_set_linger(c->a, 5);
}

static void
linger_check(struct ctx *c, long r)
{
	struct linger l = { -1, -1 };
	socklen_t n = sizeof(l);

	ck_assert_int_eq(getsockopt(sockx_fd(c->a), SOL_SOCKET, SO_LINGER, &l,
	    &n), 0);
	EXPECT(r == 0 ? l.l_onoff && l.l_linger == 5 : !l.l_onoff,
	    "SO_LINGER {%d, %d} after the call returned %ld", l.l_onoff,
	    l.l_linger, r);
}

static const struct fault linger_faults[] = {
	FAILS("setsockopt", EACCES),
};

/* sockx_close and sockx_abort free the handle whatever they return. */
static const struct variant v_close[] = {
	{ "pair", SOCK_STREAM, 0, 0 },
};
static const struct variant v_close_listener[] = {
	{ "listener, unlink on close", SOCK_STREAM, 0, 1 },
};

static void
close_setup(struct ctx *c)
{
	if (c->v->x == 0) {
		make_pair(c, SOCK_STREAM);
		return;
	}
	make_dir(c);
	FMT(c->path, "%s/sock", c->dir);
	ck_assert_int_eq(sockx_listen(&c->a, c->path, 0,
	    SOCKX_UNLINK_ON_CLOSE, 0), 0);
}

static long
close_call(struct ctx *c)
{
	return sockx_close(c->a);
}

static long
abort_call(struct ctx *c)
{
	return sockx_abort(c->a);
}

static void
close_check(struct ctx *c, long r)
{
	char ch;

	c->a = NULL;		/* freed, whatever it returned */
	if (c->v->x == 0)
		EXPECT(sockx_read(c->b, &ch, 1, 1000) == 0,
		    "the peer sees no end of stream: the socket is open");
	(void)r;
}

static void
close_teardown(struct ctx *c)
{
	close_all(c);
	remove_dir(c);
}

static const struct fault close_faults[] = {
	/* A signal during a linger: closed all the same, -EINPROGRESS. */
	{ .r = RULE("close", SXF_FAIL_AFTER, EINTR), .want = ERR,
	    .out = EINPROGRESS },
};

static const struct fault close_listener_faults[] = {
	{ .r = RULE("close", SXF_FAIL_AFTER, EINTR), .want = ERR,
	    .out = EINPROGRESS },
	/* The listener's file: checking and removing it may fail. */
	ABSORBS("lstat", SXF_FAIL, ENOMEM),
	ABSORBS("unlink", SXF_FAIL, EACCES),
};

static const struct fault abort_faults[] = {
	/* No zero linger: a plain close is the abort. */
	ABSORBS("setsockopt", SXF_FAIL, EACCES),
	{ .r = RULE("close", SXF_FAIL_AFTER, EINTR), .want = ERR,
	    .out = EINPROGRESS },
};

static const struct variant v_names[] = {
	{ "local (listener)", SOCK_STREAM, 0, 0 },
};
static const struct variant v_names_peer[] = {
	{ "peer (client)", SOCK_STREAM, 0, 1 },
};

static void
names_setup(struct ctx *c)
{
	listener_for(c, CONN_UNIX, 0, &c->l);
	ck_assert_int_eq(sockx_connect(&c->a, c->addr[0], 1000), 0);
	memset(&c->ss, BYTE_POISON, sizeof(c->ss));
	c->sl = 4242;
}

static long
names_call(struct ctx *c)
{
	return c->v->x == 0 ? sockx_local_addr(c->l, &c->ss, &c->sl) :
	    sockx_peer_addr(c->a, &c->ss, &c->sl);
}

static void
names_check(struct ctx *c, long r)
{
	char text[SOCKX_ADDRSTRLEN];
	unsigned char poison[sizeof(c->ss)];

	if (r == 0) {
		EXPECT(sockx_addr_format((struct sockaddr *)&c->ss, c->sl,
		    text, sizeof(text)) > 0 && strcmp(text, c->addr[0]) == 0,
		    "the address is not the listener's");
	} else {
		memset(poison, BYTE_POISON, sizeof(poison));
		EXPECT(memcmp(&c->ss, poison, sizeof(poison)) == 0 &&
		    c->sl == 4242, "addr/len written on failure");
	}
	drain_listener(c->l);
}

static const struct fault local_faults[] = {
	FAILS("getsockname", ENOBUFS),
	FAILS("getsockname", EACCES),
};

static const struct fault peer_faults[] = {
	FAILS("getpeername", ENOBUFS),
	FAILS("getpeername", EACCES),
};

/* ---------------------------------------------------------------- */
/* The sweeps                                                        */
/* ---------------------------------------------------------------- */

#define SC(name, timed, clean, v, setup, call, check, teardown, faults) \
	{ name, timed, clean, v, NELEM(v), setup, call, check, teardown, \
	  faults, NELEM(faults), NULL }
/* The same, for a scenario that needs what lacks() may say is missing. */
#define SC_IF(lacks, name, timed, clean, v, setup, call, check, teardown, \
    faults) \
	{ name, timed, clean, v, NELEM(v), setup, call, check, teardown, \
	  faults, NELEM(faults), lacks }

static const struct scenario scenarios[] = {
	SC("sockx_addr_parse", 0, 0, v_none, parse_setup, parse_call,
	    parse_check, nothing, parse_faults),
	SC("sockx_connect", 1, 0, v_connect, connect_setup, connect_call,
	    connect_check, connect_teardown, connect_faults),
	SC("sockx_connect", 1, 0, v_connect_tcp, connect_setup, connect_call,
	    connect_check, connect_teardown, connect_tcp_faults),
	SC("sockx_connect", 1, 0, v_connect_long, connect_setup, connect_call,
	    connect_check, connect_teardown, connect_long_faults),
	SC("sockx_connect", 1, 0, v_connect_dgram, connect_setup, connect_call,
	    connect_check, connect_teardown, connect_dgram_faults),
	SC("sockx_connect_any", 1, 0, v_any_mixed, any_setup, any_call,
	    any_check, any_teardown, any_mixed_faults),
	SC("sockx_connect_any", 1, 0, v_any_tcp, any_setup, any_call,
	    any_check, any_teardown, any_tcp_faults),
	SC("sockx_connect_any", 1, 0, v_any_long, any_setup, any_call,
	    any_check, any_teardown, any_long_faults),
	SC("sockx_listen", 0, 0, v_listen_abstract, listen_setup,
	    listen_call, listen_check, listen_teardown,
	    listen_abstract_faults),
	SC("sockx_listen", 0, 0, v_listen_path, listen_setup, listen_call,
	    listen_check, listen_teardown, listen_path_faults),
	SC("sockx_listen", 0, 0, v_listen_tcp, listen_setup, listen_call,
	    listen_check, listen_teardown, listen_tcp_faults),
	SC_IF(lacks_ipv6, "sockx_listen", 0, 0, v_listen_tcp6, listen_setup,
	    listen_call,
	    listen_check, listen_teardown, listen_tcp6_faults),
	SC("sockx_listen", 0, 0, v_listen_long, listen_setup, listen_call,
	    listen_check, listen_teardown, listen_long_faults),
	SC("sockx_listen", 0, 0, v_listen_dgram, listen_setup, listen_call,
	    listen_check, listen_teardown, listen_dgram_faults),
	SC("sockx_accept", 1, 0, v_accept, accept_setup, accept_call,
	    accept_check, connect_teardown, accept_faults),
	SC("sockx_pair", 0, 0, v_types, nothing, pair_call, pair_check,
	    plain_teardown, pair_faults),
	SC("sockx_adopt", 0, 0, v_types, adopt_setup, adopt_call,
	    adopt_check, plain_teardown, adopt_faults),
	SC("sockx_read", 1, 0, v_io, read_setup, read_call, read_check,
	    plain_teardown, read_faults),
	SC("sockx_write", 1, 0, v_io, write_setup, write_call, write_check,
	    plain_teardown, write_faults),
	SC("sockx_read_full", 1, 0, v_stream, read_full_setup,
	    read_full_call, read_full_check, plain_teardown,
	    read_full_faults),
	SC("sockx_write_full", 1, 0, v_stream, write_full_setup,
	    write_full_call, write_full_check, plain_teardown,
	    write_full_faults),
	SC("sockx_write_full", 1, 0, v_stream, big_setup, big_call,
	    big_check, plain_teardown, big_faults),
	SC("sockx_sendto", 1, 0, v_sendto, sendto_setup, sendto_call,
	    sendto_check, plain_teardown, sendto_faults),
	SC("sockx_recvfrom", 1, 0, v_recvfrom, recvfrom_setup,
	    recvfrom_call, recvfrom_check, connect_teardown,
	    recvfrom_faults),
	SC("sockx_wait", 1, 0, v_wait, wait_setup, wait_call, wait_check,
	    plain_teardown, wait_faults),
	SC_IF(lacks_high_fd, "sockx_wait", 1, 0, v_wait_high, wait_setup,
	    wait_call,
	    wait_check, plain_teardown, wait_high_faults),
	SC("sockx_send_fds", 1, 0, v_io, send_fds_setup, send_fds_call,
	    send_fds_check, plain_teardown, send_fds_faults),
	SC("sockx_recv_fds", 1, 0, v_io, recv_fds_setup, recv_fds_call,
	    recv_fds_check, plain_teardown, recv_fds_faults),
	SC("sockx_peer_cred", 0, 0, v_cred_pair, cred_setup, peer_cred_call,
	    cred_check_out, plain_teardown, peer_cred_faults),
	SC("sockx_peer_pidfd", 0, 0, v_cred_pair, cred_setup,
	    peer_pidfd_call, peer_pidfd_check, plain_teardown,
	    peer_pidfd_faults),
	SC("sockx_set_passcred", 0, 0, v_cred_pair, cred_setup,
	    passcred_call, passcred_check, plain_teardown, passcred_faults),
	SC("sockx_send_cred", 1, 0, v_cred_io, send_cred_setup,
	    send_cred_call, send_cred_check, plain_teardown,
	    send_cred_faults),
	SC("sockx_recv_cred", 1, 0, v_cred_io, recv_cred_setup,
	    recv_cred_call, recv_cred_check, plain_teardown,
	    recv_cred_faults),
	SC("sockx_set_kernel_timeouts", 0, 0, v_ktime, ktime_setup,
	    ktime_call, ktime_check, plain_teardown, ktime_faults),
	SC("sockx_set_kernel_timeouts", 0, 0, v_ktime_off, ktime_setup,
	    ktime_call, ktime_check, plain_teardown, ktime_off_faults),
	SC("sockx_shutdown", 0, 0, v_conn_types, write_setup, shutdown_call,
	    shutdown_check, plain_teardown, shutdown_faults),
	SC("sockx_set_linger", 0, 0, v_types, write_setup, linger_call,
	    linger_check, plain_teardown, linger_faults),
	SC("sockx_close", 0, 0, v_close, close_setup, close_call,
	    close_check, close_teardown, close_faults),
	SC("sockx_close", 0, 0, v_close_listener, close_setup, close_call,
	    close_check, close_teardown, close_listener_faults),
	SC("sockx_abort", 0, 0, v_close, close_setup, abort_call,
	    close_check, close_teardown, abort_faults),
	SC("sockx_local_addr", 0, 0, v_names, names_setup, names_call,
	    names_check, connect_teardown, local_faults),
	SC("sockx_peer_addr", 0, 0, v_names_peer, names_setup, names_call,
	    names_check, connect_teardown, peer_faults),
};

START_TEST(faults_sweep)
{
	const struct scenario *sc = &scenarios[_i];
	const char *missing = sc->lacks != NULL ? sc->lacks() : NULL;

	start();
	pattern_init();
	if (missing != NULL) {
		printf("# skipped: %s (%s): this system lacks %s\n",
		    sc->name, sc->v[0].name, missing);
		return;
	}
	printf("# sweep %d: %s (%zu variant(s), %zu fault rows)\n", _i,
	    sc->name, sc->nv, sc->nfaults);
	sweep(sc);
	finish();
}
END_TEST

/* ---------------------------------------------------------------- */
/* Spurious wake-ups: no call spins, none fails                       */
/* ---------------------------------------------------------------- */

#define SPIN_MS 150

/* Fill the send path of s until a write would block. */
static void
fill(sockx *s, size_t chunk)
{
	ssize_t n;

	while ((n = sockx_write(s, pattern, chunk, 0)) > 0)
		;
	ck_assert_int_eq(n, -ETIMEDOUT);
}

struct spin_case {
	const char *name;
	const char *fn;		/* the system call it retries */
	void (*setup)(struct ctx *);
	long (*call)(struct ctx *);
};

static void
spin_pair(struct ctx *c)
{
	ck_assert_int_eq(sockx_pair(&c->a, &c->b, SOCK_STREAM), 0);
}

static void
spin_full(struct ctx *c)
{
	spin_pair(c);
	fill(c->a, 4096);
}

static void
spin_partial(struct ctx *c)
{
	spin_pair(c);
	ck_assert_int_eq(sockx_write(c->b, pattern, 10, 0), 10);
}

static void
spin_udp(struct ctx *c)
{
	ck_assert_int_eq(sockx_listen(&c->a, "udp:127.0.0.1:0", 0, 0, 0), 0);
}

static void
spin_listener(struct ctx *c)
{
	listener_for(c, CONN_UNIX, 0, &c->l);
}

/* A unix datagram receiver whose queue is full. */
static void
spin_full_dgram(struct ctx *c)
{
	char name[96];
	int fd;

	FMT(c->addr[0], "unixgram:%s",
	    sxt_abstract(name, sizeof(name), "full"));
	ck_assert_int_eq(sockx_listen(&c->l, c->addr[0], 0, 0, 0), 0);
	ck_assert_int_eq(sockx_addr_parse(c->addr[0], &c->ss, &c->sl, NULL),
	    0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sockx_adopt(&c->a, fd), 0);
	while (sockx_sendto(c->a, "x", 1, (struct sockaddr *)&c->ss, c->sl,
	    0) == 1)
		;
}

/* A unix stream listener whose backlog is full (clients in c->fds). */
static void
spin_full_backlog(struct ctx *c)
{
	char name[96];

	FMT(c->addr[0], "%s",
	    sxt_abstract(name, sizeof(name), "bl"));
	ck_assert_int_eq(sockx_listen(&c->l, c->addr[0], 1, 0, 0), 0);
	c->nclients = (size_t)sxt_fill_backlog(c->addr[0], c->clients,
	    (int)NELEM(c->clients));
	c->addrs[0] = c->addr[0];
}

static long
spin_read(struct ctx *c)
{
	return sockx_read(c->a, c->buf, 1, SPIN_MS);
}

static long
spin_recv_fds(struct ctx *c)
{
	c->nfds = 8;
	return sockx_recv_fds(c->a, c->buf, 1, c->fds, &c->nfds, SPIN_MS);
}

static long
spin_recv_cred(struct ctx *c)
{
	return sockx_recv_cred(c->a, c->buf, 1, &c->cred, SPIN_MS);
}

static long
spin_recvfrom(struct ctx *c)
{
	return sockx_recvfrom(c->a, c->buf, 1, &c->ss, &c->sl, SPIN_MS);
}

static long
spin_read_full(struct ctx *c)
{
	long r = sockx_read_full(c->a, c->buf, 20, &c->done, SPIN_MS);

	EXPECT(c->done == 10, "done = %zu, not 10", c->done);
	return r;
}

static long
spin_write(struct ctx *c)
{
	return sockx_write(c->a, pattern, 4096, SPIN_MS);
}

static long
spin_send_fds(struct ctx *c)
{
	int fd = 0;

	return sockx_send_fds(c->a, pattern, 1, &fd, 1, SPIN_MS);
}

static long
spin_send_cred(struct ctx *c)
{
	return sockx_send_cred(c->a, pattern, 1, NULL, SPIN_MS);
}

static long
spin_write_full(struct ctx *c)
{
	long r = sockx_write_full(c->a, pattern, 4096, &c->done, SPIN_MS);

	EXPECT(c->done == 0, "done = %zu, not 0", c->done);
	return r;
}

static long
spin_sendto(struct ctx *c)
{
	return sockx_sendto(c->a, "x", 1, (struct sockaddr *)&c->ss, c->sl,
	    SPIN_MS);
}

static long
spin_accept(struct ctx *c)
{
	return sockx_accept(c->l, &c->out, SPIN_MS);
}

static long
spin_connect(struct ctx *c)
{
	return sockx_connect(&c->out, c->addr[0], SPIN_MS);
}

static long
spin_connect_any(struct ctx *c)
{
	return sockx_connect_any(&c->out, c->addrs, 1, SPIN_MS);
}

static const struct spin_case spin_cases[] = {
	{ "sockx_read", "recvmsg", spin_pair, spin_read },
	{ "sockx_recv_fds", "recvmsg", spin_pair, spin_recv_fds },
	{ "sockx_recv_cred", "recvmsg", spin_pair, spin_recv_cred },
	{ "sockx_recvfrom", "recvmsg", spin_udp, spin_recvfrom },
	{ "sockx_read_full", "recvmsg", spin_partial, spin_read_full },
	{ "sockx_write", "sendmsg", spin_full, spin_write },
	{ "sockx_send_fds", "sendmsg", spin_full, spin_send_fds },
	{ "sockx_send_cred", "sendmsg", spin_full, spin_send_cred },
	{ "sockx_write_full", "sendmsg", spin_full, spin_write_full },
	{ "sockx_sendto", "sendmsg", spin_full_dgram, spin_sendto },
	{ "sockx_accept", "accept4", spin_listener, spin_accept },
	/* No readiness exists for these two: backoff sleeps, no wait. */
	{ "sockx_connect", "connect", spin_full_backlog, spin_connect },
	{ "sockx_connect_any", "connect", spin_full_backlog,
	    spin_connect_any },
};

/*
 * Every wait of a timed call that cannot complete is a spurious wake-up:
 * the call still times out at its deadline, with a bounded number of
 * system calls (the backoff after a wait that said ready) and little CPU.
 */
START_TEST(faults_spurious_wakeups_neither_spin_nor_fail)
{
	const struct spin_case *sc = &spin_cases[_i];
	struct ctx *c = &c_;
	struct variant v = { sc->name, SOCK_STREAM, 0, 0 };
	struct fault f = ABSORBS("wait", SXF_SPURIOUS, 0);
	struct scenario scn = { .name = sc->name, .timed = 1,
	    .clean = -ETIMEDOUT };
	double cpu0, cpu, t0, el, slow = slowdown();
	unsigned calls, fired;
	long r;

	start();
	pattern_init();
	snprintf(where, sizeof(where), "%s, every wait spurious", sc->name);
	memset(c, 0, sizeof(*c));
	c->v = &v;
	c->f = &f;
	c->sc = &scn;
	c->fd = c->fd2 = -1;
	c->out = c->out2 = SENT;
	sc->setup(c);
	sxf.begin();
	ck_assert_int_eq(sxf.add(wait_fn, 1, 0, SXF_SPURIOUS, 0), 0);
	cpu0 = sxt_thread_cpu();
	t0 = sxt_now();
	errno = 0;
	r = sc->call(c);
	c->err = errno;
	el = sxt_now() - t0;
	cpu = sxt_thread_cpu() - cpu0;
	fired = sxf.rule_fired(0);
	calls = sxf.calls(sc->fn);
	injected += sxf.end();
	c->fired = 1;
	judge(c, r);
	/* Never early; "late" is loose: the machine may be busy. */
	EXPECT(el >= SPIN_MS / 1000.0 && el < SPIN_MS / 1000.0 + 1.0 * slow,
	    "timed out after %.3f s, not %.3f s", el, SPIN_MS / 1000.0);
	/* Backoff 1, 2, 4, 8, 8, ... ms: about 40 attempts in 150 ms. */
	EXPECT(calls <= 100, "%u calls to %s in %.3f s: it spins", calls,
	    sc->fn, el);
	if (slow == 1.0)
		EXPECT(cpu < 0.3 * el, "used %.0f%% of a CPU", 100 * cpu / el);
	if (strcmp(sc->fn, "connect") != 0)
		EXPECT(fired > 0, "no wait happened");
	printf("# %s: %u calls to %s, %u spurious wake-ups, %.3f s, "
	    "%.1f%% CPU\n", sc->name, calls, sc->fn, fired, el,
	    100 * cpu / el);
	if (c->out != SENT && c->out != NULL)
		sockx_close(c->out);
	c->out = SENT;
	sxt_close_all(c->clients, (int)c->nclients);
	plain_teardown(c);
	EXPECT(sxf.live() == 0 || sxf.live() == -2,
	    "memory the library allocated is not freed");
	finish();
}
END_TEST

/* A read still gets data that arrives while every wait is spurious. */
static void *
late_writer(void *arg)
{
	struct ctx *c = arg;

	usleep(30000);
	ck_assert_int_eq(sockx_write(c->b, "late", 4, 1000), 4);
	return NULL;
}

START_TEST(faults_spurious_wakeups_still_deliver)
{
	struct ctx *c = &c_;
	pthread_t t;
	long r;

	start();
	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(sockx_pair(&c->a, &c->b, SOCK_STREAM), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, late_writer, c), 0);
	sxf.begin();
	ck_assert_int_eq(sxf.add(wait_fn, 1, 0, SXF_SPURIOUS, 0), 0);
	r = sockx_read_full(c->a, c->buf, 4, &c->done, 2000);
	injected += sxf.end();
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(r, 4);
	ck_assert_mem_eq(c->buf, "late", 4);
	ck_assert_uint_le(sxf.calls("recvmsg"), 100);
	sockx_close(c->a);
	sockx_close(c->b);
	finish();
}
END_TEST

/*
 * A TCP connect that stays in progress: the listener's accept queue is
 * full (backlog 1), so Linux drops the SYN and the client stays in
 * SYN_SENT.  Returns the listener; clients in fds, their count in *n.
 */
static sockx *
stuck_tcp_listener(char *text, size_t size, int *fds, size_t *n)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pollfd p;
	sockx *l;

	ck_assert_int_eq(sockx_listen(&l, "tcp:127.0.0.1:0", 1, 0, 0), 0);
	tcp_text(l, text, size);
	ck_assert_int_eq(sockx_addr_parse(text, &ss, &sl, NULL), 0);
	for (*n = 0; *n < 8; (*n)++) {
		fds[*n] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fds[*n], 0);
		if (connect(fds[*n], (struct sockaddr *)&ss, sl) == 0)
			continue;
		ck_assert_int_eq(errno, EINPROGRESS);
		p.fd = fds[*n];
		p.events = POLLOUT;
		if (poll(&p, 1, 200) == 0) {
			(*n)++;
			return l;
		}
	}
	sxt_close_all(fds, (int)*n);
	sockx_close(l);
	return NULL;
}

/*
 * select(2) and poll(2) may report a descriptor ready that is not
 * (select(2), BUGS): a TCP connect still in progress must not be taken
 * for a connection.  SO_ERROR is 0 while a connect is in progress, so
 * it alone cannot tell; the call must go on waiting (without spinning)
 * and time out, since this connect never completes.
 */
START_TEST(faults_spurious_writable_is_not_a_tcp_connection)
{
	char text[64];
	int fds[8];
	size_t n;
	double t0, el;
	unsigned waits;
	sockx *l, *s = SENT;
	const char *addrs[1];
	long r;

	start();
	l = stuck_tcp_listener(text, sizeof(text), fds, &n);
	if (l == NULL) {
		printf("# skipped: no TCP connect stays in progress here\n");
		return;
	}
	addrs[0] = text;
	/* Clean: the connect times out. */
	CHECK_ERR(sockx_connect(&s, text, 50), ETIMEDOUT);
	sxf.begin();
	ck_assert_int_eq(sxf.add(wait_fn, 1, 0, SXF_SPURIOUS, 0), 0);
	t0 = sxt_now();
	r = _i == 0 ? sockx_connect(&s, text, SPIN_MS) :
	    sockx_connect_any(&s, addrs, 1, SPIN_MS);
	el = sxt_now() - t0;
	waits = sxf.calls(wait_fn);
	injected += sxf.end();
	snprintf(where, sizeof(where), "%s to a connect in progress, "
	    "every wait spurious", _i == 0 ? "sockx_connect" :
	    "sockx_connect_any");
	if (r == 0) {
		struct sockaddr_storage ss;
		socklen_t sl;

		EXPECT(sockx_peer_addr(s, &ss, &sl) == 0,
		    "returned success after %.3f s with a socket that is not "
		    "connected (getpeername: %s)", el, ename(errno));
		sockx_close(s);
	} else {
		EXPECT(r == -ETIMEDOUT, "returned %s", ename((int)-r));
		EXPECT(waits <= 100, "%u waits in %.3f s: it spins", waits,
		    el);
	}
	sxt_close_all(fds, (int)n);
	sockx_close(l);
	finish();
}
END_TEST

/* ---------------------------------------------------------------- */
/* Faults do not stretch a deadline                                  */
/* ---------------------------------------------------------------- */

/*
 * Signals that cut waits short 140 ms into them, four times (or every
 * backoff sleep 3 ms into it), and interrupted system calls: the call
 * still times out at its one deadline (600 ms), not 600 ms after the last
 * interruption (1160 ms or more).
 */
#define DL_MS 600
#define CUT_MS 140

START_TEST(faults_interruptions_keep_the_deadline)
{
	struct ctx *c = &c_;
	double t0, el, slow = slowdown();
	unsigned calls = 0, fired;
	long r = 0;

	start();
	memset(c, 0, sizeof(*c));
	c->fd = c->fd2 = -1;
	c->out = c->out2 = SENT;
	switch (_i) {
	case 0:
		snprintf(where, sizeof(where), "sockx_read, waits "
		    "interrupted");
		spin_pair(c);
		sxf.begin();
		ck_assert_int_eq(sxf.add(wait_fn, 1, 4, SXF_INTERRUPT,
		    CUT_MS), 0);
		ck_assert_int_eq(sxf.add("recvmsg", 2, 1, SXF_FAIL, EINTR),
		    0);
		t0 = sxt_now();
		r = sockx_read(c->a, c->buf, 1, DL_MS);
		break;
	case 1:
		snprintf(where, sizeof(where), "sockx_connect to a full "
		    "backlog, sleeps and connects interrupted");
		spin_full_backlog(c);
		sxf.begin();
		ck_assert_int_eq(sxf.add("clock_nanosleep", 1, 0,
		    SXF_INTERRUPT, 3), 0);
		ck_assert_int_eq(sxf.add("connect", 2, 2, SXF_FAIL, EINTR), 0);
		t0 = sxt_now();
		r = sockx_connect(&c->out, c->addr[0], DL_MS);
		calls = sxf.calls("connect");
		break;
	default:
		snprintf(where, sizeof(where), "sockx_accept, accept and "
		    "waits interrupted");
		spin_listener(c);
		sxf.begin();
		ck_assert_int_eq(sxf.add("accept4", 1, 2, SXF_FAIL, EINTR),
		    0);
		ck_assert_int_eq(sxf.add(wait_fn, 1, 4, SXF_INTERRUPT,
		    CUT_MS), 0);
		t0 = sxt_now();
		r = sockx_accept(c->l, &c->out, DL_MS);
		break;
	}
	el = sxt_now() - t0;
	fired = sxf.end();
	injected += fired;
	EXPECT(r == -ETIMEDOUT, "returned %ld", r);
	EXPECT(fired >= 2, "only %u interruptions", fired);
	EXPECT(el >= DL_MS / 1000.0 && el < DL_MS / 1000.0 + 0.4 * slow,
	    "timed out after %.3f s, not %.3f s", el, DL_MS / 1000.0);
	EXPECT(calls <= 100, "%u connect calls in %.3f s", calls, el);
	printf("# %s: %u faults, %.3f s\n", where, fired, el);
	sxt_close_all(c->clients, (int)c->nclients);
	plain_teardown(c);
	finish();
}
END_TEST

/* ---------------------------------------------------------------- */
/* Calls that meet no fault                                          */
/* ---------------------------------------------------------------- */

/*
 * sockx_release, sockx_fd, sockx_version and sockx_addr_format call
 * nothing that can fail (release frees; format's if_indextoname is
 * inside the C library, out of the shim's reach): what they allocate
 * and what they call, checked once.
 */
START_TEST(faults_calls_without_faults)
{
	struct sockaddr_in6 s6;
	char text[SOCKX_ADDRSTRLEN];
	sockx *a, *b;
	int fd, want;
	unsigned n;
	long live;

	start();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	want = sockx_fd(a);
	sxf.begin();
	fd = sockx_release(a);
	n = sxf.calls("close") + sxf.calls("malloc") + sxf.calls("calloc");
	sxf.end();
	ck_assert_int_eq(fd, want);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(close(fd), 0);
	sockx_close(b);
	live = sxf.live();
	ck_assert(live == 0 || live == -2);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(80);
	s6.sin6_addr.s6_addr[0] = 0xfe;
	s6.sin6_addr.s6_addr[1] = 0x80;
	s6.sin6_scope_id = 1;
	sxf.begin();
	ck_assert_int_gt(sockx_addr_format((struct sockaddr *)&s6,
	    sizeof(s6), text, sizeof(text)), 0);
	ck_assert_ptr_nonnull(sockx_version());
	n = sxf.calls("socket") + sxf.calls("malloc") + sxf.calls("calloc");
	sxf.end();
	ck_assert_uint_eq(n, 0);
	finish();
}
END_TEST

/* ---------------------------------------------------------------- */
/* System calls counted: adaptive waiting, kernel-timeout re-arming   */
/* ---------------------------------------------------------------- */

/*
 * A peer that answers each byte 5 ms later (its calls are made by another
 * thread, which no window counts).
 */
static void *
slow_echo(void *arg)
{
	sockx *s = arg;
	char c;

	while (sockx_read(s, &c, 1, -1) == 1) {
		usleep(5000);
		if (sockx_write(s, &c, 1, -1) != 1)
			break;
	}
	return NULL;
}

/*
 * Lock-step traffic (request, then the reply, which is never there yet
 * when the read starts): after the first read (a failed try, the wait, the
 * read: 3 calls) every read waits first and reads, 2 system calls.
 */
START_TEST(faults_lockstep_reads_make_two_calls)
{
	pthread_t t;
	sockx *a, *b;
	unsigned calls[20], waits, tries;
	char c = 'q';
	int i;

	start();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, slow_echo, b), 0);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(sockx_write(a, &c, 1, 5000), 1);
		sxf.begin();
		ck_assert_int_eq(sockx_read(a, &c, 1, 5000), 1);
		waits = sxf.calls(wait_fn);
		tries = sxf.calls("recvmsg");
		sxf.end();
		ck_assert_uint_eq(waits, 1);
		calls[i] = waits + tries;
	}
	ck_assert_uint_eq(calls[0], 3);
	for (i = 1; i < 20; i++)
		ck_assert_msg(calls[i] == 2, "read %d made %u calls", i,
		    calls[i]);
	ck_assert_int_eq(sockx_shutdown(a, SHUT_WR), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	sockx_close(a);
	sockx_close(b);
	finish();
}
END_TEST

/*
 * Streaming traffic (the data is there when the read starts): a handle
 * whose last read had to wait waits first twice more (and finds the data
 * ready at once: 2 calls each), then every read is 1 system call.  (A
 * wait that finds the data ready may be judged to have slept when this
 * machine is busy: a few more reads may then wait, never many.)  Timeout
 * 0 is one try and no wait.
 */
START_TEST(faults_streaming_reads_make_one_call)
{
	sockx *a, *b;
	unsigned waits, tries;
	char buf[64];
	int i, late = 0;

	start();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	CHECK_ERR(sockx_read(a, buf, 1, 20), ETIMEDOUT);	/* it waited */
	memset(buf, 's', sizeof(buf));
	ck_assert_int_eq(sockx_write(b, buf, 40, 0), 40);
	for (i = 0; i < 40; i++) {
		sxf.begin();
		ck_assert_int_eq(sockx_read(a, buf, 1, 5000), 1);
		waits = sxf.calls(wait_fn);
		tries = sxf.calls("recvmsg");
		sxf.end();
		ck_assert_uint_eq(tries, 1);
		ck_assert_uint_le(waits, 1);
		if (i < 2)
			ck_assert_msg(waits == 1, "read %d did not wait", i);
		else if (waits > 0)
			ck_assert_msg(i < 10, "read %d still waits", i);
		/* Once it tried first, data always being there, it stays. */
		if (waits > 0)
			ck_assert_msg(late == 0, "read %d waited after read %d "
			    "tried first", i, late);
		else if (late == 0)
			late = i;
	}
	ck_assert_int_ge(late, 2);
	/* Timeout 0 on an empty socket: one try, no wait, even after. */
	for (i = 0; i < 2; i++) {
		sxf.begin();
		CHECK_ERR(sockx_read(a, buf, 1, 0), ETIMEDOUT);
		waits = sxf.calls(wait_fn);
		tries = sxf.calls("recvmsg");
		sxf.end();
		ck_assert_uint_eq(tries, 1);
		ck_assert_uint_eq(waits, 0);
	}
	sockx_close(a);
	sockx_close(b);
	finish();
}
END_TEST

struct later_connect {
	char text[SOCKX_ADDRSTRLEN];
	int n;
};

/* Connect n times, 5 ms apart, closing each connection at once. */
static void *
connect_later(void *arg)
{
	struct later_connect *lc = arg;
	sockx *c;
	int i;

	for (i = 0; i < lc->n; i++) {
		usleep(5000);
		if (sockx_connect(&c, lc->text, 5000) == 0)
			sockx_close(c);
	}
	return NULL;
}

/*
 * Accepts whose connections come later (one at a time): after the first
 * (a failed try, the wait, the accept: 3 calls) each waits first, 2 calls.
 */
START_TEST(faults_lockstep_accepts_make_two_calls)
{
	struct sockaddr_storage ss;
	struct later_connect lc = { .n = 8 };
	socklen_t sl = sizeof(ss);
	unsigned calls;
	pthread_t t;
	sockx *l, *c;
	int i;

	start();
	ck_assert_int_eq(sockx_listen(&l, "127.0.0.1:0", 0, 0, 0), 0);
	ck_assert_int_eq(sockx_local_addr(l, &ss, &sl), 0);
	ck_assert_int_gt(sockx_addr_format((struct sockaddr *)&ss, sl,
	    lc.text, sizeof(lc.text)), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, connect_later, &lc), 0);
	for (i = 0; i < lc.n; i++) {
		sxf.begin();
		ck_assert_int_eq(sockx_accept(l, &c, 5000), 0);
		calls = sxf.calls(wait_fn) + sxf.calls("accept4");
		sxf.end();
		sockx_close(c);
		ck_assert_msg(calls == (i == 0 ? 3u : 2u),
		    "accept %d made %u calls", i, calls);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	sockx_close(l);
	finish();
}
END_TEST

/*
 * Kernel-timeout mode with alternating timeouts (a header and a body
 * timeout, both directions): once the shorter is armed, no call makes a
 * setsockopt().
 */
START_TEST(faults_kernel_mode_alternating_timeouts_make_no_setsockopt)
{
	sockx *a, *b;
	unsigned n, total = 0;
	int i, t;
	char c = 'k';

	start();
	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	ck_assert_int_eq(sockx_set_kernel_timeouts(a, 1), 0);
	for (i = 0; i < 40; i++) {
		t = i % 2 ? 5000 : 30000;
		ck_assert_int_eq(sockx_write(b, &c, 1, 0), 1);
		sxf.begin();
		ck_assert_int_eq(sockx_read(a, &c, 1, t), 1);
		ck_assert_int_eq(sockx_write(a, &c, 1, t), 1);
		n = sxf.calls("setsockopt");
		sxf.end();
		ck_assert_int_eq(sockx_read(b, &c, 1, 0), 1);
		if (i >= 2)
			total += n;
		else
			ck_assert_uint_le(n, 2);
	}
	ck_assert_uint_eq(total, 0);
	sockx_close(a);
	sockx_close(b);
	finish();
}
END_TEST

/* What the shim reaches in this build (a sanitizer may come first). */
START_TEST(faults_shim_reaches_the_library)
{
	static const char *const names[] = {
		"socket", "socketpair", "connect", "accept4", "bind",
		"listen", "recvmsg", "sendmsg", "getsockopt", "setsockopt",
		"getsockname", "getpeername", "shutdown", "fcntl", "close",
		"select", "poll", "clock_nanosleep", "malloc", "calloc",
		"strdup", "realloc", "open", "openat", "flock", "fchmod",
		"fchmodat", "chmod", "lstat", "unlink", "ioctl",
	};
	char line[512] = "";
	size_t i, off = 0;

	start();
	for (i = 0; i < NELEM(names); i++) {
		int r = sxf.interposed(names[i]);

		ck_assert_int_ge(r, 0);
		if (r == 0)
			off += (size_t)snprintf(line + off, sizeof(line) - off,
			    " %s", names[i]);
	}
	printf("# wait backend: %s; defined before the shim or replacing "
	    "it:%s\n", wait_fn, off > 0 ? line : " nothing");
	if (sxf.live() == -2)
		printf("# the shim cannot see frees here: leaks are left to "
		    "the sanitizer's or valgrind's own check\n");
	/* Whatever comes first, the library's socket calls reach the shim. */
	{
		sockx *a, *b;
		char ch;

		ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
		ck_assert_int_eq(sockx_write(b, "r", 1, 0), 1);
		sxf.begin();
		ck_assert_int_eq(sxf.add("recvmsg", 1, 1, SXF_FAIL, ENOMEM),
		    0);
		CHECK_ERR(sockx_read(a, &ch, 1, 1000), ENOMEM);
		ck_assert_uint_eq(sxf.end(), 1);
		ck_assert_int_eq(sockx_read(a, &ch, 1, 1000), 1);
		sockx_close(a);
		sockx_close(b);
	}
	finish();
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc;

	tc = sx_tcase("shim", 30);
	tcase_add_test(tc, faults_shim_reaches_the_library);
	tcase_add_test(tc, faults_calls_without_faults);
	suite_add_tcase(s, tc);

	tc = sx_tcase("sweep", 120);
	tcase_add_loop_test(tc, faults_sweep, 0, (int)NELEM(scenarios));
	suite_add_tcase(s, tc);

	tc = sx_tcase("spurious", 30);
	tcase_add_loop_test(tc, faults_spurious_wakeups_neither_spin_nor_fail,
	    0, (int)NELEM(spin_cases));
	tcase_add_test(tc, faults_spurious_wakeups_still_deliver);
	tcase_add_loop_test(tc,
	    faults_spurious_writable_is_not_a_tcp_connection, 0, 2);
	suite_add_tcase(s, tc);

	tc = sx_tcase("counts", 30);
	tcase_add_test(tc, faults_lockstep_reads_make_two_calls);
	tcase_add_test(tc, faults_streaming_reads_make_one_call);
	tcase_add_test(tc, faults_lockstep_accepts_make_two_calls);
	tcase_add_test(tc,
	    faults_kernel_mode_alternating_timeouts_make_no_setsockopt);
	suite_add_tcase(s, tc);

	tc = sx_tcase("deadlines", 30);
	tcase_add_loop_test(tc, faults_interruptions_keep_the_deadline, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
