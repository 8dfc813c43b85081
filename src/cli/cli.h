/*
 * cli: argument parsing and the subcommands. No logic of its own: each
 * subcommand parses its options and calls into a module.
 *
 * Exit codes: 0 success, 1 the operation failed (or found errors), 2 usage.
 */
#ifndef CV_CLI_H
#define CV_CLI_H

#include "base/base.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* Each takes argv with argv[0] the subcommand name ("store", "policy", ...). */
int cli_store(int argc, char **argv);
int cli_policy(int argc, char **argv);
int cli_analyze(int argc, char **argv);
int cli_demo(int argc, char **argv);

/** Prints "caravel: <msg>" to stderr. */
void cli_errorf(const char *fmt, ...) CV_PRINTF(1, 2);

#endif
