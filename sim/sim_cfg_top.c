/*
 * sim_cfg_top.c - the core's own config keys, which every experiment has
 * whatever its mechanism (name, description, seed, mechanism, platform,
 * host, disk, variants, sweep, metrics, faults, quick; see sim_exp.h), and
 * the walk of one run point: the core's rows into struct sim_exp, the
 * mechanism's sections into its own struct, then its finish hook.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_cfg_int.h"
#include "sim_mech.h"

#define SEED_MAX SIM_CFG_SEED_MAX
#define TIME_MAX_NS SIM_CFG_TIME_MAX_NS

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
    char got[64], hint[512];
    if (!cJSON_IsString(v))
        return sim_cfg_err(w, "expected string, got %s", sim_json_got(v, got, sizeof got));
    if (sim_mech_find(v->valuestring))
        return 0;
    return sim_cfg_err(w, "unknown mechanism '%s' %s", v->valuestring,
                       sim_mech_hint(v->valuestring, hint, sizeof hint));
}

#define VA(field) offsetof(struct sim_cfg_variant, field)
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
    struct sim_cfg_point *t = obj;
    char got[64];
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return sim_cfg_err(w, "expected non-empty array of variants, got %s",
                           cJSON_IsArray(v) ? "[]" : sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n > SIM_CFG_MAX_VARIANTS)
        return sim_cfg_err(w, "expected at most %d variants, got %d", SIM_CFG_MAX_VARIANTS, n);
    const struct sim_mech *mech = w->mech;
    t->vset = mech ? mech->variant_set(w->doc) : NULL;
    int i = 0, before = w->nr_errs;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        struct sim_cfg_variant *var = &t->variants[i];
        memset(var, 0, sizeof *var);
        size_t mark = sim_cfg_push_index(w, i);
        if (sim_cfg_walk_object(w, c, k->sub, var) == 0) {
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
    struct sim_cfg_point *t = obj;
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
        if (sim_cfg_walk_object(w, c, k->sub, &mx) == 0) {
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
#define FAULT_KINDS "disk_error|disk_slow|host_crash|daemon_crash|partition|msg_loss|msg_delay|" \
                    "clock_pause"
#define FAULT_KIND_ROW \
    SIM_KEY_ENUM_ROW("kind", SIM_KEY_REQ, F(kind), FAULT_KINDS, NULL, \
                     "what fails: a disk, a host, a daemon, the network or a host's clock")
/* A time row of a fault's table: key, flags, field, default, help. */
#define FAULT_TIME_ROW(nm, fl, field, dflt, hlp) \
    SIM_KEY_SCALAR_ROW(nm, fl, VM_PARAM_TIME, F(field), 0, TIME_MAX_NS, dflt, hlp)
/* The rows a host fault's instant takes: at, or a window to draw it in. */
#define FAULT_INSTANT_ROWS(what) \
    FAULT_TIME_ROW("at", 0, f.at_ns, NULL, "the instant " what " (or a window: from, until)"), \
    FAULT_TIME_ROW("from", 0, f.from_ns, NULL, \
                   "window start: the instant is drawn in [from, until) from the seed"), \
    FAULT_TIME_ROW("until", 0, f.until_ns, NULL, "window end")
/* A message fault's window and hosts. */
#define FAULT_MSG_ROWS(fl, a_help, b_help) \
    SIM_KEY_STR_ROW("a", fl, sim_cfg_set_str, F(f.a), SIM_NAME_MAX, a_help), \
    SIM_KEY_STR_ROW("b", fl, sim_cfg_set_str, F(f.b), SIM_NAME_MAX, b_help), \
    FAULT_TIME_ROW("from", 0, f.from_ns, "0ns", "window start (send time)"), \
    FAULT_TIME_ROW("until", 0, f.until_ns, NULL, "window end (default: the end of the run)")

static const struct sim_key fault_error_keys[] = {
    FAULT_KIND_ROW,
    SIM_KEY_ENUM_ROW("op", 0, F(op), "read|write", "write", "which I/Os fail"),
    SIM_KEY_SCALAR_ROW("after_ios", 0, VM_PARAM_U64, F(f.after_ios), 0, SEED_MAX, "0",
                       "I/Os that succeed first"),
    SIM_KEY_SCALAR_ROW("count", 0, VM_PARAM_U64, F(f.count), 0, SEED_MAX, "0",
                       "I/Os that fail (0: every one after)"),
    SIM_KEY_END,
};
static const struct sim_key fault_slow_keys[] = {
    FAULT_KIND_ROW,
    SIM_KEY_SCALAR_ROW("factor", SIM_KEY_REQ, VM_PARAM_DOUBLE, F(f.factor), 1, 1e6, NULL,
                       "latency multiplier"),
    FAULT_TIME_ROW("from", 0, f.from_ns, "0ns", "window start"),
    FAULT_TIME_ROW("until", 0, f.until_ns, NULL, "window end (default: the end of the run)"),
    SIM_KEY_END,
};
static const struct sim_key fault_crash_keys[] = {
    FAULT_KIND_ROW,
    FAULT_INSTANT_ROWS("the host crashes"),
    FAULT_TIME_ROW("restart_after", 0, f.restart_after_ns, "5s",
                   "down time before the host restarts and recovers"),
    SIM_KEY_STR_ROW("host", 0, sim_cfg_set_str, F(f.host), SIM_NAME_MAX,
                    "the host that crashes (default: the experiment's)"),
    SIM_KEY_END,
};
static const struct sim_key fault_daemon_keys[] = {
    FAULT_KIND_ROW,
    SIM_KEY_STR_ROW("host", SIM_KEY_REQ, sim_cfg_set_str, F(f.host), SIM_NAME_MAX,
                    "the host whose management daemon dies (the host and its VMs stay up)"),
    FAULT_INSTANT_ROWS("the daemon dies"),
    FAULT_TIME_ROW("restart_after", 0, f.restart_after_ns, "5s",
                   "down time before the daemon restarts"),
    SIM_KEY_END,
};
static const struct sim_key fault_partition_keys[] = {
    FAULT_KIND_ROW,
    FAULT_MSG_ROWS(SIM_KEY_REQ, "one side: a host id",
                   "the other side: another host id (may be the storage host)"),
    SIM_KEY_END,
};
static const struct sim_key fault_loss_keys[] = {
    FAULT_KIND_ROW,
    SIM_KEY_SCALAR_ROW("p", SIM_KEY_REQ, VM_PARAM_DOUBLE, F(f.p), 0, 1, NULL,
                       "probability each message is lost (a seeded draw)"),
    FAULT_MSG_ROWS(0, "one end: a host id (default: any host)",
                   "the other end: a host id (default: any host)"),
    SIM_KEY_END,
};
static const struct sim_key fault_delay_keys[] = {
    FAULT_KIND_ROW,
    SIM_KEY_SCALAR_ROW("delay", SIM_KEY_REQ, VM_PARAM_TIME, F(f.delay_ns), 1, TIME_MAX_NS,
                       NULL, "extra delay of each message"),
    FAULT_MSG_ROWS(0, "one end: a host id (default: any host)",
                   "the other end: a host id (default: any host)"),
    SIM_KEY_END,
};
static const struct sim_key fault_pause_keys[] = {
    FAULT_KIND_ROW,
    SIM_KEY_STR_ROW("host", SIM_KEY_REQ, sim_cfg_set_str, F(f.host), SIM_NAME_MAX,
                    "the host whose processes freeze"),
    FAULT_INSTANT_ROWS("the host freezes"),
    SIM_KEY_SCALAR_ROW("duration", SIM_KEY_REQ, VM_PARAM_TIME, F(f.duration_ns), 1,
                       TIME_MAX_NS, NULL, "how long it stays frozen before carrying on"),
    SIM_KEY_END,
};
/* In the order of FAULT_KINDS (enum sim_fault_kind). */
static const struct sim_key *const fault_kinds[SIM_FAULT_NR + 1] = {
    [SIM_FAULT_DISK_ERROR] = fault_error_keys,      [SIM_FAULT_DISK_SLOW] = fault_slow_keys,
    [SIM_FAULT_HOST_CRASH] = fault_crash_keys,      [SIM_FAULT_DAEMON_CRASH] = fault_daemon_keys,
    [SIM_FAULT_PARTITION] = fault_partition_keys,   [SIM_FAULT_MSG_LOSS] = fault_loss_keys,
    [SIM_FAULT_MSG_DELAY] = fault_delay_keys,       [SIM_FAULT_CLOCK_PAUSE] = fault_pause_keys,
    [SIM_FAULT_NR] = NULL,
};

/* A host fault's instant: "at", or a window "from" < "until"; not both. */
static int check_instant(struct sim_cfg_walk *w, const cJSON *c, struct faultx *fx)
{
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(c, "at");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(c, "from");
    const cJSON *until = cJSON_GetObjectItemCaseSensitive(c, "until");
    size_t m;
    int rc;

    if (at && (from || until)) {
        m = sim_cfg_push_key(w, "at");
        rc = sim_cfg_err(w, "expected either 'at' or a window 'from'..'until', not both");
        sim_cfg_pop(w, m);
        return rc;
    }
    if (at)
        return 0;
    if (!from && !until)
        return sim_cfg_err(w, "missing required key 'at' (or a window: 'from' and 'until')");
    if (!from || !until)
        return sim_cfg_err(w, "missing required key '%s' (a window needs 'from' and 'until')",
                           from ? "until" : "from");
    fx->f.drawn = true;
    return 0;
}

/* A window's "until" (when given) must come after its "from". */
static int check_window(struct sim_cfg_walk *w, const cJSON *c, const struct faultx *fx)
{
    const cJSON *until = cJSON_GetObjectItemCaseSensitive(c, "until");
    char got[64];
    if (!until || fx->f.until_ns > fx->f.from_ns)
        return 0;
    size_t m = sim_cfg_push_key(w, "until");
    int rc = sim_cfg_err(w, "expected time after 'from', got %s",
                         sim_json_got(until, got, sizeof got));
    sim_cfg_pop(w, m);
    return rc;
}

/* The kind's own cross-key checks, after its rows walked clean. */
static int check_kind(struct sim_cfg_walk *w, const cJSON *c, struct faultx *fx)
{
    unsigned bit = SIM_FAULT_BIT(fx->kind);
    if ((bit & SIM_FAULT_HOST_KINDS) && check_instant(w, c, fx))
        return VM_EINVAL;
    if (check_window(w, c, fx))
        return VM_EINVAL;
    if (fx->kind == SIM_FAULT_PARTITION && strcmp(fx->f.a, fx->f.b) == 0) {
        size_t m = sim_cfg_push_key(w, "b");
        int rc = sim_cfg_err(w, "a partition of a host with itself ('%s'): expected another "
                             "host than 'a'", fx->f.b);
        sim_cfg_pop(w, m);
        return rc;
    }
    return 0;
}

/* One fault: its kind picks the table; the mechanism must take it. */
static void walk_fault(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *c,
                       struct sim_cfg_point *t)
{
    struct faultx fx = { 0 };
    char got[64], kinds[256];
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
    int rc = sim_cfg_set_param(w, &k->kinds[0][0], kind, &fx);
    sim_cfg_pop(w, m2);
    if (rc)
        return;
    fx.f.until_ns = UINT64_MAX;         /* a window without until: to the end */
    sim_cfg_apply_defaults(k->kinds[fx.kind], &fx);
    if (sim_cfg_walk_kind(w, c, k->kinds, fx.kind, &fx))
        return;
    fx.f.kind = (enum sim_fault_kind)fx.kind;
    fx.f.on_write = fx.op == 1;
    if (check_kind(w, c, &fx))
        return;
    /* a well-formed fault the run would not apply: refused, never ignored */
    const struct sim_mech *mech = w->mech;
    if (mech && !(mech->fault_kinds & SIM_FAULT_BIT(fx.kind))) {
        m2 = sim_cfg_push_key(w, "kind");
        sim_cfg_err(w, "mechanism '%s' does not take %s faults (it takes: %s)", mech->name,
                    sim_fault_kind_name(fx.kind),
                    sim_fault_kinds_text(mech->fault_kinds, kinds, sizeof kinds));
        sim_cfg_pop(w, m2);
        return;
    }
    t->e.faults[t->e.nr_faults++] = fx.f;
}

static int set_faults(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct sim_cfg_point *t = obj;
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

#define T(field) offsetof(struct sim_cfg_point, field)
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
      .p = { .name = "sweep", .help = "[{path, values, label, with: [{path, values}]}]: a "
                   "cartesian product; \"with\" paths change with their entry" } },
    SIM_KEY_ARR_ROW("metrics", SIM_KEY_NOSWEEP, set_metrics, metric_keys, NULL,
                    "what vmsim check compares, with tolerances"),
    SIM_KEY_ARR_ROW("faults", 0, set_faults, fault_error_keys, fault_kinds,
                    "injected disk errors and slow windows, host and daemon crashes, network "
                    "partitions, message loss and delay, clock pauses (the kinds the "
                    "mechanism takes)"),
    { .name = "quick", .flags = SIM_KEY_NOSWEEP | SIM_KEY_NOSET, .shape = SIM_KEY_FREE,
      .set = sim_cfg_set_skip,
      .p = { .name = "quick", .help = "{path: value} overrides applied by --quick" } },
    SIM_KEY_END,
};

/* ------------------------------------------------------------ one point */

int sim_cfg_walk_point(struct sim_cfg_walk *w, const cJSON *doc, struct sim_cfg_point *t)
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

