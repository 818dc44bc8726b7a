/*
 * sim_rig.c - what the Check suites that run SimGrid share (sim_rig.h):
 * a platform of one host written to a temporary file and loaded, a disk
 * opened on it, a test body run in an actor.
 */
#include "sim_rig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <simgrid/actor.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>

#include "sim_world.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s != NULL && s[0] != '\0' ? s : VMSIM_SRCDIR;
}

/* Write text to a new temporary file; its path into path. */
void write_temp(char *path, size_t len, const char *text)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, len, "%s/check_disk_XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
    int fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp failed");
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

void platform_text(char *buf, size_t len, const char *hosts_xml)
{
    snprintf(buf, len,
             "<?xml version='1.0'?>\n"
             "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
             "<platform version=\"4.1\">\n"
             "  <zone id=\"AS0\" routing=\"Full\">\n%s  </zone>\n</platform>\n",
             hosts_xml);
}

/* Start SimGrid on a platform of one host "host0" holding disks_xml. */
void world_with_disks(const char *disks_xml)
{
    char hosts[8192], xml[16384], path[256];
    struct vm_diag d;

    snprintf(hosts, sizeof(hosts), "    <host id=\"host0\" speed=\"1Gf\">\n%s    </host>\n",
             disks_xml);
    platform_text(xml, sizeof(xml), hosts);
    write_temp(path, sizeof(path), xml);
    vm_diag_clear(&d);
    sim_world_init(NULL, NULL);
    int rc = sim_world_load_platform(path, &d);
    unlink(path);
    ck_assert_msg(rc == 0, "load failed: %s", d.msg);
}

/* A disk element: id, bandwidth for both directions, extra <prop> lines. */
const char *disk_xml(char *buf, size_t len, const char *id, const char *bw,
                            const char *props)
{
    snprintf(buf, len, "      <disk id=\"%s\" read_bw=\"%s\" write_bw=\"%s\">\n%s      </disk>\n",
             id, bw, bw, props);
    return buf;
}


struct sim_disk *open_disk(const char *name)
{
    struct vm_diag d;
    vm_diag_clear(&d);
    struct sim_disk *disk = sim_disk_open(sim_world_host("host0", &d), name, &d);
    ck_assert_msg(disk != NULL, "open '%s' failed: %s", name, d.msg);
    return disk;
}

/* The test's actors: a body run in an actor on host0. */
static void (*test_body)(void);

static void body_actor(int argc, char **argv)
{
    test_body();
}

void run_in_sim(void (*fn)(void))
{
    test_body = fn;
    sg_actor_create("test", sg_host_by_name("host0"), body_actor, 0, NULL);
    simgrid_run();
}
