/*
 * test-hook.c: the libvirt hook's decision against fake sysfs trees
 *
 * Every test builds its own tree in a temporary directory: PCI functions
 * under devices/pci0000:00/ with the bus/pci/devices links, driver and
 * iommu_group links, vfio-dev/ for a VFIO driver's device, our drivers'
 * vfio_migration/ files and vfmig_testdev's state_size, every device's
 * modalias; and a module tree (modules.alias with vfmig's vfio_pci
 * aliases, modules.dep) for the hostdevs with managed='yes', which
 * libvirt binds itself after the hook; then hands vfmigHookCheck a domain
 * XML with a migration policy.  Nothing opens a real device.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmigtestfs.h"
#include "vfmigtestpci.h"
#include "vfmigerror.h"
#include "vfmighook.h"

#define VF0 "0000:00:02.0"      /* vfmig_testdev, pre-copy, multi-load */
#define VF1 "0000:00:03.0"      /* another one, to rewrite addresses to */
#define SRC "0000:3b:00.2"      /* the source's address: not on this host */

#define STATE_SIZE VFMIG_TEST_STATE_SIZE

#define IDENTITY \
    "<vfmig:identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' " \
    "stream-version='1' multi-load='yes' state-size='" STATE_SIZE "'/>"

/* What depmod writes on a host with vfmig's modules. */
#define ALIASES \
    "# Aliases extracted from modules themselves.\n" \
    "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core\n" \
    "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n" \
    "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_testdev\n" \
    "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_mlx5model\n"
#define DEPS \
    "updates/dkms/vfmig_testdev.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n" \
    "updates/dkms/vfmig_mlx5model.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n"

typedef struct {
    char *root;
    char *sys;
    char *cache;
    char *modules;
    vfmigNodeDevProbePaths paths;
} Fake;


/* <modules>/@name with @contents */
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

    f->root = g_dir_make_tmp("vfmig-hook-XXXXXX", &err);
    g_assert_no_error(err);
    f->sys = g_build_filename(f->root, "sys", NULL);
    f->cache = g_build_filename(f->root, "cache", NULL);
    memset(&f->paths, 0, sizeof(f->paths));
    f->paths.sysfsRoot = f->sys;
    f->paths.debugfsRoot = f->root;     /* no vfio/ in it */
    f->paths.devRoot = f->root;
    f->paths.procRoot = f->root;
    f->paths.cacheDir = f->cache;
    f->paths.kernelConfig = "/nonexistent";
    f->modules = g_build_filename(f->root, "modules", NULL);
    f->paths.modulesDir = f->modules;
    modulesFile(f, "modules.alias", ALIASES);
    modulesFile(f, "modules.dep", DEPS);
    vfmigTestTestdev(f->sys, VF0, "stop-copy p2p pre-copy dma-logging\n", "on\n", 5);
    vfmigTestTestdev(f->sys, VF1, "stop-copy p2p pre-copy dma-logging\n", "on\n", 6);
    vfmigResetLastError();
}


static void
fakeTeardown(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    /* the hook writes nothing: no cache directory was made */
    g_assert_false(g_file_test(f->cache, G_FILE_TEST_EXISTS));
    vfmigTestRmTree(f->root);
    g_free(f->root);
    g_free(f->sys);
    g_free(f->cache);
    g_free(f->modules);
}


/* A domain XML: one hostdev at @addr (bus:slot.function of domain 0)
 * with @alias (or none), managed @managed, @driver as its <driver>
 * element (or none), and @policy in <metadata> (or none). */
static char *
domainXMLManaged(const char *addr,
                 const char *alias,
                 const char *policy,
                 const char *managed,
                 const char *driver)
{
    unsigned int bus, slot, fn;
    g_autofree char *aliasElt = NULL;
    g_autofree char *meta = NULL;

    g_assert_cmpint(sscanf(addr, "0000:%x:%x.%x", &bus, &slot, &fn), ==, 3);
    if (alias)
        aliasElt = g_strdup_printf("      <alias name='%s'/>\n", alias);
    if (policy)
        meta = g_strdup_printf("  <metadata>\n"
                               "    <vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>\n"
                               "%s"
                               "    </vfmig:migration>\n"
                               "  </metadata>\n", policy);
    return g_strdup_printf("<domain type='kvm'>\n"
                           "  <name>vm0</name>\n"
                           "  <uuid>8f7c0d56-6a43-4a8e-9a6c-3e1a3c4d5e6f</uuid>\n"
                           "%s"
                           "  <memory unit='KiB'>65536</memory>\n"
                           "  <devices>\n"
                           "    <hostdev mode='subsystem' type='pci' managed='%s'>\n"
                           "%s%s%s"
                           "      <source>\n"
                           "        <address domain='0x0000' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                           "      </source>\n"
                           "%s"
                           "    </hostdev>\n"
                           "  </devices>\n"
                           "</domain>\n",
                           meta ? meta : "", managed,
                           driver ? "      " : "", driver ? driver : "", driver ? "\n" : "",
                           bus, slot, fn, aliasElt ? aliasElt : "");
}


/* The same, managed='no': the VF bound beforehand. */
static char *
domainXML(const char *addr,
          const char *alias,
          const char *policy)
{
    return domainXMLManaged(addr, alias, policy, "no", NULL);
}


/* The policy entry for 'ua-vf0' with @precopy mode (or none) and
 * @identity (or none). */
static char *
entry(const char *precopy,
      const char *identity)
{
    g_autofree char *pre = NULL;

    if (precopy)
        pre = g_strdup_printf("        <vfmig:precopy mode='%s'/>\n", precopy);
    return g_strdup_printf("      <vfmig:hostdev alias='ua-vf0'>\n"
                           "%s%s%s%s"
                           "      </vfmig:hostdev>\n",
                           pre ? pre : "",
                           identity ? "        " : "",
                           identity ? identity : "",
                           identity ? "\n" : "");
}


static vfmigHookResult *
check(Fake *f,
      const char *op,
      const char *xml)
{
    vfmigHookResult *res = NULL;

    if (vfmigHookCheck(op, "begin", xml, &f->paths, &res) < 0)
        g_error("vfmigHookCheck: %s", vfmigGetLastErrorMessage());
    g_assert_nonnull(res);
    return res;
}


/* "migrate begin" of the standard domain with @policyEntry, the hostdev at
 * @addr: refused, one device, a reason containing @want. */
static void
assertRefused(Fake *f,
              const char *addr,
              const char *policyEntry,
              const char *want)
{
    g_autofree char *xml = domainXML(addr, "ua-vf0", policyEntry);
    g_autoptr(vfmigHookResult) res = check(f, "migrate", xml);
    const vfmigHookDevice *dev;
    g_autofree char *reasons = NULL;
    g_autofree char *name = NULL;
    g_autofree char *want2 = NULL;

    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_REFUSED);
    g_assert_true(res->wouldRefuse);
    g_assert_cmpuint(res->devices->len, ==, 1);
    dev = g_ptr_array_index(res->devices, 0);
    g_assert_true(dev->refused);
    g_assert_cmpstr(dev->alias, ==, "ua-vf0");
    g_assert_cmpstr(dev->address, ==, addr);
    reasons = vfmigHookDeviceReasons(dev);
    if (!strstr(reasons, want))
        g_error("reasons '%s' do not contain '%s'", reasons, want);
    name = vfmigHookDeviceName(dev);
    want2 = g_strdup_printf("hostdev 'ua-vf0' (%s on this host)", addr);
    g_assert_cmpstr(name, ==, want2);
}


static void
testAccepted(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry("required", IDENTITY);
    g_autofree char *xml = domainXML(VF0, "ua-vf0", e);
    g_autoptr(vfmigHookResult) res = check(f, "migrate", xml);
    const vfmigHookDevice *dev;
    g_autofree char *reasons = NULL;
    g_autofree char *name = NULL;

    g_assert_cmpint(res->op, ==, VFMIG_HOOK_OP_MIGRATE);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_false(res->wouldRefuse);
    g_assert_cmpuint(res->devices->len, ==, 1);
    g_assert_cmpuint(res->notes->len, ==, 0);
    dev = g_ptr_array_index(res->devices, 0);
    g_assert_false(dev->refused);
    reasons = vfmigHookDeviceReasons(dev);
    g_assert_cmpstr(reasons, ==, "accepted: pre-copy with several images");
    name = vfmigHookDeviceName(dev);
    g_assert_cmpstr(name, ==, "hostdev 'ua-vf0' (" VF0 " on this host)");
}


/* Without an identity only the local device is judged. */
static void
testAcceptedNoIdentity(Fake *f,
                       gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, NULL);
    g_autofree char *xml = domainXML(VF0, "ua-vf0", e);
    g_autoptr(vfmigHookResult) res = check(f, "migrate", xml);
    const vfmigHookDevice *dev;
    g_autofree char *reasons = NULL;

    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    dev = g_ptr_array_index(res->devices, 0);
    reasons = vfmigHookDeviceReasons(dev);
    g_assert_nonnull(strstr(reasons, "no identity of the source VF"));
}


/* A hostdev without an alias, named by the policy by its address (the
 * same on both hosts): found, and named by its address in messages. */
static void
testByAddress(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    const char *policy =
        "      <vfmig:hostdev>\n"
        "        <vfmig:source><vfmig:address domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></vfmig:source>\n"
        "        " IDENTITY "\n"
        "      </vfmig:hostdev>\n";
    g_autofree char *xml = domainXML(VF0, NULL, policy);
    g_autoptr(vfmigHookResult) res = NULL;
    const vfmigHookDevice *dev;
    g_autofree char *name = NULL;

    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_cmpuint(res->devices->len, ==, 1);

    /* the same with the device refused: how it is named */
    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/stream_version", "2\n");
    g_clear_pointer(&res, vfmigHookResultFree);
    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_REFUSED);
    dev = g_ptr_array_index(res->devices, 0);
    g_assert_null(dev->alias);
    name = vfmigHookDeviceName(dev);
    g_assert_cmpstr(name, ==, "hostdev " VF0 " (on this host)");
}


/* Nova or --xml put this host's VF into the XML: the entry by alias still
 * names it, and the local device is the one checked; an entry by the
 * source's address names nothing here and is a note, not a refusal. */
static void
testAddressRewritten(Fake *f,
                     gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry("required", IDENTITY);
    g_autofree char *policy = g_strconcat(e,
        "      <vfmig:hostdev>\n"
        "        <vfmig:source><vfmig:address domain='0x0000' bus='0x3b' slot='0x00' function='0x2'/></vfmig:source>\n"
        "        <vfmig:precopy mode='required'/>\n"
        "      </vfmig:hostdev>\n", NULL);
    g_autofree char *xml = domainXML(VF1, "ua-vf0", policy);
    g_autoptr(vfmigHookResult) res = NULL;
    const vfmigHookDevice *dev;

    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_cmpuint(res->devices->len, ==, 1);
    dev = g_ptr_array_index(res->devices, 0);
    g_assert_cmpstr(dev->address, ==, VF1);
    g_assert_cmpuint(res->notes->len, ==, 1);
    g_assert_nonnull(strstr(g_ptr_array_index(res->notes, 0), SRC));
    g_assert_nonnull(strstr(g_ptr_array_index(res->notes, 0), "names no hostdev"));

    /* it is VF1 that is looked at: break VF1, not VF0 */
    vfmigTestPCIAttr(f->sys, VF1, "vfio_migration/multi_load", "0\n");
    g_clear_pointer(&res, vfmigHookResultFree);
    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_REFUSED);
}


/* A VF attached as <interface type='hostdev'>, as Nova attaches SR-IOV
 * ports, is checked like a <hostdev>. */
static void
testInterface(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);
    g_autofree char *xml = g_strdup_printf(
        "<domain type='kvm'>\n"
        "  <name>vm0</name>\n"
        "  <metadata>\n"
        "    <vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>\n"
        "%s"
        "    </vfmig:migration>\n"
        "  </metadata>\n"
        "  <devices>\n"
        "    <interface type='hostdev' managed='no'>\n"
        "      <mac address='52:54:00:6d:90:02'/>\n"
        "      <source>\n"
        "        <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n"
        "      </source>\n"
        "      <alias name='ua-vf0'/>\n"
        "    </interface>\n"
        "  </devices>\n"
        "</domain>\n", e);
    g_autoptr(vfmigHookResult) res = NULL;
    const vfmigHookDevice *dev;

    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_cmpuint(res->devices->len, ==, 1);
    dev = g_ptr_array_index(res->devices, 0);
    g_assert_cmpstr(dev->address, ==, VF1);

    vfmigTestPCIAttr(f->sys, VF1, "vfio_migration/multi_load", "0\n");
    g_clear_pointer(&res, vfmigHookResultFree);
    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_REFUSED);
}


static void
testNoDevice(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);

    assertRefused(f, "0000:00:09.0", e,
                  "this host has no PCI device 0000:00:09.0");
}


static void
testNotVFIO(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);

    vfmigTestPCI(f->sys, "0000:00:04.0", "0x1b36\n", "0x0005\n", "pci-testdev", false, 7);
    assertRefused(f, "0000:00:04.0", e,
                  "the device is bound to 'pci-testdev', not to a VFIO driver");
    vfmigTestPCI(f->sys, "0000:00:05.0", "0x1b36\n", "0x0005\n", NULL, false, 8);
    assertRefused(f, "0000:00:05.0", e,
                  "the device is bound to no driver: bind it to 'vfmig_testdev'");
}


/* Plain vfio-pci, which publishes nothing: another driver than the
 * source's says so; the source's own driver without its sysfs files has
 * unknown features. */
static void
testFeaturesUnknown(Fake *f,
                    gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);

    vfmigTestPCI(f->sys, "0000:00:04.0", "0x1b36\n", "0x0005\n", "vfio-pci", true, 7);
    assertRefused(f, "0000:00:04.0", e,
                  "the device is bound to 'vfio-pci' and the source's VF to 'vfmig_testdev'");

    /* broken files: the probe's error is the reason */
    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/state", "SLEEPING\n");
    assertRefused(f, VF0, e, "its migration features cannot be read (");
    assertRefused(f, VF0, e, "SLEEPING");

    vfmigTestPCIRemove(f->sys, VF0, "vfio_migration");
    assertRefused(f, VF0, e,
                  "migration features unknown");
    assertRefused(f, VF0, e,
                  "virt-vfmig device-qualify " VF0);
}


static void
testOtherId(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);

    vfmigTestPCIAttr(f->sys, VF0, "device", "0x0006\n");
    assertRefused(f, VF0, e,
                  "different PCI ids (source 1b36:0005, destination 1b36:0006)");
}


static void
testOtherVersion(Fake *f,
                 gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);
    g_autofree char *e2 = entry(NULL,
        "<vfmig:identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' "
        "firmware='1.0' multi-load='yes'/>");

    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/stream_version", "2\n");
    assertRefused(f, VF0, e,
                  "different state stream versions (source 1, destination 2)");

    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/firmware", "1.1\n");
    assertRefused(f, VF0, e2,
                  "different firmware (source '1.0', destination '1.1')");
}


static void
testOtherDriver(Fake *f,
                gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL,
        "<vfmig:identity driver='mlx5_vfio_pci' vendor='0x1b36' device='0x0005' multi-load='yes'/>");

    assertRefused(f, VF0, e, "different drivers (source 'mlx5_vfio_pci', destination 'vfmig_testdev')");
}


static void
testPrecopyRequired(Fake *f,
                    gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry("required", IDENTITY);
    g_autofree char *noId = entry("required", NULL);
    g_autofree char *preferred = entry("preferred", IDENTITY);
    g_autofree char *xml = domainXML(VF0, "ua-vf0", preferred);
    g_autoptr(vfmigHookResult) res = NULL;

    /* no multi-load: only 'single' */
    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/multi_load", "0\n");
    assertRefused(f, VF0, e, "the domain's policy requires pre-copy, and this VF cannot load several images");
    assertRefused(f, VF0, noId, "the domain's policy requires pre-copy, and this VF cannot load several images");

    /* no pre-copy at all */
    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/multi_load", "1\n");
    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/precopy", "off\n");
    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/features", "stop-copy p2p dma-logging\n");
    assertRefused(f, VF0, e, "the domain's policy requires pre-copy, and this VF cannot pre-copy (driver 'vfmig_testdev', pre-copy mode 'off')");
    assertRefused(f, VF0, noId, "this VF cannot pre-copy");

    /* preferred: migrates without */
    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
}


/* The source sends several images; this VF loads one. */
static void
testMultiLoad(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);
    g_autofree char *off = entry("off", IDENTITY);
    g_autofree char *single = entry(NULL,
        "<vfmig:identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' multi-load='no'/>");
    g_autofree char *xmlOff = domainXML(VF0, "ua-vf0", off);
    g_autofree char *xmlSingle = domainXML(VF0, "ua-vf0", single);
    g_autoptr(vfmigHookResult) res = NULL;
    const vfmigHookDevice *dev;
    g_autofree char *reasons = NULL;

    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/multi_load", "0\n");
    assertRefused(f, VF0, e, "this VF loads only one image (no multi-load)");

    /* pre-copy off: one image */
    res = check(f, "migrate", xmlOff);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_clear_pointer(&res, vfmigHookResultFree);

    /* a source that sends one image */
    res = check(f, "migrate", xmlSingle);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    dev = g_ptr_array_index(res->devices, 0);
    reasons = vfmigHookDeviceReasons(dev);
    g_assert_cmpstr(reasons, ==, "accepted: the whole state moves at stop-copy (pre-copy mode 'single')");
}


static void
testStateSize(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);
    g_autofree char *mlx = entry(NULL,
        "<vfmig:identity driver='mlx5_vfio_pci' vendor='0x15b3' device='0x101e' multi-load='yes' state-size='999'/>");
    g_autofree char *xml = domainXML("0000:00:04.0", "ua-vf0", mlx);
    g_autoptr(vfmigHookResult) res = NULL;

    vfmigTestPCIAttr(f->sys, VF0, "vfmig_testdev/state_size", "4194304\n");
    assertRefused(f, VF0, e, "the source's state is 8388608 bytes and this VF holds 4194304 bytes");

    vfmigTestPCIAttr(f->sys, VF0, "vfmig_testdev/state_size", "garbage\n");
    assertRefused(f, VF0, e, "cannot read the device's state size");

    /* a driver that does not tell its size: not checked */
    vfmigTestPCI(f->sys, "0000:00:04.0", "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", true, 7);
    vfmigTestPCIAttr(f->sys, "0000:00:04.0", "vfio_migration/features", "stop-copy p2p pre-copy\n");
    vfmigTestPCIAttr(f->sys, "0000:00:04.0", "vfio_migration/precopy", "on\n");
    vfmigTestPCIAttr(f->sys, "0000:00:04.0", "vfio_migration/multi_load", "1\n");
    vfmigTestPCIAttr(f->sys, "0000:00:04.0", "vfio_migration/state", "RUNNING\n");
    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
}


/* Every reason of a device, not the first only. */
static void
testSeveralReasons(Fake *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);
    g_autofree char *xml = domainXML(VF0, "ua-vf0", e);
    g_autoptr(vfmigHookResult) res = NULL;
    const vfmigHookDevice *dev;

    vfmigTestPCIAttr(f->sys, VF0, "device", "0x0006\n");
    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/stream_version", "3\n");
    res = check(f, "migrate", xml);
    dev = g_ptr_array_index(res->devices, 0);
    g_assert_cmpuint(dev->reasons->len, ==, 2);
}


/* prepare begin runs before every start: never refused, but noted. */
static void
testPrepare(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);
    g_autofree char *xml = domainXML(VF0, "ua-vf0", e);
    g_autoptr(vfmigHookResult) res = NULL;

    res = check(f, "prepare", xml);
    g_assert_cmpint(res->op, ==, VFMIG_HOOK_OP_PREPARE);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_false(res->wouldRefuse);
    g_clear_pointer(&res, vfmigHookResultFree);

    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/stream_version", "2\n");
    res = check(f, "prepare", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_true(res->wouldRefuse);
    g_assert_true(((vfmigHookDevice *) g_ptr_array_index(res->devices, 0))->refused);
}


/* No policy, or one that names no hostdev: nothing to do. */
static void
testNoPolicy(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *xml = domainXML("0000:00:09.0", "ua-vf0", NULL);
    g_autofree char *empty = domainXML("0000:00:09.0", "ua-vf0", "");
    g_autoptr(vfmigHookResult) res = NULL;

    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_NOTHING);
    g_assert_cmpuint(res->devices->len, ==, 0);
    g_clear_pointer(&res, vfmigHookResultFree);

    res = check(f, "migrate", empty);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_NOTHING);
    g_assert_cmpuint(res->devices->len, ==, 0);
}


/* Other calls: not even the XML is looked at. */
static void
testOtherOps(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    static const char *const ops[][2] = {
        { "start", "begin" }, { "started", "begin" }, { "stopped", "end" },
        { "release", "end" }, { "restore", "begin" }, { "reconnect", "begin" },
        { "attach", "begin" }, { "migrate", "end" }, { "prepare", "end" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(ops); i++) {
        g_autoptr(vfmigHookResult) res = NULL;

        g_assert_cmpint(vfmigHookCheck(ops[i][0], ops[i][1], "not XML at all",
                                       &f->paths, &res), ==, 0);
        g_assert_cmpint(res->op, ==, VFMIG_HOOK_OP_OTHER);
        g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_NOTHING);
    }
    g_assert_cmpint(vfmigHookOpFromArgs("migrate", "begin"), ==, VFMIG_HOOK_OP_MIGRATE);
    g_assert_cmpint(vfmigHookOpFromArgs("prepare", "begin"), ==, VFMIG_HOOK_OP_PREPARE);
}


/* Malformed input is an error, which the front end turns into a refusal. */
static void
testBadXML(Fake *f,
           gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *bad = domainXML(VF0, "ua-vf0",
        "      <vfmig:hostdev alias='ua-vf0'><vfmig:precopy mode='sometimes'/></vfmig:hostdev>\n");
    vfmigHookResult *res = NULL;

    g_assert_cmpint(vfmigHookCheck("migrate", "begin", "<domain", &f->paths, &res), ==, -1);
    g_assert_null(res);
    g_assert_cmpint(vfmigHookCheck("migrate", "begin", bad, &f->paths, &res), ==, -1);
    g_assert_null(res);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "sometimes"));
    vfmigResetLastError();
}


/* ---- managed='yes': libvirt binds the VF after the hook */

#define VFHOST "0000:00:04.0"   /* pci-testdev's own driver, a host driver */

/* "migrate begin" of a managed hostdev at @addr (<driver> @driver) with
 * @policyEntry: the verdict @verdict, and the device's reasons exactly
 * @want, where "@MODULES@" stands for the module tree. */
static void
assertManaged(Fake *f,
              const char *addr,
              const char *driver,
              const char *policyEntry,
              vfmigHookVerdict verdict,
              const char *want)
{
    g_autofree char *xml = domainXMLManaged(addr, "ua-vf0", policyEntry, "yes", driver);
    g_autoptr(vfmigHookResult) res = check(f, "migrate", xml);
    const vfmigHookDevice *dev;
    g_autofree char *reasons = NULL;
    g_autoptr(GString) expect = g_string_new(want);

    g_assert_cmpint(res->verdict, ==, verdict);
    g_assert_cmpuint(res->devices->len, ==, 1);
    dev = g_ptr_array_index(res->devices, 0);
    g_assert_cmpint(dev->refused, ==, verdict == VFMIG_HOOK_REFUSED);
    reasons = vfmigHookDeviceReasons(dev);
    g_string_replace(expect, "@MODULES@", f->modules, 0);
    g_assert_cmpstr(reasons, ==, expect->str);
}


/* The VF on its host driver, as Nova leaves it: libvirt will bind it to
 * vfmig_testdev, whose alias matches; what the hook checks before that
 * (the driver, the ids), and what it says it cannot. */
static void
testManagedHostDriver(Fake *f,
                      gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry("required", IDENTITY);
    g_autofree char *noId = entry(NULL, NULL);

    vfmigTestPCI(f->sys, VFHOST, "0x1b36\n", "0x0005\n", "pci-testdev", false, 7);
    assertManaged(f, VFHOST, NULL, e, VFMIG_HOOK_ACCEPTED,
                  "accepted before its driver is bound: libvirt binds the device, on 'pci-testdev' now, to 'vfmig_testdev' (its best vfio_pci alias in '@MODULES@/modules.alias', 'v00001B36d00000005sv*sd*bc*sc*i*') as it starts the domain here (managed='yes'); what only the bound driver tells (its migration features, pre-copy, multi-load, firmware, state format and size) is not checked here: a VF that cannot take the source's state fails the migration when the state arrives, and the domain keeps running on the source");
    assertManaged(f, VFHOST, NULL, noId, VFMIG_HOOK_ACCEPTED,
                  "the policy has no identity of the source VF: its driver, ids and state format were not checked; "
                  "accepted before its driver is bound: libvirt binds the device, on 'pci-testdev' now, to 'vfmig_testdev' (its best vfio_pci alias in '@MODULES@/modules.alias', 'v00001B36d00000005sv*sd*bc*sc*i*') as it starts the domain here (managed='yes'); what only the bound driver tells (its migration features, pre-copy, multi-load, firmware, state format and size) is not checked here: a VF that cannot take the source's state fails the migration when the state arrives, and the domain keeps running on the source");

    /* managed='no' still wants it bound */
    assertRefused(f, VFHOST, e, "the device is bound to 'pci-testdev', not to a VFIO driver");
}


/* Unbound, or on another VFIO driver (which libvirt replaces): the
 * same. */
static void
testManagedUnbound(Fake *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);

    vfmigTestPCI(f->sys, VFHOST, "0x1b36\n", "0x0005\n", NULL, false, 7);
    assertManaged(f, VFHOST, NULL, e, VFMIG_HOOK_ACCEPTED,
                  "accepted before its driver is bound: libvirt binds the device, bound to no driver now, to 'vfmig_testdev' (its best vfio_pci alias in '@MODULES@/modules.alias', 'v00001B36d00000005sv*sd*bc*sc*i*') as it starts the domain here (managed='yes'); what only the bound driver tells (its migration features, pre-copy, multi-load, firmware, state format and size) is not checked here: a VF that cannot take the source's state fails the migration when the state arrives, and the domain keeps running on the source");
    vfmigTestPCI(f->sys, "0000:00:05.0", "0x1b36\n", "0x0005\n", "vfio-pci", true, 8);
    assertManaged(f, "0000:00:05.0", NULL, e, VFMIG_HOOK_ACCEPTED,
                  "accepted before its driver is bound: libvirt binds the device, on 'vfio-pci' now, to 'vfmig_testdev' (its best vfio_pci alias in '@MODULES@/modules.alias', 'v00001B36d00000005sv*sd*bc*sc*i*') as it starts the domain here (managed='yes'); what only the bound driver tells (its migration features, pre-copy, multi-load, firmware, state format and size) is not checked here: a VF that cannot take the source's state fails the migration when the state arrives, and the domain keeps running on the source");
}


/* On the driver libvirt binds already: checked as a bound VF, with all
 * its features. */
static void
testManagedBound(Fake *f,
                 gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry("required", IDENTITY);

    assertManaged(f, VF0, NULL, e, VFMIG_HOOK_ACCEPTED,
                  "accepted: pre-copy with several images");
    vfmigTestPCIAttr(f->sys, VF0, "vfio_migration/stream_version", "2\n");
    assertManaged(f, VF0, NULL, e, VFMIG_HOOK_REFUSED,
                  "the devices use different state stream versions (source 1, destination 2)");
}


/* The policy the host default wrote into the running domain's live
 * metadata comes along in the migratable XML: origin='host', its entry
 * naming the hostdev by libvirt's alias, which the XML keeps.  Checked as
 * any entry; a policy of a user's cannot name hostdev0. */
static void
testHostOrigin(Fake *f,
               gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *plain = domainXMLManaged(VF0, "hostdev0", NULL, "yes", NULL);
    g_auto(GStrv) parts = g_strsplit(plain, "  <memory unit", 2);
    g_autofree char *xml = NULL;
    g_autofree char *user = NULL;
    g_autoptr(vfmigHookResult) res = NULL;
    vfmigHookResult *none = NULL;
    const vfmigHookDevice *dev;
    g_autofree char *name = NULL;

    g_assert_cmpuint(g_strv_length(parts), ==, 2);
    xml = g_strconcat(parts[0],
                      "  <metadata>\n"
                      "    <vfmig:migration xmlns:vfmig=\"http://vfmig.org/xmlns/libvirt/domain/1.0\" origin=\"host\" flavor=\"vf.gold\">\n"
                      "      <vfmig:downtime target-ms=\"300\" on-failure=\"abort\"/>\n"
                      "      <vfmig:hostdev alias=\"hostdev0\">\n"
                      "        <vfmig:precopy mode=\"required\"/>\n"
                      "        " IDENTITY "\n"
                      "      </vfmig:hostdev>\n"
                      "    </vfmig:migration>\n"
                      "  </metadata>\n"
                      "  <memory unit", parts[1], NULL);
    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_cmpuint(res->notes->len, ==, 0);
    g_assert_cmpuint(res->devices->len, ==, 1);
    dev = g_ptr_array_index(res->devices, 0);
    g_assert_false(dev->refused);
    name = vfmigHookDeviceName(dev);
    g_assert_cmpstr(name, ==, "hostdev 'hostdev0' (" VF0 " on this host)");

    user = domainXML(VF0, "hostdev0", "      <vfmig:hostdev alias='hostdev0'/>\n");
    g_assert_cmpint(vfmigHookCheck("migrate", "begin", user, &f->paths, &none), ==, -1);
    g_assert_null(none);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "invalid domain migration policy: vfmig:migration/vfmig:hostdev: invalid value 'hostdev0' of attribute 'alias': a hostdev is named by its user alias, 'ua-' and letters, digits, '_' or '-'");
    vfmigResetLastError();
}


/* No vfio_pci alias for the device: libvirt binds vfio-pci, also in
 * place of the VFIO driver the VF is on now. */
static void
testManagedNoAlias(Fake *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);

    modulesFile(f, "modules.alias",
                "# Aliases extracted from modules themselves.\n"
                "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n");
    vfmigTestPCI(f->sys, VFHOST, "0x1b36\n", "0x0005\n", "pci-testdev", false, 7);
    assertManaged(f, VFHOST, NULL, e, VFMIG_HOOK_REFUSED,
                  "libvirt will bind it to vfio-pci, which cannot migrate: no vfio_pci alias in '@MODULES@/modules.alias' matches the device (1b36:0005, modalias 'v00001B36d00000005" VFMIG_TEST_MODALIAS_REST "'); install the module 'vfmig_testdev' (vfmig's kernel modules have it) and run 'depmod -a', or name the driver in the hostdev: <driver model='vfmig_testdev'/>");
    assertManaged(f, VF0, NULL, e, VFMIG_HOOK_REFUSED,
                  "libvirt will bind it to vfio-pci, which cannot migrate: no vfio_pci alias in '@MODULES@/modules.alias' matches the device (1b36:0005, modalias 'v00001B36d00000005" VFMIG_TEST_MODALIAS_REST "'); install the module 'vfmig_testdev' (vfmig's kernel modules have it) and run 'depmod -a', or name the driver in the hostdev: <driver model='vfmig_testdev'/>");
}


/* <driver model=> wins over the aliases: a variant driver, or plain
 * vfio-pci. */
static void
testManagedDriverModel(Fake *f,
                       gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);

    modulesFile(f, "modules.alias", "# Aliases extracted from modules themselves.\n");
    vfmigTestPCI(f->sys, VFHOST, "0x1b36\n", "0x0005\n", "pci-testdev", false, 7);
    assertManaged(f, VFHOST, "<driver model='vfmig_testdev'/>", e, VFMIG_HOOK_ACCEPTED,
                  "accepted before its driver is bound: libvirt binds the device, on 'pci-testdev' now, to 'vfmig_testdev' (the hostdev's <driver model='vfmig_testdev'/>) as it starts the domain here (managed='yes'); what only the bound driver tells (its migration features, pre-copy, multi-load, firmware, state format and size) is not checked here: a VF that cannot take the source's state fails the migration when the state arrives, and the domain keeps running on the source");
    assertManaged(f, VFHOST, "<driver name='vfio' model='vfio-pci'/>", e, VFMIG_HOOK_REFUSED,
                  "libvirt will bind it to 'vfio-pci' (the hostdev's <driver model='vfio-pci'/>), a driver vfmig knows no VFIO migration of: name a VFIO variant driver with migration there, or remove <driver model> to let libvirt choose by the kernel's module aliases");
    /* a VF on vfmig_testdev that libvirt would move to vfio-pci */
    assertManaged(f, VF0, "<driver model='vfio-pci'/>", e, VFMIG_HOOK_REFUSED,
                  "libvirt will bind it to 'vfio-pci' (the hostdev's <driver model='vfio-pci'/>), a driver vfmig knows no VFIO migration of: name a VFIO variant driver with migration there, or remove <driver model> to let libvirt choose by the kernel's module aliases");
}


/* What the identity says and can be checked before binding: the driver
 * libvirt binds and the PCI ids. */
static void
testManagedIdentity(Fake *f,
                    gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);

    /* the firmware model's alias first: libvirt takes it */
    modulesFile(f, "modules.alias",
                "# Aliases extracted from modules themselves.\n"
                "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_mlx5model\n"
                "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_testdev\n"
                "alias vfio_pci:v00001B36d00000006sv*sd*bc*sc*i* vfmig_testdev\n");
    vfmigTestPCI(f->sys, VFHOST, "0x1b36\n", "0x0005\n", "pci-testdev", false, 7);
    assertManaged(f, VFHOST, NULL, e, VFMIG_HOOK_REFUSED,
                  "libvirt will bind the device to 'vfmig_mlx5model' (its best vfio_pci alias in '@MODULES@/modules.alias', 'v00001B36d00000005sv*sd*bc*sc*i*') and the source's VF is on 'vfmig_testdev': a driver loads only its own state format; give this hostdev <driver model='vfmig_testdev'/>, or migrate to a VF that libvirt binds to it");
    /* as it says */
    assertManaged(f, VFHOST, "<driver model='vfmig_testdev'/>", e, VFMIG_HOOK_ACCEPTED,
                  "accepted before its driver is bound: libvirt binds the device, on 'pci-testdev' now, to 'vfmig_testdev' (the hostdev's <driver model='vfmig_testdev'/>) as it starts the domain here (managed='yes'); what only the bound driver tells (its migration features, pre-copy, multi-load, firmware, state format and size) is not checked here: a VF that cannot take the source's state fails the migration when the state arrives, and the domain keeps running on the source");

    vfmigTestPCI(f->sys, "0000:00:05.0", "0x1b36\n", "0x0006\n", "pci-testdev", false, 8);
    assertManaged(f, "0000:00:05.0", NULL, e, VFMIG_HOOK_REFUSED,
                  "the devices have different PCI ids (source 1b36:0005, destination 1b36:0006)");
}


/* A driver with migration that this host lacks (stale modules.alias, or
 * a <driver model> nobody installed): libvirt would fail to start. */
static void
testManagedMissingModule(Fake *f,
                         gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL,
        "<vfmig:identity driver='mlx5_vfio_pci' vendor='0x15b3' device='0x101e' multi-load='yes'/>");

    vfmigTestPCI(f->sys, "0000:00:06.0", "0x15b3\n", "0x101e\n", "mlx5_core", false, 9);
    assertManaged(f, "0000:00:06.0", NULL, e, VFMIG_HOOK_REFUSED,
                  "libvirt will bind it to 'mlx5_vfio_pci' (its best vfio_pci alias in '@MODULES@/modules.alias', 'v000015B3d0000101Esv*sd*bc*sc*i*'), and this host has no such driver: it is not registered in sysfs, and no module 'mlx5_vfio_pci' is in '@MODULES@/modules.dep', so libvirt would fail to start the domain; install the module and run 'depmod -a'");

    modulesFile(f, "modules.dep", DEPS "updates/dkms/mlx5_vfio_pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n");
    assertManaged(f, "0000:00:06.0", NULL, e, VFMIG_HOOK_ACCEPTED,
                  "accepted before its driver is bound: libvirt binds the device, on 'mlx5_core' now, to 'mlx5_vfio_pci' (its best vfio_pci alias in '@MODULES@/modules.alias', 'v000015B3d0000101Esv*sd*bc*sc*i*') as it starts the domain here (managed='yes'); what only the bound driver tells (its migration features, pre-copy, multi-load, firmware, state format and size) is not checked here: a VF that cannot take the source's state fails the migration when the state arrives, and the domain keeps running on the source");
}


/* A modules.alias libvirt refuses: so does the hook. */
static void
testManagedBadAliases(Fake *f,
                      gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);
    g_autofree char *big = g_malloc0(8 * 1024 * 1024 + 2);

    memset(big, '#', 8 * 1024 * 1024 + 1);
    modulesFile(f, "modules.alias", big);
    vfmigTestPCI(f->sys, VFHOST, "0x1b36\n", "0x0005\n", "pci-testdev", false, 7);
    assertManaged(f, VFHOST, NULL, e, VFMIG_HOOK_REFUSED,
                  "libvirt binds the device itself (managed='yes'), and the driver it binds cannot be told: kernel module alias file '@MODULES@/modules.alias' is larger than 8 MiB (8388609 bytes): libvirt reads at most 8 MiB of it and fails to start the domain; regenerate it with 'depmod -a'");
}


/* Nova's <interface type='hostdev' managed='yes'>, and "prepare begin"
 * (every start): notes only. */
static void
testManagedInterface(Fake *f,
                     gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *e = entry(NULL, IDENTITY);
    g_autofree char *xml = g_strdup_printf(
        "<domain type='kvm'>\n"
        "  <name>vm0</name>\n"
        "  <metadata>\n"
        "    <vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>\n"
        "%s"
        "    </vfmig:migration>\n"
        "  </metadata>\n"
        "  <devices>\n"
        "    <interface type='hostdev' managed='yes'>\n"
        "      <mac address='52:54:00:6d:90:02'/>\n"
        "      <source>\n"
        "        <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>\n"
        "      </source>\n"
        "      <alias name='ua-vf0'/>\n"
        "    </interface>\n"
        "  </devices>\n"
        "</domain>\n", e);
    g_autoptr(vfmigHookResult) res = NULL;

    vfmigTestPCI(f->sys, VFHOST, "0x1b36\n", "0x0005\n", "pci-testdev", false, 7);
    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_clear_pointer(&res, vfmigHookResultFree);

    modulesFile(f, "modules.alias", "# Aliases extracted from modules themselves.\n");
    res = check(f, "migrate", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_REFUSED);
    g_clear_pointer(&res, vfmigHookResultFree);
    res = check(f, "prepare", xml);
    g_assert_cmpint(res->verdict, ==, VFMIG_HOOK_ACCEPTED);
    g_assert_true(res->wouldRefuse);
}

int
main(int argc,
     char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define ADD(name, fn) \
    g_test_add("/hook/" name, Fake, NULL, fakeSetup, fn, fakeTeardown)

    ADD("accepted", testAccepted);
    ADD("accepted-no-identity", testAcceptedNoIdentity);
    ADD("by-address", testByAddress);
    ADD("address-rewritten", testAddressRewritten);
    ADD("interface-hostdev", testInterface);
    ADD("refused/no-device", testNoDevice);
    ADD("refused/not-vfio", testNotVFIO);
    ADD("refused/features-unknown", testFeaturesUnknown);
    ADD("refused/other-id", testOtherId);
    ADD("refused/other-version", testOtherVersion);
    ADD("refused/other-driver", testOtherDriver);
    ADD("refused/precopy-required", testPrecopyRequired);
    ADD("refused/multi-load", testMultiLoad);
    ADD("refused/state-size", testStateSize);
    ADD("refused/several-reasons", testSeveralReasons);
    ADD("prepare", testPrepare);
    ADD("no-policy", testNoPolicy);
    ADD("other-operations", testOtherOps);
    ADD("bad-xml", testBadXML);
    ADD("managed/host-driver", testManagedHostDriver);
    ADD("managed/unbound", testManagedUnbound);
    ADD("managed/bound", testManagedBound);
    ADD("managed/no-alias", testManagedNoAlias);
    ADD("managed/driver-model", testManagedDriverModel);
    ADD("managed/identity", testManagedIdentity);
    ADD("managed/missing-module", testManagedMissingModule);
    ADD("managed/bad-aliases", testManagedBadAliases);
    ADD("managed/interface", testManagedInterface);
    ADD("host-origin", testHostOrigin);

    return g_test_run();
}
