#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmig's bash completion: `virt-vfmig complete -- WORD...` from the
# command tables (every command of `help`, a command's options not given
# yet, nothing where a value or an argument goes), and the completion
# script driving it as bash does.
#
# usage: test-cli-complete.sh VIRT_VFMIG COMPLETION_SCRIPT
set -uo pipefail

VFMIG=${1:?usage: test-cli-complete.sh VIRT_VFMIG COMPLETION_SCRIPT}
SCRIPT=${2:?usage: test-cli-complete.sh VIRT_VFMIG COMPLETION_SCRIPT}
. "$(dirname "$0")/cli-lib.sh"

# lines WANT...: stdout is exactly these lines, in this order
lines() { [ "$(cat "$tmp/out")" = "$(printf '%s\n' "$@")" ]; }

check "complete, nothing typed: commands" 0 "^device-info$" "" -- complete -- ""
"$VFMIG" help | sed -n 's/^    \([a-z][a-z-]*\)  .*/\1/p' > "$tmp/help"
result "complete, nothing typed: every command 'help' lists, in its order, and nothing else" \
    cmp -s "$tmp/help" "$tmp/out"
check "complete 'dev'" 0 "" "" -- complete -- dev
result "complete 'dev': the four device commands" \
    lines device-info device-qualify device-save device-restore
check "complete '--con': the global option" 0 "" "" -- complete -- --con
result "complete '--con': --connect" lines --connect
check "complete after -c URI: commands" 0 "" "" -- complete -- -c test:///default nodedev-l
result "complete after -c URI 'nodedev-l': nodedev-list" lines nodedev-list
check "complete -c's URI: nothing" 0 "" "" -- complete -- -c ""
result "complete -c's URI: nothing" lines ""
check "complete 'migrate --json --o'" 0 "" "" -- complete -- migrate dom uri --json --o
result "complete 'migrate ... --json --o': --on-failure, --overhead-ms" lines --on-failure --overhead-ms
check "complete 'migrate --json --j'" 0 "" "" -- complete -- migrate --json --j
result "complete 'migrate --json --j': nothing, --json is given" lines ""
check "complete a value: nothing" 0 "" "" -- complete -- migrate --timeout ""
result "complete 'migrate --timeout ': nothing (a value)" lines ""
check "complete an argument: nothing" 0 "" "" -- complete -- device-info 00
result "complete 'device-info 00': nothing (the shell's)" lines ""
check "complete an unknown command's options: nothing" 0 "" "" -- complete -- nosuch --
result "complete 'nosuch --': nothing" lines ""

# the script, as bash calls it
# shellcheck source=/dev/null
. "$SCRIPT"
comp() {   # comp WORD...: COMPREPLY for these words, the last completed
    COMP_WORDS=("$VFMIG" "$@")
    COMP_CWORD=$#
    COMPREPLY=()
    _virt_vfmig
    printf '%s\n' "${COMPREPLY[@]}" > "$tmp/out"
}
comp nodedev-c
result "the script: 'nodedev-c' completes to nodedev-compare" lines nodedev-compare
comp device-save --
result "the script: 'device-save --' lists its options" \
    grep -qx -- --precopy "$tmp/out"
comp device-save 0000:3b:00.2 ""
result "the script: an argument: no candidates (file names then)" lines ""
result "the script registers _virt_vfmig for virt-vfmig" \
    bash -c '. "$1"; complete -p virt-vfmig | grep -q "_virt_vfmig"' _ "$SCRIPT"

finish
