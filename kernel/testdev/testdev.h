/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfmig_testdev: a VFIO variant driver for QEMU's pci-testdev whose device
 * state is a software model (docs/abi/sysfs-bus-pci-devices-vfmig_testdev).
 */
#ifndef TESTDEV_H
#define TESTDEV_H

#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "vfmig.h"
#include "testdev_stream.h"

#define TDEV_MIN_STATE		TDEV_PAGE_SIZE
#define TDEV_MAX_STATE		(1ULL << 30)
#define TDEV_MAX_DELAY_US	10000000U

struct tdev_save {
	bool active;
	bool precopy;		/* stream before STOP_COPY */
	bool base_done;		/* INITIAL or FULL fully produced */
	bool final_done;
	bool in_image;
	u32 seq;
	struct tdev_image_hdr hdr;
	u64 img_len;
	u64 img_off;
	unsigned long *send;	/* the pages of the current DIRTY image */
	unsigned long cur_rec;	/* record whose page is cur_page */
	unsigned long cur_page;
	u8 digest[TDEV_DIGEST_SIZE];
};

struct tdev_load {
	bool active;
	bool multi_load;
	bool base_done;
	bool final_done;
	bool in_image;
	u32 seq;
	u8 *staging;
	struct tdev_image_hdr hdr;
	u32 hdr_off;
	u64 img_len;
	u64 img_off;
	u8 idx[4];
	u32 cur_page;
	u8 digest[TDEV_DIGEST_SIZE];
};

struct tdev_device {
	struct vfmig_device vd;		/* first: vfio_alloc_device() */

	/* the model; nests inside vd.state_mutex */
	struct mutex lock;
	u8 *state;
	u64 size;
	unsigned long npages;
	unsigned long *dirty;		/* changed since last snapshot */
	unsigned long ndirty;
	u64 seed;
	u64 rng;
	bool running;
	bool dead;
	bool inited;			/* tdev_model_init() ran */
	u64 dirty_rate;			/* bytes per second */
	u64 io_rate;			/* 0: dirty_rate in the kernel's time;
					 * else in the device's own, a second
					 * for every io_rate bytes read */
	u64 carry;			/* bytes due, not a whole page yet */
	u64 io_carry;			/* bytes read x dirty_rate short of a
					 * byte due */
	ktime_t last_tick;
	struct delayed_work work;

	u32 stop_delay_us;
	u32 resume_delay_us;

	/* state_mutex */
	bool data_size_whole;		/* MIG_DATA_SIZE: the whole state, as
					 * mlx5's firmware answers it */
	u64 quiesced;			/* P2P arcs that quiesced */
	u64 unquiesced;			/* and that unquiesced */
	struct tdev_save save;
	struct tdev_load load;
};

static inline struct tdev_device *tdev_from_vd(struct vfmig_device *vd)
{
	return container_of(vd, struct tdev_device, vd);
}

/* testdev_model.c */
int tdev_model_init(struct tdev_device *td, u64 size);
void tdev_model_destroy(struct tdev_device *td);
int tdev_model_resize(struct tdev_device *td, u64 size);
void tdev_model_power_on(struct tdev_device *td);
void tdev_model_run(struct tdev_device *td, bool running);
void tdev_model_set_rate(struct tdev_device *td, u64 rate);
void tdev_model_set_io_rate(struct tdev_device *td, u64 rate);
void tdev_model_read(struct tdev_device *td, u64 bytes);
int tdev_model_dirty(struct tdev_device *td, unsigned long npages);
void tdev_model_digest(struct tdev_device *td, u8 *out);

/* testdev_stream.c */
extern const struct vfmig_backend_ops tdev_backend_ops;

/* testdev_sysfs.c */
int tdev_sysfs_add(struct tdev_device *td);
void tdev_sysfs_remove(struct tdev_device *td);

#endif /* TESTDEV_H */
