/*
 * The one error type of Caravel.
 *
 * Every fallible function returns a cv_err and hands results back through
 * out-parameters. The table below is the single source of truth: it yields
 * the enum, cv_err_str() (a short human description), and for the store the
 * S3/IAM error code and HTTP status sent on the wire, with AWS's wording of
 * the message (libuv UV_ERRNO_MAP style).
 *
 * X(NAME, wire_code, http_status, message)
 */
#ifndef CARAVEL_ERR_H
#define CARAVEL_ERR_H

#define CV_ERR_MAP(X)                                                                              \
    X(OK, "OK", 200, "success")                                                                    \
    /* generic errors */                                                                           \
    X(ENOMEM, "InternalError", 500, "out of memory")                                               \
    X(EINVAL, "InvalidArgument", 400, "invalid argument")                                          \
    X(ETOOBIG, "InvalidArgument", 400, "size limit exceeded")                                      \
    X(EIO, "InternalError", 500, "input/output error")                                             \
    X(ENOENT, "NoSuchEntity", 404, "no such file or entry")                                        \
    X(EEXIST, "EntityAlreadyExists", 409, "already exists")                                        \
    X(EPARSE, "InvalidArgument", 400, "malformed input")                                           \
    X(EUTF8, "InvalidArgument", 400, "invalid UTF-8")                                              \
    X(ECRYPTO, "InternalError", 500, "cryptographic library failure")                              \
    X(EDB, "InternalError", 500, "database error")                                                 \
    X(ENET, "InternalError", 500, "network error")                                                 \
    X(ETIMEDOUT, "RequestTimeout", 400, "timed out")                                               \
    X(EAGAIN, "SlowDown", 503, "try again")                                                        \
    X(ECANCELED, "InternalError", 500, "canceled")                                                 \
    X(EUNSUPPORTED, "NotImplemented", 501, "not supported")                                        \
    X(EINTERNAL, "InternalError", 500, "We encountered an internal error. Please try again.")      \
    /* authentication (SigV4) */                                                                   \
    X(S3_ACCESS_DENIED, "AccessDenied", 403, "Access Denied")                                      \
    X(S3_INVALID_ACCESS_KEY_ID, "InvalidAccessKeyId", 403,                                         \
      "The AWS Access Key Id you provided does not exist in our records.")                         \
    X(S3_SIGNATURE_DOES_NOT_MATCH, "SignatureDoesNotMatch", 403,                                   \
      "The request signature we calculated does not match the signature you provided. Check "     \
      "your key and signing method.")                                                              \
    X(S3_REQUEST_TIME_TOO_SKEWED, "RequestTimeTooSkewed", 403,                                     \
      "The difference between the request time and the current time is too large.")              \
    X(S3_AUTH_HEADER_MALFORMED, "AuthorizationHeaderMalformed", 400,                               \
      "The authorization header is malformed.")                                                    \
    X(S3_AUTH_QUERY_ERROR, "AuthorizationQueryParametersError", 400,                               \
      "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "     \
      "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")           \
    X(S3_EXPIRED_PRESIGNED, "AccessDenied", 403, "Request has expired")                            \
    X(S3_NOT_YET_VALID, "AccessDenied", 403, "Request is not yet valid")                           \
    X(S3_MISSING_SECURITY_HEADER, "MissingSecurityHeader", 400,                                    \
      "Your request was missing a required header.")                                               \
    X(S3_INVALID_TOKEN, "InvalidToken", 400, "The provided token is malformed or otherwise invalid.") \
    X(S3_CONTENT_SHA256_MISMATCH, "XAmzContentSHA256Mismatch", 400,                                \
      "The provided 'x-amz-content-sha256' header does not match what was computed.")             \
    X(S3_INVALID_CHUNK, "IncompleteBody", 400,                                                     \
      "The request body is not a valid aws-chunked stream.")                                       \
    /* S3 */                                                                                       \
    X(S3_NO_SUCH_BUCKET, "NoSuchBucket", 404, "The specified bucket does not exist")               \
    X(S3_NO_SUCH_KEY, "NoSuchKey", 404, "The specified key does not exist.")                       \
    X(S3_NO_SUCH_UPLOAD, "NoSuchUpload", 404,                                                      \
      "The specified multipart upload does not exist. The upload ID may be invalid, or the "      \
      "upload may have been aborted or completed.")                                                \
    X(S3_NO_SUCH_BUCKET_POLICY, "NoSuchBucketPolicy", 404, "The bucket policy does not exist")     \
    X(S3_NO_SUCH_VERSION, "NoSuchVersion", 404,                                                    \
      "The specified version does not exist.")                                                     \
    X(S3_INVALID_POLICY_DOCUMENT, "InvalidPolicyDocument", 400,                                    \
      "The content of the form does not meet the conditions specified in the policy document.")   \
    X(S3_MALFORMED_POST, "MalformedPOSTRequest", 400,                                              \
      "The body of your POST request is not well-formed multipart/form-data.")                     \
    X(S3_NO_SUCH_TAG_SET, "NoSuchTagSet", 404, "The TagSet does not exist")                        \
    X(S3_NO_SUCH_CORS, "NoSuchCORSConfiguration", 404, "The CORS configuration does not exist")   \
    X(S3_CORS_BAD_REQUEST, "BadRequest", 400,                                                      \
      "Insufficient information. Origin request header needed.")                                   \
    X(S3_CORS_FORBIDDEN, "AccessForbidden", 403,                                                   \
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of " \
      "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers " \
      "are not whitelisted by the resource's CORS spec.")                                          \
    X(S3_BUCKET_ALREADY_OWNED_BY_YOU, "BucketAlreadyOwnedByYou", 409,                              \
      "Your previous request to create the named bucket succeeded and you already own it.")       \
    X(S3_BUCKET_ALREADY_EXISTS, "BucketAlreadyExists", 409,                                        \
      "The requested bucket name is not available. The bucket namespace is shared by all users "  \
      "of the system. Please select a different name and try again.")                             \
    X(S3_BUCKET_NOT_EMPTY, "BucketNotEmpty", 409, "The bucket you tried to delete is not empty")   \
    X(S3_INVALID_BUCKET_NAME, "InvalidBucketName", 400, "The specified bucket is not valid.")      \
    X(S3_MALFORMED_POLICY, "MalformedPolicy", 400, "Policies must be valid JSON")                  \
    X(S3_ENTITY_TOO_LARGE, "EntityTooLarge", 400,                                                  \
      "Your proposed upload exceeds the maximum allowed object size.")                             \
    X(S3_ENTITY_TOO_SMALL, "EntityTooSmall", 400,                                                  \
      "Your proposed upload is smaller than the minimum allowed object size.")                     \
    X(S3_BAD_DIGEST, "BadDigest", 400, "The Content-MD5 you specified did not match what we received.") \
    X(S3_BAD_CHECKSUM, "BadDigest", 400,                                                           \
      "The checksum you specified did not match what we received.")                                \
    X(S3_INVALID_DIGEST, "InvalidDigest", 400, "The Content-MD5 you specified is not valid.")      \
    X(S3_METHOD_NOT_ALLOWED, "MethodNotAllowed", 405,                                              \
      "The specified method is not allowed against this resource.")                                \
    X(S3_ACL_NOT_SUPPORTED, "AccessControlListNotSupported", 400,                                  \
      "The bucket does not allow ACLs")                                                            \
    X(S3_INVALID_ARGUMENT, "InvalidArgument", 400, "Invalid Argument")                             \
    X(S3_INVALID_REQUEST, "InvalidRequest", 400, "Invalid Request")                                \
    X(S3_INVALID_RANGE, "InvalidRange", 416, "The requested range is not satisfiable")             \
    X(S3_PRECONDITION_FAILED, "PreconditionFailed", 412,                                           \
      "At least one of the pre-conditions you specified did not hold")                             \
    X(S3_NOT_MODIFIED, "NotModified", 304, "Not Modified")                                         \
    X(S3_CONDITIONAL_CONFLICT, "ConditionalRequestConflict", 409,                                  \
      "A conflicting operation occurred. If using PutObject you can retry the request.")          \
    X(S3_MALFORMED_XML, "MalformedXML", 400,                                                       \
      "The XML you provided was not well-formed or did not validate against our published "       \
      "schema")                                                                                    \
    X(S3_INVALID_PART, "InvalidPart", 400,                                                         \
      "One or more of the specified parts could not be found.  The part may not have been "       \
      "uploaded, or the specified entity tag may not match the part's entity tag.")                \
    X(S3_INVALID_PART_ORDER, "InvalidPartOrder", 400,                                              \
      "The list of parts was not in ascending order. Parts must be ordered by part number.")      \
    X(S3_KEY_TOO_LONG, "KeyTooLongError", 400, "Your key is too long")                             \
    X(S3_METADATA_TOO_LARGE, "MetadataTooLarge", 400,                                              \
      "Your metadata headers exceed the maximum allowed metadata size.")                           \
    X(S3_MISSING_CONTENT_LENGTH, "MissingContentLength", 411,                                      \
      "You must provide the Content-Length HTTP header.")                                          \
    X(S3_INCOMPLETE_BODY, "IncompleteBody", 400,                                                   \
      "You did not provide the number of bytes specified by the Content-Length HTTP header")      \
    X(S3_REQUEST_TIMEOUT, "RequestTimeout", 400,                                                   \
      "Your socket connection to the server was not read from or written to within the timeout "  \
      "period.")                                                                                   \
    X(S3_NOT_IMPLEMENTED, "NotImplemented", 501,                                                   \
      "A header you provided implies functionality that is not implemented.")                      \
    X(S3_SLOW_DOWN, "SlowDown", 503, "Please reduce your request rate.")                           \
    X(S3_INVALID_STORAGE_CLASS, "InvalidStorageClass", 400,                                        \
      "The storage class you specified is not valid")                                              \
    X(S3_HEADER_TOO_LARGE, "RequestHeaderSectionTooLarge", 400,                                    \
      "Your request header section exceeds the maximum allowed size.")                             \
    X(S3_INVALID_URI, "InvalidURI", 400, "Couldn't parse the specified URI.")                      \
    X(S3_MALFORMED_ACL, "MalformedACLError", 400,                                                  \
      "The XML you provided was not well-formed or did not validate against our published "       \
      "schema.")                                                                                   \
    X(S3_INVALID_LOCATION, "InvalidLocationConstraint", 400,                                       \
      "The specified location-constraint is not valid")                                            \
    X(S3_TOO_MANY_PARTS, "InvalidArgument", 400,                                                   \
      "Part number must be an integer between 1 and 10000, inclusive")                             \
    X(S3_INVALID_ENCRYPTION, "InvalidEncryptionAlgorithmError", 400,                               \
      "The encryption request you specified is not valid.")                                        \
    X(S3_INVALID_TAG, "InvalidTag", 400, "The tag provided was not a valid tag.")                  \
    X(S3_INVALID_OBJECT_STATE, "InvalidObjectState", 403,                                          \
      "The operation is not valid for the current state of the object.")                          \
    X(S3_UNRESOLVABLE_EMAIL, "UnresolvableGrantByEmailAddress", 400,                               \
      "The e-mail address you provided does not match any account on record.")                    \
    X(S3_OWNERSHIP_NOT_FOUND, "OwnershipControlsNotFoundError", 404,                               \
      "The bucket ownership controls were not found")                                              \
    X(S3_ACL_OWNERSHIP_CONFLICT, "InvalidBucketAclWithObjectOwnership", 400,                       \
      "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")           \
    X(S3_NO_SUCH_PAB, "NoSuchPublicAccessBlockConfiguration", 404,                                \
      "The public access block configuration was not found")                                      \
    X(S3_BUCKET_ACL_BPA, "InvalidBucketAclWithBlockPublicAccessError", 400,                        \
      "Bucket cannot have public ACLs set with BlockPublicAccess enabled")                        \
    X(S3_INVALID_BUCKET_STATE, "InvalidBucketState", 409,                                          \
      "The request is not valid with the current state of the bucket.")                           \
    X(S3_NO_LOCK_CONFIG, "ObjectLockConfigurationNotFoundError", 404,                              \
      "Object Lock configuration does not exist for this bucket")                                  \
    X(S3_NO_OBJECT_LOCK, "NoSuchObjectLockConfiguration", 404,                                     \
      "The specified object does not have a ObjectLock configuration")                             \
    X(S3_INVALID_RETENTION, "InvalidRetentionPeriod", 400,                                         \
      "Default retention period must be a positive integer value.")                                \
    /* IAM / STS query APIs */                                                                     \
    X(IAM_NO_SUCH_ENTITY, "NoSuchEntity", 404, "The request was rejected because it referenced " \
      "a resource entity that does not exist.")                                                    \
    X(IAM_ENTITY_EXISTS, "EntityAlreadyExists", 409, "The request was rejected because it "       \
      "attempted to create a resource that already exists.")                                       \
    X(IAM_DELETE_CONFLICT, "DeleteConflict", 409, "Cannot delete entity, must delete dependent "  \
      "entities first.")                                                                           \
    X(IAM_LIMIT_EXCEEDED, "LimitExceeded", 409, "The request was rejected because it attempted " \
      "to create resources beyond the current AWS account limits.")                                \
    X(IAM_MALFORMED_POLICY, "MalformedPolicyDocument", 400, "Syntax errors in policy.")            \
    X(IAM_VALIDATION, "ValidationError", 400, "The input fails to satisfy the constraints.")      \
    X(IAM_INVALID_CLIENT_TOKEN, "InvalidClientTokenId", 403,                                       \
      "The security token included in the request is invalid.")                                   \
    X(IAM_INVALID_ACTION, "InvalidAction", 400, "The action or operation requested is invalid.")  \
    X(IAM_INVALID_INPUT, "InvalidInput", 400, "The request was rejected because an invalid or "   \
      "out-of-range value was supplied for an input parameter.")

typedef enum cv_err {
#define CV_ERR_ENUM_(name, code, status, msg) CV_##name,
    CV_ERR_MAP(CV_ERR_ENUM_)
#undef CV_ERR_ENUM_
        CV_ERR__COUNT
} cv_err;

/** Short human description of @p e. Returns a static string; never NULL. */
const char *cv_err_str(cv_err e);
/** Name of the enum value without the CV_ prefix ("ENOMEM"). Static; never NULL. */
const char *cv_err_name(cv_err e);
/** The S3/IAM error code sent on the wire ("NoSuchKey"). Static; never NULL. */
const char *cv_err_wire_code(cv_err e);
/** The HTTP status the store answers with for @p e. */
int cv_err_http_status(cv_err e);

#endif
