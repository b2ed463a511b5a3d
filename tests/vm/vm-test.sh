#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vm-test.sh [--demo] [--name NAME] SERIES BUILDDIR SUITE[,SUITE...]
#
# The VM harness: boots the installed Debian kernel of SERIES (6.12, 6.1,
# ...: the newest /boot/vmlinuz-SERIES.*, or $VFMIG_VM_KERNEL) under QEMU
# with TCG (no hardware, no KVM): q35, an emulated Intel IOMMU, N
# pci-testdevs each in its own IOMMU group.  The guest's root is this
# machine's / (read-only over virtio-9p, with a tmpfs overlay), so it runs
# the very programs of BUILDDIR; a second, read-write 9p share brings the
# results back.  In the guest, guest.sh runs the named suites
# (tests/vm/suites/NAME.sh, with lib.sh) one after the other.
#
# A suite's header declares what it needs from the host:
#   # vm-needs: testdev-ko     vfmig_testdev.ko built for the guest kernel
#                              (kernel/ copied to BUILDDIR/tests/vm/cache/
#                              kmod-RELEASE, make W=1; a failed or warning
#                              build fails the run)
#   # vm-needs: mtty-ko        the kernel's mtty sample (build-mtty.sh)
#   # vm-testdevs: N           at least N pci-testdevs (default 2)
#
# Output: TAP on stdout for meson (the console as "# " lines while the
# guest runs, then every suite's checks, renumbered and named "SUITE: ...",
# then the harness's own checks).  A suite that printed no plan, fewer or
# more results than its plan, a "# SKIP" or "# TODO", a guest that died or
# timed out, and a kernel log with WARNING, BUG, Oops, a hung task or a
# call trace all fail.  --demo shows the suites' output for people instead
# (run-demo); the exit status is the same.
#
# Needs root, qemu-system-x86_64, busybox-static, the kernel image, its
# modules, and its headers for the modules built here.
# Environment: VFMIG_VM_KERNEL (a kernel release under /boot),
# VFMIG_VM_CACHE (module cache, default BUILDDIR/tests/vm/cache),
# VFMIG_VM_TIMEOUT (seconds for the whole boot, default 300),
# VFMIG_VM_TESTDEVS (pci-testdevs, default: what the suites declare),
# VFMIG_VM_KERNEL_SRC (the modules' source, default the project's kernel/:
# e.g. a copy with a bug put in on purpose, with its own VFMIG_VM_CACHE),
# VFMIG_VM_OPT_* (passed to the suites: see suites/*.sh).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

DEMO=false
NAME=
while [ $# -gt 0 ]; do
    case "$1" in
        --demo) DEMO=true; shift ;;
        --name) NAME=$2; shift 2 ;;
        *) break ;;
    esac
done
if [ $# -ne 3 ]; then
    echo "usage: vm-test.sh [--demo] [--name NAME] SERIES BUILDDIR SUITE[,SUITE...]" >&2
    exit 2
fi
SERIES=$1
BUILDDIR=$2
SUITES=$3
[ -n "$NAME" ] || NAME="vm-${SUITES//,/+}-$SERIES"

die() {
    echo "$NAME: FAIL: $*" >&2
    $DEMO || echo "Bail out! $NAME: $*"
    exit 1
}
note() { $DEMO || echo "# $NAME: $*"; }
show() { $DEMO && echo "$*"; return 0; }

# ---------- what this needs --------------------------------------------------------
[ "$(id -u)" -eq 0 ] ||
    die "needs root: the guest's root is this machine's / read over 9p (root-only files included)"
command -v qemu-system-x86_64 >/dev/null ||
    die "qemu-system-x86_64 is not installed (Debian: qemu-system-x86, from bookworm-backports on Debian 12)"
for t in timeout realpath cpio gzip modprobe make; do
    command -v "$t" >/dev/null || die "$t is not installed"
done
[[ $SERIES =~ ^[0-9]+\.[0-9]+$ ]] || die "SERIES must look like 6.12, not '$SERIES'"
[[ $SUITES =~ ^[a-z0-9-]+(,[a-z0-9-]+)*$ ]] || die "bad suite list '$SUITES'"

if [ -n "${VFMIG_VM_KERNEL:-}" ]; then
    KVER=$VFMIG_VM_KERNEL
else
    KVER=$(cd /boot && for f in vmlinuz-"$SERIES".*; do
               [ -e "$f" ] && echo "${f#vmlinuz-}"
           done | sort -V | tail -1) || true
fi
[ -n "$KVER" ] ||
    die "no Debian $SERIES kernel is installed (/boot/vmlinuz-$SERIES.*): apt-get install linux-image-<$SERIES release>-amd64"
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || die "kernel image $KERNEL is missing or unreadable"
[ -d "/lib/modules/$KVER/kernel" ] || die "/lib/modules/$KVER is missing: the modules of $KVER are not installed"
grep -q '^CONFIG_VFIO_PCI=' "/boot/config-$KVER" 2>/dev/null ||
    die "/boot/config-$KVER is missing or has no VFIO_PCI"

[ -d "$BUILDDIR" ] || die "build directory $BUILDDIR does not exist"
BUILDDIR=$(realpath "$BUILDDIR")
SRCROOT=$(cd "$HERE/../.." && pwd)

IFS=, read -r -a SUITE_LIST <<< "$SUITES"
NEED_TESTDEV=false
NEED_MTTY=false
NDEV=2
for s in "${SUITE_LIST[@]}"; do
    f=$HERE/suites/$s.sh
    [ -r "$f" ] || die "no suite '$s' ($f)"
    while read -r _ _ what rest; do
        case "$what" in
            testdev-ko) NEED_TESTDEV=true ;;
            mtty-ko) NEED_MTTY=true ;;
        esac
    done < <(grep '^# vm-needs: ' "$f" || true)
    n=$(sed -n 's/^# vm-testdevs: *\([0-9]*\).*/\1/p' "$f" | head -1)
    [ -n "$n" ] && [ "$n" -gt "$NDEV" ] && NDEV=$n
done
NDEV=${VFMIG_VM_TESTDEVS:-$NDEV}

WORK=$BUILDDIR/tests/vm/run-$NAME
CACHE=${VFMIG_VM_CACHE:-$BUILDDIR/tests/vm/cache}
rm -rf "$WORK"
mkdir -p "$WORK/out" "$CACHE"
CACHE=$(realpath "$CACHE")
GUEST=$HERE/guest.sh

# The guest sees the host's / except where it mounts its own file systems.
for p in "$GUEST" "$BUILDDIR" "$WORK/out"; do
    case "$p" in
        /proc/*|/sys/*|/dev/*|/run/*)
            die "$p is under a directory the guest mounts its own file system on (/proc /sys /dev /run): use a build directory elsewhere" ;;
    esac
done
[[ $WORK != *,* ]] ||
    die "the build directory's path ($BUILDDIR) must not contain a comma: QEMU's -fsdev cannot take it"
[[ $GUEST =~ ^[A-Za-z0-9_./+:-]+$ ]] ||
    die "the path of guest.sh ($GUEST) goes on the guest kernel's command line and must not contain spaces or special characters"

T_START=${EPOCHREALTIME/./}
elapsed() { local d=$(( ${EPOCHREALTIME/./} - T_START )); printf '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000)); }

# ---------- build what the guest needs ------------------------------------------------
show "Preparing the guest for Linux $KVER: a busybox initramfs$($NEED_TESTDEV && echo ", vfmig_testdev.ko built for this kernel")."
"$HERE/make-initramfs.sh" "$KVER" "$WORK/initrd.gz" 2> "$WORK/initramfs.log" ||
    { cat "$WORK/initramfs.log" >&2; die "building the initramfs failed"; }
note "initramfs for $KVER built ($(elapsed) s)"

HOST_CHECKS=()     # "pass|fail DESCRIPTION" of checks made here
TESTDEV_KO=
if $NEED_TESTDEV; then
    if ! TESTDEV_KO=$("$HERE/build-kmod.sh" "$KVER" "${VFMIG_VM_KERNEL_SRC:-$SRCROOT/kernel}" "$CACHE" \
                          2> "$WORK/kmod.log" | tail -1) || [ ! -f "$TESTDEV_KO" ]; then
        cat "$WORK/kmod.log" >&2
        die "building vfmig_testdev.ko for $KVER failed (log above, $WORK/kmod.log)"
    fi
    warn=$(grep -c 'warning:' "$WORK/kmod.log" || true)
    if [ "$warn" -eq 0 ]; then
        HOST_CHECKS+=("pass|kernel modules built for $KVER with W=1, no warnings")
    else
        HOST_CHECKS+=("fail|kernel modules built for $KVER with W=1: $warn warnings ($WORK/kmod.log)")
        grep 'warning:' "$WORK/kmod.log" | head -20 | sed "s/^/$NAME: /" >&2
    fi
    note "vfmig_testdev.ko for $KVER: $TESTDEV_KO ($(elapsed) s)"
fi

MTTY_KO=
if $NEED_MTTY; then
    if ! MTTY_KO=$("$HERE/build-mtty.sh" "$KVER" "$CACHE" 2> "$WORK/mtty.log" | tail -1) ||
       [ ! -f "$MTTY_KO" ]; then
        cat "$WORK/mtty.log" >&2
        die "building mtty.ko for $KVER failed (see above)"
    fi
    MTTY_KO=$(realpath "$MTTY_KO")
    note "mtty.ko for $KVER: $MTTY_KO ($(elapsed) s)"
fi

{
    printf 'VM_MODE=%q\n' "$($DEMO && echo demo || echo test)"
    printf 'VM_NAME=%q\n' "$NAME"
    printf 'VM_SUITES=%q\n' "$SUITES"
    printf 'VM_SRCDIR=%q\n' "$HERE"
    printf 'VM_BUILDDIR=%q\n' "$BUILDDIR"
    printf 'VM_KVER=%q\n' "$KVER"
    printf 'VM_SERIES=%q\n' "$SERIES"
    printf 'TESTDEV_KO=%q\n' "$TESTDEV_KO"
    printf 'MTTY_KO=%q\n' "$MTTY_KO"
    [ -n "${VFMIG_VM_SUITE_TIMEOUT:-}" ] &&
        printf 'VM_SUITE_TIMEOUT=%q\n' "$VFMIG_VM_SUITE_TIMEOUT"
    # knobs for the suites, passed through
    env | grep '^VFMIG_VM_OPT_' | sed 's/=\(.*\)/="\1"/' || true
} > "$WORK/out/config.sh"

# ---------- boot ----------------------------------------------------------------------------
# shellcheck disable=SC2054 # commas are QEMU option syntax
QEMU=(
    qemu-system-x86_64
    -accel tcg,thread=multi,tb-size=256
    -cpu max -smp 2 -m 2048M
    -M q35,kernel-irqchip=split
    -device intel-iommu,intremap=on
)
for ((i = 0; i < NDEV; i++)); do
    QEMU+=(-device pci-testdev)
done
QEMU+=(
    -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
    -fsdev "local,id=out,path=$WORK/out,security_model=none"
    -device virtio-9p-pci,fsdev=out,mount_tag=out
    -kernel "$KERNEL" -initrd "$WORK/initrd.gz"
    -append "console=ttyS0 intel_iommu=on panic=-1 quiet vfmig.init=$GUEST"
    -nodefaults -display none -serial stdio -no-reboot
)
TIMEOUT=${VFMIG_VM_TIMEOUT:-300}
printf '%q ' "${QEMU[@]}" > "$WORK/qemu-command.txt"
note "booting $KVER under QEMU TCG with $NDEV pci-testdevs, suites $SUITES (timeout $TIMEOUT s); console: $WORK/console.log"
show "Booting Debian's kernel $KVER under $(qemu-system-x86_64 --version | head -1 | sed 's/ (.*//') (TCG, no KVM) ..."

T_BOOT=${EPOCHREALTIME/./}
set +e
timeout -k 10 "$TIMEOUT" "${QEMU[@]}" < /dev/null 2>&1 |
    {
        while IFS= read -r line; do
            line=${line%$'\r'}
            d=$(( ${EPOCHREALTIME/./} - T_BOOT ))
            stamp=$(printf '[%4d.%02d]' $((d / 1000000)) $((d % 1000000 / 10000)))
            printf '%s %s\n' "$stamp" "$line" >> "$WORK/console.log"
            case "$line" in
                VFMIG-VM-GUEST-START*)
                    echo "$stamp $line" > "$WORK/guest-start.txt"
                    $DEMO && printf '(the guest is up after %s s)\n' "${stamp//[][ ]/}"
                    ;;
                VFMIG-VM-SUITE-START*|VFMIG-VM-SUITE-END*)
                    echo "$stamp $line" >> "$WORK/suite-times.txt"
                    ;;
                VFMIG-VM-FATAL*)
                    echo "$line" >&2
                    ;;
            esac
            if $DEMO; then
                # the suites' report, not the kernel's nor the timings
                if [[ $line =~ ^\[[a-z0-9-]+\]\ (.*)$ ]]; then
                    l=${BASH_REMATCH[1]}
                    case "$l" in
                        "#   "*" s"|"#   "*" ms"|1..*) ;;
                        "# "*) printf '%s\n' "${l#\# }" ;;
                        "#") echo ;;
                        *) printf '%s\n' "$l" ;;
                    esac
                fi
            else
                printf '# %s %s\n' "$stamp" "$line"
            fi
        done
    }
QEMU_RC=${PIPESTATUS[0]}
set -e
BOOT_SECS=$(( (${EPOCHREALTIME/./} - T_BOOT) / 10000 ))
BOOT_SECS=$(printf '%d.%02d' $((BOOT_SECS / 100)) $((BOOT_SECS % 100)))

# ---------- results -----------------------------------------------------------------------
OUTDIR=$WORK/out
TAP=()          # the lines for meson, numbered by emit_result
T=0
NFAIL=0
FAILED_LINES=()

emit_result() {     # emit_result pass|fail DESCRIPTION
    T=$((T + 1))
    if [ "$1" = pass ]; then
        TAP+=("ok $T - $2")
    else
        TAP+=("not ok $T - $2")
        NFAIL=$((NFAIL + 1))
        FAILED_LINES+=("not ok $T - $2")
    fi
}

for hc in ${HOST_CHECKS[@]+"${HOST_CHECKS[@]}"}; do
    emit_result "${hc%%|*}" "host: ${hc#*|}"
done

for s in "${SUITE_LIST[@]}"; do
    f=$OUTDIR/suite-$s.tap
    rcf=$OUTDIR/suite-$s.rc
    if [ ! -f "$f" ]; then
        emit_result fail "$s: the suite did not run (the guest stopped before it)"
        continue
    fi
    plan=
    count=0
    early=false
    while IFS= read -r line; do
        case "$line" in
            1..*)
                if [ -z "$plan" ]; then
                    plan=${line#1..}
                    [ "$count" -gt 0 ] && early=true
                fi
                TAP+=("# $s: plan $line")
                ;;
            "ok "*|"not ok "*)
                count=$((count + 1))
                desc=${line#ok [0-9]* - }
                desc=${desc#not ok [0-9]* - }
                if [ -n "$plan" ] && [ "$count" -gt "$plan" ]; then
                    TAP+=("# $s: beyond its plan: $line")
                    continue
                fi
                if [ "${line%% *}" = ok ] && [[ $line != *"# SKIP"* ]] &&
                   [[ $line != *"# TODO"* ]]; then
                    emit_result pass "$s: $desc"
                else
                    [[ $line == *"# SKIP"* ]] && desc="$desc (a skipped check is a failure here)"
                    emit_result fail "$s: $desc"
                fi
                ;;
            "#"*)
                TAP+=("$line")
                ;;
            *)
                TAP+=("# $line")
                ;;
        esac
    done < "$f"
    rc=$(cat "$rcf" 2>/dev/null || echo none)
    if [ -z "$plan" ]; then
        emit_result fail "$s: printed no plan (exit status $rc)"
    else
        $early && emit_result fail "$s: printed results before its plan"
        for ((i = count + 1; i <= plan; i++)); do
            emit_result fail "$s: check $i of $plan was not reported (exit status $rc)"
        done
        [ "$count" -gt "$plan" ] &&
            emit_result fail "$s: reported $count results, its plan said $plan"
    fi
    if [ "$rc" != 0 ]; then
        emit_result fail "$s: exit status $rc"
    fi
done

# the kernel log: the guest's dmesg, or the console if the guest died
KLOG=$OUTDIR/dmesg.txt
[ -f "$KLOG" ] || KLOG=$WORK/console.log
KPAT='WARNING:|BUG:|Oops|Call Trace|general protection|hung_task|blocked for more than|Kernel panic|RIP:|refcount_t:|list_(add|del) corruption'
if [ -f "$KLOG" ] && grep -Eq "$KPAT" "$KLOG"; then
    emit_result fail "kernel log: warnings, BUGs, oopses or hung tasks ($KLOG)"
    # which suite each belongs to
    awk -v pat="$KPAT" '/vfmig-vm: suite /{s=$0; sub(/.*vfmig-vm: suite /,"",s)}
        $0 ~ pat {print "# kernel [" (s ? s : "boot") "]: " $0}' "$KLOG" |
        head -40 > "$WORK/kernel-problems.txt"
    while IFS= read -r l; do TAP+=("$l"); done < "$WORK/kernel-problems.txt"
else
    [ -f "$KLOG" ] && emit_result pass "kernel log: no WARNING, BUG, Oops, hung task or call trace" ||
        emit_result fail "kernel log: none came back"
fi

problems=
[ "$QEMU_RC" -eq 124 ] && problems="QEMU did not finish within $TIMEOUT s (killed)"
[ "$QEMU_RC" -ne 0 ] && [ "$QEMU_RC" -ne 124 ] && problems="QEMU exited with status $QEMU_RC"
grep -q 'VFMIG-VM-FATAL' "$WORK/console.log" 2>/dev/null &&
    problems+="${problems:+; }$(grep -m1 'VFMIG-VM-FATAL' "$WORK/console.log" | sed 's/.*VFMIG-VM-FATAL //')"
[ -f "$OUTDIR/end.txt" ] || problems+="${problems:+; }the guest did not finish its suites"
if [ -z "$problems" ]; then
    emit_result pass "guest: ran every suite and powered off"
else
    emit_result fail "guest: $problems"
fi

GUEST_AT=$(sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' "$WORK/guest-start.txt" 2>/dev/null || true)
TIMES=$(sed 's/^\[ *\([0-9.]*\)\] /\1 /' "$WORK/suite-times.txt" 2>/dev/null |
        awk '$2 == "VFMIG-VM-SUITE-START" {t[$3] = $1}
             $2 == "VFMIG-VM-SUITE-END" {printf "suite %s %.1f s, ", $3, $1 - t[$3]}' || true)
SUMMARY="kernel $KVER: QEMU start to guest script ${GUEST_AT:-?} s; ${TIMES}boot to power-off $BOOT_SECS s; whole run $(elapsed) s"
echo "$SUMMARY" > "$WORK/timings.txt"

if $DEMO; then
    echo
    echo "(QEMU ran for $BOOT_SECS s; the guest was up after ${GUEST_AT:-?} s.)"
else
    echo "1..$T"
    printf '%s\n' "${TAP[@]}"
    note "$SUMMARY"
    note "$((T - NFAIL)) of $T checks passed (results: $OUTDIR)"
fi
for l in ${FAILED_LINES[@]+"${FAILED_LINES[@]}"}; do
    echo "$NAME: $l" >&2
done
if [ "$NFAIL" -ne 0 ]; then
    echo "$NAME: FAIL: $NFAIL of $T checks failed; console $WORK/console.log, kernel log $OUTDIR/dmesg.txt" >&2
    note "FAIL"
    exit 1
fi
note "PASS"
exit 0
