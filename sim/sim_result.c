/*
 * sim_result.c - result files (result.json, <name>.csv) and `vmsim check`
 * (see sim_result.h).
 *
 * Based on fio's JSON output (version, seed and config echo at the root)
 * and git's lockfile idiom (write a temporary file in the same directory,
 * then rename over the final name, so a reader never sees half a file).
 * Output is deterministic: cJSON prints keys in insertion order and
 * numbers with the shortest exact form; wall-clock figures live only in
 * the "host" block, which `check` ignores.
 *
 * Not done here: merging results of several runs (each run writes its own
 * directory).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xbt/base.h>
#include <simgrid/version.h>

#include "sim_json.h"
#include "sim_mech.h"
#include "sim_result.h"
#include "sim_tempfile.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* ------------------------------------------------------------ writing */

/* mkdir -p; 0 or VM_EIO with the message in d. */
static int make_dirs(const char *dir, struct vm_diag *d)
{
    char buf[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return vm_diag_set(d, VM_EINVAL, "'%s': expected a directory path", dir);
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return vm_diag_set(d, VM_EIO, "%s: cannot create directory: %s", buf,
                                   strerror(errno));
            struct stat st;
            if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
                return vm_diag_set(d, VM_EIO, "%s: expected a directory, got a file", buf);
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

/* Write data to dir/name through dir/.tmp.XXXXXX and rename; the
 * temporary file is registered, so an interrupted run leaves none. */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len,
                        struct vm_diag *d)
{
    char tmp[PATH_MAX], final[PATH_MAX];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.tmp.XXXXXX", dir);
    int fd = sim_tempfile_mkstemp(tmp);
    if (fd < 0)
        return vm_diag_set(d, VM_EIO, "%s: cannot create a file: %s", dir, strerror(errno));
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);         /* mkstemp makes it 0600 */
    int rc = 0;
    size_t off = 0;
    while (off < len && rc == 0) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            rc = vm_diag_set(d, VM_EIO, "%s: write failed: %s", final, strerror(errno));
        else
            off += (size_t)w;
    }
    if (fsync(fd) != 0 && rc == 0)
        rc = vm_diag_set(d, VM_EIO, "%s: write failed: %s", final, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = vm_diag_set(d, VM_EIO, "%s: write failed: %s", final, strerror(errno));
    if (rc == 0 && rename(tmp, final) != 0)
        rc = vm_diag_set(d, VM_EIO, "%s: cannot rename into place: %s", final, strerror(errno));
    if (rc)
        unlink(tmp);
    sim_tempfile_unregister(tmp);
    return rc;
}

static double num_or(const cJSON *obj, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static bool record_ok(const cJSON *rec)
{
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(rec, "ok");
    return !cJSON_IsFalse(ok);
}

static cJSON *build_result(const struct sim_config *cfg, const cJSON *records, const cJSON *host)
{
    cJSON *doc = cJSON_CreateObject();
    char sg[32];
    int major = 0, minor = 0, patch = 0;
    sg_version_get(&major, &minor, &patch);
    snprintf(sg, sizeof sg, "%d.%d.%d", major, minor, patch);
    cJSON_AddStringToObject(doc, "vmsim_version", PACKAGE_VERSION);
    cJSON_AddStringToObject(doc, "simgrid_version", sg);
    cJSON_AddStringToObject(doc, "experiment", cfg->name);
    /* the whole text: cfg->description holds only its first 255 bytes */
    const cJSON *desc = cfg->root ? cJSON_GetObjectItemCaseSensitive(cfg->root, "description")
                                  : NULL;
    cJSON_AddStringToObject(doc, "description",
                            cJSON_IsString(desc) ? desc->valuestring : cfg->description);
    cJSON_AddStringToObject(doc, "config_file", cfg->file);
    cJSON_AddNumberToObject(doc, "seed", (double)cfg->seed);
    cJSON_AddBoolToObject(doc, "quick", cfg->quick);
    cJSON_AddItemToObject(doc, "config", cfg->root ? cJSON_Duplicate(cfg->root, 1)
                                                   : cJSON_CreateObject());
    cJSON *specs = cJSON_AddArrayToObject(doc, "metric_specs");
    for (int i = 0; i < cfg->nr_metrics; i++) {
        const struct sim_exp_metric *m = &cfg->metrics[i];
        int id = sim_mech_metric_find(cfg->mech, m->name);
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", m->name);
        cJSON_AddStringToObject(s, "unit", id >= 0 ? sim_mech_metric(cfg->mech, id)->unit : "");
        cJSON_AddStringToObject(s, "direction", m->higher_is_better ? "higher" : "lower");
        cJSON_AddNumberToObject(s, "tolerance", m->tolerance);
        cJSON_AddNumberToObject(s, "abs_tolerance", m->abs_tolerance);
        cJSON_AddItemToArray(specs, s);
    }
    double violations = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, records)
        violations += num_or(r, "violations", 0);
    cJSON_AddItemToObject(doc, "records", records ? cJSON_Duplicate(records, 1)
                                                  : cJSON_CreateArray());
    cJSON_AddNumberToObject(doc, "violations", violations);
    cJSON_AddItemToObject(doc, "host", host ? cJSON_Duplicate(host, 1) : cJSON_CreateObject());
    return doc;
}

/* Growable text buffer for the CSV. */
struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* One CSV cell: quoted when it holds a comma, quote or line break. */
static void csv_cell(struct buf *b, const char *s, bool first)
{
    if (!first)
        buf_put(b, ",", 1);
    if (!strpbrk(s, ",\"\n\r")) {
        buf_put(b, s, strlen(s));
        return;
    }
    buf_put(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            buf_put(b, "\"", 1);
        buf_put(b, p, 1);
    }
    buf_put(b, "\"", 1);
}

static const char *str_or(const cJSON *obj, const char *key, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

static int build_csv(const struct sim_config *cfg, const cJSON *records, struct buf *b)
{
    /* columns: every metric any record has, in the order the mechanism
     * declares them, then names it does not declare in first-seen order */
    const struct sim_mech *mech = cfg->mech;
    const char *cols[SIM_MAX_METRICS + 64];
    int nr_cols = 0;
    const cJSON *r, *m;
    for (int i = 0; i < sim_mech_nr_metrics(mech); i++) {
        const char *name = sim_mech_metric(mech, i)->name;
        bool any = false;
        cJSON_ArrayForEach(r, records)
            any |= cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "metrics"),
                                                    name) != NULL;
        if (any)
            cols[nr_cols++] = name;
    }
    cJSON_ArrayForEach(r, records) {
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(r, "metrics")) {
            if (!m->string || sim_mech_metric_find(mech, m->string) >= 0)
                continue;
            bool seen = false;
            for (int i = 0; i < nr_cols && !seen; i++)
                seen = strcmp(cols[i], m->string) == 0;
            if (!seen && nr_cols < (int)(sizeof cols / sizeof cols[0]))
                cols[nr_cols++] = m->string;
        }
    }
    const struct sim_exp *p0 = cfg->nr_points ? &cfg->points[0] : NULL;
    int nr_keys = p0 ? p0->nr_point_keys : 0;

    csv_cell(b, "id", true);
    csv_cell(b, "variant", false);
    csv_cell(b, "policy", false);
    for (int k = 0; k < nr_keys; k++)
        csv_cell(b, p0->point_keys[k], false);
    for (int i = 0; i < nr_cols; i++)
        csv_cell(b, cols[i], false);
    csv_cell(b, "violations", false);
    csv_cell(b, "ok", false);
    buf_put(b, "\n", 1);

    cJSON_ArrayForEach(r, records) {
        char num[64];
        const cJSON *point = cJSON_GetObjectItemCaseSensitive(r, "point");
        const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(r, "metrics");
        csv_cell(b, str_or(r, "id", ""), true);
        csv_cell(b, str_or(r, "variant", ""), false);
        csv_cell(b, str_or(r, "policy", ""), false);
        for (int k = 0; k < nr_keys; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(point, p0->point_keys[k]);
            const char *t = sim_json_scalar_text(v, num, sizeof num);
            csv_cell(b, t ? t : "", false);
        }
        for (int i = 0; i < nr_cols; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(metrics, cols[i]);
            csv_cell(b, cJSON_IsNumber(v) ? sim_json_fmt_number(v->valuedouble, num, sizeof num)
                                          : "", false);
        }
        csv_cell(b, sim_json_fmt_number(num_or(r, "violations", 0), num, sizeof num), false);
        csv_cell(b, record_ok(r) ? "true" : "false", false);
        buf_put(b, "\n", 1);
    }
    return b->oom ? VM_ENOMEM : 0;
}

int sim_result_write(const char *dir, const struct sim_config *cfg, const cJSON *records,
                     const cJSON *host, struct vm_diag *d)
{
    /* both files are built before either is written, the CSV goes first,
     * and result.json last: a result.json is never there without its CSV */
    struct buf b = { 0 };
    int rc = build_csv(cfg, records, &b);
    if (rc) {
        free(b.p);
        return vm_diag_set(d, rc, "%s: out of memory writing the CSV", dir);
    }
    cJSON *doc = build_result(cfg, records, host);
    char *text = doc ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    if (!text) {
        free(b.p);
        return vm_diag_set(d, VM_ENOMEM, "%s: out of memory printing result.json", dir);
    }
    char csv[SIM_NAME_MAX + 8], csv_path[PATH_MAX];
    snprintf(csv, sizeof csv, "%s.csv", cfg->name);
    snprintf(csv_path, sizeof csv_path, "%s/%s", dir, csv);
    rc = make_dirs(dir, d);
    if (rc == 0)
        rc = write_atomic(dir, csv, b.p ? b.p : "", b.len, d);
    if (rc == 0) {
        size_t n = strlen(text);
        char *full = malloc(n + 2);
        if (!full) {
            rc = vm_diag_set(d, VM_ENOMEM, "%s: out of memory printing result.json", dir);
        } else {
            memcpy(full, text, n);
            full[n] = '\n';
            full[n + 1] = '\0';
            rc = write_atomic(dir, "result.json", full, n + 1, d);
            free(full);
        }
        if (rc)
            unlink(csv_path);
    }
    cJSON_free(text);
    free(b.p);
    return rc;
}

/* ------------------------------------------------------------ check */

static int load_result(const char *file, cJSON **out, struct vm_diag *d)
{
    int rc = sim_json_load(file, out, d);
    if (rc)
        return rc;
    char got[64];
    const cJSON *root = *out;
    if (!cJSON_IsObject(root)) {
        rc = vm_diag_set(d, VM_EINVAL, "%s: $: expected a vmsim result object, got %s", file,
                         sim_json_got(root, got, sizeof got));
        goto bad;
    }
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "records");
    if (!cJSON_IsArray(recs)) {
        rc = vm_diag_set(d, VM_EINVAL, "%s: $.records: expected array of records, got %s", file,
                         sim_json_got(recs, got, sizeof got));
        goto bad;
    }
    int i = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, recs) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "metrics");
        if (!cJSON_IsObject(r)) {
            rc = vm_diag_set(d, VM_EINVAL, "%s: $.records[%d]: expected object, got %s", file, i,
                             sim_json_got(r, got, sizeof got));
            goto bad;
        }
        if (!cJSON_IsString(id)) {
            rc = vm_diag_set(d, VM_EINVAL, "%s: $.records[%d].id: expected string, got %s", file,
                             i, sim_json_got(id, got, sizeof got));
            goto bad;
        }
        if (m && !cJSON_IsObject(m)) {
            rc = vm_diag_set(d, VM_EINVAL, "%s: $.records[%d].metrics: expected object, got %s",
                             file, i, sim_json_got(m, got, sizeof got));
            goto bad;
        }
        i++;
    }
    const cJSON *specs = cJSON_GetObjectItemCaseSensitive(root, "metric_specs");
    if (!cJSON_IsArray(specs)) {
        rc = vm_diag_set(d, VM_EINVAL, "%s: $.metric_specs: expected array, got %s", file,
                         sim_json_got(specs, got, sizeof got));
        goto bad;
    }
    i = 0;
    cJSON_ArrayForEach(r, specs) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(r, "name");
        const cJSON *dir = cJSON_GetObjectItemCaseSensitive(r, "direction");
        const cJSON *tol = cJSON_GetObjectItemCaseSensitive(r, "tolerance");
        const cJSON *abs_tol = cJSON_GetObjectItemCaseSensitive(r, "abs_tolerance");
        const char *bad = !cJSON_IsString(nm) ? "name"
            : !(cJSON_IsString(dir) && (strcmp(dir->valuestring, "lower") == 0 ||
                                        strcmp(dir->valuestring, "higher") == 0)) ? "direction"
            : !(cJSON_IsNumber(tol) && tol->valuedouble >= 0) ? "tolerance"
            : !(cJSON_IsNumber(abs_tol) && abs_tol->valuedouble >= 0) ? "abs_tolerance" : NULL;
        if (bad) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, bad);
            const char *want = strcmp(bad, "name") == 0 ? "string"
                : strcmp(bad, "direction") == 0 ? "\"lower\" or \"higher\"" : "number >= 0";
            rc = vm_diag_set(d, VM_EINVAL, "%s: $.metric_specs[%d].%s: expected %s, got %s",
                             file, i, bad, want, sim_json_got(v, got, sizeof got));
            goto bad;
        }
        i++;
    }
    return 0;
bad:
    cJSON_Delete(*out);
    *out = NULL;
    return rc;
}

/* The mechanism a loaded result ran ($.config.mechanism), which must be
 * registered here; with specs, each spec's metric must be one it declares. */
static const struct sim_mech *result_mech(const char *file, const cJSON *root, bool specs,
                                          struct vm_diag *d)
{
    char got[64];
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cfg, "mechanism");
    const struct sim_mech *m = cJSON_IsString(name) ? sim_mech_find(name->valuestring) : NULL;
    if (!m) {
        char hint[512];
        vm_diag_set(d, VM_EINVAL, "%s: $.config.mechanism: expected a mechanism of this vmsim "
                    "%s, got %s", file,
                    sim_mech_hint(cJSON_IsString(name) ? name->valuestring : NULL, hint,
                                  sizeof hint),
                    sim_json_got(name, got, sizeof got));
        return NULL;
    }
    int i = 0;
    const cJSON *sp;
    const cJSON *all = specs ? cJSON_GetObjectItemCaseSensitive(root, "metric_specs") : NULL;
    cJSON_ArrayForEach(sp, all) {
        const char *metric = cJSON_GetObjectItemCaseSensitive(sp, "name")->valuestring;
        if (sim_mech_metric_find(m, metric) < 0) {
            vm_diag_set(d, VM_EINVAL, "%s: $.metric_specs[%d].name: unknown metric '%s' of "
                        "mechanism '%s'", file, i, metric, m->name);
            return NULL;
        }
        i++;
    }
    return m;
}

struct row {
    char id[256], metric[64], unit[16], base[32], result[32], change[32];
    const char *verdict;
};

struct table {
    struct row *rows;
    int n, cap;
};

static void table_add(struct table *t, const char *id, const char *metric, const char *unit,
                      const char *base, const char *result, const char *change,
                      const char *verdict)
{
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        struct row *nr = realloc(t->rows, sizeof *nr * (size_t)cap);
        if (!nr)
            return;
        t->rows = nr;
        t->cap = cap;
    }
    struct row *r = &t->rows[t->n++];
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->metric, sizeof r->metric, "%s", metric);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    snprintf(r->base, sizeof r->base, "%s", base);
    snprintf(r->result, sizeof r->result, "%s", result);
    snprintf(r->change, sizeof r->change, "%s", change);
    r->verdict = verdict;
}

static const cJSON *find_record(const cJSON *records, const char *id)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, records) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "id");
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
            return r;
    }
    return NULL;
}

static void print_table(const struct table *t)
{
    static const char *const head[] = { "id", "metric", "unit", "baseline", "result",
                                        "change %", "verdict" };
    size_t wd[7];
    for (int c = 0; c < 7; c++)
        wd[c] = strlen(head[c]);
    for (int i = 0; i < t->n; i++) {
        const struct row *r = &t->rows[i];
        const char *cells[7] = { r->id, r->metric, r->unit, r->base, r->result, r->change,
                                 r->verdict };
        for (int c = 0; c < 7; c++)
            if (strlen(cells[c]) > wd[c])
                wd[c] = strlen(cells[c]);
    }
    printf("%-*s | %-*s | %-*s | %*s | %*s | %*s | %s\n", (int)wd[0], head[0], (int)wd[1],
           head[1], (int)wd[2], head[2], (int)wd[3], head[3], (int)wd[4], head[4], (int)wd[5],
           head[5], head[6]);
    for (int i = 0; i < t->n; i++) {
        const struct row *r = &t->rows[i];
        printf("%-*s | %-*s | %-*s | %*s | %*s | %*s | %s\n", (int)wd[0], r->id, (int)wd[1],
               r->metric, (int)wd[2], r->unit, (int)wd[3], r->base, (int)wd[4], r->result,
               (int)wd[5], r->change, r->verdict);
    }
}

int sim_result_check(const char *result_path, const char *baseline_path, struct vm_diag *d)
{
    cJSON *res = NULL, *base = NULL;
    if (load_result(result_path, &res, d) || load_result(baseline_path, &base, d)) {
        cJSON_Delete(res);
        return 2;
    }
    const struct sim_mech *mech = result_mech(result_path, res, false, d);
    const struct sim_mech *bmech = mech ? result_mech(baseline_path, base, true, d) : NULL;
    if (bmech && bmech != mech)
        vm_diag_set(d, VM_EINVAL, "%s: $.config.mechanism: expected '%s' (the result's), got "
                    "'%s'", baseline_path, mech->name, bmech->name);
    if (!mech || bmech != mech) {
        cJSON_Delete(res);
        cJSON_Delete(base);
        return 2;
    }
    const cJSON *rrecs = cJSON_GetObjectItemCaseSensitive(res, "records");
    const cJSON *brecs = cJSON_GetObjectItemCaseSensitive(base, "records");
    const cJSON *specs = cJSON_GetObjectItemCaseSensitive(base, "metric_specs");
    struct table t = { 0 };
    int compared = 0, regressed = 0, better = 0, missing = 0, violated = 0;
    const cJSON *b, *s, *r;

    cJSON_ArrayForEach(b, brecs) {
        const char *id = cJSON_GetObjectItemCaseSensitive(b, "id")->valuestring;
        r = find_record(rrecs, id);
        if (!r) {
            table_add(&t, id, "-", "", "-", "-", "", "missing");
            missing++;
            continue;
        }
        const cJSON *bm = cJSON_GetObjectItemCaseSensitive(b, "metrics");
        const cJSON *rm = cJSON_GetObjectItemCaseSensitive(r, "metrics");
        cJSON_ArrayForEach(s, specs) {
            const char *name = cJSON_GetObjectItemCaseSensitive(s, "name")->valuestring;
            const char *unit = sim_mech_metric(mech, sim_mech_metric_find(mech, name))->unit;
            bool higher = strcmp(cJSON_GetObjectItemCaseSensitive(s, "direction")->valuestring,
                                 "higher") == 0;
            double tol = cJSON_GetObjectItemCaseSensitive(s, "tolerance")->valuedouble;
            double abs_tol = cJSON_GetObjectItemCaseSensitive(s, "abs_tolerance")->valuedouble;
            const cJSON *bv = cJSON_GetObjectItemCaseSensitive(bm, name);
            const cJSON *rv = cJSON_GetObjectItemCaseSensitive(rm, name);
            char bs[32], rs[32], ch[32];
            if (!cJSON_IsNumber(bv))
                continue;                   /* the baseline does not have it: nothing to hold */
            sim_json_fmt_number(bv->valuedouble, bs, sizeof bs);
            if (rv && !cJSON_IsNumber(rv) && !cJSON_IsNull(rv)) {
                vm_diag_set(d, VM_EINVAL, "%s: record '%s': $.metrics.%s: expected a number",
                            result_path, id, name);
                free(t.rows);
                cJSON_Delete(res);
                cJSON_Delete(base);
                return 2;                   /* a broken result file, not a regression */
            }
            if (!cJSON_IsNumber(rv)) {
                table_add(&t, id, name, unit, bs, "-", "", "missing");
                missing++;
                continue;
            }
            compared++;
            double x = bv->valuedouble, y = rv->valuedouble;
            sim_json_fmt_number(y, rs, sizeof rs);
            if (x != 0)
                snprintf(ch, sizeof ch, "%+.1f", (y - x) / fabs(x) * 100.0);
            else
                snprintf(ch, sizeof ch, "%s", y == 0 ? "+0.0" : "n/a");
            const char *verdict = "ok";
            if (higher) {
                if (y < x * (1 - tol) - abs_tol)
                    verdict = "REGRESSED";
                else if (y > x * (1 + tol) + abs_tol)
                    verdict = "better";
            } else {
                if (y > x * (1 + tol) + abs_tol)
                    verdict = "REGRESSED";
                else if (y < x * (1 - tol) - abs_tol)
                    verdict = "better";
            }
            if (verdict[0] == 'R')
                regressed++;
            else if (verdict[0] == 'b')
                better++;
            table_add(&t, id, name, unit, bs, rs, ch, verdict);
        }
    }
    cJSON_ArrayForEach(r, rrecs) {
        const char *id = cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring;
        double v = num_or(r, "violations", 0);
        char rs[32];
        if (v > 0) {
            table_add(&t, id, "violations", "count", "0", sim_json_fmt_number(v, rs, sizeof rs),
                      "", "REGRESSED");
            violated++;
        }
        if (!record_ok(r)) {
            table_add(&t, id, "ok", "", "true", "false", "", "REGRESSED");
            violated++;
        }
    }
    print_table(&t);
    printf("check: %d metrics compared, %d regressed, %d better, %d missing, "
           "%d records failed\n", compared, regressed, better, missing, violated);
    free(t.rows);
    cJSON_Delete(res);
    cJSON_Delete(base);
    return regressed || missing || violated ? 1 : 0;
}
