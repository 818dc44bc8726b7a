/*
 * sim_at_int.h - the attestation plug-in's insides, shared by
 * sim_at_mech.c (tables, finish), sim_at_check.c (the checks before any
 * run point) and sim_at.c (the driver).
 */
#ifndef SIM_AT_INT_H
#define SIM_AT_INT_H

#include "attestation/at.h"
#include "attestation/sim_at.h"
#include "sim_cfg.h"
#include "sim_exp.h"

/* The method of policy name `name` (the method set is in enum order). */
enum at_method sim_at_method(const char *name);
/* The run point's method parameters: the model's defaults, then the
 * method table's keys from e->policy_cfg, then the depot section's. */
void sim_at_params(const struct sim_exp *e, struct at_params *p);
/* Node j's platform host is "a<j>": true and *j when name is one of the
 * datacenter's nodes (a0..a<nodes-1>, written so). */
bool sim_at_node_index(const struct sim_at_cfg *c, const char *name, uint32_t *j);
/* Racks of the datacenter: ceil(hosts / rack_hosts). */
uint32_t sim_at_racks(const struct sim_at_cfg *c);
/* The run point's checks before any run (sim_at_check.c). */
int sim_at_check(struct sim_cfg_walk *w, const struct sim_exp *e);
/* The "costs" section's setter: a costs file (string) or an object. */
int sim_at_costs_set(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);
extern const struct sim_key sim_at_cost_keys[];

#endif
