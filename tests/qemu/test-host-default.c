/*
 * test-host-default.c: the host default policy's decision against fake
 * sysfs trees
 *
 * The domains are running ones as Nova defines them: hostdevs and
 * <interface type='hostdev'> with managed='yes', no user alias, libvirt's
 * aliases (hostdev0, ...) as the live XML has them, the flavor in
 * <nova:instance>.  The host has VFs on vfmig_testdev (with and without
 * pre-copy, and one whose driver offers no stop-copy), one on its host
 * driver, one on plain vfio-pci and one on upstream's mlx5_vfio_pci,
 * which publishes no migration features in sysfs.  Nothing opens a
 * device.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "vfmigerror.h"
#include "vfmighook.h"
#include "vfmighostdefault.h"
#include "vfmigtestfs.h"
#include "vfmigtestpci.h"

#define VF0 "0000:00:02.0"      /* vfmig_testdev, pre-copy, multi-load */
#define VFNOPRE "0000:00:03.0"  /* vfmig_testdev without pre-copy */
#define VFHOST "0000:00:04.0"   /* on its host driver */
#define VFPLAIN "0000:00:05.0"  /* on plain vfio-pci, cached without features */
#define VFMLX "0000:00:06.0"    /* upstream mlx5_vfio_pci: no sysfs ABI */
#define VFBROKEN "0000:00:07.0" /* vfmig_testdev lacking stop-copy: broken */
#define VFUNKNOWN "0000:00:08.0" /* plain vfio-pci, nothing known */

#define IDENTITY \
    "identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' " \
    "stream-version='1' multi-load='yes' state-size='" VFMIG_TEST_STATE_SIZE "'"

#define HOST_POLICY \
    "<hostpolicy xmlns='" VFMIG_HOST_POLICY_NS_URI "'>\n" \
    "  <flavor name='vf.gold'>\n" \
    "    <downtime target-ms='300' on-failure='abort'/>\n" \
    "    <precopy mode='required'/>\n" \
    "  </flavor>\n" \
    "  <default>\n" \
    "    <downtime target-ms='1000' on-failure='best-effort'/>\n" \
    "    <precopy mode='preferred'/>\n" \
    "  </default>\n" \
    "</hostpolicy>\n"

#define HOST_POLICY_NO_DEFAULT \
    "<hostpolicy xmlns='" VFMIG_HOST_POLICY_NS_URI "'>\n" \
    "  <flavor name='vf.gold'>\n" \
    "    <downtime target-ms='300' on-failure='abort'/>\n" \
    "  </flavor>\n" \
    "</hostpolicy>\n"

typedef struct {
    char *root;
    char *sys;
    char *cache;
    char *modules;
    vfmigNodeDevProbePaths paths;
    vfmigHostPolicy *policy;
    vfmigHostPolicy *noDefault;
} Fake;


static void
fakeSetup(Fake *f,
          gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *cache = NULL;
    g_autofree char *modules = NULL;

    f->root = g_dir_make_tmp("vfmig-host-default-XXXXXX", &err);
    g_assert_no_error(err);
    f->sys = g_build_filename(f->root, "sys", NULL);
    memset(&f->paths, 0, sizeof(f->paths));
    f->paths.sysfsRoot = f->sys;
    f->paths.debugfsRoot = f->root;
    f->paths.devRoot = f->root;
    f->paths.procRoot = f->root;
    f->cache = g_build_filename(f->root, "cache", NULL);
    f->paths.cacheDir = f->cache;
    f->paths.kernelConfig = "/nonexistent";
    /* libvirt binds managed='yes' VFs by modules.alias: where they are */
    f->modules = g_build_filename(f->root, "modules", NULL);
    f->paths.modulesDir = f->modules;
    modules = g_build_filename(f->modules, "modules.alias", NULL);
    vfmigTestWriteFile(modules,
                       "# Aliases extracted from modules themselves.\n"
                       "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
                       "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_testdev\n");
    vfmigTestTestdev(f->sys, VF0, "stop-copy p2p pre-copy dma-logging\n", "on\n", 5);
    vfmigTestTestdev(f->sys, VFNOPRE, "stop-copy p2p dma-logging\n", "off\n", 6);
    vfmigTestPCIAttr(f->sys, VFNOPRE, "vfio_migration/multi_load", "0\n");
    vfmigTestPCI(f->sys, VFHOST, "0x15b3\n", "0x101e\n", "mlx5_core", false, 7);
    vfmigTestPCI(f->sys, VFPLAIN, "0x1b36\n", "0x0005\n", "vfio-pci", true, 8);
    vfmigTestPCI(f->sys, VFMLX, "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", true, 9);
    vfmigTestTestdev(f->sys, VFBROKEN, "p2p\n", "off\n", 10);
    vfmigTestPCI(f->sys, VFUNKNOWN, "0x1b36\n", "0x0005\n", "vfio-pci", true, 11);
    /* what a VFIO query of plain vfio-pci found while it was idle: no
     * migration; read while QEMU holds it (the function is enabled) */
    vfmigTestPCIAttr(f->sys, VFPLAIN, "enable", "1\n");
    cache = g_build_filename(f->cache, VFPLAIN ".xml", NULL);
    vfmigTestWriteFile(cache,
                       "<nodedev-cache address='" VFPLAIN "'>\n"
                       "  <capability type='vfio-migration'>\n"
                       "    <driver name='vfio-pci' variant='no'/>\n"
                       "    <features source='vfio'/>\n"
                       "    <dirty-tracking type='none'/>\n"
                       "    <identity vendor='0x1b36' device='0x0005'/>\n"
                       "  </capability>\n"
                       "</nodedev-cache>\n");
    g_assert_cmpint(chmod(f->cache, 0700), ==, 0);
    f->policy = vfmigHostPolicyParseString(HOST_POLICY);
    f->noDefault = vfmigHostPolicyParseString(HOST_POLICY_NO_DEFAULT);
    g_assert_nonnull(f->policy);
    g_assert_nonnull(f->noDefault);
    vfmigResetLastError();
}


static void
fakeTeardown(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    vfmigTestRmTree(f->root);
    g_free(f->root);
    g_free(f->sys);
    g_free(f->cache);
    g_free(f->modules);
    vfmigHostPolicyFree(f->policy);
    vfmigHostPolicyFree(f->noDefault);
}


/* One device of a domain: a hostdev or a hostdev interface at @addr with
 * libvirt's @alias (NULL: none, as in a definition). */
typedef struct {
    bool interface;
    const char *addr;
    const char *alias;
} Dev;


/*
 * The live XML of a running Nova domain: <nova:instance> in @novaNS
 * (NULL: none) of the flavor @flavor (NULL: none), @policy in
 * <metadata> (NULL: none), and @devs.
 */
static char *
domainXML(const char *novaNS,
          const char *flavor,
          const char *policy,
          const Dev *devs,
          size_t ndevs)
{
    g_autoptr(GString) xml = g_string_new("<domain type='kvm' id='7'>\n"
                                          "  <name>instance-0000002a</name>\n"
                                          "  <uuid>3f1e9a52-0c1d-4b7e-9f57-6a2d1c0e8b41</uuid>\n"
                                          "  <metadata>\n");
    size_t i;

    if (novaNS) {
        g_string_append_printf(xml,
                               "    <nova:instance xmlns:nova=\"%s\">\n"
                               "      <nova:package version=\"31.0.0\"/>\n"
                               "      <nova:name>vm-1</nova:name>\n", novaNS);
        if (flavor)
            g_string_append_printf(xml,
                                   "      <nova:flavor name=\"%s\">\n"
                                   "        <nova:memory>4096</nova:memory>\n"
                                   "        <nova:vcpus>2</nova:vcpus>\n"
                                   "      </nova:flavor>\n", flavor);
        g_string_append(xml, "    </nova:instance>\n");
    }
    if (policy)
        g_string_append_printf(xml, "    %s\n", policy);
    g_string_append(xml, "  </metadata>\n"
                    "  <memory unit='KiB'>4194304</memory>\n"
                    "  <devices>\n");
    for (i = 0; i < ndevs; i++) {
        unsigned int bus, slot, fn;

        g_assert_cmpint(sscanf(devs[i].addr, "0000:%x:%x.%x", &bus, &slot, &fn), ==, 3);
        if (devs[i].interface)
            g_string_append(xml, "    <interface type='hostdev' managed='yes'>\n"
                            "      <mac address='fa:16:3e:11:22:33'/>\n");
        else
            g_string_append(xml, "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
                            "      <driver name='vfio'/>\n");
        g_string_append_printf(xml,
                               "      <source>\n"
                               "        <address %sdomain='0x0000' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                               "      </source>\n",
                               devs[i].interface ? "type='pci' " : "", bus, slot, fn);
        if (devs[i].alias)
            g_string_append_printf(xml, "      <alias name='%s'/>\n", devs[i].alias);
        g_string_append_printf(xml,
                               "      <address type='pci' domain='0x0000' bus='0x%02zx' slot='0x00' function='0x0'/>\n"
                               "    </%s>\n",
                               i + 5, devs[i].interface ? "interface" : "hostdev");
    }
    g_string_append(xml, "  </devices>\n</domain>\n");
    return g_string_free(g_steal_pointer(&xml), FALSE);
}


static vfmigHostDefaultResult *
decide(Fake *f,
       const vfmigHostPolicy *policy,
       const char *xml)
{
    vfmigHostDefaultResult *res = NULL;
    size_t i;

    if (vfmigHostDefaultDecide(xml, policy, &f->paths, &res) < 0)
        g_error("vfmigHostDefaultDecide: %s", vfmigGetLastErrorMessage());
    g_assert_nonnull(res);
    g_assert_nonnull(res->why);
    g_test_message("%s (%s): %s", vfmigHostDefaultActionTypeToString(res->action),
                   vfmigHostDefaultReasonTypeToString(res->reason), res->why);
    for (i = 0; i < res->devices->len; i++) {
        const vfmigHostDefaultDevice *dev = g_ptr_array_index(res->devices, i);

        g_test_message("  %s %s: entry %d, %s", dev->address, dev->alias ? dev->alias : "-",
                       dev->entry, dev->why ? dev->why : "");
    }
    if (res->action == VFMIG_HOST_DEFAULT_NOTHING) {
        g_assert_null(res->policy);
        g_assert_null(res->metadata);
    } else {
        g_assert_nonnull(res->policy);
        g_assert_nonnull(res->metadata);
        g_assert_cmpint(res->policy->origin, ==, VFMIG_DOMAIN_POLICY_ORIGIN_HOST);
    }
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);
    return res;
}


static void
assertNothing(Fake *f,
              const vfmigHostPolicy *policy,
              const char *xml,
              vfmigHostDefaultReason reason,
              const char *why)
{
    g_autoptr(vfmigHostDefaultResult) res = decide(f, policy, xml);

    g_assert_cmpint(res->action, ==, VFMIG_HOST_DEFAULT_NOTHING);
    g_assert_cmpint(res->reason, ==, reason);
    g_assert_cmpstr(res->why, ==, why);
}


static const vfmigHostDefaultDevice *
device(const vfmigHostDefaultResult *res,
       size_t i)
{
    g_assert_cmpuint(i, <, res->devices->len);
    return g_ptr_array_index(res->devices, i);
}


/* The flavor's entry: its downtime, its pre-copy mode for the VF named by
 * libvirt's alias, the VF's identity on this host. */
static void
testFlavor(Fake *f,
           gconstpointer data G_GNUC_UNUSED)
{
    static const Dev devs[] = { { false, VF0, "hostdev0" } };
    g_autofree char *xml = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold", NULL, devs, 1);
    g_autoptr(vfmigHostDefaultResult) res = decide(f, f->policy, xml);

    g_assert_cmpint(res->action, ==, VFMIG_HOST_DEFAULT_WRITE);
    g_assert_cmpint(res->reason, ==, VFMIG_HOST_DEFAULT_REASON_NEW);
    g_assert_cmpstr(res->why, ==, "the domain has no migration policy: the host policy's entry for the flavor 'vf.gold' applies");
    g_assert_cmpstr(res->flavor, ==, "vf.gold");
    g_assert_cmpstr(res->metadata, ==,
                    "<migration origin='host' flavor='vf.gold'>\n"
                    "  <downtime target-ms='300' on-failure='abort'/>\n"
                    "  <hostdev alias='hostdev0'>\n"
                    "    <precopy mode='required'/>\n"
                    "    <" IDENTITY "/>\n"
                    "  </hostdev>\n"
                    "</migration>\n");
    g_assert_true(device(res, 0)->entry);
    g_assert_cmpstr(device(res, 0)->alias, ==, "hostdev0");
    g_assert_cmpstr(device(res, 0)->driver, ==, "vfmig_testdev");
    g_assert_null(device(res, 0)->why);
}


/* Another flavor, and Nova's older namespace: the default, no flavor=. */
static void
testDefault(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    static const Dev devs[] = { { false, VF0, "hostdev0" } };
    g_autofree char *xml = domainXML(VFMIG_NOVA_NS_URI_1_0, "m1.small", NULL, devs, 1);
    g_autofree char *noFlavor = domainXML(NULL, NULL, NULL, devs, 1);
    g_autoptr(vfmigHostDefaultResult) res = decide(f, f->policy, xml);
    g_autoptr(vfmigHostDefaultResult) res2 = decide(f, f->policy, noFlavor);

    g_assert_cmpint(res->action, ==, VFMIG_HOST_DEFAULT_WRITE);
    g_assert_cmpstr(res->why, ==, "the domain has no migration policy: the host policy's <default> applies");
    g_assert_cmpstr(res->flavor, ==, "m1.small");
    g_assert_null(res->policy->flavor);
    g_assert_cmpstr(res->metadata, ==,
                    "<migration origin='host'>\n"
                    "  <downtime target-ms='1000' on-failure='best-effort'/>\n"
                    "  <hostdev alias='hostdev0'>\n"
                    "    <precopy mode='preferred'/>\n"
                    "    <" IDENTITY "/>\n"
                    "  </hostdev>\n"
                    "</migration>\n");

    /* a domain without Nova metadata takes the default too */
    g_assert_null(res2->flavor);
    g_assert_cmpstr(res2->metadata, ==, res->metadata);
}


/* No entry for the flavor and no default: nothing. */
static void
testNoDefault(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    static const Dev devs[] = { { false, VF0, "hostdev0" } };
    g_autofree char *other = domainXML(VFMIG_NOVA_NS_URI_1_1, "m1.small", NULL, devs, 1);
    g_autofree char *none = domainXML(VFMIG_NOVA_NS_URI_1_1, NULL, NULL, devs, 1);
    g_autofree char *gold = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold", NULL, devs, 1);
    g_autoptr(vfmigHostDefaultResult) res = NULL;

    assertNothing(f, f->noDefault, other, VFMIG_HOST_DEFAULT_REASON_NO_ENTRY,
                  "the host policy has no entry for the domain's flavor 'm1.small' and no <default>");
    assertNothing(f, f->noDefault, none, VFMIG_HOST_DEFAULT_REASON_NO_ENTRY,
                  "the domain has no Nova flavor (<nova:flavor> in its metadata) and the host policy no <default>");

    /* the flavor's entry without <precopy>: none in the entry */
    res = decide(f, f->noDefault, gold);
    g_assert_cmpint(res->action, ==, VFMIG_HOST_DEFAULT_WRITE);
    g_assert_cmpstr(res->metadata, ==,
                    "<migration origin='host' flavor='vf.gold'>\n"
                    "  <downtime target-ms='300' on-failure='abort'/>\n"
                    "  <hostdev alias='hostdev0'>\n"
                    "    <" IDENTITY "/>\n"
                    "  </hostdev>\n"
                    "</migration>\n");
}


/* A policy of the domain's own, even an empty one, always wins. */
static void
testExplicit(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    static const Dev devs[] = { { false, VF0, "ua-vf0" } };
    const char *why = "the domain has a migration policy of its own (without origin='host'), which the host default never replaces";
    g_autofree char *own = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold",
                                     "<vfmig:migration xmlns:vfmig='" VFMIG_DOMAIN_POLICY_NS_URI "'>"
                                     "<vfmig:hostdev alias='ua-vf0'><vfmig:precopy mode='off'/></vfmig:hostdev>"
                                     "</vfmig:migration>", devs, 1);
    g_autofree char *empty = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold",
                                       "<vfmig:migration xmlns:vfmig='" VFMIG_DOMAIN_POLICY_NS_URI "'/>",
                                       devs, 1);
    g_autoptr(vfmigHostDefaultResult) res = decide(f, f->policy, own);

    g_assert_cmpint(res->action, ==, VFMIG_HOST_DEFAULT_NOTHING);
    g_assert_cmpint(res->reason, ==, VFMIG_HOST_DEFAULT_REASON_EXPLICIT);
    g_assert_cmpstr(res->why, ==, why);
    g_assert_cmpuint(res->devices->len, ==, 0);
    assertNothing(f, f->policy, empty, VFMIG_HOST_DEFAULT_REASON_EXPLICIT, why);
    /* also without a host policy */
    assertNothing(f, NULL, own, VFMIG_HOST_DEFAULT_REASON_EXPLICIT, why);
}


/* The domain came from another host with the host default's policy of
 * that host's VF: rewritten with this host's; then kept. */
static void
testStale(Fake *f,
          gconstpointer data G_GNUC_UNUSED)
{
    static const Dev devs[] = { { false, VF0, "hostdev0" } };
    g_autofree char *stale = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold",
                                       "<vfmig:migration xmlns:vfmig=\"" VFMIG_DOMAIN_POLICY_NS_URI "\" origin=\"host\" flavor=\"vf.gold\">"
                                       "<vfmig:downtime target-ms=\"300\" on-failure=\"abort\"/>"
                                       "<vfmig:hostdev alias=\"hostdev0\"><vfmig:precopy mode=\"required\"/>"
                                       "<vfmig:identity driver=\"vfmig_testdev\" vendor=\"0x1b36\" device=\"0x0005\" "
                                       "stream-version=\"1\" multi-load=\"yes\" state-size=\"4194304\"/>"
                                       "</vfmig:hostdev></vfmig:migration>", devs, 1);
    g_autoptr(vfmigHostDefaultResult) res = decide(f, f->policy, stale);
    g_autoptr(vfmigHostDefaultResult) again = NULL;
    g_autoptr(vfmigHostDefaultResult) noEntry = NULL;
    g_autofree char *written = NULL;
    g_autofree char *current = NULL;
    g_autofree char *other = NULL;

    g_assert_cmpint(res->action, ==, VFMIG_HOST_DEFAULT_WRITE);
    g_assert_cmpint(res->reason, ==, VFMIG_HOST_DEFAULT_REASON_CHANGED);
    g_assert_cmpstr(res->why, ==, "the domain's policy with origin='host' differs from what the host policy's entry for the flavor 'vf.gold' gives now (the domain migrated here from another host's VFs, or the host policy, the flavor or the VFs changed)");
    g_assert_nonnull(strstr(res->metadata, "state-size='" VFMIG_TEST_STATE_SIZE "'"));

    /* as libvirt gives it back after virDomainSetMetadata: kept */
    current = vfmigDomainPolicyFormatString(res->policy);
    written = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold", current, devs, 1);
    again = decide(f, f->policy, written);
    g_assert_cmpint(again->action, ==, VFMIG_HOST_DEFAULT_KEEP);
    g_assert_cmpint(again->reason, ==, VFMIG_HOST_DEFAULT_REASON_UP_TO_DATE);
    g_assert_cmpstr(again->why, ==, "the domain's policy with origin='host' is what the host policy's entry for the flavor 'vf.gold' gives");
    g_assert_cmpstr(again->metadata, ==, res->metadata);

    /* a flavor the host policy has no entry for: the policy stays */
    other = domainXML(VFMIG_NOVA_NS_URI_1_1, "m1.small", current, devs, 1);
    noEntry = decide(f, f->noDefault, other);
    g_assert_cmpint(noEntry->action, ==, VFMIG_HOST_DEFAULT_NOTHING);
    g_assert_cmpstr(noEntry->why, ==, "the host policy has no entry for the domain's flavor 'm1.small' and no <default>; the policy with origin='host' the domain has (written on another host, or from an earlier host policy) is left as it is");
}


/* VFs that do not migrate here have no entry, and say why. */
static void
testSkipped(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    static const Dev devs[] = {
        { false, VFHOST, "hostdev0" },
        { false, VF0, "hostdev1" },
        { false, VFPLAIN, "hostdev2" },
        { false, VFBROKEN, "hostdev3" },
        { false, VFUNKNOWN, "hostdev4" },
        { false, "0000:00:1f.7", "hostdev5" },
    };
    g_autofree char *xml = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold", NULL, devs, G_N_ELEMENTS(devs));
    g_autofree char *none = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold", NULL, devs, 1);
    g_autoptr(vfmigHostDefaultResult) res = decide(f, f->policy, xml);

    g_assert_cmpint(res->action, ==, VFMIG_HOST_DEFAULT_WRITE);
    g_assert_cmpuint(res->policy->nhostdevs, ==, 1);
    g_assert_cmpstr(res->policy->hostdevs[0]->alias, ==, "hostdev1");
    g_assert_cmpuint(res->devices->len, ==, 6);
    g_assert_false(device(res, 0)->entry);
    g_assert_cmpstr(device(res, 0)->driver, ==, "mlx5_core");
    g_assert_cmpstr(device(res, 0)->why, ==, "the VF is on 'mlx5_core', not on a VFIO driver");
    g_assert_true(device(res, 1)->entry);
    g_assert_false(device(res, 2)->entry);
    g_assert_cmpstr(device(res, 2)->why, ==, "the VF's driver 'vfio-pci' offers no stop-copy: it cannot migrate the device's state");
    g_assert_false(device(res, 3)->entry);
    g_assert_true(g_str_has_prefix(device(res, 3)->why, "the VF's migration features cannot be read: "));
    g_assert_nonnull(strstr(device(res, 3)->why, "lacks stop-copy"));
    g_assert_false(device(res, 4)->entry);
    g_assert_true(g_str_has_suffix(device(res, 4)->why, ", and 'vfio-pci' is no driver vfmig knows to migrate a device"));
    g_assert_false(device(res, 5)->entry);
    g_assert_null(device(res, 5)->driver);
    g_assert_true(g_str_has_prefix(device(res, 5)->why, "cannot read the VF: "));

    assertNothing(f, f->policy, none, VFMIG_HOST_DEFAULT_REASON_NO_MIGRATING_VF,
                  "none of the domain's VFs is on a driver that migrates it");
}


/* Upstream's mlx5_vfio_pci tells its features nowhere in sysfs: an entry
 * without identity.  Pre-copy required of a VF without pre-copy: said. */
static void
testNoIdentity(Fake *f,
               gconstpointer data G_GNUC_UNUSED)
{
    static const Dev devs[] = {
        { false, VFMLX, "hostdev0" },
        { false, VFNOPRE, "hostdev1" },
    };
    g_autofree char *xml = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold", NULL, devs, 2);
    g_autoptr(vfmigHostDefaultResult) res = decide(f, f->policy, xml);

    g_assert_cmpint(res->action, ==, VFMIG_HOST_DEFAULT_WRITE);
    g_assert_cmpuint(res->policy->nhostdevs, ==, 2);
    g_assert_null(res->policy->hostdevs[0]->identity);
    g_assert_true(device(res, 0)->entry);
    g_assert_nonnull(strstr(device(res, 0)->why, ": the entry has no identity of the VF, so the destination's hook checks only its own VF"));
    g_assert_nonnull(res->policy->hostdevs[1]->identity);
    g_assert_false(res->policy->hostdevs[1]->identity->multiLoad);
    g_assert_cmpstr(device(res, 1)->why, ==, "the host policy requires pre-copy, and this VF ('vfmig_testdev') cannot pre-copy: its state moves at the switch-over all the same");
    g_assert_cmpstr(res->metadata, ==,
                    "<migration origin='host' flavor='vf.gold'>\n"
                    "  <downtime target-ms='300' on-failure='abort'/>\n"
                    "  <hostdev alias='hostdev0'>\n"
                    "    <precopy mode='required'/>\n"
                    "  </hostdev>\n"
                    "  <hostdev alias='hostdev1'>\n"
                    "    <precopy mode='required'/>\n"
                    "    <identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' stream-version='1' multi-load='no' state-size='" VFMIG_TEST_STATE_SIZE "'/>\n"
                    "  </hostdev>\n"
                    "</migration>\n");
}


/* An SR-IOV port as Nova attaches it: <interface type='hostdev'>, named
 * by libvirt's alias as a hostdev is. */
static void
testInterface(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    static const Dev devs[] = {
        { true, VF0, "hostdev0" },
        { false, VFNOPRE, "hostdev1" },
    };
    g_autofree char *xml = domainXML(VFMIG_NOVA_NS_URI_1_1, "m1.vf", NULL, devs, 2);
    g_autoptr(vfmigHostDefaultResult) res = decide(f, f->policy, xml);

    g_assert_cmpint(res->action, ==, VFMIG_HOST_DEFAULT_WRITE);
    g_assert_true(device(res, 0)->interface);
    g_assert_false(device(res, 1)->interface);
    g_assert_cmpuint(res->policy->nhostdevs, ==, 2);
    g_assert_cmpstr(res->policy->hostdevs[0]->alias, ==, "hostdev0");
    g_assert_cmpstr(res->policy->hostdevs[1]->alias, ==, "hostdev1");
    g_assert_cmpint(res->policy->hostdevs[0]->precopy, ==, VFMIG_DOMAIN_POLICY_PRECOPY_PREFERRED);
}


/* Not running (no libvirt aliases), no hostdev, no host policy. */
static void
testNothing(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    static const Dev defined[] = {
        { false, VF0, NULL },
    };
    static const Dev iface[] = {
        { false, VF0, "hostdev0" },
        { true, VFNOPRE, NULL },
    };
    g_autofree char *inactive = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold", NULL, defined, 1);
    g_autofree char *ifaceXML = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold", NULL, iface, 2);
    g_autofree char *noHostdev = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold", NULL, NULL, 0);
    g_autoptr(vfmigHostDefaultResult) res = NULL;

    assertNothing(f, f->policy, inactive, VFMIG_HOST_DEFAULT_REASON_NOT_RUNNING,
                  "hostdev 0000:00:02.0 has no alias: the XML is not that of a running domain, whose devices libvirt names, and the host default names each hostdev by libvirt's alias of it");
    res = decide(f, f->policy, ifaceXML);
    g_assert_cmpint(res->reason, ==, VFMIG_HOST_DEFAULT_REASON_NOT_RUNNING);
    g_assert_true(g_str_has_prefix(res->why, "<interface type='hostdev'> 0000:00:03.0 has no alias"));
    g_assert_cmpuint(res->devices->len, ==, 2);
    g_assert_cmpstr(device(res, 1)->why, ==, "it has no alias");
    g_assert_null(device(res, 0)->why);

    assertNothing(f, f->policy, noHostdev, VFMIG_HOST_DEFAULT_REASON_NO_HOSTDEV,
                  "the domain has no <hostdev type='pci'> and no <interface type='hostdev'>");
    assertNothing(f, NULL, inactive, VFMIG_HOST_DEFAULT_REASON_NO_HOST_POLICY,
                  "this host has no host policy");
}


/* What is no domain XML, or malformed, is an error. */
static void
testErrors(Fake *f,
           gconstpointer data G_GNUC_UNUSED)
{
    static const Dev devs[] = { { false, VF0, "hostdev0" } };
    g_autofree char *badPolicy = domainXML(VFMIG_NOVA_NS_URI_1_1, "vf.gold",
                                           "<vfmig:migration xmlns:vfmig='" VFMIG_DOMAIN_POLICY_NS_URI "' origin='guest'/>",
                                           devs, 1);
    g_autofree char *badFlavor = domainXML(VFMIG_NOVA_NS_URI_1_1, "", NULL, devs, 1);
    vfmigHostDefaultResult *res = NULL;

    g_assert_cmpint(vfmigHostDefaultDecide("<vm/>", f->policy, &f->paths, &res), ==, -1);
    g_assert_null(res);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "not a libvirt domain XML: the root element is <vm>, not <domain>");
    g_assert_cmpint(vfmigHostDefaultDecide(badPolicy, f->policy, &f->paths, &res), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "invalid domain migration policy: vfmig:migration: invalid value 'guest' of attribute 'origin': expected one of host");
    g_assert_cmpint(vfmigHostDefaultDecide(badFlavor, f->policy, &f->paths, &res), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "domain XML: <nova:flavor> of <nova:instance> has no name");
    g_assert_null(res);
    vfmigResetLastError();
}


/* The file: absent is no host policy; valid; each error names it. */
static void
testLoad(Fake *f,
         gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *path = g_build_filename(f->root, "host-policy.xml", NULL);
    g_autofree char *big = g_strnfill(VFMIG_HOST_POLICY_SIZE_MAX + 1, ' ');
    g_autofree char *want = NULL;
    g_autoptr(vfmigHostPolicy) policy = NULL;
    g_autofree char *out = NULL;

    g_assert_cmpint(vfmigHostDefaultLoadPolicy(path, &policy), ==, 0);
    g_assert_null(policy);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);

    vfmigTestWriteFile(path, HOST_POLICY);
    g_assert_cmpint(vfmigHostDefaultLoadPolicy(path, &policy), ==, 1);
    out = vfmigHostPolicyFormatString(policy);
    g_assert_cmpstr(out, ==, HOST_POLICY);
    g_clear_pointer(&policy, vfmigHostPolicyFree);

    vfmigTestWriteFile(path, "<hostpolicy xmlns='" VFMIG_HOST_POLICY_NS_URI "'><default><precopy mode='on'/></default></hostpolicy>");
    g_assert_cmpint(vfmigHostDefaultLoadPolicy(path, &policy), ==, -1);
    g_assert_null(policy);
    want = g_strdup_printf("%s: invalid host policy: hostpolicy/default/precopy: invalid value 'on' of attribute 'mode': expected one of required, preferred, off",
                           path);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);

    vfmigTestWriteFile(path, big);
    g_assert_cmpint(vfmigHostDefaultLoadPolicy(path, &policy), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), path));
    g_assert_cmpint(unlink(path), ==, 0);

    vfmigTestMkdirs(path);
    g_assert_cmpint(vfmigHostDefaultLoadPolicy(path, &policy), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), path));
    vfmigResetLastError();
}


/* The destination's hook checks a domain whose live policy the host
 * default wrote (origin='host', entries by libvirt's aliases), its
 * hostdevs at this host's VFs: accepted; with pre-copy required
 * (vf.gold), the VF without pre-copy is refused, by its alias. */
static vfmigHookResult *
hookCheck(Fake *f,
          const char *flavor)
{
    static const Dev devs[] = {
        { true, VF0, "hostdev0" },
        { false, VFNOPRE, "hostdev1" },
    };
    g_autofree char *xml = domainXML(VFMIG_NOVA_NS_URI_1_1, flavor, NULL, devs, 2);
    g_autoptr(vfmigHostDefaultResult) res = decide(f, f->policy, xml);
    g_autofree char *policy = vfmigDomainPolicyFormatString(res->policy);
    g_autofree char *incoming = domainXML(VFMIG_NOVA_NS_URI_1_1, flavor, policy, devs, 2);
    vfmigHookResult *hook = NULL;
    size_t i;

    g_assert_cmpuint(res->policy->nhostdevs, ==, 2);
    if (vfmigHookCheck("migrate", "begin", incoming, &f->paths, &hook) < 0)
        g_error("vfmigHookCheck: %s", vfmigGetLastErrorMessage());
    for (i = 0; i < hook->devices->len; i++) {
        g_autofree char *reasons = vfmigHookDeviceReasons(g_ptr_array_index(hook->devices, i));

        g_test_message("hook: %s", reasons);
    }
    g_assert_cmpuint(hook->devices->len, ==, 2);
    g_assert_cmpuint(hook->notes->len, ==, 0);
    g_assert_cmpstr(((vfmigHookDevice *) g_ptr_array_index(hook->devices, 0))->alias, ==, "hostdev0");
    g_assert_cmpstr(((vfmigHookDevice *) g_ptr_array_index(hook->devices, 1))->alias, ==, "hostdev1");
    return hook;
}


static void
testHook(Fake *f,
         gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigHookResult) accepted = hookCheck(f, "m1.vf");
    g_autoptr(vfmigHookResult) refused = hookCheck(f, "vf.gold");
    const vfmigHookDevice *dev;
    g_autofree char *name = NULL;

    g_assert_cmpint(accepted->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_cmpint(refused->verdict, ==, VFMIG_HOOK_REFUSED);
    dev = g_ptr_array_index(refused->devices, 0);
    g_assert_false(dev->refused);
    dev = g_ptr_array_index(refused->devices, 1);
    g_assert_true(dev->refused);
    name = vfmigHookDeviceName(dev);
    g_assert_cmpstr(name, ==, "hostdev 'hostdev1' (" VFNOPRE " on this host)");
}


int
main(int argc,
     char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define ADD(name, fn) \
    g_test_add("/host-default/" name, Fake, NULL, fakeSetup, fn, fakeTeardown)

    ADD("flavor", testFlavor);
    ADD("default", testDefault);
    ADD("no-default", testNoDefault);
    ADD("explicit", testExplicit);
    ADD("stale", testStale);
    ADD("skipped", testSkipped);
    ADD("no-identity", testNoIdentity);
    ADD("interface", testInterface);
    ADD("nothing", testNothing);
    ADD("errors", testErrors);
    ADD("load", testLoad);
    ADD("hook", testHook);
    return g_test_run();
}
