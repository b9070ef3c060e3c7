/* SPDX-License-Identifier: MIT */
/*
 * wait-select.c - the one blocking primitive, built on select(2) (the
 * default wait_backend).  It owns the bitmaps handed to select: sized from
 * the highest descriptor, never a fixed fd_set, so descriptors at or above
 * FD_SETSIZE neither overflow memory nor trip _FORTIFY_SOURCE (the FD_SET
 * macros are never used).  Interrupted waits resume with the time left.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "internal.h"

typedef unsigned long word;

#define WORD_BITS (8 * sizeof(word))
/* Descriptors below 256 * 64 = 16384 need no allocation. */
#define STACK_WORDS 256

const char sx_wait_backend[] = "select";

static void
set_bit(word *set, int fd)
{
	set[(unsigned)fd / WORD_BITS] |= (word)1 << ((unsigned)fd % WORD_BITS);
}

static int
has_bit(const word *set, int fd)
{
	return (set[(unsigned)fd / WORD_BITS] >>
	    ((unsigned)fd % WORD_BITS)) & 1;
}

/* Returns a pointer to a timeval holding left_ns rounded up, or NULL. */
static struct timeval *
to_timeval(int64_t left_ns, struct timeval *tv)
{
	int64_t us;

	if (left_ns == INT64_MAX)
		return NULL;
	us = (left_ns + 999) / 1000;
	tv->tv_sec = (time_t)(us / 1000000);
	tv->tv_usec = (suseconds_t)(us % 1000000);
	return tv;
}

/* One select(2) over w; returns the count of ready entries or -errno. */
static int
select_once(struct sx_waitfd *w, size_t n, word *rd, word *wr,
    size_t words, int maxfd, const struct sx_deadline *dl)
{
	struct timeval tv, *tvp;
	size_t i;
	int r, ready = 0;

	memset(rd, 0, words * sizeof(word));
	memset(wr, 0, words * sizeof(word));
	for (i = 0; i < n; i++) {
		if (w[i].events & SOCKX_READABLE)
			set_bit(rd, w[i].fd);
		if (w[i].events & SOCKX_WRITABLE)
			set_bit(wr, w[i].fd);
	}
	tvp = to_timeval(sx_deadline_wait_ns(dl), &tv);
	r = select(maxfd + 1, (fd_set *)(void *)rd, (fd_set *)(void *)wr,
	    NULL, tvp);
	if (r < 0)
		return -errno;
	for (i = 0; i < n && r > 0; i++) {
		w[i].revents = 0;
		if (has_bit(rd, w[i].fd))
			w[i].revents |= SOCKX_READABLE;
		if (has_bit(wr, w[i].fd))
			w[i].revents |= SOCKX_WRITABLE;
		w[i].revents &= w[i].events;
		ready += w[i].revents != 0;
	}
	return ready;
}

int
sx_wait_once(struct sx_waitfd *w, size_t n, const struct sx_deadline *dl)
{
	word stack[2 * STACK_WORDS], *buf = stack;
	size_t i, words;
	int r, maxfd = -1;

	for (i = 0; i < n; i++)
		if (w[i].fd > maxfd)
			maxfd = w[i].fd;
	words = (size_t)maxfd / WORD_BITS + 1;
	if (words > STACK_WORDS) {
		buf = calloc(2 * words, sizeof(word));
		if (buf == NULL)
			return -ENOMEM;
	}
	r = select_once(w, n, buf, buf + words, words, maxfd, dl);
	if (buf != stack)
		free(buf);
	return r;
}
