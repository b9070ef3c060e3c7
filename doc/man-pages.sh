#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# man-pages.sh BUILDDIR SYMFILE - install the build into a temporary
# DESTDIR and check the man pages a user gets from it:
#  - every name that SYMFILE (src/libsockx.sym) exports has a page
#    man3/NAME.3, a file or a link that resolves to an installed page whose
#    NAME section lists that name, and sockx(7) is installed;
#  - every installed page, links included, renders with man -l at
#    MANWIDTH=80 with nothing on stderr, groff's warnings turned on, and
#    no line wider than 80 columns;
#  - every section-3 page has the sections NAME, LIBRARY, SYNOPSIS,
#    DESCRIPTION, RETURN VALUES, ERRORS, EXAMPLES and SEE ALSO.
set -u
# A meson subproject's build directory is not one meson can install on
# its own (the parent's is): nothing to check there (a TAP skip).
if [ "${SOCKX_SUBPROJECT:-0}" = 1 ]; then
  echo "1..0 # SKIP libsockx is a meson subproject: its build does not install alone"
  exit 0
fi
unset MANOPT MANROFFOPT MANROFFSEQ
build=$1
symfile=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; fail=1; }
# Print the file $1 as TAP comments under the result.
diag() { sed 's/^/# /' "$1"; }

if ! command -v man >/dev/null 2>&1; then
  echo "1..0 # SKIP man (man-db) not found"
  exit 0
fi

meson install -C "$build" --no-rebuild --destdir "$tmp/root" \
    >"$tmp/log" 2>&1 || {
  diag "$tmp/log"
  echo "Bail out! meson install failed"
  exit 1
}

symbols=$(sed -n 's/^[[:space:]]*\(sockx_[A-Za-z0-9_]*\);.*/\1/p' "$symfile")
if [ -z "$symbols" ]; then
  echo "Bail out! no sockx_ names found in $symfile"
  exit 1
fi

# The man directory is where sockx.7 went (mandir may be anything).
page7=$(find "$tmp/root" -path '*/man7/sockx.7' | head -n 1)
if [ -z "$page7" ]; then
  echo "1..1"
  not_ok "sockx.7 is installed (nothing under $tmp/root/*/man7)"
  exit 1
fi
mandir=$(cd "${page7%/man7/sockx.7}" && pwd -P)
echo "# man pages installed in ${mandir#"$(cd "$tmp/root" && pwd -P)"}"
ok "sockx.7 is installed"

# (b) A page for every exported name, documenting that name.
for sym in $symbols; do
  page=$mandir/man3/$sym.3
  real=$(readlink -f "$page" 2>/dev/null || true)
  if [ ! -L "$page" ] && [ ! -f "$page" ]; then
    not_ok "$sym.3 is installed (neither a page nor a link)"
  elif [ -z "$real" ] || [ ! -f "$real" ]; then
    not_ok "$sym.3 is installed (a dangling link: -> $(readlink "$page"))"
  elif [ "${real#"$mandir"/}" = "$real" ]; then
    not_ok "$sym.3 is installed (resolves outside the man directory: $real)"
  elif ! grep -q "^\.Nm $sym\( ,\)\{0,1\}\$" "$real"; then
    not_ok "$sym.3 is installed (${real##*/} has no .Nm $sym)"
  else
    ok "$sym.3 is installed (${real##*/})"
  fi
done

# (c) Every installed page and link renders, cleanly, in 80 columns.
pages=$(cd "$mandir" && find . \( -type f -o -type l \) -name '*.[1-9]' |
  sed 's|^\./||' | LC_ALL=C sort)
for rel in $pages; do
  LC_ALL=C MANWIDTH=80 man --warnings -l "$mandir/$rel" \
      >"$tmp/out" 2>"$tmp/err"
  rc=$?
  wide=$(awk 'length($0) > 80 { print NR ": " $0 }' "$tmp/out")
  if [ $rc -ne 0 ] || [ -s "$tmp/err" ] || [ ! -s "$tmp/out" ] ||
      [ -n "$wide" ]; then
    not_ok "$rel renders (exit $rc, $(wc -l <"$tmp/out") lines)"
    diag "$tmp/err"
    [ -n "$wide" ] && printf 'wider than 80 columns: %s\n' "$wide" |
      sed 's/^/# /'
  else
    ok "$rel renders with man -l in 80 columns, no warnings"
  fi
done

# (d) Every section-3 page has the sections of a library reference.
required='NAME
LIBRARY
SYNOPSIS
DESCRIPTION
RETURN VALUES
ERRORS
EXAMPLES
SEE ALSO'
for rel in $pages; do
  case $rel in man3/*) ;; *) continue ;; esac
  [ -L "$mandir/$rel" ] && continue     # a link: its page is checked
  missing=$(printf '%s\n' "$required" | while IFS= read -r sh; do
    grep -q "^\.Sh $sh\$" "$mandir/$rel" || printf '%s, ' "$sh"
  done)
  if [ -n "$missing" ]; then
    not_ok "$rel has every section (missing: ${missing%, })"
  else
    ok "$rel has every section"
  fi
done

echo "1..$n"
exit $fail
