#!/usr/bin/env python3
"""check.py: ptlab against QEMU on the dumps `ci/real-kernels qemu` captured (issue 6).

  check.py --ptlab PTLAB ENTRY kpgd         find-kpgd --symbols KALLSYMS: kpgd, paging, offsets,
                                            verified, against CR3/CR4/EFER, the serial log's
                                            `Kernel Offset:` (i386: the slide EIP shows) and gva2gpa
  check.py --ptlab PTLAB ENTRY kpgd-nosym   the same without --symbols: the same expected values
  check.py --ptlab PTLAB ENTRY translate    translate on every sampled VA == QEMU's gva2gpa
                                            (a PA, or a fault where QEMU says unmapped)
  check.py --ptlab PTLAB ENTRY maps         maps --raw == info tlb, entry for entry (VA, frame,
                                            flags X G P D A C T U W)
  check.py --ptlab PTLAB ENTRY kdump-FMT    the kdump-compressed copy ENTRY.kdump-FMT (matrix
                                            `kdump` lines; lzo/snappy/zstd written here by
                                            `ptlab convert` from the ELF core when missing): found
                                            by its magic, and find-kpgd (with and without the
                                            kallsyms map), translate of every sampled VA and maps
                                            --raw give the same answers as on the ELF core
  check.py report                           the results of the last run, one line per test

Exit: 0 every comparison holds, 1 a mismatch (printed with both answers and the entries), 77 the
tier was skipped (no network, cache cold). Results also go to DUMPS/ENTRY.result-KIND.json.
Nothing is adjusted to make the answers agree: a disagreement is a finding.
"""

import bisect
import glob
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import rk  # noqa: E402

ADDR = (1 << 52) - 1 & ~0xfff  # bits 51:12


def fail_setup(entry):
    reason = rk.skipped_reason()
    truth = rk.dump_file(entry, "truth.json")
    if reason:
        print("SKIPPED: %s (%s)" % (reason, rk.cache_dir()))
        sys.exit(rk.SKIP)
    print("no capture for %s (%s): run `ci/real-kernels qemu %s`" % (entry, truth, entry))
    sys.exit(1)


def run_ptlab(args, what):
    t = time.monotonic()
    res = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    secs = time.monotonic() - t
    err = res.stderr.decode(errors="replace").strip()
    cmd = " ".join(a if len(a) < 80 else a[:40] + "..." for a in args[:8]) + (" ..." if len(args) > 8 else "")
    print("$ %s   (exit %d, %.2f s)" % (cmd, res.returncode, secs))
    if err:
        print("  stderr: " + err.replace("\n", "\n          ")[:3000])
    if res.returncode == 2:
        print("%s: ptlab reported bad usage or unreadable input (exit 2)" % what)
        return None, res.returncode, secs
    try:
        return json.loads(res.stdout), res.returncode, secs
    except ValueError as e:
        print("%s: ptlab's --json output does not parse: %s: %r" % (what, e, res.stdout[:300]))
        return None, res.returncode, secs


def h(v):
    return "null" if v is None else v if isinstance(v, str) else "0x%x" % v


def norm(v):
    """A JSON hex string (or null) as an int (or None)."""
    return None if v is None else int(v, 16)


# ---- find-kpgd ------------------------------------------------------------------------------------

def check_kpgd(ptlab, entry, truth, kernel, symbols):
    args = [ptlab, "find-kpgd", rk.dump_file(entry, "core"), "--json", "--no-progress"]
    if symbols:
        args[3:3] = ["--symbols", os.path.join(kernel["dir"], "kallsyms")]
    out, code, secs = run_ptlab(args, "find-kpgd")
    expect = [("kpgd", norm(truth["kpgd"]), "CR3 (= __pa(%s))" % truth["kpgd_symbol"]["name"]),
              ("paging", truth["paging"], "CR0/CR4/EFER: CR4 0x%x, EFER.LMA %d" % (
                  norm(truth["regs"]["CR4"]), norm(truth["regs"]["EFER"]) >> 10 & 1)),
              ("virt_offset", norm(truth["virt_offset"]), truth["virt_offset_source"]),
              ("phys_offset", norm(truth["phys_offset"]), "gva2gpa(_text + virt_offset) = %s" % truth["text_pa"]),
              ("verified", True, "")]
    mism = []
    print("%-12s %-20s %-20s %s" % ("field", "expected (QEMU)", "ptlab", "ground truth from"))
    for key, want, source in expect:
        if out is None:
            got = "(no output)"
        elif key in ("kpgd", "virt_offset", "phys_offset"):
            got = norm(out.get(key))
        else:
            got = out.get(key)
        ok = got == want
        if not ok:
            mism.append({"field": key, "expected": h(want) if key != "verified" else want,
                         "ptlab": h(got) if key != "verified" else got})
        print("%-12s %-20s %-20s %s%s" % (key, h(want) if key != "verified" else want,
                                          h(got) if key != "verified" else got, source,
                                          "" if ok else "   <-- MISMATCH"))
    if out is not None:
        print("method %s; cr3 %s; candidates %d" % (out.get("method"), out.get("cr3"), len(out.get("candidates") or [])))
        for line in out.get("log") or []:
            print("  log: " + line)
        if mism:
            for f in out.get("evidence") or []:
                print("  evidence: %s %s" % ("+" if f.get("ok") else "-", f.get("fact")))
    if code != 0:
        mism.append({"field": "exit", "expected": 0, "ptlab": code})
    return {"compared": len(expect), "mismatches": mism, "ptlab_seconds": round(secs, 2),
            "method": out.get("method") if out else None}


# ---- translate ------------------------------------------------------------------------------------

def tlb_index(entry):
    with open(rk.dump_file(entry, "tlb")) as f:
        return sorted(rk.parse_tlb(f.read()))


def tlb_near(tlb, va):
    i = bisect.bisect_right(tlb, (va, 1 << 64, "~")) - 1
    return "%016x: %016x %s" % tlb[i] if i >= 0 else "(none below)"


def mismatch_kind(m):
    """One line that groups translate mismatches of the same cause."""
    p = m["ptlab"]
    f = p.get("fault")
    if m["qemu_gva2gpa"] == "unmapped":
        return "QEMU: unmapped; ptlab: %s" % ("pa " + str(p.get("pa")) if p.get("pa") else p.get("error"))
    if f and f.get("at_cr3_load"):
        return "QEMU: mapped; ptlab: #GP at CR3 load (%s: entry 0x%x = %s)" % (
            f.get("reason"), int(f["entry_pa"], 16), f["entry"])
    if f:
        return "QEMU: mapped; ptlab: vector %d error code 0x%x at level %s" % (f["vector"], f["error_code"], f["level"])
    if p.get("error"):
        return "QEMU: mapped; ptlab: %s" % json.dumps(p["error"])
    return "QEMU and ptlab give different PAs"


def check_translate(ptlab, entry, truth):
    samples = []
    with open(rk.dump_file(entry, "samples")) as f:
        for line in f:
            va, cls, ans = line.split()
            samples.append((int(va, 16), cls, None if ans == "unmapped" else int(ans, 16)))
    args = [ptlab, "translate", rk.dump_file(entry, "core")] + ["0x%x" % va for va, _, _ in samples] + ["--json"]
    out, code, secs = run_ptlab(args, "translate")
    results = (out or {}).get("results") or []
    per_class = {}
    mism = []
    if out is not None and (out.get("context") or {}).get("mode") != truth["paging"]:
        mism.append({"what": "paging mode of the dump's context", "expected": truth["paging"],
                     "ptlab": (out.get("context") or {}).get("mode")})
    if len(results) != len(samples):
        mism.append({"what": "result count", "expected": len(samples), "ptlab": len(results)})
    tlb = tlb_index(entry)
    for i, (va, cls, qpa) in enumerate(samples):
        c = per_class.setdefault(cls, [0, 0])
        c[0] += 1
        r = results[i] if i < len(results) else {}
        if norm(r.get("va")) != va:
            ok = False
        elif qpa is None:
            ok = r.get("fault") is not None and r.get("pa") is None and r.get("error") is None
        else:
            ok = r.get("fault") is None and r.get("error") is None and norm(r.get("pa")) == qpa
        if not ok:
            c[1] += 1
            mism.append({"va": h(va), "class": cls, "qemu_gva2gpa": "unmapped" if qpa is None else h(qpa),
                         "ptlab": {k: r.get(k) for k in ("pa", "page_size", "level", "fault", "error")},
                         "ptlab_entries": r.get("entries"), "qemu_tlb_at_or_below": tlb_near(tlb, va)})
    kinds = {}
    for m in mism:
        if "va" in m:
            kinds[mismatch_kind(m)] = kinds.get(mismatch_kind(m), 0) + 1
    for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print("%5d x %s" % (n, k))
    print("%-16s %8s %10s" % ("class", "VAs", "mismatch"))
    for cls in sorted(per_class):
        print("%-16s %8d %10d" % (cls, per_class[cls][0], per_class[cls][1]))
    print("%-16s %8d %10d" % ("all", len(samples), sum(c[1] for c in per_class.values())))
    mapped = sum(1 for s in samples if s[2] is not None)
    if len(samples) < 1000:
        mism.append({"what": "fewer than 1000 VAs sampled", "expected": ">= 1000", "ptlab": len(samples)})
    return {"compared": len(samples), "mapped": mapped, "unmapped": len(samples) - mapped,
            "per_class": {k: {"vas": v[0], "mismatches": v[1]} for k, v in per_class.items()},
            "mismatches": mism, "ptlab_seconds": round(secs, 2)}


# ---- maps --raw vs info tlb -----------------------------------------------------------------------

FLAG_BITS = [("X", 63), ("G", 8), ("P", 7), ("D", 6), ("A", 5), ("C", 4), ("T", 3), ("U", 2), ("W", 1)]


def flags_of(entry_value):
    """QEMU's `info tlb` letters for a leaf entry: X=XD(63) G(8) P=PS/PAT(7) D(6) A(5) C=PCD(4)
    T=PWT(3) U(2) W(1), '-' when clear."""
    return "".join(c if entry_value >> b & 1 else "-" for c, b in FLAG_BITS)


def check_maps(ptlab, entry, truth):
    tlb = tlb_index(entry)
    out, code, secs = run_ptlab([ptlab, "maps", rk.dump_file(entry, "core"), "--raw", "--json"], "maps")
    mism = []
    if out is None:
        return {"compared": 0, "qemu_entries": len(tlb), "mismatches": [{"what": "no output"}],
                "ptlab_seconds": round(secs, 2)}
    if out.get("fault"):
        mism.append({"what": "ptlab could not load CR3", "fault": out["fault"]})
    for key in ("unreadable", "reserved", "aliases"):
        if out.get(key):
            print("ptlab lists %d %s item(s), first: %s" % (len(out[key]), key, json.dumps(out[key][0])))
    ours = {}
    for r in out.get("ranges") or []:
        va = norm(r["va"])
        if va in ours:
            mism.append({"what": "ptlab lists a VA twice", "va": r["va"]})
        ours[va] = r
    theirs = {va: (pa, fl) for va, pa, fl in tlb}
    only_q = sorted(set(theirs) - set(ours))
    only_p = sorted(set(ours) - set(theirs))
    for va in only_q[:20]:
        mism.append({"what": "only in info tlb", "va": h(va), "qemu": "%016x %s" % theirs[va]})
    for va in only_p[:20]:
        mism.append({"what": "only in ptlab maps --raw", "va": h(va), "ptlab": ours[va]})
    compared = 0
    bad = 0
    sizes = {}
    for va in sorted(set(ours) & set(theirs)):
        r = ours[va]
        qpa, qfl = theirs[va]
        size = r["page_size"]
        ent = norm(r["entry"])
        pfl = flags_of(ent)
        # QEMU prints the entry masked by ~0xfff (PAE keeps bit 63 in that column) or by the frame
        # mask of the level: bits 51:12 and the page alignment give the frame.
        qframe = qpa & ADDR & ~(size - 1)
        compared += 1
        sizes[size] = sizes.get(size, 0) + 1
        if qframe != norm(r["pa"]) or qfl != pfl:
            bad += 1
            if bad <= 20:
                mism.append({"va": h(va), "qemu": "%016x %s" % (qpa, qfl),
                             "ptlab": "pa %s size %d level %s entry %s@%s -> %s" % (
                                 r["pa"], size, r.get("level"), r["entry"], r.get("entry_pa"), pfl)})
    # leaves must not overlap (a large page is one line in both listings)
    prev_end = 0
    for va in sorted(ours):
        if va < prev_end:
            mism.append({"what": "ptlab leaves overlap", "va": h(va)})
            break
        prev_end = va + ours[va]["page_size"]
    print("info tlb: %d entries; ptlab maps --raw: %d leaves; %d compared (page sizes %s); "
          "%d only in QEMU, %d only in ptlab, %d differ in frame or flags"
          % (len(tlb), len(ours), compared, ", ".join("%dK: %d" % (s >> 10, n) for s, n in sorted(sizes.items())),
             len(only_q), len(only_p), bad))
    if code != 0:
        mism.append({"what": "exit", "expected": 0, "ptlab": code})
    return {"compared": compared, "qemu_entries": len(tlb), "ptlab_leaves": len(ours),
            "only_qemu": len(only_q), "only_ptlab": len(only_p), "differ": bad,
            "page_sizes": {str(s): n for s, n in sizes.items()},
            "mismatches": mism, "ptlab_seconds": round(secs, 2)}


# ---- kdump-compressed copies ----------------------------------------------------------------------

KPGD_KEYS = ("kpgd", "paging", "virt_offset", "phys_offset", "phys_base", "direct_map", "user_pgd",
             "method", "verified", "cr3", "evidence")


def kdump_file(ptlab, entry, fmt):
    """ENTRY.kdump-FMT: QEMU's (made at capture) or written here from the ELF core when missing or
    older than it. Returns (path, how it was made, mismatches)."""
    core = rk.dump_file(entry, "core")
    path = rk.dump_file(entry, "kdump-" + fmt)
    if fmt in rk.KDUMP_FROM_QEMU:
        if not os.path.exists(path):
            return path, None, [{"what": "%s is missing: run `ci/real-kernels qemu %s`" % (path, entry)}]
        if os.path.getmtime(path) < os.path.getmtime(core):
            return path, None, [{"what": "%s is older than %s (another boot's): run `ci/real-kernels qemu %s`"
                                 % (path, core, entry)}]
        return path, "QEMU dump-guest-memory format kdump-%s, makedumpfile -R" % fmt, []
    if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(core):
        out, code, secs = run_ptlab([ptlab, "convert", core, "--to", "kdump-" + fmt, path + ".tmp",
                                     "--json", "--no-progress"], "convert")
        if out is None or code != 0:
            return path, None, [{"what": "ptlab convert --to kdump-%s failed (exit %d)" % (fmt, code)}]
        os.replace(path + ".tmp", path)
        print("wrote %s: %d pages (%d compressed, %d stored, %d zero), %d bytes in %.2f s"
              % (path, out["pages"], out["compressed"], out["stored"], out["zero"], out["file_bytes"], secs))
    return path, "ptlab convert --to kdump-%s (from the ELF core)" % fmt, []


def same_answers(what, core_out, kd_out, mism):
    """Append a mismatch unless both outputs exist and are equal; returns the number compared."""
    if core_out is None or kd_out is None:
        mism.append({"what": what, "core": core_out is not None, "kdump": kd_out is not None})
        return 0
    if core_out != kd_out:
        diff = [k for k in sorted(set(core_out) | set(kd_out)) if core_out.get(k) != kd_out.get(k)]
        mism.append({"what": what + " differs", "keys": diff,
                     "core": {k: core_out.get(k) for k in diff[:3]},
                     "kdump": {k: kd_out.get(k) for k in diff[:3]}})
    return 1


def kpgd_answers(out):
    return None if out is None else {k: out.get(k) for k in KPGD_KEYS}


def listing(out, keys):
    return None if out is None else {k: out.get(k) for k in keys}


def check_kdump(ptlab, entry, truth, kernel, fmt):
    path, made_by, mism = kdump_file(ptlab, entry, fmt)
    if mism:
        return {"compared": 0, "mismatches": mism, "ptlab_seconds": 0}
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic != b"KDUMP   ":
        mism.append({"what": "magic", "expected": "KDUMP   ", "found": magic.decode(errors="replace")})
    print("%s: %s, %d bytes, magic %r" % (path, made_by, os.path.getsize(path), magic))
    core = rk.dump_file(entry, "core")
    kall = os.path.join(kernel["dir"], "kallsyms")
    secs = {}
    compared = 0

    def both(what, args, pick):
        out = []
        for label, dump in (("core", core), ("kdump", path)):
            res, code, t = run_ptlab([ptlab] + [dump if a == "DUMP" else a for a in args], what)
            secs.setdefault(what, {})[label] = round(t, 2)
            out.append(pick(res) if code in (0, 1) else None)
        return out

    c, k = both("find-kpgd", ["find-kpgd", "DUMP", "--symbols", kall, "--json", "--no-progress"], kpgd_answers)
    compared += same_answers("find-kpgd --symbols", c, k, mism)
    if k is not None and (norm(k["kpgd"]) != norm(truth["kpgd"]) or k["paging"] != truth["paging"]):
        mism.append({"what": "find-kpgd on the kdump file vs QEMU", "expected": [truth["kpgd"], truth["paging"]],
                     "kdump": [k["kpgd"], k["paging"]]})
    c, k = both("find-kpgd-nosym", ["find-kpgd", "DUMP", "--json", "--no-progress"], kpgd_answers)
    compared += same_answers("find-kpgd (no symbols)", c, k, mism)
    vas = []
    with open(rk.dump_file(entry, "samples")) as f:
        vas = ["0x%x" % int(line.split()[0], 16) for line in f]
    c, k = both("translate", ["translate", "DUMP"] + vas + ["--json"], lambda o: listing(o, ("results",)))
    compared += same_answers("translate of %d sampled VAs" % len(vas), c, k, mism)
    if c is not None and len(c["results"]) != len(vas):
        mism.append({"what": "translate result count", "expected": len(vas), "core": len(c["results"])})
    keys = ("ranges", "unreadable", "reserved", "aliases", "stats", "fault")
    c, k = both("maps", ["maps", "DUMP", "--raw", "--json"], lambda o: listing(o, keys))
    compared += same_answers("maps --raw", c, k, mism)
    leaves = len(c["ranges"]) if c else 0
    print("%s: find-kpgd (2 ways), translate of %d VAs, maps --raw (%d leaves): %s"
          % (path, len(vas), leaves, "same answers as the ELF core" if not mism else "%d MISMATCH(ES)" % len(mism)))
    return {"compared": compared, "vas": len(vas), "leaves": leaves, "made_by": made_by,
            "kdump_bytes": os.path.getsize(path), "mismatches": mism, "seconds": secs,
            "ptlab_seconds": round(sum(v.get("kdump", 0) for v in secs.values()), 2)}


# ---- main -----------------------------------------------------------------------------------------

def report():
    rows = []
    for path in sorted(glob.glob(os.path.join(rk.dumps_dir(), "*.result-*.json"))):
        r = rk.load_json(path)
        rows.append(r)
    if not rows:
        print("no results in %s" % rk.dumps_dir())
        return
    print("%-18s %-11s %-5s %s" % ("entry", "test", "ok", "details"))
    for r in rows:
        if r["kind"] == "translate":
            d = "%d VAs (%d mapped, %d unmapped), %d mismatches" % (
                r["compared"], r["mapped"], r["unmapped"], len(r["mismatches"]))
        elif r["kind"] == "maps":
            d = "%d tlb entries, %d compared, %d only QEMU, %d only ptlab, %d differ" % (
                r["qemu_entries"], r["compared"], r["only_qemu"], r["only_ptlab"], r["differ"])
        elif r["kind"].startswith("kdump-"):
            d = "%d answers (find-kpgd x2, translate %d VAs, maps %d leaves) vs the ELF core, %d mismatches" % (
                r["compared"], r.get("vas", 0), r.get("leaves", 0), len(r["mismatches"]))
        else:
            d = "%s; %d mismatches%s" % (r.get("method"), len(r["mismatches"]),
                                         "".join(" [%s: want %s, got %s]" % (m["field"], m["expected"], m["ptlab"])
                                                 for m in r["mismatches"][:3]))
        print("%-18s %-11s %-5s %s (ptlab %.2f s)" % (r["entry"], r["kind"], "yes" if r["ok"] else "NO", d,
                                                     r.get("ptlab_seconds", 0)))


def main():
    a = sys.argv[1:]
    if a == ["report"]:
        report()
        return
    kinds = ("kpgd", "kpgd-nosym", "translate", "maps") + tuple("kdump-" + f for f in rk.KDUMP_FORMATS)
    if len(a) != 4 or a[0] != "--ptlab" or a[3] not in kinds:
        sys.exit(__doc__)
    ptlab, entry, kind = a[1], a[2], a[3]
    b, kernel = rk.boot_by_entry(entry)
    tpath = rk.dump_file(entry, "truth.json")
    if not os.path.exists(tpath) or not os.path.exists(rk.dump_file(entry, "core")):
        fail_setup(entry)
    truth = rk.load_json(tpath)
    print("%s: %s (%s) on %s -cpu %s, %s; captured with seed %d; kpgd %s, %s, virt_offset %s, phys_offset %s"
          % (entry, truth["package"], truth["append"], truth["qemu"], truth["cpu"],
             "QEMU %(major)d.%(minor)d.%(micro)d" % truth["qemu_version"], truth["seed"], truth["kpgd"],
             truth["paging"], truth["virt_offset"], truth["phys_offset"]))
    if kind == "kpgd":
        res = check_kpgd(ptlab, entry, truth, kernel, True)
    elif kind == "kpgd-nosym":
        res = check_kpgd(ptlab, entry, truth, kernel, False)
    elif kind == "translate":
        res = check_translate(ptlab, entry, truth)
    elif kind == "maps":
        res = check_maps(ptlab, entry, truth)
    else:
        res = check_kdump(ptlab, entry, truth, kernel, kind[len("kdump-"):])
    res.update({"entry": entry, "kind": kind, "ok": not res["mismatches"], "truth": tpath})
    rk.write_atomic(rk.dump_file(entry, "result-%s.json" % kind), json.dumps(res, indent=1) + "\n")
    if res["mismatches"]:
        print("\n%d MISMATCH(ES) between ptlab and %s (%s):" % (
            len(res["mismatches"]), "the ELF core" if kind.startswith("kdump-") else "QEMU", entry))
        for m in res["mismatches"][:12]:
            print("  " + json.dumps(m))
        if len(res["mismatches"]) > 12:
            print("  ... (all in %s)" % rk.dump_file(entry, "result-%s.json" % kind))
        sys.exit(1)
    print("%s %s: ok" % (entry, kind))


if __name__ == "__main__":
    main()
