/*
 * vfmigdomainpolicy.c: parse and format the domain migration policy
 *
 * Elements are matched by namespace URI and local name, never by prefix:
 * libvirt keeps whatever prefix the policy was stored with.  Attributes
 * are in no namespace.  Errors name the element by its path from
 * <vfmig:migration>, e.g. vfmig:migration/vfmig:hostdev[2]/vfmig:downtime,
 * always spelled with the prefix vfmig.
 *
 * Parsing takes time linear in the size of the domain XML and the policy
 * (the libvirt hook parses them at every start and migration): one pass
 * over each element's children, earlier entries found in hash tables, no
 * XPath; the policy's size and its number of entries are checked against
 * their limits before any entry is read.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include <libxml/parser.h>

#include "vfmigxml.h"
#include "vfmigdomainpolicy.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"

#define NS_URI VFMIG_DOMAIN_POLICY_NS_URI
#define PFX VFMIG_DOMAIN_POLICY_NS_PREFIX ":"
#define ROOT_NAME "migration"

VFMIG_ENUM_IMPL(vfmigDomainPolicyOriginType, VFMIG_DOMAIN_POLICY_ORIGIN_LAST,
                "user",
                "host",
);

VFMIG_ENUM_IMPL(vfmigDomainPolicyPrecopyType, VFMIG_DOMAIN_POLICY_PRECOPY_LAST,
                "default",
                "required",
                "preferred",
                "off",
);

VFMIG_ENUM_IMPL(vfmigDomainPolicyOnFailureType, VFMIG_DOMAIN_POLICY_ON_FAILURE_LAST,
                "default",
                "abort",
                "best-effort",
);


void
vfmigDomainPolicyIdentityFree(vfmigDomainPolicyIdentity *identity)
{
    if (!identity)
        return;
    g_free(identity->driver);
    g_free(identity->firmware);
    g_free(identity);
}


void
vfmigDomainPolicyHostdevFree(vfmigDomainPolicyHostdev *hostdev)
{
    if (!hostdev)
        return;
    g_free(hostdev->alias);
    vfmigDomainPolicyIdentityFree(hostdev->identity);
    g_free(hostdev);
}


void
vfmigDomainPolicyFree(vfmigDomainPolicy *policy)
{
    size_t i;

    if (!policy)
        return;
    for (i = 0; i < policy->nhostdevs; i++)
        vfmigDomainPolicyHostdevFree(policy->hostdevs[i]);
    g_free(policy->hostdevs);
    g_free(policy->flavor);
    g_free(policy);
}


void
vfmigDomainPolicyDomHostdevFree(vfmigDomainPolicyDomHostdev *hostdev)
{
    if (!hostdev)
        return;
    g_free(hostdev->alias);
    g_free(hostdev->driverModel);
    g_free(hostdev);
}


/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* The policy, for the strict readers of vfmigxml.h. */
static const vfmigXMLStrict policyDoc = {
    .nsURI = NS_URI,
    .prefix = PFX,
    .root = ROOT_NAME,
    .what = N_("domain migration policy"),
};


static int
reportMissingAttr(xmlNodePtr node, const char *attr)
{
    return vfmigXMLStrictReport(&policyDoc, node, _("missing attribute '%1$s'"), attr);
}


static int
reportBadAttr(xmlNodePtr node,
              const char *attr,
              const char *val,
              const char *why)
{
    return vfmigXMLStrictReport(&policyDoc, node, _("invalid value '%1$s' of attribute '%2$s': %3$s"),
                                val, attr, why);
}


/* ------------------------------------------------------------------ */
/* Parsing: attributes                                                 */
/* ------------------------------------------------------------------ */


static const vfmigXMLAttrErrors attrErr = {
    .missing = reportMissingAttr,
    .invalid = reportBadAttr,
};


/* ------------------------------------------------------------------ */
/* Parsing: elements                                                   */
/* ------------------------------------------------------------------ */

int
vfmigDomainPolicyParseDowntime(const vfmigXMLStrict *doc,
                               const vfmigXMLAttrErrors *err,
                               xmlNodePtr node,
                               vfmigDomainPolicyDowntime *downtime)
{
    static const char *const attrs[] = { "target-ms", "on-failure", NULL };
    unsigned long long target = 0;
    int onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_DEFAULT;

    if (vfmigXMLStrictCheckAttrs(doc, node, attrs) < 0 ||
        vfmigXMLStrictCheckChildren(doc, node, NULL) < 0 ||
        vfmigXMLAttrULL(err, node, "target-ms", false, 1, VFMIG_DOMAIN_POLICY_TARGET_MS_MAX,
                        _("a downtime target in milliseconds"), &target) < 0 ||
        vfmigXMLAttrEnum(err, node, "on-failure", false,
                         vfmigDomainPolicyOnFailureTypeFromString,
                         vfmigDomainPolicyOnFailureTypeToString, 1,
                         &onFailure) < 0)
        return -1;
    if (target == 0 && onFailure == VFMIG_DOMAIN_POLICY_ON_FAILURE_DEFAULT)
        return vfmigXMLStrictReport(doc, node, "%s",
                                    _("neither 'target-ms' nor 'on-failure' is given: set one or leave the element out"));
    downtime->targetMs = target;
    downtime->onFailure = onFailure;
    return 0;
}


int
vfmigDomainPolicyParsePrecopy(const vfmigXMLStrict *doc,
                              const vfmigXMLAttrErrors *err,
                              xmlNodePtr node,
                              vfmigDomainPolicyPrecopy *precopy)
{
    static const char *const attrs[] = { "mode", NULL };
    int mode = VFMIG_DOMAIN_POLICY_PRECOPY_DEFAULT;

    if (vfmigXMLStrictCheckAttrs(doc, node, attrs) < 0 ||
        vfmigXMLStrictCheckChildren(doc, node, NULL) < 0 ||
        vfmigXMLAttrEnum(err, node, "mode", true,
                         vfmigDomainPolicyPrecopyTypeFromString,
                         vfmigDomainPolicyPrecopyTypeToString, 1, &mode) < 0)
        return -1;
    *precopy = mode;
    return 0;
}


static int
parseIdentity(xmlNodePtr node, vfmigDomainPolicyHostdev *hostdev)
{
    static const char *const attrs[] = {
        "driver", "vendor", "device", "firmware", "stream-version",
        "multi-load", "state-size", NULL,
    };
    g_autoptr(vfmigDomainPolicyIdentity) id = g_new0(vfmigDomainPolicyIdentity, 1);
    unsigned long long stream = 0;

    if (vfmigXMLStrictCheckAttrs(&policyDoc, node, attrs) < 0 ||
        vfmigXMLStrictCheckChildren(&policyDoc, node, NULL) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "driver", true, &id->driver) < 0 ||
        vfmigXMLAttrHex(&attrErr, node, "vendor", 4, 0xffff, &id->vendor) < 0 ||
        vfmigXMLAttrHex(&attrErr, node, "device", 4, 0xffff, &id->device) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "firmware", false, &id->firmware) < 0 ||
        vfmigXMLAttrULL(&attrErr, node, "stream-version", false, 1, G_MAXUINT,
                 _("a state-stream version"), &stream) < 0 ||
        vfmigXMLAttrYesNo(&attrErr, node, "multi-load", &id->multiLoad) < 0 ||
        vfmigXMLAttrULL(&attrErr, node, "state-size", false, 1, G_MAXUINT64,
                 _("a state size in bytes"), &id->stateSize) < 0)
        return -1;
    id->streamVersion = stream;
    hostdev->identity = g_steal_pointer(&id);
    return 0;
}


static int
parseAddress(xmlNodePtr node, vfmigPCIAddress *addr)
{
    static const char *const attrs[] = {
        "domain", "bus", "slot", "function", NULL,
    };

    if (vfmigXMLStrictCheckAttrs(&policyDoc, node, attrs) < 0 ||
        vfmigXMLStrictCheckChildren(&policyDoc, node, NULL) < 0 ||
        vfmigXMLAttrHex(&attrErr, node, "domain", 8, G_MAXUINT, &addr->domain) < 0 ||
        vfmigXMLAttrHex(&attrErr, node, "bus", 2, 0xff, &addr->bus) < 0 ||
        vfmigXMLAttrHex(&attrErr, node, "slot", 2, 0x1f, &addr->slot) < 0 ||
        vfmigXMLAttrHex(&attrErr, node, "function", 1, 7, &addr->function) < 0)
        return -1;
    return 0;
}


static int
parseSource(xmlNodePtr node,
            vfmigDomainPolicyHostdev *hostdev)
{
    static const char *const children[] = { "address", NULL };
    xmlNodePtr address;

    if (vfmigXMLStrictCheckAttrs(&policyDoc, node, NULL) < 0 ||
        vfmigXMLStrictCheckChildren(&policyDoc, node, children) < 0 ||
        vfmigXMLStrictFindChildren(&policyDoc, node, children, &address) < 0)
        return -1;
    if (!address)
        return vfmigXMLStrictReport(&policyDoc, node, _("missing element <vfmig:%1$s>"), "address");
    if (parseAddress(address, &hostdev->address) < 0)
        return -1;
    hostdev->hasAddress = true;
    return 0;
}


/* Letters, digits, '_' or '-', one at least: a device alias as libvirt
 * takes it. */
static bool
isAliasName(const char *name)
{
    const char *p;

    if (!*name)
        return false;
    for (p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
            return false;
    }
    return true;
}


/* A user alias, as libvirt keeps it in the persistent XML and across a
 * migration: "ua-" and letters, digits, '_' or '-'. */
static bool
isUserAlias(const char *alias)
{
    return g_str_has_prefix(alias, "ua-") && isAliasName(alias + 3);
}


/* The alias of the entry @node of a policy of @origin: a user alias, or
 * in an origin='host' policy libvirt's alias of the running domain's
 * device (a user alias included). */
static int
checkAlias(xmlNodePtr node,
           vfmigDomainPolicyOrigin origin,
           const char *alias)
{
    if (origin == VFMIG_DOMAIN_POLICY_ORIGIN_HOST) {
        if (!isAliasName(alias))
            return reportBadAttr(node, "alias", alias,
                                 _("a hostdev of a policy with origin='host' is named by libvirt's alias of it, letters, digits, '_' or '-'"));
        return 0;
    }
    if (!isUserAlias(alias))
        return reportBadAttr(node, "alias", alias,
                             _("a hostdev is named by its user alias, 'ua-' and letters, digits, '_' or '-'"));
    return 0;
}


static int
parseHostdev(xmlNodePtr node,
             vfmigDomainPolicyOrigin origin,
             vfmigDomainPolicyHostdev **out)
{
    static const char *const attrs[] = { "alias", NULL };
    enum { SOURCE, PRECOPY, DOWNTIME, IDENTITY, NCHILDREN };
    static const char *const children[NCHILDREN + 1] = {
        [SOURCE] = "source", [PRECOPY] = "precopy",
        [DOWNTIME] = "downtime", [IDENTITY] = "identity", NULL,
    };
    g_autoptr(vfmigDomainPolicyHostdev) hostdev = g_new0(vfmigDomainPolicyHostdev, 1);
    xmlNodePtr child[NCHILDREN];
    xmlNodePtr source;

    if (vfmigXMLStrictCheckAttrs(&policyDoc, node, attrs) < 0 ||
        vfmigXMLStrictCheckChildren(&policyDoc, node, children) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "alias", false, &hostdev->alias) < 0 ||
        (hostdev->alias && checkAlias(node, origin, hostdev->alias) < 0) ||
        vfmigXMLStrictFindChildren(&policyDoc, node, children, child) < 0)
        return -1;
    source = child[SOURCE];

    /* the host default names a hostdev of the running domain by alias */
    if (origin == VFMIG_DOMAIN_POLICY_ORIGIN_HOST && source)
        return vfmigXMLStrictReport(&policyDoc, node, "%s",
                                    _("a <vfmig:source> address in a policy with origin='host': it names every hostdev by libvirt's alias of it"));
    if (origin == VFMIG_DOMAIN_POLICY_ORIGIN_HOST && !hostdev->alias)
        return reportMissingAttr(node, "alias");
    if (hostdev->alias && source)
        return vfmigXMLStrictReport(&policyDoc, node, "%s",
                                    _("both an alias and a <vfmig:source> address: a hostdev is named by exactly one of them"));
    if (!hostdev->alias && !source)
        return vfmigXMLStrictReport(&policyDoc, node, "%s",
                                    _("neither an alias nor a <vfmig:source> address: a hostdev is named by exactly one of them"));

    if ((source && parseSource(source, hostdev) < 0) ||
        (child[PRECOPY] &&
         vfmigDomainPolicyParsePrecopy(&policyDoc, &attrErr, child[PRECOPY],
                                       &hostdev->precopy) < 0) ||
        (child[DOWNTIME] &&
         vfmigDomainPolicyParseDowntime(&policyDoc, &attrErr, child[DOWNTIME],
                                        &hostdev->downtime) < 0) ||
        (child[IDENTITY] && parseIdentity(child[IDENTITY], hostdev) < 0))
        return -1;

    *out = g_steal_pointer(&hostdev);
    return 0;
}


/* Describes how @entry names its hostdev: "alias 'ua-vf0'" or
 * "address 0000:3b:00.2". */
static char *
describeEntry(const vfmigDomainPolicyHostdev *entry)
{
    g_autofree char *addr = NULL;

    if (entry->alias)
        return g_strdup_printf(_("alias '%1$s'"), entry->alias);
    addr = vfmigPCIAddressFormat(&entry->address);
    return g_strdup_printf(_("address %1$s"), addr);
}


/* ------------------------------------------------------------------ */
/* Parsing: the policy, within its limits                              */
/* ------------------------------------------------------------------ */

/* Refuses a policy of more than VFMIG_DOMAIN_POLICY_SIZE_MAX bytes. */
static void
reportTooLarge(void)
{
    g_autofree char *why =
        g_strdup_printf(_("larger than the limit of %1$d bytes: the libvirt hook reads the policy at every start and migration of the domain, and %2$d entries, the most it may have, take about a tenth of that"),
                        VFMIG_DOMAIN_POLICY_SIZE_MAX,
                        VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX);

    vfmigReportError(VFMIG_ERR_INVALID_ARG,
                     _("invalid domain migration policy: %1$s: %2$s"),
                     PFX ROOT_NAME, why);
}


/* The length of @str, 0 for NULL. */
static size_t
textLen(const xmlChar *str)
{
    return str ? strlen((const char *) str) : 0;
}


/* The length of "prefix:" of @ns, 0 when it has none. */
static size_t
prefixLen(xmlNsPtr ns)
{
    return ns && ns->prefix ? textLen(ns->prefix) + 1 : 0;
}


/*
 * The bytes @node takes written out as text, its children aside, special
 * characters unescaped: an element's start and end tags with their names,
 * namespace declarations and attributes; the text of a text, CDATA,
 * comment or processing instruction; an entity reference.
 */
static size_t
nodeTextSize(xmlNodePtr node)
{
    size_t size;
    xmlAttrPtr attr;
    xmlNodePtr val;
    xmlNsPtr ns;

    switch ((int) node->type) {
    case XML_ELEMENT_NODE:
        /* <p:name></p:name> */
        size = 2 * (prefixLen(node->ns) + textLen(node->name)) + 5;
        /*  xmlns:p='uri' */
        for (ns = node->nsDef; ns; ns = ns->next)
            size += 9 + (ns->prefix ? textLen(ns->prefix) + 1 : 0) + textLen(ns->href);
        /*  p:name='value' */
        for (attr = node->properties; attr; attr = attr->next) {
            size += 4 + prefixLen(attr->ns) + textLen(attr->name);
            for (val = attr->children; val; val = val->next)
                size += nodeTextSize(val);
        }
        return size;
    case XML_TEXT_NODE:
        return textLen(node->content);
    case XML_CDATA_SECTION_NODE:        /* <![CDATA[...]]> */
        return 12 + textLen(node->content);
    case XML_COMMENT_NODE:              /* <!--...--> */
        return 7 + textLen(node->content);
    case XML_PI_NODE:                   /* <?name ...?> */
        return 5 + textLen(node->name) + textLen(node->content);
    case XML_ENTITY_REF_NODE:           /* &name; */
        return 2 + textLen(node->name);
    }
    return 0;
}


/*
 * Whether the element @root written out as text takes more than @max
 * bytes (nodeTextSize of it and of everything below it).  A walk that
 * stops as soon as it knows: whatever the size of the element, it reads
 * @max bytes of it and one node more.
 */
static bool
isLargerThan(xmlNodePtr root,
             size_t max)
{
    xmlNodePtr node = root;
    size_t size = 0;

    for (;;) {
        size += nodeTextSize(node);
        if (size > max)
            return true;
        if (node->type == XML_ELEMENT_NODE && node->children) {
            node = node->children;
            continue;
        }
        while (node != root && !node->next)
            node = node->parent;
        if (node == root)
            return false;
        node = node->next;
    }
}


/* Refuses @node unless it is a <vfmig:migration>. */
static int
checkRoot(xmlNodePtr node)
{
    const char *name = node && node->name ? (const char *) node->name : "";

    if (vfmigXMLStrictIsElement(&policyDoc, node, ROOT_NAME))
        return 0;
    if (node && node->ns && node->ns->href)
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("invalid domain migration policy: expected the element <vfmig:migration> in the namespace '%1$s', got <%2$s> in the namespace '%3$s'"),
                         NS_URI, name, (const char *) node->ns->href);
    else
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("invalid domain migration policy: expected the element <vfmig:migration> in the namespace '%1$s', got <%2$s> in no namespace"),
                         NS_URI, name);
    return -1;
}


/* A source address as a key of a GHashTable. */
static guint
addressHash(gconstpointer key)
{
    const vfmigPCIAddress *addr = key;
    gint64 packed = ((gint64) addr->domain << 16) | (addr->bus << 8) |
        (addr->slot << 3) | addr->function;

    return g_int64_hash(&packed);
}


static gboolean
addressEqual(gconstpointer a,
             gconstpointer b)
{
    return vfmigPCIAddressEqual(a, b);
}


/* The element of the first entry with @key in @table (an entry's alias or
 * address), or NULL when @node's is the first and is added. */
static xmlNodePtr
firstEntry(GHashTable *table,
           gconstpointer key,
           xmlNodePtr node)
{
    xmlNodePtr first = g_hash_table_lookup(table, key);

    if (!first)
        g_hash_table_insert(table, (gpointer) key, node);
    return first;
}


/* Refuses @entry, of the element @node, which names the hostdev that the
 * entry of the element @first names already. */
static void
reportSecondEntry(xmlNodePtr node,
                  const vfmigDomainPolicyHostdev *entry,
                  xmlNodePtr first)
{
    g_autofree char *what = describeEntry(entry);
    g_autofree char *firstPath = vfmigXMLStrictPath(&policyDoc, first);

    vfmigXMLStrictReport(&policyDoc, node, _("a second entry for the hostdev with %1$s: the first is %2$s"),
                         what, firstPath);
}


/* The attributes of <vfmig:migration> @node: origin='host' and the
 * flavor it came from, or none. */
static int
parseOrigin(xmlNodePtr node,
            vfmigDomainPolicy *policy)
{
    static const char *const attrs[] = { "origin", "flavor", NULL };
    int origin = VFMIG_DOMAIN_POLICY_ORIGIN_USER;

    if (vfmigXMLStrictCheckAttrs(&policyDoc, node, attrs) < 0 ||
        vfmigXMLAttrEnum(&attrErr, node, "origin", false,
                         vfmigDomainPolicyOriginTypeFromString,
                         vfmigDomainPolicyOriginTypeToString,
                         VFMIG_DOMAIN_POLICY_ORIGIN_HOST, &origin) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "flavor", false, &policy->flavor) < 0)
        return -1;
    policy->origin = origin;
    if (policy->flavor && origin != VFMIG_DOMAIN_POLICY_ORIGIN_HOST)
        return vfmigXMLStrictReport(&policyDoc, node, "%s",
                                    _("attribute 'flavor' without origin='host': only a policy of the host default names the flavor it came from"));
    if (policy->flavor &&
        g_utf8_strlen(policy->flavor, -1) > VFMIG_DOMAIN_POLICY_FLAVOR_MAX) {
        g_autofree char *why = g_strdup_printf(_("a flavor name has at most %1$d characters"),
                                               VFMIG_DOMAIN_POLICY_FLAVOR_MAX);

        return reportBadAttr(node, "flavor", policy->flavor, why);
    }
    return 0;
}


/*
 * The policy in the <vfmig:migration> element @node, its size already
 * checked: one pass over its children, the entries counted before any is
 * read, and each entry's alias or address looked up in a hash table of
 * the earlier ones.  Linear in the size of the policy.
 */
static vfmigDomainPolicy *
parsePolicy(xmlNodePtr node)
{
    static const char *const children[] = { "downtime", "hostdev", NULL };
    static const char *const once[] = { "downtime", NULL };
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) nodes = g_ptr_array_new();
    /* alias -> the element of the first entry by it; the same by address
     * (keys: the entries' own) */
    g_autoptr(GHashTable) byAlias = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) byAddress = g_hash_table_new(addressHash, addressEqual);
    xmlNodePtr downtime;
    xmlNodePtr child;
    size_t i;

    policy = g_new0(vfmigDomainPolicy, 1);
    if (parseOrigin(node, policy) < 0 ||
        vfmigXMLStrictCheckChildren(&policyDoc, node, children) < 0 ||
        vfmigXMLStrictFindChildren(&policyDoc, node, once, &downtime) < 0)
        return NULL;

    for (child = node->children; child; child = child->next) {
        if (vfmigXMLStrictIsElement(&policyDoc, child, "hostdev"))
            g_ptr_array_add(nodes, child);
    }
    if (nodes->len > VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX) {
        vfmigXMLStrictReport(&policyDoc, g_ptr_array_index(nodes, VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX),
                             _("an entry beyond the limit of %1$d <vfmig:hostdev> entries: no real domain has that many PCI hostdevs, and the libvirt hook reads the policy at every start and migration of the domain"),
                             VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX);
        return NULL;
    }

    if (downtime &&
        vfmigDomainPolicyParseDowntime(&policyDoc, &attrErr, downtime,
                                       &policy->downtime) < 0)
        return NULL;

    policy->hostdevs = g_new0(vfmigDomainPolicyHostdev *, nodes->len);
    for (i = 0; i < nodes->len; i++) {
        xmlNodePtr hnode = g_ptr_array_index(nodes, i);
        vfmigDomainPolicyHostdev *entry;
        xmlNodePtr first;

        if (parseHostdev(hnode, policy->origin, &policy->hostdevs[i]) < 0)
            return NULL;
        policy->nhostdevs++;
        entry = policy->hostdevs[i];

        /* an entry by alias has no address */
        if (entry->alias)
            first = firstEntry(byAlias, entry->alias, hnode);
        else
            first = firstEntry(byAddress, &entry->address, hnode);
        if (first) {
            reportSecondEntry(hnode, entry, first);
            return NULL;
        }
    }
    return g_steal_pointer(&policy);
}


vfmigDomainPolicy *
vfmigDomainPolicyParseNode(xmlNodePtr node)
{
    if (checkRoot(node) < 0)
        return NULL;
    if (isLargerThan(node, VFMIG_DOMAIN_POLICY_SIZE_MAX)) {
        reportTooLarge();
        return NULL;
    }
    return parsePolicy(node);
}


/* Puts @node and every element below it that has no namespace into @ns. */
static void
adoptNamespace(xmlNodePtr node, xmlNsPtr ns)
{
    xmlNodePtr child;

    if (node->type != XML_ELEMENT_NODE)
        return;
    if (!node->ns)
        xmlSetNs(node, ns);
    for (child = node->children; child; child = child->next)
        adoptNamespace(child, ns);
}


vfmigDomainPolicy *
vfmigDomainPolicyParseString(const char *xml)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNodePtr root;
    xmlNsPtr ns;

    /* the limit before the text is parsed: its length, as given */
    if (xml && strnlen(xml, VFMIG_DOMAIN_POLICY_SIZE_MAX + 1) > VFMIG_DOMAIN_POLICY_SIZE_MAX) {
        reportTooLarge();
        return NULL;
    }
    if (!(doc = vfmigXMLReadDoc(xml, _("domain migration policy"))))
        return NULL;
    root = xmlDocGetRootElement(doc);

    /* virDomainGetMetadata gives the element without its namespace: the
     * elements in none are ours */
    if (root && !root->ns && xmlStrEqual(root->name, BAD_CAST ROOT_NAME)) {
        if (!(ns = xmlNewNs(root, BAD_CAST NS_URI,
                            BAD_CAST VFMIG_DOMAIN_POLICY_NS_PREFIX))) {
            vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                             _("cannot declare the namespace of the domain migration policy"));
            return NULL;
        }
        adoptNamespace(root, ns);
    }
    if (checkRoot(root) < 0)
        return NULL;
    return parsePolicy(root);
}


/* libvirt's spelling of an address field: hex with 0x, or decimal. */
static bool
scanDomainAddrField(const char *val, unsigned long long max, unsigned int *out)
{
    unsigned long long v;
    char *end = NULL;

    if (!val || !*val || !g_ascii_isdigit(*val))
        return false;
    errno = 0;
    if (val[0] == '0' && (val[1] == 'x' || val[1] == 'X')) {
        if (!g_ascii_isxdigit(val[2]))
            return false;
        v = g_ascii_strtoull(val + 2, &end, 16);
    } else {
        v = g_ascii_strtoull(val, &end, 10);
    }
    if (errno != 0 || *end || v > max)
        return false;
    *out = (unsigned int) v;
    return true;
}


/* Whether @node is the element <@name> of a domain XML: in no namespace. */
static bool
isDomElement(xmlNodePtr node,
             const char *name)
{
    return node->type == XML_ELEMENT_NODE && !node->ns &&
        xmlStrEqual(node->name, BAD_CAST name);
}


/* Whether the attribute @name (in no namespace) of @node is @value. */
static bool
hasDomAttr(xmlNodePtr node,
           const char *name,
           const char *value)
{
    g_autofree char *val = vfmigXMLPropString(node, name);

    return val && strcmp(val, value) == 0;
}


/*
 * A <hostdev type='pci'> or an <interface type='hostdev'> (an SR-IOV VF as
 * a network interface, as Nova attaches one), the @index'th of its kind
 * (from 1) in <devices>.
 */
static int
parseDomHostdev(xmlNodePtr node,
                size_t index,
                vfmigDomainPolicyDomHostdev **out)
{
    static const char *const fields[] = { "domain", "bus", "slot", "function" };
    static const unsigned long long max[] = { G_MAXUINT, 0xff, 0x1f, 7 };
    g_autoptr(vfmigDomainPolicyDomHostdev) hostdev = g_new0(vfmigDomainPolicyDomHostdev, 1);
    unsigned int *vals[] = {
        &hostdev->address.domain, &hostdev->address.bus,
        &hostdev->address.slot, &hostdev->address.function,
    };
    g_autofree char *managed = NULL;
    const char *what;
    xmlNodePtr addr = NULL;
    size_t naddr = 0;
    xmlNodePtr child;
    xmlNodePtr grandchild;
    size_t i;

    hostdev->interface = xmlStrEqual(node->name, BAD_CAST "interface");
    what = hostdev->interface ? "<interface type='hostdev'>" : "<hostdev type='pci'>";

    /* ./source/address: exactly one */
    for (child = node->children; child; child = child->next) {
        if (!isDomElement(child, "source"))
            continue;
        for (grandchild = child->children; grandchild; grandchild = grandchild->next) {
            if (isDomElement(grandchild, "address")) {
                addr = grandchild;
                naddr++;
            }
        }
    }
    if (naddr != 1) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("domain XML: %1$s number %2$zu in <devices> has no <source><address/>, or more than one"),
                         what, index);
        return -1;
    }
    for (i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_autofree char *val = vfmigXMLPropString(addr, fields[i]);

        if (!scanDomainAddrField(val, max[i], vals[i])) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("domain XML: invalid value '%1$s' of attribute '%2$s' of the source address of %3$s number %4$zu in <devices>"),
                             val ? val : "", fields[i], what, index);
            return -1;
        }
    }

    /* managed: 'yes' or 'no' (libvirt's default), as libvirt reads it */
    managed = vfmigXMLPropString(node, "managed");
    if (managed && strcmp(managed, "yes") != 0 && strcmp(managed, "no") != 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("domain XML: invalid value '%1$s' of attribute 'managed' of %2$s number %3$zu in <devices>: expected 'yes' or 'no'"),
                         managed, what, index);
        return -1;
    }
    hostdev->managed = managed && strcmp(managed, "yes") == 0;

    /* string(./driver/@model): libvirt reads the first <driver> */
    for (child = node->children; child; child = child->next) {
        g_autofree char *model = NULL;

        if (!isDomElement(child, "driver"))
            continue;
        if ((model = vfmigXMLPropString(child, "model")) && *model)
            hostdev->driverModel = g_steal_pointer(&model);
        break;
    }

    /* string(./alias/@name): the first <alias> with a name; none when empty */
    for (child = node->children; child; child = child->next) {
        g_autofree char *name = NULL;

        if (!isDomElement(child, "alias") ||
            !(name = vfmigXMLPropString(child, "name")))
            continue;
        if (*name)
            hostdev->alias = g_steal_pointer(&name);
        break;
    }

    *out = g_steal_pointer(&hostdev);
    return 0;
}


/* @xml parsed, its root a libvirt <domain> in *@root; NULL on error. */
static xmlDocPtr
readDomainDoc(const char *xml,
              xmlNodePtr *root)
{
    g_autoptr(xmlDoc) doc = NULL;

    if (!(doc = vfmigXMLReadDoc(xml, _("domain"))))
        return NULL;
    *root = xmlDocGetRootElement(doc);
    if (!*root || !xmlStrEqual((*root)->name, BAD_CAST "domain") || (*root)->ns) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("not a libvirt domain XML: the root element is <%1$s>, not <domain>"),
                         *root ? (const char *) (*root)->name : "");
        return NULL;
    }
    return g_steal_pointer(&doc);
}


/*
 * One pass over <domain>'s children and theirs: the policy is measured
 * against its limit (vfmigDomainPolicyParseNode) before it is read, then
 * every <devices>' hostdevs in document order.
 */
int
vfmigDomainPolicyParseDomainXML(const char *xml,
                                vfmigDomainPolicy **policy,
                                GPtrArray **hostdevs)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(vfmigDomainPolicy) ret = NULL;
    size_t npci = 0;
    size_t ninterfaces = 0;
    xmlNodePtr ours = NULL;
    int nours = 0;
    xmlNodePtr root;
    xmlNodePtr child;
    xmlNodePtr node;

    *policy = NULL;
    *hostdevs = NULL;
    if (!(doc = readDomainDoc(xml, &root)))
        return -1;

    /* <metadata>'s elements in vfmig's namespace */
    for (child = root->children; child; child = child->next) {
        if (!isDomElement(child, "metadata"))
            continue;
        for (node = child->children; node; node = node->next) {
            if (!vfmigXMLStrictIsElement(&policyDoc, node, NULL))
                continue;
            if (!ours)
                ours = node;
            nours++;
        }
    }
    if (ours) {
        /* libvirt keeps one element per namespace in <metadata> */
        if (nours > 1) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("domain XML: <metadata> has %1$d elements in the namespace '%2$s': expected one, <vfmig:migration>"),
                             nours, NS_URI);
            return -1;
        }
        if (!(ret = vfmigDomainPolicyParseNode(ours)))
            return -1;
    }

    /* every <devices>' <hostdev type='pci'> and <interface type='hostdev'> */
    list = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigDomainPolicyDomHostdevFree);
    for (child = root->children; child; child = child->next) {
        if (!isDomElement(child, "devices"))
            continue;
        for (node = child->children; node; node = node->next) {
            vfmigDomainPolicyDomHostdev *h = NULL;
            size_t *count;

            if (isDomElement(node, "hostdev") && hasDomAttr(node, "type", "pci"))
                count = &npci;
            else if (isDomElement(node, "interface") && hasDomAttr(node, "type", "hostdev"))
                count = &ninterfaces;
            else
                continue;
            if (parseDomHostdev(node, ++*count, &h) < 0)
                return -1;
            g_ptr_array_add(list, h);
        }
    }

    *hostdevs = g_steal_pointer(&list);
    if (!ret)
        return 0;
    *policy = g_steal_pointer(&ret);
    return 1;
}


/* libvirt's scale of a memory unit (virScaleInteger), 0 when unknown. */
static unsigned long long
memoryUnitScale(const char *unit)
{
    unsigned long long base;
    unsigned long long scale = 1;
    const char *powers = "kmgtpe";
    const char *p;
    ptrdiff_t n;

    if (!unit || !*unit)
        return 1024;
    if (g_ascii_strcasecmp(unit, "b") == 0 ||
        g_ascii_strcasecmp(unit, "byte") == 0 ||
        g_ascii_strcasecmp(unit, "bytes") == 0)
        return 1;
    if (!unit[1] || g_ascii_strcasecmp(unit + 1, "iB") == 0)
        base = 1024;
    else if (g_ascii_tolower(unit[1]) == 'b' && !unit[2])
        base = 1000;
    else
        return 0;
    if (!(p = strchr(powers, g_ascii_tolower(unit[0]))))
        return 0;
    for (n = p - powers + 1; n > 0; n--)
        scale *= base;
    return scale;
}


/* The RAM of the domain's <@name> element @node, in bytes, into *@bytes. */
static int
parseMemoryElement(xmlNodePtr node,
                   const char *name,
                   unsigned long long *bytes)
{
    g_autofree char *unit = vfmigXMLPropString(node, "unit");
    g_autofree xmlChar *content = xmlNodeGetContent(node);
    g_autofree char *text = g_strstrip(g_strdup((const char *) content));
    unsigned long long scale = memoryUnitScale(unit);
    guint64 value;

    if (scale == 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("domain XML: <%1$s> has the unknown unit '%2$s'"),
                         name, unit);
        return -1;
    }
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &value, NULL)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("domain XML: <%1$s> is '%2$s', not a whole number"),
                         name, text);
        return -1;
    }
    if (value > ULLONG_MAX / scale) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("domain XML: <%1$s> of %2$s %3$s is more than 2^64 bytes"),
                         name, text, unit ? unit : "KiB");
        return -1;
    }
    *bytes = value * scale;
    return 0;
}


int
vfmigDomainPolicyParseDomainMemory(const char *xml,
                                   unsigned long long *bytes)
{
    static const char *const names[] = { "memory", "currentMemory" };
    g_autoptr(xmlDoc) doc = NULL;
    xmlNodePtr root;
    xmlNodePtr node;
    bool found = false;
    size_t i;

    *bytes = 0;
    if (!(doc = readDomainDoc(xml, &root)))
        return -1;
    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        for (node = root->children; node; node = node->next) {
            unsigned long long b;

            if (node->type != XML_ELEMENT_NODE || node->ns ||
                !xmlStrEqual(node->name, BAD_CAST names[i]))
                continue;
            if (parseMemoryElement(node, names[i], &b) < 0) {
                *bytes = 0;
                return -1;
            }
            *bytes = MAX(*bytes, b);
            found = true;
            break;
        }
    }
    return found ? 1 : 0;
}


/* The element <@name> in the namespace @ns that is a child of @parent,
 * into *@out (NULL: none); -1 with an error when there are two. */
static int
findNovaChild(xmlNodePtr parent,
              const char *ns,
              const char *name,
              xmlNodePtr *out)
{
    xmlNodePtr node;

    *out = NULL;
    for (node = parent->children; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE || !node->ns ||
            !xmlStrEqual(node->ns->href, BAD_CAST ns) ||
            !xmlStrEqual(node->name, BAD_CAST name))
            continue;
        if (*out) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("domain XML: two <nova:%1$s> elements in the namespace '%2$s'"),
                             name, ns);
            return -1;
        }
        *out = node;
    }
    return 0;
}


int
vfmigDomainPolicyParseDomainFlavor(const char *xml,
                                   char **flavor)
{
    static const char *const namespaces[] = {
        VFMIG_NOVA_NS_URI_1_1, VFMIG_NOVA_NS_URI_1_0,
    };
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *name = NULL;
    xmlNodePtr root;
    xmlNodePtr metadata = NULL;
    xmlNodePtr instance = NULL;
    xmlNodePtr node;
    size_t i;

    *flavor = NULL;
    if (!(doc = readDomainDoc(xml, &root)))
        return -1;
    for (node = root->children; node && !metadata; node = node->next) {
        if (isDomElement(node, "metadata"))
            metadata = node;
    }
    if (!metadata)
        return 0;
    for (i = 0; i < G_N_ELEMENTS(namespaces) && !instance; i++) {
        if (findNovaChild(metadata, namespaces[i], "instance", &instance) < 0)
            return -1;
    }
    if (!instance)
        return 0;
    if (findNovaChild(instance, (const char *) instance->ns->href, "flavor", &node) < 0)
        return -1;
    if (!node)
        return 0;
    if (!(name = vfmigXMLPropString(node, "name")) || !*name) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("domain XML: <nova:flavor> of <nova:instance> has no name"));
        return -1;
    }
    *flavor = g_steal_pointer(&name);
    return 1;
}


/* ------------------------------------------------------------------ */
/* Matching                                                            */
/* ------------------------------------------------------------------ */

bool
vfmigDomainPolicyHostdevMatches(const vfmigDomainPolicyHostdev *entry,
                                const vfmigDomainPolicyDomHostdev *hostdev)
{
    if (entry->alias)
        return hostdev->alias && strcmp(entry->alias, hostdev->alias) == 0;
    return entry->hasAddress &&
        vfmigPCIAddressEqual(&entry->address, &hostdev->address);
}


const vfmigDomainPolicyDomHostdev *
vfmigDomainPolicyFindHostdev(const vfmigDomainPolicyHostdev *entry,
                             GPtrArray *hostdevs)
{
    size_t i;

    for (i = 0; hostdevs && i < hostdevs->len; i++) {
        const vfmigDomainPolicyDomHostdev *h = g_ptr_array_index(hostdevs, i);

        if (vfmigDomainPolicyHostdevMatches(entry, h))
            return h;
    }
    return NULL;
}


const vfmigDomainPolicyHostdev *
vfmigDomainPolicyLookup(const vfmigDomainPolicy *policy,
                        const vfmigDomainPolicyDomHostdev *hostdev)
{
    size_t i;

    /* an entry by alias first: it still holds when the address changed
     * (Nova, or virsh migrate --xml, rewrites the source address) */
    for (i = 0; policy && i < policy->nhostdevs; i++) {
        if (policy->hostdevs[i]->alias &&
            vfmigDomainPolicyHostdevMatches(policy->hostdevs[i], hostdev))
            return policy->hostdevs[i];
    }
    for (i = 0; policy && i < policy->nhostdevs; i++) {
        if (!policy->hostdevs[i]->alias &&
            vfmigDomainPolicyHostdevMatches(policy->hostdevs[i], hostdev))
            return policy->hostdevs[i];
    }
    return NULL;
}


int
vfmigDomainPolicyCheckHostdevs(const vfmigDomainPolicy *policy,
                               GPtrArray *hostdevs)
{
    g_autofree const vfmigDomainPolicyHostdev **by = NULL;
    size_t i;

    if (!policy)
        return 0;
    by = g_new0(const vfmigDomainPolicyHostdev *, hostdevs ? hostdevs->len : 0);
    for (i = 0; i < policy->nhostdevs; i++) {
        const vfmigDomainPolicyHostdev *entry = policy->hostdevs[i];
        const vfmigDomainPolicyDomHostdev *h = vfmigDomainPolicyFindHostdev(entry, hostdevs);
        g_autofree char *what = describeEntry(entry);
        size_t k;

        if (!h) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("domain migration policy: the entry for the hostdev with %1$s (entry %2$zu) names no PCI hostdev or hostdev interface of the domain"),
                             what, i + 1);
            return -1;
        }
        for (k = 0; k < hostdevs->len && g_ptr_array_index(hostdevs, k) != h; k++)
            ;
        if (by[k]) {
            g_autofree char *other = describeEntry(by[k]);

            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("domain migration policy: the entries for the hostdev with %1$s and with %2$s name the same PCI hostdev or hostdev interface of the domain"),
                             other, what);
            return -1;
        }
        by[k] = entry;
    }
    return 0;
}


void
vfmigDomainPolicyGetDowntime(const vfmigDomainPolicy *policy,
                             const vfmigDomainPolicyHostdev *entry,
                             unsigned int *targetMs,
                             vfmigDomainPolicyOnFailure *onFailure)
{
    *targetMs = VFMIG_DOMAIN_POLICY_DEFAULT_TARGET_MS;
    *onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT;
    if (policy && policy->downtime.targetMs)
        *targetMs = policy->downtime.targetMs;
    if (policy && policy->downtime.onFailure)
        *onFailure = policy->downtime.onFailure;
    if (entry && entry->downtime.targetMs)
        *targetMs = entry->downtime.targetMs;
    if (entry && entry->downtime.onFailure)
        *onFailure = entry->downtime.onFailure;
}


/* ------------------------------------------------------------------ */
/* Formatting                                                          */
/* ------------------------------------------------------------------ */

void
vfmigDomainPolicyFormatDowntime(vfmigBuffer *buf,
                                const char *name,
                                const vfmigDomainPolicyDowntime *downtime)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    const char *str;

    if (downtime->targetMs)
        vfmigBufferAsprintf(&attrBuf, " target-ms='%u'", downtime->targetMs);
    if (downtime->onFailure &&
        (str = vfmigDomainPolicyOnFailureTypeToString(downtime->onFailure)))
        vfmigBufferAddAttr(&attrBuf, "on-failure", str);
    if (vfmigBufferIsEmpty(&attrBuf))
        return;
    vfmigXMLFormatElement(buf, name, &attrBuf, NULL);
}


static void
formatSource(vfmigBuffer *buf,
             const vfmigDomainPolicyHostdev *hostdev,
             bool bare)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(buf);

    if (!hostdev->hasAddress)
        return;
    vfmigBufferAsprintf(&attrBuf,
                        " domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'",
                        hostdev->address.domain, hostdev->address.bus,
                        hostdev->address.slot, hostdev->address.function);
    vfmigXMLFormatElement(&childBuf, bare ? "address" : PFX "address", &attrBuf, NULL);
    vfmigXMLFormatElement(buf, bare ? "source" : PFX "source", NULL, &childBuf);
}


void
vfmigDomainPolicyFormatPrecopy(vfmigBuffer *buf,
                               const char *name,
                               vfmigDomainPolicyPrecopy precopy)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    const char *str;

    if (!precopy || !(str = vfmigDomainPolicyPrecopyTypeToString(precopy)))
        return;
    vfmigBufferAddAttr(&attrBuf, "mode", str);
    vfmigXMLFormatElement(buf, name, &attrBuf, NULL);
}


static void
formatIdentity(vfmigBuffer *buf,
               const vfmigDomainPolicyIdentity *id,
               bool bare)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;

    if (!id)
        return;
    vfmigBufferAddAttr(&attrBuf, "driver", id->driver ? id->driver : "");
    vfmigBufferAsprintf(&attrBuf, " vendor='0x%04x' device='0x%04x'",
                        id->vendor, id->device);
    if (id->firmware && *id->firmware)
        vfmigBufferAddAttr(&attrBuf, "firmware", id->firmware);
    if (id->streamVersion)
        vfmigBufferAsprintf(&attrBuf, " stream-version='%u'", id->streamVersion);
    vfmigBufferAddAttr(&attrBuf, "multi-load", id->multiLoad ? "yes" : "no");
    if (id->stateSize)
        vfmigBufferAsprintf(&attrBuf, " state-size='%llu'", id->stateSize);
    vfmigXMLFormatElement(buf, bare ? "identity" : PFX "identity", &attrBuf, NULL);
}


static void
formatHostdev(vfmigBuffer *buf,
              const vfmigDomainPolicyHostdev *hostdev,
              bool bare)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(buf);

    if (hostdev->alias)
        vfmigBufferAddAttr(&attrBuf, "alias", hostdev->alias);
    else
        formatSource(&childBuf, hostdev, bare);
    vfmigDomainPolicyFormatPrecopy(&childBuf, bare ? "precopy" : PFX "precopy",
                                   hostdev->precopy);
    vfmigDomainPolicyFormatDowntime(&childBuf, bare ? "downtime" : PFX "downtime",
                                    &hostdev->downtime);
    formatIdentity(&childBuf, hostdev->identity, bare);
    vfmigXMLFormatElement(buf, bare ? "hostdev" : PFX "hostdev", &attrBuf, &childBuf);
}


static void
formatPolicy(vfmigBuffer *buf,
             const vfmigDomainPolicy *policy,
             bool bare)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(buf);
    size_t i;

    if (!bare)
        vfmigBufferAddAttr(&attrBuf, "xmlns:" VFMIG_DOMAIN_POLICY_NS_PREFIX, NS_URI);
    if (policy->origin != VFMIG_DOMAIN_POLICY_ORIGIN_USER)
        vfmigBufferAddAttr(&attrBuf, "origin",
                           vfmigDomainPolicyOriginTypeToString(policy->origin));
    if (policy->origin != VFMIG_DOMAIN_POLICY_ORIGIN_USER && policy->flavor)
        vfmigBufferAddAttr(&attrBuf, "flavor", policy->flavor);
    vfmigDomainPolicyFormatDowntime(&childBuf, bare ? "downtime" : PFX "downtime",
                                    &policy->downtime);
    for (i = 0; i < policy->nhostdevs; i++)
        formatHostdev(&childBuf, policy->hostdevs[i], bare);
    vfmigXMLFormatElement(buf, bare ? ROOT_NAME : PFX ROOT_NAME, &attrBuf, &childBuf);
}


void
vfmigDomainPolicyFormat(vfmigBuffer *buf,
                        const vfmigDomainPolicy *policy)
{
    formatPolicy(buf, policy, false);
}


char *
vfmigDomainPolicyFormatString(const vfmigDomainPolicy *policy)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;

    formatPolicy(&buf, policy, false);
    return vfmigBufferContentAndReset(&buf);
}


char *
vfmigDomainPolicyFormatMetadata(const vfmigDomainPolicy *policy)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;

    formatPolicy(&buf, policy, true);
    return vfmigBufferContentAndReset(&buf);
}
