#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/hook.sh: vfmig's destination hook (vfmig-libvirt-hook, installed
# as hooks/qemu.d/50-vfmig) run by a real libvirtd 11.3 on the
# destination of plain `virsh migrate --live`.
#
# Two libvirt hosts "src" and "dst" (libvirt-hosts.sh); the hook of this
# build on dst only.  src's device B1 and dst's B2 on vfmig_testdev (8 MiB
# of state, pre-copy, multi-load), dst's B3 on plain vfio-pci.  A TCG
# domain with <hostdev managed='no'> on B1, user alias ua-vf0, and in its
# <metadata> a vfmig policy for ua-vf0 whose <vfmig:identity> is B1's
# (driver vfmig_testdev, its PCI ids, stream version, multi-load, state
# size), is defined and started on src.  Every migration is
#   virsh migrate --live --persistent --undefinesource DOMAIN
#       qemu+tcp://DST/system --migrateuri tcp://DST --xml DST.xml
# with DST.xml naming dst's device, whose address differs from B1's: the
# hook finds the device by the policy's alias in the rewritten XML.
#
# Refused, each by the hook on "migrate begin":
#   vfio-pci      dst's device B3 is on plain vfio-pci, not the source's
#                 migration driver
#   state-size    B2 holds 4 MiB of state, the source 8 MiB
#   multi-load    B2 loads one image only (multi_load 0) and the source
#                 sends several (multi-load='yes', pre-copy not off)
#   stream        the source's identity says stream version N+1, B2
#                 speaks N: vfmig_testdev's stream_version is a constant
#                 of the driver (read-only), so the source's side of the
#                 difference is its identity in the policy, changed on
#                 the running domain with `virsh metadata --live`
#   precopy       the policy requires pre-copy (<vfmig:precopy
#                 mode='required'/>, also set with `virsh metadata`) and
#                 B2 has pre-copy off
# For each: virsh migrate fails before any state moved (the time from the
# command's start to its exit is printed, against the 5 s goal, but not
# asserted: a stopwatch in a test fails on a slow machine, not on a slow
# hook; docs/benchmarks.rst has the figures); its error names
# the device (hostdev 'ua-vf0' and dst's address) and the reason, as the
# hook words them (the line the hook prints when run by hand on dst with
# the same XML is in virsh's error unchanged); the domain still runs on
# src; B1 never left RUNNING (polled through the attempt), neither device
# made an arc of its FSM (the driver's log), B1's digest is unchanged; dst
# has no domain, defined or running.
# Then, with B2 as the source's again, the migration is accepted: the
# domain runs on dst, B1 went through PRE_COPY and STOP_COPY, B2 through
# RESUMING to RUNNING, digests equal.
#
# On Debian's 6.12 the domain carries <qemu:override> enable-migration=on
# and the migrations --available-switchover-bandwidth (see libvirt.sh).
# vm-needs: testdev-ko
# vm-testdevs: 3

. "$VM_SRCDIR/lib.sh"
. "$VM_SRCDIR/libvirt-hosts.sh"

STATE_SIZE=8388608
OTHER_SIZE=4194304
DIRTY_RATE=2097152
DELAY_US=50000
SWITCH_BW=1024          # MiB/s, where QEMU counts all guest RAM dirty
REFUSE_S=5              # the issue's goal for a refusal
HOOK=$VM_BUILDDIR/src/tools/vfmig-libvirt-hook
NS=http://vfmig.org/xmlns/libvirt/domain/1.0
LVH_HOSTDEV_ALIAS=ua-vf0

tap_plan 12

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}
B3=${TESTDEVS[2]:-none}
MIG_OPTS=()
$LVH_NEED_EM && MIG_OPTS=(--available-switchover-bandwidth "$SWITCH_BW")

cleanup() { lvh_stop_all; }
trap cleanup EXIT

# ---------- devices, hosts, the hook ------------------------------------------------
if lvh_testdevs "$STATE_SIZE" "$DELAY_US" "$B1" "$B2" -- "$B3"; then
    result pass "set-up: $LVH_SETUP_MSG"
else
    result fail "set-up failed: $LVH_SETUP_MSG"
fi

ok=true
lvh_up2 src 1 dst 2 || ok=false
# the hook as meson installs it, in dst's hooks/qemu.d
if $ok && [ -x "$HOOK" ]; then
    lvh_install_hook dst "$HOOK" 50-vfmig > "$TMP/hook.err" 2>&1 || ok=false
else
    echo "no executable $HOOK" >> "$TMP/hook.err"
    ok=false
fi
hv=$(lvh_on dst /etc/libvirt/hooks/qemu.d/50-vfmig --version 2>> "$TMP/hook.err")
if $ok && [[ $hv == "50-vfmig (vfmig) "* ]]; then
    result pass "$LVH_UP_MSG; dst's hooks/qemu.d/50-vfmig is this build's hook: $hv"
else
    result fail "hosts and hook: $LVH_UP_MSG; 50-vfmig --version on dst: '$hv' $(tr '\n' ' ' < "$TMP/hook.err")"
    cat "$LVH_SHARE"/*.log 2> /dev/null | diag
fi

# ---------- the domain and its policy ---------------------------------------------------
SV=$(tdget "$B1" vfio_migration/stream_version)
ML=no
[ "$(tdget "$B1" vfio_migration/multi_load)" = 1 ] && ML=yes
# the policy's hostdev entry, without namespace (for virsh metadata)
# PRECOPY-MODE STREAM-VERSION
policy_entry() {
    cat <<EOF
<hostdev alias='$LVH_HOSTDEV_ALIAS'>
  <precopy mode='$1'/>
  <identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' stream-version='$2' multi-load='$ML' state-size='$STATE_SIZE'/>
</hostdev>
EOF
}
# written by hand, in the namespace, for virsh define
meta="<metadata>
<vfmig:migration xmlns:vfmig='$NS'>
$(policy_entry preferred "$SV" | sed 's/<\(\/\?\)/<\1vfmig:/g')
</vfmig:migration>
</metadata>"
lvh_domain_xml "$B1" "$meta" > "$LVH_SHARE/domain.xml"
lvh_vrun src define "$LVH_SHARE/domain.xml"
drc=$RC
lvh_vrun src start "$LVH_DOM"
src_rc=$RC
st=$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)
got=$(lvh_virsh src dumpxml --migratable "$LVH_DOM" 2> /dev/null |
      grep -c "<vfmig:identity driver=.vfmig_testdev. vendor=.0x1b36. device=.0x0005. stream-version=.$SV. multi-load=.$ML. state-size=.$STATE_SIZE./>")
alias_ok=$(lvh_virsh src dumpxml "$LVH_DOM" 2> /dev/null | grep -c "<alias name=.$LVH_HOSTDEV_ALIAS./>")
if [ "$drc" -eq 0 ] && [ "$src_rc" -eq 0 ] && [ "$st" = running ] && [ "$got" -eq 1 ] &&
   [ "$alias_ok" -ge 1 ] && [[ $SV =~ ^[1-9][0-9]*$ ]]; then
    result pass "domain $LVH_DOM running on src with hostdev '$LVH_HOSTDEV_ALIAS' on $B1 and a vfmig policy in <metadata> (identity vfmig_testdev 1b36:0005, stream version $SV, multi-load $ML, $STATE_SIZE bytes of state), kept in its migratable XML"
else
    result fail "domain on src: define exit $drc, start exit $src_rc, state '$st', policy identity in the migratable XML $got time(s), alias $alias_ok time(s), B1's stream version '$SV'"
    diag_run
    lvh_on src sh -c "tail -20 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | diag
fi

# set_policy PRECOPY-MODE STREAM-VERSION: the running domain's policy
set_policy() {
    lvh_vrun src metadata "$LVH_DOM" --uri "$NS" --key vfmig --live --config \
        --set "<migration>$(policy_entry "$1" "$2")</migration>"
    [ "$RC" -eq 0 ] || { diag "virsh metadata --set failed:"; diag_run; }
}

# ---------- refusals ------------------------------------------------------------------
# refusal NAME DST-BDF REASON WHAT: a migration toward DST-BDF refused by
# the hook with REASON (the hook's words) in virsh's error
REFUSED_TIMES=
HOOK_TIMES=
refusal() {
    local name=$1 bdf=$2 reason=$3 what=$4 want err st_src dev_st d_before d_after
    local dst_doms dst_pid t0 hrc hs line la goal bad=()
    d_before=$(tdget "$B1" vfmig_testdev/digest)
    lvh_mig_start "$name" src dst "$B1" "$bdf" "$bdf" ${MIG_OPTS[@]+"${MIG_OPTS[@]}"}
    lvh_mig_finish
    read -r la _ < /proc/loadavg
    REFUSED_TIMES+=" $name $MIG_S s (guest load $la);"
    err=$(grep -v '^$' "$TMP/mig-$name.err" | tr '\n' ' ')
    err=${err% }
    st_src=$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)
    dev_st=$(tdget "$B1" vfio_migration/state)
    d_after=$(tdget "$B1" vfmig_testdev/digest)
    dst_doms=$(lvh_virsh dst list --all --name 2>&1 | grep -v '^$' | tr '\n' ' ')
    dst_pid=$(lvh_on dst sh -c "ls /run/libvirt/qemu/$LVH_DOM.pid 2> /dev/null")
    want="vfmig: cannot migrate hostdev '$LVH_HOSTDEV_ALIAS' ($bdf on this host): $reason"
    # the hook by hand on dst, as libvirtd ran it, with the same XML: its
    # own time, and its line, which virsh's error must carry unchanged
    t0=$(now_us)
    lvh_on dst /etc/libvirt/hooks/qemu.d/50-vfmig "$LVH_DOM" migrate begin - \
        < "$LVH_SHARE/$name.xml" > "$TMP/hook-$name.out" 2> "$TMP/hook-$name.err"
    hrc=$?
    hs=$(secs $(( $(now_us) - t0 )))
    line=$(head -1 "$TMP/hook-$name.err")
    HOOK_TIMES+=" $name $hs s;"

    [ "$MIG_RC" -ne 0 ] && [ "$MIG_RC" -ne 124 ] || bad+=("virsh migrate exit $MIG_RC")
    goal="within"
    awk -v s="$MIG_S" -v m="$REFUSE_S" 'BEGIN { exit !(s < m) }' ||
        goal="NOT within"
    [[ $err == *"$want"* ]] || bad+=("the error does not say '$want'")
    [ "$hrc" -eq 1 ] && [ ! -s "$TMP/hook-$name.out" ] && [ "$(wc -l < "$TMP/hook-$name.err")" -eq 1 ] &&
        [[ $line == "$want"* ]] && [[ $err == *": $line"* ]] ||
        bad+=("the hook run by hand: exit $hrc, stdout '$(head -c 200 "$TMP/hook-$name.out")', stderr '$(tr '\n' ' ' < "$TMP/hook-$name.err")' (want exit 1, one line as in virsh's error)")
    [[ $err == *"$B1"* ]] && bad+=("the error names the source's address $B1")
    [ "$st_src" = running ] || bad+=("src '$st_src' (want running)")
    [ "$STATES" = RUNNING ] || bad+=("$B1 went through '$STATES' (want RUNNING only)")
    [ "$dev_st" = RUNNING ] || bad+=("$B1 now '$dev_st'")
    [ -z "$SENDER_ARCS$RECEIVER_ARCS" ] ||
        bad+=("the devices moved: $B1 '$SENDER_ARCS', $bdf '$RECEIVER_ARCS' (want no arc)")
    [[ $d_before =~ ^[0-9a-f]{64}$ ]] && [ "$d_before" = "$d_after" ] ||
        bad+=("$B1's digest before ${d_before:0:16}, after ${d_after:0:16}")
    [ -z "$dst_doms" ] || bad+=("dst has domains '$dst_doms'")
    [ -z "$dst_pid" ] || bad+=("dst has $dst_pid")
    if [ ${#bad[@]} -eq 0 ]; then
        result pass "$name: $what: refused in $MIG_S s ($goal the ${REFUSE_S} s goal; the hook by hand $hs s), virsh says: $err; the domain runs on src, $B1 stayed RUNNING with its digest ${d_after:0:16}..., neither device made an arc, dst has no domain"
    else
        result fail "$name: $what: $(printf '%s; ' "${bad[@]}")virsh: '$err'"
        lvh_on dst sh -c "tail -15 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | sed 's/^/dst qemu: /' | diag
    fi
}

# CPU time: the guest's (busy, all) in clock ticks, and a process's
cpu_guest() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
cpu_pid() { awk '{print $14 + $15}' "/proc/$1/stat" 2> /dev/null || echo 0; }

tdset "$B1" vfmig_testdev/dirty_rate 0
QPID=$(lvh_on src cat "/run/libvirt/qemu/$LVH_DOM.pid" 2> /dev/null)
read -r busy0 all0 < <(cpu_guest)
q0=$(cpu_pid "$QPID")

refusal vfio-pci "$B3" \
    "the device is bound to 'vfio-pci' and the source's VF to 'vfmig_testdev': a driver loads only its own state format" \
    "dst's device $B3 on plain vfio-pci"

tdset "$B2" vfmig_testdev/state_size "$OTHER_SIZE" || diag "cannot set $B2's state_size"
refusal state-size "$B2" \
    "the source's state is $STATE_SIZE bytes and this VF holds $OTHER_SIZE bytes" \
    "dst's device $B2 with $OTHER_SIZE bytes of state, the source's $STATE_SIZE"
tdset "$B2" vfmig_testdev/state_size "$STATE_SIZE" || diag "cannot set $B2's state_size back"

tdset "$B2" vfio_migration/multi_load 0 || diag "cannot set $B2's multi_load"
refusal multi-load "$B2" \
    "the source sends its state as several images (its identity says multi-load='yes' and pre-copy is not 'off'), and this VF loads only one image (no multi-load)" \
    "dst's device $B2 without multi-load, the source sending several images"
tdset "$B2" vfio_migration/multi_load 1 || diag "cannot set $B2's multi_load back"

set_policy preferred $((SV + 1))
refusal stream "$B2" \
    "the devices use different state stream versions (source $((SV + 1)), destination $SV)" \
    "the source's identity with stream version $((SV + 1)), dst's device $B2 speaking $SV"

set_policy required "$SV"
tdset "$B2" vfio_migration/precopy off || diag "cannot set $B2's precopy"
refusal precopy "$B2" \
    "the domain's policy requires pre-copy, and this VF cannot pre-copy (driver 'vfmig_testdev'" \
    "pre-copy required by the policy, dst's device $B2 with pre-copy off"
tdset "$B2" vfio_migration/precopy on || diag "cannot set $B2's precopy back"
set_policy preferred "$SV"

read -r busy1 all1 < <(cpu_guest)
q1=$(cpu_pid "$QPID")
diag "during the refusals the guest's CPUs were $(( (busy1 - busy0) * 100 / (all1 - all0 + 1) ))% busy, the domain's QEMU (pid ${QPID:-?}) took $(( (q1 - q0) * 100 / (all1 - all0 + 1) ))% of the guest's CPU time"
diag "refusal times on $(uname -r) (virsh migrate, from the command's start to its exit):$REFUSED_TIMES"
diag "the hook's own time, run by hand on dst with the same XML (nsenter included):$HOOK_TIMES"
ps -eo pid,time,pcpu,comm --sort=-time 2> /dev/null | head -8 | sed 's/^/the busiest processes of the guest: /' | diag

# ---------- accepted --------------------------------------------------------------------
tdset "$B1" vfmig_testdev/dirty_rate "$DIRTY_RATE"
lvh_mig_start accepted src dst "$B1" "$B2" "$B2" ${MIG_OPTS[@]+"${MIG_OPTS[@]}"}
lvh_mig_finish
lvh_mig_report
lvh_check_moved
lvh_check_states
lvh_check_digest

# ---------- the end ------------------------------------------------------------------------
lvh_end dst "$B1"
tap_end
