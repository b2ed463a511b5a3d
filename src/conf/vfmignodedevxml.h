/*
 * vfmignodedevxml.h: the vfio-migration capability in a libvirt
 * node-device document
 *
 * libvirt prints a node device's XML (virNodeDeviceGetXMLDesc) and knows
 * nothing of our capability; these functions put it into such a document,
 * as the last child of <capability type='pci'>, and take it out again,
 * without reformatting anything else of libvirt's text.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vfmignodedevconf.h"

/* Parses a document whose root is the bare capability element. */
vfmigNodeDevCapVFIOMig *vfmigNodeDevCapVFIOMigParseString(const char *xml);

/* The bare capability as a new string, not indented, ending in a newline. */
char *vfmigNodeDevCapVFIOMigFormatString(const vfmigNodeDevCapVFIOMig *cap);

/*
 * Finds the vfio-migration capability in the libvirt node-device document
 * @xml and parses it into *@cap; *@cap is NULL when the document has none
 * (a device that is not PCI, or a PCI device without it).  Returns 0, or
 * -1 with an error reported (malformed XML, a malformed or repeated
 * capability).
 */
int vfmigNodeDevXMLExtractCap(const char *xml,
                              vfmigNodeDevCapVFIOMig **cap);

/*
 * Returns a copy of the libvirt node-device document @xml with @cap
 * formatted as the last child of its <capability type='pci'>, indented one
 * level deeper than that element's end tag; a vfio-migration capability
 * already there is replaced (@cap NULL: only removed).  Every other byte
 * of @xml is kept.  Returns NULL with an error reported when @xml is
 * malformed or has no (or more than one) PCI capability.
 */
char *vfmigNodeDevXMLInsertCap(const char *xml,
                               const vfmigNodeDevCapVFIOMig *cap);

/*
 * Parses the document @xml as every vfmig XML is parsed: no network, no
 * DTD loading, no entity substitution, libxml2's own messages suppressed.
 * @what names it in messages.  Returns NULL with an error reported.
 */
xmlDocPtr vfmigNodeDevXMLReadDoc(const char *xml,
                                 const char *what);
