# tests/cons.mk - the consolidation engine's Check suite with the fake
# block device, clock and timers: every schedule of the mirror's race, the
# baselines' decisions, a host crash after every completion.
check_PROGRAMS += tests/check_cons
TESTS += tests/check_cons
tests_check_cons_SOURCES = tests/check_cons.c tests/cons_rig.c tests/cons_rig.h tests/fakes/fake_blk.c tests/fakes/fake_blk.h \
	tests/fakes/fake_clock.c tests/fakes/fake_clock.h tests/fakes/fake_timer.c \
	tests/fakes/fake_timer.h
tests_check_cons_CFLAGS = $(TEST_CFLAGS)
tests_check_cons_LDADD = $(TEST_LDADD)

# the grain copier: the data mover's batches, wanted grains, QEMU's copier's
# conflict waits, slot refill and pivot
check_PROGRAMS += tests/check_cons_copy
TESTS += tests/check_cons_copy
tests_check_cons_copy_SOURCES = tests/check_cons_copy.c tests/cons_rig.c tests/cons_rig.h \
	tests/fakes/fake_blk.c tests/fakes/fake_blk.h tests/fakes/fake_clock.c \
	tests/fakes/fake_clock.h tests/fakes/fake_timer.c tests/fakes/fake_timer.h
tests_check_cons_copy_CFLAGS = $(TEST_CFLAGS)
tests_check_cons_copy_LDADD = $(TEST_LDADD)

# QEMU's copier and write-blocking path: multi-grain extents, the
# head/tail rule, the pre-d69a879 variant
check_PROGRAMS += tests/check_cons_qemu
TESTS += tests/check_cons_qemu
tests_check_cons_qemu_SOURCES = tests/check_cons_qemu.c tests/cons_rig.c tests/cons_rig.h tests/fakes/fake_blk.c \
	tests/fakes/fake_blk.h tests/fakes/fake_clock.c tests/fakes/fake_clock.h \
	tests/fakes/fake_timer.c tests/fakes/fake_timer.h
tests_check_cons_qemu_CFLAGS = $(TEST_CFLAGS)
tests_check_cons_qemu_LDADD = $(TEST_LDADD)

# a failed datastore I/O at every request of a run, for every method
check_PROGRAMS += tests/check_cons_faults
TESTS += tests/check_cons_faults
tests_check_cons_faults_SOURCES = tests/check_cons_faults.c tests/cons_rig.c tests/cons_rig.h \
	tests/fakes/fake_blk.c tests/fakes/fake_blk.h tests/fakes/fake_clock.c \
	tests/fakes/fake_clock.h tests/fakes/fake_timer.c tests/fakes/fake_timer.h
tests_check_cons_faults_CFLAGS = $(TEST_CFLAGS)
tests_check_cons_faults_LDADD = $(TEST_LDADD)
