/* The Route 53 importer: the input is ResourceRecordSets JSON for
 * example.com. (see fuzz_import.h). */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(IMPORT_ROUTE53, data, size);
	return 0;
}
