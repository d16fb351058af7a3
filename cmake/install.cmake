# What `cmake --install` puts where (GNUInstallDirs), the pkg-config files and the CMake package.
#   bin/ptlab
#   include/ptlab/*.h                 every public header, and the generated version.h
#   lib/lib<lib>.so.MAJOR[.MINOR.PATCH], lib<lib>.so, lib<lib>.a   each ptlab_library()
#   lib/pkgconfig/<lib>.pc
#   lib/cmake/ptlab/                  ptlabConfig.cmake, ptlabConfigVersion.cmake, ptlabTargets*.cmake
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
