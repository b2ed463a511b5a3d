/*
 * virt-vfmig-domain.c: virt-vfmig domain-prepare, and the table of the
 * domain commands
 *
 * The handler fetches the domain's persistent XML from libvirt, asks the
 * domain's QEMU for its vfio-pci properties, lets vfmigdomainprepare.h
 * decide, prints each change with its explanation, and defines the result
 * (or, with --dry-run, prints the XML diff and defines nothing).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "virt-vfmig.h"
#include "vfmigdiff.h"
#include "vfmigdomainprepare.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigstring.h"

/* --link-mbps: up to 10 Tbit/s */
#define VFMIG_DOMAIN_LINK_MBPS_MAX 10000000


virDomainPtr
vfmigDomainLookup(virConnectPtr conn,
                  const char *name)
{
    virDomainPtr dom;
    guint64 id;

    if ((dom = virDomainLookupByName(conn, name)))
        return dom;
    if (strlen(name) == VIR_UUID_STRING_BUFLEN - 1 &&
        (dom = virDomainLookupByUUIDString(conn, name)))
        return dom;
    if (g_ascii_string_to_unsigned(name, 10, 1, G_MAXINT, &id, NULL) &&
        (dom = virDomainLookupByID(conn, (int) id)))
        return dom;
    vfmigReportError(VFMIG_ERR_LIBVIRT,
                     _("libvirt has no domain '%1$s' (by name, UUID or ID)"),
                     name);
    return NULL;
}


/* Each line of @text escaped for a terminal, and the newline. */
static void
vfmigDomainPrintLines(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    size_t i;

    for (i = 0; lines[i]; i++) {
        g_autofree char *line = NULL;

        if (!lines[i + 1] && !*lines[i])
            break;
        line = vfmigStringEscapeText(lines[i]);
        printf("%s\n", line);
    }
}


static void
vfmigDomainPrintResult(const vfmigDomainPrepareResult *res)
{
    size_t i;

    for (i = 0; i < res->changes->len; i++) {
        const vfmigDomainPrepareChange *c = g_ptr_array_index(res->changes, i);
        g_autofree char *what = vfmigStringEscapeText(c->what);
        g_autofree char *why = vfmigStringEscapeText(c->why);

        printf("  * %s\n      %s\n", what, why);
    }
    for (i = 0; i < res->notes->len; i++) {
        g_autofree char *note = vfmigStringEscapeText(g_ptr_array_index(res->notes, i));

        printf(_("note: %1$s\n"), note);
    }
}


/* An enum option: NULL leaves *@value at 0; an unknown word (or the
 * enum's "default") is a usage error. */
static int
vfmigDomainOptEnum(vfmigCtl *ctl,
                   const vfmigCmd *cmd,
                   const char *name,
                   int (*fromString)(const char *),
                   const char *words,
                   int *value)
{
    const char *str = vfmigCmdGetString(cmd, name);

    *value = 0;
    if (!str)
        return 0;
    if ((*value = fromString(str)) <= 0) {
        vfmigShellUsageError(ctl,
                             _("command '%1$s': option --%2$s wants %3$s, not '%4$s'"),
                             cmd->def->name, name, words, str);
        return -1;
    }
    return 0;
}


/* What the domain's QEMU says of vfio-pci; @props and @why keep what
 * @qemu points to. */
static void
vfmigDomainProbeQEMU(const char *xml,
                     char **emulator,
                     GStrv *props,
                     char **why,
                     vfmigDomainPrepareQEMU *qemu)
{
    int rc;

    memset(qemu, 0, sizeof(*qemu));
    if ((rc = vfmigDomainPrepareGetEmulator(xml, emulator)) <= 0) {
        *why = g_strdup(rc < 0 ? vfmigGetLastErrorMessage() :
                        _("the domain XML names no <emulator>"));
        vfmigResetLastError();
        qemu->why = *why;
        return;
    }
    qemu->emulator = *emulator;
    if (vfmigDomainPrepareProbeQEMU(*emulator, VFMIG_QEMU_PROBE_TIMEOUT_MS,
                                    props) < 0) {
        *why = g_strdup(vfmigGetLastErrorMessage());
        vfmigResetLastError();
        qemu->why = *why;
        return;
    }
    qemu->state = VFMIG_DOMAIN_PREPARE_QEMU_KNOWN;
    qemu->properties = *props;
}


static bool
cmdDomainPrepare(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "domain");
    bool dryRun = vfmigCmdGetBool(cmd, "dry-run");
    g_autoptr(vfmigDomainPrepareResult) res = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *emulator = NULL;
    g_autofree char *why = NULL;
    g_autofree char *domName = NULL;
    g_auto(GStrv) props = NULL;
    vfmigDomainPrepareOptions opts = { 0 };
    vfmigNodeDevProbePaths paths;
    virConnectPtr conn;
    virDomainPtr dom = NULL;
    virDomainPtr defined = NULL;
    unsigned int flags = VIR_DOMAIN_XML_INACTIVE;
    g_autofree char *now = NULL;
    guint64 targetMs = 0;
    guint64 linkMbps = 0;
    const char *str;
    int onFailure;
    int precopy;
    int persistent;
    int active;
    bool ret = false;

    if ((str = vfmigCmdGetString(cmd, "target-ms")) &&
        !g_ascii_string_to_unsigned(str, 10, 1, VFMIG_DOMAIN_POLICY_TARGET_MS_MAX,
                                    &targetMs, NULL)) {
        vfmigShellUsageError(ctl,
                             _("command '%1$s': option --%2$s wants a whole number from 1 to %3$d, not '%4$s'"),
                             cmd->def->name, "target-ms",
                             VFMIG_DOMAIN_POLICY_TARGET_MS_MAX, str);
        return false;
    }
    if ((str = vfmigCmdGetString(cmd, "link-mbps")) &&
        !g_ascii_string_to_unsigned(str, 10, 1, VFMIG_DOMAIN_LINK_MBPS_MAX,
                                    &linkMbps, NULL)) {
        vfmigShellUsageError(ctl,
                             _("command '%1$s': option --%2$s wants a whole number from 1 to %3$d, not '%4$s'"),
                             cmd->def->name, "link-mbps",
                             VFMIG_DOMAIN_LINK_MBPS_MAX, str);
        return false;
    }
    if (vfmigDomainOptEnum(ctl, cmd, "on-failure",
                           vfmigDomainPolicyOnFailureTypeFromString,
                           _("abort or best-effort"), &onFailure) < 0 ||
        vfmigDomainOptEnum(ctl, cmd, "precopy",
                           vfmigDomainPolicyPrecopyTypeFromString,
                           _("required, preferred or off"), &precopy) < 0)
        return false;

    if (!(conn = vfmigShellGetConnection(ctl)))
        return false;
    if (!(dom = vfmigDomainLookup(conn, name)))
        return false;
    domName = g_strdup(virDomainGetName(dom));

    if ((persistent = virDomainIsPersistent(dom)) < 0 ||
        (active = virDomainIsActive(dom)) < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot tell whether domain '%1$s' is persistent and running: %2$s"),
                         domName, virGetLastErrorMessage());
        goto cleanup;
    }
    if (!persistent) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("domain '%1$s' is transient: libvirt keeps no definition of it to change; make it persistent first (virsh dumpxml %2$s > %3$s.xml; virsh define %4$s.xml), then run domain-prepare again"),
                         domName, domName, domName, domName);
        goto cleanup;
    }

    /* the passwords of the definition too, unless it is only shown */
    if (!dryRun)
        flags |= VIR_DOMAIN_XML_SECURE;
    if (!(xml = virDomainGetXMLDesc(dom, flags))) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot get the XML of domain '%1$s': %2$s"),
                         domName, virGetLastErrorMessage());
        goto cleanup;
    }

    vfmigNodeDevProbePathsFromEnv(&paths);
    opts.paths = &paths;
    opts.targetMs = targetMs;
    opts.onFailure = onFailure;
    opts.precopy = precopy;
    /* Mbit/s: 10^6 bits, 125000 bytes */
    opts.linkBps = linkMbps * 125000;
    vfmigDomainProbeQEMU(xml, &emulator, &props, &why, &opts.qemu);

    if (vfmigDomainPrepare(xml, &opts, &res) < 0)
        goto cleanup;

    if (res->changes->len == 0) {
        printf(_("Domain '%1$s' is prepared already: nothing to change.\n"), domName);
        vfmigDomainPrintResult(res);
        ret = true;
        goto cleanup;
    }

    printf(ngettext("Domain '%1$s': %2$u change.\n",
                    "Domain '%1$s': %2$u changes.\n", res->changes->len),
           domName, res->changes->len);
    vfmigDomainPrintResult(res);

    if (dryRun) {
        g_autofree char *oldName = g_strdup_printf(_("%1$s (defined)"), domName);
        g_autofree char *newName = g_strdup_printf(_("%1$s (prepared)"), domName);
        g_autofree char *diff = vfmigDiffUnified(oldName, newName, res->oldXML,
                                                 res->newXML, VFMIG_DIFF_CONTEXT);

        printf("\n");
        vfmigDomainPrintLines(diff);
        printf(_("Dry run: domain '%1$s' was not changed.\n"), domName);
        ret = true;
        goto cleanup;
    }

    /* libvirt has no compare-and-swap of a definition: read it again, and
     * define only over the one the changes were made to; another
     * client's change made meanwhile (virsh edit, Nova) is not lost */
    if (!(now = virDomainGetXMLDesc(dom, flags))) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot get the XML of domain '%1$s' again: %2$s"),
                         domName, virGetLastErrorMessage());
        goto cleanup;
    }
    if (!g_str_equal(now, xml)) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("the definition of domain '%1$s' changed while domain-prepare worked on it (another client defined it): nothing was defined, that change is kept; run domain-prepare again"),
                         domName);
        goto cleanup;
    }
    if (!(defined = virDomainDefineXML(conn, res->newXML))) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("libvirt refused the prepared definition of domain '%1$s', which is unchanged: %2$s"),
                         domName, virGetLastErrorMessage());
        goto cleanup;
    }
    printf(_("Domain '%1$s' defined with the changes.\n"), domName);
    if (active)
        printf(_("The domain is running: the changes apply when it next starts; until then it runs, and migrates, as it was started.\n"));
    ret = true;

 cleanup:
    if (defined)
        virDomainFree(defined);
    if (dom)
        virDomainFree(dom);
    return ret;
}


static const vfmigCmdOptDef optsDomainPrepare[] = {
    { "domain", VFMIG_OPT_ARG, true, N_("domain name, UUID or ID") },
    { "target-ms", VFMIG_OPT_STRING, false,
      N_("the domain's downtime target in milliseconds (default: kept; 300 in a new policy)") },
    { "on-failure", VFMIG_OPT_STRING, false,
      N_("abort or best-effort: what a migration does when the target cannot be met (default: kept; abort in a new policy)") },
    { "precopy", VFMIG_OPT_STRING, false,
      N_("required, preferred or off, for every hostdev (default: kept; a new entry: preferred when the VF can pre-copy, else off)") },
    { "link-mbps", VFMIG_OPT_STRING, false,
      N_("the migration link's speed in Mbit/s (as ethtool gives it), at which the least downtime of a VF without DMA dirty tracking is stated (default: 10 Gbit/s assumed)") },
    { "dry-run", VFMIG_OPT_BOOL, false,
      N_("print the changes and the diff of the domain XML; change nothing") },
    { NULL, 0, false, NULL }
};

const vfmigCmdDef vfmigDomainCmds[] = {
    { "domain-prepare", cmdDomainPrepare, optsDomainPrepare,
      N_("prepare a domain for live migration of its VFs"),
      N_("Gives every PCI hostdev of the domain's persistent definition a "
         "user alias, and the domain a migration policy in its <metadata> "
         "with each VF's identity read from this host (the destination's "
         "hook checks it); where the VF has no DMA dirty tracking, the "
         "vfio-pci property enable-migration=on in <qemu:override> (QEMU "
         "then counts all guest RAM as dirty, so the downtime is at least "
         "guest RAM / link bandwidth, which it states: migrate with a "
         "switchover bandwidth); where the domain's QEMU has it, "
         "migration-events=on. "
         "Prints each change and why, and defines the domain; a running "
         "domain gets them at its next start.  What is in place already is "
         "left, so a second run changes nothing.  A VF that is not on a "
         "VFIO migration driver is an error.") },
    { "host-policy", cmdHostPolicy, vfmigOptsHostPolicy,
      N_("the host default policy of a running domain: what it would set, and why"),
      N_("Decides, as virt-vfmigd does at a domain's start and on its sweep, "
         "the migration policy the host policy file gives the running "
         "domain (its Nova flavor's entry, else the file's <default>) and "
         "prints it with the reason and every hostdev: NOTHING (the domain "
         "has a policy of its own, or nothing applies), WRITE or KEEP.  The "
         "policy has origin='host', names each hostdev by libvirt's alias "
         "of it, and holds the identity of each VF that migrates here.  "
         "With --apply, a WRITE is set as the domain's live metadata; its "
         "definition is never changed.") },
    { "host-policy-check", cmdHostPolicyCheck, vfmigOptsHostPolicyCheck,
      N_("check a host policy file"),
      N_("Reads a host policy file (default: the host's) as virt-vfmigd "
         "does and prints what each flavor's entry and the default give, "
         "or why the file is refused.  Needs no libvirt.") },
    { "migrate", cmdMigrate, vfmigOptsMigrate,
      N_("live-migrate a domain, steering its switchover"),
      N_("Live-migrates DOMAIN to DESTURI through libvirt and steers QEMU's "
         "switchover with the domain's vfmig policy: the downtime-limit is "
         "held low until every VF's initial pre-copy data went out and the "
         "predicted downtime meets the target.  On a terminal one line "
         "shows the RAM left, each VF's state, initial and dirty bytes and "
         "the predicted downtime; the report sets libvirt's measured "
         "downtime against the prediction.  Runs on the source host; "
         "virt-vfmigd there leaves this migration alone.") },
    { NULL, NULL, NULL, NULL, NULL }
};
