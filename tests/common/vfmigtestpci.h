/*
 * vfmigtestpci.h: fake PCI functions in a fake sysfs tree, as the probe
 * reads them (vfmignodedevprobe.h): a function's directory under
 * <sys>/devices/pci0000:00/, its bus/pci/devices link, ids, modalias,
 * driver and IOMMU group links, vfio-dev/ for a VFIO driver's device,
 * and vfmig_testdev's vfio_migration/ ABI; every failure fails the test
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

/* The state size of every fake vfmig_testdev, as sysfs writes it. */
#define VFMIG_TEST_STATE_SIZE "8388608"

/* The modalias of pci-testdev after its ids. */
#define VFMIG_TEST_MODALIAS_REST "sv00001AF4sd00001100bc00scFFi00"

/* <sys>/devices/pci0000:00/@addr */
char *vfmigTestPCIDir(const char *sys,
                      const char *addr);

/* The file @name (may have directories) of the function @addr. */
void vfmigTestPCIAttr(const char *sys,
                      const char *addr,
                      const char *name,
                      const char *contents);

/* Removes the file or directory @name of the function @addr. */
void vfmigTestPCIRemove(const char *sys,
                        const char *addr,
                        const char *name);

/*
 * A PCI function @addr with the ids @vendor and @device ("0x1b36\n"),
 * bound to @driver (NULL: none; @vfio: a VFIO driver registered it), in
 * the IOMMU group @group.
 */
void vfmigTestPCI(const char *sys,
                  const char *addr,
                  const char *vendor,
                  const char *device,
                  const char *driver,
                  bool vfio,
                  int group);

/*
 * vfmig_testdev (pci-testdev's ids) with vfmig's vfio_migration/ ABI,
 * idle: @features ("stop-copy p2p pre-copy dma-logging\n"), @precopy
 * ("on\n"), multi-load, stream version 1, a state of
 * VFMIG_TEST_STATE_SIZE bytes.
 */
void vfmigTestTestdev(const char *sys,
                      const char *addr,
                      const char *features,
                      const char *precopy,
                      int group);
