/* SPDX-License-Identifier: MIT */
/*
 * header-c99.c - sockx.h compiles alone, first, as strict C99 with
 * -pedantic-errors and every warning an error, and its declarations are
 * usable from such a program.
 */
#include <sockx.h>

#include <string.h>

int
main(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[SOCKX_ADDRSTRLEN];
	int type;

	if (sockx_addr_parse("tcp:[::1]:80", &ss, &len, &type) != 0)
		return 1;
	if (sockx_addr_format((struct sockaddr *)&ss, len, buf,
	    sizeof(buf)) != 8 || strcmp(buf, "[::1]:80") != 0)
		return 1;
	return sockx_close(NULL);
}
