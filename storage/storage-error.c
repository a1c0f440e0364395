/* storage/storage-error: see storage-error.h. */
#include "storage/storage-error.h"

GQuark rr_storage_error_quark(void)
{
    return g_quark_from_static_string("rr-storage-error-quark");
}

const char *rr_storage_error_code_name(RrStorageError code)
{
    switch (code) {
    case RR_STORAGE_ERROR_FAILED:
        return "failed";
    case RR_STORAGE_ERROR_AUTH:
        return "auth";
    case RR_STORAGE_ERROR_NO_BUCKET:
        return "no-bucket";
    case RR_STORAGE_ERROR_NETWORK:
        return "network";
    case RR_STORAGE_ERROR_SERVER:
        return "server";
    case RR_STORAGE_ERROR_REQUEST:
        return "request";
    case RR_STORAGE_ERROR_TLS:
        return "tls";
    case RR_STORAGE_ERROR_CONFIG:
        return "config";
    case RR_STORAGE_ERROR_IO:
        return "io";
    case RR_STORAGE_ERROR_EXISTS:
        return "exists";
    case RR_STORAGE_ERROR_RESPONSE:
        return "response";
    }
    return "unknown";
}
