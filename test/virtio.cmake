# Boot tests of virtio/ (transports, virtqueues, block, network, entropy),
# on microvm (virtio-mmio, legacy and modern) and q35 (virtio-pci, MSI-X and
# INTx), under TCG, with a KVM smoke run. Host-side programs are in
# test/virtio/.
#
#   virtio.<machine>.blk         disks with patterns both ways, random
#                                concurrent I/O, flush, discard, read-only,
#                                bad requests, a broken ring (blk_test.py)
#   virtio.microvm.modern.blk    the same on virtio-mmio version 2
#   virtio.microvm.noacpi.blk    devices found from the command line QEMU
#                                appends without ACPI (GSIs 5..12)
#   virtio.q35.intx.blk          virtio-pci without MSI-X (vectors=0)
#   virtio.<machine>.rng         entropy arrives and is not constant
add_executable(blkpat ${CMAKE_SOURCE_DIR}/test/virtio/blkpat.c)
target_include_directories(blkpat PRIVATE ${CMAKE_SOURCE_DIR})
target_compile_options(blkpat PRIVATE ${DF_HOST_CFLAGS} -O2)

set(VBLK_TEST ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/test/virtio/blk_test.py
	--blkpat $<TARGET_FILE:blkpat>)
set(VIRTIO_KTESTS "ktest=vq,vblk,vrng kmalloc.debug=1")
set(VIRTIO_RNG_MICROVM --qemu-arg=-device --qemu-arg=virtio-rng-device)
set(VIRTIO_RNG_Q35 --qemu-arg=-device --qemu-arg=virtio-rng-pci)
set(VBLK_EXPECT
	--expect-output "vblk: host pattern verified"
	--expect-output "vblk: guest pattern written and verified"
	--expect-output "vblk: stack buffer verified"
	--expect-output "vblk: bad requests refused"
	--expect-output "vblk: read-only disk verified"
	--expect-output "vblk: broken ring verified"
	--expect-output "ktest: [1-9][0-9]* passed, 0 failed")

function(virtio_test name)
	add_test(NAME virtio.${name} COMMAND ${ARGN})
	set_tests_properties(virtio.${name} PROPERTIES LABELS "boot;virtio"
		SKIP_RETURN_CODE 77 TIMEOUT 300)
endfunction()

function(virtio_blk_test name machine smp)
	virtio_test(${name} ${VBLK_TEST}
		--workdir ${CMAKE_CURRENT_BINARY_DIR}/virtio.${name} --
		--image $<TARGET_FILE:ktest.elf> --machine ${machine}
		--accel tcg --smp ${smp} --timeout 240 --expect pass
		--cmdline "${VIRTIO_KTESTS}" ${VBLK_EXPECT} ${ARGN})
endfunction()

virtio_blk_test(microvm.blk microvm 2 ${VIRTIO_RNG_MICROVM}
	--expect-output "serial 'dfhost'.*mmio-legacy, gsi"
	--expect-output "vrng: [0-9]+ random bytes verified")
virtio_blk_test(microvm.modern.blk microvm 4 ${VIRTIO_RNG_MICROVM}
	--qemu-arg=-global --qemu-arg=virtio-mmio.force-legacy=false
	--expect-output "serial 'dfhost'.*, mmio, gsi"
	--expect-output "vrng: [0-9]+ random bytes verified")
virtio_blk_test(microvm.noacpi.blk microvm 2
	--qemu-arg=-M --qemu-arg=microvm,acpi=off
	--expect-output "cmdline .*virtio_mmio.device=")
virtio_blk_test(q35.blk q35 4 ${VIRTIO_RNG_Q35}
	--expect-output "serial 'dfhost'.* queue\\(s\\).*pci, msix"
	--expect-output "vrng: [0-9]+ random bytes verified")
virtio_blk_test(q35.smp2.blk q35 2 ${VIRTIO_RNG_Q35}
	--expect-output "vrng: [0-9]+ random bytes verified")
# INTx: the rng (slot 1) and dfbroken (slot 5) share GSI 21.
virtio_blk_test(q35.intx.blk q35 2 --devopts ,vectors=0
	--qemu-arg=-device --qemu-arg=virtio-rng-pci,vectors=0
	--expect-output "serial 'dfhost'.*pci, intx"
	--expect-output "virtio-rng pci [0-9a-f:.]+ gsi 2[0-3]: entropy source, intx"
	--expect-output "vrng: [0-9]+ random bytes verified")

# ---- Network: 100,000 frames of 60..1514 bytes plus 500 of 2..64 KiB,
# echoed at layer 2 by the guest over -netdev dgram (net_test.py) ----
set(VNET_TEST ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/test/virtio/net_test.py)
set(VNET_EXPECT --expect pass
	--expect-output "vnet: echoed [0-9]+ frames .* counters agree"
	--expect-output "vnet: bad output refused"
	--expect-output "ktest: 2 passed, 0 failed")
foreach(m microvm q35)
	virtio_test(${m}.net ${VNET_TEST}
		--workdir ${CMAKE_CURRENT_BINARY_DIR}/virtio.${m}.net --
		--image $<TARGET_FILE:ktest.elf> --machine ${m} --accel tcg
		--smp 2 --timeout 240 --cmdline "ktest=vnet" ${VNET_EXPECT})
endforeach()
virtio_test(microvm.modern.net ${VNET_TEST} --frames 20000 --big 100
	--workdir ${CMAKE_CURRENT_BINARY_DIR}/virtio.microvm.modern.net --
	--image $<TARGET_FILE:ktest.elf> --machine microvm --accel tcg
	--smp 2 --timeout 240 --cmdline "ktest=vnet"
	--qemu-arg=-global --qemu-arg=virtio-mmio.force-legacy=false
	--expect-output "virtio-net vn0: mmio@" ${VNET_EXPECT})

# ---- KVM: the whole virtio suite where /dev/kvm is hardware-backed, a
# boot smoke test with the devices attached where it is kvm_pvm ----
foreach(m microvm q35)
	if(m STREQUAL microvm)
		set(rng ${VIRTIO_RNG_MICROVM})
	else()
		set(rng ${VIRTIO_RNG_Q35})
	endif()
	virtio_test(${m}.kvm ${VBLK_TEST} --disks dfhost,dfro
		--workdir ${CMAKE_CURRENT_BINARY_DIR}/virtio.${m}.kvm --
		--image $<TARGET_FILE:ktest.elf>
		--smoke-image $<TARGET_FILE:hello.elf> --machine ${m}
		--accel kvm-or-smoke --smp 2 --timeout 240 --expect pass
		--cmdline "${VIRTIO_KTESTS} noxsave" ${rng})
endforeach()
