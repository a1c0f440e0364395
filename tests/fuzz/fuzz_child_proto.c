/* Fuzz target: the worker ↔ child messages (worker/child-proto.h): a control message
 * (which an operator queues in Redis), a child's status line and a room child's command. A failure
 * must say why; a parsed control message must survive a round trip. */
#include "worker/child-proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    RrControl c;
    g_autoptr(GError) e = NULL;
    if (rr_control_parse((const char *)data, (gssize)size, &c, &e)) {
        g_autofree char *json = rr_control_to_json(&c);
        RrControl again;
        if (!rr_control_parse(json, -1, &again, NULL) || again.kind != c.kind ||
            g_strcmp0(again.layout, c.layout) != 0)
            abort();
        rr_control_clear(&again);
        rr_control_clear(&c);
    } else if (!e || !e->message[0]) {
        abort();
    }
    RrChildEvent ev;
    g_autoptr(GError) e2 = NULL;
    if (rr_child_event_parse((const char *)data, (gssize)size, &ev, &e2)) {
        if (ev.is_status && (!ev.status || !ev.info))
            abort();
        rr_child_event_clear(&ev);
    } else if (!e2 || !e2->message[0]) {
        abort();
    }
    RrHostCommand h;
    g_autoptr(GError) e3 = NULL;
    if (rr_host_command_parse((const char *)data, (gssize)size, &h, &e3)) {
        if (!h.egress_id || !*h.egress_id || (h.kind == RR_HOST_START && !h.job_json) ||
            (h.kind == RR_HOST_LAYOUT && !h.layout))
            abort();
        /* What the parent writes parses back to the same command. */
        g_autofree char *line = NULL;
        if (h.kind == RR_HOST_START) {
            line = rr_host_command_start_json(h.egress_id, h.job_json, h.part);
        } else {
            RrControl c2 = {.kind = h.kind == RR_HOST_STOP ? RR_CONTROL_STOP : RR_CONTROL_LAYOUT,
                            .layout = h.layout};
            line = rr_host_command_control_json(h.egress_id, &c2);
        }
        RrHostCommand again;
        if (!line || !rr_host_command_parse(line, -1, &again, NULL) || again.kind != h.kind ||
            strcmp(again.egress_id, h.egress_id) != 0 || g_strcmp0(again.layout, h.layout) != 0 ||
            (h.kind == RR_HOST_START && again.part != (h.part > 1 ? h.part : 0)))
            abort();
        rr_host_command_clear(&again);
        rr_host_command_clear(&h);
    } else if (!e3 || !e3->message[0]) {
        abort();
    }
    return 0;
}
