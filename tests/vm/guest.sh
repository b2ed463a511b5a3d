#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# guest.sh: PID 1 of the test guest (L1), after the initramfs of
# make-initramfs.sh has switch_rooted into the host's / (read-only 9p with
# a tmpfs overlay).  There is no systemd and no udev here.
#
# vm-test.sh shares a read-write directory with mount tag "out"; it holds
# config.sh (written by the host: VM_MODE, VIRT_VFMIG, VM_ROUNDTRIP,
# MTTY_KO, RT_CHECKS) and receives results.tap and dmesg.txt.
#
# The checks, in order:
#   vfio-pci (every kernel): two pci-testdevs, the error for a device bound
#     to no driver, binding to vfio-pci, the refusal of a device whose
#     driver has no migration support, the usage errors of both tools;
#   mtty (when MTTY_KO is set: kernels >= 6.7): the kernel's sample VFIO
#     migration driver, two mdevs, device-info on both, vm-roundtrip between
#     them (each of its checks becomes one of ours);
#   the kernel log has no warning, BUG or Oops.
# Each check prints "ok N - ..." or "not ok N - ..." and "#   T s"; the
# plan comes first, "# VFMIG-VM-END" last.  VM_MODE=demo shows the same
# run for people: headings, the commands and their output.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C LC_ALL=C

poweroff_now() {
    sync
    echo o > /proc/sysrq-trigger
    sleep 60
}
trap poweroff_now EXIT

fatal() {
    echo "VFMIG-VM-FATAL guest: $*"
    exit 1
}

# ---------- base system --------------------------------------------------------
mount -t tmpfs -o mode=0755 tmpfs /run || fatal "tmpfs on /run failed"
mkdir -p /run/lock /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
echo 1 > /proc/sys/kernel/sysrq

OUT=/run/vfmig-out
mkdir -p "$OUT"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out "$OUT" ||
    fatal "cannot mount the results share"
[ -r "$OUT/config.sh" ] || fatal "no config.sh in the results share"
VM_MODE=test VIRT_VFMIG='' VM_ROUNDTRIP='' MTTY_KO='' RT_CHECKS=''
# shellcheck source=/dev/null
. "$OUT/config.sh"
for v in VIRT_VFMIG VM_ROUNDTRIP; do
    [ -x "${!v}" ] || fatal "$v=${!v} is not an executable in the guest"
done
if [ -n "$MTTY_KO" ] && [ ! -r "$MTTY_KO" ]; then
    fatal "MTTY_KO=$MTTY_KO is not readable in the guest"
fi

echo "VFMIG-VM-GUEST-START uptime $(cut -d' ' -f1 /proc/uptime) s"
RES=$OUT/results.tap
TMP=/run/vfmig
mkdir -p "$TMP"
: > "$RES"

DEMO=false
[ "$VM_MODE" = demo ] && DEMO=true

# ---------- reporting -----------------------------------------------------------
N=0
FAILED=0
CHECK_T0=

now_us() { echo "${EPOCHREALTIME/./}"; }
secs() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }

# result line: to the console and to results.tap
emit() {
    printf '%s\n' "$*" >> "$RES"
    $DEMO || printf '%s\n' "$*"
}

start() { CHECK_T0=$(now_us); }

# the demo's line for a check: vm-roundtrip's checks with their own time
demo_result() {
    local text=$2
    if [[ $text == "roundtrip: "* ]]; then
        text=${text#roundtrip: }
        [ -n "${RESULT_TIME:-}" ] && text+="  [${RESULT_TIME% in vm-roundtrip}]"
    fi
    printf '  [%s] %s\n' "$1" "$text"
}

# pass|fail DESCRIPTION
result() {
    local verdict=$1
    shift
    local t=$(( $(now_us) - ${CHECK_T0:-$(now_us)} ))
    N=$((N + 1))
    if [ "$verdict" = pass ]; then
        emit "ok $N - $*"
        $DEMO && demo_result ok "$*"
    else
        FAILED=$((FAILED + 1))
        emit "not ok $N - $*"
        $DEMO && demo_result FAILED "$*"
    fi
    emit "#   ${RESULT_TIME:-$(secs $t) s}"
    start
}

# diagnostics: indented "# " lines; FILE or stdin
diag() {
    local line
    while IFS= read -r line; do
        emit "#     $line"
        $DEMO && printf '      %s\n' "$line"
    done < "${1:-/dev/stdin}"
}

heading() {
    emit "# --- $*"
    if $DEMO; then
        echo
        echo "=== $* ==="
        echo
    fi
}

say() { $DEMO && printf '%s\n' "$*"; return 0; }

# runs a command for a check: RC, $TMP/out, $TMP/err; the demo shows it
run() {
    local shown=()
    local a
    for a in "$@"; do shown+=("${a##*/}"); done
    timeout -k 5 120 "$@" > "$TMP/out" 2> "$TMP/err"
    RC=$?
    if $DEMO; then
        echo "  \$ ${shown[*]}"
        sed 's/^/    /' "$TMP/out" "$TMP/err"
        echo "    (exit status $RC)"
    fi
}

# shows the captured command output as diagnostics (on failures)
diag_run() {
    $DEMO && return 0
    echo "exit status $RC" | diag
    [ -s "$TMP/out" ] && sed 's/^/stdout: /' "$TMP/out" | diag
    [ -s "$TMP/err" ] && sed 's/^/stderr: /' "$TMP/err" | diag
    return 0
}

# value of "Key:   value" in $TMP/out
field() { sed -n "s/^$1: *//p" "$TMP/out" | head -1; }

# ---------- plan ------------------------------------------------------------------
PLAN=9
if [ -n "$MTTY_KO" ]; then
    PLAN=$((PLAN + 4 + RT_CHECKS + 2))
fi
PLAN=$((PLAN + 1))
emit "1..$PLAN"
emit "# kernel $(uname -r), guest script started at $(cut -d' ' -f1 /proc/uptime) s of uptime"
start

# ---------- vfio-pci: a device whose driver has no migration support -------------
if $DEMO; then
    echo
    echo "Guest: Linux $(uname -r) (Debian's own kernel), QEMU TCG, up for $(cut -d' ' -f1 /proc/uptime) s."
fi
heading "1. vfio-pci: a device whose driver cannot migrate"
say "QEMU's pci-testdev is a plain PCI device; bound to vfio-pci it can be"
say "passed to a VM, but vfio-pci has no migration support for it."

BDFS=()
for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor")" = 0x1b36 ] && [ "$(cat "$d/device")" = 0x0005 ] &&
        BDFS+=("${d##*/}")
done
B1=${BDFS[0]:-none}
B2=${BDFS[1]:-none}
if [ ${#BDFS[@]} -eq 2 ]; then
    result pass "pci-testdev: two functions 1b36:0005 at $B1 and $B2"
else
    result fail "pci-testdev: want two functions 1b36:0005, found ${#BDFS[@]}: ${BDFS[*]}"
fi

$DEMO && say "" && say "Bound to no driver at all, the device cannot even be opened:"
run "$VIRT_VFMIG" device-info "$B1"
if [ $RC -eq 1 ] && grep -q '^error: ' "$TMP/err"; then
    result pass "virt-vfmig device-info $B1 (no driver bound): exit 1 with an error message"
else
    result fail "virt-vfmig device-info $B1 (no driver bound): want exit 1 and 'error: ...'"
    diag_run
fi

modprobe -a vfio vfio_iommu_type1 vfio-pci > "$TMP/err" 2>&1
RC=$?
if [ $RC -eq 0 ] && [ -d /sys/bus/pci/drivers/vfio-pci ] && [ -c /dev/vfio/vfio ]; then
    result pass "vfio-pci: modules vfio, vfio_iommu_type1 and vfio-pci loaded"
else
    result fail "vfio-pci: loading vfio, vfio_iommu_type1 and vfio-pci failed"
    : > "$TMP/out"
    diag_run
fi

bound=0
msg=
for b in "${BDFS[@]}"; do
    echo vfio-pci > "/sys/bus/pci/devices/$b/driver_override" 2>/dev/null
    echo "$b" > /sys/bus/pci/drivers_probe 2>/dev/null
    drv=$(basename "$(readlink "/sys/bus/pci/devices/$b/driver" 2>/dev/null)" 2>/dev/null)
    grp=$(basename "$(readlink "/sys/bus/pci/devices/$b/iommu_group" 2>/dev/null)" 2>/dev/null)
    msg+=" $b: driver ${drv:-none}, group ${grp:-none};"
    [ "$drv" = vfio-pci ] && [ -n "$grp" ] && [ -c "/dev/vfio/$grp" ] &&
        bound=$((bound + 1))
done
if [ $bound -eq 2 ]; then
    result pass "vfio-pci: both pci-testdevs bound, each with its own /dev/vfio group:${msg%;}"
else
    result fail "vfio-pci: want both pci-testdevs bound with /dev/vfio groups:${msg%;}"
fi

$DEMO && say "" && say "On vfio-pci it opens, and vfmig reports why it cannot migrate:"
run "$VIRT_VFMIG" device-info "$B1"
if [ $RC -eq 1 ] && grep -q '^error: .*does not support VFIO migration' "$TMP/err"; then
    result pass "virt-vfmig device-info $B1 (vfio-pci): exit 1, does not support VFIO migration"
else
    result fail "virt-vfmig device-info $B1 (vfio-pci): want exit 1 and 'error: ... does not support VFIO migration'"
    diag_run
fi

$DEMO && say "" && say "Usage errors and a migration between the two pci-testdevs:"
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

# ---------- mtty: the kernel's sample VFIO migration driver --------------------------
if [ -n "$MTTY_KO" ]; then
    heading "2. mtty: the kernel's own sample VFIO migration driver"
    say "mtty (samples/vfio-mdev/mtty.c, built from Debian's linux-source for"
    say "this very kernel) is a software serial-port device that implements"
    say "the VFIO migration protocol v2 with STOP_COPY, P2P and PRE_COPY."
    say "vfmig's own test-device driver for pci-testdev comes later."

    modprobe -a vfio vfio_iommu_type1 mdev > "$TMP/err" 2>&1 &&
        insmod "$MTTY_KO" >> "$TMP/err" 2>&1
    RC=$?
    if [ $RC -eq 0 ] && [ -d /sys/class/mdev_bus/mtty ]; then
        result pass "mtty: mdev and mtty.ko loaded, parent device mtty registered"
    else
        result fail "mtty: loading mdev and $MTTY_KO failed"
        : > "$TMP/out"
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

    $DEMO && say "" && say "What vfmig reads from the kernel about the two devices:"
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

    heading "3. Moving the device state from one mtty device to the other"
    say "vm-roundtrip drives both devices through the kernel's VFIO migration"
    say "uAPI with vfmig's client: the source goes RUNNING -> PRE_COPY ->"
    say "STOP_COPY -> STOP, the destination RESUMING -> STOP -> RUNNING; then"
    say "the destination's driver must refuse a corrupted and a truncated stream."
    say ""
    say "  \$ vm-roundtrip $U1 $U2"
    rt0=$(now_us)
    timeout -k 5 120 "$VM_ROUNDTRIP" "$U1" "$U2" > "$TMP/rt.out" 2> "$TMP/rt.err"
    RTRC=$?
    emit "# vm-roundtrip ran for $(secs $(( $(now_us) - rt0 ))) s, exit status $RTRC"
    start
    rtplan=
    rtn=0
    rtbad=0
    pend=
    # A check line of vm-roundtrip is followed by its own timing line.
    flush() {
        [ -n "$pend" ] || return 0
        RESULT_TIME=${1:-} result "${pend%%|*}" "roundtrip: ${pend#*|}"
        pend=
    }
    while IFS= read -r line; do
        case "$line" in
            1..*)
                rtplan=${line#1..}
                ;;
            "ok "*|"not ok "*)
                flush
                rtn=$((rtn + 1))
                if [ "${line%% *}" = ok ] && [[ $line != *"# SKIP"* ]] &&
                   [ $rtn -le "$RT_CHECKS" ]; then
                    pend="pass|${line#* - }"
                else
                    rtbad=$((rtbad + 1))
                    pend="fail|${line#* - }"
                fi
                ;;
            "#   "*" ms")
                flush "${line#\#   } in vm-roundtrip"
                ;;
            "#"*)
                flush
                emit "$line"
                say "      ${line#\# }"
                ;;
            *)
                flush
                emit "# $line"
                say "      $line"
                ;;
        esac
    done < "$TMP/rt.out"
    flush
    [ -s "$TMP/rt.err" ] && sed 's/^/stderr: /' "$TMP/rt.err" | diag
    while [ $rtn -lt "$RT_CHECKS" ]; do
        rtn=$((rtn + 1))
        result fail "roundtrip: check $rtn of $RT_CHECKS did not run"
    done
    if [ $RTRC -eq 0 ] && [ "$rtplan" = "$RT_CHECKS" ] && [ $rtn -eq "$RT_CHECKS" ] &&
       [ $rtbad -eq 0 ]; then
        result pass "vm-roundtrip $U1 $U2: exit 0, all $RT_CHECKS planned checks ran and passed"
    else
        result fail "vm-roundtrip $U1 $U2: exit $RTRC, plan '${rtplan}' (want $RT_CHECKS), $rtn check lines, $rtbad failed"
    fi

    $DEMO && say "" && say "Afterwards the destination runs again, with the state it loaded (mtty gives no digest to compare; the unit tests' device model does):"
    run "$VIRT_VFMIG" device-info "$U2"
    if [ $RC -eq 0 ] && [ "$(field State)" = RUNNING ]; then
        result pass "virt-vfmig device-info $U2 after the round trip: State RUNNING"
    else
        result fail "virt-vfmig device-info $U2 after the round trip: want exit 0 and State RUNNING"
        diag_run
    fi
fi

# ---------- the kernel log ---------------------------------------------------------------
heading "The kernel log"
dmesg > "$OUT/dmesg.txt"
if grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection|hung_task|RIP:' "$OUT/dmesg.txt" > "$TMP/out"; then
    result fail "kernel log: warnings or oopses (dmesg.txt)"
    diag "$TMP/out"
else
    result pass "kernel log: no WARNING, BUG, Oops or call trace"
fi

if [ $N -ne "$PLAN" ]; then
    emit "# the plan said $PLAN checks, $N ran"
fi
emit "# $FAILED of $N checks failed, guest uptime $(cut -d' ' -f1 /proc/uptime) s"
emit "# VFMIG-VM-END"
if $DEMO; then
    echo
    if [ $FAILED -eq 0 ] && [ $N -eq "$PLAN" ]; then
        echo "All $N checks passed."
    else
        echo "$FAILED of $N checks FAILED."
    fi
fi
umount "$OUT" 2>/dev/null
exit 0
