#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "json/jsonx.h"
#include "model/model.h"
#include "spool.h"

#define MAX_ERRORS 20
#define PREFIX_MAX 16
#define ZONES_KEY "{\"zones\":" /* what precedes the array, white space aside */

enum split_state {
	S_PREFIX,  /* before the array: must be {"zones": */
	S_FIRST,   /* after '[': an element or ']' */
	S_ELEMENT, /* inside an element */
	S_AFTER,   /* after an element: ',' or ']' */
	S_NEXT,	   /* after ',': an element */
	S_SUFFIX,  /* after ']': '}' */
	S_DONE,	   /* only white space may follow */
};

struct spool {
	struct spool_config cfg;
	FILE *spool;
	enum split_state st;
	char prefix[PREFIX_MAX + 1];
	unsigned prefix_len;
	struct buf elem;
	unsigned depth;
	bool in_str, esc;
	size_t nzones;	    /* elements seen */
	struct buf names;   /* valid zones' names, NUL-separated ... */
	uint32_t *name_off; /* ... starting at these offsets, in spool order */
	size_t nnames, alloc;
	size_t next_name; /* the name of the zone spool_next() reads next */
	bool broken;	  /* the framing is wrong: stop reading */
	int fail;	  /* first error: ERR_MALFORMED, ERR_INVALID, ERR_TOO_LARGE, ... */
	json_t *errors;	  /* up to MAX_ERRORS messages */
	/* reading back */
	struct buf rd;
	struct backend_rr *rrs;
	size_t rrs_alloc;
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void add_error(struct spool *b, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(struct spool *b, int code, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	if (b->fail == 0 || (b->fail == ERR_INVALID && code != ERR_INVALID))
		b->fail = code;
	if (json_array_size(b->errors) >= MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(b->errors, json_string(msg));
}

/* --- spool: the validated zones, in a compact binary form --------------- */

/* A failed write or flush of the spool: a full disk is ERR_NO_SPACE (507,
 * as a single push answers it), anything else -EIO. */
static int io_error(void)
{
	return errno == ENOSPC || errno == EDQUOT ? ERR_NO_SPACE : -EIO;
}

static int spool_write(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : io_error();
}

static int spool_zone(struct spool *b, const struct zone_push *p)
{
	char *dnssec = p->dnssec ? json_dumps(p->dnssec, JSON_COMPACT) : NULL;
	char *xfr = p->transfer ? json_dumps(p->transfer, JSON_COMPACT) : NULL;
	int r = (p->dnssec != NULL && dnssec == NULL) || (p->transfer != NULL && xfr == NULL)
		    ? -ENOMEM
		    : 0;
	/* hdr[3], hdr[4]: length of zone.dnssec's, zone.transfer's text + 1, or 0 */
	uint64_t hdr[5] = { p->version, p->serial, p->data.n, dnssec ? strlen(dnssec) + 1 : 0,
			    xfr ? strlen(xfr) + 1 : 0 };
	uint32_t olen = (uint32_t)strlen(p->data.origin);
	if (r == 0)
		r = spool_write(b->spool, hdr, sizeof(hdr));
	if (r == 0)
		r = spool_write(b->spool, &olen, sizeof(olen));
	if (r == 0)
		r = spool_write(b->spool, p->data.origin, olen + 1);
	if (r == 0 && dnssec != NULL)
		r = spool_write(b->spool, dnssec, hdr[3]);
	if (r == 0 && xfr != NULL)
		r = spool_write(b->spool, xfr, hdr[4]);
	/* Both hold secrets (private keys, TSIG secrets). */
	if (dnssec != NULL) {
		explicit_bzero(dnssec, strlen(dnssec));
		free(dnssec);
	}
	if (xfr != NULL) {
		explicit_bzero(xfr, strlen(xfr));
		free(xfr);
	}
	for (size_t i = 0; r == 0 && i < p->data.n; i++) {
		const struct rr *rr = &p->data.rrs[i];
		uint32_t meta[4] = { rr->type, rr->ttl, zone_rr_is_auth(&p->data, i),
				     (uint32_t)strlen(rr->owner) };
		uint32_t clen = (uint32_t)strlen(rr->content);
		r = spool_write(b->spool, meta, sizeof(meta));
		if (r == 0)
			r = spool_write(b->spool, &clen, sizeof(clen));
		if (r == 0)
			r = spool_write(b->spool, rr->owner, meta[3] + 1);
		if (r == 0)
			r = spool_write(b->spool, rr->content, clen + 1);
	}
	return r;
}

static int spool_read(FILE *f, void *p, size_t n)
{
	return fread(p, 1, n, f) == n ? 0 : -EIO;
}

/* Read 'len' bytes of the spool onto the end of b->rd; *ret_off is where
 * they start (offsets, because b->rd may move while it grows). */
static int spool_take(struct spool *b, size_t len, size_t *ret_off)
{
	char *p;
	*ret_off = b->rd.len;
	int r = buf_extend(&b->rd, len, &p);
	return r < 0 ? r : spool_read(b->spool, p, len);
}

/* apply_next_fn: the next zone from the spool. Strings point into b->rd,
 * which is reused for every zone. */
int spool_next(void *ctx, struct backend_zone *z)
{
	struct spool *b = ctx;
	uint64_t hdr[5];
	uint32_t olen;
	size_t origin_off, dnssec_off = 0, xfr_off = 0;

	if (fread(hdr, 1, sizeof(hdr), b->spool) != sizeof(hdr))
		return feof(b->spool) ? 0 : -EIO;
	if (spool_read(b->spool, &olen, sizeof(olen)) < 0 || olen > DNAME_TEXT_MAX)
		return -EIO;
	size_t n = hdr[2];
	if (n > b->rrs_alloc) {
		struct backend_rr *rrs = realloc(b->rrs, n * sizeof(*rrs));
		if (rrs == NULL)
			return -ENOMEM;
		b->rrs = rrs;
		b->rrs_alloc = n;
	}
	size_t *off = malloc((2 * n + 1) * sizeof(*off));
	if (off == NULL)
		return -ENOMEM;
	buf_reset(&b->rd);
	int r = spool_take(b, olen + 1, &origin_off);
	if (r == 0 && hdr[3] > 0)
		r = hdr[3] <= (size_t)2 * MODEL_DNSSEC_KEYS_MAX * (MODEL_PRIVATE_KEY_MAX + 4096)
			? spool_take(b, hdr[3], &dnssec_off)
			: -EIO;
	if (r == 0 && hdr[4] > 0)
		r = hdr[4] <= (size_t)1 << 20 ? spool_take(b, hdr[4], &xfr_off) : -EIO;
	for (size_t i = 0; r == 0 && i < n; i++) {
		uint32_t meta[4], clen;
		r = spool_read(b->spool, meta, sizeof(meta));
		if (r == 0)
			r = spool_read(b->spool, &clen, sizeof(clen));
		if (r == 0 && meta[3] > DNAME_TEXT_MAX)
			r = -EIO;
		if (r == 0)
			r = spool_take(b, meta[3] + 1, &off[2 * i]);
		if (r == 0)
			r = spool_take(b, (size_t)clen + 1, &off[2 * i + 1]);
		b->rrs[i].type = (uint16_t)meta[0];
		b->rrs[i].ttl = meta[1];
		b->rrs[i].auth = meta[2] != 0;
	}
	if (r == 0) {
		for (size_t i = 0; i < n; i++) {
			b->rrs[i].owner = b->rd.data + off[2 * i];
			b->rrs[i].content = b->rd.data + off[2 * i + 1];
		}
		*z = (struct backend_zone){ b->rd.data + origin_off,
					    b->rrs,
					    n,
					    hdr[0],
					    (uint32_t)hdr[1],
					    hdr[3] > 0 ? b->rd.data + dnssec_off : NULL,
					    NULL,
					    hdr[4] > 0 ? b->rd.data + xfr_off : NULL };
	}
	free(off);
	if (r == 0)
		b->next_name++;
	return r < 0 ? r : 1;
}

/* apply_ahead_fn: the names of the zones spool_next() reads next. */
size_t spool_ahead(void *ctx, const char **names, size_t max)
{
	struct spool *b = ctx;
	size_t n = 0;
	for (; n < max && b->next_name + n < b->nnames; n++)
		names[n] = b->names.data + b->name_off[b->next_name + n];
	return n;
}

/* --- splitting the stream ----------------------------------------------- */

static int remember_name(struct spool *b, const char *name)
{
	if (b->nnames == b->alloc) {
		size_t n = b->alloc ? 2 * b->alloc : 256;
		uint32_t *p = realloc(b->name_off, n * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		b->name_off = p;
		b->alloc = n;
	}
	b->name_off[b->nnames] = (uint32_t)b->names.len;
	int r = buf_append(&b->names, name, strlen(name) + 1);
	if (r == 0)
		b->nnames++;
	return r;
}

static void element_done(struct spool *b)
{
	struct errmsg err;
	json_t *j = NULL;
	struct zone_push p;
	size_t idx = b->nzones;
	int r;

	if (b->nzones >= b->cfg.max_zones) {
		add_error(b, ERR_TOO_LARGE, "zones: more than %llu zones in one batch",
			  (unsigned long long)b->cfg.max_zones);
		return;
	}
	r = jsonx_parse(b->elem.data, b->elem.len, &j, &err);
	if (r < 0) {
		add_error(b, r, "zones[%zu]: %s", idx, err.text);
		return;
	}
	r = model_push_parse(j, &b->cfg.limits, &b->cfg.soa, &p, &err);
	json_decref(j);
	if (r < 0) {
		add_error(b, r, "zones[%zu]: %s", idx, err.text);
		b->nzones++;
		return;
	}
	b->nzones++;
	r = remember_name(b, p.data.origin);
	if (r == 0 && b->fail == 0)
		r = spool_zone(b, &p);
	if (r == ERR_NO_SPACE)
		add_error(b, r, "spooling the batch: no space left in data-dir");
	else if (r < 0)
		add_error(b, r, "zones[%zu]: %s", idx, err_str(r));
	zone_push_clear(&p);
}

/* Well-formed JSON of the wrong shape is 422, broken JSON 400. */
static void framing_error(struct spool *b, int code)
{
	b->broken = true;
	add_error(b, code,
		  code == ERR_INVALID ? "body must be {\"zones\": [<zone payload>, ...]}"
				      : "invalid JSON around the zones array");
}

/* Feed one byte outside an element. */
static void split_outside(struct spool *b, char c)
{
	if (is_ws(c)) {
		/* Between the quotes of "zones" white space is part of the key. */
		if (b->st == S_PREFIX && b->prefix_len >= 2 &&
		    b->prefix_len < sizeof(ZONES_KEY) - 2)
			framing_error(b, ERR_INVALID);
		return;
	}
	switch (b->st) {
	case S_PREFIX:
		if (c == '[') {
			b->prefix[b->prefix_len] = '\0';
			if (strcmp(b->prefix, ZONES_KEY) != 0)
				return framing_error(b, ERR_INVALID);
			b->st = S_FIRST;
		} else if (b->prefix_len < sizeof(ZONES_KEY) - 1 && c == ZONES_KEY[b->prefix_len]) {
			b->prefix[b->prefix_len++] = c;
		} else {
			framing_error(b, ERR_INVALID); /* another shape: '[', other keys, ... */
		}
		return;
	case S_FIRST:
	case S_NEXT:
		if (c == ']' && b->st == S_FIRST) {
			b->st = S_SUFFIX;
		} else if (c == '{') {
			buf_reset(&b->elem);
			b->depth = 0;
			b->in_str = b->esc = false;
			b->st = S_ELEMENT;
		} else {
			framing_error(b, ERR_INVALID); /* an element that is not an object */
		}
		return;
	case S_AFTER:
		if (c == ',')
			b->st = S_NEXT;
		else if (c == ']')
			b->st = S_SUFFIX;
		else
			framing_error(b, ERR_MALFORMED);
		return;
	case S_SUFFIX:
		if (c == '}')
			b->st = S_DONE;
		else
			framing_error(b,
				      c == ',' ? ERR_INVALID : ERR_MALFORMED); /* ',': more keys */
		return;
	case S_DONE:
	case S_ELEMENT:
		framing_error(b, ERR_MALFORMED);
		return;
	}
}

/* Consume the element bytes at the start of data[0..len), returning how
 * many were used; moves to S_AFTER when the element closes. */
static size_t split_element(struct spool *b, const char *data, size_t len)
{
	size_t i = 0;
	for (; i < len; i++) {
		char c = data[i];
		if (b->in_str) {
			if (b->esc)
				b->esc = false;
			else if (c == '\\')
				b->esc = true;
			else if (c == '"')
				b->in_str = false;
		} else if (c == '"') {
			b->in_str = true;
		} else if (c == '{' || c == '[') {
			b->depth++;
		} else if ((c == '}' || c == ']') && --b->depth == 0) {
			i++;
			break;
		}
	}
	if (buf_append(&b->elem, data, i) < 0) {
		add_error(b, ERR_TOO_LARGE, "zones[%zu]: element larger than %zu bytes", b->nzones,
			  b->elem.max);
		return len;
	}
	if (b->depth == 0 && !b->in_str) {
		b->st = S_AFTER;
		element_done(b);
	}
	return i;
}

static __thread const char *sort_base;

static int compare_names(const void *x, const void *y)
{
	return strcmp(sort_base + *(const uint32_t *)x, sort_base + *(const uint32_t *)y);
}

/* The names stay in spool order for spool_ahead(): a sorted copy. */
static void check_duplicates(struct spool *b)
{
	if (b->nnames < 2)
		return;
	uint32_t *sorted = malloc(b->nnames * sizeof(*sorted));
	if (sorted == NULL) {
		add_error(b, -ENOMEM, "out of memory");
		return;
	}
	memcpy(sorted, b->name_off, b->nnames * sizeof(*sorted));
	sort_base = b->names.data;
	qsort(sorted, b->nnames, sizeof(*sorted), compare_names);
	for (size_t i = 1; i < b->nnames; i++) {
		const char *prev = b->names.data + sorted[i - 1];
		const char *cur = b->names.data + sorted[i];
		if (strcmp(prev, cur) == 0) {
			char z[300];
			log_sanitize(cur, z, sizeof(z));
			add_error(b, ERR_INVALID, "zone '%s' appears more than once in the batch",
				  z);
			break;
		}
	}
	free(sorted);
}

int spool_new(const struct spool_config *cfg, struct spool **ret)
{
	struct spool *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->cfg = *cfg;
	buf_init(&b->elem, cfg->max_element);
	buf_init(&b->rd, 1u << 30);
	buf_init(&b->names, UINT32_MAX);
	b->errors = json_array();
	int fd = open(cfg->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		b->spool = fdopen(fd, "w+");
	if (b->spool == NULL || b->errors == NULL) {
		if (fd >= 0 && b->spool == NULL)
			close(fd);
		spool_free(b);
		return -EIO;
	}
	*ret = b;
	return 0;
}

void spool_free(struct spool *b)
{
	if (b == NULL)
		return;
	if (b->spool != NULL)
		fclose(b->spool);
	buf_free(&b->names);
	free(b->name_off);
	free(b->rrs);
	buf_free(&b->elem);
	buf_free(&b->rd);
	json_decref(b->errors);
	free(b);
#ifndef __SANITIZE_ADDRESS__
	malloc_trim(0); /* give a large batch's memory back */
#endif
	/* Under AddressSanitizer, malloc is not glibc's: there is nothing to
	 * give back, and glibc's trim would walk arenas it never set up. */
}

int spool_feed(struct spool *b, const char *data, size_t len)
{
	for (size_t i = 0; i < len;) {
		if (b->broken || (b->fail != 0 && b->fail != ERR_INVALID))
			return b->fail; /* stop reading */
		if (b->st == S_ELEMENT) {
			i += split_element(b, data + i, len - i);
		} else if (data[i] == '{' && (b->st == S_FIRST || b->st == S_NEXT)) {
			split_outside(b, data[i]); /* opens the element; the '{' belongs to it */
		} else {
			split_outside(b, data[i++]);
		}
	}
	return 0;
}

int spool_finish(struct spool *b)
{
	if (b->fail == 0 && b->st != S_DONE)
		framing_error(b, ERR_MALFORMED); /* truncated */
	if (b->fail == 0)
		check_duplicates(b);
	return b->fail;
}

json_t *spool_errors(const struct spool *b)
{
	return b->errors;
}

size_t spool_zones(const struct spool *b)
{
	return b->nzones;
}

int spool_rewind(struct spool *b)
{
	if (fflush(b->spool) != 0)
		return io_error();
	return fseek(b->spool, 0, SEEK_SET) != 0 ? -EIO : 0;
}
