/*
 * vfmigxml.h: what every XML parser of src/conf shares (libvirt's virxml
 * in spirit): automatic cleanup of libxml2's types and the typed
 * attribute reader they all start from.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject);

/* The attribute @name (in no namespace) of @node as a GLib string, or
 * NULL when it is absent. */
char *vfmigXMLPropString(xmlNodePtr node,
                         const char *name);

/*
 * Parses the document @xml (no network, no DTD loading, no entities
 * substituted, libxml2's own messages suppressed, whitespace kept); @what
 * names the document in errors ("domain").  NULL with an error.
 */
xmlDocPtr vfmigXMLReadDoc(const char *xml,
                          const char *what);
