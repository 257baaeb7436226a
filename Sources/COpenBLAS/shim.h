#include <cblas.h>
/* glibc's mallopt and madvise, for the network engine's heap settings (FacetNN's Heap). */
#include <malloc.h>
#include <sys/mman.h>
