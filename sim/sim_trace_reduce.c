/*
 * sim_trace_reduce.c - the lackey -> pagetrace reduction rule (see
 * sim_trace_reduce.h and workloads/traces/README.md).  It reproduces the
 * reducer that made the shipped traces record for record: a 16-page LRU
 * window with written/code marks.
 *
 * The window is a 16-entry array kept in recency order; a linear search
 * over it is faster than any index at this size, and the most common case
 * (the page at the front again) is checked first.
 */
#include <string.h>

#include "sim_trace_reduce.h"

void sim_trace_reduce_init(struct sim_trace_reduce *r)
{
    memset(r, 0, sizeof(*r));
}

/* Move slot i to the front, shifting [0, i) down by one. */
static void to_front(struct sim_trace_reduce *r, int i)
{
    if (i == 0)
        return;
    struct sim_trace_reduce_slot s = r->win[i];
    memmove(r->win + 1, r->win, (size_t)i * sizeof(r->win[0]));
    r->win[0] = s;
}

bool sim_trace_reduce_feed(struct sim_trace_reduce *r, uint8_t op, uint64_t page,
                           struct sim_trace_rec *done)
{
    int i = 0;
    while (i < r->nr_win && r->win[i].page != page)
        i++;
    r->total_accesses++;
    if (i < r->nr_win && r->have_cur) {
        const struct sim_trace_reduce_slot *s = &r->win[i];
        bool upgrade = (op == 'W' && !s->w) || (op == 'X' && !s->x);
        if (!upgrade) {
            r->cur.count++;
            to_front(r, i);
            return false;
        }
    }
    bool completed = r->have_cur;
    if (completed)
        *done = r->cur;
    r->have_cur = true;
    r->cur.op = op;
    r->cur.page = page;
    r->cur.count = 1;
    r->nr_records++;
    if (i < r->nr_win) {
        to_front(r, i);
    } else {
        /* enters with both marks clear; the least recent page falls off
         * the end when the window was full */
        if (r->nr_win < SIM_TRACE_REDUCE_WINDOW)
            r->nr_win++;
        memmove(r->win + 1, r->win, (size_t)(r->nr_win - 1) * sizeof(r->win[0]));
        r->win[0].page = page;
        r->win[0].w = false;
        r->win[0].x = false;
    }
    if (op == 'W')
        r->win[0].w = true;
    else if (op == 'X')
        r->win[0].x = true;
    return completed;
}

bool sim_trace_reduce_finish(struct sim_trace_reduce *r, struct sim_trace_rec *done)
{
    bool had = r->have_cur;
    if (had)
        *done = r->cur;
    sim_trace_reduce_init(r);
    return had;
}
