/*
 * sim_world.c - SimGrid glue: engine start-up with vmsim's defaults,
 * platform loading without aborts, the clock port, counted sleeps and
 * wait queues (see sim_world.h).
 *
 * Based on SimGrid 3.32's C API (simgrid/engine.h, actor.h, cond.h); the
 * two C++-only pieces (catching parse exceptions, disk properties) are in
 * sim_sg_shim.cpp.  Defaults: network/model:CM02 with
 * network/crosstraffic:0, so a message costs exactly latency +
 * size/bandwidth (SimGrid's default LV08 multiplies latency by 13.01, and
 * cross-traffic would take 1/21 of each link for the reverse ACK flow);
 * SimGrid's own log lines at warning and above only.
 *
 * This file also defines vmsim's root log category `vmsim`; every sim/
 * file logs in a subcategory of it (--log=vmsim.thres:debug).
 */
#include "base/vm_units.h"
#include "sim_world.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <simgrid/actor.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/disk.h>
#include <simgrid/semaphore.h>
#include <xbt/log.h>
#include <xbt/sysdep.h>

#include "sim_sg_shim.h"

XBT_LOG_NEW_CATEGORY(vmsim, "vmsim simulator");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(vmsim_world, vmsim, "engine, platform and clock");

/* Prepended to argv, so a --cfg= given by the user (which comes later)
 * still wins. */
static char cfg_network_model[] = "--cfg=network/model:CM02";
static char cfg_crosstraffic[] = "--cfg=network/crosstraffic:0";

static uint64_t nr_activities;

void sim_world_init(int *argc, char **argv)
{
    static char prog[] = "vmsim";
    static char *no_argv[] = { prog, NULL };
    int no_argc = 1;

    if (argc == NULL || argv == NULL || *argc < 1) {
        argc = &no_argc;
        argv = no_argv;
    }
    /* Before simgrid_init(), so that --log= options override them. */
    xbt_log_control_set("root.thres:warning");
    xbt_log_control_set("xbt_cfg.thres:warning");

    int n = *argc + 2;
    char **av = calloc((size_t)n + 1, sizeof(*av));
    if (av == NULL) {
        /* Too early for a diag: run with the user's arguments only. */
        simgrid_init(argc, argv);
        return;
    }
    av[0] = argv[0];
    av[1] = cfg_network_model;
    av[2] = cfg_crosstraffic;
    for (int i = 1; i < *argc; i++)
        av[i + 2] = argv[i];
    simgrid_init(&n, av);
    /* simgrid_init() removed the options it consumed; hand the rest back. */
    int out = 0;
    for (int i = 0; i < n; i++)
        if (av[i] != cfg_network_model && av[i] != cfg_crosstraffic)
            argv[out++] = av[i];
    argv[out] = NULL;
    *argc = out;
    free(av);
}

void sim_world_init_options(int nr, char *const *options)
{
    static char prog[] = "vmsim";
    char *argv[SIM_WORLD_MAX_OPTIONS + 2];
    int argc = 0;
    assert(nr <= SIM_WORLD_MAX_OPTIONS && "the command line limits SimGrid options");
    argv[argc++] = prog;
    for (int i = 0; i < nr && i < SIM_WORLD_MAX_OPTIONS; i++)
        argv[argc++] = options[i];
    argv[argc] = NULL;
    sim_world_init(&argc, argv);
}

int sim_world_load_platform(const char *path, struct vm_diag *d)
{
    char msg[VM_DIAG_MSG_MAX];

    if (access(path, R_OK) != 0)
        return vm_diag_set(d, VM_ENOENT, "platform '%s': %s", path, strerror(errno));
    if (sim_sg_load_platform(path, msg, sizeof(msg)) != 0)
        return vm_diag_set(d, VM_EPARSE, "platform '%s': %s", path, msg);
    XBT_DEBUG("platform '%s' loaded: %zu hosts", path, sg_host_count());
    return 0;
}

static int cmp_host_name(const void *a, const void *b)
{
    return strcmp(sg_host_get_name(*(const sg_host_t *)a),
                  sg_host_get_name(*(const sg_host_t *)b));
}

static unsigned host_nr_disks(sg_host_t h)
{
    unsigned n = 0;
    sg_disk_t *disks = NULL;

    sg_host_get_disks(h, &n, &disks);
    xbt_free(disks);
    return n;
}

sg_host_t sim_world_host(const char *name, struct vm_diag *d)
{
    if (name != NULL && name[0] != '\0') {
        sg_host_t h = sg_host_by_name(name);
        if (h == NULL)
            vm_diag_set(d, VM_ENOENT, "no host '%s' in the platform", name);
        return h;
    }
    size_t n = sg_host_count();
    sg_host_t *hosts = sg_host_list();
    sg_host_t found = NULL;

    qsort(hosts, n, sizeof(*hosts), cmp_host_name);
    for (size_t i = 0; i < n && found == NULL; i++)
        if (host_nr_disks(hosts[i]) > 0)
            found = hosts[i];
    xbt_free(hosts);
    if (found == NULL)
        vm_diag_set(d, VM_ENOENT, "no host with a disk in the platform");
    return found;
}

int sim_world_host_memory(sg_host_t h, uint64_t *bytes, struct vm_diag *d)
{
    const char *v = sg_host_get_property_value(h, "memory");
    *bytes = 0;
    if (v == NULL)
        return 0;
    if (vm_units_parse_size(v, bytes) != 0 || *bytes == 0)
        return vm_diag_set(d, VM_EINVAL, "host '%s': prop 'memory': expected a size like "
                           "\"128GiB\", got \"%.40s\"", sg_host_get_name(h), v);
    return 0;
}

sg_disk_t sim_world_disk(sg_host_t host, const char *name, struct vm_diag *d)
{
    unsigned n = 0;
    sg_disk_t *disks = NULL;
    sg_disk_t found = NULL;
    bool any = name == NULL || name[0] == '\0';

    sg_host_get_disks(host, &n, &disks);
    for (unsigned i = 0; i < n && found == NULL; i++)
        if (any || strcmp(sg_disk_get_name(disks[i]), name) == 0)
            found = disks[i];
    xbt_free(disks);
    if (found == NULL) {
        if (any)
            vm_diag_set(d, VM_ENOENT, "host '%s' has no disk", sg_host_get_name(host));
        else
            vm_diag_set(d, VM_ENOENT, "host '%s' has no disk '%s'", sg_host_get_name(host), name);
    }
    return found;
}

/* ---- clock and activities ---- */

uint64_t sim_now_ns(void)
{
    return (uint64_t)llround(simgrid_get_clock() * 1e9);
}

static uint64_t clock_now_ns(const struct port_clock *c)
{
    (void)c;
    return sim_now_ns();
}

static const struct port_clock_ops clock_ops = {
    .version = PORT_CLOCK_VERSION,
    .name = "sim",
    .now_ns = clock_now_ns,
};
static const struct port_clock sim_clock = { .ops = &clock_ops };

const struct port_clock *sim_world_clock(void)
{
    return &sim_clock;
}

void sim_sleep_ns(uint64_t ns)
{
    if (ns == 0)
        return;
    nr_activities++;
    sg_actor_sleep_for((double)ns / 1e9);
}

uint64_t sim_activity_count(void)
{
    return nr_activities;
}

void sim_activity_add(uint64_t n)
{
    nr_activities += n;
}

/* ---- wait queues ----
 * A condition variable loses wakeups here: SimGrid runs the actors of a
 * scheduling round one after another and handles a blocking simcall
 * (sg_cond_wait) only after they have all run, while a notify is executed
 * at once in the notifier.  A notify by an actor scheduled after the
 * waiter in the same round therefore finds no waiter (seen as a flush
 * waiting 30 s for the page cache's flusher).  So the queue is a
 * semaphore: a waiter counts itself in, in plain C before any simcall,
 * and a wake releases one token per waiter counted - a release handled
 * before the waiter's acquire stays in the semaphore.  Nothing lives on a
 * waiter's stack: a daemon killed while it waits leaves at most a token,
 * a spurious wakeup for a later waiter.  Actors run one at a time, so the
 * counters need no locking. */

struct sim_waitq {
    sg_sem_t sem;
    uint64_t waiters;                  /* counted in, not yet released */
    uint64_t wakes;                    /* wakes so far: tickets */
};

struct sim_waitq *sim_waitq_new(void)
{
    struct sim_waitq *q = malloc(sizeof(*q));

    if (q == NULL)
        return NULL;
    q->sem = sg_sem_init(0);
    q->waiters = 0;
    q->wakes = 0;
    return q;
}

void sim_waitq_free(struct sim_waitq *q)
{
    if (q == NULL)
        return;
    sg_sem_destroy(q->sem);
    free(q);
}

static int waitq_block(struct sim_waitq *q, uint64_t ticket, double timeout_s)
{
    if (q->wakes != ticket)
        return 0;
    q->waiters++;
    if (timeout_s < 0) {
        sg_sem_acquire(q->sem);
        return 0;
    }
    if (!sg_sem_acquire_timeout(q->sem, timeout_s))
        return 0;
    if (q->wakes == ticket) {          /* still counted in: count out */
        q->waiters--;
        return VM_ETIMEDOUT;
    }
    /* woken as the time ran out: take the token released for this waiter
     * (or, after a wake_one that was not for it, return spuriously) */
    (void)sg_sem_acquire_timeout(q->sem, 0);
    return 0;
}

uint64_t sim_waitq_ticket(const struct sim_waitq *q)
{
    return q->wakes;
}

void sim_waitq_wait_ticket(struct sim_waitq *q, uint64_t ticket)
{
    waitq_block(q, ticket, -1);
}

int sim_waitq_wait_for_ticket(struct sim_waitq *q, uint64_t ticket, uint64_t timeout_ns)
{
    return waitq_block(q, ticket, (double)timeout_ns / 1e9);
}

void sim_waitq_wait(struct sim_waitq *q)
{
    waitq_block(q, q->wakes, -1);
}

int sim_waitq_wait_for(struct sim_waitq *q, uint64_t timeout_ns)
{
    return waitq_block(q, q->wakes, (double)timeout_ns / 1e9);
}

/* Release n tokens.  sg_sem_release() is a simcall, during which a woken
 * actor may wait again: it counts itself in anew, for the next wake. */
static void waitq_release(struct sim_waitq *q, uint64_t n)
{
    q->wakes++;
    q->waiters -= n;
    while (n-- > 0)
        sg_sem_release(q->sem);
}

void sim_waitq_wake_all(struct sim_waitq *q)
{
    waitq_release(q, q->waiters);
}

void sim_waitq_wake_one(struct sim_waitq *q)
{
    waitq_release(q, q->waiters ? 1 : 0);
}
