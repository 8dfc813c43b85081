/* caravel policy: not built yet. */
#include "cli/cli.h"

int cli_policy(int argc, char **argv)
{
    CV_UNUSED(argc);
    CV_UNUSED(argv);
    cli_errorf("'policy' is not available in this build yet");
    return CLI_EXIT_FAIL;
}
