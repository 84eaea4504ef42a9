#pragma once

// NTPKIT_API marks the declarations that libntpkit.so exports; everything else is hidden
// (CMAKE_CXX_VISIBILITY_PRESET hidden), as in fmt's FMT_API.
#if defined(NTPKIT_STATIC)
#define NTPKIT_API
#else
#define NTPKIT_API __attribute__((visibility("default")))
#endif
