/*
 * vm_hist.c - log-linear latency histogram (HdrHistogram's bucket layout).
 *
 * Values below 2^SUB_BITS have a bucket each.  Above that, each power of
 * two [2^m, 2^(m+1)) is split into 2^SUB_BITS buckets of width 2^(m-SUB_BITS),
 * so a bucket is never wider than 1/64 of the values it holds.  Bucket
 * index of v with m = msb(v) >= SUB_BITS:
 *     (m - SUB_BITS) * 2^SUB_BITS + (v >> (m - SUB_BITS))
 * which continues the exact region without a gap; the last bucket ends at
 * UINT64_MAX.  Not modelled: coordinated omission correction.
 */
#include <string.h>

#include "vm_hist.h"

#define SUB_COUNT (1u << VM_HIST_SUB_BITS)

static inline unsigned bucket_of(uint64_t v)
{
    if (v < SUB_COUNT)
        return (unsigned)v;
    unsigned m = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = m - VM_HIST_SUB_BITS;
    return shift * SUB_COUNT + (unsigned)(v >> shift);
}

/* Largest value that falls in bucket i. */
static inline uint64_t bucket_upper(unsigned i)
{
    unsigned group = i >> VM_HIST_SUB_BITS;
    if (group == 0)
        return i;
    unsigned shift = group - 1;
    uint64_t sub = (uint64_t)(i & (SUB_COUNT - 1)) + SUB_COUNT;
    return (sub << shift) + ((1ull << shift) - 1);
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

void vm_hist_init(struct vm_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

void vm_hist_add_n(struct vm_hist *h, uint64_t value, uint64_t n)
{
    if (n == 0)
        return;
    h->buckets[bucket_of(value)] += n;
    h->count += n;
    uint64_t prod;
    if (__builtin_mul_overflow(value, n, &prod))
        prod = UINT64_MAX;
    h->sum = sat_add(h->sum, prod);
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

void vm_hist_add(struct vm_hist *h, uint64_t value)
{
    vm_hist_add_n(h, value, 1);
}

void vm_hist_merge(struct vm_hist *into, const struct vm_hist *from)
{
    if (from->count == 0)
        return;
    for (unsigned i = 0; i < VM_HIST_NR_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    into->sum = sat_add(into->sum, from->sum);
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t vm_hist_quantile(const struct vm_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (!(q > 0))
        q = 0;                          /* also catches NaN */
    if (q > 1)
        q = 1;
    double want_d = q * (double)h->count;
    uint64_t want = (uint64_t)want_d;
    if ((double)want < want_d)
        want++;                         /* ceil */
    if (want == 0)
        return h->min;                  /* q = 0: no sample needs covering */
    if (want > h->count)
        want = h->count;
    uint64_t seen = 0;
    uint64_t v = h->max;
    for (unsigned i = 0; i < VM_HIST_NR_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= want) {
            v = bucket_upper(i);
            break;
        }
    }
    if (v < h->min)
        v = h->min;
    if (v > h->max)
        v = h->max;
    return v;
}

double vm_hist_mean(const struct vm_hist *h)
{
    if (h->count == 0)
        return 0;
    return (double)h->sum / (double)h->count;
}
