/*
 * sim_trace_synth.c - `vmsim trace synth`: synthetic guest-virtual memory
 * traces in the vmsim pagetrace v1 format (sim_trace_synth.h).
 *
 * Based on: the simulator's synthetic generators (sim_workload.c: uniform,
 * Zipf with scattered ranks, sequential and strided scans), reused as they
 * are so a synthetic trace and a synthetic workload with the same seed see
 * the same pages; plus pointer chasing over a randomly permuted list, the
 * classic latency-bound pattern (lmbench's lat_mem_rd with a random list).
 * Records are written in the pagetrace text form with the formatting of
 * `vmsim trace reduce` (sim_trace_tools.c) and read back by sim_trace.c.
 *
 * Not modelled: the reduction window of recorded traces (each synthetic
 * record is one visit of one page, so a page revisited at once gives a
 * second record), stack accesses, phases.
 */
#include "sim_trace_synth.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "sim_tempfile.h"
#include "sim_workload.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (UINT64_C(1) << PAGE_SHIFT)
#define STRIDE_MAX (UINT64_C(1) << 32)     /* as the config's "stride" */
#define ZIPF_S_MAX 5.0                     /* as the config's "zipf_s" */
#define BATCH 4096                         /* records generated at a time */

/* rand stream ids of the chase list and its read/write draws (vm_rand.h);
 * the other patterns use sim_workload.c's own */
enum { STREAM_CHASE_LIST = 0x73796e01, STREAM_CHASE_OP = 0x73796e02 };

static const char *const pattern_names[SIM_TRACE_SYNTH_NR_PATTERNS] = {
    "sequential", "strided", "chase", "zipf", "uniform",
};

/* default count per pattern (sim_trace_synth.h) */
static const uint64_t default_count[SIM_TRACE_SYNTH_NR_PATTERNS] = { 512, 8, 8, 32, 32 };

static const char *const pattern_desc[SIM_TRACE_SYNTH_NR_PATTERNS] = {
    "a scan page after page over the region, wrapping at its end",
    "a scan stride pages apart, each pass starting one page further (every page visited)",
    "pointer chasing: a linked list with one node per page in a seeded random permutation"
    " of the region; each lap visits every page once in the list's order",
    "Zipf(s) popularity, rank 0 most popular, ranks scattered over the region by a seeded"
    " bijection",
    "pages drawn uniformly from the region",
};

const char *sim_trace_synth_pattern_name(enum sim_trace_synth_pattern p)
{
    return (unsigned)p < SIM_TRACE_SYNTH_NR_PATTERNS ? pattern_names[p] : NULL;
}

void sim_trace_synth_defaults(struct sim_trace_synth_cfg *c, enum sim_trace_synth_pattern p)
{
    memset(c, 0, sizeof(*c));
    c->pattern = p;
    c->base_addr = SIM_TRACE_SYNTH_BASE_ADDR;
    c->stride_pages = 16;
    c->zipf_s = 0.99;
    c->write_fraction = 0.2;
    c->count = (unsigned)p < SIM_TRACE_SYNTH_NR_PATTERNS ? default_count[p] : 1;
    c->seed = 1;
    c->code_every = 16;
}

int sim_trace_synth_check(const struct sim_trace_synth_cfg *c, struct vm_diag *d)
{
    if ((unsigned)c->pattern >= SIM_TRACE_SYNTH_NR_PATTERNS)
        return vm_diag_set(d, VM_EINVAL, "--pattern: expected sequential, strided, chase, zipf or uniform");
    if (c->nr_pages == 0)
        return vm_diag_set(d, VM_EINVAL, "--pages: expected a number of pages >= 1, got 0");
    if (c->nr_records == 0)
        return vm_diag_set(d, VM_EINVAL, "--records: expected a number of records >= 1, got 0");
    if (c->base_addr & (PAGE_SIZE - 1))
        return vm_diag_set(d, VM_EINVAL, "--base: expected a page-aligned (4 KiB) address, got 0x%" PRIx64,
                           c->base_addr);
    if (c->base_addr >= SIM_TRACE_SYNTH_VA_END)
        return vm_diag_set(d, VM_EINVAL,
                           "--base: expected a canonical lower-half address below 0x%" PRIx64
                           " (4-level paging), got 0x%" PRIx64, SIM_TRACE_SYNTH_VA_END, c->base_addr);
    uint64_t room = (SIM_TRACE_SYNTH_VA_END - c->base_addr) >> PAGE_SHIFT;
    if (c->nr_pages > room)
        return vm_diag_set(d, VM_EINVAL,
                           "--pages: expected at most %" PRIu64 " pages from base 0x%" PRIx64
                           " (the canonical lower half ends at 0x%" PRIx64 "), got %" PRIu64,
                           room, c->base_addr, SIM_TRACE_SYNTH_VA_END, c->nr_pages);
    if (c->pattern == SIM_TRACE_SYNTH_STRIDED && (c->stride_pages == 0 || c->stride_pages > STRIDE_MAX))
        return vm_diag_set(d, VM_EINVAL, "--stride: expected 1..%" PRIu64 " pages, got %" PRIu64,
                           STRIDE_MAX, c->stride_pages);
    if (c->pattern == SIM_TRACE_SYNTH_ZIPF && !(c->zipf_s > 0 && c->zipf_s <= ZIPF_S_MAX))
        return vm_diag_set(d, VM_EINVAL, "--zipf-s: expected a number in (0, 5], got %g", c->zipf_s);
    if (!(c->write_fraction >= 0 && c->write_fraction <= 1))
        return vm_diag_set(d, VM_EINVAL, "--write-fraction: expected a number in 0..1, got %g",
                           c->write_fraction);
    uint64_t total;
    if (c->count == 0)
        return vm_diag_set(d, VM_EINVAL, "--count: expected a number of accesses >= 1, got 0");
    if (__builtin_mul_overflow(c->count, c->nr_records, &total))
        return vm_diag_set(d, VM_EINVAL,
                           "--count: expected records x count to fit in 64 bits, got %" PRIu64
                           " x %" PRIu64, c->nr_records, c->count);
    if (c->nr_code_pages) {
        if (c->code_every == 0)
            return vm_diag_set(d, VM_EINVAL, "--code-every: expected a number of records >= 1, got 0");
        /* [CODE_ADDR, code_end) and [base, data_end) must not meet */
        uint64_t data_end = c->base_addr + c->nr_pages * PAGE_SIZE;
        bool fits = c->nr_code_pages <= (SIM_TRACE_SYNTH_VA_END - SIM_TRACE_SYNTH_CODE_ADDR) / PAGE_SIZE;
        uint64_t code_end = fits ? SIM_TRACE_SYNTH_CODE_ADDR + c->nr_code_pages * PAGE_SIZE : 0;
        if (!fits || (code_end > c->base_addr && data_end > SIM_TRACE_SYNTH_CODE_ADDR))
            return vm_diag_set(d, VM_EINVAL,
                               "--code-pages: expected a code region (from 0x%" PRIx64
                               ") that does not overlap the data region 0x%" PRIx64 "..0x%" PRIx64
                               ", got %" PRIu64 " pages", SIM_TRACE_SYNTH_CODE_ADDR,
                               c->base_addr, data_end, c->nr_code_pages);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* generation */

struct synth {
    const struct sim_trace_synth_cfg *c;
    struct sim_gen *gen;            /* sequential, strided, zipf, uniform */
    uint64_t *list;                 /* chase: the region's pages in list order */
    uint64_t list_pos;
    struct vm_rand op_rng;          /* chase */
    struct sim_access buf[BATCH];   /* sim_gen output */
    size_t buf_n, buf_i;
    uint64_t since_code;            /* data records since the last X record */
    uint64_t code_next;             /* the next code page's index */
    bool started;
};

static int synth_init(struct synth *s, const struct sim_trace_synth_cfg *c, struct vm_diag *d)
{
    memset(s, 0, sizeof(*s));
    s->c = c;
    if (c->pattern == SIM_TRACE_SYNTH_CHASE) {
        if (c->nr_pages > SIZE_MAX / sizeof(uint64_t) ||
            !(s->list = malloc((size_t)c->nr_pages * sizeof(uint64_t))))
            return vm_diag_set(d, VM_ENOMEM, "--pages: out of memory for a chase list of %" PRIu64
                               " pages (8 bytes a page)", c->nr_pages);
        struct vm_rand r;
        vm_rand_init(&r, c->seed, STREAM_CHASE_LIST);
        for (uint64_t i = 0; i < c->nr_pages; i++)
            s->list[i] = i;
        /* Fisher-Yates: a uniformly random order, the list's head included */
        for (uint64_t i = c->nr_pages - 1; i > 0; i--) {
            uint64_t j = vm_rand_below(&r, i + 1), t = s->list[i];
            s->list[i] = s->list[j];
            s->list[j] = t;
        }
        vm_rand_init(&s->op_rng, c->seed, STREAM_CHASE_OP);
        return 0;
    }
    static const enum sim_pattern to_sim[SIM_TRACE_SYNTH_NR_PATTERNS] = {
        [SIM_TRACE_SYNTH_SEQUENTIAL] = SIM_PAT_SEQUENTIAL,
        [SIM_TRACE_SYNTH_STRIDED] = SIM_PAT_STRIDED,
        [SIM_TRACE_SYNTH_ZIPF] = SIM_PAT_ZIPF,
        [SIM_TRACE_SYNTH_UNIFORM] = SIM_PAT_UNIFORM,
    };
    struct sim_exp_workload w;
    memset(&w, 0, sizeof(w));
    snprintf(w.name, sizeof(w.name), "synth-%s", pattern_names[c->pattern]);
    w.pattern = to_sim[c->pattern];
    w.footprint_bytes = 0;          /* the whole "VM": nr_pages below */
    w.zipf_s = c->zipf_s;
    w.stride_pages = c->stride_pages;
    w.write_fraction = c->write_fraction;
    return sim_gen_new(&w, c->nr_pages, c->seed, &s->gen, d);
}

static void synth_free(struct synth *s)
{
    if (s->gen)
        sim_gen_free(s->gen);
    free(s->list);
}

/* The next record: op and virtual page number. */
static void synth_next(struct synth *s, uint8_t *op, uint64_t *vpn)
{
    const struct sim_trace_synth_cfg *c = s->c;
    if (c->nr_code_pages && (!s->started || s->since_code == c->code_every)) {
        s->started = true;
        s->since_code = 0;
        *op = SIM_OP_EXEC;
        *vpn = (SIM_TRACE_SYNTH_CODE_ADDR >> PAGE_SHIFT) + s->code_next;
        s->code_next = s->code_next + 1 == c->nr_code_pages ? 0 : s->code_next + 1;
        return;
    }
    s->started = true;
    s->since_code++;
    uint64_t page;
    if (s->list) {
        page = s->list[s->list_pos];
        s->list_pos = s->list_pos + 1 == c->nr_pages ? 0 : s->list_pos + 1;
        *op = vm_rand_double(&s->op_rng) < c->write_fraction ? SIM_OP_WRITE : SIM_OP_READ;
    } else {
        if (s->buf_i == s->buf_n) {
            s->buf_n = sim_gen_fill(s->gen, s->buf, BATCH);
            s->buf_i = 0;
        }
        page = sim_access_page(&s->buf[s->buf_i]);
        *op = sim_access_op(&s->buf[s->buf_i]);
        s->buf_i++;
    }
    *vpn = (c->base_addr >> PAGE_SHIFT) + page;
}

/* ------------------------------------------------------------------ */
/* output */

struct out {
    gzFile gz;
    char buf[1 << 16];
    size_t n;
    bool err;
};

static void out_flush(struct out *o)
{
    if (o->n && gzwrite(o->gz, o->buf, (unsigned)o->n) != (int)o->n)
        o->err = true;
    o->n = 0;
}

static void out_str(struct out *o, const char *s)
{
    size_t l = strlen(s);
    if (o->n + l > sizeof(o->buf))
        out_flush(o);
    if (l > sizeof(o->buf)) {
        o->err = true;      /* header lines are far shorter */
        return;
    }
    memcpy(o->buf + o->n, s, l);
    o->n += l;
}

static void out_rec(struct out *o, uint8_t op, uint64_t page, uint64_t count)
{
    if (o->n > sizeof(o->buf) - 64)
        out_flush(o);
    char *p = o->buf + o->n, tmp[24];
    int k = 0;
    *p++ = (char)op;
    *p++ = ' ';
    do {
        tmp[k++] = "0123456789abcdef"[page & 15];
        page >>= 4;
    } while (page);
    while (k)
        *p++ = tmp[--k];
    *p++ = ' ';
    do {
        tmp[k++] = (char)('0' + count % 10);
        count /= 10;
    } while (count);
    while (k)
        *p++ = tmp[--k];
    *p++ = '\n';
    o->n = (size_t)(p - o->buf);
}

/* The shortest "%g" form that reads back as the same double. */
static void fmt_double(char *buf, size_t len, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* The options that generate c's trace again, every parameter spelled out. */
static void command_line(const struct sim_trace_synth_cfg *c, char *buf, size_t len)
{
    char wf[32], zs[32], extra[96] = "", code[96] = "";
    fmt_double(wf, sizeof(wf), c->write_fraction);
    fmt_double(zs, sizeof(zs), c->zipf_s);
    if (c->pattern == SIM_TRACE_SYNTH_STRIDED)
        snprintf(extra, sizeof(extra), " --stride %" PRIu64, c->stride_pages);
    else if (c->pattern == SIM_TRACE_SYNTH_ZIPF)
        snprintf(extra, sizeof(extra), " --zipf-s %s", zs);
    if (c->nr_code_pages)
        snprintf(code, sizeof(code), " --code-pages %" PRIu64 " --code-every %" PRIu64,
                 c->nr_code_pages, c->code_every);
    snprintf(buf, len,
             "vmsim trace synth --pattern %s --pages %" PRIu64 " --records %" PRIu64
             " --base 0x%" PRIx64 "%s --write-fraction %s --count %" PRIu64 " --seed %" PRIu64 "%s",
             pattern_names[c->pattern], c->nr_pages, c->nr_records, c->base_addr, extra, wf,
             c->count, c->seed, code);
}

static void write_trace(struct out *o, struct synth *s)
{
    const struct sim_trace_synth_cfg *c = s->c;
    char line[1024], cmd[512];
    command_line(c, cmd, sizeof(cmd));
    out_str(o, "# vmsim pagetrace v1 page_size=4096 program=synthetic\n");
    snprintf(line, sizeof(line), "# trace=synthetic-%s\n", pattern_names[c->pattern]);
    out_str(o, line);
    out_str(o, "# synthetic: generated, not recorded from a program; every parameter is on the"
               " command line below and the same command gives the same bytes\n");
    snprintf(line, sizeof(line), "# command=%s\n", cmd);
    out_str(o, line);
    snprintf(line, sizeof(line), "# pattern=%s: %s\n", pattern_names[c->pattern],
             pattern_desc[c->pattern]);
    out_str(o, line);
    snprintf(line, sizeof(line),
             "# data region 0x%" PRIx64 "..0x%" PRIx64 " (%" PRIu64 " pages); %s\n", c->base_addr,
             c->base_addr + c->nr_pages * PAGE_SIZE, c->nr_pages,
             c->nr_code_pages ? "X records on a code region from 0x400000 after every code-every data records"
                              : "no X records");
    out_str(o, line);
    out_str(o, "# records: op page_hex count ; a record stands for count accesses to its page\n");
    for (uint64_t i = 0; i < c->nr_records && !o->err; i++) {
        uint8_t op;
        uint64_t vpn;
        synth_next(s, &op, &vpn);
        out_rec(o, op, vpn, c->count);
    }
    snprintf(line, sizeof(line), "# total_accesses=%" PRIu64 " records=%" PRIu64 " truncated=no\n",
             c->count * c->nr_records, c->nr_records);
    out_str(o, line);
    out_flush(o);
}

int sim_trace_synth_write(const struct sim_trace_synth_cfg *c, const char *path,
                          struct vm_diag *d)
{
    int rc = sim_trace_synth_check(c, d);
    if (rc)
        return rc;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return vm_diag_set(d, VM_EINVAL, "-o: expected a file name, got a directory: '%s'", path);
    char tmp[SIM_TEMPFILE_PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
        return vm_diag_set(d, VM_EINVAL, "-o: expected a shorter path, got '%s'", path);

    struct synth *s = malloc(sizeof(*s));
    struct out *o = calloc(1, sizeof(*o));
    if (!s || !o) {
        free(s);
        free(o);
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    }
    rc = synth_init(s, c, d);
    if (rc) {
        synth_free(s);
        free(s);
        free(o);
        return rc;
    }
    int fd = sim_tempfile_mkstemp(tmp);     /* unlinked if we are killed */
    if (fd < 0) {
        rc = vm_diag_set(d, VM_EIO, "-o: cannot create '%s': %s", path, strerror(errno));
        goto out;
    }
    mode_t um = umask(0);
    umask(um);
    size_t pl = strlen(path);
    bool gz = pl > 3 && strcmp(path + pl - 3, ".gz") == 0;
    if (fchmod(fd, 0644 & ~um) != 0 || !(o->gz = gzdopen(fd, gz ? "wb9" : "wT"))) {
        rc = vm_diag_set(d, VM_EIO, "-o: cannot create '%s': %s", path, strerror(errno));
        close(fd);
        goto out;
    }
    write_trace(o, s);
    int zrc = gzclose(o->gz);
    if (o->err || zrc != Z_OK)
        rc = vm_diag_set(d, VM_EIO, "-o: '%s': write error", path);
    else if (rename(tmp, path) != 0)
        rc = vm_diag_set(d, VM_EIO, "-o: cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
out:
    if (fd >= 0) {
        if (rc)
            unlink(tmp);
        sim_tempfile_unregister(tmp);
    }
    synth_free(s);
    free(s);
    free(o);
    return rc;
}

/* ------------------------------------------------------------------ */
/* command line */

static int bad(const char *fmt, const char *opt, const char *arg)
{
    fprintf(stderr, "vmsim: trace synth: ");
    fprintf(stderr, fmt, opt, arg);
    fputc('\n', stderr);
    return 2;
}

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: vmsim trace synth --pattern sequential|strided|chase|zipf|uniform --pages N\n"
            "                         -o OUT.pagetrace[.gz] [--records M] [--base ADDR]\n"
            "                         [--stride S] [--zipf-s X] [--write-fraction W] [--count C]\n"
            "                         [--seed N] [--code-pages K] [--code-every R]\n"
            "\n"
            "  a synthetic pagetrace over N 4 KiB pages from ADDR (default 0x7f0000000000):\n"
            "  M records (default N), each C raw accesses (default: sequential 512, strided\n"
            "  and chase 8, zipf and uniform 32), a write with probability W (default 0.2);\n"
            "  stride S pages (strided, default 16), Zipf exponent X (zipf, default 0.99);\n"
            "  K code pages from 0x400000 fetched (X) after every R data records (default\n"
            "  0 pages, R 16); seed N (default 1).  gzip when OUT ends in .gz\n");
    return status;
}

/* Unsigned decimal integer >= min. */
static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t *out)
{
    uint64_t v;
    int rc = vm_units_parse_u64(s, &v);
    if (rc || v < min) {
        char what[96];
        snprintf(what, sizeof(what), "%%s: expected an integer >= %" PRIu64 "%s, got '%%s'", min,
                 rc == VM_ERANGE && s[0] != '-' ? " that fits in 64 bits" : "");
        return bad(what, opt, s);
    }
    *out = v;
    return 0;
}

/* Address: 0x hex or decimal, no sign. */
static int parse_addr(const char *opt, const char *s, uint64_t *out)
{
    const char *p = s;
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        base = 16;
    }
    bool digit = base == 16 ? (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                                  (*p >= 'A' && *p <= 'F')
                            : *p >= '0' && *p <= '9';
    char *end = (char *)p;
    errno = 0;
    unsigned long long v = digit ? strtoull(p, &end, base) : 0;
    if (!digit || *end || errno == ERANGE)
        return bad("%s: expected an address such as 0x7f0000000000, got '%s'", opt, s);
    *out = (uint64_t)v;
    return 0;
}

static int parse_double(const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        return bad("%s: expected a number, got '%s'", opt, s);
    *out = v;
    return 0;
}

int sim_trace_synth_main(int argc, char **argv)
{
    const char *out = NULL, *pattern = NULL;
    const char *pages = NULL, *records = NULL, *base = NULL, *stride = NULL, *zipf_s = NULL;
    const char *wf = NULL, *count = NULL, *seed = NULL, *code_pages = NULL, *code_every = NULL;
    struct { const char *name; const char **val; } opts[] = {
        { "-o", &out }, { "--pattern", &pattern }, { "--pages", &pages },
        { "--records", &records }, { "--base", &base }, { "--stride", &stride },
        { "--zipf-s", &zipf_s }, { "--write-fraction", &wf }, { "--count", &count },
        { "--seed", &seed }, { "--code-pages", &code_pages }, { "--code-every", &code_every },
    };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return usage(stdout, 0);
        size_t k = 0;
        while (k < sizeof(opts) / sizeof(opts[0]) && strcmp(argv[i], opts[k].name) != 0)
            k++;
        if (k == sizeof(opts) / sizeof(opts[0]))
            return bad("%s '%s' (see 'vmsim trace synth --help')",
                       argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
        if (i + 1 >= argc)
            return bad("%s: expected a value, got nothing%s", argv[i], "");
        *opts[k].val = argv[++i];
    }
    if (!pattern)
        return bad("%s: expected sequential, strided, chase, zipf or uniform, got nothing%s",
                   "--pattern", "");
    int p = 0;
    while (p < SIM_TRACE_SYNTH_NR_PATTERNS && strcmp(pattern, pattern_names[p]) != 0)
        p++;
    if (p == SIM_TRACE_SYNTH_NR_PATTERNS)
        return bad("%s: expected sequential, strided, chase, zipf or uniform, got '%s'", "--pattern",
                   pattern);
    if (stride && p != SIM_TRACE_SYNTH_STRIDED)
        return bad("%s: expected only with --pattern strided, got --pattern %s", "--stride", pattern);
    if (zipf_s && p != SIM_TRACE_SYNTH_ZIPF)
        return bad("%s: expected only with --pattern zipf, got --pattern %s", "--zipf-s", pattern);
    if (code_every && !code_pages)
        return bad("%s: expected only with --code-pages, got it alone%s", "--code-every", "");
    if (!pages)
        return bad("%s: expected a number of pages >= 1, got nothing%s", "--pages", "");
    if (!out)
        return bad("%s: expected an output file (OUT.pagetrace.gz), got nothing%s", "-o", "");
    if (!*out)
        return bad("%s: expected an output file (OUT.pagetrace.gz), got '%s'", "-o", out);

    struct sim_trace_synth_cfg c;
    sim_trace_synth_defaults(&c, (enum sim_trace_synth_pattern)p);
    if (parse_u64("--pages", pages, 1, &c.nr_pages))
        return 2;
    c.nr_records = c.nr_pages;
    if ((records && parse_u64("--records", records, 1, &c.nr_records)) ||
        (base && parse_addr("--base", base, &c.base_addr)) ||
        (stride && parse_u64("--stride", stride, 1, &c.stride_pages)) ||
        (zipf_s && parse_double("--zipf-s", zipf_s, &c.zipf_s)) ||
        (wf && parse_double("--write-fraction", wf, &c.write_fraction)) ||
        (count && parse_u64("--count", count, 1, &c.count)) ||
        (seed && parse_u64("--seed", seed, 0, &c.seed)) ||
        (code_pages && parse_u64("--code-pages", code_pages, 0, &c.nr_code_pages)) ||
        (code_every && parse_u64("--code-every", code_every, 1, &c.code_every)))
        return 2;

    struct vm_diag d;
    vm_diag_clear(&d);
    if (sim_trace_synth_write(&c, out, &d) != 0) {
        fprintf(stderr, "vmsim: trace synth: %s\n", d.msg);
        return 2;
    }
    printf("%s: %s over %" PRIu64 " pages (%.1f MiB) from 0x%" PRIx64 ", %" PRIu64
           " records, %" PRIu64 " accesses\n",
           out, pattern_names[p], c.nr_pages, (double)c.nr_pages * PAGE_SIZE / (1024.0 * 1024.0),
           c.base_addr, c.nr_records, c.count * c.nr_records);
    return 0;
}
