#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/test_drgn_core.py PTLAB WORKDIR: the cores `ptlab boot` writes open in drgn.

For `ptlab boot linux64` (default, --kaslr, --la57, --la57 --kaslr): drgn (Debian's python3-drgn,
an independent reader of kdump-style cores) opens the core, reads 16 bytes at the run-time _text
and at linux_banner, and they must equal the dump's bytes at the PA `ptlab translate` gives for
that VA. The VMCOREINFO note must say what the boot did (OSRELEASE from the banner, KERNELOFFSET =
the slide, NUMBER(phys_base), NUMBER(pgtable_l5_enabled)). Without the note (--no-vmcoreinfo)
drgn refuses the core as it refuses QEMU's: the note is what makes it readable.
Exit 0 pass, 1 fail, 77 when drgn is not installed (ci/install-deps installs python3-drgn).
"""
import json
import os
import struct
import subprocess
import sys

try:
    import drgn
except ImportError:
    print("skipped: python3-drgn is not installed for /usr/bin/python3")
    sys.exit(77)

PTLAB, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
failures = 0


def check(ok, what):
    global failures
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures += 1


def ptlab(*args):
    out = subprocess.run([PTLAB, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"ptlab {' '.join(args)}: exit {out.returncode}: {out.stderr.strip()}")
    return out.stdout


def notes_and_segments(path):
    """The VMCOREINFO text and the physical PT_LOADs (p_paddr, p_offset, p_filesz) of a core."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    segs, vmcoreinfo = [], None
    for i in range(phnum):
        p_type, _, off, vaddr, paddr, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and vaddr == 0:
            segs.append((paddr, off, filesz))
        elif p_type == 4:
            pos = off
            while pos + 12 <= off + filesz:
                namesz, descsz, _ = struct.unpack_from("<III", data, pos)
                name = data[pos + 12:pos + 12 + namesz].rstrip(b"\0")
                desc = pos + 12 + (namesz + 3) // 4 * 4
                if name == b"VMCOREINFO":
                    vmcoreinfo = data[desc:desc + descsz].decode()
                pos = desc + (descsz + 3) // 4 * 4
    return vmcoreinfo, segs


def read_phys(path, segs, pa, n):
    for paddr, off, filesz in segs:
        if paddr <= pa and pa + n <= paddr + filesz:
            with open(path, "rb") as f:
                f.seek(off + pa - paddr)
                return f.read(n)
    return None


for variant in ([], ["--kaslr", "7"], ["--la57"], ["--la57", "--kaslr", "21"]):
    name = "linux64 " + " ".join(variant)
    core, smap = os.path.join(WORK, "drgn.core"), os.path.join(WORK, "drgn.map")
    boot = json.loads(ptlab("boot", "linux64", *variant, "--mem", "64M", "--out", core, "--symbols-out", smap, "--json"))
    syms = {}
    with open(smap) as f:
        for line in f:
            addr, _, sym = line.split()
            syms[sym] = int(addr, 16)
    slide = int(boot["virt_offset"], 16)
    vmcoreinfo, segs = notes_and_segments(core)
    check(vmcoreinfo is not None, f"{name}: the core has a VMCOREINFO note")
    keys = dict(line.split("=", 1) for line in (vmcoreinfo or "").splitlines())
    phys_base = int(boot["phys_offset"], 16) - slide
    check(keys.get("OSRELEASE") == "4.14.0-ptlab" and keys.get("KERNELOFFSET") == f"{slide:x}" and
          keys.get("NUMBER(phys_base)") == str(phys_base if phys_base < 1 << 63 else phys_base - (1 << 64)) and
          keys.get("NUMBER(pgtable_l5_enabled)") == ("1" if "--la57" in variant else "0") and
          keys.get("SYMBOL(swapper_pg_dir)") == f"{syms['init_top_pgt'] + slide:x}",
          f"{name}: VMCOREINFO says what the boot did: {keys}")
    prog = drgn.Program()
    prog.set_core_dump(core)
    for sym in ("_text", "linux_banner"):
        va = syms[sym] + slide
        got = prog.read(va, 16)
        tr = json.loads(ptlab("translate", "--json", core, hex(va)))["results"][0]
        want = read_phys(core, segs, int(tr["pa"], 16), 16) if tr["pa"] else None
        check(want is not None and got == want and any(got),
              f"{name}: drgn reads {sym} 0x{va:x} = {got.hex()}, the dump at ptlab's PA {tr['pa']} = "
              f"{want.hex() if want else None}")
    ptlab("boot", "linux64", *variant, "--mem", "64M", "--no-vmcoreinfo", "--out", core)
    try:
        drgn.Program().set_core_dump(core)
        check(False, f"{name} --no-vmcoreinfo: drgn opened a core without VMCOREINFO")
    except ValueError as e:
        check("vmcoreinfo" in str(e), f"{name} --no-vmcoreinfo: drgn refuses it ({e})")
    os.unlink(core)

print(f"{failures} failure(s)")
sys.exit(1 if failures else 0)
