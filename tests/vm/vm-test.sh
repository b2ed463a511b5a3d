#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vm-test.sh [--demo] SERIES BUILDDIR VIRT_VFMIG VM_ROUNDTRIP
#
# Runs vfmig's VFIO client against a real Debian kernel: boots the
# installed kernel of SERIES (6.12, 6.1, ...: the newest /boot/vmlinuz-
# SERIES.*, or $VFMIG_VM_KERNEL) under QEMU with TCG, so no hardware and no
# KVM are needed, with an emulated Intel IOMMU and two pci-testdevs.  The
# guest's root is this machine's / (read-only over virtio-9p, with a tmpfs
# overlay), so it runs the very binaries of BUILDDIR; guest.sh does the
# checks and writes results.tap to a read-write share.  On kernels >= 6.7
# the kernel's sample VFIO migration driver, mtty, is built for the guest
# kernel (build-mtty.sh, cached) and a real state round trip is done.
#
# Prints TAP on stdout (the console as "# " lines while the guest runs,
# then the guest's checks against the plan expected here for SERIES) and
# exits 0 only when the guest reported every planned check and each passed:
# a missing result, a skipped check or a guest that never finished is a
# failure.  --demo shows the run for people instead (run-demo).
#
# Needs root, qemu-system-x86_64, the kernel image, its modules, and for
# mtty its headers and apt access to linux-source.
# Environment: VFMIG_VM_KERNEL (a kernel release under /boot),
# VFMIG_VM_CACHE (mtty cache, default BUILDDIR/tests/vm/cache),
# VFMIG_VM_TIMEOUT (seconds for the whole boot, default 300).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Checks of guest.sh and of vm-roundtrip (keep in step with both).
GUEST_CHECKS_VFIO=9
GUEST_CHECKS_MTTY=6     # load, create, device-info x2, roundtrip exit, after
GUEST_CHECKS_END=1
RT_CHECKS=20            # vm-roundtrip with PRE_COPY (VM_RT_CHECKS_*)

DEMO=false
if [ "${1:-}" = --demo ]; then
    DEMO=true
    shift
fi
if [ $# -ne 4 ]; then
    echo "usage: vm-test.sh [--demo] SERIES BUILDDIR VIRT_VFMIG VM_ROUNDTRIP" >&2
    exit 2
fi
SERIES=$1
BUILDDIR=$2
VIRT_VFMIG=$3
VM_ROUNDTRIP=$4

NAME="vm-$SERIES"
die() {
    echo "$NAME: FAIL: $*" >&2
    $DEMO || echo "Bail out! $NAME: $*"
    exit 1
}
note() { $DEMO || echo "# $NAME: $*"; }
show() { $DEMO && echo "$*"; return 0; }

# ---------- what this needs --------------------------------------------------------
[ "$(id -u)" -eq 0 ] ||
    die "needs root: the guest's root is this machine's / read over 9p (root-only files included) and the cache may need apt-get download"
command -v qemu-system-x86_64 >/dev/null ||
    die "qemu-system-x86_64 is not installed (Debian: qemu-system-x86, from bookworm-backports on Debian 12)"
for t in timeout realpath cpio gzip modprobe; do
    command -v "$t" >/dev/null || die "$t is not installed"
done
[[ $SERIES =~ ^[0-9]+\.[0-9]+$ ]] || die "SERIES must look like 6.12, not '$SERIES'"

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

for exe in "$VIRT_VFMIG" "$VM_ROUNDTRIP"; do
    [ -x "$exe" ] || die "$exe is not built (run ninja -C $BUILDDIR)"
done
[ -d "$BUILDDIR" ] || die "build directory $BUILDDIR does not exist"
BUILDDIR=$(realpath "$BUILDDIR")
VIRT_VFMIG=$(realpath "$VIRT_VFMIG")
VM_ROUNDTRIP=$(realpath "$VM_ROUNDTRIP")

# mtty has its migration support since Linux 6.7.
MTTY=false
major=${SERIES%%.*}
minor=${SERIES#*.}
if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 7 ]; }; then
    MTTY=true
fi
if $MTTY && [ ! -f "/usr/src/linux-headers-$KVER/Makefile" ]; then
    die "the headers of $KVER are not installed (/usr/src/linux-headers-$KVER), mtty.ko cannot be built: apt-get install linux-headers-$KVER"
fi
PLAN=$((GUEST_CHECKS_VFIO + GUEST_CHECKS_END))
$MTTY && PLAN=$((PLAN + GUEST_CHECKS_MTTY + RT_CHECKS))

WORK=$BUILDDIR/tests/vm/run-$SERIES
CACHE=${VFMIG_VM_CACHE:-$BUILDDIR/tests/vm/cache}
rm -rf "$WORK"
mkdir -p "$WORK/out"
GUEST=$HERE/guest.sh

# The guest sees the host's / except where it mounts its own file systems.
for p in "$GUEST" "$VIRT_VFMIG" "$VM_ROUNDTRIP" "$WORK/out"; do
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
show "Preparing the guest for Linux $KVER: a busybox initramfs$($MTTY && echo ", and mtty.ko built for this kernel")."
if $MTTY && [ ! -f "$CACHE/mtty-$KVER/mtty.ko" ]; then
    show "(First run: downloading Debian's linux-source for mtty.c, about 150 MB, once.)"
fi
"$HERE/make-initramfs.sh" "$KVER" "$WORK/initrd.gz" 2> "$WORK/initramfs.log" ||
    { cat "$WORK/initramfs.log" >&2; die "building the initramfs failed"; }
note "initramfs for $KVER built ($(elapsed) s)"

MTTY_KO=
if $MTTY; then
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
    printf 'VIRT_VFMIG=%q\n' "$VIRT_VFMIG"
    printf 'VM_ROUNDTRIP=%q\n' "$VM_ROUNDTRIP"
    printf 'MTTY_KO=%q\n' "$MTTY_KO"
    printf 'RT_CHECKS=%q\n' "$RT_CHECKS"
} > "$WORK/out/config.sh"

# ---------- boot ----------------------------------------------------------------------------
# shellcheck disable=SC2054 # commas are QEMU option syntax
QEMU=(
    qemu-system-x86_64
    -accel tcg,thread=multi,tb-size=256
    -cpu max -smp 2 -m 1536M
    -M q35,kernel-irqchip=split
    -device intel-iommu,intremap=on
    -device pci-testdev -device pci-testdev
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
note "booting $KVER under QEMU TCG (timeout $TIMEOUT s); console: $WORK/console.log"
show "Booting Debian's kernel $KVER under $(qemu-system-x86_64 --version | head -1 | sed 's/ (.*//') (TCG, no KVM) ..."

T_BOOT=${EPOCHREALTIME/./}
set +e
timeout -k 10 "$TIMEOUT" "${QEMU[@]}" < /dev/null 2>&1 |
    {
        shown=false
        while IFS= read -r line; do
            line=${line%$'\r'}
            d=$(( ${EPOCHREALTIME/./} - T_BOOT ))
            stamp=$(printf '[%4d.%02d]' $((d / 1000000)) $((d % 1000000 / 10000)))
            printf '%s %s\n' "$stamp" "$line" >> "$WORK/console.log"
            case "$line" in
                VFMIG-VM-GUEST-START*)
                    shown=true
                    echo "$stamp $line" > "$WORK/guest-start.txt"
                    $DEMO && printf '(the guest is up after %s s)\n' "${stamp//[][ ]/}"
                    continue
                    ;;
                VFMIG-VM-FATAL*)
                    echo "$line" >&2
                    ;;
            esac
            if $DEMO; then
                # the guest's output only, not the kernel's
                $shown && [[ ! $line =~ ^\[\ *[0-9]+\.[0-9]+\]\  ]] &&
                    printf '%s\n' "$line"
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
RES=$WORK/out/results.tap
problems=()
[ "$QEMU_RC" -eq 124 ] && problems+=("QEMU did not finish within $TIMEOUT s (killed)")
[ "$QEMU_RC" -ne 0 ] && [ "$QEMU_RC" -ne 124 ] && problems+=("QEMU exited with status $QEMU_RC")
grep -q 'VFMIG-VM-FATAL' "$WORK/console.log" 2>/dev/null &&
    problems+=("the guest stopped early: $(grep -m1 'VFMIG-VM-FATAL' "$WORK/console.log" | sed 's/.*VFMIG-VM-FATAL //')")

plan=
count=0
passed=0
failed=()
misnumbered=0
ended=false
tap=()
if [ -f "$RES" ]; then
    while IFS= read -r line; do
        case "$line" in
            1..*)
                [ -z "$plan" ] && plan=${line#1..}
                continue
                ;;
            "ok "*|"not ok "*)
                count=$((count + 1))
                num=${line#ok }
                num=${num#not ok }
                num=${num%% *}
                [ "$num" = "$count" ] || misnumbered=$((misnumbered + 1))
                if [ "${line%% *}" = ok ] && [[ $line != *"# SKIP"* ]] &&
                   [[ $line != *"# TODO"* ]]; then
                    passed=$((passed + 1))
                else
                    failed+=("$line")
                fi
                ;;
            "# VFMIG-VM-END")
                ended=true
                ;;
            "#"*)
                ;;
            *)
                line="# $line"
                ;;
        esac
        tap+=("$line")
    done < "$RES"
else
    problems+=("the guest wrote no results.tap")
fi

[ -f "$RES" ] && ! $ended && problems+=("the guest did not finish its checks (no end marker)")
[ -n "$plan" ] && [ "$plan" != "$PLAN" ] &&
    problems+=("the guest planned $plan checks, $PLAN are expected on $SERIES")
[ -f "$RES" ] && [ -z "$plan" ] && problems+=("the guest printed no plan")
[ "$count" -ne "$PLAN" ] && problems+=("$count checks reported, $PLAN expected")
[ "$misnumbered" -ne 0 ] && problems+=("$misnumbered checks are numbered out of order")
[ ${#failed[@]} -ne 0 ] && problems+=("${#failed[@]} checks failed or were skipped")

GUEST_AT=$(sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' "$WORK/guest-start.txt" 2>/dev/null || true)

if $DEMO; then
    echo
    echo "(QEMU ran for $BOOT_SECS s; the guest was up after ${GUEST_AT:-?} s.)"
else
    # TAP for meson: the guest's checks against the plan expected here; a
    # check the guest did not report is a failed one.
    echo "1..$PLAN"
    [ ${#tap[@]} -eq 0 ] || printf '%s\n' "${tap[@]}"
    for ((i = count + 1; i <= PLAN; i++)); do
        echo "not ok $i - check $i of $PLAN was not reported by the guest"
    done
    note "kernel $KVER, QEMU start to guest script ${GUEST_AT:-?} s, whole boot to power-off $BOOT_SECS s, whole run $(elapsed) s"
    note "$passed of $PLAN expected checks passed (results: $RES)"
fi
for f in "${failed[@]}"; do
    echo "$NAME: $f" >&2
done
if [ ${#problems[@]} -ne 0 ]; then
    for p in "${problems[@]}"; do
        echo "$NAME: FAIL: $p" >&2
        note "FAIL: $p"
    done
    echo "$NAME: the console log is $WORK/console.log, the kernel log $WORK/out/dmesg.txt" >&2
    exit 1
fi
note "PASS"
exit 0
