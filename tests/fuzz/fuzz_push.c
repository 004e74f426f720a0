/* The agent's push payload (POST /api/dns/sync-zone): the body decoded by
 * jsonx_parse() and validated by model_push_parse(), as the agent's route
 * does; on success the zone's digest is computed as the agent reports it. */
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
	struct zone_digest d;
	char hex[ZONE_DIGEST_HEX];
	zone_digest_init(&d);
	zone_digest_add_zone(&d, &p.data);
	if (zone_digest_final(&d, hex, NULL) < 0)
		fuzz_fail("no digest for an accepted push");
	zone_push_clear(&p);
	return 0;
}
