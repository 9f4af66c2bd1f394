#include "naming/etcd_client.h"

#include <curl/curl.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace framerpc::naming {
namespace {

using Json = nlohmann::json;

// curl_global_init once, before any handle (it is not thread-safe itself).
void InitCurl() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

// Replies are small; a watch stream is read a line at a time. Either way, at most this much.
constexpr size_t kMaxReplyBytes = size_t{4} << 20;

size_t Append(char* data, size_t size, size_t count, void* out) {
  auto* text = static_cast<std::string*>(out);
  if (text->size() + size * count > kMaxReplyBytes) return 0;  // curl fails the transfer
  text->append(data, size * count);
  return size * count;
}

absl::Status StatusOfReply(const Json& reply, const std::string& what) {
  if (reply.contains("error") || reply.contains("code")) {
    const int code = reply.value("code", 2);
    return absl::Status(static_cast<absl::StatusCode>(code >= 0 && code <= 16 ? code : 2),
                        absl::StrCat("etcd ", what, ": ", reply.value("message", "error")));
  }
  return absl::OkStatus();
}

int64_t Int(const Json& value) {
  // The gateway writes 64-bit integers as strings.
  int64_t n = 0;
  if (value.is_string()) {
    absl::SimpleAtoi(value.get<std::string>(), &n);
  } else if (value.is_number_integer()) {
    n = value.get<int64_t>();
  }
  return n;
}

}  // namespace

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

absl::StatusOr<std::string> EtcdClient::Post(const std::string& path,
                                            const std::string& body) const {
  InitCurl();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  const std::string url = absl::StrCat("http://", endpoint_, "/v3/", path);
  std::string reply;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout_)));
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROXY, "");  // never through a proxy
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("etcd at ", endpoint_, ": ", curl_easy_strerror(rc)));
  }
  return reply;
}

absl::StatusOr<int64_t> EtcdClient::GrantLease(absl::Duration ttl) const {
  const int64_t seconds = std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1))));
  absl::StatusOr<std::string> text = Post("lease/grant", Json{{"TTL", seconds}}.dump());
  if (!text.ok()) return text.status();
  const Json reply = Json::parse(*text, nullptr, false);
  if (reply.is_discarded()) return absl::InternalError("etcd lease/grant: not JSON");
  if (absl::Status s = StatusOfReply(reply, "lease/grant"); !s.ok()) return s;
  const int64_t id = Int(reply.value("ID", Json()));
  if (id == 0) return absl::InternalError("etcd lease/grant: no lease ID");
  return id;
}

absl::StatusOr<absl::Duration> EtcdClient::KeepAlive(int64_t lease) const {
  absl::StatusOr<std::string> text =
      Post("lease/keepalive", Json{{"ID", std::to_string(lease)}}.dump());
  if (!text.ok()) return text.status();
  // A stream of replies, one per line; the first answers ours.
  const Json reply = Json::parse(text->substr(0, text->find('\n')), nullptr, false);
  if (reply.is_discarded()) return absl::InternalError("etcd lease/keepalive: not JSON");
  if (absl::Status s = StatusOfReply(reply, "lease/keepalive"); !s.ok()) return s;
  const Json result = reply.value("result", Json::object());
  const int64_t ttl = Int(result.value("TTL", Json()));
  if (ttl <= 0) return absl::NotFoundError(absl::StrCat("etcd lease ", lease, " has expired"));
  return absl::Seconds(ttl);
}

absl::Status EtcdClient::RevokeLease(int64_t lease) const {
  absl::StatusOr<std::string> text = Post("lease/revoke", Json{{"ID", std::to_string(lease)}}.dump());
  if (!text.ok()) return text.status();
  const Json reply = Json::parse(*text, nullptr, false);
  return reply.is_discarded() ? absl::InternalError("etcd lease/revoke: not JSON")
                              : StatusOfReply(reply, "lease/revoke");
}

absl::Status EtcdClient::Put(const std::string& key, const std::string& value,
                             int64_t lease) const {
  Json body = {{"key", absl::Base64Escape(key)}, {"value", absl::Base64Escape(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  absl::StatusOr<std::string> text = Post("kv/put", body.dump());
  if (!text.ok()) return text.status();
  const Json reply = Json::parse(*text, nullptr, false);
  return reply.is_discarded() ? absl::InternalError("etcd kv/put: not JSON")
                              : StatusOfReply(reply, "kv/put");
}

absl::Status EtcdClient::Delete(const std::string& key) const {
  absl::StatusOr<std::string> text =
      Post("kv/deleterange", Json{{"key", absl::Base64Escape(key)}}.dump());
  if (!text.ok()) return text.status();
  const Json reply = Json::parse(*text, nullptr, false);
  return reply.is_discarded() ? absl::InternalError("etcd kv/deleterange: not JSON")
                              : StatusOfReply(reply, "kv/deleterange");
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> EtcdClient::Range(
    const std::string& prefix) const {
  absl::StatusOr<std::string> text =
      Post("kv/range", Json{{"key", absl::Base64Escape(prefix)},
                            {"range_end", absl::Base64Escape(PrefixEnd(prefix))}}
                           .dump());
  if (!text.ok()) return text.status();
  const Json reply = Json::parse(*text, nullptr, false);
  if (reply.is_discarded()) return absl::InternalError("etcd kv/range: not JSON");
  if (absl::Status s = StatusOfReply(reply, "kv/range"); !s.ok()) return s;
  std::vector<std::pair<std::string, std::string>> out;
  for (const Json& kv : reply.value("kvs", Json::array())) {
    std::string key, value;
    if (!absl::Base64Unescape(kv.value("key", ""), &key) ||
        !absl::Base64Unescape(kv.value("value", ""), &value)) {
      return absl::InternalError("etcd kv/range: a key or value is not base64");
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

absl::Status EtcdClient::Watch(const std::string& prefix, const std::function<void()>& on_change,
                               const std::function<bool()>& stop) const {
  InitCurl();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  const std::string url = absl::StrCat("http://", endpoint_, "/v3/watch");
  const std::string body =
      Json{{"create_request",
            {{"key", absl::Base64Escape(prefix)},
             {"range_end", absl::Base64Escape(PrefixEnd(prefix))}}}}
          .dump();
  struct State {
    std::string pending;
    const std::function<void()>* on_change;
    const std::function<bool()>* stop;
  } state{"", &on_change, &stop};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROXY, "");
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout_)));
  curl_easy_setopt(
      curl.get(), CURLOPT_WRITEFUNCTION,
      +[](char* data, size_t size, size_t count, void* out) -> size_t {
        auto* s = static_cast<State*>(out);
        s->pending.append(data, size * count);
        if (s->pending.size() > kMaxReplyBytes) return 0;
        for (size_t nl = s->pending.find('\n'); nl != std::string::npos;
             nl = s->pending.find('\n')) {
          const Json event = Json::parse(s->pending.substr(0, nl), nullptr, false);
          s->pending.erase(0, nl + 1);
          if (event.is_discarded()) continue;
          const Json result = event.value("result", Json::object());
          if (result.contains("events")) (*s->on_change)();
        }
        return size * count;
      });
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &state);
  // Stops the transfer, from curl's progress callback, once `stop()` holds.
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION,
                   +[](void* data, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
                     return (*static_cast<State*>(data)->stop)() ? 1 : 0;
                   });
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &state);
  const CURLcode rc = curl_easy_perform(curl.get());
  if (stop()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("etcd watch at ", endpoint_, " ended: ",
                                             curl_easy_strerror(rc)));
}

}  // namespace framerpc::naming
