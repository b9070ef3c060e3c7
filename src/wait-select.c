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

/* Zero a bitmap; most descriptors need one word, and no memset call. */
static void
clear(word *set, size_t words)
{
	if (words == 1)
		set[0] = 0;
	else
		memset(set, 0, words * sizeof(word));
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

/*
 * Without a deadline, one select() of a day (then another): Linux writes
 * the time not slept back into the timeval, which tells a wait that slept
 * from one that found fd ready at once.
 */
#define NO_LIMIT_SEC 86400

/*
 * One select() on fd for events, of at most wait_ns (INT64_MAX: a day):
 * the ready subset, 0 or -errno; *slept learns whether it slept.  rd and
 * wr have room for words words each.
 */
static int
select_fd(int fd, int events, int64_t wait_ns, word *rd, word *wr,
    size_t words, int *slept)
{
	struct timeval tv, tv0;
	int r;

	if (events & SOCKX_READABLE) {
		clear(rd, words);
		set_bit(rd, fd);
	}
	if (events & SOCKX_WRITABLE) {
		clear(wr, words);
		set_bit(wr, fd);
	}
	if (wait_ns == INT64_MAX) {
		tv.tv_sec = NO_LIMIT_SEC;
		tv.tv_usec = 0;
	} else {
		to_timeval(wait_ns, &tv);
	}
	tv0 = tv;
	r = select(fd + 1, events & SOCKX_READABLE ? (fd_set *)(void *)rd : NULL,
	    events & SOCKX_WRITABLE ? (fd_set *)(void *)wr : NULL, NULL, &tv);
	*slept = ((int64_t)(tv0.tv_sec - tv.tv_sec) * 1000000 +
	    (tv0.tv_usec - tv.tv_usec)) * 1000 >= SX_SLEPT_NS;
	if (r <= 0)
		return r < 0 ? -errno : 0;
	r = 0;
	if ((events & SOCKX_READABLE) && has_bit(rd, fd))
		r |= SOCKX_READABLE;
	if ((events & SOCKX_WRITABLE) && has_bit(wr, fd))
		r |= SOCKX_WRITABLE;
	return r;
}

int
sx_wait_fd(int fd, int events, const struct sx_deadline *dl, int *slept)
{
	word stack[2 * STACK_WORDS], *rd = stack;
	size_t words;
	int64_t left;
	int r, s, any = 0;

	if (fd < 0)
		return -EBADF;
	words = (size_t)fd / WORD_BITS + 1;
	if (words > STACK_WORDS) {
		rd = malloc(2 * words * sizeof(word));
		if (rd == NULL)
			return -ENOMEM;
	}
	left = sx_dl_left(dl);
	for (;;) {
		r = select_fd(fd, events, sx_wait_ns(left), rd, rd + words,
		    words, &s);
		any |= s;
		if (r != 0 && r != -EINTR)
			break;
		if (left != 0)
			left = sx_dl_left(dl);
		if (left == 0) {
			r = -ETIMEDOUT;
			break;
		}
	}
	if (rd != stack)
		free(rd);
	if (slept != NULL)
		*slept = any;
	return r;
}
