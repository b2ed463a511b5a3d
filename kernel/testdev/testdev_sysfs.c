// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig_testdev: /sys/bus/pci/devices/<BDF>/vfmig_testdev/
 * (docs/abi/sysfs-bus-pci-devices-vfmig_testdev).
 */
#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/sysfs.h>

#include "testdev.h"

static struct tdev_device *tdev_from_dev(struct device *dev)
{
	return tdev_from_vd(vfmig_from_pdev(to_pci_dev(dev)));
}

static ssize_t state_size_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct tdev_device *td = tdev_from_dev(dev);
	u64 size;

	mutex_lock(&td->lock);
	size = td->size;
	mutex_unlock(&td->lock);
	return sysfs_emit(buf, "%llu\n", size);
}

static ssize_t state_size_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct tdev_device *td = tdev_from_dev(dev);
	u64 size;
	int ret;

	if (kstrtou64(buf, 0, &size))
		return -EINVAL;
	ret = vfmig_config_lock(&td->vd);
	if (ret)
		return ret;
	ret = tdev_model_resize(td, size);
	vfmig_config_unlock(&td->vd);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(state_size);

static ssize_t p2p_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	struct tdev_device *td = tdev_from_dev(dev);
	bool p2p;

	mutex_lock(&td->vd.state_mutex);
	p2p = td->vd.p2p;
	mutex_unlock(&td->vd.state_mutex);
	return sysfs_emit(buf, "%d\n", p2p);
}

static ssize_t p2p_store(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count)
{
	struct tdev_device *td = tdev_from_dev(dev);
	unsigned int val;
	int ret;

	if (kstrtouint(buf, 10, &val) || val > 1)
		return -EINVAL;
	ret = vfmig_config_lock(&td->vd);
	if (ret)
		return ret;
	vfmig_set_p2p(&td->vd, val);
	vfmig_config_unlock(&td->vd);
	return count;
}
static DEVICE_ATTR_RW(p2p);

static ssize_t dirty_rate_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct tdev_device *td = tdev_from_dev(dev);
	u64 rate;

	mutex_lock(&td->lock);
	rate = td->dirty_rate;
	mutex_unlock(&td->lock);
	return sysfs_emit(buf, "%llu\n", rate);
}

static ssize_t dirty_rate_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	u64 rate;

	/* at most 4 GiB/s: keeps the rate arithmetic within 64 bits */
	if (kstrtou64(buf, 0, &rate) || rate > (1ULL << 32))
		return -EINVAL;
	tdev_model_set_rate(tdev_from_dev(dev), rate);
	return count;
}
static DEVICE_ATTR_RW(dirty_rate);

static ssize_t io_rate_show(struct device *dev,
			    struct device_attribute *attr, char *buf)
{
	struct tdev_device *td = tdev_from_dev(dev);
	u64 rate;

	mutex_lock(&td->lock);
	rate = td->io_rate;
	mutex_unlock(&td->lock);
	return sysfs_emit(buf, "%llu\n", rate);
}

static ssize_t io_rate_store(struct device *dev,
			     struct device_attribute *attr,
			     const char *buf, size_t count)
{
	u64 rate;

	/* at most 1 TiB/s: keeps the carried fraction within 64 bits */
	if (kstrtou64(buf, 0, &rate) || rate > (1ULL << 40))
		return -EINVAL;
	tdev_model_set_io_rate(tdev_from_dev(dev), rate);
	return count;
}
static DEVICE_ATTR_RW(io_rate);

static ssize_t dirty_pages_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	unsigned long n;
	int ret;

	if (kstrtoul(buf, 0, &n) || n > (TDEV_MAX_STATE / TDEV_PAGE_SIZE))
		return -EINVAL;
	ret = tdev_model_dirty(tdev_from_dev(dev), n);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(dirty_pages);

static ssize_t digest_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	u8 digest[TDEV_DIGEST_SIZE];

	tdev_model_digest(tdev_from_dev(dev), digest);
	return sysfs_emit(buf, "%*phN\n", TDEV_DIGEST_SIZE, digest);
}
static DEVICE_ATTR_RO(digest);

static ssize_t tdev_show_count(struct tdev_device *td, u64 *val, char *buf)
{
	u64 v;

	mutex_lock(&td->vd.state_mutex);
	v = *val;
	mutex_unlock(&td->vd.state_mutex);
	return sysfs_emit(buf, "%llu\n", v);
}

static ssize_t quiesced_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct tdev_device *td = tdev_from_dev(dev);

	return tdev_show_count(td, &td->quiesced, buf);
}
static DEVICE_ATTR_RO(quiesced);

static ssize_t unquiesced_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct tdev_device *td = tdev_from_dev(dev);

	return tdev_show_count(td, &td->unquiesced, buf);
}
static DEVICE_ATTR_RO(unquiesced);

static ssize_t tdev_show_delay(struct tdev_device *td, u32 *val, char *buf)
{
	u32 v;

	mutex_lock(&td->vd.state_mutex);
	v = *val;
	mutex_unlock(&td->vd.state_mutex);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t tdev_store_delay(struct tdev_device *td, u32 *val,
				const char *buf, size_t count)
{
	u32 v;

	if (kstrtou32(buf, 0, &v) || v > TDEV_MAX_DELAY_US)
		return -EINVAL;
	mutex_lock(&td->vd.state_mutex);
	*val = v;
	mutex_unlock(&td->vd.state_mutex);
	return count;
}

static ssize_t stop_delay_us_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct tdev_device *td = tdev_from_dev(dev);

	return tdev_show_delay(td, &td->stop_delay_us, buf);
}

static ssize_t stop_delay_us_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	struct tdev_device *td = tdev_from_dev(dev);

	return tdev_store_delay(td, &td->stop_delay_us, buf, count);
}
static DEVICE_ATTR_RW(stop_delay_us);

static ssize_t resume_delay_us_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct tdev_device *td = tdev_from_dev(dev);

	return tdev_show_delay(td, &td->resume_delay_us, buf);
}

static ssize_t resume_delay_us_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	struct tdev_device *td = tdev_from_dev(dev);

	return tdev_store_delay(td, &td->resume_delay_us, buf, count);
}
static DEVICE_ATTR_RW(resume_delay_us);

static ssize_t dma_dirty_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	struct tdev_device *td = tdev_from_dev(dev);
	char a[24], b[24], extra;
	u64 iova, len;
	int ret;

	if (sscanf(buf, "%23s %23s %c", a, b, &extra) != 2 ||
	    kstrtou64(a, 0, &iova) || kstrtou64(b, 0, &len))
		return -EINVAL;
	ret = vfmig_log_mark(&td->vd, iova, len);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(dma_dirty);

static const char * const tdev_data_size_names[] = { "residue", "whole" };

static ssize_t data_size_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct tdev_device *td = tdev_from_dev(dev);
	bool whole;

	mutex_lock(&td->vd.state_mutex);
	whole = td->data_size_whole;
	mutex_unlock(&td->vd.state_mutex);
	return sysfs_emit(buf, "%s\n", tdev_data_size_names[whole]);
}

static ssize_t data_size_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	struct tdev_device *td = tdev_from_dev(dev);
	int i = sysfs_match_string(tdev_data_size_names, buf);

	if (i < 0)
		return -EINVAL;
	mutex_lock(&td->vd.state_mutex);
	td->data_size_whole = i == 1;
	mutex_unlock(&td->vd.state_mutex);
	return count;
}
static DEVICE_ATTR_RW(data_size);

static ssize_t fault_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return vfmig_fault_show(&tdev_from_dev(dev)->vd, buf);
}

static ssize_t fault_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	int ret = vfmig_fault_store(&tdev_from_dev(dev)->vd, buf);

	return ret ? ret : count;
}
static DEVICE_ATTR_RW(fault);

static struct attribute *tdev_attrs[] = {
	&dev_attr_state_size.attr,
	&dev_attr_p2p.attr,
	&dev_attr_dirty_rate.attr,
	&dev_attr_io_rate.attr,
	&dev_attr_dirty_pages.attr,
	&dev_attr_digest.attr,
	&dev_attr_stop_delay_us.attr,
	&dev_attr_resume_delay_us.attr,
	&dev_attr_dma_dirty.attr,
	&dev_attr_fault.attr,
	&dev_attr_data_size.attr,
	&dev_attr_quiesced.attr,
	&dev_attr_unquiesced.attr,
	NULL,
};

static const struct attribute_group tdev_group = {
	.name = "vfmig_testdev",
	.attrs = tdev_attrs,
};

int tdev_sysfs_add(struct tdev_device *td)
{
	return sysfs_create_group(&td->vd.core.pdev->dev.kobj, &tdev_group);
}

void tdev_sysfs_remove(struct tdev_device *td)
{
	sysfs_remove_group(&td->vd.core.pdev->dev.kobj, &tdev_group);
}
