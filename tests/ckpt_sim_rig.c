/*
 * ckpt_sim_rig.c - what the end-to-end checkpoint suites share
 * (ckpt_sim_rig.h).
 */
#include <check.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/vm_units.h"
#include "ckpt_sim_rig.h"
#include "sim_json.h"
#include "sim_runner.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

char ckpt_sim_dir[256];

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s != NULL && s[0] != '\0' ? s : VMSIM_SRCDIR;
}

void ckpt_sim_platform_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/workloads/platforms/host-sata.xml", srcdir());
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void ckpt_sim_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(ckpt_sim_dir, sizeof ckpt_sim_dir, "%s/vmsim-sim.XXXXXX",
             tmp != NULL && tmp[0] ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(ckpt_sim_dir));
}

void ckpt_sim_teardown(void)
{
    nftw(ckpt_sim_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Write the config "{ name, mechanism, platform, <body> }" (body with '
 * for ") to ckpt_sim_dir/exp.json and load it.
 */
struct sim_config *ckpt_sim_load_cfg(const char *body)
{
    char plat[1024], file[512];
    ckpt_sim_platform_path(plat, sizeof plat);
    snprintf(file, sizeof file, "%s/exp.json", ckpt_sim_dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"name\": \"sim-test\", \"mechanism\": \"checkpoint\", \"platform\": \"%s\", ",
            plat);
    if (!strstr(body, "'save'"))
        fputs("\"save\": {\"cache\": \"direct\"}, ", f);
    for (const char *p = body; *p; p++)
        fputc(*p == '\'' ? '"' : *p, f);
    fputs("}\n", f);
    ck_assert_int_eq(fclose(f), 0);

    struct sim_config_opts opts;
    memset(&opts, 0, sizeof opts);
    struct sim_diag_list errs = { 0, NULL };
    struct sim_config *cfg = NULL;
    int rc = sim_config_load(file, &opts, &cfg, &errs);
    ck_assert_msg(rc == 0, "config does not load: %s", errs.n ? errs.lines[0] : "?");
    sim_diag_list_free(&errs);
    return cfg;
}

/* Run point `idx` of a config in this process; the record. */
cJSON *ckpt_sim_run_point(const struct sim_config *cfg, int idx)
{
    ck_assert_int_lt(idx, cfg->nr_points);
    struct vm_diag d;
    vm_diag_clear(&d);
    cJSON *rec = NULL;
    int rc = sim_runner_run_point(&cfg->points[idx], 0, NULL, &rec, &d);
    ck_assert_msg(rc == 0, "run_point failed: %s", d.msg);
    ck_assert_ptr_nonnull(rec);
    if (getenv("CHECK_SIM_DUMP") != NULL) {     /* to look at a record */
        char *txt = cJSON_Print(rec);
        fprintf(stderr, "%s\n", txt);
        free(txt);
    }
    return rec;
}

const cJSON *ckpt_sim_field(const cJSON *rec, const char *block, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, block), name);
}

bool ckpt_sim_has_metric(const cJSON *rec, const char *name)
{
    return cJSON_IsNumber(ckpt_sim_field(rec, "metrics", name));
}

double ckpt_sim_metric(const cJSON *rec, const char *name)
{
    const cJSON *m = ckpt_sim_field(rec, "metrics", name);
    ck_assert_msg(cJSON_IsNumber(m), "metric '%s' missing", name);
    return m->valuedouble;
}

double ckpt_sim_inv(const cJSON *rec, const char *name)
{
    const cJSON *m = ckpt_sim_field(rec, "invariants", name);
    ck_assert_msg(cJSON_IsNumber(m), "invariant '%s' missing", name);
    return m->valuedouble;
}

double ckpt_sim_violations(const cJSON *rec)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "violations");
    ck_assert(cJSON_IsNumber(v));
    return v->valuedouble;
}

/*
 * Run point idx in a child process (SimGrid runs once per process) and
 * read n of its metrics into out; a violation, or a named invariant that
 * is not 0, fails the child, so the read here fails.
 */
void ckpt_sim_metrics_in_child(const struct sim_config *cfg, int idx, const char *const *names,
                               int n, double *out, const char *const *zero_invariants)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        cJSON *rec = ckpt_sim_run_point(cfg, idx);
        bool clean = ckpt_sim_violations(rec) == 0;
        for (const char *const *z = zero_invariants; z != NULL && *z != NULL; z++)
            clean = clean && ckpt_sim_inv(rec, *z) == 0;
        for (int i = 0; i < n; i++)
            out[i] = ckpt_sim_metric(rec, names[i]);
        if (clean)
            ck_assert_int_eq(write(fds[1], out, sizeof *out * (size_t)n), (int)(sizeof *out * n));
        _exit(0);
    }
    close(fds[1]);                  /* EOF if the child dies without writing */
    ck_assert_msg(read(fds[0], out, sizeof *out * (size_t)n) == (ssize_t)(sizeof *out * n),
                  "point %d: no metrics (it crashed or had violations)", idx);
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
}

bool ckpt_sim_rec_ok(const cJSON *rec)
{
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(rec, "ok");
    ck_assert(cJSON_IsBool(ok));
    return cJSON_IsTrue(ok);
}

/* A clean run: ok, no violations, no error. */
void ckpt_sim_assert_clean(const cJSON *rec)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(rec, "error");
    ck_assert_msg(err == NULL, "run error: %s", cJSON_IsString(err) ? err->valuestring : "?");
    ck_assert_double_eq(ckpt_sim_violations(rec), 0);
    ck_assert(ckpt_sim_rec_ok(rec));
}

/* The shipped platform's disk write bandwidth (bytes/s), read from its XML. */
double ckpt_sim_platform_write_bps(void)
{
    char plat[1024];
    ckpt_sim_platform_path(plat, sizeof plat);
    char *xml = sim_json_read_file(plat, NULL);
    ck_assert_msg(xml != NULL, "cannot read %s", plat);
    const char *p = strstr(xml, "write_bw=\"");
    ck_assert_ptr_nonnull(p);
    p += strlen("write_bw=\"");
    const char *q = strchr(p, '"');
    ck_assert_ptr_nonnull(q);
    char val[64];
    snprintf(val, sizeof val, "%.*s", (int)(q - p), p);
    free(xml);
    double bps = 0;
    ck_assert_int_eq(vm_units_parse_rate(val, &bps), 0);
    ck_assert(bps > 0);
    return bps;
}

