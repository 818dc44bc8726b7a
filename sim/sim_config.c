/*
 * sim_config.c - experiment configs: load the JSON, apply --quick, --set
 * and --seed, validate it from key tables, expand sweep x variants into
 * run points (struct sim_exp).  The schema is in sim_exp.h.
 *
 * Based on fio's option tables (one row per key: name, type, range,
 * default, where it goes; fixup_options() keeps going after an error with
 * `ret |= 1`) and git's config errors (file, location, what was expected).
 * Every problem is one line "FILE: $.json.path: expected ..., got ...".
 *
 * Overrides and sweep values are applied to the JSON tree, then the tree
 * is validated as a whole; a remap table turns a path inside an applied
 * value back into where the value came from ("--set vm.memory",
 * "$.sweep[0].values[2]", "$.quick[\"vm.memory\"]"), so an error names
 * what the user wrote.  A path is first checked against the key tables,
 * so a typo in a sweep or --set path is an unknown key, not a new key.
 *
 * workload is flat, its keys depend on kind:
 *   { "kind": "synthetic", "pattern": "zipf", "footprint": "2GiB", ... }
 *   { "kind": "trace", "file": "../traces/x.pagetrace.gz", "loop": true }
 * faults likewise depend on kind (disk_error: op, after_ios, count;
 * disk_slow: factor, from, until).
 *
 * Not done here: the platform's hosts and disks and the trace contents
 * are checked only by sim_config_validate() (they need SimGrid or a full
 * read of the trace).
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/vm_units.h"
#include "sim_config.h"
#include "sim_json.h"
#include "sim_metrics.h"
#include "sim_trace.h"
#include "sim_world.h"

#define MAX_POINTS 10000
#define MAX_VARIANTS 64
#define MAX_REMAPS 128
#define SEED_MAX 9007199254740991.0        /* 2^53 - 1: exact in a JSON number */
#define TIME_MAX_NS 86400e9                /* one day */

/* Copy src into dst[cap], truncated and always terminated. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ------------------------------------------------------------ diag list */

void sim_diag_list_add(struct sim_diag_list *l, const char *fmt, ...)
{
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->lines[i], line) == 0) {
            free(line);                     /* the same problem seen from another point */
            return;
        }
    char **nl = realloc(l->lines, sizeof *nl * (size_t)(l->n + 1));
    if (!nl) {
        free(line);
        return;
    }
    l->lines = nl;
    l->lines[l->n++] = line;
}

void sim_diag_list_free(struct sim_diag_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->lines[i]);
    free(l->lines);
    l->lines = NULL;
    l->n = 0;
}

/* ------------------------------------------------------------ walk state */

struct variant {
    char name[SIM_NAME_MAX];
    char policy[SIM_NAME_MAX];
    const cJSON *params;
    struct ckpt_cfg save;
    struct ckpt_restore_cfg restore;
};

/* What one walk over a (sweep point's) config fills: the run point minus
 * its variant, plus enum indexes that have no field in struct sim_exp. */
struct tmpl {
    struct sim_exp e;
    char description[256];
    int mechanism, phase, wl_kind, wl_pattern, wl_format;
    struct variant variants[MAX_VARIANTS];
    int nr_variants;
    struct sim_exp_metric metrics[SIM_MAX_METRICS];
    int nr_metrics;
    bool from_given;
    char from_policy[SIM_NAME_MAX];
    const cJSON *from_params;
    struct ckpt_cfg from_save;
};

struct remap {
    char from[256];                     /* "$.vm.memory" */
    char to[256];                       /* "--set vm.memory" */
};

struct walk {
    const char *file;                   /* as given, for messages */
    char dir[SIM_PATH_MAX];             /* the config's directory, absolute */
    struct sim_json_pathbuf path;
    struct sim_diag_list *errs;
    int nr_errs;
    int first_code;
    struct remap remaps[MAX_REMAPS];
    int nr_remaps;
    const cJSON *doc;                   /* the tree being walked */
};

/* Where the current path came from: the longest remap that is a prefix
 * of it at a segment boundary. */
static const char *located(const struct walk *w, const char *path, char *buf, size_t len)
{
    const struct remap *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < w->nr_remaps; i++) {
        const struct remap *r = &w->remaps[i];
        size_t n = strlen(r->from);
        if (strncmp(path, r->from, n) == 0 && (path[n] == '\0' || path[n] == '.' ||
                                                path[n] == '[') && n > best_len) {
            best = r;
            best_len = n;
        }
    }
    if (!best)
        return path;
    snprintf(buf, len, "%s%s", best->to, path + best_len);
    return buf;
}

static int vwerr_at(struct walk *w, int code, const char *where, const char *fmt, va_list ap)
{
    char msg[768], loc[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    sim_diag_list_add(w->errs, "%s: %s: %s", w->file, located(w, where, loc, sizeof loc), msg);
    if (w->nr_errs++ == 0)
        w->first_code = code;
    return code;
}

static int werr_at(struct walk *w, int code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int werr_at(struct walk *w, int code, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwerr_at(w, code, where, fmt, ap);
    va_end(ap);
    return code;
}

/* An error at the current JSON path. */
static int werr(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int werr(struct walk *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwerr_at(w, VM_EINVAL, w->path.text, fmt, ap);
    va_end(ap);
    return VM_EINVAL;
}

/* Add a remap for an override applied at `from`; remaps below it are
 * overwritten by the new value and go. */
static void remap_add(struct walk *w, const char *from, const char *to)
{
    size_t n = strlen(from);
    int j = 0;
    for (int i = 0; i < w->nr_remaps; i++) {
        const char *f = w->remaps[i].from;
        bool below = strncmp(f, from, n) == 0 && (f[n] == '\0' || f[n] == '.' || f[n] == '[');
        if (!below)
            w->remaps[j++] = w->remaps[i];
    }
    w->nr_remaps = j;
    if (w->nr_remaps == MAX_REMAPS)
        return;
    struct remap *r = &w->remaps[w->nr_remaps++];
    snprintf(r->from, sizeof r->from, "%s", from);
    snprintf(r->to, sizeof r->to, "%s", to);
}

/* ------------------------------------------------------------ suggestions */

static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

/* The closest of names[] within a third of the name's length (1..3
 * edits, so "x" does not suggest "zipf_s"), or NULL. */
static const char *suggest(const char *const *names, int n, const char *name)
{
    const char *best = NULL;
    int len = (int)strlen(name);
    int limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;   /* a third of the name */
    int best_d = limit + 1;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(names[i], name);
        if (d < best_d) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

/* ------------------------------------------------------------ key tables */

enum shape {
    SH_SCALAR,          /* a value */
    SH_OBJECT,          /* keys of `sub` (or of `alt`, by kind) */
    SH_ARRAY,           /* elements with the keys of `sub` / `alt` */
    SH_PARAMS,          /* a policy's vm_param table */
    SH_FREE,            /* anything (sweep, quick): not a path target */
};

#define K_REQ     0x1u  /* required */
#define K_EMBED   0x2u  /* object whose sub-table fills the same target */
#define K_NOSWEEP 0x4u  /* cannot be swept */
#define K_NOSET   0x8u  /* cannot be overridden */
#define K_FROM    0x10u /* params of restore.from (a save policy) */

struct key;
typedef int (*key_setter)(struct walk *w, const struct key *k, const cJSON *v, void *obj);

struct key {
    const char *name;
    unsigned flags;
    enum shape shape;
    key_setter set;
    struct vm_param p;          /* scalars: type, offset, range, default */
    const struct key *sub;      /* objects and array elements: their keys */
    const struct key *alt;      /* kinded objects: the other kind's keys */
    size_t len;                 /* strings: capacity of the char array */
};

static int set_param(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_str(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_text(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_name(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_label(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_path(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_object(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_vm(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_content(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_workload(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_from(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_variants(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_metrics(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_metric_name(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_faults(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static int set_skip(struct walk *w, const struct key *k, const cJSON *v, void *obj);

#define T(field) offsetof(struct tmpl, field)
#define SCALAR(nm, fl, ty, off_, lo, hi, dflt)                                          \
    { .name = nm, .flags = fl, .shape = SH_SCALAR, .set = set_param,                     \
      .p = { .name = nm, .type = ty, .off = off_, .min = lo, .max = hi, .def = dflt } }
#define ENUMK(nm, fl, off_, ch, dflt)                                                   \
    { .name = nm, .flags = fl, .shape = SH_SCALAR, .set = set_param,                     \
      .p = { .name = nm, .type = VM_PARAM_ENUM, .off = off_, .choices = ch, .def = dflt } }
#define STRK(nm, fl, fn, off_, cap)                                                     \
    { .name = nm, .flags = fl, .shape = SH_SCALAR, .set = fn, .p = { .name = nm, .off = off_ }, \
      .len = cap }
#define OBJK(nm, fl, fn, tab, alt_)                                                     \
    { .name = nm, .flags = fl, .shape = SH_OBJECT, .set = fn, .sub = tab, .alt = alt_ }
#define ARRK(nm, fl, fn, tab, alt_)                                                     \
    { .name = nm, .flags = fl, .shape = SH_ARRAY, .set = fn, .sub = tab, .alt = alt_ }

static const struct key content_keys[] = {
    SCALAR("zero", 0, VM_PARAM_DOUBLE, T(e.vm.content[SIM_CONTENT_ZERO]), 0, 1, NULL),
    SCALAR("text", 0, VM_PARAM_DOUBLE, T(e.vm.content[SIM_CONTENT_TEXT]), 0, 1, NULL),
    SCALAR("code", 0, VM_PARAM_DOUBLE, T(e.vm.content[SIM_CONTENT_CODE]), 0, 1, NULL),
    SCALAR("random", 0, VM_PARAM_DOUBLE, T(e.vm.content[SIM_CONTENT_RANDOM]), 0, 1, NULL),
    { NULL },
};

static const struct key vm_keys[] = {
    SCALAR("memory", K_REQ, VM_PARAM_SIZE, T(e.vm.memory_bytes), 1 << 20, 0, NULL),
    OBJK("content", 0, set_content, content_keys, NULL),
    SCALAR("fragmentation", 0, VM_PARAM_DOUBLE, T(e.vm.fragmentation), 0, 1, "0"),
    { NULL },
};

#define WORKLOAD_KINDS "synthetic|trace"
static const struct key synthetic_keys[] = {
    ENUMK("kind", K_REQ, T(wl_kind), WORKLOAD_KINDS, NULL),
    STRK("name", 0, set_label, T(e.workload.name), SIM_NAME_MAX),
    ENUMK("pattern", K_REQ, T(wl_pattern), "uniform|zipf|sequential|strided", NULL),
    SCALAR("footprint", 0, VM_PARAM_SIZE, T(e.workload.footprint_bytes), VM_PAGE_SIZE, 0,
           NULL),
    SCALAR("zipf_s", 0, VM_PARAM_DOUBLE, T(e.workload.zipf_s), 0, 5, "0.99"),
    SCALAR("stride", 0, VM_PARAM_U64, T(e.workload.stride_pages), 1, 1ull << 32, "16"),
    SCALAR("write_fraction", 0, VM_PARAM_DOUBLE, T(e.workload.write_fraction), 0, 1, "0.2"),
    SCALAR("access_time", 0, VM_PARAM_TIME, T(e.workload.access_ns), 0, 1e9, "100ns"),
    { NULL },
};

static const struct key trace_keys[] = {
    ENUMK("kind", K_REQ, T(wl_kind), WORKLOAD_KINDS, NULL),
    STRK("name", 0, set_label, T(e.workload.name), SIM_NAME_MAX),
    STRK("file", K_REQ, set_path, T(e.workload.file), SIM_PATH_MAX),
    ENUMK("format", 0, T(wl_format), "auto|pagetrace|lackey", "auto"),
    SCALAR("access_time", 0, VM_PARAM_TIME, T(e.workload.access_ns), 0, 1e9, "2ns"),
    SCALAR("loop", 0, VM_PARAM_BOOL, T(e.workload.loop), 0, 0, "true"),
    { NULL },
};

static const struct key cost_keys[] = {
    SCALAR("trace_fault", 0, VM_PARAM_TIME, T(e.costs.trace_fault_ns), 0, 1e9, "2us"),
    SCALAR("page_copy", 0, VM_PARAM_TIME, T(e.costs.page_copy_ns), 0, 1e9, "250ns"),
    SCALAR("compress", 0, VM_PARAM_RATE, T(e.costs.compress_bps), 1, 1e15, "510MB/s"),
    SCALAR("decompress", 0, VM_PARAM_RATE, T(e.costs.decompress_bps), 1, 1e15, "1550MB/s"),
    SCALAR("trace_arm", 0, VM_PARAM_TIME, T(e.costs.trace_arm_ns), 0, 1e9, "2ns"),
    SCALAR("device_state", 0, VM_PARAM_TIME, T(e.costs.device_state_ns), 0, 3600e9, "5ms"),
    SCALAR("page_install", 0, VM_PARAM_TIME, T(e.costs.page_install_ns), 0, 1e9, "250ns"),
    { NULL },
};

static const struct key save_keys[] = {
    SCALAR("warmup", 0, VM_PARAM_TIME, T(e.warmup_ns), 0, TIME_MAX_NS, "50ms"),
    { NULL },
};

static const struct key from_keys[] = {
    STRK("policy", 0, set_str, T(from_policy), SIM_NAME_MAX),
    { .name = "params", .flags = K_FROM, .shape = SH_PARAMS, .set = set_skip },
    { NULL },
};

static const struct key restore_keys[] = {
    OBJK("from", 0, set_from, from_keys, NULL),
    SCALAR("ttr_window", 0, VM_PARAM_TIME, T(e.ttr_window_ns), 1000, TIME_MAX_NS, "20ms"),
    SCALAR("ttr_stall", 0, VM_PARAM_DOUBLE, T(e.ttr_stall), 0, 1, "0.1"),
    SCALAR("run_time", 0, VM_PARAM_TIME, T(e.run_time_ns), 0, TIME_MAX_NS, "2s"),
    { NULL },
};

#define V(field) offsetof(struct variant, field)
static const struct key variant_keys[] = {
    STRK("name", K_REQ, set_label, V(name), SIM_NAME_MAX),
    STRK("policy", K_REQ, set_str, V(policy), SIM_NAME_MAX),
    { .name = "params", .shape = SH_PARAMS, .set = set_skip },
    { NULL },
};

struct metricx {
    struct sim_exp_metric m;
    int direction;              /* 0 lower, 1 higher */
};
#define M(field) offsetof(struct metricx, field)
static const struct key metric_keys[] = {
    STRK("name", K_REQ, set_metric_name, M(m.name), SIM_NAME_MAX),
    ENUMK("direction", K_REQ, M(direction), "lower|higher", NULL),
    SCALAR("tolerance", 0, VM_PARAM_DOUBLE, M(m.tolerance), 0, 1e6, "0.05"),
    SCALAR("abs_tolerance", 0, VM_PARAM_DOUBLE, M(m.abs_tolerance), 0, 1e300, "0"),
    { NULL },
};

struct faultx {
    struct sim_exp_fault f;
    int kind;                   /* enum sim_fault_kind */
    int op;                     /* 0 read, 1 write */
};
#define F(field) offsetof(struct faultx, field)
#define FAULT_KINDS "disk_error|disk_slow"
static const struct key fault_error_keys[] = {
    ENUMK("kind", K_REQ, F(kind), FAULT_KINDS, NULL),
    ENUMK("op", 0, F(op), "read|write", "write"),
    SCALAR("after_ios", 0, VM_PARAM_U64, F(f.after_ios), 0, SEED_MAX, "0"),
    SCALAR("count", 0, VM_PARAM_U64, F(f.count), 0, SEED_MAX, "0"),
    { NULL },
};
static const struct key fault_slow_keys[] = {
    ENUMK("kind", K_REQ, F(kind), FAULT_KINDS, NULL),
    SCALAR("factor", K_REQ, VM_PARAM_DOUBLE, F(f.factor), 1, 1e6, NULL),
    SCALAR("from", 0, VM_PARAM_TIME, F(f.from_ns), 0, TIME_MAX_NS, "0ns"),
    SCALAR("until", 0, VM_PARAM_TIME, F(f.until_ns), 0, TIME_MAX_NS, NULL),
    { NULL },
};

static const struct key top_keys[] = {
    STRK("name", K_REQ | K_NOSWEEP, set_name, T(e.name), SIM_NAME_MAX),
    STRK("description", 0, set_text, T(description), 256),
    SCALAR("seed", 0, VM_PARAM_U64, T(e.seed), 0, SEED_MAX, "1"),
    ENUMK("mechanism", K_REQ, T(mechanism), "checkpoint", NULL),
    { .name = "phase", .flags = K_NOSWEEP, .shape = SH_SCALAR, .set = set_param,
      .p = { .name = "phase", .type = VM_PARAM_ENUM, .off = T(phase), .choices = "save|restore",
             .def = "save" } },
    STRK("platform", K_REQ, set_path, T(e.platform), SIM_PATH_MAX),
    STRK("host", 0, set_str, T(e.host), SIM_NAME_MAX),
    STRK("disk", 0, set_str, T(e.disk), SIM_NAME_MAX),
    OBJK("vm", K_REQ | K_EMBED, set_vm, vm_keys, NULL),
    OBJK("workload", K_REQ, set_workload, synthetic_keys, trace_keys),
    OBJK("costs", K_EMBED, set_object, cost_keys, NULL),
    OBJK("save", K_EMBED, set_object, save_keys, NULL),
    OBJK("restore", K_EMBED, set_object, restore_keys, NULL),
    ARRK("variants", K_REQ, set_variants, variant_keys, NULL),
    { .name = "sweep", .flags = K_NOSWEEP, .shape = SH_FREE, .set = set_skip },
    ARRK("metrics", K_NOSWEEP, set_metrics, metric_keys, NULL),
    ARRK("faults", 0, set_faults, fault_error_keys, fault_slow_keys),
    { .name = "quick", .flags = K_NOSWEEP | K_NOSET, .shape = SH_FREE, .set = set_skip },
    { NULL },
};

/* sweep entries: checked on the config itself, not on each point */
struct sweepx {
    char path[256];
    char label[SIM_NAME_MAX];
    const cJSON *values;
};
#define S(field) offsetof(struct sweepx, field)
static int set_values(struct walk *w, const struct key *k, const cJSON *v, void *obj);
static const struct key sweep_keys[] = {
    STRK("path", K_REQ, set_str, S(path), 256),
    { .name = "values", .flags = K_REQ, .shape = SH_SCALAR, .set = set_values },
    STRK("label", 0, set_label, S(label), SIM_NAME_MAX),
    { NULL },
};

static const struct key *find_key(const struct key *tab, const char *name)
{
    for (const struct key *k = tab; k && k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

/* "unknown key 'x' (did you mean 'y'?)" from one or two tables; `in`
 * names the override path the key is part of (or NULL). */
static void unknown_key_msg(const struct key *tab, const struct key *alt, const char *name,
                            const char *in, char *buf, size_t len)
{
    char where[300] = "";
    if (in)
        snprintf(where, sizeof where, " in '%s'", in);
    const char *names[64];
    int n = 0;
    for (const struct key *k = tab; k && k->name && n < 64; k++)
        names[n++] = k->name;
    for (const struct key *k = alt; k && k->name && n < 64; k++)
        names[n++] = k->name;
    const char *s = suggest(names, n, name);
    if (s)
        snprintf(buf, len, "unknown key '%s'%s (did you mean '%s'?)", name, where, s);
    else
        snprintf(buf, len, "unknown key '%s'%s", name, where);
}

static void param_unknown_msg(const struct vm_param *tab, const char *policy, const char *name,
                              const char *in, char *buf, size_t len)
{
    char where[300] = "";
    if (in)
        snprintf(where, sizeof where, " in '%s'", in);
    if (!tab || !tab->name) {
        snprintf(buf, len, "unknown key '%s'%s (policy '%s' takes no parameters)", name, where,
                 policy);
        return;
    }
    const char *s = vm_param_suggest(tab, name);
    if (s) {
        snprintf(buf, len, "unknown key '%s'%s (did you mean '%s'?)", name, where, s);
        return;
    }
    size_t o = (size_t)snprintf(buf, len, "unknown key '%s'%s (policy '%s' takes: ", name, where,
                                policy);
    for (const struct vm_param *p = tab; p->name && o < len; p++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", p == tab ? "" : ", ", p->name);
    if (o < len)
        snprintf(buf + o, len - o, ")");
}

/* "stopcopy, lazypage, buffered" (hidden test policies left out). */
static void known_policies(bool restore, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    if (restore) {
        for (int i = 0; ckpt_restore_policies[i] && o < len; i++)
            if (!(ckpt_restore_policies[i]->flags & CKPT_F_HIDDEN))
                o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
                                      ckpt_restore_policies[i]->name);
    } else {
        for (int i = 0; ckpt_save_policies[i] && o < len; i++)
            if (!(ckpt_save_policies[i]->flags & CKPT_F_HIDDEN))
                o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
                                      ckpt_save_policies[i]->name);
    }
}

/* ------------------------------------------------------------ setters */

static int param_from_text(const struct vm_param *p, void *obj, const char *text,
                           struct vm_diag *d)
{
    switch (p->type) {
    case VM_PARAM_U32:
    case VM_PARAM_U64:
    case VM_PARAM_DOUBLE:
        return vm_param_set_number(p, obj, strtod(text, NULL), d);
    case VM_PARAM_BOOL:
        return vm_param_set_bool(p, obj, strcmp(text, "true") == 0, d);
    default:
        return vm_param_set_string(p, obj, text, d);
    }
}

/* Set one vm_param row from a JSON value (config keys and policy params). */
static int set_value(struct walk *w, const struct vm_param *p, const cJSON *v, void *obj)
{
    struct vm_diag d = { 0 };
    int rc;
    if (cJSON_IsNumber(v)) {
        rc = vm_param_set_number(p, obj, v->valuedouble, &d);
    } else if (cJSON_IsString(v)) {
        rc = vm_param_set_string(p, obj, v->valuestring, &d);
    } else if (cJSON_IsBool(v)) {
        rc = vm_param_set_bool(p, obj, cJSON_IsTrue(v), &d);
    } else {
        char exp[128], got[64];
        return werr(w, "expected %s, got %s", vm_param_expects(p, exp, sizeof exp),
                    sim_json_got(v, got, sizeof got));
    }
    if (rc)
        return werr(w, "%s", d.msg[0] ? d.msg : vm_strerror(rc));
    return 0;
}

static int set_param(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    return set_value(w, &k->p, v, obj);
}

static int set_skip(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    return 0;
}

static int set_str(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    char got[64];
    if (!cJSON_IsString(v))
        return werr(w, "expected string, got %s", sim_json_got(v, got, sizeof got));
    size_t n = strlen(v->valuestring);
    if (n >= k->len)
        return werr(w, "expected string of at most %zu characters, got %zu", k->len - 1, n);
    memcpy((char *)obj + k->p.off, v->valuestring, n + 1);
    return 0;
}

/* Free text kept whole in the config echo; the struct holds its start. */
static int set_text(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    char got[64];
    if (!cJSON_IsString(v))
        return werr(w, "expected string, got %s", sim_json_got(v, got, sizeof got));
    copy_str((char *)obj + k->p.off, k->len, v->valuestring);
    return 0;
}

static bool all_chars(const char *s, const char *extra, bool upper_ok)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(islower(c) || isdigit(c) || (upper_ok && isupper(c)) || strchr(extra, c)))
            return false;
    }
    return true;
}

/* The experiment's name: it names the output directory and the CSV. */
static int set_name(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    char got[64];
    if (cJSON_IsString(v) && !all_chars(v->valuestring, "_-", false))
        return werr(w, "expected name of characters a-z 0-9 _ -, got %s",
                    sim_json_got(v, got, sizeof got));
    return set_str(w, k, v, obj);
}

/* Variant names, sweep labels, workload names: they make up record ids
 * ("variant/key=value") and CSV cells, so no '/', '=', ',' or spaces. */
static int set_label(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    char got[64];
    if (cJSON_IsString(v) && !all_chars(v->valuestring, "_-.+", true))
        return werr(w, "expected name of characters A-Z a-z 0-9 _ - . +, got %s",
                    sim_json_got(v, got, sizeof got));
    return set_str(w, k, v, obj);
}

/* A file relative to the config's directory, resolved to an absolute path. */
static int set_path(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    char got[64], joined[2 * SIM_PATH_MAX], abs_path[PATH_MAX];
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return werr(w, "expected file path, got %s", sim_json_got(v, got, sizeof got));
    const char *s = v->valuestring;
    if (s[0] == '/')
        snprintf(joined, sizeof joined, "%s", s);
    else
        snprintf(joined, sizeof joined, "%s/%s", w->dir, s);
    if (access(joined, R_OK) != 0 || !realpath(joined, abs_path)) {
        int e = errno;
        return werr_at(w, VM_ENOENT, w->path.text,
                       "expected a readable file, got \"%.300s\" (%s)", s, strerror(e));
    }
    if (strlen(abs_path) >= k->len)
        return werr(w, "expected a path of at most %zu characters, got %zu", k->len - 1,
                    strlen(abs_path));
    snprintf((char *)obj + k->p.off, k->len, "%s", abs_path);
    return 0;
}

static void apply_defaults(const struct key *tab, void *obj)
{
    for (const struct key *k = tab; k->name; k++) {
        if (k->shape == SH_OBJECT && (k->flags & K_EMBED))
            apply_defaults(k->sub, obj);
        if (k->set != set_param || !k->p.def)
            continue;
        struct vm_diag d = { 0 };
        int rc = param_from_text(&k->p, obj, k->p.def, &d);
        /* the defaults are this file's own constants */
        assert(rc == 0 && "a default in sim_config.c's key tables does not parse");
        (void)rc;
    }
}

/*
 * Walk an object against a table (and, for kinded objects, say which
 * kind a key of `alt` belongs to).  Keeps going after an error.
 */
static int walk_object(struct walk *w, const cJSON *v, const struct key *tab,
                       const struct key *alt, const char *kind, const char *alt_kind, void *obj)
{
    char got[64];
    int before = w->nr_errs;
    if (!cJSON_IsObject(v))
        return werr(w, "expected object, got %s", sim_json_got(v, got, sizeof got));
    for (const cJSON *c = v->child; c; c = c->next) {
        for (const cJSON *o = v->child; o != c; o = o->next)
            if (strcmp(o->string, c->string) == 0) {
                werr(w, "duplicate key '%s'", c->string);
                break;
            }
        if (find_key(tab, c->string))
            continue;
        if (alt && find_key(alt, c->string)) {
            werr(w, "key '%s' is for kind '%s', not '%s'", c->string, alt_kind, kind);
            continue;
        }
        char msg[256];
        unknown_key_msg(tab, NULL, c->string, NULL, msg, sizeof msg);
        werr(w, "%s", msg);
    }
    for (const struct key *k = tab; k->name; k++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(v, k->name);
        if (!item) {
            if (k->flags & K_REQ)
                werr(w, "missing required key '%s'", k->name);
            continue;
        }
        size_t mark = sim_json_pathbuf_key(&w->path, k->name);
        k->set(w, k, item, obj);
        sim_json_pathbuf_pop(&w->path, mark);
    }
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

static int set_object(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    return walk_object(w, v, k->sub, NULL, NULL, NULL, obj);
}

static int set_vm(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    struct tmpl *t = obj;
    int rc = walk_object(w, v, k->sub, NULL, NULL, NULL, obj);
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(v, "memory");
    if (rc == 0 && t->e.vm.memory_bytes % VM_PAGE_SIZE) {
        char got[64];
        size_t mark = sim_json_pathbuf_key(&w->path, "memory");
        rc = werr(w, "expected size that is a multiple of 4KiB, got %s",
                  sim_json_got(mem, got, sizeof got));
        sim_json_pathbuf_pop(&w->path, mark);
    }
    return rc;
}

static int set_content(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    struct tmpl *t = obj;
    double saved[SIM_CONTENT_NR];
    memcpy(saved, t->e.vm.content, sizeof saved);
    for (int i = 0; i < SIM_CONTENT_NR; i++)
        t->e.vm.content[i] = 0;             /* classes not given are absent */
    int rc = walk_object(w, v, k->sub, NULL, NULL, NULL, obj);
    if (rc) {
        memcpy(t->e.vm.content, saved, sizeof saved);
        return rc;
    }
    double sum = 0;
    for (int i = 0; i < SIM_CONTENT_NR; i++)
        sum += t->e.vm.content[i];
    if (fabs(sum - 1.0) > 1e-6) {
        char s[32];
        return werr(w, "expected fractions summing to 1, got sum %s",
                    sim_json_fmt_number(sum, s, sizeof s));
    }
    return 0;
}

static int set_workload(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    struct tmpl *t = obj;
    char got[64];
    if (!cJSON_IsObject(v))
        return werr(w, "expected object, got %s", sim_json_got(v, got, sizeof got));
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(v, "kind");
    if (!kind)
        return werr(w, "missing required key 'kind'");
    size_t mark = sim_json_pathbuf_key(&w->path, "kind");
    int rc = set_param(w, find_key(synthetic_keys, "kind"), kind, obj);
    sim_json_pathbuf_pop(&w->path, mark);
    if (rc)
        return rc;
    bool trace = t->wl_kind == 1;
    const struct key *tab = trace ? trace_keys : synthetic_keys;
    apply_defaults(tab, obj);
    return walk_object(w, v, tab, trace ? synthetic_keys : trace_keys,
                       trace ? "trace" : "synthetic", trace ? "synthetic" : "trace", obj);
}

/* A policy's parameters: defaults from its table, then the given keys. */
static int walk_policy_params(struct walk *w, const char *policy, const struct vm_param *tab,
                              const cJSON *params, void *cfg)
{
    struct vm_diag d = { 0 };
    char got[64], msg[512];
    int before = w->nr_errs;
    if (tab && vm_param_defaults(tab, cfg, &d) != 0)
        return werr(w, "policy '%s' has a bad default: %s", policy, d.msg);
    if (!params)
        return 0;
    size_t mark = sim_json_pathbuf_key(&w->path, "params");
    if (!cJSON_IsObject(params)) {
        werr(w, "expected object, got %s", sim_json_got(params, got, sizeof got));
        sim_json_pathbuf_pop(&w->path, mark);
        return VM_EINVAL;
    }
    for (const cJSON *c = params->child; c; c = c->next) {
        bool dup = false;
        for (const cJSON *o = params->child; o != c; o = o->next)
            dup |= strcmp(o->string, c->string) == 0;
        if (dup) {
            werr(w, "duplicate key '%s'", c->string);
            continue;
        }
        const struct vm_param *p = tab ? vm_param_find(tab, c->string) : NULL;
        if (!p) {
            param_unknown_msg(tab, policy, c->string, NULL, msg, sizeof msg);
            werr(w, "%s", msg);
            continue;
        }
        size_t m2 = sim_json_pathbuf_key(&w->path, c->string);
        set_value(w, p, c, cfg);
        sim_json_pathbuf_pop(&w->path, m2);
    }
    sim_json_pathbuf_pop(&w->path, mark);
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

/* Resolve a save policy by name and fill cfg from params (at the current
 * path, which is the object holding "policy" and "params"). */
static int resolve_save(struct walk *w, const char *name, const cJSON *params,
                        struct ckpt_cfg *cfg)
{
    const struct ckpt_policy *pol = ckpt_save_policy_find(name);
    memset(cfg, 0, sizeof *cfg);
    if (!pol) {
        char known[512];
        known_policies(false, known, sizeof known);
        size_t mark = sim_json_pathbuf_key(&w->path, "policy");
        werr(w, "unknown policy '%s' (known: %s)", name, known);
        sim_json_pathbuf_pop(&w->path, mark);
        return VM_EINVAL;
    }
    return walk_policy_params(w, name, pol->params, params, cfg);
}

static int resolve_restore(struct walk *w, const char *name, const cJSON *params,
                           struct ckpt_restore_cfg *cfg)
{
    const struct ckpt_restore_policy *pol = ckpt_restore_policy_find(name);
    memset(cfg, 0, sizeof *cfg);
    if (!pol) {
        char known[512];
        known_policies(true, known, sizeof known);
        size_t mark = sim_json_pathbuf_key(&w->path, "policy");
        werr(w, "unknown policy '%s' (known: %s)", name, known);
        sim_json_pathbuf_pop(&w->path, mark);
        return VM_EINVAL;
    }
    return walk_policy_params(w, name, pol->params, params, cfg);
}

static int set_from(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    struct tmpl *t = obj;
    int rc = walk_object(w, v, k->sub, NULL, NULL, NULL, obj);
    if (rc)
        return rc;
    t->from_given = true;
    t->from_params = cJSON_GetObjectItemCaseSensitive(v, "params");
    return resolve_save(w, t->from_policy, t->from_params, &t->from_save);
}

static int set_variants(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    struct tmpl *t = obj;
    char got[64];
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return werr(w, "expected non-empty array of variants, got %s",
                    cJSON_IsArray(v) ? "[]" : sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n > MAX_VARIANTS)
        return werr(w, "expected at most %d variants, got %d", MAX_VARIANTS, n);
    int i = 0, before = w->nr_errs;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        struct variant *var = &t->variants[i];
        memset(var, 0, sizeof *var);
        size_t mark = sim_json_pathbuf_index(&w->path, i);
        if (walk_object(w, c, k->sub, NULL, NULL, NULL, var) == 0) {
            var->params = cJSON_GetObjectItemCaseSensitive(c, "params");
            for (int j = 0; j < i; j++)
                if (strcmp(t->variants[j].name, var->name) == 0) {
                    size_t m2 = sim_json_pathbuf_key(&w->path, "name");
                    werr(w, "duplicate variant name '%s' (also $.variants[%d].name)", var->name,
                         j);
                    sim_json_pathbuf_pop(&w->path, m2);
                    break;
                }
            if (t->phase == 1)
                resolve_restore(w, var->policy, var->params, &var->restore);
            else
                resolve_save(w, var->policy, var->params, &var->save);
        }
        sim_json_pathbuf_pop(&w->path, mark);
    }
    t->nr_variants = n;
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

static int set_metric_name(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    int rc = set_str(w, k, v, obj);
    if (rc)
        return rc;
    if (sim_metric_find(v->valuestring) >= 0)
        return 0;
    const char *names[SIM_M_NR];
    for (int i = 0; i < SIM_M_NR; i++)
        names[i] = sim_metric_info[i].name;
    const char *s = suggest(names, SIM_M_NR, v->valuestring);
    if (s)
        return werr(w, "unknown metric '%s' (did you mean '%s'?)", v->valuestring, s);
    return werr(w, "unknown metric '%s' (see 'vmsim list')", v->valuestring);
}

static int set_metrics(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    struct tmpl *t = obj;
    char got[64];
    if (!cJSON_IsArray(v))
        return werr(w, "expected array of metrics, got %s", sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n > SIM_MAX_METRICS)
        return werr(w, "expected at most %d metrics, got %d", SIM_MAX_METRICS, n);
    int i = 0, before = w->nr_errs;
    t->nr_metrics = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        struct metricx mx = { 0 };
        size_t mark = sim_json_pathbuf_index(&w->path, i);
        apply_defaults(k->sub, &mx);
        if (walk_object(w, c, k->sub, NULL, NULL, NULL, &mx) == 0) {
            mx.m.higher_is_better = mx.direction == 1;
            for (int j = 0; j < t->nr_metrics; j++)
                if (strcmp(t->metrics[j].name, mx.m.name) == 0) {
                    size_t m2 = sim_json_pathbuf_key(&w->path, "name");
                    werr(w, "duplicate metric '%s' (also $.metrics[%d].name)", mx.m.name, j);
                    sim_json_pathbuf_pop(&w->path, m2);
                    break;
                }
            t->metrics[t->nr_metrics++] = mx.m;
        }
        sim_json_pathbuf_pop(&w->path, mark);
    }
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

static int set_faults(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    struct tmpl *t = obj;
    char got[64];
    if (!cJSON_IsArray(v))
        return werr(w, "expected array of faults, got %s", sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n > SIM_MAX_FAULTS)
        return werr(w, "expected at most %d faults, got %d", SIM_MAX_FAULTS, n);
    int i = 0, before = w->nr_errs;
    t->e.nr_faults = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        struct faultx fx = { 0 };
        size_t mark = sim_json_pathbuf_index(&w->path, i);
        const cJSON *kind = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "kind") : NULL;
        if (!cJSON_IsObject(c)) {
            werr(w, "expected object, got %s", sim_json_got(c, got, sizeof got));
        } else if (!kind) {
            werr(w, "missing required key 'kind'");
        } else {
            size_t m2 = sim_json_pathbuf_key(&w->path, "kind");
            int rc = set_param(w, find_key(fault_error_keys, "kind"), kind, &fx);
            sim_json_pathbuf_pop(&w->path, m2);
            bool slow = fx.kind == SIM_FAULT_DISK_SLOW;
            const struct key *tab = slow ? fault_slow_keys : fault_error_keys;
            fx.f.until_ns = UINT64_MAX;     /* disk_slow without until: to the end */
            apply_defaults(tab, &fx);
            if (rc == 0 &&
                walk_object(w, c, tab, slow ? fault_error_keys : fault_slow_keys,
                            slow ? "disk_slow" : "disk_error", slow ? "disk_error" : "disk_slow",
                            &fx) == 0) {
                fx.f.kind = (enum sim_fault_kind)fx.kind;
                fx.f.on_write = fx.op == 1;
                if (slow && fx.f.until_ns <= fx.f.from_ns) {
                    m2 = sim_json_pathbuf_key(&w->path, "until");
                    werr(w, "expected time after 'from', got %s",
                         sim_json_got(cJSON_GetObjectItemCaseSensitive(c, "until"), got,
                                      sizeof got));
                    sim_json_pathbuf_pop(&w->path, m2);
                } else {
                    t->e.faults[t->e.nr_faults++] = fx.f;
                }
            }
        }
        sim_json_pathbuf_pop(&w->path, mark);
    }
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

static int set_values(struct walk *w, const struct key *k, const cJSON *v, void *obj)
{
    struct sweepx *sx = obj;
    char got[64];
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return werr(w, "expected non-empty array of values, got %s",
                    cJSON_IsArray(v) ? "[]" : sim_json_got(v, got, sizeof got));
    sx->values = v;
    return 0;
}

/* ------------------------------------------------------------ one point */

static const char *const pattern_names[] = { "uniform", "zipf", "sequential", "strided" };

static void tmpl_defaults(struct tmpl *t, const char *file)
{
    memset(t, 0, sizeof *t);
    snprintf(t->e.config_file, sizeof t->e.config_file, "%s", file);
    t->e.vm.content[SIM_CONTENT_ZERO] = 0.25;
    t->e.vm.content[SIM_CONTENT_TEXT] = 0.25;
    t->e.vm.content[SIM_CONTENT_CODE] = 0.10;
    t->e.vm.content[SIM_CONTENT_RANDOM] = 0.40;
    snprintf(t->from_policy, sizeof t->from_policy, "buffered");
    apply_defaults(top_keys, t);
}

/* Derived fields once the tree walked clean. */
static int finish_point(struct walk *w, struct tmpl *t)
{
    struct sim_exp *e = &t->e;
    e->restore_phase = t->phase == 1;
    e->workload.is_trace = t->wl_kind == 1;
    e->workload.pattern = (enum sim_pattern)t->wl_pattern;
    e->workload.format = (enum sim_trace_format)t->wl_format;
    if (!e->workload.is_trace &&
        (e->workload.footprint_bytes == 0 || e->workload.footprint_bytes > e->vm.memory_bytes))
        e->workload.footprint_bytes = e->vm.memory_bytes;
    if (e->workload.is_trace)
        e->workload.pattern = SIM_PAT_UNIFORM;
    if (!e->workload.name[0]) {
        if (e->workload.is_trace) {
            const char *base = strrchr(e->workload.file, '/');
            base = base ? base + 1 : e->workload.file;
            size_t n = strcspn(base, ".");
            if (n >= sizeof e->workload.name)
                n = sizeof e->workload.name - 1;
            memcpy(e->workload.name, base, n);
            e->workload.name[n] = '\0';
        } else {
            snprintf(e->workload.name, sizeof e->workload.name, "%s",
                     pattern_names[e->workload.pattern]);
        }
    }
    if (e->workload.pattern == SIM_PAT_ZIPF && e->workload.zipf_s <= 0) {
        size_t m = sim_json_pathbuf_key(&w->path, "workload");
        sim_json_pathbuf_key(&w->path, "zipf_s");
        werr(w, "expected number > 0 and <= 5, got 0");
        sim_json_pathbuf_pop(&w->path, m);
    }
    if (e->restore_phase && !t->from_given) {
        size_t m = sim_json_pathbuf_key(&w->path, "restore");
        sim_json_pathbuf_key(&w->path, "from");
        resolve_save(w, t->from_policy, NULL, &t->from_save);
        sim_json_pathbuf_pop(&w->path, m);
    }
    return 0;
}

static int walk_point(struct walk *w, const cJSON *doc, struct tmpl *t)
{
    int before = w->nr_errs;
    tmpl_defaults(t, w->file);
    w->doc = doc;
    sim_json_pathbuf_init(&w->path);
    char got[64];
    if (!cJSON_IsObject(doc))
        return werr(w, "expected object, got %s", sim_json_got(doc, got, sizeof got));
    walk_object(w, doc, top_keys, NULL, NULL, NULL, t);
    if (w->nr_errs == before)
        finish_point(w, t);
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

/* ------------------------------------------------------------ paths */

/*
 * Is `p` a path the schema allows, in `doc` (array indexes must exist;
 * policy params are looked up in the policy the document names)?
 * sweep: the path is a sweep target (K_NOSWEEP keys refused), else an
 * override (K_NOSET refused).
 */
static int schema_check(const cJSON *doc, const struct sim_json_path *p, const char *text,
                        bool sweep, struct vm_diag *d)
{
    const struct key *tab = top_keys, *alt = NULL, *row = NULL;
    enum shape shape = SH_OBJECT;
    const cJSON *cur = doc, *parent = NULL;
    char sofar[256];
    for (int i = 0; i < p->n; i++) {
        const struct sim_json_seg *g = &p->seg[i];
        sim_json_path_text(p, i, sofar, sizeof sofar);
        const char *where = i ? sofar : "$";
        switch (shape) {
        case SH_OBJECT: {
            if (g->is_index)
                return vm_diag_set(d, VM_EINVAL, "'%s' is an object, not an array (in '%s')",
                                   where, text);
            const struct key *k = find_key(tab, g->key);
            if (!k)
                k = find_key(alt, g->key);
            if (!k) {
                char msg[256];
                unknown_key_msg(tab, alt, g->key, text, msg, sizeof msg);
                return vm_diag_set(d, VM_EINVAL, "%s", msg);
            }
            if (sweep && (k->flags & K_NOSWEEP))
                return vm_diag_set(d, VM_EINVAL, "'%s' cannot be swept", k->name);
            if (!sweep && (k->flags & K_NOSET))
                return vm_diag_set(d, VM_EINVAL, "'%s' cannot be overridden", k->name);
            parent = cur;
            cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, g->key) : NULL;
            row = k;
            shape = k->shape;
            tab = k->sub;
            alt = k->alt;
            break;
        }
        case SH_ARRAY: {
            if (!g->is_index)
                return vm_diag_set(d, VM_EINVAL, "'%s' is an array: expected '%s[N]', got '%s'",
                                   where, where, text);
            int n = cJSON_IsArray(cur) ? cJSON_GetArraySize(cur) : 0;
            if (g->index >= n)
                return vm_diag_set(d, VM_EINVAL, "index %d out of range in '%s' ('%s' has %d)",
                                   g->index, text, where, n);
            parent = cur;
            cur = cJSON_GetArrayItem(cur, g->index);
            shape = SH_OBJECT;
            break;
        }
        case SH_PARAMS: {
            if (g->is_index)
                return vm_diag_set(d, VM_EINVAL, "'%s' is an object, not an array (in '%s')",
                                   where, text);
            const cJSON *pol = cJSON_IsObject(parent)
                ? cJSON_GetObjectItemCaseSensitive(parent, "policy") : NULL;
            const char *name = cJSON_IsString(pol) ? pol->valuestring
                : (row->flags & K_FROM) ? "buffered" : NULL;
            const cJSON *phase = cJSON_GetObjectItemCaseSensitive(doc, "phase");
            bool restore = !(row->flags & K_FROM) && cJSON_IsString(phase) &&
                           strcmp(phase->valuestring, "restore") == 0;
            const struct vm_param *ptab = NULL;
            bool known = false;
            if (name && restore) {
                const struct ckpt_restore_policy *rp = ckpt_restore_policy_find(name);
                known = rp != NULL;
                ptab = rp ? rp->params : NULL;
            } else if (name) {
                const struct ckpt_policy *sp = ckpt_save_policy_find(name);
                known = sp != NULL;
                ptab = sp ? sp->params : NULL;
            }
            /* an unknown policy is reported by the walk, at its own path */
            if (known && !(ptab && vm_param_find(ptab, g->key))) {
                char msg[512];
                param_unknown_msg(ptab, name, g->key, text, msg, sizeof msg);
                return vm_diag_set(d, VM_EINVAL, "%s", msg);
            }
            parent = cur;
            cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, g->key) : NULL;
            shape = SH_SCALAR;
            break;
        }
        case SH_SCALAR:
            return vm_diag_set(d, VM_EINVAL, "'%s' is a single value, it has no '%s' (in '%s')",
                               where, g->is_index ? "[N]" : g->key, text);
        case SH_FREE:
            return 0;
        }
    }
    return 0;
}

/* Put value (consumed) at p in doc, creating missing objects on the way. */
static int json_apply(cJSON *doc, const struct sim_json_path *p, cJSON *value, struct vm_diag *d)
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
    copy_str(buf, len, b.text);
}

/* Parse, check and apply one override; errors at `loc`. */
static int override(struct walk *w, cJSON *doc, const char *path, cJSON *value, const char *loc)
{
    struct sim_json_path p;
    struct vm_diag d = { 0 };
    char at[256];
    if (sim_json_path_parse(path, &p, &d) || schema_check(doc, &p, path, false, &d)) {
        cJSON_Delete(value);
        return werr_at(w, VM_EINVAL, loc, "%s", d.msg);
    }
    if (json_apply(doc, &p, value, &d))     /* consumes value, also on error */
        return werr_at(w, VM_EINVAL, loc, "%s", d.msg);
    applied_path(&p, at, sizeof at);
    remap_add(w, at, loc);
    return 0;
}

/* ------------------------------------------------------------ the sweep */

struct sweep {
    int n;
    struct {
        struct sim_json_path path;
        char key[SIM_NAME_MAX];         /* label or path text */
        char at[256];                   /* "$.vm.memory" */
        const cJSON *values;
        int nr_values;
        char (*labels)[SIM_NAME_MAX];   /* text of each value */
    } e[SIM_MAX_POINT_KEYS];
};

static void sweep_free(struct sweep *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->e[i].labels);
    s->n = 0;
}

static int parse_sweep(struct walk *w, const cJSON *doc, struct sweep *s)
{
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(doc, "sweep");
    char got[64];
    int before = w->nr_errs;
    s->n = 0;
    if (!sw)
        return 0;
    sim_json_pathbuf_init(&w->path);
    size_t mark = sim_json_pathbuf_key(&w->path, "sweep");
    if (!cJSON_IsArray(sw)) {
        werr(w, "expected array of sweep entries, got %s", sim_json_got(sw, got, sizeof got));
        sim_json_pathbuf_pop(&w->path, mark);
        return VM_EINVAL;
    }
    if (cJSON_GetArraySize(sw) > SIM_MAX_POINT_KEYS) {
        werr(w, "expected at most %d sweep entries, got %d", SIM_MAX_POINT_KEYS,
             cJSON_GetArraySize(sw));
        sim_json_pathbuf_pop(&w->path, mark);
        return VM_EINVAL;
    }
    int i = 0;
    for (const cJSON *c = sw->child; c; c = c->next, i++) {
        struct sweepx sx = { 0 };
        size_t m2 = sim_json_pathbuf_index(&w->path, i);
        int b2 = w->nr_errs;
        if (walk_object(w, c, sweep_keys, NULL, NULL, NULL, &sx) == 0) {
            struct vm_diag d = { 0 };
            size_t m3 = sim_json_pathbuf_key(&w->path, "path");
            int k = s->n;
            if (sim_json_path_parse(sx.path, &s->e[k].path, &d) ||
                schema_check(doc, &s->e[k].path, sx.path, true, &d))
                werr(w, "%s", d.msg);
            sim_json_pathbuf_pop(&w->path, m3);
            if (w->nr_errs == b2) {
                char text[256];
                sim_json_path_text(&s->e[k].path, s->e[k].path.n, text, sizeof text);
                if (!sx.label[0] && strlen(text) >= sizeof s->e[k].key)
                    werr(w, "expected a 'label' for a path of %zu characters (at most %zu)",
                         strlen(text), sizeof s->e[k].key - 1);
                copy_str(s->e[k].key, sizeof s->e[k].key, sx.label[0] ? sx.label : text);
                applied_path(&s->e[k].path, s->e[k].at, sizeof s->e[k].at);
                for (int j = 0; j < k; j++) {
                    if (strcmp(s->e[j].key, s->e[k].key) == 0) {
                        werr(w, "duplicate sweep key '%s' (also $.sweep[%d]; give a 'label')",
                             s->e[k].key, j);
                        break;
                    }
                    if (strcmp(s->e[j].at, s->e[k].at) == 0) {
                        werr(w, "'%s' is swept twice (also $.sweep[%d])", text, j);
                        break;
                    }
                }
            }
            if (w->nr_errs == b2) {
                int nv = cJSON_GetArraySize(sx.values);
                s->e[k].values = sx.values;
                s->e[k].nr_values = nv;
                s->e[k].labels = calloc((size_t)nv, sizeof *s->e[k].labels);
                s->n++;
                int j = 0;
                size_t m4 = sim_json_pathbuf_key(&w->path, "values");
                for (const cJSON *v = sx.values->child; v; v = v->next, j++) {
                    char buf[256];
                    const cJSON *nm = cJSON_IsObject(v)
                        ? cJSON_GetObjectItemCaseSensitive(v, "name") : NULL;
                    const char *lab = cJSON_IsString(nm) ? nm->valuestring
                                      : sim_json_scalar_text(v, buf, sizeof buf);
                    if (!lab) {
                        snprintf(buf, sizeof buf, "%d", j);   /* unnamed object: its index */
                        lab = buf;
                    }
                    size_t m5 = sim_json_pathbuf_index(&w->path, j);
                    if (strlen(lab) >= SIM_NAME_MAX || strpbrk(lab, "/=,\n")) {
                        werr(w, "expected a value whose label is under %d characters without "
                             "'/', '=' or ',', got label '%.80s'", SIM_NAME_MAX, lab);
                    } else {
                        for (int q = 0; q < j; q++)
                            if (strcmp(s->e[k].labels[q], lab) == 0) {
                                werr(w, "duplicate point label '%s' (also values[%d])", lab, q);
                                break;
                            }
                        snprintf(s->e[k].labels[j], SIM_NAME_MAX, "%s", lab);
                    }
                    sim_json_pathbuf_pop(&w->path, m5);
                }
                sim_json_pathbuf_pop(&w->path, m4);
            }
        }
        sim_json_pathbuf_pop(&w->path, m2);
    }
    sim_json_pathbuf_pop(&w->path, mark);
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

/* ------------------------------------------------------------ the engine */

struct engine_out {
    struct tmpl *first;                 /* the first point's template */
    struct sim_exp *points;
    int nr_points, cap_points;
};

static int add_points(struct walk *w, struct engine_out *o, const struct tmpl *t,
                      const struct sweep *s, const int *idx)
{
    for (int v = 0; v < t->nr_variants; v++) {
        if (o->nr_points == o->cap_points) {
            int cap = o->cap_points ? 2 * o->cap_points : 16;
            struct sim_exp *np = realloc(o->points, sizeof *np * (size_t)cap);
            if (!np)
                return werr_at(w, VM_ENOMEM, "$", "out of memory");
            o->points = np;
            o->cap_points = cap;
        }
        struct sim_exp *e = &o->points[o->nr_points++];
        const struct variant *var = &t->variants[v];
        *e = t->e;
        snprintf(e->variant, sizeof e->variant, "%s", var->name);
        snprintf(e->policy, sizeof e->policy, "%s", var->policy);
        if (e->restore_phase) {
            e->save = t->from_save;
            snprintf(e->save_policy, sizeof e->save_policy, "%s", t->from_policy);
            e->restore = var->restore;
        } else {
            e->save = var->save;
            snprintf(e->save_policy, sizeof e->save_policy, "%s", var->policy);
            memset(&e->restore, 0, sizeof e->restore);
        }
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
            return werr_at(w, VM_EINVAL, "$.sweep", "expected record ids under %zu characters, "
                           "got '%.60s...'", sizeof e->id, e->id);
    }
    return 0;
}

/* Deep checks for validate: each distinct platform and trace once. */
static void deep_checks(struct walk *w, const struct engine_out *o)
{
    for (int i = 0; i < o->nr_points; i++) {
        const struct sim_exp *e = &o->points[i];
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(o->points[j].platform, e->platform) == 0 &&
                   strcmp(o->points[j].host, e->host) == 0 &&
                   strcmp(o->points[j].disk, e->disk) == 0;
        if (!seen) {
            struct vm_diag d = { 0 };
            if (sim_world_check_platform(e->platform, e->host, e->disk, &d))
                werr_at(w, VM_EINVAL, "$.platform", "%s", d.msg);
        }
        if (!e->workload.is_trace)
            continue;
        seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = o->points[j].workload.is_trace &&
                   strcmp(o->points[j].workload.file, e->workload.file) == 0 &&
                   o->points[j].workload.format == e->workload.format;
        if (!seen) {
            struct vm_diag d = { 0 };
            if (sim_trace_validate(e->workload.file, e->workload.format, &d))
                werr_at(w, VM_EINVAL, "$.workload.file", "%s", d.msg);
        }
    }
}

/* Split "path=value"; the value is JSON when it parses, else a string. */
static cJSON *set_value_json(const char *text)
{
    struct vm_diag d = { 0 };
    cJSON *v = NULL;
    if (sim_json_parse("--set", text, &v, &d) == 0)
        return v;
    return cJSON_CreateString(text);
}

static int engine(const char *file, const struct sim_config_opts *opts, bool validate,
                  cJSON **root_out, struct engine_out *o, struct sim_diag_list *errs)
{
    struct walk *w = calloc(1, sizeof *w);
    struct tmpl *t = malloc(sizeof *t);
    struct sweep s = { 0 };
    cJSON *root = NULL;
    struct vm_diag d = { 0 };
    int rc;
    if (!w || !t) {
        free(w);
        free(t);
        return VM_ENOMEM;
    }
    w->file = file;
    w->errs = errs;
    memset(o, 0, sizeof *o);

    rc = sim_json_load(file, &root, &d);
    if (rc) {
        sim_diag_list_add(errs, "%s", d.msg);
        goto out;
    }
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
        if (!realpath(dir, w->dir))
            snprintf(w->dir, sizeof w->dir, "%s", dir);
    }
    if (!cJSON_IsObject(root)) {
        char got[64];
        werr_at(w, VM_EINVAL, "$", "expected object, got %s", sim_json_got(root, got, sizeof got));
        goto done;
    }

    /* overrides: --quick, then --set, then --seed */
    if (opts && opts->quick) {
        /* overrides cannot target "quick" (K_NOSET), so q stays valid */
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "quick");
        if (q && !cJSON_IsObject(q)) {
            char got[64];
            werr_at(w, VM_EINVAL, "$.quick", "expected object of path: value, got %s",
                    sim_json_got(q, got, sizeof got));
        } else if (q) {
            for (const cJSON *c = q->child; c; c = c->next) {
                char loc[256];
                snprintf(loc, sizeof loc, "$.quick[\"%s\"]", c->string);
                override(w, root, c->string, cJSON_Duplicate(c, 1), loc);
            }
        }
    }
    for (int i = 0; opts && i < opts->nr_sets; i++) {
        const char *eq = strchr(opts->sets[i], '=');
        char path[256], loc[300];
        if (!eq || eq == opts->sets[i] || (size_t)(eq - opts->sets[i]) >= sizeof path) {
            werr_at(w, VM_EINVAL, "--set", "expected path=value, got '%s'", opts->sets[i]);
            continue;
        }
        memcpy(path, opts->sets[i], (size_t)(eq - opts->sets[i]));
        path[eq - opts->sets[i]] = '\0';
        snprintf(loc, sizeof loc, "--set %s", path);
        override(w, root, path, set_value_json(eq + 1), loc);
    }
    if (opts && opts->have_seed) {
        cJSON *seed = cJSON_CreateNumber((double)opts->seed);
        if (cJSON_GetObjectItemCaseSensitive(root, "seed"))
            cJSON_ReplaceItemInObjectCaseSensitive(root, "seed", seed);
        else
            cJSON_AddItemToObject(root, "seed", seed);
        remap_add(w, "$.seed", "--seed");
    }
    if (w->nr_errs && !validate)
        goto done;

    /* the sweep, then every point */
    if (parse_sweep(w, root, &s) != 0) {
        if (validate)
            walk_point(w, root, t);             /* still report the rest */
        goto done;
    }
    {
        long total = 1;
        for (int i = 0; i < s.n; i++)
            total *= s.e[i].nr_values;
        if (total > MAX_POINTS) {
            werr_at(w, VM_EINVAL, "$.sweep", "expected at most %d sweep points, got %ld",
                    MAX_POINTS, total);
            goto done;
        }
        int idx[SIM_MAX_POINT_KEYS] = { 0 };
        int saved_remaps = w->nr_remaps;
        struct remap *saved = malloc(sizeof(struct remap) * (size_t)saved_remaps + 1);
        if (!saved) {
            werr_at(w, VM_ENOMEM, "$", "out of memory");
            goto done;
        }
        memcpy(saved, w->remaps, sizeof(struct remap) * (size_t)saved_remaps);
        for (long n = 0; n < total; n++) {
            cJSON *copy = cJSON_Duplicate(root, 1);
            for (int i = 0; i < s.n; i++) {
                char loc[64];
                snprintf(loc, sizeof loc, "$.sweep[%d].values[%d]", i, idx[i]);
                cJSON *val = cJSON_Duplicate(cJSON_GetArrayItem(s.e[i].values, idx[i]), 1);
                if (json_apply(copy, &s.e[i].path, val, &d)) {
                    werr_at(w, VM_EINVAL, loc, "%s", d.msg);
                    vm_diag_clear(&d);
                }
                remap_add(w, s.e[i].at, loc);
            }
            int before = w->nr_errs;
            if (walk_point(w, copy, t) == 0 && w->nr_errs == before) {
                if (!o->first) {
                    o->first = malloc(sizeof *o->first);
                    if (o->first)
                        *o->first = *t;
                }
                add_points(w, o, t, &s, idx);
            }
            cJSON_Delete(copy);
            memcpy(w->remaps, saved, sizeof(struct remap) * (size_t)saved_remaps);
            w->nr_remaps = saved_remaps;
            if (w->nr_errs && !validate)
                break;
            for (int i = s.n - 1; i >= 0; i--) {   /* odometer: first entry outermost */
                if (++idx[i] < s.e[i].nr_values)
                    break;
                idx[i] = 0;
            }
        }
        free(saved);
    }
    if (validate && o->nr_points)
        deep_checks(w, o);
done:
    rc = w->nr_errs ? (w->first_code ? w->first_code : VM_EINVAL) : 0;
out:
    sweep_free(&s);
    if (rc == 0 && root_out)
        *root_out = root;
    else
        cJSON_Delete(root);
    if (rc) {
        free(o->points);
        free(o->first);
        memset(o, 0, sizeof *o);
    }
    free(w);
    free(t);
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
        free(o.points);
        free(o.first);
        return VM_ENOMEM;
    }
    snprintf(cfg->file, sizeof cfg->file, "%s", file);
    snprintf(cfg->name, sizeof cfg->name, "%s", o.first->e.name);
    snprintf(cfg->description, sizeof cfg->description, "%s", o.first->description);
    cfg->seed = o.first->e.seed;
    cfg->quick = opts && opts->quick;
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
    free(cfg->points);
    free(cfg);
}

int sim_config_validate(const char *file, struct sim_diag_list *errs)
{
    struct engine_out o;
    struct sim_config_opts quick = { .quick = true };
    int rc = engine(file, NULL, true, NULL, &o, errs);
    free(o.points);
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
        free(o.points);
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
