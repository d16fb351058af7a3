#!/usr/bin/env python3
"""capture.py: the QEMU side of the real-kernel tier (issue 6).

  capture.py kallsyms ALIAS BUSYBOX     boot kernel ALIAS once with nokaslr and a busybox initramfs
                                        whose /init prints /proc/kallsyms; write KERNELDIR/kallsyms
  capture.py boot ENTRY                 boot matrix ENTRY to the missing-root panic, stop it, and
                                        over QMP read CR0/CR3/CR4/EFER (info registers), the leaf
                                        entries (info tlb) and gva2gpa on the sampled VAs; write the
                                        dump-guest-memory ELF core and the ground truth

QEMU runs with software emulation (-accel tcg), its QMP monitor on a unix socket. Every wait has a
deadline; QEMU is always stopped (QMP quit, else killed by its pid) before returning.
Env: PTLAB_REAL_MEM (guest MiB, default 256), PTLAB_REAL_BOOT_TIMEOUT (s, default 300),
PTLAB_REAL_SEED (sampling seed, default random; recorded in ENTRY.truth.json), PTLAB_REAL_T0
(the epoch time progress lines count from).
"""

import glob
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import rk  # noqa: E402

MEM = os.environ.get("PTLAB_REAL_MEM", "256")
BOOT_TIMEOUT = float(os.environ.get("PTLAB_REAL_BOOT_TIMEOUT", "300"))
T0 = float(os.environ.get("PTLAB_REAL_T0") or time.time())  # ci/real-kernels' start: one clock


def say(msg):
    print("[%6.1fs] %s" % (time.time() - T0, msg), flush=True)


def die(msg):
    print("capture: error: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


# ---- QMP ----------------------------------------------------------------------------------------

class QMPError(Exception):
    pass


class QMP:
    """A QMP client on a unix socket: one JSON object per line, events skipped, replies matched by
    id, every read bounded by a deadline."""

    def __init__(self, path, proc, timeout=30.0):
        deadline = time.monotonic() + timeout
        self.sock = None
        while True:
            if proc.poll() is not None:
                raise QMPError("QEMU exited (status %s) before its QMP socket opened" % proc.returncode)
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise QMPError("no QMP socket at %s after %.0f s" % (path, timeout))
                time.sleep(0.05)
        self.buf = b""
        self.next_id = 0
        greeting = self._read(deadline)
        if "QMP" not in greeting:
            raise QMPError("unexpected QMP greeting %r" % greeting)
        self.execute("qmp_capabilities")

    def _read(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QMPError("QMP reply timed out")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                raise QMPError("QMP reply timed out")
            if not chunk:
                raise QMPError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, arguments=None, timeout=30.0):
        self.next_id += 1
        msg = {"execute": command, "id": self.next_id}
        if arguments is not None:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if "event" in reply or reply.get("id") != self.next_id:
                continue
            if "error" in reply:
                raise QMPError("%s: %s" % (command, reply["error"].get("desc", reply["error"])))
            return reply.get("return")

    def hmp(self, command_line, timeout=30.0):
        return self.execute("human-monitor-command", {"command-line": command_line}, timeout)

    def close(self):
        if self.sock:
            self.sock.close()


# ---- QEMU ---------------------------------------------------------------------------------------

def qemu_args(qemu, cpu, vmlinuz, append, log, qmp_path=None, initrd=None):
    if not shutil.which(qemu):
        die("%s is not installed (ci/install-deps installs qemu-system-x86)" % qemu)
    a = [qemu, "-accel", "tcg", "-m", MEM, "-smp", "1", "-cpu", cpu, "-nodefaults",
         "-display", "none", "-no-reboot", "-kernel", vmlinuz, "-append", append,
         "-serial", "file:" + log]
    if initrd:
        a += ["-initrd", initrd]
    if qmp_path:
        a += ["-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    return a


def start_qemu(args, errlog):
    with open(errlog, "wb") as err:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=subprocess.STDOUT)


def stop_qemu(proc, qmp=None):
    if proc.poll() is None and qmp is not None:
        try:
            qmp.execute("quit", timeout=5)
        except (QMPError, OSError):
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace").replace("\r", "")
    except OSError:
        return ""


def wait_for(proc, log, marker, timeout, errlog):
    """Wait until `marker` shows in the serial log; QEMU exiting first or the deadline is an error
    unless the marker made it. Returns the log text."""
    deadline = time.monotonic() + timeout
    while True:
        text = read_text(log)
        if marker in text:
            return text
        if proc.poll() is not None:
            die("QEMU exited (status %s) before %r showed in %s; QEMU said: %s; log tail: %s"
                % (proc.returncode, marker, log, read_text(errlog).strip()[-500:], text[-800:]))
        if time.monotonic() > deadline:
            die("no %r in %s after %.0f s; log tail: %s" % (marker, log, timeout, text[-800:]))
        time.sleep(0.1)


# ---- kallsyms -----------------------------------------------------------------------------------

BEGIN, END = "PTLAB-KALLSYMS-BEGIN", "PTLAB-KALLSYMS-END"
KALLSYMS_LINE = re.compile(r"^[0-9a-f]{8,16} [A-Za-z] \S+( \[\S+\])?$")
INIT = """#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo %s
/bin/busybox cat /proc/kallsyms
echo %s
/bin/busybox poweroff -f
""" % (BEGIN, END)


def make_initramfs(busybox, out):
    """cpio newc (gzip) with /init and /bin/busybox, made by cpio(1) and gzip(1)."""
    with tempfile.TemporaryDirectory(prefix="ptlab-initramfs-") as root:
        os.makedirs(os.path.join(root, "bin"))
        os.makedirs(os.path.join(root, "proc"))
        shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
        os.chmod(os.path.join(root, "bin", "busybox"), 0o755)
        with open(os.path.join(root, "init"), "w") as f:
            f.write(INIT)
        os.chmod(os.path.join(root, "init"), 0o755)
        names = "\n".join([".", "bin", "bin/busybox", "proc", "init"]) + "\n"
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=root,
                              input=names.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if cpio.returncode != 0:
            die("cpio: " + cpio.stderr.decode(errors="replace"))
    gz = subprocess.run(["gzip", "-9", "-n", "-c"], input=cpio.stdout, stdout=subprocess.PIPE)
    if gz.returncode != 0:
        die("gzip failed")
    rk.write_atomic(out, gz.stdout)


def kallsyms(alias, busybox):
    kernels, _ = rk.read_matrix()
    if alias not in kernels:
        die("unknown kernel %r (see %s)" % (alias, rk.MATRIX))
    k = kernels[alias]
    qemu, cpu = ("qemu-system-x86_64", "qemu64") if k["arch"] == "amd64" else ("qemu-system-i386", "max")
    initrd = os.path.join(k["dir"], "initramfs.gz")
    make_initramfs(busybox, initrd)
    log = os.path.join(k["dir"], "kallsyms.log")
    errlog = os.path.join(k["dir"], "kallsyms.qemu")
    # quiet loglevel=0: console messages would interleave with the listing.
    append = "console=ttyS0 nokaslr panic=-1 quiet loglevel=0"
    for attempt in (1, 2):
        if os.path.exists(log):
            os.unlink(log)
        proc = start_qemu(qemu_args(qemu, cpu, os.path.join(k["dir"], "vmlinuz"), append, log,
                                    initrd=initrd), errlog)
        try:
            text = wait_for(proc, log, END, BOOT_TIMEOUT, errlog)
        finally:
            stop_qemu(proc)
        lines = text.split("\n")
        try:
            b = next(i for i, l in enumerate(lines) if BEGIN in l)  # escape bytes precede it
            e = next(i for i, l in enumerate(lines) if i > b and END in l)
        except StopIteration:
            die("%s: no %s/%s pair" % (log, BEGIN, END))
        body = [l.strip() for l in lines[b + 1:e] if l.strip()]
        bad = [l for l in body if not KALLSYMS_LINE.match(l)]
        if not bad:
            break
        say("%s: %d garbled kallsyms lines (first %r)%s" % (alias, len(bad), bad[0],
                                                             ", booting again" if attempt == 1 else ""))
    else:
        die("%s: the kallsyms listing stayed garbled (console messages?)" % log)
    names = {l.split()[2] for l in body}
    for need in ("_text", "_etext"):
        if need not in names:
            die("%s: kallsyms without %s (%d lines)" % (log, need, len(body)))
    if int(body[0].split()[0], 16) == 0 and all(int(l.split()[0], 16) == 0 for l in body[:100]):
        die("%s: kallsyms addresses are all zero (kptr_restrict?)" % log)
    rk.write_atomic(os.path.join(k["dir"], "kallsyms"), "\n".join(body) + "\n")
    say("%s: kallsyms: %d symbols" % (alias, len(body)))


# ---- a matrix boot --------------------------------------------------------------------------------

def parse_gva2gpa(text):
    t = text.strip()
    m = re.match(r"gpa: (0x[0-9a-f]+|0)$", t)  # %#x prints 0 bare
    if m:
        return int(m.group(1), 16)
    if t.lower().startswith("unmapped"):
        return None
    raise ValueError("gva2gpa: unexpected reply %r" % text)


class Layout:
    """Names the region of each `info tlb` entry (for sampling and the report, never to decide a
    comparison): kernel text/data from the kallsyms and vmlinux extents plus the slide, the direct
    map from the entry that maps physical 0, vmalloc from the stack pointer (VMAP_STACK on x86-64),
    and the fixed x86 regions (fixmap, cpu_entry_area, ESPFIX)."""

    def __init__(self, arch, mode, syms, extent, slide, entries, spans, sp, page_offset):
        self.arch, self.mode = arch, mode
        self.text = (syms["_text"] + slide, syms["_etext"] + slide)
        self.image = (extent[0] + slide, extent[1] + slide)
        self.is64 = arch == "amd64"
        addr_mask = (1 << 52) - 1
        if self.is64:
            low = [va for va, pa, _ in entries if pa & addr_mask == 0 and 1 << 63 <= va < rk.START_KERNEL_MAP]
            self.direct = min(low) if low else None
            vsize = (32 << 40) if mode == "ia32e" else (12800 << 40)
            cluster = cluster_of(entries, spans, sp)
            self.vmalloc = (cluster & ~((1 << 30) - 1), (cluster & ~((1 << 30) - 1)) + vsize) if cluster else None
        else:
            self.direct = page_offset
            high = max((va + spans[i] for i, (va, pa, _) in enumerate(entries)
                        if va - (pa & addr_mask) == page_offset and va >= page_offset), default=page_offset)
            self.vmalloc = (high, 0xff000000)

    def classify(self, va, pa):
        if self.text[0] <= va < self.text[1]:
            return "text"
        if self.image[0] <= va < self.image[1]:
            return "data"
        frame = pa & ((1 << 52) - 1)
        if self.is64:
            if va >= 0xffffffffff000000:
                return "fixmap"
            if va >= rk.START_KERNEL_MAP + (1 << 30):
                return "modules"
            if va >= rk.START_KERNEL_MAP:
                return "image-other"
            if 0xffffff0000000000 <= va < 0xffffff8000000000:
                return "espfix"
            if 0xfffffe0000000000 <= va < 0xfffffe8000000000:
                return "cpu_entry_area"
            if self.vmalloc and self.vmalloc[0] <= va < self.vmalloc[1]:
                return "vmalloc"
            if self.direct is not None and (va - frame) & ((1 << 64) - 1) == self.direct:
                return "direct"
            return "other"
        if va >= 0xff000000:
            return "fixmap"
        if va - frame == self.direct:
            return "direct"
        if self.vmalloc[0] <= va < self.vmalloc[1]:
            return "vmalloc"
        return "other"


def cluster_of(entries, spans, va):
    """Start of the run of entries (gaps under 1 GiB) whose extent holds va, or None."""
    start = end = None
    for (e, _, _), s in zip(entries, spans):
        if end is None or e - end >= (1 << 30):
            if start is not None and start <= va < end:
                return start
            start = e
        end = max(end or 0, e + s)
    if start is not None and start <= va < end:
        return start
    return None


def entry_spans(entries, mode):
    """How far each leaf may reach: QEMU does not print the page size, so a large page (P flag)
    is given the largest size its alignment and the next entry allow; samples past a smaller page
    fall in a hole, which is compared as well."""
    sizes = {"legacy": [4 << 20], "pae": [2 << 20], "ia32e": [1 << 30, 2 << 20], "la57": [1 << 30, 2 << 20]}[mode]
    spans = []
    for i, (va, _, flags) in enumerate(entries):
        nxt = entries[i + 1][0] if i + 1 < len(entries) else 1 << 64
        span = 4096
        if flags[2] == "P":
            for s in sizes:
                if va % s == 0 and nxt - va >= s:
                    span = s
                    break
        spans.append(span)
    return spans


QUOTA = {"text": 200, "data": 200, "image-other": 40, "modules": 40, "fixmap": 100,
         "cpu_entry_area": 60, "espfix": 60, "direct": 300, "vmalloc": 200, "other": 100}
UNMAPPED = 120


def sample(entries, spans, layout, rng, mode):
    by_class = {}
    for i, (va, pa, _) in enumerate(entries):
        by_class.setdefault(layout.classify(va, pa), []).append(i)
    samples = []  # (va, class)
    for cls, idx in sorted(by_class.items()):
        quota = QUOTA.get(cls, 50)
        picks = [idx[0], idx[-1]] + [rng.choice(idx) for _ in range(max(0, quota - 2))]
        for n, i in enumerate(picks):
            va, span = entries[i][0], spans[i]
            off = 0 if n == 0 else span - 1 if n == 1 else rng.randrange(span)
            samples.append((va + off, cls))
    # holes: between entries (and below the first), and non-canonical addresses on x86-64
    holes = []
    prev = 0
    for i, (va, _, _) in enumerate(entries):
        if va > prev:
            holes.append((prev, va))
        prev = max(prev, va + spans[i])
    top = 1 << (32 if mode in ("legacy", "pae") else 64)
    if prev < top:
        holes.append((prev, top))
    bits = {"ia32e": 48, "la57": 57}.get(mode)
    for _ in range(UNMAPPED):
        lo, hi = rng.choice(holes)
        va = rng.randrange(lo, hi)
        if bits and not canonical(va, bits):
            va = canonical_fix(va, bits)
            if not lo <= va < hi:
                continue
        samples.append((va, "hole"))
    if bits:
        for _ in range(4):
            samples.append((rng.randrange(1 << (bits - 1), (1 << 64) - (1 << (bits - 1))), "non-canonical"))
    return samples


def canonical(va, bits):
    top = va >> (bits - 1)
    return top == 0 or top == (1 << (65 - bits)) - 1


def canonical_fix(va, bits):
    low = va & ((1 << (bits - 1)) - 1)
    return low | (((1 << 64) - 1) ^ ((1 << (bits - 1)) - 1)) if va >> 63 else low


def qemu_kdump(qmp, entry, fmt):
    """QEMU's own kdump-compressed dump: dump-guest-memory in format kdump-FMT writes makedumpfile's
    flattened stream; `makedumpfile -R` rebuilds the standard file ENTRY.kdump-FMT from it."""
    out = rk.dump_file(entry, "kdump-" + fmt)
    flat = out + ".flat"
    if not shutil.which("makedumpfile"):
        die("makedumpfile is not installed (ci/install-deps installs it)")
    t = time.monotonic()
    qmp.execute("dump-guest-memory", {"paging": False, "protocol": "file:" + flat, "format": "kdump-" + fmt},
                timeout=300)
    if os.path.exists(out + ".tmp"):
        os.unlink(out + ".tmp")
    with open(flat, "rb") as src:
        res = subprocess.run(["makedumpfile", "-R", out + ".tmp"], stdin=src, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    if res.returncode != 0:
        die("makedumpfile -R %s < %s failed: %s" % (out, flat, res.stdout.decode(errors="replace")[-500:]))
    os.replace(out + ".tmp", out)
    os.unlink(flat)
    return {"bytes": os.path.getsize(out), "seconds": round(time.monotonic() - t, 2),
            "made_by": "QEMU dump-guest-memory format kdump-%s + makedumpfile -R" % fmt}


def boot(entry):
    b, k = rk.boot_by_entry(entry)
    os.makedirs(rk.dumps_dir(), exist_ok=True)
    old = [rk.dump_file(entry, ext) for ext in ("truth.json", "core", "core.tmp", "log", "regs", "tlb",
                                                  "samples", "qemu")]
    for path in old + glob.glob(rk.dump_file(entry, "result-*.json")) + glob.glob(rk.dump_file(entry, "kdump-*")):
        # results and kdump copies of the last dump too
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    vmlinuz = os.path.join(k["dir"], "vmlinuz")
    ksyms = os.path.join(k["dir"], "kallsyms")
    for f in (vmlinuz, ksyms, os.path.join(k["dir"], "vmlinux")):
        if not os.path.exists(f):
            die("%s is missing: run `ci/real-kernels fetch` and `ci/real-kernels symbols` first" % f)
    syms = rk.read_kallsyms(ksyms)
    extent = rk.image_extent(k, syms)
    seed = int(os.environ.get("PTLAB_REAL_SEED") or random.SystemRandom().randrange(1 << 32))
    rng = random.Random(seed)
    append = "console=ttyS0 panic=0" + ("" if b["kaslr"] else " nokaslr")
    log, errlog = rk.dump_file(entry, "log"), rk.dump_file(entry, "qemu")
    tmpdir = tempfile.mkdtemp(prefix="ptlab-qmp-")  # a short socket path (108-byte limit)
    qmp_path = os.path.join(tmpdir, "qmp.sock")
    args = qemu_args(b["qemu"], b["cpu"], vmlinuz, append, log, qmp_path=qmp_path)
    t_start = time.monotonic()
    proc = start_qemu(args, errlog)
    qmp = None
    try:
        qmp = QMP(qmp_path, proc)
        text = wait_for(proc, log, "end Kernel panic", BOOT_TIMEOUT, errlog)
        t_panic = time.monotonic() - t_start
        qmp.execute("stop")
        panic = re.search(r"Kernel panic - not syncing: ([^\n]*)", text)
        if not panic or "Unable to mount root fs" not in panic.group(1):
            die("%s: the kernel panicked for another reason: %s" % (log, panic.group(1) if panic else "?"))
        regs_text = qmp.hmp("info registers")
        rk.write_atomic(rk.dump_file(entry, "regs"), regs_text)
        regs = rk.parse_regs(regs_text)
        mode = rk.paging_mode(regs)
        t = time.monotonic()
        tlb_text = qmp.hmp("info tlb", timeout=120)
        rk.write_atomic(rk.dump_file(entry, "tlb"), tlb_text)
        entries = sorted(rk.parse_tlb(tlb_text))
        t_tlb = time.monotonic() - t

        def gva2gpa(va):
            return parse_gva2gpa(qmp.hmp("gva2gpa 0x%x" % va))

        # The ground truth, from QEMU alone (plus the nokaslr kallsyms for link-time addresses).
        line, log_offset = rk.kernel_offset_line(text)
        page_offset = int(rk.config_value(k, "CONFIG_PAGE_OFFSET") or "0", 16) if k["arch"] != "amd64" else None
        if k["arch"] == "amd64":
            if log_offset is None:
                die("%s: no `Kernel Offset:` line" % log)
            slide, slide_source = log_offset, "serial log: " + line.strip()
            link_pa_text = syms["_text"] - rk.START_KERNEL_MAP
        else:
            # i386 prints `Kernel Offset: disabled` even with KASLR on; the slide moves VA and PA
            # together in CONFIG_PHYSICAL_ALIGN steps, and the stopped EIP lies in the kernel
            # text: the one step that puts it back inside the link-time text is the slide.
            align = int(rk.config_value(k, "CONFIG_PHYSICAL_ALIGN"), 16)
            cands = [s for s in range(-(1 << 32), 1 << 32, align)
                     if syms["_text"] <= regs["IP"] - s < syms["_etext"]]
            if len(cands) != 1:
                die("EIP 0x%x: %d slides put it in the text (align 0x%x)" % (regs["IP"], len(cands), align))
            slide, slide_source = cands[0] % (1 << 32), "EIP 0x%x in the text, slide a multiple of 0x%x" % (regs["IP"], align)
            link_pa_text = syms["_text"] - page_offset
        text_pa = gva2gpa(syms["_text"] + slide)
        if text_pa is None:
            die("_text + slide 0x%x is not mapped: the slide is wrong" % (syms["_text"] + slide))
        kpgd = rk.kpgd_from_cr3(regs, mode)
        truth = {
            "entry": entry, "kernel": k["alias"], "package": k["package"], "qemu": b["qemu"],
            "cpu": b["cpu"], "append": append, "mem_mib": int(MEM), "seed": seed,
            "qemu_version": qmp.execute("query-version")["qemu"],
            "regs": {key: rk.hx(v) for key, v in regs.items()},
            "paging": mode, "kpgd": rk.hx(kpgd), "kernel_offset_line": line,
            "virt_offset": rk.hx(slide), "virt_offset_source": slide_source,
            "text_va": rk.hx(syms["_text"] + slide), "text_pa": rk.hx(text_pa),
            "phys_offset": rk.hx((text_pa - link_pa_text) % (1 << 64)),
            "panic": panic.group(1).strip(), "boot_seconds": round(t_panic, 2),
            "tlb_entries": len(entries),
        }
        sym = "init_top_pgt" if k["arch"] == "amd64" else "swapper_pg_dir"
        if sym in syms:
            pa = gva2gpa(syms[sym] + slide)
            truth["kpgd_symbol"] = {"name": sym, "pa": rk.hx(pa)}
            if pa != kpgd:
                die("__pa(%s) = %s but CR3 = 0x%x: CR3 is not the kernel's table here" % (sym, rk.hx(pa), kpgd))
        else:
            truth["kpgd_symbol"] = {"name": sym, "pa": None,
                                    "note": "not in this kallsyms (no KALLSYMS_ALL); CR3 of PID 1 before exec is init_mm's"}

        spans = entry_spans(entries, mode)
        layout = Layout(k["arch"], mode, syms, extent, slide, entries, spans, regs["SP"], page_offset)
        t = time.monotonic()
        picked = sample(entries, spans, layout, rng, mode)
        answers = [(va, cls, gva2gpa(va)) for va, cls in picked]
        t_gva = time.monotonic() - t
        rk.write_atomic(rk.dump_file(entry, "samples"), "".join(
            "0x%x %s %s\n" % (va, cls, "unmapped" if pa is None else "0x%x" % pa) for va, cls, pa in answers))
        truth["samples"] = len(answers)

        t = time.monotonic()
        core = rk.dump_file(entry, "core")
        qmp.execute("dump-guest-memory", {"paging": False, "protocol": "file:" + core + ".tmp"}, timeout=300)
        os.replace(core + ".tmp", core)
        t_dump = time.monotonic() - t
        for fmt in b["kdump"]:
            if fmt in rk.KDUMP_FROM_QEMU:
                truth["kdump-" + fmt] = qemu_kdump(qmp, entry, fmt)
        truth["core_bytes"] = os.path.getsize(core)
        truth["seconds"] = {"panic": round(t_panic, 2), "tlb": round(t_tlb, 2), "gva2gpa": round(t_gva, 2),
                            "dump": round(t_dump, 2)}
        rk.write_atomic(rk.dump_file(entry, "truth.json"), json.dumps(truth, indent=1) + "\n")
        say("%s: panic after %.1f s; CR3 0x%x CR4 0x%x -> %s, kpgd 0x%x, virt_offset 0x%x, phys_offset %s; "
            "%d tlb entries; %d VAs through gva2gpa in %.1f s; core %d MB in %.1f s"
            % (entry, t_panic, regs["CR3"], regs["CR4"], mode, kpgd, slide, truth["phys_offset"],
               len(entries), len(answers), t_gva, truth["core_bytes"] >> 20, t_dump))
    except (QMPError, OSError, ValueError) as e:
        die("%s: %s" % (entry, e))
    finally:
        stop_qemu(proc, qmp)
        if qmp:
            qmp.close()
        shutil.rmtree(tmpdir, ignore_errors=True)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "kallsyms":
        kallsyms(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "boot":
        boot(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
