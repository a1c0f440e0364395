/* rtc/rtc-error: see rtc-error.h. */
#include "rtc/rtc-error.h"

GQuark rr_rtc_error_quark(void)
{
    return g_quark_from_static_string("rr-rtc-error-quark");
}
