# models/consolidation/load.mk - the consolidation mechanism's guest disk
# I/O stream (synthetic generator and trace replay).  Included from
# Makefile.am for now; sim/consolidation/consolidation.mk will include it.
MECH_SRC += models/consolidation/cons_load.c models/consolidation/cons_load.h
EXTRA_DIST += models/consolidation/load.mk
