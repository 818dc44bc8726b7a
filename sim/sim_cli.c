/*
 * sim_cli.c - the vmsim command line: argument parsing and the commands
 * run, check, validate, list, trace (see sim_cli.h).
 *
 * Based on git's rule that only the top level dies: everything below
 * returns codes and located messages, and this file turns them into one
 * "vmsim: ..." line on stderr and an exit status (0 ok, 1 regression or
 * invariant violation, 2 bad input).  `run` writes nothing - not even the
 * output directory - until the config has loaded cleanly.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xbt/base.h>
#include <simgrid/version.h>

#include "base/vm_units.h"
#include "sim_calib.h"
#include "sim_cli.h"
#include "sim_config.h"
#include "sim_json.h"
#include "sim_list.h"
#include "sim_mech.h"
#include "sim_plot.h"
#include "sim_result.h"
#include "sim_runner.h"
#include "sim_trace.h"
#include "sim_world.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif
#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

#define SEED_MAX ((uint64_t)SIM_CFG_SEED_MAX)  /* 2^53 - 1: exact in result.json */
#define SUMMARY_METRICS 5

static const char usage_text[] =
    "usage: vmsim run EXPERIMENT.json [-o DIR] [--seed N] [--set path=value]... [--quick]\n"
    "                 [-j N] [--no-plot] [--cfg=SIMGRID_OPTION] [--log=SIMGRID_LOG]\n"
    "       vmsim check RESULT.json BASELINE.json\n"
    "       vmsim validate EXPERIMENT.json...\n"
    "       vmsim list [MECHANISM]\n"
    "       vmsim trace reduce|stats|convert FILE... | synth --pattern P --pages N -o OUT\n"
    "       vmsim calibrate [-o FILE] [--quick] [--only crypto]\n"
    "       vmsim --help | --version\n"
    "\n"
    "run       run every variant x sweep point of an experiment; write DIR/result.json,\n"
    "          DIR/NAME.csv and plots (DIR defaults to out/NAME)\n"
    "  -o DIR            output directory\n"
    "  --seed N          replace the config's seed (integer >= 0)\n"
    "  --set PATH=VALUE  override a config value, e.g. --set vm.memory=4GiB or\n"
    "                    --set variants[0].params.block_pages=32 (VALUE is JSON if it\n"
    "                    parses, else a string); applied after --quick\n"
    "  --quick           apply the config's \"quick\" overrides (the short form make check runs)\n"
    "  -j N              run N points in parallel (default: the number of CPUs)\n"
    "  --no-plot         do not run gnuplot\n"
    "  --cfg=, --log=    passed to SimGrid (e.g. --log=vmsim_disk.thres:debug)\n"
    "check     compare a result with a baseline metric by metric (direction and\n"
    "          tolerance from the baseline's metric specs); print a table\n"
    "validate  check configs, platforms and traces without running anything\n"
    "list      mechanisms: their policies and parameters, config sections, metrics and\n"
    "          invariants; the core's keys, workloads and traces\n"
    "trace     tools for memory traces (vmsim trace --help)\n"
    "calibrate measure this machine's CPU costs (page copy, zero scan, zstd, write-protect\n"
    "          fault); -o FILE writes a costs file for \"costs\" (vmsim calibrate --help)\n"
    "\n"
    "exit status: 0 ok, 1 regression or invariant violation, 2 bad input\n";

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    fputs("vmsim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return SIM_EXIT_BAD_INPUT;
}

static void print_diags(const struct sim_diag_list *errs)
{
    for (int i = 0; i < errs->n; i++)
        fprintf(stderr, "vmsim: %s\n", errs->lines[i]);
}

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s && *s ? s : VMSIM_SRCDIR;
}

/* A whole-string unsigned decimal, at most max. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (max - (uint64_t)(*p - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return true;
}

/* ------------------------------------------------------------ run */

struct run_args {
    const char *exp;
    const char *out;
    struct sim_config_opts copts;
    const char **sets;
    int jobs;
    bool no_plot;
    char **sg_args;
    int nr_sg_args;
};

/* "--opt VALUE" or "--opt=VALUE": the value, advancing *i; NULL if none. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (strcmp(a, name) == 0) {
        if (*i + 1 >= argc)
            return NULL;
        return argv[++*i];
    }
    if (name[1] != '-' && strncmp(a, name, n) == 0 && a[n])
        return a + n;                       /* -j4, -oDIR */
    return NULL;
}

static bool is_opt(const char *a, const char *name)
{
    size_t n = strlen(name);
    return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=' ||
                                        (name[1] != '-' && a[n] != '\0'));
}

static int parse_run_args(int argc, char **argv, struct run_args *ra)
{
    bool opts_done = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (opts_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (ra->exp)
                return bad("run: expected one EXPERIMENT.json, got '%s' and '%s'", ra->exp, a);
            ra->exp = a;
        } else if (strcmp(a, "--") == 0) {
            opts_done = true;
        } else if (is_opt(a, "-o") || is_opt(a, "--output")) {
            v = opt_value(argc, argv, &i, is_opt(a, "-o") ? "-o" : "--output");
            if (!v || !*v)
                return bad("-o: expected a directory, got nothing");
            ra->out = v;
        } else if (is_opt(a, "--seed")) {
            v = opt_value(argc, argv, &i, "--seed");
            uint64_t seed;
            if (!v)
                return bad("--seed: expected integer >= 0, got nothing");
            if (!parse_uint(v, UINT64_MAX, &seed))
                return bad("--seed: expected integer >= 0, got '%s'", v);
            if (seed > SEED_MAX)
                return bad("--seed: expected integer 0..%" PRIu64 ", got '%s'", SEED_MAX, v);
            ra->copts.have_seed = true;
            ra->copts.seed = seed;
        } else if (is_opt(a, "--set")) {
            v = opt_value(argc, argv, &i, "--set");
            if (!v)
                return bad("--set: expected path=value, got nothing");
            const char *eq = strchr(v, '=');
            if (!eq || eq == v)
                return bad("--set: expected path=value, got '%s'", v);
            ra->sets[ra->copts.nr_sets++] = v;
        } else if (strcmp(a, "--quick") == 0) {
            ra->copts.quick = true;
        } else if (is_opt(a, "-j") || is_opt(a, "--jobs")) {
            v = opt_value(argc, argv, &i, is_opt(a, "-j") ? "-j" : "--jobs");
            uint64_t j;
            if (!v)
                return bad("-j: expected integer >= 1, got nothing");
            if (!parse_uint(v, SIM_RUNNER_MAX_JOBS, &j) || j < 1)
                return bad("-j: expected integer 1..%d, got '%s'", SIM_RUNNER_MAX_JOBS, v);
            ra->jobs = (int)j;
        } else if (strcmp(a, "--no-plot") == 0) {
            ra->no_plot = true;
        } else if (strncmp(a, "--cfg=", 6) == 0 || strncmp(a, "--log=", 6) == 0) {
            if (ra->nr_sg_args == SIM_WORLD_MAX_OPTIONS)
                return bad("run: expected at most %d --cfg= and --log= options, got more",
                           SIM_WORLD_MAX_OPTIONS);
            ra->sg_args[ra->nr_sg_args++] = argv[i];
        } else {
            return bad("run: unknown option '%s' (see vmsim --help)", a);
        }
    }
    if (!ra->exp)
        return bad("run: expected EXPERIMENT.json, got nothing");
    ra->copts.sets = ra->sets;
    return 0;
}

/* Can dir be created (or written, when it exists)?  Creates nothing. */
static int check_out_dir(const char *dir)
{
    char buf[PATH_MAX];
    if (strlen(dir) >= sizeof buf)
        return bad("%s: expected a shorter directory path", dir);
    snprintf(buf, sizeof buf, "%s", dir);
    for (;;) {
        size_t n = strlen(buf);
        while (n > 1 && buf[n - 1] == '/')
            buf[--n] = '\0';
        struct stat st;
        if (stat(buf, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return bad("%s: cannot create directory: '%s' is not a directory", dir, buf);
            if (access(buf, W_OK | X_OK) != 0)
                return bad("%s: cannot create directory: '%s': %s", dir, buf, strerror(errno));
            return 0;
        }
        if (errno != ENOENT)
            return bad("%s: cannot create directory: '%s': %s", dir, buf, strerror(errno));
        char *slash = strrchr(buf, '/');
        if (!slash)
            snprintf(buf, sizeof buf, ".");
        else if (slash == buf)
            buf[1] = '\0';
        else
            *slash = '\0';
    }
}

/* A metric value for the summary: times and sizes with units. */
static void fmt_metric(const struct sim_mech *m, const char *name, double v, char *buf,
                       size_t len)
{
    int id = sim_mech_metric_find(m, name);
    const char *unit = id >= 0 ? sim_mech_metric(m, id)->unit : "";
    if (strcmp(unit, "ns") == 0 && v >= 0)
        vm_units_fmt_time((uint64_t)llround(v), buf, len);
    else if (strcmp(unit, "bytes") == 0 && v >= 0)
        vm_units_fmt_size((uint64_t)llround(v), buf, len);
    else if (strcmp(unit, "%") == 0)
        snprintf(buf, len, "%.2f%%", v);
    else
        sim_json_fmt_number(v, buf, len);
}

static void print_summary(const struct sim_config *cfg, const cJSON *records)
{
    const char *cols[SUMMARY_METRICS];
    int nc = 0;
    const cJSON *r;
    for (int i = 0; i < cfg->nr_metrics && nc < SUMMARY_METRICS; i++)
        cols[nc++] = cfg->metrics[i].name;
    /* the config lists none: the first metrics any record has */
    for (int i = 0; cfg->nr_metrics == 0 && i < sim_mech_nr_metrics(cfg->mech) &&
                    nc < SUMMARY_METRICS; i++) {
        const char *name = sim_mech_metric(cfg->mech, i)->name;
        bool any = false;
        cJSON_ArrayForEach(r, records)
            any |= cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "metrics"),
                                                    name) != NULL;
        if (any)
            cols[nc++] = name;
    }
    int n = cJSON_GetArraySize(records);
    char (*cells)[SUMMARY_METRICS + 3][48] = calloc((size_t)n + 1, sizeof *cells);
    size_t wid[SUMMARY_METRICS + 3] = { 2, 2, 10 };
    if (!cells)
        return;
    size_t idw = 2;
    int row = 0;
    cJSON_ArrayForEach(r, records) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(r, "ok");
        const cJSON *viol = cJSON_GetObjectItemCaseSensitive(r, "violations");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "metrics");
        if (cJSON_IsString(id) && strlen(id->valuestring) > idw)
            idw = strlen(id->valuestring);
        snprintf(cells[row][1], sizeof cells[row][1], "%s", cJSON_IsFalse(ok) ? "NO" : "yes");
        sim_json_fmt_number(cJSON_IsNumber(viol) ? viol->valuedouble : 0, cells[row][2],
                            sizeof cells[row][2]);
        for (int c = 0; c < nc; c++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, cols[c]);
            if (cJSON_IsNumber(v))
                fmt_metric(cfg->mech, cols[c], v->valuedouble, cells[row][3 + c],
                           sizeof cells[row][3 + c]);
            else
                snprintf(cells[row][3 + c], sizeof cells[row][3 + c], "-");
        }
        row++;
    }
    for (int c = 0; c < nc; c++)
        wid[3 + c] = strlen(cols[c]);
    for (int i = 0; i < row; i++)
        for (int c = 1; c < nc + 3; c++)
            if (strlen(cells[i][c]) > wid[c])
                wid[c] = strlen(cells[i][c]);
    printf("%-*s  %-*s  %*s", (int)idw, "id", (int)wid[1], "ok", (int)wid[2], "violations");
    for (int c = 0; c < nc; c++)
        printf("  %*s", (int)wid[3 + c], cols[c]);
    printf("\n");
    row = 0;
    cJSON_ArrayForEach(r, records) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
        printf("%-*s  %-*s  %*s", (int)idw, cJSON_IsString(id) ? id->valuestring : "?",
               (int)wid[1], cells[row][1], (int)wid[2], cells[row][2]);
        for (int c = 0; c < nc; c++)
            printf("  %*s", (int)wid[3 + c], cells[row][3 + c]);
        printf("\n");
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");
        if (cJSON_IsString(err))
            printf("%-*s  error: %s\n", (int)idw, "", err->valuestring);
        row++;
    }
    free(cells);
}

/* When every point's mechanism asks for it (sim_mech.huge_heap), the
 * command execs itself once more with two of glibc's tunables (read only
 * when a program starts):
 *  - glibc.malloc.hugetlb=1 (glibc 2.35+): malloc asks for transparent
 *    huge pages (madvise) on the memory it takes from the system, and a
 *    run that fills a gigabyte of heap takes 5,700 page faults instead of
 *    160,000 (measured on a run point that kept 1.3 M disk activities,
 *    before the disk workers handed over: 17% less CPU time);
 *  - glibc.malloc.tcache_count=HEAP_TCACHE_COUNT: SimGrid allocates and
 *    frees a few records of the same sizes per activity, dozens at once
 *    when activities end together, which overflow the thread cache's
 *    default 7 chunks a size into malloc's bins (_int_malloc, _int_free
 *    and unlink_chunk took 6% of the CPU of a run point of 1.2 M disk
 *    requests); with 1,000 a size, the same run took 6% less CPU,
 *    alternated with the build before on 2026-12-01 (README, "How fast
 *    the simulator is"; a run whose heap stays small showed no gain).
 *    The cache holds at most 1,000 chunks of each of its 64 sizes up to
 *    1 KiB.
 * The results are the same to the byte; the arguments, the output and
 * the exit status are the re-run's.  Not when GLIBC_TUNABLES names either
 * tunable already (the user's say, or this was the re-run), nor when the
 * exec fails (the run goes on as it is). */
#define HEAP_TCACHE_COUNT 1000

static void huge_heap_reexec(const struct sim_config *cfg, char **argv)
{
    for (int i = 0; i < cfg->nr_points; i++)
        if (!cfg->points[i].mech->huge_heap)
            return;
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && (strstr(t, "glibc.malloc.hugetlb") || strstr(t, "glibc.malloc.tcache_count")))
        return;
    char *old = t ? strdup(t) : NULL;
    char val[1024];
    int n = snprintf(val, sizeof val,
                     "%s%sglibc.malloc.hugetlb=1:glibc.malloc.tcache_count=%d",
                     old ? old : "", old ? ":" : "", HEAP_TCACHE_COUNT);
    if ((t && !old) || n < 0 || (size_t)n >= sizeof val) {
        free(old);
        return;
    }
    fflush(NULL);
    if (setenv("GLIBC_TUNABLES", val, 1) == 0) {
        execv("/proc/self/exe", argv);
        if (old)
            setenv("GLIBC_TUNABLES", old, 1);
        else
            unsetenv("GLIBC_TUNABLES");
    }
    free(old);
}

static int cmd_run(int argc, char **argv)
{
    struct run_args ra = { .jobs = 0 };
    ra.sets = calloc((size_t)argc + 1, sizeof *ra.sets);
    ra.sg_args = calloc((size_t)argc + 1, sizeof *ra.sg_args);
    struct sim_config *cfg = NULL;
    struct sim_diag_list errs = { 0 };
    cJSON *records = NULL, *host = NULL;
    struct vm_diag d = { 0 };
    int status;
    if (!ra.sets || !ra.sg_args) {
        status = bad("out of memory");
        goto out;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            status = SIM_EXIT_OK;
            goto out;
        }
    status = parse_run_args(argc, argv, &ra);
    if (status)
        goto out;
    /* everything validate checks, before any run point starts */
    ra.copts.deep = true;
    ra.copts.nr_sg_args = ra.nr_sg_args;
    ra.copts.sg_args = ra.sg_args;
    if (sim_config_load(ra.exp, &ra.copts, &cfg, &errs) != 0) {
        print_diags(&errs);
        status = SIM_EXIT_BAD_INPUT;
        goto out;
    }
    huge_heap_reexec(cfg, argv);
    char dir[PATH_MAX];
    if (ra.out)
        snprintf(dir, sizeof dir, "%s", ra.out);
    else
        snprintf(dir, sizeof dir, "out/%s", cfg->name);
    status = check_out_dir(dir);
    if (status)
        goto out;

    struct sim_run_opts ro = {
        .jobs = ra.jobs,
        .progress = isatty(STDERR_FILENO),
        .nr_sg_args = ra.nr_sg_args,
        .sg_args = ra.sg_args,
    };
    if (ro.jobs == 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        ro.jobs = ncpu > 0 ? (int)ncpu : 1;
    }
    if (ro.jobs > cfg->nr_points)
        ro.jobs = cfg->nr_points;
    if (sim_runner_run(cfg, &ro, &records, &host, &d) != 0) {
        status = bad("%s: %s", ra.exp, d.msg[0] ? d.msg : "the run failed");
        goto out;
    }
    if (sim_result_write(dir, cfg, records, host, &d) != 0) {
        status = bad("%s", d.msg);
        goto out;
    }
    print_summary(cfg, records);
    printf("wrote %s/result.json\nwrote %s/%s.csv\n", dir, dir, cfg->name);
    if (!ra.no_plot) {
        char plots[PATH_MAX], drawn[16][1024];
        snprintf(plots, sizeof plots, "%s/plots", srcdir());
        vm_diag_clear(&d);
        /* what ran, for titles: the quick form or the full one, and the
         * guest's memory when the config has the shared vm section */
        const cJSON *vm = cJSON_GetObjectItemCaseSensitive(cfg->root, "vm");
        const cJSON *mem = cJSON_GetObjectItemCaseSensitive(vm, "memory");
        const char *vars[] = { "form", cfg->quick ? "quick" : "full", "vm_memory",
                               cJSON_IsString(mem) ? mem->valuestring : "", NULL };
        int n = sim_plot_draw(plots, dir, cfg->name, vars, drawn, 16, &d);
        if (n < 0)
            fprintf(stderr, "vmsim: warning: %s\n", d.msg);
        for (int i = 0; i < n && i < 16; i++)
            printf("wrote %s.png\nwrote %s.svg\n", drawn[i], drawn[i]);
    }
    int failed = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, records) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "violations");
        if ((cJSON_IsNumber(v) && v->valuedouble > 0) ||
            cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")))
            failed++;
    }
    if (failed) {
        fprintf(stderr, "vmsim: %s: %d of %d records failed (invariant violations or errors)\n",
                ra.exp, failed, cJSON_GetArraySize(records));
        status = SIM_EXIT_FAIL;
    }
out:
    cJSON_Delete(records);
    cJSON_Delete(host);
    sim_config_free(cfg);
    sim_diag_list_free(&errs);
    free(ra.sets);
    free(ra.sg_args);
    return status;
}

/* ------------------------------------------------------------ check, validate */

static int cmd_check(int argc, char **argv)
{
    if (argc == 3 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0)) {
        fputs(usage_text, stdout);
        return SIM_EXIT_OK;
    }
    if (argc != 4)
        return bad("check: expected RESULT.json BASELINE.json, got %d argument%s", argc - 2,
                   argc == 3 ? "" : "s");
    struct vm_diag d = { 0 };
    int rc = sim_result_check(argv[2], argv[3], &d);
    if (rc == 2)
        return bad("%s", d.msg);
    return rc;
}

static int cmd_validate(int argc, char **argv)
{
    if (argc < 3)
        return bad("validate: expected EXPERIMENT.json..., got nothing");
    for (int i = 2; i < argc; i++)
        if (argv[i][0] == '-')
            return bad("validate: unknown option '%s' (it takes EXPERIMENT.json files only; "
                       "the quick form is checked too)", argv[i]);
    int status = SIM_EXIT_OK;
    for (int i = 2; i < argc; i++) {
        struct sim_diag_list errs = { 0 };
        if (sim_config_validate(argv[i], &errs) != 0 || errs.n) {
            print_diags(&errs);
            status = SIM_EXIT_BAD_INPUT;
        } else {
            struct sim_config *cfg = NULL;
            if (sim_config_load(argv[i], NULL, &cfg, &errs) != 0) {
                print_diags(&errs);
                status = SIM_EXIT_BAD_INPUT;
            } else {
                printf("%s: ok (%d run point%s)\n", argv[i], cfg->nr_points,
                       cfg->nr_points == 1 ? "" : "s");
            }
            sim_config_free(cfg);
        }
        sim_diag_list_free(&errs);
    }
    return status;
}

/* ------------------------------------------------------------ list */

static int cmd_list(int argc, char **argv)
{
    if (argc > 3)
        return bad("list: expected at most one MECHANISM, got '%s' and '%s'", argv[2], argv[3]);
    char tdir[PATH_MAX];
    struct vm_diag d = { 0 };
    snprintf(tdir, sizeof tdir, "%s/workloads/traces", srcdir());
    if (sim_list_print(stdout, argc == 3 ? argv[2] : NULL, tdir, &d) != 0)
        return bad("%s", d.msg);
    return SIM_EXIT_OK;
}

/* ------------------------------------------------------------ main */

static int version(void)
{
    int major = 0, minor = 0, patch = 0;
    sg_version_get(&major, &minor, &patch);
    printf("vmsim %s (SimGrid %d.%d.%d)\n", PACKAGE_VERSION, major, minor, patch);
    return SIM_EXIT_OK;
}

int sim_cli_main(int argc, char **argv)
{
    static const char *const commands[] = { "run", "check", "validate", "list", "trace",
                                            "calibrate" };
    if (argc < 2) {
        fputs(usage_text, stderr);
        return SIM_EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return SIM_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
        return version();
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc, argv);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc, argv);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc, argv);
    if (strcmp(cmd, "trace") == 0)
        return sim_trace_main(argc - 2, argv + 2);
    if (strcmp(cmd, "calibrate") == 0)
        return sim_calib_main(argc - 2, argv + 2);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        size_t n = strlen(cmd) < strlen(commands[i]) ? strlen(cmd) : strlen(commands[i]);
        if (n >= 2 && strncmp(cmd, commands[i], n) == 0)
            return bad("unknown command '%s' (did you mean '%s'?)", cmd, commands[i]);
    }
    return bad("unknown command '%s' (see vmsim --help)", cmd);
}
