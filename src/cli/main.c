/* caravel: one program, many subcommands. */
#include "cli/cli.h"
#include "caravel/caravel.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"store", cli_store, "run and administer the embedded S3-compatible store"},
    {"policy", cli_policy, "generate, check and simulate IAM policies"},
    {"analyze", cli_analyze, "turn feedback (CSV, JSONL, text) into insights JSON"},
    {"demo", cli_demo, "run the main job end to end on a throwaway embedded store"},
};

void cli_errorf(const char *fmt, ...)
{
    va_list ap;

    fputs("caravel: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: caravel <command> [options]\n\ncommands:\n");
    for (i = 0; i < CV_ARRAY_LEN(commands); i++) {
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(f, "\nRun 'caravel <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("caravel %s\n", CV_VERSION);
        return CLI_EXIT_OK;
    }
    for (i = 0; i < CV_ARRAY_LEN(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    cli_errorf("unknown command '%s'", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
