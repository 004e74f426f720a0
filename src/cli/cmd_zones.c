/* yumnactl zones, records, import and export. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dns/dns.h"

/* --- zones ----------------------------------------------------------------- */

/* An international name as people write it, or "-" when that is the name
 * itself (or the controller sent no such field). */
static const char *unicode_cell(const json_t *o, const char *key, const char *ukey)
{
	const char *a = json_string_value(json_object_get(o, key));
	const char *u = json_string_value(json_object_get(o, ukey));
	return a != NULL && u != NULL && strcmp(a, u) != 0 ? u : "-";
}

static int zones_list(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = &ctl_zone_cmds[0];
	struct ctl_answer ans;
	int oi, r = ctl_no_opts(cmd, argc, argv, 0, 0, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_get_list(c, "/api/dns", &ans)) != CTL_OK)
		return r;
	if (c->json) {
		ctl_print_json(ans.json);
	} else {
		static const char *const h[] = { "ID",	   "DOMAIN",  "UNICODE", "RECORDS",
						 "SERIAL", "VERSION", "DNSSEC" };
		struct table *t = table_new(7, h);
		size_t i;
		json_t *z;
		json_array_foreach(ans.json, i, z) {
			const char *row[7] = { cell(json_object_get(z, "id")),
					       cell(json_object_get(z, "domain")),
					       unicode_cell(z, "domain", "domain_unicode"),
					       cell(json_object_get(z, "records")),
					       cell(json_object_get(z, "serial")),
					       cell(json_object_get(z, "version")),
					       cell(json_object_get(z, "dnssec_enabled")) };
			table_add(t, row);
		}
		table_print_free(t);
	}
	ctl_answer_clear(&ans);
	return CTL_OK;
}

/* zones create's options: a secondary zone's primaries and key. */
struct create_opts {
	json_t *primaries; /* NULL: a zone of its own */
	const char *tsig_key;
};

static int create_opt(int opt, const char *arg, void *ctx)
{
	struct create_opts *o = ctx;
	if (opt == 'p') {
		if (o->primaries == NULL)
			o->primaries = json_array();
		json_array_append_new(o->primaries, json_string(arg));
	} else {
		o->tsig_key = arg;
	}
	return 0;
}

static int zones_create(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = { { "primary", required_argument, NULL, 'p' },
						  { "tsig-key", required_argument, NULL, 'k' },
						  { 0 } };
	const struct ctl_cmd *cmd = &ctl_zone_cmds[1];
	struct create_opts o = { 0 };
	char path[64];
	int oi, r = ctl_getopt(cmd, argc, argv, "", longopts, create_opt, &o, &oi);
	if (r == 0)
		r = ctl_args(cmd, argc - oi, 1, 1);
	if (r == 0 && o.tsig_key != NULL && o.primaries == NULL) {
		fprintf(stderr, "yumnactl: --tsig-key is for a secondary zone (give --primary)\n");
		r = CTL_USAGE;
	}
	if (r != 0) {
		json_decref(o.primaries);
		return r < 0 ? CTL_OK : r;
	}
	json_t *body = json_pack("{s:s}", "domain", argv[oi]);
	if (o.primaries != NULL) {
		json_object_set_new(body, "kind", json_string("secondary"));
		json_object_set_new(body, "primaries", o.primaries);
		if (o.tsig_key != NULL)
			json_object_set_new(body, "tsig_key", json_string(o.tsig_key));
	}
	snprintf(path, sizeof(path), "/api/dns%s", ctl_wait_query(c));
	return ctl_send_change(c, "POST", path, body, "zone created");
}

/* The path /api/dns/:id'tail' of a command whose one argument is a ZONE. */
static int zone_path(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv,
		     const char *tail, char *path, size_t len)
{
	int64_t id;
	int oi, r = ctl_no_opts(cmd, argc, argv, 1, 1, &oi);
	if (r != 0)
		return r;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, len, "/api/dns/%lld%s", (long long)id, tail);
	return CTL_OK;
}

/* A refresh is started, not a version made: there is nothing for --wait
 * to wait for. */
static int zones_retrieve(struct ctl *c, int argc, char **argv)
{
	struct ctl_answer ans;
	char path[128];
	int r = zone_path(c, &ctl_zone_cmds[11], argc, argv, "/retrieve", path, sizeof(path));
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_call_ok(c, "POST", path, NULL, &ans)) != CTL_OK)
		return r;
	if (c->json)
		ctl_print_json(ans.json);
	else
		printf("refresh from the primary started: zone %s\n", argv[argc - 1]);
	ctl_answer_clear(&ans);
	return CTL_OK;
}

static int zones_delete(struct ctl *c, int argc, char **argv)
{
	char path[128];
	int r = zone_path(c, &ctl_zone_cmds[2], argc, argv, ctl_wait_query(c), path, sizeof(path));
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	return ctl_send_zone_delete(c, path);
}

static void records_table(const json_t *records)
{
	static const char *const h[] = { "ID", "NAME", "TTL", "TYPE", "PRIO", "CONTENT" };
	struct table *t = table_new(6, h);
	size_t i;
	json_t *rec;
	json_array_foreach(records, i, rec) {
		const char *type = cell(json_object_get(rec, "type"));
		bool prio = strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0;
		char name[2 * DNAME_UNICODE_MAX];
		const char *u = unicode_cell(rec, "name", "name_unicode");
		snprintf(name, sizeof(name), "%s%s%s%s", cell(json_object_get(rec, "name")),
			 strcmp(u, "-") != 0 ? " (" : "", strcmp(u, "-") != 0 ? u : "",
			 strcmp(u, "-") != 0 ? ")" : "");
		/* A disabled record is listed, and served by no node. */
		const char *content = cell(json_object_get(rec, "content"));
		bool off = json_is_true(json_object_get(rec, "disabled"));
		size_t len = strlen(content) + sizeof(" (disabled)");
		char *shown = malloc(len);
		if (shown != NULL)
			snprintf(shown, len, "%s%s", content, off ? " (disabled)" : "");
		const char *row[6] = { cell(json_object_get(rec, "id")),
				       name,
				       cell(json_object_get(rec, "ttl")),
				       type,
				       prio ? cell(json_object_get(rec, "priority")) : "",
				       shown != NULL ? shown : content };
		table_add(t, row);
		free(shown);
	}
	table_print_free(t);
}

static int zones_show(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = &ctl_zone_cmds[3];
	struct ctl_answer zone, recs;
	int64_t id;
	int oi, r = ctl_no_opts(cmd, argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK ||
	    (r = ctl_zone_read(c, id, &zone, &recs)) != CTL_OK)
		return r;
	if (c->json) {
		json_t *out = json_pack("{s:O,s:O}", "zone", zone.json, "records", recs.json);
		ctl_print_json(out);
		json_decref(out);
	} else {
		const json_t *z = zone.json;
		const char *u = unicode_cell(z, "domain", "domain_unicode");
		printf("zone     %s%s%s%s (id %s)\nserial   %s\nversion  %s\ndnssec   %s\n",
		       cell(json_object_get(z, "domain")), strcmp(u, "-") != 0 ? " (" : "",
		       strcmp(u, "-") != 0 ? u : "", strcmp(u, "-") != 0 ? ")" : "",
		       cell(json_object_get(z, "id")), cell(json_object_get(z, "serial")),
		       cell(json_object_get(z, "version")),
		       /* a secondary zone its primary signs: served as it comes */
		       json_is_true(json_object_get(z, "presigned"))
			   ? "presigned by its primary"
			   : cell(json_object_get(z, "dnssec_enabled")));
		const json_t *sec = json_object_get(z, "secondary");
		if (sec != NULL) {
			char *prim = json_dumps(json_object_get(sec, "primaries"), JSON_COMPACT);
			printf("kind     secondary of %s%s%s\nstate    %s%s%s\n", prim ? prim : "-",
			       json_is_string(json_object_get(sec, "tsig_key")) ? ", TSIG key "
										: "",
			       json_is_string(json_object_get(sec, "tsig_key"))
				   ? json_string_value(json_object_get(sec, "tsig_key"))
				   : "",
			       cell(json_object_get(sec, "state")),
			       json_is_string(json_object_get(sec, "last_error")) ? ": " : "",
			       json_is_string(json_object_get(sec, "last_error"))
				   ? json_string_value(json_object_get(sec, "last_error"))
				   : "");
			free(prim);
		}
		ctl_print_soa(json_object_get(z, "soa"));
		printf("records  %s (the SOA above is not listed)\n\n",
		       cell(json_object_get(z, "records")));
		records_table(recs.json);
	}
	ctl_answer_clear(&zone);
	ctl_answer_clear(&recs);
	return CTL_OK;
}

/* --- records ----------------------------------------------------------------- */

struct rec_opts {
	long long ttl, priority;
};

static int rec_opt(int opt, const char *arg, void *ctx)
{
	struct rec_opts *o = ctx;
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < 0) {
		fprintf(stderr, "yumnactl: --%s needs a number, not '%s'\n",
			opt == 't' ? "ttl" : "priority", arg);
		return -1;
	}
	if (opt == 't')
		o->ttl = v;
	else
		o->priority = v;
	return 0;
}

static const struct option rec_longopts[] = {
	{ "ttl", required_argument, NULL, 't' },
	{ "priority", required_argument, NULL, 'p' },
	{ 0 },
};

static json_t *record_body(char **args, const struct rec_opts *o)
{
	json_t *b =
	    json_pack("{s:s,s:s,s:s}", "name", args[0], "type", args[1], "content", args[2]);
	if (o->ttl >= 0)
		json_object_set_new(b, "ttl", json_integer(o->ttl));
	if (o->priority >= 0)
		json_object_set_new(b, "priority", json_integer(o->priority));
	return b;
}

static int records_list(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = &ctl_zone_cmds[4];
	struct ctl_answer ans;
	char path[96];
	int64_t id;
	int oi, r = ctl_no_opts(cmd, argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/%lld/records", (long long)id);
	if ((r = ctl_get_list(c, path, &ans)) != CTL_OK)
		return r;
	if (c->json)
		ctl_print_json(ans.json);
	else
		records_table(ans.json);
	ctl_answer_clear(&ans);
	return CTL_OK;
}

static int records_add(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = &ctl_zone_cmds[5];
	struct rec_opts o = { -1, -1 };
	char path[96];
	int64_t id;
	int oi, r = ctl_getopt(cmd, argc, argv, "", rec_longopts, rec_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(cmd, argc - oi, 4, 4)) != CTL_OK ||
	    (r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	json_t *b = record_body(argv + oi + 1, &o);
	snprintf(path, sizeof(path), "/api/dns/%lld/records%s", (long long)id, ctl_wait_query(c));
	return ctl_send_change(c, "POST", path, b, "record created");
}

static int records_update(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = &ctl_zone_cmds[6];
	struct rec_opts o = { -1, -1 };
	char path[96];
	int64_t id;
	int oi, r = ctl_getopt(cmd, argc, argv, "", rec_longopts, rec_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(cmd, argc - oi, 4, 4)) != CTL_OK ||
	    (r = ctl_parse_id("the record id", argv[oi], &id)) != CTL_OK)
		return r;
	json_t *b = record_body(argv + oi + 1, &o);
	snprintf(path, sizeof(path), "/api/dns/records/%lld%s", (long long)id, ctl_wait_query(c));
	return ctl_send_change(c, "PUT", path, b, "record updated");
}

static int records_replace(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = &ctl_zone_cmds[7];
	struct buf file;
	char path[96];
	int64_t id;
	int oi, r = ctl_no_opts(cmd, argc, argv, 2, 2, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK ||
	    (r = ctl_read_file(argv[oi + 1], &file)) != CTL_OK)
		return r;
	json_error_t jerr;
	json_t *doc = json_loadb(file.data, file.len, JSON_REJECT_DUPLICATES, &jerr);
	buf_free(&file);
	if (doc == NULL) {
		fprintf(stderr, "yumnactl: %s:%d: %s\n", argv[oi + 1], jerr.line, jerr.text);
		return CTL_USAGE;
	}
	json_t *body = json_is_array(doc) ? json_pack("{s:O}", "records", doc) : json_incref(doc);
	json_decref(doc);
	snprintf(path, sizeof(path), "/api/dns/%lld/records%s", (long long)id, ctl_wait_query(c));
	return ctl_send_change(c, "PUT", path, body, "records replaced");
}

static int records_delete(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = &ctl_zone_cmds[8];
	char path[96];
	int64_t id;
	int oi, r = ctl_no_opts(cmd, argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_parse_id("the record id", argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/records/%lld%s", (long long)id, ctl_wait_query(c));
	return ctl_send_change(c, "DELETE", path, NULL, "record deleted");
}

/* --- import and export ---------------------------------------------------------- */

struct import_opts {
	const char *format;
	const char *mode;
	bool keep_soa;
};

static int import_opt(int opt, const char *arg, void *ctx)
{
	struct import_opts *o = ctx;
	if (opt == 'f') {
		if (strcmp(arg, "bind") != 0 && strcmp(arg, "route53") != 0) {
			fprintf(stderr, "yumnactl: --format is bind or route53\n");
			return -1;
		}
		o->format = arg;
	} else if (opt == 'k') {
		o->keep_soa = true;
	} else if (opt == 'r' || opt == 'm') {
		const char *m = opt == 'r' ? "replace" : "merge";
		if (o->mode != NULL && strcmp(o->mode, m) != 0) {
			fprintf(stderr, "yumnactl: --replace and --merge exclude each other\n");
			return -1;
		}
		o->mode = m;
	}
	return 0;
}

static int zone_import(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = &ctl_zone_cmds[9];
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "replace", no_argument, NULL, 'r' },
		{ "merge", no_argument, NULL, 'm' },
		{ "keep-soa", no_argument, NULL, 'k' },
		{ 0 },
	};
	struct import_opts o = { "bind", NULL, false };
	struct ctl_answer ans;
	struct buf file;
	char path[96];
	int64_t id;
	int oi, r = ctl_getopt(cmd, argc, argv, "f:", lo, import_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(cmd, argc - oi, 2, 2)) != CTL_OK ||
	    (r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK ||
	    (r = ctl_read_file(argv[oi + 1], &file)) != CTL_OK)
		return r;
	json_t *b = json_pack("{s:s%,s:s,s:s}", "content", file.data, file.len, "format", o.format,
			      "mode", o.mode ? o.mode : "merge");
	buf_free(&file);
	if (b != NULL && o.keep_soa)
		json_object_set_new(b, "keepSoa", json_true());
	if (b == NULL) {
		fprintf(stderr, "yumnactl: '%s' is not UTF-8 text\n", argv[oi + 1]);
		return CTL_USAGE;
	}
	snprintf(path, sizeof(path), "/api/dns/%lld/import%s", (long long)id, ctl_wait_query(c));
	r = ctl_call(c, "POST", path, b, &ans);
	json_decref(b);
	if (r != CTL_OK || (r = ctl_change_check(c, &ans)) != CTL_OK)
		return r;
	bool changed = !json_is_false(json_object_get(ans.json, "changed"));
	if (!c->json && !changed) {
		printf("nothing changed: zone %s already holds this content (version %s, serial "
		       "%s)\n",
		       argv[oi], cell(json_object_get(ans.json, "version")),
		       cell(json_object_get(ans.json, "serial")));
		ctl_answer_clear(&ans);
		return CTL_OK;
	}
	if (!c->json) {
		printf("imported %s records (%s)\n", cell(json_object_get(ans.json, "imported")),
		       cell(json_object_get(ans.json, "mode")));
		json_t *soa = json_object_get(ans.json, "soa");
		if (soa != NULL && json_is_true(json_object_get(soa, "kept")))
			printf("the zone now has the file's SOA fields (its serial %s is the "
			       "controller's to move)\n",
			       cell(json_object_get(soa, "fileSerial")));
		else if (soa != NULL)
			printf("the file's SOA (serial %s) was not imported: the controller keeps "
			       "its own (--keep-soa takes its fields)\n",
			       cell(json_object_get(soa, "fileSerial")));
	}
	r = ctl_print_change(c, &ans, "zone imported");
	ctl_answer_clear(&ans);
	return r;
}

static int export_opt(int opt, const char *arg, void *ctx)
{
	*(const char **)ctx = arg;
	return 0;
}

static int zone_export(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd = &ctl_zone_cmds[10];
	static const struct option lo[] = { { "output", required_argument, NULL, 'o' }, { 0 } };
	const char *out = NULL;
	struct ctl_answer ans;
	int64_t id;
	int oi, r = ctl_getopt(cmd, argc, argv, "o:", lo, export_opt, &out, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(cmd, argc - oi, 1, 1)) != CTL_OK ||
	    (r = ctl_zone_id(c, argv[oi], &id)) != CTL_OK)
		return r;
	uint64_t version;
	if ((r = ctl_export(c, id, &ans, &version)) != CTL_OK)
		return r;
	FILE *f = stdout;
	if (out != NULL && strcmp(out, "-") != 0) {
		f = fopen(out, "w");
		if (f == NULL) {
			fprintf(stderr, "yumnactl: cannot write '%s': %s\n", out, strerror(errno));
			ctl_answer_clear(&ans);
			return CTL_USAGE;
		}
	}
	if (c->json && f == stdout) {
		json_t *j = json_pack("{s:I,s:s%}", "zoneId", (json_int_t)id, "content",
				      ans.body.data ? ans.body.data : "", ans.body.len);
		ctl_print_json(j);
		json_decref(j);
	} else {
		fwrite(ans.body.data, 1, ans.body.len, f);
	}
	if (f != stdout && fclose(f) != 0) {
		fprintf(stderr, "yumnactl: cannot write '%s': %s\n", out, strerror(errno));
		r = CTL_FAILED;
	} else if (f != stdout && c->json) {
		/* The zone went to the file: say where, as JSON too. */
		json_t *j = json_pack("{s:I,s:s,s:I}", "zoneId", (json_int_t)id, "file", out,
				      "bytes", (json_int_t)ans.body.len);
		ctl_print_json(j);
		json_decref(j);
	}
	ctl_answer_clear(&ans);
	return r;
}

/* The index of each entry is used by its command for its own usage. */
const struct ctl_cmd ctl_zone_cmds[] = {
	{ "zones", "list", zones_list, "",
	  "List every zone with its record count, serial and version; an international name\n"
	  "is shown with its A-labels (DOMAIN) and its U-labels (UNICODE)." },
	{ "zones", "create", zones_create, "[--primary ADDR[:PORT]]... [--tsig-key NAME] DOMAIN",
	  "Create a zone; it gets the controller's SOA and default NS records and is pushed to "
	  "every node.\nAn international DOMAIN may be written with U-labels "
	  "(b\u00fccher.example); it is\n"
	  "stored and served as its A-labels (xn--bcher-kva.example).\n"
	  "With --primary (up to 8 times) the zone is a secondary zone: the controller\n"
	  "transfers it from those primaries (AXFR, IXFR when offered), signed with TSIG key\n"
	  "NAME when --tsig-key is given (see 'tsig create'), and every node serves the\n"
	  "primary's data and serial; its records cannot be changed here." },
	{ "zones", "delete", zones_delete, "ZONE",
	  "Delete a zone (ZONE is its id or name); every node stops serving it." },
	{ "zones", "show", zones_show, "ZONE",
	  "Show a zone and its records (a disabled one, served by no node, marked so)." },
	{ "records", "list", records_list, "ZONE",
	  "List the records of a zone (a disabled one, served by no node, marked so)." },
	{ "records", "add", records_add, "[--ttl N] [--priority N] ZONE NAME TYPE CONTENT",
	  "Add one record. NAME is '@', relative to the zone ('www') or absolute with a final "
	  "dot;\n"
	  "CONTENT is the RDATA, without the MX/SRV priority (give --priority)." },
	{ "records", "update", records_update,
	  "[--ttl N] [--priority N] RECORD_ID NAME TYPE CONTENT",
	  "Replace one record, named by its id (see 'records list')." },
	{ "records", "replace", records_replace, "ZONE FILE",
	  "Replace every record of the zone, as one version, with the JSON array in FILE\n"
	  "('-' for stdin): [{\"name\", \"type\", \"content\", \"ttl\"?, \"priority\"?}, ...].\n"
	  "The output of 'records list --json' is taken as it is (ids and the other listed\n"
	  "fields are ignored); records left as they were keep their ids. A file\n"
	  "{\"records\": [...], \"ifVersion\": N} is refused (exit 7) if the zone is no longer\n"
	  "at version N." },
	{ "records", "delete", records_delete, "RECORD_ID", "Delete one record." },
	{ "import", NULL, zone_import,
	  "[--format bind|route53] [--replace|--merge] [--keep-soa] ZONE FILE",
	  "Import a zone file (BIND/RFC 1035) or Route 53 ResourceRecordSets JSON into ZONE as "
	  "one\n"
	  "version. --merge (the default) replaces only the RRsets the file names; --replace\n"
	  "replaces every record. The whole file is checked first: on any error nothing is\n"
	  "imported and every error is printed with its line. The file's SOA is not imported\n"
	  "unless --keep-soa: then its MNAME, RNAME and timers become the zone's (see zones\n"
	  "set-soa for the bounds); the serial stays the controller's. Importing what the zone\n"
	  "already holds changes nothing (no new version, no new serial)." },
	{ "export", NULL, zone_export, "[-o FILE] ZONE",
	  "Print the zone as a zone file (accepted by named-checkzone and kzonecheck). --json\n"
	  "prints {\"zoneId\", \"content\"}, or with -o {\"zoneId\", \"file\", \"bytes\"}." },
	{ "zones", "retrieve", zones_retrieve, "ZONE",
	  "Refresh a secondary zone from its primaries now (as a NOTIFY does); 'zones show'\n"
	  "shows its state and serial." },
	{ 0 },
};
