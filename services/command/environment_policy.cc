#include "services/command/environment_policy.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace framerpc::command {
namespace {

// A name refused in the allowlist: exactly, or every name starting with it.
struct Refused {
  absl::string_view name;
  bool prefix;
  absl::string_view why;
};

constexpr absl::string_view kGlibc =
    "glibc ignores it for set-user-ID programs because it changes which files the C library "
    "loads or trusts";
constexpr absl::string_view kShell = "a shell reads it at startup and runs code from it";
constexpr absl::string_view kShellParse = "it changes how a shell runs every script";
constexpr absl::string_view kRunsProgram = "it names a program that tools run";

constexpr Refused kRefused[] = {
    // The base the server sets.
    {"PATH", false, "the server sets it (the allowlist resolves programs through it)"},
    {"HOME", false, "the server sets it (--command_home); programs read startup files from it"},
    // The dynamic loader and glibc (UNSECURE_ENVVARS of glibc 2.36, and the malloc knobs).
    {"LD_", true, "the dynamic loader loads code from it"},
    {"GCONV_PATH", false, kGlibc},
    {"GETCONF_DIR", false, kGlibc},
    {"GLIBC_TUNABLES", false, kGlibc},
    {"HOSTALIASES", false, kGlibc},
    {"LOCALDOMAIN", false, kGlibc},
    {"LOCPATH", false, kGlibc},
    {"MALLOC_", true, kGlibc},
    {"NIS_PATH", false, kGlibc},
    {"NLSPATH", false, kGlibc},
    {"RESOLV_HOST_CONF", false, kGlibc},
    {"RES_OPTIONS", false, kGlibc},
    {"TMPDIR", false, kGlibc},
    {"TZDIR", false, kGlibc},
    // Shells: startup files, imported functions, options and parsing.
    {"BASH_ENV", false, kShell},
    {"ENV", false, kShell},
    {"BASH_FUNC_", true, "bash imports shell functions from it"},
    {"ZDOTDIR", false, kShell},
    {"PROMPT_COMMAND", false, kShell},
    {"SHELLOPTS", false, kShellParse},
    {"BASHOPTS", false, kShellParse},
    {"PS4", false, "shells expand it, command substitutions included, when tracing"},
    {"IFS", false, kShellParse},
    {"CDPATH", false, kShellParse},
    {"GLOBIGNORE", false, kShellParse},
    {"FPATH", false, "shells load functions from it"},
    {"BASH_XTRACEFD", false, kShellParse},
    {"BASH_LOADABLES_PATH", false, "bash loads builtins (shared objects) from it"},
    // Interpreters: startup options, startup code and module paths.
    {"PYTHON", true, "Python runs startup code and imports modules from it"},
    {"PERL", true, "Perl takes options and modules from it (PERL5OPT, PERL5LIB, PERL5DB)"},
    {"RUBY", true, "Ruby takes options and libraries from it (RUBYOPT, RUBYLIB)"},
    {"GEM_", true, "Ruby loads gems from it"},
    {"NODE_", true, "Node.js takes options and modules from it (NODE_OPTIONS, NODE_PATH)"},
    {"JAVA_TOOL_OPTIONS", false, "the JVM takes options (agents) from it"},
    {"_JAVA_OPTIONS", false, "the JVM takes options (agents) from it"},
    {"JDK_JAVA_OPTIONS", false, "the JVM takes options (agents) from it"},
    {"CLASSPATH", false, "the JVM loads classes from it"},
    {"LUA_", true, "Lua runs startup code and loads modules from it"},
    {"TCLLIBPATH", false, "Tcl loads packages from it"},
    {"PHPRC", false, "PHP reads its configuration from it"},
    {"PHP_INI_SCAN_DIR", false, "PHP reads its configuration from it"},
    // Programs that tools run, and configurations that load code.
    {"GIT_", true, "git runs programs and reads configuration named in it"},
    {"EDITOR", false, kRunsProgram},
    {"VISUAL", false, kRunsProgram},
    {"PAGER", false, kRunsProgram},
    {"MANPAGER", false, kRunsProgram},
    {"LESSOPEN", false, kRunsProgram},
    {"LESSCLOSE", false, kRunsProgram},
    {"BROWSER", false, kRunsProgram},
    {"SSH_ASKPASS", false, kRunsProgram},
    {"SUDO_ASKPASS", false, kRunsProgram},
    {"OPENSSL_CONF", false, "OpenSSL loads engines and providers named in it"},
    {"OPENSSL_ENGINES", false, "OpenSSL loads engines from it"},
    {"OPENSSL_MODULES", false, "OpenSSL loads providers from it"},
    {"XDG_CONFIG_HOME", false, "programs read their configuration from it"},
    {"XDG_CONFIG_DIRS", false, "programs read their configuration from it"},
};

bool IsIdentifier(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name.front()))) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

bool IsMalformed(absl::string_view name, absl::string_view value) {
  return name.empty() || name.find_first_of(absl::string_view("=\0", 2)) != name.npos ||
         value.find('\0') != value.npos;
}

}  // namespace

absl::Status CheckAllowableName(absl::string_view name) {
  if (!IsIdentifier(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", absl::CHexEscape(name),
        "' is not a portable variable name ([A-Za-z_][A-Za-z0-9_]*; bash's exported functions, "
        "BASH_FUNC_name%%, are not)"));
  }
  for (const Refused& refused : kRefused) {
    const bool match =
        refused.prefix ? absl::StartsWith(name, refused.name) : name == refused.name;
    if (match) return absl::InvalidArgumentError(absl::StrCat(name, ": ", refused.why));
  }
  return absl::OkStatus();
}

absl::StatusOr<EnvironmentPolicy> EnvironmentPolicy::Create(EnvironmentConfig config) {
  std::vector<std::string> refused;
  for (const std::string& name : config.allowed_names) {
    absl::Status status = CheckAllowableName(name);
    if (!status.ok()) refused.push_back(std::string(status.message()));
  }
  if (!refused.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--command_env_allow may not allow these variables: ", absl::StrJoin(refused, "; ")));
  }
  for (const std::string* value : {&config.path, &config.lang, &config.home}) {
    if (value->find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("PATH, LANG and HOME must not contain NUL");
    }
  }
  return EnvironmentPolicy(std::move(config));
}

EnvironmentPolicy::EnvironmentPolicy(EnvironmentConfig config)
    : allowed_(config.allowed_names.begin(), config.allowed_names.end()),
      path_(std::move(config.path)),
      lang_(std::move(config.lang)),
      home_(std::move(config.home)) {}

absl::Status EnvironmentPolicy::Check(const RequestEnv& request) const {
  // google::protobuf::Map has no order: sort, so that the error is the same every time.
  const std::map<std::string, std::string> sorted(request.begin(), request.end());
  for (const auto& [name, value] : sorted) {
    if (IsMalformed(name, value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid environment variable name or value: '", absl::CHexEscape(name), "'"));
    }
    if (allowed_.count(name) == 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "environment variable '", name,
          "' is not allowed by this server (--command_env_allow)"));
    }
  }
  return absl::OkStatus();
}

std::map<std::string, std::string> EnvironmentPolicy::Build(
    const RequestEnv& request, absl::string_view working_directory) const {
  std::map<std::string, std::string> env;
  env["PATH"] = path_;
  if (!lang_.empty()) env["LANG"] = lang_;
  const std::string home = home_.empty() ? std::string(working_directory) : home_;
  if (!home.empty()) env["HOME"] = home;
  for (const auto& [name, value] : request) env[name] = value;
  return env;
}

}  // namespace framerpc::command
