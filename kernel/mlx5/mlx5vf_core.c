// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5 VF migration: the firmware ops over mlx5_core, the real ones.
 * Commands go through the PF's command interface (mlx5_cmd_do, which
 * keeps the firmware's status in the output and returns -EREMOTEIO for
 * it, and mlx5_cmd_exec_cb for SAVE); buffers are mapped for DMA by the
 * PF and described to the firmware by an MTT mkey in a PD of our own;
 * the PF's SR-IOV blocking notifier reports VF disable and enable.  The
 * DMA dirty-page tracker's reporting channel (track_*) is in
 * mlx5vf_core_track.c.
 *
 * This file runs only on ConnectX hardware: the VM suite can load the
 * module beside Debian's mlx5_core (its symbols resolve) but cannot bind
 * it.  docs/kernel.rst lists what only hardware verifies.
 */
#include <linux/dma-mapping.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/vport.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "mlx5vf_core.h"

struct mlx5vf_fw {
	struct mlx5_core_dev *mdev;	/* the PF's */
	struct mlx5_async_ctx async_ctx;
	u32 pdn;
};

struct mlx5vf_core_async {
	struct mlx5_async_work work;
	struct mlx5vf_async_cmd *cmd;
};

struct mlx5vf_core_map {
	dma_addr_t *addrs;
};

struct mlx5_core_dev *mlx5vf_core_mdev(struct mlx5vf_fw *fw)
{
	return fw->mdev;
}

u32 mlx5vf_core_pdn(struct mlx5vf_fw *fw)
{
	return fw->pdn;
}

static int mlx5vf_core_exec(struct mlx5vf_fw *fw, void *in, int inlen,
			    void *out, int outlen)
{
	int ret = mlx5_cmd_do(fw->mdev, in, inlen, out, outlen);

	if (ret == -EREMOTEIO)
		mlx5_cmd_out_err(fw->mdev, VFMIG_GET(vhca_cmd_in, in, opcode),
				 VFMIG_GET(vhca_cmd_in, in, op_mod), out);
	return ret;
}

static void mlx5vf_core_async_done(int status, struct mlx5_async_work *work)
{
	struct mlx5vf_core_async *a = container_of(work,
						   struct mlx5vf_core_async,
						   work);
	struct mlx5vf_async_cmd *cmd = a->cmd;

	kfree(a);
	cmd->done(cmd, status);
}

static int mlx5vf_core_exec_cb(struct mlx5vf_fw *fw, void *in, int inlen,
			       struct mlx5vf_async_cmd *cmd)
{
	struct mlx5vf_core_async *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->cmd = cmd;
	ret = mlx5_cmd_exec_cb(&fw->async_ctx, in, inlen, cmd->out,
			       cmd->outlen, mlx5vf_core_async_done, &a->work);
	if (ret)
		kfree(a);
	return ret;
}

static void mlx5vf_core_flush(struct mlx5vf_fw *fw)
{
	/* the driver waits for its one SAVE; nothing else is asynchronous */
}

static void mlx5vf_core_unmap_pages(struct mlx5vf_fw *fw,
				    struct mlx5vf_buf *buf, dma_addr_t *addrs,
				    u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		dma_unmap_page(fw->mdev->device, addrs[i], PAGE_SIZE,
			       DMA_BIDIRECTIONAL);
}

int mlx5vf_core_buf_map(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf)
{
	u32 octwords = DIV_ROUND_UP(buf->npages, 2);
	int inlen = MLX5_ST_SZ_BYTES(create_mkey_in) +
		    sizeof(__be64) * 2 * octwords;
	struct mlx5vf_core_map *map;
	__be64 *mtt;
	void *mkc;
	u32 *in;
	u32 i;
	int ret;

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	map->addrs = kvcalloc(buf->npages, sizeof(*map->addrs),
			      GFP_KERNEL_ACCOUNT);
	in = kvzalloc(inlen, GFP_KERNEL_ACCOUNT);
	if (!map->addrs || !in) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < buf->npages; i++) {
		map->addrs[i] = dma_map_page(fw->mdev->device, buf->pages[i],
					     0, PAGE_SIZE, DMA_BIDIRECTIONAL);
		if (dma_mapping_error(fw->mdev->device, map->addrs[i])) {
			ret = -ENOMEM;
			goto err_unmap;
		}
	}

	MLX5_SET(create_mkey_in, in, translations_octword_actual_size,
		 octwords);
	mtt = (__be64 *)MLX5_ADDR_OF(create_mkey_in, in, klm_pas_mtt);
	for (i = 0; i < buf->npages; i++)
		mtt[i] = cpu_to_be64(map->addrs[i]);
	mkc = MLX5_ADDR_OF(create_mkey_in, in, memory_key_mkey_entry);
	MLX5_SET(mkc, mkc, access_mode_1_0, MLX5_MKC_ACCESS_MODE_MTT);
	MLX5_SET(mkc, mkc, lr, 1);
	MLX5_SET(mkc, mkc, lw, 1);
	MLX5_SET(mkc, mkc, rr, 1);
	MLX5_SET(mkc, mkc, rw, 1);
	MLX5_SET(mkc, mkc, pd, fw->pdn);
	MLX5_SET(mkc, mkc, bsf_octword_size, 0);
	MLX5_SET(mkc, mkc, qpn, 0xffffff);
	MLX5_SET(mkc, mkc, log_page_size, PAGE_SHIFT);
	MLX5_SET(mkc, mkc, translations_octword_size, octwords);
	MLX5_SET64(mkc, mkc, len, (u64)buf->npages * PAGE_SIZE);
	ret = mlx5_core_create_mkey(fw->mdev, &buf->mkey, in, inlen);
	if (ret)
		goto err_unmap;
	kvfree(in);
	buf->fw_priv = map;
	return 0;

err_unmap:
	mlx5vf_core_unmap_pages(fw, buf, map->addrs, i);
err_free:
	kvfree(in);
	kvfree(map->addrs);
	kfree(map);
	return ret;
}

void mlx5vf_core_buf_unmap(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf)
{
	struct mlx5vf_core_map *map = buf->fw_priv;

	mlx5_core_destroy_mkey(fw->mdev, buf->mkey);
	mlx5vf_core_unmap_pages(fw, buf, map->addrs, buf->npages);
	kvfree(map->addrs);
	kfree(map);
	buf->fw_priv = NULL;
}

/* The ADV_VIRTUALIZATION page is there only when the general cap says so. */
static void mlx5vf_core_track_caps(struct mlx5_core_dev *mdev,
				   struct mlx5vf_track_caps *t)
{
	*t = (struct mlx5vf_track_caps){};
	t->supported = MLX5_CAP_GEN(mdev, adv_virtualization);
	if (!t->supported)
		return;
	t->max_num_range =
		MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_max_num_range);
	t->log_min_addr_space =
		MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_min_addr_space);
	t->log_max_addr_space =
		MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_max_addr_space);
	t->log_min_msg_size =
		MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_min_msg_size);
	t->log_max_msg_size =
		MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_max_msg_size);
	t->log_min_page_size =
		MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_min_page_size);
	t->log_max_page_size =
		MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_max_page_size);
}

static void mlx5vf_core_pf_caps(struct mlx5vf_fw *fw,
				struct mlx5vf_pf_caps *caps)
{
	struct mlx5_core_dev *mdev = fw->mdev;
	void *cap2 = mdev->caps.hca[MLX5_CAP_GENERAL_2]->cur;

	caps->migration = MLX5_CAP_GEN(mdev, migration);
	caps->migration_multi_load =
		VFMIG_GET(hca_cap_2, cap2, migration_multi_load);
	caps->migration_tracking_state =
		VFMIG_GET(hca_cap_2, cap2, migration_tracking_state);
	caps->migration_in_chunks =
		VFMIG_GET(hca_cap_2, cap2, migration_in_chunks);
	caps->migration_state = VFMIG_GET(hca_cap_2, cap2, migration_state);
	mlx5vf_core_track_caps(mdev, &caps->track);
}

#ifdef MLX5VF_HAVE_OTHER_FUNC_CAP
/* mlx5_core's own helper (Debian 6.1.0-57 and later, 6.12): GET_MAX. */
static int mlx5vf_core_other_func_cap_2(struct mlx5vf_fw *fw, u16 function_id,
					void *out, int outlen)
{
	return mlx5_vport_get_other_func_cap(fw->mdev, function_id, out,
					     MLX5_CAP_GENERAL_2);
}
#endif

static int mlx5vf_core_notifier_register(struct mlx5vf_fw *fw, int vf_id,
					 struct notifier_block *nb)
{
	return mlx5_sriov_blocking_notifier_register(fw->mdev, vf_id, nb);
}

static void mlx5vf_core_notifier_unregister(struct mlx5vf_fw *fw, int vf_id,
					    struct notifier_block *nb)
{
	mlx5_sriov_blocking_notifier_unregister(fw->mdev, vf_id, nb);
}

static const struct mlx5vf_fw_ops mlx5vf_core_ops = {
	.exec = mlx5vf_core_exec,
	.exec_cb = mlx5vf_core_exec_cb,
	.flush = mlx5vf_core_flush,
	.buf_map = mlx5vf_core_buf_map,
	.buf_unmap = mlx5vf_core_buf_unmap,
	.pf_caps = mlx5vf_core_pf_caps,
#ifdef MLX5VF_HAVE_OTHER_FUNC_CAP
	.other_func_cap_2 = mlx5vf_core_other_func_cap_2,
#endif
	.notifier_register = mlx5vf_core_notifier_register,
	.notifier_unregister = mlx5vf_core_notifier_unregister,
	.track_open = mlx5vf_core_track_open,
	.track_poll = mlx5vf_core_track_poll,
	.track_repost = mlx5vf_core_track_repost,
	.track_close = mlx5vf_core_track_close,
};

static struct mlx5vf_fw *mlx5vf_core_attach(struct pci_dev *pdev)
{
	struct mlx5_core_dev *mdev;
	struct mlx5vf_fw *fw;
	int ret;

	if (!pdev->is_virtfn)
		return NULL;
	mdev = mlx5_vf_get_core_dev(pdev);
	if (!mdev)
		return NULL;
	fw = kzalloc(sizeof(*fw), GFP_KERNEL);
	if (!fw) {
		ret = -ENOMEM;
		goto err_put;
	}
	fw->mdev = mdev;
	ret = mlx5_core_alloc_pd(mdev, &fw->pdn);
	if (ret)
		goto err_free;
	mlx5_cmd_init_async_ctx(mdev, &fw->async_ctx);
	return fw;

err_free:
	kfree(fw);
err_put:
	mlx5_vf_put_core_dev(mdev);
	return ERR_PTR(ret);
}

static void mlx5vf_core_detach(struct mlx5vf_fw *fw)
{
	/* waits for every command of the context */
	mlx5_cmd_cleanup_async_ctx(&fw->async_ctx);
	mlx5_core_dealloc_pd(fw->mdev, fw->pdn);
	mlx5_vf_put_core_dev(fw->mdev);
	kfree(fw);
}

static int mlx5vf_core_vf_id(struct mlx5vf_fw *fw, struct pci_dev *pdev)
{
	return pci_iov_vf_id(pdev);
}

static void mlx5vf_core_identity(struct mlx5vf_fw *fw, char *buf, size_t len)
{
	struct mlx5_core_dev *mdev = fw->mdev;

	/* NVIDIA: both hosts need the same firmware version and PSID */
	snprintf(buf, len, "mlx5 fw %d.%d.%04d psid %.*s", fw_rev_maj(mdev),
		 fw_rev_min(mdev), fw_rev_sub(mdev), MLX5_BOARD_ID_LEN,
		 mdev->board_id);
}

const struct mlx5vf_provider mlx5vf_core_provider = {
	.fw_ops = &mlx5vf_core_ops,
	.attach = mlx5vf_core_attach,
	.detach = mlx5vf_core_detach,
	.vf_id = mlx5vf_core_vf_id,
	.identity = mlx5vf_core_identity,
};
