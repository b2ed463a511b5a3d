/*
 * vm-testdev-fsm.c: every transition of the migration FSM on a real
 * vfmig_testdev device
 *
 * Usage: vm-testdev-fsm BDF
 *        vm-testdev-fsm --plan
 *        vm-testdev-fsm --fixed [--error-fault FILE=VALUE] BDF
 *        vm-testdev-fsm --plan --fixed [--error-fault FILE=VALUE]
 *
 * For each of the four feature sets (p2p on/off x pre-copy on/off, set
 * through the device's sysfs while it is not open), and for every state
 * FROM the set offers (ERROR included, reached through the driver's
 * "error-arc" fault) and every TO of the eight uAPI states plus one
 * undefined value, drives the real device to FROM and asks it for TO
 * through VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, without any check on our
 * side.  The shared FSM (vfmig_fsm_next_state) says what the uAPI allows:
 * an allowed request must succeed, read back TO, and return a data fd
 * exactly when an arc on its path opens a data session; a refused one
 * must fail with EINVAL and leave the device in FROM.  Between pairs the
 * device is reset (VFIO_DEVICE_RESET, which the driver handles) and must
 * read back RUNNING: ERROR is only left that way.
 *
 * --fixed is for a driver whose feature set cannot be changed (no
 * vfmig_testdev/ sysfs, e.g. mlx5_vfio_pci on its firmware model): the
 * set tested is the one the device reports (VFIO_DEVICE_FEATURE_MIGRATION),
 * with the same pairs and the same checks, and the stream to leave
 * RESUMING with is captured from the device as it is.  ERROR is a FROM
 * state only with --error-fault FILE=VALUE: VALUE is written to the
 * device's sysfs FILE (relative to /sys/bus/pci/devices/BDF/) before the
 * first arc from RUNNING towards STOP, which must then fail and leave the
 * device in ERROR; after each pair from ERROR, FILE is written "none" (the
 * vfmig engine's way to disarm a fault that did not fire).  E.g.
 *   --error-fault 'vfmig_mlx5model/fault=error-arc RUNNING RUNNING_P2P'
 * Without it ERROR is left out, which a diagnostic line says.  The run's
 * plan follows the flags the device reports; --plan --fixed, which has no
 * device, counts for STOP_COPY|P2P|PRE_COPY (the only set mlx5_vfio_pci
 * offers), so a device offering another set fails the suite's count.
 *
 * Prints TAP; exits 0 when every check passed.  --plan prints the number
 * of checks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "vm-testlib.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"

#define FSM_STATE_SIZE 65536
/* one past the last state: an undefined value */
#define FSM_BAD_STATE 8
#define FSM_NTARGETS 9

typedef struct {
    bool p2p;
    bool precopy;
} fsmFeatureSet;

/* How the device is driven: the test driver's knobs, or --fixed. */
typedef struct {
    bool fixed;
    /* --error-fault FILE=VALUE (--fixed only), or NULL */
    const char *faultFile;
    const char *faultValue;
} fsmMode;

/* The set --plan --fixed counts for: what mlx5_vfio_pci offers. */
#define FSM_FIXED_PLAN_FLAGS \
    (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY)
#define FSM_KNOWN_FLAGS FSM_FIXED_PLAN_FLAGS

static const fsmFeatureSet fsmSets[] = {
    { false, false },
    { true, false },
    { false, true },
    { true, true },
};


static uint32_t
fsmFlags(const fsmFeatureSet *set)
{
    uint32_t flags = VFIO_MIGRATION_STOP_COPY;

    if (set->p2p)
        flags |= VFIO_MIGRATION_P2P;
    if (set->precopy)
        flags |= VFIO_MIGRATION_PRE_COPY;
    return flags;
}


/*
 * The FROM states of a set: ERROR (unless @withoutError) and every state
 * its flags offer.
 */
static int
fsmFromStates(uint32_t flags, uint32_t *states, bool withoutError)
{
    int n = 0;
    uint32_t s;

    for (s = 0; s < FSM_BAD_STATE; s++) {
        if (withoutError && s == VFIO_DEVICE_STATE_ERROR)
            continue;
        if (vfmig_fsm_state_supported(flags, s))
            states[n++] = s;
    }
    return n;
}


static int
fsmPlan(void)
{
    uint32_t states[FSM_BAD_STATE];
    size_t i;
    int plan = 1;   /* the stream used to leave RESUMING */

    for (i = 0; i < G_N_ELEMENTS(fsmSets); i++)
        plan += 2 + fsmFromStates(fsmFlags(&fsmSets[i]), states, false) *
                    FSM_NTARGETS;
    return plan;
}


/* --fixed: the flags, the reset after open, the stream, then the pairs. */
static int
fsmPlanFixed(uint32_t flags, bool withError)
{
    uint32_t states[FSM_BAD_STATE];

    return 3 + fsmFromStates(flags, states, !withError) * FSM_NTARGETS;
}


/* Does an arc on the path @from -> @to open a data session? */
static bool
fsmPathOpensSession(uint32_t flags, uint32_t from, uint32_t to)
{
    uint32_t cur = from;
    int steps = 0;

    while (cur != to && steps++ < 8) {
        uint32_t next = cur;

        if (vfmig_fsm_next_state(flags, cur, to, &next) != VFMIG_FSM_OK)
            return false;
        if (vfmig_fsm_arc_opens_session(cur, next))
            return true;
        cur = next;
    }
    return false;
}


static int
fsmGet(vfmigVFIO *vfio, uint32_t *state)
{
    *state = VFIO_DEVICE_STATE_ERROR;
    return vfmigVFIOGetState(vfio, state);
}


/* SET without checks; *@err is the errno (0 on success). */
static int
fsmSetState(vfmigVFIO *vfio, uint32_t state, int *dataFd, int *err)
{
    int rc;

    vfmigResetLastError();
    rc = vfmigVFIOSetState(vfio, state, dataFd);
    *err = rc < 0 ? vmLastErrno() : 0;
    return rc;
}


static void
fsmClose(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}


/* Resets the device; *@why on failure. */
static bool
fsmReset(vfmigVFIO *vfio, char **why)
{
    uint32_t state;

    if (vfmigVFIOReset(vfio) < 0) {
        *why = g_strdup_printf("reset failed: %s", vmLastError());
        return false;
    }
    if (fsmGet(vfio, &state) < 0) {
        *why = g_strdup_printf("GET after reset failed: %s", vmLastError());
        return false;
    }
    if (state != VFIO_DEVICE_STATE_RUNNING) {
        *why = g_strdup_printf("reset left the device in %s, not RUNNING",
                               vmStateName(state));
        return false;
    }
    return true;
}


/*
 * From RUNNING to @from: ERROR through the error-arc fault, anything else
 * by one SET.  Keeps the data fd in *@dataFd.
 */
static bool
fsmReach(const char *bdf, vfmigVFIO *vfio, const fsmMode *mode,
         uint32_t flags, uint32_t from, int *dataFd, char **why)
{
    uint32_t state;
    int err;

    if (from == VFIO_DEVICE_STATE_RUNNING)
        return true;

    if (from == VFIO_DEVICE_STATE_ERROR && mode->fixed) {
        /* the first arc from RUNNING towards STOP, after the user's fault */
        uint32_t next = VFIO_DEVICE_STATE_STOP;
        int rc;

        vfmig_fsm_next_state(flags, VFIO_DEVICE_STATE_RUNNING,
                             VFIO_DEVICE_STATE_STOP, &next);
        if ((rc = vmSysfsSet(bdf, mode->faultFile, mode->faultValue)) < 0) {
            *why = g_strdup_printf("writing '%s' to %s failed: %s",
                                   mode->faultValue, mode->faultFile,
                                   g_strerror(-rc));
            return false;
        }
        if (fsmSetState(vfio, next, dataFd, &err) == 0) {
            *why = g_strdup_printf("RUNNING -> %s succeeded after %s='%s'",
                                   vmStateName(next), mode->faultFile,
                                   mode->faultValue);
            return false;
        }
    } else if (from == VFIO_DEVICE_STATE_ERROR) {
        /* the first arc from RUNNING towards STOP (RUNNING_P2P with p2p) */
        uint32_t next = VFIO_DEVICE_STATE_STOP;
        g_autofree char *arm = NULL;
        int rc;

        vfmig_fsm_next_state(flags, VFIO_DEVICE_STATE_RUNNING,
                             VFIO_DEVICE_STATE_STOP, &next);
        arm = g_strdup_printf("error-arc RUNNING %s", vmStateName(next));
        if ((rc = vmSysfsSet(bdf, "vfmig_testdev/fault", arm)) < 0) {
            *why = g_strdup_printf("arming '%s' failed: %s", arm, g_strerror(-rc));
            return false;
        }
        if (fsmSetState(vfio, next, dataFd, &err) == 0) {
            *why = g_strdup_printf("the armed %s succeeded", arm);
            return false;
        }
        if (err != EIO) {
            *why = g_strdup_printf("the armed %s failed with %s, not EIO",
                                   arm, g_strerror(err));
            return false;
        }
    } else if (fsmSetState(vfio, from, dataFd, &err) < 0) {
        *why = g_strdup_printf("RUNNING -> %s failed: %s",
                               vmStateName(from), vmLastError());
        return false;
    }

    if (fsmGet(vfio, &state) < 0) {
        *why = g_strdup_printf("GET failed: %s", vmLastError());
        return false;
    }
    if (state != from) {
        *why = g_strdup_printf("reaching %s left the device in %s",
                               vmStateName(from), vmStateName(state));
        return false;
    }
    return true;
}


/* Saves a whole stream (RUNNING -> STOP_COPY -> read -> reset). */
static bool
fsmCaptureStream(const char *bdf, vfmigVFIO *vfio, GByteArray *stream,
                 char **why)
{
    int fd = -1;
    int err;
    gssize n;
    bool ok;

    if (fsmSetState(vfio, VFIO_DEVICE_STATE_STOP_COPY, &fd, &err) < 0 || fd < 0) {
        *why = g_strdup_printf("RUNNING -> STOP_COPY: %s",
                               fd < 0 ? "no data fd" : vmLastError());
        fsmClose(&fd);
        return false;
    }
    n = vmReadFd(bdf, fd, false, stream, VFMIG_DATA_END);
    fsmClose(&fd);
    if (n <= 0) {
        *why = g_strdup_printf("reading the stop-copy stream: %s",
                               n < 0 ? vmLastError() : "it is empty");
        return false;
    }
    ok = fsmReset(vfio, why);
    return ok;
}

/* The check that a stream to leave RESUMING with was captured. */
static void
fsmStreamCheck(vmTap *tap, const char *bdf, bool ok, const char *why,
               GByteArray *stream)
{
    vmTapCheck(tap, ok, "a stop-copy stream of %s to load in RESUMING: %s",
               bdf, ok ? "captured" : why);
    if (ok)
        vmTapDiag("the stream has %u bytes", stream->len);
    else
        g_byte_array_set_size(stream, 0);
}


static bool
fsmSetFeatures(const char *bdf, const fsmFeatureSet *set, char **why)
{
    int rc;

    if ((rc = vmSysfsSet(bdf, "vfmig_testdev/p2p", set->p2p ? "1" : "0")) < 0 ||
        (rc = vmSysfsSet(bdf, "vfio_migration/precopy",
                         set->precopy ? "on" : "off")) < 0) {
        *why = g_strdup_printf("sysfs write failed: %s", g_strerror(-rc));
        return false;
    }
    return true;
}


/* sysfs "features" is @want, with "dma-logging" after it or not. */
static bool
fsmFeaturesMatch(const char *features, const char *want)
{
    g_autofree char *stripped = NULL;

    if (!features)
        return false;
    if (g_str_has_suffix(features, " dma-logging"))
        stripped = g_strndup(features, strlen(features) - strlen(" dma-logging"));
    else
        stripped = g_strdup(features);
    return strcmp(stripped, want) == 0;
}


/* One (FROM, TO) pair, one check. */
static void
fsmPair(vmTap *tap,
        const char *bdf,
        vfmigVFIO *vfio,
        const fsmMode *mode,
        uint32_t flags,
        const char *setName,
        uint32_t from,
        uint32_t to,
        GByteArray *stream)
{
    g_autofree char *why = NULL;
    g_autofree char *toName = NULL;
    enum vfmig_fsm_verdict verdict;
    uint32_t next = 0;
    uint32_t after = VFIO_DEVICE_STATE_ERROR;
    int fromFd = -1;
    int toFd = -1;
    int err = 0;
    int rc;
    bool ok = false;
    bool wantFd;

    toName = to < FSM_BAD_STATE ? g_strdup(vmStateName(to)) :
                                  g_strdup_printf("undefined state %u", to);
    verdict = vfmig_fsm_next_state(flags, from, to, &next);

    if (!fsmReach(bdf, vfio, mode, flags, from, &fromFd, &why))
        goto done;

    /* Leaving RESUMING loads what was written: give it a good stream. */
    if (from == VFIO_DEVICE_STATE_RESUMING && verdict == VFMIG_FSM_OK &&
        to != from) {
        if (fromFd < 0) {
            why = g_strdup("RUNNING -> RESUMING returned no data fd");
            goto done;
        }
        if (vmWriteFd(bdf, fromFd, stream->data, stream->len) < 0) {
            why = g_strdup_printf("writing the stream: %s", vmLastError());
            goto done;
        }
    }

    rc = fsmSetState(vfio, to, &toFd, &err);
    if (fsmGet(vfio, &after) < 0) {
        why = g_strdup_printf("GET after the request failed: %s", vmLastError());
        goto done;
    }

    if (verdict == VFMIG_FSM_OK) {
        wantFd = fsmPathOpensSession(flags, from, to);
        if (rc < 0) {
            why = g_strdup_printf("allowed, but failed: %s", vmLastError());
        } else if (after != to) {
            why = g_strdup_printf("allowed and succeeded, but reads back %s",
                                  vmStateName(after));
        } else if (wantFd != (toFd >= 0)) {
            why = g_strdup_printf("a data fd was %s, the path %s a session",
                                  toFd >= 0 ? "returned" : "not returned",
                                  wantFd ? "opens" : "opens no");
        } else {
            ok = true;
            why = g_strdup_printf("allowed: succeeded%s",
                                  wantFd ? ", with a data fd" : "");
        }
    } else {
        if (rc == 0) {
            why = g_strdup_printf("refused by the uAPI (%s), but succeeded "
                                  "(reads back %s)",
                                  vfmig_fsm_verdict_name(verdict),
                                  vmStateName(after));
        } else if (err != EINVAL) {
            why = g_strdup_printf("refused (%s), but with %s, not EINVAL",
                                  vfmig_fsm_verdict_name(verdict),
                                  g_strerror(err));
        } else if (after != from) {
            why = g_strdup_printf("refused with EINVAL, but the device moved "
                                  "to %s", vmStateName(after));
        } else {
            ok = true;
            why = g_strdup_printf("refused with EINVAL (%s), stays %s",
                                  vfmig_fsm_verdict_name(verdict),
                                  vmStateName(from));
        }
    }

 done:
    fsmClose(&toFd);
    fsmClose(&fromFd);
    {
        g_autofree char *resetWhy = NULL;

        if (!fsmReset(vfio, &resetWhy)) {
            g_autofree char *both = g_strdup_printf("%s; then %s",
                                                    why ? why : "", resetWhy);
            g_free(why);
            why = g_steal_pointer(&both);
            ok = false;
        }
    }
    vmTapCheck(tap, ok, "[%s] %s -> %s: %s", setName,
               vmStateName(from), toName, why ? why : "");
    if (!mode->fixed)
        vmSysfsSet(bdf, "vfmig_testdev/fault", "none");
    else if (mode->faultFile && from == VFIO_DEVICE_STATE_ERROR)
        vmSysfsSet(bdf, mode->faultFile, "none");
}


/*
 * --fixed: the one feature set the device reports.  Checks: the flags, the
 * reset after open, the stream, then every (FROM, TO) pair.
 */
static int
fsmMainFixed(const char *bdf, const fsmMode *mode)
{
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autoptr(vfmigVFIO) vfio = NULL;
    g_autofree char *flagsStr = NULL;
    g_autofree char *setName = NULL;
    bool withError = mode->faultFile != NULL;
    uint32_t froms[FSM_BAD_STATE];
    uint64_t devFlags = 0;
    uint32_t flags;
    uint32_t to;
    int nfrom;
    int f;

    if (!(vfio = vfmigVFIOOpen(bdf, NULL)) ||
        vfmigVFIOGetMigrationFlags(vfio, &devFlags) < 0) {
        vmTap tap = { 0 };

        vmTapPlan(&tap, fsmPlanFixed(FSM_FIXED_PLAN_FLAGS, withError));
        vmTapCheck(&tap, false, "[fixed] open %s and read its migration "
                   "flags: %s", bdf, vmLastError());
        vmTapFillTo(&tap, tap.planned, "the device did not open");
        return vmTapDone(&tap);
    }

    flags = devFlags & FSM_KNOWN_FLAGS;
    nfrom = fsmFromStates(flags, froms, !withError);
    flagsStr = vfmigDeviceFlagsString(flags);
    setName = g_strdup_printf("fixed %s", flagsStr);
    {
        vmTap tap = { 0 };
        g_autofree char *resetWhy = NULL;
        g_autofree char *why = NULL;
        g_autofree char *planFlags = vfmigDeviceFlagsString(FSM_FIXED_PLAN_FLAGS);
        uint32_t st = VFIO_DEVICE_STATE_ERROR;
        bool ok;

        vmTapPlan(&tap, fsmPlanFixed(flags, withError));
        vmTapDiag("device %s (driver %s), fixed feature set %s", bdf,
                  vfmigVFIOGetDriver(vfio) ? vfmigVFIOGetDriver(vfio) : "unknown",
                  flagsStr);
        if (flags != FSM_FIXED_PLAN_FLAGS)
            vmTapDiag("the device does not offer %s, which --plan --fixed "
                      "counts for: this run plans %d checks", planFlags,
                      tap.planned);
        if (withError)
            vmTapDiag("ERROR is reached by writing '%s' to %s", mode->faultValue,
                      mode->faultFile);
        else
            vmTapDiag("ERROR is left out of the FROM states: no --error-fault "
                      "names a fault that makes an arc enter it");

        vmTapCheck(&tap, vfmig_fsm_flags_valid(flags) &&
                   (devFlags & ~(uint64_t) FSM_KNOWN_FLAGS) == 0,
                   "[%s] the device offers %s (VFIO_DEVICE_FEATURE_MIGRATION, "
                   "raw 0x%llx): one of the uAPI's four sets", setName, flagsStr,
                   (unsigned long long) devFlags);

        fsmGet(vfio, &st);
        vmTapCheck(&tap, fsmReset(vfio, &resetWhy),
                   "[%s] opened in %s, VFIO_DEVICE_RESET: %s", setName,
                   vmStateName(st), resetWhy ? resetWhy : "RUNNING");

        /* A stream of this device, as it is, to leave RESUMING with. */
        ok = fsmCaptureStream(bdf, vfio, stream, &why);
        fsmStreamCheck(&tap, bdf, ok, why, stream);

        for (f = 0; f < nfrom; f++) {
            for (to = 0; to < FSM_NTARGETS; to++)
                fsmPair(&tap, bdf, vfio, mode, flags, setName, froms[f], to,
                        stream);
        }
        return vmTapDone(&tap);
    }
}


static int
fsmUsage(void)
{
    fprintf(stderr,
            "usage: vm-testdev-fsm BDF | --plan\n"
            "       vm-testdev-fsm --fixed [--error-fault FILE=VALUE] BDF\n"
            "       vm-testdev-fsm --plan --fixed [--error-fault FILE=VALUE]\n");
    return 2;
}



int
main(int argc, char **argv)
{
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *bdf = NULL;
    g_autofree char *faultFile = NULL;
    fsmMode mode = { 0 };
    const char *name = NULL;
    bool plan = false;
    vmTap tap = { 0 };
    size_t i;
    int a;
    int rc;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--plan") == 0) {
            plan = true;
        } else if (strcmp(argv[a], "--fixed") == 0) {
            mode.fixed = true;
        } else if (strcmp(argv[a], "--error-fault") == 0 && a + 1 < argc) {
            const char *eq = strchr(argv[++a], '=');

            if (!eq || eq == argv[a] || !eq[1] || strstr(argv[a], "..")) {
                fprintf(stderr, "error: --error-fault '%s': want FILE=VALUE, "
                        "FILE relative to the device's sysfs directory\n",
                        argv[a]);
                return 2;
            }
            g_free(faultFile);
            faultFile = g_strndup(argv[a], eq - argv[a]);
            mode.faultFile = faultFile;
            mode.faultValue = eq + 1;
        } else if (argv[a][0] != '-' && !name) {
            name = argv[a];
        } else {
            return fsmUsage();
        }
    }
    if (mode.faultFile && !mode.fixed) {
        fprintf(stderr, "error: --error-fault needs --fixed\n");
        return 2;
    }
    if (plan && !name) {
        printf("%d\n", mode.fixed ?
               fsmPlanFixed(FSM_FIXED_PLAN_FLAGS, mode.faultFile != NULL) :
               fsmPlan());
        return 0;
    }
    if (plan || !name)
        return fsmUsage();
    if (vfmigVFIOParseName(name, &bdf, NULL) < 0) {
        fprintf(stderr, "error: %s\n", vmLastError());
        return 2;
    }
    if (mode.fixed)
        return fsmMainFixed(bdf, &mode);

    vmTapPlan(&tap, fsmPlan());
    vmTapDiag("device %s, state_size %d", bdf, FSM_STATE_SIZE);

    /* A stream of this device, to leave RESUMING with. */
    {
        g_autoptr(vfmigVFIO) vfio = NULL;
        g_autofree char *why = NULL;
        bool ok = false;

        if ((rc = vmSysfsSetU64(bdf, "vfmig_testdev/state_size",
                                FSM_STATE_SIZE)) < 0) {
            why = g_strdup_printf("state_size: %s", g_strerror(-rc));
        } else if (!fsmSetFeatures(bdf, &fsmSets[0], &why)) {
            /* why set */
        } else if (!(vfio = vfmigVFIOOpen(bdf, NULL))) {
            why = g_strdup_printf("open: %s", vmLastError());
        } else {
            ok = fsmCaptureStream(bdf, vfio, stream, &why);
        }
        fsmStreamCheck(&tap, bdf, ok, why, stream);
    }

    for (i = 0; i < G_N_ELEMENTS(fsmSets); i++) {
        const fsmFeatureSet *set = &fsmSets[i];
        uint32_t flags = fsmFlags(set);
        uint32_t froms[FSM_BAD_STATE];
        int nfrom = fsmFromStates(flags, froms, false);
        int until = tap.run + 2 + nfrom * FSM_NTARGETS;
        g_autofree char *setName = g_strdup_printf("p2p %s, pre-copy %s",
                                                   set->p2p ? "on" : "off",
                                                   set->precopy ? "on" : "off");
        g_autofree char *why = NULL;
        g_autofree char *flagsStr = NULL;
        g_autofree char *sysfsFeatures = NULL;
        g_autofree char *wantFeatures = NULL;
        g_autoptr(vfmigVFIO) vfio = NULL;
        uint64_t devFlags = 0;
        int f;
        uint32_t to;

        if (!fsmSetFeatures(bdf, set, &why)) {
            vmTapCheck(&tap, false, "[%s] set the features: %s", setName, why);
            vmTapFillTo(&tap, until, "the feature set could not be applied");
            continue;
        }
        if (!(vfio = vfmigVFIOOpen(bdf, NULL)) ||
            vfmigVFIOGetMigrationFlags(vfio, &devFlags) < 0) {
            vmTapCheck(&tap, false, "[%s] open: %s", setName, vmLastError());
            vmTapFillTo(&tap, until, "the device did not open");
            continue;
        }
        flagsStr = vfmigDeviceFlagsString(devFlags);
        sysfsFeatures = vmSysfsGet(bdf, "vfio_migration/features");
        wantFeatures = g_strdup_printf("stop-copy%s%s",
                                       set->p2p ? " p2p" : "",
                                       set->precopy ? " pre-copy" : "");
        vmTapCheck(&tap,
                   (devFlags & (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
                                VFIO_MIGRATION_PRE_COPY)) == flags &&
                   fsmFeaturesMatch(sysfsFeatures, wantFeatures),
                   "[%s] the device offers %s (VFIO_DEVICE_FEATURE_MIGRATION), "
                   "sysfs features '%s' (want '%s', dma-logging aside)",
                   setName, flagsStr, sysfsFeatures ? sysfsFeatures : "(unreadable)",
                   wantFeatures);

        {
            g_autofree char *resetWhy = NULL;
            uint32_t st = VFIO_DEVICE_STATE_ERROR;

            fsmGet(vfio, &st);
            vmTapCheck(&tap, fsmReset(vfio, &resetWhy),
                       "[%s] opened in %s, VFIO_DEVICE_RESET: %s", setName,
                       vmStateName(st), resetWhy ? resetWhy : "RUNNING");
        }

        for (f = 0; f < nfrom; f++) {
            for (to = 0; to < FSM_NTARGETS; to++)
                fsmPair(&tap, bdf, vfio, &mode, flags, setName, froms[f], to,
                        stream);
        }
        vmTapFillTo(&tap, until, "plan mismatch");
    }

    /* Leave the device as the other tests expect it. */
    {
        g_autofree char *why = NULL;

        fsmSetFeatures(bdf, &fsmSets[3], &why);
    }
    return vmTapDone(&tap);
}
