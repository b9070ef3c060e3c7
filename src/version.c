/* SPDX-License-Identifier: MIT */
/*
 * version.c - the version of the library that is running, as opposed to
 * the SOCKX_VERSION_* macros a program was compiled with.
 */
#include "config.h"
#include "internal.h"

SX_EXPORT const char *
sockx_version(void)
{
	return SX_VERSION;
}
