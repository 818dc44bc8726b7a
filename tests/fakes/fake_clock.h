/*
 * fake_clock.h - a port_clock for unit tests: a counter the test sets or
 * advances (fake_blk can advance it at each completion, see
 * fake_blk_set_timing()).  No allocation: embed or declare one and call
 * fake_clock_init().
 *
 *   struct fake_clock clk;
 *   fake_clock_init(&clk, 0);
 *   env.clock = &clk.base;
 *   fake_clock_advance(&clk, 1000);       // now_ns == 1000
 */
#ifndef FAKE_CLOCK_H
#define FAKE_CLOCK_H

#include <stdint.h>

#include "ports/port_clock.h"

struct fake_clock {
    struct port_clock base;       /* first: &clk.base is the port */
    uint64_t now_ns;              /* the time now_ns() returns; tests may set it */
};

void fake_clock_init(struct fake_clock *c, uint64_t now_ns);
void fake_clock_set(struct fake_clock *c, uint64_t now_ns);
void fake_clock_advance(struct fake_clock *c, uint64_t delta_ns);

#endif
