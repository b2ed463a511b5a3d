/*
 * test-nodedev-xml2xml.c: the vfio-migration capability, XML in and out
 *
 * Golden tests in the shape of libvirt's nodedevxml2xmltest: every
 * nodedevschemadata/NAME.xml (a libvirt node-device document) goes through
 * extract -> parse -> format -> insert and must equal nodedevxml2xmlout/
 * NAME.xml; with VFMIG_TEST_REGENERATE_OUTPUT=1 the outputs are rewritten
 * instead, as libvirt's VIR_TEST_REGENERATE_OUTPUT does.  Bare
 * capabilities in nodedevcapdata/ must be canonical (format(parse(x)) ==
 * x), and the -invalid ones refused.  Then the parser's and the document
 * functions' errors, one malformed input each.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>

#include "vfmigerror.h"
#include "vfmignodedevxml.h"


static bool
regenerate(void)
{
    const char *env = g_getenv("VFMIG_TEST_REGENERATE_OUTPUT");

    return env && strcmp(env, "1") == 0;
}


static char *
dataPath(const char *dir, const char *name)
{
    return g_test_build_filename(G_TEST_DIST, dir, name, NULL);
}


static char *
readFile(const char *path)
{
    g_autoptr(GError) err = NULL;
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &err))
        g_error("cannot read %s: %s", path, err->message);
    return text;
}


/* Logs the first differing line, so a failure says where. */
static void
reportDifference(const char *path, const char *expected, const char *actual)
{
    g_auto(GStrv) exp = g_strsplit(expected, "\n", -1);
    g_auto(GStrv) act = g_strsplit(actual, "\n", -1);
    size_t i;

    for (i = 0; exp[i] && act[i]; i++) {
        if (strcmp(exp[i], act[i]) != 0)
            break;
    }
    g_test_message("%s differs at line %zu:\n-%s\n+%s\n"
                   "(VFMIG_TEST_REGENERATE_OUTPUT=1 rewrites the expected output)",
                   path, i + 1, exp[i] ? exp[i] : "<end of file>",
                   act[i] ? act[i] : "<end of file>");
}


static void
compareToFile(const char *actual, const char *path)
{
    g_autofree char *expected = NULL;

    if (regenerate()) {
        g_autoptr(GError) err = NULL;

        if (g_file_test(path, G_FILE_TEST_EXISTS))
            expected = readFile(path);
        if (!expected || strcmp(expected, actual) != 0) {
            if (!g_file_set_contents(path, actual, -1, &err))
                g_error("cannot write %s: %s", path, err->message);
            g_test_message("regenerated %s", path);
        }
        return;
    }

    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_test_message("%s is missing (VFMIG_TEST_REGENERATE_OUTPUT=1 writes it)", path);
        g_test_fail();
        return;
    }
    expected = readFile(path);
    if (strcmp(expected, actual) != 0) {
        reportDifference(path, expected, actual);
        g_test_fail();
    }
}


static char *
mustInsert(const char *xml, const vfmigNodeDevCapVFIOMig *cap)
{
    char *out = vfmigNodeDevXMLInsertCap(xml, cap);

    if (!out)
        g_error("insert failed: %s", vfmigGetLastErrorMessage());
    return out;
}


static void
testXML2XML(gconstpointer opaque)
{
    const char *name = opaque;
    g_autofree char *inPath = dataPath("nodedevschemadata", name);
    g_autofree char *outPath = dataPath("nodedevxml2xmlout", name);
    g_autofree char *input = readFile(inPath);
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;
    g_autofree char *out = NULL;
    g_autofree char *again = NULL;
    g_autofree char *stripped = NULL;
    g_autofree char *strippedOut = NULL;
    g_autofree char *reinserted = NULL;

    vfmigResetLastError();
    if (vfmigNodeDevXMLExtractCap(input, &cap) < 0)
        g_error("%s: %s", name, vfmigGetLastErrorMessage());

    if (cap) {
        /* The struct survives its own XML. */
        g_autofree char *bare = vfmigNodeDevCapVFIOMigFormatString(cap);
        g_autoptr(vfmigNodeDevCapVFIOMig) cap2 = vfmigNodeDevCapVFIOMigParseString(bare);
        g_autofree char *bare2 = NULL;

        g_assert_nonnull(cap2);
        bare2 = vfmigNodeDevCapVFIOMigFormatString(cap2);
        g_assert_cmpstr(bare, ==, bare2);
    }

    out = mustInsert(input, cap);
    compareToFile(out, outPath);

    /* Idempotent: inserting into the output changes nothing. */
    again = mustInsert(out, cap);
    g_assert_cmpstr(again, ==, out);

    /* Removing it leaves libvirt's document as it was. */
    stripped = mustInsert(input, NULL);
    strippedOut = mustInsert(out, NULL);
    g_assert_cmpstr(stripped, ==, strippedOut);
    if (!cap)
        g_assert_cmpstr(stripped, ==, input);
    g_assert_null(strstr(stripped, "vfio-migration"));

    /* Into a document that never had it: the same output. */
    reinserted = mustInsert(stripped, cap);
    g_assert_cmpstr(reinserted, ==, out);
}


static void
testCapData(gconstpointer opaque)
{
    const char *name = opaque;
    g_autofree char *path = dataPath("nodedevcapdata", name);
    g_autofree char *input = readFile(path);
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;
    g_autofree char *out = NULL;

    vfmigResetLastError();
    cap = vfmigNodeDevCapVFIOMigParseString(input);

    if (g_str_has_suffix(name, "-invalid.xml")) {
        g_assert_null(cap);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
        g_test_message("%s: %s", name, vfmigGetLastErrorMessage());
        return;
    }

    if (!cap)
        g_error("%s: %s", name, vfmigGetLastErrorMessage());
    out = vfmigNodeDevCapVFIOMigFormatString(cap);
    if (strcmp(out, input) != 0) {
        reportDifference(path, input, out);
        g_test_fail();
    }
}


/* ------------------------------------------------------------------ */
/* Parse errors                                                        */
/* ------------------------------------------------------------------ */

#define DRIVER "<driver name='mlx5_vfio_pci' variant='yes'/>"
#define FEATURES "<features source='sysfs'><stop-copy/><pre-copy mode='on'/></features>"
#define DIRTY "<dirty-tracking type='device'/>"
#define IDENTITY "<identity vendor='0x15b3' device='0x101e'/>"
#define LIVE_ATTRS "initial-bytes='0' dirty-bytes='0' stop-copy-bytes='0' " \
                   "stop-latency-us='0' resume-latency-us='0'"
#define CAP(body) "<capability type='vfio-migration'>" body "</capability>"

typedef struct {
    const char *name;
    const char *xml;
    const char *needles[3];     /* all in the message */
} ParseErrorCase;

static const ParseErrorCase parseErrors[] = {
    { "not-xml", "<capability type='vfio-migration'>",
      { "malformed", "line 1" } },
    { "wrong-element", "<device/>",
      { "<capability type='vfio-migration'>", "<device>" } },
    { "wrong-type", "<capability type='pci'/>",
      { "'vfio-migration'", "'pci'" } },
    { "no-type", "<capability/>",
      { "'vfio-migration'" } },
    { "unknown-element", CAP(DRIVER FEATURES DIRTY IDENTITY "<post-copy/>"),
      { "unknown element <post-copy>", "<capability>" } },
    { "missing-driver", CAP(FEATURES DIRTY IDENTITY),
      { "missing element <driver>" } },
    { "missing-features", CAP(DRIVER DIRTY IDENTITY),
      { "missing element <features>" } },
    { "missing-dirty", CAP(DRIVER FEATURES IDENTITY),
      { "missing element <dirty-tracking>" } },
    { "missing-identity", CAP(DRIVER FEATURES DIRTY),
      { "missing element <identity>" } },
    { "duplicate-driver", CAP(DRIVER DRIVER FEATURES DIRTY IDENTITY),
      { "duplicate element <driver>" } },
    { "duplicate-features", CAP(DRIVER FEATURES FEATURES DIRTY IDENTITY),
      { "duplicate element <features>" } },
    { "duplicate-identity", CAP(DRIVER FEATURES DIRTY IDENTITY IDENTITY),
      { "duplicate element <identity>" } },
    { "driver-no-name", CAP("<driver variant='yes'/>" FEATURES DIRTY IDENTITY),
      { "missing attribute 'name'", "<driver>" } },
    { "driver-empty-name", CAP("<driver name='' variant='yes'/>" FEATURES DIRTY IDENTITY),
      { "invalid value ''", "'name'", "<driver>" } },
    { "driver-no-variant", CAP("<driver name='x'/>" FEATURES DIRTY IDENTITY),
      { "missing attribute 'variant'", "<driver>" } },
    { "driver-bad-variant", CAP("<driver name='x' variant='maybe'/>" FEATURES DIRTY IDENTITY),
      { "'maybe'", "'variant'", "<driver>" } },
    { "driver-child", CAP("<driver name='x' variant='no'><name/></driver>" FEATURES DIRTY IDENTITY),
      { "unknown element <name>", "<driver>" } },
    { "features-no-source", CAP(DRIVER "<features><stop-copy/></features>" DIRTY IDENTITY),
      { "missing attribute 'source'", "<features>" } },
    { "features-bad-source", CAP(DRIVER "<features source='procfs'/>" DIRTY IDENTITY),
      { "'procfs'", "'source'", "<features>" } },
    { "features-unknown", CAP(DRIVER "<features source='vfio'><post-copy/></features>" DIRTY IDENTITY),
      { "unknown element <post-copy>", "<features>" } },
    { "features-duplicate", CAP(DRIVER "<features source='vfio'><p2p/><p2p/></features>" DIRTY IDENTITY),
      { "duplicate element <p2p>", "<features>" } },
    { "precopy-bad-mode", CAP(DRIVER "<features source='vfio'><pre-copy mode='fast'/></features>" DIRTY IDENTITY),
      { "'fast'", "'mode'", "<pre-copy>" } },
    { "precopy-default-mode", CAP(DRIVER "<features source='vfio'><pre-copy mode='default'/></features>" DIRTY IDENTITY),
      { "'default'", "'mode'", "<pre-copy>" } },
    { "precopy-uppercase", CAP(DRIVER "<features source='vfio'><pre-copy mode='ON'/></features>" DIRTY IDENTITY),
      { "'ON'", "'mode'" } },
    { "dirty-no-type", CAP(DRIVER FEATURES "<dirty-tracking/>" IDENTITY),
      { "missing attribute 'type'", "<dirty-tracking>" } },
    { "dirty-bad-type", CAP(DRIVER FEATURES "<dirty-tracking type='full'/>" IDENTITY),
      { "'full'", "'type'", "<dirty-tracking>" } },
    { "dirty-empty-reason", CAP(DRIVER FEATURES "<dirty-tracking type='none' reason=''/>" IDENTITY),
      { "invalid value ''", "'reason'" } },
    { "identity-no-vendor", CAP(DRIVER FEATURES DIRTY "<identity device='0x101e'/>"),
      { "missing attribute 'vendor'", "<identity>" } },
    { "identity-no-device", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x15b3'/>"),
      { "missing attribute 'device'", "<identity>" } },
    { "identity-no-0x", CAP(DRIVER FEATURES DIRTY "<identity vendor='15b3' device='0x101e'/>"),
      { "'15b3'", "'vendor'" } },
    { "identity-not-hex", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x15b3' device='0x10zz'/>"),
      { "'0x10zz'", "'device'" } },
    { "identity-too-wide", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x15b3' device='0x1101e'/>"),
      { "'0x1101e'", "'device'" } },
    { "identity-bare-0x", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x' device='0x101e'/>"),
      { "'0x'", "'vendor'" } },
    { "identity-empty-firmware", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x15b3' device='0x101e' firmware=''/>"),
      { "invalid value ''", "'firmware'" } },
    { "stream-zero", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x15b3' device='0x101e' stream-version='0'/>"),
      { "'0'", "'stream-version'" } },
    { "stream-fraction", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x15b3' device='0x101e' stream-version='1.0'/>"),
      { "'1.0'", "'stream-version'" } },
    { "stream-sign", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x15b3' device='0x101e' stream-version='+1'/>"),
      { "'+1'", "'stream-version'" } },
    { "stream-blank", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x15b3' device='0x101e' stream-version=' 1'/>"),
      { "' 1'", "'stream-version'" } },
    { "stream-overflow", CAP(DRIVER FEATURES DIRTY "<identity vendor='0x15b3' device='0x101e' stream-version='4294967296'/>"),
      { "'4294967296'", "'stream-version'" } },
    { "live-no-state", CAP(DRIVER FEATURES DIRTY IDENTITY "<live " LIVE_ATTRS "/>"),
      { "missing attribute 'state'", "<live>" } },
    { "live-bad-state", CAP(DRIVER FEATURES DIRTY IDENTITY "<live state='SAVING' " LIVE_ATTRS "/>"),
      { "'SAVING'", "'state'", "<live>" } },
    { "live-missing-bytes", CAP(DRIVER FEATURES DIRTY IDENTITY
                                "<live state='STOP' initial-bytes='0' dirty-bytes='0' "
                                "stop-latency-us='0' resume-latency-us='0'/>"),
      { "missing attribute 'stop-copy-bytes'", "<live>" } },
    { "live-negative", CAP(DRIVER FEATURES DIRTY IDENTITY
                           "<live state='STOP' initial-bytes='-1' dirty-bytes='0' stop-copy-bytes='0' "
                           "stop-latency-us='0' resume-latency-us='0'/>"),
      { "'-1'", "'initial-bytes'" } },
    { "live-overflow", CAP(DRIVER FEATURES DIRTY IDENTITY
                           "<live state='STOP' initial-bytes='0' dirty-bytes='18446744073709551616' "
                           "stop-copy-bytes='0' stop-latency-us='0' resume-latency-us='0'/>"),
      { "'18446744073709551616'", "'dirty-bytes'" } },
    { "live-empty", CAP(DRIVER FEATURES DIRTY IDENTITY
                        "<live state='STOP' initial-bytes='0' dirty-bytes='0' stop-copy-bytes='0' "
                        "stop-latency-us='' resume-latency-us='0'/>"),
      { "invalid value ''", "'stop-latency-us'" } },
    { "live-hex", CAP(DRIVER FEATURES DIRTY IDENTITY
                      "<live state='STOP' initial-bytes='0' dirty-bytes='0' stop-copy-bytes='0' "
                      "stop-latency-us='0' resume-latency-us='0x10'/>"),
      { "'0x10'", "'resume-latency-us'" } },
    { "qualified-no-at", CAP(DRIVER FEATURES DIRTY IDENTITY
                             "<qualified verdict='qualified' target-us='300000'/>"),
      { "missing attribute 'at'", "<qualified>" } },
    { "qualified-offset", CAP(DRIVER FEATURES DIRTY IDENTITY
                              "<qualified at='2026-11-24T11:00:00+01:00' verdict='qualified' target-us='1'/>"),
      { "'2026-11-24T11:00:00+01:00'", "'at'", "<qualified>" } },
    { "qualified-fraction", CAP(DRIVER FEATURES DIRTY IDENTITY
                                "<qualified at='2026-11-24T10:00:00.5Z' verdict='qualified' target-us='1'/>"),
      { "'2026-11-24T10:00:00.5Z'", "'at'" } },
    { "qualified-no-such-day", CAP(DRIVER FEATURES DIRTY IDENTITY
                                   "<qualified at='2026-02-30T10:00:00Z' verdict='qualified' target-us='1'/>"),
      { "'2026-02-30T10:00:00Z'", "'at'" } },
    { "qualified-hour-24", CAP(DRIVER FEATURES DIRTY IDENTITY
                               "<qualified at='2026-11-24T24:00:00Z' verdict='qualified' target-us='1'/>"),
      { "'2026-11-24T24:00:00Z'", "'at'" } },
    { "qualified-bad-verdict", CAP(DRIVER FEATURES DIRTY IDENTITY
                                   "<qualified at='2026-11-24T10:00:00Z' verdict='Qualified' target-us='1'/>"),
      { "'Qualified'", "'verdict'", "<qualified>" } },
    { "qualified-no-target", CAP(DRIVER FEATURES DIRTY IDENTITY
                                 "<qualified at='2026-11-24T10:00:00Z' verdict='qualified'/>"),
      { "missing attribute 'target-us'", "<qualified>" } },
    { "qualified-partial", CAP(DRIVER FEATURES DIRTY IDENTITY
                               "<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='1' "
                               "downtime-us='5' stop-latency-us='1' load-commit-us='1' resume-latency-us='1'/>"),
      { "'drain-us' is missing", "<qualified>" } },
    { "qualified-negative", CAP(DRIVER FEATURES DIRTY IDENTITY
                                "<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='1' "
                                "downtime-us='5' stop-latency-us='-1' drain-us='1' load-commit-us='1' resume-latency-us='1'/>"),
      { "'-1'", "'stop-latency-us'" } },
    { "qualified-empty-peer", CAP(DRIVER FEATURES DIRTY IDENTITY
                                  "<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='1' peer=''/>"),
      { "invalid value ''", "'peer'" } },
    { "qualified-child", CAP(DRIVER FEATURES DIRTY IDENTITY
                             "<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='1'><x/></qualified>"),
      { "unknown element <x>", "<qualified>" } },
    { "qualified-duplicate", CAP(DRIVER FEATURES DIRTY IDENTITY
                                 "<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='1'/>"
                                 "<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='1'/>"),
      { "duplicate element <qualified>" } },
    { "live-duplicate", CAP(DRIVER FEATURES DIRTY IDENTITY
                            "<live state='STOP' " LIVE_ATTRS "/><live state='STOP' " LIVE_ATTRS "/>"),
      { "duplicate element <live>" } },
};


static void
testParseError(gconstpointer opaque)
{
    const ParseErrorCase *tc = opaque;
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;
    const char *msg;
    size_t i;

    vfmigResetLastError();
    cap = vfmigNodeDevCapVFIOMigParseString(tc->xml);
    g_assert_null(cap);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    msg = vfmigGetLastErrorMessage();
    g_test_message("%s", msg);
    for (i = 0; i < G_N_ELEMENTS(tc->needles) && tc->needles[i]; i++) {
        if (!strstr(msg, tc->needles[i])) {
            g_test_message("'%s' not in the message", tc->needles[i]);
            g_test_fail();
        }
    }
}


/* ------------------------------------------------------------------ */
/* Document functions                                                  */
/* ------------------------------------------------------------------ */

#define NET_DEVICE \
    "<device>\n" \
    "  <name>net_enp59s0f0v0_5a_1e_9c_01_02_03</name>\n" \
    "  <parent>pci_0000_3b_00_2</parent>\n" \
    "  <capability type='net'>\n" \
    "    <interface>enp59s0f0v0</interface>\n" \
    "  </capability>\n" \
    "</device>\n"

#define PCI_HEAD \
    "<device>\n" \
    "  <name>pci_0000_3b_00_2</name>\n" \
    "  <capability type='pci'>\n" \
    "    <domain>0</domain>\n"

static void
testDocErrors(void)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;
    g_autoptr(vfmigNodeDevCapVFIOMig) found = NULL;

    cap = vfmigNodeDevCapVFIOMigParseString(CAP(DRIVER FEATURES DIRTY IDENTITY));
    g_assert_nonnull(cap);

    /* A device that is not PCI: nothing to extract, nowhere to insert. */
    vfmigResetLastError();
    g_assert_cmpint(vfmigNodeDevXMLExtractCap(NET_DEVICE, &found), ==, 0);
    g_assert_null(found);
    g_assert_null(vfmigNodeDevXMLInsertCap(NET_DEVICE, cap));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "no PCI capability"));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "net_enp59s0f0v0_5a_1e_9c_01_02_03"));

    /* Not a node device. */
    vfmigResetLastError();
    g_assert_null(vfmigNodeDevXMLInsertCap("<domain type='kvm'/>", cap));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "<domain>"));
    g_assert_cmpint(vfmigNodeDevXMLExtractCap("<domain type='kvm'/>", &found), ==, -1);

    /* Malformed. */
    vfmigResetLastError();
    g_assert_null(vfmigNodeDevXMLInsertCap(PCI_HEAD, cap));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "malformed node device XML"));
    g_assert_cmpint(vfmigNodeDevXMLExtractCap("", &found), ==, -1);
    g_assert_null(vfmigNodeDevXMLInsertCap(NULL, cap));

    /* Two PCI capabilities. */
    vfmigResetLastError();
    g_assert_null(vfmigNodeDevXMLInsertCap(
        "<device><name>x</name>"
        "<capability type='pci'><domain>0</domain></capability>"
        "<capability type='pci'><domain>1</domain></capability></device>", cap));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "more than one <capability type='pci'>"));

    /* An empty PCI capability element. */
    vfmigResetLastError();
    g_assert_null(vfmigNodeDevXMLInsertCap("<device><capability type='pci'/></device>", cap));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "empty element"));

    /* Our capability twice. */
    vfmigResetLastError();
    g_assert_cmpint(vfmigNodeDevXMLExtractCap(
        PCI_HEAD
        "    " CAP(DRIVER FEATURES DIRTY IDENTITY) "\n"
        "    " CAP(DRIVER FEATURES DIRTY IDENTITY) "\n"
        "  </capability>\n"
        "</device>\n", &found), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(),
                            "more than one <capability type='vfio-migration'>"));

    /* A malformed capability inside a document. */
    vfmigResetLastError();
    g_assert_cmpint(vfmigNodeDevXMLExtractCap(
        PCI_HEAD
        "    " CAP(DRIVER FEATURES "<dirty-tracking type='full'/>" IDENTITY) "\n"
        "  </capability>\n"
        "</device>\n", &found), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "'full'"));
}


/* A document not laid out as libvirt does still gets a well-formed result
 * that extracts to the same capability. */
static void
testDocCompact(void)
{
    const char *compact =
        "<device><name>pci_0000_3b_00_2</name><capability type='pci'>"
        "<domain>0</domain>" CAP(DRIVER "<features source='vfio'/>" DIRTY IDENTITY)
        "</capability></device>";
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;
    g_autoptr(vfmigNodeDevCapVFIOMig) back = NULL;
    g_autofree char *fmt = NULL;
    g_autofree char *fmtBack = NULL;
    g_autofree char *out = NULL;
    g_autofree char *removed = NULL;

    g_assert_cmpint(vfmigNodeDevXMLExtractCap(compact, &cap), ==, 0);
    g_assert_nonnull(cap);
    g_assert_cmpint(cap->features, ==, 0);
    cap->features = VFMIG_NODEDEV_FEATURE_STOP_COPY;

    out = mustInsert(compact, cap);
    g_assert_cmpint(vfmigNodeDevXMLExtractCap(out, &back), ==, 0);
    g_assert_nonnull(back);
    fmt = vfmigNodeDevCapVFIOMigFormatString(cap);
    fmtBack = vfmigNodeDevCapVFIOMigFormatString(back);
    g_assert_cmpstr(fmt, ==, fmtBack);
    g_assert_true(g_str_has_suffix(out, "</capability></device>"));

    removed = mustInsert(compact, NULL);
    g_assert_cmpstr(removed,
                    ==,
                    "<device><name>pci_0000_3b_00_2</name><capability type='pci'>"
                    "<domain>0</domain></capability></device>");
}


/* Values from sysfs are formatted so that they always parse back. */
static void
testEscaping(void)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = g_new0(vfmigNodeDevCapVFIOMig, 1);
    g_autoptr(vfmigNodeDevCapVFIOMig) back = NULL;
    g_autofree char *xml = NULL;

    cap->driver = g_strdup("drv<&>'\"");
    cap->variant = true;
    cap->dirty = VFMIG_NODEDEV_DIRTY_NONE;
    cap->dirtyReason = g_strdup("line one\nline two\ttab\x01");
    cap->vendor = 0x1b36;
    cap->device = 5;
    cap->firmware = g_strdup("fw \xff\xfe bad utf-8");

    xml = vfmigNodeDevCapVFIOMigFormatString(cap);
    g_assert_nonnull(strstr(xml, "name='drv&lt;&amp;&gt;&apos;&quot;'"));
    g_assert_nonnull(strstr(xml, "device='0x0005'"));
    g_assert_nonnull(strstr(xml, "<features source='sysfs'/>"));
    g_assert_null(strstr(xml, "stream-version"));
    g_assert_null(strstr(xml, "<live"));

    back = vfmigNodeDevCapVFIOMigParseString(xml);
    if (!back)
        g_error("%s", vfmigGetLastErrorMessage());
    g_assert_cmpstr(back->driver, ==, cap->driver);
    g_assert_cmpstr(back->dirtyReason, ==, "line one\nline two\ttab");
    g_assert_true(g_utf8_validate(back->firmware, -1, NULL));
    g_assert_true(g_str_has_prefix(back->firmware, "fw "));
    g_assert_true(g_str_has_suffix(back->firmware, " bad utf-8"));
}


static void
testEnums(void)
{
    g_assert_cmpstr(vfmigNodeDevSourceTypeToString(VFMIG_NODEDEV_SOURCE_DEBUGFS), ==, "debugfs");
    g_assert_cmpint(vfmigNodeDevSourceTypeFromString("cache"), ==, VFMIG_NODEDEV_SOURCE_CACHE);
    g_assert_cmpint(vfmigNodeDevSourceTypeFromString("Cache"), ==, -1);
    g_assert_null(vfmigNodeDevSourceTypeToString(VFMIG_NODEDEV_SOURCE_LAST));
    g_assert_cmpstr(vfmigNodeDevDirtyTypeToString(VFMIG_NODEDEV_DIRTY_IOMMU), ==, "iommu");
    g_assert_cmpint(vfmigNodeDevDirtyTypeFromString("none"), ==, VFMIG_NODEDEV_DIRTY_NONE);
    g_assert_null(vfmigNodeDevDirtyTypeToString(-1));
    g_assert_cmpstr(vfmigNodeDevPrecopyTypeToString(VFMIG_NODEDEV_PRECOPY_SINGLE), ==, "single");
    g_assert_cmpint(vfmigNodeDevPrecopyTypeFromString("off"), ==, VFMIG_NODEDEV_PRECOPY_OFF);
    g_assert_cmpint(vfmigNodeDevPrecopyTypeFromString(NULL), ==, -1);
}


/* The record's time: UTC, whole seconds, exactly one shape. */
static void
testQualifiedTime(void)
{
    g_autofree char *s = vfmigNodeDevQualifiedFormatTime(1795514400);
    g_autofree char *epoch = vfmigNodeDevQualifiedFormatTime(0);
    gint64 at = 0;

    g_assert_cmpstr(s, ==, "2026-11-24T10:00:00Z");
    g_assert_cmpstr(epoch, ==, "1970-01-01T00:00:00Z");
    g_assert_cmpint(vfmigNodeDevQualifiedParseTime(s, &at), ==, 0);
    g_assert_cmpint(at, ==, 1795514400);
    g_assert_cmpint(vfmigNodeDevQualifiedParseTime("2024-02-29T23:59:59Z", &at), ==, 0);
    g_assert_cmpint(vfmigNodeDevQualifiedParseTime("2023-02-29T00:00:00Z", &at), ==, -1);
    g_assert_cmpint(vfmigNodeDevQualifiedParseTime("2026-11-24T10:00:60Z", &at), ==, -1);
    g_assert_cmpint(vfmigNodeDevQualifiedParseTime("2026-11-24 10:00:00Z", &at), ==, -1);
    g_assert_cmpint(vfmigNodeDevQualifiedParseTime("2026-11-24T10:00:00z", &at), ==, -1);
    g_assert_cmpint(vfmigNodeDevQualifiedParseTime("2026-11-24T10:00:00", &at), ==, -1);
    g_assert_cmpint(vfmigNodeDevQualifiedParseTime("", &at), ==, -1);
    g_assert_cmpint(vfmigNodeDevQualifiedParseTime(NULL, &at), ==, -1);
    g_assert_cmpstr(vfmigNodeDevVerdictTypeToString(VFMIG_NODEDEV_VERDICT_QUALIFIED_WITH_WARNINGS),
                    ==, "qualified-with-warnings");
    g_assert_cmpint(vfmigNodeDevVerdictTypeFromString("not-qualified"), ==,
                    VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED);
}


static gint
compareNames(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}


/* NAME.xml files of @dir, sorted; -invalid ones only with @invalid. */
static GPtrArray *
listDir(const char *dir, bool invalid)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, dir, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) d = g_dir_open(path, 0, &err);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!d)
        g_error("cannot list %s: %s", path, err->message);
    while ((name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".xml"))
            continue;
        if (!invalid && g_str_has_suffix(name, "-invalid.xml"))
            continue;
        g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compareNames);
    return names;
}


int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) docs = NULL;
    g_autoptr(GPtrArray) caps = NULL;
    size_t i;

    g_test_init(&argc, &argv, NULL);

    docs = listDir("nodedevschemadata", false);
    caps = listDir("nodedevcapdata", true);

    for (i = 0; i < docs->len; i++) {
        const char *name = g_ptr_array_index(docs, i);
        g_autofree char *path = g_strdup_printf("/nodedev/xml2xml/%s", name);

        g_test_add_data_func(path, name, testXML2XML);
    }
    for (i = 0; i < caps->len; i++) {
        const char *name = g_ptr_array_index(caps, i);
        g_autofree char *path = g_strdup_printf("/nodedev/capdata/%s", name);

        g_test_add_data_func(path, name, testCapData);
    }
    for (i = 0; i < G_N_ELEMENTS(parseErrors); i++) {
        g_autofree char *path = g_strdup_printf("/nodedev/parse-error/%s",
                                                parseErrors[i].name);

        g_test_add_data_func(path, &parseErrors[i], testParseError);
    }
    g_test_add_func("/nodedev/doc/errors", testDocErrors);
    g_test_add_func("/nodedev/doc/compact", testDocCompact);
    g_test_add_func("/nodedev/format/escaping", testEscaping);
    g_test_add_func("/nodedev/enums", testEnums);
    g_test_add_func("/nodedev/qualified/time", testQualifiedTime);

    return g_test_run();
}
