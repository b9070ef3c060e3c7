/* SPDX-License-Identifier: MIT */
/*
 * test-addr.c - sockx_addr_parse and sockx_addr_format: a table of vectors
 * (valid and invalid), exact sockaddr bytes, snprintf semantics, the
 * round-trip property over generated addresses of every family, and glibc's
 * inet_pton as an oracle for IPv4 and IPv6 literals.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sockx.h>

#include "harness.h"

#define S SOCK_STREAM
#define D SOCK_DGRAM
#define Q SOCK_SEQPACKET
#define U AF_UNIX
#define V4 AF_INET
#define V6 AF_INET6
#define UL(n) ((socklen_t)(offsetof(struct sockaddr_un, sun_path) + (n)))
#define L4 ((socklen_t)sizeof(struct sockaddr_in))
#define L6 ((socklen_t)sizeof(struct sockaddr_in6))

/* 107 and 108 bytes: the longest name that fits and one too many. */
#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X107 X100 "xxxxxxx"
#define X108 X107 "x"
#define E10 "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
#define E107 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 \
	"\\x00\\x00\\x00\\x00\\x00\\x00\\x00"

struct vector {
	const char *text;
	int ret;		/* 0 or the negative errno */
	int family;
	int type;
	socklen_t len;
	const char *canon;	/* what sockx_addr_format writes back */
};

static const struct vector vectors[] = {
	/* Filesystem paths. */
	{ "/run/app.sock", 0, U, S, UL(14), "/run/app.sock" },
	{ "./app.sock", 0, U, S, UL(11), "./app.sock" },
	{ "../app.sock", 0, U, S, UL(12), "../app.sock" },
	{ ".hidden", 0, U, S, UL(8), ".hidden" },
	{ ".", 0, U, S, UL(2), "." },
	{ "/", 0, U, S, UL(2), "/" },
	{ ".1.2.3:80", 0, U, S, UL(10), ".1.2.3:80" },
	{ "/a b", 0, U, S, UL(5), "/a b" },
	{ "/tmp/\xc3\xa9t\xc3\xa9", 0, U, S, UL(11), "/tmp/\xc3\xa9t\xc3\xa9" },
	{ "/a\\x41", 0, U, S, UL(7), "/a\\x41" },
	{ "/a\\", 0, U, S, UL(4), "/a\\" },
	{ "/@x", 0, U, S, UL(4), "/@x" },
	{ "/" X100 "abcdef", 0, U, S, UL(108), "/" X100 "abcdef" },
	{ "/" X107, -ENAMETOOLONG, 0, 0, 0, NULL },
	{ "./" X107, -ENAMETOOLONG, 0, 0, 0, NULL },
	{ "unix:/run/app.sock", 0, U, S, UL(14), "/run/app.sock" },
	{ "unix:./a", 0, U, S, UL(4), "./a" },
	{ "unix:app.sock", 0, U, S, UL(9), "unix:app.sock" },
	{ "unix:a", 0, U, S, UL(2), "unix:a" },
	{ "unix:127.0.0.1:80", 0, U, S, UL(13), "unix:127.0.0.1:80" },
	{ "unix:[::1]:80", 0, U, S, UL(9), "unix:[::1]:80" },
	{ "unix:tcp:x", 0, U, S, UL(6), "unix:tcp:x" },
	{ "unix:unix:", 0, U, S, UL(6), "unix:unix:" },
	{ "unix:" X107, 0, U, S, UL(108), "unix:" X107 },
	{ "unix:" X108, -ENAMETOOLONG, 0, 0, 0, NULL },
	{ "unix:/" X107, -ENAMETOOLONG, 0, 0, 0, NULL },
	{ "unixgram:/run/log", 0, U, D, UL(9), "/run/log" },
	{ "unixgram:log", 0, U, D, UL(4), "unix:log" },
	{ "unixgram:" X108, -ENAMETOOLONG, 0, 0, 0, NULL },
	{ "unixpacket:/run/p", 0, U, Q, UL(7), "/run/p" },
	{ "unixpacket:./p", 0, U, Q, UL(4), "./p" },
	{ "unixpacket:" X108, -ENAMETOOLONG, 0, 0, 0, NULL },

	/* Abstract names and autobind. */
	{ "@", 0, U, S, UL(0), "" },
	{ "unix:@", 0, U, S, UL(0), "" },
	{ "unixgram:@", 0, U, D, UL(0), "" },
	{ "unixpacket:@", 0, U, Q, UL(0), "" },
	{ "@name", 0, U, S, UL(5), "@name" },
	{ "unix:@name", 0, U, S, UL(5), "@name" },
	{ "unixgram:@name", 0, U, D, UL(5), "@name" },
	{ "unixpacket:@name", 0, U, Q, UL(5), "@name" },
	{ "@@", 0, U, S, UL(2), "@@" },
	{ "@/run/x", 0, U, S, UL(7), "@/run/x" },
	{ "@a b", 0, U, S, UL(4), "@a\\x20b" },
	{ "@a\\\\b", 0, U, S, UL(4), "@a\\\\b" },
	{ "@\\\\", 0, U, S, UL(2), "@\\\\" },
	{ "@\\x00", 0, U, S, UL(2), "@\\x00" },
	{ "@\\x00\\x00", 0, U, S, UL(3), "@\\x00\\x00" },
	{ "@a\\x00b", 0, U, S, UL(4), "@a\\x00b" },
	{ "@\\x41", 0, U, S, UL(2), "@A" },
	{ "@\\x7e", 0, U, S, UL(2), "@~" },
	{ "@\\x7f", 0, U, S, UL(2), "@\\x7f" },
	{ "@\\xfF", 0, U, S, UL(2), "@\\xff" },
	{ "@\\xFF", 0, U, S, UL(2), "@\\xff" },
	{ "@\\x5c", 0, U, S, UL(2), "@\\\\" },
	{ "@\\x0a", 0, U, S, UL(2), "@\\x0a" },
	{ "@\t", 0, U, S, UL(2), "@\\x09" },
	{ "@\xc3\xa9", 0, U, S, UL(3), "@\\xc3\\xa9" },
	{ "@\\x40", 0, U, S, UL(2), "@@" },
	{ "@" X107, 0, U, S, UL(108), "@" X107 },
	{ "@" E107, 0, U, S, UL(108), "@" E107 },
	{ "@" X108, -ENAMETOOLONG, 0, 0, 0, NULL },
	{ "@" E107 "\\x00", -ENAMETOOLONG, 0, 0, 0, NULL },
	{ "unix:@" X108, -ENAMETOOLONG, 0, 0, 0, NULL },
	{ "@" X108 "\\q", -EINVAL, 0, 0, 0, NULL },
	{ "@\\", -EINVAL, 0, 0, 0, NULL },
	{ "@a\\", -EINVAL, 0, 0, 0, NULL },
	{ "@\\x", -EINVAL, 0, 0, 0, NULL },
	{ "@\\x4", -EINVAL, 0, 0, 0, NULL },
	{ "@\\x4g", -EINVAL, 0, 0, 0, NULL },
	{ "@\\xg0", -EINVAL, 0, 0, 0, NULL },
	{ "@\\X41", -EINVAL, 0, 0, 0, NULL },
	{ "@\\n", -EINVAL, 0, 0, 0, NULL },
	{ "@\\0", -EINVAL, 0, 0, 0, NULL },
	{ "@\\u0041", -EINVAL, 0, 0, 0, NULL },
	{ "@\\ ", -EINVAL, 0, 0, 0, NULL },

	/* Unix addresses that are not. */
	{ "", -EINVAL, 0, 0, 0, NULL },
	{ "unix:", -EINVAL, 0, 0, 0, NULL },
	{ "unixgram:", -EINVAL, 0, 0, 0, NULL },
	{ "unixpacket:", -EINVAL, 0, 0, 0, NULL },
	{ "app.sock", -EINVAL, 0, 0, 0, NULL },
	{ "run/app.sock", -EINVAL, 0, 0, 0, NULL },
	{ "~/app.sock", -EINVAL, 0, 0, 0, NULL },
	{ "Unix:/x", -EINVAL, 0, 0, 0, NULL },
	{ "UNIX:/x", -EINVAL, 0, 0, 0, NULL },
	{ "unix/x", -EINVAL, 0, 0, 0, NULL },
	{ "unix", -EINVAL, 0, 0, 0, NULL },
	{ "file:/x", -EINVAL, 0, 0, 0, NULL },
	{ "unixdgram:/x", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:/x", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:./x", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:@x", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:@", -EINVAL, 0, 0, 0, NULL },
	{ "udp:/x", -EINVAL, 0, 0, 0, NULL },
	{ "udp:@x", -EINVAL, 0, 0, 0, NULL },
	{ "udp:unix:/x", -EINVAL, 0, 0, 0, NULL },
	{ " /x", -EINVAL, 0, 0, 0, NULL },

	/* IPv4. */
	{ "127.0.0.1:80", 0, V4, S, L4, "127.0.0.1:80" },
	{ "tcp:127.0.0.1:80", 0, V4, S, L4, "127.0.0.1:80" },
	{ "udp:127.0.0.1:53", 0, V4, D, L4, "127.0.0.1:53" },
	{ "0.0.0.0:0", 0, V4, S, L4, "0.0.0.0:0" },
	{ "tcp:0.0.0.0:8080", 0, V4, S, L4, "0.0.0.0:8080" },
	{ "udp:0.0.0.0:0", 0, V4, D, L4, "0.0.0.0:0" },
	{ "255.255.255.255:65535", 0, V4, S, L4, "255.255.255.255:65535" },
	{ "1.2.3.4:1", 0, V4, S, L4, "1.2.3.4:1" },
	{ "10.0.0.1:443", 0, V4, S, L4, "10.0.0.1:443" },
	{ "192.168.100.200:8080", 0, V4, S, L4, "192.168.100.200:8080" },
	{ "100.64.0.1:65534", 0, V4, S, L4, "100.64.0.1:65534" },
	{ "9.99.199.249:9", 0, V4, S, L4, "9.99.199.249:9" },
	{ "250.251.252.253:10000", 0, V4, S, L4, "250.251.252.253:10000" },
	{ "127.0.0.1", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:65536", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:99999", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:100000", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:4294967376", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:18446744073709551696", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:-1", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:+80", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:080", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:00", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:0x50", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:8 0", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1: 80", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:80 ", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:80x", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:1e3", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1:80:80", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.0.1::80", -EINVAL, 0, 0, 0, NULL },
	{ " 127.0.0.1:80", -EINVAL, 0, 0, 0, NULL },
	{ "127.1:80", -EINVAL, 0, 0, 0, NULL },
	{ "127.0.1:80", -EINVAL, 0, 0, 0, NULL },
	{ "2130706433:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.4.5:80", -EINVAL, 0, 0, 0, NULL },
	{ "256.0.0.1:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.256:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.1000:80", -EINVAL, 0, 0, 0, NULL },
	{ "01.2.3.4:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.02.3.4:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.004:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.00:80", -EINVAL, 0, 0, 0, NULL },
	{ "0x7f.0.0.1:80", -EINVAL, 0, 0, 0, NULL },
	{ "0177.0.0.1:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.-4:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.+4:80", -EINVAL, 0, 0, 0, NULL },
	{ "1..3.4:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.4.:80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.4 :80", -EINVAL, 0, 0, 0, NULL },
	{ "1.2.3.4/24:80", -EINVAL, 0, 0, 0, NULL },
	{ "\xef\xbc\x91.2.3.4:80", -EINVAL, 0, 0, 0, NULL },
	{ "localhost:80", -EINVAL, 0, 0, 0, NULL },
	{ "example.com:80", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:localhost:80", -EINVAL, 0, 0, 0, NULL },
	{ "udp:localhost:53", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:", -EINVAL, 0, 0, 0, NULL },
	{ "udp:", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:127.0.0.1", -EINVAL, 0, 0, 0, NULL },
	{ "TCP:127.0.0.1:80", -EINVAL, 0, 0, 0, NULL },
	{ "tcp4:127.0.0.1:80", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:tcp:127.0.0.1:80", -EINVAL, 0, 0, 0, NULL },
	{ "http://127.0.0.1:80", -EINVAL, 0, 0, 0, NULL },
	{ ":80", -EINVAL, 0, 0, 0, NULL },
	{ "*:80", -EINVAL, 0, 0, 0, NULL },

	/* IPv6. */
	{ "[::1]:80", 0, V6, S, L6, "[::1]:80" },
	{ "tcp:[::1]:80", 0, V6, S, L6, "[::1]:80" },
	{ "udp:[::1]:53", 0, V6, D, L6, "[::1]:53" },
	{ "[::]:0", 0, V6, S, L6, "[::]:0" },
	{ "tcp:[::]:0", 0, V6, S, L6, "[::]:0" },
	{ "[0:0:0:0:0:0:0:1]:80", 0, V6, S, L6, "[::1]:80" },
	{ "[0000:0000:0000:0000:0000:0000:0000:0000]:1", 0, V6, S, L6,
	  "[::]:1" },
	{ "[2001:DB8::1]:443", 0, V6, S, L6, "[2001:db8::1]:443" },
	{ "[2001:0db8:0000:0000:0000:0000:0000:0001]:1", 0, V6, S, L6,
	  "[2001:db8::1]:1" },
	{ "[2001:db8:0:0:1:0:0:1]:1", 0, V6, S, L6, "[2001:db8::1:0:0:1]:1" },
	{ "[2001:db8:0:1:1:1:1:1]:1", 0, V6, S, L6,
	  "[2001:db8:0:1:1:1:1:1]:1" },
	{ "[2001:0:0:1:0:0:0:1]:1", 0, V6, S, L6, "[2001:0:0:1::1]:1" },
	{ "[1:2:3:4:5:6:7:8]:9", 0, V6, S, L6, "[1:2:3:4:5:6:7:8]:9" },
	{ "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", 0, V6, S, L6,
	  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
	{ "[1::]:1", 0, V6, S, L6, "[1::]:1" },
	{ "[1::8]:1", 0, V6, S, L6, "[1::8]:1" },
	{ "[1:2:3:4:5:6:7::]:1", 0, V6, S, L6, "[1:2:3:4:5:6:7:0]:1" },
	{ "[::2:3:4:5:6:7:8]:1", 0, V6, S, L6, "[0:2:3:4:5:6:7:8]:1" },
	{ "[1:2:3::6:7:8]:1", 0, V6, S, L6, "[1:2:3::6:7:8]:1" },
	{ "[::ffff:1.2.3.4]:80", 0, V6, S, L6, "[::ffff:1.2.3.4]:80" },
	{ "[::ffff:0102:0304]:80", 0, V6, S, L6, "[::ffff:1.2.3.4]:80" },
	{ "[::FFFF:255.255.255.255]:1", 0, V6, S, L6,
	  "[::ffff:255.255.255.255]:1" },
	{ "[1:2:3:4:5:6:1.2.3.4]:1", 0, V6, S, L6, "[1:2:3:4:5:6:102:304]:1" },
	{ "[1::1.2.3.4]:1", 0, V6, S, L6, "[1::102:304]:1" },
	{ "[64:ff9b::192.0.2.33]:1", 0, V6, S, L6, "[64:ff9b::c000:221]:1" },
	{ "[fe80::1%lo]:80", 0, V6, S, L6, "[fe80::1%lo]:80" },
	{ "tcp:[fe80::1%lo]:80", 0, V6, S, L6, "[fe80::1%lo]:80" },
	{ "udp:[fe80::1%lo]:80", 0, V6, D, L6, "[fe80::1%lo]:80" },
	{ "[::1%lo]:1", 0, V6, S, L6, "[::1%lo]:1" },
	{ "[fe80::1%3999999999]:80", 0, V6, S, L6, "[fe80::1%3999999999]:80" },
	{ "[fe80::1%4294967295]:80", 0, V6, S, L6, "[fe80::1%4294967295]:80" },
	{ "[fe80::1%4294967296]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[fe80::1%99999999999]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[fe80::1%0]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[fe80::1%01]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[fe80::1%]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[fe80::1%-1]:80", -ENODEV, 0, 0, 0, NULL },
	{ "[fe80::1%nosuchif0]:80", -ENODEV, 0, 0, 0, NULL },
	{ "[fe80::1%25lo]:80", -ENODEV, 0, 0, 0, NULL },
	{ "[fe80::1%lo%lo]:80", -ENODEV, 0, 0, 0, NULL },
	{ "[fe80::1%LO]:80", -ENODEV, 0, 0, 0, NULL },
	{ "[fe80::1%aaaaaaaaaaaaaaa]:80", -ENODEV, 0, 0, 0, NULL },
	{ "[fe80::1%aaaaaaaaaaaaaaaa]:80", -ENODEV, 0, 0, 0, NULL },
	{ "[fe80::1%lo]", -EINVAL, 0, 0, 0, NULL },
	{ "[fe80::1%lo]:080", -EINVAL, 0, 0, 0, NULL },
	{ "[fe80::1%lo:80", -EINVAL, 0, 0, 0, NULL },
	{ "[fe80::1%%lo]:80", -ENODEV, 0, 0, 0, NULL },
	{ "[::1]", -EINVAL, 0, 0, 0, NULL },
	{ "[::1]:", -EINVAL, 0, 0, 0, NULL },
	{ "[::1]80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1]:65536", -EINVAL, 0, 0, 0, NULL },
	{ "[::1]:080", -EINVAL, 0, 0, 0, NULL },
	{ "[::1]:-80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1]:80:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1]]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[[::1]]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1:80", -EINVAL, 0, 0, 0, NULL },
	{ "::1:80", -EINVAL, 0, 0, 0, NULL },
	{ "::1", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:::1:80", -EINVAL, 0, 0, 0, NULL },
	{ "tcp:[::1]", -EINVAL, 0, 0, 0, NULL },
	{ "[]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[:]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[:::]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1:::2]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1::2::3]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1::]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[12345::]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::12345]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1:2:3:4:5:6:7:8:9]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1:2:3:4:5:6:7]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1:2:3:4:5:6:7:8::]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1:2:3:4:5:6:7:8]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1:2:3:4::5:6:7:8]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1:2:3:4:5:6::1.2.3.4]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1:2:3:4:5:6:7:1.2.3.4]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1.2.3]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1.2.3.4.5]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::01.2.3.4]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::256.1.1.1]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1.2.3.4:5]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::a.2.3.4]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1.2.3.4]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::ffff:1.2.3.4:5]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[g::1]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[:1::]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1::2:]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[1:2:3:4:5:6:7:8:]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[ ::1]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1 ]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[0x1::]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1/128]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[localhost]:80", -EINVAL, 0, 0, 0, NULL },
	{ "[::1]:80 ", -EINVAL, 0, 0, 0, NULL },
};

#define NVECTORS ((int)(sizeof(vectors) / sizeof(vectors[0])))

/* The vector's text is parsed as the table says and formats canonically. */
START_TEST(addr_vectors_parse_and_format_exactly)
{
	const struct vector *v = &vectors[_i];
	struct sockaddr_storage ss;
	char buf[SOCKX_ADDRSTRLEN];
	socklen_t len = 0;
	int r, type = -1;

	errno = 0;
	r = sockx_addr_parse(v->text, &ss, &len, &type);
	ck_assert_msg(r == v->ret, "\"%s\": got %d, want %d", v->text, r,
	    v->ret);
	if (r < 0) {
		ck_assert_int_eq(errno, -r);
		return;
	}
	ck_assert_int_eq(ss.ss_family, v->family);
	ck_assert_int_eq(type, v->type);
	ck_assert_uint_eq(len, v->len);
	r = sockx_addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf));
	ck_assert_int_ge(r, 0);
	ck_assert_str_eq(buf, v->canon);
	ck_assert_uint_eq((size_t)r, strlen(v->canon));
}
END_TEST

/* Exact bytes of each family: byte order, lengths, NUL termination. */
START_TEST(addr_parse_fills_exact_sockaddr_bytes)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34 };
	socklen_t len;

	ck_assert_int_eq(sockx_addr_parse("tcp:10.1.2.3:8080", &ss, &len,
	    NULL), 0);
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(0x0a010203));
	ck_assert_uint_eq(sin->sin_port, htons(8080));

	memset(&ss, 0xaa, sizeof(ss));
	ck_assert_int_eq(sockx_addr_parse("[2001:db8::1234]:443", &ss, &len,
	    NULL), 0);
	ck_assert_mem_eq(sin6->sin6_addr.s6_addr, v6, 16);
	ck_assert_uint_eq(sin6->sin6_port, htons(443));
	ck_assert_uint_eq(sin6->sin6_flowinfo, 0);
	ck_assert_uint_eq(sin6->sin6_scope_id, 0);

	ck_assert_int_eq(sockx_addr_parse("[fe80::1%lo]:1", &ss, &len, NULL),
	    0);
	ck_assert_uint_eq(sin6->sin6_scope_id, if_nametoindex("lo"));

	memset(&ss, 0xaa, sizeof(ss));
	ck_assert_int_eq(sockx_addr_parse("/run/x", &ss, &len, NULL), 0);
	ck_assert_mem_eq(sun->sun_path, "/run/x", 7);
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 7);

	memset(&ss, 0xaa, sizeof(ss));
	ck_assert_int_eq(sockx_addr_parse("@a\\x00b\\\\", &ss, &len, NULL),
	    0);
	ck_assert_mem_eq(sun->sun_path, "\0a\0b\\", 5);
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 5);
	/* The bytes past the address are zero, not left over. */
	ck_assert_int_eq(sun->sun_path[5], 0);
	ck_assert_int_eq(((unsigned char *)&ss)[sizeof(ss) - 1], 0);
}
END_TEST

START_TEST(addr_parse_null_arguments_einval)
{
	struct sockaddr_storage ss;
	socklen_t len;

	errno = 0;
	ck_assert_int_eq(sockx_addr_parse(NULL, &ss, &len, NULL), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(sockx_addr_parse("/x", NULL, &len, NULL), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(sockx_addr_parse("/x", &ss, NULL, NULL), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sockx_addr_parse("/x", &ss, &len, NULL), 0);
}
END_TEST

/* Out-parameters are written only on success; errno only on failure. */
START_TEST(addr_parse_writes_nothing_on_failure)
{
	static const char *bad[] = { "nope", "/" X108, "[fe80::1%nosuch]:1",
	    "@\\q", "1.2.3.4:99999" };
	struct sockaddr_storage ss, ref;
	socklen_t len;
	size_t i;
	int type;

	memset(&ref, 0x5a, sizeof(ref));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ss = ref;
		len = 4242;
		type = 4242;
		ck_assert_int_lt(sockx_addr_parse(bad[i], &ss, &len, &type), 0);
		ck_assert_mem_eq(&ss, &ref, sizeof(ss));
		ck_assert_uint_eq(len, 4242);
		ck_assert_int_eq(type, 4242);
	}
	errno = 12345;
	ck_assert_int_eq(sockx_addr_parse("[fe80::1%lo]:1", &ss, &len, NULL),
	    0);
	ck_assert_int_eq(errno, 12345);
}
END_TEST

/* Like snprintf: the full length always, at most size bytes, NUL-ended. */
START_TEST(addr_format_truncates_like_snprintf)
{
	static const char *texts[] = { "/run/app.sock", "@a\\x00b",
	    "[2001:db8::1%lo]:65535", "unix:rel", "255.255.255.255:65535" };
	struct sockaddr_storage ss;
	char buf[SOCKX_ADDRSTRLEN + 8], full[SOCKX_ADDRSTRLEN];
	socklen_t len;
	size_t i, size;
	int n;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert_int_eq(sockx_addr_parse(texts[i], &ss, &len, NULL),
		    0);
		n = sockx_addr_format((struct sockaddr *)&ss, len, NULL, 0);
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(sockx_addr_format((struct sockaddr *)&ss, len,
		    full, sizeof(full)), n);
		ck_assert_uint_eq(strlen(full), (size_t)n);
		for (size = 0; size <= (size_t)n + 2; size++) {
			memset(buf, '#', sizeof(buf));
			ck_assert_int_eq(sockx_addr_format(
			    (struct sockaddr *)&ss, len, buf, size), n);
			if (size > 0) {
				size_t k = size - 1 < (size_t)n ? size - 1 :
				    (size_t)n;
				ck_assert_mem_eq(buf, full, k);
				ck_assert_int_eq(buf[k], '\0');
			}
			ck_assert_int_eq(buf[size], '#');
		}
	}
}
END_TEST

static int
format_sa(const void *sa, socklen_t len, char *buf, size_t size)
{
	return sockx_addr_format((const struct sockaddr *)sa, len, buf, size);
}

START_TEST(addr_format_rejects_bad_input)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	char buf[SOCKX_ADDRSTRLEN];
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	errno = 0;
	ck_assert_int_eq(format_sa(NULL, 16, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sockx_addr_parse("1.2.3.4:5", &ss, &len, NULL), 0);
	ck_assert_int_eq(format_sa(&ss, len, NULL, 1), -EINVAL);
	ck_assert_int_eq(format_sa(&ss, 0, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(format_sa(&ss, 1, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(format_sa(&ss, len - 1, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(sockx_addr_parse("[::1]:5", &ss, &len, NULL), 0);
	ck_assert_int_eq(format_sa(&ss, len - 1, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(format_sa(&ss, len + 100, buf, sizeof(buf)), 7);

	ss.ss_family = AF_PACKET;
	errno = 0;
	ck_assert_int_eq(format_sa(&ss, sizeof(ss), buf, sizeof(buf)),
	    -EAFNOSUPPORT);
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	ss.ss_family = AF_UNSPEC;
	ck_assert_int_eq(format_sa(&ss, sizeof(ss), buf, sizeof(buf)),
	    -EAFNOSUPPORT);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* Longer than any sockaddr_un: the kernel refuses it too. */
	ck_assert_int_eq(format_sa(&sun, sizeof(sun) + 1, buf, sizeof(buf)),
	    -EINVAL);
	/* An empty abstract name: "@" would read back as autobind. */
	ck_assert_int_eq(format_sa(&sun, UL(1), buf, sizeof(buf)), -EINVAL);
	/* A relative path "@x": "unix:@x" would read back as abstract. */
	memcpy(sun.sun_path, "@x", 3);
	ck_assert_int_eq(format_sa(&sun, UL(3), buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(addr_format_unix_edge_cases)
{
	struct sockaddr_un sun;
	struct sockaddr_storage ss;
	char buf[SOCKX_ADDRSTRLEN];
	socklen_t len;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* Unnamed (socketpair peer) formats as "". */
	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(format_sa(&sun, sizeof(sa_family_t), buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	/* A path is read up to its first NUL, whatever the length says. */
	memcpy(sun.sun_path, "/x\0garbage", 10);
	ck_assert_int_eq(format_sa(&sun, sizeof(sun), buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "/x");
	ck_assert_int_eq(format_sa(&sun, UL(2), buf, sizeof(buf)), 2);
	/* A 108-byte path without NUL formats; its text does not parse. */
	memset(sun.sun_path, 'a', sizeof(sun.sun_path));
	sun.sun_path[0] = '/';
	ck_assert_int_eq(format_sa(&sun, sizeof(sun), buf, sizeof(buf)), 108);
	ck_assert_int_eq(sockx_addr_parse(buf, &ss, &len, NULL),
	    -ENAMETOOLONG);
	sun.sun_path[0] = 'a';
	ck_assert_int_eq(format_sa(&sun, sizeof(sun), buf, sizeof(buf)), 113);
	ck_assert_mem_eq(buf, "unix:aaa", 8);
	ck_assert_int_eq(sockx_addr_parse(buf, &ss, &len, NULL),
	    -ENAMETOOLONG);
	/* The longest text there is fits SOCKX_ADDRSTRLEN exactly. */
	memset(sun.sun_path, 0, sizeof(sun.sun_path));
	ck_assert_int_eq(format_sa(&sun, sizeof(sun), buf, sizeof(buf)),
	    SOCKX_ADDRSTRLEN - 1);
	ck_assert_int_ge(SOCKX_ADDRSTRLEN, 430);
}
END_TEST

/* Zones: by name when the interface exists, by number otherwise. */
START_TEST(addr_zone_name_and_index_round_trip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char text[64], buf[SOCKX_ADDRSTRLEN], name[IF_NAMESIZE];
	unsigned lo = if_nametoindex("lo"), unknown;
	socklen_t len;

	ck_assert_uint_ne(lo, 0);
	snprintf(text, sizeof(text), "[fe80::1%%%u]:80", lo);
	ck_assert_int_eq(sockx_addr_parse(text, &ss, &len, NULL), 0);
	ck_assert_uint_eq(sin6->sin6_scope_id, lo);
	ck_assert_int_gt(format_sa(&ss, len, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "[fe80::1%lo]:80");

	for (unknown = 3999999999u; if_indextoname(unknown, name) != NULL;
	    unknown++)
		;
	snprintf(text, sizeof(text), "[fe80::1%%%u]:80", unknown);
	ck_assert_int_eq(sockx_addr_parse(text, &ss, &len, NULL), 0);
	ck_assert_uint_eq(sin6->sin6_scope_id, unknown);
	errno = 777;
	ck_assert_int_gt(format_sa(&ss, len, buf, sizeof(buf)), 0);
	ck_assert_int_eq(errno, 777);
	ck_assert_str_eq(buf, text);
}
END_TEST

/* A zone lookup with no descriptor free says so: -EMFILE, not -ENODEV. */
START_TEST(addr_zone_lookup_reports_emfile)
{
	struct sockaddr_storage ss;
	struct rlimit rl, low;
	socklen_t len;
	int fds[64], n = 0, fd;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = 64;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 64 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fds[n++] = fd;
	errno = 0;
	ck_assert_int_eq(sockx_addr_parse("[fe80::1%lo]:1", &ss, &len, NULL),
	    -EMFILE);
	ck_assert_int_eq(errno, EMFILE);
	/* Numeric zones need no descriptor. */
	ck_assert_int_eq(sockx_addr_parse("[fe80::1%1]:1", &ss, &len, NULL),
	    0);
	while (n > 0)
		close(fds[--n]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(sockx_addr_parse("[fe80::1%lo]:1", &ss, &len, NULL),
	    0);
}
END_TEST

/* A small deterministic generator (xorshift64*), seeded per test. */
static uint64_t rng_state;

static uint32_t
rnd(uint32_t bound)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32) % bound;
}

#define ROUNDS 4000

static socklen_t
gen_inet(struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	uint32_t a = rnd(UINT32_MAX);

	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)rnd(65536));
	if (rnd(4) == 0)
		a &= 0xff0000ff;	/* zero octets */
	sin->sin_addr.s_addr = a;
	return sizeof(*sin);
}

static socklen_t
gen_inet6(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	unsigned char *b = sin6->sin6_addr.s6_addr;
	int i;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)rnd(65536));
	/* Each group: zero often (to exercise "::"), else random. */
	for (i = 0; i < 8; i++) {
		uint32_t g = rnd(3) == 0 ? rnd(65536) : rnd(3) == 0 ? rnd(16) : 0;

		b[2 * i] = (unsigned char)(g >> 8);
		b[2 * i + 1] = (unsigned char)g;
	}
	if (rnd(8) == 0) {	/* IPv4-mapped */
		memset(b, 0, 10);
		b[10] = b[11] = 0xff;
	}
	switch (rnd(4)) {
	case 0:
		sin6->sin6_scope_id = if_nametoindex("lo");
		break;
	case 1:
		sin6->sin6_scope_id = 4000000000u + rnd(1000);
		break;
	default:
		break;
	}
	return sizeof(*sin6);
}

static socklen_t
gen_path(struct sockaddr_storage *ss)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	size_t i, n = 1 + rnd(107);

	sun->sun_family = AF_UNIX;
	for (i = 0; i < n; i++)
		sun->sun_path[i] = (char)(1 + rnd(255));
	switch (rnd(3)) {
	case 0:
		sun->sun_path[0] = '/';
		break;
	case 1:
		sun->sun_path[0] = '.';
		break;
	default:
		if (sun->sun_path[0] == '@')
			sun->sun_path[0] = 'a';
		break;
	}
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

static socklen_t
gen_abstract(struct sockaddr_storage *ss)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	static const char special[] = { 0, '\\', 'x', '@', ' ', '%', ']' };
	size_t i, n = 1 + rnd(107);

	sun->sun_family = AF_UNIX;
	for (i = 0; i < n; i++)
		sun->sun_path[1 + i] = rnd(3) == 0 ?
		    special[rnd(sizeof(special))] : (char)rnd(256);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static socklen_t (*const generators[])(struct sockaddr_storage *) = {
	gen_inet, gen_inet6, gen_path, gen_abstract,
};

/* parse(format(x)) == x, byte for byte, for generated x of each family. */
START_TEST(addr_round_trip_property_holds)
{
	struct sockaddr_storage x, y;
	char buf[SOCKX_ADDRSTRLEN];
	socklen_t xlen, ylen;
	int i, n, type;

	rng_state = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
	for (i = 0; i < ROUNDS; i++) {
		memset(&x, 0, sizeof(x));
		xlen = generators[_i](&x);
		n = format_sa(&x, xlen, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		ck_assert_int_lt(n, SOCKX_ADDRSTRLEN);
		ck_assert_int_eq(sockx_addr_parse(buf, &y, &ylen, &type), 0);
		ck_assert_msg(ylen == xlen && memcmp(&x, &y, xlen) == 0,
		    "round trip of \"%s\" changed the address", buf);
		ck_assert_int_eq(type, SOCK_STREAM);
	}
}
END_TEST

/*
 * Parses host as the host of an address of family (with a port added, and
 * brackets for IPv6) and copies the host's bytes to out.
 */
static int
parse_host(int family, const char *host, unsigned char out[16])
{
	struct sockaddr_storage ss;
	char text[128];
	socklen_t len;
	int r;

	snprintf(text, sizeof(text), family == AF_INET6 ? "[%s]:1" : "%s:1",
	    host);
	r = sockx_addr_parse(text, &ss, &len, NULL);
	if (r == 0 && family == AF_INET6)
		memcpy(out, ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr,
		    16);
	else if (r == 0)
		memcpy(out, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	return r;
}

/* Ours accepts exactly what inet_pton accepts, with the same bytes. */
static void
agree_with_inet_pton(const char *host)
{
	static const int families[] = { AF_INET6, AF_INET };
	unsigned char ours[16], theirs[16];
	size_t i;
	int r, want;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (families[i] == AF_INET && host[0] == '.')
			continue;	/* scheme-less, that is a unix path */
		want = inet_pton(families[i], host, theirs);
		r = parse_host(families[i], host, ours);
		ck_assert_msg((r == 0) == (want == 1),
		    "family %d \"%s\": sockx %d, inet_pton %d", families[i],
		    host, r, want);
		if (want == 1)
			ck_assert_mem_eq(ours, theirs,
			    families[i] == AF_INET6 ? 16 : 4);
	}
}

#define ORACLE_ROUNDS 60000

START_TEST(addr_ip_literals_agree_with_inet_pton)
{
	static const char alphabet[] = "0123456789abcdefABCDEF::::....";
	static const char *seeds[] = { "::", "::1", "1::", "1:2:3:4:5:6:7:8",
	    "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "fe80::abcd:1",
	    "1.2.3.4", "255.255.255.255", "0.0.0.0", "2001:db8::1:0:0:1" };
	char s[64];
	size_t i, n, k;

	rng_state = 0x2545f4914f6cdd1dull;
	for (i = 0; i < ORACLE_ROUNDS; i++) {
		if (i % 2 == 0) {
			/* Random text over the literal alphabet. */
			n = rnd(42);
			for (k = 0; k < n; k++)
				s[k] = alphabet[rnd(sizeof(alphabet) - 1)];
			s[n] = '\0';
		} else {
			/* A valid literal with a few characters changed. */
			snprintf(s, sizeof(s), "%s",
			    seeds[rnd(sizeof(seeds) / sizeof(seeds[0]))]);
			for (k = rnd(3); k < 3; k++) {
				n = strlen(s);
				if (rnd(2) == 0 && n > 0) {
					memmove(s + rnd((uint32_t)n),
					    s + rnd((uint32_t)n) , 1);
				} else if (n + 1 < sizeof(s)) {
					size_t at = rnd((uint32_t)n + 1);

					memmove(s + at + 1, s + at, n - at + 1);
					s[at] = alphabet[rnd(
					    sizeof(alphabet) - 1)];
				}
			}
		}
		agree_with_inet_pton(s);
	}
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		agree_with_inet_pton(seeds[i]);
}
END_TEST

/* Formatted IPv6 is what inet_ntop prints, for generated addresses. */
START_TEST(addr_ipv6_format_matches_inet_ntop)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char buf[SOCKX_ADDRSTRLEN], host[INET6_ADDRSTRLEN], want[80];
	int i;

	rng_state = 42;
	for (i = 0; i < ROUNDS; i++) {
		memset(&ss, 0, sizeof(ss));
		gen_inet6(&ss);
		sin6->sin6_scope_id = 0;
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, &sin6->sin6_addr,
		    host, sizeof(host)));
		snprintf(want, sizeof(want), "[%s]:%u", host,
		    ntohs(sin6->sin6_port));
		ck_assert_int_gt(format_sa(&ss, sizeof(*sin6), buf,
		    sizeof(buf)), 0);
		ck_assert_str_eq(buf, want);
	}
}
END_TEST

Suite *
test_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc;

	tc = sx_tcase("vectors", 10);
	tcase_add_loop_test(tc, addr_vectors_parse_and_format_exactly, 0,
	    NVECTORS);
	suite_add_tcase(s, tc);

	tc = sx_tcase("contract", 10);
	tcase_add_test(tc, addr_parse_fills_exact_sockaddr_bytes);
	tcase_add_test(tc, addr_parse_null_arguments_einval);
	tcase_add_test(tc, addr_parse_writes_nothing_on_failure);
	tcase_add_test(tc, addr_format_truncates_like_snprintf);
	tcase_add_test(tc, addr_format_rejects_bad_input);
	tcase_add_test(tc, addr_format_unix_edge_cases);
	tcase_add_test(tc, addr_zone_name_and_index_round_trip);
	tcase_add_test(tc, addr_zone_lookup_reports_emfile);
	suite_add_tcase(s, tc);

	tc = sx_tcase("properties", 120);
	tcase_add_loop_test(tc, addr_round_trip_property_holds, 0,
	    (int)(sizeof(generators) / sizeof(generators[0])));
	tcase_add_test(tc, addr_ip_literals_agree_with_inet_pton);
	tcase_add_test(tc, addr_ipv6_format_matches_inet_ntop);
	suite_add_tcase(s, tc);
	return s;
}
