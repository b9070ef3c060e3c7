/* SPDX-License-Identifier: MIT */
/*
 * chan-alloc.c - an LD_PRELOAD shim that counts heap allocations, for the
 * "no allocation per message" test of test-chan.c.  Every allocation
 * function (malloc, calloc, realloc, reallocarray, aligned_alloc,
 * posix_memalign, memalign, valloc, pvalloc) counts its call when the
 * calling thread has opened a window with sxt_alloc_window(1), then calls
 * the real function found with dlsym(RTLD_NEXT).  The test reads the count
 * with sxt_alloc_count(), found with dlsym(RTLD_DEFAULT): when the shim is
 * not loaded, the test knows it and fails instead of counting nothing.
 *
 * dlsym() may allocate before the real functions are known: those few
 * blocks come from a static arena and are never freed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))

/* The control interface, for dlsym(RTLD_DEFAULT). */
EXPORT void sxt_alloc_window(int on);
EXPORT unsigned long sxt_alloc_count(void);

static TLS int window;
static TLS unsigned long count;
static TLS int resolving;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static void *(*real_aligned_alloc)(size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static _Alignas(max_align_t) unsigned char arena[16384];
static atomic_size_t arena_used;

static void *
arena_alloc(size_t n)
{
	size_t a = _Alignof(max_align_t), off;

	n = (n + a - 1) / a * a;
	off = atomic_fetch_add(&arena_used, n);
	return off + n > sizeof(arena) ? NULL : arena + off;
}

static int
in_arena(const void *p)
{
	return (const unsigned char *)p >= arena &&
	    (const unsigned char *)p < arena + sizeof(arena);
}

#define RESOLVE(name) \
	do { \
		void *p_ = dlsym(RTLD_NEXT, #name); \
		memcpy(&real_##name, &p_, sizeof(p_)); \
	} while (0)

static int
ready(void)
{
	if (real_free != NULL)
		return 1;
	if (resolving)
		return 0;
	resolving = 1;
	RESOLVE(malloc);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(aligned_alloc);
	RESOLVE(posix_memalign);
	RESOLVE(memalign);
	RESOLVE(free);
	resolving = 0;
	return real_free != NULL;
}

static void
counted(void)
{
	if (window)
		count++;
}

EXPORT void
sxt_alloc_window(int on)
{
	window = on;
}

EXPORT unsigned long
sxt_alloc_count(void)
{
	return count;
}

EXPORT void *
malloc(size_t n)
{
	counted();
	return ready() ? real_malloc(n) : arena_alloc(n);
}

EXPORT void *
calloc(size_t n, size_t size)
{
	counted();
	/* The arena is zeroed; an overflowing product fails there. */
	if (!ready())
		return size != 0 && n > SIZE_MAX / size ? NULL :
		    arena_alloc(n * size);
	return real_calloc(n, size);
}

EXPORT void *
realloc(void *old, size_t n)
{
	void *p;

	counted();
	if (in_arena(old)) {
		p = malloc(n);
		if (p != NULL)		/* the arena outlives it */
			memcpy(p, old, n < (size_t)(arena + sizeof(arena) -
			    (unsigned char *)old) ? n : (size_t)(arena +
			    sizeof(arena) - (unsigned char *)old));
		return p;
	}
	return ready() ? real_realloc(old, n) : NULL;
}

EXPORT void *
reallocarray(void *old, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return realloc(old, n * size);
}

EXPORT void
free(void *p)
{
	if (p != NULL && !in_arena(p) && ready())
		real_free(p);
}

EXPORT void *
aligned_alloc(size_t a, size_t n)
{
	counted();
	return ready() ? real_aligned_alloc(a, n) : NULL;
}

EXPORT int
posix_memalign(void **p, size_t a, size_t n)
{
	counted();
	return ready() ? real_posix_memalign(p, a, n) : 12;	/* ENOMEM */
}

EXPORT void *
memalign(size_t a, size_t n)
{
	counted();
	return ready() ? real_memalign(a, n) : NULL;
}

EXPORT void *
valloc(size_t n)
{
	return memalign(4096, n);
}

EXPORT void *
pvalloc(size_t n)
{
	return memalign(4096, (n + 4095) / 4096 * 4096);
}
