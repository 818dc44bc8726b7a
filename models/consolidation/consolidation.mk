# models/consolidation/consolidation.mk - the consolidation mechanism's
# models: the disk chain, the guest's I/O stream, the oracle, the engine,
# the copier and the methods with their registry.
# sim/consolidation/consolidation.mk includes this file.
MECH_SRC += models/consolidation/cons.h models/consolidation/cons_int.h \
	models/consolidation/cons_oracle.h models/consolidation/cons_oracle.c \
	models/consolidation/cons_engine.c models/consolidation/cons_guest.c \
	models/consolidation/cons_copy.c models/consolidation/cons_m_mirror.c \
	models/consolidation/cons_m_offline.c models/consolidation/cons_m_helper.c \
	models/consolidation/cons_m_qemu.c models/consolidation/cons_registry.c
EXTRA_DIST += models/consolidation/consolidation.mk
include $(srcdir)/models/consolidation/load.mk
include $(srcdir)/models/consolidation/chain.mk
