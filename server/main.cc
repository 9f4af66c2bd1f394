// framerpc_server: hosts the framerpc services.
//
//   framerpc_server --listen=127.0.0.1:7000,unix:/tmp/f.sock --udp=127.0.0.1:7000
//   framerpc_server --enable_command_service --command_allow=/bin/echo,/usr/bin/uptime
//
// With no flags it serves the embedded default configuration (see kDefault* below). SIGINT or
// SIGTERM starts a graceful shutdown: stop accepting, finish calls in flight, close.
//
// gRPC (docs/grpc_adapter.md): --grpc_listen=127.0.0.1:7001 serves every service over gRPC too,
// --grpc_same_port on the --listen addresses as well. grpc.health.v1 and server reflection are
// always served. gRPC is refused on addresses other hosts can reach unless --grpc_allow_nonlocal.
//
// TLS (docs/security.md): --tls_cert and --tls_key make every --listen address TLS only (or, with
// --tls_shared_port, TLS and plaintext told apart by the first byte); --tls_client_ca and
// --tls_client_auth ask clients for certificates. SIGHUP, or a change of those files (watched
// with inotify), reloads the certificate and keys: new handshakes use them, connections already
// open go on, and a pair that cannot be used is refused with the old one kept.
//
// Credentials (docs/security.md). The command service, and writes to a writable file service,
// need one on every transport: a bearer token (--auth_token_file), a Unix-socket peer uid
// (--command_allow_uids, --file_allow_uids), a verified TLS client certificate naming a listed
// identity (--command_allow_identities, --file_allow_identities), or, only if asked for, any peer
// on this host
// (--trust_local_peers). Being on loopback is no credential by itself. The server prints at start
// what each service accepts, and refuses to start a service that would admit nobody, or anyone
// from another host.
//
// The command service (docs/command_service.md) is off unless enabled, and never served over UDP.
//
// The file service (docs/file_service.md) is off unless --file_root names a directory, and
// read-only unless --file_writable. Its reads are open on loopback; on an address other hosts can
// reach they need the token, or --file_public. It is never served over UDP.
//
// Logs (docs/logging.md) go to standard error: --log_level, --log_format=text|json, every
// refusal (rate-limited), and with --access_log a line per call. Standard output carries only
// the start-up report and the shutdown lines, which scripts read.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "rpc/dispatcher.h"
#include "adapters/grpc/grpc_adapter.h"
#include "adapters/grpc/same_port.h"
#include "services/health/health_service.h"
#include "services/reflection/reflection_service.h"
#include "base/version.h"
#include "logging/access_log.h"
#include "logging/log.h"
#include "logging/refusal_log.h"
#include "rpc/observers.h"
#include "rpc/server.h"
#include "rpc/udp_server.h"
#include "server/command_setup.h"
#include "server/exposure.h"
#include "server/file_setup.h"
#include "naming/etcd_naming.h"
#include "server/observability.h"
#include "server/file_watch.h"
#include "server/tls_reload.h"
#include "server/tls_setup.h"
#include "services/command/command_service.h"
#include "services/auth/local_address.h"
#include "services/auth/shared_secret.h"
#include "services/echo/echo_service.h"
#include "services/file/file_service.h"
#include "transport/event_loop_thread.h"


// The embedded default configuration: loopback only.
constexpr char kDefaultListen[] = "127.0.0.1:7000";

ABSL_FLAG(std::vector<std::string>, listen, {kDefaultListen},
          "Addresses to serve the framed protocol on, comma-separated: host:port, [v6]:port, "
          "unix:/path, or unix:@name for a Linux abstract socket (no file; anyone in this network "
          "namespace may connect). Port 0 picks a free port.");
ABSL_FLAG(std::vector<std::string>, udp, {},
          "Addresses to serve unary calls on over UDP, one frame per datagram, comma-separated.");
ABSL_FLAG(int, io_threads, 0, "Event loop threads; 0 = one per core.");
ABSL_FLAG(absl::Duration, busy_poll, absl::ZeroDuration(),
          "How long an idle I/O thread keeps polling before it sleeps (e.g. 50us); trades a busy "
          "CPU for lower latency. 0 = off, at most 1s.");
ABSL_FLAG(int, worker_threads, 4, "Threads for handlers that may block.");
ABSL_FLAG(int, listen_backlog, 1024, "listen(2) backlog.");
ABSL_FLAG(uint32_t, max_frame_bytes, 64u << 20, "Largest accepted frame body, in bytes.");
ABSL_FLAG(uint32_t, max_metadata_bytes, 16u << 10, "Largest call metadata, in bytes.");
ABSL_FLAG(uint64_t, output_high_water_bytes, 16u << 20,
          "Queued replies per connection above which the connection stops being read.");
ABSL_FLAG(uint64_t, max_udp_datagram_bytes, 65507, "Largest UDP datagram accepted.");
ABSL_FLAG(std::string, ready_file, "",
          "When set, the bound addresses are written here (one per line, TCP/Unix first, then "
          "udp:...) once the server is ready.");
// How long a peer may take at each stage of a connection (rpc/connection_timeouts.h). Also
// applied to gRPC connections where gRPC has the same setting.
ABSL_FLAG(absl::Duration, first_byte_timeout, framerpc::ConnectionTimeoutOptions().first_byte,
          "Close a connection that sends nothing for this long after it is accepted (also on a "
          "shared port while its protocol is unknown, and gRPC's handshake on its own port).");
ABSL_FLAG(absl::Duration, frame_header_timeout, framerpc::ConnectionTimeoutOptions().frame_header,
          "Close a connection whose frame header and envelope do not arrive within this long of "
          "the frame's first bytes.");
ABSL_FLAG(uint64_t, min_body_rate, framerpc::ConnectionTimeoutOptions().min_body_bytes_per_second,
          "Bytes per second: a frame's body must arrive within --frame_header_timeout plus its "
          "length at this rate, or the connection is closed.");
ABSL_FLAG(absl::Duration, idle_timeout, framerpc::ConnectionTimeoutOptions().idle,
          "Close a connection with no call in flight for this long (GOAWAY first).");
ABSL_FLAG(absl::Duration, keepalive_time, framerpc::ConnectionTimeoutOptions().keepalive_time,
          "PING a connection from which nothing has arrived for this long.");
ABSL_FLAG(absl::Duration, keepalive_timeout, framerpc::ConnectionTimeoutOptions().keepalive_timeout,
          "Close a connection from which nothing arrives for this long after a PING.");

ABSL_FLAG(uint64_t, max_connections, 0,
          "Connections held at once; at the limit the oldest idle one is closed to make room, "
          "or the new one refused. 0: the file-descriptor limit less a tenth (at least 64).");
ABSL_FLAG(uint64_t, max_connections_per_peer, 0,
          "The same per peer (TCP: IP address; Unix socket: uid). 0: no per-peer limit.");

ABSL_FLAG(uint64_t, memory_budget, 0,
          "Bytes held for peers across all connections (bodies of frames still arriving, queued "
          "output); past it connections stop reading new frames until there is room. 0: a "
          "quarter of physical memory.");

ABSL_FLAG(absl::Duration, stream_stall_timeout, framerpc::ServerOptions().stream_stall_timeout,
          "End a stream with RESOURCE_EXHAUSTED when its client has read nothing for this long "
          "while the handler waits to write (e.g. a download nobody reads); over gRPC the call "
          "is cancelled.");

ABSL_FLAG(std::string, register, "",
          "Register in etcd: etcd://HOST:PORT/PREFIX/NAME puts this server's address under "
          "PREFIX/NAME/ with a lease kept alive, and takes it away on SIGTERM before draining "
          "(clients: etcd:///NAME?endpoints=HOST:PORT, docs/load_balancing.md).");
ABSL_FLAG(std::string, register_address, "",
          "The address registered with --register (default: the first --listen address as "
          "bound); set it when clients reach this server by another address.");
ABSL_FLAG(absl::Duration, register_ttl, absl::Seconds(10),
          "The lease of the --register key: how long a crashed server stays listed.");
ABSL_FLAG(absl::Duration, drain_delay, absl::ZeroDuration(),
          "On SIGTERM or SIGINT, report NOT_SERVING from the health service and keep serving "
          "(and accepting) this long before shutting down, so that load balancers stop sending "
          "first. A second signal ends the delay.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long a graceful shutdown waits for calls in flight.");

// The command service. Defaults come from CommandServiceFlags.
ABSL_FLAG(bool, enable_command_service, false,
          "Serve framerpc.command.CommandService, which runs programs on this host for callers.");
ABSL_FLAG(std::vector<std::string>, command_allow, {},
          "Programs the command service may run, comma-separated: absolute paths, or bare names "
          "looked up in /usr/local/bin:/usr/bin:/bin. Anything else is PERMISSION_DENIED.");
ABSL_FLAG(bool, command_allow_shell, false,
          "Also run /bin/sh -c strings. A shell can run anything: the allowlist no longer "
          "limits what callers run.");
ABSL_FLAG(int, command_max_concurrent, framerpc::server::CommandServiceFlags().max_concurrent,
          "Commands running at once; more calls fail with RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, command_default_timeout,
          framerpc::server::CommandServiceFlags().default_timeout,
          "Timeout of a command whose request gives none (then SIGTERM, then SIGKILL).");
ABSL_FLAG(absl::Duration, command_max_timeout, framerpc::server::CommandServiceFlags().max_timeout,
          "Longest timeout a request may ask for.");
ABSL_FLAG(absl::Duration, command_kill_grace, framerpc::server::CommandServiceFlags().kill_grace,
          "Time between SIGTERM and SIGKILL.");
ABSL_FLAG(uint64_t, command_run_output_limit,
          framerpc::server::CommandServiceFlags().run_output_limit,
          "Cap on each of stdout and stderr returned by Run, in bytes.");
ABSL_FLAG(uint64_t, command_exec_output_limit,
          framerpc::server::CommandServiceFlags().exec_output_limit,
          "Cap on each of stdout and stderr streamed by one Exec call, in bytes.");
ABSL_FLAG(std::vector<std::string>, command_env_allow, {},
          "Environment variables a request may set, comma-separated (empty: none; any other is "
          "PERMISSION_DENIED). Names that run code inside a program (LD_*, BASH_ENV, PYTHON*, "
          "...) are refused at start: docs/command_service.md lists them.");
ABSL_FLAG(std::string, command_lang, framerpc::server::CommandServiceFlags().lang,
          "LANG of every command (empty: none). Commands get PATH, LANG and HOME, and nothing of "
          "the server's environment.");
ABSL_FLAG(std::string, command_home, "",
          "HOME of every command; empty: the command's working directory.");
ABSL_FLAG(std::string, command_workdir, "",
          "Run commands beneath this directory, in the path a request gives relative to it "
          "(never outside it). Empty: each command in a fresh empty directory of its own, "
          "removed afterwards, and requests may not name one.");
ABSL_FLAG(std::string, command_containment, framerpc::server::CommandServiceFlags().containment,
          "How commands and everything they start are contained: pid_namespace (a PID namespace "
          "each, killed whole), subreaper (a supervisor that kills every descendant), or auto "
          "(pid_namespace where available).");
ABSL_FLAG(std::string, command_supervisor, "",
          "Absolute path of framerpc_supervisor, the program every command's supervisor runs. "
          "Empty: next to this binary, else in its Bazel runfiles.");
ABSL_FLAG(uint64_t, command_memory_limit, 0,
          "RLIMIT_AS of every process a command runs, in bytes; 0: none.");
ABSL_FLAG(absl::Duration, command_cpu_limit, absl::ZeroDuration(),
          "RLIMIT_CPU of every process a command runs, rounded up to seconds (SIGXCPU, then "
          "SIGKILL a second later); 0: none.");
ABSL_FLAG(std::vector<std::string>, command_allow_uids, {},
          "Unix-socket peers whose uid (as the kernel reports it) is listed may call the command "
          "service without a token: numeric uids or user names, comma-separated.");

// Credentials shared by the command and file services.
ABSL_FLAG(std::string, auth_token_file, "",
          "File holding a shared secret that calls may carry as 'authorization: Bearer <token>' "
          "metadata to be admitted to the command service and to the file service (reads and "
          "writes). Must be readable by its owner only. The only credential for callers on "
          "other hosts.");
ABSL_FLAG(bool, trust_local_peers, false,
          "DANGEROUS: admit every peer on loopback or a Unix socket to the command service and "
          "to file-service writes without a credential. Every user of this host, 'nobody' "
          "included, then runs commands and writes files as this server's user.");

// TLS on the --listen addresses and --grpc_listen (docs/security.md). gRPC on the shared port
// and UDP stay plaintext.
ABSL_FLAG(std::string, tls_cert, "",
          "PEM file: the server's certificate followed by its intermediates. With --tls_key, "
          "every --listen address speaks TLS, and so does --grpc_listen (gRPC's own TLS, not "
          "reloaded). Reloaded on SIGHUP and when the file changes.");
ABSL_FLAG(std::string, tls_key, "",
          "PEM file: the private key of --tls_cert. Reloaded on SIGHUP and when the file "
          "changes.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM file: the CAs that client certificates must chain to (with --tls_client_auth).");
ABSL_FLAG(std::string, tls_client_auth, "none",
          "Ask TLS clients for a certificate: none, optional (admitted without one, with no "
          "certificate identity) or require (refused without one). A certificate sent is always "
          "verified against --tls_client_ca.");
ABSL_FLAG(bool, tls_watch_files, true,
          "Reload --tls_cert, --tls_key and --tls_client_ca when they change (inotify on their "
          "directories), not only on SIGHUP.");
ABSL_FLAG(std::string, tls_min_version, "1.3", "Lowest TLS version accepted: 1.3, or 1.2.");
ABSL_FLAG(bool, accept_plaintext, false,
          "Serve the command service or a writable file service on addresses other hosts can "
          "reach without TLS (credentials and commands then cross the network in clear): for "
          "trusted networks only. Without it such a server refuses to start.");
ABSL_FLAG(bool, tls_shared_port, false,
          "Serve plaintext on the --listen addresses too, beside TLS (told apart by the first "
          "byte). Off: plaintext is refused there, a framed client told why.");
ABSL_FLAG(absl::Duration, tls_handshake_timeout, framerpc::ConnectionTimeoutOptions().handshake,
          "Close a connection whose TLS handshake is not over this long after its ClientHello "
          "began.");
ABSL_FLAG(std::vector<std::string>, command_allow_identities, {},
          "TLS clients whose verified certificate names one of these (a SAN URI such as "
          "spiffe://example.org/ns/prod/sa/deploy, or a DNS name) may call the command service "
          "without a token. Needs --tls_client_auth=require or optional.");
ABSL_FLAG(std::vector<std::string>, file_allow_identities, {},
          "TLS clients whose verified certificate names one of these (SAN URI or DNS name) may "
          "use the file service (reads and writes) without a token. Needs --tls_client_auth.");

// The file service. Defaults come from FileServiceFlags.
ABSL_FLAG(std::string, file_root, "",
          "Serve framerpc.file.FileService on this directory: nothing outside it is reachable. "
          "Empty: no file service.");
ABSL_FLAG(bool, file_writable, false,
          "Allow uploads, deletes and new directories under --file_root (read-only otherwise), "
          "for callers with a credential: --auth_token_file, --file_allow_uids or "
          "--trust_local_peers.");
ABSL_FLAG(std::vector<std::string>, file_allow_uids, {},
          "Unix-socket peers whose uid is listed may use the file service (reads and writes) "
          "without a token: numeric uids or user names, comma-separated.");
ABSL_FLAG(bool, file_public, false,
          "The files under --file_root are public: reads are open to anyone, also on addresses "
          "other hosts can reach (otherwise those need --auth_token_file).");
ABSL_FLAG(std::optional<bool>, file_refuse_hard_links_and_mounts, std::nullopt,
          "true: refuse files under --file_root with more than one hard link, and paths that "
          "cross a mount point (either can lead out of the root). Unset: true with "
          "--file_writable, false without.");
ABSL_FLAG(uint64_t, file_chunk_bytes, framerpc::server::FileServiceFlags().chunk_bytes,
          "Bytes per download data message, 65536 to 1048576.");
ABSL_FLAG(uint64_t, file_max_upload_bytes, framerpc::server::FileServiceFlags().max_upload_bytes,
          "Largest upload accepted, in bytes.");
ABSL_FLAG(int, file_max_transfers, framerpc::server::FileServiceFlags().max_transfers,
          "Downloads, uploads and checksums running at once; more fail with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, file_max_transfers_per_peer,
          framerpc::server::FileServiceFlags().max_transfers_per_peer,
          "Of those, the most from one peer (a TCP client's IP address, a Unix-socket client's "
          "uid), so that one client cannot take them all; more fail with RESOURCE_EXHAUSTED. "
          "0: no per-peer cap (clients behind one NAT or proxy share an address).");
ABSL_FLAG(int64_t, file_digest_cache_entries,
          framerpc::server::FileServiceFlags().digest_cache_entries,
          "Whole-file SHA-256 digests remembered so that unchanged files are not hashed again "
          "(see docs/file_service.md); 0 turns the cache off.");

ABSL_FLAG(std::string, grpc_listen, "",
          "Address to serve every service over gRPC (HTTP/2) on, e.g. 127.0.0.1:7001. Empty: "
          "no port of its own.");
ABSL_FLAG(std::string, admin_listen, "",
          "Serve the operator's HTTP pages (/metrics for Prometheus, /healthz, /readyz, /status, "
          "/connections, /calls, /flags, /version) on this address, e.g. 127.0.0.1:9464. Peers "
          "not on this host get only /metrics, /healthz and /readyz unless they present the "
          "--auth_token_file token (docs/observability.md).");
ABSL_FLAG(bool, admin_on_rpc_port, false,
          "Also answer the operator's pages on the --listen addresses: connections that open "
          "with 'GET ' or 'HEAD ' are told apart from framerpc ones by their first bytes.");
ABSL_FLAG(bool, grpc_same_port, false,
          "Also accept gRPC connections on the --listen addresses (TCP and unix:), told apart "
          "from framerpc by their first byte.");
ABSL_FLAG(bool, grpc_allow_nonlocal, false,
          "Allow gRPC on addresses other hosts can reach. Debian's gRPC 1.51 lacks later HTTP/2 "
          "security fixes (docs/grpc_adapter.md): put a hardened proxy in front.");

ABSL_FLAG(std::string, log_level, "info",
          "Lowest level of the records logged to standard error: debug, info, warn or error.");
ABSL_FLAG(std::string, log_format, "text",
          "How log lines are written: text, or json (one JSON object per line: ts, level, "
          "logger, msg and the record's fields).");
ABSL_FLAG(bool, access_log, false,
          "Log a line per call (method, peer, transport, status code, duration, bytes, trace "
          "id; never a payload or metadata), at level info.");
ABSL_FLAG(uint64_t, access_log_sample, 1, "With --access_log: log one call in this many.");
ABSL_FLAG(double, access_log_rate, 100,
          "With --access_log: at most this many lines per second on average, in bursts of twice "
          "as many; the lines held back are counted in the log. 0: no limit.");
ABSL_FLAG(double, refusal_log_rate, 1,
          "Refusals (policy, limit, garbage, timeout) are logged once each with their reason, at "
          "most this many lines per second per kind on average, in bursts of 20; the rest are "
          "counted in the log.");

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "framerpc_server: %s\n", status.ToString().c_str());
  return 1;
}

framerpc::ConnectionTimeoutOptions ConnectionTimeoutFlags() {
  framerpc::ConnectionTimeoutOptions timeouts;
  timeouts.first_byte = absl::GetFlag(FLAGS_first_byte_timeout);
  timeouts.frame_header = absl::GetFlag(FLAGS_frame_header_timeout);
  timeouts.min_body_bytes_per_second = absl::GetFlag(FLAGS_min_body_rate);
  timeouts.idle = absl::GetFlag(FLAGS_idle_timeout);
  timeouts.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  timeouts.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  timeouts.handshake = absl::GetFlag(FLAGS_tls_handshake_timeout);
  return timeouts;
}

// The TLS flags, read again on each SIGHUP.
framerpc::server::TlsFlags TlsFlagValues() {
  framerpc::server::TlsFlags flags;
  flags.cert = absl::GetFlag(FLAGS_tls_cert);
  flags.key = absl::GetFlag(FLAGS_tls_key);
  flags.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  flags.client_auth = absl::GetFlag(FLAGS_tls_client_auth);
  flags.min_version = absl::GetFlag(FLAGS_tls_min_version);
  flags.shared_port = absl::GetFlag(FLAGS_tls_shared_port);
  return flags;
}

framerpc::server::CommandServiceFlags CommandFlags(framerpc::RefusalObserver* refusals) {
  framerpc::server::CommandServiceFlags flags;
  flags.allow = absl::GetFlag(FLAGS_command_allow);
  flags.allow_shell = absl::GetFlag(FLAGS_command_allow_shell);
  flags.max_concurrent = absl::GetFlag(FLAGS_command_max_concurrent);
  flags.default_timeout = absl::GetFlag(FLAGS_command_default_timeout);
  flags.max_timeout = absl::GetFlag(FLAGS_command_max_timeout);
  flags.kill_grace = absl::GetFlag(FLAGS_command_kill_grace);
  flags.run_output_limit = absl::GetFlag(FLAGS_command_run_output_limit);
  flags.exec_output_limit = absl::GetFlag(FLAGS_command_exec_output_limit);
  flags.credentials.auth_token_file = absl::GetFlag(FLAGS_auth_token_file);
  flags.credentials.allow_uids = absl::GetFlag(FLAGS_command_allow_uids);
  flags.credentials.allow_identities = absl::GetFlag(FLAGS_command_allow_identities);
  flags.credentials.trust_local_peers = absl::GetFlag(FLAGS_trust_local_peers);
  flags.credentials.refusals = refusals;
  flags.env_allow = absl::GetFlag(FLAGS_command_env_allow);
  flags.lang = absl::GetFlag(FLAGS_command_lang);
  flags.home = absl::GetFlag(FLAGS_command_home);
  flags.workdir = absl::GetFlag(FLAGS_command_workdir);
  flags.containment = absl::GetFlag(FLAGS_command_containment);
  flags.supervisor = absl::GetFlag(FLAGS_command_supervisor);
  flags.memory_limit = absl::GetFlag(FLAGS_command_memory_limit);
  flags.cpu_limit = absl::GetFlag(FLAGS_command_cpu_limit);
  return flags;
}

// The command service if enabled, else null.
absl::StatusOr<std::unique_ptr<framerpc::command::CommandServiceImpl>> MakeCommandService(
    uint32_t max_frame_bytes, framerpc::RefusalObserver* refusals) {
  if (!absl::GetFlag(FLAGS_enable_command_service)) return nullptr;
  absl::StatusOr<framerpc::command::CommandServiceConfig> config =
      framerpc::server::BuildCommandServiceConfig(CommandFlags(refusals), max_frame_bytes);
  if (!config.ok()) return config.status();
  return framerpc::command::CommandServiceImpl::Create(*std::move(config));
}

// The file service if --file_root is given, else null.
absl::StatusOr<std::unique_ptr<framerpc::file::FileServiceImpl>> MakeFileService(
    framerpc::RefusalObserver* refusals) {
  framerpc::server::FileServiceFlags flags;
  flags.root = absl::GetFlag(FLAGS_file_root);
  if (flags.root.empty()) return nullptr;
  flags.writable = absl::GetFlag(FLAGS_file_writable);
  flags.refuse_hard_links_and_mounts = absl::GetFlag(FLAGS_file_refuse_hard_links_and_mounts);
  flags.chunk_bytes = absl::GetFlag(FLAGS_file_chunk_bytes);
  flags.max_upload_bytes = absl::GetFlag(FLAGS_file_max_upload_bytes);
  flags.max_transfers = absl::GetFlag(FLAGS_file_max_transfers);
  flags.max_transfers_per_peer = absl::GetFlag(FLAGS_file_max_transfers_per_peer);
  flags.digest_cache_entries = absl::GetFlag(FLAGS_file_digest_cache_entries);
  flags.credentials.auth_token_file = absl::GetFlag(FLAGS_auth_token_file);
  flags.credentials.allow_uids = absl::GetFlag(FLAGS_file_allow_uids);
  flags.credentials.allow_identities = absl::GetFlag(FLAGS_file_allow_identities);
  flags.credentials.trust_local_peers = absl::GetFlag(FLAGS_trust_local_peers);
  flags.credentials.refusals = refusals;
  flags.files_public = absl::GetFlag(FLAGS_file_public);
  absl::StatusOr<framerpc::file::FileServiceOptions> options =
      framerpc::server::BuildFileServiceOptions(flags);
  if (!options.ok()) return options.status();
  return framerpc::file::FileServiceImpl::Create(flags.root, *std::move(options));
}

// Starts the gRPC adapter if a flag asks for it (CheckExposure has ruled on its addresses).
// Before server->Start().
absl::Status StartGrpc(framerpc::Server* server, const framerpc::server::TlsSetup& tls,
                       std::unique_ptr<framerpc::GrpcAdapter>* grpc, std::string* grpc_address) {
  const std::string listen = absl::GetFlag(FLAGS_grpc_listen);
  const bool same_port = absl::GetFlag(FLAGS_grpc_same_port);
  if (listen.empty() && !same_port) return absl::OkStatus();
  framerpc::GrpcAdapterOptions options;
  options.listen_address = listen;
  options.timeouts = ConnectionTimeoutFlags();
  options.stream_stall_timeout = absl::GetFlag(FLAGS_stream_stall_timeout);
  // --grpc_listen gets the same TLS as the --listen addresses (gRPC's own, not reloaded on
  // SIGHUP); gRPC on the shared port stays plaintext.
  if (tls.context != nullptr) options.tls = tls.options;
  *grpc = std::make_unique<framerpc::GrpcAdapter>(server->dispatcher(), options);
  FRPC_RETURN_IF_ERROR((*grpc)->Start());
  if (!listen.empty()) {
    // gRPC reports only the port; the host is the one asked for.
    *grpc_address = listen.rfind("unix:", 0) == 0
                        ? listen
                        : listen.substr(0, listen.rfind(':') + 1) +
                              std::to_string((*grpc)->listen_port());
  }
  if (same_port) return framerpc::ServeGrpcOnSamePort(server, grpc->get());
  return absl::OkStatus();
}

// Which credential each protected service accepts, printed at start so that an operator sees
// what is open.
void PrintAccess(const framerpc::command::CommandServiceImpl* command,
                 const framerpc::file::FileServiceImpl* files) {
  if (command != nullptr) {
    const framerpc::command::CommandRunner& runner = command->runner();
    std::printf("framerpc_server: command service enabled (%zu programs allowed%s), containment "
                "%s, commands run in %s; accepts %s\n",
                absl::GetFlag(FLAGS_command_allow).size(),
                absl::GetFlag(FLAGS_command_allow_shell) ? ", shell commands allowed" : "",
                std::string(framerpc::command::ContainmentName(runner.containment())).c_str(),
                runner.workspace_description().c_str(), runner.config().access.Describe().c_str());
  }
  if (files != nullptr) {
    const framerpc::file::FileServiceOptions& options = files->options();
    const bool refuse_links = options.root.refuse_hard_links_and_mounts.value_or(
        options.root.writable);
    std::printf("framerpc_server: file service on %s (%s%s); reads: %s%s\n",
                absl::GetFlag(FLAGS_file_root).c_str(),
                options.root.writable ? "writable" : "read-only",
                refuse_links ? ", hard links and mounts refused" : "",
                options.read_access.Describe().c_str(),
                options.root.writable
                    ? absl::StrCat("; writes: ", options.write_access.Describe()).c_str()
                    : "");
  }
}

// This binary's flags and their values, for the /flags page.
std::vector<std::pair<std::string, std::string>> ServerFlags() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!absl::StrContains(flag->Filename(), "server/main.cc")) continue;
    out.emplace_back(std::string(name), flag->CurrentValue());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The metrics and the operator's pages, as the flags ask. Before server->Start().
absl::Status AttachObservability(framerpc::Server* server, framerpc::HealthService* health,
                                 const framerpc::command::CommandServiceImpl* command,
                                 framerpc::file::FileServiceImpl* files,
                                 std::optional<framerpc::auth::SharedSecret>* token,
                                 framerpc::server::ServerObservability* observability) {
  framerpc::server::AdminConfig config;
  config.listen = absl::GetFlag(FLAGS_admin_listen);
  config.on_rpc_port = absl::GetFlag(FLAGS_admin_on_rpc_port);
  if (const std::string path = absl::GetFlag(FLAGS_auth_token_file); !path.empty()) {
    absl::StatusOr<framerpc::auth::SharedSecret> secret =
        framerpc::auth::SharedSecret::FromFile(path);
    if (!secret.ok()) return secret.status();
    token->emplace(*std::move(secret));
    config.token = &**token;
  }
  config.ready = [health] {
    return health->GetStatus("") == framerpc::HealthService::kServing;
  };
  config.flags = ServerFlags;
  config.version = absl::StrCat("framerpc_server ", framerpc::kVersion);
  if (command != nullptr) config.command = &command->runner();
  if (files != nullptr) config.files = files->tracker();
  return observability->Attach(server, std::move(config));
}

// --help lists this binary's own flags (absl would look for them in a file named after it), and
// --version prints our version and build.
void ConfigureUsage() {
  absl::FlagsUsageConfig config;
  const auto ours = [](absl::string_view file) { return absl::StartsWith(file, "server/"); };
  config.contains_help_flags = ours;
  config.contains_helpshort_flags = ours;
  config.version_string = [] {
    return absl::StrCat("framerpc_server ", framerpc::kVersion, "\n", framerpc::BuildInfo(),
                        "\n");
  };
  absl::SetFlagsUsageConfig(config);
}

// Configures the log from the flags, or says why it cannot.
absl::Status ConfigureLogging() {
  absl::StatusOr<framerpc::logging::Level> level =
      framerpc::logging::ParseLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) return absl::InvalidArgumentError(absl::StrCat("--log_level: ", level.status().message()));
  absl::StatusOr<framerpc::logging::Format> format =
      framerpc::logging::ParseFormat(absl::GetFlag(FLAGS_log_format));
  if (!format.ok()) return absl::InvalidArgumentError(absl::StrCat("--log_format: ", format.status().message()));
  if (absl::GetFlag(FLAGS_access_log) && *level > framerpc::logging::Level::kInfo) {
    return absl::InvalidArgumentError(
        "--access_log writes at level info: it needs --log_level=info or debug");
  }
  if (absl::GetFlag(FLAGS_access_log_sample) == 0) {
    return absl::InvalidArgumentError("--access_log_sample must be at least 1");
  }
  framerpc::logging::Configure({*level, *format});
  return absl::OkStatus();
}

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);  // reloads the TLS certificate and key
  return set;
}

// Everything framerpc_server runs, in the order it is made (and destroyed in reverse).
struct Hosted {
  // Before the server, whose dispatcher reports every call to it until the server is gone.
  framerpc::server::ServerObservability observability;
  std::unique_ptr<framerpc::logging::RefusalLog> refusal_log;
  std::unique_ptr<framerpc::logging::AccessLog> access_log;
  std::unique_ptr<framerpc::CompositeObserver> composite;
  framerpc::ServerOptions options;
  framerpc::echo::EchoServiceImpl echo;
  std::unique_ptr<framerpc::command::CommandServiceImpl> command;  // null: not enabled
  std::unique_ptr<framerpc::file::FileServiceImpl> files;          // null: no --file_root
  framerpc::HealthService health;
  std::unique_ptr<framerpc::Server> server;
  std::unique_ptr<framerpc::ReflectionService> reflection;
  framerpc::server::TlsSetup tls;
  std::vector<std::string> framed;  // the --listen addresses as bound
  // UDP serves only what is safe over datagrams, so not the command service: its Run would block
  // the UDP thread for as long as the command runs, and a datagram's source can be forged.
  std::unique_ptr<framerpc::Dispatcher> udp_dispatcher;
  std::unique_ptr<framerpc::EventLoopThread> udp_loop;
  std::vector<std::unique_ptr<framerpc::UdpServer>> udp_servers;
  std::unique_ptr<framerpc::GrpcAdapter> grpc;
  std::string grpc_address;
  std::optional<framerpc::auth::SharedSecret> admin_token;
  std::unique_ptr<framerpc::naming::EtcdRegistration> registration;
  // With TLS: SIGHUP and, unless --tls_watch_files=false, a change of the files reload them.
  std::unique_ptr<framerpc::server::TlsReloader> reloader;
  std::unique_ptr<framerpc::server::FileWatch> tls_watch;  // stopped before the drain
};

framerpc::ServerOptions ServerOptionsFromFlags() {
  framerpc::ServerOptions options;
  options.io_threads = absl::GetFlag(FLAGS_io_threads);
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  options.listen_backlog = absl::GetFlag(FLAGS_listen_backlog);
  options.limits.max_body_bytes = absl::GetFlag(FLAGS_max_frame_bytes);
  options.limits.max_metadata_bytes = absl::GetFlag(FLAGS_max_metadata_bytes);
  options.output_high_water_bytes = absl::GetFlag(FLAGS_output_high_water_bytes);
  options.busy_poll = absl::GetFlag(FLAGS_busy_poll);
  options.timeouts = ConnectionTimeoutFlags();
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.max_connections_per_peer = absl::GetFlag(FLAGS_max_connections_per_peer);
  options.memory_budget_bytes = absl::GetFlag(FLAGS_memory_budget);
  options.stream_stall_timeout = absl::GetFlag(FLAGS_stream_stall_timeout);
  return options;
}

// Every refusal, rate-limited; the call observers: the metrics, and the access log when asked
// for. One observer is given as it is, several through a CompositeObserver.
void AttachLogs(Hosted& hosted) {
  hosted.refusal_log = std::make_unique<framerpc::logging::RefusalLog>(
      framerpc::logging::RefusalLogOptions{.lines_per_second = absl::GetFlag(FLAGS_refusal_log_rate),
                                           .burst = 20});
  hosted.options.refusals = hosted.refusal_log.get();
  std::vector<framerpc::CallObserver*> observers = {hosted.observability.observer()};
  if (absl::GetFlag(FLAGS_access_log)) {
    const double rate = absl::GetFlag(FLAGS_access_log_rate);
    hosted.access_log = std::make_unique<framerpc::logging::AccessLog>(
        framerpc::logging::AccessLogOptions{absl::GetFlag(FLAGS_access_log_sample), rate, 2 * rate});
    observers.push_back(hosted.access_log.get());
  }
  if (observers.size() == 1) {
    hosted.options.observer = observers.front();
  } else {
    hosted.composite = std::make_unique<framerpc::CompositeObserver>(observers);
    hosted.options.observer = hosted.composite.get();
  }
}

absl::Status AddServices(Hosted& hosted) {
  framerpc::Server& server = *hosted.server;
  FRPC_RETURN_IF_ERROR(server.AddService(&hosted.echo));
  hosted.reflection = std::make_unique<framerpc::ReflectionService>(server.dispatcher());
  FRPC_RETURN_IF_ERROR(server.AddService(&hosted.health, {.run_inline = false}));
  FRPC_RETURN_IF_ERROR(server.AddService(hosted.reflection.get(), {.run_inline = false}));
  // Run blocks for as long as its command runs: never on the shared workers.
  if (hosted.command != nullptr) {
    FRPC_RETURN_IF_ERROR(framerpc::server::AddCommandService(&server, hosted.command.get()));
  }
  // File-system work (a checksum reads a whole file): never on an I/O thread.
  if (hosted.files != nullptr) {
    FRPC_RETURN_IF_ERROR(server.AddService(hosted.files.get(), {.run_inline = false}));
  }
  return absl::OkStatus();
}

// TLS from the flags, and the rule that identities are only listed where they can be verified.
absl::Status SetUpTls(Hosted& hosted) {
  FRPC_ASSIGN_OR_RETURN(hosted.tls, framerpc::server::BuildTlsSetup(TlsFlagValues()));
  if (hosted.command != nullptr) {
    FRPC_RETURN_IF_ERROR(framerpc::server::CheckIdentitiesAreVerified(
        hosted.command->runner().config().access, hosted.tls, "the command service",
        "--command_allow_identities"));
  }
  if (hosted.files != nullptr) {
    FRPC_RETURN_IF_ERROR(framerpc::server::CheckIdentitiesAreVerified(
        hosted.files->options().write_access, hosted.tls, "the file service",
        "--file_allow_identities"));
  }
  if (hosted.tls.context != nullptr) hosted.server->SetTlsContext(hosted.tls.context);
  return absl::OkStatus();
}

// Binds the --listen and --udp addresses; nothing is served until Start.
absl::Status Bind(Hosted& hosted) {
  const std::vector<std::string> listens = absl::GetFlag(FLAGS_listen);
  for (const std::string& address : listens) {
    FRPC_RETURN_IF_ERROR(hosted.server->AddListener(address, hosted.tls.listeners));
  }
  for (size_t i = 0; i < listens.size(); ++i) {
    hosted.framed.push_back(hosted.server->listen_address(i));
  }
  hosted.udp_dispatcher = std::make_unique<framerpc::Dispatcher>(
      hosted.options.limits, /*worker_threads=*/1, hosted.options.observer);
  FRPC_RETURN_IF_ERROR(hosted.udp_dispatcher->AddService(&hosted.echo));
  hosted.udp_loop = std::make_unique<framerpc::EventLoopThread>();
  framerpc::UdpServerOptions udp_options;
  udp_options.max_datagram_bytes = absl::GetFlag(FLAGS_max_udp_datagram_bytes);
  for (const std::string& address : absl::GetFlag(FLAGS_udp)) {
    auto udp = std::make_unique<framerpc::UdpServer>(hosted.udp_loop->loop(),
                                                     hosted.udp_dispatcher.get(), udp_options);
    FRPC_RETURN_IF_ERROR(udp->Bind(address));
    hosted.udp_servers.push_back(std::move(udp));
  }
  return absl::OkStatus();
}

// Step 1: the services, the server and its listeners, as the flags say. Nothing is served yet.
absl::StatusOr<std::unique_ptr<Hosted>> Build() {
  auto hosted = std::make_unique<Hosted>();
  hosted->options = ServerOptionsFromFlags();
  AttachLogs(*hosted);
  FRPC_ASSIGN_OR_RETURN(hosted->command, MakeCommandService(hosted->options.limits.max_body_bytes,
                                                            hosted->refusal_log.get()));
  FRPC_ASSIGN_OR_RETURN(hosted->files, MakeFileService(hosted->refusal_log.get()));
  hosted->server = std::make_unique<framerpc::Server>(hosted->options);
  FRPC_RETURN_IF_ERROR(AddServices(*hosted));
  FRPC_RETURN_IF_ERROR(SetUpTls(*hosted));
  FRPC_RETURN_IF_ERROR(Bind(*hosted));
  return hosted;
}

// Step 2: the one check of what would be exposed where, over every transport.
absl::Status Check(const Hosted& hosted) {
  framerpc::server::Exposure exposure;
  exposure.framed = hosted.framed;
  exposure.framed_tls = !absl::GetFlag(FLAGS_tls_cert).empty();
  exposure.framed_plaintext_too = absl::GetFlag(FLAGS_tls_shared_port);
  exposure.grpc_port = absl::GetFlag(FLAGS_grpc_listen);  // only its host matters here
  exposure.grpc_port_tls = exposure.framed_tls;
  exposure.grpc_same_port = absl::GetFlag(FLAGS_grpc_same_port);
  exposure.grpc_allow_nonlocal = absl::GetFlag(FLAGS_grpc_allow_nonlocal);
  exposure.accept_plaintext = absl::GetFlag(FLAGS_accept_plaintext);
  framerpc::server::ProtectedServices services;
  if (hosted.command != nullptr) services.command_access = &hosted.command->runner().config().access;
  if (hosted.files != nullptr) services.files = &hosted.files->options();
  return framerpc::server::CheckExposure(exposure, services);
}

// SIGHUP and a change of the certificate, key or client CA files reload them: new handshakes use
// what the files hold now, open connections keep their sessions, and a pair that cannot be used
// is refused (logged) with the old one kept.
absl::Status WatchTlsFiles(Hosted& hosted) {
  if (hosted.tls.context == nullptr) return absl::OkStatus();
  hosted.reloader =
      std::make_unique<framerpc::server::TlsReloader>(hosted.server.get(), TlsFlagValues());
  if (!absl::GetFlag(FLAGS_tls_watch_files)) return absl::OkStatus();
  framerpc::server::TlsReloader* reloader = hosted.reloader.get();
  FRPC_ASSIGN_OR_RETURN(hosted.tls_watch, framerpc::server::FileWatch::Start(
                                              reloader->files(),
                                              [reloader] {
                                                if (!reloader->Reload("files changed").ok()) return;
                                                std::printf(
                                                    "framerpc_server: TLS certificate and key "
                                                    "reloaded (files changed)\n");
                                                std::fflush(stdout);
                                              },
                                              {}));
  return absl::OkStatus();
}

void ReloadTlsOnSignal(Hosted& hosted) {
  if (hosted.reloader == nullptr) {
    framerpc::logging::Info("server", "SIGHUP: no TLS to reload");
  } else if (hosted.reloader->Reload("SIGHUP").ok()) {
    std::printf("framerpc_server: TLS certificate and key reloaded\n");
    std::fflush(stdout);
  }
}

// Step 3: serves on every transport, registers, and reports the addresses ("serving ...", the
// last line of the start-up report, means ready).
absl::Status Start(Hosted& hosted) {
  FRPC_RETURN_IF_ERROR(StartGrpc(hosted.server.get(), hosted.tls, &hosted.grpc,
                                 &hosted.grpc_address));
  FRPC_RETURN_IF_ERROR(AttachObservability(hosted.server.get(), &hosted.health,
                                           hosted.command.get(), hosted.files.get(),
                                           &hosted.admin_token, &hosted.observability));
  FRPC_RETURN_IF_ERROR(hosted.server->Start());
  hosted.health.SetServingForAll(*hosted.server->dispatcher());
  std::vector<std::string> ready = hosted.framed;
  for (auto& udp : hosted.udp_servers) {
    FRPC_RETURN_IF_ERROR(udp->Start());
    ready.push_back("udp:" + udp->local_address().ToString());
  }
  if (!hosted.grpc_address.empty()) ready.push_back("grpc:" + hosted.grpc_address);
  if (const std::string admin = hosted.observability.admin_address(); !admin.empty()) {
    ready.push_back("admin:" + admin);
  }
  if (hosted.tls.context != nullptr) {
    std::printf("framerpc_server: TLS on the --listen addresses: %s\n",
                hosted.tls.description.c_str());
  }
  PrintAccess(hosted.command.get(), hosted.files.get());
  std::printf("framerpc_server: serving %s\n", absl::StrJoin(ready, ", ").c_str());
  std::fflush(stdout);
  framerpc::logging::Log(framerpc::logging::Level::kInfo, "server", "serving",
                         {{"version", framerpc::kVersion},
                          {"addresses", absl::StrJoin(ready, ", ")},
                          {"access_log", hosted.access_log != nullptr}});
  if (const std::string url = absl::GetFlag(FLAGS_register); !url.empty()) {
    std::string address = absl::GetFlag(FLAGS_register_address);
    if (address.empty()) address = hosted.server->listen_address(0);
    FRPC_ASSIGN_OR_RETURN(hosted.registration,
                          framerpc::naming::EtcdRegistration::Start(
                              url, std::move(address), absl::GetFlag(FLAGS_register_ttl)));
  }
  if (const std::string path = absl::GetFlag(FLAGS_ready_file); !path.empty()) {
    // Written whole to a temporary name, then renamed, so readers never see half a file.
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp) << absl::StrJoin(ready, "\n") << "\n";
    std::rename(tmp.c_str(), path.c_str());
  }
  return WatchTlsFiles(hosted);
}

// Step 4: serves until SIGINT or SIGTERM (SIGHUP reloads TLS), then drains and stops.
void ServeUntilSignalled(Hosted& hosted, sigset_t signals) {
  int received = 0;
  for (;;) {
    sigwait(&signals, &received);
    if (received != SIGHUP) break;
    ReloadTlsOnSignal(hosted);
  }
  hosted.tls_watch.reset();
  // Out of the registry first, so that clients stop picking this server; then health turns
  // NOT_SERVING, and everything else goes on for the drain delay, so that load balancers and
  // readiness probes see it and stop sending before the listeners close.
  if (hosted.registration != nullptr) hosted.registration->Deregister();
  hosted.health.Shutdown();
  const absl::Duration drain = absl::GetFlag(FLAGS_drain_delay);
  if (drain > absl::ZeroDuration()) {
    std::printf("framerpc_server: signal %d, health NOT_SERVING, draining for %s (signal again "
                "to stop now)\n",
                received, absl::FormatDuration(drain).c_str());
    std::fflush(stdout);
    const timespec wait = absl::ToTimespec(drain);
    sigset_t stop = signals;  // SIGHUP is no reason to cut the drain short
    sigdelset(&stop, SIGHUP);
    sigtimedwait(&stop, nullptr, &wait);
  }
  std::printf("framerpc_server: signal %d, shutting down gracefully\n", received);
  std::fflush(stdout);
  const absl::Duration grace = absl::GetFlag(FLAGS_shutdown_grace);
  for (auto& udp : hosted.udp_servers) udp->Stop();
  if (hosted.grpc != nullptr) hosted.grpc->Shutdown(grace);
  hosted.udp_dispatcher->StopWorkers();
  hosted.server->Shutdown(grace);
  hosted.observability.StopAdmin();
  hosted.refusal_log->Flush();
  if (hosted.access_log != nullptr) hosted.access_log->Flush();
  framerpc::logging::Info("server", "stopped after signal {}", received);
  std::printf("framerpc_server: stopped\n");
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Hosts the framerpc services. See README.md.");
  ConfigureUsage();
  absl::ParseCommandLine(argc, argv);
  if (absl::Status s = ConfigureLogging(); !s.ok()) return Fail(s);
  // Block the shutdown signals in every thread (so before any starts); main waits for them.
  const sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<Hosted>> hosted = Build();
  if (!hosted.ok()) return Fail(hosted.status());
  if (absl::Status s = Check(**hosted); !s.ok()) return Fail(s);
  if (absl::Status s = Start(**hosted); !s.ok()) return Fail(s);
  ServeUntilSignalled(**hosted, signals);
  return 0;
}
