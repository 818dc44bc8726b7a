/*
 * sim_cons_mech.c - snapshot consolidation as a plug-in of the simulator
 * core (struct sim_mech, sim_mech.h): its config sections, the method set
 * (models/consolidation/ registry), the metric and invariant tables, and
 * the finish/check hooks.  The driver is sim_cons.c.
 */
#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "consolidation/cons_int.h"
#include "consolidation/sim_cons.h"
#include "sim_blocktrace.h"
#include "sim_json.h"
#include "sim_platform.h"

#define TIME_MAX_NS SIM_CFG_TIME_MAX_NS

/* ------------------------------------------------------------ methods */

static bool method_get(int i, struct sim_policy_info *out)
{
    for (int j = 0; j <= i; j++)
        if (!cons_methods[j])
            return false;
    const struct cons_method *m = cons_methods[i];
    *out = (struct sim_policy_info){ .name = m->name, .desc = m->desc, .params = m->params,
                                     .hidden = (m->flags & CONS_F_HIDDEN) != 0 };
    return true;
}

static const struct sim_policy_set method_set = {
    .name = "method",
    .used_by = "variants[].policy",
    .cfg_size = sizeof(struct cons_method_cfg),
    .get = method_get,
};

static const struct sim_policy_set *const policy_sets[] = { &method_set, NULL };

static const struct sim_policy_set *variant_set(const cJSON *doc)
{
    (void)doc;
    return &method_set;
}

/* ------------------------------------------------------------ sections */

#define C(field) offsetof(struct sim_cons_cfg, field)

static const struct sim_key disk_keys[] = {
    SIM_KEY_SCALAR_ROW("size", 0, VM_PARAM_SIZE, C(disk_bytes), 1 << 20, 1ull << 44, "64GiB",
                       "the virtual disk's size"),
    SIM_KEY_SCALAR_ROW("grain", 0, VM_PARAM_SIZE, C(grain_bytes), 4096, 16 << 20, "64KiB",
                       "a delta's allocation unit (VMDK grain, qcow2 cluster): a power of two"),
    SIM_KEY_END,
};

#define D(field) offsetof(struct sim_cons_disk, field)
static const struct sim_key chain_disk_keys[] = {
    SIM_KEY_STR_ROW("name", SIM_KEY_REQ, sim_cfg_set_str, D(name), SIM_CONS_DISK_NAME_MAX,
                    "the disk's name (A-Z a-z 0-9 _ . -), unique in the chain"),
    SIM_KEY_STR_ROW("parent", 0, sim_cfg_set_str, D(parent), SIM_CONS_DISK_NAME_MAX,
                    "the disk this one is a delta of (none: the base)"),
    SIM_KEY_SCALAR_ROW("size", 0, VM_PARAM_SIZE, D(size_bytes), 0, 1ull << 50, NULL,
                       "a delta's bytes allocated at the start (the base has none)"),
    SIM_KEY_END,
};

/* chain.disks as written: the finish hook checks it is one chain. */
static int set_disks(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct sim_cons_cfg *c = obj;
    char got[64];
    if (!cJSON_IsArray(v))
        return sim_cfg_err(w, "expected array of disks, got %s",
                           sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n < 2)
        return sim_cfg_err(w, "expected the base and at least one delta, got %d disk%s", n,
                           n == 1 ? "" : "s");
    if (n > SIM_CONS_MAX_DELTAS + 1)
        return sim_cfg_err(w, "expected at most %d deltas (and the base), got %d disks",
                           SIM_CONS_MAX_DELTAS, n);
    int i = 0, before = sim_cfg_nr_errors(w);
    c->nr_disks = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        struct sim_cons_disk *dk = &c->disks[i];
        size_t mark = sim_cfg_push_index(w, i);
        memset(dk, 0, sizeof *dk);
        if (!cJSON_IsObject(e)) {
            sim_cfg_err(w, "expected object, got %s", sim_json_got(e, got, sizeof got));
        } else if (sim_cfg_walk_object(w, e, k->sub, dk) == 0) {
            dk->has_parent = cJSON_GetObjectItemCaseSensitive(e, "parent") != NULL;
            dk->has_size = cJSON_GetObjectItemCaseSensitive(e, "size") != NULL;
        }
        sim_cfg_pop(w, mark);
    }
    c->nr_disks = n;
    return sim_cfg_nr_errors(w) == before ? 0 : VM_EINVAL;
}

static const struct sim_key chain_keys[] = {
    SIM_KEY_SCALAR_ROW("deltas", 0, VM_PARAM_U32, C(deltas), 1, SIM_CONS_MAX_DELTAS, "1",
                       "delta disks on the base at the start (or 'disks')"),
    SIM_KEY_SCALAR_ROW("delta_size", 0, VM_PARAM_SIZE, C(delta_bytes), 0, 1ull << 50, "8GiB",
                       "bytes allocated in each delta at the start (or 'disks')"),
    SIM_KEY_ARR_ROW("disks", 0, set_disks, chain_disk_keys, NULL,
                    "the chain by name, instead of deltas/delta_size: [{name}, {name, parent, "
                    "size}, ...], one base (no parent), each delta on the one before"),
    SIM_KEY_ENUM_ROW("layout", 0, C(layout), "random|sequential", "random",
                     "where a delta's grains are: spread over the disk, or one run"),
    SIM_KEY_ENUM_ROW("target", 0, C(target), "parent|base", "parent",
                     "consolidate the top delta into its parent, or every delta into the base"),
    SIM_KEY_END,
};

static const struct sim_key load_keys[] = {
    SIM_KEY_SCALAR_ROW("write_ratio", 0, VM_PARAM_DOUBLE, C(write_ratio), 0, 10, "0.3",
                       "lambda / B: guest write bytes/s over the disk's write bandwidth"),
    SIM_KEY_SCALAR_ROW("write_rate", 0, VM_PARAM_RATE, C(write_rate), 0, 1e12, "0B/s",
                       "lambda in bytes/s (instead of write_ratio when not 0)"),
    SIM_KEY_SCALAR_ROW("read_fraction", 0, VM_PARAM_DOUBLE, C(read_fraction), 0, 0.99, "0.3",
                       "share of requests that are reads"),
    SIM_KEY_SCALAR_ROW("request", 0, VM_PARAM_SIZE, C(request_bytes), 4096, 16 << 20,
                       "64KiB", "request size (a multiple of 4 KiB)"),
    SIM_KEY_ENUM_ROW("pattern", 0, C(pattern), "random|sequential", "random",
                     "uniform random offsets, or one sequential stream"),
    SIM_KEY_SCALAR_ROW("hot_set", 0, VM_PARAM_SIZE, C(hot_set_bytes), 0, 1ull << 50, "0",
                       "the region most requests fall in (0: the whole disk)"),
    SIM_KEY_SCALAR_ROW("hot_share", 0, VM_PARAM_DOUBLE, C(hot_share), 0, 1, "1",
                       "share of requests in the hot set"),
    SIM_KEY_SCALAR_ROW("qdepth", 0, VM_PARAM_U32, C(qdepth), 1, 1024, "32",
                       "guest requests in flight at most (later arrivals wait)"),
    SIM_KEY_ENUM_ROW("arrivals", 0, C(arrivals), "poisson|even|closed", "poisson",
                     "inter-arrival times at the write rate, or closed: no rate, a new "
                     "request as soon as one of the qdepth slots is free (fio's iodepth "
                     "without rate; write_ratio, write_rate and a trace's times unused; "
                     "none issued while an ESX stun or offline's shutdown stops the VM)"),
    SIM_KEY_STR_ROW("trace", 0, sim_cfg_set_path, C(trace), SIM_PATH_MAX,
                    "a blocktrace (vmsim blocktrace v1) replayed instead of the generator"),
    SIM_KEY_SCALAR_ROW("speed", 0, VM_PARAM_DOUBLE, C(speed), 0.001, 1000, "1",
                       "trace: time scale (2: twice as fast)"),
    SIM_KEY_SCALAR_ROW("loop", 0, VM_PARAM_BOOL, C(loop), 0, 0, "true",
                       "trace: start again at its end"),
    SIM_KEY_SCALAR_ROW("align", 0, VM_PARAM_SIZE, C(align_bytes), 4096, 1 << 30, "1MiB",
                       "trace: each file's extent on the disk is a multiple of this"),
    SIM_KEY_END,
};

static const struct sim_key run_keys[] = {
    SIM_KEY_SCALAR_ROW("before", 0, VM_PARAM_TIME, C(before_ns), 0, TIME_MAX_NS, "5s",
                       "load before the job starts"),
    SIM_KEY_SCALAR_ROW("after", 0, VM_PARAM_TIME, C(after_ns), 0, TIME_MAX_NS, "5s",
                       "load after the job ends"),
    SIM_KEY_SCALAR_ROW("timeout", 0, VM_PARAM_TIME, C(timeout_ns), 1000000, TIME_MAX_NS,
                       "600s", "give up on the job (not converged) after this long"),
    SIM_KEY_END,
};

static const struct sim_key sections[] = {
    SIM_KEY_OBJ_ROW("vdisk", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, disk_keys, NULL,
                    "the virtual disk"),
    SIM_KEY_OBJ_ROW("chain", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, chain_keys, NULL,
                    "the snapshot chain at the start, and what is consolidated"),
    SIM_KEY_OBJ_ROW("load", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, load_keys, NULL,
                    "the guest's disk I/O"),
    SIM_KEY_OBJ_ROW("run", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, run_keys, NULL,
                    "the run's phases"),
    SIM_KEY_END,
};

/* bytes in the largest unit that divides them ("2050 MiB", not "2 GiB"):
 * a message about a multiple or a bound must show the value given. */
static const char *exact_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    int u = 0;
    while (u < 5 && bytes && bytes % 1024 == 0) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, len, "%llu %s", (unsigned long long)bytes, units[u]);
    return buf;
}

static bool pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static bool disk_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.' || *s == '-'))
            return false;
    return true;
}

static int disk_index(const struct sim_cons_cfg *c, const char *name)
{
    for (int i = 0; i < c->nr_disks; i++)
        if (strcmp(c->disks[i].name, name) == 0)
            return i;
    return -1;
}

/* Report at $.chain.disks[i] (or its key). */
static int disk_err(struct sim_cfg_walk *w, int i, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int disk_err(struct sim_cfg_walk *w, int i, const char *key, const char *fmt, ...)
{
    char path[64], msg[512];
    va_list ap;
    snprintf(path, sizeof path, "$.chain.disks[%d]%s%s", i, key ? "." : "", key ? key : "");
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sim_cfg_err_at(w, VM_EINVAL, path, "%s", msg);
}

/* chain.disks: names, one base, parents that exist, no cycle, one child
 * each (a chain, not a tree), sizes; then base-first into delta_sizes. */
static int finish_disks(struct sim_cfg_walk *w, struct sim_cons_cfg *c)
{
    int rc = 0, n = c->nr_disks, base = -1;
    int par[SIM_CONS_MAX_DELTAS + 1], child[SIM_CONS_MAX_DELTAS + 1];
    char a[32], b[32], path[64];
    const cJSON *chain = cJSON_GetObjectItemCaseSensitive(sim_cfg_doc(w), "chain");
    static const char *const counted[] = { "deltas", "delta_size" };
    for (int k = 0; k < 2; k++)
        if (cJSON_GetObjectItemCaseSensitive(chain, counted[k])) {
            snprintf(path, sizeof path, "$.chain.%s", counted[k]);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected either 'disks' or "
                                "'deltas'/'delta_size', not both ('disks' gives each delta "
                                "and its size)");
        }
    for (int i = 0; i < n; i++) {
        const struct sim_cons_disk *dk = &c->disks[i];
        int j = disk_index(c, dk->name);
        par[i] = child[i] = -1;
        if (!disk_name_ok(dk->name))
            rc = disk_err(w, i, "name", "expected a name of A-Z a-z 0-9 _ . - characters, "
                          "got \"%s\"", dk->name);
        else if (j < i)
            rc = disk_err(w, i, "name", "duplicate disk '%s' (also $.chain.disks[%d].name)",
                          dk->name, j);
    }
    for (int i = 0; i < n; i++) {
        const struct sim_cons_disk *dk = &c->disks[i];
        if (!dk->has_parent) {
            if (dk->has_size)
                rc = disk_err(w, i, "size", "expected no size for the base ('%s', the disk "
                              "without a parent): it is the whole virtual disk", dk->name);
            if (base < 0) {
                base = i;
                continue;
            }
            rc = disk_err(w, i, NULL, "a second base ('%s' has no parent; the base is '%s', "
                          "$.chain.disks[%d]): every delta names its parent", dk->name,
                          c->disks[base].name, base);
            continue;
        }
        if ((par[i] = disk_index(c, dk->parent)) < 0)
            rc = disk_err(w, i, "parent", "missing parent '%s': no disk of the chain is named "
                          "that", dk->parent);
        if (!dk->has_size)
            rc = disk_err(w, i, NULL, "missing required key 'size' (the bytes allocated in "
                          "delta '%s' at the start)", dk->name);
        else if (dk->size_bytes > c->disk_bytes)
            rc = disk_err(w, i, "size", "expected at most the virtual disk's size (%s), got %s",
                          exact_size(c->disk_bytes, a, sizeof a),
                          exact_size(dk->size_bytes, b, sizeof b));
    }
    if (base < 0)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.chain.disks", "expected one base (the disk "
                            "without a 'parent'), got none");
    /* each cycle once, from its first disk in the list */
    bool seen[SIM_CONS_MAX_DELTAS + 1] = { false };
    for (int i = 0; i < n; i++) {
        int on[SIM_CONS_MAX_DELTAS + 1] = { 0 }, x = i, steps = 0;
        while (x >= 0 && !seen[x] && !on[x]) {
            on[x] = ++steps;
            x = par[x];
        }
        if (x >= 0 && on[x] && !seen[x]) {
            char cyc[(SIM_CONS_DISK_NAME_MAX + 4) * (SIM_CONS_MAX_DELTAS + 2)];
            size_t len = 0;
            int y = x;
            do {
                len += (size_t)snprintf(cyc + len, sizeof cyc - len, "%s -> ",
                                        c->disks[y].name);
                y = par[y];
            } while (y != x);
            snprintf(cyc + len, sizeof cyc - len, "%s", c->disks[x].name);
            rc = disk_err(w, x, "parent", "cycle: %s (each disk's parent follows it)", cyc);
        }
        for (x = i; x >= 0 && !seen[x]; x = par[x])
            seen[x] = true;
    }
    for (int i = 0; i < n; i++) {
        int p = par[i];
        if (p < 0)
            continue;
        if (child[p] >= 0) {
            rc = disk_err(w, i, "parent", "'%s' is already the parent of '%s' "
                          "($.chain.disks[%d]): expected a chain, not a tree (linked-clone "
                          "trees are not modelled)", c->disks[p].name, c->disks[child[p]].name,
                          child[p]);
        } else {
            child[p] = i;
        }
    }
    if (rc)
        return rc;
    /* one base, parents that exist, no cycle, one child each: a chain from the base */
    c->deltas = 0;
    for (int x = child[base]; x >= 0; x = child[x])
        c->delta_sizes[c->deltas++] = c->disks[x].size_bytes;
    assert(c->deltas == (uint32_t)n - 1 && "every disk is on the chain from the base");
    return 0;
}

static int finish(struct sim_cfg_walk *w, void *cfg)
{
    struct sim_cons_cfg *c = cfg;
    int rc = 0;
    char a[32], b[32];
    if (!pow2(c->grain_bytes) || c->grain_bytes < 4096 || c->grain_bytes > (16u << 20))
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.vdisk.grain", "expected a power of two from "
                            "4 KiB to 16 MiB, got %s", exact_size(c->grain_bytes, a, sizeof a));
    else if (c->disk_bytes % c->grain_bytes)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.vdisk.size", "expected a multiple of the grain "
                            "(%s), got %s", exact_size(c->grain_bytes, a, sizeof a),
                            exact_size(c->disk_bytes, b, sizeof b));
    if (c->nr_disks) {
        if (finish_disks(w, c))
            rc = VM_EINVAL;
    } else if (c->delta_bytes > c->disk_bytes) {
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.chain.delta_size", "expected at most the disk's "
                            "size (%s), got %s", exact_size(c->disk_bytes, a, sizeof a),
                            exact_size(c->delta_bytes, b, sizeof b));
    } else {
        for (uint32_t k = 0; k < c->deltas; k++)
            c->delta_sizes[k] = c->delta_bytes;
    }
    if (c->request_bytes % 4096)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.load.request", "expected a multiple of 4 KiB, "
                            "got %s", exact_size(c->request_bytes, a, sizeof a));
    uint64_t hot = c->hot_set_bytes ? c->hot_set_bytes : c->disk_bytes;
    if (hot > c->disk_bytes)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.load.hot_set", "expected at most the disk's "
                            "size (%s), got %s", exact_size(c->disk_bytes, a, sizeof a),
                            exact_size(hot, b, sizeof b));
    else if (c->request_bytes > hot)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.load.request", "expected at most the hot set "
                            "(%s), got %s", exact_size(hot, a, sizeof a),
                            exact_size(c->request_bytes, b, sizeof b));
    if (!c->trace[0] && c->arrivals != SIM_CONS_ARRIVALS_CLOSED && c->write_ratio == 0 &&
        c->write_rate == 0)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.load.write_ratio", "expected a guest write rate "
                            "above 0 (write_ratio or write_rate; reads come as a share of the "
                            "requests), a trace, or closed arrivals");
    return rc;
}

static int check(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const struct sim_cons_cfg *c = e->mech_cfg;
    int rc = 0;
    struct sim_platform_info pi;
    char why[512];
    struct cons_chain_cfg cc;
    if (sim_cfg_check_platform(w, e->platform, e->host, e->disk, "$.platform", "$.host",
                               "$.disk", &pi))
        rc = VM_EINVAL;
    else if (sim_cons_chain_cfg(c, pi.disk_capacity_bytes, &cc, why, sizeof why))
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.vdisk.size", "%s", why);
    int first_crash = -1;
    for (int i = 0; i < e->nr_faults; i++) {
        const struct sim_exp_fault *f = &e->faults[i];
        char path[48];
        if (f->kind == SIM_FAULT_HOST_CRASH && first_crash < 0) {
            first_crash = i;
        } else if (f->kind == SIM_FAULT_HOST_CRASH) {
            snprintf(path, sizeof path, "$.faults[%d]", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected at most one host_crash "
                                "(a run point takes one crash and its recovery; faults[%d] "
                                "is one): sweep the instant for more", first_crash);
            continue;
        }
        snprintf(path, sizeof path, "$.faults[%d].host", i);
        if (f->kind != SIM_FAULT_HOST_CRASH || !f->host[0] || strcmp(f->host, e->host) == 0)
            continue;
        if (sim_cfg_check_host(w, e->platform, f->host, path)) {
            rc = VM_EINVAL;             /* unknown: said once, by the core */
            continue;
        }
        if (e->host[0])
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected the experiment's host ('%s', "
                                "or no host): the VM and its disk are on that one, got '%s'",
                                e->host, f->host);
        else
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected no host (the VM and its disk "
                                "are on the experiment's host, the platform's first with a "
                                "disk; $.host names it), got '%s'", f->host);
    }
    if (c->trace[0]) {
        struct sim_blocktrace bt;
        struct vm_diag d = { 0 };
        if (sim_blocktrace_load(c->trace, c->disk_bytes / 4096, 0, c->align_bytes, &bt, &d))
            rc = sim_cfg_err_at(w, VM_EINVAL, "$.load.trace", "%s", d.msg);
        else
            sim_blocktrace_free(&bt);
    }
    return rc;
}

/* ------------------------------------------------------------ results */

static const struct sim_metric_def metrics[SIM_CONS_M_NR] = {
#define X(id, nm, un, hi, ds) [SIM_CONS_M_##id] = { .name = nm, .unit = un, \
                                                     .higher_is_better = hi, .desc = ds },
    SIM_CONS_METRICS(X)
#undef X
};

static const struct sim_inv_def invariants[SIM_CONS_INV_NR] = {
#define X(id, nm, bad, ds) [SIM_CONS_INV_##id] = { .name = nm, .is_violation = bad, .desc = ds },
    SIM_CONS_INVARIANTS(X)
#undef X
};

const struct sim_mech sim_cons_mech = {
    .name = "consolidation",
    .summary = "merge delta disks into their parent while the VM runs, writes mirrored to "
               "both (US10956041), against offline, helper-snapshot and QEMU-mirror "
               "consolidation",
    .sections = sections,
    .cfg_size = sizeof(struct sim_cons_cfg),
    .policy_sets = policy_sets,
    .variant_set = variant_set,
    .finish = finish,
    .check = check,
    .metrics = metrics,
    .nr_metrics = SIM_CONS_M_NR,
    .invariants = invariants,
    .nr_invariants = SIM_CONS_INV_NR,
    .run = sim_cons_run,
    /* a 100 GiB delta under load: 160,000 page faults on 4 KiB pages */
    .huge_heap = true,
    .fault_kinds = SIM_FAULT_DISK_KINDS | SIM_FAULT_BIT(SIM_FAULT_HOST_CRASH),
};
