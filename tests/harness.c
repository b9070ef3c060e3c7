/* SPDX-License-Identifier: MIT */
/*
 * harness.c - the fd-leak fixture of every test case.  The fixture is a checked one: it runs in the test's own process
 * (fork mode) right before and after the test, lists /proc/self/fd, and
 * fails the test when the two lists differ, naming each descriptor.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MAX_TRACKED 4096

struct fd_list {
	size_t n;
	int fd[MAX_TRACKED];
};

static struct fd_list before;

static void
list_fds(struct fd_list *l)
{
	struct dirent *e;
	DIR *d;

	l->n = 0;
	d = opendir("/proc/self/fd");
	ck_assert_msg(d != NULL, "cannot list /proc/self/fd");
	while ((e = readdir(d)) != NULL) {
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d))
			continue;
		ck_assert_msg(l->n < MAX_TRACKED, "too many open descriptors");
		l->fd[l->n++] = fd;
	}
	closedir(d);
}

static int
has_fd(const struct fd_list *l, int fd)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->fd[i] == fd)
			return 1;
	return 0;
}

static void
fd_setup(void)
{
	list_fds(&before);
}

static void
fd_teardown(void)
{
	static struct fd_list after;
	char msg[512] = "";
	size_t i, off = 0;

	list_fds(&after);
	for (i = 0; i < after.n && off < sizeof(msg) - 32; i++)
		if (!has_fd(&before, after.fd[i]))
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    " leaked fd %d", after.fd[i]);
	for (i = 0; i < before.n && off < sizeof(msg) - 32; i++)
		if (!has_fd(&after, before.fd[i]))
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    " closed fd %d it did not own", before.fd[i]);
	ck_assert_msg(off == 0, "descriptor leak check:%s", msg);
}

TCase *
sx_tcase(const char *name, double timeout_s)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, fd_setup, fd_teardown);
	tcase_set_timeout(tc, timeout_s);
	return tc;
}
