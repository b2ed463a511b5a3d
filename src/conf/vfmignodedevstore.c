/*
 * vfmignodedevstore.c: what vfmig keeps of a node device, as XML
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigxml.h"
#include "vfmignodedevstore.h"
#include "vfmignodedevxml.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"

#define CACHE_ROOT "nodedev-cache"
#define QUALIFIED_ROOT "nodedev-qualification"


/* The document @xml; @what names it in messages. */
static xmlDocPtr
storeReadDoc(const char *xml,
             const char *what)
{
    /* libxml2 makes no parser for an empty buffer: say what it is */
    if (xml && !*xml) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("empty %1$s XML"), what);
        return NULL;
    }
    return vfmigNodeDevXMLReadDoc(xml, what);
}


/* The non-empty attribute @name of @node, or NULL with an error. */
static char *
storeAttr(xmlNodePtr node,
          const char *name)
{
    xmlChar *val = xmlGetNoNsProp(node, BAD_CAST name);
    char *ret;

    if (!val) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("missing attribute '%1$s' of element <%2$s>"),
                         name, (const char *) node->name);
        return NULL;
    }
    if (!*val) {
        xmlFree(val);
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("invalid value '' of attribute '%1$s' of element <%2$s>"),
                         name, (const char *) node->name);
        return NULL;
    }
    ret = g_strdup((const char *) val);
    xmlFree(val);
    return ret;
}


/* The root of @doc, which must be <@name>. */
static xmlNodePtr
storeRoot(xmlDocPtr doc,
          const char *name)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);

    if (!root || !xmlStrEqual(root->name, BAD_CAST name)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("expected a <%1$s> document, got <%2$s>"),
                         name, root ? (const char *) root->name : "");
        return NULL;
    }
    return root;
}


/* The one child element of @parent, which must be <@name>. */
static xmlNodePtr
storeChild(xmlNodePtr parent,
           const char *name)
{
    xmlNodePtr found = NULL;
    xmlNodePtr child;

    for (child = parent->children; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE)
            continue;
        if (!xmlStrEqual(child->name, BAD_CAST name)) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("unknown element <%1$s> in <%2$s>"),
                             (const char *) child->name,
                             (const char *) parent->name);
            return NULL;
        }
        if (found) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("duplicate element <%1$s> in <%2$s>"),
                             name, (const char *) parent->name);
            return NULL;
        }
        found = child;
    }
    if (!found)
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("missing element <%1$s> in <%2$s>"),
                         name, (const char *) parent->name);
    return found;
}


char *
vfmigNodeDevCacheDocFormat(const char *address,
                           const vfmigNodeDevCapVFIOMig *cap)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(&buf);
    vfmigNodeDevCapVFIOMig stored = *cap;

    /* a record of its own, and a live value: neither is cached */
    stored.qualified = NULL;
    stored.live = NULL;

    vfmigBufferAddAttr(&attrBuf, "address", address);
    vfmigNodeDevCapVFIOMigFormat(&childBuf, &stored);
    vfmigXMLFormatElement(&buf, CACHE_ROOT, &attrBuf, &childBuf);
    return vfmigBufferContentAndReset(&buf);
}


int
vfmigNodeDevCacheDocParse(const char *xml,
                          char **address,
                          vfmigNodeDevCapVFIOMig **cap)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(vfmigNodeDevCapVFIOMig) ret = NULL;
    g_autofree char *addr = NULL;
    xmlNodePtr root;
    xmlNodePtr node;

    *address = NULL;
    *cap = NULL;
    if (!(doc = storeReadDoc(xml, _("node-device cache"))) ||
        !(root = storeRoot(doc, CACHE_ROOT)) ||
        !(addr = storeAttr(root, "address")) ||
        !(node = storeChild(root, "capability")) ||
        !(ret = vfmigNodeDevCapVFIOMigParseNode(node)))
        return -1;

    if (ret->qualified || ret->live) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("element <%1$s> in <%2$s>: a cache holds neither the qualification record nor live values"),
                         ret->qualified ? "qualified" : "live", CACHE_ROOT);
        return -1;
    }

    *address = g_steal_pointer(&addr);
    *cap = g_steal_pointer(&ret);
    return 0;
}


char *
vfmigNodeDevQualifiedDocFormat(const char *address,
                               const char *driver,
                               const vfmigNodeDevQualified *q)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(&buf);

    vfmigBufferAddAttr(&attrBuf, "address", address);
    vfmigBufferAddAttr(&attrBuf, "driver", driver);
    vfmigNodeDevQualifiedFormat(&childBuf, q);
    vfmigXMLFormatElement(&buf, QUALIFIED_ROOT, &attrBuf, &childBuf);
    return vfmigBufferContentAndReset(&buf);
}


int
vfmigNodeDevQualifiedDocParse(const char *xml,
                              char **address,
                              char **driver,
                              vfmigNodeDevQualified **q)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *addr = NULL;
    g_autofree char *drv = NULL;
    xmlNodePtr root;
    xmlNodePtr node;

    *address = NULL;
    *driver = NULL;
    *q = NULL;
    if (!(doc = storeReadDoc(xml, _("qualification record"))) ||
        !(root = storeRoot(doc, QUALIFIED_ROOT)) ||
        !(addr = storeAttr(root, "address")) ||
        !(drv = storeAttr(root, "driver")) ||
        !(node = storeChild(root, "qualified")) ||
        !(*q = vfmigNodeDevQualifiedParseNode(node)))
        return -1;

    *address = g_steal_pointer(&addr);
    *driver = g_steal_pointer(&drv);
    return 0;
}
