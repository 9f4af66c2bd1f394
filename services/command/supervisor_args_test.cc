#include "services/command/supervisor_args.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace framerpc::command {
namespace {

// Mutable char* views of `args`, as main receives them.
std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (std::string& s : args) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// A memfd holding `contents`.
int FileWith(const std::string& contents) {
  const int fd = ::memfd_create("supervisor-args-test", MFD_CLOEXEC);
  if (fd >= 0 && ::write(fd, contents.data(), contents.size()) !=
                     static_cast<ssize_t>(contents.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

char kProg[] = "prog";
char kDashes[] = "--";
char kEmpty[] = "";
char kA[] = "A=1";
char kSecret[] = "TOKEN=secret-in-the-environment";

SupervisorPlan CommandPlan(char* const* argv, char* const* envp) {
  SupervisorPlan plan;
  plan.pid_namespace = true;
  plan.status_fd = 3;
  plan.lifeline_fd = -1;
  plan.program_fd = 5;
  plan.working_directory_fd = 6;
  plan.stdin_fd = 7;
  plan.stdout_fd = 8;
  plan.stderr_fd = 9;
  plan.argv = argv;
  plan.envp = envp;
  plan.limit_cpu = true;
  plan.cpu = {10, 11};
  return plan;
}

TEST(SupervisorArgsTest, RoundTrip) {
  char* argv[] = {kProg, kDashes, kEmpty, nullptr};
  char* envp[] = {kA, kSecret, nullptr};
  EncodedSupervisorArgs encoded = EncodeSupervisorArgs(CommandPlan(argv, envp), 12);
  // Neither the arguments nor the environment are on the command line, which anyone may read.
  for (const std::string& arg : encoded.argv) {
    EXPECT_EQ(arg.find("secret"), std::string::npos) << arg;
    EXPECT_NE(arg, "prog");
  }
  std::vector<char*> raw = Argv(encoded.argv);
  SupervisorPlan plan;
  int strings_fd = -1;
  int command_argc = 0;
  ASSERT_TRUE(ParseSupervisorArgs(static_cast<int>(encoded.argv.size()), raw.data(), plan,
                                  strings_fd, command_argc));
  EXPECT_EQ(strings_fd, 12);
  EXPECT_EQ(command_argc, 3);
  EXPECT_TRUE(plan.pid_namespace);
  EXPECT_FALSE(plan.probe_only);
  EXPECT_EQ(plan.status_fd, 3);
  EXPECT_EQ(plan.lifeline_fd, -1);
  EXPECT_EQ(plan.program_fd, 5);
  EXPECT_EQ(plan.working_directory_fd, 6);
  EXPECT_EQ(plan.stdin_fd, 7);
  EXPECT_EQ(plan.stdout_fd, 8);
  EXPECT_EQ(plan.stderr_fd, 9);
  EXPECT_FALSE(plan.limit_address_space);
  ASSERT_TRUE(plan.limit_cpu);
  EXPECT_EQ(plan.cpu.rlim_cur, 10u);
  EXPECT_EQ(plan.cpu.rlim_max, 11u);

  const int fd = FileWith(encoded.strings);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(LoadCommandStrings(fd, command_argc, plan));
  EXPECT_STREQ(plan.argv[0], "prog");
  EXPECT_STREQ(plan.argv[1], "--");
  EXPECT_STREQ(plan.argv[2], "");
  EXPECT_EQ(plan.argv[3], nullptr);
  EXPECT_STREQ(plan.envp[0], "A=1");
  EXPECT_STREQ(plan.envp[1], kSecret);
  EXPECT_EQ(plan.envp[2], nullptr);
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed
  ::free(const_cast<char**>(plan.argv));
}

TEST(SupervisorArgsTest, ProbeAndSubreaperModes) {
  SupervisorPlan probe;
  probe.pid_namespace = probe.probe_only = true;
  probe.status_fd = 4;
  EncodedSupervisorArgs encoded = EncodeSupervisorArgs(probe, -1);
  std::vector<char*> raw = Argv(encoded.argv);
  SupervisorPlan plan;
  int strings_fd = 0;
  int command_argc = -1;
  ASSERT_TRUE(ParseSupervisorArgs(static_cast<int>(encoded.argv.size()), raw.data(), plan,
                                  strings_fd, command_argc));
  EXPECT_TRUE(plan.probe_only);
  EXPECT_TRUE(plan.pid_namespace);
  EXPECT_EQ(strings_fd, -1);
  EXPECT_EQ(command_argc, 0);

  char* argv[] = {kProg, nullptr};
  SupervisorPlan reaper = CommandPlan(argv, nullptr);
  reaper.pid_namespace = false;
  reaper.limit_address_space = true;
  reaper.address_space = {1 << 30, 1 << 30};
  encoded = EncodeSupervisorArgs(reaper, 10);
  raw = Argv(encoded.argv);
  ASSERT_TRUE(ParseSupervisorArgs(static_cast<int>(encoded.argv.size()), raw.data(), plan,
                                  strings_fd, command_argc));
  EXPECT_FALSE(plan.pid_namespace);
  EXPECT_TRUE(plan.limit_address_space);
  EXPECT_EQ(plan.address_space.rlim_max, rlim_t{1} << 30);
  const int fd = FileWith(encoded.strings);
  ASSERT_TRUE(LoadCommandStrings(fd, command_argc, plan));
  EXPECT_STREQ(plan.argv[0], "prog");
  EXPECT_EQ(plan.argv[1], nullptr);
  EXPECT_EQ(plan.envp[0], nullptr);
  ::free(const_cast<char**>(plan.argv));
}

// Every malformed command line is refused; the status descriptor is still read when it can be.
TEST(SupervisorArgsTest, RefusesMalformedCommandLines) {
  char* argv[] = {kProg, nullptr};
  const std::vector<std::string> good = EncodeSupervisorArgs(CommandPlan(argv, nullptr), 10).argv;
  struct Case {
    size_t index;
    std::string value;
  };
  const Case cases[] = {
      {1, "--framerpc-supervisor-v0"},  // another build's supervisor
      {2, "chroot"},                    // mode
      {3, "x"},                         // status descriptor
      {5, "-2"},                        // program descriptor
      {7, ""},                          // stdin
      {10, "12k"},                      // address space limit
      {12, "0"},                        // a command without argv
      {13, "-1"},                       // no file with the arguments
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = good;
    args[c.index] = c.value;
    std::vector<char*> raw = Argv(args);
    SupervisorPlan plan;
    int strings_fd, command_argc;
    EXPECT_FALSE(ParseSupervisorArgs(static_cast<int>(args.size()), raw.data(), plan, strings_fd,
                                     command_argc))
        << c.index << " = '" << c.value << "'";
    EXPECT_EQ(plan.status_fd, c.index == 3 ? -1 : 3) << c.index;
  }
  for (size_t size : {size_t{5}, good.size() + 1}) {
    std::vector<std::string> args = good;
    args.resize(size, "x");
    std::vector<char*> raw = Argv(args);
    SupervisorPlan plan;
    int strings_fd, command_argc;
    EXPECT_FALSE(ParseSupervisorArgs(static_cast<int>(args.size()), raw.data(), plan, strings_fd,
                                     command_argc))
        << size;
    EXPECT_EQ(plan.status_fd, 3);
  }
}

TEST(SupervisorArgsTest, RefusesMalformedStrings) {
  SupervisorPlan plan;
  EXPECT_FALSE(LoadCommandStrings(FileWith(std::string("prog\0", 5)), 2, plan));  // too few
  EXPECT_FALSE(LoadCommandStrings(FileWith("prog"), 1, plan));  // no final NUL
  EXPECT_FALSE(LoadCommandStrings(FileWith(""), 1, plan));      // empty
  EXPECT_FALSE(LoadCommandStrings(-1, 1, plan));
}

}  // namespace
}  // namespace framerpc::command
