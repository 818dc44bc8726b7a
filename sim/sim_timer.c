/*
 * sim_timer.c - timers on SimGrid (see sim_timer.h): a vm_timerq of
 * pending timers and one daemon actor that waits on a wait queue
 * (sim_world.h) with the time to the earliest deadline as its timeout.
 * arm() wakes it only when the new deadline is earlier than the one it
 * waits for, so the number of SimGrid activities follows the deadlines,
 * not the timers.
 *
 * A woken actor yields once before it runs anything, so a callback never
 * runs while the actor that armed it is still inside arm() (the wake is a
 * simcall: SimGrid may run the woken actor first).
 *
 * After a timed wait the actor treats the deadline it waited for as
 * reached even if the clock, through double seconds, reads a nanosecond
 * short of it: waiting again for 1 ns would cost an activity and move the
 * callback off its instant.
 *
 * Lifetime as sim_disk.c: a reference for the owner and one for the
 * actor; the actor drops its own when it returns or SimGrid kills it (a
 * daemon, at the end of the simulation).
 */
#include "sim_timer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <simgrid/actor.h>
#include <simgrid/host.h>
#include <xbt/log.h>

#include "base/vm_err.h"
#include "base/vm_timerq.h"
#include "sim_world.h"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(vmsim_timer, vmsim, "simulated timers");

struct sim_timer {
    struct port_timer base;     /* first: the port */
    struct vm_timerq *q;
    struct sim_waitq *wq;       /* the actor waits here for a deadline or an arm */
    bool waiting;               /* the actor is blocked in wq */
    uint64_t wait_until_ns;     /* ... until then (UINT64_MAX: no deadline) */
    bool closing;
    int refs;                   /* the owner + the live actor */
};

static void timer_destroy(struct sim_timer *t)
{
    vm_timerq_free(t->q);
    sim_waitq_free(t->wq);
    free(t);
}

static void timer_unref(struct sim_timer *t)
{
    if (--t->refs == 0)
        timer_destroy(t);
}

static void actor_exit(int failed, void *arg)
{
    (void)failed;
    timer_unref(arg);
}

/* Run every timer due by reached_ns, including those the callbacks arm
 * for a time already past; stop early when a callback frees the port. */
static void run_due(struct sim_timer *t, uint64_t reached_ns)
{
    uint64_t when;
    struct vm_timerq_entry e;

    while (!t->closing && vm_timerq_peek(t->q, &when)) {
        uint64_t now = sim_now_ns();
        if (when > (now > reached_ns ? now : reached_ns))
            break;
        vm_timerq_pop(t->q, &e);
        XBT_DEBUG("timer %llu due %lluns runs at %lluns", (unsigned long long)e.id,
                  (unsigned long long)e.when_ns, (unsigned long long)now);
        e.fn(e.arg);
    }
}

static void actor_main(int argc, char **argv)
{
    struct sim_timer *t = sg_actor_self_get_data();
    uint64_t reached_ns = 0;

    (void)argc;
    (void)argv;
    sg_actor_on_exit(actor_exit, t);
    for (;;) {
        run_due(t, reached_ns);
        if (t->closing)
            return;
        uint64_t when, now = sim_now_ns();
        bool woken = true;
        t->waiting = true;
        if (!vm_timerq_peek(t->q, &when)) {
            t->wait_until_ns = UINT64_MAX;
            sim_waitq_wait(t->wq);
        } else {
            /* run_due() left only deadlines after now and reached_ns */
            t->wait_until_ns = when;
            sim_activity_add(1);
            if (sim_waitq_wait_for(t->wq, when - now) == VM_ETIMEDOUT) {
                reached_ns = when;
                woken = false;
            }
        }
        t->waiting = false;
        /* Woken by arm() (or free): its wake is a simcall, so the arming
         * actor is still inside arm().  Yield one scheduling round: it
         * returns and runs on to its next simcall before any callback
         * runs here (a caller may store the id arm() returns, and its
         * callback may read it), and it may arm more meanwhile. */
        if (woken)
            sg_actor_yield();
    }
}

static uint64_t timer_arm(struct port_timer *pt, uint64_t when_ns, port_timer_fn fn, void *arg)
{
    struct sim_timer *t = (struct sim_timer *)pt;
    uint64_t id = vm_timerq_push(t->q, when_ns, fn, arg);

    if (id != 0 && t->waiting && when_ns < t->wait_until_ns) {
        t->wait_until_ns = when_ns;     /* one wake is enough for earlier ones too */
        sim_waitq_wake_one(t->wq);
    }
    return id;
}

static int timer_cancel(struct port_timer *pt, uint64_t id)
{
    /* the actor may wake for a deadline nobody waits for any more: it
     * then finds nothing due and waits again (no callback moves) */
    return vm_timerq_cancel(((struct sim_timer *)pt)->q, id);
}

static const struct port_timer_ops timer_ops = {
    .version = PORT_TIMER_VERSION,
    .name = "sim",
    .arm = timer_arm,
    .cancel = timer_cancel,
};

struct port_timer *sim_timer_new(sg_host_t host)
{
    static unsigned nr_timers;          /* actor names, for logs */
    struct sim_timer *t = calloc(1, sizeof(*t));
    char name[64];

    if (t == NULL)
        return NULL;
    t->base.ops = &timer_ops;
    t->q = vm_timerq_new();
    t->wq = sim_waitq_new();
    t->refs = 1;
    snprintf(name, sizeof(name), "timer%u", nr_timers++);
    sg_actor_t a = t->q != NULL && t->wq != NULL ? sg_actor_init(name, host) : NULL;
    if (a == NULL) {
        timer_destroy(t);
        return NULL;
    }
    sg_actor_set_data(a, t);
    t->refs++;
    sg_actor_start(a, actor_main, 0, NULL);
    sg_actor_daemonize(a);
    return &t->base;
}

void sim_timer_free(struct port_timer *pt)
{
    struct sim_timer *t = (struct sim_timer *)pt;

    if (t == NULL)
        return;
    /* A live actor sees `closing` at its next turn and returns, dropping
     * the last reference; after simgrid_run() it is gone and this frees. */
    t->closing = true;
    if (t->refs > 1 && t->waiting) {
        t->waiting = false;
        sim_waitq_wake_one(t->wq);
    }
    timer_unref(t);
}
