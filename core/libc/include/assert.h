/* Damselfly C runtime: assert() panics (there is no NDEBUG build). */
#ifndef _DF_ASSERT_H
#define _DF_ASSERT_H
_Noreturn void __assert_fail(const char *expr, const char *file, unsigned line,
    const char *func);
#define assert(e) \
	((e) ? (void)0 : __assert_fail(#e, __FILE__, __LINE__, __func__))
#define static_assert _Static_assert
#endif
