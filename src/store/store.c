/*
 * The store's lifecycle: the data directory, the master key, accounts and
 * root credentials, the credential cache, start-up clean-up.
 */
#include "store_int.h"
#include "policy/policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct cred_entry {
    char akid[24];
    struct identity ident;
    char secret[129];
    bool active;
};

#define CRED_CACHE_MAX 4096

void store_config_defaults(struct store_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen_host = "127.0.0.1";
    cfg->listen_port = 9000;
    cfg->region = "us-east-1";
    cfg->domains = "localhost";
    cfg->default_object_ownership = "BucketOwnerEnforced";
    cfg->clock = cv_clock_system();
    cfg->limits.max_header_bytes = 16 * 1024;
    cfg->limits.max_key_bytes = 1024;
    cfg->limits.max_meta_bytes = 2 * 1024;
    cfg->limits.max_put_bytes = 5ull << 30;
    cfg->limits.max_part_bytes = 5ull << 30;
    cfg->limits.max_parts = 10000;
    cfg->limits.max_xml_body = 2 << 20;
    cfg->limits.max_connections = 256;
    cfg->limits.idle_timeout_s = 60;
    cfg->limits.min_body_rate = 1024;
    cfg->limits.inline_max = 128 * 1024;
}

/* ------------------------------------------------------------ secrets */

static cv_err load_master_key(struct store *st, char *errmsg, size_t errlen)
{
    char path[4096];
    struct cv_buf b = CV_BUF_INIT(1024);
    cv_err err;

    snprintf(path, sizeof(path), "%s/master.key", st->data_dir);
    err = cv_file_read(path, &b);
    if (err == CV_ENOENT) {
        err = cv_random_bytes(st->master_key, sizeof(st->master_key));
        if (!err) {
            err = cv_file_write_atomic(path, st->master_key, sizeof(st->master_key), 0600);
        }
        if (err) {
            cv_errf(errmsg, errlen, "cannot create %s", path);
        }
        goto out;
    }
    if (err || b.len != CV_AES_KEY_LEN) {
        cv_errf(errmsg, errlen, "%s is unreadable or not a %d-byte key", path, CV_AES_KEY_LEN);
        err = err ? err : CV_ECRYPTO;
        goto out;
    }
    memcpy(st->master_key, b.ptr, CV_AES_KEY_LEN);
out:
    if (b.ptr) {
        cv_secure_zero(b.ptr, b.len);
    }
    cv_buf_release(&b);
    return err;
}

cv_err store_seal_secret(struct store *st, const char *akid, const char *secret,
                         struct cv_buf *out)
{
    return cv_aead_seal(out, st->master_key, secret, strlen(secret), akid, strlen(akid));
}

cv_err store_open_secret(struct store *st, const char *akid, const void *sealed, size_t len,
                         char *secret, size_t secretlen)
{
    struct cv_buf b = CV_BUF_INIT(256);
    cv_err err = cv_aead_open(&b, st->master_key, sealed, len, akid, strlen(akid));

    if (!err && b.len >= secretlen) {
        err = CV_ETOOBIG;
    }
    if (!err) {
        memcpy(secret, b.ptr, b.len);
        secret[b.len] = '\0';
    }
    if (b.ptr) {
        cv_secure_zero(b.ptr, b.len);
    }
    cv_buf_release(&b);
    return err;
}

/* ------------------------------------------------- credential lookups */

void store_creds_invalidate(struct store *st)
{
    pthread_mutex_lock(&st->cred_lock);
    if (st->creds) {
        cv_secure_zero(st->creds, st->ncreds * sizeof(*st->creds));
    }
    st->ncreds = 0;
    atomic_fetch_add(&st->cred_gen, 1);
    pthread_mutex_unlock(&st->cred_lock);
}

static cv_err lookup_db(struct store *st, struct cv_str akid, struct cred_entry *e)
{
    struct db_conn *c = db_reader(st->db);
    sqlite3_stmt *s;
    cv_err err = CV_ENOENT;

    if (!c) {
        return CV_ENOMEM;
    }
    s = db_stmt(c, STMT_KEY_BY_ID);
    if (!s) {
        err = CV_EDB;
        goto out;
    }
    db_bind_str(s, 1, akid);
    if (sqlite3_step(s) == SQLITE_ROW) {
        struct cv_str account = db_col_str(s, 0), user = db_col_str(s, 1);
        struct cv_str status = db_col_str(s, 3), uid = db_col_str(s, 4), path = db_col_str(s, 5);
        memset(e, 0, sizeof(*e));
        snprintf(e->akid, sizeof(e->akid), "%.*s", (int)akid.len, akid.ptr);
        snprintf(e->ident.account, sizeof(e->ident.account), "%.*s", (int)account.len,
                 account.ptr);
        snprintf(e->ident.akid, sizeof(e->ident.akid), "%s", e->akid);
        if (user.ptr) {
            e->ident.kind = IDENT_USER;
            snprintf(e->ident.user, sizeof(e->ident.user), "%.*s", (int)user.len, user.ptr);
            snprintf(e->ident.user_id, sizeof(e->ident.user_id), "%.*s", (int)uid.len, uid.ptr);
            snprintf(e->ident.arn, sizeof(e->ident.arn), "arn:aws:iam::%s:user%.*s%s",
                     e->ident.account, (int)(path.len ? path.len : 1), path.len ? path.ptr : "/",
                     e->ident.user);
        } else {
            e->ident.kind = IDENT_ROOT;
            snprintf(e->ident.arn, sizeof(e->ident.arn), "arn:aws:iam::%s:root",
                     e->ident.account);
        }
        e->active = cv_str_eq_c(status, "Active");
        {
            struct cv_str canon = db_col_str(s, 6);
            snprintf(e->ident.canonical, sizeof(e->ident.canonical), "%.*s", (int)canon.len,
                     canon.ptr ? canon.ptr : "");
        }
        err = store_open_secret(st, e->akid, sqlite3_column_blob(s, 2),
                                (size_t)sqlite3_column_bytes(s, 2), e->secret, sizeof(e->secret));
    }
out:
    db_reader_done(st->db, c);
    return err;
}

cv_err store_lookup_key(struct store *st, struct cv_str akid, struct identity *id, char *secret,
                        size_t secretlen, bool *active)
{
    struct cred_entry e;
    uint64_t gen;
    size_t i;
    cv_err err;

    if (akid.len == 0 || akid.len >= sizeof(e.akid)) {
        return CV_ENOENT;
    }
    pthread_mutex_lock(&st->cred_lock);
    for (i = 0; i < st->ncreds; i++) {
        if (cv_str_eq_c(akid, st->creds[i].akid)) {
            *id = st->creds[i].ident;
            snprintf(secret, secretlen, "%s", st->creds[i].secret);
            *active = st->creds[i].active;
            pthread_mutex_unlock(&st->cred_lock);
            return CV_OK;
        }
    }
    gen = atomic_load(&st->cred_gen);
    pthread_mutex_unlock(&st->cred_lock);

    err = lookup_db(st, akid, &e);
    if (err) {
        return err;
    }
    *id = e.ident;
    snprintf(secret, secretlen, "%s", e.secret);
    *active = e.active;

    pthread_mutex_lock(&st->cred_lock);
    /* Cache only if nothing changed IAM meanwhile. */
    if (gen == atomic_load(&st->cred_gen)) {
        if (st->ncreds == st->credcap) {
            size_t ncap = st->credcap ? st->credcap * 2 : 16;
            struct cred_entry *n;
            if (ncap > CRED_CACHE_MAX) {
                st->ncreds = 0;
                ncap = st->credcap;
            }
            n = ncap != st->credcap ? cv_realloc(st->creds, ncap * sizeof(*n)) : st->creds;
            if (n) {
                st->creds = n;
                st->credcap = ncap;
            }
        }
        if (st->ncreds < st->credcap) {
            st->creds[st->ncreds++] = e;
        }
    }
    pthread_mutex_unlock(&st->cred_lock);
    cv_secure_zero(&e, sizeof(e));
    return CV_OK;
}

/* ------------------------------------------------------------ accounts */

static cv_err random_chars(const char *alphabet, size_t n, char *out)
{
    uint8_t rnd[64];
    size_t i, alen = strlen(alphabet);
    cv_err err;

    if (n > sizeof(rnd)) {
        return CV_EINVAL;
    }
    err = cv_random_bytes(rnd, n);
    if (err) {
        return err;
    }
    for (i = 0; i < n; i++) {
        out[i] = alphabet[rnd[i] % alen];
    }
    out[n] = '\0';
    return CV_OK;
}

struct account_job {
    struct store *st;
    const char *name;
    struct store_root_credentials *cred;
    bool imported;
    char *errmsg;
    size_t errlen;
};

static cv_err account_insert(struct db_conn *c, void *arg)
{
    struct account_job *j = arg;
    struct cv_buf sealed = CV_BUF_INIT(256);
    sqlite3_stmt *s;
    uint8_t cid[32];
    char cidhex[65];
    int64_t now = cv_clock_now_ms(j->st->cfg.clock);
    cv_err err;
    int rc;

    s = db_stmt(c, STMT_ACCOUNT_BY_NAME);
    if (!s) {
        return CV_EDB;
    }
    sqlite3_bind_text(s, 1, j->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        cv_errf(j->errmsg, j->errlen, "an account named '%s' already exists", j->name);
        return CV_EEXIST;
    }
    if (j->imported) {
        s = db_stmt(c, STMT_KEY_BY_ID);
        sqlite3_bind_text(s, 1, j->cred->access_key_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc == SQLITE_ROW) {
            cv_errf(j->errmsg, j->errlen, "access key id %s is already in use",
                    j->cred->access_key_id);
            return CV_EEXIST;
        }
    }
    /* A fresh 12-digit account id, retried on the (unlikely) collision. */
    for (int tries = 0; tries < 10; tries++) {
        err = random_chars("0123456789", 12, j->cred->account_id);
        if (err) {
            return err;
        }
        if (j->cred->account_id[0] == '0') {
            j->cred->account_id[0] = '1';
        }
        s = db_stmt(c, STMT_ACCOUNT_BY_ID);
        sqlite3_bind_text(s, 1, j->cred->account_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_ROW) {
            break;
        }
    }
    err = cv_random_bytes(cid, sizeof(cid));
    if (err) {
        return err;
    }
    cv_hex_encode(cid, sizeof(cid), cidhex);
    snprintf(j->cred->canonical_id, sizeof(j->cred->canonical_id), "%s", cidhex);
    s = db_stmt(c, STMT_ACCOUNT_INSERT);
    sqlite3_bind_text(s, 1, j->cred->account_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, cidhex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    err = store_seal_secret(j->st, j->cred->access_key_id, j->cred->secret, &sealed);
    if (err) {
        return err;
    }
    s = db_stmt(c, STMT_KEY_INSERT);
    sqlite3_bind_text(s, 1, j->cred->access_key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, j->cred->account_id, -1, SQLITE_STATIC);
    sqlite3_bind_null(s, 3);
    sqlite3_bind_blob(s, 4, sealed.ptr, (int)sealed.len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now);
    rc = sqlite3_step(s);
    cv_buf_release(&sealed);
    snprintf(j->cred->account_name, sizeof(j->cred->account_name), "%s", j->name);
    return rc == SQLITE_DONE ? CV_OK : CV_EDB;
}

static bool valid_account_name(const char *n)
{
    size_t i, len = strlen(n);

    if (len == 0 || len > 64) {
        return false;
    }
    for (i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

static bool valid_akid(const char *a)
{
    size_t i, len = strlen(a);

    if (len < 16 || len > 20) {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (!((a[i] >= 'A' && a[i] <= 'Z') || (a[i] >= 'a' && a[i] <= 'z') ||
              (a[i] >= '0' && a[i] <= '9'))) {
            return false;
        }
    }
    return true;
}

/*
 * The access key of a new account root or user: the imported pair (checked)
 * when both are given, else a fresh random one. @p akid_out holds 21 bytes,
 * @p secret_out 129.
 */
static cv_err new_key(const char *akid, const char *secret, char akid_out[21],
                      char secret_out[129], char *errmsg, size_t errlen)
{
    cv_err err;

    if (akid && secret) {
        if (!valid_akid(akid)) {
            cv_errf(errmsg, errlen, "an access key id is 16-20 characters of A-Z, a-z and 0-9");
            return CV_EINVAL;
        }
        if (strlen(secret) < 8 || strlen(secret) >= 129) {
            cv_errf(errmsg, errlen, "a secret access key is 8-128 characters");
            return CV_EINVAL;
        }
        snprintf(akid_out, 21, "%s", akid);
        snprintf(secret_out, 129, "%s", secret);
        return CV_OK;
    }
    memcpy(akid_out, "AKIA", 4);
    err = random_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, akid_out + 4);
    if (!err) {
        err = random_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40,
                           secret_out);
    }
    return err;
}

cv_err store_account_add(struct store *st, const char *name, const char *akid, const char *secret,
                         struct store_root_credentials *out, char *errmsg, size_t errlen)
{
    struct account_job j = {st, name, out, false, errmsg, errlen};
    cv_err err;

    memset(out, 0, sizeof(*out));
    if (!valid_account_name(name)) {
        cv_errf(errmsg, errlen, "account names are 1-64 characters of A-Z a-z 0-9 - _ .");
        return CV_EINVAL;
    }
    err = new_key(akid, secret, out->access_key_id, out->secret, errmsg, errlen);
    if (err) {
        return err;
    }
    j.imported = akid && secret;
    err = db_write(st->db, account_insert, &j);
    if (err && !(errmsg && errmsg[0])) {
        cv_errf(errmsg, errlen, "cannot create the account: %s", cv_err_str(err));
    }
    if (err) {
        cv_secure_zero(out, sizeof(*out));
    }
    return err;
}

struct user_job {
    struct store *st;
    const char *account, *name, *doc;
    size_t doclen;
    struct store_user_credentials *cred;
    char *errmsg;
    size_t errlen;
};

static cv_err user_insert(struct db_conn *c, void *arg)
{
    struct user_job *j = arg;
    struct store_user_credentials *u = j->cred;
    struct cv_buf sealed = CV_BUF_INIT(256);
    sqlite3_stmt *s;
    int64_t now = cv_clock_now_ms(j->st->cfg.clock);
    char pname[140], parn[300], pid[32];
    cv_err err;
    int rc;

    s = db_stmt(c, STMT_ACCOUNT_BY_NAME);
    if (!s) {
        return CV_EDB;
    }
    sqlite3_bind_text(s, 1, j->account, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        snprintf(u->account_id, sizeof(u->account_id), "%s", sqlite3_column_text(s, 0));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW) {
        cv_errf(j->errmsg, j->errlen, "no account named '%s'", j->account);
        return CV_ENOENT;
    }
    s = db_stmt(c, STMT_KEY_BY_ID);
    sqlite3_bind_text(s, 1, u->access_key_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        cv_errf(j->errmsg, j->errlen, "access key id %s is already in use", u->access_key_id);
        return CV_EEXIST;
    }
    memcpy(u->user_id, "AIDA", 4);
    err = random_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 17, u->user_id + 4);
    if (!err) {
        err = db_exec_args(c,
                           "INSERT INTO users(account, name, user_id, path, created) VALUES "
                           "(?1, ?2, ?3, '/', ?4)",
                           "sssi", u->account_id, j->name, u->user_id, now);
    }
    if (err == CV_IAM_ENTITY_EXISTS) {
        cv_errf(j->errmsg, j->errlen, "a user named '%s' already exists in account %s", j->name,
                j->account);
        return CV_EEXIST;
    }
    if (!err) {
        err = store_seal_secret(j->st, u->access_key_id, u->secret, &sealed);
    }
    if (!err) {
        s = db_stmt(c, STMT_KEY_INSERT);
        sqlite3_bind_text(s, 1, u->access_key_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, u->account_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, j->name, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 4, sealed.ptr, (int)sealed.len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, now);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        err = rc == SQLITE_DONE ? CV_OK : CV_EDB;
    }
    cv_buf_release(&sealed);
    if (!err && j->doc) {
        /* A customer managed policy NAME-policy, attached to the user. */
        snprintf(pname, sizeof(pname), "%s-policy", j->name);
        snprintf(parn, sizeof(parn), "arn:aws:iam::%s:policy/%s", u->account_id, pname);
        memcpy(pid, "ANPA", 4);
        err = random_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 17, pid + 4);
        if (!err) {
            err = db_exec_args(c,
                               "INSERT INTO managed_policies(account, name, policy_id, path, arn, "
                               "document, created) VALUES (?1, ?2, ?3, '/', ?4, ?5, ?6)",
                               "sssssi", u->account_id, pname, pid, parn, j->doc, now);
        }
        if (!err) {
            err = db_exec_args(c,
                               "INSERT INTO attached_policies(account, kind, entity, arn, seq) "
                               "VALUES (?1, 'user', ?2, ?3, COALESCE((SELECT MAX(seq) FROM "
                               "attached_policies), 0) + 1)",
                               "sss", u->account_id, j->name, parn);
        }
        if (err) {
            cv_errf(j->errmsg, j->errlen, "cannot create the policy %s", pname);
        }
    }
    return err;
}

cv_err store_user_add(struct store *st, const char *account, const char *name, const char *akid,
                      const char *secret, const char *policy_doc, size_t doclen,
                      struct store_user_credentials *out, char *errmsg, size_t errlen)
{
    struct user_job j = {st, account, name, policy_doc, doclen, out, errmsg, errlen};
    size_t i, n = strlen(name);
    cv_err err = CV_OK;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < n; i++) {
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.@-",
                    name[i])) {
            break;
        }
    }
    if (n == 0 || n > 64 || i < n) {
        cv_errf(errmsg, errlen, "IAM user names are 1-64 characters of A-Z a-z 0-9 _+=,.@-");
        return CV_EINVAL;
    }
    if (policy_doc) {
        struct policy_parse_opts o;
        struct policy *p = NULL;
        char msg[256] = "";
        memset(&o, 0, sizeof(o));
        o.type = POLICY_IDENTITY;
        o.name = name;
        err = policy_parse(policy_doc, doclen, &o, &p, msg, sizeof(msg));
        policy_free(p);
        if (err) {
            cv_errf(errmsg, errlen, "the policy document is not valid: %s",
                    msg[0] ? msg : cv_err_str(err));
            return err;
        }
    }
    err = new_key(akid, secret, out->access_key_id, out->secret, errmsg, errlen);
    if (err == CV_EINVAL) {
        return err;
    }
    snprintf(out->user_name, sizeof(out->user_name), "%s", name);
    if (!err) {
        err = db_write(st->db, user_insert, &j);
    }
    if (err && !(errmsg && errmsg[0])) {
        cv_errf(errmsg, errlen, "cannot create the user: %s", cv_err_str(err));
    }
    if (err) {
        cv_secure_zero(out, sizeof(*out));
    } else {
        store_creds_invalidate(st);
    }
    return err;
}

cv_err store_default_credentials(struct store *st, struct store_root_credentials *out)
{
    struct db_conn *c = db_reader(st->db);
    sqlite3_stmt *s;
    cv_err err = CV_ENOENT;

    memset(out, 0, sizeof(*out));
    if (!c) {
        return CV_ENOMEM;
    }
    s = db_stmt(c, STMT_ACCOUNT_FIRST);
    if (s && sqlite3_step(s) == SQLITE_ROW) {
        snprintf(out->account_id, sizeof(out->account_id), "%s", sqlite3_column_text(s, 0));
        snprintf(out->account_name, sizeof(out->account_name), "%s", sqlite3_column_text(s, 1));
        snprintf(out->canonical_id, sizeof(out->canonical_id), "%s", sqlite3_column_text(s, 2));
        s = db_stmt(c, STMT_KEY_ROOT_OF);
        sqlite3_bind_text(s, 1, out->account_id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            snprintf(out->access_key_id, sizeof(out->access_key_id), "%s",
                     sqlite3_column_text(s, 0));
            err = store_open_secret(st, out->access_key_id, sqlite3_column_blob(s, 1),
                                    (size_t)sqlite3_column_bytes(s, 1), out->secret,
                                    sizeof(out->secret));
        }
    }
    db_reader_done(st->db, c);
    return err;
}

static cv_err write_credentials_file(struct store *st, const struct store_root_credentials *cr)
{
    char path[4096];
    struct cv_buf b = CV_BUF_INIT(4096);
    cv_err err;

    snprintf(path, sizeof(path), "%s/root-credentials", st->data_dir);
    err = cv_buf_addf(&b,
                      "# Root credentials of account %s (%s) of the Caravel store in %s.\n"
                      "# AWS shared-credentials format: AWS_SHARED_CREDENTIALS_FILE=%s\n"
                      "[default]\n"
                      "aws_access_key_id = %s\n"
                      "aws_secret_access_key = %s\n",
                      cr->account_id, cr->account_name, st->data_dir, path, cr->access_key_id,
                      cr->secret);
    if (!err) {
        err = cv_file_write_atomic(path, b.ptr, b.len, 0600);
    }
    if (b.ptr) {
        cv_secure_zero(b.ptr, b.len);
    }
    cv_buf_release(&b);
    return err;
}

/* --------------------------------------------------------- lifecycle */

static cv_err split_domains(struct store *st, const char *list)
{
    const char *p = list ? list : "";
    size_t n = 1;

    for (const char *q = p; *q; q++) {
        n += *q == ',';
    }
    st->domains = cv_calloc(n, sizeof(char *));
    if (!st->domains) {
        return CV_ENOMEM;
    }
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len) {
            st->domains[st->ndomains] = cv_strndup(p, len);
            if (!st->domains[st->ndomains]) {
                return CV_ENOMEM;
            }
            st->ndomains++;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    return CV_OK;
}

cv_err store_open(const struct store_config *cfg, struct store **out, char *errmsg, size_t errlen)
{
    struct store *st = NULL;
    char path[4096];
    struct store_root_credentials cr;
    cv_err err;

    *out = NULL;
    if (cfg->default_object_ownership &&
        !s3_ownership_valid(cv_str_c(cfg->default_object_ownership))) {
        cv_errf(errmsg, errlen,
                "the default object ownership must be BucketOwnerEnforced, "
                "BucketOwnerPreferred or ObjectWriter, not '%s'",
                cfg->default_object_ownership);
        return CV_EINVAL;
    }
    st = cv_calloc(1, sizeof(*st));
    if (!st) {
        return CV_ENOMEM;
    }
    st->cfg = *cfg;
    if (!st->cfg.clock) {
        st->cfg.clock = cv_clock_system();
    }
    if (!st->cfg.default_object_ownership) {
        st->cfg.default_object_ownership = "BucketOwnerEnforced";
    }
    st->lock_fd = -1;
    pthread_mutex_init(&st->cred_lock, NULL);
    st->data_dir = cv_strdup(cfg->data_dir);
    st->region = cv_strdup(cfg->region ? cfg->region : "us-east-1");
    if (!st->data_dir || !st->region) {
        err = CV_ENOMEM;
        goto out;
    }
    err = split_domains(st, cfg->domains);
    if (err) {
        goto out;
    }
    if (cv_mkdir_p(st->data_dir, 0700)) {
        cv_errf(errmsg, errlen, "cannot create the data directory %s: %s", st->data_dir,
                strerror(errno));
        err = CV_EIO;
        goto out;
    }
    chmod(st->data_dir, 0700);
    err = load_master_key(st, errmsg, errlen);
    if (err) {
        goto out;
    }
    snprintf(path, sizeof(path), "%s/meta.db", st->data_dir);
    err = db_open(path, &st->db, errmsg, errlen);
    if (err) {
        goto out;
    }
    err = sigv4_key_cache_new(1024, &st->keys);
    if (!err) {
        err = store_authz_init(st);
    }
    if (!err) {
        err = store_bucket_cache_init(st);
    }
    if (err) {
        goto out;
    }
    /* First start: the default account and its root credentials. */
    err = store_default_credentials(st, &cr);
    if (err == CV_ENOENT) {
        err = store_account_add(st, "default", NULL, NULL, &cr, errmsg, errlen);
        if (!err) {
            err = write_credentials_file(st, &cr);
            if (err) {
                cv_errf(errmsg, errlen, "cannot write %s/root-credentials", st->data_dir);
            }
        }
    }
    if (!err) {
        snprintf(st->default_account, sizeof(st->default_account), "%s", cr.account_id);
    }
    cv_secure_zero(&cr, sizeof(cr));
out:
    if (err) {
        store_close(st);
        st = NULL;
    }
    *out = st;
    return err;
}

/* Start-up: every body file no metadata refers to is an orphan of a crash. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static cv_err remove_orphans(struct store *st, unsigned *removed)
{
    static const char *const q[] = {"SELECT file FROM objects WHERE file IS NOT NULL",
                                    "SELECT file FROM versions WHERE file IS NOT NULL",
                                    "SELECT file FROM segments WHERE file IS NOT NULL",
                                    "SELECT file FROM parts WHERE file IS NOT NULL"};
    struct db_conn *c = db_reader(st->db);
    char **ids = NULL;
    size_t n = 0, cap = 0, i;
    cv_err err = CV_OK;
    char path[4096];

    *removed = 0;
    if (!c) {
        return CV_ENOMEM;
    }
    for (i = 0; i < CV_ARRAY_LEN(q) && !err; i++) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(c->h, q[i], -1, &s, NULL) != SQLITE_OK) {
            err = CV_EDB;
            break;
        }
        while (!err && sqlite3_step(s) == SQLITE_ROW) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 1024;
                char **nids = cv_realloc(ids, ncap * sizeof(*ids));
                if (!nids) {
                    err = CV_ENOMEM;
                    break;
                }
                ids = nids;
                cap = ncap;
            }
            ids[n] = cv_strdup((const char *)sqlite3_column_text(s, 0));
            if (!ids[n]) {
                err = CV_ENOMEM;
                break;
            }
            n++;
        }
        sqlite3_finalize(s);
    }
    db_reader_done(st->db, c);
    if (!err && n) {
        qsort(ids, n, sizeof(*ids), cmp_str);
    }
    for (unsigned d = 0; d < 256 && !err; d++) {
        DIR *dir;
        struct dirent *e;
        snprintf(path, sizeof(path), "%s/objects/%02x", st->data_dir, d);
        dir = opendir(path);
        if (!dir) {
            continue;
        }
        for (e = readdir(dir); e; e = readdir(dir)) {
            const char *name = e->d_name;
            if (name[0] == '.') {
                continue;
            }
            if (!n || !bsearch(&name, ids, n, sizeof(*ids), cmp_str)) {
                if (unlinkat(dirfd(dir), name, 0) == 0) {
                    (*removed)++;
                }
            }
        }
        closedir(dir);
    }
    for (i = 0; i < n; i++) {
        cv_free(ids[i]);
    }
    cv_free(ids);
    return err;
}

cv_err store_start(struct store *st, char *errmsg, size_t errlen)
{
    char path[4096], url[128];
    unsigned removed = 0;
    cv_err err;

    snprintf(path, sizeof(path), "%s/lock", st->data_dir);
    st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        cv_errf(errmsg, errlen, "another store is already serving %s", st->data_dir);
        return CV_EEXIST;
    }
    err = blob_prepare_dirs(st->data_dir);
    if (err) {
        cv_errf(errmsg, errlen, "cannot prepare %s/objects and %s/tmp", st->data_dir,
                st->data_dir);
        return err;
    }
    err = remove_orphans(st, &removed);
    if (err) {
        cv_errf(errmsg, errlen, "cannot scan for orphaned files: %s", cv_err_str(err));
        return err;
    }
    if (removed) {
        cv_info("store: removed %u orphaned body file(s) left by an interrupted write", removed);
    }
    err = store_http_start(st, errmsg, errlen);
    if (err) {
        return err;
    }
    snprintf(path, sizeof(path), "%s/endpoint", st->data_dir);
    snprintf(url, sizeof(url), "http://%s%s%s:%u\n", strchr(st->cfg.listen_host, ':') ? "[" : "",
             st->cfg.listen_host, strchr(st->cfg.listen_host, ':') ? "]" : "", st->port);
    err = cv_file_write_atomic(path, url, strlen(url), 0644);
    if (err) {
        cv_errf(errmsg, errlen, "cannot write %s", path);
    }
    return err;
}

unsigned store_port(const struct store *st)
{
    return st->port;
}

void store_close(struct store *st)
{
    size_t i;

    if (!st) {
        return;
    }
    store_http_stop(st);
    if (st->db && st->mhd == NULL && st->port) {
        uint64_t commits = 0, writes = 0;
        db_stats(st->db, &commits, &writes);
        if (writes) {
            cv_info("store: %llu metadata writes in %llu commits (%.1f per WAL sync)",
                    (unsigned long long)writes, (unsigned long long)commits,
                    commits ? (double)writes / (double)commits : 0.0);
        }
    }
    db_close(st->db);
    sigv4_key_cache_free(st->keys);
    store_authz_free(st);
    store_bucket_cache_free(st);
    if (st->creds) {
        cv_secure_zero(st->creds, st->credcap * sizeof(*st->creds));
    }
    cv_free(st->creds);
    for (i = 0; i < st->ndomains; i++) {
        cv_free(st->domains[i]);
    }
    cv_free(st->domains);
    cv_free(st->data_dir);
    cv_free(st->region);
    cv_secure_zero(st->master_key, sizeof(st->master_key));
    pthread_mutex_destroy(&st->cred_lock);
    if (st->lock_fd >= 0) {
        close(st->lock_fd);
        st->lock_fd = -1;
    }
    cv_free(st);
}
