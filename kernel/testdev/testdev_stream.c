// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig_testdev: the engine backend.  Stops and starts the model, writes
 * the state stream (testdev_stream.h) on the source and reads it on the
 * destination.  Every callback runs under the engine's state_mutex; the
 * model's own lock is taken inside it.
 *
 * The source produces its images lazily: a page is copied when its bytes
 * are handed to the engine, so a page changed after it was copied is in
 * the dirty bitmap again and travels in a later image.
 *
 * The destination assembles the images in a staging buffer and applies it
 * only at RESUMING -> STOP, after checking the digest: a refused stream
 * leaves the device's state unchanged (and the FSM in RESUMING, as mlx5
 * and hisi_acc do; VFIO_DEVICE_RESET brings it back to RUNNING).
 */
#include <crypto/sha2.h>
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "testdev.h"
#include "vfmig_file.h"

#define TDEV_HDR_SIZE	sizeof(struct tdev_image_hdr)

static u64 tdev_pages_len(u32 kind, u64 npages)
{
	return npages * (kind == TDEV_IMG_DIRTY ? TDEV_DIRTY_REC :
						  TDEV_PAGE_SIZE);
}

static u64 tdev_image_len(u32 kind, u32 flags, u64 npages)
{
	return TDEV_HDR_SIZE + tdev_pages_len(kind, npages) +
	       (flags & TDEV_IMG_FINAL ? TDEV_DIGEST_SIZE : 0);
}

/* ---- device activity ---------------------------------------------- */

static int tdev_stop(struct vfmig_device *vd)
{
	struct tdev_device *td = tdev_from_vd(vd);

	tdev_model_run(td, false);
	if (td->stop_delay_us)
		fsleep(td->stop_delay_us);
	return 0;
}

/* The model initiates nothing to peers: the P2P arcs are only counted. */
static int tdev_quiesce(struct vfmig_device *vd)
{
	tdev_from_vd(vd)->quiesced++;
	return 0;
}

static int tdev_unquiesce(struct vfmig_device *vd)
{
	tdev_from_vd(vd)->unquiesced++;
	return 0;
}

static int tdev_start(struct vfmig_device *vd)
{
	struct tdev_device *td = tdev_from_vd(vd);
	bool running;

	mutex_lock(&td->lock);
	running = td->running;
	mutex_unlock(&td->lock);
	if (running)
		return 0;
	if (td->resume_delay_us)
		fsleep(td->resume_delay_us);
	tdev_model_run(td, true);
	return 0;
}

static void tdev_reset(struct vfmig_device *vd)
{
	tdev_model_power_on(tdev_from_vd(vd));
}

/* ---- saving --------------------------------------------------------- */

static int tdev_save_open(struct vfmig_device *vd, bool precopy)
{
	struct tdev_device *td = tdev_from_vd(vd);
	struct tdev_save *s = &td->save;

	memset(s, 0, sizeof(*s));
	s->send = bitmap_zalloc(td->npages, GFP_KERNEL);
	if (!s->send)
		return -ENOMEM;
	s->active = true;
	s->precopy = precopy;
	/* track changes from now on */
	mutex_lock(&td->lock);
	bitmap_zero(td->dirty, td->npages);
	td->ndirty = 0;
	mutex_unlock(&td->lock);
	return 0;
}

static void tdev_save_close(struct vfmig_device *vd)
{
	struct tdev_save *s = &tdev_from_vd(vd)->save;

	bitmap_free(s->send);
	memset(s, 0, sizeof(*s));
}

/* model lock held: begin the next image, false when there is none now */
static bool tdev_save_next_image(struct tdev_device *td, bool stopped)
{
	struct tdev_save *s = &td->save;
	struct pci_dev *pdev = td->vd.core.pdev;
	u32 kind, flags = 0;
	u64 npages;

	if (s->final_done)
		return false;
	if (!stopped) {
		if (!s->precopy)
			return false;
		if (!s->base_done) {
			kind = TDEV_IMG_INITIAL;
		} else if (td->ndirty) {
			kind = TDEV_IMG_DIRTY;
		} else {
			return false;
		}
	} else {
		kind = s->base_done ? TDEV_IMG_DIRTY : TDEV_IMG_FULL;
		flags = TDEV_IMG_FINAL;
		/* stopped: the state cannot change any more */
		sha256(td->state, td->size, s->digest);
	}

	if (kind == TDEV_IMG_DIRTY) {
		bitmap_copy(s->send, td->dirty, td->npages);
		bitmap_zero(td->dirty, td->npages);
		npages = td->ndirty;
		td->ndirty = 0;
		s->cur_rec = ULONG_MAX;
		s->cur_page = 0;
	} else {
		npages = td->npages;
	}

	s->hdr.magic = cpu_to_le32(TDEV_STREAM_MAGIC);
	s->hdr.version = cpu_to_le16(TDEV_STREAM_VERSION);
	s->hdr.kind = cpu_to_le16(kind);
	s->hdr.vendor = cpu_to_le16(pdev->vendor);
	s->hdr.device = cpu_to_le16(pdev->device);
	s->hdr.flags = cpu_to_le32(flags);
	s->hdr.state_size = cpu_to_le64(td->size);
	s->hdr.seq = cpu_to_le32(s->seq);
	s->hdr.npages = cpu_to_le32(npages);
	s->hdr.payload_len = cpu_to_le64(tdev_image_len(kind, flags, npages) -
					 TDEV_HDR_SIZE);
	s->img_len = tdev_image_len(kind, flags, npages);
	s->img_off = 0;
	s->in_image = true;
	s->seq++;
	return true;
}

/* model lock held: copy up to @len bytes of the current image */
static size_t tdev_save_emit(struct tdev_device *td, u8 *buf, size_t len)
{
	struct tdev_save *s = &td->save;
	u32 kind = le16_to_cpu(s->hdr.kind);
	u64 pages_len = tdev_pages_len(kind, le32_to_cpu(s->hdr.npages));
	size_t done = 0;

	while (done < len && s->img_off < s->img_len) {
		u64 off = s->img_off;
		size_t n;

		if (off < TDEV_HDR_SIZE) {
			n = min_t(u64, TDEV_HDR_SIZE - off, len - done);
			memcpy(buf + done, (u8 *)&s->hdr + off, n);
		} else if (off < TDEV_HDR_SIZE + pages_len) {
			u64 rel = off - TDEV_HDR_SIZE;

			if (kind != TDEV_IMG_DIRTY) {
				u64 in = rel % TDEV_PAGE_SIZE;

				n = min_t(u64, TDEV_PAGE_SIZE - in, len - done);
				memcpy(buf + done, td->state + rel, n);
			} else {
				unsigned long rec = div_u64(rel, TDEV_DIRTY_REC);
				u32 in = rel - (u64)rec * TDEV_DIRTY_REC;
				__le32 idx;

				if (rec != s->cur_rec) {
					s->cur_page = find_next_bit(s->send,
						td->npages,
						s->cur_rec == ULONG_MAX ?
						0 : s->cur_page + 1);
					s->cur_rec = rec;
				}
				if (in < 4) {
					idx = cpu_to_le32(s->cur_page);
					n = min_t(size_t, 4 - in, len - done);
					memcpy(buf + done, (u8 *)&idx + in, n);
				} else {
					n = min_t(size_t, TDEV_DIRTY_REC - in,
						  len - done);
					memcpy(buf + done, td->state +
					       (u64)s->cur_page * TDEV_PAGE_SIZE +
					       in - 4, n);
				}
			}
		} else {
			u64 in = off - TDEV_HDR_SIZE - pages_len;

			n = min_t(u64, TDEV_DIGEST_SIZE - in, len - done);
			memcpy(buf + done, s->digest + in, n);
		}
		s->img_off += n;
		done += n;
	}

	if (s->img_off == s->img_len) {
		s->in_image = false;
		if (kind != TDEV_IMG_DIRTY)
			s->base_done = true;
		if (le32_to_cpu(s->hdr.flags) & TDEV_IMG_FINAL)
			s->final_done = true;
	}
	return done;
}

static ssize_t tdev_save_fill(struct vfmig_device *vd, void *buf, size_t len,
			      bool stopped, enum vfmig_data_kind *kind)
{
	struct tdev_device *td = tdev_from_vd(vd);
	struct tdev_save *s = &td->save;
	size_t n = 0;

	if (!s->active)
		return -EINVAL;
	mutex_lock(&td->lock);
	if (s->in_image || tdev_save_next_image(td, stopped)) {
		switch (le16_to_cpu(s->hdr.kind)) {
		case TDEV_IMG_INITIAL:
			*kind = VFMIG_DATA_INITIAL;
			break;
		case TDEV_IMG_DIRTY:
			*kind = le32_to_cpu(s->hdr.flags) & TDEV_IMG_FINAL ?
				VFMIG_DATA_FINAL : VFMIG_DATA_DIRTY;
			break;
		default:
			*kind = VFMIG_DATA_FINAL;
			break;
		}
		n = tdev_save_emit(td, buf, len);
		tdev_model_read(td, n);
	}
	mutex_unlock(&td->lock);
	return n;
}

static void tdev_save_pending(struct vfmig_device *vd, struct vfmig_pending *p)
{
	struct tdev_device *td = tdev_from_vd(vd);
	struct tdev_save *s = &td->save;
	u64 rem = s->in_image ? s->img_len - s->img_off : 0;
	u32 kind = le16_to_cpu(s->hdr.kind);
	u64 w, full;

	mutex_lock(&td->lock);
	w = td->ndirty;
	full = tdev_image_len(TDEV_IMG_FULL, TDEV_IMG_FINAL, td->npages);
	mutex_unlock(&td->lock);

	memset(p, 0, sizeof(*p));
	if (!s->active) {
		p->stop_copy = full;
		return;
	}
	if (s->final_done)
		return;
	if (s->in_image && (le32_to_cpu(s->hdr.flags) & TDEV_IMG_FINAL)) {
		p->stop_copy = rem;
		return;
	}
	if (s->precopy) {
		if (s->in_image && kind == TDEV_IMG_INITIAL)
			p->initial = rem;
		else if (!s->base_done)
			p->initial = tdev_image_len(TDEV_IMG_INITIAL, 0,
						    td->npages);
		if (s->in_image && kind == TDEV_IMG_DIRTY)
			p->dirty = rem;
		if (w)
			p->dirty += tdev_image_len(TDEV_IMG_DIRTY, 0, w);
	}
	if (!s->base_done && !s->in_image)
		p->stop_copy = full;
	else
		p->stop_copy = rem + tdev_image_len(TDEV_IMG_DIRTY,
						    TDEV_IMG_FINAL, w);
}

/*
 * MIG_DATA_SIZE: what a STOP_COPY would stream now, or, with data_size
 * "whole", the whole state whatever pre-copy sent, as mlx5's firmware
 * answers it (upstream's driver and ours): a model of that answer for the
 * controller and QEMU to meet without ConnectX hardware.
 */
static int tdev_data_size(struct vfmig_device *vd, u64 *len)
{
	struct tdev_device *td = tdev_from_vd(vd);

	if (!td->data_size_whole) {
		*len = vfmig_stop_copy_bytes(vd);
		return 0;
	}
	mutex_lock(&td->lock);
	*len = tdev_image_len(TDEV_IMG_FULL, TDEV_IMG_FINAL, td->npages);
	mutex_unlock(&td->lock);
	return 0;
}

/* ---- resuming ------------------------------------------------------- */

static int tdev_load_open(struct vfmig_device *vd, bool multi_load)
{
	struct tdev_device *td = tdev_from_vd(vd);
	struct tdev_load *l = &td->load;

	memset(l, 0, sizeof(*l));
	l->staging = vmalloc(td->size);
	if (!l->staging)
		return -ENOMEM;
	l->active = true;
	l->multi_load = multi_load;
	return 0;
}

static void tdev_load_close(struct vfmig_device *vd)
{
	struct tdev_load *l = &tdev_from_vd(vd)->load;

	vfree(l->staging);
	memset(l, 0, sizeof(*l));
}

/* A complete header: is it the image this device expects next? */
static int tdev_load_check_hdr(struct tdev_device *td)
{
	struct tdev_load *l = &td->load;
	struct tdev_image_hdr *h = &l->hdr;
	struct pci_dev *pdev = td->vd.core.pdev;
	u32 kind = le16_to_cpu(h->kind);
	u32 flags = le32_to_cpu(h->flags);
	u64 npages = le32_to_cpu(h->npages);
	bool final = flags & TDEV_IMG_FINAL;

	if (le32_to_cpu(h->magic) != TDEV_STREAM_MAGIC ||
	    le16_to_cpu(h->version) != TDEV_STREAM_VERSION ||
	    le16_to_cpu(h->vendor) != pdev->vendor ||
	    le16_to_cpu(h->device) != pdev->device ||
	    le64_to_cpu(h->state_size) != td->size ||
	    le32_to_cpu(h->seq) != l->seq || (flags & ~TDEV_IMG_FINAL))
		return -EINVAL;

	switch (kind) {
	case TDEV_IMG_INITIAL:
		/* a pre-copy image: more images follow */
		if (l->seq || final || npages != td->npages || !l->multi_load)
			return -EINVAL;
		break;
	case TDEV_IMG_FULL:
		if (l->seq || !final || npages != td->npages)
			return -EINVAL;
		break;
	case TDEV_IMG_DIRTY:
		if (!l->base_done || npages > td->npages || !l->multi_load)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (le64_to_cpu(h->payload_len) !=
	    tdev_image_len(kind, flags, npages) - TDEV_HDR_SIZE)
		return -EINVAL;
	l->img_len = tdev_image_len(kind, flags, npages);
	return 0;
}

static int tdev_load_write(struct vfmig_device *vd, const void *data,
			   size_t len)
{
	struct tdev_device *td = tdev_from_vd(vd);
	struct tdev_load *l = &td->load;
	const u8 *buf = data;
	int ret;

	if (!l->active)
		return -EINVAL;
	while (len) {
		u32 kind = le16_to_cpu(l->hdr.kind);
		u64 pages_len, off;
		size_t n;

		if (!l->in_image) {
			if (l->final_done)
				return -EINVAL;	/* data after the end */
			n = min_t(size_t, TDEV_HDR_SIZE - l->hdr_off, len);
			memcpy((u8 *)&l->hdr + l->hdr_off, buf, n);
			l->hdr_off += n;
			buf += n;
			len -= n;
			if (l->hdr_off < TDEV_HDR_SIZE)
				continue;
			ret = tdev_load_check_hdr(td);
			if (ret)
				return ret;
			l->in_image = true;
			l->img_off = TDEV_HDR_SIZE;
			l->hdr_off = 0;
			l->seq++;
		} else {
			pages_len = tdev_pages_len(kind,
						   le32_to_cpu(l->hdr.npages));
			off = l->img_off - TDEV_HDR_SIZE;
			if (off < pages_len && kind != TDEV_IMG_DIRTY) {
				n = min_t(u64, pages_len - off, len);
				memcpy(l->staging + off, buf, n);
			} else if (off < pages_len) {
				u32 in = do_div(off, TDEV_DIRTY_REC);

				if (in < 4) {
					n = min_t(size_t, 4 - in, len);
					memcpy(l->idx + in, buf, n);
					if (in + n == 4) {
						__le32 idx;

						memcpy(&idx, l->idx, sizeof(idx));
						l->cur_page = le32_to_cpu(idx);
						if (l->cur_page >= td->npages)
							return -EINVAL;
					}
				} else {
					n = min_t(size_t, TDEV_DIRTY_REC - in,
						  len);
					memcpy(l->staging +
					       (u64)l->cur_page * TDEV_PAGE_SIZE +
					       in - 4, buf, n);
				}
			} else {
				off -= pages_len;
				n = min_t(u64, TDEV_DIGEST_SIZE - off, len);
				memcpy(l->digest + off, buf, n);
			}
			l->img_off += n;
			buf += n;
			len -= n;
		}
		if (l->in_image && l->img_off == l->img_len) {
			l->in_image = false;
			if (le16_to_cpu(l->hdr.kind) != TDEV_IMG_DIRTY)
				l->base_done = true;
			if (le32_to_cpu(l->hdr.flags) & TDEV_IMG_FINAL)
				l->final_done = true;
		}
	}
	return 0;
}

static int tdev_load_apply(struct vfmig_device *vd)
{
	struct tdev_device *td = tdev_from_vd(vd);
	struct tdev_load *l = &td->load;
	u8 digest[TDEV_DIGEST_SIZE];
	u8 *old;

	/* truncated: no final image, or one cut short */
	if (!l->active || !l->final_done)
		return -EINVAL;
	sha256(l->staging, td->size, digest);
	if (memcmp(digest, l->digest, sizeof(digest)))
		return -EINVAL;

	mutex_lock(&td->lock);
	old = td->state;
	td->state = l->staging;
	bitmap_zero(td->dirty, td->npages);
	td->ndirty = 0;
	mutex_unlock(&td->lock);
	/* the old state goes with the session */
	l->staging = old;
	return 0;
}

const struct vfmig_backend_ops tdev_backend_ops = {
	.stop = tdev_stop,
	.start = tdev_start,
	.quiesce = tdev_quiesce,
	.unquiesce = tdev_unquiesce,
	.save_open = tdev_save_open,
	.save_fill = tdev_save_fill,
	.save_pending = tdev_save_pending,
	.data_size = tdev_data_size,
	.save_close = tdev_save_close,
	.load_open = tdev_load_open,
	.load_write = tdev_load_write,
	.load_apply = tdev_load_apply,
	.load_close = tdev_load_close,
	.reset = tdev_reset,
	.stream_version = TDEV_STREAM_VERSION,
};
