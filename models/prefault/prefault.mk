# models/prefault/prefault.mk - the prefault mechanism's models: the
# policies behind struct prefault_policy and their registry, with their
# unit tests.  sim/prefault/prefault.mk includes this file.
MECH_SRC += models/prefault/prefault.h models/prefault/prefault_common.c \
	models/prefault/prefault_registry.c models/prefault/prefault_faultonly.c \
	models/prefault/prefault_gpa.c models/prefault/prefault_cluster.c \
	models/prefault/prefault_vma.c models/prefault/prefault_leap.c \
	models/prefault/prefault_gva.c
EXTRA_DIST += models/prefault/prefault.mk
include $(srcdir)/tests/prefault.mk
