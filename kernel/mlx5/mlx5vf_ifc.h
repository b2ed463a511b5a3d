/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The firmware interface of mlx5 VF migration: mailbox layouts in the
 * mlx5_ifc bit-description style that MLX5_SET()/MLX5_GET() read, under
 * our own names (vfmig_*), so that one layout serves every kernel.
 *
 * Debian's 6.1 headers predate PRE_COPY: their QUERY_VHCA_MIGRATION_STATE
 * has no incremental/chunk bits and no remaining_total_size, SAVE_VHCA_STATE
 * has no incremental/set_track and no next_required_umem_size, and
 * cmd_hca_cap_2 has none of the migration_* capability bits.  6.12 has
 * those but not migration_state (Linux 7.1).  Positions are the device's
 * (bit offsets from the start of the mailbox, big endian dwords), as the
 * mlx5 PRM and upstream's mlx5_ifc.h give them.
 *
 * Only these layouts are ours; everything else (QUERY_HCA_CAP, opcodes,
 * status codes, cmd_hca_cap) comes from the kernel's own mlx5 headers,
 * which both kernels have in the form we need.
 *
 * Both the driver and the firmware model (model/) include this file: the
 * model decodes exactly what the driver encodes.
 */
#ifndef MLX5VF_IFC_H
#define MLX5VF_IFC_H

#include <linux/mlx5/device.h>
#include <linux/mlx5/mlx5_ifc.h>

/* cmd_hca_cap_2, the part up to migration_state (first 0x100 bits). */
struct mlx5_ifc_vfmig_hca_cap_2_bits {
	u8         reserved_at_0[0x80];

	u8         migratable[0x1];
	u8         reserved_at_81[0x1f];

	u8         reserved_at_a0[0x20];

	u8         reserved_at_c0[0x8];
	u8         migration_multi_load[0x1];
	u8         migration_tracking_state[0x1];
	u8         reserved_at_ca[0x6];
	u8         migration_in_chunks[0x1];
	u8         reserved_at_d1[0x8];
	u8         migration_state[0x1];
	u8         reserved_at_da[0x6];

	u8         reserved_at_e0[0x20];
};

/* QUERY_HCA_CAP (0x100) input, as 6.1 and 6.12 both define it. */
struct mlx5_ifc_vfmig_query_hca_cap_in_bits {
	u8         opcode[0x10];
	u8         uid[0x10];

	u8         reserved_at_20[0x10];
	u8         op_mod[0x10];

	u8         other_function[0x1];
	u8         reserved_at_41[0x2];
	u8         function_id_type[0x1];
	u8         reserved_at_44[0xc];
	u8         function_id[0x10];

	u8         reserved_at_60[0x20];
};

/* SUSPEND_VHCA (0x115) and RESUME_VHCA (0x116): one layout. */
struct mlx5_ifc_vfmig_vhca_cmd_in_bits {
	u8         opcode[0x10];
	u8         uid[0x10];

	u8         reserved_at_20[0x10];
	u8         op_mod[0x10];

	u8         reserved_at_40[0x10];
	u8         vhca_id[0x10];

	u8         reserved_at_60[0x20];
};

struct mlx5_ifc_vfmig_cmd_out_bits {
	u8         status[0x8];
	u8         reserved_at_8[0x18];

	u8         syndrome[0x20];

	u8         reserved_at_40[0x40];
};

struct mlx5_ifc_vfmig_query_vhca_migration_state_in_bits {
	u8         opcode[0x10];
	u8         uid[0x10];

	u8         reserved_at_20[0x10];
	u8         op_mod[0x10];

	u8         incremental[0x1];
	u8         chunk[0x1];
	u8         reserved_at_42[0xe];
	u8         vhca_id[0x10];

	u8         reserved_at_60[0x20];
};

struct mlx5_ifc_vfmig_query_vhca_migration_state_out_bits {
	u8         status[0x8];
	u8         reserved_at_8[0x18];

	u8         syndrome[0x20];

	u8         reserved_at_40[0x20];

	u8         reserved_at_60[0x1c];
	u8         migration_state[0x4];

	u8         required_umem_size[0x20];

	u8         reserved_at_a0[0x20];

	u8         remaining_total_size[0x40];

	u8         reserved_at_100[0x100];
};

struct mlx5_ifc_vfmig_save_vhca_state_in_bits {
	u8         opcode[0x10];
	u8         uid[0x10];

	u8         reserved_at_20[0x10];
	u8         op_mod[0x10];

	u8         incremental[0x1];
	u8         set_track[0x1];
	u8         reserved_at_42[0xe];
	u8         vhca_id[0x10];

	u8         reserved_at_60[0x20];

	u8         va[0x40];

	u8         mkey[0x20];

	u8         size[0x20];
};

struct mlx5_ifc_vfmig_save_vhca_state_out_bits {
	u8         status[0x8];
	u8         reserved_at_8[0x18];

	u8         syndrome[0x20];

	u8         actual_image_size[0x20];

	u8         next_required_umem_size[0x20];
};

struct mlx5_ifc_vfmig_load_vhca_state_in_bits {
	u8         opcode[0x10];
	u8         uid[0x10];

	u8         reserved_at_20[0x10];
	u8         op_mod[0x10];

	u8         reserved_at_40[0x10];
	u8         vhca_id[0x10];

	u8         reserved_at_60[0x20];

	u8         va[0x40];

	u8         mkey[0x20];

	u8         size[0x20];
};

/* Opcodes (the same numbers in every kernel's mlx5_ifc.h). */
#define VFMIG_CMD_QUERY_HCA_CAP			0x100
#define VFMIG_CMD_SUSPEND_VHCA			0x115
#define VFMIG_CMD_RESUME_VHCA			0x116
#define VFMIG_CMD_QUERY_VHCA_MIGRATION_STATE	0x117
#define VFMIG_CMD_SAVE_VHCA_STATE		0x118
#define VFMIG_CMD_LOAD_VHCA_STATE		0x119

/*
 * op_mod of SUSPEND_VHCA and RESUME_VHCA.  The same role has opposite
 * codes in the two commands: never one enum for both.
 */
#define VFMIG_SUSPEND_OP_MOD_INITIATOR		0x0
#define VFMIG_SUSPEND_OP_MOD_RESPONDER		0x1
#define VFMIG_RESUME_OP_MOD_RESPONDER		0x0
#define VFMIG_RESUME_OP_MOD_INITIATOR		0x1

/* QUERY_HCA_CAP op_mod: (cap type << 1) | current-or-max */
#define VFMIG_CAP_GENERAL			0x0
#define VFMIG_CAP_GENERAL_2			0x20
#define VFMIG_CAP_GET_MAX			0x0
#define VFMIG_CAP_GET_CUR			0x1

/* QUERY_VHCA_MIGRATION_STATE migration_state (cap_2.migration_state) */
#define VFMIG_MIG_STATE_UNINITIALIZED		0x0
#define VFMIG_MIG_STATE_IDLE			0x1
#define VFMIG_MIG_STATE_READY			0x2
#define VFMIG_MIG_STATE_DIRTY			0x3
#define VFMIG_MIG_STATE_INIT			0x4

/* Command status codes the driver tells apart. */
#define VFMIG_STAT_OK				0x0
#define VFMIG_STAT_BAD_PARAM			0x3
#define VFMIG_STAT_BAD_SYS_STATE		0x4
#define VFMIG_STAT_BAD_RES_STATE		0x9
#define VFMIG_STAT_NO_RESOURCES			0xf
#define VFMIG_STAT_BAD_SIZE			0x40

/*
 * The DMA dirty-page tracker: a general object (PAGE_TRACK, 0x46) whose
 * context (page_track), the ADV_VIRTUALIZATION cap page and the general
 * object headers both kernels' mlx5_ifc.h define as we need them.  Ours:
 * the QUERY_GENERAL_OBJECT output, which 6.1 has no name for.
 */
#define VFMIG_CMD_CREATE_GENERAL_OBJECT		0xa00
#define VFMIG_CMD_MODIFY_GENERAL_OBJECT		0xa01
#define VFMIG_CMD_QUERY_GENERAL_OBJECT		0xa02
#define VFMIG_CMD_DESTROY_GENERAL_OBJECT	0xa03
#define VFMIG_OBJ_TYPE_PAGE_TRACK		0x46
#define VFMIG_CAP_ADV_VIRTUALIZATION		0x26
/* page_track.modify_field_select: the report range and the state */
#define VFMIG_PAGE_TRACK_MODIFY_RANGE_STATE	0x3
#define VFMIG_PAGE_TRACK_TRACKING		0x0
#define VFMIG_PAGE_TRACK_REPORTING		0x1
#define VFMIG_PAGE_TRACK_ERROR			0x2

struct mlx5_ifc_vfmig_query_page_track_out_bits {
	struct mlx5_ifc_general_obj_out_cmd_hdr_bits hdr;
	struct mlx5_ifc_page_track_bits obj_context;
};

/* Bytes of each mailbox. */
#define VFMIG_SZ(name)		MLX5_ST_SZ_BYTES(vfmig_##name)
#define VFMIG_SET(name, p, fld, v)	MLX5_SET(vfmig_##name, p, fld, v)
#define VFMIG_SET64(name, p, fld, v)	MLX5_SET64(vfmig_##name, p, fld, v)
#define VFMIG_GET(name, p, fld)		MLX5_GET(vfmig_##name, p, fld)
#define VFMIG_GET64(name, p, fld)	MLX5_GET64(vfmig_##name, p, fld)

/*
 * The stream: records of a 16-byte little-endian header and a payload,
 * byte for byte as Linux >= 6.3 frames them, so that either side may run
 * upstream's driver.
 */
struct vfmig_mlx5_rec_hdr {
	__le64 record_size;	/* payload bytes, the header excluded */
	__le32 flags;
	__le32 tag;
};

#define VFMIG_MLX5_REC_HDR		sizeof(struct vfmig_mlx5_rec_hdr)
#define VFMIG_MLX5_REC_OPTIONAL		BIT(0)	/* may be skipped */
#define VFMIG_MLX5_TAG_FW_DATA		0	/* one SAVE image */
#define VFMIG_MLX5_TAG_STOP_COPY_SIZE	1	/* __le64: the buffer size */

/* Widths of SAVE's and LOAD's size fields. */
#define VFMIG_MLX5_MAX_LOAD_SIZE	(BIT_ULL(32) - 1)
#define VFMIG_MLX5_MAX_SAVE_SIZE	(BIT_ULL(32) - PAGE_SIZE)
#define VFMIG_MLX5_MAX_CHUNK_SIZE	SZ_8M

#endif /* MLX5VF_IFC_H */
