# Build, install and test buildctl. "make test" runs unit and integration
# tests; the integration tests build BuildKit's buildctl and buildkitd of the
# version pinned in go.mod and start their own daemon.

PREFIX ?= /usr/local
GO ?= go
BUILDKIT_VERSION := $(shell $(GO) list -m -f '{{.Version}}' github.com/moby/buildkit)
REFERENCE_DIR ?= $(HOME)/.cache/buildctl-reference/$(BUILDKIT_VERSION)
GOFLAGS_BUILD := -trimpath -ldflags "-s -w"

.PHONY: all build install reference deps test unit integration conformance demo bench clean

all: build

build:
	$(GO) build $(GOFLAGS_BUILD) -o bin/buildctl ./cmd/buildctl

install: build
	install -D -m 0755 bin/buildctl $(DESTDIR)$(PREFIX)/bin/buildctl

# BuildKit's go.mod has exclude directives, so "go install pkg@version" is
# rejected; build from inside the downloaded module instead.
reference: $(REFERENCE_DIR)/buildctl $(REFERENCE_DIR)/buildkitd

$(REFERENCE_DIR)/buildctl $(REFERENCE_DIR)/buildkitd:
	@mkdir -p $(REFERENCE_DIR)
	cd "$$($(GO) mod download -json github.com/moby/buildkit@$(BUILDKIT_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p')" && \
		GOFLAGS=-mod=mod $(GO) build $(GOFLAGS_BUILD) -o $(REFERENCE_DIR)/$(notdir $@) ./cmd/$(notdir $@)

# System packages the integration tests and the demo need.
deps:
	@missing=""; \
	command -v runc >/dev/null || missing="$$missing runc"; \
	[ -x /bin/busybox ] || missing="$$missing busybox-static"; \
	command -v jq >/dev/null || missing="$$missing jq"; \
	command -v script >/dev/null || missing="$$missing bsdutils"; \
	command -v ssh-keygen >/dev/null || missing="$$missing openssh-client"; \
	command -v unshare >/dev/null || missing="$$missing util-linux"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

test: deps reference unit integration

unit:
	$(GO) test ./cmd/... ./internal/...

integration: reference
	REFERENCE_BUILDCTL=$(REFERENCE_DIR)/buildctl BUILDKITD=$(REFERENCE_DIR)/buildkitd \
		$(GO) test -count=1 -timeout 60m ./integration/...

demo: deps build reference
	REFERENCE_DIR=$(REFERENCE_DIR) ./examples/demo.sh

bench: build reference
	REFERENCE_DIR=$(REFERENCE_DIR) ./bench/run.sh

clean:
	rm -rf bin
