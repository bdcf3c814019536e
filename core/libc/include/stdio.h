/*
 * Damselfly C runtime: <stdio.h>. stdout and stderr write to the console;
 * there are no files (open/fopen do not exist). No floating point in the
 * formats (see core/fmt.c).
 */
#ifndef _DF_STDIO_H
#define _DF_STDIO_H
#include <stdarg.h>
#include <stddef.h>
typedef struct df_file FILE;
extern FILE *stdin, *stdout, *stderr;
#define EOF    (-1)
#define BUFSIZ 1024
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int fprintf(FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int vfprintf(FILE *f, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
int snprintf(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int puts(const char *s);
int putchar(int c);
int fputs(const char *s, FILE *f);
int fputc(int c, FILE *f);
int putc(int c, FILE *f);
size_t fwrite(const void *p, size_t size, size_t n, FILE *f);
int fflush(FILE *f);
#endif
