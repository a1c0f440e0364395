/* roomrec: entry point; everything happens in worker/cli.c. */
#include "worker/cli.h"

int main(int argc, char **argv)
{
    return rr_cli_main(argc, argv);
}
