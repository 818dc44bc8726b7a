/*
 * vm_fp.h - 64-bit content fingerprints (xxhash XXH3-64).
 *
 * vmsim never stores page bytes: a page's content is a fingerprint.  A
 * page that has been written `version` times since boot has the content
 * vm_fp_page(seed, gpa, version); fingerprint 0 is reserved for "no data"
 * and never returned.  VM_FP_ZERO is reserved for a page of zero bytes (a
 * zero page, which savers may skip and restores recreate without a read);
 * vm_fp_page() and vm_fp_bytes() never return it either, so only a model
 * that means "this page is all zero" produces it.
 */
#ifndef VM_FP_H
#define VM_FP_H

#include <stddef.h>
#include <stdint.h>

/* The content of a page of 4096 zero bytes ("ZEROPAGE" in ASCII). */
#define VM_FP_ZERO UINT64_C(0x5a45524f50414745)

uint64_t vm_fp_page(uint64_t seed, uint64_t gpa, uint64_t version);
/* Fingerprint of an arbitrary byte buffer (never 0). */
uint64_t vm_fp_bytes(const void *buf, size_t len);
/* vm_fp_bytes(buf, len), and vm_fp_bytes(buf, cut) in *prefix, in one
 * pass over the bytes (a file's body hashed with and without its trailer:
 * tens of MiB for a large checkpoint's maps).  cut > len is taken as len. */
uint64_t vm_fp_bytes_prefix(const void *buf, size_t len, size_t cut, uint64_t *prefix);
/* Seal a body with its checksum trailer in one pass: write
 * vm_fp_bytes(buf, len - 8) little-endian into buf's last 8 bytes and
 * return vm_fp_bytes(buf, len) of the sealed buffer.  len >= 8 (below,
 * nothing is written and vm_fp_bytes(buf, len) returned). */
uint64_t vm_fp_bytes_seal(void *buf, size_t len);

#endif
