# tests/mem.mk - Check suite "mem": sim_mem, sim_content, sim_workload
check_PROGRAMS += tests/check_mem
TESTS += tests/check_mem
tests_check_mem_SOURCES = tests/check_mem.c
tests_check_mem_CFLAGS = $(TEST_CFLAGS)
tests_check_mem_LDADD = $(CORE_TEST_LDADD)
# Suite "mem_prefetch": the replay loop's group prefetch changes no state
check_PROGRAMS += tests/check_mem_prefetch
TESTS += tests/check_mem_prefetch
tests_check_mem_prefetch_SOURCES = tests/check_mem_prefetch.c
tests_check_mem_prefetch_CFLAGS = $(TEST_CFLAGS)
tests_check_mem_prefetch_LDADD = $(CORE_TEST_LDADD)
