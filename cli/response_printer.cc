#include "cli/response_printer.h"

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "cli/json_codec.h"

namespace framerpc::cli {
namespace {

constexpr char kNoMetadata[] = "(none: the framed protocol's responses carry no metadata)";

void PrintMetadata(Metadata metadata, std::ostream& out) {
  if (metadata.empty()) {
    out << "(empty)\n";
    return;
  }
  std::stable_sort(metadata.begin(), metadata.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [key, value] : metadata) out << key << ": " << value << "\n";
}

absl::Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", path));
  file.write(data.data(), static_cast<std::streamsize>(data.size()));
  file.close();
  if (!file) return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string Plural(int n, const char* noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

}  // namespace

void ResponsePrinter::PrintHeadersOnce() {
  if (!options_.verbose || headers_printed_) return;
  headers_printed_ = true;
  out_ << "\nResponse headers received:\n";
  if (call_->carries_response_metadata()) {
    PrintMetadata(call_->ResponseHeaders(), out_);
  } else {
    out_ << kNoMetadata << "\n";
  }
}

absl::Status ResponsePrinter::Print(const google::protobuf::Message& reply,
                                    const std::string& attachment) {
  ++replies_;
  FRPC_ASSIGN_OR_RETURN(const std::string json, MessageToJson(reply, options_.json));
  PrintHeadersOnce();
  if (options_.verbose) out_ << "\nResponse contents:\n";
  out_ << json << "\n";
  if (options_.print_attachment) out_.write(attachment.data(), attachment.size());
  out_.flush();
  if (!options_.attachment_out.empty()) {
    FRPC_RETURN_IF_ERROR(WriteFile(options_.attachment_out, attachment));
  } else if (!options_.print_attachment && !attachment.empty()) {
    err_ << "(response attachment of " << attachment.size()
         << " bytes not shown; use --print_attachment or --attachment_out)" << std::endl;
  }
  if (!out_) return absl::DataLossError("cannot write the response to stdout");
  return absl::OkStatus();
}

void ResponsePrinter::Finish(int requests_sent) {
  if (!options_.verbose) return;
  PrintHeadersOnce();
  out_ << "\nResponse trailers received:\n";
  if (call_->carries_response_metadata()) {
    PrintMetadata(call_->ResponseTrailers(), out_);
  } else {
    out_ << kNoMetadata << "\n";
  }
  out_ << "Sent " << Plural(requests_sent, "request") << " and received "
       << Plural(replies_, "response") << "\n";
  out_.flush();
}

}  // namespace framerpc::cli
