/*
 * vm_fp.c - content fingerprints with xxhash XXH3-64.
 *
 * A page's content is XXH3_64bits_withSeed over its (gpa, version) pair,
 * encoded little-endian so every machine computes the same value.  The
 * hash never stands for real bytes except in vm_fp_bytes().  0 means "no
 * data" and VM_FP_ZERO a zero page, so a hash that comes out as either is
 * replaced by a fixed constant that is neither (probability 2^-63 per hash).
 *
 * The hash is inlined (XXH_INLINE_ALL): a page's 16-byte key hashes in a
 * few ns, less than the call into the shared library cost, and the savers
 * and the image check hash every base page of a large guest.  XXH3's
 * output is fixed by its specification (xxhash >= 0.8.0), so inlined and
 * library hashes are the same values.
 */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "vm_fp.h"

/* Stand-in for a hash that came out as a reserved value. */
#define FP_RESERVED_SUBST 0x9e3779b97f4a7c15ull
_Static_assert(FP_RESERVED_SUBST != 0 && FP_RESERVED_SUBST != VM_FP_ZERO,
               "the stand-in must not be a reserved fingerprint itself");

static uint64_t unreserved(uint64_t h)
{
    return h && h != VM_FP_ZERO ? h : FP_RESERVED_SUBST;
}

static void put_le64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, sizeof v);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
#endif
}

uint64_t vm_fp_page(uint64_t seed, uint64_t gpa, uint64_t version)
{
    unsigned char buf[16];
    put_le64(buf, gpa);
    put_le64(buf + 8, version);
    return unreserved(XXH3_64bits_withSeed(buf, sizeof buf, seed));
}

uint64_t vm_fp_bytes(const void *buf, size_t len)
{
    return unreserved(XXH3_64bits(buf, len));
}

uint64_t vm_fp_bytes_prefix(const void *buf, size_t len, size_t cut, uint64_t *prefix)
{
    if (cut > len)
        cut = len;
    XXH3_state_t st;        /* XXH3 streamed equals XXH3 at once, by its specification */
    XXH3_INITSTATE(&st);
    (void)XXH3_64bits_reset(&st);
    (void)XXH3_64bits_update(&st, buf, cut);
    *prefix = unreserved(XXH3_64bits_digest(&st));
    (void)XXH3_64bits_update(&st, (const unsigned char *)buf + cut, len - cut);
    return unreserved(XXH3_64bits_digest(&st));
}

uint64_t vm_fp_bytes_seal(void *buf, size_t len)
{
    if (len < 8)
        return vm_fp_bytes(buf, len);
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    (void)XXH3_64bits_reset(&st);
    (void)XXH3_64bits_update(&st, buf, len - 8);
    put_le64((unsigned char *)buf + len - 8, unreserved(XXH3_64bits_digest(&st)));
    (void)XXH3_64bits_update(&st, (const unsigned char *)buf + len - 8, 8);
    return unreserved(XXH3_64bits_digest(&st));
}
