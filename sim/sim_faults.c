/*
 * sim_faults.c - fault injection as a core service (see sim_faults.h):
 * message decisions for the transport, timers for host faults, seeded
 * random schedules and their JSON text.
 *
 * Based on Jepsen's nemesis (a schedule of partitions, crashes and clock
 * faults drawn from a seed, replayed from its text) on the simulator's
 * ports: the timer port delivers host faults, the transport asks about
 * each message.  Everything is decided from the seed and the call order,
 * so a run replays exactly.
 */
#include "sim_faults.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_rand.h"
#include "sim_cfg.h"
#include "sim_transport.h"

/* Loss draws: this base plus the fault's index (the drawn instants use
 * sim_exp_fault_at()'s streams); schedules: one stream of the seed. */
enum { STREAM_LOSS = 0x6c6f7300, STREAM_DRAW = 0x6e656d00 };

_Static_assert(_Generic(&sim_faults_transport_filter, sim_transport_filter_fn: 1, default: 0),
               "sim_faults_transport_filter is the transport's hook as it is");

struct armed {                           /* one timer: a host fault's begin or end */
    struct sim_faults *f;
    int index;
    bool begin;
    uint64_t id;                         /* the port's id; 0 once run or cancelled */
};

struct sim_faults {
    struct sim_exp_fault faults[SIM_MAX_FAULTS];
    int n;
    uint64_t t0_ns;
    uint64_t begin_ns[SIM_MAX_FAULTS];   /* host faults: absolute begin and end */
    uint64_t end_ns[SIM_MAX_FAULTS];
    struct vm_rand loss[SIM_MAX_FAULTS]; /* msg_loss: its own stream */
    char default_host[SIM_NAME_MAX];
    /* armed timers */
    struct port_timer *timer;
    sim_fault_handler fn;
    void *arg;
    struct armed armed[2 * SIM_MAX_FAULTS];
    int nr_armed;
};

static bool is_host_kind(enum sim_fault_kind k)
{
    return (SIM_FAULT_HOST_KINDS & SIM_FAULT_BIT(k)) != 0;
}

static bool is_msg_kind(enum sim_fault_kind k)
{
    return (SIM_FAULT_MSG_KINDS & SIM_FAULT_BIT(k)) != 0;
}

/* t + d, saturating (a window to the end of the run stays there). */
static uint64_t add_sat(uint64_t t, uint64_t d)
{
    return t > UINT64_MAX - d ? UINT64_MAX : t + d;
}

struct sim_faults *sim_faults_new(const struct sim_exp_fault *faults, int n, uint64_t t0_ns,
                                  uint64_t seed, const char *default_host, struct vm_diag *d)
{
    if (n < 0 || n > SIM_MAX_FAULTS || (n > 0 && !faults)) {
        vm_diag_set(d, VM_EINVAL, "faults: expected 0..%d faults, got %d", SIM_MAX_FAULTS, n);
        return NULL;
    }
    struct sim_faults *f = calloc(1, sizeof *f);
    if (!f) {
        vm_diag_set(d, VM_ENOMEM, "faults: out of memory");
        return NULL;
    }
    if (n > 0)
        memcpy(f->faults, faults, sizeof *faults * (size_t)n);
    f->n = n;
    f->t0_ns = t0_ns;
    snprintf(f->default_host, sizeof f->default_host, "%s", default_host ? default_host : "");
    for (int i = 0; i < n; i++) {
        const struct sim_exp_fault *x = &f->faults[i];
        vm_rand_init(&f->loss[i], seed, STREAM_LOSS + (uint64_t)i);
        if (!is_host_kind(x->kind))
            continue;
        f->begin_ns[i] = add_sat(t0_ns, sim_exp_fault_at(x, seed, i));
        f->end_ns[i] = add_sat(f->begin_ns[i], x->kind == SIM_FAULT_CLOCK_PAUSE
                                                   ? x->duration_ns : x->restart_after_ns);
    }
    return f;
}

void sim_faults_free(struct sim_faults *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->nr_armed; i++)
        if (f->armed[i].id)
            port_timer_cancel(f->timer, f->armed[i].id);
    free(f);
}

/* ------------------------------------------------------------ messages */

static bool end_is(const char *want, const char *host)
{
    return !want[0] || strcmp(want, host) == 0;
}

/* Does message fault x cover a message between hosts p and q (either way)? */
static bool covers(const struct sim_exp_fault *x, const char *p, const char *q)
{
    return (end_is(x->a, p) && end_is(x->b, q)) || (end_is(x->a, q) && end_is(x->b, p));
}

bool sim_faults_msg(struct sim_faults *f, const char *from_host, const char *to_host,
                    uint64_t now_ns, uint64_t *delay_ns)
{
    bool lost = false;
    uint64_t delay = 0;
    for (int i = 0; i < f->n && now_ns >= f->t0_ns; i++) {
        const struct sim_exp_fault *x = &f->faults[i];
        uint64_t rel = now_ns - f->t0_ns;
        if (!is_msg_kind(x->kind) || rel < x->from_ns || rel >= x->until_ns ||
            !covers(x, from_host, to_host))
            continue;
        switch (x->kind) {
        case SIM_FAULT_PARTITION:
            lost = true;
            break;
        case SIM_FAULT_MSG_LOSS:
            /* a draw for every match, lost or not: the stream stays aligned */
            if (vm_rand_double(&f->loss[i]) < x->p)
                lost = true;
            break;
        case SIM_FAULT_MSG_DELAY:
            delay = add_sat(delay, x->delay_ns);
            break;
        default:
            break;
        }
    }
    if (delay_ns)
        *delay_ns = lost ? 0 : delay;
    return lost;
}

bool sim_faults_transport_filter(void *f, const char *from_host, const char *to_host,
                                 uint64_t now_ns, uint64_t *delay_ns)
{
    return sim_faults_msg(f, from_host, to_host, now_ns, delay_ns);
}

/* ------------------------------------------------------------ host faults */

static void on_timer(void *arg)
{
    struct armed *a = arg;
    struct sim_faults *f = a->f;
    const struct sim_exp_fault *x = &f->faults[a->index];
    struct sim_fault_event ev = {
        .kind = x->kind, .index = a->index,
        .host = x->host[0] ? x->host : f->default_host, .begin = a->begin,
        .begin_ns = f->begin_ns[a->index], .end_ns = f->end_ns[a->index],
    };
    ev.now_ns = a->begin ? ev.begin_ns : ev.end_ns;
    a->id = 0;
    /* last: the handler may free f (and a with it) */
    f->fn(f->arg, &ev);
}

int sim_faults_arm(struct sim_faults *f, struct port_timer *timer, sim_fault_handler fn,
                   void *arg)
{
    if (f->timer)
        return VM_EBUSY;
    f->timer = timer;
    f->fn = fn;
    f->arg = arg;
    for (int i = 0; i < f->n; i++) {
        if (!is_host_kind(f->faults[i].kind))
            continue;
        for (int end = 0; end < 2; end++) {
            struct armed *a = &f->armed[f->nr_armed];
            *a = (struct armed){ .f = f, .index = i, .begin = !end };
            a->id = port_timer_arm(timer, end ? f->end_ns[i] : f->begin_ns[i], on_timer, a);
            if (a->id == 0)
                goto nomem;
            f->nr_armed++;
        }
    }
    return 0;
nomem:
    for (int i = 0; i < f->nr_armed; i++)
        port_timer_cancel(timer, f->armed[i].id);
    f->nr_armed = 0;
    f->timer = NULL;
    return VM_ENOMEM;
}

int sim_faults_pending(const struct sim_faults *f)
{
    int n = 0;
    for (int i = 0; i < f->nr_armed; i += 2)   /* a fault's begin, then its end */
        n += f->armed[i].id || f->armed[i + 1].id;
    return n;
}

/* ------------------------------------------------------------ schedules */

static uint64_t draw_range(struct vm_rand *r, uint64_t lo, uint64_t hi)
{
    return hi - lo == UINT64_MAX ? vm_rand_u64(r) : lo + vm_rand_below(r, hi - lo + 1);
}

static bool space_ok(const struct sim_fault_space *s)
{
    const unsigned takes = SIM_FAULT_HOST_KINDS | SIM_FAULT_MSG_KINDS;
    const uint64_t tmax = (uint64_t)SIM_CFG_TIME_MAX_NS;
    int ends = s->nr_hosts + (s->storage_host ? 1 : 0);
    if (s->kinds == 0 || (s->kinds & ~takes) || s->nr_hosts < 1 || !s->hosts ||
        s->min_faults < 0 || s->min_faults > s->max_faults || s->horizon_ns == 0 ||
        s->horizon_ns > tmax)
        return false;
    if ((s->kinds & SIM_FAULT_MSG_KINDS) && ends < 2)
        return false;
    for (int i = 0; i < s->nr_hosts; i++)
        if (!s->hosts[i] || !s->hosts[i][0] || strlen(s->hosts[i]) >= SIM_NAME_MAX)
            return false;
    if (s->storage_host && (!s->storage_host[0] || strlen(s->storage_host) >= SIM_NAME_MAX))
        return false;
    /* each range used must be ordered and keep the fault's times in a config's range */
    struct { unsigned kinds; uint64_t lo, hi, least; } r[] = {
        { SIM_FAULT_BIT(SIM_FAULT_HOST_CRASH) | SIM_FAULT_BIT(SIM_FAULT_DAEMON_CRASH),
          s->down_min_ns, s->down_max_ns, 0 },
        { SIM_FAULT_BIT(SIM_FAULT_CLOCK_PAUSE), s->pause_min_ns, s->pause_max_ns, 1 },
        { SIM_FAULT_MSG_KINDS, s->cut_min_ns, s->cut_max_ns, 1 },
        { SIM_FAULT_BIT(SIM_FAULT_MSG_DELAY), s->delay_min_ns, s->delay_max_ns, 1 },
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if ((s->kinds & r[i].kinds) &&
            (r[i].lo < r[i].least || r[i].lo > r[i].hi || r[i].hi > tmax - s->horizon_ns))
            return false;
    if ((s->kinds & SIM_FAULT_BIT(SIM_FAULT_MSG_LOSS)) &&
        !(s->p_min >= 0 && s->p_min <= s->p_max && s->p_max <= 1))
        return false;
    return true;
}

/* The ends a message fault may join: the hosts, then the storage host. */
static const char *end_name(const struct sim_fault_space *s, uint64_t i)
{
    return i < (uint64_t)s->nr_hosts ? s->hosts[i] : s->storage_host;
}

static void draw_one(struct vm_rand *r, const struct sim_fault_space *s,
                     struct sim_exp_fault *x)
{
    int kinds[SIM_FAULT_NR], nk = 0;
    for (int k = 0; k < SIM_FAULT_NR; k++)
        if (s->kinds & SIM_FAULT_BIT(k))
            kinds[nk++] = k;
    memset(x, 0, sizeof *x);
    x->kind = (enum sim_fault_kind)kinds[vm_rand_below(r, (uint64_t)nk)];
    x->until_ns = UINT64_MAX;            /* as the config walk leaves it */
    uint64_t begin = vm_rand_below(r, s->horizon_ns);
    if (is_host_kind(x->kind)) {
        snprintf(x->host, sizeof x->host, "%s",
                 s->hosts[vm_rand_below(r, (uint64_t)s->nr_hosts)]);
        x->at_ns = begin;
        if (x->kind == SIM_FAULT_CLOCK_PAUSE)
            x->duration_ns = draw_range(r, s->pause_min_ns, s->pause_max_ns);
        else
            x->restart_after_ns = draw_range(r, s->down_min_ns, s->down_max_ns);
        return;
    }
    uint64_t ends = (uint64_t)s->nr_hosts + (s->storage_host ? 1 : 0);
    uint64_t ia = vm_rand_below(r, ends), ib = vm_rand_below(r, ends - 1);
    ib += ib >= ia;                      /* two different ends */
    snprintf(x->a, sizeof x->a, "%s", end_name(s, ia));
    snprintf(x->b, sizeof x->b, "%s", end_name(s, ib));
    x->from_ns = begin;
    x->until_ns = begin + draw_range(r, s->cut_min_ns, s->cut_max_ns);
    if (x->kind == SIM_FAULT_MSG_LOSS)
        x->p = s->p_min + (s->p_max - s->p_min) * vm_rand_double(r);
    else if (x->kind == SIM_FAULT_MSG_DELAY)
        x->delay_ns = draw_range(r, s->delay_min_ns, s->delay_max_ns);
}

static uint64_t begin_of(const struct sim_exp_fault *x)
{
    return is_host_kind(x->kind) ? x->at_ns : x->from_ns;
}

int sim_faults_draw(uint64_t seed, const struct sim_fault_space *space,
                    struct sim_exp_fault *out, int max)
{
    if (!space_ok(space))
        return VM_EINVAL;
    if (max < space->max_faults)
        return VM_ENOSPC;
    struct vm_rand r;
    vm_rand_init(&r, seed, STREAM_DRAW);
    int n = (int)draw_range(&r, (uint64_t)space->min_faults, (uint64_t)space->max_faults);
    for (int i = 0; i < n; i++) {
        struct sim_exp_fault x;
        draw_one(&r, space, &x);
        int j = i;                       /* insertion: by begin, then drawing order */
        for (; j > 0 && begin_of(&out[j - 1]) > begin_of(&x); j--)
            out[j] = out[j - 1];
        out[j] = x;
    }
    return n;
}

/* ------------------------------------------------------------ text */

struct text {
    char *buf;
    size_t len, n;                       /* n: the whole text's length so far */
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->n < t->len ? t->buf + t->n : NULL, t->n < t->len ? t->len - t->n : 0,
                      fmt, ap);
    va_end(ap);
    if (w > 0)
        t->n += (size_t)w;
}

/* A JSON string: host ids are plain, but quote what must be. */
static void put_str(struct text *t, const char *key, const char *s)
{
    put(t, ", \"%s\": \"", key);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            put(t, "\\%c", c);
        else if (c < 0x20)
            put(t, "\\u%04x", c);
        else
            put(t, "%c", c);
    }
    put(t, "\"");
}

/* A time as the config reads it back exactly: the largest unit dividing it. */
static void put_time(struct text *t, const char *key, uint64_t ns)
{
    static const struct { const char *name; uint64_t mult; } u[] = {
        { "s", 1000000000ull }, { "ms", 1000000ull }, { "us", 1000ull },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        if (ns >= u[i].mult && ns % u[i].mult == 0) {
            put(t, ", \"%s\": \"%" PRIu64 "%s\"", key, ns / u[i].mult, u[i].name);
            return;
        }
    put(t, ", \"%s\": \"%" PRIu64 "ns\"", key, ns);
}

static void put_instant(struct text *t, const struct sim_exp_fault *x)
{
    if (!x->drawn) {
        put_time(t, "at", x->at_ns);
        return;
    }
    put_time(t, "from", x->from_ns);
    put_time(t, "until", x->until_ns);
}

static void put_window(struct text *t, const struct sim_exp_fault *x)
{
    put_time(t, "from", x->from_ns);
    if (x->until_ns != UINT64_MAX)
        put_time(t, "until", x->until_ns);
}

static void put_ends(struct text *t, const struct sim_exp_fault *x)
{
    if (x->a[0])
        put_str(t, "a", x->a);
    if (x->b[0])
        put_str(t, "b", x->b);
    put_window(t, x);
}

int sim_faults_format(const struct sim_exp_fault *faults, int n, char *buf, size_t len)
{
    struct text t = { .buf = buf, .len = len };
    if (len > 0)
        buf[0] = '\0';
    put(&t, "[");
    for (int i = 0; i < n; i++) {
        const struct sim_exp_fault *x = &faults[i];
        if ((unsigned)x->kind >= SIM_FAULT_NR)
            return VM_EINVAL;
        put(&t, "%s\n  {\"kind\": \"%s\"", i ? "," : "", sim_fault_kind_name(x->kind));
        switch (x->kind) {
        case SIM_FAULT_DISK_ERROR:
            put(&t, ", \"op\": \"%s\", \"after_ios\": %" PRIu64 ", \"count\": %" PRIu64,
                x->on_write ? "write" : "read", x->after_ios, x->count);
            break;
        case SIM_FAULT_DISK_SLOW:
            put(&t, ", \"factor\": %.17g", x->factor);
            put_window(&t, x);
            break;
        case SIM_FAULT_HOST_CRASH:
        case SIM_FAULT_DAEMON_CRASH:
            if (x->host[0])
                put_str(&t, "host", x->host);
            put_instant(&t, x);
            put_time(&t, "restart_after", x->restart_after_ns);
            break;
        case SIM_FAULT_CLOCK_PAUSE:
            put_str(&t, "host", x->host);
            put_instant(&t, x);
            put_time(&t, "duration", x->duration_ns);
            break;
        case SIM_FAULT_PARTITION:
            put_ends(&t, x);
            break;
        case SIM_FAULT_MSG_LOSS:
            put(&t, ", \"p\": %.17g", x->p);
            put_ends(&t, x);
            break;
        case SIM_FAULT_MSG_DELAY:
            put_time(&t, "delay", x->delay_ns);
            put_ends(&t, x);
            break;
        case SIM_FAULT_NR:
            return VM_EINVAL;
        }
        put(&t, "}");
    }
    put(&t, "%s]", n ? "\n" : "");
    return t.n > (size_t)INT32_MAX ? VM_EINVAL : (int)t.n;
}
