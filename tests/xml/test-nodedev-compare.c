/*
 * test-nodedev-compare.c: source/destination compatibility of VFs
 *
 * A table: each row changes a known-good mlx5 pair in one or two ways and
 * states the verdict, the pre-copy mode the source must use, what QEMU
 * does on the source, and every reason (code, side, fatal) in order.
 * Then the golden documents of nodedevschemadata/ compared as the CLI
 * will compare them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>

#include "vfmigerror.h"
#include "vfmignodedevcompare.h"
#include "vfmignodedevxml.h"

#define ALL_FEATURES (VFMIG_NODEDEV_FEATURE_STOP_COPY | \
                      VFMIG_NODEDEV_FEATURE_P2P | \
                      VFMIG_NODEDEV_FEATURE_PRE_COPY | \
                      VFMIG_NODEDEV_FEATURE_MULTI_LOAD)

/* A change to the known-good device (0 / NULL fields: unchanged). */
typedef struct {
    const char *driver;
    unsigned int vendor;
    unsigned int device;
    const char *firmware;       /* "-": not reported */
    int streamVersion;          /* -1: not reported */
    unsigned int clearFeatures;
    int precopy;                /* vfmigNodeDevPrecopy, 0: unchanged */
    int dirty;                  /* vfmigNodeDevDirty + 1, 0: unchanged */
    const char *dirtyReason;
    bool absent;                /* no capability at all */
} Change;

typedef struct {
    vfmigNodeDevReason code;
    vfmigNodeDevSide side;
    bool fatal;
    const char *needle;         /* in the message, or NULL */
} Reason;

typedef struct {
    const char *name;
    Change src;
    Change dst;
    vfmigNodeDevCompareVerdict verdict;
    vfmigNodeDevPrecopy precopy;
    vfmigNodeDevQEMU qemu;
    Reason reasons[8];
} Case;

#define DIRTY(d) ((d) + 1)
#define R_SRC VFMIG_NODEDEV_SIDE_SOURCE
#define R_DST VFMIG_NODEDEV_SIDE_DESTINATION
#define R_BOTH VFMIG_NODEDEV_SIDE_BOTH
#define INCOMPATIBLE VFMIG_NODEDEV_COMPARE_INCOMPATIBLE
#define DEGRADED VFMIG_NODEDEV_COMPARE_DEGRADED
#define COMPATIBLE VFMIG_NODEDEV_COMPARE_COMPATIBLE
#define PRE_ON VFMIG_NODEDEV_PRECOPY_ON
#define PRE_SINGLE VFMIG_NODEDEV_PRECOPY_SINGLE
#define PRE_OFF VFMIG_NODEDEV_PRECOPY_OFF
#define Q_BLOCKED VFMIG_NODEDEV_QEMU_BLOCKED
#define Q_ALL_DIRTY VFMIG_NODEDEV_QEMU_ALL_DIRTY
#define Q_ALLOWED VFMIG_NODEDEV_QEMU_ALLOWED

static const Case cases[] = {
    { "identical", {0}, {0},
      COMPATIBLE, PRE_ON, Q_ALLOWED, {{0}} },

    { "iommu-dirty-tracking", { .dirty = DIRTY(VFMIG_NODEDEV_DIRTY_IOMMU) }, {0},
      COMPATIBLE, PRE_ON, Q_ALLOWED, {{0}} },

    { "different-driver", {0}, { .driver = "hisi_acc_vfio_pci" },
      INCOMPATIBLE, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_DRIVER, R_BOTH, true, "'hisi_acc_vfio_pci'" }} },

    { "different-device-id", {0}, { .device = 0x101f },
      INCOMPATIBLE, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_ID, R_BOTH, true, "15b3:101f" }} },

    { "different-vendor-id", { .vendor = 0x1b36 }, {0},
      INCOMPATIBLE, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_ID, R_BOTH, true, "1b36:101e" }} },

    { "different-firmware", {0}, { .firmware = "28.40.1000" },
      INCOMPATIBLE, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_FIRMWARE, R_BOTH, true, "'28.40.1000'" }} },

    { "firmware-source-only", {0}, { .firmware = "-" },
      COMPATIBLE, PRE_ON, Q_ALLOWED, {{0}} },

    { "firmware-destination-only", { .firmware = "-" }, {0},
      COMPATIBLE, PRE_ON, Q_ALLOWED, {{0}} },

    { "different-stream-version", { .streamVersion = 2 }, {0},
      INCOMPATIBLE, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_STREAM_VERSION, R_BOTH, true, "source 2, destination 1" }} },

    { "stream-version-one-side", {0}, { .streamVersion = -1 },
      COMPATIBLE, PRE_ON, Q_ALLOWED, {{0}} },

    { "no-stop-copy-source", { .clearFeatures = ALL_FEATURES }, {0},
      INCOMPATIBLE, PRE_OFF, Q_BLOCKED,
      {{ VFMIG_NODEDEV_REASON_NO_STOP_COPY, R_SRC, true, "QEMU blocks" },
       { VFMIG_NODEDEV_REASON_NO_PRE_COPY, R_SRC, false, NULL }} },

    { "no-stop-copy-destination", {0}, { .clearFeatures = VFMIG_NODEDEV_FEATURE_STOP_COPY },
      INCOMPATIBLE, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_NO_STOP_COPY, R_DST, true, "cannot load" }} },

    { "no-stop-copy-either", { .clearFeatures = VFMIG_NODEDEV_FEATURE_STOP_COPY },
      { .clearFeatures = VFMIG_NODEDEV_FEATURE_STOP_COPY },
      INCOMPATIBLE, PRE_OFF, Q_BLOCKED,
      {{ VFMIG_NODEDEV_REASON_NO_STOP_COPY, R_SRC, true, NULL },
       { VFMIG_NODEDEV_REASON_NO_STOP_COPY, R_DST, true, NULL }} },

    { "no-pre-copy-source", { .clearFeatures = VFMIG_NODEDEV_FEATURE_PRE_COPY }, {0},
      DEGRADED, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_NO_PRE_COPY, R_SRC, false, "source device does not offer pre-copy" }} },

    { "no-pre-copy-destination", {0}, { .clearFeatures = VFMIG_NODEDEV_FEATURE_PRE_COPY },
      DEGRADED, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_NO_PRE_COPY, R_DST, false, "destination device does not offer pre-copy" }} },

    { "no-pre-copy-either", { .clearFeatures = VFMIG_NODEDEV_FEATURE_PRE_COPY },
      { .clearFeatures = VFMIG_NODEDEV_FEATURE_PRE_COPY },
      DEGRADED, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_NO_PRE_COPY, R_SRC, false, NULL },
       { VFMIG_NODEDEV_REASON_NO_PRE_COPY, R_DST, false, NULL }} },

    { "pre-copy-switched-off-source",
      { .clearFeatures = VFMIG_NODEDEV_FEATURE_PRE_COPY, .precopy = PRE_OFF }, {0},
      DEGRADED, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_NO_PRE_COPY, R_SRC, false, "switched off (mode 'off')" }} },

    { "pre-copy-switched-off-destination", {0},
      { .clearFeatures = VFMIG_NODEDEV_FEATURE_PRE_COPY, .precopy = PRE_OFF },
      DEGRADED, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_NO_PRE_COPY, R_DST, false, "destination device has pre-copy switched off" }} },

    { "no-multi-load-destination", {0}, { .clearFeatures = VFMIG_NODEDEV_FEATURE_MULTI_LOAD },
      DEGRADED, PRE_SINGLE, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_NO_MULTI_LOAD, R_DST, false, "'single'" }} },

    { "no-multi-load-source-only", { .clearFeatures = VFMIG_NODEDEV_FEATURE_MULTI_LOAD }, {0},
      COMPATIBLE, PRE_ON, Q_ALLOWED, {{0}} },

    { "source-in-single-mode", { .precopy = PRE_SINGLE }, {0},
      COMPATIBLE, PRE_ON, Q_ALLOWED, {{0}} },

    { "no-multi-load-and-no-pre-copy",
      { .clearFeatures = VFMIG_NODEDEV_FEATURE_PRE_COPY },
      { .clearFeatures = VFMIG_NODEDEV_FEATURE_MULTI_LOAD },
      DEGRADED, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_NO_PRE_COPY, R_SRC, false, NULL }} },

    { "no-dirty-tracking-source",
      { .dirty = DIRTY(VFMIG_NODEDEV_DIRTY_NONE), .dirtyReason = "no CONFIG_IOMMUFD_DRIVER" }, {0},
      DEGRADED, PRE_ON, Q_ALL_DIRTY,
      {{ VFMIG_NODEDEV_REASON_NO_DIRTY_TRACKING, R_SRC, false, "(no CONFIG_IOMMUFD_DRIVER): QEMU migrates it only with enable-migration=on" }} },

    { "no-dirty-tracking-source-no-reason", { .dirty = DIRTY(VFMIG_NODEDEV_DIRTY_NONE) }, {0},
      DEGRADED, PRE_ON, Q_ALL_DIRTY,
      {{ VFMIG_NODEDEV_REASON_NO_DIRTY_TRACKING, R_SRC, false, "all guest RAM as dirty" }} },

    { "no-dirty-tracking-destination-only", {0}, { .dirty = DIRTY(VFMIG_NODEDEV_DIRTY_NONE) },
      COMPATIBLE, PRE_ON, Q_ALLOWED, {{0}} },

    { "kernel-6.12-to-single-load",
      { .dirty = DIRTY(VFMIG_NODEDEV_DIRTY_NONE) },
      { .clearFeatures = VFMIG_NODEDEV_FEATURE_MULTI_LOAD },
      DEGRADED, PRE_SINGLE, Q_ALL_DIRTY,
      {{ VFMIG_NODEDEV_REASON_NO_MULTI_LOAD, R_DST, false, NULL },
       { VFMIG_NODEDEV_REASON_NO_DIRTY_TRACKING, R_SRC, false, NULL }} },

    { "firmware-and-no-multi-load", {0},
      { .firmware = "28.41.0001", .clearFeatures = VFMIG_NODEDEV_FEATURE_MULTI_LOAD },
      INCOMPATIBLE, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_FIRMWARE, R_BOTH, true, NULL },
       { VFMIG_NODEDEV_REASON_NO_MULTI_LOAD, R_DST, false, NULL }} },

    { "no-capability-source", { .absent = true }, {0},
      INCOMPATIBLE, PRE_OFF, Q_BLOCKED,
      {{ VFMIG_NODEDEV_REASON_NO_CAPABILITY, R_SRC, true, "source device has no vfio-migration capability" }} },

    { "no-capability-destination", {0}, { .absent = true },
      INCOMPATIBLE, PRE_OFF, Q_ALLOWED,
      {{ VFMIG_NODEDEV_REASON_NO_CAPABILITY, R_DST, true, "destination device" }} },

    { "no-capability-either", { .absent = true }, { .absent = true },
      INCOMPATIBLE, PRE_OFF, Q_BLOCKED,
      {{ VFMIG_NODEDEV_REASON_NO_CAPABILITY, R_SRC, true, NULL },
       { VFMIG_NODEDEV_REASON_NO_CAPABILITY, R_DST, true, NULL }} },

    { "everything-wrong",
      { .streamVersion = 3, .dirty = DIRTY(VFMIG_NODEDEV_DIRTY_NONE) },
      { .driver = "vfmig_testdev", .vendor = 0x1b36, .device = 0x0005, .firmware = "1.0",
        .clearFeatures = VFMIG_NODEDEV_FEATURE_STOP_COPY | VFMIG_NODEDEV_FEATURE_PRE_COPY },
      INCOMPATIBLE, PRE_OFF, Q_ALL_DIRTY,
      {{ VFMIG_NODEDEV_REASON_DRIVER, R_BOTH, true, "'mlx5_vfio_pci'" },
       { VFMIG_NODEDEV_REASON_ID, R_BOTH, true, NULL },
       { VFMIG_NODEDEV_REASON_FIRMWARE, R_BOTH, true, NULL },
       { VFMIG_NODEDEV_REASON_STREAM_VERSION, R_BOTH, true, NULL },
       { VFMIG_NODEDEV_REASON_NO_STOP_COPY, R_DST, true, NULL },
       { VFMIG_NODEDEV_REASON_NO_PRE_COPY, R_DST, false, NULL },
       { VFMIG_NODEDEV_REASON_NO_DIRTY_TRACKING, R_SRC, false, NULL }} },
};


static vfmigNodeDevCapVFIOMig *
makeCap(const Change *c)
{
    vfmigNodeDevCapVFIOMig *cap;

    if (c->absent)
        return NULL;

    cap = g_new0(vfmigNodeDevCapVFIOMig, 1);
    cap->driver = g_strdup(c->driver ? c->driver : "mlx5_vfio_pci");
    cap->variant = true;
    cap->features = ALL_FEATURES & ~c->clearFeatures;
    cap->source = VFMIG_NODEDEV_SOURCE_SYSFS;
    cap->precopy = c->precopy ? c->precopy : VFMIG_NODEDEV_PRECOPY_ON;
    cap->dirty = c->dirty ? c->dirty - 1 : VFMIG_NODEDEV_DIRTY_DEVICE;
    cap->dirtyReason = g_strdup(c->dirtyReason);
    cap->vendor = c->vendor ? c->vendor : 0x15b3;
    cap->device = c->device ? c->device : 0x101e;
    if (!c->firmware)
        cap->firmware = g_strdup("28.39.1002");
    else if (strcmp(c->firmware, "-") != 0)
        cap->firmware = g_strdup(c->firmware);
    if (c->streamVersion > 0)
        cap->streamVersion = c->streamVersion;
    else if (c->streamVersion == 0)
        cap->streamVersion = 1;
    return cap;
}


static void
testCase(gconstpointer opaque)
{
    const Case *tc = opaque;
    g_autoptr(vfmigNodeDevCapVFIOMig) src = makeCap(&tc->src);
    g_autoptr(vfmigNodeDevCapVFIOMig) dst = makeCap(&tc->dst);
    g_autoptr(vfmigNodeDevCompareResult) res = NULL;
    size_t n = 0;
    size_t i;

    res = vfmigNodeDevCapVFIOMigCompare(src, dst);
    g_assert_nonnull(res);

    for (i = 0; i < res->reasons->len; i++) {
        vfmigNodeDevCompareReason *r = g_ptr_array_index(res->reasons, i);

        g_test_message("%s %s%s: %s",
                       vfmigNodeDevReasonTypeToString(r->code),
                       vfmigNodeDevSideTypeToString(r->side),
                       r->fatal ? " (fatal)" : "", r->message);
    }

    g_assert_cmpstr(vfmigNodeDevCompareVerdictTypeToString(res->verdict), ==,
                    vfmigNodeDevCompareVerdictTypeToString(tc->verdict));
    g_assert_cmpstr(vfmigNodeDevPrecopyTypeToString(res->precopy), ==,
                    vfmigNodeDevPrecopyTypeToString(tc->precopy));
    g_assert_cmpstr(vfmigNodeDevQEMUTypeToString(res->qemu), ==,
                    vfmigNodeDevQEMUTypeToString(tc->qemu));

    while (n < G_N_ELEMENTS(tc->reasons) &&
           (tc->reasons[n].code || tc->reasons[n].side || tc->reasons[n].fatal ||
            tc->reasons[n].needle))
        n++;
    g_assert_cmpuint(res->reasons->len, ==, n);

    for (i = 0; i < n; i++) {
        vfmigNodeDevCompareReason *r = g_ptr_array_index(res->reasons, i);
        const Reason *want = &tc->reasons[i];

        g_assert_cmpstr(vfmigNodeDevReasonTypeToString(r->code), ==,
                        vfmigNodeDevReasonTypeToString(want->code));
        g_assert_cmpstr(vfmigNodeDevSideTypeToString(r->side), ==,
                        vfmigNodeDevSideTypeToString(want->side));
        g_assert_cmpint(r->fatal, ==, want->fatal);
        g_assert_nonnull(r->message);
        g_assert_cmpuint(strlen(r->message), >, 20);
        if (want->needle && !strstr(r->message, want->needle)) {
            g_test_message("'%s' not in '%s'", want->needle, r->message);
            g_test_fail();
        }
    }

    /* Only a fatal reason refuses; only a reason degrades. */
    if (tc->verdict == COMPATIBLE)
        g_assert_cmpuint(n, ==, 0);
}


static vfmigNodeDevCapVFIOMig *
capFromDoc(const char *name)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "nodedevschemadata",
                                                  name, NULL);
    g_autofree char *xml = NULL;
    vfmigNodeDevCapVFIOMig *cap = NULL;

    if (!g_file_get_contents(path, &xml, NULL, NULL))
        g_error("cannot read %s", path);
    if (vfmigNodeDevXMLExtractCap(xml, &cap) < 0)
        g_error("%s: %s", name, vfmigGetLastErrorMessage());
    return cap;
}


/* The golden documents, compared as nodedev-compare will. */
static void
testDocuments(void)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) k61 = capFromDoc("pci_0000_3b_00_2_mlx5_precopy.xml");
    g_autoptr(vfmigNodeDevCapVFIOMig) k612 = capFromDoc("pci_0000_3b_00_3_mlx5_dirty_none.xml");
    g_autoptr(vfmigNodeDevCapVFIOMig) testdev = capFromDoc("pci_0000_00_05_0_testdev_live.xml");
    g_autoptr(vfmigNodeDevCapVFIOMig) hisi = capFromDoc("pci_0000_81_00_4_stop_copy_only.xml");
    g_autoptr(vfmigNodeDevCapVFIOMig) plain = capFromDoc("pci_0000_3b_00_5_vfio_pci.xml");
    g_autoptr(vfmigNodeDevCompareResult) fwd = NULL;
    g_autoptr(vfmigNodeDevCompareResult) back = NULL;
    g_autoptr(vfmigNodeDevCompareResult) self = NULL;
    g_autoptr(vfmigNodeDevCompareResult) cross = NULL;
    g_autoptr(vfmigNodeDevCompareResult) none = NULL;
    g_autoptr(vfmigNodeDevCompareResult) stopCopy = NULL;

    g_assert_nonnull(k61);
    g_assert_nonnull(k612);
    g_assert_null(plain);

    /* 6.1 -> 6.12: the source tracks DMA, the destination's lack does
     * not matter for this direction. */
    fwd = vfmigNodeDevCapVFIOMigCompare(k61, k612);
    g_assert_cmpint(fwd->verdict, ==, COMPATIBLE);
    g_assert_cmpint(fwd->precopy, ==, PRE_ON);
    g_assert_cmpint(fwd->qemu, ==, Q_ALLOWED);

    /* 6.12 -> 6.1: QEMU needs enable-migration=on and all RAM is dirty. */
    back = vfmigNodeDevCapVFIOMigCompare(k612, k61);
    g_assert_cmpint(back->verdict, ==, DEGRADED);
    g_assert_cmpint(back->qemu, ==, Q_ALL_DIRTY);
    g_assert_cmpuint(back->reasons->len, ==, 1);
    g_assert_nonnull(strstr(((vfmigNodeDevCompareReason *) back->reasons->pdata[0])->message,
                            "CONFIG_IOMMUFD_DRIVER"));

    self = vfmigNodeDevCapVFIOMigCompare(testdev, testdev);
    g_assert_cmpint(self->verdict, ==, COMPATIBLE);

    cross = vfmigNodeDevCapVFIOMigCompare(k61, testdev);
    g_assert_cmpint(cross->verdict, ==, INCOMPATIBLE);

    none = vfmigNodeDevCapVFIOMigCompare(k61, plain);
    g_assert_cmpint(none->verdict, ==, INCOMPATIBLE);

    stopCopy = vfmigNodeDevCapVFIOMigCompare(hisi, hisi);
    g_assert_cmpint(stopCopy->verdict, ==, DEGRADED);
    g_assert_cmpint(stopCopy->precopy, ==, PRE_OFF);
    g_assert_cmpint(stopCopy->qemu, ==, Q_ALLOWED);
    g_assert_cmpuint(stopCopy->reasons->len, ==, 2);
}


static void
testNames(void)
{
    size_t i;

    for (i = 0; i < VFMIG_NODEDEV_COMPARE_LAST; i++)
        g_assert_nonnull(vfmigNodeDevCompareVerdictTypeToString(i));
    for (i = 0; i < VFMIG_NODEDEV_QEMU_LAST; i++)
        g_assert_nonnull(vfmigNodeDevQEMUTypeToString(i));
    for (i = 0; i < VFMIG_NODEDEV_REASON_LAST; i++)
        g_assert_nonnull(vfmigNodeDevReasonTypeToString(i));
    for (i = 0; i < VFMIG_NODEDEV_SIDE_LAST; i++)
        g_assert_nonnull(vfmigNodeDevSideTypeToString(i));
    g_assert_null(vfmigNodeDevCompareVerdictTypeToString(VFMIG_NODEDEV_COMPARE_LAST));
    g_assert_null(vfmigNodeDevQEMUTypeToString(-1));
    g_assert_null(vfmigNodeDevReasonTypeToString(VFMIG_NODEDEV_REASON_LAST));
    g_assert_null(vfmigNodeDevSideTypeToString(VFMIG_NODEDEV_SIDE_LAST));
    g_assert_cmpstr(vfmigNodeDevQEMUTypeToString(VFMIG_NODEDEV_QEMU_ALL_DIRTY), ==, "all-dirty");
}


/*
 * What all RAM dirty costs: guest RAM over the link, in us, rounded up.
 * 4 GiB at 10 Gbit/s is 3.436 s: a formula in bits (27.5 s), in GB
 * (3.2 s), in ms, or rounded down would each give another number.
 */
static void
testAllDirtyLeast(void)
{
    const uint64_t gib = 1024ULL * 1024 * 1024;
    const uint64_t link = VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED;
    struct {
        uint64_t ram;
        uint64_t bps;
        uint64_t us;
        const char *time;
    } rows[] = {
        { 4 * gib, link, 3435974, "3.4 s" },            /* 3435973.8368 */
        { gib, link, 858994, "0.86 s" },                /* 858993.4592 */
        { 64 * 1024 * 1024, link, 53688, "54 ms" },
        { 48 * gib, link, 41231687, "41 s" },
        { 4 * gib, 4 * link, 858994, "0.86 s" },       /* 40 Gbit/s */
        { 1, 3, 333334, "0.33 s" },                     /* rounded up */
        { 3, 3, 1000000, "1.0 s" },                     /* exactly */
        { 0, link, 0, "0.0 ms" },
        { gib, 0, UINT64_MAX, "unknown" },
        { UINT64_MAX, 1, UINT64_MAX, "unknown" },       /* does not fit */
        { UINT64_MAX, UINT64_MAX, 1000000, "1.0 s" },
        { 1, UINT64_MAX, 1, "0.0 ms" },                 /* 18 EB/s */
        { UINT64_MAX - 1, UINT64_MAX, 1000000, "1.0 s" },
    };
    size_t i;

    g_assert_cmpuint(link * 8, ==, 10000000000ULL);
    for (i = 0; i < G_N_ELEMENTS(rows); i++) {
        uint64_t us = vfmigNodeDevAllDirtyLeastUs(rows[i].ram, rows[i].bps);
        g_autofree char *time = vfmigNodeDevAllDirtyFormatTime(us);

        if (us != rows[i].us || !g_str_equal(time, rows[i].time))
            g_error("case %zu: %" G_GUINT64_FORMAT " bytes at %" G_GUINT64_FORMAT
                    " B/s: %" G_GUINT64_FORMAT " us (%s), want %" G_GUINT64_FORMAT
                    " us (%s)", i, rows[i].ram, rows[i].bps, us, time,
                    rows[i].us, rows[i].time);
    }
}


static void
testAllDirtyFormat(void)
{
    struct {
        char *(*fn)(uint64_t);
        uint64_t value;
        const char *want;
    } rows[] = {
        { vfmigNodeDevAllDirtyFormatRAM, 4ULL << 30, "4.0 GiB" },
        { vfmigNodeDevAllDirtyFormatRAM, 1536ULL << 20, "1.5 GiB" },
        { vfmigNodeDevAllDirtyFormatRAM, 64ULL << 20, "64 MiB" },
        { vfmigNodeDevAllDirtyFormatRAM, 4096, "4096 bytes" },
        { vfmigNodeDevAllDirtyFormatLink, VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED, "10 Gbit/s" },
        { vfmigNodeDevAllDirtyFormatLink, 3125000000ULL, "25 Gbit/s" },
        { vfmigNodeDevAllDirtyFormatLink, 312500000ULL, "2.5 Gbit/s" },
        { vfmigNodeDevAllDirtyFormatLink, 100000000ULL, "800 Mbit/s" },
        { vfmigNodeDevAllDirtyFormatLink, 125000000ULL, "1 Gbit/s" },
        { vfmigNodeDevAllDirtyFormatTime, 9949999, "9.9 s" },
        { vfmigNodeDevAllDirtyFormatTime, 9950000, "10 s" },
        { vfmigNodeDevAllDirtyFormatTime, 120000000, "120 s" },
        { vfmigNodeDevAllDirtyFormatTime, 2500, "2.5 ms" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *got = rows[i].fn(rows[i].value);

        g_assert_cmpstr(got, ==, rows[i].want);
    }
}


int
main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/nodedev/compare/%s", cases[i].name);

        g_test_add_data_func(path, &cases[i], testCase);
    }
    g_test_add_func("/nodedev/compare/documents", testDocuments);
    g_test_add_func("/nodedev/compare/names", testNames);
    g_test_add_func("/nodedev/compare/all-dirty-least", testAllDirtyLeast);
    g_test_add_func("/nodedev/compare/all-dirty-format", testAllDirtyFormat);

    return g_test_run();
}
