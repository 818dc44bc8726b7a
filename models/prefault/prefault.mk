# models/prefault/prefault.mk - the prefault mechanism's models: the
# policies behind struct prefault_policy, their registry, the record
# pass's recorder and the deliberately broken (test-only) policies, with
# their unit tests.  sim/prefault/prefault.mk includes this file.
MECH_SRC += models/prefault/prefault.h models/prefault/prefault_common.c \
	models/prefault/prefault_registry.c models/prefault/prefault_faultonly.c \
	models/prefault/prefault_gpa.c models/prefault/prefault_cluster.c \
	models/prefault/prefault_vma.c models/prefault/prefault_leap.c \
	models/prefault/prefault_gva.c models/prefault/prefault_recorder.c \
	models/prefault/prefault_reap.c models/prefault/prefault_halite.c \
	models/prefault/prefault_broken_test.c
EXTRA_DIST += models/prefault/prefault.mk
include $(srcdir)/tests/prefault.mk
