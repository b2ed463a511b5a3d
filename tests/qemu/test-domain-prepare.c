/*
 * test-domain-prepare.c: virt-vfmig domain-prepare's decision against
 * fake sysfs trees
 *
 * Each test builds a tree in a temporary directory (vfmig_testdev VFs
 * with our vfio_migration/ files: one with DMA logging, as on Linux 6.1,
 * one without, as on Debian's 6.12; VFs on a host driver, on no driver,
 * on a VFIO driver that publishes nothing, without pre-copy; every one's
 * modalias, and a module tree whose modules.alias maps them to
 * vfmig_testdev, for the hostdevs with managed='yes' that libvirt binds
 * itself), prepares a domain XML from domainpreparedata/ and compares the
 * result with
 * NAME.out.xml there (VFMIG_TEST_REGENERATE=1 rewrites those files), then
 * prepares the result again, which must change nothing.  Fake QEMU
 * binaries (shell scripts) stand for the emulator's property list.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmigtestfs.h"
#include "vfmigtestpci.h"
#include "vfmigdiff.h"
#include "vfmigdomainprepare.h"
#include "vfmigerror.h"
#include "vfmighook.h"

#define VF61 "0000:00:02.0"         /* DMA logging: device dirty tracking */
#define VF612 "0000:00:03.0"        /* no DMA logging: Debian's 6.12 */
#define VFHOST "0000:00:04.0"       /* on a host driver */
#define VFNONE "0000:00:05.0"       /* bound to no driver */
#define VFUNKNOWN "0000:00:06.0"    /* a VFIO driver that tells nothing */
#define VFNOPRE "0000:00:07.0"      /* no pre-copy */


/* What QEMU 10's vfio-pci lists, in part; and QEMU 9.0's (no
 * migration-events) and 8.0's (no enable-migration either). */
static const char *const qemu10Props[] = {
    "host", "enable-migration", "migration-events", "x-pre-copy-dirty-page-tracking", NULL,
};
static const char *const qemu90Props[] = {
    "host", "enable-migration", "x-pre-copy-dirty-page-tracking", NULL,
};
static const char *const qemu80Props[] = {
    "host", "x-pre-copy-dirty-page-tracking", NULL,
};

typedef struct {
    char *root;
    char *sys;
    char *modules;
    vfmigNodeDevProbePaths paths;
    vfmigDomainPrepareOptions opts;
} Fake;


static void
modulesFile(Fake *f,
            const char *name,
            const char *contents)
{
    g_autofree char *path = g_build_filename(f->modules, name, NULL);

    vfmigTestWriteFile(path, contents);
}


static void
fakeSetup(Fake *f,
          gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *config = NULL;

    f->root = g_dir_make_tmp("vfmig-prepare-XXXXXX", &err);
    g_assert_no_error(err);
    f->sys = g_build_filename(f->root, "sys", NULL);
    config = g_build_filename(f->root, "config", NULL);
    vfmigTestWriteFile(config, "# Linux/x86 6.12.57 Kernel Configuration\nCONFIG_VFIO=m\nCONFIG_IOMMUFD=m\n");
    memset(&f->paths, 0, sizeof(f->paths));
    f->paths.sysfsRoot = f->sys;
    f->paths.debugfsRoot = f->root;
    f->paths.devRoot = f->root;
    f->paths.procRoot = f->root;
    f->paths.cacheDir = "/nonexistent/cache";
    f->paths.kernelConfig = g_steal_pointer(&config);
    f->modules = g_build_filename(f->root, "modules", NULL);
    f->paths.modulesDir = f->modules;
    modulesFile(f, "modules.alias",
                "# Aliases extracted from modules themselves.\n"
                "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_testdev\n");
    modulesFile(f, "modules.dep",
                "updates/dkms/vfmig_testdev.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n");
    vfmigTestTestdev(f->sys, VF61, "stop-copy p2p pre-copy dma-logging\n", "on\n", 5);
    vfmigTestTestdev(f->sys, VF612, "stop-copy p2p pre-copy\n", "on\n", 6);
    vfmigTestPCI(f->sys, VFHOST, "0x1b36\n", "0x0005\n", "mlx5_core", false, 7);
    vfmigTestPCI(f->sys, VFNONE, "0x1b36\n", "0x0005\n", NULL, false, 8);
    vfmigTestPCI(f->sys, VFUNKNOWN, "0x1b36\n", "0x0005\n", "vfmig_testdev", true, 9);
    vfmigTestTestdev(f->sys, VFNOPRE, "stop-copy p2p\n", "off\n", 10);

    memset(&f->opts, 0, sizeof(f->opts));
    f->opts.paths = &f->paths;
    f->opts.qemu.state = VFMIG_DOMAIN_PREPARE_QEMU_KNOWN;
    f->opts.qemu.emulator = "/usr/bin/qemu-system-x86_64";
    f->opts.qemu.properties = (GStrv) qemu10Props;
    vfmigResetLastError();
}


static void
fakeTeardown(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    vfmigTestRmTree(f->root);
    g_free(f->root);
    g_free(f->sys);
    g_free(f->modules);
    g_free((char *) f->paths.kernelConfig);
}


static char *
dataPath(const char *name)
{
    return g_test_build_filename(G_TEST_DIST, "domainpreparedata", name, NULL);
}


static char *
readData(const char *name)
{
    g_autofree char *path = dataPath(name);
    g_autoptr(GError) err = NULL;
    char *data = NULL;

    g_file_get_contents(path, &data, NULL, &err);
    g_assert_no_error(err);
    return data;
}


static vfmigDomainPrepareResult *
prepare(Fake *f,
        const char *xml)
{
    vfmigDomainPrepareResult *res = NULL;

    if (vfmigDomainPrepare(xml, &f->opts, &res) < 0)
        g_error("vfmigDomainPrepare: %s", vfmigGetLastErrorMessage());
    g_assert_nonnull(res);
    return res;
}


/* Some change's summary contains @want. */
static bool
hasChange(const vfmigDomainPrepareResult *res,
          const char *want)
{
    size_t i;

    for (i = 0; i < res->changes->len; i++) {
        const vfmigDomainPrepareChange *c = g_ptr_array_index(res->changes, i);

        g_assert_nonnull(c->why);
        g_assert_cmpstr(c->why, !=, "");
        if (strstr(c->what, want))
            return true;
    }
    return false;
}


static bool
hasNote(const vfmigDomainPrepareResult *res,
        const char *want)
{
    size_t i;

    for (i = 0; i < res->notes->len; i++) {
        if (strstr(g_ptr_array_index(res->notes, i), want))
            return true;
    }
    return false;
}


static void
dumpChanges(const vfmigDomainPrepareResult *res)
{
    size_t i;

    for (i = 0; i < res->changes->len; i++) {
        const vfmigDomainPrepareChange *c = g_ptr_array_index(res->changes, i);

        g_test_message("change: %s", c->what);
    }
    for (i = 0; i < res->notes->len; i++)
        g_test_message("note: %s", (const char *) g_ptr_array_index(res->notes, i));
}


/*
 * Prepares domainpreparedata/@in, compares the result with @out, and
 * prepares that again: no change, the same XML.  Returns the first run's
 * result.
 */
static vfmigDomainPrepareResult *
checkFile(Fake *f,
          const char *in,
          const char *out)
{
    g_autofree char *xml = readData(in);
    g_autofree char *outPath = dataPath(out);
    g_autofree char *want = NULL;
    g_autofree char *diff = NULL;
    g_autoptr(vfmigDomainPrepareResult) again = NULL;
    g_autofree char *reformatted = NULL;
    vfmigDomainPrepareResult *res = prepare(f, xml);

    dumpChanges(res);
    g_assert_cmpuint(res->changes->len, >, 0);
    /* the input as formatted for the diff is the input where libvirt
     * formatted it */
    if (!strstr(xml, "xmlns:nova=\""))
        g_assert_cmpstr(res->oldXML, ==, xml);

    if (g_getenv("VFMIG_TEST_REGENERATE")) {
        g_autoptr(GError) err = NULL;

        g_file_set_contents(outPath, res->newXML, -1, &err);
        g_assert_no_error(err);
    }
    want = readData(out);
    diff = vfmigDiffUnified(out, "result", want, res->newXML, 3);
    if (*diff)
        g_error("%s differs from the expected output:\n%s", in, diff);

    /* idempotent: a second run finds everything in place */
    again = prepare(f, res->newXML);
    dumpChanges(again);
    g_assert_cmpuint(again->changes->len, ==, 0);
    g_assert_cmpstr(again->newXML, ==, again->oldXML);
    g_assert_cmpstr(again->newXML, ==, res->newXML);

    /* and so does a run on the XML as libvirt would give it back */
    reformatted = vfmigDomainPrepareFormatXML(res->newXML);
    g_assert_cmpstr(reformatted, ==, res->newXML);
    return res;
}


/* The destination hook, on a host with the same VFs, accepts the
 * prepared domain: the identity is what the hook compares. */
static void
assertHookAccepts(Fake *f,
                  const char *xml)
{
    g_autoptr(vfmigHookResult) hook = NULL;
    size_t i;

    if (vfmigHookCheck("migrate", "begin", xml, &f->paths, &hook) < 0)
        g_error("vfmigHookCheck: %s", vfmigGetLastErrorMessage());
    for (i = 0; i < hook->devices->len; i++) {
        g_autofree char *reasons = vfmigHookDeviceReasons(g_ptr_array_index(hook->devices, i));

        g_test_message("hook: %s", reasons);
    }
    g_assert_cmpint(hook->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_false(hook->wouldRefuse);
    g_assert_cmpuint(hook->devices->len, >, 0);
    g_assert_cmpuint(hook->notes->len, ==, 0);
}


/* Linux 6.1: DMA logging, so no enable-migration; QEMU 10 has
 * migration-events. */
static void
testDirtyTracking(Fake *f,
                  gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigDomainPrepareResult) res =
        checkFile(f, "hostdev.xml", "hostdev.out.xml");

    g_assert_true(hasChange(res, "migration policy <vfmig:migration> in <metadata>, downtime target 300 ms, on failure 'abort'"));
    g_assert_true(hasChange(res, "hostdev 0000:00:02.0: user alias 'ua-vfmig-0'"));
    g_assert_true(hasChange(res, "pre-copy mode 'preferred'"));
    g_assert_true(hasChange(res, "identity of the VF: driver 'vfmig_testdev', PCI id 1b36:0005, stream version 1, multi-load yes, state of 8388608 bytes"));
    g_assert_true(hasChange(res, "migration-events=on for 'ua-vfmig-0'"));
    g_assert_false(hasChange(res, "enable-migration"));
    g_assert_cmpuint(res->changes->len, ==, 6);
    g_assert_null(strstr(res->newXML, "enable-migration"));
    assertHookAccepts(f, res->newXML);
}


/* A definition that a migration with --persistent gave the host
 * default's live policy (origin='host', entries by libvirt's aliases,
 * which the definition does not have): replaced by the domain's own, as
 * when there is none. */
static void
testHostOrigin(Fake *f,
               gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = readData("hostdev.xml");
    g_autofree char *withHost = NULL;
    g_autofree char *want = NULL;
    g_autoptr(vfmigDomainPrepareResult) res = NULL;
    g_autoptr(vfmigDomainPrepareResult) plain = NULL;
    g_auto(GStrv) parts = g_strsplit(xml, "  <memory unit", 2);

    g_assert_cmpuint(g_strv_length(parts), ==, 2);
    withHost = g_strconcat(parts[0],
                           "  <metadata>\n"
                           "    <vfmig:migration xmlns:vfmig=\"http://vfmig.org/xmlns/libvirt/domain/1.0\" origin=\"host\" flavor=\"vf.gold\">\n"
                           "      <vfmig:downtime target-ms=\"1000\" on-failure=\"best-effort\"/>\n"
                           "      <vfmig:hostdev alias=\"hostdev0\">\n"
                           "        <vfmig:precopy mode=\"required\"/>\n"
                           "      </vfmig:hostdev>\n"
                           "    </vfmig:migration>\n"
                           "  </metadata>\n"
                           "  <memory unit", parts[1], NULL);
    res = prepare(f, withHost);
    dumpChanges(res);
    g_assert_true(hasChange(res, "the host default's migration policy (origin='host') is replaced by one of the domain's own"));
    g_assert_true(hasChange(res, "migration policy <vfmig:migration> in <metadata>, downtime target 300 ms, on failure 'abort'"));
    g_assert_null(strstr(res->newXML, "origin="));
    g_assert_null(strstr(res->newXML, "hostdev0"));

    /* the same policy as for the domain without one */
    plain = prepare(f, xml);
    want = readData("hostdev.out.xml");
    g_assert_cmpstr(plain->newXML, ==, want);
    g_assert_cmpstr(res->newXML, ==, want);
    assertHookAccepts(f, res->newXML);
}


/* The explanation of the enable-migration change; NULL when none. */
static const char *
enableMigrationWhy(const vfmigDomainPrepareResult *res)
{
    size_t i;

    for (i = 0; i < res->changes->len; i++) {
        const vfmigDomainPrepareChange *c = g_ptr_array_index(res->changes, i);

        if (strstr(c->what, "enable-migration"))
            return c->why;
    }
    return NULL;
}


/* Debian's 6.12: no DMA logging, so enable-migration=on, and why: with
 * what it costs the domain (64 MiB at 10 Gbit/s). */
static void
testNoDirtyTracking(Fake *f,
                    gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigDomainPrepareResult) res =
        checkFile(f, "hostdev-no-dirty.xml", "hostdev-no-dirty.out.xml");
    const char *why = enableMigrationWhy(res);

    g_assert_true(hasChange(res, "hostdev 0000:00:03.0: <qemu:override> vfio-pci enable-migration=on for 'ua-vfmig-0'"));
    g_assert_true(hasChange(res, "migration-events=on for 'ua-vfmig-0'"));
    g_assert_nonnull(why);
    g_assert_nonnull(strstr(why, "counts all guest RAM as dirty"));
    g_assert_nonnull(strstr(why, "--available-switchover-bandwidth"));
    g_assert_nonnull(strstr(why, "CONFIG_IOMMUFD_DRIVER"));
    g_assert_true(g_str_has_suffix(why, " The switch-over then copies all 64 MiB of guest RAM with the guest stopped: the downtime is at least 54 ms at 10 Gbit/s (the link speed assumed; domain-prepare --link-mbps gives this host's), whatever the downtime target."));
    assertHookAccepts(f, res->newXML);
}


/* The least downtime is the domain's RAM (the larger of <memory> and
 * <currentMemory>) over the link given, or per GiB without either. */
static void
testNoDirtyTrackingLeast(Fake *f,
                         gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = readData("hostdev-no-dirty.xml");
    g_autoptr(GString) xml = g_string_new(tmpl);
    g_autoptr(GString) noRam = g_string_new(tmpl);
    g_autoptr(vfmigDomainPrepareResult) res = NULL;
    g_autoptr(vfmigDomainPrepareResult) res2 = NULL;
    g_autoptr(vfmigDomainPrepareResult) res3 = NULL;
    vfmigDomainPrepareResult *bad = NULL;

    /* 4 GiB defined, 2 GiB ballooned: all 4 GiB go */
    g_string_replace(xml, "<memory unit='KiB'>65536</memory>",
                     "<memory unit='GiB'>4</memory>", 1);
    g_string_replace(xml, "<currentMemory unit='KiB'>65536</currentMemory>",
                     "<currentMemory unit='KiB'>2097152</currentMemory>", 1);
    res = prepare(f, xml->str);
    g_assert_true(g_str_has_suffix(enableMigrationWhy(res),
                                   " The switch-over then copies all 4.0 GiB of guest RAM with the guest stopped: the downtime is at least 3.4 s at 10 Gbit/s (the link speed assumed; domain-prepare --link-mbps gives this host's), whatever the downtime target."));

    /* 25 Gbit/s given: 4 GiB / 3.125e9 bytes/s */
    f->opts.linkBps = 3125000000ULL;
    res2 = prepare(f, xml->str);
    g_assert_true(g_str_has_suffix(enableMigrationWhy(res2),
                                   " The switch-over then copies all 4.0 GiB of guest RAM with the guest stopped: the downtime is at least 1.4 s at 25 Gbit/s (the link speed given), whatever the downtime target."));

    f->opts.linkBps = 0;
    g_string_replace(noRam, "  <memory unit='KiB'>65536</memory>\n", "", 1);
    g_string_replace(noRam, "  <currentMemory unit='KiB'>65536</currentMemory>\n", "", 1);
    g_assert_null(strstr(noRam->str, "emory"));
    res3 = prepare(f, noRam->str);
    g_assert_true(g_str_has_suffix(enableMigrationWhy(res3),
                                   " The switch-over then copies all guest RAM with the guest stopped: the downtime is at least 0.86 s per GiB of guest RAM at 10 Gbit/s (the link speed assumed; domain-prepare --link-mbps gives this host's), whatever the downtime target."));

    /* a unit libvirt refuses: no domain of libvirt's */
    g_string_replace(xml, "unit='GiB'", "unit='GiBi'", 1);
    g_assert_cmpint(vfmigDomainPrepare(xml->str, &f->opts, &bad), ==, -1);
    g_assert_null(bad);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "domain XML: <memory> has the unknown unit 'GiBi'");
}


/* A VF as a network interface gets the same. */
static void
testInterface(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigDomainPrepareResult) res =
        checkFile(f, "interface.xml", "interface.out.xml");

    g_assert_true(hasChange(res, "<interface type='hostdev'> 0000:00:03.0: user alias 'ua-vfmig-0'"));
}


/* What is there is kept or corrected: an entry by address becomes one by
 * alias, a stale identity is replaced, enable-migration='off' turned on,
 * an explicit migration-events=false left; the alias taken by another
 * device is skipped. */
static void
testExisting(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = readData("existing.xml");
    g_autoptr(vfmigHookResult) hook = NULL;
    g_autoptr(vfmigDomainPrepareResult) res =
        checkFile(f, "existing.xml", "existing.out.xml");

    g_assert_true(hasChange(res, "hostdev 0000:00:02.0: user alias 'ua-vfmig-1'"));
    g_assert_true(hasChange(res, "names it by its alias 'ua-vfmig-1', not by its source address 0000:00:02.0"));
    g_assert_true(hasChange(res, "(was driver 'vfmig_testdev', PCI id 1b36:0005, stream version 1, multi-load yes, state of 4096 bytes)"));
    g_assert_true(hasChange(res, "enable-migration=on for 'ua-net0' (was type='string' value='off')"));
    g_assert_true(hasChange(res, "migration policy entry for 'ua-net0'"));
    g_assert_true(hasNote(res, "sets migration-events to type='bool' value='false' for 'ua-net0': left as it is"));
    g_assert_false(hasChange(res, "downtime"));
    g_assert_false(hasChange(res, "hostdev 0000:00:02.0: pre-copy mode"));
    g_assert_true(hasChange(res, "hostdev 0000:00:03.0: pre-copy mode 'preferred'"));
    g_assert_false(hasChange(res, "user alias 'ua-net0'"));
    assertHookAccepts(f, res->newXML);

    /* the stale identity it replaced would have been refused */
    g_assert_cmpint(vfmigHookCheck("migrate", "begin", xml, &f->paths, &hook), ==, 0);
    g_assert_cmpint(hook->verdict, ==, VFMIG_HOOK_REFUSED);
}


/* QEMU 9.0 has no migration-events; unknown QEMU: not added either. */
static void
testQEMUWithout(Fake *f,
                gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = readData("hostdev-no-dirty.xml");
    g_autoptr(vfmigDomainPrepareResult) res = NULL;
    g_autoptr(vfmigDomainPrepareResult) res2 = NULL;

    f->opts.qemu.properties = (GStrv) qemu90Props;
    res = prepare(f, xml);
    g_assert_true(hasChange(res, "enable-migration=on"));
    g_assert_false(hasChange(res, "migration-events"));
    g_assert_true(hasNote(res, "migration-events not added: '/usr/bin/qemu-system-x86_64' has no such vfio-pci property"));
    g_assert_null(strstr(res->newXML, "migration-events"));

    f->opts.qemu.state = VFMIG_DOMAIN_PREPARE_QEMU_UNKNOWN;
    f->opts.qemu.properties = NULL;
    f->opts.qemu.why = "it timed out";
    res2 = prepare(f, xml);
    g_assert_true(hasChange(res2, "enable-migration=on"));
    g_assert_false(hasChange(res2, "migration-events"));
    g_assert_true(hasNote(res2, "whether /usr/bin/qemu-system-x86_64 has it is unknown (it timed out)"));
    g_assert_true(hasNote(res2, "whether /usr/bin/qemu-system-x86_64 has enable-migration is unknown (it timed out): it is set all the same"));
}


/* A VF without dirty tracking and a QEMU without enable-migration. */
static void
testQEMUTooOld(Fake *f,
               gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = readData("hostdev-no-dirty.xml");
    g_autoptr(vfmigDomainPrepareResult) res = NULL;
    g_autoptr(vfmigDomainPrepareResult) res61 = NULL;
    g_autofree char *xml61 = readData("hostdev.xml");

    f->opts.qemu.properties = (GStrv) qemu80Props;
    g_assert_cmpint(vfmigDomainPrepare(xml, &f->opts, &res), ==, -1);
    g_assert_null(res);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OPERATION_UNSUPPORTED);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "has no such property (QEMU before 8.1)"));

    /* with dirty tracking it does not need it */
    res61 = prepare(f, xml61);
    g_assert_false(hasChange(res61, "enable-migration"));
}


/* The options change the domain's downtime and the pre-copy mode; the
 * same options again change nothing. */
static void
testOptions(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = readData("existing.xml");
    g_autoptr(vfmigDomainPrepareResult) res = NULL;
    g_autoptr(vfmigDomainPrepareResult) again = NULL;

    f->opts.targetMs = 500;
    f->opts.onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT;
    f->opts.precopy = VFMIG_DOMAIN_POLICY_PRECOPY_OFF;
    res = prepare(f, xml);
    dumpChanges(res);
    g_assert_true(hasChange(res, "downtime target 500 ms"));
    g_assert_true(hasChange(res, "on failure 'abort'"));
    g_assert_true(hasChange(res, "hostdev 0000:00:02.0: pre-copy mode 'off'"));
    g_assert_true(hasChange(res, "hostdev 0000:00:03.0: pre-copy mode 'off'"));
    g_assert_nonnull(strstr(res->newXML, "<vfmig:downtime target-ms='500' on-failure='abort'/>"));
    g_assert_null(strstr(res->newXML, "mode='required'"));

    again = prepare(f, res->newXML);
    dumpChanges(again);
    g_assert_cmpuint(again->changes->len, ==, 0);
}


/* A new policy takes the options' downtime, a new entry their mode. */
static void
testOptionsNew(Fake *f,
               gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = readData("hostdev.xml");
    g_autoptr(vfmigDomainPrepareResult) res = NULL;

    f->opts.targetMs = 150;
    f->opts.onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT;
    f->opts.precopy = VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED;
    res = prepare(f, xml);
    g_assert_true(hasChange(res, "downtime target 150 ms, on failure 'best-effort'"));
    g_assert_nonnull(strstr(res->newXML, "<vfmig:precopy mode='required'/>"));
}


/* A VF without pre-copy: a new entry says 'off'; 'required' is refused. */
static void
testNoPrecopy(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = readData("hostdev.xml");
    g_autoptr(GString) xml = g_string_new(tmpl);
    g_autoptr(vfmigDomainPrepareResult) res = NULL;
    g_autoptr(vfmigDomainPrepareResult) res2 = NULL;

    g_string_replace(xml, "slot='0x02' function", "slot='0x07' function", 1);
    res = prepare(f, xml->str);
    g_assert_true(hasChange(res, "pre-copy mode 'off'"));
    g_assert_true(hasChange(res, "multi-load yes"));

    f->opts.precopy = VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED;
    g_assert_cmpint(vfmigDomainPrepare(xml->str, &f->opts, &res2), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(),
                            "hostdev 0000:00:07.0: the policy requires pre-copy, and the VF (driver 'vfmig_testdev') cannot pre-copy"));
}


/* The identity is read from a VFIO migration driver, never guessed. */
static void
assertRefused(Fake *f,
              const char *slot,
              int code,
              const char *want)
{
    g_autofree char *tmpl = readData("hostdev.xml");
    g_autoptr(GString) xml = g_string_new(tmpl);
    g_autofree char *repl = g_strdup_printf("slot='%s' function", slot);
    vfmigDomainPrepareResult *res = NULL;

    g_string_replace(xml, "slot='0x02' function", repl, 1);
    vfmigResetLastError();
    g_assert_cmpint(vfmigDomainPrepare(xml->str, &f->opts, &res), ==, -1);
    g_assert_null(res);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, code);
    if (!strstr(vfmigGetLastErrorMessage(), want))
        g_error("error '%s' does not contain '%s'", vfmigGetLastErrorMessage(), want);
}


static void
testRefused(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    assertRefused(f, "0x04", VFMIG_ERR_OPERATION_UNSUPPORTED,
                  "hostdev 0000:00:04.0: the VF is bound to 'mlx5_core', not to a VFIO migration driver");
    assertRefused(f, "0x05", VFMIG_ERR_OPERATION_UNSUPPORTED,
                  "hostdev 0000:00:05.0: the VF is bound to no driver");
    assertRefused(f, "0x06", VFMIG_ERR_OPERATION_UNSUPPORTED,
                  "so it has no identity for the policy (domain-prepare never guesses one)");
    assertRefused(f, "0x1f", VFMIG_ERR_NO_DEVICE,
                  "hostdev 0000:00:1f.0: this host has no PCI device 0000:00:1f.0");
}


/* What libvirt does to a managed VF at the domain's start: binds it to
 * vfmig_testdev (here with DMA logging and pre-copy). */
static void
rebindTestdev(Fake *f,
              const char *addr,
              int group)
{
    g_autofree char *dir = g_build_filename(f->sys, "devices", "pci0000:00", addr, NULL);
    g_autofree char *busLink = g_build_filename(f->sys, "bus", "pci", "devices", addr, NULL);

    vfmigTestRmTree(dir);
    g_assert_cmpint(g_unlink(busLink), ==, 0);
    vfmigTestTestdev(f->sys, addr, "stop-copy p2p pre-copy dma-logging\n", "on\n", group);
}


/* managed='yes', as Nova writes hostdevs: a VF on its host driver and an
 * unbound one (with <driver model=>), both of which libvirt binds to
 * vfmig_testdev when the domain starts.  Their alias, their entry with
 * 'preferred' and migration-events; no identity and no enable-migration,
 * which only the bound driver can tell, and a note that says so. */
static void
testManaged(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigDomainPrepareResult) res =
        checkFile(f, "managed.xml", "managed.out.xml");
    g_autoptr(vfmigDomainPrepareResult) again = NULL;
    g_autofree char *note1 = g_strdup_printf("<interface type='hostdev'> 0000:00:05.0: the VF is bound to no driver, and libvirt binds it to 'vfmig_testdev' (the hostdev's <driver model='vfmig_testdev'/>) when the domain starts (managed='yes'); its identity, whether it can pre-copy and whether QEMU needs enable-migration=on are read from that driver, never guessed: run domain-prepare again while the domain runs to add them");
    g_autofree char *note2 = g_strdup_printf("hostdev 0000:00:04.0: the VF is on 'mlx5_core', and libvirt binds it to 'vfmig_testdev' (its best vfio_pci alias in '%s/modules.alias', 'v00001B36d00000005sv*sd*bc*sc*i*') when the domain starts (managed='yes'); its identity, whether it can pre-copy and whether QEMU needs enable-migration=on are read from that driver, never guessed: run domain-prepare again while the domain runs to add them",
                                             f->modules);

    g_assert_true(hasChange(res, "<interface type='hostdev'> 0000:00:05.0: user alias 'ua-vfmig-0'"));
    g_assert_true(hasChange(res, "hostdev 0000:00:04.0: user alias 'ua-vfmig-1'"));
    g_assert_true(hasChange(res, "<interface type='hostdev'> 0000:00:05.0: pre-copy mode 'preferred'"));
    g_assert_true(hasChange(res, "hostdev 0000:00:04.0: pre-copy mode 'preferred'"));
    g_assert_true(hasChange(res, "migration-events=on for 'ua-vfmig-1'"));
    g_assert_false(hasChange(res, "identity"));
    g_assert_false(hasChange(res, "enable-migration"));
    g_assert_cmpuint(res->notes->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(res->notes, 0), ==, note1);
    g_assert_cmpstr(g_ptr_array_index(res->notes, 1), ==, note2);
    /* the destination's hook takes it, before libvirt binds the VFs */
    assertHookAccepts(f, res->newXML);

    /* once libvirt bound them (the domain runs), a run adds what the
     * driver tells */
    rebindTestdev(f, VFHOST, 7);
    rebindTestdev(f, VFNONE, 8);
    again = prepare(f, res->newXML);
    dumpChanges(again);
    g_assert_true(hasChange(again, "hostdev 0000:00:04.0: identity of the VF: driver 'vfmig_testdev', PCI id 1b36:0005, stream version 1, multi-load yes, state of 8388608 bytes"));
    g_assert_true(hasChange(again, "<interface type='hostdev'> 0000:00:05.0: identity of the VF"));
    g_assert_cmpuint(again->changes->len, ==, 2);
    g_assert_cmpuint(again->notes->len, ==, 0);
}


/* On the driver libvirt binds already (the domain runs): prepared as any
 * bound VF, with its identity. */
static void
testManagedBound(Fake *f,
                 gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = readData("hostdev.xml");
    g_autoptr(GString) xml = g_string_new(tmpl);
    g_autoptr(vfmigDomainPrepareResult) res = NULL;

    g_string_replace(xml, "managed='no'", "managed='yes'", 1);
    res = prepare(f, xml->str);
    g_assert_true(hasChange(res, "identity of the VF: driver 'vfmig_testdev', PCI id 1b36:0005, stream version 1, multi-load yes, state of 8388608 bytes"));
    g_assert_cmpuint(res->notes->len, ==, 0);
}


/* libvirt would bind the VF to a driver that cannot migrate it: refused,
 * with why and what to do. */
static void
testManagedRefused(Fake *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = readData("hostdev.xml");
    g_autoptr(GString) host = g_string_new(tmpl);
    g_autoptr(GString) forced = g_string_new(tmpl);
    g_autofree char *want = NULL;
    vfmigDomainPrepareResult *res = NULL;

    /* no alias for it */
    modulesFile(f, "modules.alias", "# Aliases extracted from modules themselves.\n");
    g_string_replace(host, "managed='no'", "managed='yes'", 1);
    g_string_replace(host, "slot='0x02' function", "slot='0x04' function", 1);
    g_assert_cmpint(vfmigDomainPrepare(host->str, &f->opts, &res), ==, -1);
    g_assert_null(res);
    want = g_strdup_printf("hostdev 0000:00:04.0: libvirt will bind it to vfio-pci, which cannot migrate: no vfio_pci alias in '%s/modules.alias' matches the device (1b36:0005, modalias 'v00001B36d00000005sv00001AF4sd00001100bc00scFFi00'); install the module 'vfmig_testdev' (vfmig's kernel modules have it) and run 'depmod -a', or name the driver in the hostdev: <driver model='vfmig_testdev'/>",
                           f->modules);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);

    /* <driver model='vfio-pci'/>: libvirt would move a bound VF to it */
    g_string_replace(forced, "managed='no'>", "managed='yes'>\n      <driver model='vfio-pci'/>", 1);
    g_assert_cmpint(vfmigDomainPrepare(forced->str, &f->opts, &res), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "hostdev 0000:00:02.0: libvirt will bind it to 'vfio-pci' (the hostdev's <driver model='vfio-pci'/>), a driver vfmig knows no VFIO migration of: name a VFIO variant driver with migration there, or remove <driver model> to let libvirt choose by the kernel's module aliases");

    /* no modules.alias at all: libvirt would not start the domain */
    g_free(want);
    want = g_strdup_printf("%s/modules.alias", f->modules);
    g_assert_cmpint(g_unlink(want), ==, 0);
    g_free(want);
    want = g_strdup_printf("hostdev 0000:00:04.0: libvirt binds the VF itself (managed='yes'), and the driver it binds cannot be told: cannot open kernel module alias file '%s/modules.alias': No such file or directory",
                           f->modules);
    g_assert_cmpint(vfmigDomainPrepare(host->str, &f->opts, &res), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
}


/* --precopy required of a VF not bound yet: written, as asked; whether
 * the VF can is known once it is bound. */
static void
testManagedRequired(Fake *f,
                    gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = readData("managed.xml");
    g_autoptr(vfmigDomainPrepareResult) res = NULL;

    f->opts.precopy = VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED;
    res = prepare(f, xml);
    g_assert_true(hasChange(res, "hostdev 0000:00:04.0: pre-copy mode 'required'"));
    g_assert_true(hasNote(res, "whether it can pre-copy"));
}


static void
testBadDomains(Fake *f,
               gconstpointer data G_GNUC_UNUSED)
{
    vfmigDomainPrepareResult *res = NULL;
    g_autofree char *tmpl = readData("hostdev.xml");
    g_autoptr(GString) xml = g_string_new(tmpl);

    g_assert_cmpint(vfmigDomainPrepare("<domain type='kvm'><name>x</name><devices/></domain>",
                                       &f->opts, &res), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "it has no VF to prepare"));
    g_assert_cmpint(vfmigDomainPrepare("<domain", &f->opts, &res), ==, -1);
    g_assert_cmpint(vfmigDomainPrepare("<network/>", &f->opts, &res), ==, -1);

    /* a policy entry naming no hostdev of the domain */
    g_string_replace(xml, "  <memory unit",
                     "  <metadata>\n"
                     "    <vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>\n"
                     "      <vfmig:hostdev alias='ua-gone'/>\n"
                     "    </vfmig:migration>\n"
                     "  </metadata>\n"
                     "  <memory unit", 1);
    g_assert_cmpint(vfmigDomainPrepare(xml->str, &f->opts, &res), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "ua-gone"));
    g_assert_null(res);
}


/* The formatter: libvirt's quoting, everything else kept. */
static void
testFormat(void)
{
    g_autofree char *out = vfmigDomainPrepareFormatXML(
        "<?xml version=\"1.0\"?>\n<!-- c -->\n<domain a=\"x'&quot;&lt;\">\n"
        "  <t>a &amp; b &gt;</t><e/><![CDATA[<raw>]]>\n</domain>");

    g_autofree char *ws = NULL;

    g_assert_cmpstr(out, ==,
                    "<!-- c -->\n<domain a='x&apos;&quot;&lt;'>\n"
                    "  <t>a &amp; b &gt;</t><e/><![CDATA[<raw>]]>\n</domain>\n");

    /* another application's metadata byte for byte: a tab, newline or
     * carriage return in an attribute stays a reference (written raw, a
     * parser would read spaces), in text it stays itself */
    ws = vfmigDomainPrepareFormatXML(
        "<domain><metadata><app:x xmlns:app='urn:app' v='a&#9;b&#10;c&#13;d'>"
        "l1\n\tl2</app:x></metadata></domain>");
    g_assert_cmpstr(ws, ==,
                    "<domain><metadata><app:x v='a&#x9;b&#xA;c&#xD;d' xmlns:app='urn:app'>"
                    "l1\n\tl2</app:x></metadata></domain>\n");
}


static void
testEmulator(void)
{
    g_autofree char *xml = readData("hostdev.xml");
    g_autofree char *emulator = NULL;
    char *none = NULL;

    g_assert_cmpint(vfmigDomainPrepareGetEmulator(xml, &emulator), ==, 1);
    g_assert_cmpstr(emulator, ==, "/usr/bin/qemu-system-x86_64");
    g_assert_cmpint(vfmigDomainPrepareGetEmulator("<domain><devices/></domain>", &none), ==, 0);
    g_assert_null(none);
}


/* A fake QEMU: a shell script printing @body's output. */
static char *
fakeQEMU(const char *dir,
         const char *name,
         const char *body)
{
    g_autofree char *script = g_strdup_printf("#!/bin/sh\n%s\n", body);
    char *path = g_build_filename(dir, name, NULL);

    vfmigTestWriteFile(path, script);
    g_assert_cmpint(chmod(path, 0755), ==, 0);
    return path;
}


static void
testProbeQEMU(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_auto(GStrv) props = NULL;
    g_autofree char *good = fakeQEMU(f->root, "good",
        "[ \"$*\" = '-nodefaults -machine none -device vfio-pci,help' ] || exit 3\n"
        "echo 'vfio-pci options:'\n"
        "echo '  enable-migration=<OnOffAuto> - Enale device migration. (default: auto)'\n"
        "echo '  host=<str>'\n"
        "echo '  migration-events=<bool> - Emit VFIO migration QAPI event (default: off)'\n"
        "echo '  x-balloon-allowed=<bool>   - Override (default: off)'");
    g_autofree char *failing = fakeQEMU(f->root, "failing",
        "echo \"qemu: Device 'vfio-pci' not found\" >&2; exit 1");
    g_autofree char *slow = fakeQEMU(f->root, "slow", "exec sleep 30");
    g_autofree char *lingering = fakeQEMU(f->root, "lingering",
        "echo '  host=<str>'; exec >/dev/null 2>&1; exec sleep 30");
    g_autofree char *chatty = fakeQEMU(f->root, "chatty", "exec cat /dev/zero");
    g_autofree char *nothing = fakeQEMU(f->root, "nothing", "echo 'no properties'");
    g_autofree char *missing = g_build_filename(f->root, "missing", NULL);
    gint64 start;

    g_assert_cmpint(vfmigDomainPrepareProbeQEMU(good, 5000, &props), ==, 0);
    g_assert_cmpuint(g_strv_length(props), ==, 4);
    g_assert_true(g_strv_contains((const char *const *) props, "migration-events"));
    g_assert_true(g_strv_contains((const char *const *) props, "enable-migration"));
    g_assert_true(g_strv_contains((const char *const *) props, "x-balloon-allowed"));
    g_clear_pointer(&props, g_strfreev);

    g_assert_cmpint(vfmigDomainPrepareProbeQEMU(failing, 5000, &props), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "failed with exit status 1: qemu: Device 'vfio-pci' not found"));
    g_assert_null(props);

    start = g_get_monotonic_time();
    g_assert_cmpint(vfmigDomainPrepareProbeQEMU(slow, 300, &props), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OPERATION_TIMEOUT);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "did not finish within 300 ms: killed"));
    g_assert_cmpint(vfmigDomainPrepareProbeQEMU(lingering, 300, &props), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "did not exit within 300 ms: killed"));
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);

    g_assert_cmpint(vfmigDomainPrepareProbeQEMU(chatty, 5000, &props), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "printed more than 1048576 bytes: killed"));
    g_assert_cmpint(vfmigDomainPrepareProbeQEMU(nothing, 5000, &props), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "listed no property"));
    g_assert_cmpint(vfmigDomainPrepareProbeQEMU(missing, 5000, &props), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "is not an executable file"));
    g_assert_cmpint(vfmigDomainPrepareProbeQEMU("qemu-system-x86_64", 5000, &props), ==, -1);
    g_assert_null(props);

    /* a binary others may change is not run with our privileges */
    g_assert_cmpint(chmod(good, 0777), ==, 0);
    g_assert_cmpint(vfmigDomainPrepareProbeQEMU(good, 5000, &props), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "refusing to run the emulator"));
    g_assert_null(props);
}


int
main(int argc,
     char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define ADD(name, fn) \
    g_test_add("/domain-prepare/" name, Fake, NULL, fakeSetup, fn, fakeTeardown)

    ADD("dirty-tracking", testDirtyTracking);
    ADD("no-dirty-tracking", testNoDirtyTracking);
    ADD("no-dirty-tracking-least", testNoDirtyTrackingLeast);
    ADD("interface", testInterface);
    ADD("existing", testExisting);
    ADD("host-origin", testHostOrigin);
    ADD("qemu-without-migration-events", testQEMUWithout);
    ADD("qemu-too-old", testQEMUTooOld);
    ADD("options", testOptions);
    ADD("options-new", testOptionsNew);
    ADD("no-precopy", testNoPrecopy);
    ADD("refused", testRefused);
    ADD("bad-domains", testBadDomains);
    ADD("managed", testManaged);
    ADD("managed-bound", testManagedBound);
    ADD("managed-refused", testManagedRefused);
    ADD("managed-required", testManagedRequired);
    ADD("probe-qemu", testProbeQEMU);
    g_test_add_func("/domain-prepare/format", testFormat);
    g_test_add_func("/domain-prepare/emulator", testEmulator);
    return g_test_run();
}
