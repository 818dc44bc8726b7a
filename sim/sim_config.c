/*
 * sim_config.c - the engine that loads, overrides, validates, expands and
 * deeply checks an experiment config (see sim_config.h).
 *
 * The engine walks the document as written, then applies --quick, --set
 * and --seed, then walks every sweep point (sim_cfg_walk_point: the
 * core's keys and the mechanism's sections, sim_cfg_top.c), expands each
 * into one run point per variant, and makes the deep checks of each new
 * point.  Rows, setters and errors are sim_cfg_walk.c; override and sweep
 * paths are sim_cfg_path.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_cfg_int.h"
#include "sim_config.h"
#include "sim_json.h"
#include "sim_platform.h"

#define MAX_POINTS 10000

/* ------------------------------------------------------------ the engine */

struct engine_out {
    struct sim_cfg_point *first;                 /* the first point's template, walked clean */
    struct sim_exp *points;
    int nr_points, cap_points;
};

static void free_points(struct sim_exp *points, int n)
{
    for (int i = 0; i < n; i++)
        free((void *)points[i].mech_cfg);
    free(points);
}

static void tmpl_free(struct sim_cfg_point *t)
{
    if (t)
        free(t->mcfg);
    free(t);
}

/* One run point per variant of the walked point t, at sweep index idx. */
static int add_points(struct sim_cfg_walk *w, struct engine_out *o, const struct sim_cfg_point *t,
                      const struct sim_cfg_sweep *s, const int *idx)
{
    size_t msize = t->e.mech->cfg_size;
    size_t poff = (msize + alignof(max_align_t) - 1) / alignof(max_align_t)
                  * alignof(max_align_t);
    size_t psize = t->vset ? t->vset->cfg_size : 0;
    for (int v = 0; v < t->nr_variants; v++) {
        if (o->nr_points == o->cap_points) {
            int cap = o->cap_points ? 2 * o->cap_points : 16;
            struct sim_exp *np = realloc(o->points, sizeof *np * (size_t)cap);
            if (!np)
                return sim_cfg_err_at(w, VM_ENOMEM, "$", "out of memory");
            o->points = np;
            o->cap_points = cap;
        }
        unsigned char *blob = malloc(poff + psize + 1);
        if (!blob)
            return sim_cfg_err_at(w, VM_ENOMEM, "$", "out of memory");
        memcpy(blob, t->mcfg, msize);
        memcpy(blob + poff, t->variants[v].cfg, psize);
        struct sim_exp *e = &o->points[o->nr_points++];
        const struct sim_cfg_variant *var = &t->variants[v];
        *e = t->e;
        e->mech_cfg = blob;
        e->policy_cfg = blob + poff;
        e->policy_set = t->vset;
        snprintf(e->variant, sizeof e->variant, "%s", var->name);
        snprintf(e->policy, sizeof e->policy, "%s", var->policy);
        e->nr_point_keys = s->n;
        size_t o2 = (size_t)snprintf(e->id, sizeof e->id, "%s", var->name);
        for (int k = 0; k < s->n; k++) {
            snprintf(e->point_keys[k], SIM_NAME_MAX, "%s", s->e[k].key);
            snprintf(e->point_values[k], SIM_NAME_MAX, "%s", s->e[k].labels[idx[k]]);
            if (o2 < sizeof e->id)
                o2 += (size_t)snprintf(e->id + o2, sizeof e->id - o2, "/%s=%s", s->e[k].key,
                                       s->e[k].labels[idx[k]]);
        }
        if (o2 >= sizeof e->id)
            return sim_cfg_err_at(w, VM_EINVAL, "$.sweep", "expected record ids under %zu "
                                  "characters, got '%.60s...'", sizeof e->id, e->id);
    }
    return 0;
}

int sim_cfg_check_platform(struct sim_cfg_walk *w, const char *platform, const char *host,
                           const char *disk, const char *json_path, const char *host_path,
                           const char *disk_path, struct sim_platform_info *info)
{
    char key[SIM_CFG_MEMO_KEY_MAX];
    snprintf(key, sizeof key, "%s|%s|%s", platform, host, disk);
    struct sim_cfg_memo m;
    if (!sim_cfg_memo_get(w, "platform", key, &m)) {
        struct vm_diag d = { 0 };
        enum sim_platform_part part = SIM_PLATFORM_FILE;
        struct sim_platform_info pi = { 0 };
        memset(&m, 0, sizeof m);
        m.rc = sim_platform_check(platform, host, disk, w->nr_sg_args, w->sg_args, &part, &pi,
                                  &d);
        m.value[0] = part;
        m.value[1] = pi.host_cores;
        m.value[2] = pi.disk_capacity_bytes;
        m.value[3] = pi.host_memory_bytes;
        if (m.rc)
            snprintf(m.msg, sizeof m.msg, "%s", d.msg);
        sim_cfg_memo_put(w, "platform", key, &m);
    }
    if (!m.rc) {
        if (info)
            *info = (struct sim_platform_info){ .host_cores = (unsigned)m.value[1],
                                                .disk_capacity_bytes = m.value[2],
                                                .host_memory_bytes = m.value[3] };
        return 0;
    }
    if (m.value[0] != SIM_PLATFORM_OPTIONS)
        return sim_cfg_err_at(w, m.rc, m.value[0] == SIM_PLATFORM_HOST ? host_path
                                       : m.value[0] == SIM_PLATFORM_DISK ? disk_path : json_path,
                              "%s", m.msg);
    sim_diag_list_add(w->errs, "%s", m.msg);    /* SimGrid refused the options, not the file */
    if (w->nr_errs++ == 0)
        w->first_code = m.rc;
    return m.rc;
}

int sim_cfg_check_host(struct sim_cfg_walk *w, const char *platform, const char *host,
                       const char *host_path)
{
    char key[SIM_CFG_MEMO_KEY_MAX];
    snprintf(key, sizeof key, "%s|%s", platform, host);
    struct sim_cfg_memo m;
    if (!sim_cfg_memo_get(w, "host", key, &m)) {
        struct vm_diag d = { 0 };
        enum sim_platform_part part = SIM_PLATFORM_FILE;
        memset(&m, 0, sizeof m);
        m.rc = sim_platform_check(platform, host, NULL, w->nr_sg_args, w->sg_args, &part, NULL,
                                  &d);
        m.value[0] = part;
        if (m.rc)
            snprintf(m.msg, sizeof m.msg, "%s", d.msg);
        sim_cfg_memo_put(w, "host", key, &m);
    }
    if (m.rc && m.value[0] == SIM_PLATFORM_HOST)
        return sim_cfg_err_at(w, m.rc, host_path, "%s", m.msg);
    /* a file or options problem is the platform check's to report */
    return m.rc;
}

/* Every host a fault names must be one of the platform's, whatever the
 * mechanism does with it. */
static void check_fault_hosts(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    for (int i = 0; i < e->nr_faults; i++) {
        const struct sim_exp_fault *f = &e->faults[i];
        const char *keys[3] = { "host", "a", "b" };
        const char *hosts[3] = { f->host, f->a, f->b };
        for (int j = 0; j < 3; j++) {
            char path[64];
            if (!hosts[j][0])
                continue;
            snprintf(path, sizeof path, "$.faults[%d].%s", i, keys[j]);
            sim_cfg_check_host(w, e->platform, hosts[j], path);
        }
    }
}

/* Deep checks of the points o->points[from..]: the platform and the hosts
 * the faults name, then the mechanism's own. */
static void deep_checks(struct sim_cfg_walk *w, const struct engine_out *o, int from)
{
    for (int i = from; i < o->nr_points; i++) {
        const struct sim_exp *e = &o->points[i];
        if (sim_cfg_check_platform(w, e->platform, e->host, e->disk, "$.platform", "$.host",
                                   "$.disk", NULL) == 0)
            check_fault_hosts(w, e);
        if (e->mech->check)
            e->mech->check(w, e);
    }
}

/* "path=value": the value is JSON when it parses, else a string. */
static cJSON *set_value_json(const char *text)
{
    struct vm_diag d = { 0 };
    cJSON *v = NULL;
    if (sim_json_parse("--set", text, &v, &d) == 0)
        return v;
    return cJSON_CreateString(text);
}

/* --quick, then --set, then --seed, applied to root. */
static void apply_overrides(struct sim_cfg_walk *w, cJSON *root, const struct sim_config_opts *o)
{
    if (o && o->quick) {
        /* overrides cannot target "quick" (SIM_KEY_NOSET), so q stays valid */
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "quick");
        if (q && !cJSON_IsObject(q)) {
            char got[64];
            sim_cfg_err_at(w, VM_EINVAL, "$.quick", "expected object of path: value, got %s",
                           sim_json_got(q, got, sizeof got));
        } else if (q) {
            for (const cJSON *c = q->child; c; c = c->next) {
                char loc[256];
                snprintf(loc, sizeof loc, "$.quick[\"%s\"]", c->string);
                sim_cfg_override(w, root, c->string, cJSON_Duplicate(c, 1), loc);
            }
        }
    }
    for (int i = 0; o && i < o->nr_sets; i++) {
        const char *eq = strchr(o->sets[i], '=');
        char path[256], loc[300];
        if (!eq || eq == o->sets[i] || (size_t)(eq - o->sets[i]) >= sizeof path) {
            sim_cfg_err_at(w, VM_EINVAL, "--set", "expected path=value, got '%s'", o->sets[i]);
            continue;
        }
        memcpy(path, o->sets[i], (size_t)(eq - o->sets[i]));
        path[eq - o->sets[i]] = '\0';
        snprintf(loc, sizeof loc, "--set %s", path);
        sim_cfg_override(w, root, path, set_value_json(eq + 1), loc);
    }
    if (o && o->have_seed) {
        cJSON *seed = cJSON_CreateNumber((double)o->seed);
        if (cJSON_GetObjectItemCaseSensitive(root, "seed"))
            cJSON_ReplaceItemInObjectCaseSensitive(root, "seed", seed);
        else
            cJSON_AddItemToObject(root, "seed", seed);
        sim_cfg_remap_add(w, "$.seed", "--seed");
    }
}

/* Every sweep point of root: walk, expand, check deeply. */
static void expand(struct sim_cfg_walk *w, const cJSON *root, struct sim_cfg_point *t,
                   const struct sim_cfg_sweep *s, bool validate, struct engine_out *o)
{
    long total = 1;
    for (int i = 0; i < s->n; i++) {
        if (s->e[i].nr_values > MAX_POINTS / total) {     /* checked before it can overflow */
            sim_cfg_err_at(w, VM_EINVAL, "$.sweep", "expected at most %d sweep points, got "
                           "more", MAX_POINTS);
            return;
        }
        total *= s->e[i].nr_values;
    }
    int idx[SIM_MAX_POINT_KEYS] = { 0 };
    int saved_remaps = w->nr_remaps;
    struct sim_cfg_remap *saved = malloc(sizeof *saved * (size_t)saved_remaps + 1);
    if (!saved) {
        sim_cfg_err_at(w, VM_ENOMEM, "$", "out of memory");
        return;
    }
    memcpy(saved, w->remaps, sizeof *saved * (size_t)saved_remaps);
    for (long n = 0; n < total; n++) {
        cJSON *copy = cJSON_Duplicate(root, 1);
        for (int i = 0; i < s->n; i++) {
            char values[64], buf[300], loc[320];
            struct vm_diag d = { 0 };
            /* where the values came from: the file, or a --quick / --set */
            snprintf(values, sizeof values, "$.sweep[%d].values", i);
            snprintf(loc, sizeof loc, "%s[%d]", sim_cfg_locate(w, values, buf, sizeof buf),
                     idx[i]);
            for (int t2 = 0; t2 < s->e[i].nr_targets; t2++) {
                const struct sim_cfg_target *tg = &s->e[i].targets[t2];
                cJSON *val = cJSON_Duplicate(cJSON_GetArrayItem(s->e[i].values, idx[i]), 1);
                if (sim_cfg_json_apply(copy, &tg->path, val, &d))
                    sim_cfg_err_at(w, VM_EINVAL, loc, "%s", d.msg);
                sim_cfg_remap_add(w, tg->at, loc);
            }
            /* its companions take their value at the same index */
            for (int j = 0; j < s->e[i].nr_with; j++) {
                const struct sim_cfg_sweep_with *sw = &s->e[i].with[j];
                snprintf(values, sizeof values, "$.sweep[%d].with[%d].values", i, j);
                snprintf(loc, sizeof loc, "%s[%d]", sim_cfg_locate(w, values, buf, sizeof buf),
                         idx[i]);
                struct vm_diag dw = { 0 };
                cJSON *val = cJSON_Duplicate(cJSON_GetArrayItem(sw->values, idx[i]), 1);
                if (sim_cfg_json_apply(copy, &sw->path, val, &dw))
                    sim_cfg_err_at(w, VM_EINVAL, loc, "%s", dw.msg);
                sim_cfg_remap_add(w, sw->at, loc);
            }
        }
        int before = w->nr_errs;
        if (sim_cfg_walk_point(w, copy, t) == 0 && w->nr_errs == before) {
            if (!o->first) {
                o->first = malloc(sizeof *o->first);
                if (!o->first) {
                    sim_cfg_err_at(w, VM_ENOMEM, "$", "out of memory");
                    cJSON_Delete(copy);
                    break;
                }
                *o->first = *t;
                o->first->mcfg = NULL;          /* t keeps it */
            }
            int from = o->nr_points;
            if (add_points(w, o, t, s, idx) == 0 && w->deep)
                deep_checks(w, o, from);
        }
        cJSON_Delete(copy);
        memcpy(w->remaps, saved, sizeof *saved * (size_t)saved_remaps);
        w->nr_remaps = saved_remaps;
        if (w->nr_errs && !validate)
            break;
        for (int i = s->n - 1; i >= 0; i--) {   /* odometer: first entry outermost */
            if (++idx[i] < s->e[i].nr_values)
                break;
            idx[i] = 0;
        }
    }
    free(saved);
}

/* The config's directory, absolute (relative paths start there). */
static void config_dir(const char *file, char *out, size_t len)
{
    char dir[SIM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (!realpath(dir, out))
        snprintf(out, len, "%s", dir);
}

/* The deep checks of the run points as written, which `validate` makes:
 * a run with --quick or --set checks them too before its own points, so
 * both refuse the same configs (the points are thrown away). */
static void deep_check_as_written(struct sim_cfg_walk *w, const cJSON *root,
                                  struct sim_cfg_point *t)
{
    struct sim_cfg_sweep s = { 0 };
    struct engine_out o = { 0 };
    if (sim_cfg_parse_sweep(w, root, &s) == 0)
        expand(w, root, t, &s, false, &o);
    sim_cfg_sweep_free(&s);
    free_points(o.points, o.nr_points);
    free(o.first);
}

static int engine(const char *file, const struct sim_config_opts *opts, bool validate,
                  cJSON **root_out, struct engine_out *o, struct sim_diag_list *errs)
{
    struct sim_cfg_walk *w = calloc(1, sizeof *w);
    struct sim_cfg_point *t = calloc(1, sizeof *t);
    struct sim_cfg_sweep s = { 0 };
    cJSON *root = NULL;
    struct vm_diag d = { 0 };
    int rc;
    memset(o, 0, sizeof *o);
    if (!w || !t) {
        free(w);
        free(t);
        return VM_ENOMEM;
    }
    w->file = file;
    w->errs = errs;
    w->deep = validate || (opts && opts->deep);
    w->nr_sg_args = opts ? opts->nr_sg_args : 0;
    w->sg_args = opts ? opts->sg_args : NULL;

    rc = sim_json_load(file, &root, &d);
    if (rc) {
        sim_diag_list_add(errs, "%s", d.msg);
        goto out;
    }
    config_dir(file, w->dir, sizeof w->dir);
    if (!cJSON_IsObject(root)) {
        char got[64];
        sim_cfg_err_at(w, VM_EINVAL, "$", "expected object, got %s",
                       sim_json_got(root, got, sizeof got));
        goto done;
    }
    /* the document as written, whatever the overrides and the sweep replace */
    if (sim_cfg_walk_point(w, root, t) == 0 || validate) {
        struct sim_cfg_sweep s0 = { 0 };
        sim_cfg_parse_sweep(w, root, &s0);
        sim_cfg_sweep_free(&s0);
    }
    if (w->nr_errs && !validate)
        goto done;
    if (!validate && w->deep && opts && (opts->quick || opts->nr_sets))
        deep_check_as_written(w, root, t);
    if (w->nr_errs && !validate)
        goto done;
    apply_overrides(w, root, opts);
    if (w->nr_errs && !validate)
        goto done;
    if (sim_cfg_parse_sweep(w, root, &s) == 0)
        expand(w, root, t, &s, validate, o);
    if (!w->nr_errs && !o->first)
        sim_cfg_err_at(w, VM_EINVAL, "$", "expected at least one run point, got none");
done:
    rc = w->nr_errs ? (w->first_code ? w->first_code : VM_EINVAL) : 0;
out:
    sim_cfg_sweep_free(&s);
    if (rc == 0 && root_out)
        *root_out = root;
    else
        cJSON_Delete(root);
    if (rc) {
        free_points(o->points, o->nr_points);
        free(o->first);
        memset(o, 0, sizeof *o);
    }
    free(w->memo);
    free(w);
    tmpl_free(t);
    return rc;
}

int sim_config_load(const char *file, const struct sim_config_opts *opts,
                    struct sim_config **out, struct sim_diag_list *errs)
{
    struct sim_diag_list all = { 0 };
    struct engine_out o;
    cJSON *root = NULL;
    *out = NULL;
    int rc = engine(file, opts, false, &root, &o, &all);
    if (rc == 0 && !(opts && opts->quick) && cJSON_GetObjectItemCaseSensitive(root, "quick")) {
        /* the quick form too, as `validate` checks it (no --set or --seed:
         * they are this run's), so both refuse the same configs */
        struct sim_config_opts q = { .quick = true, .deep = opts && opts->deep,
                                     .nr_sg_args = opts ? opts->nr_sg_args : 0,
                                     .sg_args = opts ? opts->sg_args : NULL };
        struct engine_out qo;
        rc = engine(file, &q, false, NULL, &qo, &all);
        free_points(qo.points, qo.nr_points);
        free(qo.first);
        if (rc) {
            cJSON_Delete(root);
            free_points(o.points, o.nr_points);
            free(o.first);
        }
    }
    if (rc) {
        if (all.n)
            sim_diag_list_add(errs, "%s", all.lines[0]);
        sim_diag_list_free(&all);
        return rc;
    }
    sim_diag_list_free(&all);
    struct sim_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        cJSON_Delete(root);
        free_points(o.points, o.nr_points);
        free(o.first);
        return VM_ENOMEM;
    }
    snprintf(cfg->file, sizeof cfg->file, "%s", file);
    snprintf(cfg->name, sizeof cfg->name, "%s", o.first->e.name);
    snprintf(cfg->description, sizeof cfg->description, "%s", o.first->description);
    /* the config's own seed (after --seed), not a swept one's first value */
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    cfg->seed = cJSON_IsNumber(seed) ? (uint64_t)seed->valuedouble : o.first->e.seed;
    cfg->quick = opts && opts->quick;
    cfg->mech = o.first->e.mech;
    cfg->root = root;
    cfg->points = o.points;
    cfg->nr_points = o.nr_points;
    cfg->nr_metrics = o.first->nr_metrics;
    memcpy(cfg->metrics, o.first->metrics, sizeof cfg->metrics[0] * (size_t)cfg->nr_metrics);
    free(o.first);
    *out = cfg;
    return 0;
}

void sim_config_free(struct sim_config *cfg)
{
    if (!cfg)
        return;
    cJSON_Delete(cfg->root);
    free_points(cfg->points, cfg->nr_points);
    free(cfg);
}

int sim_config_validate(const char *file, struct sim_diag_list *errs)
{
    struct engine_out o;
    struct sim_config_opts quick = { .quick = true };
    int rc = engine(file, NULL, true, NULL, &o, errs);
    free_points(o.points, o.nr_points);
    free(o.first);
    if (rc == VM_EPARSE || rc == VM_ENOMEM)
        return rc;
    /* the quick form too, when there is one (its errors name $.quick[...]) */
    struct sim_diag_list q = { 0 };
    cJSON *root = NULL;
    struct vm_diag d = { 0 };
    if (sim_json_load(file, &root, &d) == 0 && cJSON_IsObject(root) &&
        cJSON_GetObjectItemCaseSensitive(root, "quick")) {
        int rq = engine(file, &quick, true, NULL, &o, &q);
        free_points(o.points, o.nr_points);
        free(o.first);
        for (int i = 0; i < q.n; i++)
            sim_diag_list_add(errs, "%s", q.lines[i]);
        if (!rc)
            rc = rq;
    }
    cJSON_Delete(root);
    sim_diag_list_free(&q);
    return rc;
}
