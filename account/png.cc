#include "account/png.h"

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace regd::account {
namespace {

constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
constexpr uint8_t kBitDepth = 8;
constexpr uint8_t kColourTypeIndexed = 3;
constexpr uint8_t kFilterNone = 0;
constexpr int kDeflateMemLevel = 4;  // zlib default 8; 1 << (4 + 7) hash entries

void AppendBigEndian32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Appends length, type, data and the CRC-32 of type + data.
void AppendChunk(std::string& out, std::string_view type, const uint8_t* data, size_t size) {
  AppendBigEndian32(out, static_cast<uint32_t>(size));
  size_t type_at = out.size();
  out.append(type);
  out.append(reinterpret_cast<const char*>(data), size);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + type_at),
              static_cast<uInt>(type.size() + size));
  AppendBigEndian32(out, static_cast<uint32_t>(crc));
}

// Compresses `raw` into a zlib stream, as IDAT requires. This is compress2()
// with two settings changed for small pictures: the window is only as large
// as the data (at least 512 bytes) and the hash table is small, which makes
// deflateInit's allocation and clearing cheap; and level 1, which on noisy
// captcha pictures is about 4x faster than the default for 20% more bytes.
bool Deflate(const std::vector<uint8_t>& raw, std::vector<uint8_t>* out) {
  int window_bits = 9;
  while (window_bits < 15 && (size_t{1} << window_bits) < raw.size()) ++window_bits;
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, window_bits, kDeflateMemLevel,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  out->resize(deflateBound(&stream, static_cast<uLong>(raw.size())));
  stream.next_in = const_cast<Bytef*>(raw.data());
  stream.avail_in = static_cast<uInt>(raw.size());
  stream.next_out = out->data();
  stream.avail_out = static_cast<uInt>(out->size());
  const int result = deflate(&stream, Z_FINISH);
  out->resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END;
}

}  // namespace

std::string EncodePng(int width, int height, const std::vector<uint8_t>& pixels,
                      const std::vector<std::array<uint8_t, 3>>& palette) {
  if (width < 1 || height < 1 || width > kPngMaxDimension || height > kPngMaxDimension) return {};
  const size_t w = static_cast<size_t>(width);
  const size_t h = static_cast<size_t>(height);
  if (pixels.size() != w * h) return {};
  if (palette.empty() || palette.size() > 256) return {};
  for (uint8_t p : pixels) {
    if (p >= palette.size()) return {};
  }

  // Raw image data: each scanline is a filter-type byte followed by its pixels.
  std::vector<uint8_t> raw(h * (w + 1));
  for (size_t y = 0; y < h; ++y) {
    uint8_t* row = &raw[y * (w + 1)];
    row[0] = kFilterNone;
    std::copy(pixels.begin() + y * w, pixels.begin() + (y + 1) * w, row + 1);
  }
  std::vector<uint8_t> compressed;
  if (!Deflate(raw, &compressed)) return {};

  std::string out(kSignature);
  out.reserve(kSignature.size() + 3 * 12 + 13 + 3 * palette.size() + compressed.size() + 12);

  uint8_t ihdr[13];
  for (int i = 0; i < 4; ++i) {
    ihdr[i] = static_cast<uint8_t>(w >> (24 - 8 * i));
    ihdr[4 + i] = static_cast<uint8_t>(h >> (24 - 8 * i));
  }
  ihdr[8] = kBitDepth;
  ihdr[9] = kColourTypeIndexed;
  ihdr[10] = 0;  // compression method: deflate
  ihdr[11] = 0;  // filter method: adaptive (per-scanline filter byte)
  ihdr[12] = 0;  // no interlace
  AppendChunk(out, "IHDR", ihdr, sizeof(ihdr));

  std::vector<uint8_t> plte;
  plte.reserve(3 * palette.size());
  for (const auto& rgb : palette) plte.insert(plte.end(), rgb.begin(), rgb.end());
  AppendChunk(out, "PLTE", plte.data(), plte.size());

  AppendChunk(out, "IDAT", compressed.data(), compressed.size());
  AppendChunk(out, "IEND", nullptr, 0);
  return out;
}

}  // namespace regd::account
