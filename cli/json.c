/* SPDX-License-Identifier: MIT */
/* cli/json.c: the JSON writer (json.h). */
#include "json.h"

#include <stdlib.h>
#include <string.h>

void ptl_json_init(struct ptl_json *json, FILE *out)
{
	memset(json, 0, sizeof(*json));
	json->out = out;
}

/* Separator before a value or key: a comma unless first in its container or after a key. */
static void json_separate(struct ptl_json *json)
{
	if (json->after_key) {
		json->after_key = false;
		return;
	}
	if (json->depth == 0)
		return;
	if (json->has_items[json->depth - 1])
		fputc(',', json->out);
	json->has_items[json->depth - 1] = true;
}

static void json_open(struct ptl_json *json, char c)
{
	json_separate(json);
	if (json->depth >= PTL_JSON_MAX_DEPTH)
		abort(); /* a bug in the caller, not an input error */
	fputc(c, json->out);
	json->has_items[json->depth++] = false;
}

static void json_close(struct ptl_json *json, char c)
{
	if (json->depth == 0)
		abort();
	json->depth--;
	fputc(c, json->out);
}

void ptl_json_object_begin(struct ptl_json *json)
{
	json_open(json, '{');
}

void ptl_json_object_end(struct ptl_json *json)
{
	json_close(json, '}');
}

void ptl_json_array_begin(struct ptl_json *json)
{
	json_open(json, '[');
}

void ptl_json_array_end(struct ptl_json *json)
{
	json_close(json, ']');
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one. */
static size_t utf8_sequence_length(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	/* Overlong forms, surrogates and code points above U+10FFFF (RFC 3629, section 4). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

static void json_write_escaped(FILE *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	fputc('"', out);
	while (*s != '\0') {
		size_t len;

		switch (*s) {
		case '"': fputs("\\\"", out); s++; continue;
		case '\\': fputs("\\\\", out); s++; continue;
		case '\b': fputs("\\b", out); s++; continue;
		case '\f': fputs("\\f", out); s++; continue;
		case '\n': fputs("\\n", out); s++; continue;
		case '\r': fputs("\\r", out); s++; continue;
		case '\t': fputs("\\t", out); s++; continue;
		default: break;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\u%04x", *s);
			s++;
			continue;
		}
		len = utf8_sequence_length(s);
		if (len == 0) {
			fputs("\\ufffd", out);
			s++;
			continue;
		}
		fwrite(s, 1, len, out);
		s += len;
	}
	fputc('"', out);
}

void ptl_json_key(struct ptl_json *json, const char *key)
{
	json_separate(json);
	json_write_escaped(json->out, key);
	fputc(':', json->out);
	json->after_key = true;
}

void ptl_json_string(struct ptl_json *json, const char *text)
{
	json_separate(json);
	json_write_escaped(json->out, text);
}

void ptl_json_hex(struct ptl_json *json, uint64_t value)
{
	json_separate(json);
	fprintf(json->out, "\"0x%llx\"", (unsigned long long)value);
}

void ptl_json_u64(struct ptl_json *json, uint64_t value)
{
	json_separate(json);
	fprintf(json->out, "%llu", (unsigned long long)value);
}

void ptl_json_hex_or_null(struct ptl_json *json, bool has, uint64_t value)
{
	if (has)
		ptl_json_hex(json, value);
	else
		ptl_json_null(json);
}

void ptl_json_seconds(struct ptl_json *json, double seconds)
{
	json_separate(json);
	fprintf(json->out, "%.6f", seconds);
}

void ptl_json_bool(struct ptl_json *json, bool value)
{
	json_separate(json);
	fputs(value ? "true" : "false", json->out);
}

void ptl_json_null(struct ptl_json *json)
{
	json_separate(json);
	fputs("null", json->out);
}

void ptl_json_fault(struct ptl_json *j, enum pt_status status, const struct pt_fault *f,
		    bool at_cr3_load)
{
	ptl_json_key(j, "fault");
	if (status != PT_FAULT) {
		ptl_json_null(j);
		return;
	}
	ptl_json_object_begin(j);
	ptl_json_key(j, "vector");
	ptl_json_u64(j, f->vector);
	ptl_json_key(j, "error_code");
	ptl_json_u64(j, f->error_code);
	ptl_json_key(j, "level");
	ptl_json_u64(j, f->level);
	/* A #GP before the walk (level 0) has no entry. */
	ptl_json_key(j, "entry_pa");
	ptl_json_hex_or_null(j, f->level != 0, f->entry_pa);
	ptl_json_key(j, "entry");
	ptl_json_hex_or_null(j, f->level != 0, f->entry);
	if (f->vector == PT_VEC_GP) {
		ptl_json_key(j, "reason");
		ptl_json_string(j, at_cr3_load ? "PDPTE reserved bits at CR3 load" : "non-canonical");
	}
	ptl_json_key(j, "at_cr3_load");
	ptl_json_bool(j, at_cr3_load);
	ptl_json_object_end(j);
}

void ptl_json_rights(struct ptl_json *json, const struct pt_rights *rights)
{
	ptl_json_key(json, "writable");
	ptl_json_bool(json, rights->writable);
	ptl_json_key(json, "user");
	ptl_json_bool(json, rights->user);
	ptl_json_key(json, "nx");
	ptl_json_bool(json, rights->nx);
}

void ptl_json_entry(struct ptl_json *json, unsigned level, uint64_t pa, uint64_t value)
{
	ptl_json_object_begin(json);
	ptl_json_key(json, "level");
	ptl_json_u64(json, level);
	ptl_json_key(json, "pa");
	ptl_json_hex(json, pa);
	ptl_json_key(json, "value");
	ptl_json_hex(json, value);
	ptl_json_object_end(json);
}

void ptl_json_entries(struct ptl_json *json, const struct pt_result *r)
{
	const unsigned max = sizeof(r->entry) / sizeof(r->entry[0]);

	ptl_json_key(json, "entries");
	ptl_json_array_begin(json);
	for (unsigned i = 0; i < r->nentries && i < max; i++)
		ptl_json_entry(json, r->entry[i].level, r->entry[i].pa, r->entry[i].value);
	ptl_json_array_end(json);
}

void ptl_json_finish(struct ptl_json *json)
{
	if (json->depth != 0)
		abort();
	fputc('\n', json->out);
}
