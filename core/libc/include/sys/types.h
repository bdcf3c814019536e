/* Damselfly C runtime: <sys/types.h>, the types zlib's headers name. */
#ifndef _DF_SYS_TYPES_H
#define _DF_SYS_TYPES_H
#include <stddef.h>
#include <stdint.h>
typedef long ssize_t;
typedef long off_t;
typedef long off64_t;
typedef int pid_t;
typedef unsigned int mode_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
#endif
