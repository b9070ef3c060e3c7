/* SPDX-License-Identifier: MIT */
/*
 * test-handle.c - the life of a handle: pair, adopt, fd, release,
 * shutdown, linger, close, abort and the local and peer addresses.
 * Ownership is the point: every test checks (through the fixture) that
 * exactly the descriptors it should own are open when it ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sockx.h>

#include "sxtest.h"

static void
check_nonblock_cloexec(int fd)
{
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* A connected TCP pair over loopback: client *c, accepted *a. */
static void
tcp_pair(sockx **c, sockx **a)
{
	char text[SOCKX_ADDRSTRLEN];
	sockx *l;

	ck_assert_int_eq(sockx_listen(&l, "tcp:127.0.0.1:0", 0, 0, 0), 0);
	ck_assert_int_eq(sockx_connect(c, sxt_local_text(l, "", text,
	    sizeof(text)), 1000), 0);
	ck_assert_int_eq(sockx_accept(l, a, 1000), 0);
	sockx_close(l);
}

/* ---------------------------------------------------------------- */
/* pair, adopt, fd, release                                          */
/* ---------------------------------------------------------------- */

START_TEST(handle_pair_gives_two_connected_ends_of_each_type)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	int type;
	socklen_t n = sizeof(type);
	sockx *a, *b;

	ck_assert_int_eq(sockx_pair(&a, &b, types[_i]), 0);
	check_nonblock_cloexec(sockx_fd(a));
	check_nonblock_cloexec(sockx_fd(b));
	ck_assert_int_eq(getsockopt(sockx_fd(a), SOL_SOCKET, SO_TYPE, &type,
	    &n), 0);
	ck_assert_int_eq(type, types[_i]);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(sockx_close(b), 0);
}
END_TEST

START_TEST(handle_pair_rejects_bad_arguments)
{
	sockx *a = NULL, *b = NULL;

	CHECK_ERR(sockx_pair(NULL, &b, SOCK_STREAM), EINVAL);
	CHECK_ERR(sockx_pair(&a, NULL, SOCK_STREAM), EINVAL);
	CHECK_ERR(sockx_pair(&a, &a, SOCK_STREAM), EINVAL);
	CHECK_ERR(sockx_pair(&a, &b, SOCK_RAW), EINVAL);
	CHECK_ERR(sockx_pair(&a, &b, SOCK_STREAM | SOCK_NONBLOCK), EINVAL);
	CHECK_ERR(sockx_pair(&a, &b, 0), EINVAL);
	ck_assert_ptr_null(a);
	ck_assert_ptr_null(b);
}
END_TEST

START_TEST(handle_adopt_makes_a_socket_nonblocking_and_cloexec)
{
	char buf[4];
	sockx *a, *b;
	int fds[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
	ck_assert_int_eq(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(sockx_adopt(&a, fds[0]), 0);
	ck_assert_int_eq(sockx_fd(a), fds[0]);
	check_nonblock_cloexec(fds[0]);
	ck_assert_int_eq(sockx_adopt(&b, fds[1]), 0);
	/* The type was learnt: a long message is refused, not cut. */
	ck_assert_int_eq(sockx_write(b, "abcdef", 6, 0), 6);
	CHECK_ERR(sockx_read(a, buf, sizeof(buf), 100), EMSGSIZE);
	/* Non-blocking: an empty socket times out instead of hanging. */
	CHECK_ERR(sockx_read(a, buf, sizeof(buf), 0), ETIMEDOUT);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

START_TEST(handle_adopt_of_non_socket_is_enotsock_and_leaves_fd_open)
{
	sockx *s = NULL;
	int p[2], fl;

	ck_assert_int_eq(pipe(p), 0);
	fl = fcntl(p[0], F_GETFL);
	CHECK_ERR(sockx_adopt(&s, p[0]), ENOTSOCK);
	ck_assert_ptr_null(s);
	/* Still open, still owned by the caller, flags untouched. */
	ck_assert_int_eq(fcntl(p[0], F_GETFL), fl);
	ck_assert_int_eq(fcntl(p[0], F_GETFD) & FD_CLOEXEC, 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(handle_adopt_rejects_bad_descriptors)
{
	sockx *s = NULL;
	int fd;

	CHECK_ERR(sockx_adopt(NULL, 0), EINVAL);
	CHECK_ERR(sockx_adopt(&s, -1), EBADF);
	fd = dup(0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	CHECK_ERR(sockx_adopt(&s, fd), EBADF);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(handle_release_returns_the_open_descriptor)
{
	sockx *a, *b;
	int fd, ffd;

	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	ffd = sockx_fd(a);
	fd = sockx_release(a);
	ck_assert_int_eq(fd, ffd);
	check_nonblock_cloexec(fd);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	ck_assert_int_eq(sockx_read(b, (char[1]){ 0 }, 1, 100), 1);
	close(fd);
	sockx_close(b);
}
END_TEST

START_TEST(handle_null_handles_follow_the_contract)
{
	errno = 0;
	ck_assert_int_eq(sockx_close(NULL), 0);
	ck_assert_int_eq(sockx_abort(NULL), 0);
	ck_assert_int_eq(errno, 0);
	CHECK_ERR(sockx_release(NULL), EINVAL);
	CHECK_ERR(sockx_fd(NULL), EINVAL);
	CHECK_ERR(sockx_shutdown(NULL, SHUT_RDWR), EINVAL);
	CHECK_ERR(sockx_set_linger(NULL, 1), EINVAL);
}
END_TEST

START_TEST(handle_close_closes_the_descriptor)
{
	sockx *a, *b;
	int fd;

	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	fd = sockx_fd(a);
	ck_assert_int_eq(sockx_close(a), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(sockx_read(b, (char[1]){ 0 }, 1, 100), 0);
	ck_assert_int_eq(sockx_abort(b), 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* shutdown, linger, abort                                           */
/* ---------------------------------------------------------------- */

START_TEST(handle_shutdown_ends_one_direction)
{
	char buf[4];
	sockx *a, *b;

	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	ck_assert_int_eq(sockx_shutdown(a, SHUT_WR), 0);
	ck_assert_int_eq(sockx_read(b, buf, sizeof(buf), 100), 0);
	/* The other direction still works. */
	ck_assert_int_eq(sockx_write(b, "ok", 2, 100), 2);
	ck_assert_int_eq(sockx_read(a, buf, sizeof(buf), 100), 2);
	CHECK_ERR(sockx_shutdown(a, 7), EINVAL);
	CHECK_ERR(sockx_shutdown(a, -1), EINVAL);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

START_TEST(handle_shutdown_of_unconnected_socket_is_enotconn)
{
	sockx *s;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sockx_adopt(&s, fd), 0);
	CHECK_ERR(sockx_shutdown(s, SHUT_RDWR), ENOTCONN);
	sockx_close(s);
}
END_TEST

START_TEST(handle_set_linger_sets_so_linger)
{
	struct linger lg;
	socklen_t n = sizeof(lg);
	sockx *c, *a;

	tcp_pair(&c, &a);
	ck_assert_int_eq(sockx_set_linger(c, 5), 0);
	ck_assert_int_eq(getsockopt(sockx_fd(c), SOL_SOCKET, SO_LINGER, &lg,
	    &n), 0);
	ck_assert_int_eq(lg.l_onoff, 1);
	ck_assert_int_eq(lg.l_linger, 5);
	ck_assert_int_eq(sockx_set_linger(c, -1), 0);
	ck_assert_int_eq(getsockopt(sockx_fd(c), SOL_SOCKET, SO_LINGER, &lg,
	    &n), 0);
	ck_assert_int_eq(lg.l_onoff, 0);
	sockx_close(c);
	sockx_close(a);
}
END_TEST

START_TEST(handle_abort_on_tcp_gives_the_peer_econnreset)
{
	char buf[4];
	sockx *c, *a;

	tcp_pair(&c, &a);
	ck_assert_int_eq(sockx_abort(c), 0);
	CHECK_ERR(sockx_read(a, buf, sizeof(buf), 1000), ECONNRESET);
	sockx_close(a);
}
END_TEST

START_TEST(handle_close_on_tcp_gives_the_peer_end_of_stream)
{
	char buf[4];
	sockx *c, *a;

	/* The contrast that makes the abort test mean something. */
	tcp_pair(&c, &a);
	ck_assert_int_eq(sockx_close(c), 0);
	ck_assert_int_eq(sockx_read(a, buf, sizeof(buf), 1000), 0);
	sockx_close(a);
}
END_TEST

/* Fill c's send path towards a peer that does not read. */
static void
stuff(sockx *c)
{
	static char junk[65536];

	while (sockx_write(c, junk, sizeof(junk), 0) > 0)
		;
}

START_TEST(handle_positive_linger_makes_tcp_close_wait)
{
	double t0, elapsed;
	sockx *c, *a;

	tcp_pair(&c, &a);
	/* The peer's window closes: unsent data stays queued. */
	ck_assert_int_eq(setsockopt(sockx_fd(a), SOL_SOCKET, SO_RCVBUF,
	    &(int){ 4096 }, sizeof(int)), 0);
	stuff(c);
	ck_assert_int_eq(sockx_set_linger(c, 1), 0);
	t0 = sxt_now();
	sockx_close(c);
	elapsed = sxt_now() - t0;
	ck_assert_msg(elapsed >= 0.9 && elapsed < 2.0,
	    "close took %.3f s with a 1 s linger", elapsed);
	sockx_close(a);
}
END_TEST

START_TEST(handle_linger_on_unix_never_makes_close_wait)
{
	double t0, elapsed;
	sockx *a, *b;

	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	stuff(a);
	ck_assert_int_eq(sockx_set_linger(a, 5), 0);
	t0 = sxt_now();
	ck_assert_int_eq(sockx_close(a), 0);
	elapsed = sxt_now() - t0;
	ck_assert_double_lt(elapsed, 0.1);
	sockx_close(b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* local and peer addresses                                          */
/* ---------------------------------------------------------------- */

START_TEST(handle_addresses_of_a_tcp_connection_match)
{
	struct sockaddr_storage cl, cp, al, ap;
	socklen_t cll = 0, cpl = 0, all = 0, apl = 0;
	sockx *c, *a;

	tcp_pair(&c, &a);
	/* *len is an output only: 0 on entry is fine. */
	ck_assert_int_eq(sockx_local_addr(c, &cl, &cll), 0);
	ck_assert_int_eq(sockx_peer_addr(c, &cp, &cpl), 0);
	ck_assert_int_eq(sockx_local_addr(a, &al, &all), 0);
	ck_assert_int_eq(sockx_peer_addr(a, &ap, &apl), 0);
	ck_assert_uint_eq(cll, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(cll, apl);
	ck_assert_mem_eq(&cl, &ap, cll);
	ck_assert_uint_eq(cpl, all);
	ck_assert_mem_eq(&cp, &al, cpl);
	sockx_close(c);
	sockx_close(a);
}
END_TEST

START_TEST(handle_addresses_of_a_socketpair_are_unnamed)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char text[4] = "?";
	sockx *a, *b;

	ck_assert_int_eq(sockx_pair(&a, &b, SOCK_STREAM), 0);
	ck_assert_int_eq(sockx_peer_addr(a, &ss, &len), 0);
	ck_assert_uint_eq(len, sizeof(sa_family_t));
	ck_assert_int_eq(sockx_addr_format((struct sockaddr *)&ss, len, text,
	    sizeof(text)), 0);
	ck_assert_str_eq(text, "");
	CHECK_ERR(sockx_local_addr(NULL, &ss, &len), EINVAL);
	CHECK_ERR(sockx_local_addr(a, NULL, &len), EINVAL);
	CHECK_ERR(sockx_peer_addr(a, &ss, NULL), EINVAL);
	sockx_close(a);
	sockx_close(b);
}
END_TEST

START_TEST(handle_peer_addr_of_unconnected_socket_is_enotconn)
{
	struct sockaddr_storage ss;
	socklen_t len = 77;
	char name[64];
	sockx *l;

	ck_assert_int_eq(sockx_listen(&l, sxt_abstract(name, sizeof(name),
	    "peer"), 0, 0, 0), 0);
	CHECK_ERR(sockx_peer_addr(l, &ss, &len), ENOTCONN);
	ck_assert_uint_eq(len, 77);		/* not written on failure */
	sockx_close(l);
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("handle");
	TCase *tc;

	tc = sx_tcase("ownership", 10);
	tcase_add_loop_test(tc,
	    handle_pair_gives_two_connected_ends_of_each_type, 0, 3);
	tcase_add_test(tc, handle_pair_rejects_bad_arguments);
	tcase_add_test(tc, handle_adopt_makes_a_socket_nonblocking_and_cloexec);
	tcase_add_test(tc,
	    handle_adopt_of_non_socket_is_enotsock_and_leaves_fd_open);
	tcase_add_test(tc, handle_adopt_rejects_bad_descriptors);
	tcase_add_test(tc, handle_release_returns_the_open_descriptor);
	tcase_add_test(tc, handle_null_handles_follow_the_contract);
	tcase_add_test(tc, handle_close_closes_the_descriptor);
	suite_add_tcase(s, tc);

	tc = sx_tcase("closing", 10);
	tcase_add_test(tc, handle_shutdown_ends_one_direction);
	tcase_add_test(tc, handle_shutdown_of_unconnected_socket_is_enotconn);
	tcase_add_test(tc, handle_set_linger_sets_so_linger);
	tcase_add_test(tc, handle_abort_on_tcp_gives_the_peer_econnreset);
	tcase_add_test(tc, handle_close_on_tcp_gives_the_peer_end_of_stream);
	tcase_add_test(tc, handle_positive_linger_makes_tcp_close_wait);
	tcase_add_test(tc, handle_linger_on_unix_never_makes_close_wait);
	suite_add_tcase(s, tc);

	tc = sx_tcase("addresses", 10);
	tcase_add_test(tc, handle_addresses_of_a_tcp_connection_match);
	tcase_add_test(tc, handle_addresses_of_a_socketpair_are_unnamed);
	tcase_add_test(tc, handle_peer_addr_of_unconnected_socket_is_enotconn);
	suite_add_tcase(s, tc);
	return s;
}
