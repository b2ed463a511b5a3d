/*
 * test-statefile.c: the device-state file format, writer and reader
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <glib.h>

#include "vfmigstatefile.h"
#include "vfmigerror.h"
#include "vfio_mig_uapi.h"


typedef struct _testChunk testChunk;
struct _testChunk {
    vfmigStatePhase phase;
    unsigned int flags;
    guint8 *data;
    size_t len;
};


static vfmigStateIdentity
testIdentity(void)
{
    vfmigStateIdentity id = {
        .driver = "mlx5_vfio_pci",
        .havePciIds = true,
        .pciVendor = 0x15b3,
        .pciDevice = 0x101e,
        .firmware = "22.39.1002",
        .haveStreamVersion = true,
        .streamVersion = 3,
        .migrationFlags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
                          VFIO_MIGRATION_PRE_COPY,
        .precopyMode = VFMIG_STATE_PRECOPY_MULTI,
        .multiLoad = true,
        .sizeHint = 123456789,
    };
    return id;
}


static void
testChunksFree(testChunk *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        g_free(c[i].data);
    g_free(c);
}


static testChunk *
testChunksMake(GRand *rnd, size_t n, size_t maxLen)
{
    testChunk *c = g_new0(testChunk, n);
    size_t i;
    size_t j;

    for (i = 0; i < n; i++) {
        c[i].phase = i < n / 2 ? VFMIG_STATE_PHASE_PRE_COPY
                               : VFMIG_STATE_PHASE_STOP_COPY;
        c[i].flags = g_rand_int_range(rnd, 0, 4) == 0 ? VFMIG_STATE_CHUNK_IMAGE_END : 0;
        /* mostly small, some empty, some large */
        switch (g_rand_int_range(rnd, 0, 4)) {
        case 0:
            c[i].len = 0;
            break;
        case 1:
            c[i].len = g_rand_int_range(rnd, 1, 64);
            break;
        default:
            c[i].len = g_rand_int_range(rnd, 1, maxLen);
            break;
        }
        c[i].data = g_malloc(c[i].len + 1);
        for (j = 0; j < c[i].len; j++)
            c[i].data[j] = g_rand_int(rnd);
    }
    return c;
}


static int
testWriteAll(int fd, const testChunk *c, size_t n)
{
    vfmigStateIdentity id = testIdentity();
    g_autoptr(vfmigStateFileWriter) w = vfmigStateFileWriterNew(fd, &id, NULL);
    size_t i;

    if (!w)
        return -1;
    for (i = 0; i < n; i++) {
        if (vfmigStateFileWriteChunk(w, c[i].phase, c[i].flags,
                                     c[i].data, c[i].len) < 0)
            return -1;
    }
    return vfmigStateFileWriterFinish(w);
}


typedef struct _testWriterArgs testWriterArgs;
struct _testWriterArgs {
    int fd;
    const testChunk *chunks;
    size_t n;
    const guint8 *raw;          /* or raw bytes, written slowly */
    size_t rawLen;
    int ret;
};


static gpointer
testWriterThread(gpointer opaque)
{
    testWriterArgs *a = opaque;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (a->raw) {
        size_t i;

        a->ret = 0;
        for (i = 0; i < a->rawLen; i++) {
            if (write(a->fd, a->raw + i, 1) != 1) {
                a->ret = -1;
                break;
            }
            if (i % 16 == 0)
                g_usleep(300);
        }
    } else {
        a->ret = testWriteAll(a->fd, a->chunks, a->n);
    }
    close(a->fd);
    return NULL;
}


/* Reads every chunk from @fd and checks it against @c. */
static void
testReadCheck(int fd, const testChunk *c, size_t n)
{
    g_autoptr(vfmigStateFileReader) r = vfmigStateFileReaderNew(fd, NULL);
    const vfmigStateIdentity *id;
    size_t i;
    vfmigStatePhase phase;
    unsigned int flags;
    const void *payload;
    size_t len;
    uint64_t total = VFMIG_STATEFILE_HEADER_LEN + VFMIG_STATEFILE_END_LEN;

    g_assert_nonnull(r);
    id = vfmigStateFileReaderGetIdentity(r);
    g_assert_cmpstr(id->driver, ==, "mlx5_vfio_pci");
    g_assert_cmpstr(id->firmware, ==, "22.39.1002");

    for (i = 0; i < n; i++) {
        g_assert_cmpint(vfmigStateFileReadChunk(r, &phase, &flags,
                                                &payload, &len), ==, 1);
        g_assert_cmpint(phase, ==, c[i].phase);
        g_assert_cmpuint(flags, ==, c[i].flags);
        g_assert_cmpmem(payload, len, c[i].data, c[i].len);
        total += VFMIG_STATEFILE_CHUNK_HEADER_LEN + len + VFMIG_STATEFILE_DIGEST_LEN;
    }
    g_assert_cmpint(vfmigStateFileReadChunk(r, &phase, &flags,
                                            &payload, &len), ==, 0);
    g_assert_cmpuint(vfmigStateFileReaderGetOffset(r), ==, total);
    /* nothing after the end record */
    g_assert_cmpint(vfmigStateFileReadChunk(r, &phase, &flags,
                                            &payload, &len), ==, -1);
}


typedef struct _testReaderArgs testReaderArgs;
struct _testReaderArgs {
    int fd;
    const testChunk *chunks;
    size_t n;
};


static gpointer
testReaderThread(gpointer opaque)
{
    testReaderArgs *a = opaque;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    testReadCheck(a->fd, a->chunks, a->n);
    return NULL;
}


static void
testRoundTripPipe(void)
{
    g_autoptr(GRand) rnd = g_rand_new_with_seed(42);
    size_t n = 400;
    testChunk *c = testChunksMake(rnd, n, 200 * 1024);
    testWriterArgs a = { 0 };
    GThread *th;
    int p[2];

    g_assert_cmpint(pipe(p), ==, 0);
    a.fd = p[1];
    a.chunks = c;
    a.n = n;
    th = g_thread_new("writer", testWriterThread, &a);
    testReadCheck(p[0], c, n);
    g_thread_join(th);
    g_assert_cmpint(a.ret, ==, 0);
    close(p[0]);
    testChunksFree(c, n);
}


/* Non-blocking socketpair: both sides go through EAGAIN + poll. */
static void
testRoundTripSocket(void)
{
    g_autoptr(GRand) rnd = g_rand_new_with_seed(7);
    size_t n = 200;
    testChunk *c = testChunksMake(rnd, n, 300 * 1024);
    testWriterArgs a = { 0 };
    GThread *th;
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    g_assert_cmpint(fcntl(sv[0], F_SETFL, O_NONBLOCK), ==, 0);
    g_assert_cmpint(fcntl(sv[1], F_SETFL, O_NONBLOCK), ==, 0);
    a.fd = sv[1];
    a.chunks = c;
    a.n = n;
    th = g_thread_new("writer", testWriterThread, &a);
    testReadCheck(sv[0], c, n);
    g_thread_join(th);
    g_assert_cmpint(a.ret, ==, 0);
    close(sv[0]);
    testChunksFree(c, n);
}


/* A buffer over the chunk limit is split; the flags go on the last. */
static void
testSplit(void)
{
    size_t big = VFMIG_STATEFILE_CHUNK_MAX + 1000;
    testChunk c = {
        .phase = VFMIG_STATE_PHASE_STOP_COPY,
        .flags = VFMIG_STATE_CHUNK_IMAGE_END,
        .len = big,
    };
    testChunk expect[2];
    testWriterArgs a = { 0 };
    GThread *th;
    size_t i;
    int p[2];

    c.data = g_malloc(big);
    for (i = 0; i < big; i++)
        c.data[i] = i * 31 + (i >> 11);
    expect[0] = c;
    expect[0].flags = 0;
    expect[0].len = VFMIG_STATEFILE_CHUNK_MAX;
    expect[1] = c;
    expect[1].data = c.data + VFMIG_STATEFILE_CHUNK_MAX;
    expect[1].len = 1000;

    g_assert_cmpint(pipe(p), ==, 0);
    a.fd = p[1];
    a.chunks = &c;
    a.n = 1;
    th = g_thread_new("writer", testWriterThread, &a);
    testReadCheck(p[0], expect, 2);
    g_thread_join(th);
    g_assert_cmpint(a.ret, ==, 0);
    close(p[0]);
    g_free(c.data);
}


/* Feeds @data to a reader through a pipe; returns what the reader said
 * last (0 at a valid end, -1 on error) and checks that every chunk it
 * handed out is the one written. */
static int
testReadBytes(const guint8 *data, size_t len,
              const testChunk *c, size_t n)
{
    g_autoptr(vfmigStateFileReader) r = NULL;
    vfmigStatePhase phase;
    unsigned int flags;
    const void *payload;
    size_t plen;
    size_t i = 0;
    int p[2];
    int ret;

    g_assert_cmpuint(len, <, 65536);    /* fits in the pipe */
    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_cmpint(write(p[1], data, len), ==, len);
    close(p[1]);

    vfmigResetLastError();
    if (!(r = vfmigStateFileReaderNew(p[0], NULL))) {
        close(p[0]);
        return -1;
    }
    while ((ret = vfmigStateFileReadChunk(r, &phase, &flags,
                                          &payload, &plen)) == 1) {
        g_assert_cmpuint(i, <, n);
        g_assert_cmpint(phase, ==, c[i].phase);
        g_assert_cmpuint(flags, ==, c[i].flags);
        g_assert_cmpmem(payload, plen, c[i].data, c[i].len);
        i++;
    }
    close(p[0]);
    if (ret == 0)
        g_assert_cmpuint(i, ==, n);
    return ret;
}


static testChunk *
testSmallChunks(size_t *n)
{
    static const struct {
        vfmigStatePhase phase;
        unsigned int flags;
        const char *data;
    } def[] = {
        { VFMIG_STATE_PHASE_PRE_COPY, 0, "hello" },
        { VFMIG_STATE_PHASE_PRE_COPY, VFMIG_STATE_CHUNK_IMAGE_END, "" },
        { VFMIG_STATE_PHASE_STOP_COPY, 0, "stop-copy state 17" },
        { VFMIG_STATE_PHASE_STOP_COPY, VFMIG_STATE_CHUNK_IMAGE_END, "x" },
    };
    testChunk *c = g_new0(testChunk, G_N_ELEMENTS(def));
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(def); i++) {
        c[i].phase = def[i].phase;
        c[i].flags = def[i].flags;
        c[i].len = strlen(def[i].data);
        c[i].data = (guint8 *) g_strdup(def[i].data);
    }
    *n = G_N_ELEMENTS(def);
    return c;
}


/* The bytes of a small valid file. */
static GByteArray *
testSmallFile(const testChunk *c, size_t n)
{
    GByteArray *out = g_byte_array_new();
    guint8 buf[4096];
    ssize_t got;
    int p[2];

    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_cmpint(testWriteAll(p[1], c, n), ==, 0);
    close(p[1]);
    while ((got = read(p[0], buf, sizeof(buf))) > 0)
        g_byte_array_append(out, buf, got);
    close(p[0]);
    return out;
}


static void
testValidSmall(void)
{
    size_t n;
    testChunk *c = testSmallChunks(&n);
    g_autoptr(GByteArray) file = testSmallFile(c, n);

    g_assert_cmpuint(file->len, ==,
                     VFMIG_STATEFILE_HEADER_LEN +
                     n * (VFMIG_STATEFILE_CHUNK_HEADER_LEN + VFMIG_STATEFILE_DIGEST_LEN) +
                     5 + 0 + 18 + 1 + VFMIG_STATEFILE_END_LEN);
    g_assert_cmpint(testReadBytes(file->data, file->len, c, n), ==, 0);
    testChunksFree(c, n);
}


static void
testFlipEveryByte(void)
{
    static const guint8 masks[] = { 0x01, 0x80, 0xff };
    size_t n;
    testChunk *c = testSmallChunks(&n);
    g_autoptr(GByteArray) file = testSmallFile(c, n);
    g_autofree guint8 *copy = g_memdup2(file->data, file->len);
    size_t off;
    size_t m;

    for (off = 0; off < file->len; off++) {
        for (m = 0; m < G_N_ELEMENTS(masks); m++) {
            int code;

            copy[off] ^= masks[m];
            if (testReadBytes(copy, file->len, c, n) != -1)
                g_error("flip 0x%02x at offset %zu not detected", masks[m], off);
            code = vfmigGetLastErrorCode();
            if (off >= 8 && off < 12)
                g_assert_cmpint(code, ==, VFMIG_ERR_OPERATION_UNSUPPORTED);
            else
                g_assert_cmpint(code, ==, VFMIG_ERR_DATA_CORRUPT);
            g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "offset"));
            copy[off] ^= masks[m];
        }
    }
    testChunksFree(c, n);
}


static void
testTruncateEveryLength(void)
{
    size_t n;
    testChunk *c = testSmallChunks(&n);
    g_autoptr(GByteArray) file = testSmallFile(c, n);
    size_t len;

    for (len = 0; len < file->len; len++) {
        if (testReadBytes(file->data, len, c, n) != -1)
            g_error("truncation at %zu not detected", len);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_DATA_CORRUPT);
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "offset"));
    }
    /* at a chunk boundary: a missing end record, said so */
    len = file->len - VFMIG_STATEFILE_END_LEN;
    g_assert_cmpint(testReadBytes(file->data, len, c, n), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "without an end record"));
    testChunksFree(c, n);
}


static void
testExpectError(const guint8 *data, size_t len,
                const testChunk *c, size_t n,
                int code, const char *what)
{
    g_assert_cmpint(testReadBytes(data, len, c, n), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, code);
    if (!strstr(vfmigGetLastErrorMessage(), what))
        g_error("'%s' not in '%s'", what, vfmigGetLastErrorMessage());
}


static void
testBadHeader(void)
{
    size_t n;
    testChunk *c = testSmallChunks(&n);
    g_autoptr(GByteArray) file = testSmallFile(c, n);
    g_autofree guint8 *b = NULL;
    size_t chunk0 = VFMIG_STATEFILE_HEADER_LEN;

    b = g_memdup2(file->data, file->len);
    memcpy(b, "QFI\xfb", 4);
    testExpectError(b, file->len, c, n, VFMIG_ERR_DATA_CORRUPT, "bad magic");

    memcpy(b, file->data, file->len);
    b[8] = 2;
    testExpectError(b, file->len, c, n, VFMIG_ERR_OPERATION_UNSUPPORTED,
                    "format version 2");

    memcpy(b, file->data, file->len);
    memset(b + 12, 0xff, 4);
    testExpectError(b, file->len, c, n, VFMIG_ERR_DATA_CORRUPT,
                    "absurd state file header length 4294967295");

    memcpy(b, file->data, file->len);
    b[13] = 2;          /* 512: plausible, wrong for version 1 */
    testExpectError(b, file->len, c, n, VFMIG_ERR_DATA_CORRUPT, "is not 256");

    memcpy(b, file->data, file->len);
    b[100] ^= 1;
    testExpectError(b, file->len, c, n, VFMIG_ERR_DATA_CORRUPT, "header digest mismatch");

    /* absurd chunk length: refused before allocating or reading it */
    memcpy(b, file->data, file->len);
    memset(b + chunk0 + 8, 0xff, 4);
    testExpectError(b, file->len, c, n, VFMIG_ERR_DATA_CORRUPT,
                    "absurd chunk payload length 4294967295 at byte offset 264");

    memcpy(b, file->data, file->len);
    memcpy(b + chunk0, "JUNK", 4);
    testExpectError(b, file->len, c, n, VFMIG_ERR_DATA_CORRUPT,
                    "bad record magic at byte offset 256");

    memcpy(b, file->data, file->len);
    b[chunk0 + VFMIG_STATEFILE_CHUNK_HEADER_LEN] ^= 0x20;
    testExpectError(b, file->len, c, n, VFMIG_ERR_DATA_CORRUPT,
                    "state chunk 0 at byte offset 256 (5 payload bytes): digest mismatch");

    memcpy(b, file->data, file->len);
    b[file->len - 1] ^= 1;
    testExpectError(b, file->len, c, n, VFMIG_ERR_DATA_CORRUPT, "stream digest (over the chunk digests) mismatch");

    testChunksFree(c, n);
}


static void
testIdentityRoundTrip(void)
{
    vfmigStateIdentity id = {
        .driver = "vfio-pci",
        .precopyMode = VFMIG_STATE_PRECOPY_NONE,
        .migrationFlags = VFIO_MIGRATION_STOP_COPY,
        .sizeHint = VFMIG_STATEFILE_SIZE_UNKNOWN,
    };
    g_autoptr(vfmigStateFileWriter) w = NULL;
    g_autoptr(vfmigStateFileReader) r = NULL;
    const vfmigStateIdentity *got;
    vfmigStatePhase phase;
    unsigned int flags;
    const void *payload;
    size_t len;
    int p[2];

    g_assert_cmpint(pipe(p), ==, 0);
    w = vfmigStateFileWriterNew(p[1], &id, NULL);
    g_assert_nonnull(w);
    /* no pre-copy declared: pre-copy data refused */
    g_assert_cmpint(vfmigStateFileWriteChunk(w, VFMIG_STATE_PHASE_PRE_COPY, 0,
                                             "a", 1), ==, -1);
    g_assert_cmpint(vfmigStateFileWriteChunk(w, VFMIG_STATE_PHASE_STOP_COPY, 0,
                                             "abc", 3), ==, 0);
    g_assert_cmpint(vfmigStateFileWriterFinish(w), ==, 0);
    g_assert_cmpint(vfmigStateFileWriteChunk(w, VFMIG_STATE_PHASE_STOP_COPY, 0,
                                             "a", 1), ==, -1);
    g_assert_cmpint(vfmigStateFileWriterFinish(w), ==, -1);
    close(p[1]);

    r = vfmigStateFileReaderNew(p[0], NULL);
    g_assert_nonnull(r);
    got = vfmigStateFileReaderGetIdentity(r);
    g_assert_cmpstr(got->driver, ==, "vfio-pci");
    g_assert_false(got->havePciIds);
    g_assert_null(got->firmware);
    g_assert_false(got->haveStreamVersion);
    g_assert_cmpuint(got->migrationFlags, ==, VFIO_MIGRATION_STOP_COPY);
    g_assert_cmpint(got->precopyMode, ==, VFMIG_STATE_PRECOPY_NONE);
    g_assert_false(got->multiLoad);
    g_assert_cmpuint(got->sizeHint, ==, VFMIG_STATEFILE_SIZE_UNKNOWN);
    g_assert_cmpint(vfmigStateFileReadChunk(r, &phase, &flags, &payload, &len), ==, 1);
    g_assert_cmpmem(payload, len, "abc", 3);
    g_assert_cmpint(vfmigStateFileReadChunk(r, &phase, &flags, &payload, &len), ==, 0);
    close(p[0]);
}


static void
testWriterRules(void)
{
    vfmigStateIdentity id = testIdentity();
    g_autoptr(vfmigStateFileWriter) w = NULL;
    g_autofree char *longName = g_strnfill(64, 'a');
    int p[2];

    g_assert_cmpint(pipe(p), ==, 0);

    id.driver = longName;
    g_assert_null(vfmigStateFileWriterNew(p[1], &id, NULL));
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    id.driver = "";
    g_assert_null(vfmigStateFileWriterNew(p[1], &id, NULL));
    id.driver = "mlx5_vfio_pci";
    id.precopyMode = VFMIG_STATE_PRECOPY_LAST;
    g_assert_null(vfmigStateFileWriterNew(p[1], &id, NULL));
    id.precopyMode = VFMIG_STATE_PRECOPY_SINGLE;

    w = vfmigStateFileWriterNew(p[1], &id, NULL);
    g_assert_nonnull(w);
    g_assert_cmpint(vfmigStateFileWriteChunk(w, 3, 0, "a", 1), ==, -1);
    g_assert_cmpint(vfmigStateFileWriteChunk(w, VFMIG_STATE_PHASE_STOP_COPY,
                                             0x80, "a", 1), ==, -1);
    g_assert_cmpint(vfmigStateFileWriteChunk(w, VFMIG_STATE_PHASE_STOP_COPY,
                                             0, NULL, 1), ==, -1);
    g_assert_cmpint(vfmigStateFileWriteChunk(w, VFMIG_STATE_PHASE_STOP_COPY,
                                             0, "a", 1), ==, 0);
    g_assert_cmpint(vfmigStateFileWriteChunk(w, VFMIG_STATE_PHASE_PRE_COPY,
                                             0, "a", 1), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OPERATION_INVALID);

    /* the reader went away: EPIPE, and the writer stays failed */
    close(p[0]);
    g_assert_cmpint(vfmigStateFileWriteChunk(w, VFMIG_STATE_PHASE_STOP_COPY,
                                             0, "a", 1), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_SYSTEM_ERROR);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "byte offset"));
    g_assert_cmpint(vfmigStateFileWriterFinish(w), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "failed earlier"));
    close(p[1]);
}


/* A writer that stops without Finish leaves a stream the reader refuses;
 * a reader stops at the end record and leaves what follows. */
static void
testEndRecord(void)
{
    vfmigStateIdentity id = testIdentity();
    vfmigStatePhase phase;
    unsigned int flags;
    const void *payload;
    size_t len;
    char after[8] = { 0 };
    int p[2];

    g_assert_cmpint(pipe(p), ==, 0);
    {
        g_autoptr(vfmigStateFileWriter) w = vfmigStateFileWriterNew(p[1], &id, NULL);
        g_assert_cmpint(vfmigStateFileWriteChunk(w, VFMIG_STATE_PHASE_STOP_COPY,
                                                 0, "abc", 3), ==, 0);
    }
    close(p[1]);
    {
        g_autoptr(vfmigStateFileReader) r = vfmigStateFileReaderNew(p[0], NULL);
        g_assert_cmpint(vfmigStateFileReadChunk(r, &phase, &flags, &payload, &len), ==, 1);
        g_assert_cmpint(vfmigStateFileReadChunk(r, &phase, &flags, &payload, &len), ==, -1);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_DATA_CORRUPT);
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(),
                                "ends at byte offset 315 after 1 chunks without an end record"));
        /* the reader stays failed */
        g_assert_cmpint(vfmigStateFileReadChunk(r, &phase, &flags, &payload, &len), ==, -1);
    }
    close(p[0]);

    g_assert_cmpint(pipe(p), ==, 0);
    {
        g_autoptr(vfmigStateFileWriter) w = vfmigStateFileWriterNew(p[1], &id, NULL);
        g_assert_cmpint(vfmigStateFileWriterFinish(w), ==, 0);
        g_assert_cmpuint(vfmigStateFileWriterGetOffset(w), ==,
                         VFMIG_STATEFILE_HEADER_LEN + VFMIG_STATEFILE_END_LEN);
    }
    g_assert_cmpint(write(p[1], "more", 4), ==, 4);
    close(p[1]);
    {
        g_autoptr(vfmigStateFileReader) r = vfmigStateFileReaderNew(p[0], NULL);
        g_assert_cmpint(vfmigStateFileReadChunk(r, &phase, &flags, &payload, &len), ==, 0);
    }
    g_assert_cmpint(read(p[0], after, sizeof(after)), ==, 4);
    g_assert_cmpstr(after, ==, "more");
    close(p[0]);
}


static void
testExpectMismatch(const vfmigStateIdentity *file,
                   const vfmigStateIdentity *dst,
                   const char *what)
{
    vfmigResetLastError();
    g_assert_cmpint(vfmigStateIdentityCheckCompatible(file, dst), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OPERATION_UNSUPPORTED);
    if (!strstr(vfmigGetLastErrorMessage(), what))
        g_error("'%s' not in '%s'", what, vfmigGetLastErrorMessage());
}


static void
testIdentityMismatch(void)
{
    vfmigStateIdentity file = testIdentity();
    vfmigStateIdentity dst = testIdentity();

    g_assert_cmpint(vfmigStateIdentityCheckCompatible(&file, &dst), ==, 0);

    dst.driver = "vfio-pci";
    testExpectMismatch(&file, &dst,
                       "driver 'mlx5_vfio_pci' cannot be loaded by driver 'vfio-pci'");
    dst = testIdentity();

    dst.pciDevice = 0x101f;
    testExpectMismatch(&file, &dst,
                       "PCI device 15b3:101e cannot be loaded by PCI device 15b3:101f");
    dst.havePciIds = false;     /* unknown on one side: not compared */
    g_assert_cmpint(vfmigStateIdentityCheckCompatible(&file, &dst), ==, 0);
    dst = testIdentity();

    dst.firmware = "22.40.1000";
    testExpectMismatch(&file, &dst,
                       "firmware '22.39.1002' cannot be loaded with firmware '22.40.1000'");
    dst.firmware = NULL;
    g_assert_cmpint(vfmigStateIdentityCheckCompatible(&file, &dst), ==, 0);
    dst = testIdentity();

    dst.streamVersion = 4;
    testExpectMismatch(&file, &dst, "stream version 3 cannot be loaded");
    dst = testIdentity();

    dst.multiLoad = false;
    testExpectMismatch(&file, &dst, "cannot load more than one");
    file.precopyMode = VFMIG_STATE_PRECOPY_SINGLE;
    g_assert_cmpint(vfmigStateIdentityCheckCompatible(&file, &dst), ==, 0);
}


static volatile sig_atomic_t testAlarms;


static void
testOnAlarm(int sig G_GNUC_UNUSED)
{
    testAlarms++;
}


/* Byte-by-byte writes with pauses give short reads; a 1 ms timer without
 * SA_RESTART interrupts the reader's blocking read() with EINTR. */
static void
testEintrShortReads(void)
{
    size_t n;
    testChunk *c = testSmallChunks(&n);
    g_autoptr(GByteArray) file = testSmallFile(c, n);
    struct sigaction sa = { 0 };
    struct sigaction old;
    struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
    struct itimerval stop = { { 0, 0 }, { 0, 0 } };
    testWriterArgs a = { 0 };
    GThread *th;
    int p[2];

    sa.sa_handler = testOnAlarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;            /* no SA_RESTART */
    g_assert_cmpint(sigaction(SIGALRM, &sa, &old), ==, 0);

    g_assert_cmpint(pipe(p), ==, 0);
    a.fd = p[1];
    a.raw = file->data;
    a.rawLen = file->len;
    testAlarms = 0;
    th = g_thread_new("writer", testWriterThread, &a);
    g_assert_cmpint(setitimer(ITIMER_REAL, &it, NULL), ==, 0);
    testReadCheck(p[0], c, n);
    g_thread_join(th);
    g_assert_cmpint(a.ret, ==, 0);
    close(p[0]);

    /* and the writer: a 4 MiB chunk into a pipe, the main thread
     * writing with the timer firing, a thread reading */
    {
        testChunk big = {
            .phase = VFMIG_STATE_PHASE_STOP_COPY,
            .len = 4 * 1024 * 1024,
        };
        testReaderArgs ra = { 0 };
        GThread *rth;
        int q[2];

        big.data = g_malloc0(big.len);
        big.data[12345] = 7;
        g_assert_cmpint(pipe(q), ==, 0);
        ra.fd = q[0];
        ra.chunks = &big;
        ra.n = 1;
        rth = g_thread_new("reader", testReaderThread, &ra);
        g_assert_cmpint(testWriteAll(q[1], &big, 1), ==, 0);
        close(q[1]);
        g_thread_join(rth);
        close(q[0]);
        g_free(big.data);
    }

    g_assert_cmpint(setitimer(ITIMER_REAL, &stop, NULL), ==, 0);
    g_assert_cmpint(sigaction(SIGALRM, &old, NULL), ==, 0);
    g_assert_cmpint(testAlarms, >, 0);
    testChunksFree(c, n);
}


int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/statefile/round-trip-pipe", testRoundTripPipe);
    g_test_add_func("/statefile/round-trip-socket-nonblock", testRoundTripSocket);
    g_test_add_func("/statefile/split", testSplit);
    g_test_add_func("/statefile/valid-small", testValidSmall);
    g_test_add_func("/statefile/flip-every-byte", testFlipEveryByte);
    g_test_add_func("/statefile/truncate-every-length", testTruncateEveryLength);
    g_test_add_func("/statefile/bad-header", testBadHeader);
    g_test_add_func("/statefile/identity-round-trip", testIdentityRoundTrip);
    g_test_add_func("/statefile/writer-rules", testWriterRules);
    g_test_add_func("/statefile/end-record", testEndRecord);
    g_test_add_func("/statefile/identity-mismatch", testIdentityMismatch);
    g_test_add_func("/statefile/eintr-short-reads", testEintrShortReads);
    return g_test_run();
}
