// Reading a checkpoint file and verifying it with libzip (CRCs, consistent headers, caps), and
// writing one as PyTorch does.
#include "checkpoint_file.hpp"

#include <fitreel/checkpoint.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

namespace fitreel::detail {

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw CheckpointError(path + " cannot be read as a checkpoint: " + why);
}

std::string file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

// Entry names come from the file: keep the message one printable line.
std::string printable(const char* name) {
  std::string text = name == nullptr ? "?" : name;
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text;
}

std::string describe(const zip_error_t* error, const std::string& entry) {
  const std::string in_entry = entry.empty() ? "" : " in entry " + entry;
  switch (zip_error_code_zip(error)) {
    case ZIP_ER_CRC:
      return "CRC error" + in_entry + " (the file is damaged)";
    case ZIP_ER_INCONS:
      return "damaged ZIP archive (its headers disagree" + in_entry + ")";
    case ZIP_ER_MULTIDISK:  // what libzip makes of damaged disk numbers or entry counts
      return "damaged ZIP archive (its end record is inconsistent)";
#ifdef ZIP_ER_TRUNCATED_ZIP  // libzip 1.10 on: where earlier ones said INCONS or EOF
    case ZIP_ER_TRUNCATED_ZIP:
      return "damaged ZIP archive (truncated, or its end records corrupted)";
#endif
    case ZIP_ER_EOF:
    case ZIP_ER_READ:
      return "truncated" + in_entry;
    case ZIP_ER_ZLIB:
    case ZIP_ER_COMPRESSED_DATA:
      return "damaged compressed data" + in_entry;
    case ZIP_ER_MEMORY:
      return "too large to read into memory";
    default:
      return printable(zip_error_strerror(const_cast<zip_error_t*>(error))) + in_entry;
  }
}

std::string read_regular_file(const std::string& path) {
  struct stat info{};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      throw CheckpointError("no checkpoint file at " + path);
    }
    throw CheckpointError("cannot read " + path + ": " + std::strerror(errno));
  }
  // Checked before open(): opening a FIFO for reading would wait for a writer.
  if (!S_ISREG(info.st_mode)) {
    throw CheckpointError(path + " is " + file_kind(info.st_mode) + ", not a checkpoint file");
  }
  // O_NONBLOCK: should the name be swapped for a FIFO meanwhile, open() still returns at once.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw CheckpointError("cannot read " + path + ": " + std::strerror(errno));
  }
  const std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* owned) {
    ::close(*owned);
    delete owned;
  });
  if (::fstat(fd, &info) != 0) {
    throw CheckpointError("cannot read " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    throw CheckpointError(path + " is " + file_kind(info.st_mode) + ", not a checkpoint file");
  }
  if (static_cast<std::uint64_t>(info.st_size) > kMaxCheckpointBytes) {
    refuse(path, "too large (" + std::to_string(info.st_size) + " bytes; the cap is " +
                     std::to_string(kMaxCheckpointBytes >> 20) + " MiB)");
  }
  std::string bytes(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + filled, bytes.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      throw CheckpointError("cannot read " + path + ": " + std::strerror(errno));
    }
    if (got == 0) break;  // shrank while being read
    filled += static_cast<std::size_t>(got);
  }
  bytes.resize(filled);
  if (bytes.empty()) {
    refuse(path, "the file is empty");
  }
  return bytes;
}

using Archive = std::unique_ptr<zip_t, decltype(&zip_discard)>;

Archive open_archive(const std::string& path, const std::string& bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    const std::string why = describe(&error, "");
    zip_error_fini(&error);
    refuse(path, why);
  }
  zip_t* archive = zip_open_from_source(source, ZIP_CHECKCONS | ZIP_RDONLY, &error);
  if (archive == nullptr) {
    zip_source_free(source);
    std::string why = describe(&error, "");
    if (zip_error_code_zip(&error) == ZIP_ER_NOZIP) {
      // A ZIP's first bytes without its end record: cut short (or damaged at the end).
      why = bytes.rfind("PK\x03\x04", 0) == 0 ? "truncated (no end-of-archive record)"
                                              : "not a ZIP archive (checkpoints are)";
    }
    zip_error_fini(&error);
    refuse(path, why);
  }
  zip_error_fini(&error);
  return Archive(archive, &zip_discard);
}

// Reads entry `index` to its end: libzip compares the CRC and the size only there.
std::string read_entry(const std::string& path, zip_t* archive, zip_uint64_t index,
                       const std::string& name, zip_uint64_t expected_size) {
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(expected_size));
  zip_file_t* file = zip_fopen_index(archive, index, 0);
  if (file == nullptr) {
    refuse(path, describe(zip_get_error(archive), name));
  }
  std::array<char, 1 << 16> buffer{};
  zip_uint64_t total = 0;
  for (;;) {
    const zip_int64_t got = zip_fread(file, buffer.data(), buffer.size());
    if (got < 0) {
      const std::string why = describe(zip_file_get_error(file), name);
      zip_fclose(file);
      refuse(path, why);
    }
    if (got == 0) break;
    total += static_cast<zip_uint64_t>(got);
    if (total > expected_size) {
      zip_fclose(file);
      refuse(path, "damaged ZIP archive (entry " + name + " is longer than its header says)");
    }
    bytes.append(buffer.data(), static_cast<std::size_t>(got));
  }
  const int closed = zip_fclose(file);
  if (closed != 0) {
    zip_error_t error;
    zip_error_init_with_code(&error, closed);
    const std::string why = describe(&error, name);
    zip_error_fini(&error);
    refuse(path, why);
  }
  if (total != expected_size) {
    refuse(path, "truncated in entry " + name);
  }
  return bytes;
}

}  // namespace

VerifiedArchive VerifiedArchive::read(const std::string& path) {
  const std::string bytes = read_regular_file(path);
  const Archive archive = open_archive(path, bytes);
  VerifiedArchive verified;
  const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
  if (entries <= 0) {
    refuse(path, "an empty ZIP archive");
  }
  if (static_cast<std::uint64_t>(entries) > kMaxCheckpointEntries) {
    refuse(path, "too large (" + std::to_string(entries) + " entries; the cap is " +
                     std::to_string(kMaxCheckpointEntries) + ")");
  }
  // PyTorch's archives keep every record in one top folder with a "version" record.
  const char* first = zip_get_name(archive.get(), 0, 0);
  const std::string first_name = first != nullptr ? first : "";
  const std::string folder = first_name.substr(0, first_name.find('/') + 1);
  if (folder.empty()) {
    refuse(path,
           "not a PyTorch archive (" + printable(first_name.c_str()) + " is not in a folder)");
  }
  if (zip_name_locate(archive.get(), (folder + "version").c_str(), 0) < 0) {
    refuse(path, "not a PyTorch archive (no " + printable((folder + "version").c_str()) + ")");
  }
  std::uint64_t total = 0;
  for (zip_uint64_t index = 0; index < static_cast<zip_uint64_t>(entries); ++index) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(archive.get(), index, 0, &stat) != 0) {
      refuse(path, describe(zip_get_error(archive.get()), ""));
    }
    const std::string name = printable(stat.name);
    if (std::string(stat.name).rfind(folder, 0) != 0) {
      refuse(path, "not a PyTorch archive (" + name + " lies outside " + folder + ")");
    }
    if ((stat.valid & ZIP_STAT_SIZE) == 0) {
      refuse(path, "damaged ZIP archive (entry " + name + " has no size)");
    }
    total += stat.size;
    if (stat.size > kMaxCheckpointUncompressedBytes || total > kMaxCheckpointUncompressedBytes) {
      refuse(path, "too large (entry " + name + " unpacks past the cap of " +
                       std::to_string(kMaxCheckpointUncompressedBytes >> 20) + " MiB)");
    }
    std::string entry = read_entry(path, archive.get(), index, name, stat.size);
    const std::string inside = std::string(stat.name).substr(folder.size());
    if (!verified.entries_.emplace(inside, std::move(entry)).second) {
      refuse(path, "damaged ZIP archive (entry " + name + " appears twice)");
    }
  }
  verified.folder_ = folder;
  return verified;
}

const std::string* VerifiedArchive::entry(const std::string& name) const {
  const auto found = entries_.find(name);
  return found == entries_.end() ? nullptr : &found->second;
}

namespace {

constexpr std::size_t kAlignment = 64;  // PyTorch aligns each entry's data to 64 bytes

void put16(std::string& out, std::uint32_t value) {
  out += static_cast<char>(value & 0xff);
  out += static_cast<char>(value >> 8 & 0xff);
}
void put32(std::string& out, std::uint32_t value) {
  put16(out, value & 0xffff);
  put16(out, value >> 16);
}

}  // namespace

void ZipWriter::add(const std::string& name, const std::string& bytes) {
  const std::string full = folder_ + "/" + name;
  if (out_.size() + bytes.size() + full.size() + 2 * kAlignment > 0xffffffffu) {
    throw CheckpointError("a checkpoint of more than 4 GiB is not supported");
  }
  Written entry;
  entry.name = full;
  entry.crc = static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
  entry.size = static_cast<std::uint32_t>(bytes.size());
  entry.offset = static_cast<std::uint32_t>(out_.size());
  // Local header: 30 bytes, the name, then an extra field of padding ("FB", as PyTorch's writer
  // names it) up to the next 64-byte boundary.
  const std::size_t header = 30 + full.size() + 4;
  const std::size_t padding = (kAlignment - (out_.size() + header) % kAlignment) % kAlignment;
  put32(out_, 0x04034b50);
  put16(out_, 20);    // version needed: 2.0
  put16(out_, 0);     // flags
  put16(out_, 0);     // stored
  put16(out_, 0);     // time
  put16(out_, 0x21);  // date: 1980-01-01
  put32(out_, entry.crc);
  put32(out_, entry.size);
  put32(out_, entry.size);
  put16(out_, static_cast<std::uint32_t>(full.size()));
  put16(out_, static_cast<std::uint32_t>(4 + padding));
  out_ += full;
  put16(out_, 0x4246);  // "FB"
  put16(out_, static_cast<std::uint32_t>(padding));
  out_.append(padding, 'Z');
  out_ += bytes;
  written_.push_back(std::move(entry));
}

std::string ZipWriter::finish() {
  const std::size_t directory = out_.size();
  for (const Written& entry : written_) {
    put32(out_, 0x02014b50);
    put16(out_, 20);  // made by
    put16(out_, 20);  // needed
    put16(out_, 0);
    put16(out_, 0);
    put16(out_, 0);
    put16(out_, 0x21);
    put32(out_, entry.crc);
    put32(out_, entry.size);
    put32(out_, entry.size);
    put16(out_, static_cast<std::uint32_t>(entry.name.size()));
    put16(out_, 0);  // extra
    put16(out_, 0);  // comment
    put16(out_, 0);  // disk
    put16(out_, 0);  // internal attributes
    put32(out_, 0);  // external attributes
    put32(out_, entry.offset);
    out_ += entry.name;
  }
  const std::size_t directory_size = out_.size() - directory;
  // The Zip64 end record and its locator, which PyTorch's writer always adds.
  const std::size_t zip64_end = out_.size();
  const auto put64 = [&](std::uint64_t value) {
    put32(out_, static_cast<std::uint32_t>(value & 0xffffffffu));
    put32(out_, static_cast<std::uint32_t>(value >> 32));
  };
  put32(out_, 0x06064b50);
  put64(44);  // the size of the rest of this record
  put16(out_, 45);
  put16(out_, 45);
  put32(out_, 0);
  put32(out_, 0);
  put64(written_.size());
  put64(written_.size());
  put64(directory_size);
  put64(directory);
  put32(out_, 0x07064b50);
  put32(out_, 0);
  put64(zip64_end);
  put32(out_, 1);
  put32(out_, 0x06054b50);
  put16(out_, 0);
  put16(out_, 0);
  put16(out_, static_cast<std::uint32_t>(written_.size()));
  put16(out_, static_cast<std::uint32_t>(written_.size()));
  put32(out_, static_cast<std::uint32_t>(directory_size));
  put32(out_, static_cast<std::uint32_t>(directory));
  put16(out_, 0);
  return std::move(out_);
}

}  // namespace fitreel::detail
