/*
 * vm_units.h - parse and format sizes, times and rates with units.
 *
 * Sizes:  "4096", "4KiB", "8GiB", "1.5MB", "512B" (binary KiB/MiB/GiB/TiB
 *         = 2^10.., decimal kB/KB/MB/GB/TB = 10^3..; bare number = bytes).
 * Times:  "250us", "1.5ms", "2s", "100ns", "3min"; a bare number is an error
 *         (times always need a unit).  Result in nanoseconds.
 * Rates:  "1.2GB/s", "500MiB/s", "100MBps" (SimGrid spelling); bytes/second.
 * Counts: "20k" is not accepted; plain integers only (vm_units_parse_u64).
 * All parsers reject trailing garbage, negative values, NaN and overflow and
 * return 0 or VM_EINVAL / VM_ERANGE; *out is untouched on error:
 * VM_EINVAL for malformed text (empty, no digits, exponent, unknown or
 * missing unit, trailing characters, a size or time that is not a whole
 * number of bytes or ns: "1.5B"), VM_ERANGE for a negative number or one
 * beyond 64 bits.  One space may separate number and unit ("8 GiB").
 */
#ifndef VM_UNITS_H
#define VM_UNITS_H

#include <stdint.h>
#include <stddef.h>

int vm_units_parse_size(const char *s, uint64_t *out_bytes);
int vm_units_parse_time(const char *s, uint64_t *out_ns);
int vm_units_parse_rate(const char *s, double *out_bytes_per_s);
int vm_units_parse_u64(const char *s, uint64_t *out);

/* Format into buf (always NUL-terminated): "8 GiB", "250 us", "1.2 GB/s". */
const char *vm_units_fmt_size(uint64_t bytes, char *buf, size_t len);
const char *vm_units_fmt_time(uint64_t ns, char *buf, size_t len);

#define VM_NS_PER_US  1000ull
#define VM_NS_PER_MS  1000000ull
#define VM_NS_PER_S   1000000000ull
#define VM_PAGE_SIZE  4096u
#define VM_PAGE_SHIFT 12u

#endif
