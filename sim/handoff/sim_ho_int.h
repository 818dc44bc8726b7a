/*
 * sim_ho_int.h - the handoff driver's insides, shared by sim_ho.c (the
 * world: endpoints, receivers, the datastore's device), sim_ho_episode.c
 * (episodes, faults, campaigns, shrinking) and sim_ho_mech.c.
 */
#ifndef SIM_HO_INT_H
#define SIM_HO_INT_H

#include "handoff/sim_ho.h"
#include "sim_exp.h"

struct sim_rx;

struct sim_ho_world {
    const struct sim_exp *e;
    const struct sim_ho_cfg *c;
    sg_host_t *hosts;                   /* cluster hosts h0.. */
    sg_host_t ds_host;
    struct sim_disk *disk;              /* the datastore's (the episode's disk faults) */
    struct port_timer *timer;           /* the episodes' (each cancels its own) */
    struct sim_transport *tr;
    struct port_transport *port;
    struct sim_rx *rx;                  /* a receiver per endpoint */
    struct ho_disk_cfg *dcfg;
    struct ho_cfg hcfg;
    struct ho_cluster *cur;             /* the episode running, or NULL */
    /* totals */
    struct ho_stats total;
    uint64_t episodes, episodes_bad;
};

/* The run point's method parameters: the method's defaults, then its
 * table's keys from e->policy_cfg. */
void sim_ho_params(const struct sim_exp *e, struct ho_params *p);
/* Every episode of the run point, their totals into w->total and the
 * reproducing schedules into out->detail.  0 or the error recorded. */
int sim_ho_campaign(struct sim_ho_world *w, struct sim_outcome *out);
/* The run point's checks before any run (sim_ho_check.c). */
int sim_ho_check(struct sim_cfg_walk *w, const struct sim_exp *e);
/* The cluster index of host name s ("h<i>", i < hosts), or -1. */
int sim_ho_host_index(const struct sim_ho_cfg *c, const char *s);

#endif
