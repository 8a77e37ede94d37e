/*
Copyright 2026 The directus-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command latency is the operator's latency and API-cost benchmark (make
// bench). It is a benchmark, not a test: it prints a table of what it
// measured next to the targets of issue #11, and fails only when the
// harness itself cannot go on (a setup error, an interrupt, a phase that
// did not finish before its deadline).
//
// It starts a local control plane (envtest) and a real Directus
// (hack/directus.sh) on its own port, builds the operator and runs it as a
// subprocess, and measures, per phase, when each created item reached the
// mirror compared with when a raw WebSocket subscriber (the project's
// realtime client) saw it. The raw subscriber subscribes first; the mirror
// is attached only after the raw subscription's init arrived, so Directus,
// which serves subscriptions in subscription order, favours the raw
// subscriber. The phases:
//
//	a. BENCH_RATE creates/s for BENCH_RATE_FOR into an empty mirror
//	b. a burst of BENCH_BURST items (POST arrays of BENCH_BURST_BATCH)
//	c. BENCH_RATE creates/s for BENCH_RATE_FOR into the mirror of b, which
//	   then holds BENCH_BURST items
//
// each for the operator (a DirectusSubscription with a ConfigMap target),
// for a naive mirror in the harness (one Get + Update of the whole
// ConfigMap per event), and, phase a only, for the sidecar with a
// directory target. Each (subject, phase a or b) gets a fresh collection.
// The phases run one after the other, so the API server's CPU time during
// a phase is that subject's.
//
// Environment:
//
//	BENCH_DIRECTUS_PORT    the Directus port (default 8166)
//	BENCH_DIRECTUS_STATE   its state directory (default /tmp/directus-operator-bench-latency-<port>)
//	BENCH_DIRECTUS_ENV     extra Directus variables, space separated K=V (the
//	                       harness's own environment also passes through)
//	BENCH_OPERATOR_ARGS    extra operator flags, space separated (a later flag wins)
//	BENCH_SIDECAR_ARGS     extra sidecar flags, space separated
//	BENCH_SUBJECTS         what to measure (default "operator naive sidecar"),
//	                       or "floor" alone: what the machine allows at all (see floor.go)
//	BENCH_RATE             creates per second in phases a and c (default 20)
//	BENCH_RATE_FOR         how long (default 10s)
//	BENCH_BURST            items in the burst of phase b (default 2000)
//	BENCH_BURST_BATCH      items per POST in the burst (default 2000: one POST)
//	BENCH_PROXY            on (default): the operator and the naive mirror reach
//	                       the API server through a counting proxy in the harness,
//	                       which measures the bytes of ConfigMap writes; off: direct,
//	                       bytes n/a
//	BENCH_IDLE             idle window measuring the API server's CPU at rest (default 10s)
//	BENCH_READY_TIMEOUT    deadline for a mirror to be in sync after attach (default 2m)
//	BENCH_PHASE_TIMEOUT    deadline for a phase, from its first create (default 5m)
//	BENCH_OUT              where the table is written (default bin/bench.md;
//	                       bin/bench-floor.md for the floor)
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

const (
	namespace  = "bench-latency"
	secretName = "directus"
)

// The subjects, as BENCH_SUBJECTS names them. The operator and the sidecar
// are also the directus-operator subcommands that run them.
const (
	subjectOperator = "operator"
	subjectNaive    = "naive"
	subjectSidecar  = "sidecar"
	// subjectFloor is not a subject but a mode: it runs the second
	// subscriber and then the control plane's write-to-watch loops.
	subjectFloor = "floor"
	// subjectSecond is a second raw subscriber, on its own socket,
	// subscribed after the first: the floor's Directus part.
	subjectSecond = "subscriber2"
)

func logf(format string, args ...any) { benchkit.Logf(format, args...) }

var errDeadline = errors.New("deadline exceeded")

type config struct {
	directusPort  int
	directusState string
	directusEnv   []string
	operatorArgs  []string
	sidecarArgs   []string
	subjects      []string
	floor         bool // BENCH_SUBJECTS=floor
	rate          int
	rateFor       time.Duration
	burst         int
	burstBatch    int
	proxy         bool
	idle          time.Duration
	readyTimeout  time.Duration
	phaseTimeout  time.Duration
	out           string
}

// envInt reads a whole number of at least 1 from the environment variable
// name, def when it is unset.
func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a whole number of at least 1", name, v)
	}
	return n, nil
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration such as 30s", name, v)
	}
	return d, nil
}

func loadConfig(root string) (config, error) {
	var c config
	var err error
	if c.directusPort, err = envInt("BENCH_DIRECTUS_PORT", 8166); err != nil {
		return c, err
	}
	c.directusState = os.Getenv("BENCH_DIRECTUS_STATE")
	if c.directusState == "" {
		c.directusState = fmt.Sprintf("%s/directus-operator-bench-latency-%d", os.TempDir(), c.directusPort)
	}
	c.directusEnv = strings.Fields(os.Getenv("BENCH_DIRECTUS_ENV"))
	c.operatorArgs = strings.Fields(os.Getenv("BENCH_OPERATOR_ARGS"))
	c.sidecarArgs = strings.Fields(os.Getenv("BENCH_SIDECAR_ARGS"))
	c.subjects = strings.Fields(strings.ReplaceAll(os.Getenv("BENCH_SUBJECTS"), ",", " "))
	if len(c.subjects) == 0 {
		c.subjects = []string{subjectOperator, subjectNaive, subjectSidecar}
	}
	if slices.Contains(c.subjects, subjectFloor) {
		if len(c.subjects) != 1 {
			return c, fmt.Errorf("BENCH_SUBJECTS: floor runs alone")
		}
		c.floor, c.subjects = true, []string{subjectSecond}
	}
	for _, s := range c.subjects {
		if s != subjectOperator && s != subjectNaive && s != subjectSidecar && !c.floor {
			return c, fmt.Errorf("BENCH_SUBJECTS: %q: want operator, naive, sidecar, or floor alone", s)
		}
	}
	if c.rate, err = envInt("BENCH_RATE", 20); err != nil {
		return c, err
	}
	if c.rateFor, err = envDuration("BENCH_RATE_FOR", 10*time.Second); err != nil {
		return c, err
	}
	if c.burst, err = envInt("BENCH_BURST", 2000); err != nil {
		return c, err
	}
	if c.burstBatch, err = envInt("BENCH_BURST_BATCH", c.burst); err != nil {
		return c, err
	}
	switch v := os.Getenv("BENCH_PROXY"); v {
	case "", "on", "1", "true":
		c.proxy = true
	case "off", "0", "false":
	default:
		return c, fmt.Errorf("BENCH_PROXY=%q: want on or off", v)
	}
	if c.idle, err = envDuration("BENCH_IDLE", 10*time.Second); err != nil {
		return c, err
	}
	if c.readyTimeout, err = envDuration("BENCH_READY_TIMEOUT", 2*time.Minute); err != nil {
		return c, err
	}
	if c.phaseTimeout, err = envDuration("BENCH_PHASE_TIMEOUT", 5*time.Minute); err != nil {
		return c, err
	}
	c.out = os.Getenv("BENCH_OUT")
	if c.out == "" {
		c.out = filepath.Join(root, "bin", "bench.md")
		if c.floor {
			c.out = filepath.Join(root, "bin", "bench-floor.md")
		}
	}
	return c, nil
}

// harness holds what the phases share.
type harness struct {
	cfg         config
	root, work  string
	bin         string
	k8s         client.Client
	cs          kubernetes.Interface
	dx          *directus
	proxy       *countingProxy
	op          *proc
	metricsAddr string
	apiPID      int
	etcdPID     int
	raw         *realtime.Client
	cleanups    *[]func() // run in reverse order when the harness ends
}

// phaseSpec is one phase of the workload.
type phaseSpec struct {
	id    string // a, b, c
	coll  string // the collection's suffix: a phase that continues another uses its collection
	burst bool
	fresh bool // attach a new mirror to an empty collection
}

var phases = []phaseSpec{
	{id: "a", coll: "a", fresh: true},
	{id: "b", coll: "b", burst: true, fresh: true},
	{id: "c", coll: "b"},
}

// phaseResult is what one subject did in one phase.
type phaseResult struct {
	items    int
	diffs    []time.Duration // target − raw subscriber, per item both saw, sorted
	complete time.Duration   // when the target had all − when the raw subscriber had all
	sent     time.Duration   // from the first create sent to the last answered
	dur      time.Duration   // from the first create sent to the target holding all
	writes   int             // target writes (watch events, or index.json writes)

	stats   writeStats // through the proxy
	statsOK bool
	usage

	opWrites   float64 // the operator's own count of successful ConfigMap writes
	opWritesOK bool
	reconnects float64 // the operator's directus_operator_reconnects_total

	retries int64 // creates Directus shed (503/429) and the harness retried
}

// usage is what the control plane and the machine spent between two
// samples.
type usage struct {
	apiCPU  time.Duration
	etcdCPU time.Duration
	cpuOK   bool

	busy, others float64 // share of the machine's CPU busy, and used by processes outside the benchmark
	busyOK       bool
}

type results struct {
	cfg      config
	commit   string
	directus string
	started  bool

	idle     time.Duration // the idle window measured
	idleAPI  time.Duration // API-server CPU during it
	idleEtcd time.Duration
	idleOK   bool

	loadBefore, loadAfter string // /proc/loadavg at the start and at the end

	mu     sync.Mutex
	byID   map[string]*phaseResult // subject + "/" + phase
	writes []*writeRun             // the floor's write-to-watch loops
	note   []string
}

func (r *results) set(subject, phase string, pr *phaseResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[subject+"/"+phase] = pr
}

func (r *results) get(subject, phase string) *phaseResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[subject+"/"+phase]
}

func main() { os.Exit(run()) }

func run() int {
	root := envtestutil.RepoRoot()
	cfg, err := loadConfig(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	ctrllog.SetLogger(logr.Discard())
	klog.SetLogger(logr.Discard()) // client-go: a watch the harness ends is not news
	ctx, stopSignals := benchkit.SignalContext()
	defer stopSignals()

	var cleanups []func()
	defer func() {
		for _, cleanup := range slices.Backward(cleanups) {
			cleanup()
		}
	}()
	res := &results{cfg: cfg, commit: benchkit.GitCommit(root), byID: map[string]*phaseResult{}, loadBefore: loadAvg()}
	logf("/proc/loadavg: %s", res.loadBefore)
	err = bench(ctx, root, cfg, res, &cleanups)
	res.loadAfter = loadAvg()
	logf("/proc/loadavg: %s", res.loadAfter)
	render := res.render
	if cfg.floor {
		render = res.renderFloor
	}
	return benchkit.Finish(ctx, res.started, render, cfg.out, err)
}

func bench(ctx context.Context, root string, cfg config, res *results, cleanups *[]func()) error {
	h := &harness{cfg: cfg, root: root, cleanups: cleanups}
	var err error
	if h.work, err = os.MkdirTemp("", "directus-operator-bench-latency-"); err != nil {
		return err
	}
	logf("work directory %s", h.work)

	// 1. The operator binary first: a compile error should not wait for
	// Directus.
	if slices.Contains(cfg.subjects, subjectOperator) || slices.Contains(cfg.subjects, subjectSidecar) {
		logf("building the operator (go build ./cmd)")
		if h.bin, err = benchkit.BuildOperator(ctx, root, h.work); err != nil {
			return err
		}
		h.onExit(func() { _ = os.Remove(h.bin) }) // ~50 MB; the logs stay
	}

	// 2. The control plane, with the CRD installed.
	cp, err := h.startControlPlane()
	if err != nil {
		return err
	}

	// 3. Directus, and a fresh collection per subject and phase.
	if err := h.startDirectus(ctx, res); err != nil {
		return err
	}

	// 4. The harness's own clients (direct, admin), namespace and Secret.
	scheme, err := h.setUpClients(ctx, cp.admin)
	if err != nil {
		return err
	}

	// 5. The operator, as a subprocess.
	if slices.Contains(cfg.subjects, subjectOperator) {
		if err := h.startOperator(ctx, cp.kubeconfigPath); err != nil {
			return err
		}
	}

	// 6. The raw subscriber: one socket, one subscription per collection.
	if err := h.connectRaw(ctx); err != nil {
		return err
	}

	// 7. The API server at rest, for the baseline.
	res.started = true
	if h.apiPID > 0 {
		if err := h.measureIdle(ctx, res); err != nil {
			return err
		}
	}

	// 8. The phases, one subject at a time.
	for _, name := range cfg.subjects {
		s, err := h.newSubject(name, cp.naive, scheme)
		if err != nil {
			return err
		}
		if err := runSubject(ctx, h, s, res); err != nil {
			return err
		}
	}
	if cfg.floor {
		return runWriteLoops(ctx, h, res)
	}
	return nil
}

// onExit registers f to run when the harness ends, after what was
// registered later.
func (h *harness) onExit(f func()) { *h.cleanups = append(*h.cleanups, f) }

// controlPlane is how the harness and the subjects reach the API server.
type controlPlane struct {
	admin          *rest.Config // the harness's own access: direct, admin
	naive          *rest.Config // the naive mirror's: the operator's user, through the proxy when there is one
	kubeconfigPath string       // the operator's, as naive
}
