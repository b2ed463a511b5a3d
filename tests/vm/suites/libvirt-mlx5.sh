#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/libvirt-mlx5.sh: two real libvirt 11.3 hosts whose VFs are
# modelled ConnectX VFs: vfmig_mlx5model, the logic of vfmig's
# mlx5_vfio_pci over a software MODEL of the ConnectX firmware (the model
# stands for the firmware only: the driver, VFIO, QEMU 10, libvirt, the
# hook and virt-vfmigd are the real ones).
#
# Eight pci-testdevs, each in its own IOMMU group, on vfmig_mlx5model
# (4 MiB of VHCA state, pre-copy, multi-load): B1..B4 are src's VFs,
# B5..B8 dst's.  The hosts of libvirt-hosts.sh, each with vfmig's hook in
# hooks/qemu.d/50-vfmig and virt-vfmigd running.  Checked:
#  - node devices: libvirt's XML of a modelled VF names its driver; virt-vfmig
#    nodedev-dumpxml adds <capability type='vfio-migration'> from sysfs
#    (driver vfmig_mlx5model, a variant driver, stop-copy p2p pre-copy
#    multi-load, the firmware's identity, dirty tracking 'device' on 6.1,
#    where the driver offers the device's tracker, 'none' on 6.12);
#    nodedev-list --json lists the eight, nodedev-compare finds src's and
#    dst's VFs compatible;
#  - a domain with ONE modelled VF, prepared by `virt-vfmig domain-prepare`
#    (alias, policy with the VF's identity, and on 6.12 only
#    enable-migration=on: the kernel cannot report the tracker's pages),
#    running on src (machine pc-q35-10.0);
#    the hook, run by hand on dst with the XML virsh migrate sends,
#    accepts it; plain `virsh migrate --live` with the daemons moves it:
#    the sender went PRE_COPY -> STOP_COPY, the receiver RESUMING ->
#    RUNNING, the receiver's VHCA digest equals the sender's at stop;
#    src's daemon steered it (released or switched, then "migrated") and
#    the VF's held_stops stayed 0;
#  - the destination's firmware refuses a LOAD (the model's fault knob):
#    virsh migrate fails, the domain runs on with its VF RUNNING and its
#    state;
#  - a domain with FOUR modelled VFs, each with QEMU's
#    x-migration-multifd-transfer=on (its state must go over multifd
#    channels: QEMU 10's hw/vfio/migration-multifd.c refuses otherwise,
#    and needs machine >= 10.0, whose migration has send-switchover-start):
#    plain `virsh migrate --live` is refused with QEMU's "Multifd device
#    transfer requested but unsupported in the current config", the domain
#    runs on with its VFs' state; `virsh migrate --live --parallel
#    --parallel-connections 2` moves it: libvirt set multifd with two
#    channels, each VF went through its arcs, each digest moved;
#  - SIGTERM stops both daemons; no libvirtd or QEMU is left.
# On 6.12 the driver offers no dirty tracking (docs/kernel.rst): QEMU
# counts all guest RAM dirty, and every migration has
# --available-switchover-bandwidth, on both kernels alike.
# vm-needs: testdev-ko
# vm-testdevs: 8

. "$VM_SRCDIR/lib.sh"
. "$VM_SRCDIR/libvirt-hosts.sh"

STATE_SIZE=4194304
DIRTY_RATE=1048576
SWITCH_BW=1024          # MiB/s: QEMU counts all guest RAM dirty
TARGET_MS=2000
VFMIG=$VM_BUILDDIR/src/tools/virt-vfmig
HOOK=$VM_BUILDDIR/src/tools/50-vfmig
FW="mlx5-model fw 22.41.1000 psid MDL0000000001"
export VFMIG_CACHE_DIR=$LVH_SHARE/vfmig-cache

tap_plan 21

# the device's DMA dirty tracking: offered where the kernel can report
if [ "$(kernel_series)" = 6.1 ]; then
    TRACKED=true WANT_DIRTY=device WANT_EM=false EM_PER_VF=0
else
    TRACKED=false WANT_DIRTY=none WANT_EM=true EM_PER_VF=1
fi

find_testdevs
for i in 0 1 2 3 4 5 6 7; do
    declare "B$((i + 1))=${TESTDEVS[i]:-none}"
done
SRC4=$B1,$B2,$B3,$B4
DST4=$B5,$B6,$B7,$B8
nd() { echo "pci_$(echo "$1" | tr ':.' '__')"; }
log_since() { tail -n "+$(( $2 + 1 ))" "$TMP/vfmigd-$1.log"; }
log_lines() { wc -l < "$TMP/vfmigd-$1.log"; }
log_wait() {
    for _ in $(seq 300); do
        log_since "$1" "$2" | grep -q -- "$3" && return 0
        sleep 0.2
    done
    return 1
}
# vv HOST ARGS...: virt-vfmig on HOST (RC, $TMP/out, $TMP/err)
vv() { run nsenter -t "${LVH_PID[$1]}" -m -n -u -- "$VFMIG" -c qemu:///system "${@:2}"; }
# attr FILE ELEMENT ATTRIBUTE: the attribute of the first ELEMENT in FILE
attr() { sed -n "s/.*<$2 [^>]*\\b$3='\\([^']*\\)'.*/\\1/p" "$1" | head -1; }

cleanup() {
    lvh_stop_all
    [ -n "${VM_OUT:-}" ] && cp "$TMP"/vfmigd-*.log "$VM_OUT/" 2> /dev/null
}
trap cleanup EXIT

# ---------- eight modelled VFs, two hosts, hook and daemons ----------------------------------------
ok=true
lvh_mlx5vfs "$STATE_SIZE" "${TESTDEVS[@]:0:8}" || ok=false
groups=$(for b in "${TESTDEVS[@]:0:8}"; do readlink "/sys/bus/pci/devices/$b/iommu_group"; done |
         xargs -n1 basename 2> /dev/null | sort -u | wc -l)
if $ok && [ "${#TESTDEVS[@]}" -ge 8 ] && [ "$groups" -eq 8 ] && [ "$LVH_NEED_EM" = "$WANT_EM" ] &&
   [ "$(tdget "$B1" vfio_migration/firmware)" = "$FW" ]; then
    result pass "set-up: 8 modelled VFs in 8 IOMMU groups:$LVH_SETUP_MSG"
else
    result fail "set-up: ${#TESTDEVS[@]} pci-testdevs (want 8), $groups IOMMU groups (want 8), enable-migration needed: $LVH_NEED_EM (want $WANT_EM: dirty tracking $WANT_DIRTY on $(uname -r)):$LVH_SETUP_MSG"
fi

lvh_up2_check

lvh_hook_daemons_check "$HOOK"

# ---------- node devices ------------------------------------------------------------------
N1=$(nd "$B1")
lvh_virsh src nodedev-dumpxml "$N1" > "$TMP/virsh-n1.xml" 2>&1
vv src nodedev-dumpxml "$N1"
cp "$TMP/out" "$TMP/n1.xml"
got="driver=$(attr "$TMP/n1.xml" driver name) variant=$(attr "$TMP/n1.xml" driver variant) source=$(attr "$TMP/n1.xml" features source) features='$(sed -n "/<features /,/<\\/features>/s/^ *<\\([a-z][a-z0-9-]*\\)[ />].*/\\1/p" "$TMP/n1.xml" | grep -v '^features$' | tr '\n' ' ' | sed 's/ $//')' firmware='$(attr "$TMP/n1.xml" identity firmware)' dirty-tracking=$(attr "$TMP/n1.xml" dirty-tracking type)"
want="driver=vfmig_mlx5model variant=yes source=sysfs features='stop-copy p2p pre-copy multi-load' firmware='$FW' dirty-tracking=$WANT_DIRTY"
if grep -q '<name>vfmig_mlx5model</name>' "$TMP/virsh-n1.xml" && [ "$RC" -eq 0 ] &&
   [ "$(grep -c "<capability type='vfio-migration'>" "$TMP/n1.xml")" = 1 ] && [ "$got" = "$want" ]; then
    result pass "node device $N1: libvirt's XML names the driver vfmig_mlx5model; virt-vfmig nodedev-dumpxml adds <capability type='vfio-migration'>: $got"
else
    result fail "node device $N1: want libvirt's driver vfmig_mlx5model and $want; got $got (exit $RC)"
    diag < "$TMP/virsh-n1.xml"
    diag_run
fi

vv src nodedev-list --json
listed=$(python3 -c '
import json, sys
print(sum(1 for d in json.load(open(sys.argv[1]))
          if d.get("driver") == "vfmig_mlx5model" and d.get("source") == "sysfs"
          and "pre-copy" in (d.get("features") or []) and d.get("state") == "RUNNING"))' "$TMP/out" 2>&1)
lrc=$RC
vv src nodedev-compare "$N1" "$(nd "$B5")"
em_said=false
grep -q 'enable-migration=on' "$TMP/out" && em_said=true
if [ "$lrc" -eq 0 ] && [ "$listed" = 8 ] && [ "$RC" -eq 0 ] && grep -q '^Compatible' "$TMP/out" &&
   grep -q '^Pre-copy: on' "$TMP/out" && [ "$em_said" = "$WANT_EM" ]; then
    result pass "nodedev-list --json: $listed modelled VFs (vfmig_mlx5model, from sysfs, pre-copy, RUNNING); nodedev-compare $N1 $(nd "$B5"): $(head -1 "$TMP/out"), pre-copy on, $(grep '^QEMU' "$TMP/out" | head -1)"
else
    result fail "nodedev-list --json: exit $lrc, $listed vfmig_mlx5model devices (want 8); nodedev-compare exit $RC (want Compatible, pre-copy on, enable-migration=on said: $WANT_EM)"
    diag_run
fi

# what Nova is told: live_migratable where the VF tracks its DMA (6.1);
# on 6.12 not, with why and the downtime all-dirty RAM costs
vv src nodedev-nova-spec
spec=$(grep "\"address\": \"$B1\"" "$TMP/out" | head -1)
if $TRACKED; then want_lm='"live_migratable": "yes"'; else want_lm='"live_migratable": "no"'; fi
if [ "$RC" -eq 0 ] && [[ $spec == *"$want_lm"* ]] &&
   { $TRACKED || grep -q "GiB of guest RAM" "$TMP/out" "$TMP/err"; }; then
    result pass "nodedev-nova-spec on $(uname -r): $spec$($TRACKED || echo "; $(cat "$TMP/out" "$TMP/err" | grep -m1 'GiB of guest RAM' | cut -c1-200)")"
else
    result fail "nodedev-nova-spec on $(uname -r): exit $RC, '$spec' (want $want_lm$($TRACKED || echo ", and the least downtime per GiB of guest RAM"))"
    diag_run
fi

# ---------- one modelled VF, prepared by domain-prepare --------------------------------------
# prep_domain BDFS: the plain domain (no alias, policy or override)
# defined on src and prepared; PREP_XML its inactive XML; 0 or 1
prep_domain() {
    LVH_NEED_EM=false lvh_domain_xml "$1" > "$LVH_SHARE/domain.xml" &&
        lvh_virsh src define "$LVH_SHARE/domain.xml" > "$TMP/prep.out" 2> "$TMP/prep.err" &&
        nsenter -t "${LVH_PID[src]}" -m -n -u -- "$VFMIG" -c qemu:///system \
            domain-prepare "$LVH_DOM" --target-ms "$TARGET_MS" --on-failure best-effort \
            >> "$TMP/prep.out" 2>> "$TMP/prep.err"
    local rc=$?
    PREP_XML=$(lvh_virsh src dumpxml --inactive "$LVH_DOM" 2> /dev/null)
    return $rc
}
# prepared N: the prepared XML has N aliased hostdevs with the model's
# identity and, where the VFs have no dirty tracking, N enable-migration
# overrides (none where they have)
prepared() {
    local n=$1 i
    for (( i = 0; i < n; i++ )); do
        grep -q "<alias name='ua-vfmig-$i'/>" <<< "$PREP_XML" &&
            grep -q "<vfmig:hostdev alias=.ua-vfmig-$i.>" <<< "$PREP_XML" &&
            grep -q "<qemu:device alias='ua-vfmig-$i'>" <<< "$PREP_XML" || return 1
    done
    [ "$(grep -c "driver=.vfmig_mlx5model. vendor=.0x1b36. device=.0x0005." <<< "$PREP_XML")" -eq "$n" ] &&
        [ "$(grep -c "firmware=.$FW." <<< "$PREP_XML")" -eq "$n" ] &&
        [ "$(grep -c "name='enable-migration' type='string' value='on'" <<< "$PREP_XML")" -eq $(( n * EM_PER_VF )) ] &&
        grep -q "target-ms=.$TARGET_MS. on-failure=.best-effort." <<< "$PREP_XML"
}
# start_src: the domain started on src, running, on machine pc-q35-10.0
start_src() {
    lvh_vrun src start "$LVH_DOM"
    MACHINE=$(lvh_virsh src dumpxml "$LVH_DOM" 2> /dev/null | grep -o "machine='[^']*'" | head -1)
    [ "$RC" -eq 0 ] && [ "$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)" = running ] &&
        [ "$MACHINE" = "machine='pc-q35-10.0'" ]
}

if prep_domain "$B1" && prepared 1 && start_src; then
    result pass "virt-vfmig domain-prepare: alias ua-vfmig-0, the policy (target $TARGET_MS ms, best effort) with $B1's identity (vfmig_mlx5model, firmware '$FW'), $($TRACKED && echo "no enable-migration (the VF tracks its DMA)" || echo "enable-migration=on (no dirty tracking)"); running on src, $MACHINE"
else
    result fail "one VF: domain-prepare or start failed (start exit $RC, $MACHINE, want machine='pc-q35-10.0')"
    sed 's/^/prepare: /' "$TMP/prep.out" "$TMP/prep.err" | diag
    diag "$PREP_XML"
    diag_run
fi

# the hook by hand on dst, as libvirtd runs it on "migrate begin", with
# the XML virsh migrate sends (B5 for B1)
lvh_dst_xml src "$B5" > "$LVH_SHARE/hook-in.xml"
lvh_on dst /etc/libvirt/hooks/qemu.d/50-vfmig "$LVH_DOM" migrate begin - \
    < "$LVH_SHARE/hook-in.xml" > "$TMP/hook.out" 2> "$TMP/hook.err"
hrc=$?
if [ "$hrc" -eq 0 ] && grep -q "alias name='ua-vfmig-0'" "$LVH_SHARE/hook-in.xml" &&
   ! grep -q 'cannot migrate' "$TMP/hook.err"; then
    result pass "dst's hook accepts the domain with $B5 for ua-vfmig-0 (exit 0$([ -s "$TMP/hook.err" ] && echo ", '$(head -1 "$TMP/hook.err")'"))"
else
    result fail "dst's hook on the incoming XML: exit $hrc, '$(tr '\n' ' ' < "$TMP/hook.err")'"
fi

# steered HOST LOGSTART: HOST's virt-vfmigd steered MIG_NAME, released
# (or switched) and saw it migrated; the sender never stopped while held
steered() {
    local h=$1 log rel done_ stops
    log_wait "$h" "$2" ": migrated; downtime "
    log=$(log_since "$h" "$2" | grep "domain '$LVH_DOM'")
    rel=$(grep -m1 -E ": (released \(|switching:)" <<< "$log")
    done_=$(grep -m1 ": migrated; downtime " <<< "$log")
    stops=$(( $(tdget "$MIG_SENDER" vfio_migration/held_stops) - HELD_STOPS0 ))
    if grep -q "steering its migration: downtime target $TARGET_MS ms" <<< "$log" &&
       [ -n "$rel" ] && [ -n "$done_" ] && [ "$stops" -eq 0 ]; then
        result pass "$MIG_NAME: $h's virt-vfmigd steered it: ${rel#*: }; ${done_#*: }; $MIG_SENDER's held_stops +0"
    else
        result fail "$MIG_NAME: $h's virt-vfmigd: released '${rel:-never}', end '${done_:-none}', $MIG_SENDER left PRE_COPY while held $stops time(s) (want 0)"
        log_since "$h" "$2" | tail -30 | sed "s/^/vfmigd-$h: /" | diag
    fi
}

lvh_knob_set "$B1" dirty_rate "$DIRTY_RATE"
l0=$(log_lines src)
HELD_STOPS0=$(tdget "$B1" vfio_migration/held_stops)
lvh_mig_start m1 src dst "$B1" "$B5" "$B5" --available-switchover-bandwidth "$SWITCH_BW"
lvh_mig_finish
lvh_mig_report
lvh_check_moved
lvh_check_states
lvh_check_digest
steered src "$l0"

# ---------- the destination's firmware refuses a LOAD ----------------------------------------
d_before=$(lvh_knob "$B5" digest)
lvh_knob_set "$B1" fault "load bad_param"
armed=$(lvh_knob "$B1" fault)
lvh_mig_start loadfail dst src "$B5" "$B1" "$B1" --available-switchover-bandwidth "$SWITCH_BW"
lvh_mig_finish
sleep 1
st_dst=$(lvh_virsh dst domstate "$LVH_DOM" 2> /dev/null | head -1)
st_src=$(lvh_virsh src domstate "$LVH_DOM" 2>&1 | head -1)
dev_st=$(tdget "$B5" vfio_migration/state)
d_after=$(lvh_knob "$B5" digest)
failed=$(lvh_knob "$B1" commands | awk '$1 == "failed" {print $2}')
if [ "$armed" = "load bad_param" ] && [ "$MIG_RC" -ne 0 ] && [ "$MIG_RC" -ne 124 ] &&
   [ "$st_dst" = running ] && [[ $st_src == *"failed to get domain"* ]] &&
   [ "$dev_st" = RUNNING ] && [[ $d_before =~ ^[0-9a-f]{64}$ ]] && [ "$d_before" = "$d_after" ] &&
   [ "${failed:-0}" -ge 1 ]; then
    result pass "loadfail: $B1's firmware MODEL refused a LOAD (BAD_PARAM, $failed failed command(s)): virsh migrate failed after $MIG_S s ($(grep -v '^$' "$TMP/mig-loadfail.err" | head -1)); the domain runs on dst with $B5 RUNNING and its state (digest ${d_after:0:16}...)"
else
    result fail "loadfail: fault '$armed', migrate exit $MIG_RC; dst '$st_dst' (want running), src '$st_src' (want no domain); $B5 '$dev_st'; digest before ${d_before:0:16}, after ${d_after:0:16}; failed commands on $B1 '${failed:-?}'"
    lvh_on src sh -c "tail -15 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | sed 's/^/src qemu: /' | diag
fi
lvh_knob_set "$B1" fault none

# ---------- four modelled VFs over multifd ------------------------------------------------------
lvh_virsh dst destroy "$LVH_DOM" > /dev/null 2>&1
lvh_virsh dst undefine "$LVH_DOM" > /dev/null 2>&1
MFD="<qemu:property name='x-migration-multifd-transfer' type='string' value='on'/>"
# multifd_on: the prepared domain with MFD in each hostdev's override
multifd_on() {
    sed "s|^\( *\)<qemu:frontend>\$|&\n\1  $MFD|" <<< "$PREP_XML" \
        > "$LVH_SHARE/domain4.xml" &&
        lvh_virsh src define "$LVH_SHARE/domain4.xml" >> "$TMP/prep.out" 2>> "$TMP/prep.err" &&
        PREP_XML=$(lvh_virsh src dumpxml --inactive "$LVH_DOM" 2> /dev/null) &&
        [ "$(grep -c "name='x-migration-multifd-transfer' type='string' value='on'" <<< "$PREP_XML")" -eq 4 ]
}
if prep_domain "$SRC4" && prepared 4 && multifd_on && start_src; then
    result pass "a domain with four modelled VFs ($SRC4) prepared by domain-prepare (ua-vfmig-0..3, each with its identity$($TRACKED || echo " and enable-migration=on")), x-migration-multifd-transfer=on for each, running on src, $MACHINE"
else
    result fail "four VFs: domain-prepare or start failed (start exit $RC, $MACHINE)"
    sed 's/^/prepare: /' "$TMP/prep.out" "$TMP/prep.err" | diag
    diag "$PREP_XML"
    diag_run
    lvh_on src sh -c "tail -20 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | diag
fi

# without multifd: QEMU refuses the VFs' multifd transfer
digests() { local b; for b in "$@"; do lvh_knob "$b" digest; done | tr '\n' ' '; }
d_before=$(digests "$B1" "$B2" "$B3" "$B4")
lvh_mig_start nomfd src dst "$SRC4" "$DST4" "$DST4" --available-switchover-bandwidth "$SWITCH_BW"
lvh_mig_finish
sleep 1
want="Multifd device transfer requested but unsupported in the current config"
why=$({ cat "$TMP/mig-nomfd.err"; lvh_on src cat "/var/log/libvirt/qemu/$LVH_DOM.log"; lvh_on dst cat "/var/log/libvirt/qemu/$LVH_DOM.log"; } 2> /dev/null |
      grep -o "[^ ]*: $want" | head -1)
st_src=$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)
states=$(for b in "$B1" "$B2" "$B3" "$B4"; do tdget "$b" vfio_migration/state; done | sort -u | tr '\n' ' ')
d_after=$(digests "$B1" "$B2" "$B3" "$B4")
if [ "$MIG_RC" -ne 0 ] && [ "$MIG_RC" -ne 124 ] && [ -n "$why" ] && [ "$st_src" = running ] &&
   [ "$states" = "RUNNING " ] && [[ $d_before =~ ^([0-9a-f]{64}\ ){4}$ ]] && [ "$d_before" = "$d_after" ]; then
    result pass "nomfd: plain virsh migrate refused by QEMU ('$why', hw/vfio/migration-multifd.c) after $MIG_S s; the domain runs on src, its four VFs RUNNING with their state"
else
    result fail "nomfd: without --parallel: migrate exit $MIG_RC (want a failure), QEMU's refusal '${why:-not found}' (want '$want'), src '$st_src', VF states '$states', digests before '$d_before' after '$d_after'"
    sed 's/^/virsh: /' "$TMP/mig-nomfd.err" | diag
    lvh_on src sh -c "tail -8 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | sed 's/^/src qemu: /' | diag
    lvh_on dst sh -c "tail -8 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | sed 's/^/dst qemu: /' | diag
fi

for b in "$B1" "$B2" "$B3" "$B4"; do lvh_knob_set "$b" dirty_rate "$DIRTY_RATE"; done
ll0=$(lvh_log src | wc -l)
lvh_mig_start m4 src dst "$SRC4" "$DST4" "$DST4" --parallel --parallel-connections 2 \
    --available-switchover-bandwidth "$SWITCH_BW"
lvh_mig_finish
lvh_mig_report
lvh_check_moved
lvh_check_states
lvh_check_digest
mlog=$(lvh_log src | tail -n "+$(( ll0 + 1 ))")
caps=$(grep -o '"capability": *"multifd", *"state": *true' <<< "$mlog" | head -1)
chans=$(grep -o '"multifd-channels": *[0-9]*' <<< "$mlog" | head -1)
if [ -n "$caps" ] && [[ $chans =~ :\ *2$ ]]; then
    result pass "m4 ran over multifd: libvirt set $caps and $chans on src's QEMU, and the VFs' state, which QEMU must send over multifd (nomfd), moved"
else
    result fail "m4: no multifd with 2 channels in src's QEMU monitor traffic: capability '${caps:-none}', '${chans:-no multifd-channels}'"
fi

# ---------- the end -----------------------------------------------------------------------
ok=true
for h in src dst; do
    lvh_vfmigd_stop "$h"
    rc=$?
    [ "$rc" -eq 0 ] && tail -1 "$TMP/vfmigd-$h.log" | grep -q "virt-vfmigd: stopped" || ok=false
done
if $ok && [ "$(pgrep -c -x virt-vfmigd)" -eq 0 ]; then
    result pass "SIGTERM stopped both daemons (exit 0)"
else
    result fail "stopping the daemons: $(tail -1 "$TMP"/vfmigd-*.log | tr '\n' ' ')"
fi
lvh_end dst "$B5"
trap - EXIT
[ -n "${VM_OUT:-}" ] && cp "$TMP"/vfmigd-*.log "$VM_OUT/" 2> /dev/null
tap_end
