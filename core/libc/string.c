/*
 * <string.h> for the kernel. memcpy and memset use the string
 * instructions, 8 bytes an iteration and then the tail: modern CPUs run
 * them at full speed ("fast strings"), and QEMU's TCG, which executes a
 * rep instruction one iteration at a time, does 8 times fewer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *
memcpy(void *restrict d, const void *restrict s, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

void *
memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp;
	const unsigned char *sp;

	/* d below s, or no overlap: a forward copy is right. */
	if ((uintptr_t)d - (uintptr_t)s >= n)
		return memcpy(d, s, n);
	/* d inside [s, s+n): copy backwards, the direction flag set only for
	 * the copy (the ABI requires it clear at every call). */
	dp = (unsigned char *)d + n - 1;
	sp = (const unsigned char *)s + n - 1;
	__asm__ volatile("std; rep movsb; cld"
			 : "+D"(dp), "+S"(sp), "+c"(n)
			 :
			 : "memory");
	return d;
}

void *
memset(void *d, int c, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n > 0; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *
memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n > 0; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)(uintptr_t)p;
	return NULL;
}

size_t
strlen(const char *s)
{
	const char *p = s;

	while (*p != 0)
		p++;
	return (size_t)(p - s);
}

size_t
strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != 0)
		n++;
	return n;
}

int
strcmp(const char *a, const char *b)
{
	while (*a != 0 && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (*a == 0)
			return 0;
	}
	return 0;
}

char *
strcpy(char *restrict d, const char *restrict s)
{
	return memcpy(d, s, strlen(s) + 1);
}

char *
strncpy(char *restrict d, const char *restrict s, size_t n)
{
	size_t l = strnlen(s, n);

	memcpy(d, s, l);
	memset(d + l, 0, n - l);
	return d;
}

size_t
strlcpy(char *restrict d, const char *restrict s, size_t n)
{
	size_t l = strlen(s);

	if (n > 0) {
		size_t c = l < n - 1 ? l : n - 1;
		memcpy(d, s, c);
		d[c] = 0;
	}
	return l;
}

size_t
strlcat(char *restrict d, const char *restrict s, size_t n)
{
	size_t dl = strnlen(d, n);

	if (dl == n)
		return n + strlen(s);
	return dl + strlcpy(d + dl, s, n - dl);
}

char *
strcat(char *restrict d, const char *restrict s)
{
	strcpy(d + strlen(d), s);
	return d;
}

char *
strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)(uintptr_t)s;
		if (*s == 0)
			return NULL;
	}
}

char *
strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (*s == 0)
			return (char *)(uintptr_t)last;
	}
}

char *
strstr(const char *h, const char *n)
{
	size_t nl = strlen(n);

	for (; *h != 0 || nl == 0; h++) {
		if (strncmp(h, n, nl) == 0)
			return (char *)(uintptr_t)h;
		if (*h == 0)
			break;
	}
	return NULL;
}

size_t
strspn(const char *s, const char *accept)
{
	size_t n = 0;

	while (s[n] != 0 && strchr(accept, s[n]) != NULL)
		n++;
	return n;
}

size_t
strcspn(const char *s, const char *reject)
{
	size_t n = 0;

	while (s[n] != 0 && strchr(reject, s[n]) == NULL)
		n++;
	return n;
}

char *
strndup(const char *s, size_t n)
{
	size_t l = strnlen(s, n);
	char *d = malloc(l + 1);

	if (d != NULL) {
		memcpy(d, s, l);
		d[l] = 0;
	}
	return d;
}

char *
strdup(const char *s)
{
	return strndup(s, strlen(s));
}

char *
strerror(int err)
{
	static const struct {
		int e;
		const char *s;
	} msgs[] = {
		{ 0, "Success" },
		{ EPERM, "Operation not permitted" },
		{ ENOENT, "No such file or directory" },
		{ EIO, "Input/output error" },
		{ EBADF, "Bad file descriptor" },
		{ EAGAIN, "Resource temporarily unavailable" },
		{ ENOMEM, "Cannot allocate memory" },
		{ EACCES, "Permission denied" },
		{ EEXIST, "File exists" },
		{ ENODEV, "No such device" },
		{ ENOTDIR, "Not a directory" },
		{ EISDIR, "Is a directory" },
		{ EINVAL, "Invalid argument" },
		{ ENOSPC, "No space left on device" },
		{ EROFS, "Read-only file system" },
		{ ERANGE, "Numerical result out of range" },
		{ ENAMETOOLONG, "File name too long" },
		{ ENOSYS, "Function not implemented" },
		{ ENOTEMPTY, "Directory not empty" },
		{ ETIMEDOUT, "Connection timed out" },
		{ ECONNREFUSED, "Connection refused" },
		{ ECONNRESET, "Connection reset by peer" },
	};
	size_t i;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (msgs[i].e == err)
			return (char *)(uintptr_t)msgs[i].s;
	return (char *)(uintptr_t) "Unknown error";
}
