# tests/mem.mk - Check suite "mem", one test program per part: sim_mem's
# operations and page table (check_mem_ops), its content and budget
# (check_mem_content), the synthetic workloads (check_mem_workload); the
# first two share tests/mem_rig.*.  Suite "mem_prefetch"
# (check_mem_prefetch): the replay loop's group prefetch changes no state.
MEM_TEST_SRC = tests/mem_rig.c tests/mem_rig.h
check_PROGRAMS += tests/check_mem_ops tests/check_mem_content tests/check_mem_workload
TESTS += tests/check_mem_ops tests/check_mem_content tests/check_mem_workload
tests_check_mem_ops_SOURCES = tests/check_mem_ops.c $(MEM_TEST_SRC)
tests_check_mem_ops_CFLAGS = $(TEST_CFLAGS)
tests_check_mem_ops_LDADD = $(CORE_TEST_LDADD)
tests_check_mem_content_SOURCES = tests/check_mem_content.c $(MEM_TEST_SRC)
tests_check_mem_content_CFLAGS = $(TEST_CFLAGS)
tests_check_mem_content_LDADD = $(CORE_TEST_LDADD)
tests_check_mem_workload_SOURCES = tests/check_mem_workload.c
tests_check_mem_workload_CFLAGS = $(TEST_CFLAGS)
tests_check_mem_workload_LDADD = $(CORE_TEST_LDADD)
check_PROGRAMS += tests/check_mem_prefetch
TESTS += tests/check_mem_prefetch
tests_check_mem_prefetch_SOURCES = tests/check_mem_prefetch.c
tests_check_mem_prefetch_CFLAGS = $(TEST_CFLAGS)
tests_check_mem_prefetch_LDADD = $(CORE_TEST_LDADD)
