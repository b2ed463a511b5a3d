#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/faults.sh: faults on the path of a live migration through
# libvirt, steered by virt-vfmigd, and where the domain ends up.
#
# The hosts, hook and daemons of suites/vfmigd.sh (two libvirt 11.3 hosts
# in namespaces of this guest, vfmig's hook in hooks/qemu.d/50-vfmig,
# virt-vfmigd with its guardian on each); the domain has one test VF
# (vfmig_testdev, 8 MiB of state dirtied at 2 MiB/s while it runs, 50 +
# 50 ms stop and resume delays) and the policy virt-vfmig domain-prepare
# writes (target 2000 ms, best effort).  Each case starts a plain `virsh
# migrate --live` from the host that runs the domain to the other one and
# injects one fault; the instant of each fault is a state of the sending
# or receiving VF (its sysfs vfio_migration/state, polled), never a delay.
# At the fault the sender stops dirtying and its digest is read: the state
# the domain must keep wherever it ends up.
#
# What each case checks, once libvirt has settled (both hosts polled until
# exactly one has the domain and no job runs; bounded, not timed): the
# domain is active on exactly one host and runs there; its VF has the
# state (the receiver's digest equals the sender's when it stopped, or the
# sender kept RUNNING with the digest of the fault); the other host's VF
# is RUNNING again (no QEMU left holding it in RESUMING or STOP_COPY); the
# downtime limit QEMU has on the host that runs it is 300 ms (QEMU's
# default: nobody else sets one here), never the daemon's 1 ms hold; and
# the sending host's daemon wrote the line for that end.
#
# What physics and libvirt say should happen, written before the runs:
#  f1  the link (the veth between the hosts) set down while the sender is
#      in PRE_COPY, up again 6 s later.  TCP survives the outage (its
#      retransmissions back off: the stream resumes up to ~13 s after the
#      cut); libvirt's keepalive (5 s x 5) does not fire.  The sender's
#      initial data stops draining with the link, and the daemon cancels
#      a migration whose initial data stopped draining (some 2.4 s, its
#      trend window): the domain stays on the source with its state, the
#      limit handed back (300 ms), and virsh's Finish on the destination,
#      once the link is back, removes the incoming domain.  If the initial
#      data was all sent before the cut, the migration completes instead,
#      the outage in its downtime (then as f2).
#  f2  the link cut while the sender is in STOP_COPY (the switch-over
#      began: the guest is stopped, the daemon released the limit and,
#      released once, never holds or cancels again), up 6 s later.  The
#      stream resumes with TCP: the migration completes, the domain runs
#      on the destination with the sender's state, its downtime the
#      outage and more.  That downtime is no libvirt overhead: the daemon
#      says the migration met a fault and does not learn it (an 11.9 s
#      sample once poisoned every later prediction).
#  f3  the destination QEMU killed (SIGKILL) while it loads (the receiver
#      in RESUMING).  The source QEMU sees its socket close, the migration
#      fails, the guest runs on (the sender PRE_COPY -> RUNNING, its state
#      unchanged); libvirt's Finish removes the dead incoming domain; the
#      receiver is released by the kernel (RUNNING).
#  f4  the source libvirtd restarted (SIGTERM, started again, as
#      `systemctl restart libvirtd`) while the sender is in PRE_COPY.
#      virsh loses the source and calls the destination's Finish with the
#      migration cancelled, which kills the incoming QEMU; the source QEMU's
#      migration then fails and its guest runs on; the restarted libvirtd
#      finds the job in its Perform phase and cancels what is left.  The
#      daemon loses libvirt while it holds 1 ms, reconnects, and hands the
#      limit back (or finds the migration over and libvirt's own reset of
#      the parameters): the source QEMU is left with 300 ms.
#  f5  the destination libvirtd killed (SIGKILL) while the sender is in
#      PRE_COPY, started again after virsh returned.  Its QEMU keeps
#      running and the migration between the QEMUs goes on; virsh's Finish
#      finds no destination daemon, so virsh confirms the migration as
#      cancelled on the source, which resumes the guest with its state (a
#      sender that reached STOP_COPY goes back to RUNNING with the state
#      it stopped with).  The restarted destination libvirtd finds an
#      incoming migration that never finished and kills its QEMU: one
#      host runs the domain, the source.
#  f6  virt-vfmigd and its guardian both killed (SIGKILL, guardian first)
#      while the daemon holds the limit at 1 ms.  Nobody hands it back:
#      QEMU keeps 1 ms (asserted 1 s after the kill), which a dirtying VF
#      never fits, so the migration cannot complete.  The daemon started
#      again (as systemd's Restart=on-failure does) finds the migration,
#      adopts the 1 ms it left (the controller's adoptFallbackMs: a limit
#      found at 1 ms is a dead controller's hold, 300 ms goes back),
#      steers it and releases it: the migration completes within 60 s of
#      the restart and the domain runs on the destination with its state.
#  f7  the daemon started while its host's libvirtd is down (a boot, a
#      libvirt upgrade: systemd starts virt-vfmigd before libvirt
#      answers).  It waits, says so once, and is connected and watching
#      once libvirtd is back (after OUTAGE_S s; QEMU runs on meanwhile);
#      the next migration from that host is steered by it and completes.
# Then the overhead each daemon learned (its state file): no sample above
# 5 s (the steering judge's bound on libvirt's own work at a switch), so
# no fault taught it.
# vm-needs: testdev-ko
# vm-testdevs: 2

. "$VM_SRCDIR/lib.sh"
. "$VM_SRCDIR/libvirt-hosts.sh"

STATE_SIZE=8388608
DIRTY_RATE=2097152
DELAY_US=50000
SWITCH_BW=1024          # MiB/s, where QEMU counts all guest RAM dirty
TARGET_MS=2000
CUT_S=6                 # how long the link stays down
OUTAGE_S=6              # f7: how long libvirtd stays down
QEMU_LIMIT=300          # QEMU's default downtime-limit, ms
FAULT_US=5000000        # VFMIG_STEER_FAULT_MIN_US
HOOK=$VM_BUILDDIR/src/tools/50-vfmig
# a migration stuck by a fault ends by this bound, not the suite's
# shellcheck disable=SC2034 # read by lvh_mig_start
LVH_MIG_TIMEOUT=150

tap_plan 18

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}
declare -A VF=([src]=$B1 [dst]=$B2) OTHER=([src]=dst [dst]=src)
MIG_OPTS=()
$LVH_NEED_EM && MIG_OPTS=(--available-switchover-bandwidth "$SWITCH_BW")
SUMMARY=()

log_lines() { wc -l < "$TMP/vfmigd-$1.log"; }
log_since() { tail -n "+$(( $2 + 1 ))" "$TMP/vfmigd-$1.log"; }
# log_wait HOST N PATTERN [S]: PATTERN (ERE) in the log since line N, up to S s (60)
log_wait() {
    local i
    for (( i = 0; i < ${4:-60} * 10; i++ )); do
        log_since "$1" "$2" | grep -Eq -- "$3" && return 0
        sleep 0.1
    done
    return 1
}

cleanup() {
    exec {CUT_FD}>&- 2> /dev/null
    lvh_stop_all
    [ -n "${VM_OUT:-}" ] && cp "$TMP"/vfmigd-*.log "$VM_OUT/" 2> /dev/null
}
trap cleanup EXIT

# dev_wait BDF STATE S: the device's state is STATE, polled every 10 ms
# for up to S s; DEV_ST the last state read
dev_wait() {
    local i
    for (( i = 0; i < $3 * 100; i++ )); do
        read -r DEV_ST 2> /dev/null < "/sys/bus/pci/devices/$1/vfio_migration/state"
        [ "$DEV_ST" = "$2" ] && return 0
        kill -0 "$MIG_PID" 2> /dev/null || return 1
        read -r -t 0.01 -u "$TICK_FD" _
    done
    return 1
}
mkfifo "$TMP/tick" && exec {TICK_FD}<> "$TMP/tick" && rm -f "$TMP/tick"

# link_ctl HOST: an `ip -batch` in HOST's network namespace reading from
# CUT_FD, so that a cut is one write, not a fork (f2's window is short)
link_ctl() {
    mkfifo "$TMP/cut" || return 1
    nsenter -t "${LVH_PID[$1]}" -n ip -batch - < "$TMP/cut" > "$TMP/cut.out" 2>&1 &
    CUT_PID=$!
    exec {CUT_FD}> "$TMP/cut"
    rm -f "$TMP/cut"
    CUT_DEV=$(lvh_veth "$1")
}
link_ctl_end() {
    exec {CUT_FD}>&-
    wait "$CUT_PID" 2> /dev/null
}
# link_cut: down, CUT_S s, up; CUT_AT the sender's state just after the cut
link_cut() {
    echo "link set $CUT_DEV down" >&"$CUT_FD"
    CUT_AT=$(tdget "$SND" vfio_migration/state)
    freeze
    sleep "$CUT_S"
    echo "link set $CUT_DEV up" >&"$CUT_FD"
}

# the sender stops dirtying: the state the domain must keep
freeze() {
    tdset "$SND" vfmig_testdev/dirty_rate 0
    D_FROZEN=$(tdget "$SND" vfmig_testdev/digest)
}

# case_start NAME: virsh migrate from the host running the domain to the
# other, the sender dirtying
case_start() {
    FROM=$CUR TO=${OTHER[$CUR]}
    SND=${VF[$FROM]} RCV=${VF[$TO]}
    D_FROZEN="" CUT_AT=""
    tdset "$SND" vfmig_testdev/dirty_rate "$DIRTY_RATE"
    L0_FROM=$(log_lines "$FROM")
    CASE_T0=$(now_us)
    lvh_mig_start "$1" "$FROM" "$TO" "$SND" "$RCV" "$RCV" ${MIG_OPTS[@]+"${MIG_OPTS[@]}"}
}

# settle: up to 90 s until exactly one host has the domain active and
# no job runs there; WHERE (src, dst, none or both) and W_ST its state
settle() {
    local h st act t0
    t0=$(now_us)
    while [ $(( $(now_us) - t0 )) -lt 90000000 ]; do
        act=()
        for h in src dst; do
            st=$(lvh_virsh "$h" domstate "$LVH_DOM" 2> /dev/null | head -1)
            case $st in running|paused|"in shutdown"|pmsuspended) act+=("$h"); ST[$h]=$st ;; esac
        done
        if [ "${#act[@]}" -eq 1 ] &&
           lvh_virsh "${act[0]}" domjobinfo "$LVH_DOM" 2> /dev/null | grep -q 'Job type: *None'; then
            WHERE=${act[0]} W_ST=${ST[$WHERE]}
            return 0
        fi
        sleep 0.3
    done
    WHERE=none W_ST=
    [ "${#act[@]}" -eq 2 ] && WHERE=both
    return 1
}
declare -A ST=()

# limit_settled HOST: the limit QEMU has there, polled up to 30 s for
# QEMU's default (the daemon hands back asynchronously); LIMIT
limit_settled() {
    for _ in $(seq 150); do
        LIMIT=$(lvh_virsh "$1" migrate-getmaxdowntime "$LVH_DOM" 2> /dev/null)
        [ "$LIMIT" = "$QEMU_LIMIT" ] && return 0
        sleep 0.2
    done
    return 1
}

# case_end NAME WANT LOGPAT [LOGHOST]: the checks of the header; WANT the
# host physics says keeps the domain (from, to or either); LOGPAT (ERE) a
# line the daemon of FROM (or LOGHOST) writes for this end
case_end() {
    local name=$1 want=$2 pat=$3 lh=${4:-$FROM} why=() dev_ok=true dd other_st line wh=
    case $want in from) wh=$FROM ;; to) wh=$TO ;; esac
    settle
    limit_settled "$WHERE" || true
    case $WHERE in
        "$TO")
            dd=$(tdget "$RCV" vfmig_testdev/digest)
            [[ $SENDER_DIGEST =~ ^[0-9a-f]{64}$ ]] && [ "$dd" = "$SENDER_DIGEST" ] ||
                { dev_ok=false; why+=("receiver digest ${dd:0:16}, sender's at its stop ${SENDER_DIGEST:0:16}"); }
            [ -z "$D_FROZEN" ] || [ "$dd" = "$D_FROZEN" ] ||
                { dev_ok=false; why+=("receiver digest ${dd:0:16}, sender's at the fault ${D_FROZEN:0:16}"); }
            other_st=$(tdget "$SND" vfio_migration/state)
            ;;
        "$FROM")
            dd=$(tdget "$SND" vfmig_testdev/digest)
            [ "$(tdget "$SND" vfio_migration/state)" = RUNNING ] && [ -n "$D_FROZEN" ] && [ "$dd" = "$D_FROZEN" ] ||
                { dev_ok=false; why+=("sender $(tdget "$SND" vfio_migration/state), digest ${dd:0:16}, at the fault ${D_FROZEN:0:16}"); }
            other_st=$(tdget "$RCV" vfio_migration/state)
            ;;
        *)
            dev_ok=false
            why+=("the domain on $WHERE host(s): src '$(lvh_virsh src domstate "$LVH_DOM" 2>&1 | head -1)', dst '$(lvh_virsh dst domstate "$LVH_DOM" 2>&1 | head -1)'")
            ;;
    esac
    [ "${other_st:-RUNNING}" = RUNNING ] || { dev_ok=false; why+=("the other host's VF left in $other_st"); }
    log_wait "$lh" "$L0_LH" "$pat" 30
    line=$(log_since "$lh" "$L0_LH" | grep -m1 -E -- "$pat")
    local wall
    wall=$(secs $(( $(now_us) - CASE_T0 )))
    SUMMARY+=("$name: the domain ${W_ST:-nowhere} on ${WHERE} (from $FROM, want $want); limit there $LIMIT ms; virsh exit $MIG_RC after $MIG_S s, case $wall s")
    if { [ -z "$wh" ] || [ "$WHERE" = "$wh" ]; } && [ "$W_ST" = running ] && $dev_ok &&
       [ "$LIMIT" = "$QEMU_LIMIT" ] && [ -n "$line" ]; then
        result pass "$name: the domain runs on $WHERE only ($([ "$WHERE" = "$TO" ] && echo "moved, the receiver's digest the sender's at its stop: ${dd:0:16}" || echo "stayed, the sender RUNNING with its state: ${dd:0:16}")), the other VF RUNNING; QEMU's limit there $LIMIT ms; virsh exit $MIG_RC after $MIG_S s; $lh's daemon: ${line#*virt-vfmigd: }"
    else
        result fail "$name: the domain '${W_ST:-?}' on $WHERE (want running on ${wh:-either host}); limit there '${LIMIT:-?}' (want $QEMU_LIMIT); $(IFS=';'; echo "${why[*]}"); daemon line /$pat/: '${line:-none}'"
        log_since "$lh" "$L0_LH" | tail -25 | sed "s/^/vfmigd-$lh: /" | diag
        for h in src dst; do
            lvh_on "$h" sh -c "tail -8 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | sed "s/^/$h qemu: /" | diag
        done
    fi
    [ "$WHERE" = src ] || [ "$WHERE" = dst ] && CUR=$WHERE
    diag "${SUMMARY[-1]}"
}

# ---------- devices, hosts, hook and daemons, the domain ------------------------------
if lvh_testdevs "$STATE_SIZE" "$DELAY_US" "$B1" "$B2"; then
    result pass "set-up:$LVH_SETUP_MSG"
else
    result fail "set-up failed:$LVH_SETUP_MSG"
fi
lvh_up2_check
lvh_hook_daemons_check "$HOOK"
if lvh_domain_up "$B1" 0 --target-ms "$TARGET_MS" --on-failure best-effort &&
   [ "$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)" = running ]; then
    result pass "domain $LVH_DOM prepared by virt-vfmig domain-prepare (target $TARGET_MS ms, best effort) and running on src with its VF $B1: $LVH_DOMAIN_MSG"
else
    result fail "the domain: $LVH_DOMAIN_MSG"
    sed 's/^/prepare: /' "$TMP/prep.out" | diag
    diag_run
fi
CUR=src

# ---------- f1: the link cut while the sender is in PRE_COPY ---------------------------
case_start f1
link_ctl "$FROM"
L0_LH=$L0_FROM
if dev_wait "$SND" PRE_COPY 120; then
    link_cut
else
    diag "f1: the sender never reached PRE_COPY (last '$DEV_ST')"
fi
link_ctl_end
lvh_mig_finish
diag "f1: the link down for $CUT_S s with the sender in ${CUT_AT:-?}"
case_end f1 either "domain '$LVH_DOM': (migrated; downtime |migration cancelled|migration ended without completing)"

# ---------- f2: the link cut while the sender is in STOP_COPY --------------------------
case_start f2
link_ctl "$FROM"
L0_LH=$L0_FROM
if dev_wait "$SND" STOP_COPY 180; then
    link_cut
else
    diag "f2: the sender never reached STOP_COPY (last '$DEV_ST')"
fi
link_ctl_end
lvh_mig_finish
diag "f2: the link down for $CUT_S s with the sender in ${CUT_AT:-?} (cut on its STOP_COPY)"
case_end f2 to "domain '$LVH_DOM': migrated; downtime "
fl=$(log_since "$FROM" "$L0_FROM" | grep -m1 "domain '$LVH_DOM': libvirt's part of the downtime, ")
ml=$(log_since "$FROM" "$L0_FROM" | grep -m1 "domain '$LVH_DOM': migrated; downtime ")
dt=$(sed -n 's/.*migrated; downtime \([0-9]*\) ms (libvirt).*/\1/p' <<< "$ml")
ovh=$(sed -n 's/.*overhead now \([0-9]*\) ms$/\1/p' <<< "$ml")
# a switch with the outage in it is a fault, not libvirt's overhead
if [ -n "$ml" ] && [[ $ovh =~ ^[0-9]+$ ]] && [ "$ovh" -lt $(( FAULT_US / 1000 )) ] &&
   { [ -n "$fl" ] || [ "${dt:-0}" -lt $(( CUT_S * 1000 )) ]; }; then
    result pass "f2: the downtime ($dt ms) $([ -n "$fl" ] && echo "is no overhead: ${fl#*: }" || echo "left out the outage"); the overhead stays $ovh ms"
else
    result fail "f2: daemon: '${ml:-no migrated line}', '${fl:-no fault line}' (a downtime of ${dt:-?} ms with a $CUT_S s outage: want the fault line and the overhead below $(( FAULT_US / 1000 )) ms, not '${ovh:-?}')"
fi

# ---------- f3: the destination QEMU killed while it loads ----------------------------
case_start f3
L0_LH=$L0_FROM
dpid=
if dev_wait "$RCV" RESUMING 180; then
    dpid=$(cat "/proc/${LVH_PID[$TO]}/root/run/libvirt/qemu/$LVH_DOM.pid" 2> /dev/null)
    freeze
    if [[ $dpid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$dpid/comm" 2> /dev/null)" = qemu-system-x86 ]; then
        kill -KILL "$dpid"
        CUT_AT=$(tdget "$SND" vfio_migration/state)
    else
        diag "f3: no destination QEMU (pid file '$dpid')"
    fi
else
    diag "f3: the receiver never reached RESUMING (last '$DEV_ST')"
fi
lvh_mig_finish
diag "f3: the destination QEMU (pid ${dpid:-?}) killed with the receiver RESUMING, the sender ${CUT_AT:-?}"
case_end f3 from "domain '$LVH_DOM': (migration ended without completing|migration cancelled)"

# ---------- f4: the source libvirtd restarted ---------------------------------------------
case_start f4
L0_LH=$L0_FROM
krc=- src=-
if dev_wait "$SND" PRE_COPY 180; then
    freeze
    lvh_libvirtd_kill "$FROM" TERM
    krc=$?
    lvh_libvirtd_start "$FROM"
    src=$?
else
    diag "f4: the sender never reached PRE_COPY (last '$DEV_ST')"
fi
lvh_mig_finish
diag "f4: $FROM's libvirtd stopped (SIGTERM: $krc) and started again ($src) with the sender in PRE_COPY"
case_end f4 from "domain '$LVH_DOM': connected again; "
rc_l=$(log_since "$FROM" "$L0_FROM" | grep -E "the connection to libvirt is lost|connected to libvirt again|domain '$LVH_DOM': (no longer steered|connected again)" | sed 's/.*virt-vfmigd: //' | tr '\n' '|')
if [ "$krc" = 0 ] && [ "$src" = 0 ] && [[ $rc_l == *"the connection to libvirt is lost"*"connected to libvirt again"* ]]; then
    result pass "f4: $FROM's daemon lost libvirt with its restart and reconnected: $rc_l"
else
    result fail "f4: libvirtd stop $krc, start $src; $FROM's daemon: '$rc_l'"
fi

# ---------- f5: the destination libvirtd killed -------------------------------------
case_start f5
L0_LH=$L0_FROM
krc=- src=-
if dev_wait "$SND" PRE_COPY 180; then
    freeze
    lvh_libvirtd_kill "$TO" KILL
    krc=$?
else
    diag "f5: the sender never reached PRE_COPY (last '$DEV_ST')"
fi
lvh_mig_finish
if [ "$krc" = 0 ]; then
    lvh_libvirtd_start "$TO"
    src=$?
fi
diag "f5: $TO's libvirtd killed ($krc) with the sender in PRE_COPY, started again after virsh returned ($src)"
case_end f5 from "domain '$LVH_DOM': (migrated; downtime |migration ended without completing|migration cancelled)"

# ---------- f6: the daemon and its guardian killed while it holds 1 ms -----------------------
case_start f6
L0_LH=$L0_FROM
held= g= still= back_s= ad= run_ok=false
for _ in $(seq 600); do
    held=$(lvh_virsh "$FROM" migrate-getmaxdowntime "$LVH_DOM" 2> /dev/null)
    [ "$held" = 1 ] && break
    kill -0 "$MIG_PID" 2> /dev/null || break
    sleep 0.1
done
dpid=${LVH_VFMIGD_PID[$FROM]}
g=$(pgrep -P "$dpid" -x virt-vfmigd | head -1)
if [ "$held" = 1 ] && [ -n "$g" ]; then
    kill -KILL "$g" "$dpid"
    wait "$dpid" 2> /dev/null
    unset "LVH_VFMIGD_PID[$FROM]"
    # nobody hands it back: still held a second later (and QEMU cannot
    # switch with a dirtying VF at 1 ms)
    sleep 1
    still=$(lvh_virsh "$FROM" migrate-getmaxdowntime "$LVH_DOM" 2> /dev/null)
    run_ok=false
    kill -0 "$MIG_PID" 2> /dev/null && run_ok=true
fi
if [ "$held" = 1 ] && [ -n "$g" ] && [ "$still" = 1 ] && $run_ok; then
    result pass "f6: $FROM's virt-vfmigd (pid $dpid) and its guardian (pid $g) killed while the limit was 1 ms: a second later QEMU still has $still ms and the migration runs on"
else
    result fail "f6: limit before the kill '${held:-?}' (want 1), guardian pid '${g:-none}', limit a second after '${still:-?}' (want 1: nobody is left to hand it back), migration still running: ${run_ok:-?}"
fi
# the restart, as systemd's Restart=on-failure
freeze
l1=$(log_lines "$FROM")
r0=$(now_us)
lvh_vfmigd_start "$FROM" "$TMP/vfmigd-$FROM.log"
log_wait "$FROM" "$l1" "domain '$LVH_DOM': (migrated; downtime |migration ended|migration cancelled)" 60
back_s=$(secs $(( $(now_us) - r0 )))
ad=$(log_since "$FROM" "$l1" | grep -m1 "domain '$LVH_DOM': steering its migration")
lvh_mig_finish
L0_LH=$l1
case_end f6 to "domain '$LVH_DOM': migrated; downtime "
if [ -n "$ad" ] && [ "$MIG_RC" -eq 0 ] && [ "$WHERE" = "$TO" ]; then
    result pass "f6: the daemon started again steered the migration it found ($back_s s from the restart to its end): ${ad#*virt-vfmigd: }"
else
    result fail "f6: after the restart: '${ad:-no steering line}'; virsh exit $MIG_RC; the domain on $WHERE; $back_s s"
fi

# ---------- f7: the daemon started while its host's libvirtd is down ------------------
H=$CUR
lvh_vfmigd_stop "$H"
l7=$(log_lines "$H")
down=false
lvh_libvirtd_kill "$H" TERM && down=true
waits=false
lvh_vfmigd_start "$H" "$TMP/vfmigd-$H.log" "warning: failed to connect to libvirt at .*; waiting for libvirt" && waits=true
sleep "$OUTAGE_S"       # the outage, not a verdict
alive=false
kill -0 "${LVH_VFMIGD_PID[$H]}" 2> /dev/null && alive=true
lvh_libvirtd_start "$H" || diag "f7: libvirtd did not come back on $H"
up=false
log_wait "$H" "$l7" "virt-vfmigd: watching migrations at 'qemu:///system'" 60 && up=true
nwait=$(log_since "$H" "$l7" | grep -c "waiting for libvirt")
st=$(lvh_virsh "$H" domstate "$LVH_DOM" 2> /dev/null | head -1)
if $down && $waits && $alive && $up && [ "$nwait" -eq 1 ] && [ "$st" = running ]; then
    result pass "f7: virt-vfmigd started on $H while its libvirtd was down: '$(log_since "$H" "$l7" | grep -m1 "waiting for libvirt" | sed 's/^virt-vfmigd: //')', still running $OUTAGE_S s later, then '$(log_since "$H" "$l7" | grep -m1 "watching migrations" | sed 's/^virt-vfmigd: //')' once libvirtd was back; the domain $st there"
else
    result fail "f7: libvirtd stopped: $down; the daemon said it waits: $waits ($nwait time(s)), alive after $OUTAGE_S s: $alive, watching once libvirtd was back: $up; the domain '$st'"
    log_since "$H" "$l7" | tail -10 | sed 's/^/vfmigd: /' | diag
fi
case_start f7
L0_LH=$L0_FROM
lvh_mig_finish
case_end f7 to "domain '$LVH_DOM': migrated; downtime "

# ---------- the overhead learned ------------------------------------------------------
bad=() all=()
for h in src dst; do
    s=$(sed -n 's/^samples-us=//p' "$LVH_SHARE/vfmigd-$h/state" 2> /dev/null)
    all+=("$h: ${s:-none}")
    for v in ${s//,/ }; do
        [ "$v" -le "$FAULT_US" ] || bad+=("$h $v us")
    done
done
now=$(grep -h -o "overhead now [0-9]* ms" "$TMP"/vfmigd-*.log | tail -1)
if [ "${#bad[@]}" -eq 0 ]; then
    result pass "the overhead learned stays libvirt's: every sample within $(( FAULT_US / 1000 )) ms ($(IFS=';'; echo "${all[*]}") us); last: ${now:-none}"
else
    result fail "samples over $(( FAULT_US / 1000 )) ms learned: ${bad[*]} (all: $(IFS=';'; echo "${all[*]}"))"
fi
for l in "${SUMMARY[@]}"; do diag "summary $l"; done

lvh_end "$CUR" "${VF[${OTHER[$CUR]}]}"
trap - EXIT
[ -n "${VM_OUT:-}" ] && cp "$TMP"/vfmigd-*.log "$VM_OUT/" 2> /dev/null
tap_end
