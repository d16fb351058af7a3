/* SPDX-License-Identifier: MIT */
/*
 * ptlab walk.h: x86 linear-address translation as the Intel SDM, Vol. 3A, chapter 4 defines it.
 *
 * One walker serves every paging mode: a level loop driven by a per-mode descriptor
 * (struct pt_mode_desc). The CPU state (CR0/CR3/CR4/EFER...) is folded once into a
 * struct pt_context; translation reads page tables only through a struct pt_mem reader,
 * never through global state.
 *
 * Levels are numbered as the SDM does: 1 = page table (PTE), 2 = page directory (PDE),
 * 3 = page-directory-pointer table (PDPTE), 4 = PML4, 5 = PML5.
 */
#ifndef PTLAB_WALK_H
#define PTLAB_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Architectural bit positions (SDM Vol. 3A, 2.5 and 4.x) ------------------------------ */

/** CR0 bits used by paging. */
enum pt_cr0_bit {
	CR0_BIT_PE = 0,  /**< protected mode (2.5) */
	CR0_BIT_ET = 4,  /**< extension type: fixed to 1 on every CPU since the i486 (2.5) */
	CR0_BIT_NE = 5,  /**< native x87 error reporting (2.5) */
	CR0_BIT_WP = 16, /**< write protect: supervisor writes honour R/W (4.6.1) */
	CR0_BIT_PG = 31, /**< paging enabled */
};
/** CR4 bits used by paging. */
enum pt_cr4_bit {
	CR4_BIT_PSE = 4,    /**< 4 MiB pages in 32-bit paging (4.3) */
	CR4_BIT_PAE = 5,    /**< PAE / IA-32e tables (4.4, 4.5) */
	CR4_BIT_LA57 = 12,  /**< 5-level paging when IA32_EFER.LMA = 1 (4.5) */
	CR4_BIT_PCIDE = 17, /**< CR3[11:0] is a PCID in IA-32e mode (4.10.1) */
	CR4_BIT_SMEP = 20,  /**< supervisor-mode execution prevention (4.6.1) */
	CR4_BIT_SMAP = 21,  /**< supervisor-mode access prevention (4.6.1) */
	CR4_BIT_PKE = 22,   /**< protection keys for user-mode pages (4.6.2) */
};
/** IA32_EFER bits used by paging. */
enum pt_efer_bit {
	EFER_BIT_LME = 8,  /**< long mode enable */
	EFER_BIT_LMA = 10, /**< long mode active: IA-32e paging when CR0.PG = 1 */
	EFER_BIT_NXE = 11, /**< execute-disable bit (XD, bit 63) honoured; reserved otherwise */
};
/** RFLAGS.AC: SMAP override for explicit supervisor data accesses (4.6.1). */
static const unsigned RFLAGS_BIT_AC = 18;

/** Paging-structure entry bits (SDM Tables 4-4 .. 4-20). */
enum pt_pte_bit {
	PTE_BIT_P = 0,          /**< present */
	PTE_BIT_RW = 1,         /**< read/write: 0 = writes may be disallowed */
	PTE_BIT_US = 2,         /**< user/supervisor: 0 = user-mode accesses disallowed */
	PTE_BIT_PWT = 3,        /**< page-level write-through */
	PTE_BIT_PCD = 4,        /**< page-level cache disable */
	PTE_BIT_A = 5,          /**< accessed */
	PTE_BIT_D = 6,          /**< dirty (leaf entries only) */
	PTE_BIT_PS = 7,         /**< page size: the entry maps a page, not a table (PDE, PDPTE) */
	PTE_BIT_PAT = 7,        /**< alias: in a 4 KiB PTE bit 7 is PAT, not PS */
	PTE_BIT_G = 8,          /**< global (leaf entries only) */
	PTE_BIT_PAT_LARGE = 12, /**< PAT bit of a 2 MiB / 4 MiB / 1 GiB page entry */
	PTE_BIT_PKEY = 59,      /**< protection key, bits 62:59 of a leaf (IA-32e, CR4.PKE) */
	PTE_BIT_XD = 63,        /**< execute-disable (PAE and IA-32e, when IA32_EFER.NXE = 1) */
};
#define PT_BIT(n) (UINT64_C(1) << (n))
static const uint64_t CR0_PE = PT_BIT(CR0_BIT_PE);     /**< mask of CR0_BIT_PE */
static const uint64_t CR0_ET = PT_BIT(CR0_BIT_ET);     /**< mask of CR0_BIT_ET */
static const uint64_t CR0_NE = PT_BIT(CR0_BIT_NE);     /**< mask of CR0_BIT_NE */
static const uint64_t CR0_WP = PT_BIT(CR0_BIT_WP);     /**< mask of CR0_BIT_WP */
static const uint64_t CR0_PG = PT_BIT(CR0_BIT_PG);     /**< mask of CR0_BIT_PG */
static const uint64_t CR4_PSE = PT_BIT(CR4_BIT_PSE);   /**< mask of CR4_BIT_PSE */
static const uint64_t CR4_PAE = PT_BIT(CR4_BIT_PAE);   /**< mask of CR4_BIT_PAE */
static const uint64_t CR4_LA57 = PT_BIT(CR4_BIT_LA57); /**< mask of CR4_BIT_LA57 */
static const uint64_t CR4_PCIDE = PT_BIT(CR4_BIT_PCIDE); /**< mask of CR4_BIT_PCIDE */
static const uint64_t CR4_SMEP = PT_BIT(CR4_BIT_SMEP); /**< mask of CR4_BIT_SMEP */
static const uint64_t CR4_SMAP = PT_BIT(CR4_BIT_SMAP); /**< mask of CR4_BIT_SMAP */
static const uint64_t CR4_PKE = PT_BIT(CR4_BIT_PKE);   /**< mask of CR4_BIT_PKE */
static const uint64_t EFER_LME = PT_BIT(EFER_BIT_LME); /**< mask of EFER_BIT_LME */
static const uint64_t EFER_LMA = PT_BIT(EFER_BIT_LMA); /**< mask of EFER_BIT_LMA */
static const uint64_t EFER_NXE = PT_BIT(EFER_BIT_NXE); /**< mask of EFER_BIT_NXE */
static const uint64_t RFLAGS_AC = PT_BIT(18);          /**< mask of RFLAGS_BIT_AC */
static const uint64_t PTE_P = PT_BIT(PTE_BIT_P);               /**< mask of PTE_BIT_P */
static const uint64_t PTE_RW = PT_BIT(PTE_BIT_RW);             /**< mask of PTE_BIT_RW */
static const uint64_t PTE_US = PT_BIT(PTE_BIT_US);             /**< mask of PTE_BIT_US */
static const uint64_t PTE_PWT = PT_BIT(PTE_BIT_PWT);           /**< mask of PTE_BIT_PWT */
static const uint64_t PTE_PCD = PT_BIT(PTE_BIT_PCD);           /**< mask of PTE_BIT_PCD */
static const uint64_t PTE_A = PT_BIT(PTE_BIT_A);               /**< mask of PTE_BIT_A */
static const uint64_t PTE_D = PT_BIT(PTE_BIT_D);               /**< mask of PTE_BIT_D */
static const uint64_t PTE_PS = PT_BIT(PTE_BIT_PS);             /**< mask of PTE_BIT_PS */
static const uint64_t PTE_PAT = PT_BIT(PTE_BIT_PAT);           /**< mask of PTE_BIT_PAT */
static const uint64_t PTE_G = PT_BIT(PTE_BIT_G);               /**< mask of PTE_BIT_G */
static const uint64_t PTE_PAT_LARGE = PT_BIT(PTE_BIT_PAT_LARGE); /**< mask of PTE_BIT_PAT_LARGE */
static const uint64_t PTE_PKEY = UINT64_C(0xf) << PTE_BIT_PKEY; /**< mask of the 4 key bits */
static const uint64_t PTE_XD = PT_BIT(PTE_BIT_XD);             /**< mask of PTE_BIT_XD */

/** The page sizes x86 paging maps (SDM 4.3-4.5): 4 KiB, 2 MiB (PAE/IA-32e PDE), 4 MiB (32-bit
 *  PDE with CR4.PSE), 1 GiB (IA-32e PDPTE). */
static const uint64_t PT_PAGE_4K = UINT64_C(1) << 12;
static const uint64_t PT_PAGE_2M = UINT64_C(1) << 21;
static const uint64_t PT_PAGE_4M = UINT64_C(1) << 22;
static const uint64_t PT_PAGE_1G = UINT64_C(1) << 30;

/** log2 of the smallest page (PT_PAGE_4K), also the size of every paging structure but the
 *  PAE PDPT: linear and physical addresses split into a page number and an offset here. */
enum { PT_PAGE_SHIFT = 12 };

/** Limits of a CPU state; pt_context_init refuses anything outside them (PT_EINVAL). */
enum pt_cpu_limit {
	PT_MAXPHYADDR_MIN = 32, /**< MAXPHYADDR of the narrowest CPU with PAE-style tables (4.1.4) */
	PT_MAXPHYADDR_MAX = 52, /**< the widest physical address (4.1.4) and so the top of an entry's
				     frame field (bits 51:12 in the 64-bit formats, Tables 4-8..4-20) */
	PT_CBIT_MIN = 32,       /**< the lowest SME C-bit position (above every 32-bit address) */
	PT_CBIT_MAX = 62,       /**< the highest (bit 63 is XD) */
};

/** Page-fault error code bits (SDM 4.7, Figure 4-12). */
enum pt_pf_error {
	PF_ERR_P = 1u << 0,    /**< 0: not present; 1: protection or reserved-bit violation */
	PF_ERR_W = 1u << 1,    /**< the access was a write */
	PF_ERR_U = 1u << 2,    /**< the access was a user-mode access */
	PF_ERR_RSVD = 1u << 3, /**< a reserved bit was set in some paging-structure entry */
	PF_ERR_ID = 1u << 4,   /**< instruction fetch (only when SMEP, or PAE-style tables + NXE) */
	PF_ERR_PK = 1u << 5,   /**< protection-key violation */
};

/** Exception vectors a translation can raise. */
enum pt_vector {
	PT_VEC_GP = 13, /**< #GP: non-canonical address, or a reserved PAE PDPTE bit at CR3 load */
	PT_VEC_PF = 14, /**< #PF */
};

/* ---- Memory reader --------------------------------------------------------------------- */

/**
 * A physical-memory reader. ptr() returns a pointer to `len` bytes at physical address `pa`
 * when all of them are in the dump, else NULL ("not in dump", never zero). The bytes stay
 * valid as long as the reader does. Entries are read in little-endian order.
 */
struct pt_mem {
	const void *(*ptr)(const struct pt_mem *mem, uint64_t pa, size_t len);
	void *opaque; /**< the reader's own state */
};

/** A pt_mem over one flat buffer that holds physical addresses [0, size). */
struct pt_flat_mem {
	struct pt_mem mem; /**< first member: pass &flat.mem to the walker */
	const uint8_t *base;
	uint64_t size;
};
/** Make `flat` read `size` bytes at `base` as physical addresses 0..size-1. */
void pt_flat_mem_init(struct pt_flat_mem *flat, const void *base, uint64_t size);

/**
 * A pt_mem over memory that is mapped in chunks of 2^shift bytes (a memory-mapped dump): chunk c,
 * physical addresses [c << shift, (c + 1) << shift), is at chunks[c], or is read through
 * `fallback` when chunks[c] is NULL (a chunk not wholly inside one of the dump's ranges), when c
 * is past the table, or when a read crosses a chunk's end. The walker, enumeration and the TLB
 * recognise this reader (mem.ptr == pt_chunk_mem_ptr) and read entries from the table inline: one
 * array index per entry instead of a call and a search. Both ways answer the same bytes.
 */
struct pt_chunk_mem {
	struct pt_mem mem;            /**< first member: pass &cm.mem; mem.ptr is pt_chunk_mem_ptr */
	const uint8_t *const *chunks; /**< per chunk: where its first byte is, or NULL */
	uint64_t nchunks;
	uint64_t offset_mask;         /**< 2^shift - 1 */
	unsigned shift;               /**< 12..63 */
	const struct pt_mem *fallback; /**< the reader for what the table does not hold; NULL: none */
	/** One run of physical memory read before the table, without a lookup: [run_pa, run_pa +
	 *  run_size) is at `run` (a dump's largest range: RAM below 4 GiB, or all of it). */
	const uint8_t *run;
	uint64_t run_pa, run_size;
	/** Nothing at or above this address is in the dump: reads there answer NULL at once
	 *  (UINT64_MAX after pt_chunk_mem_init; pt_chunk_mem_set_end lowers it). */
	uint64_t end;
};
/** Make `cm` read through `chunks` (nchunks of 2^shift bytes, shift 12..63) and `fallback`,
 *  with no run (pt_chunk_mem_set_run adds one). */
void pt_chunk_mem_init(struct pt_chunk_mem *cm, const uint8_t *const *chunks, uint64_t nchunks,
		       unsigned shift, const struct pt_mem *fallback);
/** Read [pa, pa + size) at `run` before looking at the table (the bytes must be what the
 *  table and the fallback hold there). A run must start at a multiple of 8 (else none is set);
 *  its size is rounded down to whole 8-byte words. */
void pt_chunk_mem_set_run(struct pt_chunk_mem *cm, const uint8_t *run, uint64_t pa, uint64_t size);
/** Say that no byte at or above `end` is in the memory (the fallback is not asked there). */
void pt_chunk_mem_set_end(struct pt_chunk_mem *cm, uint64_t end);
/** The ptr callback of every pt_chunk_mem: the table, else the fallback reader. */
const void *pt_chunk_mem_ptr(const struct pt_mem *mem, uint64_t pa, size_t len);

/* ---- Paging modes and the per-mode descriptor ------------------------------------------ */

/** The paging mode, from CR0.PG, CR4.PAE, CR4.LA57 and IA32_EFER.LMA (SDM 4.1.1, Table 4-1). */
enum pt_mode {
	PT_MODE_OFF = 0,    /**< CR0.PG = 0: linear = physical */
	PT_MODE_LEGACY = 1, /**< 32-bit paging (4.3) */
	PT_MODE_PAE = 2,    /**< PAE paging (4.4) */
	PT_MODE_IA32E = 3,  /**< 4-level paging (4.5) */
	PT_MODE_LA57 = 4,   /**< 5-level paging (4.5) */
};
/** Name of a mode as the CLI and JSON spell it: "off", "legacy", "pae", "ia32e", "la57". */
const char *pt_mode_name(enum pt_mode mode);
/** Parse a mode name; returns false for an unknown name. */
bool pt_mode_parse(const char *name, enum pt_mode *mode_ret);

/** One level of a mode's tables. */
struct pt_level_desc {
	uint8_t va_shift;    /**< lowest VA bit this level's index selects */
	uint8_t index_bits;  /**< bits of VA the index takes (10, 9 or 2) */
	bool may_map_page;   /**< an entry with PS = 1 maps a page here (needs CR4.PSE in legacy) */
};

/** The shape of one paging mode: what the level loop needs. */
struct pt_mode_desc {
	enum pt_mode mode;
	uint8_t levels;      /**< number of levels; the top one is `levels` */
	uint8_t entry_size;  /**< 4 or 8 bytes */
	uint8_t va_bits;     /**< 32, 48 or 57: width of a (canonical) linear address */
	struct pt_level_desc level[6]; /**< indexed by level number 1..levels */
};
/** The descriptor of a mode (NULL for PT_MODE_OFF). */
const struct pt_mode_desc *pt_mode_desc(enum pt_mode mode);
/** The index of `va`'s entry in a table at `level` (1..desc->levels) of `desc`'s mode: VA bits
 *  va_shift + index_bits - 1 : va_shift (SDM 4.3, 4.4.2, 4.5.4). */
unsigned pt_level_index(const struct pt_mode_desc *desc, unsigned level, uint64_t va);
/** Entries in a table at `level` of `desc`'s mode (1024, 512, or 4 for the PAE PDPT). */
unsigned pt_level_entries(const struct pt_mode_desc *desc, unsigned level);
/**
 * The lowest address of the upper canonical half of a 64-bit mode's linear-address space
 * (4-level 0xffff800000000000, 5-level 0xff00000000000000; SDM 3.3.7.1), where every x86-64
 * kernel address lies; 0 for the 32-bit modes and PT_MODE_OFF, which have no canonical halves.
 */
uint64_t pt_mode_upper_half(enum pt_mode mode);
/**
 * The physical address of the top paging structure that `cr3` locates in `mode`, the SME C-bit
 * (`cbit_mask`) removed first: CR3 bits 31:12 in 32-bit paging (Table 4-3), 31:5 for the PAE
 * PDPT (Table 4-7), and in 4-/5-level paging CR3 without PWT/PCD or the PCID (11:0) and the
 * no-flush and LAM controls (63:61) (Tables 4-12, 4-13). It does not check the result against
 * MAXPHYADDR (pt_context_init does). 0 for PT_MODE_OFF.
 */
uint64_t pt_cr3_root(enum pt_mode mode, uint64_t cr3, uint64_t cbit_mask);

/* ---- CPU state and the folded paging context ------------------------------------------ */

/** CPU state that controls translation, as a dump or the command line gives it. */
struct pt_cpu_state {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t rflags;     /**< only AC matters */
	uint32_t pkru;       /**< protection-key rights for user pages (CR4.PKE) */
	uint8_t maxphyaddr;  /**< physical-address width M, 32..52 (CPUID 0x80000008 EAX[7:0]) */
	uint8_t cbit;        /**< SME C-bit position (CPUID 0x8000001F EBX[5:0]), 32..62; 0 = none */
	/** PAE: bits of the in-memory PDPTEs that the dump's writer set after the CR3 load and that
	 *  the CPU's PDPTE registers (loaded at MOV to CR3, SDM 4.4.1) therefore never held; they
	 *  are cleared as the PDPTEs are loaded. QEMU's walker sets the Accessed bit (5) in PAE
	 *  PDPTEs, a reserved bit there (Table 4-8), so a QEMU dump reader sets PT_QEMU_PDPTE_A. */
	uint64_t pdpte_written_by_dumper;
	/** PAE: the PDPTE registers (SDM 4.4.1), when they are known and may differ from the PDPT
	 *  in memory (software rewrote it after the last MOV to CR3, or the dump's writer did).
	 *  With has_pdpte_regs, pt_context_init loads these instead of reading the PDPT. ptlab's
	 *  PTLAB note carries them; QEMU's does not. */
	bool has_pdpte_regs;
	uint64_t pdpte_regs[4];
};
/** The bit QEMU writes into PAE PDPTEs (the Accessed bit of other entries). */
#define PT_QEMU_PDPTE_A (UINT64_C(1) << 5)
/** The state of a fresh x86-64 kernel: 4-level paging, WP, NXE, MAXPHYADDR 52, CR3 = `cr3`. */
void pt_cpu_state_default(struct pt_cpu_state *cpu, uint64_t cr3);
/** Set CR0/CR4/EFER to the usual values for `mode` (keeps CR3, MAXPHYADDR, C-bit). */
void pt_cpu_state_set_mode(struct pt_cpu_state *cpu, enum pt_mode mode);

/** Paging features folded from CR0/CR4/EFER once (house style 2). */
enum pt_context_flag {
	PT_CTX_WP = 1u << 0,
	PT_CTX_NXE = 1u << 1, /**< XD honoured (PAE/IA-32e and IA32_EFER.NXE) */
	PT_CTX_PSE = 1u << 2, /**< 4 MiB pages in 32-bit paging */
	PT_CTX_SMEP = 1u << 3,
	PT_CTX_SMAP = 1u << 4,
	PT_CTX_PKE = 1u << 5, /**< protection keys (IA-32e only) */
	PT_CTX_AC = 1u << 6,  /**< RFLAGS.AC */
	PT_CTX_ID_BIT = 1u << 7, /**< the #PF error code reports I/D (SMEP, or PAE-style + NXE) */
};

/**
 * Everything the walker needs about one address space, derived once from a pt_cpu_state.
 * Fields above `key_end` identify the address space (they decide every walk); the TLB keys on them.
 */
struct pt_context {
	const struct pt_mode_desc *desc; /**< NULL when paging is off */
	enum pt_mode mode;
	uint32_t flags;       /**< enum pt_context_flag */
	uint64_t root;        /**< physical address of the top table (PAE: of the PDPT) */
	uint64_t pdpte[4];    /**< PAE only: the PDPTEs loaded at CR3 load (SDM 4.4.1) */
	uint64_t cbit_mask;   /**< SME C-bit, stripped from every entry */
	uint64_t addr_mask;   /**< bits M-1:12: frame bits of a table pointer */
	/** Reserved-bit masks: [level][0] for an entry that references a table,
	 *  [level][1] for an entry that maps a page (SDM Tables 4-4..4-20, see walk.c). */
	uint64_t rsvd[6][2];
	uint32_t pkru;
	uint8_t maxphyaddr;
	/* Derived once for the level loop (pt_context_init, pt_context_init_mode): */
	uint64_t ps_mask[6];    /**< PTE_PS at the levels where PS = 1 maps a page (SDM 4.3-4.5:
				     PDE, 4-level PDPTE; 32-bit paging only with CR4.PSE), else 0 */
	uint64_t page_frame[6]; /**< frame bits of a page mapped at each level (PAE-style formats) */
	uint64_t table_step[6]; /**< P | ps_mask | rsvd[level][0]: an entry whose bits under this mask
				     are exactly P references a table and has no reserved bit set */
	uint64_t leaf_step[6];  /**< P | ps_mask | rsvd[level][1]: an entry whose bits under this mask
				     are exactly P | ps_mask maps a page and has no reserved bit set */
};

/** Result status of the walker's entry points. */
enum pt_status {
	PT_OK = 0,          /**< translated */
	PT_FAULT = 1,       /**< the CPU would raise #PF or #GP: see struct pt_fault */
	PT_NOT_IN_DUMP = 2, /**< a paging structure is not in the dump: see table_pa */
	PT_EINVAL = 3,      /**< the inputs are not a possible CPU state or address */
};
/** A short English name for a status. */
const char *pt_status_name(enum pt_status status);

/** A fault the CPU would raise. */
struct pt_fault {
	uint8_t vector;      /**< PT_VEC_PF or PT_VEC_GP */
	uint32_t error_code; /**< enum pt_pf_error bits for #PF; 0 for #GP */
	uint8_t level;       /**< level of the entry that faulted; 0 for a fault before the walk */
	uint64_t entry_pa;   /**< physical address of that entry */
	uint64_t entry;      /**< its value, as read */
};

/**
 * Fold a CPU state into a context. For PAE the four PDPTEs are loaded from `mem` (or taken from
 * cpu->pdpte_regs when has_pdpte_regs) and checked as a MOV to CR3 does: a present PDPTE with a
 * reserved bit set is #GP (SDM 4.4.1).
 * Returns PT_OK; PT_FAULT (fault_ret filled, #GP); PT_NOT_IN_DUMP (*table_pa_ret = the PDPT);
 * PT_EINVAL (impossible state: LMA without PAE, MAXPHYADDR out of 32..52, C-bit outside 32..62...).
 * `mem` may be NULL for non-PAE modes. fault_ret and table_pa_ret may be NULL.
 */
enum pt_status pt_context_init(struct pt_context *ctx, const struct pt_cpu_state *cpu,
			       const struct pt_mem *mem, struct pt_fault *fault_ret,
			       uint64_t *table_pa_ret);

/**
 * A context for decoding entries of `mode` that the caller reads itself (screens over raw pages,
 * checks of a candidate table): the state pt_cpu_state_set_mode gives the mode (CR0.WP, NXE
 * outside 32-bit paging, CR4.PSE), MAXPHYADDR `maxphyaddr` and SME C-bit `cbit` (0 = none),
 * root 0 and no PDPTEs loaded. pt_entry_decode, ctx->rsvd and ctx->addr_mask work on it;
 * pt_walk does not. Returns PT_OK, or PT_EINVAL for PT_MODE_OFF or limits out of range.
 */
enum pt_status pt_context_init_mode(struct pt_context *ctx, enum pt_mode mode, uint8_t maxphyaddr,
				    uint8_t cbit);

/* ---- Accesses and results ------------------------------------------------------------ */

/** What kind of access is translated. */
enum pt_access_kind {
	PT_ACCESS_READ = 0,
	PT_ACCESS_WRITE = 1,
	PT_ACCESS_FETCH = 2,
};

/** "read", "write" or "fetch". */
const char *pt_access_kind_name(enum pt_access_kind kind);

/** One access: kind, privilege, and whether it is an implicit supervisor access (4.6). */
struct pt_access {
	enum pt_access_kind kind;
	uint8_t cpl;        /**< 0..3; CPL 3 is user mode */
	bool implicit;      /**< implicit supervisor access (e.g. a GDT or TSS read): supervisor at CPL 3 */
};

/** Entry decoded at one level (shared by translation, enumeration and the kpgd checks). */
struct pt_entry_info {
	uint64_t raw;        /**< the value read */
	uint64_t value;      /**< the value with the SME C-bit stripped */
	uint64_t frame;      /**< physical address of the next table or of the page */
	uint64_t rsvd_bits;  /**< reserved bits that are set (0 = none) */
	bool present;
	bool maps_page;      /**< a leaf: PTE, or PS = 1 where the level allows it */
};

/** Decode one entry read at `level`. Only meaningful for present entries' frame/rsvd fields. */
void pt_entry_decode(const struct pt_context *ctx, unsigned level, uint64_t raw,
		     struct pt_entry_info *info_ret);

/** Effective rights of a mapping, combined over all levels (SDM 4.6). */
struct pt_rights {
	bool writable; /**< R/W = 1 at every level */
	bool user;     /**< U/S = 1 at every level: a user-mode address */
	bool nx;       /**< XD = 1 at some level and NXE = 1 */
	uint8_t pkey;  /**< protection key of the leaf (IA-32e with CR4.PKE), else 0 */
};

/** Rights before any level restricts them: writable, user, executable, key 0. */
static const struct pt_rights PT_RIGHTS_TOP = { .writable = true, .user = true, .nx = false, .pkey = 0 };

/**
 * Fold one present entry without reserved bits, decoded at `level`, into `rights`, the rights
 * combined over the levels above it (SDM 4.6.1): R/W and U/S by AND, XD by OR when NXE is on;
 * a PAE PDPTE carries none of them (Table 4-8); a leaf gives the protection key with CR4.PKE
 * (4.6.2). pt_walk combines its levels with this rule, and enumeration (pt_maps_next) does too.
 */
void pt_rights_combine(const struct pt_context *ctx, unsigned level, const struct pt_entry_info *entry,
		       struct pt_rights *rights);

/** The translation of one linear address. */
struct pt_result {
	uint64_t va;
	uint64_t pa;
	uint64_t page_size;  /**< 4 KiB, 2 MiB, 4 MiB or 1 GiB */
	uint8_t level;       /**< level of the leaf entry (1 = PTE) */
	struct pt_rights rights;
	bool pa_in_dump;     /**< false: the page's frame is outside the dump (flagged, still translated) */
	uint8_t nentries;    /**< entries read, top level first (entry[nentries..] are unset) */
	struct {
		uint8_t level;
		uint64_t pa;     /**< physical address of the entry */
		uint64_t value;  /**< as read (raw) */
	} entry[5];
	struct pt_fault fault;  /**< filled when PT_FAULT is returned */
	uint64_t table_pa;      /**< PT_NOT_IN_DUMP: the table that could not be read */
};

/**
 * Translate `va` for `access` in the address space `ctx` (SDM 4.3-4.7).
 * Fault order: non-canonical #GP before the walk; then per level top-down: not present,
 * reserved bit; then the access rights of the whole walk. Returns PT_OK, PT_FAULT
 * (result->fault), PT_NOT_IN_DUMP (result->table_pa) or PT_EINVAL (VA wider than the mode).
 * result->entry[] always holds the entries read before the walk stopped.
 */
enum pt_status pt_translate(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
			    const struct pt_access *access, struct pt_result *result);

/**
 * pt_translate without the per-level record on success: the same status, fault, PA, page size,
 * level, rights and pa_in_dump; on PT_OK nentries is 0 (entry[] holds nothing it promises), on
 * any other status the record is pt_translate's. The level loop and every rule are
 * pt_translate's own. (The walk folds the rights from its record, so this is no faster than
 * pt_translate; it stays for the callers that use it.)
 */
enum pt_status pt_translate_lean(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
				 const struct pt_access *access, struct pt_result *result);

/**
 * Walk `va` without an access check: PT_OK with the mapping and its combined rights,
 * PT_FAULT only for not-present / reserved / non-canonical, PT_NOT_IN_DUMP.
 */
enum pt_status pt_walk(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
		       struct pt_result *result);

/**
 * Check `access` against a mapping's rights (SDM 4.6) and return the full #PF error code it
 * raises (P, plus W/R, U/S, I/D and PK as SDM 4.7 defines them), or 0 when the access is allowed.
 * Used by pt_translate and by the TLB on a hit.
 */
uint32_t pt_access_check(const struct pt_context *ctx, const struct pt_rights *rights,
			 const struct pt_access *access);

/**
 * Apply `access` to a mapping that pt_walk returned (PT_OK): PT_OK when allowed, else PT_FAULT
 * with result->fault set at the leaf, exactly as pt_translate does. (pt_translate is pt_walk
 * followed by this; the TLB calls it on a hit.)
 */
enum pt_status pt_result_check_access(const struct pt_context *ctx, const struct pt_access *access,
				      struct pt_result *result);

/** Canonical test for the mode's linear-address width (48 or 57 bits; 32-bit modes: < 2^32). */
bool pt_va_canonical(const struct pt_context *ctx, uint64_t va);

/** Sign-extend a VA from the mode's width (IA-32e/LA57), or return it unchanged. */
uint64_t pt_va_canonicalize(const struct pt_context *ctx, uint64_t va);

#ifdef __cplusplus
}
#endif
#endif
