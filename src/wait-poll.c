/* SPDX-License-Identifier: MIT */
/*
 * wait-poll.c - the one blocking primitive, built on poll(2) (build option
 * wait_backend=poll).  Readiness is reported as the select backend reports
 * it, except that a hang-up or error wakes every requested event: poll
 * cannot wait for "writable" on such a socket without waking at once, and
 * the system call the caller retries will report what happened.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

/* Waits on up to 16 descriptors need no allocation. */
#define STACK_FDS 16

const char sx_wait_backend[] = "poll";

/* Milliseconds for poll(2): left_ns rounded up, -1 without a deadline. */
static int
to_ms(int64_t left_ns)
{
	int64_t ms;

	if (left_ns == INT64_MAX)
		return -1;
	ms = (left_ns + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static int
poll_once(struct sx_waitfd *w, size_t n, struct pollfd *p,
    const struct sx_deadline *dl)
{
	size_t i;
	int r, ready = 0;

	for (i = 0; i < n; i++) {
		p[i].fd = w[i].fd;
		p[i].events = 0;
		if (w[i].events & SOCKX_READABLE)
			p[i].events |= POLLIN;
		if (w[i].events & SOCKX_WRITABLE)
			p[i].events |= POLLOUT;
		p[i].revents = 0;
	}
	r = poll(p, n, to_ms(sx_deadline_wait_ns(dl)));
	if (r < 0)
		return -errno;
	for (i = 0; i < n && r > 0; i++) {
		if (p[i].revents & POLLNVAL)
			return -EBADF;
		w[i].revents = 0;
		if (p[i].revents & POLLIN)
			w[i].revents |= SOCKX_READABLE;
		if (p[i].revents & POLLOUT)
			w[i].revents |= SOCKX_WRITABLE;
		if (p[i].revents & (POLLERR | POLLHUP))
			w[i].revents |= SOCKX_READABLE | SOCKX_WRITABLE;
		w[i].revents &= w[i].events;
		ready += w[i].revents != 0;
	}
	return ready;
}

int
sx_wait_once(struct sx_waitfd *w, size_t n, const struct sx_deadline *dl)
{
	struct pollfd stack[STACK_FDS], *p = stack;
	int r;

	if (n > STACK_FDS) {
		p = calloc(n, sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
	}
	r = poll_once(w, n, p, dl);
	if (p != stack)
		free(p);
	return r;
}

int
sx_wait_fd(int fd, int events, const struct sx_deadline *dl, int *slept)
{
	struct pollfd p = { .fd = fd };
	int64_t left, t0;
	int r, any = 0;

	if (fd < 0)
		return -EBADF;
	if (events & SOCKX_READABLE)
		p.events |= POLLIN;
	if (events & SOCKX_WRITABLE)
		p.events |= POLLOUT;
	left = sx_dl_left(dl);
	for (;;) {
		t0 = sx_now_ns();
		r = poll(&p, 1, to_ms(sx_wait_ns(left)));
		if (r < 0)
			r = -errno;
		any |= sx_now_ns() - t0 >= SX_SLEPT_NS;
		if (r > 0 && (p.revents & POLLNVAL)) {
			r = -EBADF;
			break;
		}
		if (r > 0) {
			r = 0;
			if (p.revents & POLLIN)
				r |= SOCKX_READABLE;
			if (p.revents & POLLOUT)
				r |= SOCKX_WRITABLE;
			if (p.revents & (POLLERR | POLLHUP))
				r |= SOCKX_READABLE | SOCKX_WRITABLE;
			r &= events;
			if (r != 0)
				break;
		}
		if (r < 0 && r != -EINTR)
			break;
		if (left != 0)
			left = sx_dl_left(dl);
		if (left == 0) {
			r = -ETIMEDOUT;
			break;
		}
	}
	if (slept != NULL)
		*slept = any;
	return r;
}
