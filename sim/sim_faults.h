/*
 * sim_faults.h - fault injection as a service of the simulator core, for
 * any mechanism: the faults of a run point (struct sim_exp_fault, the
 * config's "faults", sim_exp.h) or a schedule drawn from a seed, turned
 * into what a mechanism's driver needs while it runs:
 *
 *   - messages: sim_faults_msg() says whether a message between two hosts
 *     sent now is lost (partition, msg_loss) and how much later it
 *     arrives (msg_delay); sim_faults_transport_filter() is the same as a
 *     hook for sim_transport_set_filter() (sim_transport.h);
 *   - host faults (host_crash, daemon_crash, clock_pause): sim_faults_arm()
 *     arms a timer (port_timer.h) at each one's begin and end and calls
 *     the mechanism's handler there: crash / restart, daemon death /
 *     restart, freeze / wake.  What a crash or a freeze does to the
 *     mechanism's processes is the mechanism's business;
 *   - campaigns (Jepsen's nemesis schedules): sim_faults_draw() draws a
 *     random schedule from a seed and a space of faults, and
 *     sim_faults_format() writes one as the JSON array a config's "faults"
 *     takes, so a failing schedule can be pasted into a config and run
 *     again (the config walk is the reverse).
 *
 * Times: every time of the faults (at, from, until) counts in ns from the
 * origin t0_ns given to sim_faults_new(), so a mechanism can run many
 * independent episodes one after another in one simulation, each with its
 * own service (t0_ns = 0: the run's own times).  Times the service
 * returns or passes to the handler are absolute simulated ns.
 *
 * Determinism: the instant of a host fault given as a window is drawn
 * from the seed exactly as sim_exp_fault_at() draws it (for a run point's
 * faults and e->seed, the instant sim_exp_host_crash() gives); each
 * msg_loss fault draws from a vm_rand stream of its own, one draw per
 * message it matches (lost or not), so the same seed and the same
 * messages lose the same ones.
 *
 * Not modelled here: what a fault does beyond its timing (a crashed host
 * stops its processes only if the mechanism stops them), disk faults (the
 * disk port applies those: sim_disk_add_fault()).
 */
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "ports/port_timer.h"
#include "sim_exp.h"

struct sim_faults;

/*
 * A service over faults[0..n) (copied: the array may go after the call;
 * n <= SIM_MAX_FAULTS), with times relative to t0_ns, seed for the drawn
 * instants and the loss draws, and default_host (copied; NULL = "") for
 * a host_crash that names no host (a config's "the experiment's host").
 * Disk faults are kept but ignored.  NULL with a diag: VM_EINVAL (n out
 * of range), VM_ENOMEM.
 */
struct sim_faults *sim_faults_new(const struct sim_exp_fault *faults, int n, uint64_t t0_ns,
                                  uint64_t seed, const char *default_host, struct vm_diag *d);

/* Free it, cancelling the timers sim_faults_arm() armed that have not run
 * (the timer port must still be alive).  May be called from inside the
 * handler.  NULL is a no-op. */
void sim_faults_free(struct sim_faults *f);

/*
 * A message from host from_host to host to_host (names) sent at now_ns:
 * true when it is lost: a partition between the two (either way) whose
 * window holds now_ns, or a msg_loss fault matching them whose draw says
 * so.  *delay_ns (may be NULL) gets the sum of the delays of the msg_delay
 * faults matching it, 0 when it is lost.  A fault's window is
 * [t0 + from, t0 + until); its "a"/"b" match either end, "" any host.
 * Not idempotent: each call draws for the msg_loss faults it matches.
 */
bool sim_faults_msg(struct sim_faults *f, const char *from_host, const char *to_host,
                    uint64_t now_ns, uint64_t *delay_ns);

/* sim_faults_msg() with f as arg: a filter for sim_transport_set_filter(). */
bool sim_faults_transport_filter(void *f, const char *from_host, const char *to_host,
                                 uint64_t now_ns, uint64_t *delay_ns);

/* What happens to a host, passed to the handler. */
struct sim_fault_event {
    enum sim_fault_kind kind;           /* host_crash, daemon_crash or clock_pause */
    int index;                          /* the fault's index in the array given */
    const char *host;                   /* its host (default_host for a host_crash
                                           without one); valid during the call */
    bool begin;                         /* true: it crashes / dies / freezes;
                                           false: it restarts / wakes up */
    uint64_t begin_ns, end_ns;          /* absolute: t0 + instant, + restart_after
                                           (crashes) or + duration (clock_pause) */
    uint64_t now_ns;                    /* this event's time: begin_ns or end_ns */
};
typedef void (*sim_fault_handler)(void *arg, const struct sim_fault_event *ev);

/*
 * Arm timer for every host fault: fn(arg, ev) at its begin and at its end
 * (two calls per fault, begin first; equal times run in the order of the
 * faults, begin and end of each in turn, as the timer port runs equal
 * deadlines in arming order).  A time already past runs as soon as the
 * port can (port_timer.h).  The handler may call sim_faults_free().  0,
 * VM_EBUSY (armed already), or VM_ENOMEM (nothing stays armed).
 */
int sim_faults_arm(struct sim_faults *f, struct port_timer *timer, sim_fault_handler fn,
                   void *arg);

/* Host faults whose events have not all run yet (0 when not armed). */
int sim_faults_pending(const struct sim_faults *f);

/*
 * The space a random schedule is drawn from.  Every range is inclusive
 * (lo <= hi); times are ns, relative to the episode's origin; the draw
 * keeps every time within a config's limit (SIM_CFG_TIME_MAX_NS).
 */
struct sim_fault_space {
    unsigned kinds;                     /* SIM_FAULT_BIT()s of host and message kinds */
    const char *const *hosts;           /* names the faults may hit (nr_hosts >= 1) */
    int nr_hosts;
    const char *storage_host;           /* NULL, or a host that is only ever one end of
                                           a partition or a message fault (never crashed
                                           nor paused: the datastore) */
    uint64_t horizon_ns;                /* each fault begins in [0, horizon_ns), > 0 */
    int min_faults, max_faults;         /* how many, uniform: 0 <= min <= max */
    uint64_t down_min_ns, down_max_ns;  /* host_crash, daemon_crash: restart_after */
    uint64_t pause_min_ns, pause_max_ns;  /* clock_pause: duration, >= 1 */
    uint64_t cut_min_ns, cut_max_ns;    /* partition, msg_loss, msg_delay: window, >= 1 */
    double p_min, p_max;                /* msg_loss: probability, within [0, 1] */
    uint64_t delay_min_ns, delay_max_ns;  /* msg_delay: delay, >= 1 */
};

/*
 * Draw a schedule from seed into out[0..max): the number of faults
 * uniform in [min_faults, max_faults], each of a kind drawn uniformly
 * from space->kinds, beginning at an instant uniform in [0, horizon)
 * (host faults get "at"; message faults "from", and "until" the window's
 * length later), on hosts drawn uniformly (a message fault's two ends
 * differ, and may be the storage host), sorted by begin time.  Every
 * fault is one the config walk would give for its own formatted text
 * (sim_faults_format).  Same seed and space -> same schedule.  Returns
 * how many (>= 0), or VM_EINVAL (an empty or disk kind set, a bad range,
 * a host name of SIM_NAME_MAX characters or more, fewer than two ends for
 * message faults), VM_ENOSPC (max < max_faults).
 */
int sim_faults_draw(uint64_t seed, const struct sim_fault_space *space,
                    struct sim_exp_fault *out, int max);

/*
 * Write faults[0..n) into buf (len bytes, always NUL-terminated when len
 * > 0) as the JSON array a config's "faults" takes, one fault a line,
 * with each kind's keys only and exact times ("1500ms", "7ns").  Returns
 * the length of the whole text (as snprintf: >= len means it was cut),
 * or VM_EINVAL for a fault of no known kind.
 */
int sim_faults_format(const struct sim_exp_fault *faults, int n, char *buf, size_t len);

#endif
