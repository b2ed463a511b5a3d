/*
 * vfmigxml.h: what every XML parser of src/conf shares (libvirt's virxml
 * in spirit): automatic cleanup of libxml2's types and the typed
 * attribute reader they all start from.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

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
 * How a parser words an attribute's errors (each parser has its own
 * message frame).  Both return -1 after reporting.  @why says the rule
 * the value breaks; a parser may leave it out of its message.
 */
typedef struct _vfmigXMLAttrErrors vfmigXMLAttrErrors;
struct _vfmigXMLAttrErrors {
    int (*missing)(xmlNodePtr node, const char *attr);
    int (*invalid)(xmlNodePtr node, const char *attr, const char *val,
                   const char *why);
};

/*
 * The typed attribute readers.  Absent: an error when @required, else 0
 * with *@out unchanged.  Present and valid: *@out set, 0.  Otherwise -1
 * with the error reported through @err.
 */
/* A non-empty string. */
int vfmigXMLAttrString(const vfmigXMLAttrErrors *err, xmlNodePtr node,
                       const char *attr, bool required, char **out);
/* A decimal number @min..@max, digits only (no sign, no blanks); @what
 * names it in the rule ("the target"; NULL: the attribute's name). */
int vfmigXMLAttrULL(const vfmigXMLAttrErrors *err, xmlNodePtr node,
                    const char *attr, bool required,
                    unsigned long long min, unsigned long long max,
                    const char *what, unsigned long long *out);
/* "0x" and one to @digits hex digits, at most @max (libvirt's PCI ids
 * and addresses); always required. */
int vfmigXMLAttrHex(const vfmigXMLAttrErrors *err, xmlNodePtr node,
                    const char *attr, size_t digits, unsigned long long max,
                    unsigned int *out);
/* 'yes' or 'no'; always required. */
int vfmigXMLAttrYesNo(const vfmigXMLAttrErrors *err, xmlNodePtr node,
                      const char *attr, bool *out);
/* A name of an enum table: @fromString's value, at least @min; the
 * rule lists @toString's names from @min on (NULL: no list). */
int vfmigXMLAttrEnum(const vfmigXMLAttrErrors *err, xmlNodePtr node,
                     const char *attr, bool required,
                     int (*fromString)(const char *),
                     const char *(*toString)(int),
                     int min, int *out);

/*
 * Parses the document @xml (no network, no DTD loading, no entities
 * substituted, libxml2's own messages suppressed, whitespace kept); @what
 * names the document in errors ("domain").  NULL with an error.
 */
xmlDocPtr vfmigXMLReadDoc(const char *xml,
                          const char *what);

/*
 * A strict document in one namespace (the domain migration policy, the
 * host policy), as its parser refuses what its schema refuses.  Elements
 * are matched by namespace URI and local name, never by prefix;
 * attributes are in no namespace.  An error names the element by its
 * path from the root: each element as @prefix and its name, with its
 * position among its siblings of that name when it has any ([1] is the
 * first), "vfmig:migration/vfmig:hostdev[2]/vfmig:downtime".
 */
typedef struct _vfmigXMLStrict vfmigXMLStrict;
struct _vfmigXMLStrict {
    const char *nsURI;      /* the namespace of every element */
    const char *prefix;     /* how paths and messages spell it: "vfmig:",
                             * or "" for a default namespace */
    const char *root;       /* the root element's local name */
    const char *what;       /* N_() marked: "domain migration policy" */
};

/* Whether @node is an element in @doc's namespace (named @name; NULL:
 * any name). */
bool vfmigXMLStrictIsElement(const vfmigXMLStrict *doc,
                             xmlNodePtr node,
                             const char *name);

/* The path of the element @node from @doc's root. */
char *vfmigXMLStrictPath(const vfmigXMLStrict *doc,
                         xmlNodePtr node);

/* Reports "invalid WHAT: PATH: WHY" about @node (VFMIG_ERR_INVALID_ARG);
 * returns -1. */
int vfmigXMLStrictReport(const vfmigXMLStrict *doc,
                         xmlNodePtr node,
                         const char *fmt,
                         ...)
    G_GNUC_PRINTF(3, 4);

/* Refuses an attribute of @node not in @names (NULL-terminated; NULL:
 * none allowed).  0 or -1. */
int vfmigXMLStrictCheckAttrs(const vfmigXMLStrict *doc,
                             xmlNodePtr node,
                             const char *const *names);

/* Refuses an element child of @node other than @doc's named in @names
 * (NULL-terminated; NULL: none allowed), and text other than blanks.
 * 0 or -1. */
int vfmigXMLStrictCheckChildren(const vfmigXMLStrict *doc,
                                xmlNodePtr node,
                                const char *const *names);

/*
 * The one child of @node for each name of @names (at most 32,
 * NULL-terminated), into the same place of @out, NULL where there is
 * none: one pass over the children.  More than one of a name is refused,
 * for the first such name of @names.  0 or -1.
 */
int vfmigXMLStrictFindChildren(const vfmigXMLStrict *doc,
                               xmlNodePtr node,
                               const char *const *names,
                               xmlNodePtr *out);
