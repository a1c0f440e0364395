/* rtc/rtc-error: the error domain of everything under rtc/.
 *
 * Every rtc/ function that can fail on outside input (signalling messages, SDP, RTP,
 * RTCP, DTLS records, tokens, network) reports it as a GError in RR_RTC_ERROR with one
 * of these codes. Add codes at the end; callers map them to exit codes and job errors.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RR_RTC_ERROR (rr_rtc_error_quark())
GQuark rr_rtc_error_quark(void);

typedef enum {
    RR_RTC_ERROR_FAILED,        /* anything not covered below */
    RR_RTC_ERROR_INVALID_INPUT, /* malformed message, SDP, packet */
    RR_RTC_ERROR_UNSUPPORTED,   /* well-formed but not something roomrec can handle */
    RR_RTC_ERROR_AUTH,          /* token refused, bad credentials */
    RR_RTC_ERROR_CONNECT,       /* signalling connection could not be made or was lost */
    RR_RTC_ERROR_TIMEOUT,       /* a deadline passed */
    RR_RTC_ERROR_DTLS,          /* handshake or fingerprint failure */
    RR_RTC_ERROR_SRTP,          /* SRTP/SRTCP setup or authentication failure */
    RR_RTC_ERROR_SCTP,          /* SCTP association or data channel failure */
    RR_RTC_ERROR_ICE,           /* ICE failed */
} RrRtcError;

G_END_DECLS
