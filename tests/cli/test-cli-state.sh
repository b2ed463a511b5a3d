#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmig's device state commands (device-qualify, device-save,
# device-restore) without root or devices: usage errors and their exit
# status 2, files that exist or are missing, devices that do not exist,
# are not bound to a VFIO driver or are in use, against a fake sysfs tree.
# Real devices on real kernels: tests/vm (suite engine).
set -uo pipefail

VFMIG=${1:?usage: test-cli-state.sh PATH-TO-virt-vfmig}
. "$(dirname "$0")/cli-lib.sh"

# --- help and the command list
check "--help lists the device state commands" 0 "device-qualify .*device-save|Device state commands" "" -- --help
check "--help lists device-restore" 0 "device-restore +load a device's state from a file" "" -- --help
check "device-qualify --help" 0 "virt-vfmig device-qualify <device> \[--peer <string>\] \[--target-ms <string>\] \[--timeout <string>\] \[--json\] \[--no-record\]" "" -- device-qualify --help
check "device-qualify --help explains --no-record" 0 "--no-record +do not keep the measured figures in the device's qualification record" "" -- device-qualify --help
check "device-save --help" 0 "virt-vfmig device-save <device> <file> \[--precopy <string>\]" "" -- device-save --help
check "device-restore --help" 0 "virt-vfmig device-restore <device> <file> \[--stopped\] \[--json\]" "" -- help device-restore

# --- usage errors: exit status 2, before anything is touched
check "device-qualify needs a device" 2 "" "command 'device-qualify' needs the argument <device>" -- device-qualify
check "device-save needs a device" 2 "" "command 'device-save' needs the argument <device>" -- device-save
check "device-save needs a file" 2 "" "command 'device-save' needs the argument <file>" -- device-save 0000:00:03.0
check "device-restore needs a file" 2 "" "command 'device-restore' needs the argument <file>" -- device-restore 0000:00:03.0
check "device-restore takes one file" 2 "" "unexpected argument 'c'" -- device-restore a b c
check "device-qualify --peer needs a value" 2 "" "option --peer needs a value" -- device-qualify 0000:00:03.0 --peer
check "device-qualify has no --precopy" 2 "" "has no option --precopy" -- device-qualify 0000:00:03.0 --precopy on
check "device-restore has no --target-ms" 2 "" "has no option --target-ms" -- device-restore a b --target-ms 5
check "device-save --precopy with a bad value" 2 "" "option --precopy wants auto, on or off, not 'sometimes'" -- device-save 0000:00:03.0 "$tmp/x" --precopy sometimes
check "device-save --precopy= empty" 2 "" "needs a non-empty value" -- device-save 0000:00:03.0 "$tmp/x" --precopy=
check "device-qualify --target-ms 0" 2 "" "option --target-ms wants a whole number from 1 to 2000000, not '0'" -- device-qualify 0000:00:03.0 --target-ms 0
check "device-qualify --target-ms not a number" 2 "" "option --target-ms wants a whole number from 1 to 2000000, not '5ms'" -- device-qualify 0000:00:03.0 --target-ms 5ms
check "device-qualify --target-ms too large" 2 "" "not '2000001'" -- device-qualify 0000:00:03.0 --target-ms 2000001
check "device-save --target-ms negative" 2 "" "option --target-ms wants a whole number from 1 to 2000000, not '-1'" -- device-save 0000:00:03.0 "$tmp/x" --target-ms -1
check "device-qualify --timeout not a number" 2 "" "option --timeout wants a whole number from 1 to 86400, not 'soon'" -- device-qualify 0000:00:03.0 --timeout soon
check "device-save --timeout 0" 2 "" "option --timeout wants a whole number from 1 to 86400, not '0'" -- device-save 0000:00:03.0 "$tmp/x" --timeout 0
result "usage errors created no file" test ! -e "$tmp/x"

# --- files
echo "precious" > "$tmp/exists"
check "device-save refuses a FILE that exists" 1 "" "'$tmp/exists' exists: device-save never overwrites a file" -- device-save 0000:00:03.0 "$tmp/exists"
result "the FILE that existed is unchanged" test "$(cat "$tmp/exists")" = precious
result "a refused FILE leaves no temporary file beside it" bash -c "! ls -a '$tmp' | grep -q '^\.exists\.vfmig-'"
check "device-save into a missing directory" 1 "" "cannot create a temporary file beside '$tmp/nodir/state': No such file or directory" -- device-save 0000:00:03.0 "$tmp/nodir/state"
check "device-restore of a missing FILE" 1 "" "cannot open '$tmp/missing': No such file or directory" -- device-restore 0000:00:03.0 "$tmp/missing"

# --- devices, against a fake tree
sys=$tmp/sys
dev=$tmp/dev
mkdir -p "$sys/bus/pci/devices" "$dev/vfio" "$tmp/proc"
pci() {   # pci ADDR VENDOR DEVICE DRIVER GROUP ENABLE
    local d=$sys/devices/pci0000:00/$1
    mkdir -p "$d"
    ln -s "../../../devices/pci0000:00/$1" "$sys/bus/pci/devices/$1"
    echo "$2" > "$d/vendor"; echo "$3" > "$d/device"; echo "$6" > "$d/enable"
    mkdir -p "$sys/bus/pci/drivers/$4"
    ln -s "../../../bus/pci/drivers/$4" "$d/driver"
    # what VFIO registers for a device its driver binds
    case $4 in *vfio*) mkdir -p "$d/vfio-dev/vfio$5";; esac
    mkdir -p "$sys/kernel/iommu_groups/$5"
    ln -s "../../../kernel/iommu_groups/$5" "$d/iommu_group"
}
abi() {   # abi ADDR STATE N (a VFIO variant driver: vfio-dev/vfioN)
    local d=$sys/devices/pci0000:00/$1/vfio_migration
    mkdir -p "$d" "$sys/devices/pci0000:00/$1/vfio-dev/vfio$3"
    echo "stop-copy p2p pre-copy" > "$d/features"; echo on > "$d/precopy"
    echo 1 > "$d/multi_load"; echo "$2" > "$d/state"; echo 1 > "$d/stream_version"
    for f in initial_bytes dirty_bytes stop_latency_us resume_latency_us; do echo 0 > "$d/$f"; done
    echo 4096 > "$d/stop_copy_bytes"
}
pci 0000:00:03.0 0x8086 0x10d3 e1000e 3 1
pci 0000:00:04.0 0x1b36 0x0005 vfio-pci 4 1
pci 0000:00:05.0 0x1b36 0x0005 vfmig_testdev 5 0
abi 0000:00:05.0 PRE_COPY 0
pci 0000:00:06.0 0x1b36 0x0005 vfmig_testdev 6 0
abi 0000:00:06.0 RUNNING 1
export VFMIG_SYSFS_ROOT=$sys VFMIG_DEV_ROOT=$dev VFMIG_PROC_ROOT=$tmp/proc VFMIG_CACHE_DIR=$tmp/cache

check "device-qualify of a malformed address is a usage error" 2 "" "'0000:zz:00.0' is not a PCI address \(the bus must be 2 hex digits" -- device-qualify 0000:zz:00.0
check "device-qualify with a malformed --peer is a usage error" 2 "" "'0000:00:06.9' is not a PCI address \(the function is above 7\)" -- device-qualify 0000:00:06.0 --peer 0000:00:06.9
check "device-save of a malformed address is a usage error" 2 "" "'0000:00:03.0x' is not a PCI address \(something follows the function\)" -- device-save 0000:00:03.0x "$tmp/new"
check "device-restore of a malformed address is a usage error" 2 "" "'eth0' is neither a PCI address" -- device-restore eth0 "$tmp/exists"
check "device-qualify of a short BDF means domain 0000" 1 "" "0000:00:09.0" -- device-qualify 00:09.0
check "device-qualify refuses -c naming another host" 2 "" "command 'device-qualify' reads this host's devices, but -c 'qemu\+ssh://elsewhere/system' names another host" -- -c qemu+ssh://elsewhere/system device-qualify 0000:00:06.0
check "device-save refuses -c naming another host" 2 "" "command 'device-save' reads this host's devices, but -c 'qemu\+tcp://10.0.0.2/system'" -- --connect=qemu+tcp://10.0.0.2/system device-save 0000:00:06.0 "$tmp/new"
check "device-restore -c a libvirt that is not there fails" 1 "" "failed to connect to libvirt at 'bogus:///x'" -- -c bogus:///x device-restore 0000:00:06.0 "$tmp/exists"
check "device-qualify of a device that does not exist" 1 "" "0000:00:09.0" -- device-qualify 0000:00:09.0
check "device-restore onto a device that does not exist" 1 "" "0000:00:09.0" -- device-restore 0000:00:09.0 "$tmp/exists"
check "device-save of a device that does not exist" 1 "" "0000:00:09.0" -- device-save 0000:00:09.0 "$tmp/new"
result "device-save of a missing device leaves no file behind" test ! -e "$tmp/new"
no_temp() { ! ls -a "$tmp" | grep "^\.$1\.vfmig-" >/dev/null; }
result "device-save of a missing device leaves no temporary file behind" no_temp new
check "device-qualify of a device on a non-VFIO driver" 1 "" "e1000e" -- device-qualify 0000:00:03.0
check "device-qualify of a device a VFIO user has open" 1 "" "device '0000:00:04.0' is in use \(the PCI function is enabled" -- device-qualify 0000:00:04.0
check "device-save of a device in a migration state" 1 "" "device '0000:00:05.0' is in use \(the driver reports migration state PRE_COPY\)" -- device-save 0000:00:05.0 "$tmp/new"
result "device-save of a busy device leaves no file behind" test ! -e "$tmp/new"
result "device-save of a busy device leaves no temporary file behind" no_temp new
check "device-restore onto a device in use" 1 "" "device '0000:00:04.0' is in use" -- device-restore 0000:00:04.0 "$tmp/exists"
check "device-qualify with a busy peer" 1 "" "device '0000:00:05.0' is in use" -- device-qualify 0000:00:06.0 --peer 0000:00:05.0
check "device-qualify with the device as its own peer" 2 "" "the peer '0000:00:06.0' is the device itself" -- device-qualify 0000:00:06.0 --peer 0000:00:06.0
check "device-qualify with the device as its own peer, by its short BDF" 2 "" "the peer '00:06.0' is the device itself" -- device-qualify 0000:00:06.0 --peer 00:06.0
check "device-qualify of an idle device without its VFIO group" 1 "" "0000:00:06.0" -- device-qualify 0000:00:06.0
check "device-qualify --no-record of an idle device without its VFIO group" 1 "" "0000:00:06.0" -- device-qualify 0000:00:06.0 --no-record
no_record() { [ ! -e "$tmp/cache/0000:00:06.0.qualified.xml" ] && ! ls -A "$tmp/cache" 2>/dev/null | grep qualified >/dev/null; }
result "a qualification that never ran records nothing" no_record
unset VFMIG_SYSFS_ROOT VFMIG_DEV_ROOT VFMIG_PROC_ROOT VFMIG_CACHE_DIR

finish
