/*
 * @vmm/fdpass: send (and, for test servers, receive) file descriptors over a unix stream socket
 * with SCM_RIGHTS, which Node's net.Socket cannot do. Plain C against node_api.h (N-API 8).
 *
 * Every function is synchronous and non-blocking on a non-blocking socket: EAGAIN is reported to
 * JavaScript as a return value (never thrown) so the caller can retry; other errno values throw an
 * Error whose `code` is the errno name (EPIPE, EBADF, ...). EINTR is retried here.
 */
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 253 /* SCM_MAX_FD */

static const char *errno_code(int e) {
  switch (e) {
    case EPIPE: return "EPIPE";
    case EBADF: return "EBADF";
    case ENOTSOCK: return "ENOTSOCK";
    case ECONNRESET: return "ECONNRESET";
    case ENOTCONN: return "ENOTCONN";
    case EINVAL: return "EINVAL";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EACCES: return "EACCES";
    default: return "EIO";
  }
}

static napi_value throw_errno(napi_env env, const char *syscall, int e) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s failed: %s", syscall, strerror(e));
  napi_throw_error(env, errno_code(e), msg);
  return NULL;
}

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static int get_int32(napi_env env, napi_value v, int32_t *out, const char *what) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a number", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  napi_get_value_int32(env, v, out);
  return 1;
}

/* sendWithFds(fd: number, data: Buffer, fds: number[]): number
 * Returns bytes written (>= 1 when data is non-empty; the fds travel with the first byte),
 * or -EAGAIN when nothing could be written. Uses MSG_NOSIGNAL: a closed peer gives EPIPE, not SIGPIPE. */
static napi_value send_with_fds(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sendWithFds(fd, data, fds) takes 3 arguments");
    return NULL;
  }
  int32_t sock;
  if (!get_int32(env, argv[0], &sock, "fd")) return NULL;
  bool is_buf = false;
  napi_is_buffer(env, argv[1], &is_buf);
  if (!is_buf) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "data must be a Buffer");
    return NULL;
  }
  void *data;
  size_t len;
  napi_get_buffer_info(env, argv[1], &data, &len);
  bool is_arr = false;
  napi_is_array(env, argv[2], &is_arr);
  if (!is_arr) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fds must be an array of numbers");
    return NULL;
  }
  uint32_t nfds;
  napi_get_array_length(env, argv[2], &nfds);
  if (nfds > MAX_FDS) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "at most 253 file descriptors per message");
    return NULL;
  }
  if (len == 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "data must not be empty (fds travel with data bytes)");
    return NULL;
  }
  int fds[MAX_FDS];
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value el;
    napi_get_element(env, argv[2], i, &el);
    if (!get_int32(env, el, &fds[i], "each fd")) return NULL;
    if (fds[i] < 0) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "file descriptors must be >= 0");
      return NULL;
    }
  }

  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  if (nfds > 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return make_int(env, -EAGAIN);
    return throw_errno(env, "sendmsg", errno);
  }
  return make_int(env, n);
}

/* recvWithFds(fd: number, maxBytes: number): { data: Buffer, fds: number[] } | null
 * null on EAGAIN; data of length 0 means EOF. Received fds are close-on-exec. */
static napi_value recv_with_fds(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t sock, max;
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "recvWithFds(fd, maxBytes) takes 2 arguments");
    return NULL;
  }
  if (!get_int32(env, argv[0], &sock, "fd") || !get_int32(env, argv[1], &max, "maxBytes")) return NULL;
  if (max <= 0 || max > (1 << 24)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "maxBytes must be in 1..16777216");
    return NULL;
  }
  void *buf = malloc((size_t)max);
  if (buf == NULL) return throw_errno(env, "malloc", ENOMEM);
  struct iovec iov = {.iov_base = buf, .iov_len = (size_t)max};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int e = errno;
    free(buf);
    if (e == EAGAIN || e == EWOULDBLOCK) {
      napi_value nul;
      napi_get_null(env, &nul);
      return nul;
    }
    return throw_errno(env, "recvmsg", e);
  }
  napi_value result, data, fdarr;
  napi_create_object(env, &result);
  void *copy;
  napi_create_buffer_copy(env, (size_t)n, buf, &copy, &data);
  free(buf);
  napi_create_array(env, &fdarr);
  uint32_t k = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *p = (int *)CMSG_DATA(c);
    for (size_t i = 0; i < count; i++) napi_set_element(env, fdarr, k++, make_int(env, p[i]));
  }
  napi_set_named_property(env, result, "data", data);
  napi_set_named_property(env, result, "fds", fdarr);
  return result;
}

/* dup(fd: number): number — a close-on-exec duplicate, so the caller may close the original. */
static napi_value dup_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || !get_int32(env, argv[0], &fd, "fd")) return NULL;
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) return throw_errno(env, "dup", errno);
  return make_int(env, d);
}

/* close(fd: number): void */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || !get_int32(env, argv[0], &fd, "fd")) return NULL;
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sendWithFds", NULL, send_with_fds, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvWithFds", NULL, recv_with_fds, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dup", NULL, dup_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
