/*
 * sim_blocktrace.c - vmsim blocktrace v1 reader (gzip or plain CSV) and
 * the file-to-disk layout (sim_blocktrace.h; format in
 * workloads/traces/README.md).
 *
 * One pass reads the rows into the request array with each request's
 * sectors relative to its file and the file's index beside it; the
 * extents are known only at the end (a file's size is its largest end
 * offset anywhere in the trace), so a second pass over the array adds
 * each extent's first sector and finds the first request past the disk.
 * Reading is sim_trace.c's: gzread into one buffer, memchr for line ends,
 * hand-written field parsers, every deviation a located error.  Memory is
 * bounded by the caps: 28 bytes a row (SIM_BLOCKTRACE_MAX_ROWS) plus the
 * distinct file names (SIM_BLOCKTRACE_NAMES_MAX bytes in all, each at
 * most SIM_BLOCKTRACE_NAME_MAX), kept in an open-addressing hash table
 * (FNV-1a).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sim_blocktrace.h"
#include "sim_gz.h"

#define SECTOR_BYTES 4096u
#define READ_CHUNK (1u << 20)               /* bytes per gzread */
#define BUF_BYTES (READ_CHUNK + SIM_BLOCKTRACE_LINE_MAX + 1)
#define INT_MAX_DIGITS 19                   /* < 10^19 fits in 64 bits */
#define SECONDS_MAX_DIGITS 9                /* < 10^9 s: the ns fit easily */
#define NR_FIELDS 5

/* ------------------------------------------------------------------ */
/* file names: an open-addressing table of indexes into names[] */

struct files {
    char **names;                           /* nr, in order of first appearance */
    uint64_t *max_end;                      /* largest offset + length over R/W rows */
    uint32_t nr, cap;
    uint32_t *slots;                        /* index + 1, 0 = empty */
    size_t nr_slots;                        /* a power of two, at least twice nr */
    size_t name_bytes;                      /* the names' bytes, each with its NUL */
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void files_free(struct files *f)
{
    for (uint32_t i = 0; i < f->nr; i++)
        free(f->names[i]);
    free(f->names);
    free(f->max_end);
    free(f->slots);
    memset(f, 0, sizeof(*f));
}

static int files_rehash(struct files *f, size_t nr_slots)
{
    uint32_t *slots = calloc(nr_slots, sizeof(*slots));
    if (!slots)
        return VM_ENOMEM;
    for (uint32_t i = 0; i < f->nr; i++) {
        size_t k = fnv1a(f->names[i], strlen(f->names[i])) & (nr_slots - 1);
        while (slots[k])
            k = (k + 1) & (nr_slots - 1);
        slots[k] = i + 1;
    }
    free(f->slots);
    f->slots = slots;
    f->nr_slots = nr_slots;
    return 0;
}

/* The index of name[0..n), added if new; a negative VM_E* on failure
 * (VM_ENOSPC: the names would pass SIM_BLOCKTRACE_NAMES_MAX). */
static int64_t files_id(struct files *f, const char *name, size_t n)
{
    if (2 * ((size_t)f->nr + 1) > f->nr_slots &&
        files_rehash(f, f->nr_slots ? 2 * f->nr_slots : 1024))
        return VM_ENOMEM;
    size_t k = fnv1a(name, n) & (f->nr_slots - 1);
    for (; f->slots[k]; k = (k + 1) & (f->nr_slots - 1)) {
        const char *s = f->names[f->slots[k] - 1];
        if (strncmp(s, name, n) == 0 && s[n] == 0)
            return f->slots[k] - 1;
    }
    if (f->nr == f->cap) {
        uint32_t cap = f->cap ? 2 * f->cap : 64;
        char **names = realloc(f->names, cap * sizeof(*names));
        if (!names)
            return VM_ENOMEM;
        f->names = names;
        uint64_t *max_end = realloc(f->max_end, cap * sizeof(*max_end));
        if (!max_end)
            return VM_ENOMEM;
        f->max_end = max_end;
        f->cap = cap;
    }
    if (f->name_bytes + n + 1 > SIM_BLOCKTRACE_NAMES_MAX)
        return VM_ENOSPC;
    char *copy = malloc(n + 1);
    if (!copy)
        return VM_ENOMEM;
    f->name_bytes += n + 1;
    memcpy(copy, name, n);
    copy[n] = 0;
    f->names[f->nr] = copy;
    f->max_end[f->nr] = 0;
    f->slots[k] = f->nr + 1;
    return f->nr++;
}

/* ------------------------------------------------------------------ */
/* the reader */

struct reader {
    const char *path;
    gzFile gz;
    char *buf;                              /* BUF_BYTES + 1 */
    size_t len, pos;
    bool eof;
    uint64_t line;                          /* lines consumed so far */
    uint64_t max_rows;
    struct sim_blocktrace *bt;              /* ios[].sector relative to the file */
    size_t cap_ios;
    uint32_t *file_of;                      /* the file of each request */
    struct files files;
    struct vm_diag *d;
};

/* 'text' quoted for a message: at most 60 characters, control characters
 * escaped; an empty token is shown as ''. */
static const char *show(char *dst, size_t cap, const char *s, const char *e)
{
    size_t k = 0;
    dst[k++] = '\'';
    for (const char *p = s; p < e && k + 8 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (p - s >= 60) {
            k += (size_t)snprintf(dst + k, cap - k, "...");
            break;
        }
        if (c < 0x20 || c >= 0x7f)
            k += (size_t)snprintf(dst + k, cap - k, "\\x%02x", c);
        else
            dst[k++] = (char)c;
    }
    dst[k++] = '\'';
    dst[k] = 0;
    return dst;
}

static int line_error(struct reader *r, const char *expected, const char *s, const char *e)
{
    char got[160];
    return vm_diag_set(r->d, VM_EPARSE, "%s:%" PRIu64 ": expected %s, got %s", r->path,
                       r->line, expected, show(got, sizeof(got), s, e));
}

static int too_long(struct reader *r, uint64_t line)
{
    return vm_diag_set(r->d, VM_EPARSE, "%s:%" PRIu64 ": expected a line of at most %u bytes, got a longer one",
                       r->path, line, SIM_BLOCKTRACE_LINE_MAX);
}

/* Read more input behind what is left of the buffer; eof at the end.  A
 * damaged or cut gzip stream is an error on the line being read. */
static int refill(struct reader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len > SIM_BLOCKTRACE_LINE_MAX)
        return too_long(r, r->line + 1);
    int n = sim_gz_read(r->gz, r->buf + r->len, READ_CHUNK, r->path, r->line + 1, r->d);
    if (n < 0)
        return n;
    if (n == 0)
        r->eof = true;
    r->len += (size_t)n;
    r->buf[r->len] = 0;
    return 0;
}

/* A decimal integer of 1..19 digits, nothing else, into *v. */
static bool parse_u64(const char *s, const char *e, uint64_t *v)
{
    if (s == e || e - s > INT_MAX_DIGITS)
        return false;
    uint64_t x = 0;
    for (const char *p = s; p < e; p++) {
        if ((unsigned)(*p - '0') >= 10)
            return false;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *v = x;
    return true;
}

/* Seconds as DIGITS[.DIGITS] (below 10^9 s) into ns, rounded half up at
 * the tenth decimal. */
static bool parse_seconds(const char *s, const char *e, uint64_t *ns)
{
    const char *dot = memchr(s, '.', (size_t)(e - s));
    const char *ie = dot ? dot : e;
    uint64_t sec;
    if (ie - s > SECONDS_MAX_DIGITS || !parse_u64(s, ie, &sec))
        return false;
    uint64_t frac = 0;
    if (dot) {
        const char *f = dot + 1;
        if (f == e)
            return false;
        for (int k = 0; k < 10; k++) {
            unsigned dg = 0;
            if (f + k < e) {
                dg = (unsigned)(f[k] - '0');
                if (dg >= 10)
                    return false;
            }
            if (k < 9)
                frac = frac * 10 + dg;
            else if (dg >= 5)
                frac++;
        }
        for (const char *p = f + 10; p < e; p++)
            if ((unsigned)(*p - '0') >= 10)
                return false;
    }
    *ns = sec * UINT64_C(1000000000) + frac;
    return true;
}

static int push(struct reader *r, const struct vm_blkio *io, uint32_t file)
{
    struct sim_blocktrace *bt = r->bt;
    if (bt->nr_ios == r->cap_ios) {
        size_t cap = r->cap_ios ? 2 * r->cap_ios : 4096;
        if (cap > r->max_rows)
            cap = (size_t)r->max_rows;
        struct vm_blkio *ios = realloc(bt->ios, cap * sizeof(*ios));
        if (!ios)
            return vm_diag_set(r->d, VM_ENOMEM, "'%s': out of memory", r->path);
        bt->ios = ios;
        uint32_t *file_of = realloc(r->file_of, cap * sizeof(*file_of));
        if (!file_of)
            return vm_diag_set(r->d, VM_ENOMEM, "'%s': out of memory", r->path);
        r->file_of = file_of;
        r->cap_ios = cap;
    }
    bt->ios[bt->nr_ios] = *io;
    r->file_of[bt->nr_ios] = file;
    bt->nr_ios++;
    return 0;
}

/* One row, s..e without its '\n'. */
static int parse_row(struct reader *r, const char *s, const char *e)
{
    struct sim_blocktrace_stats *st = &r->bt->stats;
    const char *f[NR_FIELDS], *fe[NR_FIELDS];
    const char *p = s;
    int nf = 0;
    for (;;) {
        const char *c = memchr(p, ',', (size_t)(e - p));
        if (nf < NR_FIELDS) {
            f[nf] = p;
            fe[nf] = c ? c : e;
        }
        nf++;
        if (!c)
            break;
        p = c + 1;
    }
    if (nf != NR_FIELDS) {
        return vm_diag_set(r->d, VM_EPARSE, "%s:%" PRIu64 ": expected %d comma-separated fields (%s), got %d",
                           r->path, r->line, NR_FIELDS, SIM_BLOCKTRACE_HEADER, nf);
    }
    if (st->nr_rows == r->max_rows)
        return vm_diag_set(r->d, VM_EPARSE, "%s:%" PRIu64 ": expected at most %" PRIu64 " rows, got more",
                           r->path, r->line, r->max_rows);

    struct vm_blkio io = { 0 };
    if (!parse_seconds(f[0], fe[0], &io.t_ns))
        return line_error(r, "a non-negative decimal timestamp_s below 1000000000", f[0], fe[0]);
    if (st->nr_rows > 0 && io.t_ns < st->duration_ns) {
        char prev[64];
        snprintf(prev, sizeof(prev), "a timestamp_s >= %" PRIu64 ".%09" PRIu64 " (the row before's)",
                 st->duration_ns / UINT64_C(1000000000), st->duration_ns % UINT64_C(1000000000));
        return line_error(r, prev, f[0], fe[0]);
    }
    if (fe[1] - f[1] != 1 || (f[1][0] != 'R' && f[1][0] != 'W' && f[1][0] != 'F'))
        return line_error(r, "op 'R', 'W' or 'F'", f[1], fe[1]);
    uint64_t offset, length;
    if (!parse_u64(f[2], fe[2], &offset))
        return line_error(r, "a non-negative integer offset of at most 19 digits", f[2], fe[2]);
    if (!parse_u64(f[3], fe[3], &length))
        return line_error(r, "a non-negative integer length of at most 19 digits", f[3], fe[3]);
    if (f[4] == fe[4])
        return line_error(r, "a file name", f[4], fe[4]);
    if (fe[4] - f[4] > SIM_BLOCKTRACE_NAME_MAX)
        return line_error(r, "a file name of at most 4095 bytes", f[4], fe[4]);
    for (const char *q = f[4]; q < fe[4]; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            return line_error(r, "a file name without control characters", f[4], fe[4]);

    int64_t id = files_id(&r->files, f[4], (size_t)(fe[4] - f[4]));
    if (id == VM_ENOSPC)
        return line_error(r, "at most 64 MiB of distinct file names in all (a new name "
                          "here passes it)", f[4], fe[4]);
    if (id < 0)
        return vm_diag_set(r->d, (int)id, "'%s': out of memory", r->path);
    if (f[1][0] == 'F') {
        if (offset != 0 || length != 0)
            return line_error(r, "offset 0 and length 0 in an F row", f[2], fe[3]);
        io.op = VM_BLKIO_FLUSH;
    } else {
        if (length == 0)
            return line_error(r, "a length >= 1 in an R or W row", f[3], fe[3]);
        if (length > UINT64_MAX - offset)
            return line_error(r, "offset + length below 2^64", f[2], fe[3]);
        uint64_t first = offset / SECTOR_BYTES, last = (offset + length - 1) / SECTOR_BYTES;
        if (last - first >= UINT32_MAX)
            return line_error(r, "a length below 16 TiB", f[3], fe[3]);
        io.op = f[1][0] == 'R' ? VM_BLKIO_READ : VM_BLKIO_WRITE;
        io.sector = first;
        io.nr = (uint32_t)(last - first + 1);
        if (offset + length > r->files.max_end[id])
            r->files.max_end[id] = offset + length;
        if (io.op == VM_BLKIO_READ)
            st->bytes_read += length;
        else
            st->bytes_written += length;
    }
    st->nr_rows++;
    st->nr_rows_op[io.op]++;
    st->duration_ns = io.t_ns;
    return push(r, &io, (uint32_t)id);
}

/* The complete lines in the buffer (and the last one at eof). */
static int parse_lines(struct reader *r)
{
    while (r->pos < r->len) {
        char *s = r->buf + r->pos;
        char *nl = memchr(s, '\n', r->len - r->pos);
        if (!nl) {
            if (r->len - r->pos > SIM_BLOCKTRACE_LINE_MAX)
                return too_long(r, r->line + 1);
            if (!r->eof)
                return 0;
            nl = r->buf + r->len;           /* the last line without '\n' */
        }
        r->line++;
        r->pos = (size_t)(nl - r->buf) + (nl < r->buf + r->len);
        if (nl - s > SIM_BLOCKTRACE_LINE_MAX)
            return too_long(r, r->line);
        int rc;
        if (r->line == 1) {
            size_t n = sizeof(SIM_BLOCKTRACE_HEADER) - 1;
            if ((size_t)(nl - s) != n || memcmp(s, SIM_BLOCKTRACE_HEADER, n) != 0)
                return line_error(r, "the header '" SIM_BLOCKTRACE_HEADER "'", s, nl);
            continue;
        }
        if ((rc = parse_row(r, s, nl)))
            return rc;
    }
    return 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Extents in order of first appearance from start_sector; requests moved
 * into them; the first one past the disk is an error. */
static int lay_out(struct reader *r, uint64_t disk_sectors, uint64_t start_sector,
                   uint64_t align_bytes)
{
    struct files *f = &r->files;
    struct sim_blocktrace *bt = r->bt;
    uint64_t *first = malloc(((size_t)f->nr + 1) * sizeof(*first));
    if (!first)
        return vm_diag_set(r->d, VM_ENOMEM, "'%s': out of memory", r->path);
    uint64_t next = start_sector, per_align = align_bytes / SECTOR_BYTES;
    for (uint32_t i = 0; i < f->nr; i++) {
        first[i] = next;
        uint64_t units = f->max_end[i] / align_bytes + (f->max_end[i] % align_bytes != 0);
        uint64_t sectors = units > UINT64_MAX / per_align ? UINT64_MAX : units * per_align;
        next = add_sat(next, sectors);
    }
    bt->stats.layout_sectors = next - start_sector;
    bt->stats.nr_files = f->nr;
    int rc = 0;
    for (size_t i = 0; i < bt->nr_ios; i++) {
        struct vm_blkio *io = &bt->ios[i];
        if (io->op == VM_BLKIO_FLUSH)
            continue;
        io->sector = add_sat(first[r->file_of[i]], io->sector);
        uint64_t last = add_sat(io->sector, io->nr - 1);
        if (last >= disk_sectors) {
            /* rows are lines 2, 3, ...: the header is line 1 and every
             * other line is a row */
            const char *name = f->names[r->file_of[i]];
            char shown[160];
            rc = vm_diag_set(r->d, VM_ERANGE, "%s:%zu: request ends at sector %" PRIu64 ", past the disk's end (%" PRIu64 " sectors of 4 KiB): a %s of file %s (files lie one after another, each its largest offset + length rounded up to %" PRIu64 " KiB)",
                             r->path, i + 2, last, disk_sectors,
                             io->op == VM_BLKIO_READ ? "read" : "write",
                             show(shown, sizeof shown, name, name + strlen(name)),
                             align_bytes / 1024);
            break;
        }
    }
    free(first);
    return rc;
}

int sim_blocktrace_load_max(const char *path, uint64_t disk_sectors, uint64_t start_sector,
                            uint64_t align_bytes, uint64_t max_rows,
                            struct sim_blocktrace *out, struct vm_diag *d)
{
    memset(out, 0, sizeof(*out));
    if (align_bytes == 0)
        align_bytes = SIM_BLOCKTRACE_ALIGN_DEFAULT;
    if (align_bytes % SECTOR_BYTES != 0)
        return vm_diag_set(d, VM_EINVAL, "'%s': expected an extent alignment that is a multiple of 4096 bytes, got %" PRIu64,
                           path, align_bytes);
    if (max_rows == 0 || max_rows > SIZE_MAX / sizeof(struct vm_blkio))
        max_rows = SIM_BLOCKTRACE_MAX_ROWS;
    struct reader r = { .path = path, .max_rows = max_rows, .bt = out, .d = d };
    int rc = sim_gz_open(path, "a blocktrace file", 0, &r.gz, NULL, d);
    if (rc)
        return rc;
    gzbuffer(r.gz, READ_CHUNK);
    r.buf = malloc(BUF_BYTES + 1);
    if (!r.buf) {
        rc = vm_diag_set(d, VM_ENOMEM, "'%s': out of memory", path);
        goto out;
    }
    for (;;) {
        if ((rc = refill(&r)) || (rc = parse_lines(&r)))
            goto out;
        if (r.eof && r.pos >= r.len)
            break;
    }
    if (r.line == 0)
        rc = vm_diag_set(d, VM_EPARSE, "%s:1: expected the header '%s', got end of file", path,
                         SIM_BLOCKTRACE_HEADER);
    else if (out->nr_ios == 0)
        rc = vm_diag_set(d, VM_EPARSE, "%s:2: expected a row, got end of file", path);
    else
        rc = lay_out(&r, disk_sectors, start_sector, align_bytes);
out:
    gzclose(r.gz);
    free(r.buf);
    free(r.file_of);
    files_free(&r.files);
    if (rc)
        sim_blocktrace_free(out);
    return rc;
}

int sim_blocktrace_load(const char *path, uint64_t disk_sectors, uint64_t start_sector,
                        uint64_t align_bytes, struct sim_blocktrace *out, struct vm_diag *d)
{
    return sim_blocktrace_load_max(path, disk_sectors, start_sector, align_bytes, 0, out, d);
}

struct span {
    uint64_t first, end;
};

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

uint64_t sim_blocktrace_distinct_sectors(const struct sim_blocktrace *bt)
{
    struct span *sp = malloc((bt->nr_ios ? bt->nr_ios : 1) * sizeof(*sp));
    if (!sp)
        return UINT64_MAX;
    size_t n = 0;
    for (size_t i = 0; i < bt->nr_ios; i++)
        if (bt->ios[i].op != VM_BLKIO_FLUSH)
            sp[n++] = (struct span){ bt->ios[i].sector, bt->ios[i].sector + bt->ios[i].nr };
    qsort(sp, n, sizeof(*sp), span_cmp);
    uint64_t total = 0, covered_to = 0;     /* the union of [first, end) so far ends here */
    for (size_t i = 0; i < n; i++) {
        uint64_t from = sp[i].first > covered_to ? sp[i].first : covered_to;
        if (sp[i].end > from)
            total += sp[i].end - from;
        if (sp[i].end > covered_to)
            covered_to = sp[i].end;
    }
    free(sp);
    return total;
}

void sim_blocktrace_free(struct sim_blocktrace *bt)
{
    if (!bt)
        return;
    free(bt->ios);
    memset(bt, 0, sizeof(*bt));
}
