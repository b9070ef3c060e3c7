/* SPDX-License-Identifier: MIT */
/*
 * test-unimplemented.c - the function whose module has not landed yet
 * (connect_any) fails honestly: -ENOSYS
 * with errno ENOSYS.  Each check moves to its module's tests, and changes
 * to the real behaviour, when that module lands.
 */
#include <errno.h>

#include <sockx.h>

#include "harness.h"

#define CHECK_ENOSYS(call)                                              \
	do {                                                            \
		errno = 0;                                              \
		ck_assert_int_eq((long)(call), -ENOSYS);                \
		ck_assert_int_eq(errno, ENOSYS);                        \
	} while (0)

START_TEST(unimplemented_functions_fail_with_enosys)
{
	sockx *out = NULL;
	const char *addrs[] = { "/x" };

	CHECK_ENOSYS(sockx_connect_any(&out, addrs, 1, 0));
	ck_assert_ptr_null(out);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("unimplemented");
	TCase *tc = sx_tcase("stubs", 5);

	tcase_add_test(tc, unimplemented_functions_fail_with_enosys);
	suite_add_tcase(s, tc);
	return s;
}
