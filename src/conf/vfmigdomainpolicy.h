/*
 * vfmigdomainpolicy.h: the migration policy of a domain, kept in its
 * <metadata>
 *
 * One element under libvirt's <metadata>, in vfmig's namespace, which
 * libvirt keeps as it is through define, dumpxml and migration:
 *
 *   <vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>
 *     <vfmig:downtime target-ms='300' on-failure='abort'/>
 *     <vfmig:hostdev alias='ua-vf0'>
 *       <vfmig:precopy mode='required'/>
 *       <vfmig:downtime target-ms='200'/>
 *       <vfmig:identity driver='mlx5_vfio_pci' vendor='0x15b3'
 *                       device='0x101e' stream-version='1' multi-load='yes'/>
 *     </vfmig:hostdev>
 *     <vfmig:hostdev>
 *       <vfmig:source>
 *         <vfmig:address domain='0x0000' bus='0x3b' slot='0x00' function='0x3'/>
 *       </vfmig:source>
 *       <vfmig:precopy mode='off'/>
 *     </vfmig:hostdev>
 *   </vfmig:migration>
 *
 * The domain's default downtime, then one entry per <hostdev type='pci'>
 * with a policy, matched by the hostdev's user alias or by its source
 * address.  A policy the host default policy wrote (vfmighostdefault.h)
 * says so, <vfmig:migration origin='host' flavor='vf.gold'>, and names
 * every hostdev by libvirt's own alias of it (alias='hostdev0'), which a
 * running domain keeps in its migratable XML; in any other policy an
 * alias is a user alias.  Schema: schemas/vfmig-domain-policy.rng;
 * reference: docs/domain-policy.rst.
 *
 * The parser is strict: an unknown element or attribute, an unknown value,
 * a missing or repeated part, two entries for one hostdev, more than
 * VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX entries or more than
 * VFMIG_DOMAIN_POLICY_SIZE_MAX bytes are refused with VFMIG_ERR_INVALID_ARG
 * and a message that names the element's path and why.  It takes time
 * linear in the size of the policy.  The formatter writes a fixed order
 * and nothing for absent optional parts, so format(parse(x)) == x for its
 * own output.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>
#include <libxml/tree.h>

#include "vfmigbuf.h"
#include "vfmigenum.h"
#include "vfmigpci.h"
#include "vfmigxml.h"

/* The namespace of the policy (virDomainSetMetadata's uri) and the prefix
 * vfmig writes (its key). */
#define VFMIG_DOMAIN_POLICY_NS_URI "http://vfmig.org/xmlns/libvirt/domain/1.0"
#define VFMIG_DOMAIN_POLICY_NS_PREFIX "vfmig"

/* A downtime target is 1 ms .. one minute: QEMU accepts more, but a
 * target of minutes is a typo, not a policy. */
#define VFMIG_DOMAIN_POLICY_TARGET_MS_MAX 60000

/* What applies when neither the hostdev nor the domain says. */
#define VFMIG_DOMAIN_POLICY_DEFAULT_TARGET_MS 300

/*
 * Limits, so that the libvirt hook, which parses the policy at every
 * start and migration of the domain, takes milliseconds whatever the
 * domain's <metadata> holds.  Neither can be said in the RelaxNG schema.
 *
 * The most <vfmig:hostdev> entries: an entry names one PCI hostdev or
 * hostdev interface of the domain, and no real domain has 256 of them
 * (each PCIe VF sits behind a root port of its own, and the root bus of a
 * q35 domain has room for fewer: 31 slots of 8 functions, less what the
 * machine puts there; SR-IOV deployments give a guest a handful of VFs).
 */
#define VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX 256

/*
 * The most bytes of the <vfmig:migration> element as text: 1 MiB.  An
 * entry as vfmig writes it, every part given, is under 500 bytes, so a
 * policy of VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX entries takes at most about
 * 120 KiB (tests/xml/test-domain-policy.c checks one under 128 KiB): the
 * limit leaves eight times that for indentation, comments and long
 * firmware strings.  libvirt itself carries metadata strings of up to
 * 4 MiB (REMOTE_STRING_MAX).  A policy over the limit is refused before
 * it is parsed, and one at the limit takes the parser milliseconds.
 */
#define VFMIG_DOMAIN_POLICY_SIZE_MAX (1024 * 1024)

/*
 * The longest flavor name (<migration flavor=>, and the host policy's
 * <flavor name=>), in characters: Nova keeps a flavor's name in a column
 * of 255.
 */
#define VFMIG_DOMAIN_POLICY_FLAVOR_MAX 255

/* <migration origin=>: who wrote the policy. */
typedef enum {
    VFMIG_DOMAIN_POLICY_ORIGIN_USER = 0,    /* not given: a user, or
                                             * virt-vfmig domain-prepare */
    VFMIG_DOMAIN_POLICY_ORIGIN_HOST,        /* 'host': the host default
                                             * policy (vfmighostdefault.h) */

    VFMIG_DOMAIN_POLICY_ORIGIN_LAST
} vfmigDomainPolicyOrigin;

/* <precopy mode=>: whether the device's state is pre-copied. */
typedef enum {
    VFMIG_DOMAIN_POLICY_PRECOPY_DEFAULT = 0,    /* not given: preferred */
    VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED,       /* refuse a migration without */
    VFMIG_DOMAIN_POLICY_PRECOPY_PREFERRED,      /* stop-copy only if need be */
    VFMIG_DOMAIN_POLICY_PRECOPY_OFF,            /* the whole state at stop */

    VFMIG_DOMAIN_POLICY_PRECOPY_LAST
} vfmigDomainPolicyPrecopy;

/* <downtime on-failure=>: when the target cannot be met. */
typedef enum {
    VFMIG_DOMAIN_POLICY_ON_FAILURE_DEFAULT = 0, /* not given: inherited,
                                                 * in the end abort */
    VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT,       /* cancel the migration */
    VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT, /* switch over anyway */

    VFMIG_DOMAIN_POLICY_ON_FAILURE_LAST
} vfmigDomainPolicyOnFailure;

VFMIG_ENUM_DECL(vfmigDomainPolicyOriginType);
VFMIG_ENUM_DECL(vfmigDomainPolicyPrecopyType);
VFMIG_ENUM_DECL(vfmigDomainPolicyOnFailureType);

/* <downtime target-ms= on-failure=/>: both optional, one at least. */
typedef struct _vfmigDomainPolicyDowntime vfmigDomainPolicyDowntime;
struct _vfmigDomainPolicyDowntime {
    unsigned int targetMs;                  /* 0: not given */
    vfmigDomainPolicyOnFailure onFailure;   /* DEFAULT: not given */
};

/*
 * <identity .../>: the source VF's capability identity, in the words of
 * the node-device capability (docs/nodedev-xml.rst): what the destination
 * VF must match before any state moves.
 */
typedef struct _vfmigDomainPolicyIdentity vfmigDomainPolicyIdentity;
struct _vfmigDomainPolicyIdentity {
    char *driver;                   /* the VFIO variant driver */
    unsigned int vendor;            /* PCI ids */
    unsigned int device;
    char *firmware;                 /* optional */
    unsigned int streamVersion;     /* 0: not given */
    bool multiLoad;                 /* the source may send several images */
    unsigned long long stateSize;   /* bytes of device state; 0: not given */
};

typedef struct _vfmigDomainPolicyHostdev vfmigDomainPolicyHostdev;
struct _vfmigDomainPolicyHostdev {
    /* exactly one of the two; origin='host': the alias */
    char *alias;                    /* a user alias, "ua-..."; origin='host':
                                     * libvirt's alias of the running
                                     * domain's device ("hostdev0") */
    bool hasAddress;
    vfmigPCIAddress address;        /* the hostdev's <source><address> */

    vfmigDomainPolicyPrecopy precopy;
    vfmigDomainPolicyDowntime downtime;     /* overrides the domain's */
    vfmigDomainPolicyIdentity *identity;    /* optional */
};

typedef struct _vfmigDomainPolicy vfmigDomainPolicy;
struct _vfmigDomainPolicy {
    /* HOST: written by the host default policy, as live metadata of a
     * running domain, each hostdev named by libvirt's alias */
    vfmigDomainPolicyOrigin origin;
    char *flavor;                           /* HOST: the host policy's
                                             * flavor it came from; NULL:
                                             * its default */
    vfmigDomainPolicyDowntime downtime;     /* the domain's default */
    vfmigDomainPolicyHostdev **hostdevs;
    size_t nhostdevs;
};

void vfmigDomainPolicyIdentityFree(vfmigDomainPolicyIdentity *identity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDomainPolicyIdentity, vfmigDomainPolicyIdentityFree);
void vfmigDomainPolicyHostdevFree(vfmigDomainPolicyHostdev *hostdev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDomainPolicyHostdev, vfmigDomainPolicyHostdevFree);
void vfmigDomainPolicyFree(vfmigDomainPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDomainPolicy, vfmigDomainPolicyFree);

/*
 * A <hostdev mode='subsystem' type='pci'>, or an <interface
 * type='hostdev'> (a VF as a network interface, as Nova attaches SR-IOV
 * ports), of the domain XML, as far as a policy entry is matched against
 * it and as far as it says how libvirt binds the VF.
 */
typedef struct _vfmigDomainPolicyDomHostdev vfmigDomainPolicyDomHostdev;
struct _vfmigDomainPolicyDomHostdev {
    bool interface;                 /* an <interface type='hostdev'> */
    char *alias;                    /* <alias name=>, NULL when none */
    vfmigPCIAddress address;        /* <source><address .../> */
    /* managed='yes': libvirt binds the VF to a VFIO driver when the
     * domain starts (and at an incoming migration's Prepare); 'no' (the
     * default): it must be bound already */
    bool managed;
    /* <driver model='...'/> (libvirt 10.0 and later): the VFIO driver
     * libvirt binds a managed VF to instead of the one modules.alias
     * gives; NULL when none */
    char *driverModel;
};

void vfmigDomainPolicyDomHostdevFree(vfmigDomainPolicyDomHostdev *hostdev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDomainPolicyDomHostdev, vfmigDomainPolicyDomHostdevFree);

/* Parses the <vfmig:migration> element @node; its size is that of the
 * element written out as text (names, attributes, namespace declarations,
 * text and comments; escapes aside), measured before any entry is read. */
vfmigDomainPolicy *vfmigDomainPolicyParseNode(xmlNodePtr node);

/*
 * Parses @xml, the <vfmig:migration> element alone: in vfmig's namespace,
 * or in none, as virDomainGetMetadata(VIR_DOMAIN_METADATA_ELEMENT) returns
 * it (libvirt strips the namespace; every element in no namespace is then
 * taken as vfmig's).  Its size is strlen(@xml), refused before the text is
 * parsed.
 */
vfmigDomainPolicy *vfmigDomainPolicyParseString(const char *xml);

/*
 * Parses a whole domain XML: *@policy, its <metadata>'s <vfmig:migration>
 * (NULL when it has none), and *@hostdevs, every PCI hostdev and hostdev
 * interface of the domain in document order (a GPtrArray of
 * vfmigDomainPolicyDomHostdev, possibly empty).
 * Returns 1 when the domain has a policy, 0 when it has none, -1 with an
 * error (also for a malformed policy or hostdev).
 */
int vfmigDomainPolicyParseDomainXML(const char *xml,
                                    vfmigDomainPolicy **policy,
                                    GPtrArray **hostdevs);

/*
 * The most RAM the domain XML @xml gives its guest, in bytes: the larger
 * of <memory> and <currentMemory> (the balloon's target, which a valid
 * domain keeps at or below <memory>), each in its unit= as libvirt reads
 * it (b, bytes, KB, k, KiB (the default), MB, M, MiB ... EB, E, EiB).
 * <maxMemory>, the ceiling of memory hotplug, is no RAM the guest has:
 * a DIMM plugged is counted in <memory>.  Returns 1 with *@bytes, 0 when
 * the XML has neither element (nothing reported), -1 with an error (not a
 * domain XML, a value or a unit libvirt refuses, more than 2^64 bytes).
 */
int vfmigDomainPolicyParseDomainMemory(const char *xml,
                                       unsigned long long *bytes);

/* The namespaces of OpenStack Nova's <nova:instance> in a domain's
 * <metadata>: 1.1 today, 1.0 in older releases. */
#define VFMIG_NOVA_NS_URI_1_1 "http://openstack.org/xmlns/libvirt/nova/1.1"
#define VFMIG_NOVA_NS_URI_1_0 "http://openstack.org/xmlns/libvirt/nova/1.0"

/*
 * The Nova flavor of the domain XML @xml: the name= of the <nova:flavor>
 * of <metadata>'s <nova:instance>, in the namespace 1.1 or, when there is
 * none in it, 1.0.  Returns 1 with *@flavor, 0 when the domain has no
 * <nova:instance> or it names no flavor (nothing reported), -1 with an
 * error: not a domain XML, a <nova:flavor> without a name, or two of
 * them.
 */
int vfmigDomainPolicyParseDomainFlavor(const char *xml,
                                       char **flavor);

/* Formats the <vfmig:migration> element, with its xmlns:vfmig, into @buf
 * at the buffer's indentation. */
void vfmigDomainPolicyFormat(vfmigBuffer *buf,
                             const vfmigDomainPolicy *policy);

/* The same as a string: what goes into a domain XML. */
char *vfmigDomainPolicyFormatString(const vfmigDomainPolicy *policy);

/*
 * The element without namespace or prefix, <migration>...</migration>,
 * for virDomainSetMetadata(VIR_DOMAIN_METADATA_ELEMENT) with the key
 * VFMIG_DOMAIN_POLICY_NS_PREFIX and the uri VFMIG_DOMAIN_POLICY_NS_URI:
 * libvirt puts it into the namespace itself and refuses an element that
 * declares it already.
 */
char *vfmigDomainPolicyFormatMetadata(const vfmigDomainPolicy *policy);

/* Whether the policy entry @entry names the domain's hostdev @hostdev. */
bool vfmigDomainPolicyHostdevMatches(const vfmigDomainPolicyHostdev *entry,
                                     const vfmigDomainPolicyDomHostdev *hostdev);

/* The domain hostdev (of @hostdevs, vfmigDomainPolicyDomHostdev) that the
 * policy entry @entry names, or NULL when the domain has none. */
const vfmigDomainPolicyDomHostdev *
vfmigDomainPolicyFindHostdev(const vfmigDomainPolicyHostdev *entry,
                             GPtrArray *hostdevs);

/* The policy entry for the domain's hostdev @hostdev, or NULL when the
 * policy has none. */
const vfmigDomainPolicyHostdev *
vfmigDomainPolicyLookup(const vfmigDomainPolicy *policy,
                        const vfmigDomainPolicyDomHostdev *hostdev);

/*
 * Checks @policy against the domain's @hostdevs: every entry must name a
 * hostdev of the domain, and no hostdev may be named by two entries (one
 * by alias, one by address).  Returns 0, or -1 with an error naming the
 * entry.
 */
int vfmigDomainPolicyCheckHostdevs(const vfmigDomainPolicy *policy,
                                   GPtrArray *hostdevs);

/*
 * The downtime that applies to @entry (NULL: to the domain): its own
 * values, else the domain's, else VFMIG_DOMAIN_POLICY_DEFAULT_TARGET_MS
 * and abort.  @targetMs and @onFailure are never 0 or DEFAULT after.
 */
void vfmigDomainPolicyGetDowntime(const vfmigDomainPolicy *policy,
                                  const vfmigDomainPolicyHostdev *entry,
                                  unsigned int *targetMs,
                                  vfmigDomainPolicyOnFailure *onFailure);


/*
 * The <downtime> and <precopy> elements, for another strict document
 * that holds them in its own namespace (the host policy,
 * vfmighostpolicy.h) as for the policy: @doc names the document and the
 * element in errors, @err words the attribute errors.  0, or -1 with an
 * error.
 */
int vfmigDomainPolicyParseDowntime(const vfmigXMLStrict *doc,
                                   const vfmigXMLAttrErrors *err,
                                   xmlNodePtr node,
                                   vfmigDomainPolicyDowntime *downtime);
int vfmigDomainPolicyParsePrecopy(const vfmigXMLStrict *doc,
                                  const vfmigXMLAttrErrors *err,
                                  xmlNodePtr node,
                                  vfmigDomainPolicyPrecopy *precopy);

/* Each as the element <@name .../> into @buf; nothing when not given. */
void vfmigDomainPolicyFormatDowntime(vfmigBuffer *buf,
                                     const char *name,
                                     const vfmigDomainPolicyDowntime *downtime);
void vfmigDomainPolicyFormatPrecopy(vfmigBuffer *buf,
                                    const char *name,
                                    vfmigDomainPolicyPrecopy precopy);
