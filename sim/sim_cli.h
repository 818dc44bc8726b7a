/*
 * sim_cli.h - the vmsim command line (DESIGN.md "Interfaces"):
 *   vmsim run EXPERIMENT.json [-o DIR] [--seed N] [--set path=value]...
 *             [--quick] [-j N] [--no-plot] [--cfg=... --log=...]
 *   vmsim check RESULT.json BASELINE.json
 *   vmsim validate EXPERIMENT.json...
 *   vmsim list
 *   vmsim trace reduce|stats|convert|synth ...
 *   vmsim --help | --version
 * This is the only place that decides the process's exit status; errors
 * are one line on stderr starting "vmsim: ".
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

/* Exit statuses. */
#define SIM_EXIT_OK 0
#define SIM_EXIT_FAIL 1         /* a regression or an invariant violation */
#define SIM_EXIT_BAD_INPUT 2    /* bad arguments, config or files */

/* Run the command line; returns the exit status for main(). */
int sim_cli_main(int argc, char **argv);

#endif
