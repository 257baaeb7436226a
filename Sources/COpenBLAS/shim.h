#include <cblas.h>
/* glibc's mallopt, for the network engine's heap settings (FacetNN's Heap). */
#include <malloc.h>
