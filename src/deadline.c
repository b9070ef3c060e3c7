/* SPDX-License-Identifier: MIT */
/*
 * deadline.c - one CLOCK_MONOTONIC deadline per call.  A timed call takes
 * its deadline once, when it starts; every retry, partial transfer and
 * interrupted wait after that only asks how much time is left, so the call
 * returns by the deadline however often it is woken.  A call whose first
 * attempt cannot block takes it lazily, when that attempt failed (see
 * internal.h): the deadline then counts from a few microseconds after the
 * call started, which no caller can tell from a call that was preempted
 * that long, and a call that completes at once reads no clock.
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "internal.h"

int64_t
sx_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
sx_deadline_start(struct sx_deadline *dl, int timeout_ms)
{
	if (timeout_ms < -1)
		return -EINVAL;
	if (timeout_ms == -1)
		dl->end_ns = INT64_MAX;
	else if (timeout_ms == 0)
		dl->end_ns = 0;
	else
		dl->end_ns = sx_now_ns() + (int64_t)timeout_ms * 1000000;
	return 0;
}

int
sx_deadline_lazy(struct sx_deadline *dl, int timeout_ms)
{
	return sx_dl_lazy(dl, timeout_ms);
}

/* Take the lazy deadline dl now; returns the nanoseconds it leaves. */
static int64_t
take(const struct sx_deadline *dl)
{
	/* Never a const object: see struct sx_deadline. */
	struct sx_deadline *m = (struct sx_deadline *)(uintptr_t)dl;
	int64_t left = -dl->end_ns * 1000000;

	m->end_ns = sx_now_ns() + left;
	return left;
}

int64_t
sx_deadline_end(const struct sx_deadline *dl)
{
	if (dl->end_ns < 0)
		take(dl);
	return dl->end_ns;
}

/* Nanoseconds left: INT64_MAX without a deadline, 0 once it has passed. */
int64_t
sx_deadline_left_ns(const struct sx_deadline *dl)
{
	int64_t now;

	if (dl->end_ns < 0)
		return take(dl);
	if (dl->end_ns == INT64_MAX)
		return INT64_MAX;
	if (dl->end_ns == 0)
		return 0;
	now = sx_now_ns();
	return now >= dl->end_ns ? 0 : dl->end_ns - now;
}

/*
 * The timeout for one select() or poll(): the time left, less 0.1%.
 * Linux lets those calls sleep up to 0.1% of their timeout past it (timer
 * slack); a wait that ends that much early is simply repeated with the
 * few microseconds or milliseconds still left, whose slack is tiny, so a
 * long timeout ends within about 0.1 ms of its deadline instead of 1 ms
 * late per second asked.
 */
int64_t
sx_deadline_wait_ns(const struct sx_deadline *dl)
{
	return sx_wait_ns(sx_deadline_left_ns(dl));
}

int
sx_deadline_expired(const struct sx_deadline *dl)
{
	return sx_deadline_left_ns(dl) == 0;
}

/*
 * The one wait: until some entry of w is ready, or the deadline passes.
 * Returns the number of ready entries (each with its revents set) or
 * -ETIMEDOUT.  A signal or a wake-up before the deadline (timeouts are
 * rounded up, never down) only repeats the wait with the time left.
 */
int
sx_wait(struct sx_waitfd *w, size_t n, const struct sx_deadline *dl)
{
	size_t i;
	int r;

	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (w[i].fd < 0)
			return -EBADF;
		w[i].revents = 0;
	}
	for (;;) {
		r = sx_wait_once(w, n, dl);
		if (r != 0 && r != -EINTR)
			return r;
		if (sx_deadline_expired(dl))
			return -ETIMEDOUT;
	}
}

/*
 * Sleep *step_ns, or until the deadline if that is sooner, resuming after
 * signals; then double *step_ns up to SX_BACKOFF_MAX_NS.  The sleep is on
 * a high-resolution timer, so a retry at the deadline happens at it.
 */
void
sx_backoff(const struct sx_deadline *dl, int64_t *step_ns)
{
	int64_t end, dl_end = sx_deadline_end(dl);

	end = sx_now_ns() + *step_ns;
	sx_sleep_until(end < dl_end ? end : dl_end);
	if (*step_ns < SX_BACKOFF_MAX_NS)
		*step_ns *= 2;
}

void
sx_sleep_until(int64_t end_ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(end_ns / 1000000000);
	ts.tv_nsec = (long)(end_ns % 1000000000);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

/*
 * Wait for a system call on fd that just failed with EAGAIN.  Normally
 * the one wait; but when the call failed again right after a wait that
 * reported fd ready (readiness that the kernel cannot signal: a full unix
 * datagram receiver reached by address, or another thread that took the
 * data), sleep a backoff step instead, so no pattern of events can make
 * a call spin.
 */
int
sx_wait_retry(struct sx_retry *rt, int fd, int events,
    const struct sx_deadline *dl)
{
	int r;

	if (rt->was_ready) {
		if (sx_deadline_expired(dl))
			return -ETIMEDOUT;
		sx_backoff(dl, &rt->step_ns);
		rt->was_ready = 0;
		return 0;
	}
	r = sx_wait_fd(fd, events, dl, NULL);
	if (r < 0)
		return r;
	rt->was_ready = 1;
	return 0;
}
