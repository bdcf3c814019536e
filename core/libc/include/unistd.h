/*
 * Damselfly C runtime: <unistd.h>. zlib's headers include it for SEEK_*
 * and off_t; there are no file descriptors, so no I/O functions.
 */
#ifndef _DF_UNISTD_H
#define _DF_UNISTD_H
#include <sys/types.h>
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif
