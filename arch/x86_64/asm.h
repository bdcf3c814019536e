/*
 * Constants shared by the assembly files and C. Only #defines: this header
 * is included from .S files.
 */
#ifndef ARCH_X86_64_ASM_H
#define ARCH_X86_64_ASM_H

#define CR0_PE		   0x00000001
#define CR0_MP		   0x00000002
#define CR0_EM		   0x00000004
#define CR0_TS		   0x00000008
#define CR0_NE		   0x00000020
#define CR0_WP		   0x00010000
#define CR0_PG		   0x80000000

#define CR4_PAE		   0x00000020
#define CR4_PGE		   0x00000080
#define CR4_OSFXSR	   0x00000200
#define CR4_OSXMMEXCPT	   0x00000400
#define CR4_FSGSBASE	   0x00010000
#define CR4_OSXSAVE	   0x00040000

#define MSR_EFER	   0xc0000080
#define EFER_LME	   0x00000100
#define EFER_NXE	   0x00000800
#define MSR_FS_BASE	   0xc0000100
#define MSR_GS_BASE	   0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

#define PTE_P		   0x001
#define PTE_W		   0x002
#define PTE_PWT		   0x008
#define PTE_PCD		   0x010
#define PTE_A		   0x020
#define PTE_D		   0x040
#define PTE_PS		   0x080
#define PTE_G		   0x100

#define GDT_KCODE	   0x08
#define GDT_KDATA	   0x10
#define GDT_TSS		   0x18 /* in the per-CPU GDT */
#define GDT_KCODE32	   0x18 /* in boot_gdt, for the APs' start */

#define AP_TRAMP_PA	   0x8000 /* SIPI vector 0x08 */

#define BOOT_STACK_SIZE	   32768
#define BOOT_TLS_SIZE	   4096

/* Thread control block at %fs:0, laid out as glibc's for x86-64. */
#define TCB_SELF   0x00
#define TCB_CANARY 0x28
#define TCB_SIZE   0x100

/* The trap frame (struct trapframe in trap.h), in bytes from its start. */
#define TF_SIZE 0xb0

#endif
