//===- lib/Artifact/WeightObject.cpp - weights as an object file of their own --===//
#include "lib/Artifact/WeightObject.h"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/TargetParser/Triple.h"

#include <cstring>
#include <vector>

namespace sparq {

uint16_t weightObjectMachine(llvm::StringRef tripleText) {
  llvm::Triple triple(tripleText);
  if (!triple.isOSBinFormatELF() || !triple.isLittleEndian() || !triple.isArch64Bit())
    return 0;
  switch (triple.getArch()) {
  case llvm::Triple::x86_64:
    return llvm::ELF::EM_X86_64;
  case llvm::Triple::aarch64:
    return llvm::ELF::EM_AARCH64;
  default:
    return 0;
  }
}

namespace {

/// Appends `name` and its terminator to a string table; returns its offset.
uint32_t addString(std::string &table, llvm::StringRef name) {
  uint32_t off = static_cast<uint32_t>(table.size());
  table.append(name.data(), name.size());
  table.push_back('\0');
  return off;
}

template <typename T> void writeStruct(llvm::raw_ostream &os, const T &v) {
  os.write(reinterpret_cast<const char *>(&v), sizeof v);
}

void pad(llvm::raw_ostream &os, uint64_t &offset, uint64_t align) {
  uint64_t to = llvm::alignTo(offset, align);
  os.write_zeros(to - offset);
  offset = to;
}

} // namespace

llvm::Error writeWeightObject(llvm::ArrayRef<ExternalWeight> weights, uint16_t machine,
                              llvm::raw_ostream &os) {
  using namespace llvm::ELF;
  // Layout: header, the data section, .symtab, .strtab, .shstrtab, section headers.
  enum : unsigned { kNull, kData, kSymtab, kStrtab, kShstrtab, kStack, kNumSections };
  std::string shstrtab(1, '\0'), strtab(1, '\0');
  uint32_t shName[kNumSections] = {};
  shName[kData] = addString(shstrtab, ".rodata.sparq_weights");
  shName[kSymtab] = addString(shstrtab, ".symtab");
  shName[kStrtab] = addString(shstrtab, ".strtab");
  shName[kShstrtab] = addString(shstrtab, ".shstrtab");
  shName[kStack] = addString(shstrtab, ".note.GNU-stack"); // no executable stack

  uint64_t dataAlign = 1, dataSize = 0;
  std::vector<Elf64_Sym> symbols(1); // [0] is the null symbol
  for (const ExternalWeight &w : weights) {
    if (!llvm::isPowerOf2_64(w.align))
      return llvm::createStringError("weight '" + w.symbol + "': alignment " +
                                     std::to_string(w.align) + " is not a power of two");
    dataAlign = std::max(dataAlign, w.align);
    dataSize = llvm::alignTo(dataSize, w.align);
    Elf64_Sym sym{};
    sym.st_name = addString(strtab, w.symbol);
    sym.setBindingAndType(STB_GLOBAL, STT_OBJECT);
    sym.st_other = STV_HIDDEN;
    sym.st_shndx = kData;
    sym.st_value = dataSize;
    sym.st_size = w.data.size();
    symbols.push_back(sym);
    dataSize += w.data.size();
  }

  uint64_t offset = sizeof(Elf64_Ehdr);
  const uint64_t dataOffset = llvm::alignTo(offset, dataAlign);
  const uint64_t symtabOffset = llvm::alignTo(dataOffset + dataSize, 8);
  const uint64_t symtabSize = symbols.size() * sizeof(Elf64_Sym);
  const uint64_t strtabOffset = symtabOffset + symtabSize;
  const uint64_t shstrtabOffset = strtabOffset + strtab.size();
  const uint64_t shOffset = llvm::alignTo(shstrtabOffset + shstrtab.size(), 8);

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ElfMagic, 4);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
  eh.e_type = ET_REL;
  eh.e_machine = machine;
  eh.e_version = EV_CURRENT;
  eh.e_shoff = shOffset;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = kNumSections;
  eh.e_shstrndx = kShstrtab;
  writeStruct(os, eh);

  pad(os, offset, dataAlign);
  for (const ExternalWeight &w : weights) {
    pad(os, offset, w.align);
    os.write(w.data.data(), w.data.size());
    offset += w.data.size();
  }
  pad(os, offset, 8);
  for (const Elf64_Sym &sym : symbols)
    writeStruct(os, sym);
  os << strtab << shstrtab;
  offset += symtabSize + strtab.size() + shstrtab.size();
  pad(os, offset, 8);

  Elf64_Shdr sh[kNumSections] = {};
  sh[kData] = {shName[kData], SHT_PROGBITS, SHF_ALLOC, 0, dataOffset, dataSize, 0, 0, dataAlign, 0};
  sh[kSymtab] = {shName[kSymtab], SHT_SYMTAB, 0, 0, symtabOffset, symtabSize, kStrtab,
                 /*first global*/ 1, 8, sizeof(Elf64_Sym)};
  sh[kStrtab] = {shName[kStrtab], SHT_STRTAB, 0, 0, strtabOffset, strtab.size(), 0, 0, 1, 0};
  sh[kShstrtab] = {shName[kShstrtab], SHT_STRTAB, 0, 0, shstrtabOffset, shstrtab.size(), 0, 0, 1, 0};
  sh[kStack] = {shName[kStack], SHT_PROGBITS, 0, 0, shOffset, 0, 0, 0, 1, 0};
  for (const Elf64_Shdr &s : sh)
    writeStruct(os, s);
  return llvm::Error::success();
}

} // namespace sparq
