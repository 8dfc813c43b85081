/*
 * caravel store: run and administer the embedded S3-compatible store.
 *
 *   caravel store serve --data DIR [--listen HOST:PORT] [--region R] [--domain D,...] [--quiet]
 *   caravel store credentials DIR
 *   caravel store accounts add NAME --data DIR [--access-key-id ID --secret-access-key-stdin]
 *   caravel store users add ACCOUNT NAME --data DIR [--access-key-id ID
 *                           --secret-access-key-stdin] [--attach-policy-file FILE]
 */
#include "cli/cli.h"
#include "store/store.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: caravel store serve --data DIR [--listen HOST:PORT] [--region REGION]\n"
            "                           [--domain DOMAIN[,DOMAIN...]] [--quiet] [--verbose]\n"
            "                           [--default-object-ownership BucketOwnerEnforced|\n"
            "                            BucketOwnerPreferred|ObjectWriter]\n"
            "                           [--default-public-access-block on|off]\n"
            "       caravel store credentials DIR\n"
            "       caravel store accounts add NAME --data DIR\n"
            "                           [--access-key-id ID --secret-access-key-stdin]\n"
            "       caravel store users add ACCOUNT NAME --data DIR\n"
            "                           [--access-key-id ID --secret-access-key-stdin]\n"
            "                           [--attach-policy-file FILE]\n"
            "\n"
            "serve        runs the store (SigV4, IAM, S3 API) until SIGINT/SIGTERM; port 0 picks\n"
            "             a free port; the URL is written to DIR/endpoint\n"
            "credentials  prints the first account's root credentials (AWS credentials format)\n"
            "accounts add creates another account and prints its root credentials\n"
            "users add    creates an IAM user NAME in the account named ACCOUNT with an access\n"
            "             key and prints it; --attach-policy-file makes FILE (an identity\n"
            "             policy) the customer managed policy NAME-policy, attached to the user\n");
}

static bool parse_listen(const char *s, char *host, size_t hostlen, unsigned *port)
{
    const char *colon = strrchr(s, ':');
    struct cv_str p;
    uint64_t v;

    if (!colon || colon == s) {
        return false;
    }
    p = cv_str_c(colon + 1);
    if (cv_parse_u64(p, &v) || v > 65535) {
        return false;
    }
    if (s[0] == '[' && colon[-1] == ']') {
        snprintf(host, hostlen, "%.*s", (int)(colon - s - 2), s + 1);
    } else {
        snprintf(host, hostlen, "%.*s", (int)(colon - s), s);
    }
    *port = (unsigned)v;
    return true;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"region", required_argument, NULL, 'r'},
                                         {"domain", required_argument, NULL, 'D'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"default-object-ownership", required_argument, NULL,
                                          'o'},
                                         {"default-public-access-block", required_argument,
                                          NULL, 'P'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct store_config cfg;
    struct store *st = NULL;
    char host[256] = "127.0.0.1", errmsg[512] = "";
    sigset_t set;
    int c, sig = 0;
    cv_err err;

    store_config_defaults(&cfg);
    cfg.listen_host = host;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:l:r:D:o:P:qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            cfg.data_dir = optarg;
            break;
        case 'l':
            if (!parse_listen(optarg, host, sizeof(host), &cfg.listen_port)) {
                cli_errorf("--listen wants HOST:PORT, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'r':
            cfg.region = optarg;
            break;
        case 'D':
            cfg.domains = optarg;
            break;
        case 'q':
            cfg.quiet = true;
            break;
        case 'o':
            cfg.default_object_ownership = optarg;
            break;
        case 'P':
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                cli_errorf("--default-public-access-block wants on or off, got '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            cfg.no_default_public_access_block = strcmp(optarg, "off") == 0;
            break;
        case 'v':
            cv_log_set_level(CV_LOG_DEBUG);
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (!cfg.data_dir) {
        cli_errorf("store serve needs --data DIR");
        return CLI_EXIT_USAGE;
    }
    /* Block the stop signals in every thread; the main thread waits for them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    err = store_open(&cfg, &st, errmsg, sizeof(errmsg));
    if (!err) {
        err = store_start(st, errmsg, sizeof(errmsg));
    }
    if (err) {
        cli_errorf("%s", errmsg[0] ? errmsg : cv_err_str(err));
        store_close(st);
        return CLI_EXIT_FAIL;
    }
    fprintf(stderr, "caravel store: serving %s at http://%s:%u (region %s)\n", cfg.data_dir, host,
            store_port(st), cfg.region);
    fprintf(stderr, "caravel store: root credentials in %s/root-credentials\n", cfg.data_dir);
    sigwait(&set, &sig);
    fprintf(stderr, "caravel store: stopping (signal %d)\n", sig);
    store_close(st);
    return CLI_EXIT_OK;
}

static void print_credentials(const struct store_root_credentials *cr)
{
    printf("# account %s (%s), root user; canonical user id %s\n[default]\n"
           "aws_access_key_id = %s\naws_secret_access_key = %s\n",
           cr->account_id, cr->account_name, cr->canonical_id, cr->access_key_id, cr->secret);
}

static cv_err open_quiet(const char *dir, struct store **st)
{
    struct store_config cfg;
    char errmsg[512] = "";
    cv_err err;

    store_config_defaults(&cfg);
    cfg.data_dir = dir;
    err = store_open(&cfg, st, errmsg, sizeof(errmsg));
    if (err) {
        cli_errorf("%s", errmsg[0] ? errmsg : cv_err_str(err));
    }
    return err;
}

static int cmd_credentials(int argc, char **argv)
{
    struct store *st = NULL;
    struct store_root_credentials cr;
    cv_err err;

    if (argc != 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (open_quiet(argv[1], &st)) {
        return CLI_EXIT_FAIL;
    }
    err = store_default_credentials(st, &cr);
    store_close(st);
    if (err) {
        cli_errorf("cannot read the root credentials: %s", cv_err_str(err));
        return CLI_EXIT_FAIL;
    }
    print_credentials(&cr);
    cv_secure_zero(&cr, sizeof(cr));
    return CLI_EXIT_OK;
}

/*
 * The options `accounts add` and `users add` share: --data is required, and
 * an imported key needs both --access-key-id and --secret-access-key-stdin
 * (the secret is read from one line of standard input). Non-zero: usage error.
 */
static int key_options(const char *cmd, const char *dir, const char *akid, bool secret_stdin,
                       char *secret, size_t secretlen)
{
    if (!dir || (akid != NULL) != secret_stdin) {
        cli_errorf("%s needs --data DIR, and --access-key-id together with "
                   "--secret-access-key-stdin",
                   cmd);
        return -1;
    }
    if (secret_stdin) {
        if (!fgets(secret, (int)secretlen, stdin)) {
            cli_errorf("no secret access key on standard input");
            return -1;
        }
        secret[strcspn(secret, "\r\n")] = '\0';
    }
    return 0;
}

static int cmd_accounts(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"access-key-id", required_argument, NULL, 'a'},
                                         {"secret-access-key-stdin", no_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *akid = NULL, *name;
    bool secret_stdin = false;
    char secret[128] = "", errmsg[512] = "";
    struct store *st = NULL;
    struct store_root_credentials cr;
    int c;
    cv_err err;

    if (argc < 3 || strcmp(argv[1], "add") != 0) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    name = argv[2];
    optind = 3;
    while ((c = getopt_long(argc, argv, "d:a:s", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'a':
            akid = optarg;
            break;
        case 's':
            secret_stdin = true;
            break;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (key_options("accounts add", dir, akid, secret_stdin, secret, sizeof(secret))) {
        return CLI_EXIT_USAGE;
    }
    if (open_quiet(dir, &st)) {
        return CLI_EXIT_FAIL;
    }
    err = store_account_add(st, name, akid, secret_stdin ? secret : NULL, &cr, errmsg,
                            sizeof(errmsg));
    store_close(st);
    cv_secure_zero(secret, sizeof(secret));
    if (err) {
        cli_errorf("%s", errmsg[0] ? errmsg : cv_err_str(err));
        return CLI_EXIT_FAIL;
    }
    print_credentials(&cr);
    cv_secure_zero(&cr, sizeof(cr));
    return CLI_EXIT_OK;
}

static int cmd_users(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"access-key-id", required_argument, NULL, 'a'},
                                         {"secret-access-key-stdin", no_argument, NULL, 's'},
                                         {"attach-policy-file", required_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *akid = NULL, *pfile = NULL, *account, *name;
    bool secret_stdin = false;
    char secret[128] = "", errmsg[512] = "";
    struct cv_buf doc = CV_BUF_INIT(1 << 20);
    struct store *st = NULL;
    struct store_user_credentials cr;
    int c, rc = CLI_EXIT_FAIL;
    cv_err err;

    if (argc < 4 || strcmp(argv[1], "add") != 0) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    account = argv[2];
    name = argv[3];
    optind = 4;
    while ((c = getopt_long(argc, argv, "d:a:sp:", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'a':
            akid = optarg;
            break;
        case 's':
            secret_stdin = true;
            break;
        case 'p':
            pfile = optarg;
            break;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (key_options("users add", dir, akid, secret_stdin, secret, sizeof(secret))) {
        return CLI_EXIT_USAGE;
    }
    if (pfile && cv_file_read(pfile, &doc) != CV_OK) {
        cli_errorf("cannot read %s", pfile);
        goto out;
    }
    if (open_quiet(dir, &st)) {
        goto out;
    }
    err = store_user_add(st, account, name, akid, secret_stdin ? secret : NULL,
                         pfile ? (doc.ptr ? doc.ptr : "") : NULL, doc.len, &cr, errmsg,
                         sizeof(errmsg));
    store_close(st);
    if (err) {
        cli_errorf("%s", errmsg[0] ? errmsg : cv_err_str(err));
        goto out;
    }
    printf("# IAM user %s (%s) of account %s%s\n[default]\naws_access_key_id = %s\n"
           "aws_secret_access_key = %s\n",
           cr.user_name, cr.user_id, cr.account_id, pfile ? ", policy NAME-policy attached" : "",
           cr.access_key_id, cr.secret);
    cv_secure_zero(&cr, sizeof(cr));
    rc = CLI_EXIT_OK;
out:
    cv_secure_zero(secret, sizeof(secret));
    cv_buf_release(&doc);
    return rc;
}

int cli_store(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "serve") == 0) {
        return cmd_serve(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "credentials") == 0) {
        return cmd_credentials(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "accounts") == 0) {
        return cmd_accounts(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "users") == 0) {
        return cmd_users(argc - 1, argv + 1);
    }
    cli_errorf("unknown store command '%s'", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
