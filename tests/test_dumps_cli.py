#!/usr/bin/env python3
"""test_dumps_cli.py PTLAB WORKDIR: kdump-compressed dumps and the address-space picture on the
command line (issue 15).

  - `ptlab convert` a booted core to kdump-zlib/lzo/snappy/zstd and back to ELF: translate, maps
    and find-kpgd answer exactly as on the core (JSON compared field by field), convert's JSON;
  - bad input exits 2 with one line naming the file and offset: a truncated kdump file, a lying
    descriptor, makedumpfile's flattened stream (with the exact `makedumpfile -R` command), bad
    convert arguments; a corrupt compressed page is reported as that page unreadable (never zeros):
    translate through it says the table is not in the dump and warns with the page's offset,
    convert from it exits 2 naming it;
  - `maps --svg`: valid XML with the expected labels, rendered by rsvg-convert to a PNG that is not
    blank (decoded here with zlib: enough non-white pixels);
  - `maps` of an empty address space says so on stderr and exits 0.
Python 3 standard library only. Prints every failure and "N passed, N failed" last.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib

PTLAB, WORK = sys.argv[1], sys.argv[2]
passed, failed = 0, 0
KDUMPS = ("zlib", "lzo", "snappy", "zstd")


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s%s" % (name, (": " + detail) if detail else ""))


def run(*args):
    r = subprocess.run([PTLAB] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def run_json(*args):
    rc, out, err = run(*args, "--json")
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err


def usage_error(name, rc, out, err, *parts):
    """Exit 2, nothing on stdout, one 'ptlab: ' line on stderr holding every part."""
    lines = err.splitlines()
    ok = rc == 2 and out == "" and len(lines) == 1 and lines[0].startswith("ptlab: ") and \
        all(p in lines[0] for p in parts)
    check(name, ok, "exit %d, stdout %r, stderr %r, want %r" % (rc, out[:80], err, parts))


def strip(d):
    """A command's JSON without what names the file."""
    d = dict(d)
    for k in ("dump", "format"):
        d.pop(k, None)
    return d


def u64(b, off, n):
    return int.from_bytes(b[off:off + n], "little")


# ---- a booted dump and its conversions -----------------------------------------------------------

shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
core = os.path.join(WORK, "k.core")
smap = os.path.join(WORK, "k.map")
rc, out, err = run("boot", "linux64", "--kaslr", "7", "--out", core, "--symbols-out", smap)
check("boot", rc == 0, err)
VAS = ["0xffffffff9a800000", "0xffffffff9a801234", "0x1000", "0xffff888000000000", "0x7fff00000000"]
ref_t = run_json("translate", core, *VAS)[1]
ref_m = run_json("maps", core)[1]
ref_k = run_json("find-kpgd", core, "--symbols", smap)[1]
check("reference answers", ref_t and ref_m and ref_k and ref_k.get("verified") is True)

for c in KDUMPS:
    kd = os.path.join(WORK, "k.kdump-" + c)
    rc, j, err = run_json("convert", core, "--to", "kdump-" + c, kd)
    check("convert --to kdump-%s" % c, rc == 0 and j and j["to"] == "kdump-" + c and j["format"] == "elf"
          and j["pages"] == j["compressed"] + j["stored"] + j["zero"] and j["file_bytes"] == os.path.getsize(kd),
          "%d %s %s" % (rc, j, err))
    with open(kd, "rb") as f:
        check("kdump-%s magic" % c, f.read(8) == b"KDUMP   ")
    rc, j, _ = run_json("translate", kd, *VAS)
    check("translate on kdump-%s" % c, j is not None and strip(j) == strip(ref_t) and j["format"] == "kdump",
          "%s" % (j and j.get("results", [None])[0]))
    rc, j, _ = run_json("maps", kd)
    check("maps on kdump-%s" % c, j is not None and strip(j) == strip(ref_m))
    rc, j, _ = run_json("find-kpgd", kd, "--symbols", smap)
    check("find-kpgd on kdump-%s" % c, j is not None and
          {k: j[k] for k in ("kpgd", "paging", "virt_offset", "phys_offset", "verified", "evidence")} ==
          {k: ref_k[k] for k in ("kpgd", "paging", "virt_offset", "phys_offset", "verified", "evidence")})

back = os.path.join(WORK, "back.core")
rc, out, err = run("convert", os.path.join(WORK, "k.kdump-zstd"), "--to", "elf", back)
check("convert kdump -> elf", rc == 0 and out.startswith("converted  ") and "pages/s" in out, out + err)
rc, j, _ = run_json("translate", back, *VAS)
check("translate on the ELF made from kdump", j is not None and strip(j) == strip(ref_t))

# ---- convert's usage ------------------------------------------------------------------------------

rc, out, err = run("convert", "--help")
check("convert --help", rc == 0 and "Examples:" in out and "ptlab convert" in out)
usage_error("convert without --to", *run("convert", core, os.path.join(WORK, "x")), "--to FORMAT is required")
usage_error("convert --to gzip", *run("convert", core, "--to", "kdump-gzip", os.path.join(WORK, "x")),
            "'kdump-gzip'")
usage_error("convert one argument", *run("convert", core, "--to", "elf"), "expected DUMP and OUT")
usage_error("convert onto itself", *run("convert", core, "--to", "kdump-lzo", core), "OUT is DUMP itself")
usage_error("convert into a missing directory",
            *run("convert", core, "--to", "kdump-lzo", os.path.join(WORK, "no", "such")), "cannot create")
check("no output left behind", not os.path.exists(os.path.join(WORK, "no")))

# ---- lying kdump files ------------------------------------------------------------------------------

good = os.path.join(WORK, "k.kdump-zlib")
with open(good, "rb") as f:
    data = f.read()
sub_blocks, bitmap_blocks = u64(data, 432, 4), u64(data, 436, 4)
desc_off = (1 + sub_blocks + bitmap_blocks) * 4096
ndesc = 0
half = bitmap_blocks // 2 * 4096
for byte in data[(1 + sub_blocks) * 4096 + half:(1 + sub_blocks) * 4096 + 2 * half]:
    ndesc += bin(byte).count("1")
last_desc = desc_off + (ndesc - 1) * 24
last_data = u64(data, last_desc, 8)

cut = os.path.join(WORK, "cut.kdump")
with open(cut, "wb") as f:
    f.write(data[:len(data) - 10])
ends = [(u64(data, desc_off + i * 24, 8) + u64(data, desc_off + i * 24 + 8, 4), desc_off + i * 24)
        for i in range(ndesc)]
first_cut = min(off for end, off in ends if end > len(data) - 10)
usage_error("truncated page data", *run("translate", cut, "0x1000"), cut, "offset 0x%x:" % first_cut, "truncated")

lie = os.path.join(WORK, "lie.kdump")
with open(lie, "wb") as f:
    f.write(data[:desc_off + 12] + struct.pack("<I", 0x80) + data[desc_off + 16:])
usage_error("unknown page flags", *run("maps", lie), lie, "offset 0x%x:" % (desc_off + 12), "flags 0x80")

usage_error("bad signature after the magic check", *run("maps", lie, "--raw-dump"), "give --cr3")

flat = os.path.join(WORK, "qemu.flat")
with open(flat, "wb") as f:
    f.write(b"makedumpfile" + bytes(4) + struct.pack(">qq", 1, 1) + bytes(4064))
usage_error("flattened stream", *run("find-kpgd", flat), "offset 0x0:",
            "makedumpfile -R '%s.kdump' < '%s'" % (flat, flat))
usage_error("flattened stream (convert)", *run("convert", flat, "--to", "elf", os.path.join(WORK, "f.core")),
            "makedumpfile -R")

# a corrupt compressed page: the kernel's top-level table (CR3's page)
kpgd = int(ref_k["kpgd"], 16)
rank = 0
bm2 = (1 + sub_blocks) * 4096 + half
for pfn in range(kpgd >> 12):
    rank += data[bm2 + pfn // 8] >> (pfn % 8) & 1
d_off = desc_off + rank * 24
p_off, p_size, p_flags = u64(data, d_off, 8), u64(data, d_off + 8, 4), u64(data, d_off + 12, 4)
check("the top table is a zlib page", p_flags == 1, "flags %d" % p_flags)
bad = bytearray(data)
bad[p_off + p_size - 1] ^= 0x5a  # its Adler-32: inflate must refuse it
corrupt = os.path.join(WORK, "corrupt.kdump")
with open(corrupt, "wb") as f:
    f.write(bad)
rc, j, err = run_json("translate", corrupt, VAS[0])
res = (j or {}).get("results", [{}])[0]
check("a walk through the corrupt page", rc == 1 and res.get("pa") is None and
      (res.get("error") or {}).get("table_pa") == "0x%x" % kpgd, "%d %s %s" % (rc, res, err))
check("the corrupt page is named on stderr", ("offset 0x%x: page at PA 0x%x" % (p_off, kpgd)) in err and
      "unreadable" in err and len(err.splitlines()) == 1, err)
usage_error("convert from the corrupt dump", *run("convert", corrupt, "--to", "elf", os.path.join(WORK, "c.core")),
            corrupt, "offset 0x%x:" % p_off, "PA 0x%x" % kpgd)

# ---- the picture --------------------------------------------------------------------------------------

def png_nonwhite(path):
    """Decode an 8-bit RGB/RGBA PNG (zlib, the five row filters) and count non-white opaque pixels."""
    with open(path, "rb") as f:
        b = f.read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(b):
        n, kind = struct.unpack(">I4s", b[pos:pos + 8])
        body = b[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "depth %d colour type %d" % (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), w * bpp
    prev, count, i = bytearray(stride), 0, 0
    for _ in range(h):
        ftype, row = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            up, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                row[x] = (row[x] + a) & 255
            elif ftype == 2:
                row[x] = (row[x] + up) & 255
            elif ftype == 3:
                row[x] = (row[x] + (a + up) // 2) & 255
            elif ftype == 4:
                p = a + up - c
                pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            px = row[x:x + bpp]
            if (bpp == 3 or px[3] > 0) and min(px[:3]) < 235:
                count += 1
        prev = row
    return count, w * h


svg = os.path.join(WORK, "k.svg")
rc, out, err = run("maps", os.path.join(WORK, "k.kdump-lzo"), "--svg", svg, "--symbols", smap)
check("maps --svg", rc == 0 and out.startswith("ffffffff") and os.path.getsize(svg) > 1000, err)
try:
    root = ET.parse(svg).getroot()
    texts = " | ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for label in ("upper canonical half (kernel)", "lower canonical half (user)", "nothing mapped",
                  "kernel text", "Legend", "rwx read, write, execute", "strip: 2 MiB pages",
                  "entries with reserved bits", "regions from the kernel at kpgd 0x%x" % kpgd):
        check("svg label %r" % label, label in texts, texts[:300])
    check("svg has no external resources", b"href" not in open(svg, "rb").read())
except ET.ParseError as e:
    check("svg parses as XML", False, str(e))
png = os.path.join(WORK, "k.png")
r = subprocess.run(["rsvg-convert", svg, "-o", png], stderr=subprocess.PIPE)
check("rsvg-convert renders it", r.returncode == 0 and os.path.getsize(png) > 0, r.stderr.decode())
if r.returncode == 0:
    ink, total = png_nonwhite(png)
    check("the PNG is not blank", ink > total // 50, "%d of %d pixels drawn" % (ink, total))
usage_error("maps --svg unwritable", *run("maps", core, "--svg", os.path.join(WORK, "no", "x.svg")),
            "no/x.svg: cannot write")

# ---- an empty address space ----------------------------------------------------------------------------

empty = os.path.join(WORK, "empty.raw")
with open(empty, "wb") as f:
    f.write(bytes(8192))
rc, out, err = run("maps", empty, "--cr3", "0x1000")
check("maps of an empty space", rc == 0 and out == "" and
      err.strip() == "ptlab: %s: nothing is mapped in this address space (ia32e, CR3 0x1000)" % empty, err)
rc, j, err = run_json("maps", empty, "--cr3", "0x1000")
check("maps --json of an empty space", rc == 0 and j is not None and j["ranges"] == [] and
      "nothing is mapped" in err)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
