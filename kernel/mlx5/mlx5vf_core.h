/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mlx5 VF migration: what the files of the real firmware ops share, in
 * mlx5_vfio_pci only (the model module has its own ops).  mlx5vf_core.c
 * owns struct mlx5vf_fw (the PF's mlx5_core_dev and a PD of ours) and the
 * buffer mapping; mlx5vf_core_track.c builds the dirty-page tracker's
 * reporting channel on them.
 */
#ifndef MLX5VF_CORE_H
#define MLX5VF_CORE_H

#include "mlx5vf.h"

struct mlx5_core_dev;

/* mlx5vf_core.c */
struct mlx5_core_dev *mlx5vf_core_mdev(struct mlx5vf_fw *fw);
u32 mlx5vf_core_pdn(struct mlx5vf_fw *fw);
/* DMA-map @buf's pages on the PF and make an MTT mkey in our PD over them */
int mlx5vf_core_buf_map(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf);
void mlx5vf_core_buf_unmap(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf);

/* mlx5vf_core_track.c: the fw ops' track_* (the contract is in mlx5vf.h) */
int mlx5vf_core_track_open(struct mlx5vf_fw *fw,
			   const struct mlx5vf_track_chan_cfg *cfg,
			   struct mlx5vf_track_chan **chan, u32 *fw_qpn);
int mlx5vf_core_track_poll(struct mlx5vf_track_chan *chan,
			   struct mlx5vf_track_msg *msg);
int mlx5vf_core_track_repost(struct mlx5vf_track_chan *chan,
			     const struct mlx5vf_track_msg *msg);
void mlx5vf_core_track_close(struct mlx5vf_track_chan *chan);

#endif /* MLX5VF_CORE_H */
