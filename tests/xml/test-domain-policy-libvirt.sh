#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The domain migration policy through a real libvirtd 11.3 (started for
# the test by tests/libvirt/with-libvirtd.sh; needs root): a domain whose
# <metadata> holds the policy is defined, and the policy must come back
# the same from virsh dumpxml (live, --inactive, --migratable: what a
# migration sends), from the persistent config libvirtd re-reads when it
# restarts, and through virsh metadata --uri (virDomainGetMetadata and
# virDomainSetMetadata, also of the host default's origin='host' form).
# "The same": equal after canonical formatting by
# vfmig's formatter (libvirt re-quotes attributes), with the domain's
# hostdevs still matching every entry.  libvirt's test:///default driver
# cannot migrate: the VM suite migrates for real.
#
# usage: test-domain-policy-libvirt.sh DOMAIN_POLICY_CANON SRCDIR
set -uo pipefail

CANON=${1:?usage: test-domain-policy-libvirt.sh DOMAIN_POLICY_CANON SRCDIR}
SRCDIR=${2:?usage: test-domain-policy-libvirt.sh DOMAIN_POLICY_CANON SRCDIR}
export LC_ALL=C LANG=C
unset LIBVIRT_DEFAULT_URI

URI=http://vfmig.org/xmlns/libvirt/domain/1.0
DATA=$SRCDIR/tests/xml
DOMAIN_XML=$DATA/domainpolicydomaindata/domain_policy.xml
NEW_POLICY=$DATA/domainpolicydata/alias_full.xml
HOST_POLICY=$DATA/domainpolicydata/host_origin_flavor.xml
IFACE_XML=$DATA/domainpolicydomaindata/domain_interface.xml

tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
n=0
fail=0
echo "1..16"
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
    n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"
    for f in "${@:2}"; do [ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"; done
    [ -f "$tmp/virsh.err" ] && sed 's/^/# virsh: /' "$tmp/virsh.err"
    return 0
}
# same NAME FILE WANT_FILE: FILE's policy is WANT_FILE's, canonically
same() {
    if "$CANON" "$2" > "$tmp/got.canon" 2> "$tmp/got.err" &&
       "$CANON" "$3" > "$tmp/want.canon" 2> "$tmp/want.err" &&
       cmp -s "$tmp/got.canon" "$tmp/want.canon"; then
        ok "$1"
    else
        diff -u "$tmp/want.canon" "$tmp/got.canon" > "$tmp/diff" 2>&1
        nok "$1" "$tmp/got.err" "$tmp/want.err" "$tmp/diff" "$2"
    fi
}

if ! "$CANON" --metadata "$NEW_POLICY" > "$tmp/new-policy.xml" ||
   ! "$CANON" "$NEW_POLICY" > "$tmp/new-policy-ns.xml" ||
   ! "$CANON" --metadata "$HOST_POLICY" > "$tmp/host-policy.xml"; then
    echo "Bail out! $CANON $NEW_POLICY failed"
    exit 1
fi

# Everything libvirt answers is written into $tmp, each step's exit
# status into $tmp/NAME.rc; the checks run after the daemon is gone.
rc=0
"$SRCDIR/tests/libvirt/with-libvirtd.sh" bash -c '
    tmp=$1 uri=$2 domain_xml=$3 iface_xml=$4
    v() { virsh -q -c qemu:///system "$@" 2>> "$tmp/virsh.err"; }
    step() { local name=$1; shift; "$@"; echo $? > "$tmp/$name.rc"; }
    step define v define "$domain_xml" > /dev/null
    step dump v dumpxml vfmig-policy > "$tmp/dump.xml"
    step inactive v dumpxml --inactive vfmig-policy > "$tmp/inactive.xml"
    step migratable v dumpxml --migratable vfmig-policy > "$tmp/migratable.xml"
    step config cp /etc/libvirt/qemu/vfmig-policy.xml "$tmp/config.xml"
    step get v metadata vfmig-policy --uri "$uri" > "$tmp/get.xml"
    # with its namespace declared, libvirt refuses the element (so
    # vfmigDomainPolicyFormatMetadata writes it without)
    step setns v metadata vfmig-policy --uri "$uri" --key vfmig --config \
        --set "$(cat "$tmp/new-policy-ns.xml")"
    step set v metadata vfmig-policy --uri "$uri" --key vfmig --config \
        --set "$(cat "$tmp/new-policy.xml")"
    step get2 v metadata vfmig-policy --uri "$uri" > "$tmp/get2.xml"
    step dump2 v dumpxml --migratable vfmig-policy > "$tmp/dump2.xml"
    # the form of the host default: origin= and flavor= on the root
    step sethost v metadata vfmig-policy --uri "$uri" --key vfmig --config \
        --set "$(cat "$tmp/host-policy.xml")"
    step get3 v metadata vfmig-policy --uri "$uri" > "$tmp/get3.xml"
    step undefine v undefine vfmig-policy > /dev/null
    # a VF as <interface type='hostdev'>, named by its alias
    step iface_define v define "$iface_xml" > /dev/null
    step iface_dump v dumpxml --migratable vfmig-policy-interface > "$tmp/iface.xml"
' bash "$tmp" "$URI" "$DOMAIN_XML" "$IFACE_XML" > "$tmp/with.out" 2>&1 < /dev/null ||
    rc=$?

rcof() { cat "$tmp/$1.rc" 2>/dev/null || echo none; }

if [ "$rc" = 0 ] && [ "$(rcof define)" = 0 ]; then
    ok "libvirtd 11.3 defines the domain with the policy in <metadata>"
else
    nok "libvirtd did not define the domain (rc $rc, define $(rcof define))" "$tmp/with.out"
fi
same "virsh dumpxml: the policy comes back unchanged" "$tmp/dump.xml" "$DOMAIN_XML"
same "virsh dumpxml --inactive: unchanged" "$tmp/inactive.xml" "$DOMAIN_XML"
same "virsh dumpxml --migratable (the XML a migration sends): unchanged" "$tmp/migratable.xml" "$DOMAIN_XML"
same "the persistent config libvirtd re-reads on restart: unchanged" "$tmp/config.xml" "$DOMAIN_XML"
if grep -q '<nova:name>vm0</nova:name>' "$tmp/dump.xml" 2>/dev/null; then
    ok "another namespace's element beside ours is kept too"
else
    nok "the other namespace's element is lost" "$tmp/dump.xml"
fi
same "virsh metadata --uri (virDomainGetMetadata): the policy, unchanged" "$tmp/get.xml" "$DOMAIN_XML"
if [ "$(rcof get)" = 0 ] && ! grep -q xmlns "$tmp/get.xml"; then
    ok "virDomainGetMetadata gives the element without its namespace (the parser takes it so)"
else
    nok "virDomainGetMetadata output has a namespace now: check vfmigDomainPolicyParseString" "$tmp/get.xml"
fi
if [ "$(rcof setns)" != 0 ] && [ "$(rcof set)" = 0 ]; then
    ok "virDomainSetMetadata takes vfmigDomainPolicyFormatMetadata's form and refuses one with xmlns:vfmig"
else
    nok "virsh metadata --set: with xmlns $(rcof setns), without $(rcof set)"
fi
same "virsh metadata --set then --uri: the new policy, unchanged" "$tmp/get2.xml" "$NEW_POLICY"
same "virsh dumpxml --migratable after --set: the new policy in vfmig's namespace" "$tmp/dump2.xml" "$NEW_POLICY"
same "virsh metadata --set of an origin='host' policy then --uri: unchanged" "$tmp/get3.xml" "$HOST_POLICY"
if [ "$(rcof undefine)" = 0 ]; then
    ok "the domain is undefined"
else
    nok "virsh undefine failed"
fi
if [ "$(rcof iface_define)" = 0 ] && grep -q "<interface type='hostdev'" "$tmp/iface.xml"; then
    ok "libvirtd defines a domain whose policy names an <interface type='hostdev'>"
else
    nok "the domain with an <interface type='hostdev'> (define $(rcof iface_define))" "$tmp/iface.xml"
fi
same "virsh dumpxml --migratable of it: the policy unchanged, every entry naming a device" "$tmp/iface.xml" "$IFACE_XML"
if grep -q "<driver model='mlx5_vfio_pci'/>" "$tmp/iface.xml"; then
    ok "libvirt keeps the interface's <driver model='mlx5_vfio_pci'/> (the variant driver it binds a managed VF to)"
else
    nok "libvirt lost or respelled the interface's <driver model=>" "$tmp/iface.xml"
fi
[ $fail = 0 ]
