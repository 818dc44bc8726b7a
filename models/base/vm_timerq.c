/*
 * vm_timerq.c - pending timers as a binary min-heap on (deadline,
 * sequence) with cancel by id (see vm_timerq.h).
 *
 * Timers live in slots (a growable array with a free list); the heap
 * holds slot numbers and each slot its heap position, so cancel removes
 * the timer at once rather than leaving a tombstone that a long-lived
 * retry timer would keep in the heap.  An id is (generation << 32) |
 * (slot + 1): a stale id names a slot whose generation moved on, so it is
 * VM_ENOENT, not somebody else's timer.
 */
#include "base/vm_timerq.h"

#include <assert.h>
#include <stdlib.h>

#include "base/vm_err.h"

#define NOT_QUEUED SIZE_MAX

struct slot {
    uint64_t when_ns;
    uint64_t seq;               /* arming order: FIFO among equal deadlines */
    port_timer_fn fn;
    void *arg;
    size_t pos;                 /* index in heap[], or NOT_QUEUED */
    uint32_t gen;               /* bumped each time the slot is freed */
    uint32_t next_free;         /* free list link (slot + 1; 0 ends it) */
};

struct vm_timerq {
    struct slot *slots;
    uint32_t nr_slots, cap_slots;
    uint32_t free_head;         /* first free slot + 1; 0: none */
    uint32_t *heap;             /* slot numbers; heap[0] is the earliest */
    size_t len;
    uint64_t next_seq;
};

struct vm_timerq *vm_timerq_new(void)
{
    return calloc(1, sizeof(struct vm_timerq));
}

void vm_timerq_free(struct vm_timerq *q)
{
    if (q == NULL)
        return;
    free(q->slots);
    free(q->heap);
    free(q);
}

static bool before(const struct vm_timerq *q, uint32_t a, uint32_t b)
{
    const struct slot *x = &q->slots[a], *y = &q->slots[b];
    return x->when_ns != y->when_ns ? x->when_ns < y->when_ns : x->seq < y->seq;
}

static void place(struct vm_timerq *q, size_t pos, uint32_t s)
{
    q->heap[pos] = s;
    q->slots[s].pos = pos;
}

static void sift_up(struct vm_timerq *q, size_t pos)
{
    uint32_t s = q->heap[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (!before(q, s, q->heap[parent]))
            break;
        place(q, pos, q->heap[parent]);
        pos = parent;
    }
    place(q, pos, s);
}

static void sift_down(struct vm_timerq *q, size_t pos)
{
    uint32_t s = q->heap[pos];
    for (;;) {
        size_t c = 2 * pos + 1;
        if (c >= q->len)
            break;
        if (c + 1 < q->len && before(q, q->heap[c + 1], q->heap[c]))
            c++;
        if (!before(q, q->heap[c], s))
            break;
        place(q, pos, q->heap[c]);
        pos = c;
    }
    place(q, pos, s);
}

/* Take slot s out of the heap and put it on the free list. */
static void remove_at(struct vm_timerq *q, uint32_t s)
{
    size_t pos = q->slots[s].pos;
    assert(pos < q->len && q->heap[pos] == s && "a queued slot knows its heap position");
    q->len--;
    if (pos < q->len) {
        uint32_t moved = q->heap[q->len];
        place(q, pos, moved);
        /* the last timer, moved into the hole, may belong above or below it */
        sift_up(q, pos);
        sift_down(q, q->slots[moved].pos);
    }
    q->slots[s].pos = NOT_QUEUED;
    q->slots[s].gen++;
    q->slots[s].next_free = q->free_head;
    q->free_head = s + 1;
}

static int grow(struct vm_timerq *q)
{
    uint32_t cap = q->cap_slots ? q->cap_slots * 2 : 16;
    if (cap <= q->cap_slots)
        return VM_ENOMEM;                       /* 2^32 slots: out of ids */
    struct slot *ns = realloc(q->slots, (size_t)cap * sizeof(*ns));
    if (ns == NULL)
        return VM_ENOMEM;
    q->slots = ns;
    uint32_t *nh = realloc(q->heap, (size_t)cap * sizeof(*nh));
    if (nh == NULL)
        return VM_ENOMEM;
    q->heap = nh;
    q->cap_slots = cap;
    return 0;
}

uint64_t vm_timerq_push(struct vm_timerq *q, uint64_t when_ns, port_timer_fn fn, void *arg)
{
    uint32_t s;

    if (q->free_head != 0) {
        s = q->free_head - 1;
        q->free_head = q->slots[s].next_free;
    } else {
        if (q->nr_slots == q->cap_slots && grow(q) != 0)
            return 0;
        s = q->nr_slots++;
        q->slots[s].gen = 0;
    }
    struct slot *t = &q->slots[s];
    t->when_ns = when_ns;
    t->seq = q->next_seq++;
    t->fn = fn;
    t->arg = arg;
    q->heap[q->len] = s;
    q->len++;
    sift_up(q, q->len - 1);
    return ((uint64_t)t->gen << 32) | ((uint64_t)s + 1);
}

int vm_timerq_cancel(struct vm_timerq *q, uint64_t id)
{
    uint64_t s1 = id & 0xffffffffu;
    if (s1 == 0 || s1 > q->nr_slots)
        return VM_ENOENT;
    uint32_t s = (uint32_t)(s1 - 1);
    if (q->slots[s].pos == NOT_QUEUED || q->slots[s].gen != (uint32_t)(id >> 32))
        return VM_ENOENT;
    remove_at(q, s);
    return 0;
}

bool vm_timerq_peek(const struct vm_timerq *q, uint64_t *when_ns)
{
    if (q->len == 0)
        return false;
    *when_ns = q->slots[q->heap[0]].when_ns;
    return true;
}

bool vm_timerq_pop(struct vm_timerq *q, struct vm_timerq_entry *e)
{
    if (q->len == 0)
        return false;
    uint32_t s = q->heap[0];
    const struct slot *t = &q->slots[s];
    e->when_ns = t->when_ns;
    e->id = ((uint64_t)t->gen << 32) | ((uint64_t)s + 1);
    e->fn = t->fn;
    e->arg = t->arg;
    remove_at(q, s);
    return true;
}

size_t vm_timerq_len(const struct vm_timerq *q)
{
    return q->len;
}
