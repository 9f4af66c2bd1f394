// Whether a bound listening address can only be reached from this host: the test that decides
// if a sensitive service may run without a token.
//
// Thread safety: thread-safe (pure functions).
#ifndef FRAMERPC_SERVICES_AUTH_LOCAL_ADDRESS_H_
#define FRAMERPC_SERVICES_AUTH_LOCAL_ADDRESS_H_

#include "absl/strings/string_view.h"

namespace framerpc::auth {

// true for "unix:..." (a path or an abstract socket), an IPv4 address in 127.0.0.0/8 ("127.0.0.1:
// 7000"), and IPv6 ::1 or an IPv4-mapped loopback address ("[::1]:7000"); the port is ignored.
// false for everything else, including the wildcards 0.0.0.0 and ::, and host names (which
// could resolve to anything): pass the address as bound, which is numeric.
bool IsLocalOnlyAddress(absl::string_view address);

}  // namespace framerpc::auth

#endif  // FRAMERPC_SERVICES_AUTH_LOCAL_ADDRESS_H_
