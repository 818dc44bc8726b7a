/*
 * sim_ho.h - ownership handoff of virtual disks in the simulator: a
 * cluster of the platform's hosts on a shared datastore (the experiment's
 * host and disk: a storage host reached over the network), the handoff
 * model (models/handoff/ho.h) on SimGrid's network through the transport
 * port, and the core's fault injection (sim_faults.h).
 *
 * A run point is one or more episodes, one after another in the same
 * simulation, each a fresh cluster: the initial holders open their disks,
 * the scenario's needs arise at their instants, the faults (the config's,
 * plus a random schedule per episode under "campaign") are applied
 * relative to the episode's start, and after `duration` the episode's
 * figures are added up.  An episode whose checker saw a violation is
 * replayed with one fault left out at a time, keeping each removal that
 * still violates, to give a 1-minimal reproducing schedule per violation
 * kind; the result's "detail" holds them as config "faults" arrays.
 */
#ifndef SIM_HO_H
#define SIM_HO_H

#include <stdbool.h>
#include <stdint.h>

#include <simgrid/forward.h>

#include "handoff/ho.h"
#include "sim_exp.h"
#include "sim_mech.h"

#define SIM_HO_MAX_NEEDS 16
#define SIM_HO_MAX_HOSTS 256

struct sim_ho_need {
    uint64_t at_ns;
    uint32_t disk;
    char host[SIM_NAME_MAX];
    int reason;                     /* enum ho_reason */
};

struct sim_ho_cfg {
    /* cluster */
    uint32_t hosts;                 /* the platform's first hosts, the datastore's excluded */
    uint32_t disks;
    uint32_t vm_hosts;              /* disks spread over the first vm_hosts (0: all) */
    uint32_t daemon_disks;          /* the last ones are held by filter daemons */
    uint32_t daemons;               /* other daemons that can act for a disk */
    uint64_t write_interval_ns;
    uint32_t blocks;
    uint64_t write_bytes, msg_bytes;
    bool ha;
    uint64_t ha_detect_ns;
    /* scenario */
    uint64_t duration_ns;
    int nr_needs;
    struct sim_ho_need needs[SIM_HO_MAX_NEEDS];
    /* campaign: a random fault schedule per episode */
    uint32_t schedules;             /* episodes; 1 without a campaign */
    bool random;                    /* draw faults for each episode */
    uint32_t faults_min, faults_max;
    uint64_t horizon_ns;            /* faults begin in [0, horizon) */
    uint64_t down_min_ns, down_max_ns;      /* crash / daemon crash down time */
    uint64_t pause_min_ns, pause_max_ns;
    uint64_t cut_min_ns, cut_max_ns;        /* partition length */
    double loss_max;
    uint64_t delay_max_ns;
    double slow_max;                /* datastore slow factor */
};

#define SIM_HO_METRICS(X) \
    X(OPEN_P50,    "open_p50_ns",         "ns",    false, "need to disk open, median") \
    X(OPEN_P99,    "open_p99_ns",         "ns",    false, "need to disk open, p99") \
    X(OPEN_MAX,    "open_max_ns",         "ns",    false, "need to disk open, worst") \
    X(UNAV_P50,    "unavail_p50_ns",      "ns",    false, "host crash to the disk open elsewhere, median") \
    X(UNAV_MAX,    "unavail_max_ns",      "ns",    false, "host crash to the disk open elsewhere, worst") \
    X(NEEDS,       "needs",               "count", false, "needs to open a disk") \
    X(OPENED,      "opened",              "count", true,  "needs met") \
    X(FAILED,      "failed",              "count", false, "needs that failed (gave up, lost races)") \
    X(UNRESOLVED,  "unresolved",          "count", false, "needs still pending when the episode ended") \
    X(REFUSED,     "refused",             "count", false, "needs a live owner refused") \
    X(MSGS,        "msgs_per_need",       "count", false, "protocol messages per need") \
    X(RETRIES,     "retries_per_need",    "count", false, "requests re-sent per need") \
    X(TAKEOVERS,   "takeovers",           "count", false, "ownership taken without the owner's release") \
    X(FALSE_TO,    "false_takeovers",     "count", false, "takeovers from a live owner that held the disk") \
    X(STALE,       "stale_writes_refused", "count", false, "writes the datastore fenced") \
    X(DW,          "double_writer_windows", "count", false, "intervals with two writers on one disk") \
    X(DW_NS,       "double_writer_ns",    "ns",    false, "their total length") \
    X(LOST,        "lost_acked_writes",   "count", false, "acknowledged blocks overwritten by a stale session") \
    X(SPLIT,       "split_owner",         "count", false, "lock updates that gave two owners one generation") \
    X(LEASE_KILLS, "lease_kills",         "count", false, "holders killed by an expired lease") \
    X(WD_RESETS,   "watchdog_resets",     "count", false, "hosts reset by the watchdog") \
    X(EPISODES,    "episodes",            "count", true,  "fault schedules run") \
    X(EP_BAD,      "episodes_violating",  "count", false, "schedules with a safety violation")

enum sim_ho_metric {
#define X(id, nm, un, hi, ds) SIM_HO_M_##id,
    SIM_HO_METRICS(X)
#undef X
    SIM_HO_M_NR
};

#define SIM_HO_INVARIANTS(X) \
    X(WRITES,   "writes_checked",  false, "writes the datastore accepted, checked") \
    X(META,     "meta_checked",    false, "lock record updates checked") \
    X(SESSIONS, "sessions",        false, "writer sessions seen") \
    X(DW,       "double_writer",   true,  "a superseded session's write accepted (safe methods)") \
    X(LOST,     "lost_acked",      true,  "an acknowledged block overwritten by a stale session (safe methods)") \
    X(SPLIT,    "split_owner",     true,  "two owners of one generation (safe methods)")

enum sim_ho_inv {
#define X(id, nm, bad, ds) SIM_HO_INV_##id,
    SIM_HO_INVARIANTS(X)
#undef X
    SIM_HO_INV_NR
};

extern const struct sim_mech sim_ho_mech;

void sim_ho_run(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out);

#endif
