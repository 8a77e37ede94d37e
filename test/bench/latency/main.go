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
//	BENCH_SUBJECTS         what to measure (default "operator naive sidecar")
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
//	BENCH_OUT              where the table is written (default bin/bench.md)
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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
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
	for _, s := range c.subjects {
		if s != subjectOperator && s != subjectNaive && s != subjectSidecar {
			return c, fmt.Errorf("BENCH_SUBJECTS: %q: want operator, naive or sidecar", s)
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
	apiCPU  time.Duration
	etcdCPU time.Duration
	cpuOK   bool

	opWrites   float64 // the operator's own count of successful ConfigMap writes
	opWritesOK bool
	reconnects float64 // the operator's directus_operator_reconnects_total

	busy, others float64 // share of the machine's CPU busy, and used by processes outside the benchmark
	busyOK       bool
	retries      int64 // creates Directus shed (503/429) and the harness retried
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

	mu   sync.Mutex
	byID map[string]*phaseResult // subject + "/" + phase
	note []string
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
	res := &results{cfg: cfg, commit: benchkit.GitCommit(root), byID: map[string]*phaseResult{}}
	err = bench(ctx, root, cfg, res, &cleanups)
	return benchkit.Finish(ctx, res.started, res.render, cfg.out, err)
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

// startControlPlane starts envtest, finds its API server and etcd for the
// CPU figures, and adds the user the operator and the naive mirror connect
// as (through the counting proxy unless BENCH_PROXY=off).
func (h *harness) startControlPlane() (controlPlane, error) {
	logf("starting the control plane (envtest)")
	env, restCfg, err := envtestutil.Start()
	if err != nil {
		return controlPlane{}, err
	}
	h.onExit(func() {
		if err := env.Stop(); err != nil {
			logf("stop the control plane: %v", err)
		}
	})
	if h.apiPID, err = childByName(os.Getpid(), "kube-apiserver"); err != nil {
		logf("API-server CPU will be n/a: %v", err)
	}
	if h.etcdPID, err = childByName(os.Getpid(), "etcd"); err != nil {
		logf("etcd CPU will be n/a: %v", err)
	}
	user, err := env.AddUser(envtest.User{Name: "bench-operator", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return controlPlane{}, fmt.Errorf("add a control-plane user for the operator: %w", err)
	}
	kubeconfig, naiveCfg, err := h.userAccess(user)
	if err != nil {
		return controlPlane{}, err
	}
	kubeconfigPath := filepath.Join(h.work, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return controlPlane{}, err
	}
	return controlPlane{admin: restCfg, naive: naiveCfg, kubeconfigPath: kubeconfigPath}, nil
}

// userAccess is the kubeconfig of user for the operator, and the rest
// config for the naive mirror: through the counting proxy, which it starts,
// when BENCH_PROXY is on, else direct.
func (h *harness) userAccess(user *envtest.AuthenticatedUser) ([]byte, *rest.Config, error) {
	if !h.cfg.proxy {
		kubeconfig, err := user.KubeConfig()
		if err != nil {
			return nil, nil, err
		}
		return kubeconfig, rest.CopyConfig(user.Config()), nil
	}
	var err error
	if h.proxy, err = startProxy(user.Config()); err != nil {
		return nil, nil, fmt.Errorf("start the counting proxy: %w", err)
	}
	h.onExit(h.proxy.Close)
	kubeconfig := kubeconfigFor(h.proxy.url)
	naiveCfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	logf("the operator and the naive mirror reach the API server through %s (counts ConfigMap writes)", h.proxy.url)
	return kubeconfig, naiveCfg, nil
}

// startDirectus starts a real Directus and creates a fresh collection for
// each subject and phase that needs one.
func (h *harness) startDirectus(ctx context.Context, res *results) error {
	cfg := h.cfg
	logf("starting a real Directus on port %d (state %s)", cfg.directusPort, cfg.directusState)
	var err error
	if h.dx, err = startDirectus(ctx, h.root, cfg.directusPort, cfg.directusState, cfg.directusEnv); err != nil {
		return err
	}
	h.onExit(h.dx.Stop)
	res.directus = fmt.Sprintf("real Directus (hack/directus.sh) at %s", h.dx.URL())
	var colls []string
	for _, s := range cfg.subjects {
		for _, ph := range subjectPhases(s) {
			if ph.fresh {
				colls = append(colls, collectionName(s, ph))
			}
		}
	}
	if err := h.dx.createCollections(ctx, colls); err != nil {
		return err
	}
	logf("created collections %s", strings.Join(colls, ", "))
	return nil
}

// setUpClients makes the harness's own clients (direct, admin), and the
// namespace and the Secret with the bot's token. It returns the scheme the
// clients use.
func (h *harness) setUpClients(ctx context.Context, admin *rest.Config) (*k8sruntime.Scheme, error) {
	harnessCfg := rest.CopyConfig(admin)
	harnessCfg.QPS, harnessCfg.Burst = 1000, 2000
	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	var err error
	if h.k8s, err = client.New(harnessCfg, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	if h.cs, err = kubernetes.NewForConfig(harnessCfg); err != nil {
		return nil, err
	}
	if err := h.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return nil, err
	}
	if err := h.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: namespace},
		StringData: map[string]string{"token": h.dx.Token()},
	}); err != nil {
		return nil, err
	}
	return scheme, nil
}

// startOperator runs the operator as a subprocess, on free metrics and
// probe ports unless BENCH_OPERATOR_ARGS says otherwise, and waits until it
// is healthy.
func (h *harness) startOperator(ctx context.Context, kubeconfigPath string) error {
	metricsPort, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	probePort, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	args := slices.Concat([]string{subjectOperator, "--leader-elect=false",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort)},
		h.cfg.operatorArgs)
	h.metricsAddr, _ = benchkit.FlagValue(args, "metrics-bind-address")
	probeAddr, _ := benchkit.FlagValue(args, "health-probe-bind-address")
	logf("operator flags: %s", strings.Join(args[1:], " "))
	logPath := filepath.Join(h.work, "operator.log")
	if h.op, err = startProc(subjectOperator, h.bin, args, []string{"KUBECONFIG=" + kubeconfigPath}, logPath); err != nil {
		return err
	}
	h.onExit(func() { h.op.Terminate(10 * time.Second) })
	if err := h.op.waitOK(ctx, "http://"+benchkit.Loopback(probeAddr)+"/healthz", 2*time.Minute); err != nil {
		return err
	}
	logf("operator up (pid %d), log %s", h.op.PID(), h.op.LogPath)
	return nil
}

// connectRaw connects the raw subscriber.
func (h *harness) connectRaw(ctx context.Context) error {
	var err error
	if h.raw, err = realtime.New(h.realtimeOptions("raw subscriber")); err != nil {
		return err
	}
	if err := h.raw.Connect(ctx); err != nil {
		return fmt.Errorf("raw subscriber: connect: %w", err)
	}
	h.onExit(func() { _ = h.raw.Close() })
	return nil
}

// measureIdle measures the API server's and etcd's CPU at rest over the
// idle window, into res.
func (h *harness) measureIdle(ctx context.Context, res *results) error {
	logf("idle window: %s (the API server's CPU at rest)", h.cfg.idle)
	a0, e0 := cpuOrZero(h.apiPID), cpuOrZero(h.etcdPID)
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(h.cfg.idle):
	}
	res.idle = time.Since(t0)
	res.idleAPI, res.idleEtcd = cpuOrZero(h.apiPID)-a0, cpuOrZero(h.etcdPID)-e0
	res.idleOK = true
	logf("idle: API server %s, etcd %s of CPU in %s", ms(res.idleAPI), ms(res.idleEtcd), ms(res.idle))
	return nil
}

// newSubject makes the subject called name. The naive mirror gets its own
// client, with no client-side rate limit, from naiveCfg.
func (h *harness) newSubject(name string, naiveCfg *rest.Config, scheme *k8sruntime.Scheme) (subject, error) {
	switch name {
	case subjectOperator:
		return &operatorSubject{h: h, stops: map[string]func(){}}, nil
	case subjectNaive:
		c, err := client.New(withoutRateLimit(naiveCfg), client.Options{Scheme: scheme})
		if err != nil {
			return nil, err
		}
		return &naiveSubject{h: h, client: c, runs: map[string]*naiveRun{}}, nil
	case subjectSidecar:
		return &sidecarSubject{h: h, runs: map[string]*sidecarRun{}}, nil
	}
	return nil, fmt.Errorf("unknown subject %q", name)
}

// realtimeOptions are the options of the harness's own realtime clients
// (the raw subscriber, the naive mirror): the bot's token, and a patient
// heartbeat. On this 2-core machine Directus can be busy for tens of
// seconds with a 2,000-item POST; a client that dropped the socket then
// would lose messages (Directus replays nothing) and the phase could not
// be timed. The operator keeps its defaults: what it does then is part of
// what is measured.
func (h *harness) realtimeOptions(who string) realtime.Options {
	return realtime.Options{
		URL:          h.dx.URL(),
		Auth:         realtime.Auth{AccessToken: h.dx.Token()},
		PingInterval: 30 * time.Second,
		PongTimeout:  5 * time.Minute,
		AuthTimeout:  time.Minute,
		OnEvent: func(e realtime.Event) {
			switch e.Kind {
			case realtime.EventReconnecting, realtime.EventGaveUp:
				logf("%s: %s (%v)", who, e.Kind, e.Err)
			}
		},
	}
}

func withoutRateLimit(c *rest.Config) *rest.Config {
	c = rest.CopyConfig(c)
	c.QPS, c.Burst = 10000, 20000
	return c
}

func cpuOrZero(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	d, err := cpuTime(pid)
	if err != nil {
		return 0
	}
	return d
}

// subjectPhases are the phases a subject runs: the sidecar's target is
// phase a's only.
func subjectPhases(subject string) []phaseSpec {
	if subject == subjectSidecar {
		return phases[:1]
	}
	return phases
}

func collectionName(subject string, ph phaseSpec) string {
	return fmt.Sprintf("bench_%s_%s", subject, ph.coll)
}

// runSubject runs the phases for one subject. For a fresh phase, the raw
// subscriber subscribes first and the subject is attached only after the
// raw subscription's init arrived.
func runSubject(ctx context.Context, h *harness, s subject, res *results) error {
	var raw, target *tracker
	var detach []func()
	undo := func() {
		for _, f := range slices.Backward(detach) {
			f()
		}
		detach = nil
	}
	defer undo()
	for _, ph := range subjectPhases(s.name()) {
		coll := collectionName(s.name(), ph)
		if ph.fresh {
			undo()
			var stopRaw func()
			var err error
			if raw, stopRaw, err = subscribeRaw(ctx, h.raw, coll, 30*time.Second); err != nil {
				return err
			}
			detach = append(detach, stopRaw)
			logf("%s: raw subscriber subscribed to %s (init received); attaching the %s", s.name(), coll, s.name())
			t0 := time.Now()
			if target, err = s.attach(ctx, coll); err != nil {
				s.detach(coll)
				return fmt.Errorf("%s: attach to %s: %w", s.name(), coll, err)
			}
			detach = append(detach, func() { s.detach(coll) })
			logf("%s: mirror of %s in sync after %s", s.name(), coll, ms(time.Since(t0)))
		}
		pr, err := runPhase(ctx, h, s, ph, coll, raw, target)
		if pr != nil {
			res.set(s.name(), ph.id, pr)
		}
		if err != nil {
			return fmt.Errorf("%s, phase %s: %w", s.name(), ph.id, err)
		}
	}
	return nil
}

// sample is what the harness reads at a phase's start and end.
type sample struct {
	api, etcd  time.Duration
	cpuOK      bool
	stats      writeStats
	writes     int
	opWrites   float64
	opWritesOK bool
	reconnects float64
	retries    int64

	machineTotal, machineBusy int64 // /proc/stat ticks, all CPUs
	ours                      time.Duration
	machineOK                 bool
}

func takeSample(h *harness, s subject, coll string, target *tracker) sample {
	var sm sample
	if h.apiPID > 0 {
		a, err1 := cpuTime(h.apiPID)
		e, err2 := cpuTime(h.etcdPID)
		sm.api, sm.etcd, sm.cpuOK = a, e, err1 == nil && err2 == nil
	}
	if h.proxy != nil && s.configMap(coll) != "" {
		h.proxy.settle(5 * time.Second)
		sm.stats = h.proxy.stats(s.configMap(coll))
	}
	sm.writes = target.writeCount()
	if s.name() == subjectOperator {
		if samples, ok := scrapeMetrics(h.metricsAddr); ok {
			sm.opWrites, sm.opWritesOK = sumSeries(samples, "directus_operator_target_writes_total", `target="configmap"`, `result="success"`)
			sm.reconnects, _ = sumSeries(samples, "directus_operator_reconnects_total")
		}
	}
	sm.retries = h.dx.retries.Load()
	if total, busy, err := machineTicks(); err == nil {
		sm.machineTotal, sm.machineBusy, sm.machineOK = total, busy, true
		// This benchmark's processes: the harness (with the naive mirror,
		// the proxy and the watches), and its children: the control plane,
		// the operator, the sidecar; and Directus (started by setsid, so
		// not a child).
		sm.ours = treeCPU(os.Getpid())
		if h.dx.PID() > 0 {
			sm.ours += treeCPU(h.dx.PID())
		}
	}
	return sm
}

// untilFailed ends with ctx or when the subject fails (the operator or the
// sidecar exits, the naive loop fails), checked every 100 ms.
func untilFailed(ctx context.Context, s subject) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancelCause(ctx)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-c.Done():
				return
			case <-tick.C:
				if err := s.failed(); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	return c, func() { cancel(nil) }
}

func runPhase(ctx context.Context, h *harness, s subject, ph phaseSpec, coll string, raw, target *tracker) (*phaseResult, error) {
	pctx, cancel := context.WithTimeoutCause(ctx, h.cfg.phaseTimeout, errDeadline)
	defer cancel()
	pctx, stop := untilFailed(pctx, s)
	defer stop()
	what := fmt.Sprintf("%d creates/s for %s", h.cfg.rate, h.cfg.rateFor)
	if ph.burst {
		what = fmt.Sprintf("a burst of %d items", h.cfg.burst)
	}
	logf("%s, phase %s: %s into %s", s.name(), ph.id, what, coll)

	before := takeSample(h, s, coll, target)
	t0 := time.Now()
	var keys []string
	var err error
	if ph.burst {
		keys, err = burst(pctx, h, coll, fmt.Sprintf("%s %s", s.name(), ph.id))
	} else {
		keys, err = fixedRate(pctx, h, coll, fmt.Sprintf("%s %s", s.name(), ph.id))
	}
	sent := time.Since(t0)
	if err != nil {
		return nil, phaseErr(pctx, "create items", err)
	}
	if err := raw.waitAll(pctx, keys); err != nil {
		return nil, phaseErr(pctx, fmt.Sprintf("the raw subscriber saw %d of %d items", len(keys)-raw.missing(keys), len(keys)), err)
	}
	if err := target.waitAll(pctx, keys); err != nil {
		return nil, phaseErr(pctx, fmt.Sprintf("the %s's target holds %d of %d items", s.name(), len(keys)-target.missing(keys), len(keys)), err)
	}
	end := time.Now()
	after := takeSample(h, s, coll, target)

	pr := &phaseResult{items: len(keys), sent: sent, dur: end.Sub(t0), writes: after.writes - before.writes,
		retries: after.retries - before.retries}
	rawT, tgtT := raw.times(keys), target.times(keys)
	var lastRaw, lastTgt time.Time
	for i := range keys {
		pr.diffs = append(pr.diffs, tgtT[i].Sub(rawT[i]))
		if rawT[i].After(lastRaw) {
			lastRaw = rawT[i]
		}
		if tgtT[i].After(lastTgt) {
			lastTgt = tgtT[i]
		}
	}
	slices.Sort(pr.diffs)
	pr.complete = lastTgt.Sub(lastRaw)
	if h.proxy != nil && s.configMap(coll) != "" {
		pr.stats, pr.statsOK = after.stats.minus(before.stats), true
	}
	if before.cpuOK && after.cpuOK {
		pr.apiCPU, pr.etcdCPU, pr.cpuOK = after.api-before.api, after.etcd-before.etcd, true
	}
	if before.opWritesOK && after.opWritesOK {
		pr.opWrites, pr.opWritesOK = after.opWrites-before.opWrites, true
		pr.reconnects = after.reconnects - before.reconnects
	}
	if before.machineOK && after.machineOK && after.machineTotal > before.machineTotal {
		total := float64(after.machineTotal - before.machineTotal)
		busy := float64(after.machineBusy - before.machineBusy)
		ours := float64((after.ours-before.ours)*clockTicks) / float64(time.Second)
		pr.busy, pr.others, pr.busyOK = busy/total, max(busy-ours, 0)/total, true
	}
	logf("%s, phase %s: %d items; after the raw subscriber p50 %s, p99 %s; all %s after; %d writes; API server %s CPU",
		s.name(), ph.id, pr.items, ms(pct(pr.diffs, 0.5)), ms(pct(pr.diffs, 0.99)), ms(pr.complete), pr.writes, ms(pr.apiCPU))
	return pr, nil
}

// phaseErr names why a phase stopped: the deadline, the subject failing,
// an interrupt, or err.
func phaseErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return fmt.Errorf("%s: %w", what, cause)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// fixedRate creates rate items per second for rateFor, one REST POST each,
// on a fixed schedule (an open loop: a slow answer does not delay the next
// create; at most 16 are in flight). It returns the created keys.
func fixedRate(ctx context.Context, h *harness, coll, label string) ([]string, error) {
	n := int(float64(h.cfg.rate) * h.cfg.rateFor.Seconds())
	keys := make([]string, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(h.cfg.rate))
	defer tick.Stop()
	for i := range n {
		if i > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return nil, ctx.Err()
			case <-tick.C: // the workload's pace
			}
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			k, err := h.dx.createOne(ctx, coll, benchItem(label, i))
			if err != nil {
				errs <- err
				return
			}
			keys[i] = k
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return keys, nil
}

// burst creates h.cfg.burst items in POSTs of h.cfg.burstBatch items.
func burst(ctx context.Context, h *harness, coll, label string) ([]string, error) {
	var keys []string
	for from := 0; from < h.cfg.burst; from += h.cfg.burstBatch {
		to := min(from+h.cfg.burstBatch, h.cfg.burst)
		items := make([]map[string]any, 0, to-from)
		for i := from; i < to; i++ {
			items = append(items, benchItem(label, i))
		}
		k, err := h.dx.createMany(ctx, coll, items)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	return keys, nil
}
