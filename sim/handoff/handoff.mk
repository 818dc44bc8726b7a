# sim/handoff/handoff.mk - the handoff mechanism: its models, its plug-in
# and driver, its experiments and its tests.  Makefile.am includes this
# file once.
include $(srcdir)/models/handoff/handoff.mk
EXTRA_DIST += sim/handoff/handoff.mk
include $(srcdir)/tests/handoff/handoff.mk
