/*
 * vfmignodedevxml.c: the vfio-migration capability in a libvirt
 * node-device document
 *
 * Insertion works on libvirt's text, not on a re-serialized tree: while
 * libxml2 parses, we note where each element begins and ends, and the
 * capability is spliced in before the PCI capability's end tag, so the
 * rest of the document keeps libvirt's own formatting byte for byte.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <limits.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>

#include "vfmigxml.h"
#include "vfmignodedevxml.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"

#define PCI_CAP_XPATH "/device/capability[@type='pci']"
#define OUR_CAP_XPATH "./capability[@type='vfio-migration']"


/* Where each element's text begins and ends, recorded while parsing. */
typedef struct _Spans Spans;
struct _Spans {
    const char *xml;
    size_t len;
    GHashTable *begin;          /* xmlNodePtr -> offset of '<' + 1 */
    GHashTable *end;            /* xmlNodePtr -> offset after the '>' */
};


static size_t
inputOffset(xmlParserCtxtPtr pctxt)
{
    return pctxt->input->consumed + (pctxt->input->cur - pctxt->input->base);
}


/*
 * libxml2's own record_info is no help: before 2.11 it leaves begin_pos
 * uninitialized for every element with content.  So the SAX2 callbacks
 * are wrapped: when an element starts, the parser is inside its start tag
 * (an attribute value cannot hold a raw '<', so the last '<' is where the
 * tag begins); when it ends, the parser is just past its end tag.
 */
static void
spanStartElementNs(void *ctx,
                   const xmlChar *localname,
                   const xmlChar *prefix,
                   const xmlChar *URI,
                   int nb_namespaces,
                   const xmlChar **namespaces,
                   int nb_attributes,
                   int nb_defaulted,
                   const xmlChar **attributes)
{
    xmlParserCtxtPtr pctxt = ctx;
    Spans *spans = pctxt->_private;
    size_t pos = MIN(inputOffset(pctxt), spans->len);

    xmlSAX2StartElementNs(ctx, localname, prefix, URI, nb_namespaces,
                          namespaces, nb_attributes, nb_defaulted, attributes);

    while (pos > 0 && spans->xml[pos - 1] != '<')
        pos--;
    if (pos > 0 && pctxt->node)
        g_hash_table_insert(spans->begin, pctxt->node, GSIZE_TO_POINTER(pos));
}


static void
spanEndElementNs(void *ctx,
                 const xmlChar *localname,
                 const xmlChar *prefix,
                 const xmlChar *URI)
{
    xmlParserCtxtPtr pctxt = ctx;
    Spans *spans = pctxt->_private;

    if (pctxt->node)
        g_hash_table_insert(spans->end, pctxt->node,
                            GSIZE_TO_POINTER(inputOffset(pctxt)));
    xmlSAX2EndElementNs(ctx, localname, prefix, URI);
}


static void
spansFree(Spans *spans)
{
    if (!spans)
        return;
    g_hash_table_unref(spans->begin);
    g_hash_table_unref(spans->end);
    g_free(spans);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Spans, spansFree);


/*
 * Parses @xml (no network, no DTD, no entity substitution, libxml2's own
 * messages suppressed).  With @spansOut, where each element's text is.
 */
static xmlDocPtr
readDoc(const char *xml, const char *what, Spans **spansOut)
{
    g_autoptr(xmlParserCtxt) pctxt = NULL;
    g_autoptr(Spans) spans = NULL;
    size_t len;

    if (!xml) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("no %1$s XML given"), what);
        return NULL;
    }
    len = strlen(xml);
    if (len > INT_MAX) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s XML too large (%2$zu bytes)"), what, len);
        return NULL;
    }

    if (!(pctxt = xmlCreateMemoryParserCtxt(xml, (int) len))) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("cannot create an XML parser for the %1$s"), what);
        return NULL;
    }
    xmlCtxtUseOptions(pctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
                      XML_PARSE_NOWARNING);

    if (spansOut) {
        spans = g_new0(Spans, 1);
        spans->xml = xml;
        spans->len = len;
        spans->begin = g_hash_table_new(NULL, NULL);
        spans->end = g_hash_table_new(NULL, NULL);
        pctxt->_private = spans;
        pctxt->sax->startElementNs = spanStartElementNs;
        pctxt->sax->endElementNs = spanEndElementNs;
    }

    if (xmlParseDocument(pctxt) < 0 || !pctxt->wellFormed || !pctxt->myDoc) {
        g_autofree char *msg = NULL;
        int line = pctxt->lastError.line;

        if (pctxt->lastError.message)
            msg = g_strchomp(g_strdup(pctxt->lastError.message));
        xmlFreeDoc(pctxt->myDoc);
        pctxt->myDoc = NULL;
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("malformed %1$s XML at line %2$d: %3$s"),
                         what, line, msg ? msg : _("unknown error"));
        return NULL;
    }

    if (spansOut)
        *spansOut = g_steal_pointer(&spans);
    return g_steal_pointer(&pctxt->myDoc);
}


vfmigNodeDevCapVFIOMig *
vfmigNodeDevCapVFIOMigParseString(const char *xml)
{
    g_autoptr(xmlDoc) doc = NULL;

    if (!(doc = readDoc(xml, _("vfio-migration capability"), NULL)))
        return NULL;
    return vfmigNodeDevCapVFIOMigParseNode(xmlDocGetRootElement(doc));
}


char *
vfmigNodeDevCapVFIOMigFormatString(const vfmigNodeDevCapVFIOMig *cap)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;

    vfmigNodeDevCapVFIOMigFormat(&buf, cap);
    return vfmigBufferContentAndReset(&buf);
}


/*
 * The nodes @expr selects from @node: at most one, else an error naming
 * @what.  *@out is NULL when there is none.
 */
static int
findOne(xmlXPathContextPtr ctxt,
        xmlNodePtr node,
        const char *expr,
        const char *what,
        xmlNodePtr *out)
{
    g_autoptr(xmlXPathObject) obj = NULL;

    *out = NULL;
    ctxt->node = node;
    obj = xmlXPathEval(BAD_CAST expr, ctxt);
    if (!obj || obj->type != XPATH_NODESET) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("cannot evaluate XPath expression '%1$s'"), expr);
        return -1;
    }
    if (!obj->nodesetval || obj->nodesetval->nodeNr == 0)
        return 0;
    if (obj->nodesetval->nodeNr > 1) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("node device XML has more than one %1$s"), what);
        return -1;
    }
    *out = obj->nodesetval->nodeTab[0];
    return 0;
}


/* The PCI capability of a node-device document and ours inside it. */
static int
findCaps(xmlDocPtr doc, xmlNodePtr *pci, xmlNodePtr *ours)
{
    g_autoptr(xmlXPathContext) ctxt = NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);

    *pci = NULL;
    *ours = NULL;

    if (!root || !xmlStrEqual(root->name, BAD_CAST "device")) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("not a node device XML document: the root element is <%1$s>, not <device>"),
                         root ? (const char *) root->name : "");
        return -1;
    }
    if (!(ctxt = xmlXPathNewContext(doc))) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                         _("cannot create an XPath context"));
        return -1;
    }
    if (findOne(ctxt, root, PCI_CAP_XPATH,
                "<capability type='pci'>", pci) < 0)
        return -1;
    if (*pci &&
        findOne(ctxt, *pci, OUR_CAP_XPATH,
                "<capability type='vfio-migration'>", ours) < 0)
        return -1;
    return 0;
}


int
vfmigNodeDevXMLExtractCap(const char *xml,
                          vfmigNodeDevCapVFIOMig **cap)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNodePtr pci;
    xmlNodePtr ours;

    *cap = NULL;
    if (!(doc = readDoc(xml, _("node device"), NULL)))
        return -1;
    if (findCaps(doc, &pci, &ours) < 0)
        return -1;
    if (!ours)
        return 0;
    if (!(*cap = vfmigNodeDevCapVFIOMigParseNode(ours)))
        return -1;
    return 0;
}


/* Where @node's text begins ('<') and ends (after '>') in the document. */
static int
nodeSpan(Spans *spans,
         xmlNodePtr node,
         size_t *begin,
         size_t *end)
{
    g_autofree char *qname = NULL;
    gpointer b = NULL;
    gpointer e = NULL;
    size_t nameLen;

    if (node->ns && node->ns->prefix)
        qname = g_strdup_printf("%s:%s", node->ns->prefix, node->name);
    else
        qname = g_strdup((const char *) node->name);
    nameLen = strlen(qname);

    if (!g_hash_table_lookup_extended(spans->begin, node, NULL, &b) ||
        !g_hash_table_lookup_extended(spans->end, node, NULL, &e) ||
        GPOINTER_TO_SIZE(b) >= GPOINTER_TO_SIZE(e) ||
        GPOINTER_TO_SIZE(e) > spans->len ||
        spans->xml[GPOINTER_TO_SIZE(e) - 1] != '>' ||
        strncmp(spans->xml + GPOINTER_TO_SIZE(b), qname, nameLen) != 0) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("cannot locate element <%1$s> in the node device XML"),
                         (const char *) node->name);
        return -1;
    }
    *begin = GPOINTER_TO_SIZE(b) - 1;
    *end = GPOINTER_TO_SIZE(e);
    return 0;
}


/*
 * If only blanks precede @pos on its line, the offset of the line's start
 * (and *@indent the number of blanks); else @pos itself.
 */
static size_t
lineStart(const char *xml, size_t pos, int *indent)
{
    size_t p = pos;

    while (p > 0 && (xml[p - 1] == ' ' || xml[p - 1] == '\t'))
        p--;
    if (p > 0 && xml[p - 1] != '\n') {
        if (indent)
            *indent = -1;
        return pos;
    }
    if (indent)
        *indent = (int) (pos - p);
    return p;
}


/* If only blanks follow @pos up to the end of its line, the offset just
 * after that newline; else @pos. */
static size_t
lineEnd(const char *xml, size_t len, size_t pos)
{
    size_t p = pos;

    while (p < len && (xml[p] == ' ' || xml[p] == '\t' || xml[p] == '\r'))
        p++;
    if (p == len)
        return p;
    if (xml[p] == '\n')
        return p + 1;
    return pos;
}


char *
vfmigNodeDevXMLInsertCap(const char *xml,
                         const vfmigNodeDevCapVFIOMig *cap)
{
    g_autoptr(Spans) spans = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    GString *out;
    xmlNodePtr pci;
    xmlNodePtr ours;
    size_t len;
    size_t pciBegin;
    size_t pciEnd;
    size_t endTag;
    size_t ins;
    size_t rmBegin = 0;
    size_t rmEnd = 0;
    int startIndent;
    int endIndent;

    if (!(doc = readDoc(xml, _("node device"), &spans)))
        return NULL;
    if (findCaps(doc, &pci, &ours) < 0)
        return NULL;
    if (!pci) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        g_autofree char *name = NULL;
        xmlNodePtr n;

        for (n = root->children; n; n = n->next) {
            if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "name")) {
                xmlChar *content = xmlNodeGetContent(n);

                name = g_strdup((const char *) content);
                xmlFree(content);
                break;
            }
        }
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("node device '%1$s' has no PCI capability"),
                         name ? name : "");
        return NULL;
    }

    len = strlen(xml);
    if (nodeSpan(spans, pci, &pciBegin, &pciEnd) < 0)
        return NULL;

    /* The end tag is the last markup of the element. */
    endTag = pciEnd - 1;
    while (endTag > pciBegin && xml[endTag] != '<')
        endTag--;
    if (endTag == pciBegin || xml[endTag + 1] != '/') {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("the PCI capability of the node device XML is an empty element"));
        return NULL;
    }

    if (ours) {
        if (nodeSpan(spans, ours, &rmBegin, &rmEnd) < 0)
            return NULL;
        rmBegin = lineStart(xml, rmBegin, NULL);
        rmEnd = lineEnd(xml, len, rmEnd);
    }

    lineStart(xml, pciBegin, &startIndent);
    ins = lineStart(xml, endTag, &endIndent);
    if (ins < rmEnd) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                         _("cannot locate the end of the PCI capability in the node device XML"));
        return NULL;
    }

    out = g_string_sized_new(len + 1024);
    if (ours) {
        g_string_append_len(out, xml, rmBegin);
        g_string_append_len(out, xml + rmEnd, ins - rmEnd);
    } else {
        g_string_append_len(out, xml, ins);
    }
    if (cap) {
        g_auto(vfmigBuffer) capBuf = VFMIG_BUFFER_INITIALIZER;

        if (endIndent >= 0) {
            /* libvirt's layout: the end tag on its own line. */
            vfmigBufferSetIndent(&capBuf, endIndent + 2);
        } else {
            /* Something else: start on a new line, end tag after it. */
            g_string_append_c(out, '\n');
            vfmigBufferSetIndent(&capBuf, MAX(startIndent, 0) + 2);
        }
        vfmigNodeDevCapVFIOMigFormat(&capBuf, cap);
        g_string_append(out, vfmigBufferCurrentContent(&capBuf));
    }
    g_string_append(out, xml + ins);
    return g_string_free(out, FALSE);
}


xmlDocPtr
vfmigNodeDevXMLReadDoc(const char *xml,
                       const char *what)
{
    return readDoc(xml, what, NULL);
}
