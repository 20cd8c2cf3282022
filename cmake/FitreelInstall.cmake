# `cmake --install`: headers, libraries, the executable, and a CMake package with one export
# set per component, so that `find_package(fitreel COMPONENTS core)` needs no OpenCV.
include(CMakePackageConfigHelpers)

set(FITREEL_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/fitreel"
    CACHE STRING "Where the fitreel CMake package is installed")

# One component: its library, its headers and its export set (fitreel-<name>-targets.cmake).
function(fitreel_install_component name include_root)
  install(TARGETS fitreel_${name} EXPORT fitreel-${name}-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${include_root}/fitreel DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          FILES_MATCHING PATTERN "*.hpp")
  install(EXPORT fitreel-${name}-targets NAMESPACE fitreel::
          DESTINATION ${FITREEL_INSTALL_CMAKEDIR})
endfunction()

fitreel_install_component(files lib/files/include)
fitreel_install_component(core lib/core/include)
install(FILES "${PROJECT_BINARY_DIR}/generated/include/fitreel/version.hpp"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fitreel)
if(FITREEL_BUILD_RENDER)
  fitreel_install_component(render lib/render/include)
  fitreel_install_component(reel lib/reel/include)
endif()

configure_package_config_file(cmake/fitreelConfig.cmake.in
  "${PROJECT_BINARY_DIR}/fitreelConfig.cmake"
  INSTALL_DESTINATION ${FITREEL_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so 0.3 accepts 0.3.* only.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/fitreelConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/fitreelConfig.cmake"
              "${PROJECT_BINARY_DIR}/fitreelConfigVersion.cmake"
        DESTINATION ${FITREEL_INSTALL_CMAKEDIR})
