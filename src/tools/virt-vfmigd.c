/*
 * virt-vfmigd.c: the daemon that steers the switchover of every migration
 * of a domain with a vfmig policy
 *
 * Parses its options, calls vfmigDaemonRun (src/qemu/vfmigdaemon.h) and
 * prints what the library reports, one line each on stderr (systemd's
 * journal takes it).  SIGTERM, SIGINT and SIGHUP stop it; limits it holds
 * are handed back first.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <locale.h>
#include <signal.h>
#include <stdio.h>

#include <glib.h>

#include "vfmigdaemon.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmigstring.h"

#define VFMIGD_EXIT_USAGE 2

static volatile sig_atomic_t vfmigdQuit;

/* GOption's types: a flag is a gboolean (an int), not a bool */
typedef struct _vfmigdOptions vfmigdOptions;
struct _vfmigdOptions {
    char *uri;
    int intervalMs;
    char *stateFile;
    gboolean noStateFile;
    int overheadMs;
    int loadMs;
    gboolean noGuardian;
    char *hostPolicy;
    gboolean noHostPolicy;
    gboolean verbose;
    gboolean debug;
    gboolean version;
};


static void
vfmigdOptionsClear(vfmigdOptions *opts)
{
    g_clear_pointer(&opts->uri, g_free);
    g_clear_pointer(&opts->stateFile, g_free);
    g_clear_pointer(&opts->hostPolicy, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(vfmigdOptions, vfmigdOptionsClear);


static void
vfmigdOnSignal(int sig G_GNUC_UNUSED)
{
    vfmigdQuit = 1;
}


static void
vfmigdReport(void *opaque,
             vfmigDaemonReportLevel level,
             const char *line)
{
    vfmigdOptions *opts = opaque;
    g_autofree char *escaped = NULL;

    if (level == VFMIG_DAEMON_REPORT_PROGRESS && !opts->verbose)
        return;
    escaped = vfmigStringEscapeText(line);
    if (level == VFMIG_DAEMON_REPORT_WARNING)
        fprintf(stderr, _("virt-vfmigd: warning: %1$s\n"), escaped);
    else
        fprintf(stderr, "virt-vfmigd: %s\n", escaped);
    fflush(stderr);
}


int
main(int argc,
     char **argv)
{
    g_auto(vfmigdOptions) opts = {
        .overheadMs = 0,
        .loadMs = 0,
    };
    GOptionEntry entries[] = {
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &opts.uri,
          N_("libvirt connection URI (default: libvirt's default, as virsh)"), N_("URI") },
        { "interval", 'i', 0, G_OPTION_ARG_INT, &opts.intervalMs,
          N_("steer every MS milliseconds (default 200)"), N_("MS") },
        { "state-file", 0, 0, G_OPTION_ARG_FILENAME, &opts.stateFile,
          N_("where the learned libvirt overhead is kept (default /var/lib/vfmig/vfmigd.state)"),
          N_("FILE") },
        { "no-state-file", 0, 0, G_OPTION_ARG_NONE, &opts.noStateFile,
          N_("keep nothing learned between runs"), NULL },
        { "overhead-ms", 0, 0, G_OPTION_ARG_INT, &opts.overheadMs,
          N_("libvirt's switchover overhead to assume until one is learned (default 0)"),
          N_("MS") },
        { "load-ms", 0, 0, G_OPTION_ARG_INT, &opts.loadMs,
          N_("hold the switchover MS milliseconds after the devices' initial data went out, for a QEMU without switchover-ack (default 0)"),
          N_("MS") },
        { "host-policy", 0, 0, G_OPTION_ARG_FILENAME, &opts.hostPolicy,
          N_("the host default policy for domains without a policy of their own (default: host-policy.xml in vfmig's configuration directory, /etc/vfmig)"),
          N_("FILE") },
        { "no-host-policy", 0, 0, G_OPTION_ARG_NONE, &opts.noHostPolicy,
          N_("give no domain a host default policy"), NULL },
        { "no-guardian", 0, 0, G_OPTION_ARG_NONE, &opts.noGuardian,
          N_("no guardian process: a killed daemon may leave a migration held"), NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opts.verbose,
          N_("print every step of every migration"), NULL },
        { "debug", 'd', 0, G_OPTION_ARG_NONE, &opts.debug,
          N_("debug output (as VFMIG_DEBUG=1)"), NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &opts.version,
          N_("print the version and exit"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) octx = NULL;
    g_autoptr(GError) gerr = NULL;
    vfmigDaemonConfig config = { 0 };
    struct sigaction sa = { .sa_handler = vfmigdOnSignal };
    int ret;

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

    octx = g_option_context_new(NULL);
    g_option_context_set_translation_domain(octx, GETTEXT_PACKAGE);
    g_option_context_set_summary(octx,
                                 _("Steers the switchover of every outgoing migration of a domain that has a\n"
                                   "vfmig migration policy, from its devices' pre-copy estimates, so that\n"
                                   "the downtime meets the policy's target.  See virt-vfmigd(8)."));
    g_option_context_add_main_entries(octx, entries, GETTEXT_PACKAGE);
    if (!g_option_context_parse(octx, &argc, &argv, &gerr)) {
        fprintf(stderr, _("virt-vfmigd: %1$s\nTry 'virt-vfmigd --help' for more information.\n"),
                gerr->message);
        return VFMIGD_EXIT_USAGE;
    }
    if (opts.version) {
        printf("virt-vfmigd (vfmig) %s\n", VERSION);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, _("virt-vfmigd: unexpected argument '%1$s'\nTry 'virt-vfmigd --help' for more information.\n"),
                argv[1]);
        return VFMIGD_EXIT_USAGE;
    }
    if (opts.intervalMs < 0 || opts.intervalMs > 10000 ||
        opts.overheadMs < 0 ||
        (uint64_t) opts.overheadMs > vfmigDowntimeParamMaxMs(VFMIG_DOWNTIME_PARAM_OVERHEAD) ||
        opts.loadMs < 0 ||
        (uint64_t) opts.loadMs > vfmigDowntimeParamMaxMs(VFMIG_DOWNTIME_PARAM_LOAD)) {
        fprintf(stderr, "%s",
                _("virt-vfmigd: --interval takes 1 to 10000 ms, --overhead-ms and --load-ms 0 to 60000 ms\n"
                  "Try 'virt-vfmigd --help' for more information.\n"));
        return VFMIGD_EXIT_USAGE;
    }
    if (opts.noStateFile && opts.stateFile) {
        fprintf(stderr, "%s",
                _("virt-vfmigd: --state-file and --no-state-file exclude each other\n"
                  "Try 'virt-vfmigd --help' for more information.\n"));
        return VFMIGD_EXIT_USAGE;
    }
    if (opts.noHostPolicy && opts.hostPolicy) {
        fprintf(stderr, "%s",
                _("virt-vfmigd: --host-policy and --no-host-policy exclude each other\n"
                  "Try 'virt-vfmigd --help' for more information.\n"));
        return VFMIGD_EXIT_USAGE;
    }
    if (opts.debug)
        vfmigLogSetDebug(true);

    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    config.uri = opts.uri;
    config.intervalMs = opts.intervalMs;
    config.stateFile = opts.noStateFile ? NULL :
                       opts.stateFile ? opts.stateFile : VFMIG_DAEMON_STATE_FILE;
    /* ms to the settings' us: the one conversion (the range was checked) */
    if (vfmigDowntimeSettingsSetMs(&config.downtime, VFMIG_DOWNTIME_PARAM_OVERHEAD,
                                   opts.overheadMs) < 0 ||
        vfmigDowntimeSettingsSetMs(&config.downtime, VFMIG_DOWNTIME_PARAM_LOAD,
                                   opts.loadMs) < 0) {
        fprintf(stderr, "virt-vfmigd: %s\n", vfmigGetLastErrorMessage());
        return VFMIGD_EXIT_USAGE;
    }
    config.noGuardian = opts.noGuardian;
    config.hostPolicyPath = opts.noHostPolicy ? NULL :
                            opts.hostPolicy ? opts.hostPolicy : VFMIG_HOST_POLICY_PATH;
    vfmigVFIOPathsFromEnv(&config.paths.vfio);
    vfmigNodeDevProbePathsFromEnv(&config.paths.probe);
    config.report = vfmigdReport;
    config.opaque = &opts;

    ret = vfmigDaemonRun(&config, &vfmigdQuit);
    if (ret < 0) {
        g_autofree char *msg = vfmigStringEscapeText(vfmigGetLastErrorMessage());

        fprintf(stderr, _("virt-vfmigd: error: %1$s\n"), msg);
    } else {
        fprintf(stderr, "%s", _("virt-vfmigd: stopped\n"));
    }
    return ret < 0 ? 1 : 0;
}
