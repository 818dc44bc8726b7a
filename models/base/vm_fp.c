/*
 * vm_fp.c - content fingerprints with xxhash XXH3-64.
 *
 * A page's content is XXH3_64bits_withSeed over its (gpa, version) pair,
 * encoded little-endian so every machine computes the same value.  The
 * hash never stands for real bytes except in vm_fp_bytes().  0 means "no
 * data", so a hash of 0 is replaced by a fixed non-zero constant.
 */
#include <xxhash.h>

#include "vm_fp.h"

/* Stand-in for a hash that came out as 0 (the reserved "no data" value). */
#define FP_ZERO_SUBST 0x9e3779b97f4a7c15ull

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t vm_fp_page(uint64_t seed, uint64_t gpa, uint64_t version)
{
    unsigned char buf[16];
    put_le64(buf, gpa);
    put_le64(buf + 8, version);
    uint64_t h = XXH3_64bits_withSeed(buf, sizeof buf, seed);
    return h ? h : FP_ZERO_SUBST;
}

uint64_t vm_fp_bytes(const void *buf, size_t len)
{
    uint64_t h = XXH3_64bits(buf, len);
    return h ? h : FP_ZERO_SUBST;
}
