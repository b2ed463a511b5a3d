/*
 * virt-vfmig.c: the vfmig command line, in the style of virsh
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "virt-vfmig.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigjson.h"
#include "vfmiglog.h"

static const vfmigCmdDef *const vfmigCmdGroups[] = {
    vfmigGenericCmds,
    vfmigDeviceCmds,
    vfmigMigrateCmds,
    vfmigNodeDevCmds,
    vfmigDomainCmds,
    NULL,
};

static const char *const vfmigCmdGroupNames[] = {
    N_("Generic commands:"),
    N_("Device commands (need a device bound to a VFIO driver):"),
    N_("Device state commands (qualify, save and restore an idle device's state):"),
    N_("Node device commands:"),
    N_("Domain commands (this host's libvirt):"),
    NULL,
};


/* They read this host's devices (sysfs, VFIO): -c may name this host's
 * libvirt only (vfmigShellCheckConnect). */
static const char *const vfmigLocalOnlyCmds[] = {
    "device-info",
    "device-qualify",
    "device-save",
    "device-restore",
    "nodedev-dumpxml",
    "nodedev-list",
    "nodedev-compare",
    "nodedev-nova-spec",
    "domain-prepare",
    "host-policy",
    "migrate",
    NULL,
};


static void
vfmigUsage(vfmigCtl *ctl)
{
    printf(_("Usage: %1$s [OPTION]... COMMAND [ARG]...\n"
             "Live migration of VMs with SR-IOV VFs: VFIO device migration for libvirt.\n"
             "\n"
             "Options:\n"
             "  -c, --connect=URI   libvirt connection URI (default: libvirt's, as virsh:\n"
             "                      $LIBVIRT_DEFAULT_URI, else uri_default in libvirt.conf)\n"
             "      --debug         log every VFIO ioctl, device state change, engine\n"
             "                      phase and downtime decision on stderr (as\n"
             "                      VFMIG_DEBUG=1 does)\n"
             "  -h, --help          show this help, or a command's with COMMAND --help\n"
             "  -V, --version       show the version of vfmig\n"
             "\n"
             "Exit status: 0 success, 1 the command failed, 2 bad command line.\n"
             "\n"), ctl->progname);
    vfmigShellPrintCommandList(ctl);
}


/* ---- generic commands ---- */

static const vfmigCmdOptDef optsHelp[] = {
    { "command", VFMIG_OPT_ARG, false, N_("the command to describe") },
    { NULL, 0, false, NULL }
};


static bool
cmdHelp(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "command");
    const vfmigCmdDef *def;

    if (!name) {
        vfmigUsage(ctl);
        return true;
    }
    if (!(def = vfmigShellFindCommand(ctl, name))) {
        vfmigShellUsageError(ctl, _("unknown command '%1$s'"), name);
        ctl->usageError = true;
        return false;
    }
    vfmigShellPrintCommandHelp(ctl, def);
    return true;
}


static void
vfmigPrintVersionTriplet(const char *label, unsigned long long v)
{
    printf("%s %llu.%llu.%llu\n", label,
           v / 1000000, (v / 1000) % 1000, v % 1000);
}


static bool
cmdVersion(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    unsigned long libVer = 0;
    unsigned long hvVer = 0;
    unsigned long daemonVer = 0;
    const char *hvType;
    virConnectPtr conn;

    printf(_("vfmig %1$s\n"), VERSION);
    vfmigPrintVersionTriplet(_("Compiled against libvirt"), LIBVIR_VERSION_NUMBER);
    if (virGetVersion(&libVer, NULL, NULL) == 0)
        vfmigPrintVersionTriplet(_("Using libvirt library"), libVer);

    if (vfmigCmdGetBool(cmd, "local"))
        return true;

    if (!(conn = vfmigShellGetConnection(ctl)))
        return false;

    if (virConnectGetLibVersion(conn, &daemonVer) == 0)
        vfmigPrintVersionTriplet(_("Running against daemon"), daemonVer);
    if ((hvType = virConnectGetType(conn)) &&
        virConnectGetVersion(conn, &hvVer) == 0) {
        g_autofree char *label = g_strdup_printf(_("Running hypervisor: %1$s"),
                                                 hvType);

        vfmigPrintVersionTriplet(label, hvVer);
    }
    return true;
}


static const vfmigCmdOptDef optsVersion[] = {
    { "local", VFMIG_OPT_BOOL, false,
      N_("do not connect to libvirt; show only local versions") },
    { NULL, 0, false, NULL }
};

const vfmigCmdDef vfmigGenericCmds[] = {
    { "help", cmdHelp, optsHelp,
      N_("print help"),
      N_("Prints the list of commands, or the description of one command.") },
    { "version", cmdVersion, optsVersion,
      N_("show versions"),
      N_("Prints the versions of vfmig and of the libvirt library, and, "
         "through the connection given by -c, of the libvirt daemon and "
         "the hypervisor.") },
    { NULL, NULL, NULL, NULL, NULL }
};


void
vfmigPrintJSONError(vfmigCtl *ctl)
{
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
    g_autofree char *out = NULL;

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "error", vfmigGetLastErrorMessage());
    vfmigJSONEndObject(w);
    out = vfmigJSONWriterFinish(w);
    fputs(out, stdout);
    ctl->jsonPrinted = true;
}


int
main(int argc, char **argv)
{
    static const struct option longOpts[] = {
        { "connect", required_argument, NULL, 'c' },
        { "debug", no_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    vfmigCtl ctl = {
        .groups = vfmigCmdGroups,
        .groupNames = vfmigCmdGroupNames,
        .localOnly = vfmigLocalOnlyCmds,
    };
    vfmigCmd cmd = { 0 };
    const vfmigCmdDef *def;
    int ret = VFMIG_EXIT_USAGE;
    int c;
    int rc;

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

    ctl.progname = g_path_get_basename(argv[0]);

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:c:hV", longOpts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (!*optarg) {
                vfmigShellUsageError(&ctl, "%s", _("option -c needs a non-empty URI"));
                goto cleanup;
            }
            if (ctl.uri) {
                vfmigShellUsageError(&ctl, _("option -c given twice ('%1$s', then '%2$s')"),
                                     ctl.uri, optarg);
                goto cleanup;
            }
            ctl.uri = g_strdup(optarg);
            break;
        case 'D':
            vfmigLogSetDebug(true);
            break;
        case 'h':
            vfmigUsage(&ctl);
            ret = VFMIG_EXIT_OK;
            goto cleanup;
        case 'V':
            printf("%s\n", VERSION);
            ret = VFMIG_EXIT_OK;
            goto cleanup;
        case ':':
            vfmigShellUsageError(&ctl, _("option '%1$s' needs a value"),
                                 argv[optind - 1]);
            goto cleanup;
        case '?':
        default:
            if (optopt)
                vfmigShellUsageError(&ctl, _("unknown option '-%1$c'"), optopt);
            else
                vfmigShellUsageError(&ctl, _("unknown option '%1$s'"),
                                     argv[optind - 1]);
            goto cleanup;
        }
    }

    if (optind >= argc) {
        vfmigShellUsageError(&ctl, "%s", _("no command given"));
        goto cleanup;
    }

    VFMIG_DEBUG("%s %s: command '%s'", ctl.progname, VERSION, argv[optind]);

    /* the bash completion's (as virsh's `complete`): not listed */
    if (g_str_equal(argv[optind], "complete")) {
        int i = optind + 1;

        if (i < argc && g_str_equal(argv[i], "--"))
            i++;
        vfmigShellComplete(&ctl, argc - i, argv + i);
        ret = VFMIG_EXIT_OK;
        goto cleanup;
    }

    if (!(def = vfmigShellFindCommand(&ctl, argv[optind]))) {
        vfmigShellUsageError(&ctl, _("unknown command '%1$s'"), argv[optind]);
        goto cleanup;
    }

    rc = vfmigShellParseCommand(&ctl, def, argc - optind, argv + optind, &cmd);
    if (rc != 0) {
        ret = rc > 0 ? VFMIG_EXIT_OK : VFMIG_EXIT_USAGE;
        goto cleanup;
    }
    if (!vfmigShellCheckConnect(&ctl, def)) {
        if (!ctl.usageError) {
            vfmigShellReportError(&ctl);
            ret = VFMIG_EXIT_FAILURE;
        }
        goto cleanup;
    }

    if (def->handler(&ctl, &cmd)) {
        ret = VFMIG_EXIT_OK;
    } else if (ctl.usageError) {
        ret = VFMIG_EXIT_USAGE;
    } else {
        /* --json: one object on standard output whatever failed */
        if (vfmigCmdGetBool(&cmd, "json") && !ctl.jsonPrinted)
            vfmigPrintJSONError(&ctl);
        vfmigShellReportError(&ctl);
        ret = VFMIG_EXIT_FAILURE;
    }

 cleanup:
    vfmigShellCmdClear(&cmd);
    if (ctl.conn)
        virConnectClose(ctl.conn);
    g_free(ctl.uri);
    g_free((char *) ctl.progname);
    return ret;
}
