/* A minimal watchdog daemon, as a Linux watchdog user writes one: open the device, set the timeout, then
 * write a heartbeat every INTERVAL_MS forever (until killed). With "magic" as 4th argument it instead pings
 * COUNT times and closes with the magic 'V'. Usage: wdt_heartbeat DEVICE TIMEOUT INTERVAL_MS [magic COUNT] */
#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  int fd = open(argv[1], O_WRONLY);
  if (fd < 0) return perror("open"), 1;
  struct watchdog_info info;
  memset(&info, 0, sizeof info);
  if (ioctl(fd, WDIOC_GETSUPPORT, &info) != 0) return perror("WDIOC_GETSUPPORT"), 1;
  int timeout = atoi(argv[2]);
  if (ioctl(fd, WDIOC_SETTIMEOUT, &timeout) != 0) return perror("WDIOC_SETTIMEOUT"), 1;
  printf("identity=%s options=0x%x timeout=%d\n", (char*)info.identity, info.options, timeout);
  fflush(stdout);
  struct timespec interval = {atoi(argv[3]) / 1000, (atoi(argv[3]) % 1000) * 1000000L};
  int count = argc >= 6 && strcmp(argv[4], "magic") == 0 ? atoi(argv[5]) : -1;
  for (int i = 0; count < 0 || i < count; ++i) {
    if (write(fd, "\0", 1) != 1) return perror("write"), 1;
    if (i % 2 && ioctl(fd, WDIOC_KEEPALIVE, 0) != 0) return perror("WDIOC_KEEPALIVE"), 1;
    nanosleep(&interval, NULL);
  }
  if (write(fd, "V", 1) != 1) return perror("write V"), 1;
  close(fd);
  return 0;
}
