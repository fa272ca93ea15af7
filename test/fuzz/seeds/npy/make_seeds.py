#!/usr/bin/env python3
"""Writes the .npy seeds of sparq-fuzz-npy into this folder (no NumPy needed): small arrays of
the dtypes, ranks and header versions the reader accepts, as NumPy writes them."""
import os
import struct


def npy(name, descr, shape, data, version=1, dict_text=None):
    if dict_text is None:
        dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
        dict_text = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    prefix = 10 if version == 1 else 12
    total = prefix + len(dict_text) + 1
    header = dict_text + " " * ((total + 63) // 64 * 64 - total) + "\n"
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, "wb") as out:
        out.write(b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin-1") + data)


npy("f4_2x3.npy", "<f4", (2, 3), struct.pack("<6f", 0, 1, -2.5, 3, 1e-3, 7))
npy("i8_scalar.npy", "<i8", (), struct.pack("<q", -42))
npy("b1_vector.npy", "|b1", (4,), bytes([1, 0, 0, 1]))
npy("u1_empty.npy", "|u1", (0, 5), b"")
npy("f2_v2.npy", "<f2", (3,), struct.pack("<3H", 0x3C00, 0x0000, 0xC000), version=2)
npy("i2_v3_python2.npy", "<i2", (2, 1), struct.pack("<2h", 7, -7), version=3,
    dict_text='{"shape": (2L, 1L), "fortran_order": False, "descr": "<i2"}')
npy("u4_rank4.npy", "<u4", (1, 2, 1, 2), struct.pack("<4I", 1, 2, 3, 0xFFFFFFFF))
npy("f8_vector.npy", "<f8", (2,), struct.pack("<2d", 3.5, -0.0))
npy("i1_vector.npy", "|i1", (3,), bytes([0x80, 0, 0x7F]))
npy("u8_max.npy", "<u8", (1,), struct.pack("<Q", 2**64 - 1))
