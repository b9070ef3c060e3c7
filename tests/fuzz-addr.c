/* SPDX-License-Identifier: MIT */
/*
 * fuzz-addr.c - libFuzzer target for sockx_addr_parse/sockx_addr_format.
 *
 * Input byte 0 picks the mode; the rest is either address text (parsed,
 * then formatted into buffers of every small size and parsed back) or raw
 * sockaddr bytes (formatted, then parsed back).  Any crash, sanitizer
 * report, leak or broken property (round trip, snprintf semantics, errno)
 * aborts the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <sockx.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define require(cond) do { if (!(cond)) abort(); } while (0)

/* Formats into every buffer size up to the full length: snprintf rules. */
static int
format_checked(const struct sockaddr_storage *ss, socklen_t len,
    char full[SOCKX_ADDRSTRLEN])
{
	char small[SOCKX_ADDRSTRLEN + 1];
	int n;
	size_t size;

	n = sockx_addr_format((const struct sockaddr *)ss, len, full,
	    SOCKX_ADDRSTRLEN);
	if (n < 0) {
		require(errno == -n);
		require(n == -EINVAL || n == -EAFNOSUPPORT);
		return n;
	}
	require(n < SOCKX_ADDRSTRLEN && strlen(full) == (size_t)n);
	require(sockx_addr_format((const struct sockaddr *)ss, len, NULL, 0) ==
	    n);
	for (size = 1; size <= (size_t)n + 1; size += 1 + size / 4) {
		memset(small, '#', sizeof(small));
		require(sockx_addr_format((const struct sockaddr *)ss, len,
		    small, size) == n);
		require(memcmp(small, full, size - 1) == 0);
		require(small[size - 1] == '\0' && small[size] == '#');
	}
	return n;
}

/* Text mode: parse(text) = x implies parse(format(x)) = x. */
static void
fuzz_text(const uint8_t *data, size_t size)
{
	struct sockaddr_storage x, y;
	char text[1024], full[SOCKX_ADDRSTRLEN];
	socklen_t xlen, ylen;
	int r, type;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	r = sockx_addr_parse(text, &x, &xlen, &type);
	if (r < 0) {
		require(errno == -r);
		require(r == -EINVAL || r == -ENAMETOOLONG || r == -ENODEV);
		return;
	}
	require(type == SOCK_STREAM || type == SOCK_DGRAM ||
	    type == SOCK_SEQPACKET);
	require(format_checked(&x, xlen, full) >= 0);
	if (xlen == sizeof(sa_family_t)) {
		require(full[0] == '\0');	/* autobind formats as "" */
		return;
	}
	require(sockx_addr_parse(full, &y, &ylen, &type) == 0);
	require(type == SOCK_STREAM);
	require(ylen == xlen && memcmp(&x, &y, xlen) == 0);
}

/*
 * What the text of a sockaddr stands for: fields format drops (IPv4
 * padding, IPv6 flow label) cleared, a path cut at its first NUL.
 */
static socklen_t
canonical(struct sockaddr_storage *ss, socklen_t len)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	size_t off = offsetof(struct sockaddr_un, sun_path), n;

	switch (ss->ss_family) {
	case AF_INET:
		memset(((struct sockaddr_in *)ss)->sin_zero, 0, 8);
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		((struct sockaddr_in6 *)ss)->sin6_flowinfo = 0;
		return sizeof(struct sockaddr_in6);
	default:
		if (len <= off || sun->sun_path[0] == '\0')
			return len;
		n = strnlen(sun->sun_path, len - off);
		memset(sun->sun_path + n, 0, sizeof(*ss) - off - n);
		return (socklen_t)(off + n + 1);
	}
}

/* Raw mode: format(x) = t implies parse(t) = x (as far as t says). */
static void
fuzz_raw(const uint8_t *data, size_t size)
{
	static const sa_family_t families[] = { AF_UNIX, AF_INET, AF_INET6,
	    AF_UNSPEC };
	struct sockaddr_storage x, y;
	char full[SOCKX_ADDRSTRLEN];
	socklen_t xlen, ylen;
	int n;

	if (size < 2)
		return;
	memset(&x, 0, sizeof(x));
	xlen = data[0];		/* any length, also too short or too long */
	memcpy(&x, data + 1, size - 1 < sizeof(x) ? size - 1 : sizeof(x));
	x.ss_family = families[data[1] % 4];
	if (x.ss_family == AF_INET6)	/* keep zone lookups cheap */
		((struct sockaddr_in6 *)&x)->sin6_scope_id %= 4;
	n = format_checked(&x, xlen, full);
	if (n < 0 || xlen == sizeof(sa_family_t))
		return;
	if (sockx_addr_parse(full, &y, &ylen, NULL) == -ENAMETOOLONG) {
		/* Only a path filling all of sun_path has no text. */
		require(x.ss_family == AF_UNIX &&
		    xlen == sizeof(struct sockaddr_un));
		return;
	}
	xlen = canonical(&x, xlen);
	require(sockx_addr_parse(full, &y, &ylen, NULL) == 0);
	require(ylen == xlen && memcmp(&x, &y, xlen) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_raw(data + 1, size - 1);
	else
		fuzz_text(data + 1, size - 1);
	return 0;
}
