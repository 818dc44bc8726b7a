/*
 * sim_at_depotgen.c - a generator of synthetic ESXi-like depot catalogs
 * (sim_at_depot_generate, sim_at_depotfile.h): VIB names, vendors and
 * versions of an ESXi 8 image, file hashes derived from a seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_crypto.h"
#include "attestation/sim_at_depotfile.h"

/* ----------------------------------------------------------- generator */

/* The components of an ESXi 8 image's base image and vendor add-on, by
 * their VIB names as `esxcli software vib list` shows them, and their
 * vendor codes; versions are made up in ESXi's form. */
static const struct { const char *name, *vendor, *version; } vibs[] = {
    { "esx-base", "VMW", "8.0.2-0.0.22380479" },
    { "esx-update", "VMW", "8.0.2-0.0.22380479" },
    { "esx-ui", "VMW", "2.13.1-22311330" },
    { "esx-xserver", "VMW", "8.0.2-0.0.22380479" },
    { "esxio-combiner", "VMW", "8.0.2-0.0.22380479" },
    { "vsan", "VMW", "8.0.2-0.0.22380479" },
    { "vsanhealth", "VMW", "8.0.2-0.0.22380479" },
    { "vdfs", "VMW", "8.0.2-0.0.22380479" },
    { "crx", "VMW", "8.0.2-0.0.22380479" },
    { "gc", "VMW", "8.0.2-0.0.22380479" },
    { "bmcal", "VMW", "8.0.2-0.0.22380479" },
    { "trx", "VMW", "8.0.2-0.0.22380479" },
    { "clusterstore", "VMW", "8.0.2-0.0.22380479" },
    { "loadesx", "VMW", "8.0.2-0.0.22380479" },
    { "cpu-microcode", "VMW", "8.0.2-0.0.22380479" },
    { "tools-light", "VMware", "12.2.6.22229486-22380477" },
    { "native-misc-drivers", "VMW", "8.0.2-0.0.22380479" },
    { "esx-dvfilter-generic-fastpath", "VMW", "8.0.2-0.0.22380479" },
    { "vmkusb", "VMW", "0.1-18vmw.802.0.0" },
    { "vmkata", "VMW", "0.1-1vmw.802.0.0" },
    { "vmw-ahci", "VMW", "2.0.17-1vmw.802.0.0" },
    { "nvme-pcie", "VMW", "1.2.4.11-1vmw.802.0.0" },
    { "nvmetcp", "VMW", "1.0.1.8-1vmw.802.0.0" },
    { "nvmerdma", "VMW", "1.0.3.9-1vmw.802.0.0" },
    { "ne1000", "VMW", "0.9.0-1vmw.802.0.0" },
    { "nenic", "Cisco", "2.0.11.0-1vmw.802.0.0" },
    { "nmlx5-core", "MEL", "4.23.0.66-2vmw.802.0.0" },
    { "nmlx5-rdma", "MEL", "4.23.0.66-2vmw.802.0.0" },
    { "bnxtnet", "BCM", "226.0.136.0-1vmw.802.0.0" },
    { "bnxtroce", "BCM", "226.0.136.0-1vmw.802.0.0" },
    { "i40en", "INT", "1.11.2.6-1vmw.802.0.0" },
    { "ixgben", "INT", "1.7.1.39-1vmw.802.0.0" },
    { "icen", "INT", "1.11.3.0-1vmw.802.0.0" },
    { "irdman", "INT", "1.4.3.0-1vmw.802.0.0" },
    { "lpfc", "EMU", "14.2.560.8-1vmw.802.0.0" },
    { "qlnativefc", "QLC", "5.3.81.2-1vmw.802.0.0" },
    { "lsi-mr3", "BCM", "7.726.02.00-1vmw.802.0.0" },
    { "lsi-msgpt35", "BCM", "28.00.00.00-1vmw.802.0.0" },
    { "iser", "VMW", "1.1.0.2-1vmw.802.0.0" },
    { "vmware-esx-esxcli-nvme-plugin", "VMware", "1.2.0.52-1vmw.802.0.0" },
};
#define NR_VIBS (sizeof vibs / sizeof vibs[0])

static uint64_t split(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);     /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int sim_at_depot_generate(struct at_catalog *c, uint32_t nr_pkgs, uint32_t min_files,
                          uint32_t max_files, uint64_t seed, uint64_t expires_ns,
                          struct vm_diag *d)
{
    at_catalog_init(c);
    if (nr_pkgs == 0 || min_files == 0 || min_files > max_files || max_files > AT_MAX_FILES)
        return vm_diag_set(d, VM_EINVAL, "expected packages >= 1 and 1 <= min_files <= "
                           "max_files <= %d", AT_MAX_FILES);
    c->version = 1;
    c->expires_ns = expires_ns;
    struct at_file *files = malloc(max_files * sizeof *files);
    if (!files)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    uint64_t rng = seed ^ 0x6465706f74ull;
    int rc = 0;
    for (uint32_t i = 0; i < nr_pkgs && !rc; i++) {
        char name[AT_NAME_MAX];
        const char *vendor = i < NR_VIBS ? vibs[i].vendor : "VMW";
        const char *version = i < NR_VIBS ? vibs[i].version : "1.0.0-1";
        if (i < NR_VIBS)
            snprintf(name, sizeof name, "%s", vibs[i].name);
        else
            snprintf(name, sizeof name, "pkg-%u", i);
        uint32_t nf = min_files + (uint32_t)(split(&rng) % (max_files - min_files + 1));
        for (uint32_t j = 0; j < nf; j++) {
            snprintf(files[j].path, sizeof files[j].path, "usr/lib/vmware/%.40s/f%04u", name, j);
            struct at_sha256_ctx h;
            uint8_t le[8];
            at_sha256_init(&h);
            at_sha256_update(&h, "vmsim-depot-file/1", 18);
            for (int b = 0; b < 8; b++)
                le[b] = (uint8_t)(seed >> (8 * b));
            at_sha256_update(&h, le, 8);
            at_sha256_update(&h, name, strlen(name) + 1);
            for (int b = 0; b < 8; b++)
                le[b] = (uint8_t)((uint64_t)j >> (8 * b));
            at_sha256_update(&h, le, 8);
            at_sha256_final(&h, files[j].sha256);
        }
        rc = at_catalog_add(c, name, version, vendor, false, files, nf, d);
    }
    free(files);
    return rc;
}
