# Plumbline. `make run` opens the app; `make test` runs every check CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
UI_BIN := ui/node_modules/.bin
APP := target/debug/plumbline-desktop

.PHONY: run test deps deps-test ui app lint rust-test cluster-test sandbox-fidelity ui-test browser-test e2e bindings sandbox-schema screenshot bench bench-desktop bench-watching bench-app control-plane fuzz

## run: install what is missing, build, and open the Plumbline window (demo mode without a kubeconfig)
run: deps app
	$(APP)

## test: formatting, lints, Rust unit and integration tests (the cluster suites on kube-sandbox and
## on a real control plane), UI unit tests, browser tests, desktop end-to-end
test: deps-test lint rust-test cluster-test ui-test browser-test e2e
	@echo "make test: all checks passed"

deps:
	scripts/deps.sh build

deps-test:
	scripts/deps.sh test

ui:
	cd ui && ../$(UI_BIN)/tsc -b && ../$(UI_BIN)/vite build --logLevel warn

## app: the desktop binary with the UI embedded (what `make run` and the end-to-end test use)
app: ui
	$(UI_BIN)/tauri build --debug --no-bundle --ci -c '{"build":{"beforeBuildCommand":""}}'

lint: ui
	cargo fmt --all -- --check
	cargo fmt --manifest-path fuzz/Cargo.toml -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cd ui && ../$(UI_BIN)/eslint . && ../$(UI_BIN)/prettier --check .

## rust-test: unit and integration tests, with the real Secret Service in a private D-Bus session
## (the suites that need the real control plane run in cluster-test)
rust-test:
	scripts/with-keyring.sh cargo test --workspace --exclude test-cluster --locked

## cluster-test: the engine's cluster suites again, each test on a real control plane of its own
## (etcd, kube-apiserver, controllers, scheduler, kwok's Nodes; built once into a cache, ~9 min)
## and the differential suite that holds kube-sandbox to kube-apiserver (sandbox-fidelity)
## Four tests at once on two cores: a test mostly waits on its cluster (130 s → 96 s for sample_apps).
CLUSTER_SUITES := sample_apps sync_against_sandbox read_only automated watching
cluster-test:
	scripts/on-control-plane.sh scripts/with-keyring.sh \
	  cargo test -p plumbline-core --locked $(addprefix --test ,$(CLUSTER_SUITES)) -- --test-threads 4
	scripts/on-control-plane.sh cargo test -p test-cluster --locked

## sandbox-fidelity: the same kubectl (1.27, 1.30, 1.33) and kube-rs steps against kube-sandbox and
## a real kube-apiserver; prints every disagreement and the agreement (at least 95 % passes)
sandbox-fidelity:
	scripts/on-control-plane.sh cargo test -p test-cluster --test fidelity --locked -- --nocapture

ui-test:
	cd ui && ../$(UI_BIN)/vitest run

browser-test: ui
	cd ui && ../$(UI_BIN)/playwright test

e2e: app
	cargo build -p kube-sandbox --bin kube-sandbox --locked
	scripts/with-keyring.sh node --test tests/e2e/

## bench: the figures, release build: the sandbox (memory at 10,000 objects, list latency, SSA
## throughput), Git (clone and fetch of 5,000 commits through git2 beside the git command line) and
## the engine (offline diff per resource, server-side diff of 500 resources beside kubectl, sync),
## then a few minutes of fuzzing
bench: deps-test
	cargo bench -p kube-sandbox --bench api --locked
	cargo bench -p plumbline-core --bench git --locked
	cargo bench -p plumbline-core --bench engine --locked
	$(MAKE) bench-desktop
	$(MAKE) bench-watching
	$(MAKE) fuzz

## fuzz: cargo-fuzz on the manifest parser, the kubeconfig loader and the Argo CD Application
## import, FUZZ_SECONDS each (nightly toolchain, installed on first use); not part of `make test`
FUZZ_SECONDS ?= 120
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

## bench-desktop: the real window on a release build: a 2,000-resource app's tree, 50 changes a
## second, and the memory of the whole app after ten minutes idle
bench-desktop: bench-app
	scripts/with-keyring.sh node bench/desktop.mjs

## bench-watching: Plumbline keeping watch in the real window (release build): start with 45 of 50
## contexts dead; 200 apps on 10 sandboxes and one of 2,000 resources under 20 changes a second for
## PLUMBLINE_BENCH_CHURN_S (600) seconds: CPU, memory, connections per cluster, change-to-tile time
bench-watching: bench-app
	scripts/with-keyring.sh node bench/watching.mjs

bench-app: ui
	$(UI_BIN)/tauri build --no-bundle --ci -c '{"build":{"beforeBuildCommand":""}}'
	cargo build --release --locked -p kube-sandbox --bin kube-sandbox -p plumbline-cli --bin plumbline

## control-plane: builds a real control plane (etcd, kube-apiserver, kube-controller-manager,
## kube-scheduler, kwok) from the Go module proxy (tests/control-plane pins versions and checksums)
## into ~/.cache/plumbline once; scripts/control-plane.sh starts and stops one
control-plane:
	scripts/control-plane.sh build

## bindings: regenerate ui/src/backend/bindings.ts from the Rust types
bindings:
	UPDATE_BINDINGS=1 cargo test -p plumbline-core --lib ipc::tests::bindings_file_is_current

## sandbox-schema: re-derive the list and map merge rules (sandbox and offline diff) from Kubernetes' OpenAPI extensions
sandbox-schema:
	python3 crates/kube-schema/schema/generate.py

## screenshot: retake the README screenshots from the real window under Xvfb
screenshot: deps-test app
	SCREENSHOT_DIR=docs/screens scripts/with-keyring.sh node --test tests/e2e/
	cp docs/screens/diff.png docs/screenshot.png
