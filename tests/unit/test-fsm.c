/*
 * test-fsm.c: the shared migration FSM against an independent model
 *
 * The model here is written from the uAPI text of Linux >= 6.2
 * (include/uapi/linux/vfio.h, "The FSM takes actions on the arcs..."), not
 * from the FSM's encoding: the list of arcs as the text enumerates them,
 * the rule that an optional P2P state behaves as its fully running twin
 * when not offered, the removal of PRE_COPY arcs without PRE_COPY, and a
 * breadth-first search for the shortest path with saving-group states
 * allowed in the interior only when the path starts and ends in the group.
 * For every flag set and every (from, to) pair the FSM's path must be the
 * model's unique shortest path, or the FSM must refuse with the reason the
 * model gives.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>

#include "vfmigerror.h"
#include "vfmigfsm.h"

#define NSTATES 8

enum {
    ERROR_ = VFIO_DEVICE_STATE_ERROR,
    STOP = VFIO_DEVICE_STATE_STOP,
    RUNNING = VFIO_DEVICE_STATE_RUNNING,
    STOP_COPY = VFIO_DEVICE_STATE_STOP_COPY,
    RESUMING = VFIO_DEVICE_STATE_RESUMING,
    RUNNING_P2P = VFIO_DEVICE_STATE_RUNNING_P2P,
    PRE_COPY = VFIO_DEVICE_STATE_PRE_COPY,
    PRE_COPY_P2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

/* The arcs in the order the uAPI text lists them (all features). */
static const uint32_t uapiArcs[][2] = {
    { RUNNING_P2P, STOP },
    { STOP_COPY, STOP },
    { RESUMING, STOP },
    { PRE_COPY, RUNNING },
    { RUNNING_P2P, RUNNING },
    { PRE_COPY_P2P, RUNNING_P2P },
    { RUNNING, RUNNING_P2P },
    { STOP, RUNNING_P2P },
    { RUNNING, PRE_COPY },
    { RUNNING_P2P, PRE_COPY_P2P },
    { STOP, STOP_COPY },
    { PRE_COPY, PRE_COPY_P2P },
    { PRE_COPY_P2P, PRE_COPY },
    { PRE_COPY_P2P, STOP_COPY },
    { STOP, RESUMING },
};

/* Arcs the text says return a new data_fd / terminate the session. */
static const uint32_t uapiOpening[][2] = {
    { RUNNING, PRE_COPY }, { RUNNING_P2P, PRE_COPY_P2P },
    { STOP, STOP_COPY }, { STOP, RESUMING },
};
static const uint32_t uapiClosing[][2] = {
    { STOP_COPY, STOP }, { RESUMING, STOP },
    { PRE_COPY, RUNNING }, { PRE_COPY_P2P, RUNNING_P2P },
};

static const uint64_t legalFlagSets[] = {
    VFIO_MIGRATION_STOP_COPY,
    VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
    VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
    VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
};

typedef struct {
    uint64_t flags;
    bool offered[NSTATES];
    bool arc[NSTATES][NSTATES];
} Model;

static bool
modelSaving(uint32_t s)
{
    return s == PRE_COPY || s == PRE_COPY_P2P || s == STOP_COPY;
}

static bool
modelPreCopyState(uint32_t s)
{
    return s == PRE_COPY || s == PRE_COPY_P2P;
}

/* "the states behave as though the device was fully running if not
 * supported": without P2P each P2P state stands for its running twin. */
static uint32_t
modelCollapse(const Model *m, uint32_t s)
{
    if (!(m->flags & VFIO_MIGRATION_P2P)) {
        if (s == RUNNING_P2P)
            return RUNNING;
        if (s == PRE_COPY_P2P)
            return PRE_COPY;
    }
    return s;
}

static void
modelBuild(Model *m, uint64_t flags)
{
    size_t i;

    memset(m, 0, sizeof(*m));
    m->flags = flags;
    m->offered[STOP] = m->offered[RUNNING] = true;
    m->offered[STOP_COPY] = m->offered[RESUMING] = true;
    m->offered[RUNNING_P2P] = flags & VFIO_MIGRATION_P2P;
    m->offered[PRE_COPY] = flags & VFIO_MIGRATION_PRE_COPY;
    m->offered[PRE_COPY_P2P] = (flags & VFIO_MIGRATION_P2P) &&
                               (flags & VFIO_MIGRATION_PRE_COPY);

    for (i = 0; i < G_N_ELEMENTS(uapiArcs); i++) {
        uint32_t a = uapiArcs[i][0], b = uapiArcs[i][1];

        /* "Arcs touching PRE_COPY and PRE_COPY_P2P are removed if support
         * for PRE_COPY is not present." */
        if (!(flags & VFIO_MIGRATION_PRE_COPY) &&
            (modelPreCopyState(a) || modelPreCopyState(b)))
            continue;
        a = modelCollapse(m, a);
        b = modelCollapse(m, b);
        if (a != b)
            m->arc[a][b] = true;
    }
}

/*
 * Shortest paths from @from to @to; returns their number (saturating at
 * 2) and one of them in @path (length in *len, including both ends).
 */
static int
modelSearch(const Model *m, uint32_t from, uint32_t to,
            uint32_t *path, size_t *len)
{
    int dist[NSTATES], count[NSTATES];
    uint32_t prev[NSTATES], queue[NSTATES];
    size_t head = 0, tail = 0;
    bool savingInterior = modelSaving(from) && modelSaving(to);
    uint32_t s;

    for (s = 0; s < NSTATES; s++) {
        dist[s] = -1;
        count[s] = 0;
    }
    dist[from] = 0;
    count[from] = 1;
    queue[tail++] = from;

    while (head < tail) {
        uint32_t u = queue[head++];

        /* the target ends the path; other saving states may not be
         * passed through unless the whole path stays in the group */
        if (u == to || (u != from && modelSaving(u) && !savingInterior))
            continue;
        for (s = 0; s < NSTATES; s++) {
            if (!m->arc[u][s] || s == from)
                continue;
            if (dist[s] < 0) {
                dist[s] = dist[u] + 1;
                count[s] = count[u];
                prev[s] = u;
                queue[tail++] = s;
            } else if (dist[s] == dist[u] + 1) {
                count[s] = MIN(2, count[s] + count[u]);
            }
        }
    }

    if (dist[to] < 0)
        return 0;

    *len = dist[to] + 1;
    for (s = to; ; s = prev[s]) {
        path[dist[s]] = s;
        if (s == from)
            break;
    }
    return count[to];
}

/* The refusal the uAPI text prescribes, in the documented order. */
static enum vfmig_fsm_verdict
modelVerdict(const Model *m, uint32_t from, uint32_t to)
{
    if (!(m->flags & VFIO_MIGRATION_STOP_COPY))
        return VFMIG_FSM_BAD_FLAGS;
    if (from >= NSTATES || to >= NSTATES)
        return VFMIG_FSM_BAD_STATE;
    if (to == ERROR_)
        return VFMIG_FSM_TO_ERROR;
    if (from == ERROR_)
        return VFMIG_FSM_FROM_ERROR;
    if (!m->offered[from] || !m->offered[to])
        return VFMIG_FSM_UNSUPPORTED;
    if (from == STOP_COPY && modelPreCopyState(to))
        return VFMIG_FSM_BLOCKED;
    return VFMIG_FSM_OK;
}

/* Drives the FSM the way a driver does: one arc at a time. */
static enum vfmig_fsm_verdict
fsmWalk(uint64_t flags, uint32_t from, uint32_t to,
        uint32_t *path, size_t *len)
{
    uint32_t cur = from;
    enum vfmig_fsm_verdict v;

    *len = 0;
    path[(*len)++] = from;
    while (cur != to) {
        uint32_t next = 0xdead;

        v = vfmig_fsm_next_state(flags, cur, to, &next);
        if (v != VFMIG_FSM_OK) {
            g_assert_cmpuint(next, ==, 0xdead);
            return v;
        }
        g_assert_cmpuint(next, <, NSTATES);
        g_assert_cmpuint(next, !=, cur);
        g_assert_cmpuint(*len, <, NSTATES);
        path[(*len)++] = next;
        cur = next;
    }
    if (from == to) {
        uint32_t next = 0xdead;

        v = vfmig_fsm_next_state(flags, from, to, &next);
        if (v == VFMIG_FSM_OK)
            g_assert_cmpuint(next, ==, to);
        return v;
    }
    return VFMIG_FSM_OK;
}

static char *
pathString(const uint32_t *path, size_t len)
{
    GString *s = g_string_new(NULL);
    size_t i;

    for (i = 0; i < len; i++)
        g_string_append_printf(s, "%s%s", i ? " -> " : "",
                               vfmig_fsm_state_name(path[i]));
    return g_string_free(s, FALSE);
}


static void
testExhaustive(gconstpointer opaque)
{
    uint64_t flags = *(const uint64_t *) opaque;
    Model m;
    uint32_t from, to;
    unsigned int paths = 0, refused = 0;

    modelBuild(&m, flags);

    for (from = 0; from < NSTATES; from++) {
        for (to = 0; to < NSTATES; to++) {
            uint32_t fpath[NSTATES + 1], mpath[NSTATES + 1];
            size_t flen, mlen = 0;
            enum vfmig_fsm_verdict want = modelVerdict(&m, from, to);
            enum vfmig_fsm_verdict got = fsmWalk(flags, from, to,
                                                 fpath, &flen);

            if (want != VFMIG_FSM_OK) {
                if (got != want)
                    g_error("flags 0x%llx %s -> %s: verdict %s, want %s",
                            (unsigned long long) flags,
                            vfmig_fsm_state_name(from),
                            vfmig_fsm_state_name(to),
                            vfmig_fsm_verdict_name(got),
                            vfmig_fsm_verdict_name(want));
                g_assert_cmpint(vfmig_fsm_verdict_errno(got), ==, -EINVAL);
                refused++;
                continue;
            }

            g_assert_cmpint(got, ==, VFMIG_FSM_OK);
            if (from == to) {
                g_assert_cmpuint(flen, ==, 1);
                paths++;
                continue;
            }

            /* Every allowed pair is reachable, by exactly one shortest
             * path, so "equals the search" is well defined. */
            g_assert_cmpint(modelSearch(&m, from, to, mpath, &mlen), ==, 1);

            if (flen != mlen || memcmp(fpath, mpath, flen * sizeof(*fpath))) {
                g_autofree char *fs = pathString(fpath, flen);
                g_autofree char *ms = pathString(mpath, mlen);

                g_error("flags 0x%llx: FSM path %s, model path %s",
                        (unsigned long long) flags, fs, ms);
            }
            paths++;
        }
    }
    g_assert_cmpuint(paths + refused, ==, NSTATES * NSTATES);
    g_test_message("flags 0x%llx: %u paths, %u refused",
                   (unsigned long long) flags, paths, refused);
}


static void
testSingleArcs(gconstpointer opaque)
{
    uint64_t flags = *(const uint64_t *) opaque;
    Model m;
    uint32_t a, b;
    unsigned int arcs = 0;

    modelBuild(&m, flags);
    for (a = 0; a < NSTATES; a++) {
        for (b = 0; b < NSTATES; b++) {
            uint32_t next = 0xdead;

            if (!m.arc[a][b])
                continue;
            g_assert_cmpint(vfmig_fsm_next_state(flags, a, b, &next), ==,
                            VFMIG_FSM_OK);
            g_assert_cmpuint(next, ==, b);
            arcs++;
        }
    }
    /* 15 arcs with every feature, 6 with none (the text's STOP_COPY set
     * plus RUNNING <-> STOP). */
    if (flags == legalFlagSets[3])
        g_assert_cmpuint(arcs, ==, G_N_ELEMENTS(uapiArcs));
    if (flags == legalFlagSets[0])
        g_assert_cmpuint(arcs, ==, 6);
}


static void
testSessionArcs(void)
{
    size_t i;
    uint32_t a, b;

    for (a = 0; a < NSTATES; a++) {
        for (b = 0; b < NSTATES; b++) {
            bool opens = false, closes = false;

            for (i = 0; i < G_N_ELEMENTS(uapiOpening); i++)
                opens |= uapiOpening[i][0] == a && uapiOpening[i][1] == b;
            for (i = 0; i < G_N_ELEMENTS(uapiClosing); i++)
                closes |= uapiClosing[i][0] == a && uapiClosing[i][1] == b;

            /* only judge arcs that exist with some flag set */
            {
                bool exists = false;
                size_t f;

                for (f = 0; f < G_N_ELEMENTS(legalFlagSets); f++) {
                    Model m;

                    modelBuild(&m, legalFlagSets[f]);
                    exists |= m.arc[a][b];
                }
                if (!exists)
                    continue;
            }
            /* the arcs that exist only collapsed (no P2P) neither open
             * nor close a session: RUNNING <-> STOP, PRE_COPY -> STOP_COPY */
            g_assert_cmpint(vfmig_fsm_arc_opens_session(a, b), ==, opens);
            g_assert_cmpint(vfmig_fsm_arc_closes_session(a, b), ==, closes);
        }
    }
}


static void
testIllegalFlags(void)
{
    static const uint64_t bad[] = {
        0, VFIO_MIGRATION_P2P, VFIO_MIGRATION_PRE_COPY,
        VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
    };
    size_t i;
    uint32_t a, b;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(vfmig_fsm_flags_valid(bad[i]));
        for (a = 0; a < NSTATES; a++) {
            g_assert_false(vfmig_fsm_state_supported(bad[i], a));
            for (b = 0; b < NSTATES; b++) {
                uint32_t next = 0xdead;

                g_assert_cmpint(vfmig_fsm_next_state(bad[i], a, b, &next), ==,
                                VFMIG_FSM_BAD_FLAGS);
                g_assert_cmpuint(next, ==, 0xdead);
            }
        }
    }

    /* Bits the uAPI has not defined yet do not change the machine. */
    for (a = 0; a < NSTATES; a++) {
        for (b = 0; b < NSTATES; b++) {
            uint32_t n1 = 0, n2 = 0;

            g_assert_cmpint(vfmig_fsm_next_state(legalFlagSets[3], a, b, &n1), ==,
                            vfmig_fsm_next_state(legalFlagSets[3] | 0xfff0, a, b, &n2));
            g_assert_cmpuint(n1, ==, n2);
        }
    }
}


static void
testBadStates(void)
{
    static const uint32_t bad[] = { NSTATES, 9, 255, 0x80000000u, UINT32_MAX };
    size_t i;
    uint32_t s, next = 0xdead;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        for (s = 0; s < NSTATES; s++) {
            g_assert_cmpint(vfmig_fsm_next_state(legalFlagSets[3], bad[i], s, &next),
                            ==, VFMIG_FSM_BAD_STATE);
            g_assert_cmpint(vfmig_fsm_next_state(legalFlagSets[3], s, bad[i], &next),
                            ==, VFMIG_FSM_BAD_STATE);
        }
        g_assert_false(vfmig_fsm_state_supported(legalFlagSets[3], bad[i]));
        g_assert_cmpstr(vfmig_fsm_state_name(bad[i]), ==, "INVALID");
    }
    g_assert_cmpuint(next, ==, 0xdead);
}


static void
testNamesRoundTrip(void)
{
    uint32_t s;

    for (s = 0; s < NSTATES; s++) {
        g_autofree char *lower = g_ascii_strdown(vfmig_fsm_state_name(s), -1);
        g_autofree char *num = g_strdup_printf("%u", s);

        g_assert_cmpint(vfmigFSMStateFromString(vfmig_fsm_state_name(s)), ==, s);
        g_assert_cmpint(vfmigFSMStateFromString(lower), ==, s);
        g_assert_cmpint(vfmigFSMStateFromString(num), ==, s);
    }
    g_assert_cmpint(vfmigFSMStateFromString("pre-copy-p2p"), ==, PRE_COPY_P2P);
    g_assert_cmpint(vfmigFSMStateFromString("8"), ==, -1);
    g_assert_cmpint(vfmigFSMStateFromString("2x"), ==, -1);
    g_assert_cmpint(vfmigFSMStateFromString(""), ==, -1);
    g_assert_cmpint(vfmigFSMStateFromString("PAUSED"), ==, -1);
}


/* The userspace wrapper turns each verdict into an error a user can act on. */
static void
testCheckMessages(void)
{
    static const struct {
        uint64_t flags;
        uint32_t from, to;
        int code;
        const char *needle;
    } cases[] = {
        { 0, RUNNING, STOP, VFMIG_ERR_OPERATION_UNSUPPORTED, "does not support VFIO migration" },
        { VFIO_MIGRATION_STOP_COPY, RUNNING, ERROR_, VFMIG_ERR_INVALID_ARG, "ERROR state cannot be requested" },
        { VFIO_MIGRATION_STOP_COPY, ERROR_, RUNNING, VFMIG_ERR_DEVICE_ERROR, "only a device reset" },
        { VFIO_MIGRATION_STOP_COPY, RUNNING, PRE_COPY, VFMIG_ERR_OPERATION_UNSUPPORTED, "does not offer the PRE_COPY state" },
        { VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY, STOP_COPY, PRE_COPY, VFMIG_ERR_OPERATION_INVALID, "from STOP_COPY back to PRE_COPY" },
        { VFIO_MIGRATION_STOP_COPY, RUNNING, 12, VFMIG_ERR_INVALID_ARG, "state 12 is not defined" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        vfmigResetLastError();
        g_assert_cmpint(vfmigFSMCheckTransition("0000:01:00.1", cases[i].flags,
                                                cases[i].from, cases[i].to), ==, -1);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, cases[i].code);
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), cases[i].needle));
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "0000:01:00.1"));
    }
    vfmigResetLastError();
    g_assert_cmpint(vfmigFSMCheckTransition("x", legalFlagSets[3], RUNNING, STOP_COPY), ==, 0);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);
}


int
main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);

    for (i = 0; i < G_N_ELEMENTS(legalFlagSets); i++) {
        g_autofree char *name = g_strdup_printf("/fsm/exhaustive/flags-0x%llx",
                                                (unsigned long long) legalFlagSets[i]);
        g_autofree char *arcs = g_strdup_printf("/fsm/single-arcs/flags-0x%llx",
                                                (unsigned long long) legalFlagSets[i]);

        g_test_add_data_func(name, &legalFlagSets[i], testExhaustive);
        g_test_add_data_func(arcs, &legalFlagSets[i], testSingleArcs);
    }
    g_test_add_func("/fsm/session-arcs", testSessionArcs);
    g_test_add_func("/fsm/illegal-flags", testIllegalFlags);
    g_test_add_func("/fsm/bad-states", testBadStates);
    g_test_add_func("/fsm/names", testNamesRoundTrip);
    g_test_add_func("/fsm/check-messages", testCheckMessages);

    return g_test_run();
}
