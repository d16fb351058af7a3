#!/usr/bin/env python3
"""extract_vmlinux.py BZIMAGE OUT: the kernel ELF (vmlinux) inside a bzImage (vmlinuz).

The x86 boot protocol (Documentation/x86/boot.rst, protocol >= 2.08) gives the place of the
compressed kernel: the setup is setup_sects (byte 0x1f1; 0 means 4) + 1 sectors of 512 bytes, and
the protected-mode code after it holds the payload at payload_offset (u32 at 0x248) for
payload_length bytes (u32 at 0x24c). The compressor is recognised by its magic and the payload is
piped through Debian's own decompressor (xz, zstd, gzip, lz4: never a hand-written one). The kernel
build appends the uncompressed size as a little-endian u32 to the payload (gzip's ISIZE is the same
field), which checks the result; the result must be an ELF file.
"""

import os
import shutil
import struct
import subprocess
import sys
import time

# (name, magic, command, the payload's last 4 bytes are the size appended by the kernel build)
COMPRESSORS = [
    ("xz", b"\xfd7zXZ\x00", ["xz", "-dc", "--single-stream"], True),
    ("zstd", b"\x28\xb5\x2f\xfd", ["zstd", "-dc", "-q"], True),
    ("gzip", b"\x1f\x8b", ["gzip", "-dc"], False),
    ("lz4", b"\x02\x21\x4c\x18", ["lz4", "-dc"], True),  # lz4 legacy frame (lz4 -l)
]
OTHER_MAGICS = [(b"BZh", "bzip2"), (b"\x5d\x00\x00", "lzma"), (b"\x89LZO", "lzo")]


def fail(msg):
    sys.exit("extract_vmlinux: " + msg)


def payload(image, path):
    if len(image) < 0x250 or image[0x202:0x206] != b"HdrS":
        fail("%s: no bzImage header (HdrS at 0x202)" % path)
    version, = struct.unpack_from("<H", image, 0x206)
    if version < 0x208:
        fail("%s: boot protocol %d.%02d has no payload fields (needs 2.08)" % (path, version >> 8, version & 0xff))
    setup_sects = image[0x1f1] or 4
    pm_start = (setup_sects + 1) * 512
    off, length = struct.unpack_from("<II", image, 0x248)
    start = pm_start + off
    if length < 8 or start + length > len(image):
        fail("%s: payload 0x%x+0x%x lies outside the file (%d bytes)" % (path, start, length, len(image)))
    return start, image[start:start + length]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: extract_vmlinux.py BZIMAGE OUT")
    src, out = sys.argv[1], sys.argv[2]
    t0 = time.monotonic()
    with open(src, "rb") as f:
        image = f.read()
    start, data = payload(image, src)
    for name, magic, cmd, size_appended in COMPRESSORS:
        if data.startswith(magic):
            break
    else:
        other = [n for m, n in OTHER_MAGICS if data.startswith(m)]
        fail("%s: payload at 0x%x is %s, not xz/zstd/gzip/lz4 (first bytes %s)"
             % (src, start, other[0] if other else "of an unknown format", data[:6].hex()))
    if not shutil.which(cmd[0]):
        fail("%s is not installed (ci/install-deps installs it)" % cmd[0])
    expect = struct.unpack_from("<I", data, len(data) - 4)[0]
    stream = data[:-4] if size_appended else data
    res = subprocess.run(cmd, input=stream, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0 and size_appended:  # a build without the appended size
        res = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0:
        fail("%s: %s failed on the payload at 0x%x: %s" % (src, " ".join(cmd), start,
                                                             res.stderr.decode(errors="replace").strip()))
    elf = res.stdout
    if elf[:4] != b"\x7fELF":
        fail("%s: the %s payload did not decompress to an ELF file" % (src, name))
    if len(elf) & 0xffffffff != expect:
        fail("%s: decompressed %d bytes, the payload's trailer says %d" % (src, len(elf), expect))
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(elf)
    os.replace(tmp, out)
    print("%s: %s payload at offset %d (%d bytes) -> %s (%d bytes) in %.1f s"
          % (os.path.basename(src), name, start, len(data), out, len(elf), time.monotonic() - t0))


if __name__ == "__main__":
    main()
