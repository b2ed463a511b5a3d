// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5 VF migration: the firmware commands, one function each, and the
 * capability probe that decides whether the VF may migrate.  Every command
 * goes to the PF's firmware through the fw ops and names the VF by its
 * vhca_id.  A VF whose PF detached it (SR-IOV disable, PF reload) gets
 * -ENOTCONN without a command.
 */
#include <linux/pci.h>
#include <linux/slab.h>

#include "mlx5vf.h"

u8 mlx5vf_cmd_status(const void *out)
{
	return VFMIG_GET(cmd_out, out, status);
}

static int mlx5vf_exec(struct mlx5vf_device *mvd, void *in, int inlen,
		       void *out, int outlen, const char *what)
{
	int ret;

	if (READ_ONCE(mvd->mdev_detach))
		return -ENOTCONN;
	ret = mvd->fw_ops->exec(mvd->fw, in, inlen, out, outlen);
	if (ret == -EREMOTEIO)
		mlx5vf_dbg(mvd, "%s: status 0x%x syndrome 0x%x\n", what,
			   mlx5vf_cmd_status(out),
			   VFMIG_GET(cmd_out, out, syndrome));
	else if (ret)
		mlx5vf_dbg(mvd, "%s: not completed: %d\n", what, ret);
	return ret;
}

/* SUSPEND_VHCA or RESUME_VHCA, one layout. */
static int mlx5vf_cmd_vhca(struct mlx5vf_device *mvd, u16 opcode, u16 op_mod,
			   const char *what)
{
	u32 in[MLX5_ST_SZ_DW(vfmig_vhca_cmd_in)] = {};
	u32 out[MLX5_ST_SZ_DW(vfmig_cmd_out)] = {};

	VFMIG_SET(vhca_cmd_in, in, opcode, opcode);
	VFMIG_SET(vhca_cmd_in, in, op_mod, op_mod);
	VFMIG_SET(vhca_cmd_in, in, vhca_id, mvd->vhca_id);
	return mlx5vf_exec(mvd, in, sizeof(in), out, sizeof(out), what);
}

/* SUSPEND_VHCA: INITIATOR on the P2P arcs, RESPONDER to stop. */
int mlx5vf_cmd_suspend(struct mlx5vf_device *mvd, u16 op_mod)
{
	return mlx5vf_cmd_vhca(mvd, VFMIG_CMD_SUSPEND_VHCA, op_mod,
			       op_mod == VFMIG_SUSPEND_OP_MOD_RESPONDER ?
			       "SUSPEND_VHCA responder" :
			       "SUSPEND_VHCA initiator");
}

/* RESUME_VHCA: RESPONDER to start, INITIATOR on the P2P arcs. */
int mlx5vf_cmd_resume(struct mlx5vf_device *mvd, u16 op_mod)
{
	return mlx5vf_cmd_vhca(mvd, VFMIG_CMD_RESUME_VHCA, op_mod,
			       op_mod == VFMIG_RESUME_OP_MOD_RESPONDER ?
			       "RESUME_VHCA responder" :
			       "RESUME_VHCA initiator");
}

/*
 * QUERY_VHCA_MIGRATION_STATE.  Without MLX5VF_QUERY_INC: the size of a
 * whole image (@state_size: the buffer the next SAVE needs, @total_size:
 * everything, which differs in chunk mode: the function's queries all
 * carry the chunk bit then).  With it: what an incremental
 * SAVE would produce now.  @mig_state: the firmware's migration state
 * where the cap says it is meaningful, else IDLE.
 */
int mlx5vf_cmd_query(struct mlx5vf_device *mvd, u32 flags, u64 *state_size,
		     u64 *total_size, u8 *mig_state)
{
	u32 in[MLX5_ST_SZ_DW(vfmig_query_vhca_migration_state_in)] = {};
	u32 out[MLX5_ST_SZ_DW(vfmig_query_vhca_migration_state_out)] = {};
	int ret;

	VFMIG_SET(query_vhca_migration_state_in, in, opcode,
		  VFMIG_CMD_QUERY_VHCA_MIGRATION_STATE);
	VFMIG_SET(query_vhca_migration_state_in, in, vhca_id, mvd->vhca_id);
	VFMIG_SET(query_vhca_migration_state_in, in, incremental,
		  !!(flags & MLX5VF_QUERY_INC));
	/* as upstream: every query of a chunk-mode function says so */
	VFMIG_SET(query_vhca_migration_state_in, in, chunk, mvd->chunk_mode);
	ret = mlx5vf_exec(mvd, in, sizeof(in), out, sizeof(out),
			  flags & MLX5VF_QUERY_INC ?
			  "QUERY_VHCA_MIGRATION_STATE incremental" :
			  "QUERY_VHCA_MIGRATION_STATE");
	if (ret)
		return ret;
	*state_size = VFMIG_GET(query_vhca_migration_state_out, out,
				required_umem_size);
	if (total_size) {
		*total_size = mvd->chunk_mode ?
			VFMIG_GET64(query_vhca_migration_state_out, out,
				    remaining_total_size) : *state_size;
	}
	if (mig_state) {
		*mig_state = mvd->migration_state_cap ?
			VFMIG_GET(query_vhca_migration_state_out, out,
				  migration_state) : VFMIG_MIG_STATE_IDLE;
	}
	mlx5vf_dbg(mvd, "QUERY%s%s: %llu bytes%s\n",
		   flags & MLX5VF_QUERY_INC ? " incremental" : "",
		   mvd->chunk_mode ? " chunk" : "", *state_size,
		   mig_state && *mig_state == VFMIG_MIG_STATE_INIT ?
		   " (INIT)" : "");
	return 0;
}

/*
 * SAVE_VHCA_STATE into @buf, with a completion: mlx5vf_save_done() runs
 * when the firmware finished.  The caller owns mvd->save's in-flight slot.
 */
int mlx5vf_cmd_save(struct mlx5vf_device *mvd, struct mlx5vf_buf *buf,
		    bool inc, bool track)
{
	u32 in[MLX5_ST_SZ_DW(vfmig_save_vhca_state_in)] = {};
	struct mlx5vf_save *s = &mvd->save;
	int ret;

	if (READ_ONCE(mvd->mdev_detach))
		return -ENOTCONN;
	VFMIG_SET(save_vhca_state_in, in, opcode, VFMIG_CMD_SAVE_VHCA_STATE);
	VFMIG_SET(save_vhca_state_in, in, vhca_id, mvd->vhca_id);
	VFMIG_SET(save_vhca_state_in, in, incremental, inc);
	VFMIG_SET(save_vhca_state_in, in, set_track, track);
	VFMIG_SET(save_vhca_state_in, in, mkey, buf->mkey);
	VFMIG_SET(save_vhca_state_in, in, size,
		  (u32)min_t(u64, (u64)buf->npages * PAGE_SIZE,
			     VFMIG_MLX5_MAX_SAVE_SIZE));

	memset(s->out, 0, sizeof(s->out));
	s->cmd.out = s->out;
	s->cmd.outlen = sizeof(s->out);
	s->cmd.done = mlx5vf_save_done;
	s->buf = buf;
	s->buf_track = track;
	s->status = 0;
	reinit_completion(&s->done);
	s->in_flight = true;
	ret = mvd->fw_ops->exec_cb(mvd->fw, in, sizeof(in), &s->cmd);
	if (ret) {
		s->in_flight = false;
		s->buf = NULL;
		complete_all(&s->done);
		mlx5vf_dbg(mvd, "SAVE_VHCA_STATE not started: %d\n", ret);
		return ret;
	}
	mlx5vf_dbg(mvd, "SAVE_VHCA_STATE%s%s into %u pages started\n",
		   inc ? " incremental" : "", track ? " tracking" : "",
		   buf->npages);
	return 0;
}

/* LOAD_VHCA_STATE of the @size first bytes of @buf. */
int mlx5vf_cmd_load(struct mlx5vf_device *mvd, struct mlx5vf_buf *buf,
		    u64 size)
{
	u32 in[MLX5_ST_SZ_DW(vfmig_load_vhca_state_in)] = {};
	u32 out[MLX5_ST_SZ_DW(vfmig_cmd_out)] = {};

	VFMIG_SET(load_vhca_state_in, in, opcode, VFMIG_CMD_LOAD_VHCA_STATE);
	VFMIG_SET(load_vhca_state_in, in, vhca_id, mvd->vhca_id);
	VFMIG_SET(load_vhca_state_in, in, mkey, buf->mkey);
	VFMIG_SET(load_vhca_state_in, in, size, (u32)size);
	return mlx5vf_exec(mvd, in, sizeof(in), out, sizeof(out),
			   "LOAD_VHCA_STATE");
}

/*
 * The tracker's object.  CREATE_GENERAL_OBJECT(PAGE_TRACK) for the VF
 * with @obj's ranges (already merged to what the firmware takes) and the
 * QP the firmware reports from; *@obj_id the new object.
 */
int mlx5vf_cmd_track_create(struct mlx5vf_device *mvd,
			    const struct mlx5vf_track_obj *obj, u32 *obj_id)
{
	u32 out[MLX5_ST_SZ_DW(general_obj_out_cmd_hdr)] = {};
	int inlen = MLX5_ST_SZ_BYTES(create_page_track_obj_in) +
		    obj->num_ranges * MLX5_ST_SZ_BYTES(page_track_range);
	void *in, *ctx, *range;
	u32 i;
	int ret;

	in = kzalloc(inlen, GFP_KERNEL);
	if (!in)
		return -ENOMEM;
	MLX5_SET(general_obj_in_cmd_hdr, in, opcode,
		 VFMIG_CMD_CREATE_GENERAL_OBJECT);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_type,
		 VFMIG_OBJ_TYPE_PAGE_TRACK);
	ctx = MLX5_ADDR_OF(create_page_track_obj_in, in, obj_context);
	MLX5_SET(page_track, ctx, vhca_id, mvd->vhca_id);
	MLX5_SET(page_track, ctx, track_type, MLX5VF_TRACK_TYPE_DIRTY);
	MLX5_SET(page_track, ctx, log_addr_space_size,
		 obj->log_addr_space_size);
	MLX5_SET(page_track, ctx, log_page_size, obj->log_page_size);
	MLX5_SET(page_track, ctx, log_msg_size, obj->log_msg_size);
	MLX5_SET(page_track, ctx, reporting_qpn, obj->reporting_qpn);
	MLX5_SET(page_track, ctx, num_ranges, obj->num_ranges);
	range = MLX5_ADDR_OF(page_track, ctx, track_range);
	for (i = 0; i < obj->num_ranges; i++) {
		MLX5_SET64(page_track_range, range, start_address,
			   obj->ranges[i].start);
		MLX5_SET64(page_track_range, range, length,
			   obj->ranges[i].length);
		range += MLX5_ST_SZ_BYTES(page_track_range);
	}
	ret = mlx5vf_exec(mvd, in, inlen, out, sizeof(out),
			  "CREATE_GENERAL_OBJECT PAGE_TRACK");
	kfree(in);
	if (ret)
		return ret;
	*obj_id = MLX5_GET(general_obj_out_cmd_hdr, out, obj_id);
	mlx5vf_dbg(mvd, "PAGE_TRACK 0x%x: %u ranges, address space 2^%u, pages 2^%u, messages 2^%u to QP 0x%x\n",
		   *obj_id, obj->num_ranges, obj->log_addr_space_size,
		   obj->log_page_size, obj->log_msg_size, obj->reporting_qpn);
	return 0;
}

/* MODIFY_GENERAL_OBJECT: report the pages dirtied in [@iova, +@length). */
int mlx5vf_cmd_track_report(struct mlx5vf_device *mvd, u32 obj_id, u64 iova,
			    u64 length)
{
	u32 in[MLX5_ST_SZ_DW(modify_page_track_obj_in)] = {};
	u32 out[MLX5_ST_SZ_DW(general_obj_out_cmd_hdr)] = {};
	void *ctx;

	MLX5_SET(general_obj_in_cmd_hdr, in, opcode,
		 VFMIG_CMD_MODIFY_GENERAL_OBJECT);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_type,
		 VFMIG_OBJ_TYPE_PAGE_TRACK);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_id, obj_id);
	ctx = MLX5_ADDR_OF(modify_page_track_obj_in, in, obj_context);
	MLX5_SET64(page_track, ctx, modify_field_select,
		   VFMIG_PAGE_TRACK_MODIFY_RANGE_STATE);
	MLX5_SET64(page_track, ctx, range_start_address, iova);
	MLX5_SET64(page_track, ctx, length, length);
	MLX5_SET(page_track, ctx, state, VFMIG_PAGE_TRACK_REPORTING);
	return mlx5vf_exec(mvd, in, sizeof(in), out, sizeof(out),
			   "MODIFY_GENERAL_OBJECT PAGE_TRACK reporting");
}

/* QUERY_GENERAL_OBJECT: the tracker's state. */
int mlx5vf_cmd_track_query(struct mlx5vf_device *mvd, u32 obj_id, u8 *state)
{
	u32 in[MLX5_ST_SZ_DW(general_obj_in_cmd_hdr)] = {};
	u32 out[MLX5_ST_SZ_DW(vfmig_query_page_track_out)] = {};
	int ret;

	MLX5_SET(general_obj_in_cmd_hdr, in, opcode,
		 VFMIG_CMD_QUERY_GENERAL_OBJECT);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_type,
		 VFMIG_OBJ_TYPE_PAGE_TRACK);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_id, obj_id);
	ret = mlx5vf_exec(mvd, in, sizeof(in), out, sizeof(out),
			  "QUERY_GENERAL_OBJECT PAGE_TRACK");
	if (ret)
		return ret;
	*state = VFMIG_GET(query_page_track_out, out, obj_context.state);
	return 0;
}

int mlx5vf_cmd_track_destroy(struct mlx5vf_device *mvd, u32 obj_id)
{
	u32 in[MLX5_ST_SZ_DW(general_obj_in_cmd_hdr)] = {};
	u32 out[MLX5_ST_SZ_DW(general_obj_out_cmd_hdr)] = {};

	MLX5_SET(general_obj_in_cmd_hdr, in, opcode,
		 VFMIG_CMD_DESTROY_GENERAL_OBJECT);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_type,
		 VFMIG_OBJ_TYPE_PAGE_TRACK);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_id, obj_id);
	return mlx5vf_exec(mvd, in, sizeof(in), out, sizeof(out),
			   "DESTROY_GENERAL_OBJECT PAGE_TRACK");
}

/*
 * QUERY_HCA_CAP of the VF (function vf_id + 1) through the PF: the
 * capability page of @cap_type (GET_MAX or GET_CUR as @max) in a new
 * query_hca_cap_out mailbox *@out (kfree it).  GENERAL_2 GET_MAX goes
 * through mlx5_core's own helper where the fw ops have it.
 */
static int mlx5vf_query_vf_cap(struct mlx5vf_device *mvd, u16 cap_type,
			       bool max, void **out)
{
	u32 in[MLX5_ST_SZ_DW(vfmig_query_hca_cap_in)] = {};
	int outlen = MLX5_ST_SZ_BYTES(query_hca_cap_out);
	int ret;

	*out = kzalloc(outlen, GFP_KERNEL);
	if (!*out)
		return -ENOMEM;
	if (cap_type == VFMIG_CAP_GENERAL_2 && max &&
	    mvd->fw_ops->other_func_cap_2) {
		ret = mvd->fw_ops->other_func_cap_2(mvd->fw, mvd->vf_id + 1,
						    *out, outlen);
	} else {
		VFMIG_SET(query_hca_cap_in, in, opcode,
			  VFMIG_CMD_QUERY_HCA_CAP);
		VFMIG_SET(query_hca_cap_in, in, op_mod, (cap_type << 1) |
			  (max ? VFMIG_CAP_GET_MAX : VFMIG_CAP_GET_CUR));
		VFMIG_SET(query_hca_cap_in, in, other_function, 1);
		VFMIG_SET(query_hca_cap_in, in, function_id, mvd->vf_id + 1);
		ret = mlx5vf_exec(mvd, in, sizeof(in), *out, outlen,
				  "QUERY_HCA_CAP");
	}
	if (ret) {
		kfree(*out);
		*out = NULL;
	}
	return ret;
}

/* Is the VF enabled for migration (its maximal GENERAL_2 caps)? */
static int mlx5vf_vf_migratable(struct mlx5vf_device *mvd, bool *migratable)
{
	void *out;
	int ret;

	ret = mlx5vf_query_vf_cap(mvd, VFMIG_CAP_GENERAL_2, true, &out);
	if (ret)
		return ret;
	*migratable = VFMIG_GET(hca_cap_2,
				MLX5_ADDR_OF(query_hca_cap_out, out, capability),
				migratable);
	kfree(out);
	return 0;
}

static int mlx5vf_vf_vhca_id(struct mlx5vf_device *mvd)
{
	void *out;
	int ret;

	ret = mlx5vf_query_vf_cap(mvd, VFMIG_CAP_GENERAL, false, &out);
	if (ret)
		return ret;
	mvd->vhca_id = MLX5_GET(cmd_hca_cap,
				MLX5_ADDR_OF(query_hca_cap_out, out, capability),
				vhca_id);
	kfree(out);
	return 0;
}

/*
 * Whether the VF may migrate, decided as upstream Linux >= 6.9 does: the
 * PF's firmware must support migration with several loads per migration
 * and state tracking (without them there is no pre-copy, and upstream then
 * offers no migration at all rather than a stop-copy-only one), and the VF
 * itself must be enabled for migration (VF_MIGRATION_MODE).  0 with
 * mvd->migrate_cap false is "not migratable", not an error.
 */
int mlx5vf_cmd_probe(struct mlx5vf_device *mvd)
{
	struct mlx5vf_pf_caps caps = {};
	bool migratable = false;
	int ret;

	mvd->migrate_cap = false;
	mvd->fw_ops->pf_caps(mvd->fw, &caps);
	if (!caps.migration || !caps.migration_multi_load ||
	    !caps.migration_tracking_state) {
		pci_info(mvd->vd.core.pdev,
			 "mlx5: no migration: the PF's firmware lacks %s\n",
			 !caps.migration ? "migration" :
			 !caps.migration_multi_load ? "migration_multi_load" :
			 "migration_tracking_state");
		return 0;
	}
	ret = mlx5vf_vf_migratable(mvd, &migratable);
	if (ret)
		return ret;
	if (!migratable) {
		pci_info(mvd->vd.core.pdev,
			 "mlx5: no migration: VF %d is not enabled for migration (VF_MIGRATION_MODE)\n",
			 mvd->vf_id);
		return 0;
	}
	ret = mlx5vf_vf_vhca_id(mvd);
	if (ret)
		return ret;
	mvd->chunk_mode = caps.migration_in_chunks;
	mvd->migration_state_cap = caps.migration_state;
	mvd->trk.caps = caps.track;
	mvd->migrate_cap = true;
	mlx5vf_dbg(mvd, "VF %d vhca_id %u migratable%s%s\n", mvd->vf_id,
		   mvd->vhca_id, mvd->chunk_mode ? ", chunk mode" : "",
		   mvd->migration_state_cap ? ", migration_state" : "");
	return 0;
}
