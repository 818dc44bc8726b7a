/*
 * fake_timer.c - timer port for unit tests over a fake clock (see
 * fake_timer.h): the vm_timerq the simulator uses, run when the test says.
 */
#include "fakes/fake_timer.h"

#include <stdlib.h>

#include "base/vm_timerq.h"

struct fake_timer {
    struct port_timer base;       /* first: the port */
    struct fake_clock *clk;
    struct vm_timerq *q;
};

static uint64_t fake_arm(struct port_timer *pt, uint64_t when_ns, port_timer_fn fn, void *arg)
{
    return vm_timerq_push(((struct fake_timer *)pt)->q, when_ns, fn, arg);
}

static int fake_cancel(struct port_timer *pt, uint64_t id)
{
    return vm_timerq_cancel(((struct fake_timer *)pt)->q, id);
}

static const struct port_timer_ops fake_timer_ops = {
    .version = PORT_TIMER_VERSION,
    .name = "fake",
    .arm = fake_arm,
    .cancel = fake_cancel,
};

struct fake_timer *fake_timer_new(struct fake_clock *clk)
{
    struct fake_timer *ft = calloc(1, sizeof(*ft));

    if (ft == NULL)
        return NULL;
    ft->base.ops = &fake_timer_ops;
    ft->clk = clk;
    ft->q = vm_timerq_new();
    if (ft->q == NULL) {
        free(ft);
        return NULL;
    }
    return ft;
}

void fake_timer_free(struct fake_timer *ft)
{
    if (ft == NULL)
        return;
    vm_timerq_free(ft->q);
    free(ft);
}

struct port_timer *fake_timer_port(struct fake_timer *ft)
{
    return &ft->base;
}

/* Run every timer due at or before the clock's time. */
static size_t run_due(struct fake_timer *ft)
{
    struct vm_timerq_entry e;
    uint64_t when;
    size_t n = 0;

    while (vm_timerq_peek(ft->q, &when) && when <= ft->clk->now_ns) {
        vm_timerq_pop(ft->q, &e);
        e.fn(e.arg);
        n++;
    }
    return n;
}

bool fake_timer_run_next(struct fake_timer *ft)
{
    uint64_t when;

    if (!vm_timerq_peek(ft->q, &when))
        return false;
    if (when > ft->clk->now_ns)
        fake_clock_set(ft->clk, when);
    run_due(ft);
    return true;
}

size_t fake_timer_run_until(struct fake_timer *ft, uint64_t t_ns)
{
    uint64_t when;
    size_t n = 0;

    while (vm_timerq_peek(ft->q, &when) && when <= t_ns) {
        if (when > ft->clk->now_ns)
            fake_clock_set(ft->clk, when);
        n += run_due(ft);
    }
    if (ft->clk->now_ns < t_ns)
        fake_clock_set(ft->clk, t_ns);
    return n;
}

size_t fake_timer_pending(const struct fake_timer *ft)
{
    return vm_timerq_len(ft->q);
}
