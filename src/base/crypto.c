/*
 * OpenSSL wrappers. The low-level SHA256/MD5/SHA1 contexts are used on
 * purpose: they need no allocation, can be copied (HMAC midstates) and run
 * OpenSSL's assembler (SHA-NI) code; EVP would cost a fetch and a heap
 * context per hash, which is most of a SigV4 verification.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "base.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <openssl/md5.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>
#include <zlib.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct cv_sha256 *)0)->u.opaque), "sha256 ctx");
_Static_assert(sizeof(MD5_CTX) <= sizeof(((struct cv_md5 *)0)->u.opaque), "md5 ctx");
_Static_assert(sizeof(SHA_CTX) <= sizeof(((struct cv_sha1 *)0)->u.opaque), "sha1 ctx");

void cv_sha256_init(struct cv_sha256 *c)
{
    SHA256_Init((SHA256_CTX *)(void *)c->u.opaque);
}

void cv_sha256_update(struct cv_sha256 *c, const void *data, size_t len)
{
    SHA256_Update((SHA256_CTX *)(void *)c->u.opaque, data, len);
}

void cv_sha256_final(struct cv_sha256 *c, uint8_t out[CV_SHA256_LEN])
{
    SHA256_Final(out, (SHA256_CTX *)(void *)c->u.opaque);
}

void cv_sha256(const void *data, size_t len, uint8_t out[CV_SHA256_LEN])
{
    struct cv_sha256 c;

    cv_sha256_init(&c);
    cv_sha256_update(&c, data, len);
    cv_sha256_final(&c, out);
}

void cv_hmac_sha256_key_init(struct cv_hmac_sha256_key *k, const void *key, size_t keylen)
{
    uint8_t block[64], kh[CV_SHA256_LEN];
    size_t i;

    memset(block, 0, sizeof(block));
    if (keylen > sizeof(block)) {
        cv_sha256(key, keylen, kh);
        memcpy(block, kh, sizeof(kh));
    } else if (keylen) {
        memcpy(block, key, keylen);
    }
    for (i = 0; i < sizeof(block); i++) {
        block[i] ^= 0x36;
    }
    cv_sha256_init(&k->inner);
    cv_sha256_update(&k->inner, block, sizeof(block));
    for (i = 0; i < sizeof(block); i++) {
        block[i] ^= 0x36 ^ 0x5c;
    }
    cv_sha256_init(&k->outer);
    cv_sha256_update(&k->outer, block, sizeof(block));
    cv_secure_zero(block, sizeof(block));
    cv_secure_zero(kh, sizeof(kh));
}

void cv_hmac_sha256_key_mac(const struct cv_hmac_sha256_key *k, const void *data, size_t len,
                            uint8_t out[CV_SHA256_LEN])
{
    struct cv_sha256 c = k->inner;
    uint8_t ih[CV_SHA256_LEN];

    cv_sha256_update(&c, data, len);
    cv_sha256_final(&c, ih);
    c = k->outer;
    cv_sha256_update(&c, ih, sizeof(ih));
    cv_sha256_final(&c, out);
}

void cv_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    uint8_t out[CV_SHA256_LEN])
{
    struct cv_hmac_sha256_key k;

    cv_hmac_sha256_key_init(&k, key, keylen);
    cv_hmac_sha256_key_mac(&k, data, len, out);
    cv_secure_zero(&k, sizeof(k));
}

void cv_md5_init(struct cv_md5 *c)
{
    MD5_Init((MD5_CTX *)(void *)c->u.opaque);
}

void cv_md5_update(struct cv_md5 *c, const void *data, size_t len)
{
    MD5_Update((MD5_CTX *)(void *)c->u.opaque, data, len);
}

void cv_md5_final(struct cv_md5 *c, uint8_t out[CV_MD5_LEN])
{
    MD5_Final(out, (MD5_CTX *)(void *)c->u.opaque);
}

void cv_md5(const void *data, size_t len, uint8_t out[CV_MD5_LEN])
{
    struct cv_md5 c;

    cv_md5_init(&c);
    cv_md5_update(&c, data, len);
    cv_md5_final(&c, out);
}

void cv_sha1_init(struct cv_sha1 *c)
{
    SHA1_Init((SHA_CTX *)(void *)c->u.opaque);
}

void cv_sha1_update(struct cv_sha1 *c, const void *data, size_t len)
{
    SHA1_Update((SHA_CTX *)(void *)c->u.opaque, data, len);
}

void cv_sha1_final(struct cv_sha1 *c, uint8_t out[CV_SHA1_LEN])
{
    SHA1_Final(out, (SHA_CTX *)(void *)c->u.opaque);
}

/* HMAC-SHA1 (RFC 2104): the legacy POST policy signature. */
void cv_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
                  uint8_t out[CV_SHA1_LEN])
{
    uint8_t k[64], pad[64], inner[CV_SHA1_LEN];
    struct cv_sha1 c;
    size_t i;

    memset(k, 0, sizeof(k));
    if (keylen > sizeof(k)) {
        cv_sha1_init(&c);
        cv_sha1_update(&c, key, keylen);
        cv_sha1_final(&c, k);
    } else {
        memcpy(k, key, keylen);
    }
    for (i = 0; i < sizeof(pad); i++) {
        pad[i] = (uint8_t)(k[i] ^ 0x36);
    }
    cv_sha1_init(&c);
    cv_sha1_update(&c, pad, sizeof(pad));
    cv_sha1_update(&c, data, len);
    cv_sha1_final(&c, inner);
    for (i = 0; i < sizeof(pad); i++) {
        pad[i] = (uint8_t)(k[i] ^ 0x5c);
    }
    cv_sha1_init(&c);
    cv_sha1_update(&c, pad, sizeof(pad));
    cv_sha1_update(&c, inner, sizeof(inner));
    cv_sha1_final(&c, out);
    cv_secure_zero(k, sizeof(k));
    cv_secure_zero(pad, sizeof(pad));
}

uint32_t cv_crc32(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;

    /* zlib takes uInt lengths. */
    while (len) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

/* CRC32C: SSE4.2 crc32 instruction when the CPU has it, else slicing tables. */
static uint32_t crc32c_table[8][256];
static uint64_t crc64_table[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static bool have_sse42;

static void init_tables(void)
{
    uint32_t i, j;

    for (i = 0; i < 256; i++) {
        uint32_t c = i;
        uint64_t c64 = i;
        for (j = 0; j < 8; j++) {
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            c64 = c64 & 1 ? (c64 >> 1) ^ 0x9A6C9329AC4BC9B5ull : c64 >> 1;
        }
        crc32c_table[0][i] = c;
        crc64_table[0][i] = c64;
    }
    for (i = 0; i < 256; i++) {
        for (j = 1; j < 8; j++) {
            crc32c_table[j][i] =
                (crc32c_table[j - 1][i] >> 8) ^ crc32c_table[0][crc32c_table[j - 1][i] & 0xff];
            crc64_table[j][i] =
                (crc64_table[j - 1][i] >> 8) ^ crc64_table[0][crc64_table[j - 1][i] & 0xff];
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t c, const unsigned char *p,
                                                            size_t len)
{
    uint64_t c64 = c;

    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
    while (len--) {
        c = __builtin_ia32_crc32qi(c, *p++);
    }
    return c;
}
#endif

static uint32_t crc32c_sw(uint32_t c, const unsigned char *p, size_t len)
{
    while (len >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        c = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
            crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
            crc32c_table[3][p[4]] ^ crc32c_table[2][p[5]] ^ crc32c_table[1][p[6]] ^
            crc32c_table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--) {
        c = (c >> 8) ^ crc32c_table[0][(c ^ *p++) & 0xff];
    }
    return c;
}

uint32_t cv_crc32c(uint32_t crc, const void *data, size_t len)
{
    uint32_t c = ~crc;

    pthread_once(&tables_once, init_tables);
#if defined(__x86_64__)
    if (have_sse42) {
        return ~crc32c_hw(c, data, len);
    }
#endif
    return ~crc32c_sw(c, data, len);
}

uint64_t cv_crc64nvme(uint64_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t c = ~crc;

    pthread_once(&tables_once, init_tables);
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8); /* little-endian hosts only, as every target we build for */
        c ^= v;
        c = crc64_table[7][c & 0xff] ^ crc64_table[6][(c >> 8) & 0xff] ^
            crc64_table[5][(c >> 16) & 0xff] ^ crc64_table[4][(c >> 24) & 0xff] ^
            crc64_table[3][(c >> 32) & 0xff] ^ crc64_table[2][(c >> 40) & 0xff] ^
            crc64_table[1][(c >> 48) & 0xff] ^ crc64_table[0][c >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) {
        c = (c >> 8) ^ crc64_table[0][(c ^ *p++) & 0xff];
    }
    return ~c;
}

cv_err cv_random_bytes(void *out, size_t n)
{
    if (n > INT32_MAX || RAND_bytes(out, (int)n) != 1) {
        return CV_ECRYPTO;
    }
    return CV_OK;
}

bool cv_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        d |= (unsigned char)(x[i] ^ y[i]);
    }
    return d == 0;
}

void cv_secure_zero(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--) {
        *v++ = 0;
    }
}

static cv_err gcm(bool seal, struct cv_buf *out, const uint8_t *key, const uint8_t *iv,
                  const void *in, size_t len, const void *aad, size_t aadlen, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = NULL;
    cv_err err = CV_ECRYPTO;
    int n = 0;

    if (len > INT32_MAX || aadlen > INT32_MAX) {
        return CV_ETOOBIG;
    }
    err = cv_buf_grow(out, len + 16);
    if (err) {
        return err;
    }
    err = CV_ECRYPTO;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx) {
        err = CV_ENOMEM;
        goto out;
    }
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, seal ? 1 : 0) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CV_GCM_IV_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, seal ? 1 : 0) != 1) {
        goto out;
    }
    if (aad && aadlen && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1) {
        goto out;
    }
    if (EVP_CipherUpdate(ctx, (unsigned char *)out->ptr + out->len, &n, in, (int)len) != 1) {
        goto out;
    }
    if (!seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CV_GCM_TAG_LEN, tag) != 1) {
        goto out;
    }
    {
        int fin = 0;
        if (EVP_CipherFinal_ex(ctx, (unsigned char *)out->ptr + out->len + n, &fin) != 1) {
            goto out;
        }
        n += fin;
    }
    if (seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CV_GCM_TAG_LEN, tag) != 1) {
        goto out;
    }
    out->len += (size_t)n;
    out->ptr[out->len] = '\0';
    err = CV_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return err;
}

cv_err cv_aead_seal(struct cv_buf *out, const uint8_t key[CV_AES_KEY_LEN], const void *plain,
                    size_t len, const void *aad, size_t aadlen)
{
    uint8_t iv[CV_GCM_IV_LEN], tag[CV_GCM_TAG_LEN];
    cv_err err;

    err = cv_random_bytes(iv, sizeof(iv));
    if (!err) {
        err = cv_buf_add(out, iv, sizeof(iv));
    }
    if (!err) {
        err = gcm(true, out, key, iv, plain, len, aad, aadlen, tag);
    }
    if (!err) {
        err = cv_buf_add(out, tag, sizeof(tag));
    }
    return err;
}

cv_err cv_aead_open(struct cv_buf *out, const uint8_t key[CV_AES_KEY_LEN], const void *sealed,
                    size_t len, const void *aad, size_t aadlen)
{
    const uint8_t *p = sealed;
    uint8_t tag[CV_GCM_TAG_LEN];

    if (len < CV_GCM_IV_LEN + CV_GCM_TAG_LEN) {
        return CV_ECRYPTO;
    }
    memcpy(tag, p + len - CV_GCM_TAG_LEN, CV_GCM_TAG_LEN);
    return gcm(false, out, key, p, p + CV_GCM_IV_LEN, len - CV_GCM_IV_LEN - CV_GCM_TAG_LEN, aad,
               aadlen, tag);
}
