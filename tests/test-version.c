/* SPDX-License-Identifier: MIT */
/*
 * test-version.c - sockx_version() agrees with the header's macros and the
 * project version the build was configured with.
 */
#include <stdio.h>

#include <sockx.h>

#include "harness.h"

START_TEST(version_matches_macros_and_project)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", SOCKX_VERSION_MAJOR,
	    SOCKX_VERSION_MINOR, SOCKX_VERSION_PATCH);
	ck_assert_str_eq(sockx_version(), want);
	ck_assert_str_eq(sockx_version(), PROJECT_VERSION);
	ck_assert_str_eq(sockx_version(), "1.1.0");
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("version");
	TCase *tc = sx_tcase("version", 5);

	tcase_add_test(tc, version_matches_macros_and_project);
	suite_add_tcase(s, tc);
	return s;
}
