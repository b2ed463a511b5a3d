/*
 * vfmigxml.c: what every XML parser of src/conf shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "vfmigxml.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"


char *
vfmigXMLPropString(xmlNodePtr node,
                   const char *name)
{
    xmlChar *val = xmlGetNoNsProp(node, BAD_CAST name);
    char *ret;

    if (!val)
        return NULL;
    ret = g_strdup((const char *) val);
    xmlFree(val);
    return ret;
}


int
vfmigXMLAttrString(const vfmigXMLAttrErrors *err,
                   xmlNodePtr node,
                   const char *attr,
                   bool required,
                   char **out)
{
    g_autofree char *val = vfmigXMLPropString(node, attr);

    if (!val)
        return required ? err->missing(node, attr) : 0;
    if (!*val)
        return err->invalid(node, attr, val, _("it is empty"));
    *out = g_steal_pointer(&val);
    return 0;
}


int
vfmigXMLAttrULL(const vfmigXMLAttrErrors *err,
                xmlNodePtr node,
                const char *attr,
                bool required,
                unsigned long long min,
                unsigned long long max,
                const char *what,
                unsigned long long *out)
{
    g_autofree char *val = vfmigXMLPropString(node, attr);
    unsigned long long v;
    const char *p;
    char *end = NULL;

    if (!val)
        return required ? err->missing(node, attr) : 0;
    for (p = val; *p; p++) {
        if (!g_ascii_isdigit(*p))
            break;
    }
    errno = 0;
    v = *val && !*p ? g_ascii_strtoull(val, &end, 10) : 0;
    if (!*val || *p || errno != 0 || *end || v < min || v > max) {
        g_autofree char *why = g_strdup_printf(_("%1$s is a decimal number from %2$llu to %3$llu"),
                                               what ? what : attr, min, max);
        return err->invalid(node, attr, val, why);
    }
    *out = v;
    return 0;
}


int
vfmigXMLAttrHex(const vfmigXMLAttrErrors *err,
                xmlNodePtr node,
                const char *attr,
                size_t digits,
                unsigned long long max,
                unsigned int *out)
{
    g_autofree char *val = vfmigXMLPropString(node, attr);
    size_t len;
    unsigned long long v;
    size_t i;

    if (!val)
        return err->missing(node, attr);
    len = strlen(val);
    if (len < 3 || len > digits + 2 || val[0] != '0' ||
        (val[1] != 'x' && val[1] != 'X'))
        goto invalid;
    for (i = 2; i < len; i++) {
        if (!g_ascii_isxdigit(val[i]))
            goto invalid;
    }
    v = g_ascii_strtoull(val + 2, NULL, 16);
    if (v > max)
        goto invalid;
    *out = (unsigned int) v;
    return 0;

 invalid:
    {
        g_autofree char *why = g_strdup_printf(_("expected '0x' and hex digits (%1$zu at most) for a value up to 0x%2$llx"),
                                               digits, max);
        return err->invalid(node, attr, val, why);
    }
}


int
vfmigXMLAttrYesNo(const vfmigXMLAttrErrors *err,
                  xmlNodePtr node,
                  const char *attr,
                  bool *out)
{
    g_autofree char *val = vfmigXMLPropString(node, attr);

    if (!val)
        return err->missing(node, attr);
    if (strcmp(val, "yes") == 0)
        *out = true;
    else if (strcmp(val, "no") == 0)
        *out = false;
    else
        return err->invalid(node, attr, val, _("expected yes or no"));
    return 0;
}


int
vfmigXMLAttrEnum(const vfmigXMLAttrErrors *err,
                 xmlNodePtr node,
                 const char *attr,
                 bool required,
                 int (*fromString)(const char *),
                 const char *(*toString)(int),
                 int min,
                 int *out)
{
    g_autofree char *val = vfmigXMLPropString(node, attr);
    g_autoptr(GString) words = NULL;
    g_autofree char *why = NULL;
    const char *w;
    int v;
    int i;

    if (!val)
        return required ? err->missing(node, attr) : 0;
    if ((v = fromString(val)) >= min) {
        *out = v;
        return 0;
    }
    if (toString) {
        words = g_string_new(NULL);
        for (i = min; (w = toString(i)); i++) {
            if (words->len)
                g_string_append(words, ", ");
            g_string_append(words, w);
        }
        why = g_strdup_printf(_("expected one of %1$s"), words->str);
    }
    return err->invalid(node, attr, val, why);
}


xmlDocPtr
vfmigXMLReadDoc(const char *xml,
                const char *what)
{
    xmlDocPtr doc;
    size_t len;

    if (!xml) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, _("no %1$s XML given"), what);
        return NULL;
    }
    len = strlen(xml);
    if (len > INT_MAX) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s XML too large (%2$zu bytes)"), what, len);
        return NULL;
    }
    xmlResetLastError();
    doc = xmlReadMemory(xml, (int) len, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *err = xmlGetLastError();
        g_autofree char *msg = NULL;

        if (err && err->message)
            msg = g_strchomp(g_strdup(err->message));
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("malformed %1$s XML at line %2$d: %3$s"),
                         what, err ? err->line : 0,
                         msg ? msg : _("unknown error"));
        return NULL;
    }
    return doc;
}


/* ------------------------------------------------------------------ */
/* Strict documents                                                    */
/* ------------------------------------------------------------------ */

bool
vfmigXMLStrictIsElement(const vfmigXMLStrict *doc,
                        xmlNodePtr node,
                        const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns &&
        xmlStrEqual(node->ns->href, BAD_CAST doc->nsURI) &&
        (!name || xmlStrEqual(node->name, BAD_CAST name));
}


char *
vfmigXMLStrictPath(const vfmigXMLStrict *doc,
                   xmlNodePtr node)
{
    g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
    GString *path = g_string_new(NULL);
    xmlNodePtr n;

    for (n = node; vfmigXMLStrictIsElement(doc, n, NULL); n = n->parent) {
        xmlNodePtr s;
        size_t pos = 1;
        size_t total = 0;

        for (s = n->parent ? n->parent->children : n; s; s = s->next) {
            if (!vfmigXMLStrictIsElement(doc, s, (const char *) n->name))
                continue;
            total++;
            if (s == n)
                pos = total;
        }
        if (total > 1)
            g_ptr_array_add(parts, g_strdup_printf("%s%s[%zu]", doc->prefix, n->name, pos));
        else
            g_ptr_array_add(parts, g_strdup_printf("%s%s", doc->prefix, n->name));
        if (xmlStrEqual(n->name, BAD_CAST doc->root))
            break;
    }
    while (parts->len > 0) {
        if (path->len)
            g_string_append_c(path, '/');
        g_string_append(path, g_ptr_array_index(parts, parts->len - 1));
        g_ptr_array_remove_index(parts, parts->len - 1);
    }
    return g_string_free(path, FALSE);
}


int
vfmigXMLStrictReport(const vfmigXMLStrict *doc,
                     xmlNodePtr node,
                     const char *fmt,
                     ...)
{
    g_autofree char *path = vfmigXMLStrictPath(doc, node);
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vfmigReportError(VFMIG_ERR_INVALID_ARG, _("invalid %1$s: %2$s: %3$s"),
                     _(doc->what), path, why);
    return -1;
}


int
vfmigXMLStrictCheckAttrs(const vfmigXMLStrict *doc,
                         xmlNodePtr node,
                         const char *const *names)
{
    xmlAttrPtr attr;
    size_t i;

    for (attr = node->properties; attr; attr = attr->next) {
        bool known = false;

        for (i = 0; names && names[i]; i++) {
            if (!attr->ns && xmlStrEqual(attr->name, BAD_CAST names[i])) {
                known = true;
                break;
            }
        }
        if (!known)
            return vfmigXMLStrictReport(doc, node, _("unknown attribute '%1$s'"),
                                        (const char *) attr->name);
    }
    return 0;
}


/* Refuses text of @node's child @child other than blanks. */
static int
strictCheckText(const vfmigXMLStrict *doc,
                xmlNodePtr node,
                xmlNodePtr child)
{
    const xmlChar *p;

    for (p = child->content; p && *p; p++) {
        if (!g_ascii_isspace(*p)) {
            g_autofree char *text = g_strstrip(g_strdup((const char *) child->content));

            if (g_utf8_strlen(text, -1) > 40)
                *g_utf8_offset_to_pointer(text, 40) = '\0';
            return vfmigXMLStrictReport(doc, node,
                                        _("unexpected text '%1$s': the policy is in elements and attributes only"),
                                        text);
        }
    }
    return 0;
}


int
vfmigXMLStrictCheckChildren(const vfmigXMLStrict *doc,
                            xmlNodePtr node,
                            const char *const *names)
{
    xmlNodePtr child;
    size_t i;

    for (child = node->children; child; child = child->next) {
        bool known = false;

        if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) {
            if (strictCheckText(doc, node, child) < 0)
                return -1;
            continue;
        }
        if (child->type != XML_ELEMENT_NODE)
            continue;
        if (!child->ns) {
            return vfmigXMLStrictReport(doc, node,
                                        _("unknown element <%1$s> in no namespace: only elements of the namespace '%2$s' are allowed"),
                                        (const char *) child->name, doc->nsURI);
        }
        if (!vfmigXMLStrictIsElement(doc, child, NULL)) {
            return vfmigXMLStrictReport(doc, node,
                                        _("unknown element <%1$s> in the namespace '%2$s': only elements of the namespace '%3$s' are allowed"),
                                        (const char *) child->name,
                                        (const char *) child->ns->href, doc->nsURI);
        }
        for (i = 0; names && names[i]; i++) {
            if (xmlStrEqual(child->name, BAD_CAST names[i])) {
                known = true;
                break;
            }
        }
        if (!known)
            return vfmigXMLStrictReport(doc, node, _("unknown element <%1$s%2$s>"),
                                        doc->prefix, (const char *) child->name);
    }
    return 0;
}


int
vfmigXMLStrictFindChildren(const vfmigXMLStrict *doc,
                           xmlNodePtr node,
                           const char *const *names,
                           xmlNodePtr *out)
{
    guint32 repeated = 0;
    xmlNodePtr child;
    size_t i;

    for (i = 0; names[i]; i++) {
        g_assert(i < 32);
        out[i] = NULL;
    }
    for (child = node->children; child; child = child->next) {
        if (!vfmigXMLStrictIsElement(doc, child, NULL))
            continue;
        for (i = 0; names[i]; i++) {
            if (!xmlStrEqual(child->name, BAD_CAST names[i]))
                continue;
            if (out[i])
                repeated |= 1U << i;
            else
                out[i] = child;
            break;
        }
    }
    for (i = 0; names[i]; i++) {
        if (repeated & (1U << i))
            return vfmigXMLStrictReport(doc, node, _("more than one <%1$s%2$s>"),
                                        doc->prefix, names[i]);
    }
    return 0;
}
