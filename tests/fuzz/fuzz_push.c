/* The agent's push payload (POST /api/dns/sync-zone): the body decoded by
 * jsonx_parse() and validated by model_push_parse(), as the agent's route
 * does; on success the zone's digest is computed as the agent reports it.
 * Oracle: the accepted zone written back as a payload (absolute owners,
 * canonical content) is accepted again as the same records. */
#include "dns/digest.h"
#include "fuzz.h"
#include "json/jsonx.h"
#include "model/model.h"

/* Small caps, so that their checks are reached. */
static const struct zone_limits limits = { .max_rrset = 20, .max_records = 200 };
static const struct soa_defaults soa = {
	.mname = "ns1.example.net.",
	.rname = "hostmaster.example.net.",
	.refresh = 10800,
	.retry = 3600,
	.expire = 604800,
	.minimum = 3600,
	.ttl = 3600,
};

static void digest(const struct zone_push *p, char hex[ZONE_DIGEST_HEX])
{
	struct zone_digest d;

	zone_digest_init(&d);
	zone_digest_add_zone(&d, &p->data);
	if (zone_digest_final(&d, hex, NULL) < 0)
		fuzz_fail("no digest for an accepted push");
}

static void again(const struct zone_push *p, const char *hex)
{
	struct errmsg err = { "" };
	struct zone_push q;
	char hex2[ZONE_DIGEST_HEX];

	json_t *records = json_array();
	for (size_t i = 0; records != NULL && i < p->data.n; i++) {
		const struct rr *rr = &p->data.rrs[i];
		json_array_append_new(records, json_pack("{s:s,s:s,s:s,s:I}", "name", rr->owner,
							 "type", rr_type_name(rr->type), "content",
							 rr->content, "ttl", (json_int_t)rr->ttl));
	}
	json_t *payload = json_pack("{s:{s:s,s:I,s:I,s:O*},s:o}", "zone", "domain", p->data.origin,
				    "version", (json_int_t)p->version, "serial",
				    (json_int_t)p->serial, "dnssec", p->dnssec, "records", records);
	if (payload == NULL)
		fuzz_fail("json_pack failed");
	int r = model_push_parse(payload, &limits, &soa, &q, &err);
	json_decref(payload);
	if (r < 0)
		fuzz_fail("the accepted zone written back is refused: %s", err.text);
	if (q.data.n != p->data.n)
		fuzz_fail("%zu records became %zu", p->data.n, q.data.n);
	for (size_t i = 0; i < q.data.n; i++) {
		const struct rr *a = &p->data.rrs[i], *b = &q.data.rrs[i];
		if (strcmp(a->owner, b->owner) != 0 || a->type != b->type || a->ttl != b->ttl ||
		    strcmp(a->content, b->content) != 0)
			fuzz_fail("record %zu '%s' '%s' became '%s' '%s'", i, a->owner, a->content,
				  b->owner, b->content);
	}
	digest(&q, hex2);
	if (strcmp(hex, hex2) != 0)
		fuzz_fail("the same records have two digests");
	zone_push_clear(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errmsg err = { "" };
	struct zone_push p;
	json_t *j;

	int r = jsonx_parse((const char *)data, size, &j, &err);
	if (r < 0) {
		fuzz_check_message("jsonx_parse", r, err.text);
		return 0;
	}
	err.text[0] = '\0';
	r = model_push_parse(j, &limits, &soa, &p, &err);
	json_decref(j);
	if (r < 0) {
		fuzz_check_message("model_push_parse", r, err.text);
		return 0;
	}
	if (p.data.n == 0 || p.data.n > limits.max_records + 1)
		fuzz_fail("a push of %zu records was accepted", p.data.n);
	char hex[ZONE_DIGEST_HEX];
	digest(&p, hex);
	again(&p, hex);
	zone_push_clear(&p);
	return 0;
}
