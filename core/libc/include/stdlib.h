/* Damselfly C runtime: <stdlib.h>. malloc and friends sit on kmalloc. */
#ifndef _DF_STDLIB_H
#define _DF_STDLIB_H
#include <stddef.h>
#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
void *malloc(size_t n) __attribute__((malloc, alloc_size(1)));
void *calloc(size_t n, size_t size) __attribute__((malloc, alloc_size(1, 2)));
void *realloc(void *p, size_t n) __attribute__((alloc_size(2)));
void *reallocarray(void *p, size_t n, size_t size);
void *aligned_alloc(size_t align, size_t n) __attribute__((malloc));
int posix_memalign(void **out, size_t align, size_t n);
void free(void *p);
void qsort(void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *));
void *bsearch(const void *key, const void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *));
long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
int atoi(const char *s);
long atol(const char *s);
int abs(int x);
long labs(long x);
char *getenv(const char *name);
_Noreturn void abort(void);
_Noreturn void exit(int status);
#endif
