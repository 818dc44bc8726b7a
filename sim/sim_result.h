/*
 * sim_result.h - result files.  A run writes, into its output directory:
 *   result.json   vmsim and SimGrid versions, seed, config echo, metric
 *                 specs, one record per run point, and a separate "host"
 *                 block (wall-clock, RSS) that comparisons ignore
 *   <name>.csv    one row per record: id, variant, policy, sweep keys,
 *                 every metric (empty when absent), ok
 * Each file is written to a temporary name in the directory and renamed,
 * so an interrupted run leaves no half file.  Output is deterministic:
 * same records -> same bytes (outside "host").
 *
 * A record (built by the runner) is a cJSON object:
 *   { "id": "...", "variant": "...", "policy": "...",
 *     "point": { "<key>": "<value>", ... },
 *     "metrics": { "<metric>": number, ... },
 *     "invariants": { "<counter>": number, ... },
 *     "violations": number, "ok": bool, "error": "..." (only when failed) }
 */
#ifndef SIM_RESULT_H
#define SIM_RESULT_H

#include <cjson/cJSON.h>

#include "base/vm_err.h"
#include "sim_config.h"

/* Write result.json and <name>.csv into dir (created if missing).
 * records: array of record objects (not consumed); host: object or NULL. */
int sim_result_write(const char *dir, const struct sim_config *cfg, const cJSON *records,
                     const cJSON *host, struct vm_diag *d);

/* `vmsim check RESULT BASELINE`: compare metric by metric with the
 * baseline's metric specs (direction, tolerance); print a table to stdout;
 * return 0 (no regression), 1 (regression, missing record or invariant
 * violation), 2 (bad input, message in d). */
int sim_result_check(const char *result_path, const char *baseline_path, struct vm_diag *d);

#endif
