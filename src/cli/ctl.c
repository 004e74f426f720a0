#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/err.h"
#include "ctl.h"
#include "http/client.h"
#include "dns/dns.h"

/* Answers up to this size: a zone file export of a large zone fits. */
#define ANSWER_MAX (512u << 20)
#define FILE_MAX (64u << 20)

int ctl_status_exit(long status)
{
	if (status >= 200 && status < 300)
		return CTL_OK;
	switch (status) {
	case 401:
	case 403:
		return CTL_DENIED;
	case 404:
		return CTL_NOT_FOUND;
	case 400:
	case 409:
	case 413:
	case 415:
	case 422:
		return CTL_REFUSED;
	case 501:
		return CTL_UNSUPPORTED;
	default:
		return CTL_FAILED;
	}
}

void ctl_answer_clear(struct ctl_answer *ans)
{
	json_decref(ans->json);
	ans->json = NULL;
	buf_free(&ans->body);
	ans->status = 0;
}

int ctl_call_raw(struct ctl *c, const char *method, const char *path, const json_t *body,
		 struct ctl_answer *ans)
{
	char *text = NULL;

	memset(ans, 0, sizeof(*ans));
	buf_init(&ans->body, ANSWER_MAX);
	snprintf(ans->request, sizeof(ans->request), "%s %s", method, path);
	if (c->http == NULL) {
		int r = ctl_connect(c);
		if (r != CTL_OK)
			return r;
	}
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL) {
			fprintf(stderr, "yumnactl: out of memory\n");
			return CTL_FAILED;
		}
	}
	int r = http_client_request(c->http, method, path, text, text ? strlen(text) : 0,
				    &ans->status, &ans->body);
	free(text);
	if (r < 0) {
		buf_free(&ans->body);
		fprintf(stderr, "yumnactl: the controller at %s did not answer %s %s: %s\n", c->url,
			method, path, err_str(r));
		return CTL_UNREACHABLE;
	}
	if (ans->body.len > 0)
		ans->json = json_loadb(ans->body.data, ans->body.len, 0, NULL);
	return CTL_OK;
}

void ctl_print_error(const struct ctl_answer *ans)
{
	const char *msg = json_string_value(json_object_get(ans->json, "error"));
	fprintf(stderr, "yumnactl: error (HTTP %ld): %s\n", ans->status,
		msg ? msg : "the controller gave no reason");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(ans->json, "errors"), i, e) {
		json_t *line = json_object_get(e, "line"), *path = json_object_get(e, "path");
		const char *m = json_string_value(json_object_get(e, "message"));
		if (json_is_integer(line))
			fprintf(stderr, "  line %lld: %s\n", (long long)json_integer_value(line),
				m);
		else if (json_is_string(path))
			fprintf(stderr, "  %s: %s\n", json_string_value(path), m);
		else
			fprintf(stderr, "  %s\n", m);
	}
}

int ctl_answer_foreign(struct ctl *c, struct ctl_answer *ans, const char *why)
{
	fprintf(stderr,
		"yumnactl: %s at %s: HTTP %ld but %s, not the controller's answer; is that the "
		"controller's URL?\n",
		ans->request, c->url, ans->status, why);
	ctl_answer_clear(ans);
	return CTL_UNREACHABLE;
}

/* A 2xx of a route that answers JSON is the controller's only if its body
 * is JSON: a web server or a proxy's portal page at the URL answers 200
 * too, and a command must not read its missing fields as 0 or true. */
static int answer_check(struct ctl *c, struct ctl_answer *ans, bool json)
{
	int r = ctl_status_exit(ans->status);
	if (r == CTL_OK && json && ans->json == NULL)
		return ctl_answer_foreign(c, ans, ans->body.len > 0 ? "not JSON" : "no body");
	if (r != CTL_OK) {
		if (c->json && ans->json != NULL)
			ctl_print_json(ans->json);
		ctl_print_error(ans);
		ctl_answer_clear(ans);
	}
	return r;
}

int ctl_answer_check(struct ctl *c, struct ctl_answer *ans)
{
	return answer_check(c, ans, true);
}

int ctl_call(struct ctl *c, const char *method, const char *path, const json_t *body,
	     struct ctl_answer *ans)
{
	int r = ctl_call_raw(c, method, path, body, ans);
	return r != CTL_OK ? r : answer_check(c, ans, true);
}

/* The version an export was made from: its first line says it
 * (transfer_export(): "; zone Z exported by yumna-whm (version N, ...)"). */
static int export_version(const struct buf *b, uint64_t *ret)
{
	if (b->data == NULL)
		return -EINVAL;
	const char *nl = memchr(b->data, '\n', b->len);
	size_t first = nl != NULL ? (size_t)(nl - b->data) : b->len;
	char line[512];
	snprintf(line, sizeof(line), "%.*s", (int)(first < sizeof(line) ? first : 0), b->data);
	const char *v = strstr(line, "(version ");
	char *end;
	errno = 0;
	unsigned long long n = v != NULL ? strtoull(v + 9, &end, 10) : 0;
	if (v == NULL || errno != 0 || n == 0 || *end != ',')
		return -EINVAL;
	*ret = n;
	return 0;
}

int ctl_export(struct ctl *c, int64_t zone_id, struct ctl_answer *ans, uint64_t *version)
{
	char path[96];
	snprintf(path, sizeof(path), "/api/dns/%lld/export", (long long)zone_id);
	int r = ctl_call_raw(c, "GET", path, NULL, ans);
	if (r == CTL_OK)
		r = answer_check(c, ans, false);
	if (r == CTL_OK && export_version(&ans->body, version) < 0)
		r = ctl_answer_foreign(c, ans, "no zone export (its first line names no version)");
	return r;
}

static const char *type_name(json_type type)
{
	switch (type) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		break;
	}
	return "null";
}

int ctl_answer_need(struct ctl *c, struct ctl_answer *ans, ...)
{
	char why[128];
	const char *key;
	va_list ap;

	if (!json_is_object(ans->json))
		return ctl_answer_foreign(c, ans, "not a JSON object");
	va_start(ap, ans);
	while ((key = va_arg(ap, const char *)) != NULL) {
		json_type type = (json_type)va_arg(ap, int);
		json_t *v = json_object_get(ans->json, key);
		if (v != NULL && json_typeof(v) == type)
			continue;
		va_end(ap);
		if (type == JSON_TRUE)
			snprintf(why, sizeof(why), "no \"%s\": true", key);
		else
			snprintf(why, sizeof(why), "no \"%s\" %s", key, type_name(type));
		return ctl_answer_foreign(c, ans, why);
	}
	va_end(ap);
	return CTL_OK;
}

int ctl_answer_array(struct ctl *c, struct ctl_answer *ans)
{
	return json_is_array(ans->json) ? CTL_OK : ctl_answer_foreign(c, ans, "not a JSON array");
}

int ctl_get_list(struct ctl *c, const char *path, struct ctl_answer *ans)
{
	int r = ctl_call(c, "GET", path, NULL, ans);
	return r == CTL_OK ? ctl_answer_array(c, ans) : r;
}

int ctl_call_ok(struct ctl *c, const char *method, const char *path, const json_t *body,
		struct ctl_answer *ans)
{
	int r = ctl_call(c, method, path, body, ans);
	return r != CTL_OK ? r : ctl_answer_need(c, ans, "success", JSON_TRUE, NULL);
}

const char *ctl_wait_query(const struct ctl *c)
{
	return c->wait ? "?wait=all" : "";
}

void ctl_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (s != NULL) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
}

int ctl_parse_id(const char *what, const char *arg, int64_t *ret)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (arg[0] < '1' || arg[0] > '9' || *end != '\0' || errno != 0 || v <= 0) {
		fprintf(stderr, "yumnactl: %s must be a positive number, not '%s'\n", what, arg);
		return CTL_USAGE;
	}
	*ret = v;
	return CTL_OK;
}

int ctl_zone_id(struct ctl *c, const char *arg, int64_t *ret)
{
	struct ctl_answer ans;
	char want[300];

	if (arg[0] >= '1' && arg[0] <= '9' && strspn(arg, "0123456789") == strlen(arg))
		return ctl_parse_id("a zone id", arg, ret);
	/* The name as the controller stores it: an international name given
	 * with U-labels ("bücher.example") is its A-labels. */
	char norm[DNAME_TEXT_MAX];
	struct errmsg derr;
	snprintf(want, sizeof(want), "%s",
		 dname_zone_normalize(arg, norm, &derr) == 0 ? norm : arg);
	size_t n = strlen(want);
	if (n > 1 && want[n - 1] == '.')
		want[n - 1] = '\0';
	int r = ctl_get_list(c, "/api/dns", &ans);
	if (r != CTL_OK)
		return r;
	size_t i;
	json_t *z;
	json_array_foreach(ans.json, i, z) {
		const char *d = json_string_value(json_object_get(z, "domain"));
		if (d != NULL && strcasecmp(d, want) == 0) {
			*ret = json_integer_value(json_object_get(z, "id"));
			ctl_answer_clear(&ans);
			return CTL_OK;
		}
	}
	ctl_answer_clear(&ans);
	fprintf(stderr, "yumnactl: no zone named '%s'\n", arg);
	return CTL_NOT_FOUND;
}

int ctl_zone_read(struct ctl *c, int64_t id, struct ctl_answer *zone, struct ctl_answer *records)
{
	char path[96];
	snprintf(path, sizeof(path), "/api/dns/%lld", (long long)id);
	int r = ctl_call(c, "GET", path, NULL, zone);
	if (r != CTL_OK || (r = ctl_answer_need(c, zone, "domain", JSON_STRING, "version",
						JSON_INTEGER, NULL)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "/api/dns/%lld/records", (long long)id);
	r = ctl_call(c, "GET", path, NULL, records);
	if (r == CTL_OK)
		r = ctl_answer_array(c, records);
	if (r != CTL_OK)
		ctl_answer_clear(zone);
	return r;
}

int ctl_read_file(const char *path, struct buf *out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char chunk[65536];
	size_t n;
	int r = 0;

	buf_init(out, FILE_MAX);
	if (f == NULL) {
		fprintf(stderr, "yumnactl: cannot open '%s': %s\n", path, strerror(errno));
		return CTL_USAGE;
	}
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		r = buf_append(out, chunk, n);
	if (r == 0 && ferror(f))
		r = -EIO;
	if (f != stdin)
		fclose(f);
	if (r == 0 && out->len == 0)
		r = buf_append(out, "", 0);
	if (r < 0) {
		fprintf(stderr, "yumnactl: cannot read '%s': %s\n", path,
			r == -E2BIG ? "larger than 64 MiB" : strerror(-r));
		buf_free(out);
		return CTL_USAGE;
	}
	return CTL_OK;
}

/* --- changes ------------------------------------------------------------------ */

int ctl_change_check(struct ctl *c, struct ctl_answer *ans)
{
	int r = ctl_answer_need(c, ans, "success", JSON_TRUE, NULL);
	if (r == CTL_OK && c->wait)
		r = ctl_answer_need(c, ans, "nodes", JSON_ARRAY, NULL);
	if (r == CTL_OK && c->wait && !json_is_boolean(json_object_get(ans->json, "synced")))
		r = ctl_answer_foreign(c, ans, "no \"synced\" boolean");
	return r;
}

/* 'zone_gone': the change deletes the zone, which no node is to serve. */
static int print_change(struct ctl *c, struct ctl_answer *ans, const char *what, bool zone_gone)
{
	int r = ctl_change_check(c, ans);
	if (r != CTL_OK)
		return r;
	const json_t *j = ans->json;
	json_t *nodes = json_object_get(j, "nodes");
	/* The controller's ?wait=all is "synced" once every cluster node
	 * acknowledged: at once when there is none. --wait asks for the
	 * change served, and then no node serves it. */
	bool nowhere = c->wait && !zone_gone && json_array_size(nodes) == 0;
	bool partial = c->wait && (nowhere || !json_is_true(json_object_get(j, "synced")));

	if (nowhere)
		fprintf(stderr, "yumnactl: no cluster nodes: the change is stored, but nothing "
				"serves the zone\n");
	if (c->json) {
		ctl_print_json(j);
		return partial ? CTL_PARTIAL : CTL_OK;
	}
	printf("%s: zone %s, version %s, serial %s", what, cell(json_object_get(j, "zoneId")),
	       cell(json_object_get(j, "version")), cell(json_object_get(j, "serial")));
	if (json_object_get(j, "id") != NULL)
		printf(", record %s", cell(json_object_get(j, "id")));
	printf("\n");
	if (c->wait) {
		size_t i;
		json_t *n;
		json_array_foreach(nodes, i, n) {
			json_t *e = json_object_get(n, "error");
			printf("  node %-12s %s%s%s\n", cell(json_object_get(n, "hostname")),
			       json_is_true(json_object_get(n, "success")) ? "applied"
									   : "NOT applied",
			       json_is_string(e) ? ": " : "", json_is_string(e) ? cell(e) : "");
		}
		if (partial && !nowhere)
			fprintf(stderr,
				"yumnactl: not every node confirmed the change in time; the "
				"controller keeps pushing it\n");
	}
	return partial ? CTL_PARTIAL : CTL_OK;
}

int ctl_print_change(struct ctl *c, struct ctl_answer *ans, const char *what)
{
	return print_change(c, ans, what, false);
}

static int send_change(struct ctl *c, const char *method, const char *path, json_t *body,
		       const char *what, bool zone_gone)
{
	struct ctl_answer ans;
	int r = ctl_call(c, method, path, body, &ans);
	json_decref(body);
	if (r != CTL_OK)
		return r;
	r = print_change(c, &ans, what, zone_gone);
	ctl_answer_clear(&ans);
	return r;
}

int ctl_send_change(struct ctl *c, const char *method, const char *path, json_t *body,
		    const char *what)
{
	return send_change(c, method, path, body, what, false);
}

int ctl_send_zone_delete(struct ctl *c, const char *path)
{
	return send_change(c, "DELETE", path, NULL, "zone deleted", true);
}

/* One record of an RRset as a line of a diff. */
static void diff_record(FILE *f, char sign, const json_t *rrset, const json_t *rec)
{
	const char *type = cell(json_object_get(rrset, "type"));
	bool prio = strcmp(type, "MX") == 0 || strcmp(type, "SRV") == 0;
	fprintf(f, "%c %s %s %s %s%s%s%s\n", sign, cell(json_object_get(rrset, "name")),
		cell(json_object_get(rec, "ttl")), type,
		prio ? cell(json_object_get(rec, "priority")) : "", prio ? " " : "",
		cell(json_object_get(rec, "content")),
		json_is_true(json_object_get(rec, "disabled")) ? " (disabled)" : "");
}

/* The records under 'key' of one RRset of a diff. */
static void diff_rrset(FILE *f, const json_t *rrset, const char *key, char sign)
{
	size_t k;
	json_t *rec;
	json_array_foreach(json_object_get(rrset, key), k, rec)
		diff_record(f, sign, rrset, rec);
}

void ctl_print_rrset_diff(FILE *f, const json_t *d)
{
	size_t i;
	json_t *rrset;
	json_array_foreach(json_object_get(d, "removed"), i, rrset)
		diff_rrset(f, rrset, "records", '-');
	json_array_foreach(json_object_get(d, "added"), i, rrset)
		diff_rrset(f, rrset, "records", '+');
	json_array_foreach(json_object_get(d, "changed"), i, rrset) {
		diff_rrset(f, rrset, "before", '-');
		diff_rrset(f, rrset, "after", '+');
	}
}

/* --- tables ---------------------------------------------------------------- */

struct table {
	unsigned ncols;
	size_t nrows, alloc;
	char **cells; /* row-major, header first */
};

struct table *table_new(unsigned ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		abort();
	t->ncols = ncols;
	table_add(t, headers);
	return t;
}

void table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->alloc) {
		t->alloc = t->alloc ? 2 * t->alloc : 16;
		t->cells = realloc(t->cells, t->alloc * t->ncols * sizeof(char *));
		if (t->cells == NULL)
			abort();
	}
	for (unsigned i = 0; i < t->ncols; i++) {
		char *s = strdup(cells[i] ? cells[i] : "-");
		if (s == NULL)
			abort();
		/* One line per row, whatever a value holds. */
		for (char *p = s; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		t->cells[t->nrows * t->ncols + i] = s;
	}
	t->nrows++;
}

/* The width of 'cell' in characters: international names are UTF-8, and
 * a column of them lines up by characters, not bytes. */
static size_t text_width(const char *cell)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)cell; *p != '\0'; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

void table_print_free(struct table *t)
{
	size_t w[32] = { 0 };
	for (size_t r = 0; r < t->nrows; r++)
		for (unsigned i = 0; i < t->ncols && i < 32; i++) {
			size_t l = text_width(t->cells[r * t->ncols + i]);
			if (l > w[i])
				w[i] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (unsigned i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];
			if (i + 1 == t->ncols) {
				printf("%s\n", s);
				continue;
			}
			size_t pad = i < 32 ? w[i] - text_width(s) : 0;
			printf("%s%*s  ", s, (int)pad, "");
		}
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

const char *cell(const json_t *v)
{
	static char ring[CELL_RING][64];
	static unsigned next;
	char *out = ring[next++ % CELL_RING];

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(out, 64, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, 64, "%.1f", json_real_value(v));
	else if (json_is_true(v))
		return "yes";
	else if (json_is_false(v))
		return "no";
	else
		return "-";
	return out;
}

/* --- command lines ------------------------------------------------------------ */

void ctl_cmd_usage(const struct ctl_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: yumnactl [global options] %s%s%s %s\n\n%s\n", cmd->group,
		cmd->name ? " " : "", cmd->name ? cmd->name : "", cmd->args ? cmd->args : "",
		cmd->help);
}

int ctl_getopt(const struct ctl_cmd *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int (*on_opt)(int opt, const char *arg, void *ctx),
	       void *ctx, int *ret_optind)
{
	static const struct option none[] = { { 0 } };
	struct option all[24];
	char so[64];
	size_t n = 0;

	for (const struct option *o = longopts ? longopts : none; o->name && n < 22; o++)
		all[n++] = *o;
	all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	all[n] = (struct option){ 0 };
	snprintf(so, sizeof(so), "h%s", shortopts ? shortopts : "");
	optind = 0;
	opterr = 1;
	for (;;) {
		int opt = getopt_long(argc, argv, so, all, NULL);
		if (opt == -1)
			break;
		if (opt == 'h') {
			ctl_cmd_usage(cmd, stdout);
			return -1;
		}
		if (opt == '?' || on_opt == NULL || on_opt(opt, optarg, ctx) != 0) {
			ctl_cmd_usage(cmd, stderr);
			return CTL_USAGE;
		}
	}
	*ret_optind = optind;
	return 0;
}

int ctl_args(const struct ctl_cmd *cmd, int n, int min, int max)
{
	if (n >= min && n <= max)
		return CTL_OK;
	fprintf(stderr, "yumnactl: %s%s%s: expected %s\n", cmd->group, cmd->name ? " " : "",
		cmd->name ? cmd->name : "", cmd->args && cmd->args[0] ? cmd->args : "no arguments");
	ctl_cmd_usage(cmd, stderr);
	return CTL_USAGE;
}

int ctl_no_opts(const struct ctl_cmd *cmd, int argc, char **argv, int min, int max, int *oi)
{
	int r = ctl_getopt(cmd, argc, argv, NULL, NULL, NULL, NULL, oi);
	if (r != 0)
		return r;
	return ctl_args(cmd, argc - *oi, min, max);
}

bool ctl_name_path(const char *route, const char *name, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/", route);

	return n > 0 && (size_t)n < len && http_pct_encode(name, path + n, len - (size_t)n) == 0;
}

int ctl_delete_by_name(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv,
		       const char *route, const char *what, const char *done)
{
	struct ctl_answer ans;
	char path[1024];
	int oi, r = ctl_no_opts(cmd, argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if (!ctl_name_path(route, argv[oi], path, sizeof(path)))
		return ctl_args(cmd, 0, 1, 1);
	if ((r = ctl_call_ok(c, "DELETE", path, NULL, &ans)) != CTL_OK)
		return r;
	if (c->json)
		ctl_print_json(ans.json);
	else
		printf("%s %s %s\n", what, argv[oi], done);
	ctl_answer_clear(&ans);
	return CTL_OK;
}

int ctl_delete_by_id(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv,
		     const char *what, const char *route, const char *done)
{
	struct ctl_answer ans;
	char path[128], label[64];
	int64_t id;
	int oi, r = ctl_no_opts(cmd, argc, argv, 1, 1, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	snprintf(label, sizeof(label), "the %s id", what);
	if ((r = ctl_parse_id(label, argv[oi], &id)) != CTL_OK)
		return r;
	snprintf(path, sizeof(path), "%s/%lld", route, (long long)id);
	if ((r = ctl_call_ok(c, "DELETE", path, NULL, &ans)) != CTL_OK)
		return r;
	if (c->json)
		ctl_print_json(ans.json);
	else
		printf("%s %lld %s\n", what, (long long)id, done);
	ctl_answer_clear(&ans);
	return CTL_OK;
}
