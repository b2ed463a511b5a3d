#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-steer.sh: libvirt's measured downtime of plain `virsh migrate`,
# stock against steered by virt-vfmigd, side by side in one run.
#
# Runs in the VM rig as the suite bench-steer (tests/vm/suites/
# bench-steer.sh sources it):
#
#   meson test -C BUILD --benchmark --suite vm-bench -v vm-bench-steer-6.1
#
# Two libvirt 11.3 hosts (libvirt-hosts.sh), a TCG domain (64 MiB) with a
# test VF (8 MiB of state dirtied at 2 MiB/s, 50 ms stop and resume
# delays), prepared by `virt-vfmig domain-prepare`, vfmig's hook on both
# hosts.  For each target T and run i, one pair, back to back, the
# domain moving to the other host each time:
#   stock:   no virt-vfmigd running; `virsh migrate-setmaxdowntime T` on
#            the source, then `virsh migrate --live`;
#   steered: virt-vfmigd running on both hosts, the domain's policy
#            target T (best effort; set with `virsh metadata --live`),
#            then the same `virsh migrate --live`.
# Two steered warm-up migrations first, so that the daemons learned
# libvirt's overhead on this rig (not counted).
#
# Per run: libvirt's "Total downtime" (domjobinfo --completed on the
# destination), met or not, the migration's wall time; for steered runs
# the daemon's prediction at the switch and its error, and whether the
# controller judged the migration convergent (it released the limit on a
# switch-over decision, not a best-effort switch).  One TAP check per
# target and mode passes when every migration of it completed; the table
# also goes to VM_OUT/bench-steer.txt (BUILD/tests/vm/run-NAME/out/).
# The goal (issue 14): >= 95 % of the steered runs judged convergent meet
# the target.
#
# VFMIG_VM_OPT_BENCH_TARGETS (ms, default "1200 1600"),
# VFMIG_VM_OPT_BENCH_RUNS (pairs per target, default 10).

. "$VM_SRCDIR/lib.sh"
. "$VM_SRCDIR/libvirt-hosts.sh"

TARGETS=${VFMIG_VM_OPT_BENCH_TARGETS:-1200 1600}
RUNS=${VFMIG_VM_OPT_BENCH_RUNS:-10}
STATE_SIZE=8388608
DIRTY_RATE=2097152
DELAY_US=50000
SWITCH_BW=1024
VFMIG=$VM_BUILDDIR/src/tools/virt-vfmig
HOOK=$VM_BUILDDIR/src/tools/50-vfmig
TABLE=${VM_OUT:-$TMP}/bench-steer.txt
NS=http://vfmig.org/xmlns/libvirt/domain/1.0

ntargets=$(wc -w <<< "$TARGETS")
tap_plan $((4 + 2 * ntargets))

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}
MIG_OPTS=()
$LVH_NEED_EM && MIG_OPTS=(--available-switchover-bandwidth "$SWITCH_BW")
trap 'lvh_stop_all' EXIT

if lvh_testdevs "$STATE_SIZE" "$DELAY_US" "$B1" "$B2"; then
    result pass "set-up:$LVH_SETUP_MSG"
else
    result fail "set-up failed:$LVH_SETUP_MSG"
fi

ok=true
{ lvh_start src 1 && lvh_wait src && lvh_start dst 2 && lvh_wait dst && lvh_link src dst; } \
    2> "$TMP/hosts.err" || ok=false
for h in src dst; do
    $ok && lvh_install_hook "$h" "$HOOK" 50-vfmig >> "$TMP/hosts.err" 2>&1 || ok=false
done
if $ok; then
    result pass "two libvirtd $(libvirtd --version | awk '{print $NF}') hosts with vfmig's hook"
else
    result fail "hosts: $(tr '\n' ' ' < "$TMP/hosts.err")"
fi

LVH_NEED_EM=false lvh_domain_xml "$B1" > "$LVH_SHARE/domain.xml"
lvh_vrun src define "$LVH_SHARE/domain.xml"
drc=$RC
nsenter -t "${LVH_PID[src]}" -m -n -u -- "$VFMIG" -c qemu:///system \
    domain-prepare "$LVH_DOM" --on-failure best-effort > "$TMP/prep.out" 2>&1
prc=$?
lvh_vrun src start "$LVH_DOM"
if [ "$drc" -eq 0 ] && [ "$prc" -eq 0 ] && [ "$RC" -eq 0 ]; then
    result pass "domain $LVH_DOM prepared by domain-prepare and running on src"
else
    result fail "domain: define $drc, domain-prepare $prc ($(tr '\n' ' ' < "$TMP/prep.out")), start $RC"
fi

HERE=src
THERE=dst
declare -A DEV=([src]=$B1 [dst]=$B2)

# set_target T: the policy's target of the running domain, on HERE
set_target() {
    local meta
    meta=$(lvh_virsh "$HERE" metadata "$LVH_DOM" "$NS" 2> /dev/null) || return 1
    meta=$(sed "s/target-ms=\"[0-9]*\"/target-ms=\"$1\"/; s/target-ms='[0-9]*'/target-ms='$1'/" <<< "$meta")
    lvh_virsh "$HERE" metadata "$LVH_DOM" "$NS" --key vfmig --set "$meta" --live --config > /dev/null
}

# one MODE TARGET: one migration HERE -> THERE; appends a row to $TMP/rows
one() {
    local mode=$1 t=$2 name log0=0 dt pred="" conv="" line
    name="$mode-$t-$((++MIGS))"
    tdset "${DEV[$HERE]}" vfmig_testdev/dirty_rate "$DIRTY_RATE"
    if [ "$mode" = stock ]; then
        lvh_virsh "$HERE" migrate-setmaxdowntime "$LVH_DOM" "$t" > /dev/null
    else
        set_target "$t" || diag "$name: setting the policy's target failed"
        log0=$(wc -l < "$TMP/vfmigd-$HERE.log")
    fi
    lvh_mig_start "$name" "$HERE" "$THERE" "${DEV[$HERE]}" "${DEV[$THERE]}" "${DEV[$THERE]}" \
        ${MIG_OPTS[@]+"${MIG_OPTS[@]}"}
    lvh_mig_finish > /dev/null
    dt=$(lvh_virsh "$THERE" domjobinfo --completed "$LVH_DOM" 2> /dev/null |
         sed -n 's/^Total downtime: *\([0-9]*\).*/\1/p')
    if [ "$mode" = steered ]; then
        for _ in $(seq 100); do
            line=$(tail -n "+$((log0 + 1))" "$TMP/vfmigd-$HERE.log" | grep -m1 ": migrated; downtime ")
            [ -n "$line" ] && break
            sleep 0.1
        done
        pred=$(sed -n 's/.*predicted \([0-9]*\) ms, target.*/\1/p' <<< "$line")
        conv=no
        tail -n "+$((log0 + 1))" "$TMP/vfmigd-$HERE.log" |
            grep -q ": released (switch-over, " && conv=yes
    fi
    tdset "${DEV[$HERE]}" vfmig_testdev/dirty_rate 0
    echo "$mode $t $MIG_RC ${dt:--} ${pred:--} ${conv:--} $MIG_S" >> "$TMP/rows"
    diag "$name: $HERE -> $THERE exit $MIG_RC in $MIG_S s; libvirt downtime ${dt:-?} ms (target $t)${pred:+, predicted $pred ms, convergent: $conv}"
    if [ "$MIG_RC" -eq 0 ]; then
        local x=$HERE
        HERE=$THERE
        THERE=$x
    fi
}

MIGS=0
rm -f "$TMP/rows"
ok=true
lvh_vfmigd_start src "$TMP/vfmigd-src.log" && lvh_vfmigd_start dst "$TMP/vfmigd-dst.log" || ok=false
first=${TARGETS%% *}
one steered "$first"
one steered "$first"
w=$(awk '$1 == "steered" && $3 == 0' "$TMP/rows" | wc -l)
if $ok && [ "$w" -eq 2 ]; then
    result pass "warm-up: 2 steered migrations; overhead learned: $(grep -h 'overhead now' "$TMP"/vfmigd-*.log | sed 's/.*overhead now/overhead now/' | tr '\n' ' ')"
else
    result fail "warm-up: daemons up: $ok, migrations completed: $w of 2"
fi
rm -f "$TMP/rows"

for t in $TARGETS; do
    for i in $(seq "$RUNS"); do
        lvh_vfmigd_stop src
        lvh_vfmigd_stop dst
        one stock "$t"
        lvh_vfmigd_start src "$TMP/vfmigd-src.log"
        lvh_vfmigd_start dst "$TMP/vfmigd-dst.log"
        one steered "$t"
    done
    for mode in stock steered; do
        n=$(awk -v m=$mode -v t="$t" '$1 == m && $2 == t' "$TMP/rows" | wc -l)
        done_=$(awk -v m=$mode -v t="$t" '$1 == m && $2 == t && $3 == 0' "$TMP/rows" | wc -l)
        if [ "$n" -eq "$RUNS" ] && [ "$done_" -eq "$RUNS" ]; then
            result pass "target $t ms, $mode: $done_ of $RUNS migrations completed"
        else
            result fail "target $t ms, $mode: $done_ of $n migrations completed (want $RUNS)"
        fi
    done
done

# the table
{
    echo "# bench-steer on $(uname -r): targets $TARGETS ms, $RUNS pairs each"
    echo "# host load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (in the guest)"
    echo "# mode target rc libvirt_downtime_ms predicted_ms convergent wall_s"
    cat "$TMP/rows"
    echo "#"
    python3 - "$TMP/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
for t in sorted({r[1] for r in rows}, key=int):
    for mode in ("stock", "steered"):
        rs = [r for r in rows if r[0] == mode and r[1] == t and r[2] == "0" and r[3] != "-"]
        if not rs:
            continue
        dts = [int(r[3]) for r in rs]
        met = sum(1 for d in dts if d <= int(t))
        walls = [float(r[6]) for r in rs]
        line = (f"# target {t} ms {mode:7}: met {met}/{len(rs)}; downtime median "
                f"{statistics.median(dts):.0f} ms (min {min(dts)}, max {max(dts)}); "
                f"wall median {statistics.median(walls):.1f} s")
        if mode == "steered":
            conv = [r for r in rs if r[5] == "yes"]
            cmet = sum(1 for r in conv if int(r[3]) <= int(t))
            errs = [abs(int(r[4]) - int(r[3])) / int(r[3]) * 100
                    for r in rs if r[4] != "-"]
            line += f"; judged convergent {len(conv)}, of them met {cmet}"
            if errs:
                line += f"; |prediction error| median {statistics.median(errs):.0f} %"
        print(line)
PY
} > "$TABLE"
diag < "$TABLE"

lvh_stop_all
trap - EXIT
tap_end
