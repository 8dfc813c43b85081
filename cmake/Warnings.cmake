# Warning flags shared by every target (curl PickyWarnings, git config.mak.dev).
set(CV_WARNING_FLAGS
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wformat=2
    -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wvla
    -Wundef -Wcast-qual -Wwrite-strings -Wimplicit-fallthrough
    -Wno-sign-conversion)
# gcc's -Wformat-truncation (in -Wall at -O2) flags every snprintf whose
# output *could* be cut: truncation is exactly what the bounded snprintf
# calls here are for (messages, ids), so it only produces false alarms.
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    list(APPEND CV_WARNING_FLAGS -Wno-format-truncation)
endif()
if(CV_WERROR)
    list(APPEND CV_WARNING_FLAGS -Werror)
endif()
