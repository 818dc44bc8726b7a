/*
 * sim_at_depotfile.c - the depot metadata file (sim_at_depotfile.h): a
 * strict reader (every problem one located line, the first one found),
 * a signed writer, and a generator of synthetic ESXi-like depots.
 *
 * Strictness follows the config parser's (sim_cfg_walk.c): unknown and
 * duplicate keys are errors, types are exact, integers are integral.
 * The root and snapshot roles are sim_at_depotroles.c's; the generator is
 * sim_at_depotgen.c.
 * The signature is checked last, over what was parsed, as at_targets_sign
 * makes it (Ed25519 over at_targets_hash, the SHA-256 of the canonical
 * encoding; TUF signs the canonical JSON of "signed").
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attestation/at_crypto.h"
#include "attestation/sim_at_depotfile.h"
#include "attestation/sim_at_depotfile_int.h"
#include "base/vm_units.h"
#include "sim_cfg.h"
#include "sim_json.h"
#include "sim_tempfile.h"


int dpf_fail(struct dpf *x, int code, const char *fmt, ...)
{
    char msg[VM_DIAG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vm_diag_set(x->d, code, "%s: %s: %s", x->file, x->path.text, msg);
}

/* Unknown keys (with a suggestion), duplicate keys, missing required
 * keys (bit i of req: keys[i]). */
int dpf_check_keys(struct dpf *x, const cJSON *obj, const char *const *keys, int n,
                      unsigned req)
{
    for (const cJSON *c = obj->child; c; c = c->next) {
        int i = 0;
        while (i < n && strcmp(keys[i], c->string) != 0)
            i++;
        if (i == n) {
            const char *s = sim_cfg_suggest(keys, n, c->string);
            char hint[96] = "";
            if (s)
                snprintf(hint, sizeof hint, " (did you mean '%s'?)", s);
            return dpf_fail(x, VM_EINVAL, "unknown key '%.60s'%s", c->string, hint);
        }
        for (const cJSON *p = obj->child; p != c; p = p->next)
            if (strcmp(p->string, c->string) == 0)
                return dpf_fail(x, VM_EINVAL, "duplicate key '%s'", c->string);
    }
    for (int i = 0; i < n; i++)
        if ((req >> i & 1u) && !cJSON_GetObjectItemCaseSensitive(obj, keys[i]))
            return dpf_fail(x, VM_EINVAL, "missing key '%s'", keys[i]);
    return 0;
}

/* The string at key of obj into out[cap] (1..cap-1 characters). */
int dpf_get_str(struct dpf *x, const cJSON *obj, const char *key, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t mark = sim_json_pathbuf_key(&x->path, key);
    char got[64];
    int rc = 0;
    if (!cJSON_IsString(v))
        rc = dpf_fail(x, VM_EINVAL, "expected string, got %s",
                      sim_json_got(v, got, sizeof got));
    else if (!v->valuestring[0] || strlen(v->valuestring) >= cap)
        rc = dpf_fail(x, VM_EINVAL, "expected a string of 1 to %zu characters, got %s", cap - 1,
                  sim_json_got(v, got, sizeof got));
    else
        snprintf(out, cap, "%s", v->valuestring);
    sim_json_pathbuf_pop(&x->path, mark);
    return rc;
}

/* Exactly n bytes as 2n hex digits at key of obj. */
int dpf_get_hex(struct dpf *x, const cJSON *obj, const char *key, uint8_t *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t mark = sim_json_pathbuf_key(&x->path, key);
    char got[64];
    size_t where = 0;
    int rc = 0;
    if (!cJSON_IsString(v))
        rc = dpf_fail(x, VM_EINVAL, "expected %zu hex digits, got %s", 2 * n,
                  sim_json_got(v, got, sizeof got));
    else if (at_hex_decode(v->valuestring, out, n, &where) != 0)
        rc = dpf_fail(x, VM_EINVAL, "expected %zu hex digits, got %s", 2 * n,
                  sim_json_got(v, got, sizeof got));
    sim_json_pathbuf_pop(&x->path, mark);
    return rc;
}

int sim_at_depot_parse_expires(const char *s, uint64_t *ns)
{
    size_t n = strlen(s);
    if (n >= 2 && s[n - 1] == 'd') {
        uint64_t days = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            if (s[i] < '0' || s[i] > '9' || days > 100000)
                return VM_EINVAL;
            days = days * 10 + (uint64_t)(s[i] - '0');
        }
        if (days > 100000)              /* ~270 years: beyond any run */
            return VM_EINVAL;
        *ns = days * NS_PER_DAY;
        return 0;
    }
    return vm_units_parse_time(s, ns);
}

static int parse_file_entry(struct dpf *x, const cJSON *f, struct at_file *out)
{
    static const char *const keys[] = { "path", "sha256" };
    char got[64];
    if (!cJSON_IsObject(f))
        return dpf_fail(x, VM_EINVAL, "expected object {path, sha256}, got %s",
                    sim_json_got(f, got, sizeof got));
    int rc = dpf_check_keys(x, f, keys, 2, 0x3u);
    if (!rc)
        rc = dpf_get_str(x, f, "path", out->path, sizeof out->path);
    if (!rc)
        rc = dpf_get_hex(x, f, "sha256", out->sha256, AT_HASH_LEN);
    return rc;
}

static int parse_package(struct dpf *x, const cJSON *p, struct at_catalog *c,
                         struct at_file **files)
{
    static const char *const keys[] = { "name", "version", "vendor", "withdrawn", "files" };
    char got[64], name[AT_NAME_MAX], version[AT_VERSION_MAX], vendor[AT_VENDOR_MAX];
    if (!cJSON_IsObject(p))
        return dpf_fail(x, VM_EINVAL, "expected object {name, version, vendor, files}, got %s",
                    sim_json_got(p, got, sizeof got));
    int rc = dpf_check_keys(x, p, keys, 5, 0x17u);
    if (!rc)
        rc = dpf_get_str(x, p, "name", name, sizeof name);
    if (!rc)
        rc = dpf_get_str(x, p, "version", version, sizeof version);
    if (!rc)
        rc = dpf_get_str(x, p, "vendor", vendor, sizeof vendor);
    if (rc)
        return rc;
    bool withdrawn = false;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(p, "withdrawn");
    if (w) {
        size_t mark = sim_json_pathbuf_key(&x->path, "withdrawn");
        if (!cJSON_IsBool(w))
            rc = dpf_fail(x, VM_EINVAL, "expected boolean, got %s",
                          sim_json_got(w, got, sizeof got));
        withdrawn = cJSON_IsTrue(w);
        sim_json_pathbuf_pop(&x->path, mark);
        if (rc)
            return rc;
    }
    const struct at_pkg *dup = at_catalog_find(c, name, version);
    if (dup)
        return dpf_fail(x, VM_EINVAL, "duplicate package '%s' version '%s' (packages[%d] has it)",
                    name, version, (int)(dup - c->pkgs));
    const cJSON *fa = cJSON_GetObjectItemCaseSensitive(p, "files");
    size_t mark = sim_json_pathbuf_key(&x->path, "files");
    int n = cJSON_IsArray(fa) ? cJSON_GetArraySize(fa) : -1;
    if (n < 0)
        rc = dpf_fail(x, VM_EINVAL, "expected an array of files, got %s",
                  sim_json_got(fa, got, sizeof got));
    else if (n == 0)
        rc = dpf_fail(x, VM_EINVAL, "expected 1 to %d files, got an empty array", AT_MAX_FILES);
    else if (n > AT_MAX_FILES)
        rc = dpf_fail(x, VM_EINVAL, "expected at most %d files, got %d", AT_MAX_FILES, n);
    if (rc) {
        sim_json_pathbuf_pop(&x->path, mark);
        return rc;
    }
    if (!*files && !(*files = malloc(AT_MAX_FILES * sizeof **files))) {
        sim_json_pathbuf_pop(&x->path, mark);
        return vm_diag_set(x->d, VM_ENOMEM, "%s: out of memory", x->file);
    }
    int i = 0;
    for (const cJSON *f = fa->child; f && !rc; f = f->next, i++) {
        size_t m2 = sim_json_pathbuf_index(&x->path, i);
        rc = parse_file_entry(x, f, &(*files)[i]);
        for (int j = 0; j < i && !rc; j++)
            if (strcmp((*files)[j].path, (*files)[i].path) == 0) {
                size_t m3 = sim_json_pathbuf_key(&x->path, "path");
                rc = dpf_fail(x, VM_EINVAL, "duplicate file path '%s' (files[%d] has it)",
                          (*files)[i].path, j);
                sim_json_pathbuf_pop(&x->path, m3);
            }
        sim_json_pathbuf_pop(&x->path, m2);
    }
    sim_json_pathbuf_pop(&x->path, mark);
    if (rc)
        return rc;
    struct vm_diag d2 = { 0 };
    rc = at_catalog_add(c, name, version, vendor, withdrawn, *files, (uint32_t)n, &d2);
    if (rc)
        return dpf_fail(x, rc, "%s", d2.msg[0] ? d2.msg : vm_strerror(rc));
    return 0;
}

static int parse_signed(struct dpf *x, const cJSON *s, struct at_catalog *c)
{
    static const char *const keys[] = { "_type", "version", "expires", "packages" };
    char got[64];
    if (!cJSON_IsObject(s))
        return dpf_fail(x, VM_EINVAL, "expected object {_type, version, expires, packages}, got %s",
                    sim_json_got(s, got, sizeof got));
    int rc = dpf_check_keys(x, s, keys, 4, 0xfu);
    if (rc)
        return rc;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "_type");
    size_t mark = sim_json_pathbuf_key(&x->path, "_type");
    if (!cJSON_IsString(t) || strcmp(t->valuestring, "targets") != 0)
        rc = dpf_fail(x, VM_EINVAL, "expected \"targets\", got %s",
                      sim_json_got(t, got, sizeof got));
    sim_json_pathbuf_pop(&x->path, mark);
    if (rc)
        return rc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "version");
    mark = sim_json_pathbuf_key(&x->path, "version");
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > INT_MAX_JSON ||
        v->valuedouble != floor(v->valuedouble))
        rc = dpf_fail(x, VM_EINVAL, "expected integer >= 1, got %s",
                      sim_json_got(v, got, sizeof got));
    else
        c->version = (uint64_t)v->valuedouble;
    sim_json_pathbuf_pop(&x->path, mark);
    if (rc)
        return rc;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "expires");
    mark = sim_json_pathbuf_key(&x->path, "expires");
    if (!cJSON_IsString(e) || sim_at_depot_parse_expires(e->valuestring, &c->expires_ns) != 0 ||
        c->expires_ns == 0)
        rc = dpf_fail(x, VM_EINVAL, "expected a time after the run's start like \"30d\" or "
                  "\"3600s\", got %s", sim_json_got(e, got, sizeof got));
    sim_json_pathbuf_pop(&x->path, mark);
    if (rc)
        return rc;
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(s, "packages");
    mark = sim_json_pathbuf_key(&x->path, "packages");
    if (!cJSON_IsArray(pa) || !pa->child) {
        rc = dpf_fail(x, VM_EINVAL, "expected a non-empty array of packages, got %s",
                  cJSON_IsArray(pa) ? "an empty array" : sim_json_got(pa, got, sizeof got));
        sim_json_pathbuf_pop(&x->path, mark);
        return rc;
    }
    struct at_file *files = NULL;
    int i = 0;
    for (const cJSON *p = pa->child; p && !rc; p = p->next, i++) {
        size_t m2 = sim_json_pathbuf_index(&x->path, i);
        rc = parse_package(x, p, c, &files);
        sim_json_pathbuf_pop(&x->path, m2);
    }
    free(files);
    sim_json_pathbuf_pop(&x->path, mark);
    return rc;
}

static int parse_sigs(struct dpf *x, const cJSON *sa, const struct at_catalog *c,
                      const uint8_t *pub)
{
    char got[64];
    if (!cJSON_IsArray(sa) || !sa->child)
        return dpf_fail(x, VM_EINVAL, "expected a non-empty array of signatures, got %s",
                    cJSON_IsArray(sa) ? "an empty array" : sim_json_got(sa, got, sizeof got));
    uint8_t h[AT_HASH_LEN];
    bool hashed = false;
    int rc = 0, i = 0;
    for (const cJSON *s = sa->child; s && !rc; s = s->next, i++) {
        size_t mark = sim_json_pathbuf_index(&x->path, i);
        struct at_rootsig o;
        rc = dpf_parse_sig(x, s, &o);
        if (!rc && pub && memcmp(o.keyid, pub, AT_PUB_LEN) != 0) {
            char want[2 * AT_PUB_LEN + 1];
            at_hex_encode(pub, AT_PUB_LEN, want);
            size_t m2 = sim_json_pathbuf_key(&x->path, "keyid");
            rc = dpf_fail(x, VM_EINVAL, "unknown key: not the depot's targets key (%.16s..., from "
                      "depot.key_seed)", want);
            sim_json_pathbuf_pop(&x->path, m2);
        }
        if (!rc && pub) {
            if (!hashed)
                at_targets_hash(c, h);
            hashed = true;
            if (at_verify(o.alg, pub, h, sizeof h, o.sig) != 0) {
                size_t m2 = sim_json_pathbuf_key(&x->path, "sig");
                rc = dpf_fail(x, VM_ECORRUPT, "bad signature: it does not verify over the signed "
                          "catalog with the depot's targets key (re-sign an edited file: "
                          "vmsim-depot sign)");
                sim_json_pathbuf_pop(&x->path, m2);
            }
        }
        sim_json_pathbuf_pop(&x->path, mark);
    }
    return rc;
}

int sim_at_keyset_init(struct sim_at_keyset *ks, uint64_t key_seed, struct vm_diag *d)
{
    memset(ks, 0, sizeof *ks);
    for (int r = 0; r < AT_NR_ROLES; r++) {
        char role[32];
        uint8_t seed[AT_SEED_LEN];
        snprintf(role, sizeof role, "depot-%s", at_role_name((enum at_role)r));
        at_key_seed(seed, role, key_seed, 0);
        int rc = at_key_init(&ks->k[r], seed, d);
        if (rc) {
            sim_at_keyset_free(ks);
            return rc;
        }
    }
    return 0;
}

void sim_at_keyset_free(struct sim_at_keyset *ks)
{
    if (!ks)
        return;
    for (int r = 0; r < AT_NR_ROLES; r++)
        at_key_free(&ks->k[r]);
}

int sim_at_depot_parse(const char *file, const cJSON *root, const struct sim_at_keyset *ks,
                       struct at_catalog *c, struct vm_diag *d)
{
    static const char *const keys[] = { "format", "root", "snapshot", "signed", "signatures" };
    struct dpf x = { .file = file, .d = d };
    char got[64];
    sim_json_pathbuf_init(&x.path);
    at_catalog_init(c);
    if (!cJSON_IsObject(root))
        return dpf_fail(&x, VM_EINVAL, "expected a depot metadata object {format, root, "
                        "snapshot, signed, signatures}, got %s",
                        sim_json_got(root, got, sizeof got));
    int rc = dpf_check_keys(&x, root, keys, 5, 0x1fu);
    if (rc)
        return rc;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
    size_t mark = sim_json_pathbuf_key(&x.path, "format");
    if (!cJSON_IsString(f) || strcmp(f->valuestring, SIM_AT_DEPOT_FORMAT) != 0)
        rc = dpf_fail(&x, VM_EINVAL, "expected \"%s\", got %s", SIM_AT_DEPOT_FORMAT,
                      sim_json_got(f, got, sizeof got));
    sim_json_pathbuf_pop(&x.path, mark);
    if (rc)
        return rc;
    struct at_root r;
    struct at_root_sigs rs;
    struct at_snapshot sn;
    struct at_rootsig ss;
    mark = sim_json_pathbuf_key(&x.path, "root");
    rc = dpf_parse_root(&x, cJSON_GetObjectItemCaseSensitive(root, "root"), &r, &rs);
    sim_json_pathbuf_pop(&x.path, mark);
    if (rc)
        return rc;
    mark = sim_json_pathbuf_key(&x.path, "snapshot");
    rc = dpf_parse_snapshot(&x, cJSON_GetObjectItemCaseSensitive(root, "snapshot"), &sn, &ss);
    sim_json_pathbuf_pop(&x.path, mark);
    if (rc)
        return rc;
    mark = sim_json_pathbuf_key(&x.path, "signed");
    rc = parse_signed(&x, cJSON_GetObjectItemCaseSensitive(root, "signed"), c);
    sim_json_pathbuf_pop(&x.path, mark);
    if (rc)
        return rc;
    mark = sim_json_pathbuf_key(&x.path, "signatures");
    rc = parse_sigs(&x, cJSON_GetObjectItemCaseSensitive(root, "signatures"), c,
                    ks ? ks->k[AT_ROLE_TARGETS].pub : NULL);
    sim_json_pathbuf_pop(&x.path, mark);
    if (!rc && ks)
        rc = dpf_verify_roles(&x, &r, &rs, &sn, &ss, c, ks);
    return rc;
}

int sim_at_depot_load(const char *file, const struct sim_at_keyset *ks, struct at_catalog *c,
                      struct vm_diag *d)
{
    cJSON *root = NULL;
    at_catalog_init(c);
    struct stat sb;
    if (stat(file, &sb) == 0 && (uint64_t)sb.st_size > SIM_AT_DEPOT_MAX_BYTES)
        return vm_diag_set(d, VM_EINVAL, "%s: expected a depot file of at most %llu MiB, got "
                           "%.1f MiB", file, SIM_AT_DEPOT_MAX_BYTES >> 20,
                           (double)sb.st_size / (1 << 20));
    int rc = sim_json_load(file, &root, d);
    if (rc)
        return rc;
    rc = sim_at_depot_parse(file, root, ks, c, d);
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------ writing */

void dpf_expires_text(uint64_t ns, char *buf, size_t len)
{
    if (ns % NS_PER_DAY == 0)
        snprintf(buf, len, "%llud", (unsigned long long)(ns / NS_PER_DAY));
    else if (ns % 1000000000ull == 0)
        snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ull));
    else
        snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

/* One package's object, or NULL when out of memory. */
static cJSON *pkg_json(const struct at_pkg *p)
{
    char hex[2 * AT_HASH_LEN + 1];
    cJSON *po = cJSON_CreateObject();
    cJSON *fa = po ? cJSON_AddArrayToObject(po, "files") : NULL;
    if (!fa || !cJSON_AddStringToObject(po, "name", p->name) ||
        !cJSON_AddStringToObject(po, "version", p->version) ||
        !cJSON_AddStringToObject(po, "vendor", p->vendor) ||
        (p->withdrawn && !cJSON_AddBoolToObject(po, "withdrawn", true)))
        goto nomem;
    /* "files" last, as a reader expects it */
    cJSON_DetachItemViaPointer(po, fa);
    cJSON_AddItemToObject(po, "files", fa);
    for (uint32_t j = 0; j < p->nr_files; j++) {
        cJSON *fo = cJSON_CreateObject();
        if (!fo)
            goto nomem;
        cJSON_AddItemToArray(fa, fo);
        at_hex_encode(p->files[j].sha256, AT_HASH_LEN, hex);
        if (!cJSON_AddStringToObject(fo, "path", p->files[j].path) ||
            !cJSON_AddStringToObject(fo, "sha256", hex))
            goto nomem;
    }
    return po;
nomem:
    cJSON_Delete(po);
    return NULL;
}

cJSON *sim_at_depot_to_json(const struct at_catalog *c, const struct sim_at_keyset *ks,
                            struct vm_diag *d)
{
    const struct at_key *k = &ks->k[AT_ROLE_TARGETS];
    struct at_sigblock sb;
    if (at_targets_sign(c, k, &sb) != 0) {
        vm_diag_set(d, VM_EIO, "signing the catalog failed");
        return NULL;
    }
    char hex[2 * AT_SIG_LEN + 1], exp[32];
    dpf_expires_text(c->expires_ns, exp, sizeof exp);
    cJSON *root = cJSON_CreateObject(), *s = NULL, *pa = NULL, *sa = NULL, *sig = NULL;
    if (!root || !cJSON_AddStringToObject(root, "format", SIM_AT_DEPOT_FORMAT))
        goto nomem;
    int rc = dpf_roles_json(root, c, ks);
    if (rc) {
        cJSON_Delete(root);
        vm_diag_set(d, rc, rc == VM_EIO ? "signing the root or snapshot failed"
                                        : "out of memory");
        return NULL;
    }
    if (!(s = cJSON_AddObjectToObject(root, "signed")) ||
        !cJSON_AddStringToObject(s, "_type", "targets") ||
        !cJSON_AddNumberToObject(s, "version", (double)c->version) ||
        !cJSON_AddStringToObject(s, "expires", exp) ||
        !(pa = cJSON_AddArrayToObject(s, "packages")))
        goto nomem;
    for (uint32_t i = 0; i < c->nr_pkgs; i++) {
        cJSON *po = pkg_json(&c->pkgs[i]);
        if (!po)
            goto nomem;
        cJSON_AddItemToArray(pa, po);
    }
    if (!(sa = cJSON_AddArrayToObject(root, "signatures")) || !(sig = cJSON_CreateObject()))
        goto nomem;
    cJSON_AddItemToArray(sa, sig);
    at_hex_encode(k->pub, AT_PUB_LEN, hex);
    if (!cJSON_AddStringToObject(sig, "keyid", hex) ||
        !cJSON_AddStringToObject(sig, "alg", at_alg_name(sb.alg)))
        goto nomem;
    at_hex_encode(sb.sig, AT_SIG_LEN, hex);
    if (!cJSON_AddStringToObject(sig, "sig", hex))
        goto nomem;
    return root;
nomem:
    cJSON_Delete(root);
    vm_diag_set(d, VM_ENOMEM, "out of memory");
    return NULL;
}

int sim_at_depot_write(const char *file, const struct at_catalog *c,
                       const struct sim_at_keyset *ks, struct vm_diag *d)
{
    cJSON *root = sim_at_depot_to_json(c, ks, d);
    if (!root)
        return d->code;
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    size_t text_len = strlen(text) + 1;
    if (text_len > SIM_AT_DEPOT_MAX_BYTES) {
        cJSON_free(text);
        return vm_diag_set(d, VM_EINVAL, "%s: the depot file would be %.1f MiB, more than a "
                           "depot file may be (%llu MiB): fewer packages or files", file,
                           (double)text_len / (1 << 20), SIM_AT_DEPOT_MAX_BYTES >> 20);
    }
    char tmp[PATH_MAX];
    const char *slash = strrchr(file, '/');
    if (slash)
        snprintf(tmp, sizeof tmp, "%.*s/.tmp.XXXXXX", (int)(slash - file), file);
    else
        snprintf(tmp, sizeof tmp, ".tmp.XXXXXX");
    int fd = sim_tempfile_mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        cJSON_free(text);
        return vm_diag_set(d, VM_EIO, "%s: cannot create a file beside it: %s", file,
                           strerror(e));
    }
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    size_t n = strlen(text), off = 0;
    int rc = 0;
    while (off <= n && rc == 0) {
        const char *p = off < n ? text + off : "\n";
        size_t want = off < n ? n - off : 1;
        ssize_t w = write(fd, p, want);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            rc = vm_diag_set(d, VM_EIO, "%s: write failed: %s", file, strerror(errno));
        else
            off += (size_t)w;
    }
    cJSON_free(text);
    if (fsync(fd) != 0 && rc == 0)
        rc = vm_diag_set(d, VM_EIO, "%s: write failed: %s", file, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = vm_diag_set(d, VM_EIO, "%s: write failed: %s", file, strerror(errno));
    if (rc == 0 && rename(tmp, file) != 0)
        rc = vm_diag_set(d, VM_EIO, "%s: cannot rename into place: %s", file, strerror(errno));
    if (rc)
        unlink(tmp);
    sim_tempfile_unregister(tmp);
    return rc;
}

