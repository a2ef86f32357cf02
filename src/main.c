/* main.c: rbacmig's entry point. cli_main runs the command, reports any error once and
 * chooses the exit code (see README "Exit codes"). */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
