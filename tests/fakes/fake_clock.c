/*
 * fake_clock.c - settable clock port for unit tests (see fake_clock.h).
 */
#include "fakes/fake_clock.h"

static uint64_t now_ns(const struct port_clock *pc)
{
    return ((const struct fake_clock *)pc)->now_ns;
}

static const struct port_clock_ops fake_clock_ops = {
    .version = PORT_CLOCK_VERSION,
    .name = "fake",
    .now_ns = now_ns,
};

void fake_clock_init(struct fake_clock *c, uint64_t t)
{
    c->base.ops = &fake_clock_ops;
    c->now_ns = t;
}

void fake_clock_set(struct fake_clock *c, uint64_t t) { c->now_ns = t; }

void fake_clock_advance(struct fake_clock *c, uint64_t delta_ns) { c->now_ns += delta_ns; }
