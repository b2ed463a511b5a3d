#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/vfio.sh: vfmig's VFIO client against plain vfio-pci, on every
# kernel: two pci-testdevs, the error for a device bound to no driver,
# binding to vfio-pci, the refusal of a device whose driver has no
# migration support, the usage errors of virt-vfmig and vm-roundtrip.
# vm-testdevs: 2

. "$VM_SRCDIR/lib.sh"
VIRT_VFMIG=$VM_BUILDDIR/src/tools/virt-vfmig
VM_ROUNDTRIP=$VM_BUILDDIR/tests/vm/vm-roundtrip

tap_plan 9

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}
if [ ${#TESTDEVS[@]} -ge 2 ]; then
    result pass "pci-testdev: functions 1b36:0005 at ${TESTDEVS[*]}"
else
    result fail "pci-testdev: want two functions 1b36:0005, found ${#TESTDEVS[@]}: ${TESTDEVS[*]}"
fi

run "$VIRT_VFMIG" device-info "$B1"
if [ $RC -eq 1 ] && grep -q '^error: ' "$TMP/err"; then
    result pass "virt-vfmig device-info $B1 (no driver bound): exit 1 with an error message"
else
    result fail "virt-vfmig device-info $B1 (no driver bound): want exit 1 and 'error: ...'"
    diag_run
fi

if load_vfio && [ -d /sys/bus/pci/drivers/vfio-pci ]; then
    result pass "vfio-pci: modules vfio, vfio_iommu_type1, vfio_pci_core and vfio-pci loaded"
else
    RC=1; : > "$TMP/out"
    result fail "vfio-pci: loading the VFIO modules failed"
    diag_run
fi

if bind vfio-pci "$B1" "$B2"; then
    result pass "vfio-pci: both pci-testdevs bound, each with its own /dev/vfio group:$BIND_MSG"
else
    result fail "vfio-pci: want both pci-testdevs bound with /dev/vfio groups:$BIND_MSG"
fi

run "$VIRT_VFMIG" device-info "$B1"
if [ $RC -eq 1 ] && grep -q '^error: .*does not support VFIO migration' "$TMP/err"; then
    result pass "virt-vfmig device-info $B1 (vfio-pci): exit 1, does not support VFIO migration"
else
    result fail "virt-vfmig device-info $B1 (vfio-pci): want exit 1 and 'error: ... does not support VFIO migration'"
    diag_run
fi

run "$VIRT_VFMIG" device-info
if [ $RC -eq 2 ]; then
    result pass "virt-vfmig device-info without a device: exit 2 (usage)"
else
    result fail "virt-vfmig device-info without a device: want exit 2"
    diag_run
fi

run "$VM_ROUNDTRIP"
if [ $RC -eq 2 ] && grep -q '^usage: ' "$TMP/err"; then
    result pass "vm-roundtrip without arguments: exit 2 with its usage"
else
    result fail "vm-roundtrip without arguments: want exit 2 and 'usage: ...'"
    diag_run
fi

run "$VM_ROUNDTRIP" "$B1" "$B1"
if [ $RC -eq 2 ]; then
    result pass "vm-roundtrip $B1 $B1 (the same device twice): exit 2"
else
    result fail "vm-roundtrip $B1 $B1 (the same device twice): want exit 2"
    diag_run
fi

run "$VM_ROUNDTRIP" "$B1" "$B2"
if [ $RC -eq 1 ] && grep -q '^error: .*does not support VFIO migration' "$TMP/err" &&
   ! grep -q '^ok' "$TMP/out"; then
    result pass "vm-roundtrip $B1 $B2 (vfio-pci): exit 1 before any state change, does not support VFIO migration"
else
    result fail "vm-roundtrip $B1 $B2 (vfio-pci): want exit 1 and 'error: ... does not support VFIO migration'"
    diag_run
fi

# leave the devices free for the suites after this one
for b in "${TESTDEVS[@]}"; do
    echo "$b" > "/sys/bus/pci/devices/$b/driver/unbind" 2>/dev/null
    echo > "/sys/bus/pci/devices/$b/driver_override" 2>/dev/null
done
tap_end
