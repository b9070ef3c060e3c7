/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the modules of libsockx share and never export: the
 * export mark, the one errno-setting exit, the deadline and the one wait
 * primitive.  struct sockx will be defined here, and only here.
 */
#ifndef SOCKX_INTERNAL_H
#define SOCKX_INTERNAL_H

#include <errno.h>
#include <stdint.h>
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

/* deadline.c: one CLOCK_MONOTONIC deadline per call. */
struct sx_deadline {
	int64_t end_ns;		/* INT64_MAX: no deadline */
};

int64_t sx_now_ns(void);
int sx_deadline_start(struct sx_deadline *dl, int timeout_ms);
int sx_deadline_expired(const struct sx_deadline *dl);
int64_t sx_deadline_left_ns(const struct sx_deadline *dl);

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

#endif /* SOCKX_INTERNAL_H */
