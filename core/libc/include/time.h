/* Damselfly C runtime: <time.h>, on the monotonic clock. */
#ifndef _DF_TIME_H
#define _DF_TIME_H
#include <stddef.h>
typedef long time_t;
typedef long clock_t;
#define CLOCKS_PER_SEC 1000000L
struct timespec {
	time_t tv_sec;
	long tv_nsec;
};
#define CLOCK_MONOTONIC 1
clock_t clock(void);
int clock_gettime(int clk, struct timespec *ts);
#endif
