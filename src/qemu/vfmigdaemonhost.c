/*
 * vfmigdaemonhost.c: the host default policy file as virt-vfmigd follows it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>

#include "vfmigdaemonhost.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmighostdefault.h"
#include "vfmighostpolicy.h"
#include "vfmiglog.h"


void
vfmigDaemonHostPolicyInit(vfmigDaemonHostPolicy *hp,
                          const char *path)
{
    memset(hp, 0, sizeof(*hp));
    hp->path = g_strdup(path);
}


void
vfmigDaemonHostPolicyClear(vfmigDaemonHostPolicy *hp)
{
    g_clear_pointer(&hp->path, g_free);
    g_clear_pointer(&hp->xml, g_free);
}


static bool
vfmigDaemonHostPolicySame(const struct stat *a,
                          const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}


/* Puts @xml (taken; NULL: none) in force; whether that changed it. */
static bool
vfmigDaemonHostPolicySet(vfmigDaemonHostPolicy *hp,
                         char *xml)
{
    bool changed = g_strcmp0(hp->xml, xml) != 0;

    g_free(hp->xml);
    hp->xml = xml;
    return changed;
}


bool
vfmigDaemonHostPolicyRefresh(vfmigDaemonHostPolicy *hp,
                             bool *changed,
                             vfmigDaemonReportLevel *level,
                             char **line)
{
    g_autoptr(vfmigHostPolicy) policy = NULL;
    bool first = !hp->looked;
    bool had = hp->xml != NULL;
    struct stat st;
    int rc;

    *changed = false;
    *level = VFMIG_DAEMON_REPORT_INFO;
    *line = NULL;
    if (!hp->path)
        return false;
    hp->looked = true;

    if (stat(hp->path, &st) < 0) {
        if (!first && !hp->exists)
            return false;
        hp->exists = false;
        *changed = vfmigDaemonHostPolicySet(hp, NULL);
        if (errno != ENOENT) {
            *level = VFMIG_DAEMON_REPORT_WARNING;
            *line = g_strdup_printf(_("cannot look at the host default policy '%1$s': %2$s; no domain gets one until it can be read (those that have one keep it)"),
                                    hp->path, g_strerror(errno));
        } else if (had) {
            *line = g_strdup_printf(_("the host default policy '%1$s' is gone: no domain gets one any more (those that have one keep it)"),
                                    hp->path);
        } else if (first) {
            *line = g_strdup_printf(_("no host default policy ('%1$s' does not exist)"),
                                    hp->path);
        }
        return *line != NULL;
    }
    if (!first && hp->exists && vfmigDaemonHostPolicySame(&hp->st, &st))
        return false;
    hp->exists = true;
    hp->st = st;

    VFMIG_DEBUG("reading the host default policy %s", hp->path);
    if ((rc = vfmigHostDefaultLoadPolicy(hp->path, &policy)) < 0) {
        *changed = vfmigDaemonHostPolicySet(hp, NULL);
        *level = VFMIG_DAEMON_REPORT_WARNING;
        *line = g_strdup_printf(_("%1$s; no domain gets a host default policy until the file is fixed (those that have one keep it)"),
                                vfmigGetLastErrorMessage());
        return true;
    }
    if (rc == 0) {
        /* gone between the two looks: at the next sweep */
        hp->exists = false;
        *changed = vfmigDaemonHostPolicySet(hp, NULL);
        return false;
    }
    if (!(*changed = vfmigDaemonHostPolicySet(hp, vfmigHostPolicyFormatString(policy))) &&
        !first)
        return false;
    *line = g_strdup_printf(_("host default policy '%1$s': %2$zu flavor(s), %3$s"),
                            hp->path, policy->nflavors,
                            policy->def ? _("and a default for the others") :
                                          _("no default"));
    return true;
}
