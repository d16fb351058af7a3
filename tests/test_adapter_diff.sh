#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_adapter_diff.sh REPLAY WORKDIR SEEDS... -- GOOD.so... -- BAD.so...
#
# The adapter fuzz target (fuzz/adapter_diff.c), replay build, over the seed files: every GOOD
# walker agrees with libptwalk on every seed (exit 0); every BAD walker is caught, the run aborts
# with a reproducer line (mode, CR0/CR3/CR4/EFER, MAXPHYADDR, C-bit, VA, access, expected, got).
set -u
replay=$1 work=$2
shift 2
mkdir -p "$work"
seeds=
while [ "$1" != -- ]; do seeds="$seeds $1"; shift; done
shift
fail=0
phase=good
for so in "$@"; do
	if [ "$so" = -- ]; then phase=bad; continue; fi
	name=$(basename "$so" .so)
	# shellcheck disable=SC2086
	PTLAB_ADAPTER=$so "$replay" $seeds 2>"$work/$name.err" >/dev/null
	rc=$?
	if [ $phase = good ]; then
		if [ $rc -eq 0 ]; then echo "ok    $name: no mismatch"
		else echo "FAIL  $name: exit $rc"; tail -4 "$work/$name.err"; fail=1; fi
	elif [ $rc -ne 0 ] && grep -q 'differs from libptwalk' "$work/$name.err" &&
	     grep -q ' VA 0x.* expected .*, got ' "$work/$name.err"; then
		echo "ok    $name: caught: $(grep -A1 'differs from' "$work/$name.err" | tail -1)"
	else
		echo "FAIL  $name: not caught (exit $rc)"; tail -4 "$work/$name.err"; fail=1
	fi
done
exit $fail
