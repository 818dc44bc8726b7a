/*
 * check_base_fp.c - unit tests of models/base: Check suites "fp" (vm_fp:
 * page fingerprints) and "fpstore" (vm_fpstore: the store of
 * fingerprints a simulated device holds, its packed
 * extents and vectored runs, and the vm_bigmem allocator it uses).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/vm_bigmem.h"
#include "base/vm_err.h"
#include "base/vm_fp.h"
#include "base/vm_fpstore.h"
#include "ports/port_blk.h"

/* ====================================================================== fp */

START_TEST(test_fp_page_depends_on_seed_gpa_and_version)
{
    uint64_t a = vm_fp_page(1, 100, 0);
    ck_assert_uint_eq(a, vm_fp_page(1, 100, 0));
    ck_assert_uint_ne(a, vm_fp_page(1, 100, 1));
    ck_assert_uint_ne(a, vm_fp_page(1, 101, 0));
    ck_assert_uint_ne(a, vm_fp_page(2, 100, 0));
    ck_assert_uint_ne(vm_fp_page(1, 0, 1), vm_fp_page(1, 1, 0));   /* not symmetric */
    unsigned char le[16] = { 100 };
    ck_assert_uint_eq(a, XXH3_64bits_withSeed(le, sizeof le, 1));
}
END_TEST

START_TEST(test_fp_is_never_zero)
{
    for (uint64_t g = 0; g < 100000; g++)
        if (vm_fp_page(0, g, g & 7) == 0 || vm_fp_page(0, g, g & 7) == VM_FP_ZERO)
            ck_abort_msg("reserved fingerprint for gpa %llu", (unsigned long long)g);
    ck_assert_uint_ne(vm_fp_bytes("", 0), 0);
    /* the zero page's fingerprint is reserved, even for 4 KiB of zeros */
    static const char zeros[4096];
    ck_assert_uint_ne(vm_fp_bytes(zeros, sizeof zeros), VM_FP_ZERO);
    ck_assert_uint_ne(VM_FP_ZERO, 0);
}
END_TEST

START_TEST(test_fp_bytes_hashes_content)
{
    char a[4096], b[4096];
    memset(a, 'x', sizeof a);
    memcpy(b, a, sizeof b);
    ck_assert_uint_eq(vm_fp_bytes(a, sizeof a), vm_fp_bytes(b, sizeof b));
    b[4095] = 'y';
    ck_assert_uint_ne(vm_fp_bytes(a, sizeof a), vm_fp_bytes(b, sizeof b));
    ck_assert_uint_eq(vm_fp_bytes(a, sizeof a), XXH3_64bits(a, sizeof a));
}
END_TEST

/* One pass gives the hashes two passes would: of a prefix and of the
 * whole (at every cut, across XXH3's internal block sizes); sealing
 * writes the body's hash as a little-endian trailer and returns the
 * sealed buffer's hash. */
START_TEST(test_fp_bytes_prefix_and_seal_equal_separate_hashes)
{
    static unsigned char a[20000];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (unsigned char)(i * 131 + 7);
    const size_t lens[] = { 0, 1, 8, 9, 240, 241, 1024, 4096, 4104, 20000 };
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t len = lens[k];
        for (size_t cut = 0; cut <= len; cut += len / 7 + 1) {
            uint64_t pre = 0, whole = vm_fp_bytes_prefix(a, len, cut, &pre);
            ck_assert_uint_eq(whole, vm_fp_bytes(a, len));
            ck_assert_uint_eq(pre, vm_fp_bytes(a, cut));
        }
        uint64_t pre = 0;
        ck_assert_uint_eq(vm_fp_bytes_prefix(a, len, len + 5, &pre), vm_fp_bytes(a, len));
        ck_assert_uint_eq(pre, vm_fp_bytes(a, len));
        if (len < 8)
            continue;
        unsigned char b[20000];
        memcpy(b, a, len);
        uint64_t body = vm_fp_bytes(b, len - 8), sealed = vm_fp_bytes_seal(b, len);
        uint64_t trailer = 0;
        for (int i = 7; i >= 0; i--)
            trailer = trailer << 8 | b[len - 8 + (size_t)i];
        ck_assert_uint_eq(trailer, body);
        ck_assert_uint_eq(sealed, vm_fp_bytes(b, len));
        ck_assert_mem_eq(b, a, len - 8);
    }
}
END_TEST

static Suite *fp_suite(void)
{
    Suite *s = suite_create("fp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fp_page_depends_on_seed_gpa_and_version);
    tcase_add_test(tc, test_fp_is_never_zero);
    tcase_add_test(tc, test_fp_bytes_hashes_content);
    tcase_add_test(tc, test_fp_bytes_prefix_and_seal_equal_separate_hashes);
    suite_add_tcase(s, tc);
    return s;
}

/* ================================================================= fpstore */

static void fill_fps(uint64_t *fps, uint64_t n, uint64_t tag)
{
    for (uint64_t i = 0; i < n; i++)
        fps[i] = vm_fp_page(tag, i, 1);
}

static int packed_at(const struct vm_fpstore *st, uint64_t lba)
{
    return vm_fpstore_get_packed(st, lba, NULL, 0, NULL, NULL, 0, NULL, NULL);
}

START_TEST(test_fpstore_unwritten_blocks_read_zero)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    ck_assert_ptr_nonnull(st);
    ck_assert_uint_eq(vm_fpstore_nr_blocks(st), 1000);
    uint64_t out[10];
    memset(out, 0xff, sizeof out);
    ck_assert_int_eq(vm_fpstore_get(st, 990, 10, out), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(out[i], 0);
    ck_assert_int_eq(packed_at(st, 0), VM_ENOENT);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_plain_roundtrip_across_leaves)
{
    const uint64_t nr = 200000;
    struct vm_fpstore *st = vm_fpstore_new(nr);
    uint64_t in[40], out[60];
    fill_fps(in, 40, 1);
    ck_assert_int_eq(vm_fpstore_put(st, 65530, 40, in), 0);   /* spans leaves 0 and 1 */
    ck_assert_int_eq(vm_fpstore_get(st, 65520, 60, out), 0);
    for (int i = 0; i < 60; i++)
        ck_assert_uint_eq(out[i], i >= 10 && i < 50 ? in[i - 10] : 0);
    ck_assert_int_eq(vm_fpstore_put(st, nr - 1, 1, in), 0);   /* last, short leaf */
    ck_assert_int_eq(vm_fpstore_get(st, nr - 1, 1, out), 0);
    ck_assert_uint_eq(out[0], in[0]);
    ck_assert_int_eq(vm_fpstore_put(st, 5, 0, in), 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_out_of_range_is_erange)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    uint64_t fps[8];
    fill_fps(fps, 8, 2);
    ck_assert_int_eq(vm_fpstore_put(st, 95, 6, fps), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_put(st, 101, 0, fps), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_put(st, UINT64_MAX, 2, fps), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_get(st, 99, 2, fps), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 98, 3, fps, 1, NULL, 0), VM_ERANGE);
    ck_assert_int_eq(vm_fpstore_put(st, 95, 5, fps), 0);
    ck_assert_int_eq(packed_at(st, 100), VM_ENOENT);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_roundtrip_and_truncated_copy)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t fps[3];
    fill_fps(fps, 3, 3);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, fps, 3, "hello", 5), 0);
    uint64_t out[3] = { 0 };
    char bytes[8] = { 0 };
    uint32_t nr_fps = 0, len = 0;
    uint64_t nr_blocks = 0;
    ck_assert_int_eq(vm_fpstore_get_packed(st, 10, out, 3, &nr_fps, bytes, 8, &len,
                                           &nr_blocks), 0);
    ck_assert_uint_eq(nr_fps, 3);
    ck_assert_uint_eq(len, 5);
    ck_assert_uint_eq(nr_blocks, 4);
    ck_assert_int_eq(memcmp(out, fps, sizeof fps), 0);
    ck_assert_str_eq(bytes, "hello");
    /* smaller buffers: partial copy, true sizes still reported */
    uint64_t one = 0;
    char two[3] = { 0 };
    ck_assert_int_eq(vm_fpstore_get_packed(st, 10, &one, 1, &nr_fps, two, 2, &len, NULL), 0);
    ck_assert_uint_eq(one, fps[0]);
    ck_assert_str_eq(two, "he");
    ck_assert_uint_eq(nr_fps, 3);
    ck_assert_uint_eq(len, 5);
    /* only the first block of an extent names it */
    ck_assert_int_eq(packed_at(st, 11), VM_ENOENT);
    ck_assert_int_eq(packed_at(st, 9), VM_ENOENT);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_plain_read_over_packed_is_einval)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t out[20];
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, NULL, 0, "meta", 4), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 12, 1, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 10, 1, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 9, 2, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 13, 5, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 0, 10, out), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 14, 20, out), 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_write_clears_the_plain_blocks_it_covers)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t in[100], out[100];
    fill_fps(in, 100, 4);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 100, in), 0);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, in, 2, NULL, 0), 0);
    /* a plain write over the packed extent's first blocks drops it ... */
    ck_assert_int_eq(vm_fpstore_put(st, 10, 2, in + 50), 0);
    ck_assert_int_eq(packed_at(st, 10), VM_ENOENT);
    /* ... and the blocks it had covered do not come back with old content */
    ck_assert_int_eq(vm_fpstore_get(st, 8, 8, out), 0);
    ck_assert_uint_eq(out[0], in[8]);
    ck_assert_uint_eq(out[1], in[9]);
    ck_assert_uint_eq(out[2], in[50]);
    ck_assert_uint_eq(out[3], in[51]);
    ck_assert_uint_eq(out[4], 0);
    ck_assert_uint_eq(out[5], 0);
    ck_assert_uint_eq(out[6], in[14]);
    ck_assert_uint_eq(out[7], in[15]);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_plain_write_drops_packed_extents_starting_inside)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t in[30], out[40];
    fill_fps(in, 30, 5);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, in, 4, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 20, 2, in, 1, "x", 1), 0);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 40, 2, in, 1, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 5, 20, in), 0);
    ck_assert_int_eq(packed_at(st, 10), VM_ENOENT);
    ck_assert_int_eq(packed_at(st, 20), VM_ENOENT);
    ck_assert_int_eq(packed_at(st, 40), 0);                  /* outside: untouched */
    ck_assert_int_eq(vm_fpstore_get(st, 0, 40, out), 0);
    ck_assert_uint_eq(out[5], in[0]);
    ck_assert_uint_eq(out[24], in[19]);
    ck_assert_uint_eq(out[25], 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_plain_write_into_the_tail_of_packed_drops_it_whole)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t in[4], out[4];
    fill_fps(in, 4, 6);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, in, 4, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 12, 1, in), 0);
    ck_assert_int_eq(packed_at(st, 10), VM_ENOENT);
    ck_assert_int_eq(vm_fpstore_get(st, 10, 4, out), 0);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 0);
    ck_assert_uint_eq(out[2], in[0]);
    ck_assert_uint_eq(out[3], 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_write_replaces_overlapping_packed)
{
    struct vm_fpstore *st = vm_fpstore_new(1000);
    uint64_t in[4], out[4];
    fill_fps(in, 4, 7);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 4, in, 4, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 12, 4, in, 2, NULL, 0), 0);
    ck_assert_int_eq(packed_at(st, 10), VM_ENOENT);          /* overlapped: dropped */
    ck_assert_int_eq(vm_fpstore_get(st, 10, 2, out), 0);     /* and its blocks freed */
    ck_assert_uint_eq(out[0], 0);
    ck_assert_int_eq(vm_fpstore_get(st, 15, 1, out), VM_EINVAL);
    /* same start: the new payload replaces the old one */
    ck_assert_int_eq(vm_fpstore_put_packed(st, 12, 2, in + 3, 1, "ab", 2), 0);
    uint32_t nr_fps, len;
    uint64_t nb;
    ck_assert_int_eq(vm_fpstore_get_packed(st, 12, out, 4, &nr_fps, NULL, 0, &len, &nb), 0);
    ck_assert_uint_eq(nr_fps, 1);
    ck_assert_uint_eq(out[0], in[3]);
    ck_assert_uint_eq(len, 2);
    ck_assert_uint_eq(nb, 2);
    ck_assert_int_eq(vm_fpstore_get(st, 14, 2, out), 0);     /* old tail released */
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_extent_spanning_leaves)
{
    struct vm_fpstore *st = vm_fpstore_new(200000);
    uint64_t in[4], out[20];
    fill_fps(in, 4, 8);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 65530, 20, in, 4, NULL, 0), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 65545, 1, out), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_get(st, 65550, 1, out), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 65549, 1, in), 0);   /* last block: drops it */
    ck_assert_int_eq(packed_at(st, 65530), VM_ENOENT);
    ck_assert_int_eq(vm_fpstore_get(st, 65530, 20, out), 0);
    ck_assert_uint_eq(out[19], in[0]);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_packed_rejects_empty_extent_and_null_payload)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 0, NULL, 0, NULL, 0), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 1, NULL, 2, NULL, 0), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 1, NULL, 0, NULL, 3), VM_EINVAL);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 10, 1, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(packed_at(st, 10), 0);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_mem_bytes_tracks_leaves_and_extents)
{
    struct vm_fpstore *st = vm_fpstore_new(1ull << 20);
    size_t base = vm_fpstore_mem_bytes(st);
    uint64_t in[2];
    fill_fps(in, 2, 9);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 1, in), 0);
    size_t one_leaf = vm_fpstore_mem_bytes(st) - base;
    ck_assert_uint_eq(one_leaf, 512 * 8);                    /* 2 MiB of device */
    ck_assert_int_eq(vm_fpstore_put(st, 1, 1, in), 0);       /* same leaf: no growth */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), base + one_leaf);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 100, 2, in, 1, "abc", 3), 0);
    size_t with_ext = vm_fpstore_mem_bytes(st);
    ck_assert_int_eq(vm_fpstore_put(st, 100, 2, in), 0);     /* drops the extent */
    ck_assert_uint_lt(vm_fpstore_mem_bytes(st), with_ext);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 100, 2, in, 1, "abc", 3), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), with_ext);
    vm_fpstore_free(st);
}
END_TEST

/* Leaves of the arena: more than one chunk's worth (512 leaves), each
 * leaf zeroed, distinct, and kept when later leaves are carved. */
START_TEST(test_fpstore_leaves_past_one_arena_chunk_stay_distinct)
{
    uint64_t leaves = 1100, n = leaves * 512;
    struct vm_fpstore *st = vm_fpstore_new(n);
    uint64_t in, out[2];
    for (uint64_t l = 0; l < leaves; l++) {
        in = l + 1;
        ck_assert_int_eq(vm_fpstore_put(st, l * 512 + 7, 1, &in), 0);
    }
    for (uint64_t l = 0; l < leaves; l++) {
        ck_assert_int_eq(vm_fpstore_get(st, l * 512 + 6, 2, out), 0);
        ck_assert_uint_eq(out[0], 0);               /* never written: zeroed leaf */
        ck_assert_uint_eq(out[1], l + 1);
    }
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), leaves);
    vm_fpstore_free(st);
}
END_TEST

/* vm_bigmem: zeroed either side of the huge-page threshold, large ones
 * aligned to 2 MiB. */
START_TEST(test_bigmem_zeroed_and_aligned_when_large)
{
    size_t sizes[] = { 1, 4096, VM_BIGMEM_ALIGN - 1, VM_BIGMEM_ALIGN, 3 * VM_BIGMEM_ALIGN + 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = vm_bigmem_alloc(sizes[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(p[0], 0);
        ck_assert_uint_eq(p[sizes[i] - 1], 0);
        if (sizes[i] >= VM_BIGMEM_ALIGN)
            ck_assert_uint_eq((uintptr_t)p % VM_BIGMEM_ALIGN, 0);
        memset(p, 0xa5, sizes[i]);
        vm_bigmem_free(p, sizes[i]);
    }
    ck_assert_ptr_null(vm_bigmem_alloc(0));
    vm_bigmem_free(NULL, 123);
    ck_assert_uint_eq(vm_bigmem_size(1), VM_BIGMEM_ALIGN);
    ck_assert_uint_eq(vm_bigmem_size(VM_BIGMEM_ALIGN + 1), 2 * VM_BIGMEM_ALIGN);
}
END_TEST

/* Regions made ahead on a thread are what vm_bigmem_alloc() gives:
 * zeroed, aligned, distinct; taken one after the other (the first
 * inline, the next ones made while the caller fills the last), and the
 * one made ahead and never taken is freed with the helper (ASan: no leak). */
START_TEST(test_bigmem_ahead_gives_zeroed_aligned_distinct_regions)
{
    enum { N = 5 };
    struct vm_bigmem_ahead *a = vm_bigmem_ahead_new(VM_BIGMEM_ALIGN);
    ck_assert_ptr_nonnull(a);
    unsigned char *r[N];
    for (int i = 0; i < N; i++) {
        r[i] = vm_bigmem_ahead_take(a);
        ck_assert_ptr_nonnull(r[i]);
        ck_assert_uint_eq((uintptr_t)r[i] % VM_BIGMEM_ALIGN, 0);
        for (size_t off = 0; off < VM_BIGMEM_ALIGN; off += 4096 - 1)
            ck_assert_uint_eq(r[i][off], 0);
        for (int k = 0; k < i; k++)
            ck_assert_ptr_ne(r[i], r[k]);
        memset(r[i], 0xa5, VM_BIGMEM_ALIGN);        /* the caller's, to fill */
    }
    vm_bigmem_ahead_free(a);
    for (int i = 0; i < N; i++)
        vm_bigmem_free(r[i], VM_BIGMEM_ALIGN);
    vm_bigmem_ahead_free(NULL);
    /* one take: no thread, nothing left over */
    a = vm_bigmem_ahead_new(VM_BIGMEM_ALIGN);
    void *one = vm_bigmem_ahead_take(a);
    ck_assert_ptr_nonnull(one);
    vm_bigmem_ahead_free(a);
    vm_bigmem_free(one, VM_BIGMEM_ALIGN);
}
END_TEST

/* A store of 1024 blocks in leaves of 16, sharing on. */
static struct vm_fpstore *sharing_store(void)
{
    struct vm_fpstore *st = vm_fpstore_new_leaf(1024, 4);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(vm_fpstore_share(st), 0);
    return st;
}

/* Sharing on: a whole leaf written with the content of a leaf lately
 * written or read whole is kept once; a write into either copy copies it
 * first; every block reads what was last written there, and a leaf no
 * slot holds any more is reused. */
START_TEST(test_fpstore_shared_leaves_read_as_written)
{
    struct vm_fpstore *st = sharing_store();
    uint64_t a[16], b[16], out[16], out2[16];
    fill_fps(a, 16, 5);
    fill_fps(b, 16, 6);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 16, a), 0);
    size_t one = vm_fpstore_mem_bytes(st);
    ck_assert_int_eq(vm_fpstore_put(st, 160, 16, a), 0);       /* the same data twice */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), one);
    ck_assert_int_eq(vm_fpstore_get(st, 160, 16, out), 0);
    ck_assert_mem_eq(out, a, sizeof a);
    /* a write into one copy leaves the other as it was */
    ck_assert_int_eq(vm_fpstore_put(st, 165, 1, b), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), one + 16 * 8);
    ck_assert_int_eq(vm_fpstore_get(st, 0, 16, out), 0);
    ck_assert_mem_eq(out, a, sizeof a);
    ck_assert_int_eq(vm_fpstore_get(st, 160, 16, out), 0);
    ck_assert_uint_eq(out[5], b[0]);
    ck_assert_uint_eq(out[6], a[6]);
    /* a leaf read whole, then written elsewhere (a copy): shared */
    ck_assert_int_eq(vm_fpstore_put(st, 320, 16, out), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), one + 16 * 8);
    /* a packed extent over a shared leaf clears its blocks there only */
    ck_assert_int_eq(vm_fpstore_put_packed(st, 320, 1, NULL, 0, "m", 1), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 161, 15, out), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 321, 15, out2), 0);
    ck_assert_mem_eq(out, out2, 15 * sizeof *out);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 16 + 16 + 15 + 1);
    /* both copies of a shared leaf rewritten alike: the old leaf is
     * freed, the new one shared, and the next new leaf is the freed one */
    size_t before = vm_fpstore_mem_bytes(st);
    ck_assert_int_eq(vm_fpstore_get(st, 0, 16, out), 0);        /* (160's began alike) */
    ck_assert_int_eq(vm_fpstore_put(st, 480, 16, out), 0);      /* shares slot 0's */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), before);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 16, b), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 480, 16, b), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), before);
    ck_assert_int_eq(vm_fpstore_put(st, 640, 1, b), 0);         /* a new leaf */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), before + 16 * 8);
    ck_assert_int_eq(vm_fpstore_get(st, 640, 2, out), 0);
    ck_assert_uint_eq(out[0], b[0]);
    ck_assert_uint_eq(out[1], 0);                              /* zeroed when reused */
    ck_assert_int_eq(vm_fpstore_get(st, 480, 16, out), 0);
    ck_assert_mem_eq(out, b, sizeof b);
    ck_assert_int_eq(vm_fpstore_get(st, 0, 16, out), 0);
    ck_assert_mem_eq(out, b, sizeof b);
    vm_fpstore_free(st);
}
END_TEST

/* vm_fpstore_peek() reads what vm_fpstore_get() reads, but notes no leaf
 * for sharing: a whole leaf peeked and written elsewhere is a copy, one
 * got and written elsewhere is shared. */
START_TEST(test_fpstore_peek_reads_as_get_and_notes_nothing)
{
    struct vm_fpstore *st = sharing_store();
    uint64_t a[16], pk[16], gt[16], b0 = 0x5eed;
    fill_fps(a, 16, 7);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 16, a), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 1, &b0), 0);        /* leaf 0 not as noted */
    /* across a leaf and a hole */
    ck_assert_int_eq(vm_fpstore_peek(st, 8, 16, pk), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 8, 16, gt), 0);
    ck_assert_mem_eq(pk, gt, sizeof pk);
    ck_assert_uint_eq(pk[15], 0);
    ck_assert_int_eq(vm_fpstore_peek(st, 2000, 1, pk), VM_ERANGE);
    size_t m = vm_fpstore_mem_bytes(st);
    ck_assert_int_eq(vm_fpstore_peek(st, 0, 16, pk), 0);
    ck_assert_uint_eq(pk[0], b0);
    ck_assert_int_eq(vm_fpstore_put(st, 320, 16, pk), 0);      /* a copy of its own */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), m + 16 * 8);
    ck_assert_int_eq(vm_fpstore_get(st, 0, 16, gt), 0);
    ck_assert_mem_eq(pk, gt, sizeof pk);
    ck_assert_int_eq(vm_fpstore_put(st, 480, 16, gt), 0);      /* shared */
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st), m + 16 * 8);
    vm_fpstore_free(st);
}
END_TEST

/* A FLAT image's zero regions are holes of 2 MiB: they take no leaf. */
START_TEST(test_fpstore_2mib_holes_take_no_memory)
{
    struct vm_fpstore *st = vm_fpstore_new(1ull << 20);
    size_t base = vm_fpstore_mem_bytes(st);
    static uint64_t in[512];
    fill_fps(in, 512, 3);
    ck_assert_int_eq(vm_fpstore_put(st, 0, 512, in), 0);
    ck_assert_int_eq(vm_fpstore_put(st, 1024, 512, in), 0);
    ck_assert_uint_eq(vm_fpstore_mem_bytes(st) - base, 2 * 512 * 8);
    uint64_t out[2];
    ck_assert_int_eq(vm_fpstore_get(st, 1023, 2, out), 0);
    ck_assert_uint_eq(out[0], 0);                            /* the hole reads as no data */
    ck_assert_uint_eq(out[1], in[0]);
    uint64_t end;
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, &end), 1024);
    ck_assert_uint_eq(end, 1536);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_64gib_image_fits_in_140mib)
{
    const uint64_t nr = 16777216;          /* 64 GiB of 4 KiB blocks */
    struct vm_fpstore *st = vm_fpstore_new(nr);
    ck_assert_ptr_nonnull(st);
    static uint64_t chunk[4096];
    for (uint64_t lba = 0; lba < nr; lba += 4096) {
        for (uint64_t i = 0; i < 4096; i++)
            chunk[i] = lba + i + 1;
        ck_assert_int_eq(vm_fpstore_put(st, lba, 4096, chunk), 0);
    }
    ck_assert_uint_le(vm_fpstore_mem_bytes(st), 140ull << 20);
    ck_assert_uint_ge(vm_fpstore_mem_bytes(st), 128ull << 20);
    uint64_t out[3];
    ck_assert_int_eq(vm_fpstore_get(st, nr - 3, 3, out), 0);
    ck_assert_uint_eq(out[2], nr);
    ck_assert_int_eq(vm_fpstore_get(st, 12345678, 1, out), 0);
    ck_assert_uint_eq(out[0], 12345679);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_apply_vectored_run_lands_at_each_lba)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    uint64_t lbas[3] = { 70, 10, 90 }, in[3] = { 7, 1, 9 }, out[3] = { 0 };
    struct port_blk_req w = { .op = PORT_BLK_WRITE, .lba = 70, .nr_blocks = 3, .nr_ios = 3,
                              .lbas = lbas, .fps = in };
    ck_assert(vm_fpstore_req_fits(st, &w));
    ck_assert_int_eq(vm_fpstore_apply(st, &w), 0);
    uint64_t one;
    ck_assert_int_eq(vm_fpstore_get(st, 10, 1, &one), 0);
    ck_assert_uint_eq(one, 1);
    ck_assert_int_eq(vm_fpstore_get(st, 11, 1, &one), 0);
    ck_assert_uint_eq(one, 0);                            /* nothing between the I/Os */
    struct port_blk_req r = w;
    r.op = PORT_BLK_READ;
    r.fps = out;
    ck_assert_int_eq(vm_fpstore_apply(st, &r), 0);
    ck_assert_uint_eq(out[0], 7);
    ck_assert_uint_eq(out[1], 1);
    ck_assert_uint_eq(out[2], 9);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_apply_run_off_the_end_writes_nothing)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    uint64_t lbas[2] = { 5, 100 }, in[2] = { 3, 4 };
    struct port_blk_req w = { .op = PORT_BLK_WRITE, .lba = 5, .nr_blocks = 2, .nr_ios = 2,
                              .lbas = lbas, .fps = in };
    ck_assert(!vm_fpstore_req_fits(st, &w));
    ck_assert_int_eq(vm_fpstore_apply(st, &w), VM_ERANGE);
    uint64_t one;
    ck_assert_int_eq(vm_fpstore_get(st, 5, 1, &one), 0);
    ck_assert_uint_eq(one, 0);                            /* checked before any write */
    struct port_blk_req flush = { .op = PORT_BLK_FLUSH };
    ck_assert(vm_fpstore_req_fits(st, &flush));
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_apply_run_of_unequal_ios_places_each)
{
    struct vm_fpstore *st = vm_fpstore_new(100);
    uint64_t lbas[3] = { 40, 5, 90 }, in[6] = { 1, 2, 3, 4, 5, 6 }, out[6] = { 0 };
    uint32_t lens[3] = { 3, 1, 2 };
    struct port_blk_req w = { .op = PORT_BLK_WRITE, .lba = 40, .nr_blocks = 6, .nr_ios = 3,
                              .lbas = lbas, .io_blocks = lens, .fps = in };
    ck_assert(vm_fpstore_req_fits(st, &w));
    ck_assert_int_eq(vm_fpstore_apply(st, &w), 0);
    ck_assert_int_eq(vm_fpstore_get(st, 40, 3, out), 0);
    ck_assert_uint_eq(out[0], 1);
    ck_assert_uint_eq(out[2], 3);
    ck_assert_int_eq(vm_fpstore_get(st, 5, 2, out), 0);
    ck_assert_uint_eq(out[0], 4);
    ck_assert_uint_eq(out[1], 0);                         /* the hole after it */
    ck_assert_int_eq(vm_fpstore_get(st, 90, 2, out), 0);
    ck_assert_uint_eq(out[1], 6);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 6);
    struct port_blk_req r = w;
    r.op = PORT_BLK_READ;
    r.fps = out;
    memset(out, 0, sizeof out);
    ck_assert_int_eq(vm_fpstore_apply(st, &r), 0);
    ck_assert_int_eq(memcmp(out, in, sizeof in), 0);
    /* lengths must add up to nr_blocks, and each run must fit */
    lens[2] = 1;
    ck_assert(!vm_fpstore_req_fits(st, &w));
    ck_assert_int_eq(vm_fpstore_apply(st, &w), VM_ERANGE);
    lens[2] = 2;
    lbas[2] = 99;
    ck_assert(!vm_fpstore_req_fits(st, &w));
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_fpstore_blocks_used_counts_data_not_holes)
{
    struct vm_fpstore *st = vm_fpstore_new(200000);
    uint64_t end = 1;
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, &end), 0);
    ck_assert_uint_eq(end, 0);
    uint64_t fps[10];
    fill_fps(fps, 10, 3);
    ck_assert_int_eq(vm_fpstore_put(st, 65530, 10, fps), 0);      /* across two leaves */
    ck_assert_int_eq(vm_fpstore_put(st, 65532, 2, fps), 0);       /* rewritten: same blocks */
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, &end), 10);
    ck_assert_uint_eq(end, 65540);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 1000, 3, fps, 10, "maps", 4), 0);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 13);
    /* a packed extent over plain blocks replaces them */
    ck_assert_int_eq(vm_fpstore_put_packed(st, 65535, 2, NULL, 0, "x", 1), 0);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 13);
    /* a plain write over a packed extent drops the extent whole */
    ck_assert_int_eq(vm_fpstore_put(st, 1001, 1, fps), 0);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, NULL), 11);
    /* the apparent size ends with the last block holding data, packed too */
    ck_assert_int_eq(vm_fpstore_put_packed(st, 150000, 4, NULL, 0, "hdr", 3), 0);
    ck_assert_uint_eq(vm_fpstore_blocks_used(st, &end), 15);
    ck_assert_uint_eq(end, 150004);
    vm_fpstore_free(st);
}
END_TEST

static Suite *fpstore_suite(void)
{
    Suite *s = suite_create("fpstore");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fpstore_unwritten_blocks_read_zero);
    tcase_add_test(tc, test_fpstore_shared_leaves_read_as_written);
    tcase_add_test(tc, test_fpstore_peek_reads_as_get_and_notes_nothing);
    tcase_add_test(tc, test_fpstore_apply_run_of_unequal_ios_places_each);
    tcase_add_test(tc, test_fpstore_blocks_used_counts_data_not_holes);
    tcase_add_test(tc, test_fpstore_plain_roundtrip_across_leaves);
    tcase_add_test(tc, test_fpstore_out_of_range_is_erange);
    tcase_add_test(tc, test_fpstore_packed_roundtrip_and_truncated_copy);
    tcase_add_test(tc, test_fpstore_plain_read_over_packed_is_einval);
    tcase_add_test(tc, test_fpstore_packed_write_clears_the_plain_blocks_it_covers);
    tcase_add_test(tc, test_fpstore_plain_write_drops_packed_extents_starting_inside);
    tcase_add_test(tc, test_fpstore_plain_write_into_the_tail_of_packed_drops_it_whole);
    tcase_add_test(tc, test_fpstore_packed_write_replaces_overlapping_packed);
    tcase_add_test(tc, test_fpstore_packed_extent_spanning_leaves);
    tcase_add_test(tc, test_fpstore_packed_rejects_empty_extent_and_null_payload);
    tcase_add_test(tc, test_fpstore_mem_bytes_tracks_leaves_and_extents);
    tcase_add_test(tc, test_fpstore_2mib_holes_take_no_memory);
    tcase_add_test(tc, test_fpstore_leaves_past_one_arena_chunk_stay_distinct);
    tcase_add_test(tc, test_bigmem_zeroed_and_aligned_when_large);
    tcase_add_test(tc, test_bigmem_ahead_gives_zeroed_aligned_distinct_regions);
    tcase_add_test(tc, test_fpstore_64gib_image_fits_in_140mib);
    tcase_add_test(tc, test_fpstore_apply_vectored_run_lands_at_each_lba);
    tcase_add_test(tc, test_fpstore_apply_run_off_the_end_writes_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fp_suite());
    srunner_add_suite(sr, fpstore_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
