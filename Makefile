# proxy-ledger — set-up, demo, tests and benchmarks on a fresh Debian machine.
# `make demo` and `make test` install what is missing: Debian packages (as root, or via sudo)
# and yt-dlp from PyPI into a venv under this project (.venv, ignored by git).

SHELL := /bin/bash
APT_PACKAGES := libzstd-dev libcurl4-openssl-dev libsqlite3-dev squid apache2-utils pkg-config python3-venv chromium openssl
VENV := $(CURDIR)/.venv
YTDLP := $(VENV)/bin/yt-dlp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN_PATH = $(shell swift build --show-bin-path)

export PROXY_LEDGER_YTDLP := $(YTDLP)

.PHONY: all deps system-deps build test demo bench fuzz format clean-lab crash-test

all: build

deps: system-deps $(YTDLP)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing >/dev/null; \
	fi

$(YTDLP):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check yt-dlp

# The Prometheus text-format parser the tests check /metrics with.
PROM_PARSER := $(VENV)/lib/.prometheus_client
$(PROM_PARSER): $(YTDLP)
	$(VENV)/bin/pip install -q --disable-pip-version-check prometheus_client
	@touch $@

# youtube-transcript-api, a client the proxy tests run: the version whose own tests use the same
# recorded YouTube responses as ours.
YTAPI := $(VENV)/lib/.youtube-transcript-api-1.2.5
$(YTAPI): $(YTDLP)
	$(VENV)/bin/pip install -q --disable-pip-version-check youtube-transcript-api==1.2.5
	@touch $@

build: deps
	swift build

test: deps $(PROM_PARSER) $(YTAPI)
	swift build --build-tests
	PROXY_LEDGER_BIN=$(BIN_PATH)/proxy-ledger swift test --skip-build --no-parallel

demo: deps
	swift build --product proxy-ledger
	$(BIN_PATH)/proxy-ledger demo

bench: deps
	swift build -c release --product proxy-ledger-bench
	swift build -c release --product proxy-ledger
	$$(swift build -c release --show-bin-path)/proxy-ledger-bench

# libFuzzer targets (docs/fuzzing.md): builds them into .build-fuzz and runs each for SECONDS
# seconds on a copy of its seed corpus; fails when one crashes, naming the saved input.
SECONDS ?= 60
fuzz: system-deps
	scripts/fuzz.sh $(SECONDS)

format:
	swift format --in-place --recursive Sources Tests Package.swift

# SIGKILLs appending writers at random moments; prints trials, acknowledged and lost events.
TRIALS ?= 1000
crash-test: deps $(PROM_PARSER) $(YTAPI)
	swift build --product proxy-ledger
	$(BIN_PATH)/proxy-ledger crash-test --trials $(TRIALS)
