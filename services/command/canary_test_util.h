// Canary files for the attack tests: a directory outside everything a command may use, filled
// with files whose names, contents and inodes are recorded, so that a test can check after an
// attack that nothing there was created, changed or deleted.
#ifndef FRAMERPC_SERVICES_COMMAND_CANARY_TEST_UTIL_H_
#define FRAMERPC_SERVICES_COMMAND_CANARY_TEST_UTIL_H_

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace framerpc::command::test {

class Canary {
 public:
  // Creates a fresh directory under the test's temporary directory with a few files.
  Canary() {
    std::string pattern = absl::StrCat(::testing::TempDir(), "/canaryXXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = pattern;
    for (const char* name : {"passwd", "secret.key", "notes.txt"}) {
      std::ofstream(absl::StrCat(dir_, "/", name)) << "canary " << name << "\n";
    }
    ::mkdir(absl::StrCat(dir_, "/sub").c_str(), 0755);
    std::ofstream(absl::StrCat(dir_, "/sub/file")) << "canary sub\n";
    before_ = Snapshot();
  }

  const std::string& dir() const { return dir_; }
  // A path inside the canary directory that no command may create.
  std::string Marker(const std::string& name = "PWNED") const {
    return absl::StrCat(dir_, "/", name);
  }

  // Empty if nothing changed; otherwise what did.
  std::string Changes() const {
    const std::map<std::string, Entry> after = Snapshot();
    std::vector<std::string> changes;
    for (const auto& [name, entry] : before_) {
      auto it = after.find(name);
      if (it == after.end()) {
        changes.push_back("deleted " + name);
      } else if (!(it->second == entry)) {
        changes.push_back("changed " + name);
      }
    }
    for (const auto& [name, entry] : after) {
      if (before_.count(name) == 0) changes.push_back("created " + name);
    }
    return absl::StrJoin(changes, ", ");
  }

 private:
  struct Entry {
    ino_t inode;
    mode_t mode;
    std::string contents;
    bool operator==(const Entry& o) const {
      return std::tie(inode, mode, contents) == std::tie(o.inode, o.mode, o.contents);
    }
  };

  std::map<std::string, Entry> Snapshot() const {
    std::map<std::string, Entry> entries;
    Walk(dir_, "", entries);
    return entries;
  }

  static void Walk(const std::string& path, const std::string& rel,
                   std::map<std::string, Entry>& out) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return;
    while (const dirent* e = ::readdir(dir)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string full = absl::StrCat(path, "/", name);
      const std::string key = rel.empty() ? name : absl::StrCat(rel, "/", name);
      struct stat st;
      if (::lstat(full.c_str(), &st) != 0) continue;
      Entry entry{st.st_ino, st.st_mode, ""};
      if (S_ISREG(st.st_mode)) {
        std::ifstream in(full);
        std::stringstream contents;
        contents << in.rdbuf();
        entry.contents = contents.str();
      }
      out[key] = entry;
      if (S_ISDIR(st.st_mode)) Walk(full, key, out);
    }
    ::closedir(dir);
  }

  std::string dir_;
  std::map<std::string, Entry> before_;
};

}  // namespace framerpc::command::test

#endif  // FRAMERPC_SERVICES_COMMAND_CANARY_TEST_UTIL_H_
