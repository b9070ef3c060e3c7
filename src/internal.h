/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the modules of libsockx share and never export: the
 * export mark, the one errno-setting exit, struct sockx, address
 * resolution for connect and listen, the deadline and the one wait
 * primitive.
 */
#ifndef SOCKX_INTERNAL_H
#define SOCKX_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "sockx.h"

/* Marks a definition as part of the ABI; libsockx.sym must list it too. */
#define SX_EXPORT __attribute__((visibility("default")))

/*
 * Every public function returns through sx_ret() or sx_sret(): errno is set
 * from a negative result as the very last step, so no cleanup can clobber
 * it.  Non-negative results leave errno alone.
 */
static inline int
sx_ret(int r)
{
	if (r < 0)
		errno = -r;
	return r;
}

static inline ssize_t
sx_sret(ssize_t r)
{
	if (r < 0)
		errno = (int)-r;
	return r;
}

/*
 * pollset.c: what a handle records of its membership in a poll set.  set
 * is NULL when it belongs to none; mask is what is registered with epoll
 * (0: nothing, as for events 0); slot is its index in the set's heap of
 * deadlines (SIZE_MAX: no deadline, end_ns then INT64_MAX).
 */
struct sx_member {
	struct sockx_poll *set;
	struct sockx *prev, *next;	/* the set's list of members */
	void *data;
	int events;		/* SOCKX_READABLE | SOCKX_WRITABLE */
	uint32_t mask;
	size_t slot;
	int64_t end_ns;		/* the deadline (INT64_MAX: none) */
	int64_t key_ns;		/* its place in the heap: <= end_ns */
};

/*
 * One socket.  fd is FD_CLOEXEC from birth to close, O_NONBLOCK except in
 * kernel-timeout mode, and owned by the handle alone.  family and type
 * are fixed at creation and spare a getsockopt() on every call that
 * depends on them.
 */
struct sockx {
	int fd;
	int family;		/* AF_UNIX, AF_INET, AF_INET6, ... */
	int type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	unsigned flags;		/* SX_* below */
	char *unlink_path;	/* SOCKX_UNLINK_ON_CLOSE: the file to remove */
	dev_t dev;		/* ... if it is still this one */
	ino_t ino;
	pid_t unlink_pid;	/* ... by this process only: the one that bound it */
	int64_t rcvtimeo_ns;	/* SO_RCVTIMEO as armed (0: none, -1: unknown) */
	int64_t sndtimeo_ns;	/* SO_SNDTIMEO as armed (0: none, -1: unknown) */
	int rx_wait;		/* adaptive waiting: see below */
	struct sx_member pm;	/* its poll set, if any */
};

/*
 * Adaptive waiting (default mode): a handle whose last receive or accept
 * had to wait waits first next time, then makes the call; one that found
 * data ready tries first.  rx_wait counts down the waits that must still
 * find the descriptor ready at once before the handle tries first again
 * (SX_RX_WAITS after a call that had to wait, 0: try first), so that a
 * single wait misjudged as ready at once (one that slept only a few
 * microseconds) does not make lock-step traffic try first.  It is read and
 * written with relaxed atomics, as any thread may receive on a handle.
 */
#define SX_RX_WAITS	2

static inline int
sx_rx_wait_get(const sockx *s)
{
	return __atomic_load_n(&s->rx_wait, __ATOMIC_RELAXED);
}

static inline void
sx_rx_wait_set(sockx *s, int v)
{
	if (sx_rx_wait_get(s) != v)
		__atomic_store_n(&s->rx_wait, v, __ATOMIC_RELAXED);
}

/* After a wait of a handle that waits first: did it sleep? */
static inline void
sx_rx_waited(sockx *s, int slept)
{
	int v = sx_rx_wait_get(s);

	sx_rx_wait_set(s, slept ? SX_RX_WAITS : v > 0 ? v - 1 : 0);
}

/*
 * Bound or connected through a path longer than sun_path: the kernel's
 * name for it is a /proc/self/fd/N alias, so the addresses are not
 * reported (-ENAMETOOLONG).
 */
#define SX_LONG_PATH	0x1u
/*
 * sockx_set_kernel_timeouts: fd is blocking, and the transfers of io.c
 * sleep in the system call under SO_RCVTIMEO / SO_SNDTIMEO.
 */
#define SX_KERNEL_TIMEOUTS	0x2u

/*
 * pollset.c: take s out of its poll set (s->pm.set not NULL) before it is
 * closed or released.  In a forked child it only forgets the membership:
 * the epoll instance is shared with the parent and stays untouched.
 */
void sx_poll_forget(sockx *s);

/* handle.c: a handle for fd (which it then owns), or NULL without memory. */
sockx *sx_handle_new(int fd, int family, int type);
/* handle.c: unlink the file of SOCKX_UNLINK_ON_CLOSE if it is still ours. */
void sx_unlink_if_ours(const char *path, dev_t dev, ino_t ino);

/*
 * addr.c: an address ready for connect(2) or bind(2).  A filesystem path
 * longer than sun_path is reached through an O_PATH descriptor of its
 * directory (dirfd) and the name /proc/self/fd/<dirfd>/<basename>.
 */
struct sx_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int type;
	const char *path;	/* a filesystem path: its text; else NULL */
	int dirfd;		/* a long path's directory; else -1 */
};

int sx_addr_open(struct sx_addr *a, const char *text);
void sx_addr_close(struct sx_addr *a);
/*
 * sx_addr_open in two steps: sx_addr_parse() checks the text and opens
 * nothing (a long path is left with len 0), sx_addr_resolve() opens what
 * the address needs (a long path's directory).
 */
int sx_addr_parse(struct sx_addr *a, const char *text);
int sx_addr_resolve(struct sx_addr *a);
/*
 * Split a path into its directory (".", "/" or the text before the last
 * slash) and its non-empty basename (-EINVAL when empty).
 */
int sx_path_split(const char *path, char dir[PATH_MAX], const char **base);

/*
 * inherit.c: is address one of the inherited forms ("fd:N", "systemd:...")?
 * sx_listen_inherited() is sockx_listen for them: it adopts the inherited
 * socket, or leaves the descriptor exactly as it was and returns -errno.
 */
int sx_is_inherited(const char *address);
int sx_listen_inherited(sockx **out, const char *address, unsigned flags,
    unsigned mode);

/*
 * deadline.c: one CLOCK_MONOTONIC deadline per call.  sx_deadline_start()
 * reads the clock at once.  sx_deadline_lazy() is for a call whose first
 * attempt is a system call that never blocks (default mode): it reads the
 * clock only when the deadline is first needed, which is after that
 * attempt failed with EAGAIN, a few microseconds after the call started;
 * a call that completes at once never reads the clock.  Every
 * sx_deadline_* function takes a lazy deadline when it needs it, through
 * the const pointer: a lazy deadline is never a const object.
 */
struct sx_deadline {
	/*
	 * INT64_MAX: no deadline; 0: already due (timeout 0); < 0: a lazy
	 * deadline not taken yet, -end_ns milliseconds from when it is.
	 */
	int64_t end_ns;
};

int64_t sx_now_ns(void);
int sx_deadline_start(struct sx_deadline *dl, int timeout_ms);
int sx_deadline_lazy(struct sx_deadline *dl, int timeout_ms);

/* sx_deadline_lazy, inline for the I/O calls' fast path. */
static inline int
sx_dl_lazy(struct sx_deadline *dl, int timeout_ms)
{
	if (timeout_ms < -1)
		return -EINVAL;
	dl->end_ns = timeout_ms == -1 ? INT64_MAX : -(int64_t)timeout_ms;
	return 0;
}
/* 1 if dl allows no wait at all (timeout 0), without reading the clock. */
static inline int
sx_deadline_none(const struct sx_deadline *dl)
{
	return dl->end_ns == 0;
}
/* sx_deadline_left_ns, with no call where no clock is needed. */
int64_t sx_deadline_left_ns(const struct sx_deadline *dl);
static inline int64_t
sx_dl_left(const struct sx_deadline *dl)
{
	if (dl->end_ns == INT64_MAX || dl->end_ns == 0)
		return dl->end_ns;
	return sx_deadline_left_ns(dl);
}
/* dl's end on CLOCK_MONOTONIC (taking a lazy deadline), INT64_MAX: none. */
int64_t sx_deadline_end(const struct sx_deadline *dl);
int sx_deadline_expired(const struct sx_deadline *dl);
int64_t sx_deadline_left_ns(const struct sx_deadline *dl);
int64_t sx_deadline_wait_ns(const struct sx_deadline *dl);

/*
 * Where no readiness event exists (a full unix backlog, a full unix
 * datagram receiver reached by address), a call retries after a sleep that
 * starts at SX_BACKOFF_MIN_NS and doubles up to SX_BACKOFF_MAX_NS: a few
 * hundred wake-ups a second at most, each ending no later than the
 * deadline.
 */
#define SX_BACKOFF_MIN_NS	1000000
#define SX_BACKOFF_MAX_NS	8000000
void sx_backoff(const struct sx_deadline *dl, int64_t *step_ns);
/* Sleep until CLOCK_MONOTONIC reads end_ns, resuming after signals. */
void sx_sleep_until(int64_t end_ns);

/* The one wait primitive (backend by build option wait_backend). */
struct sx_waitfd {
	int fd;
	int events;		/* SOCKX_READABLE | SOCKX_WRITABLE */
	int revents;		/* out: the ready subset of events */
};

/*
 * deadline.c: sx_wait() waits until an entry is ready or the deadline
 * passes, resuming after signals; the backend's sx_wait_once() makes one
 * select(2) or poll(2) with the time left and returns the number of ready
 * entries, 0 or -errno.
 */
int sx_wait(struct sx_waitfd *w, size_t n, const struct sx_deadline *dl);
int sx_wait_once(struct sx_waitfd *w, size_t n, const struct sx_deadline *dl);
extern const char sx_wait_backend[];

/*
 * The wait of one descriptor, the I/O calls' own, in the backend: waits
 * until fd is ready for events (returns the ready subset) or dl passes
 * (-ETIMEDOUT; a deadline that has passed gets one look without waiting),
 * resuming after signals, in one select(2) or poll(2) of the time left
 * when it ends ready (which asks the time once: a lazy deadline is taken
 * then).  *slept (if not NULL) is set to 1 if it slept, to 0 if fd was
 * ready at once: a wait that ended within SX_SLEPT_NS of its start did
 * not sleep.  sx_wait_ns() is the timeout one wait asks for when left
 * nanoseconds are left (see sx_deadline_wait_ns).
 */
#define SX_SLEPT_NS	3000
int sx_wait_fd(int fd, int events, const struct sx_deadline *dl,
    int *slept);

static inline int64_t
sx_wait_ns(int64_t left)
{
	return left == INT64_MAX ? left : left - left / 1000;
}

/*
 * deadline.c: the wait of a retry loop after EAGAIN (see sx_wait_retry);
 * start each loop with SX_RETRY_INIT.
 */
struct sx_retry {
	int was_ready;		/* the last wait reported ready */
	int64_t step_ns;	/* the next backoff sleep */
};
#define SX_RETRY_INIT { 0, SX_BACKOFF_MIN_NS }
int sx_wait_retry(struct sx_retry *rt, int fd, int events,
    const struct sx_deadline *dl);

/*
 * io.c: the transfers every I/O module shares.  sx_io_start() checks the
 * arguments every transfer shares and starts the call's deadline;
 * sx_io_begin() does the same with a lazy deadline (sx_deadline_lazy), for
 * a call that makes one transfer (one sx_recv_dl or sx_send_dl), not a
 * loop of them.
 */
int sx_io_start(const sockx *s, const void *buf, size_t len, int timeout_ms,
    struct sx_deadline *dl);
int sx_io_begin(const sockx *s, const void *buf, size_t len, int timeout_ms,
    struct sx_deadline *dl);

/* What a receive hands over from the control messages it reads. */
struct sx_rx {
	int take_fds;		/* descriptors wanted: all of them, or -EMSGSIZE */
	int *fds;		/* ... into room for cap of them */
	size_t cap;
	size_t nfds;		/* out (start at 0): the descriptors handed over */
	struct sockx_cred *cred; /* out if not NULL and a sender came */
};

/*
 * Receive within dl (a stream receive of 0 bytes returns 0 at once).  rx
 * NULL hands nothing over; descriptors not handed over are closed.
 */
ssize_t sx_recv_dl(sockx *s, void *buf, size_t len,
    struct sockaddr_storage *from, socklen_t *fromlen, struct sx_rx *rx,
    const struct sx_deadline *dl);

/* Send m within dl: one successful sendmsg(2), MSG_NOSIGNAL. */
ssize_t sx_send_dl(sockx *s, const struct msghdr *m,
    const struct sx_deadline *dl);

#endif /* SOCKX_INTERNAL_H */
