#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An honest 4-level page-table walker speaking ptlab's exec protocol (docs/conformance.md).

The runner tests of the conformance kit use it: `ptlab check --exec 'python3 runner_honest4.py'`
must pass every 4-level tag. Standard library only: it reads the case's ELF core itself
(PT_LOAD p_paddr = physical address) and walks CR3 as the SDM (Vol. 3A 4.5) says, for pure
translation: canonical form, present bits, reserved bits (51:M, PS in a PML4E, 29:13 of a 1 GiB
page, 20:13 of a 2 MiB page, XD without EFER.NXE), page sizes. Other modes: "unsupported".

    --pa0       answer PA 0 for every address (a walker the kit must fail)
    --crash-at VA   exit with a traceback when asked for VA (hex), to test restarts
    --data      answer {"data": ...}, the 8 bytes read through the translation (as drgn's
                Program.read does), not the PA
    --data-off N    read them N bytes past the right place (a walker the kit must fail)
"""
import json
import mmap
import struct
import sys

PA0 = "--pa0" in sys.argv
DATA = "--data" in sys.argv or "--data-off" in sys.argv
DATA_OFF = int(sys.argv[sys.argv.index("--data-off") + 1]) if "--data-off" in sys.argv else 0
CRASH_AT = None
if "--crash-at" in sys.argv:
    CRASH_AT = int(sys.argv[sys.argv.index("--crash-at") + 1], 16)


class Dump:
    """Physical memory of an ELF64 core: its PT_LOAD segments by physical address."""

    def __init__(self, path):
        self.file = open(path, "rb")
        self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        if self.map[:4] != b"\x7fELF" or self.map[4] != 2:
            raise ValueError("not an ELF64 core")
        phoff, = struct.unpack_from("<Q", self.map, 32)
        phentsize, phnum = struct.unpack_from("<HH", self.map, 54)
        self.segments = []
        for i in range(phnum):
            p_type, _flags, off, _vaddr, paddr, filesz = struct.unpack_from(
                "<IIQQQQ", self.map, phoff + i * phentsize)
            if p_type == 1 and filesz:
                self.segments.append((paddr, filesz, off))

    def read(self, pa, n):
        for base, size, off in self.segments:
            if base <= pa and pa + n <= base + size:
                return self.map[off + pa - base:off + pa - base + n]
        return None

    def read64(self, pa):
        b = self.read(pa, 8)
        return None if b is None else struct.unpack("<Q", b)[0]

    def close(self):
        self.map.close()
        self.file.close()


def walk(dump, cpu, va):
    """{"pa","size"} or {"fault": True}, as 4-level paging translates va."""
    if va >= 1 << 64 or not (va < 1 << 47 or va >= (1 << 64) - (1 << 47)):
        return {"fault": True}                       # non-canonical: #GP
    m = cpu["maxphyaddr"]
    addr = ((1 << m) - 1) & ~0xfff
    high = ((1 << 52) - 1) & ~((1 << m) - 1)         # bits 51:M
    if not cpu["efer"] & (1 << 11):
        high |= 1 << 63                              # XD reserved without NXE
    table = cpu["cr3"] & addr
    for level, shift in ((4, 39), (3, 30), (2, 21), (1, 12)):
        entry = dump.read64(table + ((va >> shift) & 511) * 8)
        if entry is None:
            raise LookupError("table 0x%x not in the dump" % table)
        if not entry & 1:
            return {"fault": True}
        rsvd = high
        ps = level in (2, 3) and entry & 0x80
        if level == 4 and entry & 0x80:
            rsvd |= 0x80
        if ps:
            rsvd |= ((1 << shift) - 1) & ~0x1fff    # 29:13 or 20:13
        if entry & rsvd:
            return {"fault": True}
        if ps or level == 1:
            size = 1 << shift
            pa = (entry & addr & ~(size - 1)) | (va & (size - 1))
            return {"pa": hex(pa), "size": hex(size)}
        table = entry & addr
    raise AssertionError("unreachable")


def main():
    dump = cpu = None
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        if op == "open":
            if dump:
                dump.close()
                dump = None
            if req["paging"] != "ia32e4" or req.get("cbit"):
                reply = {"ok": False, "unsupported": "only 4-level paging without SME"}
            else:
                cpu = {k: int(req[k], 16) for k in ("cr0", "cr3", "cr4", "efer")}
                cpu["maxphyaddr"] = req["maxphyaddr"]
                dump = Dump(req["dump"])
                reply = {"ok": True, "caps": ["page-size"]}
        elif op == "translate":
            results = []
            for va in req["vas"]:
                va = int(va, 16)
                if va == CRASH_AT:
                    raise RuntimeError("asked to crash at 0x%x" % va)
                r = {"pa": "0x0"} if PA0 else walk(dump, cpu, va)
                if DATA and "pa" in r:
                    b = dump.read(int(r["pa"], 16) + DATA_OFF, 8)
                    r = {"fault": True} if b is None else {"data": b.hex()}
                results.append(r)
            reply = {"results": results}
        elif op == "close":
            if dump:
                dump.close()
                dump = None
            reply = {"ok": True}
        else:
            reply = {"error": "unknown op"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
