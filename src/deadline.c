/* SPDX-License-Identifier: MIT */
/*
 * deadline.c - one CLOCK_MONOTONIC deadline per call.  A timed call takes
 * its deadline once, when it starts; every retry, partial transfer and
 * interrupted wait after that only asks how much time is left, so the call
 * returns by the deadline however often it is woken.
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
	else
		dl->end_ns = sx_now_ns() + (int64_t)timeout_ms * 1000000;
	return 0;
}

/* Nanoseconds left: INT64_MAX without a deadline, 0 once it has passed. */
int64_t
sx_deadline_left_ns(const struct sx_deadline *dl)
{
	int64_t now;

	if (dl->end_ns == INT64_MAX)
		return INT64_MAX;
	now = sx_now_ns();
	return now >= dl->end_ns ? 0 : dl->end_ns - now;
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
