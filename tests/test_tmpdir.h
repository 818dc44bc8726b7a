/*
 * test_tmpdir.h - a scratch folder per test case for the Check suites that
 * write files (trace readers and writers): made in setup, removed with
 * everything in it in teardown.
 */
#ifndef TEST_TMPDIR_H
#define TEST_TMPDIR_H

#include <stddef.h>

/* Make a fresh folder "/tmp/PREFIX.XXXXXX" into buf (len bytes); fails
 * the test when it cannot. */
void test_tmpdir_make(char *buf, size_t len, const char *prefix);
/* Entries of dir, . and .. left out (fails the test when it cannot read it). */
int test_tmpdir_count(const char *dir);
/* Remove dir and everything below it (errors ignored: a test's leftovers). */
void test_tmpdir_remove(const char *dir);

#endif
