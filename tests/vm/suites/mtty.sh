#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/mtty.sh: the kernel's own sample VFIO migration driver, mtty
# (samples/vfio-mdev/mtty.c, migration since Linux 6.7; built for the guest
# kernel from Debian's linux-source): two mdevs, device-info on both,
# vm-roundtrip between them (each of its checks becomes one of ours), the
# destination RUNNING afterwards.
# vm-needs: mtty-ko

. "$VM_SRCDIR/lib.sh"
VIRT_VFMIG=$VM_BUILDDIR/src/tools/virt-vfmig
VM_ROUNDTRIP=$VM_BUILDDIR/tests/vm/vm-roundtrip
RT_CHECKS=20            # vm-roundtrip with PRE_COPY (VM_RT_CHECKS_*)

tap_plan $((4 + RT_CHECKS + 1 + 1))

modprobe -a vfio vfio_iommu_type1 mdev > "$TMP/err" 2>&1 &&
    insmod "$MTTY_KO" >> "$TMP/err" 2>&1
RC=$?
if [ $RC -eq 0 ] && [ -d /sys/class/mdev_bus/mtty ]; then
    result pass "mtty: mdev and mtty.ko loaded, parent device mtty registered"
else
    : > "$TMP/out"
    result fail "mtty: loading mdev and $MTTY_KO failed"
    diag_run
fi

TYPES=/sys/class/mdev_bus/mtty/mdev_supported_types
U1=$(cat /proc/sys/kernel/random/uuid)
U2=$(cat /proc/sys/kernel/random/uuid)
made=0
msg=
for u in "$U1" "$U2"; do
    echo "$u" > "$TYPES/mtty-2/create" 2>/dev/null
    grp=$(basename "$(readlink "/sys/bus/mdev/devices/$u/iommu_group" 2>/dev/null)" 2>/dev/null)
    msg+=" $u: group ${grp:-none};"
    [ -n "$grp" ] && [ -c "/dev/vfio/$grp" ] && made=$((made + 1))
done
if [ $made -eq 2 ]; then
    result pass "mtty: two mtty-2 mdevs created, each with its own /dev/vfio group:${msg%;}"
else
    result fail "mtty: want two mtty-2 mdevs with /dev/vfio groups:${msg%;}"
fi

for u in "$U1" "$U2"; do
    run "$VIRT_VFMIG" device-info "$u"
    mig=$(field Migration)
    st=$(field State)
    sz=$(field 'Stop-copy size')
    if [ $RC -eq 0 ] && [ "$mig" = stop-copy,p2p,pre-copy ] &&
       [ "$st" = RUNNING ] && [[ $sz =~ ^[0-9]+\ bytes$ ]]; then
        result pass "virt-vfmig device-info $u (mtty): exit 0, migration $mig, state $st, stop-copy size $sz"
    else
        result fail "virt-vfmig device-info $u (mtty): want exit 0, Migration stop-copy,p2p,pre-copy, State RUNNING, a stop-copy size in bytes"
        diag_run
    fi
done

tap_include "$RT_CHECKS" roundtrip "$VM_ROUNDTRIP" "$U1" "$U2"

run "$VIRT_VFMIG" device-info "$U2"
if [ $RC -eq 0 ] && [ "$(field State)" = RUNNING ]; then
    result pass "virt-vfmig device-info $U2 after the round trip: State RUNNING (mtty has no digest to compare)"
else
    result fail "virt-vfmig device-info $U2 after the round trip: want exit 0 and State RUNNING"
    diag_run
fi
tap_end
