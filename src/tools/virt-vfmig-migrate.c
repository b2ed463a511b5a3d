/*
 * virt-vfmig-migrate.c: virt-vfmig migrate (in the table of the domain
 * commands, virt-vfmig-domain.c)
 *
 * The handler parses options, calls vfmigMigrate (vfmigmigrate.h), shows
 * the controller's steps on a terminal and prints the report.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "virt-vfmig-state.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigmigrate.h"
#include "vfmigstring.h"

/* MiB/s: 1 PiB/s is more than any link */
#define VFMIG_MIGRATE_SWITCHOVER_MAX (1024ULL * 1024 * 1024)


/* The updating line on a terminal. */
typedef struct _vfmigMigrateProgress vfmigMigrateProgress;
struct _vfmigMigrateProgress {
    bool shown;
};


static void
vfmigMigrateProgressCb(void *opaque,
                       const vfmigControllerStatus *step G_GNUC_UNUSED,
                       const char *line)
{
    vfmigMigrateProgress *p = opaque;
    g_autofree char *safe = vfmigStringEscapeText(line);
    struct winsize ws;

    /* one line: a wrapped one could not be cleared */
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
        g_utf8_validate(safe, -1, NULL) &&
        g_utf8_strlen(safe, -1) > ws.ws_col - 1)
        *g_utf8_offset_to_pointer(safe, ws.ws_col - 1) = '\0';
    /* back to the start of the line, and clear it */
    printf("\r\033[K%s", safe);
    fflush(stdout);
    p->shown = true;
}


static void
vfmigMigrateProgressEnd(vfmigMigrateProgress *p)
{
    if (!p->shown)
        return;
    printf("\r\033[K");
    fflush(stdout);
    p->shown = false;
}


bool
cmdMigrate(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "domain");
    const char *destURI = vfmigCmdGetString(cmd, "desturi");
    const char *onFailure = vfmigCmdGetString(cmd, "on-failure");
    bool json = vfmigCmdGetBool(cmd, "json");
    g_autoptr(vfmigMigrateReport) report = NULL;
    g_autofree char *text = NULL;
    vfmigMigrateOptions opts = { 0 };
    vfmigMigrateProgress progress = { 0 };
    vfmigDevCtlPaths paths;
    virConnectPtr conn;
    virDomainPtr dom;
    uint64_t targetMs;
    uint64_t timeoutS;
    uint64_t switchover;
    uint64_t overheadMs = 0;
    bool hasOverhead = false;
    int rc;

    if (vfmigStateOptNumber(ctl, cmd, "target-ms",
                            VFMIG_STATE_TARGET_MS_MAX, &targetMs) < 0 ||
        vfmigStateOptNumber(ctl, cmd, "cancel-after",
                            VFMIG_STATE_TIMEOUT_MAX, &timeoutS) < 0 ||
        vfmigStateOptNumber(ctl, cmd, "available-switchover-bandwidth",
                            VFMIG_MIGRATE_SWITCHOVER_MAX, &switchover) < 0)
        return false;
    if (vfmigCmdGetString(cmd, "overhead-ms")) {
        guint64 v;

        /* 0 is a value here: no overhead */
        if (!g_ascii_string_to_unsigned(vfmigCmdGetString(cmd, "overhead-ms"), 10,
                                        0, vfmigDowntimeParamMaxMs(VFMIG_DOWNTIME_PARAM_OVERHEAD), &v, NULL)) {
            vfmigShellUsageError(ctl,
                                 _("command '%1$s': option --%2$s wants a whole number from 0 to %3$llu, not '%4$s'"),
                                 cmd->def->name, "overhead-ms",
                                 (unsigned long long) vfmigDowntimeParamMaxMs(VFMIG_DOWNTIME_PARAM_OVERHEAD),
                                 vfmigCmdGetString(cmd, "overhead-ms"));
            return false;
        }
        overheadMs = v;
        hasOverhead = true;
    }
    if (onFailure) {
        int f = vfmigDomainPolicyOnFailureTypeFromString(onFailure);

        if (f != VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT &&
            f != VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT) {
            vfmigShellUsageError(ctl,
                                 _("command '%1$s': option --on-failure wants abort or best-effort, not '%2$s'"),
                                 cmd->def->name, onFailure);
            return false;
        }
        opts.downtime.onFailure = f;
    }

    vfmigStateSetupSignals();
    vfmigStatePathsFromEnv(&paths);

    opts.migrateURI = vfmigCmdGetString(cmd, "migrateuri");
    opts.xmlFile = vfmigCmdGetString(cmd, "xml");
    opts.persistent = vfmigCmdGetBool(cmd, "persistent");
    opts.undefineSource = vfmigCmdGetBool(cmd, "undefinesource");
    /* ms to the settings' us: the one conversion, checked */
    if ((targetMs &&
         vfmigDowntimeSettingsSetMs(&opts.downtime, VFMIG_DOWNTIME_PARAM_TARGET,
                                    targetMs) < 0) ||
        (hasOverhead &&
         vfmigDowntimeSettingsSetMs(&opts.downtime, VFMIG_DOWNTIME_PARAM_OVERHEAD,
                                    overheadMs) < 0)) {
        vfmigShellUsageError(ctl, _("command '%1$s': %2$s"), cmd->def->name,
                             vfmigGetLastErrorMessage());
        return false;
    }
    opts.timeoutS = timeoutS;
    opts.switchoverMiBps = switchover;
    /* the tests' copy of virt-vfmigd's learned overhead */
    opts.stateFile = g_getenv("VFMIG_DAEMON_STATE_FILE");
    opts.paths = &paths;
    opts.cancel = &vfmigStateCancel;
    if (isatty(STDOUT_FILENO) == 1) {
        opts.progress = vfmigMigrateProgressCb;
        opts.opaque = &progress;
    }

    if (!(conn = vfmigShellGetConnection(ctl)))
        return false;
    if (!(dom = virDomainLookupByName(conn, name)) &&
        !(dom = virDomainLookupByUUIDString(conn, name))) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("no domain '%1$s': %2$s"), name,
                         virGetLastErrorMessage());
        return false;
    }

    rc = vfmigMigrate(conn, dom, destURI, &opts, &report);
    vfmigMigrateProgressEnd(&progress);
    virDomainFree(dom);
    if (rc < 0)
        return false;

    if (json) {
        text = vfmigMigrateReportFormatJSON(report);
        ctl->jsonPrinted = true;
    } else {
        size_t i;

        /* the warnings are in the JSON document; as text, on stderr */
        for (i = 0; i < report->warnings->len; i++) {
            g_autofree char *w = vfmigStringEscapeText(report->warnings->pdata[i]);

            fprintf(stderr, _("warning: %1$s\n"), w);
        }
        g_ptr_array_set_size(report->warnings, 0);
        text = vfmigMigrateReportFormatText(report);
    }
    fputs(text, stdout);
    fflush(stdout);

    switch ((vfmigMigrateResult) report->result) {
    case VFMIG_MIGRATE_MIGRATED:
        return true;
    case VFMIG_MIGRATE_ABORTED:
        vfmigReportError(VFMIG_ERR_OPERATION_ABORTED,
                         _("the migration of domain '%1$s' was cancelled: the downtime target of %2$llu ms cannot be met and the policy says abort; the domain keeps running here"),
                         report->domain,
                         (unsigned long long) (report->targetUs / 1000));
        return false;
    case VFMIG_MIGRATE_TIMEOUT:
        vfmigReportError(VFMIG_ERR_OPERATION_TIMEOUT,
                         _("the migration of domain '%1$s' was cancelled after %2$llu s (--cancel-after); the domain keeps running here"),
                         report->domain, (unsigned long long) timeoutS);
        return false;
    case VFMIG_MIGRATE_CANCELLED:
        vfmigReportError(VFMIG_ERR_OPERATION_ABORTED,
                         _("the migration of domain '%1$s' was cancelled (interrupted); the domain keeps running here"),
                         report->domain);
        return false;
    case VFMIG_MIGRATE_FAILED:
    case VFMIG_MIGRATE_RESULT_LAST:
    default:
        break;
    }
    vfmigReportError(VFMIG_ERR_LIBVIRT,
                     _("the migration of domain '%1$s' to '%2$s' failed: %3$s"),
                     report->domain, report->destURI,
                     report->error ? report->error : _("unknown error"));
    return false;
}


const vfmigCmdOptDef vfmigOptsMigrate[] = {
    { "domain", VFMIG_OPT_ARG, true, N_("domain name or UUID") },
    { "desturi", VFMIG_OPT_ARG, true,
      N_("the destination's libvirt URI, e.g. qemu+tcp://host/system") },
    { "migrateuri", VFMIG_OPT_STRING, false,
      N_("the URI QEMU's migration stream goes to, e.g. tcp://10.0.0.2") },
    { "xml", VFMIG_OPT_STRING, false,
      N_("file with the domain XML for the destination (e.g. naming its VF)") },
    { "persistent", VFMIG_OPT_BOOL, false,
      N_("define the domain on the destination") },
    { "undefinesource", VFMIG_OPT_BOOL, false,
      N_("undefine the domain here after migrating it") },
    { "target-ms", VFMIG_OPT_STRING, false,
      N_("downtime target in milliseconds, as libvirt measures it (default: the domain's policy)") },
    { "on-failure", VFMIG_OPT_STRING, false,
      N_("when the target cannot be met: abort or best-effort (default: the domain's policy)") },
    /* not --timeout: virsh's suspends the guest */
    { "cancel-after", VFMIG_OPT_STRING, false,
      N_("cancel the migration after this many seconds, the domain running here (default: no limit)") },
    { "available-switchover-bandwidth", VFMIG_OPT_STRING, false,
      N_("MiB/s QEMU may assume for the switchover (default: given only where a VF has no device dirty tracking)") },
    { "overhead-ms", VFMIG_OPT_STRING, false,
      N_("libvirt's own switchover time in ms (default: what virt-vfmigd learned on this host)") },
    VFMIG_COMMON_OPT_JSON,
    { NULL, 0, false, NULL }
};

