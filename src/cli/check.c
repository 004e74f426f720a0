/* yumnactl check: a zone file checked here, as the controller's import
 * would check it (check.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "check.h"
#include "ctl.h"
#include "json/jsonx.h"

#define TYPE_SOA 6

/* The name after the first "$ORIGIN" that starts a line, or NULL. */
static const char *origin_directive(const char *text, size_t len, size_t *ret_len)
{
	for (size_t i = 0; i < len; i++) {
		if ((i > 0 && text[i - 1] != '\n') || len - i < 8 ||
		    strncasecmp(text + i, "$ORIGIN", 7) != 0 ||
		    (text[i + 7] != ' ' && text[i + 7] != '\t'))
			continue;
		size_t p = i + 7;
		while (p < len && (text[p] == ' ' || text[p] == '\t'))
			p++;
		size_t n = 0;
		while (p + n < len && strchr(" \t\r\n;", text[p + n]) == NULL)
			n++;
		*ret_len = n;
		return n > 0 ? text + p : NULL;
	}
	return NULL;
}

/* The owner of a zone file's SOA, read under the root, so that "@" and
 * relative names before any $ORIGIN are names under ".". */
static int soa_owner(const char *text, size_t len, char ret[DNAME_TEXT_MAX])
{
	struct zonefile zf;
	int r = zonefile_parse(text, len, ".", CHECK_DEFAULT_TTL, CHECK_MAX_RECORDS, &zf);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; r == -ENOENT && i < zf.n; i++)
		if (zf.rrs[i].rr.type == TYPE_SOA && strcmp(zf.rrs[i].rr.owner, ".") != 0) {
			snprintf(ret, DNAME_TEXT_MAX, "%s", zf.rrs[i].rr.owner);
			r = 0;
		}
	zonefile_clear(&zf);
	return r;
}

/* The Name of the first Route 53 RRset of Type SOA. */
static int route53_soa_owner(const char *text, size_t len, char *ret, size_t ret_len)
{
	json_t *doc = json_loadb(text, len, 0, NULL);
	json_t *sets = json_is_object(doc) ? json_object_get(doc, "ResourceRecordSets") : doc;
	size_t i;
	json_t *set;
	int r = -ENOENT;
	json_array_foreach(sets, i, set) {
		const char *type = json_string_value(json_object_get(set, "Type"));
		const char *name = json_string_value(json_object_get(set, "Name"));
		if (type != NULL && name != NULL && strcasecmp(type, "SOA") == 0) {
			snprintf(ret, ret_len, "%s", name);
			r = 0;
			break;
		}
	}
	json_decref(doc);
	return r;
}

int check_find_origin(enum import_format fmt, const char *text, size_t len,
		      char ret[DNAME_TEXT_MAX], struct errmsg *err)
{
	char name[DNAME_TEXT_MAX + 2];
	size_t n = 0;
	int r;

	if (fmt == IMPORT_ROUTE53) {
		r = route53_soa_owner(text, len, name, sizeof(name));
	} else {
		const char *o = origin_directive(text, len, &n);
		if (o != NULL && n < sizeof(name)) {
			snprintf(name, sizeof(name), "%.*s", (int)n, o);
			r = 0;
		} else {
			r = soa_owner(text, len, name);
		}
	}
	if (r < 0)
		return r;
	return dname_zone_normalize(name, ret, err) < 0 ? ERR_INVALID : 0;
}

int check_soa_parse(const char *rdata, struct check_soa *ret)
{
	uint32_t *num[5] = { &ret->serial, &ret->refresh, &ret->retry, &ret->expire,
			     &ret->minimum };
	const char *p = rdata;
	for (int i = 0; i < 7; i++) {
		size_t n = strcspn(p, " ");
		if (n == 0)
			return -EINVAL;
		if (i < 2) {
			if (n >= DNAME_TEXT_MAX)
				return -EINVAL;
			snprintf(i == 0 ? ret->mname : ret->rname, DNAME_TEXT_MAX, "%.*s", (int)n,
				 p);
		} else {
			char *end;
			errno = 0;
			unsigned long v = strtoul(p, &end, 10);
			if (errno != 0 || end != p + n || v > UINT32_MAX)
				return -EINVAL;
			*num[i - 2] = (uint32_t)v;
		}
		p += n;
		if (*p == ' ')
			p++;
	}
	return *p == '\0' ? 0 : -EINVAL;
}

/* The SOA the whole-zone check gives the zone: the file's, or one that
 * stands for the controller's own. */
static void soa_for_check(const struct import_result *c, struct check_soa *fields,
			  struct soa_defaults *soa)
{
	*soa = (struct soa_defaults){ "ns.invalid.", "hostmaster.invalid.", 10800, 3600, 604800,
				      3600,	     CHECK_DEFAULT_TTL };
	if (c->soa_rdata == NULL || check_soa_parse(c->soa_rdata, fields) < 0)
		return;
	*soa =
	    (struct soa_defaults){ fields->mname,  fields->rname,   fields->refresh,  fields->retry,
				   fields->expire, fields->minimum, CHECK_DEFAULT_TTL };
}

int check_text(enum import_format fmt, const char *text, size_t len, const char *origin,
	       struct import_result *ret)
{
	static const struct zone_limits lim = { CHECK_MAX_RRSET, CHECK_MAX_RECORDS };
	struct check_soa fields;
	struct soa_defaults soa;

	int r = import_read(fmt, text, len, origin, CHECK_DEFAULT_TTL, CHECK_MAX_RECORDS, ret);
	if (r < 0 || json_array_size(ret->errors) > 0)
		return r;
	soa_for_check(ret, &fields, &soa);
	r = import_check_zone(ret, fmt, &lim, &soa);
	if (r < 0)
		import_result_clear(ret);
	return r;
}

void check_print_errors(const char *name, const struct import_result *c)
{
	size_t i;
	json_t *e;
	json_array_foreach(c->errors, i, e) {
		json_t *line = json_object_get(e, "line"), *path = json_object_get(e, "path");
		const char *m = json_string_value(json_object_get(e, "message"));
		if (json_is_integer(line))
			fprintf(stderr, "%s:%lld: %s\n", name, (long long)json_integer_value(line),
				m);
		else if (json_is_string(path))
			fprintf(stderr, "%s: %s: %s\n", name, json_string_value(path), m);
		else
			fprintf(stderr, "%s: %s\n", name, m);
	}
}

/* --- the command ------------------------------------------------------------------ */

struct check_opts {
	const char *origin;
	enum import_format fmt;
};

static int check_opt(int opt, const char *arg, void *ctx)
{
	struct check_opts *o = ctx;
	if (opt == 'o') {
		o->origin = arg;
		return 0;
	}
	if (strcmp(arg, "bind") != 0 && strcmp(arg, "route53") != 0) {
		fprintf(stderr, "yumnactl: --format is bind or route53\n");
		return -1;
	}
	o->fmt = strcmp(arg, "bind") == 0 ? IMPORT_BIND : IMPORT_ROUTE53;
	return 0;
}

static int check(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "origin", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ 0 },
	};
	struct check_opts o = { NULL, IMPORT_BIND };
	char origin[DNAME_TEXT_MAX];
	struct import_result res;
	struct errmsg err;
	struct buf file;
	int oi, r = ctl_getopt(&ctl_check_cmds[0], argc, argv, "f:", lo, check_opt, &o, &oi);
	if (r != 0)
		return r < 0 ? CTL_OK : r;
	if ((r = ctl_args(&ctl_check_cmds[0], argc - oi, 1, 1)) != CTL_OK)
		return r;
	const char *name = argv[oi];
	if ((r = ctl_read_file(name, &file)) != CTL_OK)
		return r;
	if (o.origin != NULL)
		r = dname_zone_normalize(o.origin, origin, &err) < 0 ? ERR_INVALID : 0;
	else
		r = check_find_origin(o.fmt, file.data, file.len, origin, &err);
	if (r == -ENOENT) {
		fprintf(stderr,
			"yumnactl: %s names no zone: it has no %s; give the zone with "
			"--origin ZONE\n",
			name,
			o.fmt == IMPORT_BIND ? "$ORIGIN line and no SOA with an absolute owner name"
					     : "SOA RRset");
		buf_free(&file);
		return CTL_USAGE;
	}
	if (r < 0) {
		fprintf(stderr, "yumnactl: %s: the zone name: %s\n", name,
			r == -ENOMEM ? "out of memory" : err.text);
		buf_free(&file);
		return r == -ENOMEM ? CTL_FAILED : CTL_USAGE;
	}
	r = check_text(o.fmt, file.data, file.len, origin, &res);
	buf_free(&file);
	if (r < 0) {
		fprintf(stderr, "yumnactl: out of memory\n");
		return CTL_FAILED;
	}
	size_t n_err = json_array_size(res.errors), n_rec = json_array_size(res.records);
	if (c->json) {
		json_t *j = json_pack("{s:s,s:s,s:b,s:I,s:b,s:O}", "file", name, "origin", origin,
				      "valid", n_err == 0, "records", (json_int_t)n_rec, "soa",
				      res.soa_seen, "errors", res.errors);
		ctl_print_json(j);
		json_decref(j);
	} else if (n_err == 0) {
		printf("%s: zone %s, %zu records%s: OK\n", name, origin, n_rec,
		       res.soa_seen ? " and an SOA" : "");
	}
	if (n_err > 0) {
		check_print_errors(name, &res);
		fprintf(stderr, "yumnactl: %s: %zu error%s; the controller would refuse it\n", name,
			n_err, n_err > 1 ? "s" : "");
	}
	import_result_clear(&res);
	return n_err == 0 ? CTL_OK : CTL_REFUSED;
}

const struct ctl_cmd ctl_check_cmds[] = {
	{ "check", NULL, check, "[--origin ZONE] [--format bind|route53] FILE",
	  "Check a zone file (or Route 53 JSON) here, without a controller and without importing\n"
	  "it: every record with the rules of the controller's import, then the zone as a whole\n"
	  "(CNAME beside other data, NS at the apex, the controller's default limits). Each\n"
	  "problem is printed with its line; the exit code is 0 for a valid file, 7 otherwise.\n"
	  "The zone is --origin, else the file's first $ORIGIN, else the owner of its SOA.\n"
	  "--json prints {\"file\", \"origin\", \"valid\", \"records\", \"soa\", \"errors\"}." },
	{ 0 },
};
