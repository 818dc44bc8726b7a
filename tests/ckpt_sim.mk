# tests/ckpt_sim.mk - suite "ckpt_sim": the checkpoint mechanism's driver
# (sim/checkpoint/sim_ckpt.c), the vCPU replay and one run point of the
# runner, end to end on a shipped platform.
check_PROGRAMS += tests/check_ckpt_sim
TESTS += tests/check_ckpt_sim
tests_check_ckpt_sim_SOURCES = tests/check_ckpt_sim.c
tests_check_ckpt_sim_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_sim_LDADD = $(TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_ckpt_sim_SOURCES = dummy.cxx
# suite "ckpt_bgcost": what bgsnap is charged for, as QEMU pays it
check_PROGRAMS += tests/check_ckpt_bgcost
TESTS += tests/check_ckpt_bgcost
tests_check_ckpt_bgcost_SOURCES = tests/check_ckpt_bgcost.c
tests_check_ckpt_bgcost_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_bgcost_LDADD = $(TEST_LDADD)
nodist_EXTRA_tests_check_ckpt_bgcost_SOURCES = dummy.cxx
