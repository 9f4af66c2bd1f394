#include "logging/line_format.h"

#include <cstdint>

#include "absl/time/time.h"
#include "logging/json_string.h"

namespace framerpc::logging {
namespace {

// The text format's message: as it is when it is plain printable ASCII, quoted otherwise, so
// that nothing in it can start a new line.
void AppendTextMessage(absl::string_view message, std::string* out) {
  for (char ch : message) {
    const uint8_t c = static_cast<uint8_t>(ch);
    if (c < 0x20 || c >= 0x7f) return AppendJsonString(message, out);
  }
  out->append(message.data(), message.size());
}

const char* SpdlogLevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    default:
      return "error";
  }
}

void Append(absl::string_view text, spdlog::memory_buf_t* dest) {
  dest->append(text.data(), text.data() + text.size());
}

}  // namespace

std::string RenderBody(Format format, absl::string_view component, absl::string_view message,
                       absl::Span<const Field> fields) {
  std::string out;
  if (format == Format::kJson) {
    out.append("\"logger\":");
    AppendJsonString(component, &out);
    out.append(",\"msg\":");
    AppendJsonString(message, &out);
    for (const Field& field : fields) {
      out.push_back(',');
      AppendJsonString(field.key, &out);
      out.push_back(':');
      if (field.quoted) {
        AppendJsonString(field.value, &out);
      } else {
        out.append(field.value);
      }
    }
    return out;
  }
  AppendTextValue(component, &out);
  out.append(": ");
  AppendTextMessage(message, &out);
  for (const Field& field : fields) {
    out.push_back(' ');
    AppendTextValue(field.key, &out);
    out.push_back('=');
    AppendTextValue(field.value, &out);
  }
  return out;
}

void LineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromChrono(msg.time),
                                          absl::UTCTimeZone());
  const char* level = SpdlogLevelName(msg.level);
  const absl::string_view body(msg.payload.data(), msg.payload.size());
  if (format_ == Format::kJson) {
    Append("{\"ts\":\"", &dest);
    Append(ts, &dest);
    Append("\",\"level\":\"", &dest);
    Append(level, &dest);
    Append("\",", &dest);
    Append(body, &dest);
    Append("}\n", &dest);
    return;
  }
  Append(ts, &dest);
  Append(" ", &dest);
  Append(level, &dest);
  Append(" ", &dest);
  Append(body, &dest);
  Append("\n", &dest);
}

}  // namespace framerpc::logging
