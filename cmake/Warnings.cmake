# Warning flags shared by every target (curl PickyWarnings, git config.mak.dev).
set(CV_WARNING_FLAGS
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wformat=2
    -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wvla
    -Wundef -Wcast-qual -Wwrite-strings -Wimplicit-fallthrough
    -Wno-sign-conversion)
if(CV_WERROR)
    list(APPEND CV_WARNING_FLAGS -Werror)
endif()
