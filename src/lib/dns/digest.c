#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "dns/digest.h"

void zone_digest_init(struct zone_digest *d)
{
	memset(d, 0, sizeof(*d));
}

static char *line_new(const char *owner, const char *type, uint32_t ttl, const char *content)
{
	int n = snprintf(NULL, 0, "%s %s %u %s\n", owner, type, ttl, content);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s != NULL)
		snprintf(s, (size_t)n + 1, "%s %s %u %s\n", owner, type, ttl, content);
	return s;
}

void zone_digest_add(struct zone_digest *d, const char *owner, const char *type, uint32_t ttl,
		     const char *content)
{
	if (d->err < 0)
		return;
	char *line = line_new(owner, type, ttl, content);
	if (line == NULL) {
		d->err = -ENOMEM;
		return;
	}
	if (strcmp(type, "SOA") == 0) {
		free(d->soa); /* a zone has one; the last one wins */
		d->soa = line;
		return;
	}
	if (d->n == d->alloc) {
		size_t a = d->alloc ? 2 * d->alloc : 32;
		char **v = realloc(d->lines, a * sizeof(*v));
		if (v == NULL) {
			free(line);
			d->err = -ENOMEM;
			return;
		}
		d->lines = v;
		d->alloc = a;
	}
	d->lines[d->n++] = line;
}

void zone_digest_add_zone(struct zone_digest *d, const struct zone_data *z)
{
	for (size_t i = 0; i < z->n; i++) {
		const char *type = rr_type_name(z->rrs[i].type);
		zone_digest_add(d, z->rrs[i].owner, type ? type : "", z->rrs[i].ttl,
				z->rrs[i].content);
	}
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void to_hex(const unsigned char *bin, char out[ZONE_DIGEST_HEX])
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = hex[bin[i] >> 4];
		out[2 * i + 1] = hex[bin[i] & 15];
	}
	out[64] = '\0';
}

static int combine_line(const char *records_hex, const char *soa_line, char ret[ZONE_DIGEST_HEX])
{
	gnutls_hash_hd_t h;
	unsigned char bin[32];

	if (soa_line == NULL) {
		ret[0] = '\0';
		return 0;
	}
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return -EIO;
	gnutls_hash(h, records_hex, strlen(records_hex));
	gnutls_hash(h, "\n", 1);
	gnutls_hash(h, soa_line, strlen(soa_line));
	gnutls_hash_deinit(h, bin);
	to_hex(bin, ret);
	return 0;
}

int zone_digest_final(struct zone_digest *d, char ret_records[ZONE_DIGEST_HEX],
		      char ret_zone[ZONE_DIGEST_HEX])
{
	char records[ZONE_DIGEST_HEX];
	gnutls_hash_hd_t h;
	unsigned char bin[32];
	int r = d->err;

	if (r == 0 && gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		r = -EIO;
	if (r == 0) {
		if (d->n > 1) /* no lines: no array at all, which qsort() must not get */
			qsort(d->lines, d->n, sizeof(*d->lines), cmp_lines);
		for (size_t i = 0; i < d->n; i++)
			gnutls_hash(h, d->lines[i], strlen(d->lines[i]));
		gnutls_hash_deinit(h, bin);
		to_hex(bin, records);
		if (ret_records != NULL)
			memcpy(ret_records, records, ZONE_DIGEST_HEX);
		if (ret_zone != NULL)
			r = combine_line(records, d->soa, ret_zone);
	}
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	free(d->soa);
	zone_digest_init(d);
	return r;
}

int zone_digest_combine(const char *records_hex, const char *soa_owner, uint32_t soa_ttl,
			const char *soa_content, char ret[ZONE_DIGEST_HEX])
{
	char *line = line_new(soa_owner, "SOA", soa_ttl, soa_content);
	if (line == NULL)
		return -ENOMEM;
	int r = combine_line(records_hex, line, ret);
	free(line);
	return r;
}

bool zone_digest_valid(const char *text)
{
	size_t n = strlen(text);
	if (n == 0)
		return true;
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return false;
	return true;
}
