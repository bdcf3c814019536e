/* The empty symbol table of the first link pass (see tools/ksyms.py). */
	.section .ksyms, "a"
	.balign	8
	.globl	ksym_count, ksym_addr, ksym_size, ksym_name_off, ksym_names
ksym_count:
	.quad	0
ksym_addr:
ksym_size:
ksym_name_off:
ksym_names:
	.byte	0
