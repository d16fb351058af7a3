#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/test_cli.sh PTLAB MKSAMPLE WORKDIR
#
# The `ptlab` command line on dumps generated here by ptlab-mksample (an ELF core with QEMU +
# PTLAB notes, the same memory as a raw image, cores with only the QEMU note or no note):
# translate and maps in text and --json against exact values, and bad input (truncated or
# lying ELF, garbage numbers, unknown modes and options, missing --cr3, missing files) exiting 2
# with one line on stderr. Prints every failure and "N passed, N failed" last.
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 PTLAB MKSAMPLE WORKDIR" >&2
	exit 2
fi
PTLAB=$1
MKSAMPLE=$2
WORK=$3
PY=python3

pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}

# run CMD...: run it, keep stdout in $out, stderr in $err, the status in $rc.
run() {
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	out=$(cat "$WORK/out")
	err=$(cat "$WORK/err")
}

# check_rc NAME EXPECTED: the last run's status.
check_rc() {
	if [ "$rc" -eq "$2" ]; then ok; else bad "$1: exit $rc, expected $2 (stderr: $err)"; fi
}

# check_line NAME LINE: the last run's stdout has exactly this line.
check_line() {
	if grep -Fxq -- "$2" "$WORK/out"; then
		ok
	else
		bad "$1: no line '$2' in:"
		sed 's/^/    /' "$WORK/out" | head -20
	fi
}

# check_count NAME PATTERN N: the last run's stdout has N lines matching the extended regex.
check_count() {
	local n
	n=$(grep -Ec -- "$2" "$WORK/out")
	if [ "$n" -eq "$3" ]; then ok; else bad "$1: $n lines match '$2', expected $3"; fi
}

# check_json NAME PYTHON: the last run's stdout is one JSON object d for which PYTHON
# (statements using d, with assert) holds.
check_json() {
	local msg
	if msg=$($PY -c "
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
$2
" "$WORK/out" 2>&1); then
		ok
	else
		bad "$1: $(printf '%s' "$msg" | tail -3)"
	fi
}

# check_usage NAME PATTERN...: the last run exited 2, printed nothing on stdout and exactly
# one line on stderr, starting "ptlab: " and containing every PATTERN (fixed strings).
check_usage() {
	local name=$1 p lines
	shift
	lines=$(wc -l <"$WORK/err")
	if [ "$rc" -ne 2 ]; then
		bad "$name: exit $rc, expected 2 (stderr: $err)"
		return
	fi
	if [ -s "$WORK/out" ]; then
		bad "$name: stdout not empty: $out"
		return
	fi
	if [ "$lines" -ne 1 ] || [ "${err#ptlab: }" = "$err" ]; then
		bad "$name: expected one 'ptlab: ' line on stderr, got: $err"
		return
	fi
	for p in "$@"; do
		case $err in
		*"$p"*) ;;
		*)
			bad "$name: stderr '$err' does not contain '$p'"
			return
			;;
		esac
	done
	ok
}

# ---- the dumps ---------------------------------------------------------------------------

rm -rf "$WORK"
mkdir -p "$WORK"
CORE=$WORK/sample.core
RAW=$WORK/sample.raw
QCORE=$WORK/qemu-note.core
NCORE=$WORK/no-note.core
L5CORE=$WORK/la57.core
CR3=0x2a10000

run "$MKSAMPLE" "$CORE" --raw "$RAW"
check_rc "mksample" 0
check_line "mksample prints CR3" "wrote $RAW: raw image, 64 MiB, CR3 $CR3"
run "$MKSAMPLE" "$QCORE" --qemu-note-only
check_rc "mksample --qemu-note-only" 0
run "$MKSAMPLE" "$NCORE" --no-notes
check_rc "mksample --no-notes" 0
run "$MKSAMPLE" "$L5CORE" --la57
check_rc "mksample --la57" 0
if [ ! -s "$CORE" ] || [ ! -s "$RAW" ]; then
	echo "cannot go on without the sample dumps"
	echo "$pass passed, $((fail + 1)) failed"
	exit 1
fi

# ---- help, version, dispatch -------------------------------------------------------------

for args in "--help" "help" "translate --help" "maps --help" "help maps" "translate -h"; do
	# shellcheck disable=SC2086
	run "$PTLAB" $args
	check_rc "ptlab $args" 0
	case $out in
	*Usage:*Example*) ok ;;
	*) bad "ptlab $args: no usage with an example on stdout" ;;
	esac
done
run "$PTLAB" --version
check_rc "--version" 0
check_line "--version" "ptlab 0.1.0"
run "$PTLAB"
check_usage "no command" "missing command"
run "$PTLAB" frobnicate
check_usage "unknown command" "unknown command 'frobnicate'"
run "$PTLAB" --frobnicate
check_usage "unknown global option" "--frobnicate"
run "$PTLAB" translate "$CORE" 0x400000 --frobnicate
check_usage "unknown translate option" "unknown option '--frobnicate'" "ptlab translate --help"
run "$PTLAB" maps "$CORE" -q
check_usage "unknown maps option" "unknown option '-q'"
run "$PTLAB" translate "$CORE" 0x400000 --cr3
check_usage "option without value" "'--cr3' needs a value"
run "$PTLAB" translate "$CORE"
check_usage "translate without VA" "missing VA"
run "$PTLAB" maps
check_usage "maps without DUMP" "missing DUMP"
run "$PTLAB" maps "$CORE" "$CORE"
check_usage "maps with two dumps" "unexpected argument"

# Every command reads its options through the one option loop (cli/options.c): --help prints its
# usage with an example, an unknown option and an option without its value are usage errors
# naming the command, and a stray argument is one too.
for cmd in demo images boot translate maps find-kpgd diff convert; do
	run "$PTLAB" $cmd --help
	check_rc "ptlab $cmd --help" 0
	case $out in
	*"Usage: ptlab $cmd"*Example*) ok ;;
	*) bad "ptlab $cmd --help: no usage with an example on stdout" ;;
	esac
	run "$PTLAB" $cmd --frobnicate
	check_usage "$cmd: unknown option" "ptlab: $cmd: unknown option '--frobnicate'" "ptlab $cmd --help"
done
for cmd_opt in "demo --probes" "boot --mem" "maps --alias-budget" "find-kpgd --method" "diff --seed" "convert --to" "maps --svg"; do
	# shellcheck disable=SC2086
	run "$PTLAB" $cmd_opt
	check_usage "$cmd_opt without a value" "ptlab: ${cmd_opt%% *}: option '${cmd_opt#* }' needs a value"
done
run "$PTLAB" images extra
check_usage "images with an argument" "ptlab: images: unexpected argument 'extra'"
run "$PTLAB" demo extra
check_usage "demo with an argument" "ptlab: demo: unexpected argument 'extra'"
run "$PTLAB" boot
check_usage "boot without IMAGE" "ptlab: boot: missing IMAGE"
run "$PTLAB" diff --probes 0 "$CORE"
check_usage "diff --probes 0" "--probes '0' is not a number in 1..2^32"

# ---- translate, text ------------------------------------------------------------------------

K_TEXT='0xffffffff81000000 -> 0x1000000  2M page (level 2)  r-x kernel  [entries: L4 0x2a10ff8=0x2a11063 L3 0x2a11ff0=0x2a12063 L2 0x2a12040=0x10001a1]'
K_DATA='0xffffffff81400123 -> 0x1400123  2M page (level 2)  rw- kernel  [entries: L4 0x2a10ff8=0x2a11063 L3 0x2a11ff0=0x2a12063 L2 0x2a12050=0x80000000014001e3]'
U_TEXT='0x400000 -> 0x3000000  4K page (level 1)  r-x user  [entries: L4 0x2a10000=0x2a18067 L3 0x2a18000=0x2a19067 L2 0x2a19010=0x2a1a067 L1 0x2a1a000=0x3000025]'
U_DATA='0x403abc -> 0x3003abc  4K page (level 1)  rw- user  [entries: L4 0x2a10000=0x2a18067 L3 0x2a18000=0x2a19067 L2 0x2a19010=0x2a1a067 L1 0x2a1a018=0x8000000003003067]'
DIRECT='0xffff888001234567 -> 0x1234567  2M page (level 2)  rw- kernel  [entries: L4 0x2a10888=0x2a13063 L3 0x2a13000=0x2a14063 L2 0x2a14048=0x80000000012001e3]'
GIGA='0xffff888100001000 -> 0x1000  1G page (level 3)  rw- kernel  [entries: L4 0x2a10888=0x2a13063 L3 0x2a13020=0x80000000000001e3]'
APIC='0xffffc900000000f0 -> 0xfee000f0  4K page (level 1)  rw- kernel  (frame not in dump)  [entries: L4 0x2a10c90=0x2a15063 L3 0x2a15000=0x2a16063 L2 0x2a16000=0x2a17063 L1 0x2a17000=0x80000000fee0017b]'
ESPFIX='0xffffff003fe00008 -> 0x3010008  4K page (level 1)  r-- kernel  [entries: L4 0x2a10ff0=0x2a1e063 L3 0x2a1e000=0x2a1f063 L2 0x2a1fff8=0x2a20063 L1 0x2a20000=0x8000000003010121]'
STACK='0x7ffffffffff8 -> 0x3020ff8  4K page (level 1)  rw- user  [entries: L4 0x2a107f8=0x2a1b067 L3 0x2a1bff8=0x2a1c067 L2 0x2a1cff8=0x2a1d067 L1 0x2a1dff8=0x8000000003020067]'
GOOD_VAS="0xffffffff81000000 0xffffffff81400123 0x400000 0x403abc 0xffff888001234567 0xffff888100001000 0xffffc900000000f0 0xffffff003fe00008 0x7ffffffffff8"

# shellcheck disable=SC2086
run "$PTLAB" translate "$CORE" $GOOD_VAS
check_rc "translate mapped VAs" 0
for line in "$K_TEXT" "$K_DATA" "$U_TEXT" "$U_DATA" "$DIRECT" "$GIGA" "$APIC" "$ESPFIX" "$STACK"; do
	check_line "translate" "$line"
done
check_count "translate: one line per VA, in order" '^0x' 9
if [ "$(head -1 "$WORK/out")" = "$K_TEXT" ] && [ "$(tail -1 "$WORK/out")" = "$STACK" ]; then ok; else bad "translate: lines not in the order given"; fi
good_core=$out

# The same memory as a raw image with --cr3, and the core with only QEMU's note, agree.
# shellcheck disable=SC2086
run "$PTLAB" translate "$RAW" $GOOD_VAS --cr3 $CR3
check_rc "translate raw --cr3" 0
if [ "$out" = "$good_core" ]; then ok; else bad "translate: raw image differs from the core"; fi
# shellcheck disable=SC2086
run "$PTLAB" translate --raw-dump "$RAW" --cr3 $CR3 $GOOD_VAS
if [ "$rc" -eq 0 ] && [ "$out" = "$good_core" ]; then ok; else bad "translate --raw-dump (options first)"; fi
# shellcheck disable=SC2086
run "$PTLAB" translate "$QCORE" $GOOD_VAS
if [ "$rc" -eq 0 ] && [ "$out" = "$good_core" ]; then ok; else bad "translate: QEMU-note core differs: $err"; fi
# Decimal numbers work too: 44105752 = 0x2a10018 (PWT and PCD set, not address bits).
run "$PTLAB" translate "$NCORE" 4194304 --cr3 44105752
check_line "translate core without notes, decimal --cr3" "$U_TEXT"

run "$PTLAB" translate "$CORE" 0x400000 --access w --user
check_rc "user write to user text" 1
check_line "user write to user text" '0x400000 -> #PF error 0x7 (P W U) at level 1, entry 0x2a1a000 = 0x3000025  [entries: L4 0x2a10000=0x2a18067 L3 0x2a18000=0x2a19067 L2 0x2a19010=0x2a1a067 L1 0x2a1a000=0x3000025]'
run "$PTLAB" translate "$CORE" 0x402000 --access x --cpl 3
check_line "user fetch from NX data" '0x402000 -> #PF error 0x15 (P U ID) at level 1, entry 0x2a1a010 = 0x8000000003002067  [entries: L4 0x2a10000=0x2a18067 L3 0x2a18000=0x2a19067 L2 0x2a19010=0x2a1a067 L1 0x2a1a010=0x8000000003002067]'
run "$PTLAB" translate "$CORE" 0xffffffff81000000 --user
check_line "user read of a kernel page" '0xffffffff81000000 -> #PF error 0x5 (P U) at level 2, entry 0x2a12040 = 0x10001a1  [entries: L4 0x2a10ff8=0x2a11063 L3 0x2a11ff0=0x2a12063 L2 0x2a12040=0x10001a1]'
run "$PTLAB" translate "$CORE" 0xffffffff81000000 --access w
check_line "supervisor write to read-only text (CR0.WP)" '0xffffffff81000000 -> #PF error 0x3 (P W) at level 2, entry 0x2a12040 = 0x10001a1  [entries: L4 0x2a10ff8=0x2a11063 L3 0x2a11ff0=0x2a12063 L2 0x2a12040=0x10001a1]'
run "$PTLAB" translate "$CORE" 0xffffffff81000000 --access w --cr0 0x80000001
check_rc "supervisor write without CR0.WP" 0
run "$PTLAB" translate "$CORE" 0x600000
check_line "reserved bit in a PDE" '0x600000 -> #PF error 0x9 (P RSVD) at level 2, entry 0x2a19018 = 0x80000000032020e7  [entries: L4 0x2a10000=0x2a18067 L3 0x2a18000=0x2a19067 L2 0x2a19018=0x80000000032020e7]'
run "$PTLAB" translate "$CORE" 0xffffff00001ff000
check_line "not present" '0xffffff00001ff000 -> #PF error 0x0 (none) at level 1, entry 0x2a20ff8 = 0x0  [entries: L4 0x2a10ff0=0x2a1e063 L3 0x2a1e000=0x2a1f063 L2 0x2a1f000=0x2a20063 L1 0x2a20ff8=0x0]'
run "$PTLAB" translate "$CORE" 0x800000000000
check_rc "non-canonical" 1
check_line "non-canonical" '0x800000000000 -> #GP (non-canonical)'
run "$PTLAB" translate "$CORE" 0x7fffffc01000
check_rc "table not in dump" 1
check_line "table not in dump" '0x7fffffc01000 -> table not in dump: 0x5000000  [entries: L4 0x2a107f8=0x2a1b067 L3 0x2a1bff8=0x2a1c067 L2 0x2a1cff0=0x5000067]'
run "$PTLAB" translate "$CORE" 0x400000 0x800000000000 0x402000
check_rc "one fault among good VAs" 1
check_count "one fault among good VAs: every VA printed" '^0x' 3
run "$PTLAB" translate "$CORE" 0x400000 --mode pae
check_rc "PAE: PDPTE reserved bits at CR3 load" 1
check_line "PAE: PDPTE reserved bits at CR3 load" '0x400000 -> #GP at CR3 load: PDPTE 0x2a10000 = 0x2a18067 has reserved bits'
run "$PTLAB" translate "$CORE" 0x400000 --mode pae --cr3 0x8000000
check_line "PAE: PDPT not in dump" '0x400000 -> table not in dump: 0x8000000 (PAE PDPT, at CR3 load)'
run "$PTLAB" translate "$CORE" 0x12345 --cr0 0x11
check_line "paging off" '0x12345 -> 0x12345  paging off'

# 5-level paging: the same VAs through one more level; bits 63:57 must copy bit 56.
run "$PTLAB" translate "$L5CORE" 0xffffffff81000000 0x0100000000000000 0x800000000000
check_rc "la57" 1
check_line "la57: 2M kernel text" '0xffffffff81000000 -> 0x1000000  2M page (level 2)  r-x kernel  [entries: L5 0x2a10ff8=0x2a11063 L4 0x2a11ff8=0x2a12063 L3 0x2a12ff0=0x2a13063 L2 0x2a13040=0x10001a1]'
check_line "la57: non-canonical" '0x100000000000000 -> #GP (non-canonical)'
check_line "la57: 48-bit non-canonical is canonical here" '0x800000000000 -> #PF error 0x0 (none) at level 4, entry 0x2a19800 = 0x0  [entries: L5 0x2a10000=0x2a19067 L4 0x2a19800=0x0]'
run "$PTLAB" translate "$L5CORE" 0x400000 --json
check_json "la57 --json" '
x = d["results"][0]
assert d["context"]["mode"] == "la57" and x["pa"] == "0x3000000", d
assert [e["level"] for e in x["entries"]] == [5, 4, 3, 2, 1], x["entries"]'
run "$PTLAB" maps "$CORE" --raw
grep -E '^[0-9a-f]{16}:' "$WORK/out" >"$WORK/leaves4"
run "$PTLAB" maps "$L5CORE" --raw
grep -E '^[0-9a-f]{16}:' "$WORK/out" >"$WORK/leaves5"
if [ "$rc" -eq 0 ] && [ -s "$WORK/leaves5" ] && cmp -s "$WORK/leaves4" "$WORK/leaves5"; then
	ok
else
	bad "la57: maps --raw leaves differ from 4-level"
fi

# ---- translate, JSON -----------------------------------------------------------------------

run "$PTLAB" translate "$CORE" 0xffffffff81000000 0x403abc 0xffffc900000000f0 0x600000 0x800000000000 0x7fffffc01000 --json
check_rc "translate --json" 1
check_json "translate --json: shape" '
r = d["results"]
assert len(r) == 6, r
keys = {"va", "pa", "page_size", "level", "writable", "user", "nx", "fault", "error"}
assert all(keys <= set(x) for x in r), r
assert [x["va"] for x in r] == ["0xffffffff81000000", "0x403abc", "0xffffc900000000f0",
                                "0x600000", "0x800000000000", "0x7fffffc01000"]
assert d["context"]["mode"] == "ia32e" and d["context"]["cr3"] == "0x2a10000"
assert d["context"]["cpu_source"] == "ptlab" and d["context"]["maxphyaddr"] == 46
assert d["format"] == "elf" and d["access"] == "read"'
check_json "translate --json: 2M kernel text" '
x = d["results"][0]
assert (x["pa"], x["page_size"], x["level"]) == ("0x1000000", 2097152, 2), x
assert (x["writable"], x["user"], x["nx"]) == (False, False, False), x
assert x["fault"] is None and x["error"] is None and x["pa_in_dump"] is True
assert [(e["level"], e["pa"], e["value"]) for e in x["entries"]] == [
    (4, "0x2a10ff8", "0x2a11063"), (3, "0x2a11ff0", "0x2a12063"), (2, "0x2a12040", "0x10001a1")]'
check_json "translate --json: 4K user data" '
x = d["results"][1]
assert (x["pa"], x["page_size"], x["level"]) == ("0x3003abc", 4096, 1), x
assert (x["writable"], x["user"], x["nx"]) == (True, True, True), x'
check_json "translate --json: frame not in dump" '
x = d["results"][2]
assert x["pa"] == "0xfee000f0" and x["pa_in_dump"] is False and x["nx"] is True, x'
check_json "translate --json: reserved-bit #PF" '
x = d["results"][3]
assert x["pa"] is None and x["error"] is None, x
assert x["fault"] == {"vector": 14, "error_code": 9, "level": 2,
                      "entry_pa": "0x2a19018", "entry": "0x80000000032020e7", "at_cr3_load": False}, x["fault"]'
check_json "translate --json: non-canonical #GP" '
x = d["results"][4]
f = x["fault"]
assert x["pa"] is None and f["vector"] == 13 and f["error_code"] == 0 and f["level"] == 0, x'
check_json "translate --json: table not in dump" '
x = d["results"][5]
assert x["pa"] is None and x["fault"] is None, x
assert x["error"] == {"reason": "table not in dump", "table_pa": "0x5000000"}, x'

run "$PTLAB" translate "$CORE" 0x400000 --json --access w --user
check_json "translate --json: protection fault" '
x = d["results"][0]
assert x["fault"]["vector"] == 14 and x["fault"]["error_code"] == 7, x
assert x["fault"]["entry_pa"] == "0x2a1a000" and d["access"] == "write" and d["context"]["cpl"] == 3'
run "$PTLAB" translate "$CORE" 0x400000 --json --mode pae
check_json "translate --json: PAE #GP at CR3 load" '
f = d["results"][0]["fault"]
assert (f["vector"], f["level"], f["entry_pa"], f["entry"]) == (13, 3, "0x2a10000", "0x2a18067"), f'
run "$PTLAB" translate "$RAW" 0x400000 --json --cr3 $CR3
check_json "translate --json: raw image defaults" '
c = d["context"]
assert d["format"] == "raw" and c["cpu_source"] == "none" and c["maxphyaddr"] == 52, c
assert d["results"][0]["pa"] == "0x3000000"'

# JSON string escaping: a dump whose name has a quote, a backslash, a tab and a non-UTF-8 byte.
ODD="$WORK/$(printf 'odd"\\\t\377.raw')"
cp "$RAW" "$ODD"
run "$PTLAB" translate "$ODD" 0x400000 --json --cr3 $CR3
check_json "JSON escaping of the dump name" '
assert d["dump"].endswith("odd\"\\\t\ufffd.raw"), repr(d["dump"])'
rm -f "$ODD"

# ---- rights controls from the command line: SMAP, RFLAGS.AC, implicit accesses, PKRU, C-bit ----
# 0x400000 is a user page (PTE 0x3000025); CR4 0x200030 adds SMAP (bit 21) to PAE|PSE.
run "$PTLAB" translate "$CORE" 0x400000 --cr4 0x200030
check_rc "SMAP: supervisor read of a user page" 1
check_line "SMAP: #PF P at the PTE" '0x400000 -> #PF error 0x1 (P) at level 1, entry 0x2a1a000 = 0x3000025  [entries: L4 0x2a10000=0x2a18067 L3 0x2a18000=0x2a19067 L2 0x2a19010=0x2a1a067 L1 0x2a1a000=0x3000025]'
run "$PTLAB" translate "$CORE" 0x400000 --cr4 0x200030 --rflags 0x40000
check_rc "SMAP with RFLAGS.AC: allowed" 0
run "$PTLAB" translate "$CORE" 0x400000 --cr4 0x200030 --rflags 0x40000 --implicit --json
check_rc "SMAP, AC, implicit access: still a fault" 1
check_json "implicit --json" '
assert d["implicit"] is True and d["access"] == "read", d
assert d["results"][0]["fault"]["error_code"] == 1, d'
# PKE (CR4 bit 22) with PKRU.AD for key 0: a user read of a user page faults with PK.
run "$PTLAB" translate "$CORE" 0x402000 --cr4 0x400030 --pkru 0x1 --user --json
check_rc "PKRU.AD key 0: user read faults" 1
check_json "PK error code" '
assert d["results"][0]["fault"]["error_code"] == 0x25, d'
run "$PTLAB" translate "$CORE" 0x400000 --pkru 0x100000000
check_usage "--pkru wider than 32 bits" "--pkru"
# A C-bit position above the frames: stripped, the translation is unchanged.
run "$PTLAB" translate "$CORE" 0xffffffff81000123 --cbit 45
check_rc "--cbit 45" 0
check_line "--cbit 45: same PA" '0xffffffff81000123 -> 0x1000123  2M page (level 2)  r-x kernel  [entries: L4 0x2a10ff8=0x2a11063 L3 0x2a11ff0=0x2a12063 L2 0x2a12040=0x10001a1]'
run "$PTLAB" translate "$CORE" 0x400000 --cbit 63
check_usage "--cbit out of range" "--cbit"

# ---- diff: the walker against Unicorn's MMU ----
run "$PTLAB" diff "$CORE" --probes 3000 --json
check_rc "diff --probes 3000" 0
check_json "diff --json" '
assert d["probes"] == 3000 and d["mismatches"] == 0 and d["first_mismatch"] is None, d
assert d["matches"] + sum(d["deviations"].values()) + d["skipped"] == 3000, d
assert d["maxphyaddr"] == 40, d'
run "$PTLAB" diff "$CORE" --probes 3000 --seed 9
check_rc "diff text" 0
check_line "diff: no mismatch" 'mismatches  0'
run "$PTLAB" diff "$CORE" --probes 0
check_usage "diff --probes 0" "--probes"
run "$PTLAB" diff "$CORE" --probes 12x
check_usage "diff --probes 12x" "--probes"

# ---- demo, images, boot ----
run "$PTLAB" demo --probes 5000 --json
check_rc "demo" 0
check_json "demo --json" '
assert d["ok"] is True and d["mismatches"] == 0 and d["probes"] == 5000, d
assert d["kpgd"] == d["cr3"] == "0x1004000" and d["paging"] == "ia32e", d
assert [s["step"] for s in d["steps"]] == ["boot", "kpgd", "walk", "diff"], d
assert all(s["ok"] for s in d["steps"]), d'
run "$PTLAB" demo --probes 2000 --kaslr 3 --la57
check_rc "demo --kaslr 3 --la57" 0
check_count "demo: four steps ok" '^(boot|kpgd|walk|diff) +ok ' 4
run "$PTLAB" demo extra
check_usage "demo with an argument" "extra"
run "$PTLAB" images --json
check_rc "images" 0
check_json "images --json" '
names = [i["name"] for i in d["images"]]
assert names[0] == "linux64" and d["images"][0]["default"] is True, names
assert "linux64-decompressor" in names and "linux32-pae" in names, names'
run "$PTLAB" boot linux64 --phys-load 0x4000000 --virt-offset 0x2000000 --out "$WORK/reloc.core" --symbols-out "$WORK/reloc.map" --json
check_rc "boot relocated" 0
check_json "boot --json" '
assert d["cr3"] == "0x4004000" and d["paging"] == "ia32e", d
assert d["phys_offset"] == "0x3000000" and d["virt_offset"] == "0x2000000", d'
run "$PTLAB" translate "$WORK/reloc.core" 0xffffffff83000000
check_rc "translate the booted dump" 0
check_line "booted dump: _text + slide -> load address" '0xffffffff83000000 -> 0x4000000  2M page (level 2)  rwx kernel  [entries: L4 0x4004ff8=0x4006067 L3 0x4006ff0=0x4007063 L2 0x40070c0=0x40001e3]'
if grep -Eq '^ffffffff81000000 T _text$' "$WORK/reloc.map" && grep -Eq '^0000000001000000 A phys_startup_64$' "$WORK/reloc.map"; then ok; else bad "boot: System.map lacks _text or phys_startup_64"; fi
# The build writes each image's System.map too: the same bytes as boot --symbols-out.
if cmp -s "$(dirname "$PTLAB")/boot_images/kernel64.System.map" "$WORK/reloc.map"; then ok; else bad "build-time kernel64.System.map differs from boot --symbols-out"; fi
rm -f "$WORK/reloc.core"
run "$PTLAB" boot linux64 --phys-load 0x1001000
check_usage "boot: misaligned --phys-load" "--phys-load"
run "$PTLAB" boot nope
check_usage "boot: unknown image" "nope"
run "$PTLAB" boot linux64 --budget 100
check_rc "boot: starved budget" 1

# vmlinux:PATH (a real kernel; the real tier boots Debian's): bad inputs name the file and offset.
IMGDIR="$(dirname "$PTLAB")/boot_images"
run "$PTLAB" boot "vmlinux:$IMGDIR/kernel64.elf"
check_usage "boot vmlinux: no --symbols" "needs --symbols"
run "$PTLAB" boot "vmlinux:$WORK/none" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot vmlinux: missing file" "$WORK/none: cannot open"
: >"$WORK/empty.vmlinux"
run "$PTLAB" boot "vmlinux:$WORK/empty.vmlinux" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot vmlinux: empty file" "empty.vmlinux: empty file"
run "$PTLAB" boot "bzimage:$WORK" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot bzimage: a directory" "not a regular file"
run "$PTLAB" boot "vmlinux:$IMGDIR/kernel64.System.map" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot vmlinux: not ELF" "kernel64.System.map: offset 0x0: not an ELF file"
run "$PTLAB" boot "vmlinux:$IMGDIR/kernel32.elf" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot vmlinux: an i386 kernel" "kernel32.elf: offset 0x40: the lowest segment (PA 0x1000000, VA 0xc1000000) is not"
$PY -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read(64)); b[4] = 1; open(sys.argv[2], "wb").write(b)' "$IMGDIR/kernel64.elf" "$WORK/class32.elf"
run "$PTLAB" boot "vmlinux:$WORK/class32.elf" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot vmlinux: ELFCLASS32" "class32.elf: offset 0x4: not a little-endian ELF64 file"
head -c 80 "$IMGDIR/kernel64.elf" >"$WORK/short.elf"
run "$PTLAB" boot "vmlinux:$WORK/short.elf" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot vmlinux: truncated program headers" "short.elf: offset 0x20: program headers"
run "$PTLAB" boot "vmlinux:$IMGDIR/kernel64.elf" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot vmlinux: symbols without start_kernel" "no start_kernel inside"
run "$PTLAB" boot "vmlinux:$IMGDIR/kernel64.elf" --symbols "$IMGDIR/kernel64.System.map" --kaslr 1
check_usage "boot vmlinux: --kaslr" "--kaslr"
run "$PTLAB" boot linux64 --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot: --symbols without vmlinux" "--symbols is for vmlinux"
# bzimage:PATH (the real tier boots Debian's vmlinuz through its own decompressor)
run "$PTLAB" boot "bzimage:$IMGDIR/kernel64.elf" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot bzimage: not a bzImage" "kernel64.elf: offset 0x202: no \"HdrS\" boot header"
$PY -c '
import sys
b = bytearray(4096)
b[0x1f1] = 1; b[0x200] = 0xeb; b[0x201] = 0x6a; b[0x202:0x206] = b"HdrS"
b[0x206:0x208] = (0x20f).to_bytes(2, "little"); b[0x211] = 1
open(sys.argv[1], "wb").write(b)' "$WORK/fake.bzimage"
run "$PTLAB" boot "bzimage:$WORK/fake.bzimage" --symbols "$IMGDIR/kernel64.System.map"
check_usage "boot bzimage: symbols without verify_cpu" "in the symbols: a bzimage boot needs"
run "$PTLAB" boot "bzimage:$WORK/fake.bzimage" --symbols "$IMGDIR/kernel64.System.map" --phys-load 0x4000000
check_usage "boot bzimage: --phys-load" "the decompressor places the kernel itself"
run "$PTLAB" boot linux64 --cmdline nokaslr
check_usage "boot: --cmdline without bzimage" "--cmdline is for bzimage"

# ---- maps ----------------------------------------------------------------------------------

run "$PTLAB" maps "$CORE"
check_rc "maps" 0
check_line "maps: user text" '0000000000400000-0000000000402000 0000000000002000 ur-x 0000000003000000 4K'
check_line "maps: user data" '0000000000402000-0000000000404000 0000000000002000 urw- 0000000003002000 4K'
check_line "maps: user stack" '00007ffffffff000-0000800000000000 0000000000001000 urw- 0000000003020000 4K'
check_line "maps: direct map coalesced" 'ffff888000000000-ffff888004000000 0000000004000000 -rw- 0000000000000000 2M'
check_line "maps: kernel text" 'ffffffff81000000-ffffffff81400000 0000000000400000 -r-x 0000000001000000 2M'
check_line "maps: kernel data" 'ffffffff81400000-ffffffff81800000 0000000000400000 -rw- 0000000001400000 2M'
check_line "maps: frame not in dump" 'ffffc90000000000-ffffc90000001000 0000000000001000 -rw- 00000000fee00000 4K (frame not in dump)'
check_line "maps: 1G page, frame mostly past the 64 MiB dump" 'ffff888100000000-ffff888140000000 0000000040000000 -rw- 0000000000000000 1G (frame not in dump)'
check_line "maps: ESPFIX first alias" 'ffffff0000000000-ffffff0000001000 0000000000001000 -r-- 0000000003010000 4K'
check_line "maps: ESPFIX aliases folded" '  ... 511 more ranges mapping the same frame every 0x200000, the last at ffffff003fe00000'
check_count "maps: ranges in VA order" '^[0-9a-f]{16}-' 9
check_line "maps: unreadable subtree listed" 'unreadable 00007fffffc00000-00007fffffe00000 0000000000200000 level 2 entry 0x2a1cff0 = 0x5000067: table 0x5000000 not in dump'
check_line "maps: reserved entry listed" 'reserved 0000000000600000-0000000000800000 0000000000200000 level 2 entry 0x2a19018 = 0x80000000032020e7: reserved bits 0x2000'
if [ "$(tail -2 "$WORK/out" | cut -d' ' -f1 | tr '\n' ' ')" = "unreadable reserved " ]; then ok; else bad "maps: unreadable/reserved not after the ranges"; fi
case $err in
"ptlab: warning: $CORE: 1 unreadable subtree (page table not in dump), 1 entry with reserved bits (listed after the ranges)") ok ;;
*) bad "maps: warning on stderr: $err" ;;
esac
maps_core=$out

run "$PTLAB" maps "$RAW" --cr3 $CR3
if [ "$rc" -eq 0 ] && [ "$out" = "$maps_core" ]; then ok; else bad "maps: raw image differs from the core"; fi

run "$PTLAB" maps "$CORE" --raw
check_rc "maps --raw" 0
check_count "maps --raw: one line per leaf" '^[0-9a-f]{16}: [0-9a-f]{16} [-X][-G][-P][-D][-A][-C][-T][-U][-W]( \(frame not in dump\))?$' 555
check_line "maps --raw: 2M text (QEMU info tlb letters)" 'ffffffff81000000: 0000000001000000 -GP-A----'
check_line "maps --raw: 2M data" 'ffffffff81600000: 0000000001600000 XGPDA---W'
check_line "maps --raw: user text 4K" '0000000000401000: 0000000003001000 ----A--U-'
check_line "maps --raw: PCD PWT, not in dump" 'ffffc90000000000: 00000000fee00000 XG-DACT-W (frame not in dump)'
check_line "maps --raw: 1G" 'ffff888100000000: 0000000000000000 XGPDA---W (frame not in dump)'

run "$PTLAB" maps "$CORE" --holes
check_line "maps --holes: first hole" '0000000000000000-0000000000400000 0000000000400000 hole'
check_line "maps --holes: stack PD hole" '00007fffffe00000-00007ffffffff000 00000000001ff000 hole'
check_line "maps --holes: non-canonical gap skipped" 'ffff800000000000-ffff888000000000 0000088000000000 hole'

run "$PTLAB" maps "$CORE" --json
check_rc "maps --json" 0
check_json "maps --json: ranges" '
r = d["ranges"]
assert len(r) == 520, len(r)
keys = {"va", "pa", "size", "writable", "user", "nx", "page_size"}
assert all(keys <= set(x) for x in r)
assert [int(x["va"], 16) for x in r] == sorted(int(x["va"], 16) for x in r)
t = {x["va"]: x for x in r}
k = t["0xffffffff81000000"]
assert (k["pa"], k["size"], k["page_size"], k["writable"], k["user"], k["nx"]) == \
       ("0x1000000", 0x400000, 2097152, False, False, False), k
u = t["0x402000"]
assert (u["pa"], u["size"], u["page_size"], u["writable"], u["user"], u["nx"]) == \
       ("0x3002000", 0x2000, 4096, True, True, True), u
m = t["0xffff888000000000"]
assert (m["pa"], m["size"], m["page_size"]) == ("0x0", 64 << 20, 2097152), m
g = t["0xffff888100000000"]
assert (g["size"], g["page_size"]) == (1 << 30, 1 << 30), g
assert t["0xffffc90000000000"]["pa_in_dump"] is False
assert sum(1 for x in r if x["pa"] == "0x3010000") == 512'
check_json "maps --json: unreadable, reserved, aliases" '
assert d["unreadable"] == [{"va": "0x7fffffc00000", "size": 0x200000, "level": 2,
                            "entry_pa": "0x2a1cff0", "entry": "0x5000067",
                            "table_pa": "0x5000000"}], d["unreadable"]
(x,) = d["reserved"]
assert (x["va"], x["size"], x["level"], x["entry"], x["reserved_bits"]) == \
       ("0x600000", 0x200000, 2, "0x80000000032020e7", "0x2000"), x
assert d["aliases"] == [] and d["fault"] is None
assert d["stats"]["leaves"] == 555 and d["stats"]["unreadable"] == 1'

run "$PTLAB" maps "$CORE" --json --alias-budget 10
check_json "maps --json --alias-budget: ESPFIX collapsed" '
a = d["aliases"]
assert len(a) + sum(1 for x in d["ranges"] if x["pa"] == "0x3010000") == 512, len(a)
assert len(a) > 0 and all(x["table_pa"] == "0x2a20000" for x in a), a[:1]
assert all(x["alias_va"] == "0xffffff0000000000" and x["size"] == 0x200000 for x in a)'

run "$PTLAB" maps "$CORE" --json --raw --holes
check_json "maps --json --raw --holes" '
assert len(d["ranges"]) == 555 and all("entry" in x for x in d["ranges"])
assert {"va": "0x0", "size": 0x400000} in d["holes"], d["holes"][:3]'

run "$PTLAB" maps "$CORE" --mode pae
check_rc "maps: PAE #GP at CR3 load" 1
case $err in
"ptlab: $CORE: loading CR3 0x2a10000 raises #GP: PDPTE 0x2a10000 = 0x2a18067 has reserved bits") ok ;;
*) bad "maps: PAE #GP at CR3 load: stderr '$err'" ;;
esac
run "$PTLAB" maps "$CORE" --mode pae --json
check_rc "maps --json: PAE #GP at CR3 load" 1
check_json "maps --json: PAE #GP at CR3 load" '
assert d["ranges"] == [] and d["context"]["mode"] == "pae"
assert d["fault"] == {"vector": 13, "error_code": 0, "level": 3, "entry_pa": "0x2a10000",
                      "entry": "0x2a18067", "reason": "PDPTE reserved bits at CR3 load", "at_cr3_load": True}, d'
run "$PTLAB" maps "$CORE" --mode pae --cr3 0x8000000 --json
check_rc "maps: PAE PDPT not in dump" 0
check_json "maps: PAE PDPT not in dump" '
assert d["ranges"] == [] and d["unreadable"][0]["table_pa"] == "0x8000000", d'
run "$PTLAB" maps "$CORE" --cr0 0x11
check_usage "maps with paging off" "paging is off"

# ---- bad input -----------------------------------------------------------------------------

TRUNC=$WORK/truncated.core
head -c 3000 "$CORE" >"$TRUNC"
run "$PTLAB" translate "$TRUNC" 0x400000
check_usage "truncated ELF" "$TRUNC" "offset 0x"
run "$PTLAB" maps "$TRUNC" --json
check_usage "truncated ELF (maps --json)" "$TRUNC" "offset 0x"

# A lying ELF: the second program header (the first PT_LOAD) says its bytes start at 2^62.
LIE=$WORK/lying.core
cp "$CORE" "$LIE"
phoff=$(od -An -t u8 -j 32 -N 8 "$LIE" | tr -d ' ')
printf '\000\000\000\000\000\000\000\100' | dd of="$LIE" bs=1 seek=$((phoff + 56 + 8)) conv=notrunc status=none
run "$PTLAB" translate "$LIE" 0x400000
check_usage "lying ELF p_offset" "$LIE" "$(printf 'offset 0x%x' $((phoff + 56)))"

run "$PTLAB" translate "$CORE" 0xzz
check_usage "garbage VA" "'0xzz'"
run "$PTLAB" translate "$CORE" 0x400000 18446744073709551616
check_usage "VA overflowing 64 bits" "'18446744073709551616'"
run "$PTLAB" translate "$CORE" 0x400000 ""
check_usage "empty VA" "VA ''"
run "$PTLAB" translate "$CORE" 0x400000 --cr3 0x
check_usage "garbage --cr3" "--cr3 '0x'"
run "$PTLAB" translate "$CORE" 0x100000000 --mode legacy
check_usage "VA wider than the mode" "'0x100000000'" "legacy"
run "$PTLAB" translate "$CORE" 0x400000 --mode bogus
check_usage "unknown mode" "unknown mode 'bogus'"
run "$PTLAB" maps "$CORE" --mode 4level
check_usage "unknown mode (maps)" "unknown mode '4level'"
run "$PTLAB" translate "$CORE" 0x400000 --access q
check_usage "unknown access" "unknown access 'q'"
run "$PTLAB" translate "$CORE" 0x400000 --maxphyaddr 60
check_usage "MAXPHYADDR out of range" "--maxphyaddr 60"
run "$PTLAB" translate "$CORE" 0x400000 --cpl 4
check_usage "CPL out of range" "--cpl 4"
run "$PTLAB" translate "$CORE" 0x400000 --efer 0x500 --cr4 0
check_usage "EFER.LMA without CR4.PAE" "--efer 0x500" "CR4.PAE"
run "$PTLAB" translate "$CORE" 0x400000 --cr3 0x10000000000000
check_usage "CR3 above MAXPHYADDR" "--cr3 0x10000000000000" "MAXPHYADDR 46"
run "$PTLAB" translate "$RAW" 0x400000
check_usage "raw image without --cr3" "$RAW: raw image has no CPU state: give --cr3"
run "$PTLAB" maps "$RAW" --json
check_usage "raw image without --cr3 (maps)" "$RAW: raw image has no CPU state: give --cr3"
run "$PTLAB" translate "$NCORE" 0x400000
check_usage "core without notes, no --cr3" "$NCORE" "give --cr3"
run "$PTLAB" translate "$WORK/no-such.core" 0x400000
check_usage "nonexistent file" "$WORK/no-such.core"
run "$PTLAB" maps "$WORK/no-such.core"
check_usage "nonexistent file (maps)" "$WORK/no-such.core"
run "$PTLAB" translate "$WORK" 0x400000
check_usage "a directory as the dump" "$WORK"

# The dumps are large: keep them only when something failed, to look at.
if [ "$fail" -eq 0 ]; then
	rm -f "$WORK"/*.core "$WORK"/*.raw
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
