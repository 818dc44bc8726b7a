/*
 * vm_param.c - typed parameter tables: defaults, setters with range and
 * type checks, canonical text, and "did you mean" suggestions.
 *
 * Based on fio's fio_option rows and its fixup/validation pass.  Messages
 * say only what was expected and what was got ("expected integer 2..16,
 * got 1"); the config layer prefixes file and JSON path.  Errors:
 * VM_EINVAL for a wrong type or malformed text, VM_ERANGE for a well-formed
 * value outside the row's range.
 * Range convention: min == max == 0 means no range; max == 0 with min != 0
 * means "no upper bound".
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_param.h"
#include "vm_units.h"

#define U32_MAX_D 4294967295.0
#define U64_LIMIT_D 18446744073709551616.0      /* 2^64, first value too big */

const struct vm_param *vm_param_find(const struct vm_param *tab, const char *name)
{
    if (!tab || !name)
        return NULL;
    for (; tab->name; tab++)
        if (strcmp(tab->name, name) == 0)
            return tab;
    return NULL;
}

/* Levenshtein distance, stopping early once it cannot be <= cap. */
static size_t edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return cap + 1;        /* names are short; long strings never match */
    if ((la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t m = sub < del ? sub : del;
            cur[j] = m < ins ? m : ins;
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *vm_param_suggest(const struct vm_param *tab, const char *name)
{
    if (!tab || !name)
        return NULL;
    const char *best = NULL;
    size_t best_d = 4;
    for (; tab->name; tab++) {
        size_t dist = edit_distance(name, tab->name, 3);
        if (dist < best_d) {
            best_d = dist;
            best = tab->name;
        }
    }
    return best;
}

/* --- range ------------------------------------------------------------- */

static bool has_min(const struct vm_param *p) { return p->min != 0 || p->max != 0; }
static bool has_max(const struct vm_param *p) { return p->max != 0; }

static bool in_range(const struct vm_param *p, double v)
{
    if (has_min(p) && v < p->min)
        return false;
    if (has_max(p) && v > p->max)
        return false;
    return true;
}

/* Shortest text of v that reads back as v; integers below 2^53 in full
 * ("5000000000", not "5e+09"). */
static void fmt_double(double v, char *buf, size_t len)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, len, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
    snprintf(buf, len, "%.17g", v);
}

/* Canonical size text: the largest binary unit that divides exactly. */
static void canon_size(uint64_t v, char *buf, size_t len)
{
    static const struct { const char *name; unsigned shift; } u[] = {
        { "TiB", 40 }, { "GiB", 30 }, { "MiB", 20 }, { "KiB", 10 },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        uint64_t m = 1ull << u[i].shift;
        if (v >= m && v % m == 0) {
            snprintf(buf, len, "%" PRIu64 "%s", v >> u[i].shift, u[i].name);
            return;
        }
    }
    snprintf(buf, len, "%" PRIu64 "B", v);
}

/* Canonical time text: the largest of s/ms/us/ns that divides exactly. */
static void canon_time(uint64_t ns, char *buf, size_t len)
{
    static const struct { const char *name; uint64_t mult; } u[] = {
        { "s", VM_NS_PER_S }, { "ms", VM_NS_PER_MS }, { "us", VM_NS_PER_US },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        if (ns >= u[i].mult && ns % u[i].mult == 0) {
            snprintf(buf, len, "%" PRIu64 "%s", ns / u[i].mult, u[i].name);
            return;
        }
    snprintf(buf, len, "%" PRIu64 "ns", ns);
}

/* Canonical rate text: the largest decimal unit that reads back exactly. */
static void canon_rate(double v, char *buf, size_t len)
{
    static const struct { const char *name; double mult; } u[] = {
        { "TB", 1e12 }, { "GB", 1e9 }, { "MB", 1e6 }, { "kB", 1e3 },
    };
    char num[64];
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        if (v < u[i].mult)
            continue;
        fmt_double(v / u[i].mult, num, sizeof num);
        if (!strchr(num, 'e') && strtod(num, NULL) * u[i].mult == v) {
            snprintf(buf, len, "%s%s/s", num, u[i].name);
            return;
        }
    }
    fmt_double(v, num, sizeof num);
    snprintf(buf, len, "%sB/s", num);
}

/* Text of a bound of row p (value v) in the row's own notation. */
static void fmt_bound(const struct vm_param *p, double v, char *buf, size_t len)
{
    switch (p->type) {
    case VM_PARAM_SIZE:
        canon_size(v <= 0 ? 0 : (uint64_t)v, buf, len);
        break;
    case VM_PARAM_TIME:
        canon_time(v <= 0 ? 0 : (uint64_t)v, buf, len);
        break;
    case VM_PARAM_RATE:
        canon_rate(v, buf, len);
        break;
    default:
        fmt_double(v, buf, len);
        break;
    }
}

/* " 2..16", " >= 2", or "" */
static void fmt_range(const struct vm_param *p, char *buf, size_t len)
{
    char lo[64], hi[64];
    if (has_max(p)) {
        fmt_bound(p, p->min, lo, sizeof lo);
        fmt_bound(p, p->max, hi, sizeof hi);
        snprintf(buf, len, " %s..%s", lo, hi);
    } else if (has_min(p)) {
        fmt_bound(p, p->min, lo, sizeof lo);
        snprintf(buf, len, " >= %s", lo);
    } else {
        buf[0] = '\0';
    }
}

static const char *type_word(enum vm_param_type t)
{
    switch (t) {
    case VM_PARAM_U32:
    case VM_PARAM_U64:    return "integer";
    case VM_PARAM_DOUBLE: return "number";
    case VM_PARAM_BOOL:   return "boolean";
    case VM_PARAM_SIZE:   return "size";
    case VM_PARAM_TIME:   return "time";
    case VM_PARAM_RATE:   return "rate";
    case VM_PARAM_ENUM:   return "one of";
    case VM_PARAM_STRING: return "string";
    }
    return "value";
}

const char *vm_param_expects(const struct vm_param *p, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    if (p->type == VM_PARAM_ENUM) {
        snprintf(buf, len, "one of %s", p->choices ? p->choices : "");
        return buf;
    }
    if (p->type == VM_PARAM_BOOL || p->type == VM_PARAM_STRING) {
        snprintf(buf, len, "%s", type_word(p->type));
        return buf;
    }
    char range[160];
    fmt_range(p, range, sizeof range);
    if (!range[0] && p->type == VM_PARAM_U32)
        snprintf(range, sizeof range, " 0..4294967295");
    snprintf(buf, len, "%s%s", type_word(p->type), range);
    return buf;
}

/* "expected <what>, got <got>" with the row's expectation. */
static int fail(const struct vm_param *p, int code, const char *got, struct vm_diag *d)
{
    char what[256];
    vm_param_expects(p, what, sizeof what);
    return vm_diag_set(d, code, "expected %s, got %s", what, got);
}

/* Example text for unit parse errors: 'size like "8GiB"'. */
static int fail_unit(const struct vm_param *p, const char *got, struct vm_diag *d)
{
    const char *example = p->type == VM_PARAM_SIZE ? "8GiB"
                        : p->type == VM_PARAM_TIME ? "250us" : "1.2GB/s";
    return vm_diag_set(d, VM_EINVAL, "expected %s like \"%s\", got %s",
                       type_word(p->type), example, got);
}

static void store_u64(const struct vm_param *p, void *obj, uint64_t v)
{
    memcpy((char *)obj + p->off, &v, sizeof v);
}

static void store_double(const struct vm_param *p, void *obj, double v)
{
    memcpy((char *)obj + p->off, &v, sizeof v);
}

/* --- setters ----------------------------------------------------------- */

int vm_param_set_number(const struct vm_param *p, void *obj, double v, struct vm_diag *d)
{
    char got[64];
    fmt_double(v, got, sizeof got);
    switch (p->type) {
    case VM_PARAM_U32:
    case VM_PARAM_U64:
    case VM_PARAM_SIZE: {
        if (!isfinite(v) || v != floor(v))
            return fail(p, VM_EINVAL, got, d);
        double limit = p->type == VM_PARAM_U32 ? U32_MAX_D : U64_LIMIT_D;
        bool fits = v >= 0 && (p->type == VM_PARAM_U32 ? v <= limit : v < limit);
        if (!fits || !in_range(p, v))
            return fail(p, VM_ERANGE, got, d);
        if (p->type == VM_PARAM_U32) {
            uint32_t u = (uint32_t)v;
            memcpy((char *)obj + p->off, &u, sizeof u);
        } else {
            store_u64(p, obj, (uint64_t)v);
        }
        return 0;
    }
    case VM_PARAM_DOUBLE:
        if (!isfinite(v))
            return fail(p, VM_EINVAL, got, d);
        if (!in_range(p, v))
            return fail(p, VM_ERANGE, got, d);
        store_double(p, obj, v);
        return 0;
    case VM_PARAM_TIME:
    case VM_PARAM_RATE:
        return fail_unit(p, got, d);
    default:
        return fail(p, VM_EINVAL, "number", d);
    }
}

int vm_param_set_string(const struct vm_param *p, void *obj, const char *s, struct vm_diag *d)
{
    char got[160];
    snprintf(got, sizeof got, "\"%s\"", s ? s : "");
    if (!s)
        return fail(p, VM_EINVAL, "null", d);
    switch (p->type) {
    case VM_PARAM_SIZE:
    case VM_PARAM_TIME: {
        uint64_t v;
        int rc = p->type == VM_PARAM_SIZE ? vm_units_parse_size(s, &v)
                                          : vm_units_parse_time(s, &v);
        if (rc == VM_ERANGE && s[0] != '-') {      /* well-formed but beyond 64 bits */
            char what[256];
            vm_param_expects(p, what, sizeof what);
            return vm_diag_set(d, VM_ERANGE, "expected %s, got %s, which overflows 64 bits "
                               "(more than 2^64 - 1 %s)", what, got,
                               p->type == VM_PARAM_SIZE ? "bytes" : "ns");
        }
        if (rc)
            return fail_unit(p, got, d);
        if (!in_range(p, (double)v))
            return fail(p, VM_ERANGE, got, d);
        store_u64(p, obj, v);
        return 0;
    }
    case VM_PARAM_RATE: {
        double v;
        int rc = vm_units_parse_rate(s, &v);
        if (rc == VM_ERANGE && s[0] != '-') {
            char what[256];
            vm_param_expects(p, what, sizeof what);
            return vm_diag_set(d, VM_ERANGE, "expected %s, got %s, which overflows a double",
                               what, got);
        }
        if (rc)
            return fail_unit(p, got, d);
        if (!in_range(p, v))
            return fail(p, VM_ERANGE, got, d);
        store_double(p, obj, v);
        return 0;
    }
    case VM_PARAM_ENUM: {
        const char *c = p->choices ? p->choices : "";
        size_t n = strlen(s);
        for (int idx = 0;; idx++) {
            const char *bar = strchr(c, '|');
            size_t clen = bar ? (size_t)(bar - c) : strlen(c);
            if (clen == n && memcmp(c, s, n) == 0) {
                memcpy((char *)obj + p->off, &idx, sizeof idx);
                return 0;
            }
            if (!bar)
                break;
            c = bar + 1;
        }
        return fail(p, VM_EINVAL, got, d);
    }
    case VM_PARAM_STRING:
        memcpy((char *)obj + p->off, &s, sizeof s);
        return 0;
    default: {
        char what[200];
        snprintf(what, sizeof what, "string %s", got);
        return fail(p, VM_EINVAL, what, d);
    }
    }
}

int vm_param_set_bool(const struct vm_param *p, void *obj, bool v, struct vm_diag *d)
{
    if (p->type != VM_PARAM_BOOL)
        return fail(p, VM_EINVAL, "boolean", d);
    memcpy((char *)obj + p->off, &v, sizeof v);
    return 0;
}

/* Parse a plain decimal number for a default ("16", "0.5", "-1"). */
static int parse_default_number(const char *s, double *out)
{
    char *end;
    if (!s[0] || s[0] == ' ')
        return VM_EINVAL;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return VM_EINVAL;
    *out = v;
    return 0;
}

int vm_param_defaults(const struct vm_param *tab, void *obj, struct vm_diag *d)
{
    for (const struct vm_param *p = tab; p && p->name; p++) {
        if (!p->def)
            continue;
        struct vm_diag local;
        vm_diag_clear(&local);
        int rc;
        double v;
        switch (p->type) {
        case VM_PARAM_U32:
        case VM_PARAM_U64:
        case VM_PARAM_DOUBLE:
            rc = parse_default_number(p->def, &v);
            if (rc)
                rc = fail(p, rc, p->def, &local);
            else
                rc = vm_param_set_number(p, obj, v, &local);
            break;
        case VM_PARAM_BOOL:
            if (strcmp(p->def, "true") == 0)
                rc = vm_param_set_bool(p, obj, true, &local);
            else if (strcmp(p->def, "false") == 0)
                rc = vm_param_set_bool(p, obj, false, &local);
            else
                rc = fail(p, VM_EINVAL, p->def, &local);
            break;
        default:
            rc = vm_param_set_string(p, obj, p->def, &local);
            break;
        }
        if (rc)
            return vm_diag_set(d, rc, "default of '%s': %s", p->name, local.msg);
    }
    return 0;
}

const char *vm_param_format(const struct vm_param *p, const void *obj, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    const char *at = (const char *)obj + p->off;
    switch (p->type) {
    case VM_PARAM_U32: {
        uint32_t v;
        memcpy(&v, at, sizeof v);
        snprintf(buf, len, "%" PRIu32, v);
        break;
    }
    case VM_PARAM_U64: {
        uint64_t v;
        memcpy(&v, at, sizeof v);
        snprintf(buf, len, "%" PRIu64, v);
        break;
    }
    case VM_PARAM_SIZE:
    case VM_PARAM_TIME: {
        uint64_t v;
        memcpy(&v, at, sizeof v);
        if (p->type == VM_PARAM_SIZE)
            canon_size(v, buf, len);
        else
            canon_time(v, buf, len);
        break;
    }
    case VM_PARAM_DOUBLE: {
        double v;
        memcpy(&v, at, sizeof v);
        fmt_double(v, buf, len);
        break;
    }
    case VM_PARAM_RATE: {
        double v;
        memcpy(&v, at, sizeof v);
        canon_rate(v, buf, len);
        break;
    }
    case VM_PARAM_BOOL: {
        bool v;
        memcpy(&v, at, sizeof v);
        snprintf(buf, len, "%s", v ? "true" : "false");
        break;
    }
    case VM_PARAM_ENUM: {
        int idx;
        memcpy(&idx, at, sizeof idx);
        const char *c = p->choices ? p->choices : "";
        for (int i = 0; i < idx && c; i++) {
            c = strchr(c, '|');
            if (c)
                c++;
        }
        if (!c || idx < 0) {
            snprintf(buf, len, "?");
        } else {
            const char *bar = strchr(c, '|');
            int clen = bar ? (int)(bar - c) : (int)strlen(c);
            snprintf(buf, len, "%.*s", clen, c);
        }
        break;
    }
    case VM_PARAM_STRING: {
        const char *v;
        memcpy(&v, at, sizeof v);
        snprintf(buf, len, "%s", v ? v : "");
        break;
    }
    }
    return buf;
}
