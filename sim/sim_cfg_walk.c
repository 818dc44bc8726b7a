/*
 * sim_cfg_walk.c - the config engine's walk: key tables, setters, located
 * errors with "did you mean", policy parameters (see sim_cfg.h).
 *
 * Based on fio's option tables (one row per key; fixup_options() keeps
 * going after an error with `ret |= 1`) and git's config errors: every
 * problem is one line "FILE: $.json.path: expected ..., got ...", the path
 * remapped to where an override came from (sim_cfg_int.h).
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_cfg_int.h"
#include "sim_mech.h"

void sim_cfg_copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ------------------------------------------------------------ diag list */

void sim_diag_list_add(struct sim_diag_list *l, const char *fmt, ...)
{
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->lines[i], line) == 0) {
            free(line);                     /* the same problem seen from another point */
            return;
        }
    char **nl = realloc(l->lines, sizeof *nl * (size_t)(l->n + 1));
    if (!nl) {
        free(line);
        return;
    }
    l->lines = nl;
    l->lines[l->n++] = line;
}

void sim_diag_list_free(struct sim_diag_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->lines[i]);
    free(l->lines);
    l->lines = NULL;
    l->n = 0;
}

/* ------------------------------------------------------------ errors */

const char *sim_cfg_locate(const struct sim_cfg_walk *w, const char *path, char *buf,
                           size_t len)
{
    const struct sim_cfg_remap *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < w->nr_remaps; i++) {
        const struct sim_cfg_remap *r = &w->remaps[i];
        size_t n = strlen(r->from);
        if (strncmp(path, r->from, n) == 0 && (path[n] == '\0' || path[n] == '.' ||
                                                path[n] == '[') && n > best_len) {
            best = r;
            best_len = n;
        }
    }
    if (!best)
        return path;
    snprintf(buf, len, "%s%s", best->to, path + best_len);
    return buf;
}

static int vwerr_at(struct sim_cfg_walk *w, int code, const char *where, const char *fmt,
                    va_list ap)
{
    char msg[768], loc[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    sim_diag_list_add(w->errs, "%s: %s: %s", w->file, sim_cfg_locate(w, where, loc, sizeof loc), msg);
    if (w->nr_errs++ == 0)
        w->first_code = code;
    return code;
}

int sim_cfg_err_at(struct sim_cfg_walk *w, int code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwerr_at(w, code, path, fmt, ap);
    va_end(ap);
    return code;
}

int sim_cfg_err(struct sim_cfg_walk *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwerr_at(w, VM_EINVAL, w->path.text, fmt, ap);
    va_end(ap);
    return VM_EINVAL;
}

void sim_cfg_remap_add(struct sim_cfg_walk *w, const char *from, const char *to)
{
    size_t n = strlen(from);
    int j = 0;
    for (int i = 0; i < w->nr_remaps; i++) {
        const char *f = w->remaps[i].from;
        bool below = strncmp(f, from, n) == 0 && (f[n] == '\0' || f[n] == '.' || f[n] == '[');
        if (!below)
            w->remaps[j++] = w->remaps[i];
    }
    w->nr_remaps = j;
    if (w->nr_remaps == SIM_CFG_MAX_REMAPS)
        return;
    struct sim_cfg_remap *r = &w->remaps[w->nr_remaps++];
    snprintf(r->from, sizeof r->from, "%s", from);
    snprintf(r->to, sizeof r->to, "%s", to);
}

size_t sim_cfg_push_key(struct sim_cfg_walk *w, const char *key)
{
    return sim_json_pathbuf_key(&w->path, key);
}

size_t sim_cfg_push_index(struct sim_cfg_walk *w, int index)
{
    return sim_json_pathbuf_index(&w->path, index);
}

void sim_cfg_pop(struct sim_cfg_walk *w, size_t mark)
{
    sim_json_pathbuf_pop(&w->path, mark);
}

int sim_cfg_nr_errors(const struct sim_cfg_walk *w)
{
    return w->nr_errs;
}

const cJSON *sim_cfg_doc(const struct sim_cfg_walk *w)
{
    return w->doc;
}

/* ------------------------------------------------------------ memo */

bool sim_cfg_memo_get(const struct sim_cfg_walk *w, const char *kind, const char *key,
                      struct sim_cfg_memo *out)
{
    for (int i = 0; i < w->nr_memo; i++)
        if (strcmp(w->memo[i].kind, kind) == 0 && strcmp(w->memo[i].key, key) == 0) {
            *out = w->memo[i].m;
            return true;
        }
    return false;
}

void sim_cfg_memo_put(struct sim_cfg_walk *w, const char *kind, const char *key,
                      const struct sim_cfg_memo *m)
{
    if (w->nr_memo == w->cap_memo) {
        int cap = w->cap_memo ? 2 * w->cap_memo : 8;
        struct sim_cfg_memo_entry *nm = realloc(w->memo, sizeof *nm * (size_t)cap);
        if (!nm)
            return;                         /* checked again next time */
        w->memo = nm;
        w->cap_memo = cap;
    }
    struct sim_cfg_memo_entry *e = &w->memo[w->nr_memo++];
    sim_cfg_copy_str(e->kind, sizeof e->kind, kind);
    sim_cfg_copy_str(e->key, sizeof e->key, key);
    e->m = *m;
}

/* ------------------------------------------------------------ suggestions */

static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

const char *sim_cfg_suggest(const char *const *names, int n, const char *name)
{
    const char *best = NULL;
    int len = (int)strlen(name);
    int limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;   /* a third of the name */
    int best_d = limit + 1;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(names[i], name);
        if (d < best_d) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

const struct sim_key *sim_cfg_find_key(const struct sim_key *tab, const char *name)
{
    for (const struct sim_key *k = tab; k && k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

void sim_cfg_unknown_key_msg(const struct sim_key *tab, const struct sim_key *alt,
                             const char *name, const char *in, char *buf, size_t len)
{
    char where[300] = "";
    if (in)
        snprintf(where, sizeof where, " in '%s'", in);
    const char *names[64];
    int n = 0;
    for (const struct sim_key *k = tab; k && k->name && n < 64; k++)
        names[n++] = k->name;
    for (const struct sim_key *k = alt; k && k->name && n < 64; k++)
        names[n++] = k->name;
    const char *s = sim_cfg_suggest(names, n, name);
    if (s)
        snprintf(buf, len, "unknown key '%s'%s (did you mean '%s'?)", name, where, s);
    else
        snprintf(buf, len, "unknown key '%s'%s", name, where);
}

void sim_cfg_param_unknown_msg(const struct vm_param *tab, const char *policy, const char *name,
                               const char *in, char *buf, size_t len)
{
    char where[300] = "";
    if (in)
        snprintf(where, sizeof where, " in '%s'", in);
    if (!tab || !tab->name) {
        snprintf(buf, len, "unknown key '%s'%s (policy '%s' takes no parameters)", name, where,
                 policy);
        return;
    }
    const char *s = vm_param_suggest(tab, name);
    if (s) {
        snprintf(buf, len, "unknown key '%s'%s (did you mean '%s'?)", name, where, s);
        return;
    }
    size_t o = (size_t)snprintf(buf, len, "unknown key '%s'%s (policy '%s' takes: ", name, where,
                                policy);
    for (const struct vm_param *p = tab; p->name && o < len; p++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", p == tab ? "" : ", ", p->name);
    if (o < len)
        snprintf(buf + o, len - o, ")");
}

/* "a, b, c": the set's policies, hidden ones left out. */
static void known_policies(const struct sim_policy_set *set, char *buf, size_t len)
{
    struct sim_policy_info pi;
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; set->get(i, &pi) && o < len; i++)
        if (!pi.hidden)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", pi.name);
}

/* ------------------------------------------------------------ setters */

/* Set one vm_param row from a JSON value (config keys and policy params). */
static int set_value(struct sim_cfg_walk *w, const struct vm_param *p, const cJSON *v, void *obj)
{
    struct vm_diag d = { 0 };
    int rc;
    if (cJSON_IsNumber(v)) {
        rc = vm_param_set_number(p, obj, v->valuedouble, &d);
    } else if (cJSON_IsString(v)) {
        rc = vm_param_set_string(p, obj, v->valuestring, &d);
    } else if (cJSON_IsBool(v)) {
        rc = vm_param_set_bool(p, obj, cJSON_IsTrue(v), &d);
    } else {
        char exp[128], got[64];
        return sim_cfg_err(w, "expected %s, got %s", vm_param_expects(p, exp, sizeof exp),
                           sim_json_got(v, got, sizeof got));
    }
    if (rc)
        return sim_cfg_err(w, "%s", d.msg[0] ? d.msg : vm_strerror(rc));
    return 0;
}

int sim_cfg_set_param(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    return set_value(w, &k->p, v, obj);
}

int sim_cfg_set_skip(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    return 0;
}

int sim_cfg_set_str(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    char got[64];
    if (!cJSON_IsString(v))
        return sim_cfg_err(w, "expected string, got %s", sim_json_got(v, got, sizeof got));
    size_t n = strlen(v->valuestring);
    if (n >= k->len)
        return sim_cfg_err(w, "expected string of at most %zu characters, got %zu", k->len - 1,
                           n);
    memcpy((char *)obj + k->p.off, v->valuestring, n + 1);
    return 0;
}

int sim_cfg_set_text(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    char got[64];
    if (!cJSON_IsString(v))
        return sim_cfg_err(w, "expected string, got %s", sim_json_got(v, got, sizeof got));
    sim_cfg_copy_str((char *)obj + k->p.off, k->len, v->valuestring);
    return 0;
}

static bool all_chars(const char *s, const char *extra, bool upper_ok)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(islower(c) || isdigit(c) || (upper_ok && isupper(c)) || strchr(extra, c)))
            return false;
    }
    return true;
}

int sim_cfg_set_name(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    char got[64];
    if (cJSON_IsString(v) && !all_chars(v->valuestring, "_-", false))
        return sim_cfg_err(w, "expected name of characters a-z 0-9 _ -, got %s",
                           sim_json_got(v, got, sizeof got));
    return sim_cfg_set_str(w, k, v, obj);
}

/* Variant names, sweep labels, workload names: they make up record ids
 * ("variant/key=value") and CSV cells, so no '/', '=', ',' or spaces. */
int sim_cfg_set_label(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    char got[64];
    if (cJSON_IsString(v) && !all_chars(v->valuestring, "_-.+", true))
        return sim_cfg_err(w, "expected name of characters A-Z a-z 0-9 _ - . +, got %s",
                           sim_json_got(v, got, sizeof got));
    return sim_cfg_set_str(w, k, v, obj);
}

int sim_cfg_set_path(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    char got[64], joined[2 * SIM_PATH_MAX], abs_path[PATH_MAX];
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return sim_cfg_err(w, "expected file path, got %s", sim_json_got(v, got, sizeof got));
    const char *s = v->valuestring;
    if (s[0] == '/')
        snprintf(joined, sizeof joined, "%s", s);
    else
        snprintf(joined, sizeof joined, "%s/%s", w->dir, s);
    if (access(joined, R_OK) != 0 || !realpath(joined, abs_path)) {
        int e = errno;
        return sim_cfg_err_at(w, VM_ENOENT, w->path.text,
                              "expected a readable file, got \"%.300s\" (%s)", s, strerror(e));
    }
    struct stat st;
    if (stat(abs_path, &st) != 0 || !S_ISREG(st.st_mode))
        return sim_cfg_err(w, "expected a regular file, got \"%.300s\" (a %s)", s,
                           S_ISDIR(st.st_mode) ? "directory" : S_ISFIFO(st.st_mode) ? "FIFO"
                                                                                    : "special file");
    if (strlen(abs_path) >= k->len)
        return sim_cfg_err(w, "expected a path of at most %zu characters, got %zu", k->len - 1,
                           strlen(abs_path));
    snprintf((char *)obj + k->p.off, k->len, "%s", abs_path);
    return 0;
}

void sim_cfg_apply_defaults(const struct sim_key *tab, void *obj)
{
    for (const struct sim_key *k = tab; k->name; k++) {
        if (k->shape == SIM_KEY_OBJECT && (k->flags & SIM_KEY_DEFAULTS))
            sim_cfg_apply_defaults(k->sub, (char *)obj + k->p.off);
        if (k->set != sim_cfg_set_param || !k->p.def)
            continue;
        struct vm_diag d = { 0 };
        const struct vm_param row[2] = { k->p, { NULL } };
        int rc = vm_param_defaults(row, obj, &d);
        /* the defaults are the tables' own constants */
        assert(rc == 0 && "a default in a config key table does not parse");
        (void)rc;
    }
}

/* ------------------------------------------------------------ objects */

const char *sim_cfg_kind_name(const struct sim_key *const *kinds, int i, char *buf, size_t len)
{
    const struct sim_key *kr = kinds && kinds[0] ? sim_cfg_find_key(kinds[0], "kind") : NULL;
    const char *c = kr ? kr->p.choices : NULL;
    for (int j = 0; j < i && c; j++) {
        c = strchr(c, '|');
        c = c ? c + 1 : NULL;
    }
    if (c)
        snprintf(buf, len, "%.*s", (int)strcspn(c, "|"), c);
    else
        snprintf(buf, len, "?");
    return buf;
}

/* The first kind other than `kind` whose rows have key `name`, or -1. */
static int other_kind(const struct sim_key *const *kinds, int kind, const char *name)
{
    for (int k = 0; kinds && kinds[k]; k++)
        if (k != kind && sim_cfg_find_key(kinds[k], name))
            return k;
    return -1;
}

/* Rows of tabs[0..n) into objs[0..n); kinds: the kind tables when the
 * object is kinded (tabs[0] is kinds[kind]), for "key 'x' is for kind". */
static int walk_rows(struct sim_cfg_walk *w, const cJSON *v, const struct sim_key *const *tabs,
                     void *const *objs, int n, const struct sim_key *const *kinds, int kind,
                     bool report_unknown)
{
    char got[64];
    int before = w->nr_errs;
    if (!cJSON_IsObject(v))
        return sim_cfg_err(w, "expected object, got %s", sim_json_got(v, got, sizeof got));
    /* in the document's order, so problems come out as the user reads them */
    for (const cJSON *c = v->child; c; c = c->next) {
        bool dup = false;
        for (const cJSON *o = v->child; o != c && !dup; o = o->next)
            dup = strcmp(o->string, c->string) == 0;
        if (dup) {
            sim_cfg_err(w, "duplicate key '%s'", c->string);
            continue;
        }
        const struct sim_key *k = NULL;
        int t = 0;
        for (; t < n && !k; t++)
            k = sim_cfg_find_key(tabs[t], c->string);
        if (k) {
            size_t mark = sim_cfg_push_key(w, k->name);
            k->set(w, k, c, objs[t - 1]);
            sim_cfg_pop(w, mark);
            continue;
        }
        if (!report_unknown)
            continue;
        int other = other_kind(kinds, kind, c->string);
        if (other >= 0) {
            char a[SIM_NAME_MAX], b[SIM_NAME_MAX];
            sim_cfg_err(w, "key '%s' is for kind '%s', not '%s'", c->string,
                        sim_cfg_kind_name(kinds, other, b, sizeof b),
                        sim_cfg_kind_name(kinds, kind, a, sizeof a));
            continue;
        }
        char msg[256];
        sim_cfg_unknown_key_msg(tabs[0], n > 1 ? tabs[1] : NULL, c->string, NULL, msg,
                                sizeof msg);
        sim_cfg_err(w, "%s", msg);
    }
    for (int t = 0; t < n; t++)
        for (const struct sim_key *k = tabs[t]; k->name; k++)
            if ((k->flags & SIM_KEY_REQ) && !cJSON_GetObjectItemCaseSensitive(v, k->name))
                sim_cfg_err(w, "missing required key '%s'", k->name);
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

int sim_cfg_walk_tables(struct sim_cfg_walk *w, const cJSON *v, const struct sim_key *const *tabs,
                        void *const *objs, int n, bool report_unknown)
{
    return walk_rows(w, v, tabs, objs, n, NULL, -1, report_unknown);
}

int sim_cfg_walk_object(struct sim_cfg_walk *w, const cJSON *v, const struct sim_key *tab,
                        void *obj)
{
    return walk_rows(w, v, &tab, &obj, 1, NULL, -1, true);
}

int sim_cfg_walk_kind(struct sim_cfg_walk *w, const cJSON *v, const struct sim_key *const *kinds,
                      int kind, void *obj)
{
    return walk_rows(w, v, &kinds[kind], &obj, 1, kinds, kind, true);
}

int sim_cfg_set_object(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                       void *obj)
{
    return sim_cfg_walk_object(w, v, k->sub, (char *)obj + k->p.off);
}

int sim_cfg_set_costs(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                      void *costs, sim_cfg_costs_load load)
{
    char got[64];
    if (cJSON_IsString(v))
        return load(w, v, costs);
    if (!cJSON_IsObject(v))
        return sim_cfg_err(w, "expected object of costs or a costs file (vmsim calibrate -o), "
                           "got %s", sim_json_got(v, got, sizeof got));
    int rc = 0;
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(v, "file");
    if (file) {                         /* first, whatever its place: the keys given win */
        size_t mark = sim_cfg_push_key(w, "file");
        rc = load(w, file, costs);
        sim_cfg_pop(w, mark);
    }
    if (sim_cfg_walk_object(w, v, k->sub, costs) != 0)
        rc = VM_EINVAL;
    return rc;
}

/* ------------------------------------------------------------ policies */

/* A policy's parameters: defaults from its table, then the given keys. */
static int walk_policy_params(struct sim_cfg_walk *w, const char *policy,
                              const struct vm_param *tab, const cJSON *params, void *cfg)
{
    struct vm_diag d = { 0 };
    char got[64], msg[512];
    int before = w->nr_errs;
    if (tab && vm_param_defaults(tab, cfg, &d) != 0)
        return sim_cfg_err(w, "policy '%s' has a bad default: %s", policy, d.msg);
    if (!params)
        return 0;
    size_t mark = sim_cfg_push_key(w, "params");
    if (!cJSON_IsObject(params)) {
        sim_cfg_err(w, "expected object, got %s", sim_json_got(params, got, sizeof got));
        sim_cfg_pop(w, mark);
        return VM_EINVAL;
    }
    for (const cJSON *c = params->child; c; c = c->next) {
        bool dup = false;
        for (const cJSON *o = params->child; o != c; o = o->next)
            dup |= strcmp(o->string, c->string) == 0;
        if (dup) {
            sim_cfg_err(w, "duplicate key '%s'", c->string);
            continue;
        }
        const struct vm_param *p = tab ? vm_param_find(tab, c->string) : NULL;
        if (!p) {
            sim_cfg_param_unknown_msg(tab, policy, c->string, NULL, msg, sizeof msg);
            sim_cfg_err(w, "%s", msg);
            continue;
        }
        size_t m2 = sim_cfg_push_key(w, c->string);
        set_value(w, p, c, cfg);
        sim_cfg_pop(w, m2);
    }
    sim_cfg_pop(w, mark);
    return w->nr_errs == before ? 0 : VM_EINVAL;
}

int sim_cfg_resolve_policy(struct sim_cfg_walk *w, const struct sim_policy_set *set,
                           const char *name, const cJSON *params, void *cfg)
{
    struct sim_policy_info pi;
    /* the mechanism's sets were checked at registration; one built on the
     * fly must fit the run point's parameter struct too */
    assert(set->cfg_size <= SIM_POLICY_CFG_MAX && "a policy set's struct is too large");
    memset(cfg, 0, set->cfg_size);
    if (!sim_policy_find(set, name, &pi)) {
        char known[512];
        known_policies(set, known, sizeof known);
        size_t mark = sim_cfg_push_key(w, "policy");
        sim_cfg_err(w, "unknown policy '%s' (known: %s)", name, known);
        sim_cfg_pop(w, mark);
        return VM_EINVAL;
    }
    return walk_policy_params(w, name, pi.params, params, cfg);
}
