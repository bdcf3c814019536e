/*
 * The printf formatter behind kprintf, the log and the C runtime's
 * snprintf family. Portable: the host unit tests compare it with glibc's
 * vsnprintf over thousands of formats.
 *
 * Supported: %d %i %u %o %x %X %c %s %p %%, the flags - + space # 0,
 * width and precision (also as *), and the length modifiers hh h l ll j z
 * t. Output matches C99 (and glibc's "(nil)" and "(null)").
 *
 * Not supported: floating point (%f %e %g %a; Damselfly's own code is
 * built with -mgeneral-regs-only, see cmake/damselfly.cmake) and %n
 * (a write through a format string is a vulnerability, not a feature).
 * These are copied to the output as written; in the x86-64 ABI a double
 * travels in the vector-register area of the va_list, so skipping it does
 * not shift the integer arguments that follow.
 *
 * Interface:
 *  - fmt_vsnprintf() behaves as vsnprintf(): it returns the length the
 *    whole output would have, and writes at most size bytes including the
 *    terminating NUL (nothing when size is 0).
 */
#include <limits.h>
#include "core/fmt.h"

struct out {
	char *o_buf;
	size_t o_size;
	size_t o_len; /* characters produced, written or not */
};

struct spec {
	int sp_left, sp_plus, sp_space, sp_alt, sp_zero;
	int sp_width;
	int sp_prec; /* -1 when not given */
	int sp_len;  /* 'H' hh, 'h', 'l', 'L' ll, 'j', 'z', 't' or 0 */
};

static void
put(struct out *o, char c)
{
	if (o->o_len + 1 < o->o_size)
		o->o_buf[o->o_len] = c;
	o->o_len++;
}

/* n copies of c: written while they fit, counted beyond (padding can be
 * as wide as INT_MAX). */
static void
put_n(struct out *o, char c, int n)
{
	while (n > 0 && o->o_len + 1 < o->o_size) {
		put(o, c);
		n--;
	}
	if (n > 0)
		o->o_len += (size_t)n;
}

static void
put_str(struct out *o, const char *s, size_t n)
{
	while (n-- > 0)
		put(o, *s++);
}

/* Emits body (n chars) with prefix, zero padding and width applied. */
static void
emit(struct out *o, const struct spec *sp, const char *prefix, const char *body,
    int n, int zeros)
{
	int plen = 0, total, pad;

	while (prefix[plen] != 0)
		plen++;
	total = plen + zeros + n;
	pad = sp->sp_width > total ? sp->sp_width - total : 0;
	if (!sp->sp_left && !(sp->sp_zero && sp->sp_prec < 0))
		put_n(o, ' ', pad);
	put_str(o, prefix, (size_t)plen);
	if (!sp->sp_left && sp->sp_zero && sp->sp_prec < 0)
		put_n(o, '0', pad);
	put_n(o, '0', zeros);
	put_str(o, body, (size_t)n);
	if (sp->sp_left)
		put_n(o, ' ', pad);
}

static int
utoa(char *end, uintmax_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do {
		*--end = digits[v % base];
		v /= base;
		n++;
	} while (v != 0);
	return n;
}

static void
fmt_int(struct out *o, struct spec *sp, uintmax_t v, bool neg, char conv)
{
	char buf[32], *end = buf + sizeof(buf);
	const char *prefix = "";
	unsigned base = conv == 'o'	 ? 8 :
	    (conv == 'x' || conv == 'X') ? 16 :
					   10;
	int n = 0, zeros = 0;

	if (!(v == 0 && sp->sp_prec == 0))
		n = utoa(end, v, base, conv == 'X');
	if (sp->sp_prec > n)
		zeros = sp->sp_prec - n;
	if (conv == 'd' || conv == 'i')
		prefix = neg	 ? "-" :
		    sp->sp_plus	 ? "+" :
		    sp->sp_space ? " " :
				   "";
	else if (sp->sp_alt && conv == 'o' && zeros == 0 &&
	    (n == 0 || end[-n] != '0'))
		zeros = 1;
	else if (sp->sp_alt && v != 0 && conv == 'x')
		prefix = "0x";
	else if (sp->sp_alt && v != 0 && conv == 'X')
		prefix = "0X";
	emit(o, sp, prefix, end - n, n, zeros);
}

static void
fmt_str(struct out *o, struct spec *sp, const char *s)
{
	int n = 0;

	if (s == NULL)
		s = (sp->sp_prec < 0 || sp->sp_prec >= 6) ? "(null)" : "";
	while (s[n] != 0 && (sp->sp_prec < 0 || n < sp->sp_prec))
		n++;
	sp->sp_zero = 0;
	sp->sp_prec = -1;
	emit(o, sp, "", s, n, 0);
}

static void
fmt_ptr(struct out *o, struct spec *sp, void *p)
{
	if (p == NULL) {
		sp->sp_prec = -1;
		sp->sp_zero = 0;
		emit(o, sp, "", "(nil)", 5, 0);
		return;
	}
	sp->sp_alt = 1;
	sp->sp_plus = sp->sp_space = 0;
	fmt_int(o, sp, (uintptr_t)p, false, 'x');
}

static const char *
parse_flags(const char *f, struct spec *sp)
{
	for (;; f++) {
		switch (*f) {
		case '-':
			sp->sp_left = 1;
			break;
		case '+':
			sp->sp_plus = 1;
			break;
		case ' ':
			sp->sp_space = 1;
			break;
		case '#':
			sp->sp_alt = 1;
			break;
		case '0':
			sp->sp_zero = 1;
			break;
		default:
			return f;
		}
	}
}

static const char *
parse_number(const char *f, int *v)
{
	long n = 0;

	while (*f >= '0' && *f <= '9') {
		if (n < INT_MAX / 10)
			n = n * 10 + (*f - '0');
		f++;
	}
	*v = (int)(n > INT_MAX ? INT_MAX : n);
	return f;
}

static const char *
parse_length(const char *f, struct spec *sp)
{
	switch (*f) {
	case 'h':
		sp->sp_len = f[1] == 'h' ? 'H' : 'h';
		return f + (f[1] == 'h' ? 2 : 1);
	case 'l':
		sp->sp_len = f[1] == 'l' ? 'L' : 'l';
		return f + (f[1] == 'l' ? 2 : 1);
	case 'j':
	case 'z':
	case 't':
		sp->sp_len = *f;
		return f + 1;
	}
	return f;
}

static intmax_t
arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->sp_len) {
	case 'H':
		return (signed char)va_arg(*ap, int);
	case 'h':
		return (short)va_arg(*ap, int);
	case 'l':
		return va_arg(*ap, long);
	case 'L':
		return va_arg(*ap, long long);
	case 'j':
		return va_arg(*ap, intmax_t);
	case 'z':
	case 't':
		return va_arg(*ap, ptrdiff_t);
	}
	return va_arg(*ap, int);
}

static uintmax_t
arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->sp_len) {
	case 'H':
		return (unsigned char)va_arg(*ap, unsigned);
	case 'h':
		return (unsigned short)va_arg(*ap, unsigned);
	case 'l':
		return va_arg(*ap, unsigned long);
	case 'L':
		return va_arg(*ap, unsigned long long);
	case 'j':
		return va_arg(*ap, uintmax_t);
	case 'z':
	case 't':
		return va_arg(*ap, size_t);
	}
	return va_arg(*ap, unsigned);
}

/* Formats one conversion; returns false for one we do not support. */
static bool
convert(struct out *o, struct spec *sp, char c, va_list *ap)
{
	intmax_t sv;
	char ch;

	switch (c) {
	case 'd':
	case 'i':
		sv = arg_signed(sp, ap);
		fmt_int(o, sp, sv < 0 ? -(uintmax_t)sv : (uintmax_t)sv, sv < 0,
		    c);
		return true;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		fmt_int(o, sp, arg_unsigned(sp, ap), false, c);
		return true;
	case 'c':
		ch = (char)va_arg(*ap, int);
		sp->sp_prec = -1;
		sp->sp_zero = 0;
		emit(o, sp, "", &ch, 1, 0);
		return true;
	case 's':
		fmt_str(o, sp, va_arg(*ap, const char *));
		return true;
	case 'p':
		fmt_ptr(o, sp, va_arg(*ap, void *));
		return true;
	case '%':
		put(o, '%');
		return true;
	}
	return false;
}

int
fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	va_list aq;
	const char *start;

	va_copy(aq, ap);
	while (*fmt != 0) {
		struct spec sp = { .sp_prec = -1 };
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		start = fmt++;
		fmt = parse_flags(fmt, &sp);
		if (*fmt == '*') {
			sp.sp_width = va_arg(aq, int);
			if (sp.sp_width < 0) {
				sp.sp_left = 1;
				sp.sp_width = sp.sp_width == INT_MIN ?
				    INT_MAX :
				    -sp.sp_width;
			}
			fmt++;
		} else {
			fmt = parse_number(fmt, &sp.sp_width);
		}
		if (*fmt == '.') {
			fmt++;
			if (*fmt == '*') {
				sp.sp_prec = va_arg(aq, int);
				if (sp.sp_prec < 0)
					sp.sp_prec = -1;
				fmt++;
			} else {
				fmt = parse_number(fmt, &sp.sp_prec);
			}
		}
		fmt = parse_length(fmt, &sp);
		if (*fmt == 0 || !convert(&o, &sp, *fmt, &aq)) {
			/* Unsupported or cut short: copy it as written. */
			put_str(&o, start, (size_t)(fmt - start + (*fmt != 0)));
		}
		if (*fmt != 0)
			fmt++;
	}
	va_end(aq);
	if (size > 0)
		buf[o.o_len < size ? o.o_len : size - 1] = 0;
	return o.o_len > INT_MAX ? INT_MAX : (int)o.o_len;
}

int
fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
