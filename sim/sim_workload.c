/*
 * sim_workload.c - synthetic guest access generators (sim_workload.h).
 *
 * Based on: the usual synthetic memory benchmarks (uniform random, Zipf
 * popularity as in YCSB, sequential and strided scans).  Pages come from
 * one vm_rand stream and the read/write decisions from another, so the
 * page sequence does not change with write_fraction.  Zipf ranks are
 * spread over the footprint by a keyed bijection of the next power of two
 * (odd multiplies and xor-shifts, each invertible modulo 2^k), walked
 * until the value falls inside the footprint (cycle walking), so popular
 * pages are scattered and no two ranks share a page.
 *
 * A Zipf draw costs a log1p() and an exp() (about 35 ns), a third of a
 * large guest's vCPU loop, so a Zipf stream is drawn ahead on a thread
 * of its own into a ring of chunks that sim_gen_fill() copies out in
 * order (sim_gen_next() lends them without a copy): the stream is the
 * same, the vCPU actor no longer waits for it.
 * The thread starts at the first fill and only ever touches the
 * generator's state and the ring (no SimGrid call); without it (no
 * thread could be started) the draws are made in sim_gen_fill() itself.
 *
 * Not modelled: phases, think time between accesses (the vCPU charges
 * access_time), several threads.
 */
#include "sim_workload.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_rand.h"
#include "base/vm_units.h"

/* rand stream ids (vm_rand.h) */
enum { STREAM_PAGE = 0x776b6c01, STREAM_OP = 0x776b6c02, STREAM_KEY = 0x776b6c03 };

#define AHEAD_RECORDS 4096u           /* accesses per chunk of the ring */
#define AHEAD_CHUNKS 8u               /* chunks the thread may be ahead */

/* The drawing thread's ring.  nr_filled and nr_taken (chunks) are
 * written under the lock, by the thread and by sim_gen_fill()
 * respectively; chunk i's records belong to the thread while
 * i >= nr_filled, to the reader while nr_taken <= i < nr_filled. */
struct gen_ahead {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t filled;            /* the thread filled a chunk */
    pthread_cond_t taken;             /* the reader is done with one, or stop */
    uint64_t nr_filled, nr_taken;
    bool stop;
    bool sleeping;                    /* the thread waits for half the ring */
    /* the reader's own */
    uint64_t seen_filled;             /* nr_filled when it last looked */
    size_t pos;                       /* records used of chunk nr_taken */
    struct sim_access ring[AHEAD_CHUNKS][AHEAD_RECORDS];
};

struct sim_gen {
    enum sim_pattern pattern;
    struct gen_ahead *ahead;          /* Zipf: the drawing thread, once started */
    bool ahead_tried;
    uint64_t nr_pages;            /* footprint */
    double write_fraction;
    struct vm_rand page_rng, op_rng;
    struct vm_zipf zipf;
    /* scatter bijection over [0, 2^bits) */
    unsigned bits;
    uint64_t mask, k1, k2, k3;
    /* scans */
    uint64_t pos, offset, stride;
};

static uint64_t permute(const struct sim_gen *g, uint64_t x)
{
    unsigned h = g->bits / 2 + 1;
    x = (x * g->k1 + g->k3) & g->mask;
    x ^= x >> h;
    x = (x * g->k2) & g->mask;
    x ^= x >> h;
    x = (x * g->k1) & g->mask;
    return x;
}

/* Bijection of [0, nr_pages) by cycle walking over [0, 2^bits). */
static uint64_t scatter(const struct sim_gen *g, uint64_t rank)
{
    if (g->bits == 0)
        return 0;
    uint64_t x = permute(g, rank);
    while (x >= g->nr_pages)
        x = permute(g, x);
    return x;
}

int sim_gen_new(const struct sim_exp_workload *w, uint64_t vm_pages, uint64_t seed,
                struct sim_gen **out, struct vm_diag *d)
{
    *out = NULL;
    if (w->is_trace)
        return vm_diag_set(d, VM_EINVAL, "workload '%s' is a trace, not a synthetic pattern",
                           w->name);
    if (vm_pages == 0)
        return vm_diag_set(d, VM_EINVAL, "workload '%s': the VM has no pages", w->name);
    if (!(w->write_fraction >= 0 && w->write_fraction <= 1))
        return vm_diag_set(d, VM_EINVAL, "workload '%s': 'write_fraction' expected 0..1, got %g",
                           w->name, w->write_fraction);
    uint64_t fp = w->footprint_bytes / VM_PAGE_SIZE;
    if (fp == 0 || fp > vm_pages)
        fp = vm_pages;
    struct sim_gen *g = calloc(1, sizeof *g);
    if (!g)
        return vm_diag_set(d, VM_ENOMEM, "out of memory for workload '%s'", w->name);
    g->pattern = w->pattern;
    g->nr_pages = fp;
    g->write_fraction = w->write_fraction;
    vm_rand_init(&g->page_rng, seed, STREAM_PAGE);
    vm_rand_init(&g->op_rng, seed, STREAM_OP);
    switch (w->pattern) {
    case SIM_PAT_UNIFORM:
    case SIM_PAT_SEQUENTIAL:
        break;
    case SIM_PAT_ZIPF: {
        if (vm_zipf_init(&g->zipf, fp, w->zipf_s) < 0) {
            free(g);
            return vm_diag_set(d, VM_EINVAL, "workload '%s': 'zipf_s' expected a number > 0, got %g",
                               w->name, w->zipf_s);
        }
        while ((1ull << g->bits) < fp)
            g->bits++;
        g->mask = (1ull << g->bits) - 1;
        struct vm_rand kr;
        vm_rand_init(&kr, seed, STREAM_KEY);
        g->k1 = vm_rand_u64(&kr) | 1;
        g->k2 = vm_rand_u64(&kr) | 1;
        g->k3 = vm_rand_u64(&kr);
        break;
    }
    case SIM_PAT_STRIDED:
        if (w->stride_pages == 0) {
            free(g);
            return vm_diag_set(d, VM_EINVAL, "workload '%s': 'stride' expected >= 1", w->name);
        }
        g->stride = w->stride_pages;
        break;
    default:
        free(g);
        return vm_diag_set(d, VM_EINVAL, "workload '%s': unknown pattern %d", w->name,
                           (int)w->pattern);
    }
    *out = g;
    return 0;
}

static void ahead_stop(struct gen_ahead *a)
{
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_signal(&a->taken);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    pthread_cond_destroy(&a->filled);
    pthread_cond_destroy(&a->taken);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

void sim_gen_free(struct sim_gen *g)
{
    if (g && g->ahead)
        ahead_stop(g->ahead);
    free(g);
}

static uint64_t next_page(struct sim_gen *g)
{
    uint64_t p;
    switch (g->pattern) {
    case SIM_PAT_UNIFORM:
        return vm_rand_below(&g->page_rng, g->nr_pages);
    case SIM_PAT_ZIPF:
        return scatter(g, vm_zipf_draw(&g->zipf, &g->page_rng));
    case SIM_PAT_SEQUENTIAL:
        p = g->pos;
        g->pos = p + 1 == g->nr_pages ? 0 : p + 1;
        return p;
    case SIM_PAT_STRIDED:
    default:
        /* pass k visits offset k, k + stride, ...; the offsets cycle
         * through 0..min(stride, nr_pages)-1, so every page is visited */
        p = g->pos;
        if (g->stride < g->nr_pages - p) {
            g->pos = p + g->stride;
        } else {
            g->offset++;
            if (g->offset >= g->stride || g->offset >= g->nr_pages)
                g->offset = 0;
            g->pos = g->offset;
        }
        return p;
    }
}

static void draw(struct sim_gen *g, struct sim_access *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t page = next_page(g);
        uint8_t op = vm_rand_double(&g->op_rng) < g->write_fraction ? SIM_OP_WRITE : SIM_OP_READ;
        buf[i] = sim_access_make(page, op, 1);
    }
}

/* The drawing thread: fill chunk i once the reader has taken chunk
 * i - AHEAD_CHUNKS, until told to stop.  A full ring puts it to sleep
 * until half of it is free again, so that the reader wakes it (a futex
 * system call) once per AHEAD_CHUNKS / 2 chunks, not for every chunk. */
static void *ahead_main(void *arg)
{
    struct sim_gen *g = arg;
    struct gen_ahead *a = g->ahead;
    for (uint64_t i = 0;; i++) {
        pthread_mutex_lock(&a->lock);
        if (i - a->nr_taken >= AHEAD_CHUNKS) {
            a->sleeping = true;
            while (i - a->nr_taken > AHEAD_CHUNKS / 2 && !a->stop)
                pthread_cond_wait(&a->taken, &a->lock);
            a->sleeping = false;
        }
        bool stop = a->stop;
        pthread_mutex_unlock(&a->lock);
        if (stop)
            return NULL;
        draw(g, a->ring[i % AHEAD_CHUNKS], AHEAD_RECORDS);
        pthread_mutex_lock(&a->lock);
        a->nr_filled = i + 1;
        pthread_cond_signal(&a->filled);
        pthread_mutex_unlock(&a->lock);
    }
}

/* Start the drawing thread; false (and nothing started) when it cannot be. */
static bool ahead_start(struct sim_gen *g)
{
    struct gen_ahead *a = calloc(1, sizeof *a);
    if (!a)
        return false;
    if (pthread_mutex_init(&a->lock, NULL)) {
        free(a);
        return false;
    }
    if (pthread_cond_init(&a->filled, NULL)) {
        pthread_mutex_destroy(&a->lock);
        free(a);
        return false;
    }
    if (pthread_cond_init(&a->taken, NULL)) {
        pthread_cond_destroy(&a->filled);
        pthread_mutex_destroy(&a->lock);
        free(a);
        return false;
    }
    g->ahead = a;
    if (pthread_create(&a->thread, NULL, ahead_main, g)) {
        g->ahead = NULL;
        pthread_cond_destroy(&a->taken);
        pthread_cond_destroy(&a->filled);
        pthread_mutex_destroy(&a->lock);
        free(a);
        return false;
    }
    return true;
}

/* The reader's next records: the rest of the current chunk, at most n of
 * them, lent until the next call (the chunk goes back to the thread only
 * then).  Returns how many (> 0). */
static size_t lend(struct gen_ahead *a, size_t n, const struct sim_access **recs)
{
    if (a->pos == AHEAD_RECORDS) {
        /* chunk done: give it back to the thread */
        pthread_mutex_lock(&a->lock);
        a->nr_taken++;
        if (a->sleeping && a->nr_filled - a->nr_taken <= AHEAD_CHUNKS / 2)
            pthread_cond_signal(&a->taken);
        pthread_mutex_unlock(&a->lock);
        a->pos = 0;
    }
    if (a->seen_filled <= a->nr_taken) {
        pthread_mutex_lock(&a->lock);
        while (a->nr_filled <= a->nr_taken)
            pthread_cond_wait(&a->filled, &a->lock);
        a->seen_filled = a->nr_filled;
        pthread_mutex_unlock(&a->lock);
    }
    size_t k = AHEAD_RECORDS - a->pos < n ? AHEAD_RECORDS - a->pos : n;
    *recs = &a->ring[a->nr_taken % AHEAD_CHUNKS][a->pos];
    a->pos += k;
    return k;
}

/* Start the drawing thread for a Zipf stream at the first use. */
static void ahead_first_use(struct sim_gen *g)
{
    if (g->pattern == SIM_PAT_ZIPF && !g->ahead_tried) {
        g->ahead_tried = true;
        ahead_start(g);             /* failed: draw here instead, the same stream */
    }
}

size_t sim_gen_next(struct sim_gen *g, struct sim_access *scratch, size_t n,
                    const struct sim_access **recs)
{
    if (n == 0)
        return 0;
    ahead_first_use(g);
    if (g->ahead)
        return lend(g->ahead, n, recs);
    draw(g, scratch, n);
    *recs = scratch;
    return n;
}

size_t sim_gen_fill(struct sim_gen *g, struct sim_access *buf, size_t n)
{
    for (size_t done = 0; done < n;) {
        const struct sim_access *r;
        size_t k = sim_gen_next(g, buf + done, n - done, &r);
        if (r != buf + done)
            memcpy(buf + done, r, k * sizeof *buf);     /* lent from the ring */
        done += k;
    }
    return n;
}
