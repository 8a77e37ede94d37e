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

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

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
		return fmt.Errorf("the restarted operator exited during the settle window (%w); see %s", op2.Err(), res.restartedLog)
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
		return fmt.Errorf("%s: the operator exited (%w); see %s", phase, op.Err(), op.LogPath)
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

func measure(op *operatorProc, metricsAddr, bearer string, dx directus) figures {
	var f figures
	if !op.Exited() {
		f.rss, f.rssOK = nonErr(rssBytes(op.PID()))
		anon, err1 := statusBytes(op.PID(), "RssAnon")
		file, err2 := statusBytes(op.PID(), "RssFile")
		f.rssAnon, f.rssFile, f.rssSplitOK = anon, file, err1 == nil && err2 == nil
		if samples, ok := scrapeMetrics(metricsAddr, bearer); ok {
			f.goroutines, f.goroutinesOK = samples["go_goroutines"]
			f.heapInuse, f.heapInuseOK = samples["go_memstats_heap_inuse_bytes"]
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
