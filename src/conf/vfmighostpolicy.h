/*
 * vfmighostpolicy.h: the host's default migration policy, by Nova flavor
 *
 * A file of the host (/etc/vfmig/host-policy.xml: VFMIG_HOST_POLICY_PATH,
 * read by vfmighostdefault.h) that gives the running domains without a
 * migration policy of their own one made from it:
 *
 *   <hostpolicy xmlns='http://vfmig.org/xmlns/host-policy/1.0'>
 *     <flavor name='vf.gold'>
 *       <downtime target-ms='300' on-failure='abort'/>
 *       <precopy mode='required'/>
 *     </flavor>
 *     <default>
 *       <downtime target-ms='1000' on-failure='best-effort'/>
 *       <precopy mode='preferred'/>
 *     </default>
 *   </hostpolicy>
 *
 * A domain of a flavor (its Nova metadata's <nova:flavor name=>) that has
 * an entry takes that entry; any other domain the <default>, or nothing
 * when there is none.  Each entry holds the domain's downtime and every
 * hostdev's pre-copy mode, in the domain policy's words and limits
 * (vfmigdomainpolicy.h), each optional and at most once.  Schema:
 * schemas/vfmig-host-policy.rng; reference: docs/operator-guide.rst.
 *
 * The parser is strict as the domain policy's: an unknown element or
 * attribute, an unknown value, a repeated part, two entries for one
 * flavor, more than VFMIG_HOST_POLICY_FLAVORS_MAX flavors or more than
 * VFMIG_HOST_POLICY_SIZE_MAX bytes are refused with VFMIG_ERR_INVALID_ARG
 * and a message that names the element's path and why.  The formatter
 * writes a fixed order (the flavors as given, then the default), so
 * format(parse(x)) == x for its own output.  Pure: no I/O.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "vfmigbuf.h"
#include "vfmigdomainpolicy.h"

#define VFMIG_HOST_POLICY_NS_URI "http://vfmig.org/xmlns/host-policy/1.0"

/* The most <flavor> entries: a cloud has tens of flavors with VFs. */
#define VFMIG_HOST_POLICY_FLAVORS_MAX 256

/* The most bytes of the file: an entry with every part given is under
 * 200 bytes, so 256 of them take about 50 KiB. */
#define VFMIG_HOST_POLICY_SIZE_MAX (1024 * 1024)

/* A <flavor> or the <default>: what a domain's policy is made from. */
typedef struct _vfmigHostPolicyEntry vfmigHostPolicyEntry;
struct _vfmigHostPolicyEntry {
    char *flavor;                           /* <flavor name=>; NULL: the
                                             * <default> */
    vfmigDomainPolicyDowntime downtime;     /* the domain's; 0 and DEFAULT:
                                             * not given */
    vfmigDomainPolicyPrecopy precopy;       /* every hostdev's; DEFAULT:
                                             * not given */
};

typedef struct _vfmigHostPolicy vfmigHostPolicy;
struct _vfmigHostPolicy {
    vfmigHostPolicyEntry **flavors;         /* in document order */
    size_t nflavors;
    vfmigHostPolicyEntry *def;              /* NULL: no <default> */
};

void vfmigHostPolicyEntryFree(vfmigHostPolicyEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigHostPolicyEntry, vfmigHostPolicyEntryFree);
void vfmigHostPolicyFree(vfmigHostPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigHostPolicy, vfmigHostPolicyFree);

/* Parses the host policy document @xml; its size is strlen(@xml),
 * refused before the text is parsed.  NULL with an error. */
vfmigHostPolicy *vfmigHostPolicyParseString(const char *xml);

/* Formats <hostpolicy> with its xmlns into @buf at its indentation. */
void vfmigHostPolicyFormat(vfmigBuffer *buf,
                           const vfmigHostPolicy *policy);

/* The same as a string. */
char *vfmigHostPolicyFormatString(const vfmigHostPolicy *policy);

/*
 * The entry for a domain of the flavor @flavor (NULL: the domain has
 * none): the flavor's entry, else the default, else NULL.  Flavor names
 * are compared as they are, case and all.
 */
const vfmigHostPolicyEntry *
vfmigHostPolicyLookup(const vfmigHostPolicy *policy,
                      const char *flavor);
