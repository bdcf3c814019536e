# Build functions shared by every folder. This file is the one place the
# build's choices are written down:
#
#   df_kernel_objects(NAME SOURCES...)   kernel code, compiled with the kernel
#                                         flags below, linked into every image
#   df_ktest_objects(NAME SOURCES...)    in-guest tests, linked into the
#                                         ktest image only
#   df_host_library(NAME SOURCES... [LIBS ...])
#                                         portable code for the host; builds
#                                         NAME (optimized, for host programs and
#                                         bench/) and NAME_san (ASan+UBSan, for
#                                         unit tests)
#   df_check_test(NAME SOURCES... [LIBS ...])
#                                         a Check unit test with sanitizers,
#                                         registered with ctest as host.NAME
#   df_kbench_objects(NAME SOURCES...)   in-guest benchmarks, linked into the
#                                         kbench image only
#   df_image(NAME SOURCES... [KTESTS] [KBENCH])
#                                         a kernel image NAME.elf: the kernel,
#                                         the application SOURCES and, with
#                                         KTESTS or KBENCH, every in-guest
#                                         test or benchmark
#
# There are no build options: every configuration above is always built.

set(DF_ARCH_DIR ${CMAKE_SOURCE_DIR}/arch/x86_64)
set(DF_LIBDIR /usr/lib/x86_64-linux-gnu)

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
	OUTPUT_VARIABLE DF_GCC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-libgcc-file-name
	OUTPUT_VARIABLE DF_LIBGCC OUTPUT_STRIP_TRAILING_WHITESPACE)

# The distribution's headers for the libraries linked into the kernel, and
# only those: the kernel is built with -nostdinc, so a header not listed
# here (or in core/libc/include) cannot slip in from glibc.
set(DF_KINCLUDE ${CMAKE_BINARY_DIR}/kinclude)
file(MAKE_DIRECTORY ${DF_KINCLUDE})
foreach(h zlib.h zconf.h zstd.h zstd_errors.h lz4.h lz4hc.h lz4frame.h
		libfdt.h libfdt_env.h fdt.h xxhash.h)
	file(CREATE_LINK /usr/include/${h} ${DF_KINCLUDE}/${h} SYMBOLIC)
endforeach()
# Linux's UAPI headers, for the virtio structures (linux/virtio_*.h) and
# the types they use (linux/types.h, asm/, asm-generic/).
file(MAKE_DIRECTORY ${DF_KINCLUDE}/linux)
file(GLOB DF_UAPI_HEADERS RELATIVE /usr/include/linux
	/usr/include/linux/virtio_*.h)
foreach(h ${DF_UAPI_HEADERS} types.h posix_types.h stddef.h const.h
		if_ether.h)
	file(CREATE_LINK /usr/include/linux/${h} ${DF_KINCLUDE}/linux/${h}
		SYMBOLIC)
endforeach()
file(CREATE_LINK /usr/include/x86_64-linux-gnu/asm ${DF_KINCLUDE}/asm
	SYMBOLIC)
file(CREATE_LINK /usr/include/asm-generic ${DF_KINCLUDE}/asm-generic
	SYMBOLIC)

# Kernel code. Notes on the less usual flags:
#  -mgeneral-regs-only: Damselfly's own code never touches SSE/AVX registers,
#     so interrupt entry need not save FPU state; the FPU belongs to the
#     linked libraries and the application, and is saved per thread on a
#     switch (see arch/x86_64/fpu.c).
#  no -mno-red-zone: every interrupt and exception arrives on an IST stack,
#     so the interrupted code's red zone is never overwritten (DESIGN.md).
#  -fstack-protector-strong: the canary is at %fs:0x28, as in the
#     distribution's static libraries.
#  -nostdinc: only gcc's freestanding headers and core/libc/include.
set(DF_KERNEL_CFLAGS
	-O2 -g -Wall -Wextra -Werror -Wno-unused-parameter
	-Wmissing-prototypes -Wstrict-prototypes -Wformat=2
	-fno-pie -fno-pic -fno-plt -fno-common -fno-strict-aliasing
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
	-fstack-protector-strong -mgeneral-regs-only
	-ffunction-sections -fdata-sections
	-fno-asynchronous-unwind-tables
	-nostdinc "SHELL:-isystem ${CMAKE_SOURCE_DIR}/core/libc/include"
	"SHELL:-isystem ${DF_GCC_INCLUDE}" "SHELL:-isystem ${DF_KINCLUDE}"
	-D_DAMSELFLY_KERNEL=1)
set(DF_KERNEL_INCLUDES ${CMAKE_SOURCE_DIR})

set(DF_HOST_CFLAGS -Wall -Wextra -Wno-unused-parameter -Wformat=2)
set(DF_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
	-fno-omit-frame-pointer)

function(df_kernel_objects name)
	add_library(${name} OBJECT ${ARGN})
	target_compile_options(${name} PRIVATE
		$<$<COMPILE_LANGUAGE:C>:${DF_KERNEL_CFLAGS}>
		$<$<COMPILE_LANGUAGE:ASM>:-fno-pie -D__ASSEMBLY__>)
	target_include_directories(${name} PRIVATE ${DF_KERNEL_INCLUDES})
	set_property(GLOBAL APPEND PROPERTY DF_KERNEL_OBJLIBS ${name})
endfunction()

function(df_ktest_objects name)
	add_library(${name} OBJECT ${ARGN})
	target_compile_options(${name} PRIVATE ${DF_KERNEL_CFLAGS})
	target_include_directories(${name} PRIVATE ${DF_KERNEL_INCLUDES})
	set_property(GLOBAL APPEND PROPERTY DF_KTEST_OBJLIBS ${name})
endfunction()

function(df_kbench_objects name)
	add_library(${name} OBJECT ${ARGN})
	target_compile_options(${name} PRIVATE ${DF_KERNEL_CFLAGS})
	target_include_directories(${name} PRIVATE ${DF_KERNEL_INCLUDES})
	set_property(GLOBAL APPEND PROPERTY DF_KBENCH_OBJLIBS ${name})
endfunction()

function(df_host_library name)
	cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
	add_library(${name} STATIC ${A_SOURCES})
	target_compile_options(${name} PRIVATE ${DF_HOST_CFLAGS})
	target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR})
	target_link_libraries(${name} PUBLIC ${A_LIBS})
	add_library(${name}_san STATIC ${A_SOURCES})
	target_compile_options(${name}_san PRIVATE ${DF_HOST_CFLAGS} -O1
		${DF_SAN_FLAGS})
	target_compile_definitions(${name}_san PUBLIC DF_HOST_TEST=1)
	target_include_directories(${name}_san PUBLIC ${CMAKE_SOURCE_DIR})
	target_link_libraries(${name}_san PUBLIC ${A_LIBS})
endfunction()

function(df_check_test name)
	cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
	add_executable(test_${name} ${A_SOURCES})
	target_compile_options(test_${name} PRIVATE ${DF_HOST_CFLAGS} -O1
		${DF_SAN_FLAGS})
	target_compile_definitions(test_${name} PRIVATE DF_HOST_TEST=1)
	target_include_directories(test_${name} PRIVATE ${CMAKE_SOURCE_DIR})
	target_link_options(test_${name} PRIVATE ${DF_SAN_FLAGS})
	target_link_libraries(test_${name} PRIVATE ${A_LIBS} PkgConfig::CHECK)
	add_test(NAME host.${name} COMMAND test_${name})
	if(NOT A_TIMEOUT)
		set(A_TIMEOUT 300)
	endif()
	set_tests_properties(host.${name} PROPERTIES TIMEOUT ${A_TIMEOUT}
		LABELS host
		ENVIRONMENT "CK_DEFAULT_TIMEOUT=${A_TIMEOUT};ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endfunction()

# The kernel is linked twice: pass 1 with an empty symbol table, then
# tools/ksyms.py reads its function symbols and pass 2 links them in. The
# table sits after .data, so code addresses do not move between passes;
# ksyms.py --verify checks that they did not.
function(df_image name)
	cmake_parse_arguments(A "KTESTS;KBENCH" "" "" ${ARGN})
	get_property(objlibs GLOBAL PROPERTY DF_KERNEL_OBJLIBS)
	if(A_KTESTS)
		get_property(tlibs GLOBAL PROPERTY DF_KTEST_OBJLIBS)
		list(APPEND objlibs ${tlibs})
	endif()
	if(A_KBENCH)
		get_property(blibs GLOBAL PROPERTY DF_KBENCH_OBJLIBS)
		list(APPEND objlibs ${blibs})
	endif()
	set(objs "")
	foreach(l ${objlibs})
		list(APPEND objs $<TARGET_OBJECTS:${l}>)
	endforeach()
	add_library(${name}_app OBJECT ${A_UNPARSED_ARGUMENTS})
	target_compile_options(${name}_app PRIVATE ${DF_KERNEL_CFLAGS})
	target_include_directories(${name}_app PRIVATE ${DF_KERNEL_INCLUDES})
	list(APPEND objs $<TARGET_OBJECTS:${name}_app>)

	set(lds ${DF_ARCH_DIR}/kernel.ld)
	set(libs ${DF_LIBDIR}/libzstd.a ${DF_LIBDIR}/liblz4.a
		${DF_LIBDIR}/libz.a ${DF_LIBDIR}/libfdt.a ${DF_LIBGCC})
	set(lopts -nostdlib -static -no-pie -Wl,-T,${lds} -Wl,--gc-sections
		-Wl,-z,max-page-size=4096 -Wl,--build-id=none
		-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments)

	add_executable(${name}.pass1 ${objs} ${DF_ARCH_DIR}/ksyms_empty.S)
	add_executable(${name}.elf ${objs} ${CMAKE_CURRENT_BINARY_DIR}/${name}.ksyms.S)
	foreach(t ${name}.pass1 ${name}.elf)
		set_target_properties(${t} PROPERTIES LINKER_LANGUAGE C
			LINK_DEPENDS ${lds} SUFFIX "")
		target_link_options(${t} PRIVATE ${lopts})
		target_link_libraries(${t} PRIVATE ${libs})
		target_compile_options(${t} PRIVATE -D__ASSEMBLY__)
		foreach(l ${objlibs} ${name}_app)
			add_dependencies(${t} ${l})
		endforeach()
	endforeach()
	add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${name}.ksyms.S
		COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/ksyms.py
			gen $<TARGET_FILE:${name}.pass1>
			${CMAKE_CURRENT_BINARY_DIR}/${name}.ksyms.S
		DEPENDS ${name}.pass1 ${CMAKE_SOURCE_DIR}/tools/ksyms.py
		VERBATIM)
	add_custom_command(TARGET ${name}.elf POST_BUILD
		COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/ksyms.py
			verify $<TARGET_FILE:${name}.pass1> $<TARGET_FILE:${name}.elf>
		VERBATIM)
endfunction()
