/*
 * test-hook.c: the libvirt hook's decision against fake sysfs trees
 *
 * Every test builds its own tree in a temporary directory: PCI functions
 * under devices/pci0000:00/ with the bus/pci/devices links, driver and
 * iommu_group links, vfio-dev/ for a VFIO driver's device, our drivers'
 * vfio_migration/ files and vfmig_testdev's state_size; then hands
 * vfmigHookCheck a domain XML with a migration policy.  Nothing opens a
 * real device.
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
#include "vfmigerror.h"
#include "vfmighook.h"

#define VF0 "0000:00:02.0"      /* vfmig_testdev, pre-copy, multi-load */
#define VF1 "0000:00:03.0"      /* another one, to rewrite addresses to */
#define SRC "0000:3b:00.2"      /* the source's address: not on this host */

#define STATE_SIZE "8388608"

#define IDENTITY \
    "<vfmig:identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' " \
    "stream-version='1' multi-load='yes' state-size='" STATE_SIZE "'/>"

typedef struct {
    char *root;
    char *sys;
    char *cache;
    vfmigNodeDevProbePaths paths;
} Fake;


static char *
devDir(Fake *f,
       const char *addr)
{
    return g_build_filename(f->sys, "devices", "pci0000:00", addr, NULL);
}


static void
attr(Fake *f,
     const char *addr,
     const char *name,
     const char *contents)
{
    g_autofree char *dir = devDir(f, addr);
    g_autofree char *path = g_build_filename(dir, name, NULL);

    vfmigTestWriteFile(path, contents);
}


static void
rmPath(Fake *f,
       const char *addr,
       const char *name)
{
    g_autofree char *dir = devDir(f, addr);
    g_autofree char *path = g_build_filename(dir, name, NULL);

    vfmigTestRmTree(path);
    g_unlink(path);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}


/* A PCI function: ids, the bus link, its driver (@vfio: one VFIO
 * registered the device for) and IOMMU group. */
static void
fakePCI(Fake *f,
        const char *addr,
        const char *vendor,
        const char *device,
        const char *driver,
        bool vfio,
        int group)
{
    g_autofree char *dir = devDir(f, addr);
    g_autofree char *busLink = g_build_filename(f->sys, "bus", "pci",
                                                "devices", addr, NULL);
    g_autofree char *num = g_strdup_printf("%d", group);
    g_autofree char *grp = g_build_filename(f->sys, "kernel", "iommu_groups",
                                            num, NULL);
    g_autofree char *grpLink = g_build_filename(dir, "iommu_group", NULL);

    vfmigTestMkdirs(dir);
    vfmigTestLink(dir, busLink);
    attr(f, addr, "vendor", vendor);
    attr(f, addr, "device", device);
    attr(f, addr, "enable", "0\n");
    if (driver) {
        g_autofree char *drv = g_build_filename(f->sys, "bus", "pci",
                                                "drivers", driver, NULL);
        g_autofree char *link = g_build_filename(dir, "driver", NULL);

        vfmigTestMkdirs(drv);
        vfmigTestLink(drv, link);
    }
    if (vfio) {
        g_autofree char *vfioDev = g_build_filename(dir, "vfio-dev", NULL);

        vfmigTestMkdirs(vfioDev);
    }
    vfmigTestMkdirs(grp);
    vfmigTestLink(grp, grpLink);
}


/* vfmig_testdev with our vfio_migration/ ABI, idle. */
static void
fakeTestdev(Fake *f,
            const char *addr,
            int group)
{
    fakePCI(f, addr, "0x1b36\n", "0x0005\n", "vfmig_testdev", true, group);
    attr(f, addr, "vfio_migration/features", "stop-copy p2p pre-copy dma-logging\n");
    attr(f, addr, "vfio_migration/precopy", "on\n");
    attr(f, addr, "vfio_migration/multi_load", "1\n");
    attr(f, addr, "vfio_migration/state", "RUNNING\n");
    attr(f, addr, "vfio_migration/initial_bytes", "0\n");
    attr(f, addr, "vfio_migration/dirty_bytes", "0\n");
    attr(f, addr, "vfio_migration/stop_copy_bytes", "8388720\n");
    attr(f, addr, "vfio_migration/stop_latency_us", "0\n");
    attr(f, addr, "vfio_migration/resume_latency_us", "0\n");
    attr(f, addr, "vfio_migration/stream_version", "1\n");
    attr(f, addr, "vfmig_testdev/state_size", STATE_SIZE "\n");
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
    fakeTestdev(f, VF0, 5);
    fakeTestdev(f, VF1, 6);
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
}


/* A domain XML: one hostdev at @addr (bus:slot.function of domain 0)
 * with @alias (or none), and @policy in <metadata> (or none). */
static char *
domainXML(const char *addr,
          const char *alias,
          const char *policy)
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
                           "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
                           "      <source>\n"
                           "        <address domain='0x0000' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                           "      </source>\n"
                           "%s"
                           "    </hostdev>\n"
                           "  </devices>\n"
                           "</domain>\n",
                           meta ? meta : "", bus, slot, fn,
                           aliasElt ? aliasElt : "");
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
    attr(f, VF0, "vfio_migration/stream_version", "2\n");
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
    attr(f, VF1, "vfio_migration/multi_load", "0\n");
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

    attr(f, VF1, "vfio_migration/multi_load", "0\n");
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

    fakePCI(f, "0000:00:04.0", "0x1b36\n", "0x0005\n", "pci-testdev", false, 7);
    assertRefused(f, "0000:00:04.0", e,
                  "the device is bound to 'pci-testdev', not to a VFIO driver");
    fakePCI(f, "0000:00:05.0", "0x1b36\n", "0x0005\n", NULL, false, 8);
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

    fakePCI(f, "0000:00:04.0", "0x1b36\n", "0x0005\n", "vfio-pci", true, 7);
    assertRefused(f, "0000:00:04.0", e,
                  "the device is bound to 'vfio-pci' and the source's VF to 'vfmig_testdev'");

    /* broken files: the probe's error is the reason */
    attr(f, VF0, "vfio_migration/state", "SLEEPING\n");
    assertRefused(f, VF0, e, "its migration features cannot be read (");
    assertRefused(f, VF0, e, "SLEEPING");

    rmPath(f, VF0, "vfio_migration");
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

    attr(f, VF0, "device", "0x0006\n");
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

    attr(f, VF0, "vfio_migration/stream_version", "2\n");
    assertRefused(f, VF0, e,
                  "different state stream versions (source 1, destination 2)");

    attr(f, VF0, "vfio_migration/firmware", "1.1\n");
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
    attr(f, VF0, "vfio_migration/multi_load", "0\n");
    assertRefused(f, VF0, e, "the domain's policy requires pre-copy, and this VF cannot load several images");
    assertRefused(f, VF0, noId, "the domain's policy requires pre-copy, and this VF cannot load several images");

    /* no pre-copy at all */
    attr(f, VF0, "vfio_migration/multi_load", "1\n");
    attr(f, VF0, "vfio_migration/precopy", "off\n");
    attr(f, VF0, "vfio_migration/features", "stop-copy p2p dma-logging\n");
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

    attr(f, VF0, "vfio_migration/multi_load", "0\n");
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

    attr(f, VF0, "vfmig_testdev/state_size", "4194304\n");
    assertRefused(f, VF0, e, "the source's state is 8388608 bytes and this VF holds 4194304 bytes");

    attr(f, VF0, "vfmig_testdev/state_size", "garbage\n");
    assertRefused(f, VF0, e, "cannot read the device's state size");

    /* a driver that does not tell its size: not checked */
    fakePCI(f, "0000:00:04.0", "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", true, 7);
    attr(f, "0000:00:04.0", "vfio_migration/features", "stop-copy p2p pre-copy\n");
    attr(f, "0000:00:04.0", "vfio_migration/precopy", "on\n");
    attr(f, "0000:00:04.0", "vfio_migration/multi_load", "1\n");
    attr(f, "0000:00:04.0", "vfio_migration/state", "RUNNING\n");
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

    attr(f, VF0, "device", "0x0006\n");
    attr(f, VF0, "vfio_migration/stream_version", "3\n");
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

    attr(f, VF0, "vfio_migration/stream_version", "2\n");
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

    return g_test_run();
}
