#!/usr/bin/env bash
# The installed ptlab as another project uses it (ctests install_consumer and install_deb, label
# install). The tree comes from `cmake --install BUILD --prefix WORK/prefix` (MODE install) or from
# the Debian package `cpack -G DEB` makes of BUILD, unpacked with dpkg-deb -x (MODE deb: also its
# control fields, Depends naming libunicorn2); then
#  1. every file is there (bin/ptlab, every public header and version.h, the libraries shared and
#     static, pkg-config files, the CMake package), and no build or source path is written into the
#     package files (relocatable);
#  2. `ptlab --version`; the SONAMEs; the shared libraries export pt_* / ptlab_* only;
#  3. each installed header compiles on its own;
#  4. the programs of this directory (walkbench: libptwalk; emucheck: libptemu) are built against
#     the installed tree with pkg-config and with find_package(ptlab), each shared and static, and
#     run: walkbench on a core made by the installed `ptlab boot linux64`;
#  5. the conformance kit as a user meets it: the installed example walker minimal.c, built
#     against the installed adapter.h, passes the installed `ptlab check` on 4-level paging.
#
#   check-install.sh MODE BUILD WORK CC CFLAGS LDFLAGS LIBDIR VERSION
# CFLAGS/LDFLAGS: what the libraries were built with that their users must repeat (the sanitizers
# of ci/test's build); LIBDIR: CMAKE_INSTALL_LIBDIR; VERSION: the project's version.
set -euo pipefail
if [ $# != 8 ] || { [ "$1" != install ] && [ "$1" != deb ]; }; then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
mode=$1 build=$2 work=$3 cc=$4 cflags=$5 ldflags=$6 libdir=$7 version=$8
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build=$(cd "$build" && pwd)
fail() {
  echo "check-install: FAILED: $*" >&2
  exit 1
}
step() { echo "== $*"; }

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
read -r -a cflag_list <<<"$cflags"
read -r -a ldflag_list <<<"$ldflags"
strict=(-std=c11 -O2 -Wall -Wextra -Werror)
cmake=${CMAKE:-cmake}
cpack=${CPACK:-cpack}

if [ "$mode" = install ]; then
  prefix=$work/prefix
  step "install into $prefix"
  "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"
else
  step "cpack -G DEB"
  "$cpack" -G DEB -B "$work/cpack" --config "$build/CPackConfig.cmake" >"$work/cpack.log" ||
    { cat "$work/cpack.log"; fail "cpack -G DEB"; }
  debs=("$work"/cpack/*.deb)
  [ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "cpack made ${#debs[@]} .deb files"
  deb=${debs[0]}
  echo "$deb: $(stat -c %s "$deb") bytes"
  dpkg-deb -f "$deb" Package Version Section Maintainer Depends
  [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "the package's version is not $version"
  depends=$(dpkg-deb -f "$deb" Depends)
  case ", $depends" in *", libunicorn2 "* | *", libunicorn2,"* | *", libunicorn2") ;;
  *) fail "Depends '$depends' does not name libunicorn2" ;; esac
  contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
  for f in ./usr/bin/ptlab "./usr/$libdir/pkgconfig/ptwalk.pc"; do
    grep -qxF "$f" <<<"$contents" || fail "the package does not hold $f"
  done
  dpkg-deb -x "$deb" "$work/root"
  prefix=$work/root/usr
fi
lib=$prefix/$libdir
expect=(bin/ptlab include/ptlab/version.h "$libdir/libptwalk.a" "$libdir/libptemu.a"
  "$libdir/pkgconfig/ptwalk.pc" "$libdir/pkgconfig/ptemu.pc"
  "$libdir/cmake/ptlab/ptlabConfig.cmake" "$libdir/cmake/ptlab/ptlabConfigVersion.cmake"
  "$libdir/cmake/ptlab/ptlabTargets.cmake" share/doc/ptlab/conformance.md
  share/doc/ptlab/examples/walkers/minimal.c share/doc/ptlab/examples/walkers/addrxlat.c
  share/doc/ptlab/examples/walkers/drgn_walker.py)
for l in ptwalk ptemu; do
  expect+=("$libdir/lib$l.so" "$libdir/lib$l.so.0" "$libdir/lib$l.so.$version")
done
for h in "$source_dir"/include/ptlab/*.h; do expect+=("include/ptlab/${h##*/}"); done
for f in "${expect[@]}"; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
echo "${#expect[@]} files in place"
if grep -rlF -e "$build" -e "$source_dir" "$lib/pkgconfig" "$lib/cmake"; then
  fail "the package files above name the build or source tree (not relocatable)"
fi

step "ptlab --version, SONAMEs, exported symbols"
got=$("$prefix/bin/ptlab" --version)
[ "$got" = "ptlab $version" ] || fail "ptlab --version says '$got', not 'ptlab $version'"
echo "$got"
for l in ptwalk ptemu; do
  so=$lib/lib$l.so.0
  soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [ "$soname" = "lib$l.so.0" ] || fail "$so: SONAME '$soname', not lib$l.so.0"
  syms=$(nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }')
  others=$(grep -v -E '^(pt_|ptlab_)' <<<"$syms" || true)
  [ -z "$others" ] || fail "$so exports symbols outside the API: $(echo $others | head -c 300)"
  echo "lib$l.so.0: SONAME $soname, $(grep -c . <<<"$syms") symbols exported, all pt_*/ptlab_*"
done
needed=$(readelf -d "$lib/libptemu.so.0" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
for n in libptwalk.so.0 libunicorn.so.2; do
  case " $needed " in *" $n "*) ;; *) fail "libptemu.so.0 needs '$needed', not $n" ;; esac
done
echo "libptemu.so.0 needs: $needed"

step "each installed header compiles on its own"
for h in "$prefix"/include/ptlab/*.h; do
  printf '#include <ptlab/%s>\n' "${h##*/}" |
    "$cc" "${strict[@]}" -fsyntax-only -I"$prefix/include" -x c - ||
    fail "ptlab/${h##*/} does not compile on its own"
done
echo "$(ls "$prefix"/include/ptlab/*.h | wc -l) headers"

step "a core from the installed ptlab"
core=$work/linux64.core
"$prefix/bin/ptlab" boot linux64 --out "$core" >"$work/boot.log"
[ -s "$core" ] || fail "ptlab boot wrote no core"

step "pkg-config builds"
export PKG_CONFIG_PATH=$lib/pkgconfig
for l in ptwalk ptemu; do
  v=$(pkg-config --modversion "$l")
  [ "$v" = "$version" ] || fail "pkg-config --modversion $l says '$v'"
done
bins=$work/pkg-config
mkdir -p "$bins"
# Shared: the installed .so, found at run time through the RPATH given here.
for prog in walkbench:ptwalk emucheck:ptemu; do
  p=${prog%%:*} l=${prog##*:}
  read -r -a pc <<<"$(pkg-config --cflags --libs "$l")"
  "$cc" "${strict[@]}" "${cflag_list[@]}" -o "$bins/$p-shared" "$here/$p.c" "${pc[@]}" \
    "${ldflag_list[@]}" -Wl,-rpath,"$lib"
  # Static: everything the archives need, from `pkg-config --static`; ptlab's own libraries taken
  # from their archives (-l:libNAME.a), the system's (Unicorn, libm) shared as usual.
  read -r -a pc_cflags <<<"$(pkg-config --cflags "$l")"
  pc_libs=()
  for w in $(pkg-config --static --libs "$l"); do
    if [ "${w#-l}" != "$w" ] && [ -e "$lib/lib${w#-l}.a" ]; then w=-l:lib${w#-l}.a; fi
    pc_libs+=("$w")
  done
  "$cc" "${strict[@]}" "${cflag_list[@]}" -o "$bins/$p-static" "$here/$p.c" "${pc_cflags[@]}" \
    "${pc_libs[@]}" "${ldflag_list[@]}"
done
echo "pkg-config --static --libs ptemu: $(pkg-config --static --libs ptemu)"

step "find_package(ptlab) builds"
"$cmake" -S "$here" -B "$work/find-package" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_BUILD_TYPE=Release \
  -DPTLAB_EXPECTED_VERSION="$version" >"$work/find-package.log" ||
  { cat "$work/find-package.log"; fail "configuring tests/consumer with find_package(ptlab)"; }
"$cmake" --build "$work/find-package" -j2 >>"$work/find-package.log" ||
  { cat "$work/find-package.log"; fail "building tests/consumer with find_package(ptlab)"; }

step "run"
for dir in "$bins" "$work/find-package"; do
  for kind in shared static; do
    deps=$(readelf -d "$dir/walkbench-$kind" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    edeps=$(readelf -d "$dir/emucheck-$kind" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    case "$kind: $deps | $edeps" in
    "shared: "*libptwalk.so.0*" | "*libptemu.so.0*) ;;
    "static: "*libpt* | "static: "*"|"*libpt*) fail "$dir/*-static need a ptlab .so: $deps | $edeps" ;;
    "shared: "*) fail "$dir/*-shared do not need the ptlab .so: $deps | $edeps" ;;
    esac
    echo "-- $dir/walkbench-$kind (needs: $deps)"
    "$dir/walkbench-$kind" "$core" 200000 || fail "$dir/walkbench-$kind on $core"
    echo "-- $dir/emucheck-$kind (needs: $edeps)"
    "$dir/emucheck-$kind" 2000 || fail "$dir/emucheck-$kind"
  done
done
step "ptlab check on the installed example walker"
examples=$prefix/share/doc/ptlab/examples/walkers
"$cc" -shared -fPIC -O2 -Wall -Wextra -Werror -I"$prefix/include" -o "$work/minimal.so" "$examples/minimal.c"
"$prefix/bin/ptlab" check --adapter "$work/minimal.so" --tags 'ia32e4.*,canonical' --no-real \
  --keep "$work/check-failures" >"$work/check.log" || { cat "$work/check.log"; fail "ptlab check on minimal.so"; }
tail -1 "$work/check.log"
echo "check-install: OK ($mode): pkg-config and find_package(ptlab), shared and static"
