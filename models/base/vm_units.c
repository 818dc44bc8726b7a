/*
 * vm_units.c - sizes, times and rates with units, parsed exactly.
 *
 * Numbers are read by hand (digits, optional '.' and digits), never with
 * strtod: no locale, no exponents, no "inf"/"nan", no hex, and a decimal
 * such as "1.5MB" or "0.5KiB" is converted exactly in integer arithmetic.
 * Sizes and times must come out as a whole number of bytes or nanoseconds
 * ("1.5B" is rejected).  One optional space may separate number and unit.
 * Errors: VM_EINVAL for malformed text (empty, no digits, unknown or
 * missing unit, trailing characters, a fractional byte or nanosecond),
 * VM_ERANGE for a negative value or one that does not fit in 64 bits.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vm_err.h"
#include "vm_units.h"

typedef unsigned __int128 u128;

/* Fraction digits kept after trailing zeros are dropped (10^18 < 2^60). */
#define MAX_FRAC_DIGITS 18

struct num {
    uint64_t ipart;           /* integer part */
    uint64_t frac;            /* fraction digits as an integer */
    uint64_t frac_den;        /* 10^(number of fraction digits) */
};

struct unit {
    const char *name;
    uint64_t mult;
};

static const struct unit size_units[] = {
    { "B", 1 },
    { "KiB", 1ull << 10 }, { "MiB", 1ull << 20 }, { "GiB", 1ull << 30 },
    { "TiB", 1ull << 40 },
    { "kB", 1000ull }, { "KB", 1000ull }, { "MB", 1000000ull },
    { "GB", 1000000000ull }, { "TB", 1000000000000ull },
    { NULL, 0 }
};

static const struct unit time_units[] = {
    { "ns", 1 }, { "us", VM_NS_PER_US }, { "\xc2\xb5s", VM_NS_PER_US },
    { "ms", VM_NS_PER_MS }, { "s", VM_NS_PER_S }, { "min", 60 * VM_NS_PER_S },
    { NULL, 0 }
};

/*
 * Read "digits[.digits]" at *pp.  On success advance *pp past it and
 * return 0.  A leading '-' followed by a number is VM_ERANGE (negative).
 */
static int parse_num(const char **pp, struct num *n)
{
    const char *p = *pp;
    if (*p == '-' && ((p[1] >= '0' && p[1] <= '9') || p[1] == '.'))
        return VM_ERANGE;
    bool overflow = false;
    if (!(*p >= '0' && *p <= '9'))
        return VM_EINVAL;              /* a digit first: no ".5", "+1", "inf" */
    n->ipart = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(n->ipart, 10, &n->ipart)
            || __builtin_add_overflow(n->ipart, (uint64_t)(*p - '0'), &n->ipart))
            overflow = true;
    }
    n->frac = 0;
    n->frac_den = 1;
    if (*p == '.') {
        p++;
        const char *fs = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == fs)
            return VM_EINVAL;          /* "1." */
        const char *fe = p;
        while (fe > fs && fe[-1] == '0')
            fe--;                      /* trailing zeros carry nothing */
        if (fe - fs > MAX_FRAC_DIGITS)
            return VM_EINVAL;          /* more precision than any unit can use */
        for (const char *q = fs; q < fe; q++) {
            n->frac = n->frac * 10 + (uint64_t)(*q - '0');
            n->frac_den *= 10;
        }
    }
    if (overflow)
        return VM_ERANGE;
    *pp = p;
    return 0;
}

/* Match the unit that spells exactly `s`; NULL if none. */
static const struct unit *find_unit(const struct unit *tab, const char *s, size_t len)
{
    for (; tab->name; tab++)
        if (strlen(tab->name) == len && memcmp(tab->name, s, len) == 0)
            return tab;
    return NULL;
}

/* n * mult as an exact integer: VM_EINVAL if fractional, VM_ERANGE if > 2^64-1. */
static int scale_exact(const struct num *n, uint64_t mult, uint64_t *out)
{
    u128 whole = (u128)n->ipart * mult;
    u128 fr = (u128)n->frac * mult;
    if (fr % n->frac_den != 0)
        return VM_EINVAL;
    whole += fr / n->frac_den;
    if (whole > UINT64_MAX)
        return VM_ERANGE;
    *out = (uint64_t)whole;
    return 0;
}

static const char *skip_one_space(const char *p)
{
    return *p == ' ' ? p + 1 : p;
}

/*
 * Number + unit from `tab`.  `unit_len` limits how much of the rest is the
 * unit (rates strip their "/s").  A missing unit uses `bare_mult` when it
 * is non-zero, else it is an error.
 */
static int parse_with_unit(const char *s, size_t len, const struct unit *tab,
                           uint64_t bare_mult, struct num *n, uint64_t *mult)
{
    const char *p = s, *end = s + len;
    int rc = parse_num(&p, n);
    if (rc)
        return rc;
    if (p > end)
        return VM_EINVAL;
    if (p == end) {
        if (!bare_mult)
            return VM_EINVAL;
        *mult = bare_mult;
        return 0;
    }
    const char *u = skip_one_space(p);
    if (u == end)
        return VM_EINVAL;              /* "8 " */
    const struct unit *unit = find_unit(tab, u, (size_t)(end - u));
    if (!unit)
        return VM_EINVAL;
    *mult = unit->mult;
    return 0;
}

int vm_units_parse_size(const char *s, uint64_t *out_bytes)
{
    if (!s)
        return VM_EINVAL;
    struct num n;
    uint64_t mult, v;
    int rc = parse_with_unit(s, strlen(s), size_units, 1, &n, &mult);
    if (rc == 0)
        rc = scale_exact(&n, mult, &v);
    if (rc == 0)
        *out_bytes = v;
    return rc;
}

int vm_units_parse_time(const char *s, uint64_t *out_ns)
{
    if (!s)
        return VM_EINVAL;
    struct num n;
    uint64_t mult, v;
    int rc = parse_with_unit(s, strlen(s), time_units, 0, &n, &mult);
    if (rc == 0)
        rc = scale_exact(&n, mult, &v);
    if (rc == 0)
        *out_ns = v;
    return rc;
}

int vm_units_parse_rate(const char *s, double *out_bytes_per_s)
{
    if (!s)
        return VM_EINVAL;
    size_t len = strlen(s);
    size_t size_len;
    if (len >= 2 && strcmp(s + len - 2, "/s") == 0)
        size_len = len - 2;
    else if (len >= 2 && strcmp(s + len - 2, "ps") == 0)
        size_len = len - 2;
    else
        return VM_EINVAL;              /* a rate needs its "/s" */
    struct num n;
    uint64_t mult;
    int rc = parse_with_unit(s, size_len, size_units, 1, &n, &mult);
    if (rc)
        return rc;
    double v = (double)n.ipart * (double)mult
             + (double)n.frac * (double)mult / (double)n.frac_den;
    *out_bytes_per_s = v;
    return 0;
}

int vm_units_parse_u64(const char *s, uint64_t *out)
{
    if (!s)
        return VM_EINVAL;
    const char *p = s;
    if (*p == '-' && p[1] >= '0' && p[1] <= '9')
        return VM_ERANGE;
    if (!(*p >= '0' && *p <= '9'))
        return VM_EINVAL;
    uint64_t v = 0;
    bool overflow = false;
    for (; *p >= '0' && *p <= '9'; p++)
        if (__builtin_mul_overflow(v, 10, &v)
            || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
            overflow = true;
    if (*p)
        return VM_EINVAL;
    if (overflow)
        return VM_ERANGE;
    *out = v;
    return 0;
}

/* "<v/div> <unit>" with up to two decimals, trailing zeros dropped. */
static void fmt_scaled(char *buf, size_t len, uint64_t v, uint64_t div, const char *unit)
{
    if (div == 1) {
        snprintf(buf, len, "%" PRIu64 " %s", v, unit);
        return;
    }
    char num[48];
    snprintf(num, sizeof num, "%.2f", (double)v / (double)div);
    char *dot = strchr(num, '.');
    if (dot) {
        char *e = num + strlen(num);
        while (e > dot + 1 && e[-1] == '0')
            *--e = '\0';
        if (e == dot + 1)
            *dot = '\0';
    }
    snprintf(buf, len, "%s %s", num, unit);
}

const char *vm_units_fmt_size(uint64_t bytes, char *buf, size_t len)
{
    static const struct unit fmt[] = {
        { "TiB", 1ull << 40 }, { "GiB", 1ull << 30 }, { "MiB", 1ull << 20 },
        { "KiB", 1ull << 10 }, { "B", 1 },
    };
    if (!buf || len == 0)
        return buf;
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++)
        if (bytes >= fmt[i].mult || fmt[i].mult == 1) {
            fmt_scaled(buf, len, bytes, fmt[i].mult, fmt[i].name);
            break;
        }
    return buf;
}

const char *vm_units_fmt_time(uint64_t ns, char *buf, size_t len)
{
    static const struct unit fmt[] = {
        { "min", 60 * VM_NS_PER_S }, { "s", VM_NS_PER_S }, { "ms", VM_NS_PER_MS },
        { "us", VM_NS_PER_US }, { "ns", 1 },
    };
    if (!buf || len == 0)
        return buf;
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++)
        if (ns >= fmt[i].mult || fmt[i].mult == 1) {
            fmt_scaled(buf, len, ns, fmt[i].mult, fmt[i].name);
            break;
        }
    return buf;
}
