/* Damselfly C runtime: gcc's freestanding definitions. */
#ifndef _DF_STDINT_H
#define _DF_STDINT_H
#include <stdint-gcc.h>
#endif
