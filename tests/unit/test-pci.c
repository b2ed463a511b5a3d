/*
 * test-pci.c: the one PCI address parser and formatter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>

#include "vfmigerror.h"
#include "vfmigpci.h"


typedef struct {
    const char *in;
    unsigned int flags;
    const char *canonical;      /* NULL: refused */
    const char *why;            /* part of the error when refused */
} testPCICase;

static const testPCICase testPCICases[] = {
    { "0000:3b:00.2", 0, "0000:3b:00.2", NULL },
    { "3b:00.2", 0, "0000:3b:00.2", NULL },
    { "0000:3B:1F.7", 0, "0000:3b:1f.7", NULL },
    { "10000:00:00.0", 0, "10000:00:00.0", NULL },
    { "ffffffff:ff:1f.7", 0, "ffffffff:ff:1f.7", NULL },
    { "pci_0000_3b_00_2", VFMIG_PCI_ADDRESS_NODEDEV_NAME, "0000:3b:00.2", NULL },
    { "0000:3b:00.2", VFMIG_PCI_ADDRESS_NODEDEV_NAME, "0000:3b:00.2", NULL },
    { "3b:00.2", VFMIG_PCI_ADDRESS_NODEDEV_NAME, "0000:3b:00.2", NULL },

    { "pci_0000_3b_00_2", 0, NULL, "does not start with" },
    { "", 0, NULL, "it is empty" },
    { "0000:3b:00.2 ", 0, NULL, "something follows" },
    { "0000:3b:00.2\n", 0, NULL, "something follows" },
    { "0000:3b:00.8", 0, NULL, "the function is above 7" },
    { "0000:3b:20.0", 0, NULL, "the slot is above 1f" },
    { "000:3b:00.2", 0, NULL, "4 to 8 hex digits" },
    { "100000000:3b:00.2", 0, NULL, "does not start" },
    { "3:00.2", 0, NULL, "does not start" },
    { "03b:00.2", 0, NULL, "the bus must be 2 hex digits" },
    { "0000:3b:0.2", 0, NULL, "the slot must be 2 hex digits" },
    { "0000:3b:00.", 0, NULL, "one digit" },
    { "0000:3b:00.a", 0, NULL, "one digit" },
    { "0000:3b:00:2", 0, NULL, "followed by '.'" },
    { "0000:zz:00.0", 0, NULL, "the bus must be 2 hex digits" },
    { "-000:3b:00.2", 0, NULL, "does not start" },
    { "pci_0000_3b_00_2_", VFMIG_PCI_ADDRESS_NODEDEV_NAME, NULL, "something follows" },
    { "pci_0000:3b:00.2", VFMIG_PCI_ADDRESS_NODEDEV_NAME, NULL, "the domain must be" },
    { "pci_3b_00_2", VFMIG_PCI_ADDRESS_NODEDEV_NAME, NULL, "the domain must be" },
    { "pci_0000_3b_00.2", VFMIG_PCI_ADDRESS_NODEDEV_NAME, NULL, "followed by '_'" },
};


static void
testPCIParse(const void *opaque)
{
    const testPCICase *c = opaque;
    vfmigPCIAddress addr = { 0 };
    g_autofree char *canonical = NULL;
    int rc;

    vfmigResetLastError();
    rc = vfmigPCIAddressParse(c->in, c->flags, &addr);
    g_assert_cmpint(vfmigPCIAddressIsValid(c->in, c->flags, NULL), ==, rc == 0);

    if (c->canonical) {
        g_autofree char *again = NULL;
        vfmigPCIAddress back;

        g_assert_cmpint(rc, ==, 0);
        canonical = vfmigPCIAddressFormat(&addr);
        g_assert_cmpstr(canonical, ==, c->canonical);
        /* the canonical form reads back as the same address */
        g_assert_cmpint(vfmigPCIAddressParse(canonical, 0, &back), ==, 0);
        g_assert_true(vfmigPCIAddressEqual(&addr, &back));
        g_assert_cmpint(vfmigPCIAddressCanonicalize(c->in, c->flags, &again), ==, 0);
        g_assert_cmpstr(again, ==, c->canonical);
    } else {
        const char *msg;

        g_assert_cmpint(rc, ==, -1);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
        msg = vfmigGetLastErrorMessage();
        /* the input, the reason and the accepted forms */
        g_assert_nonnull(strstr(msg, c->in));
        g_assert_nonnull(strstr(msg, c->why));
        g_assert_nonnull(strstr(msg, "3b:00.2, domain 0000"));
        g_assert_cmpint(vfmigPCIAddressCanonicalize(c->in, c->flags, &canonical), ==, -1);
        g_assert_null(canonical);
    }
}


static void
testPCIFormat(void)
{
    vfmigPCIAddress a = { .domain = 0, .bus = 0x3b, .slot = 0, .function = 2 };
    vfmigPCIAddress big = { .domain = 0x10000, .bus = 1, .slot = 0x1f, .function = 7 };
    g_autofree char *s1 = vfmigPCIAddressFormat(&a);
    g_autofree char *n1 = vfmigPCIAddressFormatNodeDevName(&a);
    g_autofree char *s2 = vfmigPCIAddressFormat(&big);
    g_autofree char *n2 = vfmigPCIAddressFormatNodeDevName(&big);
    vfmigPCIAddress back;

    g_assert_cmpstr(s1, ==, "0000:3b:00.2");
    g_assert_cmpstr(n1, ==, "pci_0000_3b_00_2");
    g_assert_cmpstr(s2, ==, "10000:01:1f.7");
    g_assert_cmpstr(n2, ==, "pci_10000_01_1f_7");
    g_assert_cmpint(vfmigPCIAddressParse(n2, VFMIG_PCI_ADDRESS_NODEDEV_NAME, &back), ==, 0);
    g_assert_true(vfmigPCIAddressEqual(&big, &back));
    g_assert_false(vfmigPCIAddressEqual(&a, &back));
}


int
main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    for (i = 0; i < G_N_ELEMENTS(testPCICases); i++) {
        g_autofree char *esc = g_strescape(testPCICases[i].in, NULL);
        g_autofree char *name = g_strdup_printf("/pci/parse/%zu '%s'", i, esc);

        g_test_add_data_func(name, &testPCICases[i], testPCIParse);
    }
    g_test_add_func("/pci/format", testPCIFormat);
    return g_test_run();
}
