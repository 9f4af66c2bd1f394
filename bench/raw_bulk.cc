#include "bench/raw_bulk.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

namespace framerpc::bench {

absl::StatusOr<absl::Duration> TimeRawTransfer(const std::function<absl::Status(int fd)>& send,
                                               const std::function<absl::Status(int fd)>& receive) {
  absl::StatusOr<SocketAddress> address = SocketAddress::Parse("127.0.0.1:0");
  if (!address.ok()) return address.status();
  absl::StatusOr<ScopedFd> listener = Listen(*address, 16);
  if (!listener.ok()) return listener.status();
  absl::StatusOr<ScopedFd> client = ConnectBlocking(LocalAddress(listener->get()));
  if (!client.ok()) return client.status();
  ScopedFd server(::accept(listener->get(), nullptr, nullptr));
  if (!server.valid()) return absl::InternalError("accept failed");

  const absl::Time start = absl::Now();
  absl::Status send_status;
  std::thread sender([&] {
    send_status = send(server.get());
    ::shutdown(server.get(), SHUT_WR);
  });
  absl::Status receive_status = receive(client->get());
  if (!receive_status.ok()) ::shutdown(client->get(), SHUT_RDWR);  // unblocks the sender
  sender.join();
  const absl::Duration elapsed = absl::Now() - start;
  if (!send_status.ok()) return send_status;
  if (!receive_status.ok()) return receive_status;
  return elapsed;
}

absl::StatusOr<double> RawBulk(size_t total, size_t chunk) {
  absl::StatusOr<absl::Duration> elapsed = TimeRawTransfer(
      [&](int fd) {
        const std::string data(chunk, 'd');
        for (size_t sent = 0; sent < total;) {
          const ssize_t n = ::send(fd, data.data(), std::min(chunk, total - sent), MSG_NOSIGNAL);
          if (n <= 0) return absl::InternalError("raw send failed");
          sent += static_cast<size_t>(n);
        }
        return absl::OkStatus();
      },
      [&](int fd) {
        std::string buffer(chunk, '\0');
        size_t received = 0;
        while (received < total) {
          const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
          if (n <= 0) break;
          received += static_cast<size_t>(n);
        }
        if (received != total) return absl::InternalError("raw transfer ended early");
        return absl::OkStatus();
      });
  if (!elapsed.ok()) return elapsed.status();
  return MiBPerSecond(total, *elapsed);
}

double MiBPerSecond(size_t bytes, absl::Duration elapsed) {
  return bytes / (1024.0 * 1024.0) / absl::ToDoubleSeconds(elapsed);
}

}  // namespace framerpc::bench
