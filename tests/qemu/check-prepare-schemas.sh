#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every domain XML domain-prepare is expected to write
# (tests/qemu/domainpreparedata/*.out.xml) must be a valid libvirt domain
# (libvirt's domain.rng, which has <qemu:override>), and its
# <vfmig:migration> a valid policy (vfmig-domain-policy.rng).  Needs
# xmllint and libvirt's schemas; missing either fails.
#
# usage: check-prepare-schemas.sh DATADIR SCHEMADIR DOMAIN_RNG
set -uo pipefail

datadir=${1:?usage: check-prepare-schemas.sh DATADIR SCHEMADIR DOMAIN_RNG}
schemadir=${2:?}
domain_rng=${3:?}

shopt -s nullglob
files=("$datadir"/*.out.xml)
echo "1..$(( ${#files[@]} * 2 + 1 ))"
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }

if command -v xmllint >/dev/null && [ -r "$domain_rng" ] && [ ${#files[@]} -gt 0 ]; then
    ok "xmllint, $domain_rng and ${#files[@]} expected outputs are there"
else
    notok "need xmllint, libvirt's $domain_rng and $datadir/*.out.xml"
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in "${files[@]}"; do
    rel=${f##*/}
    if out=$(xmllint --noout --relaxng "$domain_rng" "$f" 2>&1); then
        ok "$rel is a valid libvirt domain"
    else
        notok "$rel is not a valid libvirt domain"
        echo "$out" | sed 's/^/# /'
    fi
    out="no <vfmig:migration> in <metadata>"
    if xmllint --xpath '/domain/metadata/*[local-name()="migration" and namespace-uri()="http://vfmig.org/xmlns/libvirt/domain/1.0"]' \
           "$f" > "$tmp" 2>/dev/null &&
       out=$(xmllint --noout --relaxng "$schemadir/vfmig-domain-policy.rng" "$tmp" 2>&1); then
        ok "$rel: its <vfmig:migration> is a valid policy"
    else
        notok "$rel: no valid <vfmig:migration> in its <metadata>"
        echo "$out" | sed 's/^/# /'
    fi
done
[ $fail = 0 ]
