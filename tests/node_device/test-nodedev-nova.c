/*
 * test-nodedev-nova.c: what the node-device commands decide, as library
 * calls (vfmignodedevquery.h, vfmignodedevnova.h)
 *
 * Nova's verdict on a device from its capability (migratable; no dirty
 * tracking or no stop-copy: no, with the reason; unknown features: no,
 * with how to learn them), the device types and the alias entries, the
 * nova.conf checks (post-copy; a FIFO, /dev/zero or an oversized file
 * refused without blocking), which devices a listing shows, and the sides
 * of a comparison (a file, a bad argument).  An alarm ends the program if
 * any read blocks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmignodedevnova.h"
#include "vfmignodedevquery.h"
#include "vfmignodedevxml.h"

/* Any read that blocks ends the program here, a failure, not a hang. */
#define ALARM_SEC 30

#define CAP_HEAD \
    "<capability type='vfio-migration'>\n" \
    "  <driver name='mlx5_vfio_pci' variant='yes'/>\n" \
    "  <features source='sysfs'>\n"
#define CAP_TAIL \
    "  <identity vendor='0x15b3' device='0x101e'/>\n" \
    "</capability>\n"

/* stop-copy and pre-copy, the driver's DMA logging: QEMU migrates it */
#define CAP_MIGRATABLE \
    CAP_HEAD \
    "    <stop-copy/>\n" \
    "    <pre-copy mode='on'/>\n" \
    "  </features>\n" \
    "  <dirty-tracking type='device'/>\n" \
    CAP_TAIL

/* stop-copy without dirty tracking: QEMU needs enable-migration=on */
#define CAP_NO_DIRTY \
    CAP_HEAD \
    "    <stop-copy/>\n" \
    "  </features>\n" \
    "  <dirty-tracking type='none'/>\n" \
    CAP_TAIL

#define CAP_NO_DIRTY_REASON \
    CAP_HEAD \
    "    <stop-copy/>\n" \
    "  </features>\n" \
    "  <dirty-tracking type='none' reason='the driver offers no DMA logging'/>\n" \
    CAP_TAIL

/* no stop-copy: QEMU blocks the migration */
#define CAP_NO_STOP_COPY \
    CAP_HEAD \
    "    <p2p/>\n" \
    "  </features>\n" \
    "  <dirty-tracking type='device'/>\n" \
    CAP_TAIL


static vfmigNodeDevCapVFIOMig *
testCap(const char *xml)
{
    vfmigNodeDevCapVFIOMig *cap = vfmigNodeDevCapVFIOMigParseString(xml);

    g_assert_nonnull(cap);
    return cap;
}


/* A device as the probe has it: @xml NULL is a device without the
 * capability; @vfio false one not bound to a VFIO driver. */
static vfmigNodeDevPCI *
testDev(const char *address,
        unsigned int vendor,
        unsigned int device,
        bool vfio,
        const char *physfn,
        const char *xml)
{
    vfmigNodeDevPCI *dev = g_new0(vfmigNodeDevPCI, 1);

    dev->address = g_strdup(address);
    g_assert_cmpint(vfmigPCIAddressParse(address, 0, &dev->pci), ==, 0);
    dev->vendor = vendor;
    dev->device = device;
    dev->vfio = vfio;
    dev->driver = g_strdup(vfio ? "mlx5_vfio_pci" : "mlx5_core");
    dev->physfn = g_strdup(physfn);
    dev->iommuGroup = -1;
    if (xml)
        dev->cap = testCap(xml);
    return dev;
}


static void
testNovaMigratable(void)
{
    g_autoptr(vfmigNodeDevPCI) dev = testDev("0000:3b:00.2", 0x15b3, 0x101e, true,
                                             "0000:3b:00.0", CAP_MIGRATABLE);
    g_autofree char *why = NULL;

    g_assert_true(vfmigNodeDevNovaMigratable(dev, &why));
    g_assert_null(why);
}


static void
testNovaNoDirty(void)
{
    g_autoptr(vfmigNodeDevPCI) dev = testDev("0000:3b:00.3", 0x15b3, 0x101e, true,
                                             "0000:3b:00.0", CAP_NO_DIRTY);
    g_autoptr(vfmigNodeDevPCI) devReason = testDev("0000:3b:00.4", 0x15b3, 0x101e, true,
                                                   "0000:3b:00.0", CAP_NO_DIRTY_REASON);
    g_autoptr(vfmigNodeDevPCI) devKernel = testDev("0000:3b:00.5", 0x15b3, 0x101e, true,
                                                   "0000:3b:00.0", CAP_NO_DIRTY_REASON);
    g_autofree char *why = NULL;
    g_autofree char *whyReason = NULL;
    g_autofree char *whyKernel = NULL;

    g_assert_false(vfmigNodeDevNovaMigratable(dev, &why));
    g_assert_nonnull(why);
    g_assert_true(g_str_has_prefix(why, "no DMA dirty tracking: "));
    g_assert_nonnull(strstr(why, "enable-migration=on"));
    /* what it costs: 2^30 bytes at 1.25e9 bytes/s */
    g_assert_nonnull(strstr(why, "at least guest RAM / link bandwidth: 0.86 s per GiB of guest RAM at 10 Gbit/s"));
    g_assert_null(strstr(why, "Linux 6.1"));

    /* the capability's own reason is the one given */
    g_assert_false(vfmigNodeDevNovaMigratable(devReason, &whyReason));
    g_assert_cmpstr(whyReason, ==,
                    "no DMA dirty tracking: the driver offers no DMA logging; "
                    "the switch-over then copies all guest RAM with the guest stopped, "
                    "so the downtime is at least guest RAM / link bandwidth: "
                    "0.86 s per GiB of guest RAM at 10 Gbit/s, whatever the downtime target");

    /* the running kernel is why (Debian's 6.12): Linux 6.1 can report */
    devKernel->kernelNoDirty = true;
    g_assert_false(vfmigNodeDevNovaMigratable(devKernel, &whyKernel));
    g_assert_true(g_str_has_prefix(whyKernel, whyReason));
    g_assert_cmpstr(whyKernel + strlen(whyReason), ==,
                    "; Linux 6.1 can report device dirty pages: on ConnectX hosts "
                    "run it until Debian's kernel is built with CONFIG_IOMMUFD_DRIVER");
}


static void
testNovaNoStopCopy(void)
{
    g_autoptr(vfmigNodeDevPCI) dev = testDev("0000:3b:00.3", 0x15b3, 0x101e, true,
                                             NULL, CAP_NO_STOP_COPY);
    g_autofree char *why = NULL;

    g_assert_false(vfmigNodeDevNovaMigratable(dev, &why));
    g_assert_nonnull(why);
    g_assert_nonnull(strstr(why, "no stop-copy"));
}


static void
testNovaUnknown(void)
{
    g_autoptr(vfmigNodeDevPCI) dev = testDev("0000:3b:00.6", 0x15b3, 0x101e, true,
                                             "0000:3b:00.0", NULL);
    g_autoptr(vfmigNodeDevPCI) noted = testDev("0000:3b:00.7", 0x15b3, 0x101e, true,
                                               "0000:3b:00.0", NULL);
    g_autofree char *why = NULL;
    g_autofree char *whyNoted = NULL;

    g_assert_false(vfmigNodeDevNovaMigratable(dev, &why));
    g_assert_true(g_str_has_prefix(why, "migration features unknown; to learn them, run 'virt-vfmig device-qualify 0000:3b:00.6'"));

    noted->note = g_strdup("nothing publishes them");
    g_assert_false(vfmigNodeDevNovaMigratable(noted, &whyNoted));
    g_assert_true(g_str_has_prefix(whyNoted, "nothing publishes them; to learn them, run 'virt-vfmig device-qualify 0000:3b:00.7'"));
}


static void
testNovaType(void)
{
    g_autoptr(vfmigNodeDevPCI) vf = testDev("0000:3b:00.2", 0x15b3, 0x101e, true,
                                            "0000:3b:00.0", NULL);
    g_autoptr(vfmigNodeDevPCI) pf = testDev("0000:3b:00.0", 0x15b3, 0x101d, true,
                                            NULL, NULL);
    g_autoptr(vfmigNodeDevPCI) pci = testDev("0000:5e:00.0", 0x8086, 0x1572, true,
                                             NULL, NULL);

    pf->virtfns = g_new0(char *, 2);
    pf->virtfns[0] = g_strdup("0000:3b:00.2");
    g_assert_cmpstr(vfmigNodeDevNovaType(vf), ==, "type-VF");
    g_assert_cmpstr(vfmigNodeDevNovaType(pf), ==, "type-PF");
    g_assert_cmpstr(vfmigNodeDevNovaType(pci), ==, "type-PCI");
}


static vfmigNodeDevList *
testList(void)
{
    vfmigNodeDevList *list = g_new0(vfmigNodeDevList, 1);
    vfmigNodeDevPCI *pf = testDev("0000:3b:00.0", 0x15b3, 0x101d, false, NULL, NULL);
    vfmigNodeDevPCI *qualified;

    pf->virtfns = g_new0(char *, 4);
    pf->virtfns[0] = g_strdup("0000:3b:00.2");
    list->devices = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigNodeDevPCIFree);
    list->errors = g_ptr_array_new();
    g_ptr_array_add(list->devices, pf);
    g_ptr_array_add(list->devices,
                    testDev("0000:3b:00.2", 0x15b3, 0x101e, true, "0000:3b:00.0", CAP_MIGRATABLE));
    g_ptr_array_add(list->devices,
                    testDev("0000:3b:00.3", 0x15b3, 0x101e, true, "0000:3b:00.0", CAP_NO_DIRTY));
    qualified = testDev("0000:3b:00.4", 0x15b3, 0x101e, true, "0000:3b:00.0", CAP_MIGRATABLE);
    qualified->cap->qualified = g_new0(vfmigNodeDevQualified, 1);
    qualified->cap->qualified->verdict = VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED;
    g_ptr_array_add(list->devices, qualified);
    g_ptr_array_add(list->devices,
                    testDev("0000:3b:00.5", 0x15b3, 0x101e, false, "0000:3b:00.0", NULL));
    g_ptr_array_add(list->devices,
                    testDev("0000:3b:00.6", 0x15b3, 0x101e, true, "0000:3b:00.0", NULL));
    return list;
}


static void
testNovaSpec(void)
{
    g_autoptr(vfmigNodeDevNovaSpec) spec = vfmigNodeDevNovaSpecNew(testList());
    const vfmigNodeDevNovaDevice *d;
    const vfmigNodeDevNovaAlias *a;

    /* the devices bound to a VFIO driver, in order */
    g_assert_cmpuint(spec->devices->len, ==, 4);
    d = g_ptr_array_index(spec->devices, 0);
    g_assert_cmpstr(d->dev->address, ==, "0000:3b:00.2");
    g_assert_true(d->migratable);
    g_assert_null(d->why);
    g_assert_false(d->notQualified);
    g_assert_cmpuint(d->alias, ==, 0);

    d = g_ptr_array_index(spec->devices, 1);
    g_assert_cmpstr(d->dev->address, ==, "0000:3b:00.3");
    g_assert_false(d->migratable);
    g_assert_true(g_str_has_prefix(d->why, "no DMA dirty tracking"));
    g_assert_cmpuint(d->alias, ==, 1);

    /* migratable, but its last device-qualify did not qualify it */
    d = g_ptr_array_index(spec->devices, 2);
    g_assert_cmpstr(d->dev->address, ==, "0000:3b:00.4");
    g_assert_true(d->migratable);
    g_assert_true(d->notQualified);
    g_assert_cmpuint(d->alias, ==, 0);

    d = g_ptr_array_index(spec->devices, 3);
    g_assert_cmpstr(d->dev->address, ==, "0000:3b:00.6");
    g_assert_false(d->migratable);
    g_assert_cmpuint(d->alias, ==, 1);

    /* one alias per PCI id, device type and migratability */
    g_assert_cmpuint(spec->aliases->len, ==, 2);
    a = g_ptr_array_index(spec->aliases, 0);
    g_assert_cmpstr(a->name, ==, "vfmig-15b3-101e-vf");
    g_assert_cmpstr(a->type, ==, "type-VF");
    g_assert_cmphex(a->vendor, ==, 0x15b3);
    g_assert_cmphex(a->device, ==, 0x101e);
    g_assert_true(a->migratable);
    a = g_ptr_array_index(spec->aliases, 1);
    g_assert_cmpstr(a->name, ==, "vfmig-15b3-101e-vf-nomig");
    g_assert_false(a->migratable);
}


static void
testNovaSpecPF(void)
{
    vfmigNodeDevList *list = g_new0(vfmigNodeDevList, 1);
    g_autoptr(vfmigNodeDevNovaSpec) spec = NULL;
    vfmigNodeDevPCI *pf = testDev("0000:3b:00.0", 0x15b3, 0x101d, true, NULL, CAP_MIGRATABLE);
    const vfmigNodeDevNovaAlias *a;

    pf->virtfns = g_new0(char *, 2);
    pf->virtfns[0] = g_strdup("0000:3b:00.2");
    list->devices = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigNodeDevPCIFree);
    g_ptr_array_add(list->devices, pf);
    g_ptr_array_add(list->devices,
                    testDev("0000:5e:00.0", 0x8086, 0x1572, true, NULL, CAP_NO_STOP_COPY));
    spec = vfmigNodeDevNovaSpecNew(list);

    g_assert_cmpuint(spec->aliases->len, ==, 2);
    a = g_ptr_array_index(spec->aliases, 0);
    g_assert_cmpstr(a->name, ==, "vfmig-15b3-101d-pf");
    a = g_ptr_array_index(spec->aliases, 1);
    g_assert_cmpstr(a->name, ==, "vfmig-8086-1572-pci-nomig");
    g_assert_cmpstr(a->type, ==, "type-PCI");
}


static void
testNovaSpecEmpty(void)
{
    vfmigNodeDevList *list = g_new0(vfmigNodeDevList, 1);
    g_autoptr(vfmigNodeDevNovaSpec) spec = NULL;

    list->devices = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigNodeDevPCIFree);
    g_ptr_array_add(list->devices,
                    testDev("0000:3b:00.5", 0x15b3, 0x101e, false, "0000:3b:00.0", NULL));
    spec = vfmigNodeDevNovaSpecNew(list);
    g_assert_cmpuint(spec->devices->len, ==, 0);
    g_assert_cmpuint(spec->aliases->len, ==, 0);
}


/* ---- nova.conf */

static char *
testWrite(const char *dir,
          const char *name,
          const char *content)
{
    char *path = g_build_filename(dir, name, NULL);

    g_assert_true(g_file_set_contents(path, content, -1, NULL));
    return path;
}


static void
testConfPostCopy(void)
{
    g_autofree char *dir = g_dir_make_tmp("vfmig-nova-XXXXXX", NULL);
    g_autofree char *on = testWrite(dir, "on.conf",
                                    "[DEFAULT]\nx = 1\n[libvirt]\nlive_migration_permit_post_copy = True \n");
    g_autofree char *off = testWrite(dir, "off.conf",
                                     "[libvirt]\nlive_migration_permit_post_copy = False\n");
    g_autofree char *unset = testWrite(dir, "unset.conf", "[libvirt]\nvirt_type = kvm\n");
    g_autoptr(GPtrArray) warnings = NULL;
    const char *msg;

    g_assert_cmpint(vfmigNodeDevNovaConfCheck(on, &warnings), ==, 1);
    g_assert_cmpuint(warnings->len, ==, 1);
    msg = g_ptr_array_index(warnings, 0);
    g_assert_true(g_str_has_prefix(msg, on));
    g_assert_nonnull(strstr(msg, "live_migration_permit_post_copy is True, but QEMU refuses post-copy"));
    g_clear_pointer(&warnings, g_ptr_array_unref);

    g_assert_cmpint(vfmigNodeDevNovaConfCheck(off, &warnings), ==, 1);
    g_assert_cmpuint(warnings->len, ==, 0);
    g_clear_pointer(&warnings, g_ptr_array_unref);

    g_assert_cmpint(vfmigNodeDevNovaConfCheck(unset, &warnings), ==, 1);
    g_assert_cmpuint(warnings->len, ==, 0);
    g_clear_pointer(&warnings, g_ptr_array_unref);

    g_unlink(on);
    g_unlink(off);
    g_unlink(unset);
    g_rmdir(dir);
}


static void
testConfRefused(void)
{
    g_autofree char *dir = g_dir_make_tmp("vfmig-nova-XXXXXX", NULL);
    g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing.conf", NULL);
    g_autofree char *big = g_build_filename(dir, "big.conf", NULL);
    g_autofree char *bigContent = g_malloc(VFMIG_NODEDEV_NOVA_CONF_MAX + 2);
    g_autofree char *bad = testWrite(dir, "bad.conf", "[libvirt\nfoo\n");
    g_autoptr(GPtrArray) warnings = NULL;

    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    memset(bigContent, '#', VFMIG_NODEDEV_NOVA_CONF_MAX + 1);
    bigContent[VFMIG_NODEDEV_NOVA_CONF_MAX + 1] = '\0';
    g_assert_true(g_file_set_contents(big, bigContent, -1, NULL));

    /* a FIFO nobody writes: refused, not waited on */
    g_assert_cmpint(vfmigNodeDevNovaConfCheck(fifo, &warnings), ==, -1);
    g_assert_null(warnings);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "is a FIFO, not a regular file"));

    g_assert_cmpint(vfmigNodeDevNovaConfCheck("/dev/zero", &warnings), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "is a character device, not a regular file"));

    g_assert_cmpint(vfmigNodeDevNovaConfCheck(big, &warnings), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "is larger than"));

    /* a path given is not optional */
    g_assert_cmpint(vfmigNodeDevNovaConfCheck(missing, &warnings), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "No such file or directory"));

    g_assert_cmpint(vfmigNodeDevNovaConfCheck(bad, &warnings), ==, -1);
    g_assert_true(g_str_has_prefix(vfmigGetLastErrorMessage(), "cannot parse Nova configuration file"));
    g_assert_null(warnings);
    vfmigResetLastError();

    g_unlink(fifo);
    g_unlink(big);
    g_unlink(bad);
    g_rmdir(dir);
}


/* ---- nodedev-list and nodedev-compare */

static void
testListMatch(void)
{
    g_autoptr(vfmigNodeDevPCI) pre = testDev("0000:3b:00.2", 0x15b3, 0x101e, true,
                                             NULL, CAP_MIGRATABLE);
    g_autoptr(vfmigNodeDevPCI) stop = testDev("0000:3b:00.3", 0x15b3, 0x101e, true,
                                              NULL, CAP_NO_DIRTY);
    g_autoptr(vfmigNodeDevPCI) unknown = testDev("0000:3b:00.6", 0x15b3, 0x101e, true,
                                                 NULL, NULL);
    g_autoptr(vfmigNodeDevPCI) core = testDev("0000:3b:00.5", 0x15b3, 0x101e, false,
                                              NULL, NULL);

    /* every VFIO device, the one with unknown features too */
    g_assert_true(vfmigNodeDevListMatch(pre, 0));
    g_assert_true(vfmigNodeDevListMatch(stop, 0));
    g_assert_true(vfmigNodeDevListMatch(unknown, 0));
    g_assert_false(vfmigNodeDevListMatch(core, 0));
    g_assert_true(vfmigNodeDevListMatch(core, VFMIG_NODEDEV_LIST_ALL_PCI));

    g_assert_true(vfmigNodeDevListMatch(pre, VFMIG_NODEDEV_LIST_PRE_COPY));
    g_assert_false(vfmigNodeDevListMatch(stop, VFMIG_NODEDEV_LIST_PRE_COPY));
    g_assert_false(vfmigNodeDevListMatch(unknown, VFMIG_NODEDEV_LIST_PRE_COPY));
    g_assert_false(vfmigNodeDevListMatch(core, VFMIG_NODEDEV_LIST_ALL_PCI |
                                         VFMIG_NODEDEV_LIST_PRE_COPY));

    g_assert_cmpstr(vfmigNodeDevCapState(pre->cap), ==, "RUNNING");
    pre->cap->live = g_new0(vfmigNodeDevLive, 1);
    pre->cap->live->state = g_strdup("PRE_COPY");
    g_assert_cmpstr(vfmigNodeDevCapState(pre->cap), ==, "PRE_COPY");

    g_assert_cmpstr(vfmigNodeDevUnknownNote(unknown), ==, "migration features unknown");
}


static void
testCompareArgs(void)
{
    g_autofree char *dir = g_dir_make_tmp("vfmig-nova-XXXXXX", NULL);
    g_autofree char *src = testWrite(dir, "src.xml", CAP_MIGRATABLE);
    g_autofree char *dst = testWrite(dir, "dst.xml", CAP_NO_STOP_COPY);
    g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
    g_autofree char *sys = g_build_filename(dir, "sys", NULL);
    g_autoptr(vfmigNodeDevCompareRun) run = NULL;
    vfmigNodeDevProbePaths paths = { .sysfsRoot = sys, .cacheDir = dir };

    g_assert_cmpint(vfmigNodeDevCompareArgs(&paths, 0, src, src, &run), ==, 0);
    g_assert_nonnull(run->src);
    g_assert_nonnull(run->dst);
    /* it can move; the destination loads one pre-copy image only */
    g_assert_cmpint(run->res->verdict, ==, VFMIG_NODEDEV_COMPARE_DEGRADED);
    g_assert_cmpint(run->res->qemu, ==, VFMIG_NODEDEV_QEMU_ALLOWED);
    g_assert_cmpuint(run->res->reasons->len, ==, 1);
    g_assert_cmpint(((vfmigNodeDevCompareReason *) g_ptr_array_index(run->res->reasons, 0))->code,
                    ==, VFMIG_NODEDEV_REASON_NO_MULTI_LOAD);
    g_assert_false(run->badArg);
    g_clear_pointer(&run, vfmigNodeDevCompareRunFree);

    /* compared, and the destination cannot load the state */
    g_assert_cmpint(vfmigNodeDevCompareArgs(&paths, 0, src, dst, &run), ==, 0);
    g_assert_cmpint(run->res->verdict, ==, VFMIG_NODEDEV_COMPARE_INCOMPATIBLE);
    g_clear_pointer(&run, vfmigNodeDevCompareRunFree);

    /* a FIFO is a file: refused, not waited on, not a usage error */
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_assert_cmpint(vfmigNodeDevCompareArgs(&paths, 0, src, fifo, &run), ==, -1);
    g_assert_false(run->badArg);
    g_assert_null(run->res);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "is a FIFO"));
    g_clear_pointer(&run, vfmigNodeDevCompareRunFree);

    /* neither a file nor a PCI address: the caller's usage error, and
     * the destination is not looked at */
    g_assert_cmpint(vfmigNodeDevCompareArgs(&paths, 0, "nosuchfile", fifo, &run), ==, -1);
    g_assert_true(run->badArg);
    g_assert_null(run->src);
    g_assert_cmpuint(run->warnings->len, ==, 0);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "'nosuchfile' is not a PCI address"));
    g_clear_pointer(&run, vfmigNodeDevCompareRunFree);

    /* a PCI address of a device this host does not have */
    g_assert_cmpint(vfmigNodeDevCompareArgs(&paths, 0, "3b:00.2", src, &run), ==, -1);
    g_assert_false(run->badArg);
    g_clear_pointer(&run, vfmigNodeDevCompareRunFree);
    vfmigResetLastError();

    g_unlink(src);
    g_unlink(dst);
    g_unlink(fifo);
    g_rmdir(dir);
}


int
main(int argc,
     char **argv)
{
    g_test_init(&argc, &argv, NULL);
    alarm(ALARM_SEC);

    g_test_add_func("/nodedev/nova/migratable", testNovaMigratable);
    g_test_add_func("/nodedev/nova/no-dirty-tracking", testNovaNoDirty);
    g_test_add_func("/nodedev/nova/no-stop-copy", testNovaNoStopCopy);
    g_test_add_func("/nodedev/nova/unknown-features", testNovaUnknown);
    g_test_add_func("/nodedev/nova/type", testNovaType);
    g_test_add_func("/nodedev/nova/spec", testNovaSpec);
    g_test_add_func("/nodedev/nova/spec-pf-pci", testNovaSpecPF);
    g_test_add_func("/nodedev/nova/spec-empty", testNovaSpecEmpty);
    g_test_add_func("/nodedev/nova/conf-post-copy", testConfPostCopy);
    g_test_add_func("/nodedev/nova/conf-refused", testConfRefused);
    g_test_add_func("/nodedev/query/list-match", testListMatch);
    g_test_add_func("/nodedev/query/compare-args", testCompareArgs);

    return g_test_run();
}
