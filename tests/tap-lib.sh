# SPDX-License-Identifier: MIT
# tap-lib.sh NAME - sourced by the TAP scripts (deb-package.sh,
# musl-build.sh, subproject.sh, ...): a work directory $tmp
# (/tmp/NAME.XXXXXX, removed at exit unless KEEP=1), the counters n and
# fail, ok/not_ok/say/bail, the timing helpers now/secs, and copy_tree.
tmp=$(mktemp -d "/tmp/$1.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
  echo "# work directory: $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; fail=1; }
say() { sed 's/^/# /' "$@"; }
bail() { echo "Bail out! $*"; echo "1..$n"; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# copy_tree SRC DEST: copy the source tree SRC into DEST (which exists) as
# a user would get it, without build directories: for a git checkout the
# files git knows of, tracked or untracked, less what .gitignore ignores
# (the working tree as it is); otherwise the tree less .git, build*/,
# _build*/ and obj-*/ (debhelper's).  Sets how to the words that say which.
copy_tree() {
  if git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    how="git ls-files --cached --others --exclude-standard"
    # Files deleted in the working tree are still in the index: skip them.
    (cd "$1" && git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do
        if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
      done) | tar -C "$1" --null -T - -cf - | tar -C "$2" -xf -
  else
    how="the tree less .git, build*/, _build*/ and obj-*/"
    tar -C "$1" --exclude-vcs --exclude='./build*' --exclude='./_build*' \
      --exclude='./obj-*' -cf - . | tar -C "$2" -xf -
  fi
}
