/*
 * vfmigxml.c: what every XML parser of src/conf shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

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
