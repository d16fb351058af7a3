/* SPDX-License-Identifier: MIT */
/* cli/format.c: the short names the text output of several commands shares (format.h). */
#include "format.h"

#include <stdio.h>

const char *ptl_page_size_name(uint64_t page_size, char *buf, size_t buflen)
{
	static const struct {
		uint64_t size;
		const char *name;
	} names[] = {
		{ UINT64_C(1) << 12, "4K" },
		{ UINT64_C(1) << 21, "2M" },
		{ UINT64_C(1) << 22, "4M" },
		{ UINT64_C(1) << 30, "1G" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].size == page_size)
			return names[i].name;
	}
	snprintf(buf, buflen, "0x%llx", (unsigned long long)page_size);
	return buf;
}

const char *ptl_pf_error_names(uint32_t error_code, char *buf, size_t buflen)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ PF_ERR_P, "P" },   { PF_ERR_W, "W" },   { PF_ERR_U, "U" },
		{ PF_ERR_RSVD, "RSVD" }, { PF_ERR_ID, "ID" }, { PF_ERR_PK, "PK" },
	};
	size_t used = 0;

	if (buflen == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(error_code & names[i].bit))
			continue;
		n = snprintf(buf + used, buflen - used, "%s%s", used ? " " : "", names[i].name);
		if (n < 0 || (size_t)n >= buflen - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, buflen, "none");
	return buf;
}

void ptl_print_entries(FILE *out, const struct pt_result *r)
{
	const unsigned max = sizeof(r->entry) / sizeof(r->entry[0]);

	for (unsigned i = 0; i < r->nentries && i < max; i++)
		fprintf(out, " L%u 0x%llx=0x%llx", r->entry[i].level, (unsigned long long)r->entry[i].pa,
			(unsigned long long)r->entry[i].value);
}
