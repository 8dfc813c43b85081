/* caravel store: not built yet. */
#include "cli/cli.h"

int cli_store(int argc, char **argv)
{
    CV_UNUSED(argc);
    CV_UNUSED(argv);
    cli_errorf("'store' is not available in this build yet");
    return CLI_EXIT_FAIL;
}
