/*
 * ckpt_sim_rig.h - what the end-to-end checkpoint suites share
 * (check_ckpt_sim_save, check_ckpt_sim_restore, check_ckpt_bgcost): a
 * scratch directory per test, an experiment config on the shipped
 * platform (workloads/platforms/host-sata.xml) written and loaded, one
 * run point in this process or in a child, and readers of the record the
 * runner builds.  SimGrid runs once per process, so the suites run in
 * Check's fork mode.  Every function fails the running Check test on an
 * unexpected result.  CHECK_SIM_DUMP=1 in the environment prints every
 * record a point makes on stderr.
 */
#ifndef CKPT_SIM_RIG_H
#define CKPT_SIM_RIG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/vm_units.h"
#include "sim_config.h"

#define MIB (1024ull * 1024ull)

/* The test's scratch directory: made by ckpt_sim_setup, removed with all
 * it holds by ckpt_sim_teardown (a Check checked fixture). */
extern char ckpt_sim_dir[256];
void ckpt_sim_setup(void);
void ckpt_sim_teardown(void);

/* The shipped platform's path into buf[len]. */
void ckpt_sim_platform_path(char *buf, size_t len);
/* The shipped platform's disk write bandwidth (bytes/s), read from its XML. */
double ckpt_sim_platform_write_bps(void);

/*
 * Write the config "{ name, mechanism, platform, <body> }" (body with '
 * for ") to ckpt_sim_dir/exp.json and load it; a body without a save
 * section gets {"cache": "direct"}.  The caller frees it
 * (sim_config_free).
 */
struct sim_config *ckpt_sim_load_cfg(const char *body);

/* Run point idx of cfg in this process; the record (the caller's). */
cJSON *ckpt_sim_run_point(const struct sim_config *cfg, int idx);

/*
 * Run point idx of cfg in a child process (SimGrid runs once per
 * process) and read n of its metrics (names) into out.  The child answers
 * only for a clean record: no violation, and every invariant named in
 * zero_invariants (NULL-terminated; NULL for none) equal to 0.  A point
 * that fails, crashes or is not clean fails the calling test here.
 */
void ckpt_sim_metrics_in_child(const struct sim_config *cfg, int idx, const char *const *names,
                               int n, double *out, const char *const *zero_invariants);

/* Readers of a record: member name of block; whether metric name is
 * there; metric and invariant values (the test fails without them); the
 * number of violations; whether the record says ok. */
const cJSON *ckpt_sim_field(const cJSON *rec, const char *block, const char *name);
bool ckpt_sim_has_metric(const cJSON *rec, const char *name);
double ckpt_sim_metric(const cJSON *rec, const char *name);
double ckpt_sim_inv(const cJSON *rec, const char *name);
double ckpt_sim_violations(const cJSON *rec);
bool ckpt_sim_rec_ok(const cJSON *rec);
/* A clean run: ok, no violations, no error. */
void ckpt_sim_assert_clean(const cJSON *rec);

/* 64 MiB = 16384 pages throughout */
#define NR_PAGES (64 * MIB / VM_PAGE_SIZE)
#define VM64 "'vm': {'memory': '64MiB'}, "
/* ... without zero pages: for the checks that count every page's I/O */
#define VM64_NZ "'vm': {'memory': '64MiB', 'content': {'text': 0.35, 'code': 0.15, " \
                "'random': 0.5}}, "
#define READ_ONLY "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'write_fraction': 0, " \
                  "'access_time': '500ns'}, "
#define WRITE_HEAVY "'workload': {'kind': 'synthetic', 'pattern': 'uniform', " \
                    "'write_fraction': 0.5, 'access_time': '200ns'}, "
/* O_DIRECT: the disk sees each policy's own I/Os (ckpt_sim_load_cfg adds
 * it to a config without a save section; test_sim_save_through_the_page_cache
 * takes the default) */
#define WARMUP "'save': {'warmup': '10ms', 'cache': 'direct'}, "

#endif
