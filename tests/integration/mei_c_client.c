/* A plain C host program using a MEI device the way unmodified host software does (spec/mei.md §1, §6):
 * open, ioctl, write, poll (next to a pipe, as metee polls its cancel pipe), read, close.
 * It knows nothing of mesim, so it serves for the LD_PRELOAD route and the FUSE device alike.
 *
 *   mei_c_client DEVICE open-errno                 prints "open: OK" or "open: <errno name>"
 *   mei_c_client DEVICE connect GUID               prints "max_msg_length=N protocol_version=V"
 *   mei_c_client DEVICE echo GUID TEXT             connect, write TEXT, poll, read; prints the reply
 *   mei_c_client DEVICE errno-cases GUID           an echo client allowing one connection
 * (tests/support/test_clients.h) mei_c_client DEVICE eintr GUID                 a signal ends a blocking read with
 * EINTR; the fd still works mei_c_client DEVICE threads GUID               one thread blocks in read/poll while another
 * writes mei_c_client DEVICE amthi-provisioning-state   AMTHI GetProvisioningState; prints "provisioning_state=N"
 *   mei_c_client DEVICE amthi-backpressure         AMTHI requests written and never read stop at the driver's
 *                                                  tx queue limit: EAGAIN, no POLLOUT, a blocked write ends with EINTR
 *
 * Checks print "ok NAME" or "FAIL NAME: why"; the exit status is 0 only if all passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/mei.h>

static const char* g_device;
static int g_failures;

static void check(int ok, const char* name, const char* detail) {
  if (ok) {
    printf("ok %s\n", name);
  } else {
    printf("FAIL %s: %s\n", name, detail);
    ++g_failures;
  }
  fflush(stdout);
}

static const char* errnoName(int err) {
  switch (err) {
    case 0:
      return "OK";
    case ENOENT:
      return "ENOENT";
    case ENODEV:
      return "ENODEV";
    case ENOTTY:
      return "ENOTTY";
    case EBUSY:
      return "EBUSY";
    case EFBIG:
      return "EFBIG";
    case EAGAIN:
      return "EAGAIN";
    case EINTR:
      return "EINTR";
    case EMSGSIZE:
      return "EMSGSIZE";
    case EINVAL:
      return "EINVAL";
    case EMFILE:
      return "EMFILE";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case EFAULT:
      return "EFAULT";
    case EBADF:
      return "EBADF";
    default:
      return "E?";
  }
}

/* "12F80028-B4B7-4B2D-ACA8-46E0FF65814C" → uuid_le bytes (spec/mei.md §1.1). */
static int parseGuid(const char* text, uint8_t out[16]) {
  unsigned a, b, c, d[8];
  if (sscanf(text, "%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &a, &b, &c, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6],
             &d[7]) != 11)
    return -1;
  out[0] = (uint8_t)a;
  out[1] = (uint8_t)(a >> 8);
  out[2] = (uint8_t)(a >> 16);
  out[3] = (uint8_t)(a >> 24);
  out[4] = (uint8_t)b;
  out[5] = (uint8_t)(b >> 8);
  out[6] = (uint8_t)c;
  out[7] = (uint8_t)(c >> 8);
  for (int i = 0; i < 8; ++i) out[8 + i] = (uint8_t)d[i];
  return 0;
}

static int openDevice(int flags) { return open(g_device, O_RDWR | O_CLOEXEC | flags); }

/* 0 or errno; fills the client properties. */
static int connectClient(int fd, const uint8_t guid[16], struct mei_client* props) {
  struct mei_connect_client_data data;
  memset(&data, 0, sizeof data);
  memcpy(data.in_client_uuid.b, guid, 16);
  if (ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, &data) != 0) return errno;
  if (props) *props = data.out_client_properties;
  return 0;
}

/* The result of a call: value, or -errno. */
static long result(long r) { return r < 0 ? -errno : r; }

static long monotonicMs(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

/* metee's TeeRead: poll {fd, cancel pipe}, then a blocking read. */
static long pollThenRead(int fd, int cancelPipe, void* buffer, size_t length, int timeoutMs) {
  struct pollfd fds[2] = {{fd, POLLIN, 0}, {cancelPipe, POLLIN, 0}};
  int n = poll(fds, 2, timeoutMs);
  if (n < 0) return -errno;
  if (n == 0) return -ETIME;
  if (fds[1].revents) return -ECANCELED;
  if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) return -ENODEV;
  return result(read(fd, buffer, length));
}

static int cmdOpenErrno(void) {
  int fd = openDevice(0);
  printf("open: %s\n", errnoName(fd < 0 ? errno : 0));
  if (fd >= 0) close(fd);
  return 0;
}

static int cmdConnect(const uint8_t guid[16]) {
  int fd = openDevice(0);
  if (fd < 0) {
    printf("open: %s\n", errnoName(errno));
    return 1;
  }
  struct mei_client props;
  int err = connectClient(fd, guid, &props);
  if (err) {
    printf("connect: %s\n", errnoName(err));
    close(fd);
    return 1;
  }
  printf("max_msg_length=%u protocol_version=%u\n", props.max_msg_length, props.protocol_version);
  close(fd);
  return 0;
}

static int cmdEcho(const uint8_t guid[16], const char* text) {
  int fd = openDevice(0);
  int pipeFds[2];
  if (fd < 0 || pipe(pipeFds) != 0) {
    printf("open: %s\n", errnoName(errno));
    return 1;
  }
  struct mei_client props;
  int err = connectClient(fd, guid, &props);
  if (err) {
    printf("connect: %s\n", errnoName(err));
    return 1;
  }
  size_t length = strlen(text);
  long n = result(write(fd, text, length));
  if (n != (long)length) {
    printf("write: %s\n", errnoName((int)-n));
    return 1;
  }
  char* reply = calloc(1, props.max_msg_length + 1);
  n = pollThenRead(fd, pipeFds[0], reply, props.max_msg_length, 5000);
  if (n < 0) {
    printf("read: %s\n", errnoName((int)-n));
    return 1;
  }
  printf("reply=%.*s\n", (int)n, reply);
  free(reply);
  close(pipeFds[0]);
  close(pipeFds[1]);
  close(fd);
  return 0;
}

static int cmdErrnoCases(const uint8_t guid[16]) {
  char detail[160];
  char buffer[2048];
  int pipeFds[2];
  if (pipe(pipeFds) != 0) return 2;

  int fd = openDevice(0);
  snprintf(detail, sizeof detail, "open: %s", errnoName(errno));
  check(fd >= 0, "open", detail);
  if (fd < 0) return 1;

  long n = result(read(fd, buffer, sizeof buffer));
  snprintf(detail, sizeof detail, "got %ld", n);
  check(n == -ENODEV, "read-before-connect-ENODEV", detail);
  n = result(write(fd, "x", 1));
  snprintf(detail, sizeof detail, "got %ld", n);
  check(n == -ENODEV, "write-before-connect-ENODEV", detail);
  struct pollfd one = {fd, POLLIN, 0};
  n = result(poll(&one, 1, 0));
  snprintf(detail, sizeof detail, "poll %ld revents %#x", n, one.revents);
  check(n == 1 && (one.revents & POLLERR), "poll-before-connect-POLLERR", detail);

  uint8_t unknown[16];
  parseGuid("00000000-0000-0000-0000-000000000001", unknown);
  int err = connectClient(fd, unknown, NULL);
  check(err == ENOTTY, "connect-unknown-guid-ENOTTY", errnoName(err));
  n = result(ioctl(fd, _IO('H', 0x7f), 0));
  check(n == -ENOTTY, "unknown-ioctl-ENOTTY", errnoName((int)-n));

  struct mei_client props;
  memset(&props, 0, sizeof props);
  err = connectClient(fd, guid, &props);
  snprintf(detail, sizeof detail, "%s, max_msg_length %u", errnoName(err), props.max_msg_length);
  check(err == 0 && props.max_msg_length > 0, "connect-returns-max_msg_length", detail);
  if (err) return 1;
  printf("max_msg_length=%u protocol_version=%u\n", props.max_msg_length, props.protocol_version);
  err = connectClient(fd, guid, NULL);
  check(err == EBUSY, "second-connect-same-fd-EBUSY", errnoName(err));

  int other = openDevice(0);
  err = other >= 0 ? connectClient(other, guid, NULL) : errno;
  check(err == EBUSY, "second-fd-single-connection-client-EBUSY", errnoName(err));
  if (other >= 0) close(other);

  char* big = calloc(1, props.max_msg_length + 1);
  n = result(write(fd, big, props.max_msg_length + 1));
  check(n == -EFBIG, "write-too-long-EFBIG", errnoName((int)-n));
  free(big);
  n = result(write(fd, "", 0));
  snprintf(detail, sizeof detail, "got %ld", n);
  check(n == 0, "write-zero-bytes", detail);

  int flags = fcntl(fd, F_GETFL);
  check(fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK), "fcntl-O_NONBLOCK", "");
  n = result(read(fd, buffer, sizeof buffer));
  check(n == -EAGAIN, "nonblocking-read-EAGAIN", errnoName((int)-n));
  uint32_t event = 0;
  n = result(ioctl(fd, IOCTL_MEI_NOTIFY_GET, &event));
  check(n == -EAGAIN, "nonblocking-notify-get-EAGAIN", errnoName((int)-n));
  fcntl(fd, F_SETFL, flags);
  uint32_t enable = 2;
  n = result(ioctl(fd, IOCTL_MEI_NOTIFY_SET, &enable));
  check(n == -EINVAL, "notify-set-2-EINVAL", errnoName((int)-n));

  int nonblockingFd = openDevice(O_NONBLOCK);
  err = nonblockingFd >= 0 ? 0 : errno;
  if (!err) {
    n = result(read(nonblockingFd, buffer, sizeof buffer));
    check(n == -ENODEV, "open-O_NONBLOCK-unconnected-read-ENODEV", errnoName((int)-n));
    close(nonblockingFd);
  } else {
    check(0, "open-O_NONBLOCK", errnoName(err));
  }

  /* poll with a pipe alongside: only the pipe is ready */
  if (write(pipeFds[1], "c", 1) != 1) return 2;
  struct pollfd fds[2] = {{fd, POLLIN, 0}, {pipeFds[0], POLLIN, 0}};
  n = result(poll(fds, 2, 2000));
  snprintf(detail, sizeof detail, "poll %ld, mei %#x, pipe %#x", n, fds[0].revents, fds[1].revents);
  check(n == 1 && fds[0].revents == 0 && (fds[1].revents & POLLIN), "poll-pipe-ready-mei-not", detail);
  if (read(pipeFds[0], buffer, 1) != 1) return 2;

  /* nothing ready: the timeout is honoured */
  long started = monotonicMs();
  fds[0].revents = fds[1].revents = 0;
  n = result(poll(fds, 2, 200));
  long took = monotonicMs() - started;
  snprintf(detail, sizeof detail, "poll %ld after %ld ms", n, took);
  check(n == 0 && took >= 180 && took < 2000, "poll-timeout", detail);

  struct pollfd out = {fd, POLLOUT, 0};
  n = result(poll(&out, 1, 1000));
  snprintf(detail, sizeof detail, "poll %ld revents %#x", n, out.revents);
  check(n == 1 && (out.revents & POLLOUT), "poll-POLLOUT", detail);

  /* the device gets ready while poll waits: POLLIN on the mei fd, not on the pipe */
  n = result(write(fd, "hello", 5));
  check(n == 5, "write-returns-length", errnoName((int)-n));
  fds[0].revents = fds[1].revents = 0;
  n = result(poll(fds, 2, 5000));
  snprintf(detail, sizeof detail, "poll %ld, mei %#x, pipe %#x", n, fds[0].revents, fds[1].revents);
  check(n == 1 && (fds[0].revents & POLLIN) && fds[1].revents == 0, "poll-mei-ready-pipe-not", detail);
  n = result(read(fd, buffer, sizeof buffer));
  check(n == 5 && memcmp(buffer, "hello", 5) == 0, "read-echo", errnoName(n < 0 ? (int)-n : 0));

  /* a short read returns the rest of the message next */
  char message[100];
  for (int i = 0; i < 100; ++i) message[i] = (char)('A' + i % 26);
  n = result(write(fd, message, sizeof message));
  check(n == 100, "write-100", errnoName((int)-n));
  n = pollThenRead(fd, pipeFds[0], buffer, 10, 5000);
  snprintf(detail, sizeof detail, "first read %ld", n);
  check(n == 10 && memcmp(buffer, message, 10) == 0, "short-read-first-part", detail);
  n = result(read(fd, buffer, sizeof buffer));
  snprintf(detail, sizeof detail, "second read %ld", n);
  check(n == 90 && memcmp(buffer, message + 10, 90) == 0, "short-read-rest-next", detail);

  /* select, as mei-amt-version does after a write */
  n = result(write(fd, "sel", 3));
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(fd, &readable);
  struct timeval timeout = {5, 0};
  n = result(select(fd + 1, &readable, NULL, NULL, &timeout));
  snprintf(detail, sizeof detail, "select %ld", n);
  check(n == 1 && FD_ISSET(fd, &readable), "select-readable", detail);
  n = result(read(fd, buffer, sizeof buffer));
  check(n == 3 && memcmp(buffer, "sel", 3) == 0, "read-after-select", "");

  /* a read with a NULL buffer */
  void* volatile nothing = NULL; /* hidden from the compiler's nonnull check */
  n = result(read(fd, nothing, 16));
  check(n == -EMSGSIZE, "read-null-buffer-EMSGSIZE", errnoName((int)-n));

  /* close disconnects: a new fd may connect to the single-connection client at once */
  check(close(fd) == 0, "close", "");
  fd = openDevice(0);
  err = fd >= 0 ? connectClient(fd, guid, NULL) : errno;
  check(err == 0, "reconnect-after-close", errnoName(err));
  if (fd >= 0) close(fd);
  close(pipeFds[0]);
  close(pipeFds[1]);
  return g_failures ? 1 : 0;
}

static void onAlarm(int signal) { (void)signal; }

static int cmdEintr(const uint8_t guid[16]) {
  int fd = openDevice(0);
  if (fd < 0 || connectClient(fd, guid, NULL) != 0) {
    check(0, "open-and-connect", errnoName(errno));
    return 1;
  }
  /* The kernel's mei_read returns -EINTR whenever a signal is pending, so the read ends with EINTR even when the
     handler asked for SA_RESTART. Both ways are checked. */
  for (int restart = 0; restart <= 1; ++restart) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = onAlarm;
    action.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &action, NULL);
    struct itimerval timer = {{0, 0}, {0, 300000}};
    setitimer(ITIMER_REAL, &timer, NULL);
    char buffer[256];
    long started = monotonicMs();
    long n = result(read(fd, buffer, sizeof buffer));
    char detail[96];
    snprintf(detail, sizeof detail, "read %ld (%s) after %ld ms%s", n, errnoName(n < 0 ? (int)-n : 0),
             monotonicMs() - started, restart ? " with SA_RESTART" : "");
    check(n == -EINTR, restart ? "blocking-read-EINTR-despite-SA_RESTART" : "blocking-read-EINTR", detail);
    n = result(write(fd, "after", 5));
    check(n == 5, "write-after-EINTR", errnoName((int)-n));
    n = result(read(fd, buffer, sizeof buffer));
    check(n == 5 && memcmp(buffer, "after", 5) == 0, "read-after-EINTR", "");
  }
  close(fd);
  return g_failures ? 1 : 0;
}

struct ThreadArgs {
  int fd;
  int usePoll;
  long result;
  char buffer[64];
};

static void* blockedReader(void* arg) {
  struct ThreadArgs* args = arg;
  if (args->usePoll) {
    struct pollfd one = {args->fd, POLLIN, 0};
    if (poll(&one, 1, 10000) != 1 || !(one.revents & POLLIN)) {
      args->result = -ETIME;
      return NULL;
    }
  }
  args->result = result(read(args->fd, args->buffer, sizeof args->buffer));
  return NULL;
}

static int cmdThreads(const uint8_t guid[16]) {
  int fd = openDevice(0);
  if (fd < 0 || connectClient(fd, guid, NULL) != 0) {
    check(0, "open-and-connect", errnoName(errno));
    return 1;
  }
  for (int usePoll = 0; usePoll < 2; ++usePoll) {
    struct ThreadArgs args;
    memset(&args, 0, sizeof args);
    args.fd = fd;
    args.usePoll = usePoll;
    pthread_t thread;
    pthread_create(&thread, NULL, blockedReader, &args);
    struct timespec pause = {0, 100000000};
    nanosleep(&pause, NULL);
    long n = result(write(fd, "threaded", 8));
    pthread_join(thread, NULL);
    char detail[64];
    snprintf(detail, sizeof detail, "write %ld, read %ld", n, args.result);
    check(n == 8 && args.result == 8 && memcmp(args.buffer, "threaded", 8) == 0,
          usePoll ? "poll-in-one-thread-write-in-another" : "read-in-one-thread-write-in-another", detail);
  }
  close(fd);
  return g_failures ? 1 : 0;
}

static int cmdAmthiProvisioningState(void) {
  uint8_t guid[16];
  parseGuid("12F80028-B4B7-4B2D-ACA8-46E0FF65814C", guid);
  int fd = openDevice(0);
  if (fd < 0) {
    printf("open: %s\n", errnoName(errno));
    return 1;
  }
  struct mei_client props;
  int err = connectClient(fd, guid, &props);
  if (err) {
    printf("connect: %s\n", errnoName(err));
    return 1;
  }
  /* {major 1, minor 1, reserved 0, command GetProvisioningState 0x04000011, length 0} (spec/mei.md §4) */
  const uint8_t request[12] = {1, 1, 0, 0, 0x11, 0x00, 0x00, 0x04, 0, 0, 0, 0};
  if (write(fd, request, sizeof request) != (ssize_t)sizeof request) {
    printf("write: %s\n", errnoName(errno));
    return 1;
  }
  uint8_t* reply = calloc(1, props.max_msg_length);
  int pipeFds[2];
  if (pipe(pipeFds) != 0) return 2;
  long n = pollThenRead(fd, pipeFds[0], reply, props.max_msg_length, 5000);
  if (n < 20) {
    printf("read: %ld %s\n", n, errnoName(n < 0 ? (int)-n : 0));
    return 1;
  }
  uint32_t command, length, status, state;
  memcpy(&command, reply + 4, 4);
  memcpy(&length, reply + 8, 4);
  memcpy(&status, reply + 12, 4);
  memcpy(&state, reply + 16, 4);
  if (command != 0x04800011 || length != (uint32_t)n - 12 || status != 0) {
    printf("bad reply: command %#x length %u status %u\n", command, length, status);
    return 1;
  }
  printf("provisioning_state=%u\n", state);
  free(reply);
  close(fd);
  return 0;
}

/* The errno cases of spec/mei.md §1.2 against the real firmware: AMTHI (many connections) and
 * MKHI (one connection). Used by the daemon tests through FUSE and through the preload library. */
/* Linux's mei_write: a file holds at most tx_queue_limit (50) messages the firmware has not taken. The AMTHI client
   takes a request only once its last answer was read, so a program that never reads stops there. */
static int cmdAmthiBackpressure(void) {
  uint8_t guid[16];
  parseGuid("12F80028-B4B7-4B2D-ACA8-46E0FF65814C", guid);
  int fd = openDevice(O_NONBLOCK);
  struct mei_client props;
  if (fd < 0 || connectClient(fd, guid, &props) != 0) {
    check(0, "open-and-connect", errnoName(errno));
    return 1;
  }
  const uint8_t request[12] = {1, 1, 0, 0, 0x11, 0x00, 0x00, 0x04, 0, 0, 0, 0}; /* GetProvisioningState */
  long accepted = 0, last = 0;
  while (accepted < 100000 && (last = result(write(fd, request, sizeof request))) == (long)sizeof request) ++accepted;
  char detail[96];
  snprintf(detail, sizeof detail, "%ld writes accepted, then %s", accepted, errnoName(last < 0 ? (int)-last : 0));
  printf("accepted=%ld\n", accepted);
  check(last == -EAGAIN && accepted == 51, "nonblocking-writes-stop-with-EAGAIN", detail);

  struct pollfd one = {fd, POLLOUT, 0};
  check(poll(&one, 1, 200) == 0, "no-POLLOUT-at-the-limit", "");

  /* A blocking write waits for room; a signal ends it with EINTR. */
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = onAlarm;
  sigaction(SIGALRM, &action, NULL);
  struct itimerval timer = {{0, 0}, {0, 300000}};
  setitimer(ITIMER_REAL, &timer, NULL);
  long started = monotonicMs();
  long n = result(write(fd, request, sizeof request));
  snprintf(detail, sizeof detail, "write %ld (%s) after %ld ms", n, errnoName(n < 0 ? (int)-n : 0),
           monotonicMs() - started);
  check(n == -EINTR && monotonicMs() - started >= 250, "blocking-write-waits-then-EINTR", detail);

  /* Reading an answer lets the firmware take the next request: room for one more. */
  uint8_t* reply = calloc(1, props.max_msg_length);
  int pipeFds[2];
  if (pipe(pipeFds) != 0) return 2;
  n = pollThenRead(fd, pipeFds[0], reply, props.max_msg_length, 5000);
  check(n == 20, "read-an-answer", errnoName(n < 0 ? (int)-n : 0));
  one.revents = 0;
  check(poll(&one, 1, 5000) == 1 && (one.revents & POLLOUT), "POLLOUT-after-a-read", "");
  n = result(write(fd, request, sizeof request));
  check(n == (long)sizeof request, "write-after-a-read", errnoName(n < 0 ? (int)-n : 0));
  free(reply);
  close(pipeFds[0]);
  close(pipeFds[1]);
  close(fd);
  return g_failures ? 1 : 0;
}

static int cmdAmthiErrnoCases(void) {
  char detail[160];
  uint8_t buffer[4096];
  uint8_t amthi[16], mkhi[16], unknown[16];
  parseGuid("12F80028-B4B7-4B2D-ACA8-46E0FF65814C", amthi);
  parseGuid("8E6A6715-9ABC-4043-88EF-9E39C6F63E0F", mkhi);
  parseGuid("00000000-0000-0000-0000-000000000001", unknown);
  const uint8_t request[12] = {1, 1, 0, 0, 0x11, 0x00, 0x00, 0x04, 0, 0, 0, 0};
  int pipeFds[2];
  if (pipe(pipeFds) != 0) return 2;

  int fd = openDevice(0);
  check(fd >= 0, "open", errnoName(errno));
  if (fd < 0) return 1;
  long n = result(read(fd, buffer, sizeof buffer));
  check(n == -ENODEV, "read-before-connect-ENODEV", errnoName((int)-n));
  n = result(write(fd, request, sizeof request));
  check(n == -ENODEV, "write-before-connect-ENODEV", errnoName((int)-n));
  struct pollfd one = {fd, POLLIN, 0};
  n = result(poll(&one, 1, 0));
  snprintf(detail, sizeof detail, "poll %ld revents %#x", n, one.revents);
  check(n == 1 && (one.revents & POLLERR), "poll-before-connect-POLLERR", detail);
  int err = connectClient(fd, unknown, NULL);
  check(err == ENOTTY, "connect-unknown-guid-ENOTTY", errnoName(err));
  n = result(ioctl(fd, _IO('H', 0x7f), 0));
  check(n == -ENOTTY, "unknown-ioctl-ENOTTY", errnoName((int)-n));
  struct mei_connect_client_data_vtag vtag;
  memset(&vtag, 0, sizeof vtag);
  memcpy(vtag.connect.in_client_uuid.b, amthi, 16);
  vtag.connect.vtag = 1;
  n = result(ioctl(fd, IOCTL_MEI_CONNECT_CLIENT_VTAG, &vtag));
  check(n == -EOPNOTSUPP, "connect-vtag-EOPNOTSUPP", errnoName((int)-n));

  struct mei_client props;
  memset(&props, 0, sizeof props);
  err = connectClient(fd, amthi, &props);
  snprintf(detail, sizeof detail, "%s, max_msg_length %u, protocol %u", errnoName(err), props.max_msg_length,
           props.protocol_version);
  check(err == 0 && props.max_msg_length == 4096 && props.protocol_version == 1, "connect-amthi", detail);
  if (err) return 1;
  err = connectClient(fd, amthi, NULL);
  check(err == EBUSY, "second-connect-same-fd-EBUSY", errnoName(err));

  int first = openDevice(0), second = openDevice(0);
  err = first >= 0 ? connectClient(first, mkhi, NULL) : errno;
  check(err == 0, "connect-mkhi", errnoName(err));
  err = second >= 0 ? connectClient(second, mkhi, NULL) : errno;
  check(err == EBUSY, "second-fd-single-connection-mkhi-EBUSY", errnoName(err));
  if (first >= 0) close(first);
  if (second >= 0) close(second);

  uint8_t* big = calloc(1, props.max_msg_length + 1);
  n = result(write(fd, big, props.max_msg_length + 1));
  check(n == -EFBIG, "write-too-long-EFBIG", errnoName((int)-n));
  free(big);
  n = result(write(fd, "", 0));
  check(n == 0, "write-zero-bytes", errnoName((int)-n));

  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  n = result(read(fd, buffer, sizeof buffer));
  check(n == -EAGAIN, "nonblocking-read-EAGAIN", errnoName((int)-n));
  uint32_t event = 0;
  n = result(ioctl(fd, IOCTL_MEI_NOTIFY_GET, &event));
  check(n == -EAGAIN, "nonblocking-notify-get-EAGAIN", errnoName((int)-n));
  fcntl(fd, F_SETFL, flags);
  uint32_t enable = 2;
  n = result(ioctl(fd, IOCTL_MEI_NOTIFY_SET, &enable));
  check(n == -EINVAL, "notify-set-2-EINVAL", errnoName((int)-n));
  enable = 1;
  n = result(ioctl(fd, IOCTL_MEI_NOTIFY_SET, &enable));
  check(n == 0, "notify-set-1", errnoName((int)-n));

  /* poll with a pipe alongside: only the pipe is ready */
  if (write(pipeFds[1], "c", 1) != 1) return 2;
  struct pollfd fds[2] = {{fd, POLLIN, 0}, {pipeFds[0], POLLIN, 0}};
  n = result(poll(fds, 2, 2000));
  snprintf(detail, sizeof detail, "poll %ld, mei %#x, pipe %#x", n, fds[0].revents, fds[1].revents);
  check(n == 1 && fds[0].revents == 0 && (fds[1].revents & POLLIN), "poll-pipe-ready-mei-not", detail);
  if (read(pipeFds[0], buffer, 1) != 1) return 2;
  struct pollfd out = {fd, POLLOUT, 0};
  n = result(poll(&out, 1, 1000));
  check(n == 1 && (out.revents & POLLOUT), "poll-POLLOUT", "");

  /* write then poll (which starts the read): POLLIN on the mei fd */
  n = result(write(fd, request, sizeof request));
  check(n == 12, "write-returns-length", errnoName((int)-n));
  fds[0].revents = fds[1].revents = 0;
  n = result(poll(fds, 2, 5000));
  snprintf(detail, sizeof detail, "poll %ld, mei %#x, pipe %#x", n, fds[0].revents, fds[1].revents);
  check(n == 1 && (fds[0].revents & POLLIN) && fds[1].revents == 0, "poll-mei-ready-pipe-not", detail);
  /* a short read returns the rest of the message next */
  n = result(read(fd, buffer, 8));
  check(n == 8, "short-read-first-8", errnoName(n < 0 ? (int)-n : 0));
  n = result(read(fd, buffer + 8, sizeof buffer - 8));
  uint32_t command = 0, state = 99;
  memcpy(&command, buffer + 4, 4);
  memcpy(&state, buffer + 16, 4);
  snprintf(detail, sizeof detail, "second read %ld, command %#x, state %u", n, command, state);
  check(n == 12 && command == 0x04800011 && state == 2, "short-read-rest-next", detail);

  /* select, as mei-amt-version does after a write */
  n = result(write(fd, request, sizeof request));
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(fd, &readable);
  struct timeval timeout = {5, 0};
  n = result(select(fd + 1, &readable, NULL, NULL, &timeout));
  check(n == 1 && FD_ISSET(fd, &readable), "select-readable", "");
  n = result(read(fd, buffer, sizeof buffer));
  check(n == 20, "read-after-select", errnoName(n < 0 ? (int)-n : 0));

  /* The driver answers a NULL buffer with EMSGSIZE; through FUSE the kernel's own copy-out fails
   * first with EFAULT (the daemon never sees the pointer), which MESIM_DEVICE_IS_FUSE accepts. */
  void* volatile nothing = NULL;
  n = result(read(fd, nothing, 16));
  check(n == -EMSGSIZE || (getenv("MESIM_DEVICE_IS_FUSE") && n == -EFAULT), "read-null-buffer-EMSGSIZE",
        errnoName((int)-n));

  /* a blocking read with nothing coming ends with EINTR on a signal */
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = onAlarm;
  sigaction(SIGALRM, &action, NULL);
  struct itimerval timer = {{0, 0}, {0, 200000}};
  setitimer(ITIMER_REAL, &timer, NULL);
  n = result(read(fd, buffer, sizeof buffer));
  check(n == -EINTR, "blocking-read-EINTR", errnoName(n < 0 ? (int)-n : 0));
  n = result(write(fd, request, sizeof request));
  n = pollThenRead(fd, pipeFds[0], buffer, sizeof buffer, 5000);
  check(n == 20, "works-after-EINTR", errnoName(n < 0 ? (int)-n : 0));

  check(close(fd) == 0, "close", "");
  close(pipeFds[0]);
  close(pipeFds[1]);
  return g_failures ? 1 : 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s DEVICE COMMAND [GUID] [TEXT]\n", argv[0]);
    return 2;
  }
  g_device = argv[1];
  const char* command = argv[2];
  uint8_t guid[16];
  int haveGuid = argc >= 4 && parseGuid(argv[3], guid) == 0;

  if (strcmp(command, "open-errno") == 0) return cmdOpenErrno();
  if (strcmp(command, "amthi-provisioning-state") == 0) return cmdAmthiProvisioningState();
  if (strcmp(command, "amthi-errno-cases") == 0) return cmdAmthiErrnoCases();
  if (strcmp(command, "amthi-backpressure") == 0) return cmdAmthiBackpressure();
  if (!haveGuid) {
    fprintf(stderr, "%s: %s needs a GUID\n", argv[0], command);
    return 2;
  }
  if (strcmp(command, "connect") == 0) return cmdConnect(guid);
  if (strcmp(command, "echo") == 0 && argc >= 5) return cmdEcho(guid, argv[4]);
  if (strcmp(command, "errno-cases") == 0) return cmdErrnoCases(guid);
  if (strcmp(command, "eintr") == 0) return cmdEintr(guid);
  if (strcmp(command, "threads") == 0) return cmdThreads(guid);
  fprintf(stderr, "%s: unknown command %s\n", argv[0], command);
  return 2;
}
