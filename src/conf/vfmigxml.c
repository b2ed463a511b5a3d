/*
 * vfmigxml.c: what every XML parser of src/conf shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <limits.h>
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
