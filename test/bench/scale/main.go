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

// Command scale is the operator's scale benchmark (make bench-scale). It is
// a benchmark, not a test: it prints a table of what it measured next to
// the targets, and fails only when the harness itself cannot go on (a
// setup error, an interrupt, or a phase that did not finish before its
// deadline; the table then shows what was reached).
//
// It starts a local control plane (envtest) and a Directus (a real one from
// hack/directus.sh, or the in-repo fake), seeds two messages per
// subscription, builds the operator and runs it as a subprocess, creates N
// DirectusSubscriptions at once, and measures: the time until all are
// Ready; the operator's RSS, goroutines and TCP sockets to Directus;
// Directus's RSS; then, after a SIGTERM and a restart of the operator, the
// time until every status is Ready and correct again (written by the new
// process, with the right item count and ConfigMap), and how many are not
// Ready after a settle window.
//
// Environment:
//
//	BENCH_SUBSCRIPTIONS    N (default 1000)
//	BENCH_DIRECTUS         real (default) or fake
//	BENCH_DIRECTUS_PORT    the real Directus's port (default 8156)
//	BENCH_DIRECTUS_STATE   its state directory (default /tmp/directus-operator-bench-<port>)
//	BENCH_DIRECTUS_ENV     extra Directus variables, space separated K=V (the
//	                       harness's own environment also passes through)
//	BENCH_OPERATOR_ARGS    extra operator flags, space separated
//	BENCH_WORKERS          parallel creates (default 16)
//	BENCH_SETTLE           settle window after the restart (default 30s)
//	BENCH_READY_TIMEOUT    deadline for all Ready after apply (default 2m + 300ms per subscription)
//	BENCH_RESTART_TIMEOUT  deadline for all correct after the restart (default 1m + 100ms per subscription)
//	BENCH_OUT              where the table is written (default bin/bench-scale.md)
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

const (
	namespace  = "bench-scale"
	secretName = "directus"

	// BENCH_DIRECTUS values.
	modeReal = "real"
	modeFake = "fake"

	// stateConnected is the directus_operator_connections state of an
	// open, subscribed socket.
	stateConnected = "Connected"

	// defaultSubsPerSocket is the operator's --max-subscriptions-per-connection
	// default: subscriptions with the same Directus identity share a socket,
	// up to this many on each.
	defaultSubsPerSocket = 100
)

func logf(format string, args ...any) { benchkit.Logf(format, args...) }

func seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

type config struct {
	n               int
	mode            string
	directusPort    int
	directusState   string
	directusEnv     []string
	operatorArgs    []string
	workers         int
	settle          time.Duration
	readyTimeout    time.Duration
	restartTimeout  time.Duration
	shutdownTimeout time.Duration
	out             string
}

func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a positive integer", name, v)
	}
	return n, nil
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 30s", name, v)
	}
	return d, nil
}

func loadConfig(root string) (config, error) {
	var c config
	var err error
	if c.n, err = envInt("BENCH_SUBSCRIPTIONS", 1000); err != nil {
		return c, err
	}
	c.mode = os.Getenv("BENCH_DIRECTUS")
	if c.mode == "" {
		c.mode = modeReal
	}
	if c.mode != modeReal && c.mode != modeFake {
		return c, fmt.Errorf("BENCH_DIRECTUS=%q: want real or fake", c.mode)
	}
	if c.directusPort, err = envInt("BENCH_DIRECTUS_PORT", 8156); err != nil {
		return c, err
	}
	c.directusState = os.Getenv("BENCH_DIRECTUS_STATE")
	if c.directusState == "" {
		c.directusState = fmt.Sprintf("%s/directus-operator-bench-%d", os.TempDir(), c.directusPort)
	}
	c.directusEnv = strings.Fields(os.Getenv("BENCH_DIRECTUS_ENV"))
	c.operatorArgs = strings.Fields(os.Getenv("BENCH_OPERATOR_ARGS"))
	if c.workers, err = envInt("BENCH_WORKERS", 16); err != nil {
		return c, err
	}
	if c.settle, err = envDuration("BENCH_SETTLE", 30*time.Second); err != nil {
		return c, err
	}
	perSub := func(base, each time.Duration) time.Duration { return base + time.Duration(c.n)*each }
	if c.readyTimeout, err = envDuration("BENCH_READY_TIMEOUT", perSub(2*time.Minute, 300*time.Millisecond)); err != nil {
		return c, err
	}
	if c.restartTimeout, err = envDuration("BENCH_RESTART_TIMEOUT", perSub(time.Minute, 100*time.Millisecond)); err != nil {
		return c, err
	}
	c.shutdownTimeout = time.Minute
	c.out = os.Getenv("BENCH_OUT")
	if c.out == "" {
		c.out = filepath.Join(root, "bin", "bench-scale.md")
	}
	return c, nil
}

// figures are the "settled" process figures; a zero ok means n/a.
type figures struct {
	rss          int64
	rssOK        bool
	goroutines   float64
	goroutinesOK bool
	connections  map[string]float64 // directus_operator_connections (sockets) by state
	apiRequests  map[string]float64 // rest_client_requests_total by method, since the process started
	sockets      int
	socketsOK    bool
	dxRSS        int64
	dxRSSOK      bool
}

type results struct {
	cfg      config
	directus string
	commit   string
	// subsPerSocket is the operator's --max-subscriptions-per-connection
	// (its last value in the flags, else the default).
	subsPerSocket int

	created              time.Duration
	applyStarted         bool
	applyReady           time.Duration
	applyReached         bool
	applyCounts          counts
	afterApply           figures
	shutdown             time.Duration
	shutdownDone, killed bool
	restartStarted       bool
	restartReady         time.Duration
	restartReached       bool
	restartCounts        counts
	// What happened between the SIGTERM and all correct: subscriptions
	// seen not Ready at some moment, and the updates seen by watch.
	restartLost                  int
	shutdownSubWrites            int
	restartSubWrites, restartCMs int
	// The latest status.connection.since and status.lastSyncTime when all
	// were correct, after the restarted process's start (whole seconds).
	restartLastSocket, restartLastSync time.Duration
	settleDone                         bool
	settleLost                         int
	settleCounts                       counts
	afterRestart                       figures
	restartedLog, firstLog             string
}

func main() { os.Exit(run()) }

func run() int {
	root := envtestutil.RepoRoot()
	cfg, err := loadConfig(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	ctrllog.SetLogger(logr.Discard()) // the harness's informers; the operator logs to its own files
	ctx, stopSignals := benchkit.SignalContext()
	defer stopSignals()

	var cleanups []func()
	defer func() {
		for _, cleanup := range slices.Backward(cleanups) {
			cleanup()
		}
	}()
	res := &results{cfg: cfg, commit: benchkit.GitCommit(root)}
	err = bench(ctx, root, cfg, res, &cleanups)
	return benchkit.Finish(ctx, res.applyStarted, res.render, cfg.out, err)
}

var errDeadline = errors.New("deadline exceeded")

// harness is what the phases of one benchmark run share.
type harness struct {
	cfg      config
	res      *results
	cleanups *[]func()

	work        string // the temp directory: binary, kubeconfig, operator logs
	bin         string // the operator binary
	kubeconfig  string // for the operator
	dx          directus
	expected    map[string]expectation // by subscription name
	k8s         client.Client          // the harness's own client
	tr          *tracker
	bearer      string // for an https metrics endpoint
	args        []string
	metricsAddr string
	probeAddr   string
	fresh       time.Time // the earliest status time that counts as written by the restarted operator
}

// atExit registers a cleanup; they run in reverse order when run returns.
func (h *harness) atExit(f func()) { *h.cleanups = append(*h.cleanups, f) }

// bench runs the phases in order: set up, start the operator, apply N
// subscriptions, restart the operator, settle. A restart that misses its
// deadline still goes through the settle window (to show what the
// restarted operator does); its error is returned at the end.
func bench(ctx context.Context, root string, cfg config, res *results, cleanups *[]func()) error {
	h := &harness{cfg: cfg, res: res, cleanups: cleanups}
	if err := h.setUp(ctx, root); err != nil {
		return err
	}
	op, err := h.startFirstOperator(ctx)
	if err != nil {
		return err
	}
	if err := h.apply(ctx, op); err != nil {
		return err
	}
	op2, restartErr, err := h.restart(ctx, op)
	if err != nil {
		return err
	}
	if err := h.settle(ctx, op2); err != nil {
		return err
	}
	return restartErr
}

// setUp builds the operator, starts the control plane and Directus, seeds
// Directus, and starts the harness's client and informers.
func (h *harness) setUp(ctx context.Context, root string) error {
	var err error
	if h.work, err = os.MkdirTemp("", "directus-operator-bench-"); err != nil {
		return err
	}
	logf("N=%d, Directus %s, work directory %s", h.cfg.n, h.cfg.mode, h.work)

	// The operator binary first: a compile error should not wait for
	// Directus.
	logf("building the operator (go build ./cmd)")
	if h.bin, err = benchkit.BuildOperator(ctx, root, h.work); err != nil {
		return err
	}
	h.atExit(func() { _ = os.Remove(h.bin) })

	restCfg, err := h.startControlPlane()
	if err != nil {
		return err
	}
	if err := h.startDirectus(ctx, root); err != nil {
		return err
	}
	return h.startClient(ctx, restCfg)
}

// startControlPlane starts envtest with the CRD installed, and writes a
// kubeconfig for the operator (a system:masters user).
func (h *harness) startControlPlane() (*rest.Config, error) {
	logf("starting the control plane (envtest)")
	env, restCfg, err := envtestutil.Start()
	if err != nil {
		return nil, err
	}
	h.atExit(func() {
		if err := env.Stop(); err != nil {
			logf("stop the control plane: %v", err)
		}
	})
	user, err := env.AddUser(envtest.User{Name: "bench-operator", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("add a control-plane user for the operator: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	h.kubeconfig = filepath.Join(h.work, "kubeconfig")
	if err := os.WriteFile(h.kubeconfig, kc, 0o600); err != nil {
		return nil, err
	}
	return restCfg, nil
}

// startDirectus starts Directus (real or fake) and seeds two messages for
// each subscription, recording what each ConfigMap must hold.
func (h *harness) startDirectus(ctx context.Context, root string) error {
	cfg := h.cfg
	if cfg.mode == modeFake {
		h.dx = startFakeDirectus()
	} else {
		logf("starting a real Directus on port %d (state %s)", cfg.directusPort, cfg.directusState)
		dx, err := startRealDirectus(ctx, root, cfg.directusPort, cfg.directusState, cfg.directusEnv)
		if err != nil {
			return err
		}
		h.dx = dx
	}
	h.atExit(h.dx.Stop)
	h.res.directus = h.dx.Describe()
	seedStart := time.Now()
	keys, err := h.dx.Seed(ctx, cfg.n)
	if err != nil {
		return fmt.Errorf("seed Directus: %w", err)
	}
	h.expected = make(map[string]expectation, cfg.n)
	for i, k := range keys {
		if len(k) != itemsPerUser {
			return fmt.Errorf("seed Directus: user u%d has %d items, want %d", i, len(k), itemsPerUser)
		}
		e := expectation{user: fmt.Sprintf("u%d", i)}
		for _, key := range k {
			e.keys = append(e.keys, benchkit.DataKey(key))
		}
		slices.Sort(e.keys)
		h.expected[subName(i)] = e
	}
	logf("seeded %d messages in %s", cfg.n*itemsPerUser, seconds(time.Since(seedStart)))
	return nil
}

// startClient creates the harness's own client, the namespace and the
// Secret with the Directus token, and starts the informers.
func (h *harness) startClient(ctx context.Context, restCfg *rest.Config) error {
	harnessCfg := rest.CopyConfig(restCfg)
	harnessCfg.QPS, harnessCfg.Burst = 1000, 2000
	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	k8s, err := client.New(harnessCfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	h.k8s = k8s
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return err
	}
	if err := k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: namespace},
		StringData: map[string]string{"token": h.dx.Token()},
	}); err != nil {
		return err
	}
	h.bearer = metricsToken(ctx, k8s, restCfg.BearerToken)
	h.tr = newTracker(h.expected)
	trCtx, stopTracker := context.WithCancel(ctx)
	h.atExit(stopTracker)
	return h.tr.start(trCtx, harnessCfg, scheme, namespace)
}

// startFirstOperator picks the operator's flags and runs it as a
// subprocess until /healthz answers.
func (h *harness) startFirstOperator(ctx context.Context) (*operatorProc, error) {
	metricsPort, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	probePort, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	h.args = make([]string, 0, 4+len(h.cfg.operatorArgs))
	// Plain http metrics on loopback, asked for explicitly: an
	// authenticated scrape would add TokenReviews and SubjectAccessReviews
	// to the API requests the bench counts. BENCH_OPERATOR_ARGS may turn it
	// back on; scrapeMetrics then uses https and h.bearer.
	h.args = append(h.args, "--leader-elect=false",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort), "--metrics-secure=false",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort))
	h.args = append(h.args, h.cfg.operatorArgs...)
	h.metricsAddr = flagValue(h.args, "metrics-bind-address")
	h.probeAddr = flagValue(h.args, "health-probe-bind-address")
	h.res.subsPerSocket = defaultSubsPerSocket
	if v := flagValue(h.args, "max-subscriptions-per-connection"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--max-subscriptions-per-connection=%q: want a positive integer", v)
		}
		h.res.subsPerSocket = n
	}
	if strings.HasPrefix(h.probeAddr, ":") {
		h.probeAddr = "127.0.0.1" + h.probeAddr
	}
	logf("operator flags: %s", strings.Join(h.args, " "))
	h.res.firstLog = filepath.Join(h.work, "operator-1.log")
	op, err := startOperator(h.bin, h.kubeconfig, h.args, h.res.firstLog)
	if err != nil {
		return nil, err
	}
	h.atExit(func() { op.Terminate(10 * time.Second) })
	if err := op.waitHealthy(ctx, h.probeAddr, 2*time.Minute); err != nil {
		return nil, err
	}
	logf("operator up (pid %d), log %s", op.PID(), h.res.firstLog)
	return op, nil
}

// apply creates the N subscriptions with parallel workers, waits for all
// Ready, and measures the process figures.
func (h *harness) apply(ctx context.Context, op *operatorProc) error {
	cfg, res := h.cfg, h.res
	res.applyStarted = true
	start := time.Now()
	phaseCtx, endPhase := untilExit(ctx, op)
	createErr := make(chan error, 1)
	go func() {
		err := createAll(ctx, h.k8s, cfg, h.dx.URL())
		res.created = time.Since(start)
		if err != nil {
			endPhase() // no point waiting for the rest
		}
		createErr <- err
	}()
	res.applyReady, res.applyReached, res.applyCounts = h.tr.waitFor(phaseCtx, "apply", start, cfg.readyTimeout, time.Time{},
		func(c counts) bool { return c.ready == c.total },
		func(c counts) string { return fmt.Sprintf("%d/%d Ready", c.ready, c.total) })
	endPhase()
	if err := <-createErr; err != nil {
		return fmt.Errorf("create subscriptions: %w", err)
	}
	logf("apply: %d/%d Ready, %d correct, after %s (creates took %s)", res.applyCounts.ready, cfg.n,
		res.applyCounts.correct, seconds(res.applyReady), seconds(res.created))
	if !res.applyReached {
		return phaseFailed(ctx, op, "all Ready after apply", cfg.readyTimeout, res.applyCounts)
	}
	res.afterApply = measure(op, h.metricsAddr, h.bearer, h.dx)
	return nil
}

// restart sends SIGTERM, waits for the exit, starts the operator again in
// a new second (statuses carry whole seconds: a status written before the
// restart can then never pass for one written after it), and waits until
// every status is correct. missed is the error of a missed deadline, after
// which the settle window still runs; err ends the run.
func (h *harness) restart(ctx context.Context, op *operatorProc) (op2 *operatorProc, missed, err error) {
	cfg, res := h.cfg, h.res
	logf("restart: SIGTERM to the operator")
	h.tr.watchLost()
	h.tr.resetWrites()
	res.shutdown, res.killed = op.Terminate(cfg.shutdownTimeout)
	res.shutdownDone = true
	res.shutdownSubWrites, _ = h.tr.resetWrites()
	logf("operator exited after %s (killed: %v)", seconds(res.shutdown), res.killed)
	next := time.Now().Truncate(time.Second).Add(time.Second)
	select {
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-time.After(time.Until(next)):
	}
	res.restartedLog = filepath.Join(h.work, "operator-2.log")
	op2, err = startOperator(h.bin, h.kubeconfig, h.args, res.restartedLog)
	if err != nil {
		return nil, nil, err
	}
	h.atExit(func() { op2.Terminate(10 * time.Second) })
	res.restartStarted = true
	h.fresh = op2.Started.Truncate(time.Second)
	phaseCtx, endPhase := untilExit(ctx, op2)
	res.restartReady, res.restartReached, res.restartCounts = h.tr.waitFor(phaseCtx, "restart", op2.Started, cfg.restartTimeout, h.fresh,
		func(c counts) bool { return c.correct == c.total },
		func(c counts) string {
			return fmt.Sprintf("%d/%d correct (%d Ready, %d stale)", c.correct, c.total, c.ready, c.stale)
		})
	endPhase()
	res.restartLost = h.tr.lostSince()
	if since, lastSync := h.tr.latest(); res.restartReached {
		res.restartLastSocket, res.restartLastSync = since.Sub(h.fresh), lastSync.Sub(h.fresh)
	}
	res.restartSubWrites, res.restartCMs = h.tr.resetWrites()
	logf("restart: %d/%d correct after %s (pid %d, log %s)", res.restartCounts.correct, cfg.n, seconds(res.restartReady), op2.PID(), res.restartedLog)
	logf("restart: %d subscriptions left Ready; %d status writes and %d ConfigMap writes seen (%d status writes during the shutdown)",
		res.restartLost, res.restartSubWrites, res.restartCMs, res.shutdownSubWrites)
	if res.restartReached {
		return op2, nil, nil
	}
	missed = phaseFailed(ctx, op2, "all Ready + status correct after restart", cfg.restartTimeout, res.restartCounts)
	if ctx.Err() != nil || op2.Exited() {
		return nil, nil, missed
	}
	logf("going on with the settle window to show what the restarted operator does")
	return op2, missed, nil
}

// settle watches for the settle window (no subscription may fall out of
// Ready or stay frozen), then takes the final verdicts from a direct List
// and measures the process figures again.
func (h *harness) settle(ctx context.Context, op2 *operatorProc) error {
	res := h.res
	logf("settle: watching for %s", h.cfg.settle)
	var interrupted bool
	res.settleLost, interrupted = h.tr.settle(ctx, h.cfg.settle)
	if interrupted {
		return ctx.Err()
	}
	res.settleDone = true
	if err := h.tr.refresh(ctx, h.k8s, namespace); err != nil {
		return fmt.Errorf("list the subscriptions after the settle: %w", err)
	}
	res.settleCounts = h.tr.count(h.fresh)
	res.afterRestart = measure(op2, h.metricsAddr, h.bearer, h.dx)
	if op2.Exited() {
		return fmt.Errorf("the restarted operator exited during the settle window (%v); see %s", op2.Err(), res.restartedLog)
	}
	return nil
}

// untilExit is a context that ends with ctx or when the operator exits.
func untilExit(ctx context.Context, op *operatorProc) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-op.Done():
			cancel()
		case <-c.Done():
		}
	}()
	return c, cancel
}

func phaseFailed(ctx context.Context, op *operatorProc, phase string, timeout time.Duration, c counts) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case op.Exited():
		return fmt.Errorf("%s: the operator exited (%v); see %s", phase, op.Err(), op.LogPath)
	}
	return fmt.Errorf("%s: %w after %s: %d/%d correct, %d Ready; not correct: %s",
		phase, errDeadline, timeout, c.correct, c.total, c.ready, c.whySummary(6))
}

func subName(i int) string { return fmt.Sprintf("sub-%d", i) }

func subscription(i int, url string) *v1alpha1.DirectusSubscription {
	return &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: subName(i), Namespace: namespace},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
				URL:  url,
				Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: secretName, Key: "token"}},
			},
			Collection: collection,
			Query: &v1alpha1.DirectusQuery{
				Filter: &apiextensionsv1.JSON{Raw: fmt.Appendf(nil, `{"user":{"_eq":"u%d"}}`, i)},
			},
			Target: v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}},
		},
	}
}

// createAll creates the N subscriptions with cfg.workers in parallel,
// retrying what the API server asks to retry.
func createAll(ctx context.Context, k8s client.Client, cfg config, url string) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, cfg.workers)
	for range cfg.workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.n {
					return
				}
				for attempt := 1; ; attempt++ {
					err := k8s.Create(ctx, subscription(i, url))
					if err == nil || apierrors.IsAlreadyExists(err) {
						break
					}
					retry := apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsInternalError(err)
					if !retry || attempt == 5 || ctx.Err() != nil {
						errs <- fmt.Errorf("%s: %w", subName(i), err)
						next.Store(int64(cfg.n)) // stop the others
						return
					}
					time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// metricsToken returns a bearer token that may read /metrics should the
// operator serve them over https with authentication: the envtest admin's
// token when it has one, else a token of a ServiceAccount bound to
// cluster-admin. Best effort: "" when neither works.
func metricsToken(ctx context.Context, k8s client.Client, adminToken string) string {
	if adminToken != "" {
		return adminToken
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bench-metrics-reader", Namespace: namespace}}
	if err := k8s.Create(ctx, sa); err != nil {
		return ""
	}
	if err := k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bench-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: namespace}},
	}); err != nil {
		return ""
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600 * 6)}}
	if err := k8s.SubResource("token").Create(ctx, sa, tr); err != nil {
		return ""
	}
	return tr.Status.Token
}

func measure(op *operatorProc, metricsAddr, bearer string, dx directus) figures {
	var f figures
	if !op.Exited() {
		f.rss, f.rssOK = nonErr(rssBytes(op.PID()))
		if samples, ok := scrapeMetrics(metricsAddr, bearer); ok {
			f.goroutines, f.goroutinesOK = samples["go_goroutines"]
			f.connections = connectionsByState(samples)
			f.apiRequests = sumByLabel(samples, "rest_client_requests_total", "method")
		}
		f.sockets, f.socketsOK = nonErr(establishedTo(op.PID(), dx.Port()))
	}
	if pid := dx.PID(); pid > 0 {
		f.dxRSS, f.dxRSSOK = nonErr(treeRSSBytes(pid))
	}
	return f
}

func nonErr[T any](v T, err error) (T, bool) { return v, err == nil }

// ---- the table ----

func (r *results) render() string {
	n := r.cfg.n
	na := "n/a"
	var b strings.Builder
	fmt.Fprintf(&b, "### directus-operator scale benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Commit %s, %d CPUs. %s. Operator flags from BENCH_OPERATOR_ARGS: `%s`.\n\n",
		r.commit, runtime.NumCPU(), r.directus, strings.Join(r.cfg.operatorArgs, " "))
	row := func(measure, value, target string) { fmt.Fprintf(&b, "| %s | %s | %s |\n", measure, value, target) }
	b.WriteString("| measure | value | target |\n|---|---|---|\n")
	row("subscriptions", strconv.Itoa(n), "")

	reached := func(ok bool, d time.Duration) string {
		if ok {
			return seconds(d)
		}
		return fmt.Sprintf("not reached in %s", seconds(d))
	}
	row(fmt.Sprintf("all created (%d workers)", r.cfg.workers), orNA(r.created > 0, seconds(r.created)), "")
	row("all Ready after apply", reached(r.applyReached, r.applyReady), "")
	row("status correct after apply", fmt.Sprintf("%d / %d", r.applyCounts.correct, n), fmt.Sprintf("%d / %d", n, n))
	shutdown := "—"
	if r.shutdownDone {
		shutdown = seconds(r.shutdown)
		if r.killed {
			shutdown = fmt.Sprintf("did not exit in %s: killed", seconds(r.shutdown))
		}
	}
	row("operator exit after SIGTERM", shutdown, "")
	restart, restartCorrect := "—", "—"
	if r.restartStarted {
		restart = reached(r.restartReached, r.restartReady)
		restartCorrect = fmt.Sprintf("%d / %d", r.restartCounts.correct, n)
	}
	row("all Ready + status correct after restart", restart, "≤ 15 s")
	row("status correct after restart", restartCorrect, fmt.Sprintf("%d / %d", n, n))
	left, writes := "—", "—"
	if r.restartStarted {
		left = strconv.Itoa(r.restartLost)
		writes = fmt.Sprintf("%d status (%.2f per subscription, %.0f/s), %d ConfigMap; %d status during the shutdown",
			r.restartSubWrites, float64(r.restartSubWrites)/float64(n), float64(r.restartSubWrites)/r.restartReady.Seconds(),
			r.restartCMs, r.shutdownSubWrites)
	}
	row("subscriptions that left Ready during the restart", left, "")
	if r.restartReached {
		row("after restart, latest status.connection.since / status.lastSyncTime (whole seconds)",
			fmt.Sprintf("%s / %s", seconds(r.restartLastSocket), seconds(r.restartLastSync)), "")
	}
	row("writes seen by watch from the restart until all correct", writes, "")
	notReady, stale, settleCorrect := "—", "—", "—"
	if r.settleDone {
		notReady = fmt.Sprintf("%d (%d left Ready during the window)", n-r.settleCounts.ready, r.settleLost)
		stale = strconv.Itoa(r.settleCounts.stale)
		settleCorrect = fmt.Sprintf("%d / %d", r.settleCounts.correct, n)
	}
	row(fmt.Sprintf("not Ready after a %s settle", seconds(r.cfg.settle)), notReady, "0")
	row("status correct after the settle", settleCorrect, fmt.Sprintf("%d / %d", n, n))
	row("statuses not rewritten since the restart (stale)", stale, "0")

	// The settled figures: after the restart and the settle window, with
	// the figures after apply in parentheses.
	final, first := r.afterRestart, r.afterApply
	if !r.settleDone {
		final, first = r.afterApply, figures{}
	}
	both := func(now string, nowOK bool, then string, thenOK bool) string {
		v := orNA(nowOK, now)
		if thenOK {
			v += fmt.Sprintf(" (after apply: %s)", then)
		}
		return v
	}
	row("operator RSS", both(mib(final.rss), final.rssOK, mib(first.rss), first.rssOK), "≤ 100 MiB")
	perSub := func(g float64) string { return fmt.Sprintf("%.0f, %.2f per subscription", g, g/float64(n)) }
	row("goroutines", both(perSub(final.goroutines), final.goroutinesOK, fmt.Sprintf("%.0f", first.goroutines), first.goroutinesOK),
		fmt.Sprintf("≤ 2 per subscription + constant (%d + c)", 2*n))
	// Every subscription here has the same Directus identity (URL and
	// token): one distinct connection, so ceil(N / cap) sockets in all.
	wantSockets := r.wantSockets()
	row("sockets by state (directus_operator_connections)", both(states(final.connections), final.connections != nil,
		states(first.connections), first.connections != nil), fmt.Sprintf("Connected=%d", wantSockets))
	row("established TCP sockets to Directus", both(strconv.Itoa(final.sockets), final.socketsOK, strconv.Itoa(first.sockets), first.socketsOK),
		fmt.Sprintf("%d = ceil(%d / %d) per distinct connection (1 distinct here)", wantSockets, n, r.subsPerSocket))
	row("Kubernetes API requests by method (rest_client_requests_total, since the process started)",
		both(counted(final.apiRequests), final.apiRequests != nil, counted(first.apiRequests), first.apiRequests != nil), "")
	dxRSS := both(mib(final.dxRSS), final.dxRSSOK, mib(first.dxRSS), first.dxRSSOK)
	if r.cfg.mode == modeFake {
		dxRSS = na + " (fake, in the harness process)"
	}
	row("Directus RSS", dxRSS, "")

	var notes []string
	for _, x := range []struct {
		when string
		c    counts
		ok   bool
	}{{"after apply", r.applyCounts, r.applyStarted}, {"after restart", r.restartCounts, r.restartStarted}, {"after the settle", r.settleCounts, r.settleDone}} {
		if x.ok && x.c.correct < n {
			notes = append(notes, fmt.Sprintf("- not correct %s: %s", x.when, x.c.whySummary(8)))
		}
	}
	if r.settleDone && final.connections != nil && r.settleCounts.ready < n {
		connected, other := 0, 0
		for state, v := range final.connections {
			if state == stateConnected {
				connected += int(v)
			} else {
				other += int(v)
			}
		}
		if connected >= wantSockets && other == 0 {
			notes = append(notes, fmt.Sprintf("- frozen statuses: the restarted operator's metrics count all its %d sockets Connected "+
				"and none in another state, but %d of %d statuses are not Ready", connected, n-r.settleCounts.ready, n))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	fmt.Fprintf(&b, "\nOperator logs: %s", r.firstLog)
	if r.restartedLog != "" {
		fmt.Fprintf(&b, ", %s (restarted)", r.restartedLog)
	}
	b.WriteString(".\n")
	return b.String()
}

// wantSockets is the socket target: ceil(N / subscriptions per socket),
// for the one distinct connection (URL and token) all subscriptions share.
func (r *results) wantSockets() int {
	per := r.subsPerSocket
	if per < 1 {
		per = defaultSubsPerSocket
	}
	return (r.cfg.n + per - 1) / per
}

// counted renders counts by key, largest first.
func counted(m map[string]float64) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// states renders sockets by state, Connected first.
func states(m map[string]float64) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return btoi(b == stateConnected) - btoi(a == stateConnected) })
	var parts []string
	for _, k := range keys {
		if m[k] == 0 && k != stateConnected {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func orNA(ok bool, v string) string {
	if ok {
		return v
	}
	return "n/a"
}
