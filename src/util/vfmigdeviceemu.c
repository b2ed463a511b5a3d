/*
 * vfmigdeviceemu.c: an emulated device that speaks the VFIO migration
 * protocol v2 with PRE_COPY
 *
 * The state stream.  A sequence of records, each an 8-byte header
 * (le32 type, le32 payload length) and a payload whose length is fixed by
 * the type (and, for pages, by the page index):
 *
 *   HEADER (1), 24 bytes: "VFMIGEMU", le32 format version (1),
 *               le32 page size, le64 state size
 *   PAGE   (2), 8 + page length: le64 page index, the page's bytes
 *   END    (3), 64 bytes: SHA-256 of the complete state when the stream
 *               ended (in STOP_COPY), SHA-256 of every byte of the stream
 *               before the END record
 *
 * A stream is one HEADER, PAGE records in any order (a page may repeat,
 * the last one wins), one END, nothing after.  The device name is not part
 * of it.  The loader checks each record header as soon as its 8 bytes
 * have arrived and each payload as soon as it is complete, whatever the
 * write() splits; leaving RESUMING requires the END record, and the state
 * it digests must be the state the pages built.  The stream digest makes
 * any corrupted byte fatal, even in a page that a later record replaces.
 *
 * Saving follows the uAPI's PRE_COPY rules.  Entering PRE_COPY queues the
 * initial image (HEADER and every page, read from the live state as the
 * records are produced) and starts dirty tracking: a page changed after
 * its record was produced is dirty and counts in dirty_bytes.  Once the
 * initial image is read, reads produce records for dirty pages, lowest
 * index after the last one sent first; with nothing left, read() returns
 * 0 with VFMIG_DATA_AGAIN (the uAPI's ENOMSG).  STOP_COPY streams what is
 * left of the initial image, every dirty page, then END, then 0 with
 * VFMIG_DATA_END for ever.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "vfmigdeviceemu.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"

#define EMU_MAGIC "VFMIGEMU"
#define EMU_MAGIC_LEN 8
#define EMU_VERSION 1

#define EMU_REC_HEADER 1
#define EMU_REC_PAGE 2
#define EMU_REC_END 3

#define EMU_REC_HDR_LEN 8
#define EMU_HEADER_PAYLOAD 24
#define EMU_PAGE_PREFIX 8
#define EMU_DIGEST_LEN 32
#define EMU_END_PAYLOAD (2 * EMU_DIGEST_LEN)

#define EMU_HEADER_REC_LEN (EMU_REC_HDR_LEN + EMU_HEADER_PAYLOAD)
#define EMU_END_REC_LEN (EMU_REC_HDR_LEN + EMU_END_PAYLOAD)

#define EMU_MAX_STATE_SIZE (1ULL << 30)
#define EMU_MAX_PAGE_SIZE (64ULL << 20)
#define EMU_MAX_DIRTY_RATE (1ULL << 40)
/* Longest switchover delay: 10 s. */
#define EMU_MAX_DELAY_US (10ULL * 1000 * 1000)

/* Dirtying after a long pause is bounded: time beyond this many seconds
 * and pages beyond this many times the page count are not simulated. */
#define EMU_MAX_DIRTY_SECONDS (1ULL << 20)
#define EMU_MAX_DIRTY_ROUNDS 8

/* waitData re-evaluates dirtying this often: on the real clock, between
 * two sleeps; in the device's own time, as the wait moves it. */
#define EMU_WAIT_STEP_US (10 * 1000)

typedef enum {
    EMU_KIND_NONE,
    EMU_KIND_INITIAL,
    EMU_KIND_DIRTY,
    EMU_KIND_END,
} vfmigEmuRecKind;

/* The saving data session (PRE_COPY, PRE_COPY_P2P, STOP_COPY). */
typedef struct _vfmigEmuSave vfmigEmuSave;
struct _vfmigEmuSave {
    uint64_t offset;        /* stream bytes read so far */
    bool headerDone;        /* the HEADER record has been produced */
    uint64_t nextPage;      /* next page of the initial image */
    uint64_t initialLeft;   /* unread bytes of the initial image */
    guint8 *dirty;          /* per page: changed since its last record */
    uint64_t ndirty;
    uint64_t dirtyCursor;   /* where the search for a dirty page starts */
    uint64_t dirtyLeft;     /* unread bytes of dirty pages' records */
    guint8 *rec;            /* the record being read */
    size_t recLen;
    size_t recPos;
    vfmigEmuRecKind recKind;
    bool endDone;           /* the END record has been produced */
    bool drained;           /* stop-copy data was read: drainDelayUs slept */
    bool truncated;         /* a TRUNCATE fault ended the stream */
    gnutls_hash_hd_t hash;  /* every record before END */
};

/* The resuming data session. */
typedef struct _vfmigEmuLoad vfmigEmuLoad;
struct _vfmigEmuLoad {
    guint8 *staging;
    uint64_t offset;        /* stream bytes accepted so far */
    guint8 *rec;            /* the record being assembled */
    size_t recFill;
    size_t recNeed;         /* EMU_REC_HDR_LEN until its header is in */
    uint64_t recStart;      /* stream offset of the record */
    bool haveHeader;
    bool haveEnd;
    bool failed;            /* a record was refused: so is the stream */
    uint64_t failedAt;
    guint8 stateDigest[EMU_DIGEST_LEN];
    gnutls_hash_hd_t hash;
};

typedef struct _vfmigEmuDevice vfmigEmuDevice;
struct _vfmigEmuDevice {
    GMutex lock;

    uint64_t flags;
    uint64_t stateSize;
    uint64_t pageSize;
    uint64_t npages;
    uint64_t dirtyRate;
    size_t maxIO;
    uint64_t stopDelayUs;
    uint64_t drainDelayUs;
    uint64_t commitDelayUs;
    uint64_t resumeDelayUs;
    vfmigEmuClockFunc clock;
    void *clockOpaque;
    uint64_t ioRate;        /* 0: no time of its own */

    uint64_t rng;
    uint32_t state;
    guint8 *data;

    gint64 lastTime;
    uint64_t usecCarry;     /* byte-microseconds short of a whole byte */
    uint64_t byteCarry;     /* dirtied bytes short of a whole page */
    gint64 ownTime;         /* with ioRate: the device's own time, us */
    uint64_t ioCarry;       /* byte-microseconds moved short of a whole
                             * microsecond of it */

    vfmigEmuSave *save;
    vfmigEmuLoad *load;

    GArray *faults;         /* vfmigEmuFault */
    GArray *arcs;           /* vfmigEmuArc */
};


static const vfmigDeviceOps vfmigEmuOps;


void
vfmigEmuConfigInit(vfmigEmuConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
                 VFIO_MIGRATION_PRE_COPY;
    cfg->stateSize = 1024 * 1024;
    cfg->pageSize = 4096;
    cfg->dirtyRate = 0;
    cfg->maxIO = 0;
    cfg->seed = 1;
    cfg->clock = NULL;
    cfg->clockOpaque = NULL;
    cfg->ioRate = 0;
}


/* Little-endian fields. */
static void
vfmigEmuPut32(guint8 *p, uint32_t v)
{
    size_t i;

    for (i = 0; i < 4; i++)
        p[i] = (guint8) (v >> (8 * i));
}


static void
vfmigEmuPut64(guint8 *p, uint64_t v)
{
    size_t i;

    for (i = 0; i < 8; i++)
        p[i] = (guint8) (v >> (8 * i));
}


static uint32_t
vfmigEmuGet32(const guint8 *p)
{
    uint32_t v = 0;
    size_t i;

    for (i = 0; i < 4; i++)
        v |= (uint32_t) p[i] << (8 * i);
    return v;
}


static uint64_t
vfmigEmuGet64(const guint8 *p)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < 8; i++)
        v |= (uint64_t) p[i] << (8 * i);
    return v;
}


/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t
vfmigEmuRandom(vfmigEmuDevice *emu)
{
    uint64_t z = (emu->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}


static void
vfmigEmuFillRandom(vfmigEmuDevice *emu, guint8 *buf, size_t len)
{
    while (len > 0) {
        uint64_t r = vfmigEmuRandom(emu);
        size_t n = MIN(len, 8);
        size_t i;

        for (i = 0; i < n; i++)
            buf[i] = (guint8) (r >> (8 * i));
        buf += n;
        len -= n;
    }
}


static gint64
vfmigEmuNow(vfmigEmuDevice *emu)
{
    if (emu->ioRate)
        return emu->ownTime;
    if (emu->clock)
        return emu->clock(emu->clockOpaque);
    return g_get_monotonic_time();
}


/* A switchover delay: slept, or, in the device's own time, spent. */
static void
vfmigEmuDelay(vfmigEmuDevice *emu, uint64_t us)
{
    if (emu->ioRate)
        emu->ownTime += us;
    else
        g_usleep(us);
}


/* @bytes moved by read() or write(): in the device's own time they take
 * bytes / ioRate seconds (on any other clock, what the machine took). */
static void
vfmigEmuMoved(vfmigEmuDevice *emu, uint64_t bytes)
{
    uint64_t acc;

    if (!emu->ioRate)
        return;
    acc = emu->ioCarry + bytes % emu->ioRate * G_USEC_PER_SEC;
    emu->ownTime += bytes / emu->ioRate * G_USEC_PER_SEC + acc / emu->ioRate;
    emu->ioCarry = acc % emu->ioRate;
}


static bool
vfmigEmuStateRuns(uint32_t state)
{
    return state == VFIO_DEVICE_STATE_RUNNING ||
           state == VFIO_DEVICE_STATE_RUNNING_P2P ||
           state == VFIO_DEVICE_STATE_PRE_COPY ||
           state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}


static uint64_t
vfmigEmuPageLen(vfmigEmuDevice *emu, uint64_t page)
{
    return MIN(emu->pageSize, emu->stateSize - page * emu->pageSize);
}


static uint64_t
vfmigEmuPageRecLen(vfmigEmuDevice *emu, uint64_t page)
{
    return EMU_REC_HDR_LEN + EMU_PAGE_PREFIX + vfmigEmuPageLen(emu, page);
}


/* HEADER and every page. */
static uint64_t
vfmigEmuInitialLen(vfmigEmuDevice *emu)
{
    return EMU_HEADER_REC_LEN +
           emu->npages * (EMU_REC_HDR_LEN + EMU_PAGE_PREFIX) +
           emu->stateSize;
}


static size_t
vfmigEmuMaxRecLen(vfmigEmuDevice *emu)
{
    size_t payload = MAX(EMU_HEADER_PAYLOAD, EMU_END_PAYLOAD);

    payload = MAX(payload, EMU_PAGE_PREFIX + emu->pageSize);
    return EMU_REC_HDR_LEN + payload;
}


static int
vfmigEmuStateDigest(vfmigDevice *dev,
                    const guint8 *data,
                    uint64_t len,
                    guint8 *digest)
{
    int rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest);

    if (rc < 0) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("cannot compute the SHA-256 of the state of device '%1$s': %2$s"),
                         dev->name, gnutls_strerror(rc));
        return -1;
    }
    return 0;
}


/* A page changed: a pre-copy that already sent it must send it again. */
static void
vfmigEmuMarkDirty(vfmigEmuDevice *emu, uint64_t page)
{
    vfmigEmuSave *save = emu->save;

    if (!save || page >= save->nextPage || save->dirty[page])
        return;
    save->dirty[page] = 1;
    save->ndirty++;
    save->dirtyLeft += vfmigEmuPageRecLen(emu, page);
}


static void
vfmigEmuDirtyPage(vfmigEmuDevice *emu, uint64_t page)
{
    vfmigEmuFillRandom(emu, emu->data + page * emu->pageSize,
                       vfmigEmuPageLen(emu, page));
    vfmigEmuMarkDirty(emu, page);
}


/*
 * Brings the state up to now: rate * elapsed bytes were dirtied while the
 * device ran, a pseudo-random page for every pageSize of them, with the
 * fractions carried to the next evaluation.
 */
static void
vfmigEmuAdvance(vfmigEmuDevice *emu)
{
    gint64 now = vfmigEmuNow(emu);
    uint64_t elapsed;
    uint64_t secs;
    uint64_t bytes;
    uint64_t pages;
    uint64_t i;

    if (now <= emu->lastTime) {
        emu->lastTime = now;
        return;
    }
    elapsed = now - emu->lastTime;
    emu->lastTime = now;

    if (!vfmigEmuStateRuns(emu->state) || emu->dirtyRate == 0)
        return;

    secs = MIN(elapsed / G_USEC_PER_SEC, EMU_MAX_DIRTY_SECONDS);
    bytes = emu->dirtyRate * secs;
    emu->usecCarry += emu->dirtyRate * (elapsed % G_USEC_PER_SEC);
    bytes += emu->usecCarry / G_USEC_PER_SEC;
    emu->usecCarry %= G_USEC_PER_SEC;

    emu->byteCarry += bytes;
    pages = emu->byteCarry / emu->pageSize;
    emu->byteCarry %= emu->pageSize;

    pages = MIN(pages, emu->npages * EMU_MAX_DIRTY_ROUNDS);
    for (i = 0; i < pages; i++)
        vfmigEmuDirtyPage(emu, vfmigEmuRandom(emu) % emu->npages);
}


/* Faults */

/* The lowest offset >= @from at which a fault of @type waits. */
static uint64_t
vfmigEmuFaultOffset(vfmigEmuDevice *emu,
                    vfmigEmuFaultType type,
                    uint64_t from)
{
    uint64_t at = G_MAXUINT64;
    size_t i;

    for (i = 0; i < emu->faults->len; i++) {
        const vfmigEmuFault *f = &g_array_index(emu->faults, vfmigEmuFault, i);

        if (f->type == type && f->offset >= from)
            at = MIN(at, f->offset);
    }
    return at;
}


/* A fault of @type at @offset fired: one-shot ones are gone. */
static void
vfmigEmuFaultFired(vfmigEmuDevice *emu,
                   vfmigEmuFaultType type,
                   uint64_t offset)
{
    size_t i;

    for (i = 0; i < emu->faults->len; i++) {
        const vfmigEmuFault *f = &g_array_index(emu->faults, vfmigEmuFault, i);

        if (f->type == type && f->offset == offset && !f->sticky) {
            g_array_remove_index(emu->faults, i);
            return;
        }
    }
}


/* Takes the first fault on the arc @from -> @to, if any. */
static bool
vfmigEmuTakeArcFault(vfmigEmuDevice *emu,
                     uint32_t from,
                     uint32_t to,
                     vfmigEmuFaultType *type)
{
    size_t i;

    for (i = 0; i < emu->faults->len; i++) {
        const vfmigEmuFault *f = &g_array_index(emu->faults, vfmigEmuFault, i);

        if ((f->type == VFMIG_EMU_FAULT_ARC_FAIL ||
             f->type == VFMIG_EMU_FAULT_ARC_ERROR) &&
            f->from == from && f->to == to) {
            *type = f->type;
            if (!f->sticky)
                g_array_remove_index(emu->faults, i);
            return true;
        }
    }
    return false;
}


static bool
vfmigEmuTakeFault(vfmigEmuDevice *emu, vfmigEmuFaultType type)
{
    size_t i;

    for (i = 0; i < emu->faults->len; i++) {
        const vfmigEmuFault *f = &g_array_index(emu->faults, vfmigEmuFault, i);

        if (f->type == type) {
            if (!f->sticky)
                g_array_remove_index(emu->faults, i);
            return true;
        }
    }
    return false;
}


/* Flips the bytes of @buf (stream offsets @offset...) that CORRUPT
 * faults aim at. */
static void
vfmigEmuCorrupt(vfmigEmuDevice *emu,
                guint8 *buf,
                uint64_t offset,
                size_t len)
{
    size_t i = 0;

    while (i < emu->faults->len) {
        const vfmigEmuFault *f = &g_array_index(emu->faults, vfmigEmuFault, i);

        if (f->type == VFMIG_EMU_FAULT_CORRUPT &&
            f->offset >= offset && f->offset - offset < len) {
            buf[f->offset - offset] ^= f->mask ? f->mask : 0xff;
            if (!f->sticky) {
                g_array_remove_index(emu->faults, i);
                continue;
            }
        }
        i++;
    }
}


/* Sessions */

static void
vfmigEmuSaveFree(vfmigEmuSave *save)
{
    if (!save)
        return;
    g_free(save->dirty);
    g_free(save->rec);
    if (save->hash)
        gnutls_hash_deinit(save->hash, NULL);
    g_free(save);
}


/* gnutls rather than GChecksum: it uses the CPU's SHA extensions, and
 * this hash sees every byte of every stream (tests/bench/bench-engine). */
static int
vfmigEmuHashNew(vfmigDevice *dev, gnutls_hash_hd_t *hash)
{
    int rc = gnutls_hash_init(hash, GNUTLS_DIG_SHA256);

    if (rc < 0) {
        *hash = NULL;
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("cannot start a SHA-256 for the state stream of device '%1$s': %2$s"),
                         dev->name, gnutls_strerror(rc));
        return -1;
    }
    return 0;
}


static vfmigEmuSave *
vfmigEmuSaveNew(vfmigDevice *dev, vfmigEmuDevice *emu)
{
    vfmigEmuSave *save = g_new0(vfmigEmuSave, 1);

    save->initialLeft = vfmigEmuInitialLen(emu);
    save->dirty = g_new0(guint8, emu->npages);
    save->rec = g_malloc(vfmigEmuMaxRecLen(emu));
    save->recKind = EMU_KIND_NONE;
    if (vfmigEmuHashNew(dev, &save->hash) < 0) {
        vfmigEmuSaveFree(save);
        return NULL;
    }
    return save;
}


static void
vfmigEmuLoadFree(vfmigEmuLoad *load)
{
    if (!load)
        return;
    g_free(load->staging);
    g_free(load->rec);
    if (load->hash)
        gnutls_hash_deinit(load->hash, NULL);
    g_free(load);
}


static vfmigEmuLoad *
vfmigEmuLoadNew(vfmigDevice *dev, vfmigEmuDevice *emu)
{
    vfmigEmuLoad *load = g_new0(vfmigEmuLoad, 1);

    load->staging = g_malloc0(emu->stateSize);
    load->rec = g_malloc(vfmigEmuMaxRecLen(emu));
    load->recNeed = EMU_REC_HDR_LEN;
    if (vfmigEmuHashNew(dev, &load->hash) < 0) {
        vfmigEmuLoadFree(load);
        return NULL;
    }
    return load;
}


static void
vfmigEmuDropSessions(vfmigEmuDevice *emu)
{
    g_clear_pointer(&emu->save, vfmigEmuSaveFree);
    g_clear_pointer(&emu->load, vfmigEmuLoadFree);
}


/* Saving */

static void
vfmigEmuSaveRecordHeader(vfmigEmuSave *save, uint32_t type, size_t payload)
{
    vfmigEmuPut32(save->rec, type);
    vfmigEmuPut32(save->rec + 4, payload);
    save->recLen = EMU_REC_HDR_LEN + payload;
    save->recPos = 0;
}


static void
vfmigEmuSavePage(vfmigEmuDevice *emu, uint64_t page)
{
    vfmigEmuSave *save = emu->save;
    uint64_t len = vfmigEmuPageLen(emu, page);

    vfmigEmuSaveRecordHeader(save, EMU_REC_PAGE, EMU_PAGE_PREFIX + len);
    vfmigEmuPut64(save->rec + EMU_REC_HDR_LEN, page);
    memcpy(save->rec + EMU_REC_HDR_LEN + EMU_PAGE_PREFIX,
           emu->data + page * emu->pageSize, len);
}


/*
 * Produces the next record of the saving stream into save->rec.
 * Returns 1, 0 when there is nothing to send now, -1 on error.
 */
static int
vfmigEmuSaveNextRecord(vfmigDevice *dev, vfmigEmuDevice *emu)
{
    vfmigEmuSave *save = emu->save;
    guint8 *p = save->rec + EMU_REC_HDR_LEN;

    if (!save->headerDone) {
        vfmigEmuSaveRecordHeader(save, EMU_REC_HEADER, EMU_HEADER_PAYLOAD);
        memcpy(p, EMU_MAGIC, EMU_MAGIC_LEN);
        vfmigEmuPut32(p + 8, EMU_VERSION);
        vfmigEmuPut32(p + 12, emu->pageSize);
        vfmigEmuPut64(p + 16, emu->stateSize);
        save->headerDone = true;
        save->recKind = EMU_KIND_INITIAL;
    } else if (save->nextPage < emu->npages) {
        vfmigEmuSavePage(emu, save->nextPage++);
        save->recKind = EMU_KIND_INITIAL;
    } else if (save->ndirty > 0) {
        uint64_t page = save->dirtyCursor;

        while (!save->dirty[page])
            page = (page + 1) % emu->npages;
        save->dirty[page] = 0;
        save->ndirty--;
        save->dirtyCursor = (page + 1) % emu->npages;
        /* its bytes stay in dirtyLeft until read */
        vfmigEmuSavePage(emu, page);
        save->recKind = EMU_KIND_DIRTY;
    } else if (emu->state == VFIO_DEVICE_STATE_STOP_COPY && !save->endDone) {
        if (vfmigEmuStateDigest(dev, emu->data, emu->stateSize, p) < 0)
            return -1;
        gnutls_hash_output(save->hash, p + EMU_DIGEST_LEN);
        vfmigEmuSaveRecordHeader(save, EMU_REC_END, EMU_END_PAYLOAD);
        save->endDone = true;
        save->recKind = EMU_KIND_END;
        return 1;
    } else {
        return 0;
    }

    gnutls_hash(save->hash, save->rec, save->recLen);
    return 1;
}


/*
 * What is left to read, split as VFIO_MIG_GET_PRECOPY_INFO and
 * VFIO_DEVICE_FEATURE_MIG_DATA_SIZE see it, cut short by truncation.
 */
static void
vfmigEmuSavePending(vfmigEmuDevice *emu,
                    uint64_t *initial,
                    uint64_t *dirty,
                    uint64_t *end)
{
    vfmigEmuSave *save = emu->save;
    uint64_t limit;

    *initial = *dirty = *end = 0;
    if (save->truncated)
        return;

    *initial = save->initialLeft;
    *dirty = save->dirtyLeft;
    if (!save->endDone)
        *end = EMU_END_REC_LEN;
    else if (save->recKind == EMU_KIND_END)
        *end = save->recLen - save->recPos;

    limit = vfmigEmuFaultOffset(emu, VFMIG_EMU_FAULT_TRUNCATE, save->offset);
    if (limit == G_MAXUINT64)
        return;
    limit -= save->offset;
    *initial = MIN(*initial, limit);
    limit -= *initial;
    *dirty = MIN(*dirty, limit);
    limit -= *dirty;
    *end = MIN(*end, limit);
}


/* The device object */

static vfmigEmuDevice *
vfmigEmuLock(vfmigDevice *dev)
{
    vfmigEmuDevice *emu = dev->priv;

    g_mutex_lock(&emu->lock);
    vfmigEmuAdvance(emu);
    return emu;
}


static void
vfmigEmuUnlock(vfmigEmuDevice *emu)
{
    g_mutex_unlock(&emu->lock);
}


static int
vfmigEmuGetFlags(vfmigDevice *dev, uint64_t *flags)
{
    vfmigEmuDevice *emu = dev->priv;

    if (emu->flags == 0) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("emulated device '%1$s' does not support migration"),
                         dev->name);
        return -1;
    }
    *flags = emu->flags;
    return 0;
}


static int
vfmigEmuGetState(vfmigDevice *dev, uint32_t *state)
{
    vfmigEmuDevice *emu = vfmigEmuLock(dev);

    *state = emu->state;
    vfmigEmuUnlock(emu);
    return 0;
}


/* RESUMING -> STOP: the loaded stream becomes the device state, or not. */
static int
vfmigEmuLoadFinish(vfmigDevice *dev, vfmigEmuDevice *emu)
{
    vfmigEmuLoad *load = emu->load;
    guint8 digest[EMU_DIGEST_LEN];

    if (vfmigEmuTakeFault(emu, VFMIG_EMU_FAULT_REFUSE_LOAD)) {
        vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                         _("device '%1$s' refused to load the migrated state (injected fault)"),
                         dev->name);
        return -1;
    }
    if (load->failed) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("device '%1$s' cannot load a state stream it rejected at byte %2$llu"),
                         dev->name, (unsigned long long) load->failedAt);
        return -1;
    }
    if (!load->haveHeader) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("device '%1$s' received no complete state stream header (%2$llu bytes)"),
                         dev->name, (unsigned long long) load->offset);
        return -1;
    }
    if (!load->haveEnd) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state stream for device '%1$s' is incomplete: it ends at byte %2$llu without an end record"),
                         dev->name, (unsigned long long) load->offset);
        return -1;
    }
    if (emu->commitDelayUs)
        vfmigEmuDelay(emu, emu->commitDelayUs);
    if (vfmigEmuStateDigest(dev, load->staging, emu->stateSize, digest) < 0)
        return -1;
    if (memcmp(digest, load->stateDigest, EMU_DIGEST_LEN) != 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state loaded into device '%1$s' does not match the SHA-256 in the stream's end record"),
                         dev->name);
        return -1;
    }

    g_free(emu->data);
    emu->data = g_steal_pointer(&load->staging);
    return 0;
}


/* Executes the single arc from the current state to @to, as a driver. */
static int
vfmigEmuExecArc(vfmigDevice *dev, vfmigEmuDevice *emu, uint32_t to)
{
    uint32_t from = emu->state;
    vfmigEmuFaultType type;
    vfmigEmuArc arc = { from, to };

    if (vfmigEmuTakeArcFault(emu, from, to, &type)) {
        if (type == VFMIG_EMU_FAULT_ARC_ERROR) {
            vfmigEmuDropSessions(emu);
            emu->state = VFIO_DEVICE_STATE_ERROR;
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             _("device '%1$s' failed the %2$s -> %3$s transition and entered the ERROR state (injected fault)"),
                             dev->name, vfmig_fsm_state_name(from),
                             vfmig_fsm_state_name(to));
        } else {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             _("device '%1$s' failed the %2$s -> %3$s transition (injected fault)"),
                             dev->name, vfmig_fsm_state_name(from),
                             vfmig_fsm_state_name(to));
        }
        return -1;
    }

    if (vfmig_fsm_arc_closes_session(from, to)) {
        if (from == VFIO_DEVICE_STATE_RESUMING &&
            vfmigEmuLoadFinish(dev, emu) < 0) {
            vfmigEmuDropSessions(emu);
            emu->state = VFIO_DEVICE_STATE_ERROR;
            return -1;
        }
        vfmigEmuDropSessions(emu);
    }

    if (vfmig_fsm_arc_opens_session(from, to)) {
        vfmigEmuDropSessions(emu);
        if (to == VFIO_DEVICE_STATE_RESUMING ?
            !(emu->load = vfmigEmuLoadNew(dev, emu)) :
            !(emu->save = vfmigEmuSaveNew(dev, emu)))
            return -1;
    }

    if (emu->stopDelayUs &&
        vfmigEmuStateRuns(from) && !vfmigEmuStateRuns(to))
        vfmigEmuDelay(emu, emu->stopDelayUs);
    else if (emu->resumeDelayUs &&
             !vfmigEmuStateRuns(from) && vfmigEmuStateRuns(to))
        vfmigEmuDelay(emu, emu->resumeDelayUs);

    emu->state = to;
    g_array_append_val(emu->arcs, arc);
    return 0;
}


static int
vfmigEmuSetState(vfmigDevice *dev, uint32_t state)
{
    vfmigEmuDevice *emu = vfmigEmuLock(dev);
    int ret = -1;

    while (emu->state != state) {
        uint32_t next;

        if (vfmig_fsm_next_state(emu->flags, emu->state, state,
                                 &next) != VFMIG_FSM_OK) {
            if (vfmigFSMCheckTransition(dev->name, emu->flags,
                                        emu->state, state) == 0)
                vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                                 _("device '%1$s': no way from %2$s to %3$s"),
                                 dev->name, vfmig_fsm_state_name(emu->state),
                                 vfmig_fsm_state_name(state));
            goto cleanup;
        }
        if (vfmigEmuExecArc(dev, emu, next) < 0)
            goto cleanup;
    }
    ret = 0;

 cleanup:
    vfmigEmuUnlock(emu);
    return ret;
}


static int
vfmigEmuCheckSaving(vfmigDevice *dev, vfmigEmuDevice *emu)
{
    if (!emu->save || !vfmig_fsm_state_is_saving(emu->state)) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s' has no state to read in the %2$s state"),
                         dev->name, vfmig_fsm_state_name(emu->state));
        return -1;
    }
    return 0;
}


static ssize_t
vfmigEmuReadLocked(vfmigDevice *dev,
                   vfmigEmuDevice *emu,
                   guint8 *out,
                   size_t len,
                   vfmigDataStatus *status)
{
    vfmigEmuSave *save;
    size_t done = 0;

    if (vfmigEmuCheckSaving(dev, emu) < 0)
        return -1;
    save = emu->save;
    if (emu->state == VFIO_DEVICE_STATE_STOP_COPY && !save->drained) {
        save->drained = true;
        if (emu->drainDelayUs)
            vfmigEmuDelay(emu, emu->drainDelayUs);
    }

    len = MIN(len, (size_t) G_MAXSSIZE);
    if (emu->maxIO)
        len = MIN(len, emu->maxIO);

    while (done < len && !save->truncated) {
        uint64_t limit = len - done;
        uint64_t at;
        size_t chunk;
        int rc;

        at = vfmigEmuFaultOffset(emu, VFMIG_EMU_FAULT_TRUNCATE, save->offset);
        if (at == save->offset) {
            save->truncated = true;
            vfmigEmuFaultFired(emu, VFMIG_EMU_FAULT_TRUNCATE, at);
            break;
        }
        if (at != G_MAXUINT64)
            limit = MIN(limit, at - save->offset);

        at = vfmigEmuFaultOffset(emu, VFMIG_EMU_FAULT_READ_EIO, save->offset);
        if (at == save->offset) {
            if (done > 0)
                break;
            vfmigEmuFaultFired(emu, VFMIG_EMU_FAULT_READ_EIO, at);
            vfmigReportSystemError(EIO,
                                   _("cannot read the state of device '%1$s' at byte %2$llu"),
                                   dev->name, (unsigned long long) at);
            return -1;
        }
        if (at != G_MAXUINT64)
            limit = MIN(limit, at - save->offset);

        if (save->recPos == save->recLen) {
            if ((rc = vfmigEmuSaveNextRecord(dev, emu)) < 0)
                return -1;
            if (rc == 0)
                break;
        }

        chunk = MIN(limit, save->recLen - save->recPos);
        memcpy(out + done, save->rec + save->recPos, chunk);
        vfmigEmuCorrupt(emu, out + done, save->offset, chunk);

        if (save->recKind == EMU_KIND_INITIAL)
            save->initialLeft -= chunk;
        else if (save->recKind == EMU_KIND_DIRTY)
            save->dirtyLeft -= chunk;
        save->recPos += chunk;
        save->offset += chunk;
        done += chunk;
    }

    if (done > 0)
        *status = VFMIG_DATA_OK;
    else if (emu->state == VFIO_DEVICE_STATE_STOP_COPY)
        *status = VFMIG_DATA_END;
    else
        *status = VFMIG_DATA_AGAIN;
    return done;
}


static ssize_t
vfmigEmuRead(vfmigDevice *dev,
             void *buf,
             size_t len,
             vfmigDataStatus *status)
{
    vfmigEmuDevice *emu = vfmigEmuLock(dev);
    vfmigDataStatus st = VFMIG_DATA_OK;
    ssize_t ret;

    ret = vfmigEmuReadLocked(dev, emu, buf, len, &st);
    if (ret > 0)
        vfmigEmuMoved(emu, ret);
    vfmigEmuUnlock(emu);
    if (ret >= 0 && status)
        *status = st;
    return ret;
}


/* Loading */

static int
vfmigEmuLoadReject(vfmigEmuLoad *load, uint64_t at)
{
    load->failed = true;
    load->failedAt = at;
    return -1;
}


/* The 8-byte header of a record has arrived. */
static int
vfmigEmuLoadRecordHeader(vfmigDevice *dev, vfmigEmuDevice *emu)
{
    vfmigEmuLoad *load = emu->load;
    uint32_t type = vfmigEmuGet32(load->rec);
    uint32_t len = vfmigEmuGet32(load->rec + 4);
    uint64_t at = load->recStart;
    uint64_t want = 0;

    if (!load->haveHeader && type != EMU_REC_HEADER) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state stream for device '%1$s' does not start with a header record (type %2$u at byte %3$llu)"),
                         dev->name, type, (unsigned long long) at);
        return vfmigEmuLoadReject(load, at);
    }

    switch (type) {
    case EMU_REC_HEADER:
        if (load->haveHeader) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' has a second header record at byte %2$llu"),
                             dev->name, (unsigned long long) at);
            return vfmigEmuLoadReject(load, at);
        }
        want = EMU_HEADER_PAYLOAD;
        break;
    case EMU_REC_PAGE:
        if (len <= EMU_PAGE_PREFIX || len > EMU_PAGE_PREFIX + emu->pageSize) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' has a page record of %2$u bytes at byte %3$llu, more than a page of %4$llu bytes or empty"),
                             dev->name, len, (unsigned long long) at + 4,
                             (unsigned long long) emu->pageSize);
            return vfmigEmuLoadReject(load, at + 4);
        }
        want = len;
        break;
    case EMU_REC_END:
        want = EMU_END_PAYLOAD;
        break;
    default:
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state stream for device '%1$s' has a record of unknown type %2$u at byte %3$llu"),
                         dev->name, type, (unsigned long long) at);
        return vfmigEmuLoadReject(load, at);
    }

    if (len != want) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state stream for device '%1$s' has a record of type %2$u with length %3$u at byte %4$llu, expected %5$llu"),
                         dev->name, type, len, (unsigned long long) at + 4,
                         (unsigned long long) want);
        return vfmigEmuLoadReject(load, at + 4);
    }

    load->recNeed = EMU_REC_HDR_LEN + len;
    return 0;
}


/* A whole record has arrived. */
static int
vfmigEmuLoadRecord(vfmigDevice *dev, vfmigEmuDevice *emu)
{
    vfmigEmuLoad *load = emu->load;
    uint32_t type = vfmigEmuGet32(load->rec);
    const guint8 *p = load->rec + EMU_REC_HDR_LEN;
    uint64_t at = load->recStart + EMU_REC_HDR_LEN;

    switch (type) {
    case EMU_REC_HEADER: {
        uint32_t version = vfmigEmuGet32(p + 8);
        uint32_t pageSize = vfmigEmuGet32(p + 12);
        uint64_t stateSize = vfmigEmuGet64(p + 16);

        if (memcmp(p, EMU_MAGIC, EMU_MAGIC_LEN) != 0) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' has a bad magic at byte %2$llu"),
                             dev->name, (unsigned long long) at);
            return vfmigEmuLoadReject(load, at);
        }
        if (version != EMU_VERSION) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' has format version %2$u at byte %3$llu, only %4$u is known"),
                             dev->name, version, (unsigned long long) at + 8,
                             EMU_VERSION);
            return vfmigEmuLoadReject(load, at + 8);
        }
        if (pageSize != emu->pageSize) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' has page size %2$u at byte %3$llu, the device uses %4$llu"),
                             dev->name, pageSize, (unsigned long long) at + 12,
                             (unsigned long long) emu->pageSize);
            return vfmigEmuLoadReject(load, at + 12);
        }
        if (stateSize != emu->stateSize) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' has state size %2$llu at byte %3$llu, the device has %4$llu"),
                             dev->name, (unsigned long long) stateSize,
                             (unsigned long long) at + 16,
                             (unsigned long long) emu->stateSize);
            return vfmigEmuLoadReject(load, at + 16);
        }
        load->haveHeader = true;
        break;
    }

    case EMU_REC_PAGE: {
        uint64_t page = vfmigEmuGet64(p);
        uint64_t len = load->recNeed - EMU_REC_HDR_LEN - EMU_PAGE_PREFIX;

        if (page >= emu->npages) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' has page index %2$llu at byte %3$llu, the device has %4$llu pages"),
                             dev->name, (unsigned long long) page,
                             (unsigned long long) at,
                             (unsigned long long) emu->npages);
            return vfmigEmuLoadReject(load, at);
        }
        if (len != vfmigEmuPageLen(emu, page)) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' has %2$llu bytes for page %3$llu at byte %4$llu, the page has %5$llu"),
                             dev->name, (unsigned long long) len,
                             (unsigned long long) page,
                             (unsigned long long) at,
                             (unsigned long long) vfmigEmuPageLen(emu, page));
            return vfmigEmuLoadReject(load, at);
        }
        memcpy(load->staging + page * emu->pageSize, p + EMU_PAGE_PREFIX, len);
        break;
    }

    case EMU_REC_END: {
        guint8 digest[EMU_DIGEST_LEN];

        gnutls_hash_output(load->hash, digest);
        if (memcmp(digest, p + EMU_DIGEST_LEN, EMU_DIGEST_LEN) != 0) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' is corrupt: the digest in the end record at byte %2$llu does not match the %3$llu bytes before it"),
                             dev->name, (unsigned long long) at,
                             (unsigned long long) load->recStart);
            return vfmigEmuLoadReject(load, at);
        }
        memcpy(load->stateDigest, p, EMU_DIGEST_LEN);
        load->haveEnd = true;
        return 0;
    }

    default:
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("device '%1$s': unexpected record type %2$u"),
                         dev->name, type);
        return vfmigEmuLoadReject(load, load->recStart);
    }

    gnutls_hash(load->hash, load->rec, load->recNeed);
    return 0;
}


static ssize_t
vfmigEmuWriteLocked(vfmigDevice *dev,
                    vfmigEmuDevice *emu,
                    const guint8 *in,
                    size_t len)
{
    vfmigEmuLoad *load = emu->load;
    size_t done = 0;
    uint64_t at;

    if (!load || emu->state != VFIO_DEVICE_STATE_RESUMING) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s' cannot load state in the %2$s state"),
                         dev->name, vfmig_fsm_state_name(emu->state));
        return -1;
    }
    if (load->failed) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("device '%1$s' already rejected its state stream at byte %2$llu"),
                         dev->name, (unsigned long long) load->failedAt);
        return -1;
    }

    len = MIN(len, (size_t) G_MAXSSIZE);
    if (emu->maxIO)
        len = MIN(len, emu->maxIO);

    at = vfmigEmuFaultOffset(emu, VFMIG_EMU_FAULT_WRITE_EIO, load->offset);
    if (at == load->offset) {
        vfmigEmuFaultFired(emu, VFMIG_EMU_FAULT_WRITE_EIO, at);
        vfmigReportSystemError(EIO,
                               _("cannot load the state of device '%1$s' at byte %2$llu"),
                               dev->name, (unsigned long long) at);
        return -1;
    }
    if (at != G_MAXUINT64)
        len = MIN(len, at - load->offset);

    while (done < len) {
        size_t chunk;

        if (load->haveEnd) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("state stream for device '%1$s' has data after its end record, at byte %2$llu"),
                             dev->name, (unsigned long long) load->offset);
            return vfmigEmuLoadReject(load, load->offset);
        }
        if (load->recFill == 0)
            load->recStart = load->offset;

        chunk = MIN(len - done, load->recNeed - load->recFill);
        memcpy(load->rec + load->recFill, in + done, chunk);
        load->recFill += chunk;
        load->offset += chunk;
        done += chunk;

        if (load->recFill < load->recNeed)
            continue;

        if (load->recNeed == EMU_REC_HDR_LEN) {
            if (vfmigEmuLoadRecordHeader(dev, emu) < 0)
                return -1;
        } else {
            if (vfmigEmuLoadRecord(dev, emu) < 0)
                return -1;
            load->recFill = 0;
            load->recNeed = EMU_REC_HDR_LEN;
        }
    }
    return done;
}


static ssize_t
vfmigEmuWrite(vfmigDevice *dev, const void *buf, size_t len)
{
    vfmigEmuDevice *emu = vfmigEmuLock(dev);
    ssize_t ret = vfmigEmuWriteLocked(dev, emu, buf, len);

    if (ret > 0)
        vfmigEmuMoved(emu, ret);
    vfmigEmuUnlock(emu);
    return ret;
}


/* Data is ready: something to read, or the permanent end. */
static bool
vfmigEmuDataReady(vfmigEmuDevice *emu)
{
    uint64_t initial, dirty, end;

    if (emu->state == VFIO_DEVICE_STATE_STOP_COPY)
        return true;
    vfmigEmuSavePending(emu, &initial, &dirty, &end);
    return initial + dirty > 0;
}


static int
vfmigEmuWaitData(vfmigDevice *dev, int timeoutMs)
{
    vfmigEmuDevice *emu = vfmigEmuLock(dev);
    gint64 deadline = 0;
    int ret = -1;

    if (timeoutMs >= 0)
        deadline = (emu->ioRate ? emu->ownTime : g_get_monotonic_time()) +
                   (gint64) timeoutMs * 1000;

    for (;;) {
        gint64 left = G_MAXINT64;

        if (vfmigEmuCheckSaving(dev, emu) < 0)
            goto cleanup;
        if (vfmigEmuDataReady(emu)) {
            ret = 1;
            goto cleanup;
        }
        /* A fake clock does not move while we sleep. */
        if (emu->clock || timeoutMs == 0)
            break;
        if (timeoutMs > 0) {
            left = deadline - (emu->ioRate ? emu->ownTime :
                               g_get_monotonic_time());
            if (left <= 0)
                break;
        }

        /* The device's own time moves by the wait, a step at a time; a
         * wait without end for a device that dirties nothing ends at
         * once, as on a fake clock. */
        if (emu->ioRate) {
            if (timeoutMs < 0 &&
                (!vfmigEmuStateRuns(emu->state) || emu->dirtyRate == 0))
                break;
            emu->ownTime += MIN(left, EMU_WAIT_STEP_US);
            vfmigEmuAdvance(emu);
            continue;
        }

        vfmigEmuUnlock(emu);
        g_usleep(MIN(left, EMU_WAIT_STEP_US));
        emu = vfmigEmuLock(dev);
    }
    ret = 0;

 cleanup:
    vfmigEmuUnlock(emu);
    return ret;
}


static int
vfmigEmuPrecopyInfo(vfmigDevice *dev,
                    uint64_t *initialBytes,
                    uint64_t *dirtyBytes)
{
    vfmigEmuDevice *emu = vfmigEmuLock(dev);
    uint64_t end;
    int ret = -1;

    if (!emu->save ||
        (emu->state != VFIO_DEVICE_STATE_PRE_COPY &&
         emu->state != VFIO_DEVICE_STATE_PRE_COPY_P2P)) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s' gives pre-copy estimates only in PRE_COPY and PRE_COPY_P2P, not in %2$s"),
                         dev->name, vfmig_fsm_state_name(emu->state));
        goto cleanup;
    }
    vfmigEmuSavePending(emu, initialBytes, dirtyBytes, &end);
    ret = 0;

 cleanup:
    vfmigEmuUnlock(emu);
    return ret;
}


static int
vfmigEmuStopCopySize(vfmigDevice *dev, uint64_t *bytes)
{
    vfmigEmuDevice *emu = vfmigEmuLock(dev);
    int ret = -1;

    if (emu->flags == 0) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("emulated device '%1$s' does not support migration"),
                         dev->name);
        goto cleanup;
    }

    if (emu->save) {
        uint64_t initial, dirty, end;

        vfmigEmuSavePending(emu, &initial, &dirty, &end);
        *bytes = initial + dirty + end;
    } else {
        uint64_t at = vfmigEmuFaultOffset(emu, VFMIG_EMU_FAULT_TRUNCATE, 0);

        *bytes = MIN(vfmigEmuInitialLen(emu) + EMU_END_REC_LEN, at);
    }
    ret = 1;

 cleanup:
    vfmigEmuUnlock(emu);
    return ret;
}


static int
vfmigEmuReset(vfmigDevice *dev)
{
    vfmigEmuDevice *emu = vfmigEmuLock(dev);

    vfmigEmuDropSessions(emu);
    emu->state = VFIO_DEVICE_STATE_RUNNING;
    memset(emu->data, 0, emu->stateSize);
    vfmigEmuUnlock(emu);
    return 0;
}


static int
vfmigEmuDigestOp(vfmigDevice *dev, char **digest)
{
    if (!(*digest = vfmigEmuDeviceDigest(dev)))
        return -1;
    return 0;
}


static void
vfmigEmuDispose(vfmigDevice *dev)
{
    vfmigEmuDevice *emu = dev->priv;

    if (!emu)
        return;
    vfmigEmuDropSessions(emu);
    g_free(emu->data);
    g_array_unref(emu->faults);
    g_array_unref(emu->arcs);
    g_mutex_clear(&emu->lock);
    g_free(emu);
    dev->priv = NULL;
}


static const vfmigDeviceOps vfmigEmuOps = {
    .kind = "emulated",
    .getFlags = vfmigEmuGetFlags,
    .getState = vfmigEmuGetState,
    .setState = vfmigEmuSetState,
    .read = vfmigEmuRead,
    .write = vfmigEmuWrite,
    .waitData = vfmigEmuWaitData,
    .precopyInfo = vfmigEmuPrecopyInfo,
    .stopCopySize = vfmigEmuStopCopySize,
    .reset = vfmigEmuReset,
    .digest = vfmigEmuDigestOp,
    .dispose = vfmigEmuDispose,
};


static int
vfmigEmuConfigCheck(const char *name, const vfmigEmuConfig *cfg)
{
    if (cfg->flags != 0 &&
        (!vfmig_fsm_flags_valid(cfg->flags) ||
         (cfg->flags & ~(uint64_t) VFMIG_MIGRATION_FLAGS_KNOWN))) {
        g_autofree char *str = vfmigDeviceFlagsString(cfg->flags);

        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("emulated device '%1$s': migration flags %2$s are not a set the VFIO uAPI defines"),
                         name, str);
        return -1;
    }
    if (cfg->stateSize == 0 || cfg->stateSize > EMU_MAX_STATE_SIZE) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("emulated device '%1$s': state size %2$llu is not between 1 and %3$llu bytes"),
                         name, (unsigned long long) cfg->stateSize,
                         (unsigned long long) EMU_MAX_STATE_SIZE);
        return -1;
    }
    if (cfg->pageSize == 0 || cfg->pageSize > EMU_MAX_PAGE_SIZE) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("emulated device '%1$s': page size %2$llu is not between 1 and %3$llu bytes"),
                         name, (unsigned long long) cfg->pageSize,
                         (unsigned long long) EMU_MAX_PAGE_SIZE);
        return -1;
    }
    if (cfg->dirtyRate > EMU_MAX_DIRTY_RATE) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("emulated device '%1$s': dirty rate %2$llu exceeds %3$llu bytes per second"),
                         name, (unsigned long long) cfg->dirtyRate,
                         (unsigned long long) EMU_MAX_DIRTY_RATE);
        return -1;
    }
    if (cfg->ioRate > EMU_MAX_DIRTY_RATE) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("emulated device '%1$s': I/O rate %2$llu exceeds %3$llu bytes per second"),
                         name, (unsigned long long) cfg->ioRate,
                         (unsigned long long) EMU_MAX_DIRTY_RATE);
        return -1;
    }
    if (cfg->ioRate && cfg->clock) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("emulated device '%1$s': a device with a time of its own (an I/O rate) takes no clock"),
                         name);
        return -1;
    }
    if (cfg->stopDelayUs > EMU_MAX_DELAY_US ||
        cfg->drainDelayUs > EMU_MAX_DELAY_US ||
        cfg->commitDelayUs > EMU_MAX_DELAY_US ||
        cfg->resumeDelayUs > EMU_MAX_DELAY_US) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("emulated device '%1$s': a switchover delay exceeds %2$llu us"),
                         name, (unsigned long long) EMU_MAX_DELAY_US);
        return -1;
    }
    return 0;
}


vfmigDevice *
vfmigEmuDeviceNew(const char *name, const vfmigEmuConfig *cfg)
{
    vfmigEmuDevice *emu;

    if (!name || !*name) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("an emulated device needs a name"));
        return NULL;
    }
    if (!cfg) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("emulated device '%1$s' needs a configuration"),
                         name);
        return NULL;
    }
    if (vfmigEmuConfigCheck(name, cfg) < 0)
        return NULL;

    emu = g_new0(vfmigEmuDevice, 1);
    g_mutex_init(&emu->lock);
    emu->flags = cfg->flags;
    emu->stateSize = cfg->stateSize;
    emu->pageSize = cfg->pageSize;
    emu->npages = (cfg->stateSize + cfg->pageSize - 1) / cfg->pageSize;
    emu->dirtyRate = cfg->dirtyRate;
    emu->maxIO = cfg->maxIO;
    emu->stopDelayUs = cfg->stopDelayUs;
    emu->drainDelayUs = cfg->drainDelayUs;
    emu->commitDelayUs = cfg->commitDelayUs;
    emu->resumeDelayUs = cfg->resumeDelayUs;
    emu->clock = cfg->clock;
    emu->clockOpaque = cfg->clockOpaque;
    emu->ioRate = cfg->ioRate;
    /* not 0, which an engine's report takes for "not yet" */
    emu->ownTime = G_USEC_PER_SEC;
    emu->rng = cfg->seed;
    emu->state = VFIO_DEVICE_STATE_RUNNING;
    emu->data = g_malloc(emu->stateSize);
    vfmigEmuFillRandom(emu, emu->data, emu->stateSize);
    emu->lastTime = vfmigEmuNow(emu);
    emu->faults = g_array_new(FALSE, FALSE, sizeof(vfmigEmuFault));
    emu->arcs = g_array_new(FALSE, FALSE, sizeof(vfmigEmuArc));

    return vfmigDeviceNew(&vfmigEmuOps, name, emu);
}


/* The emulated device behind @dev, or NULL with an error. */
static vfmigEmuDevice *
vfmigEmuGet(vfmigDevice *dev)
{
    if (!dev || dev->ops != &vfmigEmuOps) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("device '%1$s' is not an emulated device"),
                         dev ? dev->name : "(null)");
        return NULL;
    }
    return dev->priv;
}


gint64
vfmigEmuDeviceClock(void *opaque)
{
    vfmigDevice *dev = opaque;
    vfmigEmuDevice *emu;
    gint64 now;

    g_return_val_if_fail(dev && dev->ops == &vfmigEmuOps, 0);
    emu = dev->priv;
    g_mutex_lock(&emu->lock);
    now = vfmigEmuNow(emu);
    g_mutex_unlock(&emu->lock);
    return now;
}


int
vfmigEmuDeviceSetDirtyRate(vfmigDevice *dev, uint64_t dirtyRate)
{
    vfmigEmuDevice *emu;

    if (!vfmigEmuGet(dev))
        return -1;
    if (dirtyRate > EMU_MAX_DIRTY_RATE) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("emulated device '%1$s': dirty rate %2$llu exceeds %3$llu bytes per second"),
                         dev->name, (unsigned long long) dirtyRate,
                         (unsigned long long) EMU_MAX_DIRTY_RATE);
        return -1;
    }
    emu = vfmigEmuLock(dev);
    emu->dirtyRate = dirtyRate;
    vfmigEmuUnlock(emu);
    return 0;
}


const GArray *
vfmigEmuDeviceArcLog(vfmigDevice *dev)
{
    vfmigEmuDevice *emu = vfmigEmuGet(dev);

    return emu ? emu->arcs : NULL;
}


void
vfmigEmuDeviceClearArcLog(vfmigDevice *dev)
{
    vfmigEmuDevice *emu;

    if (!vfmigEmuGet(dev))
        return;
    emu = vfmigEmuLock(dev);
    g_array_set_size(emu->arcs, 0);
    vfmigEmuUnlock(emu);
}


int
vfmigEmuDeviceInjectFault(vfmigDevice *dev, const vfmigEmuFault *fault)
{
    vfmigEmuDevice *emu;
    uint32_t next;

    if (!(emu = vfmigEmuGet(dev)))
        return -1;

    switch (fault->type) {
    case VFMIG_EMU_FAULT_ARC_FAIL:
    case VFMIG_EMU_FAULT_ARC_ERROR:
        if (fault->from == fault->to ||
            vfmig_fsm_next_state(emu->flags, fault->from, fault->to,
                                 &next) != VFMIG_FSM_OK ||
            next != fault->to) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("%1$s -> %2$s is not a single arc of the migration FSM of device '%3$s'"),
                             vfmig_fsm_state_name(fault->from),
                             vfmig_fsm_state_name(fault->to), dev->name);
            return -1;
        }
        break;
    case VFMIG_EMU_FAULT_TRUNCATE:
    case VFMIG_EMU_FAULT_READ_EIO:
    case VFMIG_EMU_FAULT_WRITE_EIO:
    case VFMIG_EMU_FAULT_CORRUPT:
    case VFMIG_EMU_FAULT_REFUSE_LOAD:
        break;
    case VFMIG_EMU_FAULT_LAST:
    default:
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("unknown fault type %1$d for device '%2$s'"),
                         (int) fault->type, dev->name);
        return -1;
    }

    emu = vfmigEmuLock(dev);
    g_array_append_val(emu->faults, *fault);
    vfmigEmuUnlock(emu);
    return 0;
}


void
vfmigEmuDeviceClearFaults(vfmigDevice *dev)
{
    vfmigEmuDevice *emu;

    if (!vfmigEmuGet(dev))
        return;
    emu = vfmigEmuLock(dev);
    g_array_set_size(emu->faults, 0);
    vfmigEmuUnlock(emu);
}


char *
vfmigEmuDeviceDigest(vfmigDevice *dev)
{
    vfmigEmuDevice *emu;
    guint8 digest[EMU_DIGEST_LEN];
    GString *hex;
    int rc;
    size_t i;

    if (!vfmigEmuGet(dev))
        return NULL;
    emu = vfmigEmuLock(dev);
    rc = vfmigEmuStateDigest(dev, emu->data, emu->stateSize, digest);
    vfmigEmuUnlock(emu);
    if (rc < 0)
        return NULL;

    hex = g_string_sized_new(2 * EMU_DIGEST_LEN);
    for (i = 0; i < EMU_DIGEST_LEN; i++)
        g_string_append_printf(hex, "%02x", digest[i]);
    return g_string_free(hex, FALSE);
}


int
vfmigEmuDeviceMutate(vfmigDevice *dev, uint64_t offset, size_t len)
{
    vfmigEmuDevice *emu;
    uint64_t page;
    size_t i;
    int ret = -1;

    if (!vfmigEmuGet(dev))
        return -1;
    emu = vfmigEmuLock(dev);

    if (!vfmigEmuStateRuns(emu->state)) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s' does not change its state in the %2$s state"),
                         dev->name, vfmig_fsm_state_name(emu->state));
        goto cleanup;
    }
    if (offset > emu->stateSize || len > emu->stateSize - offset) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("bytes %1$llu+%2$zu are outside the %3$llu bytes of state of device '%4$s'"),
                         (unsigned long long) offset, len,
                         (unsigned long long) emu->stateSize, dev->name);
        goto cleanup;
    }

    /* XOR with a non-zero byte: every byte really changes. */
    for (i = 0; i < len; i++) {
        guint8 x = (guint8) (vfmigEmuRandom(emu) % 255) + 1;

        emu->data[offset + i] ^= x;
    }
    if (len > 0) {
        for (page = offset / emu->pageSize;
             page <= (offset + len - 1) / emu->pageSize; page++)
            vfmigEmuMarkDirty(emu, page);
    }
    ret = 0;

 cleanup:
    vfmigEmuUnlock(emu);
    return ret;
}
