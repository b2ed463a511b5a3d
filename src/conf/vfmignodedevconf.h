/*
 * vfmignodedevconf.h: the vfio-migration node-device capability
 *
 * A nested <capability type='vfio-migration'> inside libvirt's
 * <capability type='pci'>, in the shape of libvirt's own nested PCI
 * capabilities (vpd, mdev_types): what a VF's VFIO variant driver offers
 * for migration, how QEMU will track its DMA, the identity that decides
 * whether two VFs can migrate to each other, the figures of the last
 * device-qualify run and, while a migration runs, the driver's live
 * estimates.  Schema: schemas/vfmig-nodedev.rng.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "vfmigbuf.h"
#include "vfmigdevice.h"
#include "vfmigenum.h"

/* Migration features (bits; words: vfmigFeatureToString()). */
typedef enum {
    VFMIG_NODEDEV_FEATURE_STOP_COPY = 1 << VFMIG_FEATURE_STOP_COPY,
    VFMIG_NODEDEV_FEATURE_P2P = 1 << VFMIG_FEATURE_P2P,
    VFMIG_NODEDEV_FEATURE_PRE_COPY = 1 << VFMIG_FEATURE_PRE_COPY,
    VFMIG_NODEDEV_FEATURE_MULTI_LOAD = 1 << VFMIG_FEATURE_MULTI_LOAD,
} vfmigNodeDevFeature;

/* Where the features were read from. */
typedef enum {
    VFMIG_NODEDEV_SOURCE_SYSFS = 0,   /* our drivers' vfio_migration/ */
    VFMIG_NODEDEV_SOURCE_DEBUGFS,     /* vfio/<dev>/migration/ (6.18+) */
    VFMIG_NODEDEV_SOURCE_VFIO,        /* a VFIO_DEVICE_FEATURE query */
    VFMIG_NODEDEV_SOURCE_CACHE,       /* an earlier probe, device busy now */

    VFMIG_NODEDEV_SOURCE_LAST
} vfmigNodeDevSource;

/* DMA dirty tracking as QEMU will see it. */
typedef enum {
    VFMIG_NODEDEV_DIRTY_NONE = 0,   /* QEMU needs enable-migration=on */
    VFMIG_NODEDEV_DIRTY_DEVICE,     /* the driver's DMA logging */
    VFMIG_NODEDEV_DIRTY_IOMMU,      /* IOMMU dirty tracking (iommufd) */

    VFMIG_NODEDEV_DIRTY_LAST
} vfmigNodeDevDirty;

/* The driver's pre-copy mode (vfio_migration/precopy). */
typedef enum {
    VFMIG_NODEDEV_PRECOPY_DEFAULT = 0,  /* not reported */
    VFMIG_NODEDEV_PRECOPY_ON,
    VFMIG_NODEDEV_PRECOPY_SINGLE,
    VFMIG_NODEDEV_PRECOPY_OFF,

    VFMIG_NODEDEV_PRECOPY_LAST
} vfmigNodeDevPrecopy;

/* What the driver says its stop-copy size is (vfio_migration/
 * stop_copy_estimate). */
typedef enum {
    VFMIG_NODEDEV_STOP_COPY_UNSAID = 0, /* an older driver: no attribute */
    VFMIG_NODEDEV_STOP_COPY_RESIDUE,    /* what a STOP_COPY streams now */
    VFMIG_NODEDEV_STOP_COPY_WHOLE,      /* the whole state: more than that */

    VFMIG_NODEDEV_STOP_COPY_LAST
} vfmigNodeDevStopCopy;

typedef struct _vfmigNodeDevLive vfmigNodeDevLive;
struct _vfmigNodeDevLive {
    char *driver;                   /* bound driver; not in the XML */
    char *state;                    /* uAPI state name, e.g. PRE_COPY */
    unsigned long long initialBytes;
    unsigned long long dirtyBytes;
    unsigned long long stopCopyBytes;
    vfmigNodeDevStopCopy stopCopyKind;  /* not in the XML */
    unsigned long long stopLatencyUs;
    unsigned long long resumeLatencyUs;
    /* what the VMM reads as MIG_DATA_SIZE (vfio_migration/mig_data_size),
     * ULLONG_MAX when the driver does not say; not in the XML */
    unsigned long long migDataSize;
};

void vfmigNodeDevLiveFree(vfmigNodeDevLive *live);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevLive, vfmigNodeDevLiveFree);

/*
 * Whether @live's stopCopyBytes is the device's residue, what a STOP_COPY
 * would stream now: as the driver says; for a driver that does not say,
 * unless it is one whose size is the whole state
 * (vfmigDriverStopCopyIsWholeState).
 */
bool vfmigNodeDevLiveStopCopyIsResidue(const vfmigNodeDevLive *live);

/* The verdict of a qualification (also the verdict of vfmigqualify.h). */
typedef enum {
    VFMIG_NODEDEV_VERDICT_QUALIFIED = 0,
    VFMIG_NODEDEV_VERDICT_QUALIFIED_WITH_WARNINGS,
    VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED,

    VFMIG_NODEDEV_VERDICT_LAST
} vfmigNodeDevVerdict;

/*
 * What the last `virt-vfmig device-qualify` of the device measured
 * (<qualified .../>): kept in a record beside the node-device cache, not
 * a live value; it stays until the next qualification.
 */
typedef struct _vfmigNodeDevQualified vfmigNodeDevQualified;
struct _vfmigNodeDevQualified {
    gint64 at;                      /* when, UTC seconds since the epoch */
    vfmigNodeDevVerdict verdict;
    unsigned long long targetUs;    /* the downtime target of the run */
    char *peer;                     /* onto this device; NULL: round trip */

    /* The run completed and measured its downtime: the figures below.
     * false: it failed after state had moved; nothing was measured. */
    bool measured;
    unsigned long long downtimeUs;
    unsigned long long stopLatencyUs;   /* source: -> STOP_COPY */
    unsigned long long drainUs;         /* source: reading the stop-copy
                                         * data, after the stop */
    unsigned long long loadCommitUs;    /* destination: RESUMING -> STOP */
    unsigned long long resumeLatencyUs; /* destination: STOP -> RUNNING */
};

vfmigNodeDevQualified *vfmigNodeDevQualifiedCopy(const vfmigNodeDevQualified *q);
void vfmigNodeDevQualifiedFree(vfmigNodeDevQualified *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevQualified, vfmigNodeDevQualifiedFree);

/* @at as ISO 8601 in UTC, "2026-11-24T10:00:00Z"; NULL if out of range. */
char *vfmigNodeDevQualifiedFormatTime(gint64 at);

/* The inverse: exactly that shape ('Z', no fraction), a real date and
 * time.  Returns 0, or -1 (nothing reported). */
int vfmigNodeDevQualifiedParseTime(const char *str, gint64 *at);

typedef struct _vfmigNodeDevCapVFIOMig vfmigNodeDevCapVFIOMig;
struct _vfmigNodeDevCapVFIOMig {
    /* <driver name= variant=/> */
    char *driver;
    bool variant;                   /* a VFIO variant driver, not vfio-pci */

    /* <features source=>: VFMIG_NODEDEV_FEATURE_* bits */
    unsigned int features;
    vfmigNodeDevSource source;
    vfmigNodeDevPrecopy precopy;    /* attribute of <pre-copy mode=> */

    /* <dirty-tracking type= reason=/> */
    vfmigNodeDevDirty dirty;
    char *dirtyReason;              /* why, when not 'device' (optional) */

    /* <identity vendor= device= firmware= stream-version=/> */
    unsigned int vendor;
    unsigned int device;
    char *firmware;                 /* optional */
    unsigned int streamVersion;     /* 0: not reported */

    /* <qualified .../>: the last qualification, when there was one */
    vfmigNodeDevQualified *qualified;

    /* <live .../>: only while the device is in a migration state */
    vfmigNodeDevLive *live;
};

void vfmigNodeDevCapVFIOMigFree(vfmigNodeDevCapVFIOMig *cap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevCapVFIOMig, vfmigNodeDevCapVFIOMigFree);

/* Parses the <capability type='vfio-migration'> element @node. */
vfmigNodeDevCapVFIOMig *vfmigNodeDevCapVFIOMigParseNode(xmlNodePtr node);

/* Parses a <qualified> element (as in the capability) on its own. */
vfmigNodeDevQualified *vfmigNodeDevQualifiedParseNode(xmlNodePtr node);

/* Formats the <qualified/> element of @q into @buf, at the buffer's
 * indentation, as the capability holds it. */
void vfmigNodeDevQualifiedFormat(vfmigBuffer *buf,
                                 const vfmigNodeDevQualified *q);

/* Formats the capability into @buf, at the buffer's indentation. */
void vfmigNodeDevCapVFIOMigFormat(vfmigBuffer *buf,
                                  const vfmigNodeDevCapVFIOMig *cap);

/* The feature bits as words, "stop-copy p2p pre-copy multi-load" (the
 * element names of <features> and of vfio_migration/features). */
char *vfmigNodeDevFeaturesToString(unsigned int features);

VFMIG_ENUM_DECL(vfmigNodeDevSourceType);
VFMIG_ENUM_DECL(vfmigNodeDevDirtyType);
VFMIG_ENUM_DECL(vfmigNodeDevPrecopyType);
VFMIG_ENUM_DECL(vfmigNodeDevVerdictType);
