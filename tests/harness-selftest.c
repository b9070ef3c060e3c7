/* SPDX-License-Identifier: MIT */
/*
 * harness-selftest.c - proves the fd-leak fixture bites.  One test leaks a
 * descriptor, one closes a descriptor it did not open, one is clean; the
 * program passes only if exactly the first two fail, each with the
 * fixture's message naming the descriptor.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int victim = -1;

START_TEST(leaks_a_descriptor)
{
	ck_assert_int_ge(open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
}
END_TEST

START_TEST(closes_a_descriptor_it_did_not_open)
{
	ck_assert_int_eq(close(victim), 0);
}
END_TEST

START_TEST(is_clean)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	close(fd);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("harness-selftest");
	TCase *tc = sx_tcase("fixture", 5);

	tcase_add_test(tc, leaks_a_descriptor);
	tcase_add_test(tc, closes_a_descriptor_it_did_not_open);
	tcase_add_test(tc, is_clean);
	suite_add_tcase(s, tc);
	return s;
}

static int
expect(TestResult *tr, const char *name, const char *msg)
{
	if (strcmp(tr_tcname(tr), "fixture") != 0 ||
	    strstr(tr_msg(tr), msg) == NULL) {
		printf("not ok - %s: unexpected failure: %s\n", name,
		    tr_msg(tr));
		return 1;
	}
	printf("ok - %s caught: %s\n", name, tr_msg(tr));
	return 0;
}

int
main(void)
{
	SRunner *sr = srunner_create(test_suite());
	TestResult **fails;
	int bad = 0, n;

	victim = open("/dev/null", O_RDONLY | O_CLOEXEC);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_SILENT);
	n = srunner_ntests_failed(sr);
	fails = srunner_failures(sr);
	printf("1..3\n");
	if (n != 2) {
		printf("not ok - expected 2 failures, got %d\n", n);
		bad = 1;
	} else {
		bad |= expect(fails[0], "leaking test", "leaked fd");
		bad |= expect(fails[1], "closing test", "closed fd");
	}
	printf("%s - clean test passed\n", n == 2 ? "ok" : "not ok");
	free(fails);
	srunner_free(sr);
	close(victim);
	return bad;
}
