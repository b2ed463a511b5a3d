/*
 * vfmigdomainprepare.c: what a domain needs to live-migrate its VFs
 *
 * See vfmigdomainprepare.h for what is changed and why.  The domain XML
 * is edited as a libxml2 tree, its whitespace kept; each new element is
 * indented like its siblings, so that the result, formatted with
 * attributes in single quotes as libvirt writes them, differs from the
 * input only by what changed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE     /* pipe2 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vfmigdomainprepare.h"
#include "vfmigbuf.h"
#include "vfmigdriver.h"
#include "vfmigerror.h"
#include "vfmighook.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmignodedevcompare.h"
#include "vfmignodedevquery.h"
#include "vfmignodedevvariant.h"
#include "vfmigpci.h"
#include "vfmigxml.h"

#define ALIAS_PREFIX "ua-vfmig-"


void
vfmigDomainPrepareChangeFree(vfmigDomainPrepareChange *change)
{
    if (!change)
        return;
    g_free(change->what);
    g_free(change->why);
    g_free(change);
}


void
vfmigDomainPrepareResultFree(vfmigDomainPrepareResult *res)
{
    if (!res)
        return;
    g_free(res->oldXML);
    g_free(res->newXML);
    if (res->changes)
        g_ptr_array_unref(res->changes);
    if (res->notes)
        g_ptr_array_unref(res->notes);
    g_free(res);
}


/* ------------------------------------------------------------------ */
/* Formatting a document as libvirt does                               */
/* ------------------------------------------------------------------ */

static void
appendQName(GString *out,
            const xmlNs *ns,
            const xmlChar *name)
{
    if (ns && ns->prefix)
        g_string_append_printf(out, "%s:", (const char *) ns->prefix);
    g_string_append(out, (const char *) name);
}


static void
formatNode(GString *out,
           xmlNodePtr node)
{
    xmlAttrPtr attr;
    xmlNsPtr ns;
    xmlNodePtr child;

    switch (node->type) {
    case XML_ELEMENT_NODE:
        g_string_append_c(out, '<');
        appendQName(out, node->ns, node->name);
        for (attr = node->properties; attr; attr = attr->next) {
            g_autofree xmlChar *val = xmlNodeGetContent((xmlNodePtr) attr);

            g_string_append_c(out, ' ');
            appendQName(out, attr->ns, attr->name);
            g_string_append(out, "='");
            vfmigEscapeXMLAppend(out, (const char *) val, true);
            g_string_append_c(out, '\'');
        }
        for (ns = node->nsDef; ns; ns = ns->next) {
            g_string_append(out, " xmlns");
            if (ns->prefix)
                g_string_append_printf(out, ":%s", (const char *) ns->prefix);
            g_string_append(out, "='");
            vfmigEscapeXMLAppend(out, (const char *) ns->href, true);
            g_string_append_c(out, '\'');
        }
        if (!node->children) {
            g_string_append(out, "/>");
            break;
        }
        g_string_append_c(out, '>');
        for (child = node->children; child; child = child->next)
            formatNode(out, child);
        g_string_append(out, "</");
        appendQName(out, node->ns, node->name);
        g_string_append_c(out, '>');
        break;
    case XML_TEXT_NODE:
        vfmigEscapeXMLAppend(out, (const char *) node->content, false);
        break;
    case XML_CDATA_SECTION_NODE:
        g_string_append_printf(out, "<![CDATA[%s]]>", (const char *) node->content);
        break;
    case XML_COMMENT_NODE:
        g_string_append_printf(out, "<!--%s-->", (const char *) node->content);
        break;
    case XML_PI_NODE:
        g_string_append_printf(out, "<?%s%s%s?>", (const char *) node->name,
                               node->content ? " " : "",
                               node->content ? (const char *) node->content : "");
        break;
    case XML_ENTITY_REF_NODE:
        g_string_append_printf(out, "&%s;", (const char *) node->name);
        break;
    case XML_ATTRIBUTE_NODE:
    case XML_ENTITY_NODE:
    case XML_DOCUMENT_NODE:
    case XML_DOCUMENT_TYPE_NODE:
    case XML_DOCUMENT_FRAG_NODE:
    case XML_NOTATION_NODE:
    case XML_HTML_DOCUMENT_NODE:
    case XML_DTD_NODE:
    case XML_ELEMENT_DECL:
    case XML_ATTRIBUTE_DECL:
    case XML_ENTITY_DECL:
    case XML_NAMESPACE_DECL:
    case XML_XINCLUDE_START:
    case XML_XINCLUDE_END:
    default:
        break;
    }
}


static char *
formatDoc(xmlDocPtr doc)
{
    g_autoptr(GString) out = g_string_new(NULL);
    xmlNodePtr node;

    for (node = doc->children; node; node = node->next) {
        if (node->type == XML_DTD_NODE)
            continue;
        formatNode(out, node);
        g_string_append_c(out, '\n');
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}


/* A libvirt domain XML: <domain> in no namespace at the root. */
static xmlDocPtr
readDomain(const char *xml)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNodePtr root;

    if (!(doc = vfmigXMLReadDoc(xml, _("domain"))))
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root || root->ns || !xmlStrEqual(root->name, BAD_CAST "domain")) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("not a libvirt domain XML: the root element is <%1$s>, not <domain>"),
                         root ? (const char *) root->name : "");
        return NULL;
    }
    return g_steal_pointer(&doc);
}


char *
vfmigDomainPrepareFormatXML(const char *xml)
{
    g_autoptr(xmlDoc) doc = NULL;

    if (!(doc = readDomain(xml)))
        return NULL;
    return formatDoc(doc);
}


int
vfmigDomainPrepareGetEmulator(const char *xml,
                              char **emulator)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlXPathObject) obj = NULL;
    g_autofree char *path = NULL;

    *emulator = NULL;
    if (!(doc = readDomain(xml)))
        return -1;
    if (!(ctxt = xmlXPathNewContext(doc)) ||
        !(obj = xmlXPathEval(BAD_CAST "string(/domain/devices/emulator)", ctxt)) ||
        obj->type != XPATH_STRING) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                         _("cannot evaluate the XPath expression of the domain's emulator"));
        return -1;
    }
    path = g_strstrip(g_strdup((const char *) obj->stringval));
    if (!*path)
        return 0;
    *emulator = g_steal_pointer(&path);
    return 1;
}


/* ------------------------------------------------------------------ */
/* Asking QEMU                                                         */
/* ------------------------------------------------------------------ */

/* The property names of QEMU's "-device vfio-pci,help" listing: lines
 * "  name=<type>  - description". */
static GStrv
parseProperties(const char *out)
{
    g_autoptr(GStrvBuilder) names = g_strv_builder_new();
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    size_t i;

    for (i = 0; lines[i]; i++) {
        const char *p = lines[i];
        g_autofree char *name = NULL;
        const char *start;

        while (*p == ' ' || *p == '\t')
            p++;
        start = p;
        while (g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.')
            p++;
        if (p == start || p[0] != '=' || p[1] != '<')
            continue;
        name = g_strndup(start, p - start);
        g_strv_builder_add(names, name);
    }
    return g_strv_builder_end(names);
}


static gint64
msLeft(gint64 deadline)
{
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;

    return left > 0 ? left : 0;
}


static void
killChild(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}


int
vfmigDomainPrepareProbeQEMU(const char *emulator,
                            unsigned int timeoutMs,
                            GStrv *properties)
{
    static const char *const envp[] = {
        "LC_ALL=C",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        NULL,
    };
    const char *argv[] = {
        emulator, "-nodefaults", "-machine", "none", "-device", "vfio-pci,help",
        NULL,
    };
    const char *cmdline = "-nodefaults -machine none -device vfio-pci,help";
    g_autoptr(GString) out = g_string_new(NULL);
    g_auto(GStrv) names = NULL;
    gint64 deadline = g_get_monotonic_time() + (gint64) timeoutMs * 1000;
    int pipefd[2] = { -1, -1 };
    struct stat st;
    int devnull;
    int status;
    pid_t pid;
    pid_t rc;

    *properties = NULL;
    if (!g_path_is_absolute(emulator) || stat(emulator, &st) < 0 ||
        !S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("the emulator '%1$s' is not an executable file given by an absolute path"),
                         emulator);
        return -1;
    }
    /* it runs with our privileges, often root's: only a binary that
     * root or we own and nobody else may change */
    if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("refusing to run the emulator '%1$s': it is owned by uid %2$u or writable by its group or others, and would run with this program's privileges"),
                         emulator, (unsigned int) st.st_uid);
        return -1;
    }
    if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        vfmigReportSystemError(errno, "%s", _("cannot open /dev/null"));
        return -1;
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        vfmigReportSystemError(errno, "%s", _("cannot make a pipe"));
        close(devnull);
        return -1;
    }

    VFMIG_DEBUG("running %s %s", emulator, cmdline);
    if ((pid = fork()) < 0) {
        vfmigReportSystemError(errno, "%s", _("cannot fork"));
        close(devnull);
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        /* only async-signal-safe calls from here */
        if (dup2(devnull, STDIN_FILENO) < 0 ||
            dup2(pipefd[1], STDOUT_FILENO) < 0 ||
            dup2(pipefd[1], STDERR_FILENO) < 0)
            _exit(126);
        execve(emulator, (char *const *) argv, (char *const *) envp);
        _exit(127);
    }
    close(devnull);
    close(pipefd[1]);

    for (;;) {
        struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
        char chunk[4096];
        ssize_t n;
        int prc;

        prc = poll(&pfd, 1, (int) MIN(msLeft(deadline), INT_MAX));
        if (prc < 0 && errno == EINTR)
            continue;
        if (prc < 0) {
            vfmigReportSystemError(errno, "%s", _("cannot wait for the emulator's output"));
            goto kill;
        }
        if (prc == 0) {
            vfmigReportError(VFMIG_ERR_OPERATION_TIMEOUT,
                             _("'%1$s %2$s' did not finish within %3$u ms: killed"),
                             emulator, cmdline, timeoutMs);
            goto kill;
        }
        if ((n = read(pipefd[0], chunk, sizeof(chunk))) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            vfmigReportSystemError(errno, _("cannot read the output of '%1$s'"),
                                   emulator);
            goto kill;
        }
        if (n == 0)
            break;
        if (out->len + n > VFMIG_QEMU_PROBE_OUTPUT_MAX) {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             _("'%1$s %2$s' printed more than %3$d bytes: killed"),
                             emulator, cmdline, VFMIG_QEMU_PROBE_OUTPUT_MAX);
            goto kill;
        }
        g_string_append_len(out, chunk, n);
    }
    close(pipefd[0]);
    pipefd[0] = -1;

    /* it closed its output; it must also end in time */
    while ((rc = waitpid(pid, &status, WNOHANG)) == 0) {
        if (msLeft(deadline) == 0) {
            vfmigReportError(VFMIG_ERR_OPERATION_TIMEOUT,
                             _("'%1$s %2$s' did not exit within %3$u ms: killed"),
                             emulator, cmdline, timeoutMs);
            goto kill;
        }
        g_usleep(10 * 1000);
    }
    if (rc < 0) {
        vfmigReportSystemError(errno, _("cannot wait for '%1$s'"), emulator);
        return -1;
    }

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_autofree char *first = g_strndup(out->str, strcspn(out->str, "\n"));

        if (WIFEXITED(status))
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             _("'%1$s %2$s' failed with exit status %3$d: %4$s"),
                             emulator, cmdline, WEXITSTATUS(status),
                             *first ? first : _("no output"));
        else
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             _("'%1$s %2$s' was killed by signal %3$d"),
                             emulator, cmdline, WTERMSIG(status));
        return -1;
    }

    names = parseProperties(out->str);
    if (!names[0]) {
        vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                         _("'%1$s %2$s' listed no property: not a QEMU with vfio-pci"),
                         emulator, cmdline);
        return -1;
    }
    VFMIG_DEBUG("%s: vfio-pci has %u properties", emulator, g_strv_length(names));
    *properties = g_steal_pointer(&names);
    return 0;

 kill:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    killChild(pid);
    return -1;
}


/* ------------------------------------------------------------------ */
/* Editing the tree                                                    */
/* ------------------------------------------------------------------ */

/* How many elements enclose @node: 0 for the root. */
static int
elementDepth(xmlNodePtr node)
{
    int depth = 0;

    for (node = node->parent; node && node->type == XML_ELEMENT_NODE;
         node = node->parent)
        depth++;
    return depth;
}


static xmlNodePtr
newIndent(xmlDocPtr doc,
          int depth)
{
    g_autofree char *ws = g_strdup_printf("\n%*s", depth * 2, "");

    return xmlNewDocText(doc, BAD_CAST ws);
}


static bool
isBlank(xmlNodePtr node)
{
    const xmlChar *p;

    if (!node || node->type != XML_TEXT_NODE)
        return false;
    for (p = node->content; p && *p; p++) {
        if (!g_ascii_isspace(*p))
            return false;
    }
    return true;
}


/*
 * Links the element @child into @parent before its child element @before
 * (NULL: last), on a line of its own indented one level below @parent, as
 * libvirt writes its XML.
 */
static void
linkChild(xmlNodePtr parent,
          xmlNodePtr before,
          xmlNodePtr child)
{
    int depth = elementDepth(parent);

    /* libxml2 merges a text node into a text neighbour: the indentation
     * goes where its neighbours are elements */
    if (before) {
        xmlAddPrevSibling(before, child);
        xmlAddNextSibling(child, newIndent(parent->doc, depth + 1));
        return;
    }
    if (isBlank(parent->last)) {
        xmlAddPrevSibling(parent->last, child);
        xmlAddPrevSibling(child, newIndent(parent->doc, depth + 1));
        return;
    }
    xmlAddChild(parent, newIndent(parent->doc, depth + 1));
    xmlAddChild(parent, child);
    xmlAddChild(parent, newIndent(parent->doc, depth));
}


/* @parent's first child element named @name in namespace @href (NULL:
 * none) whose attribute @attr (NULL: any) is @value. */
static xmlNodePtr
findChild(xmlNodePtr parent,
          const char *href,
          const char *name,
          const char *attr,
          const char *value)
{
    xmlNodePtr child;

    for (child = parent->children; child; child = child->next) {
        g_autofree char *val = NULL;

        if (child->type != XML_ELEMENT_NODE ||
            !xmlStrEqual(child->name, BAD_CAST name))
            continue;
        if (href ? !child->ns || !xmlStrEqual(child->ns->href, BAD_CAST href)
                 : child->ns != NULL)
            continue;
        if (!attr)
            return child;
        val = vfmigXMLPropString(child, attr);
        if (g_strcmp0(val, value) == 0)
            return child;
    }
    return NULL;
}


/* A new element @name in @ns with the attributes @attrs (name, value,
 * ..., NULL), linked into @parent before @before (see linkChild).  NULL
 * with an error. */
static xmlNodePtr
addElement(xmlNodePtr parent,
           xmlNodePtr before,
           xmlNsPtr ns,
           const char *name,
           const char *const *attrs)
{
    xmlNodePtr node = xmlNewDocNode(parent->doc, ns, BAD_CAST name, NULL);
    size_t i;

    if (!node)
        goto error;
    for (i = 0; attrs && attrs[i]; i += 2) {
        if (!xmlNewProp(node, BAD_CAST attrs[i], BAD_CAST attrs[i + 1])) {
            xmlFreeNode(node);
            goto error;
        }
    }
    linkChild(parent, before, node);
    return node;

 error:
    vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                     _("cannot make the element <%1$s> of the domain XML"), name);
    return NULL;
}


/* ------------------------------------------------------------------ */
/* The decision                                                        */
/* ------------------------------------------------------------------ */

typedef struct _vfmigPrepare vfmigPrepare;
struct _vfmigPrepare {
    const vfmigDomainPrepareOptions *opts;
    xmlDocPtr doc;
    xmlNodePtr root;
    vfmigDomainPolicy *policy;
    bool policyChanged;
    GHashTable *aliases;        /* every <alias name=> of the domain */
    unsigned long long ramBytes;    /* the guest's RAM; 0: not in the XML */
    vfmigDomainPrepareResult *res;
};


static void
addChange(vfmigPrepare *p,
          char *what,
          char *why)
{
    vfmigDomainPrepareChange *change = g_new0(vfmigDomainPrepareChange, 1);

    VFMIG_DEBUG("change: %s", what);
    change->what = what;
    change->why = why;
    g_ptr_array_add(p->res->changes, change);
}


static void
addNote(vfmigPrepare *p,
        char *note)
{
    VFMIG_DEBUG("note: %s", note);
    g_ptr_array_add(p->res->notes, note);
}


/* "hostdev 0000:3b:00.2" or "<interface type='hostdev'> 0000:3b:00.2", for
 * messages. */
static char *
hostdevName(const vfmigDomainPolicyDomHostdev *dh)
{
    g_autofree char *addr = vfmigPCIAddressFormat(&dh->address);

    if (dh->interface)
        return g_strdup_printf(_("<interface type='hostdev'> %1$s"), addr);
    return g_strdup_printf(_("hostdev %1$s"), addr);
}


static char *
describeIdentity(const vfmigDomainPolicyIdentity *id)
{
    g_autoptr(GString) str = g_string_new(NULL);

    g_string_append_printf(str, _("driver '%1$s', PCI id %2$04x:%3$04x"),
                           id->driver, id->vendor, id->device);
    if (id->firmware && *id->firmware)
        g_string_append_printf(str, _(", firmware '%1$s'"), id->firmware);
    if (id->streamVersion)
        g_string_append_printf(str, _(", stream version %1$u"), id->streamVersion);
    g_string_append_printf(str, _(", multi-load %1$s"), id->multiLoad ? "yes" : "no");
    if (id->stateSize)
        g_string_append_printf(str, _(", state of %1$llu bytes"), id->stateSize);
    return g_string_free(g_steal_pointer(&str), FALSE);
}


static bool
identityEqual(const vfmigDomainPolicyIdentity *a,
              const vfmigDomainPolicyIdentity *b)
{
    return g_strcmp0(a->driver, b->driver) == 0 &&
        a->vendor == b->vendor && a->device == b->device &&
        g_strcmp0(a->firmware && *a->firmware ? a->firmware : NULL,
                  b->firmware && *b->firmware ? b->firmware : NULL) == 0 &&
        a->streamVersion == b->streamVersion &&
        a->multiLoad == b->multiLoad &&
        a->stateSize == b->stateSize;
}


/*
 * A managed='yes' hostdev @dh whose VF @dev libvirt binds when the domain
 * starts: *@pending, the driver it binds, when the VF is not on it yet
 * (NULL when it is: the caller reads it as any bound VF); -1 with an
 * error when libvirt would bind it to a driver that cannot migrate it.
 */
static int
probeManaged(vfmigPrepare *p,
             const vfmigDomainPolicyDomHostdev *dh,
             const vfmigNodeDevPCI *dev,
             vfmigNodeDevBind **pending)
{
    g_autoptr(vfmigNodeDevBind) bind = NULL;
    g_autofree char *name = hostdevName(dh);

    if (vfmigNodeDevBindPredict(p->opts->paths, dev->address, dh->driverModel, &bind) < 0) {
        g_autofree char *why = g_strdup(vfmigGetLastErrorMessage());

        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("%1$s: libvirt binds the VF itself (managed='yes'), and the driver it binds cannot be told: %2$s"),
                         name, why);
        return -1;
    }
    /* libvirt leaves a device on that driver where it is */
    if (vfmigDriverNameEqual(dev->driver, bind->driver))
        return 0;
    if (!bind->migration) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED, "%s: %s", name, bind->reason);
        return -1;
    }
    *pending = g_steal_pointer(&bind);
    return 0;
}


/*
 * This host's VF of @dh, which must be on a VFIO migration driver whose
 * features are known and able to migrate, or, managed='yes', one libvirt
 * binds to such a driver (*@pending, the driver, when it is not on it
 * yet): else -1 with an error that says what to do.
 */
static int
probeVF(vfmigPrepare *p,
        const vfmigDomainPolicyDomHostdev *dh,
        vfmigNodeDevPCI **out,
        vfmigNodeDevQEMU *qemu,
        vfmigNodeDevBind **pending)
{
    g_autoptr(vfmigNodeDevPCI) dev = NULL;
    g_autoptr(vfmigNodeDevCompareResult) cmp = NULL;
    g_autofree char *name = hostdevName(dh);
    g_autofree char *addr = vfmigPCIAddressFormat(&dh->address);

    if (vfmigNodeDevProbeOne(p->opts->paths, addr,
                             VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE |
                             VFMIG_NODEDEV_PROBE_NO_QUALIFIED, &dev) < 0) {
        if (vfmigGetLastErrorCode() == VFMIG_ERR_NO_DEVICE) {
            vfmigReportError(VFMIG_ERR_NO_DEVICE,
                             _("%1$s: this host has no PCI device %2$s: run domain-prepare on the host whose VF the hostdev names"),
                             name, addr);
        }
        return -1;
    }
    VFMIG_DEBUG("%s: driver %s, vfio %d, capability %s, managed %d", addr,
                dev->driver ? dev->driver : "none", dev->vfio,
                dev->cap ? "known" : "unknown", dh->managed);

    if (dh->managed) {
        if (probeManaged(p, dh, dev, pending) < 0)
            return -1;
        if (*pending) {
            *out = g_steal_pointer(&dev);
            return 0;
        }
    }
    if (!dev->driver) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("%1$s: the VF is bound to no driver: bind it to its VFIO migration driver and run domain-prepare again, or make the hostdev managed='yes' so that libvirt binds it (docs/operator-guide.rst); its identity is read from that driver, never guessed"),
                         name);
        return -1;
    }
    if (!dev->vfio) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("%1$s: the VF is bound to '%2$s', not to a VFIO migration driver: bind it to its VFIO variant driver and run domain-prepare again, or make the hostdev managed='yes' so that libvirt binds it (docs/operator-guide.rst); its identity is read from that driver, never guessed"),
                         name, dev->driver);
        return -1;
    }
    if (!dev->cap) {
        g_autofree char *how = vfmigNodeDevHowToLearn(dev->address);

        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("%1$s: %2$s, so it has no identity for the policy (domain-prepare never guesses one); to learn them, %3$s"),
                         name, vfmigNodeDevUnknownNote(dev), how);
        return -1;
    }

    cmp = vfmigNodeDevCapVFIOMigCompare(dev->cap, dev->cap);
    if (cmp->qemu == VFMIG_NODEDEV_QEMU_BLOCKED) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("%1$s: the VF's driver '%2$s' offers no stop-copy migration: QEMU cannot migrate the VM with it; bind the VF to a VFIO migration driver"),
                         name, dev->cap->driver);
        return -1;
    }
    *qemu = cmp->qemu;
    *out = g_steal_pointer(&dev);
    return 0;
}


/*
 * The VF of @dh is not on the driver @pending libvirt binds it to when
 * the domain starts: what could not be written, and when it can.
 */
static void
notePending(vfmigPrepare *p,
            const vfmigDomainPolicyDomHostdev *dh,
            const vfmigNodeDevPCI *dev,
            const vfmigNodeDevBind *pending)
{
    g_autofree char *name = hostdevName(dh);
    g_autofree char *what = vfmigNodeDevBindDescribe(pending);
    g_autofree char *now = NULL;

    if (dev->driver)
        now = g_strdup_printf(_("on '%1$s'"), dev->driver);
    else
        now = g_strdup(_("bound to no driver"));
    addNote(p, g_strdup_printf(_("%1$s: the VF is %2$s, and libvirt binds it to %3$s when the domain starts (managed='yes'); its identity, whether it can pre-copy and whether QEMU needs enable-migration=on are read from that driver, never guessed: run domain-prepare again while the domain runs to add them"),
                               name, now, what));
}


/* The lowest ua-vfmig-N no device of the domain has. */
static char *
newAlias(vfmigPrepare *p)
{
    unsigned int n;

    for (n = 0;; n++) {
        g_autofree char *alias = g_strdup_printf(ALIAS_PREFIX "%u", n);

        if (!g_hash_table_contains(p->aliases, alias)) {
            g_hash_table_add(p->aliases, g_strdup(alias));
            return g_steal_pointer(&alias);
        }
    }
}


/* Gives the hostdev element @node the user alias @alias, where libvirt
 * writes it (before <acpi>, <rom> and the guest <address>). */
static int
setAlias(xmlNodePtr node,
         const char *alias)
{
    const char *const attrs[] = { "name", alias, NULL };
    xmlNodePtr elem = findChild(node, NULL, "alias", NULL, NULL);
    xmlNodePtr before;

    if (elem) {
        if (!xmlSetProp(elem, BAD_CAST "name", BAD_CAST alias)) {
            vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                             _("cannot set the alias of a hostdev"));
            return -1;
        }
        return 0;
    }
    if (!(before = findChild(node, NULL, "acpi", NULL, NULL)) &&
        !(before = findChild(node, NULL, "rom", NULL, NULL)))
        before = findChild(node, NULL, "address", NULL, NULL);
    return addElement(node, before, NULL, "alias", attrs) ? 0 : -1;
}


/* *@alias, the user alias of the hostdev @dh (element @node), given one
 * when it has none. */
static int
ensureAlias(vfmigPrepare *p,
            const vfmigDomainPolicyDomHostdev *dh,
            xmlNodePtr node,
            char **out)
{
    g_autofree char *name = NULL;
    g_autofree char *alias = NULL;

    if (dh->alias && g_str_has_prefix(dh->alias, "ua-")) {
        *out = g_strdup(dh->alias);
        return 0;
    }

    alias = newAlias(p);
    if (setAlias(node, alias) < 0)
        return -1;
    name = hostdevName(dh);
    addChange(p,
              g_strdup_printf(_("%1$s: user alias '%2$s'"), name, alias),
              g_strdup(_("The migration policy and the QEMU override name the hostdev by its alias, and only a user alias ('ua-...') stays in the persistent definition and across a migration: the alias libvirt gives a device itself (hostdevN) exists only while the domain runs.")));
    *out = g_steal_pointer(&alias);
    return 0;
}


/* The namespace of <qemu:override> on the root, declared when missing. */
static int
qemuNamespace(vfmigPrepare *p,
              xmlNsPtr *out)
{
    xmlNsPtr ns = xmlSearchNsByHref(p->doc, p->root, BAD_CAST VFMIG_QEMU_DOMAIN_NS_URI);

    if (!ns) {
        if (xmlSearchNs(p->doc, p->root, BAD_CAST "qemu")) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                             _("the domain XML uses the prefix 'qemu' for another namespace than libvirt's QEMU namespace"));
            return -1;
        }
        if (!(ns = xmlNewNs(p->root, BAD_CAST VFMIG_QEMU_DOMAIN_NS_URI,
                            BAD_CAST "qemu"))) {
            vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                             _("cannot declare libvirt's QEMU namespace in the domain XML"));
            return -1;
        }
    }
    *out = ns;
    return 0;
}


typedef enum {
    PROP_PRESENT = 0,   /* the property has the value already */
    PROP_ADDED,
    PROP_REPLACED,      /* it had another type or value */
    PROP_OTHER,         /* it has another type or value, left alone */
} vfmigPropResult;


/*
 * Makes <qemu:override>'s frontend of the device @alias hold the property
 * @name of @type and @value: added when missing; when it has another
 * type or value, replaced if @replace, else left (PROP_OTHER, its value
 * in *@old).
 */
static int
ensureProperty(vfmigPrepare *p,
               const char *alias,
               const char *name,
               const char *type,
               const char *value,
               bool replace,
               vfmigPropResult *result,
               char **old)
{
    const char *const deviceAttrs[] = { "alias", alias, NULL };
    const char *const propAttrs[] = { "name", name, "type", type, "value", value, NULL };
    xmlNodePtr override;
    xmlNodePtr device = NULL;
    xmlNodePtr frontend = NULL;
    xmlNodePtr prop = NULL;
    xmlNsPtr ns;

    if ((override = findChild(p->root, VFMIG_QEMU_DOMAIN_NS_URI, "override", NULL, NULL)) &&
        (device = findChild(override, VFMIG_QEMU_DOMAIN_NS_URI, "device", "alias", alias)) &&
        (frontend = findChild(device, VFMIG_QEMU_DOMAIN_NS_URI, "frontend", NULL, NULL)))
        prop = findChild(frontend, VFMIG_QEMU_DOMAIN_NS_URI, "property", "name", name);

    if (prop) {
        g_autofree char *curType = vfmigXMLPropString(prop, "type");
        g_autofree char *curValue = vfmigXMLPropString(prop, "value");

        if (g_strcmp0(curType, type) == 0 && g_strcmp0(curValue, value) == 0) {
            *result = PROP_PRESENT;
            return 0;
        }
        *old = g_strdup_printf("type='%s' value='%s'", curType ? curType : "",
                               curValue ? curValue : "");
        if (!replace) {
            *result = PROP_OTHER;
            return 0;
        }
        if (!xmlSetProp(prop, BAD_CAST "type", BAD_CAST type) ||
            !xmlSetProp(prop, BAD_CAST "value", BAD_CAST value)) {
            vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                             _("cannot set the property '%1$s' in <qemu:override>"), name);
            return -1;
        }
        *result = PROP_REPLACED;
        return 0;
    }

    if (qemuNamespace(p, &ns) < 0)
        return -1;
    if ((!override &&
         !(override = addElement(p->root, NULL, ns, "override", NULL))) ||
        (!device &&
         !(device = addElement(override, NULL, ns, "device", deviceAttrs))) ||
        (!frontend &&
         !(frontend = addElement(device, NULL, ns, "frontend", NULL))) ||
        !addElement(frontend, NULL, ns, "property", propAttrs))
        return -1;
    *result = PROP_ADDED;
    return 0;
}


static bool
qemuHas(const vfmigDomainPrepareQEMU *qemu,
        const char *property)
{
    return qemu->state == VFMIG_DOMAIN_PREPARE_QEMU_KNOWN && qemu->properties &&
        g_strv_contains((const char *const *) qemu->properties, property);
}


static const char *
emulatorName(const vfmigDomainPrepareQEMU *qemu)
{
    return qemu->emulator ? qemu->emulator : _("the domain's QEMU");
}


/*
 * What all guest RAM dirty costs this domain: its RAM over the link, or,
 * when its XML gives no RAM, the same per GiB.
 */
static char *
allDirtyLeast(const vfmigPrepare *p)
{
    uint64_t linkBps = p->opts->linkBps ? p->opts->linkBps :
        VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED;
    g_autofree char *link = vfmigNodeDevAllDirtyFormatLink(linkBps);
    g_autofree char *time = NULL;
    const char *source = p->opts->linkBps ?
        _("the link speed given") :
        _("the link speed assumed; domain-prepare --link-mbps gives this host's");

    if (p->ramBytes == 0) {
        time = vfmigNodeDevAllDirtyFormatTime(
            vfmigNodeDevAllDirtyLeastUs(1024 * 1024 * 1024, linkBps));
        return g_strdup_printf(_("The switch-over then copies all guest RAM with the guest stopped: the downtime is at least %1$s per GiB of guest RAM at %2$s (%3$s), whatever the downtime target."),
                               time, link, source);
    } else {
        g_autofree char *ram = vfmigNodeDevAllDirtyFormatRAM(p->ramBytes);

        time = vfmigNodeDevAllDirtyFormatTime(
            vfmigNodeDevAllDirtyLeastUs(p->ramBytes, linkBps));
        return g_strdup_printf(_("The switch-over then copies all %1$s of guest RAM with the guest stopped: the downtime is at least %2$s at %3$s (%4$s), whatever the downtime target."),
                               ram, time, link, source);
    }
}


/* enable-migration=on where QEMU sees no DMA dirty tracking. */
static int
prepareEnableMigration(vfmigPrepare *p,
                       const vfmigDomainPolicyDomHostdev *dh,
                       const vfmigNodeDevPCI *dev,
                       vfmigNodeDevQEMU qemu,
                       const char *alias)
{
    const vfmigDomainPrepareQEMU *q = &p->opts->qemu;
    g_autofree char *name = hostdevName(dh);
    g_autofree char *old = NULL;
    g_autofree char *reason = NULL;
    g_autofree char *least = NULL;
    vfmigPropResult res;

    if (qemu != VFMIG_NODEDEV_QEMU_ALL_DIRTY) {
        xmlNodePtr override = findChild(p->root, VFMIG_QEMU_DOMAIN_NS_URI, "override", NULL, NULL);
        xmlNodePtr device = override ? findChild(override, VFMIG_QEMU_DOMAIN_NS_URI, "device", "alias", alias) : NULL;
        xmlNodePtr frontend = device ? findChild(device, VFMIG_QEMU_DOMAIN_NS_URI, "frontend", NULL, NULL) : NULL;

        if (frontend &&
            findChild(frontend, VFMIG_QEMU_DOMAIN_NS_URI, "property", "name", "enable-migration"))
            addNote(p, g_strdup_printf(_("%1$s: the VF has DMA dirty tracking ('%2$s'), so QEMU migrates it without enable-migration; the property in <qemu:override> is left as it is"),
                                       name, vfmigNodeDevDirtyTypeToString(dev->cap->dirty)));
        return 0;
    }

    if (q->state == VFMIG_DOMAIN_PREPARE_QEMU_KNOWN &&
        !qemuHas(q, "enable-migration")) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("%1$s: the VF has no DMA dirty tracking, so QEMU migrates it only with the vfio-pci property enable-migration=on, and '%2$s' has no such property (QEMU before 8.1): give the domain a newer QEMU"),
                         name, emulatorName(q));
        return -1;
    }

    if (ensureProperty(p, alias, "enable-migration", "string", "on", true,
                       &res, &old) < 0)
        return -1;
    if (res == PROP_PRESENT)
        return 0;
    if (q->state != VFMIG_DOMAIN_PREPARE_QEMU_KNOWN)
        addNote(p, g_strdup_printf(_("%1$s: whether %2$s has enable-migration is unknown (%3$s): it is set all the same, as the VF needs it (QEMU 8.1 and later have it)"),
                                   name, emulatorName(q),
                                   q->why ? q->why : _("not asked")));

    reason = dev->cap->dirtyReason ? g_strdup(dev->cap->dirtyReason) :
        g_strdup_printf(_("driver '%1$s' offers no DMA dirty logging"), dev->cap->driver);
    least = allDirtyLeast(p);
    addChange(p,
              res == PROP_ADDED ?
              g_strdup_printf(_("%1$s: <qemu:override> vfio-pci enable-migration=on for '%2$s'"),
                              name, alias) :
              g_strdup_printf(_("%1$s: <qemu:override> vfio-pci enable-migration=on for '%2$s' (was %3$s)"),
                              name, alias, old),
              g_strdup_printf(_("The VF has no DMA dirty tracking (%1$s), and QEMU refuses to migrate a VM whose vfio-pci device has none unless the device has enable-migration=on; libvirt never sets it, so the domain carries it in <qemu:override>. QEMU then counts all guest RAM as dirty on every pass, so RAM alone never gets below the downtime target: migrate with a switchover bandwidth (virsh migrate --available-switchover-bandwidth MiB/s, the bandwidth the switchover may use), or QEMU may never switch over. %2$s"),
                              reason, least));
    return 0;
}


/* migration-events=on where the domain's QEMU has it. */
static int
prepareMigrationEvents(vfmigPrepare *p,
                       const vfmigDomainPolicyDomHostdev *dh,
                       const char *alias)
{
    const vfmigDomainPrepareQEMU *q = &p->opts->qemu;
    g_autofree char *name = hostdevName(dh);
    g_autofree char *old = NULL;
    vfmigPropResult res;

    if (q->state != VFMIG_DOMAIN_PREPARE_QEMU_KNOWN) {
        addNote(p, g_strdup_printf(_("%1$s: migration-events not added: whether %2$s has it is unknown (%3$s)"),
                                   name, emulatorName(q),
                                   q->why ? q->why : _("not asked")));
        return 0;
    }
    if (!qemuHas(q, "migration-events")) {
        addNote(p, g_strdup_printf(_("%1$s: migration-events not added: '%2$s' has no such vfio-pci property (QEMU before 9.1)"),
                                   name, emulatorName(q)));
        return 0;
    }

    if (ensureProperty(p, alias, "migration-events", "bool", "true", false,
                       &res, &old) < 0)
        return -1;
    switch (res) {
    case PROP_PRESENT:
        break;
    case PROP_OTHER:
        addNote(p, g_strdup_printf(_("%1$s: <qemu:override> sets migration-events to %2$s for '%3$s': left as it is"),
                                   name, old, alias));
        break;
    case PROP_ADDED:
    case PROP_REPLACED:
    default:
        addChange(p,
                  g_strdup_printf(_("%1$s: <qemu:override> vfio-pci migration-events=on for '%2$s'"),
                                  name, alias),
                  g_strdup(_("QEMU then reports every migration state change of the device (running, pre-copy, stop-copy, resuming...) as a VFIO_MIGRATION event on its monitor, so that a management layer follows the device through a migration without polling.")));
        break;
    }
    return 0;
}


/* The policy entry of the hostdev @dh, named by @alias. */
static int
preparePolicyEntry(vfmigPrepare *p,
                   const vfmigDomainPolicyDomHostdev *dh,
                   const vfmigNodeDevPCI *dev,
                   const vfmigNodeDevBind *pending,
                   const char *alias)
{
    const vfmigDomainPrepareOptions *opts = p->opts;
    const vfmigNodeDevCapVFIOMig *cap = dev->cap;
    bool canPrecopy = cap && (cap->features & VFMIG_NODEDEV_FEATURE_PRE_COPY);
    g_autofree char *name = hostdevName(dh);
    g_autoptr(vfmigDomainPolicyIdentity) id = NULL;
    g_autofree char *idText = NULL;
    vfmigDomainPolicyHostdev *entry;
    vfmigDomainPolicyPrecopy precopy;

    entry = (vfmigDomainPolicyHostdev *) vfmigDomainPolicyLookup(p->policy, dh);
    if (!entry) {
        entry = g_new0(vfmigDomainPolicyHostdev, 1);
        entry->alias = g_strdup(alias);
        p->policy->hostdevs = g_renew(vfmigDomainPolicyHostdev *, p->policy->hostdevs,
                                      p->policy->nhostdevs + 1);
        p->policy->hostdevs[p->policy->nhostdevs++] = entry;
        p->policyChanged = true;
        addChange(p,
                  g_strdup_printf(_("%1$s: migration policy entry for '%2$s'"), name, alias),
                  g_strdup(_("The entry holds the hostdev's pre-copy mode and the identity of its VF, which the destination's vfmig hook checks before any state moves.")));
        precopy = opts->precopy;
        /* not bound yet: 'preferred' migrates with or without pre-copy */
        if (precopy == VFMIG_DOMAIN_POLICY_PRECOPY_DEFAULT)
            precopy = canPrecopy || pending ? VFMIG_DOMAIN_POLICY_PRECOPY_PREFERRED :
                VFMIG_DOMAIN_POLICY_PRECOPY_OFF;
    } else {
        if (!entry->alias) {
            g_autofree char *addr = vfmigPCIAddressFormat(&entry->address);

            entry->alias = g_strdup(alias);
            entry->hasAddress = false;
            p->policyChanged = true;
            addChange(p,
                      g_strdup_printf(_("%1$s: the policy entry names it by its alias '%2$s', not by its source address %3$s"),
                                      name, alias, addr),
                      g_strdup(_("A migration rewrites the hostdev's source address for the destination's VF, where an entry by the source's address would name nothing; the user alias stays.")));
        }
        precopy = opts->precopy;
    }

    if (precopy != VFMIG_DOMAIN_POLICY_PRECOPY_DEFAULT && precopy != entry->precopy) {
        const char *mode = vfmigDomainPolicyPrecopyTypeToString(precopy);
        const char *why;

        entry->precopy = precopy;
        p->policyChanged = true;
        switch (precopy) {
        case VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED:
            why = _("The device's state moves while the VM runs, and a migration to a VF that cannot pre-copy with this one is refused.");
            break;
        case VFMIG_DOMAIN_POLICY_PRECOPY_OFF:
            why = canPrecopy ?
                _("The device's whole state moves while the VM is stopped, as one image.") :
                _("The VF cannot pre-copy: its whole state moves while the VM is stopped, as one image.");
            break;
        case VFMIG_DOMAIN_POLICY_PRECOPY_PREFERRED:
        case VFMIG_DOMAIN_POLICY_PRECOPY_DEFAULT:
        case VFMIG_DOMAIN_POLICY_PRECOPY_LAST:
        default:
            why = _("The device's state moves while the VM runs where both VFs can pre-copy, else while it is stopped.");
            break;
        }
        addChange(p, g_strdup_printf(_("%1$s: pre-copy mode '%2$s'"), name, mode),
                  g_strdup(why));
    }
    /* the identity and the features are the bound driver's */
    if (pending)
        return 0;
    if (entry->precopy == VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED && !canPrecopy) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("%1$s: the policy requires pre-copy, and the VF (driver '%2$s') cannot pre-copy: every migration would be refused; use --precopy preferred or off"),
                         name, cap->driver);
        return -1;
    }

    if (vfmigHookLocalIdentity(p->opts->paths, dev, &id) < 0)
        return -1;
    idText = describeIdentity(id);
    if (!entry->identity) {
        addChange(p, g_strdup_printf(_("%1$s: identity of the VF: %2$s"), name, idText),
                  g_strdup(_("The destination's vfmig hook refuses a migration to a VF that differs from it (another driver, device, firmware or state format, no multi-load where this one sends several images, another state size), before any state moves.")));
    } else if (!identityEqual(entry->identity, id)) {
        g_autofree char *oldText = describeIdentity(entry->identity);

        addChange(p, g_strdup_printf(_("%1$s: identity of the VF: %2$s (was %3$s)"),
                                     name, idText, oldText),
                  g_strdup(_("The identity describes the VF the domain migrates from, which is this host's: the destination's vfmig hook checks its VF against it.")));
    } else {
        return 0;
    }
    vfmigDomainPolicyIdentityFree(entry->identity);
    entry->identity = g_steal_pointer(&id);
    p->policyChanged = true;
    return 0;
}


/* The domain's default downtime. */
static void
prepareDowntime(vfmigPrepare *p,
                bool created)
{
    const vfmigDomainPrepareOptions *opts = p->opts;
    vfmigDomainPolicyDowntime *dt = &p->policy->downtime;

    if (created) {
        dt->targetMs = opts->targetMs ? opts->targetMs :
            VFMIG_DOMAIN_POLICY_DEFAULT_TARGET_MS;
        dt->onFailure = opts->onFailure ? opts->onFailure :
            VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT;
        p->policyChanged = true;
        addChange(p,
                  g_strdup_printf(_("migration policy <vfmig:migration> in <metadata>, downtime target %1$u ms, on failure '%2$s'"),
                                  dt->targetMs,
                                  vfmigDomainPolicyOnFailureTypeToString(dt->onFailure)),
                  g_strdup(_("libvirt keeps it with the domain and sends it with every migration. The downtime target ends pre-copy; when it cannot be met, 'abort' cancels the migration and the VM keeps running here, 'best-effort' switches over anyway.")));
        return;
    }
    if (opts->targetMs && opts->targetMs != dt->targetMs) {
        dt->targetMs = opts->targetMs;
        p->policyChanged = true;
        addChange(p, g_strdup_printf(_("downtime target %1$u ms"), dt->targetMs),
                  g_strdup(_("Pre-copy ends when the rest of the state can move within it; each hostdev entry may set its own.")));
    }
    if (opts->onFailure && opts->onFailure != dt->onFailure) {
        dt->onFailure = opts->onFailure;
        p->policyChanged = true;
        addChange(p, g_strdup_printf(_("on failure '%1$s'"),
                                     vfmigDomainPolicyOnFailureTypeToString(dt->onFailure)),
                  g_strdup(dt->onFailure == VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT ?
                           _("When the downtime target cannot be met the migration is cancelled and the VM keeps running here.") :
                           _("When the downtime target cannot be met the VM switches over anyway, with a longer downtime.")));
    }
}


/* Puts the changed policy into <metadata>, in place of the old one. */
static int
writePolicy(vfmigPrepare *p)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;
    g_autoptr(xmlDoc) pdoc = NULL;
    g_autofree char *str = NULL;
    xmlNodePtr metadata;
    xmlNodePtr old = NULL;
    xmlNodePtr node;

    if (!(metadata = findChild(p->root, NULL, "metadata", NULL, NULL))) {
        static const char *const before[] = { "name", "uuid", "genid", "title", "description" };
        xmlNodePtr child;
        size_t i;

        for (child = p->root->children; child; child = child->next) {
            if (child->type != XML_ELEMENT_NODE || child->ns)
                continue;
            for (i = 0; i < G_N_ELEMENTS(before); i++) {
                if (xmlStrEqual(child->name, BAD_CAST before[i]))
                    break;
            }
            if (i == G_N_ELEMENTS(before))
                break;
        }
        if (!(metadata = addElement(p->root, child, NULL, "metadata", NULL)))
            return -1;
    } else {
        old = findChild(metadata, VFMIG_DOMAIN_POLICY_NS_URI, "migration", NULL, NULL);
    }

    vfmigBufferSetIndent(&buf, (elementDepth(metadata) + 1) * 2);
    vfmigDomainPolicyFormat(&buf, p->policy);
    str = g_strstrip(vfmigBufferContentAndReset(&buf));
    if (!(pdoc = vfmigXMLReadDoc(str, _("formatted migration policy"))))
        return -1;
    if (!(node = xmlDocCopyNode(xmlDocGetRootElement(pdoc), p->doc, 1))) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                         _("cannot copy the formatted migration policy into the domain XML"));
        return -1;
    }
    if (old) {
        xmlReplaceNode(old, node);
        xmlFreeNode(old);
    } else {
        linkChild(metadata, NULL, node);
    }
    return 0;
}


/* Every <alias name=> of the domain's devices. */
static int
collectAliases(vfmigPrepare *p)
{
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlXPathObject) obj = NULL;
    int i;

    p->aliases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!(ctxt = xmlXPathNewContext(p->doc)) ||
        !(obj = xmlXPathEval(BAD_CAST "/domain/devices//alias/@name", ctxt)) ||
        obj->type != XPATH_NODESET) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                         _("cannot evaluate the XPath expression of the domain's aliases"));
        return -1;
    }
    for (i = 0; obj->nodesetval && i < obj->nodesetval->nodeNr; i++) {
        char *val = (char *) xmlNodeGetContent(obj->nodesetval->nodeTab[i]);

        g_hash_table_add(p->aliases, g_strdup(val));
        xmlFree(val);
    }
    return 0;
}


/* The elements of the domain's hostdevs, in the order of
 * vfmigDomainPolicyParseDomainXML's. */
static int
hostdevNodes(vfmigPrepare *p,
             guint count,
             xmlNodePtr **nodes)
{
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlXPathObject) obj = NULL;
    int n;

    if (!(ctxt = xmlXPathNewContext(p->doc)) ||
        !(obj = xmlXPathEval(BAD_CAST "/domain/devices/hostdev[@type='pci'] | "
                             "/domain/devices/interface[@type='hostdev']", ctxt)) ||
        obj->type != XPATH_NODESET) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                         _("cannot evaluate the XPath expression of the domain's hostdevs"));
        return -1;
    }
    n = obj->nodesetval ? obj->nodesetval->nodeNr : 0;
    if (n < 0 || (guint) n != count) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("the domain XML has %1$d hostdevs, and its policy parser found %2$u"),
                         n, count);
        return -1;
    }
    *nodes = g_new0(xmlNodePtr, count + 1);
    if (n > 0)
        memcpy(*nodes, obj->nodesetval->nodeTab, n * sizeof(xmlNodePtr));
    return 0;
}


int
vfmigDomainPrepare(const char *xml,
                   const vfmigDomainPrepareOptions *opts,
                   vfmigDomainPrepareResult **result)
{
    g_autoptr(vfmigDomainPrepareResult) res = g_new0(vfmigDomainPrepareResult, 1);
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(GHashTable) aliases = NULL;
    g_autofree xmlNodePtr *nodes = NULL;
    vfmigPrepare p = { .opts = opts };
    bool created = false;
    guint i;
    int rc;

    *result = NULL;
    res->changes = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigDomainPrepareChangeFree);
    res->notes = g_ptr_array_new_with_free_func(g_free);
    p.res = res;

    if ((rc = vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs)) < 0 ||
        vfmigDomainPolicyParseDomainMemory(xml, &p.ramBytes) < 0)
        return -1;
    if (hostdevs->len == 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("the domain has no <hostdev type='pci'> and no <interface type='hostdev'>: it has no VF to prepare for migration"));
        return -1;
    }
    if (policy && policy->origin == VFMIG_DOMAIN_POLICY_ORIGIN_HOST) {
        addChange(&p, g_strdup(_("the host default's migration policy (origin='host') is replaced by one of the domain's own")),
                  g_strdup(_("The host default writes its policy into a running domain's live metadata, naming the hostdevs by the aliases libvirt gave them for that run, and a migration with --persistent (as Nova's) copies it into the definition. The domain's own policy takes its place, and the host default never overwrites it.")));
        g_clear_pointer(&policy, vfmigDomainPolicyFree);
    }
    if (policy && vfmigDomainPolicyCheckHostdevs(policy, hostdevs) < 0)
        return -1;
    if (!policy) {
        policy = g_new0(vfmigDomainPolicy, 1);
        created = true;
    }
    p.policy = policy;

    if (!(doc = readDomain(xml)))
        return -1;
    p.doc = doc;
    p.root = xmlDocGetRootElement(doc);
    res->oldXML = formatDoc(doc);
    if (collectAliases(&p) < 0)
        return -1;
    aliases = p.aliases;
    if (hostdevNodes(&p, hostdevs->len, &nodes) < 0)
        return -1;

    prepareDowntime(&p, created);

    for (i = 0; i < hostdevs->len; i++) {
        const vfmigDomainPolicyDomHostdev *dh = g_ptr_array_index(hostdevs, i);
        g_autoptr(vfmigNodeDevPCI) dev = NULL;
        g_autoptr(vfmigNodeDevBind) pending = NULL;
        g_autofree char *alias = NULL;
        vfmigNodeDevQEMU qemu = VFMIG_NODEDEV_QEMU_ALLOWED;

        if (probeVF(&p, dh, &dev, &qemu, &pending) < 0)
            return -1;
        if (ensureAlias(&p, dh, nodes[i], &alias) < 0 ||
            preparePolicyEntry(&p, dh, dev, pending, alias) < 0 ||
            (!pending && prepareEnableMigration(&p, dh, dev, qemu, alias) < 0) ||
            prepareMigrationEvents(&p, dh, alias) < 0)
            return -1;
        if (pending)
            notePending(&p, dh, dev, pending);
    }

    if (p.policyChanged && writePolicy(&p) < 0)
        return -1;

    if (res->changes->len > 0)
        res->newXML = formatDoc(doc);
    else
        res->newXML = g_strdup(res->oldXML);
    *result = g_steal_pointer(&res);
    return 0;
}
