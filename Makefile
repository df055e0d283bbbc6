# vdi-appliance — the two commands that matter:
#   make run    build and run the service locally (data in ./var)
#   make test   install what the tests need, then run every tier
# Tiers can be run alone: make test-unit | test-api | test-images | test-host | test-process | test-netns | test-ssh | test-firstboot | test-console |
#   test-libvirt | test-guest | test-units | test-buildroot | test-fuzz | image-test | lint
# make ui     builds the console (src/ui, npm + esbuild) that the binary embeds.
# make image  builds the appliance ISO; make install puts the service on this Debian host.
# make bench  runs the API benchmark (10,000 records, wrk on loopback);
#   make bench-monitor the monitoring one (50 nodes x a week of reports).

SHELL := /bin/bash
CARGO ?= cargo
LISTEN ?= 0.0.0.0:5000
DATA ?= ./var
BIN := target/release/vdi-appliance

# Debian packages: tests/deps.sh holds what every tier needs (a command or a
# file, and the package that brings it); `bash tests/deps.sh --list` shows it.
# Each deps step installs its tiers' packages in one apt call, then checks
# every need again (apt may remove one package to install another) and
# installs what went missing in a second pass, or fails naming the package.
DEPS := bash tests/deps.sh
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
ISO := target/image/vdi-appliance-$(VERSION).iso
DESTDIR ?=


.PHONY: bench-console bench-desktop bench-logins bench-monitor test-images test-host install install-files deps-image image image-test test-buildroot
.PHONY: test-console ui deps-ui test-fuzz test-ssh run test deps-build deps-test deps-browser deps-libvirt build lint test-unit test-api test-libvirt test-process test-netns test-firstboot test-guest test-units bench clean

deps-build:
	$(DEPS) build

deps-test: ui
	$(DEPS) build test

# The console (src/ui): npm ci from the registry, then esbuild into
# src/ui/dist, which build.rs embeds. Every cargo build of the tiers comes
# after it, so the binary always carries the console it was tested with.
deps-ui:
	$(DEPS) ui

ui: deps-ui
	cd src/ui && npm ci --no-audit --no-fund --loglevel=error && node build.mjs

deps-browser: deps-test
	$(DEPS) browser
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error

build: deps-build ui
	$(CARGO) build --release --locked

run: build
	@mkdir -p $(DATA)
	@echo "vdi-appliance: data in $(DATA); on first start the one-time setup token is in $(DATA)/setup-token"
	@echo "  create the first admin: curl -s -X POST http://127.0.0.1:$(lastword $(subst :, ,$(LISTEN)))/api/v1/setup/admin -d '{\"setup_token\":\"'\$$(cat $(DATA)/setup-token)'\",\"name\":\"admin\",\"password\":\"<8+ chars>\"}'"
	$(BIN) serve --listen $(LISTEN) --data-dir $(DATA) $(ARGS)

test: deps-test lint test-unit test-api test-images test-host test-process test-netns test-ssh test-firstboot test-console test-libvirt test-guest test-units test-buildroot test-fuzz image-test
	@echo "make test: every tier passed"

lint: deps-test
	cd src/ui && npx --no-install tsc --noEmit -p . && node check-i18n.mjs
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings
	@if grep -q '^name = "tokio"$$' Cargo.lock; then echo "tokio is in Cargo.lock"; exit 1; fi

test-unit: deps-test
	$(CARGO) test --locked --lib

test-api: deps-test
	$(CARGO) test --locked --test api

# Images that reach host files, registrations outside the storage, truncated
# uploads: over fakes and with real qemu-img (root: mknod).
test-images: deps-test
	$(CARGO) test --locked --test images

# This machine's own figures through the real sampler (sysinfo, /proc, sysfs).
test-host: deps-test
	$(CARGO) test --locked --test monitor_host

test-process: deps-test
	$(CARGO) test --locked --test process

# rtnetlink for real, inside network namespaces the tests create (root).
test-netns: deps-test
	$(CARGO) test --locked --test netns

# Joining nodes for real: sshd and the compute-role service in network +
# mount namespaces the test makes (openssh-server, openssl for the test
# account's password hash).
test-ssh: deps-test
	$(DEPS) ssh
	$(CARGO) test --locked --test ssh

# First boot for real: the binary in fresh network + mount namespaces (veth
# NICs, a bind-mounted partition), by API, by answer file, and by the setup
# page in headless Chromium.
test-firstboot: deps-browser
	$(CARGO) test --locked --test firstboot

# The console in headless Chromium: the built binary initialised in
# namespaces (libvirt's test driver), an admin's whole journey in English
# and in Chinese, every page scanned by axe-core, screenshots of every page
# in both languages in target/tmp/browser/ (index.html shows them side by side).
test-console: deps-browser
	$(CARGO) test --locked --test console -- --nocapture

# libvirtd without systemd (as testing.md describes), started when not running.
deps-libvirt: deps-test
	$(DEPS) libvirt
	@if [ -e /dev/kvm ]; then chgrp kvm /dev/kvm 2>/dev/null; chmod 0660 /dev/kvm 2>/dev/null; fi; true
	@pgrep -x virtlogd >/dev/null || /usr/sbin/virtlogd -d
	@pgrep -x libvirtd >/dev/null || /usr/sbin/libvirtd -d
	@for i in $$(seq 1 60); do virsh -c qemu:///system version >/dev/null 2>&1 && exit 0; sleep 1; done; \
	  echo "libvirtd did not answer on qemu:///system"; exit 1

# Templates on real libvirt (qemu:///system) with real qcow2 files, and
# their consoles through the service's port (the SPICE proxy, and noVNC and
# spice-html5 in headless Chromium; screenshots in target/tmp/vm-console/).
test-libvirt: deps-libvirt deps-browser
	$(CARGO) test --locked --test libvirt -- --test-threads=1

# VLANs and bonds need Debian's kernel: the test boots it under QEMU TCG.
test-guest: deps-test
	$(DEPS) guest
	$(CARGO) test --locked --test guest_net

# The schema fuzzer against the built binary, initialised as the controller
# inside network + mount namespaces (root): schemathesis and
# openapi-spec-validator, pinned in tests/fuzz/requirements.txt, come from
# PyPI into target/fuzz-venv. The OpenAPI document must be valid; 0 server
# errors, 0 unanswered requests, 0 non-envelope replies, every reply as
# declared. About 5 minutes (FUZZ_MAX_TIME=240 s of fuzzing).
test-fuzz: deps-test
	$(DEPS) fuzz
	$(CARGO) build --locked
	bash tests/fuzz/run.sh

# The shipped units, pointed at the freshly built binary, must verify cleanly.
test-units: deps-test
	$(CARGO) build --locked
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for u in systemd/*.service; do \
	  sed -e "s#/usr/bin/vdi-appliance#$(CURDIR)/target/debug/vdi-appliance#" \
	      -e "s#/usr/lib/vdi-appliance/#$(CURDIR)/systemd/libexec/#" $$u > $$tmp/$$(basename $$u); \
	done; \
	out=$$(systemd-analyze verify --man=no $$tmp/*.service 2>&1 | grep -v -e 'libvirtd.service' -e 'network-online.target' || true); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; echo "systemd units verify"

# The service on this Debian host, with the same files the image uses (root).
# The config is written only when absent; enable with systemctl afterwards.
install: build install-files
	@if [ -z "$(DESTDIR)" ]; then systemctl daemon-reload; systemd-tmpfiles --create vdi-appliance.conf; \
	  echo "installed: systemctl enable --now vdi-appliance vdi-appliance-console"; fi

# The image and the Buildroot package also set where the store lives and
# where networkd is told about the appliance's links; Buildroot strips itself.
DATA_DIR ?=
NETWORKD_DIR ?=
INSTALL_STRIP ?= -s
install-files:
	install -D -m 0755 $(INSTALL_STRIP) $(BIN) $(DESTDIR)/usr/bin/vdi-appliance
	install -d $(DESTDIR)/usr/lib/systemd/system $(DESTDIR)/usr/lib/vdi-appliance $(DESTDIR)/usr/share/doc/vdi-appliance
	install -m 0644 systemd/*.service $(DESTDIR)/usr/lib/systemd/system/
	install -D -m 0644 systemd/vdi-appliance.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/vdi-appliance.conf
	install -m 0755 systemd/libexec/console-banner systemd/libexec/install-to-disk $(DESTDIR)/usr/lib/vdi-appliance/
	install -m 0644 README.md docs/errors.md $(DESTDIR)/usr/share/doc/vdi-appliance/
	@if [ ! -e $(DESTDIR)/etc/vdi-appliance/config.toml ]; then \
	  install -D -m 0640 systemd/config.toml $(DESTDIR)/etc/vdi-appliance/config.toml; fi
	$(if $(DATA_DIR),sed -i 's#^data_dir = "[^"]*"#data_dir = "$(DATA_DIR)"#' $(DESTDIR)/etc/vdi-appliance/config.toml)
	$(if $(NETWORKD_DIR),sed -i 's#^networkd_dir = "[^"]*"#networkd_dir = "$(NETWORKD_DIR)"#' $(DESTDIR)/etc/vdi-appliance/config.toml)

deps-image:
	$(DEPS) image

# The appliance ISO (root; about 2 minutes the first time, then cached).
image: build deps-image
	bash image/build.sh

# Boots the ISO under QEMU TCG: setup, VLAN, bond, pool, base image, reboot,
# install to a disk, UEFI boot of that disk. Prints every step's time.
image-test: image
	VDI_ISO=$(CURDIR)/$(ISO) $(CARGO) test --locked --test appliance -- --nocapture

# The Buildroot tree cannot be built here (its sources are downloaded from
# upstream sites): Buildroot's own source (../shared/buildroot/, beside the
# repository) loads our defconfig and parses every package (show-info) offline.
test-buildroot:
	bash buildroot/check.sh

bench: deps-test
	$(CARGO) bench --locked --bench api

# 50 nodes reporting for a simulated week: store size, RSS, top_data vs health.
bench-monitor: deps-test
	$(CARGO) bench --locked --bench monitor

# Terminal logins at the bell: sequential and concurrent, each flushed,
# against the health floor.
bench-logins: deps-test
	$(CARGO) bench --locked --bench logins

# The console's one port: keystroke latency and full-screen throughput,
# direct vs the SPICE proxy (CONNECT) vs the WebSocket gateway.
bench-console: deps-test
	$(CARGO) bench --locked --bench console

# Desktop creation and start on real libvirt against shell loops (root).
bench-desktop: deps-libvirt
	$(CARGO) bench --locked --bench desktop

clean:
	$(CARGO) clean
