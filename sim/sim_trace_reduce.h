/*
 * sim_trace_reduce.h - the lackey -> pagetrace reduction rule as a small
 * streaming state machine (workloads/traces/README.md, "Reduction rule").
 *
 * Raw accesses (op X/R/W, 4 KiB page) go in one at a time, in program
 * order; complete pagetrace records come out.  A window of the last
 * SIM_TRACE_REDUCE_WINDOW distinct pages is kept in LRU order, each page
 * with two marks: w (written since it entered the window) and x (fetched
 * as code since it entered the window).  For each access:
 *   1. page in the window and no upgrade (an upgrade is a W to a page
 *      without w, or an X to a page without x): no record; 1 is added to
 *      the count of the most recently emitted record, whatever its page;
 *      the page moves to the front;
 *   2. otherwise a new record (op, page, 1) starts; the page moves to (or
 *      enters at) the front, entering with both marks clear; w is set for
 *      W, x for X; a 17th page evicts the least recently used one.
 * The sum of all counts equals the number of accesses fed.
 *
 * Used by the trace reader (lackey input, sim_trace.c) and by
 * `vmsim trace reduce` (sim_trace_tools.c).  Plain C, no I/O.
 */
#ifndef SIM_TRACE_REDUCE_H
#define SIM_TRACE_REDUCE_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_TRACE_REDUCE_WINDOW 16

/* One pagetrace record as parsed (struct sim_access is its packed binary
 * form): op is 'X', 'R' or 'W' (enum sim_op), count >= 1. */
struct sim_trace_rec {
    uint64_t page;
    uint64_t count;
    uint8_t op;
};

struct sim_trace_reduce_slot {
    uint64_t page;
    bool w, x;
};

/* All state; zero it with sim_trace_reduce_init().  No allocation. */
struct sim_trace_reduce {
    struct sim_trace_reduce_slot win[SIM_TRACE_REDUCE_WINDOW];  /* [0] = most recent */
    int nr_win;
    bool have_cur;                 /* a record has been started */
    struct sim_trace_rec cur;      /* the record being counted */
    uint64_t nr_records;           /* records started so far */
    uint64_t total_accesses;       /* accesses fed so far */
};

void sim_trace_reduce_init(struct sim_trace_reduce *r);

/*
 * Feed one raw access (op 'X', 'R' or 'W').  Returns true when the access
 * started a new record and a previous one was thereby completed: that
 * record is copied to *done.  Returns false otherwise (*done untouched).
 */
bool sim_trace_reduce_feed(struct sim_trace_reduce *r, uint8_t op, uint64_t page,
                           struct sim_trace_rec *done);

/* End of input: returns true and the last record in *done if there is one.
 * Feeding after finish starts over with an empty window. */
bool sim_trace_reduce_finish(struct sim_trace_reduce *r, struct sim_trace_rec *done);

#endif
