# Small helpers shared by every fitreel target. No global flags: each target opts in.

# Sets FITREEL_TORCH_HAS_CUDA when the LibTorch found was built with CUDA
# (official 2.x CUDA archives define the c10_cuda/torch_cuda targets; Debian's does not).
function(fitreel_detect_torch_cuda)
  if(TARGET c10_cuda OR TARGET torch_cuda)
    set(FITREEL_TORCH_HAS_CUDA ON PARENT_SCOPE)
    message(STATUS "fitreel: LibTorch ${Torch_VERSION} with CUDA")
  else()
    set(FITREEL_TORCH_HAS_CUDA OFF PARENT_SCOPE)
    message(STATUS "fitreel: LibTorch ${Torch_VERSION}, CPU only")
  endif()
endfunction()

# One library component, fitreel::<name>: target fitreel_<name> (exported as <name>) built from
# SOURCES, its public headers in include/ (installed as they lie, plus any PUBLIC_INCLUDES made
# at build time), its private ones in src/, and our defaults.
#   fitreel_add_component(NAME SOURCES source... [PUBLIC_INCLUDES dir...])
function(fitreel_add_component name)
  cmake_parse_arguments(arg "" "" "SOURCES;PUBLIC_INCLUDES" ${ARGN})
  set(target fitreel_${name})
  add_library(${target} ${arg_SOURCES})
  add_library(fitreel::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME ${target})
  set(build_includes "")
  foreach(dir IN LISTS arg_PUBLIC_INCLUDES)
    list(APPEND build_includes "$<BUILD_INTERFACE:${dir}>")
  endforeach()
  target_include_directories(${target}
    PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      ${build_includes}
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE src)
  fitreel_target_defaults(${target})
endfunction()

# C++17, warnings and (optionally) sanitizers for one of our own targets.
function(fitreel_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_17)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    # Our option structs are aggregates with defaults, meant to be filled in part ({a, b}).
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                             -Wno-missing-field-initializers)
    if(FITREEL_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(FITREEL_SANITIZE)
      target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
      # PUBLIC: whatever links a sanitized (static) library needs the sanitizer runtimes too.
      target_link_options(${target} PUBLIC -fsanitize=address,undefined)
    elseif(FITREEL_THREAD_SANITIZER)
      target_compile_options(${target} PRIVATE -fsanitize=thread)
      target_link_options(${target} PUBLIC -fsanitize=thread)
    endif()
  endif()
endfunction()

# Precompiles the LibTorch headers for a target that includes them, or reuses
# the core's precompiled header (the compile flags must match, so only our own
# targets with the same defaults share it). The header is ~570 MB: loading it costs ~8 s a file,
# so the target's sources that include no LibTorch, even through other headers, are named
# after TORCH_FREE and compile without it.
#   fitreel_torch_pch(TARGET [TORCH_FREE source...])
function(fitreel_torch_pch target)
  cmake_parse_arguments(arg "" "" "TORCH_FREE" ${ARGN})
  if(NOT FITREEL_PRECOMPILED_HEADERS)
    return()
  endif()
  if(target STREQUAL "fitreel_core")
    target_precompile_headers(${target} PRIVATE <torch/torch.h>)
  else()
    target_precompile_headers(${target} REUSE_FROM fitreel_core)
  endif()
  if(arg_TORCH_FREE)
    set_source_files_properties(${arg_TORCH_FREE} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  endif()
endfunction()
