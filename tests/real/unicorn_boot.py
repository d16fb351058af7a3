#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The real kernel's own head_64 in Unicorn (issue 6, "Real head_64 in Unicorn").

With --bzimage VMLINUZ instead: the bzImage from its own 32-bit entry, through Linux's own
decompressor (KASLR with the CPU's entropy, extraction, relocation), to start_kernel; the same
checks at whatever slots the decompressor picked, once with KASLR and once with nokaslr.

For one paging depth (4 or 5 levels) and two physical load addresses, boot
`ptlab boot vmlinux:VMLINUX --symbols KALLSYMS` to start_kernel and check, on the dump the
kernel's own code wrote:
  - the boot reached start_kernel in the expected paging mode, with verify_cpu passing and the
    early #PF (the direct-map access of copy_bootdata) delivered through the kernel's IDT;
  - the walker maps startup_64's link address to the load address, through CR3 (early_top_pgt)
    and through init_top_pgt (whose entry 511 x86_64_start_kernel copied);
  - find-kpgd with the kallsyms map returns __pa(init_top_pgt) = load + (init_top_pgt - _text),
    verified, with the physical offset of the load address and virtual offset 0;
  - `ptlab diff` (walker vs Unicorn's MMU) finds 0 mismatches.
Exit 0 pass, 1 fail (each failed check printed), 2 bad usage.
"""
import argparse
import json
import os
import subprocess
import sys

START_KERNEL_MAP = 0xffffffff80000000


def run_json(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {proc.returncode}")
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"FAIL: {' '.join(cmd)}: no JSON on stdout")


def symbols(path):
    table = {}
    with open(path, encoding="ascii", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] not in table:
                try:
                    table[parts[2]] = int(parts[0], 16)
                except ValueError:
                    pass
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ptlab", required=True)
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--bzimage", help="boot this vmlinuz through its own decompressor instead")
    ap.add_argument("--runs", default="kaslr,nokaslr",
                    help="--bzimage: which boots (kaslr, nokaslr; comma-separated)")
    ap.add_argument("--kallsyms", required=True)
    ap.add_argument("--levels", type=int, choices=(4, 5), required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--probes", type=int, default=100000)
    args = ap.parse_args()
    for p in (args.vmlinux, args.kallsyms) + ((args.bzimage,) if args.bzimage is not None else ()):
        if not os.path.exists(p):
            print(f"skipped: {p} is missing (run ci/real-kernels fetch)")
            return 77
    os.makedirs(args.workdir, exist_ok=True)
    syms = symbols(args.kallsyms)
    text, init_top = syms["_text"], syms["init_top_pgt"]
    mode = "la57" if args.levels == 5 else "ia32e"
    failures = []

    def check(ok, what):
        print(("  ok    " if ok else "  FAIL  ") + what)
        if not ok:
            failures.append(what)

    if args.bzimage:
        # The decompressor picks the slots: KASLR (from RDTSC here), then nokaslr.
        every = {"kaslr": [f"bzimage:{args.bzimage}"],
                 "nokaslr": [f"bzimage:{args.bzimage}", "--cmdline", "nokaslr"]}
        runs = [(r, every[r]) for r in args.runs.split(",")]
    else:
        # The link-time load address (CONFIG_PHYSICAL_START) and one 100 MiB up, 2 MiB aligned.
        runs = [(f"{load:#x}", [f"vmlinux:{args.vmlinux}", "--phys-load", hex(load)])
                for load in (text - START_KERNEL_MAP, 0x6400000)]
    for name, image_args in runs:
        core = os.path.join(args.workdir, f"unicorn-l{args.levels}-{name}.core")
        cmd = [args.ptlab, "boot"] + image_args + ["--symbols", args.kallsyms, "--mem", "512M",
                                                   "--out", core, "--json"]
        if args.levels == 5:
            cmd.append("--la57")
        print(f"== {args.levels}-level, {name}: {' '.join(cmd)}")
        rc, boot = run_json(cmd)
        check(rc == 0, f"boot reached start_kernel (exit {rc})")
        if rc != 0:
            continue
        load = int(boot["phys_load"], 16)
        slide = int(boot["virt_offset"], 16)
        print(f"  boot: kernel at PA {load:#x}, virtual offset {slide:#x}, {boot['microseconds'] / 1e6:.1f} s")
        if name == "nokaslr":
            check(load == text - START_KERNEL_MAP and slide == 0,
                  f"nokaslr: the decompressor left the kernel at its link addresses")
        check(boot["paging"] == mode, f"paging {boot['paging']} == {mode}")
        check(boot.get("verify_cpu_passed") is True, "verify_cpu passed (RAX 0 at __startup_64)")
        check(boot.get("page_faults", 0) >= 1,
              f"{boot.get('page_faults')} early #PF delivered through the kernel's IDT")
        cr3 = int(boot["cr3"], 16)
        early_top = syms["early_top_pgt"] - text + load
        check(cr3 == early_top, f"CR3 {cr3:#x} == __pa(early_top_pgt) {early_top:#x}")
        kpgd_want = init_top - text + load

        for table, extra in (("CR3", []), ("init_top_pgt", ["--cr3", hex(kpgd_want), "--mode", mode])):
            rc, tr = run_json([args.ptlab, "translate", core, hex(text + slide), "--json"] + extra)
            r = tr["results"][0]
            got = int(r["pa"], 16) if r.get("pa") else None
            check(got == load, f"startup_64 {text + slide:#x} -> {got if got is None else hex(got)} == "
                  f"{load:#x} through {table}")

        rc, kp = run_json([args.ptlab, "find-kpgd", core, "--symbols", args.kallsyms, "--json"])
        check(kp.get("kpgd") is not None and int(kp["kpgd"], 16) == kpgd_want,
              f"find-kpgd {kp.get('kpgd')} == __pa(init_top_pgt) {kpgd_want:#x}")
        check(kp.get("verified") is True, "find-kpgd verified")
        check(kp.get("paging") == mode, f"find-kpgd paging {kp.get('paging')} == {mode}")
        check(kp.get("phys_offset") == hex(load - (text - START_KERNEL_MAP)) and kp.get("virt_offset") == hex(slide),
              f"find-kpgd offsets phys {kp.get('phys_offset')} virt {kp.get('virt_offset')}")

        rc, df = run_json([args.ptlab, "diff", core, "--probes", str(args.probes), "--json"])
        check(rc == 0 and df["mismatches"] == 0 and df["probes"] == args.probes,
              f"diff: {df['mismatches']} mismatches in {df['probes']} probes "
              f"({df['probes_per_second']} probes/s)")
        os.remove(core)

    if failures:
        print(f"FAIL: {len(failures)} check(s) failed")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
