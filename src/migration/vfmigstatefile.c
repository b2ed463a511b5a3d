/*
 * vfmigstatefile.c: the versioned device-state file format
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "vfmigstatefile.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"

/* "\x89VFMIG\r\n": the high byte and the line ends catch 7-bit and
 * text-mode mangling, as in PNG. */
static const guint8 vfmigStateFileMagic[8] = {
    0x89, 'V', 'F', 'M', 'I', 'G', '\r', '\n'
};
static const guint8 vfmigStateChunkMagic[4] = { 'V', 'F', 'C', 'K' };
static const guint8 vfmigStateEndMagic[4] = { 'V', 'F', 'E', 'N' };

/* Header, version 1 */
#define HDR_OFF_MAGIC 0
#define HDR_OFF_VERSION 8
#define HDR_OFF_LEN 12
#define HDR_OFF_KNOWN 16
#define HDR_OFF_VENDOR 20
#define HDR_OFF_DEVICE 22
#define HDR_OFF_MIGFLAGS 24
#define HDR_OFF_STREAMVER 32
#define HDR_OFF_PRECOPY 36
#define HDR_OFF_MULTILOAD 37
#define HDR_OFF_RESERVED1 38
#define HDR_OFF_SIZEHINT 40
#define HDR_OFF_DRIVER 48
#define HDR_OFF_FIRMWARE 112
#define HDR_OFF_RESERVED2 176
#define HDR_OFF_DIGEST 224
#define HDR_PREFIX_LEN 16   /* magic, version, length: read first */

#define HDR_KNOWN_PCI (1u << 0)
#define HDR_KNOWN_FIRMWARE (1u << 1)
#define HDR_KNOWN_STREAMVER (1u << 2)
#define HDR_KNOWN_ALL (HDR_KNOWN_PCI | HDR_KNOWN_FIRMWARE | HDR_KNOWN_STREAMVER)

/* Chunk header */
#define CHK_OFF_MAGIC 0
#define CHK_OFF_PHASE 4
#define CHK_OFF_FLAGS 5
#define CHK_OFF_RESERVED1 6
#define CHK_OFF_LEN 8
#define CHK_OFF_RESERVED2 12
#define CHK_OFF_SEQ 16

/* End record */
#define END_OFF_MAGIC 0
#define END_OFF_RESERVED 4
#define END_OFF_CHUNKS 8
#define END_OFF_PAYLOAD 16
#define END_OFF_TOTAL 24
#define END_OFF_DIGEST 32

G_STATIC_ASSERT(HDR_OFF_DIGEST + VFMIG_STATEFILE_DIGEST_LEN ==
                VFMIG_STATEFILE_HEADER_LEN);
G_STATIC_ASSERT(END_OFF_DIGEST + VFMIG_STATEFILE_DIGEST_LEN ==
                VFMIG_STATEFILE_END_LEN);
G_STATIC_ASSERT(CHK_OFF_SEQ + 8 == VFMIG_STATEFILE_CHUNK_HEADER_LEN);


/*
 * Where a writer writes.  Without an I/O control, @fd as given, blocking.
 * With one, a write must never block longer than a poll slice, or neither
 * a stall nor a cancel would be seen: on a socket each send() is
 * MSG_DONTWAIT; a pipe or FIFO is opened again through /proc as a file
 * description of our own, non-blocking (setting O_NONBLOCK on the
 * caller's description would change it for every process sharing it);
 * failing that, writes of at most PIPE_BUF bytes after poll() says the
 * pipe has room cannot block either.
 */
typedef struct _vfmigStateFileSink vfmigStateFileSink;
struct _vfmigStateFileSink {
    int fd;
    int ownFd;          /* our non-blocking reopening, or -1 */
    bool socket;
    size_t maxWrite;    /* 0: no limit */
};


struct _vfmigStateFileWriter {
    int fd;
    vfmigStateFileSink sink;
    vfmigStateFileIO io;
    bool haveIO;
    uint64_t offset;
    uint64_t chunks;
    uint64_t payloadBytes;
    int lastPhase;
    vfmigStatePrecopyMode precopyMode;
    /* Over the chunk digests, in order: they cover every payload byte
     * already, and hashing 32 bytes a chunk instead of the payload again
     * halves the cost of the data path. */
    gnutls_hash_hd_t total;
    bool failed;
    bool finished;
};

struct _vfmigStateFileReader {
    int fd;
    vfmigStateFileIO io;
    bool haveIO;
    uint64_t offset;
    uint64_t chunks;
    uint64_t payloadBytes;
    int lastPhase;
    vfmigStateIdentity id;
    char *driver;
    char *firmware;
    gnutls_hash_hd_t total;
    guint8 *buf;
    size_t bufSize;
    bool failed;
    bool finished;
};

#define WIO(w) ((w)->haveIO ? &(w)->io : NULL)
#define RIO(r) ((r)->haveIO ? &(r)->io : NULL)


static void
vfmigPutLE16(guint8 *p, uint16_t v)
{
    p[0] = v & 0xff;
    p[1] = v >> 8;
}


static void
vfmigPutLE32(guint8 *p, uint32_t v)
{
    size_t i;

    for (i = 0; i < 4; i++)
        p[i] = (v >> (8 * i)) & 0xff;
}


static void
vfmigPutLE64(guint8 *p, uint64_t v)
{
    size_t i;

    for (i = 0; i < 8; i++)
        p[i] = (v >> (8 * i)) & 0xff;
}


static uint16_t
vfmigGetLE16(const guint8 *p)
{
    return (uint16_t) (p[0] | (p[1] << 8));
}


static uint32_t
vfmigGetLE32(const guint8 *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
           ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}


static uint64_t
vfmigGetLE64(const guint8 *p)
{
    return (uint64_t) vfmigGetLE32(p) | ((uint64_t) vfmigGetLE32(p + 4) << 32);
}


static bool
vfmigIsZero(const guint8 *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i])
            return false;
    }
    return true;
}


/*
 * Waits until @fd is ready for @events.  Without @io, for ever; with it, in
 * slices, failing with errno ECANCELED when @io->cancel is set and
 * ETIMEDOUT when nothing happened for @io->stallTimeoutMs.
 */
static int
vfmigStateFileWait(int fd, short events, const vfmigStateFileIO *io)
{
    gint64 start = g_get_monotonic_time();

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = events };
        int rc;

        if (io && io->cancel && g_atomic_int_get(io->cancel)) {
            errno = ECANCELED;
            return -1;
        }
        rc = poll(&pfd, 1, io ? VFMIG_STATEFILE_IO_SLICE_MS : -1);
        /* POLLHUP and POLLERR count as ready: the read or write says what */
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return -1;
        if (io && io->stallTimeoutMs &&
            g_get_monotonic_time() - start >= (gint64) io->stallTimeoutMs * 1000) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
}


/* Reads up to @len bytes, stopping early only at end of file: returns the
 * bytes read, -1 with errno set on error.  Retries EINTR and EAGAIN. */
static ssize_t
vfmigStateFileReadFull(int fd, void *buf, size_t len,
                       const vfmigStateFileIO *io)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n;

        if (io && vfmigStateFileWait(fd, POLLIN, io) < 0)
            return -1;
        n = read(fd, (guint8 *) buf + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
                vfmigStateFileWait(fd, POLLIN, io) == 0)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += n;
    }
    return got;
}


static void
vfmigStateFileSinkInit(vfmigStateFileSink *sink, int fd, bool controlled)
{
    struct stat st;

    sink->fd = fd;
    sink->ownFd = -1;
    sink->socket = false;
    sink->maxWrite = 0;
    if (fstat(fd, &st) < 0)
        return;
    if (S_ISSOCK(st.st_mode)) {
        sink->socket = true;
    } else if (controlled && S_ISFIFO(st.st_mode)) {
        g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);

        sink->ownFd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (sink->ownFd >= 0)
            sink->fd = sink->ownFd;
        else
            sink->maxWrite = PIPE_BUF;
    }
}


static void
vfmigStateFileSinkClose(vfmigStateFileSink *sink)
{
    if (sink->ownFd >= 0)
        close(sink->ownFd);
    sink->ownFd = -1;
}


static int
vfmigStateFileWriteFull(const vfmigStateFileSink *sink,
                        const void *buf, size_t len,
                        const vfmigStateFileIO *io)
{
    size_t done = 0;

    while (done < len) {
        size_t n = len - done;
        ssize_t rc;

        if (io && vfmigStateFileWait(sink->fd, POLLOUT, io) < 0)
            return -1;
        if (sink->maxWrite && io)
            n = MIN(n, sink->maxWrite);
        /* on a socket, a peer that went away is EPIPE, not SIGPIPE */
        if (sink->socket)
            rc = send(sink->fd, (const guint8 *) buf + done, n,
                      MSG_NOSIGNAL | (io ? MSG_DONTWAIT : 0));
        else
            rc = write(sink->fd, (const guint8 *) buf + done, n);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
                vfmigStateFileWait(sink->fd, POLLOUT, io) == 0)
                continue;
            return -1;
        }
        done += rc;
    }
    return 0;
}


/* Reports the failure @errnum of the I/O that @what describes. */
static void
vfmigStateFileReportIO(int errnum,
                       const vfmigStateFileIO *io,
                       const char *what)
{
    if (errnum == ECANCELED) {
        vfmigReportError(VFMIG_ERR_OPERATION_ABORTED,
                         _("%1$s: cancelled"), what);
    } else if (errnum == ETIMEDOUT && io && io->stallTimeoutMs) {
        vfmigReportError(VFMIG_ERR_OPERATION_TIMEOUT,
                         _("%1$s: the other end made no progress for %2$u ms"),
                         what, io->stallTimeoutMs);
    } else {
        vfmigReportSystemError(errnum, "%s", what);
    }
}


static int
vfmigStateFileDigest(const void *a, size_t alen,
                     const void *b, size_t blen,
                     guint8 *digest)
{
    gnutls_hash_hd_t h;
    int rc;

    if ((rc = gnutls_hash_init(&h, GNUTLS_DIG_SHA256)) < 0)
        goto error;
    if ((rc = gnutls_hash(h, a, alen)) < 0 ||
        (blen && (rc = gnutls_hash(h, b, blen)) < 0)) {
        gnutls_hash_deinit(h, NULL);
        goto error;
    }
    gnutls_hash_deinit(h, digest);
    return 0;

 error:
    vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                     _("cannot compute a SHA-256 digest: %1$s"),
                     gnutls_strerror(rc));
    return -1;
}


static int
vfmigStateFileTotalNew(gnutls_hash_hd_t *h)
{
    int rc = gnutls_hash_init(h, GNUTLS_DIG_SHA256);

    if (rc < 0) {
        *h = NULL;
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("cannot compute a SHA-256 digest: %1$s"),
                         gnutls_strerror(rc));
        return -1;
    }
    return 0;
}


static int
vfmigStateFileTotalAdd(gnutls_hash_hd_t h, const void *buf, size_t len)
{
    int rc;

    if (len == 0)
        return 0;
    if ((rc = gnutls_hash(h, buf, len)) < 0) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("cannot compute a SHA-256 digest: %1$s"),
                         gnutls_strerror(rc));
        return -1;
    }
    return 0;
}


VFMIG_ENUM_IMPL(vfmigStatePhase, VFMIG_STATE_PHASE_LAST,
                [VFMIG_STATE_PHASE_PRE_COPY] = "pre-copy",
                [VFMIG_STATE_PHASE_STOP_COPY] = "stop-copy",
);

VFMIG_ENUM_IMPL(vfmigStatePrecopyMode, VFMIG_STATE_PRECOPY_LAST,
                [VFMIG_STATE_PRECOPY_NONE] = "none",
                [VFMIG_STATE_PRECOPY_SINGLE] = "single",
                [VFMIG_STATE_PRECOPY_MULTI] = "multi",
);


static int
vfmigStateFilePutString(guint8 *field, const char *str, const char *what)
{
    size_t len = strlen(str);

    if (len >= VFMIG_STATEFILE_STRING_FIELD) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("state file %1$s '%2$s' is longer than %3$d bytes"),
                         what, str, VFMIG_STATEFILE_STRING_FIELD - 1);
        return -1;
    }
    if (!g_utf8_validate(str, len, NULL)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("state file %1$s is not valid UTF-8"), what);
        return -1;
    }
    memcpy(field, str, len);
    return 0;
}


vfmigStateFileWriter *
vfmigStateFileWriterNew(int fd,
                        const vfmigStateIdentity *id,
                        const vfmigStateFileIO *io)
{
    g_autoptr(vfmigStateFileWriter) w = NULL;
    guint8 hdr[VFMIG_STATEFILE_HEADER_LEN] = { 0 };
    uint32_t known = 0;

    if (fd < 0 || !id || !id->driver || !*id->driver) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("a state file needs a descriptor and the device's driver"));
        return NULL;
    }
    if ((unsigned int) id->precopyMode >= VFMIG_STATE_PRECOPY_LAST) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("invalid pre-copy mode %1$d"), (int) id->precopyMode);
        return NULL;
    }

    memcpy(hdr + HDR_OFF_MAGIC, vfmigStateFileMagic, sizeof(vfmigStateFileMagic));
    vfmigPutLE32(hdr + HDR_OFF_VERSION, VFMIG_STATEFILE_VERSION);
    vfmigPutLE32(hdr + HDR_OFF_LEN, VFMIG_STATEFILE_HEADER_LEN);
    if (id->havePciIds) {
        known |= HDR_KNOWN_PCI;
        vfmigPutLE16(hdr + HDR_OFF_VENDOR, id->pciVendor);
        vfmigPutLE16(hdr + HDR_OFF_DEVICE, id->pciDevice);
    }
    vfmigPutLE64(hdr + HDR_OFF_MIGFLAGS, id->migrationFlags);
    if (id->haveStreamVersion) {
        known |= HDR_KNOWN_STREAMVER;
        vfmigPutLE32(hdr + HDR_OFF_STREAMVER, id->streamVersion);
    }
    hdr[HDR_OFF_PRECOPY] = id->precopyMode;
    hdr[HDR_OFF_MULTILOAD] = id->multiLoad ? 1 : 0;
    vfmigPutLE64(hdr + HDR_OFF_SIZEHINT, id->sizeHint);
    if (vfmigStateFilePutString(hdr + HDR_OFF_DRIVER, id->driver, "driver") < 0)
        return NULL;
    if (id->firmware) {
        known |= HDR_KNOWN_FIRMWARE;
        if (vfmigStateFilePutString(hdr + HDR_OFF_FIRMWARE, id->firmware,
                                    "firmware") < 0)
            return NULL;
    }
    vfmigPutLE32(hdr + HDR_OFF_KNOWN, known);
    if (vfmigStateFileDigest(hdr, HDR_OFF_DIGEST, NULL, 0,
                             hdr + HDR_OFF_DIGEST) < 0)
        return NULL;

    w = g_new0(vfmigStateFileWriter, 1);
    w->fd = fd;
    if (io) {
        w->io = *io;
        w->haveIO = true;
    }
    vfmigStateFileSinkInit(&w->sink, fd, io != NULL);
    w->precopyMode = id->precopyMode;
    if (vfmigStateFileTotalNew(&w->total) < 0)
        return NULL;

    if (vfmigStateFileWriteFull(&w->sink, hdr, sizeof(hdr), WIO(w)) < 0) {
        vfmigStateFileReportIO(errno, WIO(w),
                               _("cannot write the state file header"));
        return NULL;
    }
    w->offset = sizeof(hdr);
    return g_steal_pointer(&w);
}


static int
vfmigStateFileWriterCheck(vfmigStateFileWriter *w)
{
    if (w->failed) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID, "%s",
                         _("the state file writer failed earlier"));
        return -1;
    }
    if (w->finished) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID, "%s",
                         _("the state file is already finished"));
        return -1;
    }
    return 0;
}


static int
vfmigStateFileWriteOne(vfmigStateFileWriter *w,
                       vfmigStatePhase phase,
                       unsigned int flags,
                       const guint8 *buf,
                       size_t len)
{
    guint8 hdr[VFMIG_STATEFILE_CHUNK_HEADER_LEN] = { 0 };
    guint8 digest[VFMIG_STATEFILE_DIGEST_LEN];

    memcpy(hdr + CHK_OFF_MAGIC, vfmigStateChunkMagic, sizeof(vfmigStateChunkMagic));
    hdr[CHK_OFF_PHASE] = phase;
    hdr[CHK_OFF_FLAGS] = flags;
    vfmigPutLE32(hdr + CHK_OFF_LEN, len);
    vfmigPutLE64(hdr + CHK_OFF_SEQ, w->chunks);

    if (vfmigStateFileDigest(hdr, sizeof(hdr), buf, len, digest) < 0 ||
        vfmigStateFileTotalAdd(w->total, digest, sizeof(digest)) < 0)
        return -1;

    if (vfmigStateFileWriteFull(&w->sink, hdr, sizeof(hdr), WIO(w)) < 0 ||
        vfmigStateFileWriteFull(&w->sink, buf, len, WIO(w)) < 0 ||
        vfmigStateFileWriteFull(&w->sink, digest, sizeof(digest), WIO(w)) < 0) {
        int errnum = errno;
        g_autofree char *what = NULL;

        what = g_strdup_printf(_("cannot write state chunk %1$llu at byte offset %2$llu"),
                               (unsigned long long) w->chunks,
                               (unsigned long long) w->offset);
        vfmigStateFileReportIO(errnum, WIO(w), what);
        return -1;
    }
    w->offset += sizeof(hdr) + len + sizeof(digest);
    w->chunks++;
    w->payloadBytes += len;
    return 0;
}


int
vfmigStateFileWriteChunk(vfmigStateFileWriter *w,
                         vfmigStatePhase phase,
                         unsigned int flags,
                         const void *buf,
                         size_t len)
{
    const guint8 *p = buf;

    if (vfmigStateFileWriterCheck(w) < 0)
        return -1;
    if (!vfmigStatePhaseToString(phase)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("invalid state phase %1$d"), (int) phase);
        return -1;
    }
    if (flags & ~VFMIG_STATE_CHUNK_FLAGS_KNOWN) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("unknown state chunk flags 0x%1$x"), flags);
        return -1;
    }
    if (len && !buf) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s", _("no chunk payload"));
        return -1;
    }
    if (phase == VFMIG_STATE_PHASE_PRE_COPY &&
        w->precopyMode == VFMIG_STATE_PRECOPY_NONE) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID, "%s",
                         _("pre-copy chunk in a state file declared without pre-copy"));
        return -1;
    }
    if ((int) phase < w->lastPhase) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID, "%s",
                         _("pre-copy chunk after stop-copy data"));
        return -1;
    }

    do {
        size_t n = MIN(len, VFMIG_STATEFILE_CHUNK_MAX);

        if (vfmigStateFileWriteOne(w, phase, n == len ? flags : 0, p, n) < 0) {
            w->failed = true;
            return -1;
        }
        p += n;
        len -= n;
    } while (len);

    w->lastPhase = phase;
    return 0;
}


int
vfmigStateFileWriterFinish(vfmigStateFileWriter *w)
{
    guint8 end[VFMIG_STATEFILE_END_LEN] = { 0 };
    gnutls_hash_hd_t total = w->total;

    if (vfmigStateFileWriterCheck(w) < 0)
        return -1;

    memcpy(end + END_OFF_MAGIC, vfmigStateEndMagic, sizeof(vfmigStateEndMagic));
    vfmigPutLE64(end + END_OFF_CHUNKS, w->chunks);
    vfmigPutLE64(end + END_OFF_PAYLOAD, w->payloadBytes);
    vfmigPutLE64(end + END_OFF_TOTAL, w->offset + VFMIG_STATEFILE_END_LEN);
    w->total = NULL;
    gnutls_hash_deinit(total, end + END_OFF_DIGEST);

    if (vfmigStateFileWriteFull(&w->sink, end, sizeof(end), WIO(w)) < 0) {
        int errnum = errno;
        g_autofree char *what = NULL;

        what = g_strdup_printf(_("cannot write the state file end record at byte offset %1$llu"),
                               (unsigned long long) w->offset);
        vfmigStateFileReportIO(errnum, WIO(w), what);
        w->failed = true;
        return -1;
    }
    w->offset += sizeof(end);
    w->finished = true;
    return 0;
}


uint64_t
vfmigStateFileWriterGetOffset(vfmigStateFileWriter *w)
{
    return w->offset;
}


void
vfmigStateFileWriterFree(vfmigStateFileWriter *w)
{
    if (!w)
        return;
    if (w->total)
        gnutls_hash_deinit(w->total, NULL);
    vfmigStateFileSinkClose(&w->sink);
    g_free(w);
}


static void
vfmigStateFileReportReadError(vfmigStateFileReader *r, int errnum)
{
    g_autofree char *what = NULL;

    what = g_strdup_printf(_("cannot read the state file at byte offset %1$llu"),
                           (unsigned long long) r->offset);
    vfmigStateFileReportIO(errnum, RIO(r), what);
}


/* Reads exactly @len bytes at the reader's offset, or reports truncation
 * naming @what. */
static int
vfmigStateFileReadExact(vfmigStateFileReader *r,
                        void *buf,
                        size_t len,
                        const char *what)
{
    ssize_t got = vfmigStateFileReadFull(r->fd, buf, len, RIO(r));

    if (got < 0) {
        vfmigStateFileReportReadError(r, errno);
        return -1;
    }
    if ((size_t) got < len) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file truncated at byte offset %1$llu: %2$s needs %3$zu more bytes"),
                         (unsigned long long) (r->offset + got), what,
                         len - (size_t) got);
        return -1;
    }
    r->offset += len;
    return 0;
}


/* Takes a NUL-terminated, zero-padded, UTF-8 string field. */
static int
vfmigStateFileGetString(const guint8 *field,
                        size_t off,
                        char **str,
                        const char *what)
{
    const guint8 *nul = memchr(field, 0, VFMIG_STATEFILE_STRING_FIELD);
    size_t len;

    if (!nul) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file %1$s at byte offset %2$zu is not terminated"),
                         what, off);
        return -1;
    }
    len = nul - field;
    if (!vfmigIsZero(nul, VFMIG_STATEFILE_STRING_FIELD - len) ||
        !g_utf8_validate((const char *) field, len, NULL)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file %1$s at byte offset %2$zu is malformed"),
                         what, off);
        return -1;
    }
    *str = g_strndup((const char *) field, len);
    return 0;
}


static int
vfmigStateFileParseHeader(vfmigStateFileReader *r,
                          const guint8 *hdr)
{
    guint8 digest[VFMIG_STATEFILE_DIGEST_LEN];
    uint32_t known;

    if (vfmigStateFileDigest(hdr, HDR_OFF_DIGEST, NULL, 0, digest) < 0)
        return -1;
    if (memcmp(digest, hdr + HDR_OFF_DIGEST, sizeof(digest)) != 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file header digest mismatch (header bytes 0 to %1$d, digest at byte offset %2$d)"),
                         HDR_OFF_DIGEST - 1, HDR_OFF_DIGEST);
        return -1;
    }

    known = vfmigGetLE32(hdr + HDR_OFF_KNOWN);
    if (known & ~HDR_KNOWN_ALL) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("unknown bits 0x%1$x in the state file header at byte offset %2$d"),
                         known & ~HDR_KNOWN_ALL, HDR_OFF_KNOWN);
        return -1;
    }
    if (hdr[HDR_OFF_PRECOPY] >= VFMIG_STATE_PRECOPY_LAST) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("invalid pre-copy mode %1$u in the state file header at byte offset %2$d"),
                         hdr[HDR_OFF_PRECOPY], HDR_OFF_PRECOPY);
        return -1;
    }
    if (hdr[HDR_OFF_MULTILOAD] > 1) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("invalid multi-load value %1$u in the state file header at byte offset %2$d"),
                         hdr[HDR_OFF_MULTILOAD], HDR_OFF_MULTILOAD);
        return -1;
    }
    if (!vfmigIsZero(hdr + HDR_OFF_RESERVED1, HDR_OFF_SIZEHINT - HDR_OFF_RESERVED1) ||
        !vfmigIsZero(hdr + HDR_OFF_RESERVED2, HDR_OFF_DIGEST - HDR_OFF_RESERVED2) ||
        (!(known & HDR_KNOWN_PCI) &&
         !vfmigIsZero(hdr + HDR_OFF_VENDOR, 4)) ||
        (!(known & HDR_KNOWN_STREAMVER) &&
         !vfmigIsZero(hdr + HDR_OFF_STREAMVER, 4)) ||
        (!(known & HDR_KNOWN_FIRMWARE) &&
         !vfmigIsZero(hdr + HDR_OFF_FIRMWARE, VFMIG_STATEFILE_STRING_FIELD))) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT, "%s",
                         _("reserved or unused bytes of the state file header are not zero"));
        return -1;
    }
    if (vfmigStateFileGetString(hdr + HDR_OFF_DRIVER, HDR_OFF_DRIVER,
                                &r->driver, "driver") < 0)
        return -1;
    if (!*r->driver) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file header has no driver at byte offset %1$d"),
                         HDR_OFF_DRIVER);
        return -1;
    }
    if ((known & HDR_KNOWN_FIRMWARE) &&
        vfmigStateFileGetString(hdr + HDR_OFF_FIRMWARE, HDR_OFF_FIRMWARE,
                                &r->firmware, "firmware") < 0)
        return -1;

    r->id.driver = r->driver;
    r->id.havePciIds = known & HDR_KNOWN_PCI;
    r->id.pciVendor = vfmigGetLE16(hdr + HDR_OFF_VENDOR);
    r->id.pciDevice = vfmigGetLE16(hdr + HDR_OFF_DEVICE);
    r->id.firmware = r->firmware;
    r->id.haveStreamVersion = known & HDR_KNOWN_STREAMVER;
    r->id.streamVersion = vfmigGetLE32(hdr + HDR_OFF_STREAMVER);
    r->id.migrationFlags = vfmigGetLE64(hdr + HDR_OFF_MIGFLAGS);
    r->id.precopyMode = hdr[HDR_OFF_PRECOPY];
    r->id.multiLoad = hdr[HDR_OFF_MULTILOAD];
    r->id.sizeHint = vfmigGetLE64(hdr + HDR_OFF_SIZEHINT);
    return 0;
}


vfmigStateFileReader *
vfmigStateFileReaderNew(int fd,
                        const vfmigStateFileIO *io)
{
    g_autoptr(vfmigStateFileReader) r = NULL;
    guint8 hdr[VFMIG_STATEFILE_HEADER_LEN];
    uint32_t version;
    uint32_t hdrLen;

    if (fd < 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("a state file needs a descriptor"));
        return NULL;
    }

    r = g_new0(vfmigStateFileReader, 1);
    r->fd = fd;
    if (io) {
        r->io = *io;
        r->haveIO = true;
    }
    if (vfmigStateFileTotalNew(&r->total) < 0)
        return NULL;

    if (vfmigStateFileReadExact(r, hdr, HDR_PREFIX_LEN, _("the header")) < 0)
        return NULL;
    if (memcmp(hdr + HDR_OFF_MAGIC, vfmigStateFileMagic,
               sizeof(vfmigStateFileMagic)) != 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT, "%s",
                         _("not a vfmig state file: bad magic at byte offset 0"));
        return NULL;
    }
    version = vfmigGetLE32(hdr + HDR_OFF_VERSION);
    if (version != VFMIG_STATEFILE_VERSION) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("unsupported state file format version %1$u at byte offset %2$d (this build reads version %3$d)"),
                         version, HDR_OFF_VERSION, VFMIG_STATEFILE_VERSION);
        return NULL;
    }
    hdrLen = vfmigGetLE32(hdr + HDR_OFF_LEN);
    if (hdrLen > VFMIG_STATEFILE_HEADER_LEN_MAX) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("absurd state file header length %1$u at byte offset %2$d (at most %3$d)"),
                         hdrLen, HDR_OFF_LEN, VFMIG_STATEFILE_HEADER_LEN_MAX);
        return NULL;
    }
    if (hdrLen != VFMIG_STATEFILE_HEADER_LEN) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file header length %1$u at byte offset %2$d is not %3$d as version %4$d requires"),
                         hdrLen, HDR_OFF_LEN, VFMIG_STATEFILE_HEADER_LEN,
                         VFMIG_STATEFILE_VERSION);
        return NULL;
    }
    if (vfmigStateFileReadExact(r, hdr + HDR_PREFIX_LEN,
                                hdrLen - HDR_PREFIX_LEN, _("the header")) < 0)
        return NULL;
    if (vfmigStateFileParseHeader(r, hdr) < 0)
        return NULL;

    return g_steal_pointer(&r);
}


const vfmigStateIdentity *
vfmigStateFileReaderGetIdentity(vfmigStateFileReader *r)
{
    return &r->id;
}


static int
vfmigStateFileReadEnd(vfmigStateFileReader *r,
                      const guint8 *magic)
{
    guint8 end[VFMIG_STATEFILE_END_LEN];
    guint8 digest[VFMIG_STATEFILE_DIGEST_LEN];
    uint64_t start = r->offset - sizeof(vfmigStateEndMagic);
    uint64_t chunks;
    uint64_t payload;
    uint64_t total;
    gnutls_hash_hd_t h = r->total;

    memcpy(end, magic, sizeof(vfmigStateEndMagic));
    if (vfmigStateFileReadExact(r, end + sizeof(vfmigStateEndMagic),
                                sizeof(end) - sizeof(vfmigStateEndMagic),
                                _("the end record")) < 0)
        return -1;

    chunks = vfmigGetLE64(end + END_OFF_CHUNKS);
    payload = vfmigGetLE64(end + END_OFF_PAYLOAD);
    total = vfmigGetLE64(end + END_OFF_TOTAL);

    if (!vfmigIsZero(end + END_OFF_RESERVED, 4)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("reserved bytes of the state file end record at byte offset %1$llu are not zero"),
                         (unsigned long long) (start + END_OFF_RESERVED));
        return -1;
    }
    if (chunks != r->chunks || payload != r->payloadBytes || total != r->offset) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file end record at byte offset %1$llu declares %2$llu chunks, %3$llu payload bytes, %4$llu bytes in all; the stream had %5$llu, %6$llu, %7$llu"),
                         (unsigned long long) start,
                         (unsigned long long) chunks,
                         (unsigned long long) payload,
                         (unsigned long long) total,
                         (unsigned long long) r->chunks,
                         (unsigned long long) r->payloadBytes,
                         (unsigned long long) r->offset);
        return -1;
    }

    r->total = NULL;
    gnutls_hash_deinit(h, digest);
    if (memcmp(digest, end + END_OFF_DIGEST, sizeof(digest)) != 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file stream digest (over the chunk digests) mismatch in the end record at byte offset %1$llu"),
                         (unsigned long long) (start + END_OFF_DIGEST));
        return -1;
    }
    return 0;
}


static int
vfmigStateFileReadRecord(vfmigStateFileReader *r,
                         vfmigStatePhase *phase,
                         unsigned int *flags,
                         const void **payload,
                         size_t *len)
{
    guint8 hdr[VFMIG_STATEFILE_CHUNK_HEADER_LEN];
    guint8 digest[VFMIG_STATEFILE_DIGEST_LEN];
    guint8 expect[VFMIG_STATEFILE_DIGEST_LEN];
    uint64_t start = r->offset;
    ssize_t got;
    uint32_t plen;
    uint64_t seq;
    int ph;

    /* A clean end of file here is a stream without its end record. */
    got = vfmigStateFileReadFull(r->fd, hdr, sizeof(vfmigStateChunkMagic),
                                 RIO(r));
    if (got < 0) {
        vfmigStateFileReportReadError(r, errno);
        return -1;
    }
    if (got == 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file ends at byte offset %1$llu after %2$llu chunks without an end record"),
                         (unsigned long long) r->offset,
                         (unsigned long long) r->chunks);
        return -1;
    }
    if ((size_t) got < sizeof(vfmigStateChunkMagic)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state file truncated at byte offset %1$llu inside a record magic"),
                         (unsigned long long) (r->offset + got));
        return -1;
    }
    r->offset += got;

    if (memcmp(hdr, vfmigStateEndMagic, sizeof(vfmigStateEndMagic)) == 0) {
        if (vfmigStateFileReadEnd(r, hdr) < 0)
            return -1;
        return 0;
    }
    if (memcmp(hdr, vfmigStateChunkMagic, sizeof(vfmigStateChunkMagic)) != 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("bad record magic at byte offset %1$llu (chunk %2$llu)"),
                         (unsigned long long) start,
                         (unsigned long long) r->chunks);
        return -1;
    }
    if (vfmigStateFileReadExact(r, hdr + sizeof(vfmigStateChunkMagic),
                                sizeof(hdr) - sizeof(vfmigStateChunkMagic),
                                _("a chunk header")) < 0)
        return -1;

    plen = vfmigGetLE32(hdr + CHK_OFF_LEN);
    if (plen > VFMIG_STATEFILE_CHUNK_MAX) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("absurd chunk payload length %1$u at byte offset %2$llu (at most %3$u)"),
                         plen, (unsigned long long) (start + CHK_OFF_LEN),
                         VFMIG_STATEFILE_CHUNK_MAX);
        return -1;
    }
    if (plen > r->bufSize) {
        /* grow geometrically, within the limit checked above */
        size_t size = MAX(plen, MIN(r->bufSize * 2, VFMIG_STATEFILE_CHUNK_MAX));

        g_free(r->buf);
        r->buf = g_malloc(size);
        r->bufSize = size;
    }
    if (vfmigStateFileReadExact(r, r->buf, plen, _("a chunk payload")) < 0 ||
        vfmigStateFileReadExact(r, expect, sizeof(expect), _("a chunk digest")) < 0)
        return -1;

    if (vfmigStateFileDigest(hdr, sizeof(hdr), r->buf, plen, digest) < 0)
        return -1;
    if (memcmp(digest, expect, sizeof(digest)) != 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state chunk %1$llu at byte offset %2$llu (%3$u payload bytes): digest mismatch"),
                         (unsigned long long) r->chunks,
                         (unsigned long long) start, plen);
        return -1;
    }

    /* Digest matched: what follows catches a writer that broke the rules. */
    ph = hdr[CHK_OFF_PHASE];
    seq = vfmigGetLE64(hdr + CHK_OFF_SEQ);
    if (seq != r->chunks) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state chunk at byte offset %1$llu has sequence number %2$llu, expected %3$llu"),
                         (unsigned long long) start,
                         (unsigned long long) seq,
                         (unsigned long long) r->chunks);
        return -1;
    }
    if (!vfmigStatePhaseToString(ph) ||
        (hdr[CHK_OFF_FLAGS] & ~VFMIG_STATE_CHUNK_FLAGS_KNOWN) ||
        !vfmigIsZero(hdr + CHK_OFF_RESERVED1, 2) ||
        !vfmigIsZero(hdr + CHK_OFF_RESERVED2, 4)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("state chunk %1$llu at byte offset %2$llu has an invalid phase, flags or reserved field"),
                         (unsigned long long) r->chunks,
                         (unsigned long long) start);
        return -1;
    }
    if (ph < r->lastPhase ||
        (ph == VFMIG_STATE_PHASE_PRE_COPY &&
         r->id.precopyMode == VFMIG_STATE_PRECOPY_NONE)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("unexpected pre-copy chunk %1$llu at byte offset %2$llu"),
                         (unsigned long long) r->chunks,
                         (unsigned long long) start);
        return -1;
    }

    if (vfmigStateFileTotalAdd(r->total, digest, sizeof(digest)) < 0)
        return -1;
    r->lastPhase = ph;
    r->chunks++;
    r->payloadBytes += plen;

    *phase = ph;
    *flags = hdr[CHK_OFF_FLAGS];
    *payload = r->buf;
    *len = plen;
    return 1;
}


int
vfmigStateFileReadChunk(vfmigStateFileReader *r,
                        vfmigStatePhase *phase,
                        unsigned int *flags,
                        const void **payload,
                        size_t *len)
{
    int ret;

    if (r->failed) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID, "%s",
                         _("the state file reader failed earlier"));
        return -1;
    }
    if (r->finished) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID, "%s",
                         _("the state file end record was already read"));
        return -1;
    }

    ret = vfmigStateFileReadRecord(r, phase, flags, payload, len);
    if (ret < 0)
        r->failed = true;
    else if (ret == 0)
        r->finished = true;
    return ret;
}


uint64_t
vfmigStateFileReaderGetOffset(vfmigStateFileReader *r)
{
    return r->offset;
}


void
vfmigStateFileReaderFree(vfmigStateFileReader *r)
{
    if (!r)
        return;
    if (r->total)
        gnutls_hash_deinit(r->total, NULL);
    g_free(r->driver);
    g_free(r->firmware);
    g_free(r->buf);
    g_free(r);
}


int
vfmigStateIdentityCheckCompatible(const vfmigStateIdentity *file,
                                  const vfmigStateIdentity *dst)
{
    const char *fileFw = file->firmware;
    const char *dstFw = dst->firmware;

    if (g_strcmp0(file->driver, dst->driver) != 0) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("state saved by driver '%1$s' cannot be loaded by driver '%2$s'"),
                         file->driver ? file->driver : "", dst->driver ? dst->driver : "");
        return -1;
    }
    if (file->havePciIds && dst->havePciIds &&
        (file->pciVendor != dst->pciVendor || file->pciDevice != dst->pciDevice)) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("state saved by PCI device %1$04x:%2$04x cannot be loaded by PCI device %3$04x:%4$04x"),
                         file->pciVendor, file->pciDevice,
                         dst->pciVendor, dst->pciDevice);
        return -1;
    }
    if (fileFw && dstFw && strcmp(fileFw, dstFw) != 0) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("state saved with firmware '%1$s' cannot be loaded with firmware '%2$s'"),
                         fileFw, dstFw);
        return -1;
    }
    if (file->haveStreamVersion && dst->haveStreamVersion &&
        file->streamVersion != dst->streamVersion) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("state stream version %1$u cannot be loaded by a device with stream version %2$u"),
                         file->streamVersion, dst->streamVersion);
        return -1;
    }
    if (file->precopyMode == VFMIG_STATE_PRECOPY_MULTI && !dst->multiLoad) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED, "%s",
                         _("the state holds several images (multi pre-copy) but the destination device cannot load more than one"));
        return -1;
    }
    return 0;
}
