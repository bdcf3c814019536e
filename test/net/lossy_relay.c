/*
 * lossy_relay: carries Ethernet frames between a tap device and QEMU's
 * -netdev dgram (a Unix datagram socket), losing and reordering some in
 * each direction, as tc netem would on the tap (this machine's kernel has
 * no netem). Used by test/net/net_test.py --lossy; C because the Python
 * relay it replaces could not carry 100 MiB in a test's time.
 *
 *   lossy_relay TAP QEMU_SOCK RELAY_SOCK LOSS REORDER HOLD_MS SEED
 *
 * The tap must exist (in the caller's network namespace). QEMU's
 * socket is where QEMU listens (local.path), RELAY_SOCK where this program
 * binds (QEMU's remote.path). A frame is lost with probability LOSS;
 * otherwise, with probability REORDER and none held already in its
 * direction, it is held back until the next frame in that direction has
 * gone (or HOLD_MS has passed). Ends on SIGTERM or SIGINT and prints
 * "relay: N frames, L lost, H reordered" on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 65536

struct held {
	unsigned char buf[FRAME_MAX];
	ssize_t len; /* -1: none */
	double since;
};

static volatile sig_atomic_t stop;
static int tap, sock;
static struct sockaddr_un qemu;
static uint64_t rng;
static unsigned long frames, lost, reordered;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* xorshift64*: reproducible from the seed; statistics only. */
static double
uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 0x2545F4914F6CDD1DULL) >> 11) /
	    9007199254740992.0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
open_tap(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends a frame on in direction d. Lost frames are what the relay is
 * for: a failed send (QEMU not there yet, or gone) is one more. */
static void
out(int d, const void *p, size_t len)
{
	if (d == 0)
		(void)!sendto(sock, p, len, 0, (struct sockaddr *)&qemu,
		    sizeof(qemu));
	else
		(void)!write(tap, p, len);
}

static int
unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	strcpy(sa->sun_path, path);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct held held[2]; /* 0: to the guest, 1: to the host */
	static unsigned char buf[FRAME_MAX];
	struct sockaddr_un me;
	double loss, reorder, hold;
	int d, size = 4 << 20;
	struct pollfd pf[2];

	if (argc != 8) {
		fprintf(stderr,
		    "usage: lossy_relay TAP QEMU_SOCK RELAY_SOCK "
		    "LOSS REORDER HOLD_MS SEED\n");
		return 2;
	}
	loss = atof(argv[4]);
	reorder = atof(argv[5]);
	hold = atof(argv[6]) / 1000.0;
	rng = strtoull(argv[7], NULL, 0) | 1;
	if (loss < 0 || loss >= 1 || reorder < 0 || reorder >= 1 || hold <= 0) {
		fprintf(stderr,
		    "lossy_relay: LOSS and REORDER in [0,1), "
		    "HOLD_MS > 0\n");
		return 2;
	}
	if ((tap = open_tap(argv[1])) < 0) {
		fprintf(stderr, "lossy_relay: tap %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	if (unix_addr(argv[2], &qemu) < 0 || unix_addr(argv[3], &me) < 0) {
		fprintf(stderr, "lossy_relay: socket path too long\n");
		return 1;
	}
	unlink(argv[3]);
	sock = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&me, sizeof(me)) < 0) {
		fprintf(stderr, "lossy_relay: %s: %s\n", argv[3],
		    strerror(errno));
		return 1;
	}
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	held[0].len = held[1].len = -1;
	pf[0].fd = tap;
	pf[1].fd = sock;
	pf[0].events = pf[1].events = POLLIN;
	printf("relay: ready\n");
	fflush(stdout);
	while (!stop) {
		int n = poll(pf, 2, (int)(hold * 1000) + 1);
		double t = now_s();

		if (n < 0 && errno != EINTR)
			break;
		for (d = 0; n > 0 && d < 2; d++) {
			ssize_t len;

			if (!(pf[d].revents & POLLIN))
				continue;
			len = read(pf[d].fd, buf, sizeof(buf));
			if (len <= 0)
				continue;
			frames++;
			if (uniform() < loss) {
				lost++;
				continue;
			}
			if (held[d].len < 0 && uniform() < reorder) {
				memcpy(held[d].buf, buf, (size_t)len);
				held[d].len = len;
				held[d].since = t;
				reordered++;
				continue;
			}
			out(d, buf, (size_t)len);
			if (held[d].len >= 0) {
				out(d, held[d].buf, (size_t)held[d].len);
				held[d].len = -1;
			}
		}
		for (d = 0; d < 2; d++) {
			if (held[d].len < 0 || t - held[d].since < hold)
				continue;
			out(d, held[d].buf, (size_t)held[d].len);
			held[d].len = -1;
		}
	}
	printf("relay: %lu frames, %lu lost, %lu reordered\n", frames, lost,
	    reordered);
	unlink(argv[3]);
	return 0;
}
