#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmig's command line: exit codes, messages, help, and device-info
# against fake /sys and /dev trees (the real-kernel runs are in tests/vm).
set -uo pipefail

VFMIG=${1:?usage: test-cli.sh PATH-TO-virt-vfmig}
. "$(dirname "$0")/cli-lib.sh"

# --- global options and dispatch
check "no command is a usage error" 2 "" "error: no command given" --
check "--help lists the commands" 0 "device-info" "" -- --help
check "-h is --help" 0 "Usage: virt-vfmig" "" -- -h
check "--version prints the version" 0 "^[0-9]+\.[0-9]+\.[0-9]+$" "" -- --version
check "-V is --version" 0 "^[0-9]+\.[0-9]+\.[0-9]+$" "" -- -V
check "unknown global option" 2 "" "unknown option '--frobnicate'" -- --frobnicate
check "unknown short option" 2 "" "unknown option '-z'" -- -z
check "-c without a value" 2 "" "needs a value" -- -c
check "-c with an empty URI" 2 "" "non-empty URI" -- -c "" version
check "-c given twice" 2 "" "option -c given twice \('test:///default', then 'qemu:///system'\)" \
    -- -c test:///default -c qemu:///system version
# no -c: libvirt's default URI, resolved by libvirt as for virsh
LIBVIRT_DEFAULT_URI=test:///default check "no -c: \$LIBVIRT_DEFAULT_URI" 0 \
    "Running hypervisor: TEST [0-9]" "" -- version
LIBVIRT_DEFAULT_URI=bogus:///x check "no -c: a default URI libvirt cannot open" 1 "" \
    "^error: failed to connect to libvirt at its default URI \(LIBVIRT_DEFAULT_URI, else uri_default in libvirt.conf\): ." \
    -- version
check "unknown command" 2 "" "unknown command 'frobnicate'" -- frobnicate
check "usage errors point at --help" 2 "" "Try 'virt-vfmig --help'" -- frobnicate

# --- help
check "help lists the commands" 0 "device-info" "" -- help
check "help COMMAND describes it" 0 "SYNOPSIS" "" -- help device-info
check "help of an unknown command is a usage error" 2 "" "unknown command 'nope'" -- help nope
check "COMMAND --help describes it" 0 "virt-vfmig device-info <device>" "" -- device-info --help
check "COMMAND -h describes it" 0 "DESCRIPTION" "" -- device-info -h

# --- command option parsing
check "device-info needs a device" 2 "" "needs the argument <device>" -- device-info
check "device-info takes one device" 2 "" "unexpected argument 'b'" -- device-info a b
check "device-info has no --foo" 2 "" "has no option --foo" -- device-info --foo x
check "device-info --device twice" 2 "" "given twice" -- device-info --device a --device b
check "empty device name" 2 "" "non-empty value" -- device-info --device=

# --- version and the libvirt connection
check "version --local needs no libvirt" 0 "^vfmig [0-9]" "" -- version --local
check "version --local shows the libvirt library" 0 "Using libvirt library [0-9]+\.[0-9]+\.[0-9]+" "" -- version --local
check "version through the test driver" 0 "Running hypervisor: TEST [0-9]" "" -- -c test:///default version
check "a bad URI names the URI" 1 "" "failed to connect to libvirt at 'nosuchdriver:///x'" -- -c nosuchdriver:///x version
check "--connect= long form" 0 "Running hypervisor: TEST [0-9]" "" -- --connect=test:///default version

# --- device-info against fake trees (no VFIO here; tests/vm has the real ones)
sys="$tmp/sys"; dev="$tmp/dev"
mkdir -p "$sys/bus/pci/devices" "$sys/bus/pci/drivers/e1000e" "$sys/kernel/iommu_groups/7" "$dev/vfio"
mkdir -p "$sys/devices/pci0000:00/0000:00:03.0"
ln -s "../../../devices/pci0000:00/0000:00:03.0" "$sys/bus/pci/devices/0000:00:03.0"
ln -s "../../../bus/pci/drivers/e1000e" "$sys/devices/pci0000:00/0000:00:03.0/driver"
ln -s "../../../kernel/iommu_groups/7" "$sys/devices/pci0000:00/0000:00:03.0/iommu_group"
export VFMIG_SYSFS_ROOT=$sys VFMIG_DEV_ROOT=$dev
check "malformed address is a usage error naming it" 2 "" "'0000:zz:00.0' is not a PCI address \(the bus must be 2 hex digits.*expected DDDD:BB:SS.F" -- device-info 0000:zz:00.0
check "an address with junk after it is a usage error" 2 "" "'0000:00:03.0 ' is not a PCI address \(something follows" -- device-info "0000:00:03.0 "
check "neither an address nor a UUID is a usage error" 2 "" "'eth0' is neither a PCI address" -- device-info eth0
check "a newline in a bad device name is escaped" 2 "" "'0000:00:03.0\\\\nx'" -- device-info "$(printf '0000:00:03.0\nx')"
check "a short BDF means domain 0000" 1 "" "0000:00:03.0.*e1000e" -- device-info 00:03.0
check "device-info refuses -c naming another host" 2 "" "command 'device-info' reads this host's devices, but -c 'qemu\+ssh://h/system' names another host" -- -c qemu+ssh://h/system device-info 00:03.0
check "device-info -c a libvirt that is not there fails" 1 "" "failed to connect to libvirt at 'bogus:///x'" -- -c bogus:///x device-info 00:03.0
check "missing device" 1 "" "0000:00:09.0" -- device-info 0000:00:09.0
check "device bound to a non-VFIO driver" 1 "" "e1000e" -- device-info 0000:00:03.0
unset VFMIG_SYSFS_ROOT VFMIG_DEV_ROOT

# --json: every failure after the command line was read is one object on
# standard output, {"error": MESSAGE}, besides the error on stderr
json_error() {   # DESC ARGS...: exit 1, stdout one JSON object with "error"
    local desc=$1
    shift
    check "$desc: exit 1, the error on stderr" 1 "" "^error: " -- "$@"
    result "$desc: one JSON object with the error on stdout" \
        python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if isinstance(o, dict) and list(o) == ["error"] and o["error"] else 1)' "$tmp/out"
}
export VFMIG_SYSFS_ROOT=$tmp/nosys
json_error "device-qualify --json, no such device" device-qualify 0000:00:09.0 --json
json_error "device-save --json, no such device" device-save 0000:00:09.0 "$tmp/x.state" --json
json_error "nodedev-compare --json, no such file" nodedev-compare "$tmp/none.xml" 0000:00:09.0 --json
unset VFMIG_SYSFS_ROOT

finish
