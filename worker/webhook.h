/* worker/webhook: LiveKit-compatible egress webhooks.
 *
 * Each event is sent exactly as LiveKit sends it: POST, `Content-Type:
 * application/webhook+json`, `Authorization: <JWT>` (no "Bearer"; HS256 with the API
 * secret, claims iss = API key, nbf, exp = nbf + 5 min, sha256 = base64 of the SHA-256 of
 * the body; signed by rtc/token's rr_token_sign), body the protobuf-JSON WebhookEvent
 * {"event", "id": "EV_...", "createdAt": "<unix s>", "egressInfo": {...}}.
 * `egress_started` goes out at STARTING, `egress_updated` at ACTIVE and ENDING,
 * `egress_ended` at a final status (rr_webhook_event_for_status).
 *
 * Targets: the worker's webhook URLs (config webhook.urls, signed with webhook.api_key)
 * receive every job's events; a request's own `webhooks` ({url, signing_key}) only that
 * job's. As in LiveKit's server, an empty signing_key means the worker's webhook key, and
 * any other key must be one whose secret the worker holds — roomrec holds one pair
 * (api_key/api_secret), so signing_key must be that api_key, or the job is refused
 * (RR_WORKER_ERROR_INVALID_JOB naming webhooks[i].signing_key).
 *
 * Delivery: per target and per job one ordered queue; the next event waits until the
 * previous one got a 2xx or was given up. A failed attempt (no connection, timeout,
 * non-2xx) is retried after a backoff that starts at retry_initial_s and doubles up to
 * retry_max_s; an event still undelivered give_up_s after its first attempt is dropped
 * (logged). The JWT is made at each attempt, so a late retry is not refused as expired.
 *
 * Threading: the notifier runs on the GMainContext given to rr_webhook_notifier_new();
 * call every function from the thread that runs that context. Freeing the notifier
 * cancels what is still queued.
 */
#pragma once

#include "worker/egress-info.h"

#include <json-glib/json-glib.h>

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    double retry_initial_s;   /* 0.5 */
    double retry_max_s;       /* 30 */
    double give_up_s;         /* 600 (10 min) */
    double request_timeout_s; /* 10; one attempt's limit */
} RrWebhookOptions;

void rr_webhook_options_init(RrWebhookOptions *opts);

typedef struct _RrWebhookNotifier RrWebhookNotifier;

/* (transfer full) a notifier signing with @api_key/@api_secret (the config's
 * webhook.api_key and its secret; both required, copied). @context NULL: the
 * thread-default context. @opts NULL: the defaults. */
RrWebhookNotifier *rr_webhook_notifier_new(GMainContext *context, const char *api_key,
                                           const char *api_secret, const RrWebhookOptions *opts);
void rr_webhook_notifier_free(RrWebhookNotifier *notifier);

/* A target for every job's events (an http:// or https:// URL). */
gboolean rr_webhook_notifier_add_url(RrWebhookNotifier *notifier, const char *url, GError **error);
/* The request's own targets for egress @egress_id (RrJobWebhook*, as parsed by
 * worker/job); refused as a whole when a signing_key has no secret here. */
gboolean rr_webhook_notifier_add_job_webhooks(RrWebhookNotifier *notifier, const char *egress_id,
                                              GPtrArray *webhooks, GError **error);

/* Queues @event for @info's egress to every target (the worker's and the job's). */
void rr_webhook_notifier_notify(RrWebhookNotifier *notifier, const char *event,
                                const RrEgressInfo *info);
/* The same with @info already as an EgressInfo JSON object (what `roomrec worker` gets
 * from its recording children); @egress_id picks the job's own targets. */
void rr_webhook_notifier_notify_json(RrWebhookNotifier *notifier, const char *event,
                                     const char *egress_id, JsonNode *info);
/* The same with the event LiveKit sends for @info's status. */
void rr_webhook_notifier_notify_status(RrWebhookNotifier *notifier, const RrEgressInfo *info);

/* "egress_started" (STARTING), "egress_updated" (ACTIVE, ENDING), "egress_ended". */
const char *rr_webhook_event_for_status(RrEgressStatus status);

/* (transfer full) the body of one event: {"event","id","createdAt","egressInfo"}. */
char *rr_webhook_event_body(const char *event, const char *id, gint64 created_at,
                            const RrEgressInfo *info, gsize *length);

/* Counters (for metrics): attempts retried, events given up, events delivered, and events
 * still queued or in flight over all targets. */
guint64 rr_webhook_notifier_get_retries(const RrWebhookNotifier *notifier);
guint64 rr_webhook_notifier_get_given_up(const RrWebhookNotifier *notifier);
guint64 rr_webhook_notifier_get_delivered(const RrWebhookNotifier *notifier);
guint rr_webhook_notifier_get_pending(const RrWebhookNotifier *notifier);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrWebhookNotifier, rr_webhook_notifier_free)

G_END_DECLS
