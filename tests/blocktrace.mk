# tests/blocktrace.mk - Check suite "blocktrace": the file-I/O trace reader,
# its located errors, the file-to-disk layout and the shipped blocktraces
# against their README.  Core only: the reader needs no mechanism.
check_PROGRAMS += tests/check_blocktrace
TESTS += tests/check_blocktrace
tests_check_blocktrace_SOURCES = tests/check_blocktrace.c tests/test_tmpdir.c tests/test_tmpdir.h
tests_check_blocktrace_CFLAGS = $(TEST_CFLAGS)
tests_check_blocktrace_LDADD = $(CORE_TEST_LDADD)
