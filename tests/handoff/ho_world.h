/*
 * ho_world.h - a deterministic world for the handoff model's unit tests:
 * one fake clock and fake timer drive everything.  The transport's send()
 * queues each message and delivers it to ho_deliver() lat_ns later (in
 * send order per pair); the datastore's block device completes each I/O
 * io_ns after it was submitted.  The test may drop messages: every one
 * sent is numbered from 1 in send order, and a drop rule loses the n-th,
 * every message of a type, or every message between two endpoints in a
 * window of time (a partition).  Messages of one pair keep their order.
 * Every send is logged (time, type, endpoints, dropped or not, the
 * message's header), so a test can first run a scenario clean, find the
 * instants where messages leave or arrive, then replay it with a fault at
 * each of them.
 *
 *   struct ho_world *w = ho_world_new(&cfg, 1);    // cluster built inside
 *   ho_start(w->c);
 *   ho_need(w->c, 0, 1, HO_RESTART);
 *   ho_world_run_until(w, 60 * S);
 *   ho_world_free(w);
 */
#ifndef HO_WORLD_H
#define HO_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "fakes/fake_clock.h"
#include "fakes/fake_timer.h"
#include "handoff/ho.h"
#include "handoff/ho_int.h"

#define HO_WORLD_MAX_CUTS 8

struct ho_world_cut {                /* a partition: both directions */
    char a[16], b[16];               /* endpoint names ("h0", "ds") */
    uint64_t from_ns, until_ns;
};

struct ho_world_sent {               /* one logged send */
    uint64_t t_ns;                   /* when it left (it arrives t_ns + lat_ns) */
    uint64_t nr;                     /* its number (the value drop_nth matches) */
    int type;                        /* enum ho_mtype */
    char from[16], to[16];
    bool dropped;
    struct ho_msg m;                 /* its header */
};

struct ho_world {
    struct fake_clock clk;
    struct fake_timer *ft;
    struct port_transport net;
    struct port_blk dev;
    struct ho_cluster *c;
    uint64_t lat_ns, io_ns;
    uint64_t sent;                   /* messages sent so far */
    uint64_t drop_nth;               /* lose the message with this number (0: none) */
    int drop_type;                   /* lose every message of this type (0: none) */
    struct ho_world_cut cuts[HO_WORLD_MAX_CUTS];
    int nr_cuts;
    uint64_t dropped;
    uint64_t type_count[32];         /* messages sent per type */
    struct ho_world_sent *log;       /* every send, in order (malloc'd) */
    size_t log_len, log_cap;
};

/* A world with a cluster of cfg (epoch 1) over it; lat 100 us, I/O
 * 200 us.  NULL on failure. */
struct ho_world *ho_world_new(const struct ho_cfg *cfg, uint64_t seed);
void ho_world_free(struct ho_world *w);
/* Run every event up to t_ns. */
void ho_world_run_until(struct ho_world *w, uint64_t t_ns);
/* End the episode's accounting (ho_finish) and return its figures; once. */
struct ho_stats ho_world_finish(struct ho_world *w);
/* Step event by event until every need is met, failed or refused, or
 * limit_ns; the instant it went quiet, or UINT64_MAX. */
uint64_t ho_world_run_until_quiet(struct ho_world *w, uint64_t limit_ns);
/* Logged sends of `type` (0: any) from `from` to `to` (NULL: any) that
 * left in [after_ns, before_ns). */
size_t ho_world_count_sent(const struct ho_world *w, int type, const char *from, const char *to,
                           uint64_t after_ns, uint64_t before_ns);
/* Cut a from b in [from, until). */
void ho_world_cut(struct ho_world *w, const char *a, const char *b, uint64_t from_ns,
                  uint64_t until_ns);
/* A config of nr_hosts hosts and nr_disks disks; disk d held by a VM on
 * host d % nr_hosts, its daemons the next hosts.  The disks array is
 * static storage (up to 64 disks). */
struct ho_cfg ho_world_cfg(uint32_t nr_hosts, uint32_t nr_disks, enum ho_method m);
/* One disk, held by the filter daemon of the last host (a backup proxy's
 * hot-add), that daemon alone acting for it (static storage as above). */
struct ho_cfg ho_world_cfg_daemon(uint32_t nr_hosts, enum ho_method m);

#endif
