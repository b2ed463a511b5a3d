/*
 * vfmignodedevconf.c: parse and format the vfio-migration node-device
 * capability
 *
 * The parser is strict, as libvirt's schema is: an unknown or repeated
 * element, an unknown attribute value, a malformed number or a missing
 * required part is refused with an error that names it.  The formatter
 * writes elements and attributes in a fixed order and nothing for absent
 * optional parts, so parse -> format is the identity on its own output.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <string.h>

#include "vfmigxml.h"
#include "vfmignodedevconf.h"
#include "vfmigenum.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"

#define CAP_TYPE "vfio-migration"

VFMIG_ENUM_IMPL(vfmigNodeDevSourceType, VFMIG_NODEDEV_SOURCE_LAST,
                "sysfs",
                "debugfs",
                "vfio",
                "cache",
);

VFMIG_ENUM_IMPL(vfmigNodeDevDirtyType, VFMIG_NODEDEV_DIRTY_LAST,
                "none",
                "device",
                "iommu",
);

VFMIG_ENUM_IMPL(vfmigNodeDevPrecopyType, VFMIG_NODEDEV_PRECOPY_LAST,
                "default",
                "on",
                "single",
                "off",
);

VFMIG_ENUM_IMPL(vfmigNodeDevVerdictType, VFMIG_NODEDEV_VERDICT_LAST,
                "qualified",
                "qualified-with-warnings",
                "not-qualified",
);

/* Child elements of the capability, in the order they are formatted. */
static const char *const capElems[] = {
    "driver",
    "features",
    "dirty-tracking",
    "identity",
    "qualified",
    "live",
};

/* The measured figures of <qualified>: all of them or none. */
#define QUALIFIED_MEASURED_ATTRS 5


char *
vfmigNodeDevFeaturesToString(unsigned int features)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    size_t i;

    for (i = 0; i < VFMIG_FEATURE_LAST; i++) {
        if (!(features & (1U << i)))
            continue;
        if (buf->len)
            g_string_append_c(buf, ' ');
        g_string_append(buf, vfmigFeatureToString(i));
    }
    return g_string_free(g_steal_pointer(&buf), FALSE);
}


vfmigNodeDevQualified *
vfmigNodeDevQualifiedCopy(const vfmigNodeDevQualified *q)
{
    vfmigNodeDevQualified *ret;

    if (!q)
        return NULL;
    ret = g_memdup2(q, sizeof(*q));
    ret->peer = g_strdup(q->peer);
    return ret;
}


void
vfmigNodeDevQualifiedFree(vfmigNodeDevQualified *q)
{
    if (!q)
        return;
    g_free(q->peer);
    g_free(q);
}


char *
vfmigNodeDevQualifiedFormatTime(gint64 at)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(at);

    if (!dt)
        return NULL;
    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}


int
vfmigNodeDevQualifiedParseTime(const char *str, gint64 *at)
{
    /* "YYYY-MM-DDTHH:MM:SSZ": digits where the template has 'd' */
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    g_autoptr(GDateTime) dt = NULL;
    g_autofree char *back = NULL;
    size_t i;

    if (!str || strlen(str) != sizeof(shape) - 1)
        return -1;
    for (i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? !g_ascii_isdigit(str[i]) : str[i] != shape[i])
            return -1;
    }
    /* GLib accepts 24:00:00 and leap seconds' 60 by rolling over: only a
     * time that prints back the same is a real one */
    if (!(dt = g_date_time_new_from_iso8601(str, NULL)))
        return -1;
    back = vfmigNodeDevQualifiedFormatTime(g_date_time_to_unix(dt));
    if (!back || strcmp(back, str) != 0)
        return -1;
    *at = g_date_time_to_unix(dt);
    return 0;
}


void
vfmigNodeDevLiveFree(vfmigNodeDevLive *live)
{
    if (!live)
        return;
    g_free(live->driver);
    g_free(live->state);
    g_free(live);
}


bool
vfmigNodeDevLiveStopCopyIsResidue(const vfmigNodeDevLive *live)
{
    switch (live->stopCopyKind) {
    case VFMIG_NODEDEV_STOP_COPY_RESIDUE:
        return true;
    case VFMIG_NODEDEV_STOP_COPY_WHOLE:
        return false;
    case VFMIG_NODEDEV_STOP_COPY_UNSAID:
    case VFMIG_NODEDEV_STOP_COPY_LAST:
    default:
        break;
    }
    return !vfmigDriverStopCopyIsWholeState(live->driver);
}


void
vfmigNodeDevCapVFIOMigFree(vfmigNodeDevCapVFIOMig *cap)
{
    if (!cap)
        return;

    g_free(cap->driver);
    g_free(cap->dirtyReason);
    g_free(cap->firmware);
    vfmigNodeDevQualifiedFree(cap->qualified);
    vfmigNodeDevLiveFree(cap->live);
    g_free(cap);
}


/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */


static int
reportMissingAttr(xmlNodePtr node, const char *attr)
{
    vfmigReportError(VFMIG_ERR_INVALID_ARG,
                     _("missing attribute '%1$s' of element <%2$s> in the vfio-migration capability"),
                     attr, (const char *) node->name);
    return -1;
}


/* The value's rule (@why) is not in these messages. */
static int
reportBadAttr(xmlNodePtr node,
              const char *attr,
              const char *val,
              const char *why G_GNUC_UNUSED)
{
    vfmigReportError(VFMIG_ERR_INVALID_ARG,
                     _("invalid value '%1$s' of attribute '%2$s' of element <%3$s> in the vfio-migration capability"),
                     val, attr, (const char *) node->name);
    return -1;
}


static const vfmigXMLAttrErrors attrErr = {
    .missing = reportMissingAttr,
    .invalid = reportBadAttr,
};


/*
 * The single child element @name of the context node, or NULL when there
 * is none; more than one is an error.  Returns 0 or -1.
 */
static int
xpathChild(xmlXPathContextPtr ctxt,
           const char *parent,
           const char *name,
           bool required,
           xmlNodePtr *out)
{
    g_autofree char *expr = g_strdup_printf("./%s", name);
    xmlXPathObjectPtr obj;
    int n = 0;

    *out = NULL;
    obj = xmlXPathEval(BAD_CAST expr, ctxt);
    if (!obj || obj->type != XPATH_NODESET) {
        xmlXPathFreeObject(obj);
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("cannot evaluate XPath expression '%1$s'"), expr);
        return -1;
    }
    if (obj->nodesetval)
        n = obj->nodesetval->nodeNr;
    if (n > 1) {
        xmlXPathFreeObject(obj);
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("duplicate element <%1$s> in <%2$s> of the vfio-migration capability"),
                         name, parent);
        return -1;
    }
    if (n == 1)
        *out = obj->nodesetval->nodeTab[0];
    xmlXPathFreeObject(obj);

    if (!*out && required) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("missing element <%1$s> in <%2$s> of the vfio-migration capability"),
                         name, parent);
        return -1;
    }
    return 0;
}


/* Refuses element children of @node whose names are not in @names. */
static int
checkChildren(xmlNodePtr node, const char *const *names, size_t n)
{
    xmlNodePtr child;
    size_t i;

    for (child = node->children; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE)
            continue;
        for (i = 0; i < n; i++) {
            if (xmlStrEqual(child->name, BAD_CAST names[i]))
                break;
        }
        if (i == n) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("unknown element <%1$s> in <%2$s> of the vfio-migration capability"),
                             (const char *) child->name, (const char *) node->name);
            return -1;
        }
    }
    return 0;
}


static int
parseDriver(vfmigNodeDevCapVFIOMig *cap, xmlNodePtr node)
{
    if (checkChildren(node, NULL, 0) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "name", true, &cap->driver) < 0 ||
        vfmigXMLAttrYesNo(&attrErr, node, "variant", &cap->variant) < 0)
        return -1;
    return 0;
}


static int
parseFeatures(vfmigNodeDevCapVFIOMig *cap,
              xmlXPathContextPtr ctxt,
              xmlNodePtr node)
{
    const char *names[VFMIG_FEATURE_LAST];
    int source = 0;
    int mode = VFMIG_NODEDEV_PRECOPY_DEFAULT;
    size_t i;

    if (vfmigXMLAttrEnum(&attrErr, node, "source", true,
                         vfmigNodeDevSourceTypeFromString, NULL, 0,
                         &source) < 0)
        return -1;
    cap->source = source;

    for (i = 0; i < VFMIG_FEATURE_LAST; i++)
        names[i] = vfmigFeatureToString(i);
    if (checkChildren(node, names, G_N_ELEMENTS(names)) < 0)
        return -1;

    ctxt->node = node;
    for (i = 0; i < VFMIG_FEATURE_LAST; i++) {
        xmlNodePtr feat;

        if (xpathChild(ctxt, "features", vfmigFeatureToString(i), false, &feat) < 0)
            return -1;
        if (!feat)
            continue;
        if (checkChildren(feat, NULL, 0) < 0)
            return -1;

        if ((1u << i) == VFMIG_NODEDEV_FEATURE_PRE_COPY) {
            /* mode='default' is the "not reported" value, not XML. */
            if (vfmigXMLAttrEnum(&attrErr, feat, "mode", false,
                                 vfmigNodeDevPrecopyTypeFromString, NULL,
                                 VFMIG_NODEDEV_PRECOPY_ON, &mode) < 0)
                return -1;
            cap->precopy = mode;
            /* The driver can pre-copy but has it switched off: QEMU sees
             * no PRE_COPY flag. */
            if (mode == VFMIG_NODEDEV_PRECOPY_OFF)
                continue;
        }
        cap->features |= (1u << i);
    }
    return 0;
}


static int
parseDirty(vfmigNodeDevCapVFIOMig *cap, xmlNodePtr node)
{
    int dirty = 0;

    if (checkChildren(node, NULL, 0) < 0 ||
        vfmigXMLAttrEnum(&attrErr, node, "type", true,
                         vfmigNodeDevDirtyTypeFromString, NULL, 0,
                         &dirty) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "reason", false,
                           &cap->dirtyReason) < 0)
        return -1;
    cap->dirty = dirty;
    return 0;
}


static int
parseIdentity(vfmigNodeDevCapVFIOMig *cap, xmlNodePtr node)
{
    unsigned long long stream = 0;

    if (checkChildren(node, NULL, 0) < 0 ||
        vfmigXMLAttrHex(&attrErr, node, "vendor", 4, 0xffff,
                        &cap->vendor) < 0 ||
        vfmigXMLAttrHex(&attrErr, node, "device", 4, 0xffff,
                        &cap->device) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "firmware", false,
                           &cap->firmware) < 0 ||
        /* 0 is the struct's "not reported": only a real version is XML */
        vfmigXMLAttrULL(&attrErr, node, "stream-version", false, 1,
                        G_MAXUINT, NULL, &stream) < 0)
        return -1;
    cap->streamVersion = stream;
    return 0;
}


static int
parseLive(vfmigNodeDevCapVFIOMig *cap, xmlNodePtr node)
{
    g_autofree vfmigNodeDevLive *live = g_new0(vfmigNodeDevLive, 1);
    g_autofree char *state = NULL;

    if (checkChildren(node, NULL, 0) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "state", true, &state) < 0)
        return -1;
    if (vfmigFSMStateFromName(state) < 0)
        return reportBadAttr(node, "state", state, NULL);

    if (vfmigXMLAttrULL(&attrErr, node, "initial-bytes", true, 0,
                        G_MAXUINT64, NULL, &live->initialBytes) < 0 ||
        vfmigXMLAttrULL(&attrErr, node, "dirty-bytes", true, 0,
                        G_MAXUINT64, NULL, &live->dirtyBytes) < 0 ||
        vfmigXMLAttrULL(&attrErr, node, "stop-copy-bytes", true, 0,
                        G_MAXUINT64, NULL, &live->stopCopyBytes) < 0 ||
        vfmigXMLAttrULL(&attrErr, node, "stop-latency-us", true, 0,
                        G_MAXUINT64, NULL, &live->stopLatencyUs) < 0 ||
        vfmigXMLAttrULL(&attrErr, node, "resume-latency-us", true, 0,
                        G_MAXUINT64, NULL, &live->resumeLatencyUs) < 0)
        return -1;

    live->state = g_steal_pointer(&state);
    cap->live = g_steal_pointer(&live);
    return 0;
}


static int
parseQualified(vfmigNodeDevCapVFIOMig *cap, xmlNodePtr node)
{
    g_autoptr(vfmigNodeDevQualified) q = g_new0(vfmigNodeDevQualified, 1);
    g_autofree char *at = NULL;
    static const char *const measuredAttrs[QUALIFIED_MEASURED_ATTRS] = {
        "downtime-us", "stop-latency-us", "drain-us", "load-commit-us",
        "resume-latency-us",
    };
    unsigned long long *measured[QUALIFIED_MEASURED_ATTRS] = {
        &q->downtimeUs, &q->stopLatencyUs, &q->drainUs, &q->loadCommitUs,
        &q->resumeLatencyUs,
    };
    const char *missing = NULL;
    const char *present = NULL;
    int verdict = 0;
    size_t i;

    if (checkChildren(node, NULL, 0) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "at", true, &at) < 0)
        return -1;
    if (vfmigNodeDevQualifiedParseTime(at, &q->at) < 0)
        return reportBadAttr(node, "at", at, NULL);

    if (vfmigXMLAttrEnum(&attrErr, node, "verdict", true,
                         vfmigNodeDevVerdictTypeFromString, NULL, 0,
                         &verdict) < 0 ||
        vfmigXMLAttrULL(&attrErr, node, "target-us", true, 0,
                        G_MAXUINT64, NULL, &q->targetUs) < 0 ||
        vfmigXMLAttrString(&attrErr, node, "peer", false, &q->peer) < 0)
        return -1;
    q->verdict = verdict;

    /* a run that failed midway measured nothing: all of them or none */
    for (i = 0; i < QUALIFIED_MEASURED_ATTRS; i++) {
        xmlChar *val = xmlGetNoNsProp(node, BAD_CAST measuredAttrs[i]);

        if (val)
            present = measuredAttrs[i];
        else if (!missing)
            missing = measuredAttrs[i];
        xmlFree(val);
    }
    if (present && missing) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("attribute '%1$s' of element <qualified> in the vfio-migration capability needs the other measured figures too: '%2$s' is missing"),
                         present, missing);
        return -1;
    }
    if (present) {
        for (i = 0; i < QUALIFIED_MEASURED_ATTRS; i++) {
            if (vfmigXMLAttrULL(&attrErr, node, measuredAttrs[i], true, 0,
                                G_MAXUINT64, NULL, measured[i]) < 0)
                return -1;
        }
        q->measured = true;
    }

    cap->qualified = g_steal_pointer(&q);
    return 0;
}


vfmigNodeDevQualified *
vfmigNodeDevQualifiedParseNode(xmlNodePtr node)
{
    vfmigNodeDevCapVFIOMig cap = { 0 };

    if (!node || node->type != XML_ELEMENT_NODE ||
        !xmlStrEqual(node->name, BAD_CAST "qualified")) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("expected a <qualified> element, got <%1$s>"),
                         node && node->name ? (const char *) node->name : "");
        return NULL;
    }
    if (parseQualified(&cap, node) < 0)
        return NULL;
    return cap.qualified;
}


vfmigNodeDevCapVFIOMig *
vfmigNodeDevCapVFIOMigParseNode(xmlNodePtr node)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree char *type = NULL;
    xmlNodePtr driver;
    xmlNodePtr features;
    xmlNodePtr dirty;
    xmlNodePtr identity;
    xmlNodePtr qualified;
    xmlNodePtr live;

    if (!node || node->type != XML_ELEMENT_NODE ||
        !xmlStrEqual(node->name, BAD_CAST "capability")) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("expected a <capability type='%1$s'> element, got <%2$s>"),
                         CAP_TYPE, node && node->name ? (const char *) node->name : "");
        return NULL;
    }
    type = vfmigXMLPropString(node, "type");
    if (!type || strcmp(type, CAP_TYPE) != 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("expected a capability of type '%1$s', got '%2$s'"),
                         CAP_TYPE, type ? type : "");
        return NULL;
    }

    if (checkChildren(node, capElems, G_N_ELEMENTS(capElems)) < 0)
        return NULL;

    if (!(ctxt = xmlXPathNewContext(node->doc))) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                         _("cannot create an XPath context"));
        return NULL;
    }
    ctxt->node = node;

    if (xpathChild(ctxt, "capability", "driver", true, &driver) < 0 ||
        xpathChild(ctxt, "capability", "features", true, &features) < 0 ||
        xpathChild(ctxt, "capability", "dirty-tracking", true, &dirty) < 0 ||
        xpathChild(ctxt, "capability", "identity", true, &identity) < 0 ||
        xpathChild(ctxt, "capability", "qualified", false, &qualified) < 0 ||
        xpathChild(ctxt, "capability", "live", false, &live) < 0)
        return NULL;

    cap = g_new0(vfmigNodeDevCapVFIOMig, 1);

    if (parseDriver(cap, driver) < 0 ||
        parseFeatures(cap, ctxt, features) < 0 ||
        parseDirty(cap, dirty) < 0 ||
        parseIdentity(cap, identity) < 0 ||
        (qualified && parseQualified(cap, qualified) < 0) ||
        (live && parseLive(cap, live) < 0))
        return NULL;

    return g_steal_pointer(&cap);
}


/* ------------------------------------------------------------------ */
/* Formatting                                                          */
/* ------------------------------------------------------------------ */

/*
 * Appends @str escaped for a single-quoted attribute value, as libvirt's
 * virBufferEscapeString does; control characters XML cannot carry are
 * dropped and invalid UTF-8 is replaced, so the output is always
 * well-formed.
 */
static void
formatDriver(vfmigBuffer *buf, const vfmigNodeDevCapVFIOMig *cap)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;

    vfmigBufferAddAttr(&attrBuf, "name", cap->driver ? cap->driver : "");
    vfmigBufferAddAttr(&attrBuf, "variant", cap->variant ? "yes" : "no");
    vfmigXMLFormatElement(buf, "driver", &attrBuf, NULL);
}


/* Feature @f, if the device has it.  A pre-copy the driver has switched
 * off is still worth showing: QEMU sees no PRE_COPY flag, but an operator
 * can turn it on. */
static void
formatFeature(vfmigBuffer *buf,
              const vfmigNodeDevCapVFIOMig *cap,
              vfmigFeature f)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    const char *str;

    if (f == VFMIG_FEATURE_PRE_COPY) {
        if (!(cap->features & VFMIG_NODEDEV_FEATURE_PRE_COPY) &&
            cap->precopy != VFMIG_NODEDEV_PRECOPY_OFF)
            return;
        if (cap->precopy != VFMIG_NODEDEV_PRECOPY_DEFAULT &&
            (str = vfmigNodeDevPrecopyTypeToString(cap->precopy)))
            vfmigBufferAddAttr(&attrBuf, "mode", str);
    } else if (!(cap->features & (1u << f))) {
        return;
    }
    vfmigXMLFormatElement(buf, vfmigFeatureToString(f), &attrBuf, NULL);
}


static void
formatFeatures(vfmigBuffer *buf, const vfmigNodeDevCapVFIOMig *cap)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(buf);
    const char *str;
    int f;

    if ((str = vfmigNodeDevSourceTypeToString(cap->source)))
        vfmigBufferAddAttr(&attrBuf, "source", str);
    for (f = 0; f < VFMIG_FEATURE_LAST; f++)
        formatFeature(&childBuf, cap, f);
    vfmigXMLFormatElement(buf, "features", &attrBuf, &childBuf);
}


static void
formatDirty(vfmigBuffer *buf, const vfmigNodeDevCapVFIOMig *cap)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    const char *str;

    if ((str = vfmigNodeDevDirtyTypeToString(cap->dirty)))
        vfmigBufferAddAttr(&attrBuf, "type", str);
    if (cap->dirtyReason && *cap->dirtyReason)
        vfmigBufferAddAttr(&attrBuf, "reason", cap->dirtyReason);
    vfmigXMLFormatElement(buf, "dirty-tracking", &attrBuf, NULL);
}


static void
formatIdentity(vfmigBuffer *buf, const vfmigNodeDevCapVFIOMig *cap)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;

    vfmigBufferAsprintf(&attrBuf, " vendor='0x%04x' device='0x%04x'",
                        cap->vendor, cap->device);
    if (cap->firmware && *cap->firmware)
        vfmigBufferAddAttr(&attrBuf, "firmware", cap->firmware);
    if (cap->streamVersion > 0)
        vfmigBufferAsprintf(&attrBuf, " stream-version='%u'", cap->streamVersion);
    vfmigXMLFormatElement(buf, "identity", &attrBuf, NULL);
}


void
vfmigNodeDevQualifiedFormat(vfmigBuffer *buf,
                            const vfmigNodeDevQualified *q)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_autofree char *at = NULL;
    const char *str;

    if (!q)
        return;

    at = vfmigNodeDevQualifiedFormatTime(q->at);
    vfmigBufferAddAttr(&attrBuf, "at", at ? at : "");
    if ((str = vfmigNodeDevVerdictTypeToString(q->verdict)))
        vfmigBufferAddAttr(&attrBuf, "verdict", str);
    vfmigBufferAsprintf(&attrBuf, " target-us='%llu'", q->targetUs);
    if (q->measured) {
        vfmigBufferAsprintf(&attrBuf, " downtime-us='%llu'", q->downtimeUs);
        vfmigBufferAsprintf(&attrBuf, " stop-latency-us='%llu'", q->stopLatencyUs);
        vfmigBufferAsprintf(&attrBuf, " drain-us='%llu'", q->drainUs);
        vfmigBufferAsprintf(&attrBuf, " load-commit-us='%llu'", q->loadCommitUs);
        vfmigBufferAsprintf(&attrBuf, " resume-latency-us='%llu'", q->resumeLatencyUs);
    }
    if (q->peer && *q->peer)
        vfmigBufferAddAttr(&attrBuf, "peer", q->peer);
    vfmigXMLFormatElement(buf, "qualified", &attrBuf, NULL);
}


static void
formatLive(vfmigBuffer *buf, const vfmigNodeDevLive *live)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;

    if (!live)
        return;

    vfmigBufferAddAttr(&attrBuf, "state", live->state ? live->state : "");
    vfmigBufferAsprintf(&attrBuf, " initial-bytes='%llu'", live->initialBytes);
    vfmigBufferAsprintf(&attrBuf, " dirty-bytes='%llu'", live->dirtyBytes);
    vfmigBufferAsprintf(&attrBuf, " stop-copy-bytes='%llu'", live->stopCopyBytes);
    vfmigBufferAsprintf(&attrBuf, " stop-latency-us='%llu'", live->stopLatencyUs);
    vfmigBufferAsprintf(&attrBuf, " resume-latency-us='%llu'", live->resumeLatencyUs);
    vfmigXMLFormatElement(buf, "live", &attrBuf, NULL);
}


void
vfmigNodeDevCapVFIOMigFormat(vfmigBuffer *buf,
                             const vfmigNodeDevCapVFIOMig *cap)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(buf);

    vfmigBufferAddAttr(&attrBuf, "type", CAP_TYPE);
    formatDriver(&childBuf, cap);
    formatFeatures(&childBuf, cap);
    formatDirty(&childBuf, cap);
    formatIdentity(&childBuf, cap);
    vfmigNodeDevQualifiedFormat(&childBuf, cap->qualified);
    formatLive(&childBuf, cap->live);
    vfmigXMLFormatElement(buf, "capability", &attrBuf, &childBuf);
}
