//===- runtime/src/ArtifactCheck.cpp - validating an artifact around dlopen -*- C++ -*-===//
//
// checkArtifactFile reads the ELF header, the program headers, the dynamic table and the
// section headers with pread (never mmap, so a short file cannot fault here either) and checks
// every offset the dynamic linker will map and every address it will follow: all of them must
// lie inside the file, or inside the image of a loadable segment. checkArtifactFunction asks
// the dynamic linker, after dlopen, which object and which symbol an ABI address belongs to.
//
//===----------------------------------------------------------------------===//
#include "ArtifactCheck.h"
#include "ArtifactDigest.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace sparq::runtime;

#ifndef PT_GNU_PROPERTY
#define PT_GNU_PROPERTY 0x6474e553
#endif
#ifndef DT_RELR
#define DT_RELRSZ 35
#define DT_RELR 36
#define DT_RELRENT 37
#endif

namespace {

using Ehdr = ElfW(Ehdr);
using Phdr = ElfW(Phdr);
using Shdr = ElfW(Shdr);
using Dyn = ElfW(Dyn);
using Sym = ElfW(Sym);

constexpr unsigned hostClass = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
#if defined(__x86_64__)
constexpr unsigned hostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr unsigned hostMachine = EM_AARCH64;
#elif defined(__riscv)
constexpr unsigned hostMachine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr unsigned hostMachine = EM_PPC64;
#elif defined(__s390x__)
constexpr unsigned hostMachine = EM_S390;
#else
constexpr unsigned hostMachine = EM_NONE; ///< an unlisted host: the machine is not checked
#endif

std::string hex(uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof(buffer), "0x%" PRIx64, value);
  return buffer;
}

/// A value of an ELF enumeration and its name, for messages.
struct Named {
  int64_t value;
  const char *name;
};

template <size_t N> const char *nameOf(const Named (&table)[N], int64_t value) {
  for (const Named &entry : table)
    if (entry.value == value)
      return entry.name;
  return nullptr;
}

const Named machineNames[] = {{EM_386, "x86"},         {EM_X86_64, "x86-64"},
                              {EM_ARM, "ARM"},         {EM_AARCH64, "AArch64"},
                              {EM_RISCV, "RISC-V"},    {EM_PPC64, "PowerPC64"},
                              {EM_S390, "s390x"}};

const Named segmentNames[] = {
    {PT_LOAD, "PT_LOAD"},           {PT_DYNAMIC, "PT_DYNAMIC"},
    {PT_INTERP, "PT_INTERP"},       {PT_NOTE, "PT_NOTE"},
    {PT_PHDR, "PT_PHDR"},           {PT_TLS, "PT_TLS"},
    {PT_GNU_EH_FRAME, "PT_GNU_EH_FRAME"}, {PT_GNU_STACK, "PT_GNU_STACK"},
    {PT_GNU_RELRO, "PT_GNU_RELRO"}, {PT_GNU_PROPERTY, "PT_GNU_PROPERTY"}};

/// The dynamic tags the checks read.
const Named dynamicTags[] = {
    {DT_NEEDED, "DT_NEEDED"},         {DT_PLTRELSZ, "DT_PLTRELSZ"},
    {DT_PLTGOT, "DT_PLTGOT"},         {DT_HASH, "DT_HASH"},
    {DT_STRTAB, "DT_STRTAB"},         {DT_SYMTAB, "DT_SYMTAB"},
    {DT_RELA, "DT_RELA"},             {DT_RELASZ, "DT_RELASZ"},
    {DT_RELAENT, "DT_RELAENT"},       {DT_STRSZ, "DT_STRSZ"},
    {DT_SYMENT, "DT_SYMENT"},         {DT_INIT, "DT_INIT"},
    {DT_FINI, "DT_FINI"},             {DT_SONAME, "DT_SONAME"},
    {DT_RPATH, "DT_RPATH"},           {DT_REL, "DT_REL"},
    {DT_RELSZ, "DT_RELSZ"},           {DT_RELENT, "DT_RELENT"},
    {DT_PLTREL, "DT_PLTREL"},         {DT_JMPREL, "DT_JMPREL"},
    {DT_INIT_ARRAY, "DT_INIT_ARRAY"}, {DT_FINI_ARRAY, "DT_FINI_ARRAY"},
    {DT_INIT_ARRAYSZ, "DT_INIT_ARRAYSZ"}, {DT_FINI_ARRAYSZ, "DT_FINI_ARRAYSZ"},
    {DT_RUNPATH, "DT_RUNPATH"},       {DT_PREINIT_ARRAY, "DT_PREINIT_ARRAY"},
    {DT_PREINIT_ARRAYSZ, "DT_PREINIT_ARRAYSZ"}, {DT_RELRSZ, "DT_RELRSZ"},
    {DT_RELR, "DT_RELR"},             {DT_RELRENT, "DT_RELRENT"},
    {DT_GNU_HASH, "DT_GNU_HASH"},     {DT_VERSYM, "DT_VERSYM"},
    {DT_RELACOUNT, "DT_RELACOUNT"},   {DT_RELCOUNT, "DT_RELCOUNT"},
    {DT_VERDEF, "DT_VERDEF"},         {DT_VERDEFNUM, "DT_VERDEFNUM"},
    {DT_VERNEED, "DT_VERNEED"},       {DT_VERNEEDNUM, "DT_VERNEEDNUM"},
};

std::string describeMachine(unsigned machine) {
  const char *name = nameOf(machineNames, machine);
  return std::to_string(machine) + (name ? std::string(" (") + name + ")" : std::string());
}

std::string describeSegment(size_t index, uint32_t type) {
  const char *name = nameOf(segmentNames, type);
  return "segment " + std::to_string(index) + " (" + (name ? name : "type " + hex(type)) + ")";
}

/// The name of a tag the checks read; NULL for any other tag.
const char *tagName(int64_t tag) { return nameOf(dynamicTags, tag); }

/// Tags whose value is an address in the image the dynamic linker follows.
const int64_t addressTags[] = {DT_PLTGOT,     DT_HASH,          DT_STRTAB,   DT_SYMTAB,
                               DT_RELA,       DT_INIT,          DT_FINI,     DT_REL,
                               DT_JMPREL,     DT_INIT_ARRAY,    DT_FINI_ARRAY,
                               DT_PREINIT_ARRAY, DT_RELR,       DT_GNU_HASH, DT_VERSYM,
                               DT_VERDEF,     DT_VERNEED};

/// Tables given by an address tag and a size tag (and, for relocations, an entry-size tag):
/// glibc dereferences the size and entry-size entries without checking they exist.
struct SizedTable {
  int64_t address, size, entry;
  uint64_t entrySize;
};
const SizedTable sizedTables[] = {
    {DT_STRTAB, DT_STRSZ, DT_NULL, 0},
    {DT_RELA, DT_RELASZ, DT_RELAENT, sizeof(ElfW(Rela))},
    {DT_REL, DT_RELSZ, DT_RELENT, sizeof(ElfW(Rel))},
    {DT_JMPREL, DT_PLTRELSZ, DT_NULL, 0},
    {DT_INIT_ARRAY, DT_INIT_ARRAYSZ, DT_NULL, 0},
    {DT_FINI_ARRAY, DT_FINI_ARRAYSZ, DT_NULL, 0},
    {DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ, DT_NULL, 0},
    {DT_RELR, DT_RELRSZ, DT_RELRENT, sizeof(ElfW(Addr))},
};

/// Tags that mean nothing without another: {dependent, base}. A linker never writes one
/// without the other; a corrupt tag that hides the base (say DT_RELA) would leave the
/// object unrelocated and crash it in its constructors.
const std::pair<int64_t, int64_t> tagDependencies[] = {
    {DT_RELASZ, DT_RELA},         {DT_RELAENT, DT_RELA},         {DT_RELACOUNT, DT_RELA},
    {DT_RELSZ, DT_REL},           {DT_RELENT, DT_REL},           {DT_RELCOUNT, DT_REL},
    {DT_PLTRELSZ, DT_JMPREL},     {DT_PLTREL, DT_JMPREL},        {DT_RELRSZ, DT_RELR},
    {DT_RELRENT, DT_RELR},        {DT_INIT_ARRAYSZ, DT_INIT_ARRAY},
    {DT_FINI_ARRAYSZ, DT_FINI_ARRAY}, {DT_PREINIT_ARRAYSZ, DT_PREINIT_ARRAY},
    {DT_STRSZ, DT_STRTAB},        {DT_SYMENT, DT_SYMTAB},        {DT_VERNEEDNUM, DT_VERNEED},
    {DT_VERDEFNUM, DT_VERDEF},    {DT_VERNEED, DT_VERSYM},       {DT_VERDEF, DT_VERSYM},
};

/// Tags that name the start of a whole section, and that section's type: with section
/// headers present, the dynamic table must agree with them.
struct SectionTag {
  int64_t address, size;
  uint32_t sectionType;
};
const SectionTag sectionTags[] = {
    {DT_SYMTAB, DT_NULL, SHT_DYNSYM},
    {DT_STRTAB, DT_STRSZ, SHT_STRTAB},
    {DT_HASH, DT_NULL, SHT_HASH},
    {DT_GNU_HASH, DT_NULL, SHT_GNU_HASH},
    {DT_VERSYM, DT_NULL, SHT_GNU_versym},
    {DT_VERNEED, DT_NULL, SHT_GNU_verneed},
    {DT_VERDEF, DT_NULL, SHT_GNU_verdef},
    {DT_INIT_ARRAY, DT_INIT_ARRAYSZ, SHT_INIT_ARRAY},
    {DT_FINI_ARRAY, DT_FINI_ARRAYSZ, SHT_FINI_ARRAY},
    {DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ, SHT_PREINIT_ARRAY},
};

/// Tags whose value is an offset into the dynamic string table.
const int64_t stringTags[] = {DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH};

uint64_t hostPageSize() {
  long size = ::sysconf(_SC_PAGESIZE);
  return size > 0 ? uint64_t(size) : 4096;
}

/// `value` rounded up to a multiple of `unit`, saturating at UINT64_MAX.
uint64_t roundUp(uint64_t value, uint64_t unit) {
  uint64_t rest = value % unit;
  if (rest == 0)
    return value;
  return value > UINT64_MAX - (unit - rest) ? UINT64_MAX : value + (unit - rest);
}

/// The checks of one open artifact file of `size` bytes.
class ElfFileCheck {
public:
  ElfFileCheck(int fd, uint64_t size, const std::string &subject)
      : fd(fd), size(size), subject(subject) {}

  sparq_status_t run() {
    if (sparq_status_t status = checkHeader())
      return status;
    if (sparq_status_t status = checkProgramHeaders())
      return status;
    if (sparq_status_t status = checkDynamicTable())
      return status;
    return checkSectionHeaders();
  }

private:
  sparq_status_t fail(sparq_status_code_t code, const std::string &why) const {
    return makeStatus(code, subject + ": " + why);
  }

  sparq_status_t corrupt(const std::string &why) const {
    return fail(SPARQ_STATUS_DATA_LOSS, "corrupt ELF file: " + why);
  }

  sparq_status_t truncated(const std::string &what, uint64_t offset, uint64_t length) const {
    std::string end = length <= UINT64_MAX - offset
                          ? std::to_string(offset + length)
                          : std::to_string(offset) + " + " + std::to_string(length);
    return fail(SPARQ_STATUS_DATA_LOSS, "the file is truncated: " + what + " needs bytes [" +
                                            std::to_string(offset) + ", " + end +
                                            ") but the file has " + std::to_string(size) +
                                            " bytes");
  }

  bool inFile(uint64_t offset, uint64_t length) const {
    return offset <= size && length <= size - offset;
  }

  /// Reads `length` bytes at `offset`, a range the caller checked lies inside the file.
  sparq_status_t read(void *out, uint64_t offset, size_t length) const {
    char *dst = static_cast<char *>(out);
    while (length > 0) {
      ssize_t got = ::pread(fd, dst, length, off_t(offset));
      if (got < 0) {
        int error = errno;
        if (error == EINTR)
          continue;
        return fail(SPARQ_STATUS_IO_ERROR,
                    "read error at byte " + std::to_string(offset) + ": " + std::strerror(error));
      }
      if (got == 0)
        return fail(SPARQ_STATUS_DATA_LOSS, "the file shrank to " + std::to_string(offset) +
                                                " bytes while it was being checked");
      dst += got;
      offset += uint64_t(got);
      length -= size_t(got);
    }
    return nullptr;
  }

  /// Calls `visit(index, entry, stop)` on `count` entries of type T from `offset` (inside
  /// the file), reading a chunk at a time, until `visit` fails or sets `stop`.
  template <typename T, typename Visit>
  sparq_status_t forEachEntry(uint64_t offset, uint64_t count, Visit visit) const {
    const uint64_t chunkSize = 256;
    std::vector<T> chunk(size_t(std::min(count, chunkSize)));
    bool stop = false;
    for (uint64_t first = 0; first < count && !stop; first += chunkSize) {
      size_t n = size_t(std::min(chunkSize, count - first));
      if (sparq_status_t status = read(chunk.data(), offset + first * sizeof(T), n * sizeof(T)))
        return status;
      for (size_t i = 0; i < n && !stop; ++i)
        if (sparq_status_t status = visit(first + i, chunk[i], stop))
          return status;
    }
    return nullptr;
  }

  sparq_status_t checkHeader() {
    if (size == 0)
      return fail(SPARQ_STATUS_DATA_LOSS, "the file is empty, not an ELF shared object");
    unsigned char magic[SELFMAG] = {};
    size_t have = size_t(std::min<uint64_t>(size, SELFMAG));
    if (sparq_status_t status = read(magic, 0, have))
      return status;
    if (std::memcmp(magic, ELFMAG, have) != 0)
      return fail(SPARQ_STATUS_INVALID_ARGUMENT, "not an ELF file (bad magic at byte 0)");
    if (!inFile(0, sizeof(Ehdr)))
      return truncated("the ELF header", 0, sizeof(Ehdr));
    if (sparq_status_t status = read(&header, 0, sizeof(Ehdr)))
      return status;
    unsigned elfClass = header.e_ident[EI_CLASS];
    if (elfClass != hostClass) {
      if (elfClass != ELFCLASS32 && elfClass != ELFCLASS64)
        return corrupt("invalid ELF class " + std::to_string(elfClass) + " at byte 4");
      return fail(SPARQ_STATUS_FAILED_PRECONDITION,
                  std::string("it is a ") + (elfClass == ELFCLASS32 ? "32" : "64") +
                      "-bit ELF file; this host loads " +
                      (hostClass == ELFCLASS64 ? "64" : "32") + "-bit shared objects");
    }
    unsigned encoding = header.e_ident[EI_DATA];
    if (encoding == ELFDATA2MSB)
      return fail(SPARQ_STATUS_FAILED_PRECONDITION,
                  "it is a big-endian ELF file; this host is little-endian");
    if (encoding != ELFDATA2LSB)
      return corrupt("invalid ELF data encoding " + std::to_string(encoding) + " at byte 5");
    if (header.e_ident[EI_VERSION] != EV_CURRENT || header.e_version != EV_CURRENT)
      return corrupt("ELF version " + std::to_string(header.e_ident[EI_VERSION]) + "/" +
                     std::to_string(header.e_version) + ", expected 1");
    if (header.e_type != ET_DYN) {
      const char *kind = header.e_type == ET_REL    ? "relocatable object"
                         : header.e_type == ET_EXEC ? "executable"
                         : header.e_type == ET_CORE ? "core dump"
                                                    : "file of unknown type";
      return fail(SPARQ_STATUS_INVALID_ARGUMENT,
                  std::string("it is an ELF ") + kind + " (e_type " +
                      std::to_string(header.e_type) + "), not a shared object");
    }
    if (hostMachine != EM_NONE && header.e_machine != hostMachine)
      return fail(SPARQ_STATUS_FAILED_PRECONDITION,
                  "it was built for ELF machine " + describeMachine(header.e_machine) +
                      "; this host is " + describeMachine(hostMachine));
    return nullptr;
  }

  sparq_status_t checkProgramHeaders() {
    if (header.e_phentsize != sizeof(Phdr))
      return corrupt("program header entry size " + std::to_string(header.e_phentsize) +
                     ", expected " + std::to_string(sizeof(Phdr)));
    if (header.e_phnum == 0)
      return corrupt("no program headers");
    if (header.e_phnum == PN_XNUM)
      return corrupt("extended program header numbering (PN_XNUM) is not supported");
    uint64_t tableSize = uint64_t(header.e_phnum) * sizeof(Phdr);
    if (!inFile(header.e_phoff, tableSize))
      return truncated("the program header table", header.e_phoff, tableSize);
    segments.resize(header.e_phnum);
    if (sparq_status_t status = read(segments.data(), header.e_phoff, size_t(tableSize)))
      return status;
    const Phdr *previous = nullptr;
    for (size_t i = 0; i < segments.size(); ++i) {
      const Phdr &segment = segments[i];
      std::string what = describeSegment(i, segment.p_type);
      if (segment.p_filesz > 0 && !inFile(segment.p_offset, segment.p_filesz))
        return truncated(what, segment.p_offset, segment.p_filesz);
      if (segment.p_type != PT_LOAD)
        continue;
      if (segment.p_filesz > segment.p_memsz)
        return corrupt(what + " has " + std::to_string(segment.p_filesz) +
                       " bytes in the file but only " + std::to_string(segment.p_memsz) +
                       " in memory");
      if (segment.p_memsz > UINT64_MAX - segment.p_vaddr)
        return corrupt(what + " wraps around the address space");
      // The dynamic linker maps each loadable segment over the reservation of the first with
      // MAP_FIXED, a page at a time: segments out of order or sharing a page would overwrite
      // each other (or another library).
      if (previous && segment.p_vaddr - segment.p_vaddr % page <
                          roundUp(previous->p_vaddr + previous->p_memsz, page))
        return corrupt(what + " at " + hex(segment.p_vaddr) +
                       " does not start on a page after the loadable segment before it (which "
                       "ends at " + hex(previous->p_vaddr + previous->p_memsz) + ")");
      previous = &segment;
    }
    if (!previous)
      return corrupt("no loadable (PT_LOAD) segment");
    for (size_t i = 0; i < segments.size(); ++i)
      if (sparq_status_t status = checkInImage(i))
        return status;
    return nullptr;
  }

  /// Checks that segment `index`, if it describes part of the image, lies in the image.
  sparq_status_t checkInImage(size_t index) const {
    const Phdr &segment = segments[index];
    switch (segment.p_type) {
    case PT_DYNAMIC:
    case PT_PHDR:
    case PT_NOTE:
    case PT_GNU_PROPERTY:
    case PT_TLS:
      // The dynamic linker reads these through the mapped image: they must be mapped from the
      // very bytes of the file they describe.
      if ((segment.p_filesz > 0 || segment.p_type == PT_DYNAMIC) &&
          !mappedFromFile(segment.p_vaddr, segment.p_offset, segment.p_filesz))
        return corrupt(describeSegment(index, segment.p_type) + " at " + hex(segment.p_vaddr) +
                       " (file offset " + std::to_string(segment.p_offset) +
                       ") is not mapped from the file by a loadable segment");
      return nullptr;
    case PT_INTERP:
    case PT_GNU_EH_FRAME:
    case PT_GNU_RELRO:
      // RELRO is made read-only after relocation, in whole pages, its end rounded down.
      if (segment.p_memsz > 0 &&
          !mapped(segment.p_vaddr, segment.p_memsz, segment.p_type == PT_GNU_RELRO ? page : 1))
        return corrupt(describeSegment(index, segment.p_type) + " [" + hex(segment.p_vaddr) +
                       ", +" + std::to_string(segment.p_memsz) +
                       " bytes) lies outside the loadable segments");
      return nullptr;
    default:
      return nullptr;
    }
  }

  /// True when [vaddr, vaddr + length) is mapped from file bytes [offset, offset + length) by
  /// one PT_LOAD segment.
  bool mappedFromFile(uint64_t vaddr, uint64_t offset, uint64_t length) const {
    for (const Phdr &segment : segments) {
      if (segment.p_type != PT_LOAD || vaddr < segment.p_vaddr || offset < segment.p_offset)
        continue;
      uint64_t delta = vaddr - segment.p_vaddr;
      if (offset - segment.p_offset == delta && delta <= segment.p_filesz &&
          length <= segment.p_filesz - delta)
        return true;
    }
    return false;
  }

  /// The PT_LOAD segment whose memory image, its end rounded up to a multiple of `slack`,
  /// holds [vaddr, vaddr + length); NULL if there is none.
  const Phdr *loadSegmentOf(uint64_t vaddr, uint64_t length, uint64_t slack = 1) const {
    for (const Phdr &segment : segments) {
      if (segment.p_type != PT_LOAD || vaddr < segment.p_vaddr)
        continue;
      uint64_t delta = vaddr - segment.p_vaddr;
      uint64_t extent = roundUp(segment.p_vaddr + segment.p_memsz, slack) - segment.p_vaddr;
      if (delta <= extent && length <= extent - delta)
        return &segment;
    }
    return nullptr;
  }

  bool mapped(uint64_t vaddr, uint64_t length, uint64_t slack = 1) const {
    return loadSegmentOf(vaddr, length, slack) != nullptr;
  }

  /// The value of dynamic tag `tag` (the last entry wins, as in glibc); NULL if absent.
  const uint64_t *find(int64_t tag) const {
    const uint64_t *found = nullptr;
    for (const auto &entry : dynamicValues)
      if (entry.first == tag)
        found = &entry.second;
    return found;
  }

  sparq_status_t checkDynamicTable() {
    const Phdr *dynamic = nullptr;
    for (const Phdr &segment : segments)
      if (segment.p_type == PT_DYNAMIC)
        dynamic = &segment; // the dynamic linker uses the last one
    if (!dynamic)
      return corrupt("no dynamic segment (PT_DYNAMIC)");
    dynamicAddress = dynamic->p_vaddr;
    // Keep the tags the checks read, and the string-table offsets.
    std::vector<std::pair<int64_t, uint64_t>> strings;
    bool terminated = false;
    sparq_status_t status = forEachEntry<Dyn>(
        dynamic->p_offset, dynamic->p_filesz / sizeof(Dyn),
        [&](uint64_t, const Dyn &entry, bool &stop) -> sparq_status_t {
          int64_t tag = entry.d_tag;
          if (tag == DT_NULL) {
            terminated = stop = true;
            return nullptr;
          }
          if (std::find(std::begin(stringTags), std::end(stringTags), tag) !=
              std::end(stringTags)) {
            strings.emplace_back(tag, entry.d_un.d_val);
          } else if (tagName(tag)) {
            // A tag given twice is a corrupt table (it was some other tag before).
            if (find(tag))
              return corrupt(std::string("the dynamic table has ") + tagName(tag) + " twice");
            dynamicValues.emplace_back(tag, entry.d_un.d_val);
          }
          return nullptr;
        });
    if (status)
      return status;
    if (!terminated)
      return corrupt("the dynamic table has no DT_NULL entry within its " +
                     std::to_string(dynamic->p_filesz) + " bytes");
    auto missing = [&](int64_t needed, int64_t by) {
      return corrupt(std::string("the dynamic table has ") + tagName(by) + " but no " +
                     tagName(needed));
    };
    for (const auto &dependency : tagDependencies)
      if (find(dependency.first) && !find(dependency.second))
        return missing(dependency.second, dependency.first);
    for (int64_t tag : {int64_t(DT_STRTAB), int64_t(DT_SYMTAB)})
      if (!find(tag))
        return corrupt(std::string("the dynamic table has no ") + tagName(tag));
    if (!find(DT_HASH) && !find(DT_GNU_HASH))
      return corrupt("the dynamic table has neither DT_HASH nor DT_GNU_HASH");

    for (int64_t tag : addressTags)
      if (const uint64_t *address = find(tag))
        if (!mapped(*address, 1))
          return corrupt(std::string(tagName(tag)) + " = " + hex(*address) +
                         " points outside the loadable segments");
    for (const SizedTable &table : sizedTables) {
      const uint64_t *address = find(table.address);
      if (!address)
        continue;
      const uint64_t *length = find(table.size);
      if (!length)
        return missing(table.size, table.address);
      if (!mapped(*address, *length))
        return corrupt(std::string(tagName(table.address)) + " [" + hex(*address) + ", +" +
                       std::to_string(*length) + " bytes) extends outside the loadable segments");
      if (table.entry == DT_NULL)
        continue;
      const uint64_t *entrySize = find(table.entry);
      if (!entrySize)
        return missing(table.entry, table.address);
      if (*entrySize != table.entrySize)
        return corrupt(std::string(tagName(table.entry)) + " is " + std::to_string(*entrySize) +
                       ", expected " + std::to_string(table.entrySize));
    }
    for (auto count : {std::make_pair(DT_RELACOUNT, DT_RELASZ),
                       std::make_pair(DT_RELCOUNT, DT_RELSZ)})
      if (const uint64_t *relative = find(count.first))
        if (*relative > *find(count.second) / (count.first == DT_RELACOUNT
                                                   ? sizeof(ElfW(Rela))
                                                   : sizeof(ElfW(Rel))))
          return corrupt(std::string(tagName(count.first)) + " " + std::to_string(*relative) +
                         " exceeds the relocations in " + tagName(count.second) + " " +
                         std::to_string(*find(count.second)));
    if (const uint64_t *kind = find(DT_PLTREL)) {
      bool relaOnly = hostClass == ELFCLASS64; // every 64-bit Linux ABI uses RELA
      if (*kind != DT_RELA && (relaOnly || *kind != DT_REL))
        return corrupt("DT_PLTREL is " + std::to_string(*kind) + ", expected " +
                       std::to_string(DT_RELA) + " (DT_RELA)");
    }
    if (const uint64_t *entrySize = find(DT_SYMENT))
      if (*entrySize != sizeof(Sym))
        return corrupt("DT_SYMENT is " + std::to_string(*entrySize) + ", expected " +
                       std::to_string(sizeof(Sym)));
    // The dynamic linker calls these (mapped: checked with the other addresses above).
    for (int64_t tag : {int64_t(DT_INIT), int64_t(DT_FINI)})
      if (const uint64_t *address = find(tag))
        if (!(loadSegmentOf(*address, 1)->p_flags & PF_X))
          return corrupt(std::string(tagName(tag)) + " = " + hex(*address) +
                         " is not in an executable segment");
    uint64_t stringTableSize = *find(DT_STRSZ); // present: DT_STRTAB is, and needs it
    for (const auto &entry : strings)
      if (entry.second >= stringTableSize)
        return corrupt(std::string(tagName(entry.first)) + " = " + std::to_string(entry.second) +
                       " is past the end of the " + std::to_string(stringTableSize) +
                       "-byte string table");
    return nullptr;
  }

  /// What checkSectionHeaders keeps of an allocated section, to compare with the dynamic
  /// table.
  struct Section {
    uint32_t type;
    uint64_t address, size;
  };

  sparq_status_t checkSectionHeaders() {
    // Sections are not loaded, but a table past the end of the file means the file was cut,
    // and the sections say where the code expects its data: the segments and the dynamic
    // table must agree with them.
    if (header.e_shoff == 0) {
      if (header.e_shnum != 0)
        return corrupt("e_shnum is " + std::to_string(header.e_shnum) +
                       " but there is no section header table");
      return nullptr;
    }
    if (header.e_shentsize != sizeof(Shdr))
      return corrupt("section header entry size " + std::to_string(header.e_shentsize) +
                     ", expected " + std::to_string(sizeof(Shdr)));
    uint64_t count = header.e_shnum;
    if (count == 0) {
      // Extended numbering: the count is in the sh_size of section 0.
      if (!inFile(header.e_shoff, sizeof(Shdr)))
        return truncated("the section header table", header.e_shoff, sizeof(Shdr));
      Shdr first;
      if (sparq_status_t status = read(&first, header.e_shoff, sizeof(Shdr)))
        return status;
      count = first.sh_size;
    }
    uint64_t tableSize = count <= UINT64_MAX / sizeof(Shdr) ? count * sizeof(Shdr) : UINT64_MAX;
    if (!inFile(header.e_shoff, tableSize))
      return truncated("the section header table", header.e_shoff, tableSize);
    if (header.e_shstrndx != SHN_UNDEF && header.e_shstrndx != SHN_XINDEX &&
        header.e_shstrndx >= count)
      return corrupt("e_shstrndx " + std::to_string(header.e_shstrndx) + " is not below the " +
                     std::to_string(count) + " sections");
    std::vector<Section> sections; // allocated ones, of the types in sectionTags
    sparq_status_t status = forEachEntry<Shdr>(
        header.e_shoff, count, [&](uint64_t index, const Shdr &section, bool &) {
          return checkSection(index, section, sections);
        });
    if (status)
      return status;
    for (const SectionTag &tag : sectionTags) {
      const uint64_t *address = find(tag.address);
      if (!address)
        continue;
      const uint64_t *length = tag.size == DT_NULL ? nullptr : find(tag.size);
      bool agrees = false;
      for (const Section &section : sections)
        agrees |= section.type == tag.sectionType && section.address == *address &&
                  (!length || *length <= section.size);
      if (!agrees)
        return corrupt(std::string(tagName(tag.address)) + " = " + hex(*address) +
                       " is not the start of a section of type " +
                       std::to_string(tag.sectionType) + " that holds it");
    }
    bool dynamicAgrees = false;
    for (const Section &section : sections)
      dynamicAgrees |= section.type == SHT_DYNAMIC && section.address == dynamicAddress;
    if (!dynamicAgrees)
      return corrupt("the dynamic segment at " + hex(dynamicAddress) +
                     " is not the SHT_DYNAMIC section");
    return nullptr;
  }

  /// Checks section `index` lies in the file and, if allocated, in the image; keeps what the
  /// dynamic table is compared with.
  sparq_status_t checkSection(uint64_t index, const Shdr &section,
                              std::vector<Section> &sections) const {
    std::string what = "section " + std::to_string(index);
    bool inMemoryOnly = section.sh_type == SHT_NOBITS;
    if (section.sh_type != SHT_NULL && !inMemoryOnly && section.sh_size > 0 &&
        !inFile(section.sh_offset, section.sh_size))
      return truncated(what, section.sh_offset, section.sh_size);
    // Thread-local .tbss takes no room in the image.
    if (!(section.sh_flags & SHF_ALLOC) || section.sh_size == 0 ||
        (inMemoryOnly && (section.sh_flags & SHF_TLS)))
      return nullptr;
    if (inMemoryOnly ? !mapped(section.sh_addr, section.sh_size)
                     : !mappedFromFile(section.sh_addr, section.sh_offset, section.sh_size))
      return corrupt(what + " [" + hex(section.sh_addr) + ", +" +
                     std::to_string(section.sh_size) +
                     " bytes) is not where the loadable segments map it");
    uint32_t type = section.sh_type;
    bool compared = type == SHT_DYNAMIC;
    for (const SectionTag &tag : sectionTags)
      compared |= tag.sectionType == type;
    if (compared)
      sections.push_back({type, section.sh_addr, section.sh_size});
    return nullptr;
  }

  int fd;
  uint64_t size;
  const std::string &subject;
  uint64_t page = hostPageSize();
  Ehdr header;
  std::vector<Phdr> segments;
  std::vector<std::pair<int64_t, uint64_t>> dynamicValues; ///< the tags in dynamicTags
  uint64_t dynamicAddress = 0;
};

/// For dl_iterate_phdr: is `address` in an executable segment of `object`?
struct ExecutableQuery {
  const struct link_map *object;
  uintptr_t address;
  bool found;
  bool executable;
};

int findExecutableSegment(struct dl_phdr_info *info, size_t, void *data) {
  auto *query = static_cast<ExecutableQuery *>(data);
  if (info->dlpi_addr != query->object->l_addr || !info->dlpi_name ||
      std::strcmp(info->dlpi_name, query->object->l_name) != 0)
    return 0;
  query->found = true;
  for (size_t i = 0; i < info->dlpi_phnum; ++i) {
    const Phdr &segment = info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + segment.p_vaddr;
    if (segment.p_type == PT_LOAD && (segment.p_flags & PF_X) && query->address >= start &&
        query->address - start < segment.p_memsz)
      query->executable = true;
  }
  return 1;
}

/// What a symbol of `type` is when it cannot be a function; NULL when it can.
const char *nonFunctionKind(unsigned type) {
  switch (type) {
  case STT_OBJECT: return "a data object (STT_OBJECT)";
  case STT_TLS: return "a thread-local variable (STT_TLS)";
  case STT_COMMON: return "a common data symbol (STT_COMMON)";
  case STT_SECTION: return "a section symbol (STT_SECTION)";
  case STT_FILE: return "a file symbol (STT_FILE)";
  default: return nullptr; // STT_FUNC, STT_GNU_IFUNC, STT_NOTYPE (hand-written assembly)
  }
}

} // namespace

namespace sparq {
namespace runtime {

sparq_status_t checkArtifactFile(const char *path, const std::string &subject) {
  UniqueFd fd;
  struct stat info;
  if (sparq_status_t status = openForReading(path, subject, /*allowPipes=*/false, fd, info))
    return status;
  if (sparq_status_t status = ElfFileCheck(fd.get(), uint64_t(info.st_size), subject).run())
    return status;
  return checkArtifactDigest(fd.get(), subject);
}

sparq_status_t checkArtifactFunction(void *handle, const void *address, const char *symbol,
                                     const std::string &path) {
  auto broken = [&](const std::string &why) {
    return makeStatus(SPARQ_STATUS_INTERNAL,
                      "artifact '" + path + "': " + symbol + " " + why);
  };
  struct link_map *artifact = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &artifact) != 0 || !artifact)
    return broken("cannot be checked: dlinfo found no link map");
  Dl_info info;
  struct link_map *owner = nullptr;
  if (!dladdr1(address, &info, reinterpret_cast<void **>(&owner), RTLD_DL_LINKMAP) ||
      owner != artifact)
    return broken("does not point into the artifact's own image" +
                  (owner && owner->l_name && *owner->l_name
                       ? " (it resolves into '" + std::string(owner->l_name) + "')"
                       : std::string()));
  void *entry = nullptr;
  if (dladdr1(address, &info, &entry, RTLD_DL_SYMENT) && entry)
    if (const char *kind = nonFunctionKind(ELF64_ST_TYPE(static_cast<const Sym *>(entry)->st_info)))
      return broken(std::string("is ") + kind + ", not a function");
  ExecutableQuery query{artifact, reinterpret_cast<uintptr_t>(address), false, false};
  dl_iterate_phdr(findExecutableSegment, &query);
  if (!query.executable)
    return broken(query.found ? "is not in an executable segment of the artifact"
                              : "cannot be checked: the artifact's segments were not found");
  return nullptr;
}

} // namespace runtime
} // namespace sparq
