# SPDX-License-Identifier: MPL-2.0
# Warning flags for every target of ours: shmb_target_defaults(target).
function(shmb_target_defaults target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 /wd4100 /wd4996)
    if(SHMB_WERROR)
      target_compile_options(${target} PRIVATE /WX)
    endif()
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow
                                             -Wstrict-prototypes)
    if(SHMB_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(SHMB_FUZZ)
      # Coverage for libFuzzer in everything; the fuzz targets add the
      # fuzzer's main at link time.
      target_compile_options(${target} PRIVATE
                             -fsanitize=fuzzer-no-link,address,undefined
                             -fno-omit-frame-pointer
                             -fno-sanitize-recover=all)
      target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    elseif(SHMB_SANITIZE)
      target_compile_options(${target} PRIVATE -fsanitize=address,undefined
                                               -fno-omit-frame-pointer
                                               -fno-sanitize-recover=all)
      target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
  endif()
  if(WIN32)
    # Windows 8: PIPE_REJECT_REMOTE_CLIENTS, TokenAppContainerSid,
    # QueryFullProcessImageNameW, CancelIoEx. LEAN_AND_MEAN keeps windows.h
    # from pulling winsock 1, which clashes with libuv's winsock2.
    target_compile_definitions(${target} PRIVATE _WIN32_WINNT=0x0602
                               WINVER=0x0602 WIN32_LEAN_AND_MEAN UNICODE
                               _UNICODE)
  endif()
  if(MINGW)
    # C99 printf (%zu, %llu) instead of the old msvcrt one.
    target_compile_definitions(${target} PRIVATE __USE_MINGW_ANSI_STDIO=1)
  endif()
endfunction()
