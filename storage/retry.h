/* storage/retry: when to try a storage request again, and how long to wait first.
 *
 * Exponential backoff with "equal jitter": the wait after failed attempt n (1-based) is
 * d = min(max_delay, base_delay * 2^(n-1)), then d/2 + jitter * d/2 for a jitter in
 * [0, 1). Retryable failures are the transient ones: NETWORK (no answer, reset,
 * timeout) and SERVER (5xx, 503 SlowDown); never AUTH, NO_BUCKET, REQUEST, TLS, CONFIG,
 * IO, EXISTS. Pure functions, any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint max_attempts;  /* tries in all, >= 1 */
    guint base_delay_ms; /* wait after the first failure (before jitter) */
    guint max_delay_ms;  /* cap of one wait */
} RrRetryPolicy;

/* 6 tries, 0.5 s doubling up to 8 s: ~16 s of waiting before giving up. */
#define RR_RETRY_POLICY_DEFAULT                                                                    \
    {                                                                                              \
        .max_attempts = 6, .base_delay_ms = 500, .max_delay_ms = 8000                              \
    }

/* The wait in ms after failed attempt @attempt (1-based), @jitter in [0, 1). */
guint rr_retry_delay_ms(const RrRetryPolicy *policy, guint attempt, double jitter);
/* Whether @error (any domain; only RR_STORAGE_ERROR codes are retryable) is transient. */
gboolean rr_retry_is_retryable(const GError *error);
/* Whether to try again after attempt @attempt failed with @error. */
gboolean rr_retry_should_retry(const RrRetryPolicy *policy, guint attempt, const GError *error);
/* A policy with every zero field replaced by the default's. */
RrRetryPolicy rr_retry_policy_normalise(const RrRetryPolicy *policy);

G_END_DECLS
