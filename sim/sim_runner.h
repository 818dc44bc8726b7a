/*
 * sim_runner.h - run the points of an experiment: each in a forked child
 * (SimGrid's engine is once per process), up to `jobs` at a time, each
 * child sending its record back as JSON through a pipe.  Records come
 * back in point order whatever the completion order, so the result is
 * deterministic for any -j.
 */
#ifndef SIM_RUNNER_H
#define SIM_RUNNER_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "base/vm_err.h"
#include "sim_config.h"

#define SIM_RUNNER_MAX_JOBS 64      /* children polled at once */

struct sim_run_opts {
    int jobs;                   /* parallel children, 1..SIM_RUNNER_MAX_JOBS */
    bool progress;              /* progress lines on stderr */
    int nr_sg_args;             /* --cfg= / --log= passed to SimGrid */
    char **sg_args;
};

/* Run every point.  *records: array of records (sim_result.h) in point
 * order; *host: wall-clock and RSS figures.  Returns 0 when every point
 * ran (records may still report violations), VM_E* when a child could
 * not be run at all. */
int sim_runner_run(const struct sim_config *cfg, const struct sim_run_opts *opts,
                   cJSON **records, cJSON **host, struct vm_diag *d);

/* Run one point in this process (the child side; also used by tests):
 * builds the world, runs the mechanism, fills *record. */
int sim_runner_run_point(const struct sim_exp *exp, int nr_sg_args, char **sg_args,
                         cJSON **record, struct vm_diag *d);

/* Called by a mechanism's run() on its run point's actor once *out is
 * final (only tear-down left: frees, and actors told to end).  In a
 * forked child (sim_runner_run) where that actor is the last ordinary
 * one, the record is completed as after run() (the activities metric),
 * sent, and the child exits here: the tear-down changes no result, and
 * SimGrid's of a long run is seconds (every disk activity a worker
 * started is kept until the worker ends).  Otherwise (tests running a
 * point in process, other ordinary actors alive) it returns and the run
 * tears down as usual. */
void sim_runner_point_done(struct sim_outcome *out);

#endif
