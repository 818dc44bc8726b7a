/*
 * ho.h - ownership handoff of virtual disks in a cluster on a shared
 * datastore: the protocol of US9575658 ("collaborative release of a
 * virtual disk", VMware) and the baselines it must beat, with
 * single-writer safety checked at the datastore.
 *
 * The world.  Hosts h0..hN-1 and one datastore node ("ds") exchange
 * messages through the transport port (send() only; the world hands
 * arrivals to ho_deliver()).  Every virtual disk has a lock record on the
 * datastore: {owner host, generation, the hosts whose filter daemons can
 * act for the disk}.  The generation changes only by an atomic
 * compare-and-write (VMFS ATS, SCSI COMPARE AND WRITE): "if the record
 * still has generation g, make it owner o, generation g+1".  A disk is
 * held open by a VM on a host, or by a host's filter daemon outside any
 * VM (a backup proxy's hot-add, a replication or cache filter); a holder
 * writes a block every write interval, carrying the generation it opened
 * with; the datastore refuses a write with an older generation when the
 * method's datastore fences (the fencing token of a lease: Kleppmann's
 * "How to do distributed locking", 2016; Chubby's sequencers).  Each
 * datastore operation costs one 4 KiB I/O on the datastore's block
 * device (port_blk), so slow storage slows every step.
 *
 * The need.  "Host R must open disk D" (a VM restarted elsewhere by HA
 * after its host crashed, a power-on blocked by a backup proxy's
 * hot-add, a migration) is ho_need().  With `ha` set the cluster raises
 * these itself: when a host crashes, each VM disk it held is restarted
 * on the next live host after ha_detect.
 *
 * Methods (struct ho_params.method):
 *   HO_HANDOFF  the patent: read the lock record; send a release request
 *               to the owner's filter daemon, which flushes (waits for its
 *               write in flight), closes and confirms; then compare-and-
 *               write the requester as owner and open.  When the owner
 *               does not answer (timeout, retries with exponential
 *               backoff) or the request fails, ask the next daemon that
 *               can act for the disk (it relays the release to the owner
 *               over its own path).  A refusal from the owner itself (its
 *               VM is running and the need is not a migration) ends the
 *               handoff: the live owner keeps the disk.  When nobody
 *               answers, the owner is presumed dead and the requester
 *               takes over by compare-and-write: the datastore's fencing
 *               check refuses the late writes of an owner that was only
 *               slow, paused or cut off.
 *   HO_MANUAL   the open fails while the lock is held; an operator clears
 *               the lock after a delay drawn uniformly from [op_min,
 *               op_max] (closing the holder first when its host is up; a
 *               running VM is left alone: the open fails), and the
 *               requester's next retry (every poll) opens.
 *   HO_LEASE    sanlock: every host renews its delta lease every
 *               2 x io_timeout; one that cannot renew for 8 x io_timeout
 *               kills its lease holders and loses its lockspace (it
 *               rejoins with a new delta-lease generation, freeing the
 *               resource leases it held), and its watchdog resets the host
 *               if it stays frozen past watchdog; another host, while its
 *               own lockspace is live, takes a held resource lease once
 *               the owner's delta lease has not changed for host_dead =
 *               8 x io_timeout + watchdog (140 s with the default 10 s),
 *               re-reading it every poll (1 s), or once the owner rejoined
 *               (sanlock src/timeouts.c setup_task_timeouts(),
 *               paxos_lease.c, lockspace.c).
 *               A lease held by a live host is taken only by request
 *               (sanlock_request, force mode) when the need is not an HA
 *               restart: the owner sees the request at its next renewal,
 *               kills the holder and releases the lease; for a restart the
 *               acquire keeps failing (EAGAIN) while the owner is alive.
 *               The datastore does not fence (sanlock relies on the
 *               watchdog).
 *   HO_FORCE    break the lock at once: write the requester into the
 *               record (read-modify-write, no compare) and open.  The
 *               datastore does not fence, so a live former owner keeps
 *               writing: the checker counts the double-writer windows.
 *   HO_FORCE_FENCED  take the lock at once by compare-and-write, no release
 *               request, on the fencing datastore the mechanism has: what
 *               fencing alone buys (safe; every live owner is displaced).
 *   HO_BROKEN_NOFENCE  (test only) HO_HANDOFF on a datastore without the
 *               fencing check: must fail the run when a presumed-dead
 *               owner wakes up and writes.
 *
 * Invariants, checked at the datastore on every operation it accepts
 * (ho_check.c): at most one writer per disk (a session that was
 * superseded by another host's session never gets a write accepted
 * again); no acknowledged write lost (a block never goes back to data of
 * an older session); the lock record names one owner per generation
 * (every update moves the generation forward by one from the value it
 * replaced).  Unsafe methods (HO_FORCE) report their violations as
 * figures; for the others a violation fails the run.
 *
 * Everything runs in callbacks of the ports (message arrivals, timers,
 * block I/O completions): no call blocks.  One struct ho_cluster is one
 * episode; the world may run many, one after another, each with its own
 * epoch number (messages of other epochs are dropped).
 */
#ifndef HO_H
#define HO_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "base/vm_hist.h"
#include "ports/port_blk.h"
#include "ports/port_clock.h"
#include "ports/port_timer.h"
#include "ports/port_transport.h"

#define HO_MAX_HOSTS 1024
#define HO_MAX_DISKS 4096
#define HO_MAX_ACTORS 4          /* daemons that can act for a disk, owner included */
#define HO_NONE UINT32_MAX       /* no host */

enum ho_method { HO_HANDOFF, HO_MANUAL, HO_LEASE, HO_FORCE, HO_FORCE_FENCED, HO_BROKEN_NOFENCE,
                 HO_NR_METHODS };

/* Why a host needs a disk: decides whether a live owner's VM gives it up. */
enum ho_reason {
    HO_RESTART = 0,          /* HA restart: the owner is presumed dead; a live VM refuses */
    HO_POWER_ON = 1,         /* a power-on (the holder is a daemon, e.g. a backup proxy) */
    HO_MIGRATE = 2,          /* the owner's VM moves: it releases */
};

/* Who holds a disk open. */
enum ho_holder { HO_HOLD_NONE = 0, HO_HOLD_VM = 1, HO_HOLD_DAEMON = 2 };

/* A method and its parameters (the policy's vm_param table fills it). */
struct ho_params {
    enum ho_method method;
    /* handoff */
    uint64_t req_timeout_ns;     /* first release request's timeout */
    uint32_t attempts;           /* requests per daemon before the next (>= 1) */
    double backoff;              /* timeout multiplier per retry (>= 1) */
    uint32_t relays;             /* other daemons asked after the owner */
    /* every method */
    uint64_t ds_timeout_ns;      /* a datastore operation's timeout, then retried */
    uint64_t poll_ns;            /* manual: open retries; lease: acquire retries */
    uint64_t give_up_ns;         /* a need not met this long after it arose fails */
    uint32_t max_rounds;         /* lost compare-and-writes before a need fails */
    /* manual */
    uint64_t op_min_ns, op_max_ns;
    /* lease */
    uint64_t io_timeout_ns;      /* sanlock's io_timeout (10 s) */
    uint64_t watchdog_ns;        /* wdmd fire timeout (60 s) */
};

/* Fill p with method m's defaults (the values the README cites). */
void ho_params_default(struct ho_params *p, enum ho_method m);
/* "handoff", "manual", "lease", "force", "broken-no-fencing". */
const char *ho_method_name(enum ho_method m);
/* The datastore fences writes under method m. */
bool ho_method_fences(enum ho_method m);
/* Method m's violations are figures, not failures. */
bool ho_method_unsafe(enum ho_method m);

/* One disk at the start of an episode. */
struct ho_disk_cfg {
    uint32_t holder_host;        /* HO_NONE: closed */
    enum ho_holder holder;       /* VM or daemon (ignored when closed) */
    uint32_t actors[HO_MAX_ACTORS];  /* daemons that can act for it, owner first;
                                        HO_NONE-terminated when fewer */
};

struct ho_cfg {
    uint32_t nr_hosts;           /* 1..HO_MAX_HOSTS */
    uint32_t nr_disks;           /* 1..HO_MAX_DISKS */
    const struct ho_disk_cfg *disks;     /* nr_disks, the caller's (copied) */
    uint64_t write_interval_ns;  /* a holder writes one block this often (> 0) */
    uint32_t blocks_per_disk;    /* blocks a holder writes into (>= 1) */
    uint64_t write_bytes;        /* wire and disk size of a data write (4096) */
    uint64_t msg_bytes;          /* wire size of a control message (256) */
    bool ha;                     /* restart a crashed host's VMs elsewhere */
    uint64_t ha_detect_ns;       /* crash to HA restart */
    struct ho_params params;
};

/* The ports an episode uses; all outlive it.  The endpoints are "h<i>"
 * (i = 0..nr_hosts-1) and "ds"; the world maps them to hosts. */
struct ho_ports {
    struct port_clock *clock;
    struct port_timer *timer;
    struct port_transport *net;
    struct port_blk *ds_dev;     /* the datastore's disk; lock records first */
};

/* What an episode measured and checked. */
struct ho_stats {
    uint64_t needs, opened, failed, refused, unresolved;
    struct vm_hist open_ns;      /* need -> open, per opened need */
    struct vm_hist unavail_ns;   /* crash -> open, per need HA raised */
    uint64_t msgs, retries;      /* the needs' protocol messages (requests, replies,
                                    relays; not the data writes), requests re-sent */
    uint64_t takeovers;          /* ownership moved without the owner's release */
    uint64_t false_takeovers;    /* ... while the owner was alive and held the disk */
    uint64_t stale_refused;      /* writes the datastore fenced */
    uint64_t lease_kills;        /* holders killed by a host's lease expiry / watchdog */
    uint64_t watchdog_resets;
    /* checker */
    uint64_t writes_checked, meta_checked, sessions;
    uint64_t double_writer, double_writer_ns;   /* windows with two writers, their length */
    uint64_t lost_acked;         /* acknowledged blocks overwritten by an older session */
    uint64_t split_owner;        /* lock record updates that did not advance by one */
};

struct ho_cluster;

/* A new episode: nothing runs until ho_start().  NULL with a diag on bad
 * configuration (VM_EINVAL) or no memory. */
struct ho_cluster *ho_cluster_new(const struct ho_cfg *cfg, const struct ho_ports *ports,
                                  uint32_t epoch, uint64_t seed, struct vm_diag *d);
/* Free it: its pending timers are cancelled (the timer port must still be
 * alive); block requests still in flight keep it until they complete
 * (their replies are then dropped).  NULL is a no-op. */
void ho_cluster_free(struct ho_cluster *c);

/* Open the initial holders (generation 1), start their writes and, under
 * HO_LEASE, every host's lease renewals.  0 or VM_ENOMEM. */
int ho_start(struct ho_cluster *c);

/* A message for endpoint `self` arrived (the world calls it; the message
 * stays the caller's).  Messages of another epoch, for a crashed host or
 * malformed are dropped. */
void ho_deliver(struct ho_cluster *c, const char *self, const struct port_transport_msg *m);

/* Host `host` needs disk `disk` for `why`; the need's clock starts now.
 * 0, VM_EINVAL (unknown host or disk), VM_EBUSY (that host already
 * pursues that disk). */
int ho_need(struct ho_cluster *c, uint32_t disk, uint32_t host, enum ho_reason why);

/* Faults, at the instant the world applies them. */
void ho_host_crash(struct ho_cluster *c, uint32_t host);   /* state lost, VMs die */
void ho_host_restart(struct ho_cluster *c, uint32_t host); /* back, holding nothing */
void ho_daemon_crash(struct ho_cluster *c, uint32_t host); /* its opens close, locks stay */
void ho_daemon_restart(struct ho_cluster *c, uint32_t host);
void ho_host_pause(struct ho_cluster *c, uint32_t host);   /* every process freezes */
void ho_host_wake(struct ho_cluster *c, uint32_t host);    /* and carries on */

/* Every need is met or failed. */
bool ho_quiet(const struct ho_cluster *c);
/* Who the lock record names and who holds the disk open (for tests). */
uint32_t ho_owner(const struct ho_cluster *c, uint32_t disk, uint64_t *gen);
uint32_t ho_holder_host(const struct ho_cluster *c, uint32_t disk);

/* End the episode's accounting at now (open double-writer windows close,
 * needs still pending count as unresolved) and add its figures to *out
 * (sums; histograms merged).  Call once, before ho_cluster_free(). */
void ho_finish(struct ho_cluster *c, struct ho_stats *out);

/* Zero *s with empty histograms. */
void ho_stats_init(struct ho_stats *s);
/* Add s's figures to *out (sums; histograms merged). */
void ho_stats_merge(struct ho_stats *out, const struct ho_stats *s);

#endif
