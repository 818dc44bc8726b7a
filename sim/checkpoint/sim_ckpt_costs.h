/*
 * sim_ckpt_costs.h - the checkpoint mechanism's "costs" config section:
 * CPU costs inline, from a costs file of `vmsim calibrate`, or both (the
 * design and the mapping from calibration figures: sim_ckpt.h).
 */
#ifndef SIM_CKPT_COSTS_H
#define SIM_CKPT_COSTS_H

#include "checkpoint/sim_ckpt.h"
#include "sim_calib.h"
#include "sim_cfg.h"

/* The section's rows (struct sim_ckpt_costs), "file" first. */
extern const struct sim_key sim_ckpt_cost_keys[];

/*
 * The "costs" row's setter: a string names a costs file, an object may
 * name one in "file" and give costs inline, which win.  The file's path
 * is relative to the config's directory; its problems are reported at
 * $.costs (or $.costs.file) as "FILE: $.path: ..." of the costs file.
 */
int sim_ckpt_costs_set(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                       void *obj);

/* The costs a calibration gives (every field but trace_arm and
 * device_state, which stay as they are).  c must have passed
 * sim_calib_from_json (its level SIM_CONTENT_ZSTD_LEVEL is there). */
void sim_ckpt_costs_from_calib(const struct sim_calib *c, struct sim_ckpt_costs *costs);

#endif
