/*
 * sim_cfg_vm.c - the shared "vm" and memory "workload" config sections
 * (see sim_cfg_vm.h): their key tables, setters, derived fields and the
 * deep check of a trace against the VM it runs in.
 *
 * A workload's keys depend on its kind:
 *   { "kind": "synthetic", "pattern": "zipf", "footprint": "2GiB", ... }
 *   { "kind": "trace", "file": "../traces/x.pagetrace.gz", "loop": true }
 * so the row carries both tables and a key of the other kind is reported
 * as such.  Accesses must cost simulated time (access_time >= 1ns): a
 * guest whose accesses are free never lets the clock move, and the run
 * would never end.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/vm_units.h"
#include "sim_cfg_vm.h"
#include "sim_json.h"
#include "sim_mem.h"
#include "sim_trace.h"

#define V(field) offsetof(struct sim_exp_vm, field)
#define W(field) offsetof(struct sim_exp_workload, field)

static int set_content(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                       void *obj);
static int set_kind(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);
static int set_files(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);

static const struct sim_key content_keys[] = {
    SIM_KEY_SCALAR_ROW("zero", 0, VM_PARAM_DOUBLE, V(content[SIM_CONTENT_ZERO]), 0, 1, "0.25",
                       "fraction of zero pages"),
    SIM_KEY_SCALAR_ROW("text", 0, VM_PARAM_DOUBLE, V(content[SIM_CONTENT_TEXT]), 0, 1, "0.25",
                       "fraction of text pages"),
    SIM_KEY_SCALAR_ROW("code", 0, VM_PARAM_DOUBLE, V(content[SIM_CONTENT_CODE]), 0, 1, "0.10",
                       "fraction of machine-code pages"),
    SIM_KEY_SCALAR_ROW("random", 0, VM_PARAM_DOUBLE, V(content[SIM_CONTENT_RANDOM]), 0, 1,
                       "0.40", "fraction of incompressible pages"),
    SIM_KEY_END,
};

const struct sim_key sim_cfg_vm_keys[] = {
    SIM_KEY_SCALAR_ROW("memory", SIM_KEY_REQ, VM_PARAM_SIZE, V(memory_bytes), 1 << 20,
                       (double)SIM_MEM_MAX_BYTES, NULL, "guest memory, a multiple of 4KiB"),
    SIM_KEY_OBJ_ROW("content", SIM_KEY_DEFAULTS, set_content, 0, content_keys, NULL,
                    "content classes by 2 MiB region (zstd sizes measured on samples)"),
    SIM_KEY_SCALAR_ROW("aging", 0, VM_PARAM_DOUBLE, V(aging), 0, 1, "0",
                       "fraction of guest memory the guest's page cache holds at the start: "
                       "0 freshly booted (GVA runs get GPA runs) .. 1 aged (scattered)"),
    SIM_KEY_SCALAR_ROW("paging_levels", 0, VM_PARAM_U32, V(paging_levels), 4, 5, "4",
                       "guest page-table levels: 4 (48-bit addresses) or 5 (LA57, 57-bit)"),
    SIM_KEY_SCALAR_ROW("vcpus", 0, VM_PARAM_U32, V(vcpus), 1, SIM_MAX_VCPUS, "1",
                       "virtual CPUs, each replaying its own access stream"),
    SIM_KEY_END,
};

#define WORKLOAD_KINDS "synthetic|trace"
const struct sim_key sim_cfg_synthetic_keys[] = {
    { .name = "kind", .flags = SIM_KEY_REQ, .shape = SIM_KEY_SCALAR, .set = set_kind,
      .p = { .name = "kind", .type = VM_PARAM_ENUM, .choices = WORKLOAD_KINDS,
             .help = "synthetic or trace" } },
    SIM_KEY_STR_ROW("name", 0, sim_cfg_set_label, W(name), SIM_NAME_MAX,
                    "label in records (default: the pattern)"),
    SIM_KEY_ENUM_ROW("pattern", SIM_KEY_REQ, W(pattern), "uniform|zipf|sequential|strided", NULL,
                     "which pages the guest touches"),
    SIM_KEY_SCALAR_ROW("footprint", 0, VM_PARAM_SIZE, W(footprint_bytes), VM_PAGE_SIZE, 0, NULL,
                       "memory touched (default and at most vm.memory)"),
    SIM_KEY_SCALAR_ROW("zipf_s", 0, VM_PARAM_DOUBLE, W(zipf_s), 0, 5, "0.99",
                       "Zipf exponent (> 0)"),
    SIM_KEY_SCALAR_ROW("stride", 0, VM_PARAM_U64, W(stride_pages), 1, 1ull << 32, "16",
                       "pages between accesses (strided)"),
    SIM_KEY_SCALAR_ROW("write_fraction", 0, VM_PARAM_DOUBLE, W(write_fraction), 0, 1, "0.2",
                       "share of accesses that write"),
    SIM_KEY_SCALAR_ROW("access_time", 0, VM_PARAM_TIME, W(access_ns), 1, 1e9, "100ns",
                       "guest compute per page touch"),
    SIM_KEY_END,
};

const struct sim_key sim_cfg_trace_keys[] = {
    { .name = "kind", .flags = SIM_KEY_REQ, .shape = SIM_KEY_SCALAR, .set = set_kind,
      .p = { .name = "kind", .type = VM_PARAM_ENUM, .choices = WORKLOAD_KINDS,
             .help = "synthetic or trace" } },
    SIM_KEY_STR_ROW("name", 0, sim_cfg_set_label, W(name), SIM_NAME_MAX,
                    "label in records (default: the file's stem)"),
    SIM_KEY_STR_ROW("file", SIM_KEY_REQ, set_files, W(file), SIM_PATH_MAX,
                    "pagetrace or raw lackey log, gzip or plain; or a list, one per vCPU"),
    SIM_KEY_ENUM_ROW("format", 0, W(format), "auto|pagetrace|lackey", "auto",
                     "trace format (auto: from the first line)"),
    SIM_KEY_SCALAR_ROW("access_time", 0, VM_PARAM_TIME, W(access_ns), 1, 1e9, "2ns",
                       "guest compute per raw access"),
    SIM_KEY_SCALAR_ROW("loop", 0, VM_PARAM_BOOL, W(loop), 0, 0, "true",
                       "start the trace again at its end"),
    SIM_KEY_END,
};

const struct sim_key *const sim_cfg_workload_kinds[] = {
    sim_cfg_synthetic_keys, sim_cfg_trace_keys, NULL,
};

/* file: a path, or an array of paths (one per vCPU), each resolved and
 * checked as a file; all go into files, the first into file. */
static int set_files(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct sim_exp_workload *wl = obj;
    char got[64];
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 1;
    if (cJSON_IsArray(v) && (n < 1 || n > SIM_MAX_VCPUS))
        return sim_cfg_err(w, "expected 1..%d trace files (one per vCPU), got %d",
                           SIM_MAX_VCPUS, n);
    if (!cJSON_IsArray(v) && !cJSON_IsString(v))
        return sim_cfg_err(w, "expected file path or array of them, got %s",
                           sim_json_got(v, got, sizeof got));
    struct sim_key one = *k;
    one.p.off = 0;
    char path[SIM_PATH_MAX];
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *f = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, i) : v;
        size_t mark = cJSON_IsArray(v) ? sim_cfg_push_index(w, i) : 0;
        int rc = sim_cfg_set_path(w, &one, f, path);
        size_t len = rc ? 0 : strlen(path) + 1;
        if (rc == 0 && used + len > sizeof wl->files)
            rc = sim_cfg_err(w, "expected trace paths of at most %zu characters in all",
                             sizeof wl->files);
        if (cJSON_IsArray(v))
            sim_cfg_pop(w, mark);
        if (rc)
            return rc;
        memcpy(wl->files + used, path, len);
        used += len;
        if (i == 0)
            snprintf(wl->file, sizeof wl->file, "%s", path);
    }
    wl->nr_files = (uint32_t)n;
    return 0;
}

/* kind: an enum whose value picks the table (is_trace). */
static int set_kind(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct sim_key row = *k;
    int kind = 0;
    row.p.off = 0;
    int rc = sim_cfg_set_param(w, &row, v, &kind);
    if (rc == 0)
        ((struct sim_exp_workload *)obj)->is_trace = kind == 1;
    return rc;
}

int sim_cfg_set_vm(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct sim_exp_vm *vm = (struct sim_exp_vm *)((char *)obj + k->p.off);
    int rc = sim_cfg_walk_object(w, v, k->sub, vm);
    if (rc == 0 && vm->memory_bytes % VM_PAGE_SIZE) {
        char got[64];
        size_t mark = sim_cfg_push_key(w, "memory");
        rc = sim_cfg_err(w, "expected size that is a multiple of 4KiB, got %s",
                         sim_json_got(cJSON_GetObjectItemCaseSensitive(v, "memory"), got,
                                      sizeof got));
        sim_cfg_pop(w, mark);
    }
    return rc;
}

/* Given classes replace the default mix; classes not given are absent. */
static int set_content(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                       void *obj)
{
    struct sim_exp_vm *vm = obj;
    double saved[SIM_CONTENT_NR];
    memcpy(saved, vm->content, sizeof saved);
    for (int i = 0; i < SIM_CONTENT_NR; i++)
        vm->content[i] = 0;
    int rc = sim_cfg_walk_object(w, v, k->sub, vm);
    if (rc) {
        memcpy(vm->content, saved, sizeof saved);
        return rc;
    }
    double sum = 0;
    for (int i = 0; i < SIM_CONTENT_NR; i++)
        sum += vm->content[i];
    if (fabs(sum - 1.0) > 1e-6) {
        char s[32];
        return sim_cfg_err(w, "expected fractions summing to 1, got sum %s",
                           sim_json_fmt_number(sum, s, sizeof s));
    }
    return 0;
}

int sim_cfg_set_workload(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                         void *obj)
{
    struct sim_exp_workload *wl = (struct sim_exp_workload *)((char *)obj + k->p.off);
    char got[64];
    if (!cJSON_IsObject(v))
        return sim_cfg_err(w, "expected object, got %s", sim_json_got(v, got, sizeof got));
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(v, "kind");
    if (!kind)
        return sim_cfg_err(w, "missing required key 'kind'");
    size_t mark = sim_cfg_push_key(w, "kind");
    int rc = set_kind(w, &k->sub[0], kind, wl);
    sim_cfg_pop(w, mark);
    if (rc)
        return rc;
    int which = wl->is_trace ? 1 : 0;           /* sim_cfg_workload_kinds' order */
    sim_cfg_apply_defaults(k->kinds[which], wl);
    return sim_cfg_walk_kind(w, v, k->kinds, which, wl);
}

int sim_cfg_workload_finish(struct sim_cfg_walk *w, const char *at, const struct sim_exp_vm *vm,
                            struct sim_exp_workload *wl)
{
    static const char *const pattern_names[] = { "uniform", "zipf", "sequential", "strided" };
    if (!wl->is_trace &&
        (wl->footprint_bytes == 0 || wl->footprint_bytes > vm->memory_bytes))
        wl->footprint_bytes = vm->memory_bytes;
    if (wl->is_trace)
        wl->pattern = SIM_PAT_UNIFORM;
    if (!wl->name[0]) {
        if (wl->is_trace) {
            const char *base = strrchr(wl->file, '/');
            base = base ? base + 1 : wl->file;
            size_t n = strcspn(base, ".");
            if (n >= sizeof wl->name)
                n = sizeof wl->name - 1;
            memcpy(wl->name, base, n);
            wl->name[n] = '\0';
        } else {
            snprintf(wl->name, sizeof wl->name, "%s", pattern_names[wl->pattern]);
        }
    }
    uint32_t vcpus = vm->vcpus ? vm->vcpus : 1;
    if (wl->is_trace && wl->nr_files > 1 && wl->nr_files != vcpus) {
        char path[256];
        snprintf(path, sizeof path, "%s.file", at);
        return sim_cfg_err_at(w, VM_EINVAL, path, "expected one trace per vCPU (vm.vcpus is "
                              "%u), got %u; or one trace that every vCPU replays", vcpus,
                              wl->nr_files);
    }
    if (wl->pattern == SIM_PAT_ZIPF && wl->zipf_s <= 0) {
        char path[256];
        snprintf(path, sizeof path, "%s.zipf_s", at);
        return sim_cfg_err_at(w, VM_EINVAL, path, "expected number > 0 and <= 5, got 0");
    }
    return 0;
}

/* A trace's distinct pages (value[0]) and the page-table pages one
 * process needs for them (value[1]) with paging `levels`, by reading it
 * whole without writing anything (its binary cache is left to the run
 * points, so a refused run leaves none); an address that is not canonical
 * for the paging mode is an error naming its line.  Once per file,
 * format and paging mode. */
static struct sim_cfg_memo trace_pages(struct sim_cfg_walk *w, const char *file,
                                       enum sim_trace_format format, unsigned levels)
{
    char key[SIM_PATH_MAX + 16];
    snprintf(key, sizeof key, "%d:%u:%.*s", (int)format, levels, SIM_PATH_MAX - 1, file);
    struct sim_cfg_memo nm = { 0 };
    if (sim_cfg_memo_get(w, "trace", key, &nm))
        return nm;
    struct vm_diag d = { 0 };
    struct sim_trace_stats st;
    nm.rc = sim_trace_parse(file, format, NULL, NULL, &st, &d);
    if (nm.rc == 0 && st.nr_records == 0)
        nm.rc = vm_diag_set(&d, VM_EPARSE, "%s: expected at least one record, got none", file);
    if (nm.rc == 0)
        nm.rc = sim_trace_check_canonical(file, &st, levels, &d);
    nm.value[0] = st.distinct_pages;
    nm.value[1] = sim_trace_table_pages(&st, levels);
    if (nm.rc)
        snprintf(nm.msg, sizeof nm.msg, "%s", d.msg[0] ? d.msg : vm_strerror(nm.rc));
    sim_cfg_memo_put(w, "trace", key, &nm);
    return nm;
}

const char *sim_exp_workload_file(const struct sim_exp_workload *wl, uint32_t i)
{
    if (wl->nr_files <= 1)
        return wl->file;
    const char *f = wl->files;
    while (i-- > 0)
        f += strlen(f) + 1;
    return f;
}

int sim_cfg_workload_check(struct sim_cfg_walk *w, const char *at, const struct sim_exp_vm *vm,
                           const struct sim_exp_workload *wl)
{
    if (!wl->is_trace)
        return 0;
    char path[256];
    uint32_t vcpus = vm->vcpus ? vm->vcpus : 1, n = wl->nr_files > 1 ? wl->nr_files : 1;
    unsigned levels = vm->paging_levels ? vm->paging_levels : 4;
    uint64_t need = 0, tables = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (n > 1)
            snprintf(path, sizeof path, "%s.file[%u]", at, i);
        else
            snprintf(path, sizeof path, "%s.file", at);
        struct sim_cfg_memo m = trace_pages(w, sim_exp_workload_file(wl, i), wl->format, levels);
        if (m.rc)
            return sim_cfg_err_at(w, m.rc, path, "%s", m.msg);
        /* each vCPU's process has its own pages and page tables: one
         * trace for all counts once per vCPU */
        need += m.value[0] * (n > 1 ? 1 : vcpus);
        tables += m.value[1] * (n > 1 ? 1 : vcpus);
    }
    snprintf(path, sizeof path, "%s.file", at);
    uint64_t vm_pages = vm->memory_bytes / VM_PAGE_SIZE;
    /* the guest's page tables live in its memory too (guest frames) */
    if (need + tables > vm_pages) {
        char needs[32], have[32], who[64] = "";
        vm_units_fmt_size((need + tables) * VM_PAGE_SIZE, needs, sizeof needs);
        vm_units_fmt_size(vm->memory_bytes, have, sizeof have);
        if (n > 1)
            snprintf(who, sizeof who, " (%u traces)", n);
        else if (vcpus > 1)
            snprintf(who, sizeof who, " (once per vCPU, %u vCPUs)", vcpus);
        return sim_cfg_err_at(w, VM_EINVAL, path,
                              "%s more guest memory than vm.memory: %s %" PRIu64
                              " distinct pages%s and %" PRIu64 " page-table pages (%s), "
                              "vm.memory is %s (%" PRIu64 " pages)",
                              n > 1 ? "the traces need" : "the trace needs",
                              n > 1 ? "they touch" : "it touches", need, who, tables, needs,
                              have, vm_pages);
    }
    return 0;
}
