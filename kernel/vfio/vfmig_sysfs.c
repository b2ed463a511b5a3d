// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig engine: /sys/bus/pci/devices/<BDF>/vfio_migration/
 * (docs/abi/sysfs-bus-pci-devices-vfio_migration).  Values are read under
 * state_mutex, which is never held across user copies, so a read waits at
 * most for a transition in progress.
 */
#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/sysfs.h>

#include "vfio_mig_fsm.h"
#include "vfmig_file.h"

static struct vfmig_device *vfmig_from_dev(struct device *dev)
{
	return vfmig_from_pdev(to_pci_dev(dev));
}

static ssize_t features_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	int len;

	mutex_lock(&vd->state_mutex);
	len = sysfs_emit(buf, "stop-copy%s%s%s\n", vd->p2p ? " p2p" : "",
			 vd->precopy != VFMIG_PRECOPY_OFF ? " pre-copy" : "",
			 vd->dma_logging ? " dma-logging" : "");
	mutex_unlock(&vd->state_mutex);
	return len;
}
static DEVICE_ATTR_RO(features);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	u32 state;

	mutex_lock(&vd->state_mutex);
	state = vd->mig_state;
	mutex_unlock(&vd->state_mutex);
	return sysfs_emit(buf, "%s\n", vfmig_fsm_state_name(state));
}
static DEVICE_ATTR_RO(state);

static ssize_t vfmig_show_u64(struct device *dev, char *buf, int which)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	u64 initial, dirty, val;

	mutex_lock(&vd->state_mutex);
	switch (which) {
	case 0:
	case 1:
		vfmig_precopy_bytes(vd, &initial, &dirty);
		val = which ? dirty : initial;
		break;
	case 2:
		val = vfmig_stop_copy_bytes(vd);
		break;
	case 3:
		val = vd->stop_latency_us;
		break;
	case 4:
		val = vd->resume_latency_us;
		break;
	case 5:
		val = vfmig_hold_left_ms(vd);
		break;
	default:
		val = vd->held_stops;
		break;
	}
	mutex_unlock(&vd->state_mutex);
	return sysfs_emit(buf, "%llu\n", val);
}

static ssize_t initial_bytes_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return vfmig_show_u64(dev, buf, 0);
}
static DEVICE_ATTR_RO(initial_bytes);

static ssize_t dirty_bytes_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return vfmig_show_u64(dev, buf, 1);
}
static DEVICE_ATTR_RO(dirty_bytes);

static ssize_t stop_copy_bytes_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return vfmig_show_u64(dev, buf, 2);
}
static DEVICE_ATTR_RO(stop_copy_bytes);

/*
 * The stop-copy size and what it is, in one read: "residue" (what a
 * STOP_COPY would stream now) or "whole" (the whole state: the residue is
 * less, and the device cannot say it yet).
 */
static ssize_t stop_copy_estimate_show(struct device *dev,
				       struct device_attribute *attr,
				       char *buf)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	bool whole;
	u64 val;

	mutex_lock(&vd->state_mutex);
	val = vfmig_stop_copy_estimate(vd, &whole);
	mutex_unlock(&vd->state_mutex);
	return sysfs_emit(buf, "%llu %s\n", val, whole ? "whole" : "residue");
}
static DEVICE_ATTR_RO(stop_copy_estimate);

static ssize_t stop_latency_us_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return vfmig_show_u64(dev, buf, 3);
}
static DEVICE_ATTR_RO(stop_latency_us);

static ssize_t resume_latency_us_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	return vfmig_show_u64(dev, buf, 4);
}
static DEVICE_ATTR_RO(resume_latency_us);

/* What the VMM reads as MIG_DATA_SIZE (the hold aside). */
static ssize_t mig_data_size_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	u64 len;
	int ret;

	mutex_lock(&vd->state_mutex);
	ret = vfmig_data_size(vd, &len);
	mutex_unlock(&vd->state_mutex);
	return ret ? ret : sysfs_emit(buf, "%llu\n", len);
}
static DEVICE_ATTR_RO(mig_data_size);

static ssize_t hold_ms_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return vfmig_show_u64(dev, buf, 5);
}

/* A lease, renewed by its writer: the hold ends by itself without it. */
static ssize_t hold_ms_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	unsigned int ms;

	if (kstrtouint(buf, 10, &ms) || ms > VFMIG_HOLD_MAX_MS)
		return -EINVAL;
	mutex_lock(&vd->state_mutex);
	vfmig_hold_set(vd, ms);
	mutex_unlock(&vd->state_mutex);
	return count;
}
static DEVICE_ATTR_RW(hold_ms);

static ssize_t held_stops_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return vfmig_show_u64(dev, buf, 6);
}
static DEVICE_ATTR_RO(held_stops);

static const char * const vfmig_precopy_names[] = {
	[VFMIG_PRECOPY_OFF] = "off",
	[VFMIG_PRECOPY_ON] = "on",
	[VFMIG_PRECOPY_SINGLE] = "single",
};

static ssize_t precopy_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	enum vfmig_precopy_mode mode;

	mutex_lock(&vd->state_mutex);
	mode = vd->precopy;
	mutex_unlock(&vd->state_mutex);
	return sysfs_emit(buf, "%s\n", vfmig_precopy_names[mode]);
}

static ssize_t precopy_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	int mode = sysfs_match_string(vfmig_precopy_names, buf);
	int ret = 0;

	if (mode < 0)
		return -EINVAL;

	mutex_lock(&vd->state_mutex);
	if (mode == vd->precopy)
		goto out;
	/* QEMU reads the flags once: "off" changes them, so only closed */
	if (mode == VFMIG_PRECOPY_OFF || vd->precopy == VFMIG_PRECOPY_OFF) {
		if (vd->opened)
			ret = -EBUSY;
	} else if (vd->opened && vfmig_fsm_state_is_saving(vd->mig_state)) {
		ret = -EBUSY;
	}
	if (!ret) {
		vd->precopy = mode;
		vd->core.vdev.migration_flags &= ~VFIO_MIGRATION_PRE_COPY;
		if (mode != VFMIG_PRECOPY_OFF)
			vd->core.vdev.migration_flags |= VFIO_MIGRATION_PRE_COPY;
	}
out:
	mutex_unlock(&vd->state_mutex);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(precopy);

static ssize_t multi_load_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	bool val;

	mutex_lock(&vd->state_mutex);
	val = vd->multi_load;
	mutex_unlock(&vd->state_mutex);
	return sysfs_emit(buf, "%d\n", val);
}

static ssize_t multi_load_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);
	unsigned int val;
	int ret;

	if (kstrtouint(buf, 10, &val) || val > 1)
		return -EINVAL;
	ret = vfmig_config_lock(vd);
	if (ret)
		return ret;
	vd->multi_load = val;
	vfmig_config_unlock(vd);
	return count;
}
static DEVICE_ATTR_RW(multi_load);

static ssize_t stream_version_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", vfmig_from_dev(dev)->ops->stream_version);
}
static DEVICE_ATTR_RO(stream_version);

static ssize_t firmware_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct vfmig_device *vd = vfmig_from_dev(dev);

	return vd->ops->firmware(vd, buf);
}
static DEVICE_ATTR_RO(firmware);

static struct attribute *vfmig_attrs[] = {
	&dev_attr_features.attr,
	&dev_attr_state.attr,
	&dev_attr_initial_bytes.attr,
	&dev_attr_dirty_bytes.attr,
	&dev_attr_stop_copy_bytes.attr,
	&dev_attr_stop_copy_estimate.attr,
	&dev_attr_precopy.attr,
	&dev_attr_multi_load.attr,
	&dev_attr_stop_latency_us.attr,
	&dev_attr_resume_latency_us.attr,
	&dev_attr_mig_data_size.attr,
	&dev_attr_hold_ms.attr,
	&dev_attr_held_stops.attr,
	&dev_attr_stream_version.attr,
	&dev_attr_firmware.attr,
	NULL,
};

/* firmware exists only for backends that know a firmware version. */
static umode_t vfmig_attr_visible(struct kobject *kobj, struct attribute *attr,
				  int n)
{
	struct vfmig_device *vd = vfmig_from_dev(kobj_to_dev(kobj));

	if (attr == &dev_attr_firmware.attr && !vd->ops->firmware)
		return 0;
	return attr->mode;
}

static const struct attribute_group vfmig_group = {
	.name = "vfio_migration",
	.attrs = vfmig_attrs,
	.is_visible = vfmig_attr_visible,
};

int vfmig_sysfs_add(struct vfmig_device *vd)
{
	return sysfs_create_group(&vd->core.pdev->dev.kobj, &vfmig_group);
}

void vfmig_sysfs_remove(struct vfmig_device *vd)
{
	sysfs_remove_group(&vd->core.pdev->dev.kobj, &vfmig_group);
}
