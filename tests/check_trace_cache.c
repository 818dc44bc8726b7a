/*
 * check_trace_cache.c - Check suite "trace", what the readers write: the
 * binary cache next to a source or in a cache folder, rebuilt when stale;
 * the `vmsim trace` tools (sim_trace_tools.c); and the temporary-file
 * registry (sim_tempfile.c) the cache writer relies on: those tests fork
 * children that convert, exit or get killed.  Reading is
 * check_trace_read.c and check_trace_errors.c.
 *
 * Shipped traces are read from $VMSIM_SRCDIR/workloads/traces and never
 * written to: their caches go into the test's temporary folder.  Every
 * other input is written into a fresh mkdtemp folder per test
 * (tests/trace_rig.*).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "sim_tempfile.h"
#include "sim_trace.h"
#include "test_tmpdir.h"
#include "trace_rig.h"

/* ============================================================ cache */

static ino_t inode_of(const char *p)
{
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    return sb.st_ino;
}

START_TEST(test_trace_cache_created_next_to_the_source_then_reused)
{
    write_gz("c.pagetrace.gz", PT_HDR "R 1 1\nW 2 3\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("c.pagetrace.gz"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    char want[1024];
    snprintf(want, sizeof(want), "%s.vmtrace", tpath("c.pagetrace.gz"));
    ck_assert_str_eq(sim_trace_cache_path(t), want);
    ck_assert_uint_eq(sim_trace_nr_records(t), 2);
    ck_assert_uint_eq(sim_trace_total_accesses(t), 4);
    ck_assert_uint_eq(sim_trace_distinct_pages(t), 2);
    ck_assert(sim_trace_truncated(t));
    sim_trace_close(t);
    struct stat sb;
    ck_assert_int_eq(stat(want, &sb), 0);
    ck_assert_int_eq(sb.st_size, 128 + 2 * 16);
    ino_t ino = sb.st_ino;

    ck_assert_int_eq(sim_trace_open(tpath("c.pagetrace.gz"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(!sim_trace_cache_built(t));
    ck_assert_uint_eq(inode_of(want), ino);
    ck_assert_uint_eq(sim_trace_records(t)[1].count, 3);
    sim_trace_close(t);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 2);              /* no temporary left */
}
END_TEST

START_TEST(test_trace_cache_rebuilt_when_the_source_changes)
{
    write_plain("c.txt", PT_HDR "R 1 1\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    sim_trace_close(t);

    write_plain("c.txt", PT_HDR "R 1 1\nW 5 2\n");      /* new size */
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    ck_assert_uint_eq(sim_trace_nr_records(t), 2);
    sim_trace_close(t);

    write_plain("c.txt", PT_HDR "R 1 1\nW 6 2\n");      /* same size, new mtime */
    struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000000000, 123456789 } };
    ck_assert_int_eq(utimensat(AT_FDCWD, tpath("c.txt"), ts, 0), 0);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    ck_assert_uint_eq(sim_access_page(&sim_trace_records(t)[1]), 6);
    sim_trace_close(t);

    /* touching only the mtime also rebuilds; leaving it alone does not */
    ts[1].tv_nsec = 123456790;
    ck_assert_int_eq(utimensat(AT_FDCWD, tpath("c.txt"), ts, 0), 0);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    sim_trace_close(t);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(!sim_trace_cache_built(t));
    sim_trace_close(t);
}
END_TEST

START_TEST(test_trace_cache_rebuilt_when_its_header_is_bad)
{
    write_plain("c.txt", PT_HDR "R 1 1\nW 2 2\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    sim_trace_close(t);
    const char *cache = tpath("c.txt.vmtrace");

    int fd = open(cache, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "XXXX", 4, 0), 4);       /* bad magic */
    close(fd);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    sim_trace_close(t);

    ck_assert_int_eq(truncate(cache, 128 + 16), 0);     /* records cut off */
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    ck_assert_uint_eq(sim_trace_nr_records(t), 2);
    sim_trace_close(t);

    ck_assert_int_eq(truncate(cache, 10), 0);           /* header cut off */
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    sim_trace_close(t);
}
END_TEST

/* A cache of an older layout (version 1: 32-bit counts) is rebuilt. */
START_TEST(test_trace_cache_of_an_older_version_is_rebuilt)
{
    write_plain("c.txt", PT_HDR "R 1 1\nW 2 5\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    sim_trace_close(t);
    const char *cache = tpath("c.txt.vmtrace");
    uint32_t version;
    int fd = open(cache, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &version, 4, 8), 4);
    ck_assert_uint_ge(version, 2);
    version = 1;
    ck_assert_int_eq(pwrite(fd, &version, 4, 8), 4);
    close(fd);
    ck_assert_int_eq(sim_trace_open(tpath("c.txt"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    ck_assert_uint_eq(sim_trace_records(t)[1].count, 5);
    sim_trace_close(t);
}
END_TEST

START_TEST(test_trace_cache_in_a_cache_folder_is_named_by_path)
{
    write_gz("a.gz", PT_HDR "R 1 1\n");
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/sub/cache", tmpdir);
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open_in(tpath("a.gz"), SIM_TRACE_AUTO, cache, &t, &d), 0);
    ck_assert(sim_trace_cache_built(t));
    const char *p = sim_trace_cache_path(t);
    ck_assert_int_eq(strncmp(p, cache, strlen(cache)), 0);
    ck_assert_ptr_nonnull(strstr(p, "/a.gz."));
    ck_assert_int_eq(strcmp(p + strlen(p) - 8, ".vmtrace"), 0);
    sim_trace_close(t);
    ck_assert_int_eq(test_tmpdir_count(cache), 1);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 2);              /* a.gz, sub/: nothing next to a.gz */
    ck_assert_int_eq(sim_trace_open_in(tpath("a.gz"), SIM_TRACE_AUTO, cache, &t, &d), 0);
    ck_assert(!sim_trace_cache_built(t));
    sim_trace_close(t);
}
END_TEST

START_TEST(test_trace_lackey_source_opens_through_the_cache)
{
    write_gz("l.gz", "==9== Command: prog\nI  00001000,4\n L 00002000,8\n L 00002008,8\n");
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("l.gz"), SIM_TRACE_AUTO, &t, &d), 0);
    ck_assert_uint_eq(sim_trace_nr_records(t), 2);
    ck_assert_uint_eq(sim_trace_total_accesses(t), 3);
    ck_assert(sim_trace_truncated(t));                  /* no "Exit code:" */
    const struct sim_access *a = sim_trace_records(t);
    ck_assert_int_eq(sim_access_op(&a[0]), SIM_OP_EXEC);
    ck_assert_uint_eq(sim_access_page(&a[0]), 1);
    ck_assert_int_eq(sim_access_op(&a[1]), SIM_OP_READ);
    ck_assert_uint_eq(sim_access_page(&a[1]), 2);
    ck_assert_uint_eq(a[1].count, 2);
    sim_trace_close(t);
}
END_TEST

/* ============================================================ tools */

START_TEST(test_trace_reduce_tool_writes_the_same_records)
{
    char out[1024];
    snprintf(out, sizeof(out), "%s/s.pagetrace.gz", tmpdir);
    char *argv[] = { "reduce", (char *)shipped("sqlite3.raw-lackey.gz"), "-o", out, NULL };
    ck_assert_int_eq(sim_trace_main(4, argv), 0);
    struct sim_trace_stats st;
    struct recs a = parse_ok(out, SIM_TRACE_PAGETRACE, &st);
    struct recs b = parse_ok(shipped("sqlite3.raw-lackey.gz"), SIM_TRACE_LACKEY, NULL);
    ck_assert_str_eq(st.program, "sqlite3");
    ck_assert(st.has_trailer);
    ck_assert(st.truncated);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert_int_eq(memcmp(a.v, b.v, a.n * sizeof(*a.v)), 0);
    ck_assert_uint_eq(st.total_accesses, 199995);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);
    free(a.v);
    free(b.v);
}
END_TEST

START_TEST(test_trace_reduce_tool_program_option_and_complete_run)
{
    write_plain("l.txt", "I  00001000,4\n S 00002000,8\n==9== Exit code: 0\n");
    char out[1024];
    snprintf(out, sizeof(out), "%s/o.txt", tmpdir);
    char *argv[] = { "reduce", (char *)tpath("l.txt"), "--program", "myprog", "-o", out, NULL };
    ck_assert_int_eq(sim_trace_main(6, argv), 0);
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
    ck_assert_str_eq(line, "# vmsim pagetrace v1 page_size=4096 program=myprog\n");
    char last[256] = "";
    while (fgets(line, sizeof(line), f))
        snprintf(last, sizeof(last), "%s", line);
    fclose(f);
    ck_assert_str_eq(last, "# total_accesses=2 records=2 truncated=no\n");
}
END_TEST

START_TEST(test_trace_reduce_tool_bad_input_writes_nothing)
{
    write_plain("l.txt", "I  00001000,4\ngarbage\n");
    char out[1024];
    snprintf(out, sizeof(out), "%s/o.pagetrace.gz", tmpdir);
    char *argv[] = { "reduce", (char *)tpath("l.txt"), "-o", out, NULL };
    ck_assert_int_eq(sim_trace_main(4, argv), 2);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);
    char *argv2[] = { "reduce", (char *)tpath("missing"), "-o", out, NULL };
    ck_assert_int_eq(sim_trace_main(4, argv2), 2);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);
}
END_TEST

START_TEST(test_trace_tools_stats_and_convert_exit_status)
{
    write_gz("ok.gz", PT_HDR "R 1 1\n");
    write_plain("bad.txt", PT_HDR "R 1 0\n");
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
    char *stats_ok[] = { "stats", (char *)tpath("ok.gz"), NULL };
    ck_assert_int_eq(sim_trace_main(2, stats_ok), 0);
    char *stats_bad[] = { "stats", (char *)tpath("ok.gz"), (char *)tpath("bad.txt"), NULL };
    ck_assert_int_eq(sim_trace_main(3, stats_bad), 2);
    char *conv[] = { "convert", (char *)tpath("ok.gz"), "--cache-dir", cache, NULL };
    ck_assert_int_eq(sim_trace_main(4, conv), 0);
    ck_assert_int_eq(test_tmpdir_count(cache), 1);
    char *conv_bad[] = { "convert", (char *)tpath("bad.txt"), "--cache-dir", cache, NULL };
    ck_assert_int_eq(sim_trace_main(4, conv_bad), 2);
    ck_assert_int_eq(test_tmpdir_count(cache), 1);
    char *unknown[] = { "frobnicate", NULL };
    ck_assert_int_eq(sim_trace_main(1, unknown), 2);
    char *badopt[] = { "stats", "--format", "xml", (char *)tpath("ok.gz"), NULL };
    ck_assert_int_eq(sim_trace_main(4, badopt), 2);
}
END_TEST

/* ============================================================ temporary files */

/* A pagetrace of about `lines` records (plain text, so the conversion
 * takes a while even where gzip would be fast): one block of 4096 records
 * over distinct pages, written again and again. */
static void write_long_pagetrace(const char *name, long lines)
{
    FILE *f = fopen(tpath(name), "w");
    ck_assert_ptr_nonnull(f);
    static char block[4096 * 32];
    size_t n = 0;
    for (long i = 0; i < 4096; i++)
        n += (size_t)snprintf(block + n, sizeof(block) - n, "%c %lx %ld\n", "XRW"[i % 3],
                              (unsigned long)(0x4000 + i * 7), 1 + i % 5);
    ck_assert_int_gt(fputs(PT_HDR, f), 0);
    for (long k = 0; k < lines / 4096; k++)
        ck_assert_uint_eq(fwrite(block, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static const int kill_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };

/* Give the four signals their default actions, as in a vmsim process:
 * Check's fork mode leaves its own SIGTERM/SIGINT handlers (which kill the
 * whole test's process group) in the test process, and the registry
 * chains to whatever action it finds when it installs its handler. */
static void default_kill_signals(void)
{
    for (size_t i = 0; i < sizeof(kill_signals) / sizeof(kill_signals[0]); i++)
        signal(kill_signals[i], SIG_DFL);
}

/* A conversion killed by SIGTERM/SIGINT/SIGHUP/SIGPIPE once its temporary
 * cache file exists dies of that signal and leaves no file behind. */
START_TEST(test_trace_killed_conversion_leaves_no_temporary_file)
{
    int sig = kill_signals[_i];
    default_kill_signals();
    write_long_pagetrace("long.txt", 3000000);
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
    ck_assert_int_eq(mkdir(cache, 0755), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct sim_trace *t;
        struct vm_diag d;
        vm_diag_clear(&d);
        int rc = sim_trace_open_in(tpath("long.txt"), SIM_TRACE_AUTO, cache, &t, &d);
        _exit(rc == 0 ? 0 : 1);
    }
    bool seen = false;
    for (int i = 0; i < 60000 && !seen; i++) {        /* 60 s at most */
        seen = nr_files_with(cache, ".tmp.") > 0;
        if (!seen)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    if (seen)
        kill(pid, sig);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(seen, "no temporary cache file appeared");
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == sig,
                  "expected the child to die of signal %d, got status 0x%x (conversion too fast?)",
                  sig, status);
    ck_assert_int_eq(nr_files_with(cache, ".tmp."), 0);
    ck_assert_int_eq(test_tmpdir_count(cache), 0);               /* no half cache either */
}
END_TEST

/* At exit() the registered names are unlinked, the unregistered ones
 * (renamed into place) are not. */
START_TEST(test_tempfile_exit_removes_registered_files_only)
{
    write_plain("a.tmp", "a");
    write_plain("b.tmp", "b");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int rc = sim_tempfile_register(tpath("a.tmp"));
        rc |= sim_tempfile_register(tpath("b.tmp"));
        sim_tempfile_unregister(tpath("b.tmp"));
        sim_tempfile_unregister(tpath("never-registered"));
        exit(rc == 0 ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert(!exists(tpath("a.tmp")));
    ck_assert(exists(tpath("b.tmp")));
}
END_TEST

/* A child forked while a name is registered does not remove it when it
 * exits or is killed: only the process that registered it does. */
START_TEST(test_tempfile_forked_child_leaves_the_parents_files)
{
    default_kill_signals();
    write_plain("p.tmp", "p");
    ck_assert_int_eq(sim_tempfile_register(tpath("p.tmp")), 0);
    for (int k = 0; k < 2; k++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            if (k == 1)
                raise(SIGTERM);
            exit(0);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(exists(tpath("p.tmp")));
    }
    sim_tempfile_unregister(tpath("p.tmp"));
}
END_TEST

START_TEST(test_tempfile_table_is_bounded_and_mkstemp_registers)
{
    char name[64];
    int i = 0, rc = 0;
    for (; i < SIM_TEMPFILE_MAX + 1 && rc == 0; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        rc = sim_tempfile_register(tpath(name));
    }
    ck_assert_int_eq(rc, VM_ENOSPC);
    ck_assert_int_eq(i, SIM_TEMPFILE_MAX + 1);
    char tmpl[1024];
    snprintf(tmpl, sizeof(tmpl), "%s/m.XXXXXX", tmpdir);
    errno = 0;
    ck_assert_int_eq(sim_tempfile_mkstemp(tmpl), -1);   /* full: nothing is left */
    ck_assert_int_eq(errno, ENOSPC);
    ck_assert_int_eq(nr_files_with(tmpdir, "m."), 0);
    for (i = 0; i < SIM_TEMPFILE_MAX; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        sim_tempfile_unregister(tpath(name));
    }
    snprintf(tmpl, sizeof(tmpl), "%s/m.XXXXXX", tmpdir);
    int fd = sim_tempfile_mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    close(fd);
    pid_t pid = fork();                                  /* the child registered nothing */
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        exit(0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(exists(tmpl));
    char long_path[SIM_TEMPFILE_PATH_MAX + 8];
    memset(long_path, 'x', sizeof(long_path) - 1);
    long_path[sizeof(long_path) - 1] = 0;
    ck_assert_int_eq(sim_tempfile_register(long_path), VM_EINVAL);
    sim_tempfile_unregister(tmpl);
}
END_TEST

static Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");
    tcase_add_checked_fixture(tc, trace_setup, trace_teardown);
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_trace_cache_created_next_to_the_source_then_reused);
    tcase_add_test(tc, test_trace_cache_rebuilt_when_the_source_changes);
    tcase_add_test(tc, test_trace_cache_rebuilt_when_its_header_is_bad);
    tcase_add_test(tc, test_trace_cache_of_an_older_version_is_rebuilt);
    tcase_add_test(tc, test_trace_cache_in_a_cache_folder_is_named_by_path);
    tcase_add_test(tc, test_trace_lackey_source_opens_through_the_cache);
    tcase_add_test(tc, test_trace_reduce_tool_writes_the_same_records);
    tcase_add_test(tc, test_trace_reduce_tool_program_option_and_complete_run);
    tcase_add_test(tc, test_trace_reduce_tool_bad_input_writes_nothing);
    tcase_add_test(tc, test_trace_tools_stats_and_convert_exit_status);
    tcase_add_loop_test(tc, test_trace_killed_conversion_leaves_no_temporary_file, 0,
                        (int)(sizeof(kill_signals) / sizeof(kill_signals[0])));
    tcase_add_test(tc, test_tempfile_exit_removes_registered_files_only);
    tcase_add_test(tc, test_tempfile_forked_child_leaves_the_parents_files);
    tcase_add_test(tc, test_tempfile_table_is_bounded_and_mkstemp_registers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(trace_suite());
    /* every test in its own process: the temporary-file tests install
     * signal handlers and fork, which must not leak into other tests */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
