#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-tls.sh: what TLS costs the device state's transfer, plain `virsh
# migrate` against `virsh migrate --tls`, pair by pair.
#
# Runs in the VM rig as the suite bench-tls (tests/vm/suites/bench-tls.sh
# sources it):
#
#   meson test -C BUILD --benchmark --suite vm-bench -v vm-bench-tls-6.1
#
# Two libvirt 11.3 hosts with libvirt's x509 PKI (libvirt-hosts.sh,
# LVH_TLS=yes), the rig's idle TCG domain (64 MiB) with one modelled
# ConnectX VF (vfmig_mlx5model, managed='no') whose VHCA state is
# VFMIG_VM_OPT_BENCH_STATE_MIB MiB (default 64), not dirtied, tracked on
# 6.1 (QEMU re-sends no RAM the guest did not dirty), MIG_DATA_SIZE the
# incremental image: the whole state goes out as pre-copy's initial data,
# and QEMU switches when it is out.  No vfmig daemon and no hook: QEMU's
# own rule, the same in both modes.  Pairs back to back, the domain moving
# to the other host each time; odd pairs plain first, even pairs TLS
# first, so that each mode runs as often in each direction.
#
# Per migration, a poller on the source (libvirt's job stats every 100 ms,
# vfio_data_transferred: QEMU's count of the VFIO device data it put in
# the stream) gives the device state's transfer rate, from the times the
# count crossed 10 % and 90 % of its final value (interpolated between
# polls), and the transfer time of the whole state at that rate; also
# libvirt's "Total downtime" and "Time elapsed" (domjobinfo --completed
# on the destination), the wall time of virsh migrate, and, for --tls,
# that libvirt set tls-creds for the migration (libvirtd.log).  Before
# the pairs, the guest's own AES-GCM speed on one vCPU (openssl speed:
# the same AES-NI and PCLMULQDQ instructions gnutls uses, emulated by
# TCG).  The table goes to VM_OUT/bench-tls.txt.
#
# VFMIG_VM_OPT_BENCH_RUNS (pairs, default 4),
# VFMIG_VM_OPT_BENCH_STATE_MIB (default 64).

. "$VM_SRCDIR/lib.sh"
. "$VM_SRCDIR/libvirt-hosts.sh"

RUNS=${VFMIG_VM_OPT_BENCH_RUNS:-4}
STATE_MIB=${VFMIG_VM_OPT_BENCH_STATE_MIB:-64}
TABLE=${VM_OUT:-$TMP}/bench-tls.txt
PY=/usr/bin/python3
LVH_TLS=yes
# the poll of a migration reads no digest: hashing the VF's state under
# its lock at STOP_COPY would add to what is measured
LVH_POLL_DIGEST=no

tap_plan 6

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}
trap 'lvh_stop_all' EXIT

if [ "${#TESTDEVS[@]}" -ge 2 ] && lvh_mlx5vfs $((STATE_MIB << 20)) "$B1" "$B2" &&
   lvh_knob_set "$B1" data_size incremental && lvh_knob_set "$B2" data_size incremental; then
    result pass "set-up: two modelled ConnectX VFs:$LVH_SETUP_MSG; MIG_DATA_SIZE incremental"
else
    result fail "set-up failed: ${#TESTDEVS[@]} pci-testdevs (want 2):$LVH_SETUP_MSG"
fi

if lvh_up2 src 1 dst 2; then
    result pass "$LVH_UP_MSG; PKI made in $(secs "$LVH_PKI_US") s"
else
    result fail "hosts: $LVH_UP_MSG"
fi

if lvh_domain_up "$B1" 60 --on-failure best-effort; then
    result pass "domain $LVH_DOM running on src with $B1 ($STATE_MIB MiB of VHCA state)"
else
    result fail "domain: $LVH_DOMAIN_MSG; domain-prepare: $(tr '\n' ' ' < "$TMP/prep.out")"
fi

# the guest's AES-GCM on one vCPU, as TCG runs it
AES=()
for c in aes-128-gcm aes-256-gcm; do
    v=$(timeout 60 openssl speed -evp "$c" -seconds 2 -bytes 16384 2> /dev/null |
        awk 'END {v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1048576}')
    AES+=("$c ${v:-?} MiB/s")
done
if [[ ${AES[*]} != *"?"* ]]; then
    result pass "the guest's AES-GCM on one vCPU (openssl speed, 16 KiB blocks): ${AES[*]}; host load $(cut -d' ' -f1-3 /proc/loadavg) (in the guest)"
else
    result fail "openssl speed: ${AES[*]}"
fi

HERE=src
THERE=dst
declare -A DEV=([src]=$B1 [dst]=$B2)

# poll HOST OUT: libvirt's job stats of the domain on HOST every 100 ms,
# one JSON line each (t: seconds since the poller started), from the
# migration's start until the job ends (background; POLL_PID)
poll() {
    nsenter -t "${LVH_PID[$1]}" -m -n -u -- "$PY" - "$LVH_DOM" "$2" > /dev/null 2>&1 <<'PY' &
import json, sys, time
import libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
name, out = sys.argv[1], sys.argv[2]
dom = libvirt.open("qemu:///system").lookupByName(name)
t0 = time.monotonic()
started = False
with open(out, "w") as f:
    while time.monotonic() - t0 < 240:
        try:
            st = dom.jobStats()
        except libvirt.libvirtError:
            break
        t = time.monotonic() - t0
        if st.get("type", 0) in (1, 2):
            started = True
            st["t"] = round(t, 4)
            f.write(json.dumps(st) + "\n")
            f.flush()
        elif started:
            break
        time.sleep(0.1)
PY
    POLL_PID=$!
}

# rate FILE SIZE: "final_bytes rate_mib_s state_s t10 t90 polls" from a
# poll file (10 % and 90 % of the final vfio_data_transferred, the times
# interpolated between polls)
rate() {
    "$PY" - "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pts = [(r["t"], r["vfio_data_transferred"]) for r in rows
       if "vfio_data_transferred" in r]
size = int(sys.argv[2])
if len(pts) < 2 or pts[-1][1] <= 0:
    print("- - - - - %d" % len(pts))
    sys.exit(0)
final = max(v for _, v in pts)

def cross(x):
    for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
        if v0 < x <= v1:
            return t0 + (x - v0) / (v1 - v0) * (t1 - t0)
    return None

a, b = cross(0.1 * final), cross(0.9 * final)
if a is None or b is None or b <= a:
    print("%d - - - - %d" % (final, len(pts)))
    sys.exit(0)
r = 0.8 * final / (b - a)
print("%d %.1f %.2f %.2f %.2f %d" % (final, r / 1048576, size / r, a, b, len(pts)))
PY
}

# one MODE: one migration HERE -> THERE (plain or tls); a row in $TMP/rows:
# mode from rc vfio_bytes rate_mib_s state_s downtime_ms elapsed_ms wall_s tls_set
one() {
    local mode=$1 name dt el raw r tlsset=- l0 uri
    local -a opts=()
    name="$mode-$((++MIGS))"
    uri=$(lvh_uri "$THERE")
    if [ "$mode" = tls ]; then
        opts=(--tls)
        uri=$(lvh_uri_tls "$THERE")
    fi
    l0=$(lvh_log "$HERE" | wc -l)
    poll "$HERE" "$LVH_SHARE/poll-$name.jsonl"
    lvh_mig_start_cmd "$name" "$HERE" "$THERE" "${DEV[$HERE]}" "${DEV[$THERE]}" "${DEV[$THERE]}" \
        virsh -c qemu:///system migrate --live --persistent --undefinesource "$LVH_DOM" \
        "$uri" --migrateuri "tcp://$(lvh_addr "$THERE")" --xml "$LVH_SHARE/$name.xml" "${opts[@]}"
    lvh_mig_finish > /dev/null
    wait "$POLL_PID" 2> /dev/null
    dt=- el=-
    if [ "$MIG_RC" -eq 0 ]; then
        raw=$(lvh_virsh "$THERE" domjobinfo --completed --keep-completed "$LVH_DOM" 2> /dev/null)
        dt=$(sed -n 's/^Total downtime: *\([0-9]*\).*/\1/p' <<< "$raw")
        el=$(sed -n 's/^Time elapsed: *\([0-9]*\).*/\1/p' <<< "$raw")
    fi
    # libvirt's tls-creds for this migration, on the source's QEMU
    tlsset=$(lvh_log "$HERE" | tail -n "+$((l0 + 1))" | grep 'migrate-set-parameters' |
             grep -o '"tls-creds":"[^"]*"' | grep -vc '"tls-creds":""')
    r=$(rate "$LVH_SHARE/poll-$name.jsonl" $((STATE_MIB << 20)))
    read -r vb rmib ss _ _ np <<< "$r"
    echo "$mode $HERE $MIG_RC $vb $rmib $ss ${dt:--} ${el:--} $MIG_S $tlsset" >> "$TMP/rows"
    diag "$name: $HERE -> $THERE exit $MIG_RC in $MIG_S s; device state $vb bytes at $rmib MiB/s ($ss s for the state; $np polls); libvirt downtime ${dt:--} ms, elapsed ${el:--} ms; tls-creds set $tlsset time(s)"
    [ -n "${VM_OUT:-}" ] && cp "$LVH_SHARE/poll-$name.jsonl" "$VM_OUT/" 2> /dev/null
    if [ "$MIG_RC" -eq 0 ]; then
        local x=$HERE
        HERE=$THERE
        THERE=$x
    fi
}

MIGS=0
rm -f "$TMP/rows"
for i in $(seq "$RUNS"); do
    if [ $((i % 2)) -eq 1 ]; then one plain; one tls; else one tls; one plain; fi
done

for mode in plain tls; do
    n=$(awk -v m=$mode '$1 == m' "$TMP/rows" | wc -l)
    bad=$(awk -v m=$mode '$1 == m && ($3 != 0 || $5 == "-" || (m == "tls" && $10 < 1) || (m == "plain" && $10 != 0))' \
          "$TMP/rows" | wc -l)
    if [ "$n" -eq "$RUNS" ] && [ "$bad" -eq 0 ]; then
        result pass "$mode: $n migrations completed, each with its device state's rate measured$([ $mode = tls ] && echo ", each with libvirt's tls-creds set")"
    else
        result fail "$mode: $bad of $n migrations failed, had no rate, or $([ $mode = tls ] && echo "no tls-creds" || echo "tls-creds set")"
    fi
done

{
    echo "# bench-tls on $(uname -r): $RUNS pairs, one modelled ConnectX VF with $STATE_MIB MiB of state, idle 64 MiB guest, veth unshaped"
    echo "# the guest's AES-GCM (openssl speed, one vCPU): ${AES[*]}"
    echo "# host load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (in the guest)"
    echo "# mode from rc vfio_bytes rate_mib_s state_s libvirt_downtime_ms libvirt_elapsed_ms wall_s tls_creds_set"
    cat "$TMP/rows"
    echo "#"
    "$PY" - "$TMP/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
med = {}
for mode in ("plain", "tls"):
    rs = [r for r in rows if r[0] == mode and r[2] == "0" and r[4] != "-"]
    if not rs:
        print("# %s: no completed run with a rate" % mode)
        continue
    def col(i):
        return [float(r[i]) for r in rs if r[i] != "-"]
    m = {k: statistics.median(col(i)) for k, i in
         (("rate", 4), ("state", 5), ("down", 6), ("elapsed", 7), ("wall", 8))}
    med[mode] = m
    print("# %-5s %d runs: device state %.1f MiB/s median (%.1f-%.1f), %.2f s for the state;"
          " libvirt downtime %.0f ms, elapsed %.1f s, wall %.1f s (medians)"
          % (mode, len(rs), m["rate"], min(col(4)), max(col(4)), m["state"],
             m["down"], m["elapsed"] / 1000, m["wall"]))
if "plain" in med and "tls" in med:
    p, t = med["plain"], med["tls"]
    print("# tls / plain: device state's transfer time x%.2f, libvirt downtime x%.2f, elapsed x%.2f"
          % (t["state"] / p["state"], t["down"] / p["down"], t["elapsed"] / p["elapsed"]))
PY
} > "$TABLE"
diag < "$TABLE"

lvh_virsh "$HERE" destroy "$LVH_DOM" > /dev/null 2>&1
lvh_virsh "$HERE" undefine "$LVH_DOM" > /dev/null 2>&1
lvh_stop_all
trap - EXIT
tap_end
