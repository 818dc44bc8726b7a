# sim/config.mk
