# Guest network tests: the net image (images/net: TCP and UDP echo on port
# 7, ping) with Linux's own stack as the peer (test/net/net_test.py).
#
#   net.<machine>.tap    a tap with vnet_hdr in a network namespace the
#                        test makes (needs root; fails, never skips,
#                        without it): ping, UDP echo up to 8000 bytes
#                        (fragments both ways), 256 MiB (microvm) or
#                        64 MiB (q35) TCP echo checked byte for byte,
#                        1,000 (microvm) or 128 (q35)
#                        connections at once, each echoing; the
#                        guest's counters must show TSO and checksum
#                        offload used in both directions
#   net.<machine>.user   QEMU user networking with hostfwd: TCP and UDP
#                        echo through the forwarded ports
#   net.microvm.lossy    the namespace and tap again, through a relay that
#                        loses 5% and reorders 25% of the frames each way
#                        (tc netem's job; this kernel has no netem;
#                        test/net/lossy_relay.c): ping, UDP echo, a
#                        100 MiB TCP echo intact, and the guest must have
#                        retransmitted and queued out of order
#   net.<machine>.dhcp   user networking again, the address from QEMU's
#                        DHCP server (net.ip=dhcp): the lease as slirp
#                        gives it, then echo through hostfwd
#   net.microvm.kvm      the dhcp test under KVM with 1 MiB (a smoke run on
#                        the kvm_pvm backend; skipped without /dev/kvm)
#   net.bad.*            bad net.ip / net.gw: a clear error, no stack
set(NET_TEST ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/test/net/net_test.py)
set(NET_IMG $<TARGET_FILE:net.elf>)
set(NET_CONFIG ${CMAKE_SOURCE_DIR}/images/net/config)

function(net_test name)
	add_test(NAME net.${name} COMMAND ${ARGN})
	set_tests_properties(net.${name} PROPERTIES LABELS "boot;net"
		TIMEOUT 180)
endfunction()

# microvm: 256 MiB each way and 1,000 connections of 16 KiB (the issue's
# figures); q35: 64 MiB and 128 connections of 64 KiB.
set(NET_LOAD_microvm --tcp-mib 256 --conns 1000 --per-conn 16384)
set(NET_LOAD_q35 --tcp-mib 64 --conns 128 --per-conn 65536)
foreach(m microvm q35)
	net_test(${m}.tap ${NET_TEST} --mode tap ${NET_LOAD_${m}}
		-- --image ${NET_IMG} --machine ${m} --accel tcg --smp 2
		--mem 512M --timeout 120 --config ${NET_CONFIG})
	net_test(${m}.user ${NET_TEST} --mode user --tcp-mib 16 --
		--image ${NET_IMG} --machine ${m} --accel tcg --smp 2
		--mem 512M --timeout 120 --config ${NET_CONFIG})
endforeach()

# The address from QEMU's DHCP server (libslirp): the lease is checked, and
# echo through hostfwd reaches both protocol threads' connections.
foreach(m microvm q35)
	net_test(${m}.dhcp ${NET_TEST} --mode user --dhcp --tcp-mib 8 --
		--image ${NET_IMG} --machine ${m} --accel tcg --smp 2
		--mem 512M --timeout 120 --config ${NET_CONFIG})
endforeach()

# KVM: a smoke run on the kvm_pvm backend here (its guest code is far
# slower than TCG), the same test on hardware KVM: the address by DHCP,
# UDP echo and 1 MiB of TCP echo through hostfwd. Skipped (77) where
# there is no usable /dev/kvm.
net_test(microvm.kvm ${NET_TEST} --mode user --dhcp --tcp-mib 1
	--guest-cmdline noxsave --
	--image ${NET_IMG} --machine microvm --accel kvm --smp 2
	--mem 512M --timeout 120 --config ${NET_CONFIG})
set_tests_properties(net.microvm.kvm PROPERTIES SKIP_RETURN_CODE 77)

add_executable(lossy_relay ${CMAKE_SOURCE_DIR}/test/net/lossy_relay.c)
target_compile_options(lossy_relay PRIVATE ${DF_HOST_CFLAGS} -O2)
net_test(microvm.lossy ${NET_TEST} --mode tap --lossy --tcp-mib 100
	--relay $<TARGET_FILE:lossy_relay>
	--workdir ${CMAKE_CURRENT_BINARY_DIR}/net.microvm.lossy --
	--image ${NET_IMG} --machine microvm --accel tcg --smp 2 --mem 512M
	--timeout 330 --config ${NET_CONFIG})
# About 100 s here (9 Mbit/s each way through the loss); room for a loaded
# CI machine.
set_tests_properties(net.microvm.lossy PROPERTIES TIMEOUT 400)

# ---- Bad static configuration: reported by name, the image fails ----
function(net_bad name cmdline)
	add_test(NAME net.bad.${name} COMMAND ${HARNESS} --image ${NET_IMG}
		--machine microvm --accel tcg --timeout 60 --cmdline "${cmdline}"
		--expect fail --expect-output "net: the stack did not start \\(-22\\)"
		${ARGN})
	set_tests_properties(net.bad.${name} PROPERTIES LABELS "boot;net"
		TIMEOUT 90)
endfunction()
net_bad(ip_syntax "net.ip=10.0.0.300/24"
	--expect-output "error: net: bad value '10.0.0.300/24' for net.ip: expected an address and prefix length")
net_bad(ip_prefix "net.ip=10.0.0.2/33"
	--expect-output "error: net: bad value '10.0.0.2/33' for net.ip")
net_bad(ip_broadcast "net.ip=10.0.0.255/24"
	--expect-output "error: net: bad value '10.0.0.255/24' for net.ip: the subnet's network or broadcast address")
net_bad(gw_outside "net.ip=10.0.0.2/24 net.gw=10.0.1.1"
	--expect-output "error: net: bad value '10.0.1.1' for net.gw: outside the subnet of net.ip")
net_bad(gw_syntax "net.ip=10.0.0.2/24 net.gw=10.0.0.1.5"
	--expect-output "error: net: bad value '10.0.0.1.5' for net.gw: expected an address")
net_bad(gw_without_ip "net.gw=10.0.0.1"
	--expect-output "error: net: net.gw is set but net.ip is not")

# ---- The socket layer (netstack/kern/nsk_sock.h) ----
#   net.sock.ktest          its in-guest rules that need no peer (bad
#                           descriptors and arguments, states, limits,
#                           non-blocking calls, timeouts, poll, close
#                           waking waiters), on QEMU user networking
#   net.sock.<machine>.tap  images/sockecho (services written with the
#                           sockets only) with Linux as the peer in a
#                           namespace: test/net/sock_test.py
add_test(NAME net.sock.ktest COMMAND ${HARNESS}
	--image $<TARGET_FILE:ktest.elf> --machine microvm --accel tcg --smp 2
	--mem 512M --timeout 120
	--cmdline "ktest=nsk_sock kmalloc.debug=1 ktest.timeout=60 net.ip=10.0.2.15/24 net.gw=10.0.2.2"
	--qemu-arg=-netdev --qemu-arg=user,id=n0,net=10.0.2.0/24
	--qemu-arg=-device --qemu-arg=virtio-net-device,netdev=n0
	--qemu-arg=-device --qemu-arg=virtio-rng-device
	--expect pass --expect-output "ktest: [1-9][0-9]* passed, 0 failed"
	--reject-output "ktest: FAIL")
set_tests_properties(net.sock.ktest PROPERTIES LABELS "boot;net" TIMEOUT 180)
set(SOCK_TEST ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/test/net/sock_test.py)
foreach(m microvm q35)
	net_test(sock.${m}.tap ${SOCK_TEST} --tcp-mib 64 --conns 250
		--rr-conns 200 -- --image $<TARGET_FILE:sockecho.elf>
		--machine ${m} --accel tcg --smp 2 --mem 512M --timeout 120
		--config ${CMAKE_SOURCE_DIR}/images/sockecho/config)
endforeach()
