/*
 * domain-policy-canon.c: the canonical form of a domain migration policy
 *
 * usage: domain-policy-canon [--metadata] FILE
 *
 * FILE is a whole domain XML (its <metadata>'s <vfmig:migration> is
 * taken) or the <vfmig:migration> element alone, as `virsh metadata`
 * prints it.  Prints the policy as vfmigDomainPolicyFormat writes it, so
 * two spellings of one policy print the same.  Exits 0; 1 with the error
 * on stderr; 3 when a domain has no policy.  With --metadata, the
 * form without namespace that virDomainSetMetadata takes.  For the libvirt round-trip
 * test (test-domain-policy-libvirt.sh).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "vfmigdomainpolicy.h"
#include "vfmigerror.h"
#include "vfmigfile.h"

#define MAX_XML (16 * 1024 * 1024)


int
main(int argc,
     char **argv)
{
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *out = NULL;
    bool metadata = false;
    const char *path;

    if (argc == 3 && strcmp(argv[1], "--metadata") == 0)
        metadata = true;
    else if (argc != 2) {
        fprintf(stderr, "usage: %s [--metadata] FILE\n", argv[0]);
        return 2;
    }
    path = argv[argc - 1];
    if (vfmigFileRead("XML file", path, MAX_XML, 0, &xml, NULL) < 0)
        goto error;

    if (strstr(xml, "<domain ") || strstr(xml, "<domain>")) {
        int rc = vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs);

        if (rc < 0)
            goto error;
        if (rc == 0) {
            fprintf(stderr, "%s: the domain has no migration policy\n", path);
            return 3;
        }
        if (vfmigDomainPolicyCheckHostdevs(policy, hostdevs) < 0)
            goto error;
    } else if (!(policy = vfmigDomainPolicyParseString(xml))) {
        goto error;
    }
    if (metadata)
        out = vfmigDomainPolicyFormatMetadata(policy);
    else
        out = vfmigDomainPolicyFormatString(policy);
    fputs(out, stdout);
    return 0;

 error:
    fprintf(stderr, "%s: %s\n", path, vfmigGetLastErrorMessage());
    return 1;
}
