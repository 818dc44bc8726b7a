/*
 * ho_int.h - the handoff model's insides, shared by its files:
 *   ho_msg.c      the wire message, sends and timers (with pause deferral)
 *   ho_ds.c       the datastore: lock records, compare-and-write, fencing,
 *                 delta leases, one block I/O per operation
 *   ho_check.c    the single-writer / acknowledged-write / one-owner checker
 *   ho_host.c     hosts: opens and their writes, the filter daemon (release,
 *                 relay), lease renewals, crashes and pauses
 *   ho_req.c      the requesters: one state machine per need and method
 *   ho_cluster.c  episode life, delivery, HA, statistics
 */
#ifndef HO_INT_H
#define HO_INT_H

#include "base/vm_rand.h"
#include "handoff/ho.h"

/* ---------------------------------------------------------------- wire */

enum ho_mtype {
    /* host -> datastore */
    M_DS_READ = 1, M_DS_CAW, M_DS_SET, M_DS_WRITE, M_DS_RENEW,
    /* datastore -> host */
    M_DS_META, M_DS_CAW_OK, M_DS_CAW_FAIL, M_DS_ACK, M_DS_FENCED, M_DS_LEASES,
    /* host -> host */
    M_RELEASE, M_RELAY, M_RELEASED, M_REFUSED, M_UNREACHABLE,
    /* host -> datastore: a sanlock lease request (sanlock_request) */
    M_DS_LREQ,
    M_NR
};

/* Who waits for the reply (echoed by the server). */
enum ho_slot { S_NONE = 0, S_REQ, S_OPEN, S_RELAY, S_LEASE };

struct ho_msg {
    uint8_t type, reason, slot_kind, pad;
    uint32_t epoch;
    uint32_t disk;
    uint32_t host;               /* the sender host (HO_NONE: the datastore) */
    uint32_t owner;              /* META/CAW_FAIL: the owner; CAW/SET: the new one;
                                    RELAY: the owner to ask */
    uint32_t slot, slot_seq;     /* the waiting object's index and generation */
    uint32_t nr_leases;          /* LEASES: that many uint64 counters follow */
    uint64_t id;                 /* request id, echoed in the reply */
    uint64_t gen;                /* generation (read, expected, carried, new) */
    uint64_t block, wid;         /* WRITE */
    uint32_t actors[HO_MAX_ACTORS];
    uint64_t owner_ts;           /* META: the owner's delta-lease counter now */
    uint32_t lgen, cur_lgen;     /* META: the owner's lease generation when it took
                                    the lock, and now (sanlock: a restarted owner
                                    rejoined with a new one) */
};

/* --------------------------------------------------------------- timers */

enum ho_tkind { T_NEED, T_OPEN_WRITE, T_RELAY, T_RENEW, T_WATCHDOG, T_OPERATOR, T_LEASE_FAIL,
                T_HA };

/* A timer slot embedded in a long-lived object; at most one armed. */
struct ho_tmr {
    struct ho_cluster *c;
    uint64_t id;                 /* port_timer id, 0 when not armed */
    uint8_t kind;                /* enum ho_tkind */
    uint32_t idx;                /* the object's index */
    uint32_t seq;                /* the object's generation when armed */
    uint32_t arms;               /* bumped at each arm and cancel: a fire deferred
                                    by a pause runs only if still current */
};

/* ---------------------------------------------------------- host side */

/* A disk open on a host (a VM's or a daemon's). */
struct ho_open {
    bool live;                   /* in use */
    uint32_t seq;                /* bumped at each reuse and close */
    uint32_t disk, host;
    enum ho_holder kind;
    uint64_t gen;                /* the generation it opened with (its fencing token) */
    bool closing;                /* a release is flushing it */
    bool release_lease;          /* lease: killed; release its lease once its I/O is done */
    bool inflight;               /* a write awaits its reply */
    uint64_t wait_id;
    uint64_t block, wid;         /* the write in flight */
    uint32_t nr_rel;             /* releases to answer once flushed */
    struct { uint32_t host, slot, slot_seq, kind; uint64_t id; } rel[4];
    struct vm_rand rnd;
    struct ho_tmr tmr;
};

/* A daemon relaying a release to the owner for another host. */
struct ho_relay {
    bool live;
    uint32_t seq;
    uint32_t host;               /* the relaying host */
    uint32_t to_host, to_slot, to_seq;   /* the requester */
    uint64_t to_id;
    uint32_t need;               /* charged messages */
    uint64_t wait_id;
    struct ho_tmr tmr;
};

/* An event a paused host will see when it wakes. */
struct ho_deferred {
    bool is_msg;
    struct ho_tmr *tmr;          /* timer: the slot and the generation it fired with */
    uint32_t seq;
    uint32_t arms;               /* timer: tmr->arms when it fired */
    struct ho_msg m;             /* message */
    uint64_t *leases;            /* its lease counters (malloc'd) or NULL */
};

struct ho_host {
    bool up, daemon_up, paused, reset_at_wake;
    uint32_t inc;                /* incarnation: bumped at crash */
    struct ho_deferred *dq;
    size_t dq_len, dq_cap;
    /* lease */
    uint64_t last_renew_ok_ns;   /* start of the last renewal that succeeded */
    uint64_t renew_id, renew_sent_ns;
    bool renew_inflight;
    bool rejoin;                 /* the next renewal rejoins the lockspace */
    uint64_t next_renew_ns;      /* when the next renewal is due */
    uint64_t *seen_ts;           /* nr_hosts: lease counters as last read */
    uint64_t *seen_change_ns;    /* nr_hosts: when each was seen changing */
    struct ho_tmr renew_tmr, fail_tmr, wd_tmr;
    struct ho_tmr ha_tmr;        /* HA's detection of a frozen host (vCenter: never frozen) */
    uint64_t paused_at;
    uint32_t pause_seq;
};

/* ---------------------------------------------------------- requesters */

enum ho_rstate {
    R_WAIT_START,                /* raised later (HA detection) */
    R_READ,                      /* reading the lock record */
    R_RELEASE,                   /* a release request out to targets[ti] */
    R_CAW,                       /* compare-and-write out */
    R_POLL,                      /* manual / lease: waiting to retry */
    R_DONE, R_FAILED, R_REFUSED,
};

struct ho_need {
    uint32_t seq;
    uint32_t disk, host;         /* host: the requester (HO_NONE: HA picks at start) */
    enum ho_reason why;
    enum ho_rstate st;
    uint64_t t_need, t_crash;    /* t_crash: the crash behind it (0: none) */
    uint64_t wait_id;
    uint64_t gen_read;           /* the record's generation we act on */
    uint32_t owner_read;
    uint32_t targets[HO_MAX_ACTORS + 1];
    uint32_t nr_targets, ti, attempt, rounds;
    bool released;               /* the owner confirmed a release */
    bool operator_paged;
    bool lreq_sent;              /* lease: a request was written */
    uint64_t msgs, retries;
    struct ho_tmr tmr, op_tmr;
};

/* ----------------------------------------------------------- datastore */

struct ho_ds_disk {
    uint32_t owner;
    uint64_t gen;
    uint32_t actors[HO_MAX_ACTORS];
    uint32_t owner_lgen;         /* the owner's lease generation when it took it */
    bool lreq;                   /* a lease request waits for the owner's renewal */
    uint64_t lreq_after;         /* ... once the requester's renewal published it */
    /* checker */
    bool cur_wrote;              /* the current session has written */
    uint64_t superseded_at;      /* the record last changed (earlier sessions superseded) */
    bool dw_open;
    uint64_t dw_start, dw_last;
    uint64_t *blk_gen;           /* blocks_per_disk: generation of the last write accepted */
    uint32_t *blk_host;          /* ... and its host */
};

struct ho_cluster {
    struct ho_cfg cfg;
    struct ho_disk_cfg *disk_cfg;
    struct ho_ports p;
    uint32_t epoch;
    uint64_t seed;
    bool fences;
    struct vm_rand rnd;
    uint64_t next_id;
    struct ho_host *hosts;
    struct ho_ds_disk *ds;
    uint64_t *lease_ts;          /* nr_hosts delta-lease counters on the datastore */
    uint32_t *lease_gen;         /* nr_hosts delta-lease generations (bumped by a rejoin) */
    uint64_t ds_lba_leases, ds_lba_data;
    struct ho_open *opens;
    uint32_t nr_opens, cap_opens;
    struct ho_relay *relays;
    uint32_t nr_relays, cap_relays;
    struct ho_need *needs;
    uint32_t nr_needs, cap_needs;
    uint32_t ha_next;            /* round-robin HA placement */
    struct ho_stats st;
    uint32_t ds_inflight;        /* datastore I/Os not completed */
    bool dead;                   /* freed once they have */
};

/* ho_msg.c */
void ho_send(struct ho_cluster *c, uint32_t from, uint32_t to, struct ho_msg *m,
             const uint64_t *leases, uint32_t need);
void ho_tmr_init(struct ho_tmr *t, struct ho_cluster *c, enum ho_tkind kind, uint32_t idx);
void ho_tmr_arm(struct ho_tmr *t, uint64_t when_ns, uint32_t seq);
void ho_tmr_cancel(struct ho_tmr *t);
uint64_t ho_now(const struct ho_cluster *c);
uint32_t ho_tmr_host(struct ho_cluster *c, const struct ho_tmr *t);
void ho_run_timer(struct ho_cluster *c, struct ho_tmr *t, uint32_t seq);
void ho_defer(struct ho_cluster *c, uint32_t host, const struct ho_msg *m, const uint64_t *leases,
              struct ho_tmr *t, uint32_t seq);
const char *ho_endpoint(uint32_t host, char buf[16]);

/* ho_ds.c */
int ho_ds_init(struct ho_cluster *c);
void ho_ds_free(struct ho_cluster *c);
void ho_ds_handle(struct ho_cluster *c, const struct ho_msg *m);
void ho_ds_clear(struct ho_cluster *c, uint32_t disk);

/* ho_check.c */
void ho_check_write(struct ho_cluster *c, uint32_t disk, uint32_t host, uint64_t gen,
                    uint64_t block);
void ho_check_meta(struct ho_cluster *c, uint32_t disk, uint64_t old_gen, uint64_t new_gen);
void ho_check_finish(struct ho_cluster *c);

/* ho_host.c */
int ho_open_new(struct ho_cluster *c, uint32_t disk, uint32_t host, enum ho_holder kind,
                uint64_t gen);
void ho_open_close(struct ho_cluster *c, struct ho_open *o);
struct ho_open *ho_open_find(struct ho_cluster *c, uint32_t disk, uint32_t host);
void ho_host_msg(struct ho_cluster *c, uint32_t host, const struct ho_msg *m,
                 const uint64_t *leases);
void ho_host_timer(struct ho_cluster *c, struct ho_tmr *t);
void ho_relay_msg(struct ho_cluster *c, uint32_t host, const struct ho_msg *m);
void ho_lease_start(struct ho_cluster *c, uint32_t host);
bool ho_lease_dead(const struct ho_cluster *c, uint32_t observer, uint32_t owner);
bool ho_lease_own_valid(const struct ho_cluster *c, uint32_t host);
bool ho_lease_changed(const struct ho_cluster *c, uint32_t observer, uint32_t owner, uint64_t ts);

void ho_ha_pause_check(struct ho_cluster *c, uint32_t host, uint32_t pause_seq);

/* ho_req.c */
void ho_need_start(struct ho_cluster *c, struct ho_need *n);
void ho_need_msg(struct ho_cluster *c, struct ho_need *n, const struct ho_msg *m);
void ho_need_timer(struct ho_cluster *c, struct ho_tmr *t);
void ho_need_host_crash(struct ho_cluster *c, uint32_t host);
void ho_need_host_restart(struct ho_cluster *c, uint32_t host);
uint32_t ho_pick_live(struct ho_cluster *c, uint32_t avoid);

#endif
