#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A C adapter seen as a walker that answers with bytes, over ptlab's exec protocol.

    runner_bytes.py WALKER.so

Loads WALKER.so (the adapter ABI of include/ptlab/adapter.h, through ctypes), walks each probe
with it over the case's ELF core, and answers what a walker that can only read through its
translation (drgn's Program.read) would: the 8 bytes at the PA it computed ({"data": ...}), or a
fault when it does not translate, when it cannot read a table (-1 from translate) or when its PA
is not in the dump. The kit's tests run every broken walker of tests/walkers/ this way: each must
still fail on its class's tag, so no peer bug hides behind a read outside the dump.
"""
import ctypes
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner_honest4 import Dump  # noqa: E402  (the ELF core reader of the honest walker)

PAGING = {"legacy32": 1, "pae": 2, "ia32e4": 3, "ia32e5": 4}
ACCESS_WRITE, ACCESS_USER, ACCESS_FETCH, ACCESS_CHECK = 1, 2, 4, 8
CAP_RIGHTS, CAP_PF_ERROR, CAP_SME_CBIT = 1 << 4, 1 << 5, 1 << 7
MODE_CAPS = {1: 1 << 0, 2: 1 << 1, 3: 1 << 2, 4: 1 << 3}


class Cpu(ctypes.Structure):
    _fields_ = [("paging", ctypes.c_uint32), ("maxphyaddr", ctypes.c_uint32),
                ("cr0", ctypes.c_uint64), ("cr3", ctypes.c_uint64), ("cr4", ctypes.c_uint64),
                ("efer", ctypes.c_uint64), ("pdpte", ctypes.c_uint64 * 4),
                ("pkru", ctypes.c_uint32), ("sme_cbit", ctypes.c_uint32)]


class Result(ctypes.Structure):
    _fields_ = [("mapped", ctypes.c_uint32), ("pf_error", ctypes.c_uint32),
                ("pa", ctypes.c_uint64), ("page_size", ctypes.c_uint64)]


READ_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p, ctypes.c_size_t)
OPEN_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.POINTER(Cpu), READ_FN, ctypes.c_void_p)
TRANSLATE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32,
                                ctypes.POINTER(Result))
CLOSE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class Adapter(ctypes.Structure):
    _fields_ = [("abi", ctypes.c_uint32), ("caps", ctypes.c_uint32), ("name", ctypes.c_char_p),
                ("open", OPEN_FN), ("translate", TRANSLATE_FN), ("close", CLOSE_FN)]


def number(value):
    return int(value, 0) if isinstance(value, str) else int(value)


class Bridge:
    def __init__(self, so):
        lib = ctypes.CDLL(so)
        lib.ptlab_adapter_v1.restype = ctypes.POINTER(Adapter)
        self.adapter = lib.ptlab_adapter_v1().contents
        self.walker = None
        self.dump = None
        self.read_fn = READ_FN(self.read)   # kept alive while the walker may call it

    def read(self, _ctx, pa, buf, n):
        data = self.dump.read(pa, n) if self.dump else None
        if data is None:
            return -1
        ctypes.memmove(buf, data, n)
        return 0

    def close(self, _req=None):
        if self.walker:
            self.adapter.close(self.walker)
        if self.dump:
            self.dump.close()
        self.walker = self.dump = None
        return {"ok": True}

    def open(self, req):
        self.close()
        paging = PAGING.get(req.get("paging"), 0)
        caps = self.adapter.caps
        if not caps & MODE_CAPS.get(paging, 0):
            return {"ok": False, "unsupported": f"the adapter does not declare {req.get('paging')}"}
        cpu = Cpu(paging=paging, maxphyaddr=req["maxphyaddr"], cr0=number(req["cr0"]),
                  cr3=number(req["cr3"]), cr4=number(req["cr4"]), efer=number(req["efer"]),
                  pkru=number(req.get("pkru", 0)),
                  sme_cbit=number(req.get("cbit", 0)) if caps & CAP_SME_CBIT else 0)
        for i, v in enumerate(req.get("pdpte", [])[:4]):
            cpu.pdpte[i] = number(v)
        self.dump = Dump(req["dump"])
        self.walker = self.adapter.open(ctypes.byref(cpu), self.read_fn, None)
        if not self.walker:
            self.close()
            return {"ok": False, "unsupported": "the adapter's open declined this CPU state"}
        names = [(CAP_RIGHTS, "rights"), (CAP_PF_ERROR, "pf-error"), (CAP_SME_CBIT, "sme-cbit")]
        return {"ok": True, "caps": [name for bit, name in names if caps & bit]}

    def answer(self, va, access):
        out = Result()
        if self.adapter.translate(self.walker, va, access, ctypes.byref(out)) != 0:
            return {"fault": True}          # a table it could not read: a data walker faults
        if not out.mapped:
            if self.adapter.caps & CAP_PF_ERROR:
                return {"fault": True, "error": hex(out.pf_error)}
            return {"fault": True}
        data = self.dump.read(out.pa, 8)
        return {"fault": True} if data is None else {"data": bytes(data).hex()}

    def translate(self, req):
        if not self.walker:
            return {"error": "translate before a successful open"}
        base = (ACCESS_USER if req.get("user") else 0) | (ACCESS_CHECK if req.get("check") else 0)
        kinds = {"r": 0, "w": ACCESS_WRITE, "x": ACCESS_FETCH}
        access = req.get("access", [])
        return {"results": [self.answer(number(va), base | kinds.get(access[i] if i < len(access) else "r", 0))
                            for i, va in enumerate(req.get("vas", []))]}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: runner_bytes.py WALKER.so")
    bridge = Bridge(sys.argv[1])
    ops = {"open": bridge.open, "translate": bridge.translate, "close": bridge.close}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        op = ops.get(req.get("op"))
        reply = op(req) if op else {"error": f"unknown op {req.get('op')!r}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    bridge.close()


if __name__ == "__main__":
    main()
