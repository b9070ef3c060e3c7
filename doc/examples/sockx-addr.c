/* SPDX-License-Identifier: MIT */
/*
 * sockx-addr - parse each address given on the command line and print its
 * family, socket type, sockaddr length and canonical text.
 *
 *   $ sockx-addr /run/app.sock '@my\x00name' tcp:127.0.0.1:80 '[::1]:443'
 *
 * Exits 0 when every address parsed, 1 when one did not, 2 on misuse.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <sockx.h>

static const char *
family_name(int family)
{
	switch (family) {
	case AF_UNIX:
		return "unix";
	case AF_INET:
		return "ipv4";
	case AF_INET6:
		return "ipv6";
	default:
		return "?";
	}
}

static const char *
type_name(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_SEQPACKET:
		return "seqpacket";
	default:
		return "?";
	}
}

static int
show(const char *text)
{
	struct sockaddr_storage ss;
	char buf[SOCKX_ADDRSTRLEN];
	socklen_t len;
	int r, type;

	r = sockx_addr_parse(text, &ss, &len, &type);
	if (r < 0) {
		fprintf(stderr, "sockx-addr: %s: %s\n", text, strerror(-r));
		return 1;
	}
	r = sockx_addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf));
	if (r < 0) {
		fprintf(stderr, "sockx-addr: %s: cannot format: %s\n", text,
		    strerror(-r));
		return 1;
	}
	printf("%-5s %-9s len=%-3u %s\n", family_name(ss.ss_family),
	    type_name(type), (unsigned)len, r > 0 ? buf : "(autobind)");
	return 0;
}

int
main(int argc, char **argv)
{
	int i, status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: sockx-addr ADDRESS...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		status |= show(argv[i]);
	return status;
}
