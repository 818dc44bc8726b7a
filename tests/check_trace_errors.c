/*
 * check_trace_errors.c - Check suite "trace", bad input: what the
 * pagetrace and lackey readers (sim/sim_trace.c) say about each malformed
 * line, truncated or missing file, and that a bad trace leaves no cache.
 * Good input is check_trace_read.c.
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

/* ============================================================ errors */

START_TEST(test_trace_error_bad_header)
{
    expect_parse_error("# vmsim pagetrace v2 page_size=4096 program=x\nR 1 1\n", SIM_TRACE_PAGETRACE,
                       "1: expected '# vmsim pagetrace v1 page_size=4096 program=NAME', got "
                       "'# vmsim pagetrace v2 page_size=4096 program=x'");
    expect_parse_error("# vmsim pagetrace v1 page_size=4096 program=\nR 1 1\n", SIM_TRACE_AUTO,
                       "1: expected a program name after 'program=', got end of line");
    expect_parse_error("hello\n", SIM_TRACE_AUTO,
                       "1: expected a vmsim pagetrace header or lackey output, got 'hello'");
}
END_TEST

START_TEST(test_trace_error_bad_op)
{
    expect_parse_error(PT_HDR "R 1 1\nQ 1 1\n", SIM_TRACE_AUTO,
                       "3: expected 'X', 'R' or 'W', got 'Q'");
    expect_parse_error(PT_HDR "r 1 1\n", SIM_TRACE_AUTO, "2: expected 'X', 'R' or 'W', got 'r'");
    expect_parse_error(PT_HDR "RW 1 1\n", SIM_TRACE_AUTO,
                       "2: expected ' ' and a page number after the op, got 'W 1 1'");
}
END_TEST

START_TEST(test_trace_error_uppercase_or_0x_hex)
{
    expect_parse_error(PT_HDR "R 1 1\n# c\nW 4A1c 3\n", SIM_TRACE_AUTO,
                       "4: expected a lowercase hex page number without '0x', got '4A1c'");
    expect_parse_error(PT_HDR "W 0x4a1c 3\n", SIM_TRACE_AUTO,
                       "2: expected a lowercase hex page number without '0x', got '0x4a1c'");
    expect_parse_error(PT_HDR "W 04a1c 3\n", SIM_TRACE_AUTO,
                       "2: expected a hex page number without leading zeros, got '04a1c'");
    expect_parse_error(PT_HDR "W 10000000000000 3\n", SIM_TRACE_AUTO,
                       "2: expected a page number of at most 13 hex digits, got '10000000000000'");
}
END_TEST

START_TEST(test_trace_error_count_zero)
{
    expect_parse_error(PT_HDR "R 1 1\nR 2 0\n", SIM_TRACE_AUTO, "3: expected a count >= 1, got '0'");
    expect_parse_error(PT_HDR "R 2 -1\n", SIM_TRACE_AUTO,
                       "2: expected a decimal count >= 1, got '-1'");
}
END_TEST

START_TEST(test_trace_error_missing_field)
{
    expect_parse_error(PT_HDR "R 1 1\nX 401a\n", SIM_TRACE_AUTO,
                       "3: expected ' ' and a count after the page, got end of line");
    expect_parse_error(PT_HDR "X 401a \n", SIM_TRACE_AUTO,
                       "2: expected a decimal count >= 1, got end of line");
    expect_parse_error(PT_HDR "X\n", SIM_TRACE_AUTO,
                       "2: expected ' ' and a page number after the op, got end of line");
    expect_parse_error(PT_HDR "R 1 1\n\n", SIM_TRACE_AUTO,
                       "3: expected a record 'OP PAGE COUNT' or a '#' comment, got end of line");
}
END_TEST

START_TEST(test_trace_error_trailing_garbage)
{
    expect_parse_error(PT_HDR "R 1 1 x\n", SIM_TRACE_AUTO,
                       "2: expected end of line after the count, got ' x'");
    expect_parse_error(PT_HDR "R 1 12\r\n", SIM_TRACE_AUTO,
                       "2: expected end of line after the count, got '\\r'");
    expect_parse_error(PT_HDR "R 1 1\n# total_accesses=5 records=1 truncated=no\n", SIM_TRACE_AUTO,
                       "3: expected the trailer to match the records before it "
                       "(total_accesses=1 records=1), got total_accesses=5 records=1");
}
END_TEST

START_TEST(test_trace_error_bad_lackey_line)
{
    expect_parse_error("==1== Command: x\nI  0401ab70,3\nhello from the program\n", SIM_TRACE_AUTO,
                       "3: expected a lackey line 'I  ADDR,SIZE', ' L|S|M ADDR,SIZE' or '==PID== ...', "
                       "got 'hello from the program'");
    expect_parse_error(" L 0401zz70,3\n", SIM_TRACE_LACKEY,
                       "1: expected ',' and a size after the address, got 'zz70,3'");
    expect_parse_error(" S 0401ab70,\n", SIM_TRACE_LACKEY, "1: expected a decimal size, got end of line");
    expect_parse_error(PT_HDR, SIM_TRACE_LACKEY,
                       "1: expected a lackey line 'I  ADDR,SIZE', ' L|S|M ADDR,SIZE' or '==PID== ...', "
                       "got '# vmsim pagetrace v1 page_size=4096 program=test'");
}
END_TEST

/* With --log-fd=1 the traced program's output is interleaved: only
 * Valgrind's own "==PID== ", "--PID-- " and "**PID** " lines (decimal PID,
 * the same marker on both sides, then a space or the end of the line) are
 * skipped; anything else is a located error. */
#define VG_ERR "expected a Valgrind line '==PID== ...', '--PID-- ...' or '**PID** ...' with a " \
               "decimal PID, got "
START_TEST(test_trace_error_program_output_in_lackey)
{
    expect_parse_error("==7== Command: /bin/true\nI  00001000,4\n--verbose mode on\n L 00002000,8\n",
                       SIM_TRACE_AUTO, "3: " VG_ERR "'--verbose mode on'");
    expect_parse_error("==7== Command: /bin/true\nI  00001000,4\n L 00002000,8\n"
                       "==not-valgrind== Exit code: 0\n",
                       SIM_TRACE_AUTO, "4: " VG_ERR "'==not-valgrind== Exit code: 0'");
    expect_parse_error("I  00001000,4\n** warning: no pid here\n", SIM_TRACE_LACKEY,
                       "2: " VG_ERR "'** warning: no pid here'");
    expect_parse_error("==7== Command: x\n==7==Exit code: 0\n", SIM_TRACE_AUTO,
                       "2: " VG_ERR "'==7==Exit code: 0'");
    expect_parse_error("==7== Command: x\n==7-- mixed\n", SIM_TRACE_AUTO, "2: " VG_ERR "'==7-- mixed'");
    expect_parse_error("==7== Command: x\n==== 0\n", SIM_TRACE_AUTO, "2: " VG_ERR "'==== 0'");
    expect_parse_error("==7== Command: x\n**7* x\n", SIM_TRACE_AUTO, "2: " VG_ERR "'**7* x'");
    expect_parse_error("==7== Command: x\n--12345678901-- x\n", SIM_TRACE_AUTO,
                       "2: " VG_ERR "'--12345678901-- x'");
    expect_parse_error("==7== Command: x\nI  00001000,4\nhello Exit code: 0\n", SIM_TRACE_AUTO,
                       "3: expected a lackey line 'I  ADDR,SIZE', ' L|S|M ADDR,SIZE' or '==PID== ...', "
                       "got 'hello Exit code: 0'");
    /* auto-detection follows the same rule */
    expect_parse_error("--verbose mode on\nI  00001000,4\n", SIM_TRACE_AUTO,
                       "1: expected a vmsim pagetrace header or lackey output, got '--verbose mode on'");
    expect_parse_error("==x== Command: /bin/true\nI  00001000,4\n", SIM_TRACE_AUTO,
                       "1: expected a vmsim pagetrace header or lackey output, got "
                       "'==x== Command: /bin/true'");
}
END_TEST

START_TEST(test_trace_lackey_valgrind_lines_are_skipped)
{
    write_plain("l.txt", "==123== Lackey, an example Valgrind tool\n"
                         "==123== Command: /bin/true --version\n"
                         "==123== \n"
                         "==123==\n"
                         "--123-- Valgrind options:\n"
                         "--123--    --tool=lackey\n"
                         "**123** warning: something internal\n"
                         "I  00001000,4\n"
                         " L 00002000,8\n"
                         "==123== Exit code:       0\n");
    struct sim_trace_stats st;
    struct recs c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_int_eq(st.format, SIM_TRACE_LACKEY);
    ck_assert_str_eq(st.command, "/bin/true --version");
    ck_assert_str_eq(st.program, "true");
    ck_assert(st.has_trailer);
    ck_assert(!st.truncated);
    ck_assert_uint_eq(st.nr_lines, 10);
    ck_assert_uint_eq(c.n, 2);
    free(c.v);
    /* sniffed from a "--PID--" or "**PID**" first line too */
    write_plain("m.txt", "--5-- x\nI  00001000,4\n");
    c = parse_ok(tpath("m.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_int_eq(st.format, SIM_TRACE_LACKEY);
    ck_assert(st.truncated);
    free(c.v);
    write_plain("m.txt", "**5**\nI  00001000,4\n");
    c = parse_ok(tpath("m.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_int_eq(st.format, SIM_TRACE_LACKEY);
    free(c.v);
}
END_TEST

/* The command and the completion mark come from Valgrind's own
 * "==PID== Command: " and "==PID== Exit code:" lines only, the mark from
 * the process the command names. */
START_TEST(test_trace_lackey_command_and_exit_only_from_valgrind_lines)
{
    struct sim_trace_stats st;
    struct recs c;
    /* "Command:" / "Exit code:" inside another Valgrind line */
    write_plain("l.txt", "==123== Command: /bin/true\n"
                         "--123-- Command: /bin/false\n"
                         "==123== note: Exit code: 0 is not at the start\n"
                         "I  00001000,4\n"
                         "--123-- Exit code: 0\n"
                         "**123** Exit code: 0\n");
    c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert_str_eq(st.command, "/bin/true");
    ck_assert(!st.has_trailer);
    ck_assert(st.truncated);
    free(c.v);
    /* another process's exit (a forked child) does not complete the run */
    write_plain("l.txt", "==123== Command: /bin/true\nI  00001000,4\n==124== Exit code: 0\n");
    c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert(st.truncated);
    free(c.v);
    write_plain("l.txt", "==123== Command: /bin/true\nI  00001000,4\n==123== Exit code: 0\n");
    c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert(!st.truncated);
    free(c.v);
    /* without a Command: line, any process's exit line counts */
    write_plain("l.txt", "I  00001000,4\n==9== Exit code: 0\n");
    c = parse_ok(tpath("l.txt"), SIM_TRACE_AUTO, &st);
    ck_assert(!st.truncated);
    ck_assert_str_eq(st.command, "");
    free(c.v);
}
END_TEST

START_TEST(test_trace_error_truncated_gzip)
{
    /* 2 + 1000 lines; cut the gzip trailer (CRC and size): every line is
     * read, then the stream ends early */
    size_t cap = 64 * 1024;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    size_t n = (size_t)snprintf(text, cap, "%s", PT_HDR);
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, cap - n, "R %x %d\n", i + 1, i + 1);
    write_gz("t.gz", text);
    free(text);
    struct stat sb;
    ck_assert_int_eq(stat(tpath("t.gz"), &sb), 0);
    ck_assert_int_eq(truncate(tpath("t.gz"), sb.st_size - 8), 0);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(tpath("t.gz"), SIM_TRACE_AUTO, NULL, NULL, NULL, &d), VM_EPARSE);
    char want[1024];
    snprintf(want, sizeof(want),
             "%s:1002: expected more gzip data, got unexpected end of file (truncated gzip)",
             tpath("t.gz"));
    ck_assert_str_eq(d.msg, want);

    /* cut in the middle: an error on a line inside the file */
    ck_assert_int_eq(truncate(tpath("t.gz"), sb.st_size / 2), 0);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_validate(tpath("t.gz"), SIM_TRACE_AUTO, &d), VM_EPARSE);
    ck_assert_ptr_nonnull(strstr(d.msg, "truncated gzip"));
}
END_TEST

START_TEST(test_trace_error_missing_file_is_enoent)
{
    struct vm_diag d;
    struct sim_trace *t = (struct sim_trace *)&d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(tpath("nope.gz"), SIM_TRACE_AUTO, NULL, NULL, NULL, &d), VM_ENOENT);
    char want[1024];
    snprintf(want, sizeof(want), "'%s': no such file", tpath("nope.gz"));
    ck_assert_str_eq(d.msg, want);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_validate(tpath("nope.gz"), SIM_TRACE_AUTO, &d), VM_ENOENT);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("nope.gz"), SIM_TRACE_AUTO, &t, &d), VM_ENOENT);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 0);
}
END_TEST

START_TEST(test_trace_error_empty_file_and_no_records)
{
    expect_parse_error("", SIM_TRACE_AUTO,
                       "1: expected a vmsim pagetrace header or lackey output, got end of file");
    expect_parse_error("", SIM_TRACE_PAGETRACE,
                       "1: expected '# vmsim pagetrace v1 page_size=4096 program=NAME', got end of file");
    write_plain("h.txt", PT_HDR "# nothing else\n");
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_parse(tpath("h.txt"), SIM_TRACE_AUTO, NULL, NULL, NULL, &d), 0);
    ck_assert_int_eq(sim_trace_validate(tpath("h.txt"), SIM_TRACE_AUTO, &d), VM_EPARSE);
    char want[1024];
    snprintf(want, sizeof(want), "%s: expected at least one record, got none", tpath("h.txt"));
    ck_assert_str_eq(d.msg, want);
}
END_TEST

START_TEST(test_trace_bad_trace_leaves_no_cache_file)
{
    write_gz("bad.gz", PT_HDR "R 1 1\nR 2 1\nQ 3 1\n");
    char cache[1024];
    snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
    struct sim_trace *t;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("bad.gz"), SIM_TRACE_AUTO, &t, &d), VM_EPARSE);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);              /* bad.gz alone */
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open_in(tpath("bad.gz"), SIM_TRACE_AUTO, cache, &t, &d), VM_EPARSE);
    ck_assert_int_eq(test_tmpdir_count(cache), 0);
    write_plain("empty.txt", PT_HDR);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_open(tpath("empty.txt"), SIM_TRACE_AUTO, &t, &d), VM_EPARSE);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 3);              /* bad.gz, cache/, empty.txt */
}
END_TEST

START_TEST(test_trace_validate_writes_nothing)
{
    write_gz("ok.gz", PT_HDR "R 1 1\n");
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_trace_validate(tpath("ok.gz"), SIM_TRACE_AUTO, &d), 0);
    ck_assert_int_eq(test_tmpdir_count(tmpdir), 1);
}
END_TEST

static Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");
    tcase_add_checked_fixture(tc, trace_setup, trace_teardown);
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_trace_error_bad_header);
    tcase_add_test(tc, test_trace_error_bad_op);
    tcase_add_test(tc, test_trace_error_uppercase_or_0x_hex);
    tcase_add_test(tc, test_trace_error_count_zero);
    tcase_add_test(tc, test_trace_error_missing_field);
    tcase_add_test(tc, test_trace_error_trailing_garbage);
    tcase_add_test(tc, test_trace_error_bad_lackey_line);
    tcase_add_test(tc, test_trace_error_program_output_in_lackey);
    tcase_add_test(tc, test_trace_lackey_valgrind_lines_are_skipped);
    tcase_add_test(tc, test_trace_lackey_command_and_exit_only_from_valgrind_lines);
    tcase_add_test(tc, test_trace_error_truncated_gzip);
    tcase_add_test(tc, test_trace_error_missing_file_is_enoent);
    tcase_add_test(tc, test_trace_error_empty_file_and_no_records);
    tcase_add_test(tc, test_trace_bad_trace_leaves_no_cache_file);
    tcase_add_test(tc, test_trace_validate_writes_nothing);
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
