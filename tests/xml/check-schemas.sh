#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Schema tests, as libvirt's virschematest: every tests/xml/nodedev*/*.xml
# is validated with xmllint against vfmig's schemas (nodedevcapdata/: the
# bare capability, vfmig-nodedev-cap.rng; nodedevstoredata/: the cache
# files and qualification records, vfmig-nodedev-store.rng; the others:
# whole node-device documents, vfmig-nodedev.rng, which includes
# libvirt's nodedev.rng), every domainpolicydata/*.xml and
# domainpolicyxml2xmlout/*.xml against vfmig-domain-policy.rng, and every
# hostpolicydata/*.xml and hostpolicyxml2xmlout/*.xml against
# vfmig-host-policy.rng.
# NAME-invalid.xml must fail, everything else must pass; NAME-parse-invalid.xml,
# which only the parser refuses (two entries for one hostdev or flavor), must pass.  Last, the copy
# of libvirt's "cappcidev" define in vfmig-nodedev.rng must still match the
# installed nodedev.rng, or our override would hide libvirt's changes.
#
# usage: check-schemas.sh XMLDIR SCHEMADIR NODEDEV_RNG
set -uo pipefail

xmldir=${1:?usage: check-schemas.sh XMLDIR SCHEMADIR NODEDEV_RNG}
schemadir=${2:?}
nodedev_rng=${3:?}

shopt -s nullglob
files=("$xmldir"/nodedev*/*.xml "$xmldir"/domainpolicydata/*.xml "$xmldir"/domainpolicyxml2xmlout/*.xml
       "$xmldir"/hostpolicydata/*.xml "$xmldir"/hostpolicyxml2xmlout/*.xml)
echo "1..$(( ${#files[@]} + 6 ))"

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }

have_libvirt=1
[ -r "$nodedev_rng" ] || have_libvirt=0

for schema in vfmig-nodedev-cap.rng vfmig-nodedev-store.rng vfmig-domain-policy.rng vfmig-host-policy.rng vfmig-nodedev.rng; do
    if [ "$schema" = vfmig-nodedev.rng ] && [ $have_libvirt = 0 ]; then
        skip "$schema compiles: $nodedev_rng is not installed"
        continue
    fi
    # An empty capability document: the schema must compile to say no.
    if out=$(echo '<x/>' | xmllint --noout --relaxng "$schemadir/$schema" - 2>&1);
       echo "$out" | grep -q 'failed to compile'; then
        notok "$schema compiles"
        echo "$out" | sed 's/^/# /'
    else
        ok "$schema compiles"
    fi
done

for f in "${files[@]}"; do
    rel=${f#"$xmldir"/}
    case "$rel" in
        nodedevcapdata/*) schema=vfmig-nodedev-cap.rng ;;
        nodedevstoredata/*) schema=vfmig-nodedev-store.rng ;;
        domainpolicy*) schema=vfmig-domain-policy.rng ;;
        hostpolicy*) schema=vfmig-host-policy.rng ;;
        *) schema=vfmig-nodedev.rng
           if [ $have_libvirt = 0 ]; then
               skip "$rel: $nodedev_rng is not installed"
               continue
           fi ;;
    esac
    out=$(xmllint --noout --relaxng "$schemadir/$schema" "$f" 2>&1)
    rc=$?
    case "$rel" in
        *-parse-invalid.xml)
            if [ $rc -eq 0 ]; then
                ok "$rel validates against $schema (only the parser refuses it)"
            else
                notok "$rel does not validate against $schema"
                echo "$out" | sed 's/^/# /'
            fi ;;
        *-invalid.xml)
            if [ $rc -ne 0 ] && ! echo "$out" | grep -q 'failed to compile'; then
                ok "$rel is invalid against $schema"
            else
                notok "$rel should be invalid against $schema"
                echo "$out" | sed 's/^/# /'
            fi ;;
        *)
            if [ $rc -eq 0 ]; then
                ok "$rel validates against $schema"
            else
                notok "$rel does not validate against $schema"
                echo "$out" | sed 's/^/# /'
            fi ;;
    esac
done

if [ $have_libvirt = 0 ]; then
    skip "cappcidev copy: $nodedev_rng is not installed"
    exit 0
fi
define="//*[local-name()='define'][@name='cappcidev']"
theirs=$(xmllint --xpath "$define/*" "$nodedev_rng" 2>/dev/null | tr -d '[:space:]')
ours=$(xmllint --xpath \
    "$define/*[not(.//*[local-name()='ref'][@name='vfmigCapVFIOMigration'])]" \
    "$schemadir/vfmig-nodedev.rng" 2>/dev/null | tr -d '[:space:]')
if [ -n "$theirs" ] && [ "$theirs" = "$ours" ]; then
    ok "cappcidev in vfmig-nodedev.rng matches $nodedev_rng"
else
    notok "cappcidev in vfmig-nodedev.rng differs from $nodedev_rng: update the copy"
fi
