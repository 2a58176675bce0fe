# Static binaries that run inside containers (olab-ctr: the probe helper,
# olab-app: lib/apps.c), embedded into offloadlab by containers/blobs.c.
# Unused code is dropped (--gc-sections), so olab-app links only what the
# apps reach.
CTR_STATIC_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -O2 -ffunction-sections -fdata-sections \
	$(shell pkg-config --cflags libbpf jansson 2>/dev/null)
CTR_STATIC_LDFLAGS = -static -s -Wl,--gc-sections
CTR_STATIC_LIBS = -Wl,--start-group $(shell pkg-config --static --libs libbpf jansson 2>/dev/null) \
	-lpthread -Wl,--end-group
CTR_APP_SRCS := containers/static/olab-app.c lib/apps.c lib/util.c lib/log.c lib/run.c \
	netns/proc.c netns/cpu.c

$(B)/olab-ctr: containers/static/olab-ctr.c lib/bpf_compat.h
	@mkdir -p $(@D)
	$(call msg,STATIC,$@)$(CC) $(CTR_STATIC_CFLAGS) $< -o $@ $(CTR_STATIC_LDFLAGS) $(CTR_STATIC_LIBS)

$(B)/olab-app: $(CTR_APP_SRCS) $(wildcard lib/*.h netns/*.h bpf/*.h containers/*.h)
	@mkdir -p $(@D)
	$(call msg,STATIC,$@)$(CC) $(CTR_STATIC_CFLAGS) $(CTR_APP_SRCS) -o $@ $(CTR_STATIC_LDFLAGS) \
		$(CTR_STATIC_LIBS)

$(B)/obj/containers/blobs.o $(B)/san/containers/blobs.o: $(B)/olab-ctr $(B)/olab-app
$(B)/obj/containers/blobs.o $(B)/san/containers/blobs.o: private BASE_CFLAGS += -DCTR_BLOB_DIR='"$(B)"'
