/* Fuzz target: load a worker config (YAML), then check it as a whole; a failure must say
 * why, and a loaded config must hold values inside the ranges the schema allows. */
#include "worker/config.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(RrWorkerConfig) config = rr_worker_config_new();
    if (!rr_worker_config_load_data(config, (const char *)data, (gssize)size, &error) ||
        !rr_worker_config_finish(config, &error)) {
        if (!error || !error->message[0])
            abort(); /* failure must say why */
        return 0;
    }
    if (config->lease_seconds < 1 || config->health_port < 0 || config->health_port > 65535 ||
        !(config->cpu_cost.track_cpu_cost > 0) || !(config->cpu_cost.max_cpu_utilization <= 1) ||
        !config->webhook.urls || !config->redis.sentinel_addresses || !config->logging.level)
        abort();
    for (guint i = 0; config->webhook.urls[i]; i++)
        if (!config->webhook.urls[i][0])
            abort();
    return 0;
}
