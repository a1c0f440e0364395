/* rtc/rtc-error: see rtc-error.h. */
#include "rtc/rtc-error.h"

G_DEFINE_QUARK(rr - rtc - error - quark, rr_rtc_error)
