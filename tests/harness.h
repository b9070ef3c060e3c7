/* SPDX-License-Identifier: MIT */
/*
 * harness.h - what every Check program of libsockx shares: the one main()
 * (harness-main.c), which runs the suite the test file returns from
 * test_suite(), and sx_tcase() (harness.c), which makes a test case whose
 * every test runs under the descriptor-leak fixture.
 */
#ifndef SOCKX_TEST_HARNESS_H
#define SOCKX_TEST_HARNESS_H

#include <check.h>

/* Defined by each test file: its whole suite. */
Suite *test_suite(void);

/*
 * A test case named name whose tests fail if they leave a descriptor open
 * that was not open before (or close one that was).  timeout_s is the
 * per-test limit before CK_TIMEOUT_MULTIPLIER.
 */
TCase *sx_tcase(const char *name, double timeout_s);

#endif
