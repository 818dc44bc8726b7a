/*
 * sim_list.c - `vmsim list` from the mechanisms' declarations (see
 * sim_list.h).  Nothing here knows a mechanism: policies, sections,
 * metrics and invariants come from each struct sim_mech's tables, key
 * rows print their own type, range, default and help.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim_cfg_int.h"
#include "sim_list.h"

static void list_params(FILE *f, const struct vm_param *tab)
{
    if (!tab || !tab->name) {
        fprintf(f, "        (no parameters)\n");
        return;
    }
    for (const struct vm_param *p = tab; p->name; p++) {
        char exp[128];
        fprintf(f, "        %-16s %-28s default %-8s %s\n", p->name,
                vm_param_expects(p, exp, sizeof exp), p->def ? p->def : "-",
                p->help ? p->help : "");
    }
}

static void list_rows(FILE *f, const struct sim_key *tab, int indent);

/* One row: name, what it takes, required or default, help. */
static void list_row(FILE *f, const struct sim_key *k, int indent)
{
    char what[160];
    const char *help = k->p.help ? k->p.help : "";
    switch (k->shape) {
    case SIM_KEY_SCALAR:
        vm_param_expects(&k->p, what, sizeof what);
        break;
    case SIM_KEY_OBJECT:
        snprintf(what, sizeof what, "object");
        break;
    case SIM_KEY_ARRAY:
        snprintf(what, sizeof what, "array of objects");
        break;
    case SIM_KEY_PARAMS:
        snprintf(what, sizeof what, "object: the policy's parameters");
        break;
    case SIM_KEY_FREE:
        snprintf(what, sizeof what, "see README");
        break;
    }
    char req[48];
    if (k->flags & SIM_KEY_REQ)
        snprintf(req, sizeof req, "required");
    else if (k->shape == SIM_KEY_SCALAR && k->p.def)
        snprintf(req, sizeof req, "default %s", k->p.def);
    else
        req[0] = '\0';
    int w = 22 - indent > 4 ? 22 - indent : 4;
    fprintf(f, "%*s%-*s %-28s %-16s %s\n", indent, "", w, k->name, what, req, help);
    if (k->shape != SIM_KEY_OBJECT && k->shape != SIM_KEY_ARRAY)
        return;
    if (!k->kinds) {
        list_rows(f, k->sub, indent + 2);
        return;
    }
    /* kinded: each kind's rows under its name */
    for (int i = 0; k->kinds[i]; i++) {
        char name[SIM_NAME_MAX];
        fprintf(f, "%*s(kind %s)\n", indent + 2, "",
                sim_cfg_kind_name(k->kinds, i, name, sizeof name));
        list_rows(f, k->kinds[i], indent + 4);
    }
}

static void list_rows(FILE *f, const struct sim_key *tab, int indent)
{
    for (const struct sim_key *k = tab; k && k->name; k++)
        list_row(f, k, indent);
}

void sim_list_mech(FILE *f, const struct sim_mech *m)
{
    fprintf(f, "%s: %s\n", m->name, m->summary ? m->summary : "");
    if (m->notes)
        fprintf(f, "%s", m->notes);
    for (int i = 0; m->policy_sets && m->policy_sets[i]; i++) {
        const struct sim_policy_set *set = m->policy_sets[i];
        struct sim_policy_info pi;
        fprintf(f, "\n  %s policies (%s):\n", set->name, set->used_by ? set->used_by : "");
        for (int j = 0; set->get(j, &pi); j++) {
            if (pi.hidden)
                continue;
            fprintf(f, "    %-12s %s\n", pi.name, pi.desc ? pi.desc : "");
            list_params(f, pi.params);
        }
    }
    fprintf(f, "\n  config sections (besides the core's keys):\n");
    if (!m->sections || !m->sections->name)
        fprintf(f, "    (none)\n");
    list_rows(f, m->sections, 4);
    char kinds[128];
    fprintf(f, "\n  faults it takes (\"faults\": [{\"kind\": ...}]): %s\n",
            sim_fault_kinds_text(m->fault_kinds, kinds, sizeof kinds));
    fprintf(f, "\n  metrics (\"metrics\": [{\"name\": ...}]; direction: which way is better):\n");
    for (int i = 0; i < sim_mech_nr_metrics(m); i++) {
        const struct sim_metric_def *d = sim_mech_metric(m, i);
        fprintf(f, "    %-24s %-6s %-6s %s\n", d->name, d->unit,
                d->higher_is_better ? "higher" : "lower", d->desc);
    }
    fprintf(f, "\n  invariants (checked in every run; a violation fails it):\n");
    for (int i = 0; i < m->nr_invariants; i++)
        fprintf(f, "    %-24s %-9s %s\n", m->invariants[i].name,
                m->invariants[i].is_violation ? "violation" : "count", m->invariants[i].desc);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static bool is_trace_file(const char *dir, const char *name)
{
    static const char *const skip[] = { ".md", ".sh", ".vmtrace", ".txt", ".c", ".py" };
    if (name[0] == '.')
        return false;
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++) {
        size_t k = strlen(skip[i]);
        if (n > k && strcmp(name + n - k, skip[i]) == 0)
            return false;
    }
    char path[PATH_MAX + 256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void list_traces(FILE *f, const char *dir)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, by_name);
    int shown = 0;
    fprintf(f, "\ntraces in %s:\n", dir);
    for (int i = 0; i < n; i++) {
        if (is_trace_file(dir, ents[i]->d_name)) {
            fprintf(f, "  %s\n", ents[i]->d_name);
            shown++;
        }
        free(ents[i]);
    }
    free(ents);
    if (shown == 0)
        fprintf(f, "  (none)\n");
}

int sim_list_print(FILE *f, const char *name, const char *traces_dir, struct vm_diag *d)
{
    if (name) {
        const struct sim_mech *m = sim_mech_find(name);
        if (!m) {
            char hint[512];
            return vm_diag_set(d, VM_ENOENT, "list: unknown mechanism '%s' %s", name,
                               sim_mech_hint(name, hint, sizeof hint));
        }
        sim_list_mech(f, m);
        return 0;
    }
    fprintf(f, "mechanisms (\"mechanism\"; vmsim list NAME for one):\n");
    for (int i = 0; sim_mech_at(i); i++)
        fprintf(f, "  %-12s %s\n", sim_mech_at(i)->name, sim_mech_at(i)->summary);
    for (int i = 0; sim_mech_at(i); i++) {
        fprintf(f, "\n");
        sim_list_mech(f, sim_mech_at(i));
    }
    fprintf(f, "\nthe core's keys (every experiment):\n");
    list_rows(f, sim_config_top_keys, 2);
    if (traces_dir)
        list_traces(f, traces_dir);
    return 0;
}
