/*
 * vfmigdaemonhost.h: the host default policy file as virt-vfmigd follows it
 *
 * virt-vfmigd gives running domains without a policy of their own the
 * host's default policy (vfmighostdefault.h) as live metadata.  The file
 * is read when the daemon starts and looked at again at every sweep: a
 * change of its identity (device, inode, size, modification time) reads
 * it again, and what is in force changes only when its content did.  An
 * invalid file puts no policy in force (the domains that have one keep
 * it) until it is fixed; a removed one neither.
 *
 * What is in force is kept as the canonical text of the policy
 * (vfmigHostPolicyFormatString), which the domains' workers parse for
 * themselves: nothing is shared with a worker that may outlive a reload.
 *
 * Private to the daemon.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include <glib.h>

#include "vfmigdaemon.h"

typedef struct _vfmigDaemonHostPolicy vfmigDaemonHostPolicy;
struct _vfmigDaemonHostPolicy {
    char *path;                 /* NULL: the daemon applies none */
    bool looked;                /* looked at once */
    bool exists;                /* at the last look */
    struct stat st;             /* at the last look, when it exists */
    char *xml;                  /* in force; NULL: none */
};

/* Follows the host policy at @path (NULL: none is applied). */
void vfmigDaemonHostPolicyInit(vfmigDaemonHostPolicy *hp,
                               const char *path);
void vfmigDaemonHostPolicyClear(vfmigDaemonHostPolicy *hp);

/*
 * Looks at the file again.  Returns true when there is something to say
 * (*@line, translated, at *@level: the first look, a new or changed
 * policy, a refused or removed file) and sets *@changed when the policy
 * in force is another one now (the domains are to be decided again).
 */
bool vfmigDaemonHostPolicyRefresh(vfmigDaemonHostPolicy *hp,
                                  bool *changed,
                                  vfmigDaemonReportLevel *level,
                                  char **line);
