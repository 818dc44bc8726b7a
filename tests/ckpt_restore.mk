# tests/ckpt_restore.mk - checkpoint restore side: the restore policies'
# shared machinery (the policies themselves are listed in
# models/checkpoint/ckpt.mk) and their unit tests with the fake ports:
# the policies at work (check_ckpt_restore_policies) and corrupt images,
# errors, zero pages and the registry (check_ckpt_restore_errors), both on
# the images and restore driver of tests/ckpt_restore_rig.*.
CKPT_RESTORE_TEST_SRC = tests/ckpt_restore_rig.c tests/ckpt_restore_rig.h \
	tests/fakes/fake_blk.c tests/fakes/fake_blk.h tests/fakes/fake_mem.c \
	tests/fakes/fake_mem.h tests/fakes/fake_clock.c tests/fakes/fake_clock.h
check_PROGRAMS += tests/check_ckpt_restore_policies tests/check_ckpt_restore_errors
TESTS += tests/check_ckpt_restore_policies tests/check_ckpt_restore_errors
tests_check_ckpt_restore_policies_SOURCES = tests/check_ckpt_restore_policies.c \
	$(CKPT_RESTORE_TEST_SRC)
tests_check_ckpt_restore_policies_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_restore_policies_LDADD = $(TEST_LDADD)
tests_check_ckpt_restore_errors_SOURCES = tests/check_ckpt_restore_errors.c \
	$(CKPT_RESTORE_TEST_SRC)
tests_check_ckpt_restore_errors_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_restore_errors_LDADD = $(TEST_LDADD)
