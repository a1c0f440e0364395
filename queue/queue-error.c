/* queue/queue-error: the RR_QUEUE_ERROR domain. See queue.h. */
#include "queue/queue.h"

GQuark rr_queue_error_quark(void)
{
    return g_quark_from_static_string("rr-queue-error-quark");
}
