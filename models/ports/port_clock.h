/*
 * port_clock.h - the world's clock, in nanoseconds of simulated time.
 * Models read time only through this port (sim: SimGrid's clock; tests: a
 * counter the test advances).
 */
#ifndef PORT_CLOCK_H
#define PORT_CLOCK_H

#include <stdint.h>

#define PORT_CLOCK_VERSION 1

struct port_clock;
struct port_clock_ops {
    int version;
    const char *name;
    uint64_t (*now_ns)(const struct port_clock *c);
};
struct port_clock { const struct port_clock_ops *ops; };

static inline uint64_t port_clock_now_ns(const struct port_clock *c) { return c->ops->now_ns(c); }

#endif
