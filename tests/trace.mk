# tests/trace.mk - Check suite "trace": the shipped traces against their
# README, the reduction rule and the readers on good input
# (check_trace_read), bad input (check_trace_errors), the binary cache,
# `vmsim trace` tools and temporary files (check_trace_cache); the three
# share tests/trace_rig.*.
TRACE_TEST_SRC = tests/trace_rig.c tests/trace_rig.h tests/test_tmpdir.c tests/test_tmpdir.h
check_PROGRAMS += tests/check_trace_read tests/check_trace_errors tests/check_trace_cache
TESTS += tests/check_trace_read tests/check_trace_errors tests/check_trace_cache
tests_check_trace_read_SOURCES = tests/check_trace_read.c $(TRACE_TEST_SRC)
tests_check_trace_read_CFLAGS = $(TEST_CFLAGS)
tests_check_trace_read_LDADD = $(CORE_TEST_LDADD)
tests_check_trace_errors_SOURCES = tests/check_trace_errors.c $(TRACE_TEST_SRC)
tests_check_trace_errors_CFLAGS = $(TEST_CFLAGS)
tests_check_trace_errors_LDADD = $(CORE_TEST_LDADD)
tests_check_trace_cache_SOURCES = tests/check_trace_cache.c $(TRACE_TEST_SRC)
tests_check_trace_cache_CFLAGS = $(TEST_CFLAGS)
tests_check_trace_cache_LDADD = $(CORE_TEST_LDADD)

# Check suite "trace_synth": `vmsim trace synth`, read back through the
# trace reader.
check_PROGRAMS += tests/check_trace_synth
TESTS += tests/check_trace_synth
tests_check_trace_synth_SOURCES = tests/check_trace_synth.c tests/test_tmpdir.c tests/test_tmpdir.h
tests_check_trace_synth_CFLAGS = $(TEST_CFLAGS)
tests_check_trace_synth_LDADD = $(CORE_TEST_LDADD)
