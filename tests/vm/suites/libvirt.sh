#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/libvirt.sh: stock libvirt 11.3 migrating a domain with a test VF
# between two real libvirt daemons, with no vfmig userspace in the path:
# the base the domain policy, the destination hook and the daemon plug
# into (libvirt-hosts.sh gives the hosts).
#
# Two libvirt hosts "src" and "dst" in namespaces of this guest, joined by
# a veth pair; one pci-testdev on vfmig_testdev for each (8 MiB of state,
# 50 ms stop and resume delays), a third on plain vfio-pci.  A TCG domain
# (q35, 64 MiB, no disk, SeaBIOS, a fixed <uuid>) with
# <hostdev mode='subsystem' type='pci' managed='no'> on src's device is
# defined and started on src, then moved with plain
#   virsh migrate --live --persistent --undefinesource DOMAIN
#       qemu+tcp://DST/system --migrateuri tcp://DST --xml DST.xml
# (DST.xml: the domain's migratable XML naming the destination's device)
# to dst and back.  The sending device dirties its state at 2 MiB/s, the
# receiving one not at all.  Checked: the domain runs on the other host
# and is gone from the first; the sending device went through PRE_COPY and
# STOP_COPY, the receiving one through RESUMING to RUNNING (the driver's
# own record of every arc: dynamic debug, in the kernel log); the
# receiver's digest equals the sender's taken while it was stopped; a qemu
# hook in dst's hooks/qemu.d is called on "migrate begin".  Then
# `virsh domjobabort` while the device is in PRE_COPY (held there by a
# destination QEMU that is stopped, so never acknowledges the device's
# initial data), and a destination whose device is on plain vfio-pci: the
# migration fails and the domain runs on src with its device RUNNING and
# its state unchanged.
#
# On a kernel without device dirty tracking (Debian's 6.12: no
# CONFIG_IOMMUFD_DRIVER) QEMU blocks the device unless vfio-pci has
# enable-migration=on, which libvirt never sets: the domain carries it in
# <qemu:override>, and since QEMU then counts all guest RAM dirty, the
# migrations give --available-switchover-bandwidth.
#
# libvirt 11.3 turns on QEMU's return-path and switchover-ack (and, on the
# source, pause-before-switchover) for the migration and off again after
# it: checked in the migrate-set-capabilities of libvirtd's monitor log on
# both ends, and shown from QMP on the source while the job runs.
#
# Reported, not judged: each migration's wall time, libvirt's
# `domjobinfo --completed`, QEMU's own downtime (from libvirtd's monitor
# log), how long the refusal took.
# vm-needs: testdev-ko
# vm-testdevs: 3

. "$VM_SRCDIR/lib.sh"
. "$VM_SRCDIR/libvirt-hosts.sh"

STATE_SIZE=${VFMIG_VM_OPT_LIBVIRT_STATE_SIZE:-8388608}
DIRTY_RATE=${VFMIG_VM_OPT_LIBVIRT_DIRTY_RATE:-2097152}
DELAY_US=50000
SWITCH_BW=1024          # MiB/s, where QEMU counts all guest RAM dirty

tap_plan 14

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}
B3=${TESTDEVS[2]:-none}
MIG_OPTS=()
$LVH_NEED_EM && MIG_OPTS=(--available-switchover-bandwidth "$SWITCH_BW")

cleanup() { lvh_stop_all; }
trap cleanup EXIT

# ---------- devices -------------------------------------------------------------------
if lvh_testdevs "$STATE_SIZE" "$DELAY_US" "$B1" "$B2" -- "$B3"; then
    result pass "set-up: $LVH_SETUP_MSG"
else
    result fail "set-up failed: $LVH_SETUP_MSG"
fi

# ---------- two hosts ------------------------------------------------------------------
lvh_up2_check

# a qemu hook on dst that records its calls
cat > "$LVH_SHARE/record-hook" <<'EOF'
#!/bin/sh
# records each call; the domain XML on stdin is read and dropped
echo "$*" >> /var/log/libvirt/hook-calls.log
cat > /dev/null
exit 0
EOF
lvh_install_hook dst "$LVH_SHARE/record-hook" 50-record > "$TMP/hook.err" 2>&1 ||
    diag "installing the recording hook on dst failed: $(cat "$TMP/hook.err")"

# ---------- the domain -------------------------------------------------------------------
lvh_domain_xml "$B1" > "$LVH_SHARE/domain.xml"
lvh_vrun src define "$LVH_SHARE/domain.xml"
drc=$RC
lvh_vrun src start "$LVH_DOM"
src_rc=$RC
st=$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)
# QEMU's view of the device: asked a few times, as the monitor may still
# be busy with libvirt's start-up queries right after 'virsh start'
pci=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
    pci=$(lvh_virsh src qemu-monitor-command "$LVH_DOM" --hmp 'info pci' 2> "$TMP/infopci.err" |
          grep -c '1b36:0005')
    [ "$pci" -ge 1 ] && break
    sleep 1
done
if [ "$drc" -eq 0 ] && [ "$src_rc" -eq 0 ] && [ "$st" = running ] && [ "$pci" -ge 1 ]; then
    result pass "domain $LVH_DOM defined and started on src with <hostdev managed='no'> on $B1$($LVH_NEED_EM && echo " and <qemu:override> enable-migration=on"): running, QEMU shows the device 1b36:0005"
else
    result fail "domain on src: define exit $drc, start exit $src_rc, state '$st', 1b36:0005 in QEMU's info pci: ${pci:-0}"
    diag_run
    lvh_on src sh -c "tail -20 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | diag
    sed 's/^/info pci: /' "$TMP/infopci.err" | diag
fi

# the capabilities libvirt turned on (migrate-set-capabilities it sent)
caps_sent() {
    lvh_log "$1" | grep "QEMU_MONITOR_SEND_MSG: .*migrate-set-capabilities" |
        python3 -c '
import json, re, sys
n = 0
for line in sys.stdin:
    m = re.search(r"msg=(\{.*\})", line)
    try:
        caps = json.loads(m.group(1))["arguments"]["capabilities"]
    except Exception:
        continue
    on = [c["capability"] for c in caps if c.get("state")]
    n += 1
    print("on: " + (",".join(on) or "none") + "; off: " +
          ",".join(c["capability"] for c in caps if not c.get("state")))
if n == 0:
    print("none in the log")'
}

# ---------- src -> dst -------------------------------------------------------------------
tdset "$B1" vfmig_testdev/dirty_rate "$DIRTY_RATE"
lvh_mig_start m1 src dst "$B1" "$B2" "$B2" ${MIG_OPTS[@]+"${MIG_OPTS[@]}"}
# QMP while the job runs: which capabilities are on
for _ in $(seq 1200); do
    grep -q ' state PRE_COPY' "$TMP/poll-m1" 2> /dev/null && break
    kill -0 "$MIG_PID" 2> /dev/null || break
    sleep 0.1
done
q0=$(now_us)
timeout -k 5 40 nsenter -t "${LVH_PID[src]}" -m -n -u -- virsh -c qemu:///system \
    qemu-monitor-command "$LVH_DOM" '{"execute":"query-migrate-capabilities"}' > "$TMP/caps.json" 2> "$TMP/caps.err"
qrc=$?
qs=$(secs $(( $(now_us) - q0 )))
lvh_mig_finish
lvh_mig_report
on=
if [ $qrc -eq 0 ]; then
    on=$(python3 -c 'import json,sys; print(",".join(c["capability"] for c in json.load(sys.stdin)["return"] if c["state"]) or "none")' < "$TMP/caps.json" 2>&1)
    diag "switchover-ack: QMP query-migrate-capabilities on src while the job ran (device in PRE_COPY, answered in $qs s): on: $on"
else
    diag "switchover-ack: QMP query-migrate-capabilities on src during the job: exit $qrc after $qs s: $(tr '\n' ' ' < "$TMP/caps.err")"
fi
caps_sent src > "$TMP/caps-src"
caps_sent dst > "$TMP/caps-dst"
sed 's/^/switchover-ack: migrate-set-capabilities src libvirtd sent: /' "$TMP/caps-src" | diag
sed 's/^/switchover-ack: migrate-set-capabilities dst libvirtd sent: /' "$TMP/caps-dst" | diag
# both ends, in one migrate-set-capabilities each
both_on() { grep '^on: ' "$1" | cut -d';' -f1 | tr ',' ' ' | grep -w return-path | grep -qw switchover-ack; }
if both_on "$TMP/caps-src" && both_on "$TMP/caps-dst"; then
    result pass "libvirt turned on QEMU's return-path and switchover-ack for the migration on both ends (migrate-set-capabilities in libvirtd's monitor log; QMP on src during PRE_COPY: ${on:-not answered})"
else
    result fail "libvirt did not turn on return-path and switchover-ack on both ends: src '$(tr '\n' ' ' < "$TMP/caps-src")', dst '$(tr '\n' ' ' < "$TMP/caps-dst")'"
fi
lvh_check_moved
lvh_check_states
lvh_check_digest

calls=$(lvh_on dst cat /var/log/libvirt/hook-calls.log 2> /dev/null | tr '\n' ';')
if [[ ";$calls" == *";$LVH_DOM migrate begin "* ]]; then
    result pass "dst's hooks/qemu.d/50-record was called: $calls"
else
    result fail "dst's qemu hook: want a '$LVH_DOM migrate begin' call; calls: '${calls:-none}'"
fi

# ---------- dst -> src ----------------------------------------------------------------------
tdset "$B2" vfmig_testdev/dirty_rate "$DIRTY_RATE"
lvh_mig_start m2 dst src "$B2" "$B1" "$B1" ${MIG_OPTS[@]+"${MIG_OPTS[@]}"}
lvh_mig_finish
lvh_mig_report
lvh_check_moved
lvh_check_states
lvh_check_digest
tdset "$B2" vfmig_testdev/dirty_rate 0

# ---------- domjobabort mid-PRE_COPY ----------------------------------------------------------
# The source's state is still: its digest must survive the abort.  QEMU
# sends the device's 8 MiB in about a second here and would switch over
# before an abort arrives; but libvirt turns on switchover-ack, so a
# destination that does not acknowledge the device's initial data holds
# the source in PRE_COPY: the destination QEMU is stopped (SIGSTOP) as
# soon as the source device enters PRE_COPY, and continued after the abort.
tdset "$B1" vfmig_testdev/dirty_rate 0
d_before=$(tdget "$B1" vfmig_testdev/digest)
lvh_mig_start abort src dst "$B1" "$B2" "$B2"
ast=
dpid=
for _ in $(seq 2400); do
    [[ $dpid =~ ^[0-9]+$ ]] || dpid=$(lvh_on dst cat "/run/libvirt/qemu/$LVH_DOM.pid" 2> /dev/null)
    if grep -q ' state PRE_COPY' "$TMP/poll-abort" 2> /dev/null; then
        [[ $dpid =~ ^[0-9]+$ ]] && kill -STOP "$dpid"
        ast=$(tdget "$B1" vfio_migration/state)
        break
    fi
    kill -0 "$MIG_PID" 2> /dev/null || break
    sleep 0.05
done
# a while in PRE_COPY, held by the missing acknowledgement
sleep 2
ast2=$(tdget "$B1" vfio_migration/state)
ncancel0=$(lvh_log src | grep -c 'QEMU_MONITOR_SEND_MSG: .*"execute":"migrate_cancel"')
lvh_vrun src domjobabort "$LVH_DOM"
arc_=$RC
[[ $dpid =~ ^[0-9]+$ ]] && kill -CONT "$dpid" 2> /dev/null
lvh_mig_finish
sleep 1
# the abort reached QEMU: libvirt sent it migrate_cancel (QEMU then ends the
# job as cancelled, or, its socket shut down under a blocked send, failed)
ncancel=$(( $(lvh_log src | grep -c 'QEMU_MONITOR_SEND_MSG: .*"execute":"migrate_cancel"') - ncancel0 ))
st_src=$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)
st_dst=$(lvh_virsh dst domstate "$LVH_DOM" 2>&1 | head -1)
dev_st=$(tdget "$B1" vfio_migration/state)
d_after=$(tdget "$B1" vfmig_testdev/digest)
if [ "$ast" = PRE_COPY ] && [ "$ast2" = PRE_COPY ] && [ "$arc_" -eq 0 ] && [ "$MIG_RC" -ne 0 ] &&
   [[ " $SENDER_ARCS" == *">PRE_COPY "* ]] && [[ $SENDER_ARCS != *STOP_COPY* ]] &&
   [ "$ncancel" -ge 1 ] && [ "$st_src" = running ] &&
   [[ $st_dst == *"failed to get domain"* ]] && [ "$dev_st" = RUNNING ] &&
   [ -n "$d_before" ] && [ "$d_before" = "$d_after" ]; then
    result pass "domjobabort while $B1 was in PRE_COPY (the destination QEMU, stopped, did not acknowledge; the device never reached STOP_COPY): libvirt sent QEMU migrate_cancel, virsh migrate failed ($(head -1 "$TMP/mig-abort.err")); the domain runs on src, none on dst, $B1 RUNNING with its digest ${d_after:0:16}..."
else
    result fail "domjobabort mid-PRE_COPY: state when the destination QEMU (pid '${dpid}') was stopped '${ast:-never PRE_COPY}', 2 s later '$ast2', sender arcs '$SENDER_ARCS' (want PRE_COPY, no STOP_COPY), domjobabort exit $arc_, migrate_cancel sent $ncancel time(s), migrate exit $MIG_RC '$(tr '\n' ' ' < "$TMP/mig-abort.err")'; src '$st_src' (want running), dst '$st_dst'; $B1 '$dev_st'; digest before ${d_before:0:16}, after ${d_after:0:16}"
    diag_run
fi

# ---------- a destination on plain vfio-pci ----------------------------------------------------
d_before=$(tdget "$B1" vfmig_testdev/digest)
lvh_mig_start refused src dst "$B1" "$B3" "$B3" ${MIG_OPTS[@]+"${MIG_OPTS[@]}"}
lvh_mig_finish
sleep 1
st_src=$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)
st_dst=$(lvh_virsh dst domstate "$LVH_DOM" 2>&1 | head -1)
dev_st=$(tdget "$B1" vfio_migration/state)
d_after=$(tdget "$B1" vfmig_testdev/digest)
why=$(grep -v '^$' "$TMP/mig-refused.err" | head -2 | tr '\n' ' ')
diag "refusal: a destination device on plain vfio-pci was refused after $MIG_S s (stock libvirt: no check before the transfer): $why"
if [ "$MIG_RC" -ne 0 ] && [ "$MIG_RC" -ne 124 ] && [ "$st_src" = running ] &&
   [[ $st_dst == *"failed to get domain"* ]] && [ "$dev_st" = RUNNING ] &&
   [ -n "$d_before" ] && [ "$d_before" = "$d_after" ]; then
    result pass "destination device $B3 on plain vfio-pci: virsh migrate failed after $MIG_S s; the domain runs on src, none on dst, $B1 RUNNING with its digest"
else
    result fail "destination on plain vfio-pci: migrate exit $MIG_RC ($why); src '$st_src' (want running), dst '$st_dst'; $B1 '$dev_st'; digest before ${d_before:0:16}, after ${d_after:0:16}"
    lvh_on dst sh -c "tail -15 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | sed 's/^/dst qemu: /' | diag
fi

# ---------- the end ------------------------------------------------------------------------------
lvh_end src "$B1"
tap_end
