# scicast — one Makefile, one target platform (Debian 12).
#   make          build scicastd, scicast and scicast-screen (build/)
#   make deps     install the Debian packages that are missing
#   make run      deps + build + a private mosquitto + scicastd with Zhongshan
#   make test     deps + sanitizer build + every unit and integration test
#   make install PREFIX=/usr/local   binaries, config, data, systemd unit
#   make drill    the outage drills at full size (tests/drills)
#   make fuzz     libFuzzer on every parser (FUZZ_SECONDS each)
#   make valgrind the integration tests with scicastd under valgrind

PREFIX   ?= /usr/local
DESTDIR  ?=
SHARED   ?= ../shared
CC       ?= cc

PKGS     := libcurl libmosquitto sqlite3 libmicrohttpd jansson libxml-2.0 libcrypto inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wno-missing-field-initializers
BASE_CFLAGS := -std=c17 -D_DEFAULT_SOURCE -Iinclude $(WARN) $(PKG_CFLAGS)
REL_CFLAGS  := -O2 -g $(BASE_CFLAGS)
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	       -fno-sanitize-recover=undefined $(BASE_CFLAGS)
LDLIBS   := $(PKG_LIBS) -lpthread -lm

LIB_SRCS := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)

REL := build/release
ASAN := build/asan

REL_OBJS  := $(LIB_SRCS:daemon/%.c=$(REL)/obj/%.o)
ASAN_OBJS := $(LIB_SRCS:daemon/%.c=$(ASAN)/obj/%.o)

Q := $(if $(V),,@)

.PHONY: all deps run test unit integration install clean check-pkgs docs
SCREEN_BIN := $(if $(wildcard screen/*.c),build/scicast-screen)
ASAN_SCREEN_BIN := $(if $(wildcard screen/*.c),build/asan/scicast-screen)

all: build/scicastd build/scicast $(SCREEN_BIN)

check-pkgs:
	@pkg-config --exists $(PKGS) cmocka || { \
	  echo "missing development packages: run 'make deps' (or 'make run' / 'make test', which do it)"; exit 1; }

deps:
	@scripts/deps.sh

# ---- release build ----
$(REL)/obj/%.o: daemon/%.c | check-pkgs
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@

$(REL)/libscicast.a: $(REL_OBJS)
	$(Q)ar rcs $@ $^

build/scicastd: $(REL)/obj/main.o $(REL)/libscicast.a
	@echo "  LD      $@"
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

CLI_SRCS := $(wildcard cli/*.c)
REL_CLI_OBJS := $(CLI_SRCS:cli/%.c=$(REL)/obj/cli/%.o)
ASAN_CLI_OBJS := $(CLI_SRCS:cli/%.c=$(ASAN)/obj/cli/%.o)

build/scicast: $(REL_CLI_OBJS) $(REL)/libscicast.a
	@echo "  LD      $@"
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

$(REL)/obj/cli/%.o: cli/%.c | check-pkgs
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@

SCREEN_SRCS := $(wildcard screen/*.c)
REL_SCREEN_OBJS := $(SCREEN_SRCS:screen/%.c=$(REL)/obj/screen/%.o)
ASAN_SCREEN_OBJS := $(SCREEN_SRCS:screen/%.c=$(ASAN)/obj/screen/%.o)

build/scicast-screen: $(REL_SCREEN_OBJS) $(REL)/libscicast.a
	@echo "  LD      $@"
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

$(REL)/obj/screen/%.o: screen/%.c | check-pkgs
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@

# ---- sanitizer build (what the tests run) ----
$(ASAN)/obj/screen/%.o: screen/%.c | check-pkgs
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

$(ASAN)/scicast-screen: $(ASAN_SCREEN_OBJS) $(ASAN)/libscicast.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS)

$(ASAN)/obj/cli/%.o: cli/%.c | check-pkgs
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

$(ASAN)/scicast: $(ASAN_CLI_OBJS) $(ASAN)/libscicast.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS)

$(ASAN)/obj/%.o: daemon/%.c | check-pkgs
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

$(ASAN)/libscicast.a: $(ASAN_OBJS)
	$(Q)ar rcs $@ $^

$(ASAN)/scicastd: $(ASAN)/obj/main.o $(ASAN)/libscicast.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS)

$(ASAN)/tests/%: tests/unit/%.c $(ASAN)/libscicast.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $< $(ASAN)/libscicast.a $(LDLIBS) $(CMOCKA_LIBS)

$(ASAN)/tools/%: tests/tools/%.c $(ASAN)/libscicast.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $< $(ASAN)/libscicast.a $(LDLIBS)

UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(ASAN)/tests/%)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(ASAN)/tools/%)

test-build: $(ASAN)/scicastd $(ASAN)/scicast $(ASAN_SCREEN_BIN) $(UNIT_BINS) $(TOOL_BINS)

test: deps
	@$(MAKE) --no-print-directory test-build
	@SCICAST_SHARED=$(SHARED) tests/run.sh $(ASAN)

# the integration tests with the release scicastd under valgrind memcheck
# (tests/valgrind.sh; VALGRIND_TESTS="60_emergency 70_webhooks" for some)
.PHONY: valgrind
valgrind: deps
	@$(MAKE) --no-print-directory test-build build/scicastd
	@SCICAST_SHARED=$(SHARED) tests/valgrind.sh

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

# docs that are generated from the code's own tables
docs: build/scicastd
	@scripts/gen-docs.sh build/scicastd

install: build/scicastd build/scicast $(SCREEN_BIN) build/scicast
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/scicast \
		$(DESTDIR)/etc/scicast $(DESTDIR)/lib/systemd/system
	install -m 0755 build/scicastd $(DESTDIR)$(PREFIX)/bin/scicastd
	install -m 0755 build/scicast $(DESTDIR)$(PREFIX)/bin/scicast
	$(if $(SCREEN_BIN),install -m 0755 build/scicast-screen $(DESTDIR)$(PREFIX)/bin/scicast-screen)
	cp -R data templates library web $(DESTDIR)$(PREFIX)/share/scicast/
	sed -e 's|^share = .*|share = $(PREFIX)/share/scicast|' \
	    -e 's|^path = .*|path = /var/lib/scicast/scicast.db|' \
	    config/scicast.conf > $(DESTDIR)/etc/scicast/scicast.conf.dist
	test -e $(DESTDIR)/etc/scicast/scicast.conf || \
		cp $(DESTDIR)/etc/scicast/scicast.conf.dist $(DESTDIR)/etc/scicast/scicast.conf
	sed -e 's|@PREFIX@|$(PREFIX)|g' config/scicastd.service > \
		$(DESTDIR)/lib/systemd/system/scicastd.service

# ---- fuzzing ----
# libFuzzer targets for the parsers (tests/fuzz/fuzz_*.c), built with
# clang into their own tree: the library with fuzzer-no-link (coverage
# only), each target linked with -fsanitize=fuzzer (libFuzzer's main).
#   make fuzz-build                 build/fuzz/fuzz_<name>
#   make fuzz [FUZZ_SECONDS=60]     each target for that long, on a scratch
#                                   corpus (new inputs never reach the repo)
#   make fuzz-smoke                 the crash regressions, then a short run
#                                   of each (what make test runs)
FUZZ        := build/fuzz
FUZZ_CC     ?= clang
FUZZ_SECONDS ?= 60
# clang's -Wformat-nonliteral also flags vsnprintf in a va_list callback
# whose format comes from libmicrohttpd (http.c's mhd_logger); gcc does not
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer \
	       -fsanitize=fuzzer-no-link,address,undefined \
	       -fno-sanitize-recover=undefined $(BASE_CFLAGS) \
	       -Wno-format-nonliteral
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_OBJS   := $(LIB_SRCS:daemon/%.c=$(FUZZ)/obj/%.o)
FUZZ_BINS   := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ)/%)

.PHONY: fuzz fuzz-build fuzz-smoke

$(FUZZ)/obj/%.o: daemon/%.c | check-pkgs
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ)/libscicast.a: $(FUZZ_OBJS)
	$(Q)ar rcs $@ $^

# the targets find data/, templates/ and library/ here (or $SCICAST_TOP)
$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ)/libscicast.a
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-DFUZZ_TOP='"$(CURDIR)"' -o $@ $< $(FUZZ)/libscicast.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/run.sh -t $(FUZZ_SECONDS) $(FUZZ)

fuzz-smoke: fuzz-build
	@sh tests/integration/97_fuzz_smoke.sh

# ---- drills ----
# Outage drills (tests/drills): kill -9 during a fan-out, the broker
# stopped mid-fan-out, misbehaving webhook receivers, a full database;
# one line each ("drill NAME: planned N, delivered N, lost 0, ...").
# make test runs them in a short profile (tests/integration/98_drills_short.sh).
.PHONY: drill
drill: deps
	@$(MAKE) --no-print-directory test-build
	@SCICAST_SHARED=$(SHARED) tests/drills/run.sh --profile full $(ASAN)

clean:
	rm -rf build

-include $(REL_OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(REL)/obj/main.d $(ASAN)/obj/main.d \
	$(wildcard $(REL)/obj/cli/*.d $(ASAN)/obj/cli/*.d) \
	$(wildcard $(REL)/obj/screen/*.d $(ASAN)/obj/screen/*.d) \
	$(wildcard $(FUZZ)/obj/*.d)
