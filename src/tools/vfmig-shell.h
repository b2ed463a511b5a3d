/*
 * vfmig-shell.h: command table, option parsing and help for virt-vfmig
 *
 * A small relative of libvirt's vsh: each command declares its options
 * once, and parsing, validation, per-command --help and the command list
 * all come from that declaration.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <stdio.h>

#include <glib.h>
#include <libvirt/libvirt.h>

/* Exit codes, documented in virt-vfmig(1). */
#define VFMIG_EXIT_OK       0
#define VFMIG_EXIT_FAILURE  1   /* the command ran and failed */
#define VFMIG_EXIT_USAGE    2   /* bad command line */

typedef enum {
    VFMIG_OPT_BOOL,     /* --name */
    VFMIG_OPT_STRING,   /* --name VALUE or --name=VALUE */
    VFMIG_OPT_STRINGS,  /* the same, which may be given more than once */
    VFMIG_OPT_ARG,      /* positional; may also be given as --name VALUE */
} vfmigOptType;

typedef struct _vfmigCmdOptDef vfmigCmdOptDef;
struct _vfmigCmdOptDef {
    const char *name;
    vfmigOptType type;
    bool required;
    const char *help;       /* N_() marked, translated when printed */
};

/* Options several commands take, declared once (virsh's
 * VIRSH_COMMON_OPT_* in spirit). */
#define VFMIG_COMMON_OPT_JSON \
    { "json", VFMIG_OPT_BOOL, false, N_("print JSON") }
#define VFMIG_COMMON_OPT_DEVICE \
    { "device", VFMIG_OPT_ARG, true, \
      N_("PCI address (DDDD:BB:SS.F or BB:SS.F) or mdev UUID of an idle device bound to a VFIO variant driver") }
#define VFMIG_COMMON_OPT_TARGET_MS \
    { "target-ms", VFMIG_OPT_STRING, false, \
      N_("downtime target in milliseconds that ends pre-copy (default 300, QEMU's default downtime-limit)") }
#define VFMIG_COMMON_OPT_TIMEOUT \
    { "timeout", VFMIG_OPT_STRING, false, \
      N_("give up after this many seconds (default: no limit; pre-copy stops after 10 s or half of this)") }

typedef struct _vfmigCtl vfmigCtl;
typedef struct _vfmigCmd vfmigCmd;

typedef struct _vfmigCmdDef vfmigCmdDef;
struct _vfmigCmdDef {
    const char *name;
    bool (*handler)(vfmigCtl *ctl, const vfmigCmd *cmd);
    const vfmigCmdOptDef *opts;     /* terminated by a NULL name */
    const char *summary;            /* N_() one line */
    const char *description;        /* N_() paragraph */
};

/* What a command gets: its parsed options. */
struct _vfmigCmd {
    const vfmigCmdDef *def;
    GHashTable *values;     /* option name -> value ("" for booleans; the
                             * first of a VFMIG_OPT_STRINGS) */
    GHashTable *lists;      /* option name -> GPtrArray of every value of
                             * a VFMIG_OPT_STRINGS, NULL-terminated */
};

/* The program's state shared by all commands. */
struct _vfmigCtl {
    const char *progname;
    char *uri;              /* -c; NULL until a connection is needed */
    virConnectPtr conn;     /* opened on first use */
    const vfmigCmdDef *const *groups;   /* NULL-terminated command tables */
    const char *const *groupNames;      /* N_() titles, same order */
    const char *const *localOnly;       /* NULL-terminated names of the
                                         * commands that take no -c */
    bool usageError;        /* a handler found a bad option value and
                             * printed it: exit status 2, not 1 */
    bool jsonPrinted;       /* a handler printed its --json document
                             * (else a failure prints {"error": ...}) */
};

/*
 * A table printed as virsh prints its own: each column as wide as its
 * widest cell (in characters, not bytes), a leading space, three between
 * columns, a rule of dashes under the header.  Cells are copied.
 */
typedef struct _vfmigTable vfmigTable;
vfmigTable *vfmigTableNew(const char *first, ...) G_GNUC_NULL_TERMINATED;
void vfmigTableAddRow(vfmigTable *table, const char *first, ...) G_GNUC_NULL_TERMINATED;
void vfmigTablePrint(const vfmigTable *table, FILE *out);
void vfmigTableFree(vfmigTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigTable, vfmigTableFree);

const vfmigCmdDef *vfmigShellFindCommand(vfmigCtl *ctl, const char *name);

/*
 * `virt-vfmig complete -- WORD...`, for the bash completion: @words are
 * the command line after the program's name, the last one the word being
 * completed (maybe empty).  Prints, one per line, what may come there and
 * starts with it: a global option or a command before the command; the
 * command's options not given yet after it; nothing where a value is
 * expected (the shell then completes file names).  From the command
 * tables, so that it never lags them.
 */
void vfmigShellComplete(vfmigCtl *ctl, int nwords, char **words);

/*
 * Parses @argv (argv[0] is the command name) for @def.  On a usage error
 * prints it and returns -1; returns 1 when --help was given (and printed).
 */
int vfmigShellParseCommand(vfmigCtl *ctl,
                           const vfmigCmdDef *def,
                           int argc,
                           char **argv,
                           vfmigCmd *cmd);
void vfmigShellCmdClear(vfmigCmd *cmd);

const char *vfmigCmdGetString(const vfmigCmd *cmd, const char *name);
/* Every value of a VFMIG_OPT_STRINGS option, in the order given, or NULL
 * when it was not given. */
const char *const *vfmigCmdGetStrings(const vfmigCmd *cmd, const char *name);
bool vfmigCmdGetBool(const vfmigCmd *cmd, const char *name);

void vfmigShellPrintCommandHelp(vfmigCtl *ctl, const vfmigCmdDef *def);
void vfmigShellPrintCommandList(vfmigCtl *ctl);

/* Prints "error: <last vfmig error>" on stderr. */
void vfmigShellReportError(vfmigCtl *ctl);

/* Prints "error: <msg>" and the hint to use --help, and sets
 * ctl->usageError (exit status 2); for usage errors. */
void vfmigShellUsageError(vfmigCtl *ctl, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/*
 * For a handler whose command line turned out wrong (a bad device name or
 * option value): prints the last error as a usage error with the hint to
 * use --help and sets ctl->usageError (exit status 2).  Returns false, for
 * the handler to return.
 */
bool vfmigShellUsageErrorLast(vfmigCtl *ctl);

/*
 * Commands that read this host's devices (ctl->localOnly) take -c only
 * for this host's libvirt: a URI naming another host (a server, or a
 * transport other than the local socket) is a usage error, and a local
 * one must connect, so that -c is never silently ignored.  Returns false
 * after reporting (usage errors set ctl->usageError).
 */
bool vfmigShellCheckConnect(vfmigCtl *ctl, const vfmigCmdDef *def);

/* The libvirt connection for -c (opened on first call). */
virConnectPtr vfmigShellGetConnection(vfmigCtl *ctl);
