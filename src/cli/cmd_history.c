/* yumnactl zones history, zones diff, zones rollback and audit. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "http/client.h"

#define CMD(i) (&ctl_history_cmds[i])

/* Append "?name=value" (or "&name=value") to 'path', the value
 * percent-encoded; false when it does not fit. */
static bool query_add(char *path, size_t len, const char *name, const char *value)
{
	size_t n = strlen(path);
	int w = snprintf(path + n, len - n, "%c%s=", strchr(path, '?') ? '&' : '?', name);
	if (w < 0 || (size_t)w >= len - n)
		return false;
	n += (size_t)w;
	return http_pct_encode(value, path + n, len - n) == 0;
}

static int too_long(void)
{
	fprintf(stderr, "yumnactl: the arguments are too long\n");
	return CTL_USAGE;
}

/* A positive number option. */
static int number_opt(const char *name, const char *arg, char *out, size_t len)
{
	int64_t v;
	char what[32];
	snprintf(what, sizeof(what), "--%s", name);
	if (ctl_parse_id(what, arg, &v) != CTL_OK)
		return -1;
	snprintf(out, len, "%lld", (long long)v);
	return 0;
}

/* "next" of a page answer: how to ask for the one after it. */
static void print_next(const json_t *j, const char *how)
{
	json_t *next = json_object_get(j, "next");
	if (json_is_integer(next))
		printf("\n(more: %s --before %s)\n", how, cell(next));
}

/* --- zones history -------------------------------------------------------------- */

struct page_opts {
	char limit[24];
	char before[24];
};

static int page_opt(int opt, const char *arg, void *ctx)
{
	struct page_opts *o = ctx;
	if (opt == 'l')
		return number_opt("limit", arg, o->limit, sizeof(o->limit));
	return number_opt("before", arg, o->before, sizeof(o->before));
}

static const struct option page_longopts[] = {
	{ "limit", required_argument, NULL, 'l' },
	{ "before", required_argument, NULL, 'b' },
	{ 0 },
};

static bool page_query(char *path, size_t len, const struct page_opts *o)
{
	return (o->limit[0] == '\0' || query_add(path, len, "limit", o->limit)) &&
	       (o->before[0] == '\0' || query_add(path, len, "before", o->before));
}

static int zones_history(struct ctl *c, int argc, char **argv)
{
	struct page_opts o = { "", "" };
	struct ctl_answer ans;
	char path[160], how[300];
	int64_t id;
	int oi, r = ctl_getopt(CMD(0), argc, argv, "", page_longopts, page_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(CMD(0), argc - oi, 1, 1)) != CTL_OK ||
	    (r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/%lld/versions", (long long)id);
	if (!page_query(path, sizeof(path), &o))
		return too_long();
	if ((r = ctl_call(c, "GET", path, NULL, &ans)) != CTL_OK ||
	    (r = ctl_answer_need(c, &ans, "versions", JSON_ARRAY, NULL)) != CTL_OK)
		return r;
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		static const char *const h[] = { "VERSION", "SERIAL", "TIME",
						 "ACTOR",   "ACTION", "SUMMARY" };
		struct table *t = table_new(6, h);
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(ans.json, "versions"), i, v) {
			const char *row[6] = { cell(json_object_get(v, "version")),
					       cell(json_object_get(v, "serial")),
					       cell(json_object_get(v, "time")),
					       cell(json_object_get(v, "actor")),
					       cell(json_object_get(v, "action")),
					       cell(json_object_get(v, "summary")) };
			table_add(t, row);
		}
		table_print_free(t);
		snprintf(how, sizeof(how), "yumnactl zones history %s", argv[oi]);
		print_next(ans.json, how);
	}
	ctl_answer_clear(&ans);
	return CTL_OK;
}

/* --- zones diff ----------------------------------------------------------------- */

static int zones_diff(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[160];
	int64_t id, from, to = 0;
	int oi, r = ctl_no_opts(CMD(1), argc, argv, 2, 3, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_parse_id("the version FROM", argv[oi + 1], &from)) != CTL_OK ||
	    (argc - oi == 3 && (r = ctl_parse_id("the version TO", argv[oi + 2], &to)) != CTL_OK))
		return r;
	if (to != 0 && from > to) {
		fprintf(stderr, "yumnactl: FROM (%lld) is above TO (%lld)\n", (long long)from,
			(long long)to);
		return CTL_USAGE;
	}
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/%lld/diff?from=%lld", (long long)id,
		 (long long)from);
	if (to != 0)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "&to=%lld",
			 (long long)to);
	if ((r = ctl_call(c, "GET", path, NULL, &ans)) != CTL_OK ||
	    (r = ctl_answer_need(c, &ans, "counts", JSON_OBJECT, "added", JSON_ARRAY, "removed",
				 JSON_ARRAY, "changed", JSON_ARRAY, NULL)) != CTL_OK)
		return r;
	const json_t *d = ans.json, *n = json_object_get(d, "counts");
	if (c->json) {
		ctl_print_json(d);
	} else {
		printf("zone %s, version %s -> %s: %s added, %s removed, %s changed\n",
		       cell(json_object_get(d, "domain")), cell(json_object_get(d, "from")),
		       cell(json_object_get(d, "to")), cell(json_object_get(n, "added")),
		       cell(json_object_get(n, "removed")), cell(json_object_get(n, "changed")));
		ctl_print_rrset_diff(stdout, d);
	}
	ctl_answer_clear(&ans);
	return CTL_OK;
}

/* --- zones rollback ------------------------------------------------------------------ */

static int zones_rollback(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[160], what[64];
	int64_t id, version;
	int oi, r = ctl_no_opts(CMD(2), argc, argv, 2, 2, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_parse_id("the version", argv[oi + 1], &version)) != CTL_OK ||
	    (r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/%lld/rollback%s", (long long)id, ctl_wait_query(c));
	json_t *body = json_pack("{s:I}", "version", (json_int_t)version);
	r = ctl_call(c, "POST", path, body, &ans);
	json_decref(body);
	if (r != CTL_OK || (r = ctl_change_check(c, &ans)) != CTL_OK)
		return r;
	if (!c->json && !json_is_true(json_object_get(ans.json, "changed"))) {
		printf("%s\n", cell(json_object_get(ans.json, "message")));
		ctl_answer_clear(&ans);
		return CTL_OK;
	}
	snprintf(what, sizeof(what), "rolled back to version %lld", (long long)version);
	r = ctl_print_change(c, &ans, what);
	ctl_answer_clear(&ans);
	return r;
}

/* --- audit ------------------------------------------------------------------------- */

struct audit_opts {
	const char *zone, *actor, *action;
	char since[32], until[32], limit[24], before[24];
};

/* --since/--until: what the controller takes (Unix seconds, 2026-01-31,
 * 2026-01-31T12:00:00Z), or an age counted back from now: 90s, 30m, 2h,
 * 7d, 4w. */
static int time_opt(const char *name, const char *arg, char *out, size_t len)
{
	char *end;
	errno = 0;
	long long n = strtoll(arg, &end, 10);
	const char *units = "smhdw";
	static const long long secs[] = { 1, 60, 3600, 86400, 604800 };
	const char *u = end != arg && *end != '\0' && end[1] == '\0' ? strchr(units, *end) : NULL;
	if (u != NULL && errno == 0 && n >= 0 && n <= 100LL * 366 * 86400) {
		snprintf(out, len, "%lld", (long long)time(NULL) - n * secs[u - units]);
		return 0;
	}
	if (strlen(arg) == 0 || strlen(arg) >= len) {
		fprintf(stderr,
			"yumnactl: --%s: a time (2026-01-31, 2026-01-31T12:00:00Z, Unix "
			"seconds) or an age (30m, 2h, 7d)\n",
			name);
		return -1;
	}
	snprintf(out, len, "%s", arg); /* the controller checks the rest */
	return 0;
}

static int audit_opt(int opt, const char *arg, void *ctx)
{
	struct audit_opts *o = ctx;
	switch (opt) {
	case 'z':
		o->zone = arg;
		return 0;
	case 'a':
		o->actor = arg;
		return 0;
	case 'A':
		o->action = arg;
		return 0;
	case 's':
		return time_opt("since", arg, o->since, sizeof(o->since));
	case 'u':
		return time_opt("until", arg, o->until, sizeof(o->until));
	case 'l':
		return number_opt("limit", arg, o->limit, sizeof(o->limit));
	default:
		return number_opt("before", arg, o->before, sizeof(o->before));
	}
}

static int audit(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "actor", required_argument, NULL, 'a' },
		{ "action", required_argument, NULL, 'A' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "limit", required_argument, NULL, 'l' },
		{ "before", required_argument, NULL, 'b' },
		{ 0 },
	};
	struct audit_opts o = { 0 };
	struct ctl_answer ans;
	char path[1200];
	int oi, r = ctl_getopt(CMD(3), argc, argv, "", lo, audit_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(CMD(3), argc - oi, 0, 0)) != CTL_OK)
		return r;
	/* A zone given by its id: the log names zones (a deleted one's too). */
	struct ctl_answer zone = { 0 };
	if (o.zone != NULL && o.zone[0] != '\0' && strspn(o.zone, "0123456789") == strlen(o.zone)) {
		snprintf(path, sizeof(path), "/api/dns/%s", o.zone);
		if ((r = ctl_call(c, "GET", path, NULL, &zone)) != CTL_OK ||
		    (r = ctl_answer_need(c, &zone, "domain", JSON_STRING, NULL)) != CTL_OK)
			return r;
		o.zone = json_string_value(json_object_get(zone.json, "domain"));
	}
	snprintf(path, sizeof(path), "/api/dns/audit");
	const char *const q[][2] = {
		{ "zone", o.zone },	{ "actor", o.actor }, { "action", o.action },
		{ "since", o.since },	{ "until", o.until }, { "limit", o.limit },
		{ "before", o.before },
	};
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (q[i][1] != NULL && q[i][1][0] != '\0' &&
		    !query_add(path, sizeof(path), q[i][0], q[i][1])) {
			ctl_answer_clear(&zone);
			return too_long();
		}
	r = ctl_call(c, "GET", path, NULL, &ans);
	ctl_answer_clear(&zone);
	if (r != CTL_OK || (r = ctl_answer_need(c, &ans, "entries", JSON_ARRAY, NULL)) != CTL_OK)
		return r;
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		static const char *const h[] = { "ID",	 "TIME",    "ACTOR",  "ACTION",
						 "ZONE", "VERSION", "SUMMARY" };
		struct table *t = table_new(7, h);
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(ans.json, "entries"), i, e) {
			const char *row[7] = {
				cell(json_object_get(e, "id")),
				cell(json_object_get(e, "time")),
				cell(json_object_get(e, "actor")),
				cell(json_object_get(e, "action")),
				cell(json_object_get(e, "zone")),
				cell(json_object_get(e, "version")),
				cell(json_object_get(e, "summary")),
			};
			table_add(t, row);
		}
		table_print_free(t);
		print_next(ans.json, "yumnactl audit [the same options]");
	}
	ctl_answer_clear(&ans);
	return CTL_OK;
}

/* The index of each entry is used by its command for its own usage. */
const struct ctl_cmd ctl_history_cmds[] = {
	{ "zones", "history", zones_history, "[--limit N] [--before VERSION] ZONE",
	  "List the zone's versions, newest first: version, serial, time, who made it (the API\n"
	  "token's name), the action and a summary. --limit (1 to 1000, default 100) and\n"
	  "--before page through a long history. Versions older than the controller's retention\n"
	  "(history-keep-versions, history-keep-days) are gone." },
	{ "zones", "diff", zones_diff, "ZONE FROM [TO]",
	  "Show the RRsets that differ from version FROM to version TO (default: the current\n"
	  "version): '-' lines were removed, '+' lines added; a changed RRset shows both." },
	{ "zones", "rollback", zones_rollback, "ZONE VERSION",
	  "Give the zone the records and the own SOA fields (zones set-soa) of VERSION again, as\n"
	  "a new version with a new serial that every node gets like any change (--wait waits\n"
	  "for them). History is never rewritten; if the zone already has those nothing changes.\n"
	  "DNSSEC keys are not part of a version and stay as they are. Needs an admin token." },
	{ "audit", NULL, audit,
	  "[--zone ZONE] [--actor NAME] [--action ACTION] [--since T] [--until T] [--limit N] "
	  "[--before ID]",
	  "List the audit log, newest first: every change of a zone, a token or a server, with\n"
	  "who made it. The filters match exactly (--action zone.rollback, record.create,\n"
	  "token.create, server.update, ...); --since and --until take 2026-01-31,\n"
	  "2026-01-31T12:00:00Z, Unix seconds, or an age: 30m, 2h, 7d. --limit is 1 to 1000\n"
	  "(default 100); --before pages." },
	{ 0 },
};
