// SPDX-License-Identifier: GPL-2.0-only
/*
 * A software MODEL of ConnectX firmware for mlx5 VF migration (see
 * fwmodel.h).  Nothing here is firmware: it interprets the mailboxes the
 * mlx5 driver sends, as the protocol notes say the firmware answers them,
 * so that the driver's logic can be tested without the hardware.
 *
 * The VHCA's state is npages pages of kernel memory.  A migration session
 * keeps a "pending" bitmap, the pages the session must still send:
 *
 *   SAVE(inc=0, track=1)   starts tracking: every page pending, an image of
 *                          as many as fit (a BASE image, sequence 0);
 *   changes while tracking mark the page pending again;
 *   QUERY(inc=1)           the bytes of an image of the pending pages
 *                          (0 while the VHCA runs and nothing is pending);
 *   SAVE(inc=1, track=1)   a DELTA image of the pending pages that fit;
 *   SUSPEND(RESPONDER)     freezes the state; the session goes on;
 *   SAVE(inc=1, track=0)   on the suspended VHCA: the final DELTA, or in
 *                          chunk mode its next chunk; the session ends
 *                          with the image that empties the bitmap (LAST),
 *                          which may hold no page;
 *   SAVE(inc=0, track=0)   on the suspended VHCA: a full image (BASE,
 *                          chunks follow as SAVE(inc=1, track=0)); on a
 *                          VHCA that is not suspended: the driver's
 *                          "cleanup" when leaving PRE_COPY, which ends
 *                          the session and writes nothing.
 *
 * An image: a 64-byte header (struct mdl_img_hdr) then entries of a
 * 64-bit page index and the page.  LOAD checks all of it before it changes
 * a byte, and images must come in save order.
 */
#include <crypto/sha2.h>
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "fwmodel.h"

#define MDL_TICK_MS		20

/* Statuses the kernel's mlx5 headers name (MDL_STAT_BAD_OP: fwmodel.h) */

/*
 * Syndromes of the model ("ML" and a reason; the ABI document lists them):
 * command decoding 0x0_, buffers 0x1_, VHCA state 0x2_, SAVE 0x3_, the
 * image LOAD was given 0x4_, the fault knob 0xfa.
 */
#define MDL_SYND_OPCODE		0x4d4c0001	/* unknown opcode */
#define MDL_SYND_VHCA_ID	0x4d4c0002	/* not this VF's */
#define MDL_SYND_OP_MOD		0x4d4c0003
#define MDL_SYND_FUNCTION	0x4d4c0004	/* QUERY_HCA_CAP's */
#define MDL_SYND_CAP_TYPE	0x4d4c0005
#define MDL_SYND_NO_MIGRATION	0x4d4c0006	/* migration off */
#define MDL_SYND_NO_TRACKING	0x4d4c0007	/* tracking_state 0 */
#define MDL_SYND_NO_CHUNKS	0x4d4c0008	/* in_chunks 0 */
#define MDL_SYND_MKEY		0x4d4c0010	/* no such mkey */
#define MDL_SYND_RANGE		0x4d4c0011	/* size > the buffer */
#define MDL_SYND_RUN_STATE	0x4d4c0020	/* SUSPEND/RESUME order */
#define MDL_SYND_NO_SESSION	0x4d4c0021	/* inc, no session */
#define MDL_SYND_TRACK_SUSP	0x4d4c0022	/* set_track, suspended */
#define MDL_SYND_NOT_SUSP	0x4d4c0023	/* not suspended */
#define MDL_SYND_MULTI_LOAD	0x4d4c0024	/* 2nd LOAD */
#define MDL_SYND_IMG_SIZE	0x4d4c0030	/* image > size */
#define MDL_SYND_MAGIC		0x4d4c0040
#define MDL_SYND_VERSION	0x4d4c0041
#define MDL_SYND_STATE_SIZE	0x4d4c0042
#define MDL_SYND_LENGTH		0x4d4c0043	/* size vs entries */
#define MDL_SYND_CHECKSUM	0x4d4c0044
#define MDL_SYND_PAGE		0x4d4c0045	/* index out of range */
#define MDL_SYND_ORDER		0x4d4c0046	/* not the next image */
#define MDL_SYND_FW_TOO_NEW	0x4d4c0047	/* from a newer fw */
#define MDL_SYND_KIND		0x4d4c0048
#define MDL_SYND_FAULT		0x4d4c00fa	/* the fault knob */

/* mkeys: index << 8 | key, as mlx5 builds them */
#define MDL_MKEY_KEY		0x5a
#define MDL_MKEY_MAX_INDEX	0xffffff

/* The image format (model version 1), little endian */
#define MDL_IMG_MAGIC		0x4d354c4dU	/* "ML5M" */
#define MDL_IMG_VERSION		1
#define MDL_IMG_BASE		1	/* first image of a session */
#define MDL_IMG_DELTA		2	/* the next one */
#define MDL_IMG_LAST		BIT(0)	/* the session's last image */

struct mdl_img_hdr {
	__le32 magic;
	__le16 version;
	__le16 kind;
	__le32 flags;
	__le32 seq;		/* 0 for BASE, then +1 per image */
	__le64 state_size;
	__le32 nr_entries;
	__le16 fw_major;	/* of the firmware that saved it */
	__le16 fw_minor;
	u8 sha256[SHA256_DIGEST_SIZE];	/* of the entries */
};

struct mdl_img_entry {
	__le64 page;		/* then MDL_PAGE_SIZE bytes */
};

#define MDL_HDR_BYTES		((u64)sizeof(struct mdl_img_hdr))
#define MDL_ENTRY_BYTES	\
	((u64)sizeof(struct mdl_img_entry) + MDL_PAGE_SIZE)

static_assert(sizeof(struct mdl_img_hdr) == 64);

/* The modelled PF: its VFs, and the configuration of unbound ones */
struct mdl_saved_cfg {
	struct list_head link;
	u32 domain;
	u16 devid;
	int vf_id;
	u32 caps;
	u64 size;
	u64 chunk_bytes;
	u32 cmd_delay_us;
	u64 dirty_rate;
	char fw_version[MDL_FW_VERSION_LEN];
	u16 fw_major, fw_minor;
};

static DEFINE_MUTEX(mdl_list_lock);
static LIST_HEAD(mdl_vfs);
static LIST_HEAD(mdl_saved);

const char *const mlx5vf_model_counter_names[MDL_CNT_NR] = {
	[MDL_CNT_SUSPEND_INITIATOR]	= "suspend_initiator",
	[MDL_CNT_SUSPEND_RESPONDER]	= "suspend_responder",
	[MDL_CNT_RESUME_RESPONDER]	= "resume_responder",
	[MDL_CNT_RESUME_INITIATOR]	= "resume_initiator",
	[MDL_CNT_QUERY]			= "query",
	[MDL_CNT_QUERY_INC]		= "query_inc",
	[MDL_CNT_SAVE_FULL_TRACK]	= "save_full_track",
	[MDL_CNT_SAVE_INC_TRACK]	= "save_inc_track",
	[MDL_CNT_SAVE_INC]		= "save_inc",
	[MDL_CNT_SAVE_FULL]		= "save_full",
	[MDL_CNT_LOAD]			= "load",
	[MDL_CNT_QUERY_HCA_CAP]		= "query_hca_cap",
	[MDL_CNT_FAILED]		= "failed",
	[MDL_CNT_PT_CREATE]		= "track_create",
	[MDL_CNT_PT_REPORT]		= "track_report",
	[MDL_CNT_PT_QUERY]		= "track_query",
	[MDL_CNT_PT_DESTROY]		= "track_destroy",
	[MDL_CNT_PT_MESSAGES]		= "track_messages",
	[MDL_CNT_PT_PAGES]		= "track_pages",
	[MDL_CNT_DMA_WRITES]		= "dma_writes",
	[MDL_CNT_DMA_FAILED]		= "dma_failed",
};

const char *const mlx5vf_model_fault_names[MDL_FAULT_NR] = {
	[MDL_FAULT_NONE]		= "none",
	[MDL_FAULT_SUSPEND]		= "suspend",
	[MDL_FAULT_RESUME]		= "resume",
	[MDL_FAULT_QUERY]		= "query",
	[MDL_FAULT_QUERY_INC]		= "query-inc",
	[MDL_FAULT_SAVE]		= "save",
	[MDL_FAULT_SAVE_INITIAL]	= "save-initial",
	[MDL_FAULT_SAVE_PRECOPY]	= "save-precopy",
	[MDL_FAULT_SAVE_FINAL]		= "save-final",
	[MDL_FAULT_SAVE_FULL]		= "save-full",
	[MDL_FAULT_LOAD]		= "load",
	[MDL_FAULT_QUERY_HCA_CAP]	= "query-hca-cap",
};

static u16 mdl_vhca_id(struct mlx5vf_fw *fw)
{
	return MDL_VHCA_ID_BASE + fw->vf_id;
}

/* ------------------------------------------------------------------ */
/* The VHCA's state and its activity                                   */

static u64 mdl_rand(struct mlx5vf_fw *fw)
{
	/* xorshift64* */
	fw->rng ^= fw->rng >> 12;
	fw->rng ^= fw->rng << 25;
	fw->rng ^= fw->rng >> 27;
	return fw->rng * 0x2545f4914f6cdd1dULL;
}

static u8 *mdl_page(struct mlx5vf_fw *fw, unsigned long page)
{
	return fw->state + (u64)page * MDL_PAGE_SIZE;
}

static void mdl_fill_page(struct mlx5vf_fw *fw, unsigned long page)
{
	u64 *p = (u64 *)mdl_page(fw, page);
	unsigned int i;

	for (i = 0; i < MDL_PAGE_SIZE / sizeof(u64); i++)
		p[i] = mdl_rand(fw);
}

static void mdl_pending_clear(struct mlx5vf_fw *fw)
{
	bitmap_zero(fw->pending, fw->npages);
	fw->npending = 0;
}

static void mdl_pending_fill(struct mlx5vf_fw *fw)
{
	bitmap_fill(fw->pending, fw->npages);
	fw->npending = fw->npages;
}

/* lock held: the function changes a page, as a running VF does */
static void mdl_change_page(struct mlx5vf_fw *fw, unsigned long page)
{
	mdl_fill_page(fw, page);
	if (fw->session == MDL_SESSION_TRACKING &&
	    !__test_and_set_bit(page, fw->pending))
		fw->npending++;
}

/* lock held: the state changes only while the function runs */
static bool mdl_active(struct mlx5vf_fw *fw)
{
	return fw->run != MDL_SUSPENDED && !fw->detached && !fw->dead;
}

static void mdl_dirty_work(struct work_struct *work)
{
	struct mlx5vf_fw *fw = container_of(to_delayed_work(work),
					    struct mlx5vf_fw, dirty_work);
	ktime_t now = ktime_get();
	u64 elapsed_us, due, pages;

	mutex_lock(&fw->lock);
	if (!mdl_active(fw) || !fw->dirty_rate) {
		mutex_unlock(&fw->lock);
		return;
	}
	elapsed_us = min_t(u64, ktime_us_delta(now, fw->last_tick),
			   USEC_PER_SEC);
	fw->last_tick = now;
	/* rate <= 2^32, elapsed <= 2^20: within 64 bits */
	due = fw->carry + div_u64(fw->dirty_rate * elapsed_us, USEC_PER_SEC);
	pages = div_u64(due, MDL_PAGE_SIZE);
	fw->carry = due - pages * MDL_PAGE_SIZE;
	pages = min_t(u64, pages, fw->npages);
	while (pages--)
		mdl_change_page(fw, mdl_rand(fw) % fw->npages);
	schedule_delayed_work(&fw->dirty_work, msecs_to_jiffies(MDL_TICK_MS));
	mutex_unlock(&fw->lock);
}

/* lock held: (re)start the activity if the function runs */
static void mdl_kick(struct mlx5vf_fw *fw)
{
	if (mdl_active(fw) && fw->dirty_rate) {
		fw->last_tick = ktime_get();
		fw->carry = 0;
		mod_delayed_work(system_wq, &fw->dirty_work,
				 msecs_to_jiffies(MDL_TICK_MS));
	}
}

/* lock held: power-on contents, RUNNING, no session, nothing loaded */
static void mdl_power_on(struct mlx5vf_fw *fw)
{
	unsigned long page;

	fw->rng = fw->seed;
	for (page = 0; page < fw->npages; page++)
		mdl_fill_page(fw, page);
	mdl_pending_clear(fw);
	fw->run = MDL_RUNNING;
	fw->session = MDL_SESSION_NONE;
	fw->chunk_mode = false;
	fw->reinit = false;
	fw->save_seq = 0;
	fw->load_started = false;
	fw->loads = 0;
}

/* lock held: a state of @size bytes, at power-on */
static int mdl_alloc_state(struct mlx5vf_fw *fw, u64 size)
{
	unsigned long npages = div_u64(size, MDL_PAGE_SIZE);
	unsigned long *pending;
	u8 *state;

	state = vmalloc(size);
	pending = bitmap_zalloc(npages, GFP_KERNEL);
	if (!state || !pending) {
		vfree(state);
		bitmap_free(pending);
		return -ENOMEM;
	}
	vfree(fw->state);
	bitmap_free(fw->pending);
	fw->state = state;
	fw->pending = pending;
	fw->size = size;
	fw->npages = npages;
	mdl_power_on(fw);
	return 0;
}

int mlx5vf_model_resize(struct mlx5vf_fw *fw, u64 size)
{
	int ret;

	if (size < MDL_MIN_STATE || size > MDL_MAX_STATE ||
	    size % MDL_PAGE_SIZE)
		return -EINVAL;
	mutex_lock(&fw->lock);
	ret = mdl_alloc_state(fw, size);
	mdl_kick(fw);
	mutex_unlock(&fw->lock);
	return ret;
}

void mlx5vf_model_set_rate(struct mlx5vf_fw *fw, u64 rate)
{
	mutex_lock(&fw->lock);
	fw->dirty_rate = rate;
	mdl_kick(fw);
	mutex_unlock(&fw->lock);
}

int mlx5vf_model_dirty(struct mlx5vf_fw *fw, unsigned long npages)
{
	int ret = 0;

	mutex_lock(&fw->lock);
	if (!mdl_active(fw))
		ret = -EBUSY;
	else
		while (npages--)
			mdl_change_page(fw, mdl_rand(fw) % fw->npages);
	mutex_unlock(&fw->lock);
	return ret;
}

void mlx5vf_model_digest(struct mlx5vf_fw *fw, u8 *out)
{
	mutex_lock(&fw->lock);
	sha256(fw->state, fw->size, out);
	mutex_unlock(&fw->lock);
}

void mlx5vf_model_flr(struct mlx5vf_fw *fw)
{
	mutex_lock(&fw->lock);
	mdl_power_on(fw);
	mdl_kick(fw);
	mutex_unlock(&fw->lock);
}

/* ------------------------------------------------------------------ */
/* Buffers the driver hands over by mkey                               */

static void mdl_buf_write(struct mlx5vf_buf *buf, u64 off, const void *src,
			  u64 len)
{
	while (len) {
		u32 poff = offset_in_page(off);
		u32 n = min_t(u64, len, PAGE_SIZE - poff);

		memcpy_to_page(buf->pages[off >> PAGE_SHIFT], poff, src, n);
		off += n;
		src += n;
		len -= n;
	}
}

static void mdl_buf_read(struct mlx5vf_buf *buf, u64 off, void *dst, u64 len)
{
	while (len) {
		u32 poff = offset_in_page(off);
		u32 n = min_t(u64, len, PAGE_SIZE - poff);

		memcpy_from_page(dst, buf->pages[off >> PAGE_SHIFT], poff, n);
		off += n;
		dst += n;
		len -= n;
	}
}

static void mdl_buf_hash(struct mlx5vf_buf *buf, u64 off, u64 len,
			 struct sha256_state *sha)
{
	while (len) {
		u32 poff = offset_in_page(off);
		u32 n = min_t(u64, len, PAGE_SIZE - poff);
		u8 *p = kmap_local_page(buf->pages[off >> PAGE_SHIFT]);

		sha256_update(sha, p + poff, n);
		kunmap_local(p);
		off += n;
		len -= n;
	}
}

static int mdl_buf_map(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf)
{
	u32 index;
	int ret;

	mutex_lock(&fw->lock);
	ret = xa_alloc_cyclic(&fw->mkeys, &index, buf,
			      XA_LIMIT(1, MDL_MKEY_MAX_INDEX), &fw->mkey_next,
			      GFP_KERNEL);
	if (ret >= 0) {
		buf->mkey = index << 8 | MDL_MKEY_KEY;
		buf->fw_priv = fw;
		buf->mapped = true;
		ret = 0;
	}
	mutex_unlock(&fw->lock);
	return ret;
}

/* Waits for a command using @buf: they run under the lock. */
static void mdl_buf_unmap(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf)
{
	mutex_lock(&fw->lock);
	if (buf->mapped)
		xa_erase(&fw->mkeys, buf->mkey >> 8);
	buf->mapped = false;
	buf->fw_priv = NULL;
	mutex_unlock(&fw->lock);
}

/* lock held: the buffer of @mkey, which must hold @size bytes */
static struct mlx5vf_buf *mdl_buf_get(struct mlx5vf_fw *fw, u32 mkey,
				      u32 size, u8 *status, u32 *synd)
{
	struct mlx5vf_buf *buf = NULL;

	if ((mkey & 0xff) == MDL_MKEY_KEY)
		buf = xa_load(&fw->mkeys, mkey >> 8);
	if (!buf) {
		*status = VFMIG_STAT_BAD_PARAM;
		*synd = MDL_SYND_MKEY;
		return NULL;
	}
	if (size > (u64)buf->npages << PAGE_SHIFT) {
		*status = VFMIG_STAT_BAD_PARAM;
		*synd = MDL_SYND_RANGE;
		return NULL;
	}
	return buf;
}

/* ------------------------------------------------------------------ */
/* Image sizes                                                         */

static unsigned long mdl_chunk_entries(struct mlx5vf_fw *fw)
{
	return max_t(u64, 1, div_u64(fw->chunk_bytes - MDL_HDR_BYTES,
				     MDL_ENTRY_BYTES));
}

/* The bytes the next image of @n pending pages takes (a chunk of them). */
static u64 mdl_next_bytes(struct mlx5vf_fw *fw, unsigned long n)
{
	if (fw->chunk_mode)
		n = min(n, mdl_chunk_entries(fw));
	return MDL_HDR_BYTES + (u64)n * MDL_ENTRY_BYTES;
}

/* The bytes of every image needed to send @n pages. */
static u64 mdl_total_bytes(struct mlx5vf_fw *fw, unsigned long n)
{
	u64 images = 1;

	if (fw->chunk_mode && n)
		images = DIV_ROUND_UP(n, mdl_chunk_entries(fw));
	return images * MDL_HDR_BYTES + (u64)n * MDL_ENTRY_BYTES;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

/* lock held: the VF's migration commands need its caps and vhca_id */
static u8 mdl_check_vhca(struct mlx5vf_fw *fw, u16 vhca_id, u32 *synd)
{
	if (vhca_id != mdl_vhca_id(fw)) {
		*synd = MDL_SYND_VHCA_ID;
		return VFMIG_STAT_BAD_PARAM;
	}
	if (!(fw->caps & MDL_CAP_MIGRATION) ||
	    !(fw->caps & MDL_CAP_MIGRATABLE)) {
		*synd = MDL_SYND_NO_MIGRATION;
		return MDL_STAT_BAD_OP;
	}
	return VFMIG_STAT_OK;
}

static void mdl_set_cap_2(struct mlx5vf_fw *fw, void *cap, bool vf)
{
	VFMIG_SET(hca_cap_2, cap, migratable,
		  vf && (fw->caps & MDL_CAP_MIGRATABLE));
	VFMIG_SET(hca_cap_2, cap, migration_multi_load,
		  !!(fw->caps & MDL_CAP_MULTI_LOAD));
	VFMIG_SET(hca_cap_2, cap, migration_tracking_state,
		  !!(fw->caps & MDL_CAP_TRACKING));
	VFMIG_SET(hca_cap_2, cap, migration_in_chunks,
		  !!(fw->caps & MDL_CAP_IN_CHUNKS));
	VFMIG_SET(hca_cap_2, cap, migration_state,
		  !!(fw->caps & MDL_CAP_MIG_STATE));
}

/*
 * QUERY_HCA_CAP: the PF's own (other_function=0) or the VF's, addressed
 * by function_id = vf_id + 1 or (function_id_type=1) by its vhca_id.
 * GENERAL: vhca_id and migration; GENERAL_2: the migration bits.  Max and
 * current are the same.
 */
static u8 mdl_cmd_query_hca_cap(struct mlx5vf_fw *fw, void *in, void *out,
				u32 *synd)
{
	u16 op_mod = VFMIG_GET(query_hca_cap_in, in, op_mod);
	bool other = VFMIG_GET(query_hca_cap_in, in, other_function);
	u16 fid = VFMIG_GET(query_hca_cap_in, in, function_id);
	void *cap = MLX5_ADDR_OF(query_hca_cap_out, out, capability);

	if (other &&
	    (VFMIG_GET(query_hca_cap_in, in, function_id_type) ?
	     fid != mdl_vhca_id(fw) : fid != fw->vf_id + 1)) {
		*synd = MDL_SYND_FUNCTION;
		return VFMIG_STAT_BAD_PARAM;
	}
	switch (op_mod >> 1) {
	case VFMIG_CAP_GENERAL:
		MLX5_SET(cmd_hca_cap, cap, vhca_id,
			 other ? mdl_vhca_id(fw) : 0);
		MLX5_SET(cmd_hca_cap, cap, migration,
			 !!(fw->caps & MDL_CAP_MIGRATION));
		return VFMIG_STAT_OK;
	case VFMIG_CAP_GENERAL_2:
		mdl_set_cap_2(fw, cap, other);
		return VFMIG_STAT_OK;
	}
	*synd = MDL_SYND_CAP_TYPE;
	return VFMIG_STAT_BAD_PARAM;
}

/* lock held: the VHCA's run state changes */
static void mdl_set_run(struct mlx5vf_fw *fw, enum mdl_run run)
{
	enum mdl_run old = fw->run;

	fw->run = run;
	if (run == MDL_SUSPENDED && old != MDL_SUSPENDED) {
		/* a new target: loads start over */
		fw->load_started = false;
		fw->loads = 0;
	}
	if (old == MDL_SUSPENDED && run != MDL_SUSPENDED) {
		/* the function runs again: whatever was saved is stale */
		fw->session = MDL_SESSION_NONE;
		mdl_pending_clear(fw);
		fw->load_started = false;
		fw->loads = 0;
		mdl_kick(fw);
	}
	if (old != run)
		mdl_pt_run_changed(fw);
}

/*
 * SUSPEND_VHCA.  INITIATOR (0): RUNNING -> INITIATOR_SUSPENDED, nothing to
 * do if already there or beyond.  RESPONDER (1): from either to SUSPENDED.
 */
static u8 mdl_cmd_suspend(struct mlx5vf_fw *fw, void *in, void *out,
			  u32 *synd)
{
	u8 st = mdl_check_vhca(fw, VFMIG_GET(vhca_cmd_in, in, vhca_id), synd);

	if (st)
		return st;
	switch (VFMIG_GET(vhca_cmd_in, in, op_mod)) {
	case VFMIG_SUSPEND_OP_MOD_INITIATOR:
		if (fw->run == MDL_RUNNING)
			mdl_set_run(fw, MDL_INITIATOR_SUSPENDED);
		return VFMIG_STAT_OK;
	case VFMIG_SUSPEND_OP_MOD_RESPONDER:
		mdl_set_run(fw, MDL_SUSPENDED);
		return VFMIG_STAT_OK;
	}
	*synd = MDL_SYND_OP_MOD;
	return VFMIG_STAT_BAD_PARAM;
}

/*
 * RESUME_VHCA.  RESPONDER (0): SUSPENDED -> INITIATOR_SUSPENDED, nothing
 * to do if not suspended.  INITIATOR (1): INITIATOR_SUSPENDED -> RUNNING,
 * nothing to do if running; BAD_RES_STATE from SUSPENDED (the responder
 * must be resumed first).
 */
static u8 mdl_cmd_resume(struct mlx5vf_fw *fw, void *in, void *out,
			 u32 *synd)
{
	u8 st = mdl_check_vhca(fw, VFMIG_GET(vhca_cmd_in, in, vhca_id), synd);

	if (st)
		return st;
	switch (VFMIG_GET(vhca_cmd_in, in, op_mod)) {
	case VFMIG_RESUME_OP_MOD_RESPONDER:
		if (fw->run == MDL_SUSPENDED)
			mdl_set_run(fw, MDL_INITIATOR_SUSPENDED);
		return VFMIG_STAT_OK;
	case VFMIG_RESUME_OP_MOD_INITIATOR:
		if (fw->run == MDL_SUSPENDED) {
			*synd = MDL_SYND_RUN_STATE;
			return VFMIG_STAT_BAD_RES_STATE;
		}
		mdl_set_run(fw, MDL_RUNNING);
		return VFMIG_STAT_OK;
	}
	*synd = MDL_SYND_OP_MOD;
	return VFMIG_STAT_BAD_PARAM;
}

/* lock held: QUERY(inc=1) sizes, into *req and *total */
static u8 mdl_query_inc(struct mlx5vf_fw *fw, u64 *req, u64 *total)
{
	u8 mig_state = VFMIG_MIG_STATE_IDLE;

	*req = 0;
	*total = 0;
	if (fw->session == MDL_SESSION_NONE)
		return mig_state;
	if (fw->reinit && fw->session == MDL_SESSION_TRACKING &&
	    fw->run != MDL_SUSPENDED) {
		/* the firmware started over: everything is to send again */
		fw->reinit = false;
		mdl_pending_fill(fw);
		mig_state = VFMIG_MIG_STATE_INIT;
	}
	/* a suspended VHCA always has a last image, maybe of no page */
	if (fw->npending || fw->run == MDL_SUSPENDED) {
		*req = mdl_next_bytes(fw, fw->npending);
		*total = mdl_total_bytes(fw, fw->npending);
	}
	return mig_state;
}

/*
 * QUERY_VHCA_MIGRATION_STATE.  inc=0: a full image (required_umem_size
 * the first chunk's in chunk mode); inc=1: what the session has pending.
 * chunk=1 sets chunk mode for the SAVEs that follow.
 */
static u8 mdl_cmd_query(struct mlx5vf_fw *fw, void *in, void *out, u32 *synd)
{
	bool inc = VFMIG_GET(query_vhca_migration_state_in, in, incremental);
	bool chunk = VFMIG_GET(query_vhca_migration_state_in, in, chunk);
	u16 vhca_id = VFMIG_GET(query_vhca_migration_state_in, in, vhca_id);
	u8 mig_state = VFMIG_MIG_STATE_IDLE;
	u64 req, total;
	u8 st;

	st = mdl_check_vhca(fw, vhca_id, synd);
	if (st)
		return st;
	if (VFMIG_GET(query_vhca_migration_state_in, in, op_mod)) {
		*synd = MDL_SYND_OP_MOD;
		return VFMIG_STAT_BAD_PARAM;
	}
	if (chunk && !(fw->caps & MDL_CAP_IN_CHUNKS)) {
		*synd = MDL_SYND_NO_CHUNKS;
		return VFMIG_STAT_BAD_PARAM;
	}
	if (inc && !(fw->caps & MDL_CAP_TRACKING)) {
		*synd = MDL_SYND_NO_TRACKING;
		return VFMIG_STAT_BAD_PARAM;
	}
	fw->chunk_mode = chunk;
	if (inc) {
		mig_state = mdl_query_inc(fw, &req, &total);
	} else {
		req = mdl_next_bytes(fw, fw->npages);
		total = mdl_total_bytes(fw, fw->npages);
	}
	if (!(fw->caps & MDL_CAP_MIG_STATE))
		mig_state = 0;
	VFMIG_SET(query_vhca_migration_state_out, out, migration_state,
		  mig_state);
	VFMIG_SET(query_vhca_migration_state_out, out, required_umem_size,
		  min_t(u64, req, U32_MAX));
	VFMIG_SET64(query_vhca_migration_state_out, out, remaining_total_size,
		    total);
	return VFMIG_STAT_OK;
}

/* lock held: an image of the first @n pending pages into @buf */
static void mdl_emit(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf, u16 kind,
		     unsigned long n, bool last)
{
	struct mdl_img_hdr hdr = {};
	struct mdl_img_entry ent;
	struct sha256_state sha;
	u64 off = MDL_HDR_BYTES;
	unsigned long page = 0;

	sha256_init(&sha);
	while (n--) {
		page = find_next_bit(fw->pending, fw->npages, page);
		ent.page = cpu_to_le64(page);
		mdl_buf_write(buf, off, &ent, sizeof(ent));
		mdl_buf_write(buf, off + sizeof(ent), mdl_page(fw, page),
			      MDL_PAGE_SIZE);
		sha256_update(&sha, (const u8 *)&ent, sizeof(ent));
		sha256_update(&sha, mdl_page(fw, page), MDL_PAGE_SIZE);
		__clear_bit(page, fw->pending);
		fw->npending--;
		off += MDL_ENTRY_BYTES;
		page++;
	}
	hdr.magic = cpu_to_le32(MDL_IMG_MAGIC);
	hdr.version = cpu_to_le16(MDL_IMG_VERSION);
	hdr.kind = cpu_to_le16(kind);
	hdr.flags = cpu_to_le32(last ? MDL_IMG_LAST : 0);
	hdr.seq = cpu_to_le32(fw->save_seq);
	hdr.state_size = cpu_to_le64(fw->size);
	hdr.nr_entries = cpu_to_le32(div_u64(off - MDL_HDR_BYTES,
					     MDL_ENTRY_BYTES));
	hdr.fw_major = cpu_to_le16(fw->fw_major);
	hdr.fw_minor = cpu_to_le16(fw->fw_minor);
	sha256_final(&sha, hdr.sha256);
	mdl_buf_write(buf, 0, &hdr, sizeof(hdr));
}

/* lock held: the SAVE arguments are legal for the VHCA's state */
static u8 mdl_save_check(struct mlx5vf_fw *fw, bool inc, bool track,
			 u32 *synd)
{
	bool suspended = fw->run == MDL_SUSPENDED;

	if ((inc || track) && !(fw->caps & MDL_CAP_TRACKING)) {
		*synd = MDL_SYND_NO_TRACKING;
		return VFMIG_STAT_BAD_PARAM;
	}
	if (track && suspended) {
		*synd = MDL_SYND_TRACK_SUSP;
		return VFMIG_STAT_BAD_RES_STATE;
	}
	if (inc && fw->session == MDL_SESSION_NONE) {
		*synd = MDL_SYND_NO_SESSION;
		return VFMIG_STAT_BAD_RES_STATE;
	}
	if (inc && !track && !suspended) {
		*synd = MDL_SYND_NOT_SUSP;
		return VFMIG_STAT_BAD_RES_STATE;
	}
	return VFMIG_STAT_OK;
}

/*
 * How many pages the image holds, of @avail to send, in @size bytes:
 * a tracked (pre-copy) image takes what fits and leaves the rest pending;
 * a chunk takes at most a chunk; a stop-copy image outside chunk mode must
 * take everything.  -1: BAD_SIZE.
 */
static long mdl_save_count(struct mlx5vf_fw *fw, bool track,
			   unsigned long avail, u32 size)
{
	unsigned long fit, n = avail;

	if (size < MDL_HDR_BYTES)
		return -1;
	fit = div_u64(size - MDL_HDR_BYTES, MDL_ENTRY_BYTES);
	if (fw->chunk_mode)
		n = min(n, mdl_chunk_entries(fw));
	if (n <= fit)
		return n;
	if (track || (fw->chunk_mode && fit))
		return fit;
	return -1;
}

static u8 mdl_cmd_save(struct mlx5vf_fw *fw, void *in, void *out, u32 *synd)
{
	bool inc = VFMIG_GET(save_vhca_state_in, in, incremental);
	bool track = VFMIG_GET(save_vhca_state_in, in, set_track);
	u32 size = VFMIG_GET(save_vhca_state_in, in, size);
	struct mlx5vf_buf *buf;
	bool last = false;
	long n;
	u8 st;

	st = mdl_check_vhca(fw, VFMIG_GET(save_vhca_state_in, in, vhca_id),
			    synd);
	if (st)
		return st;
	if (VFMIG_GET(save_vhca_state_in, in, op_mod)) {
		*synd = MDL_SYND_OP_MOD;
		return VFMIG_STAT_BAD_PARAM;
	}
	buf = mdl_buf_get(fw, VFMIG_GET(save_vhca_state_in, in, mkey), size,
			  &st, synd);
	if (!buf)
		return st;
	st = mdl_save_check(fw, inc, track, synd);
	if (st)
		return st;

	if (!inc && !track && fw->run != MDL_SUSPENDED) {
		/* cleanup when leaving PRE_COPY: no image, no session */
		fw->session = MDL_SESSION_NONE;
		mdl_pending_clear(fw);
		return VFMIG_STAT_OK;
	}

	n = mdl_save_count(fw, track, inc ? fw->npending : fw->npages, size);
	if (n < 0) {
		*synd = MDL_SYND_IMG_SIZE;
		return VFMIG_STAT_BAD_SIZE;
	}
	if (!inc) {
		mdl_pending_fill(fw);
		fw->save_seq = 0;
	} else {
		fw->save_seq++;
	}
	fw->session = track ? MDL_SESSION_TRACKING : MDL_SESSION_STOP_COPY;
	if (!track)
		last = n == fw->npending;
	mdl_emit(fw, buf, inc ? MDL_IMG_DELTA : MDL_IMG_BASE, n, last);
	if (last)
		fw->session = MDL_SESSION_NONE;

	VFMIG_SET(save_vhca_state_out, out, actual_image_size,
		  MDL_HDR_BYTES + n * MDL_ENTRY_BYTES);
	VFMIG_SET(save_vhca_state_out, out, next_required_umem_size,
		  track || last ? 0 : mdl_next_bytes(fw, fw->npending));
	return VFMIG_STAT_OK;
}

/* lock held: the image in @buf fits this VHCA and comes next */
static u8 mdl_load_check_hdr(struct mlx5vf_fw *fw, struct mdl_img_hdr *hdr,
			     u32 size, u32 *synd)
{
	u16 kind = le16_to_cpu(hdr->kind);
	u32 seq = le32_to_cpu(hdr->seq);
	u16 major = le16_to_cpu(hdr->fw_major);
	u16 minor = le16_to_cpu(hdr->fw_minor);

	if (le32_to_cpu(hdr->magic) != MDL_IMG_MAGIC)
		*synd = MDL_SYND_MAGIC;
	else if (le16_to_cpu(hdr->version) != MDL_IMG_VERSION)
		*synd = MDL_SYND_VERSION;
	else if (major > fw->fw_major ||
		 (major == fw->fw_major && minor > fw->fw_minor))
		*synd = MDL_SYND_FW_TOO_NEW;
	else if (le64_to_cpu(hdr->state_size) != fw->size)
		*synd = MDL_SYND_STATE_SIZE;
	else if (size != MDL_HDR_BYTES +
		 (u64)le32_to_cpu(hdr->nr_entries) * MDL_ENTRY_BYTES)
		*synd = MDL_SYND_LENGTH;
	else if (kind != MDL_IMG_BASE && kind != MDL_IMG_DELTA)
		*synd = MDL_SYND_KIND;
	else if (kind == MDL_IMG_BASE ? seq != 0 :
		 !fw->load_started || seq != fw->load_seq + 1)
		*synd = MDL_SYND_ORDER;
	else
		return VFMIG_STAT_OK;
	return VFMIG_STAT_BAD_PARAM;
}

/* lock held: the entries' page indexes and checksum */
static u8 mdl_load_check_entries(struct mlx5vf_fw *fw,
				 struct mlx5vf_buf *buf,
				 struct mdl_img_hdr *hdr, u32 *synd)
{
	u32 i, nr = le32_to_cpu(hdr->nr_entries);
	u8 digest[SHA256_DIGEST_SIZE];
	u64 off = MDL_HDR_BYTES;
	struct mdl_img_entry ent;
	struct sha256_state sha;

	sha256_init(&sha);
	for (i = 0; i < nr; i++, off += MDL_ENTRY_BYTES) {
		mdl_buf_read(buf, off, &ent, sizeof(ent));
		if (le64_to_cpu(ent.page) >= fw->npages) {
			*synd = MDL_SYND_PAGE;
			return VFMIG_STAT_BAD_PARAM;
		}
	}
	mdl_buf_hash(buf, MDL_HDR_BYTES, off - MDL_HDR_BYTES, &sha);
	sha256_final(&sha, digest);
	if (memcmp(digest, hdr->sha256, sizeof(digest))) {
		*synd = MDL_SYND_CHECKSUM;
		return VFMIG_STAT_BAD_PARAM;
	}
	return VFMIG_STAT_OK;
}

static void mdl_load_apply(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf,
			   struct mdl_img_hdr *hdr)
{
	u32 i, nr = le32_to_cpu(hdr->nr_entries);
	u64 off = MDL_HDR_BYTES;
	struct mdl_img_entry ent;

	for (i = 0; i < nr; i++, off += MDL_ENTRY_BYTES) {
		mdl_buf_read(buf, off, &ent, sizeof(ent));
		mdl_buf_read(buf, off + sizeof(ent),
			     mdl_page(fw, le64_to_cpu(ent.page)),
			     MDL_PAGE_SIZE);
	}
	fw->load_started = true;
	fw->load_seq = le32_to_cpu(hdr->seq);
	fw->loads++;
}

/*
 * LOAD_VHCA_STATE: a suspended VHCA takes one image, checked whole before
 * anything changes; without multi_load, only one per suspension.
 */
static u8 mdl_cmd_load(struct mlx5vf_fw *fw, void *in, void *out, u32 *synd)
{
	u32 size = VFMIG_GET(load_vhca_state_in, in, size);
	struct mdl_img_hdr hdr;
	struct mlx5vf_buf *buf;
	u8 st;

	st = mdl_check_vhca(fw, VFMIG_GET(load_vhca_state_in, in, vhca_id),
			    synd);
	if (st)
		return st;
	if (VFMIG_GET(load_vhca_state_in, in, op_mod)) {
		*synd = MDL_SYND_OP_MOD;
		return VFMIG_STAT_BAD_PARAM;
	}
	if (fw->run != MDL_SUSPENDED) {
		*synd = MDL_SYND_NOT_SUSP;
		return VFMIG_STAT_BAD_RES_STATE;
	}
	if (fw->loads && !(fw->caps & MDL_CAP_MULTI_LOAD)) {
		*synd = MDL_SYND_MULTI_LOAD;
		return VFMIG_STAT_BAD_RES_STATE;
	}
	buf = mdl_buf_get(fw, VFMIG_GET(load_vhca_state_in, in, mkey), size,
			  &st, synd);
	if (!buf)
		return st;
	if (size < MDL_HDR_BYTES) {
		*synd = MDL_SYND_LENGTH;
		return VFMIG_STAT_BAD_PARAM;
	}
	mdl_buf_read(buf, 0, &hdr, sizeof(hdr));
	st = mdl_load_check_hdr(fw, &hdr, size, synd);
	if (!st)
		st = mdl_load_check_entries(fw, buf, &hdr, synd);
	if (!st)
		mdl_load_apply(fw, buf, &hdr);
	return st;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

typedef u8 (*mdl_cmd_fn)(struct mlx5vf_fw *fw, void *in, void *out,
			 u32 *synd);

/* a command whose length the mailbox says (the general objects') */
typedef u8 (*mdl_cmd_len_fn)(struct mlx5vf_fw *fw, void *in, int inlen,
			     void *out, u32 *synd);

struct mdl_op {
	u16 opcode;
	u16 inlen;
	u16 outlen;
	mdl_cmd_fn run;
	mdl_cmd_len_fn run_len;
};

static const struct mdl_op mdl_ops[] = {
	{ VFMIG_CMD_QUERY_HCA_CAP, VFMIG_SZ(query_hca_cap_in),
	  MLX5_ST_SZ_BYTES(query_hca_cap_out), mdl_cmd_query_hca_cap },
	{ VFMIG_CMD_SUSPEND_VHCA, VFMIG_SZ(vhca_cmd_in), VFMIG_SZ(cmd_out),
	  mdl_cmd_suspend },
	{ VFMIG_CMD_RESUME_VHCA, VFMIG_SZ(vhca_cmd_in), VFMIG_SZ(cmd_out),
	  mdl_cmd_resume },
	{ VFMIG_CMD_QUERY_VHCA_MIGRATION_STATE,
	  VFMIG_SZ(query_vhca_migration_state_in),
	  VFMIG_SZ(query_vhca_migration_state_out), mdl_cmd_query },
	{ VFMIG_CMD_SAVE_VHCA_STATE, VFMIG_SZ(save_vhca_state_in),
	  VFMIG_SZ(save_vhca_state_out), mdl_cmd_save },
	{ VFMIG_CMD_LOAD_VHCA_STATE, VFMIG_SZ(load_vhca_state_in),
	  VFMIG_SZ(cmd_out), mdl_cmd_load },
	/* the page tracker: model_track.c */
	{ VFMIG_CMD_CREATE_GENERAL_OBJECT,
	  MLX5_ST_SZ_BYTES(create_page_track_obj_in),
	  MLX5_ST_SZ_BYTES(general_obj_out_cmd_hdr), NULL, mdl_pt_cmd },
	{ VFMIG_CMD_MODIFY_GENERAL_OBJECT,
	  MLX5_ST_SZ_BYTES(modify_page_track_obj_in),
	  MLX5_ST_SZ_BYTES(general_obj_out_cmd_hdr), NULL, mdl_pt_cmd },
	{ VFMIG_CMD_QUERY_GENERAL_OBJECT,
	  MLX5_ST_SZ_BYTES(general_obj_in_cmd_hdr),
	  VFMIG_SZ(query_page_track_out), NULL, mdl_pt_cmd },
	{ VFMIG_CMD_DESTROY_GENERAL_OBJECT,
	  MLX5_ST_SZ_BYTES(general_obj_in_cmd_hdr),
	  MLX5_ST_SZ_BYTES(general_obj_out_cmd_hdr), NULL, mdl_pt_cmd },
};

static const struct mdl_op *mdl_find_op(u16 opcode)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mdl_ops); i++)
		if (mdl_ops[i].opcode == opcode)
			return &mdl_ops[i];
	return NULL;
}

/* What a command is, for the counters and the fault knob */
struct mdl_kind {
	u16 opcode;
	u16 op_mod;
	bool inc;
	bool track;
};

static void mdl_kind(void *in, struct mdl_kind *k)
{
	k->opcode = VFMIG_GET(vhca_cmd_in, in, opcode);
	k->op_mod = VFMIG_GET(vhca_cmd_in, in, op_mod);
	/* the same two bits in QUERY and SAVE */
	k->inc = VFMIG_GET(save_vhca_state_in, in, incremental);
	k->track = VFMIG_GET(save_vhca_state_in, in, set_track);
}

static int mdl_counter(const struct mdl_kind *k)
{
	switch (k->opcode) {
	case VFMIG_CMD_SUSPEND_VHCA:
		return k->op_mod == VFMIG_SUSPEND_OP_MOD_INITIATOR ?
			MDL_CNT_SUSPEND_INITIATOR : MDL_CNT_SUSPEND_RESPONDER;
	case VFMIG_CMD_RESUME_VHCA:
		return k->op_mod == VFMIG_RESUME_OP_MOD_RESPONDER ?
			MDL_CNT_RESUME_RESPONDER : MDL_CNT_RESUME_INITIATOR;
	case VFMIG_CMD_QUERY_VHCA_MIGRATION_STATE:
		return k->inc ? MDL_CNT_QUERY_INC : MDL_CNT_QUERY;
	case VFMIG_CMD_SAVE_VHCA_STATE:
		if (k->track)
			return k->inc ? MDL_CNT_SAVE_INC_TRACK :
					MDL_CNT_SAVE_FULL_TRACK;
		return k->inc ? MDL_CNT_SAVE_INC : MDL_CNT_SAVE_FULL;
	case VFMIG_CMD_LOAD_VHCA_STATE:
		return MDL_CNT_LOAD;
	case VFMIG_CMD_QUERY_HCA_CAP:
		return MDL_CNT_QUERY_HCA_CAP;
	case VFMIG_CMD_CREATE_GENERAL_OBJECT:
		return MDL_CNT_PT_CREATE;
	case VFMIG_CMD_MODIFY_GENERAL_OBJECT:
		return MDL_CNT_PT_REPORT;
	case VFMIG_CMD_QUERY_GENERAL_OBJECT:
		return MDL_CNT_PT_QUERY;
	case VFMIG_CMD_DESTROY_GENERAL_OBJECT:
		return MDL_CNT_PT_DESTROY;
	}
	return -1;
}

static bool mdl_fault_matches(enum mdl_fault_cmd f, const struct mdl_kind *k)
{
	bool save = k->opcode == VFMIG_CMD_SAVE_VHCA_STATE;
	bool query = k->opcode == VFMIG_CMD_QUERY_VHCA_MIGRATION_STATE;

	switch (f) {
	case MDL_FAULT_SUSPEND:
		return k->opcode == VFMIG_CMD_SUSPEND_VHCA;
	case MDL_FAULT_RESUME:
		return k->opcode == VFMIG_CMD_RESUME_VHCA;
	case MDL_FAULT_QUERY:
		return query;
	case MDL_FAULT_QUERY_INC:
		return query && k->inc;
	case MDL_FAULT_SAVE:
		return save;
	case MDL_FAULT_SAVE_INITIAL:
		return save && !k->inc && k->track;
	case MDL_FAULT_SAVE_PRECOPY:
		return save && k->inc && k->track;
	case MDL_FAULT_SAVE_FINAL:
		return save && k->inc && !k->track;
	case MDL_FAULT_SAVE_FULL:
		return save && !k->inc && !k->track;
	case MDL_FAULT_LOAD:
		return k->opcode == VFMIG_CMD_LOAD_VHCA_STATE;
	case MDL_FAULT_QUERY_HCA_CAP:
		return k->opcode == VFMIG_CMD_QUERY_HCA_CAP;
	default:
		return false;
	}
}

/*
 * lock held: the armed fault, if it is for this command (then disarmed).
 * A tracked SAVE refused with BAD_RES_STATE means the firmware lost
 * tracking: the session ends, as the driver's fallback assumes.
 */
static int mdl_fault_take(struct mlx5vf_fw *fw, const struct mdl_kind *k)
{
	int status;

	if (!mdl_fault_matches(fw->fault_cmd, k))
		return 0;
	status = fw->fault_status;
	fw->fault_cmd = MDL_FAULT_NONE;
	fw->fault_status = 0;
	if (k->opcode == VFMIG_CMD_SAVE_VHCA_STATE && k->track &&
	    status == VFMIG_STAT_BAD_RES_STATE) {
		fw->session = MDL_SESSION_NONE;
		mdl_pending_clear(fw);
	}
	return status;
}

/*
 * One command.  Returns as ops->exec() does: 0, -EREMOTEIO with the
 * status and syndrome in @out, or another errno (did not complete).
 */
static int mdl_exec(struct mlx5vf_fw *fw, void *in, int inlen, void *out,
		    int outlen)
{
	const struct mdl_op *op;
	struct mdl_kind k;
	u32 synd = 0;
	int status, cnt;

	if (inlen < VFMIG_SZ(vhca_cmd_in) || outlen < VFMIG_SZ(cmd_out))
		return -EINVAL;
	mdl_kind(in, &k);
	op = mdl_find_op(k.opcode);
	if (op && (inlen < op->inlen || outlen < op->outlen))
		return -EINVAL;
	memset(out, 0, outlen);

	mutex_lock(&fw->lock);
	if (fw->detached) {
		mutex_unlock(&fw->lock);
		return -ENOTCONN;
	}
	cnt = mdl_counter(&k);
	if (cnt >= 0)
		fw->counts[cnt]++;
	status = mdl_fault_take(fw, &k);
	if (status) {
		synd = MDL_SYND_FAULT;
	} else if (!op) {
		status = MDL_STAT_BAD_OP;
		synd = MDL_SYND_OPCODE;
	} else if (op->run_len) {
		status = op->run_len(fw, in, inlen, out, &synd);
	} else {
		status = op->run(fw, in, out, &synd);
	}
	if (status)
		fw->counts[MDL_CNT_FAILED]++;
	mutex_unlock(&fw->lock);

	if (status < 0)
		return status;
	if (!status)
		return 0;
	VFMIG_SET(cmd_out, out, status, status);
	VFMIG_SET(cmd_out, out, syndrome, synd);
	return -EREMOTEIO;
}

/* A command started by exec_cb(), run by the VF's ordered workqueue */
#define MDL_MAX_INLEN	64

struct mdl_async {
	struct work_struct work;
	struct mlx5vf_fw *fw;
	struct mlx5vf_async_cmd *cmd;
	int inlen;
	u8 in[MDL_MAX_INLEN];
};

static void mdl_async_work(struct work_struct *work)
{
	struct mdl_async *a = container_of(work, struct mdl_async, work);
	struct mlx5vf_async_cmd *cmd = a->cmd;
	struct mlx5vf_fw *fw = a->fw;
	u32 delay = READ_ONCE(fw->cmd_delay_us);
	int ret;

	if (delay)
		fsleep(delay);
	ret = mdl_exec(fw, a->in, a->inlen, cmd->out, cmd->outlen);
	cmd->priv = NULL;
	kfree(a);
	/* no model lock held: done() may start the next command */
	cmd->done(cmd, ret);
}

/* Process context (may sleep), like mlx5_cmd_exec_cb()'s callers. */
static int mdl_exec_cb(struct mlx5vf_fw *fw, void *in, int inlen,
		       struct mlx5vf_async_cmd *cmd)
{
	struct mdl_async *a;
	bool detached;

	if (inlen < VFMIG_SZ(vhca_cmd_in) || inlen > MDL_MAX_INLEN)
		return -EINVAL;
	mutex_lock(&fw->lock);
	detached = fw->detached;
	mutex_unlock(&fw->lock);
	if (detached)
		return -ENOTCONN;
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	INIT_WORK(&a->work, mdl_async_work);
	a->fw = fw;
	a->cmd = cmd;
	a->inlen = inlen;
	memcpy(a->in, in, inlen);
	cmd->priv = a;
	queue_work(fw->wq, &a->work);
	return 0;
}

static void mdl_flush(struct mlx5vf_fw *fw)
{
	flush_workqueue(fw->wq);
}

static void mdl_pf_caps(struct mlx5vf_fw *fw, struct mlx5vf_pf_caps *caps)
{
	mutex_lock(&fw->lock);
	memset(caps, 0, sizeof(*caps));
	caps->migration = fw->caps & MDL_CAP_MIGRATION;
	caps->migration_multi_load = fw->caps & MDL_CAP_MULTI_LOAD;
	caps->migration_tracking_state = fw->caps & MDL_CAP_TRACKING;
	caps->migration_in_chunks = fw->caps & MDL_CAP_IN_CHUNKS;
	caps->migration_state = fw->caps & MDL_CAP_MIG_STATE;
	caps->track.supported = fw->caps & MDL_CAP_ADV_VIRT;
	caps->track.max_num_range = fw->pt_max_ranges;
	caps->track.log_min_addr_space = MDL_PT_LOG_MIN_SPACE;
	caps->track.log_max_addr_space = MDL_PT_LOG_MAX_SPACE;
	caps->track.log_min_msg_size = MDL_PT_LOG_MIN_MSG;
	caps->track.log_max_msg_size = fw->pt_log_msg_size;
	caps->track.log_min_page_size = MDL_PT_LOG_MIN_PAGE;
	caps->track.log_max_page_size = MDL_PT_LOG_MAX_PAGE;
	mutex_unlock(&fw->lock);
}

static int mdl_notifier_register(struct mlx5vf_fw *fw, int vf_id,
				 struct notifier_block *nb)
{
	if (vf_id != READ_ONCE(fw->vf_id))
		return -EINVAL;
	return blocking_notifier_chain_register(&fw->nh, nb);
}

static void mdl_notifier_unregister(struct mlx5vf_fw *fw, int vf_id,
				    struct notifier_block *nb)
{
	blocking_notifier_chain_unregister(&fw->nh, nb);
}

/*
 * other_func_cap_2 is left out on purpose: the driver then sends its own
 * QUERY_HCA_CAP (the path of kernels without
 * mlx5_vport_get_other_func_cap()), which the model decodes.
 */
const struct mlx5vf_fw_ops mlx5vf_model_fw_ops = {
	.exec			= mdl_exec,
	.exec_cb		= mdl_exec_cb,
	.flush			= mdl_flush,
	.buf_map		= mdl_buf_map,
	.buf_unmap		= mdl_buf_unmap,
	.pf_caps		= mdl_pf_caps,
	.notifier_register	= mdl_notifier_register,
	.notifier_unregister	= mdl_notifier_unregister,
	.function_reset		= mlx5vf_model_flr,
	.track_open		= mdl_track_open,
	.track_poll		= mdl_track_poll,
	.track_repost		= mdl_track_repost,
	.track_close		= mdl_track_close,
};

/* ------------------------------------------------------------------ */
/* SR-IOV events                                                       */

/*
 * As mlx5_core does: DISABLE_VF is sent while the VF still answers, then
 * its VHCA goes away; ENABLE_VF is sent before the VHCA is back.  The
 * notifiers run here, in process context, without the model's lock.
 */
int mlx5vf_model_sriov(struct mlx5vf_fw *fw, bool enable)
{
	bool detached;

	mutex_lock(&fw->event_lock);
	mutex_lock(&fw->lock);
	detached = fw->detached;
	mutex_unlock(&fw->lock);
	if (enable == detached) {
		if (!enable) {
			blocking_notifier_call_chain(&fw->nh,
					MLX5VF_PF_NOTIFY_DISABLE_VF, NULL);
			mutex_lock(&fw->lock);
			fw->detached = true;
			mdl_pt_detach(fw);
			mutex_unlock(&fw->lock);
		} else {
			mutex_lock(&fw->lock);
			mdl_power_on(fw);
			mutex_unlock(&fw->lock);
			blocking_notifier_call_chain(&fw->nh,
					MLX5VF_PF_NOTIFY_ENABLE_VF, NULL);
			mutex_lock(&fw->lock);
			fw->detached = false;
			mdl_kick(fw);
			mutex_unlock(&fw->lock);
		}
	}
	mutex_unlock(&fw->event_lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The modelled PF: VFs come and go with the driver binding            */

int mlx5vf_model_parse_fw_version(const char *s, u16 *major, u16 *minor)
{
	unsigned int a, b, c;
	char extra;

	if (sscanf(s, "%u.%u.%u%c", &a, &b, &c, &extra) != 3 ||
	    a > U16_MAX || b > U16_MAX || c > U16_MAX)
		return -EINVAL;
	*major = a;
	*minor = b;
	return 0;
}

static u32 mdl_domain(struct pci_dev *pdev)
{
	return pci_domain_nr(pdev->bus);
}

/* mdl_list_lock held */
static struct mdl_saved_cfg *mdl_saved_find(struct pci_dev *pdev)
{
	struct mdl_saved_cfg *s;

	list_for_each_entry(s, &mdl_saved, link)
		if (s->domain == mdl_domain(pdev) &&
		    s->devid == pci_dev_id(pdev))
			return s;
	return NULL;
}

/* mdl_list_lock held: is @vf_id taken by another function? */
static bool mdl_vf_id_used(int vf_id, struct pci_dev *pdev)
{
	struct mdl_saved_cfg *s;
	struct mlx5vf_fw *fw;

	list_for_each_entry(fw, &mdl_vfs, link)
		if (fw->pdev != pdev && fw->vf_id == vf_id)
			return true;
	list_for_each_entry(s, &mdl_saved, link)
		if ((s->domain != mdl_domain(pdev) ||
		     s->devid != pci_dev_id(pdev)) && s->vf_id == vf_id)
			return true;
	return false;
}

/* mdl_list_lock held: the lowest free index */
static int mdl_vf_id_alloc(struct pci_dev *pdev)
{
	int id;

	for (id = 0; id < MDL_MAX_VFS; id++)
		if (!mdl_vf_id_used(id, pdev))
			return id;
	return -ENOSPC;
}

int mlx5vf_model_set_vf_id(struct mlx5vf_fw *fw, int vf_id)
{
	int ret = 0;

	if (vf_id < 0 || vf_id >= MDL_MAX_VFS)
		return -EINVAL;
	mutex_lock(&mdl_list_lock);
	if (mdl_vf_id_used(vf_id, fw->pdev)) {
		ret = -EEXIST;
	} else {
		mutex_lock(&fw->lock);
		WRITE_ONCE(fw->vf_id, vf_id);
		mutex_unlock(&fw->lock);
	}
	mutex_unlock(&mdl_list_lock);
	return ret;
}

struct mlx5vf_fw *mlx5vf_model_find(struct pci_dev *pdev)
{
	struct mlx5vf_fw *fw, *found = NULL;

	mutex_lock(&mdl_list_lock);
	list_for_each_entry(fw, &mdl_vfs, link)
		if (fw->pdev == pdev)
			found = fw;
	mutex_unlock(&mdl_list_lock);
	return found;
}

static void mdl_cfg_restore(struct mlx5vf_fw *fw, struct mdl_saved_cfg *s)
{
	fw->vf_id = s->vf_id;
	fw->caps = s->caps;
	fw->size = s->size;
	fw->chunk_bytes = s->chunk_bytes;
	fw->cmd_delay_us = s->cmd_delay_us;
	fw->dirty_rate = s->dirty_rate;
	strscpy(fw->fw_version, s->fw_version, sizeof(fw->fw_version));
	fw->fw_major = s->fw_major;
	fw->fw_minor = s->fw_minor;
}

/* mdl_list_lock held: keep what the knobs set for the next bind */
static void mdl_cfg_save(struct mlx5vf_fw *fw)
{
	struct mdl_saved_cfg *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return;		/* the next bind gets the defaults */
	s->domain = mdl_domain(fw->pdev);
	s->devid = pci_dev_id(fw->pdev);
	s->vf_id = fw->vf_id;
	s->caps = fw->caps;
	s->size = fw->size;
	s->chunk_bytes = fw->chunk_bytes;
	s->cmd_delay_us = fw->cmd_delay_us;
	s->dirty_rate = fw->dirty_rate;
	strscpy(s->fw_version, fw->fw_version, sizeof(s->fw_version));
	s->fw_major = fw->fw_major;
	s->fw_minor = fw->fw_minor;
	list_add_tail(&s->link, &mdl_saved);
}

static void mdl_defaults(struct mlx5vf_fw *fw)
{
	fw->caps = MDL_CAP_DEFAULT;
	fw->size = MDL_DEF_STATE;
	fw->chunk_bytes = MDL_DEF_CHUNK;
	strscpy(fw->fw_version, MDL_DEF_FW_VERSION, sizeof(fw->fw_version));
	mlx5vf_model_parse_fw_version(fw->fw_version, &fw->fw_major,
				      &fw->fw_minor);
}

static void mdl_free(struct mlx5vf_fw *fw)
{
	if (fw->wq)
		destroy_workqueue(fw->wq);
	xa_destroy(&fw->mkeys);
	xa_destroy(&fw->pt.dirty);
	mutex_destroy(&fw->pt_lock);
	vfree(fw->state);
	bitmap_free(fw->pending);
	mutex_destroy(&fw->event_lock);
	mutex_destroy(&fw->lock);
	kfree(fw);
}

/* mdl_list_lock held: configuration, vf_id and state */
static int mdl_setup(struct mlx5vf_fw *fw)
{
	struct mdl_saved_cfg *s = mdl_saved_find(fw->pdev);
	int ret;

	if (s)
		mdl_cfg_restore(fw, s);
	else
		mdl_defaults(fw);
	if (!s || mdl_vf_id_used(fw->vf_id, fw->pdev)) {
		ret = mdl_vf_id_alloc(fw->pdev);
		if (ret < 0)
			return ret;
		fw->vf_id = ret;
	}
	ret = mdl_alloc_state(fw, fw->size);
	if (ret)
		return ret;
	if (s) {
		list_del(&s->link);
		kfree(s);
	}
	list_add_tail(&fw->link, &mdl_vfs);
	return 0;
}

struct mlx5vf_fw *mlx5vf_model_attach(struct pci_dev *pdev)
{
	struct mlx5vf_fw *fw;
	int ret;

	fw = kzalloc(sizeof(*fw), GFP_KERNEL);
	if (!fw)
		return ERR_PTR(-ENOMEM);
	fw->pdev = pdev;
	mutex_init(&fw->lock);
	mutex_init(&fw->event_lock);
	BLOCKING_INIT_NOTIFIER_HEAD(&fw->nh);
	INIT_DELAYED_WORK(&fw->dirty_work, mdl_dirty_work);
	xa_init_flags(&fw->mkeys, XA_FLAGS_ALLOC);
	mdl_pt_init(fw);
	fw->seed = 0x6a09e667f3bcc908ULL ^
		   ((u64)mdl_domain(pdev) << 32 | pci_dev_id(pdev));
	fw->wq = alloc_ordered_workqueue("vfmig_mlx5model/%s", 0,
					 pci_name(pdev));
	if (!fw->wq) {
		mdl_free(fw);
		return ERR_PTR(-ENOMEM);
	}

	mutex_lock(&mdl_list_lock);
	ret = mdl_setup(fw);
	mutex_unlock(&mdl_list_lock);
	if (ret) {
		mdl_free(fw);
		return ERR_PTR(ret);
	}
	mutex_lock(&fw->lock);
	mdl_kick(fw);
	mutex_unlock(&fw->lock);
	return fw;
}

void mlx5vf_model_detach(struct mlx5vf_fw *fw)
{
	mutex_lock(&fw->lock);
	fw->dead = true;
	mutex_unlock(&fw->lock);
	cancel_delayed_work_sync(&fw->dirty_work);
	mdl_pt_fini(fw);
	/* commands still queued run (and complete) first */
	destroy_workqueue(fw->wq);
	fw->wq = NULL;

	mutex_lock(&mdl_list_lock);
	list_del(&fw->link);
	mdl_cfg_save(fw);
	mutex_unlock(&mdl_list_lock);
	mdl_free(fw);
}

int mlx5vf_model_vf_id(struct mlx5vf_fw *fw, struct pci_dev *pdev)
{
	return READ_ONCE(fw->vf_id);
}

void mlx5vf_model_identity(struct mlx5vf_fw *fw, char *buf, size_t len)
{
	mutex_lock(&fw->lock);
	snprintf(buf, len, "mlx5-model fw %s psid %s", fw->fw_version,
		 MDL_PSID);
	mutex_unlock(&fw->lock);
}

void mlx5vf_model_exit(void)
{
	struct mdl_saved_cfg *s, *tmp;

	mutex_lock(&mdl_list_lock);
	list_for_each_entry_safe(s, tmp, &mdl_saved, link) {
		list_del(&s->link);
		kfree(s);
	}
	mutex_unlock(&mdl_list_lock);
}
