/* Single records: RDATA parsing with libzscanner, the names inside it, and
 * the canonical text (libknot) and wire forms. The accepted types are in
 * rdata_types.c, the per-type rules in rdata_check.c.
 *
 * Each thread keeps one zone scanner: zs_init() clears about 200 KiB, far
 * more than parsing one line costs, so the scanner is set up once and put
 * back to its start-of-line state before every record. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/rdata.h>
#include <libknot/rdataset.h>
#include <libknot/rrset-dump.h>
#include <libknot/rrset.h>
#include <libknot/rrtype/naptr.h>
#include <libzscanner/error.h>
#include <libzscanner/scanner.h>

#include "base/err.h"
#include "base/log.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"

/* --- the per-thread scanner ---------------------------------------------- */

struct scan_ctx {
	zs_scanner_t sc;
	int cs0; /* Ragel state at the start of a line, after zs_init() */
	int top0;
	char *line; /* "<owner> <ttl> IN <type> <rdata>\n" */
	size_t line_alloc;
	char *dump; /* canonical text from libknot */
	size_t dump_alloc;
	/* One knot_rdata_t (2-byte length, data, padding) for the dump. */
	uint16_t rdbuf[KNOT_RDATA_MAXLEN / 2 + 4];
};

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;
static bool ctx_key_ok;
static __thread struct scan_ctx *tls_ctx;

static void ctx_free(void *p)
{
	struct scan_ctx *c = p;

	if (c == NULL)
		return;
	zs_deinit(&c->sc);
	free(c->line);
	free(c->dump);
	free(c);
}

static void ctx_key_create(void)
{
	/* The destructor frees a worker thread's scanner when it exits. */
	ctx_key_ok = pthread_key_create(&ctx_key, ctx_free) == 0;
}

static struct scan_ctx *ctx_get(void)
{
	struct scan_ctx *c = tls_ctx;

	if (c != NULL)
		return c;
	pthread_once(&ctx_once, ctx_key_create);
	if (!ctx_key_ok)
		return NULL;
	c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	if (zs_init(&c->sc, ".", KNOT_CLASS_IN, 0) != 0) {
		zs_deinit(&c->sc);
		free(c);
		return NULL;
	}
	c->cs0 = c->sc.cs;
	c->top0 = c->sc.top;
	c->line = NULL;
	c->line_alloc = 0;
	c->dump = NULL;
	c->dump_alloc = 0;
	if (pthread_setspecific(ctx_key, c) != 0) {
		ctx_free(c);
		return NULL;
	}
	tls_ctx = c;
	return c;
}

void dns_thread_cleanup(void)
{
	struct scan_ctx *c = tls_ctx;

	if (c == NULL)
		return;
	tls_ctx = NULL;
	pthread_setspecific(ctx_key, NULL);
	ctx_free(c);
}

static int grow(char **buf, size_t *alloc, size_t need)
{
	char *p;
	size_t n = *alloc > 0 ? *alloc : 4096;

	if (need <= *alloc)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (p == NULL)
		return -ENOMEM;
	*buf = p;
	*alloc = n;
	return 0;
}

/* Parse the line in c->line with 'origin' (wire) for relative names. On
 * success the record is in c->sc.r_*; on failure c->sc.error.code says why
 * (ZS_OK if the line held no record). */
static int scan(struct scan_ctx *c, const uint8_t *origin, size_t origin_len, size_t line_len)
{
	zs_scanner_t *s = &c->sc;

	/* Set what "$ORIGIN" would, and undo whatever an earlier error left. */
	memcpy(s->zone_origin, origin, origin_len);
	s->zone_origin_length = (uint32_t)origin_len;
	s->cs = c->cs0;
	s->top = c->top0;
	s->multiline = false;
	s->error.code = ZS_OK;
	s->error.fatal = false;
	s->error.counter = 0;
	s->buffer_length = 0;
	s->long_string = false;
	s->comma_list = false;
	s->r_data_tail = 0;
	s->r_data_length = 0;
	if (zs_set_input_string(s, c->line, line_len) != 0 || zs_parse_record(s) != 0 ||
	    s->state != ZS_STATE_DATA)
		return -1;
	return 0;
}

/* --- names inside RDATA --------------------------------------------------- */

struct rdname {
	size_t off;
	const char *role;
	unsigned flags;
};

/* Where the names in RDATA of 'type' are, and what each may contain: '_'
 * where the name may be a service or alias name, the root where a record
 * says "nothing here" (null MX, RFC 7505; SRV "."; NAPTR "."). Returns how
 * many, or -EINVAL if the wire form is broken. */
static int rdata_names(uint16_t type, const uint8_t *rd, size_t len, struct rdname out[2])
{
	int n = 0, h;

	switch (type) {
	case KNOT_RRTYPE_NS:
		out[n++] = (struct rdname){ 0, "target", 0 };
		break;
	case KNOT_RRTYPE_CNAME:
	case KNOT_RRTYPE_DNAME:
	case KNOT_RRTYPE_PTR:
		out[n++] = (struct rdname){ 0, "target", NAME_UNDERSCORE };
		break;
	case KNOT_RRTYPE_MX:
		out[n++] = (struct rdname){ 2, "target", NAME_ROOT };
		break;
	case KNOT_RRTYPE_SRV:
		out[n++] = (struct rdname){ 6, "target", NAME_ROOT };
		break;
	case KNOT_RRTYPE_NAPTR:
		h = knot_naptr_header_size(rd, rd + len);
		if (h < 0)
			return -EINVAL;
		out[n++] = (struct rdname){ (size_t)h, "replacement", NAME_UNDERSCORE | NAME_ROOT };
		break;
	case KNOT_RRTYPE_SOA:
		h = knot_dname_wire_check(rd, rd + len, NULL);
		if (h <= 0)
			return -EINVAL;
		out[n++] = (struct rdname){ 0, "mname", 0 };
		out[n++] = (struct rdname){ (size_t)h, "rname", NAME_UNDERSCORE };
		break;
	case KNOT_RRTYPE_MINFO:
	case KNOT_RRTYPE_RP:
		/* Mailboxes and a TXT owner; the root says "none" (RFC 1183). */
		h = knot_dname_wire_check(rd, rd + len, NULL);
		if (h <= 0)
			return -EINVAL;
		out[n++] = (struct rdname){ 0, type == KNOT_RRTYPE_RP ? "mbox" : "rmailbx",
					    NAME_UNDERSCORE | NAME_ROOT };
		out[n++] = (struct rdname){ (size_t)h, type == KNOT_RRTYPE_RP ? "txt" : "emailbx",
					    NAME_UNDERSCORE | NAME_ROOT };
		break;
	case KNOT_RRTYPE_AFSDB:
	case KNOT_RRTYPE_KX:
	case KNOT_RRTYPE_LP:
		out[n++] = (struct rdname){ 2, "target", 0 };
		break;
	case KNOT_RRTYPE_SVCB:
	case KNOT_RRTYPE_HTTPS:
		/* RFC 9460 section 2.5: "." is the owner itself. */
		out[n++] = (struct rdname){ 2, "target", NAME_UNDERSCORE | NAME_ROOT };
		break;
	case KNOT_RRTYPE_IPSECKEY:
		/* RFC 4025 section 2.3: gateway type 3 is a name. */
		if (len > 3 && rd[1] == 3)
			out[n++] = (struct rdname){ 3, "gateway", 0 };
		break;
	default:
		break;
	}
	for (int i = 0; i < n; i++)
		if (out[i].off >= len ||
		    knot_dname_wire_check(rd + out[i].off, rd + len, NULL) <= 0)
			return -EINVAL;
	return n;
}

static void name_show(const uint8_t *name, char *out, size_t outlen)
{
	char text[KNOT_DNAME_TXT_MAXLEN + 1];

	if (knot_dname_to_str(text, name, sizeof(text)) == NULL)
		snprintf(text, sizeof(text), "?");
	log_sanitize(text, out, (unsigned)outlen);
}

/* A name written without a trailing dot whose text ends with the zone name
 * ("mail.example.com" in zone example.com.) becomes, by the zone file rules,
 * mail.example.com.example.com.: almost surely a forgotten dot. Refuse it as
 * owners are refused. Only a name that came out with the zone name twice can
 * be such a case; parsing the line again with an origin nobody can write
 * tells whether it was relative. */
static int relative_check(struct scan_ctx *c, uint16_t type, const uint8_t *owire, size_t olen,
			  const uint8_t *rd, const struct rdname *names, int n, size_t line_len,
			  const char *what, struct errmsg *err)
{
	/* One label holding a NUL byte: never a suffix of an accepted name. */
	static const uint8_t sentinel[] = { 1, 0, 0 };
	uint8_t twice[2 * KNOT_DNAME_MAXLEN], rel[KNOT_DNAME_MAXLEN + 4];
	struct rdname snames[2];
	uint8_t *sd;
	bool doubled = false;
	int m;

	if (olen <= 1 || 2 * olen - 1 > KNOT_DNAME_MAXLEN)
		return 0;
	memcpy(twice, owire, olen - 1);
	memcpy(twice + olen - 1, owire, olen);
	for (int i = 0; i < n; i++)
		if (knot_dname_in_bailiwick(rd + names[i].off, twice) >= 0)
			doubled = true;
	if (!doubled)
		return 0;

	memcpy(rel, owire, olen - 1);
	memcpy(rel + olen - 1, sentinel, sizeof(sentinel));
	if (scan(c, sentinel, sizeof(sentinel), line_len) != 0)
		return errmsg_set(err, ERR_INVALID,
				  "%s: a name without trailing dot ends with the zone name", what);
	sd = c->sc.r_data;
	m = rdata_names(type, sd, c->sc.r_data_length, snames);
	for (int i = 0; i < m; i++) {
		uint8_t written[KNOT_DNAME_MAXLEN];
		char text[KNOT_DNAME_TXT_MAXLEN + 1], q[128], short_q[128];
		const uint8_t *name = sd + snames[i].off;
		size_t wl, tl, zl;

		knot_dname_to_lower(sd + snames[i].off);
		if (knot_dname_in_bailiwick(name, rel) < 0)
			continue;
		/* What the client wrote: the name without the sentinel label. */
		wl = knot_dname_size(name) - sizeof(sentinel) + 1;
		memcpy(written, name, wl - 1);
		written[wl - 1] = 0;
		if (knot_dname_to_str(text, written, sizeof(text)) == NULL)
			break;
		tl = strlen(text);
		text[--tl] = '\0';
		log_sanitize(text, q, sizeof(q));
		/* Strip "." and the zone name, whose text is olen - 2 bytes. */
		zl = olen - 1;
		if (tl > zl) {
			text[tl - zl] = '\0';
			log_sanitize(text, short_q, sizeof(short_q));
		} else {
			snprintf(short_q, sizeof(short_q), "@");
		}
		return errmsg_set(
		    err, ERR_INVALID,
		    "%s: %s '%s' has no trailing dot but ends with the zone name: write "
		    "'%s' or '%s.'",
		    what, snames[i].role, q, short_q, q);
	}
	return 0;
}

/* RR_PARSE_ABSOLUTE: every name in the RDATA written absolute. Parsing
 * the line again with an origin nobody can write (relative_check()) shows
 * the names that took the origin: those written without a trailing dot, or
 * as '@'. */
static int absolute_check(struct scan_ctx *c, uint16_t type, size_t line_len, const char *what,
			  struct errmsg *err)
{
	static const uint8_t sentinel[] = { 1, 0, 0 };
	struct rdname snames[2];
	int m;

	/* The same line reads with any origin unless a name took it and grew
	 * past the longest name: a relative name. */
	if (scan(c, sentinel, sizeof(sentinel), line_len) != 0)
		return errmsg_set(err, ERR_INVALID,
				  "%s: a name in the data has no trailing dot; names in the data "
				  "must be absolute",
				  what);
	m = rdata_names(type, c->sc.r_data, c->sc.r_data_length, snames);
	for (int i = 0; i < m; i++) {
		const uint8_t *name = c->sc.r_data + snames[i].off;
		uint8_t written[KNOT_DNAME_MAXLEN];
		char q[128];
		size_t wl, ql;

		if (knot_dname_in_bailiwick(name, sentinel) < 0)
			continue;
		/* What the client wrote: the name without the sentinel label. */
		wl = knot_dname_size(name) - sizeof(sentinel) + 1;
		if (wl == 1)
			return errmsg_set(err, ERR_INVALID,
					  "%s: %s '@' is relative; names in the data must be "
					  "absolute (end with '.')",
					  what, snames[i].role);
		memcpy(written, name, wl - 1);
		written[wl - 1] = 0;
		name_show(written, q, sizeof(q));
		ql = strlen(q);
		return errmsg_set(err, ERR_INVALID,
				  "%s: %s '%.*s' has no trailing dot; names in the data must be "
				  "absolute: write '%s'",
				  what, snames[i].role, (int)(ql > 0 ? ql - 1 : 0), q, q);
	}
	return 0;
}

static bool label_numeric(const uint8_t *label)
{
	for (size_t i = 1; i <= label[0]; i++)
		if (!isdigit(label[i]))
			return false;
	return label[0] > 0;
}

/* The first four labels of 'name' are 1 to 3 digits: a dotted quad. */
static bool quad_prefix(const uint8_t *name)
{
	for (int i = 0; i < 4; i++, name += *name + 1)
		if (name[0] > 3 || !label_numeric(name))
			return false;
	return true;
}

/* MX, NS, SRV, KX, AFSDB and LP name a host, and a host name is never all-numeric at the
 * top (RFC 1123 section 2.1: its highest-level label is alphabetic), so a
 * target such as '192.0.2.1.' is an address written where a name belongs.
 * Written without a trailing dot, the same address becomes a name inside
 * the zone ('192.0.2.1.example.com.'), legal but surely not meant: refused
 * too when what the client wrote was four numeric labels. Parsing the line
 * again with an origin nobody can write tells whether the target was
 * relative, as in relative_check(). */
static int host_target_check(struct scan_ctx *c, uint16_t type, const uint8_t *owire,
			     const uint8_t *name, size_t line_len, const char *what,
			     struct errmsg *err)
{
	static const uint8_t sentinel[] = { 1, 0, 0 };
	struct rdname snames[2];
	const uint8_t *last = name, *sname;
	uint8_t quad[4 * 4 + 1];
	size_t labels = knot_dname_labels(name, NULL), qlen;
	char q[128], full[128];

	if (type != KNOT_RRTYPE_MX && type != KNOT_RRTYPE_NS && type != KNOT_RRTYPE_SRV &&
	    type != KNOT_RRTYPE_KX && type != KNOT_RRTYPE_AFSDB && type != KNOT_RRTYPE_LP)
		return 0;
	if (labels == 0)
		return 0;
	for (const uint8_t *p = name; *p != 0; p += *p + 1)
		last = p;
	if (label_numeric(last)) {
		name_show(name, q, sizeof(q));
		if (labels == 4 && quad_prefix(name))
			errmsg_set(err, 0,
				   "%s: target '%s' is an IPv4 address, not a host name (RFC 1123 "
				   "section 2.1)",
				   what, q);
		else
			errmsg_set(err, 0,
				   "%s: target '%s' ends in an all-numeric label, which no host "
				   "name does (RFC 1123 section 2.1)",
				   what, q);
		return ERR_INVALID;
	}
	if (knot_dname_in_bailiwick(name, owire) != 4 || !quad_prefix(name))
		return 0;
	if (scan(c, sentinel, sizeof(sentinel), line_len) != 0 ||
	    rdata_names(type, c->sc.r_data, c->sc.r_data_length, snames) != 1)
		return 0;
	/* Relative: the sentinel label took the zone name's place. */
	sname = c->sc.r_data + snames[0].off;
	if (knot_dname_in_bailiwick(sname, sentinel) != 4 || !quad_prefix(sname))
		return 0;
	/* What the client wrote: the four labels, at most 16 bytes. */
	qlen = knot_dname_size(name) - knot_dname_size(owire);
	memcpy(quad, name, qlen);
	quad[qlen] = 0;
	name_show(quad, q, sizeof(q));
	q[strlen(q) - 1] = '\0';
	name_show(name, full, sizeof(full));
	return errmsg_set(err, ERR_INVALID,
			  "%s: target '%s' is an IPv4 address, not a host name; without a trailing "
			  "dot it means '%s' (RFC 1123 section 2.1)",
			  what, q, full);
}

/* --- rr_parse -------------------------------------------------------------- */

const knot_dump_style_t dns_dump_style = {
	.wrap = false,
	.show_class = false,
	.show_ttl = false,
	.verbose = false,
	.original_ttl = false,
	.empty_ttl = false,
	.human_ttl = false,
	.human_timestamp = false,
	.generic = false,
	.hide_crypto = false,
	.ascii_to_idn = NULL,
	.color = NULL,
	.now = 0,
};

/* Only the bytes a normalised owner consists of: it goes into the line the
 * scanner reads, so nothing else may reach it. */
static bool owner_plain(const char *owner)
{
	size_t len = strlen(owner);

	if (len == 0 || len >= DNAME_TEXT_MAX || owner[len - 1] != '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)owner[i];

		if (!(islower(c) || isdigit(c) || c == '-' || c == '_' || c == '.' || c == '*'))
			return false;
	}
	return true;
}

/* Bytes that must not be in RDATA text: raw control characters, tab
 * included (a newline would start a second record; inside a string PowerDNS
 * stores them raw), and raw 8-bit bytes (\DDD says the same, visibly). */
static int text_screen(const char *rdata, size_t len, const char *what, struct errmsg *err)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rdata[i];

		if (c < 0x20 || c == 0x7f)
			return errmsg_set(err, ERR_INVALID,
					  "%s: raw control character (0x%02x) in data", what, c);
		if (c >= 0x80)
			return errmsg_set(err, ERR_INVALID,
					  "%s: raw non-ASCII byte in data; write \\DDD escapes in "
					  "strings and IDNA A-labels (xn--) in names",
					  what);
	}
	return 0;
}

/* Collapse runs of spaces in 'len' bytes of text without quoted strings;
 * returns the new length. */
static size_t squeeze_spaces(char *text, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++)
		if (text[i] != ' ' || (o > 0 && text[o - 1] != ' '))
			text[o++] = text[i];
	return o;
}

/* The 'len' bytes of canonical text in c->dump must parse back to the wire
 * form in ret->wire, or what is stored (and served by PowerDNS, which reads
 * the text) would not be what was checked. A safety net for the types whose
 * printing has many paths (SVCB parameters, LOC, APL, IPSECKEY, CSYNC).
 * Returns 'len' or ERR_INVALID. */
static int reparse_check(struct scan_ctx *c, const char *owner, uint32_t ttl, const char *tname,
			 size_t len, const uint8_t *owire, size_t olen, const struct rr *ret,
			 const char *what, struct errmsg *err)
{
	int r = grow(&c->line, &c->line_alloc, strlen(owner) + len + 64);
	if (r < 0)
		return r;
	int n = snprintf(c->line, c->line_alloc, "%s %u IN %s %.*s\n", owner, ttl, tname, (int)len,
			 c->dump);
	if (n < 0 || (size_t)n >= c->line_alloc)
		return -EINVAL;
	if (scan(c, owire, olen, (size_t)n) != 0 || c->sc.r_data_length != ret->wire_len ||
	    memcmp(c->sc.r_data, ret->wire, ret->wire_len) != 0)
		return errmsg_set(err, ERR_INVALID,
				  "%s: the data cannot be written in presentation form that "
				  "reads back the same",
				  what);
	return (int)len;
}

static int rr_parse_in(struct scan_ctx *c, const char *owner, uint16_t type, uint32_t ttl,
		       const char *rdata, size_t rlen, const uint8_t *owire, size_t olen,
		       unsigned flags, const char *what, struct rr *ret, struct errmsg *err)
{
	const char *tname = rr_type_name(type);
	zs_scanner_t *s = &c->sc;
	uint8_t owner_wire[KNOT_DNAME_MAXLEN];
	struct rdname names[2];
	knot_rrset_t rrset;
	knot_rdata_t *kr;
	size_t line_len, len;
	char why[320];
	int n, r;

	r = grow(&c->line, &c->line_alloc, strlen(owner) + rlen + 64);
	if (r < 0)
		return r;
	line_len =
	    (size_t)snprintf(c->line, c->line_alloc, "%s %u IN %s %s\n", owner, ttl, tname, rdata);
	if (line_len >= c->line_alloc)
		return -EINVAL;
	if (scan(c, owire, olen, line_len) != 0) {
		char q[100];

		log_sanitize(rdata, q, sizeof(q));
		if (s->error.code == ZS_RDATA_OVERFLOW || s->error.code == ZS_TEXT_OVERFLOW)
			return errmsg_set(err, ERR_INVALID, "%s: data is longer than 65535 bytes",
					  what);
		return errmsg_set(err, ERR_INVALID, "%s: invalid data '%s': %s", what, q,
				  s->error.code != ZS_OK ? zs_strerror(s->error.code)
							 : "no record");
	}
	/* The end of input closes what an unbalanced '(' left open. */
	if (s->multiline)
		return errmsg_set(err, ERR_INVALID, "%s: unbalanced parenthesis in data", what);
	/* A ';' outside quotes starts a comment: the rest would be lost. */
	if (s->buffer_length > 0)
		return errmsg_set(err, ERR_INVALID,
				  "%s: comments (';') are not allowed in data; quote the string",
				  what);
	if (s->r_type != type)
		return -EINVAL;
	len = s->r_data_length;
	if (len > DNS_RDATA_MAX)
		return errmsg_set(err, ERR_INVALID, "%s: data is %zu bytes, over the limit of %u",
				  what, len, DNS_RDATA_MAX);
	if (len == 0)
		return errmsg_set(err, ERR_INVALID, "%s: empty data", what);
	ret->wire = malloc(len);
	if (ret->wire == NULL)
		return -ENOMEM;
	memcpy(ret->wire, s->r_data, len);
	ret->wire_len = (uint16_t)len;

	/* RFC 4034 section 6.2 (and RFC 4343): names in RDATA in lowercase. */
	n = rdata_names(type, ret->wire, len, names);
	if (n < 0)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		knot_dname_to_lower(ret->wire + names[i].off);
	if (n > 0 && (flags & RR_PARSE_ABSOLUTE) != 0) {
		r = absolute_check(c, type, line_len, what, err);
		if (r < 0)
			return r;
	}
	r = relative_check(c, type, owire, olen, ret->wire, names, n, line_len, what, err);
	if (r < 0)
		return r;
	for (int i = 0; i < n; i++) {
		const uint8_t *name = ret->wire + names[i].off;
		char q[128];

		if (dns_name_check(name, names[i].flags, why, sizeof(why)) < 0) {
			name_show(name, q, sizeof(q));
			return errmsg_set(err, ERR_INVALID, "%s: %s '%s': %s", what, names[i].role,
					  q, why);
		}
	}
	if (n == 1) {
		r = host_target_check(c, type, owire, ret->wire + names[0].off, line_len, what,
				      err);
		if (r < 0)
			return r;
	}
	if (dns_type_check(type, ret->wire, len, why, sizeof(why)) < 0)
		return errmsg_set(err, ERR_INVALID, "%s: %s", what, why);
	if ((type == KNOT_RRTYPE_TXT || type == KNOT_RRTYPE_SPF) &&
	    dns_txt_wire_strings(ret->wire, len) != dns_txt_text_strings(rdata)) {
		return errmsg_set(
		    err, ERR_INVALID,
		    "%s: a string is longer than 255 bytes; split it into several quoted "
		    "strings (RFC 1035 section 3.3)",
		    what);
	}

	if (knot_dname_from_str(owner_wire, owner, sizeof(owner_wire)) == NULL)
		return -EINVAL;
	kr = (knot_rdata_t *)c->rdbuf;
	knot_rdata_init(kr, (uint16_t)len, ret->wire);
	knot_rrset_init(&rrset, owner_wire, type, KNOT_CLASS_IN, ttl);
	rrset.rrs.count = 1;
	rrset.rrs.size = (uint32_t)knot_rdata_size((uint16_t)len);
	rrset.rrs.rdata = kr;
	/* Every byte as \DDD with a separator fits: a failure with this much
	 * room is not for want of space. libzscanner takes some values libknot
	 * cannot print, such as an SVCB "key3" (port) of other than two bytes. */
	r = grow(&c->dump, &c->dump_alloc, 8 * len + 4096);
	if (r < 0)
		return r;
	r = knot_rrset_txt_dump_data(&rrset, 0, c->dump, c->dump_alloc, &dns_dump_style);
	if (r < 0)
		return errmsg_set(err, ERR_INVALID,
				  "%s: the data has no presentation form (a value of the wrong "
				  "size for its key or field?)",
				  what);
	/* libknot ends some types (CAA) with a separator, and pads LOC's
	 * fields: one space between fields is the canonical form. */
	while (r > 0 && c->dump[r - 1] == ' ')
		r--;
	if (type == KNOT_RRTYPE_LOC)
		r = (int)squeeze_spaces(c->dump, (size_t)r);
	if (dns_type_info(type)->reparse) {
		r = reparse_check(c, owner, ttl, tname, (size_t)r, owire, olen, ret, what, err);
		if (r < 0)
			return r;
	}
	ret->content = malloc((size_t)r + 1);
	if (ret->content == NULL)
		return -ENOMEM;
	memcpy(ret->content, c->dump, (size_t)r);
	ret->content[r] = '\0';
	memcpy(ret->owner, owner, strlen(owner) + 1);
	ret->type = type;
	ret->ttl = ttl;
	return 0;
}

int rr_parse(const char *owner, uint16_t type, uint32_t ttl, const char *rdata, const char *origin,
	     struct rr *ret, struct errmsg *err)
{
	return rr_parse_flags(owner, type, ttl, rdata, origin, 0, ret, err);
}

int rr_parse_flags(const char *owner, uint16_t type, uint32_t ttl, const char *rdata,
		   const char *origin, unsigned flags, struct rr *ret, struct errmsg *err)
{
	uint8_t owire[KNOT_DNAME_MAXLEN];
	const char *tname = rr_type_name(type);
	struct scan_ctx *c;
	char what[DNAME_TEXT_MAX + 32], why[400], *idn = NULL;
	const char *p;
	size_t rlen;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (owner == NULL || origin == NULL || rdata == NULL)
		return errmsg_set(err, -EINVAL, "missing owner, zone or data");
	if (!owner_plain(owner) || knot_dname_from_str(owire, origin, sizeof(owire)) == NULL) {
		char q[100];

		log_sanitize(owner, q, sizeof(q));
		return errmsg_set(err, -EINVAL, "owner '%s' is not a normalised name", q);
	}
	/* LUA (PowerDNS's private type) has a name but no zone data form: it
	 * comes only as a controller record of type "LUA" (model.c), never
	 * through here (zone text, a transfer, an UPDATE). */
	if (type == TYPE_LUA)
		return errmsg_set(err, ERR_INVALID,
				  "'%s': a LUA record (type 65402) is accepted only as a record "
				  "of type \"LUA\" on the controller's routes, where allowed",
				  owner);
	if (tname == NULL || dns_type_info(type) == NULL)
		return errmsg_set(err, ERR_INVALID, "'%s': type %u is not accepted", owner, type);
	snprintf(what, sizeof(what), "'%s' %s", owner, tname);
	if (!dname_is_at_or_below(owner, origin))
		return errmsg_set(err, ERR_INVALID, "%s: owner is not inside zone '%s'", what,
				  origin);
	if (ttl > DNS_TTL_MAX)
		return errmsg_set(err, ERR_INVALID, "%s: TTL %u is over %u (RFC 2181 section 8)",
				  what, ttl, DNS_TTL_MAX);
	rlen = strnlen(rdata, DNS_RDATA_TEXT_MAX + 1);
	if (rlen > DNS_RDATA_TEXT_MAX)
		return errmsg_set(err, ERR_INVALID, "%s: data text is longer than %u characters",
				  what, DNS_RDATA_TEXT_MAX);
	/* Names in RDATA may be U-labels, as owners may. */
	r = dns_idn_rdata(rdata, dns_type_info(type)->names, &idn, why, sizeof(why));
	if (r < 0)
		return errmsg_set(err, r == -ENOMEM ? r : ERR_INVALID, "%s: %s", what,
				  r == -ENOMEM ? "out of memory" : why);
	if (idn != NULL) {
		rdata = idn;
		rlen = strlen(idn);
	}
	r = text_screen(rdata, rlen, what, err);
	if (r < 0)
		goto out;
	/* RFC 3597 generic data bypasses every per-type rule. libzscanner takes
	 * it only as the first token, possibly after an opening parenthesis. */
	p = rdata + strspn(rdata, " \t(");
	if (p[0] == '\\' && p[1] == '#' && !dns_type_private(type)) {
		errmsg_set(
		    err, 0,
		    "%s: generic data ('\\#') is not accepted; use the %s presentation format",
		    what, tname);
		r = ERR_INVALID;
		goto out;
	}
	if (p[0] == '\0') {
		r = errmsg_set(err, ERR_INVALID, "%s: empty data", what);
		goto out;
	}
	c = ctx_get();
	if (c == NULL) {
		r = errmsg_set(err, -ENOMEM, "%s: out of memory", what);
		goto out;
	}
	r = rr_parse_in(c, owner, type, ttl, rdata, rlen, owire, knot_dname_size(owire), flags,
			what, ret, err);
	if (r < 0) {
		if (r == -ENOMEM)
			errmsg_set(err, 0, "%s: out of memory", what);
		else if (r == -EINVAL)
			errmsg_set(err, 0, "%s: internal parser error", what);
		rr_clear(ret);
		memset(ret, 0, sizeof(*ret));
	}
out:
	free(idn);
	return r;
}

void rr_clear(struct rr *rr)
{
	if (rr == NULL)
		return;
	free(rr->content);
	free(rr->wire);
	rr->content = NULL;
	rr->wire = NULL;
	rr->wire_len = 0;
}
