# tests/sim.mk - suite "sim": the checkpoint experiment driver, the vCPU
# replay and one run point of the runner, end to end on a shipped platform.
check_PROGRAMS += tests/check_sim
TESTS += tests/check_sim
tests_check_sim_SOURCES = tests/check_sim.c
tests_check_sim_CFLAGS = $(TEST_CFLAGS)
tests_check_sim_LDADD = $(TEST_LDADD)
# libvmsim_sim holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_sim_SOURCES = dummy.cxx
