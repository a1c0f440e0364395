/* Fuzz target: the worker ↔ child messages (worker/child-proto.h): a control message
 * (which an operator queues in Redis) and a child's status line. A failure must say
 * why; a parsed control message must survive a round trip. */
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
    return 0;
}
