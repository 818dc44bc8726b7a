/*
 * config_rig.c - what the experiment-config suites share (config_rig.h).
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_rig.h"
#include "sim_json.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

char g_dir[256];
char g_file[320];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void config_setup(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/vmsim-config.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    snprintf(g_file, sizeof g_file, "%s/exp.json", g_dir);
}

void config_teardown(void)
{
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write text to g_dir/name, turning ' into " (configs only). */
void write_text(const char *name, const char *text, bool quotes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0777);
    *slash = '/';
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (const char *p = text; *p; p++)
        fputc(quotes && *p == '\'' ? '"' : *p, f);
    fclose(f);
}

void write_cfg(const char *json)
{
    write_text("plat.xml", "<platform/>\n", false);
    write_text("exp.json", json, true);
}

const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s && *s ? s : VMSIM_SRCDIR;
}

/* Like write_cfg with a shipped platform as plat.xml (for validate, which
 * loads it); false when the tree has none. */
bool write_cfg_real_platform(const char *json)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/workloads/platforms/host-sata.xml", srcdir());
    char *xml = sim_json_read_file(path, NULL);
    if (!xml)
        return false;
    write_text("plat.xml", xml, false);
    write_text("exp.json", json, true);
    free(xml);
    return true;
}

struct sim_config *load_ok(const char *json, const struct sim_config_opts *o)
{
    struct sim_config *cfg = NULL;
    struct sim_diag_list errs = { 0 };
    write_cfg(json);
    int rc = sim_config_load(g_file, o, &cfg, &errs);
    ck_assert_msg(rc == 0, "load failed: %s", errs.n ? errs.lines[0] : "(no message)");
    ck_assert_int_eq(errs.n, 0);
    ck_assert_ptr_nonnull(cfg);
    sim_diag_list_free(&errs);
    return cfg;
}

/* Load must fail with exactly one line: g_file followed by `rest`. */
void expect_error(const char *json, const struct sim_config_opts *o, int code,
                         const char *rest)
{
    struct sim_config *cfg = NULL;
    struct sim_diag_list errs = { 0 };
    char want[1024];
    write_cfg(json);
    int rc = sim_config_load(g_file, o, &cfg, &errs);
    ck_assert_int_eq(rc, code);
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(errs.n, 1);
    snprintf(want, sizeof want, "%s%s", g_file, rest);
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
}
