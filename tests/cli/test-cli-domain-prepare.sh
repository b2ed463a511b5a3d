#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmig domain-prepare against a real libvirtd 11.3 started for the
# test (tests/libvirt/with-libvirtd.sh; needs root) and a fake sysfs tree:
# two VFs on vfmig_testdev with vfmig's sysfs ABI, one with DMA logging (as
# on Linux 6.1) and one without (Debian's 6.12), and one on a host driver.
# A domain with both VFs as hostdevs is defined; --dry-run prints the
# changes and the XML diff and leaves the definition as it was; a run
# defines it with user aliases, the policy (valid against
# vfmig-domain-policy.rng) with each VF's identity, enable-migration=on
# for the VF without dirty tracking only, and migration-events=on for both
# (the QEMU libvirt uses, QEMU 10, has it); the result is a valid libvirt
# domain; a second run changes nothing; options change the policy.  (The
# QEMU command line libvirt builds from it cannot be checked here: libvirt
# refuses a hostdev on a host without an IOMMU, even for
# domxml-to-native.)
# The VNC password of the definition survives, and --dry-run does not
# show it.  A running domain (TCG, the VF in its definition only) gets
# the changes in its definition; a transient one is refused.  Unknown
# domains, a VF off VFIO and bad options are refused and change nothing.
# A domain whose hostdev is managed='yes', its VF on its host driver (as
# Nova writes it; the fake module tree's modules.alias maps it to
# vfmig_testdev): prepared without the identity, with a note; with
# <driver model='vfio-pci'/> it is refused and unchanged.  The decision
# itself: tests/qemu/test-domain-prepare.c.
#
# usage: test-cli-domain-prepare.sh VIRT_VFMIG SRCDIR
set -uo pipefail

VFMIG=${1:?usage: test-cli-domain-prepare.sh VIRT_VFMIG SRCDIR}
SRCDIR=${2:?usage: test-cli-domain-prepare.sh VIRT_VFMIG SRCDIR}
export LC_ALL=C LANG=C
unset LIBVIRT_DEFAULT_URI

tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
n=0
fail=0
echo "1..23"
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
    n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"
    for f in "${@:2}"; do [ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"; done
    return 0
}
rcof() { cat "$tmp/$1.rc" 2>/dev/null || echo none; }
has() { grep -Eq -- "$2" "$tmp/$1"; }
count() { grep -Ec -- "$2" "$tmp/$1"; }

# ---- the fake tree
sys=$tmp/sys
mkdir -p "$sys/bus/pci/devices" "$tmp/dev" "$tmp/proc" "$tmp/debug"
pci() {   # pci ADDR DRIVER GROUP
    local d=$sys/devices/pci0000:3a/$1
    mkdir -p "$d"
    ln -s "../../../devices/pci0000:3a/$1" "$sys/bus/pci/devices/$1"
    echo 0x1b36 > "$d/vendor"; echo 0x0005 > "$d/device"; echo 0 > "$d/enable"
    echo pci:v00001B36d00000005sv00001AF4sd00001100bc00scFFi00 > "$d/modalias"
    mkdir -p "$sys/bus/pci/drivers/$2"
    ln -s "../../../bus/pci/drivers/$2" "$d/driver"
    case $2 in *vfio*|vfmig_testdev) mkdir -p "$d/vfio-dev/vfio$3";; esac
    mkdir -p "$sys/kernel/iommu_groups/$3"
    ln -s "../../../kernel/iommu_groups/$3" "$d/iommu_group"
}
testdev() {   # testdev ADDR FEATURES GROUP
    pci "$1" vfmig_testdev "$3"
    local d=$sys/devices/pci0000:3a/$1/vfio_migration
    mkdir -p "$d" "$sys/devices/pci0000:3a/$1/vfmig_testdev"
    echo "$2" > "$d/features"; echo on > "$d/precopy"; echo 1 > "$d/multi_load"
    echo RUNNING > "$d/state"; echo 1 > "$d/stream_version"
    for f in initial_bytes dirty_bytes stop_latency_us resume_latency_us; do echo 0 > "$d/$f"; done
    echo 1048688 > "$d/stop_copy_bytes"
    echo 1048576 > "$sys/devices/pci0000:3a/$1/vfmig_testdev/state_size"
}
testdev 0000:3b:00.2 "stop-copy p2p pre-copy dma-logging" 11
testdev 0000:3b:00.3 "stop-copy p2p pre-copy" 12
pci 0000:3b:00.5 mlx5_core 14
printf '# Linux/x86 6.12.57 Kernel Configuration\nCONFIG_VFIO=m\nCONFIG_IOMMUFD=m\n' > "$tmp/config"
export VFMIG_SYSFS_ROOT=$sys VFMIG_DEV_ROOT=$tmp/dev VFMIG_PROC_ROOT=$tmp/proc
export VFMIG_CACHE_DIR=$tmp/cache VFMIG_DEBUGFS_ROOT=$tmp/debug VFMIG_KERNEL_CONFIG=$tmp/config
# the module tree: vfmig's DKMS modules, depmod run
mkdir -p "$tmp/modules"
printf '# Aliases extracted from modules themselves.\nalias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_testdev\n' > "$tmp/modules/modules.alias"
echo "updates/dkms/vfmig_testdev.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko" > "$tmp/modules/modules.dep"
export VFMIG_MODULES_DIR=$tmp/modules

hostdev() {   # hostdev BUS SLOT FUNCTION [MANAGED [DRIVER-ELEMENT]]
    cat <<EOF
    <hostdev mode='subsystem' type='pci' managed='${4:-no}'>${5:+
      $5}
      <source>
        <address domain='0x0000' bus='$1' slot='$2' function='$3'/>
      </source>
    </hostdev>
EOF
}
domain() {    # domain NAME UUID HOSTDEVS...
    cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    <graphics type='vnc' passwd='s3cretvn'/>
EOF
    shift 2
    printf '%s\n' "$@"
    echo "  </devices>"
    echo "</domain>"
}
domain vfmig-prep 5b0c2a9e-3f56-4f7e-8d1c-0a4f2d9e6b11 \
    "$(hostdev 0x3b 0x00 0x2)" "$(hostdev 0x3b 0x00 0x3)" > "$tmp/dom.xml"
domain vfmig-host b6f3f7a1-2c44-4e0b-9f8e-7d3c1a5b2e22 \
    "$(hostdev 0x3b 0x00 0x5)" > "$tmp/host.xml"
# the same VF on mlx5_core, managed='yes': libvirt binds it
domain vfmig-managed 3c1d7e5a-9b42-4f6c-8e13-5a7d2c9f0b55 \
    "$(hostdev 0x3b 0x00 0x5 yes)" > "$tmp/managed.xml"
domain vfmig-forced 4e2f8a6b-0c53-4a7d-9f24-6b8e3d0a1c66 \
    "$(hostdev 0x3b 0x00 0x5 yes "<driver model='vfio-pci'/>")" > "$tmp/forced.xml"
# started (TCG, no device), then a VF attached to its definition only
domain vfmig-run 0c6b9d2e-8a31-4b7f-a5e2-3d9f1c7b4a33 > "$tmp/run.xml"
hostdev 0x3b 0x00 0x2 > "$tmp/run-hostdev.xml"
domain vfmig-transient 7e2a4c6b-1d93-4f5a-b8c7-9e0d2f4a6c44 > "$tmp/transient.xml"
# a QEMU that, asked by domain-prepare's probe (-device vfio-pci,help),
# first changes the domain's definition as another client would, between
# domain-prepare's read of it and its define
cat > "$tmp/qemu-race" <<'EOF'
#!/bin/sh
case " $* " in
*" vfio-pci,help "*)
    /usr/bin/virsh -q -c qemu:///system desc vfmig-race --config \
        "changed while domain-prepare worked" > /dev/null 2>&1 ;;
esac
exec /usr/bin/qemu-system-x86_64 "$@"
EOF
chmod 0755 "$tmp/qemu-race"
domain vfmig-race 8f3b5d7c-2e04-4b6a-9c18-1a2b3c4d5e77 "$(hostdev 0x3b 0x00 0x2)" |
    sed "s|<emulator>.*</emulator>|<emulator>$tmp/qemu-race</emulator>|" > "$tmp/race.xml"

# Everything is recorded into $tmp; the checks run after the daemon is
# gone.
rc=0
"$SRCDIR/tests/libvirt/with-libvirtd.sh" bash -c '
    vfmig=$1 tmp=$2
    v() { virsh -q -c qemu:///system "$@" 2>> "$tmp/virsh.err"; }
    step() { local name=$1; shift; "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" < /dev/null; echo $? > "$tmp/$name.rc"; }
    x() { "$vfmig" -c qemu:///system "$@"; }
    # no QEMU outlives the daemon
    trap "v destroy vfmig-run > /dev/null; v destroy vfmig-transient > /dev/null" EXIT
    step define v define "$tmp/dom.xml"
    step define_host v define "$tmp/host.xml"
    v dumpxml --inactive vfmig-prep > "$tmp/before.xml"
    step dry x domain-prepare vfmig-prep --dry-run --link-mbps 25000
    v dumpxml --inactive vfmig-prep > "$tmp/after-dry.xml"
    step run1 x domain-prepare vfmig-prep
    v dumpxml --inactive vfmig-prep > "$tmp/after1.xml"
    step run2 x domain-prepare 5b0c2a9e-3f56-4f7e-8d1c-0a4f2d9e6b11
    v dumpxml --inactive vfmig-prep > "$tmp/after2.xml"
    step run3 x domain-prepare vfmig-prep --target-ms 500 --on-failure best-effort
    v dumpxml --inactive vfmig-prep > "$tmp/after3.xml"
    step unknown x domain-prepare nosuchdomain
    v dumpxml --inactive vfmig-host > "$tmp/host-before.xml"
    step host x domain-prepare vfmig-host
    v dumpxml --inactive vfmig-host > "$tmp/host-after.xml"
    step define_managed v define "$tmp/managed.xml"
    step managed x domain-prepare vfmig-managed
    v dumpxml --inactive vfmig-managed > "$tmp/managed-after.xml"
    step define_forced v define "$tmp/forced.xml"
    v dumpxml --inactive vfmig-forced > "$tmp/forced-before.xml"
    step forced x domain-prepare vfmig-forced
    v dumpxml --inactive vfmig-forced > "$tmp/forced-after.xml"
    step badopt x domain-prepare vfmig-prep --precopy sometimes
    v dumpxml --inactive --security-info vfmig-prep > "$tmp/secure.xml"
    step define_run v define "$tmp/run.xml"
    step start_run v start vfmig-run
    step attach_run v attach-device vfmig-run "$tmp/run-hostdev.xml" --config
    step running x domain-prepare vfmig-run
    v dumpxml --inactive vfmig-run > "$tmp/running-inactive.xml"
    v dumpxml vfmig-run > "$tmp/running-live.xml"
    step create_transient v create "$tmp/transient.xml"
    step transient x domain-prepare vfmig-transient
    step define_race v define "$tmp/race.xml"
    step race x domain-prepare vfmig-race
    v dumpxml --inactive vfmig-race > "$tmp/race-after.xml"
' bash "$VFMIG" "$tmp" > "$tmp/with.out" 2>&1 < /dev/null || rc=$?

if [ "$rc" = 0 ] && [ "$(rcof define)" = 0 ] && [ "$(rcof define_host)" = 0 ]; then
    ok "libvirtd 11.3 defines the domains"
else
    nok "libvirtd did not define the domains (rc $rc)" "$tmp/with.out" "$tmp/virsh.err" "$tmp/define.err"
fi

if [ "$(rcof dry)" = 0 ] && [ ! -s "$tmp/dry.err" ] &&
   has dry.out "^Domain 'vfmig-prep': 12 changes\.$" &&
   has dry.out "^--- vfmig-prep \(defined\)$" && has dry.out "^\+\+\+ vfmig-prep \(prepared\)$" &&
   has dry.out "^\+      <alias name='ua-vfmig-0'/>$" &&
   has dry.out "^\+        <qemu:property name='enable-migration' type='string' value='on'/>$" &&
   has dry.out "The switch-over then copies all 64 MiB of guest RAM with the guest stopped: the downtime is at least 21 ms at 25 Gbit/s \(the link speed given\), whatever the downtime target\.$" &&
   has dry.out "^Dry run: domain 'vfmig-prep' was not changed\.$"; then
    ok "--dry-run lists the changes (the least downtime at the --link-mbps given) and prints the diff of the XML"
else
    nok "domain-prepare --dry-run (rc $(rcof dry))" "$tmp/dry.out" "$tmp/dry.err"
fi
if [ -s "$tmp/before.xml" ] && cmp -s "$tmp/before.xml" "$tmp/after-dry.xml"; then
    ok "--dry-run leaves the definition as it was"
else
    nok "--dry-run changed the definition" "$tmp/after-dry.xml"
fi
# the diff is the one between the definitions, as diff -u sees it
# (libvirt re-quotes the policy it keeps in <metadata>)
diff -u --label 'vfmig-prep (defined)' --label 'vfmig-prep (prepared)' \
    "$tmp/before.xml" <(sed "/<vfmig:migration/,/<\/vfmig:migration>/s/\"/'/g" "$tmp/after1.xml") \
    > "$tmp/want.diff"
sed -n '/^--- vfmig-prep/,/^Dry run/p' "$tmp/dry.out" | sed '$d' > "$tmp/got.diff"
if [ -s "$tmp/want.diff" ] && cmp -s "$tmp/want.diff" "$tmp/got.diff"; then
    ok "--dry-run's diff is what diff -u shows between the definitions before and after"
else
    diff -u "$tmp/want.diff" "$tmp/got.diff" > "$tmp/diffdiff"
    nok "--dry-run's diff is not the definitions' diff" "$tmp/diffdiff"
fi

if [ "$(rcof run1)" = 0 ] && [ ! -s "$tmp/run1.err" ] &&
   has run1.out "^Domain 'vfmig-prep': 12 changes\.$" &&
   has run1.out "^Domain 'vfmig-prep' defined with the changes\.$" &&
   has run1.out "^  \* hostdev 0000:3b:00.3: <qemu:override> vfio-pci enable-migration=on for 'ua-vfmig-1'$" &&
   has run1.out "counts all guest RAM as dirty on every pass" &&
   has run1.out "--available-switchover-bandwidth" &&
   has run1.out "The switch-over then copies all 64 MiB of guest RAM with the guest stopped: the downtime is at least 54 ms at 10 Gbit/s \(the link speed assumed; domain-prepare --link-mbps gives this host's\), whatever the downtime target\.$" &&
   ! has run1.out "^---"; then
    ok "domain-prepare lists each change with why (the least downtime at the link speed assumed) and defines the domain"
else
    nok "domain-prepare (rc $(rcof run1))" "$tmp/run1.out" "$tmp/run1.err"
fi
if has after1.xml "<alias name='ua-vfmig-0'/>" && has after1.xml "<alias name='ua-vfmig-1'/>" &&
   [ "$(count after1.xml "name='enable-migration' type='string' value='on'")" = 1 ] &&
   [ "$(count after1.xml "name='migration-events' type='bool' value='true'")" = 2 ] &&
   python3 - "$tmp/after1.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
q = "{http://libvirt.org/schemas/domain/qemu/1.0}"
v = "{http://vfmig.org/xmlns/libvirt/domain/1.0}"
d = ET.parse(sys.argv[1]).getroot()
props = {dev.get("alias"): {p.get("name"): p.get("value") for p in dev.iter(q + "property")}
         for dev in d.iter(q + "device")}
assert props == {"ua-vfmig-0": {"migration-events": "true"},
                 "ua-vfmig-1": {"enable-migration": "on", "migration-events": "true"}}, props
pol = d.find("metadata/" + v + "migration")
assert pol.find(v + "downtime").attrib == {"target-ms": "300", "on-failure": "abort"}
ents = {e.get("alias"): (e.find(v + "precopy").get("mode"), e.find(v + "identity").attrib)
        for e in pol.findall(v + "hostdev")}
ident = {"driver": "vfmig_testdev", "vendor": "0x1b36", "device": "0x0005",
         "stream-version": "1", "multi-load": "yes", "state-size": "1048576"}
assert ents == {"ua-vfmig-0": ("preferred", ident), "ua-vfmig-1": ("preferred", ident)}, ents
hd = {h.find("source/address").get("function"): h.find("alias").get("name")
      for h in d.iter("hostdev")}
assert hd == {"0x2": "ua-vfmig-0", "0x3": "ua-vfmig-1"}, hd
PY
then
    ok "libvirt keeps the aliases, the policy with both identities, enable-migration for the VF without dirty tracking only, migration-events for both"
else
    nok "the prepared definition" "$tmp/after1.xml"
fi
if xmllint --noout --relaxng /usr/share/libvirt/schemas/domain.rng "$tmp/after1.xml" 2> "$tmp/rng.err" &&
   xmllint --xpath '/domain/metadata/*[local-name()="migration"]' "$tmp/after1.xml" > "$tmp/policy.xml" 2>> "$tmp/rng.err" &&
   xmllint --noout --relaxng "$SRCDIR/schemas/vfmig-domain-policy.rng" "$tmp/policy.xml" 2>> "$tmp/rng.err"; then
    ok "the prepared definition is a valid libvirt domain, its policy valid against vfmig-domain-policy.rng"
else
    nok "the prepared definition does not validate" "$tmp/rng.err"
fi
if [ "$(rcof run2)" = 0 ] && [ ! -s "$tmp/run2.err" ] &&
   has run2.out "^Domain 'vfmig-prep' is prepared already: nothing to change\.$" &&
   cmp -s "$tmp/after1.xml" "$tmp/after2.xml"; then
    ok "a second run (by UUID) changes nothing and says so"
else
    nok "the second run (rc $(rcof run2))" "$tmp/run2.out" "$tmp/run2.err"
fi
if [ "$(rcof run3)" = 0 ] && has run3.out "^Domain 'vfmig-prep': 2 changes\.$" &&
   has run3.out "^  \* downtime target 500 ms$" && has run3.out "^  \* on failure 'best-effort'$" &&
   has after3.xml '<vfmig:downtime target-ms="500" on-failure="best-effort"/>'; then
    ok "--target-ms and --on-failure change the domain's downtime only"
else
    nok "domain-prepare --target-ms --on-failure (rc $(rcof run3))" "$tmp/run3.out" "$tmp/run3.err" "$tmp/after3.xml"
fi

if [ "$(rcof unknown)" = 1 ] && [ ! -s "$tmp/unknown.out" ] &&
   has unknown.err "^error: libvirt has no domain 'nosuchdomain' \(by name, UUID or ID\)$"; then
    ok "an unknown domain is an error"
else
    nok "domain-prepare nosuchdomain (rc $(rcof unknown))" "$tmp/unknown.out" "$tmp/unknown.err"
fi
if [ "$(rcof host)" = 1 ] && [ ! -s "$tmp/host.out" ] &&
   has host.err "^error: hostdev 0000:3b:00.5: the VF is bound to 'mlx5_core', not to a VFIO migration driver" &&
   cmp -s "$tmp/host-before.xml" "$tmp/host-after.xml"; then
    ok "a VF off VFIO is an error, and the domain is unchanged"
else
    nok "domain-prepare of a VF on mlx5_core (rc $(rcof host))" "$tmp/host.out" "$tmp/host.err"
fi
if [ "$(rcof define_managed)" = 0 ] && [ "$(rcof managed)" = 0 ] && [ ! -s "$tmp/managed.err" ] &&
   has managed.out "^Domain 'vfmig-managed': 5 changes\.$" &&
   has managed.out "^note: hostdev 0000:3b:00\.5: the VF is on 'mlx5_core', and libvirt binds it to 'vfmig_testdev' \(its best vfio_pci alias in '$tmp/modules/modules\.alias', 'v00001B36d00000005sv\*sd\*bc\*sc\*i\*'\) when the domain starts \(managed='yes'\); its identity, whether it can pre-copy and whether QEMU needs enable-migration=on are read from that driver, never guessed: run domain-prepare again while the domain runs to add them$" &&
   has managed-after.xml "<alias name='ua-vfmig-0'/>" &&
   has managed-after.xml "<vfmig:hostdev alias=.ua-vfmig-0.>" &&
   ! has managed-after.xml "vfmig:identity" && ! has managed-after.xml "enable-migration"; then
    ok "managed='yes', the VF on mlx5_core: prepared without its identity, and a note says when it is added"
else
    nok "domain-prepare of a managed='yes' hostdev (define $(rcof define_managed), rc $(rcof managed))" \
        "$tmp/managed.out" "$tmp/managed.err" "$tmp/managed-after.xml"
fi
if [ "$(rcof define_forced)" = 0 ] && [ "$(rcof forced)" = 1 ] && [ ! -s "$tmp/forced.out" ] &&
   has forced.err "^error: hostdev 0000:3b:00\.5: libvirt will bind it to 'vfio-pci' \(the hostdev's <driver model='vfio-pci'/>\), a driver vfmig knows no VFIO migration of: name a VFIO variant driver with migration there, or remove <driver model> to let libvirt choose by the kernel's module aliases$" &&
   has forced-before.xml "<driver model='vfio-pci'/>" &&
   cmp -s "$tmp/forced-before.xml" "$tmp/forced-after.xml"; then
    ok "managed='yes' with <driver model='vfio-pci'/> (libvirt keeps it): refused, the domain unchanged"
else
    nok "domain-prepare of a hostdev forced to vfio-pci (define $(rcof define_forced), rc $(rcof forced))" \
        "$tmp/forced.out" "$tmp/forced.err" "$tmp/forced-before.xml"
fi
if [ "$(rcof badopt)" = 2 ] &&
   has badopt.err "option --precopy wants required, preferred or off, not 'sometimes'"; then
    ok "a bad --precopy is a usage error"
else
    nok "domain-prepare --precopy sometimes (rc $(rcof badopt))" "$tmp/badopt.err"
fi

if grep -q "passwd='s3cretvn'" "$tmp/secure.xml" && ! grep -q s3cret "$tmp/dry.out"; then
    ok "the definition keeps its VNC password, and --dry-run does not show it"
else
    nok "the VNC password: lost by the define, or shown by --dry-run" "$tmp/secure.xml"
fi
if [ "$(rcof start_run)" = 0 ] && [ "$(rcof attach_run)" = 0 ] && [ "$(rcof running)" = 0 ] &&
   grep -q "^The domain is running: the changes apply when it next starts" "$tmp/running.out" &&
   grep -q "<alias name='ua-vfmig-0'/>" "$tmp/running-inactive.xml" &&
   ! grep -q "vfmig:migration" "$tmp/running-live.xml"; then
    ok "a running domain: its definition is prepared, the running one is not, and it says so"
else
    nok "domain-prepare of a running domain (start $(rcof start_run), attach $(rcof attach_run), rc $(rcof running))" \
        "$tmp/running.out" "$tmp/running.err" "$tmp/virsh.err"
fi
if [ "$(rcof create_transient)" = 0 ] && [ "$(rcof transient)" = 1 ] &&
   grep -q "^error: domain 'vfmig-transient' is transient: libvirt keeps no definition of it to change" "$tmp/transient.err"; then
    ok "a transient domain is refused: it has no definition to change"
else
    nok "domain-prepare of a transient domain (create $(rcof create_transient), rc $(rcof transient))" \
        "$tmp/transient.out" "$tmp/transient.err" "$tmp/virsh.err"
fi

# ---- without a daemon
run() { rc=0; "$VFMIG" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null || rc=$?; }
run domain-prepare vm0 --target-ms 0
if [ "$rc" = 2 ] && has err "option --target-ms wants a whole number from 1 to 60000, not '0'"; then
    ok "--target-ms 0 is a usage error"
else
    nok "domain-prepare --target-ms 0 (rc $rc)" "$tmp/err"
fi
run domain-prepare vm0 --on-failure default
if [ "$rc" = 2 ] && has err "option --on-failure wants abort or best-effort, not 'default'"; then
    ok "--on-failure default is a usage error"
else
    nok "domain-prepare --on-failure default (rc $rc)" "$tmp/err"
fi
if [ "$(rcof define_race)" = 0 ] && [ "$(rcof race)" = 1 ] &&
   grep -q "^error: the definition of domain 'vfmig-race' changed while domain-prepare worked on it (another client defined it): nothing was defined, that change is kept; run domain-prepare again$" "$tmp/race.err" &&
   grep -q "<description>changed while domain-prepare worked</description>" "$tmp/race-after.xml" &&
   ! grep -q "vfmig:migration\|ua-vfmig-0" "$tmp/race-after.xml"; then
    ok "a definition changed by another client while domain-prepare worked is not overwritten: refused, the other change kept"
else
    nok "domain-prepare racing another client's define (define $(rcof define_race), rc $(rcof race))" \
        "$tmp/race.out" "$tmp/race.err" "$tmp/race-after.xml" "$tmp/virsh.err"
fi
run domain-prepare vm0 --link-mbps 0
if [ "$rc" = 2 ] && has err "option --link-mbps wants a whole number from 1 to 10000000, not '0'"; then
    ok "--link-mbps 0 is a usage error"
else
    nok "domain-prepare --link-mbps 0 (rc $rc)" "$tmp/err"
fi
run domain-prepare
if [ "$rc" = 2 ] && [ ! -s "$tmp/out" ]; then
    ok "domain-prepare without a domain is a usage error"
else
    nok "domain-prepare without a domain (rc $rc)" "$tmp/out" "$tmp/err"
fi
run -c qemu+ssh://elsewhere/system domain-prepare vm0
if [ "$rc" = 2 ] && has err "reads this host's devices"; then
    ok "-c naming another host is refused: the identities are this host's VFs"
else
    nok "domain-prepare -c qemu+ssh://elsewhere/system (rc $rc)" "$tmp/err"
fi
[ $fail = 0 ]
