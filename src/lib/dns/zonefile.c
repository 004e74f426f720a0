/* Zone files through libzscanner, each record then checked by rr_parse().
 *
 * The scanner turns the file into wire-form records; libknot prints each
 * RDATA back as text, and that text goes through rr_parse() like a record
 * sent as JSON, so a zone file can hold nothing the API would refuse. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/rdata.h>
#include <libknot/rrset-dump.h>
#include <libknot/rrset.h>
#include <libzscanner/error.h>
#include <libzscanner/scanner.h>

#include "base/err.h"
#include "base/log.h"
#include "dns/zonefile.h"
#include "dns_internal.h"

/* Every byte as \DDD, quotes and separators: the longest text of one RDATA. */
#define DUMP_MAX (4u * KNOT_RDATA_MAXLEN + 4096u)

int zonefile_add_error(struct zonefile *zf, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	if (zf->n_errs >= ZONEFILE_ERRORS_MAX) {
		zf->more_errs = true;
		return 0;
	}
	if (zf->errs == NULL) {
		zf->errs = calloc(ZONEFILE_ERRORS_MAX, sizeof(*zf->errs));
		if (zf->errs == NULL)
			return -ENOMEM;
	}
	struct zonefile_error *e = &zf->errs[zf->n_errs++];
	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return 0;
}

void zonefile_clear(struct zonefile *zf)
{
	if (zf == NULL)
		return;
	for (size_t i = 0; i < zf->n; i++)
		rr_clear(&zf->rrs[i].rr);
	free(zf->rrs);
	free(zf->errs);
	memset(zf, 0, sizeof(*zf));
}

/* True if 'name' is 'dbl' (the zone name twice) or ends with '.' 'dbl':
 * by the zone file rules "mail.example.com" in zone example.com. is
 * mail.example.com.example.com., almost surely a forgotten final dot. The
 * API refuses such names (dns.h, the trailing-dot rule); so does import. */
static bool name_doubled(const char *name, size_t len, const char *dbl)
{
	size_t dl = strlen(dbl);
	if (len < dl || strncmp(name + len - dl, dbl, dl) != 0)
		return false;
	return len == dl || name[len - dl - 1] == '.';
}

/* The same for the names inside canonical RDATA text: whole words only. */
static bool content_doubled(uint16_t type, const char *content, const char *dbl)
{
	switch (type) {
	case KNOT_RRTYPE_NS:
	case KNOT_RRTYPE_CNAME:
	case KNOT_RRTYPE_DNAME:
	case KNOT_RRTYPE_PTR:
	case KNOT_RRTYPE_MX:
	case KNOT_RRTYPE_SRV:
	case KNOT_RRTYPE_NAPTR:
	case KNOT_RRTYPE_SOA:
	case KNOT_RRTYPE_MINFO:
	case KNOT_RRTYPE_RP:
	case KNOT_RRTYPE_AFSDB:
	case KNOT_RRTYPE_KX:
	case KNOT_RRTYPE_LP:
	case KNOT_RRTYPE_SVCB:
	case KNOT_RRTYPE_HTTPS:
	case KNOT_RRTYPE_IPSECKEY:
		break;
	default:
		return false;
	}
	const char *p = content;
	while (*p != '\0') {
		size_t wl = strcspn(p, " ");
		if (name_doubled(p, wl, dbl))
			return true;
		p += wl;
		p += strspn(p, " ");
	}
	return false;
}

/* The character-strings written after the last bare "TXT" in the record's
 * text 'p'..'end' (comments and parentheses skipped); 0 if unknown. */
static size_t raw_txt_strings(const char *p, const char *end)
{
	size_t count = 0;

	while (p < end) {
		if (*p == ';') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '(' || *p == ')') {
			p++;
			continue;
		}
		const char *tok = p;
		bool quoted = *p == '"';
		if (quoted)
			p++;
		while (p < end) {
			if (*p == '\\' && p + 1 < end) {
				p += 2;
				continue;
			}
			if (quoted ? *p == '"'
				   : (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
				      *p == '(' || *p == ')' || *p == ';' || *p == '"'))
				break;
			p++;
		}
		if (quoted && p < end)
			p++;
		if (!quoted && p - tok == 3 && strncasecmp(tok, "TXT", 3) == 0)
			count = 0;
		else
			count++;
	}
	return count;
}

/* libzscanner splits a TXT string over 255 bytes into several without a
 * word (RFC 1035 section 3.3 caps them): the API refuses such a string
 * (rr_parse), and so does import. Only a 255-byte string can be the first
 * part of such a split; then the strings written must match the wire. */
static bool txt_split(const uint8_t *rd, size_t len, const char *from, const char *to)
{
	size_t n = 0;
	bool full = false;
	for (size_t p = 0; p < len; p += 1 + rd[p]) {
		n++;
		full |= rd[p] == 255;
	}
	if (!full)
		return false;
	size_t written = raw_txt_strings(from, to);
	return written != 0 && written != n;
}

struct reader {
	zs_scanner_t *s;
	const char *origin;
	char dbl[2 * DNAME_TEXT_MAX];
	size_t max_records;
	unsigned flags; /* ZONEFILE_* */
	char *dump;
	size_t dump_alloc;
	uint16_t rdbuf[KNOT_RDATA_MAXLEN / 2 + 4];
	struct zonefile *zf;
	const char *from; /* the input the current record was read from */
};

/* The scanner's current record as RDATA text (libknot's canonical form). */
static int dump_rdata(struct reader *rd, const char **ret)
{
	zs_scanner_t *s = rd->s;
	knot_rrset_t rrset;
	knot_rdata_t *kr = (knot_rdata_t *)rd->rdbuf;

	knot_rdata_init(kr, (uint16_t)s->r_data_length, s->r_data);
	knot_rrset_init(&rrset, s->r_owner, s->r_type, KNOT_CLASS_IN, s->r_ttl);
	rrset.rrs.count = 1;
	rrset.rrs.size = (uint32_t)knot_rdata_size((uint16_t)s->r_data_length);
	rrset.rrs.rdata = kr;
	for (size_t want = 4096;; want *= 2) {
		if (want > rd->dump_alloc) {
			char *p = realloc(rd->dump, want);
			if (p == NULL)
				return -ENOMEM;
			rd->dump = p;
			rd->dump_alloc = want;
		}
		int r =
		    knot_rrset_txt_dump_data(&rrset, 0, rd->dump, rd->dump_alloc, &dns_dump_style);
		if (r >= 0) {
			while (r > 0 && rd->dump[r - 1] == ' ')
				r--;
			rd->dump[r] = '\0';
			*ret = rd->dump;
			return 0;
		}
		if (want >= DUMP_MAX)
			return -EINVAL;
	}
}

static int on_record(struct reader *rd)
{
	zs_scanner_t *s = rd->s;
	struct zonefile *zf = rd->zf;
	unsigned long line = (unsigned long)s->line_counter;
	char text[KNOT_DNAME_TXT_MAXLEN + 1], owner[DNAME_TEXT_MAX], q[128];
	struct errmsg derr;
	const char *rdata;
	uint16_t type;
	struct rr rr;

	if (knot_dname_to_str(text, s->r_owner, sizeof(text)) == NULL)
		return zonefile_add_error(zf, line, "unreadable owner name");
	log_sanitize(text, q, sizeof(q));
	if (s->r_class != KNOT_CLASS_IN)
		return zonefile_add_error(zf, line, "'%s': only class IN is accepted", q);
	if (dname_owner_normalize(text, rd->origin, owner, &derr) < 0)
		return zonefile_add_error(zf, line, "%s", derr.text);
	if (name_doubled(owner, strlen(owner), rd->dbl))
		return zonefile_add_error(zf, line,
					  "owner '%s' repeats the zone name: a final dot is "
					  "probably missing",
					  q);
	if (s->r_type == TYPE_LUA)
		return zonefile_add_error(zf, line,
					  "'%s': LUA records (type 65402) are not accepted in zone "
					  "data; steer with a routing policy",
					  q);
	if (dns_type_info(s->r_type) == NULL ||
	    (rr_type_is_dnssec(s->r_type) && !(rd->flags & ZONEFILE_PRESIGNED))) {
		char tname[32];
		if (knot_rrtype_to_string(s->r_type, tname, sizeof(tname)) < 0)
			snprintf(tname, sizeof(tname), "TYPE%u", s->r_type);
		rr_type_parse(tname, &type, &derr);
		return zonefile_add_error(zf, line, "'%s': %s", q, derr.text);
	}
	if (s->r_type == KNOT_RRTYPE_TXT &&
	    txt_split(s->r_data, s->r_data_length, rd->from, s->input.current))
		return zonefile_add_error(zf, line,
					  "'%s' TXT: a string is longer than 255 bytes; split it "
					  "into several quoted strings (RFC 1035 section 3.3)",
					  q);
	if (rd->max_records > 0 && zf->n >= rd->max_records) {
		zf->more_errs = true;
		return zonefile_add_error(zf, line, "more than %zu records", rd->max_records);
	}
	int r = dump_rdata(rd, &rdata);
	if (r < 0)
		return r == -ENOMEM ? r : zonefile_add_error(zf, line, "'%s': unprintable data", q);
	r = rr_parse(owner, s->r_type, s->r_ttl, rdata, rd->origin, &rr, &derr);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return zonefile_add_error(zf, line, "%s", derr.text);
	if (content_doubled(rr.type, rr.content, rd->dbl)) {
		rr_clear(&rr);
		return zonefile_add_error(zf, line,
					  "'%s' %s: a name in the data repeats the zone name: a "
					  "final dot is probably missing",
					  q, rr_type_name(s->r_type));
	}
	if (zf->n == zf->alloc) {
		size_t n = zf->alloc ? 2 * zf->alloc : 64;
		struct zonefile_rr *p = realloc(zf->rrs, n * sizeof(*p));
		if (p == NULL) {
			rr_clear(&rr);
			return -ENOMEM;
		}
		zf->rrs = p;
		zf->alloc = n;
	}
	zf->rrs[zf->n].rr = rr;
	zf->rrs[zf->n].line = line;
	zf->n++;
	return 0;
}

/* A zone file names international domains with A-labels, as BIND's and
 * Knot's tools write them; libzscanner refuses the UTF-8 of U-labels as a
 * bad name character. Say what to write instead. */
static const char *idn_hint(const struct reader *rd)
{
	if (rd->s->error.code != ZS_BAD_DNAME_CHAR)
		return "";
	for (const char *p = rd->from; p < rd->s->input.current && *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return "; write international names as IDNA A-labels (xn--...) in a zone "
			       "file";
	return "";
}

int zonefile_parse(const char *text, size_t len, const char *origin, uint32_t default_ttl,
		   size_t max_records, struct zonefile *ret)
{
	return zonefile_parse_flags(text, len, origin, default_ttl, max_records, 0, ret);
}

int zonefile_parse_flags(const char *text, size_t len, const char *origin, uint32_t default_ttl,
			 size_t max_records, unsigned flags, struct zonefile *ret)
{
	struct reader rd = {
		.origin = origin, .max_records = max_records, .flags = flags, .zf = ret
	};
	char *copy = NULL;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	snprintf(rd.dbl, sizeof(rd.dbl), "%s%s", origin, origin);
	if (memchr(text, '\0', len) != NULL)
		return zonefile_add_error(ret, 0, "the file holds a NUL byte");
	/* The scanner finishes a record at its newline: give the last line one. */
	if (len == 0 || text[len - 1] != '\n') {
		copy = malloc(len + 1);
		if (copy == NULL)
			return -ENOMEM;
		memcpy(copy, text, len);
		copy[len++] = '\n';
		text = copy;
	}
	rd.s = malloc(sizeof(*rd.s));
	if (rd.s == NULL) {
		free(copy);
		return -ENOMEM;
	}
	if (zs_init(rd.s, origin, KNOT_CLASS_IN, default_ttl) != 0 ||
	    zs_set_input_string(rd.s, text, len) != 0) {
		r = -ENOMEM;
		goto out;
	}
	for (bool done = false; !done && r == 0;) {
		rd.from = rd.s->input.current;
		zs_parse_record(rd.s);
		unsigned long line = (unsigned long)rd.s->line_counter;
		switch (rd.s->state) {
		case ZS_STATE_DATA:
			r = on_record(&rd);
			break;
		case ZS_STATE_INCLUDE:
			r = zonefile_add_error(ret, line,
					       "$INCLUDE is not accepted: send one file with "
					       "every record");
			break;
		case ZS_STATE_ERROR:
			r = zonefile_add_error(ret, line, "%s%s", zs_strerror(rd.s->error.code),
					       idn_hint(&rd));
			done = rd.s->error.fatal;
			break;
		default: /* ZS_STATE_EOF, ZS_STATE_STOP */
			done = true;
			break;
		}
		if (ret->more_errs)
			done = true;
	}
out:
	zs_deinit(rd.s);
	free(rd.s);
	free(rd.dump);
	free(copy);
	if (r < 0)
		zonefile_clear(ret);
	return r;
}
