/*
 * vfmig-hook.c: vfmig-libvirt-hook, vfmig's libvirt QEMU hook
 *
 * Installed as <sysconfdir>/libvirt/hooks/qemu.d/50-vfmig.  libvirtd runs
 * it as
 *
 *     50-vfmig DOMAIN OPERATION SUB-OPERATION EXTRA   (domain XML on stdin)
 *
 * On "migrate begin" (the destination of an incoming migration, before
 * any state moves) it refuses a domain whose VFs cannot take the source's
 * state here: one line per refused hostdev on stderr, which libvirt puts
 * into the migration's error, and exit status 1.  It prints nothing on
 * stdout, ever: libvirt would take that as a replacement domain XML.
 * Everything else exits 0 (see vfmighook.h).  It never calls libvirt
 * (a hook that does deadlocks the daemon), opens no VFIO device and
 * writes no file.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmighook.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmigstring.h"

#define VFMIG_HOOK_EXIT_REFUSED 1
#define VFMIG_HOOK_EXIT_USAGE 2


static void
vfmigHookUsage(FILE *out,
               const char *progname)
{
    fprintf(out,
            _("Usage: %1$s DOMAIN OPERATION SUB-OPERATION [EXTRA] < DOMAIN-XML\n"
              "vfmig's libvirt QEMU hook: on 'migrate begin' it refuses an incoming\n"
              "migration whose VFs cannot take the source's device state on this host.\n"
              "libvirtd runs it from its hooks/qemu.d directory; see vfmig-libvirt-hook(8).\n"
              "\n"
              "Exit status: 0 nothing to refuse, 1 the migration is refused (the\n"
              "reasons on stderr), 2 bad command line.\n"),
            progname);
}


/* One line per refused hostdev; a note only, with @note. */
static void
vfmigHookPrintRefused(const vfmigHookResult *res,
                      bool note)
{
    size_t i;

    for (i = 0; i < res->devices->len; i++) {
        const vfmigHookDevice *dev = g_ptr_array_index(res->devices, i);
        g_autofree char *name = NULL;
        g_autofree char *reasons = NULL;
        g_autofree char *line = NULL;
        g_autofree char *escaped = NULL;

        if (!dev->refused)
            continue;
        name = vfmigHookDeviceName(dev);
        reasons = vfmigHookDeviceReasons(dev);
        if (note)
            line = g_strdup_printf(_("vfmig: note: an incoming migration would be refused: %1$s: %2$s"),
                                   name, reasons);
        else
            line = g_strdup_printf(_("vfmig: cannot migrate %1$s: %2$s"),
                                   name, reasons);
        /* one line each, whatever a sysfs file or the XML held */
        escaped = vfmigStringEscapeText(line);
        fprintf(stderr, "%s\n", escaped);
    }
}


int
main(int argc,
     char **argv)
{
    g_autoptr(vfmigHookResult) res = NULL;
    g_autofree char *progname = NULL;
    g_autofree char *xml = NULL;
    vfmigNodeDevProbePaths paths;
    const char *domain;
    vfmigHookOp op;
    gint64 start = g_get_monotonic_time();
    int rc;

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

    progname = g_path_get_basename(argv[0]);
    if (argc == 2 && (g_str_equal(argv[1], "--help") ||
                      g_str_equal(argv[1], "-h"))) {
        vfmigHookUsage(stdout, progname);
        return 0;
    }
    if (argc == 2 && (g_str_equal(argv[1], "--version") ||
                      g_str_equal(argv[1], "-V"))) {
        printf("%s (vfmig) %s\n", progname, VERSION);
        return 0;
    }
    if (argc < 4 || argc > 5) {
        fprintf(stderr, _("%1$s: expected DOMAIN OPERATION SUB-OPERATION [EXTRA], as libvirtd gives a hook\n"),
                progname);
        vfmigHookUsage(stderr, progname);
        return VFMIG_HOOK_EXIT_USAGE;
    }
    domain = argv[1];

    VFMIG_DEBUG("domain '%s', operation '%s', sub-operation '%s', extra '%s'",
                domain, argv[2], argv[3], argc > 4 ? argv[4] : "");

    /* every other call: at once, without reading the XML */
    if ((op = vfmigHookOpFromArgs(argv[2], argv[3])) == VFMIG_HOOK_OP_OTHER) {
        VFMIG_DEBUG("not a call vfmig acts on: exit 0");
        return 0;
    }

    vfmigNodeDevProbePathsFromEnv(&paths);
    if (vfmigFileReadFD(_("domain XML"), _("standard input"), STDIN_FILENO,
                        VFMIG_HOOK_XML_MAX, &xml, NULL) < 0)
        rc = -1;
    else
        rc = vfmigHookCheck(argv[2], argv[3], xml, &paths, &res);

    if (rc < 0) {
        g_autofree char *msg = vfmigStringEscapeText(vfmigGetLastErrorMessage());

        VFMIG_DEBUG("check failed after %lld us", (long long) (g_get_monotonic_time() - start));
        /* a start never fails for vfmig; a migration it cannot check does */
        if (op == VFMIG_HOOK_OP_PREPARE) {
            fprintf(stderr, _("vfmig: note: cannot check domain '%1$s': %2$s\n"),
                    domain, msg);
            return 0;
        }
        fprintf(stderr, _("vfmig: cannot check the incoming domain '%1$s' for migration: %2$s\n"),
                domain, msg);
        return VFMIG_HOOK_EXIT_REFUSED;
    }

    VFMIG_DEBUG("decided in %lld us", (long long) (g_get_monotonic_time() - start));
    if (res->verdict == VFMIG_HOOK_REFUSED) {
        vfmigHookPrintRefused(res, false);
        return VFMIG_HOOK_EXIT_REFUSED;
    }
    /* prepare begin: a note in libvirtd's log, never a failed start */
    if (res->op == VFMIG_HOOK_OP_PREPARE && res->wouldRefuse)
        vfmigHookPrintRefused(res, true);
    return 0;
}
