/*
 * sim_config.h - experiment configs: load a JSON file, apply --quick and
 * --set overrides, validate it strictly from the key tables of the core
 * and of the mechanism it names, expand the sweep and the variants into
 * run points (struct sim_exp; the core's keys are listed in sim_exp.h,
 * a mechanism's sections by `vmsim list NAME`).
 *
 * The document is validated as written first, then each run point after
 * the overrides and the sweep, so a value that an override or the sweep
 * replaces is still checked.  Deep checks (opts.deep, and always in
 * sim_config_validate) follow each point: the platform loads in SimGrid
 * with the run's --cfg options and its disks have what the disk model
 * needs (in a child process, once per file), and the mechanism's check
 * hook (traces read whole and fit the VM, ...).  `vmsim run` and
 * `vmsim validate` both make them before any run point starts.
 *
 * Every problem is one line "FILE: $.json.path: what was expected, got
 * what" (or "FILE:LINE:COL: malformed JSON: ...").  Loading stops at the
 * first problem; validating collects them all.
 */
#ifndef SIM_CONFIG_H
#define SIM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/vm_err.h"
#include "sim_cfg.h"
#include "sim_exp.h"
#include "sim_mech.h"

struct sim_config_opts {
    bool quick;                 /* apply the config's "quick" overrides */
    bool have_seed;             /* --seed given */
    uint64_t seed;
    int nr_sets;                /* --set path=value, applied after quick */
    const char *const *sets;    /* "vm.memory=4GiB"; value is JSON if it parses, else a string */
    bool deep;                  /* the deep checks too (platform, files, the mechanism's) */
    int nr_sg_args;             /* --cfg= / --log= the run will give SimGrid */
    char **sg_args;
};

struct sim_config {
    char file[SIM_PATH_MAX];
    char name[SIM_NAME_MAX];
    char description[256];
    uint64_t seed;
    bool quick;
    const struct sim_mech *mech;
    cJSON *root;                /* the config after overrides (echoed in result.json) */
    struct sim_exp *points;     /* variants x sweep points, sweep-major order; each
                                   point's mech_cfg is its own allocation */
    int nr_points;
    struct sim_exp_metric metrics[SIM_MAX_METRICS];
    int nr_metrics;
};

/* Load, override, validate, expand (and with opts->deep, check deeply).
 * On error returns VM_EINVAL / VM_ENOENT / VM_EPARSE with the first
 * problem in errs and *out NULL. */
int sim_config_load(const char *file, const struct sim_config_opts *opts,
                    struct sim_config **out, struct sim_diag_list *errs);
void sim_config_free(struct sim_config *cfg);

/* Everything sim_config_load checks with deep checks, on the config and
 * on its quick form, collecting every problem.  0 when clean. */
int sim_config_validate(const char *file, struct sim_diag_list *errs);

#endif
