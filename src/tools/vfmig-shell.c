/*
 * vfmig-shell.c: command table, option parsing and help for virt-vfmig
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "vfmig-shell.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigstring.h"



const vfmigCmdDef *
vfmigShellFindCommand(vfmigCtl *ctl, const char *name)
{
    size_t g;

    for (g = 0; ctl->groups[g]; g++) {
        const vfmigCmdDef *def;

        for (def = ctl->groups[g]; def->name; def++) {
            if (g_str_equal(def->name, name))
                return def;
        }
    }
    return NULL;
}


static const vfmigCmdOptDef *
vfmigShellFindOpt(const vfmigCmdDef *def, const char *name)
{
    const vfmigCmdOptDef *opt;

    for (opt = def->opts; opt && opt->name; opt++) {
        if (g_str_equal(opt->name, name))
            return opt;
    }
    return NULL;
}


static const vfmigCmdOptDef *
vfmigShellNextPositional(const vfmigCmdDef *def, GHashTable *values)
{
    const vfmigCmdOptDef *opt;

    for (opt = def->opts; opt && opt->name; opt++) {
        if (opt->type == VFMIG_OPT_ARG &&
            !g_hash_table_contains(values, opt->name))
            return opt;
    }
    return NULL;
}


void
vfmigShellUsageError(vfmigCtl *ctl, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    fprintf(stderr, _("error: %1$s\n"), msg);
    fprintf(stderr, _("Try '%1$s --help' for more information.\n"),
            ctl->progname);
    ctl->usageError = true;
}


bool
vfmigShellUsageErrorLast(vfmigCtl *ctl)
{
    g_autofree char *msg = vfmigStringEscapeText(vfmigGetLastErrorMessage());

    vfmigShellUsageError(ctl, "%s", msg);
    ctl->usageError = true;
    return false;
}


/*
 * Whether @uri names the libvirt of this host: no server and no transport
 * but the local socket (qemu:///system, qemu+unix:///session).  Returns
 * 1 local, 0 remote, -1 not a URI (reported).
 */
static int
vfmigShellURIIsLocal(const char *uri)
{
    g_autoptr(GUri) parsed = NULL;
    g_autoptr(GError) gerr = NULL;
    const char *scheme;
    const char *host;
    const char *plus;

    if (!(parsed = g_uri_parse(uri, G_URI_FLAGS_NON_DNS, &gerr))) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("-c '%1$s' is not a libvirt URI: %2$s"),
                         uri, gerr->message);
        return -1;
    }
    scheme = g_uri_get_scheme(parsed);
    host = g_uri_get_host(parsed);
    if ((plus = strchr(scheme, '+')) && !g_str_equal(plus + 1, "unix"))
        return 0;
    return !host || !*host;
}


bool
vfmigShellCheckConnect(vfmigCtl *ctl, const vfmigCmdDef *def)
{
    int local;

    if (!ctl->uri || !ctl->localOnly ||
        !g_strv_contains((const char *const *) ctl->localOnly, def->name))
        return true;
    if ((local = vfmigShellURIIsLocal(ctl->uri)) < 0)
        return vfmigShellUsageErrorLast(ctl);
    if (!local) {
        vfmigShellUsageError(ctl,
                             _("command '%1$s' reads this host's devices, but -c '%2$s' names another host: run it there"),
                             def->name, ctl->uri);
        ctl->usageError = true;
        return false;
    }
    /* the libvirt the user named must be there, as for any command */
    return vfmigShellGetConnection(ctl) != NULL;
}


void
vfmigShellReportError(vfmigCtl *ctl G_GNUC_UNUSED)
{
    /* a message may quote a file, an XML attribute or a sysfs value */
    g_autofree char *msg = vfmigStringEscapeText(vfmigGetLastErrorMessage());

    fprintf(stderr, _("error: %1$s\n"), msg);
}


static int
vfmigShellSetValue(vfmigCtl *ctl,
                   const vfmigCmdDef *def,
                   GHashTable *values,
                   GHashTable *lists,
                   const vfmigCmdOptDef *opt,
                   const char *value)
{
    if (opt->type != VFMIG_OPT_STRINGS &&
        g_hash_table_contains(values, opt->name)) {
        vfmigShellUsageError(ctl, _("command '%1$s': option --%2$s given twice"),
                             def->name, opt->name);
        return -1;
    }
    if (opt->type != VFMIG_OPT_BOOL && !*value) {
        vfmigShellUsageError(ctl, _("command '%1$s': option --%2$s needs a non-empty value"),
                             def->name, opt->name);
        return -1;
    }
    if (opt->type == VFMIG_OPT_STRINGS) {
        GPtrArray *list = g_hash_table_lookup(lists, opt->name);

        if (!list) {
            list = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(list, NULL);
            g_hash_table_insert(lists, (char *) opt->name, list);
        }
        /* before the NULL that ends it */
        g_ptr_array_insert(list, list->len - 1, g_strdup(value));
        if (g_hash_table_contains(values, opt->name))
            return 0;
    }
    g_hash_table_insert(values, (char *) opt->name, g_strdup(value));
    return 0;
}


int
vfmigShellParseCommand(vfmigCtl *ctl,
                       const vfmigCmdDef *def,
                       int argc,
                       char **argv,
                       vfmigCmd *cmd)
{
    g_autoptr(GHashTable) values = g_hash_table_new_full(g_str_hash,
                                                          g_str_equal,
                                                          NULL, g_free);
    g_autoptr(GHashTable) lists = g_hash_table_new_full(g_str_hash,
                                                         g_str_equal, NULL,
                                                         (GDestroyNotify) g_ptr_array_unref);
    bool endOfOpts = false;
    const vfmigCmdOptDef *opt;
    int i;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (!endOfOpts && g_str_equal(arg, "--")) {
            endOfOpts = true;
            continue;
        }

        if (!endOfOpts && (g_str_equal(arg, "--help") || g_str_equal(arg, "-h"))) {
            vfmigShellPrintCommandHelp(ctl, def);
            return 1;
        }

        if (!endOfOpts && g_str_has_prefix(arg, "--")) {
            g_autofree char *name = g_strdup(arg + 2);
            char *eq = strchr(name, '=');
            const char *value = NULL;

            if (eq) {
                *eq = '\0';
                value = eq + 1;
            }
            if (!(opt = vfmigShellFindOpt(def, name))) {
                vfmigShellUsageError(ctl, _("command '%1$s' has no option --%2$s"),
                                     def->name, name);
                return -1;
            }
            if (opt->type == VFMIG_OPT_BOOL) {
                if (value) {
                    vfmigShellUsageError(ctl, _("command '%1$s': option --%2$s takes no value"),
                                         def->name, name);
                    return -1;
                }
                value = "";
            } else if (!value) {
                if (i + 1 >= argc) {
                    vfmigShellUsageError(ctl, _("command '%1$s': option --%2$s needs a value"),
                                         def->name, name);
                    return -1;
                }
                value = argv[++i];
            }
            if (vfmigShellSetValue(ctl, def, values, lists, opt, value) < 0)
                return -1;
            continue;
        }

        if (!endOfOpts && arg[0] == '-' && arg[1]) {
            vfmigShellUsageError(ctl, _("command '%1$s' has no option %2$s"),
                                 def->name, arg);
            return -1;
        }

        if (!(opt = vfmigShellNextPositional(def, values))) {
            vfmigShellUsageError(ctl, _("command '%1$s': unexpected argument '%2$s'"),
                                 def->name, arg);
            return -1;
        }
        if (vfmigShellSetValue(ctl, def, values, lists, opt, arg) < 0)
            return -1;
    }

    for (opt = def->opts; opt && opt->name; opt++) {
        if (opt->required && !g_hash_table_contains(values, opt->name)) {
            vfmigShellUsageError(ctl, opt->type == VFMIG_OPT_ARG ?
                                 _("command '%1$s' needs the argument <%2$s>") :
                                 _("command '%1$s' needs the option --%2$s"),
                                 def->name, opt->name);
            return -1;
        }
    }

    cmd->def = def;
    cmd->values = g_steal_pointer(&values);
    cmd->lists = g_steal_pointer(&lists);
    return 0;
}


void
vfmigShellCmdClear(vfmigCmd *cmd)
{
    g_clear_pointer(&cmd->values, g_hash_table_unref);
    g_clear_pointer(&cmd->lists, g_hash_table_unref);
    cmd->def = NULL;
}


const char *
vfmigCmdGetString(const vfmigCmd *cmd, const char *name)
{
    return g_hash_table_lookup(cmd->values, name);
}


const char *const *
vfmigCmdGetStrings(const vfmigCmd *cmd, const char *name)
{
    GPtrArray *list = cmd->lists ? g_hash_table_lookup(cmd->lists, name) : NULL;

    return list ? (const char *const *) list->pdata : NULL;
}


bool
vfmigCmdGetBool(const vfmigCmd *cmd, const char *name)
{
    return g_hash_table_contains(cmd->values, name);
}


struct _vfmigTable {
    GPtrArray *rows;                /* GStrv each; the header first */
};


static GStrv
vfmigTableRow(const char *first,
              va_list ap)
{
    GPtrArray *cells = g_ptr_array_new();
    const char *cell;

    for (cell = first; cell; cell = va_arg(ap, const char *))
        g_ptr_array_add(cells, g_strdup(cell));
    g_ptr_array_add(cells, NULL);
    return (GStrv) g_ptr_array_free(cells, FALSE);
}


vfmigTable *
vfmigTableNew(const char *first, ...)
{
    vfmigTable *table = g_new0(vfmigTable, 1);
    va_list ap;

    table->rows = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
    va_start(ap, first);
    g_ptr_array_add(table->rows, vfmigTableRow(first, ap));
    va_end(ap);
    return table;
}


void
vfmigTableAddRow(vfmigTable *table,
                 const char *first, ...)
{
    va_list ap;

    va_start(ap, first);
    g_ptr_array_add(table->rows, vfmigTableRow(first, ap));
    va_end(ap);
}


void
vfmigTablePrint(const vfmigTable *table,
                FILE *out)
{
    guint ncols = g_strv_length(table->rows->pdata[0]);
    g_autofree long *widths = g_new0(long, ncols);
    long total = 0;
    guint r;
    guint c;

    for (r = 0; r < table->rows->len; r++) {
        char **row = table->rows->pdata[r];

        for (c = 0; c < ncols && row[c]; c++)
            widths[c] = MAX(widths[c], g_utf8_strlen(row[c], -1));
    }
    for (c = 0; c < ncols; c++)
        total += widths[c] + (c ? 3 : 1);
    for (r = 0; r < table->rows->len; r++) {
        char **row = table->rows->pdata[r];
        g_autoptr(GString) line = g_string_new(" ");

        for (c = 0; c < ncols && row[c]; c++) {
            long pad = widths[c] - g_utf8_strlen(row[c], -1);

            if (c)
                g_string_append(line, "   ");
            g_string_append(line, row[c]);
            /* no trailing blanks after the last column */
            if (c + 1 < ncols)
                g_string_append_printf(line, "%*s", (int) pad, "");
        }
        fprintf(out, "%s\n", line->str);
        if (r == 0) {
            g_autofree char *rule = g_strnfill(total, '-');

            fprintf(out, "%s\n", rule);
        }
    }
}


void
vfmigTableFree(vfmigTable *table)
{
    if (!table)
        return;
    g_ptr_array_unref(table->rows);
    g_free(table);
}


/* Prints @text word-wrapped to 76 columns, each line indented by @indent. */
static void
vfmigShellPrintWrapped(const char *text, int indent)
{
    g_auto(GStrv) words = g_strsplit_set(text, " \n", -1);
    int col = 0;
    size_t i;

    for (i = 0; words[i]; i++) {
        int len = (int) g_utf8_strlen(words[i], -1);

        if (!*words[i])
            continue;
        if (col > 0 && col + 1 + len > 76) {
            printf("\n");
            col = 0;
        }
        if (col == 0)
            col = printf("%*s%s", indent, "", words[i]);
        else
            col += printf(" %s", words[i]);
    }
    if (col > 0)
        printf("\n");
}


void
vfmigShellPrintCommandHelp(vfmigCtl *ctl, const vfmigCmdDef *def)
{
    const vfmigCmdOptDef *opt;
    g_autoptr(GString) synopsis = g_string_new(NULL);

    g_string_append_printf(synopsis, "%s %s", ctl->progname, def->name);
    for (opt = def->opts; opt && opt->name; opt++) {
        g_autofree char *item = NULL;

        switch (opt->type) {
        case VFMIG_OPT_BOOL:
            item = g_strdup_printf("--%s", opt->name);
            break;
        case VFMIG_OPT_STRING:
            item = g_strdup_printf("--%s <string>", opt->name);
            break;
        case VFMIG_OPT_STRINGS:
            item = g_strdup_printf("--%s <string>...", opt->name);
            break;
        case VFMIG_OPT_ARG:
        default:
            item = g_strdup_printf("<%s>", opt->name);
            break;
        }
        if (opt->required)
            g_string_append_printf(synopsis, " %s", item);
        else
            g_string_append_printf(synopsis, " [%s]", item);
    }

    printf(_("  NAME\n    %1$s - %2$s\n\n"), def->name, _(def->summary));
    printf(_("  SYNOPSIS\n    %1$s\n\n"), synopsis->str);
    printf(_("  DESCRIPTION\n"));
    vfmigShellPrintWrapped(_(def->description), 4);

    if (def->opts && def->opts->name) {
        printf(_("\n  OPTIONS\n"));
        for (opt = def->opts; opt->name; opt++) {
            g_autofree char *label = NULL;

            if (opt->type == VFMIG_OPT_ARG)
                label = g_strdup_printf("[--%s] <%s>", opt->name, opt->name);
            else if (opt->type == VFMIG_OPT_STRING)
                label = g_strdup_printf("--%s <string>", opt->name);
            else if (opt->type == VFMIG_OPT_STRINGS)
                label = g_strdup_printf("--%s <string>...", opt->name);
            else
                label = g_strdup_printf("--%s", opt->name);
            printf("    %-28s %s\n", label, _(opt->help));
        }
    }
    printf("\n");
}


void
vfmigShellPrintCommandList(vfmigCtl *ctl)
{
    size_t g;

    for (g = 0; ctl->groups[g]; g++) {
        const vfmigCmdDef *def;

        printf(" %s\n", _(ctl->groupNames[g]));
        for (def = ctl->groups[g]; def->name; def++)
            printf("    %-20s %s\n", def->name, _(def->summary));
        printf("\n");
    }
}


static void
vfmigShellLibvirtErrorSink(void *opaque G_GNUC_UNUSED,
                           virErrorPtr err G_GNUC_UNUSED)
{
    /* libvirt would print every error on stderr; we report our own. */
}


virConnectPtr
vfmigShellGetConnection(vfmigCtl *ctl)
{
    const char *uri;

    if (ctl->conn)
        return ctl->conn;

    /* no -c: libvirt's own default, as virsh has it ($LIBVIRT_DEFAULT_URI,
     * then uri_default in libvirt.conf, then its probe) */
    uri = ctl->uri;
    virSetErrorFunc(NULL, vfmigShellLibvirtErrorSink);
    if (!(ctl->conn = virConnectOpen(uri))) {
        if (uri)
            vfmigReportError(VFMIG_ERR_LIBVIRT,
                             _("failed to connect to libvirt at '%1$s': %2$s"),
                             uri, virGetLastErrorMessage());
        else
            vfmigReportError(VFMIG_ERR_LIBVIRT,
                             _("failed to connect to libvirt at its default URI (LIBVIRT_DEFAULT_URI, else uri_default in libvirt.conf): %1$s"),
                             virGetLastErrorMessage());
        return NULL;
    }
    return ctl->conn;
}


/* The global options, as virt-vfmig.c parses them: those that take a
 * value end in '=' here. */
static const char *const vfmigShellGlobalOpts[] = {
    "-c", "--connect=", "--debug", "--help", "--version", NULL,
};


static void
vfmigShellCompleteOne(const char *cand,
                      const char *cur)
{
    if (g_str_has_prefix(cand, cur))
        printf("%s\n", cand);
}


void
vfmigShellComplete(vfmigCtl *ctl,
                   int nwords,
                   char **words)
{
    const char *cur = nwords > 0 ? words[nwords - 1] : "";
    const vfmigCmdDef *def = NULL;
    g_autoptr(GHashTable) given = g_hash_table_new(g_str_hash, g_str_equal);
    const vfmigCmdOptDef *opt;
    int positional = 0;
    int args = 0;
    int first;
    int i;
    size_t g;

    /* the global options, and the command after them */
    for (first = 0; first < nwords - 1; first++) {
        const char *w = words[first];

        if (g_str_equal(w, "-c") || g_str_equal(w, "--connect")) {
            if (++first == nwords - 1)
                return;     /* the URI: nothing of ours */
            continue;
        }
        if (w[0] != '-')
            break;
    }
    if (first >= nwords - 1) {
        for (i = 0; vfmigShellGlobalOpts[i]; i++) {
            g_autofree char *name = g_strdup(vfmigShellGlobalOpts[i]);

            if (cur[0] != '-')
                break;
            /* "--connect=" completes as "--connect" */
            if (g_str_has_suffix(name, "="))
                name[strlen(name) - 1] = '\0';
            vfmigShellCompleteOne(name, cur);
        }
        if (cur[0] == '-')
            return;
        for (g = 0; ctl->groups[g]; g++) {
            const vfmigCmdDef *d;

            for (d = ctl->groups[g]; d->name; d++)
                vfmigShellCompleteOne(d->name, cur);
        }
        return;
    }
    if (!(def = vfmigShellFindCommand(ctl, words[first])))
        return;

    /* the command's words so far: options given, and whether the word
     * being completed is an option's value */
    for (i = first + 1; i < nwords - 1; i++) {
        const char *w = words[i];
        g_autofree char *name = NULL;

        if (g_str_equal(w, "--"))
            return;         /* arguments only from there */
        if (!g_str_has_prefix(w, "--")) {
            args++;
            continue;
        }
        name = g_strndup(w + 2, strcspn(w + 2, "="));
        if (!(opt = vfmigShellFindOpt(def, name)))
            continue;
        g_hash_table_add(given, (gpointer) opt->name);
        if (opt->type != VFMIG_OPT_BOOL && !strchr(w, '=') && i + 1 == nwords - 1)
            return;         /* its value */
        if (opt->type != VFMIG_OPT_BOOL && !strchr(w, '='))
            i++;
    }
    for (opt = def->opts; opt && opt->name; opt++)
        if (opt->type == VFMIG_OPT_ARG)
            positional++;
    /* an argument (one is still due, or the word is no option): the
     * shell's file names */
    if (cur[0] != '-' && (cur[0] != '\0' || args < positional))
        return;
    for (opt = def->opts; opt && opt->name; opt++) {
        g_autofree char *cand = NULL;

        if (opt->type == VFMIG_OPT_ARG)
            continue;       /* positional */
        if (opt->type != VFMIG_OPT_STRINGS &&
            g_hash_table_contains(given, opt->name))
            continue;
        cand = g_strdup_printf("--%s", opt->name);
        vfmigShellCompleteOne(cand, cur);
    }
    vfmigShellCompleteOne("--help", cur);
}
