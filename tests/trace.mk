# tests/trace.mk
