/*
 * vm-mlx5-stream.c: the record stream of mlx5_vfio_pci, saved from and
 * loaded into a device, checked against the upstream framing, and bent
 * into the streams its loader must accept or refuse
 *
 * Usage: vm-mlx5-stream save BDF FILE
 *        vm-mlx5-stream check FILE
 *        vm-mlx5-stream load BDF FILE [--split N] [--expect-errno E]
 *                       [--expect-apply-errno E]
 *        vm-mlx5-stream make-variant IN OUT KIND
 *        vm-mlx5-stream arc BDF TO --expect-errno E --after STATE
 *        vm-mlx5-stream selftest
 *        vm-mlx5-stream --plan save|check|load|arc|selftest
 *        vm-mlx5-stream --plan make-variant KIND
 *
 * The framing is upstream Linux's since 6.3: records of a 16-byte
 * little-endian header { u64 record_size (payload bytes), u32 flags (bit 0
 * OPTIONAL), u32 tag (0 FW_DATA: one firmware image, 1 STOP_COPY_SIZE: a
 * u64 LE payload) } and then the payload.  A save stream starts with
 * STOP_COPY_SIZE (flags OPTIONAL, 8 bytes, a multiple of 4096) and goes on
 * with FW_DATA records (flags 0).
 *
 * save: RUNNING -> STOP (prints the model's digest) -> STOP_COPY, reads the
 *   whole stream into FILE (a temporary file renamed when complete), then
 *   STOP -> RUNNING.
 * check: FILE against the framing, one diagnostic line per record.
 * load: RUNNING -> STOP -> RESUMING, FILE in writes of N bytes (default:
 *   one write), RESUMING -> STOP -> RUNNING, or VFIO_DEVICE_RESET when
 *   RESUMING -> STOP failed as --expect-apply-errno wanted; prints the
 *   model's digest after.  E is a name (EINVAL, ENOMEM, EOPNOTSUPP, ...)
 *   or a number.
 * arc: after a reset, RUNNING -> TO must fail with E (a firmware fault
 *   armed by the caller) and leave the device in STATE; a reset then
 *   brings it back to RUNNING and RUNNING -> STOP -> RUNNING works.
 * make-variant: from a valid save stream IN, OUT is
 *   optional-unknown   a record tag 0x7f, flags OPTIONAL, 13 payload bytes
 *                      after the first record (a loader skips it)
 *   mandatory-unknown  the same with flags 0 (EOPNOTSUPP)
 *   huge               a FW_DATA header with record_size 2^32 after the
 *                      first record, then IN's other records (ENOMEM)
 *   truncated          IN without its last 100 bytes, which must lie in
 *                      the last image (RESUMING -> STOP: EINVAL)
 *   no-image           the first record only (RESUMING -> STOP: EINVAL)
 *   no-stop-copy-size  IN without its first record (accepted)
 *   golden             written from the spec: STOP_COPY_SIZE 8 MiB, then
 *                      IN's FW_DATA payloads with headers written afresh;
 *                      checks that these records are byte-identical to
 *                      IN's and says whether the whole file is
 * selftest: the parser, check and every variant on streams built in
 *   memory, and the file reading bound (meson's unit suite runs it).
 *
 * Every command prints TAP and exits 0 when every check passed, 1 when
 * one failed, 2 on a usage error.  --plan prints a command's number of
 * checks.  No file is read beyond 1 GiB and no stream longer than that is
 * saved.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vm-testlib.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigfsm.h"

#define MS_HDR_LEN 16
#define MS_MAX_STREAM ((gsize) 1 << 30)
#define MS_TAG_FW_DATA 0u
#define MS_TAG_STOP_COPY_SIZE 1u
#define MS_REC_OPTIONAL 1u
#define MS_PAGE 4096u
#define MS_GOLDEN_STOP_COPY_SIZE (8u * 1024 * 1024)
#define MS_UNKNOWN_TAG 0x7fu
#define MS_UNKNOWN_LEN 13
#define MS_HUGE_SIZE ((guint64) 1 << 32)
#define MS_TRUNCATE 100
/* the first record of a save stream: a header and a u64 */
#define MS_FIRST_LEN (MS_HDR_LEN + 8)
#define MS_CHUNK (1024 * 1024)
#define MS_MAX_AGAIN 100
#define MS_DIGEST_FILE "vfmig_mlx5model/digest"

#define MS_CHECK_N 4
#define MS_SAVE_N 5
#define MS_LOAD_N 7
#define MS_ARC_N 3
#define MS_VARIANT_N 2
#define MS_GOLDEN_N 3

typedef struct {
    guint64 offset;     /* of the header */
    guint64 size;       /* record_size: the payload's bytes */
    guint32 flags;
    guint32 tag;
} msRecord;

/* The checks of `check`, on a stream in memory. */
typedef struct {
    GArray *records;    /* msRecord: every whole header found */
    bool ok[MS_CHECK_N];
    char *msg[MS_CHECK_N];
} msCheckResult;

static const char *const msVariants[] = {
    "optional-unknown", "mandatory-unknown", "huge", "truncated",
    "no-image", "no-stop-copy-size", "golden",
};


static guint64
msGet64(const guint8 *p)
{
    guint64 v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}


static guint32
msGet32(const guint8 *p)
{
    return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 |
           (guint32) p[3] << 24;
}


/* Appends a record header, written from the spec. */
static void
msPutHeader(GByteArray *out, guint64 size, guint32 flags, guint32 tag)
{
    guint8 hdr[MS_HDR_LEN];
    int i;

    for (i = 0; i < 8; i++)
        hdr[i] = (size >> (8 * i)) & 0xff;
    for (i = 0; i < 4; i++) {
        hdr[8 + i] = (flags >> (8 * i)) & 0xff;
        hdr[12 + i] = (tag >> (8 * i)) & 0xff;
    }
    g_byte_array_append(out, hdr, sizeof(hdr));
}


static void
msPutStopCopySize(GByteArray *out, guint64 value)
{
    guint8 v[8];
    int i;

    for (i = 0; i < 8; i++)
        v[i] = (value >> (8 * i)) & 0xff;
    msPutHeader(out, sizeof(v), MS_REC_OPTIONAL, MS_TAG_STOP_COPY_SIZE);
    g_byte_array_append(out, v, sizeof(v));
}


static const char *
msTagName(guint32 tag)
{
    switch (tag) {
    case MS_TAG_FW_DATA:
        return "FW_DATA";
    case MS_TAG_STOP_COPY_SIZE:
        return "STOP_COPY_SIZE";
    default:
        return "unknown";
    }
}


/*
 * Splits @buf into records.  Returns true when they end exactly at its
 * end; false with *@why when a header or a payload is cut (the record
 * whose payload is cut is in @records all the same).
 */
static bool
msParse(const guint8 *buf, gsize len, GArray *records, char **why)
{
    gsize off = 0;

    while (off < len) {
        msRecord r;

        if (len - off < MS_HDR_LEN) {
            *why = g_strdup_printf("the stream ends %zu bytes into the record "
                                   "header at offset %zu (headers are %d bytes)",
                                   len - off, off, MS_HDR_LEN);
            return false;
        }
        r.offset = off;
        r.size = msGet64(buf + off);
        r.flags = msGet32(buf + off + 8);
        r.tag = msGet32(buf + off + 12);
        g_array_append_val(records, r);
        if (r.size > len - off - MS_HDR_LEN) {
            *why = g_strdup_printf("the record at offset %zu (tag %u) claims %llu "
                                   "payload bytes, the stream has %zu after its "
                                   "header", off, r.tag,
                                   (unsigned long long) r.size,
                                   len - off - MS_HDR_LEN);
            return false;
        }
        off += MS_HDR_LEN + r.size;
    }
    return true;
}


static void
msCheckResultClear(msCheckResult *res)
{
    int i;

    if (res->records)
        g_array_unref(res->records);
    for (i = 0; i < MS_CHECK_N; i++)
        g_free(res->msg[i]);
    memset(res, 0, sizeof(*res));
}


/*
 * The four checks of a save stream: the records end at EOF; the first is
 * STOP_COPY_SIZE with flags OPTIONAL and 8 bytes; its value is a positive
 * multiple of 4096; every other one (at least one) is FW_DATA with flags 0
 * and a payload.
 */
static void
msCheckStream(const guint8 *buf, gsize len, msCheckResult *res)
{
    g_autofree char *why = NULL;
    const msRecord *first = NULL;
    guint i;

    memset(res, 0, sizeof(*res));
    res->records = g_array_new(false, true, sizeof(msRecord));

    res->ok[0] = msParse(buf, len, res->records, &why);
    if (res->ok[0])
        res->msg[0] = g_strdup_printf("%zu bytes: %u records that end exactly "
                                      "at the end of the stream", len,
                                      res->records->len);
    else
        res->msg[0] = g_strdup_printf("%zu bytes: %s", len, why);

    if (res->records->len > 0)
        first = &g_array_index(res->records, msRecord, 0);
    if (!first) {
        res->msg[1] = g_strdup("the first record is STOP_COPY_SIZE: the stream "
                               "has no record");
        res->msg[2] = g_strdup("STOP_COPY_SIZE's value: no record");
    } else {
        res->ok[1] = first->tag == MS_TAG_STOP_COPY_SIZE &&
                     first->flags == MS_REC_OPTIONAL && first->size == 8;
        res->msg[1] = g_strdup_printf("the first record is tag %u (%s), flags "
                                      "0x%x, record_size %llu (want "
                                      "STOP_COPY_SIZE, flags 0x1 OPTIONAL, 8)",
                                      first->tag, msTagName(first->tag),
                                      first->flags,
                                      (unsigned long long) first->size);
        if (!res->ok[1] || len < MS_FIRST_LEN) {
            res->msg[2] = g_strdup("STOP_COPY_SIZE's value: the first record "
                                   "is no whole STOP_COPY_SIZE");
        } else {
            guint64 value = msGet64(buf + MS_HDR_LEN);

            res->ok[2] = value > 0 && value % MS_PAGE == 0;
            res->msg[2] = g_strdup_printf("STOP_COPY_SIZE's value %llu is %s "
                                          "multiple of %u",
                                          (unsigned long long) value,
                                          res->ok[2] ? "a positive" :
                                          "not a positive", MS_PAGE);
        }
    }

    if (res->records->len < 2) {
        res->msg[3] = g_strdup("the records after the first are FW_DATA: "
                               "there is none");
        return;
    }
    res->ok[3] = true;
    for (i = 1; i < res->records->len; i++) {
        const msRecord *r = &g_array_index(res->records, msRecord, i);

        if (r->tag != MS_TAG_FW_DATA || r->flags != 0 || r->size == 0) {
            res->ok[3] = false;
            res->msg[3] = g_strdup_printf("record %u at offset %llu is tag %u "
                                          "(%s), flags 0x%x, record_size %llu: "
                                          "want FW_DATA, flags 0, a payload",
                                          i, (unsigned long long) r->offset,
                                          r->tag, msTagName(r->tag), r->flags,
                                          (unsigned long long) r->size);
            return;
        }
    }
    res->msg[3] = g_strdup_printf("every record after the first (%u) is "
                                  "FW_DATA with flags 0 and a payload",
                                  res->records->len - 1);
}


static bool
msCheckAllOk(const msCheckResult *res)
{
    int i;

    for (i = 0; i < MS_CHECK_N; i++) {
        if (!res->ok[i])
            return false;
    }
    return true;
}


static const char *
msCheckFirstFailure(const msCheckResult *res)
{
    int i;

    for (i = 0; i < MS_CHECK_N; i++) {
        if (!res->ok[i])
            return res->msg[i];
    }
    return "none";
}


/*
 * OUT of make-variant @kind from the valid save stream @in.  Returns 0
 * with *@what describing it (and, for golden, *@fwSame and *@allSame
 * set), or -1 with *@why.
 */
static int
msMakeVariant(const guint8 *in,
              gsize len,
              const char *kind,
              GByteArray *out,
              char **what,
              bool *fwSame,
              bool *allSame,
              char **why)
{
    msCheckResult res;
    const msRecord *last;
    guint8 unknown[MS_UNKNOWN_LEN];
    guint i;

    msCheckStream(in, len, &res);
    if (!msCheckAllOk(&res)) {
        *why = g_strdup_printf("the input is not a valid save stream: %s",
                               msCheckFirstFailure(&res));
        msCheckResultClear(&res);
        return -1;
    }
    last = &g_array_index(res.records, msRecord, res.records->len - 1);
    for (i = 0; i < MS_UNKNOWN_LEN; i++)
        unknown[i] = 0xa0 + i;

    g_byte_array_set_size(out, 0);
    if (strcmp(kind, "optional-unknown") == 0 ||
        strcmp(kind, "mandatory-unknown") == 0) {
        guint32 flags = kind[0] == 'o' ? MS_REC_OPTIONAL : 0;

        g_byte_array_append(out, in, MS_FIRST_LEN);
        msPutHeader(out, MS_UNKNOWN_LEN, flags, MS_UNKNOWN_TAG);
        g_byte_array_append(out, unknown, MS_UNKNOWN_LEN);
        g_byte_array_append(out, in + MS_FIRST_LEN, len - MS_FIRST_LEN);
        *what = g_strdup_printf("a record tag 0x%x, flags 0x%x, %d bytes "
                                "inserted at offset %d", MS_UNKNOWN_TAG, flags,
                                MS_UNKNOWN_LEN, MS_FIRST_LEN);
    } else if (strcmp(kind, "huge") == 0) {
        g_byte_array_append(out, in, MS_FIRST_LEN);
        msPutHeader(out, MS_HUGE_SIZE, 0, MS_TAG_FW_DATA);
        g_byte_array_append(out, in + MS_FIRST_LEN, len - MS_FIRST_LEN);
        *what = g_strdup_printf("a FW_DATA header with record_size %llu "
                                "inserted at offset %d",
                                (unsigned long long) MS_HUGE_SIZE, MS_FIRST_LEN);
    } else if (strcmp(kind, "truncated") == 0) {
        if (last->size <= MS_TRUNCATE) {
            *why = g_strdup_printf("the last image (offset %llu) has %llu bytes: "
                                   "cutting %d would not end inside it",
                                   (unsigned long long) last->offset,
                                   (unsigned long long) last->size, MS_TRUNCATE);
            msCheckResultClear(&res);
            return -1;
        }
        g_byte_array_append(out, in, len - MS_TRUNCATE);
        *what = g_strdup_printf("cut %d bytes before the end, inside the last "
                                "image (%llu bytes at offset %llu)", MS_TRUNCATE,
                                (unsigned long long) last->size,
                                (unsigned long long) last->offset);
    } else if (strcmp(kind, "no-image") == 0) {
        g_byte_array_append(out, in, MS_FIRST_LEN);
        *what = g_strdup("the STOP_COPY_SIZE record only");
    } else if (strcmp(kind, "no-stop-copy-size") == 0) {
        g_byte_array_append(out, in + MS_FIRST_LEN, len - MS_FIRST_LEN);
        *what = g_strdup_printf("the first record dropped: %u FW_DATA records",
                                res.records->len - 1);
    } else if (strcmp(kind, "golden") == 0) {
        msPutStopCopySize(out, MS_GOLDEN_STOP_COPY_SIZE);
        for (i = 1; i < res.records->len; i++) {
            const msRecord *r = &g_array_index(res.records, msRecord, i);

            msPutHeader(out, r->size, 0, MS_TAG_FW_DATA);
            g_byte_array_append(out, in + r->offset + MS_HDR_LEN, r->size);
        }
        *fwSame = out->len == len &&
                  memcmp(out->data + MS_FIRST_LEN, in + MS_FIRST_LEN,
                         len - MS_FIRST_LEN) == 0;
        *allSame = *fwSame && memcmp(out->data, in, MS_FIRST_LEN) == 0;
        *what = g_strdup_printf("STOP_COPY_SIZE %u, then %u FW_DATA records "
                                "framed afresh", MS_GOLDEN_STOP_COPY_SIZE,
                                res.records->len - 1);
    } else {
        *why = g_strdup_printf("unknown variant '%s'", kind);
        msCheckResultClear(&res);
        return -1;
    }
    msCheckResultClear(&res);
    return 0;
}


static bool
msKnownVariant(const char *kind)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(msVariants); i++) {
        if (strcmp(kind, msVariants[i]) == 0)
            return true;
    }
    return false;
}


/* FILE, at most @maxLen bytes; NULL with *@why. */
static GBytes *
msReadFile(const char *path, gsize maxLen, char **why)
{
    char *data = NULL;
    size_t len = 0;

    vfmigResetLastError();
    if (vfmigFileRead("stream file", path, maxLen, 0, &data, &len) < 0) {
        *why = g_strdup(vmLastError());
        return NULL;
    }
    return g_bytes_new_take(data, len);
}


static const struct {
    const char *name;
    int value;
} msErrnos[] = {
    { "EINVAL", EINVAL }, { "ENOMEM", ENOMEM }, { "EOPNOTSUPP", EOPNOTSUPP },
    { "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EFBIG", EFBIG },
    { "E2BIG", E2BIG }, { "EPROTO", EPROTO }, { "EBADMSG", EBADMSG },
    { "ENODEV", ENODEV }, { "ENOTTY", ENOTTY }, { "EREMOTEIO", EREMOTEIO },
    { "ENOTCONN", ENOTCONN }, { "EAGAIN", EAGAIN }, { "EFAULT", EFAULT },
};


static int
msParseErrno(const char *str)
{
    guint64 v;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(msErrnos); i++) {
        if (strcmp(str, msErrnos[i].name) == 0)
            return msErrnos[i].value;
    }
    if (g_ascii_string_to_unsigned(str, 10, 1, 4095, &v, NULL))
        return (int) v;
    return -1;
}


static const char *
msErrnoName(int err)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(msErrnos); i++) {
        if (msErrnos[i].value == err)
            return msErrnos[i].name;
    }
    return "errno";
}


/* ---------- check -------------------------------------------------------- */

static int
msCmdCheck(const char *path)
{
    g_autoptr(GBytes) bytes = NULL;
    g_autofree char *why = NULL;
    msCheckResult res;
    vmTap tap = { 0 };
    const guint8 *buf;
    gsize len;
    guint i;

    vmTapPlan(&tap, MS_CHECK_N);
    if (!(bytes = msReadFile(path, MS_MAX_STREAM, &why))) {
        vmTapCheck(&tap, false, "read %s: %s", path, why);
        vmTapFillTo(&tap, MS_CHECK_N, "the file could not be read");
        return vmTapDone(&tap);
    }
    buf = g_bytes_get_data(bytes, &len);
    msCheckStream(buf, len, &res);
    for (i = 0; i < res.records->len; i++) {
        const msRecord *r = &g_array_index(res.records, msRecord, i);

        vmTapDiag("record %u: offset %llu, tag %u (%s), flags 0x%x, "
                  "record_size %llu", i, (unsigned long long) r->offset, r->tag,
                  msTagName(r->tag), r->flags, (unsigned long long) r->size);
    }
    for (i = 0; i < MS_CHECK_N; i++)
        vmTapCheck(&tap, res.ok[i], "%s: %s", path, res.msg[i]);
    msCheckResultClear(&res);
    return vmTapDone(&tap);
}


/* ---------- make-variant -------------------------------------------------- */

static int
msCmdMakeVariant(const char *inPath, const char *outPath, const char *kind)
{
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autofree char *why = NULL;
    g_autofree char *what = NULL;
    bool golden = strcmp(kind, "golden") == 0;
    bool fwSame = false;
    bool allSame = false;
    vmTap tap = { 0 };
    const guint8 *buf;
    gsize len;
    int plan = golden ? MS_GOLDEN_N : MS_VARIANT_N;

    vmTapPlan(&tap, plan);
    if (!(bytes = msReadFile(inPath, MS_MAX_STREAM, &why))) {
        vmTapCheck(&tap, false, "read %s: %s", inPath, why);
        vmTapFillTo(&tap, plan, "the input could not be read");
        return vmTapDone(&tap);
    }
    buf = g_bytes_get_data(bytes, &len);
    if (msMakeVariant(buf, len, kind, out, &what, &fwSame, &allSame, &why) < 0) {
        vmTapCheck(&tap, false, "%s: %s variant of %s: %s", outPath, kind,
                   inPath, why);
        vmTapFillTo(&tap, plan, "no variant was made");
        return vmTapDone(&tap);
    }
    vmTapCheck(&tap, true, "%s (%zu bytes) is a valid save stream", inPath, len);

    vfmigResetLastError();
    if (vfmigFileReplace(outPath, out->data, out->len, 0644) < 0) {
        vmTapCheck(&tap, false, "%s: writing the %s variant: %s", outPath, kind,
                   vmLastError());
        vmTapFillTo(&tap, plan, "the variant was not written");
        return vmTapDone(&tap);
    }
    vmTapCheck(&tap, true, "%s: %s variant, %u bytes: %s", outPath, kind,
               out->len, what);
    if (golden) {
        vmTapCheck(&tap, fwSame, "the FW_DATA records written from the spec "
                   "are %sbyte-identical to those of %s (offsets %d to %zu)",
                   fwSame ? "" : "NOT ", inPath, MS_FIRST_LEN, len);
        vmTapDiag("the whole golden stream is %sbyte-identical to %s "
                  "(its STOP_COPY_SIZE is %llu, the golden one %u)",
                  allSame ? "" : "not ", inPath,
                  (unsigned long long) msGet64(buf + MS_HDR_LEN),
                  MS_GOLDEN_STOP_COPY_SIZE);
    }
    return vmTapDone(&tap);
}


/* ---------- the device ---------------------------------------------------- */

/*
 * SET @state, then GET: true when it succeeded, read back @state and
 * returned a data fd exactly when @wantFd (kept in *@dataFd).
 */
static bool
msMove(vfmigVFIO *vfio, uint32_t state, bool wantFd, int *dataFd, char **why)
{
    uint32_t after = VFIO_DEVICE_STATE_ERROR;
    int fd = -1;

    vfmigResetLastError();
    if (vfmigVFIOSetState(vfio, state, &fd) < 0) {
        *why = g_strdup_printf("-> %s failed: %s", vmStateName(state),
                               vmLastError());
        return false;
    }
    if (vfmigVFIOGetState(vfio, &after) < 0) {
        *why = g_strdup_printf("GET after -> %s failed: %s", vmStateName(state),
                               vmLastError());
    } else if (after != state) {
        *why = g_strdup_printf("-> %s succeeded, but the device reads back %s",
                               vmStateName(state), vmStateName(after));
    } else if (wantFd != (fd >= 0)) {
        *why = g_strdup_printf("-> %s %s a data fd", vmStateName(state),
                               fd >= 0 ? "returned" : "did not return");
    } else {
        *dataFd = fd;
        return true;
    }
    if (fd >= 0)
        close(fd);
    return false;
}


static void
msClose(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}


/* The model's digest: 64 hex digits, or NULL with *@why. */
static char *
msDigest(const char *bdf, char **why)
{
    g_autofree char *digest = vmSysfsGet(bdf, MS_DIGEST_FILE);
    size_t i;

    if (!digest) {
        *why = g_strdup_printf("%s of %s is unreadable: %s", MS_DIGEST_FILE, bdf,
                               g_strerror(errno));
        return NULL;
    }
    for (i = 0; digest[i]; i++) {
        if (!g_ascii_isxdigit(digest[i]) || g_ascii_isupper(digest[i]))
            break;
    }
    if (i != 64 || digest[i]) {
        *why = g_strdup_printf("%s of %s is '%s', not 64 lower-case hex digits",
                               MS_DIGEST_FILE, bdf, digest);
        return NULL;
    }
    return g_steal_pointer(&digest);
}


/* Reads the session on @dataFd to its end into @fd; bytes, or -1. */
static gssize
msSaveTo(const char *bdf, int dataFd, int fd, const char *tmpName, char **why)
{
    g_autofree guint8 *buf = g_new(guint8, MS_CHUNK);
    gsize total = 0;
    int again = 0;

    for (;;) {
        vfmigDataStatus status = VFMIG_DATA_OK;
        ssize_t n = vfmigVFIODataRead(bdf, dataFd, buf, MS_CHUNK, false,
                                      &status);
        ssize_t w;
        ssize_t done = 0;

        if (n < 0) {
            *why = g_strdup_printf("reading the stream after %zu bytes: %s",
                                   total, vmLastError());
            return -1;
        }
        if (status == VFMIG_DATA_END)
            return total;
        if (status == VFMIG_DATA_AGAIN) {
            if (++again > MS_MAX_AGAIN) {
                *why = g_strdup_printf("no end of the stream after %zu bytes and "
                                       "%d waits of 100 ms", total, MS_MAX_AGAIN);
                return -1;
            }
            if (vfmigVFIODataWait(bdf, dataFd, 100) < 0) {
                *why = g_strdup_printf("waiting for the stream: %s",
                                       vmLastError());
                return -1;
            }
            continue;
        }
        again = 0;
        if ((gsize) n > MS_MAX_STREAM - total) {
            *why = g_strdup_printf("the stream exceeds %zu bytes: refusing a "
                                   "runaway device", MS_MAX_STREAM);
            return -1;
        }
        while (done < n) {
            if ((w = write(fd, buf + done, n - done)) < 0) {
                if (errno == EINTR)
                    continue;
                *why = g_strdup_printf("writing %s at offset %zu: %s", tmpName,
                                       total + done, g_strerror(errno));
                return -1;
            }
            done += w;
        }
        total += n;
    }
}


static int
msCmdSave(const char *bdf, const char *path)
{
    g_autoptr(vfmigVFIO) vfio = NULL;
    g_autoptr(vfmigFileAtomic) file = NULL;
    g_autofree char *why = NULL;
    g_autofree char *digest = NULL;
    vmTap tap = { 0 };
    int dataFd = -1;
    gssize n;

    vmTapPlan(&tap, MS_SAVE_N);
    vfmigResetLastError();
    if (!(vfio = vfmigVFIOOpen(bdf, NULL))) {
        vmTapCheck(&tap, false, "open %s: %s", bdf, vmLastError());
        vmTapFillTo(&tap, MS_SAVE_N, "the device did not open");
        return vmTapDone(&tap);
    }
    if (!vmTapCheck(&tap, msMove(vfio, VFIO_DEVICE_STATE_STOP, false, &dataFd, &why),
                    "%s: RUNNING -> STOP: %s", bdf, why ? why : "reads back STOP"))
        goto fail;

    digest = msDigest(bdf, &why);
    vmTapCheck(&tap, digest != NULL, "%s: the model's digest while stopped: %s",
               bdf, digest ? digest : why);
    if (digest)
        vmTapDiag("digest %s %s", bdf, digest);
    g_clear_pointer(&why, g_free);

    if (!vmTapCheck(&tap, msMove(vfio, VFIO_DEVICE_STATE_STOP_COPY, true, &dataFd,
                                 &why),
                    "%s: STOP -> STOP_COPY: %s", bdf,
                    why ? why : "a data fd, reads back STOP_COPY"))
        goto fail;

    vfmigResetLastError();
    if (!(file = vfmigFileAtomicNew(path, 0644))) {
        vmTapCheck(&tap, false, "%s: saving the stream: %s", path, vmLastError());
        goto fail;
    }
    n = msSaveTo(bdf, dataFd, vfmigFileAtomicFD(file),
                 vfmigFileAtomicTempPath(file), &why);
    if (n >= 0 && vfmigFileAtomicCommit(file) < 0)
        why = g_strdup_printf("committing %s: %s", path, vmLastError());
    if (!vmTapCheck(&tap, n >= 0 && !why, "%s: the stop-copy stream of %s: %s",
                    path, bdf, why ? why : "read to its end and saved"))
        goto fail;
    vmTapDiag("saved %zd bytes to %s", n, path);
    msClose(&dataFd);

    vmTapCheck(&tap,
               msMove(vfio, VFIO_DEVICE_STATE_STOP, false, &dataFd, &why) &&
               msMove(vfio, VFIO_DEVICE_STATE_RUNNING, false, &dataFd, &why),
               "%s: STOP_COPY -> STOP -> RUNNING: %s", bdf,
               why ? why : "reads back RUNNING");
    return vmTapDone(&tap);

 fail:
    msClose(&dataFd);
    vmTapFillTo(&tap, MS_SAVE_N, why ? why : "an earlier step failed");
    if (vfmigVFIOReset(vfio) < 0)
        vmTapDiag("VFIO_DEVICE_RESET of %s after the failure: %s", bdf,
                  vmLastError());
    return vmTapDone(&tap);
}


/* ---------- load ---------------------------------------------------------- */

typedef struct {
    gsize split;        /* 0: one write */
    int expectErrno;    /* 0: every write succeeds */
    int expectApply;    /* 0: RESUMING -> STOP succeeds */
} msLoadOpts;


static bool
msLoadWrites(const char *bdf,
             int dataFd,
             const guint8 *buf,
             gsize len,
             const msLoadOpts *opts,
             char **msg)
{
    gsize chunk = opts->split ? opts->split : len;
    gsize off = 0;
    guint64 writes = 0;

    while (off < len) {
        gsize want = MIN(chunk, len - off);
        ssize_t n;

        vfmigResetLastError();
        n = vfmigVFIODataWrite(bdf, dataFd, buf + off, want);
        writes++;
        if (n < 0) {
            int err = vmLastErrno();

            if (opts->expectErrno && err == opts->expectErrno) {
                *msg = g_strdup_printf("write %llu (%zu bytes at offset %zu) "
                                       "failed with %s as wanted, %zu bytes "
                                       "accepted before", (unsigned long long) writes,
                                       want, off, msErrnoName(err), off);
                return true;
            }
            *msg = g_strdup_printf("write %llu (%zu bytes at offset %zu) failed: "
                                   "%s%s%s", (unsigned long long) writes, want,
                                   off, vmLastError(),
                                   opts->expectErrno ? "; want " : "",
                                   opts->expectErrno ?
                                   msErrnoName(opts->expectErrno) : "");
            return false;
        }
        if (n == 0) {
            *msg = g_strdup_printf("write %llu (%zu bytes at offset %zu) "
                                   "returned 0", (unsigned long long) writes,
                                   want, off);
            return false;
        }
        off += n;
    }
    if (opts->expectErrno) {
        *msg = g_strdup_printf("all %zu bytes were accepted in %llu writes: want "
                               "a write to fail with %s (%d)", len,
                               (unsigned long long) writes,
                               msErrnoName(opts->expectErrno), opts->expectErrno);
        return false;
    }
    *msg = g_strdup_printf("all %zu bytes accepted in %llu writes of up to %zu "
                           "bytes", len, (unsigned long long) writes, chunk);
    return true;
}


static int
msCmdLoad(const char *bdf, const char *path, const msLoadOpts *opts)
{
    g_autoptr(vfmigVFIO) vfio = NULL;
    g_autoptr(GBytes) bytes = NULL;
    g_autofree char *why = NULL;
    g_autofree char *msg = NULL;
    g_autofree char *digest = NULL;
    g_autofree char *setErr = NULL;
    const guint8 *buf = NULL;
    gsize len = 0;
    int stopFd = -1;
    vmTap tap = { 0 };
    uint32_t after = VFIO_DEVICE_STATE_ERROR;
    int dataFd = -1;
    int rc;
    int err;
    bool applied;

    vmTapPlan(&tap, MS_LOAD_N);
    if (!(bytes = msReadFile(path, MS_MAX_STREAM, &why))) {
        vmTapCheck(&tap, false, "read %s: %s", path, why);
        vmTapFillTo(&tap, MS_LOAD_N, "the stream file could not be read");
        return vmTapDone(&tap);
    }
    buf = g_bytes_get_data(bytes, &len);
    vmTapCheck(&tap, true, "read %s: %zu bytes", path, len);

    vfmigResetLastError();
    if (!(vfio = vfmigVFIOOpen(bdf, NULL))) {
        vmTapCheck(&tap, false, "open %s: %s", bdf, vmLastError());
        vmTapFillTo(&tap, MS_LOAD_N, "the device did not open");
        return vmTapDone(&tap);
    }
    if (!vmTapCheck(&tap, msMove(vfio, VFIO_DEVICE_STATE_STOP, false, &dataFd, &why),
                    "%s: RUNNING -> STOP: %s", bdf, why ? why : "reads back STOP"))
        goto fail;
    if (!vmTapCheck(&tap, msMove(vfio, VFIO_DEVICE_STATE_RESUMING, true, &dataFd,
                                 &why),
                    "%s: STOP -> RESUMING: %s", bdf,
                    why ? why : "a data fd, reads back RESUMING"))
        goto fail;

    vmTapCheck(&tap, msLoadWrites(bdf, dataFd, buf, len, opts, &msg),
               "%s: writing %s: %s", bdf, path, msg);

    vfmigResetLastError();
    rc = vfmigVFIOSetState(vfio, VFIO_DEVICE_STATE_STOP, &stopFd);
    err = rc < 0 ? vmLastErrno() : 0;
    if (rc < 0)
        setErr = g_strdup(vmLastError());
    else if (stopFd >= 0)
        setErr = g_strdup("succeeded, but returned a data fd");
    msClose(&stopFd);
    if (vfmigVFIOGetState(vfio, &after) < 0) {
        vmTapCheck(&tap, false, "%s: RESUMING -> STOP: GET after it failed: %s",
                   bdf, vmLastError());
        goto fail;
    }
    msClose(&dataFd);
    applied = rc == 0;
    if (!opts->expectApply) {
        vmTapCheck(&tap, applied && !setErr && after == VFIO_DEVICE_STATE_STOP,
                   "%s: RESUMING -> STOP (the load applied): %s, reads back %s",
                   bdf, setErr ? setErr : "succeeded", vmStateName(after));
    } else {
        vmTapCheck(&tap, !applied && err == opts->expectApply &&
                   (after == VFIO_DEVICE_STATE_RESUMING ||
                    after == VFIO_DEVICE_STATE_ERROR),
                   "%s: RESUMING -> STOP refused: %s (want %s), reads back %s "
                   "(want RESUMING or ERROR)", bdf,
                   applied ? "it succeeded" : setErr,
                   msErrnoName(opts->expectApply), vmStateName(after));
    }

    if (applied) {
        vmTapCheck(&tap, msMove(vfio, VFIO_DEVICE_STATE_RUNNING, false, &dataFd,
                                &why),
                   "%s: STOP -> RUNNING: %s", bdf, why ? why : "reads back RUNNING");
    } else {
        vfmigResetLastError();
        rc = vfmigVFIOReset(vfio);
        if (rc == 0 && vfmigVFIOGetState(vfio, &after) < 0)
            rc = -1;
        vmTapCheck(&tap, rc == 0 && after == VFIO_DEVICE_STATE_RUNNING,
                   "%s: VFIO_DEVICE_RESET after the refused load: %s", bdf,
                   rc < 0 ? vmLastError() :
                   after == VFIO_DEVICE_STATE_RUNNING ? "reads back RUNNING" :
                   vmStateName(after));
    }
    g_clear_pointer(&why, g_free);
    digest = msDigest(bdf, &why);
    vmTapCheck(&tap, digest != NULL, "%s: the model's digest after the load: %s",
               bdf, digest ? digest : why);
    if (digest)
        vmTapDiag("digest %s %s", bdf, digest);
    return vmTapDone(&tap);

 fail:
    msClose(&dataFd);
    vmTapFillTo(&tap, MS_LOAD_N, why ? why : "an earlier step failed");
    if (vfmigVFIOReset(vfio) < 0)
        vmTapDiag("VFIO_DEVICE_RESET of %s after the failure: %s", bdf,
                  vmLastError());
    return vmTapDone(&tap);
}


/* ---------- selftest ------------------------------------------------------ */

/* A save stream: STOP_COPY_SIZE @scs, then FW_DATA images of @sizes. */
static GByteArray *
msSynthetic(guint64 scs, const gsize *sizes, size_t n)
{
    GByteArray *out = g_byte_array_new();
    size_t i;
    gsize j;

    msPutStopCopySize(out, scs);
    for (i = 0; i < n; i++) {
        msPutHeader(out, sizes[i], 0, MS_TAG_FW_DATA);
        for (j = 0; j < sizes[i]; j++) {
            guint8 b = (guint8) (j * 31 + i * 7 + 1);

            g_byte_array_append(out, &b, 1);
        }
    }
    return out;
}


/* The four check verdicts of @buf, as "1101". */
static char *
msVerdicts(const guint8 *buf, gsize len)
{
    msCheckResult res;
    char *out = g_new0(char, MS_CHECK_N + 1);
    int i;

    msCheckStream(buf, len, &res);
    for (i = 0; i < MS_CHECK_N; i++)
        out[i] = res.ok[i] ? '1' : '0';
    msCheckResultClear(&res);
    return out;
}


static bool
msRecordIs(const guint8 *buf, gsize len, guint idx, guint64 offset,
           guint64 size, guint32 flags, guint32 tag)
{
    g_autoptr(GArray) recs = g_array_new(false, true, sizeof(msRecord));
    g_autofree char *why = NULL;
    const msRecord *r;

    msParse(buf, len, recs, &why);
    if (idx >= recs->len)
        return false;
    r = &g_array_index(recs, msRecord, idx);
    return r->offset == offset && r->size == size && r->flags == flags &&
           r->tag == tag;
}


/* One variant of @in: 0 with @out filled, -1 (and *@why) refused. */
static int
msVariant(GByteArray *in, const char *kind, GByteArray *out, bool *fwSame,
          bool *allSame, char **why)
{
    g_autofree char *what = NULL;

    *fwSame = *allSame = false;
    g_clear_pointer(why, g_free);
    return msMakeVariant(in->data, in->len, kind, out, &what, fwSame, allSame,
                         why);
}


#define MS_SELFTEST_N 28

static int
msCmdSelftest(void)
{
    static const gsize sizes[] = { 5000, 1, 70000 };
    static const gsize tiny[] = { 4096, 100 };
    g_autoptr(GByteArray) in = msSynthetic(3 * MS_PAGE, sizes, G_N_ELEMENTS(sizes));
    g_autoptr(GByteArray) bad = NULL;
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autofree char *v = NULL;
    g_autofree char *why = NULL;
    g_autofree char *dir = NULL;
    g_autoptr(GError) gerr = NULL;
    vmTap tap = { 0 };
    gsize fw1 = MS_FIRST_LEN;
    gsize fw2 = fw1 + MS_HDR_LEN + sizes[0];
    gsize fw3 = fw2 + MS_HDR_LEN + sizes[1];
    bool fwSame;
    bool allSame;
    int rc;

    vmTapPlan(&tap, MS_SELFTEST_N);

    /* the parser and check */
    v = msVerdicts(in->data, in->len);
    vmTapCheck(&tap, strcmp(v, "1111") == 0 &&
               in->len == fw3 + MS_HDR_LEN + sizes[2] &&
               msRecordIs(in->data, in->len, 0, 0, 8, 1, 1) &&
               msRecordIs(in->data, in->len, 1, fw1, 5000, 0, 0) &&
               msRecordIs(in->data, in->len, 2, fw2, 1, 0, 0) &&
               msRecordIs(in->data, in->len, 3, fw3, 70000, 0, 0),
               "a synthetic save stream passes every check (%s) and parses "
               "into its four records", v);
    g_clear_pointer(&v, g_free);

    v = msVerdicts(in->data, 0);
    vmTapCheck(&tap, strcmp(v, "1000") == 0,
               "an empty stream: no record, so no STOP_COPY_SIZE (%s)", v);
    g_clear_pointer(&v, g_free);

    g_clear_pointer(&bad, g_byte_array_unref);
    bad = g_byte_array_new();
    g_byte_array_append(bad, in->data, in->len);
    g_byte_array_append(bad, in->data, 10);
    v = msVerdicts(bad->data, bad->len);
    vmTapCheck(&tap, v[0] == '0', "10 bytes after the last record (half a "
               "header) fail the EOF check (%s)", v);
    g_clear_pointer(&v, g_free);

    v = msVerdicts(in->data, in->len - 1);
    vmTapCheck(&tap, strcmp(v, "0111") == 0, "a stream one byte short fails "
               "the EOF check only (%s)", v);
    g_clear_pointer(&v, g_free);

    v = msVerdicts(in->data, fw1 + 8);
    vmTapCheck(&tap, v[0] == '0' && v[3] == '0',
               "a stream cut inside the second header fails (%s)", v);
    g_clear_pointer(&v, g_free);

    {
        static const guint64 values[] = { 0, 4097, 4095 };
        bool all = true;
        size_t i;

        for (i = 0; i < G_N_ELEMENTS(values); i++) {
            g_autoptr(GByteArray) s = msSynthetic(values[i], sizes, 1);
            g_autofree char *vv = msVerdicts(s->data, s->len);

            all &= strcmp(vv, "1101") == 0;
        }
        vmTapCheck(&tap, all, "STOP_COPY_SIZE values 0, 4097, 4095 fail the "
                   "value check only");
    }

    g_clear_pointer(&bad, g_byte_array_unref);
    bad = g_byte_array_new();
    g_byte_array_append(bad, in->data, in->len);
    bad->data[8] = 0;   /* STOP_COPY_SIZE's flags: 0 */
    v = msVerdicts(bad->data, bad->len);
    vmTapCheck(&tap, strcmp(v, "1001") == 0, "STOP_COPY_SIZE without OPTIONAL "
               "fails the first-record check (%s)", v);
    g_clear_pointer(&v, g_free);

    g_clear_pointer(&bad, g_byte_array_unref);
    bad = g_byte_array_new();
    msPutHeader(bad, 4, MS_REC_OPTIONAL, MS_TAG_STOP_COPY_SIZE);
    g_byte_array_append(bad, (const guint8 *) "\0\0\1\0", 4);
    msPutHeader(bad, 1, 0, MS_TAG_FW_DATA);
    g_byte_array_append(bad, (const guint8 *) "x", 1);
    v = msVerdicts(bad->data, bad->len);
    vmTapCheck(&tap, strcmp(v, "1001") == 0, "a 4-byte STOP_COPY_SIZE fails "
               "the first-record check (%s)", v);
    g_clear_pointer(&v, g_free);

    g_clear_pointer(&bad, g_byte_array_unref);
    bad = g_byte_array_new();
    g_byte_array_append(bad, in->data, in->len);
    bad->data[fw2 + 8] = 1;     /* the second image: OPTIONAL */
    v = msVerdicts(bad->data, bad->len);
    vmTapCheck(&tap, strcmp(v, "1110") == 0, "a FW_DATA record with flags 1 "
               "fails the FW_DATA check (%s)", v);
    g_clear_pointer(&v, g_free);

    {
        static const gsize empty[] = { 10, 0, 10 };
        g_autoptr(GByteArray) s = msSynthetic(MS_PAGE, empty, G_N_ELEMENTS(empty));

        v = msVerdicts(s->data, s->len);
        vmTapCheck(&tap, strcmp(v, "1110") == 0, "an empty FW_DATA record "
                   "fails the FW_DATA check (%s)", v);
        g_clear_pointer(&v, g_free);
    }

    v = msVerdicts(in->data, MS_FIRST_LEN);
    vmTapCheck(&tap, strcmp(v, "1110") == 0, "STOP_COPY_SIZE alone fails the "
               "FW_DATA check: no image (%s)", v);
    g_clear_pointer(&v, g_free);

    /* the variants */
    rc = msVariant(in, "optional-unknown", out, &fwSame, &allSame, &why);
    v = rc == 0 ? msVerdicts(out->data, out->len) : g_strdup("none");
    vmTapCheck(&tap, rc == 0 && out->len == in->len + MS_HDR_LEN + MS_UNKNOWN_LEN &&
               strcmp(v, "1110") == 0 &&
               msRecordIs(out->data, out->len, 1, MS_FIRST_LEN, MS_UNKNOWN_LEN,
                          MS_REC_OPTIONAL, MS_UNKNOWN_TAG) &&
               memcmp(out->data, in->data, MS_FIRST_LEN) == 0 &&
               memcmp(out->data + MS_FIRST_LEN + MS_HDR_LEN + MS_UNKNOWN_LEN,
                      in->data + MS_FIRST_LEN, in->len - MS_FIRST_LEN) == 0,
               "optional-unknown: tag 0x7f, flags 1, 13 bytes after the first "
               "record, the rest unchanged (%s)", v);
    g_clear_pointer(&v, g_free);

    rc = msVariant(in, "mandatory-unknown", out, &fwSame, &allSame, &why);
    vmTapCheck(&tap, rc == 0 && out->len == in->len + MS_HDR_LEN + MS_UNKNOWN_LEN &&
               msRecordIs(out->data, out->len, 1, MS_FIRST_LEN, MS_UNKNOWN_LEN,
                          0, MS_UNKNOWN_TAG) &&
               msRecordIs(out->data, out->len, 2, MS_FIRST_LEN + MS_HDR_LEN +
                          MS_UNKNOWN_LEN, 5000, 0, 0),
               "mandatory-unknown: the same record with flags 0");

    rc = msVariant(in, "huge", out, &fwSame, &allSame, &why);
    v = rc == 0 ? msVerdicts(out->data, out->len) : g_strdup("none");
    vmTapCheck(&tap, rc == 0 && out->len == in->len + MS_HDR_LEN &&
               v[0] == '0' &&
               msRecordIs(out->data, out->len, 1, MS_FIRST_LEN, MS_HUGE_SIZE,
                          0, MS_TAG_FW_DATA),
               "huge: a FW_DATA header of 2^32 bytes after the first record, "
               "beyond the end (%s)", v);
    g_clear_pointer(&v, g_free);

    rc = msVariant(in, "truncated", out, &fwSame, &allSame, &why);
    v = rc == 0 ? msVerdicts(out->data, out->len) : g_strdup("none");
    vmTapCheck(&tap, rc == 0 && out->len == in->len - MS_TRUNCATE &&
               strcmp(v, "0111") == 0 &&
               memcmp(out->data, in->data, out->len) == 0 &&
               out->len > fw3 + MS_HDR_LEN,
               "truncated: 100 bytes less, cut inside the last image (%s)", v);
    g_clear_pointer(&v, g_free);

    {
        g_autoptr(GByteArray) s = msSynthetic(MS_PAGE, tiny, G_N_ELEMENTS(tiny));

        g_clear_pointer(&why, g_free);
        rc = msVariant(s, "truncated", out, &fwSame, &allSame, &why);
        vmTapCheck(&tap, rc < 0 && why && strstr(why, "last image"),
                   "truncated is refused when the last image has 100 bytes: %s",
                   why ? why : "made");
    }

    rc = msVariant(in, "no-image", out, &fwSame, &allSame, &why);
    v = rc == 0 ? msVerdicts(out->data, out->len) : g_strdup("none");
    vmTapCheck(&tap, rc == 0 && out->len == MS_FIRST_LEN &&
               memcmp(out->data, in->data, MS_FIRST_LEN) == 0 &&
               strcmp(v, "1110") == 0,
               "no-image: the STOP_COPY_SIZE record alone (%s)", v);
    g_clear_pointer(&v, g_free);

    rc = msVariant(in, "no-stop-copy-size", out, &fwSame, &allSame, &why);
    v = rc == 0 ? msVerdicts(out->data, out->len) : g_strdup("none");
    vmTapCheck(&tap, rc == 0 && out->len == in->len - MS_FIRST_LEN &&
               memcmp(out->data, in->data + MS_FIRST_LEN, out->len) == 0 &&
               msRecordIs(out->data, out->len, 0, 0, 5000, 0, MS_TAG_FW_DATA) &&
               v[0] == '1' && v[1] == '0',
               "no-stop-copy-size: the FW_DATA records alone (%s)", v);
    g_clear_pointer(&v, g_free);

    rc = msVariant(in, "golden", out, &fwSame, &allSame, &why);
    v = rc == 0 ? msVerdicts(out->data, out->len) : g_strdup("none");
    vmTapCheck(&tap, rc == 0 && strcmp(v, "1111") == 0 && fwSame && !allSame &&
               msGet64(out->data + MS_HDR_LEN) == MS_GOLDEN_STOP_COPY_SIZE,
               "golden from a stream with STOP_COPY_SIZE 12288: a valid stream "
               "with 8 MiB, its FW_DATA records identical, the whole not (%s)", v);
    g_clear_pointer(&v, g_free);

    {
        g_autoptr(GByteArray) s = msSynthetic(MS_GOLDEN_STOP_COPY_SIZE, sizes,
                                              G_N_ELEMENTS(sizes));

        rc = msVariant(s, "golden", out, &fwSame, &allSame, &why);
        vmTapCheck(&tap, rc == 0 && fwSame && allSame && out->len == s->len,
                   "golden from a stream with STOP_COPY_SIZE 8 MiB: the whole "
                   "stream identical");
    }

    {
        g_autoptr(GByteArray) s = msSynthetic(MS_PAGE, sizes, G_N_ELEMENTS(sizes));
        g_autoptr(GByteArray) g = g_byte_array_new();
        g_autoptr(GArray) recs = g_array_new(false, true, sizeof(msRecord));
        g_autofree char *pwhy = NULL;

        rc = msVariant(s, "golden", g, &fwSame, &allSame, &why);
        /* the golden writer must copy payloads, not headers: a flipped
         * byte in the third image shows up in the output */
        s->data[fw3 + MS_HDR_LEN + 5] ^= 0xff;
        rc |= msVariant(s, "golden", out, &fwSame, &allSame, &why);
        vmTapCheck(&tap, rc == 0 && fwSame && out->len == g->len &&
                   memcmp(out->data, g->data, g->len) != 0 &&
                   msParse(out->data, out->len, recs, &pwhy) && recs->len == 4,
                   "golden copies IN's payloads: a changed image byte is in "
                   "its output");
    }

    g_clear_pointer(&why, g_free);
    rc = msVariant(in, "shuffled", out, &fwSame, &allSame, &why);
    vmTapCheck(&tap, rc < 0 && why && strstr(why, "unknown variant"),
               "an unknown variant is refused: %s", why ? why : "made");

    g_clear_pointer(&why, g_free);
    rc = msVariant(bad, "golden", out, &fwSame, &allSame, &why);
    vmTapCheck(&tap, rc < 0 && why && strstr(why, "not a valid save stream"),
               "a variant of an invalid stream is refused: %s",
               why ? why : "made");

    {
        bool all = true;
        size_t i;

        for (i = 0; i < G_N_ELEMENTS(msVariants); i++)
            all &= msKnownVariant(msVariants[i]);
        vmTapCheck(&tap, all && !msKnownVariant("shuffled") &&
                   G_N_ELEMENTS(msVariants) == 7,
                   "the seven variants are known by name");
    }

    /* errno names */
    vmTapCheck(&tap, msParseErrno("EOPNOTSUPP") == EOPNOTSUPP &&
               msParseErrno("ENOMEM") == ENOMEM &&
               msParseErrno("EINVAL") == EINVAL && msParseErrno("22") == 22 &&
               msParseErrno("EWHAT") == -1 && msParseErrno("0") == -1 &&
               msParseErrno("-5") == -1 && msParseErrno("") == -1,
               "errno names and numbers parse, garbage does not");

    /* files */
    if (!(dir = g_dir_make_tmp("vm-mlx5-stream-XXXXXX", &gerr))) {
        vmTapCheck(&tap, false, "a temporary directory: %s", gerr->message);
        vmTapFillTo(&tap, MS_SELFTEST_N, "no temporary directory");
        return vmTapDone(&tap);
    }
    {
        g_autofree char *path = g_build_filename(dir, "stream", NULL);
        g_autofree char *big = g_build_filename(dir, "big", NULL);
        g_autoptr(GBytes) back = NULL;
        g_autoptr(GBytes) none = NULL;
        g_autofree char *rwhy = NULL;
        g_autofree char *bwhy = NULL;
        gsize blen = 0;
        const guint8 *bdata = NULL;
        int fd;

        vfmigResetLastError();
        rc = vfmigFileReplace(path, in->data, in->len, 0644);
        if (rc == 0 && (back = msReadFile(path, MS_MAX_STREAM, &rwhy)))
            bdata = g_bytes_get_data(back, &blen);
        vmTapCheck(&tap, rc == 0 && bdata && blen == in->len &&
                   memcmp(bdata, in->data, blen) == 0,
                   "a stream written to a file reads back unchanged%s%s",
                   rwhy ? ": " : "", rwhy ? rwhy : "");

        fd = open(big, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        rc = fd >= 0 ? ftruncate(fd, (off_t) MS_MAX_STREAM + 1) : -1;
        if (fd >= 0)
            close(fd);
        none = rc == 0 ? msReadFile(big, MS_MAX_STREAM, &bwhy) : NULL;
        vmTapCheck(&tap, rc == 0 && !none && bwhy && strstr(bwhy, "larger than"),
                   "a file of 1 GiB + 1 byte is refused before it is read: %s",
                   bwhy ? bwhy : rc < 0 ? g_strerror(errno) : "read");

        g_clear_pointer(&bwhy, g_free);
        none = msReadFile(dir, MS_MAX_STREAM, &bwhy);
        vmTapCheck(&tap, !none && bwhy && strstr(bwhy, "not a regular file"),
                   "a directory is refused: %s", bwhy);

        g_unlink(big);
        g_unlink(path);
        g_rmdir(dir);
    }
    return vmTapDone(&tap);
}


/* ---------- main ---------------------------------------------------------- */


/* A state by its uAPI name (RUNNING, PRE_COPY_P2P, ...), or -1. */
static int
msStateByName(const char *name)
{
    uint32_t s;

    for (s = 0; s < 8; s++) {
        if (strcmp(vmStateName(s), name) == 0)
            return s;
    }
    return -1;
}


/*
 * arc: from RUNNING (after a reset), ask for @to, which must fail with
 * @err and leave the device in @after; then a reset brings it back to
 * RUNNING and RUNNING -> STOP -> RUNNING works (the device is usable).
 */
static int
msCmdArc(const char *bdf, uint32_t to, int err, uint32_t after)
{
    g_autoptr(vfmigVFIO) vfio = NULL;
    g_autofree char *why = NULL;
    uint32_t got = VFIO_DEVICE_STATE_ERROR;
    vmTap tap = { 0 };
    int fd = -1;
    int rc;
    bool ok;

    vmTapPlan(&tap, MS_ARC_N);
    if (!(vfio = vfmigVFIOOpen(bdf, NULL)) || vfmigVFIOReset(vfio) < 0) {
        why = g_strdup_printf("%s did not open and reset: %s", bdf,
                              vmLastError());
        vmTapFillTo(&tap, MS_ARC_N, why);
        return 1;
    }

    vfmigResetLastError();
    rc = vfmigVFIOSetState(vfio, to, &fd);
    ok = rc < 0 && vmLastErrno() == err;
    vmTapCheck(&tap, ok, "RUNNING -> %s %s (want it to fail with %s)",
               vmStateName(to),
               rc < 0 ? msErrnoName(vmLastErrno()) : "succeeded",
               msErrnoName(err));
    if (fd >= 0)
        close(fd);

    rc = vfmigVFIOGetState(vfio, &got);
    vmTapCheck(&tap, rc == 0 && got == after, "the device then reads back %s "
               "(want %s)", rc == 0 ? vmStateName(got) : "nothing",
               vmStateName(after));

    fd = -1;
    ok = vfmigVFIOReset(vfio) == 0 &&
         vfmigVFIOGetState(vfio, &got) == 0 && got == VFIO_DEVICE_STATE_RUNNING &&
         msMove(vfio, VFIO_DEVICE_STATE_STOP, false, &fd, &why) &&
         msMove(vfio, VFIO_DEVICE_STATE_RUNNING, false, &fd, &why);
    vmTapCheck(&tap, ok, "after a reset: RUNNING, and RUNNING -> STOP -> "
               "RUNNING works%s%s", why ? ": " : "", why ? why : "");
    return tap.failed ? 1 : 0;
}

static int
msUsage(void)
{
    fprintf(stderr,
            "usage: vm-mlx5-stream save BDF FILE\n"
            "       vm-mlx5-stream check FILE\n"
            "       vm-mlx5-stream load BDF FILE [--split N] [--expect-errno E]\n"
            "                      [--expect-apply-errno E]\n"
            "       vm-mlx5-stream make-variant IN OUT KIND\n"
            "       vm-mlx5-stream arc BDF TO --expect-errno E --after STATE\n"
            "       vm-mlx5-stream selftest\n"
            "       vm-mlx5-stream --plan save|check|load|arc|selftest\n"
            "       vm-mlx5-stream --plan make-variant KIND\n"
            "KIND: optional-unknown, mandatory-unknown, huge, truncated, "
            "no-image,\n      no-stop-copy-size, golden\n");
    return 2;
}


static int
msPlan(int argc, char **argv)
{
    const char *cmd = argc > 0 ? argv[0] : "";

    if (strcmp(cmd, "make-variant") == 0 && argc == 2 && msKnownVariant(argv[1])) {
        printf("%d\n", strcmp(argv[1], "golden") == 0 ? MS_GOLDEN_N : MS_VARIANT_N);
        return 0;
    }
    if (argc != 1)
        return msUsage();
    if (strcmp(cmd, "save") == 0)
        printf("%d\n", MS_SAVE_N);
    else if (strcmp(cmd, "check") == 0)
        printf("%d\n", MS_CHECK_N);
    else if (strcmp(cmd, "load") == 0)
        printf("%d\n", MS_LOAD_N);
    else if (strcmp(cmd, "arc") == 0)
        printf("%d\n", MS_ARC_N);
    else if (strcmp(cmd, "selftest") == 0)
        printf("%d\n", MS_SELFTEST_N);
    else
        return msUsage();
    return 0;
}


/* A device name as vfmigVFIOParseName takes it; NULL after a message. */
static char *
msBDF(const char *name)
{
    char *bdf = NULL;

    if (vfmigVFIOParseName(name, &bdf, NULL) < 0) {
        fprintf(stderr, "error: %s\n", vmLastError());
        return NULL;
    }
    return bdf;
}


int
main(int argc, char **argv)
{
    g_autofree char *bdf = NULL;
    const char *cmd = argc > 1 ? argv[1] : "";

    if (strcmp(cmd, "--plan") == 0)
        return msPlan(argc - 2, argv + 2);

    if (strcmp(cmd, "check") == 0 && argc == 3)
        return msCmdCheck(argv[2]);

    if (strcmp(cmd, "selftest") == 0 && argc == 2)
        return msCmdSelftest();

    if (strcmp(cmd, "make-variant") == 0 && argc == 5) {
        if (!msKnownVariant(argv[4])) {
            fprintf(stderr, "error: unknown variant '%s'\n", argv[4]);
            return msUsage();
        }
        return msCmdMakeVariant(argv[2], argv[3], argv[4]);
    }

    if (strcmp(cmd, "save") == 0 && argc == 4) {
        if (!(bdf = msBDF(argv[2])))
            return 2;
        return msCmdSave(bdf, argv[3]);
    }

    if (strcmp(cmd, "arc") == 0 && argc == 8 &&
        strcmp(argv[4], "--expect-errno") == 0 && strcmp(argv[6], "--after") == 0) {
        int to = msStateByName(argv[3]);
        int after = msStateByName(argv[7]);
        int err = msParseErrno(argv[5]);

        if (to < 0 || after < 0 || err < 0) {
            fprintf(stderr, "error: arc: '%s', '%s': want state names "
                    "(RUNNING, STOP, PRE_COPY, ...), '%s': an errno\n",
                    argv[3], argv[7], argv[5]);
            return 2;
        }
        if (!(bdf = msBDF(argv[2])))
            return 2;
        return msCmdArc(bdf, to, err, after);
    }

    if (strcmp(cmd, "load") == 0 && argc >= 4) {
        msLoadOpts opts = { 0 };
        int a;

        for (a = 4; a < argc; a++) {
            guint64 n = 0;

            if (strcmp(argv[a], "--split") == 0 && a + 1 < argc) {
                if (!g_ascii_string_to_unsigned(argv[++a], 10, 1, MS_MAX_STREAM,
                                                &n, NULL)) {
                    fprintf(stderr, "error: --split '%s': want a byte count "
                            "from 1 to %zu\n", argv[a], MS_MAX_STREAM);
                    return 2;
                }
                opts.split = n;
            } else if ((strcmp(argv[a], "--expect-errno") == 0 ||
                        strcmp(argv[a], "--expect-apply-errno") == 0) &&
                       a + 1 < argc) {
                int err = msParseErrno(argv[a + 1]);

                if (err < 0) {
                    fprintf(stderr, "error: %s '%s': want an errno name "
                            "(EINVAL, ENOMEM, EOPNOTSUPP, ...) or number\n",
                            argv[a], argv[a + 1]);
                    return 2;
                }
                if (strcmp(argv[a], "--expect-errno") == 0)
                    opts.expectErrno = err;
                else
                    opts.expectApply = err;
                a++;
            } else {
                return msUsage();
            }
        }
        if (!(bdf = msBDF(argv[2])))
            return 2;
        return msCmdLoad(bdf, argv[3], &opts);
    }
    return msUsage();
}
