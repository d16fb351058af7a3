#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/test_check.sh PTLAB PTWALK_ADAPTER RUNNER_DIR WALKER_SRC_DIR WORKDIR
#
# The runner of the conformance kit (`ptlab check`, `ptlab vectors`), on walkers that misbehave
# (tests/walkers/runner_*): a crash is a failure of the probe in flight, named by its signal, and
# the run goes on; a hang is killed after --timeout and ptlab does not hang; PA 0 everywhere
# fails; a walker that dies at once, one with another ABI, one without the symbol, a missing file
# and a file that is no shared object exit 2 with one clear line; a walker printing on stdout does
# not spoil --json. The exec protocol with Python walkers (an honest 4-level one passes, PA 0
# fails, garbage, a hang, a crash mid-run, one that exits at once). Two exports are identical;
# --vectors runs them; a corrupt or missing manifest exits 2. The replay command of a failure
# prints the expected answer. Prints every failure and "N passed, N failed" last.
set -u

if [ $# -ne 5 ]; then
	echo "usage: $0 PTLAB PTWALK_ADAPTER RUNNER_DIR WALKER_SRC_DIR WORKDIR" >&2
	exit 2
fi
PTLAB=$1
PTWALK=$2
RUNNERS=$3
SRC=$4
WORK=$5
PY=/usr/bin/python3
HONEST="$PY $SRC/runner_honest4.py"

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}

# run CMD...: stdout in $WORK/out, stderr in $WORK/err, status in $rc, seconds in $secs.
run() {
	local t0=$SECONDS
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	secs=$((SECONDS - t0))
	err=$(cat "$WORK/err")
}

check_rc() {
	if [ "$rc" -eq "$2" ]; then ok; else bad "$1: exit $rc, expected $2 (stderr: $(head -c 600 "$WORK/err"))"; fi
}

# check_out NAME TEXT: stdout has a line containing TEXT.
check_out() {
	if grep -Fq -- "$2" "$WORK/out"; then
		ok
	else
		bad "$1: no '$2' in stdout:"
		sed 's/^/    /' "$WORK/out" | head -30
	fi
}

# check_err NAME LINE: stderr is exactly this one line.
check_err() {
	if [ "$err" = "$2" ]; then ok; else bad "$1: stderr is '$err', expected '$2'"; fi
}

# check_json NAME PYTHON: stdout is one JSON object r for which PYTHON (an expression) holds.
check_json() {
	if $PY -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$WORK/out"; then
		ok
	else
		bad "$1: JSON check failed: $2"
		head -c 800 "$WORK/out" | sed 's/^/    /'
	fi
}

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK" || exit 2
keep=(--keep "$WORK/kept" --no-real)

# ---- C adapters ----------------------------------------------------------------------------------
run "$PTLAB" check --adapter "$RUNNERS/runner_segv.so" --tags ia32e4.1g "${keep[@]}"
check_rc segv 1
check_out segv "  got       the walker crashed: SIGSEGV translating this probe"
check_out segv "ia32e4.1g                                      79       17            0"
run "$PTLAB" check --adapter "$RUNNERS/runner_segv.so" --tags ia32e4.1g --json "${keep[@]}"
check_json segv-json "r['tags']['ia32e4.1g']['passed'] == 79 and r['tags']['ia32e4.1g']['failed'] == 17 and 'SIGSEGV' in r['tags']['ia32e4.1g']['first_failure']['got']"

run "$PTLAB" check --adapter "$RUNNERS/runner_hang.so" --tags ia32e4.1g --timeout 2 "${keep[@]}"
check_rc hang 1
check_out hang "  got       no answer within the case's 2 s (killed) translating this probe"
if [ "$secs" -lt 60 ]; then ok; else bad "hang: took $secs s"; fi

run "$PTLAB" check --adapter "$RUNNERS/runner_pa0.so" "${keep[@]}"
check_rc pa0 1
check_out pa0 "FAIL ia32e4.4k: 261 of 261 probes; the first:"
check_out pa0 "  got       PA 0x0"
check_out pa0 "ia32e5                                          0        0          130"
# The replay command printed for the first failure shows the expected answer.
replay=$(sed -n 's/^  replay    ptlab //p' "$WORK/out" | head -1)
expected=$(sed -n 's/^  expected  PA \(0x[0-9a-f]*\) .*/\1/p' "$WORK/out" | head -1)
# shellcheck disable=SC2086
if "$PTLAB" $replay | grep -q -- "-> $expected "; then ok; else bad "pa0: replay '$replay' does not give $expected"; fi

run "$PTLAB" check --adapter "$RUNNERS/runner_exit.so" "${keep[@]}"
check_rc exit 2
check_err exit "ptlab: runner-exit: the walker cannot be started: the walker exited (status 0) in open() of the first 3 cases it was given"

run "$PTLAB" check --adapter "$RUNNERS/runner_abi.so" "${keep[@]}"
check_rc abi 2
check_err abi "ptlab: $RUNNERS/runner_abi.so: adapter ABI 2, this ptlab speaks ABI 1 (rebuild the walker against this ptlab's include/ptlab/adapter.h)"

run "$PTLAB" check --adapter "$RUNNERS/runner_nosym.so" "${keep[@]}"
check_rc nosym 2
check_err nosym "ptlab: $RUNNERS/runner_nosym.so: no symbol ptlab_adapter_v1 (a walker exports it: see include/ptlab/adapter.h)"

run "$PTLAB" check --adapter "$WORK/missing.so" "${keep[@]}"
check_rc missing 2
check_err missing "ptlab: $WORK/missing.so: No such file or directory"

echo "not a walker" >"$WORK/text.so"
run "$PTLAB" check --adapter "$WORK/text.so" "${keep[@]}"
check_rc text 2
check_err text "ptlab: $WORK/text.so: not a shared object (no ELF header)"

run "$PTLAB" check --adapter "$RUNNERS/runner_noisy.so" --tags canonical --json "${keep[@]}"
check_rc noisy 0
check_json noisy "r['format'] == 'ptlab-check/1' and r['adapter'] == 'runner-noisy' and r['failed'] == 0 and r['passed'] == 114"

# ---- usage --------------------------------------------------------------------------------------
run "$PTLAB" check
check_rc usage-none 2
check_err usage-none "ptlab: check: give exactly one of --adapter WALKER.so and --exec 'CMD' (see 'ptlab check --help')"
run "$PTLAB" check --exec true --caps rights,frobnicate
check_rc usage-caps 2
check_err usage-caps "ptlab: check: --caps: unknown capability at 'frobnicate' (rights, pf-error, page-size, sme-cbit) (see 'ptlab check --help')"
run "$PTLAB" check --adapter "$PTWALK" --tags 'no-such-tag*' "${keep[@]}"
check_rc usage-tags 2
check_err usage-tags "ptlab: check: no case has a probe of the tags 'no-such-tag*' (see 'ptlab check --help')"
# Both commands read their options through the one option loop (cli/options.c).
for cmd in check vectors; do
	run "$PTLAB" $cmd --help --json
	check_rc "$cmd-help" 0
	check_out "$cmd-help" "Usage: ptlab $cmd"
	check_out "$cmd-help" "Examples:"
	run "$PTLAB" $cmd --frobnicate
	check_rc "$cmd-unknown" 2
	check_err "$cmd-unknown" "ptlab: $cmd: unknown option '--frobnicate' (see 'ptlab $cmd --help')"
	run "$PTLAB" $cmd --tags
	check_rc "$cmd-no-value" 2
	check_err "$cmd-no-value" "ptlab: $cmd: option '--tags' needs a value (see 'ptlab $cmd --help')"
done
run "$PTLAB" check --adapter "$PTWALK" extra
check_rc usage-extra 2
check_err usage-extra "ptlab: check: unexpected argument 'extra' (see 'ptlab check --help')"
run "$PTLAB" check --adapter "$PTWALK" --timeout 0
check_rc usage-timeout 2
check_err usage-timeout "ptlab: check: --timeout '0' is not a number of seconds in (0, 3600] (see 'ptlab check --help')"
run "$PTLAB" check --adapter "$PTWALK" --caps rights
check_rc usage-caps-adapter 2
check_err usage-caps-adapter "ptlab: check: --caps is for --exec walkers (an adapter declares its caps) (see 'ptlab check --help')"
run "$PTLAB" vectors
check_rc vectors-usage-none 2
check_err vectors-usage-none "ptlab: vectors: missing 'export DIR' (see 'ptlab vectors --help')"
run "$PTLAB" vectors import "$WORK/x"
check_rc vectors-usage-sub 2
check_err vectors-usage-sub "ptlab: vectors: unknown subcommand 'import' (export) (see 'ptlab vectors --help')"
run "$PTLAB" vectors export
check_rc vectors-usage-dir 2
check_err vectors-usage-dir "ptlab: vectors: missing DIR (see 'ptlab vectors --help')"

# ---- exec walkers -------------------------------------------------------------------------------
run "$PTLAB" check --exec "$HONEST" --json "${keep[@]}"
check_rc honest 0
check_json honest "r['failed'] == 0 and all(r['tags'][t]['passed'] > 0 and r['tags'][t]['failed'] == 0 for t in ('ia32e4.4k', 'ia32e4.2m', 'ia32e4.1g', 'canonical', 'reserved-bits', 'maxphyaddr', 'cr3-flags', 'large-page-pat', 'boot.linux64', 'random.ia32e4', 'peer-bugs.noncanonical-sign-extended')) and r['tags']['pae.4k']['passed'] == 0 and r['tags']['pae.4k']['unsupported'] > 0 and r['tags']['rights.rw']['unsupported'] > 0"

run "$PTLAB" check --exec "$HONEST --pa0" "${keep[@]}"
check_rc exec-pa0 1
check_out exec-pa0 "  got       PA 0x0"

# Data answers (what drgn's Program.read gives): the right bytes pass, bytes 8 further on fail
# and name the PA they came from.
run "$PTLAB" check --exec "$HONEST --data" --tags 'ia32e4.*,canonical,boot.linux64' --json "${keep[@]}"
check_rc exec-data 0
check_json exec-data "r['failed'] == 0 and r['passed'] > 500"
run "$PTLAB" check --exec "$HONEST --data-off 8" --tags ia32e4.2m "${keep[@]}"
check_rc exec-data-off 1
check_out exec-data-off "  got       data 0xda7a012346600008 (the tag of PA 0x12346600008)"

run "$PTLAB" check --exec "exit 3" "${keep[@]}"
check_rc exec-exit 2
check_err exec-exit "ptlab: exit 3: the walker cannot be started: the walker exited (status 3); no stderr (before answering the open of its first 3 cases)"
run "$PTLAB" check --exec "no-such-walker --x" "${keep[@]}"
check_rc exec-not-found 2
check_err exec-not-found "ptlab: no-such-walker --x: the walker cannot be started: the command was not found (status 127); stderr: sh: 1: no-such-walker: not found (before answering the open of its first 3 cases)"
run "$PTLAB" check --exec "" "${keep[@]}"
check_rc exec-empty 2
check_err exec-empty "ptlab: --exec: empty command"

run "$PTLAB" check --exec "echo hello; cat >/dev/null" --tags canonical "${keep[@]}"
check_rc exec-garbage 1
check_out exec-garbage "  got       open failed: the walker printed a line that is not the protocol ('[' or '{' expected near 'hello'): 'hello'; no stderr"

run "$PTLAB" check --exec "sleep 600" --tags canonical --timeout 1 "${keep[@]}"
check_rc exec-hang 1
check_out exec-hang "  got       open failed: no answer within 1 s (killed); no stderr"
if [ "$secs" -lt 30 ]; then ok; else bad "exec-hang: took $secs s"; fi

run "$PTLAB" check --exec "$HONEST --crash-at 0x300000000000" --tags ia32e4.1g "${keep[@]}"
check_rc exec-crash 1
check_out exec-crash "RuntimeError: asked to crash at 0x300000000000"
check_out exec-crash "  got       the walker exited (status 1); stderr:"

# ---- the vector corpus ----------------------------------------------------------------------------
run "$PTLAB" vectors export "$WORK/v1" --tags 'ia32e4.*,pae.*,legacy32.*,boot.linux32,random.ia32e5'
check_rc export1 0
run "$PTLAB" vectors export "$WORK/v2" --tags 'ia32e4.*,pae.*,legacy32.*,boot.linux32,random.ia32e5' --json
check_rc export2 0
check_json export2 "r['cases'] >= 8 and r['probes'] > 1000"
if diff -r "$WORK/v1" "$WORK/v2" >/dev/null; then ok; else bad "two exports differ"; fi
if cmp -s "$WORK/v1/manifest.json" "$WORK/v2/manifest.json"; then ok; else bad "manifests differ"; fi
# Every built-in case, twice (in another directory, from another working directory): the same bytes.
run "$PTLAB" vectors export "$WORK/full1"
check_rc export-full1 0
mkdir -p "$WORK/sub"
(cd / && "$PTLAB" vectors export "$WORK/sub/full2" >/dev/null) || bad "export-full2: exit $?"
if diff -r "$WORK/full1" "$WORK/sub/full2" >/dev/null; then ok; else bad "two full exports differ"; fi
if [ "$(ls "$WORK/full1" | wc -l)" -gt 100 ]; then ok; else bad "full export: $(ls "$WORK/full1" | wc -l) files"; fi
rm -rf "$WORK/full1" "$WORK/sub"
run "$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); assert m['format']=='ptlab-vectors/1'; print(len(m['cases']))" "$WORK/v1/manifest.json"
check_rc manifest-json 0

run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/v1"
check_rc vectors-pass 0
run "$PTLAB" check --adapter "$RUNNERS/runner_pa0.so" --vectors "$WORK/v1" "${keep[@]}"
check_rc vectors-pa0 1
check_out vectors-pa0 "  replay    ptlab translate $WORK/v1/ia32e4-pages.core 0x100000000000"
run "$PTLAB" check --exec "$HONEST" --vectors "$WORK/v1"
check_rc vectors-exec 0

cp -r "$WORK/v1" "$WORK/bad"
sed -i 's/"va":"0x100000000000"/"va":"12"/' "$WORK/bad/manifest.json"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/bad"
check_rc vectors-bad-va 2
check_err vectors-bad-va "ptlab: $WORK/bad/manifest.json: cases[0].probes[0].va: not a 0x... hex string"
printf '{"format":"ptlab-vectors/1","cases":[' >"$WORK/bad/manifest.json"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/bad"
check_rc vectors-truncated 2
check_err vectors-truncated "ptlab: $WORK/bad/manifest.json: line 1 column 37: ']' expected near end of file"
printf '{"format":"ptlab-vectors/9","cases":[]}' >"$WORK/bad/manifest.json"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/bad"
check_rc vectors-format 2
check_err vectors-format "ptlab: $WORK/bad/manifest.json: format \"ptlab-vectors/9\": this ptlab reads \"ptlab-vectors/1\""
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/nowhere"
check_rc vectors-missing 2
check_err vectors-missing "ptlab: $WORK/nowhere/manifest.json: No such file or directory"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/text.so"
check_rc vectors-a-file 2
check_err vectors-a-file "ptlab: $WORK/text.so/manifest.json: Not a directory"
printf '[]' >"$WORK/bad/manifest.json"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/bad"
check_rc vectors-array 2
check_err vectors-array "ptlab: $WORK/bad/manifest.json: the top level: not a JSON object"
: >"$WORK/bad/manifest.json"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/bad"
check_rc vectors-empty 2
check_err vectors-empty "ptlab: $WORK/bad/manifest.json: line 1 column 0: '[' or '{' expected near end of file"
rm "$WORK/bad/manifest.json" && mkdir "$WORK/bad/manifest.json"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/bad"
check_rc vectors-manifest-dir 2
check_err vectors-manifest-dir "ptlab: $WORK/bad/manifest.json: a directory, not the manifest file"
rmdir "$WORK/bad/manifest.json" && cp "$WORK/v1/manifest.json" "$WORK/bad/"
echo "not a core" >"$WORK/bad/ia32e4-pages.core"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/bad"
check_rc vectors-dump-not-elf 2
check_err vectors-dump-not-elf "ptlab: $WORK/bad/ia32e4-pages.core: offset 0x0: not an ELF core (no ELF header), as $WORK/bad/manifest.json says it is"
sed -i 's/"format":"elf"/"format":"raw"/' "$WORK/bad/manifest.json"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/bad"
check_rc vectors-format-raw 2
check_err vectors-format-raw "ptlab: $WORK/bad/manifest.json: cases[0].format: not \"elf\" (the dumps of ptlab-vectors/1 are ELF cores)"
rm "$WORK/v1/ia32e4-pages.core"
run "$PTLAB" check --adapter "$PTWALK" --vectors "$WORK/v1"
check_rc vectors-dump-missing 2
check_err vectors-dump-missing "ptlab: $WORK/v1/ia32e4-pages.core: cannot open: No such file or directory"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
