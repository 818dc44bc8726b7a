/*
 * sim_sg_shim.cpp - C wrappers for C++-only SimGrid 3.32 calls (see
 * sim_sg_shim.h).  Exceptions never cross into C: each wrapper catches
 * everything and returns an error.
 */
#include "sim_sg_shim.h"

#include <cstring>
#include <exception>
#include <string>

#include <simgrid/engine.h>
#include <simgrid/s4u/Disk.hpp>

/* Copy the first line of text into msg. */
static void first_line(const char *text, char *msg, size_t len)
{
    if (len == 0)
        return;
    size_t n = std::strcspn(text, "\n");
    if (n >= len)
        n = len - 1;
    std::memcpy(msg, text, n);
    msg[n] = '\0';
}

extern "C" int sim_sg_load_platform(const char *path, char *msg, size_t len)
{
    try {
        simgrid_load_platform(path);
        return 0;
    } catch (const std::exception &e) {
        first_line(e.what(), msg, len);
    } catch (...) {
        first_line("unknown exception while loading the platform", msg, len);
    }
    return -1;
}

extern "C" const char *sim_sg_disk_property(const_sg_disk_t disk, const char *key)
{
    try {
        return disk->get_property(key);
    } catch (...) {
        return nullptr;
    }
}
