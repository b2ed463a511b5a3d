#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-steer.sh: libvirt's measured downtime of plain `virsh migrate`,
# stock against steered by virt-vfmigd, side by side in one run, per
# scenario.
#
# Runs in the VM rig as the suite bench-steer (tests/vm/suites/
# bench-steer.sh sources it):
#
#   VFMIG_VM_OPT_BENCH_SCENARIOS="S0 S4 S6" \
#   meson test -C BUILD --benchmark --suite vm-bench -v vm-bench-steer-6.1
#
# Two libvirt 11.3 hosts (libvirt-hosts.sh), a TCG domain (64 MiB) with a
# test VF prepared by `virt-vfmig domain-prepare`, vfmig's hook on both
# hosts.  For each scenario and run i, one pair, back to back, the domain
# moving to the other host each time:
#   stock:   no virt-vfmigd running; `virsh migrate-setmaxdowntime T` on
#            the source, then `virsh migrate --live`;
#   steered: virt-vfmigd running on both hosts, the domain's policy
#            target T and on-failure (set with `virsh metadata --live`),
#            then the same `virsh migrate --live`.
# A stock migration that has not completed after VFMIG_VM_OPT_BENCH_CAP
# seconds (default 45) is cancelled (domjobabort) and counted as never
# completing: QEMU would go on for ever.
# Two steered warm-up migrations first, so that the daemons learned
# libvirt's overhead on this rig (not counted).
#
# The scenarios (the VF: state, dirty rate, stop and resume delay, what its
# MIG_DATA_SIZE answers; the target and on-failure; the guest and the
# link):
#   S0  8 MiB, 2 MiB/s, 50 ms, residue;            1200 ms, best effort
#       (the rig's idle case, as before)
#   S1  ONE modelled ConnectX VF (vfmig_mlx5model, below) with 128 MiB
#       of state, 512 KiB/s, 20 ms per firmware command: its MIG_DATA_SIZE
#       is the whole state, its true residue small; 1500 ms, best effort;
#       the rig's idle guest, loopback, no switchover bandwidth (as Nova
#       and a plain `virsh migrate` pass none); on 6.1 the VF now tracks
#       its DMA
#   S1b the same with MIG_DATA_SIZE the incremental image (vfmig's
#       answer; runs in S1's run)
#   S2a FOUR modelled ConnectX VFs (vfmig_mlx5model: mlx5_vfio_pci's logic
#       over a MODEL of the firmware, whose MIG_DATA_SIZE is the whole
#       state, and which has no DMA dirty tracking: QEMU counts all guest
#       RAM dirty at every pass), 8 MiB each, 1 MiB/s each, 20 ms per
#       firmware command; 2000 ms, best effort; a 200 Mbit/s link; no
#       switchover bandwidth (Nova passes none); the VFs' state over the
#       main channel
#   S2b the same over multifd (--parallel --parallel-connections 4, QEMU
#       10's per-device multifd transfer; runs in S2a's run)
#   S3a 8 MiB, 2 MiB/s, 50 ms, residue;            1000 ms, best effort;
#       a guest that boots and rewrites 64 MiB at 2 MiB/s, a 200 Mbit/s
#       link (rate below the link)
#   S3b the same with the guest rewriting at 8 MiB/s (near the link: QEMU
#       measures about twice the guest's own rate under nested TCG)
#   S4  8 MiB, 2 MiB/s, 250 ms, residue;           1200 ms, best effort
#   S5  S3a's VF, guest and link on 6.12, where QEMU counts all guest RAM
#       dirty at every pass (no device dirty tracking); 1000 ms, best
#       effort (run it with vm-bench-steer-6.12)
#   S6  8 MiB, 2 MiB/s, 100 ms, residue;           300 ms, abort
#   S8a FOUR modelled ConnectX VFs as in S2a, now with the driver's DMA
#       dirty tracking (6.1: QEMU re-sends only what the guest dirtied),
#       1000 ms, best effort, MIG_DATA_SIZE answering the whole state
#       (upstream's answer: the model's data_size knob "whole")
#   S8b the same with MIG_DATA_SIZE answering the incremental image the
#       switch-over will send (vfmig's answer; runs in S8a's run)
#   S9  ONE modelled ConnectX VF (8 MiB, 1 MiB/s, 20 ms per firmware
#       command, MIG_DATA_SIZE the incremental image) under S3a's guest
#       and link, no switchover bandwidth; 1000 ms, best effort.  Run it
#       on both kernels: on 6.1 the driver tracks the VF's DMA and QEMU
#       re-sends what the guest dirtied; on 6.12 QEMU counts all guest RAM
#       dirty at every pass (enable-migration=on).  The table's RAM
#       columns (libvirt's memory processed and iterations) say what each
#       pass cost
#   S7  S3b with the guest paused (virsh suspend, as Nova's force_complete
#       does) 4 s after the VF entered PRE_COPY: the migration must
#       complete, steered released at once for the pause (runs in S3b's
#       run on 6.1; alone on 6.12, where all guest RAM is dirty)
# All scenarios of one run share a state size, the VFs, a guest and a
# link (S3a, S5 and S9 each run alone; S1 with S1b; S3b with S7; S2a with
# S2b; S8a with S8b).
#
# The guest: "idle" is the rig's SeaBIOS domain (64 MiB, no disk: its RAM
# never changes); "dirty" boots this machine's kernel directly into
# vm-dirty-guest (libvirt-hosts.sh: LVH_GUEST=dirty), which rewrites a
# working set at a rate of its own time, so QEMU's RAM pre-copy has to
# converge for real (nested TCG: the boot takes about 4 minutes).  The
# link: the veth between the hosts shaped by a token bucket (tc tbf) on
# both ends, so the pre-copy and the switch-over both see it (QEMU lifts
# its own --bandwidth limit at the switch-over: a cap is not a link).
#
# Per run: libvirt's "Total downtime" (domjobinfo --completed on the
# destination), met or not, the migration's wall time; for steered runs
# the daemon's prediction at the switch, how it ended (released on a
# switch-over, a best-effort switch, cancelled by the pre-flight or by the
# policy), and the VF's held_stops (a switch QEMU took while held: a
# breach of the hold).  One TAP check per scenario and mode passes when
# every migration of it ended as the scenario expects; the table also goes
# to VM_OUT/bench-steer.txt (BUILD/tests/vm/run-NAME/out/).
#
# VFMIG_VM_OPT_BENCH_SCENARIOS (default "S0 S4 S6"; on 6.12 "S5"),
# VFMIG_VM_OPT_BENCH_RUNS (pairs per scenario, default 10;
# VFMIG_VM_OPT_BENCH_RUNS_S7 for S7),
# VFMIG_VM_OPT_BENCH_CAP (s, default 45).

. "$VM_SRCDIR/lib.sh"
. "$VM_SRCDIR/libvirt-hosts.sh"

SCENARIOS=${VFMIG_VM_OPT_BENCH_SCENARIOS:-$([ "$(kernel_series)" = 6.1 ] && echo "S0 S4 S6" || echo S5)}
RUNS=${VFMIG_VM_OPT_BENCH_RUNS:-10}
CAP=${VFMIG_VM_OPT_BENCH_CAP:-45}
SWITCH_BW=1024
HOOK=$VM_BUILDDIR/src/tools/50-vfmig
TABLE=${VM_OUT:-$TMP}/bench-steer.txt
NS=http://vfmig.org/xmlns/libvirt/domain/1.0
# the poll of a migration reads no digest: hashing the VF's state under
# its lock at STOP_COPY would add to the downtime measured (128 MiB: over
# a second under nested TCG)
LVH_POLL_DIGEST=no

# scenario NAME: sets S_SIZE S_DIRTY S_DELAY S_DATA S_TARGET S_FAIL, and
# the guest and link S_GUEST S_WS (MiB) S_GRATE (KiB/s) S_LINK (Mbit/s, 0:
# unshaped); the VFs S_VF (testdev or mlx5: the firmware model, whose
# S_DELAY is its delay per command) S_NVF (per host), S_PAR (1: multifd);
# S_SWBW none: no --available-switchover-bandwidth (as Nova migrates),
# rig: the rig's rule below
scenario() {
    S_GUEST=idle S_WS=0 S_GRATE=0 S_LINK=0 S_PAUSE=0 S_VF=testdev S_NVF=1 S_PAR=0 S_SWBW=rig
    case $1 in
    S0) S_SIZE=8388608 S_DIRTY=2097152 S_DELAY=50000 S_DATA=residue S_TARGET=1200 S_FAIL=best-effort ;;
    S1|S1b)
        S_SIZE=134217728 S_DIRTY=524288 S_DELAY=20000 S_DATA=whole S_TARGET=1500 S_FAIL=best-effort
        S_VF=mlx5 S_SWBW=none
        if [ "$1" = S1b ]; then S_DATA=incremental; fi ;;
    S2a|S2b)
        S_SIZE=8388608 S_DIRTY=1048576 S_DELAY=20000 S_DATA=whole S_TARGET=2000 S_FAIL=best-effort
        S_VF=mlx5 S_NVF=4 S_LINK=200 S_SWBW=none
        if [ "$1" = S2b ]; then S_PAR=1; fi ;;
    S8a|S8b)
        S_SIZE=8388608 S_DIRTY=1048576 S_DELAY=20000 S_DATA=whole S_TARGET=1000 S_FAIL=best-effort
        S_VF=mlx5 S_NVF=4 S_LINK=200 S_SWBW=none
        if [ "$1" = S8b ]; then S_DATA=incremental; fi ;;
    S3a|S5)
        S_SIZE=8388608 S_DIRTY=2097152 S_DELAY=50000 S_DATA=residue S_TARGET=1000 S_FAIL=best-effort
        S_GUEST=dirty S_WS=64 S_GRATE=2048 S_LINK=200 ;;
    S3b|S7)
        S_SIZE=8388608 S_DIRTY=2097152 S_DELAY=50000 S_DATA=residue S_TARGET=1000 S_FAIL=best-effort
        S_GUEST=dirty S_WS=64 S_GRATE=8192 S_LINK=200
        if [ "$1" = S7 ]; then S_PAUSE=4; fi ;;
    S9)
        S_SIZE=8388608 S_DIRTY=1048576 S_DELAY=20000 S_DATA=incremental S_TARGET=1000 S_FAIL=best-effort
        S_VF=mlx5 S_SWBW=none S_GUEST=dirty S_WS=64 S_GRATE=2048 S_LINK=200 ;;
    S4) S_SIZE=8388608 S_DIRTY=2097152 S_DELAY=250000 S_DATA=residue S_TARGET=1200 S_FAIL=best-effort ;;
    S6) S_SIZE=8388608 S_DIRTY=2097152 S_DELAY=100000 S_DATA=residue S_TARGET=300 S_FAIL=abort ;;
    *) return 1 ;;
    esac
}

first=${SCENARIOS%% *}
scenario "$first" || { echo "Bail out! unknown scenario '$first'"; exit 1; }
SHARED="$S_SIZE $S_GUEST $S_WS $S_GRATE $S_LINK $S_VF $S_NVF"
for sc in $SCENARIOS; do
    scenario "$sc" || { echo "Bail out! unknown scenario '$sc'"; exit 1; }
    [ "$S_SIZE $S_GUEST $S_WS $S_GRATE $S_LINK $S_VF $S_NVF" = "$SHARED" ] ||
        { echo "Bail out! scenario $sc has another state size, VFs, guest or link than $first: run it alone"; exit 1; }
    case $sc in
    S5) [ "$(kernel_series)" != 6.1 ] || { echo "Bail out! S5 is the all-dirty case: run it on 6.12"; exit 1; } ;;
    S7|S9) ;;
    S*) [ "$(kernel_series)" = 6.1 ] || { echo "Bail out! $sc runs on 6.1"; exit 1; } ;;
    esac
done
scenario "$first"
STATE_SIZE=$S_SIZE
LVH_GUEST=$S_GUEST
LVH_GUEST_WS_MIB=$S_WS
LVH_GUEST_RATE_KIB=$S_GRATE
LINK=$S_LINK
VF_KIND=$S_VF
NVF=$S_NVF

nscen=$(wc -w <<< "$SCENARIOS")
tap_plan $((4 + 2 * nscen))

find_testdevs
# the VFs of src and dst: NVF each, comma-separated
B1=$(IFS=,; echo "${TESTDEVS[*]:0:NVF}")
B2=$(IFS=,; echo "${TESTDEVS[*]:NVF:NVF}")
[ -n "$B1" ] || B1=none
[ -n "$B2" ] || B2=none
ALL_VFS=(${B1//,/ } ${B2//,/ })
trap 'lvh_stop_all' EXIT

if [ "${#TESTDEVS[@]}" -lt $((2 * NVF)) ]; then
    LVH_SETUP_MSG=" ${#TESTDEVS[@]} pci-testdevs, want $((2 * NVF))"
    result fail "set-up failed:$LVH_SETUP_MSG"
elif [ "$VF_KIND" = mlx5 ] && lvh_mlx5vfs "$STATE_SIZE" "${ALL_VFS[@]}"; then
    result pass "set-up: $NVF modelled ConnectX VFs a host:$LVH_SETUP_MSG"
elif [ "$VF_KIND" = testdev ] && lvh_testdevs "$STATE_SIZE" "$S_DELAY" "${ALL_VFS[@]}"; then
    result pass "set-up:$LVH_SETUP_MSG"
else
    result fail "set-up failed:$LVH_SETUP_MSG"
fi
MIG_OPTS=()
# the idle guest where the VFs have no dirty tracking (6.12, the firmware
# model): QEMU counts its 64 MiB dirty at every pass and would never reach
# a limit on its own estimate of the bandwidth (the rig's loopback is
# faster than it measures), so it gets the switchover bandwidth our docs
# tell users to give; a guest that works is migrated as a user would,
# with nothing added
$LVH_NEED_EM && [ "$LVH_GUEST" = idle ] && MIG_OPTS=(--available-switchover-bandwidth "$SWITCH_BW")

ok=true
{ lvh_start src 1 && lvh_wait src && lvh_start dst 2 && lvh_wait dst && lvh_link src dst; } \
    2> "$TMP/hosts.err" || ok=false
# the link: a token bucket on both ends of the veth
if $ok && [ "$LINK" -gt 0 ]; then
    lvh_shape "$LINK" src dst 2>> "$TMP/hosts.err" || ok=false
fi
for h in src dst; do
    $ok && lvh_install_hook "$h" "$HOOK" 50-vfmig >> "$TMP/hosts.err" 2>&1 || ok=false
done
if $ok; then
    result pass "two libvirtd $(libvirtd --version | awk '{print $NF}') hosts with vfmig's hook; link: $([ "$LINK" -gt 0 ] && echo "$LINK Mbit/s (tbf)" || echo veth, unshaped)"
else
    result fail "hosts: $(tr '\n' ' ' < "$TMP/hosts.err")"
fi

if lvh_domain_up "$B1" 900 --on-failure best-effort; then
    result pass "domain $LVH_DOM prepared by domain-prepare and running on src; $LVH_READY_MSG"
else
    result fail "domain: $LVH_DOMAIN_MSG; domain-prepare: $(tr '\n' ' ' < "$TMP/prep.out")"
fi

HERE=src
THERE=dst
declare -A DEV=([src]=$B1 [dst]=$B2)

# set_policy T ONFAIL: the policy's target and on-failure of the running
# domain, on HERE
set_policy() {
    local meta
    meta=$(lvh_virsh "$HERE" metadata "$LVH_DOM" "$NS" 2> /dev/null) || return 1
    meta=$(sed -E "s/target-ms=[\"'][0-9]+[\"']/target-ms=\"$1\"/g; s/on-failure=[\"'][a-z-]+[\"']/on-failure=\"$2\"/g" <<< "$meta")
    lvh_virsh "$HERE" metadata "$LVH_DOM" "$NS" --key vfmig --set "$meta" --live --config > /dev/null
}

# devices SCENARIO: the VFs as the scenario has them (the modelled
# ConnectX VFs answer MIG_DATA_SIZE with the whole state, as upstream's
# driver, unless the scenario says incremental)
devices() {
    local b
    scenario "$1"
    for b in "${ALL_VFS[@]}"; do
        if [ "$VF_KIND" = mlx5 ]; then
            lvh_knob_set "$b" cmd_delay_us "$S_DELAY"
            lvh_knob_set "$b" data_size "$([ "$S_DATA" = incremental ] && echo incremental || echo whole)"
            continue
        fi
        tdset "$b" vfmig_testdev/stop_delay_us "$S_DELAY"
        tdset "$b" vfmig_testdev/resume_delay_us "$S_DELAY"
        tdset "$b" vfmig_testdev/data_size "$S_DATA"
    done
}

# dirty_rate HOST RATE: each of HOST's VFs dirties RATE bytes/s
dirty_rate() {
    local b
    for b in ${DEV[$1]//,/ }; do lvh_knob_set "$b" dirty_rate "$2"; done
}

# held_stops HOST: the switches QEMU took while held, HOST's VFs summed
held_stops() {
    local b n=0
    for b in ${DEV[$1]//,/ }; do n=$(( n + $(tdget "$b" vfio_migration/held_stops) )); done
    echo "$n"
}

# one SCENARIO MODE: one migration HERE -> THERE; appends a row to
# $TMP/rows: scenario mode target rc downtime predicted end held_stops wall
# ram_mib iterations (libvirt's memory processed and QEMU's RAM passes, of
# a completed migration)
one() {
    local sc=$1 mode=$2 name log0=0 dt pred="" end=- line stops0 stops capped=no wd sp
    local raw ram=- iters=-
    local -a opts=()
    scenario "$sc"
    [ "$S_SWBW" = none ] || opts=(${MIG_OPTS[@]+"${MIG_OPTS[@]}"})
    name="$sc-$mode-$((++MIGS))"
    dirty_rate "$HERE" "$S_DIRTY"
    stops0=$(held_stops "$HERE")
    # multifd: QEMU 10 sends each VF's state over the channels
    # (x-migration-multifd-transfer defaults to auto)
    [ "$S_PAR" -eq 1 ] && opts+=(--parallel --parallel-connections 4)
    if [ "$mode" = stock ]; then
        lvh_virsh "$HERE" migrate-setmaxdowntime "$LVH_DOM" "$S_TARGET" > /dev/null
    else
        set_policy "$S_TARGET" "$S_FAIL" || diag "$name: setting the policy failed"
        log0=$(wc -l < "$TMP/vfmigd-$HERE.log")
    fi
    lvh_mig_start "$name" "$HERE" "$THERE" "${DEV[$HERE]}" "${DEV[$THERE]}" "${DEV[$THERE]}" \
        ${opts[@]+"${opts[@]}"}
    # the user's (or Nova's force_complete) pause, S_PAUSE s after the VF
    # entered PRE_COPY (libvirt's own set-up takes 5-8 s here: a pause
    # timed from the command would stop the guest before QEMU starts)
    sp=
    if [ "$S_PAUSE" -gt 0 ]; then
        (
            f=/sys/bus/pci/devices/${DEV[$HERE]%%,*}/vfio_migration/state
            lvh_mig_wait_state PRE_COPY 60
            sleep "$S_PAUSE"
            { date +%s.%N; lvh_virsh "$HERE" suspend "$LVH_DOM"; cat "$f"; } > "$TMP/suspend.out" 2>&1
        ) &
        sp=$!
    fi
    rm -f "$TMP/capped"
    ( sleep "$CAP"; touch "$TMP/capped"; lvh_virsh "$HERE" domjobabort "$LVH_DOM" > /dev/null 2>&1 ) &
    wd=$!
    lvh_mig_finish > /dev/null
    kill "$wd" 2> /dev/null
    wait "$wd" 2> /dev/null
    [ -e "$TMP/capped" ] && capped=yes
    stops=$(( $(held_stops "$HERE") - stops0 ))
    dt=
    if [ "$MIG_RC" -eq 0 ]; then
        dt=$(lvh_virsh "$THERE" domjobinfo --completed --keep-completed "$LVH_DOM" 2> /dev/null |
             sed -n 's/^Total downtime: *\([0-9]*\).*/\1/p')
        raw=$(lvh_virsh "$THERE" domjobinfo --completed --rawstats "$LVH_DOM" 2> /dev/null)
        ram=$(sed -n 's/^ *memory_processed *: *\([0-9]*\).*/\1/p' <<< "$raw")
        [ -n "$ram" ] && ram=$(( ram / 1048576 )) || ram=-
        iters=$(sed -n 's/^ *memory_iteration *: *\([0-9]*\).*/\1/p' <<< "$raw")
        [ -n "$iters" ] || iters=-
    fi
    if [ "$mode" = stock ]; then
        [ "$capped" = yes ] && end=never
    else
        for _ in $(seq 100); do
            line=$(tail -n "+$((log0 + 1))" "$TMP/vfmigd-$HERE.log" |
                   grep -m1 -E ": migrated; |: migration cancelled|: migration ended without")
            [ -n "$line" ] && break
            sleep 0.1
        done
        pred=$(sed -n 's/.*predicted \([0-9]*\) ms, target.*/\1/p' <<< "$line")
        if [[ $line == *"the guest was paused during the migration"* ]]; then
            end=paused
        elif [[ $line == *"cancelled by the pre-flight"* ]]; then
            end=preflight
        elif [[ $line == *"migration cancelled"* ]]; then
            end=aborted
        elif tail -n "+$((log0 + 1))" "$TMP/vfmigd-$HERE.log" | grep -q ": released (switch-over, "; then
            end=converged
        elif tail -n "+$((log0 + 1))" "$TMP/vfmigd-$HERE.log" | grep -q ": released (switch-anyway, "; then
            end=best-effort
        fi
        [ "$capped" = yes ] && end=never
    fi
    dirty_rate "$HERE" 0
    [ -n "$sp" ] && wait "$sp"
    if [ "$S_PAUSE" -gt 0 ]; then
        # the pause moves with the domain: resumed where it runs now
        local on=$HERE
        [ "$MIG_RC" -eq 0 ] && on=$THERE
        # libvirt resumes a guest paused during the migration on the
        # destination; one that failed stays paused on the source
        [ "$(lvh_virsh "$on" domstate "$LVH_DOM" 2> /dev/null | head -1)" = running ] ||
            lvh_virsh "$on" resume "$LVH_DOM" > /dev/null 2>&1 ||
            diag "$name: virsh resume on $on failed: $(lvh_virsh "$on" domstate "$LVH_DOM" --reason 2>&1)"
        diag "$name: paused: $(tr '\n' ' ' < "$TMP/suspend.out")"
        [ "$mode" = stock ] && [ "$MIG_RC" -eq 0 ] && end=paused
    fi
    echo "$sc $mode $S_TARGET $MIG_RC ${dt:--} ${pred:--} $end $stops $MIG_S $ram $iters" >> "$TMP/rows"
    diag "$name: $HERE -> $THERE exit $MIG_RC in $MIG_S s; libvirt downtime ${dt:-none} ms (target $S_TARGET, $S_FAIL)${pred:+, predicted $pred ms}; end $end; held stops $stops; RAM $ram MiB in $iters passes"
    if [ "$MIG_RC" -eq 0 ]; then
        local x=$HERE
        HERE=$THERE
        THERE=$x
    fi
}

MIGS=0
rm -f "$TMP/rows"
ok=true
devices "$first"
lvh_vfmigd_start src "$TMP/vfmigd-src.log" && lvh_vfmigd_start dst "$TMP/vfmigd-dst.log" || ok=false
one "$first" steered
one "$first" steered
w=$(awk '$2 == "steered" && $4 == 0' "$TMP/rows" | wc -l)
if $ok && [ "$w" -eq 2 ]; then
    result pass "warm-up: 2 steered migrations; overhead learned: $(grep -h 'overhead now' "$TMP"/vfmigd-*.log | sed 's/.*overhead now/overhead now/' | tr '\n' ' ')"
else
    result fail "warm-up: daemons up: $ok, migrations completed: $w of 2"
fi
rm -f "$TMP/rows"

for sc in $SCENARIOS; do
    devices "$sc"
    runs=$RUNS
    [ "$sc" = S7 ] && runs=${VFMIG_VM_OPT_BENCH_RUNS_S7:-$RUNS}
    for i in $(seq "$runs"); do
        lvh_vfmigd_stop src
        lvh_vfmigd_stop dst
        one "$sc" stock
        lvh_vfmigd_start src "$TMP/vfmigd-src.log"
        lvh_vfmigd_start dst "$TMP/vfmigd-dst.log"
        one "$sc" steered
    done
    # what must hold in every run: stock ran (completed, or never did
    # within the cap); steered: no switch while held, and under abort no
    # completed migration over the target
    for mode in stock steered; do
        n=$(awk -v s="$sc" -v m=$mode '$1 == s && $2 == m' "$TMP/rows" | wc -l)
        bad=$(awk -v s="$sc" -v m=$mode '$1 == s && $2 == m &&
                  (($4 != 0 && $7 != "never" && $7 != "preflight" && $7 != "aborted") ||
                   (m == "steered" && $8 > 0) ||
                   (m == "steered" && $4 == 0 && $5 != "-" && $5 > $3 && "'"$S_FAIL"'" == "abort"))' \
              "$TMP/rows" | wc -l)
        # S7: every run completed, every steered one released for the
        # pause; the pause itself moves the VF to STOP_COPY while the
        # device still holds (held_stops 1: the guest's stop, not a
        # switch-over QEMU took while held), nothing more
        [ "$sc" = S7 ] &&
            bad=$(awk -v s="$sc" -v m=$mode '$1 == s && $2 == m && ($4 != 0 || $7 != "paused" || $8 > 1)' \
                  "$TMP/rows" | wc -l)
        if [ "$n" -eq "$runs" ] && [ "$bad" -eq 0 ]; then
            result pass "$sc, $mode: $n runs, each ended as expected"
        else
            result fail "$sc, $mode: $bad of $n runs failed, switched while held, or breached an abort target"
        fi
    done
done

# the table
{
    echo "# bench-steer on $(uname -r): scenarios $SCENARIOS, $RUNS pairs each, cap $CAP s"
    echo "# VFs: $NVF a host, $([ "$VF_KIND" = mlx5 ] && echo "modelled ConnectX (vfmig_mlx5model)" || echo "vfmig_testdev"), $STATE_SIZE bytes of state each"
    echo "# guest $LVH_GUEST$([ "$LVH_GUEST" = dirty ] && echo " (working set $LVH_GUEST_WS_MIB MiB at $LVH_GUEST_RATE_KIB KiB/s)"); link $([ "$LINK" -gt 0 ] && echo "$LINK Mbit/s (tbf)" || echo "veth, unshaped")"
    [ "$LVH_GUEST" = idle ] || echo "# the guest's last report: $(lvh_console "$HERE" | grep '^vfmig-dirty: t=' | tail -1)"
    echo "# host load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (in the guest)"
    echo "# scenario mode target rc libvirt_downtime_ms predicted_ms end held_stops wall_s ram_mib ram_passes"
    cat "$TMP/rows"
    echo "#"
    python3 - "$TMP/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
for sc in sorted({r[0] for r in rows}):
    for mode in ("stock", "steered"):
        rs = [r for r in rows if r[0] == sc and r[1] == mode]
        if not rs:
            continue
        t = int(rs[0][2])
        done = [r for r in rs if r[3] == "0" and r[4] != "-"]
        dts = [int(r[4]) for r in done]
        met = sum(1 for d in dts if d <= t)
        walls = [float(r[8]) for r in done]
        ends = {}
        for r in rs:
            ends[r[6]] = ends.get(r[6], 0) + 1
        line = f"# {sc} target {t} ms {mode:7}: met {met}/{len(rs)}, completed {len(done)}/{len(rs)}"
        if dts:
            line += (f"; downtime median {statistics.median(dts):.0f} ms, max {max(dts)}"
                     f"; wall median {statistics.median(walls):.1f} s")
        errs = [abs(int(r[5]) - int(r[4])) / int(r[4]) * 100
                for r in done if r[5] != "-"]
        if errs:
            line += f"; |prediction error| median {statistics.median(errs):.0f} %"
        rams = [int(r[9]) for r in done if len(r) > 10 and r[9] != "-"]
        its = [int(r[10]) for r in done if len(r) > 10 and r[10] != "-"]
        if rams and its:
            line += (f"; RAM median {statistics.median(rams):.0f} MiB"
                     f" in {statistics.median(its):.0f} passes")
        line += "; ends " + ", ".join(f"{k} {v}" for k, v in sorted(ends.items()))
        line += f"; switches while held {sum(int(r[7]) for r in rs)}"
        print(line)
PY
} > "$TABLE"
diag < "$TABLE"
# the daemons' logs (each step's prediction) and the guest's console
cp "$TMP"/vfmigd-*.log "${VM_OUT:-$TMP}/" 2> /dev/null
[ "$LVH_GUEST" = idle ] || lvh_console "$HERE" > "${VM_OUT:-$TMP}/guest-console.txt"

lvh_stop_all
trap - EXIT
tap_end
