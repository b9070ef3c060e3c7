/* SPDX-License-Identifier: MIT */
/*
 * sxf-shim.h - what the fault-injection test programs (test-faults*.c)
 * share: the shim's control functions, found with dlsym (sxf_load says
 * clearly when the shim is not preloaded), and the checks that no block
 * libsockx allocated in a window is left and that the shim can fault an
 * allocator here.
 */
#ifndef SXF_SHIM_H
#define SXF_SHIM_H

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "faultinject.h"
#include "harness.h"

static struct {
	sxf_begin_fn *begin;
	sxf_add_fn *add;
	sxf_end_fn *end;
	sxf_calls_fn *calls;
	sxf_fired_fn *fired;
	sxf_rule_fired_fn *rule_fired;
	sxf_live_fn *live;
	sxf_interposed_fn *interposed;
	sxf_total_fn *total;
} sxf;

static inline void *
sxf_sym(const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name);

	ck_assert_msg(p != NULL, "the fault shim is not preloaded (%s not "
	    "found): run with LD_PRELOAD=<build>/tests/faults/"
	    "libfaultinject.so, as meson test does", name);
	return p;
}

#define SXF_SYM(field, name) \
	do { \
		void *p_ = sxf_sym(name); \
		memcpy(&sxf.field, &p_, sizeof(p_)); \
	} while (0)

/* Fill sxf from the preloaded shim (once). */
static inline void
sxf_load(void)
{
	if (sxf.begin != NULL)
		return;
	SXF_SYM(begin, "sxf_begin");
	SXF_SYM(add, "sxf_add");
	SXF_SYM(end, "sxf_end");
	SXF_SYM(calls, "sxf_calls");
	SXF_SYM(fired, "sxf_fired");
	SXF_SYM(rule_fired, "sxf_rule_fired");
	SXF_SYM(live, "sxf_live");
	SXF_SYM(interposed, "sxf_interposed");
	SXF_SYM(total, "sxf_total");
}

/* No block libsockx allocated in the last window is left (if seen). */
static inline void
sxf_check_no_live_blocks(void)
{
	long live = sxf.live();

	ck_assert_msg(live == 0 || live == -2, "%ld blocks leaked", live);
}

/* Whether the shim can fail allocator function fn here; says why not. */
static inline int
sxf_can_fault(const char *fn)
{
	if (sxf.interposed(fn) == 1)
		return 1;
	printf("# skipped: %s is not the shim's here (a sanitizer's or "
	    "valgrind's)\n", fn);
	return 0;
}

#endif
