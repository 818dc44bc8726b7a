/*
 * sim_metrics.c - the metric and invariant name tables (see sim_metrics.h).
 */
#include <string.h>

#include "sim_metrics.h"

const struct sim_metric_info sim_metric_info[SIM_M_NR] = {
#define X(id, name, unit, desc) [SIM_M_##id] = { name, unit, desc },
    SIM_METRICS(X)
#undef X
};

const struct sim_inv_info sim_inv_info[SIM_INV_NR] = {
#define X(id, name, bad, desc) [SIM_INV_##id] = { name, bad, desc },
    SIM_INVARIANTS(X)
#undef X
};

int sim_metric_find(const char *name)
{
    for (int i = 0; i < SIM_M_NR; i++)
        if (strcmp(sim_metric_info[i].name, name) == 0)
            return i;
    return -1;
}
