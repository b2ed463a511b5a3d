// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5 VF migration: the resuming side of the stream.  Parses the records
 * as upstream frames them, whatever the write() boundaries: each FW_DATA
 * record becomes one LOAD_VHCA_STATE as soon as it is complete (several
 * per migration: the firmware's migration_multi_load), STOP_COPY_SIZE
 * sizes the image buffer once, another record marked optional is skipped,
 * any other record refuses the stream.
 *
 * The function is suspended as a responder before RESUMING (the FSM goes
 * RUNNING_P2P -> STOP first), which the firmware requires for LOAD.
 */
#include <linux/slab.h>

#include "mlx5vf.h"


int mlx5vf_load_open(struct vfmig_device *vd, bool multi_load)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	struct mlx5vf_load *l = &mvd->load;

	if (READ_ONCE(mvd->mdev_detach))
		return -ENOTCONN;
	memset(l, 0, sizeof(*l));
	l->step = MLX5VF_LOAD_HEADER;
	return 0;
}

/* A whole header is in l->hdr: what follows it. */
static int mlx5vf_load_header(struct mlx5vf_device *mvd)
{
	struct mlx5vf_load *l = &mvd->load;
	struct vfmig_mlx5_rec_hdr *hdr = (void *)l->hdr;
	u32 flags = le32_to_cpu(hdr->flags);
	u32 tag = le32_to_cpu(hdr->tag);
	u64 want;

	l->rec_size = le64_to_cpu(hdr->record_size);
	l->rec_pos = 0;
	l->hdr_pos = 0;
	if (l->rec_size > VFMIG_MLX5_MAX_LOAD_SIZE) {
		mlx5vf_dbg(mvd, "load: a record of %llu bytes, more than LOAD takes\n",
			   l->rec_size);
		return -ENOMEM;
	}
	switch (tag) {
	case VFMIG_MLX5_TAG_FW_DATA:
		want = max(l->rec_size, l->prep_size);
		if (!l->buf || (u64)l->buf->npages * PAGE_SIZE < l->rec_size) {
			mlx5vf_buf_free(mvd, l->buf);
			l->buf = mlx5vf_buf_alloc(mvd, want);
			if (IS_ERR(l->buf)) {
				int ret = PTR_ERR(l->buf);

				l->buf = NULL;
				return ret;
			}
		}
		l->step = MLX5VF_LOAD_IMAGE;
		break;
	case VFMIG_MLX5_TAG_STOP_COPY_SIZE:
		if (l->rec_size == sizeof(l->value)) {
			l->step = MLX5VF_LOAD_STOP_COPY_SIZE;
			break;
		}
		fallthrough;
	default:
		if (!(flags & VFMIG_MLX5_REC_OPTIONAL)) {
			mlx5vf_dbg(mvd, "load: record tag %u (%llu bytes) is unknown and not optional\n",
				   tag, l->rec_size);
			return -EOPNOTSUPP;
		}
		l->step = MLX5VF_LOAD_SKIP;
		break;
	}
	return 0;
}

/* The record's payload is complete. */
static int mlx5vf_load_record(struct mlx5vf_device *mvd)
{
	struct mlx5vf_load *l = &mvd->load;
	__le64 value;
	int ret;

	switch (l->step) {
	case MLX5VF_LOAD_IMAGE:
		if (!l->rec_size)
			break;
		ret = mlx5vf_cmd_load(mvd, l->buf, l->rec_size);
		if (ret)
			return ret == -EREMOTEIO ? -EINVAL : ret;
		l->images++;
		mlx5vf_dbg(mvd, "LOAD_VHCA_STATE of image %u, %llu bytes\n",
			   l->images, l->rec_size);
		break;
	case MLX5VF_LOAD_STOP_COPY_SIZE:
		memcpy(&value, l->value, sizeof(value));
		l->prep_size = min_t(u64, le64_to_cpu(value),
				     VFMIG_MLX5_MAX_LOAD_SIZE);
		break;
	default:
		break;
	}
	l->step = MLX5VF_LOAD_HEADER;
	return 0;
}

int mlx5vf_load_write(struct vfmig_device *vd, const void *from, size_t len)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	struct mlx5vf_load *l = &mvd->load;
	u64 n;
	int ret;

	if (l->step == MLX5VF_LOAD_ERROR)
		return -EIO;
	while (len) {
		if (l->step == MLX5VF_LOAD_HEADER) {
			n = min_t(u64, len, VFMIG_MLX5_REC_HDR - l->hdr_pos);
			memcpy(l->hdr + l->hdr_pos, from, n);
			l->hdr_pos += n;
			if (l->hdr_pos == VFMIG_MLX5_REC_HDR) {
				ret = mlx5vf_load_header(mvd);
				if (ret)
					goto err;
			}
		} else {
			n = min_t(u64, len, l->rec_size - l->rec_pos);
			if (l->step == MLX5VF_LOAD_IMAGE)
				mlx5vf_buf_copy_to(l->buf, l->rec_pos, from, n);
			else if (l->step == MLX5VF_LOAD_STOP_COPY_SIZE)
				memcpy(l->value + l->rec_pos, from, n);
			l->rec_pos += n;
		}
		from += n;
		len -= n;
		if (l->step != MLX5VF_LOAD_HEADER && l->rec_pos == l->rec_size) {
			ret = mlx5vf_load_record(mvd);
			if (ret)
				goto err;
		}
	}
	return 0;
err:
	l->step = MLX5VF_LOAD_ERROR;
	return ret;
}

/*
 * RESUMING -> STOP.  The firmware has loaded every image already (there
 * is no commit command); a stream cut inside a record, or one that
 * carried no image, is refused.
 */
int mlx5vf_load_apply(struct vfmig_device *vd)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	struct mlx5vf_load *l = &mvd->load;

	if (l->step != MLX5VF_LOAD_HEADER || l->hdr_pos) {
		mlx5vf_dbg(mvd, "load: the stream ends inside a record\n");
		return -EINVAL;
	}
	if (!l->images) {
		mlx5vf_dbg(mvd, "load: the stream carried no image\n");
		return -EINVAL;
	}
	return 0;
}

void mlx5vf_load_close(struct vfmig_device *vd)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	struct mlx5vf_load *l = &mvd->load;

	mlx5vf_buf_free(mvd, l->buf);
	memset(l, 0, sizeof(*l));
}
