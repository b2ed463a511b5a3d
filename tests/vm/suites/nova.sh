#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/nova.sh: hostdevs as Nova writes them, managed='yes', between two
# real libvirt 11.3 hosts whose VFs are modelled ConnectX VFs
# (vfmig_mlx5model: mlx5_vfio_pci's logic over a MODEL of the firmware),
# with vfmig's hook and virt-vfmigd on both.
#
# Four pci-testdevs, each in its own IOMMU group: B1, B2 are src's VFs,
# B3, B4 dst's.  They start on no driver, as a VF on its host driver
# (mlx5_core) is to libvirt; the model's module is installed in the
# guest's module tree as DKMS installs ours (its vfio_pci alias in
# modules.alias), and libvirt binds them itself.  Checked:
#  - the module tree: modprobe loads the model, modules.alias has one
#    vfio_pci alias for the pci-testdev;
#  - a managed='yes' domain prepared by `virt-vfmig domain-prepare` while
#    its VF is on no driver: a policy entry without identity and the note
#    that libvirt binds it to vfmig_mlx5model (by its alias); at start
#    libvirt binds B1 to it; prepared again while it runs, the identity is
#    read from the bound VF, and the domain restarted with it;
#  - a destination XML whose hostdev says <driver model='vfio-pci'/>: the
#    hook refuses before any state moved (libvirt would bind plain
#    vfio-pci, which cannot migrate), the domain runs on src with its VF's
#    state, and dst's VF was never bound;
#  - plain `virsh migrate --live` with the hook and the daemons: dst's
#    libvirt binds B3 to the model at Prepare, the states and the digest
#    move, src's daemon steered it, and libvirt handed B1 back (no driver,
#    no driver_override).
# On 6.12 the model offers no dirty tracking (docs/kernel.rst): the domain
# carries QEMU's enable-migration=on, which Nova does not write.
# vm-needs: testdev-ko
# vm-testdevs: 4

. "$VM_SRCDIR/lib.sh"
. "$VM_SRCDIR/libvirt-hosts.sh"

TARGET_MS=2000
SWITCH_BW=1024          # MiB/s
DIRTY_RATE=1048576
VFMIG=$VM_BUILDDIR/src/tools/virt-vfmig
HOOK=$VM_BUILDDIR/src/tools/50-vfmig
MODEL=vfmig_mlx5model
export VFMIG_CACHE_DIR=$LVH_SHARE/vfmig-cache

tap_plan 11

if [ "$(kernel_series)" = 6.1 ]; then TRACKED=true; else TRACKED=false; fi

find_testdevs
for i in 0 1 2 3; do
    declare "B$((i + 1))=${TESTDEVS[i]:-none}"
done
log_since() { tail -n "+$(( $2 + 1 ))" "$TMP/vfmigd-$1.log"; }
log_lines() { wc -l < "$TMP/vfmigd-$1.log"; }
log_wait() {
    for _ in $(seq 300); do
        log_since "$1" "$2" | grep -q -- "$3" && return 0
        sleep 0.2
    done
    return 1
}
# driver_override of BDF; "" when none ("(null)" in sysfs)
override() {
    local o
    o=$(tr -d '\n' < "/sys/bus/pci/devices/$1/driver_override" 2> /dev/null)
    [ "$o" = "(null)" ] || echo "$o"
}

cleanup() {
    lvh_stop_all
    [ -n "${VM_OUT:-}" ] && cp "$TMP"/vfmigd-*.log "$VM_OUT/" 2> /dev/null
}
trap cleanup EXIT

# ---------- the module tree, two hosts, hook and daemons -----------------------------------
groups=$(for b in "${TESTDEVS[@]:0:4}"; do readlink "/sys/bus/pci/devices/$b/iommu_group"; done |
         xargs -n1 basename 2> /dev/null | sort -u | wc -l)
if lvh_managed_model "${TESTDEVS[@]:0:4}" && [ "${#TESTDEVS[@]}" -ge 4 ] && [ "$groups" -eq 4 ]; then
    result pass "set-up: 4 pci-testdevs in 4 IOMMU groups; $LVH_SETUP_MSG"
else
    result fail "set-up: ${#TESTDEVS[@]} pci-testdevs (want 4), $groups IOMMU groups (want 4); $LVH_SETUP_MSG"
fi

if lvh_up2 src 1 dst 2; then
    result pass "$LVH_UP_MSG"
else
    result fail "two libvirt hosts: $LVH_UP_MSG"
    cat "$LVH_SHARE"/*.log 2> /dev/null | diag
fi

if lvh_hook_daemons "$HOOK"; then
    result pass "$LVH_SETUP_MSG"
else
    result fail "$LVH_SETUP_MSG"
fi

# ---------- managed='yes', prepared while the VF is on no driver -----------------------------
LVH_MANAGED=yes LVH_NEED_EM=$(! $TRACKED && echo true || echo false) \
    lvh_domain_xml "$B1" > "$LVH_SHARE/domain.xml"
lvh_virsh src define "$LVH_SHARE/domain.xml" > "$TMP/prep.out" 2> "$TMP/prep.err"
nsenter -t "${LVH_PID[src]}" -m -n -u -- "$VFMIG" -c qemu:///system \
    domain-prepare "$LVH_DOM" --target-ms "$TARGET_MS" --on-failure best-effort \
    >> "$TMP/prep.out" 2>> "$TMP/prep.err"
prc=$?
PREP_XML=$(lvh_virsh src dumpxml --inactive "$LVH_DOM" 2> /dev/null)
drv_before=$(lvh_driver "$B1")
note=$(cat "$TMP/prep.out" "$TMP/prep.err" | grep -o "libvirt binds it to '$MODEL' (its best vfio_pci alias in [^)]*)" | head -1)
if [ "$prc" -eq 0 ] && grep -q "managed='yes'" <<< "$PREP_XML" &&
   grep -q "<vfmig:hostdev alias=.ua-vfmig-0.>" <<< "$PREP_XML" &&
   ! grep -q "<vfmig:identity" <<< "$PREP_XML" && [ -n "$note" ] && [ "$drv_before" = none ]; then
    result pass "domain-prepare of a managed='yes' hostdev whose VF $B1 is on no driver: a policy entry for ua-vfmig-0 without an identity, and the note that $note, whose identity it reads once bound; $B1 still on no driver"
else
    result fail "domain-prepare (managed='yes', $B1 on '$drv_before'): exit $prc, note '${note:-none}' (want libvirt binds it to '$MODEL'), identity $(grep -c '<vfmig:identity' <<< "$PREP_XML") (want 0)"
    sed 's/^/prepare: /' "$TMP/prep.out" "$TMP/prep.err" | diag
    diag "$PREP_XML"
fi

lvh_vrun src start "$LVH_DOM"
drv=$(lvh_driver "$B1")
if [ "$RC" -eq 0 ] && [ "$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)" = running ] &&
   [ "$drv" = "$MODEL" ] && [ "$(override "$B1")" = "$MODEL" ] &&
   [ "$(tdget "$B1" vfio_migration/state)" = RUNNING ]; then
    result pass "started on src: libvirt bound $B1 to $drv (driver_override '$(override "$B1")'), the device RUNNING"
else
    result fail "start on src: exit $RC, $B1 on '$drv' (want $MODEL), driver_override '$(override "$B1")'"
    diag_run
    lvh_on src sh -c "tail -20 /var/log/libvirt/libvirtd.log" 2> /dev/null | sed 's/^/src libvirtd: /' | diag
fi

# again while it runs: the identity from the bound VF, for the next start
nsenter -t "${LVH_PID[src]}" -m -n -u -- "$VFMIG" -c qemu:///system \
    domain-prepare "$LVH_DOM" --target-ms "$TARGET_MS" --on-failure best-effort \
    > "$TMP/prep.out" 2> "$TMP/prep.err"
prc=$?
lvh_virsh src destroy "$LVH_DOM" > /dev/null 2>&1
lvh_vrun src start "$LVH_DOM"
LIVE_XML=$(lvh_virsh src dumpxml "$LVH_DOM" 2> /dev/null)
if [ "$prc" -eq 0 ] && [ "$RC" -eq 0 ] &&
   grep -q "driver=.$MODEL. vendor=.0x1b36. device=.0x0005." <<< "$LIVE_XML" &&
   [ "$(lvh_driver "$B1")" = "$MODEL" ]; then
    result pass "domain-prepare again while it ran: $B1's identity ($(grep -o '<vfmig:identity [^>]*' <<< "$LIVE_XML" | cut -c17-)) in the definition, running with it after a restart, $B1 bound by libvirt again"
else
    result fail "domain-prepare while running: exit $prc; restart exit $RC; identity in the live XML: $(grep -c '<vfmig:identity' <<< "$LIVE_XML") (want 1), $B1 on '$(lvh_driver "$B1")'"
    sed 's/^/prepare: /' "$TMP/prep.out" "$TMP/prep.err" | diag
    diag_run
fi
lvh_knob_set "$B1" dirty_rate "$DIRTY_RATE"

# ---------- a destination that would bind plain vfio-pci ------------------------------------
lvh_dst_xml src "$B3" |
    sed "s|^\( *\)<hostdev mode='subsystem' type='pci' managed='yes'>\$|&\n\1  <driver name='vfio' model='vfio-pci'/>|" \
    > "$LVH_SHARE/refuse.xml"
d_before=$(lvh_knob "$B1" digest)
lvh_vrun src migrate --live --persistent --undefinesource "$LVH_DOM" "$(lvh_uri dst)" \
    --migrateuri "tcp://$(lvh_addr dst)" --xml "$LVH_SHARE/refuse.xml"
st_src=$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)
st_dst=$(lvh_virsh dst domstate "$LVH_DOM" 2>&1 | head -1)
d_after=$(lvh_knob "$B1" digest)
why=$(grep -o "libvirt will bind it to 'vfio-pci'[^:]*" "$TMP/err" | head -1)
if grep -q "model='vfio-pci'" "$LVH_SHARE/refuse.xml" && [ "$RC" -ne 0 ] && [ -n "$why" ] &&
   [ "$st_src" = running ] && [[ $st_dst == *"failed to get domain"* ]] &&
   [ "$(tdget "$B1" vfio_migration/state)" = RUNNING ] && [ "$(lvh_driver "$B3")" = none ] &&
   [[ $d_before =~ ^[0-9a-f]{64}$ ]]; then
    result pass "a destination XML with <driver model='vfio-pci'/>: dst's hook refused it ('$why'), virsh migrate exit $RC; the domain runs on src with $B1 RUNNING, $B3 never bound"
else
    result fail "refusal: migrate exit $RC, hook's reason '${why:-none}', src '$st_src', dst '$st_dst', $B1 '$(tdget "$B1" vfio_migration/state)', $B3 on '$(lvh_driver "$B3")'"
    diag_run
fi

# ---------- plain virsh migrate: dst's libvirt binds B3 ---------------------------------------
l0=$(log_lines src)
lvh_mig_start m1 src dst "$B1" "$B3" "$B3" --available-switchover-bandwidth "$SWITCH_BW"
lvh_mig_finish
lvh_mig_report
lvh_check_moved
lvh_check_states
lvh_check_digest

log_wait src "$l0" ": migrated; downtime "
steer=$(log_since src "$l0" | grep "domain '$LVH_DOM'" | grep -m1 "steering its migration")
done_=$(log_since src "$l0" | grep "domain '$LVH_DOM'" | grep -m1 ": migrated; downtime ")
if [ -n "$steer" ] && [ -n "$done_" ] && [ "$(lvh_driver "$B1")" = none ] && [ -z "$(override "$B1")" ] &&
   [ "$(lvh_driver "$B3")" = "$MODEL" ]; then
    result pass "m1: src's virt-vfmigd ${steer#*: }; ${done_#*: }; libvirt bound $B3 to $MODEL on dst and handed $B1 back on src (no driver, no driver_override)"
else
    result fail "m1: src's daemon '${steer:-not steering}', '${done_:-no end}'; $B1 on '$(lvh_driver "$B1")' override '$(override "$B1")' (want none, ''), $B3 on '$(lvh_driver "$B3")' (want $MODEL)"
    log_since src "$l0" | tail -20 | sed 's/^/vfmigd-src: /' | diag
fi

# ---------- the end -----------------------------------------------------------------------
lvh_vfmigd_stop src; lvh_vfmigd_stop dst
lvh_virsh dst destroy "$LVH_DOM" > /dev/null 2>&1
lvh_virsh dst undefine "$LVH_DOM" > /dev/null 2>&1
trap - EXIT
cleanup
tap_end
