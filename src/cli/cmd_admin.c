/* yumnactl tokens and dnssec. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "human.h"

#define CMD(i) (&ctl_admin_cmds[i])

/* --- tokens -------------------------------------------------------------------- */

static int tokens_list(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	int oi, r = ctl_no_opts(CMD(0), argc, argv, 0, 0, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_get_list(c, "/api/dns/tokens", &ans)) != CTL_OK)
		return r;
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		static const char *const h[] = { "ID", "NAME", "ROLE", "CREATED", "REVOKED" };
		struct table *t = table_new(5, h);
		size_t i;
		json_t *k;
		json_array_foreach(ans.json, i, k) {
			char when[32] = "-";
			time_t at = (time_t)json_integer_value(json_object_get(k, "created_at"));
			struct tm tm;
			if (at > 0 && gmtime_r(&at, &tm) != NULL)
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
			const char *row[5] = { cell(json_object_get(k, "id")),
					       cell(json_object_get(k, "name")),
					       cell(json_object_get(k, "role")), when,
					       cell(json_object_get(k, "revoked")) };
			table_add(t, row);
		}
		table_print_free(t);
	}
	ctl_answer_clear(&ans);
	return CTL_OK;
}

static int role_opt(int opt, const char *arg, void *ctx)
{
	if (strcmp(arg, "admin") != 0 && strcmp(arg, "read") != 0) {
		fprintf(stderr, "yumnactl: --role is admin or read\n");
		return -1;
	}
	*(const char **)ctx = arg;
	return 0;
}

static int tokens_create(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = { { "role", required_argument, NULL, 'r' }, { 0 } };
	const char *role = NULL;
	struct ctl_answer ans;
	int oi, r = ctl_getopt(CMD(1), argc, argv, "", lo, role_opt, &role, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(CMD(1), argc - oi, 1, 1)) != CTL_OK)
		return r;
	if (role == NULL) {
		fprintf(stderr, "yumnactl: tokens create needs --role admin or --role read\n");
		return CTL_USAGE;
	}
	json_t *b = json_pack("{s:s,s:s}", "name", argv[oi], "role", role);
	r = ctl_call(c, "POST", "/api/dns/tokens", b, &ans);
	json_decref(b);
	/* A script captures stdout as the token: never "-" for a missing one. */
	if (r != CTL_OK || (r = ctl_answer_need(c, &ans, "token", JSON_STRING, NULL)) != CTL_OK)
		return r;
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		/* The token alone on stdout, so that it can be captured; the
		 * rest on stderr. */
		fprintf(stderr, "token %s ('%s', role %s) created; it is shown only now:\n",
			cell(json_object_get(ans.json, "id")), argv[oi], role);
		printf("%s\n", cell(json_object_get(ans.json, "token")));
	}
	ctl_answer_clear(&ans);
	return CTL_OK;
}

static int tokens_revoke(struct ctl *c, int argc, char **argv)
{
	return ctl_delete_by_id(c, CMD(2), argc, argv, "token", "/api/dns/tokens", "revoked");
}

/* --- dnssec ---------------------------------------------------------------------- */

struct dnssec_opts {
	const char *algorithm;
	const char *scheme;
	const char *key;
	bool nsec3;
	bool optout;
	bool force;
	bool ds_published;
};

static int dnssec_opt(int opt, const char *arg, void *ctx)
{
	struct dnssec_opts *o = ctx;
	switch (opt) {
	case 'a':
		o->algorithm = arg;
		return 0;
	case 'k':
		o->key = arg;
		return 0;
	case 's':
		o->scheme = arg;
		return 0;
	case 'O':
		o->optout = true;
		return 0;
	case '3':
		o->nsec3 = true;
		return 0;
	case 'f':
		o->force = true;
		return 0;
	case 'D':
		o->ds_published = true;
		return 0;
	}
	return -1;
}

static long long alg_number(const char *s)
{
	return strlen(s) > 6 ? 0 : strtoll(s, NULL, 10);
}

/* A DNSSEC request for an existing zone. The routes are the controller's
 * DNSSEC feature: a controller built without it answers 404 (no route),
 * 405 or 501, which is said plainly instead of "not found". */
static int dnssec_call(struct ctl *c, const char *method, const char *suffix, int64_t zone,
		       const json_t *body, struct ctl_answer *ans)
{
	char path[128];
	struct ctl_answer check;

	snprintf(path, sizeof(path), "/api/dns/%lld", (long long)zone);
	int r = ctl_call(c, "GET", path, NULL, &check);
	if (r != CTL_OK)
		return r;
	ctl_answer_clear(&check);
	snprintf(path, sizeof(path), "/api/dns/%lld/dnssec%s", (long long)zone, suffix);
	r = ctl_call_raw(c, method, path, body, ans);
	if (r != CTL_OK)
		return r;
	if (ans->status == 404 || ans->status == 405 || ans->status == 501) {
		fprintf(stderr,
			"yumnactl: this controller does not offer DNSSEC%s (%s %s: HTTP %ld); "
			"upgrade the controller to one that does\n",
			suffix[0] == '/' ? " key rollover on request" : "", method, path,
			ans->status);
		ctl_answer_clear(ans);
		return CTL_UNSUPPORTED;
	}
	return ctl_answer_check(c, ans);
}

/* The rollover line and the next step, with commands rather than routes:
 * the API's next_step text speaks of routes, so the step is read from
 * kind, step and waiting_for instead. 'zone' is how the user named it. */
static void rollover_print(const json_t *j, const char *zone)
{
	json_t *roll = json_object_get(j, "rollover");
	const char *state = json_string_value(json_object_get(roll, "state"));
	const char *kind = json_string_value(json_object_get(roll, "kind"));
	const char *waiting = json_string_value(json_object_get(roll, "waiting_for"));
	json_int_t step = json_integer_value(json_object_get(roll, "step"));
	char when[96];

	if (state == NULL)
		return;
	if (strcmp(state, "rolling") != 0 || kind == NULL) {
		bool split = strcmp(cell(json_object_get(j, "scheme")), "ksk-zsk") == 0;
		printf("rollover   none in progress%s\n"
		       "           start one: yumnactl dnssec roll --key %s %s\n",
		       split ? " (the ZSK is rolled by itself when it reaches "
			       "dnssec-zsk-lifetime-days)"
			     : "",
		       split ? "zsk|ksk" : "csk", zone);
		return;
	}
	bool zsk = strcmp(kind, "zsk") == 0;
	const char *did, *next;
	if (zsk)
		did = step == 1 ? "the new ZSK is published beside the old one"
				: "the new ZSK signs; the old one stays published";
	else
		did = step == 1 ? "the new key is published and signs beside the old one"
				: "the parent publishes the new DS";
	if (zsk)
		next = step == 1 ? "the new ZSK starts signing, by itself"
				 : "the old ZSK is removed, by itself; the rollover is done";
	else
		next = step == 1 ? "give the registrar the new DS (below, and in the zone's CDS), "
				   "then confirm"
				 : "the old key is removed, by itself; the rollover is done";
	human_when(json_integer_value(json_object_get(roll, "not_before")),
		   json_integer_value(json_object_get(roll, "now")), when, sizeof(when));
	printf("rollover   %s, step %lld of 2: %s\n", kind, (long long)step, did);
	bool due = strncmp(when, "now", 3) == 0;
	printf("next step  %s%s\n           %s\n", zsk || step != 1 || due ? "" : "not before ",
	       when, next);
	if (waiting != NULL && strcmp(waiting, "nodes") == 0)
		printf("           (first every node must have the current step; see "
		       "yumnactl status)\n");
	if (!zsk && step == 1)
		printf(
		    "           once the parent has it: yumnactl dnssec roll --ds-published %s\n",
		    zone);
}

/* Human output of the DNSSEC state (docs/whm-api.md, DNSSEC): a summary,
 * the rollover, the keys, the DNSKEY and DS records and what to do; 'ds_only'
 * prints the DS records alone, one per line, for scripts, and is
 * CTL_FAILED without any (the zone is not signed). */
static int dnssec_print(const json_t *j, bool ds_only, const char *zone)
{
	json_t *ds = json_object_get(j, "ds");
	const char *domain = cell(json_object_get(j, "domain"));
	size_t i;
	json_t *d;

	if (ds_only) {
		json_array_foreach(ds, i, d)
			printf("%s\n", cell(d));
		if (json_array_size(ds) > 0)
			return CTL_OK;
		fprintf(stderr,
			"yumnactl: zone %s is not signed: it has no DS records (sign it: "
			"yumnactl dnssec sign %s)\n",
			zone, zone);
		return CTL_FAILED;
	}
	const char *msg = json_string_value(json_object_get(j, "message"));
	if (msg != NULL)
		printf("%s\n", msg);
	if (!json_is_true(json_object_get(j, "enabled"))) {
		printf("zone %s is not signed (sign it: yumnactl dnssec sign %s)\n", domain, zone);
		return CTL_OK;
	}
	printf("zone       %s\nsigned     yes, %s (%s), %s, denial %s%s\n", domain,
	       cell(json_object_get(j, "algorithmName")), cell(json_object_get(j, "algorithm")),
	       cell(json_object_get(j, "scheme")), cell(json_object_get(j, "denial")),
	       json_is_true(json_object_get(j, "nsec3_optout")) ? " (opt-out)" : "");
	rollover_print(j, zone);
	static const char *const h[] = { "ID",	  "TYPE",   "ALG",	"KEYTAG",
					 "FLAGS", "ACTIVE", "PUBLISHED" };
	struct table *t = table_new(7, h);
	json_array_foreach(json_object_get(j, "keys"), i, d) {
		const char *row[7] = {
			cell(json_object_get(d, "id")),	       cell(json_object_get(d, "keytype")),
			cell(json_object_get(d, "algorithm")), cell(json_object_get(d, "keytag")),
			cell(json_object_get(d, "flags")),     cell(json_object_get(d, "active")),
			cell(json_object_get(d, "published"))
		};
		table_add(t, row);
	}
	printf("\n");
	table_print_free(t);
	printf("\nDNSKEY records (published by every node):\n");
	json_array_foreach(json_object_get(j, "dnskey"), i, d)
		printf("  %s IN DNSKEY %s\n", domain, cell(d));
	printf("\nDS records for the registrar:\n");
	json_array_foreach(ds, i, d)
		printf("  %s IN DS %s\n", domain, cell(d));
	const char *how = json_string_value(json_object_get(j, "instructions"));
	if (how != NULL)
		printf("\n%s\n", how);
	printf("\nThe DS alone, one per line: yumnactl dnssec ds %s\n", zone);
	return CTL_OK;
}

/* After a refused --ds-published: when the step may be confirmed, from the
 * zone's state (the controller's refusal gives a Unix time). */
static void ds_refused_hint(struct ctl *c, int64_t id, const char *zone)
{
	struct ctl_answer ans;
	char path[96];
	snprintf(path, sizeof(path), "/api/dns/%lld/dnssec", (long long)id);
	if (ctl_call_raw(c, "GET", path, NULL, &ans) != CTL_OK)
		return;
	json_t *roll = json_object_get(ans.json, "rollover");
	const char *kind = json_string_value(json_object_get(roll, "kind"));
	char when[96];
	if (ans.status == 200 && kind != NULL && strcmp(kind, "zsk") != 0 &&
	    json_integer_value(json_object_get(roll, "step")) == 1) {
		human_when(json_integer_value(json_object_get(roll, "not_before")),
			   json_integer_value(json_object_get(roll, "now")), when, sizeof(when));
		fprintf(stderr, "yumnactl: the new DS may be given to the parent %s%s\n",
			strncmp(when, "now", 3) == 0 ? "" : "from ", when);
	} else if (ans.status == 200) {
		fprintf(stderr,
			"yumnactl: no KSK or CSK rollover waits for its DS; start one: "
			"yumnactl dnssec roll --key ksk|csk %s\n",
			zone);
	}
	ctl_answer_clear(&ans);
}

static int dnssec_run(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv,
		      const char *method, const char *suffix, bool ds_only, const char *done)
{
	static const struct option lo[] = {
		{ "algorithm", required_argument, NULL, 'a' },
		{ "nsec3", no_argument, NULL, '3' },
		{ "nsec3-optout", no_argument, NULL, 'O' },
		{ "scheme", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'f' },
		{ "ds-published", no_argument, NULL, 'D' },
		{ 0 },
	};
	struct dnssec_opts o = { 0 };
	struct ctl_answer ans;
	char sfx[64];
	int64_t id;
	int oi, r = ctl_getopt(cmd, argc, argv, "", lo, dnssec_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(cmd, argc - oi, 1, 1)) != CTL_OK ||
	    (r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	json_t *body = NULL;
	if (strcmp(method, "GET") != 0) {
		body = json_object();
		/* An algorithm number goes as a number (13, 15), a name as text. */
		if (o.algorithm && strspn(o.algorithm, "0123456789") == strlen(o.algorithm))
			json_object_set_new(body, "algorithm",
					    json_integer(alg_number(o.algorithm)));
		else if (o.algorithm)
			json_object_set_new(body, "algorithm", json_string(o.algorithm));
		if (o.scheme)
			json_object_set_new(body, "scheme", json_string(o.scheme));
		if (o.nsec3)
			json_object_set_new(body, "nsec3", json_true());
		if (o.optout)
			json_object_set_new(body, "nsec3_optout", json_true());
		if (o.key)
			json_object_set_new(body, "keytype", json_string(o.key));
		if (o.ds_published)
			json_object_set_new(body, "ds_published", json_true());
	}
	bool change = strcmp(method, "GET") != 0;
	snprintf(sfx, sizeof(sfx), "%s%s%s", suffix,
		 o.force ? "?force=1" : (change && c->wait ? "?wait=all" : ""),
		 o.force && c->wait ? "&wait=all" : "");
	r = dnssec_call(c, method, sfx, id, strcmp(method, "DELETE") == 0 ? NULL : body, &ans);
	json_decref(body);
	if (r == CTL_REFUSED && strcmp(method, "DELETE") == 0 && !o.force)
		fprintf(stderr,
			"yumnactl: once the DS is gone from the parent: yumnactl dnssec "
			"unsign --force %s\n",
			argv[oi]);
	if (r == CTL_REFUSED && o.ds_published)
		ds_refused_hint(c, id, argv[oi]);
	/* Every answer but an unsigning's is the zone's DNSSEC state, whose
	 * lists are printed: an answer without them is not the controller's. */
	if (r == CTL_OK && strcmp(method, "DELETE") != 0)
		r = ctl_answer_need(c, &ans, "keys", JSON_ARRAY, "ds", JSON_ARRAY, "dnskey",
				    JSON_ARRAY, NULL);
	if (r != CTL_OK)
		return r;
	bool partial = change && c->wait && json_object_get(ans.json, "synced") != NULL &&
		       !json_is_true(json_object_get(ans.json, "synced"));
	if (c->json) {
		ctl_print_json(ans.json);
	} else if (strcmp(method, "DELETE") == 0) {
		printf("%s\n", json_string_value(json_object_get(ans.json, "message"))
				   ? json_string_value(json_object_get(ans.json, "message"))
				   : done);
	} else {
		r = dnssec_print(ans.json, ds_only, argv[oi]);
	}
	if (c->json && ds_only && json_array_size(json_object_get(ans.json, "ds")) == 0)
		r = dnssec_print(ans.json, true, argv[oi]) == CTL_OK ? CTL_OK : CTL_FAILED;
	ctl_answer_clear(&ans);
	return r != CTL_OK ? r : partial ? CTL_PARTIAL : CTL_OK;
}

static int dnssec_sign(struct ctl *c, int argc, char **argv)
{
	return dnssec_run(c, CMD(3), argc, argv, "POST", "", false, NULL);
}

static int dnssec_status(struct ctl *c, int argc, char **argv)
{
	return dnssec_run(c, CMD(4), argc, argv, "GET", "", false, NULL);
}

static int dnssec_ds(struct ctl *c, int argc, char **argv)
{
	return dnssec_run(c, CMD(5), argc, argv, "GET", "", true, NULL);
}

static int dnssec_roll(struct ctl *c, int argc, char **argv)
{
	return dnssec_run(c, CMD(6), argc, argv, "POST", "/rollover", false,
			  "key rollover started");
}

static int dnssec_unsign(struct ctl *c, int argc, char **argv)
{
	return dnssec_run(c, CMD(7), argc, argv, "DELETE", "", false, "zone unsigned");
}

/* --- dnssec keys ---------------------------------------------------------------- */

static int by_zone(const void *pa, const void *pb)
{
	const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
	int c = strcmp(cell(json_object_get(a, "zone")), cell(json_object_get(b, "zone")));
	json_int_t x = json_integer_value(json_object_get(a, "id"));
	json_int_t y = json_integer_value(json_object_get(b, "id"));
	return c != 0 ? c : (x > y) - (x < y);
}

static void keys_table(const json_t *keys)
{
	static const char *const h[] = {
		"ZONE", "KEYTAG", "ROLE", "ALGORITHM", "STATE", "ROLLOVER"
	};
	size_t n = json_array_size(keys), i;
	const json_t **sorted = calloc(n + 1, sizeof(*sorted));
	if (sorted == NULL)
		abort();
	for (i = 0; i < n; i++)
		sorted[i] = json_array_get(keys, i);
	qsort(sorted, n, sizeof(*sorted), by_zone);
	struct table *t = table_new(6, h);
	for (i = 0; i < n; i++) {
		const json_t *k = sorted[i], *roll = json_object_get(k, "rollover");
		char alg[64], step[64] = "-";
		snprintf(alg, sizeof(alg), "%s (%s)", cell(json_object_get(k, "algorithmName")),
			 cell(json_object_get(k, "algorithm")));
		if (json_is_object(roll))
			snprintf(step, sizeof(step), "%s, step %s of 2",
				 cell(json_object_get(roll, "kind")),
				 cell(json_object_get(roll, "step")));
		const char *row[6] = {
			cell(json_object_get(k, "zone")),  cell(json_object_get(k, "keytag")),
			cell(json_object_get(k, "role")),  alg,
			cell(json_object_get(k, "state")), step
		};
		table_add(t, row);
	}
	table_print_free(t);
	free(sorted);
}

static int dnssec_keys(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[96];
	long long after = 0;
	int oi, r = ctl_no_opts(CMD(8), argc, argv, 0, 0, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	json_t *all = json_array();
	/* Page by page: one query each on the controller, whatever the number
	 * of zones. */
	for (;;) {
		snprintf(path, sizeof(path), "/api/dns/dnssec/keys?after=%lld", after);
		if ((r = ctl_call_raw(c, "GET", path, NULL, &ans)) != CTL_OK)
			break;
		if (ans.status == 404 || ans.status == 405 || ans.status == 501) {
			fprintf(stderr,
				"yumnactl: this controller cannot list every DNSSEC key (GET %s: "
				"HTTP %ld); use yumnactl dnssec status ZONE, or upgrade it\n",
				path, ans.status);
			ctl_answer_clear(&ans);
			r = CTL_UNSUPPORTED;
			break;
		}
		if ((r = ctl_answer_check(c, &ans)) != CTL_OK ||
		    (r = ctl_answer_need(c, &ans, "keys", JSON_ARRAY, NULL)) != CTL_OK)
			break;
		json_array_extend(all, json_object_get(ans.json, "keys"));
		json_t *next = json_object_get(ans.json, "next");
		after = json_is_integer(next) ? (long long)json_integer_value(next) : 0;
		ctl_answer_clear(&ans);
		if (after <= 0)
			break;
	}
	if (r == CTL_OK && c->json) {
		json_t *j = json_pack("{s:O}", "keys", all);
		ctl_print_json(j);
		json_decref(j);
	} else if (r == CTL_OK) {
		keys_table(all);
	}
	json_decref(all);
	return r;
}

const struct ctl_cmd ctl_admin_cmds[] = {
	{ "tokens", "list", tokens_list, "",
	  "List API tokens (never the tokens themselves). Admin only." },
	{ "tokens", "create", tokens_create, "--role admin|read NAME",
	  "Create an API token. It is printed once, alone on stdout; only its SHA-256 is stored.\n"
	  "A read token may only GET. Admin only." },
	{ "tokens", "revoke", tokens_revoke, "TOKEN_ID", "Revoke a token at once. Admin only." },
	{ "dnssec", "sign", dnssec_sign,
	  "[--algorithm 13|15|ECDSAP256SHA256|ED25519] [--scheme csk|ksk-zsk] [--nsec3 "
	  "[--nsec3-optout]] "
	  "ZONE",
	  "Sign a zone with one key set, the same on every node; prints the DS for the registrar.\n"
	  "Signing a signed zone again may switch NSEC/NSEC3; the keys stay." },
	{ "dnssec", "status", dnssec_status, "ZONE",
	  "DNSSEC state of a zone: keys (public parts), DS, next rollover step." },
	{ "dnssec", "ds", dnssec_ds, "ZONE", "Print the zone's DS records, one per line." },
	{ "dnssec", "roll", dnssec_roll, "--key ksk|zsk|csk ZONE | --ds-published ZONE",
	  "Start a key rollover now, or confirm that the parent publishes the new DS (the "
	  "KSK/CSK rollover's second step)." },
	{ "dnssec", "unsign", dnssec_unsign, "[--force] ZONE",
	  "Stop signing the zone. Withdraw the DS at the registrar first and wait for its TTL;\n"
	  "the controller refuses (exit code 7, with what to do) unless --force." },
	{ "dnssec", "keys", dnssec_keys, "",
	  "List the DNSSEC keys of every signed zone: zone, key tag, role (csk, ksk, zsk),\n"
	  "algorithm, state (active: published and signing; published: published only, as\n"
	  "during a rollover) and the zone's rollover step. Never a private key. A read token\n"
	  "may list them. --json prints {\"keys\": [...]} as the controller gives them." },
	{ 0 },
};
