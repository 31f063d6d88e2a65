#include "callocator.h"
#include <stdlib.h> /* brings in <features.h>, which defines __GLIBC__ */
#if defined(__GLIBC__)
#include <malloc.h>
void callocator_fix_mmap_threshold(size_t bytes) { mallopt(M_MMAP_THRESHOLD, (int)bytes); }
int callocator_release_free_memory(void) { return malloc_trim(0); }
size_t callocator_bytes_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd; /* heap blocks plus mmapped ones */
}
#else
void callocator_fix_mmap_threshold(size_t bytes) { (void)bytes; }
int callocator_release_free_memory(void) { return 0; }
size_t callocator_bytes_in_use(void) { return 0; }
#endif
