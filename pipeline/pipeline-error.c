/* pipeline/pipeline-error: see pipeline-error.h. */
#include "pipeline/pipeline-error.h"

GQuark rr_pipeline_error_quark(void)
{
    return g_quark_from_static_string("rr-pipeline-error-quark");
}
