#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmig's debug output: --debug and VFMIG_DEBUG=1 write "vfmig: TIME
# FUNCTION: ..." lines on stderr (here the VFIO ioctls of device-info
# against fake trees, whose plain files answer ENOTTY), and nothing of the
# kind is written without them.  cli-lib.sh's check() wants a silent
# stderr on success, so these checks are their own.
set -uo pipefail

VFMIG=${1:?usage: test-cli-debug.sh PATH-TO-virt-vfmig}
. "$(dirname "$0")/cli-lib.sh"
unset VFMIG_DEBUG

# debug_check DESC WANT_RC WANT_LINES(yes|no) ERR_REGEX -- ARGS...
# Runs virt-vfmig; its stderr must match ERR_REGEX (when not empty) and
# hold debug lines exactly when WANT_LINES is yes.
debug_check() {
    local desc=$1 want_rc=$2 want_lines=$3 want_err=$4
    shift 5
    local rc=0 why=""
    "$VFMIG" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    n=$((n + 1))
    [ "$rc" = "$want_rc" ] || why="exit $rc, want $want_rc"
    if [ -z "$why" ] && [ -n "$want_err" ] && ! grep -Eq -- "$want_err" "$tmp/err"; then
        why="stderr does not match /$want_err/"
    fi
    if [ -z "$why" ] && [ "$want_lines" = yes ] &&
       ! grep -Eq '^vfmig: [0-9]+\.[0-9]{6} [A-Za-z_]+: ' "$tmp/err"; then
        why="no debug line on stderr"
    fi
    if [ -z "$why" ] && [ "$want_lines" = no ] && grep -q '^vfmig: ' "$tmp/err"; then
        why="debug lines without --debug or VFMIG_DEBUG"
    fi
    if [ -z "$why" ] && grep -q '^vfmig: ' "$tmp/out"; then
        why="debug lines on stdout"
    fi
    if [ -z "$why" ]; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc: $why"
        sed 's/^/# out: /' "$tmp/out"; sed 's/^/# err: /' "$tmp/err"
        fail=$((fail + 1))
    fi
}

# a device on vfio-pci (VFIO registered vfio0 for it) in IOMMU group 8,
# whose group and container are plain files
sys="$tmp/sys"; dev="$tmp/dev"
pdev="$sys/devices/pci0000:00/0000:00:04.0"
mkdir -p "$sys/bus/pci/devices" "$sys/bus/pci/drivers/vfio-pci" \
         "$sys/kernel/iommu_groups/8" "$pdev/vfio-dev/vfio0" "$dev/vfio"
ln -s "../../../devices/pci0000:00/0000:00:04.0" "$sys/bus/pci/devices/0000:00:04.0"
ln -s "../../../bus/pci/drivers/vfio-pci" "$pdev/driver"
ln -s "../../../kernel/iommu_groups/8" "$pdev/iommu_group"
: >"$dev/vfio/vfio"
: >"$dev/vfio/8"
export VFMIG_SYSFS_ROOT=$sys VFMIG_DEV_ROOT=$dev

ioctl='^vfmig: [0-9]+\.[0-9]{6} vfmigVFIOOpenGroup: device 0000:00:04\.0: ioctl\(fd [0-9]+, VFIO_GET_API_VERSION, no argument; version 0 expected\) = -1, errno 25 '
error='^vfmig: [0-9.]+ [A-Za-z]+: error \(.*vfmigvfio\.c:[0-9]+\): VFIO_GET_API_VERSION on container'

debug_check "--debug logs the VFIO ioctl, its argument, result and errno" 1 yes "$ioctl" -- --debug device-info 0000:00:04.0
debug_check "--debug logs the error with where it was reported" 1 yes "$error" -- --debug device-info 0000:00:04.0
VFMIG_DEBUG=1 debug_check "VFMIG_DEBUG=1 logs the VFIO ioctl" 1 yes "$ioctl" -- device-info 0000:00:04.0
debug_check "no debug lines without --debug" 1 no "VFIO_GET_API_VERSION on container" -- device-info 0000:00:04.0
VFMIG_DEBUG=0 debug_check "no debug lines with VFMIG_DEBUG=0" 1 no "VFIO_GET_API_VERSION on container" -- device-info 0000:00:04.0
unset VFMIG_SYSFS_ROOT VFMIG_DEV_ROOT

# a successful command: the debug lines are all its stderr has
debug_check "--debug on a command that succeeds" 0 yes "^vfmig: [0-9.]+ main: virt-vfmig [0-9.]+: command 'version'" -- --debug version --local
VFMIG_DEBUG=1 debug_check "VFMIG_DEBUG=1 on a command that succeeds" 0 yes "command 'version'" -- version --local
debug_check "a command that succeeds is silent without them" 0 no "" -- version --local
result "...and its stderr is empty" test ! -s "$tmp/err"
debug_check "--debug after the command is the command's option" 2 no "has no option --debug" -- version --local --debug

finish
