// The fixture of the CLI tests against a real server: the Counter service (counter.proto), health
// and reflection on a framerpc Server on 127.0.0.1, and RunCli with captured output. Test only.
#ifndef FRAMERPC_CLI_TESTDATA_COUNTER_CLI_FIXTURE_H_
#define FRAMERPC_CLI_TESTDATA_COUNTER_CLI_FIXTURE_H_

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/known_services.h"
#include "cli/testdata/counter_service.h"
#include "gtest/gtest.h"
#include "rpc/server.h"
#include "services/health/health_service.h"
#include "services/reflection/reflection_service.h"

namespace framerpc::cli {

class CounterCliFixture : public ::testing::Test {
 protected:
  // Makes server_ with the Counter service, health and, unless `with_reflection` is false,
  // reflection, listening on 127.0.0.1:0; not started yet (see StartServer).
  void AddServices(bool with_reflection) {
    ServerOptions options;
    options.io_threads = 1;
    options.worker_threads = 2;
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddService(&counter_, {.run_inline = false}).ok());
    ASSERT_TRUE(server_->AddService(&health_, {.run_inline = false}).ok());
    reflection_ = std::make_unique<ReflectionService>(server_->dispatcher());
    if (with_reflection) {
      ASSERT_TRUE(server_->AddService(reflection_.get(), {.run_inline = false}).ok());
    }
    ASSERT_TRUE(server_->AddListener("127.0.0.1:0").ok());
  }

  // Starts server_, every service SERVING; options_ gets compact JSON.
  void StartServer() {
    ASSERT_TRUE(server_->Start().ok());
    health_.SetServingForAll(*server_->dispatcher());
    options_.json.pretty = false;
  }

  // Runs the CLI with `args` and `stdin_text`; its output lands in out_ and err_.
  int Run(std::vector<std::string> args, const std::string& stdin_text = "") {
    std::istringstream in(stdin_text);
    std::ostringstream out;
    std::ostringstream err;
    const int code = RunCli(options_, registry_, args, in, out, err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  CounterImpl counter_;
  HealthService health_;
  std::unique_ptr<ReflectionService> reflection_;
  std::unique_ptr<Server> server_;
  const MethodRegistry registry_{KnownServiceFiles()};
  CliOptions options_;
  std::string out_;
  std::string err_;
};

}  // namespace framerpc::cli

#endif  // FRAMERPC_CLI_TESTDATA_COUNTER_CLI_FIXTURE_H_
