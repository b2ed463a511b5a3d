#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/qemu.sh: QEMU 10 as the real client of vfmig_testdev.  In the
# guest, an L2 QEMU (TCG, q35, 64 MiB, no disk, SeaBIOS) gets one test
# device with -device vfio-pci,host=..., a second QEMU gets the other with
# -incoming, and the first live-migrates to the second over loopback
# (vm-qemu-migrate.py: QMP, return-path + switchover-ack on both ends, the
# source device dirtying its state while it runs, sysfs polled as QEMU
# migrates, QEMU's VFIO trace points for the stream's shape).
#
# Whether QEMU lets the device migrate depends on the kernel: QEMU >= 8.1
# blocks a VFIO device without device or IOMMU(FD) dirty tracking unless
# enable-migration=on.  On 6.1 the driver offers DMA logging, so there is
# no blocker; on Debian's 6.12 (no CONFIG_IOMMUFD_DRIVER, so no DMA
# logging) there is one, and enable-migration=on migrates.
#
# In VM_MODE=demo the same run is shown for people: the device's estimates
# from sysfs every 100 ms while QEMU migrates.
# vm-needs: testdev-ko
# vm-testdevs: 2

. "$VM_SRCDIR/lib.sh"
MIGRATE=$VM_SRCDIR/vm-qemu-migrate.py
STATE_SIZE=${VFMIG_VM_OPT_QEMU_STATE_SIZE:-8388608}
DIRTY_RATE=${VFMIG_VM_OPT_QEMU_DIRTY_RATE:-2097152}
STOP_DELAY=20000
RESUME_DELAY=20000
DEMO=false
[ "${VM_MODE:-test}" = demo ] && DEMO=true
SWITCH_OPT=()

# the demo first qualifies the source device with virt-vfmig
if $DEMO; then tap_plan 11; else tap_plan 10; fi

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}
DMALOG=false
grep -q '^CONFIG_IOMMUFD_DRIVER=y' "/boot/config-$(uname -r)" && DMALOG=true
[ "$(kernel_series)" = 6.1 ] && DMALOG=true

# ---------- set-up -----------------------------------------------------------------
ok=true
load_vfio && load_testdev && bind vfmig_testdev "$B1" "$B2" || ok=false
for b in "$B1" "$B2"; do
    tdset "$b" vfmig_testdev/state_size "$STATE_SIZE" &&
        tdset "$b" vfmig_testdev/p2p 1 &&
        tdset "$b" vfio_migration/precopy on &&
        tdset "$b" vfio_migration/multi_load 1 &&
        tdset "$b" vfmig_testdev/fault none || ok=false
done
tdset "$B1" vfmig_testdev/stop_delay_us "$STOP_DELAY" || ok=false
tdset "$B2" vfmig_testdev/resume_delay_us "$RESUME_DELAY" || ok=false
feat=$(tdget "$B1" vfio_migration/features)
if $ok; then
    result pass "set-up: $B1 (source) and $B2 (destination) on vfmig_testdev, state_size $STATE_SIZE, features '$feat', source stop delay $STOP_DELAY us, destination resume delay $RESUME_DELAY us"
else
    result fail "set-up failed:$BIND_MSG $(cat "$TMP/err" 2>/dev/null)"
fi
say "QEMU: $(qemu-system-x86_64 --version | head -1)"

# migrate NAME ENABLE-MIGRATION [extra options]: R_* variables from the results
migrate() {
    local name=$1 em=$2
    shift 2
    local opts=(--src "$B1" --dst "$B2" --workdir "$VM_OUT/qemu-$name" --port "$PORT"
                --enable-migration "$em" --dirty-rate "$DIRTY_RATE" "$@")
    PORT=$((PORT + 1))
    $DEMO && opts+=(--watch --poll-ms 100)
    timeout -k 5 300 /usr/bin/python3 "$MIGRATE" "${opts[@]}" > "$TMP/$name.out" 2> "$TMP/$name.err"
    MRC=$?
    WATCH=true qemu_results "$TMP/$name.out"
    [ -s "$TMP/$name.err" ] && sed 's/^/migrate stderr: /' "$TMP/$name.err" | diag
    return 0
}
PORT=4444

# ---------- the blocker (or its absence) ----------------------------------------------
if $DMALOG; then
    say "Linux $(uname -r): the driver offers DMA logging, so QEMU needs no enable-migration=on."
    EM=auto
else
    say "Linux $(uname -r): no CONFIG_IOMMUFD_DRIVER, so the driver offers no DMA logging;"
    say "QEMU blocks the device unless enable-migration=on (then all guest RAM counts as dirty)."
    migrate blocked auto
    if [ "${R_started:-}" = yes ] && [ "${R_blocked:-}" = yes ] &&
       [[ ${R_blocked_reasons:-} == *"dirty tracking"* ]]; then
        result pass "6.12, enable-migration=auto: QEMU reports the migration blocker '$R_blocked_reasons': as it should, the kernel has no CONFIG_IOMMUFD_DRIVER, so the driver registers no DMA logging and QEMU has no device dirty tracking (type1 dirty tracking does not count)"
    else
        result fail "6.12, enable-migration=auto: want a blocker about dirty tracking; started ${R_started:-?} (${R_start_error:-}), blocked ${R_blocked:-?}: '${R_blocked_reasons:-}' ${R_script_error:-}"
    fi
    EM=on
    # Without dirty tracking QEMU counts all 64 MiB of guest RAM dirty at
    # every sync, which the measured loopback bandwidth x the 300 ms
    # downtime limit never covers under TCG: tell QEMU the switchover
    # bandwidth instead (it only enters the switchover decision).
    SWITCH_OPT=(--avail-switchover-bandwidth 1073741824)
    say "With enable-migration=on all guest RAM stays dirty: avail-switchover-bandwidth 1 GiB/s lets QEMU switch over."
fi

# ---------- the demo: device-qualify ---------------------------------------------------
if $DEMO; then
    say ""
    say "Before any VM: virt-vfmig device-qualify $B1 moves the idle device's state"
    say "onto itself with vfmig's own engine (pre-copy, stop-copy, load, resume):"
    run "$VM_BUILDDIR/src/tools/virt-vfmig" device-qualify "$B1" --no-record
    while IFS= read -r line; do say "  $line"; done < "$TMP/out"
    if [ "$RC" = 0 ] && grep -q '^Verdict: *qualified' "$TMP/out"; then
        result pass "device-qualify $B1: $(field Verdict), downtime $(field Downtime)"
    else
        result fail "device-qualify $B1 did not qualify the device"
        diag_run
    fi
fi

# ---------- the migration --------------------------------------------------------------
$DEMO && say "" && say "Live migration, source device state: $STATE_SIZE bytes, dirtied at $DIRTY_RATE B/s while it runs:"
DMA_OPT=()
$DMALOG && DMA_OPT=(--dma-dirty "0x100000 0x2000")
migrate live "$EM" "${DMA_OPT[@]}" ${SWITCH_OPT[@]+"${SWITCH_OPT[@]}"}

if $DMALOG; then
    if [ "${R_started:-}" = yes ] && [ "${R_blocked:-}" = no ] &&
       [ "${R_trace_device_dirty_tracking_starts:-0}" -ge 1 ]; then
        result pass "enable-migration=auto: no migration blocker, QEMU started device dirty tracking (DMA logging) ${R_trace_device_dirty_tracking_starts} time(s)"
    else
        result fail "enable-migration=auto: want no blocker and device dirty tracking; started ${R_started:-?} (${R_start_error:-}), blocked ${R_blocked:-?} '${R_blocked_reasons:-}', dirty tracking starts ${R_trace_device_dirty_tracking_starts:-?} ${R_script_error:-}"
    fi
fi

if [ "${R_status:-}" = completed ] && [ "${R_dst_status:-}" = running ]; then
    result pass "enable-migration=$EM: migration completed in ${R_total_time_ms} ms (QEMU's total-time), destination VM running"
else
    result fail "enable-migration=$EM: migration status '${R_status:-?}' ${R_error_desc:-} ${R_script_error:-}, destination '${R_dst_status:-?}'"
    grep -v vfio_ "$VM_OUT/qemu-live/src.log" 2>/dev/null | tail -20 | sed 's/^/src qemu: /' | diag
    grep -v vfio_ "$VM_OUT/qemu-live/dst.log" 2>/dev/null | tail -20 | sed 's/^/dst qemu: /' | diag
    tail -5 "$VM_OUT/qemu-live/watch.log" 2>/dev/null | sed 's/^/sysfs: /' | diag
fi

if [ "${R_switchover_ack:-}" = on ]; then
    result pass "switchover-ack on (with return-path) on both ends"
else
    result fail "switchover-ack is '${R_switchover_ack:-?}'"
fi

if [[ ,${R_src_states_seen:-}, == *,PRE_COPY* ]] &&
   [[ ,${R_trace_src_states:-}, == *,PRE_COPY* ]] &&
   [ "${R_trace_precopy_bytes:-0}" -gt 0 ]; then
    result pass "PRE_COPY used: source device states seen in sysfs ${R_src_states_seen}; QEMU set ${R_trace_src_states}; ${R_trace_precopy_bytes} bytes sent before the VM stopped"
else
    result fail "PRE_COPY not seen: sysfs states '${R_src_states_seen:-}', QEMU set '${R_trace_src_states:-}', pre-copy bytes ${R_trace_precopy_bytes:-?}"
fi

if [ "${R_src_state_after:-}" = STOP ] && [ "${R_dst_state_after:-}" = RUNNING ] &&
   [[ ${R_trace_dst_states:-} == RESUMING*RUNNING* ]] &&
   [ "${R_src_qemu_errors:-1}" = 0 ] && [ "${R_dst_qemu_errors:-1}" = 0 ]; then
    result pass "device states after: source ${R_src_state_after}, destination ${R_dst_state_after} (QEMU set ${R_trace_dst_states} on the destination); no QEMU error on either side"
else
    result fail "device states after: source '${R_src_state_after:-?}' (want STOP), destination '${R_dst_state_after:-?}' (want RUNNING), QEMU set '${R_trace_dst_states:-}' on the destination; QEMU errors: source ${R_src_qemu_errors:-?} '${R_src_qemu_first_error:-}', destination ${R_dst_qemu_errors:-?} '${R_dst_qemu_first_error:-}'"
fi

if [ -n "${R_src_digest:-}" ] && [ "${R_src_digest}" = "${R_dst_digest:-}" ] &&
   [[ $R_src_digest =~ ^[0-9a-f]{64}$ ]]; then
    result pass "destination digest equals the source's: ${R_dst_digest:0:16}..."
else
    result fail "digests differ: source '${R_src_digest:-}', destination '${R_dst_digest:-}'"
fi

sl=${R_src_stop_latency_us:-0}
rl=${R_dst_resume_latency_us:-0}
if [[ $sl =~ ^[0-9]+$ ]] && [[ $rl =~ ^[0-9]+$ ]] &&
   [ "$sl" -ge "$STOP_DELAY" ] && [ "$rl" -ge "$RESUME_DELAY" ]; then
    result pass "device latencies in sysfs: source stop ${sl} us (delay $STOP_DELAY), destination resume ${rl} us (delay $RESUME_DELAY)"
else
    result fail "device latencies in sysfs: source stop '$sl' us (want >= $STOP_DELAY), destination resume '$rl' us (want >= $RESUME_DELAY)"
fi

if [ "${R_trace_stopcopy_bytes:-0}" -gt 0 ] &&
   [ "${R_trace_stopcopy_bytes:-0}" -lt "$STATE_SIZE" ] &&
   [ "${R_trace_dst_loaded_bytes:-0}" -gt 0 ]; then
    result pass "stream shape: ${R_trace_precopy_bytes} bytes in pre-copy, ${R_trace_stopcopy_bytes} in stop-copy (the residue, less than the $STATE_SIZE-byte state); destination loaded ${R_trace_dst_loaded_bytes}"
else
    result fail "stream shape: pre-copy ${R_trace_precopy_bytes:-?}, stop-copy ${R_trace_stopcopy_bytes:-?} (want 0 < stop-copy < $STATE_SIZE), destination loaded ${R_trace_dst_loaded_bytes:-?}"
fi

if $DMALOG; then
    if [ "${R_dma_dirty_marked:-}" = yes ] && [ "${R_trace_dirty_bitmap_pages:-0}" -gt 0 ]; then
        result pass "DMA logging report reaches QEMU: dma_dirty marked 0x100000+0x2000 during pre-copy, QEMU's reports counted ${R_trace_dirty_bitmap_pages} dirty pages in ${R_trace_dirty_bitmap_reports} reports"
    else
        result fail "DMA logging report: dma_dirty '${R_dma_dirty_marked:-?}', QEMU's reports counted ${R_trace_dirty_bitmap_pages:-?} dirty pages in ${R_trace_dirty_bitmap_reports:-?} reports"
    fi
else
    err=$( { echo "0x100000 0x1000" > "/sys/bus/pci/devices/$B1/vfmig_testdev/dma_dirty"; } 2>&1 )
    err=${err##*: }
    if [[ $err == *"not supported"* ]]; then
        result pass "dma_dirty on $(uname -r): refused ($err): no DMA logging without CONFIG_IOMMUFD_DRIVER"
    else
        result fail "dma_dirty on $(uname -r): '${err:-accepted}', want 'Operation not supported'"
    fi
fi

# the numbers the lead quotes
echo "# downtime_ms=${R_downtime_ms:-?} total_time_ms=${R_total_time_ms:-?} setup_time_ms=${R_setup_time_ms:-?} wall_s=${R_wall_s:-?} downtime_limit_ms=${R_downtime_limit_ms:-?}"
echo "# precopy_bytes=${R_trace_precopy_bytes:-?} stopcopy_bytes=${R_trace_stopcopy_bytes:-?} vfio_transferred=${R_vfio_transferred:-?} ram_transferred=${R_ram_transferred:-?} state_size=$STATE_SIZE dirty_rate=$DIRTY_RATE"
echo "# src_stop_latency_us=${R_src_stop_latency_us:-?} dst_resume_latency_us=${R_dst_resume_latency_us:-?} max_initial_bytes=${R_max_initial_bytes:-?} max_dirty_bytes=${R_max_dirty_bytes:-?} polls=${R_polls:-?} enable_migration=$EM avail_switchover_bandwidth=${R_avail_switchover_bandwidth:-?}"
if $DEMO; then
    say ""
    say "QEMU says: downtime ${R_downtime_ms:-?} ms, total ${R_total_time_ms:-?} ms; the device sent ${R_trace_precopy_bytes:-?} bytes while the VM ran (pre-copy) and ${R_trace_stopcopy_bytes:-?} after it stopped (stop-copy)."
    say "Device latencies (sysfs): source stop ${R_src_stop_latency_us:-?} us, destination resume ${R_dst_resume_latency_us:-?} us."
    say "Digests: source ${R_src_digest:-?}"
    say "         dest   ${R_dst_digest:-?}"
fi
tap_end
