# `cpack -G DEB` (and TGZ) from a build tree: one package, ptlab, holding everything
# cmake/install.cmake installs under /usr. dpkg-shlibdeps (Debian's dpkg-dev) computes Depends from
# the ELF files (libc6, libunicorn2, ...); the package's own shared libraries get a shlibs file.
include_guard(GLOBAL)
set(PTLAB_PACKAGE_MAINTAINER "ptlab maintainers <maintainers@ptlab.invalid>" CACHE STRING
    "Maintainer field of the Debian package")

set(CPACK_PACKAGE_NAME ptlab)
set(CPACK_PACKAGE_VENDOR ptlab)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${PTLAB_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "x86 paging lab: SDM-exact page-table walker library and its test harness")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"ptlab is the harness for people who write page-table walkers (memory
forensics, virtual-machine introspection, kernel debuggers, hypervisors)
to prove their translation code right.

libptwalk translates linear addresses exactly as the Intel SDM says, in
every x86 paging mode, over raw, ELF-core (QEMU, kdump) and LiME dumps,
enumerates address spaces and finds the kernel's page table. libptemu
runs boot code in the Unicorn Engine and uses Unicorn's MMU as an oracle.

This package holds the ptlab command, both libraries (shared and static),
their headers, pkg-config files and CMake package.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON) # the command and the .so; the .a files keep their symbols
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_SOURCE_GENERATOR "")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${PTLAB_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# The static libptemu.a needs Unicorn's development files; pkg-config reads the .pc files.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libunicorn-dev (>= 2.0), pkgconf | pkg-config")
include(CPack)
