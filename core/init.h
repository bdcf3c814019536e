/* core/init.h: what the kernel expects of an image, and idling. */
#ifndef CORE_INIT_H
#define CORE_INIT_H

#define DAMSELFLY_VERSION "0.1"

/*
 * The application, one per image (images/<name>/). It runs on the boot
 * thread after the boot report; returning 0 powers the machine off,
 * anything else ends the run with a failure status.
 */
int app_main(void);

/* Idles for ever, or until poweroff_after_ms has passed. */
_Noreturn void kern_idle(void);

#endif
