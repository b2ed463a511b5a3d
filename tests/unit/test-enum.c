/*
 * test-enum.c: VFMIG_ENUM_DECL/VFMIG_ENUM_IMPL, and the one table of each
 * set of names (FSM states, feature words)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <glib.h>

#include "vfmigdevice.h"
#include "vfmigenum.h"
#include "vfmigfsm.h"

/* An enum that does not start at 0, as the state file's phases. */
typedef enum {
    TEST_COLOUR_RED = 1,
    TEST_COLOUR_GREEN,
    TEST_COLOUR_BLUE,

    TEST_COLOUR_LAST
} testColour;

VFMIG_ENUM_DECL(testColour);
VFMIG_ENUM_IMPL(testColour, TEST_COLOUR_LAST,
                [TEST_COLOUR_RED] = "red",
                [TEST_COLOUR_GREEN] = "green",
                [TEST_COLOUR_BLUE] = "blue",
);

typedef enum {
    TEST_SIZE_S,
    TEST_SIZE_M,

    TEST_SIZE_LAST
} testSize;

VFMIG_ENUM_DECL(testSize);
VFMIG_ENUM_IMPL(testSize, TEST_SIZE_LAST, "s", "m");


static void
testMacro(void)
{
    g_assert_cmpstr(testSizeToString(TEST_SIZE_S), ==, "s");
    g_assert_cmpstr(testSizeToString(TEST_SIZE_M), ==, "m");
    g_assert_null(testSizeToString(TEST_SIZE_LAST));
    g_assert_null(testSizeToString(-1));
    g_assert_cmpint(testSizeFromString("m"), ==, TEST_SIZE_M);
    g_assert_cmpint(testSizeFromString("M"), ==, -1);
    g_assert_cmpint(testSizeFromString(""), ==, -1);
    g_assert_cmpint(testSizeFromString(NULL), ==, -1);

    /* the gap at 0 has no name and matches nothing */
    g_assert_null(testColourToString(0));
    g_assert_cmpstr(testColourToString(TEST_COLOUR_BLUE), ==, "blue");
    g_assert_cmpint(testColourFromString("red"), ==, TEST_COLOUR_RED);
    g_assert_cmpint(testColourFromString("blue"), ==, TEST_COLOUR_BLUE);
    g_assert_cmpint(testColourFromString("purple"), ==, -1);
}


/* The strict uAPI state names are the kernel FSM's, and only those. */
static void
testStateNames(void)
{
    uint32_t i;

    for (i = 0; i < VFMIG_DEVICE_STATE_NR; i++)
        g_assert_cmpint(vfmigFSMStateFromName(vfmig_fsm_state_name(i)), ==, i);
    g_assert_cmpint(vfmigFSMStateFromName("STOP_COPY"), ==,
                    VFIO_DEVICE_STATE_STOP_COPY);
    g_assert_cmpint(vfmigFSMStateFromName("PRE_COPY_P2P"), ==,
                    VFIO_DEVICE_STATE_PRE_COPY_P2P);
    /* the lenient forms are vfmigFSMStateFromString's, not names */
    g_assert_cmpint(vfmigFSMStateFromName("stop-copy"), ==, -1);
    g_assert_cmpint(vfmigFSMStateFromName("stop_copy"), ==, -1);
    g_assert_cmpint(vfmigFSMStateFromName("3"), ==, -1);
    g_assert_cmpint(vfmigFSMStateFromName(vfmig_fsm_state_name(VFMIG_DEVICE_STATE_NR)), ==, -1);
    g_assert_cmpint(vfmigFSMStateFromName(NULL), ==, -1);
}


/* One feature table: its words name the VFIO_MIGRATION_* bits. */
static void
testFeatureWords(void)
{
    g_autofree char *all = NULL;
    g_autofree char *unknown = NULL;
    g_autofree char *none = NULL;

    g_assert_cmpstr(vfmigFeatureToString(VFMIG_FEATURE_STOP_COPY), ==, "stop-copy");
    g_assert_cmpstr(vfmigFeatureToString(VFMIG_FEATURE_MULTI_LOAD), ==, "multi-load");
    g_assert_cmpint(vfmigFeatureFromString("pre-copy"), ==, VFMIG_FEATURE_PRE_COPY);
    g_assert_cmpint(vfmigFeatureFromString("pre_copy"), ==, -1);

    all = vfmigDeviceFlagsString(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
                                 VFIO_MIGRATION_PRE_COPY);
    g_assert_cmpstr(all, ==, "stop-copy,p2p,pre-copy");
    /* multi-load is no VFIO flag: bit 3 of the uAPI's flags is unknown */
    unknown = vfmigDeviceFlagsString(VFIO_MIGRATION_STOP_COPY | 0x8);
    g_assert_cmpstr(unknown, ==, "stop-copy,0x8");
    none = vfmigDeviceFlagsString(0);
    g_assert_cmpstr(none, ==, "none");
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/enum/macro", testMacro);
    g_test_add_func("/enum/state-names", testStateNames);
    g_test_add_func("/enum/feature-words", testFeatureWords);
    return g_test_run();
}
