/*
 * at_world.h - a deterministic world for the datacenter model's unit
 * tests: one fake clock and fake timer drive everything; the transport's
 * send() queues each message and delivers it to at_deliver() lat_ns later
 * (in send order per pair).  The world owns the base catalog, the depot's
 * keys and the arrays the config points at, so a test edits w->cfg,
 * w->rel[] and w->atk[] and then calls at_world_build().
 *
 *   struct at_world *w = at_world_new(50, AT_DEPOT);
 *   w->atk[w->cfg.nr_attacks++] = (struct at_attack){ .kind = AT_ATK_TAMPER, ... };
 *   at_world_build(w);
 *   at_world_run_until(w, 600 * S);
 *   struct at_stats st = at_world_finish(w);
 *   at_world_free(w);
 */
#ifndef AT_WORLD_H
#define AT_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "attestation/at.h"
#include "attestation/at_int.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_timer.h"

#define AT_S 1000000000ull
#define AT_MS 1000000ull

struct at_world {
    struct fake_clock clk;
    struct fake_timer *ft;
    struct port_transport net;
    struct at_dc *dc;
    uint64_t lat_ns;
    uint64_t sent, sent_bytes;       /* messages and wire bytes sent */
    uint64_t sent_to_depot;
    struct at_catalog base;
    struct at_cfg cfg;
    struct at_release rel[8];
    struct at_attack atk[16];
};

/* A world of nr_hosts hosts (racks of 10, 4 nodes in clusters of 2,
 * clusters of 25 hosts), a base catalog of 8 packages of 4 files, sample
 * 1.0, boots spread over 10 s, the method's defaults.  Not built yet. */
struct at_world *at_world_new(uint32_t nr_hosts, enum at_method m);
/* Make the datacenter of w->cfg and start it.  0 or the error. */
int at_world_build(struct at_world *w);
void at_world_free(struct at_world *w);
void at_world_run_until(struct at_world *w, uint64_t t_ns);
struct at_stats at_world_finish(struct at_world *w);

#endif
