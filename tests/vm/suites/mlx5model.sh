#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/mlx5model.sh: vfmig's mlx5_vfio_pci on a real kernel.
#
#   - modprobe loads mlx5_vfio_pci.ko (the real driver), installed as
#     DKMS would in a module tree indexed by depmod, with Debian's
#     mlx5_core and VFIO modules it depends on: every symbol resolves
#     (nothing binds it: there is no ConnectX VF here);
#   - vfmig_mlx5model.ko, the same driver logic over a software MODEL of
#     the ConnectX firmware, binds both pci-testdevs: the capability probe
#     offers migration (stop-copy p2p pre-copy) with the firmware's
#     identity in vfio_migration/;
#   - vm-testdev-fsm --fixed: every arc of the FSM from every state (ERROR
#     through the engine's error-arc fault), legal and refused; a firmware
#     command failing on an arc (SUSPEND not completing, QUERY refused)
#     fails the arc and leaves the device where it was, usable;
#   - the stream (vm-mlx5-stream): saved, checked against upstream's
#     framing, loaded whole and in 1-, 7- and 4097-byte writes with the
#     source's state arriving; an unknown optional record skipped, an
#     unknown mandatory one refused (EOPNOTSUPP), a 2^32-byte record
#     refused (ENOMEM), a stream cut inside an image or without one
#     refused at RESUMING -> STOP (EINVAL), one without STOP_COPY_SIZE
#     accepted, and a golden stream framed from the specification alone
#     loaded;
#   - QEMU 10 live-migrates a VM whose passed-through device is a
#     modelled VF: PRE_COPY with incremental SAVEs, equal VHCA digests,
#     the firmware commands of each arc (the model counts them: SUSPEND
#     and RESUME with the INITIATOR op_mod on the P2P arcs and RESPONDER
#     to stop and start, several LOADs on the destination);
#   - chunk mode: the stop-copy image saved in several chunks;
#   - the firmware loses tracking (BAD_RES_STATE on a pre-copy SAVE): the
#     migration still succeeds with a whole image at stop-copy;
#   - failures: the final SAVE fails (the migration fails, the source VM
#     runs on with its device's state), a LOAD fails on the destination
#     (likewise);
#   - the PF disables the VF while QEMU migrates it: the migration fails,
#     the source VM runs on, commands to the detached VHCA fail until the
#     PF enables it, and the device then migrates again (checked by
#     binding it anew);
#   - no migration offered when the modelled firmware lacks multi-load or
#     tracking, or the VF is not enabled for migration;
#   - virt-vfmig device-info and device-qualify on a modelled VF.
#   - DMA dirty-page tracking (vm-mlx5-track): on 6.1 the tracker's
#     ranges merged, exact reports in several messages, every tracker
#     fault failing the report until STOP, the PF's disable; on 6.12 no
#     DMA logging offered (the kernel cannot report);
#   - on 6.1, QEMU migrates without enable-migration=on with the tracker:
#     pages the modelled function wrote by DMA after QEMU's first RAM
#     pass reach the destination (guest RAM digests equal; QEMU's
#     reported pages equal the model's), a report that loses its pages
#     makes the digests differ (the check can fail), a tracker error
#     fails the migration with the source running; RAM sent with the
#     tracker against all-dirty is measured; on 6.12 QEMU refuses the
#     VM without the override.
# The other migrations run with enable-migration=on and a switchover
# bandwidth on both kernels, as a 6.12 host must.
# vm-needs: testdev-ko
# vm-testdevs: 2

. "$VM_SRCDIR/lib.sh"
MIGRATE=$VM_SRCDIR/vm-qemu-migrate.py
VIRT_VFMIG=$VM_BUILDDIR/src/tools/virt-vfmig
MODDIR=$(dirname "${TESTDEV_KO:-/nonexistent/x}")
STATE_SIZE=4194304
DIRTY_RATE=1048576
KNOBS=vfmig_mlx5model
CAPS_ALL="migration multi_load tracking_state migration_state migratable adv_virtualization"
CAPS_NOTRACK=${CAPS_ALL% adv_virtualization}

BIN=$VM_BUILDDIR/tests/vm
S=$BIN/vm-mlx5-stream
ERR_FAULT="$KNOBS/arc_fault=error-arc RUNNING RUNNING_P2P"
FSMX_N=$("$BIN/vm-testdev-fsm" --plan --fixed --error-fault "$ERR_FAULT")
VARIANTS="optional-unknown mandatory-unknown huge truncated no-image no-stop-copy-size golden"
VAR_N=0
for k in $VARIANTS; do VAR_N=$((VAR_N + $("$S" --plan make-variant "$k") + 1)); done
# loads: the stream whole and in 3 splits, then 7 variants; 7 checks + 1
# each, and a digest check for the 7 that must load
LOAD_N=$(( (4 + 7) * 8 + 7 ))

SERIES=$(kernel_series)
# the checks below, and the exit line tap_include adds
if [ "$SERIES" = 6.1 ]; then TRACK=yes; TRACK_N=8; else TRACK=no; TRACK_N=2; fi
TRACK_N=$((TRACK_N + $("$BIN/vm-mlx5-track" --plan "$TRACK")))

tap_plan $((16 + FSMX_N + 1 + 2 * 4 + 6 + 5 + VAR_N + LOAD_N + TRACK_N))

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}

mget() { tdget "$1" "$KNOBS/$2"; }
mset() { tdset "$1" "$KNOBS/$2" "$3"; }
# the count of one firmware command the model received
cmdcount() { mget "$1" commands | awk -v n="$2" '$1 == n {print $2}'; }
counts() { mget "$1" commands | tr '\n' ' '; }

rebind() {
    local b
    for b in "$@"; do
        echo "$b" > "/sys/bus/pci/devices/$b/driver/unbind" 2> /dev/null
        echo "$b" > /sys/bus/pci/drivers_probe 2> /dev/null
    done
    bind vfmig_mlx5model "$@"
}

# ---------- the real driver beside Debian's mlx5_core ------------------------------
# modprobe as a DKMS install would use it: the module in updates/ of a
# module tree whose kernel/ is Debian's, indexed by depmod; modprobe then
# loads mlx5_core and the VFIO modules it depends on and resolves every
# symbol (nothing binds it: there is no ConnectX VF here).
KV=$(uname -r)
MR=$MODDIR/modroot      # build-kmod.sh's, depmod'd on the host
ok=false
deps=
{
    [ -f "$MR/lib/modules/$KV/updates/mlx5_vfio_pci.ko" ] &&
    [ -f "$MR/lib/modules/$KV/modules.dep" ] &&
    deps=$(modprobe -d "$MR" --show-depends mlx5_vfio_pci | awk '{print $2}' |
           xargs -n1 basename | sed 's/\.ko.*//' | tr '\n' ' ') &&
    modprobe -d "$MR" mlx5_vfio_pci
} > "$TMP/err" 2>&1 &&
    [ -d /sys/module/mlx5_vfio_pci ] && [ -d /sys/module/mlx5_core ] &&
    [ -d /sys/bus/pci/drivers/mlx5_vfio_pci ] && ok=true
bound=$(ls /sys/bus/pci/drivers/mlx5_vfio_pci 2> /dev/null | grep -c '^0000:')
rmmod mlx5_vfio_pci >> "$TMP/err" 2>&1 || ok=false
if $ok; then
    result pass "modprobe mlx5_vfio_pci (DKMS-style, depmod'd beside Debian's modules of $KV): loaded with everything it depends on ($deps), every symbol resolved, its PCI driver registered, $bound devices bound (no ConnectX VF here), unloaded"
else
    result fail "modprobe mlx5_vfio_pci beside Debian's mlx5_core: $(tr '\n' ' ' < "$TMP/err")"
fi

# ---------- the model -----------------------------------------------------------------------
ok=true
load_vfio && insmod "$MODDIR/vfmig_mlx5model.ko" > "$TMP/err" 2>&1 || ok=false
bind vfmig_mlx5model "$B1" "$B2" || ok=false
for b in "$B1" "$B2"; do
    mset "$b" state_size "$STATE_SIZE" || ok=false
done
feat=$(tdget "$B1" vfio_migration/features)
fw=$(tdget "$B1" vfio_migration/firmware)
# DMA logging only where the kernel can report it
WANT_FEAT="stop-copy p2p pre-copy"
[ "$(kernel_series)" = 6.1 ] && WANT_FEAT+=" dma-logging"
if $ok && [ "$feat" = "$WANT_FEAT" ] &&
   [ "$fw" = "mlx5-model fw 22.41.1000 psid MDL0000000001" ] &&
   [ "$(cmdcount "$B1" query_hca_cap)" -ge 2 ] 2> /dev/null && [ "$(mget "$B1" caps)" = "$CAPS_ALL" ]; then
    result pass "vfmig_mlx5model (the driver over the firmware MODEL) binds both pci-testdevs:$BIND_MSG; features '$feat', firmware '$fw', caps '$(mget "$B1" caps)', probe commands: $(counts "$B1")"
else
    result fail "vfmig_mlx5model: bind:$BIND_MSG; features '$feat' (want '$WANT_FEAT'), firmware '$fw', caps '$(mget "$B1" caps)', commands '$(counts "$B1")' $(tr '\n' ' ' < "$TMP/err")"
fi

# ---------- every arc, legal and refused ----------------------------------------------------
for b in "$B1" "$B2"; do mset "$b" state_size 65536; done
tap_include "$FSMX_N" fsm "$BIN/vm-testdev-fsm" --fixed --error-fault "$ERR_FAULT" "$B1"

# a firmware command failing on an arc: the arc fails, the device stays
# where it was and works after a reset (as upstream: no ERROR)
mset "$B1" fault "suspend internal"
tap_include 3 "SUSPEND_VHCA not completing" \
    "$S" arc "$B1" RUNNING_P2P --expect-errno EIO --after RUNNING
mset "$B1" fault "query bad_param"
tap_include 3 "QUERY_VHCA_MIGRATION_STATE refused (BAD_PARAM) entering PRE_COPY" \
    "$S" arc "$B1" PRE_COPY --expect-errno EIO --after RUNNING

# ---------- the stream, byte for byte as upstream frames it ------------------------------------
# inc_digest: the digest a vm-mlx5-stream run printed
inc_digest() { sed -n 's/^# digest [^ ]* \([0-9a-f]\{64\}\)$/\1/p' "$TMP/inc.out" | tail -1; }
mset "$B1" dirty_pages 16
tap_include 5 "save $B1" "$S" save "$B1" "$TMP/s.bin"
SAVED=$(inc_digest)
tap_include 4 "upstream's framing" "$S" check "$TMP/s.bin"
for k in $VARIANTS; do
    tap_include "$("$S" --plan make-variant "$k")" "variant $k" \
        "$S" make-variant "$TMP/s.bin" "$TMP/v-$k.bin" "$k"
done
# load LABEL FILE [options] [-- digest]: a load of B2, and with "digest"
# a check that B2 then has the saved state
load() {
    local label=$1 file=$2 want_digest=false got
    shift 2
    [ "${*: -1}" = digest ] && want_digest=true && set -- "${@:1:$#-1}"
    tap_include 7 "load $label" "$S" load "$B2" "$file" "$@"
    if $want_digest; then
        got=$(inc_digest)
        if [[ $SAVED =~ ^[0-9a-f]{64}$ ]] && [ "$got" = "$SAVED" ]; then
            result pass "load $label: $B2's VHCA now has $B1's saved state (digest ${got:0:16}...)"
        else
            result fail "load $label: $B2's digest '$got', $B1's saved '$SAVED'"
        fi
    fi
}
load "whole" "$TMP/s.bin" digest
load "in 1-byte writes" "$TMP/s.bin" --split 1 digest
load "in 7-byte writes" "$TMP/s.bin" --split 7 digest
load "in 4097-byte writes" "$TMP/s.bin" --split 4097 digest
load "with an unknown optional record" "$TMP/v-optional-unknown.bin" --split 7 digest
load "with an unknown mandatory record" "$TMP/v-mandatory-unknown.bin" \
    --expect-errno EOPNOTSUPP --expect-apply-errno EINVAL
load "with a record of 2^32 bytes" "$TMP/v-huge.bin" \
    --expect-errno ENOMEM --expect-apply-errno EINVAL
load "cut inside its last image" "$TMP/v-truncated.bin" --expect-apply-errno EINVAL
load "without an image" "$TMP/v-no-image.bin" --expect-apply-errno EINVAL
load "without STOP_COPY_SIZE" "$TMP/v-no-stop-copy-size.bin" digest
load "golden (framed from the specification)" "$TMP/v-golden.bin" digest
for b in "$B1" "$B2"; do mset "$b" state_size "$STATE_SIZE"; done

say "QEMU: $(qemu-system-x86_64 --version | head -1)"

# migrate NAME [options]: one QEMU migration B1 -> B2, R_* results
migrate() {
    local name=$1
    shift
    timeout -k 5 300 /usr/bin/python3 "$MIGRATE" --src "$B1" --dst "$B2" \
        --workdir "$VM_OUT/mlx5-$name" --port "$PORT" --knobs "$KNOBS" \
        --enable-migration on --avail-switchover-bandwidth 1073741824 \
        --dirty-rate "$DIRTY_RATE" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"
    PORT=$((PORT + 1))
    qemu_results "$TMP/$name.out"
    [ -s "$TMP/$name.err" ] && sed 's/^/migrate stderr: /' "$TMP/$name.err" | diag
    return 0
}
PORT=4500
migrated() {   # the migration completed and the digests are equal
    [ "${R_status:-}" = completed ] && [ "${R_dst_status:-}" = running ] &&
        [[ ${R_src_digest:-} =~ ^[0-9a-f]{64}$ ]] && [ "$R_src_digest" = "${R_dst_digest:-}" ]
}
mig_diag() {
    grep -v vfio_ "$VM_OUT/mlx5-$1/src.log" 2> /dev/null | tail -8 | sed 's/^/src qemu: /' | diag
    grep -v vfio_ "$VM_OUT/mlx5-$1/dst.log" 2> /dev/null | tail -8 | sed 's/^/dst qemu: /' | diag
    dmesg | grep -i mlx5 | tail -8 | sed 's/^/dmesg: /' | diag
}
# the counters are since bind: rebind both before a migration
fresh() { rebind "$B1" "$B2" > /dev/null; }

# ---------- PRE_COPY migration -------------------------------------------------------------
fresh
migrate precopy
s_si=$(cmdcount "$B1" suspend_initiator); s_sr=$(cmdcount "$B1" suspend_responder)
s_ft=$(cmdcount "$B1" save_full_track); s_it=$(cmdcount "$B1" save_inc_track)
s_in=$(cmdcount "$B1" save_inc); d_ld=$(cmdcount "$B2" load)
d_rr=$(cmdcount "$B2" resume_responder); d_ri=$(cmdcount "$B2" resume_initiator)
d_sr=$(cmdcount "$B2" suspend_responder)
if migrated && [[ ,${R_src_states_seen:-}, == *,PRE_COPY,* ]]; then
    result pass "QEMU migrated a VM with a modelled VF in ${R_total_time_ms:-?} ms (downtime ${R_downtime_ms:-?} ms), through PRE_COPY (source states seen ${R_src_states_seen}); the destination's VHCA digest equals the source's: ${R_dst_digest:0:16}..."
else
    result fail "migration: status '${R_status:-?}' ${R_error_desc:-}, destination '${R_dst_status:-?}', states '${R_src_states_seen:-}', digests '${R_src_digest:-}' '${R_dst_digest:-}' ${R_script_error:-}"
    mig_diag precopy
fi
if [ "${s_si:-0}" -ge 1 ] && [ "${s_sr:-0}" -ge 1 ] && [ "${s_ft:-0}" = 1 ] &&
   [ "${s_in:-0}" -ge 1 ] && [ "${d_sr:-0}" -ge 1 ] && [ "${d_ld:-0}" -ge 2 ] &&
   [ "${d_rr:-0}" -ge 1 ] && [ "${d_ri:-0}" -ge 1 ] &&
   [ "${R_max_initial_bytes:-0}" -gt 0 ]; then
    result pass "firmware commands: source SUSPEND initiator $s_si, responder $s_sr, SAVE initial+track $s_ft, incremental+track (pre-copy deltas) ${s_it:-0}, final incremental $s_in; destination SUSPEND responder $d_sr, LOAD $d_ld (one per image), RESUME responder $d_rr, initiator $d_ri; the precopy ioctl's largest initial_bytes ${R_max_initial_bytes}, dirty_bytes ${R_max_dirty_bytes:-?}"
else
    result fail "firmware commands: source $(counts "$B1"); destination $(counts "$B2"); max initial_bytes ${R_max_initial_bytes:-?}"
fi

# ---------- chunk mode, and tracking lost -------------------------------------------------
for b in "$B1" "$B2"; do
    mset "$b" caps "$CAPS_ALL in_chunks"
    mset "$b" chunk_bytes 262144
done
fresh
migrate chunks
c_in=$(cmdcount "$B1" save_inc); c_ld=$(cmdcount "$B2" load)
if migrated && [ "${c_in:-0}" -ge 4 ] && [ "${c_ld:-0}" -ge 5 ]; then
    result pass "chunk mode (chunks of 262144 bytes): migrated, digests equal; the stop-copy image came in $c_in incremental SAVEs, the destination ran $c_ld LOADs"
else
    result fail "chunk mode: status '${R_status:-?}' ${R_error_desc:-}, digests '${R_src_digest:-}' '${R_dst_digest:-}'; source $(counts "$B1"); destination $(counts "$B2")"
    mig_diag chunks
fi
for b in "$B1" "$B2"; do
    mset "$b" caps "$CAPS_ALL"
done

fresh
mset "$B1" fault "save-precopy bad_res_state"
migrate badres --precopy-write "$KNOBS/dirty_pages=64"
f_full=$(cmdcount "$B1" save_full); f_failed=$(cmdcount "$B1" failed)
if migrated && [ "${f_full:-0}" -ge 1 ] && [ "${f_failed:-0}" -ge 1 ] &&
   [ "$(mget "$B1" fault)" = none ]; then
    result pass "tracking lost (a pre-copy SAVE failed with BAD_RES_STATE): the migration still completed with equal digests, the stop-copy image a whole one (SAVE full $f_full, failed commands $f_failed)"
else
    result fail "tracking lost: status '${R_status:-?}' ${R_error_desc:-}, digests '${R_src_digest:-}' '${R_dst_digest:-}', fault now '$(mget "$B1" fault)'; source $(counts "$B1")"
    mig_diag badres
fi

# ---------- failures: the source VM runs on ---------------------------------------------------
# fail_check NAME WHAT: the migration failed, the source VM runs, its
# device is RUNNING with the state it had
fail_check() {
    local name=$1 what=$2 st
    st=$(tdget "$B1" vfio_migration/state)
    if [ "${R_status:-}" = failed ] && [ "${R_src_status_after:-}" = running ] &&
       [ "$st" = RUNNING ] && [[ ${R_src_digest:-} =~ ^[0-9a-f]{64}$ ]] &&
       [ "$R_src_digest" = "$D_BEFORE" ]; then
        result pass "$what: the migration failed ('${R_error_desc:-}'), the source VM runs on, its device is RUNNING with its state (digest ${D_BEFORE:0:16}... unchanged)"
    else
        result fail "$what: status '${R_status:-?}' (want failed) '${R_error_desc:-}', source VM '${R_src_status_after:-?}' (want running), device '$st', digest before ${D_BEFORE:0:16} after ${R_src_digest:0:16}"
        mig_diag "$name"
    fi
}
fresh
D_BEFORE=$(mget "$B1" digest)
mset "$B1" fault "save-final internal"
migrate savefail --dirty-rate 0
fail_check savefail "the final SAVE does not complete (-EIO)"

fresh
D_BEFORE=$(mget "$B1" digest)
mset "$B2" fault "load bad_param"
migrate loadfail --dirty-rate 0
fail_check loadfail "the destination's firmware refuses a LOAD (BAD_PARAM)"

# ---------- the PF disables the VF during the migration ---------------------------------------
fresh
D_BEFORE=$(mget "$B1" digest)
mset "$B1" cmd_delay_us 200000
migrate sriov --dirty-rate 0 --precopy-write "$KNOBS/sriov=disable"
mset "$B1" cmd_delay_us 0
st=$(tdget "$B1" vfio_migration/state)
vs=$(mget "$B1" vhca_state)
if [ "${R_precopy_write:-}" = yes ] && [ "${R_status:-}" = failed ] &&
   [ "${R_src_status_after:-}" = running ] && [[ $vs == detached* ]] &&
   dmesg | grep -q "the PF disables this VF"; then
    result pass "the PF disabled the VF in PRE_COPY: the migration failed ('${R_error_desc:-}'), the source VM runs on, the device is $st, the VHCA $vs"
else
    result fail "SR-IOV disable in PRE_COPY: written '${R_precopy_write:-?}', status '${R_status:-?}' (want failed), source VM '${R_src_status_after:-?}', device '$st', VHCA '$vs'"
    mig_diag sriov
fi
mset "$B1" sriov enable
vs=$(mget "$B1" vhca_state)
fresh
migrate after-sriov
if [[ $vs == running* ]] && migrated; then
    result pass "the PF enabled the VF again (VHCA '$vs'): the next migration completed, digests equal"
else
    result fail "after enable: VHCA '$vs', migration '${R_status:-?}' ${R_error_desc:-}, digests '${R_src_digest:-}' '${R_dst_digest:-}'"
    mig_diag after-sriov
fi

# ---------- DMA dirty-page tracking ------------------------------------------------------------
fresh
tap_include "$("$BIN/vm-mlx5-track" --plan "$TRACK")" track "$BIN/vm-mlx5-track" "$B1" "$TRACK"
fresh
# the window the modelled function writes: guest RAM [16 MiB, 32 MiB)
WINDOW=0x1000000:0x1000000
BURST=0x1800000:0x100000
if [ "$TRACK" = yes ]; then
    migrate tracked --enable-migration auto --dirty-rate 0 \
        --dma-burst "$BURST" --ram-digest "$WINDOW"
    t_pages=$(cmdcount "$B1" track_pages); t_rep=$(cmdcount "$B1" track_report)
    if migrated && [ "${R_blocked:-}" = no ] && [ "${R_dma_burst:-}" = yes ] &&
       [ "${R_trace_device_dirty_tracking_starts:-0}" -ge 1 ] &&
       [[ ${R_ram_src_digest:-} =~ ^[0-9a-f]{64}$ ]] &&
       [ "$R_ram_src_digest" = "${R_ram_dst_digest:-}" ] &&
       [ "${R_ram_dst_nonzero_pages:-0}" -ge 256 ]; then
        result pass "QEMU migrated the modelled VF without enable-migration=on, the tracker on: 256 pages written by DMA at sync ${R_burst_at_sync:-?} (after the first RAM pass) reached the destination: guest RAM [16 MiB, 32 MiB) digests equal (${R_ram_dst_digest:0:16}..., ${R_ram_dst_nonzero_pages} non-zero pages), device digests equal; downtime ${R_downtime_ms:-?} ms"
    else
        result fail "tracked migration: status '${R_status:-?}' ${R_error_desc:-}, blocked '${R_blocked:-?}' ${R_blocked_reasons:-}, burst '${R_dma_burst:-?}', tracking starts ${R_trace_device_dirty_tracking_starts:-?}, RAM digests '${R_ram_src_digest:-}' '${R_ram_dst_digest:-}' non-zero ${R_ram_src_nonzero_pages:-?}/${R_ram_dst_nonzero_pages:-?} ${R_script_error:-}"
        mig_diag tracked
    fi
    if [ "${t_pages:-x}" = "${R_trace_dirty_bitmap_pages:-y}" ] && [ "${t_pages:-0}" -ge 256 ] &&
       [ "${t_rep:-0}" -ge 2 ]; then
        result pass "QEMU's dirty-bitmap syncs counted ${R_trace_dirty_bitmap_pages} device pages, exactly the $t_pages the model reported in $t_rep reports"
    else
        result fail "reported pages: QEMU counted '${R_trace_dirty_bitmap_pages:-?}' in ${R_trace_dirty_bitmap_reports:-?} syncs, the model sent '${t_pages:-?}' in '${t_rep:-?}' reports (want equal, >= 256)"
    fi

    fresh
    migrate lose --enable-migration auto --dirty-rate 0 \
        --dma-burst "$BURST" --burst-fault lose --ram-digest "$WINDOW"
    if [ "${R_status:-}" = completed ] && [ "${R_dma_burst:-}" = yes ] &&
       [[ ${R_ram_dst_digest:-} =~ ^[0-9a-f]{64}$ ]] &&
       [ "$R_ram_src_digest" != "$R_ram_dst_digest" ] &&
       [ "${R_ram_dst_nonzero_pages:-0}" -lt "${R_ram_src_nonzero_pages:-0}" ]; then
        result pass "negative control: reports that lose their pages (track_fault lose from the burst on, until the tracker goes) leaves the destination's RAM behind (non-zero pages ${R_ram_dst_nonzero_pages} vs ${R_ram_src_nonzero_pages}, digests differ): the digest check sees a lost report"
    else
        result fail "negative control: status '${R_status:-?}', burst '${R_dma_burst:-?}', RAM digests '${R_ram_src_digest:-}' '${R_ram_dst_digest:-}', non-zero ${R_ram_src_nonzero_pages:-?}/${R_ram_dst_nonzero_pages:-?} (want different)"
        mig_diag lose
    fi

    fresh
    D_BEFORE=$(mget "$B1" digest)
    migrate trackerr --enable-migration auto --dirty-rate 0 \
        --precopy-write "$KNOBS/track_fault=error"
    fail_check trackerr "the tracker reports ERROR mid-migration"

    # MIG_DATA_SIZE in PRE_COPY with the tracker: the incremental image
    # the switch-over sends, not the whole state; against the stop-copy
    # bytes QEMU then read (measured at three dirty rates, judged only
    # where the device stays still: the delta is then a header)
    ds_line=""
    ds_ok=true
    for rate in 0 1048576 4194304; do
        fresh
        migrate "dsize-$rate" --enable-migration auto --dirty-rate "$rate" --data-size-poll
        if [ "${R_status:-}" != completed ] || ! [[ ${R_last_mig_data_size:-} =~ ^[0-9]+$ ]]; then
            ds_ok=false
        elif [ "$rate" = 0 ] && [ "$R_last_mig_data_size" -ge 65536 ]; then
            ds_ok=false
        fi
        # the driver's own estimate says it is the residue once the
        # incremental QUERY answered (the last poll in PRE_COPY)
        [[ ${R_last_stop_copy_estimate:-} =~ ^[0-9]+:residue$ ]] || ds_ok=false
        ds_line+="; ${rate} B/s: answered ${R_last_mig_data_size:-?}, stop-copy sent ${R_trace_stopcopy_bytes:-?}, estimate ${R_last_stop_copy_estimate:-?} (kinds seen ${R_stop_copy_kinds:-?})"
    done
    if $ds_ok; then
        result pass "MIG_DATA_SIZE in PRE_COPY with the tracker is the incremental image (the whole state is $STATE_SIZE bytes), and stop_copy_estimate calls it the residue${ds_line}"
    else
        result fail "MIG_DATA_SIZE in PRE_COPY: ${ds_line#; } (want completed, below 64 KiB with the device still, the last estimate a residue)"
    fi

    # upstream's answer (the knob data_size whole): MIG_DATA_SIZE is the
    # whole state, and stop_copy_estimate says so at every poll in
    # PRE_COPY, so that a controller takes the residue from the pre-copy
    # estimates instead
    fresh
    mset "$B1" data_size whole
    migrate dsize-whole --enable-migration auto --dirty-rate 0 --data-size-poll
    mset "$B1" data_size incremental
    if [ "${R_status:-}" = completed ] && [ "${R_stop_copy_kinds:-}" = whole ] &&
       [ "${R_last_mig_data_size:-}" -ge "$STATE_SIZE" ] 2> /dev/null &&
       [[ ${R_last_stop_copy_estimate:-} =~ ^[0-9]+:whole$ ]]; then
        result pass "with upstream's answer (data_size whole) MIG_DATA_SIZE is ${R_last_mig_data_size} bytes, and stop_copy_estimate says 'whole' at every poll in PRE_COPY (${R_last_stop_copy_estimate})"
    else
        result fail "data_size whole: status '${R_status:-?}', MIG_DATA_SIZE '${R_last_mig_data_size:-?}' (want >= $STATE_SIZE), estimate '${R_last_stop_copy_estimate:-?}', kinds '${R_stop_copy_kinds:-?}' (want only whole)"
    fi

    # RAM sent per pass: the tracker against all-dirty, for the same guest
    # and the same DMA (measured, not judged)
    fresh
    mset "$B1" dma_rate 500
    migrate rate-tracked --enable-migration auto --dirty-rate 0
    tr_ram=${R_ram_transferred:-?}; tr_sync=${R_dirty_sync_count:-?}; tr_ok=$R_status
    tr_pages=$(cmdcount "$B1" track_pages)
    mset "$B1" dma_rate 0
    for b in "$B1" "$B2"; do mset "$b" caps "$CAPS_NOTRACK"; done
    fresh
    migrate rate-alldirty --dirty-rate 0
    ad_ram=${R_ram_transferred:-?}; ad_sync=${R_dirty_sync_count:-?}; ad_ok=$R_status
    for b in "$B1" "$B2"; do mset "$b" caps "$CAPS_ALL"; done
    fresh
    if [ "$tr_ok" = completed ] && [ "$ad_ok" = completed ] &&
       [[ $tr_ram =~ ^[0-9]+$ ]] && [[ $ad_ram =~ ^[0-9]+$ ]] &&
       [[ $tr_sync =~ ^[1-9][0-9]*$ ]] && [[ $ad_sync =~ ^[1-9][0-9]*$ ]]; then
        result pass "RAM sent for a 64 MiB guest: with the tracker (function writing 500 pages/s, $tr_pages pages reported) $tr_ram bytes in $tr_sync syncs ($((tr_ram / tr_sync)) per sync); all-dirty (no tracker, enable-migration=on) $ad_ram bytes in $ad_sync syncs ($((ad_ram / ad_sync)) per sync)"
    else
        result fail "RAM per pass: tracked '$tr_ok' $tr_ram bytes / $tr_sync syncs, all-dirty '$ad_ok' $ad_ram / $ad_sync"
    fi
else
    migrate untracked --enable-migration auto --dirty-rate 0
    if [ "${R_blocked:-}" = yes ] && dmesg | grep -q "no DMA dirty tracking: this kernel cannot report"; then
        result pass "on $(uname -r) the driver offers no DMA logging (dmesg: '$(dmesg | grep -o 'no DMA dirty tracking: this kernel cannot report[^;]*' | head -1)'), and QEMU refuses the VM without enable-migration=on: ${R_blocked_reasons:-}"
    else
        result fail "on $(uname -r): blocked '${R_blocked:-?}' ${R_blocked_reasons:-} (want blocked), status '${R_status:-?}'; dmesg: $(dmesg | grep -o 'no DMA dirty tracking.*' | head -1)"
    fi
fi

# ---------- no migration without multi-load, tracking, or the VF's migratable ----------------
for missing in multi_load tracking_state migratable; do
    mset "$B1" caps "$(tr ' ' '\n' <<< "$CAPS_ALL" | grep -vx "$missing" | tr '\n' ' ')"
    dmesg -C
    rebind "$B1" > /dev/null
    why=$(dmesg | grep -o 'no migration: .*' | head -1)
    if [ ! -e "/sys/bus/pci/devices/$B1/vfio_migration" ] &&
       [ -c "/dev/vfio/$(basename "$(readlink "/sys/bus/pci/devices/$B1/iommu_group")")" ] &&
       [[ $why == *"$missing"* || ( $missing = migratable && $why == *"not enabled for migration"* ) ]]; then
        result pass "firmware without $missing: bound as a plain VFIO device (no vfio_migration/), the kernel says '$why'"
    else
        result fail "firmware without $missing: vfio_migration/ $( [ -e "/sys/bus/pci/devices/$B1/vfio_migration" ] && echo present || echo absent), kernel: '$why'"
    fi
done
mset "$B1" caps "$CAPS_ALL"
rebind "$B1" > /dev/null

# ---------- vfmig's tools on top -------------------------------------------------------------
run "$VIRT_VFMIG" device-info "$B1"
scs=$(field 'Stop-copy size' | grep -o '^[0-9]*')
if [ "$RC" = 0 ] && [ "$(field Migration)" = stop-copy,p2p,pre-copy ] &&
   [ "$(field State)" = RUNNING ] && [ "${scs:-0}" -ge "$STATE_SIZE" ]; then
    result pass "virt-vfmig device-info $B1 (vfmig_mlx5model): migration $(field Migration), state $(field State), stop-copy size $(field 'Stop-copy size') (MIG_DATA_SIZE: the whole image, as upstream reports it)"
else
    result fail "virt-vfmig device-info $B1: want exit 0, Migration stop-copy,p2p,pre-copy, State RUNNING, a stop-copy size of at least $STATE_SIZE"
    diag_run
fi
run "$VIRT_VFMIG" device-qualify "$B1" --no-record
if [ "$RC" = 0 ] && grep -q '^Verdict: *qualified' "$TMP/out"; then
    result pass "virt-vfmig device-qualify $B1 (vfmig_mlx5model): $(field Verdict), downtime $(field Downtime)"
else
    result fail "virt-vfmig device-qualify $B1 did not qualify the modelled VF"
    diag_run
fi

rmmod vfmig_mlx5model > "$TMP/err" 2>&1
if [ ! -d /sys/module/vfmig_mlx5model ]; then
    result pass "rmmod vfmig_mlx5model: clean"
else
    result fail "rmmod vfmig_mlx5model: $(tr '\n' ' ' < "$TMP/err")"
fi
tap_end
