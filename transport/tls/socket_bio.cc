#include "transport/tls/socket_bio.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

namespace framerpc {
namespace {

int Fd(BIO* bio) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio))); }

bool Retryable(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int Write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(Fd(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && Retryable(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int Read(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(Fd(bio), data, static_cast<size_t>(size), 0);
  if (n < 0 && Retryable(errno)) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

long Ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
}

int Create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* Method() {
  // Made once, never freed (OpenSSL's own methods are static too).
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "framerpc socket");
    BIO_meth_set_write(m, Write);
    BIO_meth_set_read(m, Read);
    BIO_meth_set_ctrl(m, Ctrl);
    BIO_meth_set_create(m, Create);
    return m;
  }();
  return method;
}

}  // namespace

BIO* NewNoSigpipeSocketBio(int fd) {
  BIO* bio = BIO_new(Method());
  if (bio != nullptr) BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  return bio;
}

}  // namespace framerpc
