/* Record content per type: the input is "<type> <RDATA text>", the type
 * read by rr_type_parse() and the data by rr_parse() (libzscanner, the
 * per-type rules, libknot's canonical text) for www.example.com. in zone
 * example.com., or, after a first line "$<zone>", for the apex of that zone
 * (relative names in the data grow with it).
 * Oracles for accepted data: its canonical text parses again to the same
 * text and wire (the controller stores that text and every node parses it
 * again), and the controller's stored form of the record (name, type,
 * content without the MX/SRV priority, priority) goes back through
 * model_record_parse() to the same form. */
#include "fuzz.h"
#include "model/model.h"

static void round_trip(const struct rr *rr, const char *origin)
{
	struct errmsg err = { "" };
	struct rr again;

	for (const char *p = rr->content; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			fuzz_fail("canonical text with byte 0x%02x", (unsigned char)*p);
	int r = rr_parse(rr->owner, rr->type, rr->ttl, rr->content, origin, &again, &err);
	if (r < 0)
		fuzz_fail("canonical '%s' refused: %s", rr->content, err.text);
	if (strcmp(again.content, rr->content) != 0 || again.wire_len != rr->wire_len ||
	    memcmp(again.wire, rr->wire, rr->wire_len) != 0)
		fuzz_fail("canonical '%s' became '%s'", rr->content, again.content);
	rr_clear(&again);

	struct model_record mr, mr2;
	if (model_record_from_rr(rr, origin, &mr) < 0)
		fuzz_fail("model_record_from_rr failed");
	json_t *rec =
	    json_pack("{s:s,s:s,s:s,s:I,s:I}", "name", mr.name, "type", mr.type, "content",
		      mr.content, "ttl", (json_int_t)mr.ttl, "priority", (json_int_t)mr.priority);
	if (rec == NULL)
		fuzz_fail("json_pack failed");
	r = model_record_parse(rec, origin, 3600, &mr2, &err);
	json_decref(rec);
	if (r < 0)
		fuzz_fail("stored form '%s' '%s' %u '%s' refused: %s", mr.name, mr.type,
			  mr.priority, mr.content, err.text);
	if (strcmp(mr.name, mr2.name) != 0 || strcmp(mr.type, mr2.type) != 0 ||
	    strcmp(mr.content, mr2.content) != 0 || mr.priority != mr2.priority ||
	    mr.ttl != mr2.ttl)
		fuzz_fail("stored form '%s' %u became '%s' %u", mr.content, mr.priority,
			  mr2.content, mr2.priority);
	model_record_clear(&mr);
	model_record_clear(&mr2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errmsg err = { "" };
	uint16_t type;
	struct rr rr;

	char origin[DNAME_TEXT_MAX] = "example.com.";
	const char *owner = "www.example.com.";
	char *all = fuzz_str(data, size), *text = all;
	if (all == NULL)
		return 0;
	if (text[0] == '$') {
		char *nl = strchr(text, '\n');
		if (nl == NULL) {
			free(all);
			return 0;
		}
		*nl = '\0';
		if (dname_zone_normalize(text + 1, origin, &err) < 0) {
			free(all);
			return 0;
		}
		owner = origin;
		text = nl + 1;
	}
	char *rdata = strchr(text, ' ');
	if (rdata != NULL)
		*rdata++ = '\0';
	int r = rr_type_parse(text, &type, &err);
	if (r < 0) {
		fuzz_check_message("rr_type_parse", r, err.text);
	} else {
		err.text[0] = '\0';
		r = rr_parse(owner, type, 3600, rdata ? rdata : "", origin, &rr, &err);
		if (r < 0) {
			fuzz_check_message("rr_parse", r, err.text);
		} else {
			round_trip(&rr, origin);
			rr_clear(&rr);
		}
	}
	free(all);
	return 0;
}
