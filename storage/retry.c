/* storage/retry: backoff and retryable errors. See retry.h. */
#include "storage/retry.h"

#include "storage/storage-error.h"

guint rr_retry_delay_ms(const RrRetryPolicy *policy, guint attempt, double jitter)
{
    RrRetryPolicy p = rr_retry_policy_normalise(policy);
    if (attempt == 0)
        attempt = 1;
    guint64 d = p.base_delay_ms;
    for (guint i = 1; i < attempt && d < p.max_delay_ms; i++)
        d *= 2;
    if (d > p.max_delay_ms)
        d = p.max_delay_ms;
    if (jitter < 0 || jitter >= 1)
        jitter = 0;
    return (guint)(d / 2 + (guint64)(jitter * (double)(d - d / 2)));
}

gboolean rr_retry_is_retryable(const GError *error)
{
    if (error == NULL || error->domain != RR_STORAGE_ERROR)
        return FALSE;
    return error->code == RR_STORAGE_ERROR_NETWORK || error->code == RR_STORAGE_ERROR_SERVER;
}

gboolean rr_retry_should_retry(const RrRetryPolicy *policy, guint attempt, const GError *error)
{
    RrRetryPolicy p = rr_retry_policy_normalise(policy);
    return attempt < p.max_attempts && rr_retry_is_retryable(error);
}

RrRetryPolicy rr_retry_policy_normalise(const RrRetryPolicy *policy)
{
    RrRetryPolicy def = RR_RETRY_POLICY_DEFAULT;
    if (policy == NULL)
        return def;
    RrRetryPolicy p = *policy;
    if (p.max_attempts == 0)
        p.max_attempts = def.max_attempts;
    if (p.base_delay_ms == 0)
        p.base_delay_ms = def.base_delay_ms;
    if (p.max_delay_ms == 0)
        p.max_delay_ms = def.max_delay_ms;
    if (p.max_delay_ms < p.base_delay_ms)
        p.max_delay_ms = p.base_delay_ms;
    return p;
}
