/* storage/storage: where finished recordings go — a small interface with back ends.
 *
 * An RrStore is a table of functions (RrStoreClass) and a key prefix. A job calls
 * rr_store_begin() once with its prefix (e.g. the egress id's folder), rr_store_add_file()
 * for every finished file (local path, key under the prefix, content type), and
 * rr_store_finish() at the end. Back ends: local.h (a directory; temporary name, fsync,
 * atomic rename, never overwrites) and s3.h (libcurl with SigV4; single PUT or parallel
 * multipart, retried). upload.h adds the fallback chain primary → backup → spool.
 *
 * A store is used by one thread at a time (add_file blocks until the file is stored;
 * the S3 back end runs its parallel parts on threads of its own). Results are owned by
 * the caller (rr_store_result_free). Errors are in RR_STORAGE_ERROR (storage-error.h).
 * No back end puts a credential in an error message, a result or a description.
 */
#pragma once

#include "storage/storage-error.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct RrStore RrStore;

/* What a stored file became. */
typedef struct {
    char *location; /* where it is: an absolute path, or the object's URL */
    gint64 size;    /* bytes stored */
    char *etag;     /* the server's ETag (S3; may be empty), NULL for local files */
} RrStoreResult;

typedef struct {
    const char *name; /* "local", "s3" */
    /* Store @local_path under the full key @key (prefix already applied). */
    RrStoreResult *(*put)(RrStore *store, const char *local_path, const char *key,
                          const char *content_type, GError **error);
    /* Optional: called by rr_store_finish(). */
    gboolean (*finish)(RrStore *store, GError **error);
    /* (transfer full) where files go, without credentials ("s3://bucket at URL"). */
    char *(*describe)(RrStore *store);
    void (*free)(RrStore *store);
} RrStoreClass;

/* Back ends embed this as their first member. */
struct RrStore {
    const RrStoreClass *klass;
    char *prefix; /* normalised key prefix, "" for none */
};

/* Sets the key prefix for the files that follow (NULL or "" for none). */
gboolean rr_store_begin(RrStore *store, const char *prefix, GError **error);
/* Stores @local_path as prefix/@key; (transfer full) result, or NULL with @error. */
RrStoreResult *rr_store_add_file(RrStore *store, const char *local_path, const char *key,
                                 const char *content_type, GError **error);
/* Stores @local_path under exactly @full_key (no prefix): the spool's retries. */
RrStoreResult *rr_store_put(RrStore *store, const char *local_path, const char *full_key,
                            const char *content_type, GError **error);
gboolean rr_store_finish(RrStore *store, GError **error);
char *rr_store_describe(RrStore *store);
void rr_store_free(RrStore *store);

void rr_store_result_free(RrStoreResult *result);

/* Key naming. (transfer full) @prefix and @name joined by exactly one '/', leading '/'
 * and repeated '/' removed ("rec//a/" + "/x.mp4" -> "rec/a/x.mp4"). NULL with an error
 * naming @field when the result is empty, has a "." or ".." segment, a control
 * character, or more than 1024 bytes (S3's limit). */
char *rr_storage_key_join(const char *prefix, const char *name, const char *field, GError **error);
/* (transfer full) @key escaped for a URL path as SigV4 wants it: unreserved characters
 * (A-Z a-z 0-9 - . _ ~) and '/' kept, every other byte %XX (upper-case hex). */
char *rr_storage_key_uri_encode(const char *key);
/* A content type from a file name's extension (static; "application/octet-stream"). */
const char *rr_storage_content_type_for(const char *filename);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrStore, rr_store_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrStoreResult, rr_store_result_free)

G_END_DECLS
