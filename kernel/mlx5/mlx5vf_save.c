// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5 VF migration: the saving side of the stream.
 *
 * The stream is framed as upstream Linux (>= 6.3) frames it: a
 * STOP_COPY_SIZE record first (optional, the size of our stop-copy
 * buffer, so that the target allocates its image buffer once), then one
 * FW_DATA record per SAVE_VHCA_STATE image: the initial image and the
 * deltas of PRE_COPY, then the final delta (or the whole image, or its
 * chunks) in STOP_COPY.
 *
 * One SAVE is in flight at a time.  Its completion (mlx5vf_save_done, any
 * context) only records the status and wakes the reader; the record is
 * queued by the next process-context user under state_mutex (reap), which
 * also starts the next chunk in chunk mode.
 *
 * PRE_COPY progress is driven by VFIO_MIG_GET_PRECOPY_INFO, as upstream:
 * each call asks the firmware how large a delta would be and, once the
 * reader has everything queued, saves it.
 */
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sizes.h>

#include "mlx5vf.h"

#define MLX5VF_AVAIL_MAX	2

static void mlx5vf_queue_rec(struct mlx5vf_device *mvd, struct mlx5vf_rec *rec)
{
	struct mlx5vf_save *s = &mvd->save;

	list_add_tail(&rec->link, &s->recs);
	s->max_pos += rec->len;
	if (rec->kind == VFMIG_DATA_INITIAL)
		s->initial_bytes += rec->len;
}

static struct mlx5vf_rec *mlx5vf_rec_new(u32 tag, u32 flags, u64 size,
					 enum vfmig_data_kind kind)
{
	struct mlx5vf_rec *rec = kzalloc(sizeof(*rec), GFP_KERNEL_ACCOUNT);

	if (!rec)
		return NULL;
	rec->hdr.record_size = cpu_to_le64(size);
	rec->hdr.flags = cpu_to_le32(flags);
	rec->hdr.tag = cpu_to_le32(tag);
	rec->len = VFMIG_MLX5_REC_HDR + size;
	rec->kind = kind;
	return rec;
}

/* A data buffer of at least @bytes: a kept one if it fits, else new. */
static struct mlx5vf_buf *mlx5vf_save_buf_get(struct mlx5vf_device *mvd,
					      u64 bytes)
{
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_buf *buf, *tmp;
	u32 npages = DIV_ROUND_UP(bytes, PAGE_SIZE);

	list_for_each_entry_safe(buf, tmp, &s->avail, link) {
		if (buf->npages >= npages) {
			list_del_init(&buf->link);
			return buf;
		}
	}
	return mlx5vf_buf_alloc(mvd, bytes);
}

static void mlx5vf_save_buf_put(struct mlx5vf_device *mvd,
				struct mlx5vf_buf *buf)
{
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_buf *b;
	int n = 0;

	list_for_each_entry(b, &s->avail, link)
		n++;
	if (n >= MLX5VF_AVAIL_MAX) {
		mlx5vf_buf_free(mvd, buf);
		return;
	}
	list_add(&buf->link, &s->avail);
}

/* The stop-copy buffer of chunk @chunk (1-based), grown to @bytes. */
static struct mlx5vf_buf *mlx5vf_stop_buf_take(struct mlx5vf_device *mvd,
					       u8 chunk, u64 bytes)
{
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_buf *buf = s->stop_buf[chunk - 1];

	if (!buf)
		return ERR_PTR(-EBUSY);
	s->stop_buf[chunk - 1] = NULL;
	if ((u64)buf->npages * PAGE_SIZE >= bytes)
		return buf;
	mlx5vf_buf_free(mvd, buf);
	return mlx5vf_buf_alloc(mvd, bytes);
}

void mlx5vf_save_done(struct mlx5vf_async_cmd *cmd, int status)
{
	struct mlx5vf_save *s = container_of(cmd, struct mlx5vf_save, cmd);
	struct mlx5vf_device *mvd = container_of(s, struct mlx5vf_device,
						 save);

	s->status = status;
	complete_all(&s->done);
	vfmig_notify(&mvd->vd);
}

static int mlx5vf_save_start(struct mlx5vf_device *mvd, struct mlx5vf_buf *buf,
			     bool inc, bool track, enum vfmig_data_kind kind,
			     u8 chunk)
{
	struct mlx5vf_save *s = &mvd->save;

	s->kind = kind;
	s->chunk = chunk;
	return mlx5vf_cmd_save(mvd, buf, inc, track);
}

static void mlx5vf_save_drop_buf(struct mlx5vf_device *mvd,
				 struct mlx5vf_buf *buf, u8 chunk)
{
	if (chunk)
		mvd->save.stop_buf[chunk - 1] = buf;
	else
		mlx5vf_save_buf_put(mvd, buf);
}

static void mlx5vf_next_chunk(struct mlx5vf_device *mvd);

/*
 * Waits for the SAVE in flight, if any, and queues its image as a FW_DATA
 * record.  state_mutex held.
 */
void mlx5vf_save_wait(struct mlx5vf_device *mvd)
{
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_buf *buf = s->buf;
	struct mlx5vf_rec *rec;
	u32 size, next = 0;
	u8 status;

	if (!s->in_flight)
		return;
	wait_for_completion(&s->done);
	s->in_flight = false;
	s->buf = NULL;

	if (s->status) {
		status = s->status == -EREMOTEIO ? mlx5vf_cmd_status(s->out) : 0;
		mlx5vf_save_drop_buf(mvd, buf, s->chunk);
		if (status == VFMIG_STAT_BAD_RES_STATE && s->buf_track &&
		    !s->final) {
			/* tracking lost: a whole image replaces the deltas */
			mlx5vf_dbg(mvd, "SAVE: tracking lost (BAD_RES_STATE), a full image at stop-copy\n");
			s->state = MLX5VF_SAVE_PRECOPY_ERROR;
			s->inc_length = 0;
			s->inc_known = false;
			return;
		}
		mlx5vf_dbg(mvd, "SAVE failed: %d, status 0x%x\n", s->status,
			   status);
		s->state = MLX5VF_SAVE_ERROR;
		return;
	}

	size = VFMIG_GET(save_vhca_state_out, s->out, actual_image_size);
	if (mvd->chunk_mode)
		next = VFMIG_GET(save_vhca_state_out, s->out,
				 next_required_umem_size);
	if ((u64)size > (u64)buf->npages * PAGE_SIZE) {
		mlx5vf_dbg(mvd, "SAVE: firmware reports %u bytes in a %u-page buffer\n",
			   size, buf->npages);
		mlx5vf_save_drop_buf(mvd, buf, s->chunk);
		s->state = MLX5VF_SAVE_ERROR;
		return;
	}
	rec = mlx5vf_rec_new(VFMIG_MLX5_TAG_FW_DATA, 0, size, s->kind);
	if (!rec) {
		mlx5vf_save_drop_buf(mvd, buf, s->chunk);
		s->state = MLX5VF_SAVE_ERROR;
		return;
	}
	rec->buf = buf;
	rec->chunk = s->chunk;
	mlx5vf_queue_rec(mvd, rec);
	mlx5vf_dbg(mvd, "SAVE done: %u bytes%s, stream at %llu\n", size,
		   next ? ", more chunks" : "", s->max_pos);
	if (s->final) {
		s->next_required = next;
		if (!next)
			s->complete = true;
		else
			mlx5vf_next_chunk(mvd);
	}
}

/*
 * Chunk mode, stop-copy: the firmware has more; save it into whichever
 * stop-copy buffer the reader gave back.  Without a free one the reader
 * starts it when it finishes a chunk.
 */
static void mlx5vf_next_chunk(struct mlx5vf_device *mvd)
{
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_buf *buf;
	u8 chunk;
	int ret;

	if (s->in_flight || !s->next_required || s->state != MLX5VF_SAVE_OK)
		return;
	for (chunk = 1; chunk <= MLX5VF_MAX_CHUNKS; chunk++)
		if (s->stop_buf[chunk - 1])
			break;
	if (chunk > MLX5VF_MAX_CHUNKS)
		return;
	buf = mlx5vf_stop_buf_take(mvd, chunk, s->next_required);
	if (IS_ERR(buf)) {
		s->state = MLX5VF_SAVE_ERROR;
		return;
	}
	s->next_required = 0;
	ret = mlx5vf_save_start(mvd, buf, true, false, VFMIG_DATA_FINAL,
				chunk);
	if (ret) {
		mlx5vf_save_drop_buf(mvd, buf, chunk);
		s->state = MLX5VF_SAVE_ERROR;
	}
}

/* The stop-copy buffers, and the STOP_COPY_SIZE record naming their size. */
static int mlx5vf_prep_stop_copy(struct mlx5vf_device *mvd, bool track)
{
	struct mlx5vf_save *s = &mvd->save;
	enum vfmig_data_kind kind = track ? VFMIG_DATA_INITIAL :
					    VFMIG_DATA_FINAL;
	int nbufs = mvd->chunk_mode ? MLX5VF_MAX_CHUNKS : 1;
	struct mlx5vf_rec *rec;
	u64 size;
	int i;

	if (mvd->chunk_mode)
		size = max_t(u64, s->state_size,
			     min_t(u64, VFMIG_MLX5_MAX_CHUNK_SIZE,
				   s->full_size));
	else if (track && s->state_size <= U64_MAX - s->state_size / 10)
		size = s->state_size + s->state_size / 10;	/* growth */
	else
		size = s->state_size;
	size = min_t(u64, size, VFMIG_MLX5_MAX_SAVE_SIZE);

	for (i = 0; i < nbufs; i++) {
		s->stop_buf[i] = mlx5vf_buf_alloc(mvd, size);
		if (IS_ERR(s->stop_buf[i])) {
			int ret = PTR_ERR(s->stop_buf[i]);

			s->stop_buf[i] = NULL;
			return ret;
		}
	}
	rec = mlx5vf_rec_new(VFMIG_MLX5_TAG_STOP_COPY_SIZE,
			     VFMIG_MLX5_REC_OPTIONAL, sizeof(rec->value), kind);
	if (!rec)
		return -ENOMEM;
	rec->value = cpu_to_le64((u64)s->stop_buf[0]->npages * PAGE_SIZE);
	mlx5vf_queue_rec(mvd, rec);
	return 0;
}

static void mlx5vf_save_free(struct mlx5vf_device *mvd)
{
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_rec *rec, *rtmp;
	struct mlx5vf_buf *buf, *btmp;
	int i;

	list_for_each_entry_safe(rec, rtmp, &s->recs, link) {
		list_del(&rec->link);
		mlx5vf_buf_free(mvd, rec->buf);
		kfree(rec);
	}
	list_for_each_entry_safe(buf, btmp, &s->avail, link) {
		list_del(&buf->link);
		mlx5vf_buf_free(mvd, buf);
	}
	for (i = 0; i < MLX5VF_MAX_CHUNKS; i++) {
		mlx5vf_buf_free(mvd, s->stop_buf[i]);
		s->stop_buf[i] = NULL;
	}
}

static void mlx5vf_save_reset(struct mlx5vf_device *mvd)
{
	struct mlx5vf_save *s = &mvd->save;

	s->active = false;
	s->track = false;
	s->state = MLX5VF_SAVE_OK;
	s->max_pos = 0;
	s->initial_bytes = 0;
	s->inc_length = 0;
	s->inc_known = false;
	s->final = false;
	s->complete = false;
	s->next_required = 0;
}

void mlx5vf_save_init(struct mlx5vf_device *mvd)
{
	struct mlx5vf_save *s = &mvd->save;

	INIT_LIST_HEAD(&s->recs);
	INIT_LIST_HEAD(&s->avail);
	init_completion(&s->done);
	complete_all(&s->done);
	mlx5vf_save_reset(mvd);
}

/*
 * RUNNING -> PRE_COPY (track: the first image, with tracking on) or
 * STOP -> STOP_COPY (the whole image at once).
 */
int mlx5vf_save_open(struct vfmig_device *vd, bool precopy)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_buf *buf;
	int ret;

	mlx5vf_save_reset(mvd);
	ret = mlx5vf_cmd_query(mvd, 0,
			       &s->state_size, &s->full_size, NULL);
	if (ret)
		return mlx5vf_errno(ret);
	mvd->last_full_size = s->full_size;
	ret = mlx5vf_prep_stop_copy(mvd, precopy);
	if (ret)
		goto err;
	s->active = true;
	s->track = precopy;
	if (precopy) {
		buf = mlx5vf_save_buf_get(mvd, s->state_size);
		if (IS_ERR(buf)) {
			ret = PTR_ERR(buf);
			goto err;
		}
		ret = mlx5vf_save_start(mvd, buf, false, true,
					VFMIG_DATA_INITIAL, 0);
		if (ret) {
			mlx5vf_buf_free(mvd, buf);
			goto err;
		}
		return 0;
	}
	s->final = true;
	buf = mlx5vf_stop_buf_take(mvd, 1, s->state_size);
	if (IS_ERR(buf)) {
		ret = PTR_ERR(buf);
		goto err;
	}
	ret = mlx5vf_save_start(mvd, buf, false, false, VFMIG_DATA_FINAL, 1);
	if (ret) {
		mlx5vf_save_drop_buf(mvd, buf, 1);
		goto err;
	}
	return 0;

err:
	mlx5vf_save_free(mvd);
	mlx5vf_save_reset(mvd);
	return mlx5vf_errno(ret);
}

/*
 * PRE_COPY_P2P -> STOP_COPY, after SUSPEND_VHCA(RESPONDER): the final
 * delta, or the whole image when tracking was lost.  A failure here marks
 * the stream dead (the reader gets the error) and leaves the arc done, so
 * that the source can go back to RUNNING.
 */
void mlx5vf_save_final(struct mlx5vf_device *mvd)
{
	struct mlx5vf_save *s = &mvd->save;
	bool full = s->state == MLX5VF_SAVE_PRECOPY_ERROR;
	struct mlx5vf_buf *buf;
	u64 len, total;
	int ret;

	if (!s->active || !s->track || s->final)
		return;
	mlx5vf_save_wait(mvd);
	if (s->state == MLX5VF_SAVE_ERROR)
		return;
	s->final = true;
	s->state = MLX5VF_SAVE_OK;
	ret = mlx5vf_cmd_query(mvd, full ? 0 : MLX5VF_QUERY_INC, &len, &total,
			       NULL);
	if (ret)
		goto err;
	buf = mlx5vf_stop_buf_take(mvd, 1, len);
	if (IS_ERR(buf))
		goto err;
	ret = mlx5vf_save_start(mvd, buf, !full, false, VFMIG_DATA_FINAL, 1);
	if (ret) {
		mlx5vf_save_drop_buf(mvd, buf, 1);
		goto err;
	}
	return;
err:
	s->state = MLX5VF_SAVE_ERROR;
}

ssize_t mlx5vf_save_fill(struct vfmig_device *vd, void *to, size_t len,
				bool stopped, enum vfmig_data_kind *kind)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_rec *rec;
	u64 off, n, done = 0;

	mlx5vf_save_wait(mvd);
	while (stopped && list_empty(&s->recs) && !s->complete &&
	       s->state == MLX5VF_SAVE_OK) {
		mlx5vf_next_chunk(mvd);
		if (!s->in_flight)
			break;
		mlx5vf_save_wait(mvd);
	}
	if (s->state == MLX5VF_SAVE_ERROR)
		return -EIO;
	rec = list_first_entry_or_null(&s->recs, struct mlx5vf_rec, link);
	if (!rec) {
		if (stopped && !s->complete)
			return -EIO;	/* nothing more will come */
		return 0;
	}
	*kind = rec->kind;
	while (done < len && rec->pos < rec->len) {
		off = rec->pos;
		if (off < VFMIG_MLX5_REC_HDR) {
			n = min_t(u64, len - done, VFMIG_MLX5_REC_HDR - off);
			memcpy(to + done, (u8 *)&rec->hdr + off, n);
		} else if (!rec->buf) {
			off -= VFMIG_MLX5_REC_HDR;
			n = min_t(u64, len - done, sizeof(rec->value) - off);
			memcpy(to + done, (u8 *)&rec->value + off, n);
		} else {
			off -= VFMIG_MLX5_REC_HDR;
			n = min_t(u64, len - done, rec->len - rec->pos);
			mlx5vf_buf_copy_from(rec->buf, off, to + done, n);
		}
		rec->pos += n;
		done += n;
	}
	if (rec->pos == rec->len) {
		list_del(&rec->link);
		if (rec->buf)
			mlx5vf_save_drop_buf(mvd, rec->buf, rec->chunk);
		kfree(rec);
		if (stopped)
			mlx5vf_next_chunk(mvd);
	}
	return done;
}

/*
 * state_mutex held: the session's final image will be an incremental one
 * (PRE_COPY with the firmware tracking: no BAD_RES_STATE, not yet
 * stopping), so a firmware QUERY knows what the switch-over will send.
 */
static bool mlx5vf_save_final_delta(struct mlx5vf_device *mvd)
{
	struct mlx5vf_save *s = &mvd->save;

	return s->active && s->track && s->state == MLX5VF_SAVE_OK &&
	       !s->final && mvd->vd.mig_state == VFIO_DEVICE_STATE_PRE_COPY;
}

/* ... and MIG_DATA_SIZE answers it (not upstream's whole image) */
static bool mlx5vf_save_final_is_delta(struct mlx5vf_device *mvd)
{
	return mlx5vf_save_final_delta(mvd) && !mvd->data_size_whole;
}

/* Cheap estimates, no firmware command: sysfs and poll() ask. */
void mlx5vf_save_pending(struct vfmig_device *vd, struct vfmig_pending *p)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_rec *rec;
	bool delta;

	memset(p, 0, sizeof(*p));
	/* the last MIG_DATA_SIZE answer's kind, without a command */
	delta = mlx5vf_save_final_is_delta(mvd) && s->inc_known;
	p->stop_copy = delta ? s->inc_length + VFMIG_MLX5_REC_HDR :
			       mvd->last_full_size;
	/*
	 * The whole image where the switch-over will send a delta: no
	 * incremental QUERY yet, or upstream's answer (data_size_whole)
	 */
	p->stop_copy_whole = !delta && mlx5vf_save_final_delta(mvd);
	if (!s->active)
		return;
	list_for_each_entry(rec, &s->recs, link) {
		if (rec->kind == VFMIG_DATA_INITIAL)
			p->initial += rec->len - rec->pos;
		else if (rec->kind == VFMIG_DATA_DIRTY)
			p->dirty += rec->len - rec->pos;
	}
	if (s->in_flight && completion_done(&s->done) && !s->status) {
		u64 n = VFMIG_MLX5_REC_HDR +
			VFMIG_GET(save_vhca_state_out, s->out,
				  actual_image_size);

		if (s->kind == VFMIG_DATA_INITIAL)
			p->initial += n;
		else if (s->kind == VFMIG_DATA_DIRTY)
			p->dirty += n;
	}
	if (s->state == MLX5VF_SAVE_OK)
		p->dirty += s->inc_length;
}

/*
 * VFIO_MIG_GET_PRECOPY_INFO as upstream computes it: initial bytes are
 * what is left of the initial image (and the STOP_COPY_SIZE record before
 * it); once it is read, dirty bytes are what is queued and unread plus
 * what the firmware would save now, and when nothing is left to read the
 * firmware saves that delta.  In PRE_COPY_P2P the function is suspended
 * as an initiator and no command is sent.
 */
int mlx5vf_precopy_info(struct vfmig_device *vd, u64 read,
			       u64 *initial, u64 *dirty)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_buf *buf;
	u64 inc = 0, unused;
	bool end;
	int ret;

	*initial = 0;
	*dirty = 0;
	mlx5vf_save_wait(mvd);
	if (s->state == MLX5VF_SAVE_ERROR)
		return -ENODEV;
	if (vd->mig_state == VFIO_DEVICE_STATE_PRE_COPY &&
	    s->state == MLX5VF_SAVE_OK) {
		ret = mlx5vf_cmd_query(mvd, MLX5VF_QUERY_INC, &inc, &unused,
				       NULL);
		if (ret)
			return mlx5vf_errno(ret);
		s->inc_length = inc;
		s->inc_known = true;
	}

	if (s->initial_bytes > read) {
		*initial = s->initial_bytes - read;
		return 0;
	}
	*dirty = s->max_pos - read;
	end = !*dirty;
	*dirty += inc;
	if (!end || !inc)
		return 0;

	buf = mlx5vf_save_buf_get(mvd, inc);
	if (IS_ERR(buf)) {
		s->state = MLX5VF_SAVE_ERROR;
		return PTR_ERR(buf);
	}
	ret = mlx5vf_save_start(mvd, buf, true, true, VFMIG_DATA_DIRTY, 0);
	if (ret) {
		mlx5vf_buf_free(mvd, buf);
		s->state = MLX5VF_SAVE_ERROR;
		return mlx5vf_errno(ret);
	}
	s->inc_length = 0;
	s->inc_known = false;
	*dirty += VFMIG_MLX5_REC_HDR;
	return 0;
}

/*
 * MIG_DATA_SIZE, "the estimated data length that will be required to
 * complete stop copy".  Where the final image will be a delta, that is
 * the incremental QUERY's size and its record header: what the firmware
 * would save at STOP_COPY now (bytes already queued and unread are not
 * in it: the VMM counts them through the precopy ioctl's dirty bytes).
 * Elsewhere (no session, STOP, tracking lost, chunk mode without
 * tracking) the whole image, which is what STOP_COPY then sends.
 * Upstream answers the whole image always (data_size_whole: the model's
 * knob for comparing the two).
 */
int mlx5vf_data_size(struct vfmig_device *vd, u64 *len)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	u64 state, total;
	int ret;

	mlx5vf_save_wait(mvd);
	if (mlx5vf_save_final_is_delta(mvd)) {
		ret = mlx5vf_cmd_query(mvd, MLX5VF_QUERY_INC, &state, &total,
				       NULL);
		if (ret)
			return mlx5vf_errno(ret);
		*len = total + VFMIG_MLX5_REC_HDR;
		mvd->last_stop_copy = *len;
		mvd->save.inc_length = total;
		mvd->save.inc_known = true;
		return 0;
	}
	ret = mlx5vf_cmd_query(mvd, 0,
			       &state, &total, NULL);
	if (ret)
		return mlx5vf_errno(ret);
	*len = total;
	mvd->last_full_size = total;
	mvd->last_stop_copy = total;
	return 0;
}

/*
 * The saving session ends: STOP_COPY -> STOP, an aborted PRE_COPY, a
 * reset, close.  Leaving PRE_COPY with tracking on, the firmware is told
 * to drop its tracking with a non-incremental, non-tracking SAVE whose
 * image is thrown away (upstream does the same since 6.9); not on a reset,
 * which sends the firmware nothing (the function's reset ends it).
 */
void mlx5vf_save_close(struct vfmig_device *vd)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	struct mlx5vf_save *s = &mvd->save;
	struct mlx5vf_buf *buf;
	u64 len, total;

	mlx5vf_save_wait(mvd);
	if (s->active && s->track && !s->final && !vd->resetting &&
	    s->state != MLX5VF_SAVE_ERROR && !READ_ONCE(mvd->mdev_detach) &&
	    vfmig_state_is_running(vd->mig_state) &&
	    !mlx5vf_cmd_query(mvd, 0, &len, &total, NULL)) {
		buf = mlx5vf_save_buf_get(mvd, len);
		if (!IS_ERR(buf)) {
			if (!mlx5vf_save_start(mvd, buf, false, false,
					       VFMIG_DATA_FINAL, 0)) {
				wait_for_completion(&s->done);
				s->in_flight = false;
				s->buf = NULL;
				if (s->status)
					pci_warn(vd->core.pdev,
						 "mlx5: the firmware did not stop tracking: %d\n",
						 s->status);
			}
			mlx5vf_buf_free(mvd, buf);
		}
	}
	mlx5vf_save_free(mvd);
	mlx5vf_save_reset(mvd);
}

/* Detach, reset, close: no command; wait for the firmware, drop it all. */
void mlx5vf_save_abandon(struct mlx5vf_device *mvd)
{
	struct mlx5vf_save *s = &mvd->save;

	if (s->in_flight) {
		wait_for_completion(&s->done);
		s->in_flight = false;
		mlx5vf_buf_free(mvd, s->buf);
		s->buf = NULL;
	}
	s->state = MLX5VF_SAVE_ERROR;
}
