#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deb-package.sh [SRCDIR] - libsockx packages cleanly for Debian.
#
# Copies the tree of SRCDIR (default: the checkout this script is in) to a
# temporary directory -- for a git checkout the files git knows of, tracked
# or untracked, less what .gitignore ignores, so the working tree as it is
# without build directories; otherwise the tree less .git and build*/ --
# makes libsockx_VERSION.orig.tar.gz of it, writes a minimal debian/ there
# (upstream ships none), and builds the source package and libsockx1 and
# libsockx-dev with `dpkg-buildpackage -us -uc`, running the unit, abi and
# docs suites in dh_auto_test.  Then:
#  - lintian -I --pedantic on the .changes (source, both .debs, .buildinfo)
#    reports no error and no warning;
#  - debian/libsockx1.symbols is generated from src/libsockx.sym (one line
#    per exported name and one for the version node), the build checks the
#    library against it with dpkg-gensymbols -c4, and -c4 really fails on
#    a missing or an extra symbol;
#  - the two .debs hold what they should (dpkg-deb -c), depend on what they
#    should, and a consumer builds from the extracted -dev package with
#    pkg-config only and runs against the extracted libsockx1.
# Installs what it needs with apt-get when missing (as root, or with sudo).
# Prints TAP; exits non-zero on any failure.  KEEP=1 keeps the work
# directory.  DEBFULLNAME and DEBEMAIL name the maintainer.
set -u
export LC_ALL=C.UTF-8
src=$(cd "${1:-$(dirname "$0")/..}" && pwd) || exit 1

packages=(dpkg-dev debhelper lintian build-essential meson ninja-build
  pkg-config check python3 mandoc man-db)
bash "$(dirname "$0")/need-packages.sh" "${packages[@]}" ||
  { echo "Bail out! cannot install ${packages[*]}"; exit 1; }

. "$(dirname "$0")/tap-lib.sh" deb-package

# ---- the upstream tree --------------------------------------------------
version=$(sed -n "/^project(/,/^ *[])]/s/^ *version: *'\([^']*\)'.*/\1/p" \
  "$src/meson.build" | head -n1)
soversion=$(sed -n "s/^ *soversion: *'\([^']*\)'.*/\1/p" "$src/meson.build" |
  head -n1)
if [ -z "$version" ] || [ -z "$soversion" ]; then
  bail "no version or soversion in $src/meson.build"
fi
lib=libsockx$soversion
map=src/libsockx.sym
debversion=$version-1
up=$tmp/libsockx-$version

mkdir "$up"
copy_tree "$src" "$up"
stamp=$(git -C "$src" log -1 --format=%ct 2>/dev/null || true)
[ -n "$stamp" ] || stamp=$(date +%s)
count=$(find "$up" -type f | wc -l)
if [ -f "$up/meson.build" ] && [ -f "$up/$map" ] && [ ! -e "$up/debian" ]
then
  ok "copied $count files of $src ($how)"
else
  bail "the copy of $src has no meson.build or $map, or has a debian/"
fi

# The orig tarball, reproducible: sorted, owned by root, dated by the commit.
if tar -C "$tmp" --sort=name --owner=0 --group=0 --numeric-owner \
      --mtime="@$stamp" -cf - "libsockx-$version" |
    gzip -n9 >"$tmp/libsockx_$version.orig.tar.gz"; then
  ok "libsockx_$version.orig.tar.gz ($(du -k "$tmp/libsockx_$version.orig.tar.gz" | cut -f1) KiB)"
else
  bail "cannot make the orig tarball"
fi

# ---- debian/ ------------------------------------------------------------
d=$up/debian
mkdir -p "$d/source" "$d/tests"
maint="${DEBFULLNAME:-libsockx maintainers} <${DEBEMAIL:-maintainers@libsockx.invalid}>"

cat >"$d/control" <<EOF
Source: libsockx
Section: libs
Priority: optional
Maintainer: $maint
Build-Depends: debhelper-compat (= 13),
               check <!nocheck>,
               man-db <!nocheck>,
               mandoc,
               meson,
               ninja-build,
               pkg-config,
               python3 <!nocheck>
Standards-Version: 4.6.2
Rules-Requires-Root: no

Package: $lib
Architecture: any
Multi-Arch: same
Depends: \${shlibs:Depends}, \${misc:Depends}
Description: safe, timed Unix-domain and TCP/UDP socket library
 libsockx makes Unix-domain and TCP/UDP sockets safe and easy to use from
 C: one opaque handle, one error convention (a negative errno) and one
 monotonic deadline for each call, kept across partial transfers, retries
 and signals. It passes file descriptors all or nothing and close-on-exec,
 tells who is calling (peer credentials and a pidfd of the peer), races
 several addresses of one service under one deadline, and parses one
 strict address syntax for paths, abstract names, IPv4 and IPv6, never
 resolving names and never truncating them.
 .
 This package contains the shared library.

Package: libsockx-dev
Section: libdevel
Architecture: any
Multi-Arch: same
Depends: $lib (= \${binary:Version}), \${misc:Depends}
Description: safe, timed Unix-domain and TCP/UDP socket library - development files
 libsockx is a small C library for daemons and tools that use Unix-domain
 and TCP/UDP sockets: timed connects, reads and writes, descriptor
 passing, peer credentials and address parsing behind one handle, with a
 stable ABI.
 .
 This package contains the header file, the pkg-config file, the CMake
 package (find_package(libsockx) and the target libsockx::libsockx), the
 link for the linker, the static library, the manual pages (sockx(7) for
 the conventions and one page for each function) and the sources of the
 example programs.
EOF

cat >"$d/changelog" <<EOF
libsockx ($debversion) unstable; urgency=medium

  * Package the upstream tree, to check that it builds and installs as
    Debian packages with a symbols file that follows its version script.

 -- $maint  $(date -R -u -d "@$stamp")
EOF

{
  cat <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: libsockx

Files: *
Copyright: $(sed -n 's/^Copyright (c) //p' "$up/LICENSE" | head -n1)
License: MIT

Files: debian/*
Copyright: $(sed -n 's/^Copyright (c) //p' "$up/LICENSE" | head -n1)
License: MIT

License: MIT
EOF
  # The text after the title and the copyright line, a blank line as " .".
  sed '1,/^Copyright/d' "$up/LICENSE" | sed '/./,$!d' |
    sed 's/^$/./; s/^/ /'
} >"$d/copyright"

cat >"$d/rules" <<'EOF'
#!/usr/bin/make -f
# The example programs are not built (libsockx-dev ships their sources):
# their tests need root and socat, and run in the upstream CI.  The tests
# here: the unit, abi and docs suites.  mandoc is needed either way, since
# -Ddocs=enabled looks for it.
export DEB_BUILD_MAINT_OPTIONS = hardening=+all

ifneq (,$(filter nocheck,$(DEB_BUILD_OPTIONS) $(DEB_BUILD_PROFILES)))
TESTS = disabled
else
TESTS = enabled
endif

%:
	dh $@ --buildsystem=meson

override_dh_auto_configure:
	dh_auto_configure -- -Ddocs=enabled -Dtests=$(TESTS) \
		-Dexamples=false -Dfuzz=disabled -Ddefault_library=both

# doc/man-lint.sh reads mandoc's stdout and stderr through one pipe (2>&1):
# past 4 KiB of block-buffered lint output (long paths, as in a build
# tree under /tmp) the "outdated mandoc.db" notes on stderr land inside a
# line, which then escapes the script's filter.  Line-buffered, each line
# arrives whole.
override_dh_auto_test:
	dh_auto_test -- --print-errorlogs --suite unit --suite abi
	dh_auto_test -- --print-errorlogs --suite docs --wrapper='stdbuf -oL'

# -c4: the build fails when the library and debian/*.symbols differ in any
# way, a symbol or a library more or less.
override_dh_makeshlibs:
	dh_makeshlibs -- -c4
EOF
chmod 755 "$d/rules"

echo "3.0 (quilt)" >"$d/source/format"

cat >"$d/$lib.install" <<'EOF'
usr/lib/*/libsockx.so.*
EOF
echo 'doc/examples/*.c' >"$d/libsockx-dev.examples"
# An initial upload to Debian closes its ITP bug; this package is never
# uploaded, and there is no bug to close.
for p in "$lib" libsockx-dev; do
  cat >"$d/$p.lintian-overrides" <<'EOF'
# Built by the upstream tests and never uploaded: no ITP bug to close.
initial-upload-closes-no-bugs
EOF
done
cat >"$d/libsockx-dev.install" <<'EOF'
usr/include/sockx.h
usr/lib/*/libsockx.a
usr/lib/*/libsockx.so
usr/lib/*/pkgconfig/libsockx.pc
usr/lib/*/cmake/libsockx/libsockxConfig.cmake
usr/lib/*/cmake/libsockx/libsockxConfigVersion.cmake
usr/share/man/man3/sockx_*.3
usr/share/man/man7/sockx.7
EOF

# The symbols file, from the version script: every name in a global: part
# of node NODE as NAME@NODE, and NODE@NODE itself; a node LIBSOCKX_X.Y
# first came with upstream version X.Y.0 (README: new functions go into a
# new node).
symbols_from_map() {
  perl -e '
    my ($lib, $pkg) = @ARGV[1, 2];
    local $/; open(my $fh, "<", $ARGV[0]) or die "$ARGV[0]: $!\n";
    my $text = <$fh>;
    $text =~ s{/\*.*?\*/}{}gs; $text =~ s{#[^\n]*}{}g;
    my @lines;
    while ($text =~ /([A-Za-z_][\w.]*)\s*\{(.*?)\}\s*[\w.]*\s*;/gs) {
      my ($node, $body) = ($1, $2);
      $node =~ /^LIBSOCKX_(\d+)\.(\d+)$/ or die "node $node: not LIBSOCKX_X.Y\n";
      my $min = "$1.$2.0";
      push @lines, "$node\@$node $min";
      my $global = 0;
      for my $item (split /;/, $body) {
        $item =~ s/^\s+|\s+$//g;
        $global = 1 if $item =~ s/^global\s*:\s*//;
        $global = 0 if $item =~ s/^local\s*:\s*//;
        next unless length $item and $global;
        $item =~ /^[A-Za-z_]\w*$/ or die "$node: \"$item\" is a pattern\n";
        push @lines, "$item\@$node $min";
      }
    }
    @lines or die "no version node in $ARGV[0]\n";
    print "$lib $pkg #MINVER#\n* Build-Depends-Package: libsockx-dev\n";
    print " $_\n" for sort @lines;
  ' "$1" "libsockx.so.$soversion" "$lib"
}
if symbols_from_map "$up/$map" >"$d/$lib.symbols" 2>"$tmp/log"; then
  nsym=$(grep -c '^ ' "$d/$lib.symbols")
  nmap=$(sed -n 's/^[[:space:]]*\(sockx_[a-z0-9_]*\);.*/\1/p' "$up/$map" | wc -l)
  nnode=$(grep -c '^LIBSOCKX_[0-9.]* *{' "$up/$map")
  if [ "$nsym" -eq $((nmap + nnode)) ]; then
    ok "debian/$lib.symbols from $map: $nmap functions and $nnode version nodes"
  else
    not_ok "debian/$lib.symbols has $nsym lines, $map $nmap names"
  fi
else
  say "$tmp/log"
  bail "cannot read $map"
fi

# autopkgtest: a program built against the installed packages with
# pkg-config only.  Run here too, on the extracted .debs (PKG_CONFIG_* and
# LD_LIBRARY_PATH point into them).
cat >"$d/tests/control" <<'EOF'
Tests: build
Depends: build-essential, libsockx-dev, pkg-config
Restrictions: allow-stderr
EOF
cat >"$d/tests/build" <<'EOF'
#!/bin/sh
# Build a program with `pkg-config --cflags --libs libsockx` only, then run
# it: a socket pair, a line each way with a timeout, the library version.
set -eu
dir=${AUTOPKGTEST_TMP:-$(mktemp -d)}
cat >"$dir/consumer.c" <<'EOT'
#include <sockx.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int
main(void)
{
	char buf[16];
	sockx *a, *b;

	if (sockx_pair(&a, &b, SOCK_STREAM) < 0)
		return perror("sockx_pair"), 1;
	if (sockx_write_full(a, "ping", 4, NULL, 1000) != 4 ||
	    sockx_read_full(b, buf, 4, NULL, 1000) != 4 ||
	    memcmp(buf, "ping", 4) != 0)
		return perror("ping"), 1;
	if (sockx_write_full(b, "pong", 4, NULL, 1000) != 4 ||
	    sockx_read_full(a, buf, 4, NULL, 1000) != 4 ||
	    memcmp(buf, "pong", 4) != 0)
		return perror("pong"), 1;
	if (sockx_close(a) != 0 || sockx_close(b) != 0)
		return perror("sockx_close"), 1;
	printf("libsockx %s: ping, pong\n", sockx_version());
	return 0;
}
EOT
cd "$dir"
# shellcheck disable=SC2046
${CC:-cc} -std=c99 -pedantic-errors -Wall -Wextra -Werror \
  $(pkg-config --cflags libsockx) consumer.c -o consumer \
  $(pkg-config --libs libsockx)
./consumer
EOF
chmod 755 "$d/tests/build"

# ---- build --------------------------------------------------------------
if (cd "$up" && dpkg-checkbuilddeps) >"$tmp/log" 2>&1; then
  ok "dpkg-checkbuilddeps: Build-Depends are installed"
else
  say "$tmp/log"
  not_ok "dpkg-checkbuilddeps"
fi

t0=$(now)
# DH_VERBOSE: the log shows each command, dpkg-gensymbols -c4 among them.
(cd "$up" && DH_VERBOSE=1 dpkg-buildpackage -us -uc -j"$(nproc)") \
  >"$tmp/build.log" 2>&1
rc=$?
t1=$(now)
build_time=$(secs "$t0" "$t1")
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes=$tmp/libsockx_${debversion}_$arch.changes
if [ $rc -eq 0 ] && [ -f "$changes" ]; then
  ok "dpkg-buildpackage -us -uc: source, $lib and libsockx-dev in ${build_time} s"
  awk -F': *' '/^(Ok|Fail|Skipped|Timeout): +[0-9]+ *$/ { n[$1] += $2; seen = 1 }
    END { if (seen) printf "# meson test in dh_auto_test: %d ok, %d failed, %d skipped, %d timed out\n",
      n["Ok"], n["Fail"], n["Skipped"], n["Timeout"];
      else print "# meson test did not run (nocheck)" }' "$tmp/build.log"
else
  tail -n 60 "$tmp/build.log" | say
  # The failed tests' own words, which the tail may have passed over.
  grep -E '^not ok|^Bail out!|^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)' \
    "$tmp/build.log" | awk '!seen[$0]++' | sed 's/^/# failed: /'
  bail "dpkg-buildpackage failed (status $rc) after ${build_time} s"
fi

# ---- lintian ------------------------------------------------------------
# As root, lintian warns that it should not run as root: it runs as nobody
# when there is one (the work directory is readable to others).
as=()
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 &&
    command -v setpriv >/dev/null; then
  chmod 755 "$tmp"
  as=(setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups
    env HOME="$tmp")
fi
t0=$(now)
(cd "$tmp" && "${as[@]}" lintian -I --pedantic --fail-on error,warning \
  "$changes") >"$tmp/lintian.log" 2>&1
rc=$?
lintian_time=$(secs "$t0" "$(now)")
echo "# lintian -I --pedantic --fail-on error,warning ${changes##*/} (${lintian_time} s):"
if [ -s "$tmp/lintian.log" ]; then say "$tmp/lintian.log"; else echo "#   (nothing)"; fi
# What the overrides hide (--show-overrides counts them towards --fail-on,
# so it is a run of its own).
echo "# overridden (lintian --show-overrides):"
(cd "$tmp" && "${as[@]}" lintian -I --pedantic --show-overrides "$changes") \
  2>&1 | grep -E '^(O|N): ' | say
ew=$(grep -Ec '^[EW]: ' "$tmp/lintian.log")
if [ $rc -eq 0 ] && [ "$ew" -eq 0 ]; then
  ok "lintian: no errors or warnings ($(grep -Ec '^[IP]: ' "$tmp/lintian.log") info/pedantic tags)"
else
  not_ok "lintian: status $rc, $ew errors or warnings"
fi

# ---- symbols ------------------------------------------------------------
echo "# debian/$lib.symbols:"
say "$d/$lib.symbols"
if grep -q "dpkg-gensymbols .*-p$lib .*-c4" "$tmp/build.log"; then
  ok "the build checked $lib against debian/$lib.symbols with dpkg-gensymbols -c4"
else
  not_ok "no dpkg-gensymbols -c4 in the build log"
fi

deb_lib=$tmp/${lib}_${debversion}_$arch.deb
deb_dev=$tmp/libsockx-dev_${debversion}_$arch.deb
if ! [ -f "$deb_lib" ] || ! [ -f "$deb_dev" ]; then
  bail "no ${deb_lib##*/} or ${deb_dev##*/}"
fi
dpkg-deb --ctrl-tarfile "$deb_lib" | tar -xOf - ./symbols >"$tmp/shipped.symbols" 2>/dev/null
if diff -u <(grep -v '^\*' "$d/$lib.symbols" | sort) \
    <(grep -v '^\*' "$tmp/shipped.symbols" | sort) >"$tmp/log"; then
  ok "$lib.deb ships exactly debian/$lib.symbols (DEBIAN/symbols)"
else
  say "$tmp/log"
  not_ok "$lib.deb ships other symbols than debian/$lib.symbols"
fi

# The build's own step, `debian/rules override_dh_makeshlibs` (dh_makeshlibs
# -- -c4) on the staged debian/$lib, with the symbols file as it is, without
# a name, and with a name the library lacks.
makeshlibs() {
  cp "$1" "$d/$lib.symbols" &&
    (cd "$up" && debian/rules override_dh_makeshlibs) >"$tmp/gensym.log" 2>&1
  local rc=$?
  cp "$tmp/saved.symbols" "$d/$lib.symbols"
  return $rc
}
cp "$d/$lib.symbols" "$tmp/saved.symbols"
first=$(sed -n 's/^ \(sockx_[a-z0-9_]*\)@.*/\1/p' "$d/$lib.symbols" | head -n1)
grep -v "^ $first@" "$d/$lib.symbols" >"$tmp/less.symbols"
{ cat "$d/$lib.symbols"; echo " sockx_not_exported@LIBSOCKX_1.0 $version"; } \
  >"$tmp/more.symbols"
if makeshlibs "$tmp/saved.symbols"; then
  if makeshlibs "$tmp/less.symbols"; then
    not_ok "dh_makeshlibs -- -c4 passes a symbols file without $first"
  else
    grep -E '^dpkg-gensymbols: (error|warning)' "$tmp/gensym.log" | say
    if makeshlibs "$tmp/more.symbols"; then
      not_ok "dh_makeshlibs -- -c4 passes a symbols file with an extra symbol"
    else
      grep -E '^dpkg-gensymbols: (error|warning)' "$tmp/gensym.log" | say
      ok "the build's dh_makeshlibs -- -c4 fails on a symbols file without $first, and on one with an extra symbol"
    fi
  fi
else
  say "$tmp/gensym.log"
  not_ok "dh_makeshlibs -- -c4 on the staged $lib with debian/$lib.symbols"
fi

# ---- the packages -------------------------------------------------------
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for deb in "$deb_lib" "$deb_dev"; do
  echo "# dpkg-deb -c ${deb##*/}:"
  dpkg-deb -c "$deb" | say
done
contents() { dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./|/|' |
  grep -v '/$' | sort; }
want_lib=$(printf '%s\n' "/usr/lib/$ma/libsockx.so.$soversion" \
  "/usr/lib/$ma/libsockx.so.$version" "/usr/share/doc/$lib/changelog.Debian.gz" \
  "/usr/share/doc/$lib/copyright" "/usr/share/lintian/overrides/$lib" | sort)
got_lib=$(contents "$deb_lib")
if [ "$got_lib" = "$want_lib" ]; then
  ok "$lib holds libsockx.so.$soversion, libsockx.so.$version and its doc"
else
  not_ok "$lib holds:"; printf '%s\n' "$got_lib" | say
fi

got_dev=$(contents "$deb_dev")
man3=$(printf '%s\n' "$got_dev" | sed -n 's|^/usr/share/man/man3/\(.*\)\.3\.gz$|\1|p')
names=$(sed -n 's/^[[:space:]]*\(sockx_[a-z0-9_]*\);.*/\1/p' "$up/$map" | sort)
missing_pages=$(comm -23 <(printf '%s\n' "$names") <(printf '%s\n' "$man3"))
bad=
for f in /usr/include/sockx.h "/usr/lib/$ma/libsockx.so" \
    "/usr/lib/$ma/libsockx.a" "/usr/lib/$ma/pkgconfig/libsockx.pc" \
    "/usr/lib/$ma/cmake/libsockx/libsockxConfig.cmake" \
    "/usr/lib/$ma/cmake/libsockx/libsockxConfigVersion.cmake" \
    /usr/share/man/man7/sockx.7.gz \
    /usr/share/doc/libsockx-dev/copyright \
    $(cd "$up/doc/examples" &&
      printf '/usr/share/doc/libsockx-dev/examples/%s\n' *.c); do
  printf '%s\n' "$got_dev" | grep -qx "$f" || bad="$bad $f"
done
if [ -z "$bad" ] && [ -z "$missing_pages" ] &&
    ! printf '%s\n' "$got_dev" | grep -q "libsockx\.so\.$soversion"; then
  ok "libsockx-dev holds the header, libsockx.so, libsockx.a, libsockx.pc, the CMake package, the examples, sockx(7) and a man3 page for each of the $(printf '%s\n' "$names" | wc -l) functions"
else
  not_ok "libsockx-dev: missing$bad $missing_pages, or it holds the shared library"
fi

dep_lib=$(dpkg-deb -f "$deb_lib" Depends)
dep_dev=$(dpkg-deb -f "$deb_dev" Depends)
if printf '%s' "$dep_lib" | grep -Eq '(^|, )libc6 \(>= [^)]*\)' &&
    [ "$dep_dev" = "$lib (= $debversion)" ] &&
    [ "$(dpkg-deb -f "$deb_lib" Multi-Arch)" = same ] &&
    [ "$(dpkg-deb -f "$deb_dev" Multi-Arch)" = same ]; then
  ok "Depends: $lib: $dep_lib; libsockx-dev: $dep_dev; both Multi-Arch: same"
else
  not_ok "Depends: $lib: '$dep_lib'; libsockx-dev: '$dep_dev'"
fi

# The autopkgtest, on the packages extracted to a root of their own.
root=$tmp/root
dpkg-deb -x "$deb_lib" "$root" && dpkg-deb -x "$deb_dev" "$root"
mkdir "$tmp/adt"
if PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root/usr/lib/$ma/pkgconfig \
    PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 \
    LD_LIBRARY_PATH=$root/usr/lib/$ma AUTOPKGTEST_TMP=$tmp/adt \
    "$d/tests/build" >"$tmp/log" 2>&1 &&
    [ "$(cat "$tmp/log")" = "libsockx $version: ping, pong" ] &&
    [ "$(LD_LIBRARY_PATH=$root/usr/lib/$ma ldd "$tmp/adt/consumer" |
      awk '/libsockx/ { print $3 }')" = "$root/usr/lib/$ma/libsockx.so.$soversion" ]
then
  ok "debian/tests/build: a consumer built with pkg-config from the extracted .debs ran: $(cat "$tmp/log")"
else
  say "$tmp/log"
  not_ok "debian/tests/build on the extracted .debs"
fi

stray=$(nm -g --defined-only "$root/usr/lib/$ma/libsockx.a" 2>&1 |
  awk 'NF == 3 && $3 !~ /^sockx_/ { print $3 }')
if [ -f "$root/usr/lib/$ma/libsockx.a" ] && [ -z "$stray" ]; then
  ok "the shipped libsockx.a defines no global outside sockx_*"
else
  not_ok "the shipped libsockx.a: missing, or defines" $stray
fi

echo "# times: dpkg-buildpackage ${build_time} s, lintian ${lintian_time} s"
echo "1..$n"
exit $fail
