/*
 * test-daemon-hostdefault.c: virt-vfmigd gives running domains without a
 * policy of their own the host default policy as live metadata
 * (vfmigdaemonhost.h, vfmighostdefault.h)
 *
 * The domains are libvirt's test driver's (test:///default): their
 * names, UUIDs, the listing, and their metadata, which the test driver
 * keeps and formats back as libvirt does.  The test's calls
 * (vfmigSteerCalls) stand in for the rest: getXMLDesc gives a running
 * domain's live XML as Nova defines it (a managed='yes' hostdev with
 * libvirt's alias hostdev0, <nova:flavor name='vf.gold'>) around the
 * metadata the test driver has; setMetadata records every call, then
 * passes it to the test driver (or fails as libvirt does); the job reads
 * are counted: a domain with a policy has its job read at every interval.
 * Each domain has a VF on vfmig_testdev in a fake sysfs tree
 * (vfmigtestpci.h).  The daemon is driven one tick per interval with the
 * test's clock, every worker settled after each tick: the verdicts are
 * in ticks and calls, never in wall time.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vfmigdaemon.h"
#include "testdaemon.h"
#include "vfmigdomainpolicy.h"
#include "vfmigerror.h"
#include "vfmighostpolicy.h"
#include "vfmigsteer.h"
#include "vfmigtestfs.h"
#include "vfmigtestpci.h"

#define INTERVAL_US (VFMIG_DAEMON_INTERVAL_MS_DEFAULT * 1000LL)
#define SWEEP_US (VFMIG_DAEMON_SWEEP_MS * 1000LL)
/* How long the test waits for a worker: a safety net, never a verdict. */
#define FAKE_SAFETY_S 20

#define NDOMS 2

#define HOST_POLICY \
    "<hostpolicy xmlns='" VFMIG_HOST_POLICY_NS_URI "'>\n" \
    "  <flavor name='vf.gold'>\n" \
    "    <downtime target-ms='300' on-failure='abort'/>\n" \
    "    <precopy mode='required'/>\n" \
    "  </flavor>\n" \
    "</hostpolicy>\n"

/* The same flavor, another downtime. */
#define HOST_POLICY_1500 \
    "<hostpolicy xmlns='" VFMIG_HOST_POLICY_NS_URI "'>\n" \
    "  <flavor name='vf.gold'>\n" \
    "    <downtime target-ms='1500' on-failure='abort'/>\n" \
    "    <precopy mode='required'/>\n" \
    "  </flavor>\n" \
    "</hostpolicy>\n"

#define HOST_POLICY_INVALID \
    "<hostpolicy xmlns='" VFMIG_HOST_POLICY_NS_URI "'>" \
    "<default><precopy mode='on'/></default></hostpolicy>\n"

/* What the host default sets for a domain of vfmig_testdev's VF with
 * the entry's downtime @ms. */
#define METADATA(ms) \
    "<migration origin='host' flavor='vf.gold'>\n" \
    "  <downtime target-ms='" ms "' on-failure='abort'/>\n" \
    "  <hostdev alias='hostdev0'>\n" \
    "    <precopy mode='required'/>\n" \
    "    <identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' " \
    "stream-version='1' multi-load='yes' state-size='" VFMIG_TEST_STATE_SIZE "'/>\n" \
    "  </hostdev>\n" \
    "</migration>\n"

#define SET_LINE(name) \
    "domain '" name "': host default policy (flavor 'vf.gold') set as its live metadata: "

/* A policy of the domain's own: no origin. */
#define OWN_POLICY \
    "<vfmig:migration xmlns:vfmig='" VFMIG_DOMAIN_POLICY_NS_URI "'>" \
    "<vfmig:downtime target-ms='300' on-failure='best-effort'/>" \
    "</vfmig:migration>"

/* The host default's policy another host wrote, for its VF: another
 * driver and firmware (the domain migrated here). */
#define STALE_POLICY \
    "<vfmig:migration xmlns:vfmig='" VFMIG_DOMAIN_POLICY_NS_URI "' origin='host' flavor='vf.gold'>" \
    "<vfmig:downtime target-ms='300' on-failure='abort'/>" \
    "<vfmig:hostdev alias='hostdev0'><vfmig:precopy mode='required'/>" \
    "<vfmig:identity driver='mlx5_vfio_pci' vendor='0x15b3' device='0x101e' " \
    "firmware='22.39.1002' stream-version='1' multi-load='yes'/>" \
    "</vfmig:hostdev></vfmig:migration>"


/* ---- what the test's calls saw, per domain ---- */

typedef struct {
    int type;
    char *metadata;
    char *key;
    char *uri;
    unsigned int flags;
} SetCall;

typedef struct {
    const char *name;
    const char *uuid;
    const char *vf;                 /* its VF, on vfmig_testdev */
    unsigned int xmlReads;
    unsigned int jobReads;
    bool failSet;                   /* setMetadata fails */
    GPtrArray *sets;                /* SetCall *, in order */
} FakeDomain;

/* The calls have libvirt's signatures: no opaque, so one state. */
static struct {
    GMutex lock;
    FakeDomain doms[NDOMS];
} fake;


static void
setCallFree(void *opaque)
{
    SetCall *c = opaque;

    g_free(c->metadata);
    g_free(c->key);
    g_free(c->uri);
    g_free(c);
}


static FakeDomain *
fakeFind(virDomainPtr dom)
{
    const char *name = virDomainGetName(dom);
    size_t i;

    for (i = 0; i < NDOMS; i++) {
        if (g_str_equal(fake.doms[i].name, name))
            return &fake.doms[i];
    }
    return NULL;
}


static void
fakeReset(void)
{
    static const FakeDomain doms[NDOMS] = {
        { .name = "vfa", .uuid = "5a1e0000-0000-4000-8000-0000000000a1",
          .vf = "0000:00:02.0" },
        { .name = "vfb", .uuid = "5a1e0000-0000-4000-8000-0000000000b1",
          .vf = "0000:00:03.0" },
    };
    size_t i;

    g_mutex_lock(&fake.lock);
    for (i = 0; i < NDOMS; i++) {
        if (fake.doms[i].sets)
            g_ptr_array_unref(fake.doms[i].sets);
        fake.doms[i] = doms[i];
        fake.doms[i].sets = g_ptr_array_new_with_free_func(setCallFree);
    }
    g_mutex_unlock(&fake.lock);
}


/* The live XML of a running Nova domain with @dom's name and UUID, its
 * VF @vf as hostdev0, and the metadata the test driver has for it. */
static char *
fakeNovaXML(virDomainPtr dom,
            const char *vf,
            const char *driverXML)
{
    const char *start = strstr(driverXML, "<metadata>");
    const char *end = strstr(driverXML, "</metadata>");
    g_autofree char *metadata = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN];
    unsigned int bus, slot, fn;

    g_assert_cmpint(virDomainGetUUIDString(dom, uuid), ==, 0);
    g_assert_cmpint(sscanf(vf, "0000:%x:%x.%x", &bus, &slot, &fn), ==, 3);
    if (start && end)
        metadata = g_strndup(start + strlen("<metadata>"),
                             end - start - strlen("<metadata>"));
    return g_strdup_printf("<domain type='kvm' id='7'>\n"
                           "  <name>%s</name>\n"
                           "  <uuid>%s</uuid>\n"
                           "  <metadata>\n"
                           "    <nova:instance xmlns:nova=\"" VFMIG_NOVA_NS_URI_1_1 "\">\n"
                           "      <nova:package version=\"31.0.0\"/>\n"
                           "      <nova:name>vm-%s</nova:name>\n"
                           "      <nova:flavor name=\"vf.gold\">\n"
                           "        <nova:memory>4096</nova:memory>\n"
                           "        <nova:vcpus>2</nova:vcpus>\n"
                           "      </nova:flavor>\n"
                           "    </nova:instance>\n"
                           "%s"
                           "  </metadata>\n"
                           "  <memory unit='KiB'>4194304</memory>\n"
                           "  <devices>\n"
                           "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
                           "      <driver name='vfio'/>\n"
                           "      <source>\n"
                           "        <address domain='0x0000' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                           "      </source>\n"
                           "      <alias name='hostdev0'/>\n"
                           "      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>\n"
                           "    </hostdev>\n"
                           "  </devices>\n"
                           "</domain>\n",
                           virDomainGetName(dom), uuid, virDomainGetName(dom),
                           metadata ? metadata : "", bus, slot, fn);
}


static char *
fakeGetXMLDesc(virDomainPtr dom,
               unsigned int flags)
{
    g_autofree char *driverXML = virDomainGetXMLDesc(dom, flags);
    FakeDomain *f = fakeFind(dom);
    const char *vf;

    /* the test driver's own domain is its own */
    if (!driverXML || !f)
        return g_steal_pointer(&driverXML);
    g_mutex_lock(&fake.lock);
    f->xmlReads++;
    vf = f->vf;
    g_mutex_unlock(&fake.lock);
    return fakeNovaXML(dom, vf, driverXML);
}


static int
fakeSetMetadata(virDomainPtr dom,
                int type,
                const char *metadata,
                const char *key,
                const char *uri,
                unsigned int flags)
{
    FakeDomain *f = fakeFind(dom);
    SetCall *c = g_new0(SetCall, 1);
    bool fail;

    g_assert_nonnull(f);
    c->type = type;
    c->metadata = g_strdup(metadata);
    c->key = g_strdup(key);
    c->uri = g_strdup(uri);
    c->flags = flags;
    g_mutex_lock(&fake.lock);
    g_ptr_array_add(f->sets, c);
    fail = f->failSet;
    g_mutex_unlock(&fake.lock);
    /* failing as libvirt fails, its error the thread's: the test driver
     * refuses the persistent definition of a transient domain */
    if (fail) {
        g_assert_cmpint(virDomainSetMetadata(dom, type, metadata, key, uri,
                                             VIR_DOMAIN_AFFECT_CONFIG), ==, -1);
        return -1;
    }
    return virDomainSetMetadata(dom, type, metadata, key, uri, flags);
}


static int
fakeGetJobStats(virDomainPtr dom,
                int *type,
                virTypedParameterPtr *params,
                int *nparams,
                unsigned int flags)
{
    FakeDomain *f = fakeFind(dom);

    *type = VIR_DOMAIN_JOB_NONE;
    *params = NULL;
    *nparams = 0;
    if ((flags & VIR_DOMAIN_JOB_STATS_COMPLETED) || !f)
        return 0;
    g_mutex_lock(&fake.lock);
    f->jobReads++;
    g_mutex_unlock(&fake.lock);
    return 0;
}


static int
fakeGetMaxDowntime(virDomainPtr dom G_GNUC_UNUSED,
                   unsigned long long *downtime,
                   unsigned int flags G_GNUC_UNUSED)
{
    *downtime = 300;
    return 0;
}


/* Nothing migrates here: nothing is steered. */
static int
fakeSetMaxDowntime(virDomainPtr dom G_GNUC_UNUSED,
                   unsigned long long downtime G_GNUC_UNUSED,
                   unsigned int flags G_GNUC_UNUSED)
{
    g_assert_not_reached();
    return -1;
}


static int
fakeAbortJob(virDomainPtr dom G_GNUC_UNUSED)
{
    g_assert_not_reached();
    return -1;
}


static const vfmigSteerCalls fakeCalls = {
    .getJobStats = fakeGetJobStats,
    .getState = virDomainGetState,
    .getXMLDesc = fakeGetXMLDesc,
    .getMaxDowntime = fakeGetMaxDowntime,
    .setMaxDowntime = fakeSetMaxDowntime,
    .abortJob = fakeAbortJob,
    .isActive = virDomainIsActive,
    .setMetadata = fakeSetMetadata,
};


/* A copy of the counters of domain @i (its calls: how many). */
typedef struct {
    unsigned int xmlReads;
    unsigned int jobReads;
    unsigned int sets;
} FakeCount;

static FakeCount
fakeCount(size_t i)
{
    FakeCount n;

    g_mutex_lock(&fake.lock);
    n.xmlReads = fake.doms[i].xmlReads;
    n.jobReads = fake.doms[i].jobReads;
    n.sets = fake.doms[i].sets->len;
    g_mutex_unlock(&fake.lock);
    return n;
}


/* The @n-th setMetadata of domain @i: the host default's, set live. */
static void
assertSet(size_t i,
          unsigned int n,
          const char *metadata)
{
    SetCall *c;

    g_mutex_lock(&fake.lock);
    g_assert_cmpuint(n, <, fake.doms[i].sets->len);
    c = g_ptr_array_index(fake.doms[i].sets, n);
    g_assert_cmpint(c->type, ==, VIR_DOMAIN_METADATA_ELEMENT);
    g_assert_cmpstr(c->key, ==, VFMIG_DOMAIN_POLICY_NS_PREFIX);
    g_assert_cmpstr(c->uri, ==, VFMIG_DOMAIN_POLICY_NS_URI);
    g_assert_cmpuint(c->flags, ==, VIR_DOMAIN_AFFECT_LIVE);
    g_assert_cmpstr(c->metadata, ==, metadata);
    g_mutex_unlock(&fake.lock);
}


static void
fakeFailSet(size_t i,
            bool fail)
{
    g_mutex_lock(&fake.lock);
    fake.doms[i].failSet = fail;
    g_mutex_unlock(&fake.lock);
}


/* ---- the daemon over the test driver ---- */

typedef struct {
    char *root;
    char *sys;
    char *cache;
    char *modules;
    char *policyPath;
    virConnectPtr conn;
    virDomainPtr doms[NDOMS];       /* vfa, vfb once started; NULL: not */
    GPtrArray *lines;               /* what the daemon reported */
    vfmigDaemonConfig config;
    vfmigDaemon *d;
    int64_t now;                    /* the daemon's clock, us */
} Fixture;



static void
fixtureSetUp(Fixture *f,
             gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *modules = NULL;
    size_t i;

    fakeReset();
    f->root = g_dir_make_tmp("vfmig-test-daemon-hostdefault-XXXXXX", &err);
    g_assert_no_error(err);
    f->sys = g_build_filename(f->root, "sys", NULL);
    f->cache = g_build_filename(f->root, "cache", NULL);
    f->modules = g_build_filename(f->root, "modules", NULL);
    f->policyPath = g_build_filename(f->root, "host-policy.xml", NULL);
    /* libvirt binds managed='yes' VFs by modules.alias */
    modules = g_build_filename(f->modules, "modules.alias", NULL);
    vfmigTestWriteFile(modules,
                       "alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_testdev\n");
    for (i = 0; i < NDOMS; i++)
        vfmigTestTestdev(f->sys, fake.doms[i].vf,
                         "stop-copy p2p pre-copy dma-logging\n", "on\n",
                         5 + (int) i);
    vfmigTestMkdirs(f->cache);
    g_assert_cmpint(chmod(f->cache, 0700), ==, 0);
    vfmigTestWriteFile(f->policyPath, HOST_POLICY);

    f->conn = virConnectOpen("test:///default");
    g_assert_nonnull(f->conn);
    f->lines = g_ptr_array_new_with_free_func(g_free);
    f->config.noGuardian = true;
    f->config.report = testDaemonReport;
    f->config.opaque = f->lines;
    f->config.calls = &fakeCalls;
    f->config.paths.probe.sysfsRoot = f->sys;
    f->config.paths.probe.debugfsRoot = f->root;
    f->config.paths.probe.devRoot = f->root;
    f->config.paths.probe.procRoot = f->root;
    f->config.paths.probe.cacheDir = f->cache;
    f->config.paths.probe.kernelConfig = "/nonexistent";
    f->config.paths.probe.modulesDir = f->modules;
    f->config.hostPolicyPath = f->policyPath;
    vfmigResetLastError();
}


static void
fixtureTearDown(Fixture *f,
                gconstpointer data G_GNUC_UNUSED)
{
    size_t i;

    if (f->d) {
        g_assert_true(vfmigDaemonSettle(f->d, NULL, g_get_monotonic_time() +
                                        FAKE_SAFETY_S * G_USEC_PER_SEC));
        g_assert_cmpuint(vfmigDaemonQuit(f->d), ==, 0);
        vfmigDaemonFree(f->d);
    }
    for (i = 0; i < NDOMS; i++) {
        if (!f->doms[i])
            continue;
        g_assert_cmpint(virDomainDestroy(f->doms[i]), ==, 0);
        virDomainFree(f->doms[i]);
    }
    virConnectClose(f->conn);
    g_ptr_array_unref(f->lines);
    vfmigTestRmTree(f->root);
    g_free(f->root);
    g_free(f->sys);
    g_free(f->cache);
    g_free(f->modules);
    g_free(f->policyPath);
}


/* Domain @i starts in the test driver, with @metadata (NULL: none) in
 * its definition.  The daemon is not told. */
static virDomainPtr
domainCreate(Fixture *f,
             size_t i,
             const char *metadata)
{
    g_autofree char *xml =
        g_strdup_printf("<domain type='test'><name>%s</name><uuid>%s</uuid>"
                        "<memory>65536</memory><os><type>hvm</type></os>"
                        "%s%s%s</domain>", fake.doms[i].name, fake.doms[i].uuid,
                        metadata ? "<metadata>" : "", metadata ? metadata : "",
                        metadata ? "</metadata>" : "");

    g_assert_null(f->doms[i]);
    f->doms[i] = virDomainCreateXML(f->conn, xml, 0);
    g_assert_nonnull(f->doms[i]);
    return f->doms[i];
}


static void
daemonStart(Fixture *f)
{
    f->d = vfmigDaemonNew(&f->config, NULL);
    vfmigDaemonConnected(f->d, f->conn);
}


/* One interval: a tick at the daemon's clock, then every worker has
 * finished what the tick started. */
static void
tick(Fixture *f)
{
    vfmigDaemonTick(f->d, f->now);
    g_assert_true(vfmigDaemonSettle(f->d, NULL, g_get_monotonic_time() +
                                    FAKE_SAFETY_S * G_USEC_PER_SEC));
    f->now += INTERVAL_US;
}


/* @n intervals. */
static void
ticks(Fixture *f,
      unsigned int n)
{
    unsigned int i;

    for (i = 0; i < n; i++)
        tick(f);
}


/* Ticks up to the last interval before the sweep at @sweepUs: the next
 * tick is the sweep's. */
static void
ticksUntil(Fixture *f,
           int64_t sweepUs)
{
    while (f->now < sweepUs)
        tick(f);
    g_assert_cmpint(f->now, ==, sweepUs);
}



/* The daemon started and looked at every running domain (the sweep at
 * its start: the listing, each one's XML, what was found). */
static void
daemonStartSettled(Fixture *f)
{
    g_autofree char *line =
        g_strdup_printf("host default policy '%s': 1 flavor(s), no default",
                        f->policyPath);

    daemonStart(f);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, line), ==, 1);
    ticks(f, 3);
}


/* The policy the test driver has for domain @i: what libvirt would give. */
static char *
driverPolicy(Fixture *f,
             size_t i)
{
    return virDomainGetMetadata(f->doms[i], VIR_DOMAIN_METADATA_ELEMENT,
                                VFMIG_DOMAIN_POLICY_NS_URI, VIR_DOMAIN_AFFECT_LIVE);
}


/*
 * vfa, a Nova domain without a policy, starts after the daemon: at the
 * tick after STARTED its XML is read and the host default set, once,
 * live, in vfmig's namespace, with its flavor's entry and its VF's
 * identity; the tick after, the daemon says so and vfa has its job read
 * at every interval from then on.  All of it before the first sweep.
 */
static void
startedDomain(Fixture *f)
{
    g_autofree char *set = NULL;
    g_autofree char *policy = NULL;
    FakeCount n;

    daemonStartSettled(f);
    domainCreate(f, 0, NULL);
    ticks(f, 2);
    n = fakeCount(0);
    g_assert_cmpuint(n.xmlReads, ==, 0);
    g_assert_cmpuint(n.sets, ==, 0);

    vfmigDaemonDomainStarted(f->d, f->doms[0]);
    tick(f);
    n = fakeCount(0);
    g_assert_cmpuint(n.xmlReads, ==, 1);
    g_assert_cmpuint(n.sets, ==, 1);
    assertSet(0, 0, METADATA("300"));
    g_assert_cmpuint(n.jobReads, ==, 0);

    tick(f);
    set = g_strdup_printf(SET_LINE("vfa") "%s",
                          "the domain has no migration policy: the host policy's entry for the flavor 'vf.gold' applies");
    g_assert_cmpuint(testDaemonLinesWith(f->lines, set), ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 0);
    /* as libvirt keeps it: the metadata that was set */
    policy = driverPolicy(f, 0);
    g_assert_nonnull(policy);
    g_assert_nonnull(strstr(policy, "origin=\"host\" flavor=\"vf.gold\""));
    g_assert_nonnull(strstr(policy, "driver=\"vfmig_testdev\""));

    /* a policy now: its job read at every interval */
    g_assert_cmpuint(fakeCount(0).jobReads, ==, 1);
    ticks(f, 5);
    g_assert_cmpuint(fakeCount(0).jobReads, ==, 6);
    g_assert_cmpint(f->now, <, SWEEP_US);
}


static void
testStarted(Fixture *f,
            gconstpointer data G_GNUC_UNUSED)
{
    startedDomain(f);
    g_assert_cmpuint(fakeCount(0).sets, ==, 1);
}


/*
 * libvirt's METADATA_CHANGE that the daemon's own setMetadata causes:
 * vfa's XML is read again, the host default is what it has (KEEP):
 * nothing set, nothing said; its job still read at every interval.
 */
static void
testMetadataChange(Fixture *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    FakeCount before;
    FakeCount n;

    startedDomain(f);
    before = fakeCount(0);
    vfmigDaemonMetadataChanged(f->d, f->doms[0]);
    tick(f);
    n = fakeCount(0);
    g_assert_cmpuint(n.xmlReads, ==, before.xmlReads + 1);
    ticks(f, 3);
    n = fakeCount(0);
    g_assert_cmpuint(n.sets, ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, SET_LINE("vfa")), ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 0);
    /* the tick of the read, then one job read per tick */
    g_assert_cmpuint(n.jobReads, ==, before.jobReads + 3);
}


/*
 * vfa has a policy of its own (no origin), vfb none: both start; vfb
 * gets the host default, vfa never does: not at its start, not at its
 * METADATA_CHANGE, not when the host policy changes (which rewrites
 * vfb's).
 */
static void
testExplicit(Fixture *f,
             gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *changed = NULL;
    FakeCount a;

    daemonStartSettled(f);
    domainCreate(f, 0, OWN_POLICY);
    domainCreate(f, 1, NULL);
    vfmigDaemonDomainStarted(f->d, f->doms[0]);
    vfmigDaemonDomainStarted(f->d, f->doms[1]);
    ticks(f, 2);
    a = fakeCount(0);
    g_assert_cmpuint(a.xmlReads, ==, 1);
    g_assert_cmpuint(a.sets, ==, 0);
    g_assert_cmpuint(fakeCount(1).sets, ==, 1);
    assertSet(1, 0, METADATA("300"));
    /* vfa's own policy: its job read at every interval */
    g_assert_cmpuint(a.jobReads, ==, 1);

    vfmigDaemonMetadataChanged(f->d, f->doms[0]);
    ticks(f, 2);
    a = fakeCount(0);
    g_assert_cmpuint(a.xmlReads, ==, 2);
    g_assert_cmpuint(a.sets, ==, 0);

    /* another host policy, read at the sweep: every domain decided again */
    vfmigTestWriteFile(f->policyPath, HOST_POLICY_1500);
    ticksUntil(f, SWEEP_US);
    g_assert_cmpuint(fakeCount(1).sets, ==, 1);
    ticks(f, 3);
    a = fakeCount(0);
    g_assert_cmpuint(a.xmlReads, ==, 3);
    g_assert_cmpuint(a.sets, ==, 0);
    g_assert_cmpuint(fakeCount(1).sets, ==, 2);
    assertSet(1, 1, METADATA("1500"));
    changed = g_strdup_printf(SET_LINE("vfb") "%s",
                              "the domain's policy with origin='host' differs from what the host policy's entry for the flavor 'vf.gold' gives now");
    g_assert_cmpuint(testDaemonLinesWith(f->lines, changed), ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, SET_LINE("vfa")), ==, 0);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 0);
}


/*
 * No file when the daemon starts: it says so, and vfa, running, is read
 * but given nothing.  The file appears: the next sweep reads it, says
 * so, and vfa gets its policy at that tick.  The file turns invalid: a
 * warning at the next sweep, nothing written, vfa keeps its policy.
 * Fixed again: read, vfa's policy is that one (nothing written).
 * Removed: said, nothing written, vfa keeps its policy.
 */
static void
testFile(Fixture *f,
         gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *none = g_strdup_printf("no host default policy ('%s' does not exist)",
                                            f->policyPath);
    g_autofree char *read = g_strdup_printf("host default policy '%s': 1 flavor(s), no default",
                                            f->policyPath);
    g_autofree char *invalid =
        g_strdup_printf("warning: %s: invalid host policy: hostpolicy/default/precopy: invalid value 'on' of attribute 'mode': expected one of required, preferred, off; no domain gets a host default policy until the file is fixed (those that have one keep it)",
                        f->policyPath);
    g_autofree char *gone =
        g_strdup_printf("the host default policy '%s' is gone: no domain gets one any more (those that have one keep it)",
                        f->policyPath);
    FakeCount n;

    g_assert_cmpint(unlink(f->policyPath), ==, 0);
    domainCreate(f, 0, NULL);
    daemonStart(f);
    g_assert_cmpuint(f->lines->len, ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, none), ==, 1);

    /* the sweep at the start: listed, read, given nothing */
    ticks(f, 3);
    n = fakeCount(0);
    g_assert_cmpuint(n.xmlReads, ==, 1);
    g_assert_cmpuint(n.sets, ==, 0);

    /* the file appears between two sweeps: read at the next one, and
     * vfa decided again at that tick */
    vfmigTestWriteFile(f->policyPath, HOST_POLICY);
    ticksUntil(f, SWEEP_US);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, read), ==, 0);
    g_assert_cmpuint(fakeCount(0).sets, ==, 0);
    tick(f);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, read), ==, 1);
    g_assert_cmpuint(fakeCount(0).sets, ==, 1);
    assertSet(0, 0, METADATA("300"));
    tick(f);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, SET_LINE("vfa")), ==, 1);

    /* invalid: a warning at the next sweep, nothing more written */
    vfmigTestWriteFile(f->policyPath, HOST_POLICY_INVALID);
    ticksUntil(f, 2 * SWEEP_US);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 0);
    tick(f);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, invalid), ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 1);
    ticksUntil(f, 3 * SWEEP_US);
    ticks(f, 3);
    n = fakeCount(0);
    g_assert_cmpuint(n.sets, ==, 1);
    /* said once; vfa keeps its policy: its job read at every interval */
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 1);
    tick(f);
    g_assert_cmpuint(fakeCount(0).jobReads, ==, n.jobReads + 1);

    /* fixed: in force again; vfa has that very policy */
    vfmigTestWriteFile(f->policyPath, HOST_POLICY);
    ticksUntil(f, 4 * SWEEP_US);
    ticks(f, 3);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, read), ==, 2);
    g_assert_cmpuint(fakeCount(0).sets, ==, 1);

    /* removed: said, nothing written, the policy kept */
    g_assert_cmpint(unlink(f->policyPath), ==, 0);
    ticksUntil(f, 5 * SWEEP_US);
    ticks(f, 3);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, gone), ==, 1);
    n = fakeCount(0);
    g_assert_cmpuint(n.sets, ==, 1);
    tick(f);
    g_assert_cmpuint(fakeCount(0).jobReads, ==, n.jobReads + 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, SET_LINE("vfa")), ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 1);
}


/*
 * vfa arrives by an incoming migration with the host default its source
 * host wrote (its VF there: another driver, a firmware): while the
 * migration runs (STARTED_MIGRATED) nothing reads it, not even the
 * sweep; once it resumes (RESUMED_MIGRATED: vfmigDaemonDomainStarted)
 * its stale policy is rewritten with this host's VF's identity, once.
 */
static void
testIncoming(Fixture *f,
             gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *changed = NULL;
    FakeCount n;

    daemonStartSettled(f);
    domainCreate(f, 0, STALE_POLICY);
    vfmigDaemonDomainIncoming(f->d, f->doms[0]);
    /* past a sweep, which lists it */
    ticksUntil(f, SWEEP_US);
    ticks(f, 3);
    n = fakeCount(0);
    g_assert_cmpuint(n.xmlReads, ==, 0);
    g_assert_cmpuint(n.jobReads, ==, 0);
    g_assert_cmpuint(n.sets, ==, 0);

    vfmigDaemonDomainStarted(f->d, f->doms[0]);
    tick(f);
    g_assert_cmpuint(fakeCount(0).xmlReads, ==, 1);
    g_assert_cmpuint(fakeCount(0).sets, ==, 1);
    assertSet(0, 0, METADATA("300"));
    tick(f);
    changed = g_strdup_printf(SET_LINE("vfa") "%s",
                              "the domain's policy with origin='host' differs from what the host policy's entry for the flavor 'vf.gold' gives now (the domain migrated here from another host's VFs");
    g_assert_cmpuint(testDaemonLinesWith(f->lines, changed), ==, 1);

    /* its own change comes back: kept */
    vfmigDaemonMetadataChanged(f->d, f->doms[0]);
    ticks(f, 3);
    g_assert_cmpuint(fakeCount(0).xmlReads, ==, 2);
    g_assert_cmpuint(fakeCount(0).sets, ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 0);
}


/*
 * libvirt refuses vfa's setMetadata: one warning that names it; it is
 * not tried again at every tick; a METADATA_CHANGE has it decided again
 * (still refused: not said again); the next sweep tries again, and once
 * libvirt takes it, the daemon says so and vfa has its policy.
 */
static void
testSetFails(Fixture *f,
             gconstpointer data G_GNUC_UNUSED)
{
    const char *warning = "warning: domain 'vfa': no host default policy: cannot set its live metadata: ";
    FakeCount n;

    daemonStartSettled(f);
    domainCreate(f, 0, NULL);
    fakeFailSet(0, true);
    vfmigDaemonDomainStarted(f->d, f->doms[0]);
    tick(f);
    g_assert_cmpuint(fakeCount(0).sets, ==, 1);
    assertSet(0, 0, METADATA("300"));
    tick(f);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, warning), ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 1);
    g_assert_true(g_str_has_suffix(f->lines->pdata[f->lines->len - 1],
                                   "; tried again at every sweep, and not reported again until it works"));

    /* not every tick; no policy: its job is not read */
    ticks(f, 5);
    n = fakeCount(0);
    g_assert_cmpuint(n.sets, ==, 1);
    g_assert_cmpuint(n.jobReads, ==, 0);

    vfmigDaemonMetadataChanged(f->d, f->doms[0]);
    ticks(f, 2);
    g_assert_cmpuint(fakeCount(0).sets, ==, 2);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 1);

    /* the sweep: its listing, then vfa's XML again, which libvirt takes */
    fakeFailSet(0, false);
    ticksUntil(f, SWEEP_US);
    g_assert_cmpuint(fakeCount(0).sets, ==, 2);
    tick(f);
    tick(f);
    g_assert_cmpuint(fakeCount(0).sets, ==, 3);
    assertSet(0, 2, METADATA("300"));
    tick(f);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, SET_LINE("vfa")), ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 1);
    n = fakeCount(0);
    tick(f);
    g_assert_cmpuint(fakeCount(0).jobReads, ==, n.jobReads + 1);

    /* tried no more */
    ticksUntil(f, 2 * SWEEP_US);
    ticks(f, 3);
    g_assert_cmpuint(fakeCount(0).sets, ==, 3);
}


/*
 * --no-host-policy (no path): a host policy file is not read, nothing
 * is said of it, and no domain is given a policy.
 */
static void
testNone(Fixture *f,
         gconstpointer data G_GNUC_UNUSED)
{
    f->config.hostPolicyPath = NULL;
    domainCreate(f, 0, NULL);
    daemonStart(f);
    vfmigDaemonDomainStarted(f->d, f->doms[0]);
    ticksUntil(f, SWEEP_US);
    ticks(f, 3);
    g_assert_cmpuint(fakeCount(0).xmlReads, >=, 1);
    g_assert_cmpuint(fakeCount(0).sets, ==, 0);
    g_assert_cmpuint(f->lines->len, ==, 0);
}


static void
quietLibvirt(void *opaque G_GNUC_UNUSED,
             virErrorPtr error G_GNUC_UNUSED)
{
}


int
main(int argc,
     char **argv)
{
    /* the steering locks, before any thread */
    g_autofree char *runDir = g_dir_make_tmp("vfmig-test-hostdefault-XXXXXX", NULL);
    int ret;
    size_t i;

    g_assert_nonnull(runDir);
    g_setenv("VFMIG_RUN_DIR", runDir, TRUE);
    g_test_init(&argc, &argv, NULL);
    g_mutex_init(&fake.lock);
    /* the refusals the test makes libvirt give are no noise on stderr */
    virSetErrorFunc(NULL, quietLibvirt);
#define ADD(name, func) \
    g_test_add("/daemon-hostdefault/" name, Fixture, NULL, fixtureSetUp, \
               func, fixtureTearDown)
    ADD("started", testStarted);
    ADD("metadata-change", testMetadataChange);
    ADD("explicit", testExplicit);
    ADD("file", testFile);
    ADD("incoming", testIncoming);
    ADD("set-fails", testSetFails);
    ADD("none", testNone);
#undef ADD
    ret = g_test_run();
    for (i = 0; i < NDOMS; i++)
        g_clear_pointer(&fake.doms[i].sets, g_ptr_array_unref);
    vfmigTestRmTree(runDir);
    return ret;
}
