"""Shared pieces of the real-kernel tier (issue 6): the matrix, the cache layout, and parsers for
what QEMU and the kernels print (kallsyms, `info registers`, `info tlb`, the serial log) and for the
vmlinux ELF program headers. Python 3 standard library only.

Cache layout (outside the source tree; nothing here is ever committed):
  $PTLAB_REAL_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/ptlab-real)
    debs/                      the downloaded .deb files
    kernels/PKG/               vmlinuz, config, vmlinux (decompressed ELF), kallsyms (nokaslr boot)
    busybox/ARCH/busybox       busybox-static for the initramfs of the kallsyms boot
    dumps/ENTRY.*              one QEMU boot per matrix entry: core (dump-guest-memory), log
                               (serial console), regs (info registers), tlb (info tlb),
                               samples (VAs with QEMU's gva2gpa answers), truth.json,
                               kdump-FORMAT (kdump-compressed copies, matrix `kdump` lines)
    SKIPPED                    present when the archive could not be reached (the reason inside)
"""

import json
import os
import re
import struct
import sys

SKIP = 77  # ctest SKIP_RETURN_CODE

HERE = os.path.dirname(os.path.abspath(__file__))
MATRIX = os.path.join(HERE, "matrix.txt")

START_KERNEL_MAP = 0xffffffff80000000  # x86-64 __START_KERNEL_map (the kernel image window)

# kdump-compressed formats of the matrix's `kdump` lines: zlib from QEMU (dump-guest-memory -z,
# then makedumpfile -R), the others from `ptlab convert` (Debian 12's QEMU has no lzo/snappy).
KDUMP_FORMATS = ("zlib", "lzo", "snappy", "zstd")
KDUMP_FROM_QEMU = ("zlib",)


def cache_dir():
    c = os.environ.get("PTLAB_REAL_CACHE")
    if c:
        return c
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ptlab-real")


def read_matrix(path=MATRIX):
    """Returns (kernels, boots): kernels[alias] = {alias, package, arch, dir};
    boots = [{entry, kernel, qemu, cpu, kaslr, kdump}] in file order (kdump: the kdump-compressed
    formats of that boot's `kdump` line, [] without one)."""
    kernels, boots, kdumps = {}, [], {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            w = line.split("#", 1)[0].split()
            if not w:
                continue
            if w[0] == "kernel" and len(w) == 4:
                kernels[w[1]] = {"alias": w[1], "package": w[2], "arch": w[3],
                                 "dir": os.path.join(cache_dir(), "kernels", w[2].split(":")[0])}
            elif w[0] == "boot" and len(w) == 6 and w[5] in ("on", "off"):
                boots.append({"entry": w[1], "kernel": w[2], "qemu": w[3], "cpu": w[4],
                              "kaslr": w[5] == "on"})
            elif w[0] == "kdump" and len(w) >= 3 and all(f in KDUMP_FORMATS for f in w[2:]):
                kdumps[w[1]] = w[2:]
            else:
                sys.exit("%s:%d: cannot parse: %s" % (path, n, line.rstrip()))
    for b in boots:
        if b["kernel"] not in kernels:
            sys.exit("%s: boot %s names unknown kernel %s" % (path, b["entry"], b["kernel"]))
        b["kdump"] = kdumps.pop(b["entry"], [])
    if kdumps:
        sys.exit("%s: kdump line for unknown boot %s" % (path, ", ".join(kdumps)))
    return kernels, boots


def boot_by_entry(entry):
    kernels, boots = read_matrix()
    for b in boots:
        if b["entry"] == entry:
            return b, kernels[b["kernel"]]
    sys.exit("unknown matrix entry %r (see %s)" % (entry, MATRIX))


def dumps_dir():
    return os.path.join(cache_dir(), "dumps")


def dump_file(entry, ext):
    return os.path.join(dumps_dir(), "%s.%s" % (entry, ext))


def skipped_reason():
    """The reason recorded by `ci/real-kernels fetch` when the archive was unreachable, or None."""
    try:
        with open(os.path.join(cache_dir(), "SKIPPED")) as f:
            return f.read().strip() or "skipped"
    except OSError:
        return None


def write_atomic(path, data):
    tmp = path + ".tmp"
    mode = "wb" if isinstance(data, (bytes, bytearray)) else "w"
    with open(tmp, mode) as f:
        f.write(data)
    os.replace(tmp, path)


# ---- kallsyms ---------------------------------------------------------------------------------

def read_kallsyms(path):
    """/proc/kallsyms text -> {name: address} (first definition wins; module symbols skipped)."""
    syms = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) != 3:  # a 4th field: a module symbol "[mod]"
                continue
            try:
                a = int(w[0], 16)
            except ValueError:
                continue
            syms.setdefault(w[2], a)
    return syms


# ---- vmlinux ELF ------------------------------------------------------------------------------

def elf_load_segments(path):
    """PT_LOAD program headers of an ELF32/ELF64 little-endian file: [(vaddr, paddr, memsz)]."""
    with open(path, "rb") as f:
        ident = f.read(64)
        if ident[:4] != b"\x7fELF" or ident[5] != 1:
            raise ValueError("%s: not a little-endian ELF file" % path)
        is64 = ident[4] == 2
        if is64:
            phoff, = struct.unpack_from("<Q", ident, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", ident, 0x36)
        else:
            phoff, = struct.unpack_from("<I", ident, 0x1c)
            phentsize, phnum = struct.unpack_from("<HH", ident, 0x2a)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        if is64:
            p_type, _fl, _off, va, pa, _fs, ms, _al = struct.unpack_from("<IIQQQQQQ", table, i * phentsize)
        else:
            p_type, _off, va, pa, _fs, ms, _fl, _al = struct.unpack_from("<IIIIIIII", table, i * phentsize)
        if p_type == 1:
            segs.append((va, pa, ms))
    return segs


def image_extent(kernel, syms):
    """Link-time [start, end) of the kernel image: _text to the end of the highest LOAD segment
    (the vmlinux program headers; the i386 kallsyms have no data symbols, hence no _end)."""
    start = syms["_text"]
    end = syms.get("_end", 0)
    for va, _pa, ms in elf_load_segments(os.path.join(kernel["dir"], "vmlinux")):
        if va >= start:  # skips x86-64's per-cpu segment at VA 0
            end = max(end, va + ms)
    return start, end


def config_value(kernel, key):
    with open(os.path.join(kernel["dir"], "config")) as f:
        for line in f:
            if line.startswith(key + "="):
                return line.split("=", 1)[1].strip()
    return None


# ---- QEMU's monitor output ----------------------------------------------------------------------

def parse_regs(text):
    """`info registers` -> {CR0, CR3, CR4, EFER, IP, SP, IDT} as ints (IP/SP: RIP/EIP, RSP/ESP)."""
    r = {}
    for key, pat in (("CR0", r"CR0=([0-9a-f]+)"), ("CR3", r"CR3=([0-9a-f]+)"),
                     ("CR4", r"CR4=([0-9a-f]+)"), ("EFER", r"EFER=([0-9a-f]+)"),
                     ("IP", r"\b[RE]IP=([0-9a-f]+)"), ("SP", r"\b[RE]SP=([0-9a-f]+)")):
        m = re.search(pat, text)
        if m:
            r[key] = int(m.group(1), 16)
    for need in ("CR0", "CR3", "CR4", "IP", "SP"):
        if need not in r:
            raise ValueError("info registers: no %s in %r" % (need, text[:200]))
    r.setdefault("EFER", 0)
    return r


def paging_mode(regs):
    """The paging mode from CR0/CR4/EFER (SDM Vol. 3A 4.1.1, Table 4-1)."""
    if not regs["CR0"] & (1 << 31):
        return "off"
    if not regs["CR4"] & (1 << 5):
        return "legacy"
    if regs["EFER"] & (1 << 10):  # LMA
        return "la57" if regs["CR4"] & (1 << 12) else "ia32e"
    return "pae"


def kpgd_from_cr3(regs, mode):
    cr3 = regs["CR3"]
    if mode == "pae":
        return cr3 & 0xffffffe0  # Table 4-7: bits 31:5
    if mode == "legacy":
        return cr3 & 0xfffff000
    return cr3 & 0x000ffffffffff000  # Table 4-12/4-13: PCID or PWT/PCD in 11:0


TLB_LINE = re.compile(r"^([0-9a-f]+): ([0-9a-f]+) ([-XGPDACTUW]{9})$")


def parse_tlb(text):
    """`info tlb` -> [(va, pa_column, flags)], one per leaf entry, as QEMU printed them."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        m = TLB_LINE.match(line)
        if not m:
            raise ValueError("info tlb line %d: unexpected %r" % (n, line))
        out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
    return out


def kernel_offset_line(log):
    """(line, offset) from the panic's `Kernel Offset:` line; offset 0 for `disabled`."""
    m = re.search(r"Kernel Offset: (0x[0-9a-f]+|disabled)[^\r\n]*", log)
    if not m:
        return None, None
    return m.group(0), 0 if m.group(1) == "disabled" else int(m.group(1), 16)


def load_json(path):
    with open(path) as f:
        return json.load(f)


def hx(v):
    return None if v is None else "0x%x" % v
