/*
 * hostmem_linux.c - Linux's sizing arithmetic that host memory takes its
 * bounds from (hostmem.h): the inactive list's share (mm/vmscan.c
 * inactive_is_low), vm.min_free_kbytes's default and the zone watermarks
 * (mm/page_alloc.c calculate_min_free_kbytes, __setup_per_zone_wmarks).
 * Pure functions of sizes; no state.
 */
#include "hostmem/hostmem.h"

/* Linux's int_sqrt() (lib/math/int_sqrt.c): the floor of the root, one
 * bit at a time. */
static uint64_t int_sqrt(uint64_t x)
{
    uint64_t root = 0;
    for (uint64_t bit = 1ull << 62; bit != 0; bit >>= 2) {
        if (x >= root + bit) {
            x -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
    }
    return root;
}

uint32_t hostmem_inactive_ratio(uint64_t size_bytes)
{
    uint64_t gb = size_bytes >> 30;
    if (gb == 0)
        return 1;
    return (uint32_t)int_sqrt(10 * gb);   /* gb < 2^34: no overflow, root < 2^19 */
}

uint64_t hostmem_min_free_kbytes(uint64_t lowmem_kbytes)
{
    uint64_t k = int_sqrt(lowmem_kbytes * 16);   /* lowmem_kbytes < 2^60 */
    return k < 128 ? 128 : k > 262144 ? 262144 : k;
}

void hostmem_wmarks_calc(uint64_t managed, uint64_t min_free_kbytes, uint32_t scale_factor,
                         struct hostmem_wmarks *out)
{
    if (min_free_kbytes == 0)
        min_free_kbytes = hostmem_min_free_kbytes(managed * (HOSTMEM_PAGE_BYTES >> 10));
    if (scale_factor == 0)
        scale_factor = HOSTMEM_WMARK_SCALE_DEFAULT;
    /* __setup_per_zone_wmarks(), one zone: its share of pages_min is all */
    uint64_t min = min_free_kbytes >> 2;                 /* KiB to 4 KiB pages */
    uint64_t scaled = managed / 10000 * scale_factor +   /* mult_frac() */
                      managed % 10000 * scale_factor / 10000;
    uint64_t gap = min >> 2 > scaled ? min >> 2 : scaled;
    out->min = min;
    out->low = min + gap;
    out->high = min + 2 * gap;
}
