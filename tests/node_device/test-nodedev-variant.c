/*
 * test-nodedev-variant.c: the driver libvirt binds a managed hostdev to
 *
 * libvirt's rule (vfmignodedevvariant.h) on texts first: exact and
 * wildcard fields, the fewest wildcards winning, the first of equal ones,
 * subsystem ids and class, no match, the lines libvirt never sees or
 * skips.  Then vfmigNodeDevBindPredict against a fake sysfs tree (a
 * ConnectX VF's modalias) and a fake module tree (modules.alias,
 * modules.dep): the alias, no alias (vfio-pci), <driver model=>, a driver
 * without migration or missing from the host, and the files libvirt
 * would fail on (too large, not text, missing; a bad modalias), each
 * with its whole message.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmigtestfs.h"
#include "vfmigdriver.h"
#include "vfmigerror.h"
#include "vfmignodedevvariant.h"

/* A ConnectX-6 Dx VF: 15b3:101e, subsystem 15b3:0021, Ethernet 02:00:00 */
#define VF "0000:3b:00.2"
#define VF_MODALIAS "v000015B3d0000101Esv000015B3sd00000021bc02sc00i00"
/* QEMU's pci-testdev, class 00ff00 */
#define TD "0000:00:02.0"
#define TD_MODALIAS "v00001B36d00000005sv00001AF4sd00001100bc00scFFi00"

#define HEADER "# Aliases extracted from modules themselves.\n"

/* What depmod writes for a host with vfmig's modules (and another
 * variant driver without migration). */
#define ALIASES \
    HEADER \
    "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core\n" \
    "alias vfio_pci:v000010DEd00002342sv*sd*bc*sc*i* nvgrace_gpu_vfio_pci\n" \
    "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n" \
    "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_testdev\n" \
    "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_mlx5model\n" \
    "alias pci:v*d*sv*sd*bc02sc00i* some_nic\n"

#define DEPS \
    "kernel/drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko.xz: kernel/drivers/net/ethernet/mellanox/mlxfw/mlxfw.ko.xz\n" \
    "kernel/drivers/vfio/pci/vfio-pci-core.ko.xz: kernel/drivers/vfio/vfio.ko.xz\n" \
    "updates/dkms/mlx5_vfio_pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz\n" \
    "updates/dkms/vfmig_testdev.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz\n"


/* ---- the rule, on texts */

typedef struct {
    char *module;
    char *pattern;
    unsigned int wildcards;
    int rc;
} Best;


static void
bestClear(Best *b)
{
    g_clear_pointer(&b->module, g_free);
    g_clear_pointer(&b->pattern, g_free);
}


static Best
best(const char *modalias,
     const char *aliases)
{
    Best b = { NULL, NULL, 0, 0 };

    b.rc = vfmigNodeDevBestVFIOVariant(modalias, aliases, &b.module,
                                       &b.pattern, &b.wildcards);
    return b;
}


static void
assertBest(const char *modalias,
           const char *aliases,
           const char *module,
           const char *pattern,
           unsigned int wildcards)
{
    Best b = best(modalias, aliases);

    g_assert_cmpint(b.rc, ==, 1);
    g_assert_cmpstr(b.module, ==, module);
    g_assert_cmpstr(b.pattern, ==, pattern);
    g_assert_cmpuint(b.wildcards, ==, wildcards);
    bestClear(&b);
}


static void
assertNone(const char *modalias,
           const char *aliases)
{
    Best b = best(modalias, aliases);

    g_assert_cmpint(b.rc, ==, 0);
    g_assert_null(b.module);
    g_assert_null(b.pattern);
}


/* Every field given, as PCI_DEVICE_SUB would declare it. */
static void
testRuleExact(void)
{
    assertBest(VF_MODALIAS,
               HEADER "alias vfio_pci:" VF_MODALIAS " exact_vfio_pci\n",
               "exact_vfio_pci", VF_MODALIAS, 0);
    /* one field off is no match */
    assertNone(VF_MODALIAS,
               HEADER "alias vfio_pci:v000015B3d0000101Esv000015B3sd00000021bc02sc00i01 other\n");
    /* a pci: alias (the host driver's) is no candidate */
    assertNone(VF_MODALIAS, HEADER "alias pci:" VF_MODALIAS " mlx5_core\n");
}


/* The fewest wildcards win, wherever they are in the file. */
static void
testRuleWildcardVsExact(void)
{
    const char *wildFirst =
        HEADER
        "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
        "alias vfio_pci:" VF_MODALIAS " exact_vfio_pci\n";
    const char *exactFirst =
        HEADER
        "alias vfio_pci:" VF_MODALIAS " exact_vfio_pci\n"
        "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n";

    assertBest(VF_MODALIAS, wildFirst, "exact_vfio_pci", VF_MODALIAS, 0);
    assertBest(VF_MODALIAS, exactFirst, "exact_vfio_pci", VF_MODALIAS, 0);
}


/* Several candidates: 7, 5, 3 and 2 wildcards, and equal ones: the first
 * of the fewest. */
static void
testRuleSeveral(void)
{
    const char *aliases =
        HEADER
        "alias vfio_pci:v*d*sv*sd*bc*sc*i* catch_all\n"
        "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* five\n"
        "alias vfio_pci:v000015B3d0000101Esv000015B3sd*bc*sc*i* four_a\n"
        "alias vfio_pci:v000015B3d0000101Esv000015B3sd00000021bc*sc*i* three\n"
        "alias vfio_pci:v000015B3d0000101Esv000015B3sd00000021bc02sc*i* two_first\n"
        "alias vfio_pci:v000015B3d0000101Esv000015B3sd00000021bc02sc00i* one\n"
        "alias vfio_pci:v000015B3d0000101Ebad*sd*bc*sc*i* skipped\n";
    const char *ties =
        HEADER
        "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* first\n"
        "alias vfio_pci:v000015B3d*sv000015B3sd*bc*sc*i* second\n";

    assertBest(VF_MODALIAS, aliases, "one",
               "v000015B3d0000101Esv000015B3sd00000021bc02sc00i*", 1);
    assertBest(VF_MODALIAS, ties, "first",
               "v000015B3d0000101Esv*sd*bc*sc*i*", 5);
    /* vfmig's two test modules declare the same ids: the first wins */
    assertBest(TD_MODALIAS, ALIASES, "vfmig_testdev",
               "v00001B36d00000005sv*sd*bc*sc*i*", 5);
}


/* Subsystem ids tell apart devices of the same vendor and device. */
static void
testRuleSubsystem(void)
{
    const char *aliases =
        HEADER
        "alias vfio_pci:v000015B3d0000101Esv000015B3sd00000099bc*sc*i* other_board\n"
        "alias vfio_pci:v000015B3d0000101Esv00001234sd00000021bc*sc*i* other_vendor\n"
        "alias vfio_pci:v000015B3d0000101Esv000015B3sd00000021bc*sc*i* this_board\n"
        "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* any_board\n";

    assertBest(VF_MODALIAS, aliases, "this_board",
               "v000015B3d0000101Esv000015B3sd00000021bc*sc*i*", 3);
    assertBest("v000015B3d0000101Esv000015B3sd00000077bc02sc00i00", aliases,
               "any_board", "v000015B3d0000101Esv*sd*bc*sc*i*", 5);
}


/* A class alias (PCI_DEVICE_CLASS): any Ethernet controller. */
static void
testRuleClass(void)
{
    const char *aliases =
        HEADER
        "alias vfio_pci:v*d*sv*sd*bc01sc08i02 nvme_like\n"
        "alias vfio_pci:v*d*sv*sd*bc02sc00i* ethernet_vfio_pci\n";

    assertBest(VF_MODALIAS, aliases, "ethernet_vfio_pci", "v*d*sv*sd*bc02sc00i*", 5);
    assertNone(TD_MODALIAS, aliases);
}


/* No alias for the device: vfio-pci, the caller's default. */
static void
testRuleNoMatch(void)
{
    assertNone(VF_MODALIAS,
               HEADER "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_testdev\n");
    assertNone(VF_MODALIAS, HEADER);
    assertNone(VF_MODALIAS, "");
}


/* What libvirt never sees or skips: an alias on the first line (it looks
 * for a newline before "alias"), lower-case hex (fields compare exactly),
 * a pattern without the seven fields, a match with no module after it; a
 * partial wildcard is no wildcard. */
static void
testRuleSkipped(void)
{
    assertNone(VF_MODALIAS,
               "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* first_line\n");
    assertNone(VF_MODALIAS,
               HEADER "alias vfio_pci:v000015b3d0000101esv*sd*bc*sc*i* lower_case\n");
    assertNone(VF_MODALIAS,
               HEADER "alias vfio_pci:v000015B3*sd*bc*sc*i* no_d_field\n");
    assertNone(VF_MODALIAS,
               HEADER "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*\n");
    assertNone(VF_MODALIAS,
               HEADER "alias vfio_pci:v000015B3d0000101Esv000015B*sd*bc*sc*i* partial\n");
    /* and the good line among them still counts */
    assertBest(VF_MODALIAS,
               HEADER
               "alias vfio_pci:v000015B3*sd*bc*sc*i* no_d_field\n"
               "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
               "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*\n",
               "mlx5_vfio_pci", "v000015B3d0000101Esv*sd*bc*sc*i*", 5);
}


/* A match without a module on its line: libvirt takes the text from the
 * next blank, on a later line, to that line's end as the module (which it
 * then fails to load), and goes on after it. */
static void
testRuleModuleNextLine(void)
{
    assertBest(VF_MODALIAS,
               HEADER
               "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*\n"
               "alias vfio_pci:" VF_MODALIAS " exact_vfio_pci\n",
               "vfio_pci:" VF_MODALIAS " exact_vfio_pci",
               "v000015B3d0000101Esv*sd*bc*sc*i*", 5);
}


static void
testRuleBadModalias(void)
{
    Best b = best("v000015B3d0000101E", ALIASES);

    g_assert_cmpint(b.rc, ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "'v000015B3d0000101E' is not a PCI modalias: it does not split into the fields v, d, sv, sd, bc, sc and i");
    vfmigResetLastError();
}


/* ---- the prediction, on fake trees */

typedef struct {
    char *root;
    char *sys;
    char *modules;
    vfmigNodeDevProbePaths paths;
} Fake;


static void
fakePCI(Fake *f,
        const char *addr,
        const char *modalias,
        const char *driver)
{
    g_autofree char *dir = g_build_filename(f->sys, "devices", "pci0000:3a", addr, NULL);
    g_autofree char *busLink = g_build_filename(f->sys, "bus", "pci", "devices", addr, NULL);
    g_autofree char *file = g_build_filename(dir, "modalias", NULL);
    g_autofree char *contents = g_strdup_printf("pci:%s\n", modalias);

    vfmigTestMkdirs(dir);
    vfmigTestLink(dir, busLink);
    vfmigTestWriteFile(file, contents);
    if (driver) {
        g_autofree char *drv = g_build_filename(f->sys, "bus", "pci", "drivers", driver, NULL);
        g_autofree char *link = g_build_filename(dir, "driver", NULL);

        vfmigTestMkdirs(drv);
        vfmigTestLink(drv, link);
    }
}


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

    f->root = g_dir_make_tmp("vfmig-variant-XXXXXX", &err);
    g_assert_no_error(err);
    f->sys = g_build_filename(f->root, "sys", NULL);
    f->modules = g_build_filename(f->root, "lib", "modules", "6.1.0-37-amd64", NULL);
    memset(&f->paths, 0, sizeof(f->paths));
    f->paths.sysfsRoot = f->sys;
    f->paths.modulesDir = f->modules;
    fakePCI(f, VF, VF_MODALIAS, "mlx5_core");
    fakePCI(f, TD, TD_MODALIAS, NULL);
    modulesFile(f, "modules.alias", ALIASES);
    modulesFile(f, "modules.dep", DEPS);
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
}


static vfmigNodeDevBind *
predict(Fake *f,
        const char *addr,
        const char *model)
{
    vfmigNodeDevBind *bind = NULL;

    if (vfmigNodeDevBindPredict(&f->paths, addr, model, &bind) < 0)
        g_error("vfmigNodeDevBindPredict: %s", vfmigGetLastErrorMessage());
    g_assert_nonnull(bind);
    return bind;
}


/* @addr with @model: an error, @want its whole message. */
static void
assertPredictFails(Fake *f,
                   const char *addr,
                   const char *model,
                   const char *want)
{
    vfmigNodeDevBind *bind = NULL;

    g_assert_cmpint(vfmigNodeDevBindPredict(&f->paths, addr, model, &bind), ==, -1);
    g_assert_null(bind);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
    vfmigResetLastError();
}


/* vfmig's DKMS module declares the VF's ids: mlx5_vfio_pci, in
 * modules.dep though not loaded. */
static void
testPredictAlias(Fake *f,
                 gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevBind) bind = predict(f, VF, NULL);
    g_autofree char *aliasFile = g_build_filename(f->modules, "modules.alias", NULL);
    g_autofree char *what = vfmigNodeDevBindDescribe(bind);
    g_autofree char *want = g_strdup_printf("'mlx5_vfio_pci' (its best vfio_pci alias in '%s', 'v000015B3d0000101Esv*sd*bc*sc*i*')",
                                            aliasFile);

    g_assert_cmpstr(bind->driver, ==, "mlx5_vfio_pci");
    g_assert_cmpint(bind->from, ==, VFMIG_NODEDEV_BIND_ALIAS);
    g_assert_cmpstr(bind->aliasFile, ==, aliasFile);
    g_assert_cmpstr(bind->modalias, ==, VF_MODALIAS);
    g_assert_cmpuint(bind->vendor, ==, 0x15b3);
    g_assert_cmpuint(bind->device, ==, 0x101e);
    g_assert_cmpstr(bind->pattern, ==, "v000015B3d0000101Esv*sd*bc*sc*i*");
    g_assert_cmpuint(bind->wildcards, ==, 5);
    g_assert_true(bind->migration);
    g_assert_null(bind->reason);
    g_assert_cmpstr(what, ==, want);
}


/* A module file named with dashes and compressed, as the kernel's own
 * mlx5-vfio-pci.ko.xz: its module is mlx5_vfio_pci. */
static void
testPredictModuleNames(Fake *f,
                       gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevBind) bind = NULL;

    modulesFile(f, "modules.dep",
                "kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz\n");
    bind = predict(f, VF, NULL);
    g_assert_cmpstr(bind->driver, ==, "mlx5_vfio_pci");
    g_assert_true(bind->migration);
}


/* No module declares the VF's ids: vfio-pci, which cannot migrate; the
 * advice names the driver vfmig knows for them. */
static void
testPredictNoAlias(Fake *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevBind) bind = NULL;
    g_autoptr(vfmigNodeDevBind) td = NULL;
    g_autofree char *want = NULL;
    g_autofree char *wantTd = NULL;
    g_autofree char *what = NULL;

    modulesFile(f, "modules.alias",
                HEADER "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core\n");
    bind = predict(f, VF, NULL);
    g_assert_cmpstr(bind->driver, ==, "vfio-pci");
    g_assert_cmpint(bind->from, ==, VFMIG_NODEDEV_BIND_DEFAULT);
    g_assert_null(bind->pattern);
    g_assert_false(bind->migration);
    want = g_strdup_printf("libvirt will bind it to vfio-pci, which cannot migrate: no vfio_pci alias in '%s/modules.alias' matches the device (15b3:101e, modalias '" VF_MODALIAS "'); install the module 'mlx5_vfio_pci' (vfmig's kernel modules have it) and run 'depmod -a', or name the driver in the hostdev: <driver model='mlx5_vfio_pci'/>",
                           f->modules);
    g_assert_cmpstr(bind->reason, ==, want);
    what = vfmigNodeDevBindDescribe(bind);
    g_free(want);
    want = g_strdup_printf("'vfio-pci' (no vfio_pci alias in '%s/modules.alias' matches it)", f->modules);
    g_assert_cmpstr(what, ==, want);

    /* a device vfmig knows no driver for: the general advice */
    fakePCI(f, "0000:00:07.0", "v00008086d000010EDsv00008086sd00000000bc02sc00i00", "ixgbevf");
    td = predict(f, "0000:00:07.0", NULL);
    wantTd = g_strdup_printf("libvirt will bind it to vfio-pci, which cannot migrate: no vfio_pci alias in '%s/modules.alias' matches the device (8086:10ed, modalias 'v00008086d000010EDsv00008086sd00000000bc02sc00i00'); install the module of a VFIO variant driver with migration for it and run 'depmod -a', or name such a driver in the hostdev: <driver model='NAME'/>",
                             f->modules);
    g_assert_cmpstr(td->reason, ==, wantTd);
}


/* The best alias names a driver without VFIO migration. */
static void
testPredictNoMigration(Fake *f,
                       gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevBind) bind = NULL;
    g_autofree char *want = NULL;

    modulesFile(f, "modules.alias",
                ALIASES "alias vfio_pci:" VF_MODALIAS " nvgrace_gpu_vfio_pci\n");
    bind = predict(f, VF, NULL);
    g_assert_cmpstr(bind->driver, ==, "nvgrace_gpu_vfio_pci");
    g_assert_cmpuint(bind->wildcards, ==, 0);
    g_assert_false(bind->migration);
    want = g_strdup_printf("libvirt will bind it to 'nvgrace_gpu_vfio_pci' (its best vfio_pci alias in '%s/modules.alias', '" VF_MODALIAS "'), a driver vfmig knows no VFIO migration of; name the driver in the hostdev: <driver model='mlx5_vfio_pci'/>",
                           f->modules);
    g_assert_cmpstr(bind->reason, ==, want);
}


/* <driver model=> wins over the aliases, without reading them or the
 * modalias; a loaded driver needs no module in modules.dep. */
static void
testPredictModel(Fake *f,
                 gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevBind) bind = NULL;
    g_autoptr(vfmigNodeDevBind) dashed = NULL;
    g_autoptr(vfmigNodeDevBind) plain = NULL;
    g_autoptr(vfmigNodeDevBind) missing = NULL;
    g_autofree char *drv = g_build_filename(f->sys, "bus", "pci", "drivers", "vfmig_mlx5model", NULL);
    g_autofree char *aliasFile = g_build_filename(f->modules, "modules.alias", NULL);
    g_autofree char *modalias = g_build_filename(f->sys, "devices", "pci0000:3a", VF, "modalias", NULL);
    g_autofree char *what = NULL;
    g_autofree char *want = NULL;

    /* no aliases and no modalias at all: not read */
    g_assert_cmpint(g_unlink(aliasFile), ==, 0);
    g_assert_cmpint(g_unlink(modalias), ==, 0);

    vfmigTestMkdirs(drv);
    bind = predict(f, VF, "vfmig_mlx5model");
    g_assert_cmpstr(bind->driver, ==, "vfmig_mlx5model");
    g_assert_cmpint(bind->from, ==, VFMIG_NODEDEV_BIND_MODEL);
    g_assert_null(bind->aliasFile);
    g_assert_null(bind->modalias);
    g_assert_true(bind->migration);
    what = vfmigNodeDevBindDescribe(bind);
    g_assert_cmpstr(what, ==, "'vfmig_mlx5model' (the hostdev's <driver model='vfmig_mlx5model'/>)");

    /* modprobe's spelling: dashes are underscores */
    dashed = predict(f, VF, "mlx5-vfio-pci");
    g_assert_true(dashed->migration);

    /* <driver model='vfio-pci'/> forces plain vfio-pci */
    plain = predict(f, VF, "vfio-pci");
    g_assert_false(plain->migration);
    g_assert_cmpstr(plain->reason, ==,
                    "libvirt will bind it to 'vfio-pci' (the hostdev's <driver model='vfio-pci'/>), a driver vfmig knows no VFIO migration of: name a VFIO variant driver with migration there, or remove <driver model> to let libvirt choose by the kernel's module aliases");

    /* a driver with migration this host does not have */
    modulesFile(f, "modules.dep", "kernel/drivers/vfio/pci/vfio-pci-core.ko.xz:\n");
    missing = predict(f, VF, "mlx5_vfio_pci");
    g_assert_false(missing->migration);
    want = g_strdup_printf("libvirt will bind it to 'mlx5_vfio_pci' (the hostdev's <driver model='mlx5_vfio_pci'/>), and this host has no such driver: it is not registered in sysfs, and no module 'mlx5_vfio_pci' is in '%s/modules.dep', so libvirt would fail to start the domain; install the module and run 'depmod -a'",
                           f->modules);
    g_assert_cmpstr(missing->reason, ==, want);
}


/* An alias whose module modules.dep lacks (depmod not run after the
 * module went): no driver; nor without a modules.dep at all. */
static void
testPredictStale(Fake *f,
                 gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevBind) bind = NULL;
    g_autoptr(vfmigNodeDevBind) nodep = NULL;
    g_autofree char *dep = g_build_filename(f->modules, "modules.dep", NULL);
    g_autofree char *want = NULL;

    modulesFile(f, "modules.dep", "kernel/drivers/vfio/pci/vfio-pci-core.ko.xz:\n");
    bind = predict(f, VF, NULL);
    g_assert_cmpstr(bind->driver, ==, "mlx5_vfio_pci");
    g_assert_false(bind->migration);
    want = g_strdup_printf("libvirt will bind it to 'mlx5_vfio_pci' (its best vfio_pci alias in '%s/modules.alias', 'v000015B3d0000101Esv*sd*bc*sc*i*'), and this host has no such driver: it is not registered in sysfs, and no module 'mlx5_vfio_pci' is in '%s/modules.dep', so libvirt would fail to start the domain; install the module and run 'depmod -a'",
                           f->modules, f->modules);
    g_assert_cmpstr(bind->reason, ==, want);

    g_assert_cmpint(g_unlink(dep), ==, 0);
    nodep = predict(f, VF, NULL);
    g_assert_false(nodep->migration);
    g_assert_cmpstr(nodep->reason, ==, want);
}


/* What libvirt fails on, with the whole message. */
static void
testPredictBadFiles(Fake *f,
                    gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *aliasFile = g_build_filename(f->modules, "modules.alias", NULL);
    g_autofree char *big = g_malloc(VFMIG_NODEDEV_MODULES_FILE_MAX + 2);
    g_autofree char *garbled = g_strdup(ALIASES "alias vfio_pci:v*d*sv*sd*bc*sc*i* x\n");
    g_autofree char *want = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(vfmigNodeDevBind) atMax = NULL;
    size_t len = strlen(garbled);

    /* 8 MiB and one byte: refused */
    memset(big, '#', VFMIG_NODEDEV_MODULES_FILE_MAX + 1);
    big[VFMIG_NODEDEV_MODULES_FILE_MAX + 1] = '\0';
    modulesFile(f, "modules.alias", big);
    want = g_strdup_printf("kernel module alias file '%s' is larger than 8 MiB (8388609 bytes): libvirt reads at most 8 MiB of it and fails to start the domain; regenerate it with 'depmod -a'",
                           aliasFile);
    assertPredictFails(f, VF, NULL, want);
    /* 8 MiB exactly: read (and no alias in it) */
    big[VFMIG_NODEDEV_MODULES_FILE_MAX] = '\0';
    modulesFile(f, "modules.alias", big);
    atMax = predict(f, VF, NULL);
    g_assert_cmpstr(atMax->driver, ==, "vfio-pci");

    /* not text: a NUL byte in the aliases */
    garbled[strlen(ALIASES) + 3] = '\0';
    g_file_set_contents(aliasFile, garbled, len, &err);
    g_assert_no_error(err);
    g_free(want);
    want = g_strdup_printf("kernel module alias file '%s' is not a text file (a NUL byte at offset %zu): regenerate it with 'depmod -a'",
                           aliasFile, strlen(ALIASES) + 3);
    assertPredictFails(f, VF, NULL, want);

    /* none */
    g_assert_cmpint(g_unlink(aliasFile), ==, 0);
    g_free(want);
    want = g_strdup_printf("cannot open kernel module alias file '%s': No such file or directory",
                           aliasFile);
    assertPredictFails(f, VF, NULL, want);
}


static void
testPredictBadModalias(Fake *f,
                       gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *modalias = g_build_filename(f->sys, "devices", "pci0000:3a", VF, "modalias", NULL);
    g_autofree char *want = g_strdup_printf("'%s/bus/pci/devices/" VF "/modalias' is missing", f->sys);

    vfmigTestWriteFile(modalias, "pci:v000015B3d0000101E\n");
    assertPredictFails(f, VF, NULL,
                       "the modalias of PCI device " VF ", 'pci:v000015B3d0000101E', is not a PCI modalias (pci:v...d...sv...sd...bc...sc...i...): libvirt cannot choose its VFIO driver");
    vfmigTestWriteFile(modalias, "usb:v1D6Bp0002\n");
    assertPredictFails(f, VF, NULL,
                       "the modalias of PCI device " VF ", 'usb:v1D6Bp0002', is not a PCI modalias (pci:v...d...sv...sd...bc...sc...i...): libvirt cannot choose its VFIO driver");
    g_assert_cmpint(g_unlink(modalias), ==, 0);
    assertPredictFails(f, VF, NULL, want);
}


/* The one table of drivers: what the three former lists said. */
static void
testDriverTable(void)
{
    const vfmigDriverInfo *mlx5 = vfmigDriverLookup("mlx5_vfio_pci");
    const vfmigDriverInfo *td = vfmigDriverLookup("vfmig-testdev");

    g_assert_nonnull(mlx5);
    g_assert_true(mlx5->migration);
    g_assert_true(mlx5->stopCopyWholeState);
    g_assert_null(mlx5->stateSizeFile);
    g_assert_nonnull(td);
    g_assert_false(td->stopCopyWholeState);
    g_assert_cmpstr(td->stateSizeFile, ==, "vfmig_testdev/state_size");
    g_assert_cmpstr(vfmigDriverLookup("vfmig_mlx5model")->digestFile, ==, "vfmig_mlx5model/digest");
    g_assert_null(vfmigDriverLookup("vfio-pci"));
    g_assert_null(vfmigDriverLookup(NULL));
    g_assert_true(vfmigDriverForIds(0x15b3, 0x101e) == mlx5);
    g_assert_null(vfmigDriverForIds(0x15b3, 0x1017));
    g_assert_true(vfmigDriverNameEqual("mlx5-vfio-pci", "mlx5_vfio_pci"));
    g_assert_false(vfmigDriverNameEqual("mlx5_vfio_pc", "mlx5_vfio_pci"));
    g_assert_false(vfmigDriverNameEqual(NULL, "mlx5_vfio_pci"));
}


int
main(int argc,
     char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/nodedev/variant/rule/exact", testRuleExact);
    g_test_add_func("/nodedev/variant/rule/wildcard-vs-exact", testRuleWildcardVsExact);
    g_test_add_func("/nodedev/variant/rule/several", testRuleSeveral);
    g_test_add_func("/nodedev/variant/rule/subsystem", testRuleSubsystem);
    g_test_add_func("/nodedev/variant/rule/class", testRuleClass);
    g_test_add_func("/nodedev/variant/rule/no-match", testRuleNoMatch);
    g_test_add_func("/nodedev/variant/rule/skipped", testRuleSkipped);
    g_test_add_func("/nodedev/variant/rule/module-next-line", testRuleModuleNextLine);
    g_test_add_func("/nodedev/variant/rule/bad-modalias", testRuleBadModalias);
    g_test_add_func("/nodedev/variant/driver-table", testDriverTable);

#define ADD(name, fn) \
    g_test_add("/nodedev/variant/predict/" name, Fake, NULL, fakeSetup, fn, fakeTeardown)

    ADD("alias", testPredictAlias);
    ADD("module-names", testPredictModuleNames);
    ADD("no-alias", testPredictNoAlias);
    ADD("no-migration", testPredictNoMigration);
    ADD("driver-model", testPredictModel);
    ADD("stale", testPredictStale);
    ADD("bad-files", testPredictBadFiles);
    ADD("bad-modalias", testPredictBadModalias);

    return g_test_run();
}
