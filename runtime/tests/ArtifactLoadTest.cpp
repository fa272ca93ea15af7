//===- runtime/tests/ArtifactLoadTest.cpp - hostile artifacts fail cleanly -*- C++ -*-===//
//
// sparq_model_load on files that are not intact artifacts for this host: fake_add.so cut at
// many points (every 1/64 of the file and every PT_LOAD boundary +-1), with single header
// fields or dynamic entries corrupted, a FIFO, a directory, a text file, and artifacts whose
// ABI symbols are data (fake_datasym.c). Each load runs in this process: it must return an
// error, never crash (a SIGBUS or SIGSEGV here fails the test run) and never hang (a
// watchdog alarm kills a hung test). Also checks that the validation accepts every shared
// library this process has loaded, so it does not refuse well-formed files.
//
//===----------------------------------------------------------------------===//
#include "ArtifactCheck.h"
#include "TestUtil.h"

#include <elf.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <set>

using namespace sparq::runtime::test;

namespace {

using Bytes = std::vector<uint8_t>;
using Ehdr = ElfW(Ehdr);
using Phdr = ElfW(Phdr);
using Dyn = ElfW(Dyn);
using Shdr = ElfW(Shdr);

/// A copy of an ELF file that can be read and edited field by field.
struct ElfImage {
  Bytes bytes;

  Ehdr &header() { return *reinterpret_cast<Ehdr *>(bytes.data()); }
  Phdr &segment(size_t i) {
    return reinterpret_cast<Phdr *>(bytes.data() + header().e_phoff)[i];
  }
  size_t numSegments() { return header().e_phnum; }

  /// The first segment of `type`.
  Phdr &firstSegment(uint32_t type) {
    for (size_t i = 0; i < numSegments(); ++i)
      if (segment(i).p_type == type)
        return segment(i);
    ADD_FAILURE() << "no segment of type " << type;
    return segment(0);
  }

  /// The entries of the dynamic table (PT_DYNAMIC), in the file.
  Dyn *dynamic(size_t &count) {
    Phdr &table = firstSegment(PT_DYNAMIC);
    count = table.p_filesz / sizeof(Dyn);
    return reinterpret_cast<Dyn *>(bytes.data() + table.p_offset);
  }

  /// The first dynamic entry with `tag`; fails the test if there is none.
  Dyn &dynamicEntry(int64_t tag) {
    size_t count = 0;
    Dyn *entries = dynamic(count);
    for (size_t i = 0; i < count; ++i)
      if (entries[i].d_tag == tag)
        return entries[i];
    ADD_FAILURE() << "no dynamic entry with tag " << tag;
    return entries[0];
  }
};

ElfImage fakeAdd() {
  ElfImage image{readBytes(SPARQ_RT_FAKE_ADD)};
  EXPECT_GE(image.bytes.size(), sizeof(Ehdr));
  return image;
}

/// Loads `path`, expecting an error; checks nothing was returned.
StatusInfo loadError(const std::string &path) {
  sparq_model_t *model = nullptr;
  StatusInfo info = take(sparq_model_load(path.c_str(), &model));
  EXPECT_FALSE(info.ok) << path;
  EXPECT_EQ(model, nullptr);
  sparq_model_destroy(model);
  return info;
}

std::string prefixOf(const std::string &path) { return "cannot load artifact '" + path + "': "; }

bool startsWith(const std::string &text, const std::string &prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(ArtifactLoad, TruncatedAnywhereIsACleanError) {
  ElfImage image = fakeAdd();
  size_t size = image.bytes.size();
  std::set<size_t> cuts;
  for (size_t i = 0; i < 64; ++i)
    cuts.insert(size * i / 64);
  for (size_t i = 0; i < image.numSegments(); ++i) {
    const Phdr &segment = image.segment(i);
    if (segment.p_type != PT_LOAD)
      continue;
    for (uint64_t edge : {segment.p_offset, segment.p_offset + segment.p_filesz})
      for (uint64_t cut : {edge - 1, edge, edge + 1})
        if (edge > 0 && cut < size)
          cuts.insert(size_t(cut));
  }
  EXPECT_GT(cuts.size(), 64u);
  TempDir dir;
  for (size_t cut : cuts) {
    std::string path = dir.file("cut-" + std::to_string(cut) + ".so");
    writeBytes(path, Bytes(image.bytes.begin(), image.bytes.begin() + long(cut)));
    StatusInfo info = loadError(path);
    EXPECT_EQ(info.code, SPARQ_STATUS_DATA_LOSS) << info.message;
    EXPECT_TRUE(startsWith(info.message, prefixOf(path))) << info.message;
    EXPECT_TRUE(contains(info.message, cut == 0 ? "the file is empty" : "the file is truncated: "))
        << info.message;
    EXPECT_EQ(info.message.find('\n'), std::string::npos) << info.message;
  }
}

TEST(ArtifactLoad, TruncatedSegmentIsNamed) {
  // Without section headers, only the segments say how long the file must be.
  ElfImage image = fakeAdd();
  image.header().e_shoff = 0;
  image.header().e_shnum = 0;
  image.header().e_shstrndx = 0;
  uint64_t loadEnd = 0;
  size_t lastLoad = 0;
  for (size_t i = 0; i < image.numSegments(); ++i) {
    const Phdr &segment = image.segment(i);
    if (segment.p_type == PT_LOAD && segment.p_offset + segment.p_filesz > loadEnd) {
      loadEnd = segment.p_offset + segment.p_filesz;
      lastLoad = i;
    }
  }
  TempDir dir;
  // Cut in the middle of the last loadable segment: it is the one named.
  const Phdr &last = image.segment(lastLoad);
  size_t cut = size_t(last.p_offset + last.p_filesz / 2);
  std::string path = dir.file("mid.so");
  writeBytes(path, Bytes(image.bytes.begin(), image.bytes.begin() + long(cut)));
  StatusInfo info = loadError(path);
  EXPECT_EQ(info.code, SPARQ_STATUS_DATA_LOSS);
  EXPECT_EQ(info.message, prefixOf(path) + "the file is truncated: segment " +
                              std::to_string(lastLoad) + " (PT_LOAD) needs bytes [" +
                              std::to_string(last.p_offset) + ", " +
                              std::to_string(last.p_offset + last.p_filesz) +
                              ") but the file has " + std::to_string(cut) + " bytes");

  // Every byte the segments hold is present: the artifact loads and runs.
  path = dir.file("whole-segments.so");
  writeBytes(path, Bytes(image.bytes.begin(), image.bytes.begin() + long(loadEnd)));
  sparq_model_t *raw = nullptr;
  SPARQ_ASSERT_OK(sparq_model_load(path.c_str(), &raw));
  ModelPtr model(raw);
  size_t inputs = 0;
  SPARQ_EXPECT_OK(sparq_model_num_inputs(raw, &inputs));
  EXPECT_EQ(inputs, 2u);
}

TEST(ArtifactLoad, FifoDoesNotBlock) {
  TempDir dir;
  std::string path = dir.file("x.so");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
  Watchdog watchdog(30);
  StatusInfo info = loadError(path);
  EXPECT_EQ(info.code, SPARQ_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(info.message, prefixOf(path) + "is not a regular file (it is a FIFO)");
}

TEST(ArtifactLoad, DirectoryTextAndEmptyFiles) {
  TempDir dir;
  std::string directory = dir.file("d.so");
  ASSERT_EQ(mkdir(directory.c_str(), 0700), 0);
  StatusInfo info = loadError(directory);
  EXPECT_EQ(info.code, SPARQ_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(info.message, prefixOf(directory) + "is a directory");

  std::string text = dir.file("text.so");
  writeBytes(text, {'h', 'e', 'l', 'l', 'o', '\n'});
  info = loadError(text);
  EXPECT_EQ(info.code, SPARQ_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(info.message, prefixOf(text) + "not an ELF file (bad magic at byte 0)");

  std::string empty = dir.file("empty.so");
  writeBytes(empty, {});
  info = loadError(empty);
  EXPECT_EQ(info.code, SPARQ_STATUS_DATA_LOSS);
  EXPECT_EQ(info.message, prefixOf(empty) + "the file is empty, not an ELF shared object");
}

/// One corruption of fake_add.so and the error it must produce.
struct Corruption {
  const char *what;
  std::function<void(ElfImage &)> corrupt;
  sparq_status_code_t code;
  const char *expected;
};

void PrintTo(const Corruption &c, std::ostream *os) { *os << c.what; }

class ArtifactCorrupt : public ::testing::TestWithParam<Corruption> {};

TEST_P(ArtifactCorrupt, IsRejected) {
  ElfImage image = fakeAdd();
  GetParam().corrupt(image);
  TempDir dir;
  std::string path = dir.file("corrupt.so");
  writeBytes(path, image.bytes);
  StatusInfo info = loadError(path);
  EXPECT_EQ(info.code, GetParam().code) << info.message;
  EXPECT_TRUE(startsWith(info.message, prefixOf(path))) << info.message;
  EXPECT_TRUE(contains(info.message, GetParam().expected)) << info.message;
}

/// An ELF machine other than this host's.
#if defined(__x86_64__)
constexpr uint16_t otherMachine = EM_AARCH64;
#else
constexpr uint16_t otherMachine = EM_X86_64;
#endif

INSTANTIATE_TEST_SUITE_P(
    Cases, ArtifactCorrupt,
    ::testing::Values(
        Corruption{"32-bit class",
                   [](ElfImage &image) { image.bytes[EI_CLASS] = ELFCLASS32; },
                   SPARQ_STATUS_FAILED_PRECONDITION,
                   "it is a 32-bit ELF file; this host loads 64-bit shared objects"},
        Corruption{"invalid class", [](ElfImage &image) { image.bytes[EI_CLASS] = 7; },
                   SPARQ_STATUS_DATA_LOSS, "corrupt ELF file: invalid ELF class 7 at byte 4"},
        Corruption{"big endian", [](ElfImage &image) { image.bytes[EI_DATA] = ELFDATA2MSB; },
                   SPARQ_STATUS_FAILED_PRECONDITION, "it is a big-endian ELF file"},
        Corruption{"other machine",
                   [](ElfImage &image) { image.header().e_machine = otherMachine; },
                   SPARQ_STATUS_FAILED_PRECONDITION, "it was built for ELF machine "},
        Corruption{"executable", [](ElfImage &image) { image.header().e_type = ET_EXEC; },
                   SPARQ_STATUS_INVALID_ARGUMENT,
                   "it is an ELF executable (e_type 2), not a shared object"},
        Corruption{"program header size",
                   [](ElfImage &image) { image.header().e_phentsize = 12; },
                   SPARQ_STATUS_DATA_LOSS, "program header entry size 12, expected 56"},
        Corruption{"program headers past the end",
                   [](ElfImage &image) { image.header().e_phoff = image.bytes.size() - 8; },
                   SPARQ_STATUS_DATA_LOSS,
                   "the file is truncated: the program header table needs bytes ["},
        Corruption{"no loadable segment",
                   [](ElfImage &image) {
                     for (size_t i = 0; i < image.numSegments(); ++i)
                       if (image.segment(i).p_type == PT_LOAD)
                         image.segment(i).p_type = PT_NULL;
                   },
                   SPARQ_STATUS_DATA_LOSS, "no loadable (PT_LOAD) segment"},
        Corruption{"segment offset past 2^64",
                   [](ElfImage &image) { image.firstSegment(PT_LOAD).p_offset = ~uint64_t(0); },
                   SPARQ_STATUS_DATA_LOSS,
                   "segment 0 (PT_LOAD) needs bytes [18446744073709551615, "
                   "18446744073709551615 + "},
        Corruption{"file size beyond memory size",
                   [](ElfImage &image) {
                     Phdr &load = image.firstSegment(PT_LOAD);
                     load.p_memsz = load.p_filesz - 1;
                   },
                   SPARQ_STATUS_DATA_LOSS, "bytes in the file but only"},
        Corruption{"dynamic segment moved out of the image",
                   [](ElfImage &image) { image.firstSegment(PT_DYNAMIC).p_vaddr += 0x100000; },
                   SPARQ_STATUS_DATA_LOSS, "is not mapped from the file by a loadable segment"},
        Corruption{"no DT_NULL",
                   [](ElfImage &image) {
                     size_t count = 0;
                     Dyn *entries = image.dynamic(count);
                     for (size_t i = 0; i < count; ++i)
                       if (entries[i].d_tag == DT_NULL)
                         entries[i].d_tag = DT_DEBUG;
                   },
                   SPARQ_STATUS_DATA_LOSS, "the dynamic table has no DT_NULL entry"},
        Corruption{"wild string table",
                   [](ElfImage &image) { image.dynamicEntry(DT_STRTAB).d_un.d_ptr = 1ull << 40; },
                   SPARQ_STATUS_DATA_LOSS,
                   "DT_STRTAB = 0x10000000000 points outside the loadable segments"},
        Corruption{"relocations past the image",
                   [](ElfImage &image) { image.dynamicEntry(DT_RELASZ).d_un.d_val = 1 << 30; },
                   SPARQ_STATUS_DATA_LOSS, "extends outside the loadable segments"},
        Corruption{"relocation entry size",
                   [](ElfImage &image) { image.dynamicEntry(DT_RELAENT).d_un.d_val = 7; },
                   SPARQ_STATUS_DATA_LOSS, "DT_RELAENT is 7, expected 24"},
        Corruption{"no PLT relocation size",
                   [](ElfImage &image) { image.dynamicEntry(DT_PLTRELSZ).d_tag = DT_DEBUG; },
                   SPARQ_STATUS_DATA_LOSS, "the dynamic table has DT_JMPREL but no DT_PLTRELSZ"},
        Corruption{"PLT relocation kind",
                   [](ElfImage &image) { image.dynamicEntry(DT_PLTREL).d_un.d_val = 99; },
                   SPARQ_STATUS_DATA_LOSS, "DT_PLTREL is 99"},
        Corruption{"needed library past the string table",
                   [](ElfImage &image) { image.dynamicEntry(DT_NEEDED).d_un.d_val = 1 << 20; },
                   SPARQ_STATUS_DATA_LOSS, "DT_NEEDED = 1048576 is past the end of the"},
        Corruption{"section header table past the end",
                   [](ElfImage &image) { image.header().e_shoff = image.bytes.size(); },
                   SPARQ_STATUS_DATA_LOSS,
                   "the file is truncated: the section header table needs bytes ["},
        Corruption{"section past the end",
                   [](ElfImage &image) {
                     Shdr *sections =
                         reinterpret_cast<Shdr *>(image.bytes.data() + image.header().e_shoff);
                     sections[1].sh_offset = image.bytes.size();
                   },
                   SPARQ_STATUS_DATA_LOSS, "the file is truncated: section 1 needs bytes ["}),
    CaseName());

TEST(ArtifactLoad, DataSymbolsAreRefused) {
  StatusInfo info = loadError(SPARQ_RT_FAKE_DATASIG);
  EXPECT_EQ(info.code, SPARQ_STATUS_INTERNAL);
  EXPECT_EQ(info.message, std::string("artifact '") + SPARQ_RT_FAKE_DATASIG +
                              "': sparq_model_signature_v1 is a data object (STT_OBJECT), not a "
                              "function");
  info = loadError(SPARQ_RT_FAKE_DATACPU);
  EXPECT_EQ(info.code, SPARQ_STATUS_INTERNAL);
  EXPECT_EQ(info.message, std::string("artifact '") + SPARQ_RT_FAKE_DATACPU +
                              "': sparq_model_cpu_v1 is a data object (STT_OBJECT), not a "
                              "function");
}

int collectLibrary(struct dl_phdr_info *info, size_t, void *data) {
  if (info->dlpi_name && info->dlpi_name[0] == '/')
    static_cast<std::vector<std::string> *>(data)->push_back(info->dlpi_name);
  return 0;
}

TEST(ArtifactCheck, AcceptsWellFormedSharedObjects) {
  std::vector<std::string> paths = {SPARQ_RT_FAKE_ADD, SPARQ_RT_FAKE_DYN,
                                    SPARQ_RT_FAKE_STRIDED};
  dl_iterate_phdr(collectLibrary, &paths);
  size_t checked = 0;
  for (const std::string &path : paths) {
    struct stat info;
    if (stat(path.c_str(), &info) != 0)
      continue;
    StatusInfo result = take(sparq::runtime::checkArtifactFile(path.c_str(), path));
    EXPECT_TRUE(result.ok) << result.message;
    ++checked;
  }
  EXPECT_GE(checked, 5u); // the fakes, libc, libm, libstdc++ ...
}

} // namespace
