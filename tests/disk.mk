# tests/disk.mk - suite "disk": sim_disk.c and sim_world.c on SimGrid.
check_PROGRAMS += tests/check_disk
TESTS += tests/check_disk
tests_check_disk_SOURCES = tests/check_disk.c
tests_check_disk_CFLAGS = $(TEST_CFLAGS)
tests_check_disk_LDADD = $(CORE_TEST_LDADD)
# libvmsim_sim holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_disk_SOURCES = dummy.cxx
