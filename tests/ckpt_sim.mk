# tests/ckpt_sim.mk - suite "ckpt_sim": the checkpoint mechanism's driver
# (sim/checkpoint/sim_ckpt.c), the vCPU replay and one run point of the
# runner, end to end on a shipped platform: the saves
# (check_ckpt_sim_save) and the zero pages and restores
# (check_ckpt_sim_restore); suite "ckpt_bgcost": what bgsnap is charged
# for, as QEMU pays it.  All three share tests/ckpt_sim_rig.*.
CKPT_SIM_TEST_SRC = tests/ckpt_sim_rig.c tests/ckpt_sim_rig.h
check_PROGRAMS += tests/check_ckpt_sim_save tests/check_ckpt_sim_restore
TESTS += tests/check_ckpt_sim_save tests/check_ckpt_sim_restore
tests_check_ckpt_sim_save_SOURCES = tests/check_ckpt_sim_save.c $(CKPT_SIM_TEST_SRC)
tests_check_ckpt_sim_save_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_sim_save_LDADD = $(TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_ckpt_sim_save_SOURCES = dummy.cxx
tests_check_ckpt_sim_restore_SOURCES = tests/check_ckpt_sim_restore.c $(CKPT_SIM_TEST_SRC)
tests_check_ckpt_sim_restore_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_sim_restore_LDADD = $(TEST_LDADD)
nodist_EXTRA_tests_check_ckpt_sim_restore_SOURCES = dummy.cxx
# suite "ckpt_bgcost": what bgsnap is charged for, as QEMU pays it
check_PROGRAMS += tests/check_ckpt_bgcost
TESTS += tests/check_ckpt_bgcost
tests_check_ckpt_bgcost_SOURCES = tests/check_ckpt_bgcost.c $(CKPT_SIM_TEST_SRC)
tests_check_ckpt_bgcost_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_bgcost_LDADD = $(TEST_LDADD)
nodist_EXTRA_tests_check_ckpt_bgcost_SOURCES = dummy.cxx
