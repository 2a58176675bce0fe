/*
 * The report as files: one self-contained HTML page (inline SVG, inline CSS,
 * no script, nothing fetched), and a Markdown summary with its SVGs beside it.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include "lib/util.h"
#include "report/report_internal.h"

static void html_table(FILE *f, const char *title, json_t *head, json_t *rows)
{
	size_t i, k;
	json_t *row, *c;

	fputs("<table>\n", f);
	if (title) {
		fputs("<caption>", f);
		report_xml_text(f, title);
		fputs("</caption>\n", f);
	}
	fputs("<tr>", f);
	json_array_foreach(head, i, c) {
		fputs("<th>", f);
		report_xml_text(f, json_string_value(c));
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	json_array_foreach(rows, i, row) {
		fputs("<tr>", f);
		json_array_foreach(row, k, c) {
			fputs("<td>", f);
			report_xml_text(f, json_string_value(c));
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static const char *css =
	"body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1250px}"
	"table{border-collapse:collapse;margin:.8em 0;font-size:13px}"
	"td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
	"th{background:#f0f0f0}caption{font-weight:bold;text-align:left;padding:4px 0}"
	"figure{display:inline-block;width:49%;margin:.5em 0;vertical-align:top;"
	"border-top:1px solid #eee}figcaption{font-weight:bold;font-size:14px}"
	"ul.toc{columns:3;font-size:13px}.bad{color:#b00;font-weight:bold}.ok{color:#070}svg{max-width:100%;height:auto}";

static void html_head(FILE *f, const struct report_doc *d)
{
	json_t *h = json_pack("[s,s]", "", "");

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>offloadlab report</title>\n<style>%s</style>\n</head>\n<body>\n"
		"<h1>offloadlab report</h1>\n<p>", css);
	report_xml_text(f, d->opts->cmdline);
	fputs("</p>\n", f);
	for (size_t r = 0; r < d->nruns; r++) {
		json_t *rows = run_provenance(&d->runs[r]);
		char t[160];

		snprintf(t, sizeof(t), "Provenance: %s", d->runs[r].label);
		fputs("<section class=\"provenance\">\n", f);
		html_table(f, t, h, rows);
		fputs("</section>\n", f);
		json_decref(rows);
	}
	json_decref(h);
	if (d->opts->regression) {
		json_t *c;
		size_t i;

		fprintf(f, "<p class=\"%s\">Regression check against %s (threshold %.1f %% beyond the "
			"95 %% CIs): %zu figure(s) moved.</p>\n<ul>\n",
			json_array_size(d->regressions) ? "bad" : "ok", d->runs[0].label,
			d->opts->threshold_pct, json_array_size(d->regressions));
		json_array_foreach(d->regressions, i, c) {
			fputs("<li>", f);
			report_xml_text(f, jstr(c, "figure"));
			fprintf(f, ": %+.1f %%</li>\n",
				json_number_value(json_object_get(c, "change_pct")));
		}
		fputs("</ul>\n", f);
	}
}

int report_write_html(const struct report_doc *d, const char *path)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -ENOMEM;
	html_head(f, d);
	fputs("<h2>Figures</h2>\n<ul class=\"toc\">\n", f);
	for (i = 0; i < d->nplots; i++) {
		fprintf(f, "<li><a href=\"#%s\">", d->plots[i].id);
		report_xml_text(f, d->plots[i].title);
		fputs("</a></li>\n", f);
	}
	fputs("</ul>\n", f);
	for (i = 0; i < d->nplots; i++) {
		const struct report_plot *p = &d->plots[i];

		fprintf(f, "<figure id=\"%s\" data-kind=\"%s\" data-series=\"%d\">\n<figcaption>",
			p->id, p->kind, p->series);
		report_xml_text(f, p->title);
		fprintf(f, "</figcaption>\n%s\n", p->svg);
		if (p->table) {
			const struct report_table *t = &d->tables[p->table - 1];

			fputs("<details><summary>the figures</summary>\n", f);
			html_table(f, NULL, t->head, t->rows);
			fputs("</details>\n", f);
		}
		fputs("</figure>\n", f);
	}
	fputs("<h2>Tables</h2>\n", f);
	for (i = 0; i < d->ntables; i++)
		if (!d->tables[i].attached)
			html_table(f, d->tables[i].title, d->tables[i].head, d->tables[i].rows);
	fputs("</body>\n</html>\n", f);
	fclose(f);
	err = write_path_atomic(path, buf, len, 0644);
	if (err)
		fprintf(stderr, "offloadlab report: cannot write %s: %s\n", path, strerror(-err));
	free(buf);
	return err;
}

/* ---- Markdown ---- */

static void md_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '*' || *s == '_' || *s == '<' || *s == '`')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void md_table(FILE *f, const char *title, json_t *head, json_t *rows)
{
	size_t i, k;
	json_t *row, *c;

	if (title) {
		fputs("\n**", f);
		md_text(f, title);
		fputs("**\n", f);
	}
	fputs("\n|", f);
	json_array_foreach(head, i, c) {
		fputc(' ', f);
		md_text(f, json_string_value(c));
		fputs(" |", f);
	}
	fputs("\n|", f);
	for (i = 0; i < json_array_size(head); i++)
		fputs(" --- |", f);
	json_array_foreach(rows, i, row) {
		fputs("\n|", f);
		json_array_foreach(row, k, c) {
			fputc(' ', f);
			md_text(f, json_string_value(c));
			fputs(" |", f);
		}
	}
	fputc('\n', f);
}

/* Each plot as <md-name>-<plot-id>.svg beside the Markdown file. */
static int md_svgs(const struct report_doc *d, const char *path, FILE *f)
{
	char dir[512], base[256], svg[900], *tmp = strdup(path), *tmp2 = strdup(path);
	int err = 0;

	if (!tmp || !tmp2) {
		free(tmp);
		free(tmp2);
		return -ENOMEM;
	}
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	snprintf(base, sizeof(base), "%s", basename(tmp2));
	if (strrchr(base, '.'))
		*strrchr(base, '.') = 0;
	fputs("\n## Figures\n", f);
	for (size_t i = 0; i < d->nplots && !err; i++) {
		const struct report_plot *p = &d->plots[i];
		char *doc = NULL;

		snprintf(svg, sizeof(svg), "%s/%s-%s.svg", dir, base, p->id);
		if (asprintf(&doc, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n%s\n", p->svg) < 0)
			err = -ENOMEM;
		else
			err = write_path_atomic(svg, doc, strlen(doc), 0644);
		free(doc);
		fputs("\n![", f);
		md_text(f, p->title);
		fprintf(f, "](%s-%s.svg)\n", base, p->id);
		if (p->table)
			md_table(f, NULL, d->tables[p->table - 1].head, d->tables[p->table - 1].rows);
	}
	if (err)
		fprintf(stderr, "offloadlab report: cannot write %s: %s\n", svg, strerror(-err));
	free(tmp);
	free(tmp2);
	return err;
}

int report_write_md(const struct report_doc *d, const char *path)
{
	json_t *h = json_pack("[s,s]", "", "");
	char *buf = NULL, t[160];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f) {
		json_decref(h);
		return -ENOMEM;
	}
	fputs("# offloadlab report\n\n", f);
	md_text(f, d->opts->cmdline);
	fputc('\n', f);
	for (i = 0; i < d->nruns; i++) {
		json_t *rows = run_provenance(&d->runs[i]);

		snprintf(t, sizeof(t), "Provenance: %s", d->runs[i].label);
		md_table(f, t, h, rows);
		json_decref(rows);
	}
	if (d->opts->regression) {
		json_t *c;

		fprintf(f, "\n**Regression check** against %s (threshold %.1f %% beyond the 95 %% "
			"CIs): %zu figure(s) moved.\n\n", d->runs[0].label, d->opts->threshold_pct,
			json_array_size(d->regressions));
		json_array_foreach(d->regressions, i, c) {
			fputs("- ", f);
			md_text(f, jstr(c, "figure"));
			fprintf(f, ": %+.1f %%\n", json_number_value(json_object_get(c, "change_pct")));
		}
	}
	err = md_svgs(d, path, f);
	fputs("\n## Tables\n", f);
	for (i = 0; i < d->ntables; i++)
		if (!d->tables[i].attached)
			md_table(f, d->tables[i].title, d->tables[i].head, d->tables[i].rows);
	fclose(f);
	if (!err && (err = write_path_atomic(path, buf, len, 0644)))
		fprintf(stderr, "offloadlab report: cannot write %s: %s\n", path, strerror(-err));
	free(buf);
	json_decref(h);
	return err;
}
