#include <fitreel/files/atomic_file.hpp>

#include <fitreel/files/unique_fd.hpp>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace fitreel::files {

namespace fs = std::filesystem;

namespace {

fs::path folder_of(const fs::path& path) {
  return path.parent_path().empty() ? fs::path(".") : path.parent_path();
}

// fsync that treats "this file system cannot sync" (EINVAL on some pseudo file systems) as done.
bool synced(int fd) { return ::fsync(fd) == 0 || errno == EINVAL || errno == EROFS; }

// The folder a write to `path` goes into, opened as the caller named it.
Folder open_folder_of(const fs::path& path) {
  const int fd = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw WriteError(write_failure(path, errno));
  }
  return Folder::adopt(fd, folder_of(path));
}

// ".<name>.tmp-XXXXXX", shortened where a long name would pass NAME_MAX (255 bytes).
std::string temporary_name(const std::string& name) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char random[6];
  if (::getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
    throw WriteError("cannot write " + name + ": no random bytes for a temporary name");
  }
  std::string suffix = ".tmp-";
  for (unsigned char byte : random) suffix += kAlphabet[byte % (sizeof kAlphabet - 1)];
  const std::size_t room = NAME_MAX - 1 - suffix.size();
  return "." + name.substr(0, room) + suffix;
}

}  // namespace

AtomicFile::AtomicFile(fs::path final_path)
    : folder_(open_folder_of(final_path)),
      name_(final_path.filename().string()),
      final_(std::move(final_path)) {
  if (name_.empty() || name_ == "." || name_ == "..") {
    throw WriteError("cannot write " + final_.string() + ": it names a folder, not a file");
  }
  create();
}

AtomicFile::AtomicFile(const Folder& folder, std::string_view name)
    : folder_(folder.duplicate()), name_(name), final_(folder.path_of(name)) {
  const std::size_t slash = name_.rfind('/');
  if (slash != std::string::npos) {
    try {
      folder_ = folder.open_folder(name.substr(0, slash));
    } catch (const FileError& error) {
      throw WriteError(std::string("cannot write ") + final_.string() + ": " + error.what());
    }
    name_ = name_.substr(slash + 1);
  }
  create();
}

void AtomicFile::create() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_name_ = temporary_name(name_);
    // 0666: what the umask leaves of it, as for any new file.
    fd_ = ::openat(folder_.fd(), temp_name_.c_str(),
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd_ >= 0) {
      temporary_ = folder_.descriptor_path(temp_name_);
      return;
    }
    if (errno != EEXIST) break;
  }
  throw WriteError(write_failure(final_, errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  if (!committed_ && !temp_name_.empty()) {
    ::unlinkat(folder_.fd(), temp_name_.c_str(), 0);
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
  // A replaced file keeps its mode (a private model stays private).
  struct stat replaced{};
  if (::fstatat(folder_.fd(), name_.c_str(), &replaced, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISREG(replaced.st_mode)) {
    ::fchmod(fd_, replaced.st_mode & 07777);
  }
  // Writers that wrote by name (through their own descriptor) are synced through this one:
  // fsync flushes the file's data whichever descriptor wrote it.
  const int fd = fd_;
  fd_ = -1;
  const bool ok = synced(fd);
  const int sync_error = errno;
  if (::close(fd) != 0 || !ok) {
    throw WriteError(write_failure(final_, ok ? errno : sync_error));
  }
  if (::renameat(folder_.fd(), temp_name_.c_str(), folder_.fd(), name_.c_str()) != 0) {
    throw WriteError(write_failure(final_, errno));
  }
  committed_ = true;
  if (!synced(folder_.fd())) {
    throw WriteError(write_failure(folder_.path(), errno));
  }
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.append(bytes);
  file.commit();
}

void write_file_atomically(const Folder& folder, std::string_view name, std::string_view bytes) {
  AtomicFile file(folder, name);
  file.append(bytes);
  file.commit();
}

namespace {

// Proves that `name` can be written in the held folder `folder` (`shown` for messages): the
// name fits, and a file can be made there (an unnamed O_TMPFILE where the file system has them,
// so nothing ever shows up under a name; else the writer's own temporary, made and removed).
void probe(const Folder& folder, const std::string& name, const fs::path& shown) {
  if (name.empty() || name.size() > NAME_MAX) {
    throw WriteError(write_failure(shown, ENAMETOOLONG));
  }
  const UniqueFd unnamed(::openat(folder.fd(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
  if (unnamed) {
    return;
  }
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    throw WriteError(write_failure(shown, errno));
  }
  const AtomicFile made(folder, name);  // made, then removed by its destructor
}

}  // namespace

void check_writable(const fs::path& path) {
  probe(open_folder_of(path), path.filename().string(), path);
}

void check_writable(const Folder& folder, std::string_view name) {
  const std::size_t slash = name.rfind('/');
  if (slash == std::string_view::npos) {
    probe(folder, std::string(name), folder.path_of(name));
    return;
  }
  try {
    probe(folder.open_folder(name.substr(0, slash)), std::string(name.substr(slash + 1)),
          folder.path_of(name));
  } catch (const FileError& error) {
    throw WriteError(std::string("cannot write ") + folder.path_of(name).string() + ": " +
                     error.what());
  }
}

void sync_folder(const fs::path& folder) {
  const UniqueFd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    throw WriteError(write_failure(folder, errno));
  }
  if (!synced(fd.get())) {
    throw WriteError(write_failure(folder, errno));
  }
}

}  // namespace fitreel::files
