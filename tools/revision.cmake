# tools/revision.cmake: writes revision.h (RBACMIG_GIT_REVISION) for `rbacmig --version`.
# CMakeLists.txt runs it at every build, not only at configure, so a new commit shows without
# a reconfigure; the file is rewritten only when the text changes, so an unchanged revision
# rebuilds nothing. A tree without git (a release tarball) says "unknown".
#   cmake -DSOURCE_DIR=... -DOUTPUT=.../revision.h -P tools/revision.cmake
set(rev "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" describe --always --dirty
                          --abbrev=12 --exclude=*
                  OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(rc EQUAL 0 AND out)
    set(rev "${out}")
  endif()
endif()
set(text "/* revision.h: generated at build time by tools/revision.cmake. */\n#define RBACMIG_GIT_REVISION \"${rev}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
