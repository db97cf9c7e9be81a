/*
 * cli_serve.h — the `serve` verb of the zarrc tool (cli_serve.c): parses the options and runs
 * the HTTP service of serve/ (docs/serve.md).
 */
#ifndef ZARRC_CLI_SERVE_H
#define ZARRC_CLI_SERVE_H

/** `zarrc serve ROOT [options]`: argv[0] is the verb. Returns the exit status (0 after a
 *  graceful stop, 1 when the service cannot start, 2 for a usage error). */
int cli_cmd_serve(int argc, char **argv);

/* Help texts for the verb table. */
extern const char cli_serve_usage[], cli_serve_summary[], cli_serve_help[];

#endif
