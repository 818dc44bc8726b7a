# sim/disk.mk
