/*
 * vfmigstatefile.h: the versioned device-state file format
 *
 * A state file (or stream: pipe, UNIX socket) carries one device's
 * migration data: a header in which the source declares its identity and
 * capabilities, protected by its own SHA-256; framed chunks, each tagged
 * with its phase (pre-copy, stop-copy) and followed by the SHA-256 of its
 * frame header and payload; an end record with the totals and a SHA-256
 * over the chunk digests.  The layout is in docs/state-file.rst.
 *
 * Writer and reader work on any file descriptor in a forward-only way:
 * they never seek and never hold more than one chunk in memory.  Byte
 * offsets in error messages count from the first byte of the header.
 * A payload is handed to the caller only after its chunk digest matched.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigenum.h"

#define VFMIG_STATEFILE_VERSION 1

/* Fixed sizes of version 1 (bytes). */
#define VFMIG_STATEFILE_HEADER_LEN 256
#define VFMIG_STATEFILE_CHUNK_HEADER_LEN 24
#define VFMIG_STATEFILE_DIGEST_LEN 32
#define VFMIG_STATEFILE_END_LEN 64

/* A header longer than this is refused before anything is allocated. */
#define VFMIG_STATEFILE_HEADER_LEN_MAX 4096
/* Largest chunk payload; the writer splits larger buffers. */
#define VFMIG_STATEFILE_CHUNK_MAX (16u * 1024 * 1024)
/* Room for the driver and firmware strings, terminating NUL included. */
#define VFMIG_STATEFILE_STRING_FIELD 64

#define VFMIG_STATEFILE_SIZE_UNKNOWN UINT64_MAX

typedef enum {
    VFMIG_STATE_PHASE_PRE_COPY = 1,
    VFMIG_STATE_PHASE_STOP_COPY = 2,

    VFMIG_STATE_PHASE_LAST          /* no phase 0: the file format's codes */
} vfmigStatePhase;

/* Chunk flags. */
typedef enum {
    /* The last chunk of a device image: the device said "no more data for
     * now" (pre-copy) or "end of stream" (stop-copy) after it. */
    VFMIG_STATE_CHUNK_IMAGE_END = 1 << 0,
} vfmigStateChunkFlags;

#define VFMIG_STATE_CHUNK_FLAGS_KNOWN (VFMIG_STATE_CHUNK_IMAGE_END)

typedef enum {
    VFMIG_STATE_PRECOPY_NONE = 0,   /* RUNNING -> STOP_COPY: one image */
    VFMIG_STATE_PRECOPY_SINGLE,     /* pre-copy, loaded as a single image */
    VFMIG_STATE_PRECOPY_MULTI,      /* pre-copy images loaded one by one:
                                     * the destination needs multi-load */

    VFMIG_STATE_PRECOPY_LAST
} vfmigStatePrecopyMode;

/*
 * Who wrote the state, or who is to load it.  Strings are borrowed: the
 * writer encodes them at once; the reader's identity lives as long as the
 * reader.
 */
typedef struct _vfmigStateIdentity vfmigStateIdentity;
struct _vfmigStateIdentity {
    const char *driver;         /* bound kernel driver; required */
    bool havePciIds;
    uint16_t pciVendor;
    uint16_t pciDevice;
    const char *firmware;       /* NULL: not known */
    bool haveStreamVersion;
    uint32_t streamVersion;     /* the driver's state stream version */
    uint64_t migrationFlags;    /* VFIO_MIGRATION_* */
    vfmigStatePrecopyMode precopyMode;  /* how the state was saved */
    bool multiLoad;             /* the device can load several images */
    uint64_t sizeHint;          /* or VFMIG_STATEFILE_SIZE_UNKNOWN */
};

typedef struct _vfmigStateFileWriter vfmigStateFileWriter;
typedef struct _vfmigStateFileReader vfmigStateFileReader;

/*
 * How long the writer or reader waits on its descriptor, and when it gives
 * up.  A pipe whose other end stalls would otherwise block for ever, and a
 * cancel (SIGINT) must not wait for the peer.  The pointers are borrowed
 * for the life of the writer or reader.
 */
typedef struct _vfmigStateFileIO vfmigStateFileIO;
struct _vfmigStateFileIO {
    /* fail with VFMIG_ERR_OPERATION_TIMEOUT when the descriptor accepts or
     * delivers nothing for this long; 0: wait for ever */
    unsigned int stallTimeoutMs;
    /* non-zero (read with g_atomic_int_get, so a signal handler or another
     * thread may set it): fail with VFMIG_ERR_OPERATION_ABORTED */
    const gint *cancel;
};

/* Polls in slices this long to see a cancel or a stall. */
#define VFMIG_STATEFILE_IO_SLICE_MS 100

/* Writes the header to @fd (not owned, not closed).  @io may be NULL:
 * block for ever, never cancelled. */
vfmigStateFileWriter *vfmigStateFileWriterNew(int fd,
                                              const vfmigStateIdentity *id,
                                              const vfmigStateFileIO *io);

/* Writes @len bytes as one chunk, or several when @len exceeds
 * VFMIG_STATEFILE_CHUNK_MAX (@flags then go on the last).  Phases never go
 * back from stop-copy to pre-copy; pre-copy needs a pre-copy mode.  After
 * any failure every later call fails too. */
int vfmigStateFileWriteChunk(vfmigStateFileWriter *w,
                             vfmigStatePhase phase,
                             unsigned int flags,
                             const void *buf,
                             size_t len);

/* Writes the end record.  Without it a reader refuses the stream. */
int vfmigStateFileWriterFinish(vfmigStateFileWriter *w);

/* Bytes written so far, header included. */
uint64_t vfmigStateFileWriterGetOffset(vfmigStateFileWriter *w);

void vfmigStateFileWriterFree(vfmigStateFileWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigStateFileWriter, vfmigStateFileWriterFree);

/* Reads and validates the header from @fd (not owned, not closed).
 * @io as for the writer. */
vfmigStateFileReader *vfmigStateFileReaderNew(int fd,
                                              const vfmigStateFileIO *io);

/* The identity declared in the header. */
const vfmigStateIdentity *
vfmigStateFileReaderGetIdentity(vfmigStateFileReader *r);

/*
 * Reads the next record.  Returns 1 with a chunk whose digest matched:
 * @payload points into the reader's buffer, valid until the next call;
 * 0 at a valid end record (totals and stream digest checked); -1 on
 * error (VFMIG_ERR_DATA_CORRUPT with the byte offset for a corrupt,
 * truncated or unterminated stream).  The reader does not read past the
 * end record.
 */
int vfmigStateFileReadChunk(vfmigStateFileReader *r,
                            vfmigStatePhase *phase,
                            unsigned int *flags,
                            const void **payload,
                            size_t *len);

/* Bytes consumed so far. */
uint64_t vfmigStateFileReaderGetOffset(vfmigStateFileReader *r);

void vfmigStateFileReaderFree(vfmigStateFileReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigStateFileReader, vfmigStateFileReaderFree);

/*
 * Whether state saved by @file can be loaded by @dst.  Returns 0, or -1
 * with VFMIG_ERR_OPERATION_UNSUPPORTED saying why: a different driver;
 * different PCI ids, firmware or stream version (each compared when both
 * sides know it); a multi-image file for a destination without
 * multi-load.
 */
int vfmigStateIdentityCheckCompatible(const vfmigStateIdentity *file,
                                      const vfmigStateIdentity *dst);

VFMIG_ENUM_DECL(vfmigStatePhase);
VFMIG_ENUM_DECL(vfmigStatePrecopyMode);
