# tests/guest.mk - Check suites of models/guest: buddy allocator, page
# tables and walks, fragmentation (check_guest)
check_PROGRAMS += tests/check_guest
TESTS += tests/check_guest
tests_check_guest_SOURCES = tests/check_guest.c
tests_check_guest_CFLAGS = $(TEST_CFLAGS)
tests_check_guest_LDADD = $(CORE_TEST_LDADD)
