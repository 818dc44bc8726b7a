/*
 * sim_mech.c - the mechanism registry and the metric tables every
 * mechanism's records are built from (see sim_mech.h).
 *
 * The registry is a small fixed array filled once at start-up (the
 * program registers its mechanisms before parsing any command); forked
 * run points inherit it.  The core adds its own metric after each
 * mechanism's: sim_activities, the SimGrid activities a run issued (a
 * measure of simulator work, not of the mechanism).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim_cfg_int.h"
#include "sim_mech.h"

#define MAX_MECHS 16

static const struct sim_mech *mechs[MAX_MECHS];
static int nr_mechs;

static const struct sim_metric_def core_metrics[] = {
    { "sim_activities", "count", false, "SimGrid activities the run issued (sleeps, disk I/Os)" },
};
#define NR_CORE_METRICS ((int)(sizeof core_metrics / sizeof core_metrics[0]))

static bool unique_names(const char *const *names, int n, const char **dup)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0) {
                *dup = names[i];
                return false;
            }
    return true;
}

/* A row the walk would fill with a pointer into a JSON tree that is
 * freed after the walk (VM_PARAM_STRING through sim_cfg_set_param). */
static const char *dangling_row(const struct sim_key *tab)
{
    for (const struct sim_key *k = tab; k && k->name; k++) {
        if (k->set == sim_cfg_set_param && k->p.type == VM_PARAM_STRING)
            return k->name;
        const char *in = dangling_row(k->sub);
        for (int i = 0; !in && k->kinds && k->kinds[i]; i++)
            in = dangling_row(k->kinds[i]);
        if (in)
            return in;
    }
    return NULL;
}

/* The policy sets' tables: unique names, structs that fit a run point,
 * no string parameters (a run point keeps no JSON to point into). */
static int check_sets(const struct sim_mech *m, struct vm_diag *d)
{
    for (int i = 0; m->policy_sets && m->policy_sets[i]; i++) {
        const struct sim_policy_set *set = m->policy_sets[i];
        struct sim_policy_info pi, pj;
        if (set->cfg_size > SIM_POLICY_CFG_MAX)
            return vm_diag_set(d, VM_EINVAL, "mechanism '%s': policy set '%s' has a parameter "
                               "struct of %zu bytes (at most %d)", m->name, set->name,
                               set->cfg_size, SIM_POLICY_CFG_MAX);
        for (int j = 0; set->get(j, &pi); j++) {
            for (int k = 0; k < j && set->get(k, &pj); k++)
                if (strcmp(pi.name, pj.name) == 0)
                    return vm_diag_set(d, VM_EINVAL, "mechanism '%s': policy '%s' twice in set "
                                       "'%s'", m->name, pi.name, set->name);
            for (const struct vm_param *p = pi.params; p && p->name; p++)
                if (p->type == VM_PARAM_STRING)
                    return vm_diag_set(d, VM_EINVAL, "mechanism '%s': policy '%s': string "
                                       "parameter '%s' is not supported", m->name, pi.name,
                                       p->name);
        }
    }
    return 0;
}

int sim_mech_register(const struct sim_mech *m, struct vm_diag *d)
{
    const char *names[SIM_MAX_METRICS + SIM_MAX_INVARIANTS], *dup = NULL;
    if (!m || !m->name || !m->run || !m->variant_set)
        return vm_diag_set(d, VM_EINVAL, "a mechanism needs a name, a run and a variant set");
    if (sim_mech_find(m->name))
        return vm_diag_set(d, VM_EBUSY, "mechanism '%s' is already registered", m->name);
    if (nr_mechs == MAX_MECHS)
        return vm_diag_set(d, VM_ENOSPC, "at most %d mechanisms", MAX_MECHS);
    if (m->fault_kinds & ~(SIM_FAULT_BIT(SIM_FAULT_NR) - 1))
        return vm_diag_set(d, VM_EINVAL, "mechanism '%s': fault_kinds 0x%x names no fault kind",
                           m->name, m->fault_kinds);
    if (m->nr_metrics < 0 || m->nr_metrics + NR_CORE_METRICS > SIM_MAX_METRICS)
        return vm_diag_set(d, VM_EINVAL, "mechanism '%s': at most %d metrics", m->name,
                           SIM_MAX_METRICS - NR_CORE_METRICS);
    if (m->nr_invariants < 0 || m->nr_invariants > SIM_MAX_INVARIANTS)
        return vm_diag_set(d, VM_EINVAL, "mechanism '%s': at most %d invariants", m->name,
                           SIM_MAX_INVARIANTS);
    int n = 0;
    for (int i = 0; i < m->nr_metrics; i++)
        names[n++] = m->metrics[i].name;
    for (int i = 0; i < NR_CORE_METRICS; i++)
        names[n++] = core_metrics[i].name;
    if (!unique_names(names, n, &dup))
        return vm_diag_set(d, VM_EINVAL, "mechanism '%s': metric '%s' declared twice", m->name,
                           dup);
    n = 0;
    for (int i = 0; i < m->nr_invariants; i++)
        names[n++] = m->invariants[i].name;
    if (!unique_names(names, n, &dup))
        return vm_diag_set(d, VM_EINVAL, "mechanism '%s': invariant '%s' declared twice",
                           m->name, dup);
    for (int i = 0; i < m->nr_metrics; i++)
        if (!m->metrics[i].unit || !m->metrics[i].desc)
            return vm_diag_set(d, VM_EINVAL, "mechanism '%s': metric '%s' needs a unit and a "
                               "description", m->name, m->metrics[i].name);
    for (const struct sim_key *k = m->sections; k && k->name; k++)
        if (sim_cfg_find_key(sim_config_top_keys, k->name))
            return vm_diag_set(d, VM_EINVAL, "mechanism '%s': section '%s' is a key of the "
                               "core", m->name, k->name);
    const char *row = dangling_row(m->sections);
    if (row)
        return vm_diag_set(d, VM_EINVAL, "mechanism '%s': key '%s' is a string set by "
                           "sim_cfg_set_param (use SIM_KEY_STR_ROW)", m->name, row);
    int rc = check_sets(m, d);
    if (rc)
        return rc;
    mechs[nr_mechs++] = m;
    return 0;
}

const struct sim_mech *sim_mech_find(const char *name)
{
    for (int i = 0; i < nr_mechs; i++)
        if (strcmp(mechs[i]->name, name) == 0)
            return mechs[i];
    return NULL;
}

const struct sim_mech *sim_mech_at(int i)
{
    return i >= 0 && i < nr_mechs ? mechs[i] : NULL;
}

const char *sim_mech_hint(const char *name, char *buf, size_t len)
{
    const char *names[MAX_MECHS];
    size_t o = (size_t)snprintf(buf, len, "(known: ");
    for (int i = 0; i < nr_mechs; i++) {
        names[i] = mechs[i]->name;
        if (o < len)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", names[i]);
    }
    if (o < len)
        snprintf(buf + o, len - o, "%s)", nr_mechs ? "" : "none");
    const char *s = name ? sim_cfg_suggest(names, nr_mechs, name) : NULL;
    if (s)
        snprintf(buf, len, "(did you mean '%s'?)", s);
    return buf;
}

int sim_mech_nr_metrics(const struct sim_mech *m)
{
    return m->nr_metrics + NR_CORE_METRICS;
}

const struct sim_metric_def *sim_mech_metric(const struct sim_mech *m, int i)
{
    if (i < m->nr_metrics)
        return &m->metrics[i];
    return &core_metrics[i - m->nr_metrics];
}

int sim_mech_metric_find(const struct sim_mech *m, const char *name)
{
    for (int i = 0; i < sim_mech_nr_metrics(m); i++)
        if (strcmp(sim_mech_metric(m, i)->name, name) == 0)
            return i;
    return -1;
}

int sim_mech_activities_metric(const struct sim_mech *m)
{
    return m->nr_metrics;       /* core_metrics[0] */
}

bool sim_policy_find(const struct sim_policy_set *set, const char *name,
                     struct sim_policy_info *out)
{
    struct sim_policy_info pi;
    for (int i = 0; set->get(i, &pi); i++)
        if (strcmp(pi.name, name) == 0) {
            if (out)
                *out = pi;
            return true;
        }
    return false;
}

void sim_outcome_set(struct sim_outcome *o, int metric, double value)
{
    if (metric < 0 || metric >= SIM_MAX_METRICS)
        return;
    o->have[metric] = true;
    o->metric[metric] = value;
}

void sim_outcome_fail(struct sim_outcome *o, int rc, const char *fmt, ...)
{
    if (o->rc)
        return;
    o->rc = rc ? rc : VM_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->error, sizeof o->error, fmt, ap);
    va_end(ap);
}
