/*
 * vm_rand.h - seeded pseudo-random streams (xoshiro256** seeded through
 * splitmix64), so that one --seed feeds many independent streams:
 * vm_rand_init(&r, seed, stream_id) gives a stream that does not depend on
 * how many numbers other streams drew.  Same seed + stream id -> same
 * sequence on every machine.
 */
#ifndef VM_RAND_H
#define VM_RAND_H

#include <stdint.h>

struct vm_rand { uint64_t s[4]; };

void vm_rand_init(struct vm_rand *r, uint64_t seed, uint64_t stream_id);
uint64_t vm_rand_u64(struct vm_rand *r);
/* Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, unbiased). */
uint64_t vm_rand_below(struct vm_rand *r, uint64_t n);
/* Uniform double in [0, 1). */
double vm_rand_double(struct vm_rand *r);

/*
 * Zipf(s) sampler over [0, n) by rejection-inversion (Hoermann &
 * Derflinger 1996), O(1) per draw, no table: rank 0 is the most popular.
 */
struct vm_zipf { uint64_t n; double s, h_x1, h_n, shift; };
int vm_zipf_init(struct vm_zipf *z, uint64_t n, double s);  /* 0 or VM_EINVAL */
uint64_t vm_zipf_draw(const struct vm_zipf *z, struct vm_rand *r);

#endif
