#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-qualify-predict.sh: how well device-qualify predicts the downtime
# of vfmig_testdev, for state sizes of 4, 16 and 64 MiB and stop and resume
# delays of 0 and 50 ms (the driver's stop_delay_us and resume_delay_us).
#
# Runs in the VM rig, as the suite bench-qualify (tests/vm/suites/
# bench-qualify.sh sources it):
#
#   meson test -C BUILD --benchmark --suite vm-bench -v
#
# For every configuration it runs `virt-vfmig device-qualify --json
# --no-record` RUNS times and prints the policy's predicted downtime, the
# measured one with its parts (stop, stop-copy drain, load, resume) and the
# error of the prediction; one TAP check per configuration passes when
# every run is within 25 %.  The table also goes to VM_OUT/bench-qualify-
# predict.txt on the host (BUILD/tests/vm/run-NAME/out/).
#
# VFMIG_VM_OPT_BENCH_SIZES (MiB, default "4 16 64"),
# VFMIG_VM_OPT_BENCH_DELAYS (ms, default "0 50"),
# VFMIG_VM_OPT_BENCH_RUNS (default 3).

. "$VM_SRCDIR/lib.sh"
VV=$VM_BUILDDIR/src/tools/virt-vfmig
SIZES=${VFMIG_VM_OPT_BENCH_SIZES:-4 16 64}
DELAYS=${VFMIG_VM_OPT_BENCH_DELAYS:-0 50}
RUNS=${VFMIG_VM_OPT_BENCH_RUNS:-3}
LIMIT=25
TABLE=${VM_OUT:-$TMP}/bench-qualify-predict.txt

nconf=0
for s in $SIZES; do for d in $DELAYS; do nconf=$((nconf + 1)); done; done
tap_plan $((nconf + 1))

find_testdevs
B1=${TESTDEVS[0]:-none}
if load_vfio && load_testdev && bind vfmig_testdev "$B1"; then
    result pass "$B1 bound to vfmig_testdev:$BIND_MSG"
else
    result fail "setup: loading and binding vfmig_testdev:${BIND_MSG:-}"
    diag < "$TMP/err"
fi

# row FILE: one line of the table from a device-qualify --json report
row() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = d["downtime"]
p = d["predicted-downtime-us"]
err = 100.0 * (p - m["measured-us"]) / m["measured-us"]
print("%8.1f %8.1f %7.1f %7.1f %7.1f %7.1f %+7.1f %s %s" % (
    p / 1000, m["measured-us"] / 1000, m["stop-us"] / 1000, m["drain-us"] / 1000,
    m["load-us"] / 1000, m["resume-us"] / 1000, err, d["latency-hints"]["stop"]["from"],
    d["verdict"]))
' "$1"
}

{
    echo "# device-qualify predicted against measured downtime, vfmig_testdev on $(uname -r), QEMU TCG"
    echo "# guest load: $(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%-4s %-5s %-3s %8s %8s %7s %7s %7s %7s %7s %s %s\n' MiB delay run predicted measured stop drain load resume 'err%' hints verdict
} > "$TABLE"

for size in $SIZES; do
    for delay in $DELAYS; do
        ok=true
        errs=
        tdset "$B1" vfmig_testdev/state_size $((size * 1048576)) &&
            tdset "$B1" vfmig_testdev/stop_delay_us $((delay * 1000)) &&
            tdset "$B1" vfmig_testdev/resume_delay_us $((delay * 1000)) || ok=false
        for r in $(seq 1 "$RUNS"); do
            run "$VV" device-qualify "$B1" --json --no-record
            line=$(row "$TMP/out" 2> "$TMP/row.err")
            if [ -z "$line" ]; then
                ok=false
                errs="$errs run $r: no figures ($(tail -1 "$TMP/row.err"));"
                diag_run
                continue
            fi
            printf '%-4s %-5s %-3s %s\n' "$size" "$delay" "$r" "$line" >> "$TABLE"
            e=$(echo "$line" | awk '{ print $7 }')
            errs="$errs $e"
            awk -v e="$e" -v l=$LIMIT 'BEGIN { exit !(e <= l && e >= -l) }' || ok=false
        done
        if $ok; then
            result pass "$size MiB, stop/resume delays $delay ms: prediction errors (%):$errs"
        else
            result fail "$size MiB, stop/resume delays $delay ms: want every prediction within $LIMIT %, got (%):$errs"
        fi
    done
done
tdset "$B1" vfmig_testdev/stop_delay_us 0
tdset "$B1" vfmig_testdev/resume_delay_us 0
diag < "$TABLE"
tap_end
