# SPDX-License-Identifier: LGPL-2.1-or-later
#
# cli-lib.sh: the TAP checks the virt-vfmig CLI tests share.  Sourced
# with VFMIG set to the binary under test (and CLI_NAME to its name where
# it is not virt-vfmig); gives $tmp (removed on exit), check, result,
# finish and asan_build.

export LC_ALL=C LANG=C
unset LIBVIRT_DEFAULT_URI

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
fail=0

. "$(dirname "${BASH_SOURCE[0]}")/asan-build.sh"

# check DESC WANT_RC WANT_OUT_REGEX WANT_ERR_REGEX -- ARGS...
check() {
    local desc=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local rc=0
    "$VFMIG" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    n=$((n + 1))
    local why=""
    [ "$rc" = "$want_rc" ] || why="exit $rc, want $want_rc"
    if [ -z "$why" ] && [ -n "$want_out" ] && ! grep -Eq -- "$want_out" "$tmp/out"; then
        why="stdout does not match /$want_out/"
    fi
    if [ -z "$why" ] && [ -n "$want_err" ] && ! grep -Eq -- "$want_err" "$tmp/err"; then
        why="stderr does not match /$want_err/"
    fi
    # every failure says something; success says nothing on stderr
    if [ -z "$why" ] && [ "$rc" != 0 ] && [ ! -s "$tmp/err" ]; then
        why="failed silently"
    fi
    if [ -z "$why" ] && [ "$rc" = 0 ] && [ -s "$tmp/err" ]; then
        why="succeeded but wrote to stderr"
    fi
    if [ -z "$why" ] && [ "$rc" = 2 ] && ! grep -q "Try '${CLI_NAME:-virt-vfmig} --help'" "$tmp/err"; then
        why="a usage error without the hint to use --help"
    fi
    if [ -z "$why" ]; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc: $why"
        sed 's/^/# out: /' "$tmp/out"; sed 's/^/# err: /' "$tmp/err"
        fail=$((fail + 1))
    fi
}

# result DESC COMMAND...: a check of the script's own
result() {
    local desc=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc"
        fail=$((fail + 1))
    fi
}

# the plan, and the exit status
finish() {
    echo "1..$n"
    [ "$fail" = 0 ]
}
