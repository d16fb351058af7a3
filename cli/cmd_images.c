/* SPDX-License-Identifier: MIT */
/* cli/cmd_images.c: `ptlab images`: the boot images built into ptlab and their variants. */
#include <stdio.h>
#include <string.h>

#include "ptlab/emu.h"
#include "util.h"

static const char cmd_name[] = "images";

/** The `ptlab boot` option of each variant bit (an image offers the options of its bits). */
static const struct {
	uint32_t bit;
	const char *name;
} option_names[] = {
	{ PT_EMU_OPT_PHYS_LOAD, "phys-load" },
	{ PT_EMU_OPT_VIRT_OFFSET, "virt-offset" },
	{ PT_EMU_OPT_VIRT_OFFSET, "kaslr" },
	{ PT_EMU_OPT_LA57, "la57" },
	{ PT_EMU_OPT_SME, "sme" },
	{ PT_EMU_OPT_PTI, "pti" },
};

static const size_t noption_names = sizeof(option_names) / sizeof(option_names[0]);

void ptl_usage_images(FILE *out)
{
	fputs("Usage: ptlab images [--json]\n"
	      "List the boot images built into ptlab, the default first, with the paging mode\n"
	      "each leaves at its stop point and the `ptlab boot` options (variants) it takes.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab images\n"
	      "  ptlab images --json\n",
	      out);
}

static int own_option(void *state, int opt, const char *arg)
{
	bool *json = state;

	(void)arg;
	if (opt == PTL_OPT_HELP)
		return ptl_print_usage(ptl_usage_images);
	*json = true; /* PTL_OPT_JSON */
	return PTL_CONTINUE;
}

static void print_json(void)
{
	struct ptl_json j;

	ptl_json_init(&j, stdout);
	ptl_json_object_begin(&j);
	ptl_json_key(&j, "images");
	ptl_json_array_begin(&j);
	for (size_t i = 0; i < pt_emu_image_count(); i++) {
		const struct pt_emu_image *img = pt_emu_image_at(i);
		ptl_json_object_begin(&j);
		ptl_json_key(&j, "name");
		ptl_json_string(&j, img->name);
		ptl_json_key(&j, "paging");
		ptl_json_string(&j, pt_mode_name(img->paging));
		ptl_json_key(&j, "description");
		ptl_json_string(&j, img->description);
		ptl_json_key(&j, "default");
		ptl_json_bool(&j, i == 0);
		ptl_json_key(&j, "options");
		ptl_json_array_begin(&j);
		for (size_t k = 0; k < noption_names; k++) {
			if (img->options & option_names[k].bit)
				ptl_json_string(&j, option_names[k].name);
		}
		ptl_json_array_end(&j);
		ptl_json_object_end(&j);
	}
	ptl_json_array_end(&j);
	ptl_json_object_end(&j);
	ptl_json_finish(&j);
}

static void print_text(void)
{
	for (size_t i = 0; i < pt_emu_image_count(); i++) {
		const struct pt_emu_image *img = pt_emu_image_at(i);
		bool any = false;

		printf("%-22s %-6s %s%s\n", img->name, pt_mode_name(img->paging), img->description,
		       i == 0 ? " (default)" : "");
		printf("%-29s options:", "");
		for (size_t k = 0; k < noption_names; k++) {
			if (img->options & option_names[k].bit) {
				printf(" --%s", option_names[k].name);
				any = true;
			}
		}
		printf("%s\n", any ? "" : " none");
	}
}

int ptl_cmd_images(int argc, char *argv[])
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, PTL_OPT_JSON },
		{ "help", no_argument, NULL, PTL_OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	const struct ptl_option_spec spec = { cmd_name, long_options, ":h", NULL, own_option, &json };
	int ret = ptl_parse_options(&spec, argc, argv);

	if (ret == PTL_CONTINUE)
		ret = ptl_no_operands(cmd_name, argc, argv);
	if (ret != PTL_CONTINUE)
		return ret;
	if (json)
		print_json();
	else
		print_text();
	return PTL_EXIT_OK;
}
