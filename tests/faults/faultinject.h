/* SPDX-License-Identifier: MIT */
/*
 * faultinject.h - the control interface of the fault-injection shim
 * (faultinject.c, an LD_PRELOAD module) that test-faults.c drives.
 *
 * The shim interposes the C library functions libsockx calls.  A thread
 * opens a window (sxf_begin), adds rules (sxf_add), makes exactly one
 * libsockx call and closes the window (sxf_end).  Only calls made by that
 * thread inside its window, and by libsockx (the return address lies in
 * it, or in a sanitizer's interceptor of the function), are counted and
 * faulted, so the test program, Check and other threads are never
 * touched.  The k-th such call to a function is "call k" of it.
 *
 * The test finds these functions with dlsym(RTLD_DEFAULT, ...), so that it
 * can say clearly when the shim is not preloaded.
 */
#ifndef SXF_FAULTINJECT_H
#define SXF_FAULTINJECT_H

/*
 * Fault modes.  Each is something the kernel (or the C library) really
 * does, so that the library under test cannot tell it from the real thing.
 */
enum sxf_mode {
	/* Fail with errno arg before anything happened (malloc: NULL). */
	SXF_FAIL = 1,
	/*
	 * Make the real call, then report errno arg as Linux does: close()
	 * releases the descriptor whatever it returns (EINTR during a
	 * linger), and a TCP connect() interrupted by a signal goes on in
	 * the background.  Only close and connect take it.
	 */
	SXF_FAIL_AFTER,
	/*
	 * recvmsg/sendmsg on a stream socket: move at most arg bytes, as a
	 * short transfer does.  Declined (not a fault) on other sockets,
	 * where a shorter buffer would cut a message.
	 */
	SXF_SHORT,
	/*
	 * recvmsg: leave room for only arg descriptors (credentials still
	 * fit when SO_PASSCRED is on), so that the kernel itself truncates
	 * SCM_RIGHTS and sets MSG_CTRUNC, as it does when RLIMIT_NOFILE or
	 * an LSM refuses some of them; those it could not install are
	 * dropped by the kernel.  Counts as fired only when MSG_CTRUNC came.
	 */
	SXF_CTRUNC,
	/*
	 * select/poll: report every requested event ready at once, without
	 * asking the kernel: a spurious wake-up (select(2), BUGS).
	 */
	SXF_SPURIOUS,
	/*
	 * select/poll/epoll_wait/clock_nanosleep: sleep arg milliseconds
	 * (never past the call's own timeout), then fail with EINTR: a
	 * signal that came in the middle of the wait.
	 */
	SXF_INTERRUPT,
};

/* Open this thread's window: no rules, every call counter at 0. */
typedef void sxf_begin_fn(void);
/*
 * Fault calls nth .. nth+times-1 of fn (times 0: every call from nth on)
 * with mode and arg.  The first rule that matches a call applies.
 * Returns 0, or -1 for an unknown function, a mode the function does not
 * take or too many rules.
 */
typedef int sxf_add_fn(const char *fn, unsigned nth, unsigned times,
    int mode, int arg);
/* Close the window; returns the number of faults injected in it. */
typedef unsigned sxf_end_fn(void);
/* In the last window of this thread: calls made to fn, faults injected. */
typedef unsigned sxf_calls_fn(const char *fn);
typedef unsigned sxf_fired_fn(const char *fn);
/* In the last window of this thread: faults injected by rule i (from 0). */
typedef unsigned sxf_rule_fired_fn(unsigned i);
/*
 * Blocks that malloc, calloc, realloc or strdup returned inside a window
 * (that is, to libsockx) and that nobody has freed yet; -1 if too many to
 * track, -2 if the shim cannot see frees in this process (valgrind, ASan:
 * their own leak checks count).
 */
typedef long sxf_live_fn(void);
/*
 * 1 if the process resolves fn to the shim itself, 0 if another
 * definition comes first (a sanitizer's allocator or interceptor; an
 * interceptor usually passes the call on to the shim, an allocator never
 * does) or, for malloc, calloc, realloc and strdup, if the shim's code
 * does not run when they are called (valgrind replaces malloc, calloc and
 * realloc even in the shim); -1 for an unknown name.
 */
typedef int sxf_interposed_fn(const char *fn);
/* Faults injected in this process since it started. */
typedef unsigned long sxf_total_fn(void);

#endif
