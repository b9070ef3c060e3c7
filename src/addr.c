/* SPDX-License-Identifier: MIT */
/*
 * addr.c - address text to sockaddr and back.
 *
 * This module owns the address syntax of sockx(7).  Its invariant: parsing
 * is strict and total (every input gets a sockaddr or an errno that names
 * what is wrong, nothing is truncated, nothing is resolved, nothing blocks)
 * and formatting writes the one canonical text that parses back to the same
 * sockaddr.  The IPv4 and IPv6 parsers are our own rather than inet_pton so
 * that the accepted syntax is the same on every C library; the tests hold
 * the IPv6 one to glibc's inet_pton.
 *
 * It also resolves address text for connect and listen (sx_addr_open,
 * or sx_addr_parse then sx_addr_resolve), where a path longer than
 * sun_path is reached through its directory.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

#define SUN_PATH_SIZE	sizeof(((struct sockaddr_un *)0)->sun_path)
#define SUN_NAME_MAX	(SUN_PATH_SIZE - 1)	/* keeps sun_path NUL-ended */

struct scheme {
	const char *prefix;
	int is_unix;
	int type;
};

static const struct scheme schemes[] = {
	{ "unix:", 1, SOCK_STREAM },
	{ "unixgram:", 1, SOCK_DGRAM },
	{ "unixpacket:", 1, SOCK_SEQPACKET },
	{ "tcp:", 0, SOCK_STREAM },
	{ "udp:", 0, SOCK_DGRAM },
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decimal digits s[0..n) without sign or leading zero, at most max.
 * Returns 0 and *v, or -EINVAL.
 */
static int
parse_decimal(const char *s, size_t n, uint32_t max, uint32_t *v)
{
	uint64_t acc = 0;
	size_t i;

	if (n == 0 || (s[0] == '0' && n > 1))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -EINVAL;
		acc = acc * 10 + (uint64_t)(s[i] - '0');
		if (acc > max)
			return -EINVAL;
	}
	*v = (uint32_t)acc;
	return 0;
}

/* Exactly four decimal octets 0..255 without leading zeros, nothing else. */
static int
parse_ipv4(const char *s, size_t n, unsigned char out[4])
{
	size_t i = 0, start;
	uint32_t v;
	int k;

	for (k = 0; k < 4; k++) {
		if (k > 0) {
			if (i >= n || s[i] != '.')
				return -EINVAL;
			i++;
		}
		start = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (parse_decimal(s + start, i - start, 255, &v) < 0)
			return -EINVAL;
		out[k] = (unsigned char)v;
	}
	return i == n ? 0 : -EINVAL;
}

/*
 * RFC 4291 text: eight groups of one to four hex digits, one "::" standing
 * for at least one zero group, and optionally a dotted IPv4 address as the
 * last 32 bits.  This is exactly what glibc's inet_pton(AF_INET6) accepts.
 */
static int
parse_ipv6(const char *s, size_t n, unsigned char out[16])
{
	unsigned char tmp[16];
	size_t i = 0, start, fill = 0, gap = SIZE_MAX;
	uint32_t v;

	memset(tmp, 0, sizeof(tmp));
	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	}
	while (i < n) {
		start = i;
		for (v = 0; i < n && hex_value(s[i]) >= 0 && i - start < 5; i++)
			v = v * 16 + (uint32_t)hex_value(s[i]);
		if (i < n && s[i] == '.') {
			if (fill + 4 > 16 ||
			    parse_ipv4(s + start, n - start, tmp + fill) < 0)
				return -EINVAL;
			fill += 4;
			break;
		}
		if (i == start || i - start > 4 || fill + 2 > 16)
			return -EINVAL;
		tmp[fill++] = (unsigned char)(v >> 8);
		tmp[fill++] = (unsigned char)v;
		if (i == n)
			break;
		if (s[i++] != ':' || i == n)
			return -EINVAL;
		if (s[i] == ':') {
			if (gap != SIZE_MAX)
				return -EINVAL;
			gap = fill;
			i++;
		}
	}
	if (gap == SIZE_MAX ? fill != 16 : fill == 16)
		return -EINVAL;
	if (gap != SIZE_MAX) {
		memmove(tmp + 16 - (fill - gap), tmp + gap, fill - gap);
		memset(tmp + gap, 0, 16 - fill);
	}
	memcpy(out, tmp, 16);
	return 0;
}

/* ":port" that ends the text: decimal 0..65535, no sign, no leading zero. */
static int
parse_port(const char *s, in_port_t *port)
{
	uint32_t v;

	if (s[0] != ':' || parse_decimal(s + 1, strlen(s + 1), 65535, &v) < 0)
		return -EINVAL;
	*port = htons((uint16_t)v);
	return 0;
}

/*
 * The index of the interface called name, with the kernel's own errors
 * (ENODEV for no such interface, EMFILE when no descriptor is free); the
 * C library's if_nametoindex() turns the latter into ENOENT.
 */
static int
interface_index(const char *name, size_t n, uint32_t *index)
{
	struct ifreq ifr;
	int fd, r = 0;

	if (n >= sizeof(ifr.ifr_name))
		return -ENODEV;		/* longer than any interface name */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		r = -errno;
	close(fd);
	if (r == 0)
		*index = (uint32_t)ifr.ifr_ifindex;
	return r;
}

/*
 * An IPv6 zone: a decimal interface index (1..2^32-1, no leading zero) or
 * the name of an existing interface (-ENODEV otherwise).
 */
static int
parse_zone(const char *s, size_t n, uint32_t *scope)
{
	size_t i;

	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n && is_digit(s[i]); i++)
		;
	if (i < n)
		return interface_index(s, n, scope);
	if (parse_decimal(s, n, UINT32_MAX, scope) < 0 || *scope == 0)
		return -EINVAL;
	return 0;
}

/* "[v6]:port" or "[v6%zone]:port". */
static int
parse_inet6(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	const char *end, *pct;
	int r;

	end = strchr(s, ']');
	if (end == NULL)
		return -EINVAL;
	pct = memchr(s, '%', (size_t)(end - s));
	if (parse_ipv6(s, (size_t)((pct ? pct : end) - s),
	    sin6->sin6_addr.s6_addr) < 0 ||
	    parse_port(end + 1, &sin6->sin6_port) < 0)
		return -EINVAL;
	if (pct != NULL) {
		r = parse_zone(pct + 1, (size_t)(end - pct - 1),
		    &sin6->sin6_scope_id);
		if (r < 0)
			return r;
	}
	sin6->sin6_family = AF_INET6;
	*len = sizeof(*sin6);
	return 0;
}

static int
parse_ip(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	const char *colon;

	if (s[0] == '[')
		return parse_inet6(s + 1, ss, len);
	colon = strchr(s, ':');
	if (colon == NULL ||
	    parse_ipv4(s, (size_t)(colon - s),
	    (unsigned char *)&sin->sin_addr.s_addr) < 0 ||
	    parse_port(colon, &sin->sin_port) < 0)
		return -EINVAL;
	sin->sin_family = AF_INET;
	*len = sizeof(*sin);
	return 0;
}

/*
 * "name" after '@': bytes taken verbatim except "\\" (a backslash) and
 * "\xHH" (any byte).  Malformed escapes are -EINVAL wherever they stand;
 * more than SUN_NAME_MAX bytes is -ENAMETOOLONG.  "" means autobind.
 */
static int
parse_abstract(const char *s, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = 0;
	int hi, lo;
	char c;

	while ((c = *s++) != '\0') {
		if (c == '\\') {
			if (s[0] == '\\') {
				s++;
			} else {
				if (s[0] != 'x' || (hi = hex_value(s[1])) < 0 ||
				    (lo = hex_value(s[2])) < 0)
					return -EINVAL;
				c = (char)(hi << 4 | lo);
				s += 3;
			}
		}
		if (n < SUN_NAME_MAX)
			sun->sun_path[1 + n] = c;
		n++;
	}
	if (n > SUN_NAME_MAX)
		return -ENAMETOOLONG;
	sun->sun_family = AF_UNIX;
	*len = (socklen_t)(n == 0 ? sizeof(sa_family_t) :
	    offsetof(struct sockaddr_un, sun_path) + 1 + n);
	return 0;
}

/*
 * A unix address: "@name", "@" or a non-empty path taken verbatim.  *path
 * is set to the text of a path (also when it is too long), else NULL.
 */
static int
parse_unix(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    const char **path)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	size_t n;

	if (s[0] == '@')
		return parse_abstract(s + 1, sun, len);
	n = strlen(s);
	if (n == 0)
		return -EINVAL;
	*path = s;
	if (n > SUN_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, s, n + 1);
	sun->sun_family = AF_UNIX;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

static int
parse_text(const char *text, struct sockaddr_storage *ss, socklen_t *len,
    int *type, const char **path)
{
	size_t i, n;

	*path = NULL;
	/* The inherited forms of sockx_listen (inherit.c) name no sockaddr. */
	if (strncmp(text, "fd:", 3) == 0 || strncmp(text, "systemd:", 8) == 0)
		return -EINVAL;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i].prefix);
		if (strncmp(text, schemes[i].prefix, n) != 0)
			continue;
		*type = schemes[i].type;
		return schemes[i].is_unix ?
		    parse_unix(text + n, ss, len, path) :
		    parse_ip(text + n, ss, len);
	}
	*type = SOCK_STREAM;
	if (text[0] == '/' || text[0] == '.' || text[0] == '@')
		return parse_unix(text, ss, len, path);
	return parse_ip(text, ss, len);
}

SX_EXPORT int
sockx_addr_parse(const char *text, struct sockaddr_storage *addr,
    socklen_t *len, int *type)
{
	struct sockaddr_storage ss;
	const char *path;
	socklen_t sl;
	int r, t;

	if (text == NULL || addr == NULL || len == NULL)
		return sx_ret(-EINVAL);
	memset(&ss, 0, sizeof(ss));
	r = parse_text(text, &ss, &sl, &t, &path);
	if (r < 0)
		return sx_ret(r);
	memcpy(addr, &ss, sizeof(ss));
	*len = sl;
	if (type != NULL)
		*type = t;
	return 0;
}

int
sx_path_split(const char *path, char dir[PATH_MAX], const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		*base = path;
		n = 1;
		path = ".";
	} else {
		*base = slash + 1;
		n = slash == path ? 1 : (size_t)(slash - path);
	}
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return **base == '\0' ? -EINVAL : 0;
}

/*
 * A path longer than sun_path, on Linux: open its directory (O_PATH, so
 * only search permission is needed, as for the path itself) and name the
 * socket /proc/self/fd/<dirfd>/<basename>, which the kernel resolves
 * like the full path.  A basename too long even for that is -ENAMETOOLONG.
 */
static int
open_long_path(struct sx_addr *a)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&a->ss;
	const char *base;
	char dir[PATH_MAX];
	int r;

	r = sx_path_split(a->path, dir, &base);
	if (r < 0)
		return r;
	a->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (a->dirfd < 0)
		return -errno;
	r = snprintf(sun->sun_path, SUN_PATH_SIZE, "/proc/self/fd/%d/%s",
	    a->dirfd, base);
	if (r < 0 || (size_t)r > SUN_NAME_MAX) {
		sx_addr_close(a);
		return -ENAMETOOLONG;
	}
	sun->sun_family = AF_UNIX;
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + r + 1);
	return 0;
}

int
sx_addr_parse(struct sx_addr *a, const char *text)
{
	int r;

	memset(&a->ss, 0, sizeof(a->ss));
	a->dirfd = -1;
	r = parse_text(text, &a->ss, &a->len, &a->type, &a->path);
	if (r == -ENAMETOOLONG && a->path != NULL) {
		a->len = 0;		/* resolved by sx_addr_resolve() */
		r = 0;
	}
	return r;
}

int
sx_addr_resolve(struct sx_addr *a)
{
	return a->len == 0 ? open_long_path(a) : 0;
}

int
sx_addr_open(struct sx_addr *a, const char *text)
{
	int r;

	r = sx_addr_parse(a, text);
	if (r == 0)
		r = sx_addr_resolve(a);
	return r;
}

void
sx_addr_close(struct sx_addr *a)
{
	if (a->dirfd >= 0)
		close(a->dirfd);
	a->dirfd = -1;
}

/* snprintf-style output: counts every byte, stores what fits. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void
put_mem(struct out *o, const char *s, size_t n)
{
	size_t room;

	if (o->len + 1 < o->size) {
		room = o->size - 1 - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void
put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

static void
put_uint(struct out *o, uint32_t v)
{
	char tmp[10];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put_mem(o, tmp + i, sizeof(tmp) - i);
}

/* An abstract name byte: printable ASCII as is, "\\", or "\xHH". */
static void
put_escaped(struct out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

	if (c == '\\')
		put_str(o, "\\\\");
	else if (c > ' ' && c < 0x7f)
		put_mem(o, (const char *)&c, 1);
	else
		put_mem(o, e, 4);
}

static int
format_unix(const struct sockaddr_un *sun, socklen_t len, struct out *o)
{
	const char *p = sun->sun_path;
	size_t i, n;

	if (len > sizeof(*sun))
		return -EINVAL;
	if (len == sizeof(sa_family_t))
		return 0;			/* unnamed: "" */
	n = len - offsetof(struct sockaddr_un, sun_path);
	if (p[0] == '\0') {
		if (n == 1)
			return -EINVAL;		/* empty name: no text */
		put_str(o, "@");
		for (i = 1; i < n; i++)
			put_escaped(o, (unsigned char)p[i]);
		return 0;
	}
	if (p[0] == '@')
		return -EINVAL;			/* would read as abstract */
	if (p[0] != '/' && p[0] != '.')
		put_str(o, "unix:");
	put_mem(o, p, strnlen(p, n));
	return 0;
}

/* The zone as the interface's name if it has one that parses back. */
static void
put_zone(struct out *o, uint32_t scope)
{
	char name[IF_NAMESIZE];
	const char *p;
	size_t i;
	int saved = errno;	/* a failed lookup must not touch errno */

	p = if_indextoname(scope, name);
	errno = saved;
	put_str(o, "%");
	if (p != NULL) {
		for (i = 0; is_digit(name[i]); i++)
			;
		if (name[i] != '\0' && strchr(name, ']') == NULL) {
			put_str(o, name);
			return;
		}
	}
	put_uint(o, scope);
}

/*
 * IPv4 and IPv6 as inet_ntop prints them, with the port.  The caller's
 * sockaddr may be aligned only as struct sockaddr is: copy, never cast.
 */
static int
format_inet(const struct sockaddr *sa, socklen_t len, struct out *o)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		if (len < sizeof(sin))
			return -EINVAL;
		memcpy(&sin, sa, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, host, sizeof(host));
		put_str(o, host);
		put_str(o, ":");
		put_uint(o, ntohs(sin.sin_port));
		return 0;
	}
	if (len < sizeof(sin6))
		return -EINVAL;
	memcpy(&sin6, sa, sizeof(sin6));
	inet_ntop(AF_INET6, &sin6.sin6_addr, host, sizeof(host));
	put_str(o, "[");
	put_str(o, host);
	if (sin6.sin6_scope_id != 0)
		put_zone(o, sin6.sin6_scope_id);
	put_str(o, "]:");
	put_uint(o, ntohs(sin6.sin6_port));
	return 0;
}

SX_EXPORT int
sockx_addr_format(const struct sockaddr *addr, socklen_t len, char *buf,
    size_t size)
{
	struct out o = { buf, size, 0 };
	int r;

	if (addr == NULL || (buf == NULL && size > 0) ||
	    len < sizeof(sa_family_t))
		return sx_ret(-EINVAL);
	switch (addr->sa_family) {
	case AF_UNIX:
		r = format_unix((const struct sockaddr_un *)addr, len, &o);
		break;
	case AF_INET:
	case AF_INET6:
		r = format_inet(addr, len, &o);
		break;
	default:
		r = -EAFNOSUPPORT;
		break;
	}
	if (r < 0)
		return sx_ret(r);
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}
