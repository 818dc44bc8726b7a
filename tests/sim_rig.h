/*
 * sim_rig.h - helpers of the Check suites that run SimGrid (check_disk_*,
 * check_world): SimGrid runs once per process, so each test (Check's fork
 * mode) writes a small platform, loads it and runs its actors.
 */
#ifndef SIM_RIG_H
#define SIM_RIG_H

#include <stddef.h>

#include "sim_disk.h"

/* The source tree: $VMSIM_SRCDIR or the configured one. */
const char *srcdir(void);
/* Write text to a new temporary file; its path into path (len bytes). */
void write_temp(char *path, size_t len, const char *text);
/* A platform document around hosts_xml, into buf. */
void platform_text(char *buf, size_t len, const char *hosts_xml);
/* Start SimGrid on a platform of one host "host0" holding disks_xml. */
void world_with_disks(const char *disks_xml);
/* A disk element: id, bandwidth for both directions, extra <prop> lines
 * (PROP); returns buf. */
const char *disk_xml(char *buf, size_t len, const char *id, const char *bw, const char *props);
#define PROP(k, v) "        <prop id=\"" k "\" value=\"" v "\"/>\n"
/* Open disk `name` of host0, failing the test when it cannot. */
struct sim_disk *open_disk(const char *name);
/* Run fn in an actor on host0 until the simulation ends. */
void run_in_sim(void (*fn)(void));

#endif
