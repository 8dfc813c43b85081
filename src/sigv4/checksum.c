/*
 * The S3 additional checksums: CRC32, CRC32C, SHA-1, SHA-256, CRC64NVME, as
 * the base64 of the big-endian digest that x-amz-checksum-* headers carry.
 */
#include "sigv4/sigv4_int.h"

#include <openssl/evp.h>
#include <string.h>

static const struct {
    enum sigv4_checksum_algo algo;
    const char *name, *header;
} algos[] = {
    {SIGV4_CK_CRC32, "CRC32", "x-amz-checksum-crc32"},
    {SIGV4_CK_CRC32C, "CRC32C", "x-amz-checksum-crc32c"},
    {SIGV4_CK_SHA1, "SHA1", "x-amz-checksum-sha1"},
    {SIGV4_CK_SHA256, "SHA256", "x-amz-checksum-sha256"},
    {SIGV4_CK_CRC64NVME, "CRC64NVME", "x-amz-checksum-crc64nvme"},
};

void sigv4_checksum_init(struct sigv4_checksum *c, enum sigv4_checksum_algo algo)
{
    memset(c, 0, sizeof(*c));
    c->algo = algo;
    if (algo == SIGV4_CK_SHA1) {
        cv_sha1_init(&c->u.sha1);
    } else if (algo == SIGV4_CK_SHA256) {
        cv_sha256_init(&c->u.sha256);
    }
}

void sigv4_checksum_update(struct sigv4_checksum *c, const void *data, size_t len)
{
    switch (c->algo) {
    case SIGV4_CK_CRC32:
        c->u.crc32 = cv_crc32(c->u.crc32, data, len);
        break;
    case SIGV4_CK_CRC32C:
        c->u.crc32 = cv_crc32c(c->u.crc32, data, len);
        break;
    case SIGV4_CK_SHA1:
        cv_sha1_update(&c->u.sha1, data, len);
        break;
    case SIGV4_CK_SHA256:
        cv_sha256_update(&c->u.sha256, data, len);
        break;
    case SIGV4_CK_CRC64NVME:
        c->u.crc64 = cv_crc64nvme(c->u.crc64, data, len);
        break;
    case SIGV4_CK_NONE:
    default:
        break;
    }
}

void sigv4_checksum_final(struct sigv4_checksum *c, char out[SIGV4_CK_B64_MAX])
{
    uint8_t d[CV_SHA256_LEN];
    size_t n = 0, i;

    switch (c->algo) {
    case SIGV4_CK_CRC32:
    case SIGV4_CK_CRC32C:
        for (i = 0; i < 4; i++) {
            d[i] = (uint8_t)(c->u.crc32 >> (24 - 8 * i));
        }
        n = 4;
        break;
    case SIGV4_CK_CRC64NVME:
        for (i = 0; i < 8; i++) {
            d[i] = (uint8_t)(c->u.crc64 >> (56 - 8 * i));
        }
        n = 8;
        break;
    case SIGV4_CK_SHA1:
        cv_sha1_final(&c->u.sha1, d);
        n = CV_SHA1_LEN;
        break;
    case SIGV4_CK_SHA256:
        cv_sha256_final(&c->u.sha256, d);
        n = CV_SHA256_LEN;
        break;
    case SIGV4_CK_NONE:
    default:
        break;
    }
    /* 4 * ceil(32 / 3) + 1 = 45 <= SIGV4_CK_B64_MAX; no allocation. */
    EVP_EncodeBlock((unsigned char *)out, d, (int)n);
}

enum sigv4_checksum_algo sigv4_checksum_from_header(struct cv_str name)
{
    size_t i;

    name = cv_str_trim(name);
    for (i = 0; i < CV_ARRAY_LEN(algos); i++) {
        if (cv_str_eq_ci_c(name, algos[i].header)) {
            return algos[i].algo;
        }
    }
    return SIGV4_CK_NONE;
}

enum sigv4_checksum_algo sigv4_checksum_from_name(struct cv_str name)
{
    size_t i;

    name = cv_str_trim(name);
    for (i = 0; i < CV_ARRAY_LEN(algos); i++) {
        if (cv_str_eq_ci_c(name, algos[i].name)) {
            return algos[i].algo;
        }
    }
    return SIGV4_CK_NONE;
}

const char *sigv4_checksum_header(enum sigv4_checksum_algo algo)
{
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(algos); i++) {
        if (algos[i].algo == algo) {
            return algos[i].header;
        }
    }
    return NULL;
}

const char *sigv4_checksum_name(enum sigv4_checksum_algo algo)
{
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(algos); i++) {
        if (algos[i].algo == algo) {
            return algos[i].name;
        }
    }
    return NULL;
}
