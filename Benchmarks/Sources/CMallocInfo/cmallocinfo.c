#include "cmallocinfo.h"
#include <malloc.h>

size_t cmallocinfo_allocated_bytes(void) { return mallinfo2().uordblks; }
void cmallocinfo_trim(void) { malloc_trim(0); }
