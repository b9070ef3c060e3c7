/* SPDX-License-Identifier: MIT */
/*
 * pollset.c - poll sets: many handles, each with its own deadline, and
 * wake-ups, under one wait.  On Linux a set is an epoll instance
 * (level-triggered), an eventfd for sockx_poll_wake, a binary min-heap of
 * the members' deadlines and a list of its members.
 *
 * Invariants: a handle is in at most one set (s->pm.set); it is
 * registered with epoll exactly when it watches some event (s->pm.mask
 * != 0, the mask registered); it is in the heap, at index s->pm.slot,
 * exactly when it has a deadline (s->pm.end_ns != INT64_MAX); the heap
 * always has room for every member, so sockx_poll_mod never allocates.
 * Only the process that made the set (pid) ever calls epoll_ctl on it.
 *
 * Fairness: with level triggering, epoll_wait puts every member it reports
 * back at the tail of its ready list, so successive waits go round the
 * ready members (epoll_wait(2)).  The events of one wait are taken from
 * one epoll_wait, never kept for later, so none is stale.  When deadlines
 * are due as well, part of the room is kept for them (and with n == 1,
 * readiness and expiry take turns), so neither can starve the other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#ifdef __linux__

#include <sys/epoll.h>
#include <sys/eventfd.h>

/* Events taken from one epoll_wait at most (a wait reports fewer). */
#define BATCH	256

struct sockx_poll {
	int epfd;
	int wakefd;
	pid_t pid;		/* the process that made it */
	sockx *members;		/* every member, linked by pm.prev/next */
	size_t nmembers;
	sockx **heap;		/* members with a deadline, earliest first */
	size_t nheap, cap;	/* cap >= nmembers */
	int turn;		/* n == 1: expiry's turn (1) or readiness's */
	struct epoll_event buf[BATCH];
};

/* ---------------------------------------------------------------- */
/* The heap of deadlines                                            */
/* ---------------------------------------------------------------- */

static void
heap_put(sockx_poll *p, size_t i, sockx *s)
{
	p->heap[i] = s;
	s->pm.slot = i;
}

static void
sift_up(sockx_poll *p, size_t i)
{
	sockx *s = p->heap[i];
	size_t up;

	while (i > 0) {
		up = (i - 1) / 2;
		if (p->heap[up]->pm.key_ns <= s->pm.key_ns)
			break;
		heap_put(p, i, p->heap[up]);
		i = up;
	}
	heap_put(p, i, s);
}

static void
sift_down(sockx_poll *p, size_t i)
{
	sockx *s = p->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < p->nheap) {
		if (c + 1 < p->nheap &&
		    p->heap[c + 1]->pm.key_ns < p->heap[c]->pm.key_ns)
			c++;
		if (s->pm.key_ns <= p->heap[c]->pm.key_ns)
			break;
		heap_put(p, i, p->heap[c]);
		i = c;
	}
	heap_put(p, i, s);
}

/* Take s's deadline away: it has none afterwards. */
static void
heap_remove(sockx_poll *p, sockx *s)
{
	size_t i = s->pm.slot;
	sockx *last;

	s->pm.slot = SIZE_MAX;
	s->pm.end_ns = INT64_MAX;
	s->pm.key_ns = INT64_MAX;
	if (i == SIZE_MAX)
		return;
	last = p->heap[--p->nheap];
	if (last == s)
		return;
	heap_put(p, i, last);
	sift_up(p, i);
	sift_down(p, last->pm.slot);
}

/*
 * Give s the deadline end_ns (INT64_MAX: none).  A later deadline than
 * the one s is filed under only changes end_ns: s keeps its place (its
 * key) until the key comes due, and heap_settle files it again then.  So
 * re-arming an idle deadline on every request costs no sift (at most one
 * per member per key that comes due), and the heap never wakes a wait
 * late: a key is never after its deadline.
 */
static void
heap_set(sockx_poll *p, sockx *s, int64_t end_ns)
{
	if (end_ns == INT64_MAX) {
		heap_remove(p, s);
		return;
	}
	s->pm.end_ns = end_ns;
	if (s->pm.slot == SIZE_MAX) {
		s->pm.key_ns = end_ns;
		heap_put(p, p->nheap++, s);
		sift_up(p, s->pm.slot);
	} else if (end_ns < s->pm.key_ns) {
		s->pm.key_ns = end_ns;
		sift_up(p, s->pm.slot);
	}
}

/*
 * File again every first member whose key is due but whose deadline is
 * later: afterwards the first key is after now or is its deadline.
 */
static void
heap_settle(sockx_poll *p, int64_t now)
{
	sockx *s;

	while (p->nheap > 0 && (s = p->heap[0])->pm.key_ns <= now &&
	    s->pm.key_ns < s->pm.end_ns) {
		s->pm.key_ns = s->pm.end_ns;
		sift_down(p, 0);
	}
}

/*
 * The earliest key, INT64_MAX if none: never after the earliest deadline,
 * and equal to it once it is due (after heap_settle).
 */
static int64_t
heap_first(const sockx_poll *p)
{
	return p->nheap > 0 ? p->heap[0]->pm.key_ns : INT64_MAX;
}

/* ---------------------------------------------------------------- */
/* Members                                                          */
/* ---------------------------------------------------------------- */

static uint32_t
epoll_mask(int events)
{
	uint32_t m = 0;

	if (events & SOCKX_READABLE)
		m |= EPOLLIN | EPOLLRDHUP;
	if (events & SOCKX_WRITABLE)
		m |= EPOLLOUT;
	return m;
}

/* Register s with mask instead of what it has; nothing if they agree. */
static int
register_mask(sockx_poll *p, sockx *s, uint32_t mask)
{
	struct epoll_event e = { .events = mask, .data.ptr = s };
	int op;

	if (mask == s->pm.mask)
		return 0;
	if (s->pm.mask == 0)
		op = EPOLL_CTL_ADD;
	else if (mask == 0)
		op = EPOLL_CTL_DEL;
	else
		op = EPOLL_CTL_MOD;
	if (epoll_ctl(p->epfd, op, s->fd, &e) < 0)
		return -errno;
	s->pm.mask = mask;
	return 0;
}

/* A deadline timeout_ms from now; INT64_MAX for -1. */
static int64_t
deadline_of(int timeout_ms)
{
	struct sx_deadline dl;

	(void)sx_deadline_start(&dl, timeout_ms);
	return dl.end_ns;
}

/* Forget s's membership: off the list and the heap, set pointer NULL. */
static void
unlink_member(sockx_poll *p, sockx *s)
{
	heap_remove(p, s);
	if (s->pm.prev != NULL)
		s->pm.prev->pm.next = s->pm.next;
	else
		p->members = s->pm.next;
	if (s->pm.next != NULL)
		s->pm.next->pm.prev = s->pm.prev;
	p->nmembers--;
	s->pm = (struct sx_member){ .slot = SIZE_MAX, .end_ns = INT64_MAX,
	    .key_ns = INT64_MAX };
}

void
sx_poll_forget(sockx *s)
{
	sockx_poll *p = s->pm.set;

	/*
	 * In a forked child the epoll instance is the parent's too: a
	 * removal there would silence the member in the parent.  A failure
	 * (the descriptor is about to go anyway) changes nothing here.
	 */
	if (s->pm.mask != 0 && getpid() == p->pid)
		(void)epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	unlink_member(p, s);
}

/* ---------------------------------------------------------------- */
/* Waiting                                                          */
/* ---------------------------------------------------------------- */

/* The readiness of epoll's report r that s asked for. */
static int
ready_bits(const sockx *s, uint32_t r)
{
	int ev = 0;

	if (r & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ev |= SOCKX_READABLE;
	if (r & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		ev |= SOCKX_WRITABLE;
	return ev & s->pm.events;
}

/*
 * The readiness of s now, asked of the one wait primitive without
 * waiting: for an expired member that epoll may not have reported only
 * because its batch was full.  A failure reports none (the next wait
 * reports the readiness, which is level-triggered).
 */
static int
ready_now(const sockx *s)
{
	struct sx_waitfd w = { .fd = s->fd, .events = s->pm.events };
	struct sx_deadline dl = { .end_ns = 0 };

	if (s->pm.events == 0 || sx_wait_once(&w, 1, &dl) <= 0)
		return 0;
	return w.revents & s->pm.events;
}

/* Drain the eventfd: the wake-ups so far become one event. */
static int
drain_wakes(sockx_poll *p)
{
	uint64_t v;

	while (read(p->wakefd, &v, sizeof(v)) < 0) {
		if (errno == EAGAIN)
			return 0;	/* none after all */
		if (errno != EINTR)
			return -errno;
	}
	return 1;
}

/*
 * How many events epoll_wait may fill out of n when a deadline is due
 * (due) or not: the rest is kept for expired members.
 */
static int
epoll_room(sockx_poll *p, size_t n, int due)
{
	if (!due)
		return n < BATCH ? (int)n : BATCH;
	if (n == 1)
		return p->turn ^= 1;
	return n / 2 < BATCH ? (int)(n / 2) : BATCH;
}

/*
 * The epoll_wait timeout for a wake-up at end_ns: milliseconds rounded
 * up, so it is 0 only once end_ns has come (a round never spins).
 */
static int
timeout_until(int64_t end_ns, int64_t now)
{
	int64_t ms;

	if (end_ns == INT64_MAX)
		return -1;
	if (end_ns <= now)
		return 0;
	ms = (end_ns - now + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * One round: one epoll_wait of at most the time to the earlier of dl and
 * the first deadline, then the events it found and the deadlines due.
 * Returns the number of events stored (0: none yet) or -errno.
 */
static int
wait_once(sockx_poll *p, struct sockx_event *ev, size_t n,
    const struct sx_deadline *dl)
{
	int64_t now = sx_now_ns(), first;
	int due, room, r, i, k = 0, bits;
	sockx *s;

	heap_settle(p, now);
	first = heap_first(p);
	due = first <= now;

	room = epoll_room(p, n, due);
	r = 0;
	if (room > 0) {
		r = epoll_wait(p->epfd, p->buf, room, due ? 0 :
		    timeout_until(first < dl->end_ns ? first : dl->end_ns,
		    now));
		if (r < 0)
			return errno == EINTR ? 0 : -errno;
	}
	/* The wake-up first: it is the only step that can fail. */
	for (i = 0; i < r; i++) {
		if (p->buf[i].data.ptr != NULL)
			continue;
		bits = drain_wakes(p);
		if (bits < 0)
			return bits;
		if (bits > 0)
			ev[k++] = (struct sockx_event){ .events = SOCKX_WOKEN };
	}
	now = sx_now_ns();
	for (i = 0; i < r; i++) {
		s = p->buf[i].data.ptr;
		if (s == NULL)
			continue;
		bits = ready_bits(s, p->buf[i].events);
		if (s->pm.end_ns <= now) {
			bits |= SOCKX_EXPIRED;
			heap_remove(p, s);
		}
		if (bits != 0)
			ev[k++] = (struct sockx_event){ .s = s,
			    .data = s->pm.data, .events = bits };
	}
	/*
	 * Expired members epoll did not report: not ready when it looked,
	 * unless it had no room to say so.
	 */
	while ((size_t)k < n && (heap_settle(p, now), heap_first(p) <= now)) {
		s = p->heap[0];
		bits = SOCKX_EXPIRED;
		if (r == room)
			bits |= ready_now(s);
		heap_remove(p, s);
		ev[k++] = (struct sockx_event){ .s = s, .data = s->pm.data,
		    .events = bits };
	}
	return k;
}

/* ---------------------------------------------------------------- */
/* The public functions                                             */
/* ---------------------------------------------------------------- */

SX_EXPORT int
sockx_poll_new(sockx_poll **out, unsigned flags)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	sockx_poll *p;
	int r;

	if (out == NULL || flags != 0)
		return sx_ret(-EINVAL);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return sx_ret(-ENOMEM);
	p->wakefd = -1;
	p->pid = getpid();
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		r = -errno;
		goto fail;
	}
	p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->wakefd < 0 ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &e) < 0) {
		r = -errno;
		goto fail;
	}
	*out = p;
	return 0;
fail:
	if (p->wakefd >= 0)
		close(p->wakefd);
	if (p->epfd >= 0)
		close(p->epfd);
	free(p);
	return sx_ret(r);
}

static int
valid_events(int events)
{
	return (events & ~(SOCKX_READABLE | SOCKX_WRITABLE)) == 0;
}

/*
 * Room in the heap for one more member (so that mod never allocates):
 * doubled when full, O(1) amortised.
 */
static int
reserve(sockx_poll *p)
{
	sockx **h;
	size_t cap;

	if (p->nmembers < p->cap)
		return 0;
	cap = p->cap < 16 ? 16 : p->cap * 2;
	if (cap > SIZE_MAX / sizeof(*h))
		return -ENOMEM;
	h = malloc(cap * sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	if (p->nheap > 0)
		memcpy(h, p->heap, p->nheap * sizeof(*h));
	free(p->heap);
	p->heap = h;
	p->cap = cap;
	return 0;
}

SX_EXPORT int
sockx_poll_add(sockx_poll *p, sockx *s, int events, int timeout_ms,
    void *data)
{
	int64_t end;
	int r;

	if (p == NULL || s == NULL || !valid_events(events) ||
	    timeout_ms < -1)
		return sx_ret(-EINVAL);
	if (s->pm.set != NULL)
		return sx_ret(s->pm.set == p ? -EEXIST : -EBUSY);
	end = deadline_of(timeout_ms);
	r = reserve(p);
	if (r == 0)
		r = register_mask(p, s, epoll_mask(events));
	if (r < 0)
		return sx_ret(r);
	s->pm.set = p;
	s->pm.data = data;
	s->pm.events = events;
	s->pm.prev = NULL;
	s->pm.next = p->members;
	if (p->members != NULL)
		p->members->pm.prev = s;
	p->members = s;
	p->nmembers++;
	heap_set(p, s, end);
	return 0;
}

SX_EXPORT int
sockx_poll_mod(sockx_poll *p, sockx *s, int events, int timeout_ms)
{
	int r;

	if (p == NULL || s == NULL || !valid_events(events) ||
	    (timeout_ms < -1 && timeout_ms != SOCKX_POLL_KEEP))
		return sx_ret(-EINVAL);
	if (s->pm.set != p)
		return sx_ret(-ENOENT);
	r = register_mask(p, s, epoll_mask(events));
	if (r < 0)
		return sx_ret(r);
	s->pm.events = events;
	if (timeout_ms != SOCKX_POLL_KEEP)
		heap_set(p, s, deadline_of(timeout_ms));
	return 0;
}

SX_EXPORT int
sockx_poll_del(sockx_poll *p, sockx *s)
{
	int r;

	if (p == NULL || s == NULL)
		return sx_ret(-EINVAL);
	if (s->pm.set != p)
		return sx_ret(-ENOENT);
	r = register_mask(p, s, 0);
	if (r < 0)
		return sx_ret(r);
	unlink_member(p, s);
	return 0;
}

SX_EXPORT int
sockx_poll_wait(sockx_poll *p, struct sockx_event *ev, size_t n,
    int timeout_ms)
{
	struct sx_deadline dl;
	int r;

	if (p == NULL || ev == NULL || n == 0 || timeout_ms < -1)
		return sx_ret(-EINVAL);
	(void)sx_deadline_start(&dl, timeout_ms);
	/*
	 * Each round sleeps until something happens or a deadline passes
	 * (rounded up to the millisecond), so it never spins and never
	 * reports an expiry early; a signal only starts the next round.
	 */
	for (;;) {
		r = wait_once(p, ev, n, &dl);
		if (r != 0)
			return sx_ret(r);
		if (sx_deadline_expired(&dl))
			return sx_ret(-ETIMEDOUT);
	}
}

SX_EXPORT int
sockx_poll_wake(sockx_poll *p)
{
	uint64_t one = 1;
	int saved = errno;

	if (p == NULL)
		return sx_ret(-EINVAL);
	/* Only write(2): async-signal-safe.  A full counter is woken already. */
	(void)!write(p->wakefd, &one, sizeof(one));
	errno = saved;
	return 0;
}

SX_EXPORT void
sockx_poll_free(sockx_poll *p)
{
	if (p == NULL)
		return;
	/*
	 * Closing the epoll descriptor drops every registration with it
	 * (in a forked child only the child's copy goes: nothing the parent
	 * sees changes).
	 */
	while (p->members != NULL)
		unlink_member(p, p->members);
	close(p->wakefd);
	close(p->epfd);
	free(p->heap);
	free(p);
}

#else /* !__linux__ */

/*
 * Elsewhere poll sets are not built yet (a poll(2) fallback is planned):
 * every function fails with -EOPNOTSUPP.
 */
void
sx_poll_forget(sockx *s)
{
	(void)s;
}

SX_EXPORT int
sockx_poll_new(sockx_poll **out, unsigned flags)
{
	(void)out;
	(void)flags;
	return sx_ret(-EOPNOTSUPP);
}

SX_EXPORT int
sockx_poll_add(sockx_poll *p, sockx *s, int events, int timeout_ms,
    void *data)
{
	(void)p, (void)s, (void)events, (void)timeout_ms, (void)data;
	return sx_ret(-EOPNOTSUPP);
}

SX_EXPORT int
sockx_poll_mod(sockx_poll *p, sockx *s, int events, int timeout_ms)
{
	(void)p, (void)s, (void)events, (void)timeout_ms;
	return sx_ret(-EOPNOTSUPP);
}

SX_EXPORT int
sockx_poll_del(sockx_poll *p, sockx *s)
{
	(void)p, (void)s;
	return sx_ret(-EOPNOTSUPP);
}

SX_EXPORT int
sockx_poll_wait(sockx_poll *p, struct sockx_event *ev, size_t n,
    int timeout_ms)
{
	(void)p, (void)ev, (void)n, (void)timeout_ms;
	return sx_ret(-EOPNOTSUPP);
}

SX_EXPORT int
sockx_poll_wake(sockx_poll *p)
{
	(void)p;
	return sx_ret(-EOPNOTSUPP);
}

SX_EXPORT void
sockx_poll_free(sockx_poll *p)
{
	(void)p;
}

#endif /* __linux__ */
