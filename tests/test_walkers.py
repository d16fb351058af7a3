#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/test_walkers.py: `ptlab check` on the example walkers, the broken walkers and two peers.

Every run uses an exported vector corpus (`ptlab vectors export`, the kit_vectors fixture), so
the cases and probes are exactly those of its manifest.json.

  test_walkers.py PTLAB CORPUS exact WALKER.so CAPS [JSON_OUT]
      the walker passes every probe its capabilities (comma-separated) cover, probe for probe as
      the manifest counts them, and every other probe is unsupported; JSON_OUT keeps the report
  test_walkers.py PTLAB CORPUS broken WALKER.so CLASS CLASSES_TXT CORRECT_JSON
      exit 1; fails on the tag of CLASS (tests/walkers/broken_classes.txt), which the correct
      walker passes; passes every tag the correct walker passes that the bug does not touch, with
      the correct walker's counts
  test_walkers.py PTLAB CORPUS bytes RUNNER_BYTES.py CLASSES_TXT WALKER_DIR
      every walker of WALKER_DIR (correct.so, broken_CLASS.so) seen through runner_bytes.py, as a
      walker that answers with the bytes it read: the correct one passes every probe, each broken
      one fails on its class's tag the probes it fails there as an adapter (those where only the
      page size is wrong aside: bytes carry none)
  test_walkers.py PTLAB CORPUS addrxlat WALKER.so
  test_walkers.py PTLAB CORPUS drgn DRGN_WALKER.py
      the peers' scorecards as docs/conformance.md records them: the tags they fail, and why
"""
import json
import os
import subprocess
import sys

PTLAB, CORPUS, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
ARGS = sys.argv[4:]
failures = 0


def check(ok, what):
    global failures
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures += 1


def run_check(walker_args, env=None):
    keep = os.path.join(os.path.dirname(os.path.abspath(CORPUS)), "walkers-keep", MODE)
    cmd = [PTLAB, "check", *walker_args, "--vectors", CORPUS, "--json", "--keep", keep]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        sys.exit(f"{' '.join(cmd)}: exit {out.returncode}, no JSON report: {out.stdout[:300]} {out.stderr[-600:]}")
    return out.returncode, report


def failed_tags(report):
    return {t for t, v in report["tags"].items() if v["failed"]}


def supported_counts(caps):
    """Per tag: (probes the capabilities cover, all probes), from the corpus manifest."""
    with open(os.path.join(CORPUS, "manifest.json")) as f:
        manifest = json.load(f)
    counts = {}
    for case in manifest["cases"]:
        case_ok = set(case["needs"]) <= caps
        for p in case["probes"]:
            sup, total = counts.get(p["tag"], (0, 0))
            counts[p["tag"]] = (sup + (case_ok and set(p["needs"]) <= caps), total + 1)
    return counts


def mode_exact(so, caps, json_out=None):
    rc, r = run_check(["--adapter", so])
    if json_out:
        with open(json_out, "w") as f:
            json.dump(r, f)
    counts = supported_counts(set(caps.split(",")))
    check(rc == 0 and r["failed"] == 0, f"{so}: exit {rc}, {r['passed']} passed, {r['failed']} failed")
    check(set(r["tags"]) == set(counts), f"{so}: the report's tags are the corpus's ({len(counts)})")
    for tag, (sup, total) in sorted(counts.items()):
        got = r["tags"].get(tag, {})
        check(got.get("passed") == sup and got.get("failed") == 0 and got.get("unsupported") == total - sup,
              f"{so}: {tag}: {got.get('passed')} passed / {got.get('unsupported')} unsupported, "
              f"want {sup} / {total - sup}")
    check(r["passed"] > 0, f"{so}: some probes are supported")


def mode_broken(so, cls, classes_txt, correct_json):
    spec = None
    with open(classes_txt) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if words and words[0] == cls:
                spec = words
    if not spec:
        sys.exit(f"{classes_txt}: no class {cls}")
    tag, touched = spec[1], set(spec[2:])
    with open(correct_json) as f:
        correct = json.load(f)
    good = {t for t, v in correct["tags"].items() if v["passed"] and not v["failed"]}
    check(tag in good, f"the correct walker passes {tag} ({correct['tags'].get(tag)})")
    rc, r = run_check(["--adapter", so])
    bad = failed_tags(r)
    check(rc == 1, f"{cls}: ptlab check exits 1 (got {rc})")
    check(tag in bad, f"{cls}: fails on {tag}: {r['tags'].get(tag, {}).get('first_failure')}")
    check(bad <= touched | {tag}, f"{cls}: fails no tag the bug does not touch (extra: {sorted(bad - touched - {tag})})")
    for t in sorted(good - touched - {tag}):
        check(r["tags"][t] == correct["tags"][t], f"{cls}: {t} as the correct walker: {r['tags'][t]['passed']} passed")


def read_classes(classes_txt):
    with open(classes_txt) as f:
        return [line.split("#", 1)[0].split() for line in f if line.split("#", 1)[0].strip()]


# Classes whose bug also gives a wrong page size for some right PAs (direct-map arithmetic
# answers no page size): as bytes, those probes pass.
SIZE_ONLY = {"direct_map_arithmetic": 8}


def mode_bytes(runner, classes_txt, walker_dir):
    def through_bytes(so, tags=None):
        return run_check(["--exec", f"{sys.executable} {runner} {so}"] + (["--tags", tags] if tags else []))

    rc, r = through_bytes(os.path.join(walker_dir, "correct.so"))
    check(rc == 0 and r["failed"] == 0 and r["passed"] > 0,
          f"the correct walker as bytes: exit {rc}, {r['passed']} passed, {r['failed']} failed")
    for spec in read_classes(classes_txt):
        cls, tag = spec[0], spec[1]
        so = os.path.join(walker_dir, f"broken_{cls}.so")
        rc_pa, pa = run_check(["--adapter", so, "--tags", tag])
        rc_b, b = through_bytes(so, tag)
        want = pa["tags"][tag]["failed"] - SIZE_ONLY.get(cls, 0)
        got = b["tags"][tag]["failed"]
        check(rc_b == 1 and got == want and want > 0,
              f"{cls} as bytes: exit {rc_b}, fails {got} of {tag} (as an adapter {pa['tags'][tag]['failed']}, "
              f"want {want}): {b['tags'][tag]['first_failure']}")


# The libaddrxlat 0.5.1 scorecard of docs/conformance.md: the tags it fails, and why.
ADDRXLAT_FAILS = {
    "pae.pdpte-from-register",   # reads the PDPTEs from memory at the root: no PDPTE registers
    "peer-bugs.pae-pdpte-reread",
    "legacy32.4k",               # honours PS in a 32-bit PDE without CR4.PSE (it has no CR4)
    "reserved-bits",             # checks no reserved bit; frames are bits 51:12 whatever M is
    "maxphyaddr",
    "peer-bugs.frame-bits-above-maxphyaddr",
    "peer-bugs.pml4e-ps-as-large",  # a PML4E with PS is followed as a table pointer
    "random.pae", "random.ia32e4", "random.ia32e5",
    "boot.linux64-kaslr", "boot.linux64-la57-kaslr", "boot.linux64-relocated",  # frames past M
}
# ... and with the root taken from CR3 as libkdumpfile 0.5.1 itself takes it.
ADDRXLAT_ROOT_FAILS = {"cr3-flags", "sme-cbit", "peer-bugs.cbit-as-address", "boot.linux64-sme"}


def mode_addrxlat(so):
    rc, r = run_check(["--adapter", so])
    bad = failed_tags(r)
    check(rc == 1 and bad == ADDRXLAT_FAILS,
          f"libaddrxlat fails exactly the documented tags (extra {sorted(bad - ADDRXLAT_FAILS)}, "
          f"missing {sorted(ADDRXLAT_FAILS - bad)})")
    for t in ("ia32e4.4k", "ia32e4.2m", "ia32e4.1g", "ia32e5", "canonical", "pae.4k", "pae.2m",
              "pae.frames-above-4g", "legacy32.pse-4m", "legacy32.pse36", "large-page-pat", "sme-cbit",
              "cr3-flags"):
        check(r["tags"][t]["passed"] > 0 and not r["tags"][t]["failed"], f"libaddrxlat passes {t}: {r['tags'][t]}")
    f = r["tags"]["legacy32.4k"]["first_failure"]
    check(f["case"] == "legacy32-no-pse" and "4M page" in f["got"], f"legacy32.4k: a 4 MiB page without CR4.PSE: {f}")
    env = dict(os.environ, PTLAB_ADDRXLAT_ROOT="libkdumpfile")
    rc, r = run_check(["--adapter", so], env)
    bad = failed_tags(r)
    check(rc == 1 and bad == ADDRXLAT_FAILS | ADDRXLAT_ROOT_FAILS,
          f"libkdumpfile's root from CR3 adds {sorted(ADDRXLAT_ROOT_FAILS)} (got extra {sorted(bad - ADDRXLAT_FAILS)})")


# The drgn 0.0.22 scorecard of docs/conformance.md.
DRGN_FAILS = {
    "canonical",       # an 8-byte read of the last 8 bytes of the address space faults
    # no reserved bit checked: bits M..51 read as address bits, PS taken at any level (a PML4E
    # with PS is a 512 GiB page), XD without NXE ignored: it reads the kit's decoys
    "reserved-bits", "maxphyaddr", "peer-bugs.frame-bits-above-maxphyaddr",
    "peer-bugs.pml4e-ps-as-large", "random.ia32e4", "random.ia32e5",
    # (and the level-2 entries head_64's fix-up pushed past MAXPHYADDR, as for libaddrxlat)
    "boot.linux64-kaslr", "boot.linux64-la57-kaslr", "boot.linux64-relocated",
    # VA 0: every PT_LOAD is also mapped at its p_vaddr, 0 in QEMU's layout, so low VAs read
    # physical memory without a walk
    "boot.linux64", "boot.linux64-la57", "boot.linux64-pti", "boot.decompressor", "boot.decompressor-la57",
}
DRGN_VA0_ONLY = {"boot.linux64", "boot.linux64-la57", "boot.linux64-pti", "boot.decompressor",
                 "boot.decompressor-la57"}


# Probes of these tags without a reserved bit (honest mappings, ignored bits, not present).
RSVD_OK = {"reserved-bits": 24, "maxphyaddr": 112, "peer-bugs.frame-bits-above-maxphyaddr": 12,
           "peer-bugs.pml4e-ps-as-large": 10}


def mode_drgn(script):
    rc, r = run_check(["--exec", f"/usr/bin/python3 {script}"])
    bad = failed_tags(r)
    ia32e4 = sum(r["tags"][t]["passed"] for t in ("ia32e4.4k", "ia32e4.2m", "ia32e4.1g"))
    check(ia32e4 >= 100 and not any(r["tags"][t]["failed"] for t in ("ia32e4.4k", "ia32e4.2m", "ia32e4.1g")),
          f"drgn passes {ia32e4} ia32e4 probes, fails none")
    check(rc == 1 and bad == DRGN_FAILS,
          f"drgn fails exactly the documented tags (extra {sorted(bad - DRGN_FAILS)}, missing {sorted(DRGN_FAILS - bad)})")
    for t in sorted(bad & DRGN_VA0_ONLY):
        check(r["tags"][t]["first_failure"]["va"] == "0x0" and r["tags"][t]["failed"] == 1,
              f"drgn {t}: only VA 0 fails: {r['tags'][t]['first_failure']}")
    for t in ("reserved-bits", "maxphyaddr", "peer-bugs.frame-bits-above-maxphyaddr", "peer-bugs.pml4e-ps-as-large"):
        check(r["tags"][t]["passed"] == RSVD_OK[t] and r["tags"][t]["failed"] > 0,
              f"drgn {t}: every probe with a reserved bit fails, the {RSVD_OK[t]} others pass: {r['tags'][t]}")
    f = r["tags"]["peer-bugs.pml4e-ps-as-large"]["first_failure"]
    check(f["va"] == "0x100000000100" and "the tag of PA 0x100)" in f["got"],
          f"drgn pml4e-ps-as-large: a 512 GiB page, VA bits 38:0 read: {f}")
    f = r["tags"]["canonical"]["first_failure"]
    check(f["va"] == "0xfffffffffffffff8" and "fault" in f["got"], f"drgn canonical: the top of the address space: {f}")
    for t, v in r["tags"].items():
        if t.startswith(("pae", "legacy32", "random.legacy32", "random.pae", "boot.linux32")):
            check(v["passed"] == 0 and v["failed"] == 0, f"drgn {t}: unsupported (x86-64 only)")


if MODE == "exact":
    mode_exact(*ARGS)
elif MODE == "broken":
    mode_broken(*ARGS)
elif MODE == "bytes":
    mode_bytes(*ARGS)
elif MODE == "addrxlat":
    mode_addrxlat(*ARGS)
elif MODE == "drgn":
    try:
        import drgn  # noqa: F401
    except ImportError:
        print("skipped: python3-drgn is not installed for /usr/bin/python3")
        sys.exit(77)
    mode_drgn(*ARGS)
else:
    sys.exit(f"unknown mode {MODE}")
print(f"{failures} failure(s)")
sys.exit(1 if failures else 0)
