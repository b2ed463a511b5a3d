/*
 * vfmighostpolicy.c: parse and format the host's default migration policy
 *
 * The document is in one default namespace: errors name an element by its
 * path from <hostpolicy> without a prefix, hostpolicy/flavor[2]/downtime.
 * One pass over <hostpolicy>'s children; the flavors are counted before
 * any is read, and each name is looked up in a hash table of the earlier
 * ones.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmighostpolicy.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigxml.h"

#define NS_URI VFMIG_HOST_POLICY_NS_URI
#define ROOT_NAME "hostpolicy"

static const vfmigXMLStrict hostDoc = {
    .nsURI = NS_URI,
    .prefix = "",
    .root = ROOT_NAME,
    .what = N_("host policy"),
};


void
vfmigHostPolicyEntryFree(vfmigHostPolicyEntry *entry)
{
    if (!entry)
        return;
    g_free(entry->flavor);
    g_free(entry);
}


void
vfmigHostPolicyFree(vfmigHostPolicy *policy)
{
    size_t i;

    if (!policy)
        return;
    for (i = 0; i < policy->nflavors; i++)
        vfmigHostPolicyEntryFree(policy->flavors[i]);
    g_free(policy->flavors);
    vfmigHostPolicyEntryFree(policy->def);
    g_free(policy);
}


/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

static int
reportMissingAttr(xmlNodePtr node,
                  const char *attr)
{
    return vfmigXMLStrictReport(&hostDoc, node, _("missing attribute '%1$s'"), attr);
}


static int
reportBadAttr(xmlNodePtr node,
              const char *attr,
              const char *val,
              const char *why)
{
    return vfmigXMLStrictReport(&hostDoc, node,
                                _("invalid value '%1$s' of attribute '%2$s': %3$s"),
                                val, attr, why);
}


static const vfmigXMLAttrErrors attrErr = {
    .missing = reportMissingAttr,
    .invalid = reportBadAttr,
};


/* The name of <flavor> @node: 1 to VFMIG_DOMAIN_POLICY_FLAVOR_MAX
 * characters. */
static int
parseFlavorName(xmlNodePtr node,
                char **name)
{
    g_autofree char *val = NULL;

    if (vfmigXMLAttrString(&attrErr, node, "name", true, &val) < 0)
        return -1;
    if (g_utf8_strlen(val, -1) > VFMIG_DOMAIN_POLICY_FLAVOR_MAX) {
        g_autofree char *why = g_strdup_printf(_("a flavor name has at most %1$d characters"),
                                               VFMIG_DOMAIN_POLICY_FLAVOR_MAX);

        return reportBadAttr(node, "name", val, why);
    }
    *name = g_steal_pointer(&val);
    return 0;
}


/* A <flavor name=> (@isFlavor) or the <default>: its settings, each at
 * most once. */
static int
parseEntry(xmlNodePtr node,
           bool isFlavor,
           vfmigHostPolicyEntry **out)
{
    static const char *const flavorAttrs[] = { "name", NULL };
    enum { DOWNTIME, PRECOPY, NCHILDREN };
    static const char *const children[NCHILDREN + 1] = {
        [DOWNTIME] = "downtime", [PRECOPY] = "precopy", NULL,
    };
    g_autoptr(vfmigHostPolicyEntry) entry = g_new0(vfmigHostPolicyEntry, 1);
    xmlNodePtr child[NCHILDREN];

    if (vfmigXMLStrictCheckAttrs(&hostDoc, node, isFlavor ? flavorAttrs : NULL) < 0 ||
        (isFlavor && parseFlavorName(node, &entry->flavor) < 0) ||
        vfmigXMLStrictCheckChildren(&hostDoc, node, children) < 0 ||
        vfmigXMLStrictFindChildren(&hostDoc, node, children, child) < 0 ||
        (child[DOWNTIME] &&
         vfmigDomainPolicyParseDowntime(&hostDoc, &attrErr, child[DOWNTIME],
                                        &entry->downtime) < 0) ||
        (child[PRECOPY] &&
         vfmigDomainPolicyParsePrecopy(&hostDoc, &attrErr, child[PRECOPY],
                                       &entry->precopy) < 0))
        return -1;
    *out = g_steal_pointer(&entry);
    return 0;
}


/* Refuses @node unless it is a <hostpolicy> in our namespace. */
static int
checkRoot(xmlNodePtr node)
{
    const char *name = node && node->name ? (const char *) node->name : "";

    if (vfmigXMLStrictIsElement(&hostDoc, node, ROOT_NAME))
        return 0;
    if (node && node->ns && node->ns->href)
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("invalid host policy: expected the element <hostpolicy> in the namespace '%1$s', got <%2$s> in the namespace '%3$s'"),
                         NS_URI, name, (const char *) node->ns->href);
    else
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("invalid host policy: expected the element <hostpolicy> in the namespace '%1$s', got <%2$s> in no namespace: write <hostpolicy xmlns='%3$s'>"),
                         NS_URI, name, NS_URI);
    return -1;
}


/* The <flavor> elements of <hostpolicy> @node, within the limit. */
static int
listFlavors(xmlNodePtr node,
            GPtrArray *nodes)
{
    xmlNodePtr child;

    for (child = node->children; child; child = child->next) {
        if (vfmigXMLStrictIsElement(&hostDoc, child, "flavor"))
            g_ptr_array_add(nodes, child);
    }
    if (nodes->len > VFMIG_HOST_POLICY_FLAVORS_MAX)
        return vfmigXMLStrictReport(&hostDoc,
                                    g_ptr_array_index(nodes, VFMIG_HOST_POLICY_FLAVORS_MAX),
                                    _("an entry beyond the limit of %1$d <flavor> entries"),
                                    VFMIG_HOST_POLICY_FLAVORS_MAX);
    return 0;
}


static vfmigHostPolicy *
parsePolicy(xmlNodePtr node)
{
    static const char *const children[] = { "flavor", "default", NULL };
    static const char *const once[] = { "default", NULL };
    g_autoptr(vfmigHostPolicy) policy = g_new0(vfmigHostPolicy, 1);
    g_autoptr(GPtrArray) nodes = g_ptr_array_new();
    /* name -> the element of the first entry with it */
    g_autoptr(GHashTable) byName = g_hash_table_new(g_str_hash, g_str_equal);
    xmlNodePtr def;
    size_t i;

    if (vfmigXMLStrictCheckAttrs(&hostDoc, node, NULL) < 0 ||
        vfmigXMLStrictCheckChildren(&hostDoc, node, children) < 0 ||
        vfmigXMLStrictFindChildren(&hostDoc, node, once, &def) < 0 ||
        listFlavors(node, nodes) < 0)
        return NULL;

    policy->flavors = g_new0(vfmigHostPolicyEntry *, nodes->len);
    for (i = 0; i < nodes->len; i++) {
        xmlNodePtr fnode = g_ptr_array_index(nodes, i);
        vfmigHostPolicyEntry *entry;
        xmlNodePtr first;

        if (parseEntry(fnode, true, &policy->flavors[i]) < 0)
            return NULL;
        policy->nflavors++;
        entry = policy->flavors[i];
        if ((first = g_hash_table_lookup(byName, entry->flavor))) {
            g_autofree char *firstPath = vfmigXMLStrictPath(&hostDoc, first);

            vfmigXMLStrictReport(&hostDoc, fnode,
                                 _("a second entry for the flavor '%1$s': the first is %2$s"),
                                 entry->flavor, firstPath);
            return NULL;
        }
        g_hash_table_insert(byName, entry->flavor, fnode);
    }
    if (def && parseEntry(def, false, &policy->def) < 0)
        return NULL;
    return g_steal_pointer(&policy);
}


vfmigHostPolicy *
vfmigHostPolicyParseString(const char *xml)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNodePtr root;

    if (xml && strnlen(xml, VFMIG_HOST_POLICY_SIZE_MAX + 1) > VFMIG_HOST_POLICY_SIZE_MAX) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("invalid host policy: larger than the limit of %1$d bytes"),
                         VFMIG_HOST_POLICY_SIZE_MAX);
        return NULL;
    }
    if (!(doc = vfmigXMLReadDoc(xml, _("host policy"))))
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (checkRoot(root) < 0)
        return NULL;
    return parsePolicy(root);
}


const vfmigHostPolicyEntry *
vfmigHostPolicyLookup(const vfmigHostPolicy *policy,
                      const char *flavor)
{
    size_t i;

    for (i = 0; flavor && i < policy->nflavors; i++) {
        if (strcmp(policy->flavors[i]->flavor, flavor) == 0)
            return policy->flavors[i];
    }
    return policy->def;
}


/* ------------------------------------------------------------------ */
/* Formatting                                                          */
/* ------------------------------------------------------------------ */

static void
formatEntry(vfmigBuffer *buf,
            const vfmigHostPolicyEntry *entry)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(buf);

    if (entry->flavor)
        vfmigBufferAddAttr(&attrBuf, "name", entry->flavor);
    vfmigDomainPolicyFormatDowntime(&childBuf, "downtime", &entry->downtime);
    vfmigDomainPolicyFormatPrecopy(&childBuf, "precopy", entry->precopy);
    vfmigXMLFormatElement(buf, entry->flavor ? "flavor" : "default", &attrBuf, &childBuf);
}


void
vfmigHostPolicyFormat(vfmigBuffer *buf,
                      const vfmigHostPolicy *policy)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(buf);
    size_t i;

    vfmigBufferAddAttr(&attrBuf, "xmlns", NS_URI);
    for (i = 0; i < policy->nflavors; i++)
        formatEntry(&childBuf, policy->flavors[i]);
    if (policy->def)
        formatEntry(&childBuf, policy->def);
    vfmigXMLFormatElement(buf, ROOT_NAME, &attrBuf, &childBuf);
}


char *
vfmigHostPolicyFormatString(const vfmigHostPolicy *policy)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;

    vfmigHostPolicyFormat(&buf, policy);
    return vfmigBufferContentAndReset(&buf);
}
