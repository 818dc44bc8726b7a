/*
 * sim_trace.c - memory trace readers (vmsim pagetrace v1 and raw Valgrind
 * lackey text, gzip or plain): the one parse that `vmsim trace`, config
 * validation and the binary cache (sim_trace_cache.c) build on
 * (sim_trace.h; formats in workloads/traces/README.md).
 *
 * Reading follows the measurement in the design notes: zlib gzread of
 * 4 MiB blocks (gzbuffer 1 MiB) into one buffer and a hand-written line
 * parser (memchr for line ends, table lookups for hex digits) is about
 * 2.5x faster than gzgets + sscanf.  Lackey lines go through the reduction
 * state machine (sim_trace_reduce.c), so a lackey file and the pagetrace
 * reduced from it give the same records.
 *
 * Distinct pages are counted by sorting (radix) batches of (page, op)
 * keys and merging them into one sorted unique array: memory is bounded
 * by the distinct pages, not by the trace length.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sim_gz.h"
#include "sim_trace.h"

#define READ_CHUNK (4u << 20)           /* bytes per gzread */
#define BUF_BYTES (2 * READ_CHUNK)      /* a line may be up to READ_CHUNK long */
#define GZ_BUFFER (1u << 20)
#define OUT_BATCH 4096                  /* records handed to the callback at once */
#define PAGE_MAX_DIGITS 13              /* pages are addresses >> 12: < 2^52 */
#define COUNT_MAX_DIGITS 19             /* < 10^19 fits in 64 bits */

static const char PT_HEADER[] = "# vmsim pagetrace v1 page_size=4096 program=";
static const char PT_TRAILER[] = "# total_accesses=";

/* hex digit value + 1, 0 for anything else: lowercase only (pagetrace) */
#define HEX_DIGITS_LOWER                                                        \
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, \
    ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13,        \
    ['d'] = 14, ['e'] = 15, ['f'] = 16
static const uint8_t hex_lower[256] = { HEX_DIGITS_LOWER };
/* and with uppercase (lackey prints lowercase; accept both) */
static const uint8_t hex_any[256] = {
    HEX_DIGITS_LOWER, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};

static int op_index(uint8_t op)
{
    return op == 'X' ? SIM_TRACE_OP_X : op == 'R' ? SIM_TRACE_OP_R : SIM_TRACE_OP_W;
}

/* ------------------------------------------------------------------ */
/* distinct (page, op) keys: sorted batches merged into a unique array */

#define KEYSET_BATCH (1u << 18)

#define RADIX_BITS 11
#define RADIX_BUCKETS (1u << RADIX_BITS)
#define RADIX_PASSES ((64 + RADIX_BITS - 1) / RADIX_BITS)

struct keyset {
    uint64_t *batch, *tmp;
    size_t (*hist)[RADIX_BUCKETS];      /* RADIX_PASSES histograms */
    size_t nr_batch;
    uint64_t *uniq;
    size_t nr_uniq;
    uint64_t last;                      /* skip immediate repeats cheaply */
    bool have_last;
};

static int keyset_init(struct keyset *ks)
{
    memset(ks, 0, sizeof(*ks));
    ks->batch = malloc(KEYSET_BATCH * sizeof(uint64_t));
    ks->tmp = malloc(KEYSET_BATCH * sizeof(uint64_t));
    ks->hist = malloc(RADIX_PASSES * sizeof(*ks->hist));
    if (!ks->batch || !ks->tmp || !ks->hist) {
        free(ks->batch);
        free(ks->tmp);
        free(ks->hist);
        return VM_ENOMEM;
    }
    return 0;
}

static void keyset_free(struct keyset *ks)
{
    free(ks->batch);
    free(ks->tmp);
    free(ks->uniq);
    free(ks->hist);
    memset(ks, 0, sizeof(*ks));
}

/* LSD radix sort, 11-bit digits; a digit all keys share is skipped. */
static void radix_sort(uint64_t *a, uint64_t *tmp, size_t n, size_t (*hist)[RADIX_BUCKETS])
{
    enum { BITS = RADIX_BITS, NB = RADIX_BUCKETS, PASSES = RADIX_PASSES };
    memset(hist, 0, PASSES * sizeof(*hist));
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < PASSES; p++)
            hist[p][(a[i] >> (p * BITS)) & (NB - 1)]++;
    uint64_t *src = a, *dst = tmp;
    for (int p = 0; p < PASSES; p++) {
        size_t *h = hist[p];
        if (h[(src[0] >> (p * BITS)) & (NB - 1)] == n)
            continue;
        size_t sum = 0;
        for (int b = 0; b < NB; b++) {
            size_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[h[(src[i] >> (p * BITS)) & (NB - 1)]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof(uint64_t));
}

static int keyset_flush(struct keyset *ks)
{
    size_t n = ks->nr_batch;
    if (n == 0)
        return 0;
    radix_sort(ks->batch, ks->tmp, n, ks->hist);
    size_t u = 1;
    for (size_t i = 1; i < n; i++)
        if (ks->batch[i] != ks->batch[u - 1])
            ks->batch[u++] = ks->batch[i];
    uint64_t *m = malloc((ks->nr_uniq + u) * sizeof(uint64_t));
    if (!m)
        return VM_ENOMEM;
    size_t i = 0, j = 0, k = 0;
    while (i < ks->nr_uniq && j < u) {
        uint64_t a = ks->uniq[i], b = ks->batch[j];
        if (a < b) {
            m[k++] = a;
            i++;
        } else if (b < a) {
            m[k++] = b;
            j++;
        } else {
            m[k++] = a;
            i++;
            j++;
        }
    }
    while (i < ks->nr_uniq)
        m[k++] = ks->uniq[i++];
    while (j < u)
        m[k++] = ks->batch[j++];
    free(ks->uniq);
    ks->uniq = m;
    ks->nr_uniq = k;
    ks->nr_batch = 0;
    return 0;
}

static inline int keyset_add(struct keyset *ks, uint64_t key)
{
    if (ks->have_last && key == ks->last)
        return 0;
    ks->last = key;
    ks->have_last = true;
    ks->batch[ks->nr_batch++] = key;
    if (ks->nr_batch == KEYSET_BATCH)
        return keyset_flush(ks);
    return 0;
}

/* Keys are page << 2 | op index; fill the distinct-page counts. */
static int keyset_count(struct keyset *ks, struct sim_trace_stats *st)
{
    int rc = keyset_flush(ks);
    if (rc)
        return rc;
    st->distinct_pages = 0;
    st->distinct_data_pages = 0;
    uint64_t prev_region[4] = { 0 };
    for (int l = 0; l < 4; l++)
        st->distinct_regions[l] = 0;
    for (int o = 0; o < SIM_TRACE_NR_OPS; o++)
        st->distinct_pages_op[o] = 0;
    size_t i = 0;
    while (i < ks->nr_uniq) {
        uint64_t page = ks->uniq[i] >> 2;
        bool data = false;
        /* keys are sorted by page, so a region's pages are adjacent */
        for (int l = 0; l < 4; l++) {
            uint64_t region = page >> (9 * (l + 1));
            if (st->distinct_pages == 0 || region != prev_region[l])
                st->distinct_regions[l]++;
            prev_region[l] = region;
        }
        st->distinct_pages++;
        for (; i < ks->nr_uniq && ks->uniq[i] >> 2 == page; i++) {
            int o = (int)(ks->uniq[i] & 3);
            st->distinct_pages_op[o]++;
            if (o != SIM_TRACE_OP_X)
                data = true;
        }
        if (data)
            st->distinct_data_pages++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* the reader */

struct reader {
    const char *path;
    gzFile gz;
    char *buf;                          /* BUF_BYTES + 1 (sentinel) */
    size_t len, pos;
    bool eof;
    uint64_t line;                      /* lines consumed so far */
    enum sim_trace_format fmt;
    struct sim_trace_reduce red;
    struct sim_trace_rec out[OUT_BATCH];
    size_t nr_out;
    sim_trace_rec_fn fn;
    void *arg;
    struct sim_trace_stats *st;         /* always set (a local one if the caller gave none) */
    struct keyset *ks;                  /* NULL: no distinct-page counting */
    uint64_t cmd_pid;                   /* lackey: PID of the "Command:" line, 0 = none yet */
    struct vm_diag *d;
};

/* 'text' quoted for a message: at most 60 characters, control characters
 * escaped; an empty token is shown as end of line. */
static const char *show(char *dst, size_t cap, const char *s, const char *e)
{
    if (s >= e) {
        snprintf(dst, cap, "end of line");
        return dst;
    }
    size_t k = 0;
    dst[k++] = '\'';
    for (const char *p = s; p < e && k + 8 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (p - s >= 60) {
            k += (size_t)snprintf(dst + k, cap - k, "...");
            break;
        }
        if (c == '\r') {
            dst[k++] = '\\';
            dst[k++] = 'r';
        } else if (c < 0x20 || c >= 0x7f) {
            k += (size_t)snprintf(dst + k, cap - k, "\\x%02x", c);
        } else {
            dst[k++] = (char)c;
        }
    }
    dst[k++] = '\'';
    dst[k] = 0;
    return dst;
}

/* end of the space-separated word starting at s */
static const char *word_end(const char *s, const char *e)
{
    while (s < e && *s != ' ')
        s++;
    return s;
}

static int line_error(struct reader *r, const char *expected, const char *s, const char *e)
{
    char got[160];
    return vm_diag_set(r->d, VM_EPARSE, "%s:%" PRIu64 ": expected %s, got %s", r->path,
                       r->line, expected, show(got, sizeof(got), s, e));
}

/* Read more input behind what is left of the buffer.  Sets eof at the
 * end; a damaged or cut gzip stream is a parse error on the line that
 * was being read. */
static int refill(struct reader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len > BUF_BYTES - READ_CHUNK)
        return vm_diag_set(r->d, VM_EPARSE, "%s:%" PRIu64 ": expected a line shorter than %u bytes, got a longer one",
                           r->path, r->line + 1, READ_CHUNK);
    int n = sim_gz_read(r->gz, r->buf + r->len, READ_CHUNK, r->path, r->line + 1, r->d);
    if (n < 0)
        return n;
    if (n == 0)
        r->eof = true;
    r->len += (size_t)n;
    r->buf[r->len] = 0;                 /* sentinel: stops the digit loops */
    return 0;
}

static int flush_out(struct reader *r)
{
    int rc = 0;
    if (r->nr_out && r->fn)
        rc = r->fn(r->arg, r->out, r->nr_out);
    r->nr_out = 0;
    return rc;
}

static inline int emit(struct reader *r, const struct sim_trace_rec *rec)
{
    struct sim_trace_stats *st = r->st;
    if (st->total_accesses + rec->count < st->total_accesses)
        return vm_diag_set(r->d, VM_EPARSE, "%s:%" PRIu64 ": expected counts summing to less than 2^64, got more",
                           r->path, r->line);
    st->nr_records++;
    st->nr_records_op[op_index(rec->op)]++;
    st->total_accesses += rec->count;
    if (r->ks) {
        int rc = keyset_add(r->ks, rec->page << 2 | (uint64_t)op_index(rec->op));
        if (rc)
            return rc;
    }
    r->out[r->nr_out++] = *rec;
    if (r->nr_out == OUT_BATCH)
        return flush_out(r);
    return 0;
}

/* Note the first address that is not canonical for 4- and for 5-level
 * paging (a 4-level canonical address is canonical for 5 levels too). */
static inline void note_addr(struct reader *r, uint64_t addr)
{
    if ((uint64_t)(((int64_t)addr >> 47) + 1) <= 1)
        return;
    struct sim_trace_stats *st = r->st;
    if (!st->noncanon_line[0]) {
        st->noncanon_line[0] = r->line;
        st->noncanon_addr[0] = addr;
    }
    if (!st->noncanon_line[1] && (uint64_t)(((int64_t)addr >> 56) + 1) > 1) {
        st->noncanon_line[1] = r->line;
        st->noncanon_addr[1] = addr;
    }
}

/* --- pagetrace --- */

static int pt_header(struct reader *r, const char *s, const char *e)
{
    size_t hl = sizeof(PT_HEADER) - 1;
    if ((size_t)(e - s) < hl || memcmp(s, PT_HEADER, hl) != 0)
        return line_error(r, "'# vmsim pagetrace v1 page_size=4096 program=NAME'", s, e);
    const char *name = s + hl;
    if (name == e || *name == ' ')
        return line_error(r, "a program name after 'program='", name, e);
    size_t n = (size_t)(word_end(name, e) - name);
    if (n >= sizeof(r->st->program))
        n = sizeof(r->st->program) - 1;
    memcpy(r->st->program, name, n);
    r->st->program[n] = 0;
    return 0;
}

static bool take_u64(const char **pp, const char *e, uint64_t *v)
{
    const char *p = *pp;
    uint64_t x = 0;
    int nd = 0;
    while (p < e && (unsigned)(*p - '0') < 10 && nd < COUNT_MAX_DIGITS) {
        x = x * 10 + (uint64_t)(*p - '0');
        p++;
        nd++;
    }
    *pp = p;
    *v = x;
    return nd > 0;
}

/* "# total_accesses=N records=M truncated=yes|no": checked against what
 * came before it */
static int pt_trailer(struct reader *r, const char *s, const char *e)
{
    const char *p = s + sizeof(PT_TRAILER) - 1;
    uint64_t total, records;
    static const char REC[] = " records=", TRU[] = " truncated=";
    const char *expect = "trailer '# total_accesses=N records=M truncated=yes|no'";
    if (!take_u64(&p, e, &total) || (size_t)(e - p) < sizeof(REC) - 1 ||
        memcmp(p, REC, sizeof(REC) - 1) != 0)
        return line_error(r, expect, s, e);
    p += sizeof(REC) - 1;
    if (!take_u64(&p, e, &records) || (size_t)(e - p) < sizeof(TRU) - 1 ||
        memcmp(p, TRU, sizeof(TRU) - 1) != 0)
        return line_error(r, expect, s, e);
    p += sizeof(TRU) - 1;
    bool truncated;
    if (e - p == 3 && memcmp(p, "yes", 3) == 0)
        truncated = true;
    else if (e - p == 2 && memcmp(p, "no", 2) == 0)
        truncated = false;
    else
        return line_error(r, expect, s, e);
    if (total != r->st->total_accesses || records != r->st->nr_records)
        return vm_diag_set(r->d, VM_EPARSE,
                           "%s:%" PRIu64 ": expected the trailer to match the records before it "
                           "(total_accesses=%" PRIu64 " records=%" PRIu64 "), got total_accesses=%" PRIu64
                           " records=%" PRIu64, r->path, r->line, r->st->total_accesses,
                           r->st->nr_records, total, records);
    r->st->has_trailer = true;
    r->st->truncated = truncated;
    return 0;
}

/* The fast path rejected a record line: say exactly why. */
static int pt_diagnose(struct reader *r, const char *s, const char *e)
{
    if (s == e)
        return line_error(r, "a record 'OP PAGE COUNT' or a '#' comment", s, e);
    if (*s != 'X' && *s != 'R' && *s != 'W')
        return line_error(r, "'X', 'R' or 'W'", s, word_end(s, e));
    if (e - s < 2 || s[1] != ' ')
        return line_error(r, "' ' and a page number after the op", s + 1, e);
    const char *p = s + 2, *w = word_end(p, e);
    if (p == w)
        return line_error(r, "a hex page number", p, e);
    for (const char *q = p; q < w; q++)
        if (!hex_lower[(unsigned char)*q])
            return line_error(r, "a lowercase hex page number without '0x'", p, w);
    if (w - p > PAGE_MAX_DIGITS)
        return line_error(r, "a page number of at most 13 hex digits", p, w);
    if (*p == '0' && w - p > 1)
        return line_error(r, "a hex page number without leading zeros", p, w);
    if (w == e)
        return line_error(r, "' ' and a count after the page", w, e);
    p = w + 1;
    const char *c = p;
    while (c < e && (unsigned)(*c - '0') < 10)
        c++;
    if (c == p)
        return line_error(r, "a decimal count >= 1", p, word_end(p, e));
    if (c - p > COUNT_MAX_DIGITS)
        return line_error(r, "a count below 10^19", p, c);
    bool zero = true;
    for (const char *q = p; q < c; q++)
        if (*q != '0')
            zero = false;
    if (zero)
        return line_error(r, "a count >= 1", p, c);
    return line_error(r, "end of line after the count", c, e);
}

/* Parse the complete lines in the buffer (and the last one at eof). */
static int pt_lines(struct reader *r)
{
    char *buf = r->buf;
    size_t pos = r->pos, len = r->len;
    int rc = 0;
    while (pos < len) {
        char *s = buf + pos;
        char *nl = memchr(s, '\n', len - pos);
        if (!nl) {
            if (!r->eof)
                break;
            nl = buf + len;             /* last line without '\n' */
        }
        r->line++;
        pos = (size_t)(nl - buf) + 1;
        if (r->line == 1) {
            if ((rc = pt_header(r, s, nl)))
                break;
            continue;
        }
        uint8_t op = (uint8_t)s[0];
        if (op == '#') {
            if ((size_t)(nl - s) >= sizeof(PT_TRAILER) - 1 &&
                memcmp(s, PT_TRAILER, sizeof(PT_TRAILER) - 1) == 0 && (rc = pt_trailer(r, s, nl)))
                break;
            continue;
        }
        if ((op != 'X' && op != 'R' && op != 'W') || s[1] != ' ') {
            rc = pt_diagnose(r, s, nl);
            break;
        }
        const char *p = s + 2, *p0 = p;
        uint64_t page = 0;
        unsigned v;
        while ((v = hex_lower[(unsigned char)*p]) != 0) {
            page = page << 4 | (v - 1);
            p++;
        }
        if (p == p0 || p - p0 > PAGE_MAX_DIGITS || *p != ' ' || (*p0 == '0' && p - p0 > 1)) {
            rc = pt_diagnose(r, s, nl);
            break;
        }
        const char *c0 = ++p;
        uint64_t count = 0;
        while ((unsigned)(*p - '0') < 10) {
            count = count * 10 + (uint64_t)(*p - '0');
            p++;
        }
        if (p != nl || p == c0 || p - c0 > COUNT_MAX_DIGITS || count == 0) {
            rc = pt_diagnose(r, s, nl);
            break;
        }
        struct sim_trace_rec rec = { .page = page, .count = count, .op = op };
        note_addr(r, page << 12);
        if ((rc = emit(r, &rec)))
            break;
    }
    r->pos = pos > len ? len : pos;
    return rc;
}

/* --- lackey --- */

/*
 * Valgrind's own lines are "==PID== ...", "--PID-- ..." and "**PID** ...":
 * PID in decimal (1 to 10 digits, no leading zero), the same two
 * characters on both sides, then a space or the end of the line.  With
 * --log-fd=1 the traced program's output comes in between, and it may
 * start with "--" or "==" too: nothing else is skipped.  Returns the
 * prefix length and the PID, or 0 for any other line.
 */
#define PID_MAX_DIGITS 10
static size_t valgrind_prefix(const char *s, const char *e, uint64_t *pid)
{
    char c = s < e ? s[0] : 0;
    if ((c != '=' && c != '-' && c != '*') || e - s < 5 || s[1] != c)
        return 0;
    const char *d = s + 2, *p = d;
    uint64_t v = 0;
    while (p < e && (unsigned)(*p - '0') < 10 && p - d < PID_MAX_DIGITS)
        v = v * 10 + (uint64_t)(*p++ - '0');
    if (p == d || *d == '0' || e - p < 2 || p[0] != c || p[1] != c)
        return 0;
    p += 2;
    if (p < e && *p != ' ')
        return 0;
    *pid = v;
    return (size_t)(p - s);
}

/* A Valgrind line (prefix n bytes long): the first "==PID== Command: ..."
 * gives the command; "==PID== Exit code: ..." from that same process (from
 * any process while no command was seen) shows the run was traced to its
 * end.  These two texts count only right after a "==PID== " prefix. */
static void lk_valgrind_line(struct reader *r, const char *s, const char *e, size_t n,
                             uint64_t pid)
{
    static const char CMD[] = "Command: ", EXIT[] = "Exit code:";
    if (s[0] != '=' || (size_t)(e - s) <= n)
        return;
    const char *b = s + n + 1;          /* after the prefix and its space */
    size_t len = (size_t)(e - b);
    if (len >= sizeof(CMD) - 1 && memcmp(b, CMD, sizeof(CMD) - 1) == 0) {
        if (r->cmd_pid)
            return;
        r->cmd_pid = pid;
        const char *c = b + sizeof(CMD) - 1;
        size_t k = (size_t)(e - c);
        if (k >= sizeof(r->st->command))
            k = sizeof(r->st->command) - 1;
        memcpy(r->st->command, c, k);
        r->st->command[k] = 0;
        const char *w = word_end(c, e), *base = c;
        for (const char *q = c; q < w; q++)
            if (*q == '/')
                base = q + 1;
        k = (size_t)(w - base);
        if (k >= sizeof(r->st->program))
            k = sizeof(r->st->program) - 1;
        memcpy(r->st->program, base, k);
        r->st->program[k] = 0;
    } else if (len >= sizeof(EXIT) - 1 && memcmp(b, EXIT, sizeof(EXIT) - 1) == 0 &&
               (!r->cmd_pid || pid == r->cmd_pid)) {
        r->st->has_trailer = true;
        r->st->truncated = false;
    }
}

static int lk_diagnose(struct reader *r, const char *s, const char *e)
{
    const char *what = "a lackey line 'I  ADDR,SIZE', ' L|S|M ADDR,SIZE' or '==PID== ...'";
    if (e - s >= 2 && s[0] == s[1] && (s[0] == '=' || s[0] == '-' || s[0] == '*'))
        return line_error(r, "a Valgrind line '==PID== ...', '--PID-- ...' or '**PID** ...' "
                          "with a decimal PID", s, e);
    bool access = (e - s >= 3 && s[0] == 'I' && s[1] == ' ' && s[2] == ' ') ||
                  (e - s >= 3 && s[0] == ' ' && (s[1] == 'L' || s[1] == 'S' || s[1] == 'M') &&
                   s[2] == ' ');
    if (!access)
        return line_error(r, what, s, e);
    const char *p = s + 3, *q = p;
    while (q < e && hex_any[(unsigned char)*q])
        q++;
    if (q == p)
        return line_error(r, "a hex address", p, e);
    if (q - p > 16)
        return line_error(r, "an address of at most 16 hex digits", p, q);
    if (q == e || *q != ',')
        return line_error(r, "',' and a size after the address", q, e);
    const char *z = ++q;
    while (q < e && (unsigned)(*q - '0') < 10)
        q++;
    if (q == z)
        return line_error(r, "a decimal size", z, e);
    return line_error(r, "end of line after the size", q, e);
}

static int lk_lines(struct reader *r)
{
    char *buf = r->buf;
    size_t pos = r->pos, len = r->len;
    int rc = 0;
    struct sim_trace_rec done;
    size_t vp;
    uint64_t pid;
    while (pos < len) {
        char *s = buf + pos;
        char *nl = memchr(s, '\n', len - pos);
        if (!nl) {
            if (!r->eof)
                break;
            nl = buf + len;
        }
        r->line++;
        pos = (size_t)(nl - buf) + 1;
        uint8_t op;
        if (s[0] == 'I' && s[1] == ' ' && s[2] == ' ')
            op = 'X';
        else if (s[0] == ' ' && (s[1] == 'L' || s[1] == 'S' || s[1] == 'M') && s[2] == ' ')
            op = s[1] == 'L' ? 'R' : 'W';
        else if ((vp = valgrind_prefix(s, nl, &pid)) != 0) {
            lk_valgrind_line(r, s, nl, vp, pid);
            continue;
        } else {
            rc = lk_diagnose(r, s, nl);
            break;
        }
        const char *p = s + 3, *p0 = p;
        uint64_t addr = 0;
        unsigned v;
        while ((v = hex_any[(unsigned char)*p]) != 0) {
            addr = addr << 4 | (v - 1);
            p++;
        }
        if (p == p0 || p - p0 > 16 || *p != ',') {
            rc = lk_diagnose(r, s, nl);
            break;
        }
        const char *z = ++p;
        while ((unsigned)(*p - '0') < 10)
            p++;
        if (p == z || p != nl) {
            rc = lk_diagnose(r, s, nl);
            break;
        }
        note_addr(r, addr);
        if (sim_trace_reduce_feed(&r->red, op, addr >> 12, &done) && (rc = emit(r, &done)))
            break;
    }
    r->pos = pos > len ? len : pos;
    return rc;
}

/* --- driver --- */

static int sniff(struct reader *r)
{
    const char *s = r->buf, *e = memchr(s, '\n', r->len);
    if (!e)
        e = s + r->len;
    if (s == e && r->len == 0)
        return vm_diag_set(r->d, VM_EPARSE,
                           "%s:1: expected a vmsim pagetrace header or lackey output, got end of file",
                           r->path);
    if (s[0] == '#') {
        r->fmt = SIM_TRACE_PAGETRACE;
        return 0;
    }
    uint64_t pid;
    if (valgrind_prefix(s, e, &pid) || (e - s >= 3 && s[0] == 'I' && s[1] == ' ' && s[2] == ' ') ||
        (e - s >= 3 && s[0] == ' ' && (s[1] == 'L' || s[1] == 'S' || s[1] == 'M') && s[2] == ' ')) {
        r->fmt = SIM_TRACE_LACKEY;
        return 0;
    }
    char got[160];
    return vm_diag_set(r->d, VM_EPARSE, "%s:1: expected a vmsim pagetrace header or lackey output, got %s",
                       r->path, show(got, sizeof(got), s, e));
}

/* Open path ("-" = stdin) as a gzip-or-plain stream; st gets its
 * size/mtime when wanted. */
static int parse_stream(const char *path, enum sim_trace_format fmt, sim_trace_rec_fn fn,
                        void *arg, struct sim_trace_stats *st, bool want_distinct,
                        struct stat *sb, struct vm_diag *d)
{
    struct sim_trace_stats local;
    struct keyset ks;
    struct reader *r = calloc(1, sizeof(*r));
    if (!r)
        return vm_diag_set(d, VM_ENOMEM, "'%s': out of memory", path);
    if (!st)
        st = &local;
    memset(st, 0, sizeof(*st));
    st->truncated = true;
    r->path = path;
    r->fn = fn;
    r->arg = arg;
    r->st = st;
    r->d = d;
    r->fmt = fmt;
    sim_trace_reduce_init(&r->red);
    int rc = sim_gz_open(path, "a trace file", GZ_BUFFER, &r->gz, sb, d);
    if (rc) {
        free(r);
        return rc;
    }
    if (want_distinct) {
        if (keyset_init(&ks)) {
            gzclose(r->gz);
            free(r);
            return vm_diag_set(d, VM_ENOMEM, "'%s': out of memory", path);
        }
        r->ks = &ks;
    }
    r->buf = malloc(BUF_BYTES + 1);
    if (!r->buf) {
        rc = vm_diag_set(d, VM_ENOMEM, "'%s': out of memory", path);
        goto out;
    }
    r->buf[0] = 0;
    if ((rc = refill(r)))
        goto out;
    if (r->fmt == SIM_TRACE_AUTO && (rc = sniff(r)))
        goto out;
    st->format = r->fmt;
    for (;;) {
        rc = r->fmt == SIM_TRACE_PAGETRACE ? pt_lines(r) : lk_lines(r);
        if (rc || (r->eof && r->pos >= r->len))
            break;
        if ((rc = refill(r)))
            break;
    }
    if (rc)
        goto out;
    if (r->fmt == SIM_TRACE_PAGETRACE && r->line == 0) {
        rc = vm_diag_set(d, VM_EPARSE,
                         "%s:1: expected '# vmsim pagetrace v1 page_size=4096 program=NAME', got end of file",
                         path);
        goto out;
    }
    if (r->fmt == SIM_TRACE_LACKEY) {
        struct sim_trace_rec done;
        if (sim_trace_reduce_finish(&r->red, &done) && (rc = emit(r, &done)))
            goto out;
    }
    if ((rc = flush_out(r)))
        goto out;
    st->nr_lines = r->line;
    if (r->ks && (rc = keyset_count(r->ks, st)))
        rc = vm_diag_set(d, rc, "'%s': out of memory", path);
out:
    if (r->ks)
        keyset_free(r->ks);
    gzclose(r->gz);
    free(r->buf);
    free(r);
    return rc;
}

int sim_trace_parse(const char *path, enum sim_trace_format fmt, sim_trace_rec_fn fn,
                    void *arg, struct sim_trace_stats *st, struct vm_diag *d)
{
    return parse_stream(path, fmt, fn, arg, st, st != NULL, NULL, d);
}

int sim_trace_parse_stat(const char *path, enum sim_trace_format fmt, sim_trace_rec_fn fn,
                         void *arg, struct sim_trace_stats *st, struct stat *sb,
                         struct vm_diag *d)
{
    return parse_stream(path, fmt, fn, arg, st, st != NULL, sb, d);
}

int sim_trace_validate(const char *path, enum sim_trace_format fmt, struct vm_diag *d)
{
    struct sim_trace_stats st;
    int rc = parse_stream(path, fmt, NULL, NULL, &st, false, NULL, d);
    if (rc)
        return rc;
    if (st.nr_records == 0)
        return vm_diag_set(d, VM_EPARSE, "%s: expected at least one record, got none", path);
    return 0;
}
