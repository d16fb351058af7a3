# ptlab_library: one public library of ptlab, compiled once and linked twice.
#
#   ptlab_library(NAME SOURCES src... [OBJECTS objlib...] [LIBS ourlib...] [PKGCONFIG module...]
#                 DESCRIPTION text)
#
# makes
#   NAME_objs    an OBJECT library of SOURCES, position-independent, with the house warnings (add
#                private include directories or definitions to it);
#   NAME         libNAME.a: what the tools, tests, benches and fuzz targets of this tree link;
#   NAME_shared  libNAME.so.MAJOR (VERSION = the project's), exporting only the pt_* / ptlab_* API
#                (cmake/exports.map);
# both from the same objects, plus those of the OBJECT libraries named in OBJECTS (e.g. the packed
# boot images). LIBS are our libraries it builds on (NAME links their static form, NAME_shared their
# shared one); PKGCONFIG the pkg-config modules it needs (PkgConfig::<MODULE> targets, made here if
# the top level did not; they become Requires.private of NAME.pc and are looked up again by
# ptlabConfig.cmake). cmake/install.cmake installs and exports the two as ptlab::NAME (shared) and
# ptlab::NAME_static, with a pkg-config file NAME.pc.
include_guard(GLOBAL)
include(GNUInstallDirs)
find_package(PkgConfig REQUIRED)

# Where the .pc files find the installed tree: relative to the .pc file itself (${pcfiledir}), so
# an installed tree, a .deb or a tarball can be moved anywhere.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(PTLAB_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(PTLAB_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(PTLAB_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH ptlab_pc_up "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
  string(REGEX REPLACE "/$" "" ptlab_pc_up "${ptlab_pc_up}")
  set(PTLAB_PC_PREFIX "\${pcfiledir}/${ptlab_pc_up}")
  set(PTLAB_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(PTLAB_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()

# The variable prefix (and PkgConfig::<prefix> target) of a pkg-config module: "unicorn >= 2.0"
# -> UNICORN. ptlabConfig.cmake.in derives it the same way.
function(ptlab_pkgconfig_prefix module out)
  string(REGEX REPLACE "[ <>=].*" "" name "${module}")
  string(TOUPPER "${name}" name)
  string(MAKE_C_IDENTIFIER "${name}" name)
  set(${out} ${name} PARENT_SCOPE)
endfunction()

function(ptlab_library name)
  cmake_parse_arguments(L "" "DESCRIPTION" "SOURCES;OBJECTS;LIBS;PKGCONFIG" ${ARGN})
  if(L_UNPARSED_ARGUMENTS OR NOT L_SOURCES OR NOT L_DESCRIPTION)
    message(FATAL_ERROR "ptlab_library(${name}): SOURCES and DESCRIPTION needed; unknown: ${L_UNPARSED_ARGUMENTS}")
  endif()
  set(deps "")
  foreach(module IN LISTS L_PKGCONFIG)
    ptlab_pkgconfig_prefix("${module}" prefix)
    if(NOT TARGET PkgConfig::${prefix})
      pkg_check_modules(${prefix} REQUIRED IMPORTED_TARGET ${module})
    endif()
    list(APPEND deps PkgConfig::${prefix})
  endforeach()
  set(objects $<TARGET_OBJECTS:${name}_objs>)
  foreach(lib IN LISTS L_OBJECTS)
    list(APPEND objects $<TARGET_OBJECTS:${lib}>)
  endforeach()
  list(TRANSFORM L_LIBS APPEND _shared OUTPUT_VARIABLE shared_libs)
  set(includes $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
               $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
               $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

  add_library(${name}_objs OBJECT ${L_SOURCES})
  set_target_properties(${name}_objs PROPERTIES POSITION_INDEPENDENT_CODE ON)
  # Position-independent code for the shared library, without its cost in libNAME.a: calls between
  # the library's own functions may be inlined and bound locally (no symbol of ours is interposed).
  target_compile_options(${name}_objs PRIVATE ${PTLAB_WARNINGS} -fno-semantic-interposition)
  target_include_directories(${name}_objs PUBLIC ${includes})
  # Only the outside dependencies' usage requirements: our libraries share the include directory
  # above, and a link to them would make these objects wait for their archives.
  target_link_libraries(${name}_objs PUBLIC ${deps})

  add_library(${name} STATIC ${objects})
  target_include_directories(${name} PUBLIC ${includes})
  target_link_libraries(${name} PUBLIC ${L_LIBS} ${deps})
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${name}_static LINKER_LANGUAGE C)

  add_library(${name}_shared SHARED ${objects})
  target_include_directories(${name}_shared PUBLIC ${includes})
  target_link_libraries(${name}_shared PUBLIC ${shared_libs} PRIVATE ${deps})
  target_link_options(${name}_shared PRIVATE
                      "LINKER:--version-script=${PROJECT_SOURCE_DIR}/cmake/exports.map")
  set_target_properties(${name}_shared PROPERTIES
    OUTPUT_NAME ${name} EXPORT_NAME ${name} LINKER_LANGUAGE C
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
    LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/exports.map)

  # NAME.pc, installed by cmake/install.cmake.
  set(PC_NAME ${name})
  set(PC_DESCRIPTION "${L_DESCRIPTION}")
  list(TRANSFORM L_LIBS APPEND " = ${PROJECT_VERSION}" OUTPUT_VARIABLE requires)
  list(JOIN requires ", " PC_REQUIRES)
  list(JOIN L_PKGCONFIG ", " PC_REQUIRES_PRIVATE)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/library.pc.in
                 ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc @ONLY)
  set_property(GLOBAL APPEND PROPERTY PTLAB_LIBRARIES ${name})
  set_property(GLOBAL PROPERTY PTLAB_PKGCONFIG_${name} ${L_PKGCONFIG})
endfunction()
