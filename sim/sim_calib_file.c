/*
 * sim_calib_file.c - the costs file of `vmsim calibrate`: its JSON, the
 * checks a costs file must pass before an experiment takes its figures,
 * and writing it atomically (format in sim_calib.h).
 *
 * Based on the config engine's error style (git's config errors: file,
 * JSON path, what was expected, what was found) and git's lockfile idiom
 * for the write (a registered temporary file renamed into place).
 * Figures are written rounded (times to 0.1 ns, rates to whole bytes/s):
 * more digits would only be noise.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "sim_calib.h"
#include "sim_cfg.h"
#include "sim_content.h"
#include "sim_json.h"
#include "sim_tempfile.h"

#define MAX_NS 1e9                       /* a page figure beyond 1 s is not a CPU cost */
#define MAX_BPS 1e15

/* The costs file's top-level keys (anything else is refused). */
static const char *const top_keys[] = {
    "format", "provenance", "wp_fault_method", "wp_fault_note", "wp_unprotect_method",
    "wp_unprotect_note", "zero_scan_method", "page_copy_ns", "page_install_ns", "zero_scan_ns",
    "wp_fault_ns", "wp_unprotect_ns", "small_write_ns", "anon_fault_method", "anon_fault_ns",
    "compress_bps", "decompress_bps", "crypto", "spread", "notes",
};
/* The keys of "crypto" (sim_calib_crypto.c writes them); figures first. */
static const char *const crypto_keys[] = {
    "sha256_64_ns", "sha256_4k_ns", "ed25519_sign_ns", "ed25519_verify_ns",
    "ecdsa_p256_sign_ns", "ecdsa_p256_verify_ns", "policy_lookup_ns",
    "openssl_version", "date", "loadavg_before", "loadavg_after", "quick",
};
#define NR_CRYPTO_FIGS 7
#define NR_CRYPTO_KEYS ((int)(sizeof crypto_keys / sizeof crypto_keys[0]))
#define NR_TOP_KEYS ((int)(sizeof top_keys / sizeof top_keys[0]))

/* Costs a mechanism charges that calibrate does not measure. */
static const char not_measured_trace_arm[] =
    "not measured: arming write tracking, per page, in the start stun is a configured "
    "constant (costs.trace_arm, default 2ns), an estimate";
static const char not_measured_device_state[] =
    "not measured: saving device state in the start stun is a configured constant "
    "(costs.device_state, default 5ms), an estimate";

int sim_calib_level_index(const struct sim_calib *c, int level)
{
    for (int i = 0; i < c->nr_levels; i++)
        if (c->levels[i] == level)
            return i;
    return -1;
}

/* ------------------------------------------------------------ to JSON */

static double round_to(double v, double unit)
{
    return round(v / unit) * unit;
}

static void add_spread(cJSON *spread, const char *key, const struct sim_calib_fig *f,
                       double unit, const char *per)
{
    if (!f->samples)
        return;
    cJSON *o = cJSON_AddObjectToObject(spread, key);
    cJSON_AddNumberToObject(o, "p10", round_to(f->p10, unit));
    cJSON_AddNumberToObject(o, "p90", round_to(f->p90, unit));
    cJSON_AddNumberToObject(o, "samples", f->samples);
    if (per)
        cJSON_AddStringToObject(o, "sample", per);
}

static void add_rates(cJSON *root, cJSON *spread, const char *key,
                      const struct sim_calib *c,
                      const struct sim_calib_fig (*rates)[SIM_CALIB_NR_RATES])
{
    cJSON *o = cJSON_AddObjectToObject(root, key);
    cJSON *so = cJSON_AddObjectToObject(spread, key);
    for (int l = 0; l < c->nr_levels; l++) {
        char lk[32];
        snprintf(lk, sizeof lk, "level_%d", c->levels[l]);
        cJSON *lo = cJSON_AddObjectToObject(o, lk);
        cJSON *sl = cJSON_AddObjectToObject(so, lk);
        for (int k = 0; k < SIM_CALIB_NR_RATES; k++) {
            cJSON_AddNumberToObject(lo, sim_calib_rate_names[k], round(rates[l][k].median));
            add_spread(sl, sim_calib_rate_names[k], &rates[l][k], 1,
                       "the sample's 16 frames, each timed `samples` times");
        }
    }
}

cJSON *sim_calib_to_json(const struct sim_calib *c)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "format", SIM_CALIB_FORMAT);
    cJSON *p = cJSON_AddObjectToObject(root, "provenance");
    cJSON_AddStringToObject(p, "cpu_model", c->cpu_model);
    cJSON_AddNumberToObject(p, "cores", c->cores);
    cJSON_AddStringToObject(p, "kernel", c->kernel);
    cJSON_AddStringToObject(p, "date", c->date);
    cJSON_AddStringToObject(p, "vmsim_version", c->vmsim_version);
    cJSON_AddStringToObject(p, "zstd_version", c->zstd_version);
    cJSON_AddNumberToObject(p, "buffer_bytes", (double)c->buffer_bytes);
    cJSON_AddNumberToObject(p, "llc_bytes", (double)c->llc_bytes);
    cJSON_AddNumberToObject(p, "loadavg_before", c->loadavg[0]);
    cJSON_AddNumberToObject(p, "loadavg_after", c->loadavg[1]);
    cJSON_AddBoolToObject(p, "quick", c->quick);
    if (c->small_write_fs[0])
        cJSON_AddStringToObject(p, "small_write_fs", c->small_write_fs);
    cJSON_AddStringToObject(root, "wp_fault_method", c->wp_method);
    if (c->wp_note[0])
        cJSON_AddStringToObject(root, "wp_fault_note", c->wp_note);
    cJSON_AddStringToObject(root, "wp_unprotect_method", c->unprotect_method);
    if (c->unprotect_note[0])
        cJSON_AddStringToObject(root, "wp_unprotect_note", c->unprotect_note);
    if (c->zero_method[0])
        cJSON_AddStringToObject(root, "zero_scan_method", c->zero_method);
    cJSON_AddNumberToObject(root, "page_copy_ns", round_to(c->page_copy_ns.median, 0.1));
    cJSON_AddNumberToObject(root, "page_install_ns", round_to(c->page_install_ns.median, 0.1));
    cJSON_AddNumberToObject(root, "zero_scan_ns", round_to(c->zero_scan_ns.median, 0.1));
    cJSON_AddNumberToObject(root, "wp_fault_ns", round_to(c->wp_fault_ns.median, 0.1));
    cJSON_AddNumberToObject(root, "wp_unprotect_ns", round_to(c->wp_unprotect_ns.median, 0.1));
    cJSON_AddNumberToObject(root, "small_write_ns", round_to(c->small_write_ns.median, 0.1));
    if (c->anon_fault_ns.median > 0) {           /* not in files from before it was measured */
        cJSON_AddStringToObject(root, "anon_fault_method", c->anon_method);
        cJSON_AddNumberToObject(root, "anon_fault_ns", round_to(c->anon_fault_ns.median, 0.1));
    }
    cJSON *spread = cJSON_CreateObject();
    char per[64], per_unprotect[64];
    snprintf(per, sizeof per, "%u pages", c->batch_pages);
    snprintf(per_unprotect, sizeof per_unprotect, "%d pages", SIM_CALIB_UNPROTECT_BATCH);
    add_spread(spread, "page_copy_ns", &c->page_copy_ns, 0.1, per);
    add_spread(spread, "page_install_ns", &c->page_install_ns, 0.1, per);
    add_spread(spread, "zero_scan_ns", &c->zero_scan_ns, 0.1, per);
    add_spread(spread, "wp_fault_ns", &c->wp_fault_ns, 0.1, "one fault");
    add_spread(spread, "wp_unprotect_ns", &c->wp_unprotect_ns, 0.1, per_unprotect);
    snprintf(per, sizeof per, "%u writes", c->batch_pages);
    add_spread(spread, "small_write_ns", &c->small_write_ns, 0.1, per);
    snprintf(per, sizeof per, "%u pages", c->batch_pages);
    if (c->anon_fault_ns.median > 0)
        add_spread(spread, "anon_fault_ns", &c->anon_fault_ns, 0.1, per);
    add_rates(root, spread, "compress_bps", c, c->compress_bps);
    add_rates(root, spread, "decompress_bps", c, c->decompress_bps);
    cJSON_AddItemToObject(root, "spread", spread);
    cJSON *n = cJSON_AddObjectToObject(root, "notes");
    cJSON_AddStringToObject(n, "figures", "medians of timed samples (CLOCK_MONOTONIC); "
                            "spread: 10th and 90th percentile of the samples; rates: the "
                            "sample's time is the sum of its frames' medians (p10, p90)");
    cJSON_AddStringToObject(n, "page_copy_ns", "memcpy of a 4 KiB page out of the buffer "
                            "(provenance.buffer_bytes, pages in random order) into one 4 KiB "
                            "destination");
    cJSON_AddStringToObject(n, "page_install_ns", "memcpy of one hot 4 KiB page into random "
                            "pages of the buffer");
    cJSON_AddStringToObject(n, "zero_scan_ns", "QEMU buffer_is_zero's test, the variant it "
                            "picks on this CPU (zero_scan_method), over a zero page of the "
                            "buffer (a full scan), random order");
    cJSON_AddStringToObject(n, "wp_fault_ns", "write to a write-protected 4 KiB page until "
                            "the writer resumes (wp_fault_method)");
    cJSON_AddStringToObject(n, "wp_unprotect_ns", "removing the write protection of one 4 KiB "
                            "page, no fault pending (wp_unprotect_method: UFFDIO_WRITEPROTECT "
                            "mode 0, or mprotect read-write), random order; a one-thread "
                            "process: local TLB flush only");
    cJSON_AddStringToObject(n, "small_write_ns", "write() of 4 KiB from a cache-hot buffer "
                            "appended to an unnamed file in $TMPDIR or /tmp through the page "
                            "cache (provenance.small_write_fs), truncated untimed every 32 MiB");
    if (c->anon_fault_ns.median > 0)
        cJSON_AddStringToObject(n, "anon_fault_ns", "a page fault the kernel handles with no "
                                "I/O (anon_fault_method: the first write to each 4 KiB page of "
                                "a fresh MAP_PRIVATE|MAP_ANONYMOUS mapping, MADV_NOHUGEPAGE, no "
                                "MAP_POPULATE, minus the same loop over the faulted pages); "
                                "includes zeroing the page, which a swap-in does not do");
    cJSON_AddStringToObject(n, "compress_bps", "zstd input bytes/s on the content samples "
                            "(workloads/content) in 16-page frames; mix: 0.25 zero, 0.25 text, "
                            "0.10 code, 0.40 random, 1 / sum(fraction / rate)");
    cJSON_AddStringToObject(n, "decompress_bps", "zstd output bytes/s, the same frames");
    cJSON_AddStringToObject(n, "trace_arm", not_measured_trace_arm);
    cJSON_AddStringToObject(n, "device_state", not_measured_device_state);
    struct vm_diag d = { 0 };
    if (sim_calib_json_set_crypto(root, c, &d) != 0) {
        cJSON_Delete(root);
        return NULL;                     /* out of memory, as the caller takes NULL */
    }
    return root;
}

/* ------------------------------------------------------------ from JSON */

struct reader {
    const char *file;
    struct sim_json_pathbuf path;
    struct vm_diag *d;
};

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct reader *r, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vm_diag_set(r->d, VM_EINVAL, "%s: %s: %s", r->file, r->path.text, msg);
}

/* The member `key` of object o, descending into it; NULL (after
 * reporting, when required) if absent.  Pop with the mark in *mark. */
static const cJSON *member(struct reader *r, const cJSON *o, const char *key, bool required,
                           size_t *mark)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required)
            fail(r, "missing required key '%s'", key);
        return NULL;
    }
    *mark = sim_json_pathbuf_key(&r->path, key);
    return v;
}

static int get_string(struct reader *r, const cJSON *o, const char *key, char *out, size_t len)
{
    size_t mark;
    char got[64];
    const cJSON *v = member(r, o, key, true, &mark);
    if (!v)
        return VM_EINVAL;
    int rc = 0;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        rc = fail(r, "expected non-empty string, got %s", sim_json_got(v, got, sizeof got));
    else
        snprintf(out, len, "%s", v->valuestring);
    sim_json_pathbuf_pop(&r->path, mark);
    return rc;
}

/* A number in (0, max], finite. */
static int get_positive(struct reader *r, const cJSON *o, const char *key, double max,
                        double *out)
{
    size_t mark;
    char got[64];
    const cJSON *v = member(r, o, key, true, &mark);
    if (!v)
        return VM_EINVAL;
    int rc = 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0 ||
        v->valuedouble > max)
        rc = fail(r, "expected number > 0 and <= %.0f, got %s", max,
                  sim_json_got(v, got, sizeof got));
    else
        *out = v->valuedouble;
    sim_json_pathbuf_pop(&r->path, mark);
    return rc;
}

static int get_provenance(struct reader *r, const cJSON *root, struct sim_calib *c)
{
    size_t mark;
    char got[64];
    const cJSON *p = member(r, root, "provenance", true, &mark);
    if (!p)
        return VM_EINVAL;
    int rc;
    if (!cJSON_IsObject(p)) {
        rc = fail(r, "expected object, got %s", sim_json_got(p, got, sizeof got));
    } else if ((rc = get_string(r, p, "cpu_model", c->cpu_model, sizeof c->cpu_model)) == 0 &&
               (rc = get_string(r, p, "kernel", c->kernel, sizeof c->kernel)) == 0 &&
               (rc = get_string(r, p, "date", c->date, sizeof c->date)) == 0 &&
               (rc = get_string(r, p, "vmsim_version", c->vmsim_version,
                                sizeof c->vmsim_version)) == 0) {
        double cores = 0;
        rc = get_positive(r, p, "cores", 1e6, &cores);
        if (rc == 0 && cores != floor(cores)) {
            size_t m2 = sim_json_pathbuf_key(&r->path, "cores");
            rc = fail(r, "expected integer >= 1, got %g", cores);
            sim_json_pathbuf_pop(&r->path, m2);
        }
        c->cores = (int)cores;
        const cJSON *z = cJSON_GetObjectItemCaseSensitive(p, "zstd_version");
        if (cJSON_IsString(z))
            snprintf(c->zstd_version, sizeof c->zstd_version, "%s", z->valuestring);
        c->quick = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "quick"));
    }
    sim_json_pathbuf_pop(&r->path, mark);
    return rc;
}

/* "level_N" with N a zstd level, or INT32_MIN. */
static int parse_level(const char *key)
{
    if (strncmp(key, "level_", 6) != 0)
        return INT32_MIN;
    char *end;
    errno = 0;
    long n = strtol(key + 6, &end, 10);
    if (end == key + 6 || *end || errno || n < ZSTD_minCLevel() || n > ZSTD_maxCLevel())
        return INT32_MIN;
    return (int)n;
}

/* compress_bps / decompress_bps: level objects of every class and the mix. */
static int get_rates(struct reader *r, const cJSON *root, const char *key, struct sim_calib *c,
                     struct sim_calib_fig (*rates)[SIM_CALIB_NR_RATES])
{
    size_t mark;
    char got[64];
    const cJSON *o = member(r, root, key, true, &mark);
    if (!o)
        return VM_EINVAL;
    int rc = 0;
    if (!cJSON_IsObject(o))
        rc = fail(r, "expected object of level_N objects, got %s",
                  sim_json_got(o, got, sizeof got));
    for (const cJSON *lv = cJSON_IsObject(o) ? o->child : NULL; lv && rc == 0; lv = lv->next) {
        int level = parse_level(lv->string);
        if (level == INT32_MIN) {
            rc = fail(r, "unknown key '%s' (expected level_N, N a zstd level %d..%d)",
                      lv->string, ZSTD_minCLevel(), ZSTD_maxCLevel());
            break;
        }
        int li = sim_calib_level_index(c, level);
        if (li < 0 && c->nr_levels == SIM_CALIB_MAX_LEVELS) {
            rc = fail(r, "expected at most %d zstd levels, got more", SIM_CALIB_MAX_LEVELS);
            break;
        }
        size_t m2 = sim_json_pathbuf_key(&r->path, lv->string);
        if (!cJSON_IsObject(lv)) {
            rc = fail(r, "expected object, got %s", sim_json_got(lv, got, sizeof got));
        } else {
            if (li < 0) {
                li = c->nr_levels++;
                c->levels[li] = level;
            }
            for (const cJSON *k = lv->child; k && rc == 0; k = k->next) {
                bool known = false;
                for (int i = 0; i < SIM_CALIB_NR_RATES; i++)
                    known |= strcmp(k->string, sim_calib_rate_names[i]) == 0;
                if (!known) {
                    const char *s = sim_cfg_suggest(sim_calib_rate_names, SIM_CALIB_NR_RATES,
                                                    k->string);
                    rc = s ? fail(r, "unknown key '%s' (did you mean '%s'?)", k->string, s)
                           : fail(r, "unknown key '%s' (expected zero, text, code, random, "
                                  "mix)", k->string);
                }
            }
            for (int i = 0; i < SIM_CALIB_NR_RATES && rc == 0; i++) {
                memset(&rates[li][i], 0, sizeof rates[li][i]);
                rc = get_positive(r, lv, sim_calib_rate_names[i], MAX_BPS,
                                  &rates[li][i].median);
            }
        }
        sim_json_pathbuf_pop(&r->path, m2);
    }
    if (rc == 0 && sim_calib_level_index(c, SIM_CONTENT_ZSTD_LEVEL) < 0)
        rc = fail(r, "missing required key 'level_%d' (the level of the save stream's sizes)",
                  SIM_CONTENT_ZSTD_LEVEL);
    sim_json_pathbuf_pop(&r->path, mark);
    return rc;
}

/* An optional string member into out[len]: 0 when absent or a string. */
static int get_opt_string(struct reader *r, const cJSON *root, const char *key, char *out,
                          size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v)
        return 0;
    if (!cJSON_IsString(v)) {
        char got[64];
        size_t mark = sim_json_pathbuf_key(&r->path, key);
        int rc = fail(r, "expected string, got %s", sim_json_got(v, got, sizeof got));
        sim_json_pathbuf_pop(&r->path, mark);
        return rc;
    }
    snprintf(out, len, "%s", v->valuestring);
    return 0;
}

static int get_unprotect_method(struct reader *r, const cJSON *root, struct sim_calib *c)
{
    int rc = get_string(r, root, "wp_unprotect_method", c->unprotect_method,
                        sizeof c->unprotect_method);
    if (rc == 0 && strcmp(c->unprotect_method, SIM_CALIB_METHOD_UFFD) != 0 &&
        strcmp(c->unprotect_method, SIM_CALIB_UNPROTECT_MPROTECT) != 0) {
        size_t mark = sim_json_pathbuf_key(&r->path, "wp_unprotect_method");
        rc = fail(r, "expected \"%s\" or \"%s\", got \"%.60s\"", SIM_CALIB_METHOD_UFFD,
                  SIM_CALIB_UNPROTECT_MPROTECT, c->unprotect_method);
        sim_json_pathbuf_pop(&r->path, mark);
    }
    if (rc == 0)
        rc = get_opt_string(r, root, "wp_unprotect_note", c->unprotect_note,
                            sizeof c->unprotect_note);
    if (rc == 0)
        rc = get_opt_string(r, root, "zero_scan_method", c->zero_method, sizeof c->zero_method);
    return rc;
}

/* anon_fault_ns and its method: both or neither (files from before it). */
static int get_anon(struct reader *r, const cJSON *root, struct sim_calib *c)
{
    bool has_fig = cJSON_GetObjectItemCaseSensitive(root, "anon_fault_ns") != NULL;
    bool has_method = cJSON_GetObjectItemCaseSensitive(root, "anon_fault_method") != NULL;
    if (!has_fig && !has_method)
        return 0;                        /* not measured: median 0, method "" */
    int rc = get_string(r, root, "anon_fault_method", c->anon_method, sizeof c->anon_method);
    if (rc == 0 && strcmp(c->anon_method, SIM_CALIB_ANON_METHOD) != 0) {
        size_t mark = sim_json_pathbuf_key(&r->path, "anon_fault_method");
        rc = fail(r, "expected \"%s\", got \"%.60s\"", SIM_CALIB_ANON_METHOD, c->anon_method);
        sim_json_pathbuf_pop(&r->path, mark);
    }
    if (rc == 0)
        rc = get_positive(r, root, "anon_fault_ns", MAX_NS, &c->anon_fault_ns.median);
    return rc;
}

/* "crypto": optional; when there, every figure and openssl_version. */
static int get_crypto(struct reader *r, const cJSON *root, struct sim_calib *c)
{
    size_t mark = 0;
    char got[64];
    struct sim_calib_crypto *k = &c->crypto;
    k->loadavg[0] = k->loadavg[1] = -1;
    if (!cJSON_GetObjectItemCaseSensitive(root, "crypto"))
        return 0;                        /* not measured: every figure 0 */
    const cJSON *o = member(r, root, "crypto", true, &mark);
    int rc = 0;
    if (!cJSON_IsObject(o))
        rc = fail(r, "expected object, got %s", sim_json_got(o, got, sizeof got));
    for (const cJSON *m = cJSON_IsObject(o) ? o->child : NULL; m && rc == 0; m = m->next) {
        bool known = false;
        for (int i = 0; i < NR_CRYPTO_KEYS; i++)
            known |= strcmp(m->string, crypto_keys[i]) == 0;
        if (known)
            continue;
        const char *s = sim_cfg_suggest(crypto_keys, NR_CRYPTO_KEYS, m->string);
        rc = s ? fail(r, "unknown key '%s' (did you mean '%s'?)", m->string, s)
               : fail(r, "unknown key '%s'", m->string);
    }
    struct sim_calib_fig *f[NR_CRYPTO_FIGS] = {
        &k->sha256_64_ns, &k->sha256_4k_ns, &k->ed25519_sign_ns, &k->ed25519_verify_ns,
        &k->ecdsa_p256_sign_ns, &k->ecdsa_p256_verify_ns, &k->policy_lookup_ns,
    };
    if (rc == 0)
        rc = get_string(r, o, "openssl_version", k->openssl_version,
                        sizeof k->openssl_version);
    if (rc == 0)
        rc = get_opt_string(r, o, "date", k->date, sizeof k->date);
    for (int i = 0; rc == 0 && i < 3; i++) {
        const char *key = i == 2 ? "quick" : i ? "loadavg_after" : "loadavg_before";
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        if (!v)
            continue;
        bool good = i == 2 ? cJSON_IsBool(v) : cJSON_IsNumber(v) && isfinite(v->valuedouble);
        if (!good) {
            size_t m2 = sim_json_pathbuf_key(&r->path, key);
            rc = fail(r, "expected %s, got %s", i == 2 ? "true or false" : "number",
                      sim_json_got(v, got, sizeof got));
            sim_json_pathbuf_pop(&r->path, m2);
        } else if (i == 2) {
            k->quick = cJSON_IsTrue(v);
        } else {
            k->loadavg[i] = v->valuedouble;
        }
    }
    for (int i = 0; rc == 0 && i < NR_CRYPTO_FIGS; i++)
        rc = get_positive(r, o, crypto_keys[i], MAX_NS, &f[i]->median);
    sim_json_pathbuf_pop(&r->path, mark);
    if (rc)
        memset(k, 0, sizeof *k);
    return rc;
}

static int get_method(struct reader *r, const cJSON *root, struct sim_calib *c)
{
    int rc = get_string(r, root, "wp_fault_method", c->wp_method, sizeof c->wp_method);
    if (rc == 0 && strcmp(c->wp_method, SIM_CALIB_METHOD_UFFD) != 0 &&
        strcmp(c->wp_method, SIM_CALIB_METHOD_MPROTECT) != 0) {
        size_t mark = sim_json_pathbuf_key(&r->path, "wp_fault_method");
        rc = fail(r, "expected \"%s\" or \"%s\", got \"%.60s\"", SIM_CALIB_METHOD_UFFD,
                  SIM_CALIB_METHOD_MPROTECT, c->wp_method);
        sim_json_pathbuf_pop(&r->path, mark);
    }
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(root, "wp_fault_note");
    if (rc == 0 && note && !cJSON_IsString(note)) {
        char got[64];
        size_t mark = sim_json_pathbuf_key(&r->path, "wp_fault_note");
        rc = fail(r, "expected string, got %s", sim_json_got(note, got, sizeof got));
        sim_json_pathbuf_pop(&r->path, mark);
    } else if (note) {
        snprintf(c->wp_note, sizeof c->wp_note, "%s", note->valuestring);
    }
    return rc;
}

int sim_calib_from_json(const char *file, const cJSON *root, struct sim_calib *out,
                        struct vm_diag *d)
{
    struct reader r = { .file = file, .d = d };
    char got[64], fmt[64];
    sim_json_pathbuf_init(&r.path);
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(root))
        return fail(&r, "expected a costs file object (vmsim calibrate -o), got %s",
                    sim_json_got(root, got, sizeof got));
    for (const cJSON *k = root->child; k; k = k->next) {
        bool known = false;
        for (int i = 0; i < NR_TOP_KEYS; i++)
            known |= strcmp(k->string, top_keys[i]) == 0;
        if (known)
            continue;
        const char *s = sim_cfg_suggest(top_keys, NR_TOP_KEYS, k->string);
        return s ? fail(&r, "unknown key '%s' (did you mean '%s'?)", k->string, s)
                 : fail(&r, "unknown key '%s'", k->string);
    }
    int rc = get_string(&r, root, "format", fmt, sizeof fmt);
    if (rc == 0 && strcmp(fmt, SIM_CALIB_FORMAT) != 0) {
        size_t mark = sim_json_pathbuf_key(&r.path, "format");
        rc = fail(&r, "expected \"%s\", got \"%s\"", SIM_CALIB_FORMAT, fmt);
        sim_json_pathbuf_pop(&r.path, mark);
    }
    if (rc == 0)
        rc = get_provenance(&r, root, out);
    if (rc == 0)
        rc = get_method(&r, root, out);
    if (rc == 0)
        rc = get_unprotect_method(&r, root, out);
    if (rc == 0)
        rc = get_positive(&r, root, "page_copy_ns", MAX_NS, &out->page_copy_ns.median);
    if (rc == 0)
        rc = get_positive(&r, root, "page_install_ns", MAX_NS, &out->page_install_ns.median);
    if (rc == 0)
        rc = get_positive(&r, root, "zero_scan_ns", MAX_NS, &out->zero_scan_ns.median);
    if (rc == 0)
        rc = get_positive(&r, root, "wp_fault_ns", MAX_NS, &out->wp_fault_ns.median);
    if (rc == 0)
        rc = get_positive(&r, root, "wp_unprotect_ns", MAX_NS, &out->wp_unprotect_ns.median);
    if (rc == 0)
        rc = get_positive(&r, root, "small_write_ns", MAX_NS, &out->small_write_ns.median);
    if (rc == 0)
        rc = get_anon(&r, root, out);
    if (rc == 0)
        rc = get_rates(&r, root, "compress_bps", out, out->compress_bps);
    if (rc == 0)
        rc = get_rates(&r, root, "decompress_bps", out, out->decompress_bps);
    if (rc == 0)
        rc = get_crypto(&r, root, out);
    for (int i = 0; rc == 0 && i < out->nr_levels; i++)
        if (out->compress_bps[i][0].median == 0 || out->decompress_bps[i][0].median == 0) {
            size_t mark = sim_json_pathbuf_key(&r.path, out->compress_bps[i][0].median == 0
                                                        ? "compress_bps" : "decompress_bps");
            rc = fail(&r, "missing required key 'level_%d' (the other rates have it)",
                      out->levels[i]);
            sim_json_pathbuf_pop(&r.path, mark);
        }
    for (int i = 0; rc == 0 && i < 2; i++) {
        const char *k = i ? "notes" : "spread";
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, k);
        if (v && !cJSON_IsObject(v)) {
            size_t mark = sim_json_pathbuf_key(&r.path, k);
            rc = fail(&r, "expected object, got %s", sim_json_got(v, got, sizeof got));
            sim_json_pathbuf_pop(&r.path, mark);
        }
    }
    return rc;
}

int sim_calib_load(const char *file, struct sim_calib *out, struct vm_diag *d)
{
    cJSON *root = NULL;
    int rc = sim_json_load(file, &root, d);
    if (rc == 0)
        rc = sim_calib_from_json(file, root, out, d);
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------ writing */

int sim_calib_out_open(const char *file, struct sim_calib_out *o, struct vm_diag *d)
{
    struct stat st;
    o->fd = -1;
    if (!file[0])
        return vm_diag_set(d, VM_EINVAL, "expected a file name, got nothing");
    if (strlen(file) + 32 >= sizeof o->final)
        return vm_diag_set(d, VM_EINVAL, "%s: expected a shorter path", file);
    if (stat(file, &st) == 0 && S_ISDIR(st.st_mode))
        return vm_diag_set(d, VM_EINVAL, "%s: is a directory, expected a file name", file);
    snprintf(o->final, sizeof o->final, "%s", file);
    const char *slash = strrchr(file, '/');
    if (slash)
        snprintf(o->tmp, sizeof o->tmp, "%.*s/.%s.tmp.XXXXXX", (int)(slash - file), file,
                 slash + 1);
    else
        snprintf(o->tmp, sizeof o->tmp, ".%s.tmp.XXXXXX", file);
    o->fd = sim_tempfile_mkstemp(o->tmp);
    if (o->fd < 0)
        return vm_diag_set(d, VM_EIO, "%s: cannot create: %s", file, strerror(errno));
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(o->fd, 0666 & ~mask);      /* mkstemp makes it 0600 */
    return 0;
}

void sim_calib_out_abort(struct sim_calib_out *o)
{
    if (o->fd < 0)
        return;
    close(o->fd);
    unlink(o->tmp);
    sim_tempfile_unregister(o->tmp);
    o->fd = -1;
}

static int write_all(struct sim_calib_out *o, const char *p, size_t len, struct vm_diag *d)
{
    while (len) {
        ssize_t w = write(o->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return vm_diag_set(d, VM_EIO, "%s: write failed: %s", o->final, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int sim_calib_out_commit(struct sim_calib_out *o, const struct sim_calib *c, struct vm_diag *d)
{
    cJSON *root = sim_calib_to_json(c);
    if (!root) {
        sim_calib_out_abort(o);
        return vm_diag_set(d, VM_ENOMEM, "out of memory for the costs file");
    }
    int rc = sim_calib_out_commit_json(o, root, d);
    cJSON_Delete(root);
    return rc;
}

int sim_calib_out_commit_json(struct sim_calib_out *o, const cJSON *root, struct vm_diag *d)
{
    char *text = cJSON_Print(root);
    if (!text) {
        sim_calib_out_abort(o);
        return vm_diag_set(d, VM_ENOMEM, "out of memory for the costs file");
    }
    int rc = write_all(o, text, strlen(text), d);
    if (rc == 0)
        rc = write_all(o, "\n", 1, d);
    free(text);
    if (rc == 0 && fsync(o->fd) != 0)
        rc = vm_diag_set(d, VM_EIO, "%s: write failed: %s", o->final, strerror(errno));
    if (close(o->fd) != 0 && rc == 0)
        rc = vm_diag_set(d, VM_EIO, "%s: write failed: %s", o->final, strerror(errno));
    o->fd = -1;
    if (rc == 0 && rename(o->tmp, o->final) != 0)
        rc = vm_diag_set(d, VM_EIO, "%s: cannot rename into place: %s", o->final,
                         strerror(errno));
    if (rc)
        unlink(o->tmp);
    sim_tempfile_unregister(o->tmp);
    return rc;
}

int sim_calib_write(const char *file, const struct sim_calib *c, struct vm_diag *d)
{
    struct sim_calib_out o;
    int rc = sim_calib_out_open(file, &o, d);
    return rc ? rc : sim_calib_out_commit(&o, c, d);
}
