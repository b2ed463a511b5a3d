/*
 * test-nodedev-nova.c: what the node-device commands decide, as library
 * calls (vfmignodedevquery.h, vfmignodedevnova.h)
 *
 * Nova's verdict on a device from its capability (migratable; no dirty
 * tracking or no stop-copy: no, with the reason; unknown features: no,
 * with how to learn them), the device types and the alias entries; the
 * settings of nova.conf and the options for them (oslo.config's words,
 * Nova's ranges, an option over the file), device_spec values read and
 * matched as Nova does, nova.conf read with a bound (a FIFO, /dev/zero or
 * an oversized file refused without blocking); each warning, message in
 * full; which devices a listing shows, and the sides of a comparison (a
 * file, a bad argument).  An alarm ends the program if any read blocks.
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


/* A spec of testList() checked with @conf and a nova.conf of @content
 * (NULL: none given, an empty file). */
static vfmigNodeDevNovaSpec *
testCheck(vfmigNodeDevNovaConf *conf,
          const char *content)
{
    g_autofree char *dir = g_dir_make_tmp("vfmig-nova-XXXXXX", NULL);
    g_autofree char *path = testWrite(dir, "nova.conf", content ? content : "");
    vfmigNodeDevNovaSpec *spec = vfmigNodeDevNovaSpecNew(testList());

    vfmigNodeDevNovaSpecCheck(spec, conf, path);
    g_unlink(path);
    g_rmdir(dir);
    return spec;
}


/* The messages of @spec's warnings of @code, in order. */
static GPtrArray *
testWarnings(const vfmigNodeDevNovaSpec *spec,
             vfmigNodeDevNovaWarn code)
{
    GPtrArray *msgs = g_ptr_array_new();
    size_t i;

    for (i = 0; i < spec->warnings->len; i++) {
        const vfmigNodeDevNovaWarning *w = g_ptr_array_index(spec->warnings, i);

        if (w->code == code)
            g_ptr_array_add(msgs, w->message);
    }
    return msgs;
}


/* The one warning of @code of @spec. */
static const char *
testWarning(const vfmigNodeDevNovaSpec *spec,
            vfmigNodeDevNovaWarn code)
{
    g_autoptr(GPtrArray) msgs = testWarnings(spec, code);

    g_assert_cmpuint(msgs->len, ==, 1);
    return g_ptr_array_index(msgs, 0);
}


static void
testNoWarning(const vfmigNodeDevNovaSpec *spec,
              vfmigNodeDevNovaWarn code)
{
    g_autoptr(GPtrArray) msgs = testWarnings(spec, code);

    g_assert_cmpuint(msgs->len, ==, 0);
}


static void
testSet(vfmigNodeDevNovaConf *conf,
        vfmigNodeDevNovaSetting setting,
        const char *value)
{
    g_autofree char *name = g_strdelimit(g_strdup(vfmigNodeDevNovaSettingTypeToString(setting)),
                                         "_", '-');
    g_autofree char *from = g_strdup_printf("--%s", name);

    g_assert_cmpint(vfmigNodeDevNovaConfSet(conf, setting, value, from), ==, 0);
}


static void
testSpecLine(vfmigNodeDevNovaConf *conf,
             const char *text)
{
    g_assert_cmpint(vfmigNodeDevNovaConfAddDeviceSpec(conf, text, "--device-spec-line"), ==, 0);
    conf->deviceSpecsGiven = true;
}


static void
testWarnNames(void)
{
    /* the codes are an interface: --json prints them */
    static const char *const names[] = {
        "not-live-migratable", "not-qualified", "nova-conf-unreadable",
        "nova-conf-invalid", "post-copy", "force-complete-pause",
        "tunnelled-no-switchover-ack", "tunnelled-parallel",
        "downtime-below-target", "physical-network-unplug",
        "device-spec-not-migratable",
    };
    size_t i;

    G_STATIC_ASSERT(G_N_ELEMENTS(names) == VFMIG_NODEDEV_NOVA_WARN_LAST);
    for (i = 0; i < G_N_ELEMENTS(names); i++)
        g_assert_cmpstr(vfmigNodeDevNovaWarnTypeToString(i), ==, names[i]);
    g_assert_cmpstr(vfmigNodeDevNovaSettingTypeToString(VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS),
                    ==, "live_migration_parallel_connections");
}


static void
testConfSet(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    vfmigNodeDevNovaValue *v;

    /* Nova's defaults, from nowhere */
    v = &conf->settings[VFMIG_NODEDEV_NOVA_DOWNTIME];
    g_assert_cmpint(v->value, ==, 500);
    g_assert_cmpstr(v->text, ==, "500");
    g_assert_null(v->from);
    g_assert_cmpuint(conf->targetMs, ==, 300);

    /* oslo.config's words, any case, white space stripped */
    testSet(conf, VFMIG_NODEDEV_NOVA_TUNNELLED, " ON ");
    v = &conf->settings[VFMIG_NODEDEV_NOVA_TUNNELLED];
    g_assert_cmpint(v->value, ==, 1);
    g_assert_cmpstr(v->text, ==, "ON");
    g_assert_cmpstr(v->from, ==, "--live-migration-tunnelled");
    testSet(conf, VFMIG_NODEDEV_NOVA_TUNNELLED, "no");
    g_assert_cmpint(v->value, ==, 0);
    testSet(conf, VFMIG_NODEDEV_NOVA_TIMEOUT_ACTION, "force_complete");
    g_assert_cmpint(conf->settings[VFMIG_NODEDEV_NOVA_TIMEOUT_ACTION].value, ==,
                    VFMIG_NODEDEV_NOVA_TIMEOUT_FORCE_COMPLETE);
    testSet(conf, VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS, "-3");
    g_assert_cmpint(conf->settings[VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS].value, ==, -3);
    testSet(conf, VFMIG_NODEDEV_NOVA_DOWNTIME, "100");

    /* what Nova refuses, the value kept */
    g_assert_cmpint(vfmigNodeDevNovaConfSet(conf, VFMIG_NODEDEV_NOVA_TUNNELLED, "t", "--live-migration-tunnelled"), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "--live-migration-tunnelled: live_migration_tunnelled wants True or False (or yes, no, on, off, 1, 0), not 't'");
    g_assert_cmpint(vfmigNodeDevNovaConfSet(conf, VFMIG_NODEDEV_NOVA_TIMEOUT_ACTION, "Abort", "x.conf"), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "x.conf: live_migration_timeout_action wants abort or force_complete, not 'Abort'");
    g_assert_cmpint(vfmigNodeDevNovaConfSet(conf, VFMIG_NODEDEV_NOVA_DOWNTIME, "99", "--live-migration-downtime"), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "--live-migration-downtime: live_migration_downtime wants a whole number from 100 to 2147483647, not '99'");
    g_assert_cmpint(vfmigNodeDevNovaConfSet(conf, VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS, "4x", "p"), ==, -1);
    g_assert_cmpint(conf->settings[VFMIG_NODEDEV_NOVA_DOWNTIME].value, ==, 100);
    g_assert_cmpint(conf->settings[VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS].value, ==, -3);
    vfmigResetLastError();
}


static void
testDeviceSpecParse(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    const vfmigNodeDevNovaDeviceSpec *ds;

    /* Nova's own examples (devspec.py, pci-passthrough.rst), a whole
     * nova.conf line, a list */
    testSpecLine(conf, "device_spec = { \"vendor_id\":\"8086\", \"product_id\":\"10ca\", \"address\": \"0000:06:\", \"physical_network\": \"physnet2\", \"live_migratable\": false}");
    testSpecLine(conf, "{\"address\": {\"domain\": \".*\", \"bus\": \"02\", \"slot\": \"01\", \"function\": \"[0-2]\"}, \"physical_network\":\"net1\"}");
    testSpecLine(conf, "[{\"vendor_id\": \"0x15B3\", \"product_id\": \"*\", \"address\": \"3b:00.2\", \"live_migratable\": \"Yes\"}, {\"devname\": \"ens1f0\"}]");
    testSpecLine(conf, "{\"address\": \".2\", \"managed\": \"no\"}");
    g_assert_cmpuint(conf->deviceSpecs->len, ==, 5);

    ds = g_ptr_array_index(conf->deviceSpecs, 0);
    g_assert_cmpint(ds->kind, ==, VFMIG_NODEDEV_NOVA_ADDR_GLOB);
    g_assert_cmpint(ds->vendor, ==, 0x8086);
    g_assert_cmpint(ds->device, ==, 0x10ca);
    g_assert_cmpstr(ds->field[0], ==, "0000");
    g_assert_cmpstr(ds->field[1], ==, "06");
    g_assert_null(ds->field[2]);
    g_assert_null(ds->field[3]);
    g_assert_null(ds->single);
    g_assert_cmpstr(ds->physicalNetwork, ==, "physnet2");
    g_assert_cmpint(ds->liveMigratable, ==, 0);
    g_assert_cmpstr(ds->from, ==, "--device-spec-line");
    g_assert_true(g_str_has_prefix(ds->text, "device_spec = "));

    ds = g_ptr_array_index(conf->deviceSpecs, 1);
    g_assert_cmpint(ds->kind, ==, VFMIG_NODEDEV_NOVA_ADDR_REGEX);
    g_assert_cmpint(ds->vendor, ==, -1);
    g_assert_cmpstr(ds->field[3], ==, "[0-2]");
    g_assert_cmpint(ds->liveMigratable, ==, -1);

    ds = g_ptr_array_index(conf->deviceSpecs, 2);
    g_assert_cmpint(ds->vendor, ==, 0x15b3);
    g_assert_cmpint(ds->device, ==, -1);
    g_assert_null(ds->field[0]);
    g_assert_cmpstr(ds->field[1], ==, "3b");
    g_assert_cmpstr(ds->field[2], ==, "00");
    g_assert_cmpstr(ds->field[3], ==, "2");
    g_assert_cmpint(ds->liveMigratable, ==, 1);
    ds = g_ptr_array_index(conf->deviceSpecs, 3);
    g_assert_cmpint(ds->kind, ==, VFMIG_NODEDEV_NOVA_ADDR_DEVNAME);
    /* both entries of the list keep the line they came from */
    g_assert_true(g_str_has_prefix(ds->text, "[{\"vendor_id\": \"0x15B3\""));

    ds = g_ptr_array_index(conf->deviceSpecs, 4);
    g_assert_null(ds->field[0]);
    g_assert_cmpstr(ds->field[3], ==, "2");
}


/* @text is refused with the message @why after its quote. */
static void
testDeviceSpecBad(const char *text,
                  const char *why)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autofree char *want = g_strdup_printf("--device-spec-line: device_spec '%s' is not one Nova takes: %s",
                                            text, why);

    g_assert_cmpint(vfmigNodeDevNovaConfAddDeviceSpec(conf, text, "--device-spec-line"), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
    g_assert_cmpuint(conf->deviceSpecs->len, ==, 0);
    vfmigResetLastError();
}


static void
testDeviceSpecRefused(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();

    /* GLib's words follow (they depend on its version) */
    g_assert_cmpint(vfmigNodeDevNovaConfAddDeviceSpec(conf, "{\"address\": {\"bus\": \"3[b\"}}", "f"), ==, -1);
    g_assert_true(g_str_has_prefix(vfmigGetLastErrorMessage(),
                                   "f: device_spec '{\"address\": {\"bus\": \"3[b\"}}' is not one Nova takes: "
                                   "the address's bus '3[b' is not a regular expression: "));
    vfmigResetLastError();

    testDeviceSpecBad("{\"address\": \"0000:3b:00.2\"",
                      "not valid JSON: it ends where ',' or '}' was expected");
    testDeviceSpecBad("{'address': '0000:3b:00.2'}",
                      "not valid JSON at byte 1: a member name (a string) expected");
    testDeviceSpecBad("\"0000:3b:00.2\"", "it is a string, not an object or a list of objects");
    testDeviceSpecBad("[{\"address\": \"3b:00.2\"}, 1]", "an entry is a number, not an object");
    testDeviceSpecBad("{\"address\": \"3b:00.2\", \"devname\": \"ens1f0\"}",
                      "it has both an address and a devname");
    testDeviceSpecBad("{\"address\": \"0000:0000:3b:00.2\"}",
                      "the address '0000:0000:3b:00.2' has more than three fields before the function");
    testDeviceSpecBad("{\"address\": \"3b:00.8\"}",
                      "the function '8' is not '*' or a hexadecimal number up to 7");
    testDeviceSpecBad("{\"address\": \"3b:20.1\"}",
                      "slot '20' is not '*' or a hexadecimal number up to 1f");
    testDeviceSpecBad("{\"vendor_id\": \"15b3x\"}",
                      "vendor_id '15b3x' is not '*' or a hexadecimal number up to ffff");
    testDeviceSpecBad("{\"product_id\": 4126}", "product_id is a number, not a string");
    testDeviceSpecBad("{\"address\": [\"3b:00.2\"]}",
                      "the address is a array, not a string or an object");
    testDeviceSpecBad("{\"live_migratable\": \"maybe\"}",
                      "Nova cannot read its tag 'live_migratable' as true or false");
}


static void
testDeviceSpecMatch(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevList) list = testList();
    /* testList: the PF 0000:3b:00.0 with VFs .2 to .6 */
    const vfmigNodeDevPCI *vf2 = g_ptr_array_index(list->devices, 1);
    const vfmigNodeDevPCI *vf3 = g_ptr_array_index(list->devices, 2);
    const char *lines[] = {
        "{\"address\": \"0000:3b:00.0\"}",                /* the PF: its VFs */
        "{\"address\": \"3b:00.2\"}",
        "{\"address\": \"*:3b:*.*\", \"product_id\": \"101d\"}",
        "{\"address\": {\"function\": \"[23]\"}}",
        "{\"address\": {\"bus\": \"b\"}}",                /* from the start */
        "{\"devname\": \"ens1f0\"}",
        "{\"vendor_id\": \"15b3\", \"product_id\": \"101E\"}",
        "{\"address\": \"0000:3b:00.3\"}",                /* a VF: not its PF's */
    };
    const bool want2[] = { true, true, false, true, false, false, true, false };
    const bool want3[] = { true, false, false, true, false, false, true, true };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(lines); i++)
        testSpecLine(conf, lines[i]);
    for (i = 0; i < G_N_ELEMENTS(lines); i++) {
        const vfmigNodeDevNovaDeviceSpec *ds = g_ptr_array_index(conf->deviceSpecs, i);

        g_test_message("%s", lines[i]);
        g_assert_true(vfmigNodeDevNovaDeviceSpecMatch(ds, list, vf2) == want2[i]);
        g_assert_true(vfmigNodeDevNovaDeviceSpecMatch(ds, list, vf3) == want3[i]);
    }
}


static void
testConfPostCopy(void)
{
    g_autoptr(vfmigNodeDevNovaConf) on = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaConf) off = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaConf) unset = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaConf) opt = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) specOn = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specOff = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specUnset = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specOpt = NULL;
    g_autofree char *want = NULL;

    specOn = testCheck(on, "[DEFAULT]\nx = 1\n[libvirt]\nlive_migration_permit_post_copy = True \n");
    want = g_strdup_printf("[libvirt] live_migration_permit_post_copy is True (%s), but QEMU refuses post-copy for VMs with VFIO devices: set it to False on hosts with migratable VFs",
                           on->path);
    g_assert_cmpstr(testWarning(specOn, VFMIG_NODEDEV_NOVA_WARN_POST_COPY), ==, want);
    g_assert_true(g_str_has_suffix(on->path, "/nova.conf"));

    specOff = testCheck(off, "[libvirt]\nlive_migration_permit_post_copy = False\n");
    testNoWarning(specOff, VFMIG_NODEDEV_NOVA_WARN_POST_COPY);
    specUnset = testCheck(unset, "[libvirt]\nvirt_type = kvm\n");
    testNoWarning(specUnset, VFMIG_NODEDEV_NOVA_WARN_POST_COPY);

    /* an option wins over the file */
    testSet(opt, VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY, "no");
    specOpt = testCheck(opt, "[libvirt]\nlive_migration_permit_post_copy = True\n");
    testNoWarning(specOpt, VFMIG_NODEDEV_NOVA_WARN_POST_COPY);
    g_assert_cmpstr(opt->settings[VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY].from, ==,
                    "--live-migration-permit-post-copy");
}


static void
testConfFile(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaConf) old = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaConf) given = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) spec = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specOld = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specGiven = NULL;
    g_autoptr(GPtrArray) invalid = NULL;
    g_autofree char *want = NULL;
    const char *content =
        "[pci]\n"
        "device_spec = {\"address\": \"3b:00.2\", \"live_migratable\": \"yes\"}\n"
        "# device_spec = {\"address\": \"3b:00.9\"}\n"
        "  device_spec={\"address\": \"3b:00.3\"}\n"
        "device_spec = {\"address\": \"3b:00.9\"}\n"
        "[libvirt]\n"
        "live_migration_tunnelled = sure\n"
        "live_migration_downtime = 1000\n"
        "device_spec = {\"address\": \"3b:00.4\"}\n";

    /* every device_spec of [pci], none of another group; a value Nova
     * refuses is a warning, the rest is read */
    spec = testCheck(conf, content);
    g_assert_cmpuint(conf->deviceSpecs->len, ==, 2);
    g_assert_cmpstr(((vfmigNodeDevNovaDeviceSpec *) g_ptr_array_index(conf->deviceSpecs, 0))->text,
                    ==, "{\"address\": \"3b:00.2\", \"live_migratable\": \"yes\"}");
    g_assert_cmpstr(((vfmigNodeDevNovaDeviceSpec *) g_ptr_array_index(conf->deviceSpecs, 1))->text,
                    ==, "{\"address\": \"3b:00.3\"}");
    g_assert_cmpint(conf->settings[VFMIG_NODEDEV_NOVA_DOWNTIME].value, ==, 1000);
    g_assert_cmpstr(conf->settings[VFMIG_NODEDEV_NOVA_DOWNTIME].from, ==, conf->path);
    g_assert_null(conf->settings[VFMIG_NODEDEV_NOVA_TUNNELLED].from);
    invalid = testWarnings(spec, VFMIG_NODEDEV_NOVA_WARN_CONF_INVALID);
    g_assert_cmpuint(invalid->len, ==, 2);
    want = g_strdup_printf("%s: live_migration_tunnelled wants True or False (or yes, no, on, off, 1, 0), not 'sure'; Nova refuses it",
                           conf->path);
    g_assert_cmpstr(g_ptr_array_index(invalid, 0), ==, want);
    g_clear_pointer(&want, g_free);
    want = g_strdup_printf("%s: device_spec '{\"address\": \"3b:00.9\"}' is not one Nova takes: the function '9' is not '*' or a hexadecimal number up to 7; Nova refuses it",
                           conf->path);
    g_assert_cmpstr(g_ptr_array_index(invalid, 1), ==, want);
    testNoWarning(spec, VFMIG_NODEDEV_NOVA_WARN_CONF_UNREADABLE);

    /* the old name, when the new one is not there */
    specOld = testCheck(old, "[pci]\npassthrough_whitelist = {\"address\": \"3b:00.3\"}\n");
    g_assert_cmpuint(old->deviceSpecs->len, ==, 1);

    /* options' lines stand for the file's */
    testSpecLine(given, "{\"address\": \"3b:00.6\"}");
    specGiven = testCheck(given, content);
    g_assert_cmpuint(given->deviceSpecs->len, ==, 1);
    g_clear_pointer(&invalid, g_ptr_array_unref);
    invalid = testWarnings(specGiven, VFMIG_NODEDEV_NOVA_WARN_CONF_INVALID);
    g_assert_cmpuint(invalid->len, ==, 1);
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
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) spec = vfmigNodeDevNovaSpecNew(testList());
    g_autoptr(GPtrArray) warnings = g_ptr_array_new();
    g_autofree char *want = NULL;

    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    memset(bigContent, '#', VFMIG_NODEDEV_NOVA_CONF_MAX + 1);
    bigContent[VFMIG_NODEDEV_NOVA_CONF_MAX + 1] = '\0';
    g_assert_true(g_file_set_contents(big, bigContent, -1, NULL));

    /* a FIFO nobody writes: refused, not waited on */
    g_assert_cmpint(vfmigNodeDevNovaConfLoad(conf, fifo, warnings), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "is a FIFO, not a regular file"));

    g_assert_cmpint(vfmigNodeDevNovaConfLoad(conf, "/dev/zero", warnings), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "is a character device, not a regular file"));

    g_assert_cmpint(vfmigNodeDevNovaConfLoad(conf, big, warnings), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "is larger than"));

    /* a path given is not optional */
    g_assert_cmpint(vfmigNodeDevNovaConfLoad(conf, missing, warnings), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "No such file or directory"));

    g_assert_cmpint(vfmigNodeDevNovaConfLoad(conf, bad, warnings), ==, -1);
    g_assert_true(g_str_has_prefix(vfmigGetLastErrorMessage(), "cannot parse Nova configuration file"));
    g_assert_cmpuint(warnings->len, ==, 0);
    g_assert_null(conf->path);
    vfmigResetLastError();

    /* one that cannot be read is a warning; the options are checked */
    testSet(conf, VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY, "yes");
    vfmigNodeDevNovaSpecCheck(spec, conf, fifo);
    want = g_strdup_printf("Nova configuration file '%s' is a FIFO, not a regular file: refusing to read it",
                           fifo);
    g_assert_cmpstr(testWarning(spec, VFMIG_NODEDEV_NOVA_WARN_CONF_UNREADABLE), ==, want);
    testWarning(spec, VFMIG_NODEDEV_NOVA_WARN_POST_COPY);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);

    g_unlink(fifo);
    g_unlink(big);
    g_unlink(bad);
    g_rmdir(dir);
}


static void
testWarnDevices(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) spec = testCheck(conf, NULL);
    g_autoptr(GPtrArray) not = testWarnings(spec, VFMIG_NODEDEV_NOVA_WARN_NOT_MIGRATABLE);
    const vfmigNodeDevNovaDevice *d = g_ptr_array_index(spec->devices, 1);
    g_autofree char *want = g_strdup_printf("0000:3b:00.3 is not live migratable: %s", d->why);
    const vfmigNodeDevNovaWarning *first = g_ptr_array_index(spec->warnings, 0);

    /* the devices' come first, and nothing else with Nova's defaults */
    g_assert_cmpint(first->code, ==, VFMIG_NODEDEV_NOVA_WARN_NOT_MIGRATABLE);
    g_assert_cmpuint(not->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(not, 0), ==, want);
    g_assert_true(g_str_has_prefix(g_ptr_array_index(not, 1), "0000:3b:00.6 is not live migratable: migration features unknown"));
    g_assert_cmpstr(testWarning(spec, VFMIG_NODEDEV_NOVA_WARN_NOT_QUALIFIED), ==,
                    "0000:3b:00.4 was not qualified for migration by its last device-qualify (1970-01-01T00:00:00Z): run virt-vfmig device-qualify 0000:3b:00.4 for the reasons");
    g_assert_cmpuint(spec->warnings->len, ==, 3);

    /* where all guest RAM is dirty, what it costs per GiB */
    g_assert_cmpint(d->qemu, ==, VFMIG_NODEDEV_QEMU_ALL_DIRTY);
    g_assert_cmpuint(d->allDirtyLeastUs, ==, 858994);
    d = g_ptr_array_index(spec->devices, 0);
    g_assert_cmpint(d->qemu, ==, VFMIG_NODEDEV_QEMU_ALLOWED);
    g_assert_cmpuint(d->allDirtyLeastUs, ==, 0);
    d = g_ptr_array_index(spec->devices, 3);
    g_assert_cmpint(d->qemu, ==, VFMIG_NODEDEV_QEMU_LAST);
}


static void
testWarnForceComplete(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaConf) postCopy = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) spec = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specPostCopy = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specAbort = NULL;
    g_autoptr(vfmigNodeDevNovaConf) abortConf = vfmigNodeDevNovaConfNew();

    testSet(conf, VFMIG_NODEDEV_NOVA_TIMEOUT_ACTION, "force_complete");
    spec = testCheck(conf, NULL);
    g_assert_cmpstr(testWarning(spec, VFMIG_NODEDEV_NOVA_WARN_FORCE_COMPLETE), ==,
                    "[libvirt] live_migration_timeout_action is force_complete (--live-migration-timeout-action) "
                    "and live_migration_permit_post_copy is False (Nova's default): when "
                    "live_migration_completion_timeout passes, Nova pauses the guest to finish the migration "
                    "(virDomainSuspend), and QEMU moves its VFs to STOP_COPY; virt-vfmigd then releases its "
                    "hold at once if every VF's initial pre-copy data has been sent, so the migration completes "
                    "with the guest stopped from the pause on, whatever the policy's target; if a VF's initial "
                    "data has not all been sent it cancels the migration (QEMU, waiting for switchover-ack, could "
                    "not complete it), and Nova resumes the guest on the source.  Keep abort, Nova's default, to "
                    "have Nova cancel a migration that takes too long with the guest running");

    /* with post-copy Nova switches to it instead: the post-copy warning */
    testSet(postCopy, VFMIG_NODEDEV_NOVA_TIMEOUT_ACTION, "force_complete");
    testSet(postCopy, VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY, "true");
    specPostCopy = testCheck(postCopy, NULL);
    testNoWarning(specPostCopy, VFMIG_NODEDEV_NOVA_WARN_FORCE_COMPLETE);
    testWarning(specPostCopy, VFMIG_NODEDEV_NOVA_WARN_POST_COPY);

    specAbort = testCheck(abortConf, "[libvirt]\nlive_migration_timeout_action = abort\n");
    testNoWarning(specAbort, VFMIG_NODEDEV_NOVA_WARN_FORCE_COMPLETE);
}


static void
testWarnTunnelled(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaConf) parallel = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) spec = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specParallel = NULL;
    g_autofree char *want = NULL;

    /* from nova.conf; one parallel connection is no VIR_MIGRATE_PARALLEL */
    spec = testCheck(conf, "[libvirt]\nlive_migration_tunnelled = True\nlive_migration_parallel_connections = 1\n");
    want = g_strdup_printf("[libvirt] live_migration_tunnelled is True (%s): Nova then migrates with "
                           "VIR_MIGRATE_TUNNELLED, for which libvirt turns QEMU's return-path off "
                           "(qemuMigrationParamsFlagMap, libvirt's src/qemu/qemu_migration_params.c), and "
                           "without a return path QEMU has no switchover-ack.  The VFs still migrate, neither "
                           "QEMU nor vfmig refuses them, but QEMU may switch over before the destination loaded "
                           "the VFs' initial pre-copy data, which it then loads with the guest stopped (for one "
                           "mlx5 VF with 300 MB of state, 1.9 s of downtime instead of 0.42 s), and virt-vfmigd, "
                           "which counts on switchover-ack unless started with --load-ms, predicts the downtime "
                           "short.  Set it to False (Nova deprecates it); live_migration_with_native_tls "
                           "encrypts without it", conf->path);
    g_assert_cmpstr(testWarning(spec, VFMIG_NODEDEV_NOVA_WARN_TUNNELLED), ==, want);
    testNoWarning(spec, VFMIG_NODEDEV_NOVA_WARN_TUNNELLED_PARALLEL);

    testSet(parallel, VFMIG_NODEDEV_NOVA_TUNNELLED, "yes");
    testSet(parallel, VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS, "4");
    specParallel = testCheck(parallel, NULL);
    testWarning(specParallel, VFMIG_NODEDEV_NOVA_WARN_TUNNELLED);
    g_assert_cmpstr(testWarning(specParallel, VFMIG_NODEDEV_NOVA_WARN_TUNNELLED_PARALLEL), ==,
                    "[libvirt] live_migration_tunnelled is yes (--live-migration-tunnelled) and "
                    "live_migration_parallel_connections is 4 (--live-migration-parallel-connections): "
                    "libvirt refuses every migration asked with both VIR_MIGRATE_TUNNELLED and "
                    "VIR_MIGRATE_PARALLEL (\"Flags 'VIR_MIGRATE_TUNNELLED' and 'VIR_MIGRATE_PARALLEL' are "
                    "mutually exclusive\"), and Nova does not check the pair when it starts: every live "
                    "migration from this host fails.  Turn one of them off");
}


static void
testWarnDowntime(void)
{
    g_autoptr(vfmigNodeDevNovaConf) below = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaConf) equal = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaConf) target = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) specBelow = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specEqual = NULL;
    g_autoptr(vfmigNodeDevNovaSpec) specTarget = NULL;

    testSet(below, VFMIG_NODEDEV_NOVA_DOWNTIME, "200");
    specBelow = testCheck(below, NULL);
    g_assert_cmpstr(testWarning(specBelow, VFMIG_NODEDEV_NOVA_WARN_DOWNTIME_BELOW_TARGET), ==,
                    "[libvirt] live_migration_downtime is 200 (--live-migration-downtime): 200 ms, below "
                    "the downtime target of vfmig's policy, 300 ms (vfmig's default, where a domain's policy "
                    "gives none): every downtime limit Nova sets during a migration (its steps, from it divided "
                    "by live_migration_downtime_steps up to all of it) asks QEMU for less than the policy "
                    "allows.  virt-vfmigd, while it "
                    "steers the migration, overwrites each of Nova's writes at its next step (within 200 ms) "
                    "with its own limit, so Nova's value does not count there; without the daemon QEMU "
                    "switches over only once the VFs' state and the RAM left fit in Nova's limit, and a "
                    "migration may not converge before Nova's completion timeout.  Set "
                    "live_migration_downtime to at least 300");

    testSet(equal, VFMIG_NODEDEV_NOVA_DOWNTIME, "300");
    specEqual = testCheck(equal, NULL);
    testNoWarning(specEqual, VFMIG_NODEDEV_NOVA_WARN_DOWNTIME_BELOW_TARGET);

    /* Nova's default, 500 ms, against a target given */
    target->targetMs = 2000;
    target->targetFrom = g_strdup("--policy-target-ms");
    specTarget = testCheck(target, NULL);
    g_assert_true(g_str_has_prefix(testWarning(specTarget, VFMIG_NODEDEV_NOVA_WARN_DOWNTIME_BELOW_TARGET),
                                   "[libvirt] live_migration_downtime is 500 (Nova's default): 500 ms, below "
                                   "the downtime target of vfmig's policy, 2000 ms (--policy-target-ms): "));
    g_assert_true(g_str_has_suffix(testWarning(specTarget, VFMIG_NODEDEV_NOVA_WARN_DOWNTIME_BELOW_TARGET),
                                   "Set live_migration_downtime to at least 2000"));
}


static void
testWarnPhysicalNetwork(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) spec = NULL;
    g_autoptr(GPtrArray) msgs = NULL;
    const char *pf = "{\"address\": \"0000:3b:00.0\", \"physical_network\": \"physnet1\", \"live_migratable\": \"yes\"}";
    const char *other = "{\"address\": \"5e:00.*\", \"physical_network\": \"physnet2\", \"live_migratable\": \"yes\"}";

    /* the PF's line takes its VFs; a line that takes none here but says
     * live_migratable is still wrong; one that says nothing is Neutron's */
    testSpecLine(conf, "{\"address\": \"3b:00.2\"}");
    testSpecLine(conf, pf);
    testSpecLine(conf, other);
    testSpecLine(conf, "{\"address\": \"5f:00.*\", \"physical_network\": \"physnet3\"}");
    spec = testCheck(conf, NULL);
    msgs = testWarnings(spec, VFMIG_NODEDEV_NOVA_WARN_PHYSICAL_NETWORK);
    g_assert_cmpuint(msgs->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(msgs, 0), ==,
                    "device_spec '{\"address\": \"0000:3b:00.0\", \"physical_network\": \"physnet1\", "
                    "\"live_migratable\": \"yes\"}' (--device-spec-line) has physical_network 'physnet1': "
                    "Nova gives the VFs it takes (0000:3b:00.3, 0000:3b:00.4, 0000:3b:00.6) to Neutron ports "
                    "(vnic_type direct), which it unplugs before a live migration and plugs again after, so "
                    "no device state moves, and it ignores the entry's live_migratable (Launchpad bug "
                    "2102161).  Give the VFs to migrate to VMs through a [pci] alias, from a device_spec "
                    "without physical_network");
    g_assert_true(g_str_has_prefix(g_ptr_array_index(msgs, 1),
                                   "device_spec '{\"address\": \"5e:00.*\", \"physical_network\": \"physnet2\", "
                                   "\"live_migratable\": \"yes\"}' (--device-spec-line) has physical_network "
                                   "'physnet2': Nova gives the VFs it takes (none of this host's VFIO devices) "
                                   "to Neutron ports"));
    /* not also "tags it live_migratable": the unplug is what happens */
    testNoWarning(spec, VFMIG_NODEDEV_NOVA_WARN_SPEC_NOT_MIGRATABLE);
}


static void
testWarnSpecNotMigratable(void)
{
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) spec = NULL;
    g_autoptr(GPtrArray) msgs = NULL;
    const vfmigNodeDevNovaDevice *d;
    g_autofree char *want = NULL;

    /* the first line that matches is the one Nova takes: .6 is "no" */
    testSpecLine(conf, "{\"address\": \"3b:00.6\", \"live_migratable\": \"no\"}");
    testSpecLine(conf, "{\"vendor_id\": \"15b3\", \"product_id\": \"101e\", \"live_migratable\": \"yes\"}");
    spec = testCheck(conf, NULL);
    msgs = testWarnings(spec, VFMIG_NODEDEV_NOVA_WARN_SPEC_NOT_MIGRATABLE);
    g_assert_cmpuint(msgs->len, ==, 1);
    d = g_ptr_array_index(spec->devices, 1);
    want = g_strdup_printf("device_spec '{\"vendor_id\": \"15b3\", \"product_id\": \"101e\", \"live_migratable\": \"yes\"}' "
                           "(--device-spec-line) tags 0000:3b:00.3 live_migratable, but QEMU would not migrate it "
                           "as Nova defines the VM: %s.  Nova would start live migrations of VMs with it: give it "
                           "\"live_migratable\": \"no\", as nodedev-nova-spec prints it", d->why);
    g_assert_cmpstr(g_ptr_array_index(msgs, 0), ==, want);
    g_assert_true(g_str_has_prefix(d->why, "no DMA dirty tracking: "));
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
    g_test_add_func("/nodedev/nova/warn-names", testWarnNames);
    g_test_add_func("/nodedev/nova/conf-set", testConfSet);
    g_test_add_func("/nodedev/nova/device-spec-parse", testDeviceSpecParse);
    g_test_add_func("/nodedev/nova/device-spec-refused", testDeviceSpecRefused);
    g_test_add_func("/nodedev/nova/device-spec-match", testDeviceSpecMatch);
    g_test_add_func("/nodedev/nova/conf-post-copy", testConfPostCopy);
    g_test_add_func("/nodedev/nova/conf-file", testConfFile);
    g_test_add_func("/nodedev/nova/conf-refused", testConfRefused);
    g_test_add_func("/nodedev/nova/warn-devices", testWarnDevices);
    g_test_add_func("/nodedev/nova/warn-force-complete", testWarnForceComplete);
    g_test_add_func("/nodedev/nova/warn-tunnelled", testWarnTunnelled);
    g_test_add_func("/nodedev/nova/warn-downtime", testWarnDowntime);
    g_test_add_func("/nodedev/nova/warn-physical-network", testWarnPhysicalNetwork);
    g_test_add_func("/nodedev/nova/warn-spec-not-migratable", testWarnSpecNotMigratable);
    g_test_add_func("/nodedev/query/list-match", testListMatch);
    g_test_add_func("/nodedev/query/compare-args", testCompareArgs);

    return g_test_run();
}
