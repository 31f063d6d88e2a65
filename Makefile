# netwatch — `make test` on a fresh Debian machine with Swift installs what it needs, builds
# with warnings as errors and runs every test. `make demo` renders the samples and checks them.
SHELL := /bin/bash
PY := .venv/bin/python
OUT ?= out

.PHONY: all setup build test demo bench crds check-generated golden clean

all: build

setup:
	hack/setup

build: setup
	swift build

test: setup
	swift build --build-tests
	hack/swift-test
	$(MAKE) check-generated
	$(PY) hack/promtool-check $$(find Tests/ConfigGenTests/Golden -name 'prometheus*.yml' -not -path '*/rules/*' | sort)
	promtool check rules $$(find Tests/ConfigGenTests/Golden -path '*/prometheus/rules/*.yml' | sort)
	for modules in $$(find Tests/ConfigGenTests/Golden -path '*/blackbox/blackbox.yml' | sort); do prometheus-blackbox-exporter --config.check --config.file=$$modules --log.level=warn || exit 1; done
	cd Tests/RuleTests && promtool test rules *_test.yml
	$(PY) hack/check-dashboards $$(find Tests/ConfigGenTests/Golden -path '*/grafana/*.json' | sort)
	$(PY) hack/check-patches Tests/ConfigGenTests/Golden/injection/cases.json
	$(PY) hack/check-sd-fidelity
	$(PY) hack/check-po-parity
	$(PY) hack/check-deploy
	$(PY) hack/check-crd-rules
	$(PY) hack/check-docs
	$(PY) hack/check-image
	$(PY) hack/bench-report --self-test Benchmarks/baseline.json
	.venv/bin/kubernetes-validate --strict --quiet -k 1.33.0 manifests/crds/*.yaml Tests/ConfigGenTests/Golden/injection/mutatingwebhookconfiguration.yaml Tests/FlowsTests/Golden/networkpolicies.yaml $$(find Tests/ConfigGenTests/Golden -path '*/kubernetes/*.yaml' -o -path '*/networkpolicies/*.yaml' | sort)

# Fails when committed generated files (CRDs, in manifests/ and in the chart) are out of date.
check-generated: build
	.build/debug/netwatch crds --output manifests/crds --check
	.build/debug/netwatch crds --output charts/netwatch/crds --check

crds: build
	.build/debug/netwatch crds --output manifests/crds
	.build/debug/netwatch crds --output charts/netwatch/crds

# Render the sample cluster into ./out, check every Prometheus config and rule file with promtool,
# and draw SVG previews of the dashboards into ./out-previews.
demo: build
	.build/debug/netwatch render --input manifests/samples --output $(OUT)
	$(PY) hack/promtool-check $$(find $(OUT) -name 'prometheus*.yml' -not -path '*/rules/*' | sort)
	rules=$$(find $(OUT) -path '*/prometheus/rules/*.yml' | sort); [ -z "$$rules" ] || promtool check rules $$rules
	for modules in $$(find $(OUT) -path '*/blackbox/blackbox.yml' | sort); do prometheus-blackbox-exporter --config.check --config.file=$$modules --log.level=warn || exit 1; done
	.build/debug/netwatch dashboards preview --input manifests/samples --output $(OUT)-previews

# Rewrite golden files after an intended change in generated output.
golden: setup
	UPDATE_GOLDEN=1 swift test --filter "ConfigGenTests|FlowsTests|ResourceReferenceTests"

# Run every benchmark (release builds), then compare the figures with Benchmarks/baseline.json:
# the run is written to $(BENCH_OUT)/results.json with the machine's CPU model, and every figure
# that moved more than 10 % against the baseline or misses its target is printed.
# `hack/bench-report $(BENCH_OUT)/figures.jsonl --write-baseline` makes a run the new baseline.
BENCH_OUT ?= out/bench
BENCH_FIGURES = $(abspath $(BENCH_OUT))/figures.jsonl
bench: setup
	mkdir -p $(BENCH_OUT) && rm -f $(BENCH_FIGURES)
	cd Benchmarks && rm -f .build/release.yaml && swift build -c release && export NETWATCH_BENCH_RESULTS=$(BENCH_FIGURES) && .build/release/RenderBenchmark && .build/release/AlertsBenchmark && .build/release/DashboardBenchmark && .build/release/ClientBenchmark && .build/release/OperatorBenchmark && .build/release/InjectionBenchmark && .build/release/FlowsBenchmark && .build/release/FlowMemoryBenchmark
	$(PY) hack/check-image && NETWATCH_BENCH_RESULTS=$(BENCH_FIGURES) $(PY) hack/bench-startup
	$(PY) hack/bench-report $(BENCH_FIGURES) --output $(BENCH_OUT)/results.json

clean:
	rm -rf .build $(OUT)
