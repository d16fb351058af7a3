/* SPDX-License-Identifier: MIT */
/*
 * cli/json.h: the streaming writer of the one JSON object a command prints with --json
 * (compact, RFC 8259), and the JSON of the walker's results that several commands print alike.
 */
#ifndef PTLAB_CLI_JSON_H
#define PTLAB_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ptlab/walk.h"

/** Deepest nesting the writer tracks. */
#define PTL_JSON_MAX_DEPTH 16

/** A streaming writer of one compact JSON value. Call in document order; keys inside objects. */
struct ptl_json {
	FILE *out;
	unsigned depth;                      /**< open objects/arrays */
	bool has_items[PTL_JSON_MAX_DEPTH];  /**< the container at this depth has a member already */
	bool after_key;                      /**< a key was written, its value comes next */
};

/** Start writing to `out`. */
void ptl_json_init(struct ptl_json *json, FILE *out);
/** Open an object ('{'). */
void ptl_json_object_begin(struct ptl_json *json);
/** Close the innermost object ('}'). */
void ptl_json_object_end(struct ptl_json *json);
/** Open an array ('['). */
void ptl_json_array_begin(struct ptl_json *json);
/** Close the innermost array (']'). */
void ptl_json_array_end(struct ptl_json *json);
/** The key of the next member (escaped like any string). */
void ptl_json_key(struct ptl_json *json, const char *key);
/** A string, escaped per RFC 8259; invalid UTF-8 bytes become U+FFFD. */
void ptl_json_string(struct ptl_json *json, const char *text);
/** An address or other 64-bit value as a "0x..." string. */
void ptl_json_hex(struct ptl_json *json, uint64_t value);
/** A "0x..." string when `has`, else null. */
void ptl_json_hex_or_null(struct ptl_json *json, bool has, uint64_t value);
/** An unsigned number. */
void ptl_json_u64(struct ptl_json *json, uint64_t value);
/** A number with six decimals (seconds). */
void ptl_json_seconds(struct ptl_json *json, double seconds);
/** true or false. */
void ptl_json_bool(struct ptl_json *json, bool value);
/** null. */
void ptl_json_null(struct ptl_json *json);
/**
 * The member "fault": null unless `status` is PT_FAULT, else {"vector","error_code","level",
 * "entry_pa","entry" (null for a #GP before the walk),"reason" (#GP only),"at_cr3_load"}.
 */
void ptl_json_fault(struct ptl_json *json, enum pt_status status, const struct pt_fault *fault,
		    bool at_cr3_load);
/** The members "writable", "user" and "nx" of a mapping's rights. */
void ptl_json_rights(struct ptl_json *json, const struct pt_rights *rights);
/** One paging-structure entry read: {"level","pa","value"}. */
void ptl_json_entry(struct ptl_json *json, unsigned level, uint64_t pa, uint64_t value);
/** The member "entries": the entries a walk read, top level first ([] when none). */
void ptl_json_entries(struct ptl_json *json, const struct pt_result *result);
/** End the document with a newline (all containers must be closed). */
void ptl_json_finish(struct ptl_json *json);

#endif
