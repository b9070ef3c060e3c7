/* SPDX-License-Identifier: MIT */
/*
 * faultinject.c - an LD_PRELOAD shim that makes the C library functions
 * libsockx calls fail or fall short on a schedule (faultinject.h).
 *
 * Every interposed function counts its call and, if a rule says so,
 * injects a fault; otherwise it calls the real function, found with
 * dlsym(RTLD_NEXT).  A call is counted (and can be faulted) only
 *  - inside a window that the test opened, in the same thread, around
 *    exactly one libsockx call, and
 *  - when it comes from libsockx: its return address lies in libsockx's
 *    mapping (found with dladdr on sockx_version), or in a sanitizer's
 *    interceptor of the same function (ASan intercepts recvmsg, accept4,
 *    getsockopt, poll, ...: it sits between libsockx and this shim and
 *    passes the call on).
 * So neither Check (whose assertions allocate) nor the test program nor
 * another thread is ever faulted.  Calls that the shim makes itself, or
 * that a real function makes while the shim runs it (strdup calling
 * malloc), are not counted either.
 *
 * Each fault is one the kernel could produce (faultinject.h): an error
 * before anything happened, EINTR after close() or a TCP connect() really
 * happened (Linux behaves so), a short transfer on a stream, a truncation
 * made by the kernel itself from a smaller control buffer, a spurious
 * wake-up.  Success is never reported for something that was not done.
 *
 * The shim also keeps the blocks that libsockx allocated in a window and
 * has not freed yet (sxf_live), so that the test can check for leaks after
 * every run.  Under ASan the executable's allocator comes first and the
 * shim's malloc is never called: allocation failures cannot be injected
 * there (sxf_interposed says so) and LeakSanitizer checks leaks instead.
 */
#define _GNU_SOURCE
/*
 * Both the plain and the 64-bit names are defined below (libsockx, built
 * with _FILE_OFFSET_BITS=64, calls fcntl64, open64 and lstat64), so this
 * file must see them as distinct functions.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "faultinject.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))

/* The interposed functions, by counter (the 64-bit names share one). */
enum fn {
	F_SOCKET, F_SOCKETPAIR, F_CONNECT, F_ACCEPT4, F_BIND, F_LISTEN,
	F_RECVMSG, F_SENDMSG, F_GETSOCKOPT, F_SETSOCKOPT, F_GETSOCKNAME,
	F_GETPEERNAME, F_SHUTDOWN, F_FCNTL, F_CLOSE, F_SELECT, F_POLL,
	F_CLOCK_NANOSLEEP, F_MALLOC, F_CALLOC, F_STRDUP, F_REALLOC, F_OPEN,
	F_OPENAT,
	F_FLOCK, F_FCHMOD, F_FCHMODAT, F_CHMOD, F_LSTAT, F_UNLINK, F_IOCTL,
	F_EPOLL_CREATE1, F_EPOLL_CTL, F_EPOLL_WAIT, F_EVENTFD, F_READ, F_WRITE,
	NFN
};

#define M(x) (1u << (x))
/* reach(): the bit that says free's code runs (above the allocators'). */
#define FREE_BIT (1u << 31)
_Static_assert(F_MALLOC < 31 && F_CALLOC < 31 && F_STRDUP < 31 &&
    F_REALLOC < 31,
    "the allocator functions need a bit of their own in reach()");
#define ANYFAIL M(SXF_FAIL)

static const struct {
	const char *name;
	unsigned modes;		/* the modes it takes */
} fns[NFN] = {
	[F_SOCKET] = { "socket", ANYFAIL },
	[F_SOCKETPAIR] = { "socketpair", ANYFAIL },
	[F_CONNECT] = { "connect", ANYFAIL | M(SXF_FAIL_AFTER) },
	[F_ACCEPT4] = { "accept4", ANYFAIL },
	[F_BIND] = { "bind", ANYFAIL },
	[F_LISTEN] = { "listen", ANYFAIL },
	[F_RECVMSG] = { "recvmsg", ANYFAIL | M(SXF_SHORT) | M(SXF_CTRUNC) },
	[F_SENDMSG] = { "sendmsg", ANYFAIL | M(SXF_SHORT) },
	[F_GETSOCKOPT] = { "getsockopt", ANYFAIL },
	[F_SETSOCKOPT] = { "setsockopt", ANYFAIL },
	[F_GETSOCKNAME] = { "getsockname", ANYFAIL },
	[F_GETPEERNAME] = { "getpeername", ANYFAIL },
	[F_SHUTDOWN] = { "shutdown", ANYFAIL },
	[F_FCNTL] = { "fcntl", ANYFAIL },
	[F_CLOSE] = { "close", M(SXF_FAIL_AFTER) },
#define WAITS (ANYFAIL | M(SXF_SPURIOUS) | M(SXF_INTERRUPT))
	[F_SELECT] = { "select", WAITS },
	[F_POLL] = { "poll", WAITS },
	[F_CLOCK_NANOSLEEP] = { "clock_nanosleep",
	    ANYFAIL | M(SXF_INTERRUPT) },
	[F_MALLOC] = { "malloc", ANYFAIL },
	[F_CALLOC] = { "calloc", ANYFAIL },
	[F_STRDUP] = { "strdup", ANYFAIL },
	[F_REALLOC] = { "realloc", ANYFAIL },
	[F_OPEN] = { "open", ANYFAIL },
	[F_OPENAT] = { "openat", ANYFAIL },
	[F_FLOCK] = { "flock", ANYFAIL },
	[F_FCHMOD] = { "fchmod", ANYFAIL },
	[F_FCHMODAT] = { "fchmodat", ANYFAIL },
	[F_CHMOD] = { "chmod", ANYFAIL },
	[F_LSTAT] = { "lstat", ANYFAIL },
	[F_UNLINK] = { "unlink", ANYFAIL },
	[F_IOCTL] = { "ioctl", ANYFAIL },
	[F_EPOLL_CREATE1] = { "epoll_create1", ANYFAIL },
	[F_EPOLL_CTL] = { "epoll_ctl", ANYFAIL },
	[F_EPOLL_WAIT] = { "epoll_wait", ANYFAIL | M(SXF_INTERRUPT) },
	[F_EVENTFD] = { "eventfd", ANYFAIL },
	[F_READ] = { "read", ANYFAIL },
	[F_WRITE] = { "write", ANYFAIL },
};

#define MAX_RULES 8

struct rule {
	enum fn fn;
	unsigned nth, times;
	int mode, arg;
	unsigned fired;		/* faults this rule injected */
};

/* One thread's window, and the counters of its last one. */
struct window {
	int open;
	int depth;		/* > 0: inside a real call the shim made */
	int counted;		/* the last call was counted (libsockx's) */
	int probing;		/* reach(): note which allocator code runs */
	unsigned reached;	/* ... as bits of enum fn, FREE_BIT for free */
	unsigned nrules;
	struct rule rules[MAX_RULES];
	unsigned calls[NFN];
	unsigned fired[NFN];
	unsigned nfired;
};

static TLS struct window win;
static atomic_ulong total_fired;

/* ---------------------------------------------------------------- */
/* The real functions                                                */
/* ---------------------------------------------------------------- */

#define REAL(name) static __typeof__(&name) real_##name

REAL(socket);
REAL(socketpair);
REAL(connect);
REAL(accept4);
REAL(bind);
REAL(listen);
REAL(recvmsg);
REAL(sendmsg);
REAL(getsockopt);
REAL(setsockopt);
REAL(getsockname);
REAL(getpeername);
REAL(shutdown);
REAL(fcntl);
REAL(fcntl64);
REAL(close);
REAL(select);
REAL(poll);
REAL(clock_nanosleep);
REAL(malloc);
REAL(calloc);
REAL(realloc);
REAL(free);
REAL(strdup);
REAL(open);
REAL(open64);
REAL(openat);
REAL(openat64);
REAL(flock);
REAL(fchmod);
REAL(fchmodat);
REAL(chmod);
REAL(lstat);
REAL(lstat64);
REAL(unlink);
REAL(ioctl);
REAL(epoll_create1);
REAL(epoll_ctl);
REAL(epoll_wait);
REAL(eventfd);
REAL(read);
REAL(write);

/*
 * dlsym() may allocate (its error state) before the allocator is found:
 * those few blocks come from a static arena and are never freed.
 */
static TLS int resolving;
static _Alignas(max_align_t) unsigned char arena[16384];
static atomic_size_t arena_used;

static void *
arena_alloc(size_t n)
{
	size_t a = _Alignof(max_align_t), off;

	n = (n + a - 1) / a * a;
	off = atomic_fetch_add(&arena_used, n);
	if (off + n > sizeof(arena))
		return NULL;
	return arena + off;
}

static int
in_arena(const void *p)
{
	return (const unsigned char *)p >= arena &&
	    (const unsigned char *)p < arena + sizeof(arena);
}

static void *
next(const char *name)
{
	void *p;

	resolving++;
	p = dlsym(RTLD_NEXT, name);
	resolving--;
	return p;
}

/* Through memcpy: ISO C has no cast from void * to a function pointer. */
#define RESOLVE(name) \
	do { \
		void *p_ = next(#name); \
		memcpy(&real_##name, &p_, sizeof(p_)); \
	} while (0)

static int
resolve_allocator(void)
{
	if (real_malloc != NULL && real_calloc != NULL &&
	    real_free != NULL && real_realloc != NULL && real_strdup != NULL)
		return 0;
	if (resolving)
		return -1;
	RESOLVE(malloc);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(free);
	RESOLVE(strdup);
	return real_malloc != NULL && real_calloc != NULL &&
	    real_free != NULL && real_realloc != NULL &&
	    real_strdup != NULL ? 0 : -1;
}

__attribute__((constructor)) static void
init(void)
{
	resolve_allocator();
	RESOLVE(socket);
	RESOLVE(socketpair);
	RESOLVE(connect);
	RESOLVE(accept4);
	RESOLVE(bind);
	RESOLVE(listen);
	RESOLVE(recvmsg);
	RESOLVE(sendmsg);
	RESOLVE(getsockopt);
	RESOLVE(setsockopt);
	RESOLVE(getsockname);
	RESOLVE(getpeername);
	RESOLVE(shutdown);
	RESOLVE(fcntl);
	RESOLVE(fcntl64);
	RESOLVE(close);
	RESOLVE(select);
	RESOLVE(poll);
	RESOLVE(clock_nanosleep);
	RESOLVE(open);
	RESOLVE(open64);
	RESOLVE(openat);
	RESOLVE(openat64);
	RESOLVE(flock);
	RESOLVE(fchmod);
	RESOLVE(fchmodat);
	RESOLVE(chmod);
	RESOLVE(lstat);
	RESOLVE(lstat64);
	RESOLVE(unlink);
	RESOLVE(ioctl);
	RESOLVE(epoll_create1);
	RESOLVE(epoll_ctl);
	RESOLVE(epoll_wait);
	RESOLVE(eventfd);
	RESOLVE(read);
	RESOLVE(write);
}

/* A call before the constructor ran (another constructor's): find it now. */
#define ENSURE(name) \
	do { \
		if (real_##name == NULL) \
			RESOLVE(name); \
	} while (0)

/* ---------------------------------------------------------------- */
/* Schedule                                                          */
/* ---------------------------------------------------------------- */

/*
 * SXF_TRACE=1 in the environment: every counted call is written to stderr
 * with the object that made it, to see what a window contains.
 */
static int tracing = -1;

static void
trace(enum fn f, unsigned n, void *caller)
{
	char line[512];
	Dl_info di;
	int len;

	if (tracing < 0) {
		const char *t = getenv("SXF_TRACE");

		tracing = t != NULL && *t == '1';
	}
	if (!tracing)
		return;
	win.depth++;
	if (dladdr(caller, &di) == 0 || di.dli_fname == NULL)
		di.dli_fname = "?";
	len = snprintf(line, sizeof(line), "sxf: %s #%u from %s+%#lx (%s)\n",
	    fns[f].name, n, di.dli_fname,
	    (unsigned long)((uintptr_t)caller - (uintptr_t)di.dli_fbase),
	    di.dli_sname != NULL ? di.dli_sname : "?");
	if (len > 0)
		(void)!write(2, line, (size_t)len < sizeof(line) ?
		    (size_t)len : sizeof(line) - 1);
	win.depth--;
}

/* libsockx's mapping: [lib_lo, lib_hi). */
static uintptr_t lib_lo, lib_hi;

static int
find_segments(struct dl_phdr_info *info, size_t size, void *base)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0, a;
	int i;

	(void)size;
	if ((void *)info->dlpi_addr != base)
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_LOAD)
			continue;
		a = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
		if (a < lo)
			lo = a;
		if (a + info->dlpi_phdr[i].p_memsz > hi)
			hi = a + info->dlpi_phdr[i].p_memsz;
	}
	lib_lo = lo;
	lib_hi = hi;
	return 1;
}

/* Find libsockx (once; from sxf_begin, never from an interposer). */
static void
find_library(void)
{
	Dl_info di;
	void *sym;

	if (lib_hi != 0)
		return;
	sym = dlsym(RTLD_DEFAULT, "sockx_version");
	if (sym != NULL && dladdr(sym, &di) != 0)
		dl_iterate_phdr(find_segments, di.dli_fbase);
}

/*
 * Does a call to name (the symbol the caller called) from caller come
 * from libsockx?  Either directly, or through an interceptor of the same
 * function (named name, __interceptor_name or ___interceptor_name).
 */
static int
from_library(void *caller, const char *name)
{
	const char *p;
	Dl_info di;

	if ((uintptr_t)caller >= lib_lo && (uintptr_t)caller < lib_hi)
		return 1;
	if (dladdr(caller, &di) == 0 || di.dli_sname == NULL)
		return 0;
	p = di.dli_sname;
	while (*p == '_')
		p++;
	if (strncmp(p, "interceptor_", 12) == 0)
		p += 12;
	else
		p = di.dli_sname;
	return strcmp(p, name) == 0;
}

/*
 * Count a call to f, by the symbol name, made from caller; the rule that
 * faults it, or NULL.
 */
#define hit(f) hit_at(f, __builtin_return_address(0), __func__)

static struct rule *
hit_at(enum fn f, void *caller, const char *name)
{
	unsigned i, n;

	win.counted = 0;
	if (!win.open || win.depth > 0)
		return NULL;
	win.depth++;		/* dladdr must not count */
	i = from_library(caller, name);
	win.depth--;
	if (!i)
		return NULL;
	win.counted = 1;
	n = ++win.calls[f];
	trace(f, n, caller);
	for (i = 0; i < win.nrules; i++) {
		struct rule *r = &win.rules[i];

		if (r->fn == f && n >= r->nth &&
		    (r->times == 0 || n - r->nth < r->times))
			return r;
	}
	return NULL;
}

/* The fault of rule r on a call to f was injected. */
static void
fire(enum fn f, struct rule *r)
{
	r->fired++;
	win.fired[f]++;
	win.nfired++;
	atomic_fetch_add(&total_fired, 1);
}

/* Inject "fail with err": -1 and errno. */
static int
fail(enum fn f, struct rule *r)
{
	fire(f, r);
	errno = r->arg;
	return -1;
}

static int
lookup(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < NFN; i++)
		if (strcmp(fns[i].name, name) == 0)
			return i;
	return -1;
}

EXPORT void sxf_begin(void);
EXPORT int sxf_add(const char *fn, unsigned nth, unsigned times, int mode,
    int arg);
EXPORT unsigned sxf_end(void);
EXPORT unsigned sxf_calls(const char *fn);
EXPORT unsigned sxf_fired(const char *fn);
EXPORT unsigned sxf_rule_fired(unsigned i);
EXPORT long sxf_live(void);
EXPORT int sxf_interposed(const char *fn);
EXPORT unsigned long sxf_total(void);

static unsigned reach(void);

void
sxf_begin(void)
{
	find_library();
	(void)reach();
	memset(&win, 0, sizeof(win));
	win.open = 1;
}

int
sxf_add(const char *fn, unsigned nth, unsigned times, int mode, int arg)
{
	int f = lookup(fn);

	if (f < 0 || mode < SXF_FAIL || mode > SXF_INTERRUPT ||
	    !(fns[f].modes & M(mode)) || nth == 0 ||
	    win.nrules == MAX_RULES)
		return -1;
	win.rules[win.nrules++] = (struct rule){
		.fn = (enum fn)f, .nth = nth, .times = times,
		.mode = mode, .arg = arg,
	};
	return 0;
}

unsigned
sxf_end(void)
{
	win.open = 0;
	return win.nfired;
}

unsigned
sxf_calls(const char *fn)
{
	int f = lookup(fn);

	return f < 0 ? 0 : win.calls[f];
}

unsigned
sxf_fired(const char *fn)
{
	int f = lookup(fn);

	return f < 0 ? 0 : win.fired[f];
}

unsigned
sxf_rule_fired(unsigned i)
{
	return i < win.nrules ? win.rules[i].fired : 0;
}

unsigned long
sxf_total(void)
{
	return atomic_load(&total_fired);
}

/* ---------------------------------------------------------------- */
/* Allocations made in windows                                        */
/* ---------------------------------------------------------------- */

#define MAX_LIVE 512

static _Atomic(void *) live[MAX_LIVE];
static atomic_int nlive;
static atomic_int untracked;

/* Keep p if the allocation that returned it was libsockx's. */
static void
track(void *p)
{
	size_t i;

	if (p == NULL || !win.counted)
		return;
	win.counted = 0;
	if (!(reach() & (FREE_BIT)))
		return;		/* its free would never be seen */
	for (i = 0; i < MAX_LIVE; i++) {
		void *expect = NULL;

		if (atomic_compare_exchange_strong(&live[i], &expect, p)) {
			atomic_fetch_add(&nlive, 1);
			return;
		}
	}
	atomic_fetch_add(&untracked, 1);
}

/* Forget p; 1 if it was kept. */
static int
untrack(void *p)
{
	size_t i;

	if (p == NULL || atomic_load(&nlive) == 0)
		return 0;
	for (i = 0; i < MAX_LIVE; i++) {
		void *expect = p;

		if (atomic_compare_exchange_strong(&live[i], &expect, NULL)) {
			atomic_fetch_sub(&nlive, 1);
			return 1;
		}
	}
	return 0;
}

/*
 * Which allocator functions of the shim really run when the process
 * calls them: a sanitizer's allocator comes first (the executable defines
 * them), and valgrind's memcheck replaces malloc, calloc, realloc and free
 * wherever they are defined, this shim included, but not strdup.  (The
 * probe's realloc returns a block of calloc's.)  Bits
 * of enum fn, FREE_BIT for free; found once, by calling each through the
 * process's own resolution.
 */
static unsigned
reach(void)
{
	static atomic_int done;
	static atomic_uint bits;
	void *(*m)(size_t), *(*c)(size_t, size_t), *(*re)(void *, size_t);
	void *p, *q;
	char *(*d)(const char *), *t;
	void (*f)(void *);
	void *sym;

	if (atomic_load(&done))
		return atomic_load(&bits);
	sym = dlsym(RTLD_DEFAULT, "malloc");
	memcpy(&m, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "calloc");
	memcpy(&c, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "strdup");
	memcpy(&d, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "realloc");
	memcpy(&re, &sym, sizeof(sym));
	sym = dlsym(RTLD_DEFAULT, "free");
	memcpy(&f, &sym, sizeof(sym));
	win.reached = 0;
	win.probing = 1;
	p = m(16);
	q = c(1, 16);
	q = re(q, 32);
	t = d("x");
	f(p);
	f(q);
	f(t);
	win.probing = 0;
	atomic_store(&bits, win.reached);
	atomic_store(&done, 1);
	return win.reached;
}

/* -2: the shim cannot see frees in this process (see reach). */
long
sxf_live(void)
{
	if (!(reach() & (FREE_BIT)))
		return -2;
	return atomic_load(&untracked) > 0 ? -1 : atomic_load(&nlive);
}

void *
malloc(size_t n)
{
	struct rule *r;
	void *p;

	if (win.probing)
		win.reached |= 1u << F_MALLOC;
	if (resolve_allocator() < 0)
		return arena_alloc(n);
	r = hit(F_MALLOC);
	if (r != NULL) {
		fire(F_MALLOC, r);
		errno = ENOMEM;
		return NULL;
	}
	p = real_malloc(n);
	track(p);
	return p;
}

void *
calloc(size_t n, size_t size)
{
	struct rule *r;
	void *p;

	if (win.probing)
		win.reached |= 1u << F_CALLOC;
	if (resolve_allocator() < 0)
		return arena_alloc(n * size);	/* the arena is zeroed */
	r = hit(F_CALLOC);
	if (r != NULL) {
		fire(F_CALLOC, r);
		errno = ENOMEM;
		return NULL;
	}
	p = real_calloc(n, size);
	track(p);
	return p;
}

void *
realloc(void *old, size_t n)
{
	struct rule *r;
	void *p;
	int kept;

	if (win.probing)
		win.reached |= 1u << F_REALLOC;
	if (in_arena(old)) {
		p = malloc(n);
		if (p != NULL)
			memcpy(p, old, n);	/* the arena outlives it */
		return p;
	}
	if (resolve_allocator() < 0)
		return NULL;
	/*
	 * Counted (and faulted) when libsockx calls it (channels grow their
	 * buffers with it).  A failure leaves the old block as it was.
	 */
	r = hit(F_REALLOC);
	if (r != NULL) {
		fire(F_REALLOC, r);
		errno = ENOMEM;
		return NULL;
	}
	kept = untrack(old);
	if (!win.counted && kept)
		win.counted = 1;	/* a block libsockx had moves on */
	p = real_realloc(old, n);
	if (p == NULL && old != NULL && n != 0) {
		win.counted = kept;
		track(old);		/* still allocated */
	} else if (n != 0) {
		track(p);
	}
	return p;
}

void
free(void *p)
{
	if (win.probing)
		win.reached |= FREE_BIT;
	if (p == NULL || in_arena(p))
		return;
	untrack(p);
	if (resolve_allocator() == 0)
		real_free(p);
}

char *
strdup(const char *s)
{
	struct rule *r;
	char *p;
	int i;

	if (win.probing)
		win.reached |= 1u << F_STRDUP;
	if (resolve_allocator() < 0)
		return NULL;
	r = hit(F_STRDUP);
	if (r != NULL) {
		fire(F_STRDUP, r);
		errno = ENOMEM;
		return NULL;
	}
	i = win.counted;
	win.depth++;		/* its malloc is not libsockx's */
	p = real_strdup(s);
	win.depth--;
	win.counted = i;
	track(p);
	return p;
}

/* ---------------------------------------------------------------- */
/* Sockets                                                           */
/* ---------------------------------------------------------------- */

/* The plain functions: count, fail when told, else the real call. */
#define FAIL_OR(f, call) \
	do { \
		struct rule *r_ = hit(f); \
		if (r_ != NULL) \
			return fail(f, r_); \
		return call; \
	} while (0)

static int
sock_int(int fd, int level, int opt)
{
	int v = 0;
	socklen_t n = sizeof(v);

	if (real_getsockopt(fd, level, opt, &v, &n) < 0)
		return -1;
	return v;
}

int
socket(int domain, int type, int protocol)
{
	ENSURE(socket);
	FAIL_OR(F_SOCKET, real_socket(domain, type, protocol));
}

int
socketpair(int domain, int type, int protocol, int sv[2])
{
	ENSURE(socketpair);
	FAIL_OR(F_SOCKETPAIR, real_socketpair(domain, type, protocol, sv));
}

int
connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	struct rule *r;
	int ret;

	ENSURE(connect);
	r = hit(F_CONNECT);
	if (r == NULL)
		return real_connect(fd, addr, len);
	if (r->mode == SXF_FAIL)
		return fail(F_CONNECT, r);
	/*
	 * After: only a TCP connect goes on after a signal; elsewhere the
	 * rule is declined (not a fault).
	 */
	ret = real_connect(fd, addr, len);
	if (sock_int(fd, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP)
		return ret;
	if (ret == 0 || errno == EINPROGRESS)
		return fail(F_CONNECT, r);
	return ret;
}

int
accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags)
{
	ENSURE(accept4);
	FAIL_OR(F_ACCEPT4, real_accept4(fd, addr, len, flags));
}

int
bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	ENSURE(bind);
	FAIL_OR(F_BIND, real_bind(fd, addr, len));
}

int
listen(int fd, int backlog)
{
	ENSURE(listen);
	FAIL_OR(F_LISTEN, real_listen(fd, backlog));
}

/*
 * A copy of the iovecs of m holding at most max bytes in total; returns
 * how many entries, or -1 when m holds max bytes or fewer already.
 */
static int
shorten(const struct msghdr *m, struct iovec *iov, size_t room, size_t max)
{
	size_t i, total = 0;

	for (i = 0; i < m->msg_iovlen; i++)
		total += m->msg_iov[i].iov_len;
	if (total <= max || m->msg_iovlen > room)
		return -1;
	for (i = 0, total = 0; i < m->msg_iovlen && total < max; i++) {
		iov[i] = m->msg_iov[i];
		if (iov[i].iov_len > max - total)
			iov[i].iov_len = max - total;
		total += iov[i].iov_len;
	}
	return (int)i;
}

ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	struct iovec iov[16];
	struct msghdr copy;
	struct rule *r;
	size_t room;
	ssize_t n;
	int k;

	ENSURE(recvmsg);
	r = hit(F_RECVMSG);
	if (r == NULL)
		return real_recvmsg(fd, m, flags);
	if (r->mode == SXF_FAIL)
		return fail(F_RECVMSG, r);
	copy = *m;
	if (r->mode == SXF_SHORT) {
		k = sock_int(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM ?
		    shorten(m, iov, 16, (size_t)r->arg) : -1;
		if (k < 0)
			return real_recvmsg(fd, m, flags);
		copy.msg_iov = iov;
		copy.msg_iovlen = (size_t)k;
		n = real_recvmsg(fd, &copy, flags);
		if (n > 0)
			fire(F_RECVMSG, r);
	} else {		/* SXF_CTRUNC */
		room = r->arg > 0 ? CMSG_LEN(sizeof(int) * (size_t)r->arg) : 0;
		if (sock_int(fd, SOL_SOCKET, SO_PASSCRED) > 0)
			room += CMSG_SPACE(sizeof(struct ucred));
		if (m->msg_control == NULL || room >= m->msg_controllen)
			return real_recvmsg(fd, m, flags);
		copy.msg_controllen = room;
		n = real_recvmsg(fd, &copy, flags);
		if (n >= 0 && (copy.msg_flags & MSG_CTRUNC))
			fire(F_RECVMSG, r);
	}
	m->msg_namelen = copy.msg_namelen;
	m->msg_controllen = copy.msg_controllen;
	m->msg_flags = copy.msg_flags;
	return n;
}

ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct iovec iov[16];
	struct msghdr copy;
	struct rule *r;
	ssize_t n;
	int k;

	ENSURE(sendmsg);
	r = hit(F_SENDMSG);
	if (r == NULL)
		return real_sendmsg(fd, m, flags);
	if (r->mode == SXF_FAIL)
		return fail(F_SENDMSG, r);
	/* SXF_SHORT */
	k = sock_int(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM ?
	    shorten(m, iov, 16, (size_t)r->arg) : -1;
	if (k < 0)
		return real_sendmsg(fd, m, flags);
	copy = *m;
	copy.msg_iov = iov;
	copy.msg_iovlen = (size_t)k;
	n = real_sendmsg(fd, &copy, flags);
	if (n > 0)
		fire(F_SENDMSG, r);
	return n;
}

int
getsockopt(int fd, int level, int opt, void *restrict val,
    socklen_t *restrict len)
{
	ENSURE(getsockopt);
	FAIL_OR(F_GETSOCKOPT, real_getsockopt(fd, level, opt, val, len));
}

int
setsockopt(int fd, int level, int opt, const void *val, socklen_t len)
{
	ENSURE(setsockopt);
	FAIL_OR(F_SETSOCKOPT, real_setsockopt(fd, level, opt, val, len));
}

int
getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
	ENSURE(getsockname);
	FAIL_OR(F_GETSOCKNAME, real_getsockname(fd, addr, len));
}

int
getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
	ENSURE(getpeername);
	FAIL_OR(F_GETPEERNAME, real_getpeername(fd, addr, len));
}

int
shutdown(int fd, int how)
{
	ENSURE(shutdown);
	FAIL_OR(F_SHUTDOWN, real_shutdown(fd, how));
}

/* ---------------------------------------------------------------- */
/* Descriptors and waiting                                           */
/* ---------------------------------------------------------------- */

/*
 * The third argument of fcntl(cmd), read as the type the command takes:
 * none, an int or a pointer.
 */
#define FCNTL_ARG(cmd, ap, arg) \
	do { \
		switch (cmd) { \
		case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: \
		case F_GETLEASE: case F_GETPIPE_SZ: case F_GET_SEALS: \
			arg = 0; \
			break; \
		case F_DUPFD: case F_DUPFD_CLOEXEC: case F_SETFD: \
		case F_SETFL: case F_SETOWN: case F_SETSIG: case F_SETLEASE: \
		case F_NOTIFY: case F_SETPIPE_SZ: case F_ADD_SEALS: \
			arg = (uintptr_t)(unsigned)va_arg(ap, int); \
			break; \
		default: \
			arg = (uintptr_t)va_arg(ap, void *); \
			break; \
		} \
	} while (0)

int
fcntl(int fd, int cmd, ...)
{
	uintptr_t arg;
	va_list ap;

	va_start(ap, cmd);
	FCNTL_ARG(cmd, ap, arg);
	va_end(ap);
	ENSURE(fcntl);
	FAIL_OR(F_FCNTL, real_fcntl(fd, cmd, arg));
}

int
fcntl64(int fd, int cmd, ...)
{
	uintptr_t arg;
	va_list ap;

	va_start(ap, cmd);
	FCNTL_ARG(cmd, ap, arg);
	va_end(ap);
	ENSURE(fcntl64);
	FAIL_OR(F_FCNTL, real_fcntl64(fd, cmd, arg));
}

int
close(int fd)
{
	struct rule *r;
	int ret;

	ENSURE(close);
	r = hit(F_CLOSE);
	ret = real_close(fd);
	/* Linux has released the descriptor whatever close() reports. */
	if (r != NULL && (ret == 0 || errno == EINTR))
		return fail(F_CLOSE, r);
	return ret;
}

/*
 * SXF_INTERRUPT: a wait of left_ns (< 0: forever) that a signal cuts
 * short after ms milliseconds, or halfway if that is sooner; returns the
 * nanoseconds slept.  A wait with no time left (left_ns == 0) cannot be
 * interrupted: the caller makes the real call instead.
 */
static int64_t
interrupted_sleep(int ms, int64_t left_ns)
{
	int64_t ns = (int64_t)ms * 1000000;
	struct timespec ts;

	if (left_ns >= 0 && left_ns / 2 < ns)
		ns = left_ns / 2;
	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	while (real_clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
	return ns;
}

/* The events select would report if every requested one were ready. */
static int
count_bits(int nfds, const fd_set *set)
{
	int fd, n = 0;
	const unsigned char *p = (const unsigned char *)set;

	if (set == NULL)
		return 0;
	/* Bit fd of the set, in the kernel's layout (bytes of words). */
	for (fd = 0; fd < nfds; fd++) {
		size_t w = (size_t)fd / (8 * sizeof(long));
		size_t b = (size_t)fd % (8 * sizeof(long));
		unsigned long word;

		memcpy(&word, p + w * sizeof(long), sizeof(word));
		n += (word >> b) & 1;
	}
	return n;
}

int
select(int nfds, fd_set *restrict rd, fd_set *restrict wr,
    fd_set *restrict ex, struct timeval *restrict tv)
{
	struct rule *r;
	int n;

	ENSURE(select);
	r = hit(F_SELECT);
	if (r == NULL)
		return real_select(nfds, rd, wr, ex, tv);
	if (r->mode == SXF_FAIL)
		return fail(F_SELECT, r);
	if (r->mode == SXF_INTERRUPT && (tv == NULL || tv->tv_sec > 0 ||
	    tv->tv_usec > 0)) {
		ENSURE(clock_nanosleep);
		interrupted_sleep(r->arg, tv == NULL ? -1 :
		    (int64_t)tv->tv_sec * 1000000000 +
		    (int64_t)tv->tv_usec * 1000);
		fire(F_SELECT, r);
		errno = EINTR;
		return -1;
	}
	if (r->mode == SXF_INTERRUPT)
		return real_select(nfds, rd, wr, ex, tv);
	/* SXF_SPURIOUS: every requested read and write bit stays set. */
	n = count_bits(nfds, rd) + count_bits(nfds, wr);
	if (n == 0)
		return real_select(nfds, rd, wr, ex, tv);
	if (ex != NULL)
		memset(ex, 0, ((size_t)nfds + 8 * sizeof(long) - 1) /
		    (8 * sizeof(long)) * sizeof(long));
	fire(F_SELECT, r);
	return n;
}

int
poll(struct pollfd *p, nfds_t n, int timeout)
{
	struct rule *r;
	nfds_t i;
	int ready = 0;

	ENSURE(poll);
	r = hit(F_POLL);
	if (r == NULL)
		return real_poll(p, n, timeout);
	if (r->mode == SXF_FAIL)
		return fail(F_POLL, r);
	if (r->mode == SXF_INTERRUPT && timeout != 0) {
		ENSURE(clock_nanosleep);
		interrupted_sleep(r->arg, timeout < 0 ? -1 :
		    (int64_t)timeout * 1000000);
		fire(F_POLL, r);
		errno = EINTR;
		return -1;
	}
	if (r->mode == SXF_INTERRUPT)
		return real_poll(p, n, timeout);
	/* SXF_SPURIOUS */
	for (i = 0; i < n; i++) {
		p[i].revents = p[i].fd < 0 ? 0 :
		    (short)(p[i].events & (POLLIN | POLLOUT | POLLRDNORM |
		    POLLWRNORM));
		ready += p[i].revents != 0;
	}
	if (ready == 0)
		return real_poll(p, n, timeout);
	fire(F_POLL, r);
	return ready;
}

int
clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
    struct timespec *rem)
{
	struct rule *r;

	ENSURE(clock_nanosleep);
	r = hit(F_CLOCK_NANOSLEEP);
	if (r != NULL && r->mode == SXF_INTERRUPT) {
		struct timespec now;
		int64_t left;

		/* Part of the sleep, then the signal: EINTR. */
		left = (int64_t)req->tv_sec * 1000000000 + req->tv_nsec;
		if (flags & TIMER_ABSTIME) {
			clock_gettime(clk, &now);
			left -= (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
		}
		/* A sleep that has ended cannot be interrupted. */
		if (left <= 0)
			return real_clock_nanosleep(clk, flags, req, rem);
		left -= interrupted_sleep(r->arg, left);
		if (rem != NULL && !(flags & TIMER_ABSTIME)) {
			rem->tv_sec = (time_t)(left / 1000000000);
			rem->tv_nsec = (long)(left % 1000000000);
		}
		fire(F_CLOCK_NANOSLEEP, r);
		return EINTR;
	}
	if (r != NULL) {
		/* Woken before it slept: it returns the error number. */
		fire(F_CLOCK_NANOSLEEP, r);
		if (rem != NULL && !(flags & TIMER_ABSTIME))
			*rem = *req;
		return r->arg;
	}
	return real_clock_nanosleep(clk, flags, req, rem);
}

/* ---------------------------------------------------------------- */
/* Files                                                             */
/* ---------------------------------------------------------------- */

#define OPEN_MODE(flags, ap, mode) \
	do { \
		mode = 0; \
		if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) { \
			va_start(ap, flags); \
			mode = (mode_t)va_arg(ap, int); \
			va_end(ap); \
		} \
	} while (0)

int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	OPEN_MODE(flags, ap, mode);
	ENSURE(open);
	FAIL_OR(F_OPEN, real_open(path, flags, mode));
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	OPEN_MODE(flags, ap, mode);
	ENSURE(open64);
	FAIL_OR(F_OPEN, real_open64(path, flags, mode));
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	OPEN_MODE(flags, ap, mode);
	ENSURE(openat);
	FAIL_OR(F_OPENAT, real_openat(dirfd, path, flags, mode));
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	OPEN_MODE(flags, ap, mode);
	ENSURE(openat64);
	FAIL_OR(F_OPENAT, real_openat64(dirfd, path, flags, mode));
}

int
flock(int fd, int op)
{
	ENSURE(flock);
	FAIL_OR(F_FLOCK, real_flock(fd, op));
}

int
fchmod(int fd, mode_t mode)
{
	ENSURE(fchmod);
	FAIL_OR(F_FCHMOD, real_fchmod(fd, mode));
}

int
fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	ENSURE(fchmodat);
	FAIL_OR(F_FCHMODAT, real_fchmodat(dirfd, path, mode, flags));
}

int
chmod(const char *path, mode_t mode)
{
	ENSURE(chmod);
	FAIL_OR(F_CHMOD, real_chmod(path, mode));
}

int
lstat(const char *restrict path, struct stat *restrict st)
{
	ENSURE(lstat);
	FAIL_OR(F_LSTAT, real_lstat(path, st));
}

int
lstat64(const char *restrict path, struct stat64 *restrict st)
{
	ENSURE(lstat64);
	FAIL_OR(F_LSTAT, real_lstat64(path, st));
}

int
unlink(const char *path)
{
	ENSURE(unlink);
	FAIL_OR(F_UNLINK, real_unlink(path));
}

int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	ENSURE(ioctl);
	FAIL_OR(F_IOCTL, real_ioctl(fd, req, arg));
}

/* ---------------------------------------------------------------- */
/* Poll sets: epoll, eventfd and the eventfd's read and write         */
/* ---------------------------------------------------------------- */

int
epoll_create1(int flags)
{
	ENSURE(epoll_create1);
	FAIL_OR(F_EPOLL_CREATE1, real_epoll_create1(flags));
}

int
epoll_ctl(int ep, int op, int fd, struct epoll_event *e)
{
	ENSURE(epoll_ctl);
	FAIL_OR(F_EPOLL_CTL, real_epoll_ctl(ep, op, fd, e));
}

int
epoll_wait(int ep, struct epoll_event *e, int max, int timeout)
{
	struct rule *r;

	ENSURE(epoll_wait);
	r = hit(F_EPOLL_WAIT);
	if (r == NULL)
		return real_epoll_wait(ep, e, max, timeout);
	if (r->mode == SXF_FAIL)
		return fail(F_EPOLL_WAIT, r);
	/* SXF_INTERRUPT: a wait with no time left cannot be interrupted. */
	if (timeout == 0)
		return real_epoll_wait(ep, e, max, timeout);
	ENSURE(clock_nanosleep);
	interrupted_sleep(r->arg, timeout < 0 ? -1 :
	    (int64_t)timeout * 1000000);
	fire(F_EPOLL_WAIT, r);
	errno = EINTR;
	return -1;
}

int
eventfd(unsigned int count, int flags)
{
	ENSURE(eventfd);
	FAIL_OR(F_EVENTFD, real_eventfd(count, flags));
}

/*
 * read and write: libsockx calls them only on a poll set's eventfd (its
 * sockets go through recvmsg and sendmsg); every other caller is not
 * counted.
 */
ssize_t
read(int fd, void *buf, size_t n)
{
	ENSURE(read);
	FAIL_OR(F_READ, real_read(fd, buf, n));
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	ENSURE(write);
	FAIL_OR(F_WRITE, real_write(fd, buf, n));
}

/* ---------------------------------------------------------------- */
/* Which definitions the process uses                                */
/* ---------------------------------------------------------------- */

/*
 * Is fn's definition in the process the shim's (and does its code run)?
 * It is when dladdr() finds it in the shim's own mapping.
 */
int
sxf_interposed(const char *fn)
{
	static const struct {
		enum fn f;
		const char *sym;
	} syms[] = {
		{ F_SOCKET, "socket" },
		{ F_SOCKETPAIR, "socketpair" },
		{ F_CONNECT, "connect" },
		{ F_ACCEPT4, "accept4" },
		{ F_BIND, "bind" },
		{ F_LISTEN, "listen" },
		{ F_RECVMSG, "recvmsg" },
		{ F_SENDMSG, "sendmsg" },
		{ F_GETSOCKOPT, "getsockopt" },
		{ F_SETSOCKOPT, "setsockopt" },
		{ F_GETSOCKNAME, "getsockname" },
		{ F_GETPEERNAME, "getpeername" },
		{ F_SHUTDOWN, "shutdown" },
		{ F_FCNTL, "fcntl64" },
		{ F_CLOSE, "close" },
		{ F_SELECT, "select" },
		{ F_POLL, "poll" },
		{ F_CLOCK_NANOSLEEP, "clock_nanosleep" },
		{ F_OPEN, "open64" },
		{ F_OPENAT, "openat64" },
		{ F_FLOCK, "flock" },
		{ F_FCHMOD, "fchmod" },
		{ F_FCHMODAT, "fchmodat" },
		{ F_CHMOD, "chmod" },
		{ F_LSTAT, "lstat64" },
		{ F_UNLINK, "unlink" },
		{ F_IOCTL, "ioctl" },
		{ F_EPOLL_CREATE1, "epoll_create1" },
		{ F_EPOLL_CTL, "epoll_ctl" },
		{ F_EPOLL_WAIT, "epoll_wait" },
		{ F_EVENTFD, "eventfd" },
		{ F_READ, "read" },
		{ F_WRITE, "write" },
	};
	Dl_info self, def;
	int f = lookup(fn);
	size_t i;
	void *sym;

	/* The allocator: whether its code runs, which says more. */
	if (f == F_MALLOC || f == F_CALLOC || f == F_STRDUP ||
	    f == F_REALLOC)
		return (reach() >> f) & 1;
	if (f < 0 || dladdr((void *)arena, &self) == 0)
		return -1;
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if (syms[i].f != (enum fn)f)
			continue;
		sym = dlsym(RTLD_DEFAULT, syms[i].sym);
		return sym != NULL && dladdr(sym, &def) != 0 &&
		    def.dli_fbase == self.dli_fbase;
	}
	return -1;
}
