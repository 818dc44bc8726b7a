/*
 * sim_cfg_path.c - paths into a config: checking an override or sweep
 * path against the key tables, applying a value at a path, and parsing
 * the sweep (see sim_cfg_int.h).
 *
 * A path is first checked against the schema (the core's keys, the
 * mechanism's sections, the parameter table of the policy the document
 * names), so a typo in a sweep or --set path is an unknown key with a
 * suggestion, not a new key.  Applied values are then validated by the
 * walk like anything the user wrote, their errors remapped to where the
 * value came from.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_cfg_int.h"
#include "sim_mech.h"

/* The parameter table that `seg` would index into: the policy named by
 * the parent object (or the row's default), in the row's policy set. */
static int params_check(const cJSON *doc, const struct sim_key *row, const cJSON *parent,
                        const char *key, const char *text, struct vm_diag *d)
{
    const struct sim_mech *mech = sim_config_doc_mech(doc);
    const struct sim_policy_set *set = row->policies ? row->policies(doc)
                                     : mech && mech->variant_set ? mech->variant_set(doc)
                                     : NULL;
    const cJSON *pol = cJSON_IsObject(parent)
        ? cJSON_GetObjectItemCaseSensitive(parent, "policy") : NULL;
    const char *name = cJSON_IsString(pol) ? pol->valuestring : row->def_policy;
    struct sim_policy_info pi;
    /* an unknown policy or mechanism is reported by the walk, at its own path */
    if (!set || !name || !sim_policy_find(set, name, &pi))
        return 0;
    if (pi.params && vm_param_find(pi.params, key))
        return 0;
    char msg[512];
    sim_cfg_param_unknown_msg(pi.params, name, key, text, msg, sizeof msg);
    return vm_diag_set(d, VM_EINVAL, "%s", msg);
}

int sim_cfg_schema_check(const cJSON *doc, const struct sim_json_path *p, const char *text,
                         bool sweep, struct vm_diag *d)
{
    const struct sim_mech *mech = sim_config_doc_mech(doc);
    const struct sim_key *tab = sim_config_top_keys, *alt = mech ? mech->sections : NULL;
    const struct sim_key *const *kinds = NULL;  /* a kinded object's tables: any kind's key */
    const struct sim_key *row = NULL;
    enum sim_key_shape shape = SIM_KEY_OBJECT;
    const cJSON *cur = doc, *parent = NULL;
    char sofar[256];
    for (int i = 0; i < p->n; i++) {
        const struct sim_json_seg *g = &p->seg[i];
        sim_json_path_text(p, i, sofar, sizeof sofar);
        const char *where = i ? sofar : "$";
        switch (shape) {
        case SIM_KEY_OBJECT: {
            if (g->is_index)
                return vm_diag_set(d, VM_EINVAL, "'%s' is an object, not an array (in '%s')",
                                   where, text);
            const struct sim_key *k = sim_cfg_find_key(tab, g->key);
            if (!k)
                k = sim_cfg_find_key(alt, g->key);
            for (int j = 0; !k && kinds && kinds[j]; j++)
                k = sim_cfg_find_key(kinds[j], g->key);
            if (!k && i == 0 && !mech)
                return 0;       /* a section of a mechanism the walk says is unknown */
            if (!k) {
                char msg[256];
                sim_cfg_unknown_key_msg(tab, alt, g->key, text, msg, sizeof msg);
                return vm_diag_set(d, VM_EINVAL, "%s", msg);
            }
            if (sweep && (k->flags & SIM_KEY_NOSWEEP))
                return vm_diag_set(d, VM_EINVAL, "'%s' cannot be swept", k->name);
            if (!sweep && (k->flags & SIM_KEY_NOSET))
                return vm_diag_set(d, VM_EINVAL, "'%s' cannot be overridden", k->name);
            parent = cur;
            cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, g->key) : NULL;
            row = k;
            shape = k->shape;
            tab = k->sub;
            kinds = k->kinds;
            alt = kinds ? kinds[1] : NULL;      /* suggestions from two kinds' rows */
            break;
        }
        case SIM_KEY_ARRAY: {
            if (!g->is_index)
                return vm_diag_set(d, VM_EINVAL, "'%s' is an array: expected '%s[N]', got '%s'",
                                   where, where, text);
            if (g->index == SIM_JSON_ANY_INDEX)
                return vm_diag_set(d, VM_EINVAL, "expected '%s[N]': '[*]' (every element) is "
                                   "for a sweep's path only, got '%s'", where, text);
            int n = cJSON_IsArray(cur) ? cJSON_GetArraySize(cur) : 0;
            if (g->index >= n)
                return vm_diag_set(d, VM_EINVAL, "index %d out of range in '%s' ('%s' has %d)",
                                   g->index, text, where, n);
            parent = cur;
            cur = cJSON_GetArrayItem(cur, g->index);
            shape = SIM_KEY_OBJECT;
            break;
        }
        case SIM_KEY_PARAMS: {
            if (g->is_index)
                return vm_diag_set(d, VM_EINVAL, "'%s' is an object, not an array (in '%s')",
                                   where, text);
            int rc = params_check(doc, row, parent, g->key, text, d);
            if (rc)
                return rc;
            parent = cur;
            cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, g->key) : NULL;
            shape = SIM_KEY_SCALAR;
            break;
        }
        case SIM_KEY_SCALAR:
            return vm_diag_set(d, VM_EINVAL, "'%s' is a single value, it has no '%s' (in '%s')",
                               where, g->is_index ? "[N]" : g->key, text);
        case SIM_KEY_FREE:
            return 0;
        }
    }
    return 0;
}

int sim_cfg_json_apply(cJSON *doc, const struct sim_json_path *p, cJSON *value,
                       struct vm_diag *d)
{
    cJSON *cur = doc;
    char sofar[256];
    for (int i = 0; i < p->n; i++) {
        const struct sim_json_seg *g = &p->seg[i];
        bool last = i == p->n - 1;
        sim_json_path_text(p, i, sofar, sizeof sofar);
        const char *where = i ? sofar : "$";
        char got[64];
        if (g->is_index) {
            if (!cJSON_IsArray(cur) || g->index >= cJSON_GetArraySize(cur)) {
                cJSON_Delete(value);
                return vm_diag_set(d, VM_EINVAL, "expected '%s' to be an array with element %d, "
                                   "got %s", where, g->index, sim_json_got(cur, got, sizeof got));
            }
            if (last)
                return cJSON_ReplaceItemInArray(cur, g->index, value) ? 0 : VM_ENOMEM;
            cur = cJSON_GetArrayItem(cur, g->index);
        } else {
            if (!cJSON_IsObject(cur)) {
                cJSON_Delete(value);
                return vm_diag_set(d, VM_EINVAL, "expected '%s' to be an object, got %s", where,
                                   sim_json_got(cur, got, sizeof got));
            }
            cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, g->key);
            if (last) {
                if (next)
                    return cJSON_ReplaceItemInObjectCaseSensitive(cur, g->key, value)
                        ? 0 : VM_ENOMEM;
                return cJSON_AddItemToObject(cur, g->key, value) ? 0 : VM_ENOMEM;
            }
            if (!next)
                next = cJSON_AddObjectToObject(cur, g->key);
            cur = next;
        }
    }
    cJSON_Delete(value);
    return VM_EINVAL;
}

/* "$.vm.memory" for a parsed path: where an applied value lands. */
static void applied_path(const struct sim_json_path *p, char *buf, size_t len)
{
    struct sim_json_pathbuf b;
    sim_json_pathbuf_init(&b);
    for (int i = 0; i < p->n; i++) {
        if (p->seg[i].is_index)
            sim_json_pathbuf_index(&b, p->seg[i].index);
        else
            sim_json_pathbuf_key(&b, p->seg[i].key);
    }
    sim_cfg_copy_str(buf, len, b.text);
}

int sim_cfg_override(struct sim_cfg_walk *w, cJSON *doc, const char *path, cJSON *value,
                     const char *loc)
{
    struct sim_json_path p;
    struct vm_diag d = { 0 };
    char at[256];
    if (sim_json_path_parse(path, &p, &d) || sim_cfg_schema_check(doc, &p, path, false, &d)) {
        cJSON_Delete(value);
        return sim_cfg_err_at(w, VM_EINVAL, loc, "%s", d.msg);
    }
    if (sim_cfg_json_apply(doc, &p, value, &d))     /* consumes value, also on error */
        return sim_cfg_err_at(w, VM_EINVAL, loc, "%s", d.msg);
    applied_path(&p, at, sizeof at);
    sim_cfg_remap_add(w, at, loc);
    return 0;
}

/* ------------------------------------------------------------ the sweep */

/* A sweep entry, or a "with" companion of one (path and values only). */
struct sweepx {
    char path[256];
    const cJSON *values;
    char label[SIM_NAME_MAX];
    const cJSON *with;
};

static int set_values(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct sweepx *sx = obj;
    char got[64];
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return sim_cfg_err(w, "expected non-empty array of values, got %s",
                           cJSON_IsArray(v) ? "[]" : sim_json_got(v, got, sizeof got));
    sx->values = v;
    return 0;
}

static int set_with(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct sweepx *sx = obj;
    char got[64];
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    if (n == 0 || n > SIM_CFG_SWEEP_MAX_WITH)
        return sim_cfg_err(w, "expected array of 1 to %d {path, values}, got %s",
                           SIM_CFG_SWEEP_MAX_WITH,
                           cJSON_IsArray(v) ? (n ? "more" : "[]")
                                            : sim_json_got(v, got, sizeof got));
    sx->with = v;
    return 0;
}

#define S(field) offsetof(struct sweepx, field)
static const struct sim_key sweep_keys[] = {
    SIM_KEY_STR_ROW("path", SIM_KEY_REQ, sim_cfg_set_str, S(path), 256, NULL),
    { .name = "values", .flags = SIM_KEY_REQ, .shape = SIM_KEY_SCALAR, .set = set_values },
    SIM_KEY_STR_ROW("label", 0, sim_cfg_set_label, S(label), SIM_NAME_MAX, NULL),
    { .name = "with", .shape = SIM_KEY_SCALAR, .set = set_with },
    SIM_KEY_END,
};

static const struct sim_key with_keys[] = {
    SIM_KEY_STR_ROW("path", SIM_KEY_REQ, sim_cfg_set_str, S(path), 256, NULL),
    { .name = "values", .flags = SIM_KEY_REQ, .shape = SIM_KEY_SCALAR, .set = set_values },
    SIM_KEY_END,
};

void sim_cfg_sweep_free(struct sim_cfg_sweep *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->e[i].labels);
        free(s->e[i].targets);
        free(s->e[i].with);
        s->e[i].with = NULL;
        s->e[i].nr_with = 0;
    }
    s->n = 0;
}

/*
 * The places path p sets in doc: p itself, or with one "[*]" one path per
 * element of that array ("variants[*].params.channels" sets the key in
 * every variant, as a fio option set in [global] applies to every job).
 * Each is checked against the schema, so every element must take the key.
 */
static int sweep_targets(const cJSON *doc, const struct sim_json_path *p, const char *text,
                         struct sim_cfg_target **out, int *nr, struct vm_diag *d)
{
    int any = -1, n = 1;
    for (int i = 0; i < p->n; i++) {
        if (!(p->seg[i].is_index && p->seg[i].index == SIM_JSON_ANY_INDEX))
            continue;
        if (any >= 0)
            return vm_diag_set(d, VM_EINVAL, "expected at most one '[*]' in a path, got '%s'",
                               text);
        any = i;
    }
    if (any >= 0) {
        const cJSON *cur = doc;
        for (int i = 0; i < any && cur; i++)
            cur = p->seg[i].is_index ? cJSON_GetArrayItem(cur, p->seg[i].index)
                                     : cJSON_IsObject(cur)
                                       ? cJSON_GetObjectItemCaseSensitive(cur, p->seg[i].key)
                                       : NULL;
        char where[256];
        sim_json_path_text(p, any, where, sizeof where);
        if (!cJSON_IsArray(cur) || cJSON_GetArraySize(cur) == 0)
            return vm_diag_set(d, VM_EINVAL, "expected '%s' to be a non-empty array for "
                               "'[*]' in '%s'", where, text);
        n = cJSON_GetArraySize(cur);
    }
    struct sim_cfg_target *t = calloc((size_t)n, sizeof *t);
    if (!t)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        t[i].path = *p;
        if (any >= 0)
            t[i].path.seg[any].index = i;
        char one[256];
        sim_json_path_text(&t[i].path, t[i].path.n, one, sizeof one);
        int rc = sim_cfg_schema_check(doc, &t[i].path, any >= 0 ? one : text, true, d);
        if (rc) {
            free(t);
            return rc;
        }
        applied_path(&t[i].path, t[i].at, sizeof t[i].at);
    }
    *out = t;
    *nr = n;
    return 0;
}

/* Is path a (a "$.x.y" text) b itself or inside it? */
static bool path_under(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '.' || a[n] == '[');
}

/* Names a record already has as CSV columns: a sweep label must not be one. */
static bool reserved_label(const struct sim_cfg_walk *w, const char *label)
{
    static const char *const cols[] = { "id", "variant", "policy", "violations", "ok" };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        if (strcmp(label, cols[i]) == 0)
            return true;
    return w->mech && sim_mech_metric_find(w->mech, label) >= 0;
}

/* Is target `at` (the text `text` in the config) clear of what is swept
 * already - every target of the entries before k, and of entry k its own
 * targets and its first nw companions (nw < 0: `at` is one of entry k's
 * own targets) - and of every override (the sweep would drop it)?
 * Reports the first clash. */
static void check_target(struct sim_cfg_walk *w, const struct sim_cfg_sweep *s, int k, int nw,
                         const char *at, const char *text)
{
    for (int j = 0; j <= k; j++) {
        int last = j < k ? s->e[j].nr_with : nw;
        /* x < 0: the entry's targets (several for a "[*]" path), else with[x] */
        for (int x = -1; x < last; x++) {
            int nt = x < 0 ? s->e[j].nr_targets : 1;
            if (j == k && x < 0 && nw < 0)
                nt = 0;                         /* an entry's own targets never clash */
            for (int t = 0; t < nt; t++) {
                const char *other = x < 0 ? s->e[j].targets[t].at : s->e[j].with[x].at;
                char where[64];
                if (x < 0)
                    snprintf(where, sizeof where, "$.sweep[%d]", j);
                else
                    snprintf(where, sizeof where, "$.sweep[%d].with[%d]", j, x);
                if (strcmp(other, at) == 0) {
                    sim_cfg_err(w, "'%s' is swept twice (also %s)", text, where);
                    goto overrides;
                }
                if (path_under(other, at) || path_under(at, other)) {
                    sim_cfg_err(w, "'%s' overlaps %s ('%s'): one would overwrite the other at "
                                "every point", text, where, other + 2);
                    goto overrides;
                }
            }
        }
    }
overrides:
    for (int i = 0; i < w->nr_remaps; i++) {
        const struct sim_cfg_remap *r = &w->remaps[i];
        if (strncmp(r->to, "$.sweep", 7) != 0 && path_under(r->from, at))
            sim_cfg_err_at(w, VM_EINVAL, r->to, "'%s' is swept ($.sweep[%d]), so the sweep "
                           "would replace this value at every point; change the sweep's values "
                           "instead", at + 2, k);
    }
}

/* The key (label or path) of entry k; no two entries share one, no entry
 * sweeps inside another's target (one would overwrite the other at every
 * point), and no override is inside a target (the sweep would drop it). */
static void sweep_key(struct sim_cfg_walk *w, struct sim_cfg_sweep *s, int k,
                      const struct sweepx *sx)
{
    char text[256];
    sim_json_path_text(&s->e[k].path, s->e[k].path.n, text, sizeof text);
    if (!sx->label[0] && strlen(text) >= sizeof s->e[k].key)
        sim_cfg_err(w, "expected a 'label' for a path of %zu characters (at most %zu)",
                    strlen(text), sizeof s->e[k].key - 1);
    sim_cfg_copy_str(s->e[k].key, sizeof s->e[k].key, sx->label[0] ? sx->label : text);
    snprintf(s->e[k].at, sizeof s->e[k].at, "$.%s", text);
    if (reserved_label(w, s->e[k].key))
        sim_cfg_err(w, "expected a sweep key that is not a column of the results, got '%s' "
                    "(give another 'label')", s->e[k].key);
    for (int j = 0; j < k; j++)
        if (strcmp(s->e[j].key, s->e[k].key) == 0) {
            sim_cfg_err(w, "duplicate sweep key '%s' (also $.sweep[%d]; give a 'label')",
                        s->e[k].key, j);
            return;
        }
    for (int t = 0; t < s->e[k].nr_targets; t++)
        check_target(w, s, k, -1, s->e[k].targets[t].at, text);
}

/* Entry k's "with" companions: each a path the schema allows, clear of
 * every other target, with one value per value of the entry. */
static void sweep_with(struct sim_cfg_walk *w, const cJSON *doc, struct sim_cfg_sweep *s, int k,
                       const cJSON *with)
{
    s->e[k].with = calloc((size_t)cJSON_GetArraySize(with), sizeof *s->e[k].with);
    if (!s->e[k].with) {
        sim_cfg_err(w, "out of memory");
        return;
    }
    size_t mark = sim_cfg_push_key(w, "with");
    int j = 0;
    for (const cJSON *c = with->child; c; c = c->next, j++) {
        struct sweepx wx = { 0 };
        struct sim_cfg_sweep_with *sw = &s->e[k].with[s->e[k].nr_with];
        size_t m2 = sim_cfg_push_index(w, j);
        int before = w->nr_errs;
        if (sim_cfg_walk_object(w, c, with_keys, &wx) == 0) {
            struct vm_diag d = { 0 };
            size_t m3 = sim_cfg_push_key(w, "path");
            if (sim_json_path_parse(wx.path, &sw->path, &d) ||
                sim_cfg_schema_check(doc, &sw->path, wx.path, true, &d))
                sim_cfg_err(w, "%s", d.msg);
            sim_cfg_pop(w, m3);
            int nv = cJSON_GetArraySize(wx.values);
            if (w->nr_errs == before && nv != s->e[k].nr_values) {
                m3 = sim_cfg_push_key(w, "values");
                sim_cfg_err(w, "expected %d values, one per value of $.sweep[%d].values, got %d",
                            s->e[k].nr_values, k, nv);
                sim_cfg_pop(w, m3);
            }
            if (w->nr_errs == before) {
                char text[256];
                applied_path(&sw->path, sw->at, sizeof sw->at);
                sim_json_path_text(&sw->path, sw->path.n, text, sizeof text);
                check_target(w, s, k, s->e[k].nr_with, sw->at, text);
            }
            if (w->nr_errs == before) {
                sw->values = wx.values;
                s->e[k].nr_with++;
            }
        }
        sim_cfg_pop(w, m2);
    }
    sim_cfg_pop(w, mark);
}

/* "host-nvme" for "../platforms/host-nvme.xml": a file's label. */
static const char *file_label(const char *path, char *buf, size_t len)
{
    const char *base = strrchr(path, '/') + 1;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), base);
    return buf;
}

/* Labels of entry k's values: an object's "name", a file path's base name
 * without its extension, a scalar's text, else its index; each unique and
 * fit for record ids. */
static void sweep_labels(struct sim_cfg_walk *w, struct sim_cfg_sweep *s, int k)
{
    int j = 0;
    size_t mark = sim_cfg_push_key(w, "values");
    for (const cJSON *v = s->e[k].values->child; v; v = v->next, j++) {
        char buf[256];
        const cJSON *nm = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "name") : NULL;
        const char *lab = cJSON_IsString(nm) ? nm->valuestring
                          : cJSON_IsString(v) && strchr(v->valuestring, '/')
                          ? file_label(v->valuestring, buf, sizeof buf)
                          : sim_json_scalar_text(v, buf, sizeof buf);
        if (!lab) {
            snprintf(buf, sizeof buf, "%d", j);   /* unnamed object: its index */
            lab = buf;
        }
        size_t m2 = sim_cfg_push_index(w, j);
        if (strlen(lab) >= SIM_NAME_MAX || strpbrk(lab, "/=,\n")) {
            sim_cfg_err(w, "expected a value whose label is under %d characters without "
                        "'/', '=' or ',', got label '%.80s'", SIM_NAME_MAX, lab);
        } else {
            for (int q = 0; q < j; q++)
                if (strcmp(s->e[k].labels[q], lab) == 0) {
                    sim_cfg_err(w, "duplicate point label '%s' (also values[%d])", lab, q);
                    break;
                }
            snprintf(s->e[k].labels[j], SIM_NAME_MAX, "%s", lab);
        }
        sim_cfg_pop(w, m2);
    }
    sim_cfg_pop(w, mark);
}

int sim_cfg_parse_sweep(struct sim_cfg_walk *w, const cJSON *doc, struct sim_cfg_sweep *s)
{
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(doc, "sweep");
    char got[64];
    int before = w->nr_errs;
    s->n = 0;
    if (!sw)
        return 0;
    sim_json_pathbuf_init(&w->path);
    size_t mark = sim_cfg_push_key(w, "sweep");
    if (!cJSON_IsArray(sw) || cJSON_GetArraySize(sw) > SIM_MAX_POINT_KEYS) {
        if (!cJSON_IsArray(sw))
            sim_cfg_err(w, "expected array of sweep entries, got %s",
                        sim_json_got(sw, got, sizeof got));
        else
            sim_cfg_err(w, "expected at most %d sweep entries, got %d", SIM_MAX_POINT_KEYS,
                        cJSON_GetArraySize(sw));
        sim_cfg_pop(w, mark);
        return VM_EINVAL;
    }
    int i = 0;
    for (const cJSON *c = sw->child; c; c = c->next, i++) {
        struct sweepx sx = { 0 };
        size_t m2 = sim_cfg_push_index(w, i);
        int b2 = w->nr_errs;
        if (sim_cfg_walk_object(w, c, sweep_keys, &sx) == 0) {
            struct vm_diag d = { 0 };
            size_t m3 = sim_cfg_push_key(w, "path");
            int k = s->n;
            s->e[k].targets = NULL;
            s->e[k].nr_targets = 0;
            if (sim_json_path_parse(sx.path, &s->e[k].path, &d) ||
                sweep_targets(doc, &s->e[k].path, sx.path, &s->e[k].targets,
                              &s->e[k].nr_targets, &d))
                sim_cfg_err(w, "%s", d.msg);
            sim_cfg_pop(w, m3);
            if (w->nr_errs == b2)
                sweep_key(w, s, k, &sx);
            if (w->nr_errs != b2) {
                free(s->e[k].targets);
                s->e[k].targets = NULL;
            } else {
                int nv = cJSON_GetArraySize(sx.values);
                s->e[k].values = sx.values;
                s->e[k].nr_values = nv;
                s->e[k].labels = calloc((size_t)nv, sizeof *s->e[k].labels);
                if (!s->e[k].labels) {
                    sim_cfg_err(w, "out of memory");
                    free(s->e[k].targets);
                    s->e[k].targets = NULL;
                } else {
                    s->n++;
                    sweep_labels(w, s, k);
                    if (sx.with)
                        sweep_with(w, doc, s, k, sx.with);
                }
            }
        }
        sim_cfg_pop(w, m2);
    }
    sim_cfg_pop(w, mark);
    return w->nr_errs == before ? 0 : VM_EINVAL;
}
