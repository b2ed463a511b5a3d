/*
 * vm-mlx5-track.c: the DMA dirty-page tracker of mlx5_vfio_pci on the
 * firmware MODEL (vfmig_mlx5model), through the VFIO uAPI as a VMM uses it
 *
 * Usage: vm-mlx5-track BDF yes|no
 *        vm-mlx5-track --plan yes|no
 *
 * Opens BDF through a VFIO container (type1), maps 8 regions of 1 MiB of
 * its own memory at IOVAs 1 MiB apart (0x1000000, 0x1200000, ...), and:
 *
 * no:  the kernel cannot report dirty pages (Debian's 6.12): the device
 *      offers no DMA logging, DMA_LOGGING_START fails with ENOTTY.
 * yes: DMA logging is offered, and with the model's tracker limited to 2
 *      ranges and messages of 512 pages:
 *   - START with the 8 regions: the object holds 2 ranges that cover all
 *     8 (merged), with pages of 4 KiB;
 *   - nothing written: a report finds no page;
 *   - the function writes (dma_dirty) 4 pages in 3 regions: the writes
 *     land in this process's memory (vfio_dma_rw through the IOMMU), a
 *     report of the whole span finds exactly those 4 pages, the next
 *     report none; a page in a gap between regions is never reported;
 *   - 1024 pages written: reported in exactly 2 messages of 512, all
 *     found; reports of the regions one by one find each region's pages;
 *   - each tracker fault (MODIFY refused, the channel broken after the
 *     first message, a report ending in ERROR, ERROR seen only through
 *     OBJECT_CHANGE) fails the report with EIO, later reports too, until
 *     STOP; a new START then tracks again;
 *   - the PF disables the VF while tracking: the report fails, STOP
 *     succeeds, and after the PF enables it START tracks again;
 *   - ranges whose merged address space exceeds the firmware's 2^42 bytes:
 *     START fails with EOPNOTSUPP.
 *
 * TAP on stdout; exit 0 when every check passed, 1 when one failed, 2 on
 * a usage error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vm-testlib.h"

#define NREG        8
#define REG_SIZE    (1u << 20)
#define REG_IOVA(i) (0x1000000ull + (uint64_t)(i) * 2 * REG_SIZE)
#define PG          4096u
#define SPAN        (REG_IOVA(NREG - 1) + REG_SIZE - REG_IOVA(0))
#define KNOBS       "vfmig_mlx5model/"

#define PLAN_YES    21
#define PLAN_NO     2

typedef struct {
    int container;
    int group;
    int dev;
    uint8_t *mem;
} vmTrack;

static int
trackOpen(vmTrack *t, const char *bdf)
{
    char link[PATH_MAX], path[PATH_MAX];
    struct vfio_group_status gs = { .argsz = sizeof(gs) };
    g_autofree char *sys = g_strdup_printf("/sys/bus/pci/devices/%s/iommu_group", bdf);
    const char *grp;
    ssize_t n;
    int i;

    if ((n = readlink(sys, link, sizeof(link) - 1)) < 0) {
        vmTapDiag("%s: %s", sys, strerror(errno));
        return -1;
    }
    link[n] = '\0';
    grp = strrchr(link, '/') + 1;
    snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
    if ((t->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC)) < 0 ||
        (t->group = open(path, O_RDWR | O_CLOEXEC)) < 0 ||
        ioctl(t->group, VFIO_GROUP_GET_STATUS, &gs) < 0 ||
        !(gs.flags & VFIO_GROUP_FLAGS_VIABLE) ||
        ioctl(t->group, VFIO_GROUP_SET_CONTAINER, &t->container) < 0 ||
        ioctl(t->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 ||
        (t->dev = ioctl(t->group, VFIO_GROUP_GET_DEVICE_FD, bdf)) < 0) {
        vmTapDiag("opening %s through %s: %s", bdf, path, strerror(errno));
        return -1;
    }
    t->mem = mmap(NULL, (size_t)NREG * REG_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t->mem == MAP_FAILED) {
        vmTapDiag("mmap: %s", strerror(errno));
        return -1;
    }
    memset(t->mem, 0, (size_t)NREG * REG_SIZE);
    for (i = 0; i < NREG; i++) {
        struct vfio_iommu_type1_dma_map map = {
            .argsz = sizeof(map),
            .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
            .vaddr = (uintptr_t)(t->mem + (size_t)i * REG_SIZE),
            .iova = REG_IOVA(i),
            .size = REG_SIZE,
        };

        if (ioctl(t->container, VFIO_IOMMU_MAP_DMA, &map) < 0) {
            vmTapDiag("VFIO_IOMMU_MAP_DMA 0x%llx: %s",
                      (unsigned long long)map.iova, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* DMA_LOGGING_START of @n ranges; 0 or -errno. */
static int
logStart(vmTrack *t, const struct vfio_device_feature_dma_logging_range *r,
         unsigned int n, uint64_t pageSize)
{
    uint8_t buf[sizeof(struct vfio_device_feature) +
                sizeof(struct vfio_device_feature_dma_logging_control)];
    struct vfio_device_feature *f = (void *)buf;
    struct vfio_device_feature_dma_logging_control *c = (void *)f->data;

    memset(buf, 0, sizeof(buf));
    f->argsz = sizeof(buf);
    f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
    c->page_size = pageSize;
    c->num_ranges = n;
    c->ranges = (uintptr_t)r;
    return ioctl(t->dev, VFIO_DEVICE_FEATURE, f) < 0 ? -errno : 0;
}

static int
logStartAll(vmTrack *t)
{
    struct vfio_device_feature_dma_logging_range r[NREG];
    int i;

    for (i = 0; i < NREG; i++) {
        r[i].iova = REG_IOVA(i);
        r[i].length = REG_SIZE;
    }
    return logStart(t, r, NREG, PG);
}

static int
logStop(vmTrack *t)
{
    struct vfio_device_feature f = {
        .argsz = sizeof(f),
        .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
    };

    return ioctl(t->dev, VFIO_DEVICE_FEATURE, &f) < 0 ? -errno : 0;
}

/* DMA_LOGGING_REPORT of [iova, +len) into @bitmap; 0 or -errno. */
static int
logReport(vmTrack *t, uint64_t iova, uint64_t len, uint64_t *bitmap)
{
    uint8_t buf[sizeof(struct vfio_device_feature) +
                sizeof(struct vfio_device_feature_dma_logging_report)];
    struct vfio_device_feature *f = (void *)buf;
    struct vfio_device_feature_dma_logging_report *r = (void *)f->data;

    memset(buf, 0, sizeof(buf));
    memset(bitmap, 0, (len / PG + 63) / 64 * 8);
    f->argsz = sizeof(buf);
    f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
    r->iova = iova;
    r->length = len;
    r->page_size = PG;
    r->bitmap = (uintptr_t)bitmap;
    return ioctl(t->dev, VFIO_DEVICE_FEATURE, f) < 0 ? -errno : 0;
}

static unsigned int
bitCount(const uint64_t *bitmap, uint64_t len)
{
    unsigned int n = 0;
    uint64_t i;

    for (i = 0; i < len / PG; i++)
        n += !!(bitmap[i / 64] & (1ull << (i % 64)));
    return n;
}

static bool
bitSet(const uint64_t *bitmap, uint64_t base, uint64_t iova)
{
    uint64_t i = (iova - base) / PG;

    return bitmap[i / 64] & (1ull << (i % 64));
}

/* The model's counter @name (vfmig_mlx5model/commands). */
static uint64_t
counter(const char *bdf, const char *name)
{
    g_autofree char *all = vmSysfsGet(bdf, KNOBS "commands");
    g_auto(GStrv) lines = g_strsplit(all ? all : "", "\n", -1);
    size_t len = strlen(name);
    char **l;

    for (l = lines; *l; l++)
        if (!strncmp(*l, name, len) && (*l)[len] == ' ')
            return g_ascii_strtoull(*l + len + 1, NULL, 10);
    return UINT64_MAX;
}

/* The function writes [iova, +len) by DMA (the model's dma_dirty). */
static int
dmaDirty(const char *bdf, uint64_t iova, uint64_t len)
{
    g_autofree char *v = g_strdup_printf("0x%llx 0x%llx",
                                         (unsigned long long)iova,
                                         (unsigned long long)len);

    return vmSysfsSet(bdf, KNOBS "dma_dirty", v);
}

static const char *
errName(int err)
{
    return err ? g_strerror(-err) : "success";
}

/* A fault armed, then a report with pages dirty: EIO, sticky, restart. */
static void
checkFault(vmTap *tap, vmTrack *t, const char *bdf, const char *fault,
           uint64_t *bm)
{
    int e1, e2, e3, e4, e5, wr;
    unsigned int seen;

    wr = dmaDirty(bdf, REG_IOVA(0), REG_SIZE);
    vmSysfsSet(bdf, KNOBS "track_fault", fault);
    e1 = logReport(t, REG_IOVA(0), SPAN, bm);
    e2 = logReport(t, REG_IOVA(0), SPAN, bm);
    e3 = logStop(t);
    e4 = logStartAll(t);
    dmaDirty(bdf, REG_IOVA(2), PG);
    e5 = logReport(t, REG_IOVA(0), SPAN, bm);
    seen = bitCount(bm, SPAN);
    vmTapCheck(tap, wr == 0 && e1 == -EIO && e2 == -EIO && e3 == 0 &&
               e4 == 0 && e5 == 0 && seen == 1 && bitSet(bm, REG_IOVA(0), REG_IOVA(2)),
               "fault '%s': the report fails (%s), the next too (%s), STOP %s, a new START %s tracks again (%u page found, want 1)",
               fault, errName(e1), errName(e2), errName(e3), errName(e4), seen);
}

int
main(int argc, char **argv)
{
    vmTap tap = { 0 };
    vmTrack t = { -1, -1, -1, NULL };
    g_autofree uint64_t *bm = NULL;
    g_autofree char *feat = NULL;
    g_autofree char *obj = NULL;
    const char *bdf;
    bool expect;
    int e, i;

    if (argc == 3 && !strcmp(argv[1], "--plan")) {
        printf("%d\n", !strcmp(argv[2], "yes") ? PLAN_YES : PLAN_NO);
        return 0;
    }
    if (argc != 3 || (strcmp(argv[2], "yes") && strcmp(argv[2], "no"))) {
        fprintf(stderr, "usage: vm-mlx5-track BDF yes|no\n");
        return 2;
    }
    bdf = argv[1];
    expect = !strcmp(argv[2], "yes");
    vmTapPlan(&tap, expect ? PLAN_YES : PLAN_NO);
    bm = g_new0(uint64_t, SPAN / PG / 64 + 1);

    feat = vmSysfsGet(bdf, "vfio_migration/features");
    if (!vmTapCheck(&tap, trackOpen(&t, bdf) == 0,
                    "%s opened through a type1 container, 8 regions of 1 MiB mapped; features '%s'",
                    bdf, feat ? g_strstrip(feat) : "?"))
        goto done;

    if (!expect) {
        e = logStartAll(&t);
        vmTapCheck(&tap, e == -ENOTTY && feat && !strstr(feat, "dma-logging"),
                   "no DMA logging offered: START fails with %s (want %s), features without dma-logging",
                   errName(e), g_strerror(ENOTTY));
        goto done;
    }

    vmSysfsSet(bdf, KNOBS "track_max_ranges", "2");
    vmSysfsSet(bdf, KNOBS "track_log_msg_size", "12");
    e = logStartAll(&t);
    obj = vmSysfsGet(bdf, KNOBS "track");
    {
        g_autofree char *want = g_strdup_printf("ranges 2 0x%llx+0x%llx 0x%llx+0x%llx",
                                                (unsigned long long)REG_IOVA(0),
                                                (unsigned long long)(REG_IOVA(6) + REG_SIZE - REG_IOVA(0)),
                                                (unsigned long long)REG_IOVA(7),
                                                (unsigned long long)REG_SIZE);
        /* equal gaps: the first smallest gap is closed each time */
        vmTapCheck(&tap, e == 0 && obj && strstr(obj, "state TRACKING pages 4096 ") &&
                   strstr(obj, want),
                   "START with 8 ranges (%s): the tracker holds '%s', want '...%s'",
                   errName(e), obj ? g_strstrip(obj) : "?", want);
    }
    vmTapCheck(&tap, !!strstr(feat, "dma-logging"), "features list dma-logging");

    e = logReport(&t, REG_IOVA(0), SPAN, bm);
    vmTapCheck(&tap, e == 0 && bitCount(bm, SPAN) == 0,
               "nothing written: the report (%s) finds %u pages", errName(e), bitCount(bm, SPAN));

    {
        int w1 = dmaDirty(bdf, REG_IOVA(0), PG);
        int w2 = dmaDirty(bdf, REG_IOVA(3) + 5 * PG, 2 * PG);
        int w3 = dmaDirty(bdf, REG_IOVA(7) + REG_SIZE - PG, PG);
        int w4 = dmaDirty(bdf, REG_IOVA(2) + REG_SIZE, PG);
        uint64_t v0, v1;

        memcpy(&v0, t.mem, sizeof(v0));
        memcpy(&v1, t.mem + 3 * REG_SIZE + 6 * PG, sizeof(v1));
        vmTapCheck(&tap, w1 == 0 && w2 == 0 && w3 == 0 && v0 != 0 && v1 != 0,
                   "the function wrote 4 pages by DMA (%d %d %d): they landed in this process's memory (0x%llx, 0x%llx)",
                   w1, w2, w3, (unsigned long long)v0, (unsigned long long)v1);
        vmTapCheck(&tap, w4 != 0,
                   "a write into the unmapped gap after region 2 is refused by the IOMMU (%s)",
                   errName(w4));
    }
    e = logReport(&t, REG_IOVA(0), SPAN, bm);
    vmTapCheck(&tap, e == 0 && bitCount(bm, SPAN) == 4 &&
               bitSet(bm, REG_IOVA(0), REG_IOVA(0)) &&
               bitSet(bm, REG_IOVA(0), REG_IOVA(3) + 5 * PG) &&
               bitSet(bm, REG_IOVA(0), REG_IOVA(3) + 6 * PG) &&
               bitSet(bm, REG_IOVA(0), REG_IOVA(7) + REG_SIZE - PG),
               "a report of the whole span (%s) finds exactly the 4 pages written (%u)",
               errName(e), bitCount(bm, SPAN));
    e = logReport(&t, REG_IOVA(0), SPAN, bm);
    vmTapCheck(&tap, e == 0 && bitCount(bm, SPAN) == 0,
               "the next report (%s) finds none: reported pages are cleared (%u)",
               errName(e), bitCount(bm, SPAN));

    {
        uint64_t m0 = counter(bdf, "track_messages");
        uint64_t p0 = counter(bdf, "track_pages");
        uint64_t m1, p1;
        int w = 0;

        for (i = 0; i < 4; i++)
            w |= dmaDirty(bdf, REG_IOVA(i), REG_SIZE);

        e = logReport(&t, REG_IOVA(0), SPAN, bm);
        m1 = counter(bdf, "track_messages");
        p1 = counter(bdf, "track_pages");
        vmTapCheck(&tap, w == 0 && e == 0 && bitCount(bm, SPAN) == 1024 &&
                   m1 - m0 == 2 && p1 - p0 == 1024,
                   "1024 pages written (%d): the report (%s) finds %u in %llu messages of up to 512 (model: %llu pages sent)",
                   w, errName(e), bitCount(bm, SPAN),
                   (unsigned long long)(m1 - m0), (unsigned long long)(p1 - p0));
        m0 = m1;
        e = logReport(&t, REG_IOVA(0), SPAN, bm);
        m1 = counter(bdf, "track_messages");
        vmTapCheck(&tap, e == 0 && bitCount(bm, SPAN) == 0 && m1 - m0 == 1,
                   "an empty report (%s) is one message saying TRACKING (%llu)",
                   errName(e), (unsigned long long)(m1 - m0));
    }
    {
        bool each = true;
        int w = 0;

        for (i = 0; i < NREG; i++)
            w |= dmaDirty(bdf, REG_IOVA(i), (uint64_t)(i + 1) * PG);
        for (i = 0; i < NREG && !w; i++) {
            e = logReport(&t, REG_IOVA(i), REG_SIZE, bm);
            if (e || bitCount(bm, REG_SIZE) != (unsigned int)i + 1) {
                vmTapDiag("region %d: %s, %u pages, want %d", i, errName(e),
                          bitCount(bm, REG_SIZE), i + 1);
                each = false;
            }
        }
        vmTapCheck(&tap, !w && each,
                   "reports of the regions one by one find each region's own pages (1..8)");
    }

    checkFault(&tap, &t, bdf, "report", bm);
    checkFault(&tap, &t, bdf, "cqe", bm);
    checkFault(&tap, &t, bdf, "error", bm);
    {
        uint64_t q0 = counter(bdf, "track_query");

        checkFault(&tap, &t, bdf, "object-change", bm);
        vmTapCheck(&tap, counter(bdf, "track_query") > q0,
                   "the OBJECT_CHANGE was followed by QUERY_GENERAL_OBJECT (%llu)",
                   (unsigned long long)(counter(bdf, "track_query") - q0));
    }
    {
        g_autofree char *after = NULL;
        int e1, e2, e3, en, ew;

        dmaDirty(bdf, REG_IOVA(1), PG);
        e1 = vmSysfsSet(bdf, KNOBS "sriov", "disable");
        e2 = logReport(&t, REG_IOVA(0), SPAN, bm);
        after = vmSysfsGet(bdf, KNOBS "track");
        e3 = logStop(&t);
        vmTapCheck(&tap, e1 == 0 && e2 != 0 && e3 == 0 && after && !strncmp(after, "none", 4),
                   "the PF disabled the VF while tracking (%s): the report fails (%s), the object is gone ('%s'), STOP %s",
                   errName(e1), errName(e2), after ? g_strstrip(after) : "?", errName(e3));
        en = vmSysfsSet(bdf, KNOBS "sriov", "enable");
        e = logStartAll(&t);
        ew = dmaDirty(bdf, REG_IOVA(6), PG);
        e1 = logReport(&t, REG_IOVA(0), SPAN, bm);
        vmTapCheck(&tap, en == 0 && e == 0 && ew == 0 && e1 == 0 && bitCount(bm, SPAN) == 1,
                   "the PF enabled it again (%s): START %s, a page written is reported (%s, %u)",
                   errName(en), errName(e), errName(e1), bitCount(bm, SPAN));
        logStop(&t);
    }
    {
        struct vfio_device_feature_dma_logging_range far[2] = {
            { .iova = 0x1000000, .length = PG },
            { .iova = 1ull << 44, .length = PG },
        };

        vmSysfsSet(bdf, KNOBS "track_max_ranges", "1");
        e = logStart(&t, far, 2, PG);
        vmTapCheck(&tap, e == -EOPNOTSUPP,
                   "2 ranges 2^44 apart, merged into one of 2^44 bytes beyond the firmware's 2^42: START fails with %s",
                   errName(e));
        if (!e)
            logStop(&t);
        vmSysfsSet(bdf, KNOBS "track_max_ranges", "2");
    }
    {
        uint64_t c0 = counter(bdf, "track_create");
        uint64_t d0 = counter(bdf, "track_destroy");
        int es, ee;

        es = logStartAll(&t);
        ee = logStartAll(&t);
        e = logStop(&t);
        vmTapCheck(&tap, es == 0 && ee == -EBUSY && e == 0 &&
                   counter(bdf, "track_create") == c0 + 1 &&
                   counter(bdf, "track_destroy") == d0 + 1,
                   "a second START while tracking is refused (%s); STOP destroys the one object (creates %llu, destroys %llu)",
                   errName(ee), (unsigned long long)(counter(bdf, "track_create") - c0),
                   (unsigned long long)(counter(bdf, "track_destroy") - d0));
    }
    {
        g_autofree char *gone = NULL;

        logStartAll(&t);
        close(t.dev);
        t.dev = -1;
        gone = vmSysfsGet(bdf, KNOBS "track");
        vmTapCheck(&tap, gone && !strncmp(gone, "none", 4),
                   "closing the device while tracking ends it: the object is gone ('%s')",
                   gone ? g_strstrip(gone) : "?");
    }

done:
    vmTapFillTo(&tap, expect ? PLAN_YES : PLAN_NO, "the device could not be opened");
    if (t.dev >= 0)
        close(t.dev);
    if (t.group >= 0)
        close(t.group);
    if (t.container >= 0)
        close(t.container);
    return vmTapDone(&tap);
}
