# tests/guest.mk - Check suites of models/guest: buddy allocator, page
# tables and walks, fragmentation (check_guest); the kept last-level
# tables of the replay (check_guest_kept)
check_PROGRAMS += tests/check_guest
TESTS += tests/check_guest
tests_check_guest_SOURCES = tests/check_guest.c
tests_check_guest_CFLAGS = $(TEST_CFLAGS)
tests_check_guest_LDADD = $(CORE_TEST_LDADD)
check_PROGRAMS += tests/check_guest_kept
TESTS += tests/check_guest_kept
tests_check_guest_kept_SOURCES = tests/check_guest_kept.c
tests_check_guest_kept_CFLAGS = $(TEST_CFLAGS)
tests_check_guest_kept_LDADD = $(CORE_TEST_LDADD)
