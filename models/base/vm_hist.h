/*
 * vm_hist.h - latency histogram with bounded relative error (HdrHistogram
 * style log-linear buckets: 2^6 sub-buckets per power of two, so any
 * recorded value is reported within 1/64 = 1.6 % of its true value).
 *
 * Values are uint64_t (nanoseconds by convention).  Fixed size, no
 * allocation after vm_hist_init(); merging two histograms is exact.
 */
#ifndef VM_HIST_H
#define VM_HIST_H

#include <stdint.h>

#define VM_HIST_SUB_BITS 6
#define VM_HIST_NR_BUCKETS ((64 - VM_HIST_SUB_BITS + 1) << VM_HIST_SUB_BITS)

struct vm_hist {
    uint64_t count;
    uint64_t sum;              /* saturates at UINT64_MAX */
    uint64_t min, max;         /* exact; min = UINT64_MAX while empty */
    uint64_t buckets[VM_HIST_NR_BUCKETS];
};

void vm_hist_init(struct vm_hist *h);
void vm_hist_add(struct vm_hist *h, uint64_t value);
/* Add `n` samples of the same value (runs of equal requests). */
void vm_hist_add_n(struct vm_hist *h, uint64_t value, uint64_t n);
void vm_hist_merge(struct vm_hist *into, const struct vm_hist *from);
/*
 * Value at quantile q in [0,1] (0.5 = p50, 0.999 = p99.9): the smallest
 * bucket upper bound that covers ceil(q*count) samples, clamped to
 * [min, max].  0 for an empty histogram.
 */
uint64_t vm_hist_quantile(const struct vm_hist *h, double q);
/* Mean, 0 when empty. */
double vm_hist_mean(const struct vm_hist *h);

#endif
