#include <fitreel/files/atomic_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace fitreel::files {

namespace fs = std::filesystem;

namespace {

fs::path folder_of(const fs::path& path) {
  return path.parent_path().empty() ? fs::path(".") : path.parent_path();
}

// fsync that treats "this file system cannot sync" (EINVAL on some pseudo file systems) as done.
bool synced(int fd) { return ::fsync(fd) == 0 || errno == EINVAL || errno == EROFS; }

}  // namespace

std::string write_failure(const fs::path& path, int error_number) {
  return "cannot write " + path.string() + ": " + std::strerror(error_number);
}

AtomicFile::AtomicFile(fs::path final_path) : final_(std::move(final_path)) {
  // ".<name>.tmp-XXXXXX" in the same folder: a rename within one file system is atomic.
  std::string pattern = (folder_of(final_) / ("." + final_.filename().string() + ".tmp-XXXXXX"));
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd_ < 0) {
    throw WriteError(write_failure(final_, errno));
  }
  ::fchmod(fd_, 0644);  // mkstemp makes 0600; results are meant to be shared like any file
  temporary_ = fs::path(name.data());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  if (!committed_) {
    ::unlink(temporary_.c_str());
  }
}

void AtomicFile::append(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw WriteError(write_failure(final_, errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void AtomicFile::commit() {
  // Writers that wrote by name (through their own descriptor) are synced through a fresh one:
  // fsync flushes the file's data whichever descriptor wrote it.
  const int fd = fd_;
  fd_ = -1;
  const bool ok = synced(fd);
  const int sync_error = errno;
  if (::close(fd) != 0 || !ok) {
    throw WriteError(write_failure(final_, ok ? errno : sync_error));
  }
  if (::rename(temporary_.c_str(), final_.c_str()) != 0) {
    throw WriteError(write_failure(final_, errno));
  }
  committed_ = true;
  sync_folder(folder_of(final_));
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.append(bytes);
  file.commit();
}

void sync_folder(const fs::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw WriteError(write_failure(folder, errno));
  }
  const bool ok = synced(fd);
  const int error_number = errno;
  ::close(fd);
  if (!ok) {
    throw WriteError(write_failure(folder, error_number));
  }
}

}  // namespace fitreel::files
