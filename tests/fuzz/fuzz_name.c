/* Owner and zone names: the input is "<name>" or "<name>\n<zone>". The
 * name goes through dname_zone_normalize(), and, relative to the zone when
 * it is valid, dname_owner_normalize(). Oracles: a normalised name
 * normalises to itself; an owner lies at or below its zone, and the form
 * the controller stores it in ("@", or the name relative to the zone)
 * normalises back to it. */
#include "dns/dns.h"
#include "fuzz.h"
#include "model/model.h"

static void zone_name(const char *text)
{
	char norm[DNAME_TEXT_MAX], again[DNAME_TEXT_MAX];
	struct errmsg err = { "" };

	int r = dname_zone_normalize(text, norm, &err);
	if (r < 0) {
		fuzz_check_message("dname_zone_normalize", r, err.text);
		return;
	}
	if (dname_zone_normalize(norm, again, &err) < 0 || strcmp(norm, again) != 0)
		fuzz_fail("zone '%s' does not normalise to itself", norm);
}

static void owner_name(const char *text, const char *zone_text)
{
	char zone[DNAME_TEXT_MAX], owner[DNAME_TEXT_MAX], again[DNAME_TEXT_MAX];
	struct errmsg err = { "" };

	if (dname_zone_normalize(zone_text, zone, &err) < 0)
		return;
	int r = dname_owner_normalize(text, zone, owner, &err);
	if (r < 0) {
		fuzz_check_message("dname_owner_normalize", r, err.text);
		return;
	}
	if (!dname_is_at_or_below(owner, zone))
		fuzz_fail("owner '%s' is not inside zone '%s'", owner, zone);
	if (dname_owner_normalize(owner, zone, again, &err) < 0 || strcmp(owner, again) != 0)
		fuzz_fail("owner '%s' does not normalise to itself in '%s'", owner, zone);
	/* The form the controller stores it in. */
	struct rr rr = { .type = 1, .content = (char *)"192.0.2.1" };
	struct model_record mr;
	memcpy(rr.owner, owner, sizeof(owner));
	if (model_record_from_rr(&rr, zone, &mr) < 0)
		return;
	r = dname_owner_normalize(mr.name, zone, again, &err);
	if (r < 0 || strcmp(owner, again) != 0)
		fuzz_fail("owner '%s' is stored as '%s', which reads back as %s", owner, mr.name,
			  r < 0 ? err.text : again);
	model_record_clear(&mr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	if (text == NULL)
		return 0;
	char *zone = strchr(text, '\n');
	if (zone != NULL)
		*zone++ = '\0';
	zone_name(text);
	if (zone != NULL)
		owner_name(text, zone);
	free(text);
	return 0;
}
