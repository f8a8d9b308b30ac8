#include "io/zip.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include <fmt/format.h>
#include <zlib.h>

#include "io/error.h"
#include "io/limits.h"

namespace logq {

namespace {
constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEocdSig = 0x06054b50,
                   kZip64EocdSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;

struct Cursor {
  const uint8_t* base;
  size_t size;
  const std::string& file;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: invalid zip: {}", file, what));
  }
  void need(uint64_t pos, uint64_t n, const char* what) const {
    if (pos > size || n > size - pos)
      fail(fmt::format("{} at byte {} runs past the end of the {}-byte file (truncated?)", what, pos, size));
  }
  template <typename T>
  T get(uint64_t pos) const {
    need(pos, sizeof(T), "field");
    T v;
    std::memcpy(&v, base + pos, sizeof v);
    return v;
  }
};

// ZIP64 extended information: each field present only where the 32-bit one is saturated.
void apply_zip64_extra(const Cursor& c, uint64_t extra, uint16_t extra_len, ZipArchive::Entry& e,
                       uint64_t& local_offset) {
  uint64_t p = extra, end = extra + extra_len;
  while (p + 4 <= end) {
    const uint16_t id = c.get<uint16_t>(p), len = c.get<uint16_t>(p + 2);
    uint64_t q = p + 4;
    if (q + len > end) c.fail(fmt::format("extra field of '{}' overruns its header", e.name));
    if (id == 0x0001) {
      auto take = [&](uint64_t& field) {
        if (field != 0xFFFFFFFFu) return;
        if (q + 8 > p + 4 + len) c.fail(fmt::format("ZIP64 extra field of '{}' is too short", e.name));
        field = c.get<uint64_t>(q);
        q += 8;
      };
      take(e.size);
      take(e.compressed_size);
      take(local_offset);
    }
    p += 4 + uint64_t{len};
  }
}
}  // namespace

bool ZipArchive::looks_like_zip(const uint8_t* data, size_t size) {
  return size >= 4 && data[0] == 'P' && data[1] == 'K' && data[2] == 3 && data[3] == 4;
}

ZipArchive ZipArchive::parse(std::shared_ptr<const Bytes> bytes, std::string name) {
  ZipArchive z;
  z.path_ = std::move(name);
  z.bytes_ = std::move(bytes);
  const Cursor c{z.bytes_->data(), z.bytes_->size(), z.path_};
  if (c.size < 22) c.fail("file is too small to hold an end-of-central-directory record");

  // The end record sits in the last 22 + up to 65535 comment bytes.
  uint64_t eocd = UINT64_MAX;
  const uint64_t lowest = c.size > 22 + 65535 ? c.size - 22 - 65535 : 0;
  for (uint64_t p = c.size - 22 + 1; p-- > lowest;)
    if (c.get<uint32_t>(p) == kEocdSig) { eocd = p; break; }
  if (eocd == UINT64_MAX) c.fail("no end-of-central-directory record (truncated or not a zip)");
  if (c.get<uint16_t>(eocd + 4) != 0 || c.get<uint16_t>(eocd + 6) != 0) c.fail("multi-disk archives are not supported");
  uint64_t count = c.get<uint16_t>(eocd + 10);
  uint64_t cd_size = c.get<uint32_t>(eocd + 12);
  uint64_t cd_offset = c.get<uint32_t>(eocd + 16);
  if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu) {
    if (eocd < 20 || c.get<uint32_t>(eocd - 20) != kZip64LocatorSig) c.fail("ZIP64 locator missing");
    const uint64_t z64 = c.get<uint64_t>(eocd - 20 + 8);
    if (c.get<uint32_t>(z64) != kZip64EocdSig) c.fail("ZIP64 end record missing");
    count = c.get<uint64_t>(z64 + 32);
    cd_size = c.get<uint64_t>(z64 + 40);
    cd_offset = c.get<uint64_t>(z64 + 48);
  }
  c.need(cd_offset, cd_size, "central directory");
  if (count > cd_size / 46) c.fail(fmt::format("{} entries cannot fit a {}-byte central directory", count, cd_size));

  struct Span {
    uint64_t begin, end, index;  // index == entries: the central directory
    std::string what(const std::vector<Entry>& es) const {
      return index < es.size() ? fmt::format("entry '{}'", printable(es[index].name)) : std::string("the central directory");
    }
  };
  std::vector<Span> spans;
  uint64_t p = cd_offset;
  for (uint64_t i = 0; i < count; ++i) {
    if (c.get<uint32_t>(p) != kCentralSig) c.fail(fmt::format("central directory entry {} has a bad signature", i));
    Entry e;
    const uint16_t flags = c.get<uint16_t>(p + 8);
    e.method = c.get<uint16_t>(p + 10);
    e.crc32 = c.get<uint32_t>(p + 16);
    e.compressed_size = c.get<uint32_t>(p + 20);
    e.size = c.get<uint32_t>(p + 24);
    const uint16_t name_len = c.get<uint16_t>(p + 28), extra_len = c.get<uint16_t>(p + 30),
                   comment_len = c.get<uint16_t>(p + 32);
    uint64_t local = c.get<uint32_t>(p + 42);
    c.need(p + 46, uint64_t{name_len} + extra_len + comment_len, "central directory entry");
    e.name.assign(reinterpret_cast<const char*>(c.base + p + 46), name_len);
    apply_zip64_extra(c, p + 46 + name_len, extra_len, e, local);
    if (flags & 1) c.fail(fmt::format("entry '{}' is encrypted", e.name));
    if (e.method != 0 && e.method != 8) c.fail(fmt::format("entry '{}' uses compression method {} (only stored/deflate)", e.name, e.method));
    if (e.method == 0 && e.compressed_size != e.size) c.fail(fmt::format("stored entry '{}' has differing sizes", e.name));
    // deflate cannot exceed ~1032:1, and real weights compress far less: a larger claim is a
    // bomb (or a corrupt size field) and is refused before anything is inflated.
    if (e.method == 8 && e.size / 1100 > e.compressed_size) c.fail(fmt::format("entry '{}' claims an impossible inflated size {}", printable(e.name), e.size));
    const InputLimits& lim = input_limits();
    if (e.method == 8 && e.size > lim.inflate_slack_bytes && (e.size - lim.inflate_slack_bytes) / lim.inflate_ratio > e.compressed_size)
      c.fail(fmt::format("entry '{}' inflates {} bytes to {} ({}x; the cap is {}x) {}", printable(e.name), e.compressed_size, e.size,
                         e.compressed_size ? e.size / e.compressed_size : e.size, lim.inflate_ratio, kNoLimitsHint));
    if (c.get<uint32_t>(local) != kLocalSig) c.fail(fmt::format("local header of '{}' is missing", e.name));
    const uint64_t local_name = c.get<uint16_t>(local + 26), local_extra = c.get<uint16_t>(local + 28);
    // The local header repeats the entry's name and method (as Python's zipfile checks); its
    // CRC and sizes too unless a data descriptor follows the data (flag bit 3).
    c.need(local + 30, local_name, "local header name");
    if (local_name != name_len || std::memcmp(c.base + local + 30, c.base + p + 46, name_len) != 0)
      c.fail(fmt::format("entry '{}': the names in the central directory and the local header differ", printable(e.name)));
    if (c.get<uint16_t>(local + 8) != e.method) c.fail(fmt::format("entry '{}': the local header's compression method differs", printable(e.name)));
    if (!(c.get<uint16_t>(local + 6) & 8) && c.get<uint32_t>(local + 14) != e.crc32)
      c.fail(fmt::format("entry '{}': the local header's CRC-32 differs from the central directory's", printable(e.name)));
    e.data_offset = local + 30 + local_name + local_extra;
    c.need(e.data_offset, e.compressed_size, fmt::format("data of '{}'", e.name).c_str());
    z.entries_.push_back(std::move(e));
    spans.push_back({local, z.entries_.back().data_offset + z.entries_.back().compressed_size, i});
    p += 46 + uint64_t{name_len} + extra_len + comment_len;
  }
  // Python's zipfile reads the last of two equal names, miniz (torch.load) the first: refuse.
  std::unordered_set<std::string> names;
  for (const auto& e : z.entries_)
    if (!names.insert(e.name).second) c.fail(fmt::format("entry name '{}' appears twice", printable(e.name)));
  // Each entry's bytes (local header through data) are its own: entries that share bytes
  // (16 names over one 1 GiB stream) are a bomb, not an archive; nor may data run into the
  // central directory.
  spans.push_back({cd_offset, cd_offset + cd_size, count});
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t k = 1; k < spans.size(); ++k)
    if (spans[k].begin < spans[k - 1].end)
      c.fail(fmt::format("{} overlaps {}", spans[k].what(z.entries_), spans[k - 1].what(z.entries_)));
  return z;
}

const ZipArchive::Entry* ZipArchive::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

void ZipArchive::read(const Entry& e, std::vector<uint8_t>& out) const {
  out.resize(static_cast<size_t>(e.size));
  read_into(e, out.data());
}

void ZipArchive::read_into(const Entry& e, uint8_t* dst) const {
  const uint8_t* src = bytes_->data() + e.data_offset;
  if (e.method == 0) {
    if (e.size) std::memcpy(dst, src, static_cast<size_t>(e.size));
  } else {
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error(fmt::format("{}: zlib init failed", path_));
    uint64_t in_left = e.compressed_size, out_done = 0;
    zs.next_in = const_cast<uint8_t*>(src);
    int rc;
    do {  // chunks keep each call within zlib's 32-bit counters
      if (zs.avail_in == 0 && in_left) {
        zs.avail_in = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
        in_left -= zs.avail_in;
      }
      zs.next_out = dst + out_done;
      zs.avail_out = static_cast<uInt>(std::min<uint64_t>(e.size - out_done, 1u << 30));
      const uInt room = zs.avail_out;
      rc = inflate(&zs, Z_NO_FLUSH);  // Z_BUF_ERROR: input exhausted or output full, no progress
      out_done += room - zs.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || out_done != e.size)
      throw Error(fmt::format("{}: invalid zip: entry '{}' does not inflate to its recorded {} bytes", path_, e.name, e.size));
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint64_t off = 0; off < e.size;) {
    const uInt n = static_cast<uInt>(std::min<uint64_t>(e.size - off, 1u << 30));
    crc = crc32(crc, dst + off, n);
    off += n;
  }
  if (crc != e.crc32)
    throw Error(fmt::format("{}: invalid zip: entry '{}' fails its CRC-32 check (corrupted data)", path_, e.name));
}

}  // namespace logq
