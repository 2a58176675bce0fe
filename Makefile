# offloadlab build. `make` builds build/offloadlab; `make test` runs every test;
# `make run` runs the main job. Both install missing Debian packages first.
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PREFIX   ?= /usr/local
DESTDIR  ?=
B        := build
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
msg       = $(if $(filter 1,$(V)),,@printf '  %-8s %s\n' $(1) $(2);)

DEB_PKGS := build-essential pkg-config clang llvm bpftool libbpf-dev libxdp-dev xdp-tools \
	libelf-dev zlib1g-dev libcap-dev libnl-3-dev libnl-route-3-dev libmnl-dev \
	libnftables-dev nftables iptables conntrack libnetfilter-conntrack-dev \
	libjansson-dev libxml2-dev libxml2-utils jq iproute2 ethtool runc busybox-static \
	sockperf iperf3 valgrind libclang-rt-14-dev qemu-system-x86 kmod \
	libhttp-parser-dev libnghttp2-dev gnuplot-nox chromium libpng-dev libyaml-dev
# The real apps and clients `scenario run` starts inside its namespaces; their
# system services must not run on the host (deps-apps below).
DEB_PKGS_APPS := memcached libmemcached-tools redis-server redis-tools nginx-light wrk \
	nghttp2-client umoci
APP_SERVICES := memcached redis-server nginx

PKGS     := libbpf libxdp libnl-route-3.0 libnl-3.0 libcap jansson libxml-2.0 libnftables libmnl \
	yaml-0.1
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror
# Reference parsers linked by the differential tests (tests/integ/parse_*.c)
# only: libnghttp2 has a .pc; libhttp-parser-dev ships none, hence -lhttp_parser.
TEST_PKGS := libnghttp2
BPF_CC_VERSION := $(shell $(CLANG) --version 2>/dev/null | head -n 1)
GIT_REV  := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
VERSION  := 0.1.0

WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
BASE_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -I$(B) -I$(B)/skel \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lpthread -lm
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Built at run time only, by a newer clang than the build's (bench/bpf_cc.h).
BPF_RUNTIME_ONLY := bpf/maps_arena.bpf.c
BPF_SRCS := $(filter-out $(BPF_RUNTIME_ONLY),$(wildcard bpf/*.bpf.c))
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(B)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(B)/skel/%.skel.h,$(BPF_SRCS))

# Every user-space source except the CLI entry point goes into a library
# shared by the binary and the tests.
LIB_SRCS := $(wildcard lib/*.c netns/*.c containers/*.c checks/*.c results/*.c bench/*.c report/*.c \
	scenarios/*.c) \
	$(filter-out cmd/main.c,$(wildcard cmd/*.c))
ASM_SRCS := $(wildcard results/*.S)
LIB_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS)) $(patsubst %.S,$(B)/obj/%.o,$(ASM_SRCS))
SAN_OBJS := $(patsubst %.c,$(B)/san/%.o,$(LIB_SRCS)) $(patsubst %.S,$(B)/obj/%.o,$(ASM_SRCS))
# The sources compiled at run time: the parsers (`offloadlab verifier`) and
# the ARENA program of bench maps with the headers it includes.
RUNTIME_BPF_SRCS := $(sort $(wildcard bpf/parse.h bpf/parse_*.bpf.c) bpf/maps.h bpf/micro.h \
	$(BPF_RUNTIME_ONLY))
LIB_OBJS += $(B)/gen/bpf_srcs.o
SAN_OBJS += $(B)/gen/bpf_srcs.o
UNIT_SRCS  := $(wildcard tests/unit/*.c)
INTEG_SRCS := $(wildcard tests/integ/*.c)

.SECONDARY:
.PHONY: all deps deps-apps deps-apps-install deps-extra run screenshot test test-unit install \
	clean-build check-root corpus FORCE
all: deps $(B)/offloadlab

# Fast no-op when every package is present; installs the missing ones as root.
define apt_install
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(1) 2>/dev/null \
		| awk '$$1!="ii"{print $$2}'; for p in $(1); do \
		dpkg-query -W -f='$${Package}\n' $$p >/dev/null 2>&1 || echo $$p; done | sort -u); \
	if [ -n "$$missing" ]; then \
		echo "make $@: installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "make $@: run as root to install packages" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
endef
deps: deps-apps
	$(call apt_install,$(DEB_PKGS))

# Only when one is missing: a policy-rc.d (unless one exists) keeps the
# packages' services from starting on install; whatever runs anyway is stopped
# and disabled afterwards (a host's own, already installed services are left alone).
deps-apps:
	@missing=0; for p in $(DEB_PKGS_APPS); do dpkg-query -W -f='$${db:Status-Abbrev}' $$p \
		2>/dev/null | grep -q '^ii' || missing=1; done; [ $$missing = 1 ] || exit 0; \
	own=0; if [ "$$(id -u)" = 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then \
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
		chmod 0755 /usr/sbin/policy-rc.d; own=1; fi; \
	$(MAKE) --no-print-directory deps-apps-install; rc=$$?; \
	[ $$own = 1 ] && rm -f /usr/sbin/policy-rc.d; \
	for s in $(APP_SERVICES); do \
		if command -v systemctl >/dev/null && systemctl is-enabled --quiet $$s 2>/dev/null; then \
			systemctl disable --now --quiet $$s 2>/dev/null; fi; \
		if [ -x /etc/init.d/$$s ] && [ "$$(id -u)" = 0 ]; then \
			/etc/init.d/$$s stop >/dev/null 2>&1; \
			update-rc.d -f $$s disable >/dev/null 2>&1; fi; \
	done; exit $$rc
deps-apps-install:
	$(call apt_install,$(DEB_PKGS_APPS))

# Opt-in (not part of deps, test or run): the other Debian clang versions
# `offloadlab verifier` compares with the default one.
DEB_PKGS_EXTRA := clang-13 clang-15 clang-16 clang-19
deps-extra:
	$(call apt_install,$(DEB_PKGS_EXTRA))

# The version and commit every result records: rewritten only when they change,
# and everything that prints them depends on it.
$(B)/version.h: FORCE
	@mkdir -p $(@D)
	@printf '#define OLAB_VERSION "%s"\n#define OLAB_GIT_REV "%s"\n' '$(VERSION)' '$(GIT_REV)' > $@.tmp
	@printf '#define OLAB_BPF_CC "%s"\n#define OLAB_BPF_CFLAGS "%s"\n' '$(BPF_CC_VERSION)' '$(BPF_CFLAGS)' >> $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(B)/obj/cmd/main.o $(B)/obj/results/results.o $(B)/san/results/results.o: $(B)/version.h
$(B)/obj/bench/micro.o $(B)/san/bench/micro.o: $(B)/version.h
FORCE:

$(B)/vmlinux.h:
	@mkdir -p $(@D)
	$(call msg,GEN,$@)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(B)/vmlinux.h $(wildcard bpf/*.h)
	@mkdir -p $(@D)
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -I$(B) -Ibpf -c $< -o $@

# The parsers include uapi headers, not vmlinux.h: asm/types.h is multiarch.
$(B)/bpf/parse_%.bpf.o: BPF_CFLAGS += -I/usr/include/$(shell $(CC) -dumpmachine)

$(B)/skel/%.skel.h: $(B)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(call msg,SKEL,$@)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

$(B)/obj/%.o: %.c $(SKELS) $(wildcard */*.h)
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

# Data files embedded with .incbin (assembled from the top of the tree).
$(B)/obj/%.o: %.S $(wildcard results/*.json)
	@mkdir -p $(@D)
	$(call msg,AS,$@)$(CC) -c $< -o $@

# {name, data, len} of each run-time source (bench/bpf_cc.c), NULL-ended;
# rewritten only when the list changes, reassembled when a source does.
$(B)/gen/bpf_srcs.S: FORCE
	@mkdir -p $(@D)
	@{ echo '	.section .rodata'; i=0; for f in $(RUNTIME_BPF_SRCS); do \
		printf '.Lname%d: .asciz "%s"\n.Ldata%d: .incbin "%s"\n.Lend%d: .byte 0\n' \
			$$i "$${f#bpf/}" $$i "$$f" $$i; i=$$((i + 1)); done; \
	echo '	.section .data.rel.ro,"aw"'; echo '	.balign 8'; \
	echo '	.global olab_bpf_srcs'; echo 'olab_bpf_srcs:'; \
	j=0; while [ $$j -lt $$i ]; do \
		printf '	.quad .Lname%d, .Ldata%d, .Lend%d - .Ldata%d\n' $$j $$j $$j $$j; j=$$((j + 1)); done; \
	echo '	.quad 0, 0, 0'; echo '	.section .note.GNU-stack,"",@progbits'; } > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(B)/gen/bpf_srcs.o: $(B)/gen/bpf_srcs.S $(RUNTIME_BPF_SRCS)
	$(call msg,AS,$@)$(CC) -c $< -o $@

$(B)/san/%.o: %.c $(SKELS) $(wildcard */*.h)
	@mkdir -p $(@D)
	$(call msg,CC-SAN,$@)$(CC) $(BASE_CFLAGS) -O1 -g $(SAN) -c $< -o $@

$(B)/offloadlab: $(B)/obj/cmd/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# Test tables are generated from the files: adding a test means adding a file.
# Rewritten only when the list changes (a removed file counts too).
define test_table
	@mkdir -p $(@D)
	@grep -ho '^OLAB_TEST(\s*[a-z0-9_]*' $(filter %.c,$^) | sed 's/OLAB_TEST(\s*/X(/;s/$$/)/' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
endef
$(B)/tests/unit_table.h: $(UNIT_SRCS) FORCE
	$(test_table)
$(B)/tests/integ_table.h: $(INTEG_SRCS) FORCE
	$(test_table)

$(B)/test_unit: tests/runner.c $(UNIT_SRCS) $(SAN_OBJS) $(B)/tests/unit_table.h
	$(call msg,LINK,$@)$(CC) $(BASE_CFLAGS) -O1 -g $(SAN) -I$(B)/tests -DTEST_TABLE='"unit_table.h"' \
		tests/runner.c $(UNIT_SRCS) $(SAN_OBJS) -o $@ $(LDLIBS)

$(B)/test_integ: LDLIBS += $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null) -lhttp_parser
$(B)/test_integ: tests/runner.c $(INTEG_SRCS) $(LIB_OBJS) $(B)/tests/integ_table.h
	$(call msg,LINK,$@)$(CC) $(BASE_CFLAGS) $(CFLAGS) -I$(B)/tests -DTEST_TABLE='"integ_table.h"' \
		tests/runner.c $(INTEG_SRCS) $(LIB_OBJS) -o $@ $(LDLIBS)

# The parser corpus (tests/corpus/, committed): `make corpus` rewrites it.
$(B)/corpus_gen: $(wildcard tests/corpus/*.c) tests/corpus/gen.h
	$(call msg,LINK,$@)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(filter %.c,$^) -o $@ \
		$(shell pkg-config --libs $(TEST_PKGS))
corpus: $(B)/corpus_gen
	$(B)/corpus_gen tests/corpus

test: deps $(B)/offloadlab $(B)/test_unit $(B)/test_integ
	@tests/run.sh

test-unit: deps $(B)/test_unit
	@$(B)/test_unit

# The main job: what this machine can do, the testbed, every bench x hook,
# the verifier study (quick), then the compatibility checks; the last two
# write their JSON into the bench's run folder, and the report of it all is
# written there (report.html, report.md and its SVGs) and its path printed.
run: deps $(B)/offloadlab
	$(B)/offloadlab env
	$(B)/offloadlab topo smoke
	$(B)/offloadlab bench all --quick
	@run=$$(ls -d results/run-*/ | sort | tail -n 1); run=$${run%/}; st=0; \
	echo "$(B)/offloadlab --json verifier --quick > $$run/verifier.json"; \
	$(B)/offloadlab --json verifier --quick > $$run/verifier.json || st=1; \
	echo "$(B)/offloadlab --json check > $$run/checks.json"; \
	$(B)/offloadlab --json check > $$run/checks.json || st=1; \
	jq -r '"checks: " + (.totals | to_entries | map("\(.value) \(.key)") | join(", "))' \
		$$run/checks.json 2>/dev/null; \
	$(B)/offloadlab report $$run --md $$run/report.md || st=1; exit $$st

# docs/report.png, the README's picture: the fixture run's report in Chromium.
screenshot: $(B)/offloadlab
	tests/report/screenshot.sh

install: $(B)/offloadlab
	install -D -m 0755 $(B)/offloadlab $(DESTDIR)$(PREFIX)/bin/offloadlab

clean-build:
	rm -rf $(B)

# Folders may add build rules of their own (e.g. containers/containers.mk).
-include $(wildcard */*.mk)
