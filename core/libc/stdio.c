/*
 * <stdio.h> for the kernel: formatted output to the console, and the
 * _FORTIFY_SOURCE entry points (__snprintf_chk ...) that Debian's static
 * libraries call. stdout and stderr are the console; stdin has nothing.
 * Writing to any other FILE fails with EBADF.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "arch/arch.h"
#include "core/fmt.h"
#include "core/kern.h"

struct df_file {
	int f_fd;
};
static struct df_file files[3] = { { 0 }, { 1 }, { 2 } };
FILE *stdin = &files[0], *stdout = &files[1], *stderr = &files[2];

static bool
writable(FILE *f)
{
	if (f == stdout || f == stderr)
		return true;
	errno = EBADF;
	return false;
}

int
vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	return fmt_vsnprintf(buf, n, fmt, ap);
}

int
snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fmt_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

int
vfprintf(FILE *f, const char *fmt, va_list ap)
{
	if (!writable(f))
		return -1;
	return kvprintf(fmt, ap);
}

int
fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

int
vprintf(const char *fmt, va_list ap)
{
	return kvprintf(fmt, ap);
}

int
printf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = kvprintf(fmt, ap);
	va_end(ap);
	return r;
}

size_t
fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	size_t total;

	if (!writable(f) || __builtin_mul_overflow(size, n, &total))
		return 0;
	arch_console_write(p, total);
	return n;
}

int
fputs(const char *s, FILE *f)
{
	return fwrite(s, 1, strlen(s), f) == strlen(s) ? 0 : EOF;
}

int
fputc(int c, FILE *f)
{
	char ch = (char)c;

	return fwrite(&ch, 1, 1, f) == 1 ? (unsigned char)c : EOF;
}

int
putc(int c, FILE *f)
{
	return fputc(c, f);
}

int
putchar(int c)
{
	return fputc(c, stdout);
}

int
puts(const char *s)
{
	arch_console_write(s, strlen(s));
	arch_console_write("\n", 1);
	return 0;
}

int
fflush(FILE *f)
{
	(void)f; /* the console is unbuffered */
	return 0;
}

/* ---- _FORTIFY_SOURCE entry points ---- */

int __snprintf_chk(char *buf, size_t n, int flag, size_t slen, const char *fmt,
    ...);
int __vsnprintf_chk(char *buf, size_t n, int flag, size_t slen, const char *fmt,
    va_list ap);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...);

int
__vsnprintf_chk(char *buf, size_t n, int flag, size_t slen, const char *fmt,
    va_list ap)
{
	(void)flag;
	if (n > slen)
		panic("__vsnprintf_chk: buffer overflow (%zu > %zu)", n, slen);
	return fmt_vsnprintf(buf, n, fmt, ap);
}

int
__snprintf_chk(char *buf, size_t n, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vsnprintf_chk(buf, n, flag, slen, fmt, ap);
	va_end(ap);
	return r;
}

int
__fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)flag;
	va_start(ap, fmt);
	r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

int
__printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)flag;
	va_start(ap, fmt);
	r = kvprintf(fmt, ap);
	va_end(ap);
	return r;
}
