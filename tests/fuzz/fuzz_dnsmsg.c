/* Messages to the controller's DNS listener (src/whm/dnsmsg.h): the first
 * byte says whether the harness signs the rest with the TSIG key the
 * controller has (bit 0: signed, so the UPDATE path past TSIG is reached)
 * and whether it came as a datagram (bit 1), the rest is the message. The controller is a real one in WHM_TOOL mode
 * on a SQLite store in a temporary directory, with zone example.org. and
 * a key allowed every name of it; changes that are applied stay for the
 * next input. Oracles: an answer is a response (QR set) to the same ID,
 * no longer than the buffer (a datagram's: 1,232 bytes), that libknot
 * parses; nothing is answered to a response. */
#include <libknot/libknot.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dnsmsg.h"
#include "fuzz.h"
#include "tsig.h"
#include "upolicy.h"
#include "zones.h"

#define ZONE "example.org."
#define KEY "fuzz.example.org."
#define SECRET "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

static struct whm w;
static knot_tsig_key_t key;
static char dir[64];

static void done(void)
{
	char path[128];
	const char *names[] = { "whm.conf", "whm.sqlite3", "whm.sqlite3-wal", "whm.sqlite3-shm" };

	whm_deinit(&w);
	knot_tsig_key_deinit(&key);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void setup(void)
{
	struct tsig_change c = { .name = KEY, .algorithm = "hmac-sha256", .secret = SECRET };
	struct zone_result res;
	struct tsig_key k;
	struct errmsg err;
	char path[128], name[DNAME_TEXT_MAX];
	json_t *rules = NULL;

	snprintf(dir, sizeof(dir), "/tmp/fuzz_dnsmsg_XXXXXX");
	if (mkdtemp(dir) == NULL)
		fuzz_fail("mkdtemp");
	snprintf(path, sizeof(path), "%s/whm.conf", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		fuzz_fail("cannot write %s", path);
	fprintf(f, "store-path = %s/whm.sqlite3\nlog-level = err\n", dir);
	fclose(f);
	chmod(path, 0600);
	json_t *body = json_pack("{s:[{s:s,s:s,s:[s]}]}", "rules", "zone", ZONE, "match", "zone",
				 "types", "ANY");
	if (whm_conf_load(path, &w.conf, &err) < 0 || whm_init(&w, WHM_TOOL, &err) < 0 ||
	    zones_create(&w, ZONE, 0, 0, "fuzz", &res, &err) < 0 ||
	    tsig_create(&w, &c, "fuzz", &k, &err) < 0 ||
	    upolicy_set(&w, KEY, body, "fuzz", name, &rules, &err) < 0 ||
	    knot_tsig_key_init(&key, "hmac-sha256", KEY, SECRET) != KNOT_EOK)
		fuzz_fail("setup: %s", err.text);
	tsig_key_clear(&k);
	json_decref(rules);
	json_decref(body);
	atexit(done);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint8_t q[65535], out[65535];
	uint8_t digest[64];
	size_t len, alen, dlen = sizeof(digest);

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 1 || size - 1 > sizeof(q))
		return 0;
	len = size - 1;
	memcpy(q, data + 1, len);
	if ((data[0] & 1) && len >= KNOT_WIRE_HEADER_SIZE &&
	    knot_tsig_sign(q, &len, sizeof(q), NULL, 0, digest, &dlen, &key, 0, 0) != KNOT_EOK)
		return 0;
	bool response = len >= KNOT_WIRE_HEADER_SIZE && knot_wire_get_qr(q);
	uint16_t id = len >= KNOT_WIRE_HEADER_SIZE ? knot_wire_get_id(q) : 0;
	bool datagram = data[0] & 2;
	int r = dnsmsg_answer(&w, q, len, out, sizeof(out), datagram, &alen, "fuzz", NULL);
	if (r < 0)
		return 0;
	if (r != 0 || response)
		fuzz_fail("dnsmsg_answer: %d to a%s message", r, response ? " response" : "");
	if (alen < KNOT_WIRE_HEADER_SIZE || alen > sizeof(out) || !knot_wire_get_qr(out) ||
	    knot_wire_get_id(out) != id)
		fuzz_fail("answer of %zu bytes is no response to query %u", alen, id);
	if (datagram && alen > 1232)
		fuzz_fail("datagram answer of %zu bytes", alen);
	knot_pkt_t *pkt = knot_pkt_new(out, (uint16_t)alen, NULL);
	if (pkt == NULL)
		return 0;
	int p = knot_pkt_parse(pkt, 0);
	knot_pkt_free(pkt);
	if (p != KNOT_EOK)
		fuzz_fail("answer does not parse: %s", knot_strerror(p));
	return 0;
}
