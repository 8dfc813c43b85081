/* caravel analyze: not built yet. */
#include "cli/cli.h"

int cli_analyze(int argc, char **argv)
{
    CV_UNUSED(argc);
    CV_UNUSED(argv);
    cli_errorf("'analyze' is not available in this build yet");
    return CLI_EXIT_FAIL;
}
