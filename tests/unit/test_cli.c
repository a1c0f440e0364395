/* Unit tests for worker/cli: the command table and help. */
#include "worker/cli.h"

static void test_help_lists_commands(void)
{
    g_autofree char *help = rr_cli_help();
    for (const RrCliCommand *c = rr_cli_commands; c->name; c++) {
        g_assert_nonnull(strstr(help, c->name));
        g_assert_nonnull(c->run);
    }
    g_assert_nonnull(rr_cli_find("version"));
    g_assert_null(rr_cli_find("no-such-command"));
    g_assert_null(rr_cli_find(NULL));
}

static void test_unknown_command(void)
{
    if (g_test_subprocess()) {
        char *argv[] = {"roomrec", "frobnicate", NULL};
        exit(rr_cli_main(2, argv));
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*unknown command 'frobnicate'*");
}

static void test_version(void)
{
    if (g_test_subprocess()) {
        char *argv[] = {"roomrec", "--version", NULL};
        exit(rr_cli_main(2, argv));
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stdout("roomrec *.*.*\n");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/worker/cli/help", test_help_lists_commands);
    g_test_add_func("/worker/cli/unknown", test_unknown_command);
    g_test_add_func("/worker/cli/version", test_version);
    return g_test_run();
}
