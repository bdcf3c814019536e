/* Damselfly C runtime: setjmp/longjmp (callee-saved registers only). */
#ifndef _DF_SETJMP_H
#define _DF_SETJMP_H
typedef unsigned long jmp_buf[8];
int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int val);
#endif
