# sim/mem.mk
