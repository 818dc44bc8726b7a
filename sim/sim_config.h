/*
 * sim_config.h - experiment configs: load a JSON file, apply --quick and
 * --set overrides, validate it strictly from tables, expand the sweep and
 * the variants into run points (struct sim_exp, see sim_exp.h for the
 * schema).
 *
 * Every problem is one line "FILE: $.json.path: what was expected, got
 * what" (or "FILE:LINE:COL: malformed JSON: ...").  Loading stops at the
 * first problem; validating (sim_config_validate) collects them all.
 */
#ifndef SIM_CONFIG_H
#define SIM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/vm_err.h"
#include "sim_exp.h"

#define SIM_MAX_METRICS 48

struct sim_config_opts {
    bool quick;                 /* apply the config's "quick" overrides */
    bool have_seed;             /* --seed given */
    uint64_t seed;
    int nr_sets;                /* --set path=value, applied after quick */
    const char *const *sets;    /* "vm.memory=4GiB"; value is JSON if it parses, else a string */
};

struct sim_config {
    char file[SIM_PATH_MAX];
    char name[SIM_NAME_MAX];
    char description[256];
    uint64_t seed;
    bool quick;
    cJSON *root;                /* the config after overrides (echoed in result.json) */
    struct sim_exp *points;     /* variants x sweep points, sweep-major order */
    int nr_points;
    struct sim_exp_metric metrics[SIM_MAX_METRICS];
    int nr_metrics;
};

/* A list of located error lines. */
struct sim_diag_list {
    int n;
    char **lines;
};
void sim_diag_list_add(struct sim_diag_list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_diag_list_free(struct sim_diag_list *l);

/* Load, override, validate, expand.  On error returns VM_EINVAL / VM_ENOENT
 * / VM_EPARSE with the first problem in errs and *out NULL. */
int sim_config_load(const char *file, const struct sim_config_opts *opts,
                    struct sim_config **out, struct sim_diag_list *errs);
void sim_config_free(struct sim_config *cfg);

/* Everything sim_config_load checks, plus the platform (host, disk) and
 * trace files, collecting every problem.  0 when clean. */
int sim_config_validate(const char *file, struct sim_diag_list *errs);

#endif
