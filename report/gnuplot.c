/*
 * gnuplot driven through a pipe: each plot is a script (data inline in
 * $data << EOD blocks) written to `gnuplot`, whose SVG terminal draws it into
 * a scratch file.  The SVG is then made fit to sit inline beside others: its
 * ids prefixed by the plot's id, and each clause's <title> set to its hover
 * text.  No geometry is written here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/util.h"
#include "report/report_internal.h"

static const char *const colours[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
	"#7f7f7f", "#bcbd22", "#17becf",
};

const char *gp_colour(int i)
{
	return colours[i % (int)(sizeof(colours) / sizeof(colours[0]))];
}

void gp_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else if ((unsigned char)*s < 0x20)
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

int gp_begin(struct gp *g, const char *title, int w, int h)
{
	memset(g, 0, sizeof(*g));
	g->f = open_memstream(&g->buf, &g->len);
	g->tips = json_array();
	if (!g->f || !g->tips) {
		gp_abort(g);
		return -ENOMEM;
	}
	fprintf(g->f, "set terminal svg size %d,%d noenhanced font \"sans,13\" "
		"background \"#ffffff\"\nset encoding utf8\nset title ", w, h);
	gp_quote(g->f, title);
	fputs("\nset key outside right top noenhanced\nset grid ytics lc rgb \"#dddddd\"\n"
	      "set border 3\nset tics nomirror\n", g->f);
	return 0;
}

void gp_clause(struct gp *g, const char *tip)
{
	fputs(g->clauses++ ? ", \\\n  " : "plot ", g->f);
	json_array_append_new(g->tips, tip ? json_string(tip) : json_null());
}

void gp_abort(struct gp *g)
{
	if (g->f)
		fclose(g->f);
	free(g->buf);
	json_decref(g->tips);
	memset(g, 0, sizeof(*g));
}

void report_xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Copy svg to f: ids and references prefixed, titles replaced; the number
 * of clause groups counted. */
static int rewrite_svg(FILE *f, const char *svg, const char *pid, const char *title,
		       json_t *tips)
{
	static const char *const refs[] = { "id='", "id=\"", "href='#", "href=\"#", "url(#" };
	const char *p = strstr(svg, "<svg");
	int groups = 0;

	while (p && *p) {
		size_t k, n;
		int num;

		for (k = 0; k < sizeof(refs) / sizeof(refs[0]); k++)
			if (!strncmp(p, refs[k], strlen(refs[k])))
				break;
		if (k < sizeof(refs) / sizeof(refs[0])) {
			fprintf(f, "%s%s-", refs[k], pid);
			groups += !strncmp(p, "id=\"gnuplot_plot_", 17);
			p += strlen(refs[k]);
		} else if (!strncmp(p, "<title>Gnuplot</title>", 22)) {
			fputs("<title>", f);
			report_xml_text(f, title);
			fputs("</title>", f);
			p += 22;
		} else if (sscanf(p, "<title>gnuplot_plot_%d</title>%zn", &num, &n) == 1 && n > 0 &&
			   json_is_string(json_array_get(tips, num - 1))) {
			fputs("<title>", f);
			report_xml_text(f, json_string_value(json_array_get(tips, num - 1)));
			fputs("</title>", f);
			p += n;
		} else {
			fputc(*p++, f);
		}
	}
	return groups;
}

static int fail(struct report_doc *d, int err, const char *what, const char *detail)
{
	snprintf(d->why, sizeof(d->why), "%s%s%s", what, detail && *detail ? ": " : "",
		 detail ? detail : "");
	if (!d->err)
		d->err = err;
	return err;
}

/* Run gnuplot on the script; the SVG it wrote, or NULL with d->why. */
static char *run_gnuplot(struct report_doc *d, const char *script)
{
	char out[128], err[128], cmd[320], *svg = NULL, msg[200] = "";
	size_t len = 0;
	FILE *p, *r;
	int st;

	snprintf(out, sizeof(out), "%s/plot.svg", d->tmpdir);
	snprintf(err, sizeof(err), "%s/gnuplot.err", d->tmpdir);
	unlink(out);
	snprintf(cmd, sizeof(cmd), "gnuplot 2>'%s'", err);
	p = popen(cmd, "w");
	if (!p) {
		fail(d, -errno, "cannot run gnuplot", strerror(errno));
		return NULL;
	}
	fprintf(p, "set output \"%s\"\n%s\nunset output\n", out, script);
	st = pclose(p);
	if ((r = fopen(err, "r"))) {
		char line[200];

		/* gnuplot's message is its last non-blank line. */
		while (fgets(line, sizeof(line), r))
			if (line[strspn(line, " \t\n")])
				snprintf(msg, sizeof(msg), "%s", line + strspn(line, " \t"));
		fclose(r);
		msg[strcspn(msg, "\n")] = 0;
	}
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		/* OLAB_REPORT_SCRIPT=FILE keeps the failing script, to debug a plot. */
		if (getenv("OLAB_REPORT_SCRIPT"))
			write_path_atomic(getenv("OLAB_REPORT_SCRIPT"), script, strlen(script), 0644);
		fail(d, -EIO, WIFEXITED(st) && WEXITSTATUS(st) == 127 ?
		     "gnuplot is not installed (make deps: gnuplot-nox)" : "gnuplot failed", msg);
		return NULL;
	}
	r = fopen(out, "r");
	if (!r || getdelim(&svg, &len, 0, r) < 0) {
		fail(d, -EIO, "gnuplot wrote no SVG", msg);
		free(svg);
		svg = NULL;
	}
	if (r)
		fclose(r);
	return svg;
}

static struct report_plot *new_plot(struct report_doc *d)
{
	if (d->nplots == d->cap_plots) {
		size_t cap = d->cap_plots ? 2 * d->cap_plots : 16;
		struct report_plot *p = realloc(d->plots, cap * sizeof(*p));

		if (!p)
			return NULL;
		d->plots = p;
		d->cap_plots = cap;
	}
	memset(&d->plots[d->nplots], 0, sizeof(d->plots[0]));
	return &d->plots[d->nplots++];
}

int gp_finish(struct report_doc *d, struct gp *g, const char *kind, const char *title)
{
	struct report_plot *pl;
	char *svg, *buf = NULL;
	size_t len = 0;
	FILE *f;

	fputc('\n', g->f);
	fclose(g->f);
	g->f = NULL;
	svg = run_gnuplot(d, g->buf);
	pl = svg ? new_plot(d) : NULL;
	if (!pl || !(f = open_memstream(&buf, &len))) {
		free(svg);
		gp_abort(g);
		return svg ? fail(d, -ENOMEM, "out of memory", NULL) : d->err;
	}
	snprintf(pl->id, sizeof(pl->id), "plot-%zu", d->nplots);
	snprintf(pl->kind, sizeof(pl->kind), "%s", kind);
	snprintf(pl->title, sizeof(pl->title), "%s", title);
	pl->series = rewrite_svg(f, svg, pl->id, title, g->tips);
	fclose(f);
	pl->svg = buf;
	free(svg);
	gp_abort(g);
	return 0;
}
