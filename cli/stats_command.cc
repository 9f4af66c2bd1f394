#include "cli/stats_command.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/exit_code.h"
#include "base/status_macros.h"
#include "services/auth/shared_secret.h"
#include "transport/socket_address.h"
#include "transport/socket_ops.h"

namespace framerpc::cli {
namespace {

constexpr size_t kMaxAnswerBytes = 16 << 20;

// Waits until `fd` is ready for `events` or `deadline`.
absl::Status WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("the server did not answer in time");
    }
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) return absl::UnavailableError(std::strerror(errno));
  }
}

absl::Status StatusForHttp(int code, absl::string_view body, absl::string_view page) {
  const std::string detail(absl::StripTrailingAsciiWhitespace(body));
  switch (code) {
    case 401: return absl::UnauthenticatedError(absl::StrCat(page, ": ", detail, " (--auth_token_file)"));
    case 403: return absl::PermissionDeniedError(absl::StrCat(page, ": ", detail));
    case 404: return absl::NotFoundError(absl::StrCat(page, ": ", detail));
    default: return absl::UnknownError(absl::StrCat(page, ": HTTP ", code, ": ", detail));
  }
}

// The page over HTTP/1.1 (one request, Connection: close): its body to `out`, or what went wrong
// on the way or at the server.
absl::Status FetchPage(const CliOptions& options, const std::string& address,
                       const SocketAddress& parsed, const std::string& page,
                       const std::string& request, std::ostream& out) {

  const absl::Time deadline =
      absl::Now() + (options.timeout == absl::InfiniteDuration() ? absl::Seconds(10)
                                                                 : options.timeout);
  absl::StatusOr<ScopedFd> fd = ConnectBlocking(parsed);
  if (!fd.ok()) {
    return absl::UnavailableError(absl::StrCat("connecting to ", address, ": ",
                                               fd.status().message()));
  }
  for (size_t sent = 0; sent < request.size();) {
    FRPC_RETURN_IF_ERROR(WaitFor(fd->get(), POLLOUT, deadline));
    const ssize_t n = ::send(fd->get(), request.data() + sent, request.size() - sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("sending to ", address, ": ", std::strerror(errno)));
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buffer[16384];
  for (;;) {
    FRPC_RETURN_IF_ERROR(WaitFor(fd->get(), POLLIN, deadline));
    const ssize_t n = ::recv(fd->get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      if (errno == ECONNRESET && !answer.empty()) break;
      return absl::UnavailableError(absl::StrCat("reading from ", address, ": ",
                                                 std::strerror(errno)));
    }
    if (answer.size() + static_cast<size_t>(n) > kMaxAnswerBytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the answer is larger than ", kMaxAnswerBytes, " bytes"));
    }
    answer.append(buffer, static_cast<size_t>(n));
  }
  int code = 0;
  const size_t head_end = answer.find("\r\n\r\n");
  if (!absl::StartsWith(answer, "HTTP/1.") || answer.size() < 12 ||
      head_end == std::string::npos || !absl::SimpleAtoi(answer.substr(9, 3), &code)) {
    return absl::FailedPreconditionError(absl::StrCat(
        address, " did not answer HTTP: give the server's admin address (--admin_listen), or "
        "start it with --admin_on_rpc_port"));
  }
  const absl::string_view body = absl::string_view(answer).substr(head_end + 4);
  if (code != 200) return StatusForHttp(code, body, page);
  out << body;
  return absl::OkStatus();
}

}  // namespace

absl::Status RunStats(const CliOptions& options, absl::Span<const std::string> args,
                      std::ostream& out) {
  std::string address = options.address;
  std::string page = "/status";
  if (!args.empty()) address = args[0];
  if (args.size() >= 2) page = absl::StartsWith(args[1], "/") ? args[1] : "/" + args[1];
  if (address.empty() || args.size() > 2) {
    return absl::InvalidArgumentError(
        "usage: stats ADDR [PAGE] (PAGE: status, connections, calls, metrics, flags, version)");
  }
  FRPC_ASSIGN_OR_RETURN(const SocketAddress parsed, SocketAddress::Parse(address));
  std::string request = absl::StrCat("GET ", page, " HTTP/1.1\r\nHost: ", address,
                                     "\r\nUser-Agent: framerpc_cli\r\nConnection: close\r\n");
  if (!options.auth_token_file.empty()) {
    FRPC_ASSIGN_OR_RETURN(const std::string token, auth::ReadTokenFile(options.auth_token_file));
    absl::StrAppend(&request, "Authorization: ", auth::AuthorizationValue(token), "\r\n");
  }
  request += "\r\n";
  // Everything from here on is the server's answer, or the way to it.
  return RpcFailure(FetchPage(options, address, parsed, page, request, out));
}

}  // namespace framerpc::cli
