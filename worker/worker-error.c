/* worker/worker-error: see worker-error.h. */
#include "worker/worker-error.h"

GQuark rr_worker_error_quark(void)
{
    return g_quark_from_static_string("rr-worker-error-quark");
}
