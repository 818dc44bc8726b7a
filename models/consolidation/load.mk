# models/consolidation/load.mk - the consolidation mechanism's guest disk
# I/O stream (synthetic generator and trace replay).  Included from
# models/consolidation/consolidation.mk.
MECH_SRC += models/consolidation/cons_load.c models/consolidation/cons_load.h
EXTRA_DIST += models/consolidation/load.mk
