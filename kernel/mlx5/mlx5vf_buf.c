// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5 VF migration: the buffers the firmware saves into and loads from.
 * A buffer is a page array the fw ops map for the firmware (an mkey over
 * the pages' DMA addresses on the PF, in the real implementation); the
 * driver copies between it and the engine's bounce buffer.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "mlx5vf.h"

void mlx5vf_buf_free(struct mlx5vf_device *mvd, struct mlx5vf_buf *buf)
{
	u32 i;

	if (!buf)
		return;
	if (buf->mapped)
		mvd->fw_ops->buf_unmap(mvd->fw, buf);
	for (i = 0; i < buf->npages; i++)
		if (buf->pages[i])
			__free_page(buf->pages[i]);
	kvfree(buf->pages);
	kfree(buf);
}

struct mlx5vf_buf *mlx5vf_buf_alloc(struct mlx5vf_device *mvd, u64 bytes)
{
	struct mlx5vf_buf *buf;
	u64 npages = DIV_ROUND_UP(max_t(u64, bytes, 1), PAGE_SIZE);
	u32 i;
	int ret;

	if (npages > VFMIG_MLX5_MAX_LOAD_SIZE / PAGE_SIZE + 1)
		return ERR_PTR(-ENOMEM);
	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&buf->link);
	buf->pages = kvcalloc(npages, sizeof(*buf->pages), GFP_KERNEL_ACCOUNT);
	if (!buf->pages) {
		kfree(buf);
		return ERR_PTR(-ENOMEM);
	}
	buf->npages = npages;
	for (i = 0; i < npages; i++) {
		buf->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!buf->pages[i]) {
			ret = -ENOMEM;
			goto err;
		}
	}
	ret = mvd->fw_ops->buf_map(mvd->fw, buf);
	if (ret)
		goto err;
	buf->mapped = true;
	return buf;

err:
	mlx5vf_buf_free(mvd, buf);
	return ERR_PTR(ret);
}

void mlx5vf_buf_copy_from(struct mlx5vf_buf *buf, u64 off, void *to, u64 len)
{
	while (len) {
		u64 pg = off >> PAGE_SHIFT;
		size_t poff = offset_in_page(off);
		size_t n = min_t(u64, len, PAGE_SIZE - poff);
		void *from = kmap_local_page(buf->pages[pg]);

		memcpy(to, from + poff, n);
		kunmap_local(from);
		to += n;
		off += n;
		len -= n;
	}
}

void mlx5vf_buf_copy_to(struct mlx5vf_buf *buf, u64 off, const void *from,
			u64 len)
{
	while (len) {
		u64 pg = off >> PAGE_SHIFT;
		size_t poff = offset_in_page(off);
		size_t n = min_t(u64, len, PAGE_SIZE - poff);
		void *to = kmap_local_page(buf->pages[pg]);

		memcpy(to + poff, from, n);
		kunmap_local(to);
		from += n;
		off += n;
		len -= n;
	}
}
