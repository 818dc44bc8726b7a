# tests/disk.mk - suites "disk" (sim_disk.c: what it takes time for,
# check_disk_timing; what requests carry and how they fail,
# check_disk_requests), "world" (sim_world.c, sim_platform.c) and
# "pagecache" (sim_pagecache.c) on SimGrid.
DISK_TEST_SRC = tests/disk_rig.c tests/disk_rig.h tests/sim_rig.c tests/sim_rig.h
check_PROGRAMS += tests/check_disk_timing tests/check_disk_requests
TESTS += tests/check_disk_timing tests/check_disk_requests
tests_check_disk_timing_SOURCES = tests/check_disk_timing.c $(DISK_TEST_SRC)
tests_check_disk_timing_CFLAGS = $(TEST_CFLAGS)
tests_check_disk_timing_LDADD = $(CORE_TEST_LDADD)
# libvmsim_sim holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_disk_timing_SOURCES = dummy.cxx
tests_check_disk_requests_SOURCES = tests/check_disk_requests.c $(DISK_TEST_SRC)
tests_check_disk_requests_CFLAGS = $(TEST_CFLAGS)
tests_check_disk_requests_LDADD = $(CORE_TEST_LDADD)
nodist_EXTRA_tests_check_disk_requests_SOURCES = dummy.cxx

# suite "world": sim_world.c and sim_platform.c (the SimGrid glue)
check_PROGRAMS += tests/check_world
TESTS += tests/check_world
tests_check_world_SOURCES = tests/check_world.c tests/sim_rig.c tests/sim_rig.h
tests_check_world_CFLAGS = $(TEST_CFLAGS)
tests_check_world_LDADD = $(CORE_TEST_LDADD)
nodist_EXTRA_tests_check_world_SOURCES = dummy.cxx

# suite "pagecache": sim_pagecache.c and the wait queues of sim_world.c
check_PROGRAMS += tests/check_pagecache
TESTS += tests/check_pagecache
tests_check_pagecache_SOURCES = tests/check_pagecache.c
tests_check_pagecache_CFLAGS = $(TEST_CFLAGS)
tests_check_pagecache_LDADD = $(CORE_TEST_LDADD)
nodist_EXTRA_tests_check_pagecache_SOURCES = dummy.cxx
