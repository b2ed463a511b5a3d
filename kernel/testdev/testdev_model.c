// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig_testdev: the device model.  The state is a buffer in kernel memory
 * (vmalloc), filled at power-on from a per-device seed so that two devices
 * differ.  While the device runs it changes pages at dirty_rate bytes per
 * second, in whole pages, and remembers each changed page in a bitmap that
 * the saving side snapshots and clears.
 *
 * The activity is a delayed work every 20 ms that changes the pages due
 * for the time elapsed since the previous tick (the rate is exact over
 * time whatever the tick jitter).  A work rather than a lazy computation
 * from the clock: pollers of the data fd must be woken when data appears,
 * which only something that runs by itself can do.
 *
 * With io_rate the device lives in a time of its own instead, which moves
 * only as the saving side reads it: a second for every io_rate bytes.
 * Each read of a running device then changes the pages due for the bytes
 * it took, and nothing changes between reads, so how much the device
 * changes between two reads (whether pre-copy catches up with it) is the
 * same however fast the machine runs them; the work does not run.
 */
#include <crypto/sha2.h>
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "testdev.h"

#define TDEV_TICK_MS	20

static u64 tdev_rand(u64 *x)
{
	/* xorshift64 */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void tdev_fill_page(struct tdev_device *td, unsigned long page)
{
	u64 *p = (u64 *)(td->state + (u64)page * TDEV_PAGE_SIZE);
	unsigned int i;

	for (i = 0; i < TDEV_PAGE_SIZE / sizeof(u64); i++)
		p[i] = tdev_rand(&td->rng);
}

/* lock held */
static void tdev_change_page(struct tdev_device *td, unsigned long page)
{
	tdev_fill_page(td, page);
	if (!__test_and_set_bit(page, td->dirty))
		td->ndirty++;
}

int tdev_model_dirty(struct tdev_device *td, unsigned long npages)
{
	unsigned long i;

	mutex_lock(&td->lock);
	if (!td->running) {
		mutex_unlock(&td->lock);
		return -EBUSY;
	}
	for (i = 0; i < npages; i++)
		tdev_change_page(td, tdev_rand(&td->rng) % td->npages);
	mutex_unlock(&td->lock);
	if (npages)
		vfmig_notify(&td->vd);
	return 0;
}

static void tdev_work(struct work_struct *work)
{
	struct tdev_device *td = container_of(to_delayed_work(work),
					      struct tdev_device, work);
	ktime_t now = ktime_get();
	u64 elapsed_us, due, pages;

	mutex_lock(&td->lock);
	if (!td->running || !td->dirty_rate || td->io_rate || td->dead) {
		mutex_unlock(&td->lock);
		return;
	}
	elapsed_us = min_t(u64, ktime_us_delta(now, td->last_tick), USEC_PER_SEC);
	td->last_tick = now;
	/* rate <= 2^32 (sysfs), elapsed <= 2^20: no overflow */
	due = td->carry + div_u64(td->dirty_rate * elapsed_us, USEC_PER_SEC);
	pages = div_u64(due, TDEV_PAGE_SIZE);
	td->carry = due - pages * TDEV_PAGE_SIZE;
	pages = min_t(u64, pages, td->npages);
	while (pages--)
		tdev_change_page(td, tdev_rand(&td->rng) % td->npages);
	schedule_delayed_work(&td->work, msecs_to_jiffies(TDEV_TICK_MS));
	mutex_unlock(&td->lock);
	vfmig_notify(&td->vd);
}

/* lock held */
static void tdev_kick(struct tdev_device *td)
{
	if (td->running && td->dirty_rate && !td->io_rate && !td->dead) {
		td->last_tick = ktime_get();
		td->carry = 0;
		mod_delayed_work(system_wq, &td->work,
				 msecs_to_jiffies(TDEV_TICK_MS));
	}
}

void tdev_model_run(struct tdev_device *td, bool running)
{
	mutex_lock(&td->lock);
	if (td->running == running) {
		mutex_unlock(&td->lock);
		return;
	}
	td->running = running;
	tdev_kick(td);
	mutex_unlock(&td->lock);
	if (!running)
		cancel_delayed_work_sync(&td->work);
}

void tdev_model_set_rate(struct tdev_device *td, u64 rate)
{
	mutex_lock(&td->lock);
	td->dirty_rate = rate;
	tdev_kick(td);
	mutex_unlock(&td->lock);
}

void tdev_model_set_io_rate(struct tdev_device *td, u64 rate)
{
	mutex_lock(&td->lock);
	td->io_rate = rate;
	td->io_carry = 0;
	td->carry = 0;
	tdev_kick(td);
	mutex_unlock(&td->lock);
	if (rate)
		cancel_delayed_work_sync(&td->work);
}

/*
 * lock held: the saving side read @bytes (at most VFMIG_BUF_SIZE) of the
 * device.  In the device's own time they took bytes / io_rate seconds, in
 * which a running device changes dirty_rate / io_rate bytes for each of
 * them, in whole pages, the fractions carried.  Pollers need no wake-up:
 * the reader is the one that makes the data.
 */
void tdev_model_read(struct tdev_device *td, u64 bytes)
{
	u64 acc, due, pages;

	if (!td->io_rate || !td->running || !td->dirty_rate || td->dead)
		return;
	/* bytes < 2^20, rate <= 2^32, io_carry < io_rate <= 2^40 */
	acc = td->io_carry + bytes * td->dirty_rate;
	due = td->carry + div64_u64_rem(acc, td->io_rate, &td->io_carry);
	pages = div_u64(due, TDEV_PAGE_SIZE);
	td->carry = due - pages * TDEV_PAGE_SIZE;
	pages = min_t(u64, pages, td->npages);
	while (pages--)
		tdev_change_page(td, tdev_rand(&td->rng) % td->npages);
}

/* lock held: power-on contents, nothing dirty */
static void tdev_model_fill(struct tdev_device *td)
{
	unsigned long page;

	td->rng = td->seed;
	for (page = 0; page < td->npages; page++)
		tdev_fill_page(td, page);
	bitmap_zero(td->dirty, td->npages);
	td->ndirty = 0;
}

void tdev_model_power_on(struct tdev_device *td)
{
	mutex_lock(&td->lock);
	tdev_model_fill(td);
	td->running = true;
	tdev_kick(td);
	mutex_unlock(&td->lock);
}

void tdev_model_digest(struct tdev_device *td, u8 *out)
{
	mutex_lock(&td->lock);
	sha256(td->state, td->size, out);
	mutex_unlock(&td->lock);
}

/* Allocates a state of @size bytes; on success swaps it in (lock held). */
static int tdev_model_alloc(struct tdev_device *td, u64 size)
{
	unsigned long npages = div_u64(size, TDEV_PAGE_SIZE);
	unsigned long *dirty;
	u8 *state;

	state = vmalloc(size);
	dirty = bitmap_zalloc(npages, GFP_KERNEL);
	if (!state || !dirty) {
		vfree(state);
		bitmap_free(dirty);
		return -ENOMEM;
	}
	vfree(td->state);
	bitmap_free(td->dirty);
	td->state = state;
	td->dirty = dirty;
	td->size = size;
	td->npages = npages;
	tdev_model_fill(td);
	return 0;
}

int tdev_model_resize(struct tdev_device *td, u64 size)
{
	int ret;

	if (size < TDEV_MIN_STATE || size > TDEV_MAX_STATE ||
	    size % TDEV_PAGE_SIZE)
		return -EINVAL;
	mutex_lock(&td->lock);
	ret = tdev_model_alloc(td, size);
	mutex_unlock(&td->lock);
	return ret;
}

int tdev_model_init(struct tdev_device *td, u64 size)
{
	struct pci_dev *pdev = td->vd.core.pdev;

	mutex_init(&td->lock);
	INIT_DELAYED_WORK(&td->work, tdev_work);
	td->seed = 0x9e3779b97f4a7c15ULL ^
		   ((u64)pci_domain_nr(pdev->bus) << 32 | pci_dev_id(pdev));
	td->running = true;
	td->inited = true;
	return tdev_model_resize(td, size);
}

void tdev_model_destroy(struct tdev_device *td)
{
	if (!td->inited)
		return;
	mutex_lock(&td->lock);
	td->dead = true;
	td->running = false;
	mutex_unlock(&td->lock);
	cancel_delayed_work_sync(&td->work);
	vfree(td->state);
	bitmap_free(td->dirty);
	td->state = NULL;
	td->dirty = NULL;
	mutex_destroy(&td->lock);
}
