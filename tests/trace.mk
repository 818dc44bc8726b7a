# tests/trace.mk - Check suite "trace": readers, reduction rule, binary
# cache, `vmsim trace` tools, and the shipped traces against their README.
check_PROGRAMS += tests/check_trace
TESTS += tests/check_trace
tests_check_trace_SOURCES = tests/check_trace.c tests/test_tmpdir.c tests/test_tmpdir.h
tests_check_trace_CFLAGS = $(TEST_CFLAGS)
tests_check_trace_LDADD = $(CORE_TEST_LDADD)

# Check suite "trace_synth": `vmsim trace synth`, read back through the
# trace reader.
check_PROGRAMS += tests/check_trace_synth
TESTS += tests/check_trace_synth
tests_check_trace_synth_SOURCES = tests/check_trace_synth.c tests/test_tmpdir.c tests/test_tmpdir.h
tests_check_trace_synth_CFLAGS = $(TEST_CFLAGS)
tests_check_trace_synth_LDADD = $(CORE_TEST_LDADD)
