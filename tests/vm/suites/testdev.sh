#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/testdev.sh: vfmig_testdev, the software-state VFIO variant driver
# for QEMU's pci-testdev, through vfmig's VFIO client on a real kernel:
#   the module loads after the VFIO core and binds both pci-testdevs
#   (driver_override), its sysfs ABI (docs/abi/) is there with its
#   defaults, DMA logging offered only where the kernel can report it (6.1);
#   vm-testdev-fsm: every transition of every feature set;
#   vm-testdev-mig: migrations between the two devices (pre-copy on,
#     single, a destination without multi-load);
#   vm-testdev-faults: the data fd's semantics, fds closed mid-stream, bad
#     streams, injected arc failures, reset during PRE_COPY;
#   rmmod refused while a device is open, clean when none is, and the
#     devices bind again after a new insmod.
# vm-needs: testdev-ko
# vm-testdevs: 2

. "$VM_SRCDIR/lib.sh"
BIN=$VM_BUILDDIR/tests/vm
VIRT_VFMIG=$VM_BUILDDIR/src/tools/virt-vfmig
FSM_N=$("$BIN/vm-testdev-fsm" --plan)
MIG_N=$("$BIN/vm-testdev-mig" --plan)
FLT_N=$("$BIN/vm-testdev-faults" --plan)
STATE_SIZE=${VFMIG_VM_OPT_STATE_SIZE:-4194304}

tap_plan $((6 + FSM_N + 1 + 1 + MIG_N + 1 + FLT_N + 1 + 3))

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}

# ---------- load and bind ---------------------------------------------------------
if load_vfio && load_testdev && [ -d /sys/bus/pci/drivers/vfmig_testdev ]; then
    result pass "vfio, vfio_iommu_type1, vfio_pci_core loaded; insmod $(basename "$TESTDEV_KO") (built for $(uname -r))"
else
    RC=1; : > "$TMP/out"
    result fail "loading the VFIO core and $TESTDEV_KO failed"
    diag_run
fi

if bind vfmig_testdev "$B1" "$B2"; then
    result pass "both pci-testdevs bound to vfmig_testdev through driver_override, each with its own /dev/vfio group:$BIND_MSG"
else
    result fail "want both pci-testdevs bound to vfmig_testdev with /dev/vfio groups:$BIND_MSG"
fi

# ---------- the sysfs ABI ---------------------------------------------------------------
MIG_FILES="features state initial_bytes dirty_bytes stop_copy_bytes precopy multi_load stop_latency_us resume_latency_us stream_version"
TD_FILES="state_size p2p dirty_rate digest stop_delay_us resume_delay_us fault"
missing=
for b in "$B1" "$B2"; do
    for f in $MIG_FILES; do
        [ -r "/sys/bus/pci/devices/$b/vfio_migration/$f" ] || missing+=" $b/vfio_migration/$f"
    done
    # the model has no firmware: the optional file must be absent
    [ -e "/sys/bus/pci/devices/$b/vfio_migration/firmware" ] && missing+=" (unexpected $b/vfio_migration/firmware)"
    for f in $TD_FILES dirty_pages dma_dirty; do
        [ -e "/sys/bus/pci/devices/$b/vfmig_testdev/$f" ] || missing+=" $b/vfmig_testdev/$f"
    done
done
vals="stream_version=$(tdget "$B1" vfio_migration/stream_version) state=$(tdget "$B1" vfio_migration/state) precopy=$(tdget "$B1" vfio_migration/precopy) multi_load=$(tdget "$B1" vfio_migration/multi_load) initial_bytes=$(tdget "$B1" vfio_migration/initial_bytes) dirty_bytes=$(tdget "$B1" vfio_migration/dirty_bytes) state_size=$(tdget "$B1" vfmig_testdev/state_size) p2p=$(tdget "$B1" vfmig_testdev/p2p) fault=$(tdget "$B1" vfmig_testdev/fault)"
if [ -z "$missing" ] &&
   [ "$vals" = "stream_version=1 state=RUNNING precopy=on multi_load=1 initial_bytes=0 dirty_bytes=0 state_size=1048576 p2p=1 fault=none" ] &&
   [[ $(tdget "$B1" vfmig_testdev/digest) =~ ^[0-9a-f]{64}$ ]]; then
    result pass "sysfs ABI: every file of vfio_migration/ and vfmig_testdev/ on both devices; defaults $vals"
else
    result fail "sysfs ABI: missing:${missing:- none}; defaults $vals (want stream_version=1 state=RUNNING precopy=on multi_load=1 initial_bytes=0 dirty_bytes=0 state_size=1048576 p2p=1 fault=none), digest '$(tdget "$B1" vfmig_testdev/digest)'"
fi

# DMA logging: offered where the kernel can report it (6.1), not on
# Debian's 6.12 (no CONFIG_IOMMUFD_DRIVER: the report path is a stub).
feat=$(tdget "$B1" vfio_migration/features)
if grep -q '^CONFIG_IOMMUFD_DRIVER=y' "/boot/config-$(uname -r)" ||
   [ "$(kernel_series)" = 6.1 ]; then
    want="stop-copy p2p pre-copy dma-logging"
else
    want="stop-copy p2p pre-copy"
fi
if [ "$feat" = "$want" ]; then
    result pass "features on $(uname -r): '$feat'"
else
    result fail "features on $(uname -r): '$feat', want '$want'"
fi

# Bad writes: EINVAL and nothing changes; "not open" knobs are writable now.
bad=
for f in vfmig_testdev/state_size vfmig_testdev/dirty_rate vfmig_testdev/stop_delay_us \
         vfmig_testdev/p2p vfio_migration/multi_load; do
    before=$(tdget "$B1" "$f")
    err=$( { echo "banana" > "/sys/bus/pci/devices/$B1/$f"; } 2>&1 )
    err=${err##*: }
    after=$(tdget "$B1" "$f")
    [[ $err == *"Invalid argument"* ]] && [ "$before" = "$after" ] || bad+=" $f('$err', $before -> $after)"
done
for v in "off-ish" "fail-arc RUNNING NOWHERE"; do
    f=vfio_migration/precopy
    [ "$v" != off-ish ] && f=vfmig_testdev/fault
    err=$( { echo "$v" > "/sys/bus/pci/devices/$B1/$f"; } 2>&1 )
    [[ $err == *"Invalid argument"* ]] || bad+=" $f='$v'('$err')"
done
err=$( { echo 1 > "/sys/bus/pci/devices/$B1/vfmig_testdev/dirty_pages"; } 2>&1 )
if [ -z "$bad" ] && [ -z "$err" ]; then
    result pass "sysfs writes: garbage refused with EINVAL and nothing changed; dirty_pages accepted while RUNNING and not open"
else
    result fail "sysfs writes:${bad:- ok}; dirty_pages 1 while RUNNING: '${err:-accepted}'"
fi

run "$VIRT_VFMIG" device-info "$B1"
if [ $RC -eq 0 ] && [ "$(field Migration)" = stop-copy,p2p,pre-copy ] &&
   [ "$(field State)" = RUNNING ]; then
    result pass "virt-vfmig device-info $B1: migration $(field Migration), state $(field State), stop-copy size $(field 'Stop-copy size')"
else
    result fail "virt-vfmig device-info $B1: want exit 0, Migration stop-copy,p2p,pre-copy, State RUNNING"
    diag_run
fi

# ---------- the C programs ---------------------------------------------------------------
q0=$(tdget "$B1" vfmig_testdev/quiesced); u0=$(tdget "$B1" vfmig_testdev/unquiesced)
tap_include "$FSM_N" fsm "$BIN/vm-testdev-fsm" "$B1"
q1=$(tdget "$B1" vfmig_testdev/quiesced); u1=$(tdget "$B1" vfmig_testdev/unquiesced)
# the engine calls the backend on the P2P arcs (RUNNING <-> RUNNING_P2P,
# PRE_COPY <-> PRE_COPY_P2P), which the FSM program walks with p2p on
if [[ $q0$u0$q1$u1 =~ ^[0-9]+$ ]] && [ "$q1" -gt "$q0" ] && [ "$u1" -gt "$u0" ]; then
    result pass "the engine passed the P2P arcs to the backend: quiesced $q0 -> $q1, unquiesced $u0 -> $u1"
else
    result fail "P2P arcs not passed to the backend: quiesced '$q0' -> '$q1', unquiesced '$u0' -> '$u1'"
fi
tap_include "$MIG_N" mig "$BIN/vm-testdev-mig" --state-size "$STATE_SIZE" "$B1" "$B2"
tap_include "$FLT_N" faults "$BIN/vm-testdev-faults" "$B1" "$B2"

# ---------- module unload ----------------------------------------------------------------
coproc HOLD { exec "$BIN/vm-testdev-faults" --hold "$B1" 2>&1; }
read -r -t 30 held <&"${HOLD[0]}"
rmerr=$(rmmod vfmig_testdev 2>&1)
rmrc=$?
loaded=$([ -d /sys/module/vfmig_testdev ] && echo yes || echo no)
st=$(tdget "$B1" vfio_migration/state)
eval "exec ${HOLD[1]}>&-"
wait "$HOLD_PID" 2>/dev/null
if [ "${held:-}" = held ] && [ $rmrc -ne 0 ] && [ "$loaded" = yes ] && [ "$st" = RUNNING ]; then
    result pass "rmmod vfmig_testdev while $B1 is open: refused ($rmerr), module loaded, device $st"
else
    result fail "rmmod vfmig_testdev while $B1 is open: holder '${held:-nothing}', rmmod rc $rmrc ($rmerr), loaded $loaded, state '$st'"
fi

rmerr=$(rmmod vfmig_testdev 2>&1)
rmrc=$?
if [ $rmrc -eq 0 ] && [ ! -d /sys/module/vfmig_testdev ] &&
   [ ! -e "/sys/bus/pci/devices/$B1/driver" ] && [ ! -e "/sys/bus/pci/devices/$B1/vfio_migration" ]; then
    result pass "rmmod vfmig_testdev with no device open: unloaded, devices unbound, sysfs files gone"
else
    result fail "rmmod vfmig_testdev with no device open: rc $rmrc ($rmerr)"
fi

if load_testdev && bind vfmig_testdev "$B1" "$B2" &&
   [ "$(tdget "$B1" vfio_migration/state)" = RUNNING ]; then
    result pass "insmod again: both devices bound again:$BIND_MSG"
else
    result fail "insmod again and rebinding failed:${BIND_MSG:-} $(cat "$TMP/err" 2>/dev/null)"
fi
tap_end
