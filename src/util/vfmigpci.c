/*
 * vfmigpci.c: PCI addresses, one parser and one formatter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmigpci.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"

#define VFMIG_PCI_SLOT_MAX 0x1f
#define VFMIG_PCI_FUNCTION_MAX 7


/*
 * Reads exactly @min to @max hex digits at *@p into *@val and moves *@p
 * past them.  Returns false when fewer or more digits are there.
 */
static bool
vfmigPCIReadHex(const char **p,
                size_t min,
                size_t max,
                unsigned int *val)
{
    const char *s = *p;
    unsigned long long v = 0;
    size_t n = 0;

    while (g_ascii_isxdigit(s[n])) {
        if (n == max)
            return false;
        v = v * 16 + g_ascii_xdigit_value(s[n]);
        n++;
    }
    if (n < min)
        return false;
    *val = (unsigned int) v;
    *p = s + n;
    return true;
}


/*
 * Parses @str; returns NULL on success, else why it is not an address
 * (translated).
 */
static const char *
vfmigPCIAddressScan(const char *str,
                    unsigned int flags,
                    vfmigPCIAddress *addr)
{
    const char *p = str;
    char sep1 = ':';
    char sep2 = '.';
    vfmigPCIAddress a = { 0 };
    unsigned int first;

    if (!str || !*str)
        return _("it is empty");

    if ((flags & VFMIG_PCI_ADDRESS_NODEDEV_NAME) && g_str_has_prefix(p, "pci_")) {
        p += 4;
        sep1 = '_';
        sep2 = '_';
        if (!vfmigPCIReadHex(&p, 4, 8, &a.domain) || *p++ != sep1)
            return _("the domain must be 4 to 8 hex digits followed by '_'");
        if (!vfmigPCIReadHex(&p, 2, 2, &a.bus) || *p++ != sep1)
            return _("the bus must be 2 hex digits followed by '_'");
    } else {
        if (!vfmigPCIReadHex(&p, 2, 8, &first) || *p++ != ':')
            return _("it does not start with a domain or bus in hex followed by ':'");
        /* BB:SS.F or DDDD:BB:SS.F: a third ':'-separated field? */
        if (strchr(p, ':')) {
            if (p - str - 1 < 4)
                return _("the domain must be 4 to 8 hex digits");
            a.domain = first;
            if (!vfmigPCIReadHex(&p, 2, 2, &a.bus) || *p++ != ':')
                return _("the bus must be 2 hex digits followed by ':'");
        } else {
            if (p - str - 1 != 2)
                return _("the bus must be 2 hex digits");
            a.bus = first;
        }
    }

    if (!vfmigPCIReadHex(&p, 2, 2, &a.slot) || *p++ != sep2)
        return sep2 == '.' ?
            _("the slot must be 2 hex digits followed by '.'") :
            _("the slot must be 2 hex digits followed by '_'");
    if (a.slot > VFMIG_PCI_SLOT_MAX)
        return _("the slot is above 1f");
    if (!g_ascii_isdigit(*p))
        return _("the function must be one digit 0-7");
    a.function = *p++ - '0';
    if (a.function > VFMIG_PCI_FUNCTION_MAX)
        return _("the function is above 7");
    if (*p)
        return _("something follows the function");

    if (addr)
        *addr = a;
    return NULL;
}


int
vfmigPCIAddressParse(const char *str,
                     unsigned int flags,
                     vfmigPCIAddress *addr)
{
    const char *why;

    if (!(why = vfmigPCIAddressScan(str, flags, addr)))
        return 0;

    if (flags & VFMIG_PCI_ADDRESS_NODEDEV_NAME)
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("'%1$s' is not a PCI address (%2$s): expected DDDD:BB:SS.F (0000:3b:00.2), BB:SS.F (3b:00.2, domain 0000) or a PCI node device name (pci_0000_3b_00_2)"),
                         str ? str : "", why);
    else
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("'%1$s' is not a PCI address (%2$s): expected DDDD:BB:SS.F (0000:3b:00.2) or BB:SS.F (3b:00.2, domain 0000)"),
                         str ? str : "", why);
    return -1;
}


bool
vfmigPCIAddressIsValid(const char *str,
                       unsigned int flags,
                       vfmigPCIAddress *addr)
{
    return vfmigPCIAddressScan(str, flags, addr) == NULL;
}


char *
vfmigPCIAddressFormat(const vfmigPCIAddress *addr)
{
    return g_strdup_printf("%04x:%02x:%02x.%u", addr->domain, addr->bus,
                           addr->slot, addr->function);
}


char *
vfmigPCIAddressFormatNodeDevName(const vfmigPCIAddress *addr)
{
    return g_strdup_printf("pci_%04x_%02x_%02x_%u", addr->domain, addr->bus,
                           addr->slot, addr->function);
}


int
vfmigPCIAddressCanonicalize(const char *str,
                            unsigned int flags,
                            char **canonical)
{
    vfmigPCIAddress addr;

    *canonical = NULL;
    if (vfmigPCIAddressParse(str, flags, &addr) < 0)
        return -1;
    *canonical = vfmigPCIAddressFormat(&addr);
    return 0;
}


bool
vfmigPCIAddressEqual(const vfmigPCIAddress *a,
                     const vfmigPCIAddress *b)
{
    return a->domain == b->domain && a->bus == b->bus &&
        a->slot == b->slot && a->function == b->function;
}
