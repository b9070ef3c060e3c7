/* SPDX-License-Identifier: MIT */
/*
 * unimplemented.c - the functions of the 1.0 API whose modules have not
 * landed yet.  Each keeps its exported name and signature and fails with
 * -ENOSYS (errno ENOSYS), so programs link against the final ABI today.
 * A function leaves this file for its own module (handle.c, io.c, ...)
 * when that module lands; when this file is empty it goes.
 */
#include <errno.h>

#include "internal.h"

SX_EXPORT int
sockx_connect_any(sockx **out, const char *const *addresses, size_t n,
    int timeout_ms)
{
	(void)out, (void)addresses, (void)n, (void)timeout_ms;
	return sx_ret(-ENOSYS);
}
