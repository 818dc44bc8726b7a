# tests/hostmem.mk - Check suite of models/hostmem: clock, swap slots,
# swap cache, prefetch protection, invariant check (check_hostmem)
check_PROGRAMS += tests/check_hostmem
TESTS += tests/check_hostmem
tests_check_hostmem_SOURCES = tests/check_hostmem.c
tests_check_hostmem_CFLAGS = $(TEST_CFLAGS)
tests_check_hostmem_LDADD = $(CORE_TEST_LDADD)
# kswapd's reclaim: watermarks, background batches, write-back (check_hostmem_kswapd)
check_PROGRAMS += tests/check_hostmem_kswapd
TESTS += tests/check_hostmem_kswapd
tests_check_hostmem_kswapd_SOURCES = tests/check_hostmem_kswapd.c
tests_check_hostmem_kswapd_CFLAGS = $(TEST_CFLAGS)
tests_check_hostmem_kswapd_LDADD = $(CORE_TEST_LDADD)
