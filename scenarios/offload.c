/*
 * Offloads of a scenario: the hooks they may name, reading their section,
 * and checking each object before anything runs (libbpf opens it without
 * loading): every program exists and its type fits its hook, every map and
 * variable the file names exists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lib/hooks.h"
#include "scenarios/internal.h"
#include "scenarios/yaml_kit.h"

static const struct scn_hook hooks[] = {
	{ "xdp-native", "xdp", BPF_PROG_TYPE_XDP },
	{ "xdp", "xdp", BPF_PROG_TYPE_XDP },
	{ "xdp-generic", "xdp-generic", BPF_PROG_TYPE_XDP },
	{ "tc-clsact-ingress", "tc", BPF_PROG_TYPE_SCHED_CLS },
	{ "tc", "tc", BPF_PROG_TYPE_SCHED_CLS },
	{ "tcx-ingress", "tcx", BPF_PROG_TYPE_SCHED_CLS },
	{ "tcx", "tcx", BPF_PROG_TYPE_SCHED_CLS },
	{ "tc-clsact-egress", NULL, BPF_PROG_TYPE_SCHED_CLS, .egress_tc = true },
	{ "tcx-egress", NULL, BPF_PROG_TYPE_SCHED_CLS, .egress_tcx = true },
	{ "sockops", NULL, BPF_PROG_TYPE_SOCK_OPS, .sockops = true },
	{ "sk-msg", NULL, BPF_PROG_TYPE_SK_MSG, .sk_msg = true },
};

const struct scn_hook *scn_hook_by_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (!strcmp(hooks[i].name, name))
			return &hooks[i];
	return NULL;
}

const char *scn_hook_names(void)
{
	static char buf[256];

	if (!buf[0])
		for (size_t i = 0, n = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "", hooks[i].name);
	return buf;
}

int scn_offload_by_name(const struct scenario *s, const char *name)
{
	for (int i = 0; i < s->noffl; i++)
		if (!strcmp(s->offl[i].name, name))
			return i;
	return -1;
}

static int parse_if_target(struct ykit *y, yaml_node_t *t, const char *ft, struct scn_prog *p)
{
	static const char *const tkeys[] = { "host", "ifname", NULL };
	yaml_node_t *h;
	char fh[192];

	if (yk_keys(y, t, ft, tkeys) ||
	    yk_req_str(y, t, "ifname", ft, p->ifname, sizeof(p->ifname)))
		return -EINVAL;
	h = yk_get(y, t, "host");
	snprintf(fh, sizeof(fh), "%s.host", ft);
	if (!h)
		return scn_error(y->s, yk_line(t), fh, "missing");
	p->host = yk_str(h) ? scn_host_by_name(y->s, yk_str(h)) : -1;
	if (p->host < 0)
		return scn_error(y->s, yk_line(h), fh, "no host named '%s'", yk_str(h) ?: "");
	return 0;
}

static int parse_prog(struct ykit *y, yaml_node_t *m, const char *f, struct scn_prog *p)
{
	static const char *const keys[] = { "name", "hook", "target", NULL };
	char hook[64], ft[160];
	yaml_node_t *t;

	if (yk_keys(y, m, f, keys) || yk_req_str(y, m, "name", f, p->name, sizeof(p->name)) ||
	    yk_req_str(y, m, "hook", f, hook, sizeof(hook)))
		return -EINVAL;
	p->hook = scn_hook_by_name(hook);
	if (!p->hook) {
		snprintf(ft, sizeof(ft), "%s.hook", f);
		if (!strncmp(hook, "sk-skb", 6))
			return scn_error(y->s, yk_line(yk_get(y, m, "hook")), ft,
					 "%s: stream hooks are not supported in scenarios yet", hook);
		return scn_error(y->s, yk_line(yk_get(y, m, "hook")), ft,
				 "unknown hook '%s' (known: %s)", hook, scn_hook_names());
	}
	snprintf(ft, sizeof(ft), "%s.target", f);
	t = yk_get(y, m, "target");
	if (!t)
		return scn_error(y->s, yk_line(m), ft, "missing");
	p->host = p->cg_ctr = p->cg_host = -1;
	if (yk_need_map(y, t, ft))
		return -EINVAL;
	if (p->hook->sockops || p->hook->sk_msg) {
		if (scn_sock_target(y, t, ft, p))
			return -EINVAL;
	} else if (parse_if_target(y, t, ft, p)) {
		return -EINVAL;
	}
	p->line = yk_line(m);
	return 0;
}

/* {u32: N} and the like: exactly one key. */
static int parse_bytes(struct ykit *y, yaml_node_t *m, const char *f, struct scn_bytes *b)
{
	yaml_node_pair_t *p;
	char why[640];
	const char *kind, *text;

	if (yk_need_map(y, m, f))
		return -EINVAL;
	p = m->data.mapping.pairs.start;
	if (m->data.mapping.pairs.top - p != 1)
		return scn_error(y->s, yk_line(m), f, "want one of {u32|u64|ipv4|lpm4|hex: X}");
	kind = yk_str(yaml_document_get_node(y->doc, p->key));
	text = yk_str(yaml_document_get_node(y->doc, p->value));
	if (!kind || !text || scn_bytes_parse(kind, text, b, why, sizeof(why)))
		return scn_error(y->s, yk_line(m), f, "%s", kind && text ? why : "want a scalar");
	return 0;
}

static int parse_map(struct ykit *y, yaml_node_t *m, const char *f, struct scn_map *mp)
{
	static const char *const keys[] = { "name", "entries", NULL };
	static const char *const ekeys[] = { "key", "value", NULL };
	yaml_node_t *es;
	char fe[160], fk[192];

	if (yk_keys(y, m, f, keys) || yk_req_str(y, m, "name", f, mp->name, sizeof(mp->name)))
		return -EINVAL;
	mp->line = yk_line(m);
	es = yk_get(y, m, "entries");
	snprintf(fe, sizeof(fe), "%s.entries", f);
	if (!es)
		return 0;
	if (yk_need_seq(y, es, fe))
		return -EINVAL;
	YK_FOREACH_ITEM(y, es, i, e) {
		struct scn_entry *en = &mp->e[mp->n];

		snprintf(fe, sizeof(fe), "%s.entries[%d]", f, i);
		if (mp->n >= SCN_MAX_ENTRIES)
			return scn_error(y->s, yk_line(e), fe, "at most %d", SCN_MAX_ENTRIES);
		if (yk_keys(y, e, fe, ekeys))
			return -EINVAL;
		for (int k = 0; k < 2; k++) {
			yaml_node_t *n = yk_get(y, e, ekeys[k]);

			snprintf(fk, sizeof(fk), "%s.%s", fe, ekeys[k]);
			if (!n)
				return scn_error(y->s, yk_line(e), fk, "missing");
			if (parse_bytes(y, n, fk, k ? &en->value : &en->key))
				return -EINVAL;
		}
		en->line = yk_line(e);
		mp->n++;
	}
	return 0;
}

static int parse_offload(struct ykit *y, yaml_node_t *m, const char *f, struct scn_offload *o)
{
	static const char *const keys[] = { "name", "object", "programs", "maps", NULL };
	char obj[SCN_PATH_LEN], fp[112];
	yaml_node_t *ps, *ms;

	if (yk_keys(y, m, f, keys) || yk_req_str(y, m, "name", f, o->name, sizeof(o->name)) ||
	    yk_req_str(y, m, "object", f, obj, sizeof(obj)))
		return -EINVAL;
	snprintf(fp, sizeof(fp), "%s.object", f);
	if (scn_resolve(y->s, obj, true, o->object, sizeof(o->object)))
		return scn_error(y->s, yk_line(yk_get(y, m, "object")), fp, "no such object: %s",
				 obj);
	ps = yk_get(y, m, "programs");
	snprintf(fp, sizeof(fp), "%s.programs", f);
	if (!ps || yk_need_seq(y, ps, fp) || !yk_len(ps))
		return ps ? (yk_len(ps) ? -EINVAL : scn_error(y->s, yk_line(ps), fp, "empty")) :
			    scn_error(y->s, yk_line(m), fp, "missing");
	YK_FOREACH_ITEM(y, ps, i, p) {
		snprintf(fp, sizeof(fp), "%s.programs[%d]", f, i);
		if (o->nprogs >= SCN_MAX_PROGS)
			return scn_error(y->s, yk_line(p), fp, "at most %d", SCN_MAX_PROGS);
		if (parse_prog(y, p, fp, &o->progs[o->nprogs]))
			return -EINVAL;
		o->nprogs++;
	}
	ms = yk_get(y, m, "maps");
	snprintf(fp, sizeof(fp), "%s.maps", f);
	if (ms && yk_need_seq(y, ms, fp))
		return -EINVAL;
	YK_FOREACH_ITEM(y, ms, i, p) {
		snprintf(fp, sizeof(fp), "%s.maps[%d]", f, i);
		if (o->nmaps >= SCN_MAX_MAPS)
			return scn_error(y->s, yk_line(p), fp, "at most %d", SCN_MAX_MAPS);
		if (parse_map(y, p, fp, &o->maps[o->nmaps]))
			return -EINVAL;
		o->nmaps++;
	}
	o->line = yk_line(m);
	return 0;
}

int scn_parse_offloads(struct ykit *y, yaml_node_t *seq)
{
	char f[48];

	YK_FOREACH_ITEM(y, seq, i, m) {
		snprintf(f, sizeof(f), "offloads[%d]", i);
		if (y->s->noffl >= SCN_MAX_OFFL)
			return scn_error(y->s, yk_line(m), f, "at most %d offloads", SCN_MAX_OFFL);
		if (parse_offload(y, m, f, &y->s->offl[y->s->noffl]))
			return -EINVAL;
		if (scn_offload_by_name(y->s, y->s->offl[y->s->noffl].name) >= 0)
			return scn_error(y->s, yk_line(m), f, "offload name used twice");
		y->s->noffl++;
	}
	return 0;
}

/* ---- checking an object (opened, not loaded) ---- */

/* The global variable var in the object's .bss/.data sections: its map,
 * offset, element size and count.  0 or -ENOENT. */
int scn_find_var(struct bpf_object *obj, const char *var, struct bpf_map **map, size_t *off,
		 size_t *elem, size_t *count)
{
	struct btf *btf = bpf_object__btf(obj);
	int n = btf ? (int)btf__type_cnt(btf) : 0;

	for (int id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *sec = btf__name_by_offset(btf, t->name_off);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		struct bpf_map *m;

		if (!btf_is_datasec(t) || (strncmp(sec, ".bss", 4) && strncmp(sec, ".data", 5)))
			continue;
		for (int k = 0; k < btf_vlen(t); k++, vs++) {
			const struct btf_type *v = btf__type_by_id(btf, vs->type);
			const struct btf_type *vt;
			__u32 tid;

			if (strcmp(btf__name_by_offset(btf, v->name_off), var))
				continue;
			tid = btf__resolve_type(btf, v->type);
			vt = btf__type_by_id(btf, tid);
			*elem = vs->size;
			if (btf_is_array(vt) && btf_array(vt)->nelems)
				*elem = vs->size / btf_array(vt)->nelems;
			*count = *elem ? vs->size / *elem : 0;
			*off = vs->offset;
			bpf_object__for_each_map(m, obj) {
				const char *mn = bpf_map__name(m);
				size_t ml = strlen(mn), sl = strlen(sec);

				if (bpf_map__is_internal(m) && ml >= sl && !strcmp(mn + ml - sl, sec)) {
					*map = m;
					return 0;
				}
			}
		}
	}
	return -ENOENT;
}

int scn_counter_check(const struct scn_offload *o, const char *var, char *why, size_t len)
{
	struct bpf_map *m;
	size_t off, elem, cnt;

	if (scn_find_var(o->obj, var, &m, &off, &elem, &cnt)) {
		snprintf(why, len, "%s has no global variable '%s' in .bss/.data", o->object, var);
		return -ENOENT;
	}
	if (elem != 1 && elem != 2 && elem != 4 && elem != 8) {
		snprintf(why, len, "'%s' is not an integer or an array of integers", var);
		return -EINVAL;
	}
	return 0;
}

int scn_map_check(const struct scn_offload *o, const char *name, size_t key_size, char *why,
		  size_t len)
{
	struct bpf_map *m = bpf_object__find_map_by_name(o->obj, name);

	if (!m || bpf_map__is_internal(m)) {
		snprintf(why, len, "%s has no map '%s'", o->object, name);
		return -ENOENT;
	}
	if (key_size && bpf_map__key_size(m) != key_size) {
		snprintf(why, len, "map '%s' has %u-byte keys, not %zu", name, bpf_map__key_size(m),
			 key_size);
		return -EINVAL;
	}
	return 0;
}

static int check_prog(struct scenario *s, struct scn_offload *o, struct scn_prog *p, int i)
{
	char f[256];
	enum bpf_prog_type t;

	snprintf(f, sizeof(f), "offloads[%d].programs[%d].name", (int)(o - s->offl), i);
	p->prog = bpf_object__find_program_by_name(o->obj, p->name);
	if (!p->prog)
		return scn_error(s, p->line, f, "%s has no program '%s'", o->object, p->name);
	t = bpf_program__type(p->prog);
	snprintf(f, sizeof(f), "offloads[%d].programs[%d].hook", (int)(o - s->offl), i);
	if (t != p->hook->type && !(p->hook->type == BPF_PROG_TYPE_SCHED_CLS &&
				    t == BPF_PROG_TYPE_SCHED_ACT))
		return scn_error(s, p->line, f, "program '%s' is %s, hook %s needs %s", p->name,
				 libbpf_bpf_prog_type_str(t) ?: "?", p->hook->name,
				 libbpf_bpf_prog_type_str(p->hook->type));
	return p->hook->sk_msg ? scn_sock_check(s, o, p, i) : 0;
}

static int check_offload(struct scenario *s, struct scn_offload *o)
{
	char f[256], why[640];
	int idx = (int)(o - s->offl), err;

	snprintf(f, sizeof(f), "offloads[%d].object", idx);
	o->obj = bpf_object__open_file(o->object, NULL);
	if (!o->obj) {
		err = -errno;
		o->obj = NULL;
		return scn_error(s, o->line, f, "libbpf cannot open %s: %s", o->object,
				 strerror(-err));
	}
	for (int i = 0; i < o->nprogs; i++)
		if (check_prog(s, o, &o->progs[i], i))
			return -EINVAL;
	for (int i = 0; i < o->nmaps; i++) {
		struct scn_map *mp = &o->maps[i];
		struct bpf_map *m;

		snprintf(f, sizeof(f), "offloads[%d].maps[%d].name", idx, i);
		if (scn_map_check(o, mp->name, 0, why, sizeof(why)))
			return scn_error(s, mp->line, f, "%s", why);
		m = bpf_object__find_map_by_name(o->obj, mp->name);
		for (int k = 0; k < mp->n; k++) {
			snprintf(f, sizeof(f), "offloads[%d].maps[%d].entries[%d]", idx, i, k);
			if (mp->e[k].key.len != bpf_map__key_size(m))
				return scn_error(s, mp->e[k].line, f, "key is %zu bytes, map '%s' "
						 "has %u", mp->e[k].key.len, mp->name,
						 bpf_map__key_size(m));
			if (mp->e[k].value.len != bpf_map__value_size(m))
				return scn_error(s, mp->e[k].line, f, "value is %zu bytes, map '%s' "
						 "has %u", mp->e[k].value.len, mp->name,
						 bpf_map__value_size(m));
		}
	}
	return 0;
}

int scn_offloads_check(struct scenario *s)
{
	for (int i = 0; i < s->noffl; i++)
		if (check_offload(s, &s->offl[i]))
			return -EINVAL;
	return 0;
}
