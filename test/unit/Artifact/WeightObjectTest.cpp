//===- test/unit/Artifact/WeightObjectTest.cpp - the weight object writer ------===//
//
// writeWeightObject's ELF read back with LLVM's object library (an independent reader): the
// section, every symbol's name, binding, visibility, alignment and size, and the bytes at each
// symbol against the input. Linking such an object into an artifact is covered end to end by
// test/Driver/weight_object.test.
//
//===----------------------------------------------------------------------===//
#include "lib/Artifact/WeightObject.h"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

std::vector<char> pseudoRandomBytes(size_t n, uint32_t seed) {
  std::vector<char> v(n);
  uint32_t x = seed;
  for (char &c : v) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return v;
}

TEST(WeightObject, SymbolsSectionAndBytesReadBack) {
  const std::vector<char> a = pseudoRandomBytes(5000, 1), b = pseudoRandomBytes(12, 2),
                          c = pseudoRandomBytes(4096, 3);
  const std::vector<sparq::ExternalWeight> weights = {
      {"w_first", a, 64}, {"w_small", b, 16}, {"w_wide_aligned", c, 128}};
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  ASSERT_FALSE(bool(sparq::writeWeightObject(weights, llvm::ELF::EM_X86_64, os)));
  os.flush();

  auto elf = llvm::object::ELF64LEFile::create(bytes);
  ASSERT_TRUE(bool(elf)) << llvm::toString(elf.takeError());
  EXPECT_EQ(elf->getHeader().e_type, llvm::ELF::ET_REL);
  EXPECT_EQ(elf->getHeader().e_machine, llvm::ELF::EM_X86_64);

  auto sections = elf->sections();
  ASSERT_TRUE(bool(sections)) << llvm::toString(sections.takeError());
  const llvm::object::ELF64LE::Shdr *data = nullptr, *symtab = nullptr;
  bool stackNote = false;
  for (const auto &sec : *sections) {
    auto name = elf->getSectionName(sec);
    ASSERT_TRUE(bool(name)) << llvm::toString(name.takeError());
    if (*name == ".rodata.sparq_weights")
      data = &sec;
    if (sec.sh_type == llvm::ELF::SHT_SYMTAB)
      symtab = &sec;
    stackNote |= *name == ".note.GNU-stack" && !(sec.sh_flags & llvm::ELF::SHF_EXECINSTR);
  }
  ASSERT_NE(data, nullptr);
  ASSERT_NE(symtab, nullptr);
  EXPECT_TRUE(stackNote);
  EXPECT_EQ(data->sh_type, llvm::ELF::SHT_PROGBITS);
  EXPECT_EQ(data->sh_flags, uint64_t(llvm::ELF::SHF_ALLOC)); // read-only, not executable
  EXPECT_EQ(data->sh_addralign, 128u);
  auto contents = elf->getSectionContents(*data);
  ASSERT_TRUE(bool(contents)) << llvm::toString(contents.takeError());

  auto symbols = elf->symbols(symtab);
  ASSERT_TRUE(bool(symbols)) << llvm::toString(symbols.takeError());
  ASSERT_EQ(symbols->size(), weights.size() + 1); // the null symbol first
  EXPECT_EQ(symtab->sh_info, 1u);                 // every symbol after it is global
  uint64_t end = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const auto &sym = (*symbols)[i + 1];
    auto name = sym.getName(*elf->getStringTableForSymtab(*symtab));
    ASSERT_TRUE(bool(name)) << llvm::toString(name.takeError());
    EXPECT_EQ(*name, weights[i].symbol);
    EXPECT_EQ(sym.getBinding(), llvm::ELF::STB_GLOBAL);
    EXPECT_EQ(sym.getType(), llvm::ELF::STT_OBJECT);
    EXPECT_EQ(sym.getVisibility(), llvm::ELF::STV_HIDDEN);
    EXPECT_EQ(&(*sections)[sym.st_shndx], data);
    EXPECT_EQ(sym.st_value % weights[i].align, 0u) << weights[i].symbol;
    EXPECT_GE(sym.st_value, end) << "overlaps the weight before it";
    EXPECT_EQ(sym.st_size, weights[i].data.size());
    ASSERT_LE(sym.st_value + sym.st_size, contents->size());
    EXPECT_EQ(0, std::memcmp(contents->data() + sym.st_value, weights[i].data.data(),
                             weights[i].data.size()))
        << weights[i].symbol;
    end = sym.st_value + sym.st_size;
  }
}

TEST(WeightObject, RejectsAlignmentThatIsNotAPowerOfTwo) {
  const std::vector<char> a = pseudoRandomBytes(64, 4);
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  llvm::Error err = sparq::writeWeightObject({{"w", a, 48}}, llvm::ELF::EM_X86_64, os);
  ASSERT_TRUE(bool(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("not a power of two"), std::string::npos);
}

TEST(WeightObject, MachineFromTriple) {
  EXPECT_EQ(sparq::weightObjectMachine("x86_64-unknown-linux-gnu"), llvm::ELF::EM_X86_64);
  EXPECT_EQ(sparq::weightObjectMachine("aarch64-unknown-linux-gnu"), llvm::ELF::EM_AARCH64);
  EXPECT_EQ(sparq::weightObjectMachine("x86_64-apple-darwin"), 0);  // Mach-O: weights stay in IR
  EXPECT_EQ(sparq::weightObjectMachine("i686-unknown-linux-gnu"), 0); // not ELF64
}

} // namespace
