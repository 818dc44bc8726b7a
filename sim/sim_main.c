/*
 * sim_main.c - the vmsim program: everything is in sim_cli.c, so that the
 * libraries hold all the code and tests can link it.
 */
#include "sim_cli.h"

int main(int argc, char **argv)
{
    return sim_cli_main(argc, argv);
}
