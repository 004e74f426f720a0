/* The BIND zone file importer: the input is a zone file for example.com.
 * (see fuzz_import.h). */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(IMPORT_BIND, data, size);
	return 0;
}
