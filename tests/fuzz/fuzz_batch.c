/* The agent's batch body (POST /api/dns/sync-batch), read by the spool as
 * the route reads it: fed once whole and once in chunks of varying sizes,
 * which must come to the same verdict; an accepted batch must be valid
 * JSON of the shape {"zones": [<object>, ...]} with as many elements, and
 * is then read back zone by zone as apply_batch() reads it. The spool's unlinked files live
 * in a temporary directory removed at exit. */
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "spool.h"

static char spool_dir[] = "/tmp/yumna-fuzz-batch-XXXXXX";

static void remove_dir(void)
{
	rmdir(spool_dir);
}

static const struct spool_config *config(void)
{
	static struct spool_config cfg = {
		.dir = spool_dir,
		.limits = { .max_rrset = 20, .max_records = 200 },
		.soa = { "ns1.example.net.", "hostmaster.example.net.", 10800, 3600, 604800, 3600,
			 3600 },
		.max_zones = 8,
		.max_element = 65536,
	};
	static bool ready;

	if (!ready) {
		if (mkdtemp(spool_dir) == NULL)
			fuzz_fail("cannot create a temporary directory");
		atexit(remove_dir);
		ready = true;
	}
	return &cfg;
}

/* Feed 'data' in chunks of 'step' bytes, or of varying sizes when 'step'
 * is 0, stopping where the route would; then finish. */
static int run(struct spool *s, const uint8_t *data, size_t size, size_t step)
{
	static const size_t steps[] = { 1, 2, 3, 5, 8, 13, 64, 200, 1, 4096 };

	for (size_t off = 0, k = 0; off < size; k++) {
		size_t n = step ? step : steps[k % (sizeof(steps) / sizeof(steps[0]))];
		if (n > size - off)
			n = size - off;
		if (spool_feed(s, (const char *)data + off, n) < 0)
			break;
		off += n;
	}
	return spool_finish(s);
}

static void read_back(struct spool *s)
{
	size_t zones = 0;
	struct backend_zone z;
	int r;

	if (spool_rewind(s) < 0)
		fuzz_fail("spool_rewind failed");
	for (;;) {
		const char *names[4];
		size_t ahead = spool_ahead(s, names, 4);
		r = spool_next(s, &z);
		if (r <= 0)
			break;
		if (ahead == 0 || strcmp(names[0], z.origin) != 0)
			fuzz_fail("spool_ahead and spool_next disagree on zone %zu", zones);
		for (size_t i = 0; i < z.n; i++)
			if (z.rrs[i].owner == NULL || z.rrs[i].content == NULL)
				fuzz_fail("zone %zu, record %zu read back without text", zones, i);
		zones++;
	}
	if (r < 0 || zones != spool_zones(s))
		fuzz_fail("read back %zu zones of %zu (%d)", zones, spool_zones(s), r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct spool_config *cfg = config();
	struct spool *whole, *chunked;

	if (spool_new(cfg, &whole) < 0)
		fuzz_fail("spool_new failed");
	if (spool_new(cfg, &chunked) < 0)
		fuzz_fail("spool_new failed");
	int r = run(whole, data, size, size ? size : 1);
	int r2 = run(chunked, data, size, 0);
	if (r != r2 || spool_zones(whole) != spool_zones(chunked) ||
	    !json_equal(spool_errors(whole), spool_errors(chunked)))
		fuzz_fail("whole: %d after %zu zones, in chunks: %d after %zu zones", r,
			  spool_zones(whole), r2, spool_zones(chunked));
	size_t i;
	json_t *e;
	json_array_foreach(spool_errors(whole), i, e)
		fuzz_check_message("spool", r, json_string_value(e));
	if (r == 0) {
		json_t *doc = json_loadb((const char *)data, size, 0, NULL);
		json_t *zones = json_object_get(doc, "zones");
		if (json_object_size(doc) != 1 || !json_is_array(zones) ||
		    json_array_size(zones) != spool_zones(whole))
			fuzz_fail("a batch of %zu zones was accepted, not {\"zones\": [...]}",
				  spool_zones(whole));
		json_array_foreach(zones, i, e)
			if (!json_is_object(e))
				fuzz_fail("element %zu accepted is not an object", i);
		json_decref(doc);
		read_back(whole);
	} else if (json_array_size(spool_errors(whole)) == 0)
		fuzz_fail("batch refused (%d) without a message", r);
	spool_free(whole);
	spool_free(chunked);
	return 0;
}
