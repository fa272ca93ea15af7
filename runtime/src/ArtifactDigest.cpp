//===- runtime/src/ArtifactDigest.cpp - verify an artifact's content digest ------===//
//
// Before dlopen (after ArtifactCheck's structural checks): finds the .note.sparq.digest note in
// the artifact's PT_NOTE segments, rehashes the file with the note's descriptor taken as zero
// (include/sparq/Formats/ArtifactDigest.h) and refuses a mismatch. Artifacts without the note
// (from before the digest) load as before. SPARQ_VERIFY_DIGEST=0 in the environment skips the
// check (for measuring its cost).
//
//===----------------------------------------------------------------------===//
#include "ArtifactDigest.h"

#include "sparq/Formats/ArtifactDigest.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace sparq {
namespace runtime {
namespace {

bool readAt(int fd, void *out, size_t size, uint64_t offset) {
  auto *p = static_cast<uint8_t *>(out);
  while (size > 0) {
    ssize_t n = ::pread(fd, p, size, off_t(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    size -= size_t(n);
    offset += uint64_t(n);
  }
  return true;
}

/// The file offset of the digest note's descriptor, if the artifact has one.
std::optional<uint64_t> findDigestNote(int fd, uint64_t fileSize) {
  Elf64_Ehdr eh;
  if (!readAt(fd, &eh, sizeof eh, 0) || eh.e_phentsize != sizeof(Elf64_Phdr))
    return std::nullopt;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!readAt(fd, &ph, sizeof ph, eh.e_phoff + uint64_t(i) * sizeof ph) ||
        ph.p_type != PT_NOTE || ph.p_filesz > (1u << 16) || ph.p_offset > fileSize ||
        ph.p_filesz > fileSize - ph.p_offset)
      continue;
    std::vector<uint8_t> notes(ph.p_filesz);
    if (!readAt(fd, notes.data(), notes.size(), ph.p_offset))
      continue;
    // Notes: namesz, descsz, type, name (padded to 4), desc (padded to 4).
    for (size_t pos = 0; pos + 12 <= notes.size();) {
      uint32_t nameSize, descSize, type;
      std::memcpy(&nameSize, &notes[pos], 4);
      std::memcpy(&descSize, &notes[pos + 4], 4);
      std::memcpy(&type, &notes[pos + 8], 4);
      uint64_t name = pos + 12, desc = name + ((uint64_t(nameSize) + 3) & ~uint64_t(3));
      uint64_t next = desc + ((uint64_t(descSize) + 3) & ~uint64_t(3));
      if (next > notes.size())
        break;
      if (nameSize == sizeof(digest::kNoteOwner) && type == digest::kDigestNoteType &&
          descSize == digest::kDigestBytes &&
          std::memcmp(&notes[name], digest::kNoteOwner, nameSize) == 0)
        return ph.p_offset + desc;
      pos = size_t(next);
    }
  }
  return std::nullopt;
}

} // namespace

sparq_status_t checkArtifactDigest(int fd, const std::string &subject) {
  if (const char *env = std::getenv("SPARQ_VERIFY_DIGEST"); env && std::strcmp(env, "0") == 0)
    return nullptr;
  struct stat info;
  if (::fstat(fd, &info) != 0)
    return makeStatus(SPARQ_STATUS_IO_ERROR, subject + ": fstat failed: " + std::strerror(errno));
  const uint64_t size = uint64_t(info.st_size);
  std::optional<uint64_t> descOffset = findDigestNote(fd, size);
  if (!descOffset)
    return nullptr; // an artifact from before the digest
  uint8_t stored[digest::kDigestBytes];
  if (!readAt(fd, stored, sizeof stored, *descOffset))
    return makeStatus(SPARQ_STATUS_DATA_LOSS, subject + ": cannot read its digest");
  digest::Hasher hasher(*descOffset);
  std::vector<uint8_t> chunk(size_t(1) << 20);
  for (uint64_t offset = 0; offset < size;) {
    size_t n = size_t(std::min<uint64_t>(chunk.size(), size - offset));
    if (!readAt(fd, chunk.data(), n, offset))
      return makeStatus(SPARQ_STATUS_IO_ERROR, subject + ": read failed at byte " +
                                                   std::to_string(offset) + ": " +
                                                   std::strerror(errno ? errno : EIO));
    hasher.update(chunk.data(), n, offset);
    offset += n;
  }
  uint8_t actual[digest::kDigestBytes];
  hasher.finish(actual);
  if (std::memcmp(actual, stored, sizeof actual) != 0)
    return makeStatus(SPARQ_STATUS_DATA_LOSS,
                      subject + ": its content does not match the digest recorded when it was "
                                "compiled (the file is corrupted; recompile it)");
  return nullptr;
}

} // namespace runtime
} // namespace sparq
