/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfmig_testdev state stream, version 1.  Little endian throughout.
 *
 * A stream is a sequence of images.  Each image is a header followed by
 * payload_len bytes:
 *   INITIAL  every page of the state, in order, 4096 bytes each; the
 *            pre-copy image, always followed by more images;
 *   DIRTY    npages records of {le32 page index, 4096 bytes}: the pages
 *            changed since they were last sent;
 *   FULL     like INITIAL, when nothing was sent before STOP_COPY.
 * The last image has TDEV_IMG_FINAL and ends with the SHA-256 digest
 * (32 bytes) of the whole state as the source had it when it stopped.
 *
 *   precopy=on:      INITIAL, DIRTY..., DIRTY|FINAL
 *   precopy=single, or a direct RUNNING -> STOP_COPY: FULL|FINAL
 *
 * The destination checks every header as it arrives (format, version,
 * device identity, state size, image order and sequence, sizes) and the
 * digest of the assembled state at RESUMING -> STOP; anything else is
 * refused with -EINVAL.  A destination without multi_load accepts only a
 * FULL|FINAL stream.
 */
#ifndef TESTDEV_STREAM_H
#define TESTDEV_STREAM_H

#include <linux/types.h>

#define TDEV_STREAM_MAGIC	0x544d4656	/* "VFMT" */
#define TDEV_STREAM_VERSION	1

enum tdev_image_kind {
	TDEV_IMG_INITIAL = 1,
	TDEV_IMG_DIRTY = 2,
	TDEV_IMG_FULL = 3,
};

#define TDEV_IMG_FINAL		0x1	/* flags: ends with the digest */

struct tdev_image_hdr {
	__le32 magic;
	__le16 version;
	__le16 kind;		/* enum tdev_image_kind */
	__le16 vendor;		/* PCI identity of the source */
	__le16 device;
	__le32 flags;
	__le64 state_size;	/* bytes of device state */
	__le32 seq;		/* 0 for the first image of the stream */
	__le32 npages;		/* pages in this image */
	__le64 payload_len;	/* bytes after this header */
};

#define TDEV_PAGE_SIZE		4096
#define TDEV_DIRTY_REC		(4 + TDEV_PAGE_SIZE)
#define TDEV_DIGEST_SIZE	32

#endif /* TESTDEV_STREAM_H */
