#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/test_kpgd_cli.sh PTLAB WORKDIR
#
# `ptlab find-kpgd` end to end: boot images with `ptlab boot` (default, KASLR, LA57, the
# decompressor, 32-bit ones when built in), then find-kpgd in text and --json with a System.map,
# a kallsyms-style map and no symbols: the kpgd must be the CR3 the boot printed and the offsets
# the ones it chose. Exit statuses: 0 verified, 1 another kernel's map (not verified), 2 bad input
# (missing dump, garbage symbol file) with one line on stderr naming the file.
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 PTLAB WORKDIR" >&2
	exit 2
fi
PTLAB=$1
WORK=$2
mkdir -p "$WORK"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
run() {
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	out=$(cat "$WORK/out")
	err=$(cat "$WORK/err")
}
# jget KEY: the value of "KEY" in the JSON on $out (strings without quotes).
jget() {
	printf '%s' "$out" | grep -o "\"$1\":\(\"[^\"]*\"\|[a-z0-9]*\)" | head -1 | sed 's/^"[^"]*"://' | tr -d '"'
}

# case IMAGE ARGS...: boot, then find-kpgd with each symbol source. The core is written without
# its VMCOREINFO note (--no-vmcoreinfo), so that the symbol, KASLR, identity and brute-force
# strategies are the ones that answer; check_vmcoreinfo then checks the note's answer alone.
check_variant() {
	local image=$1
	shift
	run "$PTLAB" boot "$image" "$@" --no-vmcoreinfo --out "$WORK/d.core" --symbols-out "$WORK/d.map" --json
	if [ "$rc" -ne 0 ]; then bad "boot $image $*: exit $rc ($err)"; return; fi
	local cr3 virt phys paging
	cr3=$(jget cr3); virt=$(jget virt_offset); phys=$(jget phys_offset); paging=$(jget paging)
	grep -v ' [Aa] ' "$WORK/d.map" >"$WORK/d.kallsyms"
	for syms in "$WORK/d.map" "$WORK/d.kallsyms"; do
		run "$PTLAB" find-kpgd "$WORK/d.core" --symbols "$syms" --json
		if [ "$rc" -ne 0 ]; then bad "find-kpgd $image $* ($syms): exit $rc ($err)"; continue; fi
		local k m v p ver
		k=$(jget kpgd); m=$(jget paging); v=$(jget virt_offset); p=$(jget phys_offset); ver=$(jget verified)
		# the decompressor stage has no kernel table yet: CR3's identity map is the answer
		if [ "$k" = "$cr3" ] && [ "$m" = "$paging" ] && [ "$v" = "$virt" ] && [ "$p" = "$phys" ] &&
		   [ "$ver" = true ]; then ok
		else bad "find-kpgd $image $* ($syms): got kpgd $k $m virt $v phys $p verified $ver, want $cr3 $paging $virt $phys"; fi
		case "$out" in '{"dump"'*'"evidence":[{"ok":true,"fact":'*'}') ok ;; *) bad "JSON shape: $out" ;; esac
		[ -z "$err" ] && ok || bad "stderr not empty: $err"
	done
	run "$PTLAB" find-kpgd "$WORK/d.core" --symbols "$WORK/d.map"
	case "$out" in *"kpgd        $cr3"*"verified    yes"*) ok ;; *) bad "text output: $out" ;; esac
	run "$PTLAB" find-kpgd "$WORK/d.core" --json
	if [ "$rc" -eq 0 ] && [ "$(jget kpgd)" = "$cr3" ] && [ "$(jget virt_offset)" = null ] &&
	   [ "$(jget method)" != vmcoreinfo ]; then ok
	else bad "no symbols $image $*: exit $rc $(jget kpgd) $(jget method) (want $cr3)"; fi
	check_vmcoreinfo "$image" "$@"
}

# check_vmcoreinfo IMAGE ARGS...: the same variant written as ptlab writes it by default, with
# the VMCOREINFO the kernel would export (64 MiB of memory: the offsets are this boot's own):
# find-kpgd with no symbol file answers from the note alone (method vmcoreinfo) with the kpgd,
# mode and both offsets of the boot, and a System.map changes nothing. The decompressor stage has
# no kernel yet, so no note: the answer is the identity map's, as without it.
check_vmcoreinfo() {
	local image=$1 cr3 paging virt phys
	shift
	run "$PTLAB" boot "$image" "$@" --mem 64M --out "$WORK/v.core" --json
	if [ "$rc" -ne 0 ]; then bad "boot $image $* with VMCOREINFO: exit $rc ($err)"; return; fi
	cr3=$(jget cr3); virt=$(jget virt_offset); phys=$(jget phys_offset); paging=$(jget paging)
	for syms in none "$WORK/d.map"; do
		if [ "$syms" = none ]; then run "$PTLAB" find-kpgd "$WORK/v.core" --json
		else run "$PTLAB" find-kpgd "$WORK/v.core" --symbols "$syms" --json; fi
		local k m v p ver meth
		k=$(jget kpgd); m=$(jget paging); v=$(jget virt_offset); p=$(jget phys_offset); ver=$(jget verified); meth=$(jget method)
		if [ "$image" = linux64-decompressor ]; then
			if [ "$rc" -eq 0 ] && [ "$k" = "$cr3" ] && [ "$meth" = identity ]; then ok
			else bad "decompressor core ($syms): exit $rc kpgd $k method $meth (want $cr3 identity)"; fi
			continue
		fi
		if [ "$rc" -eq 0 ] && [ "$k" = "$cr3" ] && [ "$m" = "$paging" ] && [ "$v" = "$virt" ] &&
		   [ "$p" = "$phys" ] && [ "$ver" = true ] && [ "$meth" = vmcoreinfo ]; then ok
		else bad "VMCOREINFO $image $* ($syms): exit $rc kpgd $k $m virt $v phys $p verified $ver method $meth, want $cr3 $paging $virt $phys vmcoreinfo"; fi
	done
}

check_variant linux64
check_variant linux64 --kaslr 3
check_variant linux64 --phys-load 0x200000
check_variant linux64 --la57 --kaslr 21
check_variant linux64-decompressor
for img in $("$PTLAB" images | awk '/^linux32/ {print $1}'); do
	check_variant "$img"
	check_variant "$img" --kaslr 2
done

# another kernel's map: every address 2 MiB higher, the banner moved: exit 1, not verified, on
# the core without VMCOREINFO and on the one with it (the note and the map disagree).
"$PTLAB" boot linux64 --kaslr 5 --no-vmcoreinfo --out "$WORK/d.core" --symbols-out "$WORK/d.map" >/dev/null
"$PTLAB" boot linux64 --kaslr 5 --out "$WORK/v.core" >/dev/null
awk '{ print }' "$WORK/d.map" | while read -r a t n; do
	if [ "$t" = A ] || [ "$t" = a ]; then echo "$a $t $n"; continue; fi
	v=$(( 0x$a + 0x200000 )); [ "$n" = linux_banner ] && v=$(( v + 0x40 ))
	printf '%016x %s %s\n' "$v" "$t" "$n"
done >"$WORK/other.map"
for core in d.core v.core; do
	run "$PTLAB" find-kpgd "$WORK/$core" --symbols "$WORK/other.map" --json
	[ "$rc" -eq 1 ] && [ "$(jget verified)" = false ] && ok || bad "other kernel's map ($core): exit $rc verified $(jget verified)"
done

# bad input: exit 2, one line naming the file
run "$PTLAB" find-kpgd "$WORK/missing.core"
[ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && case "$err" in *missing.core*) true ;; *) false ;; esac \
	&& ok || bad "missing dump: exit $rc ($err)"
printf 'garbage\nmore garbage\n' >"$WORK/garbage.map"
run "$PTLAB" find-kpgd "$WORK/d.core" --symbols "$WORK/garbage.map"
[ "$rc" -eq 2 ] && case "$err" in *garbage.map*"line 1"*) true ;; *) false ;; esac && ok || bad "garbage map: exit $rc ($err)"
run "$PTLAB" find-kpgd "$WORK/d.core" --method nope
[ "$rc" -eq 2 ] && ok || bad "bad method: exit $rc"
run "$PTLAB" find-kpgd
[ "$rc" -eq 2 ] && ok || bad "no dump: exit $rc"
run "$PTLAB" find-kpgd --help
[ "$rc" -eq 0 ] && case "$out" in *Examples*find-kpgd*) true ;; *) false ;; esac && ok || bad "--help"
# a map with some garbage lines: a warning, still verified
{ cat "$WORK/d.map"; echo "not a symbol"; } >"$WORK/some.map"
run "$PTLAB" find-kpgd "$WORK/d.core" --symbols "$WORK/some.map"
[ "$rc" -eq 0 ] && case "$err" in *"skipped 1"*) true ;; *) false ;; esac && ok || bad "warning for garbage lines: exit $rc ($err)"
# brute force alone, text output
run "$PTLAB" find-kpgd "$WORK/d.core" --symbols "$WORK/d.map" --method brute-force
[ "$rc" -eq 0 ] && case "$out" in *"method      brute-force"*) true ;; *) false ;; esac && ok || bad "brute force: exit $rc"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
