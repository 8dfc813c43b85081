/*
 * The S3 action table (IAM.md §3): every action name with its resource type
 * and the S3 condition keys it supports. Written for Caravel from the AWS
 * Service Authorization Reference's description of Amazon S3; the store uses
 * the bucket and object actions, the rest exist so that wildcards and
 * "unknown action" checks behave as they do on AWS.
 */
#include "policy/policy_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Condition key sets. */
#define K_LIST (PK_BIT(PK_PREFIX) | PK_BIT(PK_DELIMITER) | PK_BIT(PK_MAX_KEYS))
#define K_ACL                                                                                      \
    (PK_BIT(PK_X_AMZ_ACL) | PK_BIT(PK_GRANT_FULL_CONTROL) | PK_BIT(PK_GRANT_READ) |                \
     PK_BIT(PK_GRANT_READ_ACP) | PK_BIT(PK_GRANT_WRITE) | PK_BIT(PK_GRANT_WRITE_ACP))
#define K_EOT PK_BIT(PK_EXISTING_OBJECT_TAG)
#define K_VER PK_BIT(PK_VERSIONID)
#define K_REQTAG (PK_BIT(PK_REQUEST_OBJECT_TAG) | PK_BIT(PK_REQUEST_OBJECT_TAG_KEYS))
#define K_LOCK                                                                                     \
    (PK_BIT(PK_OBJECT_LOCK_MODE) | PK_BIT(PK_OBJECT_LOCK_RETAIN_UNTIL) |                           \
     PK_BIT(PK_OBJECT_LOCK_REMAINING_DAYS))
#define K_PUT                                                                                      \
    (K_REQTAG | K_ACL | K_LOCK | PK_BIT(PK_OBJECT_LOCK_LEGAL_HOLD) | PK_BIT(PK_COPY_SOURCE) |      \
     PK_BIT(PK_METADATA_DIRECTIVE) | PK_BIT(PK_SSE) | PK_BIT(PK_SSE_KMS_KEY_ID) |                  \
     PK_BIT(PK_SSE_CUSTOMER_ALGORITHM) | PK_BIT(PK_STORAGE_CLASS) | PK_BIT(PK_WEBSITE_REDIRECT) |  \
     PK_BIT(PK_IF_MATCH) | PK_BIT(PK_IF_NONE_MATCH))

#define B POLICY_RT_BUCKET
#define O POLICY_RT_OBJECT
#define N POLICY_RT_NONE
#define X POLICY_RT_OTHER

const struct policy_action_def policy_actions[] = {
    /* Bucket actions. */
    {"s3:CreateBucket", B, K_ACL | PK_BIT(PK_LOCATION_CONSTRAINT) | PK_BIT(PK_OBJECT_OWNERSHIP)},
    {"s3:DeleteBucket", B, 0},
    {"s3:ListBucket", B, K_LIST},
    {"s3:ListBucketVersions", B, K_LIST},
    {"s3:ListBucketMultipartUploads", B, 0},
    {"s3:GetBucketLocation", B, 0},
    {"s3:GetBucketPolicy", B, 0},
    {"s3:PutBucketPolicy", B, 0},
    {"s3:DeleteBucketPolicy", B, 0},
    {"s3:GetBucketPolicyStatus", B, 0},
    {"s3:GetBucketAcl", B, 0},
    {"s3:PutBucketAcl", B, K_ACL},
    {"s3:GetBucketCORS", B, 0},
    {"s3:PutBucketCORS", B, 0},
    {"s3:GetBucketVersioning", B, 0},
    {"s3:PutBucketVersioning", B, 0},
    {"s3:GetBucketTagging", B, 0},
    {"s3:PutBucketTagging", B, 0},
    {"s3:GetBucketWebsite", B, 0},
    {"s3:PutBucketWebsite", B, 0},
    {"s3:DeleteBucketWebsite", B, 0},
    {"s3:GetBucketLogging", B, 0},
    {"s3:PutBucketLogging", B, 0},
    {"s3:GetBucketNotification", B, 0},
    {"s3:PutBucketNotification", B, 0},
    {"s3:GetBucketRequestPayment", B, 0},
    {"s3:PutBucketRequestPayment", B, 0},
    {"s3:GetBucketObjectLockConfiguration", B, 0},
    {"s3:PutBucketObjectLockConfiguration", B, 0},
    {"s3:GetBucketOwnershipControls", B, 0},
    {"s3:PutBucketOwnershipControls", B, PK_BIT(PK_OBJECT_OWNERSHIP)},
    {"s3:GetBucketPublicAccessBlock", B, 0},
    {"s3:PutBucketPublicAccessBlock", B, 0},
    {"s3:GetLifecycleConfiguration", B, 0},
    {"s3:PutLifecycleConfiguration", B, 0},
    {"s3:GetReplicationConfiguration", B, 0},
    {"s3:PutReplicationConfiguration", B, 0},
    {"s3:GetEncryptionConfiguration", B, 0},
    {"s3:PutEncryptionConfiguration", B, 0},
    {"s3:GetAccelerateConfiguration", B, 0},
    {"s3:PutAccelerateConfiguration", B, 0},
    {"s3:GetAnalyticsConfiguration", B, 0},
    {"s3:PutAnalyticsConfiguration", B, 0},
    {"s3:GetInventoryConfiguration", B, 0},
    {"s3:PutInventoryConfiguration", B, 0},
    {"s3:GetMetricsConfiguration", B, 0},
    {"s3:PutMetricsConfiguration", B, 0},
    {"s3:GetIntelligentTieringConfiguration", B, 0},
    {"s3:PutIntelligentTieringConfiguration", B, 0},
    /* Object actions. */
    {"s3:GetObject", O, K_EOT},
    {"s3:GetObjectVersion", O, K_EOT | K_VER},
    {"s3:GetObjectAttributes", O, K_EOT},
    {"s3:GetObjectVersionAttributes", O, K_EOT | K_VER},
    {"s3:PutObject", O, K_PUT},
    {"s3:DeleteObject", O, 0},
    {"s3:DeleteObjectVersion", O, K_VER},
    {"s3:GetObjectAcl", O, K_EOT},
    {"s3:GetObjectVersionAcl", O, K_EOT | K_VER},
    {"s3:PutObjectAcl", O, K_EOT | K_ACL},
    {"s3:PutObjectVersionAcl", O, K_EOT | K_ACL | K_VER},
    {"s3:GetObjectTagging", O, K_EOT},
    {"s3:GetObjectVersionTagging", O, K_EOT | K_VER},
    {"s3:PutObjectTagging", O, K_EOT | K_REQTAG},
    {"s3:PutObjectVersionTagging", O, K_EOT | K_REQTAG | K_VER},
    {"s3:DeleteObjectTagging", O, K_EOT},
    {"s3:DeleteObjectVersionTagging", O, K_EOT | K_VER},
    {"s3:AbortMultipartUpload", O, 0},
    {"s3:ListMultipartUploadParts", O, 0},
    {"s3:GetObjectRetention", O, K_EOT},
    {"s3:PutObjectRetention", O, K_EOT | K_LOCK},
    {"s3:GetObjectLegalHold", O, K_EOT},
    {"s3:PutObjectLegalHold", O, K_EOT | PK_BIT(PK_OBJECT_LOCK_LEGAL_HOLD)},
    {"s3:BypassGovernanceRetention", O, K_EOT | K_LOCK | K_ACL},
    {"s3:RestoreObject", O, K_EOT},
    {"s3:GetObjectTorrent", O, K_EOT},
    {"s3:GetObjectVersionTorrent", O, K_EOT | K_VER},
    {"s3:ReplicateObject", O, K_EOT | PK_BIT(PK_SSE) | PK_BIT(PK_SSE_KMS_KEY_ID)},
    {"s3:ReplicateDelete", O, K_EOT},
    {"s3:ReplicateTags", O, K_EOT},
    {"s3:GetObjectVersionForReplication", O, K_EOT},
    {"s3:ObjectOwnerOverrideToBucketOwner", O, K_EOT},
    {"s3:InitiateReplication", O, K_EOT},
    /* No resource type: Resource "*". */
    {"s3:ListAllMyBuckets", N, 0},
    {"s3:ListAccessPoints", N, 0},
    {"s3:ListJobs", N, 0},
    {"s3:CreateJob", N, 0},
    {"s3:GetAccountPublicAccessBlock", N, 0},
    {"s3:PutAccountPublicAccessBlock", N, 0},
    {"s3:ListStorageLensConfigurations", N, 0},
    {"s3:PutStorageLensConfiguration", N, 0},
    {"s3:ListMultiRegionAccessPoints", N, 0},
    {"s3:ListAccessPointsForObjectLambda", N, 0},
    /* Other resource types (access points, jobs, Storage Lens). */
    {"s3:CreateAccessPoint", X, 0},
    {"s3:DeleteAccessPoint", X, 0},
    {"s3:GetAccessPoint", X, 0},
    {"s3:GetAccessPointPolicy", X, 0},
    {"s3:PutAccessPointPolicy", X, 0},
    {"s3:DeleteAccessPointPolicy", X, 0},
    {"s3:GetAccessPointPolicyStatus", X, 0},
    {"s3:DescribeJob", X, 0},
    {"s3:UpdateJobPriority", X, 0},
    {"s3:UpdateJobStatus", X, 0},
    {"s3:GetJobTagging", X, 0},
    {"s3:PutJobTagging", X, 0},
    {"s3:DeleteJobTagging", X, 0},
    {"s3:GetStorageLensConfiguration", X, 0},
    {"s3:DeleteStorageLensConfiguration", X, 0},
    {"s3:GetStorageLensConfigurationTagging", X, 0},
    {"s3:PutStorageLensConfigurationTagging", X, 0},
    {"s3:GetStorageLensDashboard", X, 0},
    {"s3:CreateMultiRegionAccessPoint", X, 0},
    {"s3:DeleteMultiRegionAccessPoint", X, 0},
    {"s3:GetMultiRegionAccessPoint", X, 0},
};

#undef B
#undef O
#undef N
#undef X

const size_t policy_nactions = CV_ARRAY_LEN(policy_actions);

_Static_assert(CV_ARRAY_LEN(policy_actions) <= POLICY_ACTION_WORDS * 64, "action bitset too small");

/* S3 condition keys, in enum policy_s3_key order. */
const struct policy_key_def policy_s3_keys[PK__COUNT] = {
    [PK_AUTH_TYPE] = {"s3:authType", false, true},
    [PK_RESOURCE_ACCOUNT] = {"s3:ResourceAccount", false, true},
    [PK_SIGNATURE_AGE] = {"s3:signatureAge", false, true},
    [PK_SIGNATURE_VERSION] = {"s3:signatureversion", false, true},
    [PK_TLS_VERSION] = {"s3:TlsVersion", false, true},
    [PK_CONTENT_SHA256] = {"s3:x-amz-content-sha256", false, true},
    [PK_AP_NETWORK_ORIGIN] = {"s3:AccessPointNetworkOrigin", false, true},
    [PK_DATA_AP_ACCOUNT] = {"s3:DataAccessPointAccount", false, true},
    [PK_DATA_AP_ARN] = {"s3:DataAccessPointArn", false, true},
    [PK_PREFIX] = {"s3:prefix", false, false},
    [PK_DELIMITER] = {"s3:delimiter", false, false},
    [PK_MAX_KEYS] = {"s3:max-keys", false, false},
    [PK_EXISTING_OBJECT_TAG] = {"s3:ExistingObjectTag/", true, false},
    [PK_REQUEST_OBJECT_TAG] = {"s3:RequestObjectTag/", true, false},
    [PK_REQUEST_OBJECT_TAG_KEYS] = {"s3:RequestObjectTagKeys", false, false},
    [PK_X_AMZ_ACL] = {"s3:x-amz-acl", false, false},
    [PK_GRANT_FULL_CONTROL] = {"s3:x-amz-grant-full-control", false, false},
    [PK_GRANT_READ] = {"s3:x-amz-grant-read", false, false},
    [PK_GRANT_READ_ACP] = {"s3:x-amz-grant-read-acp", false, false},
    [PK_GRANT_WRITE] = {"s3:x-amz-grant-write", false, false},
    [PK_GRANT_WRITE_ACP] = {"s3:x-amz-grant-write-acp", false, false},
    [PK_COPY_SOURCE] = {"s3:x-amz-copy-source", false, false},
    [PK_METADATA_DIRECTIVE] = {"s3:x-amz-metadata-directive", false, false},
    [PK_SSE] = {"s3:x-amz-server-side-encryption", false, false},
    [PK_SSE_KMS_KEY_ID] = {"s3:x-amz-server-side-encryption-aws-kms-key-id", false, false},
    [PK_SSE_CUSTOMER_ALGORITHM] = {"s3:x-amz-server-side-encryption-customer-algorithm", false,
                                   false},
    [PK_STORAGE_CLASS] = {"s3:x-amz-storage-class", false, false},
    [PK_WEBSITE_REDIRECT] = {"s3:x-amz-website-redirect-location", false, false},
    [PK_OBJECT_LOCK_MODE] = {"s3:object-lock-mode", false, false},
    [PK_OBJECT_LOCK_RETAIN_UNTIL] = {"s3:object-lock-retain-until-date", false, false},
    [PK_OBJECT_LOCK_REMAINING_DAYS] = {"s3:object-lock-remaining-retention-days", false, false},
    [PK_OBJECT_LOCK_LEGAL_HOLD] = {"s3:object-lock-legal-hold", false, false},
    [PK_VERSIONID] = {"s3:versionid", false, false},
    [PK_LOCATION_CONSTRAINT] = {"s3:locationconstraint", false, false},
    [PK_OBJECT_OWNERSHIP] = {"s3:x-amz-object-ownership", false, false},
    [PK_IF_MATCH] = {"s3:if-match", false, false},
    [PK_IF_NONE_MATCH] = {"s3:if-none-match", false, false},
};

/* Global aws: keys Caravel knows; multi-valued ones are marked. */
static const struct {
    const char *name;
    bool prefix, multi;
} aws_keys[] = {
    {"aws:SourceIp", false, false},
    {"aws:SecureTransport", false, false},
    {"aws:CurrentTime", false, false},
    {"aws:EpochTime", false, false},
    {"aws:username", false, false},
    {"aws:userid", false, false},
    {"aws:PrincipalArn", false, false},
    {"aws:PrincipalAccount", false, false},
    {"aws:PrincipalType", false, false},
    {"aws:UserAgent", false, false},
    {"aws:Referer", false, false},
    {"aws:SourceVpc", false, false},
    {"aws:SourceVpce", false, false},
    {"aws:VpcSourceIp", false, false},
    {"aws:SourceAccount", false, false},
    {"aws:SourceArn", false, false},
    {"aws:SourceOrgID", false, false},
    {"aws:PrincipalOrgID", false, false},
    {"aws:ResourceAccount", false, false},
    {"aws:ResourceOrgID", false, false},
    {"aws:RequestedRegion", false, false},
    {"aws:MultiFactorAuthPresent", false, false},
    {"aws:MultiFactorAuthAge", false, false},
    {"aws:TokenIssueTime", false, false},
    {"aws:ViaAWSService", false, false},
    {"aws:PrincipalIsAWSService", false, false},
    {"aws:FederatedProvider", false, false},
    {"aws:PrincipalServiceName", false, false},
    {"aws:CalledViaFirst", false, false},
    {"aws:CalledViaLast", false, false},
    {"aws:PrincipalTag/", true, false},
    {"aws:ResourceTag/", true, false},
    {"aws:RequestTag/", true, false},
    {"aws:TagKeys", false, true},
    {"aws:PrincipalServiceNamesList", false, true},
    {"aws:CalledVia", false, true},
    {"aws:PrincipalOrgPaths", false, true},
    {"aws:ResourceOrgPaths", false, true},
};

/* ---------------------------------------------------------------- lookup */

static size_t sorted_ids[CV_ARRAY_LEN(policy_actions)];
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int name_cmp_ci(const char *a, size_t alen, const char *b)
{
    size_t i;

    for (i = 0; i < alen && b[i]; i++) {
        int ca = policy_lower((unsigned char)a[i]);
        int cb = policy_lower((unsigned char)b[i]);
        if (ca != cb) {
            return ca - cb;
        }
    }
    if (i < alen) {
        return 1;
    }
    return b[i] ? -1 : 0;
}

static int sort_cmp(const void *a, const void *b)
{
    const char *na = policy_actions[*(const size_t *)a].name;
    const char *nb = policy_actions[*(const size_t *)b].name;
    return name_cmp_ci(na, strlen(na), nb);
}

static void sort_init(void)
{
    size_t i;

    for (i = 0; i < policy_nactions; i++) {
        sorted_ids[i] = i;
    }
    qsort(sorted_ids, policy_nactions, sizeof(sorted_ids[0]), sort_cmp);
}

int policy_action_id(struct cv_str name)
{
    size_t lo = 0, hi = policy_nactions;

    pthread_once(&sorted_once, sort_init);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp_ci(name.ptr, name.len, policy_actions[sorted_ids[mid]].name);
        if (c == 0) {
            return (int)sorted_ids[mid];
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return -1;
}

const char *policy_action_name(int id)
{
    if (id < 0 || (size_t)id >= policy_nactions) {
        return NULL;
    }
    return policy_actions[id].name;
}

enum policy_resource_type policy_action_resource_type(int id)
{
    if (id < 0 || (size_t)id >= policy_nactions) {
        return POLICY_RT_OTHER;
    }
    return policy_actions[id].rtype;
}

size_t policy_action_count(void)
{
    return policy_nactions;
}

int policy_s3_key_find(struct cv_str key)
{
    size_t i;

    for (i = 0; i < PK__COUNT; i++) {
        const struct policy_key_def *d = &policy_s3_keys[i];
        size_t n = strlen(d->name);
        if (d->prefix) {
            if (key.len > n && policy_prefix_ci(key, d->name, n)) {
                return (int)i;
            }
        } else if (key.len == n && policy_prefix_ci(key, d->name, n)) {
            return (int)i;
        }
    }
    return -1;
}

int policy_aws_key_find(struct cv_str key, bool *multi)
{
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(aws_keys); i++) {
        size_t n = strlen(aws_keys[i].name);
        bool hit = aws_keys[i].prefix ? key.len > n && policy_prefix_ci(key, aws_keys[i].name, n)
                                      : key.len == n && policy_prefix_ci(key, aws_keys[i].name, n);
        if (hit) {
            if (multi) {
                *multi = aws_keys[i].multi;
            }
            return (int)i;
        }
    }
    return -1;
}

bool policy_key_multivalued(struct cv_str key)
{
    bool multi = false;

    if (policy_aws_key_find(key, &multi) >= 0) {
        return multi;
    }
    return policy_s3_key_find(key) == PK_REQUEST_OBJECT_TAG_KEYS;
}

bool policy_key_known_single(struct cv_str key)
{
    bool multi = false;

    if (policy_aws_key_find(key, &multi) >= 0) {
        return !multi;
    }
    int k = policy_s3_key_find(key);
    return k >= 0 && k != PK_REQUEST_OBJECT_TAG_KEYS;
}

bool policy_action_supports_key(int id, int s3key)
{
    if (s3key < 0 || s3key >= PK__COUNT) {
        return false;
    }
    if (policy_s3_keys[s3key].common) {
        return true;
    }
    return (policy_actions[id].keys & PK_BIT(s3key)) != 0;
}
