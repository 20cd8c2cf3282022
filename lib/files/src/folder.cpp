#include <fitreel/files/folder.hpp>

#include <fitreel/files/unique_fd.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace fitreel::files {

namespace fs = std::filesystem;

namespace {

constexpr int kMostDepth = 64;  // folders below one another that remove_tree walks

std::string reason(int error_number) { return std::strerror(error_number); }

// What a failed resolution beneath a folder means, in words.
std::string failure(const fs::path& path, int error_number) {
  if (error_number == ELOOP || error_number == EXDEV) {
    return path.string() + " is or passes through a symbolic link, which fitreel does not follow";
  }
  return path.string() + ": " + reason(error_number);
}

// Names beneath a folder: relative, without "." or ".." components or empty ones.
void check_relative(std::string_view name, const fs::path& folder) {
  bool bad = name.empty() || name.front() == '/';
  std::size_t start = 0;
  while (!bad && start <= name.size()) {
    const std::size_t slash = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, slash - start);
    bad = part.empty() || part == "." || part == "..";
    start = slash + 1;
  }
  if (bad) {
    throw FileError("'" + std::string(name) + "' is not a plain name inside " + folder.string());
  }
}

EntryType type_of_mode(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::file;
  if (S_ISDIR(mode)) return EntryType::folder;
  if (S_ISLNK(mode)) return EntryType::link;
  return EntryType::other;
}

std::atomic<bool> openat2_missing{false};

// openat2 with no link followed and nothing outside `dir` reachable; -1 with errno ENOSYS where
// the kernel (or a seccomp filter) has no openat2.
int openat2_beneath(int dir, const std::string& name, int flags, mode_t mode) {
  if (openat2_missing.load(std::memory_order_relaxed)) {
    errno = ENOSYS;
    return -1;
  }
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, dir, name.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EAGAIN || errno == EINTR) continue;  // a rename raced the lookup: try again
    if (errno == ENOSYS || errno == EPERM) {
      // EPERM: some container seccomp filters refuse unknown syscalls that way.
      if (errno == ENOSYS || how.resolve != 0) openat2_missing = true;
      errno = ENOSYS;
    }
    return -1;
  }
}

}  // namespace

std::string describe_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

std::string write_failure(const fs::path& path, int error_number) {
  return "cannot write " + path.string() + ": " + reason(error_number);
}

Folder Folder::open(const fs::path& path) {
  const fs::path shown = path.empty() ? fs::path(".") : path;
  const int fd = ::open(shown.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    throw FileError("cannot open the folder " + shown.string() + ": " +
                    (error == ENOTDIR ? std::string("it is not a folder") : reason(error)));
  }
  return Folder(fd, shown);
}

Folder Folder::open_or_create(const fs::path& path) {
  std::error_code error;
  if (!path.empty()) {
    fs::create_directories(path, error);  // the user's own path: links in it are followed
  }
  if (error) {
    throw FileError("cannot create the folder " + path.string() + ": " + error.message());
  }
  return open(path);
}

Folder::Folder(Folder&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

Folder& Folder::operator=(Folder&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

Folder::~Folder() {
  if (fd_ >= 0) ::close(fd_);
}

Folder Folder::duplicate() const {
  const int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    throw FileError("cannot hold " + path_.string() + " open: " + reason(errno));
  }
  return Folder(fd, path_);
}

std::string Folder::descriptor_path(std::string_view name) const {
  static const bool have_proc = ::access("/proc/self/fd", X_OK) == 0;
  if (!have_proc) {
    return path_of(name).string();
  }
  return "/proc/self/fd/" + std::to_string(fd_) + "/" + std::string(name);
}

int Folder::open_beneath(std::string_view name, int flags, mode_t mode) const {
  check_relative(name, path_);
  const std::string text(name);
  flags |= O_CLOEXEC | O_NOFOLLOW;
  const int fd = openat2_beneath(fd_, text, flags, mode);
  if (fd >= 0 || errno != ENOSYS) {
    return fd;
  }
  // No openat2: one component at a time, none of them a link.
  UniqueFd current(::fcntl(fd_, F_DUPFD_CLOEXEC, 0));
  if (!current) return -1;
  std::size_t start = 0;
  for (std::size_t slash; (slash = text.find('/', start)) != std::string::npos; start = slash + 1) {
    const std::string part = text.substr(start, slash - start);
    UniqueFd next(
        ::openat(current.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return -1;
    current = std::move(next);
  }
  return ::openat(current.get(), text.c_str() + start, flags, mode);
}

std::pair<int, std::string> Folder::parent_of(std::string_view name) const {
  check_relative(name, path_);
  const std::size_t slash = name.rfind('/');
  if (slash == std::string_view::npos) {
    return {-1, std::string(name)};
  }
  const int parent = open_beneath(name.substr(0, slash), O_RDONLY | O_DIRECTORY);
  if (parent < 0) {
    throw FileError("cannot open " + failure(path_of(name.substr(0, slash)), errno));
  }
  return {parent, std::string(name.substr(slash + 1))};
}

// The folder an operation on `name` works in: this one, or a subfolder opened beneath it.
class Folder::Parent {
 public:
  Parent(const Folder& folder, std::string_view name) {
    auto [fd, leaf] = folder.parent_of(name);
    owned_.reset(fd);
    fd_ = fd >= 0 ? fd : folder.fd_;
    leaf_ = std::move(leaf);
  }
  int fd() const { return fd_; }
  const char* leaf() const { return leaf_.c_str(); }

 private:
  UniqueFd owned_;
  int fd_ = -1;
  std::string leaf_;
};

std::optional<struct stat> Folder::status(std::string_view name) const {
  const Parent parent(*this, name);
  struct stat info{};
  if (::fstatat(parent.fd(), parent.leaf(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw FileError("cannot look at " + failure(path_of(name), errno));
  }
  return info;
}

EntryType Folder::type_of(std::string_view name) const {
  const std::optional<struct stat> info = status(name);
  return info ? type_of_mode(info->st_mode) : EntryType::none;
}

std::vector<Entry> Folder::entries() const {
  const int fd = ::openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
  if (dir == nullptr) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw FileError("cannot list " + path_.string() + ": " + reason(error));
  }
  std::vector<Entry> found;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    EntryType type = EntryType::other;
    switch (entry->d_type) {
      case DT_REG:
        type = EntryType::file;
        break;
      case DT_DIR:
        type = EntryType::folder;
        break;
      case DT_LNK:
        type = EntryType::link;
        break;
      case DT_UNKNOWN: {
        struct stat info{};
        if (::fstatat(::dirfd(dir), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0) {
          type = type_of_mode(info.st_mode);
        }
        break;
      }
      default:
        break;
    }
    found.push_back({name, type});
  }
  const int error = errno;
  ::closedir(dir);
  if (error != 0) {
    throw FileError("cannot list " + path_.string() + ": " + reason(error));
  }
  std::sort(found.begin(), found.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return found;
}

Folder Folder::open_folder(std::string_view name) const {
  const int fd = open_beneath(name, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOTDIR) {
      throw FileError(path_of(name).string() + " is not a folder");
    }
    throw FileError("cannot open " + failure(path_of(name), error));
  }
  return Folder(fd, path_of(name));
}

Folder Folder::make_folder(std::string_view name, mode_t mode) const {
  {
    const Parent parent(*this, name);
    if (::mkdirat(parent.fd(), parent.leaf(), mode) != 0) {
      throw FileError("cannot create the folder " + failure(path_of(name), errno));
    }
  }
  return open_folder(name);
}

Folder Folder::make_unique_folder(std::string_view prefix, std::string& made, mode_t mode) const {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int attempt = 0; attempt < 100; ++attempt) {
    unsigned char random[12];
    if (::getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
      throw FileError("cannot make a folder in " + path_.string() + ": no random bytes");
    }
    std::string name(prefix);
    for (unsigned char byte : random) name += kAlphabet[byte % (sizeof kAlphabet - 1)];
    const Parent parent(*this, name);
    if (::mkdirat(parent.fd(), parent.leaf(), mode) == 0) {
      made = name;
      return open_folder(name);
    }
    if (errno != EEXIST) {
      throw FileError("cannot create the folder " + failure(path_of(name), errno));
    }
  }
  throw FileError("cannot make a folder in " + path_.string() + ": every name tried exists");
}

int Folder::open_for_reading(std::string_view name) const {
  // Checked before open(): opening a FIFO waits for a writer, opening a device can act.
  const std::optional<struct stat> before = status(name);
  if (!before) {
    throw FileError(path_of(name).string() + " does not exist");
  }
  if (!S_ISREG(before->st_mode)) {
    throw FileError(path_of(name).string() + " is " + describe_type(before->st_mode) +
                    ", not a regular file (fitreel reads only regular files there)");
  }
  UniqueFd fd(open_beneath(name, O_RDONLY | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    throw FileError("cannot read " + failure(path_of(name), errno));
  }
  struct stat info{};
  if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    throw FileError(path_of(name).string() + " is not a regular file");
  }
  return fd.release();
}

std::string Folder::read_file(std::string_view name, std::uint64_t max_bytes) const {
  const UniqueFd fd(open_for_reading(name));
  return read_capped(fd.get(), max_bytes, path_of(name));
}

void Folder::create_file(std::string_view name, std::string_view bytes) const {
  const UniqueFd fd(open_beneath(name, O_WRONLY | O_CREAT | O_EXCL, 0666));
  if (!fd) {
    throw FileError(write_failure(path_of(name), errno));
  }
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd.get(), bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) throw FileError(write_failure(path_of(name), errno));
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void Folder::rename(std::string_view from, std::string_view to) const {
  const Parent source(*this, from);
  const Parent target(*this, to);
  if (::renameat(source.fd(), source.leaf(), target.fd(), target.leaf()) != 0) {
    throw FileError("cannot rename " + path_of(from).string() + " to " +
                    failure(path_of(to), errno));
  }
}

bool Folder::rename_if_absent(std::string_view from, std::string_view to) const {
  const Parent source(*this, from);
  const Parent target(*this, to);
  if (::renameat2(source.fd(), source.leaf(), target.fd(), target.leaf(), RENAME_NOREPLACE) == 0) {
    return true;
  }
  if (errno == EEXIST) return false;
  if (errno == EINVAL || errno == ENOSYS) {  // no RENAME_NOREPLACE here: look, then rename
    if (status(to)) return false;
    rename(from, to);
    return true;
  }
  throw FileError("cannot rename " + path_of(from).string() + " to " + failure(path_of(to), errno));
}

bool Folder::exchange(std::string_view a, std::string_view b) const {
  const Parent first(*this, a);
  const Parent second(*this, b);
  if (::renameat2(first.fd(), first.leaf(), second.fd(), second.leaf(), RENAME_EXCHANGE) == 0) {
    return true;
  }
  if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
    return false;
  }
  throw FileError("cannot swap " + path_of(a).string() + " with " + failure(path_of(b), errno));
}

void Folder::remove_file(std::string_view name) const {
  const Parent parent(*this, name);
  if (::unlinkat(parent.fd(), parent.leaf(), 0) != 0 && errno != ENOENT) {
    throw FileError("cannot remove " + failure(path_of(name), errno));
  }
}

namespace {

// Empties the folder open at `fd` (`shown` for messages), then nothing else.
void remove_contents(int fd, const fs::path& shown, int depth) {
  if (depth > kMostDepth) {
    throw FileError("cannot remove " + shown.string() + ": folders nest deeper than " +
                    std::to_string(kMostDepth));
  }
  const int listing = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = listing >= 0 ? ::fdopendir(listing) : nullptr;
  if (dir == nullptr) {
    const int error = errno;
    if (listing >= 0) ::close(listing);
    throw FileError("cannot remove " + shown.string() + ": " + reason(error));
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  for (const std::string& name : names) {
    struct stat info{};
    if (::fstatat(fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      throw FileError("cannot remove " + (shown / name).string() + ": " + reason(errno));
    }
    if (S_ISDIR(info.st_mode)) {
      const UniqueFd sub(
          ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        throw FileError("cannot remove " + (shown / name).string() + ": " + reason(errno));
      }
      remove_contents(sub.get(), shown / name, depth + 1);
    }
    if (::unlinkat(fd, name.c_str(), S_ISDIR(info.st_mode) ? AT_REMOVEDIR : 0) != 0 &&
        errno != ENOENT) {
      throw FileError("cannot remove " + (shown / name).string() + ": " + reason(errno));
    }
  }
}

}  // namespace

void Folder::remove_tree(std::string_view name) const {
  const Parent parent(*this, name);
  struct stat info{};
  if (::fstatat(parent.fd(), parent.leaf(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    throw FileError("cannot remove " + failure(path_of(name), errno));
  }
  if (S_ISDIR(info.st_mode)) {
    const UniqueFd sub(
        ::openat(parent.fd(), parent.leaf(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) {
      throw FileError("cannot remove " + failure(path_of(name), errno));
    }
    remove_contents(sub.get(), path_of(name), 0);
  }
  if (::unlinkat(parent.fd(), parent.leaf(), S_ISDIR(info.st_mode) ? AT_REMOVEDIR : 0) != 0 &&
      errno != ENOENT) {
    throw FileError("cannot remove " + failure(path_of(name), errno));
  }
}

void Folder::sync() const {
  // "This file system cannot sync" (EINVAL on some pseudo file systems) counts as done.
  if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
    throw FileError(write_failure(path_, errno));
  }
}

Folder::Lock Folder::try_lock() const {
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
    return Lock::taken;
  }
  return errno == EWOULDBLOCK ? Lock::busy : Lock::unsupported;
}

std::string read_capped(int fd, std::uint64_t max_bytes, const fs::path& shown) {
  std::string bytes;
  std::size_t filled = 0;
  for (;;) {
    if (filled == bytes.size()) {
      if (filled > max_bytes) {
        throw FileError(shown.string() + " holds more than " + std::to_string(max_bytes) +
                        " bytes, the most fitreel reads there");
      }
      const std::uint64_t grown = std::max<std::uint64_t>(4096, 2 * std::uint64_t{filled});
      bytes.resize(static_cast<std::size_t>(std::min<std::uint64_t>(grown, max_bytes + 1)));
    }
    const ssize_t got = ::read(fd, bytes.data() + filled, bytes.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      throw FileError("cannot read " + shown.string() + ": " + reason(errno));
    }
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  bytes.resize(filled);
  return bytes;
}

}  // namespace fitreel::files
