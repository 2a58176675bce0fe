/*
 * Offloads at run time: load each object (only the programs the scenario
 * names), write the initial map contents, attach every program through the
 * hook table (lib/hooks.h) or, for egress, here; then toggle per arm.
 * Attachments live on the run's veths and go with its namespaces.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lib/bpf_compat.h"
#include "lib/hooks.h"
#include "lib/log.h"
#include "netns/link.h"
#include "scenarios/internal.h"

#define EGRESS_HANDLE 1
#define EGRESS_PRIO   1

static int tc_egress_set(const struct scenario *s, struct scn_prog *p, bool on)
{
	const struct netns *ns = &s->hosts[p->host].ns;
	int ifindex = link_ifindex(ns, p->ifname), err;
	struct nstoken *tok;

	if (ifindex < 0)
		return ifindex;
	tok = netns_enter(ns);
	if (!tok)
		return -errno;
	if (p->hook->egress_tcx) {
		if (on) {
			p->link_fd = tcx_link_create(bpf_program__fd(p->prog), ifindex,
						     BPF_TCX_EGRESS, 0, 0, 0);
			err = p->link_fd < 0 ? p->link_fd : 0;
		} else {
			err = bpf_link_detach(p->link_fd);
			close(p->link_fd);
			p->link_fd = -1;
			err = err == -ENOLINK ? 0 : err;
		}
	} else {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = EGRESS_HANDLE, .priority = EGRESS_PRIO);

		if (on) {
			err = bpf_tc_hook_create(&hook);
			if (err == -EEXIST)
				err = 0;
			o.prog_fd = bpf_program__fd(p->prog);
			if (!err)
				err = bpf_tc_attach(&hook, &o);
		} else {
			err = bpf_tc_detach(&hook, &o);
		}
	}
	netns_leave(tok);
	return err;
}

static int prog_set(struct scenario *s, struct scn_prog *p, bool on)
{
	int err;

	if (p->attached == on)
		return 0;
	if (p->hook->sockops || p->hook->sk_msg)
		err = scn_sock_prog_set(s, p, on);
	else if (p->hook->table)
		err = hook_set_attached(p->hi, on);
	else
		err = tc_egress_set(s, p, on);
	if (!err)
		p->attached = on;
	return err;
}

static bool map_percpu(const struct bpf_map *m)
{
	enum bpf_map_type t = bpf_map__type(m);

	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* An entry's value; per-CPU maps get it on every CPU. */
static int write_entry(struct bpf_map *m, const struct scn_entry *e)
{
	size_t ncpu = map_percpu(m) ? (size_t)libbpf_num_possible_cpus() : 1;
	size_t stride = map_percpu(m) ? (e->value.len + 7) / 8 * 8 : e->value.len;
	uint8_t *v = calloc(ncpu, stride);
	int err;

	if (!v)
		return -ENOMEM;
	for (size_t c = 0; c < ncpu; c++)
		memcpy(v + c * stride, e->value.b, e->value.len);
	err = bpf_map__update_elem(m, e->key.b, e->key.len, v, ncpu * stride, BPF_ANY);
	free(v);
	return err;
}

static int write_maps(struct scn_offload *o)
{
	for (int i = 0; i < o->nmaps; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(o->obj, o->maps[i].name);

		for (int k = 0; m && k < o->maps[i].n; k++) {
			int err = write_entry(m, &o->maps[i].e[k]);

			if (err) {
				pr_warn("scenario: %s: map %s entry %d: %s\n", o->name,
					o->maps[i].name, k, strerror(-err));
				return err;
			}
		}
	}
	return 0;
}

static int attach_prog(const struct scenario *s, struct scn_offload *o, struct scn_prog *p)
{
	struct hook_prog hp = { .prog = p->prog, .sockmap_fd = -1 };
	int err;

	if (p->hook->sockops || p->hook->sk_msg)
		return 0;       /* attached per arm only (sockops.c) */
	if (!p->hook->table) {
		err = tc_egress_set(s, p, true);
	} else {
		err = hook_attach_prog(hook_by_name(p->hook->table), &hp, &s->hosts[p->host].ns,
				       p->ifname, &p->hi);
	}
	if (err) {
		pr_warn("scenario: %s: cannot attach %s at %s on %s/%s: %s\n", o->name, p->name,
			p->hook->name, s->hosts[p->host].name, p->ifname, strerror(-err));
		return err;
	}
	p->attached = true;
	return 0;
}

static int start_one(struct scenario *s, struct scn_offload *o)
{
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, o->obj) {
		bool used = false;

		for (int i = 0; i < o->nprogs; i++)
			used |= o->progs[i].prog == prog;
		bpf_program__set_autoload(prog, used);
	}
	err = bpf_object__load(o->obj);
	if (err) {
		pr_warn("scenario: %s: cannot load %s: %s\n", o->name, o->object, strerror(-err));
		return err;
	}
	err = write_maps(o);
	for (int i = 0; !err && i < o->nprogs; i++)
		err = attach_prog(s, o, &o->progs[i]);
	return err;
}

int scn_offloads_start(struct scenario *s)
{
	for (int i = 0; i < s->noffl; i++) {
		int err = start_one(s, &s->offl[i]);

		if (err)
			return err;
	}
	return scn_offloads_set(s, false);
}

/* sk-msg before sockops when attaching, sockops first when detaching. */
int scn_offloads_set(struct scenario *s, bool on)
{
	s->sock_on = on;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < s->noffl; i++)
			for (int k = 0; k < s->offl[i].nprogs; k++) {
				struct scn_prog *p = &s->offl[i].progs[k];
				int err;

				if (p->hook->sockops != (pass == on))
					continue;
				err = prog_set(s, p, on);
				if (err) {
					pr_warn("scenario: %s: cannot %s %s: %s\n", s->offl[i].name,
						on ? "attach" : "detach", p->name, strerror(-err));
					return err;
				}
			}
	return 0;
}

void scn_offloads_stop(struct scenario *s)
{
	for (int i = 0; i < s->noffl; i++)
		for (int k = 0; k < s->offl[i].nprogs; k++) {
			struct scn_prog *p = &s->offl[i].progs[k];

			if (p->hi) {
				hook_detach(p->hi);
				p->hi = NULL;
			} else if (p->attached) {
				prog_set(s, p, false);
			}
			p->attached = false;
		}
}

/* ---- reading ---- */

static uint64_t le_int(const uint8_t *p, size_t size)
{
	uint64_t v = 0;

	for (size_t i = size; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* The loaded section's value (one element, key 0): the skeleton's mmap
 * is not there without a skeleton. */
static int read_section(struct bpf_map *m, size_t off, size_t elem, size_t cnt, uint64_t *sum)
{
	size_t vs = bpf_map__value_size(m);
	uint8_t *v = off + elem * cnt <= vs ? calloc(1, vs) : NULL;
	__u32 zero = 0;
	int err;

	if (!v)
		return -EINVAL;
	err = bpf_map__lookup_elem(m, &zero, sizeof(zero), v, vs, 0);
	for (size_t e = 0; !err && e < cnt; e++)
		*sum += le_int(v + off + e * elem, elem);
	free(v);
	return err;
}

static void read_vars(const struct scn_offload *o, json_t *obj)
{
	struct btf *btf = bpf_object__btf(o->obj);
	int n = btf ? (int)btf__type_cnt(btf) : 0;

	for (int id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		const char *sec = btf__name_by_offset(btf, t->name_off);

		if (!btf_is_datasec(t) || (strncmp(sec, ".bss", 4) && strncmp(sec, ".data", 5)))
			continue;
		for (int k = 0; k < btf_vlen(t); k++, vs++) {
			const char *var = btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off);
			struct bpf_map *m;
			size_t off, elem, cnt;
			uint64_t sum = 0;
			char key[160];

			if (scn_find_var(o->obj, var, &m, &off, &elem, &cnt) ||
			    (elem != 1 && elem != 2 && elem != 4 && elem != 8) ||
			    read_section(m, off, elem, cnt, &sum))
				continue;
			snprintf(key, sizeof(key), "counter.%s.%s", o->name, var);
			json_object_set_new(obj, key, json_integer((json_int_t)sum));
		}
	}
}

static void read_progs(const struct scn_offload *o, json_t *obj)
{
	for (int i = 0; i < o->nprogs; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		char key[160];

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(o->progs[i].prog), &info, &len))
			continue;
		snprintf(key, sizeof(key), "program.%s.%s.runs", o->name, o->progs[i].name);
		json_object_set_new(obj, key, json_integer((json_int_t)info.run_cnt));
		snprintf(key, sizeof(key), "program.%s.%s.run_time_ns", o->name, o->progs[i].name);
		json_object_set_new(obj, key, json_integer((json_int_t)info.run_time_ns));
	}
}

void scn_map_ref_key(const struct scn_ref *r, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "map.%s.%s[", r->a, r->b);

	for (size_t i = 0; i < r->key.len && n + 3 < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%02x", r->key.b[i]);
	snprintf(buf + n, n < len ? len - n : 0, "]");
}

/* An element: per-CPU values summed; the value's first integer. */
static int read_elem(const struct scn_offload *o, const struct scn_ref *r, uint64_t *out)
{
	struct bpf_map *m = bpf_object__find_map_by_name(o->obj, r->b);
	bool percpu = m && map_percpu(m);
	size_t vs, stride, ncpu = percpu ? (size_t)libbpf_num_possible_cpus() : 1, isz;
	uint8_t *v;
	int err;

	if (!m)
		return -ENOENT;
	vs = bpf_map__value_size(m);
	stride = percpu ? (vs + 7) / 8 * 8 : vs;
	isz = vs >= 8 ? 8 : vs >= 4 ? 4 : vs;
	v = calloc(ncpu, stride);
	if (!v)
		return -ENOMEM;
	err = bpf_map__lookup_elem(m, r->key.b, r->key.len, v, stride * ncpu, 0);
	*out = 0;
	for (size_t c = 0; !err && c < ncpu; c++)
		*out += le_int(v + c * stride, isz);
	free(v);
	return err == -ENOENT ? 0 : err;
}

void scn_offloads_read(const struct scenario *s, json_t *obj)
{
	for (int i = 0; i < s->noffl; i++) {
		if (!s->offl[i].obj)
			continue;
		read_vars(&s->offl[i], obj);
		read_progs(&s->offl[i], obj);
	}
	for (int i = 0; i < s->nexpect; i++)
		for (int k = 0; k < (s->expect[i].is_ratio ? 2 : 1); k++) {
			const struct scn_ref *r = k ? &s->expect[i].rhs : &s->expect[i].lhs;
			int o = r->src == SRC_MAP ? scn_offload_by_name(s, r->a) : -1;
			char key[256];
			uint64_t v;

			if (o < 0 || read_elem(&s->offl[o], r, &v))
				continue;
			scn_map_ref_key(r, key, sizeof(key));
			json_object_set_new(obj, key, json_integer((json_int_t)v));
		}
}
