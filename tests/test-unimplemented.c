/* SPDX-License-Identifier: MIT */
/*
 * test-unimplemented.c - the functions whose modules have not landed yet
 * (descriptor passing, credentials, connect_any) fail honestly: -ENOSYS
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
	struct sockx_cred cred;
	sockx *out = NULL;
	/* Never dereferenced: only the NULL cases are decided yet. */
	sockx *s = (sockx *)&cred;
	const char *addrs[] = { "/x" };
	char buf[4] = "abc";
	int fds[1] = { 0 };
	size_t nfds = 1;

	CHECK_ENOSYS(sockx_connect_any(&out, addrs, 1, 0));
	CHECK_ENOSYS(sockx_send_fds(s, buf, 1, fds, 1, 0));
	CHECK_ENOSYS(sockx_recv_fds(s, buf, 1, fds, &nfds, 0));
	CHECK_ENOSYS(sockx_peer_cred(s, &cred));
	CHECK_ENOSYS(sockx_peer_pidfd(s));
	CHECK_ENOSYS(sockx_set_passcred(s, 1));
	CHECK_ENOSYS(sockx_send_cred(s, buf, 1, NULL, 0));
	CHECK_ENOSYS(sockx_recv_cred(s, buf, 1, &cred, 0));
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(nfds, 1);
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
