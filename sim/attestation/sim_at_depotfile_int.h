/*
 * sim_at_depotfile_int.h - the depot file reader's shared pieces:
 * sim_at_depotfile.c (the file, the targets role, the writer) and
 * sim_at_depotroles.c (the root and snapshot roles).  Every check fails
 * with one line "FILE: $.json.path: what was expected, got what".
 */
#ifndef SIM_AT_DEPOTFILE_INT_H
#define SIM_AT_DEPOTFILE_INT_H

#include <cjson/cJSON.h>

#include "attestation/at_meta.h"
#include "attestation/sim_at_depotfile.h"
#include "sim_json.h"

#define NS_PER_DAY 86400000000000ull
#define INT_MAX_JSON 9007199254740991.0  /* 2^53 - 1 */

struct dpf {
    const char *file;
    struct sim_json_pathbuf path;
    struct vm_diag *d;
};

/* The located line in x->d (code returned). */
__attribute__((format(printf, 3, 4)))
int dpf_fail(struct dpf *x, int code, const char *fmt, ...);
/* Unknown keys (with a suggestion), duplicate keys, missing required
 * keys (bit i of req: keys[i]). */
int dpf_check_keys(struct dpf *x, const cJSON *obj, const char *const *keys, int n,
                   unsigned req);
/* The string at key of obj into out[cap] (1..cap-1 characters). */
int dpf_get_str(struct dpf *x, const cJSON *obj, const char *key, char *out, size_t cap);
/* Exactly n bytes as 2n hex digits at key of obj. */
int dpf_get_hex(struct dpf *x, const cJSON *obj, const char *key, uint8_t *out, size_t n);
/* "expires" text of ns ("30d", "3600s", "<n>ns") into buf. */
void dpf_expires_text(uint64_t ns, char *buf, size_t len);

/* One signature object {keyid, alg, sig} at x->path into *o (alg must be
 * Ed25519: depot metadata is signed with it only). */
int dpf_parse_sig(struct dpf *x, const cJSON *s, struct at_rootsig *o);
/* The root role's object {signed, signatures} at x->path into *r and *s
 * (form only: well formed, at_root_check's rules located). */
int dpf_parse_root(struct dpf *x, const cJSON *o, struct at_root *r, struct at_root_sigs *s);
/* The snapshot role's object into *sn and its first signature's *sig
 * (keyid too); form only. */
int dpf_parse_snapshot(struct dpf *x, const cJSON *o, struct at_snapshot *sn,
                       struct at_rootsig *sig);
/* With the depot's keys: the root lists each role's depot key and a
 * threshold of its root keys signed it; the snapshot names catalog c
 * (version and hash) and its signature is the depot's snapshot key's.
 * 0, VM_EINVAL, VM_ECORRUPT (a signature that does not verify). */
int dpf_verify_roles(struct dpf *x, const struct at_root *r, const struct at_root_sigs *rs,
                     const struct at_snapshot *sn, const struct at_rootsig *ss,
                     const struct at_catalog *c, const struct sim_at_keyset *ks);
/* The root and snapshot objects for catalog c with keys ks (added to
 * root); 0 or VM_ENOMEM / VM_EIO. */
int dpf_roles_json(cJSON *root, const struct at_catalog *c, const struct sim_at_keyset *ks);

#endif
