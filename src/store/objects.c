/*
 * Object metadata transactions, run by the writer thread (group commit).
 * A key's row is replaced as a whole: readers see the old version or the
 * new one. Body files the old version used are handed back for unlinking
 * once the commit is durable (a crash in between leaves orphans, which the
 * next start removes).
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

enum vstate store_vstate(struct cv_str status)
{
    if (cv_str_eq_c(status, "Enabled")) {
        return VS_ENABLED;
    }
    if (cv_str_eq_c(status, "Suspended")) {
        return VS_SUSPENDED;
    }
    return VS_OFF;
}

cv_err store_new_vid(int64_t now_ms, char out[40])
{
    uint8_t rnd[10];
    cv_err err = cv_random_bytes(rnd, sizeof(rnd));

    if (err) {
        return err;
    }
    snprintf(out, 40, "%012llx", (unsigned long long)now_ms & 0xffffffffffffull);
    cv_hex_encode(rnd, sizeof(rnd), out + 12);
    return CV_OK;
}

bool store_vid_valid(struct cv_str v)
{
    size_t i;

    if (cv_str_eq_c(v, "null")) {
        return true;
    }
    if (v.len != 32) {
        return false;
    }
    for (i = 0; i < v.len; i++) {
        char ch = v.ptr[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            return false;
        }
    }
    return true;
}

cv_err obj_commit_add_old(struct obj_commit *oc, struct cv_str file)
{
    char *copy;

    if (!file.ptr || !file.len) {
        return CV_OK;
    }
    if (oc->nold == oc->oldcap) {
        size_t ncap = oc->oldcap ? oc->oldcap * 2 : 8;
        char **n = cv_arena_alloc(oc->arena, ncap * sizeof(*n));
        if (!n) {
            return CV_ENOMEM;
        }
        if (oc->nold) {
            memcpy(n, oc->old_files, oc->nold * sizeof(*n));
        }
        oc->old_files = n;
        oc->oldcap = ncap;
    }
    copy = cv_arena_strndup(oc->arena, file.ptr, file.len);
    if (!copy) {
        return CV_ENOMEM;
    }
    oc->old_files[oc->nold++] = copy;
    return CV_OK;
}

void obj_commit_cleanup(struct store *st, struct obj_commit *oc)
{
    size_t i;

    for (i = 0; i < oc->nold; i++) {
        blob_unlink(st->data_dir, oc->old_files[i]);
    }
    oc->nold = 0;
}

/* Deletes the row for (bucket, key) and its segments; collects files. */
static cv_err remove_existing(struct db_conn *c, struct obj_commit *oc, bool *existed,
                              char etag[80])
{
    sqlite3_stmt *s = db_stmt(c, STMT_OBJ_HEAD_ID);
    int64_t id, nparts;
    cv_err err = CV_OK;

    *existed = false;
    if (!s) {
        return CV_EDB;
    }
    db_bind_str(s, 1, oc->bucket);
    db_bind_str(s, 2, oc->key);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return CV_OK;
    }
    *existed = true;
    id = sqlite3_column_int64(s, 0);
    nparts = sqlite3_column_int64(s, 2);
    if (etag) {
        struct cv_str e = db_col_str(s, 3);
        size_t n = CV_MIN(e.len, 79);
        memcpy(etag, e.ptr ? e.ptr : "", n);
        etag[n] = '\0';
    }
    err = obj_commit_add_old(oc, db_col_str(s, 1));
    sqlite3_reset(s);
    if (err) {
        return err;
    }
    if (nparts > 0) {
        s = db_stmt(c, STMT_SEG_LIST);
        sqlite3_bind_int64(s, 1, id);
        while (!err && sqlite3_step(s) == SQLITE_ROW) {
            err = obj_commit_add_old(oc, db_col_str(s, 3));
        }
        sqlite3_reset(s);
        if (err) {
            return err;
        }
        s = db_stmt(c, STMT_SEG_DELETE);
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) != SQLITE_DONE) {
            return CV_EDB;
        }
    }
    s = db_stmt(c, STMT_OBJ_DELETE);
    sqlite3_bind_int64(s, 1, id);
    return sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
}


/* The bucket's versioning state, read inside the transaction. */
static cv_err tx_vstate(struct db_conn *c, struct cv_str bucket, enum vstate *vs)
{
    sqlite3_stmt *s = db_stmt(c, STMT_BUCKET_VSTATE);

    if (!s) {
        return CV_EDB;
    }
    db_bind_str(s, 1, bucket);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return CV_S3_NO_SUCH_BUCKET;
    }
    *vs = store_vstate(db_col_str(s, 0));
    sqlite3_reset(s);
    return CV_OK;
}

/* The current row of the key: id, ETag, and whether its version is "null". */
struct cur_row {
    bool exists;
    int64_t id;
    bool null_vid;
    char etag[80];
    char vid[40];
};

static cv_err current_row(struct db_conn *c, const struct obj_commit *oc, struct cur_row *cr)
{
    sqlite3_stmt *s = db_stmt(c, STMT_OBJ_HEAD_ID);

    memset(cr, 0, sizeof(*cr));
    if (!s) {
        return CV_EDB;
    }
    db_bind_str(s, 1, oc->bucket);
    db_bind_str(s, 2, oc->key);
    if (sqlite3_step(s) == SQLITE_ROW) {
        struct cv_str e = db_col_str(s, 3), v = db_col_str(s, 4);
        cr->exists = true;
        cr->id = sqlite3_column_int64(s, 0);
        cr->null_vid = v.ptr == NULL;
        snprintf(cr->etag, sizeof(cr->etag), "%.*s", (int)CV_MIN(e.len, 79), e.ptr ? e.ptr : "");
        if (v.ptr) {
            snprintf(cr->vid, sizeof(cr->vid), "%.*s", (int)CV_MIN(v.len, 39), v.ptr);
        } else {
            snprintf(cr->vid, sizeof(cr->vid), "null");
        }
    }
    sqlite3_reset(s);
    return CV_OK;
}

/* Moves the current row @p id into versions (bodies and segments kept). */
static cv_err archive_current(struct db_conn *c, int64_t id)
{
    sqlite3_stmt *s = db_stmt(c, STMT_VER_ARCHIVE);
    int64_t vrow;

    if (!s) {
        return CV_EDB;
    }
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    vrow = sqlite3_last_insert_rowid(c->h);
    s = db_stmt(c, STMT_SEG_MOVE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, -vrow);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    s = db_stmt(c, STMT_OBJ_DELETE);
    sqlite3_bind_int64(s, 1, id);
    return sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
}

/* Removes versions row @p vrow for good; its body files are retired. */
static cv_err drop_version_row(struct db_conn *c, struct obj_commit *oc, int64_t vrow,
                               struct cv_str file)
{
    sqlite3_stmt *s;
    cv_err err = obj_commit_add_old(oc, file);

    if (err) {
        return err;
    }
    s = db_stmt(c, STMT_SEG_LIST);
    sqlite3_bind_int64(s, 1, -vrow);
    while (!err && sqlite3_step(s) == SQLITE_ROW) {
        err = obj_commit_add_old(oc, db_col_str(s, 3));
    }
    sqlite3_reset(s);
    if (err) {
        return err;
    }
    s = db_stmt(c, STMT_SEG_DELETE);
    sqlite3_bind_int64(s, 1, -vrow);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    s = db_stmt(c, STMT_VER_DELETE);
    sqlite3_bind_int64(s, 1, vrow);
    return sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
}

/* Looks up noncurrent version @p vid of the key and, if found, drops it. */
static cv_err drop_version(struct db_conn *c, struct obj_commit *oc, const char *vid,
                           bool *found, bool *marker)
{
    sqlite3_stmt *s = db_stmt(c, STMT_VER_GET);
    int64_t vrow;
    char file[40];
    struct cv_str f;
    cv_err err;

    *found = false;
    if (!s) {
        return CV_EDB;
    }
    db_bind_str(s, 1, oc->bucket);
    db_bind_str(s, 2, oc->key);
    sqlite3_bind_text(s, 3, vid, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return CV_OK;
    }
    *found = true;
    vrow = sqlite3_column_int64(s, 0);
    *marker = sqlite3_column_int(s, 14) != 0;
    f = db_col_str(s, 6);
    snprintf(file, sizeof(file), "%.*s", (int)CV_MIN(f.len, 39), f.ptr ? f.ptr : "");
    sqlite3_reset(s);
    err = drop_version_row(c, oc, vrow, cv_str_c(file));
    return err;
}

/* With no current row, the newest noncurrent version (not a marker) becomes current. */
static cv_err promote_latest(struct db_conn *c, const struct obj_commit *oc)
{
    sqlite3_stmt *s;
    struct cur_row cr;
    int64_t vrow, id;
    bool marker;
    cv_err err = current_row(c, oc, &cr);

    if (err || cr.exists) {
        return err;
    }
    s = db_stmt(c, STMT_VER_LATEST);
    if (!s) {
        return CV_EDB;
    }
    db_bind_str(s, 1, oc->bucket);
    db_bind_str(s, 2, oc->key);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return CV_OK;
    }
    vrow = sqlite3_column_int64(s, 0);
    marker = sqlite3_column_int(s, 14) != 0;
    sqlite3_reset(s);
    if (marker) {
        return CV_OK;
    }
    s = db_stmt(c, STMT_VER_RESTORE);
    sqlite3_bind_int64(s, 1, vrow);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    id = sqlite3_last_insert_rowid(c->h);
    s = db_stmt(c, STMT_SEG_MOVE);
    sqlite3_bind_int64(s, 1, -vrow);
    sqlite3_bind_int64(s, 2, id);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    s = db_stmt(c, STMT_VER_DELETE);
    sqlite3_bind_int64(s, 1, vrow);
    return sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
}

/*
 * Makes room for a new version of the key on a versioned bucket: the current
 * row becomes noncurrent (Enabled, or a versioned row while Suspended) or is
 * removed with its body (the "null" version while Suspended); Suspended also
 * removes a noncurrent "null" version. Picks the new version id.
 */
static cv_err supersede(struct db_conn *c, struct obj_commit *oc, enum vstate vs,
                        const struct cur_row *cr)
{
    bool existed, found, marker;
    cv_err err = CV_OK;

    if (cr->exists) {
        if (vs == VS_SUSPENDED && cr->null_vid) {
            err = remove_existing(c, oc, &existed, NULL);
        } else {
            err = archive_current(c, cr->id);
        }
    }
    if (!err && vs == VS_SUSPENDED) {
        err = drop_version(c, oc, "null", &found, &marker);
    }
    if (!err) {
        if (vs == VS_ENABLED) {
            err = store_new_vid(oc->mtime, oc->vid);
        } else {
            snprintf(oc->vid, sizeof(oc->vid), "null");
        }
    }
    return err;
}

static int bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* The upload being completed: drop its parts rows, retire unused part files. */
static cv_err retire_upload(struct db_conn *c, struct obj_commit *oc)
{
    sqlite3_stmt *s = db_stmt(c, STMT_PART_LIST);
    cv_err err = CV_OK;

    sqlite3_bind_text(s, 1, oc->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, 0);
    sqlite3_bind_int64(s, 3, 1000000);
    while (!err && sqlite3_step(s) == SQLITE_ROW) {
        int64_t num = sqlite3_column_int64(s, 0);
        bool used = false;
        size_t i;
        for (i = 0; i < oc->nused; i++) {
            if (oc->used_parts[i] == num) {
                used = true;
                break;
            }
        }
        if (!used) {
            err = obj_commit_add_old(oc, db_col_str(s, 5));
        }
    }
    sqlite3_reset(s);
    if (err) {
        return err;
    }
    s = db_stmt(c, STMT_PART_DELETE_ALL);
    sqlite3_bind_text(s, 1, oc->upload_id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    s = db_stmt(c, STMT_UPLOAD_DELETE);
    sqlite3_bind_text(s, 1, oc->upload_id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    if (!sqlite3_changes(c->h)) {
        return CV_S3_NO_SUCH_UPLOAD;
    }
    /* Remembered for a day so a repeated Complete answers like the first. */
    s = db_stmt(c, STMT_COMPLETED_PUT);
    sqlite3_bind_text(s, 1, oc->upload_id, -1, SQLITE_STATIC);
    db_bind_str(s, 2, oc->bucket);
    db_bind_str(s, 3, oc->key);
    sqlite3_bind_text(s, 4, oc->etag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, oc->mtime);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    s = db_stmt(c, STMT_COMPLETED_EXPIRE);
    sqlite3_bind_int64(s, 1, oc->mtime - 86400000);
    return sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
}

cv_err obj_commit_tx(struct db_conn *c, void *arg)
{
    struct obj_commit *oc = arg;
    sqlite3_stmt *s;
    bool existed = false;
    char etag[80] = "";
    int64_t id;
    size_t i;
    cv_err err;
    size_t old_before = oc->nold;
    enum vstate vs = VS_OFF;

    /* The bucket may have been deleted since the request began. */
    oc->vid[0] = '\0';
    err = tx_vstate(c, oc->bucket, &vs);
    if (err) {
        return err;
    }
    if (oc->upload_id) {
        s = db_stmt(c, STMT_UPLOAD_GET);
        sqlite3_bind_text(s, 1, oc->upload_id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_ROW) {
            sqlite3_reset(s);
            return CV_S3_NO_SUCH_UPLOAD;
        }
        sqlite3_reset(s);
    }
    if (vs == VS_OFF) {
        err = remove_existing(c, oc, &existed, etag);
    } else {
        struct cur_row cr;
        err = current_row(c, oc, &cr);
        if (!err) {
            existed = cr.exists;
            memcpy(etag, cr.etag, sizeof(etag));
            err = supersede(c, oc, vs, &cr);
        }
    }
    if (err) {
        goto fail;
    }
    if (oc->cond == PUT_COND_IF_NONE_MATCH_STAR && existed) {
        err = CV_S3_PRECONDITION_FAILED;
        goto fail;
    }
    if (oc->cond == PUT_COND_IF_MATCH) {
        if (!existed) {
            err = CV_S3_NO_SUCH_KEY;
            goto fail;
        }
        if (!s3_etag_matches(oc->cond_etag, etag)) {
            err = CV_S3_PRECONDITION_FAILED;
            goto fail;
        }
    }
    if (oc->upload_id) {
        err = retire_upload(c, oc);
        if (err) {
            goto fail;
        }
    }
    s = db_stmt(c, STMT_OBJ_INSERT);
    db_bind_str(s, 1, oc->bucket);
    db_bind_str(s, 2, oc->key);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)oc->size);
    sqlite3_bind_text(s, 4, oc->etag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, oc->mtime);
    if (oc->meta) {
        sqlite3_bind_text(s, 6, oc->meta, (int)oc->metalen, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 6);
    }
    if (oc->body || (!oc->file && !oc->nsegs)) {
        sqlite3_bind_blob(s, 7, oc->body ? oc->body : "", (int)oc->bodylen, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 7);
    }
    bind_opt_text(s, 8, oc->file);
    bind_opt_text(s, 9, oc->ck_algo);
    bind_opt_text(s, 10, oc->ck_value);
    sqlite3_bind_int64(s, 11, oc->nparts);
    bind_opt_text(s, 12, oc->storage_class);
    bind_opt_text(s, 13, oc->acl);
    bind_opt_text(s, 14, oc->tags && oc->tags[0] ? oc->tags : NULL);
    if (vs == VS_ENABLED) {
        sqlite3_bind_text(s, 15, oc->vid, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
        err = CV_EDB;
        goto fail;
    }
    id = sqlite3_last_insert_rowid(c->h);
    for (i = 0; i < oc->nsegs; i++) {
        const struct seg_src *sg = &oc->segs[i];
        s = db_stmt(c, STMT_SEG_INSERT);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, sg->num);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)sg->size);
        if (sg->file) {
            sqlite3_bind_null(s, 4);
            sqlite3_bind_text(s, 5, sg->file, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_blob(s, 4, sg->body ? sg->body : "", (int)sg->bodylen, SQLITE_STATIC);
            sqlite3_bind_null(s, 5);
        }
        if (sqlite3_step(s) != SQLITE_DONE) {
            err = CV_EDB;
            goto fail;
        }
    }
    err = s3_lock_store(c, oc->bucket, oc->key, oc->vid[0] ? oc->vid : "null", oc->lock);
    if (!err && oc->upload_id) {
        err = s3_lock_adopt_upload(c, oc->bucket, oc->key, oc->upload_id,
                                   oc->vid[0] ? oc->vid : "null");
    }
    if (err) {
        goto fail;
    }
    return CV_OK;
fail:
    /* The savepoint rolls back; nothing of the old version is retired. */
    oc->nold = old_before;
    return err;
}

/* DELETE ?versionId=: that version goes for good; the next newest may become current. */
static cv_err delete_version(struct db_conn *c, struct obj_commit *oc)
{
    struct cur_row cr;
    bool existed, found = false, marker = false;
    cv_err err = s3_lock_check_delete(c, oc->bucket, oc->key, oc->version_id, oc->mtime,
                                      oc->bypass_governance);

    if (!err) {
        err = current_row(c, oc, &cr);
    }
    snprintf(oc->vid, sizeof(oc->vid), "%s", oc->version_id);
    if (!err && cr.exists && strcmp(cr.vid, oc->version_id) == 0) {
        err = remove_existing(c, oc, &existed, NULL);
        found = true;
    } else if (!err) {
        err = drop_version(c, oc, oc->version_id, &found, &marker);
    }
    if (!err && found) {
        oc->marker = marker;
        err = promote_latest(c, oc);
    }
    return err;
}

cv_err obj_delete_tx(struct db_conn *c, void *arg)
{
    struct obj_commit *oc = arg;
    bool existed;
    size_t before = oc->nold;
    enum vstate vs = VS_OFF;
    struct cur_row cr;
    cv_err err;

    oc->vid[0] = '\0';
    oc->marker = false;
    err = tx_vstate(c, oc->bucket, &vs);
    if (err) {
        goto out;
    }
    if (oc->version_id) {
        err = delete_version(c, oc);
    } else if (vs == VS_OFF) {
        err = remove_existing(c, oc, &existed, NULL);
    } else {
        /* A delete marker becomes the key's latest version. */
        sqlite3_stmt *s;
        err = current_row(c, oc, &cr);
        if (!err) {
            err = supersede(c, oc, vs, &cr);
        }
        if (!err) {
            s = db_stmt(c, STMT_VER_MARKER);
            db_bind_str(s, 1, oc->bucket);
            db_bind_str(s, 2, oc->key);
            sqlite3_bind_text(s, 3, oc->vid, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 4, oc->mtime);
            bind_opt_text(s, 5, oc->acl);
            if (sqlite3_step(s) != SQLITE_DONE) {
                err = CV_EDB;
            }
            oc->marker = true;
        }
    }
out:
    if (err) {
        oc->nold = before;
    }
    return err;
}

bool s3_etag_matches(struct cv_str header, const char *etag)
{
    struct cv_str list = header, tok, rest;
    struct cv_str e = cv_str_c(etag);

    if (e.len >= 2 && e.ptr[0] == '"') {
        e.ptr++;
        e.len -= 2;
    }
    while (list.len) {
        cv_str_split(list, ',', &tok, &rest);
        list = rest;
        tok = cv_str_trim(tok);
        if (cv_str_starts_with(tok, "W/")) {
            tok.ptr += 2;
            tok.len -= 2;
        }
        if (tok.len >= 2 && tok.ptr[0] == '"' && tok.ptr[tok.len - 1] == '"') {
            tok.ptr++;
            tok.len -= 2;
        }
        if (cv_str_eq_c(tok, "*") || cv_str_eq(tok, e)) {
            return true;
        }
    }
    return false;
}
