/* SPDX-License-Identifier: MIT */
/*
 * cli/maps_svg.c: the picture `ptlab maps DUMP --svg FILE` draws: an address space as people
 * think of it, in one self-contained SVG file (no external resources).
 *
 * The space is one column per canonical half (lower: user, upper: kernel; 32-bit modes have one
 * space), address growing downwards as in Linux's mm.rst. Mapped addresses are sparse, so the
 * axis is segmented: what is mapped falls into clusters (ranges less than a cluster gap apart),
 * each cluster is one segment drawn to scale (linear inside; its height grows with the log of
 * its span), and the unmapped stretches between them are cut out and labelled with their size.
 * A range is a bar whose colour says its rights (r--, rw-, r-x, rwx), with a strip beside it
 * whose colour says its page size, hatched when user-accessible, faded when its frames are not
 * in the dump; unreadable subtrees (a table not in the dump), collapsed aliases and entries with
 * reserved bits are marked. Regions the kernel's layout puts there (maps_regions.c: kernel text,
 * direct map, vmalloc, fixmap...) are bracketed and named. A legend ends the picture.
 *
 * Neighbouring ranges that fall on the same half pixel with the same look are drawn as one
 * rectangle, so even Linux's ESPFIX area (65,536 aliases of one page) stays a small file.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps_svg.h"

/** Geometry (pixels). */
enum {
	COL_W = 640,            /**< one column (a canonical half) */
	MARGIN = 24,
	HEAD_H = 78,            /**< title and subtitle */
	ADDR_W = 128,           /**< address labels, left of the bar */
	STRIP_W = 8,            /**< page-size strip */
	BAR_W = 96,
	SEG_MIN_H = 26,
	SEG_MAX_H = 250,
	GAP_H = 30,             /**< an unmapped stretch between segments */
	LEGEND_H = 150,
	LEGEND_W = 1000,        /**< the legend's width: the narrowest picture */
};

/** Clusters break where nothing is mapped for this long (64-bit halves, 32-bit spaces). */
static const uint64_t CLUSTER_GAP64 = UINT64_C(1) << 26;
static const uint64_t CLUSTER_GAP32 = UINT64_C(1) << 24;

/** Fill colours of the rights classes, indexed by (writable << 1 | executable). */
static const char *const RIGHTS_FILL[4] = { "#43a047", "#ff9800", "#1e88e5", "#e53935" };
static const char *const RIGHTS_NAME[4] = { "r-- read-only, no execute", "r-x read, execute",
					    "rw- read, write, no execute", "rwx read, write, execute" };
/** Page-size strip colours. */
static const struct {
	uint64_t size;
	const char *fill, *name;
} PAGE_SIZES[] = {
	{ UINT64_C(1) << 12, "#cfd8dc", "4 KiB pages" },
	{ UINT64_C(1) << 21, "#607d8b", "2 MiB pages" },
	{ UINT64_C(1) << 22, "#8d6e63", "4 MiB pages" },
	{ UINT64_C(1) << 30, "#212121", "1 GiB pages" },
};
static const char UNREADABLE_FILL[] = "url(#unreadable)";
static const char ALIAS_FILL[] = "url(#alias)";

struct ptl_svg {
	const struct ptl_session *s;
	FILE *out;                 /**< the file, opened (and so checked) before the enumeration */
	const char *path;
	struct pt_range *items;
	size_t count, cap;
};

/** One canonical half (or the whole 32-bit space): [base, base + size). */
struct space {
	uint64_t base, last;    /**< first and last address */
	const char *title;
};

/** A cluster of items: [start, last], items [first, end). */
struct cluster {
	uint64_t start, last;
	size_t first, end;
};

/** Where the drawing goes. */
struct canvas {
	FILE *f;
	double x0;              /**< left edge of the column */
	double y;               /**< next free y */
	const struct ptl_regions *regions;
	int va_digits;
};

struct ptl_svg *ptl_svg_create(const struct ptl_session *s, const char *path)
{
	struct ptl_svg *svg = calloc(1, sizeof(*svg));

	if (!svg) {
		ptl_error("out of memory");
		return NULL;
	}
	svg->s = s;
	svg->path = path;
	svg->out = fopen(path, "w");
	if (!svg->out) {
		ptl_error("%s: cannot write: %s", path, strerror(errno));
		free(svg);
		return NULL;
	}
	return svg;
}

bool ptl_svg_add(struct ptl_svg *svg, const struct pt_range *r)
{
	if (r->kind == PT_RANGE_HOLE)
		return true;
	if (svg->count == svg->cap) {
		size_t cap = svg->cap ? svg->cap * 2 : 256;
		struct pt_range *p = realloc(svg->items, cap * sizeof(*p));

		if (!p)
			return false;
		svg->items = p;
		svg->cap = cap;
	}
	svg->items[svg->count++] = *r;
	return true;
}

void ptl_svg_destroy(struct ptl_svg *svg)
{
	if (!svg)
		return;
	if (svg->out)
		fclose(svg->out);
	free(svg->items);
	free(svg);
}

/* ---- Text ------------------------------------------------------------------------------------ */

/** Write `text` escaped for XML character data and attribute values. */
static void xml_text(FILE *f, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
		}
	}
}

/** <text> at (x, y) with a class (see the style sheet) and escaped content. */
static void text_at(FILE *f, double x, double y, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void text_at(FILE *f, double x, double y, const char *cls, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\">", x, y, cls);
	xml_text(f, buf);
	fputs("</text>\n", f);
}

/** "4 KiB", "1.5 GiB", "128 TiB". */
static const char *human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, v < 10 && v != floor(v) ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

/* ---- Layout ------------------------------------------------------------------------------------ */

/** The spaces of the mode: two canonical halves, or one 32-bit space. Returns their count. */
static size_t spaces_of(enum pt_mode mode, struct space sp[2])
{
	unsigned bits = mode == PT_MODE_LA57 ? 57 : 48;
	uint64_t half = UINT64_C(1) << (bits - 1);

	if (mode == PT_MODE_LEGACY || mode == PT_MODE_PAE) {
		sp[0] = (struct space){ 0, UINT32_MAX, "32-bit linear address space" };
		return 1;
	}
	sp[0] = (struct space){ 0, half - 1, "lower canonical half (user)" };
	sp[1] = (struct space){ -half, UINT64_MAX, "upper canonical half (kernel)" };
	return 2;
}

static uint64_t item_last(const struct pt_range *r)
{
	return r->va + (r->size - 1);
}

/** Split the items inside `sp` into clusters; returns the count (clusters is big enough). */
static size_t clusters_of(const struct ptl_svg *svg, const struct space *sp, uint64_t gap,
			  struct cluster *out)
{
	size_t n = 0;

	for (size_t i = 0; i < svg->count; i++) {
		const struct pt_range *r = &svg->items[i];

		if (r->va < sp->base || r->va > sp->last || r->size == 0)
			continue;
		if (n > 0 && out[n - 1].end == i && r->va - out[n - 1].last <= gap) {
			if (item_last(r) > out[n - 1].last)
				out[n - 1].last = item_last(r);
			out[n - 1].end = i + 1;
			continue;
		}
		out[n++] = (struct cluster){ r->va, item_last(r), i, i + 1 };
	}
	return n;
}

/** Height of a segment: grows with the log of its span. */
static double segment_height(const struct cluster *c)
{
	double bits = log2((double)(c->last - c->start) + 1.0);
	double h = SEG_MIN_H + 9.0 * (bits > 12 ? bits - 12 : 0);

	return h > SEG_MAX_H ? SEG_MAX_H : h;
}

/** y of address `va` inside a segment [c->start, c->last] drawn from y0, h pixels high. */
static double y_of(const struct cluster *c, double y0, double h, uint64_t va)
{
	double span = (double)(c->last - c->start) + 1.0;

	return y0 + h * ((double)(va - c->start) / span);
}

/* ---- Drawing ------------------------------------------------------------------------------------ */

/** A rectangle being merged with its neighbours on the same half pixel. */
struct pending {
	bool open;
	double x, w, y0, y1;
	const char *fill;
	double opacity;
};

static void pending_flush(FILE *f, struct pending *p)
{
	if (!p->open)
		return;
	fprintf(f, "<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" fill=\"%s\"%s/>\n", p->x,
		p->y0, p->w, p->y1 - p->y0 < 1 ? 1.0 : p->y1 - p->y0, p->fill,
		p->opacity < 1 ? " fill-opacity=\"0.45\"" : "");
	p->open = false;
}

/** Draw [y0, y1) at x; merged with the pending rectangle when it continues it. */
static void rect_merge(FILE *f, struct pending *p, double x, double w, double y0, double y1,
		       const char *fill, double opacity)
{
	if (y1 - y0 < 1.0)
		y1 = y0 + 1.0;
	if (p->open && p->x == x && p->fill == fill && p->opacity == opacity && y0 <= p->y1 + 0.5) {
		if (y1 > p->y1)
			p->y1 = y1;
		return;
	}
	pending_flush(f, p);
	*p = (struct pending){ true, x, w, y0, y1, fill, opacity };
}

static const char *page_size_fill(uint64_t size)
{
	for (size_t i = 0; i < sizeof(PAGE_SIZES) / sizeof(PAGE_SIZES[0]); i++)
		if (PAGE_SIZES[i].size == size)
			return PAGE_SIZES[i].fill;
	return "#000000";
}

/** What a cluster holds, for its label. */
struct tally {
	uint64_t mapped, ranges, unreadable, aliases, reserved, user, not_in_dump;
	uint64_t same_frame_max;     /**< the most ranges in a row that map one frame */
	uint64_t per_size[4];
};

/** The bars of one segment (three layers: page-size strip, rights, user hatch). */
static void draw_bars(struct canvas *cv, const struct ptl_svg *svg, const struct cluster *c,
		      double y0, double h, struct tally *t)
{
	struct pending strip = { 0 }, bar = { 0 }, user = { 0 }, rsvd = { 0 };
	const double xs = cv->x0 + ADDR_W, xb = xs + STRIP_W + 2;
	uint64_t run = 0, run_pa = UINT64_MAX;

	for (size_t i = c->first; i < c->end; i++) {
		const struct pt_range *r = &svg->items[i];
		double a = y_of(c, y0, h, r->va), b = y_of(c, y0, h, item_last(r)) + 0.01;

		if (r->kind == PT_RANGE_UNREADABLE || r->kind == PT_RANGE_ALIAS) {
			rect_merge(cv->f, &bar, xb, BAR_W, a, b, r->kind == PT_RANGE_ALIAS ? ALIAS_FILL :
				   UNREADABLE_FILL, 1.0);
			*(r->kind == PT_RANGE_ALIAS ? &t->aliases : &t->unreadable) += 1;
			continue;
		}
		if (r->kind == PT_RANGE_RESERVED) {
			rect_merge(cv->f, &rsvd, xb + BAR_W + 2, 5, a, b < a + 2 ? a + 2 : b, "#c62828", 1.0);
			t->reserved++;
			continue;
		}
		const int cls = (r->rights.writable ? 2 : 0) | (r->rights.nx ? 0 : 1);
		const double op = r->pa_in_dump ? 1.0 : 0.45;
		rect_merge(cv->f, &strip, xs, STRIP_W, a, b, page_size_fill(r->page_size), 1.0);
		rect_merge(cv->f, &bar, xb, BAR_W, a, b, RIGHTS_FILL[cls], op);
		if (r->rights.user) {
			rect_merge(cv->f, &user, xb, BAR_W, a, b, "url(#user)", 1.0);
			t->user++;
		}
		t->mapped += r->size;
		t->ranges++;
		t->not_in_dump += !r->pa_in_dump;
		for (size_t k = 0; k < 4; k++)
			t->per_size[k] += PAGE_SIZES[k].size == r->page_size;
		run = r->pa == run_pa ? run + 1 : 1;
		run_pa = r->pa;
		if (run > t->same_frame_max)
			t->same_frame_max = run;
	}
	pending_flush(cv->f, &strip);
	pending_flush(cv->f, &bar);
	pending_flush(cv->f, &user);
	pending_flush(cv->f, &rsvd);
}

/**
 * The regions overlapping a segment: a bracket each, its name level with the bracket's top (or
 * below the name before). Returns the y of the last name.
 */
static double draw_regions(struct canvas *cv, const struct cluster *c, double y0, double h)
{
	const double xr = cv->x0 + ADDR_W + STRIP_W + 2 + BAR_W + 16;
	double last = y0;

	for (size_t i = 0; cv->regions && i < cv->regions->count; i++) {
		const struct ptl_region *g = &cv->regions->items[i];
		uint64_t a = g->start > c->start ? g->start : c->start;
		uint64_t b = g->end - 1 < c->last ? g->end - 1 : c->last;

		if (g->end - 1 < c->start || g->start > c->last)
			continue;
		double ya = y_of(c, y0, h, a), yb = y_of(c, y0, h, b) + 0.01;
		if (yb - ya < 3)
			yb = ya + 3;
		double ty = ya + 10 > last + 13 ? ya + 10 : last + 13;
		fprintf(cv->f, "<path d=\"M%.1f %.1f h4 V%.1f h-4\" class=\"bracket\"/>\n", xr - 8, ya, yb);
		fprintf(cv->f, "<text x=\"%.1f\" y=\"%.1f\" class=\"region\">", xr, ty);
		xml_text(cv->f, g->name);
		fputs("<title>", cv->f);
		xml_text(cv->f, g->source);
		fputs("</title></text>\n", cv->f);
		last = ty;
	}
	return last;
}

/** The summary of a segment, right of the bar from `y` (a text line's top) down; returns its end. */
static double draw_summary(struct canvas *cv, const struct tally *t, double y)
{
	int line = 0;
	const double xr = cv->x0 + ADDR_W + STRIP_W + 2 + BAR_W + 16;
	char size[32], sizes[96] = "";
	size_t used = 0;

	for (size_t k = 0; k < 4; k++) {
		if (t->per_size[k] && used < sizeof(sizes))
			used += (size_t)snprintf(sizes + used, sizeof(sizes) - used, "%s%" PRIu64 " x %s",
						 used ? ", " : "", t->per_size[k], PAGE_SIZES[k].name);
	}
	if (t->ranges)
		text_at(cv->f, xr, y + 12 + 13 * line++, "note", "%s mapped in %" PRIu64 " range%s (%s)",
			human(t->mapped, size, sizeof(size)), t->ranges, t->ranges == 1 ? "" : "s", sizes);
	if (t->same_frame_max >= 3)
		text_at(cv->f, xr, y + 12 + 13 * line++, "alias-note", "up to %" PRIu64 " ranges in a row "
			"map one frame (aliases)", t->same_frame_max);
	if (t->unreadable)
		text_at(cv->f, xr, y + 12 + 13 * line++, "bad-note", "%" PRIu64 " unreadable subtree%s "
			"(page table not in dump)", t->unreadable, t->unreadable == 1 ? "" : "s");
	if (t->aliases)
		text_at(cv->f, xr, y + 12 + 13 * line++, "alias-note", "%" PRIu64 " aliased subtree%s "
			"collapsed", t->aliases, t->aliases == 1 ? "" : "s");
	if (t->reserved)
		text_at(cv->f, xr, y + 12 + 13 * line++, "bad-note", "%" PRIu64 " entr%s with reserved bits",
			t->reserved, t->reserved == 1 ? "y" : "ies");
	if (t->not_in_dump)
		text_at(cv->f, xr, y + 12 + 13 * line++, "note", "%" PRIu64 " range%s with frames not in "
			"the dump (faded)", t->not_in_dump, t->not_in_dump == 1 ? "" : "s");
	return y + 13 * line;
}

/** A cut-out unmapped stretch [a, b]. */
static void draw_gap(struct canvas *cv, uint64_t a, uint64_t b)
{
	char size[32];
	const double xb = cv->x0 + ADDR_W + STRIP_W + 2, y = cv->y + GAP_H / 2.0;

	fprintf(cv->f, "<path d=\"M%.1f %.1f l8 -4 l8 8 l8 -8 l8 8 l8 -8 l8 8 l8 -8 l8 8 l8 -8 l8 8 "
		"l8 -8 l8 4\" class=\"cut\"/>\n", xb, y);
	text_at(cv->f, xb + BAR_W + 16, y + 4, "gap", "%s unmapped", human(b - a + 1, size, sizeof(size)));
	cv->y += GAP_H;
}

/** One segment: addresses, bars, regions, summary. */
static void draw_segment(struct canvas *cv, const struct ptl_svg *svg, const struct cluster *c)
{
	const double h = segment_height(c), y0 = cv->y;
	struct tally t;
	double end;

	memset(&t, 0, sizeof(t));
	fprintf(cv->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" class=\"seg\"/>\n",
		cv->x0 + ADDR_W + STRIP_W + 2, y0, BAR_W, h);
	text_at(cv->f, cv->x0, y0 + 9, "addr", "%0*" PRIx64, cv->va_digits, c->start);
	text_at(cv->f, cv->x0, y0 + h, "addr", "%0*" PRIx64, cv->va_digits, c->last);
	draw_bars(cv, svg, c, y0, h, &t);
	end = draw_summary(cv, &t, draw_regions(cv, c, y0, h)) + 6;
	cv->y = end > y0 + h ? end : y0 + h;
}

/** One column: a space's segments and the stretches between them. Returns the segments drawn. */
static size_t draw_space(struct canvas *cv, const struct ptl_svg *svg, const struct space *sp,
			 uint64_t gap, struct cluster *cl)
{
	char size[32];
	size_t n = clusters_of(svg, sp, gap, cl);

	text_at(cv->f, cv->x0, cv->y, "col", "%s", sp->title);
	text_at(cv->f, cv->x0, cv->y + 15, "addr", "%0*" PRIx64 "-%0*" PRIx64 " (%s)", cv->va_digits,
		sp->base, cv->va_digits, sp->last, human(sp->last - sp->base + 1, size, sizeof(size)));
	cv->y += 30;
	if (n == 0) {
		fprintf(cv->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"40\" class=\"seg\"/>\n",
			cv->x0 + ADDR_W + STRIP_W + 2, cv->y, BAR_W);
		text_at(cv->f, cv->x0 + ADDR_W + STRIP_W + BAR_W + 18, cv->y + 24, "gap", "nothing mapped");
		cv->y += 40;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t from = i ? cl[i - 1].last + 1 : sp->base;

		if (cl[i].start > from)
			draw_gap(cv, from, cl[i].start - 1);
		draw_segment(cv, svg, &cl[i]);
	}
	if (cl[n - 1].last < sp->last)
		draw_gap(cv, cl[n - 1].last + 1, sp->last);
	return n;
}

/* ---- The document ---------------------------------------------------------------------------------- */

static void prologue(FILE *f, double width, double height)
{
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\">\n", width, height, width, height);
	fputs("<style>\n"
	      "text { font-family: 'DejaVu Sans', sans-serif; font-size: 11px; fill: #212121; }\n"
	      ".title { font-size: 18px; font-weight: bold; }\n"
	      ".sub { font-size: 12px; fill: #455a64; }\n"
	      ".col { font-size: 14px; font-weight: bold; }\n"
	      ".addr { font-family: 'DejaVu Sans Mono', monospace; font-size: 10.5px; fill: #37474f; }\n"
	      ".region { font-weight: bold; fill: #0d47a1; }\n"
	      ".note { fill: #455a64; }\n"
	      ".gap { fill: #78909c; font-style: italic; }\n"
	      ".bad-note { fill: #c62828; }\n"
	      ".alias-note { fill: #7b1fa2; }\n"
	      ".seg { fill: #fafafa; stroke: #b0bec5; stroke-width: 0.6; }\n"
	      ".cut { fill: none; stroke: #90a4ae; stroke-width: 1.2; }\n"
	      ".bracket { fill: none; stroke: #0d47a1; stroke-width: 1.2; }\n"
	      "</style>\n"
	      "<defs>\n"
	      "<pattern id=\"user\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
	      "patternTransform=\"rotate(45)\"><rect width=\"2\" height=\"6\" fill=\"#ffffff\" "
	      "fill-opacity=\"0.7\"/></pattern>\n"
	      "<pattern id=\"unreadable\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
	      "<rect width=\"6\" height=\"6\" fill=\"#ffcdd2\"/><path d=\"M0 0 L6 6 M6 0 L0 6\" "
	      "stroke=\"#c62828\" stroke-width=\"1\"/></pattern>\n"
	      "<pattern id=\"alias\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
	      "<rect width=\"6\" height=\"6\" fill=\"#e1bee7\"/><path d=\"M0 3 H6\" "
	      "stroke=\"#7b1fa2\" stroke-width=\"1.5\"/></pattern>\n"
	      "</defs>\n"
	      "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
	      f);
}

/** The legend: rights, page sizes, marks. */
static void legend(FILE *f, double x, double y)
{
	const struct {
		const char *fill, *name;
	} marks[] = {
		{ "url(#user)", "user-accessible (U/S = 1): hatched" },
		{ UNREADABLE_FILL, "unreadable subtree: page table not in the dump" },
		{ ALIAS_FILL, "collapsed alias: a table reached again" },
	};

	text_at(f, x, y, "col", "Legend");
	for (size_t i = 0; i < 4; i++) {
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"11\" fill=\"%s\"/>\n", x,
			y + 10 + 16 * (double)i, RIGHTS_FILL[i]);
		text_at(f, x + 24, y + 20 + 16 * (double)i, "note", "%s", RIGHTS_NAME[i]);
	}
	for (size_t i = 0; i < sizeof(PAGE_SIZES) / sizeof(PAGE_SIZES[0]); i++) {
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"11\" fill=\"%s\"/>\n", x + 250,
			y + 10 + 16 * (double)i, PAGE_SIZES[i].fill);
		text_at(f, x + 264, y + 20 + 16 * (double)i, "note", "strip: %s", PAGE_SIZES[i].name);
	}
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"11\" fill=\"%s\" "
			"stroke=\"#90a4ae\" stroke-width=\"0.5\"/>\n", x + 420, y + 10 + 16 * (double)i,
			i == 0 ? RIGHTS_FILL[2] : marks[i].fill);
		if (i == 0)
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"11\" fill=\"%s\"/>\n",
				x + 420, y + 10, marks[0].fill);
		text_at(f, x + 444, y + 20 + 16 * (double)i, "note", "%s", marks[i].name);
	}
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"5\" height=\"11\" fill=\"#c62828\"/>\n",
		x + 426, y + 58);
	text_at(f, x + 444, y + 68, "note", "tick right of the bar: entry with reserved bits");
	text_at(f, x + 420, y + 84, "note", "faded: frames not in the dump");
	text_at(f, x, y + 100, "gap", "Segments are to scale inside (height grows with the log of the "
		"span); unmapped stretches between them are cut out.");
	text_at(f, x, y + 114, "gap", "Brackets: regions of the kernel's layout (hover for their source).");
}

int ptl_svg_write(struct ptl_svg *svg, const char *symbols_path)
{
	const char *path = svg->path;
	const struct ptl_session *s = svg->s;
	struct space sp[2];
	struct ptl_regions regions;
	struct cluster *cl = calloc(svg->count + 1, sizeof(*cl));
	const size_t nsp = spaces_of(s->ctx.mode, sp);
	const uint64_t gap = nsp == 1 ? CLUSTER_GAP32 : CLUSTER_GAP64;
	const double width = MARGIN * 2 + (COL_W * (double)nsp > LEGEND_W ? COL_W * (double)nsp : LEGEND_W);
	struct canvas cv = { .va_digits = nsp == 1 ? 8 : 16, .regions = &regions };
	double height = 0;
	uint64_t mapped = 0;
	char *body = NULL, size[32];
	size_t body_len = 0;
	FILE *out;
	int ret;

	if (!cl || !(cv.f = open_memstream(&body, &body_len))) {
		ptl_error("out of memory");
		free(cl);
		return PTL_EXIT_USAGE;
	}
	ret = ptl_regions_find(s, symbols_path, &regions);
	for (size_t i = 0; ret == PTL_EXIT_OK && i < nsp; i++) {
		cv.x0 = MARGIN + COL_W * (double)i;
		cv.y = HEAD_H + 14;
		draw_space(&cv, svg, &sp[i], gap, cl);
		height = cv.y > height ? cv.y : height;
	}
	fclose(cv.f);
	if (ret != PTL_EXIT_OK)
		goto out;
	for (size_t i = 0; i < svg->count; i++)
		mapped += svg->items[i].kind == PT_RANGE_MAPPED ? svg->items[i].size : 0;
	out = svg->out;
	svg->out = NULL;
	height += LEGEND_H + MARGIN;
	prologue(out, width, height);
	text_at(out, MARGIN, 30, "title", "ptlab maps: %s", s->path);
	text_at(out, MARGIN, 50, "sub", "%s paging, CR3 0x%" PRIx64 ", %s mapped in %zu listed ranges",
		pt_mode_name(s->ctx.mode), s->cpu.cr3, human(mapped, size, sizeof(size)), svg->count);
	text_at(out, MARGIN, 66, "sub", "%s", regions.note);
	fwrite(body, 1, body_len, out);
	legend(out, MARGIN, height - LEGEND_H + 10);
	fputs("</svg>\n", out);
	if (ferror(out) | (fclose(out) != 0)) {
		ptl_error("%s: cannot write: %s", path, strerror(errno));
		ret = PTL_EXIT_USAGE;
	}
out:
	free(body);
	free(cl);
	return ret;
}
