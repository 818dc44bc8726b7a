/*
 * sim_plot.h - draw an experiment's figures with gnuplot.
 *
 * For an experiment called NAME, every script plots/NAME.gp and
 * plots/NAME.*.gp (more figures of the same run; a dot, not a dash, so
 * that an experiment X-y does not take X-y-z.gp, the script of an
 * experiment X-y-z) under the source tree is run as
 *     gnuplot -e "csv='DIR/NAME.csv'; out='DIR/STEM'" SCRIPT
 * (STEM = the script's name without .gp); the script writes out.png and
 * out.svg.  gnuplot is found on PATH, or is $GNUPLOT when set.
 */
#ifndef SIM_PLOT_H
#define SIM_PLOT_H

#include <stddef.h>

#include "base/vm_err.h"

/*
 * Run the scripts for `name` found in plots_dir on out_dir/name.csv,
 * with the gnuplot string variables vars (name, value, name, value, ...,
 * NULL; may be NULL) set besides csv and out, so titles can say what ran.
 * Returns the number of figures drawn (>= 0), with each figure's output
 * stem ("DIR/NAME") written to drawn[i] when drawn is not NULL (up to
 * max_drawn).  0 figures is not an error: no script for this experiment.
 * VM_ENOTSUP: gnuplot is not installed (a warning for the caller; d says
 * so).  VM_EIO: a script failed (d names it and gnuplot's exit status).
 */
int sim_plot_draw(const char *plots_dir, const char *out_dir, const char *name,
                  const char *const *vars, char (*drawn)[1024], int max_drawn,
                  struct vm_diag *d);

#endif
