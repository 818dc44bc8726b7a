/*
 * at_evidence.c - a host's measured-boot event log, its PCR, and the
 * quote that signs it (at_evidence.h).
 *
 * An event's canonical bytes: u32 little-endian length + bytes for name,
 * version and vendor (up to their NUL, at most the field's size), then
 * the 32 bytes of data_hash.  The PCR starts at zero and is extended as
 * a TPM extends one: pcr = SHA-256(pcr || SHA-256(event)).  A quote signs
 * SHA-256("vmsim-quote/1" || host u64 LE || nonce || pcr) with the
 * host key's algorithm, which the quote names (alg).
 *
 * Not modelled: TPM structures (TPMS_ATTEST, PCR selection, clock and
 * reset counters), several PCR banks, event types other than software
 * components.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "attestation/at_evidence.h"

void at_component_hash(const uint8_t *file_hashes, size_t nr_files, uint8_t out[AT_HASH_LEN])
{
    at_sha256(file_hashes, nr_files * AT_HASH_LEN, out);
}

static size_t put_str(uint8_t *buf, const char *s, size_t field_size)
{
    size_t n = strnlen(s, field_size);
    buf[0] = (uint8_t)n;
    buf[1] = (uint8_t)(n >> 8);
    buf[2] = 0;
    buf[3] = 0;
    memcpy(buf + 4, s, n);
    return 4 + n;
}

size_t at_event_encode(const struct at_event *e, uint8_t *buf)
{
    size_t o = 0;
    o += put_str(buf + o, e->name, sizeof e->name);
    o += put_str(buf + o, e->version, sizeof e->version);
    o += put_str(buf + o, e->vendor, sizeof e->vendor);
    memcpy(buf + o, e->data_hash, AT_HASH_LEN);
    return o + AT_HASH_LEN;
}

void at_log_pcr(const struct at_event *ev, size_t nr, uint8_t pcr[AT_HASH_LEN])
{
    uint8_t enc[AT_EVENT_ENC_MAX];
    uint8_t pair[2 * AT_HASH_LEN];
    memset(pair, 0, AT_HASH_LEN);
    for (size_t i = 0; i < nr; i++) {
        size_t len = at_event_encode(&ev[i], enc);
        at_sha256(enc, len, pair + AT_HASH_LEN);
        at_sha256(pair, sizeof pair, pair);
    }
    memcpy(pcr, pair, AT_HASH_LEN);
}

/* What the host signs: the digest of the quote's fields. */
static void quote_digest(uint64_t host, const uint8_t nonce[AT_NONCE_LEN],
                         const uint8_t pcr[AT_HASH_LEN], uint8_t out[AT_HASH_LEN])
{
    static const char magic[] = "vmsim-quote/1";
    uint8_t buf[sizeof magic - 1 + 8 + AT_NONCE_LEN + AT_HASH_LEN];
    size_t o = sizeof magic - 1;
    memcpy(buf, magic, o);
    for (int i = 0; i < 8; i++)
        buf[o++] = (uint8_t)(host >> (8 * i));
    memcpy(buf + o, nonce, AT_NONCE_LEN);
    memcpy(buf + o + AT_NONCE_LEN, pcr, AT_HASH_LEN);
    at_sha256(buf, sizeof buf, out);
}

int at_quote_sign(const struct at_key *k, uint64_t host, const uint8_t nonce[AT_NONCE_LEN],
                  const struct at_event *ev, size_t nr, struct at_quote *q)
{
    uint8_t dig[AT_HASH_LEN];
    memset(q, 0, sizeof *q);
    if (!k)
        return VM_EINVAL;
    q->host = host;
    q->alg = k->alg;
    memcpy(q->nonce, nonce, AT_NONCE_LEN);
    at_log_pcr(ev, nr, q->pcr);
    quote_digest(host, q->nonce, q->pcr, dig);
    return at_sign(k, dig, sizeof dig, q->sig);
}

const char *at_quote_err_name(enum at_quote_err e)
{
    switch (e) {
    case AT_QUOTE_OK: return "ok";
    case AT_QUOTE_BAD_SIG: return "bad_sig";
    case AT_QUOTE_STALE_NONCE: return "stale_nonce";
    case AT_QUOTE_PCR_MISMATCH: return "pcr_mismatch";
    case AT_QUOTE_WRONG_HOST: return "wrong_host";
    }
    return "unknown";
}

enum at_quote_err at_quote_verify(const struct at_quote *q, uint64_t host, enum at_alg alg,
                                  const uint8_t *pub,
                                  const uint8_t nonce[AT_NONCE_LEN],
                                  const struct at_event *ev, size_t nr)
{
    uint8_t pcr[AT_HASH_LEN], dig[AT_HASH_LEN];
    if (q->host != host)
        return AT_QUOTE_WRONG_HOST;
    if (CRYPTO_memcmp(q->nonce, nonce, AT_NONCE_LEN) != 0)
        return AT_QUOTE_STALE_NONCE;
    at_log_pcr(ev, nr, pcr);
    if (CRYPTO_memcmp(pcr, q->pcr, AT_HASH_LEN) != 0)
        return AT_QUOTE_PCR_MISMATCH;
    /* The digest is rebuilt from what the verifier expects (its host id,
     * its nonce, the PCR it recomputed), never taken from the quote. */
    quote_digest(host, nonce, pcr, dig);
    if (q->alg != (int32_t)alg ||
        at_verify_key(alg, pub, at_pub_len(alg), dig, sizeof dig, q->sig) != 0)
        return AT_QUOTE_BAD_SIG;
    return AT_QUOTE_OK;
}
