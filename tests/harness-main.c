/* SPDX-License-Identifier: MIT */
/*
 * harness-main.c - the one main() of the Check programs: runs the suite of
 * test_suite() in the mode CK_FORK says (fork by default) and exits non-zero
 * when a test failed.
 */
#include <stdlib.h>

#include "harness.h"

int
main(void)
{
	SRunner *sr = srunner_create(test_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
