/*
 * at_evidence.h - what a host proves about its software: a measured-boot
 * event log and a quote over it (a TPM stand-in with real signatures).
 *
 * The event log.  Each software component the host booted is one event,
 * as ESXi's TPM software-component events record it (componentName,
 * vibName, vibVersion, vibVendor, dataHash: vSphere API
 * HostTpmSoftwareComponentEventDetails): the package's name, version and
 * vendor, and data_hash, the SHA-256 over the SHA-256 of each of its
 * files in the package's order (at_component_hash).  The log's digest is
 * a PCR: start at 32 zero bytes and extend with each event's digest,
 * pcr = SHA-256(pcr || SHA-256(event)), as a TPM's PCR_Extend does
 * (TCG PC Client Platform Firmware Profile, section 2.3.4).  An event's
 * bytes (at_event_encode) are length-prefixed fields, so no two events
 * encode alike: u32 LE length + bytes of name, version and vendor (up to
 * the NUL, at most the field), then the 32 bytes of data_hash.
 *
 * The quote.  The host signs, with its own key (an attestation key; real
 * TPMs sign TPMS_ATTEST with an AK certified by the EK), SHA-256 of
 * ("vmsim-quote/1", host id u64 LE, the verifier's nonce, the PCR), with
 * its key's algorithm, which the quote names (as a TPM's TPMT_SIGNATURE
 * names sigAlg): Ed25519, or ECDSA P-256 as a TPM 2.0's attestation key
 * signs a quote (TPM_ALG_ECDSA on curve TPM_ECC_NIST_P256: TCG TPM 2.0
 * Library, Part 2: Structures, TPM_ALG_ID section 6.3 and TPM_ECC_CURVE
 * section 6.4; Part 3: Commands, TPM2_Quote; the TCG PC Client Platform
 * TPM Profile lists P-256 among its mandatory curves).  A
 * verifier recomputes the PCR from the log the host sent, checks the
 * signature with the key it registered for that host (refusing a quote
 * that names another algorithm than that key's), and checks that the
 * nonce is the one it issued for this request (freshness: a replayed
 * quote names an old nonce).
 */
#ifndef AT_EVIDENCE_H
#define AT_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attestation/at_crypto.h"

#define AT_NAME_MAX 48          /* package name, NUL included */
#define AT_VERSION_MAX 32       /* package version string, NUL included */
#define AT_VENDOR_MAX 32        /* vendor, NUL included */
#define AT_NONCE_LEN 32

/* One measured component (an event of the log). */
struct at_event {
    char name[AT_NAME_MAX];
    char version[AT_VERSION_MAX];
    char vendor[AT_VENDOR_MAX];
    uint8_t data_hash[AT_HASH_LEN];
};

/* data_hash of a package: SHA-256 over its nr_files file hashes
 * (file_hashes: nr_files x AT_HASH_LEN bytes, in the package's order). */
void at_component_hash(const uint8_t *file_hashes, size_t nr_files, uint8_t out[AT_HASH_LEN]);

/* The event's canonical bytes into buf (at most AT_EVENT_ENC_MAX bytes);
 * returns the length. */
#define AT_EVENT_ENC_MAX (4 + AT_NAME_MAX + AT_VERSION_MAX + AT_VENDOR_MAX + AT_HASH_LEN + 16)
size_t at_event_encode(const struct at_event *e, uint8_t *buf);

/* The PCR after extending with nr events, from zero. */
void at_log_pcr(const struct at_event *ev, size_t nr, uint8_t pcr[AT_HASH_LEN]);

struct at_quote {
    uint64_t host;              /* the host's id */
    int32_t alg;                /* enum at_alg of the signature */
    uint32_t pad;
    uint8_t nonce[AT_NONCE_LEN];
    uint8_t pcr[AT_HASH_LEN];
    uint8_t sig[AT_SIG_LEN];
};

/* Quote the log ev[0..nr) for nonce with key k (its algorithm) into *q.
 * 0, VM_EINVAL, VM_EIO. */
int at_quote_sign(const struct at_key *k, uint64_t host, const uint8_t nonce[AT_NONCE_LEN],
                  const struct at_event *ev, size_t nr, struct at_quote *q);

/* Why a quote was refused (0: it was not). */
enum at_quote_err {
    AT_QUOTE_OK = 0,
    AT_QUOTE_BAD_SIG,           /* not signed by the host's registered key */
    AT_QUOTE_STALE_NONCE,       /* a nonce other than the one issued (a replay) */
    AT_QUOTE_PCR_MISMATCH,      /* the log does not produce the quoted PCR */
    AT_QUOTE_WRONG_HOST,        /* the quote names another host */
};
/* "ok", "bad_sig", "stale_nonce", "pcr_mismatch", "wrong_host" (for
 * results' keys); "unknown" for another value. */
const char *at_quote_err_name(enum at_quote_err e);

/* Verify q as host `host`'s quote over ev[0..nr) for `nonce`, with the
 * public key pub (at_pub_len(alg) bytes) of algorithm alg registered for
 * the host.  Checks, in this order: host, nonce, PCR, signature (the
 * quote must name alg, and the signed digest is rebuilt from the
 * verifier's own host id, nonce and recomputed PCR, never taken from the
 * quote).  Returns the first failure; another algorithm named, or any
 * at_verify_key error, is BAD_SIG. */
enum at_quote_err at_quote_verify(const struct at_quote *q, uint64_t host, enum at_alg alg,
                                  const uint8_t *pub,
                                  const uint8_t nonce[AT_NONCE_LEN],
                                  const struct at_event *ev, size_t nr);

#endif
