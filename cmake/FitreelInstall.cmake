# `cmake --install`: headers, libraries, the executable, and a CMake package with one export
# set per component, so that `find_package(fitreel COMPONENTS core)` needs no OpenCV.
include(CMakePackageConfigHelpers)

set(FITREEL_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/fitreel"
    CACHE STRING "Where the fitreel CMake package is installed")

install(TARGETS fitreel_files EXPORT fitreel-files-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY lib/files/include/fitreel DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT fitreel-files-targets NAMESPACE fitreel:: DESTINATION ${FITREEL_INSTALL_CMAKEDIR})

install(TARGETS fitreel_core EXPORT fitreel-core-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY lib/core/include/fitreel DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/generated/include/fitreel/version.hpp"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fitreel)
install(EXPORT fitreel-core-targets NAMESPACE fitreel:: DESTINATION ${FITREEL_INSTALL_CMAKEDIR})

if(FITREEL_BUILD_RENDER)
  install(TARGETS fitreel_render EXPORT fitreel-render-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY lib/render/include/fitreel DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          FILES_MATCHING PATTERN "*.hpp")
  install(EXPORT fitreel-render-targets NAMESPACE fitreel:: DESTINATION ${FITREEL_INSTALL_CMAKEDIR})
endif()

configure_package_config_file(cmake/fitreelConfig.cmake.in
  "${PROJECT_BINARY_DIR}/fitreelConfig.cmake"
  INSTALL_DESTINATION ${FITREEL_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so 0.1 accepts 0.1.* only.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/fitreelConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/fitreelConfig.cmake"
              "${PROJECT_BINARY_DIR}/fitreelConfigVersion.cmake"
        DESTINATION ${FITREEL_INSTALL_CMAKEDIR})
