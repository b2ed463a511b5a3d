#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/nodedev.sh: virt-vfmig's node-device commands against a real
# libvirtd 11.3 running in the guest, on the pci-testdevs bound to the real
# vfmig_testdev driver of a real kernel.
#
# libvirtd is started as tests/libvirt/with-libvirtd.sh does (monolithic
# daemon and virtlogd, tmpfs over libvirt's state, log, cache and config
# directories, no cgroups, no systemd) but in the suite's own mount
# namespace: the guest is ours alone, and every check talks to the daemon.
#
#   With the driver's sysfs ABI (vfio_migration/):
#     nodedev-dumpxml: libvirt's XML, byte for byte as virsh prints it, plus
#       <capability type='vfio-migration'> read from sysfs (driver, features,
#       identity); dirty tracking 'device' on 6.1, 'none' with its reason on
#       Debian's 6.12 (no CONFIG_IOMMUFD_DRIVER); valid against
#       schemas/vfmig-nodedev.rng;
#     nodedev-list --json: both devices;
#     nodedev-compare: the two devices are compatible; a copy of the XML
#       with another device id is not (exit 1, with the reason); a
#       destination with multi_load=0 makes pre-copy 'single';
#     a device a VFIO user drove into PRE_COPY: <live state='PRE_COPY'/>
#       with the driver's estimates.
#   With sysfs_abi=0 (a driver that tells its features only through VFIO):
#     no capability without --vfio-query (libvirt's XML unchanged);
#     --vfio-query: source='vfio', the features the kernel reports, the
#       device RUNNING and usable afterwards;
#     a device a VFIO user holds (the device open, or only its group) is
#       not opened: the capability comes from the cache of the earlier probe
#       (source='cache'), or is absent with a note.
# The VFIO user is a small Python program below (group, type1 container,
# device fd, VFIO_DEVICE_FEATURE MIG_DEVICE_STATE).
# vm-needs: testdev-ko
# vm-testdevs: 2

. "$VM_SRCDIR/lib.sh"
VIRT_VFMIG=$VM_BUILDDIR/src/tools/virt-vfmig
SCHEMA=$VM_SRCDIR/../../schemas/vfmig-nodedev.rng
URI=qemu:///system
SERIES=$(kernel_series)

tap_plan 21

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}
N1=pci_$(echo "$B1" | tr ':.' '__')
N2=pci_$(echo "$B2" | tr ':.' '__')

# Dirty tracking as QEMU will see it on this kernel: device logging where
# the kernel can report dirty pages (6.1, or CONFIG_IOMMUFD_DRIVER=y).
if grep -q '^CONFIG_IOMMUFD_DRIVER=y' "/boot/config-$(uname -r)" || [ "$SERIES" = 6.1 ]; then
    WANT_DIRTY=device
else
    WANT_DIRTY=none
fi

# vv ARGS...: virt-vfmig against the guest's libvirtd and a cache dir
# ($CACHE) of this suite; RC, $TMP/out, $TMP/err
vv() { VFMIG_CACHE_DIR=$CACHE run "$VIRT_VFMIG" -c "$URI" "$@"; }

# attr FILE ELEMENT ATTRIBUTE: the attribute of the first ELEMENT in FILE
attr() { sed -n "s/.*<$2 [^>]*\\b$3='\\([^']*\\)'.*/\\1/p" "$1" | head -1; }

# features FILE: the feature elements of the capability, in order
features() {
    sed -n "/<features /,/<\\/features>/s/^ *<\\([a-z][a-z0-9-]*\\)[ />].*/\\1/p" "$1" |
        grep -v '^features$' | tr '\n' ' ' | sed 's/ $//'
}

# without_cap FILE: FILE without our capability (what libvirt gave)
without_cap() {
    python3 - "$1" <<'PY'
import re, sys
x = open(sys.argv[1]).read()
sys.stdout.write(re.sub(r"\n *<capability type='vfio-migration'>.*?</capability>", "", x, flags=re.S))
PY
}

# same_as_virsh FILE NAME: FILE without our capability is virsh's XML of NAME
# (virsh ends its output with one newline more than libvirt's document)
same_as_virsh() {
    virsh -q -c "$URI" nodedev-dumpxml "$2" > "$TMP/virsh-$2.xml" 2> "$TMP/virsh.err" || return 1
    [ "$(without_cap "$1")" = "$(cat "$TMP/virsh-$2.xml")" ]
}

valid() { xmllint --noout --relaxng "$SCHEMA" "$1" > "$TMP/xmllint.out" 2>&1; }

# json_devices: "name source features dirty state in-use" of each device
# in $TMP/out (nodedev-list --json), one a line
json_devices() {
    python3 -c '
import json, sys
for d in json.load(open(sys.argv[1])):
    print(d.get("name"), d.get("driver"), d.get("source", "-"), ",".join(d.get("features") or []) or "-",
          d.get("dirty-tracking", "-"), d.get("state", "-"), "in-use" if d.get("in-use") else "idle",
          "note: " + d["note"] if "note" in d else "")
' "$TMP/out"
}

# The VFIO user that holds a device, in a migration state of its choice:
# opens BDF through its group (type1 IOMMU), sets the state (a number of
# enum vfio_device_mig_state; -1: just open; -2: only the group, as QEMU
# has it before it opens the device), prints "held STATE", waits for stdin
# to end, puts the device back to RUNNING and exits.
cat > "$TMP/vfio-hold.py" <<'PY'
import fcntl, os, struct, sys
bdf, want = sys.argv[1], int(sys.argv[2])
IO = lambda nr: (ord(';') << 8) | nr
VFIO_SET_IOMMU, VFIO_GROUP_SET_CONTAINER, VFIO_GROUP_GET_DEVICE_FD = IO(102), IO(104), IO(106)
VFIO_DEVICE_FEATURE = IO(117)
FEATURE_SET, MIG_DEVICE_STATE, RUNNING = 1 << 17, 2, 2
grp = os.path.basename(os.readlink("/sys/bus/pci/devices/%s/iommu_group" % bdf))
c = os.open("/dev/vfio/vfio", os.O_RDWR)
g = os.open("/dev/vfio/" + grp, os.O_RDWR)
fcntl.ioctl(g, VFIO_GROUP_SET_CONTAINER, struct.pack("i", c))
fcntl.ioctl(c, VFIO_SET_IOMMU, 3)   # VFIO_TYPE1v2_IOMMU
if want == -2:
    print("held", want, flush=True)
    sys.stdin.read()
    sys.exit(0)
d = fcntl.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bytearray(bdf.encode() + b"\0"), True)
def setstate(s):
    buf = bytearray(struct.pack("IIIi", 16, FEATURE_SET | MIG_DEVICE_STATE, s, -1))
    fcntl.ioctl(d, VFIO_DEVICE_FEATURE, buf, True)
    return struct.unpack("IIIi", buf)[3]
datafd = setstate(want) if want >= 0 else -1
print("held", want, flush=True)
sys.stdin.read()
if datafd >= 0:
    os.close(datafd)
if want >= 0:
    setstate(RUNNING)
PY

# hold BDF STATE: starts the holder (coprocess HOLD); unhold ends it
hold() {
    coproc HOLD { exec python3 "$TMP/vfio-hold.py" "$1" "$2" 2>&1; }
    HELD=
    read -r -t 30 HELD <&"${HOLD[0]}"
}
unhold() {
    eval "exec ${HOLD[1]}>&-"
    wait "$HOLD_PID" 2>/dev/null
}

# ---------- load, bind, libvirtd -------------------------------------------------
if load_vfio && load_testdev && bind vfmig_testdev "$B1" "$B2"; then
    result pass "vfio core and $(basename "$TESTDEV_KO") loaded, both pci-testdevs bound to vfmig_testdev:$BIND_MSG"
else
    result fail "loading and binding vfmig_testdev failed:${BIND_MSG:-} $(cat "$TMP/err" 2>/dev/null)"
fi

# libvirtd as with-libvirtd.sh starts it, in the guest
start_libvirtd() {
    local d etc g
    for t in libvirtd virtlogd virsh xmllint python3; do
        command -v "$t" > /dev/null || { echo "$t is not installed"; return 1; }
    done
    etc=$(mktemp -d)
    cp -a /etc/libvirt/. "$etc/"
    for d in /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt; do
        mkdir -p "$d" && mount -t tmpfs tmpfs "$d" || return 1
    done
    cp -a "$etc/." /etc/libvirt/
    rm -rf "$etc"
    mkdir -p /run/lock /run/libvirt /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu
    echo 'cgroup_controllers = [ ]' >> /etc/libvirt/qemu.conf
    echo 'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"' >> /etc/libvirt/libvirtd.conf
    for g in kvm libvirt libvirt-qemu; do getent group "$g" > /dev/null || groupadd -r "$g"; done
    id libvirt-qemu > /dev/null 2>&1 ||
        useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
    virtlogd -d || return 1
    libvirtd -d || return 1
    for _ in $(seq 300); do
        [ -S /run/libvirt/libvirt-sock ] && return 0
        sleep 0.1
    done
    echo "no /run/libvirt/libvirt-sock after 30 s"
    return 1
}
stop_libvirtd() {
    [ -f /var/log/libvirt/libvirtd.log ] && [ -n "${VM_OUT:-}" ] &&
        cp /var/log/libvirt/libvirtd.log "$VM_OUT/nodedev-libvirtd.log" 2>/dev/null
    pkill -F /run/libvirtd.pid 2>/dev/null
    pkill -F /run/virtlogd.pid 2>/dev/null
    return 0
}
trap stop_libvirtd EXIT

if msg=$(start_libvirtd 2>&1) &&
   run virsh -c "$URI" nodedev-list --cap pci && grep -qx "$N1" "$TMP/out" && grep -qx "$N2" "$TMP/out"; then
    result pass "libvirtd $(libvirtd --version | awk '{print $NF}') started in the guest; virsh nodedev-list --cap pci has $N1 and $N2 ($(wc -l < "$TMP/out") PCI devices)"
else
    result fail "libvirtd in the guest: ${msg:-started}; virsh nodedev-list --cap pci has no $N1 and $N2"
    diag_run
fi

# ---------- with the driver's sysfs ABI ------------------------------------------
CACHE=$TMP/cache-sysfs

vv nodedev-dumpxml "$N1"
cp "$TMP/out" "$TMP/d1.xml"
got="source=$(attr "$TMP/d1.xml" features source) driver=$(attr "$TMP/d1.xml" driver name) variant=$(attr "$TMP/d1.xml" driver variant) features='$(features "$TMP/d1.xml")' identity=$(attr "$TMP/d1.xml" identity vendor):$(attr "$TMP/d1.xml" identity device) stream-version=$(attr "$TMP/d1.xml" identity stream-version)"
want="source=sysfs driver=vfmig_testdev variant=yes features='stop-copy p2p pre-copy multi-load' identity=0x1b36:0x0005 stream-version=1"
if [ $RC -eq 0 ] && grep -q "<name>$N1</name>" "$TMP/d1.xml" &&
   [ "$(grep -c "<capability type='vfio-migration'>" "$TMP/d1.xml")" = 1 ] && [ "$got" = "$want" ] &&
   ! grep -q '<live ' "$TMP/d1.xml"; then
    result pass "nodedev-dumpxml $N1: <capability type='vfio-migration'> from the driver's sysfs: $got; no <live/> while idle"
else
    result fail "nodedev-dumpxml $N1: $got, want $want (exit $RC)"
    diag_run
fi

dt=$(attr "$TMP/d1.xml" dirty-tracking type)
reason=$(attr "$TMP/d1.xml" dirty-tracking reason)
if [ "$WANT_DIRTY" = device ] && [ "$dt" = device ] && [ -z "$reason" ]; then
    result pass "dirty tracking on $(uname -r): type='device' (the driver offers DMA logging)"
elif [ "$WANT_DIRTY" = none ] && [ "$dt" = none ] && [[ $reason == *CONFIG_IOMMUFD_DRIVER* ]] &&
     [[ $reason == *enable-migration=on* ]]; then
    result pass "dirty tracking on $(uname -r): type='none', reason '$reason'"
else
    result fail "dirty tracking on $(uname -r): type='$dt' reason '$reason', want type='$WANT_DIRTY'$([ "$WANT_DIRTY" = none ] && echo " with a reason naming CONFIG_IOMMUFD_DRIVER")"
fi

if same_as_virsh "$TMP/d1.xml" "$N1"; then
    result pass "nodedev-dumpxml $N1 without our capability is virsh nodedev-dumpxml's XML, byte for byte ($(wc -l < "$TMP/virsh-$N1.xml") lines)"
else
    result fail "nodedev-dumpxml $N1 changed libvirt's XML: diff against virsh nodedev-dumpxml below"
    diff <(without_cap "$TMP/d1.xml") "$TMP/virsh-$N1.xml" | head -40 | diag
    diag < "$TMP/virsh.err"
fi

if valid "$TMP/d1.xml"; then
    result pass "nodedev-dumpxml $N1 validates against schemas/vfmig-nodedev.rng (which includes the installed libvirt nodedev.rng)"
else
    result fail "nodedev-dumpxml $N1 does not validate against schemas/vfmig-nodedev.rng"
    diag < "$TMP/xmllint.out"
fi

vv nodedev-list --json
list=$(json_devices 2>&1)
want_feat="stop-copy,p2p,pre-copy,multi-load"
if [ $RC -eq 0 ] &&
   grep -q "^$N1 vfmig_testdev sysfs $want_feat $WANT_DIRTY RUNNING idle" <<< "$list" &&
   grep -q "^$N2 vfmig_testdev sysfs $want_feat $WANT_DIRTY RUNNING idle" <<< "$list"; then
    result pass "nodedev-list --json lists both devices: $(grep -c . <<< "$list") entries, $N1 and $N2 from sysfs with $want_feat, dirty $WANT_DIRTY, RUNNING, idle"
else
    result fail "nodedev-list --json: want $N1 and $N2 from sysfs with $want_feat, $WANT_DIRTY, RUNNING, idle"
    diag_run
    diag <<< "$list"
fi

# compare: the two devices of this host
vv nodedev-compare "$N1" "$N2"
if [ "$WANT_DIRTY" = device ]; then want_qemu='QEMU on the source: allowed$'; else want_qemu='enable-migration=on'; fi
if [ $RC -eq 0 ] && grep -q '^Compatible' "$TMP/out" && grep -q '^Pre-copy: on' "$TMP/out" &&
   grep -q "$want_qemu" "$TMP/out" && ! grep -q 'refused' "$TMP/out"; then
    result pass "nodedev-compare $N1 $N2: exit 0, $(head -1 "$TMP/out" | cut -d: -f1), pre-copy on, $(grep '^QEMU' "$TMP/out")"
else
    result fail "nodedev-compare $N1 $N2: want exit 0, Compatible, pre-copy on, '$want_qemu'"
    diag_run
fi

# compare: a copy of the XML edited to another device id
sed -e "s/<identity vendor='0x1b36' device='0x0005'/<identity vendor='0x1b36' device='0x0006'/" \
    -e "s/<product id='0x0005'/<product id='0x0006'/" "$TMP/d1.xml" > "$TMP/other-id.xml"
vv nodedev-compare "$TMP/d1.xml" "$TMP/other-id.xml"
if [ $RC -eq 1 ] && grep -q '^Incompatible' "$TMP/out" &&
   grep -q '\[refused\] the devices have different PCI ids (source 1b36:0005, destination 1b36:0006)' "$TMP/out" &&
   grep -q 'cannot migrate' "$TMP/err"; then
    result pass "nodedev-compare of $N1's XML and a copy with device id 0x0006: exit 1, $(grep refused "$TMP/out" | sed 's/^ *- //')"
else
    result fail "nodedev-compare against a copy with another device id: want exit 1, Incompatible, the PCI ids as the reason"
    diag_run
fi

# compare: a destination without multi-load
if tdset "$B2" vfio_migration/multi_load 0; then
    vv nodedev-compare "$N1" "$N2"
    ml=$(tdget "$B2" vfio_migration/multi_load)
    tdset "$B2" vfio_migration/multi_load 1
    if [ $RC -eq 0 ] && [ "$ml" = 0 ] && grep -q '^Pre-copy: single' "$TMP/out" &&
       grep -q 'no multi-load' "$TMP/out"; then
        result pass "nodedev-compare with multi_load=0 on $N2: exit 0, $(grep '^Pre-copy' "$TMP/out" | cut -c1-60)..., reason '$(grep 'multi-load' "$TMP/out" | sed 's/^ *- //' | cut -c1-80)...'"
    else
        result fail "nodedev-compare with multi_load=0 on $N2 (read back '$ml'): want exit 0, 'Pre-copy: single' and the multi-load reason"
        diag_run
    fi
else
    result fail "cannot write 0 to $B2/vfio_migration/multi_load"
fi

# a migration in progress: a VFIO user holds B1 in PRE_COPY (6)
hold "$B1" 6
st=$(tdget "$B1" vfio_migration/state)
ib=$(tdget "$B1" vfio_migration/initial_bytes)
scb=$(tdget "$B1" vfio_migration/stop_copy_bytes)
vv nodedev-dumpxml "$N1"
cp "$TMP/out" "$TMP/d1-precopy.xml"
live=$(grep '<live ' "$TMP/d1-precopy.xml" | sed 's/^ *//')
xib=$(attr "$TMP/d1-precopy.xml" live initial-bytes)
xscb=$(attr "$TMP/d1-precopy.xml" live stop-copy-bytes)
if [ "${HELD:-}" = "held 6" ] && [ "$st" = PRE_COPY ] && [ $RC -eq 0 ] &&
   [ "$(attr "$TMP/d1-precopy.xml" live state)" = PRE_COPY ] &&
   [ "$xib" = "$ib" ] && [ "${ib:-0}" -gt 0 ] && [ "$xscb" = "$scb" ] &&
   [ "$(attr "$TMP/d1-precopy.xml" features source)" = sysfs ] && valid "$TMP/d1-precopy.xml"; then
    result pass "a VFIO user holds $B1 in PRE_COPY: nodedev-dumpxml shows $live (the driver's sysfs: initial_bytes $ib, stop_copy_bytes $scb), valid"
else
    result fail "$B1 in PRE_COPY (holder '${HELD:-nothing}', sysfs state '$st', initial_bytes '$ib', stop_copy_bytes '$scb'): want <live state='PRE_COPY'> with those numbers; got '${live:-no <live/>}'"
    diag_run
    [ -s "$TMP/xmllint.out" ] && diag < "$TMP/xmllint.out"
fi

vv nodedev-list --json
list=$(json_devices 2>&1)
unhold
st_after=$(tdget "$B1" vfio_migration/state)
if [ $RC -eq 0 ] && grep -q "^$N1 vfmig_testdev sysfs [^ ]* [a-z]* PRE_COPY in-use" <<< "$list" &&
   grep -q "^$N2 .* RUNNING idle" <<< "$list" && [ "$st_after" = RUNNING ]; then
    result pass "nodedev-list --json during the migration: $N1 PRE_COPY and in use, $N2 RUNNING and idle; RUNNING again when the holder let go"
else
    result fail "nodedev-list --json during PRE_COPY of $N1: want $N1 PRE_COPY in-use, $N2 RUNNING idle; state after the holder ended '$st_after'"
    diag_run
    diag <<< "$list"
fi

# ---------- sysfs_abi=0: only VFIO can tell ---------------------------------------
rmerr=$(rmmod vfmig_testdev 2>&1)
insmod "$TESTDEV_KO" sysfs_abi=0 > "$TMP/err" 2>&1
bind vfmig_testdev "$B1" "$B2"
bound=$?
param=$(cat /sys/module/vfmig_testdev/parameters/sysfs_abi 2>/dev/null)
if [ -z "$rmerr" ] && [ $bound -eq 0 ] && [ "$param" = N ] &&
   [ ! -e "/sys/bus/pci/devices/$B1/vfio_migration" ] && [ ! -e "/sys/bus/pci/devices/$B2/vfio_migration" ] &&
   [ -r "/sys/bus/pci/devices/$B1/vfmig_testdev/digest" ]; then
    result pass "vfmig_testdev reloaded with sysfs_abi=0 (parameters/sysfs_abi=$param) and rebound:$BIND_MSG; no vfio_migration/, vfmig_testdev/ still there"
else
    result fail "reload with sysfs_abi=0: rmmod '${rmerr}', bound $bound:$BIND_MSG, parameter '$param', vfio_migration/ $([ -e "/sys/bus/pci/devices/$B1/vfio_migration" ] && echo present || echo absent) $(cat "$TMP/err")"
fi

CACHE=$TMP/cache-vfio
vv nodedev-dumpxml "$N1"
cp "$TMP/out" "$TMP/d1-noabi.xml"
vv nodedev-list --cap pci --json
note=$(json_devices 2>&1 | grep "^$N1 " | sed -n 's/.*note: //p')
if same_as_virsh "$TMP/d1-noabi.xml" "$N1" && ! grep -q vfio-migration "$TMP/d1-noabi.xml" &&
   [[ $note == *"VFIO query"*"not requested"* ]]; then
    result pass "nodedev-dumpxml $N1 without --vfio-query: no capability, libvirt's XML unchanged; nodedev-list --cap pci notes '$note'"
else
    result fail "nodedev-dumpxml $N1 without --vfio-query: want libvirt's XML alone (note '$note')"
    diff "$TMP/d1-noabi.xml" "$TMP/virsh-$N1.xml" | head -30 | diag
fi

digest0=$(tdget "$B1" vfmig_testdev/digest)
vv nodedev-dumpxml --vfio-query "$N1"
cp "$TMP/out" "$TMP/d1-vfio.xml"
feat=$(features "$TMP/d1-vfio.xml")
want_feat="stop-copy$([ "$(tdget "$B1" vfmig_testdev/p2p)" = 1 ] && echo " p2p") pre-copy"
got="source=$(attr "$TMP/d1-vfio.xml" features source) driver=$(attr "$TMP/d1-vfio.xml" driver name) features='$feat' dirty=$(attr "$TMP/d1-vfio.xml" dirty-tracking type)"
want="source=vfio driver=vfmig_testdev features='$want_feat' dirty=$WANT_DIRTY"
if [ $RC -eq 0 ] && [ "$got" = "$want" ] && valid "$TMP/d1-vfio.xml" && same_as_virsh "$TMP/d1-vfio.xml" "$N1"; then
    result pass "nodedev-dumpxml --vfio-query $N1: $got (multi-load and the stream version are not in VFIO's answer), valid, libvirt's XML kept"
else
    result fail "nodedev-dumpxml --vfio-query $N1: $got, want $want (exit $RC)"
    diag_run
    [ -s "$TMP/xmllint.out" ] && diag < "$TMP/xmllint.out"
fi

# the device after the query: closed (not enabled), RUNNING, usable (a
# VFIO user takes it into PRE_COPY and back)
en=$(tdget "$B1" enable)
run "$VIRT_VFMIG" device-info "$B1"
hold "$B1" 6
unhold
held_pc=${HELD:-}
if [ "$en" = 0 ] && [ $RC -eq 0 ] && [ "$(field State)" = RUNNING ] &&
   [ "$(field Migration)" = stop-copy,p2p,pre-copy ] && [ "$held_pc" = "held 6" ] &&
   [ "$(tdget "$B1" enable)" = 0 ]; then
    result pass "after the query $B1 is closed (enable=$en) and usable: device-info says State $(field State), Migration $(field Migration); a VFIO user took it to PRE_COPY and back (digest $( [ "$(tdget "$B1" vfmig_testdev/digest)" = "$digest0" ] && echo unchanged || echo changed))"
else
    result fail "after the query: enable '$en', device-info exit $RC, State '$(field State)', Migration '$(field Migration)', PRE_COPY by a VFIO user: '${held_pc:-failed}'"
    diag_run
fi

vv nodedev-list --vfio-query --json
list=$(json_devices 2>&1)
wf=${want_feat// /,}
if [ $RC -eq 0 ] && grep -q "^$N1 vfmig_testdev vfio $wf $WANT_DIRTY RUNNING idle" <<< "$list" &&
   grep -q "^$N2 vfmig_testdev vfio $wf $WANT_DIRTY RUNNING idle" <<< "$list" &&
   [ "$(tdget "$B2" enable)" = 0 ]; then
    result pass "nodedev-list --vfio-query --json: both devices from VFIO ($wf, dirty $WANT_DIRTY), closed again"
else
    result fail "nodedev-list --vfio-query --json: want both devices from vfio with $wf, $WANT_DIRTY"
    diag_run
    diag <<< "$list"
fi

# a device a VFIO user holds: not opened, described from the cache
hold "$B1" -1
en=$(tdget "$B1" enable)
vv nodedev-dumpxml --vfio-query "$N1"
cp "$TMP/out" "$TMP/d1-held.xml"
alive=$( { [ -n "${HOLD_PID:-}" ] && kill -0 "$HOLD_PID" 2>/dev/null; } && echo yes || echo no)
got="source=$(attr "$TMP/d1-held.xml" features source) features='$(features "$TMP/d1-held.xml")' dirty=$(attr "$TMP/d1-held.xml" dirty-tracking type)"
want="source=cache features='$want_feat' dirty=$WANT_DIRTY"
if [ "${HELD:-}" = "held -1" ] && [ "${en:-0}" -gt 0 ] && [ $RC -eq 0 ] && [ "$got" = "$want" ] &&
   [ "$(tdget "$B1" enable)" = "$en" ] && [ "$alive" = yes ] && valid "$TMP/d1-held.xml"; then
    result pass "$B1 held by a VFIO user (enable=$en): nodedev-dumpxml --vfio-query leaves it alone, $got (the earlier query's cache), valid"
else
    result fail "$B1 held (holder '${HELD:-nothing}', enable '$en', alive $alive): $got, want $want (exit $RC)"
    diag_run
fi

unhold

# a process that holds only the VFIO group (QEMU before it opens the
# device): the function is not enabled, the /proc scan must find it
hold "$B1" -2
en=$(tdget "$B1" enable)
vv nodedev-dumpxml --vfio-query "$N1"
cp "$TMP/out" "$TMP/d1-group.xml"
vv nodedev-list --cap pci --vfio-query --json
note=$(json_devices 2>&1 | grep "^$N1 " | sed -n 's/.*note: //p')
unhold
src=$(attr "$TMP/d1-group.xml" features source)
if [ "${HELD:-}" = "held -2" ] && [ "$en" = 0 ] && [ "$src" = cache ] &&
   [[ $note == *"cache"*"in use"* ]] && [ "$(tdget "$B1" enable)" = 0 ]; then
    result pass "$B1's VFIO group held by a process that has not opened the device (enable=0): --vfio-query leaves it alone, source='cache'; note '$note'"
else
    result fail "$B1's group held (holder '${HELD:-nothing}', enable '$en'): source '$src', want cache; note '$note'"
    diag_run
fi

CACHE=$TMP/cache-empty
hold "$B1" -1
vv nodedev-dumpxml --vfio-query "$N1"
cp "$TMP/out" "$TMP/d1-held-nocache.xml"
rc1=$RC
vv nodedev-list --cap pci --vfio-query --json
note=$(json_devices 2>&1 | grep "^$N1 " | sed -n 's/.*note: //p')
inuse=$(json_devices 2>&1 | grep -c "^$N1 .* in-use")
unhold
if [ $rc1 -eq 0 ] && same_as_virsh "$TMP/d1-held-nocache.xml" "$N1" &&
   ! grep -q vfio-migration "$TMP/d1-held-nocache.xml" && [ "$inuse" = 1 ] && [[ $note == *"in use"* ]] &&
   [ "$(tdget "$B1" enable)" = 0 ]; then
    result pass "$B1 held, nothing cached: no capability (libvirt's XML unchanged); nodedev-list notes '$note'"
else
    result fail "$B1 held, nothing cached: want libvirt's XML alone and an in-use note; exit $rc1, in-use $inuse, note '$note'"
    diag_run
fi

# the first phase's cache (features from sysfs) for the idle device now
CACHE=$TMP/cache-sysfs
vv nodedev-dumpxml "$N1"
diag "with the first phase's cache (written from sysfs_abi=1), nodedev-dumpxml $N1 without --vfio-query now gives: source='$(attr "$TMP/out" features source)' features '$(features "$TMP/out")' stream-version '$(attr "$TMP/out" identity stream-version)'"

# back to the default driver, as the next suite expects it
rmmod vfmig_testdev 2> "$TMP/err"
if load_testdev && bind vfmig_testdev "$B1" "$B2" &&
   [ "$(tdget "$B1" vfio_migration/state)" = RUNNING ]; then
    result pass "vfmig_testdev reloaded with its defaults: vfio_migration/ back on both devices"
else
    result fail "reloading vfmig_testdev with its defaults failed:${BIND_MSG:-} $(cat "$TMP/err")"
fi
stop_libvirtd
trap - EXIT
tap_end
