#include "admin/admin_pages.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace framerpc::admin {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A table as aligned plain text, or as HTML.
HttpResponse Table(absl::string_view title, const std::vector<std::string>& columns,
                   const std::vector<std::vector<std::string>>& rows, bool html) {
  HttpResponse response;
  if (html) {
    response.content_type = "text/html; charset=utf-8";
    std::string& b = response.body;
    absl::StrAppend(&b, "<!DOCTYPE html><html><head><title>", HtmlEscape(title),
                    "</title></head><body><h1>", HtmlEscape(title), "</h1><table border=1><tr>");
    for (const std::string& c : columns) absl::StrAppend(&b, "<th>", HtmlEscape(c), "</th>");
    b += "</tr>";
    for (const std::vector<std::string>& row : rows) {
      b += "<tr>";
      for (const std::string& cell : row) absl::StrAppend(&b, "<td>", HtmlEscape(cell), "</td>");
      b += "</tr>";
    }
    b += "</table></body></html>\n";
    return response;
  }
  std::vector<size_t> width(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) width[i] = columns[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      absl::StrAppend(&out, cells[i], std::string(width[i] - cells[i].size() + 2, ' '));
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  absl::StrAppend(&response.body, "# ", title, "\n", line(columns));
  for (const auto& row : rows) response.body += line(row);
  return response;
}

std::string Seconds(double seconds) {
  if (std::isinf(seconds)) return ">10s";
  if (seconds < 1e-3) return absl::StrFormat("%.0fus", seconds * 1e6);
  if (seconds < 1) return absl::StrFormat("%.2fms", seconds * 1e3);
  return absl::StrFormat("%.2fs", seconds);
}

// How long a page waits for each I/O thread to describe its connections.
constexpr absl::Duration kLoopWait = absl::Seconds(1);

// A handler run inline that blocks keeps its I/O thread from answering: say so, rather than
// showing a partial table as if it were whole.
void AppendBusyNote(size_t unanswered, bool html, HttpResponse* response) {
  if (unanswered == 0) return;
  const std::string note = absl::StrCat(
      unanswered, " connection(s) not shown: their I/O thread did not answer within ",
      absl::FormatDuration(kLoopWait), " (a handler run inline is blocking it)");
  if (html) {
    absl::StrAppend(&response->body, "<p>", HtmlEscape(note), "</p>\n");
  } else {
    absl::StrAppend(&response->body, "# ", note, "\n");
  }
}

}  // namespace

std::string SerializeResponse(const HttpResponse& response, bool head_only) {
  std::string out = absl::StrCat("HTTP/1.1 ", response.status, " ", Reason(response.status),
                                 "\r\nContent-Type: ", response.content_type,
                                 "\r\nContent-Length: ", response.body.size(),
                                 "\r\nConnection: close\r\n");
  for (const auto& [name, value] : response.headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

AdminPages::AdminPages(AdminSources sources) : sources_(std::move(sources)) {
  if (sources_.rpc != nullptr) window_ = std::make_unique<StatusWindow>(sources_.rpc);
}

HttpResponse AdminPages::Handle(const HttpRequest& request, const PeerIdentity& peer) const {
  HttpResponse response;
  if (request.method != "GET" && request.method != "HEAD") {
    response.status = 405;
    response.headers.emplace_back("Allow", "GET, HEAD");
    response.body = "only GET and HEAD\n";
    return response;
  }
  const std::string& path = request.path;
  const bool open_to_all = path == "/metrics" || path == "/healthz" || path == "/readyz";
  if (!peer.local && !open_to_all) {
    if (sources_.token == nullptr) {
      response.status = 403;
      response.body = "this page is served to local peers only (the server has no token)\n";
      return response;
    }
    const std::string authorization(request.Header("authorization"));
    if (!sources_.token->Check(request.Header("authorization").empty() ? nullptr : &authorization)
             .ok()) {
      response.status = 401;
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
      response.body = "this page needs the server's token: authorization: Bearer <token>\n";
      return response;
    }
  }
  const bool html = absl::StrContains(request.Header("accept"), "text/html");
  if (path == "/metrics") {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = sources_.exposition != nullptr ? sources_.exposition->Render() : "";
    return response;
  }
  const bool ready = !sources_.ready || sources_.ready();
  if (path == "/healthz") {
    response.body = ready ? "ok: serving\n" : "ok: alive, not serving (draining or starting)\n";
    return response;
  }
  if (path == "/readyz") {
    response.status = ready ? 200 : 503;
    response.body = ready ? "SERVING\n" : "NOT_SERVING\n";
    return response;
  }
  if (path == "/status") return Status(html);
  if (path == "/connections") return Connections(html);
  if (path == "/calls") return Calls(html);
  if (path == "/flags") {
    std::vector<std::vector<std::string>> rows;
    if (sources_.flags) {
      for (auto& [name, value] : sources_.flags()) rows.push_back({name, value});
    }
    return Table("flags", {"flag", "value"}, rows, html);
  }
  if (path == "/version") {
    response.body = sources_.version + "\n";
    return response;
  }
  if (path == "/") {
    return Table("framerpc", {"page", "what"},
                 {{"/metrics", "Prometheus metrics"},
                  {"/healthz", "liveness"},
                  {"/readyz", "readiness (200 when SERVING)"},
                  {"/status", "methods over the last minute"},
                  {"/connections", "open framed connections"},
                  {"/calls", "calls in flight"},
                  {"/flags", "the server's flags"},
                  {"/version", "the server's version"}},
                 html);
  }
  response.status = 404;
  response.body = absl::StrCat("no page ", path, "; see /\n");
  return response;
}

HttpResponse AdminPages::Status(bool html) const {
  std::vector<std::vector<std::string>> rows;
  if (window_ != nullptr) {
    for (const MethodSummary& s : window_->Summary()) {
      rows.push_back({s.service, s.method, s.transport, absl::StrFormat("%.1f", s.calls_per_second),
                      absl::StrCat(s.calls), absl::StrCat(s.errors), Seconds(s.p50_seconds),
                      Seconds(s.p99_seconds), absl::StrCat(s.in_flight)});
    }
  }
  return Table("methods, last minute",
               {"service", "method", "transport", "calls/s", "calls", "errors", "p50", "p99",
                "in_flight"},
               rows, html);
}

HttpResponse AdminPages::Connections(bool html) const {
  std::vector<std::vector<std::string>> rows;
  size_t unanswered = 0;
  if (sources_.server != nullptr) {
    for (const ConnectionInfo& c : sources_.server->Connections(kLoopWait, &unanswered)) {
      rows.push_back({c.peer, c.identity.DebugString(),
                      absl::FormatDuration(absl::Trunc(c.age, absl::Milliseconds(1))),
                      absl::StrCat(c.calls_in_flight), absl::StrCat(c.bytes_received),
                      absl::StrCat(c.bytes_sent)});
    }
  }
  HttpResponse response = Table("connections",
                                {"peer", "identity", "age", "calls", "bytes_in", "bytes_out"}, rows,
                                html);
  AppendBusyNote(unanswered, html, &response);
  return response;
}

HttpResponse AdminPages::Calls(bool html) const {
  std::vector<std::vector<std::string>> rows;
  size_t unanswered = 0;
  if (sources_.server != nullptr) {
    const absl::Time now = absl::Now();
    for (const InFlightCall& c : sources_.server->CallsInFlight(kLoopWait, &unanswered)) {
      rows.push_back({c.method, c.peer,
                      absl::FormatDuration(absl::Trunc(c.age, absl::Milliseconds(1))),
                      c.deadline == absl::InfiniteFuture()
                          ? "none"
                          : absl::FormatDuration(absl::Trunc(c.deadline - now,
                                                             absl::Milliseconds(1)))});
    }
  }
  HttpResponse response =
      Table("calls in flight", {"method", "peer", "age", "deadline_in"}, rows, html);
  AppendBusyNote(unanswered, html, &response);
  return response;
}

}  // namespace framerpc::admin
