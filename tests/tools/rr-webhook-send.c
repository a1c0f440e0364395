/* rr-webhook-send: sends one egress's webhooks through worker/webhook, for
 * tests/integration/webhook_sdk.sh.
 *
 * usage: rr-webhook-send --url URL --api-key KEY --api-secret SECRET --egress-id EG
 *                        [--retry-initial S] [--give-up S]
 *
 * Makes the EgressInfo of a room composite recording (room "webhook-room", preset
 * H264_720P_30, one MP4 file) and notifies STARTING (egress_started), ACTIVE and ENDING
 * (egress_updated) and COMPLETE with a file result (egress_ended), then runs until every
 * event was delivered or given up. Prints {"delivered","retries","given_up"} as JSON on
 * stdout; exits 0 when all four were delivered. Logs (retries) go to stderr at info level.
 */
#include "worker/log.h"
#include "worker/webhook.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    g_autofree char *url = NULL, *key = NULL, *secret = NULL, *egress_id = NULL;
    double retry_initial = 0.5, give_up = 600;
    GOptionEntry entries[] = {
        {"url", 0, 0, G_OPTION_ARG_STRING, &url, "webhook URL", "URL"},
        {"api-key", 0, 0, G_OPTION_ARG_STRING, &key, "API key (iss)", "KEY"},
        {"api-secret", 0, 0, G_OPTION_ARG_STRING, &secret, "API secret", "SECRET"},
        {"egress-id", 0, 0, G_OPTION_ARG_STRING, &egress_id, "egress id", "EG"},
        {"retry-initial", 0, 0, G_OPTION_ARG_DOUBLE, &retry_initial, "first backoff (s)", "S"},
        {"give-up", 0, 0, G_OPTION_ARG_DOUBLE, &give_up, "give an event up after (s)", "S"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) oc = g_option_context_new("- send an egress's webhooks");
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) e = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &e) || !url || !key || !secret || !egress_id) {
        fprintf(stderr, "rr-webhook-send: %s\n",
                e ? e->message : "--url, --api-key, --api-secret and --egress-id are required");
        return 2;
    }
    rr_log_init(RR_LOG_FORMAT_TEXT, G_LOG_LEVEL_INFO);
    rr_log_add_secret(secret);
    rr_log_set_job_id(egress_id);

    g_autoptr(RrJobSpec) job = rr_job_spec_parse(
        "{\"room_composite\":{\"room_name\":\"webhook-room\",\"layout\":\"speaker\","
        "\"preset\":\"H264_720P_30\",\"file_outputs\":[{\"filepath\":\"out/rec.mp4\"}]}}",
        -1, &e);
    if (!job) {
        fprintf(stderr, "rr-webhook-send: %s\n", e->message);
        return 1;
    }
    RrWebhookOptions opts;
    rr_webhook_options_init(&opts);
    opts.retry_initial_s = retry_initial;
    opts.retry_max_s = MAX(retry_initial, 2.0);
    opts.give_up_s = give_up;
    RrWebhookNotifier *n = rr_webhook_notifier_new(NULL, key, secret, &opts);
    if (!rr_webhook_notifier_add_url(n, url, &e)) {
        fprintf(stderr, "rr-webhook-send: %s\n", e->message);
        return 2;
    }

    g_autoptr(RrEgressInfo) info = rr_egress_info_new(egress_id, job);
    g_free(info->room_id);
    info->room_id = g_strdup("RM_webhook");
    rr_webhook_notifier_notify_status(n, info);
    info->started_at = rr_egress_now_ns();
    rr_egress_info_set_status(info, RR_EGRESS_ACTIVE);
    rr_webhook_notifier_notify_status(n, info);
    rr_egress_info_set_status(info, RR_EGRESS_ENDING);
    rr_webhook_notifier_notify_status(n, info);
    RrFileResult *f = rr_egress_info_add_file(info, "out/rec.mp4");
    f->started_at = info->started_at;
    f->ended_at = f->started_at + 12 * G_GINT64_CONSTANT(1000000000);
    f->duration = f->ended_at - f->started_at;
    f->size = 123456;
    info->ended_at = f->ended_at;
    rr_egress_info_set_status(info, RR_EGRESS_COMPLETE);
    rr_webhook_notifier_notify_status(n, info);

    while (rr_webhook_notifier_get_pending(n) > 0)
        g_main_context_iteration(NULL, TRUE);
    guint64 delivered = rr_webhook_notifier_get_delivered(n);
    printf("{\"delivered\":%" G_GUINT64_FORMAT ",\"retries\":%" G_GUINT64_FORMAT
           ",\"given_up\":%" G_GUINT64_FORMAT "}\n",
           delivered, rr_webhook_notifier_get_retries(n), rr_webhook_notifier_get_given_up(n));
    rr_webhook_notifier_free(n);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    return delivered == 4 ? 0 : 1;
}
