/*
 * test-domain-policy.c: the domain migration policy, XML in and out
 *
 * Every domainpolicydata/NAME.xml is a <vfmig:migration> element:
 *   NAME.xml                parses, and formats to
 *                           domainpolicyxml2xmlout/NAME.xml;
 *   NAME-invalid.xml        is refused with exactly the message in
 *                           NAME-invalid.err (check-schemas.sh checks the
 *                           schema refuses it too);
 *   NAME-parse-invalid.xml  the same, for what only the parser can see
 *                           (two entries for one hostdev, more entries
 *                           than VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX): the
 *                           schema accepts it.
 * The canonical output parses back to itself, and so does the form
 * without namespace that virDomainSetMetadata takes and
 * virDomainGetMetadata gives.  Then whole domain XMLs
 * (domainpolicydomaindata/): the policy found in <metadata>, the PCI
 * hostdevs, which entry names which hostdev, and the domain's own errors.
 * Last the limits, on policies made here (one over the size limit is
 * 1 MiB): at the limit, one over, and refused before any entry is read.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>

#include "vfmigdomainpolicy.h"
#include "vfmigerror.h"

#define DATA_DIR "domainpolicydata"
#define OUT_DIR "domainpolicyxml2xmlout"
#define DOMAIN_DIR "domainpolicydomaindata"


static char *
readFile(const char *dir, const char *name)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, dir, name, NULL);
    g_autoptr(GError) err = NULL;
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &err))
        g_error("cannot read %s: %s", path, err->message);
    return text;
}


static void
assertRefused(const char *dir, const char *name, bool ok)
{
    g_autofree char *base = g_strndup(name, strlen(name) - strlen(".xml"));
    g_autofree char *errName = g_strconcat(base, ".err", NULL);
    g_autofree char *want = readFile(dir, errName);

    g_assert_false(ok);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, g_strchomp(want));
}


static void
testPolicyData(gconstpointer opaque)
{
    const char *name = opaque;
    g_autofree char *input = readFile(DATA_DIR, name);
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(vfmigDomainPolicy) again = NULL;
    g_autofree char *out = NULL;
    g_autofree char *out2 = NULL;
    g_autofree char *want = NULL;
    g_autofree char *bare = NULL;

    vfmigResetLastError();
    policy = vfmigDomainPolicyParseString(input);

    if (g_str_has_suffix(name, "-invalid.xml")) {
        assertRefused(DATA_DIR, name, policy != NULL);
        return;
    }

    if (!policy)
        g_error("%s: %s", name, vfmigGetLastErrorMessage());
    out = vfmigDomainPolicyFormatString(policy);
    want = readFile(OUT_DIR, name);
    g_assert_cmpstr(out, ==, want);

    /* the canonical form is a fixed point */
    if (!(again = vfmigDomainPolicyParseString(out)))
        g_error("%s: output does not parse: %s", name, vfmigGetLastErrorMessage());
    out2 = vfmigDomainPolicyFormatString(again);
    g_assert_cmpstr(out2, ==, out);

    /* the form for virDomainSetMetadata: no namespace, no prefix, and
     * parsed back as virDomainGetMetadata returns it, the same policy */
    g_clear_pointer(&again, vfmigDomainPolicyFree);
    g_clear_pointer(&out2, g_free);
    bare = vfmigDomainPolicyFormatMetadata(policy);
    g_assert_true(g_str_has_prefix(bare, "<migration"));
    g_assert_null(strstr(bare, "vfmig:"));
    g_assert_null(strstr(bare, "xmlns"));
    if (!(again = vfmigDomainPolicyParseString(bare)))
        g_error("%s: metadata form does not parse: %s", name, vfmigGetLastErrorMessage());
    out2 = vfmigDomainPolicyFormatString(again);
    g_assert_cmpstr(out2, ==, out);
}


/* What virsh metadata (virDomainGetMetadata) printed for the policy of
 * domain_policy.xml defined in libvirt 11.3: no namespace, double
 * quotes. */
static void
testMetadataGet(const void *opaque G_GNUC_UNUSED)
{
    g_autofree char *got = readFile(DOMAIN_DIR, "metadata_get.xml");
    g_autofree char *domain = readFile(DOMAIN_DIR, "domain_policy.xml");
    g_autoptr(vfmigDomainPolicy) fromGet = NULL;
    g_autoptr(vfmigDomainPolicy) fromDomain = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;

    vfmigResetLastError();
    g_assert_null(strstr(got, "xmlns"));
    if (!(fromGet = vfmigDomainPolicyParseString(got)))
        g_error("%s", vfmigGetLastErrorMessage());
    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(domain, &fromDomain, &hostdevs), ==, 1);
    a = vfmigDomainPolicyFormatString(fromGet);
    b = vfmigDomainPolicyFormatString(fromDomain);
    g_assert_cmpstr(a, ==, b);
}


/* Errors in the form without namespace: the same paths. */
static void
testMetadataInvalid(const void *opaque G_GNUC_UNUSED)
{
    g_autoptr(vfmigDomainPolicy) policy = NULL;

    vfmigResetLastError();
    policy = vfmigDomainPolicyParseString("<migration>\n  <hostdev alias='ua-a'/>\n"
                                          "  <hostdev alias='hostdev0'/>\n</migration>\n");
    g_assert_null(policy);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "invalid domain migration policy: vfmig:migration/vfmig:hostdev[2]: invalid value 'hostdev0' of attribute 'alias': a hostdev is named by its user alias, 'ua-' and letters, digits, '_' or '-'");

    vfmigResetLastError();
    policy = vfmigDomainPolicyParseString("<migration><n:downtime xmlns:n='urn:x' target-ms='5'/></migration>");
    g_assert_null(policy);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "invalid domain migration policy: vfmig:migration: unknown element <downtime> in the namespace 'urn:x': only elements of the namespace 'http://vfmig.org/xmlns/libvirt/domain/1.0' are allowed");
}


/* A domain with three PCI hostdevs (ua-vf0 at 0000:3b:00.2; 0000:3b:00.3
 * without alias; hostdev2 at 0000:3b:00.4) and a USB one; the policy names
 * ua-vf0 and 0000:3b:00.3. */
static void
testDomainPolicy(const void *opaque G_GNUC_UNUSED)
{
    g_autofree char *xml = readFile(DOMAIN_DIR, "domain_policy.xml");
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    const vfmigDomainPolicyDomHostdev *h;
    const vfmigDomainPolicyDomHostdev *h0;
    const vfmigDomainPolicyDomHostdev *h1;
    const vfmigDomainPolicyDomHostdev *h2;
    vfmigDomainPolicyOnFailure onFailure;
    unsigned int targetMs;
    g_autofree char *addr = NULL;

    vfmigResetLastError();
    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs), ==, 1);
    g_assert_nonnull(policy);
    g_assert_nonnull(hostdevs);
    g_assert_cmpuint(hostdevs->len, ==, 3);
    h0 = g_ptr_array_index(hostdevs, 0);
    h1 = g_ptr_array_index(hostdevs, 1);
    h2 = g_ptr_array_index(hostdevs, 2);
    g_assert_cmpstr(h0->alias, ==, "ua-vf0");
    addr = vfmigPCIAddressFormat(&h0->address);
    g_assert_cmpstr(addr, ==, "0000:3b:00.2");
    g_assert_null(h1->alias);
    g_assert_cmpuint(h1->address.function, ==, 3);
    g_assert_cmpstr(h2->alias, ==, "hostdev2");
    g_assert_cmpuint(h2->address.function, ==, 4);

    g_assert_cmpuint(policy->nhostdevs, ==, 2);
    h = vfmigDomainPolicyFindHostdev(policy->hostdevs[0], hostdevs);
    g_assert_true(h == h0);
    h = vfmigDomainPolicyFindHostdev(policy->hostdevs[1], hostdevs);
    g_assert_true(h == h1);
    g_assert_true(vfmigDomainPolicyLookup(policy, h0) == policy->hostdevs[0]);
    g_assert_true(vfmigDomainPolicyLookup(policy, h1) == policy->hostdevs[1]);
    g_assert_null(vfmigDomainPolicyLookup(policy, h2));
    g_assert_cmpint(vfmigDomainPolicyCheckHostdevs(policy, hostdevs), ==, 0);

    /* ua-vf0 has its own target and inherits the domain's on-failure */
    vfmigDomainPolicyGetDowntime(policy, policy->hostdevs[0], &targetMs, &onFailure);
    g_assert_cmpuint(targetMs, ==, 200);
    g_assert_cmpint(onFailure, ==, VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT);
    /* the other has nothing of its own: the domain's */
    vfmigDomainPolicyGetDowntime(policy, policy->hostdevs[1], &targetMs, &onFailure);
    g_assert_cmpuint(targetMs, ==, 400);
    g_assert_cmpint(onFailure, ==, VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT);
    /* no policy at all: the built-in default */
    vfmigDomainPolicyGetDowntime(NULL, NULL, &targetMs, &onFailure);
    g_assert_cmpuint(targetMs, ==, VFMIG_DOMAIN_POLICY_DEFAULT_TARGET_MS);
    g_assert_cmpint(onFailure, ==, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT);
}


/* The source address rewritten on the destination (Nova, virsh migrate
 * --xml): the entry by alias still finds its hostdev, the one by address
 * finds none and the check says which. */
static void
testDomainRewritten(const void *opaque G_GNUC_UNUSED)
{
    g_autofree char *xml = readFile(DOMAIN_DIR, "domain_rewritten.xml");
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;

    vfmigResetLastError();
    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs), ==, 1);
    g_assert_cmpuint(hostdevs->len, ==, 2);
    g_assert_true(vfmigDomainPolicyFindHostdev(policy->hostdevs[0], hostdevs) ==
                  g_ptr_array_index(hostdevs, 0));
    g_assert_null(vfmigDomainPolicyFindHostdev(policy->hostdevs[1], hostdevs));
    g_assert_cmpint(vfmigDomainPolicyCheckHostdevs(policy, hostdevs), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "domain migration policy: the entry for the hostdev with address 0000:3b:00.3 (entry 2) names no PCI hostdev or hostdev interface of the domain");
}


/* One hostdev named twice, by its alias and by its address: only the
 * domain shows it. */
static void
testDomainNamedTwice(const void *opaque G_GNUC_UNUSED)
{
    g_autofree char *xml = readFile(DOMAIN_DIR, "domain_named_twice.xml");
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;

    vfmigResetLastError();
    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs), ==, 1);
    g_assert_cmpint(vfmigDomainPolicyCheckHostdevs(policy, hostdevs), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "domain migration policy: the entries for the hostdev with alias 'ua-vf0' and with address 0000:3b:00.2 name the same PCI hostdev or hostdev interface of the domain");
    /* the lookup prefers the alias */
    g_assert_true(vfmigDomainPolicyLookup(policy, g_ptr_array_index(hostdevs, 0)) ==
                  policy->hostdevs[0]);
}


/* A VF attached as <interface type='hostdev'> (as Nova attaches SR-IOV
 * ports) is a hostdev of the policy too; other interfaces are not.  How
 * libvirt binds each: managed, and <driver model=>. */
static void
testDomainInterface(const void *opaque G_GNUC_UNUSED)
{
    g_autofree char *xml = readFile(DOMAIN_DIR, "domain_interface.xml");
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    const vfmigDomainPolicyDomHostdev *net;
    const vfmigDomainPolicyDomHostdev *pci;

    vfmigResetLastError();
    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs), ==, 1);
    g_assert_cmpuint(hostdevs->len, ==, 2);
    net = g_ptr_array_index(hostdevs, 0);
    pci = g_ptr_array_index(hostdevs, 1);
    g_assert_true(net->interface);
    g_assert_cmpstr(net->alias, ==, "ua-net0");
    g_assert_cmpuint(net->address.bus, ==, 0x3b);
    g_assert_cmpuint(net->address.function, ==, 2);
    /* libvirt binds it, to the driver it names */
    g_assert_true(net->managed);
    g_assert_cmpstr(net->driverModel, ==, "mlx5_vfio_pci");
    g_assert_false(pci->interface);
    g_assert_null(pci->alias);
    g_assert_cmpuint(pci->address.function, ==, 5);
    g_assert_false(pci->managed);
    g_assert_null(pci->driverModel);
    g_assert_true(vfmigDomainPolicyFindHostdev(policy->hostdevs[0], hostdevs) == pci);
    g_assert_true(vfmigDomainPolicyFindHostdev(policy->hostdevs[1], hostdevs) == net);
    g_assert_true(vfmigDomainPolicyLookup(policy, net) == policy->hostdevs[1]);
    g_assert_cmpint(vfmigDomainPolicyCheckHostdevs(policy, hostdevs), ==, 0);
}


/* A running domain as Nova defines it (managed='yes', no user alias), with
 * the policy of the host default in its live metadata: its entries name
 * the hostdevs by libvirt's aliases, an <interface type='hostdev'> too. */
static void
testDomainHostOrigin(const void *opaque G_GNUC_UNUSED)
{
    g_autofree char *xml = readFile(DOMAIN_DIR, "domain_host_origin.xml");
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    const vfmigDomainPolicyDomHostdev *net;
    const vfmigDomainPolicyDomHostdev *pci;

    vfmigResetLastError();
    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs), ==, 1);
    g_assert_cmpint(policy->origin, ==, VFMIG_DOMAIN_POLICY_ORIGIN_HOST);
    g_assert_cmpstr(policy->flavor, ==, "vf.gold");
    g_assert_cmpuint(hostdevs->len, ==, 2);
    net = g_ptr_array_index(hostdevs, 0);
    pci = g_ptr_array_index(hostdevs, 1);
    g_assert_true(net->interface);
    g_assert_cmpstr(net->alias, ==, "hostdev0");
    g_assert_cmpstr(pci->alias, ==, "hostdev1");
    g_assert_true(vfmigDomainPolicyFindHostdev(policy->hostdevs[0], hostdevs) == pci);
    g_assert_true(vfmigDomainPolicyFindHostdev(policy->hostdevs[1], hostdevs) == net);
    g_assert_true(vfmigDomainPolicyLookup(policy, net) == policy->hostdevs[1]);
    g_assert_cmpint(vfmigDomainPolicyCheckHostdevs(policy, hostdevs), ==, 0);
}


/* Nova's flavor: <nova:instance> of 1.1, else of 1.0. */
static void
testDomainFlavor(const void *opaque G_GNUC_UNUSED)
{
#define NOVA11 "xmlns:nova='" VFMIG_NOVA_NS_URI_1_1 "'"
#define NOVA10 "xmlns:nova='" VFMIG_NOVA_NS_URI_1_0 "'"
    struct {
        const char *metadata;
        int rc;
        const char *flavor;
    } rows[] = {
        { "<metadata><nova:instance " NOVA11 "><nova:name>vm</nova:name>"
          "<nova:flavor name='vf.gold'><nova:memory>4096</nova:memory></nova:flavor>"
          "</nova:instance></metadata>", 1, "vf.gold" },
        { "<metadata><n:instance xmlns:n='" VFMIG_NOVA_NS_URI_1_0 "'>"
          "<n:flavor name='m1.vf'/></n:instance></metadata>", 1, "m1.vf" },
        { "<metadata><nova:instance " NOVA10 "><nova:flavor name='old'/></nova:instance>"
          "<nova:instance " NOVA11 "><nova:flavor name='new'/></nova:instance></metadata>",
          1, "new" },
        { "", 0, NULL },
        { "<metadata/>", 0, NULL },
        { "<metadata><nova:instance " NOVA11 "><nova:name>vm</nova:name></nova:instance></metadata>",
          0, NULL },
        { "<metadata><nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/2.0'>"
          "<nova:flavor name='future'/></nova:instance></metadata>", 0, NULL },
        /* not Nova's: <flavor> in no namespace */
        { "<metadata><nova:instance " NOVA11 "><flavor name='x'/></nova:instance></metadata>",
          0, NULL },
        { "<metadata><nova:instance " NOVA11 "><nova:flavor/></nova:instance></metadata>",
          -1, "domain XML: <nova:flavor> of <nova:instance> has no name" },
        { "<metadata><nova:instance " NOVA11 "><nova:flavor name=''/></nova:instance></metadata>",
          -1, "domain XML: <nova:flavor> of <nova:instance> has no name" },
        { "<metadata><nova:instance " NOVA11 "><nova:flavor name='a'/><nova:flavor name='b'/>"
          "</nova:instance></metadata>",
          -1, "domain XML: two <nova:flavor> elements in the namespace '" VFMIG_NOVA_NS_URI_1_1 "'" },
    };
    size_t i;

#undef NOVA11
#undef NOVA10
    for (i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *xml = g_strdup_printf("<domain type='kvm'><name>vm</name>%s</domain>",
                                               rows[i].metadata);
        g_autofree char *flavor = NULL;

        vfmigResetLastError();
        g_test_message("row %zu", i);
        g_assert_cmpint(vfmigDomainPolicyParseDomainFlavor(xml, &flavor), ==, rows[i].rc);
        if (rows[i].rc < 0) {
            g_assert_null(flavor);
            g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, rows[i].flavor);
        } else {
            g_assert_cmpstr(flavor, ==, rows[i].flavor);
            g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);
        }
    }
}


static void
testDomainNoPolicy(const void *opaque G_GNUC_UNUSED)
{
    g_autofree char *xml = readFile(DOMAIN_DIR, "domain_no_policy.xml");
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;

    vfmigResetLastError();
    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs), ==, 0);
    g_assert_null(policy);
    g_assert_nonnull(hostdevs);
    g_assert_cmpuint(hostdevs->len, ==, 1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);
    g_assert_cmpint(vfmigDomainPolicyCheckHostdevs(NULL, hostdevs), ==, 0);
}


/* domainpolicydomaindata/NAME-invalid.xml: refused with NAME-invalid.err */
static void
testDomainInvalid(gconstpointer opaque)
{
    const char *name = opaque;
    g_autofree char *xml = readFile(DOMAIN_DIR, name);
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    int rc;

    vfmigResetLastError();
    rc = vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs);
    g_assert_cmpint(rc, ==, -1);
    g_assert_null(policy);
    g_assert_null(hostdevs);
    assertRefused(DOMAIN_DIR, name, false);
}


static void
testNotXML(const void *opaque G_GNUC_UNUSED)
{
    g_autoptr(vfmigDomainPolicy) policy = NULL;

    vfmigResetLastError();
    policy = vfmigDomainPolicyParseString("<vfmig:migration xmlns:vfmig='x'>");
    g_assert_null(policy);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    g_assert_true(g_str_has_prefix(vfmigGetLastErrorMessage(),
                                   "malformed domain migration policy XML at line 1: "));
    vfmigResetLastError();
    g_assert_null(vfmigDomainPolicyParseString(NULL));
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "no domain migration policy XML given");
}


/* The guest's RAM: the larger of <memory> and <currentMemory>, in
 * libvirt's units; <maxMemory> is no RAM. */
static void
testDomainMemory(const void *opaque G_GNUC_UNUSED)
{
    struct {
        const char *elements;
        int rc;
        unsigned long long bytes;
        const char *error;
    } rows[] = {
        { "<memory unit='KiB'>4194304</memory>"
          "<currentMemory unit='KiB'>2097152</currentMemory>", 1, 4ULL << 30, NULL },
        { "<memory>65536</memory>", 1, 64ULL << 20, NULL },      /* KiB */
        { "<currentMemory unit='GiB'>2</currentMemory><memory unit='G'>3</memory>",
          1, 3ULL << 30, NULL },
        { "<memory unit='GB'>4</memory>", 1, 4000000000ULL, NULL },
        { "<memory unit='bytes'> 1000 </memory>", 1, 1000, NULL },
        { "<memory unit='m'>512</memory>", 1, 512ULL << 20, NULL },
        { "<memory unit='EiB'>15</memory>", 1, 15ULL << 60, NULL },
        { "<maxMemory slots='16' unit='TiB'>1</maxMemory>"
          "<memory unit='MiB'>1024</memory>", 1, 1ULL << 30, NULL },
        { "<vcpu>1</vcpu>", 0, 0, NULL },
        { "<memory unit='KiB'>4194304</memory><devices><memory unit='KiB'>8</memory></devices>",
          1, 4ULL << 30, NULL },
        { "<memory unit='XiB'>1</memory>", -1, 0,
          "domain XML: <memory> has the unknown unit 'XiB'" },
        { "<memory unit='KiBB'>1</memory>", -1, 0,
          "domain XML: <memory> has the unknown unit 'KiBB'" },
        { "<memory>-1</memory>", -1, 0,
          "domain XML: <memory> is '-1', not a whole number" },
        { "<memory unit='EiB'>16</memory>", -1, 0,
          "domain XML: <memory> of 16 EiB is more than 2^64 bytes" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree char *xml = g_strdup_printf("<domain type='kvm'><name>x</name>%s</domain>",
                                               rows[i].elements);
        unsigned long long bytes = 1;

        vfmigResetLastError();
        g_assert_cmpint(vfmigDomainPolicyParseDomainMemory(xml, &bytes), ==, rows[i].rc);
        g_assert_cmpuint(bytes, ==, rows[i].bytes);
        if (rows[i].error)
            g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, rows[i].error);
        else
            g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);
    }
    {
        unsigned long long bytes = 1;

        g_assert_cmpint(vfmigDomainPolicyParseDomainMemory("<network/>", &bytes), ==, -1);
        g_assert_cmpuint(bytes, ==, 0);
    }
}


/* ------------------------------------------------------------------ */
/* Limits: VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX entries, SIZE_MAX bytes     */
/* ------------------------------------------------------------------ */

#define TOO_MANY_HOSTDEVS(n) \
    "invalid domain migration policy: vfmig:migration/vfmig:hostdev[" n "]: an entry beyond the limit of 256 <vfmig:hostdev> entries: no real domain has that many PCI hostdevs, and the libvirt hook reads the policy at every start and migration of the domain"
#define TOO_LARGE \
    "invalid domain migration policy: vfmig:migration: larger than the limit of 1048576 bytes: the libvirt hook reads the policy at every start and migration of the domain, and 256 entries, the most it may have, take about a tenth of that"


/* The source address of the @i'th hostdev of limitPolicy and limitDomain. */
static vfmigPCIAddress
limitAddress(size_t i)
{
    vfmigPCIAddress addr = {
        .domain = 0,
        .bus = (i >> 8) & 0xff,
        .slot = (i >> 3) & 0x1f,
        .function = i & 7,
    };

    return addr;
}


/* A policy of @n entries, every part of each given: the even ones by
 * alias (ua-vfI), the odd ones by source address (limitAddress). */
static vfmigDomainPolicy *
limitPolicy(size_t n)
{
    vfmigDomainPolicy *policy = g_new0(vfmigDomainPolicy, 1);
    size_t i;

    policy->downtime.targetMs = 300;
    policy->downtime.onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT;
    policy->hostdevs = g_new0(vfmigDomainPolicyHostdev *, n);
    for (i = 0; i < n; i++) {
        vfmigDomainPolicyHostdev *h = g_new0(vfmigDomainPolicyHostdev, 1);

        if (i % 2 == 0) {
            h->alias = g_strdup_printf("ua-vf%zu", i);
        } else {
            h->hasAddress = true;
            h->address = limitAddress(i);
        }
        h->precopy = VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED;
        h->downtime.targetMs = 60000;
        h->downtime.onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT;
        h->identity = g_new0(vfmigDomainPolicyIdentity, 1);
        h->identity->driver = g_strdup("mlx5_vfio_pci");
        h->identity->vendor = 0x15b3;
        h->identity->device = 0x101e;
        h->identity->firmware = g_strdup("28.39.1002");
        h->identity->streamVersion = 1;
        h->identity->multiLoad = true;
        h->identity->stateSize = G_MAXUINT64;
        policy->hostdevs[policy->nhostdevs++] = h;
    }
    return policy;
}


/* A domain XML with @policy (already text) in its <metadata>, @padding
 * (NULL: none) in a <description>, and the @n PCI hostdevs that
 * limitPolicy(@n) names. */
static char *
limitDomain(const char *policy,
            const char *padding,
            size_t n)
{
    g_autoptr(GString) xml = g_string_new("<domain type='kvm'>\n  <name>vm0</name>\n");
    size_t i;

    if (padding)
        g_string_append_printf(xml, "  <description>%s</description>\n", padding);
    g_string_append_printf(xml, "  <metadata>\n%s  </metadata>\n  <devices>\n", policy);
    for (i = 0; i < n; i++) {
        vfmigPCIAddress addr = limitAddress(i);

        g_string_append_printf(xml,
                               "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
                               "      <source>\n"
                               "        <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                               "      </source>\n",
                               addr.domain, addr.bus, addr.slot, addr.function);
        if (i % 2 == 0)
            g_string_append_printf(xml, "      <alias name='ua-vf%zu'/>\n", i);
        g_string_append(xml, "    </hostdev>\n");
    }
    g_string_append(xml, "  </devices>\n</domain>\n");
    return g_string_free(g_steal_pointer(&xml), FALSE);
}


/* Asserts that the domain XML @xml is refused with @message. */
static void
assertDomainRefused(const char *xml,
                    const char *message)
{
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;

    vfmigResetLastError();
    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs), ==, -1);
    g_assert_null(policy);
    g_assert_null(hostdevs);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, message);
}


/* Asserts that the policy text @xml is refused with @message. */
static void
assertPolicyRefused(const char *xml,
                    const char *message)
{
    g_autoptr(vfmigDomainPolicy) policy = NULL;

    vfmigResetLastError();
    policy = vfmigDomainPolicyParseString(xml);
    g_assert_null(policy);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, message);
}


/* Exactly VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX entries, every part given:
 * parsed in all three forms, each entry finding its hostdev; and as vfmig
 * writes it, well within the size limit (the limit's message says "about
 * a tenth"). */
static void
testLimitHostdevsMax(const void *opaque G_GNUC_UNUSED)
{
    g_autoptr(vfmigDomainPolicy) want = limitPolicy(VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX);
    g_autofree char *text = vfmigDomainPolicyFormatString(want);
    g_autofree char *bare = vfmigDomainPolicyFormatMetadata(want);
    g_autofree char *domain = limitDomain(text, NULL, VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX);
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(vfmigDomainPolicy) fromBare = NULL;
    g_autoptr(vfmigDomainPolicy) fromDomain = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    g_autofree char *out = NULL;
    g_autofree char *outBare = NULL;
    g_autofree char *outDomain = NULL;
    size_t i;

    g_assert_cmpint(VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX, ==, 256);
    g_assert_cmpint(VFMIG_DOMAIN_POLICY_SIZE_MAX, ==, 1024 * 1024);
    g_assert_cmpuint(strlen(text), <, VFMIG_DOMAIN_POLICY_SIZE_MAX / 8);

    vfmigResetLastError();
    if (!(policy = vfmigDomainPolicyParseString(text)))
        g_error("%s", vfmigGetLastErrorMessage());
    g_assert_cmpuint(policy->nhostdevs, ==, VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX);
    out = vfmigDomainPolicyFormatString(policy);
    g_assert_cmpstr(out, ==, text);

    if (!(fromBare = vfmigDomainPolicyParseString(bare)))
        g_error("%s", vfmigGetLastErrorMessage());
    outBare = vfmigDomainPolicyFormatString(fromBare);
    g_assert_cmpstr(outBare, ==, text);

    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(domain, &fromDomain, &hostdevs), ==, 1);
    outDomain = vfmigDomainPolicyFormatString(fromDomain);
    g_assert_cmpstr(outDomain, ==, text);
    g_assert_cmpuint(hostdevs->len, ==, VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX);
    g_assert_cmpint(vfmigDomainPolicyCheckHostdevs(fromDomain, hostdevs), ==, 0);
    for (i = 0; i < hostdevs->len; i++) {
        g_assert_true(vfmigDomainPolicyLookup(fromDomain, g_ptr_array_index(hostdevs, i)) ==
                      fromDomain->hostdevs[i]);
    }
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);
}


/* One entry more is refused, in every form, and before any entry is
 * read: an invalid first entry does not change the message. */
static void
testLimitHostdevsOver(const void *opaque G_GNUC_UNUSED)
{
    g_autoptr(vfmigDomainPolicy) over = limitPolicy(VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX + 1);
    g_autoptr(vfmigDomainPolicy) atMax = limitPolicy(VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX);
    g_autofree char *text = vfmigDomainPolicyFormatString(over);
    g_autofree char *bare = vfmigDomainPolicyFormatMetadata(over);
    g_autofree char *domain = limitDomain(text, NULL, VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX + 1);
    g_autofree char *badFirst = NULL;
    g_autofree char *badFirstAtMax = NULL;

    assertPolicyRefused(text, TOO_MANY_HOSTDEVS("257"));
    assertPolicyRefused(bare, TOO_MANY_HOSTDEVS("257"));
    assertDomainRefused(domain, TOO_MANY_HOSTDEVS("257"));

    g_free(over->hostdevs[0]->alias);
    over->hostdevs[0]->alias = g_strdup("hostdev0");
    badFirst = vfmigDomainPolicyFormatString(over);
    assertPolicyRefused(badFirst, TOO_MANY_HOSTDEVS("257"));

    /* the same entry within the limit is refused for itself */
    g_free(atMax->hostdevs[0]->alias);
    atMax->hostdevs[0]->alias = g_strdup("hostdev0");
    badFirstAtMax = vfmigDomainPolicyFormatString(atMax);
    assertPolicyRefused(badFirstAtMax,
                        "invalid domain migration policy: vfmig:migration/vfmig:hostdev[1]: invalid value 'hostdev0' of attribute 'alias': a hostdev is named by its user alias, 'ua-' and letters, digits, '_' or '-'");
}


/* Two entries for one hostdev far apart in a policy at the limit: the
 * first of the pair is named, by alias and by address in another
 * spelling. */
static void
testLimitDuplicates(const void *opaque G_GNUC_UNUSED)
{
    g_autoptr(vfmigDomainPolicy) byAlias = limitPolicy(VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX);
    g_autoptr(vfmigDomainPolicy) byAddress = limitPolicy(VFMIG_DOMAIN_POLICY_HOSTDEVS_MAX);
    g_autofree char *aliasText = NULL;
    g_autofree char *addressText = NULL;
    g_autofree char *respelled = NULL;
    g_auto(GStrv) parts = NULL;

    g_free(byAlias->hostdevs[254]->alias);
    byAlias->hostdevs[254]->alias = g_strdup("ua-vf2");
    aliasText = vfmigDomainPolicyFormatString(byAlias);
    assertPolicyRefused(aliasText,
                        "invalid domain migration policy: vfmig:migration/vfmig:hostdev[255]: a second entry for the hostdev with alias 'ua-vf2': the first is vfmig:migration/vfmig:hostdev[3]");

    byAddress->hostdevs[255]->address = limitAddress(1);
    addressText = vfmigDomainPolicyFormatString(byAddress);
    /* the last address (the second 0000:00:00.1) spelled otherwise */
    parts = g_strsplit(addressText, "domain='0x0000' bus='0x00' slot='0x00' function='0x1'", -1);
    g_assert_cmpuint(g_strv_length(parts), ==, 3);
    respelled = g_strconcat(parts[0], "domain='0x0000' bus='0x00' slot='0x00' function='0x1'",
                            parts[1], "domain='0x0' bus='0x0' slot='0x00' function='0x1'",
                            parts[2], NULL);
    assertPolicyRefused(respelled,
                        "invalid domain migration policy: vfmig:migration/vfmig:hostdev[256]: a second entry for the hostdev with address 0000:00:00.1: the first is vfmig:migration/vfmig:hostdev[2]");
}


/* The size limit: on the text before it is parsed (so even what is no
 * XML is refused for its size), and on the element in a domain XML,
 * whatever else the domain holds. */
static void
testLimitSize(const void *opaque G_GNUC_UNUSED)
{
    const size_t max = VFMIG_DOMAIN_POLICY_SIZE_MAX;
    const char *open = "<migration>";
    const char *close = "</migration>";
    g_autofree char *blanks = g_strnfill(max - strlen(open) - strlen(close), ' ');
    g_autofree char *atLimit = g_strconcat(open, blanks, close, NULL);
    g_autofree char *overLimit = g_strconcat(open, blanks, " ", close, NULL);
    g_autofree char *notXML = g_strnfill(max + 1, '<');
    g_autofree char *small = g_strdup_printf("<vfmig:migration xmlns:vfmig='%s'>\n"
                                             "  <vfmig:hostdev alias='ua-vf0'/>\n"
                                             "</vfmig:migration>\n",
                                             VFMIG_DOMAIN_POLICY_NS_URI);
    g_autofree char *large = g_strdup_printf("<vfmig:migration xmlns:vfmig='%s'>\n"
                                             "  <vfmig:hostdev alias='hostdev0'/>\n"
                                             "  <!--%s-->\n"
                                             "</vfmig:migration>\n",
                                             VFMIG_DOMAIN_POLICY_NS_URI, blanks);
    g_autofree char *domainLarge = limitDomain(large, NULL, 1);
    g_autofree char *domainPadded = limitDomain(small, blanks, 1);
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(vfmigDomainPolicy) fromDomain = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;

    g_assert_cmpuint(strlen(atLimit), ==, max);
    vfmigResetLastError();
    if (!(policy = vfmigDomainPolicyParseString(atLimit)))
        g_error("%s", vfmigGetLastErrorMessage());
    g_assert_cmpuint(policy->nhostdevs, ==, 0);

    g_assert_cmpuint(strlen(overLimit), ==, max + 1);
    assertPolicyRefused(overLimit, TOO_LARGE);
    assertPolicyRefused(notXML, TOO_LARGE);

    /* in a domain XML: measured before any entry is read (the first is
     * invalid) */
    assertDomainRefused(domainLarge, TOO_LARGE);

    /* the domain may be larger than the limit: only the policy counts */
    g_assert_cmpuint(strlen(domainPadded), >, max);
    g_assert_cmpint(vfmigDomainPolicyParseDomainXML(domainPadded, &fromDomain, &hostdevs), ==, 1);
    g_assert_cmpuint(fromDomain->nhostdevs, ==, 1);
    g_assert_cmpuint(hostdevs->len, ==, 1);
}

/* Enum tables: "default" is no XML value. */
static void
testEnums(const void *opaque G_GNUC_UNUSED)
{
    g_assert_cmpint(vfmigDomainPolicyPrecopyTypeFromString("required"), ==,
                    VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED);
    g_assert_cmpint(vfmigDomainPolicyPrecopyTypeFromString("off"), ==,
                    VFMIG_DOMAIN_POLICY_PRECOPY_OFF);
    g_assert_cmpstr(vfmigDomainPolicyOnFailureTypeToString(VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT),
                    ==, "best-effort");
    g_assert_cmpint(vfmigDomainPolicyOnFailureTypeFromString("retry"), ==, -1);
}


static GPtrArray *
listXML(const char *dir, const char *suffix)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, dir, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = NULL;
    g_autoptr(GError) err = NULL;
    const char *name;

    if (!(d = g_dir_open(path, 0, &err)))
        g_error("cannot list %s: %s", path, err->message);
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, suffix))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, (GCompareFunc) g_ascii_strcasecmp);
    return g_steal_pointer(&names);
}


int
main(int argc,
     char **argv)
{
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GPtrArray) domains = NULL;
    size_t nvalid = 0;
    size_t ninvalid = 0;
    size_t i;

    g_test_init(&argc, &argv, NULL);

    names = listXML(DATA_DIR, ".xml");
    for (i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofree char *path = g_strdup_printf("/domain-policy/xml2xml/%s", n);

        if (g_str_has_suffix(n, "-invalid.xml"))
            ninvalid++;
        else
            nvalid++;
        g_test_add_data_func(path, n, testPolicyData);
    }
    if (nvalid == 0 || ninvalid == 0)
        g_error("%s needs valid and invalid examples", DATA_DIR);

    domains = listXML(DOMAIN_DIR, "-invalid.xml");
    if (domains->len == 0)
        g_error("no invalid domain examples in %s", DOMAIN_DIR);
    for (i = 0; i < domains->len; i++) {
        const char *n = g_ptr_array_index(domains, i);
        g_autofree char *path = g_strdup_printf("/domain-policy/domain/%s", n);

        g_test_add_data_func(path, n, testDomainInvalid);
    }

    g_test_add_data_func("/domain-policy/domain/policy", NULL, testDomainPolicy);
    g_test_add_data_func("/domain-policy/domain/rewritten", NULL, testDomainRewritten);
    g_test_add_data_func("/domain-policy/domain/named-twice", NULL, testDomainNamedTwice);
    g_test_add_data_func("/domain-policy/domain/interface", NULL, testDomainInterface);
    g_test_add_data_func("/domain-policy/domain/host-origin", NULL, testDomainHostOrigin);
    g_test_add_data_func("/domain-policy/domain/flavor", NULL, testDomainFlavor);
    g_test_add_data_func("/domain-policy/domain/no-policy", NULL, testDomainNoPolicy);
    g_test_add_data_func("/domain-policy/domain/memory", NULL, testDomainMemory);
    g_test_add_data_func("/domain-policy/metadata/get", NULL, testMetadataGet);
    g_test_add_data_func("/domain-policy/metadata/invalid", NULL, testMetadataInvalid);
    g_test_add_data_func("/domain-policy/not-xml", NULL, testNotXML);
    g_test_add_data_func("/domain-policy/enums", NULL, testEnums);
    g_test_add_data_func("/domain-policy/limits/hostdevs-max", NULL, testLimitHostdevsMax);
    g_test_add_data_func("/domain-policy/limits/hostdevs-over", NULL, testLimitHostdevsOver);
    g_test_add_data_func("/domain-policy/limits/duplicates", NULL, testLimitDuplicates);
    g_test_add_data_func("/domain-policy/limits/size", NULL, testLimitSize);
    return g_test_run();
}
