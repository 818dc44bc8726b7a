/*
 * trace_rig.c - what the trace-reader suites share (trace_rig.h).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "sim_trace.h"
#include "test_tmpdir.h"
#include "trace_rig.h"

char tmpdir[256];

void trace_setup(void)
{
    test_tmpdir_make(tmpdir, sizeof tmpdir, "check_trace");
}

void trace_teardown(void)
{
    test_tmpdir_remove(tmpdir);
}

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s && *s ? s : VMSIM_SRCDIR;
}

const char *shipped(const char *name)
{
    static char p[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/workloads/traces/%s", srcdir(), name);
    return p[k];
}

const char *tpath(const char *name)
{
    static char p[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
    return p[k];
}

void write_plain(const char *name, const char *text)
{
    FILE *f = fopen(tpath(name), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

void write_gz(const char *name, const char *text)
{
    gzFile gz = gzopen(tpath(name), "wb9");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
    ck_assert_int_eq(gzclose(gz), Z_OK);
}

/* names in dir containing `part` */
int nr_files_with(const char *dir, const char *part)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strstr(e->d_name, part))
            n++;
    closedir(dp);
    return n;
}

bool exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

int collect(void *arg, const struct sim_trace_rec *r, size_t n)
{
    struct recs *c = arg;
    for (size_t i = 0; i < n; i++) {
        if (c->limit && c->n == c->limit)
            return 0;
        if (c->n == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 1024;
            c->v = realloc(c->v, c->cap * sizeof(*c->v));
            ck_assert_ptr_nonnull(c->v);
        }
        c->v[c->n++] = r[i];
    }
    return 0;
}

struct recs parse_ok(const char *path, enum sim_trace_format fmt, struct sim_trace_stats *st)
{
    struct recs c = { 0 };
    struct vm_diag d;
    vm_diag_clear(&d);
    int rc = sim_trace_parse(path, fmt, collect, &c, st, &d);
    ck_assert_msg(rc == 0, "parse '%s' failed: %s", path, d.msg);
    return c;
}

void assert_rec(const struct recs *c, size_t i, char op, uint64_t page, uint64_t count)
{
    ck_assert_uint_lt(i, c->n);
    ck_assert_int_eq(c->v[i].op, op);
    ck_assert_uint_eq(c->v[i].page, page);
    ck_assert_uint_eq(c->v[i].count, count);
}

/* Parse `text` (plain file) expecting VM_EPARSE with exactly `msg` after
 * "PATH:". */
void expect_parse_error(const char *text, enum sim_trace_format fmt, const char *msg)
{
    write_plain("bad.txt", text);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(tpath("bad.txt"), fmt, NULL, NULL, NULL, &d), VM_EPARSE);
    char want[1024];
    snprintf(want, sizeof(want), "%s:%s", tpath("bad.txt"), msg);
    ck_assert_str_eq(d.msg, want);
}
