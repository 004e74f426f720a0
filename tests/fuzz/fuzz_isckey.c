/* A private key in the ISC format, as the PowerDNS API's cryptokey import
 * takes it: zkeys_import(). Oracles: a refusal has a message; an accepted
 * key is written back (its private_key) in the same format, which imports
 * again to the same DNSKEY and key tag. */
#include "fuzz.h"
#include "zkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_dnssec_key k, again;
	struct errmsg err = { "" };
	char *text = fuzz_str(data, size);

	if (text == NULL)
		return 0;
	int r = zkeys_import(text, "csk", &k, &err);
	free(text);
	if (r < 0) {
		fuzz_check_message("zkeys_import", r, err.text);
		return 0;
	}
	if (zkeys_import(k.private_key, "csk", &again, &err) < 0)
		fuzz_fail("the key written back is refused: %s", err.text);
	if (strcmp(k.dnskey, again.dnskey) != 0 || k.keytag != again.keytag ||
	    k.algorithm != again.algorithm)
		fuzz_fail("the key written back is another: %s / %s", k.dnskey, again.dnskey);
	store_dnssec_key_clear(&again);
	store_dnssec_key_clear(&k);
	return 0;
}
