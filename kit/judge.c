/* SPDX-License-Identifier: MIT */
/*
 * kit/judge.c: one probe's verdict. A walker's answer passes when it says what libptwalk says:
 * the same PA (and page size, when it gives one), a fault where the CPU faults (with the same #PF
 * error code on pf-error probes), or, for walkers that can only read through their translation,
 * the same 8 bytes as the dump holds at the expected PA. The texts of the scorecard are made here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kit_internal.h"
#include "ptlab/le.h"

/** "4K", "2M", "4M", "1G", or the size in hex. */
static const char *size_name(uint64_t size, char *buf, size_t len)
{
	if (size == PT_PAGE_4K)
		return "4K";
	if (size == PT_PAGE_2M)
		return "2M";
	if (size == PT_PAGE_4M)
		return "4M";
	if (size == PT_PAGE_1G)
		return "1G";
	snprintf(buf, len, "0x%" PRIx64, size);
	return buf;
}

const char *kit_pf_error_text(uint32_t code, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = { { PF_ERR_P, "P" },       { PF_ERR_W, "W" },   { PF_ERR_U, "U" },
		      { PF_ERR_RSVD, "RSVD" }, { PF_ERR_ID, "ID" }, { PF_ERR_PK, "PK" } };
	size_t pos = 0;

	pos += (size_t)snprintf(buf, len, "0x%x (", code);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && pos < len; i++) {
		if (code & names[i].bit)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%s",
						buf[pos - 1] == '(' ? "" : " ", names[i].name);
	}
	if (pos < len)
		snprintf(buf + pos, len - pos, "%s)", code ? "" : "not present, read, supervisor");
	return buf;
}

const char *ptk_access_text(uint32_t access, char *buf, size_t len)
{
	const char *kind = (access & PTLAB_ACCESS_FETCH) ? "fetch"
			   : (access & PTLAB_ACCESS_WRITE) ? "write" : "read";
	snprintf(buf, len, "%s %s, %s", (access & PTLAB_ACCESS_USER) ? "user" : "supervisor", kind,
		 (access & PTLAB_ACCESS_CHECK) ? "rights checked" : "pure translation");
	return buf;
}

void kit_expect_text(const struct ptk_probe *p, char *buf, size_t len)
{
	char s[32], e[96];

	switch (p->expect.kind) {
	case PTK_EXPECT_PA:
		snprintf(buf, len, "PA 0x%" PRIx64 " (%s page)", p->expect.pa,
			 size_name(p->expect.page_size, s, sizeof(s)));
		break;
	case PTK_EXPECT_PF:
		snprintf(buf, len, "#PF, error code %s",
			 kit_pf_error_text(p->expect.pf_error, e, sizeof(e)));
		break;
	case PTK_EXPECT_GP:
		snprintf(buf, len, "#GP (non-canonical address)");
		break;
	}
}

/** What the bytes of a data answer say about where they came from. */
static void data_text(const uint8_t data[8], char *buf, size_t len)
{
	const uint64_t word = pt_le64(data);
	const uint64_t pa = word ^ PTK_DATA_TAG_XOR;

	if (pa < PT_BIT(52) && pa % 8 == 0)
		snprintf(buf, len, "data 0x%016" PRIx64 " (the tag of PA 0x%" PRIx64 ")", word, pa);
	else
		snprintf(buf, len, "data 0x%016" PRIx64 " (not a tag of this dump's data pages)", word);
}

void kit_answer_text(const struct kit_answer *a, const struct kit_run *run, char *buf, size_t len)
{
	char s[32], e[96];

	switch (a->kind) {
	case KIT_ANS_PA:
		if (a->has_size)
			snprintf(buf, len, "PA 0x%" PRIx64 " (%s page)", a->pa,
				 a->page_size ? size_name(a->page_size, s, sizeof(s)) : "no");
		else
			snprintf(buf, len, "PA 0x%" PRIx64, a->pa);
		break;
	case KIT_ANS_FAULT:
		if (a->has_error)
			snprintf(buf, len, "a fault, error code %s",
				 kit_pf_error_text(a->pf_error, e, sizeof(e)));
		else
			snprintf(buf, len, "a fault (not mapped)");
		break;
	case KIT_ANS_DATA:
		data_text(a->data, buf, len);
		break;
	case KIT_ANS_ERROR:
	case KIT_ANS_UNSUPPORTED:
		snprintf(buf, len, "%s", run->msgs[a->msg < KIT_MAX_MSGS ? a->msg : 0]);
		break;
	case KIT_ANS_NONE:
		snprintf(buf, len, "not asked");
		break;
	}
}

enum kit_verdict kit_judge(const struct ptk_case *c, const struct ptk_probe *p,
			   const struct kit_answer *a)
{
	const struct ptk_expect *x = &p->expect;

	switch (a->kind) {
	case KIT_ANS_NONE:
	case KIT_ANS_UNSUPPORTED:
		return KIT_UNSUPPORTED;
	case KIT_ANS_ERROR:
		return KIT_FAIL;
	case KIT_ANS_PA:
		if (x->kind != PTK_EXPECT_PA || a->pa != x->pa)
			return KIT_FAIL;
		return a->has_size && a->page_size != x->page_size ? KIT_FAIL : KIT_PASS;
	case KIT_ANS_FAULT:
		if (x->kind == PTK_EXPECT_PA)
			return KIT_FAIL;
		if ((p->needs & PTLAB_CAP_PF_ERROR) && x->kind == PTK_EXPECT_PF)
			return a->has_error && a->pf_error == x->pf_error ? KIT_PASS : KIT_FAIL;
		return KIT_PASS;
	case KIT_ANS_DATA: {
		uint8_t want[8];
		if (x->kind != PTK_EXPECT_PA || ptk_read_phys((void *)c->mem, x->pa, want, 8) != 0)
			return KIT_FAIL;
		return memcmp(want, a->data, 8) == 0 ? KIT_PASS : KIT_FAIL;
	}
	}
	return KIT_FAIL;
}
