/* caravel demo: the walkthrough lives in scripts/demo (make demo). */
#include "cli/cli.h"

#include <stdio.h>

int cli_demo(int argc, char **argv)
{
    CV_UNUSED(argc);
    CV_UNUSED(argv);
    fprintf(stderr, "caravel demo: run 'make demo' from the source tree: scripts/demo starts an\n"
                    "embedded store, sets up the guide's least-privilege user and policies,\n"
                    "analyzes sample feedback and delivers the insights with awscli v2.\n");
    return CLI_EXIT_USAGE;
}
