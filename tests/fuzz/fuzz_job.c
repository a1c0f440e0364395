/* Fuzz target: parse an egress job, then use everything a valid spec offers (output
 * names, the request echo in EgressInfo JSON). */
#include "worker/egress-info.h"
#include "worker/job.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(RrJobSpec) spec = rr_job_spec_parse((const char *)data, (gssize)size, &error);
    if (!spec) {
        if (!error || !error->message[0])
            abort(); /* failure must say why */
        return 0;
    }
    RrJobTemplateVars vars = {.room_name = spec->room_name,
                              .egress_id = "EG_fuzz",
                              .track_id = "TR_fuzz",
                              .publisher_identity = "p",
                              .unix_usec = 1};
    if (spec->kind == RR_JOB_TRACK) {
        g_autofree char *path = rr_job_track_output(spec, &vars, "ogg");
        if (!path || !g_str_has_suffix(path, ".ogg"))
            abort();
    } else {
        g_autoptr(GError) e = NULL;
        RrContainer c;
        g_autofree char *path = rr_job_composite_output(spec, &vars, &c, &e);
        if (!path && !e)
            abort();
        if (!rr_encode_settings_validate(&spec->encode, NULL))
            abort(); /* a parsed spec carries valid settings */
        if (spec->segments) {
            RrJobSegmentNames n = {0};
            g_autoptr(GError) se = NULL;
            gboolean ok = rr_job_segment_names(spec->segments, &vars, &n, &se);
            if (ok ? !(n.prefix && *n.prefix && g_str_has_suffix(n.playlist, ".m3u8"))
                   : !(se && se->message[0]))
                abort(); /* names or a reason */
            rr_job_segment_names_clear(&n);
        }
        if (spec->images) {
            g_autofree char *prefix = rr_job_image_prefix(spec->images, &vars);
            if (!prefix || !*prefix)
                abort();
        }
    }
    g_autoptr(RrEgressInfo) info = rr_egress_info_new("EG_fuzz", spec);
    g_autofree char *json = rr_egress_info_to_json(info, FALSE);
    if (!json)
        abort();
    return 0;
}
