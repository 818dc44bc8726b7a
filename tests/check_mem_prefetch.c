/*
 * check_mem_prefetch.c - unit tests of the replay loop's group prefetch
 * (sim_mem_prefetch_groups / sim_mem_prefetch_replay in sim_mem.h): a
 * speed-up that must change no state of the guest memory model, whatever
 * the records are (mapped or not, non-canonical, an address space not
 * set up), and that must leave a replay's results, the page-table
 * entries' A and D bits included, as they are without it, when its
 * accesses go through the last-level tables it kept
 * (sim_mem_translate_replay).  Suite "mem_prefetch".
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest_pt.h"
#include "sim_mem.h"

#define MiB (1ull << 20)

static struct sim_mem *new_vm(uint64_t bytes)
{
    struct sim_exp_vm vm = { .memory_bytes = bytes, .aging = 0.5, .paging_levels = 4,
                             .content = { 0.25, 0.25, 0.10, 0.40 } };
    struct sim_mem *m = NULL;
    struct vm_diag d = { 0 };
    ck_assert_msg(sim_mem_new(&vm, 7, &m, &d) == 0, "sim_mem_new: %s", d.msg);
    return m;
}

/* What a prefetch could wrongly change: page lines, TLB, tables, counts. */
struct snap {
    struct sim_mem_line *lines;
    struct sim_mem_tlbe tlb[SIM_MEM_TLB_ENTRIES];
    uint64_t mapped, as_mapped, tables, pte[64];
};

static void take_snap(struct sim_mem *m, const uint64_t *gva_pages, size_t n, struct snap *s)
{
    size_t bytes = (m->nr_pages + 63) / 64 * sizeof *m->lines;
    s->lines = malloc(bytes);
    ck_assert_ptr_nonnull(s->lines);
    memcpy(s->lines, m->lines, bytes);
    memcpy(s->tlb, m->as[0].tlb, sizeof s->tlb);
    s->mapped = m->mapped_pages;
    s->as_mapped = guest_as_nr_mapped(sim_mem_as(m, 0));
    s->tables = guest_vm_nr_tables(sim_mem_guest(m));
    ck_assert_uint_le(n, 64);
    for (size_t i = 0; i < n; i++) {
        struct guest_walk w;
        s->pte[i] = guest_pt_walk(sim_mem_as(m, 0), gva_pages[i] << 12, &w, NULL) == 0
                        ? w.entry : 0;          /* the leaf with its A and D bits */
    }
}

static void assert_same(struct sim_mem *m, const uint64_t *gva_pages, size_t n,
                        const struct snap *a)
{
    struct snap b;
    take_snap(m, gva_pages, n, &b);
    size_t bytes = (m->nr_pages + 63) / 64 * sizeof *m->lines;
    ck_assert_msg(memcmp(a->lines, b.lines, bytes) == 0, "a page line changed");
    ck_assert_msg(memcmp(a->tlb, b.tlb, sizeof a->tlb) == 0, "the software TLB changed");
    ck_assert_uint_eq(a->mapped, b.mapped);
    ck_assert_uint_eq(a->as_mapped, b.as_mapped);
    ck_assert_uint_eq(a->tables, b.tables);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(a->pte[i] == b.pte[i], "PTE of gva page %#llx changed",
                      (unsigned long long)gva_pages[i]);
    free(b.lines);
}

/* Records over every kind of page; some mapped (read and written) first. */
static size_t make_records(struct sim_mem *m, struct sim_access *recs, uint64_t *pages)
{
    size_t n = 0;
    for (uint64_t k = 0; k < 24; k++) {         /* mapped: 24 pages in 3 regions */
        uint64_t p = (k % 3) * 0x40000 + k * 7, gpa;
        ck_assert_int_eq(sim_mem_translate_as(m, 0, p, k & 1, &gpa), 0);
        pages[n] = p;
        recs[n++] = sim_access_make(p, k & 1 ? SIM_OP_WRITE : SIM_OP_READ, 1);
    }
    for (uint64_t k = 0; k < 24; k++) {         /* never mapped */
        pages[n] = 0x7f0000000ull + k * 513;
        recs[n] = sim_access_make(pages[n], k & 1 ? SIM_OP_WRITE : SIM_OP_READ, 1);
        n++;
    }
    /* not canonical for 4 levels; and the vsyscall page (canonical) */
    pages[n] = 0x0000900000000000ull >> 12;
    recs[n] = sim_access_make(pages[n], SIM_OP_WRITE, 1);
    n++;
    pages[n] = 0xffffffffff600000ull >> 12 & ((1ull << 52) - 1);
    recs[n] = sim_access_make(pages[n], SIM_OP_READ, 1);
    n++;
    return n;
}

START_TEST(test_prefetch_changes_no_state)
{
    struct sim_mem *m = new_vm(64 * MiB);
    struct sim_access recs[64];
    uint64_t pages[64];
    size_t n = make_records(m, recs, pages);
    struct snap before;
    take_snap(m, pages, n, &before);
    /* as a replay loop calls it, from every start the buffer can have */
    for (size_t start = 0; start < n; start++) {
        struct sim_mem_pf pf = { 0 };
        for (size_t i = start; i < n; i++)
            sim_mem_prefetch_replay(m, 0, recs + start, n - start, i - start, &pf);
    }
    struct sim_mem_pf pf = { 0 };
    for (size_t i = 0; i < n; i++)
        sim_mem_prefetch_groups(m, 0, recs, n, i, &pf);
    /* an address space that is not set up: nothing */
    sim_mem_prefetch_groups(m, 5, recs, n, 0, &pf);
    assert_same(m, pages, n, &before);
    free(before.lines);
    sim_mem_free(m);
}
END_TEST

/* A replay with the prefetch (its accesses through the tables it kept,
 * sim_mem_translate_replay) and one without end in the same state.  The
 * buffer restarts every `restart` records (pf->next = 0, as a vCPU's
 * refill does), and the prefetch skips every `skip`-th call (a loop that
 * calls it at other records: a kept table must never serve a record it
 * was not taken for). */
static void replay(struct sim_mem *m, const struct sim_access *recs, size_t n, bool prefetch,
                   size_t restart, size_t skip)
{
    struct sim_mem_pf pf = { 0 };
    for (size_t i = 0; i < n; i++) {
        size_t b = i / restart * restart;       /* this buffer's first record */
        if (i == b)
            pf.next = 0;
        if (prefetch && (i == b || i % skip))
            sim_mem_prefetch_replay(m, 0, recs + b, n - b < restart ? n - b : restart, i - b,
                                    &pf);
        uint64_t gpa, page = sim_access_page(&recs[i]);
        bool w = sim_access_op(&recs[i]) == SIM_OP_WRITE;
        int rc = prefetch ? sim_mem_translate_replay(m, 0, page, w, &gpa, &pf, i - b)
                          : sim_mem_translate_as(m, 0, page, w, &gpa);
        if (rc == 0)
            sim_mem_apply(m, gpa, w);
    }
}

/* Every record's leaf entry (A and D bits included) is the same in a and b. */
static void assert_same_leaves(struct sim_mem *a, struct sim_mem *b,
                               const struct sim_access *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t gva = sim_access_page(&recs[i]) << 12;
        struct guest_walk wa, wb;
        int ra = guest_pt_walk(sim_mem_as(a, 0), gva, &wa, NULL);
        int rb = guest_pt_walk(sim_mem_as(b, 0), gva, &wb, NULL);
        ck_assert_int_eq(ra, rb);
        if (ra == 0)
            ck_assert_msg(wa.entry == wb.entry, "leaf of gva %#llx: %#llx, without %#llx",
                          (unsigned long long)gva, (unsigned long long)wa.entry,
                          (unsigned long long)wb.entry);
    }
}

START_TEST(test_replay_with_prefetch_ends_as_without)
{
    enum { N = 5000 };
    struct sim_access *recs = malloc(N * sizeof *recs);
    ck_assert_ptr_nonnull(recs);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        recs[i] = sim_access_make(x % 30000, x >> 60 < 4 ? SIM_OP_WRITE : SIM_OP_READ, 1);
    }
    static const size_t shapes[][2] = { { N, N + 1 }, { 1000, N + 1 }, { 77, 5 } };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        struct sim_mem *a = new_vm(256 * MiB), *b = new_vm(256 * MiB);
        /* twice: the first pass maps pages (tables grow and move), the
         * second runs on mapped pages, mostly through kept tables */
        for (int pass = 0; pass < 2; pass++) {
            replay(a, recs, N, true, shapes[s][0], shapes[s][1]);
            replay(b, recs, N, false, shapes[s][0], shapes[s][1]);
        }
        ck_assert_uint_eq(a->mapped_pages, b->mapped_pages);
        for (uint64_t p = 0; p < a->nr_pages; p++) {
            ck_assert_uint_eq(sim_mem_test(a, SIM_MEM_ACCESSED, p),
                              sim_mem_test(b, SIM_MEM_ACCESSED, p));
            ck_assert_uint_eq(sim_mem_fp(a, p), sim_mem_fp(b, p));
        }
        assert_same_leaves(a, b, recs, N);
        sim_mem_free(a);
        sim_mem_free(b);
    }
    free(recs);
}
END_TEST

/* One pf for two processes in turn: a table kept for one never serves the
 * other's access to the same virtual page (each maps it to its own frame). */
START_TEST(test_kept_tables_stay_with_their_address_space)
{
    struct sim_mem *m = new_vm(64 * MiB);
    ck_assert_int_eq(sim_mem_set_address_spaces(m, 2), 0);
    enum { N = 300 };
    struct sim_access recs[N];
    for (size_t i = 0; i < N; i++)
        recs[i] = sim_access_make(0x1000 + i % 128, SIM_OP_READ, 1);   /* 4 groups a lap */
    uint64_t want[2][N];
    for (uint32_t a = 0; a < 2; a++)
        for (size_t i = 0; i < N; i++)
            ck_assert_int_eq(sim_mem_translate_as(m, a, sim_access_page(&recs[i]), false,
                                                  &want[a][i]), 0);
    ck_assert_uint_ne(want[0][0], want[1][0]);
    struct sim_mem_pf pf = { 0 };
    for (int round = 0; round < 4; round++) {
        uint32_t a = round & 1;
        pf.next = 0;
        /* the TLB holds every page when the first steps look: they keep
         * no table, and the slots hold what the other process's round left */
        for (size_t i = 0; i < N; i++) {
            uint64_t gpa;
            ck_assert_int_eq(sim_mem_translate_as(m, a, sim_access_page(&recs[i]), false, &gpa), 0);
        }
        for (size_t i = 0; i < N; i++) {
            sim_mem_prefetch_replay(m, a, recs, N, i, &pf);
            /* empty the TLB so that every access goes through the kept tables */
            memset(m->as[a].tlb, 0, sizeof m->as[a].tlb);
            if (i >= 5 * SIM_MEM_PF_GROUP) {        /* the steps kept a current table */
                const struct sim_mem_pf_leaf *k = sim_mem_pf_kept(&pf, i);
                ck_assert_uint_eq(k->page, sim_access_page(&recs[i]));
                ck_assert_ptr_nonnull(guest_leaf_pte(&k->ref, k->page << 12, *m->pt_gen));
            }
            uint64_t gpa;
            ck_assert_int_eq(sim_mem_translate_replay(m, a, sim_access_page(&recs[i]), false,
                                                      &gpa, &pf, i), 0);
            ck_assert_uint_eq(gpa, want[a][i]);
        }
    }
    sim_mem_free(m);
}
END_TEST

static Suite *mem_prefetch_suite(void)
{
    Suite *s = suite_create("mem_prefetch");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_prefetch_changes_no_state);
    tcase_add_test(tc, test_replay_with_prefetch_ends_as_without);
    tcase_add_test(tc, test_kept_tables_stay_with_their_address_space);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mem_prefetch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
