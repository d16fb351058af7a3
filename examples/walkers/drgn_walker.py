#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""drgn_walker.py: drgn (Debian's python3-drgn 0.0.22) as a walker for `ptlab check --exec`.

drgn translates kernel virtual addresses itself, from the page table that the dump's VMCOREINFO
names (SYMBOL(swapper_pg_dir), 4- or 5-level by NUMBER(pgtable_l5_enabled)); it has no call that
returns a physical address. So this walker answers each probe with the 8 bytes drgn reads at the
VA (`Program.read`), and ptlab compares them with the dump's bytes at the PA it expects (the
kit's dumps tag every word outside the page tables with its own address, so the bytes name the
PA drgn used). A `drgn.FaultError` is a fault answer.

The protocol is the kit's JSON lines (docs/conformance.md, "exec walkers"):
  {"op":"open","dump":PATH,"format":"elf","paging":"ia32e4",...} -> {"ok":true} or unsupported
  {"op":"translate","vas":["0x...",...],...}                     -> {"results":[{"data":"..."}|{"fault":true}]}
  {"op":"close"}                                                  -> {"ok":true}

What drgn 0.0.22 does with such a core (measured; docs/conformance.md has the details):
  - it opens only ELF cores with a VMCOREINFO note, and x86-64 ones only (4- and 5-level);
  - it reads the top-level table through a virtual address, SYMBOL(swapper_pg_dir), so the core
    needs a PT_LOAD whose p_vaddr is that VA (kdump's /proc/vmcore has one; ptlab writes one);
  - every PT_LOAD is also mapped at its p_vaddr, p_vaddr 0 included: in a core in QEMU's layout
    (physical segments with p_vaddr 0) the VAs below the end of the segments read physical
    memory directly, without a walk;
  - it ignores CR3 and takes the table from VMCOREINFO, so this walker declines a case whose CR3
    names another table than that segment.

Run it with Debian's /usr/bin/python3 (drgn lives in its dist-packages):
  ptlab check --exec '/usr/bin/python3 examples/walkers/drgn_walker.py' --tags 'ia32e4*'
"""
import json
import struct
import sys

try:
    import drgn
except ImportError as e:  # not a protocol answer: the kit reports the walker's stderr
    sys.exit(f"drgn_walker: cannot import drgn ({e}); run it with /usr/bin/python3")

PT_LOAD = 1


def number(value):
    """A protocol integer: a hex string ("0x...") or a JSON number."""
    return int(value, 0) if isinstance(value, str) else int(value)


def virtual_segments(path):
    """(p_vaddr, p_paddr) of every PT_LOAD of an ELF64 core with a nonzero p_vaddr."""
    with open(path, "rb") as f:
        ident = f.read(64)
        if len(ident) < 64 or ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
            return None
        phoff, = struct.unpack_from("<Q", ident, 32)
        phentsize, phnum = struct.unpack_from("<HH", ident, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        if (i + 1) * phentsize > len(table):
            break
        p_type, _, _, p_vaddr, p_paddr = struct.unpack_from("<IIQQQ", table, i * phentsize)
        if p_type == PT_LOAD and p_vaddr:
            segs.append((p_vaddr, p_paddr))
    return segs


class Walker:
    def __init__(self):
        self.prog = None

    def open(self, req):
        self.prog = None
        paging = req.get("paging")
        if paging not in ("ia32e4", "ia32e5"):
            return {"ok": False, "unsupported": f"drgn translates x86-64 kernel addresses only, not {paging}"}
        if req.get("format") != "elf":
            return {"ok": False, "unsupported": f"drgn 0.0.22 reads ELF cores, not {req.get('format')}"}
        dump = req["dump"]
        segs = virtual_segments(dump)
        if segs is None:
            return {"ok": False, "unsupported": "not an ELF64 little-endian core"}
        # drgn walks the table VMCOREINFO names, read through the core's virtual root segment;
        # CR3 (PCID/PWT/PCD bits 11:0 and the SME C-bit aside) must name the same table.
        cr3 = number(req.get("cr3", 0)) & 0x000FFFFFFFFFF000
        cbit = number(req.get("cbit", 0))
        if cbit:
            cr3 &= ~(1 << cbit)
        if not any(paddr == cr3 for _, paddr in segs):
            return {"ok": False, "unsupported": "no virtual PT_LOAD for CR3's table: drgn would walk another table"}
        prog = drgn.Program()
        try:
            prog.set_core_dump(dump)
        except (ValueError, OSError, drgn.FaultError, drgn.MissingDebugInfoError) as e:
            return {"ok": False, "unsupported": f"drgn: {e}"}
        self.prog = prog
        return {"ok": True}

    def translate(self, req):
        if self.prog is None:
            return {"error": "translate before a successful open"}
        results = []
        for va in req.get("vas", []):
            try:
                data = self.prog.read(number(va), 8)
                results.append({"data": data.hex()})
            except drgn.FaultError:
                results.append({"fault": True})
        return {"results": results}

    def close(self, _req):
        self.prog = None
        return {"ok": True}


def main():
    walker = Walker()
    ops = {"open": walker.open, "translate": walker.translate, "close": walker.close}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        op = ops.get(req.get("op"))
        reply = op(req) if op else {"error": f"unknown op {req.get('op')!r}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
