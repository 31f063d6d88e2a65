#ifndef NETWATCH_CALLOCATOR_H
#define NETWATCH_CALLOCATOR_H
#include <stddef.h>
/// Serves allocations of `bytes` and more straight from mmap, always (glibc otherwise raises
/// this threshold to the largest block freed, so one large transient buffer makes later ones
/// come from the heap, where their pages stay after they are freed).
void callocator_fix_mmap_threshold(size_t bytes);
/// Hands freed heap pages back to the kernel (glibc malloc_trim(0)); returns whether any were.
int callocator_release_free_memory(void);
/// Bytes the allocator has handed out and not got back, from the heap or mmap (glibc
/// mallinfo2().uordblks + hblkhd).
size_t callocator_bytes_in_use(void);
#endif
