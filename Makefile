# Build, install and test buildctl. "make test" runs the unit tests and the
# integration tests; the integration tests use BuildKit's buildctl and
# buildkitd of the version pinned in go.mod (built by "make reference") and
# start their own daemons.

PREFIX ?= /usr/local
GO ?= go

# Read from go.mod directly so that the value is known before any module is
# downloaded ("go list -m" needs the module cache or the network).
BUILDKIT_VERSION := $(shell awk '$$1 == "github.com/moby/buildkit" && $$2 ~ /^v/ && $$3 != "=>" { print $$2; exit }' go.mod)
ifeq ($(BUILDKIT_VERSION),)
$(error github.com/moby/buildkit not found in the require block of go.mod)
endif

# Same folder as the integration harness uses (Go's os.UserCacheDir).
CACHE_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
REFERENCE_DIR ?= $(CACHE_HOME)/buildctl-reference/$(BUILDKIT_VERSION)

# "buildctl --version" prints the version and the commit; nerdctl reads the
# fourth field as the commit. Both come from git when this is a checkout.
# Without a release tag the version is v0.0.0-dev, so that nerdctl still
# reads a version-shaped third field, and the commit stays in the fourth.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo v0.0.0-dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
VERSION_PKG := github.com/buildhost/buildctl/internal/version
LDFLAGS := -s -w
ifneq ($(VERSION),)
LDFLAGS += -X $(VERSION_PKG).version=$(VERSION)
endif
ifneq ($(REVISION),)
LDFLAGS += -X $(VERSION_PKG).revision=$(REVISION)
endif

.PHONY: all build install mod reference old-daemon containerd deps test unit integration integration-old conformance demo bench clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/buildctl ./cmd/buildctl

install: build
	install -D -m 0755 bin/buildctl $(DESTDIR)$(PREFIX)/bin/buildctl

# Downloads every module the build and the tests need, BuildKit's included,
# so that "reference" finds BuildKit's source in the module cache.
mod:
	$(GO) mod download

# BuildKit's go.mod has exclude directives, so "go install pkg@version" is
# rejected; build from inside the downloaded module instead. The binaries are
# written under a temporary name and renamed, so that an interrupted build
# leaves nothing that make would take as up to date.
reference: $(REFERENCE_DIR)/buildctl $(REFERENCE_DIR)/buildkitd

$(REFERENCE_DIR)/buildctl $(REFERENCE_DIR)/buildkitd: | mod
	@mkdir -p $(REFERENCE_DIR)
	cd "$$($(GO) list -m -f '{{.Dir}}' github.com/moby/buildkit)" && \
		GOFLAGS=-mod=mod $(GO) build -trimpath -ldflags "-s -w" -o $@.tmp ./cmd/$(notdir $@)
	mv $@.tmp $@

# An older buildkitd for "integration-old": v0.17.3 is the daemon version in
# the user reports this project started from. It is built like the reference,
# with its version set, because the tests read the daemon's version to skip
# what it lacks. The module is downloaded outside this module, so that go.mod
# and go.sum stay as they are.
OLD_BUILDKIT_VERSION ?= v0.17.3
OLD_DAEMON_DIR ?= $(CACHE_HOME)/buildctl-reference/$(OLD_BUILDKIT_VERSION)

old-daemon: $(OLD_DAEMON_DIR)/buildkitd

$(OLD_DAEMON_DIR)/buildkitd:
	@mkdir -p $(OLD_DAEMON_DIR)
	dir=$$(cd / && $(GO) mod download -json github.com/moby/buildkit@$(OLD_BUILDKIT_VERSION) | \
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && [ -n "$$dir" ] && cd "$$dir" && \
		GOFLAGS=-mod=mod $(GO) build -trimpath \
		-ldflags "-s -w -X github.com/moby/buildkit/version.Version=$(OLD_BUILDKIT_VERSION)" \
		-o $@.tmp ./cmd/buildkitd
	mv $@.tmp $@

# containerd and its runc shim, for the tests of buildkitd's containerd
# worker (the path nerdctl takes when it shares containerd with buildkitd).
# The version is the one go.mod selects, which is the one BuildKit requires.
# The plugins the tests do not use are left out. containerd finds the shim
# next to its own binary, so both go into one folder.
CONTAINERD_VERSION := $(shell awk '$$1 == "github.com/containerd/containerd/v2" && $$2 ~ /^v/ { print $$2; exit }' go.mod)
CONTAINERD_DIR ?= $(CACHE_HOME)/buildctl-reference/containerd-$(CONTAINERD_VERSION)
CONTAINERD_TAGS ?= no_btrfs,no_cri,no_devmapper,no_zfs

containerd: $(CONTAINERD_DIR)/containerd $(CONTAINERD_DIR)/containerd-shim-runc-v2

$(CONTAINERD_DIR)/containerd $(CONTAINERD_DIR)/containerd-shim-runc-v2: | mod
	@mkdir -p $(CONTAINERD_DIR)
	cd "$$($(GO) list -m -f '{{.Dir}}' github.com/containerd/containerd/v2)" && \
		GOFLAGS=-mod=mod $(GO) build -trimpath -tags $(CONTAINERD_TAGS) \
		-ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$(CONTAINERD_VERSION)" \
		-o $@.tmp ./cmd/$(notdir $@)
	mv $@.tmp $@

# System packages the integration tests, the conformance corpus and the demo
# need (Debian names). Installs only what is missing.
deps:
	@missing=""; \
	command -v runc >/dev/null || missing="$$missing runc"; \
	dpkg-query -W -f='$${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || \
		missing="$$missing busybox-static"; \
	command -v jq >/dev/null || missing="$$missing jq"; \
	command -v script >/dev/null || missing="$$missing bsdutils"; \
	command -v unshare >/dev/null || missing="$$missing util-linux"; \
	command -v ssh-keygen >/dev/null || missing="$$missing openssh-client"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

test: deps reference unit integration integration-old

unit:
	$(GO) test -count=1 ./cmd/... ./internal/...

integration: reference containerd
	REFERENCE_BUILDCTL=$(REFERENCE_DIR)/buildctl BUILDKITD=$(REFERENCE_DIR)/buildkitd \
		CONTAINERD=$(CONTAINERD_DIR)/containerd $(GO) test -count=1 -timeout 60m ./integration/...

# The same tests with the older daemon; the reference buildctl stays the
# pinned version, so the comparisons are still against it.
integration-old: reference old-daemon containerd
	REFERENCE_BUILDCTL=$(REFERENCE_DIR)/buildctl BUILDKITD=$(OLD_DAEMON_DIR)/buildkitd \
		CONTAINERD=$(CONTAINERD_DIR)/containerd $(GO) test -count=1 -timeout 60m ./integration/...

# Only the conformance corpus and the comparisons of usage errors and help.
conformance: reference
	REFERENCE_BUILDCTL=$(REFERENCE_DIR)/buildctl BUILDKITD=$(REFERENCE_DIR)/buildkitd \
		$(GO) test -count=1 -timeout 30m -run 'TestConformance|TestUsage' ./integration/

demo: deps build reference
	BUILDCTL=bin/buildctl BUILDKITD=$(REFERENCE_DIR)/buildkitd ./examples/demo.sh

bench: build reference
	REFERENCE_DIR=$(REFERENCE_DIR) ./bench/run.sh

clean:
	rm -rf bin
