# SPDX-License-Identifier: LGPL-2.1-or-later
#
# lib.sh: sourced by every in-guest suite (suites/NAME.sh).  guest.sh runs a
# suite with bash, its stdout captured as the suite's TAP; the environment
# carries config.sh's variables (VM_SRCDIR, VM_BUILDDIR, VM_KVER,
# VM_SERIES, TESTDEV_KO, MTTY_KO, VM_MODE, VM_SUITE) and a private VM_TMP.
#
# A suite declares its plan first (tap_plan N), then reports exactly N
# checks (result, tap_include), and ends with tap_end.  The host side
# fails the run when the plan is not met.

set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
: "${VM_TMP:=/run/vfmig/$VM_SUITE}"
mkdir -p "$VM_TMP"
TMP=$VM_TMP

N=0
FAILED=0
PLAN=
CHECK_T0=

now_us() { echo "${EPOCHREALTIME/./}"; }
secs() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }
start() { CHECK_T0=$(now_us); }

tap_plan() {
    PLAN=$1
    echo "1..$PLAN"
    echo "# suite $VM_SUITE on $(uname -r), started at $(cut -d' ' -f1 /proc/uptime) s of uptime"
    start
}

# result pass|fail DESCRIPTION
result() {
    local verdict=$1
    shift
    local t=$(( $(now_us) - ${CHECK_T0:-$(now_us)} ))
    N=$((N + 1))
    if [ "$verdict" = pass ]; then
        echo "ok $N - $*"
    else
        FAILED=$((FAILED + 1))
        echo "not ok $N - $*"
    fi
    echo "#   $(secs $t) s"
    start
}

# check DESCRIPTION -- COMMAND...: pass when COMMAND succeeds
check() {
    local desc=$1
    shift
    [ "$1" = -- ] && shift
    if "$@"; then result pass "$desc"; else result fail "$desc"; fi
}

# diagnostics: "# " lines from the arguments or stdin
diag() {
    local line
    if [ $# -gt 0 ]; then
        printf '# %s\n' "$*"
        return 0
    fi
    while IFS= read -r line; do
        printf '#     %s\n' "$line"
    done
}

# what the demo shows (TAP comments everywhere else)
say() { printf '# %s\n' "$*"; }

# run CMD...: RC, $TMP/out, $TMP/err
run() {
    timeout -k 5 "${RUN_TIMEOUT:-120}" "$@" > "$TMP/out" 2> "$TMP/err"
    RC=$?
}

# the captured output of the last run, as diagnostics
diag_run() {
    echo "exit status $RC" | diag
    [ -s "$TMP/out" ] && sed 's/^/stdout: /' "$TMP/out" | diag
    [ -s "$TMP/err" ] && sed 's/^/stderr: /' "$TMP/err" | diag
    return 0
}

# value of "Key:   value" in $TMP/out
field() { sed -n "s/^$1: *//p" "$TMP/out" | head -1; }

# tap_include COUNT LABEL PROGRAM ARGS...
#   Runs a program that prints TAP with COUNT checks and makes them checks
#   of this suite (COUNT + 1 in all: the last says the program exited 0
#   with its plan met).  Checks it did not reach fail.
tap_include() {
    local count=$1 label=$2
    shift 2
    local t0 line plan= n=0 bad=0 extra=0 rc
    t0=$(now_us)
    timeout -k 5 "${INCLUDE_TIMEOUT:-600}" "$@" > "$TMP/inc.out" 2> "$TMP/inc.err"
    rc=$?
    echo "# $label ran for $(secs $(( $(now_us) - t0 ))) s, exit status $rc"
    start
    while IFS= read -r line; do
        case "$line" in
            1..*)
                plan=${line#1..}
                ;;
            "ok "*|"not ok "*)
                n=$((n + 1))
                if [ $n -gt "$count" ]; then
                    extra=$((extra + 1))
                    echo "# (beyond the plan) $line"
                    continue
                fi
                local desc=${line#ok [0-9]* - }
                desc=${desc#not ok [0-9]* - }
                if [ "${line%% *}" = ok ] && [[ $line != *"# SKIP"* ]] &&
                   [[ $line != *"# TODO"* ]]; then
                    result pass "$label: $desc"
                else
                    bad=$((bad + 1))
                    result fail "$label: $desc"
                fi
                ;;
            "#   "*" ms")
                echo "$line"
                ;;
            "#"*)
                echo "$line"
                ;;
            *)
                echo "# $line"
                ;;
        esac
    done < "$TMP/inc.out"
    [ -s "$TMP/inc.err" ] && sed 's/^/stderr: /' "$TMP/inc.err" | diag
    while [ $n -lt "$count" ]; do
        n=$((n + 1))
        result fail "$label: check $n of $count did not run"
    done
    if [ $rc -eq 0 ] && [ "$plan" = "$count" ] && [ $extra -eq 0 ] && [ $bad -eq 0 ]; then
        result pass "$label: exit 0, all $count planned checks ran and passed"
    else
        result fail "$label: exit $rc, plan '$plan' (want $count), $extra beyond the plan, $bad failed"
    fi
}

tap_end() {
    [ "$N" -ne "$PLAN" ] && echo "# the plan said $PLAN checks, $N ran"
    echo "# $FAILED of $N checks failed"
    [ "$FAILED" -eq 0 ] && [ "$N" -eq "$PLAN" ]
}

# qemu_results FILE: vm-qemu-migrate.py's "result.KEY=VALUE" lines in
# FILE as R_KEY variables (the previous R_* unset); its "watch ..." lines
# are said when WATCH is true
qemu_results() {
    local k v line
    for k in $(compgen -v R_); do unset "$k"; done
    while IFS= read -r line; do
        case "$line" in
            result.*=*)
                k=${line#result.}
                v=${k#*=}
                k=${k%%=*}
                printf -v "R_$k" '%s' "$v"
                ;;
            watch\ *)
                ${WATCH:-false} && say "  ${line#watch }"
                ;;
        esac
    done < "$1"
}

# ---------- devices -------------------------------------------------------------

# TESTDEVS: the PCI addresses of the pci-testdevs (1b36:0005)
find_testdevs() {
    local d
    TESTDEVS=()
    for d in /sys/bus/pci/devices/*; do
        [ "$(cat "$d/vendor")" = 0x1b36 ] && [ "$(cat "$d/device")" = 0x0005 ] &&
            TESTDEVS+=("${d##*/}")
    done
}

# bind DRIVER BDF...: driver_override + drivers_probe; BIND_MSG says how
# each ended; fails unless every device is bound with its /dev/vfio group
bind() {
    local drv=$1 b cur grp ok=0
    shift
    BIND_MSG=
    for b in "$@"; do
        if [ -e "/sys/bus/pci/devices/$b/driver" ]; then
            cur=$(basename "$(readlink "/sys/bus/pci/devices/$b/driver")")
            [ "$cur" != "$drv" ] && echo "$b" > "/sys/bus/pci/devices/$b/driver/unbind"
        fi
        echo "$drv" > "/sys/bus/pci/devices/$b/driver_override" 2>/dev/null
        [ -e "/sys/bus/pci/devices/$b/driver" ] ||
            echo "$b" > /sys/bus/pci/drivers_probe 2>/dev/null
        cur=$(basename "$(readlink "/sys/bus/pci/devices/$b/driver" 2>/dev/null)" 2>/dev/null)
        grp=$(basename "$(readlink "/sys/bus/pci/devices/$b/iommu_group" 2>/dev/null)" 2>/dev/null)
        BIND_MSG+=" $b: driver ${cur:-none}, group ${grp:-none};"
        [ "$cur" = "$drv" ] && [ -n "$grp" ] && [ -c "/dev/vfio/$grp" ] && ok=$((ok + 1))
    done
    BIND_MSG=${BIND_MSG%;}
    [ $ok -eq $# ]
}

# the VFIO core and what variant drivers need, as QEMU would have them
load_vfio() {
    modprobe -a vfio vfio_iommu_type1 vfio_pci_core vfio-pci > "$TMP/err" 2>&1 &&
        [ -c /dev/vfio/vfio ]
}

# insmod $TESTDEV_KO (after load_vfio)
load_testdev() {
    [ -d /sys/module/vfmig_testdev ] && return 0
    [ -n "${TESTDEV_KO:-}" ] && [ -r "$TESTDEV_KO" ] || {
        echo "TESTDEV_KO='${TESTDEV_KO:-}' is not readable in the guest" > "$TMP/err"
        return 1
    }
    insmod "$TESTDEV_KO" > "$TMP/err" 2>&1
}

# sysfs of a testdev: tdget BDF FILE (vfio_migration/... or vfmig_testdev/...)
tdget() { cat "/sys/bus/pci/devices/$1/$2" 2>/dev/null; }
tdset() { echo "$3" > "/sys/bus/pci/devices/$1/$2" 2>/dev/null; }

# the kernel series of this guest, "6.1", "6.12"
kernel_series() { uname -r | grep -o '^[0-9]*\.[0-9]*'; }
