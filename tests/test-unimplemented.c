/* SPDX-License-Identifier: MIT */
/*
 * test-unimplemented.c - the functions whose modules have not landed yet
 * fail honestly: -ENOSYS with errno ENOSYS, and the NULL cases the
 * contract already fixes (close/abort of NULL are no-ops, fd/release of
 * NULL are -EINVAL).  Each check moves to its module's tests, and changes
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
	struct sockaddr_storage ss;
	socklen_t len = 0;
	sockx *out = NULL, *b = NULL;
	/* Never dereferenced: only the NULL cases are decided yet. */
	sockx *s = (sockx *)&cred;
	const char *addrs[] = { "/x" };
	char buf[4] = "abc";
	int fds[1] = { 0 };
	size_t nfds = 1, done = 0;

	CHECK_ENOSYS(sockx_connect(&out, "/x", 0));
	CHECK_ENOSYS(sockx_listen(&out, "/x", 0, 0, 0));
	CHECK_ENOSYS(sockx_accept(s, &out, 0));
	CHECK_ENOSYS(sockx_pair(&out, &b, SOCK_STREAM));
	CHECK_ENOSYS(sockx_adopt(&out, 0));
	CHECK_ENOSYS(sockx_fd(s));
	CHECK_ENOSYS(sockx_release(s));
	CHECK_ENOSYS(sockx_read(s, buf, sizeof(buf), 0));
	CHECK_ENOSYS(sockx_write(s, buf, sizeof(buf), 0));
	CHECK_ENOSYS(sockx_read_full(s, buf, sizeof(buf), &done, 0));
	CHECK_ENOSYS(sockx_write_full(s, buf, sizeof(buf), &done, 0));
	CHECK_ENOSYS(sockx_sendto(s, buf, sizeof(buf), NULL, 0, 0));
	CHECK_ENOSYS(sockx_recvfrom(s, buf, sizeof(buf), &ss, &len, 0));
	CHECK_ENOSYS(sockx_wait(s, SOCKX_READABLE, 0));
	CHECK_ENOSYS(sockx_connect_any(&out, addrs, 1, 0));
	CHECK_ENOSYS(sockx_send_fds(s, buf, 1, fds, 1, 0));
	CHECK_ENOSYS(sockx_recv_fds(s, buf, 1, fds, &nfds, 0));
	CHECK_ENOSYS(sockx_peer_cred(s, &cred));
	CHECK_ENOSYS(sockx_peer_pidfd(s));
	CHECK_ENOSYS(sockx_set_passcred(s, 1));
	CHECK_ENOSYS(sockx_send_cred(s, buf, 1, NULL, 0));
	CHECK_ENOSYS(sockx_recv_cred(s, buf, 1, &cred, 0));
	CHECK_ENOSYS(sockx_shutdown(s, SHUT_RDWR));
	CHECK_ENOSYS(sockx_set_linger(s, 0));
	CHECK_ENOSYS(sockx_close(s));
	CHECK_ENOSYS(sockx_abort(s));
	CHECK_ENOSYS(sockx_local_addr(s, &ss, &len));
	CHECK_ENOSYS(sockx_peer_addr(s, &ss, &len));
	ck_assert_ptr_null(out);
	ck_assert_ptr_null(b);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(nfds, 1);
}
END_TEST

START_TEST(null_handles_behave_as_the_contract_says)
{
	errno = 0;
	ck_assert_int_eq(sockx_close(NULL), 0);
	ck_assert_int_eq(sockx_abort(NULL), 0);
	ck_assert_int_eq(errno, 0);
	ck_assert_int_eq(sockx_release(NULL), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(sockx_fd(NULL), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("unimplemented");
	TCase *tc = sx_tcase("stubs", 5);

	tcase_add_test(tc, unimplemented_functions_fail_with_enosys);
	tcase_add_test(tc, null_handles_behave_as_the_contract_says);
	suite_add_tcase(s, tc);
	return s;
}
