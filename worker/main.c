/* roomrec: entry point; everything happens in worker/cli.c. */
#include "worker/cli.h"

#ifdef __SANITIZE_ADDRESS__
/* Full unwinding for allocation stacks: GLib has no frame pointers, and the one
 * suppressed GLib-internal leak (tests/lsan.supp: the first quark block, abandoned once
 * GStreamer's quarks outgrow it) is only recognisable by its callers. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

int main(int argc, char **argv)
{
    return rr_cli_main(argc, argv);
}
