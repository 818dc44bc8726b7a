# sim/trace.mk
