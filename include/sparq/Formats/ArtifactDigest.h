//===- include/sparq/Formats/ArtifactDigest.h - the artifact's content digest -*- C++ -*-===//
//
// Every artifact carries an ELF note (section .note.sparq.digest, in a PT_NOTE segment) with
// owner "sparq", type kDigestNoteType and a 16-byte descriptor: the XXH3-128 hash of the whole
// file with those 16 bytes taken as zero. sparq-compile writes it after linking; the runtime
// recomputes it before dlopen and refuses a mismatch (docs/artifact-abi.md). XXH3 (Debian's
// libxxhash-dev, used header-only: no library to link) hashes at memory speed, so the check stays
// on by default. The digest catches corruption, not a deliberate forgery.
//
// Shared by the compiler (lib/Artifact) and the runtime (runtime/src/ArtifactDigest.cpp); no
// dependencies beyond xxhash.h.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_FORMATS_ARTIFACTDIGEST_H
#define SPARQ_FORMATS_ARTIFACTDIGEST_H

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sparq::digest {

inline constexpr char kNoteOwner[] = "sparq"; ///< with its NUL: namesz 6
inline constexpr uint32_t kDigestNoteType = 1;
inline constexpr size_t kDigestBytes = 16;
inline constexpr char kNoteSection[] = ".note.sparq.digest";

/// The note as the compiler emits it (4-byte aligned ELF note: header, name padded to 8, desc).
struct DigestNote {
  uint32_t namesz = sizeof(kNoteOwner);
  uint32_t descsz = kDigestBytes;
  uint32_t type = kDigestNoteType;
  char name[8] = {'s', 'p', 'a', 'r', 'q', 0, 0, 0};
  uint8_t desc[kDigestBytes] = {};
};
static_assert(sizeof(DigestNote) == 36, "ELF note layout");

/// Streaming digest of a file whose bytes [descOffset, descOffset + kDigestBytes) count as zero.
class Hasher {
public:
  explicit Hasher(uint64_t descOffset) : descOffset(descOffset) { XXH3_128bits_reset(&state); }

  /// Adds `size` bytes that start at file offset `offset` (calls must be in file order).
  void update(const void *data, size_t size, uint64_t offset) {
    const auto *p = static_cast<const uint8_t *>(data);
    uint64_t end = offset + size, dEnd = descOffset + kDigestBytes;
    if (end <= descOffset || offset >= dEnd) {
      XXH3_128bits_update(&state, p, size);
      return;
    }
    // The chunk overlaps the descriptor: hash it with those bytes as zero.
    uint8_t zero[kDigestBytes] = {};
    uint64_t a = offset < descOffset ? descOffset : offset;
    uint64_t b = end < dEnd ? end : dEnd;
    XXH3_128bits_update(&state, p, size_t(a - offset));
    XXH3_128bits_update(&state, zero, size_t(b - a));
    XXH3_128bits_update(&state, p + (b - offset), size_t(end - b));
  }

  void finish(uint8_t out[kDigestBytes]) {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&state));
    std::memcpy(out, c.digest, kDigestBytes);
  }

private:
  XXH3_state_t state;
  uint64_t descOffset;
};

} // namespace sparq::digest

#endif // SPARQ_FORMATS_ARTIFACTDIGEST_H
