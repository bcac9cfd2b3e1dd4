#!/usr/bin/env python3
"""Checks a macOS binary without a Mac: Mach-O (thin or universal) of the
expected architectures, a minimum macOS version at most MAX_MINOS, and no
library but libSystem. `macho.py FILE ARCH [ARCH…]` (x86_64, arm64); exit 1
with the reason on a mismatch. Reads the load commands only (stdlib)."""
import struct, sys

MAX_MINOS = (12, 0)
CPU = {0x01000007: "x86_64", 0x0100000C: "arm64"}
LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB = 0xC, 0x80000018, 0x8000001F
LC_VERSION_MIN_MACOSX, LC_BUILD_VERSION = 0x24, 0x32
ALLOWED = ("/usr/lib/libSystem.B.dylib",)


def fail(msg):
    print(f"macho: {msg}", file=sys.stderr)
    sys.exit(1)


def version(v):
    return (v >> 16, (v >> 8) & 0xFF)


def thin(data, off, name):
    magic, cpu, _, _, ncmds, _, _ = struct.unpack_from("<IiiIIII", data, off)
    if magic != 0xFEEDFACF:
        fail(f"{name}: not a 64-bit Mach-O (magic {magic:#x})")
    arch = CPU.get(cpu & 0xFFFFFFFF, hex(cpu))
    pos, minos, libs = off + 32, None, []
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, pos)
        if cmd == LC_BUILD_VERSION:
            _, minos_raw = struct.unpack_from("<II", data, pos + 8)
            minos = version(minos_raw)
        elif cmd == LC_VERSION_MIN_MACOSX:
            minos = version(struct.unpack_from("<I", data, pos + 8)[0])
        elif cmd in (LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB):
            name_off = struct.unpack_from("<I", data, pos + 8)[0]
            raw = data[pos + name_off : pos + size]
            libs.append(raw.split(b"\0", 1)[0].decode())
        pos += size
    return arch, minos, libs


def main():
    path, want = sys.argv[1], sorted(sys.argv[2:])
    data = open(path, "rb").read()
    slices = []
    if struct.unpack_from(">I", data, 0)[0] == 0xCAFEBABE:
        (n,) = struct.unpack_from(">I", data, 4)
        for i in range(n):
            _, _, off, _, _ = struct.unpack_from(">iiIII", data, 8 + 20 * i)
            slices.append(off)
    else:
        slices.append(0)
    found = []
    for off in slices:
        arch, minos, libs = thin(data, off, path)
        if minos is None:
            fail(f"{path} ({arch}): no minimum macOS version")
        if minos > MAX_MINOS:
            fail(f"{path} ({arch}): needs macOS {minos[0]}.{minos[1]}, more than 12.0")
        extra = [l for l in libs if l not in ALLOWED]
        if extra:
            fail(f"{path} ({arch}): links {', '.join(extra)}")
        found.append(arch)
        print(f"macho: {path}: {arch}, macOS >= {minos[0]}.{minos[1]}, links {', '.join(libs)}")
    if sorted(found) != want:
        fail(f"{path}: architectures {found}, expected {want}")


main()
