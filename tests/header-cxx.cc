// SPDX-License-Identifier: MIT
// header-cxx.cc - sockx.h compiles alone as C++ (pedantic, warnings as
// errors), its names have C linkage, and its declarations are usable.
#include <sockx.h>

#include <cstring>

int
main()
{
	sockaddr_storage ss;
	socklen_t len;
	char buf[SOCKX_ADDRSTRLEN];
	sockx *s = 0;

	if (sockx_addr_parse("@cxx", &ss, &len, 0) != 0)
		return 1;
	if (sockx_addr_format(reinterpret_cast<sockaddr *>(&ss), len, buf,
	    sizeof(buf)) != 4 || std::strcmp(buf, "@cxx") != 0)
		return 1;
	return sockx_close(s);
}
