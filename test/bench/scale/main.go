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
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

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
	rss   int64
	rssOK bool
	// rssAnon and rssFile split rss: the process's own memory (Go heap,
	// stacks, runtime) and the pages of the binary mapped from the page
	// cache, which the kernel can drop and map again.
	rssAnon, rssFile int64
	rssSplitOK       bool
	goroutines       float64
	goroutinesOK     bool
	// heapInuse is go_memstats_heap_inuse_bytes: less noisy than RSS,
	// which also holds what the GC has not returned yet.
	heapInuse   float64
	heapInuseOK bool
	connections map[string]float64 // directus_operator_connections (sockets) by state
	apiRequests map[string]float64 // rest_client_requests_total by method, since the process started
	sockets     int
	socketsOK   bool
	dxRSS       int64
	dxRSSOK     bool
}

type results struct {
	cfg      config
	directus string
	commit   string
	// subsPerSocket is the operator's --max-subscriptions-per-connection
	// (its last value in the flags, else the default).
	subsPerSocket int

	// reads are the full reads measured before the operator starts.
	reads                []readFigure
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
