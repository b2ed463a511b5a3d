# SPDX-License-Identifier: LGPL-2.1-or-later
#
# asan-build.sh: sourced by the CLI tests that put a memory bound on the
# binary under test.

# asan_build BINARY: whether BINARY is built with AddressSanitizer, which
# reserves terabytes of address space up front, so `ulimit -v` must not
# be applied to it.  ldd's output is taken whole: under pipefail,
# `ldd | grep -q` fails whenever grep stops reading first and ldd dies of
# SIGPIPE, which is how a CI run once applied the limit to an ASan build.
asan_build() {
    local libs
    libs=$(ldd "$1" 2>/dev/null) || true
    [[ $libs == *libasan* ]]
}
