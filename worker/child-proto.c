/* worker/child-proto: worker ↔ recording child messages. See child-proto.h. */
#include "worker/child-proto.h"

#include "pipeline/layout.h"
#include "worker/worker-error.h"

#include <string.h>

static JsonObject *parse_object(const char *json, gssize len, const char *what, GError **error)
{
    if (len < 0)
        len = (gssize)strlen(json);
    if (len > RR_CHILD_PROTO_MAX_LINE) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB, "%s: longer than %d bytes",
                    what, RR_CHILD_PROTO_MAX_LINE);
        return NULL;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) e = NULL;
    if (!json_parser_load_from_data(parser, json, len, &e)) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB, "%s: not JSON: %s", what,
                    e->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "%s: must be a JSON object", what);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

static gboolean member_is(JsonNode *n, GType type)
{
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == type;
}

gboolean rr_control_parse(const char *json, gssize len, RrControl *control, GError **error)
{
    *control = (RrControl){0};
    g_autoptr(JsonObject) o = parse_object(json, len, "control message", error);
    if (!o)
        return FALSE;
    gboolean have = FALSE;
    JsonObjectIter it;
    const char *name;
    JsonNode *v;
    json_object_iter_init(&it, o);
    while (json_object_iter_next(&it, &name, &v)) {
        if (strcmp(name, "stop") == 0) {
            if (!member_is(v, G_TYPE_BOOLEAN) || !json_node_get_boolean(v)) {
                g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                            "stop: must be true");
                goto fail;
            }
            control->kind = RR_CONTROL_STOP;
        } else if (strcmp(name, "layout") == 0) {
            g_autoptr(GError) e = NULL;
            if (!member_is(v, G_TYPE_STRING) || !*json_node_get_string(v)) {
                g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                            "layout: must be a layout name");
                goto fail;
            }
            if (!rr_layout_parse(json_node_get_string(v), NULL, NULL, &e)) {
                g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                            "layout: unknown layout (grid, speaker, single-speaker, with "
                            "-light/-dark)");
                goto fail;
            }
            control->kind = RR_CONTROL_LAYOUT;
            g_free(control->layout);
            control->layout = g_strdup(json_node_get_string(v));
        } else {
            g_autofree char *shown = g_strndup(name, 64);
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "%s: unknown field (stop, layout)", g_str_is_ascii(shown) ? shown : "?");
            goto fail;
        }
        if (have) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "control message: give one of stop, layout");
            goto fail;
        }
        have = TRUE;
    }
    if (!have) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "control message: empty (give stop or layout)");
        goto fail;
    }
    return TRUE;
fail:
    rr_control_clear(control);
    return FALSE;
}

void rr_control_clear(RrControl *control)
{
    g_clear_pointer(&control->layout, g_free);
}

char *rr_control_to_json(const RrControl *control)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    if (control->kind == RR_CONTROL_LAYOUT) {
        json_builder_set_member_name(b, "layout");
        json_builder_add_string_value(b, control->layout);
    } else {
        json_builder_set_member_name(b, "stop");
        json_builder_add_boolean_value(b, TRUE);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

gboolean rr_egress_status_name_is_final(const char *status)
{
    static const char *const finals[] = {"EGRESS_COMPLETE", "EGRESS_FAILED", "EGRESS_ABORTED",
                                         "EGRESS_LIMIT_REACHED"};
    for (guint i = 0; status && i < G_N_ELEMENTS(finals); i++)
        if (strcmp(status, finals[i]) == 0)
            return TRUE;
    return FALSE;
}

static gboolean valid_status(const char *s)
{
    static const char *const all[] = {"EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING"};
    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        if (strcmp(s, all[i]) == 0)
            return TRUE;
    return rr_egress_status_name_is_final(s);
}

static double number_of(JsonNode *n, gboolean *ok)
{
    if (n && JSON_NODE_HOLDS_VALUE(n)) {
        GType t = json_node_get_value_type(n);
        if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE) {
            *ok = TRUE;
            return json_node_get_double(n);
        }
    }
    *ok = FALSE;
    return 0;
}

gboolean rr_child_event_parse(const char *line, gssize len, RrChildEvent *ev, GError **error)
{
    *ev = (RrChildEvent){0};
    g_autoptr(JsonObject) o = parse_object(line, len, "status line", error);
    if (!o)
        return FALSE;
    JsonNode *out = json_object_get_member(o, "output");
    if (out && !JSON_NODE_HOLDS_NULL(out)) {
        if (!member_is(out, G_TYPE_STRING)) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "output: must be a string");
            return FALSE;
        }
        ev->output = g_strdup(json_node_get_string(out));
    }
    JsonNode *id = json_object_get_member(o, "egress_id");
    if (id) {
        if (!member_is(id, G_TYPE_STRING) || !*json_node_get_string(id)) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "egress_id: must be a non-empty string");
            goto fail;
        }
        ev->egress_id = g_strdup(json_node_get_string(id));
    }
    JsonNode *st = json_object_get_member(o, "status");
    JsonNode *pr = json_object_get_member(o, "progress");
    if (st) {
        JsonNode *info = json_object_get_member(o, "info");
        if (!member_is(st, G_TYPE_STRING) || !valid_status(json_node_get_string(st))) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "status: not an EgressStatus name");
            goto fail;
        }
        if (!info || !JSON_NODE_HOLDS_OBJECT(info)) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "info: must be an EgressInfo object");
            goto fail;
        }
        ev->is_status = TRUE;
        ev->status = g_strdup(json_node_get_string(st));
        ev->final = rr_egress_status_name_is_final(ev->status);
        ev->info = json_node_copy(info);
        return TRUE;
    }
    if (pr && JSON_NODE_HOLDS_OBJECT(pr)) {
        JsonObject *p = json_node_get_object(pr);
        gboolean ok1, ok2;
        ev->elapsed_s = number_of(json_object_get_member(p, "elapsed_s"), &ok1);
        double bytes = number_of(json_object_get_member(p, "bytes"), &ok2);
        if (!ok1 || !ok2 || ev->elapsed_s < 0 || bytes < 0 || bytes > 9e18) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "progress: needs elapsed_s and bytes (numbers >= 0)");
            goto fail;
        }
        ev->bytes = (gint64)bytes;
        return TRUE;
    }
    g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                "status line: needs \"status\" or a \"progress\" object");
fail:
    rr_child_event_clear(ev);
    return FALSE;
}

void rr_child_event_clear(RrChildEvent *ev)
{
    g_clear_pointer(&ev->status, g_free);
    g_clear_pointer(&ev->info, json_node_unref);
    g_clear_pointer(&ev->output, g_free);
    g_clear_pointer(&ev->egress_id, g_free);
}

#define MAX_EGRESS_ID 256

gboolean rr_host_command_parse(const char *line, gssize len, RrHostCommand *cmd, GError **error)
{
    *cmd = (RrHostCommand){0};
    g_autoptr(JsonObject) o = parse_object(line, len, "room child command", error);
    if (!o)
        return FALSE;
    guint actions = 0;
    gboolean have_part = FALSE;
    JsonObjectIter it;
    const char *name;
    JsonNode *v;
    json_object_iter_init(&it, o);
    while (json_object_iter_next(&it, &name, &v)) {
        if (strcmp(name, "egress_id") == 0) {
            if (!member_is(v, G_TYPE_STRING) || !*json_node_get_string(v) ||
                strlen(json_node_get_string(v)) > MAX_EGRESS_ID) {
                g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                            "egress_id: must be a non-empty string of at most %d bytes",
                            MAX_EGRESS_ID);
                goto fail;
            }
            g_free(cmd->egress_id);
            cmd->egress_id = g_strdup(json_node_get_string(v));
        } else if (strcmp(name, "start") == 0) {
            if (!JSON_NODE_HOLDS_OBJECT(v)) {
                g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                            "start: must be a job object");
                goto fail;
            }
            cmd->kind = RR_HOST_START;
            g_free(cmd->job_json);
            cmd->job_json = json_to_string(v, FALSE);
            actions++;
        } else if (strcmp(name, "part") == 0) {
            if (!member_is(v, G_TYPE_INT64) || json_node_get_int(v) < 0 ||
                json_node_get_int(v) > 1000000) {
                g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                            "part: must be an integer from 0 to 1000000");
                goto fail;
            }
            cmd->part = (guint)json_node_get_int(v);
            have_part = TRUE;
        } else if (strcmp(name, "stop") == 0 || strcmp(name, "layout") == 0) {
            /* The same rules as a control message: check the member alone. */
            g_autoptr(JsonObject) one = json_object_new();
            json_object_set_member(one, name, json_node_copy(v));
            g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), one);
            g_autofree char *text = json_to_string(root, FALSE);
            RrControl c;
            if (!rr_control_parse(text, -1, &c, error))
                goto fail;
            cmd->kind = c.kind == RR_CONTROL_STOP ? RR_HOST_STOP : RR_HOST_LAYOUT;
            g_free(cmd->layout);
            cmd->layout = g_steal_pointer(&c.layout);
            rr_control_clear(&c);
            actions++;
        } else {
            g_autofree char *shown = g_strndup(name, 64);
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "%s: unknown field (egress_id, start, part, stop, layout)",
                        g_str_is_ascii(shown) ? shown : "?");
            goto fail;
        }
    }
    if (actions != 1) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "room child command: give exactly one of start, stop, layout");
        goto fail;
    }
    if (!cmd->egress_id) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "egress_id: missing (whose recording the command is for)");
        goto fail;
    }
    if (have_part && cmd->kind != RR_HOST_START) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB, "part: only with start");
        goto fail;
    }
    return TRUE;
fail:
    rr_host_command_clear(cmd);
    return FALSE;
}

void rr_host_command_clear(RrHostCommand *cmd)
{
    g_clear_pointer(&cmd->egress_id, g_free);
    g_clear_pointer(&cmd->job_json, g_free);
    g_clear_pointer(&cmd->layout, g_free);
}

char *rr_host_command_start_json(const char *egress_id, const char *job_json, guint part)
{
    /* Re-serialised on one line: a queued job may be pretty-printed. */
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, job_json, -1, NULL) || !json_parser_get_root(p) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
        return NULL;
    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_string_member(o, "egress_id", egress_id);
    if (part > 1)
        json_object_set_int_member(o, "part", part);
    json_object_set_member(o, "start", json_node_copy(json_parser_get_root(p)));
    g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), o);
    return json_to_string(root, FALSE);
}

char *rr_host_command_control_json(const char *egress_id, const RrControl *control)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "egress_id");
    json_builder_add_string_value(b, egress_id);
    if (control->kind == RR_CONTROL_LAYOUT) {
        json_builder_set_member_name(b, "layout");
        json_builder_add_string_value(b, control->layout);
    } else {
        json_builder_set_member_name(b, "stop");
        json_builder_add_boolean_value(b, TRUE);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}
