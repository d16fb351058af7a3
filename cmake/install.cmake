# What `cmake --install` puts where (GNUInstallDirs), the pkg-config files and the CMake package.
#   bin/ptlab
#   include/ptlab/*.h                 every public header, and the generated version.h
#   lib/lib<lib>.so.MAJOR[.MINOR.PATCH], lib<lib>.so, lib<lib>.a   each ptlab_library()
#   lib/pkgconfig/<lib>.pc
#   lib/cmake/ptlab/                  ptlabConfig.cmake, ptlabConfigVersion.cmake, ptlabTargets*.cmake
#   share/doc/ptlab/conformance.md    the conformance kit's guide (`ptlab check` is in bin/ptlab)
#   share/doc/ptlab/examples/walkers/ its example walkers, as sources a user copies: minimal.c and
#                                     addrxlat.c (adapters: cc -shared -fPIC -I/usr/include ...),
#                                     drgn_walker.py (an exec walker over python3-drgn)
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(ptlab_libraries GLOBAL PROPERTY PTLAB_LIBRARIES)
set(ptlab_install_targets ptlab)
foreach(lib IN LISTS ptlab_libraries)
  list(APPEND ptlab_install_targets ${lib} ${lib}_shared)
endforeach()
install(TARGETS ${ptlab_install_targets} EXPORT ptlabTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The whole public-header directory, so that a header added there is installed without a change here.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ptlab DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/ptlab DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/docs/conformance.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/examples/walkers/minimal.c ${PROJECT_SOURCE_DIR}/examples/walkers/addrxlat.c
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/walkers)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/examples/walkers/drgn_walker.py
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/walkers)
foreach(lib IN LISTS ptlab_libraries)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${lib}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# The CMake package: relocatable (paths relative to the config file), version rule SameMajorVersion.
set(ptlab_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/ptlab)
install(EXPORT ptlabTargets NAMESPACE ptlab:: DESTINATION ${ptlab_cmake_dir})
set(PTLAB_LIBRARY_LIST "${ptlab_libraries}")
set(PTLAB_CONFIG_PKGCONFIG "")
foreach(lib IN LISTS ptlab_libraries)
  get_property(modules GLOBAL PROPERTY PTLAB_PKGCONFIG_${lib})
  string(APPEND PTLAB_CONFIG_PKGCONFIG "set(_ptlab_pkgconfig_${lib} \"${modules}\")\n")
endforeach()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ptlabConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/ptlabConfig.cmake INSTALL_DESTINATION ${ptlab_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/ptlabConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/ptlabConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/ptlabConfigVersion.cmake
        DESTINATION ${ptlab_cmake_dir})
