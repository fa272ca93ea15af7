#!/usr/bin/env python3
"""Prints the size in bytes of a section (default .rodata, where an artifact keeps its weights)
of each ELF64 file given, one per line: `FILE SIZE`. Reads the section headers directly (no
binutils needed).

Usage: elf_section_size.py [--section NAME] FILE...
"""
import struct
import sys


def section_size(path, name):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise SystemExit(f"{path}: not an ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [data[shoff + i * shentsize: shoff + (i + 1) * shentsize] for i in range(shnum)]
    stroff, = struct.unpack_from("<Q", headers[shstrndx], 0x18)
    for h in headers:
        noff, = struct.unpack_from("<I", h, 0)
        end = data.index(b"\0", stroff + noff)
        if data[stroff + noff:end].decode() == name:
            return struct.unpack_from("<Q", h, 0x20)[0]
    return 0


def main():
    args = sys.argv[1:]
    name = ".rodata"
    if args[:1] == ["--section"]:
        name, args = args[1], args[2:]
    for path in args:
        print(path, section_size(path, name))


if __name__ == "__main__":
    main()
