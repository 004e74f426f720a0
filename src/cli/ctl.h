/* yumnactl: the operator's command line over the controller's HTTP API.
 *
 * main.c reads the global options and the connection settings and runs
 * one command from the tables in cmd_*.c; ctl.c holds what every command
 * shares: the request to the controller, error reporting with the exit
 * codes below, zone lookup by name, and table output. */
#ifndef YUMNA_CTL_H
#define YUMNA_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/buf.h"
#include "http/client.h"

/* Exit codes (docs/yumnactl.md). */
enum {
	CTL_OK = 0,
	CTL_FAILED = 1,	     /* the controller answered with another error */
	CTL_USAGE = 2,	     /* bad command line */
	CTL_CONFIG = 3,	     /* no URL or token, unsafe or broken config file */
	CTL_UNREACHABLE = 4, /* the controller did not answer (not in HTTP, not its JSON) */
	CTL_DENIED = 5,	     /* 401 or 403 */
	CTL_NOT_FOUND = 6,   /* 404: no such zone, record, server or token */
	CTL_REFUSED = 7,     /* 400, 409, 413, 415, 422: the input was refused */
	CTL_PARTIAL = 8,     /* done, but not every node has it (yet) */
	CTL_UNSUPPORTED = 9, /* the controller has no such feature (DNSSEC) */
};

struct ctl_source;

struct ctl {
	struct http_client *http;
	bool json;	      /* --json: machine output */
	bool wait;	      /* --wait: changes wait for every node (?wait=all) */
	bool progress_tty;    /* draw a progress bar (stderr is a terminal) */
	long timeout_ms;      /* each request's bound */
	long timeout_flag_ms; /* --timeout as given, 0: not given */
	char url[256];	      /* for messages */
	/* Where the URL and token come from (main.c); read on first use, so
	 * that --help and usage errors need no controller. */
	const struct ctl_source *src;
};

/* Connect on first use: find the URL and token (flags, --demo,
 * environment, config file) and make the HTTP client. */
int ctl_connect(struct ctl *c);

/* One answer of the controller. 'json' is NULL when the body is not a JSON
 * object or array. */
struct ctl_answer {
	long status;
	json_t *json;
	struct buf body;
	char request[160]; /* "GET /api/dns", for messages */
};

/* Send 'method' 'path' with 'body' (borrowed; NULL: none) to a route that
 * answers JSON. Returns CTL_OK for a 2xx answer whose body is JSON, which
 * the caller owns in 'ans' (ctl_answer_clear); otherwise prints the reason
 * on stderr and returns its exit code (the answer is cleared): a 2xx that
 * is not JSON is not the controller's answer, CTL_UNREACHABLE. */
int ctl_call(struct ctl *c, const char *method, const char *path, const json_t *body,
	     struct ctl_answer *ans);
/* GET the export of zone 'zone_id' (the one route that answers text): CTL_OK
 * with the zone file in ans->body and in *version the version it was made
 * from, which its first line says; a 2xx that does not say it is not the
 * controller's export (CTL_UNREACHABLE, as ctl_answer_foreign()). */
int ctl_export(struct ctl *c, int64_t zone_id, struct ctl_answer *ans, uint64_t *version);
/* The same without the error handling: any HTTP answer is CTL_OK. */
int ctl_call_raw(struct ctl *c, const char *method, const char *path, const json_t *body,
		 struct ctl_answer *ans);
/* ctl_call()'s error handling for an answer of ctl_call_raw(): CTL_OK for
 * a 2xx with a JSON body; else the reason is printed and 'ans' cleared. */
int ctl_answer_check(struct ctl *c, struct ctl_answer *ans);
/* Whether a 2xx answer holds what the controller always sends: the pairs
 * (const char *key, json_type type) up to a NULL key name members of the
 * JSON object 'ans->json' with that type (JSON_TRUE: the value true).
 * CTL_OK if so; else, as for any answer that is not the controller's, the
 * first one missing is printed, 'ans' cleared and CTL_UNREACHABLE returned,
 * so that no command reads a missing field as 0 or true. */
int ctl_answer_need(struct ctl *c, struct ctl_answer *ans, ...);
/* Whether 2xx answer 'ans' is a JSON array, as the controller's listings
 * (zones, records, tokens, servers, ...) are: CTL_OK if so; else, as
 * ctl_answer_need(), 'ans' is cleared and CTL_UNREACHABLE returned, so
 * that no listing prints an empty table for an answer of another shape. */
int ctl_answer_array(struct ctl *c, struct ctl_answer *ans);
/* GET 'path', a listing: ctl_call() and ctl_answer_array(). */
int ctl_get_list(struct ctl *c, const char *path, struct ctl_answer *ans);
/* ctl_call() of a route whose answer says "success": true, checked
 * (ctl_answer_need()). */
int ctl_call_ok(struct ctl *c, const char *method, const char *path, const json_t *body,
		struct ctl_answer *ans);
/* Print that 2xx answer 'ans' is not the controller's ('why': "not JSON",
 * "no \"nodes\" array"), clear it and return CTL_UNREACHABLE. */
int ctl_answer_foreign(struct ctl *c, struct ctl_answer *ans, const char *why);
/* Free what 'ans' holds; it may be cleared again. */
void ctl_answer_clear(struct ctl_answer *ans);
/* The exit code of an HTTP status. */
int ctl_status_exit(long status);
/* Print the controller's error (its "error", and "errors" if any). */
void ctl_print_error(const struct ctl_answer *ans);

/* "?wait=all" when --wait was given, else "". */
const char *ctl_wait_query(const struct ctl *c);

/* A zone given as its id or its name ("example.com" or "example.com."). */
int ctl_zone_id(struct ctl *c, const char *arg, int64_t *ret);
/* Zone 'id' (GET /api/dns/:id, with its "domain" and "version") and its
 * records (GET .../records, an array), both the caller's to clear on
 * CTL_OK; nothing to clear otherwise (an answer of another shape is
 * CTL_UNREACHABLE, as ctl_answer_need()). */
int ctl_zone_read(struct ctl *c, int64_t id, struct ctl_answer *zone, struct ctl_answer *records);
/* A positive integer argument; prints the problem and returns CTL_USAGE. */
int ctl_parse_id(const char *what, const char *arg, int64_t *ret);

/* Print a zone's "soa" object (GET /api/dns/:id) as lines of zones show. */
void ctl_print_soa(const json_t *soa);

/* Print 'j' (pretty, one document) on stdout. */
void ctl_print_json(const json_t *j);

/* Read a whole file ('-' is stdin) into 'out' (capped). */
int ctl_read_file(const char *path, struct buf *out);

/* --- changes ---------------------------------------------------------- */

/* Report the answer to a change as "WHAT: zone Z, version V, serial S";
 * with --wait, each node's answer, and CTL_PARTIAL unless every node has
 * it (a cluster without nodes: nothing serves the zone). --json prints the
 * answer instead. An answer without "success": true (or, with --wait,
 * without "synced" and "nodes") is not the controller's: CTL_UNREACHABLE,
 * 'ans' cleared. */
int ctl_print_change(struct ctl *c, struct ctl_answer *ans, const char *what);
/* ctl_print_change()'s check of a change's answer alone. */
int ctl_change_check(struct ctl *c, struct ctl_answer *ans);
/* Send one change ('body' is stolen; NULL: none) and report its answer. */
int ctl_send_change(struct ctl *c, const char *method, const char *path, json_t *body,
		    const char *what);
/* ctl_send_change() of a zone's deletion (DELETE 'path'): with --wait, a
 * cluster without nodes has nothing to wait for, as none is to serve it. */
int ctl_send_zone_delete(struct ctl *c, const char *path);

/* Print the RRsets of a diff (zdiff_rrsets(), GET /api/dns/:id/diff) as
 * lines "- NAME TTL TYPE [PRIO] CONTENT" for records removed and "+ ..."
 * for records added; a changed RRset shows both. */
void ctl_print_rrset_diff(FILE *f, const json_t *d);

/* --- tables ------------------------------------------------------------ */

struct table;
struct table *table_new(unsigned ncols, const char *const *headers);
/* Append a row of 'ncols' cells (copied; NULL prints as "-"). */
void table_add(struct table *t, const char *const *cells);
/* Print aligned columns on stdout, then free. */
void table_print_free(struct table *t);

/* Text of a JSON value for a cell: strings as is, numbers, true/false,
 * null as "-". Borrowed from a rotating buffer: valid until CELL_RING more
 * calls, which a row of a table (the widest, `status`, takes 12) must not
 * reach before table_add() copies it. */
#define CELL_RING 32
const char *cell(const json_t *v);

/* --- commands ---------------------------------------------------------- */

struct ctl_cmd {
	const char *group; /* "zones" */
	const char *name;  /* "create"; NULL for a group's only command */
	int (*run)(struct ctl *c, int argc, char **argv);
	const char *args; /* "DOMAIN" */
	const char *help; /* one paragraph */
};

extern const struct ctl_cmd ctl_zone_cmds[];
extern const struct ctl_cmd ctl_soa_cmds[];
extern const struct ctl_cmd ctl_rrset_cmds[];
extern const struct ctl_cmd ctl_history_cmds[];
extern const struct ctl_cmd ctl_cluster_cmds[];
extern const struct ctl_cmd ctl_admin_cmds[];
extern const struct ctl_cmd ctl_check_cmds[];
extern const struct ctl_cmd ctl_edit_cmds[];
extern const struct ctl_cmd ctl_tsig_cmds[];
extern const struct ctl_cmd ctl_upolicy_cmds[];
extern const struct ctl_cmd ctl_transfers_cmds[];
extern const struct ctl_cmd ctl_policy_cmds[];

/* Command option parsing: getopt_long over argv (argv[0] is the command),
 * with --help handled: prints the command's usage and returns -1 so the
 * caller returns CTL_OK. Unknown options print usage and return CTL_USAGE.
 * Otherwise 0, with *ret_optind set. */
struct option;
int ctl_getopt(const struct ctl_cmd *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int (*on_opt)(int opt, const char *arg, void *ctx),
	       void *ctx, int *ret_optind);
void ctl_cmd_usage(const struct ctl_cmd *cmd, FILE *f);
/* Check the positional argument count; prints usage and returns CTL_USAGE. */
int ctl_args(const struct ctl_cmd *cmd, int n, int min, int max);
/* ctl_getopt() for a command with no options of its own, then ctl_args()
 * with 'min'..'max' operands from argv[*oi]: -1 after --help, CTL_USAGE,
 * or 0. */
int ctl_no_opts(const struct ctl_cmd *cmd, int argc, char **argv, int min, int max, int *oi);

/* 'route' + "/NAME" with NAME percent-encoded into 'path'; false when it
 * does not fit. */
bool ctl_name_path(const char *route, const char *name, char *path, size_t len);
/* A command 'cmd NAME' that sends DELETE to ctl_name_path(route, NAME) and
 * says "WHAT NAME DONE" (or prints the answer with --json). */
int ctl_delete_by_name(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv,
		       const char *route, const char *what, const char *done);

/* A command 'cmd ID' that sends DELETE to 'route' + "/ID" and says "WHAT ID
 * DONE" (or prints the answer with --json); 'what' names the id in errors
 * ("token" checks "the token id"). */
int ctl_delete_by_id(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv,
		     const char *what, const char *route, const char *done);

#endif
