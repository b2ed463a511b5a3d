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
#    no driver_override);
#  - Nova's calls (tests/vm/nova-client.py): n1 migrateToURI3 with Nova's
#    flags and XML rewrite, its first downtime step (50 ms) undone by the
#    daemon at its next read; n2 the completion timeout with abort and n3
#    with force_complete while the daemon holds (n2: the domain stays on
#    src with its VF, the limit left is not the daemon's hold; n3: the
#    guest paused, released at once, migrated); n4 a
#    destination refused by the hook (the policy names another driver);
#    n5 a domain as Nova defines it, whose policy comes from the hosts'
#    default policy (virt-vfmigd --host-policy) only.
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

tap_plan 25

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
    [ -n "${VM_OUT:-}" ] && cp "$TMP"/vfmigd-*.log "$LVH_SHARE"/nova-*.jsonl "$TMP"/mig-n*.out "$VM_OUT/" 2> /dev/null
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

lvh_up2_check

lvh_hook_daemons_check "$HOOK"

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

# ---------- Nova's calls: tests/vm/nova-client.py ------------------------------------------------
NOVA=$VM_SRCDIR/nova-client.py
# nova_start NAME FROM TO SENDER RECEIVER ARGS...: the Nova-like client on
# FROM migrating the domain to TO (SENDER's address rewritten to
# RECEIVER's), as lvh_mig_start does with virsh; its passes in
# $LVH_SHARE/nova-NAME.jsonl, its report in $TMP/mig-NAME.out
nova_start() {
    local name=$1 from=$2 to=$3 snd=$4 rcv=$5
    shift 5
    lvh_mig_start_cmd "$name" "$from" "$to" "$snd" "$rcv" "$rcv" \
        /usr/bin/python3 "$NOVA" --src qemu:///system --dst "$(lvh_uri "$to")" \
        --migrate-uri "tcp://$(lvh_addr "$to")" --domain "$LVH_DOM" \
        --dst-hostdev "$snd=$rcv" --json-log "$LVH_SHARE/nova-$name.jsonl" "$@"
    MIG_WHAT="nova-client.py"
}
# nj NAME EXPR: EXPR (Python, over the report r) of NAME's report
nj() {
    python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$TMP/mig-$1.out" "$2" 2> /dev/null
}
# wait_precopy SENDER: until SENDER is in PRE_COPY (the migration runs),
# or the migration ended; 0 or 1
wait_precopy() {
    for _ in $(seq 4800); do
        [ "$(tdget "$1" vfio_migration/state)" = PRE_COPY ] && return 0
        kill -0 "$MIG_PID" 2> /dev/null || return 1
        sleep 0.02
    done
    return 1
}
# nova_wait_call NAME CALL: until the client logged CALL (suspend,
# abortJob) as made, or it ended
nova_wait_call() {
    for _ in $(seq 1200); do
        grep -q "\"call\": \"$2\"" "$LVH_SHARE/nova-$1.jsonl" 2> /dev/null && return 0
        kill -0 "$MIG_PID" 2> /dev/null || return 1
        sleep 0.1
    done
    return 1
}
# undone HOST LOGLINE0: in HOST's QEMU monitor traffic since LOGLINE0, the
# downtime-limit Nova's client set first (its first step, 50 ms; libvirt
# may send it to QEMU again when the migration starts), the next other
# value set (the daemon's), and the reads of the limit between the last
# 50 ms and that (the daemon reads it once a step): "50 NEXT READS", or
# nothing
undone() {
    lvh_log "$1" | tail -n "+$(( $2 + 1 ))" | grep 'QEMU_MONITOR_SEND_MSG' |
        grep -o '"execute":"\(migrate-set-parameters","arguments":{"downtime-limit":[0-9]*\|query-migrate-parameters\)' |
        awk -F: '/downtime-limit/ { v = $NF
                                    if (v == 50) { first = v; reads = 0; next }
                                    if (first != "") { print first, v, reads + 0; exit } }
                 /query-migrate-parameters/ { if (first != "") reads++ }'
}

# n1: dst -> src, Nova's defaults (500 ms in 10 steps, 75 s per GiB: 50 ms
# at once), with dst's daemon steering by the policy (target 2000 ms)
# (B3 does not dirty: the model keeps a VF's knobs when libvirt rebinds
# it, and B3 receives n5)
l0=$(log_lines dst)
ll0=$(lvh_log dst | wc -l)
nova_start n1 dst src "$B3" "$B2" --data-gb 1
lvh_mig_finish
lvh_check_moved
lvh_check_states
lvh_check_digest
log_wait dst "$l0" ": migrated; downtime "
done_=$(log_since dst "$l0" | grep "domain '$LVH_DOM'" | grep -m1 ": migrated; downtime ")
over=$(log_since dst "$l0" | grep -c "another client set the downtime limit to 50 ms")
read -r first next reads <<< "$(undone dst "$ll0")"
met=$(grep -o 'target [0-9]* ms: [a-z]*' <<< "$done_")
if [ "$(nj n1 'r["outcome"]')" = completed ] && [ "$(nj n1 'r["downtime_set"][0]["ms"]')" = 50 ] &&
   [ "$first" = 50 ] && [[ $next =~ ^[0-9]+$ ]] && [ "$next" != 50 ] && [ "${reads:-9}" -le 1 ] &&
   [ "$met" = "target $TARGET_MS ms: met" ]; then
    result pass "n1: Nova's client (migrateToURI3, flags $(nj n1 '"|".join(r["flags"])')) set its first step, 50 ms, at $(nj n1 'r["downtime_set"][0]["elapsed"]') s; dst's daemon set $next ms back at its next read of the limit (one step: $reads read between; $over overwrite(s) logged); ${done_#*: }"
else
    result fail "n1: outcome '$(nj n1 'r["outcome"]')', Nova's first write '$(nj n1 'r["downtime_set"][:1]')'; monitor: first '$first', next '$next', reads between '$reads' (want 50, the daemon's value, at most 1); end '${done_:-none}'"
    sed 's/^/nova: /' "$TMP/mig-n1.out" "$TMP/mig-n1.err" | cut -c1-600 | diag
    log_since dst "$l0" | tail -15 | sed 's/^/vfmigd-dst: /' | diag
fi

# n2 and n3: Nova's completion timeout while src's daemon holds.  The
# domain's live policy gets a target of 1 ms, best effort, which no
# prediction meets (libvirt's overhead alone is more): the daemon holds
# while the initial data drains and then for 32 steps without progress
# (VFMIG_DOWNTIME_WINDOW) before it switches anyway.  The timeout passes
# when the test says so (--completion-timeout-file), in step with the
# device or the daemon, not when a slow or fast machine happens to be
# somewhere; the client polls every 100 ms there (Nova: 500 ms).
HOLD_ARGS=(--data-gb 1 --poll-ms 100)
NS=http://vfmig.org/xmlns/libvirt/domain/1.0
POL2000=$(lvh_virsh src metadata "$LVH_DOM" "$NS" 2> /dev/null)
lvh_vrun src metadata "$LVH_DOM" "$NS" --live --key vfmig \
    --set "$(sed 's/target-ms="[0-9]*"/target-ms="1"/' <<< "$POL2000")"
grep -q 'target-ms="1"' <<< "$(lvh_virsh src metadata "$LVH_DOM" "$NS" 2> /dev/null)" ||
    diag "n2: the live policy's target is not 1 ms: $(cat "$TMP/err")"

# n2: 'abort' once the VF is in PRE_COPY: Nova aborts, the domain runs on
# src with its VF
l0=$(log_lines src)
lim0=$(lvh_virsh src migrate-getmaxdowntime "$LVH_DOM" 2> /dev/null)
rm -f "$LVH_SHARE/timeout-n2"
nova_start n2 src dst "$B2" "$B4" "${HOLD_ARGS[@]}" --timeout-action abort \
    --completion-timeout-file "$LVH_SHARE/timeout-n2"
inpre=false
wait_precopy "$B2" && inpre=true
touch "$LVH_SHARE/timeout-n2"
lvh_mig_finish
sleep 1
st_src=$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)
st_dst=$(lvh_virsh dst domstate "$LVH_DOM" 2>&1 | head -1)
log_wait src "$l0" "domain '$LVH_DOM': migration ended without completing"
end_=$(log_since src "$l0" | grep "domain '$LVH_DOM'" | grep -m1 "migration ended without completing")
lim=$(lvh_virsh src migrate-getmaxdowntime "$LVH_DOM" 2> /dev/null)
# libvirt puts back at the job's end the parameters it read when it began
# to perform, after the destination's Prepare: the limit from before the
# migration, or one of Nova's steps where Nova's came first; never the
# daemon's hold (the daemon gives back what it replaced)
steps=$(nj n2 '" ".join(str(d["ms"]) for d in r["downtime_set"])')
want_lims=" $lim0 $steps "
# abortJob ends the job as cancelled, or as failed when the destination's
# load error (the stream cut mid-way) reaches libvirt first: Nova rolls
# back either way
if $inpre && [[ $(nj n2 'r["outcome"]') =~ ^(cancelled|failed)$ ]] && [ "$(nj n2 'r["aborted"]')" = True ] &&
   [ "$st_src" = running ] && [[ $st_dst == *"failed to get domain"* ]] &&
   [ "$(tdget "$B2" vfio_migration/state)" = RUNNING ] && [[ ${MIG_SENDER_ARCS[0]} != *STOP_COPY* ]] &&
   [ "$(lvh_driver "$B4")" = none ] && [ -n "$end_" ] && [[ $lim =~ ^[0-9]+$ ]] && [ "$lim" != 1 ] && [[ $want_lims == *" $lim "* ]]; then
    result pass "n2: Nova's completion timeout with abort while $B2 pre-copied and src's daemon held: abortJob, Nova saw '$(nj n2 'r["outcome"]')'; the domain runs on src with $B2 RUNNING (never in STOP_COPY), dst's libvirt handed $B4 back; src's daemon: ${end_#*: }; QEMU's limit $lim ms (before the migration $lim0 ms; Nova's steps: ${steps:-none}), not the daemon's hold"
else
    result fail "n2: PRE_COPY seen: $inpre; outcome '$(nj n2 'r["outcome"]')', aborted '$(nj n2 'r["aborted"]')'; src '$st_src', dst '$st_dst'; $B2 '$(tdget "$B2" vfio_migration/state)', arcs '${MIG_SENDER_ARCS[0]}'; $B4 on '$(lvh_driver "$B4")'; daemon '${end_:-nothing}'; QEMU's limit '$lim' ms (want one of:$want_lims: the limit before the migration or one of Nova's steps, not the daemon's 1 ms)"
    sed 's/^/nova: /' "$TMP/mig-n2.out" "$TMP/mig-n2.err" | cut -c1-600 | diag
    log_since src "$l0" | tail -15 | sed 's/^/vfmigd-src: /' | diag
fi

# n3: 'force_complete' once the daemon holds after the VF's initial data
# was sent (a step that says "holding (" with initial 0 B): Nova pauses the
# guest, the daemon releases at once (QEMU's largest limit), the migration
# completes.  A pause between the daemon's reads of the job and of the VF
# looks like QEMU's own switchover; before the fix the daemon left the
# held limit and QEMU never switched (once under CI's load): now VFs that
# stop while held get the largest limit too (test-controller's
# /controller/paused-unseen has both orderings, which the rig cannot force)
l0=$(log_lines src)
rm -f "$LVH_SHARE/timeout-n3"
nova_start n3 src dst "$B2" "$B4" "${HOLD_ARGS[@]}" --timeout-action force_complete \
    --completion-timeout-file "$LVH_SHARE/timeout-n3"
held=false
log_wait src "$l0" "domain '$LVH_DOM': holding (.* initial 0 B" && held=true
touch "$LVH_SHARE/timeout-n3"
lvh_mig_finish
lvh_check_moved
lvh_check_digest
log_wait src "$l0" ": migrated; "
holding=$(log_since src "$l0" | grep "domain '$LVH_DOM'" | grep -m1 "holding (.* initial 0 B")
# the daemon saw the pause as a pause ("the guest is paused"), or, where it
# landed between the daemon's reads of the job and of the VF (common
# under load), as the VFs stopped while held; one the daemon took for
# QEMU's switchover gets the largest limit once it outlasts one
paused=$(log_since src "$l0" | grep "domain '$LVH_DOM'" |
    grep -E -m1 "the guest (is|has been) paused|its VFs stopped while the daemon held")
done_=$(log_since src "$l0" | grep "domain '$LVH_DOM'" | grep -m1 ": migrated; ")
st_dst=$(lvh_virsh dst domstate "$LVH_DOM" 2> /dev/null | head -1)
if $held && [ "$(nj n3 'r["outcome"]')" = completed ] && [ "$(nj n3 'r["paused"]')" = True ] &&
   [ -n "$paused" ] && [ -n "$done_" ]; then
    result pass "n3: Nova's force_complete while src's daemon held after the initial data ('${holding#*: }'): Nova paused the guest; the daemon: '${paused#*: }'; ${done_#*: }; on dst '$st_dst'"
else
    result fail "n3: daemon holding: $held; outcome '$(nj n3 'r["outcome"]')', paused '$(nj n3 'r["paused"]')'; daemon: paused line '${paused:-none}', end '${done_:-none}'"
    sed 's/^/nova: /' "$TMP/mig-n3.out" "$TMP/mig-n3.err" | cut -c1-600 | diag
    log_since src "$l0" | tail -15 | sed 's/^/vfmigd-src: /' | diag
fi
lvh_virsh dst resume "$LVH_DOM" > /dev/null 2>&1
[ -n "$POL2000" ] && lvh_virsh dst metadata "$LVH_DOM" "$NS" --live --key vfmig \
    --set "$POL2000" > /dev/null 2>&1

# n4: a destination refused by dst's hook before any state moved: the
# live policy says the source VF is a ConnectX VF on mlx5_vfio_pci, dst's
# libvirt would bind B1 to the model
pol=$(lvh_virsh dst metadata "$LVH_DOM" http://vfmig.org/xmlns/libvirt/domain/1.0 2> /dev/null)
bad=$(sed "s/driver=\"[^\"]*\" vendor=\"[^\"]*\" device=\"[^\"]*\"/driver=\"mlx5_vfio_pci\" vendor=\"0x15b3\" device=\"0x101e\"/" <<< "$pol")
lvh_vrun dst metadata "$LVH_DOM" http://vfmig.org/xmlns/libvirt/domain/1.0 --live \
    --key vfmig --set "$bad"
nova_start n4 dst src "$B4" "$B1" --data-gb 1
lvh_mig_finish
st_dst=$(lvh_virsh dst domstate "$LVH_DOM" 2> /dev/null | head -1)
why=$(cat "$TMP/mig-n4.out" "$TMP/mig-n4.err" | grep -o "cannot migrate hostdev '[^']*' ([^)]*): [^;\"]*" | head -1)
if [ "$(nj n4 'r["outcome"]')" = failed ] && [ "$st_dst" = running ] && [ -n "$why" ] &&
   [[ " ${MIG_SENDER_ARCS[0]}" != *PRE_COPY* ]] && [ "$(lvh_driver "$B1")" = none ] &&
   [ "$(tdget "$B4" vfio_migration/state)" = RUNNING ]; then
    result pass "n4: the live policy names a ConnectX VF (mlx5_vfio_pci, 15b3:101e): src's hook refused the migration before any state moved ('$why'); Nova saw 'failed'; the domain runs on dst with $B4 RUNNING; $B1 never bound"
else
    result fail "n4: outcome '$(nj n4 'r["outcome"]')' (want failed), hook '${why:-no refusal}', dst '$st_dst', sender arcs '${MIG_SENDER_ARCS[0]}', $B1 on '$(lvh_driver "$B1")'"
    sed 's/^/nova: /' "$TMP/mig-n4.out" "$TMP/mig-n4.err" | cut -c1-600 | diag
fi
[ -n "$pol" ] && lvh_virsh dst metadata "$LVH_DOM" http://vfmig.org/xmlns/libvirt/domain/1.0 --live \
    --key vfmig --set "$pol" > /dev/null 2>&1

# ---------- n5: a domain as Nova writes it, its policy from the host default -------------------
# Nova's definition: managed='yes', no alias, no vfmig metadata, its
# flavor in <nova:instance>.  Both hosts' daemons have the same host
# default policy (flavor vf.gold: target 2000 ms, best effort, pre-copy
# preferred); src's gives the running domain its policy as live metadata
# (origin='host', libvirt's alias hostdev0, B1's identity), the
# definition untouched, and Nova's migration carries it to dst's hook.
lvh_virsh dst destroy "$LVH_DOM" > /dev/null 2>&1
lvh_virsh dst undefine "$LVH_DOM" > /dev/null 2>&1
for h in src dst; do
    cat > "$LVH_SHARE/vfmigd-$h/host-policy.xml" <<EOF
<hostpolicy xmlns='http://vfmig.org/xmlns/host-policy/1.0'>
  <flavor name='vf.gold'>
    <downtime target-ms='$TARGET_MS' on-failure='best-effort'/>
    <precopy mode='preferred'/>
  </flavor>
</hostpolicy>
EOF
done
NOVA_META="  <metadata>
    <nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>
      <nova:name>vm-n5</nova:name>
      <nova:flavor name='vf.gold'>
        <nova:memory>64</nova:memory>
        <nova:vcpus>1</nova:vcpus>
      </nova:flavor>
    </nova:instance>
  </metadata>"
l0=$(log_lines src)
LVH_MANAGED=yes LVH_NEED_EM=$(! $TRACKED && echo true || echo false) \
    lvh_domain_xml "$B1" "$NOVA_META" > "$LVH_SHARE/nova-domain.xml"
lvh_virsh src define "$LVH_SHARE/nova-domain.xml" > /dev/null 2> "$TMP/err"
lvh_vrun src start "$LVH_DOM"
log_wait src "$l0" "domain '$LVH_DOM': host default policy"
set_=$(log_since src "$l0" | grep -m1 "domain '$LVH_DOM': host default policy")
live=$(lvh_virsh src metadata "$LVH_DOM" "$NS" 2> /dev/null)
inactive=$(lvh_virsh src dumpxml --inactive "$LVH_DOM" 2> /dev/null)
if [ "$RC" -eq 0 ] && [[ $set_ == *"(flavor 'vf.gold') set as its live metadata"* ]] &&
   grep -q 'origin="host"' <<< "$live" && grep -q 'flavor="vf.gold"' <<< "$live" &&
   grep -q 'alias="hostdev0"' <<< "$live" &&
   grep -q "driver=\"$MODEL\" vendor=\"0x1b36\" device=\"0x0005\"" <<< "$live" &&
   ! grep -q "vfmig.org" <<< "$inactive" && [ "$(lvh_driver "$B1")" = "$MODEL" ]; then
    result pass "n5: a domain as Nova defines it (managed='yes', no alias, flavor vf.gold) started on src: ${set_#*: }; the live policy names hostdev0 with $B1's identity, the definition has no vfmig metadata"
else
    result fail "n5: start exit $RC; daemon '${set_:-nothing}'; live policy: $(tr -d '\n' <<< "$live" | cut -c1-400); vfmig metadata in the definition: $(grep -c vfmig.org <<< "$inactive") (want 0)"
    diag_run
    log_since src "$l0" | tail -10 | sed 's/^/vfmigd-src: /' | diag
fi

l0=$(log_lines src)
nova_start n5 src dst "$B1" "$B3" --data-gb 1
lvh_mig_finish
lvh_check_moved
lvh_check_states
lvh_check_digest
log_wait src "$l0" ": migrated; "
steer=$(log_since src "$l0" | grep "domain '$LVH_DOM'" | grep -m1 "steering its migration")
done_=$(log_since src "$l0" | grep "domain '$LVH_DOM'" | grep -m1 ": migrated; ")
dlive=$(lvh_virsh dst metadata "$LVH_DOM" "$NS" 2> /dev/null)
if [ "$(nj n5 'r["outcome"]')" = completed ] && [[ $steer == *"downtime target $TARGET_MS ms"* ]] &&
   [ -n "$done_" ] && grep -q 'origin="host"' <<< "$dlive"; then
    result pass "n5: Nova's migration of it, with the policy from src's host default only: src's virt-vfmigd ${steer#*: }; ${done_#*: }; on dst the live policy is the host's (origin='host') and dst's hook accepted $B3"
else
    result fail "n5: outcome '$(nj n5 'r["outcome"]')'; src's daemon '${steer:-not steering}', end '${done_:-none}'; dst's live policy: $(tr -d '\n' <<< "$dlive" | cut -c1-300)"
    sed 's/^/nova: /' "$TMP/mig-n5.out" "$TMP/mig-n5.err" | cut -c1-600 | diag
    log_since src "$l0" | tail -15 | sed 's/^/vfmigd-src: /' | diag
fi

# ---------- the end -----------------------------------------------------------------------
lvh_vfmigd_stop src; lvh_vfmigd_stop dst
lvh_virsh dst destroy "$LVH_DOM" > /dev/null 2>&1
lvh_virsh dst undefine "$LVH_DOM" > /dev/null 2>&1
trap - EXIT
cleanup
tap_end
