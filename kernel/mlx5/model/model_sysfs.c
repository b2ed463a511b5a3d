// SPDX-License-Identifier: GPL-2.0-only
/*
 * The knobs of the mlx5 firmware MODEL (fwmodel.h):
 * /sys/bus/pci/devices/<BDF>/vfmig_mlx5model/
 * (docs/abi/sysfs-bus-pci-devices-vfmig_mlx5model).
 */
#include <crypto/sha2.h>
#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "fwmodel.h"

#define MDL_FAULT_WORD	16

static struct mlx5vf_fw *mdl_fw(struct device *dev)
{
	return mlx5vf_model_find(to_pci_dev(dev));
}

/*
 * What the driver reads when it binds (caps, identity, vf_id, sizes) may
 * change only while no VFIO user has the device open.  Returns the vfio
 * device with its state_mutex held, or an ERR_PTR.
 */
static struct vfmig_device *mdl_closed_lock(struct mlx5vf_fw *fw)
{
	struct vfmig_device *vd = vfmig_from_pdev(fw->pdev);

	mutex_lock(&vd->state_mutex);
	if (vd->opened) {
		mutex_unlock(&vd->state_mutex);
		return ERR_PTR(-EBUSY);
	}
	return vd;
}

static void mdl_closed_unlock(struct vfmig_device *vd)
{
	mutex_unlock(&vd->state_mutex);
}

static ssize_t mdl_show_u64(struct mlx5vf_fw *fw, const u64 *val, char *buf)
{
	u64 v;

	mutex_lock(&fw->lock);
	v = *val;
	mutex_unlock(&fw->lock);
	return sysfs_emit(buf, "%llu\n", v);
}

static ssize_t state_size_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return mdl_show_u64(fw, &fw->size, buf);
}

static ssize_t state_size_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	struct vfmig_device *vd;
	u64 size;
	int ret;

	if (!fw)
		return -ENODEV;
	if (kstrtou64(buf, 0, &size))
		return -EINVAL;
	vd = mdl_closed_lock(fw);
	if (IS_ERR(vd))
		return PTR_ERR(vd);
	ret = mlx5vf_model_resize(fw, size);
	mdl_closed_unlock(vd);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(state_size);

static ssize_t vf_id_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return sysfs_emit(buf, "%d\n", mlx5vf_model_vf_id(fw, fw->pdev));
}

static ssize_t vf_id_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	struct vfmig_device *vd;
	int ret, id;

	if (!fw)
		return -ENODEV;
	if (kstrtoint(buf, 0, &id))
		return -EINVAL;
	vd = mdl_closed_lock(fw);
	if (IS_ERR(vd))
		return PTR_ERR(vd);
	ret = mlx5vf_model_set_vf_id(fw, id);
	mdl_closed_unlock(vd);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(vf_id);

static const struct {
	const char *name;
	u32 bit;
} mdl_cap_names[] = {
	{ "migration", MDL_CAP_MIGRATION },
	{ "multi_load", MDL_CAP_MULTI_LOAD },
	{ "tracking_state", MDL_CAP_TRACKING },
	{ "in_chunks", MDL_CAP_IN_CHUNKS },
	{ "migration_state", MDL_CAP_MIG_STATE },
	{ "migratable", MDL_CAP_MIGRATABLE },
	{ "adv_virtualization", MDL_CAP_ADV_VIRT },
};

static ssize_t caps_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	ssize_t len = 0;
	unsigned int i;
	u32 caps;

	if (!fw)
		return -ENODEV;
	mutex_lock(&fw->lock);
	caps = fw->caps;
	mutex_unlock(&fw->lock);
	for (i = 0; i < ARRAY_SIZE(mdl_cap_names); i++)
		if (caps & mdl_cap_names[i].bit)
			len += sysfs_emit_at(buf, len, "%s%s", len ? " " : "",
					     mdl_cap_names[i].name);
	len += sysfs_emit_at(buf, len, "%s\n", len ? "" : "none");
	return len;
}

/* "word word ...": exactly these caps on; "none": all off */
static int mdl_parse_caps(const char *buf, u32 *caps)
{
	char *copy, *p, *word;
	unsigned int i;
	int ret = 0;

	copy = kstrdup(buf, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	*caps = 0;
	p = strim(copy);
	if (!strcmp(p, "none"))
		p = NULL;
	while (p && (word = strsep(&p, " \t\n"))) {
		if (!*word)
			continue;
		for (i = 0; i < ARRAY_SIZE(mdl_cap_names); i++)
			if (!strcmp(word, mdl_cap_names[i].name))
				break;
		if (i == ARRAY_SIZE(mdl_cap_names)) {
			ret = -EINVAL;
			break;
		}
		*caps |= mdl_cap_names[i].bit;
	}
	kfree(copy);
	return ret;
}

static ssize_t caps_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	struct vfmig_device *vd;
	u32 caps;
	int ret;

	if (!fw)
		return -ENODEV;
	ret = mdl_parse_caps(buf, &caps);
	if (ret)
		return ret;
	vd = mdl_closed_lock(fw);
	if (IS_ERR(vd))
		return PTR_ERR(vd);
	mutex_lock(&fw->lock);
	fw->caps = caps;
	if (!(caps & MDL_CAP_MIG_STATE))
		fw->reinit = false;
	mutex_unlock(&fw->lock);
	mdl_closed_unlock(vd);
	return count;
}
static DEVICE_ATTR_RW(caps);

static ssize_t chunk_bytes_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return mdl_show_u64(fw, &fw->chunk_bytes, buf);
}

static ssize_t chunk_bytes_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	struct vfmig_device *vd;
	u64 val;

	if (!fw)
		return -ENODEV;
	if (kstrtou64(buf, 0, &val) || val < MDL_MIN_CHUNK ||
	    val > MDL_MAX_CHUNK)
		return -EINVAL;
	vd = mdl_closed_lock(fw);
	if (IS_ERR(vd))
		return PTR_ERR(vd);
	mutex_lock(&fw->lock);
	fw->chunk_bytes = val;
	mutex_unlock(&fw->lock);
	mdl_closed_unlock(vd);
	return count;
}
static DEVICE_ATTR_RW(chunk_bytes);

static ssize_t fw_version_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	ssize_t len;

	if (!fw)
		return -ENODEV;
	mutex_lock(&fw->lock);
	len = sysfs_emit(buf, "%s\n", fw->fw_version);
	mutex_unlock(&fw->lock);
	return len;
}

static ssize_t fw_version_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	char version[MDL_FW_VERSION_LEN];
	struct vfmig_device *vd;
	u16 major, minor;

	if (!fw)
		return -ENODEV;
	if (strscpy(version, buf, sizeof(version)) < 0)
		return -EINVAL;
	strim(version);
	if (mlx5vf_model_parse_fw_version(version, &major, &minor))
		return -EINVAL;
	vd = mdl_closed_lock(fw);
	if (IS_ERR(vd))
		return PTR_ERR(vd);
	mutex_lock(&fw->lock);
	strscpy(fw->fw_version, strim(version), sizeof(fw->fw_version));
	fw->fw_major = major;
	fw->fw_minor = minor;
	mutex_unlock(&fw->lock);
	mdl_closed_unlock(vd);
	return count;
}
static DEVICE_ATTR_RW(fw_version);

static ssize_t dirty_rate_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return mdl_show_u64(fw, &fw->dirty_rate, buf);
}

static ssize_t dirty_rate_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	u64 rate;

	if (!fw)
		return -ENODEV;
	if (kstrtou64(buf, 0, &rate) || rate > MDL_MAX_RATE)
		return -EINVAL;
	mlx5vf_model_set_rate(fw, rate);
	return count;
}
static DEVICE_ATTR_RW(dirty_rate);

static ssize_t dirty_pages_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	unsigned long n;
	int ret;

	if (!fw)
		return -ENODEV;
	if (kstrtoul(buf, 0, &n) || n > MDL_MAX_STATE / MDL_PAGE_SIZE)
		return -EINVAL;
	ret = mlx5vf_model_dirty(fw, n);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(dirty_pages);

static ssize_t digest_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	u8 digest[SHA256_DIGEST_SIZE];

	if (!fw)
		return -ENODEV;
	mlx5vf_model_digest(fw, digest);
	return sysfs_emit(buf, "%*phN\n", SHA256_DIGEST_SIZE, digest);
}
static DEVICE_ATTR_RO(digest);

static ssize_t cmd_delay_us_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return sysfs_emit(buf, "%u\n", READ_ONCE(fw->cmd_delay_us));
}

static ssize_t cmd_delay_us_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	u32 val;

	if (!fw)
		return -ENODEV;
	if (kstrtou32(buf, 0, &val) || val > MDL_MAX_DELAY_US)
		return -EINVAL;
	WRITE_ONCE(fw->cmd_delay_us, val);
	return count;
}
static DEVICE_ATTR_RW(cmd_delay_us);

static const struct {
	const char *name;
	int status;
} mdl_status_names[] = {
	{ "bad_param", VFMIG_STAT_BAD_PARAM },
	{ "bad_sys_state", VFMIG_STAT_BAD_SYS_STATE },
	{ "bad_res_state", VFMIG_STAT_BAD_RES_STATE },
	{ "no_resources", VFMIG_STAT_NO_RESOURCES },
	{ "bad_size", VFMIG_STAT_BAD_SIZE },
	{ "internal", -EIO },
	{ "timeout", -ETIMEDOUT },
};

static int mdl_parse_status(const char *word, int *status)
{
	unsigned int i;
	u8 val;

	for (i = 0; i < ARRAY_SIZE(mdl_status_names); i++) {
		if (!strcmp(word, mdl_status_names[i].name)) {
			*status = mdl_status_names[i].status;
			return 0;
		}
	}
	if (kstrtou8(word, 0, &val) || !val)
		return -EINVAL;
	*status = val;
	return 0;
}

static ssize_t fault_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	enum mdl_fault_cmd cmd;
	unsigned int i;
	int status;

	if (!fw)
		return -ENODEV;
	mutex_lock(&fw->lock);
	cmd = fw->fault_cmd;
	status = fw->fault_status;
	mutex_unlock(&fw->lock);
	if (cmd == MDL_FAULT_NONE)
		return sysfs_emit(buf, "none\n");
	for (i = 0; i < ARRAY_SIZE(mdl_status_names); i++)
		if (mdl_status_names[i].status == status)
			return sysfs_emit(buf, "%s %s\n",
					  mlx5vf_model_fault_names[cmd],
					  mdl_status_names[i].name);
	return sysfs_emit(buf, "%s 0x%x\n", mlx5vf_model_fault_names[cmd],
			  status);
}

/* "none", or "<command> <status>" */
static ssize_t fault_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	char word[MDL_FAULT_WORD], st[MDL_FAULT_WORD], extra;
	enum mdl_fault_cmd cmd = MDL_FAULT_NONE;
	int n, status = 0;

	if (!fw)
		return -ENODEV;
	n = sscanf(buf, "%15s %15s %c", word, st, &extra);
	if (n == 1 && !strcmp(word, "none"))
		goto arm;
	if (n != 2)
		return -EINVAL;
	for (cmd = MDL_FAULT_NONE + 1; cmd < MDL_FAULT_NR; cmd++)
		if (!strcmp(word, mlx5vf_model_fault_names[cmd]))
			break;
	if (cmd == MDL_FAULT_NR || mdl_parse_status(st, &status))
		return -EINVAL;
arm:
	mutex_lock(&fw->lock);
	fw->fault_cmd = cmd;
	fw->fault_status = status;
	mutex_unlock(&fw->lock);
	return count;
}
static DEVICE_ATTR_RW(fault);

static ssize_t commands_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	u64 counts[MDL_CNT_NR];
	ssize_t len = 0;
	unsigned int i;

	if (!fw)
		return -ENODEV;
	mutex_lock(&fw->lock);
	mutex_lock(&fw->pt_lock);
	memcpy(counts, fw->counts, sizeof(counts));
	mutex_unlock(&fw->pt_lock);
	mutex_unlock(&fw->lock);
	for (i = 0; i < MDL_CNT_NR; i++)
		len += sysfs_emit_at(buf, len, "%s %llu\n",
				     mlx5vf_model_counter_names[i],
				     counts[i]);
	return len;
}
static DEVICE_ATTR_RO(commands);

static ssize_t sriov_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	bool detached;

	if (!fw)
		return -ENODEV;
	mutex_lock(&fw->lock);
	detached = fw->detached;
	mutex_unlock(&fw->lock);
	return sysfs_emit(buf, "%s\n", detached ? "disabled" : "enabled");
}

static ssize_t sriov_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	int ret;

	if (!fw)
		return -ENODEV;
	if (sysfs_streq(buf, "disable"))
		ret = mlx5vf_model_sriov(fw, false);
	else if (sysfs_streq(buf, "enable"))
		ret = mlx5vf_model_sriov(fw, true);
	else
		return -EINVAL;
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(sriov);

static ssize_t reinit_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	bool armed;

	if (!fw)
		return -ENODEV;
	mutex_lock(&fw->lock);
	armed = fw->reinit;
	mutex_unlock(&fw->lock);
	return sysfs_emit(buf, "%d\n", armed);
}

static ssize_t reinit_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	int ret = 0;
	bool val;

	if (!fw)
		return -ENODEV;
	if (kstrtobool(buf, &val))
		return -EINVAL;
	mutex_lock(&fw->lock);
	if (val && !(fw->caps & MDL_CAP_MIG_STATE))
		ret = -EOPNOTSUPP;
	else
		fw->reinit = val;
	mutex_unlock(&fw->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(reinit);

static ssize_t vhca_state_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	static const char *const runs[] = {
		[MDL_RUNNING]			= "running",
		[MDL_INITIATOR_SUSPENDED]	= "initiator_suspended",
		[MDL_SUSPENDED]			= "suspended",
	};
	const char *run;
	bool tracking;

	if (!fw)
		return -ENODEV;
	mutex_lock(&fw->lock);
	run = fw->detached ? "detached" : runs[fw->run];
	tracking = fw->session == MDL_SESSION_TRACKING;
	mutex_unlock(&fw->lock);
	return sysfs_emit(buf, "%s tracking=%s\n", run,
			  tracking ? "yes" : "no");
}
static DEVICE_ATTR_RO(vhca_state);

/*
 * The engine's arc faults (not the firmware's): "error-arc FROM TO" makes
 * that arc enter ERROR, the one way into it, for the FSM tests.
 */
static ssize_t arc_fault_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return vfmig_fault_show(vfmig_from_pdev(to_pci_dev(dev)), buf);
}

static ssize_t arc_fault_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	int ret = vfmig_fault_store(vfmig_from_pdev(to_pci_dev(dev)), buf);

	return ret ? ret : count;
}
static DEVICE_ATTR_RW(arc_fault);

/* ------------------------------------------------------------------ */
/* The page tracker and the function's DMA (model_track.c)             */

static ssize_t dma_rate_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return mdl_show_u64(fw, &fw->dma_rate, buf);
}

static ssize_t dma_rate_store(struct device *dev,
			      struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	u64 rate;

	if (!fw)
		return -ENODEV;
	if (kstrtou64(buf, 0, &rate) || rate > MDL_DMA_MAX_RATE)
		return -EINVAL;
	mlx5vf_model_set_dma_rate(fw, rate);
	return count;
}
static DEVICE_ATTR_RW(dma_rate);

/* "IOVA LENGTH", both page aligned */
static int mdl_parse_range(const char *buf, u64 *iova, u64 *len)
{
	char extra;

	if (sscanf(buf, "%llx %llx %c", iova, len, &extra) != 2 ||
	    !*len || !PAGE_ALIGNED(*iova) || !PAGE_ALIGNED(*len) ||
	    *iova + *len < *iova)
		return -EINVAL;
	return 0;
}

static ssize_t dma_window_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	u64 start, len;

	if (!fw)
		return -ENODEV;
	mutex_lock(&fw->lock);
	start = fw->dma_window_start;
	len = fw->dma_window_len;
	mutex_unlock(&fw->lock);
	return sysfs_emit(buf, "0x%llx 0x%llx\n", start, len);
}

static ssize_t dma_window_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	u64 start, len;

	if (!fw)
		return -ENODEV;
	if (mdl_parse_range(buf, &start, &len))
		return -EINVAL;
	/* the writer reads it under dma_sem */
	down_write(&fw->dma_sem);
	fw->dma_window_start = start;
	fw->dma_window_len = len;
	up_write(&fw->dma_sem);
	return count;
}
static DEVICE_ATTR_RW(dma_window);

static ssize_t dma_dirty_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	u64 iova, len;
	int ret;

	if (!fw)
		return -ENODEV;
	if (mdl_parse_range(buf, &iova, &len))
		return -EINVAL;
	ret = mlx5vf_model_dma_dirty(fw, iova, len);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(dma_dirty);

static ssize_t track_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return mlx5vf_model_pt_show(fw, buf);
}
static DEVICE_ATTR_RO(track);

static ssize_t track_fault_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	enum mdl_pt_fault f;

	if (!fw)
		return -ENODEV;
	mutex_lock(&fw->lock);
	f = fw->pt_fault;
	mutex_unlock(&fw->lock);
	return sysfs_emit(buf, "%s\n", mlx5vf_model_pt_fault_names[f]);
}

static ssize_t track_fault_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	int f;

	if (!fw)
		return -ENODEV;
	f = sysfs_match_string(mlx5vf_model_pt_fault_names, buf);
	if (f < 0)
		return -EINVAL;
	mutex_lock(&fw->lock);
	fw->pt_fault = f;
	mutex_unlock(&fw->lock);
	return count;
}
static DEVICE_ATTR_RW(track_fault);

/* A u32 knob read under the model's lock */
static ssize_t mdl_show_u32(struct mlx5vf_fw *fw, const u32 *val, char *buf)
{
	u32 v;

	mutex_lock(&fw->lock);
	v = *val;
	mutex_unlock(&fw->lock);
	return sysfs_emit(buf, "%u\n", v);
}

/* A u32 knob in [@min, @max] written under the model's lock */
static ssize_t mdl_store_u32(struct mlx5vf_fw *fw, u32 *val, u32 min,
			     u32 max, const char *buf, size_t count)
{
	u32 v;

	if (kstrtou32(buf, 0, &v) || v < min || v > max)
		return -EINVAL;
	mutex_lock(&fw->lock);
	*val = v;
	mutex_unlock(&fw->lock);
	return count;
}

/* The tracker's caps: the driver reads them at each log start. */
static ssize_t track_max_ranges_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return mdl_show_u32(fw, &fw->pt_max_ranges, buf);
}

static ssize_t track_max_ranges_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return mdl_store_u32(fw, &fw->pt_max_ranges, 1, MDL_PT_MAX_RANGES,
			     buf, count);
}
static DEVICE_ATTR_RW(track_max_ranges);

static ssize_t track_log_msg_size_show(struct device *dev,
				       struct device_attribute *attr,
				       char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return mdl_show_u32(fw, &fw->pt_log_msg_size, buf);
}

static ssize_t track_log_msg_size_store(struct device *dev,
					struct device_attribute *attr,
					const char *buf, size_t count)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);

	if (!fw)
		return -ENODEV;
	return mdl_store_u32(fw, &fw->pt_log_msg_size, MDL_PT_LOG_MIN_MSG,
			     MDL_PT_LOG_MAX_MSG, buf, count);
}
static DEVICE_ATTR_RW(track_log_msg_size);

/*
 * Not the firmware's: which MIG_DATA_SIZE the driver answers in PRE_COPY
 * with tracking, "incremental" (vfmig's) or "whole" (upstream's), so that
 * a benchmark can compare the two on the same kernel.
 */
static ssize_t data_size_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct mlx5vf_fw *fw = mdl_fw(dev);
	struct mlx5vf_device *mvd;
	bool whole;

	if (!fw)
		return -ENODEV;
	mvd = mlx5vf_from_vd(vfmig_from_pdev(fw->pdev));
	mutex_lock(&mvd->vd.state_mutex);
	whole = mvd->data_size_whole;
	mutex_unlock(&mvd->vd.state_mutex);
	return sysfs_emit(buf, "%s\n", whole ? "whole" : "incremental");
}

static ssize_t data_size_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	static const char *const names[] = { "incremental", "whole", NULL };
	struct mlx5vf_fw *fw = mdl_fw(dev);
	struct mlx5vf_device *mvd;
	int i;

	if (!fw)
		return -ENODEV;
	i = sysfs_match_string(names, buf);
	if (i < 0)
		return -EINVAL;
	mvd = mlx5vf_from_vd(vfmig_from_pdev(fw->pdev));
	mutex_lock(&mvd->vd.state_mutex);
	mvd->data_size_whole = i == 1;
	mutex_unlock(&mvd->vd.state_mutex);
	return count;
}
static DEVICE_ATTR_RW(data_size);

static struct attribute *mdl_attrs[] = {
	&dev_attr_state_size.attr,
	&dev_attr_vf_id.attr,
	&dev_attr_caps.attr,
	&dev_attr_chunk_bytes.attr,
	&dev_attr_fw_version.attr,
	&dev_attr_dirty_rate.attr,
	&dev_attr_dirty_pages.attr,
	&dev_attr_digest.attr,
	&dev_attr_cmd_delay_us.attr,
	&dev_attr_fault.attr,
	&dev_attr_commands.attr,
	&dev_attr_sriov.attr,
	&dev_attr_reinit.attr,
	&dev_attr_vhca_state.attr,
	&dev_attr_arc_fault.attr,
	&dev_attr_dma_rate.attr,
	&dev_attr_dma_window.attr,
	&dev_attr_dma_dirty.attr,
	&dev_attr_track.attr,
	&dev_attr_track_fault.attr,
	&dev_attr_track_max_ranges.attr,
	&dev_attr_track_log_msg_size.attr,
	&dev_attr_data_size.attr,
	NULL,
};

static const struct attribute_group mdl_group = {
	.name = "vfmig_mlx5model",
	.attrs = mdl_attrs,
};

int mlx5vf_model_sysfs_add(struct mlx5vf_fw *fw)
{
	return sysfs_create_group(&fw->pdev->dev.kobj, &mdl_group);
}

void mlx5vf_model_sysfs_remove(struct mlx5vf_fw *fw)
{
	sysfs_remove_group(&fw->pdev->dev.kobj, &mdl_group);
}
