#ifndef NETWATCH_CMALLOCINFO_H
#define NETWATCH_CMALLOCINFO_H
#include <stddef.h>
/// Bytes the glibc allocator has handed out and not got back (mallinfo2().uordblks).
size_t cmallocinfo_allocated_bytes(void);
/// Returns free memory to the system (malloc_trim(0)), so RSS figures mean what is held.
void cmallocinfo_trim(void);
#endif
