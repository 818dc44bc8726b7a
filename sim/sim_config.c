/*
 * sim_config.c - experiment configs: the core's keys, run points and the
 * engine that loads, overrides, validates and expands a config (see
 * sim_config.h).
 *
 * One walk fills one run point's template: the core's rows into struct
 * sim_exp (plus the variants and metric specs), the mechanism's sections
 * into its own struct.  The engine walks the document as written, then
 * applies --quick, --set and --seed, then walks every sweep point, and
 * expands each into one run point per variant.  The walk (rows, setters,
 * errors) is sim_cfg_walk.c; paths and the sweep are sim_cfg_path.c.
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
#include "sim_world.h"

#define MAX_POINTS 10000
#define MAX_VARIANTS 64
#define SEED_MAX 9007199254740991.0        /* 2^53 - 1: exact in a JSON number */
#define TIME_MAX_NS 86400e9                /* one day */

struct variant {
    char name[SIM_NAME_MAX];
    char policy[SIM_NAME_MAX];
    alignas(max_align_t) unsigned char cfg[SIM_POLICY_CFG_MAX];
};

/* What one walk over a (sweep point's) config fills: the run point minus
 * its variant, the variants, the metric specs, the mechanism's struct. */
struct tmpl {
    struct sim_exp e;
    char description[256];
    struct variant variants[MAX_VARIANTS];
    int nr_variants;
    const struct sim_policy_set *vset;
    struct sim_exp_metric metrics[SIM_MAX_METRICS];
    int nr_metrics;
    void *mcfg;                         /* e.mech->cfg_size bytes */
    size_t mcfg_size;
};

const struct sim_mech *sim_config_doc_mech(const cJSON *doc)
{
    const cJSON *m = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "mechanism")
                                         : NULL;
    return cJSON_IsString(m) ? sim_mech_find(m->valuestring) : NULL;
}

/* ------------------------------------------------------------ the core's keys */

static int set_mechanism(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                         void *obj)
{
    char got[64], known[512];
    if (!cJSON_IsString(v))
        return sim_cfg_err(w, "expected string, got %s", sim_json_got(v, got, sizeof got));
    if (sim_mech_find(v->valuestring))
        return 0;
    const char *names[64];
    int n = 0;
    size_t o = 0;
    known[0] = '\0';
    for (const struct sim_mech *m; n < 64 && (m = sim_mech_at(n)); n++) {
        names[n] = m->name;
        if (o < sizeof known)
            o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", o ? ", " : "", m->name);
    }
    const char *s = sim_cfg_suggest(names, n, v->valuestring);
    if (s)
        return sim_cfg_err(w, "unknown mechanism '%s' (did you mean '%s'?)", v->valuestring, s);
    return sim_cfg_err(w, "unknown mechanism '%s' (known: %s)", v->valuestring,
                       n ? known : "none");
}

#define VA(field) offsetof(struct variant, field)
static const struct sim_key variant_keys[] = {
    SIM_KEY_STR_ROW("name", SIM_KEY_REQ, sim_cfg_set_label, VA(name), SIM_NAME_MAX,
                    "unique within the experiment; names its records"),
    SIM_KEY_STR_ROW("policy", SIM_KEY_REQ, sim_cfg_set_str, VA(policy), SIM_NAME_MAX,
                    "a policy of the mechanism"),
    { .name = "params", .shape = SIM_KEY_PARAMS, .set = sim_cfg_set_skip,
      .p = { .name = "params", .help = "the policy's parameters" } },
    SIM_KEY_END,
};

/* Resolve every variant's policy in the mechanism's variant set. */
static int set_variants(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                        void *obj)
{
    struct tmpl *t = obj;
    char got[64];
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return sim_cfg_err(w, "expected non-empty array of variants, got %s",
                           cJSON_IsArray(v) ? "[]" : sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n > MAX_VARIANTS)
        return sim_cfg_err(w, "expected at most %d variants, got %d", MAX_VARIANTS, n);
    const struct sim_mech *mech = w->mech;
    t->vset = mech ? mech->variant_set(w->doc) : NULL;
    int i = 0, before = w->nr_errs;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        struct variant *var = &t->variants[i];
        memset(var, 0, sizeof *var);
        size_t mark = sim_cfg_push_index(w, i);
        if (sim_cfg_walk_object(w, c, k->sub, NULL, NULL, NULL, var) == 0) {
            for (int j = 0; j < i; j++)
                if (strcmp(t->variants[j].name, var->name) == 0) {
                    size_t m2 = sim_cfg_push_key(w, "name");
                    sim_cfg_err(w, "duplicate variant name '%s' (also $.variants[%d].name)",
                                var->name, j);
                    sim_cfg_pop(w, m2);
                    break;
                }
            if (t->vset)
                sim_cfg_resolve_policy(w, t->vset, var->policy,
                                       cJSON_GetObjectItemCaseSensitive(c, "params"), var->cfg);
        }
        sim_cfg_pop(w, mark);
    }
    t->nr_variants = n;
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

struct metricx {
    struct sim_exp_metric m;
    int direction;              /* -1 the metric's own, 0 lower, 1 higher */
};

/* A metric the mechanism declares (or the core's own). */
static int set_metric_name(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                           void *obj)
{
    int rc = sim_cfg_set_str(w, k, v, obj);
    const struct sim_mech *m = w->mech;
    if (rc || !m || sim_mech_metric_find(m, v->valuestring) >= 0)
        return rc;
    const char *names[SIM_MAX_METRICS];
    int n = sim_mech_nr_metrics(m);
    for (int i = 0; i < n; i++)
        names[i] = sim_mech_metric(m, i)->name;
    const char *s = sim_cfg_suggest(names, n, v->valuestring);
    if (s)
        return sim_cfg_err(w, "unknown metric '%s' (did you mean '%s'?)", v->valuestring, s);
    return sim_cfg_err(w, "unknown metric '%s' of mechanism '%s' (see 'vmsim list %s')",
                       v->valuestring, m->name, m->name);
}

#define M(field) offsetof(struct metricx, field)
static const struct sim_key metric_keys[] = {
    SIM_KEY_STR_ROW("name", SIM_KEY_REQ, set_metric_name, M(m.name), SIM_NAME_MAX,
                    "a metric of the mechanism"),
    SIM_KEY_ENUM_ROW("direction", 0, M(direction), "lower|higher", NULL,
                     "which way is better (default: the metric's own)"),
    SIM_KEY_SCALAR_ROW("tolerance", 0, VM_PARAM_DOUBLE, M(m.tolerance), 0, 1e6, "0.05",
                       "relative change vmsim check accepts"),
    SIM_KEY_SCALAR_ROW("abs_tolerance", 0, VM_PARAM_DOUBLE, M(m.abs_tolerance), 0, 1e300, "0",
                       "absolute change vmsim check accepts on top"),
    SIM_KEY_END,
};

static int set_metrics(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                       void *obj)
{
    struct tmpl *t = obj;
    char got[64];
    if (!cJSON_IsArray(v))
        return sim_cfg_err(w, "expected array of metrics, got %s",
                           sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n > SIM_MAX_METRICS)
        return sim_cfg_err(w, "expected at most %d metrics, got %d", SIM_MAX_METRICS, n);
    int i = 0, before = w->nr_errs;
    t->nr_metrics = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        struct metricx mx = { .direction = -1 };
        size_t mark = sim_cfg_push_index(w, i);
        sim_cfg_apply_defaults(k->sub, &mx);
        if (sim_cfg_walk_object(w, c, k->sub, NULL, NULL, NULL, &mx) == 0) {
            int id = w->mech ? sim_mech_metric_find(w->mech, mx.m.name) : -1;
            mx.m.higher_is_better = mx.direction == 1 ||
                (mx.direction < 0 && id >= 0 && sim_mech_metric(w->mech, id)->higher_is_better);
            for (int j = 0; j < t->nr_metrics; j++)
                if (strcmp(t->metrics[j].name, mx.m.name) == 0) {
                    size_t m2 = sim_cfg_push_key(w, "name");
                    sim_cfg_err(w, "duplicate metric '%s' (also $.metrics[%d].name)", mx.m.name,
                                j);
                    sim_cfg_pop(w, m2);
                    break;
                }
            t->metrics[t->nr_metrics++] = mx.m;
        }
        sim_cfg_pop(w, mark);
    }
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

struct faultx {
    struct sim_exp_fault f;
    int kind;                   /* enum sim_fault_kind */
    int op;                     /* 0 read, 1 write */
};
#define F(field) offsetof(struct faultx, field)
#define FAULT_KINDS "disk_error|disk_slow"
static const struct sim_key fault_error_keys[] = {
    SIM_KEY_ENUM_ROW("kind", SIM_KEY_REQ, F(kind), FAULT_KINDS, NULL, "disk_error or disk_slow"),
    SIM_KEY_ENUM_ROW("op", 0, F(op), "read|write", "write", "which I/Os fail"),
    SIM_KEY_SCALAR_ROW("after_ios", 0, VM_PARAM_U64, F(f.after_ios), 0, SEED_MAX, "0",
                       "I/Os that succeed first"),
    SIM_KEY_SCALAR_ROW("count", 0, VM_PARAM_U64, F(f.count), 0, SEED_MAX, "0",
                       "I/Os that fail (0: every one after)"),
    SIM_KEY_END,
};
static const struct sim_key fault_slow_keys[] = {
    SIM_KEY_ENUM_ROW("kind", SIM_KEY_REQ, F(kind), FAULT_KINDS, NULL, "disk_error or disk_slow"),
    SIM_KEY_SCALAR_ROW("factor", SIM_KEY_REQ, VM_PARAM_DOUBLE, F(f.factor), 1, 1e6, NULL,
                       "latency multiplier"),
    SIM_KEY_SCALAR_ROW("from", 0, VM_PARAM_TIME, F(f.from_ns), 0, TIME_MAX_NS, "0ns",
                       "window start"),
    SIM_KEY_SCALAR_ROW("until", 0, VM_PARAM_TIME, F(f.until_ns), 0, TIME_MAX_NS, NULL,
                       "window end (default: the end of the run)"),
    SIM_KEY_END,
};

/* One fault: its kind picks the table. */
static void walk_fault(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *c,
                       struct tmpl *t)
{
    struct faultx fx = { 0 };
    char got[64];
    const cJSON *kind = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "kind") : NULL;
    if (!cJSON_IsObject(c)) {
        sim_cfg_err(w, "expected object, got %s", sim_json_got(c, got, sizeof got));
        return;
    }
    if (!kind) {
        sim_cfg_err(w, "missing required key 'kind'");
        return;
    }
    size_t m2 = sim_cfg_push_key(w, "kind");
    int rc = sim_cfg_set_param(w, &k->sub[0], kind, &fx);
    sim_cfg_pop(w, m2);
    bool slow = fx.kind == SIM_FAULT_DISK_SLOW;
    const struct sim_key *tab = slow ? k->alt : k->sub;
    fx.f.until_ns = UINT64_MAX;         /* disk_slow without until: to the end */
    sim_cfg_apply_defaults(tab, &fx);
    if (rc || sim_cfg_walk_object(w, c, tab, slow ? k->sub : k->alt,
                                  slow ? "disk_slow" : "disk_error",
                                  slow ? "disk_error" : "disk_slow", &fx))
        return;
    fx.f.kind = (enum sim_fault_kind)fx.kind;
    fx.f.on_write = fx.op == 1;
    if (slow && fx.f.until_ns <= fx.f.from_ns) {
        m2 = sim_cfg_push_key(w, "until");
        sim_cfg_err(w, "expected time after 'from', got %s",
                    sim_json_got(cJSON_GetObjectItemCaseSensitive(c, "until"), got, sizeof got));
        sim_cfg_pop(w, m2);
        return;
    }
    t->e.faults[t->e.nr_faults++] = fx.f;
}

static int set_faults(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct tmpl *t = obj;
    char got[64];
    if (!cJSON_IsArray(v))
        return sim_cfg_err(w, "expected array of faults, got %s",
                           sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n > SIM_MAX_FAULTS)
        return sim_cfg_err(w, "expected at most %d faults, got %d", SIM_MAX_FAULTS, n);
    int i = 0, before = w->nr_errs;
    t->e.nr_faults = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        size_t mark = sim_cfg_push_index(w, i);
        walk_fault(w, k, c, t);
        sim_cfg_pop(w, mark);
    }
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

#define T(field) offsetof(struct tmpl, field)
const struct sim_key sim_config_top_keys[] = {
    SIM_KEY_STR_ROW("name", SIM_KEY_REQ | SIM_KEY_NOSWEEP, sim_cfg_set_name, T(e.name),
                    SIM_NAME_MAX, "names the output directory and the CSV"),
    SIM_KEY_STR_ROW("description", 0, sim_cfg_set_text, T(description), 256,
                    "what the experiment shows"),
    SIM_KEY_SCALAR_ROW("seed", 0, VM_PARAM_U64, T(e.seed), 0, SEED_MAX, "1",
                       "seed of every random stream"),
    { .name = "mechanism", .flags = SIM_KEY_REQ | SIM_KEY_NOSWEEP | SIM_KEY_NOSET,
      .shape = SIM_KEY_SCALAR, .set = set_mechanism,
      .p = { .name = "mechanism", .type = VM_PARAM_STRING, .help = "what runs (vmsim list)" } },
    SIM_KEY_STR_ROW("platform", SIM_KEY_REQ, sim_cfg_set_path, T(e.platform), SIM_PATH_MAX,
                    "SimGrid platform XML"),
    SIM_KEY_STR_ROW("host", 0, sim_cfg_set_str, T(e.host), SIM_NAME_MAX,
                    "host to run on (default: the first with a disk)"),
    SIM_KEY_STR_ROW("disk", 0, sim_cfg_set_str, T(e.disk), SIM_NAME_MAX,
                    "its disk (default: its first)"),
    SIM_KEY_ARR_ROW("variants", SIM_KEY_REQ, set_variants, variant_keys, NULL,
                    "the mechanism and its baselines, each a policy with parameters"),
    { .name = "sweep", .flags = SIM_KEY_NOSWEEP, .shape = SIM_KEY_FREE, .set = sim_cfg_set_skip,
      .p = { .name = "sweep", .help = "[{path, values, label}]: a cartesian product" } },
    SIM_KEY_ARR_ROW("metrics", SIM_KEY_NOSWEEP, set_metrics, metric_keys, NULL,
                    "what vmsim check compares, with tolerances"),
    SIM_KEY_ARR_ROW("faults", 0, set_faults, fault_error_keys, fault_slow_keys,
                    "injected disk errors and slow windows"),
    { .name = "quick", .flags = SIM_KEY_NOSWEEP | SIM_KEY_NOSET, .shape = SIM_KEY_FREE,
      .set = sim_cfg_set_skip,
      .p = { .name = "quick", .help = "{path: value} overrides applied by --quick" } },
    SIM_KEY_END,
};

/* ------------------------------------------------------------ one point */

/* Walk doc into t; 0 when it walked clean and the mechanism finished it. */
static int walk_point(struct sim_cfg_walk *w, const cJSON *doc, struct tmpl *t)
{
    int before = w->nr_errs;
    const struct sim_mech *mech = sim_config_doc_mech(doc);
    char got[64];
    memset(&t->e, 0, sizeof t->e);
    t->description[0] = '\0';
    t->nr_variants = t->nr_metrics = 0;
    t->vset = NULL;
    snprintf(t->e.config_file, sizeof t->e.config_file, "%s", w->file);
    w->doc = doc;
    w->mech = mech;
    sim_json_pathbuf_init(&w->path);
    if (!cJSON_IsObject(doc))
        return sim_cfg_err(w, "expected object, got %s", sim_json_got(doc, got, sizeof got));
    sim_cfg_apply_defaults(sim_config_top_keys, t);
    if (mech && mech->cfg_size > t->mcfg_size) {
        void *p = realloc(t->mcfg, mech->cfg_size);
        if (!p)
            return sim_cfg_err(w, "out of memory");
        t->mcfg = p;
        t->mcfg_size = mech->cfg_size;
    }
    if (mech) {
        memset(t->mcfg, 0, mech->cfg_size);
        if (mech->sections)
            sim_cfg_apply_defaults(mech->sections, t->mcfg);
        if (mech->cfg_init)
            mech->cfg_init(t->mcfg);
    }
    static const struct sim_key no_rows[] = { SIM_KEY_END };
    const struct sim_key *tabs[2] = { sim_config_top_keys,
                                      mech && mech->sections ? mech->sections : no_rows };
    void *objs[2] = { t, t->mcfg };
    /* without a known mechanism its sections are unknown: say only that */
    sim_cfg_walk_tables(w, doc, tabs, objs, mech ? 2 : 1, mech != NULL);
    if (w->nr_errs == before && mech) {
        t->e.mech = mech;
        t->e.mech_cfg = t->mcfg;
        if (mech->finish)
            mech->finish(w, t->mcfg);
    }
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

/* ------------------------------------------------------------ the engine */

struct engine_out {
    struct tmpl *first;                 /* the first point's template, walked clean */
    struct sim_exp *points;
    int nr_points, cap_points;
};

static void free_points(struct sim_exp *points, int n)
{
    for (int i = 0; i < n; i++)
        free((void *)points[i].mech_cfg);
    free(points);
}

static void tmpl_free(struct tmpl *t)
{
    if (t)
        free(t->mcfg);
    free(t);
}

/* One run point per variant of the walked point t, at sweep index idx. */
static int add_points(struct sim_cfg_walk *w, struct engine_out *o, const struct tmpl *t,
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
        const struct variant *var = &t->variants[v];
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

/* The platform loads with the run's SimGrid options, has the host and
 * disk the point names, and its disks have what the disk model needs:
 * checked in a child, once per (platform, host, disk). */
static void check_platform(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    char key[SIM_PATH_MAX + 2 * SIM_NAME_MAX + 4];
    snprintf(key, sizeof key, "%s|%s|%s", e->platform, e->host, e->disk);
    const struct sim_cfg_memo *m = sim_cfg_memo_get(w, "platform", key);
    struct sim_cfg_memo nm = { 0 };
    if (!m) {
        struct vm_diag d = { 0 };
        bool in_init = false;
        nm.rc = sim_world_check_platform(e->platform, e->host, e->disk, w->nr_sg_args,
                                         w->sg_args, &in_init, &d);
        nm.value = in_init;
        if (nm.rc)
            snprintf(nm.msg, sizeof nm.msg, "%s", d.msg);
        sim_cfg_memo_put(w, "platform", key, &nm);
        m = &nm;
    }
    if (!m->rc)
        return;
    if (!m->value) {
        sim_cfg_err_at(w, m->rc, "$.platform", "%s", m->msg);
        return;
    }
    sim_diag_list_add(w->errs, "%s", m->msg);   /* SimGrid refused the options, not the file */
    if (w->nr_errs++ == 0)
        w->first_code = m->rc;
}

/* Deep checks of the points o->points[from..]: the platform, then the
 * mechanism's own. */
static void deep_checks(struct sim_cfg_walk *w, const struct engine_out *o, int from)
{
    for (int i = from; i < o->nr_points; i++) {
        const struct sim_exp *e = &o->points[i];
        check_platform(w, e);
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
static void expand(struct sim_cfg_walk *w, const cJSON *root, struct tmpl *t,
                   const struct sim_cfg_sweep *s, bool validate, struct engine_out *o)
{
    long total = 1;
    for (int i = 0; i < s->n; i++)
        total *= s->e[i].nr_values;
    if (total > MAX_POINTS) {
        sim_cfg_err_at(w, VM_EINVAL, "$.sweep", "expected at most %d sweep points, got %ld",
                       MAX_POINTS, total);
        return;
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
            char loc[64];
            struct vm_diag d = { 0 };
            snprintf(loc, sizeof loc, "$.sweep[%d].values[%d]", i, idx[i]);
            cJSON *val = cJSON_Duplicate(cJSON_GetArrayItem(s->e[i].values, idx[i]), 1);
            if (sim_cfg_json_apply(copy, &s->e[i].path, val, &d))
                sim_cfg_err_at(w, VM_EINVAL, loc, "%s", d.msg);
            sim_cfg_remap_add(w, s->e[i].at, loc);
        }
        int before = w->nr_errs;
        if (walk_point(w, copy, t) == 0 && w->nr_errs == before) {
            if (!o->first) {
                o->first = malloc(sizeof *o->first);
                if (o->first) {
                    *o->first = *t;
                    o->first->mcfg = NULL;      /* t keeps it */
                }
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

static int engine(const char *file, const struct sim_config_opts *opts, bool validate,
                  cJSON **root_out, struct engine_out *o, struct sim_diag_list *errs)
{
    struct sim_cfg_walk *w = calloc(1, sizeof *w);
    struct tmpl *t = calloc(1, sizeof *t);
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
    w->deep_run = !validate;
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
    if (walk_point(w, root, t) == 0 || validate) {
        struct sim_cfg_sweep s0 = { 0 };
        sim_cfg_parse_sweep(w, root, &s0);
        sim_cfg_sweep_free(&s0);
    }
    if (w->nr_errs && !validate)
        goto done;
    apply_overrides(w, root, opts);
    if (w->nr_errs && !validate)
        goto done;
    if (sim_cfg_parse_sweep(w, root, &s) == 0)
        expand(w, root, t, &s, validate, o);
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
    cfg->seed = o.first->e.seed;
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
