/*
 * vm_rand.c - seeded random streams and a Zipf sampler.
 *
 * Generator: xoshiro256** (Blackman & Vigna 2018), its state filled by
 * splitmix64 from a mix of the seed and the stream id, so streams with
 * the same seed and different ids (or the other way round) are unrelated
 * and one stream never depends on how much another one drew.
 * Integers below n: Lemire's multiply-shift with rejection (unbiased).
 * Doubles: the top 53 bits scaled into [0, 1).
 * Zipf: rejection-inversion (Hoermann & Derflinger 1996), transcribed from
 * Apache Commons RNG's RejectionInversionZipfSampler; valid for any s > 0,
 * s == 1 included (the helper functions handle the limit smoothly).
 */
#include <math.h>

#include "vm_err.h"
#include "vm_rand.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* splitmix64's finaliser as a stateless hash. */
static uint64_t mix64(uint64_t v)
{
    uint64_t x = v;
    return splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void vm_rand_init(struct vm_rand *r, uint64_t seed, uint64_t stream_id)
{
    /* Hash both before combining, so (seed, id) pairs do not alias the way
     * seed + id would. */
    uint64_t x = mix64(seed) ^ mix64(mix64(stream_id) ^ 0x5851f42d4c957f2dull);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    /* xoshiro must not start from the all-zero state. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

uint64_t vm_rand_u64(struct vm_rand *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t vm_rand_below(struct vm_rand *r, uint64_t n)
{
    if (n == 0)
        return 0;
    unsigned __int128 m = (unsigned __int128)vm_rand_u64(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;      /* 2^64 mod n */
        while (low < threshold) {
            m = (unsigned __int128)vm_rand_u64(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double vm_rand_double(struct vm_rand *r)
{
    return (double)(vm_rand_u64(r) >> 11) * 0x1.0p-53;
}

/* log(1+x)/x, Taylor series near 0. */
static double helper1(double x)
{
    if (fabs(x) > 1e-8)
        return log1p(x) / x;
    return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

/* (exp(x)-1)/x, Taylor series near 0. */
static double helper2(double x)
{
    if (fabs(x) > 1e-8)
        return expm1(x) / x;
    return 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

/* H(x) = integral of h, with h(x) = x^-s: (x^(1-s) - 1) / (1-s), or log x. */
static double h_integral(double s, double x)
{
    double log_x = log(x);
    return helper2((1 - s) * log_x) * log_x;
}

static double h(double s, double x)
{
    return exp(-s * log(x));
}

static double h_integral_inverse(double s, double x)
{
    double t = x * (1 - s);
    if (t < -1)
        t = -1;             /* numerical noise; the true value is >= -1 */
    return exp(helper1(t) * x);
}

int vm_zipf_init(struct vm_zipf *z, uint64_t n, double s)
{
    if (n == 0 || !(s > 0) || !isfinite(s))
        return VM_EINVAL;
    z->n = n;
    z->s = s;
    z->h_x1 = h_integral(s, 1.5) - 1;
    z->h_n = h_integral(s, (double)n + 0.5);
    z->shift = 2 - h_integral_inverse(s, h_integral(s, 2.5) - h(s, 2));
    return 0;
}

uint64_t vm_zipf_draw(const struct vm_zipf *z, struct vm_rand *r)
{
    const double s = z->s;
    for (;;) {
        /* u is uniform in (h_x1, h_n]. */
        double u = z->h_n + vm_rand_double(r) * (z->h_x1 - z->h_n);
        double x = h_integral_inverse(s, u);
        double kd = x + 0.5;
        uint64_t k;
        if (!(kd >= 1))
            k = 1;
        else if (kd >= (double)z->n)
            k = z->n;
        else
            k = (uint64_t)kd;
        /* Accept at once when k is close enough to x, else test under h. */
        if ((double)k - x <= z->shift
            || u >= h_integral(s, (double)k + 0.5) - h(s, (double)k))
            return k - 1;
    }
}
