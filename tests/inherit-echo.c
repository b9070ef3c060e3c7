/* SPDX-License-Identifier: MIT */
/*
 * inherit-echo.c - the program tests/socket-activate.sh runs under
 * systemd-socket-activate(1): inherit-echo ADDRESS takes its listener
 * with sockx_listen(ADDRESS) (a "systemd:..." or "fd:N" form), says
 * "READY=1" with sockx_notify, accepts one client, echoes one line back
 * and exits 0.  On stderr it reports "notify N pid P" and, on failure,
 * the step and the error's name.  Exit status: 2 listen failed, 3 notify
 * failed, 4 accept or I/O failed, 64 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sockx.h>

static const char *
name(int r)
{
	static const struct { int err; const char *name; } names[] = {
		{ EINVAL, "EINVAL" }, { ENOENT, "ENOENT" },
		{ ENOTUNIQ, "ENOTUNIQ" }, { EBADF, "EBADF" },
		{ ENOTSOCK, "ENOTSOCK" }, { ETIMEDOUT, "ETIMEDOUT" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == -r)
			return names[i].name;
	return strerror(-r);
}

/* Read one line (up to '\n' or end of stream) from c and send it back. */
static int
echo_line(sockx *c)
{
	char buf[1024];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf)) {
		r = sockx_read(c, buf + n, sizeof(buf) - n, 10000);
		if (r < 0)
			return (int)r;
		if (r == 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	r = sockx_write_full(c, buf, n, NULL, 10000);
	return r < 0 ? (int)r : 0;
}

int
main(int argc, char **argv)
{
	sockx *l, *c;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: inherit-echo ADDRESS\n");
		return 64;
	}
	r = sockx_listen(&l, argv[1], 0, 0, 0);
	if (r < 0) {
		fprintf(stderr, "inherit-echo: listen %s: %s\n", argv[1],
		    name(r));
		return 2;
	}
	r = sockx_notify("READY=1", 5000);
	fprintf(stderr, "inherit-echo: notify %d pid %ld\n", r,
	    (long)getpid());
	if (r < 0) {
		fprintf(stderr, "inherit-echo: notify: %s\n", name(r));
		return 3;
	}
	r = sockx_accept(l, &c, 10000);
	if (r == 0) {
		r = echo_line(c);
		sockx_close(c);
	}
	sockx_close(l);
	if (r < 0) {
		fprintf(stderr, "inherit-echo: accept or echo: %s\n",
		    name(r));
		return 4;
	}
	return 0;
}
