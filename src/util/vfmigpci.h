/*
 * vfmigpci.h: PCI addresses, one parser and one formatter
 *
 * The one type for a PCI function's address in vfmig, after libvirt's
 * virPCIDeviceAddress: util, node_device and the tools all read and print
 * addresses through these functions.  Accepted spellings:
 *
 *   DDDD:BB:SS.F      0000:3b:00.2, as sysfs names a function (a domain of
 *                     4 to 8 hex digits)
 *   BB:SS.F           3b:00.2, as lspci prints it: domain 0000
 *   pci_DDDD_BB_SS_F  pci_0000_3b_00_2, libvirt's node-device name (only
 *                     with VFMIG_PCI_ADDRESS_NODEDEV_NAME)
 *
 * Hex digits in either case; the bus and slot are two digits, the slot at
 * most 1f, the function one digit 0-7; nothing may follow.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

typedef struct _vfmigPCIAddress vfmigPCIAddress;
struct _vfmigPCIAddress {
    unsigned int domain;    /* 0 .. 0xffffffff */
    unsigned int bus;       /* 0 .. 0xff */
    unsigned int slot;      /* 0 .. 0x1f */
    unsigned int function;  /* 0 .. 7 */
};

typedef enum {
    /* also accept libvirt's node-device name pci_DDDD_BB_SS_F */
    VFMIG_PCI_ADDRESS_NODEDEV_NAME = 1 << 0,
} vfmigPCIAddressParseFlags;

/*
 * Parses @str (see above; @flags are vfmigPCIAddressParseFlags) into
 * *@addr.  Returns 0, or -1 with VFMIG_ERR_INVALID_ARG naming @str, what is
 * wrong with it and the accepted forms.
 */
int vfmigPCIAddressParse(const char *str,
                         unsigned int flags,
                         vfmigPCIAddress *addr);

/*
 * The same test without reporting anything, for callers that accept other
 * kinds of names too (a mediated device's UUID).  @addr may be NULL.
 */
bool vfmigPCIAddressIsValid(const char *str,
                            unsigned int flags,
                            vfmigPCIAddress *addr);

/* "0000:3b:00.2": the canonical form, as sysfs and the kernel spell it. */
char *vfmigPCIAddressFormat(const vfmigPCIAddress *addr);

/* "pci_0000_3b_00_2": libvirt's node-device name of the function. */
char *vfmigPCIAddressFormatNodeDevName(const vfmigPCIAddress *addr);

/*
 * Parses @str and sets *@canonical to vfmigPCIAddressFormat of it.
 * Returns 0, or -1 with the error of vfmigPCIAddressParse.
 */
int vfmigPCIAddressCanonicalize(const char *str,
                                unsigned int flags,
                                char **canonical);

bool vfmigPCIAddressEqual(const vfmigPCIAddress *a,
                          const vfmigPCIAddress *b);
